"""The go-to prompt: a small modal that returns what was typed, or None on escape."""
from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GotoScreen(ModalScreen[str | None]):
    """Asks for a step number between 0 and `last`; the lesson screen checks the answer."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, last: int, what: str = "iteration") -> None:
        super().__init__()
        self.last = last
        self.what = what
        self._early: list[events.Key] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box"):
            yield Label(f"Go to {self.what} (0–{self.last}), then Enter; Escape cancels")
            yield Input(placeholder=f"0–{self.last}", id="goto-input")

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
            self.close(field.value)
        else:
            return False
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close(event.value)

    def action_cancel(self) -> None:
        self.close(None)

    def close(self, answer: str | None) -> None:
        # Enter typed twice, fast, submits twice: a second dismiss would pop the screen under
        # this one (the lesson), and a third the picker
        if self.is_active:
            self.dismiss(answer)


def parse_target(answer: str, last: int) -> int:
    """The step asked for; ValueError with a one-line reason if it is not one."""
    text = answer.strip().replace("_", "").replace(",", "")
    if len(text) > 30 and text.lstrip("+-").isdigit():
        raise ValueError(f"{text[:10]}… is outside 0–{last}")   # int() refuses > 4300 digits
    try:
        target = int(text)
    except ValueError:
        shown = answer.strip()
        if len(shown) > 24:         # a paste of junk is named, not repeated
            shown = shown[:20] + "…"
        raise ValueError(f"'{shown}' is not a whole number") from None
    if not 0 <= target <= last:
        raise ValueError(f"{target} is outside 0–{last}")
    return target
