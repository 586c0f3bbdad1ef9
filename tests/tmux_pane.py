"""A real terminal for tests: one tmux pane at 80×24, its screen, modes and raw output."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

# DEC private modes a program may switch; after it exits each must be back at the terminal's
# default: autowrap (7) and the visible cursor (25) on, everything else off.
DEFAULT_ON = {7, 25}
MOUSE_MODES = {9, 1000, 1001, 1002, 1003, 1005, 1006, 1015, 1016}
MODE_FLAGS = ("alternate_on", "mouse_any_flag", "mouse_all_flag", "mouse_button_flag",
              "mouse_standard_flag", "mouse_sgr_flag", "mouse_utf8_flag", "cursor_flag",
              "keypad_flag", "keypad_cursor_flag", "insert_flag", "wrap_flag")
_PRIVATE_MODE = re.compile(r"\x1b\[\?([\d;]+)([hl])")
_KITTY_PUSH = re.compile(r"\x1b\[>\d*u")
_KITTY_POP = re.compile(r"\x1b\[<\d*u")


def missing_tools(*names: str) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


class Pane:
    """A detached tmux server of our own (its own -L socket) running one command in one pane.

    The command waits for a line before it starts, so that `pipe-pane` records every byte the
    program writes, and the pane stays after the command exits, so its last screen can be read.
    The command is exec'ed (it is the pane's process, the session leader of its terminal)
    unless `keep_status` asks for a shell around it that writes its exit status to a file:
    tmux's own pane_dead_status is sometimes never filled in.
    """

    def __init__(self, command: str, raw: Path, *, width: int = 80, height: int = 24,
                 env: dict | None = None, keep_status: bool = False) -> None:
        self.socket = f"gdtutor-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.raw = raw
        self.env = dict(os.environ if env is None else env, SHELL="/bin/sh", LC_ALL="C.UTF-8")
        self.env.pop("TMUX", None)
        self.server_pid: int | None = None
        self.status_file = raw.with_name(raw.name + ".status")
        script = (f"read _ready; {command}; echo $? > {shlex.quote(str(self.status_file))}"
                  if keep_status else f"read _ready && exec {command}")
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                  "/bin/sh -c " + shlex.quote(script))
        self.server_pid = int(self.tmux("display", "-p", "-t", "t", "#{pid}"))
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")
        self.tmux("pipe-pane", "-o", "-t", "t", "cat >> " + shlex.quote(str(raw)))
        self.tmux("send-keys", "-t", "t", "Enter")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              env=self.env, capture_output=True, text=True, timeout=20)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.rstrip("\n")

    def screen(self, joined: bool = False) -> str:
        """The visible screen; `joined` undoes the terminal's wrapping of long lines."""
        return self.tmux("capture-pane", "-p", *(["-J"] if joined else []), "-t", "t")

    def flags(self) -> dict[str, str]:
        out = self.tmux("display", "-p", "-t", "t", " ".join(f"#{{{f}}}" for f in MODE_FLAGS))
        return dict(zip(MODE_FLAGS, out.split(" ")))

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "t", key)

    def status(self) -> int | None:
        """With keep_status: the command's exit status once it has ended (128 + n: ended by
        signal n), else None."""
        try:
            text = self.status_file.read_text()
        except FileNotFoundError:
            return None
        return int(text) if text.strip() else None

    def wait_for(self, test, timeout: float = 20.0, what: str = "") -> str:
        """Poll the screen until test(screen) holds; fail with the last screen if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if test(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:g} s for {what or test}; the screen:\n"
                                     f"{screen}\n{self.raw_text()[-2000:]!r}")
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 20.0) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status is not None:
                return status
            time.sleep(0.05)
        try:
            screen = self.screen()
        except RuntimeError as gone:       # the tmux server has been stopped
            screen = f"({gone})"
        raise AssertionError(f"the program did not exit within {timeout:g} s; the screen:\n"
                             + screen)

    def raw_text(self) -> str:
        try:
            return self.raw.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        """Stop the tmux server, which hangs up its pane's program; then make sure, by PID."""
        try:
            self.tmux("kill-server")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        if self.server_pid is not None:
            stop_pid(self.server_pid)


def poll(test, timeout: float = 10.0):
    """Call test() until it returns a true value or `timeout` seconds have passed; its last
    value. For what reaches tmux and the pane's raw output a moment after the program ends."""
    deadline = time.monotonic() + timeout
    while True:
        value = test()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def stop_pid(pid: int, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds, to one process we started."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours has ended; it only waits to be reaped
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def modes_left_on(raw: str) -> dict[int, str]:
    """DEC private modes whose last setting in `raw` is not the terminal's default."""
    last: dict[int, str] = {}
    for numbers, action in _PRIVATE_MODE.findall(raw):
        for n in numbers.split(";"):
            if n:
                last[int(n)] = action
    return {mode: action for mode, action in last.items()
            if action != ("h" if mode in DEFAULT_ON else "l")}


def mouse_enables(raw: str) -> list[str]:
    """Every mouse-tracking enable sequence in `raw`."""
    return [m.group(0) for m in _PRIVATE_MODE.finditer(raw)
            if m.group(2) == "h" and any(int(n) in MOUSE_MODES for n in m.group(1).split(";") if n)]


def kitty_keyboard_balance(raw: str) -> int:
    """Pushes minus pops of the kitty keyboard protocol: 0 when the program restored it."""
    return len(_KITTY_PUSH.findall(raw)) - len(_KITTY_POP.findall(raw))
