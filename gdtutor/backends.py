"""Choosing a backend by name, and the one evaluation that checks a lesson as it is loaded."""
from __future__ import annotations

import numpy as np

from .backend import Backend, initial_weights
from .errors import ExprError, GdtutorError, NotFinite
from .i18n import _
from .model import Lesson
from .numpy_backend import NumpyBackend


def make_backend(lesson: Lesson, name: str, dtype: str) -> Backend:
    """The backend called `name`; torch is imported here and nowhere else."""
    if name == "numpy":
        return NumpyBackend(lesson, dtype)
    if name == "torch":
        if dtype == "exact":
            raise GdtutorError(_("exact arithmetic runs on the numpy backend only"),
                               field="backend")
        try:
            from .torch_backend import TorchBackend
        except ImportError:
            raise GdtutorError(_("the torch backend needs torch, which is not installed; "
                                 "install it with: pip install torch==2.13.0"),
                               field="backend") from None
        return TorchBackend(lesson, dtype)
    raise GdtutorError(_("unknown backend '{name}' (numpy or torch)").format(name=name),
                       field="backend")


def probe(lesson: Lesson, dtype: str | None = None) -> None:
    """Evaluate a lesson once at its initial values; raise ExprError if it cannot be computed."""
    backend = NumpyBackend(lesson, dtype or lesson.dtype)
    w = backend.weights(initial_weights(lesson))
    try:
        out, _grad = backend.loss_and_grad(w, checked=True)
        if not backend.exact:
            backend.hot()   # compiles the float path, checking it once too
    except NotFinite:
        return
    if np.ndim(out) != 0:
        raise ExprError(_("the expression must give one number, but gives shape {shape}; "
                          "wrap it in sum() or mean()").format(shape=np.shape(out)))
