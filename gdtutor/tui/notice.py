"""One line under the status: a lesson file's edit that did not load, or a change of arithmetic."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from .glyphs import shown
from .literal import printable


class Notice(Static):
    """Hidden while there is nothing to say; an error is shown as one."""

    def show(self, message: str = "", error: bool = False) -> None:
        self.set_class(bool(message), "-shown")
        self.set_class(error and bool(message), "-error")
        self.update(Text(shown(self, printable(message)), no_wrap=True, overflow="ellipsis"))

    @property
    def message(self) -> str:
        return str(self.content) if self.has_class("-shown") else ""
