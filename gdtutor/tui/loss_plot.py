"""The loss curve so far, L(w_0) … L(w_k), with the current step and any divergence marked."""
from __future__ import annotations

import numpy as np

from .plot_base import LINEAR_LIMIT, Plot, thin, ticks


class LossPlot(Plot):
    """Loss against step k, linear or log scale; a red line where the lesson diverged."""

    _shown: tuple = (np.zeros(0), 0, None, False, None)

    def show(self, losses: np.ndarray, k: int, diverged_at: int | None, log: bool,
             last: int | None = None) -> None:
        """L(w_0) … L(w_k); `last` is the lesson's last step (the x axis never passes it)."""
        self._shown = (np.asarray(losses, dtype=np.float64), k, diverged_at, log, last)
        self.redraw()

    def feed(self, plt) -> None:
        losses, k, diverged_at, log, last = self._shown
        finite = np.isfinite(losses)
        # a linear axis cannot reach the float64 maximum: such a curve is drawn on a log axis
        forced = not log and bool(finite.any()) and float(np.abs(losses[finite]).max()) > LINEAR_LIMIT
        log = log or forced
        usable = finite & (losses > 0) if log else finite
        steps = np.arange(len(losses))
        xs, ys = thin(steps[usable].tolist(), losses[usable].tolist())
        if xs:
            plt.plot(xs, ys, marker=self.line_marker, color="blue")
            lo, hi = min(ys), max(ys)
            if not log:
                # from 0 (or a negative loss's minimum) up: the axis stays while the loss falls
                lo = min(lo, 0.0)
                if hi > lo:
                    plt.ylim(lo, hi)
            plt.yticks(*ticks(lo, hi, log=log))
        if k < len(losses) and usable[k]:
            plt.scatter([k], [float(losses[k])], marker=self.current_marker, color="red")
        if log:
            plt.yscale("log")
        right = x_limit(k, last)
        plt.xlim(0, right)
        plt.xticks(*ticks(0, right, whole=True))
        scale = " (log)" if log else ""
        if diverged_at is not None:
            plt.vline(diverged_at, "red")
            plt.title(f"loss{scale}: diverged at {diverged_at}")
        else:
            plt.title(f"loss{scale}, k = {k}")


def x_limit(k: int, last: int | None = None) -> int:
    """The smallest of 10, 20, 50, 100, 200, 500, … at or past step k, and never past the
    lesson's last step. The x axis moves in a few jumps, not at every step: the student sees
    the curve grow rather than squeeze, and a step redraws only the lines it touches."""
    scale = 10
    while True:
        for m in (1, 2, 5):
            if m * scale >= k:
                return max(1, min(m * scale, last)) if last else m * scale
        scale *= 10
