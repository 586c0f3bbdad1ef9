"""The one-line bar naming the views under the steps, with the shown one highlighted."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..i18n import N_, _

VIEWS = (("graph", "1", N_("graph")), ("history", "2", N_("history")),
         ("lesson", "3", N_("lesson text")), ("picture", "4", N_("picture")))


class ViewBar(Static):
    """`1 graph  2 history  3 lesson text`: which key shows which view."""

    def show(self, current: str, caption: str = "") -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for view, key, label in VIEWS:
            style = "reverse bold" if view == current else "dim"
            text.append(f" {key} {_(label)} ", style=style)
            text.append(" ")
        if caption:
            text.append(caption, style="italic")
        self.update(text)
