"""The descent screen: one key is one iteration, and every number of it is on screen."""
from __future__ import annotations

import time
from fractions import Fraction
from typing import NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import ContentSwitcher, Footer

from ..checks import marks_at
from ..i18n import N_, _
from .glyphs import shown
from .graph_view import GraphView
from .lazy import LazyViews, history_table, lesson_text
from .lesson_screen import LessonScreen, guarded
from .literal import say
from .paced import FRAME
from .loss_plot import LossPlot
from .notice import Notice
from .pane import Pane
from .parabola import Parabola
from .status import Status, StatusLine
from .steps_panel import StepsPanel
from .too_small import TooSmall
from .view_bar import ViewBar

ALPHA = Binding.Group("α", compact=True)
LOOKAHEAD = 12   # iterations computed ahead (not shown) so the parabola's range holds them


def picture_view(stepper, ascii_plot: bool):
    """View 4 (imported when first shown)."""
    from .picture import picture_view as build
    return build(stepper, ascii_plot)


class Position(NamedTuple):
    """Where the stepper stands; a new value is pushed into the widgets."""

    k: int
    computed: int
    lr: Fraction
    backend: str
    diverged_at: int | None


class DescentScreen(LessonScreen):
    """Steps panel, graph / history / lesson text on the left; loss curve and parabola right."""

    BINDINGS = [
        *LessonScreen.STEPPING,
        Binding("plus", "lr_up", "α×2", key_display="+", group=ALPHA,
                tooltip=N_("double α: the next steps use it; the history keeps the old")),
        Binding("minus", "lr_down", "α÷2", key_display="-", group=ALPHA,
                tooltip=N_("halve α")),
        Binding("equals_sign", "lr_type", N_("type α"), key_display="=", group=ALPHA,
                tooltip=N_("type α for the next steps: a fraction (1/3) or a decimal (0.05)")),
        Binding("l", "log", N_("log"), tooltip=N_("log scale on the loss plot, on or off")),
        Binding("1", "view('graph')", N_("graph"), show=False,
                tooltip=N_("show the computation graph of the loss at w_(k−1)")),
        Binding("2", "view('history')", N_("history"), show=False,
                tooltip=N_("show the history table (one row per iteration)")),
        Binding("3", "view('lesson')", N_("lesson"), show=False,
                tooltip=N_("show the lesson's text")),
        Binding("4", "view('picture')", N_("picture"), show=False,
                tooltip=N_("show the data with the fitted line, or the loss surface with the "
                           "path")),
        Binding("e", "stability", N_("stability"), show=False,
                tooltip=N_("the stability panel: H's eigenvalues, α_max and the forecast")),
        Binding("s", "sweep", N_("sweep"), show=False, tooltip=N_("the lesson run at several α")),
        Binding("c", "gradcheck", N_("grad check"), show=False,
                tooltip=N_("the gradient against finite differences and the formula")),
        *LessonScreen.LEAVING,
        *LessonScreen.SCROLLING,
        Binding("home", "scroll('home')", N_("first row"), show=False,
                tooltip=N_("the history's first row (the top of the graph or the text)")),
        Binding("end", "scroll('end')", N_("last row"), show=False,
                tooltip=N_("the history's last row (the end of the graph or the text)")),
        Binding("shift+left", "scroll('columns_left')", N_("columns left"), show=False,
                tooltip=N_("the history's columns further left")),
        Binding("shift+right", "scroll('columns_right')", N_("columns right"), show=False,
                tooltip=N_("the history's columns further right (w[k] is the last)")),
    ]

    position: var[Position | None] = var(None, init=False)
    log_scale = var(False, init=False)
    view = var("graph", init=False)

    def __init__(self, stepper, **kwargs) -> None:
        super().__init__(stepper, **kwargs)
        self.one_weight = len(stepper.weight_names) == 1
        self.weight = stepper.weight_names[0] if self.one_weight else "w"
        self._shown_step: tuple | None = None    # (k, diverged_at) the widgets show
        self._told_diverged: int | None = None   # the divergence already notified
        self._looked_ahead = False
        # the screen's widgets exist from here, so whatever reaches it before it is composed
        # and mounted finds them
        s = self.stepper
        self.lazy_views = LazyViews({
            "history": lambda: history_table(self.numbers),
            "lesson": lambda: lesson_text(shown(self, self.lesson_markdown())),
            "picture": lambda: picture_view(self.stepper, self.ascii_plot),
        })
        parts = [Status(id="status"),
                 StepsPanel(self.numbers, s.weight_names, self.lesson.grad_scale, id="steps"),
                 ViewBar(id="viewbar"), GraphView(id="graph-view"),
                 LossPlot(ascii_plot=self.ascii_plot, id="loss-plot")]
        if self.one_weight:
            parts.append(Parabola(s.loss_of, self.weight, ascii_plot=self.ascii_plot,
                                  id="parabola"))
        self._parts = {type(part): part for part in parts}

    def compose(self) -> ComposeResult:
        s = self.stepper
        # the screen's class before it has children: set after, it restyles every widget
        self.set_class(not self.one_weight, "-vector")
        if not getattr(s, "pending", False):
            # the widgets hold step k before the first layout, so the screen is laid out once,
            # around the numbers (not around empty panels first, then again)
            self._look_ahead()
            self._show_step(self._now())
            self._part(ViewBar).show(self.view)
            self.refresh_status()
        steps = self._part(StepsPanel)
        yield self._part(Status)
        yield Notice(id="notice")
        if not self.one_weight:
            yield steps      # a table of weights needs the full width
        with Horizontal(id="body"):
            with Vertical(id="left"):
                if self.one_weight:
                    yield steps
                yield self._part(ViewBar)
                with ContentSwitcher(initial="graph", id="views"):
                    with Pane(id="graph"):
                        yield self._part(GraphView)
                    # the history table and the lesson text: mounted when first shown
            with Vertical(id="plots"):
                yield self._part(LossPlot)
                if self.one_weight:
                    yield self._part(Parabola)
        yield Footer(compact=True)
        yield TooSmall()

    def _part(self, kind):
        """One of the screen's own widgets, made in compose (and maybe not mounted yet)."""
        return self._parts[kind]

    def _look_ahead(self) -> None:
        s = self.stepper
        if self.one_weight and s.k == 0 and not self._looked_ahead:
            # what fits in a frame now, the rest in a worker once mounted; then the parabola
            # is drawn again over the range the steps cover
            self._looked_ahead = self.ahead(min(s.iterations, LOOKAHEAD),
                                            lambda: self._show_step(self._now()))

    def on_mount(self) -> None:
        self.set_class(not self.one_weight, "-vector")
        if self.waiting_for_torch():
            self._part(ViewBar).show(self.view)
            self.refresh_status()
            return
        self._look_ahead()
        self._part(ViewBar).show(self.view)
        self.sync()

    # -- state into widgets ----------------------------------------------------------------

    def _now(self) -> Position:
        s = self.stepper
        return Position(s.k, s.computed, s.lr, s.backend_name, s.diverged_at)

    def sync(self) -> None:
        self.position = self._now()

    def watch_position(self, old: Position | None, new: Position) -> None:
        if self._shown_step != (new.k, new.diverged_at):
            self._show_step(new)
        self.refresh_status()
        self._tell_divergence(new.diverged_at)
        self.moved()

    def _tell_divergence(self, diverged_at: int | None) -> None:
        """A divergence is one event: notified once, when it is first known (a step, a go-to
        or play that reaches it), not again at each key that meets it."""
        if diverged_at is None or diverged_at != self._told_diverged:
            self._told_diverged = diverged_at
            if diverged_at is not None:
                self.notify(_("diverged at step {k}: the loss is no longer finite. b steps "
                              "back, r resets, - lowers α.").format(k=diverged_at),
                            severity="warning", timeout=8)

    def precision_changed(self) -> None:
        steps = self._part(StepsPanel)
        steps.numbers = self.numbers
        if self.lazy_views.ready("history"):
            self.query_one("#history").numbers_changed(self.numbers)
        if self.position is not None:
            self._show_step(self.position)

    def _show_step(self, p: Position) -> None:
        s, k = self.stepper, p.k
        self._shown_step = (k, p.diverged_at)
        steps = self._part(StepsPanel)
        marks = marks_at(s, k) if self.lesson.checkpoints else []
        if k == 0:
            steps.show_start(s.weights_at(0), s.loss_at(0), diverged=p.diverged_at == 0,
                             marks=marks)
        else:
            steps.show_record(s.record(k), p.diverged_at, marks=marks)
        self._show_view(self.view)
        losses = s.losses(upto=k)
        self._part(LossPlot).show(losses, k, p.diverged_at, self.log_scale, s.iterations)
        if self.one_weight:
            self._part(Parabola).show(s.weights_history(k)[:, 0], losses, k,
                                      cover=s.weights_history()[:, 0],
                                      current=self.numbers.weights(s.weights_at(k)))

    def _show_view(self, view: str) -> None:
        """Only the view on screen is drawn; the others catch up when shown."""
        s, k = self.stepper, self.position.k if self.position else self.stepper.k
        if view == "graph":
            at = max(k - 1, 0)
            self._part(GraphView).show(
                s.nodes(at), self.numbers,
                _("graph of L at {w}{k}; grad = ∂L/∂node").format(w=self.weight, k=at))
        elif view == "history" and self.lazy_views.ready("history"):
            self.query_one("#history").show(k, s.record, s.weights_at(0))
        elif view == "picture" and self.lazy_views.ready("picture"):
            self.query_one("#picture").show(k)

    def scroll_target(self, direction: str):
        return self.query_one(f"#{self.view}")

    def action_scroll(self, direction: str) -> None:
        target = self.scroll_target(direction)
        if self.view == "history" and direction in ("home", "end"):
            target.jump_to(direction)
        elif direction.startswith("columns_"):
            if self.view == "history":
                target.scroll_columns(-1 if direction.endswith("left") else 1)
        else:
            super().action_scroll(direction)

    def kept(self) -> dict:
        return {**super().kept(), "view": self.view, "log_scale": self.log_scale}

    def restore(self, kept: dict) -> None:
        if kept.get("kind") == "descent":
            self.view = kept.get("view", self.view)
            self.log_scale = kept.get("log_scale", self.log_scale)
        super().restore(kept)

    def refresh_status(self) -> None:
        p = self.position or self._now()
        self._part(Status).show(StatusLine(
            title=self.lesson.title.get(self.lang),
            position=_("k = {k} of {n}").format(k=p.k, n=self.stepper.iterations),
            lr=self.numbers.lr(p.lr), backend=p.backend, dtype=self.stepper.dtype,
            playing=self.playing, speed=self.speed_text(), diverged_at=p.diverged_at,
            busy=self.busy, full=self.numbers.full))

    def watch_log_scale(self) -> None:
        p = self.position
        if p is not None:
            self._part(LossPlot).show(self.stepper.losses(upto=p.k), p.k, p.diverged_at,
                                      self.log_scale, self.stepper.iterations)

    def watch_view(self, view: str) -> None:
        switcher = self.query_one(ContentSwitcher)

        def shown() -> None:     # a view built just now draws the step it is shown at
            if self.position is not None and self.view == view and not self.busy:
                self._show_view(view)      # (while a worker runs, its end draws it)

        self.lazy_views.ensure(switcher, view, shown)
        switcher.current = view
        self._part(ViewBar).show(view)
        if self.position is not None:
            self._show_view(view)

    # -- what the keys do --------------------------------------------------------------------

    def advance(self) -> bool:
        if self.computing(self.stepper.k + 1, self.action_step):
            return True
        record = self.stepper.step()
        self.sync()
        if record is None:
            s = self.stepper
            if s.diverged_at is None:
                self.notify(_("end of the lesson: {n} iterations").format(n=s.iterations),
                            timeout=4)
            else:     # told once, when it was reached; the status line and the panel say it
                self.app.bell()
            return False
        return True

    def retreat(self) -> bool:
        moved = self.stepper.back()
        self.sync()
        return moved

    def restart(self) -> None:
        self.stepper.reset()
        if self.one_weight:
            self._part(Parabola).forget_range()
        self.sync()

    def last_step(self) -> int:
        return self.stepper.iterations

    AT_ONCE = FRAME  # seconds of stepping a jump may hold the screen for; a jump that would
                     # take longer goes on in a worker, with a progress bar and esc to cancel

    def jump(self, target: int) -> None:
        s = self.stepper
        start, first = time.perf_counter(), s.computed
        done = [first]

        def progress(k: int, total: int) -> None:
            done[0] = k

        def too_long() -> bool:
            # the stepping so far (a check every 1024 steps) tells how long the rest takes: a
            # jump done within AT_ONCE of its start finishes here, with no progress bar to
            # flash by; a longer one moves to the worker as soon as that is clear
            elapsed = time.perf_counter() - start
            steps = done[0] - first
            if steps <= 0:
                return elapsed > self.AT_ONCE
            return elapsed + elapsed / steps * (target - done[0]) > self.AT_ONCE

        landed = s.goto(target, progress=progress, cancel=too_long)
        if landed >= target or s.diverged_at is not None or s.computed >= s.iterations:
            self._landed(target, landed)
            return

        def run(cancelled) -> int:
            return s.goto(target, progress=self.post_progress, cancel=cancelled)

        self.in_background(run, _("going to {k}… (esc cancels)").format(k=target),
                           lambda landed: self._landed(target, landed), total=target)

    def _landed(self, target: int, landed: int) -> None:
        self.sync()
        # a divergence is told by sync, once; any other stop here, with its reason
        if landed < target and self.stepper.diverged_at is None:
            say(self, _("stopped at step {k}: {why}").format(k=landed, why=self.why_stopped()),
                severity="warning", timeout=6)

    @guarded
    def action_lr_up(self) -> None:
        self._set_lr(self.stepper.lr * 2)

    @guarded
    def action_lr_down(self) -> None:
        self._set_lr(self.stepper.lr / 2)

    def action_lr_type(self) -> None:
        from .goto import LrScreen
        self.playing = False
        self.app.push_screen(LrScreen(self.numbers.lr(self.stepper.lr)), self._lr_typed)

    def _lr_typed(self, lr: Fraction | None) -> None:
        if lr is not None:
            self._guarded_set_lr(lr)

    @guarded
    def _guarded_set_lr(self, lr: Fraction) -> None:
        self._set_lr(lr)

    def _set_lr(self, lr: Fraction) -> None:
        self.stepper.set_lr(lr)
        self.sync()
        self.notify(_("α = {lr} from step {k} on").format(lr=self.numbers.lr(lr),
                                                          k=self.stepper.k + 1), timeout=3)

    @guarded
    def action_log(self) -> None:
        self.log_scale = not self.log_scale

    @guarded
    def action_view(self, view: str) -> None:
        self.view = view

    @guarded
    def action_stability(self) -> None:
        from .stability import StabilityScreen
        self.playing = False
        self.app.push_screen(StabilityScreen(self))

    @guarded
    def action_sweep(self) -> None:
        from .sweep import SweepScreen
        self.playing = False
        self.app.push_screen(SweepScreen(self))

    @guarded
    def action_gradcheck(self) -> None:
        from .gradcheck import GradCheckScreen
        self.playing = False
        self.app.push_screen(GradCheckScreen(self))
