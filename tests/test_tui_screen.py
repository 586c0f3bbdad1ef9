"""The descent lesson screen as a student reads it at 80×24: one number one way everywhere,
the app's state never cut off, α typed, the history in the lesson's order, checkpoints on
screen, honest log plots, ASCII under --ascii, digits in the picker."""
from __future__ import annotations

import io
import math
import re
import shlex
import shutil
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given, settings, strategies as st
from rich.console import Console

from gdtutor.catalog import builtin, load, resolve, with_overrides
from gdtutor.checks import verify
from gdtutor.numbers import fmt
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.descent import DescentScreen
from gdtutor.tui.glyphs import TABLE, to_ascii
from gdtutor.tui.goto import LrScreen, parse_lr
from gdtutor.tui.graph_view import GraphView
from gdtutor.tui.history import History
from gdtutor.tui.loss_plot import LossPlot
from gdtutor.tui.parabola import Parabola
from gdtutor.tui.plot_base import MANTISSAS, log_ticks, nice_ticks, ticks
from gdtutor.tui.status import Status, StatusLine, fit
from gdtutor.tui.steps_panel import StepsPanel
from screen_reader import record_notifications, screen_text

ROOT = Path(__file__).resolve().parent.parent
SIZE = (80, 24)


def plain(widget) -> str:
    console = Console(width=max(widget.size.width, 20), file=io.StringIO(), color_system=None,
                      record=True, legacy_windows=False)
    console.print(widget.content)
    return console.export_text()


def one_line(text: str) -> str:
    return " ".join(text.split())


def make_app(lesson="worked-example", **options) -> GdtutorApp:
    overrides = options.pop("overrides", {})
    lesson = load(lesson) if isinstance(lesson, Path) else resolve(lesson)
    stepper = Stepper(with_overrides(lesson, **overrides))
    return record_notifications(GdtutorApp(builtin(), stepper, **options))


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


def lesson_file(tmp_path, body: str, name: str = "l.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


LONG_TITLE = "A lesson whose title is far too long to fit on the status line at eighty columns"


# -- 1. numbers: one policy, the same rendering everywhere; `.` for every digit --------------

async def test_matrix_form_writes_each_number_one_way_in_every_panel():
    ref = Stepper(resolve("matrix-form"))
    record = ref.step()
    # the float64 sums themselves carry representation noise, written without it
    assert repr(float(record.loss)) == "26.505000000000003"
    assert fmt(record.loss, "float64") == "26.505"
    assert [fmt(g, "float64") for g in record.grad][0] == "-24"
    assert fmt(record.step_size[0], "float64") == "-1.2"
    app = make_app("matrix-form")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n")
        steps = one_line(plain(app.screen.query_one(StepsPanel)))
        assert "L(w0) = 26.505" in steps and "26.505000000000003" not in steps
        assert re.search(r"w1\s+0\s+-24\s+-1\.2\s+1\.2", steps), steps
        graph = plain(app.screen.query_one(GraphView))     # the graph pane: the same -24
        assert "grad [-24, -23.7, -6.82]" in graph
        assert "-24.000000000000004" not in graph
        await press(pilot, "2")
        history = app.screen.query_one(History)
        row = [str(cell) for cell in history.get_row("1")]
        assert row[2] == "26.505" and row[3].startswith("[-24, ") and row[5].startswith("[-1.2, ")
        assert "α = 0.05" in one_line(plain(app.screen.query_one(Status)))


async def test_full_stop_writes_every_digit_on_every_panel_and_says_so():
    ref = Stepper(resolve("matrix-form"))
    record = ref.step()
    full_loss = repr(float(record.loss))
    app = make_app("matrix-form")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await press(pilot, "n", "2", "full_stop")
        status = plain(app.screen.query_one(Status))
        assert "full precision" in status
        assert full_loss in one_line(plain(app.screen.query_one(StepsPanel)))
        assert str(app.screen.query_one(History).get_row("1")[2]) == full_loss
        await press(pilot, "n")                    # stays on for the next step
        record2 = ref.step()
        assert repr(float(record2.loss)) in one_line(plain(app.screen.query_one(StepsPanel)))
        await press(pilot, "full_stop")
        assert "full precision" not in plain(app.screen.query_one(Status))
        assert str(app.screen.query_one(History).get_row("1")[2]) == "26.505"


async def test_long_exact_fractions_are_abbreviated_with_a_decimal():
    app = make_app(overrides={"lr": Fraction(1, 3)})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "g", "2", "0", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        steps = one_line(plain(app.screen.query_one(StepsPanel)))
        assert "≈" in steps
        longest = max(len(word) for word in steps.split())
        assert longest <= 24, steps
        await press(pilot, "full_stop")
        steps = "".join(plain(app.screen.query_one(StepsPanel)).split())
        exact = app.screen.stepper.weights_at(20)[0]
        assert f"={exact}" in steps and len(str(exact)) > 16


# -- plot ticks --------------------------------------------------------------------------

def round_step(step: float) -> bool:
    exponent = math.floor(math.log10(step))
    mantissa = step / 10 ** exponent
    # (a gap between two large ticks carries their rounding: compared to 1 part in 10^6)
    return any(math.isclose(mantissa, m, rel_tol=1e-6) or math.isclose(mantissa, m * 10,
                                                                        rel_tol=1e-6)
               for m in MANTISSAS)


@settings(derandomize=True, max_examples=300)
@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(1e-6, 1e6, allow_nan=False),
       st.integers(2, 8))
def test_nice_ticks_are_round_steps_inside_the_range(lo, span, most):
    assume(span > 1e-4 * max(1.0, abs(lo)))   # a plot's range, not float64's last digits
    hi = lo + span
    found = nice_ticks(lo, hi, most)
    assert 1 <= len(found) <= most
    assert all(lo - span * 1e-9 <= t <= hi + span * 1e-9 for t in found)
    if len(found) >= 2:
        gaps = [b - a for a, b in zip(found, found[1:])]
        step = gaps[0]
        assert round_step(step), (lo, hi, found)
        assert all(math.isclose(g, step, rel_tol=1e-6) for g in gaps)
        # on the grid of the step: every tick is a whole multiple of it
        assert all(abs(t / step - round(t / step)) < 1e-6 * max(1, abs(t / step))
                   for t in found)
        # the smallest such step: the next smaller round step would give too many ticks
        e = math.floor(math.log10(step))
        smaller = max(m * 10.0 ** k for k in (e - 1, e) for m in MANTISSAS
                      if m * 10.0 ** k < step * (1 - 1e-6))
        count = math.floor(hi / smaller + 1e-6) - math.ceil(lo / smaller - 1e-6) + 1
        assert count > most, (lo, hi, found, smaller)


@pytest.mark.parametrize("lo, hi, labels", [
    (0, 26.505, "0 10 20"), (-0.5, 0.3, "-0.4 -0.2 0 0.2"), (0, 1, "0 0.25 0.5 0.75 1"),
    (0.00342, 0.00391, "0.0035 0.0036 0.0037 0.0038 0.0039"), (0, 1.5e7, "0 5e+06 1e+07 1.5e+07"),
])
def test_tick_labels_are_round_numbers(lo, hi, labels):
    assert " ".join(ticks(lo, hi)[1]) == labels


def test_log_ticks_are_powers_of_ten_or_1_2_5():
    assert log_ticks(0.01, 100) == [0.01, 0.1, 1.0, 10.0, 100.0]
    assert log_ticks(1.9, 5.1) == [2.0, 5.0]
    spread = log_ticks(1e-300, 1e300)
    assert 2 <= len(spread) <= 5 and all(math.log10(t) % 100 == 0 for t in spread)


NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[+-]\d+)?$")


async def test_plot_labels_stay_round_after_a_resize():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n", "n")
        for size in [(100, 30), (61, 18), (80, 24), (133, 41)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            for plot in (app.screen.query_one(LossPlot), app.screen.query_one(Parabola)):
                for line in plot.render().plain.split("\n"):
                    label = line.split("┤")[0].strip() if "┤" in line else ""
                    if label:
                        assert NUMBER.match(label), (size, line)
                        value = float(label)
                        # 1, 2, 2.5 or 5 times a power of ten (or 0), to 3 digits
                        assert value == 0 or round_step(abs(value)) or \
                            len(label.lstrip("-").replace(".", "").strip("0")) <= 2, label


# -- 2. state never cut off --------------------------------------------------------------------

def test_the_state_keeps_its_place_and_the_title_is_cut_first():
    from rich.text import Text
    line = fit(Text(LONG_TITLE), Text("  k = 3 of 20  next α = 1/2  numpy · exact"),
               Text("  ▶ 2 steps/s  switching to torch (float64)…"), 100)
    assert len(line.plain) == 100
    assert line.plain.endswith("▶ 2 steps/s  switching to torch (float64)…")
    assert "k = 3 of 20  next α = 1/2  numpy · exact" in line.plain
    assert line.plain.startswith(LONG_TITLE[:5]) and "…" in line.plain.split("  k =")[0]


async def test_status_line_at_80_columns_shows_play_divergence_and_work(tmp_path):
    path = lesson_file(tmp_path, f"id: long\ntitle: {LONG_TITLE}\nkind: descent\n"
                                 "objective: 14*(w - 2)**2\nparams: {w: 0}\nlr: 1/28\n"
                                 "iterations: 20\n")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "a")
        top = screen_text(app).splitlines()[0]
        assert "▶ 2 steps/s" in top and "k = " in top and "numpy · float64" in top
        assert "…" in top and LONG_TITLE not in top
        await press(pilot, "a")
        app.screen.busy = "switching to torch (float64)…"
        await pilot.pause()
        assert "switching to torch (float64)…" in screen_text(app).splitlines()[0]
        app.screen.busy = ""
        await press(pilot, "full_stop")
        assert screen_text(app).splitlines()[0].rstrip().endswith("full precision")


async def test_a_diverged_lesson_says_so_on_the_status_line_with_a_long_title(tmp_path):
    path = lesson_file(tmp_path, f"id: d\ntitle: {LONG_TITLE}\nkind: descent\n"
                                 "objective: w**2\nparams: {w: 1}\nlr: 3\niterations: 2000\n"
                                 "dtype: float64\n")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "g", *"2000", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        d = app.screen.stepper.diverged_at
        assert d is not None
        assert f"diverged at step {d}" in screen_text(app).splitlines()[0]


async def test_keys_behind_the_enlarge_message_do_nothing():
    app = make_app()
    async with app.run_test(size=(50, 15)) as pilot:
        await pilot.pause()
        await press(pilot, "n", "space", "right", "a", "plus", "r", "g", "equals_sign", "t")
        screen = app.screen
        assert isinstance(screen, DescentScreen)
        assert screen.stepper.k == 0 and not screen.playing and not screen.busy
        assert screen.stepper.lr == Fraction(1, 2)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await press(pilot, "n")
        assert screen.stepper.k == 1


async def test_a_nan_loss_is_notified_once(tmp_path):
    path = lesson_file(tmp_path, "id: nan\ntitle: T\nkind: descent\nobjective: sqrt(w)\n"
                                 "params: {w: 1}\nlr: 1\niterations: 10\n")
    app = make_app(path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, *["n"] * 6, "a")
        await pilot.pause(0.3)
        told = [m for m in app.notified if "diverged" in m]
        assert len(told) == 1, app.notified
        await press(pilot, "r", "g", "9", "enter")     # diverges again after a reset: told again
        assert len([m for m in app.notified if "diverged" in m]) == 2, app.notified


# -- 3. α typed, and named -----------------------------------------------------------------------

@pytest.mark.parametrize("typed, value", [("1/3", Fraction(1, 3)), ("0.05", Fraction(1, 20)),
                                          (" 1e-3 ", Fraction(1, 1000))])
def test_parse_lr_takes_fractions_and_decimals(typed, value):
    assert parse_lr(typed) == value


@pytest.mark.parametrize("typed, reason", [("-1", "greater than 0"), ("0", "greater than 0"),
                                           ("abc", "not a number"), ("inf", "not a number"),
                                           ("1, 2", "one number"), ("1e400", "too large"),
                                           ("", "type a number")])
def test_parse_lr_refuses_with_a_reason(typed, reason):
    with pytest.raises(ValueError, match=reason):
        parse_lr(typed)


async def test_equals_types_alpha_and_a_bad_one_is_refused_in_the_prompt():
    ref = Stepper(resolve("worked-example"))
    ref.step()
    ref.set_lr(Fraction(1, 3))
    expected = ref.step()
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "n", "equals_sign")
        assert isinstance(app.screen, LrScreen)
        await press(pilot, "minus", "1", "enter")
        assert isinstance(app.screen, LrScreen)        # refused in place, the prompt open
        assert "greater than 0" in app.screen.error and "greater than 0" in screen_text(app)
        await press(pilot, *["backspace"] * 2, *"abc", "enter")
        assert isinstance(app.screen, LrScreen) and "not a number" in app.screen.error
        await press(pilot, *["backspace"] * 3, "1", "slash", "3", "enter")
        assert isinstance(app.screen, DescentScreen)
        s = app.screen.stepper
        assert s.lr == Fraction(1, 3)
        assert "next α = 1/3" in plain(app.screen.query_one(Status))
        await press(pilot, "n")
        steps = one_line(plain(app.screen.query_one(StepsPanel)))
        assert s.record(2).lr == Fraction(1, 3) and "α = 1/3" in steps
        assert s.weights_at(2)[0] == expected.weights[0]
        assert f"= {ref.fmt(expected.weights[0])}" in steps


async def test_plus_doubles_and_equals_no_longer_does():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "plus")
        assert app.screen.stepper.lr == 1
        await press(pilot, "equals_sign")
        assert isinstance(app.screen, LrScreen)
        await press(pilot, "escape")
        assert app.screen.stepper.lr == 1


async def test_the_panel_names_the_alpha_of_its_step_and_the_status_the_next():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n", "plus", "n")      # step 3 with α = 1
        s = app.screen.stepper
        assert s.record(3).lr == 1
        await press(pilot, "b")                        # back at step 2, computed with α = 1/2
        steps = one_line(plain(app.screen.query_one(StepsPanel)))
        assert "Step 2: w1 → w2 α = 1/2" in steps
        status = plain(app.screen.query_one(Status))
        assert f"next α = {app.screen.numbers.lr(s.lr)}" in status and s.lr == 1


# -- 4. the history table ------------------------------------------------------------------------

async def test_history_columns_in_the_lesson_order_reachable_at_80_columns():
    app = make_app("matrix-form")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "2", *["n"] * 5)
        table = app.screen.query_one(History)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers == ["k", "w[k-1]", "L(w[k-1])", "grad", "α", "α·grad", "w[k]"]
        assert "w[k]" not in screen_text(app)        # wider than the pane at 80 columns
        for _ in range(12):
            await press(pilot, "shift+right")
            if "w[k]" in screen_text(app):
                break
        text = screen_text(app)
        assert "w[k]" in text and app.screen.stepper.k == 5
        ref = Stepper(resolve("matrix-form"))
        w5 = [ref.step() for _ in range(5)][-1].weights
        assert ref.fmt_vec(w5).split(",")[0] in text
        await press(pilot, "home")
        assert table.cursor_row == 0
        await press(pilot, "end")
        assert table.cursor_row == 5
        await press(pilot, *["shift+left"] * 12)
        assert table.scroll_x == 0


# -- 5. checkpoints on screen ----------------------------------------------------------------------

async def test_a_checkpoint_passed_is_shown_at_its_step():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n", "n")
        steps = one_line(plain(app.screen.query_one(StepsPanel)))
        assert "✓ as in the document:" in steps and "= 7/4" in steps


async def test_a_checkpoint_failed_is_shown_with_both_values(tmp_path):
    path = lesson_file(tmp_path, "id: c\ntitle: T\nkind: descent\nobjective: 14*(w - 2)**2\n"
                                 "params: {w: 0}\nlr: 1/28\niterations: 10\ncheckpoints:\n"
                                 "  - {step: 3, weights: ['3/2']}\n")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "n", "n")
        assert "✗" not in plain(app.screen.query_one(StepsPanel))
        await press(pilot, "n")
        steps = one_line(plain(app.screen.query_one(StepsPanel)))
        assert "✗ w_3: expected 1.5, got 2" in steps


# -- 6. a log plot of a loss that goes below zero ------------------------------------------------

async def test_log_scale_with_a_negative_loss_plots_l_minus_min_l(tmp_path):
    path = lesson_file(tmp_path, "id: neg\ntitle: T\nkind: descent\n"
                                 "objective: (w - 3)**2 - 10\nparams: {w: 0}\nlr: 1/4\n"
                                 "iterations: 40\n")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "g", "3", "0", "enter", "l")
        text = app.screen.query_one(LossPlot).render().plain
        assert "log(L − min L)" in text
        assert "NoneType" not in text and "no plot" not in text
        assert re.search("[\u2800-\u28ff]", text)       # a curve is drawn


# -- 7. --ascii ------------------------------------------------------------------------------------

def test_every_glyph_has_an_ascii_form():
    assert all(value.isascii() for value in TABLE.values())
    assert to_ascii("✓ w3 → 7/4 ≈ 1.75 ▶ α·grad −1") == "ok w3 -> 7/4 ~ 1.75 > lr*grad -1"


@pytest.mark.parametrize("lesson", ["worked-example", "matrix-form"])
async def test_ascii_draws_only_ascii(lesson):
    app = make_app(lesson, ascii_plot=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        for keys in (["n", "n", "n"], ["a"], ["a", "2"], ["1", "l"], ["equals_sign"],
                     ["escape", "g"], ["escape", "question_mark"]):
            await press(pilot, *keys)
            text = screen_text(app)
            bad = {c for c in text if not c.isascii()}
            assert not bad, (keys, bad, text)


# -- 8. the picker's digits, and checkpoint wording ------------------------------------------------

async def test_a_digit_in_the_picker_opens_that_lesson():
    lessons = builtin()
    app = GdtutorApp(lessons, None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, "3")
        assert isinstance(app.screen, DescentScreen)
        assert app.screen.lesson.id == lessons[2].id
        await press(pilot, "escape", "7")
        assert app.screen.lesson.id == lessons[6].id


def test_a_divergence_that_never_came_reads_as_english(tmp_path):
    path = lesson_file(tmp_path, "id: n\ntitle: T\nkind: descent\nobjective: (w - 2)**2\n"
                                 "params: {w: 0}\nlr: 1/4\niterations: 10\ncheckpoints:\n"
                                 "  - {diverged: 5}\n")
    result = verify(Stepper(load(path)))[0]
    assert not result.passed
    assert result.detail.startswith("never diverged") and "step never" not in result.detail


# -- a real terminal at 80×24 ---------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_status_line_and_typed_alpha_in_tmux_at_80x24(tmp_path):
    from test_tui_tmux import Terminal
    path = lesson_file(tmp_path, f"id: long\ntitle: {LONG_TITLE}\nkind: descent\n"
                                 "objective: 14*(w - 2)**2\nparams: {w: 0}\nlr: 1/28\n"
                                 "iterations: 20\n")
    command = (f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={ROOT} "
               f"{shlex.quote(sys.executable)} -m gdtutor {shlex.quote(str(path))}; sleep 120")
    term = Terminal(command)
    try:
        term.wait_for("q quit")
        term.keys("t")
        # torch loads for a second or more: what is happening is said on the status line
        screen = term.wait_for("switching to torch")
        assert "switching to torch" in screen.splitlines()[0]
        screen = term.wait_for("torch · float64")
        term.keys("a")
        screen = term.wait_for("steps/s")
        top = screen.splitlines()[0]
        assert "▶ 2 steps/s" in top and "…" in top and "k = " in top
        term.keys("a", "=")
        term.wait_for("e.g. 1/3")
        term.keys("1", "/", "8", "Enter")
        screen = term.wait_for("next α = 0.125")
        assert "next α = 0.125" in screen.splitlines()[0]
    finally:
        term.close()
