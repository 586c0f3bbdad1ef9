"""The same plan evaluated with torch tensors; torch's autograd computes every gradient."""
from __future__ import annotations

import numpy as np
import torch

from .backend import ARITHMETIC, Backend, Node
from .errors import ExprError
from .model import Lesson
from .numbers import as_float, to_float


def _engine_grad():
    """grad(out, leaf, seed) = ∂out/∂leaf, by torch's autograd engine, called as
    torch.autograd.grad calls it.

    For a graph of a few small tensors, torch.autograd.grad spends more time normalising and
    checking its arguments than the engine spends on the backward pass. Stepping always asks
    the same question (one scalar output, one leaf, a seed of 1), so that is checked once,
    here, and the engine is called directly; where the entry point is missing or answers
    wrongly, torch.autograd.grad is used.
    """
    def checked(out, leaf, seed):
        return torch.autograd.grad(out, leaf, seed, allow_unused=True)[0]

    try:
        from torch.autograd.variable import Variable
        run_backward = Variable._execution_engine.run_backward

        def direct(out, leaf, seed):
            return run_backward((out,), (seed,), False, False, (leaf,), True, False)[0]

        leaf = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
        g = direct((leaf * leaf).sum(), leaf, torch.ones((), dtype=torch.float64))
        if torch.equal(g, torch.tensor([3.0, -4.0], dtype=torch.float64)):
            return direct
    except (ImportError, AttributeError, TypeError, RuntimeError):
        pass
    return checked


_grad = _engine_grad()
_is_grad_enabled = torch.is_grad_enabled
_set_grad_enabled = torch._C._set_grad_enabled


class _Chain:
    """∂out/∂leaf by calling the backward nodes of the graph torch's autograd recorded, one
    after the other, where that graph is a chain.

    A chain is a graph in which every backward node sends its gradient along exactly one edge,
    and the last edge ends at the leaf's AccumulateGrad. There the engine has nothing to
    schedule and nothing to add up: it would call the same nodes in the same order, each on
    its one input, with grad mode off, and hand the leaf's input back. What the engine costs
    on top of the nodes (a graph task, a dependency count, a ready queue, the thread-local
    state put in place around every node, a check of every output) is, for the few small
    tensors of a lesson, more than the nodes cost themselves.

    The engine also checks each gradient against the shape and dtype its next node expects,
    reducing a broadcast gradient (`sum_to`) or casting it. `probe` walks the first step's graph
    with that check and keeps the chain only if the check lets every gradient through unchanged
    and the walk's gradient equals the engine's bit for bit; it records each node's type, the
    edge taken and the gradient's shape. Every later walk compares each node and gradient with
    that record; at the first difference, the engine takes the whole backward pass of that
    step (the nodes called so far have freed nothing). The nodes compute every number; the
    walk only hands each gradient on to the next node.
    """

    def __init__(self, links) -> None:
        self.links = links      # (node type, edge index or -1, the other edges, grad shape)

    @classmethod
    def probe(cls, out, leaf, seed):
        """(the chain of out's graph or None where the engine is needed, the engine's gradient)."""
        links = [] if not torch.is_anomaly_enabled() else None
        fn, g = out.grad_fn, seed
        grad_mode = _is_grad_enabled()
        _set_grad_enabled(False)
        try:
            while links is not None and fn is not None and fn.next_functions:
                edges = fn.next_functions
                live = [j for j, (f, _) in enumerate(edges) if f is not None]
                if len(live) != 1 or edges[live[0]][1] != 0 or len(fn._input_metadata) != 1:
                    links = None
                    break
                j = live[0] if len(edges) > 1 else -1
                res = fn(g)
                g = res if j < 0 else res[j] if isinstance(res, tuple) else None
                nxt = edges[max(j, 0)][0]
                meta = nxt._input_metadata[0]
                if (not isinstance(g, torch.Tensor) or list(g.shape) != list(meta.shape)
                        or g.dtype != meta.dtype or g.device != meta.device or g.is_sparse
                        or meta.is_nested_tensor):
                    links = None
                    break
                others = tuple(i for i in range(len(edges)) if i != max(j, 0))
                links.append((type(fn), j, others, g.shape))
                fn = nxt
        finally:
            _set_grad_enabled(grad_mode)
        chain = None
        if links and getattr(fn, "variable", None) is leaf and not fn.next_functions:
            chain = cls(tuple(links))
            walked = chain(out, leaf, seed)      # before the engine, which frees the graph
        engine = _grad(out, leaf, seed)
        if chain is not None and (walked is None or engine is None or not torch.allclose(
                walked, engine, rtol=0, atol=0, equal_nan=True)):
            chain = None
        return chain, engine

    def __call__(self, out, leaf, seed):
        """The gradient, or None where this graph is not the recorded chain."""
        fn, g = out.grad_fn, seed
        grad_mode = _is_grad_enabled()
        _set_grad_enabled(False)
        try:
            for kind, j, others, shape in self.links:
                if type(fn) is not kind:
                    return None
                edges = fn.next_functions
                if j < 0:
                    g = fn(g)
                    fn, nr = edges[0]
                else:
                    for i in others:
                        if edges[i][0] is not None:
                            return None
                    g = fn(g)[j]
                    fn, nr = edges[j]
                if nr or g is None or g.shape != shape:
                    return None
        finally:
            _set_grad_enabled(grad_mode)
        if fn is None or fn.next_functions or getattr(fn, "variable", None) is not leaf:
            return None
        return g


FORWARD = {
    **ARITHMETIC,
    "sum": torch.sum, "mean": torch.mean,
    "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
    "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}
DTYPES = {"float32": torch.float32, "float64": torch.float64}

# The hot path calls torch's functions where the first operand is a tensor: the same ops
# (a - b is torch.sub(a, b), a ** b is torch.pow(a, b)) without a Python frame for each
# lambda or for Tensor.__pow__'s wrapper. A plain number first (2 - x) keeps the operator.
FAST_FORWARD = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
                "pow": torch.pow, "matmul": torch.matmul, "neg": torch.neg, "sum": torch.sum,
                "mean": torch.mean}


class TorchBackend(Backend):
    """Forward in plan order with torch ops; backward by torch.autograd."""

    name = "torch"
    walk_chains = True      # False: the autograd engine takes every backward pass (see _Chain)

    def __init__(self, lesson: Lesson, dtype: str) -> None:
        if dtype not in DTYPES:
            raise ExprError("exact arithmetic runs on the numpy backend only")
        self.torch_dtype = DTYPES[dtype]
        self.np_dtype = np.dtype(dtype)
        # a literal stays a plain number, as in the document's `x ** 2` (torch: PowBackward0);
        # one too large for torch's integers goes through float (past its range: ±inf)
        super().__init__(lesson, dtype, self._tensor,
                         lambda v: int(v) if v.denominator == 1 and abs(v) < 2 ** 53
                         else to_float(v))
        self._fwd_ops = [(i, FORWARD[self.plan[i].op], self.plan[i].args) for i in self.order]
        self._hot = None
        self._chain: list = []

    def _tensor(self, value) -> torch.Tensor:
        return torch.as_tensor(as_float(value, self.np_dtype.name), dtype=self.torch_dtype)

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
        return as_float(tuple(values), self.np_dtype.name).reshape(-1)

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

    # -- the stepping path ----------------------------------------------------------------

    def hot(self):
        """loss_and_grad for stepping: the same torch ops and the same autograd, with the
        per-step work that does not depend on w done once, here."""
        if self._hot is None:
            self._hot = self._compile()
        return self._hot

    def _compile(self):
        fwd = []
        for i, fn, args in self._fwd_ops:
            first = args[0]
            tensor_first = self.plan[first].needs_grad or isinstance(self.fixed.get(first),
                                                                      torch.Tensor)
            fast = FAST_FORWARD.get(self.plan[i].op, fn) if tensor_first else fn
            fwd.append((i, fast, args[0], args[1] if len(args) > 1 else -1))
        template = self._template
        np_dtype = self.np_dtype
        from_numpy = torch.from_numpy
        zeros = np.zeros
        size = sum(s for *_, s in self.layout)
        slots = [(i, off, n, shape) for i, off, n, shape in self._param_slots if i >= 0]
        whole = [i for i, off, n, shape in slots if off == 0 and n == size and shape == (size,)]
        engine = _grad
        # [the _Chain of this plan's graph, or None: the engine takes every backward pass],
        # once the first step has probed the graph
        chain = self._chain = [] if self.walk_chains else [None]

        def grad(out, leaf, seed):
            if chain:
                if chain[0] is not None:
                    g = chain[0](out, leaf, seed)
                    if g is not None:
                        return g
                return engine(out, leaf, seed)
            found, g = _Chain.probe(out, leaf, seed)
            chain.append(found)
            return g

        one = torch.ones((), dtype=self.torch_dtype)
        # A loss that ends in a division by a constant (SSE / 2m): the division's backward
        # would only turn the seed 1 into 1 / 2m, so the seed is 1 / 2m, computed by the same
        # op (torch.div), and autograd starts at the dividend. The same numbers, one node less.
        last = fwd[-1] if fwd and fwd[-1][0] == len(self.plan) - 1 else None
        divisor = self.fixed.get(last[3]) if last and self.plan[last[0]].op == "div" else None
        if divisor is not None and not self.plan[last[2]].needs_grad:
            divisor = None
        if divisor is not None and (not isinstance(divisor, torch.Tensor) or divisor.dim() == 0):
            fwd, (_, divide, head, _) = fwd[:-1], last
            scaled_seed = torch.div(one, divisor)
        else:
            divide = head = scaled_seed = None

        def hot(w):
            if w.dtype != np_dtype:
                w = w.astype(np_dtype)
            wt = from_numpy(w).requires_grad_()     # shares w's memory: no copy
            values = template.copy()
            if whole:
                values[whole[0]] = wt
            else:
                for i, off, n, shape in slots:
                    values[i] = wt[off:off + n].reshape(shape)
            for i, fn, a0, a1 in fwd:
                values[i] = fn(values[a0]) if a1 < 0 else fn(values[a0], values[a1])
            if divide is not None:
                top = values[head]
                if isinstance(top, torch.Tensor) and top.requires_grad and top.dim() == 0:
                    loss = divide(top.detach(), divisor).item()
                    g = grad(top, wt, scaled_seed)
                    return loss, (zeros(size, np_dtype) if g is None else g.numpy())
                values[-1] = divide(top, divisor)
            out = values[-1]
            if not isinstance(out, torch.Tensor) or not out.requires_grad:
                return np.asarray(out, dtype=np_dtype)[()], zeros(size, np_dtype)
            g = grad(out, wt, one)
            return out.item(), (zeros(size, np_dtype) if g is None else g.numpy())

        return hot

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
