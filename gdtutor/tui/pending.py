"""A lesson that asks for torch opens at once: its stepper is built while torch loads."""
from __future__ import annotations

import importlib.util
import sys
from fractions import Fraction

from ..backend import weight_names
from ..numbers import fmt, fmt_vec


def needs_loading(lesson) -> bool:
    """True when opening `lesson` would first wait for `import torch` (seconds, not frames)."""
    return (lesson.backend == "torch" and "torch" not in sys.modules
            and importlib.util.find_spec("torch") is not None)


class PendingStepper:
    """Stands in for the Stepper until torch is imported.

    It knows what a screen needs to lay itself out (the lesson, the names of the weights, how
    numbers are written, k = 0) and no number that would need torch; `load` builds the real
    Stepper, in a worker, after the first frame is on screen.
    """

    pending = True

    def __init__(self, lesson) -> None:
        self.lesson = lesson
        self.dtype = lesson.dtype
        self.iterations = lesson.iterations
        self.weight_names = weight_names(lesson)
        self.k = self.computed = 0
        self.diverged_at = None
        self.lr = Fraction(lesson.lr)
        self.backend_name = lesson.backend
        self._stepper = None

    def fmt(self, x) -> str:
        return fmt(x, self.dtype)

    def fmt_vec(self, values) -> str:
        return fmt_vec(values, self.dtype)

    def loss_of(self, weights) -> float:
        """Only ever asked once the stepper is loaded (the plots draw after that)."""
        return self._stepper.loss_of(weights) if self._stepper is not None else float("nan")

    def load(self):
        """The real Stepper (imports torch): call from a worker thread."""
        from .paced import PacedStepper
        self._stepper = PacedStepper(self.lesson)
        return self._stepper
