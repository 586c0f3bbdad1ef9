"""What a lesson rebuilt after an edit of its file, or in another arithmetic, keeps of what the
student did with keys: the α changes, the backend and the step, where the new lesson did not
change them itself."""
from __future__ import annotations

from typing import Callable

from .errors import GdtutorError
from .model import Lesson
from .stepper import Stepper


def rebuild(old: Stepper, lesson: Lesson, position: int,
            progress: Callable[[int, int], None] | None = None,
            cancel: Callable[[], bool] | None = None,
            make: Callable[[Lesson], Stepper] = Stepper) -> Stepper:
    """A stepper over `lesson` (made by `make`) standing where `old` stood, for two descent
    lessons; a graph lesson, or a change of kind, starts afresh.

    - the backend chosen with keys is kept if the new lesson names the same backend and
      arithmetic as the old one did (the file's own, or the new arithmetic, otherwise);
    - the α changes are replayed, and the stepper moved to step `position`, if the new
      lesson's α is the old one's; a new α in the file runs from the start with it, to the
      same step.
    It stops early at a divergence, or when `cancel()` says so: its k is then below
    `position`. GdtutorError if `make` refuses the lesson."""
    stepper = make(lesson)
    new, before = stepper.lesson, old.lesson
    if not new.kind == before.kind == "descent":
        return stepper
    if (new.backend, new.dtype) == (before.backend, before.dtype) \
            and old.backend_name != stepper.backend_name:
        try:
            stepper.set_backend(old.backend_name)
        except GdtutorError:
            pass            # the file's backend, then
    if new.lr == before.lr:
        replay_lr_changes(stepper, old.lr_changes(), position, progress, cancel)
    else:
        stepper.goto(position, progress, cancel)
    return stepper


def replay_lr_changes(stepper: Stepper, lr_changes: list[tuple[int, object]], k: int,
                      progress: Callable[[int, int], None] | None = None,
                      cancel: Callable[[], bool] | None = None) -> int:
    """Move a fresh stepper to step k, with α set where `lr_changes` (Stepper.lr_changes of
    another stepper) says; returns the step it reached (less than k at a divergence or a
    cancel)."""
    for start, lr in lr_changes:
        if stepper.goto(start, progress, cancel) < start:
            return stepper.k
        if lr != stepper.lr:
            stepper.set_lr(lr)
    return stepper.goto(k, progress, cancel)
