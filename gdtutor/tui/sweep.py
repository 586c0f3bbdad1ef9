"""The `s` screen: the lesson run from w_0 at several α side by side, each with its loss curve
and its fate; enter gives the chosen α to the main run from its current step on.

The runs are `gdtutor.analysis.sweep`'s (α/4, α/2, α, 2α, just under and just over α_max),
around the lesson screen's current α; they are computed in a thread, esc cancels them."""
from __future__ import annotations

import threading
import time

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Static

from ..analysis import SweepRun, stability, sweep, sweep_alphas
from ..i18n import N_, _
from .plot_base import Plot, thin, ticks
from .stability import OverLesson, keys_line, number

FATES = {"converged": "green", "converging": "cyan", "oscillating": "yellow", "diverged": "red"}


def fate_text(run: SweepRun) -> str:
    """converged at k, converging, oscillating, diverged at k (in the current language)."""
    if run.fate == "converged":
        return _("converged at {k}").format(k=run.at)
    if run.fate == "diverged":
        return _("diverged at {k}").format(k=run.at)
    return _("converging") if run.fate == "converging" else _("oscillating")


class RunPlot(Plot):
    """One run's loss against k, on a log axis (a sweep's losses span many decades)."""

    _losses = np.zeros(0)

    def show(self, losses: np.ndarray) -> None:
        self._losses = np.asarray(losses, dtype=np.float64)
        self.redraw()

    def feed(self, plt) -> None:
        losses = self._losses
        steps = np.arange(len(losses))
        usable = np.isfinite(losses) & (losses > 0)
        xs, ys = thin(steps[usable].tolist(), losses[usable].tolist())
        if xs:
            plt.plot(xs, ys, marker=self.line_marker, color="blue")
            lo, hi = min(ys), max(ys)
            plt.yscale("log")
            if hi > lo:
                positions, labels = ticks(lo, hi, log=True)
                plt.yticks([positions[0], positions[-1]], [labels[0], labels[-1]])
            right = max(1, len(losses) - 1)
            plt.xlim(0, right)
            plt.xticks([0, right], ["0", str(right)])


class RunCell(Vertical):
    """A run's label (α and fate) over its curve."""

    def __init__(self, index: int, ascii_plot: bool) -> None:
        super().__init__(classes="sweep-cell")
        self.index = index
        self.label = Static(markup=False, classes="sweep-label")
        self.plot = RunPlot(ascii_plot=ascii_plot, classes="sweep-plot")

    def compose(self) -> ComposeResult:
        yield self.label
        yield self.plot


class SweepScreen(OverLesson):
    """Six runs of the lesson; ↑ ↓ (← →, or digits) choose one, enter applies its α."""

    CLOSE_KEY = "s"
    BINDINGS = [Binding("escape,s", "close", N_("close"), key_display="esc"),
                Binding("enter", "pick", N_("use this α")),
                Binding("up,left", "move(-1)", N_("previous"), key_display="↑"),
                Binding("down,right", "move(1)", N_("next"), key_display="↓"),
                *(Binding(str(i), f"select({i - 1})", str(i), show=False) for i in range(1, 10))]

    def __init__(self, lesson_screen, steps: int | None = None) -> None:
        super().__init__(lesson_screen)
        s = lesson_screen.stepper
        self.steps = s.iterations if steps is None else steps
        self.lr = s.lr
        self.runs: list[SweepRun] | None = None
        self.selected = 0
        self.seconds: float | None = None     # how long the runs took
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="sweep-box"):
            yield Static(Text(_("α sweep: {n} iterations from w0 at each α… (esc cancels)")
                              .format(n=self.steps), style="bold"),
                         id="sweep-title", markup=False)
            yield Grid(id="sweep-grid")
        yield keys_line(self.BINDINGS)

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _run(self) -> None:
        start = time.perf_counter()
        lesson = self.lesson
        try:
            a_max = stability(lesson, lr=self.lr).alpha_max
            runs = sweep(lesson, alphas=sweep_alphas(self.lr, a_max), steps=self.steps,
                         cancel=self._cancel.is_set)
        except Exception as error:      # shown on the screen, never a crash of the app
            self.app.call_from_thread(self._failed, error)
            return
        if not self._cancel.is_set():
            self.app.call_from_thread(self._done, runs, time.perf_counter() - start)

    def _failed(self, error: Exception) -> None:
        if self.is_mounted:
            self.query_one("#sweep-title", Static).update(
                Text(_("no sweep: {error}").format(error=error), style="bold red"))

    def _done(self, runs: list[SweepRun], seconds: float) -> None:
        if not self.is_mounted:
            return
        self.runs, self.seconds = runs, seconds
        current = [i for i, r in enumerate(runs) if r.label == "α"]
        self.selected = current[0] if current else 0
        grid = self.query_one("#sweep-grid", Grid)
        cells = [RunCell(i, getattr(self.lesson_screen, "ascii_plot", False))
                 for i in range(len(runs))]
        grid.mount_all(cells)
        for cell, run in zip(cells, runs):
            cell.plot.show(run.losses)
        self.query_one("#sweep-title", Static).update(Text(
            _("α sweep: {n} iterations from w0 at each α; enter gives the chosen α to the "
              "lesson from step {k} on").format(n=self.steps, k=self.lesson_screen.stepper.k + 1),
            style="bold"))
        self.show_labels()

    def show_labels(self) -> None:
        for cell in self.query(RunCell):
            run = self.runs[cell.index]
            chosen = cell.index == self.selected
            text = Text(overflow="ellipsis", no_wrap=True)
            text.append(f"{cell.index + 1} {run.label} = {number(run.lr, self.dtype)}",
                        style="reverse bold" if chosen else "bold")
            text.append("\n")
            text.append(fate_text(run), style=FATES.get(run.fate, ""))
            cell.label.update(text)
            cell.set_class(chosen, "-chosen")

    def action_move(self, change: int) -> None:
        if self.runs:
            self.selected = (self.selected + change) % len(self.runs)
            self.show_labels()

    def action_select(self, index: int) -> None:
        if self.runs and index < len(self.runs):
            self.selected = index
            self.show_labels()

    def action_pick(self) -> None:
        if not self.runs:
            return
        screen = self.lesson_screen
        if screen.busy:
            self.notify(_("busy: {what}").format(what=screen.busy), severity="warning")
            return
        lr = self.runs[self.selected].lr
        screen.stepper.set_lr(lr)
        screen.sync()
        screen.notify(_("α = {a} from step {k} on").format(a=screen.numbers.lr(lr),
                                                          k=screen.stepper.k + 1), timeout=3)
        self.action_close()

    def action_close(self) -> None:
        self._cancel.set()
        super().action_close()
