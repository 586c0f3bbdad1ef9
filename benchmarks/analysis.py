"""The analysis panels' speed: stability and gradient check for every built-in descent lesson
(target: within 50 ms each), and an α sweep of 6 runs × 10,000 iterations (target: 0.5 s);
then the same through the app at 80×24 (Textual's Pilot): key to the panel drawn.

    python benchmarks/analysis.py [--rounds N]

Prints medians over N rounds (default 5) with their target and pass/miss. Not a test: no test
asserts a time."""
from __future__ import annotations

import argparse
import asyncio
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


async def through_the_app(rounds: int) -> list:
    """Key to drawn, in the app at 80×24 (Textual's Pilot, no terminal): e, c and s on every
    built-in descent lesson; s until its six curves are drawn (computed in a thread). A step
    (n) is timed the same way: what Pilot's press and pause cost on their own."""
    SHOWN = {"e": "#stability-body", "c": "#gradcheck-notes"}
    from gdtutor.stepper import Stepper
    from gdtutor.tui.app import GdtutorApp
    from gdtutor.tui.sweep import RunPlot

    rows = []
    for lesson in builtin():
        if lesson.kind != "descent":
            continue
        for key, target in (("n", None), ("e", PANEL_TARGET), ("c", PANEL_TARGET),
                            ("s", SWEEP_TARGET)):
            times = []
            for _ in range(rounds):
                app = GdtutorApp(builtin(), Stepper(lesson))
                async with app.run_test(size=(80, 24)) as pilot:
                    await pilot.pause()
                    t = time.perf_counter()
                    await pilot.press(key)
                    await pilot.pause()
                    if key == "s":
                        while not (app.screen.runs is not None
                                   and len(app.screen.query(RunPlot)) == len(app.screen.runs)):
                            await pilot.pause(0.005)
                        await pilot.pause()
                    if key in SHOWN:                 # the panel is up (drawn by the pauses)
                        app.screen.query_one(SHOWN[key])
                    times.append(time.perf_counter() - t)
            what = {"n": "step n (Pilot's own cost)", "e": "open e", "c": "open c",
                    "s": "s drawn"}[key]
            rows.append((f"app: {what} {lesson.id} ({lesson.iterations} it.)",
                         statistics.median(times), target))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-app", action="store_true", help="skip the figures measured in the app")
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
    if not args.no_app:
        rows += asyncio.run(through_the_app(args.rounds))
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'median':>10}  {'target':>8}  result")
    for label, t, target in rows:
        if target is None:
            print(f"{label:<{width}}  {t * 1000:>8.1f}ms  {'—':>8}  reference")
            continue
        print(f"{label:<{width}}  {t * 1000:>8.1f}ms  {target * 1000:>6.0f}ms  "
              f"{'pass' if t <= target else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
