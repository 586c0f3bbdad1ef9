"""Chinese text that reads right: soft line breaks that join without a space, and columns
measured in terminal cells (a wide CJK character takes two).

Markdown turns a soft line break (a newline inside a paragraph) into a space. Between two
Chinese characters that space is a stray gap (`作为 有效梯度`), so `join_soft_breaks` joins
such lines before the text is shown; a break with English, a digit or a formula on either
side keeps its space. Both the transcript and the TUI's Markdown view use it.
"""
from __future__ import annotations

import re
import unicodedata

# Characters looked through when deciding what is on each side of a break: Markdown's inline
# markers (`**`, `_`) and the punctuation East Asian Width calls ambiguous (curly quotes, the
# ellipsis, dashes), which is CJK next to CJK text and Latin next to Latin text.
_TRANSPARENT = set("*_~“”‘’…—–·")

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_LIST_ITEM = re.compile(r"^ {0,3}([-+*]|\d{1,9}[.)])(\s|$)")
_RULE = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_QUOTE = re.compile(r"^ {0,3}>\s?")
_TABLE = re.compile(r"^\s*\|")


def is_wide(char: str) -> bool:
    """True for a character a terminal draws two cells wide (CJK, full-width forms)."""
    return unicodedata.east_asian_width(char) in "WF"


def width(text: str) -> int:
    """The cells `text` takes on a terminal (wide characters take two, combining marks none)."""
    return sum(0 if unicodedata.combining(c) else 2 if is_wide(c) else 1 for c in text)


def ljust(text: str, cells: int) -> str:
    """`text` padded on the right with spaces to `cells` terminal cells."""
    return text + " " * max(0, cells - width(text))


def rjust(text: str, cells: int) -> str:
    """`text` padded on the left with spaces to `cells` terminal cells."""
    return " " * max(0, cells - width(text)) + text


def _side(text: str, from_end: bool) -> str | None:
    """The character nearest the break on one side, looking through inline markers and
    ambiguous punctuation; the marker itself when the line holds nothing else."""
    chars = reversed(text) if from_end else iter(text)
    last = None
    for c in chars:
        if c not in _TRANSPARENT:
            return c
        last = c
    return last


def _cjk(char: str | None) -> bool:
    return char is not None and is_wide(char)


def _block_start(line: str) -> bool:
    """A line that starts a block of its own, so it never continues the paragraph above."""
    return bool(_FENCE.match(line) or _HEADING.match(line) or _LIST_ITEM.match(line)
                or _RULE.match(line) or _SETEXT.match(line) or _TABLE.match(line))


def _hard_break(line: str) -> bool:
    return line.endswith("  ") or line.endswith("\\")


def _indented(line: str) -> bool:
    return line.startswith("    ") or line.startswith("\t")


def join_soft_breaks(markdown: str) -> str:
    """`markdown` with each soft line break between two CJK (or full-width) characters
    removed, so the lines join without a space. Code blocks (fenced, or indented after a
    blank line), tables, headings, thematic breaks, blank-line paragraph breaks, hard breaks
    (two trailing spaces or a backslash) and the start of each list item are left alone; a
    list item's own continuation lines and a block quote's lines join like a paragraph's.
    Lines with a `|` are taken for table rows (a table need not start its rows with one).
    English and Chinese mixed on either side of a break keep their space."""
    out: list[str] = []
    fence: str | None = None        # the fence of the code block we are in
    indented_code = False           # in a code block indented by four spaces
    joinable = False                # the last line written may take the next one on its end
    for line in markdown.split("\n"):
        if fence is not None:
            out.append(line)
            if re.match(r"^ {0,3}" + re.escape(fence), line) and not line.strip(fence[0] + " "):
                fence = None
            continue
        blank = not line.strip()
        if indented_code and (blank or _indented(line)):
            out.append(line)
            continue
        indented_code = False
        match = _FENCE.match(line)
        if match:
            fence = match.group(1)
            out.append(line)
            joinable = False
            continue
        if blank:
            out.append(line)
            joinable = False
            continue
        if not joinable and _indented(line) and (not out or not out[-1].strip()):
            indented_code = True
            out.append(line)
            continue
        if joinable and not _block_start(line):
            prev = out[-1]
            body = line
            prev_quote = _QUOTE.match(prev)
            if prev_quote:
                found = _QUOTE.match(line)
                body = line[found.end():] if found else line
            if (_QUOTE.match(body) is None and "|" not in prev + body
                    and _cjk(_side(prev.rstrip(), True)) and _cjk(_side(body.lstrip(), False))):
                out[-1] = prev.rstrip() + body.lstrip()
                continue
        out.append(line)
        joinable = not (_HEADING.match(line) or _TABLE.match(line) or _RULE.match(line)
                        or _SETEXT.match(line) or _hard_break(line))
    return "\n".join(out)
