"""The computation graph drawn as a tree: the output at the top, each node joined by a line to
the nodes it reads, down to the inputs; a node read twice is drawn once and referred to after.

While the forward pass runs, only the nodes computed so far are drawn: each is the top of its
own small tree until an operation reads it.
"""
from __future__ import annotations

import numpy as np
from rich.cells import cell_len

from ..backward_steps import node_names
from ..i18n import _
from .lines import Lines, Writer
from .text import Numbers, shape_text

# The lines of the tree. The shared glyph table (--ascii) is not in tui/ yet, so the graph
# keeps its own: box drawing, and ASCII-only lines for --ascii.
GLYPHS = {
    False: {"branch": "├─ ", "last": "└─ ", "pipe": "│  ", "blank": "   "},
    True: {"branch": "|- ", "last": "`- ", "pipe": "|  ", "blank": "   "},
}
ROWS = 6   # a matrix with more rows shows the first ones, an ellipsis, the last


def fitted(numbers: Numbers, values, room: int) -> list[str]:
    """A value on one line of at most `room` cells, summarised further (fewer values shown)
    until it fits, down to `[a, …, z]`; two values that would not fit as NUMBER-cell numbers
    go one a line, whatever their digits: how many lines depends on the shape alone."""
    shape = np.shape(values) if values is not None else ()
    if shape == (2,) and narrowest(shape) > room:
        first, last = numbers.array(values).strip("[]").split(", ")
        return [f"[{first},", f" {last}]"]
    text = numbers.array(values)
    for limit in (4, 3):
        if cell_len(text) <= room:
            break
        text = numbers.array(values, limit)
    return [text]


def value_lines(numbers: Numbers, value, room: int = 1000) -> list[str]:
    """A value as lines: a number or a vector on one line, a matrix one row a line
    (`[[1, 1],` then ` [3, 1]]`), long arrays summarised; a column fits on one line."""
    array = np.asarray(value) if value is not None else None
    if array is None or array.ndim != 2 or array.shape[0] < 2:
        return fitted(numbers, value, room)
    rows = list(range(array.shape[0]))
    if len(rows) > ROWS:
        rows = rows[:ROWS - 2] + [None] + rows[-1:]
    texts = ["…" if r is None else numbers.array(array[r], 4) for r in rows]
    if array.shape[1] == 1 and cell_len(", ".join(texts)) + 2 <= room:
        return ["[" + ", ".join(texts) + "]"]
    last = len(texts) - 1
    return [("[" if i == 0 else " ") + t + ("]" if i == last else ",")
            for i, t in enumerate(texts)]


NUMBER = 11   # cells a number takes at most, as far as the layout plans: whether a value goes
              # beside its node or below it depends on its shape, not on its digits, so that
              # a step does not change the number of lines (and the screen's layout)


def narrowest(shape) -> int:
    """The cells a value of this shape takes at its most summarised, with NUMBER-cell numbers:
    `a`, `[a]`, `[a, b]`, `[a, …, z]`; a matrix a row a line, `[[a, …, z],`."""
    if not shape:
        return NUMBER
    per_row = shape[-1]
    width = NUMBER + 2 if per_row == 1 else 2 * NUMBER + (4 if per_row == 2 else 7)
    return width + (2 if len(shape) == 2 and shape[0] > 1 else 0)


class GraphView(Lines):
    """The graph as a tree, each node with its value and, once the backward pass has reached
    it, its gradient (and torch's grad_fn on torch)."""

    STICKY = True

    def show(self, nodes, numbers: Numbers, caption: str = "", *, values: int | None = None,
             grads: frozenset[str] | None = None, current: str | None = None,
             names=None, ascii: bool | None = None) -> None:
        """Draw the first `values` of `nodes` (all by default); only `grads` show a gradient.
        `names`: the lesson's node names, and `ascii` the --ascii flag; both default to those
        of the lesson screen the view is on."""
        screen = self.screen if self.is_mounted else None
        if names is None:
            lesson = getattr(screen, "lesson", None)
            names = lesson.names if lesson is not None else ()
        if ascii is None:
            ascii = bool(getattr(screen, "ascii_plot", False))
        text = Writer()
        if caption:
            text.add(caption + "\n", "dim")
        if not nodes:
            text.add(_("no graph: the loss is not finite here"), "bold red")
        shown = list(nodes if values is None else nodes[:values])
        Tree(self, shown, numbers, node_names(nodes, names), GLYPHS[ascii],
             grads, current).draw(text)
        self.show_lines(text.lines)


class Tree:
    """One drawing of the visible nodes into a Writer."""

    def __init__(self, view: GraphView, nodes, numbers: Numbers, names: dict[str, str],
                 glyphs: dict[str, str], grads, current) -> None:
        self.nodes = {n.id: n for n in nodes}
        self.order = [n.id for n in nodes]
        self.numbers = numbers
        self.names = names
        self.glyphs = glyphs
        self.grads = grads
        self.current = current
        self.width = max(view.size.width, 30)
        self.seen: set[str] = set()

    def roots(self) -> list[str]:
        """The visible nodes no visible node reads: the output, once the graph is built."""
        read = {a for n in self.nodes.values() for a in n.inputs}
        return [i for i in self.order if i not in read]

    def draw(self, text: Writer) -> None:
        for root in self.roots():
            self.node(text, root, "", "")

    def node(self, text: Writer, node_id: str, lead: str, rest: str) -> None:
        """One node at `lead` (its connector), its children below with `rest` before them."""
        node = self.nodes[node_id]
        name = self.names[node_id]
        style = "reverse" if node_id == self.current else ""
        text.add(lead, "dim")
        if node_id in self.seen:
            text.add(name, f"bold {style}")
            text.add("  " + _("(see above)") + "\n", "dim")
            return
        self.seen.add(node_id)
        # below this node: a line down to its children, or nothing
        indent = rest + (self.glyphs["pipe"] if node.inputs else self.glyphs["blank"])
        head = name
        if node.inputs and name.replace(" ", "") != node.label.replace(" ", ""):
            head = f"{name} = {node.label}"          # a named operation: what it computes
        used = cell_len(lead) + cell_len(head)
        text.add(head, f"bold {style}")
        if node.op != "const":
            used = self.value(text, node.value, used, indent, head)
        tag = self.tag(node, name)
        if tag and used + 2 + cell_len(tag) <= self.width:
            text.add("  " + tag, "dim")
            used += 2 + cell_len(tag)
        if node.grad is not None and (self.grads is None or node_id in self.grads):
            label = _("grad") + " "
            room = self.width - used - 3 - cell_len(label)
            grad = value_lines(self.numbers, node.grad, room)
            if len(grad) == 1 and cell_len(grad[0]) <= room and not len(node.shape):
                text.add("   " + label)
                text.add(grad[0], "bold")
            else:
                room = self.width - cell_len(indent) - 2 - cell_len(label)
                for i, row in enumerate(value_lines(self.numbers, node.grad, room)):
                    text.add("\n" + indent, "dim")
                    text.add("  " + (label if i == 0 else " " * cell_len(label)))
                    text.add(row, "bold")
        text.add("\n")
        children = list(node.inputs)
        for i, child in enumerate(children):
            last = i == len(children) - 1
            self.node(text, child, rest + self.glyphs["last" if last else "branch"],
                      rest + self.glyphs["blank" if last else "pipe"])

    def value(self, text: Writer, value, used: int, indent: str, head: str) -> int:
        """` = value` after the head, or on the lines below it where it does not fit; the
        columns used on the last line written."""
        room = self.width - used - 3
        body = value_lines(self.numbers, value, room)
        if narrowest(np.shape(value)) <= room and all(cell_len(row) <= room for row in body):
            text.add(" = ")
            text.add(body[0], "bold")
            align = " " * cell_len(head)    # the rows under the first: `indent` is 3 wider
                                            # than the node's own lead
            for row in body[1:]:
                text.add("\n" + indent, "dim")
                text.add(align + row, "bold")
            return used + 3 + cell_len(body[-1]) + (cell_len(align) if len(body) > 1 else 0)
        text.add(" =")
        room = self.width - cell_len(indent) - 2
        for row in value_lines(self.numbers, value, room):
            text.add("\n" + indent, "dim")
            text.add("  " + row, "bold")
        return cell_len(indent) + 2 + cell_len(row)

    def tag(self, node, name: str) -> str:
        """What is said in grey after a value: the node's id where its name is not the id, its
        shape if it is an array, and torch's backward function."""
        parts = []
        if name != node.id:
            parts.append(node.id)
        if len(node.shape):
            parts.append(shape_text(node.shape))
        if node.grad_fn:
            parts.append(node.grad_fn)
        return " ".join(parts)
