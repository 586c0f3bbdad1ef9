"""Without torch installed, everything but the torch backend works; asking for torch says how.

Each run is a fresh process in which torch cannot be found, exactly as on a machine where it
was never installed: the import system's path finder is told to find no `torch`, so
`import torch` raises ModuleNotFoundError and `importlib.util.find_spec("torch")` is None.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gdtutor.catalog import builtin
from tmux_pane import Pane, missing_tools

pytestmark = pytest.mark.slow      # fresh processes, a re-run of three test files, tmux

REPO = Path(__file__).resolve().parent.parent
INSTALL = "pip install torch==2.13.0"
# the numpy path's own tests, run again in a process without torch
NUMPY_PATH_TESTS = ("test_cli.py", "test_stepper.py", "test_lesson_loading.py")


HIDER = '''\
"""Run `-m module args...` or `-c code` in a Python that cannot find torch."""
import importlib.machinery
import os
import runpy
import sys

_find = importlib.machinery.PathFinder.find_spec


def _find_spec(cls, name, path=None, target=None):
    if name == "torch" or name.startswith("torch."):
        return None
    return _find(name, path, target)


importlib.machinery.PathFinder.find_spec = classmethod(_find_spec)
sys.path[0] = os.getcwd()   # as `python -m` has it
how, what, *rest = sys.argv[1:]
if how == "-c":
    sys.argv = ["-c", *rest]
    exec(compile(what, "<string>", "exec"), {"__name__": "__main__"})
else:
    sys.argv = [what, *rest]
    runpy.run_module(what, run_name="__main__", alter_sys=True)
'''


@pytest.fixture(scope="module")
def hider(tmp_path_factory) -> Path:
    """The launcher above, as a file: `python hider -m gdtutor ...` runs without torch."""
    path = tmp_path_factory.mktemp("no-torch") / "without_torch.py"
    path.write_text(HIDER)
    return path


def run(hider: Path, *args: str, cwd: Path = REPO, timeout: float = 120):
    env = {k: v for k, v in os.environ.items() if k != "GDTUTOR_DEBUG"}
    return subprocess.run([sys.executable, str(hider), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def gdtutor(hider: Path, *args: str, **kw):
    return run(hider, "-m", "gdtutor", *args, **kw)


def assert_asks_for_torch(done) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("gdtutor: "), done.stderr
    assert INSTALL in done.stderr and "Traceback" not in done.stderr


def test_torch_really_cannot_be_found(hider):
    done = run(hider, "-c", "import importlib.util, sys\n"
               "assert importlib.util.find_spec('torch') is None\n"
               "try:\n    import torch\nexcept ModuleNotFoundError as e:\n    print(e.name)\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, "torch\n", "")


def test_list_check_and_numpy_replay_work_without_torch(hider):
    done = gdtutor(hider, "list")
    assert (done.returncode, done.stderr) == (0, "")
    assert [line.split()[0] for line in done.stdout.splitlines()] == [l.id for l in builtin()]

    done = gdtutor(hider, "check", *(str(l.source) for l in builtin()))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [f"OK {l.id}" for l in builtin()]

    done = gdtutor(hider, "replay", "worked-example", "--format", "jsonl")
    assert (done.returncode, done.stderr) == (0, "")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["weights"] for line in lines[1:5]] == [["0"], ["1"], ["3/2"], ["7/4"]]
    assert lines[-1]["checkpoints"] == {"passed": 9, "failed": 0, "skipped": 0}
    assert lines[-1]["diverged"] is None and lines[-1]["failed"] == []

    done = gdtutor(hider, "replay", "grad-descent", "--format", "summary")
    assert (done.returncode, done.stderr) == (0, "")
    assert "grad-descent" in done.stdout and "0 failed" in done.stdout


@pytest.mark.parametrize("argv", [
    ("replay", "grad-descent", "--backend", "torch"),
    ("replay", "backprop", "--backend", "torch", "--format", "jsonl"),
    ("check", "grad-descent", "--backend", "torch"),
])
def test_asking_for_torch_says_how_to_install_it(hider, argv):
    assert_asks_for_torch(gdtutor(hider, *argv))


def test_a_lesson_file_that_asks_for_torch_says_how_to_install_it(hider, tmp_path):
    source = next(l for l in builtin() if l.id == "grad-descent").source.read_text()
    lesson = tmp_path / "on-torch.yaml"
    text, count = re.subn(r"(?m)^backend: *\w+", "backend: torch", source)
    lesson.write_text(text if count else "backend: torch\n" + source)
    for command in ("check", "replay"):
        done = gdtutor(hider, command, str(lesson))
        assert_asks_for_torch(done)
        assert str(lesson) in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["on-torch.yaml"]


def test_the_numpy_path_tests_pass_without_torch(hider):
    files = [f"tests/{name}" for name in NUMPY_PATH_TESTS if (REPO / "tests" / name).exists()]
    done = run(hider, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *files, timeout=600)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in summary and " skipped" in summary, summary   # torch's tests skip


def tutor_without_torch(hider: Path, tmp_path: Path, *args: str) -> Pane:
    """`gdtutor ARGS` in a tmux pane of 80×24, torch hidden; the pane prints the exit status."""
    if missing_tools("tmux"):
        pytest.skip("needs tmux (apt-get install tmux)")
    command = (f"cd {shlex.quote(str(REPO))} && env TERM=xterm-256color "
               f"{shlex.quote(sys.executable)} {shlex.quote(str(hider))} -m gdtutor "
               f"{shlex.join(args)}; echo gdtutor-exit-status=$?")
    return Pane("/bin/sh -c " + shlex.quote(command), tmp_path / "raw.out",
                env={k: v for k, v in os.environ.items() if k != "GDTUTOR_DEBUG"})


def test_the_tutor_started_on_torch_says_how_to_install_it(hider, tmp_path):
    """Exit 2 with the one line, or the app open with the message: never a traceback."""
    pane = tutor_without_torch(hider, tmp_path, "grad-descent", "--backend", "torch")
    try:
        screen = pane.wait_for(lambda s: "gdtutor-exit-status=" in s
                               or ("pip install" in s and "torch==2.13.0" in s), 60,
                               "a refusal or a message on how to install torch")
        if "gdtutor-exit-status=" in screen:
            screen = pane.screen(joined=True)
            assert "gdtutor-exit-status=2" in screen, screen
            said = screen[:screen.index("gdtutor-exit-status=")].strip()
            assert said.startswith("gdtutor: ") and "\n" not in said and INSTALL in said, screen
        else:
            pane.keys("q")
            screen = pane.wait_for(lambda s: "gdtutor-exit-status=" in s, 20, "the app to quit")
        assert "Traceback" not in pane.raw_text() and "Traceback" not in screen
    finally:
        pane.close()


def test_the_app_says_how_to_install_torch_when_t_asks_for_it(hider, tmp_path):
    pane = tutor_without_torch(hider, tmp_path, "grad-descent")
    try:
        pane.wait_for(lambda s: "k = 0 of 10000" in s, 60, "the lesson to open")
        pane.keys("t")
        screen = pane.wait_for(lambda s: "pip install" in s and "torch==2.13.0" in s, 20,
                               "a message on how to install torch")   # wrapped in a toast
        assert "gdtutor-exit-status" not in screen
        pane.keys("n")
        pane.wait_for(lambda s: "k = 1 of 10000" in s and "numpy" in s, 20,
                      "a step on numpy after the refusal")
        pane.keys("q")
        screen = pane.wait_for(lambda s: "gdtutor-exit-status=" in s, 20, "the app to quit")
        assert "gdtutor-exit-status=0" in screen
        assert "Traceback" not in pane.raw_text()
    finally:
        pane.close()
