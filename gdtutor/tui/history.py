"""The history table: one row per iteration up to the current step, in the lesson text's order.

Row k reads left to right as the document computes iteration k: from w[k-1] and its loss,
grad, α and α·grad to w[k]. The table is wider than the left pane at 80 columns: it scrolls
sideways (shift+← and shift+→ a few columns at a time; ← and → step the lesson), and Home and
End jump to the first and the last row.
"""
from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.widgets import DataTable

from .glyphs import shown
from .text import Numbers

WINDOW = 200   # rows kept: the latest iterations up to the current step
# the headers, in the steps panel's notation: w[k-1] is w_(k−1), the weights before step k
COLUMNS = ("k", "w[k-1]", "L(w[k-1])", "grad", "α", "α·grad", "w[k]")


class History(DataTable, can_focus=False):
    """Row k: w[k-1], the loss, grad, α and α·grad computed there, and w[k]."""

    def __init__(self, numbers: Numbers, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.numbers = numbers
        self._shown: tuple[int, int] | None = None   # (first k, last k) in the table
        self._source: tuple | None = None            # (k, record, start) of the last show

    def on_mount(self) -> None:
        # Text, not markup: `w[k-1]` is a header, not a style
        self.add_columns(*(Text(shown(self, head)) for head in COLUMNS))

    def _row(self, k: int, record, start) -> tuple[str, ...]:
        n = self.numbers
        if k == 0:
            return tuple(Text(cell) for cell in ("0", "", "", "", "", "",
                                                  shown(self, n.weights(start))))
        return tuple(Text(shown(self, cell)) for cell in (
            str(k), n.weights(record.weights_before), n.number(record.loss),
            n.weights(record.grad), n.lr(record.lr), n.weights(record.step_size),
            n.weights(record.weights)))

    def show(self, k: int, record: Callable[[int], object], start) -> None:
        """Rows up to k (at most WINDOW). Rows already shown are kept: a record never changes
        once made, since α, the backend and reset only ever drop the history after k."""
        self._source = (k, record, start)
        shown_rows = self._shown
        if shown_rows is not None and shown_rows[0] <= k:
            first = shown_rows[0] if k - shown_rows[0] < WINDOW else k - WINDOW + 1
            if first > shown_rows[1] + 1:
                shown_rows = None
        else:
            shown_rows = None
        if shown_rows is None:
            first = max(0, k - WINDOW + 1)
            self.clear()
            shown_rows = (first, first - 1)
        shown_first, shown_last = shown_rows
        for i in range(shown_first, first):
            self.remove_row(str(i))
        for i in range(shown_last, k, -1):
            self.remove_row(str(i))
        for i in range(max(shown_last + 1, first), k + 1):
            self.add_row(*self._row(i, record(i) if i else None, start), key=str(i))
        self._shown = (first, k)
        self.move_cursor(row=k - first, scroll=True)

    def numbers_changed(self, numbers: Numbers) -> None:
        """Write every row again with `numbers` (full precision on or off)."""
        self.numbers = numbers
        self._shown = None
        if self._source is not None:
            self.show(*self._source)

    def jump_to(self, end: str) -> None:
        """Home: the first row shown; End: the last (the current step)."""
        if self.row_count:
            self.move_cursor(row=0 if end == "home" else self.row_count - 1, scroll=True)

    def scroll_columns(self, direction: int) -> None:
        """Sideways by about a third of the width (the cells stay whole on the next step)."""
        self.scroll_relative(x=direction * max(8, self.size.width // 3), animate=False)
