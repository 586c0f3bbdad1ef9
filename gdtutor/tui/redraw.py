"""Redrawing a widget without a layout pass when its height stays the same.

`Static.update` asks for a layout of the whole screen, because new content may need another
height. A step changes numbers, not heights: the steps panel, the graph and the status line
keep theirs. Measuring the new content at the widget's width (which the repaint needs anyway)
tells whether the layout is needed; most steps then repaint only the widgets that changed.
"""
from __future__ import annotations

from textual.widgets import Static


class InPlace(Static):
    """A Static whose `replace` repaints in place unless the content's height changes."""

    def replace(self, content) -> None:
        self.update(content, layout=False)
        width, height = self.content_size
        if not width or not self.is_mounted:
            self.refresh(layout=True)      # not laid out yet: the first layout measures it
            return
        if self.styles.height is not None and self.styles.height.is_cells:
            return                         # a fixed height (the status line): never a layout
        if self._render().get_height(self.styles, width) != height:
            self.refresh(layout=True)
