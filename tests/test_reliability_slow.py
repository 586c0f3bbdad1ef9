"""The headless commands under hostile input (issue 12), as real processes: what only a
process shows (a FIFO on the command line, a closed or full stdout, an ASCII-only output,
Ctrl-C, a terminal on stderr), and the slower generators."""
from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_reliability import (CONTROL, GEN, RAW_CONTROL, _EXPR_PARTS, assert_contract,
                                    free, lesson_file, run, yaml_string)

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
LIMIT = 30


def gdtutor(*argv: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    environ = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", "gdtutor", *argv], capture_output=True,
                          text=True, timeout=LIMIT, env=environ, stdin=subprocess.DEVNULL,
                          **kwargs)


def assert_process(result: subprocess.CompletedProcess) -> None:
    assert_contract(result.returncode, result.stdout, result.stderr)


@pytest.mark.parametrize("command", ["check", "replay"])
def test_a_fifo_on_the_command_line_is_refused_at_once(tmp_path, command):
    fifo = tmp_path / "lesson.yaml"
    os.mkfifo(fifo)
    result = gdtutor(command, str(fifo))
    assert_process(result)
    assert result.returncode == 2 and result.stderr == \
        f"gdtutor: {fifo}: is a named pipe (FIFO), not a lesson file\n"


@pytest.mark.parametrize("command", [["replay", "worked-example"], ["list"],
                                     ["check", "worked-example", "--format", "json"],
                                     ["analyze", "divergence"]])
@pytest.mark.parametrize("stdout, said", [("closed", "stdout is closed"),
                                          ("/dev/full", "No space left on device")])
def test_a_closed_or_full_stdout_is_one_line(command, stdout, said):
    if stdout == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    environ = dict(os.environ, PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "gdtutor", *command]
    if stdout == "closed":
        result = subprocess.run(argv, stderr=subprocess.PIPE, text=True, timeout=LIMIT,
                                env=environ, stdin=subprocess.DEVNULL,
                                preexec_fn=lambda: os.close(1))
    else:
        with open("/dev/full", "w") as full:
            result = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True,
                                    timeout=LIMIT, env=environ, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr == f"gdtutor: cannot write the output: {said}\n"


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"},
                                 {"PYTHONIOENCODING": "ascii:strict", "LANG": "zh_CN.UTF-8"},
                                 {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
                                  "PYTHONCOERCECLOCALE": "0"}])
def test_an_ascii_output_degrades_to_ascii(env):
    for command in (["replay", "worked-example", "--steps", "3"], ["list"],
                    ["analyze", "divergence"], ["replay", "backprop", "--format", "summary"],
                    ["replay", "worked-example", "--lr", "-1"]):
        result = gdtutor(*command, env=env)
        assert_process(result)
        result.stdout.encode("ascii")
    assert "alpha = 1/2" in gdtutor("replay", "worked-example", env=env).stdout


def test_ctrl_c_stops_a_long_replay_with_status_130():
    environ = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "gdtutor", "replay", "grad-descent",
                             "--steps", "10000000", "--format", "summary"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environ, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + LIMIT
        while _cpu_seconds(proc.pid) < 1.5:      # started and stepping
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err and out == ""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_progress_shows_on_a_terminal_and_ctrl_c_ends_it():
    primary, secondary = pty.openpty()
    environ = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "gdtutor", "replay", "grad-descent",
                             "--steps", "10000000", "--format", "summary"],
                            stdout=subprocess.DEVNULL, stderr=secondary, env=environ,
                            stdin=subprocess.DEVNULL)
    os.close(secondary)
    seen = b""
    try:
        deadline = time.monotonic() + LIMIT
        while b"gdtutor: step " not in seen:
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                seen += os.read(primary, 4096)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        while select.select([primary], [], [], 0.2)[0]:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(primary)
    assert b"of 10000000 (Ctrl-C stops)" in seen and b"Traceback" not in seen


@GEN
@given(parts=st.lists(st.sampled_from(_EXPR_PARTS), min_size=1, max_size=4),
       joins=st.lists(st.sampled_from(["*", "+", "-"]), min_size=3, max_size=3),
       w=st.fractions(min_value=-3, max_value=3, max_denominator=50),
       lr=st.fractions(min_value=0, max_value=2, max_denominator=30),
       iterations=st.sampled_from([5, 50, 400, 20000]))
def test_exact_expressions_finish_in_bounded_time(tmp_path, parts, joins, w, lr, iterations):
    objective = parts[0]
    for join, part in zip(joins, parts[1:]):
        objective = f"({objective}) {join} {part}"
    path = lesson_file(tmp_path, free(objective=f"({objective})**2", w=f'"{w}"',
                                      lr=f'"{lr}"', iterations=iterations, dtype="exact"))
    status, out, err = run("replay", path, "--format", "summary", limit=30)
    assert_contract(status, out, err)


@settings(GEN, max_examples=15)
@given(title=st.lists(st.one_of(CONTROL, st.text("ab", min_size=1, max_size=3)),
                      min_size=1, max_size=5).map("".join),
       file_name=st.lists(CONTROL.filter(lambda c: c != "\x00"), min_size=1, max_size=3)
       .map("".join))
def test_real_processes_write_no_raw_control_characters(tmp_path_factory, title, file_name):
    tmp = tmp_path_factory.mktemp("ctl")
    text = free().replace("title: T", f"title: {yaml_string(title)}")
    good = lesson_file(tmp, text, f"good{file_name}.yaml")
    bad = lesson_file(tmp, text.replace("lr: ", "lr: x"), f"bad{file_name}.yaml")
    for command in (("replay", good), ("replay", good, "--format", "jsonl"), ("check", good),
                    ("check", bad), ("check", good, bad, "--format", "json"), ("analyze", good)):
        result = gdtutor(*command)
        assert result.returncode in (0, 1, 2), result.stderr
        assert "Traceback" not in result.stderr
        assert not RAW_CONTROL.search(result.stdout)
        assert not RAW_CONTROL.search(result.stderr.replace("\n", ""))
        if result.returncode == 2 and command[-1] != "json":
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("gdtutor: ")
        if "jsonl" in command or "json" in command:
            for line in result.stdout.splitlines():
                json.loads(line)
