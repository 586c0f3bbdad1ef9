"""The loss curve so far, L(w_0) … L(w_k), with the current step and any divergence marked."""
from __future__ import annotations

import numpy as np

from .plot_base import LINEAR_LIMIT, Plot, thin, ticks


class LossPlot(Plot):
    """Loss against step k, linear or log scale; a red line where the lesson diverged."""

    def show(self, losses: np.ndarray, k: int, diverged_at: int | None, log: bool) -> None:
        plt = self.plt
        plt.clear_figure()
        losses = np.asarray(losses, dtype=np.float64)
        finite = np.isfinite(losses)
        # a linear axis cannot reach the float64 maximum: such a curve is drawn on a log axis
        forced = not log and bool(finite.any()) and float(np.abs(losses[finite]).max()) > LINEAR_LIMIT
        log = log or forced
        usable = finite & (losses > 0) if log else finite
        steps = np.arange(len(losses))
        xs, ys = thin(steps[usable].tolist(), losses[usable].tolist())
        if xs:
            plt.plot(xs, ys, marker=self.line_marker, color="blue")
            plt.yticks(*ticks(min(ys), max(ys), log=log))
        if k < len(losses) and usable[k]:
            plt.scatter([k], [float(losses[k])], marker=self.current_marker, color="red")
        if log:
            plt.yscale("log")
        plt.xlim(0, max(k, 1))
        plt.xticks(*ticks(0, max(k, 1), whole=True))
        scale = " (log)" if log else ""
        if diverged_at is not None:
            plt.vline(diverged_at, "red")
            plt.title(f"loss{scale}: diverged at {diverged_at}")
        else:
            plt.title(f"loss{scale}, k = {k}")
        self.redraw()
