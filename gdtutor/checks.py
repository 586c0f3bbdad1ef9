"""Checkpoints: what a lesson promises about its numbers, verified against a stepper's history.

Each checkpoint is passed, failed or skipped. It is skipped only when its step lies past the
end of a run shortened by `--steps` (the run stopped there by choice, not by diverging); a
checkpoint at a step after a divergence fails. A failed checkpoint names every value that
did not match (its field, what the lesson expected, what the run got).
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from .errors import GdtutorError
from .i18n import _
from .model import Checkpoint, Lesson
from .numbers import as_array, finite_exact, quiet_arithmetic, to_float
from .stepper import Stepper

DEFAULT_TOL = Fraction(1, 10 ** 6)

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


class Mismatch(NamedTuple):
    """One value of a checkpoint that did not match: `field` is weights, loss, grad, sse,
    diverged, value, grads.NAME or step (a step the run did not reach because it diverged
    first). `expected` is the lesson's number(s), `got` the run's, as the stepper holds them."""

    field: str
    expected: object
    got: object


class Result(NamedTuple):
    """One checkpoint's verdict, with a line saying what was compared."""

    checkpoint: Checkpoint
    status: str                         # PASSED, FAILED or SKIPPED
    detail: str
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == PASSED


def make_stepper(lesson: Lesson, backend_flag: str | None = None) -> Stepper:
    """The lesson's stepper; a backend that cannot start is blamed on what chose it: the
    backend option (`backend_flag`, e.g. "--backend"), or the file's line."""
    try:
        return Stepper(lesson)
    except GdtutorError as exc:
        if exc.field != "backend" or exc.file:
            raise
        if backend_flag is not None:
            raise GdtutorError(exc.message, field=backend_flag) from None
        raise exc.located(file=lesson.label, line=lesson.line_of("backend")) from None


def _close(got, want, dtype: str, tol: Fraction | None) -> bool:
    got = np.asarray(got, dtype=object).reshape(-1)
    want = np.asarray(want, dtype=object).reshape(-1)
    if got.shape != want.shape:
        return False
    for g, w in zip(got, want):
        if g is None:
            return False
        if dtype == "exact":    # exact: equal, or within tol, compared as fractions
            if tol is None and Fraction(g) != Fraction(w):
                return False
            if tol is not None and not abs(Fraction(g) - Fraction(w)) <= tol:
                return False
            continue
        limit = to_float(DEFAULT_TOL if tol is None else tol)
        if not abs(to_float(g) - to_float(w)) <= limit:      # False for NaN and infinities
            return False
    return True


def sse(stepper: Stepper, k: int):
    """Σ(Xw − y)² at w_k in the lesson's arithmetic, as the document computes it."""
    lin = stepper.lesson.linear
    X, y = as_array(lin.X, stepper.dtype), as_array(lin.y, stepper.dtype)
    with quiet_arithmetic():
        r = X @ stepper.weights_at(k) - y
        return np.asarray(r @ r)[()]


def diverged_at(stepper: Stepper) -> int | None:
    """The step at which the run diverged, or None. Stepping notices a loss that is not finite
    only at a step it goes on from; a run that ends on such a loss (`--steps` stopping right
    there) has diverged at its last step all the same."""
    if stepper.diverged_at is not None:
        return stepper.diverged_at
    n = stepper.computed
    loss = stepper.loss_at(n)
    if loss is None:
        return n
    finite = finite_exact(loss) if stepper.dtype == "exact" else math.isfinite(to_float(loss))
    return None if finite else n


def verify(stepper: Stepper) -> list[Result]:
    """Check every checkpoint of the stepper's lesson; the stepper is run as far as needed."""
    lesson = stepper.lesson
    if lesson.kind == "graph":
        return [_verify_graph(stepper, c) for c in lesson.checkpoints]
    furthest = max((c.step or 0 for c in lesson.checkpoints), default=0)
    if any(c.diverged is not None for c in lesson.checkpoints):
        furthest = lesson.iterations
    if stepper.computed < furthest:
        stepper.check_budget(furthest)
        here = stepper.k
        stepper.goto(furthest)
        stepper.k = here
    diverged = diverged_at(stepper) if lesson.checkpoints else None
    return [_verify_descent(stepper, c, diverged) for c in lesson.checkpoints]


def _verdict(c: Checkpoint, mismatches: list[Mismatch], detail: str) -> Result:
    return Result(c, FAILED if mismatches else PASSED, detail, tuple(mismatches))


def _verify_graph(stepper: Stepper, c: Checkpoint) -> Result:
    nodes = stepper.nodes(0)
    dtype = stepper.dtype
    parts, bad = [], []
    if c.value is not None:
        got = nodes[-1].value
        good = _close(got, c.value, dtype, c.tol)
        if not good:
            bad.append(Mismatch("value", c.value, got))
        parts.append(f"value {stepper.fmt_vec(got)} {'=' if good else '≠'} "
                     f"{_show(c.value, dtype)}")     # field names and numbers: no words
    by_name = {n.id: n for n in nodes if n.op == "param"}
    for name, want in c.grads or ():
        node = by_name.get(name)
        got = node.grad if node is not None else np.zeros(np.shape(np.array(want, dtype=object)))
        good = _close(got, want, dtype, c.tol)
        if not good:
            bad.append(Mismatch(f"grads.{name}", want, got))
        parts.append(f"{name}.grad {stepper.fmt_vec(got)} {'=' if good else '≠'} {_show(want, dtype)}")
    return _verdict(c, bad, _(", ").join(parts) or _("nothing to compare"))


def _verify_descent(stepper: Stepper, c: Checkpoint, diverged: int | None) -> Result:
    dtype = stepper.dtype
    if c.diverged is not None:
        if diverged is None and stepper.computed < c.diverged:   # --steps ended the run first
            return Result(c, SKIPPED, _("diverged at step {k} not reached: the run stops at "
                                        "step {end}").format(k=c.diverged, end=stepper.computed))
        ok = diverged == c.diverged
        sign = "=" if ok else "≠"
        detail = (_("diverged at step {k} {sign} {want}").format(k=diverged, sign=sign,
                                                                  want=c.diverged)
                  if diverged is not None else
                  _("never diverged {sign} diverged at step {want}").format(sign=sign,
                                                                            want=c.diverged))
        return _verdict(c, [] if ok else [Mismatch("diverged", c.diverged, diverged)], detail)
    k = c.step or 0
    if diverged is not None and k > diverged:
        return _verdict(c, [Mismatch("step", k, diverged)],
                        _("step {k} not reached: diverged at step {at}").format(k=k, at=diverged))
    if k > stepper.computed:
        return Result(c, SKIPPED, _("step {k} not reached: the run stops at step {end}").format(
            k=k, end=stepper.computed))
    parts, bad = [], []
    checks = (("weights", "w", c.weights, lambda: stepper.weights_at(k)),
              ("loss", "loss", c.loss, lambda: stepper.loss_at(k)),
              ("grad", "grad", c.grad, lambda: stepper.grad_at(k)),
              ("sse", "sse", c.sse, lambda: sse(stepper, k)))
    for field, label, want, get in checks:
        if want is None:
            continue
        got = get()
        good = got is not None and _close(got, want, dtype, c.tol)
        if not good:
            bad.append(Mismatch(field, want, got))
        shown = _("none") if got is None else stepper.fmt_vec(got)
        parts.append(f"{label} {shown} {'=' if good else '≠'} {_show(want, dtype)}")
    return _verdict(c, bad, _("step {k}: {compared}").format(
        k=k, compared=_(", ").join(parts) or _("nothing to compare")))


def _show(value, dtype: str) -> str:
    flat = np.asarray(value, dtype=object).reshape(-1)
    text = [str(Fraction(v)) if dtype == "exact" else repr(to_float(v)).removesuffix(".0") for v in flat]
    return text[0] if len(text) == 1 else "[" + ", ".join(text) + "]"


# -- marks: the checkpoints at one step, for the TUI while a lesson is written ------------------


class Mark(NamedTuple):
    """One checkpoint's verdict at a step, as the lesson screen shows it: `✓ as in the
    document: w_3 = 7/4` or `✗ w_3: expected 7/4, got 3/2`."""

    line: int           # the checkpoint's line in the lesson file
    status: str         # PASSED, FAILED or SKIPPED
    text: str


def _label(field: str, k: int) -> str:
    """How a mark names a checked value at step k."""
    return {"weights": f"w_{k}", "loss": f"L(w_{k})", "grad": _("grad at {w}").format(w=f"w_{k}"),
            "sse": f"SSE(w_{k})", "value": _("value"), "diverged": _("diverged at step"),
            "step": _("step {k}").format(k=k)}.get(field, field.removeprefix("grads.") + ".grad")


def marks_at(stepper: Stepper, k: int) -> list[Mark]:
    """The lesson's checkpoints at step k (a graph lesson: every checkpoint), each verified
    against what the stepper has computed; the stepper is not moved. A step not computed yet
    gives skipped marks."""
    lesson, dtype = stepper.lesson, stepper.dtype
    if lesson.kind == "graph":
        results = [_verify_graph(stepper, c) for c in lesson.checkpoints]
    else:
        here = [c for c in lesson.checkpoints if c.step == k or c.diverged == k]
        if not here:
            return []
        if k > stepper.computed:
            return [Mark(c.line, SKIPPED, "… " + _("step {k} not reached yet").format(k=k))
                    for c in here]
        results = [_verify_descent(stepper, c, diverged_at(stepper)) for c in here]
    marks = []
    for r in results:
        if r.passed:
            marks.append(Mark(r.checkpoint.line, PASSED, _("✓ as in the document: {values}")
                              .format(values=_as_written(r, stepper, k))))
        elif r.status == SKIPPED:
            marks.append(Mark(r.checkpoint.line, SKIPPED, "… " + r.detail))
        else:
            parts = [_("{name}: expected {expected}, got {got}").format(
                         name=_label(m.field, k), expected=_show(m.expected, dtype),
                         got=_("none") if m.got is None else stepper.fmt_vec(m.got))
                     for m in r.mismatches]
            marks.append(Mark(r.checkpoint.line, FAILED, "✗ " + "; ".join(parts)))
    return marks


def _as_written(r: Result, stepper: Stepper, k: int) -> str:
    """A passed checkpoint's values, named as the lesson names them."""
    c, dtype = r.checkpoint, stepper.dtype
    if c.diverged is not None:
        return _("diverged at step {k}").format(k=c.diverged)
    shown = [(f, getattr(c, f)) for f in ("weights", "loss", "grad", "sse", "value")
             if getattr(c, f) is not None]
    parts = [f"{_label(f, k)} = {_show(v, dtype)}" for f, v in shown]
    parts += [f"{name}.grad = {_show(v, dtype)}" for name, v in c.grads or ()]
    return ", ".join(parts)
