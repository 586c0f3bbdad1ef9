"""A PlotextPlot that survives any size: too small to draw, it says so instead of failing."""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual_plotext import PlotextPlot

MIN_WIDTH, MIN_HEIGHT = 16, 5
MAX_POINTS = 500    # longer series are thinned for drawing only (a plot is at most a few
                    # hundred braille dots wide); the history keeps every step
LINEAR_LIMIT = 1e300   # plotext cannot lay out a linear axis near the float64 maximum
TICKS = 5


def thin(xs: list, ys: list) -> tuple[list, list]:
    """Every n-th point of a long series, always keeping the last."""
    if len(xs) <= MAX_POINTS:
        return xs, ys
    stride = -(-len(xs) // MAX_POINTS)
    keep = list(range(0, len(xs), stride))
    if keep[-1] != len(xs) - 1:
        keep.append(len(xs) - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]


def ticks(lo: float, hi: float, log: bool = False, whole: bool = False):
    """Tick positions between lo and hi, and short labels for them (`1.5e+07`, not 8 digits)."""
    if log:
        positions = np.logspace(np.log10(lo), np.log10(hi), TICKS) if hi > lo else np.array([lo])
    else:
        positions = np.linspace(lo, hi, TICKS) if hi > lo else np.array([lo])
    if whole:
        positions = np.unique(np.round(positions))
        return positions.tolist(), [str(int(p)) for p in positions]
    tiny = (hi - lo) * 1e-6
    return positions.tolist(), ["0" if abs(p) < tiny else f"{p:.3g}" for p in positions]


class Plot(PlotextPlot):
    """A plot with the lesson's marker style (braille, or ASCII-safe with --ascii)."""

    def __init__(self, ascii_plot: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ascii_plot = ascii_plot
        self.line_marker = "dot" if ascii_plot else "braille"
        self.point_marker = "*" if ascii_plot else "dot"
        self.current_marker = "@" if ascii_plot else "●"
        self._drawn: tuple[object, Text] | None = None   # (what it was drawn for, the drawing)
        self._version = 0

    def redraw(self) -> None:
        """New data: the next render draws afresh (any other repaint reuses the last drawing)."""
        self._version += 1
        self.refresh()

    def render(self):
        if self.size.width < MIN_WIDTH or self.size.height < MIN_HEIGHT:
            return Text("(enlarge to see the plot)", style="dim")
        key = (self._version, self.size, self.app.theme, self.theme)
        if self._drawn is not None and self._drawn[0] == key:
            return self._drawn[1]
        try:
            drawing = super().render()
        except Exception as error:   # plotext can fail on degenerate data; never crash a frame
            return Text(f"(no plot: {error})", style="dim")
        self._drawn = (key, drawing)
        return drawing
