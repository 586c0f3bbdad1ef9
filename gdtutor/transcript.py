"""What replay and check print: a transcript a person reads (text), a machine reads (jsonl), or
a grader skims (summary), written from a Run (gdtutor.api), and one report per checked file."""
from __future__ import annotations

import gc
import os
from typing import Any, Callable, Iterator, NamedTuple

from .backward_steps import backward_steps, node_names, step_lines
from .api import Checkpoints, Run, json_value, summarize
from .checks import FAILED, SKIPPED, make_stepper, verify
from .cjk import join_soft_breaks, ljust
from .errors import GdtutorError
from .i18n import N_, _, get_lang, set_lang
from .numbers import fmt, fmt_vec

Emit = Callable[[str], None]
FORMATS = ("text", "jsonl", "summary")


def write_transcript(run: Run, fmt_name: str, emit: Emit, lang: str = "en") -> None:
    """Write the run's transcript in one of FORMATS, line by line."""
    writer = {"text": _text, "jsonl": _jsonl, "summary": _summary}[fmt_name]
    for line in writer(run, lang):
        emit(line)


# -- text and summary ---------------------------------------------------------------------


def _f(x, dtype: str) -> str:
    return "nan" if x is None else fmt(x, dtype)


KINDS = {"descent": N_("descent"), "graph": N_("graph")}


def _title(run: Run, lang: str) -> str:
    lesson, h = run.lesson, run.header
    kind = _(KINDS[lesson.kind]) if lesson.kind in KINDS else lesson.kind
    return _("{id}: {title} ({kind}, {backend}, {dtype})").format(
        id=lesson.id, title=join_soft_breaks(lesson.title.get(lang)), kind=kind,
        backend=h["backend"], dtype=h["dtype"])


def _settings_line(run: Run) -> str:
    lesson, dtype = run.lesson, run.header["dtype"]
    alpha, n = fmt(lesson.lr, dtype), run.header["iterations"]
    if lesson.grad_scale != 1:
        return _("α = {alpha}, grad_scale = {scale}, {n} iterations").format(
            alpha=alpha, scale=lesson.grad_scale, n=n)
    return _("α = {alpha}, {n} iterations").format(alpha=alpha, n=n)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _text(run: Run, lang: str) -> Iterator[str]:
    yield _title(run, lang)
    if run.nodes is not None:
        yield from _graph_text(run)
    else:
        dtype = run.header["dtype"]
        fv = lambda v: fmt_vec(v, dtype)  # noqa: E731
        alpha = fmt(run.lesson.lr, dtype)
        yield _settings_line(run)
        yield f"w_0 = {fv(run.initial.weights)}"
        before = run.initial.weights
        for r in run.records:
            k = r.step
            yield ""
            yield _("iteration {k}    L(w_{prev}) = {loss}").format(
                k=k, prev=k - 1, loss=_f(r.loss, dtype))
            yield f"  1. grad = {fv(r.grad)}"
            yield f"  2. α·grad = {alpha} · {_paren(fv(r.grad))} = {fv(r.step_size)}"
            yield (f"  3. w_{k} = w_{k - 1} − α·grad = {fv(before)} − "
                   f"{_paren(fv(r.step_size))} = {fv(r.weights)}")
            before = r.weights
        yield ""
        yield from _final_lines(run)
    yield from _checkpoint_lines(run.checkpoints)


def _final_lines(run: Run) -> Iterator[str]:
    dtype, final = run.header["dtype"], run.final
    n = final.step
    yield _("after {n} iterations: w_{n} = {weights}, L(w_{n}) = {loss}").format(
        n=n, weights=fmt_vec(final.weights, dtype), loss=_f(final.loss, dtype))
    if run.diverged is not None:
        yield _("diverged at step {k}").format(k=run.diverged)


def _graph_text(run: Run) -> Iterator[str]:
    dtype = run.header["dtype"]
    names = node_names(run.nodes, run.lesson.names)
    yield _("forward: the graph is built as each operation runs")
    for n in run.nodes:
        fn = f"   [{n.grad_fn}]" if n.grad_fn else ""
        name = names[n.id]
        label = n.label
        if n.inputs:        # an operation the lesson names: the name, and what it computes
            same = name.replace(" ", "") == n.label.replace(" ", "")
            label = name if same else f"{name} = {n.label}"
        yield f"  {n.id:>4}  {n.op:<7} {label} = {fmt_vec(n.value, dtype)}{fn}"
    yield _("backward: gradients flow from the output back to the inputs")
    for step in backward_steps(run.nodes, run.lesson.names):
        for i, line in enumerate(step_lines(step, run.nodes, names,
                                            lambda v: fmt_vec(v, dtype))):
            yield f"  {step.id if i == 0 else '':>4}  {line}"
    yield from _graph_result(run)


def _graph_result(run: Run) -> Iterator[str]:
    dtype = run.header["dtype"]
    yield f"value = {fmt_vec(run.value, dtype)}"
    for name, grad in run.grads.items():
        yield f"{name}.grad = {fmt_vec(grad, dtype)}"


TAGS = {FAILED: N_("FAIL"), SKIPPED: N_("skip")}
OK_TAG = N_("ok")


def counts_text(c: Checkpoints) -> str:
    return _("{passed} passed, {failed} failed, {skipped} skipped").format(
        passed=c.passed, failed=c.failed, skipped=c.skipped)


def _checkpoint_lines(c: Checkpoints) -> Iterator[str]:
    if not c.results:
        return
    yield _("checkpoints")
    tags = {status: _(tag) for status, tag in TAGS.items()}
    ok = _(OK_TAG)
    for r in c.results:
        tag = ljust(tags.get(r.status, ok), 4)
        yield "  " + _("{tag}  line {line}: {detail}").format(tag=tag, line=r.line,
                                                              detail=r.detail)
    yield _("checkpoints: {counts}").format(counts=counts_text(c))


def _summary(run: Run, lang: str) -> Iterator[str]:
    yield _title(run, lang)
    if run.nodes is not None:
        yield from _graph_result(run)
    else:
        yield _settings_line(run)
        yield from _final_lines(run)
    yield from _checkpoint_lines(run.checkpoints)


# -- jsonl --------------------------------------------------------------------------------


def _dumps(obj) -> str:
    import json
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def _num(x):
    """A loss or value: one that could not be computed (an exact division by zero) is "nan"."""
    return "nan" if x is None else json_value(x)


def counts_json(c: Checkpoints) -> dict[str, int]:
    return {"passed": c.passed, "failed": c.failed, "skipped": c.skipped}


def failures_json(c: Checkpoints) -> list[dict[str, Any]]:
    """Each failed value; a value the run could not compute (an exact division by zero) is
    "nan", as everywhere in the transcript, while a step is null where there is none."""
    return [{"line": f.line, "step": f.step, "field": f.field,
             "expected": json_value(f.expected),
             "got": json_value(f.got) if f.field in ("diverged", "step") else _num(f.got)}
            for f in c.failures]


def jsonl_objects(run: Run) -> Iterator[dict[str, Any]]:
    """The objects of the jsonl transcript, one a line (SPEC section 4)."""
    yield run.header
    if run.nodes is not None:
        names = node_names(run.nodes, run.lesson.names)
        yield {
            "value": _num(run.value),
            "grads": {name: _num(g) for name, g in run.grads.items()},
            "nodes": [{"id": n.id, "name": names[n.id], "op": n.op, "label": n.label,
                       "inputs": list(n.inputs),
                       "shape": list(n.shape), "value": _num(n.value),
                       "grad": json_value(n.grad), "grad_fn": n.grad_fn} for n in run.nodes],
        }
        final = None
    else:
        yield {"step": 0, "weights": json_value(run.initial.weights),
               "loss": _num(run.initial.loss)}
        for r in run.records:
            yield {"step": r.step, "loss": _num(r.loss), "grad": json_value(r.grad),
                   "step_size": json_value(r.step_size), "weights": json_value(r.weights)}
        final = {"step": run.final.step, "weights": json_value(run.final.weights),
                 "loss": _num(run.final.loss)}
    c = run.checkpoints
    yield {"checkpoints": counts_json(c), "diverged": run.diverged, "final": final,
           "failed": failures_json(c)}


def _jsonl(run: Run, lang: str) -> Iterator[str]:
    for obj in jsonl_objects(run):
        yield _dumps(obj)


# -- check --------------------------------------------------------------------------------


class CheckReport(NamedTuple):
    """One file checked: its exit status (0, 1 or 2), its `--format json` object, its text
    lines for stdout, and its one-line error for stderr (bad input only)."""

    status: int
    obj: dict[str, Any]
    lines: tuple[str, ...]
    error: str | None


def check_one(arg: str, options: dict[str, Any]) -> CheckReport:
    """Load one lesson (a path or a built-in id) with the command's overrides (backend, dtype,
    lr, steps) and verify its checkpoints."""
    from .catalog import resolve, with_overrides
    obj: dict[str, Any] = {"file": arg, "id": None, "ok": False, "checkpoints": None,
                           "failed": [], "error": None}
    try:
        lesson = with_overrides(resolve(arg), **options)
        obj["id"] = lesson.id
        stepper = make_stepper(lesson, "--backend" if options.get("backend") else None)
        c = summarize(verify(stepper), lesson.dtype)
    except GdtutorError as exc:
        obj["error"] = {"message": exc.message, "file": exc.file, "line": exc.line,
                        "field": exc.field}
        return CheckReport(2, obj, (), str(exc))
    obj.update(ok=c.failed == 0, checkpoints=counts_json(c), failed=failures_json(c))
    if c.failed == 0:
        return CheckReport(0, obj, (f"OK {lesson.id}",), None)
    lines = tuple(_("FAIL {id}: {file}:{line}: {detail}").format(
        id=lesson.id, file=lesson.label, line=r.line, detail=r.detail)
        for r in c.results if r.status == FAILED)
    return CheckReport(1, obj, lines, None)


def _check_chunk(args: tuple[str, ...], options: dict[str, Any],
                 lang: str | None = None) -> list[CheckReport]:
    """check_one for a few files, with the cyclic collector paused: parsing makes many small
    objects and no lasting cycles, and the pause saves a sixth of the time. A worker process
    speaks the language it is given."""
    if lang is not None:
        set_lang(lang)
    paused = gc.isenabled()
    gc.disable()
    try:
        return [check_one(arg, options) for arg in args]
    finally:
        if paused:
            gc.enable()


PARALLEL_FROM = 32      # files; fewer are checked in this process, one after another


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


def check_many(args: list[str], options: dict[str, Any]) -> Iterator[CheckReport]:
    """check_one for each argument, in argument order; many files are shared out among
    worker processes, one per core."""
    workers = min(_cores(), len(args) // PARALLEL_FROM)
    if workers < 2:
        for i in range(0, len(args), 16):
            yield from _check_chunk(tuple(args[i:i + 16]), options)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    # forked workers start with everything this process has imported; elsewhere, the default
    context = (multiprocessing.get_context("fork")
               if "fork" in multiprocessing.get_all_start_methods() else None)
    size = max(1, min(64, len(args) // (workers * 8)))
    chunks = [tuple(args[i:i + size]) for i in range(0, len(args), size)]
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        for reports in pool.map(_check_chunk, chunks, [options] * len(chunks),
                                [get_lang()] * len(chunks)):
            yield from reports
    finally:        # a reader gone early (`| head`) leaves no chunk to be checked for nothing
        pool.shutdown(cancel_futures=True)
