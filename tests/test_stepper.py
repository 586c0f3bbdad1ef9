"""The stepper against the document's figures, closed forms and exact fractions."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from gdtutor.expr import parse
from gdtutor.model import Lesson, Linear
from gdtutor.stepper import Stepper

LINEAR_NAMES = ("X", "y", "w", "m")


def linear(X, y, loss="sse", **kw) -> Lesson:
    """A linear lesson built directly (the loader's sugar is tested with the loader)."""
    source = "sum((X @ w - y)**2)" + (" / (2 * m)" if loss == "half_mse" else "")
    X = tuple(tuple(F(v) for v in row) for row in X)
    y = tuple(F(v) for v in y)
    d = len(X[0])
    fields = dict(id="t", title=None, kind="descent", expression=parse(source, LINEAR_NAMES),
                  params=(("w", (F(0),) * d),),
                  constants=(("X", X), ("y", y), ("m", F(len(y)))),
                  linear=Linear(X=X, y=y, bias=False, loss=loss))
    fields.update(kw)
    return Lesson(**fields)


WORKED = linear([[1], [2], [3]], [2, 4, 6], dtype="exact", lr=F(1, 2), grad_scale=F(1, 28),
                iterations=40)


def test_worked_example_follows_the_closed_form_exactly():
    s = Stepper(WORKED)
    s.run()
    for n in range(0, 41):
        w = s.weights_at(n)[0]
        assert isinstance(w, F)
        if n >= 1:  # the document: w_n = 2 − 1/2^(n−1)
            assert w == 2 - F(1, 2 ** (n - 1))
        assert s.loss_at(n) == 14 * (w - 2) ** 2          # SSE = 14(w − 2)²
        assert s.grad_at(n)[0] == w - 2                    # the effective gradient, 1/28 of 28(w−2)


def test_worked_example_first_iterations_as_the_document_writes_them():
    s = Stepper(WORKED)
    expect = [(-2, 1), (-1, F(3, 2)), (F(-1, 2), F(7, 4)), (F(-1, 4), F(15, 8))]
    for k, (grad, w) in enumerate(expect, start=1):
        r = s.step()
        assert r.k == k and r.grad[0] == grad and r.step_size[0] == F(1, 2) * grad
        assert r.weights[0] == w
        assert r.weights[0] == r.weights_before[0] - r.step_size[0]
    assert s.fmt_vec(s.record(4).weights) == "15/8"
    assert s.fmt_vec(s.record(3).step_size) == "-1/4"


@pytest.mark.parametrize("dtype, rel", [("float64", 1e-15), ("float32", 1e-6)])
def test_float_worked_example_matches_the_fractions(dtype, rel):
    s = Stepper(WORKED._replace(dtype=dtype))
    s.run()
    for n in range(1, 20):
        assert s.weights_at(n).dtype == np.dtype(dtype)
        assert abs(float(s.weights_at(n)[0]) - (2 - 2.0 ** -(n - 1))) <= rel * 2


def torch_gradDescent(numIt: int):
    """The document's own program, verbatim in its arithmetic."""
    torch = pytest.importorskip("torch")
    X = torch.tensor([[1., 1], [3, 1]])
    y = torch.tensor([2., 4]).reshape(2, 1)
    eps = torch.tensor(0.01)
    weights = torch.zeros(2, 1)
    for _ in range(numIt):
        grad = torch.mm(X.t(), (torch.mm(X, weights) - y)) / 2
        weights = weights - eps * grad
    return weights.reshape(-1).numpy()


DOC = linear([[1, 1], [3, 1]], [2, 4], loss="half_mse", dtype="float32", lr=F(1, 100),
             iterations=10000)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_the_documents_gradDescent(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    s = Stepper(DOC._replace(backend=backend))
    s.goto(1000)
    w1000 = s.weights_at(1000)
    assert np.allclose(w1000, [1.0372, 0.9102], atol=5e-5)          # as printed
    assert np.allclose(w1000, torch_gradDescent(1000), rtol=1e-5, atol=0)
    s.run()
    w = s.weights_at(10000)
    assert np.allclose(w, [1, 1], atol=1e-4)
    X = np.array([[1, 1], [3, 1]], np.float32)
    r = X @ w - np.array([2, 4], np.float32)
    assert abs(float(r @ r) - 2.8518e-10) < 5e-14                      # the document's SSE


def test_matrix_form_converges_to_least_squares():
    rng = np.random.default_rng(7)
    X = np.round(rng.normal(size=(6, 2)), 2)
    Xb = np.hstack([X, np.ones((6, 1))])
    y = np.round(Xb @ [1.5, -2.0, 0.5] + rng.normal(scale=0.1, size=6), 2)
    rows = [[F(repr(float(v))) for v in row] for row in Xb]
    lesson = linear(rows, [F(repr(float(v))) for v in y], loss="half_mse", dtype="float64", lr=F(1, 2),
                    iterations=3000)
    s = Stepper(lesson)
    s.run()
    want = np.linalg.lstsq(Xb, y, rcond=None)[0]
    assert np.allclose(s.weights_at(3000), want, atol=1e-9)
    # the gradient the engine computes is the document's (1/m)·Xᵀ(Xw − y)
    w = s.weights_at(5)
    assert np.allclose(s.grad_at(5), Xb.T @ (Xb @ w - y) / 6, rtol=1e-12)


def test_step_too_large_bounces_and_larger_diverges():
    s = Stepper(WORKED._replace(lr=F(2), iterations=6))
    s.run()
    assert [s.weights_at(k)[0] for k in range(7)] == [0, 4, 0, 4, 0, 4, 0]
    s = Stepper(WORKED._replace(lr=F(3), dtype="float64", iterations=2000))
    s.run()
    # |w − 2| doubles each step: 14·(2·2^k)² overflows float64 once 56·4^k > max float
    k = s.diverged_at
    assert k is not None and np.isinf(s.loss_at(k)) and np.isfinite(s.loss_at(k - 1))
    assert 56 * 4.0 ** (k - 1) < np.finfo(np.float64).max <= 56 * 4.0 ** k * 1.0001
    assert s.computed == k and s.step() is None and s.at_end


def test_back_goto_and_changes_keep_the_history_before_them():
    s = Stepper(WORKED)
    for _ in range(3):
        s.step()
    assert s.back() and s.k == 2
    assert s.step().weights[0] == F(7, 4)            # recomputed or not, the same record
    s.goto(2)
    s.set_lr(F(1))                                   # from w_2 on, α = 1: one step lands on 2
    assert s.record(2).weights[0] == F(3, 2) and s.record(2).lr == F(1, 2)
    r = s.step()
    assert r.lr == 1 and r.weights[0] == 2
    s.reset()
    assert s.k == 0 and s.lr == F(1, 2) and s.step().weights[0] == 1
    assert s.goto(10 ** 9) == 40


def test_switching_backend_mid_run_gives_the_same_numbers():
    pytest.importorskip("torch")
    a = Stepper(DOC._replace(iterations=200))
    a.run()
    b = Stepper(DOC._replace(iterations=200))
    b.goto(100)
    b.set_backend("torch")
    b.run()
    assert b.record(100).backend == "numpy" and b.record(101).backend == "torch"
    assert np.allclose(a.weights_at(200), b.weights_at(200), rtol=1e-5, atol=0)


def test_goto_reports_progress_and_can_be_cancelled():
    seen = []
    s = Stepper(DOC)
    s.goto(10000, progress=lambda done, total: seen.append(done), cancel=lambda: len(seen) >= 3)
    assert seen == [1024, 2048, 3072] and s.k == 3072 and s.computed == 3072


def test_nan_diverges_without_warnings(recwarn):
    lesson = Lesson(id="t", title=None, kind="descent", expression=parse("log(w)", ["w"]),
                    params=(("w", F(1, 2)),), lr=F(1), iterations=10)
    s = Stepper(lesson)
    s.run()
    # w1 = 1/2 − 1·(1/(1/2)) = −3/2 and log(−3/2) is NaN: diverged at step 1
    assert s.diverged_at == 1 and s.computed == 1
    assert not [w for w in recwarn if "numpy" in str(w.filename)]
