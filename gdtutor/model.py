"""Typed, immutable lessons: what the loader builds and everything downstream reads.

NamedTuples: immutable, and cheap to create at start-up.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from .expr import Expr

BACKENDS = ("numpy", "torch")
DTYPES = ("float64", "float32", "exact")

# A value as read from a lesson: a Fraction, or a nested tuple of Fractions (exact as written).
Value = object


class Text(NamedTuple):
    """A string in English and Chinese; either falls back to the other."""

    en: str = ""
    zh: str = ""

    def get(self, lang: str) -> str:
        return (self.zh or self.en) if lang == "zh" else (self.en or self.zh)


class Checkpoint(NamedTuple):
    """What replay verifies. Graph lessons use value/grads; descent lessons use step/weights/loss/grad."""

    line: int                                  # line in the lesson file, for messages
    tol: Fraction | None = None                # None: the default (1e-6, or equality in exact)
    step: int | None = None
    weights: tuple | None = None               # flat, in weight order
    loss: Fraction | None = None
    grad: tuple | None = None                  # flat
    sse: Fraction | None = None                # linear lessons: Σ(Xw − y)² at that step
    diverged: int | None = None                # descent: the step at which divergence is expected
    value: Value | None = None
    grads: tuple[tuple[str, Value], ...] | None = None


class Linear(NamedTuple):
    """The linear-model form of a descent lesson, kept for display; `objective` is its sugar."""

    X: tuple          # m rows of d features (after the bias column, if any)
    y: tuple          # m targets
    bias: bool
    loss: str         # "sse" or "half_mse"


class Lesson(NamedTuple):
    """One lesson, validated. `params` are a graph lesson's inputs or a descent lesson's weights."""

    id: str
    title: Text
    kind: str                                  # "graph" or "descent"
    expression: Expr                           # graph: the expression; descent: the objective
    params: tuple[tuple[str, Value], ...]      # name -> initial value (Fraction or nested tuple)
    constants: tuple[tuple[str, Value], ...] = ()   # X, y, m for linear lessons
    text: Text = Text()
    backend: str = "numpy"
    dtype: str = "float64"
    lr: Fraction = Fraction(0)
    grad_scale: Fraction = Fraction(1)
    iterations: int = 0
    checkpoints: tuple[Checkpoint, ...] = ()
    linear: Linear | None = None
    source: Path | None = None                 # the file it came from
    order: int = 0                             # position among built-in lessons
    summary: Text = Text()                     # one line for the lesson picker
    lines: tuple[tuple[str, int], ...] = ()    # field path -> line in the file
    names: tuple[tuple[str, str], ...] = ()    # node name -> the sub-expression it names,
                                               # as the graph writes it (`render`)
    predict: tuple[str, ...] = ()              # what predict mode asks before each step
    predict_tol: Fraction | None = None        # relative tolerance of float answers (None: 1e-3)

    def line_of(self, field: str) -> int | None:
        return dict(self.lines).get(field)

    @property
    def label(self) -> str:
        """How messages name the lesson's file."""
        return str(self.source) if self.source else self.id
