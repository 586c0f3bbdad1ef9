"""The Textual app: the picker and lesson screens, app-wide keys, and `run` for the CLI."""
from __future__ import annotations

import gc
import os
from dataclasses import replace
import sys

from textual import events
from textual.app import App
from textual.binding import Binding

from ..i18n import N_, _, set_lang
from ..errors import GdtutorError
from .literal import say
from .signals import (CHECK_TERMINAL, HANGUP, caught_until_running, hand_to_loop,
                      ending_promptly, status_for, terminal_gone)
from .source import SourceWatch
from .too_small import TooSmall, too_small

DESCENT_ONLY = ("lr", "steps")   # overrides a graph lesson has no use for


class GdtutorApp(App[None]):
    """gdtutor's TUI: a thin view over the core's Stepper."""

    CSS_PATH = "app.tcss"
    TITLE = "gdtutor"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("question_mark", "help", N_("help"), key_display="?",
                tooltip=N_("this list of keys")),
        Binding("q", "quit", N_("quit"), tooltip=N_("quit gdtutor")),
    ]

    def __init__(self, lessons, stepper=None, *, lang: str = "en", ascii_plot: bool = False,
                 overrides: dict | None = None, end_on_signals: bool = False,
                 predict: bool = False, progress=None) -> None:
        """`lessons`: the picker's list or Course, or a function giving one (read when the
        picker is first shown; a lesson opened at start does not wait for the others to load).
        `predict`: every lesson opens in predict mode (--predict; else `p` turns it on).
        `progress`: the ProgressLog events are appended to (None: no progress is kept)."""
        super().__init__()
        self.lessons = lessons if callable(lessons) or hasattr(lessons, "entries") \
            else list(lessons)
        self.first = stepper
        self.lang = set_lang(lang)     # everything said from now on is in the app's language
        self.ascii_plot = ascii_plot
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.end_on_signals = end_on_signals
        self.signals_seen: list[int] = []   # ending signals that came before the loop ran
        self.predict = predict     # predict mode: from --predict, then as `p` last left it
        self.keeper = None     # the progress file (keeping.Keeper), when one is kept
        if progress is not None:
            from .keeping import Keeper
            self.keeper = Keeper(progress, lambda message: self.notify(
                message, severity="warning", timeout=8))

    def on_mount(self) -> None:
        self.set_class(self.ascii_plot, "-ascii")
        if self.ascii_plot:
            from .glyphs import ascii_scrollbars
            ascii_scrollbars(True)
        if self.end_on_signals:
            if hand_to_loop(self.end_by_signal) and self.signals_seen:
                self.end_by_signal(self.signals_seen[0])
            self.set_interval(CHECK_TERMINAL, self._check_terminal)
        # what start-up made lives as long as the app: out of the collector's sight, a full
        # collection does not walk it again (a pause of tens of ms in the middle of a step)
        self.call_after_refresh(gc.freeze)
        if self.first is None:
            self.push_screen(self.picker())
            return
        # a lesson opened at start lies on the default screen: esc puts the picker in its place
        lesson = self.first.lesson
        # a lesson opened from a file is watched for edits; a built-in one (order > 0) is not
        watch = SourceWatch(lesson.source) if lesson.source and not lesson.order else None
        self.push_screen(self.lesson_screen(self.first, watch=watch))

    def notify(self, message, *args, **kwargs) -> None:
        """Textual's notify; under --ascii in ASCII (tui/glyphs.py)."""
        if self.ascii_plot:
            from .glyphs import to_ascii
            message = to_ascii(str(message))
        super().notify(message, *args, **kwargs)

    def on_unmount(self) -> None:
        if self.ascii_plot:
            from .glyphs import ascii_scrollbars
            ascii_scrollbars(False)

    def end_by_signal(self, signum: int) -> None:
        """SIGTERM, SIGHUP, SIGINT or a hung-up terminal: end as `q` does, so the terminal is
        given back as it was, with the status a shell reports for the signal."""
        self.exit(return_code=status_for(signum))

    def _check_terminal(self) -> None:
        # under `gdtutor serve` a session's terminal is its server's pipe: gone with the server
        if (os.getppid() != SERVED_BY) if self.is_web else terminal_gone():
            self.end_by_signal(HANGUP)

    def picker(self):
        from .picker import PickerScreen
        return PickerScreen(self.lessons, self.lang)

    def lesson_screen(self, stepper, **options):
        if stepper.lesson.kind == "graph":
            from .graph_screen import GraphScreen as kind
        else:
            from .descent import DescentScreen as kind
        return kind(stepper, lang=self.lang, ascii_plot=self.ascii_plot, **options)

    def stepper_for(self, lesson):
        """A stepper over `lesson` with the command line's overrides applied (GdtutorError if
        the lesson cannot take them)."""
        from ..catalog import with_overrides
        from .paced import PacedStepper
        overrides = {k: v for k, v in self.overrides.items()
                     if lesson.kind == "descent" or k not in DESCENT_ONLY}
        return PacedStepper(with_overrides(lesson, **overrides))

    def open_lesson(self, lesson) -> None:
        """Open a lesson from the picker, with the command line's overrides applied."""
        try:
            stepper = self.stepper_for(lesson)
        except GdtutorError as error:
            say(self, error, severity="error", timeout=8)
            return
        self.push_screen(self.lesson_screen(stepper))

    def on_key(self, event: events.Key) -> None:
        # a key no binding took, while the go-to prompt is on top: typed with the g that
        # opened it, it went to the lesson screen first; the prompt takes it
        take = getattr(self.screen, "type_ahead", None)
        if take is not None and take(event):
            event.stop()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(too_small(event.size.width, event.size.height), "-too-small")
        for widget in self.screen.query(TooSmall):
            widget.refresh()
        self.screen.refresh_bindings()    # the lesson's keys are off while it is too small

    def action_help(self) -> None:
        from .help import HelpScreen
        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        title = getattr(getattr(screen, "lesson", None), "id", None) or "gdtutor"
        self.push_screen(HelpScreen(self.keys_of(screen), _("keys: {title}").format(title=title)))

    def keys_of(self, screen) -> list[tuple[str, str]]:
        """The keys active on `screen` that gdtutor binds (not Textual's own, such as tab),
        one row an action: every key bound to it (as Textual writes keys), and what it does."""
        keys: dict[str, list[str]] = {}
        does: dict[str, str] = {}
        for node, binding, _, tooltip in screen.active_bindings.values():
            if not declared(node, binding):
                continue
            shown = self.get_key_display(replace(binding, key_display=None))
            if shown not in keys.setdefault(binding.action, []):
                keys[binding.action].append(shown)
            does.setdefault(binding.action, tooltip or binding.description)
        return [(" ".join(keys[action]), does[action]) for action in keys]


def declared(node, binding: Binding) -> bool:
    """True when `binding` is one that `node`'s class, a class of gdtutor, lists itself."""
    if not type(node).__module__.startswith("gdtutor"):
        return False
    return any(own.action == binding.action and binding.key in
               [key.strip() for key in own.key.split(",")]
               for own in type(node).BINDINGS if isinstance(own, Binding))


def terminal_refusal(environ=None, stdin=None, screen=None) -> str | None:
    """Why this terminal cannot show the tutor (None when it can). Textual reads keys from
    stdin and draws on stderr, with cursor moves that a dumb terminal prints as junk."""
    environ = os.environ if environ is None else environ
    if environ.get("TEXTUAL_DRIVER", "").startswith("textual.drivers.web_driver:"):
        return None    # `gdtutor serve`: textual-serve's pipes carry the browser's terminal
    stdin = sys.__stdin__ if stdin is None else stdin
    screen = sys.__stderr__ if screen is None else screen
    if environ.get("TERM") == "dumb":
        return _("this terminal (TERM=dumb) cannot show the tutor; use a terminal such as "
                 "xterm-256color, or 'gdtutor replay LESSON'")
    for stream, what in ((stdin, N_("input")), (screen, N_("output (stderr)"))):
        if stream is None or not stream.isatty():
            return _("the tutor needs a terminal, and its {what} is not one; "
                     "for a transcript use 'gdtutor replay LESSON'").format(what=_(what))
    return None


def picker_lessons(lesson=None, course=None):
    """What the picker lists: `course` (a Course, with a last entry for the built-in lessons);
    else, under a lesson opened from a file, a function giving that file's folder as a course
    (read when esc first shows the picker); else the built-in lessons (a function under a
    lesson, the list itself at start)."""
    from ..catalog import builtin, course_of
    if course is not None:
        return course
    if lesson is None:
        return builtin()
    if lesson.source is not None and not lesson.order:
        return lambda: course_of(lesson) or builtin()
    return builtin


SERVED_BY = os.getppid()   # under `gdtutor serve`: the server (textual-serve's shell execs us)


def run(lesson=None, *, course=None, lang: str = "en", ascii_plot: bool = False,
        mouse: bool | None = None, overrides: dict | None = None, predict: bool = False) -> int:
    """Start the TUI on the picker (of `course`, else of the built-in lessons), or on `lesson`
    (already checked and overridden by the CLI).

    The picker shown at start reads its lessons first (a broken built-in one is the usual
    one-line error); under a lesson, it reads them when esc first shows it."""
    from .paced import PacedStepper as Stepper    # its steps never hold the screen
    from .pending import PendingStepper, needs_loading
    refusal = terminal_refusal()
    if refusal:
        raise GdtutorError(refusal)
    if lesson is not None and needs_loading(lesson):
        stepper = PendingStepper(lesson)     # torch loads after the first frame
    else:
        stepper = Stepper(lesson) if lesson is not None else None   # a bad lesson fails before drawing
    if mouse is None:
        mouse = not os.environ.get("SSH_CONNECTION")
    from ..progress import ProgressLog
    app = GdtutorApp(picker_lessons(lesson, course), stepper, lang=lang,
                     ascii_plot=ascii_plot, overrides=overrides, end_on_signals=True,
                     predict=predict, progress=ProgressLog())
    loop = ending_promptly()
    try:
        with caught_until_running(app.signals_seen):
            app.run(mouse=mouse, loop=loop)
    finally:
        loop.close()
    return app.return_code or 0
