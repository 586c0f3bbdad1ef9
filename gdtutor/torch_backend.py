"""The same plan evaluated with torch tensors; torch's autograd computes every gradient."""
from __future__ import annotations

import numpy as np
import torch

from .backend import ARITHMETIC, Backend, Node
from .errors import ExprError
from .i18n import _
from .model import Lesson
from .numbers import as_float, to_float

FORWARD = {
    **ARITHMETIC,
    "sum": torch.sum, "mean": torch.mean,
    "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
    "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _number(value):
    """A literal of the expression as a plain number, as in the document's `x ** 2`
    (torch records PowBackward0 for a tensor to a number's power); one too large for torch's
    integers goes through float (past its range: ±inf)."""
    return int(value) if value.denominator == 1 and abs(value) < 2 ** 53 else to_float(value)


class TorchBackend(Backend):
    """Forward in plan order with torch ops; backward by torch.autograd.

    What does not depend on the weights (the data, the literals, and every node computed from
    them alone, such as 2m) is computed once, here; a step runs only the ops a weight flows
    into, then one `torch.autograd.grad`.
    """

    name = "torch"

    def __init__(self, lesson: Lesson, dtype: str) -> None:
        if dtype not in DTYPES:
            raise ExprError(_("exact arithmetic runs on the numpy backend only"))
        self.torch_dtype = DTYPES[dtype]
        self.np_dtype = np.dtype(dtype)
        super().__init__(lesson, dtype, self._tensor, _number)
        # (node, offset, size, shape) of each parameter the expression uses
        self._params = [slot for slot in self._param_slots if slot[0] >= 0]
        self._ops = [(i, FORWARD[self.plan[i].op], self.plan[i].args) for i in self.order]
        # one parameter that is the whole weight vector needs no slicing
        self._whole = [(off, shape) for _, off, _, shape in self._params] == [(0, (self.size,))]

    def _tensor(self, value) -> torch.Tensor:
        return torch.as_tensor(as_float(value, self.np_dtype.name), dtype=self.torch_dtype)

    def _apply(self, s, args):
        if s.op not in ("add", "sub", "mul", "div", "pow"):
            args = [a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=self.torch_dtype)
                    for a in args]
        try:
            return FORWARD[s.op](*args)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            shapes = _(" and ").join(str(tuple(a.shape)) for a in args)
            raise ExprError(_("cannot compute '{label}' on shapes {shapes}: {error}").format(
                label=s.label, shapes=shapes, error=exc)) from None

    def weights(self, values) -> np.ndarray:
        return as_float(tuple(values), self.np_dtype.name).reshape(-1)

    def _forward(self, params: list) -> list:
        """Every node's value, given the tensor of each used parameter (in self._params order)."""
        values = self._template.copy()
        for (i, *_), p in zip(self._params, params):
            values[i] = p
        for i, fn, args in self._ops:
            values[i] = fn(*[values[a] for a in args])
        return values

    def loss_and_grad(self, w):
        # a copy for torch to share: the caller's array may be read-only or change later
        wt = torch.from_numpy(np.array(w, dtype=self.np_dtype)).requires_grad_()
        params = [wt] if self._whole else \
            [wt[off:off + size].reshape(shape) for _, off, size, shape in self._params]
        out = self._forward(params)[-1]
        if not isinstance(out, torch.Tensor) or not out.requires_grad:   # no weight reaches it
            return np.asarray(out, dtype=self.np_dtype)[()], np.zeros(self.size, self.np_dtype)
        (grad,) = torch.autograd.grad(out, wt)
        return self.np_dtype.type(out.item()), grad.numpy()

    def nodes(self, w) -> list[Node]:
        wt = torch.tensor(np.asarray(w, dtype=self.np_dtype))
        # each parameter is its own leaf here, so that its gradient is torch's, unreshaped
        params = [wt[off:off + size].reshape(shape).detach().requires_grad_()
                  for _, off, size, shape in self._params]
        values = self._forward(params)
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
                grad = v.grad.numpy().copy() if v.grad is not None \
                    else np.zeros(tuple(v.shape), self.np_dtype)
            if not isinstance(v, torch.Tensor):
                v = torch.tensor(v, dtype=self.torch_dtype)
            fn = type(v.grad_fn).__name__ if v.grad_fn is not None else None
            nodes.append(Node(s.id, s.op, s.label, tuple(self.plan[a].id for a in s.args),
                              tuple(v.shape), v.detach().numpy().copy(), grad, fn))
        return nodes
