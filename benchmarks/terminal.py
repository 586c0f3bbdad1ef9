"""A program in a real pseudo-terminal of a given size: write keys, time what it paints."""
from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unicodedata

# a control sequence (CSI), a string (OSC, DCS, …) ended by BEL or ST, another escape, or text
TOKEN = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|"
                   r"\x1b[^\[\]PX^_]|([^\x1b]+)")
INCOMPLETE = re.compile(r"\x1b(\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b]*\x1b?)?$")


class Screen:
    """Just enough of a terminal to read what a full-screen program has drawn: cursor
    positioning, text (double-width characters take two columns) and clearing. Colours and
    modes are read past. The figures wait on what is on this screen, never on bytes in the
    stream: an app that writes only the cells that changed never repeats a whole line."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.cells = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        self._pending = ""

    def text(self) -> str:
        return "\n".join("".join(line) for line in self.cells)

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decode(data)
        cut = INCOMPLETE.search(text)
        text, self._pending = (text[:cut.start()], text[cut.start():]) if cut else (text, "")
        for m in TOKEN.finditer(text):
            if m.group(3) is not None:
                self._write(m.group(3))
            elif m.group(2) is not None:
                self._control(m.group(1), m.group(2))

    def _control(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return
        args = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        if final in "Hf":
            row = args[0] if args and args[0] else 1
            col = args[1] if len(args) > 1 and args[1] else 1
            self.y, self.x = min(row, self.rows) - 1, min(col, self.cols) - 1
        elif final == "J" and args and args[0] in (2, 3):
            self.cells = [[" "] * self.cols for _ in range(self.rows)]
        elif final == "K":
            self.cells[self.y][self.x:] = [" "] * (self.cols - self.x)
        elif final in "ABCD":
            n = args[0] if args and args[0] else 1
            dy, dx = {"A": (-n, 0), "B": (n, 0), "C": (0, n), "D": (0, -n)}[final]
            self.y = max(0, min(self.rows - 1, self.y + dy))
            self.x = max(0, min(self.cols - 1, self.x + dx))

    def _write(self, text: str) -> None:
        line = self.cells[self.y]
        for ch in text:
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self.y = min(self.y + 1, self.rows - 1)
                line = self.cells[self.y]
            elif ch < " " or unicodedata.combining(ch):
                continue
            else:
                wide = unicodedata.east_asian_width(ch) in "WF"
                if self.x < self.cols:
                    line[self.x] = ch
                if wide and self.x + 1 < self.cols:
                    line[self.x + 1] = ""
                self.x = min(self.x + (2 if wide else 1), self.cols)


def _controlling_tty() -> None:
    """In the child: make the pty its controlling terminal, as a terminal emulator would."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A child process on a pty of cols×rows; every chunk it writes is kept with its arrival time.

    The size is set on the pty before the child starts, so its first look at the terminal
    already sees it. Nothing answers the child's terminal queries, as with a plain xterm.
    """

    def __init__(self, argv: list[str], cols: int, rows: int, env: dict[str, str] | None = None,
                 cwd: str | None = None) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.fd = master
        self.screen = Screen(cols, rows)
        self.chunks: list[tuple[float, bytes]] = []
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=cwd, preexec_fn=_controlling_tty, close_fds=True)
        os.close(slave)

    # -- reading -------------------------------------------------------------------------

    def _read(self, timeout: float) -> bool:
        """Read whatever arrives within timeout seconds; False if nothing did."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:          # the child closed the terminal
            data = b""
        if not data:
            raise EOFError("the program closed the terminal")
        self.chunks.append((time.perf_counter(), data))
        self.screen.feed(data)
        return True

    def output(self, since: int = 0) -> bytes:
        return b"".join(data for _, data in self.chunks[since:])

    def wait_for(self, marker: str, timeout: float) -> float:
        """Read until `marker` is on the screen; the arrival time of the chunk that put it there."""
        deadline = time.perf_counter() + timeout
        while marker not in self.screen.text():
            if not self._read(deadline - time.perf_counter()) and time.perf_counter() >= deadline:
                raise TimeoutError(f"'{marker}' was not on the screen within {timeout} s")
        return self.chunks[-1][0] if self.chunks else self.started

    def settle(self, quiet: float, timeout: float) -> float:
        """Read until nothing arrives for `quiet` seconds; the arrival time of the last chunk.

        The quiet period itself is never counted: it only tells that the burst has ended.
        """
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self._read(min(quiet, deadline - time.perf_counter())):
                break
        return self.chunks[-1][0] if self.chunks else self.started

    def drain(self, quiet: float = 0.2, timeout: float = 5.0) -> None:
        """Let the program finish whatever it is painting, then forget what it wrote."""
        self.settle(quiet, timeout)
        self.chunks.clear()

    # -- writing -------------------------------------------------------------------------

    def press(self, keys: str | bytes) -> float:
        """Write keys as typed; the time just before the write."""
        data = keys.encode() if isinstance(keys, str) else keys
        t = time.perf_counter()
        os.write(self.fd, data)
        return t

    def response(self, keys: str | bytes, quiet: float, timeout: float = 10.0,
                 marker: str | None = None) -> tuple[float, int]:
        """Write keys and read the whole update they cause.

        Returns (seconds from the write to the last byte of the update, bytes written). With
        a marker, the update is not over before the marker has appeared in it.
        """
        self.chunks.clear()
        t0 = self.press(keys)
        if marker is not None:
            self.wait_for(marker, timeout)
        elif not self._read(timeout):
            raise TimeoutError(f"no update within {timeout} s after {keys!r}")
        end = self.settle(quiet, timeout)
        return end - t0, sum(len(data) for _, data in self.chunks)

    # -- ending --------------------------------------------------------------------------

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.fd)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
