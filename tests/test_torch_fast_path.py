"""The torch backend's stepping path (loss_and_grad: torch ops and torch.autograd.grad) gives the
numpy backend's numbers, and torch's own when the same loss is written directly in torch; on the
torch backend the document's gradDescent reaches the document's figures."""
from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expressions import close, expressions, lesson_of
from gdtutor.backend import initial_weights
from gdtutor.checks import sse, verify
from gdtutor.expr import render
from gdtutor.catalog import builtin, resolve, with_overrides
from gdtutor.numbers import as_array
from gdtutor.numpy_backend import NumpyBackend
from gdtutor.stepper import Stepper

torch = pytest.importorskip("torch")
from gdtutor.torch_backend import TorchBackend  # noqa: E402

REL = {"float64": 1e-12, "float32": 1e-5}
DESCENT = [lesson.id for lesson in builtin() if lesson.kind == "descent"]
FLOAT_DESCENT = [lesson.id for lesson in builtin()   # exact lessons run on numpy only
                 if lesson.kind == "descent" and lesson.dtype != "exact"]

# The expression language's functions, as torch spells them, for writing a loss directly.
TORCH_NAMES = {"sum": torch.sum, "mean": torch.mean, "exp": torch.exp, "log": torch.log,
               "sqrt": torch.sqrt, "abs": torch.abs, "sin": torch.sin, "cos": torch.cos,
               "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
               "T": torch.t}


def direct(lesson, w: np.ndarray, dtype: str, source: str | None = None):
    """(loss, flat grad) of the lesson's expression (or its source text) evaluated by Python on
    torch tensors, each parameter its own leaf, gradients by loss.backward()."""
    tdtype = getattr(torch, dtype)

    def tensor(value):
        return torch.tensor(np.array(value, dtype=object).astype(np.float64), dtype=tdtype)

    def on_tensors(fn):     # sum(1.5): a plain number is a tensor of the lesson's dtype
        return lambda a: fn(torch.as_tensor(a, dtype=tdtype))

    functions = {name: on_tensors(fn) for name, fn in TORCH_NAMES.items()}

    names = {name: tensor(value) for name, value in lesson.constants}
    leaves, offset = [], 0
    for name, value in lesson.params:
        shape = np.shape(np.array(value, dtype=object))
        size = int(np.prod(shape)) if shape else 1
        leaf = torch.tensor(w[offset:offset + size].reshape(shape), dtype=tdtype,
                            requires_grad=True)
        names[name] = leaf
        leaves.append(leaf)
        offset += size
    source = render(lesson.expression) if source is None else source
    loss = torch.as_tensor(eval(source, {"__builtins__": {}, **functions}, names), dtype=tdtype)
    if loss.requires_grad:
        loss.backward()
    grads = [torch.zeros_like(leaf) if leaf.grad is None else leaf.grad for leaf in leaves]
    return loss.item(), torch.cat([g.reshape(-1) for g in grads]).numpy()


def agree(a, b, rel: float) -> bool:
    """close(), with NaN where NaN and the same infinities (a diverging lesson)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    finite = np.isfinite(a) & np.isfinite(b)
    same_rest = np.array_equal(a[~finite], b[~finite], equal_nan=True)
    return same_rest and close(a[finite], b[finite], rel)


def descent_lesson(lesson_id: str, dtype: str):
    return with_overrides(resolve(lesson_id), backend="torch", dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lesson_id", DESCENT)
def test_descent_lessons_equal_numpy_and_direct_torch(lesson_id, dtype):
    """Along the lesson's own path (numpy's weights), at every step up to 2000."""
    lesson = descent_lesson(lesson_id, dtype)
    steps = min(lesson.iterations, 2000)
    path = Stepper(with_overrides(lesson, backend="numpy", steps=steps))
    path.run()
    tb, nb, rel = TorchBackend(lesson, dtype), NumpyBackend(lesson, dtype), REL[dtype]
    assert path.computed > 0
    for k in range(path.computed + 1):
        w = path.weights_at(k)
        loss, grad = tb.loss_and_grad(w)
        assert np.asarray(loss).dtype == grad.dtype == np.dtype(dtype)
        nloss, ngrad = nb.loss_and_grad(w)
        assert agree(loss, nloss, rel) and agree(grad, ngrad, rel), (k, loss, nloss, grad, ngrad)
        if np.all(np.isfinite(w)):
            dloss, dgrad = direct(lesson, w, dtype)
            assert agree(loss, dloss, rel) and agree(grad, dgrad, rel), (k, loss, dloss)


@pytest.mark.parametrize("lesson_id", FLOAT_DESCENT)
def test_stepping_on_torch_keeps_every_checkpoint(lesson_id):
    lesson = resolve(lesson_id)
    stepper = Stepper(with_overrides(lesson, backend="torch"))
    results = verify(stepper)
    assert results and all(r.passed for r in results), [r.detail for r in results if not r.passed]


def test_grad_descent_reaches_the_documents_figures_on_torch():
    """gradDescent(X, y) printed [[1.0372], [0.9102]]; with numIt = 10000, [[1.0000], [1.0000]]
    and an SSE of 2.8518e-10 (float32; the checkpoint's tolerance is 1e-10)."""
    stepper = Stepper(with_overrides(resolve("grad-descent"), backend="torch", steps=10000))
    stepper.run()
    assert stepper.computed == 10000 and stepper.diverged_at is None
    assert np.all(np.abs(stepper.weights_at(1000) - [1.0372, 0.9102]) <= 1e-4)
    assert np.all(np.abs(stepper.weights_at(10000) - [1, 1]) <= 1e-4)
    assert abs(float(sse(stepper, 10000)) - 2.8518e-10) <= 1e-10


def test_grad_descent_on_torch_equals_the_documents_autograd_loop():
    """The document's loop with loss.backward() and the update under no_grad, in float32:
    gdtutor's torch stepping takes the same 1000 steps, to the last bit."""
    lesson = resolve("grad-descent")
    X = torch.tensor(as_array(lesson.linear.X, "float32"))
    y = torch.tensor(as_array(lesson.linear.y, "float32"))
    eps = torch.tensor(0.01)
    weights = torch.zeros(2, requires_grad=True)
    losses = []
    for _ in range(1000):
        loss = torch.sum((X @ weights - y) ** 2) / (2 * 2)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            weights -= eps * weights.grad
        weights.grad = None
    stepper = Stepper(with_overrides(lesson, backend="torch", steps=1000))
    stepper.run()
    assert np.array_equal(stepper.weights_at(1000), weights.detach().numpy())
    assert np.array_equal(stepper.losses(999), np.array(losses, dtype=np.float32))


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.sampled_from(["float64", "float32"]))
def test_expressions_equal_numpy_and_direct_torch(source, dtype):
    """At the initial values and after three steps of descent taken on torch's gradient."""
    lesson = lesson_of(source, dtype=dtype)
    tb, nb, rel = TorchBackend(lesson, dtype), NumpyBackend(lesson, dtype), REL[dtype]
    w = tb.weights(initial_weights(lesson))
    for _ in range(4):
        with np.errstate(all="ignore"):
            loss, grad = tb.loss_and_grad(w)
            nloss, ngrad = nb.loss_and_grad(w)
        if not (math.isfinite(loss) and np.all(np.isfinite(grad))):
            break
        assert np.asarray(loss).dtype == grad.dtype == np.dtype(dtype)
        assert close(loss, nloss, rel) and close(grad, ngrad, rel), (source, loss, nloss)
        dloss, dgrad = direct(lesson, w, dtype, source)
        assert close(loss, dloss, rel) and close(grad, dgrad, rel), (source, loss, dloss)
        w = (w - np.asarray(0.01, w.dtype) * grad).astype(w.dtype)


def test_a_weight_the_expression_does_not_use_has_a_zero_gradient():
    params = (("x", F(3)), ("v", (F(1), F(2))))
    for source, want in (("x ** 2", [6, 0, 0]), ("sum(v * v)", [0, 2, 4]), ("2 * 3", [0, 0, 0])):
        lesson = lesson_of(source, params)
        tb = TorchBackend(lesson, "float64")
        _, grad = tb.loss_and_grad(tb.weights(initial_weights(lesson)))
        assert grad.tolist() == want, source
