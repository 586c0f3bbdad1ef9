"""A grader's check over a class: `gdtutor check --format json` on 2,000 small student files.

    python benchmarks/check_many.py              2,000 files, median of 3 runs
    python benchmarks/check_many.py --files 200 --runs 1

Writes the files into a temporary folder (kinds, arithmetics and sizes vary: linear and free
descent lessons in exact, float64 and float32, graph lessons; some with a wrong checkpoint,
some not valid at all), times `python -m gdtutor check --format json FILE...` on them in a
process of its own (this checkout on PYTHONPATH), checks that it printed one right object per
file in argument order, and prints the median time against the target.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 10.0


def lesson(i: int) -> tuple[str, str]:
    """The i-th student file and what check should say of it: ok, fail or bad."""
    kind = i % 5
    c = 1 + i % 7                       # the answer the descent walks to
    steps = 5 + i % 40
    wrong = i % 23 == 0                 # a checkpoint that does not hold
    bad = i % 97 == 0                   # a file that does not load
    verdict = "bad" if bad else ("fail" if wrong else "ok")
    head = f"id: student-{i}\ntitle: Student {i}\n"
    if bad:
        return head + "kind: descent\nobjective: (w - 3)**2\nparams: {w: 0}\nlr: 0.1\n", verdict
    if kind == 0:     # (w - c)², α = 1/4: w_k = c(1 − 2^-k)
        w2 = c * (1 - Fraction(1, 4)) + (1 if wrong else 0)
        return head + (f"kind: descent\ndtype: exact\nobjective: (w - {c})**2\nparams: {{w: 0}}\n"
                       f"lr: \"1/4\"\niterations: {steps}\ncheckpoints:\n"
                       f"  - {{step: 2, weights: [\"{w2}\"]}}\n"), verdict
    if kind == 1:     # y = c·x through (1, c), (2, 2c): SSE / 2m, float64, to w = c
        w = c + (1 if wrong else 0)
        return head + (f"kind: descent\ndata: {{X: [1, 2], y: [{c}, {2 * c}]}}\nloss: half_mse\n"
                       f"lr: 0.3\niterations: {100 + steps}\ncheckpoints:\n"
                       f"  - {{step: {100 + steps}, weights: [{w}], tol: 1e-3}}\n"), verdict
    if kind == 2:     # the same with a bias, float32; at w_0 = 0 the loss is Σy² / 2m
        ys = [c + 1, 2 * c + 1, 3 * c + 1]
        loss0 = Fraction(sum(y * y for y in ys), 6) + (1 if wrong else 0)
        return head + (f"kind: descent\ndtype: float32\nbias: true\n"
                       f"data: {{X: [[1], [2], [3]], y: {ys}}}\nloss: half_mse\nlr: 0.1\n"
                       f"iterations: {steps}\ncheckpoints:\n"
                       f"  - {{step: 0, weights: [0, 0], loss: \"{loss0}\", tol: 1e-4}}\n"), verdict
    if kind == 3:     # x·y + x², at (c, 2): value c·2 + c², grads (2 + 2c, c)
        return head + (f"kind: graph\nexpression: x * y + x**2\ninputs: {{x: {c}, y: 2}}\n"
                       f"checkpoints:\n  - value: {2 * c + c * c + (1 if wrong else 0)}\n"
                       f"    grads: {{x: {2 + 2 * c}, y: {c}}}\n"), verdict
    # two parameters, exact: (a - c)² + (b + 1)², α = 1/2 lands on (c, -1) in one step
    return head + (f"kind: descent\ndtype: exact\nobjective: (a - {c})**2 + (b + 1)**2\n"
                   f"params: {{a: 0, b: 0}}\nlr: \"1/2\"\niterations: {steps}\ncheckpoints:\n"
                   f"  - {{step: 1, weights: [{c + (1 if wrong else 0)}, -1], loss: 0}}\n"), verdict


def write_class(folder: Path, n: int) -> tuple[list[str], list[str]]:
    files, verdicts = [], []
    for i in range(n):
        text, verdict = lesson(i)
        path = folder / f"student-{i:04d}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
        verdicts.append(verdict)
    return files, verdicts


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def check_once(files: list[str], verdicts: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers) for one check of all files."""
    env = dict(os.environ, PYTHONPATH=str(REPO), LANG="C.UTF-8")
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gdtutor", "check", "--format", "json", *files],
                          capture_output=True, text=True, env=env, cwd=REPO)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    objs = [json.loads(line) for line in done.stdout.splitlines()]
    got = ["bad" if o["error"] else ("ok" if o["ok"] else "fail") for o in objs]
    if [o["file"] for o in objs] != files or got != verdicts:
        wrong = next((f, g, v) for f, g, v in zip(files, got, verdicts) if g != v)
        raise SystemExit(f"check printed the wrong objects, e.g. {wrong}\n{done.stderr[:2000]}")
    expected_status = 2 if "bad" in verdicts else (1 if "fail" in verdicts else 0)
    if done.returncode != expected_status:
        raise SystemExit(f"exit status {done.returncode}, expected {expected_status}")
    return elapsed, cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="gdtutor-class-") as tmp:
        files, verdicts = write_class(Path(tmp), args.files)
        runs = [check_once(files, verdicts) for _ in range(args.runs)]
    times, cpus = [r[0] for r in runs], [r[1] for r in runs]
    median, cpu = statistics.median(times), statistics.median(cpus)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"check --format json, {args.files} files ({verdicts.count('ok')} ok, "
          f"{verdicts.count('fail')} failing, {verdicts.count('bad')} bad), {cores} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  wall: {', '.join(f'{t:.2f} s' for t in times)}")
    print(f"  CPU (all processes): {', '.join(f'{t:.2f} s' for t in cpus)}; "
          f"{1000 * cpu / args.files:.1f} ms a file; on {cores} idle cores ≈ {cpu / cores:.2f} s")
    print(f"  median {median:.2f} s; target < {TARGET_S:.0f} s: {'met' if median < TARGET_S else 'NOT met'}")


if __name__ == "__main__":
    main()
