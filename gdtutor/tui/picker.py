"""The lesson picker: every built-in lesson in the document's order; Enter opens one."""
from __future__ import annotations

from typing import Callable, Iterable, Union

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static

from ..errors import GdtutorError
from .too_small import TooSmall

Lessons = Union[Iterable, Callable[[], Iterable]]
OPEN = "open the highlighted lesson (↑ and ↓ choose)"


class LessonList(OptionList):
    """Textual's OptionList, whose PgUp and PgDn do nothing while it has no room to show an
    option (a picker first shown while the terminal is too small) rather than fail.

    Enter is the list's own key, not a priority key of the screen: a key is taken in the order
    it came, and over a slow link keys typed quickly arrive together (↓ ↓ enter must open the
    third lesson, not the first)."""

    BINDINGS = [Binding("enter", "select", "open", tooltip=OPEN)]

    def action_page_up(self) -> None:
        if self.scrollable_content_region:
            super().action_page_up()

    def action_page_down(self) -> None:
        if self.scrollable_content_region:
            super().action_page_down()


class PickerScreen(Screen):
    """A list of lessons: title in the chosen language, id, and a one-line summary.

    `lessons` is a list, or a function giving one (`lesson.builtin`), read when the picker is
    composed: under a lesson opened from the command line, that is when esc first asks for it.
    """

    BINDINGS = [Binding("enter", "open", "open", tooltip=OPEN)]

    def __init__(self, lessons: Lessons, lang: str = "en") -> None:
        super().__init__()
        self._source = lessons
        self._lessons: list | None = None if callable(lessons) else list(lessons)
        self.lang = lang

    @property
    def lessons(self) -> list:
        """The lessons listed (read now if they were not yet)."""
        if self._lessons is None:
            self._lessons = list(self._source())
        return self._lessons

    def compose(self) -> ComposeResult:
        from rich.table import Table
        from textual.widgets.option_list import Option

        title = Static("gdtutor: backpropagation and gradient descent, one step at a time",
                       id="picker-title")
        try:
            lessons = self.lessons
        except GdtutorError as error:     # a broken built-in lesson: said here, q still quits
            self.notify(str(error), severity="error", timeout=8)
            return [title, Static(Text(str(error), style="bold red"), id="picker-error"),
                    Footer(compact=True), TooSmall()]
        options = []
        for number, lesson in enumerate(lessons, 1):
            prompt = Table.grid(padding=(0, 1))
            prompt.add_column(width=2, justify="right")
            prompt.add_column(ratio=1)
            name = Text(lesson.title.get(self.lang), style="bold")
            name.append(f"  {lesson.id}", style="dim")
            prompt.add_row(f"{number}.", name)
            summary = lesson.summary.get(self.lang)
            if summary:
                prompt.add_row("", Text(summary, style="italic"))
            options.append(Option(prompt, id=lesson.id))
        return [title, LessonList(*options, id="lessons"), Footer(compact=True), TooSmall()]

    def _option_list(self):
        found = self.query(OptionList)
        return found.first() if found else None

    def on_mount(self) -> None:
        options = self._option_list()
        if options is not None:
            options.highlighted = 0

    def on_option_list_option_selected(self, event) -> None:
        self.app.open_lesson(self.lessons[event.option_index])

    def action_open(self) -> None:
        options = self._option_list()
        index = options.highlighted if options is not None else None
        if index is not None:
            self.app.open_lesson(self.lessons[index])
