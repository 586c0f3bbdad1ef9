"""Gradient descent one iteration at a time, with a compact history of immutable step records."""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, NamedTuple

import numpy as np

from .backend import Backend, Node, initial_weights, weight_names
from .backends import make_backend
from .errors import GdtutorError, GrewTooLarge, NotFinite, TooLarge
from .i18n import _
from .model import Lesson
from .numbers import (as_float64, finite_exact, fmt, fmt_vec, quiet_arithmetic, to_float,
                      to_float32)
from .numpy_backend import NumpyBackend, check_exact_size
from .schema import check_lr

# What a headless run may cost, in units of about one float operation on one number: a step
# costs STEP_COST plus the count of numbers in every node of the plan (EXACT_COST each with
# fractions). 1.2e10 units is a few minutes of stepping; `Stepper.run` and checkpoint
# verification refuse more, up front (the TUI steps on request and is not limited).
WORK_BUDGET = 12 * 10 ** 9
STEP_COST = 1000
EXACT_COST = 100


class StepRecord(NamedTuple):
    """Iteration k: from w_(k-1) through the document's three steps to w_k."""

    k: int
    weights_before: np.ndarray
    loss: object            # L(w_(k-1))
    grad: np.ndarray        # grad_scale · ∂L/∂w at w_(k-1)   (step 1)
    lr: object              # α used
    step_size: np.ndarray   # α · grad                        (step 2)
    weights: np.ndarray     # w_k = w_(k-1) − step_size       (step 3)
    backend: str


class Setting(NamedTuple):
    """The α and backend used for every step from `start` on, until the next setting."""

    start: int
    lr: Fraction
    backend: Backend


class Stepper:
    """The state of one lesson: history of weights, losses and grads, and the current step k."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.dtype = lesson.dtype
        self.iterations = lesson.iterations
        self.weight_names = weight_names(lesson)
        self._backends: dict[str, Backend] = {}
        self._settings = [Setting(0, Fraction(lesson.lr), self._backend(lesson.backend))]
        first = self._settings[0].backend
        self._w0 = first.weights(initial_weights(lesson))
        self.grad_scale = self._number(lesson.grad_scale)
        self._alloc(min(self.iterations, 1024) + 1)
        self.reset()

    # -- settings -------------------------------------------------------------------------

    def _backend(self, name: str) -> Backend:
        if name not in self._backends:
            with quiet_arithmetic():
                self._backends[name] = make_backend(self.lesson, name, self.dtype)
        return self._backends[name]

    def _number(self, value: Fraction):
        """A lesson number in this lesson's arithmetic."""
        if self.dtype == "exact":
            return Fraction(value)
        return to_float32(value) if self.dtype == "float32" else to_float(value)

    @property
    def lr(self) -> Fraction:
        return self._setting(self.k).lr

    @property
    def backend_name(self) -> str:
        return self._setting(self.k).backend.name

    def _setting(self, k: int) -> Setting:
        for s in reversed(self._settings):
            if s.start <= k:
                return s
        return self._settings[0]

    def _change(self, lr: Fraction, backend: Backend) -> None:
        """From step k on, use the new setting; the history up to k stays as it was."""
        self._truncate(self.k)
        kept = [s for s in self._settings if s.start < self.k]
        self._settings = kept + [Setting(self.k, lr, backend)]

    def set_lr(self, lr) -> None:
        """From step k on, use α = lr (GdtutorError, field lr, if it is negative)."""
        lr = check_lr(Fraction(lr))
        self._change(lr, self._setting(self.k).backend)

    def set_backend(self, name: str) -> None:
        self._change(self.lr, self._backend(name))

    def lr_changes(self) -> list[tuple[int, Fraction]]:
        """(start, α) for each stretch of steps run with one α, in order: what it takes to
        give another stepper of the same lesson the same history."""
        return [(s.start, s.lr) for s in self._settings]

    # -- history --------------------------------------------------------------------------

    def _alloc(self, capacity: int) -> None:
        d = self._w0.shape[0]
        dt = self._w0.dtype
        old = getattr(self, "_w", None)
        self._w = np.empty((capacity, d), dtype=dt)
        self._grad = np.empty((capacity, d), dtype=dt)
        self._loss = np.empty(capacity, dtype=dt)
        if old is not None:
            n = min(old.shape[0], capacity)
            self._w[:n], self._grad[:n], self._loss[:n] = old[:n], self._old_grad[:n], self._old_loss[:n]

    def _ensure(self, capacity: int) -> None:
        if capacity > self._w.shape[0]:
            self._old_grad, self._old_loss = self._grad, self._loss
            self._alloc(min(max(capacity, 2 * self._w.shape[0]), self.iterations + 1))
            del self._old_grad, self._old_loss

    def _truncate(self, k: int) -> None:
        self.computed = k
        self._known_loss = k          # losses and grads are known at w_0 .. w_(known-1)
        self.diverged_at = None

    def reset(self) -> None:
        """Back to w_0, with the lesson's own α and backend."""
        self._settings = self._settings[:1]
        self._w[0] = self._w0
        self.k = 0
        self._truncate(0)

    def _advance(self, n: int, progress=None, cancel=None) -> None:
        """Compute n more steps past `computed`, stopping early at divergence."""
        k = self.computed
        n = min(n, self.iterations - k)
        if n <= 0 or self.diverged_at is not None:
            return
        self._ensure(k + n + 1)
        setting = self._setting(k)
        loss_and_grad = setting.backend.hot()
        lr = self._number(setting.lr)
        scale = None if self.lesson.grad_scale == 1 else self.grad_scale
        w_hist, grad_hist, loss_hist = self._w, self._grad, self._loss
        exact = self.dtype == "exact"
        isfinite = finite_exact if exact else math.isfinite
        every = 15 if exact else 1023       # progress and cancelling: exact steps are slow
        w = w_hist[k]
        end, known, checked, bad = k + n, k, k, None
        with quiet_arithmetic():
            while k < end:
                try:
                    loss, grad = loss_and_grad(w)            # step 1: the gradient at w_k
                    if scale is not None:
                        grad = grad * scale
                    w_next = w - lr * grad                   # steps 2 and 3
                    if exact:
                        check_exact_size(w_next, "w")
                except NotFinite:
                    bad = k
                    break
                except TooLarge as exc:
                    self.computed, self._known_loss, self.diverged_at = k, known, None
                    raise self._too_large(exc, k + 1) from None
                loss_hist[k] = loss
                grad_hist[k] = grad
                known = k + 1
                if not isfinite(loss):
                    bad = k
                    break
                w = w_next
                k += 1
                w_hist[k] = w
                if k & every == 0:
                    bad, checked = self._first_not_finite(checked, k), k
                    if bad is not None:
                        break
                    if progress is not None:
                        self.computed, self._known_loss = k, known
                        progress(k, end)
                        if cancel is not None and cancel():
                            break
        if bad is None:
            bad = self._first_not_finite(checked, k)
        if bad is not None:
            k, known = bad, min(known, bad + 1)
        self.computed, self._known_loss, self.diverged_at = k, known, bad

    def _too_large(self, exc: TooLarge, k: int) -> GrewTooLarge:
        lesson = self.lesson
        return GrewTooLarge(_("exact fractions grew past {limit} bits at step {k} (in "
                              "'{label}'); use --dtype float64 or fewer --steps").format(
                                  limit=exc.limit, k=k, label=exc.label),
                            file=lesson.label, line=lesson.line_of("dtype"), field="dtype")

    # -- cost -----------------------------------------------------------------------------

    def work(self, steps: int) -> int:
        """The estimated cost of `steps` iterations, in the units of WORK_BUDGET."""
        if not hasattr(self, "_per_step"):
            with quiet_arithmetic():
                probe = NumpyBackend(self.lesson, "float64")
                numbers = sum(probe.node_sizes(probe.weights(initial_weights(self.lesson))))
            self._numbers = numbers
            self._per_step = STEP_COST + numbers * (EXACT_COST if self.dtype == "exact" else 1)
        return steps * self._per_step

    def check_budget(self, k: int) -> None:
        """GdtutorError (naming `iterations`) if stepping on to step k would cost more than
        WORK_BUDGET: a run that would take hours is refused before it starts."""
        steps = max(0, min(k, self.iterations) - self.computed)
        cost = self.work(steps)
        if cost > WORK_BUDGET:
            lesson = self.lesson
            affordable = max(1, WORK_BUDGET // self._per_step)
            raise GdtutorError(
                _("{steps} iterations over a plan of {numbers} numbers would take about "
                  "{cost} operations, past the limit of {limit}; lower "
                  "iterations (or --steps) to at most {most}").format(
                    steps=steps, numbers=self._numbers, cost=f"{cost:.1e}",
                    limit=f"{WORK_BUDGET:.0e}", most=affordable),
                file=lesson.label, line=lesson.line_of("iterations"), field="iterations")

    def _first_not_finite(self, start: int, end: int) -> int | None:
        """The first step in start..end whose weights are not all finite (weights are checked
        in blocks: one vectorised test instead of one per step)."""
        if self._w.dtype == object or end <= start:
            return None
        finite = np.isfinite(self._w[start + 1:end + 1]).all(axis=1)
        return None if finite.all() else start + 1 + int(np.argmin(finite))

    # -- moving ---------------------------------------------------------------------------

    @property
    def at_end(self) -> bool:
        return self.k >= self.iterations or (self.diverged_at is not None and self.k >= self.diverged_at)

    def step(self) -> StepRecord | None:
        """One iteration forward; None at the end or past a divergence."""
        if self.k >= self.computed:
            self._advance(1)
        if self.k >= self.computed:
            return None
        self.k += 1
        return self.record(self.k)

    def back(self) -> bool:
        if self.k == 0:
            return False
        self.k -= 1
        return True

    def goto(self, k: int, progress: Callable[[int, int], None] | None = None,
             cancel: Callable[[], bool] | None = None) -> int:
        """Move to step k (clamped to what the lesson offers and reaches); returns where it landed."""
        k = max(0, min(int(k), self.iterations))
        if k > self.computed:
            self._advance(k - self.computed, progress, cancel)
        self.k = min(k, self.computed)
        return self.k

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Every iteration the lesson offers (or up to its divergence); GdtutorError up front
        if that costs more than WORK_BUDGET."""
        self.check_budget(self.iterations)
        self.goto(self.iterations, progress)

    # -- reading --------------------------------------------------------------------------

    def weights_at(self, k: int) -> np.ndarray:
        self._check(k, self.computed)
        return self._w[k].copy()

    def _evaluate(self, k: int):
        """Loss and grad at w_k, computing them if stepping has not."""
        if k < self._known_loss:
            return self._loss[k], self._grad[k].copy()
        backend = self._setting(k).backend
        with quiet_arithmetic():
            try:
                loss, grad = backend.loss_and_grad(self._w[k])
            except NotFinite:
                return self._number(Fraction(0)) * float("nan") if self.dtype != "exact" else None, None
            except TooLarge as exc:
                raise self._too_large(exc, k) from None
        if self.lesson.grad_scale != 1:
            with quiet_arithmetic():
                grad = grad * self.grad_scale
        return loss, grad

    def loss_at(self, k: int):
        self._check(k, self.computed)
        return self._evaluate(k)[0]

    def grad_at(self, k: int) -> np.ndarray:
        self._check(k, self.computed)
        return self._evaluate(k)[1]

    def losses(self, upto: int | None = None) -> np.ndarray:
        """Loss at w_0 .. w_upto as float64, for plotting."""
        upto = self.computed if upto is None else upto
        self._check(upto, self.computed)
        known = min(upto + 1, self._known_loss)
        out = as_float64(self._loss[:known])
        if known < upto + 1:
            last = self.loss_at(upto)
            out = np.append(out, np.nan if last is None else to_float(last))
        return out

    def weights_history(self, upto: int | None = None) -> np.ndarray:
        upto = self.computed if upto is None else upto
        return as_float64(self._w[:upto + 1])

    def record(self, k: int) -> StepRecord:
        self._check(k, self.computed, low=1)
        setting = self._setting(k - 1)
        grad = self._grad[k - 1].copy()
        lr = self._number(setting.lr)
        with quiet_arithmetic():
            step_size = lr * grad
        return StepRecord(k, self._w[k - 1].copy(), self._loss[k - 1], grad, setting.lr,
                          step_size, self._w[k].copy(), setting.backend.name)

    def nodes(self, k: int | None = None) -> list[Node]:
        """The graph at w_k (a graph lesson: at its inputs)."""
        k = self.k if k is None else k
        self._check(k, self.computed)
        with quiet_arithmetic():
            try:
                return self._setting(k).backend.nodes(self._w[k])
            except NotFinite:
                return []
            except TooLarge as exc:
                raise self._too_large(exc, k) from None

    def loss_of(self, weights) -> float:
        """The loss at any flat weights, as a float (to draw the loss against a weight)."""
        backend = self._setting(self.k).backend
        w = np.asarray(weights, dtype=self._w0.dtype if self.dtype != "exact" else np.float64)
        if self.dtype == "exact":
            w = np.array([Fraction(v).limit_denominator(10 ** 12) for v in w.reshape(-1)], dtype=object)
        with quiet_arithmetic():
            try:
                return to_float(backend.loss_and_grad(w.reshape(-1))[0])
            except (NotFinite, TooLarge):
                return float("nan")

    def fmt(self, x) -> str:
        return fmt(x, self.dtype)

    def fmt_vec(self, values) -> str:
        return fmt_vec(values, self.dtype)

    @staticmethod
    def _check(k: int, high: int, low: int = 0) -> None:
        if not low <= k <= high:
            raise IndexError(f"step {k} is outside {low}..{high}")
