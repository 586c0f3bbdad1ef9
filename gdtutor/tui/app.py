"""The Textual app: the picker and lesson screens, app-wide keys, and `run` for the CLI."""
from __future__ import annotations

import os

from textual import events
from textual.app import App
from textual.binding import Binding

from ..errors import GdtutorError
from .descent import DescentScreen
from .graph_screen import GraphScreen
from .help import HelpScreen
from .picker import PickerScreen
from .too_small import TooSmall, too_small

DESCENT_ONLY = ("lr", "steps")   # overrides a graph lesson has no use for


class GdtutorApp(App[None]):
    """gdtutor's TUI: a thin view over the core's Stepper."""

    CSS_PATH = "app.tcss"
    TITLE = "gdtutor"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("question_mark", "help", "help", key_display="?", tooltip="this list of keys"),
        Binding("q", "quit", "quit", tooltip="quit gdtutor"),
    ]

    def __init__(self, lessons, stepper=None, *, lang: str = "en", ascii_plot: bool = False,
                 overrides: dict | None = None) -> None:
        super().__init__()
        self.lessons = list(lessons)
        self.first = stepper
        self.lang = lang
        self.ascii_plot = ascii_plot
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}

    def on_mount(self) -> None:
        self.push_screen(PickerScreen(self.lessons, self.lang))
        if self.first is not None:
            self.push_screen(self.lesson_screen(self.first))

    def lesson_screen(self, stepper):
        kind = GraphScreen if stepper.lesson.kind == "graph" else DescentScreen
        return kind(stepper, lang=self.lang, ascii_plot=self.ascii_plot)

    def open_lesson(self, lesson) -> None:
        """Open a lesson from the picker, with the command line's overrides applied."""
        from ..lesson import with_overrides
        from ..stepper import Stepper
        overrides = {k: v for k, v in self.overrides.items()
                     if lesson.kind == "descent" or k not in DESCENT_ONLY}
        try:
            stepper = Stepper(with_overrides(lesson, **overrides))
        except GdtutorError as error:
            self.notify(str(error), severity="error", timeout=8)
            return
        self.push_screen(self.lesson_screen(stepper))

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(too_small(event.size.width, event.size.height), "-too-small")
        for widget in self.screen.query(TooSmall):
            widget.refresh()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        owners = [c for c in reversed(type(screen).__mro__) if c.__module__.startswith("gdtutor")]
        seen, bindings = set(), []
        for owner in [*owners, type(self)]:
            for binding in owner.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.action not in seen:
                    seen.add(binding.action)
                    bindings.append(binding)
        title = getattr(getattr(screen, "lesson", None), "id", None) or "gdtutor"
        self.push_screen(HelpScreen(bindings, f"keys: {title}"))


def run(lesson=None, *, lang: str = "en", ascii_plot: bool = False, mouse: bool | None = None,
        overrides: dict | None = None) -> int:
    """Start the TUI on the picker, or on `lesson` (already checked and overridden by the CLI)."""
    from ..lesson import builtin
    from ..stepper import Stepper
    stepper = Stepper(lesson) if lesson is not None else None   # a bad lesson fails before drawing
    if mouse is None:
        mouse = not os.environ.get("SSH_CONNECTION")
    app = GdtutorApp(builtin(), stepper, lang=lang, ascii_plot=ascii_plot, overrides=overrides)
    app.run(mouse=mouse)
    return app.return_code or 0
