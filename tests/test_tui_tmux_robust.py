"""The tutor in a real terminal under stress: a lesson file rewritten 20 times while keys are
held, then `q`; and SIGTERM while a long exact computation runs. Each time the tutor ends
promptly with its status, no traceback, and the terminal given back: no alternate screen, no
mouse tracking, no mode left on (tmux's own pane flags, and the modes in the bytes written).

Each case runs `python -m gdtutor FILE` in a tmux pane of 80×24 on a tmux server of its own.
"""
from __future__ import annotations

import os
import random
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest

from tmux_pane import Pane, alive, missing_tools, modes_left_on, poll, stop_pid

REPO = Path(__file__).resolve().parent.parent
EXIT_WITHIN = 1.0    # seconds from q or SIGTERM to the end of the process

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(missing_tools("tmux")), reason="needs tmux")]

LESSON = """\
id: storm
title: "{title}"
kind: descent
objective: {objective}
params: {{w: "1/3"}}
lr: "1/7"
iterations: {iterations}
dtype: {dtype}
"""
OBJECTIVES = ["(w - 2)**2", "w*w*w*w", "1/w", "(w - 1)**2 * (w + 1)**2"]
BAD = ["id: storm\ntitle: [\n", "", "id: storm\nkind: descent\n",
       LESSON.format(title="bad", objective="w**2", iterations=5, dtype="exact") + "bogus: 1\n"]


def environment() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "NO_COLOR", "GDTUTOR_DEBUG")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(REPO))
    return env


def tutor_on(path: Path, tmp_path: Path) -> Pane:
    command = f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m gdtutor " \
              f"{shlex.quote(str(path))}"
    return Pane(command, tmp_path / "raw.out", env=environment(), keep_status=True)


def tutor_pid(pane: Pane) -> int:
    """The PID of the python process under the pane running the tutor."""
    deadline = time.monotonic() + 10
    while True:
        todo = [int(pane.tmux("display", "-p", "-t", "t", "#{pane_pid}"))]
        while todo:
            pid = todo.pop()
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"-m\0gdtutor" in command:
                return pid
            try:
                todo += [int(c) for c in
                         Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except OSError:
                pass
        assert time.monotonic() < deadline, "no tutor process under the pane"
        time.sleep(0.05)


def gone_within(pid: int, seconds: float) -> float:
    start = time.monotonic()
    while alive(pid):
        elapsed = time.monotonic() - start
        assert elapsed < seconds, f"the tutor still runs {elapsed:.2f} s on"
        time.sleep(0.01)
    return time.monotonic() - start


def assert_terminal_sane(pane: Pane) -> None:
    def sane() -> bool:
        flags = pane.flags()
        return (flags["alternate_on"] == "0"
                and all(flags[f] == "0" for f in flags if f.startswith("mouse_"))
                and modes_left_on(pane.raw_text()) == {})
    poll(sane, 5.0)
    flags = pane.flags()
    assert flags["alternate_on"] == "0" and flags["mouse_any_flag"] == "0", flags
    assert all(flags[f] == "0" for f in flags if f.startswith("mouse_")), flags
    assert modes_left_on(pane.raw_text()) == {}
    raw = pane.raw_text()
    assert "Traceback" not in raw and "Error" not in pane.screen(), pane.screen()


def test_rewrite_storm_while_keys_are_held_then_q(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "storm.yaml"
    path.write_text(LESSON.format(title="v0", objective="(w - 2)**2", iterations=50,
                                  dtype="exact"))
    pane = tutor_on(path, tmp_path)
    pid = None
    try:
        pane.wait_for(lambda s: "v0  k = 0 of 50" in s and "q quit" in s, 60, "the lesson")
        pid = tutor_pid(pane)
        for round_ in range(20):
            if rng.random() < 0.6:
                text = LESSON.format(title=f"v{round_ + 1}", objective=rng.choice(OBJECTIVES),
                                     iterations=rng.choice([5, 50, 2000]),
                                     dtype=rng.choice(["exact", "float64"]))
            else:
                text = rng.choice(BAD)
            path.write_text(text)
            # a held key repeats about 30 times a second; R reloads at once
            pane.keys(*(["n"] * rng.randint(4, 12)), *rng.choice([[], ["R"], ["b", "b"]]),
                      *(["n"] * rng.randint(0, 8)))
            time.sleep(rng.choice([0.05, 0.2, 0.4]))
        path.write_text(LESSON.format(title="final", objective="(w - 2)**2", iterations=9,
                                      dtype="exact"))
        pane.keys("R")
        pane.wait_for(lambda s: "final  k = " in s and "q quit" in s, 30, "the last version")
        pane.keys("q")
        gone_within(pid, 5.0)
        assert pane.wait_exit(5.0) == 0
        assert_terminal_sane(pane)
    finally:
        pane.close()
        if pid is not None:
            stop_pid(pid)


def slow_exact_lesson(path: Path) -> None:
    """Least squares over 40 points in exact fractions: the fractions gain bits every step,
    and 20000 steps take minutes."""
    rng = random.Random(1)
    rows = [[rng.randint(0, 9), rng.randint(0, 9)] for _ in range(40)]
    y = [rng.randint(0, 20) for _ in range(40)]
    path.write_text(f"id: slow-exact\ntitle: Slow exact\nkind: descent\ndtype: exact\n"
                    f"data:\n  X: {rows}\n  y: {y}\nbias: true\nloss: half_mse\n"
                    f"init: [0, 0, 0]\nlr: \"1/1000\"\niterations: 20000\n")


def test_sigterm_during_a_long_exact_computation(tmp_path):
    path = tmp_path / "slow.yaml"
    slow_exact_lesson(path)
    pane = tutor_on(path, tmp_path)
    pid = None
    try:
        pane.wait_for(lambda s: "Slow exact  k = 0 of 20000" in s, 60, "the lesson")
        pid = tutor_pid(pane)
        pane.keys("g")
        pane.wait_for(lambda s: "Go to" in s, 10, "the go-to prompt")
        pane.keys("20000", "Enter")
        pane.wait_for(lambda s: "going to 20000" in s, 10, "the long go-to")
        time.sleep(0.5)                  # well into it
        assert pane.flags()["alternate_on"] == "1"
        os.kill(pid, signal.SIGTERM)
        gone_within(pid, EXIT_WITHIN)
        assert pane.wait_exit(5.0) == 128 + signal.SIGTERM
        assert_terminal_sane(pane)
    finally:
        pane.close()
        if pid is not None:
            stop_pid(pid)


def test_q_during_a_growing_exact_lesson(tmp_path):
    path = tmp_path / "growing.yaml"
    path.write_text(LESSON.format(title="Growing", objective="w*w*w*w", iterations=40,
                                  dtype="exact"))
    pane = tutor_on(path, tmp_path)
    pid = None
    try:
        pane.wait_for(lambda s: "Growing  k = 0 of 40" in s, 60, "the first frame")
        pid = tutor_pid(pane)
        pane.keys(*["n"] * 20)
        pane.wait_for(lambda s: "grow" in s and int(re.search(r"k = (\d+) of", s)[1]) >= 5,
                      30, "stepping stopped")
        pane.keys("q")
        gone_within(pid, EXIT_WITHIN)
        assert pane.wait_exit(5.0) == 0
        assert_terminal_sane(pane)
    finally:
        pane.close()
        if pid is not None:
            stop_pid(pid)


def test_a_title_with_escape_sequences_reaches_the_terminal_as_text(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text('id: odd\ntitle: "\\e]0;pwned\\a\\e[2J[bold]T[/]"\nkind: descent\n'
                    'objective: (w - 1)**2\nparams: {w: 0}\nlr: "1/4"\niterations: 5\n'
                    'text: "body \\e]2;pwned\\a [red]r[/red]"\n')
    pane = tutor_on(path, tmp_path)
    pid = None
    try:
        pane.wait_for(lambda s: "\\x1b]0;pwned\\x07\\x1b[2J[bold]T[/]  k = 0 of 5" in s, 60,
                      "the title as typed")
        pid = tutor_pid(pane)
        pane.keys("3")
        pane.wait_for(lambda s: "body \\x1b]2;pwned\\x07 [red]r[/red]" in s, 10, "the text")
        raw = pane.raw_text()
        assert "pwned" in raw and "\x1b]0;pwned" not in raw and "\x1b]2;pwned" not in raw
        assert "pwned" not in pane.tmux("display", "-p", "-t", "t", "#{pane_title}")
        pane.keys("q")
        gone_within(pid, 5.0)
        assert pane.wait_exit(5.0) == 0
        assert_terminal_sane(pane)
    finally:
        pane.close()
        if pid is not None:
            stop_pid(pid)
