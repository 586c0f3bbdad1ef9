"""A lesson's stepper built again (from an edited file, or in another arithmetic) at the same
place: the student's α changes replayed, then the same step."""
from __future__ import annotations

from typing import Callable

from ..stepper import Stepper


def replay(stepper: Stepper, lr_changes: list[tuple[int, object]], k: int,
           progress: Callable[[int, int], None] | None = None,
           cancel: Callable[[], bool] | None = None) -> int:
    """Move a fresh stepper to step k, with α set where `lr_changes` (Stepper.lr_changes of
    the old one) says; returns the step it reached (less than k at a divergence or a cancel)."""
    for start, lr in lr_changes:
        if stepper.goto(start, progress, cancel) < start:
            return stepper.k
        if lr != stepper.lr:
            stepper.set_lr(lr)
    return stepper.goto(k, progress, cancel)
