"""The error types a user may see, their one-line form, and how a message quotes a value."""
from __future__ import annotations

import difflib
from fractions import Fraction

from .i18n import _
from .safe_text import printable


class GdtutorError(Exception):
    """Bad input: rendered as `gdtutor: file:line: field: message`, exit status 2."""

    status = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def located(self, *, file: str | None = None, line: int | None = None,
                field: str | None = None) -> "GdtutorError":
        """The same error with any missing location filled in."""
        return GdtutorError(self.message, file=self.file or file,
                            line=self.line if self.line is not None else line,
                            field=self.field or field)

    def __str__(self) -> str:
        """One line, whatever the file name, the field or the message hold: control
        characters (a newline, an escape sequence) are shown escaped."""
        where = ""
        if self.file:
            where = printable(self.file) + (f":{self.line}" if self.line is not None else "") + ": "
        what = f"{printable(self.field)}: " if self.field else ""
        text = printable(self.message.strip())
        return f"gdtutor: {where}{what}{text}"


class ExprError(GdtutorError):
    """An expression that is malformed, unsafe or too costly to compute."""


class NotFinite(ArithmeticError):
    """An exact computation divided by zero: the lesson diverges there."""


class GrewTooLarge(GdtutorError):
    """Stepping stopped: exact values grew past the size limit at a step (the steps before it
    stand)."""


class TooLarge(ArithmeticError):
    """An exact result whose numerator or denominator passed the size limit: computing on
    would take ever longer (each operation costs more as the fractions grow)."""

    def __init__(self, label: str, bits: int, limit: int) -> None:
        super().__init__(f"exact values grew past {limit} bits (in '{label}'); "
                         "use dtype float64")
        self.label = label
        self.bits = bits
        self.limit = limit

    def __str__(self) -> str:
        """Said in the language of the moment it is shown."""
        return _("exact values grew past {limit} bits (in '{label}'); use dtype float64").format(
            limit=self.limit, label=self.label)


def show(value) -> str:
    """A value as a message quotes it, short."""
    if value is None:
        return _("nothing")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quoted(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("a mapping")
    if isinstance(value, (int, Fraction)):
        return number_text(value)
    return str(value)


def number_text(value) -> str:
    """An exact number for a message: in full, or its size when it is too long to read (and
    past Python's limit on converting integers to text)."""
    x = Fraction(value)
    digits = max(x.numerator.bit_length(), x.denominator.bit_length()) * 0.30103
    if digits > 60:
        return _("a number of about {n} digits").format(n=int(digits) + 1)
    return str(x)


def suggest(word: str, choices) -> str:
    """` (did you mean 'x'?)` for the choice closest to `word` ignoring case, or ''."""
    folded = {choice.lower(): choice for choice in choices}  # so that 'Y' finds 'y'
    close = difflib.get_close_matches(word.lower(), list(folded), n=1)
    return _(" (did you mean '{close}'?)").format(close=folded[close[0]]) if close else ""


def quoted(text: str) -> str:
    """`'text'`, as a message quotes a name or what the user wrote (“text” in Chinese)."""
    return _("'{text}'").format(text=text)
