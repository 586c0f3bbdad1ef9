"""Stepping that never holds the screen: the history is computed in timed slices with a look at
the cancel flag between them, and an exact lesson whose fractions grow until each step takes
several times longer than the one before goes no further before a step would take seconds."""
from __future__ import annotations

import time
from typing import Callable

from ..errors import GdtutorError, GrewTooLarge
from ..i18n import _
from ..stepper import Stepper, StepRecord

FRAME = 1 / 60      # seconds of lesson computation the UI thread may spend at once
SLICE = 0.004       # seconds of stepping between two looks at the cancel flag
SLOW_STEP = 0.05    # CPU seconds: a growing exact step expected to take longer is not taken
GROWTH = 8          # growing: the last step took this many times the lesson's fastest step


class StepTooSlow(GdtutorError):
    """The next exact step would take too long: the fractions grow with every step."""


class PacedStepper(Stepper):
    """A Stepper whose goto and step compute in timed slices (see `compute`).

    Exact fractions can grow without limit (w·w·w·w at w = 1/3 triples its digits every step,
    and a step costs about seven times the one before): a single multiplication of such
    numbers holds the interpreter, so no flag can stop it. The step times tell it: once a step
    took GROWTH times the fastest one and the next is expected past SLOW_STEP, no step past
    it is computed (`stopped_at`), and stepping on says so.
    """

    def __init__(self, lesson) -> None:
        self.step_time = 0.0          # CPU seconds the last computed step took
        self.next_step_time = 0.0     # what the next one is expected to take
        self.fastest: float | None = None
        self.stopped_at: int | None = None   # the last step computed: the next is too slow
        self.stop: GrewTooLarge | None = None   # the core's own stop, where it came first
        super().__init__(lesson)

    # -- what can be shown ---------------------------------------------------------------

    @property
    def last(self) -> int:
        """The highest step that can be shown. Step `stopped_at` is computed, but showing it
        needs the loss at its weights: the next step's work."""
        if self.stopped_at is None:
            return self.iterations
        return max(0, min(self.iterations, self.stopped_at - 1))

    def ready_for(self, k: int) -> bool:
        """True when showing step k computes nothing: the step after it is computed (so its
        loss is known), or the lesson ends or diverges before."""
        return (self.computed > k or self.computed >= self.iterations
                or self.diverged_at is not None or k > self.last)

    @property
    def slow(self) -> bool:
        """The next step is expected to take longer than a frame."""
        return self.next_step_time > FRAME

    def too_slow(self) -> StepTooSlow:
        if self.stop is not None:       # the core's size limit came before the time limit
            return StepTooSlow(self.stop.message, file=self.stop.file, line=self.stop.line,
                               field=self.stop.field)
        return StepTooSlow(_(
            "exact fractions grow with every step here: step {k} took {took} ms and the next "
            "would take about {next} ms, each one longer; the tutor stops at step {last} "
            "(t runs the lesson in float64)").format(
                k=self.stopped_at, took=f"{self.step_time * 1000:.0f}",
                next=f"{self.next_step_time * 1000:.0f}", last=self.last),
            file=self.lesson.label, line=self.lesson.line_of("dtype"), field="dtype")

    # -- computing -------------------------------------------------------------------------

    def compute(self, target: int, progress: Callable[[int, int], None] | None = None,
                cancel: Callable[[], bool] | None = None, budget: float | None = None) -> int:
        """Compute the history up to step `target` (k stays where it is), in slices of about
        SLICE seconds (one step a slice in exact arithmetic, where steps can grow): after each,
        progress(computed, target) is told and cancel() asked. With `budget`, it stops before
        a slice expected to end past that many seconds. Returns the steps computed."""
        start, n = time.perf_counter(), 1
        # k is never touched: the screen reads it while a worker computes
        while self.computed < min(target, self.iterations, self._limit()) \
                and self.diverged_at is None:
            if budget is not None and \
                    time.perf_counter() - start + n * self.next_step_time > budget:
                break
            before, began = self.computed, time.thread_time()
            try:
                self._advance(min(target, before + n) - before)
            except GrewTooLarge as stop:       # the steps before it stand
                self.stopped_at, self.stop = self.computed, stop
                break
            done = self.computed - before
            if done <= 0:
                break
            self._timed((time.thread_time() - began) / done)
            if self.dtype != "exact":
                n = max(1, min(4 * n, int(SLICE / max(self.step_time, 1e-9))))
            if progress is not None:
                progress(self.computed, target)
            if cancel is not None and cancel():
                break
        return self.computed

    def _limit(self) -> int:
        return self.iterations if self.stopped_at is None else self.stopped_at

    def _timed(self, per_step: float) -> None:
        previous, self.step_time = self.step_time, per_step
        self.fastest = per_step if self.fastest is None else min(self.fastest, per_step)
        growth = per_step / previous if previous > 0 else 1.0
        self.next_step_time = per_step * max(1.0, growth)
        if (self.dtype == "exact" and self.next_step_time > SLOW_STEP
                and per_step > GROWTH * self.fastest):
            self.stopped_at = self.computed

    # -- moving ----------------------------------------------------------------------------

    def step(self) -> StepRecord | None:
        if self.k >= self.last and self.stopped_at is not None:
            raise self.too_slow()
        self.compute(self.k + 2)
        return Stepper.step(self)

    def goto(self, k: int, progress: Callable[[int, int], None] | None = None,
             cancel: Callable[[], bool] | None = None) -> int:
        """Stepper.goto, computed in slices; it lands where the loss is known (short of k when
        cancelled, at a divergence, or at `last`)."""
        k = max(0, min(int(k), self.iterations))
        self.compute(k + 1, progress, cancel)
        land = min(k, self.last, self.computed)
        if not self.ready_for(land):
            land = max(0, land - 1)
        return Stepper.goto(self, land)

    def set_lr(self, lr) -> None:
        super().set_lr(lr)
        self.stopped_at = self.stop = None       # measured again from here

    def set_backend(self, name: str) -> None:
        super().set_backend(name)
        self.stopped_at = self.stop = None
