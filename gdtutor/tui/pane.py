"""A scrolling view that never takes focus, so every key stays with the screen's bindings."""
from __future__ import annotations

from textual.containers import VerticalScroll


class Pane(VerticalScroll, can_focus=False):
    """Scrolled by the screen (↑ ↓ PgUp PgDn), not by focus."""
