"""The app's progress file (SPEC section 8): events appended as they happen, summaries read
when the picker is built; a file that cannot be written is said once, and the tutor goes on."""
from __future__ import annotations

from ..i18n import _
from ..progress import ProgressLog, Summary


class Keeper:
    """One ProgressLog for the whole app; `notify(message)` says a failure once."""

    def __init__(self, log: ProgressLog, notify) -> None:
        self.log = log
        self.notify = notify
        self.failed = False

    def write(self, event: str, lesson, step: int, *args, **kwargs) -> None:
        """Append one event (`attempt`, `reached` or `finished`); an OSError is said once."""
        try:
            getattr(self.log, event)(lesson, step, *args, **kwargs)
        except OSError as error:
            self._failed(error)

    def summaries(self) -> dict[str, Summary]:
        """This user's summary per lesson id; {} when the file cannot be read."""
        try:
            return self.log.summaries()
        except OSError as error:
            self._failed(error)
            return {}

    def summary(self, lesson) -> Summary:
        found = self.summaries().get(lesson.id)
        return found or Summary(self.log.user, lesson.id)

    def _failed(self, error: OSError) -> None:
        if self.failed:
            return
        self.failed = True
        reason = error.strerror or type(error).__name__
        self.notify(_("progress is not saved: {path}: {reason}").format(
            path=self.log.path, reason=reason))


def progress_line(summary: Summary | None, lesson) -> str:
    """The picker's line for a lesson's progress: `reached 4 of 20 · first try 3/4 · ✓`;
    "" for a lesson not started."""
    if summary is None or not (summary.reached or summary.predicted or summary.finished):
        return ""
    if lesson.kind == "descent":
        parts = [_("reached {k} of {n}").format(k=summary.reached, n=lesson.iterations)]
    else:
        parts = [_("reached step {k}").format(k=summary.reached)]
    if summary.predicted:
        parts.append(_("first try {n}/{m}").format(n=summary.first_try, m=summary.predicted))
    if summary.finished:
        parts.append(_("finished ✓"))
    return " · ".join(parts)
