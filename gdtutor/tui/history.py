"""The history table: one row per iteration up to the current step, as replay prints it."""
from __future__ import annotations

from typing import Callable

from textual.widgets import DataTable

from .text import Numbers

WINDOW = 200   # rows kept: the latest iterations up to the current step


class History(DataTable, can_focus=False):
    """Row k: w_k, and the loss, grad and α·grad computed at w_(k−1) to get there."""

    def __init__(self, numbers: Numbers, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.numbers = numbers
        self._shown: tuple[int, int] | None = None   # (first k, last k) in the table

    def on_mount(self) -> None:
        self.add_columns("k", "w_k", "L(w_k-1)", "grad", "α·grad")

    def _row(self, k: int, record, start) -> tuple[str, ...]:
        n = self.numbers
        if k == 0:
            return ("0", n.weights(start), "", "", "")
        return (str(k), n.weights(record.weights), n.number(record.loss),
                n.weights(record.grad), n.weights(record.step_size))

    def show(self, k: int, record: Callable[[int], object], start) -> None:
        """Rows up to k (at most WINDOW). Rows already shown are kept: a record never changes
        once made, since α, the backend and reset only ever drop the history after k."""
        shown = self._shown
        if shown is not None and shown[0] <= k:
            first = shown[0] if k - shown[0] < WINDOW else k - WINDOW + 1
            if first > shown[1] + 1:
                shown = None
        else:
            shown = None
        if shown is None:
            first = max(0, k - WINDOW + 1)
            self.clear()
            shown = (first, first - 1)
        shown_first, shown_last = shown
        for i in range(shown_first, first):
            self.remove_row(str(i))
        for i in range(shown_last, k, -1):
            self.remove_row(str(i))
        for i in range(max(shown_last + 1, first), k + 1):
            self.add_row(*self._row(i, record(i) if i else None, start), key=str(i))
        self._shown = (first, k)
        self.move_cursor(row=k - first, scroll=True)
