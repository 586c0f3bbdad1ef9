"""An objective over data (SPEC section 2): `objective` with `data` may use X, y and m. Each loss
is checked against a gradient written out by hand in this file, and numpy against torch."""
from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from gdtutor.catalog import load, with_overrides
from gdtutor.cli import main
from gdtutor.errors import GdtutorError
from gdtutor.stepper import Stepper

X = [[1, 2], [2, -1], [-1, 1], [3, 0], [0.5, -2]]
Y_SIGN = [1, -1, 1, -1, 1]
Y_INT = [1, -1, 2, 5, 0]


def lesson(tmp_path: Path, body: str, name: str = "l.yaml"):
    path = tmp_path / name
    path.write_text("id: l\ntitle: L\nkind: descent\nlr: 1/2\niterations: 8\n" + body,
                    encoding="utf-8")
    return path


def logistic(tmp_path: Path, extra: str = ""):
    return load(lesson(tmp_path, f"data: {{X: {X}, y: {Y_SIGN}}}\nbias: true\n"
                       "objective: mean(log(1 + exp(-y * (X @ w))))\n"
                       "params: {w: [0.5, -0.25, 0.125]}\n" + extra))


def ones(rows) -> np.ndarray:
    """X with the column of ones `bias: true` appends."""
    return np.hstack([np.array(rows, dtype=float), np.ones((len(rows), 1))])


def logistic_by_hand(w: np.ndarray) -> tuple[float, np.ndarray]:
    """L = mean(log(1 + e^(−y·Xw))), ∇L = −(1/m) Xᵀ (y · σ(−y·Xw))."""
    A, y = ones(X), np.array(Y_SIGN, dtype=float)
    z = y * (A @ w)
    loss = np.mean(np.log1p(np.exp(-z)))
    return loss, -(A.T @ (y / (1 + np.exp(z)))) / len(y)


def test_logistic_regression_matches_the_gradient_by_hand_on_both_backends(tmp_path):
    item = logistic(tmp_path)
    runs = {}
    for backend in ("numpy", "torch"):
        stepper = Stepper(with_overrides(item, backend=backend))
        stepper.run()
        runs[backend] = stepper
        for k in range(item.iterations + 1):
            loss, grad = logistic_by_hand(stepper.weights_at(k))
            assert stepper.loss_at(k) == pytest.approx(loss, rel=1e-12, abs=0)
            np.testing.assert_allclose(stepper.grad_at(k), grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(runs["numpy"].weights_history(), runs["torch"].weights_history(),
                               rtol=1e-12, atol=0)


def test_logistic_regression_in_float32_on_both_backends_is_within_1e_5(tmp_path):
    item = logistic(tmp_path)
    reference = Stepper(item)
    reference.run()
    for backend in ("numpy", "torch"):
        stepper = Stepper(with_overrides(item, backend=backend, dtype="float32"))
        stepper.run()
        assert stepper.weights_at(item.iterations).dtype == np.float32
        np.testing.assert_allclose(stepper.weights_history(), reference.weights_history(),
                                   rtol=1e-5, atol=1e-6)


def test_mean_absolute_error_is_exact_on_integer_data(tmp_path):
    item = load(lesson(tmp_path, f"dtype: exact\ndata: {{X: {[[1, 2], [2, -1], [-1, 1], [3, 0]]}, "
                       f"y: {Y_INT[:4]}}}\nbias: true\nobjective: mean(abs(X @ w - y))\n"
                       "params: {w: [0, 0, 0]}\n"))
    stepper = Stepper(item)
    stepper.run()
    A = [[F(a) for a in row] + [F(1)] for row in [[1, 2], [2, -1], [-1, 1], [3, 0]]]
    y = [F(v) for v in Y_INT[:4]]
    w = [F(0)] * 3
    for k in range(item.iterations + 1):
        r = [sum(a * b for a, b in zip(row, w)) - t for row, t in zip(A, y)]
        sign = [(v > 0) - (v < 0) for v in r]
        loss = sum(abs(v) for v in r) / 4
        grad = [sum(row[j] * s for row, s in zip(A, sign)) / 4 for j in range(3)]
        assert stepper.loss_at(k) == loss and list(stepper.grad_at(k)) == grad, k
        assert list(stepper.weights_at(k)) == w
        assert all(isinstance(v, F) for v in stepper.weights_at(k))
        w = [a - F(1, 2) * g for a, g in zip(w, grad)]
    assert stepper.grad_at(0).tolist() == [F(-1, 4), F(-1), F(-1, 2)]


def test_a_small_network_over_data_agrees_on_both_backends(tmp_path):
    body = (f"data: {{X: {X}, y: {Y_INT}}}\n"
            "objective: sum((tanh(X @ W1 + b1) @ w2 - y)**2) / (2 * m)\n"
            "params:\n  W1: [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]\n  b1: [0.01, 0.02, 0.03]\n"
            "  w2: [0.7, -0.8, 0.9]\n")
    item = load(lesson(tmp_path, body))
    numpy_run, torch_run = Stepper(item), Stepper(with_overrides(item, backend="torch"))
    numpy_run.run()
    torch_run.run()
    assert len(numpy_run.weight_names) == 12 and numpy_run.weight_names[0] == "W1[0,0]"
    np.testing.assert_allclose(numpy_run.weights_history(), torch_run.weights_history(),
                               rtol=1e-12, atol=1e-15)
    # the gradient at w_0 by hand: backpropagation through tanh, written out
    A, y = np.array(X, dtype=float), np.array(Y_INT, dtype=float)
    W1 = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    b1, w2 = np.array([0.01, 0.02, 0.03]), np.array([0.7, -0.8, 0.9])
    h = np.tanh(A @ W1 + b1)
    r = (h @ w2 - y) / len(y)
    dh = np.outer(r, w2) * (1 - h * h)
    grad = np.concatenate([(A.T @ dh).ravel(), dh.sum(axis=0), h.T @ r])
    np.testing.assert_allclose(numpy_run.grad_at(0), grad, rtol=1e-12, atol=1e-15)


def test_bias_true_appends_the_ones_column_for_an_objective_too(tmp_path):
    item = logistic(tmp_path)
    assert dict(item.constants)["X"][0] == (F(1), F(2), F(1))
    assert item.linear is None and dict(item.constants)["m"] == 5


def test_the_linear_keys_are_sugar_for_the_same_objective(tmp_path):
    sugar = load(lesson(tmp_path, f"data: {{X: {X}, y: {Y_INT}}}\nloss: half_mse\n"
                        "init: [1, -1]\n", "sugar.yaml"))
    written = load(lesson(tmp_path, f"data: {{X: {X}, y: {Y_INT}}}\n"
                          "objective: sum((X @ w - y)**2) / (2 * m)\nparams: {w: [1, -1]}\n",
                          "written.yaml"))
    a, b = Stepper(sugar), Stepper(written)
    a.run()
    b.run()
    assert np.array_equal(a.weights_history(), b.weights_history())


def check(capsys, path) -> tuple[int, str]:
    status = main(["check", str(path)])
    return status, capsys.readouterr().err


@pytest.mark.parametrize("objective, message", [
    ("mean(abs(X @ v - y))", "'@' cannot multiply shapes (5, 2) and (3,) (in 'X @ v')"),
    ("mean(abs(X * v))", "'*' cannot combine shapes (5, 2) and (3,) (in 'X * v')"),
    ("mean((v - y)**2)", "'-' cannot combine shapes (3,) and (5,) (in 'v - y')"),
])
def test_a_shape_mismatch_names_the_operator_and_both_shapes(tmp_path, capsys, objective,
                                                             message):
    path = lesson(tmp_path, f"data: {{X: {X}, y: {Y_INT}}}\nobjective: {objective}\n"
                  "params: {v: [0, 0, 0]}\n")
    status, err = check(capsys, path)
    assert status == 2 and err == f"gdtutor: {path}:7: objective: {message}\n"


@pytest.mark.parametrize("extra, line, field, message", [
    ("params: {X: [0, 0]}\n", 8, "params.X", "'X' is the data's name (X, y, m come from "
     "'data'); choose another name"),
    ("params: {w: [0, 0]}\ninit: [0, 0]\n", 9, "init", "'init' goes with a linear lesson; "
     "with 'objective', the loss is the objective and the initial values are in 'params'"),
    ("params: {w: [0, 0]}\nloss: sse\n", 9, "loss", "'loss' goes with a linear lesson"),
    ("", 7, "objective", "a lesson with 'objective' needs 'params'"),
])
def test_keys_that_do_not_go_with_an_objective_over_data(tmp_path, capsys, extra, line, field,
                                                         message):
    path = lesson(tmp_path, f"data: {{X: {X}, y: {Y_INT}}}\nobjective: mean(X @ w)\n" + extra)
    with pytest.raises(GdtutorError) as err:
        load(path)
    assert (err.value.line, err.value.field) == (line, field)
    assert err.value.message.startswith(message)
    assert check(capsys, path)[0] == 2


def test_an_objective_without_data_cannot_use_x(tmp_path):
    path = lesson(tmp_path, "objective: sum((w - X)**2)\nparams: {w: 0}\n")
    with pytest.raises(GdtutorError, match="unknown name 'X'"):
        load(path)
