"""Predict mode (SPEC section 7) and the progress kept on a lesson screen (section 8).

One Session per lesson screen follows where the stepping stands (`moved`, called whenever the
step or stage changes). In predict mode it appends `reached` and `finished` events, and it
asks, before the step past the furthest one reached is revealed, for each item of the
lesson's `predict` list, checks the answers with `answers.check`, and reveals the step when
they are right (or on esc). Steps up to the furthest one reached are stepped freely: a go-to
reveals the steps it jumps over, and they are recorded as reached, not predicted.

The widgets are in predict_bar.py (mounted when predict mode is first turned on) and
lesson_end.py (the resume offer, the end-of-lesson summary); nothing here imports a widget
until it is needed.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from ..answers import NotAnAnswer, check, hint, parse_answer, rule_for
from ..i18n import _

DEFAULT_ITEMS = {"descent": ("weights",), "graph": ("value", "grads")}
_OPEN = re.compile(r"<!--\s*reveal:\s*after\s+step\s+(\d+)\s*-->")
_CLOSE = re.compile(r"<!--\s*/reveal\s*-->")
# keys a lesson screen binds that an empty answer field passes to the screen (a number
# never starts with them): n says "type your prediction", b r g p t l ? q do what they do
PASSED = frozenset("nbrgptlq? ")


def hide_reveals(markdown: str, reached: int) -> str:
    """The lesson text with each part between `<!-- reveal: after step N -->` and
    `<!-- /reveal -->` replaced by one line `(hidden until step N)` while `reached` < N."""
    out: list[str] = []
    hiding = False
    for line in markdown.split("\n"):
        stripped = line.strip()
        opened = _OPEN.fullmatch(stripped)
        if opened and not hiding:
            n = int(opened.group(1))
            if reached < n:
                hiding = True
                out.append(_("(hidden until step {n})").format(n=n))
            continue
        if _CLOSE.fullmatch(stripped):
            hiding = False
            continue
        if not hiding:
            out.append(line)
    return "\n".join(out)


class Ask(NamedTuple):
    """The prediction waited for: step `step` (the one it reveals), item `index` of the
    lesson's list; `tries` answers so far for that item; `hinted` once the hint is shown."""

    step: int
    index: int = 0
    tries: int = 0
    hinted: bool = False


class View(NamedTuple):
    """What the predict bar shows."""

    ask: str = ""          # the question, "" when nothing is asked
    said: str = ""         # the last answer's verdict, or why the text is no answer
    mood: str = ""         # "right", "wrong", "refused" or ""
    hint: str = ""


def session_of(screen) -> "Session":
    """The screen's Session, made when first needed."""
    if screen.predictor is None:
        screen.predictor = Session(screen)
    return screen.predictor


def moved(screen) -> None:
    session_of(screen).moved()


def toggle(screen) -> None:
    session_of(screen).toggle()


class Session:
    """Predict mode and progress for one lesson screen."""

    def __init__(self, screen) -> None:
        self.screen = screen
        self.lesson = screen.lesson
        app = screen.app
        self.keeper = getattr(app, "keeper", None)
        # on from --predict, p, or the lesson's own `predict` list (SPEC section 7)
        self.on = bool(getattr(app, "predict", False)) or bool(self.lesson.predict)
        self.items = tuple(self.lesson.predict) or DEFAULT_ITEMS[self.lesson.kind]
        self.rule = rule_for(self.lesson)
        self.position: int | None = None     # where the last move left the screen
        self.highest = 0                     # the furthest step reached on this screen
        self.ask: Ask | None = None
        self.view = View()
        self.revealing = False
        self.restored = False
        self.started = False
        self.shown_text: str | None = None
        self.bar = None
        # this visit's tally, for the end summary
        self.predicted: set[int] = set()
        self.missed: set[int] = set()        # steps with a field wrong (or revealed) at first
        self.hinted: set[int] = set()
        self.revealed: set[int] = set()

    # -- where the screen stands ---------------------------------------------------------------

    @property
    def graph(self) -> bool:
        return self.lesson.kind == "graph"

    def ready(self) -> bool:
        return not getattr(self.screen.stepper, "pending", False)

    def moved(self) -> None:
        """The step or stage on screen changed (or was shown for the first time)."""
        if not self.ready():
            return
        screen = self.screen
        pos, old = screen.position_index(), self.position
        self.position = pos
        if old is None:
            self.highest = max(self.highest, pos)
            if not self.started:
                self.started = True
                screen.call_after_refresh(self.start)
        elif pos > old:
            self.keep("reached", pos)
            if pos >= screen.last_step():
                self.keep("finished", pos)
        if pos > self.highest:
            self.highest = pos
            self.refresh_text()
        self.ask_next()
        if old is not None and pos > old and pos >= screen.last_step() and self.on:
            self.end()

    def predictable(self) -> tuple[str, ...]:
        """The items asked before the next step is revealed; () when none is."""
        screen, pos = self.screen, self.position
        if pos is None or pos != self.highest or pos >= screen.last_step():
            return ()
        if not self.graph:
            stepper = screen.stepper
            if stepper.diverged_at is not None and pos >= stepper.diverged_at:
                return ()
            return self.items
        n = len(screen.nodes)
        if pos == 0 and "value" in self.items:
            return ("value",)
        if pos == n and "grads" in self.items:
            return ("grads",)
        return ()

    def ask_next(self) -> None:
        """Set up the question for the step past the position (if predict mode asks one)."""
        items = self.predictable() if self.on else ()
        if not items:
            self.ask = None
        elif self.ask is None or self.ask.step != self.position + 1:
            self.ask = Ask(self.position + 1)
        self.show()

    def field(self) -> str:
        items = self.predictable()
        return items[min(self.ask.index, len(items) - 1)]

    # -- the numbers -----------------------------------------------------------------------------

    def record(self):
        """The record of the step being predicted (computed, not shown); None if it cannot be."""
        stepper = self.screen.stepper
        k = stepper.k
        if stepper.computed < k + 1:
            stepper.goto(k + 1)
            stepper.goto(k)
        return stepper.record(k + 1) if stepper.computed >= k + 1 else None

    def expected(self, field: str):
        """The right answer, flat, as plain numbers (Fractions or floats); None if unknown."""
        import numpy as np
        found = self.expected_value(field)
        if found is None:
            return None
        if self.graph and field == "grads":
            return [x for v in found for x in np.asarray(v).reshape(-1).tolist()]
        return np.asarray(found).reshape(-1).tolist()

    def expected_value(self, field: str):
        if self.graph:
            nodes = self.screen.nodes
            if field == "value":
                return nodes[-1].value
            grads = {n.id: n.grad for n in nodes if n.op == "param"}
            return [grads[name] for name, _v in self.lesson.params]
        record = self.record()
        if record is None:
            return None
        return {"grad": record.grad, "step": record.step_size,
                "weights": record.weights}[field]

    def shown(self, field: str, value) -> str:
        """A value as the screen writes it."""
        numbers = self.screen.numbers
        if self.graph and field == "grads":
            return ", ".join(numbers.array(v) for v in value)
        return numbers.array(value) if self.graph else numbers.weights(value)

    def name(self, field: str) -> str:
        """What a field is called in the question: `grad`, `α·grad`, `w3`, `value`, `grads`."""
        k = self.position
        if self.graph:
            return {"value": _("value"), "grads": _("grads")}.get(field, field)
        weight = getattr(self.screen, "weight", "w")
        return {"grad": "grad", "step": "α·grad", "weights": f"{weight}{k + 1}"}[field]

    def question(self, field: str) -> str:
        k = self.position
        if self.graph:
            expr = self.lesson_expression()
            values = {n.id: n.value for n in self.screen.nodes if n.op == "param"}
            at = ", ".join(f"{name} = {self.screen.numbers.array(values.get(name))}"
                           for name, _v in self.lesson.params)
            if field == "value":
                return _("Predict the value of {expr} at {at}").format(expr=expr, at=at)
            names = ", ".join(f"∂/∂{name}" for name, _v in self.lesson.params)
            return _("Predict the gradients {names} of {expr} at {at}").format(
                names=names, expr=expr, at=at)
        weight = getattr(self.screen, "weight", "w")
        size = len(self.screen.stepper.weight_names)
        which = {"grad": _("grad at {w}").format(w=f"{weight}{k}"),
                 "step": "α·grad", "weights": f"{weight}{k + 1}"}[field]
        count = "" if size == 1 else " " + _("({n} numbers)").format(n=size)
        return _("Step {step}: predict {what}{count}").format(step=k + 1, what=which,
                                                              count=count)

    def lesson_expression(self) -> str:
        from ..expr import render
        return render(self.lesson.expression)

    def hint_text(self, field: str) -> str:
        screen = self.screen
        if self.graph:
            return hint(field, self.lesson, show=screen.numbers.fmt)
        stepper = screen.stepper
        record = self.record()
        grad = record.grad if record is not None else None
        weights = stepper.weights_at(stepper.k)
        return hint(field, self.lesson, k=stepper.k, weights=weights if len(weights) > 1
                    else weights[0], grad=grad if grad is None or len(grad) > 1 else grad[0],
                    lr=stepper.lr, show=screen.numbers.fmt)

    # -- answering ------------------------------------------------------------------------------

    def holds_step(self) -> bool:
        """True (and says why) when `n` would reveal a step that waits for a prediction."""
        if not self.on or self.revealing or self.ask is None:
            return False
        self.screen.playing = False
        self.focus()
        self.screen.notify(_("type your prediction, esc reveals"), timeout=3)
        return True

    def answer(self, text: str) -> bool:
        """An answer typed for the item asked; True when it counted as an attempt (the field
        is cleared), False when it was refused as not a number (it stays to be fixed)."""
        if self.ask is None:
            return False
        try:
            parsed = parse_answer(text)
        except NotAnAnswer as exc:
            self.view = self.view._replace(said=str(exc), mood="refused")
            self.show()
            return False
        field, ask = self.field(), self.ask
        verdict = check(parsed, self.expected(field), self.rule)
        tries = ask.tries + 1
        self.keep("attempt", ask.step, field, text.strip(), verdict.correct, hint=ask.hinted,
                  try_=tries)
        self.predicted.add(ask.step)
        if tries == 1 and not verdict.correct:
            self.missed.add(ask.step)
        if verdict.correct:
            said = f"✓ {self.name(field)} = {self.shown(field, self.expected_value(field))}"
            self.advance(said)
            return True
        hinted = ask.hinted or tries >= 2
        if hinted:
            self.hinted.add(ask.step)
        self.ask = ask._replace(tries=tries, hinted=hinted)
        self.view = View(self.question(field), f"✗ {text.strip()}: {verdict.feedback}",
                         "wrong", _("hint: {formula}").format(formula=self.hint_text(field))
                         if hinted else "")
        self.show()
        return True

    def reveal(self) -> None:
        """esc: the item's answer is shown and the step revealed (it counts as revealed)."""
        if self.ask is None:
            return
        field, ask = self.field(), self.ask
        self.keep("attempt", ask.step, field, None, False, revealed=True, hint=ask.hinted,
                  try_=None)
        self.predicted.add(ask.step)
        self.missed.add(ask.step)
        self.revealed.add(ask.step)
        value = self.expected_value(field)
        said = (_("revealed: {name} = {value}").format(name=self.name(field),
                                                      value=self.shown(field, value))
                if value is not None else _("revealed"))
        self.ask = ask._replace(index=len(self.predictable()))
        self.advance(said)

    def advance(self, said: str) -> None:
        """The item is done: ask the next one, or reveal the step as `n` shows it."""
        ask = self.ask
        items = self.predictable()
        if ask.index + 1 < len(items):
            self.ask = Ask(ask.step, ask.index + 1)
            self.view = View(self.question(items[ask.index + 1]), said, "right")
            self.show()
            return
        self.revealing = True
        try:
            self.screen.action_step()
        finally:
            self.revealing = False
        self.view = self.view._replace(said=said, mood="right", hint="")
        self.show()

    # -- turning it on and off -------------------------------------------------------------------

    def toggle(self) -> None:
        self.on = not self.on
        self.screen.app.predict = self.on
        if self.on and self.position is not None:
            self.highest = self.position      # predictions start from here
            self.ask = None
        self.refresh_text()
        self.ask_next()
        self.screen.notify(_("predict mode on: type each step before it is shown; esc reveals")
                           if self.on else _("predict mode off"), timeout=4)

    def kept(self) -> dict:
        return {"on": self.on, "highest": self.highest}

    def restore(self, kept: dict) -> None:
        self.restored = True
        self.on = bool(kept.get("on", self.on))
        self.highest = max(self.highest, int(kept.get("highest", 0)))
        self.refresh_text()
        self.ask_next()

    def start(self) -> None:
        """Once the screen is up: the lesson text as predict mode shows it, and the offer to
        resume where the progress file says this lesson was left."""
        self.refresh_text()
        self.show()
        if self.restored or self.keeper is None or self.position or not self.on:
            return
        reached = self.keeper.summary(self.lesson).reached
        if 0 < reached <= self.screen.last_step():
            from .lesson_end import ResumeScreen
            self.screen.app.push_screen(ResumeScreen(reached), self.resume)

    def resume(self, target: int | None) -> None:
        if target:
            try:
                self.screen.jump(target)
            except (ArithmeticError, ValueError, IndexError, RuntimeError) as error:
                self.screen.report(error)
        self.focus()

    # -- what is shown ---------------------------------------------------------------------------

    def markdown(self, text: str) -> str:
        """The lesson text as this screen shows it (hidden parts hidden in predict mode)."""
        shown = hide_reveals(text, self.highest) if self.on else text
        self.shown_text = shown
        return shown

    def refresh_text(self) -> None:
        """Draw the lesson text again if what predict mode hides has changed."""
        text = self.lesson.text.get(self.screen.lang)
        new = hide_reveals(text, self.highest) if self.on else text
        if new == self.shown_text:
            return
        found = self.screen.query("#lesson-text")
        if found:
            from .glyphs import shown
            from .lazy import readable
            self.shown_text = new
            found.first().update(readable(shown(self.screen, new)))

    def show(self) -> None:
        """Bring the bar up to date: the question, the last verdict, the hint. A new question
        keeps a ✓ just said, and drops a ✗, a refusal and a hint about the old one."""
        view = self.view
        question = self.question(self.field()) if self.ask is not None else ""
        if view.ask != question:
            right = view.mood == "right"
            self.view = View(question, view.said if right else "", view.mood if right else "")
        bar = self.get_bar()
        if bar is not None:
            bar.show(self.view, self.on, self.waiting_text())
            if self.ask is not None and self.screen.app.screen is self.screen:
                bar.focus_input()

    def waiting_text(self) -> str:
        """What the bar says while nothing is asked."""
        pos, last = self.position or 0, self.screen.last_step()
        if pos >= last:
            return _("predict mode: the lesson is finished; r starts again")
        if pos < self.highest:
            return _("predict mode: n steps to step {k}, where the next prediction waits; "
                     "p turns it off").format(k=self.highest)
        if not self.graph:
            return _("predict mode: nothing to predict here (the lesson diverged)")
        return _("predict mode: n steps on; the next prediction waits further on")

    def get_bar(self):
        if self.bar is None and self.on and self.ready():
            from textual.widgets import Footer
            from .predict_bar import PredictBar
            self.bar = PredictBar(self)
            footers = self.screen.query(Footer)
            self.screen.mount(self.bar, before=footers.first() if footers else None)
        return self.bar

    def focus(self) -> None:
        if self.bar is not None:
            self.bar.focus_input()

    # -- progress --------------------------------------------------------------------------------

    def keep(self, event: str, step: int, *args, **kwargs) -> None:
        """Append an event; only in predict mode (progress is what the student practised)."""
        if self.keeper is not None and self.on:
            self.keeper.write(event, self.lesson, step, *args, **kwargs)

    def end(self) -> None:
        """The last step is reached in predict mode: the summary, and the next lesson offered."""
        from .lesson_end import EndScreen, next_lesson, open_next
        nxt = next_lesson(self.screen.app, self.lesson)
        lines = [
            _("steps: {n}").format(n=self.screen.last_step()),
            _("predicted: {n}").format(n=len(self.predicted)),
            _("first try correct: {n} of {m}").format(
                n=len(self.predicted - self.missed), m=len(self.predicted)),
            _("hints used: {n}").format(n=len(self.hinted)),
            _("revealed: {n}").format(n=len(self.revealed)),
        ]
        title = nxt.title.get(self.screen.lang) if nxt is not None else None

        def done(go: bool | None) -> None:
            if go and nxt is not None:
                open_next(self.screen, nxt)

        self.screen.app.push_screen(
            EndScreen(self.lesson.title.get(self.screen.lang), lines, title), done)
