"""The tutor neither crashes nor freezes, whatever a lesson file does under it, and shows a
lesson's strings as typed.

- a lesson file rewritten over and over (good and bad versions) while keys are pressed: no
  exception, the last good version is shown, `q` ends the app;
- a screen acts on keys, timers and workers' results only while it is the one shown: a rebuilt
  screen not yet mounted, or one being replaced, does nothing;
- a lesson whose first step divides by zero opens and says it diverged at step 0;
- an exact lesson whose fractions grow without limit: the first frame comes, the steps past a
  frame run in a worker, stepping stops before a step would take seconds, and `q` ends the
  app within a second;
- a FIFO or a device in the lesson file's place is never opened;
- titles, text and error messages with Rich markup or control characters are shown literally.
"""
from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest

from gdtutor.catalog import builtin, load
from gdtutor.tui import lesson_screen, paced
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.descent import DescentScreen
from gdtutor.tui.lesson_screen import LessonScreen
from gdtutor.tui.literal import printable
from gdtutor.tui.notice import Notice
from gdtutor.tui.paced import PacedStepper, StepTooSlow
from gdtutor.tui.source import NOT_REGULAR, SourceWatch, not_regular, signature
from screen_reader import record_notifications, screen_text

SIZE = (80, 24)
POLL = 0.02         # seconds: the tests poll fast; the tutor looks once a second
QUIT_WITHIN = 1.0   # seconds from `q` to the end of the app

LESSON = """\
id: storm
title: "{title}"
kind: descent
objective: (w - {target})**2
params: {{w: 0}}
lr: "1/4"
iterations: {iterations}
dtype: {dtype}
"""

GRAPH = """\
id: storm-graph
title: "{title}"
kind: graph
expression: x*x + {target}
inputs: {{x: 3}}
"""

GROWING = """\
id: growing
title: Growing fractions
kind: descent
objective: w*w*w*w
params: {w: "1/3"}
lr: "1/7"
iterations: 40
dtype: exact
"""

BAD = ["id: storm\ntitle: [\n", "", "id: storm\nkind: descent\n", "\x00\x01",
       LESSON.format(title="bad", target=1, iterations=10, dtype="exact") + "bogus: 1\n"]


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setattr(lesson_screen, "POLL", POLL)


def write(path: Path, text: str) -> None:
    """Write the file as an editor does, with its stamp moved on even on a coarse clock."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def app_on(path: Path) -> GdtutorApp:
    """The app as `gdtutor FILE` makes it (a paced stepper, the file watched)."""
    return record_notifications(GdtutorApp(builtin(), PacedStepper(load(path))))


async def until(pilot, test, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what or test}")
        await pilot.pause(POLL)


async def quit_within(pilot, seconds: float = QUIT_WITHIN) -> float:
    """Press q; the seconds until the app stopped running (fails past `seconds`)."""
    app = pilot.app
    start = time.monotonic()
    await pilot.press("q")
    while app.is_running:
        elapsed = time.monotonic() - start
        assert elapsed < seconds, f"the app still runs {elapsed:.2f} s after q"
        await pilot.pause(0.01)
    return time.monotonic() - start


def status_line(app) -> str:
    return screen_text(app).splitlines()[0]


# -- a lesson file rewritten while keys are pressed ---------------------------------------------


@pytest.mark.slow
async def test_rewrite_storm_while_stepping_then_q(tmp_path):
    rng = random.Random(12)
    path = tmp_path / "storm.yaml"
    write(path, LESSON.format(title="v0", target=2, iterations=50, dtype="exact"))
    app = app_on(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for round_ in range(20):
            roll = rng.random()
            if roll < 0.5:
                text = LESSON.format(title=f"v{round_}", target=rng.randint(1, 9),
                                     iterations=rng.choice([3, 50, 5000]),
                                     dtype=rng.choice(["exact", "float64", "float32"]))
            elif roll < 0.6:
                text = GRAPH.format(title=f"g{round_}", target=rng.randint(1, 9))
            else:
                text = rng.choice(BAD)
            write(path, text)
            for _ in range(rng.randint(1, 5)):
                await pilot.press(*rng.choice([["n"], ["n", "n", "n", "n"], ["b"], ["r"],
                                                ["t"], ["a"], ["R"], ["1"], ["3"]]))
                screen = app.screen
                if isinstance(screen, LessonScreen) and rng.random() < 0.4:
                    screen.reload()          # the reload path called directly, mid-storm
            await pilot.pause(rng.choice([0, 0.005, 0.03]))
        # the last version is good: once taken in, it is what the screen shows
        write(path, LESSON.format(title="final", target=3, iterations=7, dtype="exact"))
        await until(pilot, lambda: isinstance(app.screen, DescentScreen)
                    and app.screen.lesson.title.get("en") == "final"
                    and not app.screen.busy, 20, "the final version")
        screen = app.screen
        screen.playing = False
        await pilot.press("r", "n", "n")
        await until(pilot, lambda: screen.stepper.k == 2, what="two steps")
        # w_(k+1) = w_k − (1/4)·2(w_k − 3): 0, 3/2, 9/4
        assert screen.stepper.weights_at(2)[0] == Fraction(9, 4)
        assert "final  k = 2 of 7" in status_line(app)
        await quit_within(pilot, 5.0)
    assert app.return_code == 0


async def test_a_screen_not_yet_mounted_or_being_replaced_ignores_keys_and_timers(tmp_path):
    path = tmp_path / "lesson.yaml"
    write(path, LESSON.format(title="one", target=2, iterations=10, dtype="exact"))
    app = app_on(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen
        # made, not mounted: its state is there from construction, and it takes no key
        fresh = app.lesson_screen(PacedStepper(load(path)))
        assert fresh.check_action("step", ()) is False
        fresh.refresh_status()            # the widgets exist before compose
        assert not fresh.live
        # being replaced: a key or a play tick that reaches it does nothing
        assert first.live and first.check_action("step", ())
        first.swap(PacedStepper(load(path)), told="swapped")
        assert not first.live and first.check_action("step", ()) is False
        k = first.stepper.k
        first._tick()
        assert first.stepper.k == k
        await until(pilot, lambda: app.screen is not first and app.screen.live, what="the swap")
        await pilot.press("n")
        await until(pilot, lambda: app.screen.stepper.k == 1, what="a step on the new screen")
        assert first.stepper.k == k


async def test_a_workers_result_is_dropped_when_its_screen_is_replaced(tmp_path):
    path = tmp_path / "lesson.yaml"
    write(path, LESSON.format(title="one", target=2, iterations=10, dtype="exact"))
    app = app_on(path)
    release, ran, asked = threading.Event(), [], []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen

        def job(cancelled):
            while not release.is_set() and not cancelled():
                time.sleep(0.002)
            asked.append(cancelled())
            return "done"

        first.in_background(job, "waiting", ran.append)
        await until(pilot, lambda: first.busy == "waiting", what="the job")
        first.swap(PacedStepper(load(path)))
        await until(pilot, lambda: app.screen is not first and app.screen.live, what="the swap")
        release.set()
        await until(pilot, lambda: asked, what="the job's end")
        await pilot.pause(0.1)
        assert asked == [True]            # told to stop: its screen went away
        assert ran == []                  # and what it returned was not shown
        await quit_within(pilot)


# -- lessons that divide by zero at once ----------------------------------------------------


@pytest.mark.parametrize("dtype", ["exact", "float64", "float32"])
async def test_a_lesson_whose_first_step_divides_by_zero_opens(tmp_path, dtype):
    path = tmp_path / "divide.yaml"
    write(path, "id: divide\ntitle: Divide\nkind: descent\nobjective: 1/w\nparams: {w: 0}\n"
                f"lr: \"1/4\"\niterations: 10\ndtype: {dtype}\n")
    app = app_on(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DescentScreen)
        assert "diverged at step 0" in status_line(app)
        await pilot.press("n", "n")
        await pilot.pause()
        assert screen.stepper.k == 0 and screen.stepper.diverged_at == 0
        assert any("diverged at step 0" in m for m in app.notified)
        await quit_within(pilot)
    assert app.return_code == 0


@pytest.mark.parametrize("dtype", ["exact", "float64"])
async def test_a_graph_lesson_that_divides_by_zero_opens(tmp_path, dtype):
    path = tmp_path / "divide-graph.yaml"
    write(path, f"id: divide-graph\ntitle: Divide\nkind: graph\nexpression: 1/x\n"
                f"inputs: {{x: 0}}\ndtype: {dtype}\n")
    app = app_on(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n", "n", "n")
        await pilot.pause()
        assert "Divide  stage" in status_line(app)
        await quit_within(pilot)
    assert app.return_code == 0


# -- exact fractions that grow without limit ------------------------------------------------


def growing_weights(steps: int) -> list[Fraction]:
    """w_(k+1) = w_k − (1/7)·4·w_k³, in exact fractions."""
    w = [Fraction(1, 3)]
    for _ in range(steps):
        w.append(w[-1] - Fraction(1, 7) * 4 * w[-1] ** 3)
    return w


async def test_a_growing_exact_lesson_keeps_the_tutor_responsive(tmp_path):
    path = tmp_path / "growing.yaml"
    write(path, GROWING)
    app = app_on(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Growing fractions  k = 0 of 40" in status_line(app)
        # q at once, while the steps ahead may still be computed: the app ends within 1 s
        await quit_within(pilot)
    assert app.return_code == 0


async def test_stepping_a_growing_exact_lesson_stops_before_a_step_takes_seconds(tmp_path):
    path = tmp_path / "growing.yaml"
    write(path, GROWING)
    app = app_on(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        s = screen.stepper
        for _ in range(30):                # n held down
            await pilot.press("n")
            await until(pilot, lambda: not screen.busy, 30, "the step")
        assert s.stopped_at is not None and s.k == s.last == s.stopped_at - 1
        assert s.computed <= s.stopped_at           # nothing past the slow step computed
        if s.stop is None:
            # the time limit came first: the slow step grew out of the lesson's fastest by
            # more than GROWTH, and the next was expected past SLOW_STEP
            assert s.step_time > paced.GROWTH * s.fastest
            assert s.next_step_time > paced.SLOW_STEP
            said = "exact fractions grow with every step"
        else:
            # the core's size limit on exact values came first (a fast machine)
            said = "exact fractions grew past"
        # the steps shown are the exact ones
        assert [s.weights_at(k)[0] for k in range(s.k + 1)] == growing_weights(s.k)
        assert f"k = {s.k} of 40" in status_line(app)
        assert any(said in m for m in app.notified), app.notified
        await quit_within(pilot)


def growing(tmp_path: Path) -> PacedStepper:
    path = tmp_path / "growing.yaml"
    write(path, GROWING)
    return PacedStepper(load(path))


def test_paced_steps_look_at_the_cancel_flag_between_exact_steps(tmp_path):
    s = growing(tmp_path)
    asked = []
    s.compute(6, cancel=lambda: asked.append(s.computed) or False)
    assert asked == [1, 2, 3, 4, 5, 6] and s.k == 0
    s.reset()
    assert s.goto(5, cancel=lambda: s.computed >= 3) == 2   # lands where the loss is known
    assert [s.weights_at(k)[0] for k in range(3)] == growing_weights(2)


def test_a_step_at_the_limit_is_refused_in_one_line(tmp_path):
    s = growing(tmp_path)
    s.goto(40)
    assert s.stopped_at is not None and s.k == s.last
    with pytest.raises(StepTooSlow) as refused:
        s.step()
    assert "\n" not in str(refused.value) and "float64" in str(refused.value)
    s.set_lr(Fraction(1, 14))                   # measured again from here
    assert s.stopped_at is None


# -- FIFOs and devices ----------------------------------------------------------------------


def returns_within(fn, seconds: float = 5.0):
    """fn()'s value; fails (instead of hanging the suite) if it does not return in time."""
    done = []
    worker = threading.Thread(target=lambda: done.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert done, f"{fn} blocked"
    return done[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_a_device_is_never_opened(tmp_path):
    fifo = tmp_path / "lesson.yaml"
    os.mkfifo(fifo)
    assert returns_within(lambda: signature(fifo))[2] == NOT_REGULAR
    watch = returns_within(lambda: SourceWatch(fifo))
    assert returns_within(watch.changed) is None
    assert "FIFO" in not_regular(fifo)
    if Path("/dev/zero").exists():
        assert returns_within(lambda: signature(Path("/dev/zero")))[2] == NOT_REGULAR
    assert not_regular(tmp_path) and not_regular(tmp_path / "missing.yaml") is None


@contextlib.contextmanager
def unblocking(fifo: Path, after: float = 10.0):
    """A watchdog: a reader still blocked on `fifo` after `after` seconds is given end of file
    (a test that would hang fails instead); yields the list it notes that in."""
    fired, stop = [], threading.Event()

    def watch() -> None:
        while not stop.wait(after):
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                fired.append(True)
            except OSError:          # nobody is reading it
                pass

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield fired
    finally:
        stop.set()
        thread.join()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_a_lesson_file_replaced_by_a_fifo_is_refused_and_q_still_works(tmp_path):
    path = tmp_path / "lesson.yaml"
    write(path, LESSON.format(title="good", target=2, iterations=10, dtype="exact"))
    app = app_on(path)
    with unblocking(path) as fired:
        await fifo_refused(app, path)
    assert not fired, "the tutor blocked reading the FIFO"
    assert app.return_code == 0


async def fifo_refused(app, path: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen
        path.unlink()
        os.mkfifo(path)
        await until(pilot, lambda: "FIFO" in first.query_one(Notice).message, 10,
                    "the FIFO reported")
        assert app.screen is first and "good  k = 0" in status_line(app)
        await pilot.press("n")
        await until(pilot, lambda: first.stepper.k == 1, what="a step")
        first.reload()                       # asked for directly: refused the same way
        await until(pilot, lambda: not first.busy, what="the reload")
        assert app.screen is first
        await quit_within(pilot)


# -- lesson strings shown as typed ----------------------------------------------------------

ODD = "[bold]B[/] [link=x]L[/link] \x1b]0;pwned\x07\x1b[2J"


def test_printable_escapes_controls_and_keeps_text():
    assert printable(ODD) == "[bold]B[/] [link=x]L[/link] \\x1b]0;pwned\\x07\\x1b[2J"
    assert printable("a\nb\tc", multiline=True) == "a\nb\tc"
    assert printable("a\nb\x9bc\x7f") == "a\\nb\\x9bc\\x7f"
    assert printable(printable(ODD)) == printable(ODD)
    assert printable("数 ≈ ∂L/∂w") == "数 ≈ ∂L/∂w"


async def test_markup_and_escapes_in_a_lesson_are_shown_literally(tmp_path):
    path = tmp_path / "odd.yaml"
    title = "[bold]B[/] [link=x]L[/link] \\e[2J"
    text = "# Head [red]R[/red]\\n\\nbody \\e]0;pwned\\a done [/]\\n"
    write(path, f'id: odd\ntitle: "{title}"\nkind: descent\nobjective: (w - 1)**2\n'
                f'params: {{w: 0}}\nlr: "1/4"\niterations: 5\ndtype: exact\n'
                f'text: "{text}"\n')
    app = app_on(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert status_line(app).lstrip().startswith("[bold]B[/] [link=x]L[/link] \\x1b[2J")
        await pilot.press("3")                     # the lesson text, as Markdown
        await until(pilot, lambda: "done" in screen_text(app), what="the lesson text")
        shown = screen_text(app)
        assert "Head [red]R[/red]" in shown and "body \\x1b]0;pwned\\x07 done [/]" in shown
        assert "\x1b" not in app.export_screenshot()
        # an error message quoting the file is shown as typed too
        write(path, "id: odd\ntitle: \"[b]x[/b]\"\nkind: descent\nbogus_[b]field[/b]: 1\n")
        await until(pilot, lambda: app.screen.query_one(Notice).message, 10, "the error")
        assert "bogus_[b]field[/b]" in app.screen.query_one(Notice).message
        assert any("bogus_[b]field[/b]" in m for m in app.notified)
        await quit_within(pilot)
