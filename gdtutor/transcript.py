"""Replay as text: a transcript a person reads (text), a machine reads (jsonl), or a grader skims (summary)."""
from __future__ import annotations

import json
from typing import Callable, Iterator

import numpy as np

from .checks import Result, verify
from .numbers import to_json, to_json_vec
from .stepper import Stepper

Emit = Callable[[str], None]


def replay(stepper: Stepper, fmt: str, emit: Emit, lang: str = "en") -> int:
    """Run the lesson, write its transcript line by line, and return the failed-checkpoint count."""
    lesson = stepper.lesson
    if lesson.kind == "descent":
        stepper.run()
    results = verify(stepper)
    writer = {"text": _text, "jsonl": _jsonl, "summary": _summary}[fmt]
    for line in writer(stepper, results, lang):
        emit(line)
    return sum(not r.passed for r in results)


def _header(stepper: Stepper, lang: str) -> str:
    lesson = stepper.lesson
    return (f"{lesson.id}: {lesson.title.get(lang)} "
            f"({lesson.kind}, {stepper.backend_name}, {stepper.dtype})")


def _checkpoint_lines(results: list[Result]) -> Iterator[str]:
    if not results:
        return
    yield "checkpoints"
    for r in results:
        yield f"  {'ok  ' if r.passed else 'FAIL'}  line {r.checkpoint.line}: {r.detail}"
    failed = sum(not r.passed for r in results)
    yield f"checkpoints: {len(results) - failed} passed, {failed} failed"


def _settings_line(stepper: Stepper) -> str:
    lesson = stepper.lesson
    scale = f", grad_scale = {lesson.grad_scale}" if lesson.grad_scale != 1 else ""
    return f"α = {stepper.fmt(lesson.lr)}{scale}, {stepper.iterations} iterations"


def _text(stepper: Stepper, results: list[Result], lang: str) -> Iterator[str]:
    yield _header(stepper, lang)
    if stepper.lesson.kind == "graph":
        yield from _graph_text(stepper)
    else:
        yield _settings_line(stepper)
        fv = stepper.fmt_vec
        yield f"w_0 = {fv(stepper.weights_at(0))}"
        for k in range(1, stepper.computed + 1):
            r = stepper.record(k)
            yield ""
            yield f"iteration {k}    L(w_{k - 1}) = {stepper.fmt(r.loss)}"
            yield f"  1. grad = {fv(r.grad)}"
            yield f"  2. α·grad = {stepper.fmt(r.lr)} · {_paren(fv(r.grad))} = {fv(r.step_size)}"
            yield (f"  3. w_{k} = w_{k - 1} − α·grad = {fv(r.weights_before)} − "
                   f"{_paren(fv(r.step_size))} = {fv(r.weights)}")
        yield ""
        yield from _final_lines(stepper)
    yield from _checkpoint_lines(results)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _final_lines(stepper: Stepper) -> Iterator[str]:
    n = stepper.computed
    yield f"after {n} iterations: w_{n} = {stepper.fmt_vec(stepper.weights_at(n))}, " \
          f"L(w_{n}) = {stepper.fmt(stepper.loss_at(n))}"
    if stepper.diverged_at is not None:
        yield f"diverged at step {stepper.diverged_at}"


def _graph_text(stepper: Stepper) -> Iterator[str]:
    nodes = stepper.nodes(0)
    fv = stepper.fmt_vec
    yield "forward: the graph is built as each operation runs"
    for n in nodes:
        fn = f"   [{n.grad_fn}]" if n.grad_fn else ""
        yield f"  {n.id:>4}  {n.op:<7} {n.label} = {fv(n.value)}{fn}"
    yield "backward: gradients flow from the output back to the inputs"
    for n in reversed(nodes):
        if n.grad is not None:
            yield f"  {n.id:>4}  ∂out/∂({n.label}) = {fv(n.grad)}"
    yield f"value = {fv(nodes[-1].value)}"
    for n in nodes:
        if n.op == "param":
            yield f"{n.id}.grad = {fv(n.grad)}"


def _summary(stepper: Stepper, results: list[Result], lang: str) -> Iterator[str]:
    yield _header(stepper, lang)
    if stepper.lesson.kind == "graph":
        nodes = stepper.nodes(0)
        yield f"value = {stepper.fmt_vec(nodes[-1].value)}"
        for n in nodes:
            if n.op == "param":
                yield f"{n.id}.grad = {stepper.fmt_vec(n.grad)}"
    else:
        yield _settings_line(stepper)
        yield from _final_lines(stepper)
    yield from _checkpoint_lines(results)


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def _value(value, dtype: str):
    arr = np.asarray(value)
    return to_json(arr[()], dtype) if arr.ndim == 0 else to_json_vec(arr, dtype)


def _jsonl(stepper: Stepper, results: list[Result], lang: str) -> Iterator[str]:
    lesson, dtype = stepper.lesson, stepper.dtype
    yield _json({"lesson": lesson.id, "kind": lesson.kind, "backend": stepper.backend_name,
                 "dtype": dtype})
    if lesson.kind == "graph":
        nodes = stepper.nodes(0)
        yield _json({
            "value": _value(nodes[-1].value, dtype),
            "grads": {n.id: _value(n.grad, dtype) for n in nodes if n.op == "param"},
            "nodes": [{"id": n.id, "op": n.op, "label": n.label, "inputs": list(n.inputs),
                       "shape": list(n.shape), "value": _value(n.value, dtype),
                       "grad": None if n.grad is None else _value(n.grad, dtype),
                       "grad_fn": n.grad_fn} for n in nodes],
        })
    else:
        for k in range(1, stepper.computed + 1):
            r = stepper.record(k)
            yield _json({"step": k, "loss": to_json(r.loss, dtype),
                         "grad": to_json_vec(r.grad, dtype),
                         "step_size": to_json_vec(r.step_size, dtype),
                         "weights": to_json_vec(r.weights, dtype)})
    failed = sum(not r.passed for r in results)
    yield _json({"checkpoints": {"passed": len(results) - failed, "failed": failed},
                 "diverged": stepper.diverged_at})
