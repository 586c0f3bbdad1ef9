"""Predict mode in the TUI (SPEC sections 7 and 8), driven key by key at 80×24: answers checked
against numbers computed another way (closed forms, exact fractions, a separate Stepper), and
the progress file read back with progress.read_events after each path."""
from __future__ import annotations

import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import fcntl
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from gdtutor.answers import hint
from gdtutor.catalog import builtin, load, resolve, with_overrides
from gdtutor.progress import ProgressLog, read_events
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.lesson_end import EndScreen, ResumeScreen
from gdtutor.tui.predict import hide_reveals
from screen_reader import record_notifications, screen_text

ROOT = Path(__file__).resolve().parent.parent
SIZE = (80, 24)


@pytest.fixture
def progress(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "state" / "progress.jsonl"
    monkeypatch.setenv("GDTUTOR_PROGRESS", str(path))
    return path


ASKS = {"worked-example": ("grad", "step", "weights"), "backprop": ("value", "grads")}


def make_app(lesson, *, predict: bool = True, overrides: dict | None = None) -> GdtutorApp:
    """The app as `gdtutor LESSON --predict` makes it (predict=False: without --predict)."""
    overrides = overrides or {}
    if isinstance(lesson, str):
        # the built-in lessons list nothing (they open stepping); these tests ask what a
        # lesson listing the document's three steps, or a graph's value and grads, asks
        lesson = resolve(lesson)
        lesson = lesson._replace(predict=ASKS.get(lesson.id, lesson.predict))
    stepper = Stepper(with_overrides(lesson, **overrides))
    return record_notifications(GdtutorApp(builtin(), stepper, overrides=overrides,
                                           predict=predict, progress=ProgressLog()))


async def typed(pilot, text: str) -> None:
    """Type `text` into the answer field, then enter."""
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await pilot.press("enter")
    await pilot.pause()


def attempts(path: Path) -> list:
    return [e for e in read_events(path) if e.event == "attempt"] if path.exists() else []


def reached(path: Path) -> list[int]:
    return [e.step for e in read_events(path) if e.event == "reached"] if path.exists() else []


def said(app) -> str:
    """The predict bar's verdict line and hint, as shown."""
    view = app.screen.predictor.view
    return f"{view.said}\n{view.hint}"


def w(n: int) -> Fraction:
    """The worked example's closed form: w_n = 2 − 1/2^(n−1) (w_0 = 0)."""
    return Fraction(2) - Fraction(1, 2 ** (n - 1)) if n else Fraction(0)


def fraction_text(x: Fraction) -> str:
    return str(x)


# -- right, wrong, hint, reveal, refusal ----------------------------------------------------

async def test_right_answers_show_a_tick_and_reveal_the_step(progress):
    app = make_app("worked-example")     # its own list: grad, step, weights
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Step 1: predict grad at w0" in screen_text(app)
        grad = w(0) - 2                  # the effective gradient w − 2
        await typed(pilot, str(grad))
        assert app.screen.stepper.k == 0
        assert f"✓ grad = {grad}" in screen_text(app)
        assert "Step 1: predict α·grad" in screen_text(app)
        await typed(pilot, str(grad / 2))
        await typed(pilot, str(w(1)))
        assert app.screen.stepper.k == 1

        text = screen_text(app)
        assert f"✓ w1 = {w(1)}" in text
        assert "3 w1 = w0 − α·grad = 0 − (-1) = 1" in text       # the step as n shows it
        assert "Step 2: predict grad at w1" in text
    got = attempts(progress)
    assert [(e.step, e.field, e.answer, e.correct, e.try_) for e in got] == [
        (1, "grad", "-2", True, 1), (1, "step", "-1", True, 1), (1, "weights", "1", True, 1)]
    assert reached(progress) == [1]
    assert {e.lesson for e in read_events(progress)} == {"worked-example"}


async def test_a_wrong_answer_says_what_is_off_and_not_the_answer(progress):
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await typed(pilot, "3")                     # grad is −2: wrong sign, wrong size
        assert app.screen.stepper.k == 0
        verdict = said(app)
        assert verdict.startswith("✗ 3: ") and "wrong sign" in verdict
        assert "2" not in verdict.removeprefix("✗ 3: ")
        assert "✗ 3:" in screen_text(app)
        await typed(pilot, "-1")                    # right sign, half the size
        verdict = app.screen.predictor.view.said
        assert "half" in verdict and "2" not in verdict.removeprefix("✗ -1: ")
    got = attempts(progress)
    assert [(e.answer, e.correct, e.try_, e.hint) for e in got] == [
        ("3", False, 1, False), ("-1", False, 2, False)]


async def test_a_second_miss_shows_the_hint_with_the_numbers(progress):
    lesson = resolve("worked-example")
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await typed(pilot, "-2")
        await typed(pilot, "-1")
        await typed(pilot, "2")
        assert "hint" not in said(app)
        await typed(pilot, "3")
        expected = "w1 = w0 − α·grad = 0 − 1/2 · (−2) = ?"
        assert expected == hint("weights", lesson, k=0, weights=Fraction(0),
                                grad=Fraction(-2), lr=Fraction(1, 2))
        assert f"hint: {expected}" in screen_text(app)
        await typed(pilot, "1")
        assert app.screen.stepper.k == 1
    got = [e for e in attempts(progress) if e.field == "weights"]
    assert [(e.answer, e.correct, e.hint, e.try_) for e in got] == [
        ("2", False, False, 1), ("3", False, False, 2), ("1", True, True, 3)]


async def test_esc_reveals_the_step_and_counts_it_revealed(progress):
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await typed(pilot, "-2")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.stepper.k == 1
        assert "revealed: α·grad = -1" in screen_text(app)
    got = attempts(progress)
    assert [(e.field, e.answer, e.correct, e.revealed) for e in got] == [
        ("grad", "-2", True, False), ("step", None, False, True)]
    assert reached(progress) == [1]
    summary = ProgressLog(progress).summary("worked-example")
    assert (summary.revealed, summary.first_try, summary.predicted) == (1, 0, 1)


async def test_text_that_is_not_a_number_is_refused_in_place(progress):
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await typed(pilot, "abc")
        assert "'abc' is not a number" in screen_text(app)
        assert app.screen.query_one("#predict-input").value == "abc"   # left to be fixed
        assert app.screen.stepper.k == 0
    assert attempts(progress) == []


async def test_n_does_not_skip_the_prediction(progress):
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.stepper.k == 0
        assert "type your prediction, esc reveals" in app.notified
        assert app.screen.query_one("#predict-input").value == ""
    assert attempts(progress) == [] and reached(progress) == []


# -- what counts as right ----------------------------------------------------------------------

async def test_an_exact_lesson_takes_decimals_equal_to_the_fractions(progress):
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for text in ("-2.0", "-1.0", "1.0", "-1", "-0.5", "1.5", "-0.50", "-1/4", "1.75"):
            await typed(pilot, text)
        assert app.screen.stepper.k == 3
        assert app.screen.stepper.weights_at(3)[0] == w(3) == Fraction(7, 4)
    assert all(e.correct and e.try_ == 1 for e in attempts(progress))
    assert len(attempts(progress)) == 9


FLOAT_LESSON = """\
id: float-predict
kind: descent
title: a float lesson
objective: (w - 3)**2
params: {w: 0}
lr: 0.1
iterations: 5
predict: [weights]
predict_tol: "1/100"
"""


async def test_a_float_lesson_accepts_answers_within_predict_tol(progress, tmp_path):
    path = tmp_path / "float.yaml"
    path.write_text(FLOAT_LESSON)
    lesson = load(path)
    assert lesson.predict == ("weights",) and lesson.predict_tol == Fraction(1, 100)
    # w_(k+1) − 3 = (1 − 2α)(w_k − 3) = 0.8 (w_k − 3): w1 = 0.6, w2 = 1.08
    app = make_app(lesson)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await typed(pilot, "0.62")                  # 3.3 % off
        assert app.screen.stepper.k == 0 and "large" in said(app)
        await typed(pilot, "0.605")                 # 0.8 % off
        assert app.screen.stepper.k == 1
        await typed(pilot, str(3 - 3 * 0.8 ** 2))
        assert app.screen.stepper.k == 2
    assert [e.correct for e in attempts(progress)] == [False, True, True]


async def test_vector_answers_in_the_matrix_form(progress):
    reference = Stepper(resolve("matrix-form"))
    record = reference.step()
    app = make_app("matrix-form")     # no list of its own: weights
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Step 1: predict ŵ1 (3 numbers)" in screen_text(app) or \
            "(3 numbers)" in screen_text(app)
        await typed(pilot, "1 2")
        assert "Expected three numbers, got two" in said(app)
        answer = ", ".join(repr(float(v)) for v in record.weights)
        await typed(pilot, answer)
        assert app.screen.stepper.k == 1
        np.testing.assert_allclose(app.screen.stepper.weights_at(1), record.weights)
    assert [e.correct for e in attempts(progress)] == [False, True]


async def test_a_graph_lesson_predicts_the_value_then_the_grads(progress):
    app = make_app("backprop")                   # y = x**2 at x = 1: value 1, dy/dx = 2x = 2
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Predict the value of x**2 at x = 1" in screen_text(app)
        await typed(pilot, "1")
        assert app.screen.stage == 1
        n = len(app.screen.nodes)
        for _ in range(n - 1):
            await pilot.press("n")
        await pilot.pause()
        assert app.screen.stage == n
        assert "Predict the gradients ∂/∂x of x**2 at x = 1" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.stage == n
        await typed(pilot, "1")
        assert "half" in said(app)
        await typed(pilot, "2")
        assert app.screen.stage == n + 1
        assert "✓ grads = 2" in screen_text(app)
    got = attempts(progress)
    assert [(e.step, e.field, e.correct) for e in got] == [
        (1, "value", True), (n + 1, "grads", False), (n + 1, "grads", True)]
    assert reached(progress) == list(range(1, n + 2))


# -- progress: resume, the picker, the end of a lesson ------------------------------------------

async def test_reopening_a_lesson_offers_to_resume(progress):
    lesson = resolve("worked-example")
    ProgressLog().reached(lesson, 3)
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ResumeScreen)
        assert "resume at step 3? y/n" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.stepper.k == 3
        assert "Step 4: predict grad at w3" in screen_text(app)
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ResumeScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.stepper.k == 0
    assert reached(progress) == [3, 3]


async def test_the_picker_shows_each_lessons_progress(progress):
    log = ProgressLog()
    lesson = resolve("worked-example")
    log.reached(lesson, 4)
    log.attempt(lesson, 4, "weights", "15/8", True, try_=1)
    log.finished(resolve("backprop"), 5)
    app = record_notifications(GdtutorApp(builtin(), None, progress=ProgressLog()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "reached 4 of 20 · first try 1/1" in text
        assert "reached step 5 · finished ✓" in text


async def test_hidden_parts_show_once_their_step_is_reached(progress):
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab")          # out of the answer field: digits choose views
        await pilot.press("3")
        await pilot.pause()
        await pilot.pause()
        assert app.screen.view == "lesson"
        source = app.screen.query_one("#lesson-text").source
        assert "(hidden until step 4)" in source and "(hidden until step 7)" in source
        assert "15/8" not in source and "31/16" not in source
        for _ in range(12):           # down the text until the hidden part is on screen
            if "(hidden until step 4)" in screen_text(app):
                break
            await pilot.press("pagedown")
            await pilot.pause()
        assert "(hidden until step 4)" in screen_text(app)
        await pilot.press("g")
        await pilot.pause()
        await typed(pilot, "4")
        await pilot.pause()
        assert app.screen.stepper.k == 4
        source = app.screen.query_one("#lesson-text").source
        assert "(hidden until step 4)" not in source and "(hidden until step 7)" in source
        assert "| 3 | 7/4 | −1/4      | 15/8    |" in source and "31/16" not in source
    assert reached(progress) == [4]
    assert attempts(progress) == []      # a go-to reveals, it does not predict


def test_hide_reveals_keeps_everything_else():
    text = resolve("worked-example").text.en
    assert hide_reveals(text, 20) == "\n".join(
        line for line in text.split("\n") if "reveal" not in line.replace("revealed", ""))
    hidden = hide_reveals(text, 3)
    assert "| 3 | 7/4 | −1/4      | 15/8    |" in text
    assert "15/8" not in hidden and "31/16" not in hidden
    assert hidden.count("(hidden until step") == 2
    assert "## Where it is going" in hidden


async def test_outside_predict_mode_the_text_is_whole(progress):
    # the built-in lesson lists nothing to predict: it opens stepping
    stepper = Stepper(resolve("worked-example"))
    app = record_notifications(GdtutorApp(builtin(), stepper, predict=False,
                                          progress=ProgressLog()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.predictor.on is False
        lesson = resolve("worked-example")
        assert app.screen.predictor.markdown(lesson.text.en) == lesson.text.en
        assert not app.screen.query("#predict")
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.predictor.on and app.screen.query("#predict-input")
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.predictor.on is False
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.stepper.k == 1
    assert not progress.exists()         # progress is kept in predict mode only


async def test_the_end_of_a_lesson_sums_up_and_offers_the_next(progress):
    app = make_app("worked-example", overrides={"steps": 2})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for text in ("-2", "-1", "1", "-1", "-1/2", "2"):
            await typed(pilot, text)
        await pilot.press("escape")          # reveals w2 = 3/2 after a miss
        await pilot.pause()
        assert isinstance(app.screen, EndScreen)
        text = screen_text(app)
        assert "Lesson finished" in text
        assert "steps: 2" in text and "first try correct: 1 of 2" in text
        assert "revealed: 1" in text and "hints used: 0" in text
        assert "next lesson, Matrix form" in text or "next lesson" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.lesson.id == "matrix-form"
    events = read_events(progress)
    assert [e.step for e in events if e.event == "finished"] == [2]
    assert events[-1].event == "finished"


async def test_a_progress_file_that_cannot_be_written_is_said_once(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("GDTUTOR_PROGRESS", str(blocker / "progress.jsonl"))
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for text in ("-2", "-1", "1", "-1"):
            await typed(pilot, text)
        assert app.screen.stepper.k == 1
        notes = [m for m in app.notified if m.startswith("progress is not saved")]
        assert len(notes) == 1


# -- a real process -----------------------------------------------------------------------------

def _spawn(argv: list[str], env: dict) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return pid, fd


def _wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def asking_three(folder: Path) -> Path:
    """The worked example as a lesson file that asks for the document's three steps (its
    `predict` list turns predict mode on)."""
    path = folder / "worked-example.yaml"
    text = (ROOT / "lessons" / "worked-example.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("\ndtype: exact\n", "\ndtype: exact\npredict: [grad, step, weights]\n", 1),
                    encoding="utf-8")
    assert "predict:" in path.read_text(encoding="utf-8")
    return path


def test_kill_9_leaves_every_completed_event(tmp_path):
    path = tmp_path / "progress.jsonl"
    env = dict(os.environ, GDTUTOR_PROGRESS=str(path), TERM="xterm-256color",
               PYTHONPATH=str(ROOT), LC_ALL="C.UTF-8")
    env.pop("NO_COLOR", None)
    pid, fd = _spawn([sys.executable, "-m", "gdtutor", str(asking_three(tmp_path))], env)
    output = bytearray()
    stop = threading.Event()

    def drain() -> None:            # the tutor must never block writing its screen
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                output.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        _wait_for(lambda: b"predict" in output)
        answers = ["-2", "-1", "1", "-1", "-1/2", "3/2", "5"]
        for i, answer in enumerate(answers):
            os.write(fd, answer.encode() + b"\r")
            want = i + 1
            _wait_for(lambda: path.exists() and len(attempts(path)) >= want)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        stop.set()
        reader.join(2)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
    data = path.read_bytes()
    assert data.endswith(b"\n")
    bad = []
    events = read_events(path, bad.append)
    assert bad == []
    got = [(e.event, e.step, e.field, e.answer, e.correct) for e in events]
    assert got == [
        ("attempt", 1, "grad", "-2", True), ("attempt", 1, "step", "-1", True),
        ("attempt", 1, "weights", "1", True), ("reached", 1, None, None, False),
        ("attempt", 2, "grad", "-1", True), ("attempt", 2, "step", "-1/2", True),
        ("attempt", 2, "weights", "3/2", True), ("reached", 2, None, None, False),
        ("attempt", 3, "grad", "5", False)]


@pytest.mark.slow
@pytest.mark.skipif(subprocess.run(["which", "tmux"], capture_output=True).returncode != 0,
                    reason="tmux is not installed")
def test_predicting_the_worked_example_in_a_real_terminal(tmp_path):
    from test_tui_tmux import Terminal
    path = tmp_path / "progress.jsonl"
    command = (f"cd {ROOT} && GDTUTOR_PROGRESS={path} PYTHONPATH={ROOT} "
               f"{sys.executable} -m gdtutor {asking_three(tmp_path)}")
    term = Terminal(command)
    try:
        term.wait_for("Step 1: predict grad at w0")
        for k in range(4):
            grad = w(k) - 2
            for name, answer in (("grad", grad), ("α·grad", grad / 2), (f"w{k + 1}", w(k + 1))):
                term.tmux("send-keys", "-t", term.session, "-l", "--", str(answer))
                term.keys("Enter")
                term.wait_for(f"✓ {name} = {answer}")
        screen = term.wait_for("Step 5: predict grad at w4")
        assert f"w4 = w3 − α·grad = 7/4 − (-1/8) = 15/8" in screen
        assert [str(w(k)) for k in (1, 2, 3, 4)] == ["1", "3/2", "7/4", "15/8"]
    finally:
        term.tmux("kill-server")
    got = attempts(path)
    assert len(got) == 12 and all(e.correct and e.try_ == 1 for e in got)
    assert reached(path) == [1, 2, 3, 4]

async def test_a_lesson_listing_what_to_predict_opens_in_predict_mode(progress):
    app = make_app("worked-example", predict=False)    # no --predict: the list turns it on
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.predictor.on and app.screen.query("#predict-input")
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.stepper.k == 0       # n does not skip the prediction
