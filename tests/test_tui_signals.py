"""The tutor ended from outside: SIGTERM, SIGHUP (a dropped SSH link), SIGINT from another
process, and a terminal that hangs up with no signal at all. Each ends it within a few seconds
with the status a shell reports for that signal, no traceback, and the terminal given back:
no alternate screen, no mouse tracking, no mode left switched on.

Each case runs `python -m gdtutor worked-example` in a tmux pane of 80×24 on a tmux server of
its own (its own -L socket) and signals the tutor's own PID. A terminal that cannot show the
tutor (TERM=dumb, or no terminal at all) is refused in one line before anything is drawn.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gdtutor.tui.signals import caught_until_running, status_for
from tmux_pane import Pane, alive, missing_tools, modes_left_on, poll, stop_pid

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TUTOR = f"{shlex.quote(PYTHON)} -m gdtutor worked-example"
EXIT_WITHIN = 5.0   # seconds from the signal to the end of the process

needs_tmux = pytest.mark.skipif(bool(missing_tools("tmux")), reason="needs tmux")


def environment() -> dict:
    """A plain local terminal: mouse tracking on (no SSH_CONNECTION), colours, no debug."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "NO_COLOR", "GDTUTOR_DEBUG")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(REPO))
    return env


def open_tutor(tmp_path: Path, *, shell: str = "", wrap: str = "") -> Pane:
    """The tutor in a pane, under a shell that keeps its exit status; `shell` runs in that
    shell first, `wrap` goes before the tutor's command (setsid, say)."""
    pane = Pane(f"{shell}cd {shlex.quote(str(REPO))} && {wrap}{TUTOR}", tmp_path / "raw.out",
                env=environment(), keep_status=True)
    pane.wait_for(lambda s: "k = 0 of 20" in s and "q quit" in s, 60, "the worked example")
    return pane


def wait_gone(pid: int, timeout: float) -> float:
    """Seconds until the process `pid` ended (fails after `timeout`)."""
    start = time.monotonic()
    while alive(pid):
        if time.monotonic() - start > timeout:
            raise AssertionError(f"process {pid} still runs {timeout:g} s on")
        time.sleep(0.02)
    return time.monotonic() - start


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def process_running(pane: Pane, needle: str, timeout: float = 10.0) -> int:
    """The PID of the process under the pane (the pane's own, or a descendant: tmux and the
    shells between may or may not exec) whose command line holds `needle`."""
    deadline = time.monotonic() + timeout
    while True:
        todo = [int(pane.tmux("display", "-p", "-t", "t", "#{pane_pid}"))]
        while todo:
            pid = todo.pop()
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command and Path(command[0].decode(errors="replace")).name.startswith(
                    "python") and needle.encode() in b" ".join(command):
                return pid
            todo.extend(children(pid))
        if time.monotonic() > deadline:
            raise AssertionError(f"no process running {needle!r} under the pane")
        time.sleep(0.05)


def given_back(pane: Pane) -> bool:
    flags = pane.flags()
    return (flags["alternate_on"] == "0" and all(flags[f] == "0" for f in flags
                                                 if f.startswith("mouse_"))
            and modes_left_on(pane.raw_text()) == {})


def assert_terminal_given_back(pane: Pane) -> None:
    # the last bytes the tutor wrote may reach tmux and the raw file just after its status
    poll(lambda: given_back(pane), EXIT_WITHIN)
    raw = pane.raw_text()
    flags = pane.flags()
    assert pane.tmux("display", "-p", "-t", "t", "#{alternate_on} #{mouse_any_flag}") == "0 0"
    assert all(flags[f] == "0" for f in flags if f.startswith("mouse_")), flags
    assert modes_left_on(raw) == {}, f"modes left switched on: {modes_left_on(raw)}"
    assert "Traceback" not in raw and "Traceback" not in pane.screen()


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_ends_the_tutor_and_gives_the_terminal_back(tmp_path, name):
    signum = getattr(signal, name)
    pane = open_tutor(tmp_path)
    pid = None
    try:
        pid = process_running(pane, "-m gdtutor")
        pane.keys("n")
        pane.wait_for(lambda s: "k = 1 of 20" in s, 20, "one step")
        assert pane.tmux("display", "-p", "-t", "t", "#{alternate_on} #{mouse_any_flag}") == "1 1"
        os.kill(pid, signum)
        wait_gone(pid, EXIT_WITHIN)
        assert pane.wait_exit(EXIT_WITHIN) == status_for(signum) == 128 + signum
        assert_terminal_given_back(pane)
    finally:
        pane.close()
        if pid is not None:
            stop_pid(pid)


@pytest.mark.slow
@needs_tmux
def test_a_terminal_that_hangs_up_without_a_signal_ends_the_tutor(tmp_path):
    """No SIGHUP comes (the tutor runs in a session of its own, as under a shell or a
    multiplexer that keeps it from the hangup): the tutor sees its terminal go and ends,
    instead of reading end-of-file for ever."""
    if missing_tools("setsid"):
        pytest.skip("needs setsid (util-linux)")
    # the shell outlives the hangup to write the status down
    pane = open_tutor(tmp_path, shell="trap : HUP; ", wrap="setsid -w ")
    tutor = None
    try:
        tutor = process_running(pane, "-m gdtutor")
        pane.tmux("kill-server")            # the terminal closes under the tutor
        wait_gone(tutor, EXIT_WITHIN)
        assert pane.wait_exit(EXIT_WITHIN) == status_for(signal.SIGHUP)
    finally:
        pane.close()
        if tutor is not None:
            stop_pid(tutor)


def test_a_signal_before_the_app_runs_is_kept_for_it():
    seen: list[int] = []
    before = signal.getsignal(signal.SIGTERM)
    with caught_until_running(seen):
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    assert seen == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.slow
def test_dumb_terminal_and_no_terminal_are_refused_in_one_line():
    for env in ({"TERM": "dumb"}, {"TERM": "xterm"}):   # the second with no terminal at all
        done = subprocess.run([PYTHON, "-m", "gdtutor", "worked-example"], cwd=REPO,
                              env={**environment(), **env}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("gdtutor: "), done.stderr
        assert "\x1b" not in done.stderr and done.stdout == ""
        if env["TERM"] == "dumb":
            assert lines[0] == ("gdtutor: this terminal (TERM=dumb) cannot show the tutor; use a "
                                "terminal such as xterm-256color, or 'gdtutor replay LESSON'")
        else:
            assert "needs a terminal" in lines[0] and "gdtutor replay" in lines[0]
