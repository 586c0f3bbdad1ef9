"""The one error type a user may see, and its one-line form."""
from __future__ import annotations


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
