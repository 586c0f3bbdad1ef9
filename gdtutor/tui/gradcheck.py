"""The `c` screen: at w_k, the backend's gradient against a central finite difference of the
lesson's own loss and, for a linear lesson, the closed form (1/m)Xᵀ(Xw − y) (or 2Xᵀ(Xw − y)
for SSE), with relative errors; a weight whose finite difference is swamped by rounding (float32
near a minimum) is marked. The numbers are `gdtutor.analysis.gradient_check`'s."""
from __future__ import annotations

from fractions import Fraction

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ..analysis import CHECK_COLUMNS, GradientCheck, gradient_check, said
from ..backend import weight_names
from ..i18n import N_, _
from ..numbers import fmt
from .stability import FORWARDING, SYNC_WEIGHTS, OverLesson, keys_line, number

MAX_ROWS = 200     # weights listed (the rest are summed up in the worst relative error)


def rel_text(x, exact: bool) -> str:
    """A relative error: exact (`0`, `1/3`) when the check is exact, else 3 significant digits."""
    if exact and isinstance(x, Fraction):
        return fmt(x, "exact")
    return f"{float(x):.3g}"


class GradCheckScreen(OverLesson):
    """The gradient check at the lesson screen's w_k; it follows the lesson as it steps."""

    CLOSE_KEY = "c"
    BINDINGS = [Binding("escape,c", "close", N_("close"), key_display="esc"), *FORWARDING]
    check: GradientCheck | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="gradcheck-box"):
            yield Static(id="gradcheck-title", markup=False)
            with VerticalScroll(id="gradcheck-scroll"):
                yield Static(id="gradcheck-notes", markup=False)
                yield Static(id="gradcheck-table")
        yield keys_line(self.BINDINGS)

    def on_mount(self) -> None:
        self.refresh_check()
        self.watch(self.lesson_screen, "position", lambda *_: self.refresh_check(), init=False)

    def refresh_check(self) -> None:
        s = self.lesson_screen.stepper
        w = s.weights_at(s.k)
        if w.size <= SYNC_WEIGHTS:
            self.check = gradient_check(self.lesson, w)
            self.show(self.check, s.k)
            return
        self.query_one("#gradcheck-title", Static).update(
            Text(_("computing finite differences for {n} weights…").format(n=w.size),
                 style="dim"))
        self._compute(w, s.k)

    @work(thread=True, exclusive=True, group="gradcheck", exit_on_error=False)
    def _compute(self, w, k: int) -> None:
        check = gradient_check(self.lesson, w)
        self.app.call_from_thread(self._computed, check, k)

    def _computed(self, check: GradientCheck, k: int) -> None:
        if self.is_mounted:
            self.check = check
            self.show(check, k)

    def show(self, g: GradientCheck, k: int) -> None:
        self.query_one("#gradcheck-title", Static).update(Text(
            _("Gradient check at w{k} ({backend}, {dtype})").format(
                k=k, backend=self.lesson_screen.stepper.backend_name, dtype=self.dtype),
            style="bold"))
        notes = Text()
        if g.reason:
            self.query_one("#gradcheck-table", Static).update("")
            notes.append(said(g.reason), style="bold red")
            self.query_one("#gradcheck-notes", Static).update(notes)
            return
        lesson_exact = self.dtype == "exact"
        grad_dtype = self.dtype
        table = Table(box=None, padding=(0, 1), expand=False, show_edge=False)
        names = weight_names(self.lesson)
        cols = [_(c) for c in CHECK_COLUMNS]
        table.add_column(cols[0], no_wrap=True, max_width=8)
        table.add_column(cols[1], justify="right", no_wrap=True)
        table.add_column(cols[2], justify="right", no_wrap=True)
        if g.formula is not None:
            table.add_column(cols[3], justify="right", no_wrap=True)
        table.add_column(cols[4], justify="right", no_wrap=True)
        rounding = _("(rounding)")
        for j in range(min(len(g.at), MAX_ROWS)):
            grad = fmt(g.gradient[j], grad_dtype)
            fd = number(g.finite_difference[j], "exact" if g.exact_fd else
                        ("float64" if lesson_exact else self.dtype))
            rel = rel_text(g.rel_error[j], g.exact_fd)
            if g.rel_error_formula is not None:
                rel += " / " + rel_text(g.rel_error_formula[j], g.exact_fd)
            row = [Text(names[j]), grad, fd]
            if g.formula is not None:
                row.append(number(g.formula[j], "exact" if lesson_exact and g.exact_fd else
                                  ("float64" if lesson_exact else self.dtype)))
            row.append(Text(rel + ("" if g.trusted[j] else " " + rounding),
                            style="" if g.trusted[j] else "yellow"))
            table.add_row(*row)
        self.query_one("#gradcheck-table", Static).update(table)
        if g.formula is not None:
            notes.append(_("rel. error: gradient against the finite difference / against the "
                           "formula {formula}").format(formula=self.formula_name()) + "\n",
                         style="dim")
        worst = rel_text(g.max_rel_error, g.exact_fd)
        notes.append(_("max relative error: {x}").format(x=worst) + "\n", style="bold")
        for note in g.notes:
            notes.append(_("note: {n}").format(n=said(note)) + "\n", style="dim")
        self.query_one("#gradcheck-notes", Static).update(notes)

    def formula_name(self) -> str:
        lin = self.lesson.linear
        base = "(1/m)Xᵀ(Xw − y)" if lin.loss == "half_mse" else "2Xᵀ(Xw − y)"
        return base if self.lesson.grad_scale == 1 else \
            f"{fmt(self.lesson.grad_scale, 'exact')}·{base}"
