"""A PlotextPlot that survives any size: too small to draw, it says so instead of failing."""
from __future__ import annotations

import math

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual_plotext import PlotextPlot

from ..i18n import _
from ..numbers import decimal_text
from .glyphs import to_ascii
from . import plotext_adapter

MIN_WIDTH, MIN_HEIGHT = 16, 5
BUCKETS = 160       # longer series are thinned for drawing only (a plot is at most a few
                    # hundred braille dots wide, and plotext's time grows with the points);
                    # the history keeps every step
LINEAR_LIMIT = 1e300   # plotext cannot lay out a linear axis near the float64 maximum
TICKS = 5


def thin(xs: list, ys: list) -> tuple[list, list]:
    """A long series cut to BUCKETS stretches, each drawn by its lowest and highest point (in
    their order), so a bouncing loss still spans its full height; the ends are kept."""
    if len(xs) <= 2 * BUCKETS:
        return xs, ys
    values = np.asarray(ys, dtype=np.float64)
    edges = np.linspace(0, len(xs), BUCKETS + 1).astype(int)
    keep = {0, len(xs) - 1}
    for lo, hi in zip(edges[:-1], edges[1:]):
        part = values[lo:hi]
        keep.add(lo + int(part.argmin()))
        keep.add(lo + int(part.argmax()))
    order = sorted(keep)
    return [xs[i] for i in order], [ys[i] for i in order]


MANTISSAS = (1, 2, 2.5, 5)   # tick steps: these times a power of ten


def nice_ticks(lo: float, hi: float, max_ticks: int = TICKS, whole: bool = False) -> list[float]:
    """Round tick positions in [lo, hi]: every multiple of the smallest step of 1, 2, 2.5 or
    5 × 10^k that gives at most `max_ticks` of them (0 0.25 0.5 0.75 1, never 0.00342).
    `whole`: steps of at least 1 (steps of an iteration count). lo == hi gives [lo]."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo or max_ticks < 2:
        return [lo]
    exponent = math.floor(math.log10((hi - lo) / max_ticks)) - 1
    while True:
        for mantissa in MANTISSAS:
            step = mantissa * 10.0 ** exponent
            if whole and (step < 1 or step != int(step)):
                continue
            first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
            if last - first + 1 <= max_ticks:
                digits = 1 - math.floor(math.log10(step))     # 2.5e-3 has 4 decimals
                return [_clean(round(i * step, digits)) for i in range(first, last + 1)]
        exponent += 1


def _clean(value: float) -> float:
    """A multiple of a tick step without the noise of its product (0.30000000000000004);
    never -0.0."""
    return 0.0 if value == 0 else float(f"{value:.15g}")


def tick_label(value: float) -> str:
    """A tick as the lesson's float64 numbers are written (gdtutor.numbers), short: 0.25, 20,
    1.5e+07 past 10^5."""
    if value != 0 and not 1e-4 <= abs(value) < 1e5:
        return decimal_text(value, significant=3)
    return decimal_text(value)


def log_ticks(lo: float, hi: float, max_ticks: int = TICKS) -> list[float]:
    """Ticks on a log axis: powers of ten (every second, fifth … when there are many), or
    1, 2, 5 × 10^k within a single decade."""
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    low, high = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    if high - low + 1 >= 2:
        decades = (1, 2, 3, 5, *(int(m * 10 ** e) for e in range(1, 4) for m in MANTISSAS))
        every = next((m for m in decades
                      if (high - math.ceil(low / m) * m) // m + 1 <= max_ticks), 10_000)
        start = math.ceil(low / every) * every
        return [10.0 ** e for e in range(start, high + 1, every)]
    found = [_clean(m * 10.0 ** e) for e in range(low - 1, high + 1) for m in (1, 2, 5)]
    found = [v for v in found if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]
    return found if len(found) >= 2 else nice_ticks(lo, hi, max_ticks)


def ticks(lo: float, hi: float, log: bool = False, whole: bool = False, room: int = 24,
          max_ticks: int = TICKS):
    """Tick positions between lo and hi, and their labels, for plotext's xticks / yticks:
    round numbers (nice_ticks, log_ticks); `whole` steps (an iteration axis) with both ends
    marked where a round step reaches them, and labels fitting in `room` columns."""
    if log:
        positions = log_ticks(lo, hi, max_ticks)
    elif whole:
        positions = []
        for most in range(max(max_ticks, 6), 1, -1):
            positions = nice_ticks(lo, hi, most, whole=True)
            if sum(len(tick_label(p)) + 1 for p in positions) <= room:
                break
    else:
        positions = nice_ticks(lo, hi, max_ticks)
    return positions, [tick_label(p) for p in positions]


class Plot(PlotextPlot):
    """A plot with the lesson's marker style (braille, or ASCII-safe with --ascii).

    The drawing, one strip a line, is kept until the data, the size or the theme change; a
    new point repaints only the lines that differ from the last drawing. It is read from
    plotext's matrix where tui/plotext_adapter.py allows, else it is textual-plotext's own.
    """

    def __init__(self, ascii_plot: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ascii_plot = ascii_plot
        # plotext takes any one character as a marker: ASCII ones under --ascii
        self.line_marker = "." if ascii_plot else "braille"
        self.point_marker = "*" if ascii_plot else "dot"
        self.current_marker = "@" if ascii_plot else "●"
        # (drawn for, the strips, their lines to compare with the next drawing)
        self._drawn: tuple[tuple, list[Strip], list] | None = None
        self._version = 0

    def redraw(self) -> None:
        """New data: drawn now, and only the lines that differ from the last drawing are
        painted again (a new point moves a few dots; the axes and most rows stay)."""
        self._version += 1
        before = self._drawn
        if before is None or not self.is_mounted or before[0][1:] != self._key()[1:]:
            self.refresh()                      # drawn when painted
            return
        self.strips()                           # drawn now
        rows_before, rows_after = before[2], self._drawn[2]
        if len(rows_before) != len(rows_after):
            self.refresh()
            return
        changed = [y for y, (old, new) in enumerate(zip(rows_before, rows_after)) if old != new]
        if changed:
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def feed(self, plt) -> None:
        """Give plotext the data and the labels, on a cleared figure. Called before every
        build: plotext's build rewrites the data it was given (a log axis takes the log of the
        data in place), so a figure is never built twice from one feeding."""

    def _key(self) -> tuple:
        return (self._version, self.size, self.app.theme, self.theme)

    def strips(self) -> list[Strip]:
        """The plot at the widget's size, one strip a line."""
        width, height = self.size
        key = self._key()
        if self._drawn is not None and self._drawn[0] == key:
            return self._drawn[1]
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            rows = [Text(_("(enlarge to see the plot)"), style=DIM)]
        else:
            try:
                rows = self._rows(width, height)
            except Exception:   # plotext can fail on degenerate data; never a crash
                rows = [Text(_("(these numbers cannot be drawn)"), style=DIM)]
        if self.ascii_plot:        # plotext's frame and ticks are box drawing: ASCII instead
            rows = [ascii_row(row) for row in rows]
        # a line drawn as before keeps its strip (a step changes a few lines of the plot)
        old_strips, old_rows = self._drawn[1:] if self._drawn is not None else ([], [])
        console = self.app.console
        strips = []
        for y, row in enumerate(rows):
            if y < len(old_rows) and old_rows[y] == row:
                strips.append(old_strips[y])
            elif isinstance(row, Text):
                strips.append(Strip(Segment.simplify(row.render(console))))
            else:
                strips.append(Strip([Segment(text, style) for text, style in row]))
        self._drawn = (key, strips, rows)
        return strips

    def _rows(self, width: int, height: int) -> list:
        """The drawing's lines: runs read from plotext's matrix (tui/plotext_adapter.py) or,
        where that is not to be read, Text lines of textual-plotext's own rendering."""
        self.plt.clear_figure()
        self.feed(self.plt)
        if plotext_adapter.enabled:
            try:
                rows = plotext_adapter.rows(self, width, height)
            except Exception:
                # drawn again by textual-plotext: if that works, the matrix is not read again
                lines = self.drawing().split("\n")
                plotext_adapter.disable()
                return lines
            if rows is not None:
                return rows
        return self.drawing().split("\n")

    def drawing(self) -> Text:
        """textual-plotext's own drawing of the data `feed` gives, at the widget's size."""
        self.plt.clear_figure()
        self.feed(self.plt)
        text = PlotextPlot.render(self)
        if text.plain.endswith("\n"):          # plotext ends its text with a newline
            text.right_crop(1)
        return text

    def render_line(self, y: int) -> Strip:
        drawing = self.strips()
        strip = drawing[y] if y < len(drawing) else Strip.blank(0)
        return strip.crop_extend(0, self.size.width, self.visual_style.rich_style)

    def render(self) -> Text:
        """The plot as text (what the screen shows, for a caller that wants it whole)."""
        text = Text()
        for i, strip in enumerate(self.strips()):
            if i:
                text.append("\n")
            for segment in strip:
                text.append(segment.text, segment.style)
        return text


DIM = Style(dim=True)


def ascii_row(row):
    """A drawn line (Rich Text, or runs of text and style) in ASCII (tui/glyphs.py)."""
    if isinstance(row, Text):
        plain = to_ascii(row.plain)
        if len(plain) == len(row.plain):
            return Text(plain, style=row.style, spans=list(row.spans), end="")
        return Text(plain, style=row.style, end="")
    return tuple((to_ascii(text), style) for text, style in row)
