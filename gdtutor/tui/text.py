"""How the screens write numbers and arrays: the core's formatting, kept short for a terminal."""
from __future__ import annotations

import functools
from fractions import Fraction
from typing import Callable, NamedTuple

import numpy as np

from ..numbers import fmt as core_fmt

LIMIT = 6   # arrays longer than this are summarised: first values, an ellipsis, the last


def paren(text: str) -> str:
    """A number after an operator: negative ones in parentheses, as the document writes them."""
    return f"({text})" if text.startswith("-") else text


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as numpy writes it: `()` for a scalar, `(3,)`, `(2, 2)`."""
    return str(tuple(shape))


class Numbers(NamedTuple):
    """The core's number formatting for one lesson (`gdtutor.numbers.fmt` in the lesson's
    arithmetic), plus summaries of arrays. Every panel, the history, the status line and the
    plots' labels write numbers through one of these: one number, one rendering everywhere.
    `full` writes every digit (the `.` key): the whole fraction, float64's repr."""

    fmt: Callable[[object], str]
    dtype: str
    full: bool = False

    @classmethod
    def of(cls, stepper, full: bool = False) -> "Numbers":
        if not full:
            return cls(stepper.fmt, stepper.dtype)
        return cls(functools.partial(core_fmt, dtype=stepper.dtype, full=True), stepper.dtype,
                   True)

    def number(self, x) -> str:
        return self.fmt(x)

    def lr(self, lr) -> str:
        """α: a fraction in exact mode, else a decimal in the lesson's precision."""
        if self.dtype == "exact":
            return self.fmt(Fraction(lr))
        return self.fmt(float(lr))

    def array(self, values, limit: int = LIMIT) -> str:
        """A value of any shape on one line: a scalar, `[a, b, c]`, or `[a, b, …, z]`."""
        if values is None:
            return "–"
        array = np.asarray(values)
        if array.ndim == 0:
            return self.fmt(array[()])
        flat = array.reshape(-1)
        if flat.size <= limit:
            parts = [self.fmt(v) for v in flat]
        else:
            parts = [self.fmt(v) for v in flat[:limit - 2]] + ["…", self.fmt(flat[-1])]
        return "[" + ", ".join(parts) + "]"

    def weights(self, values) -> str:
        """Flat weights: the bare number for one weight, `[a, b]` for more."""
        flat = np.asarray(values).reshape(-1)
        return self.fmt(flat[0]) if flat.size == 1 else self.array(flat)
