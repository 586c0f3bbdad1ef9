"""Keys e (stability), s (α sweep), c (gradient check) and view 4 (picture) at 80×24: the
screens show what gdtutor.analysis computes, checked against closed forms."""
from __future__ import annotations

import asyncio
import math
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from gdtutor.analysis import stability, sweep, sweep_alphas
from gdtutor.catalog import builtin, resolve
from gdtutor.numbers import fmt
from gdtutor.tui.gradcheck import GradCheckScreen
from gdtutor.tui.picture import ContourPicture, DataPicture, NoPicture
from gdtutor.tui.stability import StabilityScreen, contraction_bar
from gdtutor.tui.sweep import SweepScreen, fate_text
from screen_reader import screen_text
from test_tui import make_app, press

ROOT = Path(__file__).resolve().parent.parent
SIZE = (80, 24)
BRAILLE = re.compile("[\u2800-\u28ff]")
DESCENT = [lesson.id for lesson in builtin() if lesson.kind == "descent"]


async def until(pilot, test, timeout: float = 20.0):
    """Poll `test()` between pauses until it is true (or fail at the deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        value = test()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


# -- e: the stability panel ----------------------------------------------------------------

async def test_stability_panel_on_the_worked_example_is_exact():
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "e")
        assert isinstance(app.screen, StabilityScreen)
        text = screen_text(app)
        # SSE = 14(w − 2)², ∇²SSE = 28, grad_scale 1/28: H = 1, α_max = 2, 1 − αλ = 1/2
        assert "Stability at α = 1/2" in text
        assert re.search(r"^\s+1\s+1\s+1/2\s", text, re.M), text   # direction, λ, 1 − αλ
        assert "α_max = 2/λ_max = 2\n" in text
        assert "forecast: converges" in text
        # 2⁻¹⁰ ≤ 1/1000 < 2⁻⁹
        assert "shrinks 1000× in 10 steps" in text
        await press(pilot, "escape")
        assert not isinstance(app.screen, StabilityScreen)


async def test_stability_panel_on_grad_descent_shows_the_analysis_eigenvalues():
    app = make_app("grad-descent")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "e")
        text = screen_text(app)
    s = stability(resolve("grad-descent"))
    # H = XᵀX/m = [[5, 2], [2, 1]]: λ = 3 ∓ 2√2
    assert math.isclose(float(s.eigenvalues[0]), 3 - 2 * math.sqrt(2), rel_tol=1e-9)
    assert math.isclose(float(s.eigenvalues[1]), 3 + 2 * math.sqrt(2), rel_tol=1e-9)
    for lam in s.eigenvalues:
        assert fmt(float(lam), "float32") in text, text
    assert fmt(2 / (3 + 2 * math.sqrt(2)), "float32") in text            # α_max ≈ 0.343
    # at α = 0.01 the slow direction shrinks by 0.99828 a step: n = ⌈ln 1000 / −ln(1 − αλ)⌉
    n = math.ceil(math.log(1000) / -math.log1p(-0.01 * (3 - 2 * math.sqrt(2))))
    assert f"shrinks 1000× in {n} steps" in text and n == 4023


async def test_plus_in_the_panel_doubles_alpha_and_the_factor_follows():
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "e", "plus")
        assert isinstance(app.screen, StabilityScreen)
        assert app.screen.lesson_screen.stepper.lr == 1
        text = screen_text(app)
        # α = 1, λ = 1: 1 − αλ = 0, the error is gone in one step
        assert "Stability at α = 1 " in text
        assert re.search(r"^\s+1\s+1\s+0\s", text, re.M), text
        await press(pilot, "plus")       # α = 2 = α_max: it bounces for ever
        text = screen_text(app)
        assert re.search(r"^\s+1\s+1\s+-1\s", text, re.M), text
        assert "forecast: oscillates" in text
        await press(pilot, "minus", "minus", "minus")     # back to 1/4: factor 3/4
        text = screen_text(app)
        assert re.search(r"^\s+1\s+1\s+3/4\s", text, re.M), text
        # n steps in the panel move the lesson under it
        await press(pilot, "n", "n")
        assert app.screen.lesson_screen.stepper.k == 2


def test_contraction_bars_fit_and_are_ascii_with_ascii():
    for c in (0, 0.5, 1, 1.5, 2, 7, float("inf")):
        bar = contraction_bar(c, ascii_only=True).plain
        assert bar.isascii() and len(bar) == 31
        assert len(contraction_bar(c, ascii_only=False).plain) == 31
    assert contraction_bar(0.5, True).plain.count("#") == 8   # 0.5 of the 15 cells up to 1
    assert contraction_bar(7, True).plain.endswith(">")


def app_for(tmp_path, text: str):
    from gdtutor.catalog import load
    from gdtutor.stepper import Stepper
    from gdtutor.tui.app import GdtutorApp
    from screen_reader import record_notifications
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    lesson = load(path)
    return lesson, record_notifications(GdtutorApp(builtin(), Stepper(lesson)))


async def test_panel_says_why_when_the_hessian_is_not_finite(tmp_path):
    lesson, app = app_for(tmp_path, "id: t\nkind: descent\ntitle: t\nobjective: sqrt(w) + w\n"
                          "params: {w: 0}\nlr: 0.1\niterations: 5\n")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "e")
        text = screen_text(app)
    reason = stability(lesson).reason
    assert reason is not None and "non-finite" in reason
    assert "no eigen-analysis: the Hessian has 1 non-finite" in " ".join(text.split())
    assert "H local, at w0" in text


async def test_2001_weights_give_a_reason_and_the_check_runs_off_the_ui_thread(tmp_path):
    zeros = ", ".join("1" for _ in range(2001))
    lesson, app = app_for(tmp_path, "id: t\nkind: descent\ntitle: t\nobjective: sum(v**2)\n"
                          f"params: {{v: [{zeros}]}}\nlr: 0.1\niterations: 5\n")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "e")
        text = await until(pilot, lambda: "no eigen-analysis" in screen_text(app)
                           and screen_text(app))
        assert "2,000" in text
        await press(pilot, "escape", "c")
        await until(pilot, lambda: "max relative error" in screen_text(app), timeout=60)
        # d/dv Σv² = 2v = 2 at v = 1, for every weight
        assert np.allclose(app.screen.check.gradient, 2.0)


# -- s: the α sweep ------------------------------------------------------------------------

async def test_sweep_shows_six_runs_with_their_fates_and_enter_sets_alpha():
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "n", "n", "s")
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        await until(pilot, lambda: screen.runs is not None and len(screen.query(".sweep-plot")) == 6)
        await pilot.pause()
        text = screen_text(app)
        lesson = resolve("worked-example")
        expected = sweep(lesson, alphas=sweep_alphas(Fraction(1, 2), Fraction(2)))
        assert [r.lr for r in screen.runs] == [Fraction(1, 8), Fraction(1, 4), Fraction(1, 2),
                                               Fraction(1), Fraction(99, 50), Fraction(101, 50)]
        for run, want in zip(screen.runs, expected):
            assert (run.fate, run.at) == (want.fate, want.at)
            assert fate_text(run) in text, text
        assert "1 α/4 = 1/8" in text and "6 1.01·α_max = 101/50" in text
        # at 1.01·α_max the error grows by |1 − αλ| = 1.02 a step: L_k = L_0·1.02^(2k)
        grown = screen.runs[5].losses
        assert math.isclose(grown[20] / grown[0], 1.02 ** 40, rel_tol=1e-9)
        await press(pilot, "1", "down")         # α/2 = 1/4
        await press(pilot, "enter")
        assert not isinstance(app.screen, SweepScreen)
        stepper = app.screen.stepper
        assert stepper.lr == Fraction(1, 4) and stepper.k == 2
        assert stepper.lr_changes() == [(0, Fraction(1, 2)), (2, Fraction(1, 4))]
        assert "α = 1/4" in screen_text(app).splitlines()[0]
        await press(pilot, "n")                   # w3 = w2 − (1/4)(w2 − 2) = 3/2 + 1/8
        assert stepper.weights_at(3)[0] == Fraction(13, 8)


async def test_escape_cancels_a_sweep_in_progress():
    app = make_app("grad-descent")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "s", "escape")
        assert not isinstance(app.screen, SweepScreen)
        await press(pilot, "n")
        assert app.screen.stepper.k == 1


def test_batched_sweep_gives_the_steppers_losses_and_fates():
    """analysis.linear_batch runs all α at once; each run is a fresh Stepper's (run_losses) to
    1e-12 relative. Near a zero minimum the residual Xw − y is itself rounding, and
    L = |Xw − y|² differs by about 2√L·δ: the bound adds 1e-13·√(L·L_0) for that."""
    from gdtutor.analysis import batchable, fate, linear_batch, run_losses
    from gdtutor.catalog import with_overrides
    checked = 0
    for lesson in builtin():
        if lesson.kind != "descent":
            continue
        lesson = with_overrides(lesson, dtype="float64")
        assert batchable(lesson), lesson.id
        alphas = sweep_alphas(lesson.lr, stability(lesson).alpha_max)
        fast = linear_batch(lesson, [a for _, a in alphas], 3000)
        for (label, a), (lf, df, mf) in zip(alphas, fast):
            ls, ds, ms = run_losses(lesson, a, 3000)
            assert lf.shape == ls.shape and df == ds, (lesson.id, label)
            ok = np.isfinite(ls)
            assert np.array_equal(ok, np.isfinite(lf))
            bound = 1e-12 * np.abs(ls[ok]) + 1e-13 * np.sqrt(np.abs(ls[ok])) * np.sqrt(abs(ls[0]))
            assert (np.abs(lf[ok] - ls[ok]) <= bound).all(), (lesson.id, label)
            assert abs(mf - ms) <= 1e-9 * ms + 1e-12
            assert fate(lf, df, mf) == fate(ls, ds, ms), (lesson.id, label)
            checked += 1
    assert checked == 36
    # float32, torch, or an objective that is not the linear sugar: the Stepper runs them
    assert not batchable(resolve("grad-descent"))          # float32
    assert not batchable(resolve("worked-example"))        # exact (sweep runs it in float64)


# -- c: the gradient check -----------------------------------------------------------------

async def test_gradient_check_on_the_worked_example_is_exact():
    app = make_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "c")
        assert isinstance(app.screen, GradCheckScreen)
        text = screen_text(app)
        check = app.screen.check
        # at w0 = 0: (1/28)·2Xᵀ(Xw − y) = (1/28)·2·(−1·2 − 2·4 − 3·6) = −2
        assert list(check.gradient) == [Fraction(-2)]
        assert list(check.finite_difference) == [Fraction(-2)]
        assert list(check.formula) == [Fraction(-2)]
        row = next(line for line in text.splitlines() if line.strip().startswith("w "))
        assert row.split() == ["w", "-2", "-2", "-2", "0", "/", "0"], row
        assert "max relative error: 0" in text
        await press(pilot, "n")               # it follows the lesson: at w1 = 1 the gradient is −1
        assert list(app.screen.check.gradient) == [Fraction(-1)]
        assert "Gradient check at w1" in screen_text(app)


async def test_gradient_check_in_float32_marks_rounding():
    app = make_app("grad-descent")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "c")
        check = app.screen.check
        text = screen_text(app)
    X = np.array([[1.0, 1.0], [3.0, 1.0]])
    y = np.array([2.0, 4.0])
    w0 = np.array([0.0, 0.0])
    closed = X.T @ (X @ w0 - y) / 2
    assert np.allclose(check.formula, closed, rtol=1e-12)
    assert np.allclose(check.gradient, closed, rtol=1e-6)
    assert np.allclose(check.finite_difference, closed, rtol=1e-3)
    assert "(1/m)Xᵀ(Xw − y)" in text and "max relative error" in text


# -- view 4: the picture -------------------------------------------------------------------

@pytest.mark.parametrize("ascii_plot", [False, True])
@pytest.mark.parametrize("lesson_id", DESCENT)
async def test_picture_draws_on_every_descent_lesson(lesson_id, ascii_plot):
    app = make_app(lesson_id, ascii_plot=ascii_plot)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4", "n", "n")
        picture = await until(pilot, lambda: app.screen.query("#picture"))
        picture = picture.first()
        await pilot.pause()
        text = screen_text(app)
        assert "Traceback" not in text and "(no plot:" not in text
        lesson = resolve(lesson_id)
        if isinstance(picture, NoPicture):
            assert len(lesson.params) and lesson_id == "matrix-form"
            assert "no picture for 3 weights" in text
            return
        drawing = picture.render().plain
        assert "(no plot:" not in drawing and "w2" in drawing, drawing
        if ascii_plot:
            assert not BRAILLE.search(text)
        if isinstance(picture, DataPicture):
            assert lesson_id in ("worked-example", "step-too-large", "divergence",
                                 "half-mse-diverges")
        else:
            assert isinstance(picture, ContourPicture) and lesson_id == "grad-descent"


async def test_contour_minimum_is_the_least_squares_solution():
    app = make_app("grad-descent")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4")
        picture = (await until(pilot, lambda: app.screen.query("#picture"))).first()
        # Xw = y has the solution (1, 1); the grid's loss there is 0 (the quadratic form)
        assert np.allclose(picture.minimum, [1.0, 1.0], atol=1e-6)
        xs, ys, Z = picture.loss_grid(9, 9)
        X = np.array([[1.0, 1.0], [3.0, 1.0]])
        y = np.array([2.0, 4.0])
        direct = np.array([[np.sum((X @ [a, b] - y) ** 2) / 4 for a in xs] for b in ys])
        assert np.allclose(Z, direct, rtol=1e-9, atol=1e-12)


# -- a real terminal -----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_e_s_c_in_tmux_at_80x24():
    socket = f"gdtutor-alpha-{uuid.uuid4().hex[:10]}"
    command = (f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))} "
               f"{shlex.quote(sys.executable)} -m gdtutor worked-example; sleep 60")

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=20).stdout

    def wait_for(text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", "t")
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{screen}")

    tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", command)
    try:
        tmux("set-option", "-t", "t", "status", "off")
        wait_for("q quit")
        tmux("send-keys", "-t", "t", "e")
        screen = wait_for("α_max = 2/λ_max = 2")
        assert "shrinks 1000× in 10 steps" in screen
        # esc alone (a key sent with it would read as alt+key), then the next key
        tmux("send-keys", "-t", "t", "Escape")
        wait_for("q quit")
        tmux("send-keys", "-t", "t", "s")
        screen = wait_for("oscillating")
        assert "6 1.01·α_max = 101/50" in screen
        tmux("send-keys", "-t", "t", "Escape")
        wait_for("q quit")
        tmux("send-keys", "-t", "t", "c")
        screen = wait_for("max relative error: 0")
        assert "Traceback" not in screen
    finally:
        tmux("kill-server")
