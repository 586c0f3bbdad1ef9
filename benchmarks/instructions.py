"""Instructions to the first frame, counted by valgrind: a figure that does not move with the
machine's load, for judging a change to the start-up (the timed figure moves ±10% run to run).

    python benchmarks/instructions.py                     hello world and gdtutor grad-descent
    python benchmarks/instructions.py -- --backend torch  with more arguments for gdtutor

Each program runs once under `valgrind --tool=callgrind` in an 80×24 pseudo-terminal and ends
itself as soon as its first frame is painted (`baselines/first_frame_exit.py`); the count is
that of every instruction the process ran in user space, all threads. It leaves out what the
time includes besides (the kernel's share, the terminal, waiting), so its ratio is not the
timed figure's: it tells whether a change made the start-up do less, and by how much.
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import LESSON, REPO, child_env, compile_checkout  # noqa: E402
from terminal import Terminal  # noqa: E402


def count(program: list[str]) -> int:
    """User-space instructions of `program` (a Python script and its arguments)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", "--log-file=/dev/null",
                f"--callgrind-out-file={out}", sys.executable, *program]
        env = child_env()
        env["PYTHONHASHSEED"] = "0"          # the same dicts and sets every run
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        term = Terminal(argv, 80, 24, env=env, cwd=str(REPO))
        try:
            term.drain(quiet=60, timeout=600)    # until the program ends itself
        except EOFError:
            pass
        finally:
            term.close()
        found = re.search(r"^(?:summary|totals):\s+(\d+)", out.read_text(), re.M)
        if not found:
            raise SystemExit(f"no count from valgrind for {program}")
        return int(found.group(1))


def main(argv: list[str]) -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind)", file=sys.stderr)
        return 2
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    compile_checkout()
    exit_at_frame = str(HERE / "baselines" / "first_frame_exit.py")
    hello = count([exit_at_frame, "hello"])
    ours = count([exit_at_frame, "gdtutor", LESSON, *extra])
    print(f"hello world        {hello / 1e6:8.1f} M instructions to the first frame")
    print(f"gdtutor {' '.join([LESSON, *extra]):<11}{ours / 1e6:8.1f} M   ({ours / hello:.2f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
