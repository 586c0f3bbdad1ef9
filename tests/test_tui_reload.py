"""A lesson file edited while it runs: a good edit is shown at the same step, a bad one is shown
as its one-line error while the last good version runs on, and a fix loads again."""
from __future__ import annotations

import contextlib
import io
import os
import time
from fractions import Fraction

import pytest
from rich.console import Console

from gdtutor.catalog import builtin, load, resolve
from gdtutor.stepper import Stepper
from gdtutor.tui import lesson_screen
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.descent import DescentScreen
from gdtutor.tui.graph_screen import GraphScreen
from gdtutor.tui.graph_view import GraphView
from gdtutor.tui.help import HelpScreen
from gdtutor.tui.notice import Notice
from gdtutor.tui.source import SourceWatch, signature
from gdtutor.tui.status import Status
from gdtutor.tui.steps_panel import StepsPanel
from screen_reader import record_notifications

SIZE = (80, 24)
POLL = 0.05     # seconds: the tests poll fast; the tutor looks once a second

PARABOLA = """\
id: parabola
title: A parabola
kind: descent
objective: (w - {target})**2
params: {{w: 0}}
lr: "1/4"
iterations: {iterations}
dtype: exact
"""


def text_of(widget) -> str:
    console = Console(width=400, file=io.StringIO(), color_system=None, record=True,
                      legacy_windows=False)
    console.print(widget.content)
    return " ".join(console.export_text().split())


def messages(app) -> list[str]:
    """What the app was asked to notify (an app made by record_notifications)."""
    return app.notified


def write(path, text: str) -> None:
    """Write the file as an editor does, and make sure its stamp moves on even on a coarse
    clock (the content hash would catch it anyway; this keeps the test about one thing)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setattr(lesson_screen, "POLL", POLL)


def parabola(folder, target: int = 2, iterations: int = 10):
    """A lesson file descending PARABOLA toward `target`."""
    path = folder / "parabola.yaml"
    path.write_text(PARABOLA.format(target=target, iterations=iterations))
    return path


@contextlib.asynccontextmanager
async def started(app, **options):
    """The app at SIZE, its first frame drawn: the pilot to drive it."""
    async with app.run_test(size=SIZE, **options) as pilot:
        await pilot.pause()
        yield pilot


def app_on(path) -> GdtutorApp:
    return record_notifications(GdtutorApp(builtin(), Stepper(load(path))))


async def until(pilot, test, timeout: float = 10.0, what: str = ""):
    """Let the app run (its poll timer, its workers) until test() holds."""
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what or test}")
        await pilot.pause(POLL)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown(app) -> tuple[str, str]:
    """The status line and the steps panel, as read on screen."""
    return text_of(app.screen.query_one(Status)), text_of(app.screen.query_one(StepsPanel))


async def test_good_edit_bad_edit_and_fix(tmp_path):
    path = parabola(tmp_path)
    app = app_on(path)
    async with started(app, notifications=True) as pilot:
        first = app.screen
        for _ in range(3):
            await pilot.press("n")
        # w_(k+1) = w_k − (1/4)·2(w_k − 2): 0, 1, 3/2, 7/4
        status, panel = shown(app)
        assert "k = 3 of 10" in status and "= 7/4" in panel

        # a good edit: the minimum moves to 4; the same k, the new lesson's numbers
        write(path, PARABOLA.format(target=4, iterations=10))
        await until(pilot, lambda: app.screen is not first, what="the reload")
        ref = Stepper(load(path))
        ref.goto(3)
        s = app.screen.stepper
        assert isinstance(app.screen, DescentScreen) and s.k == 3
        assert ref.fmt(ref.weights_at(3)[0]) == "7/2"         # 0, 2, 3, 7/2
        status, panel = shown(app)
        assert "k = 3 of 10" in status and "= 7/2" in panel and "= 7/4" not in panel
        assert any("reloaded parabola.yaml: k = 3" in m for m in messages(app))

        # a bad edit: the error, in one line, on screen; the last good lesson steps on
        good = app.screen
        write(path, PARABOLA.format(target=4, iterations=10).replace("params", "parms"))
        await until(pilot, lambda: good.query_one(Notice).message, what="the error")
        notice = good.query_one(Notice).message
        assert notice.startswith(f"gdtutor: {path}:5: ") and "params" in notice
        assert "last good version" in notice
        assert "\n" not in notice
        assert any(m.startswith(f"gdtutor: {path}:5") for m in messages(app))
        assert app.screen is good
        await pilot.press("n")
        status, panel = shown(app)
        assert "k = 4 of 10" in status and "= 15/4" in panel          # 7/2 → 15/4
        await pilot.pause(5 * POLL)
        assert app.screen is good, "a bad file is not loaded again and again"

        # the fix: loaded again, at the same k; the error is gone
        write(path, PARABOLA.format(target=4, iterations=2))
        await until(pilot, lambda: app.screen is not good, what="the reload after the fix")
        s = app.screen.stepper
        assert s.k == 2 and s.iterations == 2                  # as far as the lesson goes now
        status, panel = shown(app)
        assert "k = 2 of 2" in status and "= 3" in panel
        assert app.screen.query_one(Notice).message == ""
        assert any("reloaded parabola.yaml: k = 2" in m for m in messages(app))


async def test_shift_r_reloads_and_keeps_the_view(tmp_path):
    path = parabola(tmp_path)
    app = app_on(path)
    async with started(app, notifications=True) as pilot:
        await pilot.press("n", "n", "2", "l")
        first = app.screen
        watch = first.watch
        # an edit that keeps the size and the stamp: only the content hash tells
        stamp = path.stat().st_mtime_ns
        path.write_text(PARABOLA.format(target=3, iterations=10))
        os.utime(path, ns=(stamp, stamp))
        assert watch.changed() is not None
        await pilot.press("R")
        await until(pilot, lambda: app.screen is not first, what="the reload")
        screen = app.screen
        assert screen.stepper.k == 2
        assert screen.view == "history" and screen.log_scale
        assert "= 9/4" in shown(app)[1]                          # 0, 3/2, 9/4 toward 3


async def test_an_edit_waits_for_an_open_prompt(tmp_path):
    path = parabola(tmp_path)
    app = app_on(path)
    async with started(app) as pilot:
        first = app.screen
        await pilot.press("n", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        write(path, PARABOLA.format(target=4, iterations=10))
        await pilot.pause(10 * POLL)
        assert isinstance(app.screen, HelpScreen)            # the help stays open
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not first and
                    isinstance(app.screen, DescentScreen), what="the reload")
        assert app.screen.stepper.k == 1
        assert "= 2" in shown(app)[1]                          # w1 = 0 − (1/4)(−8) = 2


async def test_a_graph_lesson_keeps_its_stage_and_may_become_a_descent(tmp_path):
    path = tmp_path / "graph.yaml"
    path.write_text("id: g\ntitle: G\nkind: graph\nexpression: x**2\ninputs: {x: 1}\n")
    app = app_on(path)
    async with started(app) as pilot:
        first = app.screen
        assert isinstance(first, GraphScreen)
        await pilot.press("n", "n")
        write(path, "id: g\ntitle: G\nkind: graph\nexpression: x**3\ninputs: {x: 5}\n")
        await until(pilot, lambda: app.screen is not first, what="the reload")
        assert isinstance(app.screen, GraphScreen) and app.screen.stage == 2
        # stage 2: the new leaf x = 5 and the constant 3 drawn, the power not yet
        drawn = text_of(app.screen.query_one(GraphView))
        assert "x = 5" in drawn and "3" in drawn and "125" not in drawn, drawn
        second = app.screen
        write(path, PARABOLA.format(target=2, iterations=5))
        await until(pilot, lambda: app.screen is not second, what="the change of kind")
        assert isinstance(app.screen, DescentScreen) and app.screen.stepper.k == 0


async def test_a_vanished_file_keeps_the_lesson_and_its_return_reloads(tmp_path):
    path = parabola(tmp_path)
    app = app_on(path)
    async with started(app, notifications=True) as pilot:
        first = app.screen
        await pilot.press("n")
        path.unlink()
        await pilot.pause(5 * POLL)
        assert app.screen is first and first.query_one(Notice).message == ""
        await pilot.press("R")                       # asked for: the reason is shown
        await until(pilot, lambda: first.query_one(Notice).message, what="the error")
        assert "parabola.yaml" in first.query_one(Notice).message
        path.write_text(PARABOLA.format(target=6, iterations=10))
        await until(pilot, lambda: app.screen is not first, what="the reload")
        assert app.screen.stepper.k == 1 and "= 3" in shown(app)[1]


async def test_built_in_lessons_are_not_watched():
    app = record_notifications(GdtutorApp(builtin(), Stepper(resolve("worked-example"))))
    async with started(app, notifications=True) as pilot:
        screen = app.screen
        assert screen.watch is None
        await pilot.press("n", "R")
        await pilot.pause()
        assert app.screen is screen and screen.stepper.k == 1
        assert any("built-in lesson is not reloaded" in m for m in messages(app))


def test_the_watch_sees_edits_not_touches(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n")
    watch = SourceWatch(path)
    assert watch.changed() is None
    stamp = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(stamp, stamp))                  # touched: the same bytes
    assert watch.changed() is None
    path.write_text("a: 2\n")                          # the same size, new bytes
    os.utime(path, ns=(stamp, stamp))                  # and the same stamp
    new = watch.changed()
    assert new is not None and new == signature(path)
    path.unlink()
    assert signature(path) is None


async def test_a_built_in_lessons_file_opened_by_its_path_is_watched():
    lesson = load(resolve("worked-example").source)
    assert lesson.order == 0 and resolve("worked-example").order > 0
    app = GdtutorApp(builtin(), Stepper(lesson))
    async with started(app):
        assert app.screen.watch is not None and app.screen.watch.path == lesson.source


async def test_a_reload_keeps_the_students_alpha_unless_the_edit_sets_alpha(tmp_path):
    path = parabola(tmp_path)
    app = app_on(path)
    async with started(app, notifications=True) as pilot:
        await pilot.press("n", "+", "n", "n")      # α = 1/4 for step 1, then 1/2
        first = app.screen
        assert first.stepper.lr_changes() == [(0, Fraction(1, 4)), (1, Fraction(1, 2))]

        # an edit of the objective only: the same α changes, replayed on the new lesson
        write(path, PARABOLA.format(target=4, iterations=10))
        await until(pilot, lambda: app.screen is not first, what="the reload")
        s = app.screen.stepper
        ref = Stepper(load(path))
        ref.goto(1)
        ref.set_lr(Fraction(1, 2))
        ref.goto(3)
        assert s.k == 3 and s.lr == Fraction(1, 2)
        assert s.lr_changes() == ref.lr_changes()
        # w: 0, then 0 − (1/4)·2(0 − 4) = 2, then w − (1/2)·2(w − 4) = 4, 4
        assert [s.fmt(s.weights_at(k)[0]) for k in range(4)] == ["0", "2", "4", "4"]
        assert [ref.fmt(ref.weights_at(k)[0]) for k in range(4)] == ["0", "2", "4", "4"]
        assert "= 4" in shown(app)[1]

        # an edit that sets α: the file's α, from the start
        second = app.screen
        write(path, PARABOLA.format(target=4, iterations=10).replace('lr: "1/4"', 'lr: "1/8"'))
        await until(pilot, lambda: app.screen is not second, what="the second reload")
        s = app.screen.stepper
        assert s.k == 3 and s.lr_changes() == [(0, Fraction(1, 8))]
        # 0, 1, 7/4, 37/16: w − (1/8)·2(w − 4)
        assert s.fmt(s.weights_at(3)[0]) == "37/16"


async def test_a_reload_keeps_the_backend_the_student_chose(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "parabola.yaml"
    path.write_text(PARABOLA.format(target=2, iterations=10).replace("exact", "float64"))
    app = app_on(path)
    async with started(app, notifications=True) as pilot:
        await pilot.press("n", "t")
        await until(pilot, lambda: app.screen.stepper.backend_name == "torch",
                    what="the switch to torch")
        await pilot.press("n")
        first = app.screen
        write(path, PARABOLA.format(target=4, iterations=10).replace("exact", "float64"))
        await until(pilot, lambda: app.screen is not first, what="the reload")
        s = app.screen.stepper
        assert s.k == 2 and s.backend_name == "torch"
        # 0, 2, 3 toward 4 with α = 1/4, in float64 on torch
        assert [float(s.weights_at(k)[0]) for k in range(3)] == [0.0, 2.0, 3.0]
