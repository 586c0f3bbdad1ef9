"""The lesson picker: every built-in lesson in the document's order, or a course folder's
lessons (its bad entries shown with their errors) and then the built-in lessons; Enter opens
one."""
from __future__ import annotations

from typing import Callable, Iterable, Union

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static

from ..errors import GdtutorError
from ..i18n import N_, _
from .literal import literal, say
from .spoken import said_bindings
from .too_small import TooSmall

Lessons = Union[Iterable, Callable[[], Iterable]]
OPEN = N_("open the highlighted lesson (↑ and ↓ choose)")
BUILT_IN = N_("built-in lessons")     # the last row of a course's picker


class LessonList(OptionList):
    """Textual's OptionList, whose PgUp and PgDn do nothing while it has no room to show an
    option (a picker first shown while the terminal is too small) rather than fail.

    Enter is the list's own key, not a priority key of the screen: a key is taken in the order
    it came, and over a slow link keys typed quickly arrive together (↓ ↓ enter must open the
    third lesson, not the first)."""

    BINDINGS = [Binding("enter", "select", N_("open"), tooltip=OPEN)]

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

    BINDINGS = [Binding("enter", "open", N_("open"), tooltip=OPEN),
                Binding("escape", "back", N_("back"), show=False,
                        tooltip=N_("back to the course's picker (from the built-in lessons)")),
                *(Binding(str(d), f"digit({d})", N_("open N"), show=False,
                          tooltip=N_("open lesson N (its number in the list)"))
                  for d in range(10))]
    DIGITS_WAIT = 0.8   # seconds a typed number waits for another digit (lesson 12 after 1)

    def __init__(self, lessons: Lessons, lang: str = "en") -> None:
        super().__init__()
        self._source = lessons
        self._lessons: list | None = None
        self.course = None      # the Course listed, if it is one
        self.lang = lang
        self._typed = ""         # digits typed so far, naming a lesson by its number
        self._typed_timer = None

    @property
    def lessons(self) -> list:
        """The rows listed (read now if they were not yet): lessons; for a course, also each
        bad entry (a catalog.Entry with its error) in its place and BUILT_IN last."""
        if self._lessons is None:
            found = self._source() if callable(self._source) else self._source
            if hasattr(found, "entries"):
                self.course = found
                self._lessons = [e.lesson or e for e in found.entries] + [BUILT_IN]
            else:
                self._lessons = list(found)
        return self._lessons

    def compose(self) -> ComposeResult:
        from rich.table import Table
        from textual.widgets.option_list import Option

        title = Static(_("gdtutor: backpropagation and gradient descent, one step at a time"),
                       id="picker-title")
        try:
            lessons = self.lessons
        except GdtutorError as error:     # a broken built-in lesson: said here, q still quits
            say(self, error, severity="error", timeout=8)
            return [title, Static(literal(error, style="bold red"), id="picker-error"),
                    Footer(compact=True), TooSmall()]
        if self.course is not None:
            title = Static(literal(f"{self.course.title.get(self.lang)}  ({self.course.folder})"),
                           id="picker-title")
        options = []
        keeper = getattr(self.app, "keeper", None)
        progress = keeper.summaries() if keeper is not None else {}
        for number, lesson in enumerate(lessons, 1):
            if lesson is BUILT_IN:
                options.append(Option(Text(f"   {_(BUILT_IN)}", style="bold")))
                continue
            if getattr(lesson, "error", None) is not None:     # a course's bad entry
                options.append(Option(literal(f"{number}. {lesson.name}: {lesson.error}",
                                              style="red"), disabled=True))
                continue
            prompt = Table.grid(padding=(0, 1))
            prompt.add_column(width=2, justify="right")
            prompt.add_column(ratio=1, overflow="fold")   # Chinese has no spaces to wrap at
            name = literal(lesson.title.get(self.lang), style="bold")
            name.append(f"  {lesson.id}", style="dim")
            prompt.add_row(f"{number}.", name)
            summary = lesson.summary.get(self.lang)
            if summary:
                prompt.add_row("", literal(summary, style="italic"))
            if progress.get(lesson.id):
                from .keeping import progress_line
                prompt.add_row("", Text(progress_line(progress[lesson.id], lesson), style="dim"))
            options.append(Option(prompt))     # ids may repeat in a folder
        return [title, LessonList(*options, id="lessons"), Footer(compact=True), TooSmall()]

    @property
    def active_bindings(self):
        """Textual's active bindings, said in the student's language (the footer, the help)."""
        return said_bindings(super().active_bindings)

    def _option_list(self):
        found = self.query(OptionList)
        return found.first() if found else None

    def on_mount(self) -> None:
        options = self._option_list()
        if options is not None:
            options.highlighted = 0

    def on_option_list_option_selected(self, event) -> None:
        self._open(self.lessons[event.option_index])

    def action_open(self) -> None:
        options = self._option_list()
        index = options.highlighted if options is not None else None
        if index is not None:
            self._open(self.lessons[index])

    def _open(self, row) -> None:
        if row is BUILT_IN:
            from ..catalog import builtin
            self.app.push_screen(PickerScreen(builtin, self.lang))
        elif getattr(row, "error", None) is not None:
            say(self, row.error, severity="error", timeout=8)
        else:
            self.app.open_lesson(row)

    def action_digit(self, digit: int) -> None:
        """A digit: lesson N opens as soon as no further digit could name another lesson."""
        if self._typed_timer is not None:
            self._typed_timer.stop()
            self._typed_timer = None
        self._typed += str(digit)
        try:
            numbered = len([row for row in self.lessons if row is not BUILT_IN])
        except GdtutorError:      # a broken built-in lesson: said on the screen already
            self._typed = ""
            return
        if int(self._typed) * 10 > numbered:
            self._open_typed()
        else:
            self._typed_timer = self.set_timer(self.DIGITS_WAIT, self._open_typed)

    def _open_typed(self) -> None:
        typed, self._typed, self._typed_timer = self._typed, "", None
        number = int(typed)
        rows = self.lessons
        if not 1 <= number <= len(rows) or rows[number - 1] is BUILT_IN:
            self.notify(_("no lesson {n}").format(n=number), severity="warning", timeout=3)
            return
        options = self._option_list()
        if options is not None:
            options.highlighted = number - 1
        self._open(rows[number - 1])

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:      # the built-in lessons, over a course's picker
            self.app.pop_screen()
