"""A time limit on a case run in-process: a hang fails the test instead of hanging the suite."""
from __future__ import annotations

import contextlib
import signal


class Hang(BaseException):
    """A case ran past its limit; a BaseException, so that gdtutor's `main` cannot turn it
    into an ordinary status."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise Hang(f"still running after {seconds:g} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
