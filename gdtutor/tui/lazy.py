"""Views a lesson screen does not show at start, built the first time they are shown: the first
frame pays only for what is on it."""
from __future__ import annotations

from typing import Callable

from textual.widget import Widget
from textual.widgets import ContentSwitcher

from .pane import Pane


class LazyViews:
    """The views of a ContentSwitcher that are mounted on first show, not composed.

    `builders` maps a view's id to a function making its widget (with that id). A view with
    no builder is composed with the screen and always ready.
    """

    def __init__(self, builders: dict[str, Callable[[], Widget]]) -> None:
        self.builders = dict(builders)
        self.mounting: set[str] = set()

    def ready(self, view: str) -> bool:
        """True when the view's widget is mounted (so it can be drawn into)."""
        return view not in self.builders and view not in self.mounting

    def ensure(self, switcher: ContentSwitcher, view: str, shown: Callable[[], object]) -> None:
        """Mount `view` into `switcher` if it was never built; `shown()` runs once it is
        mounted (to draw what it shows). The widget is in the DOM on return, so the switcher
        can make it current at once."""
        build = self.builders.pop(view, None)
        if build is None:
            return
        self.mounting.add(view)
        mounting = switcher.mount(build())

        async def then() -> None:
            try:
                await mounting
            finally:
                self.mounting.discard(view)
            shown()

        switcher.call_next(then)


def history_table(numbers) -> Widget:
    """The history view (DataTable is imported only now)."""
    from .history import History
    return History(numbers, id="history")


def readable(markdown: str) -> str:
    """Lesson text as the Markdown view is given it: no escape sequence reaches the terminal,
    and a line break inside a Chinese paragraph joins without the space Markdown would put."""
    from ..cjk import join_soft_breaks
    from .literal import printable
    return join_soft_breaks(printable(markdown, multiline=True))


def lesson_text(markdown: str, pane_id: str = "lesson") -> Widget:
    """The lesson's text as a scrolling Markdown view (markdown_it is imported only now)."""
    from textual.widgets import Markdown
    return Pane(Markdown(readable(markdown), id="lesson-text"), id=pane_id)
