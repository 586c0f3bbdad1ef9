"""What the backend tests share: lessons over a few parameters, a norm-wise comparison, and
random expressions (Hypothesis strategies) over a scalar, two vectors and a matrix."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
from hypothesis import strategies as st

from gdtutor.expr import parse
from gdtutor.model import Lesson

PARAMS = (("x", F(3, 4)), ("v", (F(1, 2), F(-1), F(2))), ("u", (F(-3, 2), F(1, 3), F(1))),
          ("M", ((F(1), F(-1, 2), F(2)), (F(1, 4), F(3), F(-1)))))


def lesson_of(source: str, params=PARAMS, dtype: str = "float64") -> Lesson:
    expression = parse(source, [n for n, _ in params])
    return Lesson(id="t", title=None, kind="graph", expression=expression, params=params,
                  dtype=dtype)


def close(a, b, rel: float) -> bool:
    """Equal within `rel` of the array's largest magnitude (at least 1): the norm-wise error
    that two correct evaluations in different summation orders can differ by."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
    return bool(np.all(np.abs(a - b) <= rel * scale))


# Expressions over a scalar x, vectors v and u and a 2x3 matrix M; every one ends in a scalar.
scalar_leaf = st.sampled_from(["x", "1.5", "2", "(1/3)", "sum(v)", "mean(u)"])
vector_leaf = st.sampled_from(["v", "u", "T(M) @ (M @ v)", "v * x", "(1/2) * u"])


def grow(children):
    unary = st.sampled_from(["exp(tanh({}))", "tanh({})", "sin({})", "cos({})", "sigmoid({})",
                             "relu({})", "abs({})", "-({})", "log(1 + abs({}))",
                             "sqrt(1 + ({})**2)", "({})**2", "({})**3"])
    binary = st.sampled_from(["({}) + ({})", "({}) - ({})", "({}) * ({})",
                              "({}) / (2 + sin({}))"])
    return st.one_of(
        st.tuples(unary, children).map(lambda t: t[0].format(t[1])),
        st.tuples(binary, children, children).map(lambda t: t[0].format(t[1], t[2])),
    )


vector_expr = st.recursive(vector_leaf, grow, max_leaves=6)
scalar_expr = st.recursive(scalar_leaf, grow, max_leaves=6)
expressions = st.one_of(scalar_expr, vector_expr.map(lambda e: f"sum({e})"),
                        st.tuples(vector_expr, vector_expr).map(lambda t: f"({t[0]}) @ ({t[1]})"),
                        scalar_expr.map(lambda e: f"({e}) * sum(v * u)"))
