"""What a screen shows instead of itself when the terminal is smaller than gdtutor needs."""
from __future__ import annotations

from textual.widgets import Static

from ..i18n import _
from .glyphs import shown

MIN_WIDTH, MIN_HEIGHT = 60, 18


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


class TooSmall(Static):
    """A clear "enlarge the terminal" message; shown by the app's -too-small class."""

    def render(self) -> str:
        width, height = self.app.size
        return shown(self, _("Please enlarge the terminal.\n\ngdtutor needs at least "
                             "{min_width}×{min_height}; this one is {width}×{height}.\n\n"
                             "q quits.").format(min_width=MIN_WIDTH, min_height=MIN_HEIGHT,
                                                width=width, height=height))
