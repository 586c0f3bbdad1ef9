"""The TUI driven key by key (Textual's Pilot), its numbers checked against the core's Stepper."""
from __future__ import annotations

import io
import math
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from textual import events

from gdtutor.catalog import builtin, load, resolve, with_overrides
from gdtutor.stepper import Stepper
from gdtutor.tui import app as tui_app
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.descent import DescentScreen
from gdtutor.tui.graph_screen import GraphScreen
from gdtutor.tui.graph_view import GraphView
from gdtutor.tui.goto import GotoScreen
from gdtutor.tui.help import HelpScreen
from gdtutor.tui.history import History
from gdtutor.tui.loss_plot import LossPlot
from gdtutor.tui.parabola import Parabola
from gdtutor.tui.picker import PickerScreen
from gdtutor.tui.status import Status
from gdtutor.tui.steps_panel import StepsPanel
from gdtutor.tui.lesson_screen import value_text
from gdtutor.tui.text import Numbers
from gdtutor.tui.too_small import TooSmall, too_small
from screen_reader import record_notifications, screen_text

ROOT = Path(__file__).resolve().parent.parent
SIZE = (80, 24)
BRAILLE = re.compile("[\u2800-\u28ff]")


# -- reading the screen ---------------------------------------------------------------------

def plain(widget) -> str:
    """What a Static shows, as plain text at its own width."""
    console = Console(width=max(widget.size.width, 20), file=io.StringIO(), color_system=None,
                      record=True, legacy_windows=False)
    console.print(widget.content)
    return console.export_text()


def plot_text(plot) -> str:
    return plot.render().plain


def messages(app) -> list[str]:
    """What the app was asked to notify (the app made by record_notifications)."""
    return app.notified


def one_line(text: str) -> str:
    return " ".join(text.split())


def make_app(lesson_id: str | None = "worked-example", **options) -> GdtutorApp:
    overrides = options.pop("overrides", {})
    stepper = None
    if lesson_id is not None:
        stepper = Stepper(with_overrides(resolve(lesson_id), **overrides))
    return record_notifications(GdtutorApp(builtin(), stepper, overrides=overrides, **options))


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


def reference(lesson_id: str = "worked-example", **overrides) -> Stepper:
    return Stepper(with_overrides(resolve(lesson_id), **overrides))


# -- the lesson picker -----------------------------------------------------------------------

async def test_picker_lists_every_lesson_in_order_with_summaries():
    app = make_app(None)
    async with app.run_test(size=(100, 60)) as pilot:     # tall enough for every lesson
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        text = screen_text(app)
        rows = [text.index(lesson.title.get("en")) for lesson in builtin()]
        assert rows == sorted(rows), "lessons in the document's order"
        for number, lesson in enumerate(builtin(), 1):
            assert f"{number}. {lesson.title.get('en')}" in text
            assert lesson.summary.get("en").split()[0] in text
        assert "open" in text.splitlines()[-1] and "quit" in text.splitlines()[-1]


async def test_picker_in_chinese():
    app = make_app(None, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        for lesson in builtin():
            assert lesson.title.get("zh")[:6] in text


async def test_enter_opens_the_highlighted_lesson_and_escape_returns():
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ids = [lesson.id for lesson in builtin()]
        await press(pilot, *["down"] * ids.index("worked-example"), "enter")
        assert isinstance(app.screen, DescentScreen)
        assert app.screen.lesson.id == "worked-example"
        await press(pilot, "escape")
        assert isinstance(app.screen, PickerScreen)
        await press(pilot, "up", "up", "enter")   # back to the top: a graph lesson
        assert isinstance(app.screen, GraphScreen)
        assert app.screen.lesson.id == ids[0]


async def test_keys_that_arrive_together_are_taken_in_order_in_the_picker():
    # over a slow link, keys typed quickly arrive in one packet: enter must not overtake the
    # arrows before it
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ids = [lesson.id for lesson in builtin()]
        await pilot.press(*["down"] * ids.index("worked-example"), "enter")
        await pilot.pause()
        assert isinstance(app.screen, DescentScreen)
        assert app.screen.lesson.id == "worked-example"


async def test_picker_reports_an_override_a_lesson_cannot_take():
    app = make_app(None, overrides={"backend": "torch"})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        ids = [lesson.id for lesson in builtin()]
        await press(pilot, *["down"] * ids.index("worked-example"), "enter")
        assert isinstance(app.screen, PickerScreen)     # exact + torch: not opened
        assert any("numpy" in m for m in messages(app))
        await press(pilot, "down", "enter")             # matrix-form runs on torch
        assert isinstance(app.screen, DescentScreen)
        assert app.screen.stepper.backend_name == "torch"


# -- the descent screen: the document's worked example ---------------------------------------

async def test_three_steps_show_the_documents_numbers():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(StepsPanel)
        assert "w0 = 0" in plain(panel) and "L(w0) = 56" in plain(panel)
        await press(pilot, "n", "n", "n")
        shown = one_line(plain(panel))
        assert "grad = grad(w2) = grad(3/2) = -1/2" in shown
        assert "α·grad = 1/2 · (-1/2) = -1/4" in shown
        assert "w3 = w2 − α·grad = 3/2 − (-1/4) = 7/4" in shown
        assert "L(w2) = 7/2" in shown
        assert app.screen.stepper.k == 3
        assert "k = 3 of 20" in plain(app.screen.query_one(Status))
        # the whole screen at 80×24 says it too
        assert "= 7/4" in screen_text(app)


async def test_every_step_matches_the_core_records():
    ref = reference()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(StepsPanel)
        for k in range(1, 9):
            await press(pilot, "n")
            record = ref.step()
            f = ref.fmt
            shown = one_line(plain(panel))
            assert f"Step {k}: w{k - 1} → w{k}" in shown
            assert f"grad = grad(w{k - 1}) = grad({f(record.weights_before[0])}) = " \
                   f"{f(record.grad[0])}" in shown
            assert f"= {f(record.step_size[0])} 3" in shown   # step 2 ends the line
            # the last line is L(w_(k−1)), or after it the checkpoint at this step
            tail = f"= {f(record.weights[0])} L(w{k - 1}) = {f(record.loss)}"
            assert shown.endswith(tail) or f"{tail} ✓ as in the document" in shown
        # w_n = 2 − 1/2^(n−1), as the document closes the example
        assert ref.weights_at(8)[0] == Fraction(2) - Fraction(1, 2 ** 7)


async def test_space_and_right_step_b_and_left_go_back_r_resets():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        s = app.screen.stepper
        await press(pilot, "space", "right", "n")
        assert s.k == 3
        await press(pilot, "b")
        assert s.k == 2
        assert "w2 = w1 − α·grad = 1 − (-1/2) = 3/2" in one_line(plain(app.screen.query_one(StepsPanel)))
        await press(pilot, "left")
        assert s.k == 1
        await press(pilot, "left", "left")              # nothing before w0, no error
        assert s.k == 0
        await press(pilot, "n", "n", "r")
        assert s.k == 0
        assert "Step 0" in plain(app.screen.query_one(StepsPanel))


async def test_history_table_follows_the_current_step():
    ref = reference()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "2", "n", "n", "n", "n")
        table = app.screen.query_one(History)
        assert table.row_count == 5
        for k in range(1, 5):
            record = ref.step()
            row = [str(cell) for cell in table.get_row(str(k))]
            # k, w_(k−1), L(w_(k−1)), grad, α, α·grad, w_k: the lesson text's order
            assert row == [str(k), ref.fmt(record.weights_before[0]), ref.fmt(record.loss),
                           ref.fmt(record.grad[0]), str(record.lr),
                           ref.fmt(record.step_size[0]), ref.fmt(record.weights[0])]
        assert str(table.get_row("4")[-1]) == "15/8"
        assert table.cursor_row == 4
        await press(pilot, "b")
        assert table.row_count == 4 and table.cursor_row == 3
        await press(pilot, "r")
        assert table.row_count == 1 and str(table.get_row("0")[-1]) == "0"


async def test_graph_view_shows_the_loss_at_the_previous_weights():
    ref = reference()
    ref.goto(3)
    nodes = ref.nodes(2)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await press(pilot, "1", "n", "n", "n")
        text = plain(app.screen.query_one(GraphView))
        assert "graph of L at w2" in text
        for node in nodes:     # a tree from the output down: each node by its name
            name = node.label or node.id
            assert re.search(rf"^[ │├└─]*{re.escape(name)}(?= |$)", text, re.M), node.id
        output = nodes[-1]
        assert f"= {ref.fmt(output.value[()])}" in text and ref.fmt(output.value[()]) == "7/2"
        w = next(n for n in nodes if n.id == "w")
        assert f"grad [{ref.fmt(w.grad.reshape(-1)[0])}]" in text     # ∂SSE/∂w = 28(w − 2) = −14
        assert ref.fmt(w.grad.reshape(-1)[0]) == "-14"


async def test_lesson_text_view():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "3")
        assert "The data and the loss" in screen_text(app)
        await press(pilot, "down", "down", "pagedown", "up")   # scrolls, no error


async def test_loss_plot_and_log_scale():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        plot = app.screen.query_one(LossPlot)
        await press(pilot, "n", "n")
        assert "loss, k = 2" in plot_text(plot)
        assert BRAILLE.search(plot_text(plot))
        await press(pilot, "l")
        assert app.screen.log_scale and "loss (log), k = 2" in plot_text(plot)
        await press(pilot, "l")
        assert not app.screen.log_scale


async def test_parabola_shows_the_iterates_on_14_w_minus_2_squared():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        parabola = app.screen.query_one(Parabola)
        await press(pilot, "n", "n", "n")
        assert "w3 = 7/4" in plot_text(parabola)
        xs, ys = parabola._curve
        for x, y in zip(xs, ys):
            assert math.isclose(y, 14 * (x - 2) ** 2, rel_tol=1e-9, abs_tol=1e-9)
        assert min(xs) < 0 and max(xs) > 2, "the range holds w0 = 0 and the minimum at 2"
        await press(pilot, "b")
        assert "w2 = 3/2" in plot_text(parabola)


async def test_lr_changes_live_and_the_history_keeps_the_old():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        s = app.screen.stepper
        await press(pilot, "n", "plus")
        assert s.lr == 1
        assert "α = 1 " in plain(app.screen.query_one(Status)) + " "
        await press(pilot, "n")
        # α = 1 at w1 = 1: grad = −1, w2 = 1 − (−1) = 2, the minimum in one step
        assert "α·grad = 1 · (-1) = -1" in one_line(plain(app.screen.query_one(StepsPanel)))
        assert s.weights_at(2)[0] == 2
        assert s.record(1).lr == Fraction(1, 2) and s.record(2).lr == 1
        await press(pilot, "minus", "minus")
        assert s.lr == Fraction(1, 4)
        await press(pilot, "b", "b")
        assert s.record(1).lr == Fraction(1, 2)


async def test_t_on_an_exact_lesson_runs_it_on_torch_in_float64_and_back():
    pytest.importorskip("torch")
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n", "n", "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen.stepper
        assert (s.backend_name, s.dtype, s.k) == ("torch", "float64", 3)
        assert "torch · float64" in plain(app.screen.query_one(Status))
        shown = one_line(plain(app.screen.query_one(StepsPanel)))
        assert "w3 = w2 − α·grad = 1.5 − (-0.25) = 1.75" in shown
        assert "α·grad = 0.5 · (-0.5) = -0.25" in shown
        text = screen_text(app)
        assert "torch has no exact fractions: float64 from here; 7/4 = 1.75" in text
        # the whole history is torch's, in float64, and the same numbers as exact fractions
        exact = reference()
        for k in range(1, 4):
            mine, theirs = s.record(k), exact.step()
            assert mine.backend == "torch"
            assert float(mine.weights[0]) == float(theirs.weights[0])
        await press(pilot, "n")
        assert "= 1.875" in one_line(plain(app.screen.query_one(StepsPanel)))
        await press(pilot, "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen.stepper
        assert (s.backend_name, s.dtype, s.k) == ("numpy", "exact", 4)
        assert "w4 = w3 − α·grad = 7/4 − (-1/8) = 15/8" in one_line(
            plain(app.screen.query_one(StepsPanel)))
        assert "numpy · exact" in plain(app.screen.query_one(Status))
        assert "float64 from here" not in screen_text(app)
        assert any("numpy · exact again: 1.875 = 15/8" in m for m in messages(app))


async def test_t_on_an_exact_lesson_keeps_the_students_alpha_changes():
    pytest.importorskip("torch")
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "n", "plus", "n", "minus", "minus", "n", "n", "b", "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen.stepper
        assert s.dtype == "float64" and s.k == 3
        await press(pilot, "n")
        assert [s.record(k).lr for k in (1, 2, 3, 4)] == [Fraction(1, 2), 1, Fraction(1, 4),
                                                        Fraction(1, 4)]
        await press(pilot, "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        s, ref = app.screen.stepper, reference()
        for lr in (Fraction(1, 2), 1, Fraction(1, 4), Fraction(1, 4)):
            if lr != ref.lr:
                ref.set_lr(lr)
            ref.step()
        assert s.dtype == "exact" and s.k == 4
        assert s.weights_at(4)[0] == ref.weights_at(4)[0]
        assert s.lr_changes() == ref.lr_changes()


async def test_t_on_an_exact_graph_lesson_keeps_the_stage(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "third.yaml"
    path.write_text('id: third\ntitle: T\nkind: graph\nexpression: x**2\ninputs: {x: "1/3"}\n'
                    "dtype: exact\n")
    app = record_notifications(GdtutorApp(builtin(), Stepper(load(path))))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n", "n", "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GraphScreen) and screen.stage == 3
        assert (screen.stepper.backend_name, screen.stepper.dtype) == ("torch", "float64")
        assert "float64 from here; 1/9 = 0.11111111" in screen_text(app)
        await press(pilot, "n", "n", "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.stage == 5 and app.screen.stepper.dtype == "exact"
        assert "x.grad = 2/3" in plain(app.screen.query_one("#narration"))


async def test_backend_switch_to_torch_gives_the_same_numbers():
    pytest.importorskip("torch")
    ref = reference(dtype="float64")
    app = make_app(overrides={"dtype": "float64"})
    # wide enough for the graph pane to name torch's backward functions beside the values
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        s = app.screen.stepper
        await press(pilot, "n", "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert s.backend_name == "torch"
        assert "torch · float64" in plain(app.screen.query_one(Status))
        await press(pilot, "n", "n", "n")
        for k in range(1, 5):
            mine, theirs = s.record(k), ref.step()
            assert mine.backend == ("numpy" if k == 1 else "torch")
            assert np.allclose(mine.weights, theirs.weights, rtol=1e-12, atol=0)
        assert "w4 = w3 − α·grad = 1.75 − (-0.125) = 1.875" in one_line(plain(app.screen.query_one(StepsPanel)))
        await press(pilot, "1")
        assert "Backward0" in plain(app.screen.query_one(GraphView))
        await press(pilot, "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert s.backend_name == "numpy"


async def test_torch_missing_is_a_message_and_numpy_keeps_working(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)          # `import torch` now fails
    monkeypatch.delitem(sys.modules, "gdtutor.torch_backend", raising=False)
    app = make_app("matrix-form")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("pip install torch" in m for m in messages(app))
        assert app.screen.stepper.backend_name == "numpy"
        await press(pilot, "n", "n")
        assert app.screen.stepper.k == 2


# -- go to, play ------------------------------------------------------------------------------

async def test_goto_an_iteration():
    ref = reference()
    ref.goto(7)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "g", "7", "enter")
        assert app.screen.stepper.k == 7
        assert ref.fmt(ref.weights_at(7)[0]) == "127/64"
        assert "= 127/64" in one_line(plain(app.screen.query_one(StepsPanel)))
        await press(pilot, "g", "escape")                       # cancelled prompt
        assert app.screen.stepper.k == 7 and isinstance(app.screen, DescentScreen)


@pytest.mark.parametrize("typed, reason", [("abc", "not a whole number"),
                                           ("-3", "outside 0–20"), ("21", "outside 0–20"),
                                           ("", "not a whole number")])
async def test_goto_bad_input_is_a_message(typed, reason):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "n", "g", *typed, "enter")
        # said in the prompt, which stays open for another answer
        assert isinstance(app.screen, GotoScreen)
        assert reason in app.screen.error and reason in screen_text(app)
        assert not messages(app)
        await press(pilot, "escape")
        assert isinstance(app.screen, DescentScreen)
        assert app.screen.stepper.k == 1
        await press(pilot, "n")
        assert app.screen.stepper.k == 2


async def test_enter_typed_again_and_again_in_the_goto_prompt_keeps_the_lesson():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await press(pilot, "g", "5")
        # as a terminal delivers a burst: every Enter queued at once; one answer is taken
        for _ in range(3):
            app.post_message(events.Key("enter", "\r"))
        await pilot.pause(0.3)
        assert app.screen is screen and screen.stepper.k == 5
        await press(pilot, "question_mark", "escape")
        assert app.screen is screen


async def test_long_goto_runs_in_a_worker_and_lands_on_the_documents_answer():
    ref = reference("grad-descent")
    ref.goto(10000)
    app = make_app("grad-descent")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "g", *"10000", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen.stepper
        assert s.k == 10000
        assert np.array_equal(s.weights_at(10000), ref.weights_at(10000))
        assert np.allclose(s.weights_at(10000), [1, 1], atol=1e-4)   # the document: (1, 1)
        assert not app.screen.busy
        shown = plain(app.screen.query_one(StepsPanel))
        assert ref.fmt(ref.weights_at(10000)[0]) in shown


@pytest.mark.slow          # a long jump on purpose: about 15 s
async def test_long_goto_keeps_the_ui_responsive_and_escape_cancels():
    app = make_app("grad-descent", overrides={"steps": 3_000_000})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        screen = app.screen
        await press(pilot, "g", *"3000000", "enter")
        assert screen.busy
        await pilot.pause(0.2)
        await press(pilot, "n")                        # stepping waits for the worker
        await press(pilot, "question_mark")            # but the app answers keys
        assert isinstance(app.screen, HelpScreen)
        await press(pilot, "escape")
        assert app.screen is screen and screen.busy
        await press(pilot, "escape")                   # cancels the jump
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not screen.busy
        assert 0 < screen.stepper.k < 3_000_000
        assert any("cancelled" in m for m in messages(app))
        k = screen.stepper.k
        await press(pilot, "n")
        assert screen.stepper.k == k + 1


async def test_play_pause_and_speed():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await press(pilot, "right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert screen.speed_text() == "16 steps/s"
        await press(pilot, "left_square_bracket")
        assert screen.speed_text() == "8 steps/s"
        await press(pilot, "a")
        assert screen.playing and "▶ 8 steps/s" in plain(screen.query_one(Status))
        await pilot.pause(0.6)
        await press(pilot, "a")
        assert not screen.playing
        k = screen.stepper.k
        assert k >= 2
        await pilot.pause(0.3)
        assert screen.stepper.k == k


async def test_play_stops_at_the_end_of_the_lesson():
    app = make_app(overrides={"steps": 3})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, *["right_square_bracket"] * 6, "a")
        await pilot.pause(0.5)
        assert not app.screen.playing
        assert app.screen.stepper.k == 3
        assert any("end of the lesson" in m for m in messages(app))


# -- divergence and NaN ------------------------------------------------------------------------

async def test_a_diverging_lesson_is_shown_and_the_app_goes_on():
    app = make_app("divergence")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "g", *"600", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        s = app.screen.stepper
        assert s.diverged_at is not None and s.k == s.diverged_at
        d = s.diverged_at
        assert f"diverged at step {d}" in plain(app.screen.query_one(Status))
        assert f"diverged at step {d}" in plain(app.screen.query_one(StepsPanel))
        assert f"diverged at {d}" in plot_text(app.screen.query_one(LossPlot))
        # one event, one notification: reached by the go-to, and not again at each key
        told = [m for m in messages(app) if f"diverged at step {d}" in m]
        assert len(told) == 1, messages(app)
        await press(pilot, "n", "l", "1", "2", "3", "n")
        assert s.k == d
        assert [m for m in messages(app) if f"diverged at step {d}" in m] == told
        await press(pilot, "b", "minus", "n")
        assert s.k == d
        await press(pilot, "r", "n")
        assert s.k == 1


async def test_nan_is_shown_not_raised(tmp_path):
    path = tmp_path / "nan.yaml"
    path.write_text("id: nan\ntitle: T\nkind: descent\nobjective: sqrt(w)\n"
                    "params: {w: 1}\nlr: 1\niterations: 10\n")
    app = record_notifications(GdtutorApp(builtin(), Stepper(load(path))))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, *["n"] * 6, "l", "1", "2", "g", "9", "enter")
        s = app.screen.stepper
        assert s.diverged_at is not None
        assert "diverged at step" in plain(app.screen.query_one(Status))
        k = s.k
        await press(pilot, "b", "b")
        assert s.k == k - 2


# -- the graph screen ----------------------------------------------------------------------------

async def test_graph_screen_walks_forward_then_backward_to_x_grad_2():
    ref = Stepper(resolve("backprop"))
    nodes = ref.nodes()
    app = make_app("backprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        view = screen.query_one(GraphView)
        assert plain(view).strip() == ""                       # nothing computed yet
        names = {"x": "x", "v1": "2", "v2": "y"}               # the lesson names x**2 y
        for i, node in enumerate(nodes, 1):
            await press(pilot, "n")
            assert names[node.id] in plain(view)
            assert "grad" not in plain(view)
            assert f"{i}/{len(nodes)}: {names[node.id]}" in plain(screen.query_one("#narration"))
        assert plain(view).splitlines()[0].startswith("y = x**2 = 1")
        with_grad = [n for n in reversed(nodes) if n.grad is not None]
        said = {"v2": "∂y/∂y = 1", "x": "∂y/∂x = ∂y/∂y · 2x = 1 · 2 = 2"}
        for j, node in enumerate(with_grad, 1):
            await press(pilot, "n")
            assert plain(view).count("grad ") == j
            assert said[node.id] in one_line(plain(screen.query_one("#narration")))
        assert "x.grad = 2" in plain(screen.query_one("#narration"))
        await press(pilot, "n")                                # past the end: a message
        await press(pilot, "b")
        assert "x.grad" not in plain(screen.query_one("#narration"))
        await press(pilot, "g", "2", "enter")
        assert screen.stage == 2
        await press(pilot, "r")
        assert screen.stage == 0


async def test_graph_screen_on_torch_names_the_backward_functions():
    pytest.importorskip("torch")
    app = make_app("backprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.stepper.backend_name == "torch"
        await press(pilot, "g", str(screen.stages), "enter")
        assert "PowBackward0" in plain(screen.query_one(GraphView))
        assert "x.grad = 2" in plain(screen.query_one("#narration"))


async def test_dynamic_graph_lesson_opens():
    app = make_app("dynamic-graph")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n", "n", "a")
        await pilot.pause(0.3)
        await press(pilot, "a", "pagedown", "down")
        assert isinstance(app.screen, GraphScreen)


# -- help, quit, every lesson --------------------------------------------------------------------

async def test_help_lists_every_key():
    app = make_app()
    async with app.run_test(size=(100, 70)) as pilot:
        await pilot.pause()
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("n space →", "b ←", "r ", "g ", "a ", "+ ", "= ", "- ", "t ", "l ", "?", "q",
                    "[", "]", "esc", "1", "2", "3", "R "):
            assert key in text, key
        await press(pilot, "question_mark")
        assert isinstance(app.screen, DescentScreen)


async def test_footer_shows_every_spec_key_at_80_columns():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        for part in ("n step", "b back", "r reset", "g goto", "a", "play", "+-", "α",
                     "t backend", "l log", "? help", "q quit"):
            assert part in footer, part


async def test_q_quits():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "q")
    assert app.return_code == 0


@pytest.mark.slow          # every key on every lesson: about 4 s a lesson
@pytest.mark.parametrize("lesson", [lesson.id for lesson in builtin()])
async def test_every_key_on_every_lesson_never_raises(lesson):
    app = make_app(lesson)
    keys = ["n", "space", "right", "b", "left", "plus", "minus", "l", "1", "2", "3",
            "down", "up", "pagedown", "pageup", "right_square_bracket", "left_square_bracket",
            "g", "5", "enter", "a", "a", "r", "question_mark", "escape"]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, *keys)
        # r went back to the start with the lesson's own α: the screen shows what a fresh
        # stepper of the lesson holds at its start
        ref = reference(lesson)
        text = one_line(screen_text(app))
        if ref.lesson.kind == "descent":
            assert app.screen.stepper.k == 0
            assert f"k = 0 of {ref.iterations}" in text
            assert f"α = {Numbers.of(ref).lr(ref.lr)}" in text
        else:
            assert app.screen.stage == 0
            assert f"stage 0 of {app.screen.stages}" in text
        await press(pilot, "escape")
        assert isinstance(app.screen, PickerScreen)


# -- terminals as they are -------------------------------------------------------------------

async def test_below_the_minimum_size_a_message_then_the_screen_again():
    app = make_app()
    async with app.run_test(size=(50, 15)) as pilot:
        await pilot.pause()
        assert app.has_class("-too-small")
        assert app.screen.query_one(TooSmall).display
        assert "enlarge the terminal" in screen_text(app)
        assert "Step 0" not in screen_text(app)
        await press(pilot, "n", "g", "a")     # behind the message no key moves the lesson
        assert app.screen.stepper.k == 0 and isinstance(app.screen, DescentScreen)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.has_class("-too-small")
        assert not app.screen.query_one(TooSmall).display
        assert "Step 0" in screen_text(app)
        await press(pilot, "n")
        assert "Step 1" in screen_text(app)


async def test_resizing_never_crashes():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n")
        ref = reference()
        w2 = value_text((ref.step(), ref.step(), ref)[-1], Numbers.of(ref))
        assert w2 == "3/2"
        for size in [(20, 5), (1, 1), (200, 60), (61, 18), (80, 24), (59, 30), (140, 20)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            text = screen_text(app)
            assert app.has_class("-too-small") is bool(too_small(*size)), size
            if too_small(*size):
                assert "k = 2" not in text
                assert "Please enlarge"[:size[0]] in " ".join(text.split()), text
            else:
                assert "k = 2 of 20" in text, text
                assert f"w2 = w1 − α·grad = 1 − (-1/2) = {w2}" in one_line(
                    plain(app.screen.query_one(StepsPanel))), size
        await press(pilot, "n")
        assert app.screen.stepper.k == 3


async def test_matrix_form_at_80x24_writes_a_table_of_weights():
    ref = reference("matrix-form")
    record = (ref.step(), ref.step())[1]
    app = make_app("matrix-form")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n")
        shown = plain(app.screen.query_one(StepsPanel))
        # w_(k-1) is shown too where the row has room for it
        for name, before, grad, step, weight in zip(ref.weight_names, record.weights_before,
                                                     record.grad, record.step_size, record.weights):
            assert re.search(rf"{name}\s+(?:{re.escape(ref.fmt(before))}\s+)?"
                             rf"{re.escape(ref.fmt(grad))}\s+{re.escape(ref.fmt(step))}"
                             rf"\s+{re.escape(ref.fmt(weight))}", shown), name


async def test_no_color_is_respected(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    assert app.no_color
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n")
        svg = app.export_screenshot()
    colours = set(re.findall(r"fill: (#[0-9a-f]{6})", svg))
    rgb = {c: [int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours}
    coloured = {c for c, v in rgb.items() if max(v) - min(v) > 8}   # greys differ by rounding
    assert len(colours) > 2 and not coloured, coloured


async def test_ascii_plots_use_no_braille():
    app = make_app(ascii_plot=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n", "n")
        for plot in (app.screen.query_one(LossPlot), app.screen.query_one(Parabola)):
            text = plot_text(plot)
            assert not BRAILLE.search(text)
            assert text.isascii() and "@" in text


@pytest.mark.parametrize("env, flag, expected", [
    ({"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22"}, None, False),
    ({}, None, True),
    ({"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22"}, True, True),
    ({}, False, False),
])
def test_mouse_is_off_over_ssh_unless_asked_for(monkeypatch, env, flag, expected):
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    seen = {}

    def fake_run(self, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(GdtutorApp, "run", fake_run)
    monkeypatch.setattr(tui_app, "terminal_refusal", lambda: None)   # pytest's stdin is no tty
    assert tui_app.run(resolve("worked-example"), mouse=flag) == 0
    assert seen["mouse"] is expected


def test_an_invalid_lesson_file_exits_2_before_any_screen(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ntitle: T\nkind: descent\nobjective: w**2\nparams: {w: 1}\n"
                    "lr: 1\niterations: 3\nbogus: 1\n")
    done = subprocess.run([sys.executable, "-m", "gdtutor", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdtutor: ") and "bad.yaml" in lines[0]
    assert "\x1b[" not in done.stderr and done.stdout == ""


async def test_keys_typed_quickly_act_in_the_order_typed():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # as a terminal delivers a burst of typing: all the key events queued at once
        for key, char in [("n", "n"), ("plus", "+"), ("n", "n"), ("minus", "-"), ("minus", "-"),
                          ("n", "n")]:
            app.post_message(events.Key(key, char))
        await pilot.pause(0.5)
        s = app.screen.stepper
        assert [s.record(k).lr for k in (1, 2, 3)] == [Fraction(1, 2), 1, Fraction(1, 4)]
