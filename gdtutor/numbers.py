"""How numbers are written: exact fractions as fractions, floats in their own precision."""
from __future__ import annotations

import contextlib
import math
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np


@contextlib.contextmanager
def quiet_arithmetic():
    """Where a lesson's numbers are computed: an overflow or a NaN is a value the lesson shows
    (inf, nan, diverged at step k), not a warning on stderr; neither are numpy's or torch's
    other warnings about what a lesson asks of them (torch's `x.T` on a 3-D tensor).

    Only this block is quiet; warnings elsewhere are left as they were.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


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


FLOAT32_MAX = float(np.finfo(np.float32).max)


def to_float32(x) -> np.float32:
    """np.float32(x), except that a number past float32's range is ±inf without numpy's
    overflow warning (as IEEE rounding has it; a NaN stays NaN)."""
    v = to_float(x)
    if abs(v) > FLOAT32_MAX and math.isfinite(v):
        # values between the largest float32 and the rounding boundary round to it
        boundary = FLOAT32_MAX * (1 + 2.0 ** -25)
        if abs(v) < boundary:
            return np.float32(math.copysign(FLOAT32_MAX, v))
        return np.float32(math.copysign(math.inf, v))
    return np.float32(v)


def in_arithmetic(x, dtype: str):
    """A lesson number (α, grad_scale, a constant) in the arithmetic of a run: a Fraction in
    exact, else a float of that dtype, ±inf past its range."""
    if dtype == "exact":
        return Fraction(x)
    return to_float32(x) if dtype == "float32" else np.float64(to_float(x))


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


def as_float(values, dtype: str) -> np.ndarray:
    """Exact values (Fractions, nested tuples) as an array of float32 or float64; a number past
    the dtype's range is ±inf, without a warning."""
    arr = np.asarray(values, dtype=object)
    if dtype == "float32":
        flat = [to_float32(v) for v in arr.reshape(-1)]
        return np.array(flat, dtype=np.float32).reshape(arr.shape)
    return as_float64(arr).astype(dtype, copy=False)


def _non_finite(v: float) -> str:
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


SIGNIFICANT = 8     # float64 on screen and in transcripts: enough to tell steps apart
EXACT_WIDTH = 16    # an exact value longer than this is abbreviated, with its decimal beside it
ABBREVIATED_DIGITS = 3


def decimal_text(v: float, significant: int = SIGNIFICANT) -> str:
    """A float at up to `significant` digits, without representation noise: 26.505, -24, -1.2."""
    if not math.isfinite(v):
        return _non_finite(v)
    text = f"{v:.{significant}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent):+03d}" if abs(int(exponent)) < 100 else text
    return "0" if text in ("-0", "0") else text


def _abbreviated(x: Fraction) -> str:
    """A long exact fraction cut short, with its decimal beside it: `123…/370… ≈ 0.33333333`."""
    def short(n: int) -> str:
        digits = exact_text(abs(n))
        head = digits[:ABBREVIATED_DIGITS] + ("…" if len(digits) > ABBREVIATED_DIGITS else "")
        return ("-" if n < 0 else "") + head
    top = short(x.numerator)
    cut = top if x.denominator == 1 else f"{top}/{short(x.denominator)}"
    return f"{cut} ≈ {decimal_text(to_float(x))}"


def fmt(x, dtype: str, full: bool = False) -> str:
    """One number as a person reads it, the same way in every panel and transcript.

    exact: the fraction (`15/8`), abbreviated past EXACT_WIDTH characters with a `≈` decimal;
    float64: up to 8 significant digits (26.505, not 26.505000000000003); float32: its shortest
    round-trip text (the document's 1.0372 style). `full` gives every digit: the whole fraction,
    float64's repr.
    """
    if isinstance(x, np.ndarray):
        x = x[()]
    if dtype == "exact":
        if x is None:
            return "nan"
        text = exact_text(x)
        if full or len(text) <= EXACT_WIDTH:
            return text
        return _abbreviated(Fraction(x))
    v = to_float(x)
    if not math.isfinite(v):
        return _non_finite(v)
    if dtype == "float32":
        text = str(to_float32(v))
    elif full:
        text = repr(v)
    else:
        return decimal_text(v)
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def fmt_vec(values, dtype: str, full: bool = False) -> str:
    """A flat vector: the bare number for one weight, `[a, b]` for more."""
    flat = np.asarray(values).reshape(-1)
    parts = [fmt(v, dtype, full) for v in flat]
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
    return float(str(to_float32(v))) if dtype == "float32" else v


def to_json_vec(values, dtype: str) -> list:
    return [to_json(v, dtype) for v in np.asarray(values).reshape(-1)]


def as_array(value, dtype: str) -> np.ndarray:
    """An exact lesson value (Fraction or nested tuple) as an array in the given arithmetic."""
    arr = np.array(value, dtype=object)
    return arr if dtype == "exact" else as_float(arr, dtype)


