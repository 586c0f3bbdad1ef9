"""A PlotextPlot that survives any size: too small to draw, it says so instead of failing."""
from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual_plotext import PlotextPlot

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


def ticks(lo: float, hi: float, log: bool = False, whole: bool = False):
    """Tick positions between lo and hi, and short labels for them (`1.5e+07`, not 8 digits)."""
    if log:
        positions = np.logspace(np.log10(lo), np.log10(hi), TICKS) if hi > lo else np.array([lo])
    else:
        positions = np.linspace(lo, hi, TICKS) if hi > lo else np.array([lo])
    if whole:
        whole_numbers = whole_ticks(int(lo), int(hi)) or sorted({int(round(p)) for p in positions})
        return [float(p) for p in whole_numbers], [str(p) for p in whole_numbers]
    if log:
        return positions.tolist(), [f"{p:.3g}" for p in positions]
    tiny = (hi - lo) * 1e-6     # a linear axis through 0 is labelled 0, not 1.2e-17
    return positions.tolist(), ["0" if abs(p) < tiny else f"{p:.3g}" for p in positions]


def whole_ticks(lo: int, hi: int, room: int = 24) -> list[int] | None:
    """Evenly spaced whole ticks from lo to hi that hit both ends (0 2 4 6 8 10, 0 5 … 20),
    as many as fit in `room` columns; None when the span does not divide evenly."""
    span = hi - lo
    even = [parts for parts in (5, 4) if span > 0 and span % parts == 0]
    even.sort(key=lambda parts: not _round(span // parts))     # steps of 1, 2, 5, 25 … first
    for parts in even:
        marks = list(range(lo, hi + 1, span // parts))
        if sum(len(str(m)) + 1 for m in marks) <= room:
            return marks
    return None


def _round(step: int) -> bool:
    return str(step).rstrip("0") in ("1", "2", "5", "25")


class Plot(PlotextPlot):
    """A plot with the lesson's marker style (braille, or ASCII-safe with --ascii).

    The drawing, one strip a line, is kept until the data, the size or the theme change; a
    new point repaints only the lines that differ from the last drawing. It is read from
    plotext's matrix where tui/plotext_adapter.py allows, else it is textual-plotext's own.
    """

    def __init__(self, ascii_plot: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ascii_plot = ascii_plot
        self.line_marker = "dot" if ascii_plot else "braille"
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
            rows = [Text("(enlarge to see the plot)", style=DIM)]
        else:
            try:
                rows = self._rows(width, height)
            except Exception as error:   # plotext can fail on degenerate data; never a crash
                rows = [Text(f"(no plot: {error})", style=DIM)]
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
