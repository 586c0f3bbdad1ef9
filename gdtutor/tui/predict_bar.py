"""The predict bar: under the lesson's numbers, the question, a one-line answer field, the
last verdict and the hint. It hides nothing the student needs to compute the step."""
from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from ..i18n import N_, _
from .predict import PASSED, View

MOODS = {"right": "bold green", "wrong": "bold red", "refused": "bold yellow", "": ""}


class AnswerInput(Input):
    """The answer field: enter checks, esc reveals. While it is empty, a key of the lesson
    screen that no number starts with (n b r g p t l q ? space) goes to the screen."""

    BINDINGS = [Binding("escape", "reveal", N_("reveal"),
                        tooltip=N_("reveal the step (it counts as revealed)")),
                Binding("tab", "leave", N_("leave"), show=False,
                        tooltip=N_("leave the answer field, so that digits choose the view (n "
                                   "comes back to it)"))]

    def __init__(self, session, **kwargs) -> None:
        super().__init__(compact=True, **kwargs)
        self.session = session
        self.typed = ""

    def passes(self, character: str | None) -> bool:
        return not self.value and bool(character) and character in PASSED

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return not self.passes(character) and super().check_consume_key(key, character)

    def on_key(self, event: events.Key) -> None:
        if self.passes(event.character):
            event.prevent_default()       # not typed here: it bubbles to the screen's keys

    def on_input_changed(self, event: Input.Changed) -> None:
        if bool(event.value) != bool(self.typed):
            self.refresh_bindings()       # the footer shows the screen's keys while empty
        self.typed = event.value

    async def action_submit(self) -> None:
        # checked at once, in the order the keys came: `-1/2⏎3/2⏎` typed in one burst (over
        # a slow link they arrive together) is two answers, not one field of `-1/23/2`
        if self.session.answer(self.value):
            self.value = ""

    def action_reveal(self) -> None:
        self.session.reveal()

    def action_leave(self) -> None:
        self.screen.set_focus(None)


class PredictBar(Vertical):
    """Shown while predict mode is on."""

    def __init__(self, session) -> None:
        super().__init__(id="predict")
        self.session = session
        self.waiting: tuple | None = None     # what to show once the children are mounted

    def compose(self) -> ComposeResult:
        yield Static(id="predict-ask", markup=False)
        yield AnswerInput(self.session, id="predict-input",
                          placeholder=_("a number, a fraction such as 7/4, or numbers "
                                        "separated by spaces"))
        yield Static(id="predict-said", markup=False)
        yield Static(id="predict-hint", markup=False)

    def on_mount(self) -> None:
        if self.waiting is not None:
            self.show(*self.waiting)
            if self.session.ask is not None and self.screen.app.screen is self.screen:
                self.focus_input()

    def show(self, view: View, on: bool, waiting: str) -> None:
        if not self.query("#predict-ask"):
            self.waiting = (view, on, waiting)
            return
        self.waiting = None
        self.set_class(not on, "-off")
        asking = bool(view.ask)
        ask = Text(no_wrap=True, overflow="ellipsis")
        if asking:
            ask.append(view.ask, style="bold")
            ask.append("  " + _("enter checks · esc reveals · tab leaves"), style="dim")
        else:
            ask.append(waiting, style="dim")
        self.query_one("#predict-ask", Static).update(ask)
        field = self.query_one(AnswerInput)
        field.display = asking
        self.query_one("#predict-said", Static).update(Text(view.said, style=MOODS[view.mood]))
        self.query_one("#predict-said", Static).display = bool(view.said)
        self.query_one("#predict-hint", Static).update(Text(view.hint, style="italic"))
        self.query_one("#predict-hint", Static).display = bool(view.hint)

    def focus_input(self) -> None:
        field = self.query(AnswerInput)
        if field and field.first().display:
            field.first().focus()
