"""One way to write a number: checked by reading the text back, not against stored strings."""
from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
from hypothesis import given, settings, strategies as st

from gdtutor.numbers import EXACT_WIDTH, fmt, fmt_vec

DIGITS = re.compile(r"[0-9]")


def significant(text: str) -> int:
    mantissa = text.split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)


def test_the_issues_examples_read_without_representation_noise():
    assert fmt(26.505000000000003, "float64") == "26.505"
    assert fmt(-24.000000000000004, "float64") == "-24"
    assert fmt(-1.2000000000000002, "float64") == "-1.2"
    assert fmt(-7.000000000000001, "float64") == fmt(-7.0, "float64") == "-7"
    assert fmt(-7.000000000000001, "float64", full=True) == "-7.000000000000001"


def test_float32_is_its_shortest_round_trip_as_the_document_prints_it():
    assert fmt(np.float32(1.0371895), "float32") == "1.0371895"
    assert fmt(np.float32(0.07), "float32") == "0.07"


@settings(derandomize=True, max_examples=300)
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_float64_text_is_within_8_significant_digits(v):
    text = fmt(v, "float64")
    assert significant(text) <= 8
    back = float(text)
    assert math.isclose(back, v, rel_tol=5e-8, abs_tol=0) or (v == 0 and back == 0)
    assert float(fmt(v, "float64", full=True)) == v


@settings(derandomize=True, max_examples=300)
@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_float32_text_round_trips(v):
    assert np.float32(float(fmt(np.float32(v), "float32"))) == np.float32(v)


@settings(derandomize=True, max_examples=200)
@given(st.fractions(max_denominator=10 ** 40))
def test_exact_values_short_in_full_long_abbreviated_with_a_decimal(x):
    text = fmt(x, "exact")
    whole = fmt(x, "exact", full=True)
    assert Fraction(whole) == x
    if len(whole) <= EXACT_WIDTH:
        assert text == whole
    else:
        assert "≈" in text and "…" in text
        decimal = float(text.split("≈")[1])
        assert math.isclose(decimal, float(x), rel_tol=5e-8)


def test_non_finite_and_vectors():
    assert fmt(float("inf"), "float64") == "inf"
    assert fmt(float("-inf"), "float32") == "-inf"
    assert fmt(float("nan"), "float64") == "nan"
    assert fmt_vec(np.array([1 / 3, 2.0]), "float64") == "[0.33333333, 2]"
    assert fmt_vec([Fraction(15, 8)], "exact") == "15/8"
