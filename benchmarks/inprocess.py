"""The stepping loop alone, timed inside one process: what replay spends after start-up.

    python benchmarks/inprocess.py BACKEND ITERATIONS

Prints the loop's time, the final weights and the peak memory so far as JSON.
"""
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gdtutor.catalog import resolve, with_overrides  # noqa: E402
from gdtutor.stepper import Stepper  # noqa: E402


def main(backend: str, iterations: int) -> None:
    lesson = with_overrides(resolve("grad-descent"), backend=backend, steps=iterations)
    stepper = Stepper(lesson)
    start = time.perf_counter()
    stepper.run()
    loop = time.perf_counter() - start
    print(json.dumps({"loop_s": loop, "weights": stepper.weights_at(stepper.computed).tolist(),
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
