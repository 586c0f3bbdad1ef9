"""The `e` screen: why α converges, oscillates or diverges, from the effective Hessian.

H = grad_scale · ∇²L, its eigenvalues λᵢ and eigenvectors, α_max = 2/λ_max, a bar of
|1 − αλᵢ| against the line 1 for each direction, the steps to shrink the error 1000× and the
forecast. The numbers come from `gdtutor.analysis`; this module only lays them out. α and k
are the lesson screen's: `+`, `-`, `=` and the stepping keys reach it through this screen, and
the panel follows every change of its position (the sweep's choice too)."""
from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ..analysis import FORECASTS, Stability, said, stability
from ..i18n import N_, _
from ..numbers import fmt
from .spoken import said

BAR = 30            # columns of a bar; the line 1 is at the middle (the bar holds 0 … 2)
MAX_SHOWN = 12      # directions listed: the slowest and the stiffest, when there are more
MAX_MATRIX = 4      # H is printed entry by entry up to 4×4
SYNC_WEIGHTS = 64   # up to this many weights the analysis runs at once; beyond, in a thread
# keys of the lesson screen that still work over an analysis screen: α and stepping
FORWARDING = [
    Binding("plus", "forward('plus')", "α×2", key_display="+"),
    Binding("minus", "forward('minus')", "α÷2", key_display="-"),
    Binding("equals_sign", "forward('equals_sign')", "α", key_display="=", show=False),
    *(Binding(key, f"forward('{key}')", N_("step"), key_display="n", show=key == "n")
      for key in ("n", "space", "right")),
    *(Binding(key, f"forward('{key}')", N_("back"), key_display="b", show=key == "b")
      for key in ("b", "left")),
]


def number(x, dtype: str) -> str:
    """An analysis number in the lesson's formatting: an exact lesson's rational values as
    fractions, its irrational ones (floats) as float64; a float lesson's in its own dtype."""
    if dtype == "exact":
        return fmt(x, "exact") if isinstance(x, Fraction) else fmt(float(x), "float64")
    return fmt(float(x), dtype)


async def forward_key(lesson_screen, key: str) -> bool:
    """Run the lesson screen's action bound to `key` (as its own bindings say), if it has one
    and it is enabled now. True when one ran."""
    for binding in type(lesson_screen).BINDINGS:
        if not isinstance(binding, Binding) or key not in binding.key.split(","):
            continue
        action = binding.action
        name = action.split("(", 1)[0]
        if lesson_screen.check_action(name, ()) is not True:
            return False
        await lesson_screen.run_action(action)
        return True
    return False


class OverLesson(Screen[None]):
    """A screen over a descent lesson's screen: esc (or its own key) closes it; the α and
    stepping keys go on to the lesson underneath."""

    CLOSE_KEY = ""

    def __init__(self, lesson_screen) -> None:
        super().__init__()
        self.lesson_screen = lesson_screen
        self.lesson = lesson_screen.lesson
        self.dtype = lesson_screen.stepper.dtype

    async def action_forward(self, key: str) -> None:
        await forward_key(self.lesson_screen, key)

    def action_close(self) -> None:
        if self.is_active:
            self.dismiss(None)


def keys_line(bindings) -> Static:
    """The screen's shown keys on one line, as the footer would write them (a Footer is a
    widget a key; this one line keeps the screen quick to open)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for binding in bindings:
        if isinstance(binding, Binding) and binding.show:
            text.append(binding.key_display or binding.key, style="bold")
            text.append(f" {said(binding.description)}  ")
    return Static(text, classes="alpha-keys")


def contraction_bar(c, ascii_only: bool) -> Text:
    """|1 − αλ| as a bar on 0 … 2 with the line 1 in the middle; past 2 it ends in an arrow."""
    value = float(c)
    half = BAR // 2
    filled = BAR if not np.isfinite(value) else min(BAR, int(round(value * half)))
    full, empty, line = ("#", ".", "|") if ascii_only else ("█", "·", "│")
    cells = []
    for i in range(BAR):
        ch = full if i < filled else empty
        if i == half:
            ch = line if i >= filled else ch
        cells.append(ch)
    text = Text()
    style = "red" if value > 1 else ("yellow" if value == 1 else "green")
    text.append("".join(cells[:half]), style=style if filled else "dim")
    text.append("".join(cells[half:]), style=style)
    text.append(">" if not np.isfinite(value) or value > 2 else " ")
    return text


class StabilityScreen(OverLesson):
    """The stability panel for the lesson screen under it, at its current w_k and α."""

    CLOSE_KEY = "e"
    BINDINGS = [Binding("escape,e", "close", N_("close"), key_display="esc"),
                *FORWARDING]

    def __init__(self, lesson_screen) -> None:
        super().__init__(lesson_screen)
        self.analysis: Stability | None = None
        self._at: tuple | None = None     # (k, local) the analysis was taken at
        self._lock = threading.Lock()

    def compose(self) -> ComposeResult:
        with Vertical(id="stability-box"):
            yield Static(id="stability-title", markup=False)
            with VerticalScroll(id="stability-scroll"):
                yield Static(id="stability-body", markup=False)
        yield keys_line(self.BINDINGS)

    def on_mount(self) -> None:
        self.refresh_panel()
        self.watch(self.lesson_screen, "position", lambda *_: self.refresh_panel(), init=False)

    # -- computing ---------------------------------------------------------------------------

    def refresh_panel(self) -> None:
        """At the lesson's w_k and α: the whole analysis if H may have changed (first time,
        or a local Hessian at a new k), else only the α part."""
        s = self.lesson_screen.stepper
        k, lr = s.k, s.lr
        a = self.analysis
        if a is not None and (not a.local or self._at == k):
            self.analysis = a.with_lr(lr)
            self.show()
            return
        w = s.weights_at(k)
        if w.size <= SYNC_WEIGHTS:
            self.analysis, self._at = stability(self.lesson, w, lr), k
            self.show()
        else:
            self.query_one("#stability-body", Static).update(Text(_("computing H…"), style="dim"))
            self._compute(w, lr, k)

    @work(thread=True, exclusive=True, group="stability", exit_on_error=False)
    def _compute(self, w, lr, k) -> None:
        result = stability(self.lesson, w, lr)
        self.app.call_from_thread(self._computed, result, k)

    def _computed(self, result: Stability, k: int) -> None:
        if not self.is_mounted:
            return
        stepper = self.lesson_screen.stepper
        self.analysis, self._at = result.with_lr(stepper.lr), k
        self.show()
        if result.local and stepper.k != k:
            self.refresh_panel()

    # -- showing -----------------------------------------------------------------------------

    def show(self) -> None:
        a = self.analysis
        ascii_only = getattr(self.lesson_screen, "ascii_plot", False)
        num = lambda x: number(x, self.dtype)   # noqa: E731
        title = Text(_("Stability at α = {a}").format(a=self.lesson_screen.numbers.lr(a.lr)),
                     style="bold")
        title.append("   ")
        if a.local:
            title.append(_("H local, at w{k}").format(k=self._at), style="yellow")
        else:
            title.append(_("L is quadratic: H is constant"), style="dim")
        self.query_one("#stability-title", Static).update(title)
        body = Text(no_wrap=False)
        names = ", ".join(a.weight_names[:6]) + (", …" if len(a.weight_names) > 6 else "")
        body.append(_("H = grad_scale · ∇²L over ({names})").format(names=names) + "\n")
        if a.hessian is not None and a.hessian.shape[0] <= MAX_MATRIX:
            for row in a.hessian:
                body.append("  [" + ", ".join(f"{num(v):>10}" for v in row) + "]\n")
        elif a.hessian is not None:
            body.append("  " + _("{n}×{n}, not printed").format(n=a.hessian.shape[0]) + "\n",
                        style="dim")
        if a.reason:
            body.append(_("no eigen-analysis: {reason}").format(reason=said(a.reason)) + "\n",
                        style="bold red")
            self._notes(body, a)
            self.query_one("#stability-body", Static).update(body)
            return
        body.append(_("dir.  λ            1 − αλ        |1 − αλ| against the line 1") + "\n",
                    style="bold")
        n = len(a.eigenvalues)
        shown = list(range(n)) if n <= MAX_SHOWN else \
            list(range(MAX_SHOWN // 2)) + list(range(n - MAX_SHOWN // 2, n))
        for pos, i in enumerate(shown):
            if pos and shown[pos - 1] != i - 1:
                body.append("  …\n", style="dim")
            body.append(f"{i + 1:>4}  {num(a.eigenvalues[i]):<12.12} "
                        f"{num(a.factor[i]):<13.13} ")
            body.append_text(contraction_bar(a.contraction[i], ascii_only))
            body.append(f" {num(a.contraction[i])}\n")
            if a.eigenvectors is not None and a.eigenvectors.shape[0] <= MAX_MATRIX:
                v = ", ".join(f"{x:.4g}" for x in a.eigenvectors[:, i])
                body.append("      v = [" + v + "]\n", style="dim")
        top = _("none (λ_max <= 0)") if a.alpha_max is None else num(a.alpha_max)
        body.append(_("α_max = 2/λ_max = {m}").format(m=top) + "\n")
        style = {"converges": "bold green", "oscillates": "bold yellow",
                 "diverges": "bold red"}.get(a.forecast, "bold")
        body.append(_(FORECASTS[a.forecast]) + "\n" if a.forecast else "", style=style)
        body.append((_("the error shrinks 1000× in {n} steps").format(n=a.steps_to_1e3)
                     if a.steps_to_1e3 is not None else
                     _("the error does not shrink 1000× at this α")) + "\n")
        self._notes(body, a)
        self.query_one("#stability-body", Static).update(body)

    @staticmethod
    def _notes(body: Text, a: Stability) -> None:
        for note in a.notes:
            if note != "drift":
                body.append(_("note: {n}").format(n=said(note)) + "\n", style="dim")
