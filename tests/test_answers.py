"""Checking a typed prediction: every way of writing the answer is accepted in exact lessons,
values outside the tolerance are rejected in float lessons, non-numbers are refused, feedback
never gives the answer away, and hints fill in numbers that compute to the step."""
from __future__ import annotations

import ast
import operator
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gdtutor.answers import (NotAnAnswer, Rule, check, check_text, hint, parse_answer,
                             rule_for)
from gdtutor.catalog import builtin, resolve
from gdtutor.numbers import exact_text
from gdtutor.stepper import Stepper

EXACT = Rule(True)
FLOAT = Rule(False)
PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)

fractions = st.builds(F, st.integers(-10**6, 10**6), st.integers(1, 10**4))
decimal_fractions = st.builds(lambda n, a, b: F(n, 2**a * 5**b), st.integers(-10**7, 10**7),
                              st.integers(0, 12), st.integers(0, 12))


def decimal_text(x: F) -> str:
    """The exact decimal of a fraction whose denominator is 2^a·5^b, written out in full."""
    digits = 0
    while (x * 10**digits).denominator != 1:
        digits += 1
    n = abs(x.numerator * 10**digits // x.denominator)
    text = str(n).rjust(digits + 1, "0")
    body = text[:-digits] + "." + text[-digits:] if digits else text
    return ("-" if x < 0 else "") + body


def writings(x: F, k: int) -> list[str]:
    """Ways a student may write x: its lowest terms, both signs flipped, scaled by k, with the
    unicode minus, with spaces around the slash, in brackets."""
    p, q = x.numerator, x.denominator
    out = [f"{p}/{q}", f"{-p}/{-q}", f"{k * p}/{k * q}", f"{p} / {q}", f"[{p}/{q}]",
           f"({k * p}/{k * q})", f"{p}/{q}".replace("-", "−"), f"+{p}/{q}" if p >= 0 else f"{p}/+{q}"]
    if q == 1:
        out += [str(p), str(p).replace("-", "−"), f"{p}.0", f"{p}e0"]
    return out


@PROPERTY
@given(fractions, st.integers(1, 50))
def test_every_writing_of_an_exact_answer_is_accepted(x, k):
    for text in writings(x, k):
        assert parse_answer(text) == (x,), text
        assert check_text(text, [x], EXACT).correct, text


@PROPERTY
@given(decimal_fractions, st.integers(-5, 5))
def test_an_exact_decimal_is_its_fraction(x, shift):
    text = decimal_text(x)
    assert F(text) == x                                      # the helper writes x exactly
    assert check_text(text, [x], EXACT).correct
    assert check_text(text.replace("-", "−"), [x], EXACT).correct
    # scientific notation: the same value with the point moved
    mantissa = x / F(10) ** shift
    if (mantissa * 10**40).denominator == 1:
        assert check_text(f"{decimal_text(mantissa)}e{shift}", [x], EXACT).correct


@PROPERTY
@given(st.lists(fractions, min_size=1, max_size=6), st.sampled_from([", ", " ", ",", " , ", "  "]),
       st.booleans())
def test_a_vector_in_any_separators_and_brackets_is_accepted(xs, sep, brackets):
    text = sep.join(f"{x.numerator}/{x.denominator}" for x in xs)
    text = f"[{text}]" if brackets else text
    assert parse_answer(text) == tuple(xs)
    assert check_text(text, xs, EXACT).correct
    assert check_text(text, np.array(xs, dtype=object), EXACT).correct


@PROPERTY
@given(fractions, fractions)
def test_exact_lessons_accept_only_the_exact_value(x, y):
    assert check([y], [x], EXACT).correct == (x == y)
    if x != 0:
        near = x + F(1, 10**12)                        # within any float tolerance
        assert not check([near], [x], EXACT).correct


@PROPERTY
@given(st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
       st.floats(1.01, 1e3), st.booleans())
def test_float_lessons_reject_values_off_by_more_than_the_tolerance(e, factor, up):
    tol = F(1, 1000)
    off = F(e) * (1 + tol * F(factor) * (1 if up else -1))  # |off − e| = factor · tol · |e|
    assert not check([off], [e], FLOAT).correct
    inside = F(e) * (1 + tol / F(factor) * (1 if up else -1))
    assert check([inside], [e], FLOAT).correct
    # the student types a rounded decimal: 6 significant digits are within 1e-3
    assert check_text(f"{e:.6g}", [e], FLOAT).correct


def test_float_tolerance_follows_the_lesson():
    assert rule_for(resolve("worked-example")).exact
    rule = rule_for(resolve("matrix-form"))
    assert not rule.exact and rule.tol == F(1, 1000)
    assert check_text("0.5", [0.5004], rule).correct and not check_text("0.5", [0.501], rule).correct
    # an expected value left at about 0 by rounding takes a typed 0
    assert check_text("0", [3e-17], rule).correct
    assert not check_text("0.01", [0.0], rule).correct
    assert check_text("0", [2e-8], rule_for(resolve("grad-descent"))).correct     # float32
    assert not check_text("0", [2e-8], rule)                                      # float64
    assert "not zero" in check_text("0", [2e-8], rule).feedback


NOT_NUMBERS = ["", "   ", "abc", "x = 2", "1..2", "--1", "1/", "/2", "1/0", "0/0", "inf", "nan",
               "-inf", "0x10", "1_000", "[1, 2", "1,,2", "1, 2,", "two", "1 + 1", "2*3", "√2",
               "1e", "e5", "1.2.3", "[]", "()", "1/2/3", "½"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_non_numbers_are_refused_with_one_line(text):
    with pytest.raises(NotAnAnswer) as info:
        parse_answer(text)
    reason = str(info.value)
    assert reason and "\n" not in reason and len(reason) < 120
    with pytest.raises(NotAnAnswer):
        check_text(text, [1], EXACT)


@PROPERTY
@given(st.text(min_size=1, max_size=30))
def test_any_text_is_parsed_or_refused_never_crashes(text):
    try:
        values = parse_answer(text)
    except NotAnAnswer as exc:
        assert "\n" not in str(exc)
        return
    assert values and all(isinstance(v, F) for v in values)
    assert any(c.isdigit() for c in text)


@PROPERTY
@given(st.text(alphabet="abcdfghxyz+-*=_!?", min_size=1, max_size=5), st.integers(-99, 99))
def test_text_with_letters_is_refused(letters, n):
    for text in (letters, f"{n}{letters}", f"{letters}{n}", f"{n} {letters}"):
        if text.lstrip("+-").isdigit():
            continue
        with pytest.raises(NotAnAnswer):
            parse_answer(text)


@PROPERTY
@given(st.lists(fractions, min_size=1, max_size=10), st.data())
def test_feedback_never_contains_the_expected_value(expected, data):
    answer = [data.draw(fractions) for _ in expected]
    verdict = check(answer, expected, EXACT)
    if answer == expected:
        assert verdict.correct
        return
    assert not verdict.correct and verdict.feedback
    assert verdict.wrong == tuple(i for i, (a, e) in enumerate(zip(answer, expected)) if a != e)
    for e in expected:
        assert exact_text(e) not in verdict.feedback
    assert not any(c.isdigit() for c in verdict.feedback)     # no number at all, so none of them
    float_verdict = check([float(a) for a in answer], [float(e) for e in expected], FLOAT)
    assert not any(c.isdigit() for c in float_verdict.feedback)


@pytest.mark.parametrize("answer, expected, words", [
    ("-7/4", ["7/4"], "wrong sign"),
    ("7/2", ["7/4"], "about twice too large"),
    ("7/8", ["7/4"], "about half"),
    ("70", ["7/4"], "far too large"),
    ("2", ["7/4"], "a little too large"),
    ("0", ["7/4"], "should not be zero"),
    ("1", ["0"], "is too large"),
    ("-1/2", ["0"], "is too small"),
    ("-3", ["7/4"], "wrong sign, and its size is off too"),
    ("1 2", ["1"], "Expected one number, got two"),
    ("1", ["1", "2", "3"], "Expected three numbers, got one"),
    ("1 5 3", ["1", "2", "3"], "The second number is"),
    ("-1 2 -3", ["1", "2", "3"], "The first number has the wrong sign; the third number has"),
])
def test_feedback_says_what_is_off(answer, expected, words):
    verdict = check_text(answer, [F(e) for e in expected], EXACT)
    assert not verdict.correct and words in verdict.feedback, verdict.feedback


# -- hints ------------------------------------------------------------------------------------

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow}


def evaluate(text: str):
    """A hint's filled-in right-hand side, computed with exact fractions (vectors as arrays)."""
    source = text.replace("−", "-").replace("·", "*")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return F(node.value)
        if isinstance(node, ast.List):
            return np.array([ev(x) for x in node.elts], dtype=object)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(ast.dump(node))
    return ev(ast.parse(source, mode="eval"))


def filled(hint_text: str) -> str:
    """`w1 = w0 − α·grad = 0 − 1/4 · (−2) = ?` -> `0 − 1/4 · (−2)`."""
    assert hint_text.endswith(" = ?")
    return hint_text[:-4].rsplit(" = ", 1)[1]


def test_the_hints_read_as_the_issue_writes_them():
    lesson = resolve("worked-example")
    assert hint("weights", lesson, k=0, weights=[F(0)], grad=[F(-2)], lr=F(1, 4)) == \
        "w1 = w0 − α·grad = 0 − 1/4 · (−2) = ?"
    assert hint("step", lesson, k=0, weights=[F(0)], grad=[F(-2)]) == "α·grad = 1/2 · (−2) = ?"
    assert hint("grad", lesson, k=0, weights=[F(0)]) == \
        "grad = 1/28 · 2·Xᵀ(X·w0 − y) = 1/28 · 2·[1, 2, 3]ᵀ([1, 2, 3]·0 − [2, 4, 6]) = ?"
    assert hint("step", lesson, k=0, weights=[F(0)]) == "α·grad = 1/2 · grad = ?"
    big = hint("grad", resolve("matrix-form"), k=3, weights=[F(1), F(-1, 2), F(0)])
    assert big == "grad = (1/m)·Xᵀ(X·w3 − y), m = 5, w3 = [1, −1/2, 0]: grad = ?"


DESCENT = [lesson.id for lesson in builtin() if lesson.kind == "descent"]


@pytest.mark.parametrize("lesson_id", DESCENT)
def test_step_and_weights_hints_compute_to_the_stepper_numbers(lesson_id):
    lesson = resolve(lesson_id)
    stepper = Stepper(lesson)
    for k in range(3):
        record = stepper.step()
        show = stepper.fmt if lesson.dtype == "exact" else (lambda x: repr(float(x)))
        known = dict(k=k, weights=record.weights_before, grad=record.grad, lr=record.lr,
                     show=show)
        for field, want in (("step", record.step_size), ("weights", record.weights)):
            got = evaluate(filled(hint(field, lesson, **known)))
            got = np.array(got, dtype=object).reshape(-1)
            want = np.asarray(want).reshape(-1)
            if lesson.dtype == "exact":
                assert list(got) == list(want), (field, k)
            else:
                assert np.allclose(got.astype(float), want.astype(float), rtol=1e-6, atol=1e-12)
        text = hint("grad", lesson, **known)
        assert text.startswith("grad = ") and text.endswith("grad = ?" if "m = " in text else "= ?")


@pytest.mark.parametrize("lesson_id", [lesson.id for lesson in builtin() if lesson.kind == "graph"])
def test_graph_hints_fill_in_the_inputs(lesson_id):
    lesson = resolve(lesson_id)
    value = hint("value", lesson)
    assert evaluate(filled(value)) == lesson.checkpoints[0].value
    grads = hint("grads", lesson)
    names = [name for name, _ in lesson.params]
    assert grads.startswith("grads = ∂(") and all(f"/∂{n}" in grads for n in names)
    assert all(f"{n} = {exact_text(v)}" in grads for n, v in lesson.params)


def test_expected_values_may_be_numpy_scalars_and_arrays():
    import numpy as np
    from fractions import Fraction
    rule = Rule(exact=False, tol=Fraction(1, 1000))
    assert check(parse_answer("0.5"), np.float64(0.5), rule).correct
    assert check(parse_answer("1 2"), np.array([1.0, 2.0]), rule).correct
    assert not check(parse_answer("1 3"), np.array([1.0, 2.0]), rule).correct
