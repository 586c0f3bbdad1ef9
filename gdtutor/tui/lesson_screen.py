"""What every lesson screen shares: stepping keys, play/pause, go-to, backend switch, workers,
and reloading an edited lesson file."""
from __future__ import annotations

import functools
import threading
import time
from typing import Callable

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from ..carry import rebuild
from ..errors import GdtutorError
from ..i18n import N_, _
from ..stepper import Stepper
from .glyphs import to_ascii
from .literal import say
from .notice import Notice
from .paced import FRAME, PacedStepper
from .source import SourceWatch, not_regular, signature
from .spoken import said_bindings
from .text import Numbers

SPEEDS = (0.5, 1, 2, 4, 8, 16, 32)   # steps a second when playing
PLAY = Binding.Group(N_("play"), compact=True)
# actions that read or move the stepper: disabled while a worker owns it
USES_STEPPER = {"step", "back", "reset", "goto", "play", "backend", "lr_up", "lr_down", "log",
                "view", "reload", "lr_type", "precision", "stability", "sweep", "gradcheck"}
POLL = 1.0   # seconds between looks at a lesson file for edits
TORCH_AFTER = 0.1   # seconds from the first frame to the start of torch's import
PROGRESS_EVERY = 0.05   # seconds between two progress messages from a worker


def guarded(action: Callable) -> Callable:
    """An action that shows a bad input or a numeric failure in the app instead of raising."""
    @functools.wraps(action)
    def run(self, *args):
        try:
            return action(self, *args)
        except (GdtutorError, ArithmeticError, ValueError, IndexError, RuntimeError) as error:
            self.report(error)
    return run


class Progress(Message):
    """A long go-to has reached step `done` of `total` (posted from the worker thread)."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class LessonScreen(Screen):
    """A screen over one Stepper; subclasses say what one step, back and reset mean."""

    # subclasses list STEPPING, then their own keys, then LEAVING (the footer keeps that order)
    STEPPING = [
        Binding("n,space,right", "step", N_("step"), key_display="n",
                tooltip=N_("one step forward (n, space or →)")),
        Binding("b,left", "back", N_("back"), key_display="b",
                tooltip=N_("one step back (b or ←)")),
        Binding("r", "reset", N_("reset"),
                tooltip=N_("back to the start, with the lesson's own α and backend")),
        Binding("g", "goto", N_("goto"), tooltip=N_("go to a step you type; a long jump runs in "
                "the background with a progress bar (esc cancels it)")),
        Binding("a", "play", N_("play"), group=PLAY, tooltip=N_("play or pause")),
        Binding("left_square_bracket", "speed(-1)", N_("slower"), key_display="[", group=PLAY,
                tooltip=N_("play slower")),
        Binding("right_square_bracket", "speed(1)", N_("faster"), key_display="]", group=PLAY,
                tooltip=N_("play faster")),
    ]
    SCROLLING = [
        Binding("up", "scroll('up')", N_("scroll up"), show=False,
                tooltip=N_("scroll the view up")),
        Binding("down", "scroll('down')", N_("scroll down"), show=False,
                tooltip=N_("scroll the view down")),
        Binding("pageup", "scroll('page_up')", N_("page up"), show=False,
                tooltip=N_("scroll the lesson text up a page")),
        Binding("pagedown", "scroll('page_down')", N_("page down"), show=False,
                tooltip=N_("scroll the lesson text down a page")),
    ]
    LEAVING = [
        Binding("p", "predict", N_("predict"), show=False, tooltip=N_("predict mode on or off: "
                "type each step's numbers before it is shown (enter checks, esc reveals)")),
        Binding("t", "backend", N_("backend"), tooltip=N_("switch backend, numpy ↔ torch; the "
                "next steps use it, the history keeps the old (an exact lesson is run again on "
                "torch in float64, and t again returns to exact fractions)")),
        Binding("full_stop", "precision", N_("full"), key_display=".", show=False,
                tooltip=N_("full precision on every panel, on or off (every digit of each "
                           "number)")),
        Binding("R", "reload", N_("reload"), show=False, tooltip=N_("load the lesson file again, "
                "at the same step (an edited file also reloads by itself)")),
        Binding("escape", "lessons", N_("lessons"), show=False, tooltip=N_("back to the lesson "
                "picker (while a long go-to runs: cancel it)")),
    ]

    goto_noun = "iteration"   # what the go-to prompt asks for

    playing = var(False, init=False)
    speed = var(2, init=False)       # index into SPEEDS
    busy = var("", init=False)       # what a worker is doing, or ""

    def __init__(self, stepper, *, lang: str = "en", ascii_plot: bool = False,
                 origin=None, watch: SourceWatch | None = None, restore: dict | None = None,
                 note: str = "") -> None:
        super().__init__()
        self.stepper = stepper
        self.lesson = stepper.lesson
        self.lang = lang
        self.ascii_plot = ascii_plot
        self.numbers = Numbers.of(stepper, full=bool((restore or {}).get("full")))
        self.origin = origin      # the exact lesson this float64 one stands in for (t goes back)
        self.watch = watch        # the lesson's file, for a lesson opened from one
        self._restore = restore or {}
        self._note = note
        self._timer = None
        # the work in a worker thread: each job has its own cancel flag and its own `after`
        self._cancel = threading.Event()      # the latest job's
        self._jobs: dict[Worker, tuple[threading.Event, Callable[[object], None]]] = {}
        self._progress_sent = 0.0
        self._swap: dict | None = None   # a rebuilt screen waiting for this one to be on top
        self.predictor = None     # predict mode and progress: predict.Session, made on first move
        # keys, timers and workers' results act on this screen only while it is live: mounted
        # (its widgets hold the stepper's state) and not being replaced by another
        self._ready = False
        self._leaving = False

    # -- what a subclass provides --------------------------------------------------------

    def advance(self) -> bool:
        """One step forward; False when there is none."""
        raise NotImplementedError

    def retreat(self) -> bool:
        raise NotImplementedError

    def restart(self) -> None:
        raise NotImplementedError

    def last_step(self) -> int:
        """The highest step the go-to prompt accepts."""
        raise NotImplementedError

    def jump(self, target: int) -> None:
        raise NotImplementedError

    def sync(self) -> None:
        """Copy the stepper's state into the screen's reactives."""
        raise NotImplementedError

    def refresh_status(self) -> None:
        raise NotImplementedError

    def scroll_target(self, direction: str):
        """The widget ↑ ↓ PgUp PgDn scroll."""
        raise NotImplementedError

    def action_scroll(self, direction: str) -> None:
        getattr(self.scroll_target(direction), f"scroll_{direction}")()

    def backend_switched(self) -> None:
        """The backend changed: re-read whatever depends on it."""

    def position_index(self) -> int:
        """Where the student is: the step k, or a graph lesson's stage."""
        return self.stepper.k

    def kept(self) -> dict:
        """What the student chose on this screen, carried to a rebuilt one of the same kind."""
        return {"kind": self.lesson.kind, "speed": self.speed, "playing": self.playing,
                "full": self.numbers.full,
                "predict": self.predictor.kept() if self.predictor is not None else None}

    def restore(self, kept: dict) -> None:
        if kept.get("predict") is not None:
            from .predict import session_of
            session_of(self).restore(kept["predict"])
        if "speed" in kept:
            self.speed = kept["speed"]
        if kept.get("playing"):
            self.playing = True

    # -- mounting ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # runs after the subclass's on_mount has shown the stepper's state
        self.query_one(Notice).show(self._note)
        self.restore(self._restore)
        if self.watch is not None:
            self.set_interval(POLL, self._poll)
        self._ready = True
        self.refresh_bindings()

    @property
    def live(self) -> bool:
        """Mounted, on top, and not being replaced: keys and timers act on it only then (a
        key queued while a rebuilt screen takes this one's place goes to neither)."""
        return self._ready and not self._leaving and self._swap is None and self.is_current

    def waiting_for_torch(self) -> bool:
        """True while the lesson's stepper is still a PendingStepper: the screen is drawn
        without numbers, torch is imported in a worker once it is on screen, and then
        on_mount runs again with the real stepper."""
        if not getattr(self.stepper, "pending", False):
            return False
        pending = self.stepper

        def load(cancelled):
            try:
                return pending.load()
            except Exception as error:     # shown, then back to the lessons
                return error

        def loaded(result) -> None:
            if self._leaving:
                return
            if isinstance(result, Exception):
                self.report(result)
                self.action_lessons()
                return
            self.stepper = result
            self.on_mount()

        # said on the first frame; torch is imported once that frame is out and written:
        # the import holds the interpreter for a second or more, and started at once it
        # would keep the thread that writes the frame to the terminal waiting
        self.busy = _("loading torch…")
        self.call_after_refresh(self.set_timer, TORCH_AFTER,
                                lambda: self.in_background(load, self.busy, loaded))
        return True

    # -- reporting -------------------------------------------------------------------------

    def report(self, error: BaseException) -> None:
        message = str(error)
        if not isinstance(error, GdtutorError):
            message = f"gdtutor: {message or type(error).__name__}"
        say(self, message, severity="error", timeout=8)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self._ready or self._leaving or self._swap is not None:
            return False   # not drawn yet, or another screen takes its place: keys do nothing
        if self.app.has_class("-too-small") and action in USES_STEPPER | {"speed", "scroll"}:
            return False   # behind the "please enlarge" message no key moves the lesson
        if self.busy and action in USES_STEPPER:
            return None    # shown, but disabled until the worker is done
        return True

    @property
    def active_bindings(self):
        """Textual's active bindings, said in the student's language; under --ascii with ASCII
        descriptions (the footer's α)."""
        found = said_bindings(super().active_bindings)
        if not self.ascii_plot:
            return found
        from .glyphs import ascii_binding
        return {key: active._replace(binding=ascii_binding(active.binding),
                                     tooltip=to_ascii(active.tooltip))
                for key, active in found.items()}

    def watch_busy(self, busy: str) -> None:
        self.set_class(bool(busy), "-busy")
        self.refresh_bindings()
        self.refresh_status()

    # -- stepping ----------------------------------------------------------------------------

    @guarded
    def action_step(self) -> None:
        if self.predictor is not None and self.predictor.holds_step():
            return
        if not self.advance():
            self.playing = False

    @guarded
    def action_back(self) -> None:
        self.retreat()

    @guarded
    def action_reset(self) -> None:
        self.playing = False
        self.restart()

    # -- predict mode and progress (predict.py) ---------------------------------------------

    def moved(self) -> None:
        """The step or stage on screen changed: progress and predict mode follow."""
        from .predict import moved
        moved(self)

    def action_predict(self) -> None:
        from .predict import toggle
        toggle(self)

    def lesson_markdown(self) -> str:
        """The lesson text as shown (predict mode hides what would give answers away)."""
        from .predict import session_of
        return session_of(self).markdown(self.lesson.text.get(self.lang))

    def action_goto(self) -> None:
        from .goto import GotoScreen     # its Input and Label are imported when first asked
        self.playing = False
        # a bad answer is said in the prompt, which stays open for another
        self.app.push_screen(GotoScreen(self.last_step(), self.goto_noun), self._goto_answer)

    def _goto_answer(self, target: int | None) -> None:
        if target is not None:
            self._jump(target)

    @guarded
    def _jump(self, target: int) -> None:
        self.jump(target)

    # -- precision -----------------------------------------------------------------------------

    def action_precision(self) -> None:
        """`.`: every digit of every number, on every panel at once (and back)."""
        self.numbers = Numbers.of(self.stepper, full=not self.numbers.full)
        self.precision_changed()
        self.refresh_status()

    def precision_changed(self) -> None:
        """self.numbers changed: draw the numbers again with it."""

    # -- play --------------------------------------------------------------------------------

    def action_play(self) -> None:
        self.playing = not self.playing

    def action_speed(self, change: int) -> None:
        self.speed = max(0, min(len(SPEEDS) - 1, self.speed + change))

    def watch_playing(self, playing: bool) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if playing:
            self._timer = self.set_interval(1 / SPEEDS[self.speed], self._tick)
        self.refresh_status()

    def watch_speed(self) -> None:
        if self.playing:
            self.watch_playing(True)
        else:
            self.refresh_status()

    def _tick(self) -> None:
        if not self.busy and self.live:
            self.action_step()

    def speed_text(self) -> str:
        speed = SPEEDS[self.speed]
        return _("{speed} steps/s").format(speed=f"{speed:g}")

    # -- background work ---------------------------------------------------------------------

    def in_background(self, job: Callable[[Callable[[], bool]], object], label: str,
                      after: Callable[[object], None], total: int | None = None,
                      stop_play: bool = True) -> None:
        """Run job(cancelled) in a thread; `after(result)` runs on the UI side when it ends,
        unless the screen is gone or being replaced by then (the result is dropped).
        `cancelled()` is true once esc, `q` or the screen's end asks the job to stop: a job
        asks it at least every few milliseconds."""
        if self._leaving:
            return
        if stop_play:
            self.playing = False
        self._cancel = cancel = threading.Event()
        if total is not None and self.is_mounted:
            self.progress_bar().update(total=total, progress=0)
        self.set_class(total is not None, "-counting")
        self.busy = label
        worker = self._background(job, cancel)
        self._jobs[worker] = (cancel, after)

    @work(thread=True, exclusive=True, group="lesson", exit_on_error=False)
    def _background(self, job, cancel: threading.Event):
        worker = get_current_worker()
        return job(lambda: cancel.is_set() or worker.is_cancelled)

    def cancel_work(self) -> None:
        """Ask every job of this screen to stop (each stops at its next look at the flag)."""
        self._cancel.set()
        for cancel, _after in self._jobs.values():
            cancel.set()

    # -- computing ahead of what is shown ------------------------------------------------

    def ahead(self, k: int, then: Callable[[], None] | None = None) -> bool:
        """Compute the history up to step k: what fits in a frame here, the rest in a worker
        once the screen is mounted (the status line says so; esc cancels), after which then()
        runs. True when it is all done here."""
        s = self.stepper
        if not isinstance(s, PacedStepper):
            k0 = s.k
            s.goto(k)
            s.goto(k0)
            return True
        s.compute(k, budget=FRAME)
        if s.computed >= min(k, s.iterations) or s.diverged_at is not None \
                or s.stopped_at is not None:
            return True
        if self.is_mounted:
            self.in_background(lambda cancelled: s.compute(k, cancel=cancelled),
                               _("computing ahead… (esc cancels)"),
                               lambda _computed: then and then(), stop_play=False)
        return False

    def computing(self, k: int, then: Callable[[], object]) -> bool:
        """True when showing step k needs a step expected to take longer than a frame: it
        is computed in a worker (the status line says so; esc cancels), and then() runs when
        it is done."""
        s = self.stepper
        if not isinstance(s, PacedStepper) or s.ready_for(k) or not s.slow:
            return False
        self.in_background(lambda cancelled: s.compute(k + 1, cancel=cancelled),
                           _("computing step {k}… (esc cancels)").format(k=k),
                           lambda _computed: then(), stop_play=False)
        return True

    def why_stopped(self) -> str:
        """Why a go-to landed short of its target, when it was not a divergence."""
        s = self.stepper
        if isinstance(s, PacedStepper) and s.stopped_at is not None and s.k >= s.last:
            return str(s.too_slow())
        return _("cancelled")

    def post_progress(self, done: int, total: int) -> None:
        """Called from the worker thread (a message at most every PROGRESS_EVERY seconds)."""
        now = time.monotonic()
        if now - self._progress_sent >= PROGRESS_EVERY or done >= total:
            self._progress_sent = now
            self.post_message(Progress(done, total))

    def on_progress(self, message: Progress) -> None:
        if self.busy and self.is_mounted:
            self.progress_bar().update(total=message.total, progress=message.done)

    def progress_bar(self):
        """The bar of work that counts its steps, made when such work first starts (Textual's
        ProgressBar is not even imported before)."""
        found = self.query("#progress")
        if found:
            return found.first()
        from textual.widgets import ProgressBar
        bar = ProgressBar(id="progress", show_eta=False)
        self.mount(bar, before=self.query_one(Footer))
        return bar

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "lesson" or event.state not in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        cancel, after = self._jobs.pop(event.worker, (None, None))
        if event.state == WorkerState.CANCELLED or cancel is None or self._leaving:
            # cancelled by Textual (the screen or the app is closing, or a newer job took the
            # group), or this screen is being replaced: the thread stops at its next look at
            # its flag, and what it computed is not shown
            if cancel is not None:
                cancel.set()
            return
        if self._jobs:
            return             # a newer job runs on: its end is what is shown
        self.busy = ""
        if event.state == WorkerState.ERROR:
            self.report(event.worker.error)
            self.sync()
        elif after is not None:
            try:
                after(event.worker.result)
            except (GdtutorError, ArithmeticError, ValueError, IndexError, RuntimeError) as error:
                self.report(error)

    # -- backend, leaving --------------------------------------------------------------------

    def action_backend(self) -> None:
        target = "torch" if self.stepper.backend_name == "numpy" else "numpy"
        if self.origin is not None or (target == "torch" and self.stepper.dtype == "exact"):
            self._change_arithmetic()
            return

        def switch(cancelled) -> str:
            self.stepper.set_backend(target)
            return target

        def done(name: str) -> None:
            self.backend_switched()
            self.sync()
            self.notify(_("backend: {name}; the next steps use it").format(name=name))

        self.in_background(switch, _("switching to {target}…").format(target=target), done)

    @guarded
    def _change_arithmetic(self) -> None:
        """Exact fractions have no torch: the lesson runs again on torch in float64, with the
        same α changes to the same step; from there, t runs it again in exact fractions."""
        from ..catalog import with_overrides
        if self.origin is not None:
            lesson, origin = self.origin, None
        else:
            lesson, origin = with_overrides(self.lesson, backend="torch", dtype="float64"), \
                self.lesson
        old, k, kept = self.stepper, self.stepper.k, self.kept()
        descent = lesson.kind == "descent"
        before = value_text(self.stepper, self.numbers)

        def again(cancelled) -> Stepper:
            return rebuild(old, lesson, k, self.post_progress, cancelled, make=PacedStepper)

        def done(stepper: Stepper) -> None:
            if descent and stepper.k < k:
                self.notify(_("stopped at step {k}").format(k=stepper.k), severity="warning",
                            timeout=6)
            after = value_text(stepper, Numbers.of(stepper))
            if origin is not None:
                self.swap(stepper, origin=origin, kept=kept, note=_(
                    "torch has no exact fractions: float64 from here; {before} = {after}").format(
                        before=before, after=after))
            else:
                self.swap(stepper, kept=kept, told=_(
                    "numpy · exact again: {before} = {after}").format(before=before, after=after))

        target = "torch (float64)" if origin is not None else "numpy (exact)"
        self.in_background(again, _("switching to {target}…").format(target=target), done,
                           total=k or None)

    # -- a lesson file edited under the running lesson ----------------------------------------

    def action_reload(self) -> None:
        if self.watch is None:
            self.notify(_("a built-in lesson is not reloaded; open a lesson file by its path "
                          "(gdtutor FILE.yaml) to edit it while it runs"), timeout=6)
            return
        self.reload()

    def _poll(self) -> None:
        if self.busy or not self.live:
            return     # looked at again on the next poll
        if self.watch.changed() is not None:
            self.reload()

    def reload(self) -> None:
        """Read the lesson file again: a good edit replaces the lesson at the same step; a
        bad one is shown as its one-line error while the last good version runs on."""
        watch, app, kept = self.watch, self.app, self.kept()
        old, position = self.stepper, self.position_index()
        # this version is taken in whatever comes of it: a bad one is not read again each poll
        seen = watch.seen = signature(watch.path)

        def load_again(cancelled):
            from ..catalog import load
            try:
                refused = not_regular(watch.path)    # a FIFO would hold this thread for ever
                if refused:
                    raise GdtutorError(refused, file=str(watch.path))
                lesson = load(watch.path)
                # what the student changed with keys, kept where the edit did not change it
                return rebuild(old, lesson, position, self.post_progress, cancelled,
                               make=app.stepper_for)
            except GdtutorError as error:
                return error

        def done(got) -> None:
            if isinstance(got, GdtutorError):
                if signature(watch.path) != seen:
                    return         # still being written: the next poll reads it again
                self.query_one(Notice).show(
                    _("{error} (the last good version runs on)").format(error=got), error=True)
                say(self, got, severity="error", timeout=8)
                return
            where = f": k = {got.k}" if got.lesson.kind == "descent" else ""
            self.swap(got, watch=SourceWatch(watch.path, seen), kept=kept,
                      told=_("reloaded {name}{where}").format(name=watch.path.name, where=where))

        self.in_background(load_again, _("reloading {name}…").format(name=watch.path.name), done)

    # -- a rebuilt lesson takes this screen's place -------------------------------------------

    def swap(self, stepper: Stepper, *, origin=None, watch: SourceWatch | None = None,
             kept: dict | None = None, note: str = "", told: str = "") -> None:
        """Replace this screen by one over `stepper` (as soon as this one is on top); `note`
        stays on the new screen's notice line, `told` is said once."""
        self._swap = dict(stepper=stepper, origin=origin, watch=watch or self.watch,
                          kept=kept or {}, note=note, told=told)
        if self.app.screen is self:
            self._do_swap()

    def on_screen_resume(self) -> None:
        if self._swap is not None and not self._leaving:
            self._do_swap()

    def _do_swap(self) -> None:
        swap, self._swap = self._swap, None
        # from here this screen is on its way out: what is queued for it does nothing
        self._leaving = True
        self.cancel_work()
        self.playing = False
        screen = self.app.lesson_screen(swap["stepper"], origin=swap["origin"],
                                        watch=swap["watch"], restore=swap["kept"],
                                        note=swap["note"])
        if swap["told"]:
            say(self, swap["told"], timeout=6)
        self.app.switch_screen(screen)

    def action_lessons(self) -> None:
        if self.busy:
            self._cancel.set()
            self.notify(_("cancelling…"))
            return
        self.playing = False
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        elif self.app.screen is self:     # opened from the command line: the picker takes its place
            self.app.switch_screen(self.app.picker())

    def on_unmount(self) -> None:
        self._leaving = True
        self.cancel_work()


def value_text(stepper: Stepper, numbers: Numbers) -> str:
    """w_k of a descent lesson, or the value of a graph lesson's output, as the screen writes it."""
    if stepper.lesson.kind == "descent":
        return numbers.weights(stepper.weights_at(stepper.k))
    nodes = stepper.nodes()
    return numbers.array(nodes[-1].value) if nodes else "–"
