"""How numbers are written: exact fractions as fractions, floats in their own precision."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np


def exact_text(x) -> str:
    """An exact fraction in full, however long: `15/8`, `2`.

    Long exact runs grow past Python's 4300-digit guard on int-to-text conversion; Decimal
    writes an integer's digits without it.
    """
    x = Fraction(x)
    try:
        return str(x)
    except ValueError:
        top, bottom = str(Decimal(x.numerator)), str(Decimal(x.denominator))
        return top if bottom == "1" else f"{top}/{bottom}"


def to_float(x) -> float:
    """float(x), except that a number past float64's range is ±inf, as IEEE rounding has it
    (float() of such a Fraction raises OverflowError instead)."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def finite_exact(x) -> bool:
    """Whether an exact number is finite as the float lessons see it: one past float64's range
    counts as diverged, as it would in float64."""
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def as_float64(values) -> np.ndarray:
    """Values as float64 (for plots); exact numbers past float64's range become ±inf."""
    arr = np.asarray(values)
    if arr.dtype != object:
        return arr.astype(np.float64)
    return np.array([to_float(v) for v in arr.reshape(-1)], dtype=np.float64).reshape(arr.shape)


def _non_finite(v: float) -> str:
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def fmt(x, dtype: str) -> str:
    """One number as a person reads it: `15/8` in exact mode, `1.0371538` in float32."""
    if isinstance(x, np.ndarray):
        x = x[()]
    if dtype == "exact":
        return exact_text(x)
    v = to_float(x)
    if not math.isfinite(v):
        return _non_finite(v)
    text = str(np.float32(v)) if dtype == "float32" else repr(v)
    return text[:-2] if text.endswith(".0") else text


def fmt_vec(values, dtype: str) -> str:
    """A flat vector: the bare number for one weight, `[a, b]` for more."""
    flat = np.asarray(values).reshape(-1)
    parts = [fmt(v, dtype) for v in flat]
    return parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"


def to_json(x, dtype: str):
    """One number for JSON: a number, an exact fraction as a string, non-finite as a string.

    A float32 is written in its shortest form (0.07, not 0.07000000029802322): read back and
    rounded to float32, it is the same number.
    """
    if dtype == "exact":
        return exact_text(x)
    v = to_float(x)
    if not math.isfinite(v):
        return _non_finite(v)
    return float(str(np.float32(v))) if dtype == "float32" else v


def to_json_vec(values, dtype: str) -> list:
    return [to_json(v, dtype) for v in np.asarray(values).reshape(-1)]


def as_array(value, dtype: str) -> np.ndarray:
    """An exact lesson value (Fraction or nested tuple) as an array in the given arithmetic."""
    arr = np.array(value, dtype=object)
    return arr if dtype == "exact" else arr.astype(np.float64).astype(dtype)


