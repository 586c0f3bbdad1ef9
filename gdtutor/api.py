"""The Python API for tests and graders: load a lesson, replay it headless, read its numbers.

    import gdtutor
    run = gdtutor.replay("worked-example", steps=3)
    run.records[2].weights          # (Fraction(7, 4),): w_3
    run.checkpoints.failed          # 0

`replay` is the one computation behind `gdtutor replay`: the command writes its transcript
(text, jsonl or summary) from the Run this module builds, so the two never disagree.

Numbers come as the lesson computed them: `Fraction`s in exact arithmetic (a vector is a
tuple of them), numpy scalars and flat numpy arrays of the lesson's dtype otherwise. Vectors
are flat, in weight order, as in the jsonl transcript.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple, Union, overload

import numpy as np

from .checks import FAILED, PASSED, SKIPPED, Result, diverged_at, make_stepper, verify
from .errors import GdtutorError
from .i18n import _
from .model import Lesson
from .numbers import in_arithmetic, to_float, to_json, to_json_vec
from .stepper import Stepper

__all__ = ["load", "replay", "record_run", "json_value", "Run", "Record", "State", "GraphNode", "Failure",
           "CheckpointResult", "Checkpoints", "GdtutorError", "Lesson"]

# A number: Fraction (exact), a numpy float32/float64 scalar, or None where an exact
# computation divided by zero. A vector: tuple of Fractions (exact) or a flat numpy array.
Number = Any
Vector = Any
LessonRef = Union[str, "os.PathLike[str]", Lesson]


class Record(NamedTuple):
    """Iteration `step` (k = 1..N): grad and step_size computed at w_(k-1), then w_k."""

    step: int
    loss: Number        # L(w_(k-1))
    grad: Vector        # grad_scale · ∂L/∂w at w_(k-1)
    step_size: Vector   # α · grad
    weights: Vector     # w_k = w_(k-1) − step_size


class State(NamedTuple):
    """The weights after `step` updates and the loss there."""

    step: int
    weights: Vector
    loss: Number


class GraphNode(NamedTuple):
    """One node of a graph lesson's computation, forward order; `value` and `grad` are flat
    (`shape` gives the node's shape); `grad` is None where no input flows into the node."""

    id: str
    op: str
    label: str
    inputs: tuple[str, ...]
    shape: tuple[int, ...]
    value: Number | Vector
    grad: Number | Vector | None
    grad_fn: str | None


class Failure(NamedTuple):
    """One value of a failed checkpoint. `field`: weights, loss, grad, sse, value, grads.NAME,
    diverged (expected and got are steps, got None if the run never diverged) or step (the
    checkpoint's step was not reached because the run diverged first: got is that step).
    `expected` is the lesson's number: a Fraction in exact, a Python float or float64 array
    otherwise; `got` is the run's, in the run's arithmetic."""

    line: int
    step: int | None
    field: str
    expected: Any
    got: Any


class CheckpointResult(NamedTuple):
    """One checkpoint: `status` is "passed", "failed" or "skipped"; `detail` says what was
    compared (the line the text transcript prints)."""

    line: int
    step: int | None
    status: str
    detail: str


class Checkpoints(NamedTuple):
    """The counts, each failed value, and every checkpoint's result in the lesson's order."""

    passed: int
    failed: int
    skipped: int
    failures: tuple[Failure, ...]
    results: tuple[CheckpointResult, ...]


class _Records(Sequence):
    """run.records: made from the stepper's history as they are read (a long run's summary
    never builds them)."""

    def __init__(self, stepper: Stepper, count: int) -> None:
        self._stepper, self._count = stepper, count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> Record: ...

    @overload
    def __getitem__(self, i: slice) -> list[Record]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError("record index out of range")
        s = self._stepper
        r = s.record(i + 1)
        return Record(i + 1, number(r.loss, s.dtype), vector(r.grad, s.dtype),
                      vector(r.step_size, s.dtype), vector(r.weights, s.dtype))

    def __repr__(self) -> str:
        return f"<{self._count} records>"


@dataclass(frozen=True)
class Run:
    """One headless replay. A descent lesson fills records, initial and final; a graph lesson
    value, grads and nodes."""

    lesson: Lesson
    header: dict[str, Any]                  # the jsonl header's fields, as JSON values
    checkpoints: Checkpoints
    diverged: int | None                    # the step at which the run diverged, or None
    records: Sequence[Record] = ()          # one per iteration k = 1..N
    initial: State | None = None            # step 0: w_0 and L(w_0)
    final: State | None = None              # the last step reached: w_n and L(w_n)
    value: Number | None = None             # graph: the expression's value
    grads: dict[str, Number | Vector] | None = None   # graph: input name -> its gradient
    nodes: tuple[GraphNode, ...] | None = None        # graph: every node, forward order


# -- numbers ------------------------------------------------------------------------------


def _np_dtype(dtype: str):
    return np.float32 if dtype == "float32" else np.float64


def number(x, dtype: str) -> Number:
    """One number in the API's form for a lesson of this dtype."""
    if x is None:
        return None
    if dtype == "exact":
        return Fraction(np.asarray(x, dtype=object)[()])
    return np.asarray(x, dtype=_np_dtype(dtype))[()]


def vector(x, dtype: str) -> Vector:
    """A flat vector in the API's form: a tuple of Fractions, or a numpy array."""
    if dtype == "exact":
        return tuple(Fraction(v) for v in np.asarray(x, dtype=object).reshape(-1))
    return np.array(x, dtype=_np_dtype(dtype)).reshape(-1)


def _value(x, dtype: str):
    """A graph value: a number when 0-d, else a flat vector."""
    if x is None:
        return None
    return number(x, dtype) if np.ndim(x) == 0 else vector(x, dtype)


def _expected(x, dtype: str):
    """A checkpoint's number as the lesson wrote it: exact, or as the float64 it compares as."""
    if x is None or type(x) is int:      # steps (diverged, step)
        return x
    if dtype == "exact":
        return _value(x, dtype)
    flat = [to_float(v) for v in np.asarray(x, dtype=object).reshape(-1)]
    return flat[0] if np.ndim(np.asarray(x, dtype=object)) == 0 else np.array(flat)


def _got(x, dtype: str):
    if x is None or type(x) is int:
        return x
    return _value(x, dtype)


def in_dtype(x: Fraction, dtype: str) -> Number:
    """A lesson setting (α, grad_scale) in the arithmetic the run uses."""
    return in_arithmetic(x, dtype)


def json_value(x):
    """A value of a Run as JSON: exact numbers as strings ("15/8"), non-finite ones as "inf",
    "-inf" or "nan", floats as numbers (a float32 in the shortest text that reads back as the
    same float32), vectors as flat lists; steps and None as they are."""
    if x is None or type(x) is int:
        return x
    if isinstance(x, Fraction):
        return to_json(x, "exact")
    if isinstance(x, np.ndarray):
        return to_json_vec(x, "float32" if x.dtype == np.float32 else "float64")
    if isinstance(x, (tuple, list)):
        return [json_value(v) for v in x]
    if isinstance(x, np.float32):
        return to_json(x, "float32")
    if isinstance(x, (float, np.floating)):
        return to_json(x, "float64")
    if isinstance(x, (int, np.integer)):
        return int(x)
    raise TypeError(f"no JSON form for {type(x).__name__}")


# -- checkpoints --------------------------------------------------------------------------


def summarize(results: list[Result], dtype: str) -> Checkpoints:
    """Checkpoint results in the API's form."""
    counts = {PASSED: 0, FAILED: 0, SKIPPED: 0}
    failures, rows = [], []
    for r in results:
        c = r.checkpoint
        counts[r.status] += 1
        rows.append(CheckpointResult(c.line, c.step, r.status, r.detail))
        for m in r.mismatches:
            failures.append(Failure(c.line, c.step, m.field, _expected(m.expected, dtype),
                                    _got(m.got, dtype)))
    return Checkpoints(counts[PASSED], counts[FAILED], counts[SKIPPED], tuple(failures),
                       tuple(rows))


# -- loading and replaying ----------------------------------------------------------------


def load(lesson: LessonRef) -> Lesson:
    """A lesson by built-in id (`"worked-example"`) or path (a str ending in .yaml/.yml, or any
    path object). Raises GdtutorError (with .file, .line, .field) where the command line
    would exit with status 2."""
    from .catalog import load as load_file, resolve
    if isinstance(lesson, Lesson):
        return lesson
    if isinstance(lesson, os.PathLike):
        return load_file(Path(lesson))
    if not isinstance(lesson, str):
        raise GdtutorError(_("expected a lesson id or a path, got {type}").format(
            type=type(lesson).__name__))
    return resolve(lesson)


def source_sha256(lesson: Lesson) -> str | None:
    """SHA-256 (hex) of the bytes of the file the lesson was read from."""
    if lesson.source is None:
        return None
    try:
        return hashlib.sha256(Path(lesson.source).read_bytes()).hexdigest()
    except OSError:
        return None


def header(lesson: Lesson, stepper: Stepper) -> dict[str, Any]:
    """The jsonl header: what was run, after overrides. A graph lesson has no α, grad_scale
    or iterations: they are null."""
    descent = lesson.kind == "descent"
    dtype = stepper.dtype
    return {
        "lesson": lesson.id, "kind": lesson.kind, "backend": stepper.backend_name,
        "dtype": dtype,
        "lr": json_value(in_dtype(stepper.lr, dtype)) if descent else None,
        "grad_scale": json_value(in_dtype(lesson.grad_scale, dtype)) if descent else None,
        "iterations": stepper.iterations if descent else None,
        "source_sha256": source_sha256(lesson),
    }


def record_run(stepper: Stepper) -> Run:
    """Run a fresh stepper to its end (or its divergence), verify the checkpoints, and keep
    everything a transcript shows."""
    lesson, dtype = stepper.lesson, stepper.dtype
    if lesson.kind == "graph":
        checkpoints = summarize(verify(stepper), dtype)
        nodes = tuple(GraphNode(n.id, n.op, n.label, tuple(n.inputs), tuple(n.shape),
                                _value(n.value, dtype), _value(n.grad, dtype), n.grad_fn)
                      for n in stepper.nodes(0))
        return Run(lesson, header(lesson, stepper), checkpoints, None,
                   value=nodes[-1].value if nodes else None,
                   grads={n.id: n.grad for n in nodes if n.op == "param"}, nodes=nodes)
    stepper.run()
    checkpoints = summarize(verify(stepper), dtype)
    n = stepper.computed
    initial = State(0, vector(stepper.weights_at(0), dtype), number(stepper.loss_at(0), dtype))
    final = State(n, vector(stepper.weights_at(n), dtype), number(stepper.loss_at(n), dtype))
    return Run(lesson, header(lesson, stepper), checkpoints, diverged_at(stepper),
               records=_Records(stepper, n), initial=initial, final=final)


def _option(exc: GdtutorError) -> GdtutorError:
    """An error about a command-line flag, named as the keyword argument."""
    if exc.field and exc.field.startswith("--"):
        return GdtutorError(exc.message, file=exc.file, line=exc.line, field=exc.field[2:])
    return exc


def replay(lesson: LessonRef, *, backend: str | None = None, dtype: str | None = None,
           lr: Any = None, steps: int | None = None) -> Run:
    """Step a lesson headless, as `gdtutor replay` does, with the same overrides: backend
    ("numpy" or "torch"), dtype ("float64", "float32" or "exact"), lr (α: a number, a
    Fraction, or a string such as "1/2") and steps (the number of iterations)."""
    from .catalog import with_overrides
    chosen = load(lesson)
    try:
        chosen = with_overrides(chosen, backend=backend, dtype=dtype, lr=lr, steps=steps)
        stepper = make_stepper(chosen, "--backend" if backend is not None else None)
    except GdtutorError as exc:
        raise _option(exc) from None
    return record_run(stepper)
