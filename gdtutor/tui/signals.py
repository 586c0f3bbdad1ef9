"""SIGTERM, SIGHUP (a dropped SSH link) and a terminal that hangs up without a signal end the
tutor as `q` does: what is left of the terminal is given back as it was found."""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

# By Python's defaults SIGTERM and SIGHUP end the process on the spot, leaving the terminal
# in the alternate screen with mouse tracking on, and SIGINT from another process (ctrl+c is a
# key here) ends it with status 0. The tutor ends itself instead, as `q` does.
ENDING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT")
               if hasattr(signal, name))
HANGUP = getattr(signal, "SIGHUP", 1)
CHECK_TERMINAL = 0.5   # seconds between checks that the terminal is still there


def status_for(signum: int) -> int:
    """The exit status a shell reports for a program ended by `signum`."""
    return 128 + signum


@contextmanager
def caught_until_running(ending: list[int]) -> Iterator[None]:
    """Until the app's loop takes over (`hand_to_loop`), an ending signal is only noted in
    `ending`; afterwards the handlers that were there before are put back."""
    previous = {}
    for signum in ENDING:
        try:
            previous[signum] = signal.signal(signum, lambda n, _frame: ending.append(n))
        except (ValueError, OSError):   # not the main thread: nothing to catch here
            pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def hand_to_loop(end: Callable[[int], None]) -> bool:
    """From now on an ending signal calls end(signum) on the running loop, between events."""
    loop = asyncio.get_running_loop()
    try:
        for signum in ENDING:
            loop.add_signal_handler(signum, end, signum)
    except (ValueError, RuntimeError, NotImplementedError):   # not the main thread, or Windows
        return False
    return True


def terminal_gone() -> bool:
    """The keyboard's terminal hung up: it is no terminal any more. (No SIGHUP comes when the
    session's shell ignores it; Textual's input thread then reads end-of-file forever.)"""
    stdin = sys.__stdin__
    try:
        return stdin is None or not os.isatty(stdin.fileno())
    except (OSError, ValueError):
        return True



class DaemonThreads(concurrent.futures.ThreadPoolExecutor):
    """The loop's default executor while the tutor runs (Textual runs thread workers there):
    each job on a daemon thread of its own. A lesson's jobs stop at their cancel flag within
    milliseconds of `q`; this is for one that cannot (a read that never returns), which then
    does not keep the ended tutor's process alive, as the standard pool's threads would: they
    are joined at exit. (asyncio takes only a ThreadPoolExecutor; its own pool stays unused.)"""

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:     # handed to whoever waits on the future
                future.set_exception(error)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="gdtutor-work", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the jobs' threads end with the process."""


def ending_promptly() -> asyncio.AbstractEventLoop:
    """A new event loop for App.run(loop=...) whose default executor is DaemonThreads."""
    loop = asyncio.new_event_loop()
    loop.set_default_executor(DaemonThreads())
    return loop
