"""The error types a user may see, their one-line form, and how a message quotes a value."""
from __future__ import annotations

import difflib


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
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        what = f"{self.field}: " if self.field else ""
        text = " ".join(self.message.split())  # always one line
        return f"gdtutor: {where}{what}{text}"


class ExprError(GdtutorError):
    """An expression that is malformed, unsafe or too costly to compute."""


class NotFinite(ArithmeticError):
    """An exact computation divided by zero: the lesson diverges there."""


def show(value) -> str:
    """A value as a message quotes it, short."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + (value if len(value) <= 40 else value[:37] + "...") + "'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return str(value)


def suggest(word: str, choices) -> str:
    """` (did you mean 'x'?)` for the choice closest to `word` ignoring case, or ''."""
    folded = {choice.lower(): choice for choice in choices}  # so that 'Y' finds 'y'
    close = difflib.get_close_matches(word.lower(), list(folded), n=1)
    return f" (did you mean '{folded[close[0]]}'?)" if close else ""
