"""Analysis: eigenvalues and α_max against closed forms and numpy, the forecast against real
runs, the gradient check against torch, the guards, the sweep, and `gdtutor analyze`."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from gdtutor.analysis import (analyze, degree, gradient_check, run_losses, stability, sweep,
                              sweep_alphas, fate)
from gdtutor.expr import parse
from gdtutor.catalog import load, resolve, with_overrides

ROOT = Path(__file__).resolve().parent.parent


def lesson_file(tmp_path, text: str, name: str = "t.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load(path)


def linear_yaml(X, y, *, loss="half_mse", lr="0.01", dtype="float64", iterations=100) -> str:
    return (f"id: t\nkind: descent\ntitle: t\ndtype: {dtype}\n"
            f"data: {{X: {json.dumps(X)}, y: {json.dumps(y)}}}\n"
            f"loss: {loss}\nlr: \"{lr}\"\niterations: {iterations}\n")


# -- closed forms ----------------------------------------------------------------------------

def test_worked_example_is_exact_lambda_1_alpha_max_2_factor_one_half():
    # SSE = 14(w − 2)², ∇²SSE = 28, grad_scale 1/28: H = 1
    s = stability(resolve("worked-example"))
    assert s.quadratic and not s.local and s.exact
    assert s.eigenvalues == (F(1),) and type(s.eigenvalues[0]) is F
    assert s.alpha_max == F(2) and s.contraction == (F(1, 2),) and s.forecast == "converges"
    assert s.steps_to_1e3 == 10          # 2^-10 = 1/1024 <= 1/1000 < 2^-9


def test_grad_descent_eigenvalues_are_3_plus_minus_2_root_2():
    # H = XᵀX/m with X = [[1, 1], [3, 1]], m = 2: [[5, 2], [2, 1]], trace 6, det 1
    s = stability(resolve("grad-descent"))
    lo, hi = 3 - 2 * math.sqrt(2), 3 + 2 * math.sqrt(2)
    assert np.allclose(s.eigenvalues, [lo, hi], rtol=1e-9)
    assert np.allclose(np.asarray(s.hessian, float), [[5, 2], [2, 1]], rtol=1e-12)
    assert s.alpha_max == pytest.approx(2 / hi, rel=1e-9) and abs(s.alpha_max - 0.343) < 1e-3
    assert s.forecast == "converges"
    # the slow direction sets the pace: the smallest n with (1 − 0.01·λ_min)^n <= 1e-3
    n = math.ceil(math.log(1e-3) / math.log1p(-0.01 * lo))
    assert s.steps_to_1e3 == n == 4023
    assert (1 - 0.01 * lo) ** n <= 1e-3 < (1 - 0.01 * lo) ** (n - 1)


def test_half_mse_diverges_has_h_14_3_alpha_max_3_7_factor_minus_4_3():
    s = stability(resolve("half-mse-diverges"))
    assert s.eigenvalues == (F(14, 3),) and s.alpha_max == F(3, 7)
    assert s.factor == (F(-4, 3),) and s.forecast == "diverges" and s.steps_to_1e3 is None
    assert s.with_lr(F(2, 5)).factor == (F(-13, 15),)
    assert s.with_lr(F(2, 5)).forecast == "oscillates"


def test_step_too_large_is_the_boundary_it_oscillates_for_ever():
    s = stability(resolve("step-too-large"))   # α = 2 = α_max: factor exactly −1
    assert s.factor == (F(-1),) and s.forecast == "oscillates" and s.steps_to_1e3 is None
    assert s.with_lr(0).forecast == "converges" and s.with_lr(0).steps_to_1e3 is None
    assert s.with_lr(1).contraction == (F(0),) and s.with_lr(1).steps_to_1e3 == 1


def test_diagonal_quadratic_objective(tmp_path):
    # (a − 1)² + 3(b + 2)²: ∇²L = diag(2, 6) exactly
    lesson = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\ndtype: exact\n"
                         "objective: (a-1)**2 + 3*(b+2)**2\nparams: {a: 0, b: 0}\n"
                         "lr: \"1/10\"\niterations: 10\n")
    s = stability(lesson)
    assert s.quadratic and s.eigenvalues == (F(2), F(6)) and s.alpha_max == F(1, 3)
    assert s.contraction == (F(4, 5), F(2, 5)) and s.forecast == "converges"
    assert s.steps_to_1e3 == 31          # (4/5)^31 ≈ 0.00099 <= 1e-3 < (4/5)^30
    vectors = np.abs(s.eigenvectors)
    assert np.allclose(vectors, np.eye(2))
    f64 = stability(with_overrides(lesson, dtype="float64"))
    assert np.allclose(f64.eigenvalues, [2, 6], rtol=1e-12) and not f64.local


@pytest.mark.parametrize("seed", range(6))
def test_eigenvalues_match_numpy_eigvalsh_on_random_spd(tmp_path, seed):
    rng = np.random.default_rng(seed)
    m, d = int(rng.integers(4, 9)), int(rng.integers(2, 5))
    X = np.round(rng.normal(size=(m, d)), 3)
    y = np.round(rng.normal(size=m), 3)
    loss = ("sse", "half_mse")[seed % 2]
    lesson = lesson_file(tmp_path, linear_yaml(X.tolist(), y.tolist(), loss=loss))
    H = X.T @ X * (2 if loss == "sse" else 1 / m)
    want = np.linalg.eigvalsh(H)
    s = stability(lesson)
    assert np.allclose(s.eigenvalues, want, rtol=1e-9, atol=1e-12)
    assert s.alpha_max == pytest.approx(2 / want[-1], rel=1e-9)


def test_exact_eigenvalues_are_fractions_only_where_rational(tmp_path):
    # X diagonal: H = XᵀX/m = diag(1, 4, 9)/3, all rational; then a 3×3 case whose
    # eigenvalues are irrational: those stay floats, and match eigvalsh
    lesson = lesson_file(tmp_path, linear_yaml([[1, 0, 0], [0, 2, 0], [0, 0, 3]], [1, 1, 1],
                                               dtype="exact"))
    s = stability(lesson)
    assert s.eigenvalues == (F(1, 3), F(4, 3), F(3)) and s.alpha_max == F(2, 3)
    X = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 2], [2, 1, 1]])
    lesson = lesson_file(tmp_path, linear_yaml(X.tolist(), [1, 2, 3, 4], dtype="exact"), "u.yaml")
    s = stability(lesson)
    want = np.linalg.eigvalsh(X.T @ X / 4)
    assert np.allclose([float(v) for v in s.eigenvalues], want, rtol=1e-12)
    for v in s.eigenvalues:        # a Fraction is claimed only when H − λI is singular
        if isinstance(v, F):
            M = np.array(s.hessian, dtype=object) - v * np.eye(3, dtype=object)
            assert abs(np.linalg.det(M.astype(float))) < 1e-9


# -- the forecast against real runs ----------------------------------------------------------

@pytest.mark.parametrize("name", ["grad-descent", "matrix-form", "worked-example"])
def test_just_under_alpha_max_converges_and_just_over_diverges(name):
    lesson = resolve(name)
    if lesson.dtype == "exact":
        lesson = with_overrides(lesson, dtype="float64")
    amax = F(stability(lesson).alpha_max)
    assert stability(lesson, lr=amax * F(99, 100)).forecast in ("converges", "oscillates")
    assert stability(lesson, lr=amax * F(101, 100)).forecast == "diverges"
    under, d_under, moved = run_losses(lesson, amax * F(99, 100), 4000)
    over, d_over, _ = run_losses(lesson, amax * F(101, 100), 4000)
    assert d_under is None and under[-1] < under[0]
    assert fate(under, d_under, moved, lesson.dtype)[0] == "converged"
    assert d_over is not None or over[-1] > 1e6 * over[0]
    assert fate(over, d_over, 0)[0] == "diverged"


def test_forecast_steps_match_a_real_run_on_a_diagonal_quadratic(tmp_path):
    # one direction, error e_k = (1 − αλ)^k e_0 exactly: |e| shrinks 1000× at steps_to_1e-3
    lesson = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\nobjective: 2*(w-1)**2\n"
                         "params: {w: 0}\nlr: 0.05\niterations: 200\n")
    s = stability(lesson)            # λ = 4, factor 0.8
    from gdtutor.stepper import Stepper
    st = Stepper(lesson)
    st.run()
    err = np.abs(st.weights_history()[:, 0] - 1)
    first = int(np.argmax(err <= 1e-3 * err[0] * (1 + 1e-12)))
    assert s.steps_to_1e3 == first == 31


# -- gradient check --------------------------------------------------------------------------

def _torch_grad(lesson, w, objective):
    torch = pytest.importorskip("torch")
    X = torch.tensor(np.array(lesson.linear.X, dtype=object).astype(float)) if lesson.linear else None
    y = torch.tensor(np.array(lesson.linear.y, dtype=object).astype(float)) if lesson.linear else None
    wt = torch.tensor(np.asarray(w, float), dtype=torch.float64, requires_grad=True)
    out = objective(torch, wt, X, y)
    out.backward()
    return wt.grad.numpy() * float(lesson.grad_scale)


@pytest.mark.parametrize("name", ["matrix-form", "grad-descent", "divergence"])
def test_gradient_check_agrees_with_torch_on_linear_lessons(name):
    lesson = resolve(name)
    m = len(lesson.linear.y)

    def objective(torch, w, X, y):
        sse = ((X @ w - y) ** 2).sum()
        return sse / (2 * m) if lesson.linear.loss == "half_mse" else sse
    w = [0.3, -0.2, 0.1][:len(lesson.linear.X[0])]
    g = gradient_check(lesson, w)
    want = _torch_grad(lesson, w, objective)
    rel = 1e-5 if lesson.dtype == "float32" else 1e-12
    assert np.allclose(g.gradient, want, rtol=rel, atol=rel)
    assert np.allclose(g.formula, want, rtol=1e-12, atol=1e-12)
    fd_rel = 1e-3 if lesson.dtype == "float32" else 1e-7
    assert np.allclose(g.finite_difference, want, rtol=fd_rel, atol=fd_rel)
    assert g.max_rel_error < (1e-3 if lesson.dtype == "float32" else 1e-7)


def test_gradient_check_agrees_with_torch_on_a_non_quadratic_objective(tmp_path):
    lesson = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\n"
                         "objective: log(1 + exp(a - 2*b)) + exp(b) * a**2\n"
                         "params: {a: 0.5, b: -0.25}\nlr: 0.1\niterations: 10\n")

    def objective(torch, w, X, y):
        a, b = w[0], w[1]
        return torch.log(1 + torch.exp(a - 2 * b)) + torch.exp(b) * a ** 2
    g = gradient_check(lesson)
    want = _torch_grad(lesson, [0.5, -0.25], objective)
    assert np.allclose(g.gradient, want, rtol=1e-12) and g.formula is None
    assert np.allclose(g.finite_difference, want, rtol=1e-7)
    s = stability(lesson)
    assert s.local and not s.quadratic and s.degree is None
    assert any("local" in n for n in s.notes)


def test_exact_gradient_check_is_exact():
    g = gradient_check(resolve("half-mse-diverges"))
    assert list(g.gradient) == [F(-28, 3)] == list(g.finite_difference) == list(g.formula)
    assert g.max_rel_error == 0 and g.exact_fd


def test_float32_flags_finite_differences_lost_in_rounding(tmp_path):
    # near the minimum of a loss far from 0 the gradient is tiny and ε·|L|/h is not
    lesson = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\ndtype: float32\n"
                         "objective: (w - 1)**2 + 1000\nparams: {w: 0}\nlr: 0.1\niterations: 5\n")
    g = gradient_check(lesson, [1.00001])
    assert not g.trusted[0] and any("rounding" in n for n in g.notes)
    assert g.noise[0] == pytest.approx(np.finfo(np.float32).eps * 1000 / 1e-3, rel=0.01)
    assert not gradient_check(lesson, [0.0]).trusted[0]   # 1.2e-7·1001/1e-3 = 0.12 > 1% of 2
    assert gradient_check(lesson, [-100.0]).trusted[0]    # 1.2e-7·11201/0.1 = 0.013 < 1% of 202


# -- the degree of an expression ------------------------------------------------------------

@pytest.mark.parametrize("source, want", [
    ("w", 1), ("3", 0), ("w*w + w", 2), ("(w - 1)**2 / 4", 2), ("w**3", 3), ("X @ w", 1),
    ("sum((X @ w - y)**2) / (2 * m)", 2), ("exp(w)", None), ("1 / w", None), ("w**0.5", None),
    ("exp(X)", 0), ("-T(w)", 1), ("mean(w * v)", 2), ("2**m * w", 1), ("w**-1", None),
])
def test_degree(source, want):
    assert degree(parse(source, ["w", "v", "X", "y", "m"]), {"w", "v"}) == want


# -- guards ----------------------------------------------------------------------------------

def test_more_than_2000_weights_gets_a_reason(tmp_path):
    zeros = ", ".join("0" for _ in range(2001))
    lesson = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\nobjective: sum(v**2)\n"
                         f"params: {{v: [{zeros}]}}\nlr: 0.1\niterations: 5\n")
    t = time.perf_counter()
    out = analyze(lesson)
    assert "2,000" in out["reason"] and out["eigenvalues"] == [] and out["forecast"] is None
    assert len(out["gradient_check"]["gradient"]) == 2001
    print(f"2001 weights analysed in {time.perf_counter() - t:.2f} s")


def test_non_finite_hessian_gets_a_reason(tmp_path):
    lesson = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\nobjective: sqrt(w) + w\n"
                         "params: {w: 0}\nlr: 0.1\niterations: 5\n")
    s = stability(lesson)
    assert s.reason and "non-finite" in s.reason and s.forecast is None
    out = analyze(lesson)
    assert out["reason"] == s.reason and json.dumps(out)


def test_singular_hessian_is_said(tmp_path):
    # (a + b − 1)²: H = [[2, 2], [2, 2]], eigenvalues 0 and 4
    lesson = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\ndtype: exact\n"
                         "objective: (a + b - 1)**2\nparams: {a: 0, b: 0}\nlr: \"1/4\"\n"
                         "iterations: 5\n")
    s = stability(lesson)
    assert s.eigenvalues == (F(0), F(4)) and s.singular and s.forecast == "converges"
    assert s.steps_to_1e3 == 1 and any("singular" in n for n in s.notes)
    # a loss with no minimum along its flat direction: the weights drift
    drift = lesson_file(tmp_path, "id: t\nkind: descent\ntitle: t\nobjective: (a - 1)**2 + b\n"
                        "params: {a: 0, b: 0}\nlr: 0.1\niterations: 5\n", "d.yaml")
    assert stability(drift).forecast == "diverges"


# -- the sweep -------------------------------------------------------------------------------

def test_sweep_fates_on_grad_descent():
    lesson = with_overrides(resolve("grad-descent"), dtype="float64")
    amax = stability(lesson).alpha_max
    labels = [label for label, _ in sweep_alphas(lesson.lr, amax)]
    assert labels == ["α/4", "α/2", "α", "2α", "0.99·α_max", "1.01·α_max"]
    t = time.perf_counter()
    runs = sweep(lesson, steps=10000)
    took = time.perf_counter() - t
    fates = {r.label: (r.fate, r.at) for r in runs}
    print(f"sweep of 6 runs × 10000 iterations: {took:.3f} s; {fates}")
    assert fates["1.01·α_max"][0] == "diverged"
    assert fates["0.99·α_max"][0] == "converged"
    assert fates["α"][0] == "converged" and fates["2α"][0] == "converged"
    assert fates["α/4"][0] == "converging"            # 10000 steps at α = 0.0025 are not enough
    assert all(r.losses.dtype == np.float64 for r in runs)
    assert all(len(r.losses) == 10001 for r in runs if r.fate != "diverged")


def test_sweep_of_a_bounce_is_oscillating():
    runs = sweep(resolve("step-too-large"), alphas=[2, F(1, 2), 3], steps=200)
    assert [r.fate for r in runs] == ["oscillating", "converged", "diverged"]
    assert runs[1].at is not None and runs[2].at is not None


# -- gdtutor analyze -------------------------------------------------------------------------

def _cli(*args):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "gdtutor", "analyze", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.slow
def test_analyze_json_and_exit_codes():
    r = _cli("worked-example", "--format", "json")
    assert r.returncode == 0 and r.stderr == ""
    out = json.loads(r.stdout)
    for key in ("lesson", "quadratic", "eigenvalues", "alpha", "alpha_max", "contraction",
                "forecast", "steps_to_1e-3", "gradient_check"):
        assert key in out
    assert set(out["gradient_check"]) >= {"at", "gradient", "finite_difference", "formula",
                                          "max_rel_error"}
    assert (out["eigenvalues"], out["alpha"], out["alpha_max"], out["contraction"]) == \
        (["1"], "1/2", "2", ["1/2"])
    assert out["gradient_check"]["gradient"] == ["-2"] and out["steps_to_1e-3"] == 10
    r = _cli("grad-descent", "--format", "json", "--lr", "0.5")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["forecast"] == "diverges" and out["alpha"] == 0.5
    r = _cli("chain-rule")
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1
    assert r.stderr.startswith("gdtutor: ") and "descent" in r.stderr
    r = _cli("no-such-lesson")
    assert r.returncode == 2 and r.stderr.startswith("gdtutor: ")
    r = _cli("worked-example", "--format", "xml")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = _cli("half-mse-diverges", "--lang", "zh")
    assert r.returncode == 0 and "预测：发散" in r.stdout and "3/7" in r.stdout
