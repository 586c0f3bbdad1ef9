"""The lesson picker: every built-in lesson in the document's order; Enter opens one."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from .too_small import TooSmall


class PickerScreen(Screen):
    """A list of lessons: title in the chosen language, id, and a one-line summary."""

    BINDINGS = [Binding("enter", "open", "open", priority=True,
                        tooltip="open the highlighted lesson (↑ and ↓ choose)")]

    def __init__(self, lessons, lang: str = "en") -> None:
        super().__init__()
        self.lessons = list(lessons)
        self.lang = lang

    def compose(self) -> ComposeResult:
        yield Static("gdtutor: backpropagation and gradient descent, one step at a time",
                     id="picker-title")
        options = []
        for number, lesson in enumerate(self.lessons, 1):
            prompt = Table.grid(padding=(0, 1))
            prompt.add_column(width=2, justify="right")
            prompt.add_column(ratio=1)
            title = Text(lesson.title.get(self.lang), style="bold")
            title.append(f"  {lesson.id}", style="dim")
            prompt.add_row(f"{number}.", title)
            summary = lesson.summary.get(self.lang)
            if summary:
                prompt.add_row("", Text(summary, style="italic"))
            options.append(Option(prompt, id=lesson.id))
        yield OptionList(*options, id="lessons")
        yield Footer(compact=True)
        yield TooSmall()

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.open_lesson(self.lessons[event.option_index])

    def action_open(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self.app.open_lesson(self.lessons[index])
