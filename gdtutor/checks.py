"""Checkpoints: what a lesson promises about its numbers, verified against a stepper's history."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .model import Checkpoint
from .numbers import as_array, to_float
from .stepper import Stepper

DEFAULT_TOL = Fraction(1, 10 ** 6)


@dataclass(frozen=True)
class Result:
    """One checkpoint's verdict, with a line saying what was compared."""

    checkpoint: Checkpoint
    passed: bool
    detail: str


def _close(got, want, dtype: str, tol: Fraction | None) -> bool:
    got = np.asarray(got, dtype=object).reshape(-1)
    want = np.asarray(want, dtype=object).reshape(-1)
    if got.shape != want.shape:
        return False
    for g, w in zip(got, want):
        if g is None:
            return False
        if dtype == "exact" and tol is None:
            if Fraction(g) != Fraction(w):
                return False
            continue
        limit = to_float(DEFAULT_TOL if tol is None else tol)
        gv = float(g)
        if not abs(gv - to_float(w)) <= limit:      # False for NaN and infinities
            return False
    return True


def sse(stepper: Stepper, k: int):
    """Σ(Xw − y)² at w_k in the lesson's arithmetic, as the document computes it."""
    lin = stepper.lesson.linear
    X, y = as_array(lin.X, stepper.dtype), as_array(lin.y, stepper.dtype)
    with np.errstate(all="ignore"):
        r = X @ stepper.weights_at(k) - y
        return np.asarray(r @ r)[()]


def verify(stepper: Stepper) -> list[Result]:
    """Check every checkpoint of the stepper's lesson; the stepper is run as far as needed."""
    lesson = stepper.lesson
    if lesson.kind == "graph":
        return [_verify_graph(stepper, c) for c in lesson.checkpoints]
    furthest = max((c.step or 0 for c in lesson.checkpoints), default=0)
    if any(c.diverged is not None for c in lesson.checkpoints):
        furthest = lesson.iterations
    if stepper.computed < furthest:
        here = stepper.k
        stepper.goto(furthest)
        stepper.k = here
    return [_verify_descent(stepper, c) for c in lesson.checkpoints]


def _verify_graph(stepper: Stepper, c: Checkpoint) -> Result:
    nodes = stepper.nodes(0)
    dtype = stepper.dtype
    parts, ok = [], True
    if c.value is not None:
        good = _close(nodes[-1].value, c.value, dtype, c.tol)
        ok &= good
        parts.append(f"value {stepper.fmt_vec(nodes[-1].value)} {'=' if good else '≠'} "
                     f"{_show(c.value, dtype)}")
    by_name = {n.id: n for n in nodes if n.op == "param"}
    for name, want in c.grads or ():
        node = by_name.get(name)
        got = node.grad if node is not None else np.zeros(np.shape(np.array(want, dtype=object)))
        good = _close(got, want, dtype, c.tol)
        ok &= good
        parts.append(f"{name}.grad {stepper.fmt_vec(got)} {'=' if good else '≠'} {_show(want, dtype)}")
    return Result(c, ok, ", ".join(parts) or "nothing to compare")


def _verify_descent(stepper: Stepper, c: Checkpoint) -> Result:
    dtype = stepper.dtype
    if c.diverged is not None:
        got = stepper.diverged_at
        ok = got == c.diverged
        return Result(c, ok, f"diverged at step {got if got is not None else 'never'} "
                             f"{'=' if ok else '≠'} {c.diverged}")
    k = c.step or 0
    if k > stepper.computed or (stepper.diverged_at is not None and k > stepper.diverged_at):
        why = (f"diverged at step {stepper.diverged_at}" if stepper.diverged_at is not None
               else f"the run stops at step {stepper.computed}")
        return Result(c, False, f"step {k} not reached: {why}")
    parts, ok = [], True
    checks = (("w", c.weights, lambda: stepper.weights_at(k)),
              ("loss", c.loss, lambda: stepper.loss_at(k)),
              ("grad", c.grad, lambda: stepper.grad_at(k)),
              ("sse", c.sse, lambda: sse(stepper, k)))
    for label, want, get in checks:
        if want is None:
            continue
        got = get()
        good = got is not None and _close(got, want, dtype, c.tol)
        ok &= good
        shown = "none" if got is None else stepper.fmt_vec(got)
        parts.append(f"{label} {shown} {'=' if good else '≠'} {_show(want, dtype)}")
    return Result(c, ok, f"step {k}: " + (", ".join(parts) or "nothing to compare"))


def _show(value, dtype: str) -> str:
    flat = np.asarray(value, dtype=object).reshape(-1)
    text = [str(Fraction(v)) if dtype == "exact" else repr(to_float(v)).removesuffix(".0") for v in flat]
    return text[0] if len(text) == 1 else "[" + ", ".join(text) + "]"
