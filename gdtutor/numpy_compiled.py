"""The numpy backend's float path for stepping: the same plan and the same arithmetic as the
readable engine, with everything that does not change from step to step computed once."""
from __future__ import annotations

from functools import partial

import numpy as np

from .backend import initial_weights
from .numpy_ops import ELEMENTWISE, FAST_FORWARD, FORWARD, unbroadcast


class CompiledPlan:
    """loss_and_grad(w) of a float NumpyBackend, for stepping.

    Shapes were checked when the lesson was probed, so the ops run unchecked; folded into
    constants is every share of gradient that is the same at every step (see __init__). The
    numbers are the readable engine's, bit for bit (tests/test_numpy_compiled.py).
    """

    def __init__(self, backend) -> None:
        self.backend = backend
        plan, fixed, dtype = backend.plan, backend.fixed, backend.np_dtype
        self.plan, self.fixed = plan, fixed
        with np.errstate(all="ignore"):
            shapes = [np.shape(v) for v in backend._forward(
                backend.weights(initial_weights(backend.lesson)))]
        self.forward_ops = [self._fast_forward(i) for i in backend.order]
        # Fold into constants every share of gradient that does not change from step to step:
        # the output's gradient is 1, and a share is fixed when the gradient it comes from is
        # fixed and the op reads nothing that varies (a sum passes 1 to every element, a
        # division by 2m passes 1/2m). Only what varies is left for the hot path.
        static: list = [None] * len(plan)
        varies = [False] * len(plan)
        if plan[-1].needs_grad:
            static[-1] = np.ones(shapes[-1], dtype=dtype)
        hot = []
        for i, k, a, fn, sources, shaped in backend._bwd_ops:
            if shaped:
                fn = partial(fn, a_shape=shapes[plan[i].args[0]])
            if not varies[i] and not any(plan[j].needs_grad for j in sources):
                with np.errstate(all="ignore"):
                    ga = fn(static[i], *[fixed[j] for j in sources])
                ga = unbroadcast(np.asarray(ga, dtype=dtype), shapes[a])
                static[a] = ga if static[a] is None else static[a] + ga
                continue
            varies[a] = True
            again = plan[i].op in ELEMENTWISE and shapes[i] != shapes[a]
            hot.append((i, a, self._fast_backward(i, k, fn, sources, shapes, static, varies[i]),
                        shapes[a] if again else None))
        self.static_grads = static
        self.backward_ops = hot
        # fixed 0-d operands as numpy scalars, so that scalar arithmetic stays scalar
        template = backend._template
        last = len(template) - 1
        self.template = [v[()] if isinstance(v, np.ndarray) and v.ndim == 0 and i < last
                         else v for i, v in enumerate(template)]
        self.param_slots = backend._param_slots
        self.whole = backend._whole

    def _fast_forward(self, i: int):
        """(node, fn, first argument, second argument or -1) for the hot path."""
        s = self.plan[i]
        a0, a1 = (s.args + (-1,))[:2]
        fn = FAST_FORWARD.get(s.op, FORWARD[s.op])
        if s.op == "pow" and a1 in self.fixed and np.ndim(self.fixed[a1]) == 0:
            e = self.fixed[a1][()]
            fn, a1 = (np.square if e == 2 else (lambda a: a ** e)), -1
        return i, fn, a0, a1

    def _fast_backward(self, i, k, fn, sources, shapes, static, g_varies):
        """fn(g, values) -> node i's share of gradient for its k-th argument."""
        args = self.plan[i].args
        op = self.plan[i].op
        fixed = self.fixed
        if op == "pow" and k == 0 and args[1] in fixed and np.ndim(fixed[args[1]]) == 0 \
                and fixed[args[1]] != 0:
            # the readable engine's g · e · a for a square, g · (e · a^(e-1)) otherwise
            e, a0 = fixed[args[1]][()], args[0]
            if e == 2:
                if not g_varies:   # a fixed gradient times the fixed exponent: one constant
                    coef = static[i] * e
                    return lambda g, v: coef * v[a0]
                return lambda g, v: g * e * v[a0]
            if not g_varies:
                fixed_g = static[i]
                return lambda g, v: fixed_g * (e * v[a0] ** (e - 1))
            return lambda g, v: g * (e * v[a0] ** (e - 1))
        if op == "matmul" and k == 1 and args[0] in fixed and fixed[args[0]].ndim == 2 \
                and len(shapes[args[1]]) == 1:
            xt = np.ascontiguousarray(fixed[args[0]].T)
            return lambda g, v: xt @ g
        if op in ("add", "sub") and k == 0:
            return lambda g, v: g
        return lambda g, v: fn(g, *[v[j] for j in sources])

    def loss_and_grad(self, w):
        values = self.template.copy()
        for i, off, size, shape in self.param_slots:
            if i >= 0:
                values[i] = w if self.whole else w[off:off + size].reshape(shape)
        for i, fn, a0, a1 in self.forward_ops:
            values[i] = fn(values[a0]) if a1 < 0 else fn(values[a0], values[a1])
        grads = self.static_grads.copy()
        for i, a, f, shape in self.backward_ops:
            ga = f(grads[i], values)
            if shape is not None:
                ga = unbroadcast(ga, shape)
            grads[a] = ga if grads[a] is None else grads[a] + ga
        if self.whole and grads[self.param_slots[0][0]] is not None:
            return values[-1], grads[self.param_slots[0][0]]
        return values[-1], self.backend._flat_grad(grads)
