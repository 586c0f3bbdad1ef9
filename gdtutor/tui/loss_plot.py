"""The loss curve so far, L(w_0) … L(w_k), with the current step and any divergence marked."""
from __future__ import annotations

import numpy as np

from ..i18n import _
from .glyphs import shown
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
        values, usable, label, why = losses, finite, _("loss"), ""
        if log:
            values, usable, label, why = log_values(losses)
        steps = np.arange(len(losses))
        xs, ys = thin(steps[usable].tolist(), values[usable].tolist())
        drawn = bool(xs) and not why
        if drawn:
            plt.plot(xs, ys, marker=self.line_marker, color="blue")
            lo, hi = min(ys), max(ys)
            if not log:
                # from 0 (or a negative loss's minimum) up: the axis stays while the loss falls
                lo = min(lo, 0.0)
                if hi > lo:
                    plt.ylim(lo, hi)
            plt.yticks(*ticks(lo, hi, log=log))
            if k < len(losses) and usable[k]:
                plt.scatter([k], [float(values[k])], marker=self.current_marker, color="red")
            if log:
                plt.yscale("log")
        right = x_limit(k, last)
        plt.xlim(0, right)
        plt.xticks(*ticks(0, right, whole=True))
        if diverged_at is not None:
            plt.vline(diverged_at, "red")
            title = _("{label}: diverged at {k}").format(label=label, k=diverged_at)
        else:
            title = _("{label}, k = {k}").format(label=label, k=k)
        plt.title(shown(self, f"{title}: {why}" if why else title))


def log_values(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray, str, str]:
    """What a log axis draws of `losses`: (values, which are drawn, the axis's name, why nothing
    is drawn or ""). A loss that is zero or negative somewhere has no logarithm: L − min L is
    drawn instead (its minimum raised to a millionth of the span, so it has one), and named so."""
    finite = np.isfinite(losses)
    if not finite.any():
        return losses, finite, _("loss (log)"), _("no finite loss to draw")
    if float(losses[finite].min()) > 0:
        return losses, finite, _("loss (log)"), ""
    low, high = float(losses[finite].min()), float(losses[finite].max())
    if high == low:
        return losses, finite, _("log(L − min L)"), _("the loss is constant")
    with np.errstate(all="ignore"):
        shifted = np.where(finite, losses - low, np.nan)
        shifted = np.where(shifted <= 0, (high - low) * 1e-6, shifted)
    return shifted, finite, _("log(L − min L)"), ""


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
