"""A widget of styled lines drawn straight into strips, for the panels that change every step.

A Static turns its Rich text into Textual content, measures it by rendering it, and asks for a
layout of the screen on every update. The steps panel and the graph change every step but
rarely change height. Here a line is a list of (text, style) runs: folding it to the width is
arithmetic on its characters, a strip is made from each folded line when the line is first
painted, and a layout is asked for only when the number of lines changes.
"""
from __future__ import annotations

import functools
from typing import Iterable, Sequence

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from .glyphs import ascii_on, to_ascii

Run = tuple[str, str]          # text and a Rich style string ("bold", "dim", "")
Line = Sequence[Run]


@functools.lru_cache(maxsize=256)
def style_of(spec: str) -> Style:
    return Style.parse(spec) if spec else Style()


def plain(line: Line) -> str:
    return "".join(text for text, _ in line)


def fold(line: Line, width: int) -> list[list[Run]]:
    """`line` cut into lines of at most `width` cells: at the last space that fits, else at
    the width; the runs keep their styles across the cuts."""
    text = plain(line)
    if width <= 0 or cell_len(text) <= width:
        return [list(line)]
    sizes = [get_character_cell_size(c) for c in text]
    cuts, start = [], 0
    while start < len(text):
        used, end = 0, start
        while end < len(text) and used + sizes[end] <= width:
            used += sizes[end]
            end += 1
        if end < len(text):
            space = text.rfind(" ", start + 1, end + 1)
            if space > start:
                end = space + 1           # the space stays at the end of the line
        end = max(end, start + 1)
        cuts.append((start, end))
        start = end
    return [_slice(line, a, b) for a, b in cuts]


def _slice(line: Line, start: int, end: int) -> list[Run]:
    runs, offset = [], 0
    for text, style in line:
        a, b = max(start - offset, 0), min(end - offset, len(text))
        if a < b:
            runs.append((text[a:b], style))
        offset += len(text)
    return runs


class Writer:
    """Builds lines of runs the way Rich's Text.append builds text: a newline starts a line."""

    def __init__(self) -> None:
        self.lines: list[list[Run]] = [[]]

    def add(self, text: str, style: str = "") -> "Writer":
        first, *rest = text.split("\n")
        if first:
            self.lines[-1].append((first, style))
        for part in rest:
            self.lines.append([(part, style)] if part else [])
        return self


class Lines(Widget):
    """Styled lines, folded to the width; `show_lines` repaints only the lines that changed,
    and lays the screen out again only when the height changes."""

    DEFAULT_CSS = """
    Lines {
        height: auto;
    }
    """

    STICKY = False   # True: never shrink while the width stays (numbers that grow and shrink
                     # by a line from step to step would make everything below jump)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[Line] = []
        self._folded: tuple[int, list[list[Run]]] | None = None   # (width, folded lines)
        self._tallest = (0, 0)                                      # (width, most lines)
        self._strips: dict[int, Strip] = {}
        self._base: Style | None = None

    def show_lines(self, lines: Iterable[Line]) -> None:
        if ascii_on(self):      # --ascii: every glyph in ASCII (tui/glyphs.py)
            lines = [tuple((to_ascii(text), style) for text, style in line) for line in lines]
        else:
            lines = [tuple(line) for line in lines]
        if len(lines) > 1 and not lines[-1]:
            lines.pop()                        # text ending in a newline: no blank last line
        if lines == self._lines:
            return
        width, height = self.size
        before = self._folded[1] if self._folded and self._folded[0] == width else None
        self._lines = lines
        self._folded = None
        if not width or not self.is_mounted or before is None:
            self._strips.clear()
            self.refresh(layout=True)
            return
        after = self.folded(width)
        if self._height(width, after) != height and not self.styles.height.is_cells:
            self._strips.clear()
            self.refresh(layout=True)
            return
        # the same height: only the lines that changed are painted again
        changed = [y for y in range(max(len(before), len(after)))
                   if (before[y] if y < len(before) else None)
                   != (after[y] if y < len(after) else None)]
        for y in changed:
            self._strips.pop(y, None)
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def folded(self, width: int) -> list[list[Run]]:
        if self._folded is None or self._folded[0] != width:
            if self._folded is not None:
                self._strips.clear()           # a new width: every line is painted again
            rows = [row for line in self._lines for row in fold(line, width)]
            self._folded = (width, rows)
        return self._folded[1]

    def _height(self, width: int, rows: list) -> int:
        if not self.STICKY:
            return len(rows)
        return max(len(rows), self._tallest[1] if self._tallest[0] == width else 0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        height = self._height(width, self.folded(width))
        if self.STICKY:
            self._tallest = (width, height)
        return height

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((cell_len(plain(line)) for line in self._lines), default=0)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    @property
    def content(self) -> Text:
        """The lines as one Rich text (unfolded)."""
        text = Text()
        for i, line in enumerate(self._lines):
            if i:
                text.append("\n")
            for part, style in line:
                text.append(part, style)
        return text

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        rows = self.folded(width)              # a new width forgets the strips
        strip = self._strips.get(y)
        if strip is None:
            if not self._strips:               # the first line painted since a change
                self._base = self.rich_style   # (a new style also forgets the strips)
            base = self._base
            runs = rows[y] if y < len(rows) else []
            strip = Strip([Segment(text, base + style_of(style)) for text, style in runs])
            strip = strip.adjust_cell_length(width, base)
            self._strips[y] = strip
        return strip
