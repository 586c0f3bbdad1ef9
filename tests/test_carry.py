"""A lesson rebuilt after an edit of its file or in another arithmetic keeps the student's α
changes, backend and step exactly where the new lesson did not change them."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from gdtutor.carry import rebuild
from gdtutor.catalog import resolve, with_overrides
from gdtutor.errors import GdtutorError
from gdtutor.stepper import Stepper

WORKED = resolve("worked-example")     # exact; grad_scale · ∂L/∂w = w − 2; α = 1/2
MATRIX = resolve("matrix-form")        # float64 on numpy


def closed_form(alphas: list[F]) -> list[F]:
    """w_0 .. w_n of the worked example, w_(k+1) = w_k − α_k (w_k − 2), in exact fractions."""
    w = [F(0)]
    for alpha in alphas:
        w.append(w[-1] - alpha * (w[-1] - 2))
    return w


def worked_with_alpha_changes() -> Stepper:
    """The worked example run to step 5 with α = 1/2, then 1/4 from step 2, 1 from step 4."""
    old = Stepper(WORKED)
    old.goto(2)
    old.set_lr(F(1, 4))
    old.goto(4)
    old.set_lr(F(1))
    old.goto(5)
    return old


ALPHAS = [F(1, 2)] * 2 + [F(1, 4)] * 2 + [F(1)]


def test_the_same_lesson_replays_the_alpha_changes_to_the_same_step():
    old = worked_with_alpha_changes()
    new = rebuild(old, WORKED, 5)
    assert new is not old and new.k == 5
    assert new.lr_changes() == [(0, F(1, 2)), (2, F(1, 4)), (4, F(1))]
    assert [new.weights_at(k)[0] for k in range(6)] == closed_form(ALPHAS)
    assert new.lr == F(1)


def test_an_edit_of_something_else_keeps_the_alpha_changes():
    edited = WORKED._replace(iterations=30)          # as an edited file gives it
    new = rebuild(worked_with_alpha_changes(), edited, 5)
    assert new.iterations == 30 and new.k == 5
    assert [new.weights_at(k)[0] for k in range(6)] == closed_form(ALPHAS)


def test_an_edit_of_alpha_runs_the_files_alpha_from_the_start_to_the_same_step():
    edited = WORKED._replace(lr=F(1, 3))
    new = rebuild(worked_with_alpha_changes(), edited, 5)
    assert new.k == 5 and new.lr_changes() == [(0, F(1, 3))]
    assert [new.weights_at(k)[0] for k in range(6)] == closed_form([F(1, 3)] * 5)


def test_the_backend_chosen_with_keys_is_kept_while_the_lesson_names_the_same_one():
    old = Stepper(MATRIX)
    old.goto(3)
    old.set_backend("torch")
    old.goto(7)
    new = rebuild(old, MATRIX._replace(iterations=100), 7)
    assert new.backend_name == "torch" and new.k == 7
    # from w_0 on torch: the first three steps as numpy took them, within float64 rounding
    assert np.allclose(new.weights_history(7), old.weights_history(7), rtol=1e-12, atol=1e-12)


def test_a_file_that_changes_the_backend_or_the_arithmetic_decides_it():
    old = Stepper(MATRIX)
    old.set_backend("torch")
    on_numpy = rebuild(old, MATRIX._replace(dtype="float32"), 0)
    assert on_numpy.backend_name == "numpy" and on_numpy.dtype == "float32"
    old = Stepper(MATRIX)                              # numpy, as the file says
    moved = with_overrides(MATRIX, backend="torch")
    assert rebuild(old, moved, 0).backend_name == "torch"
    back = rebuild(Stepper(moved), MATRIX, 0)          # the file went back to numpy
    assert back.backend_name == "numpy"


def test_another_arithmetic_replays_the_alpha_changes_on_torch_in_float64():
    old = worked_with_alpha_changes()
    floats = with_overrides(WORKED, backend="torch", dtype="float64")
    new = rebuild(old, floats, 5)
    assert (new.backend_name, new.dtype, new.k) == ("torch", "float64", 5)
    assert new.lr_changes() == old.lr_changes()
    # these α and w are dyadic fractions: float64 holds every one exactly
    assert new.weights_history(5)[:, 0].tolist() == [float(w) for w in closed_form(ALPHAS)]
    exact_again = rebuild(new, WORKED, 5)
    assert exact_again.dtype == "exact" and exact_again.backend_name == "numpy"
    assert [exact_again.weights_at(k)[0] for k in range(6)] == closed_form(ALPHAS)


def test_a_graph_lesson_or_a_change_of_kind_starts_afresh():
    graph = resolve("backprop")
    old = Stepper(graph)
    new = rebuild(old, graph, 2)
    assert new is not old and new.k == 0 and new.lesson == graph
    assert rebuild(worked_with_alpha_changes(), graph, 5).k == 0
    fresh = rebuild(old, WORKED, 3)
    assert fresh.k == 0 and fresh.lr_changes() == [(0, F(1, 2))]


def test_a_divergence_or_a_cancel_stops_it_early():
    diverging = resolve("divergence")
    old = Stepper(diverging)
    old.run()
    assert old.diverged_at is not None
    new = rebuild(old, diverging, diverging.iterations)
    assert new.k == new.diverged_at == old.diverged_at < diverging.iterations
    long = MATRIX
    seen = []
    stopped = rebuild(Stepper(long), long, 2500, progress=lambda done, total: seen.append(
        (done, total)), cancel=lambda: True)
    assert stopped.k == 1024 and seen == [(1024, 2500)]     # checked every 1024 steps


def test_a_lesson_the_maker_refuses_is_an_error():
    def refuse(lesson):
        raise GdtutorError("not with these overrides", field="--lr")

    with pytest.raises(GdtutorError, match="not with these overrides"):
        rebuild(Stepper(WORKED), WORKED, 2, make=refuse)
    made = rebuild(worked_with_alpha_changes(), WORKED, 5,
                   make=lambda lesson: Stepper(lesson._replace(iterations=9)))
    assert made.iterations == 9 and made.k == 5
