"""Checking a typed prediction (SPEC section 7): parse it, compare it exactly or within a
relative tolerance, say what is off without saying the answer, and build a hint.

The TUI calls, for one field of one step:

    rule = rule_for(lesson)                      # exact, or float with predict_tol
    try:
        answer = parse_answer(text)              # NotAnAnswer: refuse in place, no attempt
    except NotAnAnswer as exc:
        show(str(exc))
    verdict = check(answer, expected, rule)      # verdict.correct, verdict.feedback
    hint(field, lesson, k=k, weights=w_k, grad=grad, lr=α, show=...)   # after a second miss
"""
from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Callable, NamedTuple, Sequence

from .i18n import N_, _
from .numbers import exact_text

DEFAULT_TOL = Fraction(1, 1000)
# Below these magnitudes an expected value counts as about 0: an answer is then right within
# tol · floor, absolutely (float64 lessons: 1e-9; float32 lessons, whose rounding noise is
# about 1e-7, 1e-7). Without it an expected 3e-17 left by rounding would reject a typed 0.
FLOORS = {"float64": Fraction(1, 10**6), "float32": Fraction(1, 10**4)}
MAX_TEXT = 2000
MAX_NUMBERS = 1000

DESCENT_FIELDS = ("grad", "step", "weights")
GRAPH_FIELDS = ("value", "grads")

_MINUSES = str.maketrans({"−": "-", "－": "-", "﹣": "-", "‐": "-", "，": ",", "／": "/"})
_DECIMAL = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,4})?"
_NUMBER = re.compile(rf"({_DECIMAL})(?:/({_DECIMAL}))?")
_BRACKETS = {"[": "]", "(": ")", "{": "}"}
_WORDS = (N_("zero"), N_("one"), N_("two"), N_("three"), N_("four"), N_("five"), N_("six"),
          N_("seven"), N_("eight"), N_("nine"), N_("ten"))
_ORDINALS = (N_("the first number"), N_("the second number"), N_("the third number"),
             N_("the fourth number"), N_("the fifth number"), N_("the sixth number"),
             N_("the seventh number"), N_("the eighth number"), N_("the ninth number"),
             N_("the tenth number"))
_ASK = N_("type a number, a fraction such as 7/4, or numbers separated by spaces")


class NotAnAnswer(ValueError):
    """Typed text that is not a number or a vector of numbers; str() is the one-line reason.
    It is refused in place and counts as no attempt."""


class Rule(NamedTuple):
    """How a lesson compares answers: exactly, or within tol relative (with an absolute
    floor near 0)."""

    exact: bool
    tol: Fraction = DEFAULT_TOL
    floor: Fraction = FLOORS["float64"]


class Verdict(NamedTuple):
    """The result of checking one answer. `feedback` never contains the expected value;
    `wrong` lists the 0-based indices of the components that are off."""

    correct: bool
    feedback: str = ""
    wrong: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return self.correct


def rule_for(lesson) -> Rule:
    """The comparison rule of a lesson: exact for `dtype: exact`, else `predict_tol`
    (default 1e-3) relative."""
    if lesson.dtype == "exact":
        return Rule(True)
    tol = getattr(lesson, "predict_tol", None)
    tol = DEFAULT_TOL if tol is None else Fraction(tol)
    return Rule(False, tol, FLOORS.get(lesson.dtype, FLOORS["float64"]))


# -- parsing --------------------------------------------------------------------------------

def parse_answer(text: str) -> tuple[Fraction, ...]:
    """A typed answer as exact numbers: `2`, `-1/2`, `0.25`, `1e-3`, `−3` (unicode minus),
    or a vector `1, 2`, `1 2`, `[1/2, -3]`. Decimals are taken at their exact decimal value
    (0.1 is 1/10). Raises NotAnAnswer with a one-line reason for anything else."""
    if not isinstance(text, str):
        raise NotAnAnswer(_("type a number"))
    if len(text) > MAX_TEXT:
        raise NotAnAnswer(_("that is too long: type at most {n} characters").format(n=MAX_TEXT))
    s = text.translate(_MINUSES).strip()
    if s[:1] in _BRACKETS:
        if not s.endswith(_BRACKETS[s[0]]):
            raise NotAnAnswer(_("'{bracket}' is not closed").format(bracket=s[0]))
        s = s[1:-1].strip()
    if not s:
        raise NotAnAnswer(_(_ASK))
    s = re.sub(r"\s*/\s*", "/", s)
    parts = re.split(r"\s*,\s*|\s+", s)
    if len(parts) > MAX_NUMBERS:
        raise NotAnAnswer(_("that is more than {n} numbers").format(n=MAX_NUMBERS))
    values = []
    for part in parts:
        if not part:
            raise NotAnAnswer(_("a comma with no number beside it"))
        match = _NUMBER.fullmatch(part)
        if not match:
            shown = part if len(part) <= 20 else part[:17] + "..."
            raise NotAnAnswer(_("'{text}' is not a number: {ask}").format(text=shown, ask=_(_ASK)))
        top = Fraction(match.group(1))
        bottom = Fraction(match.group(2)) if match.group(2) else Fraction(1)
        if bottom == 0:
            raise NotAnAnswer(_("'{text}' divides by zero").format(text=part))
        values.append(top / bottom)
    return tuple(values)


# -- checking -------------------------------------------------------------------------------

def _exact(x) -> Fraction | None:
    """An expected number as an exact fraction (a float at its exact binary value);
    None when it is not finite."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return Fraction(x)
    except OverflowError:
        return None
    return Fraction(v) if math.isfinite(v) else None


def _flat(values) -> list:
    if isinstance(values, (str, bytes)):
        raise TypeError("expected numbers, not text")
    if hasattr(values, "reshape"):            # a numpy array, without importing numpy
        values = values.reshape(-1).tolist()   # numpy scalars too: Python numbers out
    if isinstance(values, (list, tuple)):
        out: list = []
        for v in values:
            out.extend(_flat(v) if isinstance(v, (list, tuple)) or hasattr(v, "reshape")
                       else [v])
        return out
    return [values]


def _word(n: int) -> str:
    """A count in words (zero to ten), else in digits."""
    return _(_WORDS[n]) if n < len(_WORDS) else str(n)


def _which(i: int, n: int) -> str:
    if n == 1:
        return _("it")
    return _(_ORDINALS[i]) if i < len(_ORDINALS) else _("number {n}").format(n=i + 1)


def _size(ratio: Fraction, rule: Rule) -> str:
    """How far off a same-signed answer is, in words (no digits: the factor could spell
    the answer): a message with `{which}` for the number it is about."""
    if ratio > 1:
        if ratio < Fraction(3, 2):
            return N_("{which} is a little too large") if rule.exact or \
                ratio > 1 + 10 * rule.tol else N_("{which} is close, but too large")
        for limit, words in ((Fraction(5, 2), N_("{which} is about twice too large")),
                             (Fraction(7, 2), N_("{which} is about three times too large")),
                             (7, N_("{which} is several times too large")),
                             (15, N_("{which} is about ten times too large"))):
            if ratio < limit:
                return words
        return N_("{which} is far too large")
    inverse = 1 / ratio
    if inverse < Fraction(3, 2):
        return N_("{which} is a little too small") if rule.exact or \
            inverse > 1 + 10 * rule.tol else N_("{which} is close, but too small")
    for limit, words in ((Fraction(5, 2), N_("{which} is about half what it should be")),
                         (Fraction(7, 2), N_("{which} is about a third of what it should be")),
                         (7, N_("{which} is several times too small")),
                         (15, N_("{which} is about a tenth of what it should be"))):
        if inverse < limit:
            return words
    return N_("{which} is far too small")


def _close(a: Fraction, e: Fraction, rule: Rule) -> bool:
    if rule.exact:
        return a == e
    return abs(a - e) <= rule.tol * max(abs(e), rule.floor)


def _what(a: Fraction, e: Fraction, rule: Rule) -> str:
    """What is off about one component, in words: a message with `{which}` for it."""
    if e == 0 or (not rule.exact and abs(e) < rule.floor):
        if a == 0:
            return N_("{which} should be small, but not zero")
        return N_("{which} is too large") if a > e else N_("{which} is too small")
    if a == 0:
        return N_("{which} should not be zero")
    if (a > 0) != (e > 0):
        if _close(-a, e, rule):
            return N_("{which} has the wrong sign")
        return N_("{which} has the wrong sign, and its size is off too")
    return _size(a / e, rule)


def check(answer: Sequence[Fraction], expected, rule: Rule) -> Verdict:
    """Compare a parsed answer with the expected number or vector (Fractions, floats, numpy
    arrays; flattened in order). Right: Verdict(True). Wrong: feedback in words that says
    which component is off and how (sign, size, length), never the expected value."""
    want = _flat(expected)
    got = list(answer)
    if len(got) != len(want):
        said = _("Expected {n} number, got {got}") if len(want) == 1 else \
            _("Expected {n} numbers, got {got}")
        return Verdict(False, said.format(n=_word(len(want)), got=_word(len(got))),
                       tuple(range(len(want))))
    exact = [_exact(v) for v in want]
    if any(e is None for e in exact):
        return Verdict(False, _("this step does not give a finite number: reveal it"),
                       tuple(i for i, e in enumerate(exact) if e is None))
    wrong = tuple(i for i, (a, e) in enumerate(zip(got, exact)) if not _close(a, e, rule))
    if not wrong:
        return Verdict(True)
    notes = [_(_what(got[i], exact[i], rule)).format(which=_which(i, len(want)))
             for i in wrong[:3]]
    if len(wrong) > 3:
        notes.append(_("and {n} more").format(n=_word(len(wrong) - 3)))
    text = _("; ").join(notes)
    return Verdict(False, text[0].upper() + text[1:], wrong)


def check_text(text: str, expected, rule: Rule) -> Verdict:
    """parse_answer then check; NotAnAnswer propagates (no attempt)."""
    return check(parse_answer(text), expected, rule)


# -- hints ----------------------------------------------------------------------------------

def _minus(text: str) -> str:
    return text.replace("-", "−")


def _term(x, show: Callable) -> str:
    """One number inside a formula: negatives in parentheses, a vector in brackets."""
    flat = _flat(x)
    if len(flat) == 1 and not (isinstance(x, (list, tuple)) and len(x) > 1):
        text = _minus(show(flat[0]))
        return f"({text})" if text.startswith("−") else text
    return "[" + ", ".join(_minus(show(v)) for v in flat) + "]"


def _lead(x, show: Callable) -> str:
    """A number that starts a formula: no parentheses needed for a leading minus."""
    text = _term(x, show)
    return text[1:-1] if text.startswith("(") else text


def _matrix(rows, show: Callable) -> str:
    if all(not isinstance(r, (list, tuple)) or len(r) == 1 for r in rows):
        return "[" + ", ".join(_minus(show(_flat(r)[0])) for r in rows) + "]"
    return "[" + ", ".join("[" + ", ".join(_minus(show(v)) for v in r) + "]" for r in rows) + "]"


def _scale(grad_scale) -> str:
    return "" if grad_scale == 1 else f"{_lead(grad_scale, exact_text)} · "


def grad_formula(lesson, k: int, weights, show: Callable = exact_text) -> str:
    """The gradient at w_k as far as the lesson makes it known, e.g.
    `grad = 1/28 · 2·Xᵀ(X·w0 − y) = 1/28 · 2·[1, 2, 3]ᵀ([1, 2, 3]·0 − [2, 4, 6]) = ?`."""
    w = f"w{k}"
    scale = _scale(lesson.grad_scale)
    linear = lesson.linear
    if linear is None:
        return _("grad = {scale}∂L/∂w at {w} = {weights}, where L = {loss}: grad = ?").format(
            scale=scale, w=w, weights=_lead(weights, show), loss=lesson.expression)
    m = len(linear.y)
    core = "2·Xᵀ(X·{w} − y)" if linear.loss == "sse" else "(1/{m})·Xᵀ(X·{w} − y)"
    formula = f"grad = {scale}" + core.format(w=w, m="m")
    filled = scale + core.format(w="{w}", m=m)
    if len(_flat(linear.X)) <= 6:
        X, y = _matrix(linear.X, exact_text), _matrix(linear.y, exact_text)
        filled = filled.replace("Xᵀ", X + "ᵀ").replace("X·", X + "·").replace("y)", y + ")")
        return f"{formula} = {filled.format(w=_term(weights, show))} = ?"
    return f"{formula}, m = {m}, {w} = {_lead(weights, show)}: grad = ?"


def hint(field: str, lesson, *, k: int = 0, weights=None, grad=None, lr=None,
         show: Callable = exact_text) -> str:
    """The formula for `field` with the known numbers filled in, ending in `= ?`.

    Descent lessons (`k` the step being left, `weights` w_k, `grad` the gradient at w_k,
    `lr` α; `show` writes one number, e.g. `lambda x: fmt(x, dtype)`):
      weights: `w1 = w0 − α·grad = 0 − 1/4 · (−2) = ?`
      step:    `α·grad = 1/2 · (−2) = ?`
      grad:    see grad_formula.
    Graph lessons: value `value = x**2 = 3**2 = ?`; grads `∂(x**2)/∂x at x = 3 = ?`, one per
    input, in input order. A `grad` of None is written as the symbol `grad`."""
    if lesson.kind == "graph":
        return _graph_hint(field, lesson, show)
    if field not in DESCENT_FIELDS:
        raise ValueError(f"unknown field {field!r}; expected one of {DESCENT_FIELDS}")
    lr = lesson.lr if lr is None else lr
    g = "grad" if grad is None else _term(grad, show)
    if field == "grad":
        return grad_formula(lesson, k, weights, show)
    if field == "step":
        return f"α·grad = {_lead(lr, show)} · {g} = ?"
    return (f"w{k + 1} = w{k} − α·grad = {_lead(weights, show)} − {_lead(lr, show)} · {g} = ?")


def _graph_hint(field: str, lesson, show: Callable) -> str:
    from .expr import Expr, render
    if field not in GRAPH_FIELDS:
        raise ValueError(f"unknown field {field!r}; expected one of {GRAPH_FIELDS}")
    names = [name for name, _ in lesson.params]
    at = ", ".join(f"{name} = {_lead(value, show)}" for name, value in lesson.params)
    if field == "value":
        def put(e: Expr) -> Expr:
            if e.op == "name" and e.name in dict(lesson.params):
                return Expr("name", name=_term(dict(lesson.params)[e.name], show))
            return e._replace(args=tuple(put(a) for a in e.args))
        return f"value = {render(lesson.expression)} = {render(put(lesson.expression))} = ?"
    expr = render(lesson.expression)
    parts = ", ".join(f"∂({expr})/∂{name}" for name in names)
    return _("grads = {parts} at {at} = ?").format(parts=parts, at=at)
