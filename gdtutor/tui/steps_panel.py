"""The document's three steps of one iteration, written out with the iteration's own numbers."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from .text import Numbers, paren


class StepsPanel(Static):
    """Step k: grad = …, α·grad = …, w_k = w_(k−1) − α·grad = …, from one StepRecord.

    One weight is written as the document writes the worked example, one equation a line;
    a weight vector as a table, one weight a row, one step a column.
    """

    def __init__(self, numbers: Numbers, weight_names: list[str], grad_scale: Fraction,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.numbers = numbers
        self.weight_names = weight_names
        self.grad_scale = Fraction(grad_scale)
        self.vector = len(weight_names) > 1
        self.weight = "w" if self.vector else weight_names[0]
        self._shown = None   # the last show_* call and its arguments, redone on resize

    def _scale(self) -> str:
        return "" if self.grad_scale == 1 else f"  (grad = {self.grad_scale}·∂L/∂{self.weight})"

    def show_start(self, weights, loss, diverged: bool = False) -> None:
        """Step 0: the initial weights, before any iteration."""
        self._shown = (self.show_start, (weights, loss, diverged))
        w, n = self.weight, self.numbers
        text = Text()
        text.append(f"Step 0: start at {w}0", style="bold")
        if self.vector:
            text.append(f"  {w} = ({', '.join(self.weight_names)})", style="dim")
        text.append(f"\n  {w}0 = {n.weights(weights)}\n")
        text.append(f"  L({w}0) = {n.number(loss)}\n")
        if diverged:
            text.append("  the loss is not finite: the lesson diverged at step 0", style="bold red")
        else:
            text.append("  press n for the first step", style="dim")
        self.set_class(diverged, "-diverged")
        self.update(text)

    def show_record(self, record, diverged_at: int | None = None) -> None:
        """Step k from its record: the three steps from w_(k−1) to w_k."""
        self._shown = (self.show_record, (record, diverged_at))
        diverged = diverged_at is not None and record.k >= diverged_at
        body = self._table(record) if self.vector else self._lines(record)
        if diverged:
            body = Group(body, Text(f"  diverged at step {diverged_at}", style="bold red"))
        self.set_class(diverged, "-diverged")
        self.update(body)

    def _lines(self, record) -> Text:
        w, n, k = self.weight, self.numbers, record.k
        before, after = f"{w}{k - 1}", f"{w}{k}"
        grad, step = n.weights(record.grad), n.weights(record.step_size)
        old = n.weights(record.weights_before)
        text = Text()
        text.append(f"Step {k}: {before} → {after}", style="bold")
        text.append(self._scale() + "\n", style="dim")
        text.append("1 ", style="bold")
        # the document writes grad(w2) = grad(3/2) = −1/2; a long number is written once
        text.append(f"grad = grad({before}) = " + (f"grad({old}) = " if len(old) <= 12 else ""))
        text.append(grad + "\n", style="bold")
        text.append("2 ", style="bold")
        text.append(f"α·grad = {n.lr(record.lr)} · {paren(grad)} = ")
        text.append(step + "\n", style="bold")
        text.append("3 ", style="bold")
        text.append(f"{after} = {before} − α·grad = {old} − {paren(step)} = ")
        text.append(n.weights(record.weights), style="bold reverse")
        text.append(f"\n  L({before}) = {n.number(record.loss)}")
        return text

    def _table(self, record) -> Group:
        w, n, k = self.weight, self.numbers, record.k
        before, after = f"{w}{k - 1}", f"{w}{k}"
        columns = [(before, record.weights_before), (f"1 grad({before})", record.grad),
                   ("2 α·grad", record.step_size),
                   (f"3 {after} = {before} − α·grad", record.weights)]
        cells = [[n.number(v) for v in np.asarray(values).reshape(-1)] for _, values in columns]
        widths = [max(len(head), *map(len, col)) for (head, _), col in zip(columns, cells)]
        name_width = max(map(len, self.weight_names))
        room = (self.size.width or self.app.size.width) - 2
        head = Text()
        head.append(f"Step {k}: {before} → {after}", style="bold")
        head.append(f"  α = {n.lr(record.lr)}  L({before}) = {n.number(record.loss)}")
        head.append(self._scale(), style="dim")
        if name_width + sum(widths) + 2 * len(widths) > room:
            # too narrow for w_(k−1) as a column: it goes on a line of its own
            head.append(f"\n{before} = {n.weights(record.weights_before)}")
            columns, cells = columns[1:], cells[1:]
        table = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
        table.add_column("")
        for (title, _), _cells in zip(columns, cells):
            table.add_column(title, no_wrap=True)
        table.columns[-1].style = "bold"
        for i, name in enumerate(self.weight_names):
            table.add_row(name, *(col[i] for col in cells))
        return Group(head, table)

    def on_resize(self) -> None:
        if self._shown is not None:
            method, args = self._shown
            method(*args)
