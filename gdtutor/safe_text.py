"""Text from a lesson or a progress file made safe to show: no character in it can act on a
terminal (an escape sequence, a bell, a carriage return) or turn one line into two.

`printable` is the one function every output path uses (messages, transcripts, check, list,
analyze, report, the TUI); `json_safe` does the same for a line of JSON.
"""
from __future__ import annotations

import re

# C0 controls, DEL and C1 controls (ESC and 8-bit CSI among them); the line and paragraph
# separators, which some terminals and editors break lines at; and the bidirectional
# embeddings, overrides and isolates, which reorder what is shown.
_OTHER = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[\x00-\x1f{_OTHER}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER}]")     # \t and \n stay
_IN_JSON = re.compile(f"[{_OTHER}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, multiline: bool = False) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\n`, `\\u202e`).

    multiline: newlines and tabs stay (Markdown text shown as a block); everything else
    that could act on a terminal is still escaped. Applying it twice changes nothing more:
    a backslash is not escaped.
    """
    text = text if isinstance(text, str) else str(text)
    return (_MULTI_LINE if multiline else _ONE_LINE).sub(_escape, text)


def json_safe(line: str) -> str:
    """A line of JSON (from json.dumps, which escapes C0 itself) with DEL, C1 controls,
    separators and bidi controls written as \\u escapes, which JSON reads back as the same
    characters."""
    return _IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
