"""A program in a real pseudo-terminal of a given size: write keys, time what it paints."""
from __future__ import annotations

import fcntl
import os
import queue
import signal
import struct
import subprocess
import termios
import threading
import time

import pyte


def _controlling_tty() -> None:
    """In the child: make the pty its controlling terminal, as a terminal emulator would."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A child process on a pty of cols×rows; every chunk it writes is kept with its arrival time.

    The size is set on the pty before the child starts, so its first look at the terminal
    already sees it. Nothing answers the child's terminal queries, as with a plain xterm.
    A thread reads the pty and stamps each chunk as it arrives; the chunks are fed to a pyte
    screen only when the screen is looked at, so that parsing (slow, in Python) never delays
    a time stamp. The figures wait on what is on the screen, never on bytes in the stream:
    an app that writes only the cells that changed repeats no line.
    """

    def __init__(self, argv: list[str], cols: int, rows: int, env: dict[str, str] | None = None,
                 cwd: str | None = None) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.fd = master
        self._screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self._screen)
        self._unparsed: list[bytes] = []
        self._arrivals: queue.SimpleQueue = queue.SimpleQueue()
        self._ended = False
        self.chunks: list[tuple[float, bytes]] = []
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=cwd, preexec_fn=_controlling_tty, close_fds=True)
        os.close(slave)
        self._reader = threading.Thread(target=self._read_pty, daemon=True)
        self._reader.start()

    # -- reading -------------------------------------------------------------------------

    def _read_pty(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:          # the child closed the terminal
                data = b""
            self._arrivals.put((time.perf_counter(), data))
            if not data:
                return

    def _read(self, timeout: float) -> bool:
        """Take the next chunk that arrives within timeout seconds; False if none did."""
        if self._ended:
            raise EOFError("the program closed the terminal")
        try:
            arrived, data = self._arrivals.get(timeout=max(timeout, 0))
        except queue.Empty:
            return False
        if not data:
            self._ended = True
            raise EOFError("the program closed the terminal")
        self.chunks.append((arrived, data))
        self._unparsed.append(data)
        return True

    @property
    def display(self) -> list[str]:
        """The screen's lines, as a terminal would show them now."""
        for data in self._unparsed:
            self._stream.feed(data)
        self._unparsed.clear()
        return self._screen.display

    def output(self, since: int = 0) -> bytes:
        return b"".join(data for _, data in self.chunks[since:])

    def wait_for(self, marker: str, timeout: float) -> float:
        """Read until `marker` is on the screen; the arrival time of the chunk that put it there."""
        deadline = time.perf_counter() + timeout
        while not any(marker in line for line in self.display):
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
        self._reader.join(timeout=5)     # the child is gone: the read ends with EIO
        os.close(self.fd)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Screen:
    """A terminal screen of cols×rows that output is fed to (for output that arrives other
    than from a pty, such as a websocket's frames)."""

    def __init__(self, cols: int, rows: int) -> None:
        self._screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self._screen)   # a character may span two frames

    def feed(self, data: str | bytes) -> None:
        self._stream.feed(data.encode() if isinstance(data, str) else data)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self._screen.display)
