"""The prompts of a lesson screen: go to a step (`g`) and type α (`=`). Each is a small modal
that returns the parsed answer, or None on escape; an answer that cannot be taken is said in
the prompt, on a line under the field, and the prompt stays open for another."""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from ..i18n import N_, _
from ..numbers import to_float
from .glyphs import shown


class Prompt(ModalScreen[object]):
    """Asks for one line; `parse(text)` gives the answer or raises ValueError with a one-line
    reason, shown under the field."""

    BINDINGS = [Binding("escape", "cancel", N_("cancel"))]

    def __init__(self, question: str, placeholder: str, parse: Callable[[str], object]) -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder
        self.parse = parse
        self._early: list[events.Key] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box"):
            yield Label(shown(self.app, self.question))
            yield Input(placeholder=shown(self.app, self.placeholder), id="goto-input")
            yield Label("", id="goto-error", markup=False)

    @property
    def error(self) -> str:
        """The reason the last answer was refused ("" when none was)."""
        found = self.query("#goto-error")
        return str(found.first().content) if found else ""

    def on_mount(self) -> None:
        for key in self._early:
            self.type_ahead(key)
        self._early.clear()

    def type_ahead(self, key: events.Key) -> bool:
        """Take a key that reached the app unused while this prompt is on top: one typed in
        the same burst as the g that opened it (over a slow link, `g10` and Enter arrive in
        one read), sent to the lesson screen before the prompt existed. A character goes into
        the field and Enter answers, as if typed there; False for any other key."""
        if not (key.is_printable and key.character) and key.key != "enter":
            return False
        found = self.query(Input)
        if not found:                     # the field is not there yet: taken when it is
            self._early.append(key)
            return True
        field = found.first()
        if key.key != "enter":
            field.insert_text_at_cursor(key.character)
        elif self.focused is not field:   # (with the field focused, its own Enter answers)
            self.answer(field.value)
        else:
            return False
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.answer(event.value)

    def answer(self, text: str) -> None:
        """Close with the parsed answer, or say in the prompt why it cannot be taken."""
        if not self.is_active:
            return
        try:
            value = self.parse(text)
        except ValueError as error:
            box = self.query_one("#goto-error", Label)
            box.update(shown(self.app, str(error)))
            box.add_class("-shown")
            return
        self.close(value)

    def action_cancel(self) -> None:
        self.close(None)

    def close(self, answer: str | None) -> None:
        # Enter typed twice, fast, submits twice: a second dismiss would pop the screen under
        # this one (the lesson), and a third the picker
        if self.is_active:
            self.dismiss(answer)


# the go-to question for the nouns the lesson screens use, each one sentence in the catalog
QUESTIONS = {
    "iteration": N_("Go to iteration (0–{last}), then Enter; Escape cancels"),
    "stage": N_("Go to stage (0–{last}), then Enter; Escape cancels"),
}


class GotoScreen(Prompt):
    """Asks for a step number between 0 and `last`; answers it as an int."""

    def __init__(self, last: int, what: str = "iteration") -> None:
        question = QUESTIONS.get(what, N_("Go to {what} (0–{last}), then Enter; Escape cancels"))
        super().__init__(_(question).format(what=what, last=last), f"0–{last}",
                         lambda text: parse_target(text, last))
        self.last = last
        self.what = what


class LrScreen(Prompt):
    """`=`: asks for α, a fraction (1/3) or a decimal (0.05); answers it as a Fraction."""

    def __init__(self, current: str) -> None:
        super().__init__(_("α for the next steps (now {lr}): a fraction such as 1/3 or a "
                           "decimal such as 0.05, then Enter; Escape cancels").format(lr=current),
                         _("e.g. 1/3 or 0.05"), parse_lr)


def parse_lr(answer: str) -> Fraction:
    """α typed by the student; ValueError with a one-line reason unless it is one positive
    finite number."""
    from ..answers import parse_answer
    try:
        values = parse_answer(answer)
    except ValueError as error:
        raise ValueError(str(error)) from None
    if len(values) != 1:
        raise ValueError(_("α is one number, not {n}").format(n=len(values)))
    lr = values[0]
    if lr <= 0:
        raise ValueError(_("α must be greater than 0: the step is −α·grad"))
    if not math.isfinite(to_float(lr)):
        raise ValueError(_("α is too large: past the largest float64"))
    return lr


def parse_target(answer: str, last: int) -> int:
    """The step asked for; ValueError with a one-line reason if it is not one."""
    text = answer.strip().replace("_", "").replace(",", "")
    if len(text) > 30 and text.lstrip("+-").isdigit():
        # int() refuses > 4300 digits
        raise ValueError(_("{number}… is outside 0–{last}").format(number=text[:10], last=last))
    try:
        target = int(text)
    except ValueError:
        typed = answer.strip()
        if len(typed) > 24:         # a paste of junk is named, not repeated
            typed = typed[:20] + "…"
        raise ValueError(_("'{text}' is not a whole number").format(text=typed)) from None
    if not 0 <= target <= last:
        raise ValueError(_("{number} is outside 0–{last}").format(number=target, last=last))
    return target
