"""`gdtutor worked-example` in a real terminal: tmux at 80×24, TERM=xterm-256color, keys typed."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TMUX = shutil.which("tmux")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(TMUX is None, reason="tmux is not installed, so there is no "
                                 "real terminal to drive; the Pilot tests still cover every key")]


class Terminal:
    """One tmux server of our own (its own socket), one 80×24 window, no status line."""

    def __init__(self, command: str, width: int = 80, height: int = 24) -> None:
        self.socket = f"gdtutor-test-{uuid.uuid4().hex[:12]}"
        self.session = "tui"
        self.socket_path = ""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        env["TERM"] = "xterm-256color"
        self.env = env
        self.tmux("-f", os.devnull, "new-session", "-d", "-s", self.session,
                  "-x", str(width), "-y", str(height), command)
        self.tmux("set-option", "-t", self.session, "status", "off")
        self.socket_path = self.tmux("display-message", "-p", "#{socket_path}").strip()

    def tmux(self, *args: str) -> str:
        done = subprocess.run([TMUX, "-L", self.socket, *args], env=self.env,
                              capture_output=True, text=True, timeout=20)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.session, key)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], env=self.env,
                       capture_output=True, timeout=20)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)


def test_worked_example_in_tmux_at_80x24():
    # the shell prints the exit status when gdtutor ends, then waits, so the pane stays readable
    command = (f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color "
               f"{shlex.quote(sys.executable)} -m gdtutor worked-example; "
               "echo GDTUTOR-EXIT=$?; sleep 120")
    term = Terminal(command)
    try:
        size = term.tmux("display-message", "-p", "-t", term.session,
                         "#{pane_width}x#{pane_height}").strip()
        assert size == "80x24"
        term.wait_for("Step 0")
        screen = term.wait_for("q quit")                  # the footer comes last
        assert "w0 = 0" in screen and "L(w0) = 56" in screen
        assert "n step" in screen and "b back" in screen

        for k in (1, 2, 3):                               # one key, then its step on screen
            term.keys("n")
            screen = term.wait_for(f"k = {k} of 20")
        screen = term.wait_for("= 7/4")
        assert "w3 = w2 − α·grad = 3/2 − (-1/4) = 7/4" in screen
        assert "α·grad = 1/2 · (-1/2) = -1/4" in screen
        assert "k = 3 of 20" in screen

        term.keys("b")
        screen = term.wait_for("k = 2 of 20")
        assert "w2 = w1 − α·grad = 1 − (-1/2) = 3/2" in screen
        assert "= 7/4" not in screen.split("──")[0]     # the steps panel is back at w2

        term.keys("q")
        screen = term.wait_for("GDTUTOR-EXIT=")
        assert "GDTUTOR-EXIT=0" in screen
        assert "Traceback" not in screen
        # the process has ended: only the shell's sleep is left in the pane
        command_now = term.tmux("display-message", "-p", "-t", term.session,
                                "#{pane_current_command}").strip()
        assert command_now in ("sleep", "sh", "bash", "dash"), command_now
    finally:
        term.close()


def tutor(*args: str) -> Terminal:
    """gdtutor with `args` in a terminal of its own, on screen down to its keys line."""
    command = (f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color "
               f"{shlex.quote(sys.executable)} -m gdtutor {shlex.join(args)}; sleep 120")
    term = Terminal(command)
    term.wait_for("q quit")
    return term


def burst(term: Terminal, *keys: str) -> None:
    """The keys in one write, as a slow link delivers keys typed quickly."""
    term.tmux("send-keys", "-t", term.session, *keys)


def test_keys_that_arrive_in_one_burst_are_taken_in_order():
    # in the picker, enter must not be taken before the arrows sent with it
    term = tutor()
    try:
        burst(term, "Down", "Down", "Enter")
        screen = term.wait_for("k = 0 of")
        assert "A worked example" in screen.splitlines()[0], screen
    finally:
        term.close()


def test_a_go_to_typed_in_one_burst_goes_there():
    # the keys after g were on their way to the lesson screen before the prompt existed; the
    # prompt takes them, in order
    term = tutor("worked-example")
    try:
        burst(term, "g", "1", "2", "Enter")
        screen = term.wait_for("w12 = w11 − α·grad")
        assert "k = 12 of 20" in screen and "is not a whole number" not in screen
        burst(term, "g3", "Enter")
        screen = term.wait_for("w3 = w2 − α·grad")
        assert "k = 3 of 20" in screen
        assert "graph of L at w2" in screen            # 3 went into the prompt, not to view 3
    finally:
        term.close()
