"""The one-line status at the top of a lesson: where the stepping stands, how it is set, and
what the app is doing.

What the app is doing (▶ 2 steps/s, diverged at step k, switching to torch…, loading torch…,
full precision) has a fixed place at the right end that the title cannot take: the title is
cut first, with `…`, then the settings; the state is cut only when it alone is wider than the
line.
"""
from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from ..i18n import _
from .glyphs import shown
from .literal import printable


class StatusLine(NamedTuple):
    """What the status line says; a new value redraws it."""

    title: str
    position: str          # e.g. "k = 3 of 100"
    lr: str | None         # α the next step uses, as the lesson writes it; None for a graph lesson
    backend: str
    dtype: str
    playing: bool = False
    speed: str = ""
    diverged_at: int | None = None
    busy: str = ""
    full: bool | None = None   # full precision on; None: as the screen's Numbers say


class Status(Static):
    """Lesson title, k, α, backend, dtype; then play state, divergence, work and precision."""

    _line: StatusLine | None = None

    def show(self, line: StatusLine) -> None:
        self._line = line
        full = line.full
        if full is None:
            full = bool(getattr(getattr(self.screen, "numbers", None), "full", False)) \
                if self.is_attached else False
        title = Text(shown(self, printable(line.title)), style="bold")
        settings = Text(shown(self, f"  {line.position}"))
        if line.lr is not None:
            settings.append(shown(self, "  " + _("next α = {lr}").format(lr=line.lr)))
        settings.append(shown(self, f"  {line.backend} · {line.dtype}"))
        state = Text()
        if line.playing:
            state.append(shown(self, f"  ▶ {line.speed}"), style="bold")
        if line.diverged_at is not None:
            state.append("  " + _("diverged at step {k}").format(k=line.diverged_at),
                         style="bold red")
        if line.busy:
            state.append(shown(self, f"  {printable(line.busy)}"), style="bold italic")
        if full:
            state.append("  " + _("full precision"), style="bold")
        text = fit(title, settings, state, self.content_size.width, shown(self, "…"))
        self.set_class(line.diverged_at is not None, "-diverged")
        self.update(text, layout=False)    # one line high whatever it says: no layout

    def on_resize(self) -> None:
        if self._line is not None:
            self.show(self._line)


def cut(text: Text, width: int, ellipsis: str = "…") -> Text:
    """`text` in at most `width` cells, ending in `ellipsis` where it is cut."""
    if cell_len(text.plain) <= width:
        return text
    text = text.copy()
    text.truncate(max(width - cell_len(ellipsis), 0))
    if width >= cell_len(ellipsis):
        text.append(ellipsis)
    return text


def fit(title: Text, settings: Text, state: Text, width: int, ellipsis: str = "…") -> Text:
    """One line of `width` cells: the state at the right end, whole; the settings before it;
    the title in what is left, cut with `ellipsis` (width 0, not laid out yet: everything, in
    order)."""
    line = Text(no_wrap=True, overflow="crop", end="")
    if width <= 0:
        return Text.assemble(title, settings, state, no_wrap=True, overflow="crop")
    state_width = cell_len(state.plain)
    if state_width >= width:
        return cut(state, width, ellipsis)
    room = width - state_width
    settings_width = cell_len(settings.plain)
    if settings_width >= room:
        line.append_text(cut(settings, room, ellipsis))
    else:
        line.append_text(cut(title, room - settings_width, ellipsis))
        line.append_text(settings)
    used = cell_len(line.plain)
    line.append(" " * (width - used - state_width))
    line.append_text(state)
    return line
