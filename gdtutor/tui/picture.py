"""View 4 of the descent screen, "picture": what the numbers look like.

- a lesson with one feature (y = w·x, or w·x + b): the data as points and the line the
  current weights fit through them;
- a lesson with two weights: level sets of L(w1, w2) (points of a grid where L crosses a few
  levels, plotext has no contour plot) and the path of the iterates w_0 … w_k, which shows
  gradDescent's zig-zag across the steep direction while it creeps along the slow one.

Both follow the student's steps. It sits in the view bar beside the graph: at 80×24 the left
pane has about 44×15 cells, room for one plotext figure that updates with every step."""
from __future__ import annotations

import numpy as np
from textual.widget import Widget
from textual.widgets import Static

from ..analysis import hessian, is_quadratic
from ..i18n import _
from .plot_base import Plot, ticks

RANGE_LIMIT = 1e6    # iterates further out than this stay off the picture
LEVELS = 5           # level sets drawn: L* + (L_top − L*)·4^(−i)
PATH_POINTS = 400    # a longer path is drawn through this many of its points
COARSE = 40          # grid side for a loss that is not quadratic (one backend call a point)


def kind_of(stepper) -> str | None:
    """"data" for a linear lesson with one feature, "contour" for two weights, else None."""
    lin = stepper.lesson.linear
    if lin is not None:
        d = len(lin.X[0])
        if d == 1 or (d == 2 and lin.bias):
            return "data"
    if len(stepper.weight_names) == 2:
        return "contour"
    return None


def picture_view(stepper, ascii_plot: bool, widget_id: str = "picture") -> Widget:
    """The picture for this lesson, or a line saying why there is none."""
    kind = kind_of(stepper)
    if kind == "data":
        return DataPicture(stepper, ascii_plot=ascii_plot, id=widget_id)
    if kind == "contour":
        return ContourPicture(stepper, ascii_plot=ascii_plot, id=widget_id)
    return NoPicture(_("no picture for {n} weights: the data are drawn for one feature, "
                       "the loss surface for two weights").format(n=len(stepper.weight_names)),
                     id=widget_id, markup=False)


class NoPicture(Static):
    def show(self, k: int) -> None:
        """Nothing to follow."""


class DataPicture(Plot):
    """The data (x, y) and the line y = w·x (+ b) of w_k."""

    def __init__(self, stepper, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stepper = stepper
        lin = stepper.lesson.linear
        X = np.array(lin.X, dtype=object).astype(np.float64)
        self.x = X[:, 0]
        self.y = np.array(lin.y, dtype=object).astype(np.float64)
        self.bias = X.shape[1] == 2
        self.k = 0

    def show(self, k: int) -> None:
        self.k = k
        self.redraw()

    def feed(self, plt) -> None:
        s, k = self.stepper, self.k
        w = s.weights_history(k)[-1]
        x, y = self.x, self.y
        lo, hi = float(x.min()), float(x.max())
        pad = (hi - lo) / 8 if hi > lo else 1.0
        lo, hi = min(lo - pad, 0.0), hi + pad
        slope, intercept = float(w[0]), float(w[1]) if self.bias else 0.0
        ends = [lo, hi]
        fitted = [slope * e + intercept for e in ends]
        plt.scatter(x.tolist(), y.tolist(), marker=self.point_marker, color="green")
        if all(np.isfinite(fitted)) and max(abs(v) for v in fitted) < RANGE_LIMIT:
            plt.plot(ends, fitted, marker=self.line_marker, color="red")
            off = ""
        else:
            off = " " + _("(off the plot)")
        ys = [*y.tolist(), *(v for v in fitted if np.isfinite(v) and abs(v) < RANGE_LIMIT)]
        bottom, top = min(min(ys), 0.0), max(ys)
        if top > bottom:
            plt.ylim(bottom, top)
            plt.yticks(*ticks(bottom, top))
        plt.xlim(lo, hi)
        plt.xticks(*ticks(lo, hi))
        line = "y = w·x + b" if self.bias else "y = w·x"
        plt.title(_("data and {line} at w{k}").format(line=line, k=k) + off)


class ContourPicture(Plot):
    """Level sets of L(w1, w2) with the path w_0 … w_k."""

    def __init__(self, stepper, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stepper = stepper
        self.k = 0
        self.box: tuple[float, float, float, float] | None = None
        self.names = stepper.weight_names
        lesson = stepper.lesson
        self.quadratic = is_quadratic(lesson)
        self.form = None          # (w0, L0, raw gradient, raw Hessian) of a quadratic loss
        self.minimum = None
        if self.quadratic:
            w0 = stepper.weights_history(0)[0]
            H = hessian(lesson, stepper.weights_at(0))
            if H.matrix is not None:
                scale = float(lesson.grad_scale)
                g = np.asarray(stepper.grad_at(0), dtype=object).astype(np.float64) / scale
                raw = np.asarray(H.matrix, dtype=object).astype(np.float64) / scale
                L0 = float(stepper.loss_at(0))
                self.form = (w0, L0, g, raw)
                try:
                    self.minimum = w0 - np.linalg.solve(raw, g)
                except np.linalg.LinAlgError:
                    self.minimum = None
        self._grid_key = None
        self._grid = None

    def show(self, k: int) -> None:
        self.k = k
        self._widen(self.stepper.weights_history(k))
        self.redraw()

    def forget_range(self) -> None:
        self.box = None

    def _widen(self, points: np.ndarray) -> None:
        pts = points[np.isfinite(points).all(axis=1) & (np.abs(points) < RANGE_LIMIT).all(axis=1)]
        if self.minimum is not None and np.isfinite(self.minimum).all():
            pts = np.vstack([pts, self.minimum[None, :]])
        if pts.size == 0:
            return
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        if self.box is not None:
            lo = np.minimum(lo, [self.box[0], self.box[2]])
            hi = np.maximum(hi, [self.box[1], self.box[3]])
        span = np.where(hi > lo, hi - lo, np.maximum(1.0, np.abs(lo)))
        pad = np.maximum(span, span.max() / 4) / 8
        box = (float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]),
               float(hi[1] + pad[1]))
        if self.box is None or box[0] < self.box[0] or box[1] > self.box[1] \
                or box[2] < self.box[2] or box[3] > self.box[3]:
            self.box = box

    def loss_grid(self, nx: int, ny: int):
        """(xs, ys, Z) with Z[i, j] = L(xs[j], ys[i]) over the box."""
        key = (self.box, nx, ny)
        if self._grid_key == key:
            return self._grid
        x0, x1, y0, y1 = self.box
        xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
        WX, WY = np.meshgrid(xs, ys)
        if self.form is not None:
            w0, L0, g, H = self.form
            D = np.stack([WX - w0[0], WY - w0[1]], axis=-1)
            with np.errstate(all="ignore"):
                Z = L0 + D @ g + 0.5 * np.einsum("...i,ij,...j->...", D, H, D)
        else:
            Z = np.array([[self.stepper.loss_of([a, b]) for a in xs] for b in ys])
        self._grid_key, self._grid = key, (xs, ys, Z)
        return self._grid

    def feed(self, plt) -> None:
        k = self.k
        path = self.stepper.weights_history(k)
        title = _("L({a}, {b}): level sets and w0…w{k}").format(a=self.names[0], b=self.names[1],
                                                               k=k)
        if self.box is None:
            plt.title(title)
            return
        width, height = self.size
        if self.form is not None:
            nx, ny = (width, height) if self.ascii_plot else (2 * width, 4 * height)
        else:
            nx = ny = COARSE
        xs, ys, Z = self.loss_grid(max(nx, 8), max(ny, 8))
        finite = np.isfinite(Z)
        if finite.any():
            low = float(Z[finite].min())
            on_path = [float(self.stepper.loss_at(0))]
            top = max(v for v in on_path if np.isfinite(v)) if np.isfinite(on_path).any() \
                else float(Z[finite].max())
            top = min(top, float(Z[finite].max()))
            if not top > low:
                top = float(Z[finite].max())
            px, py = [], []
            for i in range(LEVELS):
                level = low + (top - low) * 4.0 ** (-i)
                above = Z > level
                edge = np.zeros_like(above)
                edge[:, 1:] |= above[:, 1:] != above[:, :-1]
                edge[1:, :] |= above[1:, :] != above[:-1, :]
                r, c = np.nonzero(edge)
                px.extend(xs[c].tolist())
                py.extend(ys[r].tolist())
            if px:
                plt.scatter(px, py, marker="." if self.ascii_plot else "braille", color="gray")
        ok = np.isfinite(path).all(axis=1) & (np.abs(path) < RANGE_LIMIT).all(axis=1)
        shown = path[ok]
        if len(shown) > PATH_POINTS:
            shown = shown[np.linspace(0, len(shown) - 1, PATH_POINTS).astype(int)]
        if len(shown) > 1:
            plt.plot(shown[:, 0].tolist(), shown[:, 1].tolist(), marker=self.line_marker,
                     color="blue")
        if self.minimum is not None:
            plt.scatter([float(self.minimum[0])], [float(self.minimum[1])], marker="x",
                        color="green")
        if ok.size and ok[-1]:
            plt.scatter([float(path[-1, 0])], [float(path[-1, 1])], marker=self.current_marker,
                        color="red")
        x0, x1, y0, y1 = self.box
        plt.xlim(x0, x1)
        plt.ylim(y0, y1)
        plt.xticks(*ticks(x0, x1))
        plt.yticks(*ticks(y0, y1))
        plt.title(title)
