"""The α lab's panels in a real terminal: from the key (e, c) to the last byte of the panel's
frame, in an 80×24 pty, median of 7 on each lesson; target 50 ms (issue 16).

    python benchmarks/panels.py
"""
from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from terminal import Terminal  # noqa: E402

TARGET_MS = 50.0
QUIET = 0.1          # no output for this long: the frame is painted (not counted)
CASES = (("worked-example", "e", "α_max"), ("grad-descent", "e", "α_max"),
         ("worked-example", "c", "finite"), ("grad-descent", "c", "finite"))


def main() -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "GDTUTOR"))}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", PYTHONPATH=str(HERE.parent))
    ok = True
    print(f"key to panel painted, 80×24, median of 7 (load average {os.getloadavg()[0]:.1f})")
    for lesson, key, marker in CASES:
        term = Terminal([sys.executable, "-m", "gdtutor", lesson], 80, 24, env=env,
                        cwd=str(HERE.parent))
        try:
            term.wait_for("k = 0 of", 60)
            term.settle(0.3, 10)
            times = []
            for _ in range(7):
                seconds, _ = term.response(key, QUIET, timeout=10, marker=marker)
                times.append(seconds * 1000)
                term.response("\x1b", QUIET, timeout=10, marker="k = 0 of")
        finally:
            term.close()
        median = statistics.median(times)
        met = median <= TARGET_MS
        ok = ok and met
        print(f"  {lesson:<16} {key}  {median:6.0f} ms   target {TARGET_MS:.0f} ms  "
              f"{'pass' if met else 'MISS'}   runs {[round(t) for t in times]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
