"""Why α matters, headless: the effective Hessian, its eigenvalues, the stability forecast, a
gradient check and an α sweep, for `gdtutor analyze` and the TUI's panels (keys e, s, c).

The API (all of it pure: no Textual, Rich or torch unless the lesson's backend is torch):

- `stability(lesson, w=None, lr=None) -> Stability`: H = grad_scale·∇²L at w (default w_0),
  eigenvalues, α_max, contraction per direction, forecast, steps to shrink the error 1000×.
  `Stability.with_lr(a)` redoes only the α-dependent part (cheap: for a slider or `+`/`-`).
- `gradient_check(lesson, w=None) -> GradientCheck`: the backend's gradient against central
  finite differences of the lesson's own loss and, for linear lessons, the closed form.
- `sweep(lesson, alphas=None, steps=None, cancel=None) -> list[SweepRun]`: the lesson run at
  several α (default `sweep_alphas`), each with its float64 losses and its fate.
- `analyze(lesson, w=None, lr=None) -> dict`: SPEC section 9's JSON object; `text_report`
  renders the same for a person.

None of them raises on a lesson that loaded: what cannot be computed (too many weights, a
non-finite Hessian) comes back as a one-line `reason`.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, NamedTuple, Sequence

import numpy as np

from .backend import initial_weights, weight_names
from .backends import make_backend
from .cjk import ljust, rjust
from .errors import GdtutorError
from .i18n import N_, _
from .expr import Expr
from .model import Lesson
from .numbers import as_float64, exact_text, fmt, to_float, to_json
from .errors import NotFinite

MAX_WEIGHTS = 2000           # beyond this, no dense Hessian or eigen-decomposition
MAX_EXACT_EIGEN = 30         # exact eigenvalue checks (rank of H − λI in fractions) up to this size
SHRINK = Fraction(1, 1000)   # steps_to_1e-3: the error shrunk 1000×
FLOAT_ONE_TOL = 1e-9         # float lessons: a contraction within this of 1 counts as exactly 1
EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}
FD_STEP = {"float64": 1e-6, "float32": 1e-3}   # central-difference step, times max(1, |w_j|)
UNTRUSTED = 0.01             # finite differences whose rounding floor passes 1% of the gradient


class Note(str):
    """A note or reason: the English sentence as a str (what the JSON holds), and `said()`,
    the same sentence in the current language (what the text report prints)."""

    def __new__(cls, template: str, **fields) -> "Note":
        note = super().__new__(cls, template.format(**fields))
        note.template, note.fields = template, fields
        return note

    def __getnewargs_ex__(self):
        return (self.template,), self.fields

    def said(self) -> str:
        return _(self.template).format(**self.fields)


def said(text: str) -> str:
    """A note or reason in the current language (a plain str as it is)."""
    return text.said() if isinstance(text, Note) else text


# -- is the loss quadratic? ----------------------------------------------------------------

def degree(e: Expr, params) -> int | None:
    """The polynomial degree of an expression in the parameters, or None if it is not a
    polynomial in them (a function such as exp of a parameter, a division by one)."""
    if e.op == "const":
        return 0
    if e.op == "name":
        return 1 if e.name in params else 0
    ds = [degree(a, params) for a in e.args]
    if any(d is None for d in ds):
        return None
    if e.op in ("add", "sub"):
        return max(ds)
    if e.op in ("mul", "matmul"):
        return sum(ds)
    if e.op in ("neg", "sum", "mean", "T"):
        return ds[0]
    if e.op == "div":
        return ds[0] if ds[1] == 0 else None
    if e.op == "pow":
        if ds == [0, 0]:
            return 0
        exponent = e.args[1]
        if exponent.op == "const" and exponent.value.denominator == 1 and exponent.value >= 0:
            return int(exponent.value) * ds[0]
        return None
    return 0 if ds[0] == 0 else None     # exp, log, sqrt, abs, ... of a constant


def loss_degree(lesson: Lesson) -> int | None:
    return degree(lesson.expression, {name for name, _ in lesson.params})


def is_quadratic(lesson: Lesson) -> bool:
    """Whether L is a polynomial of degree at most 2 in the weights (then ∇²L is constant)."""
    d = loss_degree(lesson)
    return d is not None and d <= 2


# -- weights and numbers ---------------------------------------------------------------------

def _exact(lesson: Lesson) -> bool:
    return lesson.dtype == "exact"


def _weights(lesson: Lesson, w) -> np.ndarray:
    """Flat weights: Fractions (object array) in exact lessons, float64 otherwise."""
    values = initial_weights(lesson) if w is None else list(np.asarray(w, dtype=object).reshape(-1))
    if _exact(lesson):
        return np.array([Fraction(v) for v in values], dtype=object)
    return np.array([to_float(v) for v in values], dtype=np.float64)


def _num(x, exact: bool):
    """A JSON value: exact rationals as strings, floats as numbers (non-finite as strings)."""
    if isinstance(x, Fraction) and exact:
        return exact_text(x)
    return to_json(to_float(x), "float64")


def _show(x, exact: bool) -> str:
    if isinstance(x, Fraction) and exact:
        return exact_text(x)
    v = to_float(x)
    return fmt(v, "float64") if v == 0 or not math.isfinite(v) else f"{v:.10g}"


# -- the Hessian -----------------------------------------------------------------------------

class Hessian(NamedTuple):
    matrix: np.ndarray | None   # n×n: Fractions (object) when exact, float64 otherwise
    exact: bool                 # entries are exact fractions
    local: bool                 # the local Hessian at `at` (L is not quadratic)
    reason: str | None          # why there is no matrix


def hessian(lesson: Lesson, w=None) -> Hessian:
    """H = grad_scale · ∇²L at w (default w_0), from the numpy backend's gradient.

    Exact lessons with a quadratic loss: columns g(w + e_j) − g(w), exact (the gradient is
    affine). Otherwise central differences of the float64 gradient, symmetrised: exact up to
    rounding for a quadratic loss (step max(1, |w_j|)), the local Hessian for any other
    (step ε^(1/3)·max(1, |w_j|))."""
    quadratic = is_quadratic(lesson)
    n = sum(len(np.asarray(v, dtype=object).reshape(-1)) for _, v in lesson.params)
    if n > MAX_WEIGHTS:
        return Hessian(None, False, not quadratic,
                       Note(N_("{n} weights: more than {max}, too many for a dense Hessian and "
                               "its eigen-decomposition"), n=n, max=f"{MAX_WEIGHTS:,}"))
    try:
        if _exact(lesson) and quadratic:
            return Hessian(_exact_hessian(lesson, _weights(lesson, w)), True, False, None)
        return _float_hessian(lesson, _weights(lesson, w).astype(np.float64), quadratic)
    except (NotFinite, GdtutorError, ArithmeticError, ValueError) as exc:
        return Hessian(None, False, not quadratic,
                       Note(N_("the gradient cannot be computed here: {error}"), error=exc))


def _exact_hessian(lesson: Lesson, w: np.ndarray) -> np.ndarray:
    backend = make_backend(lesson, "numpy", "exact")
    g0 = backend.loss_and_grad(w)[1]
    n = len(w)
    H = np.empty((n, n), dtype=object)
    for j in range(n):
        wj = w.copy()
        wj[j] += 1
        H[:, j] = (backend.loss_and_grad(wj)[1] - g0) * lesson.grad_scale
    return (H + H.T) / 2


def _float_hessian(lesson: Lesson, w: np.ndarray, quadratic: bool) -> Hessian:
    backend = make_backend(lesson, "numpy", "float64")
    n = len(w)
    H = np.empty((n, n))
    rel = 1.0 if quadratic else EPS["float64"] ** (1 / 3)
    with np.errstate(all="ignore"):
        for j in range(n):
            h = rel * max(1.0, abs(w[j]))
            up, down = w.copy(), w.copy()
            up[j] += h
            down[j] -= h
            H[:, j] = (np.asarray(backend.loss_and_grad(up)[1], np.float64)
                       - np.asarray(backend.loss_and_grad(down)[1], np.float64)) / (up[j] - down[j])
        H = (H + H.T) / 2 * to_float(lesson.grad_scale)
    if not np.isfinite(H).all():
        bad = int((~np.isfinite(H)).sum())
        return Hessian(None, False, not quadratic, Note(
            N_("the Hessian has {n} non-finite entry (NaN or inf) at these weights: no "
               "eigenvalues") if bad == 1 else
            N_("the Hessian has {n} non-finite entries (NaN or inf) at these weights: no "
               "eigenvalues"), n=bad))
    return Hessian(H, False, not quadratic, None)


# -- exact eigenvalues ------------------------------------------------------------------------

def _rank(M: list[list[Fraction]]) -> int:
    """Rank by Gaussian elimination in exact fractions."""
    M = [row[:] for row in M]
    rank, rows, cols = 0, len(M), len(M[0]) if M else 0
    for c in range(cols):
        pivot = next((r for r in range(rank, rows) if M[r][c] != 0), None)
        if pivot is None:
            continue
        M[rank], M[pivot] = M[pivot], M[rank]
        for r in range(rank + 1, rows):
            if M[r][c] != 0:
                f = M[r][c] / M[rank][c]
                M[r] = [a - f * b for a, b in zip(M[r], M[rank])]
        rank += 1
    return rank


def _rational_sqrt(q: Fraction) -> Fraction | None:
    if q < 0:
        return None
    a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
    return Fraction(a, b) if a * a == q.numerator and b * b == q.denominator else None


def exact_eigenvalues(H: np.ndarray, approx: Sequence[float]) -> list:
    """Each eigenvalue as a Fraction where it is rational (proved: H − λI loses as many ranks
    as λ is claimed), else the float from eigh. 1×1 and 2×2 use the closed form."""
    n = H.shape[0]
    out: list = list(approx)
    if n == 1:
        return [Fraction(H[0, 0])]
    if n == 2:
        tr, det = H[0, 0] + H[1, 1], H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]
        root = _rational_sqrt(tr * tr - 4 * det)
        return sorted([(tr - root) / 2, (tr + root) / 2]) if root is not None else out
    if n > MAX_EXACT_EIGEN:
        return out
    rows = [[Fraction(v) for v in row] for row in H]
    claims: dict[Fraction, list[int]] = {}
    for i, lam in enumerate(approx):
        for bound in (1000, 10 ** 6):
            c = Fraction(lam).limit_denominator(bound)
            if abs(to_float(c) - lam) <= 1e-9 * max(1.0, abs(lam)):
                claims.setdefault(c, []).append(i)
                break
    for c, idx in claims.items():
        shifted = [[v - (c if r == k else 0) for k, v in enumerate(row)] for r, row in enumerate(rows)]
        if n - _rank(shifted) >= len(idx):
            for i in idx:
                out[i] = c
    return out


# -- stability -------------------------------------------------------------------------------

class Stability(NamedTuple):
    """What H says about gradient descent at α. Eigenvalues ascend; in exact lessons an
    eigenvalue (and what follows from it) is a Fraction where it is rational, else a float."""

    lesson: str
    dtype: str
    quadratic: bool
    degree: int | None          # polynomial degree of L in the weights; None: not a polynomial
    local: bool                 # H is the local Hessian at `at` (L not quadratic)
    at: np.ndarray              # the weights H was taken at
    weight_names: tuple[str, ...]
    hessian: np.ndarray | None
    eigenvalues: tuple          # ascending
    eigenvectors: np.ndarray | None  # column i belongs to eigenvalue i (float64)
    lr: Fraction                # α
    alpha_max: object           # 2/λ_max, or None when λ_max <= 0 or unknown
    contraction: tuple          # |1 − αλᵢ| per eigenvalue
    factor: tuple               # 1 − αλᵢ: the signed factor on the error along direction i
    forecast: str | None        # "converges" | "oscillates" | "diverges"; None with a reason
    steps_to_1e3: int | None    # smallest n with max contraction^n <= 1e-3 (None: no such n)
    singular: bool              # some eigenvalue is 0
    reason: str | None          # why there is no eigen-analysis
    notes: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return self.dtype == "exact" and self.hessian is not None and self.hessian.dtype == object

    def with_lr(self, lr) -> "Stability":
        """The same H at another α: contraction, forecast and steps again, nothing else."""
        return _forecast(self._replace(lr=Fraction(lr)))


def stability(lesson: Lesson, w=None, lr=None) -> Stability:
    """The stability analysis of a descent lesson at weights w (default w_0) and α (default
    the lesson's)."""
    d = loss_degree(lesson)
    at = _weights(lesson, w)
    H = hessian(lesson, at)
    base = Stability(lesson.id, lesson.dtype, d is not None and d <= 2, d, H.local, at,
                     tuple(weight_names(lesson)), H.matrix, (), None,
                     Fraction(lesson.lr if lr is None else lr), None, (), (), None, None, False,
                     H.reason, ())
    if H.matrix is None:
        return base
    F = np.asarray(H.matrix, dtype=np.float64)
    try:
        approx, vectors = np.linalg.eigh(F)
    except np.linalg.LinAlgError as exc:
        return base._replace(reason=Note(N_("no eigen-decomposition: {error}"), error=exc))
    for i in range(vectors.shape[1]):     # a sign that does not flicker: largest entry positive
        if vectors[np.argmax(np.abs(vectors[:, i])), i] < 0:
            vectors[:, i] = -vectors[:, i]
    values = exact_eigenvalues(H.matrix, approx.tolist()) if H.exact else approx.tolist()
    notes = []
    scale = max((abs(to_float(v)) for v in values), default=0.0)
    zero_tol = (1e-6 if H.local else 1e-9) * scale
    zero = [isinstance(v, Fraction) and v == 0 or not isinstance(v, Fraction) and abs(v) <= zero_tol
            for v in values]
    if any(zero):
        notes.append(Note(
            N_("H is singular: {n} eigenvalues are 0; along a flat direction the weights do "
               "not move, and the minimum is not unique") if sum(zero) > 1 else
            N_("H is singular: {n} eigenvalue is 0; along a flat direction the weights do "
               "not move, and the minimum is not unique"), n=sum(zero)))
        if base.quadratic:
            g = _scaled_grad64(lesson, at)
            drift = vectors[:, np.array(zero)].T @ g if g is not None else np.zeros(1)
            if np.abs(drift).max() > 1e-9 * max(1.0, to_float(np.abs(g).max()) if g is not None else 1):
                notes.append(Note(N_("the gradient has a part along a flat direction: the loss "
                                     "has no minimum there and the weights drift without end")))
                base = base._replace(reason=None)
                return _forecast(base._replace(eigenvalues=tuple(values), eigenvectors=vectors,
                                               singular=True, notes=tuple(notes) + ("drift",)))
    if H.local:
        notes.append(Note(N_("L is not quadratic in the weights: this is the local Hessian at "
                             "these weights, and the forecast holds only near them")))
    return _forecast(base._replace(eigenvalues=tuple(values), eigenvectors=vectors,
                                   singular=any(zero), notes=tuple(notes)))


def _scaled_grad64(lesson: Lesson, w) -> np.ndarray | None:
    try:
        with np.errstate(all="ignore"):
            g = make_backend(lesson, "numpy", "float64").loss_and_grad(np.asarray(w, np.float64))[1]
    except (NotFinite, GdtutorError, ArithmeticError, ValueError):
        return None
    return np.asarray(g, np.float64) * to_float(lesson.grad_scale)


def _forecast(s: Stability) -> Stability:
    """Contraction, forecast and steps from the eigenvalues and α.

    Boundary cases: a zero eigenvalue is a flat direction (the error there neither shrinks nor
    grows) and takes no part in the forecast; α = 0 "converges" (nothing moves) with no step
    count; a contraction of exactly 1 with 1 − αλ = −1 (αλ = 2) "oscillates": the error keeps
    its size and flips sign forever. In float lessons "exactly 1" means within 1e-9."""
    if not s.eigenvalues:
        return s._replace(alpha_max=None, contraction=(), factor=(), forecast=None, steps_to_1e3=None)
    exact = s.exact
    lr = s.lr if exact else to_float(s.lr)
    values = [v if exact and isinstance(v, Fraction) else to_float(v) for v in s.eigenvalues]
    factor = tuple(1 - lr * v for v in values)
    contraction = tuple(abs(f) for f in factor)
    lam_max = values[-1]
    alpha_max = (Fraction(2) / lam_max if isinstance(lam_max, Fraction) else 2.0 / lam_max) \
        if lam_max > 0 else None
    scale = max(abs(to_float(v)) for v in values)
    tol = 0 if exact else FLOAT_ONE_TOL
    ztol = 0 if exact else (1e-6 if s.local else 1e-9) * scale
    live = [i for i, v in enumerate(values) if abs(to_float(v)) > ztol and not (isinstance(v, Fraction) and v == 0)]
    steps = None
    if "drift" in s.notes:
        forecast = "diverges"
    elif s.lr == 0 or not live:
        forecast = "converges"
    elif any(values[i] < 0 for i in live):
        forecast = "diverges"
    else:
        rho = max(contraction[i] for i in live)
        if rho > 1 + tol:
            forecast = "diverges"
        elif rho >= 1 - tol:
            forecast = "oscillates"
        else:
            forecast = "oscillates" if any(factor[i] < 0 for i in live) else "converges"
            steps = _steps(rho, [values[i] for i in live], lr)
    return s._replace(alpha_max=alpha_max, contraction=contraction, factor=factor,
                      forecast=forecast, steps_to_1e3=steps)


def _steps(rho, values, lr) -> int:
    """The smallest n >= 1 with rho^n <= 1/1000: from logs, then proved exactly for a Fraction
    rho (small n) or against the logs for floats."""
    if rho == 0:
        return 1
    # log rho without cancellation when αλ is small: log|1 − αλ| = log1p(−αλ)
    x = max((to_float(lr) * to_float(v) for v in values), key=lambda t: abs(1 - t))
    logr = math.log1p(-x) if 0 < x < 1 else math.log(to_float(rho))
    target = math.log(to_float(SHRINK))
    n = max(1, math.ceil(target / logr))
    if isinstance(rho, Fraction) and n <= 20000:
        while n > 1 and rho ** (n - 1) <= SHRINK:
            n -= 1
        while rho ** n > SHRINK:
            n += 1
        return n
    while n > 1 and (n - 1) * logr <= target:
        n -= 1
    while n * logr > target:
        n += 1
    return n


# -- gradient check --------------------------------------------------------------------------

class GradientCheck(NamedTuple):
    """The backend's gradient at `at` against references computed another way."""

    lesson: str
    dtype: str
    at: np.ndarray
    gradient: np.ndarray           # grad_scale·∂L/∂w from the lesson's backend, in its dtype
    finite_difference: np.ndarray  # central differences of the lesson's own loss
    exact_fd: bool                 # the finite differences are exact (exact lesson, quadratic L)
    step: np.ndarray               # h per weight
    formula: np.ndarray | None     # linear lessons: (1/m)Xᵀ(Xw − y) or 2Xᵀ(Xw − y), scaled
    rel_error: np.ndarray          # per weight, gradient vs finite difference
    rel_error_formula: np.ndarray | None
    max_rel_error: object          # the largest of both; a Fraction when everything is exact
    noise: np.ndarray              # rounding floor of each finite difference, ε·|L|/h
    trusted: np.ndarray            # bool per weight: the noise is below 1% of the gradient
    reason: str | None
    notes: tuple[str, ...]


def _rel(a, b):
    """|a − b| / max(|a|, |b|), 0 where both are 0 (exact for Fractions)."""
    out = []
    for x, y in zip(a, b):
        d = max(abs(x), abs(y))
        out.append(abs(x - y) / d if d else x * 0)
    return out


def gradient_check(lesson: Lesson, w=None) -> GradientCheck:
    """At w (default w_0): the lesson's backend's gradient (scaled), central finite differences
    of the lesson's loss on the same backend and dtype (exact with h = 1 in an exact lesson
    with a quadratic loss, where a central difference has no truncation error; otherwise
    h = 1e-6·max(1, |w_j|) in float64, 1e-3·max(1, |w_j|) in float32 and exact, with the
    differences taken in float64), and for linear lessons the closed form."""
    exact = _exact(lesson)
    at = _weights(lesson, w)
    n = len(at)
    empty = np.zeros(0)
    fail = GradientCheck(lesson.id, lesson.dtype, at, empty, empty, False, empty, None, empty,
                         None, None, empty, np.zeros(0, bool), None, ())
    try:
        backend = make_backend(lesson, lesson.backend, lesson.dtype)
        own = at if exact else at.astype(backend.np_dtype)
        with np.errstate(all="ignore"):
            loss, grad = backend.loss_and_grad(own)
        scale = lesson.grad_scale if exact else to_float(lesson.grad_scale)
        gradient = np.asarray(grad, dtype=object if exact else np.float64) * scale
        quadratic = is_quadratic(lesson)
        exact_fd = exact and quadratic
        fd, steps, noise = [], [], []
        eps = 0.0 if exact_fd else EPS["float32" if lesson.dtype == "float32" else "float64"]
        rel_h = FD_STEP["float32" if lesson.dtype in ("float32", "exact") else "float64"]
        for j in range(n):
            up, down = own.copy(), own.copy()
            if exact_fd:
                h = Fraction(1)
            elif exact:
                h = Fraction(rel_h).limit_denominator(10 ** 6) * max(1, abs(own[j]))
            else:
                h = rel_h * max(1.0, abs(to_float(own[j])))
            up[j] += h
            down[j] -= h
            with np.errstate(all="ignore"):
                lu, ld = backend.loss_and_grad(up)[0], backend.loss_and_grad(down)[0]
            if exact_fd:
                fd.append((lu - ld) / (up[j] - down[j]) * scale)
                steps.append(h)
                noise.append(Fraction(0))
                continue
            width = to_float(up[j]) - to_float(down[j])      # the step as the dtype holds it
            fd.append((to_float(lu) - to_float(ld)) / width * to_float(scale))
            steps.append(width / 2)
            noise.append(eps * max(abs(to_float(lu)), abs(to_float(ld))) / (width / 2) * abs(to_float(scale)))
    except (NotFinite, GdtutorError, ArithmeticError, ValueError) as exc:
        return fail._replace(reason=Note(N_("the gradient cannot be computed here: {error}"),
                                         error=exc))
    fd_arr = np.array(fd, dtype=object if exact_fd else np.float64)
    if not exact_fd:
        gradient = gradient.astype(np.float64)
    formula = _formula(lesson, at)
    if formula is not None and not exact_fd:
        formula = formula.astype(np.float64)
    rel = _rel(gradient.tolist(), fd_arr.tolist())
    rel_f = _rel(gradient.tolist(), formula.tolist()) if formula is not None else None
    both = rel + (rel_f or [])
    worst = max(both, default=0)
    noise_arr = np.array(noise, dtype=np.float64)
    g64 = np.abs(np.asarray(gradient, dtype=np.float64))
    trusted = noise_arr <= UNTRUSTED * np.maximum(g64, np.abs(np.asarray(fd_arr, np.float64)))
    if exact_fd:
        trusted = np.ones(n, bool)
    notes = []
    if exact_fd:
        notes.append(Note(N_("L is quadratic: the central difference with h = 1 is exact")))
    if not trusted.all():
        names = weight_names(lesson)
        bad = [names[j] for j in range(n) if not trusted[j]]
        notes.append(Note(N_("finite differences are dominated by rounding for {names}: their "
                             "rounding floor ε·|L|/h passes 1% of the gradient, so their "
                             "relative error says nothing about the gradient"),
                          names=", ".join(bad[:6]) + (" …" if len(bad) > 6 else "")))
    if not np.all(np.isfinite(np.asarray(gradient, np.float64))):
        notes.append(Note(N_("the gradient is not finite here")))
    return GradientCheck(lesson.id, lesson.dtype, at, gradient, fd_arr, exact_fd,
                         np.array(steps, dtype=object if exact_fd else np.float64), formula,
                         np.array(rel, dtype=object if exact_fd else np.float64),
                         None if rel_f is None else np.array(rel_f, dtype=object if exact_fd else np.float64),
                         worst if exact_fd else to_float(worst), noise_arr, trusted, None, tuple(notes))


def _formula(lesson: Lesson, w: np.ndarray) -> np.ndarray | None:
    """The closed-form gradient of a linear lesson, scaled: (1/m)Xᵀ(Xw − y) for half_mse,
    2Xᵀ(Xw − y) for sse; exact in an exact lesson, float64 otherwise."""
    lin = lesson.linear
    if lin is None:
        return None
    if _exact(lesson):
        X = np.array(lin.X, dtype=object)
        y = np.array(lin.y, dtype=object)
        w = np.asarray(w, dtype=object)
        factor = Fraction(1, len(lin.y)) if lin.loss == "half_mse" else Fraction(2)
        return X.T.dot(X.dot(w) - y) * factor * lesson.grad_scale
    X = as_float64(np.array(lin.X, dtype=object))
    y = as_float64(np.array(lin.y, dtype=object))
    factor = 1 / len(lin.y) if lin.loss == "half_mse" else 2.0
    with np.errstate(all="ignore"):
        return X.T @ (X @ np.asarray(w, np.float64) - y) * factor * to_float(lesson.grad_scale)


# -- the α sweep -----------------------------------------------------------------------------

class SweepRun(NamedTuple):
    """One run of the sweep."""

    label: str            # "α/4", "α/2", "α", "2α", "0.99·α_max", "1.01·α_max"
    lr: Fraction
    losses: np.ndarray    # float64, L(w_0) .. L(w_n); shorter when the run diverged
    fate: str             # "converged" | "converging" | "oscillating" | "diverged"
    at: int | None        # the step it converged or diverged at


def sweep_alphas(lr, alpha_max=None) -> list[tuple[str, Fraction]]:
    """α/4, α/2, α, 2α, and 0.99·α_max and 1.01·α_max when α_max is known."""
    a = Fraction(lr)
    out = [("α/4", a / 4), ("α/2", a / 2), ("α", a), ("2α", 2 * a)]
    if alpha_max is not None:
        m = Fraction(alpha_max)
        out += [("0.99·α_max", m * Fraction(99, 100)), ("1.01·α_max", m * Fraction(101, 100))]
    return out


CHUNK = 1024


def run_losses(lesson: Lesson, lr, steps: int, cancel: Callable[[], bool] | None = None):
    """A fresh Stepper's run at α: (float64 losses, diverged step or None, last step moved).

    The run stops early, exactly, when the weights reach a fixed point (w_k = w_(k-1)) or a
    2-cycle (w_k = w_(k-2)): every later state repeats, so the losses are filled in."""
    from .stepper import Stepper
    stepper = Stepper(lesson._replace(iterations=steps))
    stepper.set_lr(Fraction(lr))
    k, period = 0, None
    while k < steps:
        k = stepper.goto(min(steps, k + CHUNK))
        if stepper.diverged_at is not None or (cancel is not None and cancel()):
            break
        if k >= 2:
            w = stepper.weights_at(k)
            if np.array_equal(w, stepper.weights_at(k - 1)):
                period = 1
            elif np.array_equal(w, stepper.weights_at(k - 2)):
                period = 2
            if period:
                break
    losses = stepper.losses()
    k = stepper.computed
    if period and k < steps:
        tail = losses[k + 1 - period:k + 1]
        losses = np.concatenate([losses, np.resize(tail, steps - k)])
    moved = 0.0
    if stepper.computed >= 1:
        w1, w0 = stepper.weights_history(stepper.computed)[-2:]
        moved = to_float(np.max(np.abs(w1 - w0))) / max(1.0, to_float(np.max(np.abs(w1))))
    return losses, stepper.diverged_at, moved


def batchable(lesson: Lesson) -> bool:
    """Whether `linear_batch` runs this lesson as its Stepper does: a linear lesson (its
    objective the sugar sum((X @ w - y)**2), divided by 2m for half_mse) on numpy in float64."""
    return (lesson.linear is not None and lesson.dtype == "float64" and lesson.backend == "numpy"
            and str(lesson.expression) == ("sum((X @ w - y)**2) / (2 * m)"
                                           if lesson.linear.loss == "half_mse"
                                           else "sum((X @ w - y)**2)"))


def linear_batch(lesson: Lesson, lrs, steps: int, cancel: Callable[[], bool] | None = None):
    """Every α of a linear float64 lesson at once: one loop over a (runs × weights) array,
    with the numpy backend's operations in its order (X @ w − y, its square summed, over 2m;
    the gradient Xᵀ(2/(2m)·(Xw − y)) times grad_scale; w − α·grad). For each α, what
    `run_losses` gives: (float64 losses L(w_0) … L(w_n), the step it diverged at or None, how
    far the last step moved the weights); the same numbers as a Stepper's run to rounding
    (tests/test_tui_alpha_lab.py). A run stops where its loss or weights stop being finite."""
    lin = lesson.linear
    X = np.array(lin.X, dtype=object).astype(np.float64)
    y = np.array(lin.y, dtype=object).astype(np.float64)
    m = len(lin.y)
    half = lin.loss == "half_mse"
    denom = np.float64(2) * np.float64(m)
    coef = (np.float64(1) / denom) * np.float64(2) if half else np.float64(2)
    scale = None if lesson.grad_scale == 1 else float(lesson.grad_scale)
    XT = np.ascontiguousarray(X.T)
    runs = len(lrs)
    lr = np.array([float(a) for a in lrs], dtype=np.float64)[:, None]
    W = np.tile(np.array([float(v) for v in initial_weights(lesson)], np.float64), (runs, 1))
    losses = np.full((runs, steps + 1), np.nan)
    live = np.ones(runs, bool)
    diverged: list[int | None] = [None] * runs
    ends = [steps] * runs
    last_moved = np.zeros(runs)
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            D = W @ XT - y
            S = np.square(D).sum(axis=1)
            L = S / denom if half else S
            losses[live, k] = L[live]
            bad = live & ~(np.isfinite(L) & np.isfinite(W).all(axis=1))
            if bad.any():
                for r in np.flatnonzero(bad):
                    diverged[r], ends[r] = k, k
                    if not np.isfinite(W[r]).all():
                        losses[r, k] = L[r]
                live &= ~bad
                if not live.any():
                    break
            if k == steps:
                break
            G = (coef * D) @ X
            if scale is not None:
                G = G * scale
            step = lr * G
            new = W - step
            # as run_losses measures it: against the size of the weights the step started at
            moved = np.abs(new - W).max(axis=1) / np.maximum(1.0, np.abs(W).max(axis=1))
            last_moved = np.where(live, moved, last_moved)
            W = np.where(live[:, None], new, W)
            if k & 1023 == 1023 and cancel is not None and cancel():
                ends = [min(e, k + 1) for e in ends]
                break
    return [(losses[r, :ends[r] + 1], diverged[r], float(last_moved[r]) if ends[r] else 0.0)
            for r in range(runs)]


SETTLED = {"float64": 1e-6, "float32": 1e-3}


def fate(losses: np.ndarray, diverged: int | None, moved: float,
         dtype: str = "float64") -> tuple[str, int | None]:
    """How a run ends.

    - diverged at k: the stepper stopped at k (loss or weight not finite), or k is the first
      step with L_k > L_0 + 10⁶·|L_0| (|L_0| taken as 1 when it is 0);
    - converged at k: every loss from k to the end is within 10⁻⁹·max(|L*|, L_0 − L*) of the
      run's smallest loss L*, and the last step moved the weights by at most 10⁻⁶ of their
      size (10⁻³ in float32, where a converged run may bounce in the last bits), so that a
      bounce at a constant loss is not "converged";
    - converging: neither, and the loss still fell over the last quarter of the run;
    - oscillating: neither, and it did not (the weights bounce or creep without settling).
    """
    if diverged is not None:
        return "diverged", diverged
    L = np.asarray(losses, np.float64)
    L0 = L[0]
    grown = np.flatnonzero(L > L0 + 1e6 * (abs(L0) or 1.0))
    if grown.size:
        return "diverged", int(grown[0])
    best = to_float(L.min())
    tol = 1e-9 * max(abs(best), L0 - best)
    outside = np.flatnonzero(np.abs(L - best) > tol)
    settled = 0 if outside.size == 0 else int(outside[-1]) + 1
    if settled < len(L) and moved <= SETTLED.get(dtype, SETTLED["float64"]):
        return "converged", settled
    quarter = (3 * (len(L) - 1)) // 4
    if L[-1] < L[quarter] - tol:
        return "converging", None
    return "oscillating", None


def sweep(lesson: Lesson, alphas=None, steps: int | None = None,
          cancel: Callable[[], bool] | None = None) -> list[SweepRun]:
    """Run the lesson at each α (default: `sweep_alphas` around its own α and α_max), each
    from w_0 on a fresh Stepper for `steps` iterations (default the lesson's own). Exact
    lessons run in float64 here: the curves are drawn in floats, and long exact runs grow
    slow. `cancel` is polled between blocks of 1024 steps (for a worker thread)."""
    if alphas is None:
        alphas = sweep_alphas(lesson.lr, stability(lesson).alpha_max)
    else:
        alphas = [(a[0], Fraction(a[1])) if isinstance(a, tuple) else (f"α = {fmt(Fraction(a), 'float64')}", Fraction(a))
                  for a in alphas]
    n = lesson.iterations if steps is None else int(steps)
    if _exact(lesson):
        lesson = lesson._replace(dtype="float64")
    if batchable(lesson):
        runs = []
        for (label, a), (losses, diverged, moved) in zip(
                alphas, linear_batch(lesson, [a for _, a in alphas], n, cancel)):
            what, at = fate(losses, diverged, moved, lesson.dtype)
            runs.append(SweepRun(label, a, losses, what, at))
        return runs
    runs = []
    for label, a in alphas:
        if cancel is not None and cancel():
            break
        losses, diverged, moved = run_losses(lesson, a, n, cancel)
        what, at = fate(losses, diverged, moved, lesson.dtype)
        runs.append(SweepRun(label, a, losses, what, at))
    return runs


# -- the report (gdtutor analyze) ------------------------------------------------------------

def analyze(lesson: Lesson, w=None, lr=None) -> dict:
    """SPEC section 9's object, with extra keys: "local", "degree", "hessian", "eigenvectors"
    (one list per eigenvalue), "singular", "reason", "notes"."""
    if lesson.kind != "descent":
        raise GdtutorError(_("'{id}' is a graph lesson: analyze is for descent lessons "
                             "(gradient descent has α and a Hessian; a graph has neither)").format(
            id=lesson.id))
    s = stability(lesson, w, lr)
    g = gradient_check(lesson, w)
    return to_dict(s, g)


def to_dict(s: Stability, g: GradientCheck) -> dict:
    ex = s.exact
    lesson_exact = s.dtype == "exact"
    vec = lambda xs, e=ex: [_num(x, e) for x in xs]   # noqa: E731
    gdtype = "float32" if g.dtype == "float32" else "float64"
    return {
        "lesson": s.lesson,
        "quadratic": s.quadratic,
        "eigenvalues": vec(s.eigenvalues),
        "alpha": exact_text(s.lr) if lesson_exact else to_float(s.lr),
        "alpha_max": None if s.alpha_max is None else _num(s.alpha_max, ex),
        "contraction": vec(s.contraction),
        "forecast": s.forecast,
        "steps_to_1e-3": s.steps_to_1e3,
        "gradient_check": {
            "at": [_num(v, lesson_exact) for v in g.at],
            "gradient": [exact_text(v) if lesson_exact else to_json(to_float(v), gdtype) for v in g.gradient],
            "finite_difference": vec(g.finite_difference, g.exact_fd),
            "formula": None if g.formula is None else vec(g.formula, lesson_exact and g.exact_fd),
            "max_rel_error": None if g.max_rel_error is None else _num(g.max_rel_error, g.exact_fd),
            "rel_error": vec(g.rel_error, g.exact_fd),
            "step": vec(g.step, g.exact_fd),
            "rounding_floor": [to_json(to_float(v), "float64") for v in g.noise],
            "trusted": [bool(t) for t in g.trusted],
            "reason": g.reason,
            "notes": list(g.notes),
        },
        "local": s.local,
        "degree": s.degree,
        "dtype": s.dtype,
        "at": [_num(v, lesson_exact) for v in s.at],
        "hessian": None if s.hessian is None else [vec(row) for row in s.hessian],
        "eigenvectors": None if s.eigenvectors is None
        else [[to_json(to_float(x), "float64") for x in s.eigenvectors[:, i]] for i in range(s.eigenvectors.shape[1])],
        "factor": vec(s.factor),
        "singular": s.singular,
        "reason": s.reason,
        "notes": [n for n in s.notes if n != "drift"],
    }


FORECASTS = {"converges": N_("forecast: converges"),
             "oscillates": N_("forecast: oscillates (overshoots the minimum, sign flipping)"),
             "diverges": N_("forecast: diverges")}
CHECK_COLUMNS = (N_("weight"), N_("gradient"), N_("finite diff."), N_("formula"),
                 N_("rel. error"))


def text_report(lesson: Lesson, s: Stability, g: GradientCheck, lang: str = "en") -> list[str]:
    """The analysis as lines for a person to read, in the current language (`lang` picks the
    lesson title's)."""
    ex = s.exact
    lesson_exact = s.dtype == "exact"
    show = lambda x, e=ex: _show(x, e)   # noqa: E731
    vec = lambda xs, e=lesson_exact: "[" + ", ".join(_show(x, e) for x in xs) + "]"   # noqa: E731
    out = [_("{id}: {title} ({backend}, {dtype})").format(
        id=lesson.id, title=lesson.title.get(lang), backend=lesson.backend, dtype=lesson.dtype)]
    if s.quadratic:
        out.append((_("L is quadratic in the weights (degree {d}): H is constant, and exact")
                    if ex else _("L is quadratic in the weights (degree {d}): H is constant"))
                   .format(d=s.degree))
    elif s.degree is None:
        out.append(_("L is not quadratic in the weights (not a polynomial): H below is the "
                     "local Hessian at w"))
    else:
        out.append(_("L is not quadratic in the weights (degree {d}): H below is the local "
                     "Hessian at w").format(d=s.degree))
    out.append(_("H = grad_scale · ∇²L at w = {w}").format(w=vec(s.at)))
    if s.hessian is not None:
        for row in s.hessian:
            out.append("  " + "  ".join(f"{show(v):>12}" for v in row))
    if s.reason:
        out.append(_("no eigen-analysis: {reason}").format(reason=said(s.reason)))
    else:
        for i, lam in enumerate(s.eigenvalues):
            v = "[" + ", ".join(f"{x:.4g}" for x in s.eigenvectors[:, i]) + "]"
            out.append(_("direction {i}: λ = {lam}   1 − αλ = {f}   |1 − αλ| = {c}   v = {v}")
                       .format(i=i + 1, lam=show(lam), f=show(s.factor[i]),
                               c=show(s.contraction[i]), v=v))
        m = _("none (λ_max <= 0)") if s.alpha_max is None else show(s.alpha_max)
        out.append(_("α = {a}   α_max = 2/λ_max = {m}").format(a=_show(s.lr, lesson_exact), m=m))
        out.append(_(FORECASTS[s.forecast]))
        out.append(_("the error shrinks 1000× in {n} steps").format(n=s.steps_to_1e3)
                   if s.steps_to_1e3 is not None else
                   _("the error does not shrink 1000× at this α"))
    for n in s.notes:
        if n != "drift":
            out.append(_("note: {n}").format(n=said(n)))
    out.append("")
    out.append(_("gradient check at w = {w}").format(w=vec(g.at)))
    if g.reason:
        out.append("  " + said(g.reason))
        return out
    names = weight_names(lesson)
    cols = [_(c) for c in CHECK_COLUMNS]
    out.append(f"  {ljust(cols[0], 8)} {rjust(cols[1], 17)} {rjust(cols[2], 17)} "
               f"{rjust(cols[3], 17)} {rjust(cols[4], 12)}")
    rounding = _("(rounding)")
    for j in range(len(g.at)):
        grad = exact_text(g.gradient[j]) if lesson_exact else fmt(g.gradient[j], "float32" if g.dtype == "float32" else "float64")
        fd = _show(g.finite_difference[j], g.exact_fd)
        form = "—" if g.formula is None else _show(g.formula[j], lesson_exact and g.exact_fd)
        rel = _show(g.rel_error[j], g.exact_fd) if g.exact_fd else f"{to_float(g.rel_error[j]):.3g}"
        mark = "" if g.trusted[j] else "  " + rounding
        out.append(f"  {ljust(names[j], 8)} {grad:>17} {fd:>17} {form:>17} {rel:>12}{mark}")
    worst = g.max_rel_error
    out.append(_("max relative error: {x}").format(
        x=_show(worst, True) if g.exact_fd else f"{to_float(worst):.3g}"))
    for n in g.notes:
        out.append(_("note: {n}").format(n=said(n)))
    return out
