"""Text from a lesson (titles, text, names, error messages that quote them) shown as typed: never
read as Rich markup, and no character in it can act on the terminal.

`printable` behaves as the core's gdtutor/safe_text.py `printable` does: C0 controls, DEL, C1
controls, the line and paragraph separators and the bidirectional controls are written as
escapes (`\\x1b`, `\\u202e`); a backslash is not, so applying it twice changes nothing more.
"""
from __future__ import annotations

import re

from rich.text import Text

_OTHER = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[\x00-\x1f{_OTHER}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER}]")     # \t and \n stay
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, multiline: bool = False) -> str:
    """`text` with every control character written as an escape; `multiline` keeps newlines
    and tabs (a block of Markdown)."""
    text = text if isinstance(text, str) else str(text)
    return (_MULTI_LINE if multiline else _ONE_LINE).sub(_escape, text)


def literal(text: object, style: str = "", multiline: bool = False, **options) -> Text:
    """A Rich Text of `text` exactly as typed (`[bold]` stays `[bold]`); on one line unless
    `multiline`."""
    return Text(printable(text, multiline), style=style, **options)


def say(node, message: object, **options) -> None:
    """node.notify(message) with the message shown as typed: it may quote a lesson, a file
    name or what a student pasted."""
    node.notify(printable(message), markup=False, **options)
