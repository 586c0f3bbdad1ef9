"""The two prompts of a lesson's progress: resume where the progress file says the lesson was
left, and at the end of a lesson in predict mode the summary and the next lesson."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..errors import GdtutorError
from ..i18n import N_, _


class ResumeScreen(ModalScreen[int | None]):
    """One line at the bottom: `resume at step k? y/n`; enter is yes."""

    BINDINGS = [Binding("y,enter", "answer(True)", N_("yes"), show=False),
                Binding("n,escape", "answer(False)", N_("no"), show=False)]

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        yield Static(Text(_("resume at step {k}? y/n (enter: yes)").format(k=self.step)),
                     id="resume-line")

    def action_answer(self, yes: bool) -> None:
        if self.is_active:
            self.dismiss(self.step if yes else None)


class EndScreen(ModalScreen[bool]):
    """The lesson's summary; enter opens the next lesson, esc goes back to this one."""

    BINDINGS = [Binding("enter", "close(True)", N_("next lesson"), show=False),
                Binding("escape", "close(False)", N_("back"), show=False)]

    def __init__(self, title: str, lines: list[str], next_title: str | None) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.next_title = next_title

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(_("Lesson finished: {title}").format(title=self.title_text) + "\n\n",
                    style="bold")
        text.append("\n".join(self.lines) + "\n\n")
        if self.next_title is not None:
            text.append(_("enter: next lesson, {title}").format(title=self.next_title) + "\n")
            text.append(_("esc: back to this lesson"), style="dim")
        else:
            text.append(_("this was the last lesson of the list; esc: back"), style="dim")
        with Vertical(id="end-box"):
            yield Static(text, id="end-text")

    def action_close(self, go: bool) -> None:
        if self.is_active:
            self.dismiss(go and self.next_title is not None)


def listed(app) -> list:
    """The rows of the picker the lesson was opened from (the top-most picker on the stack),
    else those the app would list."""
    from .picker import PickerScreen
    for screen in reversed(app.screen_stack):
        if isinstance(screen, PickerScreen):
            return screen.lessons
    found = app.lessons() if callable(app.lessons) else app.lessons
    if hasattr(found, "entries"):
        return [e.lesson for e in found.entries if e.lesson is not None]
    return list(found)


def next_lesson(app, lesson):
    """The lesson after `lesson` in that list (same id and file), or None."""
    try:
        rows = listed(app)
    except GdtutorError:       # a list that cannot be read now offers no next lesson
        return None
    lessons = [row for row in rows if hasattr(row, "kind")]
    for i, row in enumerate(lessons):
        if row.id == lesson.id and row.source == lesson.source:
            return lessons[i + 1] if i + 1 < len(lessons) else None
    return None


def open_next(screen, lesson) -> None:
    """Leave `screen` as esc would, then open `lesson` from the picker."""
    app = screen.app
    if len(app.screen_stack) > 2:
        app.pop_screen()
    else:
        app.switch_screen(app.picker())
    app.open_lesson(lesson)
