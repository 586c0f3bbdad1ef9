"""The same plan evaluated with torch tensors; torch's autograd computes every gradient."""
from __future__ import annotations

import numpy as np
import torch

from .backend import Backend, Node
from .errors import ExprError
from .model import Lesson


def _matmul(a, b):
    if a.dim() == 0 or b.dim() == 0:
        raise ValueError("@ needs arrays on both sides, not a scalar")
    if a.dim() > 2 or b.dim() > 2:
        raise ValueError("@ works on vectors and matrices only")
    return a @ b


def _relu(a):
    return torch.relu(a) if isinstance(a, torch.Tensor) else max(a, 0)


FORWARD = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "matmul": _matmul,
    "neg": lambda a: -a,
    "sum": torch.sum, "mean": torch.mean,
    "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
    "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "T": lambda a: a.T,
}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchBackend(Backend):
    """Forward in plan order with torch ops; backward by torch.autograd."""

    name = "torch"

    def __init__(self, lesson: Lesson, dtype: str) -> None:
        super().__init__(lesson, dtype)
        if dtype not in DTYPES:
            raise ExprError("exact arithmetic runs on the numpy backend only")
        self.torch_dtype = DTYPES[dtype]
        self.np_dtype = np.dtype(dtype)
        constants = dict(lesson.constants)
        self.fixed: dict[int, torch.Tensor] = {}
        for i, s in enumerate(self.plan):
            if s.needs_grad:
                continue
            if s.op == "data":
                self.fixed[i] = self._tensor(constants[s.name])
            elif s.op == "const":
                # a plain number, as in the document's `x ** 2` (torch names it PowBackward0)
                v = s.value
                self.fixed[i] = int(v) if v.denominator == 1 else float(v)
            else:
                self.fixed[i] = self._apply(s, [self.fixed[a] for a in s.args])
        index = {s.name: i for i, s in enumerate(self.plan) if s.op == "param"}
        self._param_slots = [(index.get(name, -1), off, size, shape)
                             for name, shape, off, size in self.layout]
        self.order = [i for i, s in enumerate(self.plan) if s.needs_grad and s.op != "param"]
        self._fwd_ops = [(i, FORWARD[self.plan[i].op], self.plan[i].args) for i in self.order]
        self._template = [self.fixed.get(i) for i in range(len(self.plan))]

    def _tensor(self, value) -> torch.Tensor:
        arr = np.array(value, dtype=object).astype(np.float64)
        return torch.as_tensor(arr, dtype=self.torch_dtype)

    def _apply(self, s, args):
        if s.op not in ("add", "sub", "mul", "div", "pow"):
            args = [a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=self.torch_dtype)
                    for a in args]
        try:
            return FORWARD[s.op](*args)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            shapes = " and ".join(str(tuple(a.shape)) for a in args)
            raise ExprError(f"cannot compute '{s.label}' on shapes {shapes}: {exc}") from None

    def weights(self, values) -> np.ndarray:
        return np.array(values, dtype=object).astype(np.float64).astype(self.np_dtype).reshape(-1)

    def _forward(self, w: torch.Tensor) -> list:
        values = self._template.copy()
        for i, off, size, shape in self._param_slots:
            if i < 0:
                continue
            whole = off == 0 and shape == (size,) and size == w.shape[0]
            values[i] = w if whole else w[off:off + size].reshape(shape)
        for i, fn, args in self._fwd_ops:
            values[i] = fn(*[values[a] for a in args])
        return values

    def loss_and_grad(self, w):
        wt = torch.tensor(w, dtype=self.torch_dtype, requires_grad=True)
        out = torch.as_tensor(self._forward(wt)[-1], dtype=self.torch_dtype)
        if not out.requires_grad:     # no parameter reaches the output
            return out.detach().numpy()[()], np.zeros_like(w)
        (grad,) = torch.autograd.grad(out, wt)
        return out.detach().numpy()[()], grad.numpy()

    def nodes(self, w) -> list[Node]:
        wt = torch.tensor(w, dtype=self.torch_dtype, requires_grad=True)
        values = self._template.copy()
        # each parameter is its own leaf here, so that its gradient is torch's, unreshaped
        for i, off, size, shape in self._param_slots:
            if i >= 0:
                values[i] = wt[off:off + size].reshape(shape).detach().requires_grad_(True)
        for i, fn, args in self._fwd_ops:
            values[i] = fn(*[values[a] for a in args])
        for v in values:
            if isinstance(v, torch.Tensor) and v.requires_grad and not v.is_leaf:
                v.retain_grad()
        out = values[-1]
        if isinstance(out, torch.Tensor) and out.requires_grad:
            out.backward(torch.ones_like(out))
        nodes = []
        for s, v in zip(self.plan, values):
            grad = None
            if s.needs_grad:
                grad = v.grad.numpy().copy() if v.grad is not None else np.zeros(tuple(v.shape), self.np_dtype)
            if not isinstance(v, torch.Tensor):
                v = torch.tensor(v, dtype=self.torch_dtype)
            fn = type(v.grad_fn).__name__ if v.grad_fn is not None else None
            nodes.append(Node(s.id, s.op, s.label, tuple(self.plan[a].id for a in s.args),
                              tuple(v.shape), v.detach().numpy().copy(), grad, fn))
        return nodes
