"""The analysis panels' speed: stability and gradient check for every built-in descent lesson
(target: within 50 ms each), and an α sweep of 6 runs × 10,000 iterations (target: 0.5 s).

    python benchmarks/analysis.py [--rounds N]

Prints medians over N rounds (default 5) with their target and pass/miss. Not a test: no test
asserts a time."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gdtutor.analysis import gradient_check, stability, sweep  # noqa: E402
from gdtutor.catalog import builtin, with_overrides  # noqa: E402

PANEL_TARGET = 0.050
SWEEP_TARGET = 0.5


def median_time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for lesson in builtin():
        if lesson.kind != "descent":
            continue
        t = median_time(lambda: (stability(lesson), gradient_check(lesson)), args.rounds)
        rows.append((f"panel {lesson.id}", t, PANEL_TARGET))
    for name in ("grad-descent", "matrix-form"):
        lesson = next(item for item in builtin() if item.id == name)
        for dtype in ("float32", "float64"):
            variant = with_overrides(lesson, dtype=dtype)
            t = median_time(lambda: sweep(variant, steps=10000), max(1, args.rounds // 2 + 1))
            rows.append((f"sweep 6×10000 {name} {dtype}", t, SWEEP_TARGET))
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'median':>10}  {'target':>8}  result")
    for label, t, target in rows:
        print(f"{label:<{width}}  {t * 1000:>8.1f}ms  {target * 1000:>6.0f}ms  "
              f"{'pass' if t <= target else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
