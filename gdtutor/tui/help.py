"""The `?` screen: every key of the screen below it, with what it does."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# how keys are written for a person
KEY_NAMES = {"space": "space", "right": "→", "left": "←", "plus": "+", "minus": "-",
             "question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]",
             "escape": "esc", "enter": "enter", "equals_sign": "=", "up": "↑", "down": "↓"}


def key_text(binding: Binding) -> str:
    return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


class HelpScreen(ModalScreen[None]):
    """A table of keys; escape, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "close", key_display="esc")]

    def __init__(self, bindings: list[Binding], title: str) -> None:
        super().__init__()
        self.bindings = bindings
        self.title_text = title

    def compose(self) -> ComposeResult:
        table = Table(title=self.title_text, show_header=True, expand=True, box=None,
                      title_style="bold")
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        for binding in self.bindings:
            table.add_row(key_text(binding), binding.tooltip or binding.description)
        table.add_row("", "")
        table.add_row("esc ? q", "close this help")
        with VerticalScroll(id="help-box"):
            yield Static(table, id="help-table")

    def action_close(self) -> None:
        if self.is_active:     # closed once, however fast the keys come
            self.dismiss(None)
