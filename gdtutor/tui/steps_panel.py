"""The document's three steps of one iteration, written out with the iteration's own numbers."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..checks import FAILED, PASSED
from ..i18n import _
from .lines import Lines, Writer
from .text import Numbers, paren


class StepsPanel(Lines):
    """Step k: grad = …, α·grad = …, w_k = w_(k−1) − α·grad = …, from one StepRecord.

    One weight is written as the document writes the worked example, one equation a line;
    a weight vector as a table, one weight a row, one step a column.
    """

    STICKY = True

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

    def show_start(self, weights, loss, diverged: bool = False, marks=()) -> None:
        """Step 0: the initial weights, before any iteration; `marks` are the lesson's
        checkpoints at step 0 (gdtutor.checks.marks_at)."""
        self._shown = (self.show_start, (weights, loss, diverged, marks))
        w, n = self.weight, self.numbers
        text = Writer()
        text.add(_("Step 0: start at {w}0").format(w=w), "bold")
        if self.vector:
            text.add(f"  {w} = ({', '.join(self.weight_names)})", "dim")
        text.add(f"\n  {w}0 = {n.weights(weights)}\n")
        text.add(f"  L({w}0) = {n.number(loss)}\n")
        if diverged:
            text.add("  " + _("the loss is not finite: the lesson diverged at step 0"),
                     "bold red")
        else:
            text.add("  " + _("press n for the first step"), "dim")
        add_marks(text, marks)
        self.set_class(diverged, "-diverged")
        self.show_lines(text.lines)

    def show_record(self, record, diverged_at: int | None = None, marks=()) -> None:
        """Step k from its record: the three steps from w_(k−1) to w_k, computed with the
        record's own α; `marks` are the lesson's checkpoints at step k."""
        self._shown = (self.show_record, (record, diverged_at, marks))
        diverged = diverged_at is not None and record.k >= diverged_at
        text = self._table(record) if self.vector else self._equations(record)
        if diverged:
            text.add("\n  " + _("diverged at step {k}").format(k=diverged_at), "bold red")
        add_marks(text, marks)
        self.set_class(diverged, "-diverged")
        self.show_lines(text.lines)

    def _equations(self, record) -> Writer:
        w, n, k = self.weight, self.numbers, record.k
        before, after = f"{w}{k - 1}", f"{w}{k}"
        grad, step = n.weights(record.grad), n.weights(record.step_size)
        old = n.weights(record.weights_before)
        text = Writer()
        text.add(_("Step {k}: {before} → {after}").format(k=k, before=before, after=after),
                 "bold")
        text.add(f"  α = {n.lr(record.lr)}")
        text.add(self._scale() + "\n", "dim")
        text.add("1 ", "bold")
        # the document writes grad(w2) = grad(3/2) = −1/2; a long number is written once
        text.add(f"grad = grad({before}) = " + (f"grad({old}) = " if len(old) <= 12 else ""))
        text.add(grad + "\n", "bold")
        text.add("2 ", "bold")
        text.add(f"α·grad = {n.lr(record.lr)} · {paren(grad)} = ")
        text.add(step + "\n", "bold")
        text.add("3 ", "bold")
        text.add(f"{after} = {before} − α·grad = {old} − {paren(step)} = ")
        text.add(n.weights(record.weights), "bold reverse")
        text.add(f"\n  L({before}) = {n.number(record.loss)}")
        return text

    def _table(self, record) -> Writer:
        w, n, k = self.weight, self.numbers, record.k
        before, after = f"{w}{k - 1}", f"{w}{k}"
        columns = [(before, record.weights_before), (f"1 grad({before})", record.grad),
                   ("2 α·grad", record.step_size),
                   (f"3 {after} = {before} − α·grad", record.weights)]
        cells = [[n.number(v) for v in np.asarray(values).reshape(-1)]
                 for _name, values in columns]
        widths = [max(len(head), *map(len, col)) for (head, _values), col in zip(columns, cells)]
        name_width = max(map(len, self.weight_names))
        room = (self.size.width or self.app.size.width) - 2
        text = Writer()
        text.add(_("Step {k}: {before} → {after}").format(k=k, before=before, after=after),
                 "bold")
        text.add(f"  α = {n.lr(record.lr)}  L({before}) = {n.number(record.loss)}")
        text.add(self._scale(), "dim")
        if name_width + sum(widths) + 2 * len(widths) > room:
            # too narrow for w_(k−1) as a column: it goes on a line of its own
            text.add(f"\n{before} = {n.weights(record.weights_before)}")
            columns, cells, widths = columns[1:], cells[1:], widths[1:]
        # a table without rules: a column of names, then one column per step, two spaces
        # apart; the titles bold, and the last column (the new weights) bold
        text.add("\n" + " " * name_width)
        last = len(columns) - 1
        for j, ((title, _values), width) in enumerate(zip(columns, widths)):
            text.add("  ")
            text.add(title if j == last else title.ljust(width), "bold")
        for i, name in enumerate(self.weight_names):
            text.add("\n" + name.ljust(name_width))
            for j, (col, width) in enumerate(zip(cells, widths)):
                text.add("  ")
                text.add(col[i], "bold") if j == last else text.add(col[i].ljust(width))
        return text

    def redraw(self) -> None:
        """Draw the last step shown again (with new numbers, or at a new width)."""
        if self._shown is not None:
            method, args = self._shown
            method(*args)

    def on_resize(self) -> None:
        if self._shown is not None:
            method, args = self._shown
            method(*args)


MARK_STYLES = {PASSED: "bold green", FAILED: "bold red"}


def add_marks(text: Writer, marks) -> None:
    """The lesson's checkpoints at this step, one a line: `✓ as in the document: w3 = 7/4`."""
    for mark in marks:
        text.add("\n  ")
        text.add(mark.text, MARK_STYLES.get(mark.status, "dim"))
