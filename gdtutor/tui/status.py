"""The one-line status at the top of a lesson: where the stepping stands and how it is set."""
from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.widgets import Static

from .literal import printable


class StatusLine(NamedTuple):
    """What the status line says; a new value redraws it."""

    title: str
    position: str          # e.g. "k = 3 of 100"
    lr: str | None         # α as the lesson writes it; None for a graph lesson
    backend: str
    dtype: str
    playing: bool = False
    speed: str = ""
    diverged_at: int | None = None
    busy: str = ""


class Status(Static):
    """Lesson title, k, α, backend, dtype, play state, and divergence."""

    def show(self, line: StatusLine) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(printable(line.title), style="bold")
        text.append(f"  {line.position}")
        if line.lr is not None:
            text.append(f"  α = {line.lr}")
        text.append(f"  {line.backend} · {line.dtype}")
        if line.playing:
            text.append(f"  ▶ {line.speed}", style="bold")
        if line.diverged_at is not None:
            text.append(f"  diverged at step {line.diverged_at}", style="bold red")
        if line.busy:
            text.append(f"  {printable(line.busy)}", style="italic")
        self.set_class(line.diverged_at is not None, "-diverged")
        self.update(text, layout=False)    # one line high whatever it says: no layout
