"""Text from a lesson (titles, text, names, error messages that quote them) shown as typed: never
read as Rich markup, and no character in it can act on the terminal (the core's `printable`)."""
from __future__ import annotations

from rich.text import Text

from ..safe_text import printable

__all__ = ["literal", "printable", "say"]


def literal(text: object, style: str = "", multiline: bool = False, **options) -> Text:
    """A Rich Text of `text` exactly as typed (`[bold]` stays `[bold]`); on one line unless
    `multiline`."""
    return Text(printable(text, multiline), style=style, **options)


def say(node, message: object, **options) -> None:
    """node.notify(message) with the message shown as typed: it may quote a lesson, a file
    name or what a student pasted."""
    node.notify(printable(message), markup=False, **options)
