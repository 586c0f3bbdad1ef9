"""The loss as a function of the one weight, with the iterates w0, w1, w2, … on the curve."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..i18n import _
from .glyphs import shown
from .plot_base import Plot, ticks

SAMPLES = 61      # points of the curve; plotext joins them with lines, so a few per
                  # braille column are smooth (and its time grows with every point)
RANGE_LIMIT = 1e6   # iterates further out than this are off the plot (the title says so)


class Parabola(Plot):
    """L(w) over the range the iterates cover; the points show why the steps shrink."""

    def __init__(self, loss_of: Callable[[list[float]], float], weight: str = "w",
                 ascii_plot: bool = False, **kwargs) -> None:
        super().__init__(ascii_plot=ascii_plot, **kwargs)
        self.loss_of = loss_of
        self.weight = weight
        self._range: tuple[float, float] | None = None
        self._curve: tuple[list[float], list[float]] = ([], [])
        self._shown: tuple = (np.zeros(0), np.zeros(0), 0, "")   # what show() was given

    def _widen(self, weights: np.ndarray) -> None:
        """Grow the drawn range (never shrink it while stepping) to cover `weights`."""
        finite = weights[np.isfinite(weights) & (np.abs(weights) < RANGE_LIMIT)]
        if finite.size == 0:
            return
        lo, hi = float(finite.min()), float(finite.max())
        if self._range is not None:
            lo, hi = min(lo, self._range[0]), max(hi, self._range[1])
            if (lo, hi) == self._range:
                return
        self._range = (lo, hi)
        span = hi - lo if hi > lo else max(1.0, abs(lo))
        left, right = lo - span / 4, hi + span / 4
        xs = np.linspace(left, right, SAMPLES).tolist()
        ys = [self.loss_of([x]) for x in xs]
        keep = [i for i, y in enumerate(ys) if math.isfinite(y)]
        self._curve = ([xs[i] for i in keep], [ys[i] for i in keep])

    def forget_range(self) -> None:
        """On reset: let the range fit the next iterates afresh."""
        self._range = None

    def show(self, weights: np.ndarray, losses: np.ndarray, k: int, cover: np.ndarray,
             current: str) -> None:
        """Iterates w_0..w_k with their losses; `cover` are all weights the range must hold."""
        self._widen(np.asarray(cover, dtype=np.float64).reshape(-1))
        self._shown = (np.asarray(weights, dtype=np.float64).reshape(-1),
                       np.asarray(losses, dtype=np.float64).reshape(-1), k, current)
        self.redraw()

    def feed(self, plt) -> None:
        ws, ls, k, current = self._shown
        xs, ys = self._curve
        if xs:
            plt.plot(xs, ys, marker=self.line_marker, color="blue")
            plt.xticks(*ticks(min(xs), max(xs)))
            plt.yticks(*ticks(min(ys), max(ys)))
        ok = np.isfinite(ws) & np.isfinite(ls)
        ok &= np.abs(ws) < RANGE_LIMIT
        if ok[:-1].any():
            plt.scatter(ws[:-1][ok[:-1]].tolist(), ls[:-1][ok[:-1]].tolist(),
                        marker=self.point_marker, color="green")
        if ok.size and ok[-1]:
            plt.scatter([float(ws[-1])], [float(ls[-1])], marker=self.current_marker, color="red")
        w = self.weight
        title = _("L({w}) with {w}0…{w}{k}; {w}{k} = {value}").format(w=w, k=k, value=current)
        if not (ok.size and ok[-1]):
            title += " " + _("(off the plot)")
        plt.title(shown(self, title))
