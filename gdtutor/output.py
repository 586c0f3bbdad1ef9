"""What the headless commands write: lines a terminal shows as text, whatever a lesson holds,
and one line with status 2, not a traceback, when stdout is closed or full."""
from __future__ import annotations

import os
import sys

from .safe_text import json_safe, printable


class OutputError(Exception):
    """stdout cannot be written (closed, a full disk): reported in one line, status 2."""


# Where the output's encoding cannot write the tutor's symbols (PYTHONIOENCODING=ascii, a C
# locale), they are written the ASCII way; anything else is backslash-escaped.
ASCII_SYMBOLS = str.maketrans({"α": "alpha", "·": "*", "−": "-", "≈": "~", "→": "->",
                               "≠": "!=", "∂": "d", "Σ": "sum", "²": "^2", "…": "...",
                               "∇": "grad ", "×": "x", "—": "-", "–": "-", "≤": "<=",
                               "≥": ">=", "λ": "lambda", "η": "eta", "ŵ": "w^", "\u0302": "^"})
_plain = {"stdout": False, "stderr": False}


def can_encode(stream) -> bool:
    try:
        "α·−≈→≠".encode(getattr(stream, "encoding", None) or "utf-8")
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def prepare_streams() -> None:
    """Streams that cannot encode the tutor's symbols write them as ASCII, and escape anything
    else they cannot write, instead of failing on the first α."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        _plain[name] = False
        if stream is None or can_encode(stream):
            continue
        _plain[name] = True
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def put(text: str) -> None:
    if sys.stdout is None:
        raise OutputError("stdout is closed")
    if _plain["stdout"]:
        text = text.translate(ASCII_SYMBOLS)
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc)) from None


def write(line: str) -> None:
    """One line of text for a person; nothing in it can act on the terminal."""
    put(printable(line) + "\n")


def write_json(line: str) -> None:
    put(json_safe(line) + "\n")


def warn(line: str) -> None:
    """One line on stderr; a closed or failing stderr is left alone."""
    if sys.stderr is None:
        return
    line = printable(line)
    if _plain["stderr"]:
        line = line.translate(ASCII_SYMBOLS)
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def finish_output() -> None:
    """Flush stdout now, so that a failing write is reported here and not by the interpreter
    at exit; then point stdout at the null device, where the exit's own flush cannot fail."""
    stream = sys.stdout
    if stream is None:
        return
    try:
        stream.flush()
    except BrokenPipeError:
        stdout_to_null()
    except OSError as exc:
        stdout_to_null()
        raise OutputError(exc.strerror or str(exc)) from None


def stdout_to_null() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)
