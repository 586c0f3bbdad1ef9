"""The computation graph as a list read top to bottom: inputs first, the output last."""
from __future__ import annotations

from .lines import Lines, Writer
from .text import Numbers, shape_text


class GraphView(Lines):
    """Each node with its op, inputs, shape, value and gradient (and grad_fn on torch)."""

    STICKY = True

    def show(self, nodes, numbers: Numbers, caption: str = "", *, values: int | None = None,
             grads: frozenset[str] | None = None, current: str | None = None) -> None:
        """Render `nodes`; only the first `values` show a value and only `grads` a gradient."""
        text = Writer()
        if caption:
            text.add(caption + "\n", "dim")
        if not nodes:
            text.add("no graph: the loss is not finite here", "bold red")
        for i, node in enumerate(nodes):
            seen = values is None or i < values
            style = "reverse" if node.id == current else ""
            text.add(f"{node.id:<4} ", f"bold {style}")
            if not seen:
                text.add("…\n", "dim")
                continue
            head = f"{node.op}({', '.join(node.inputs)})" if node.inputs else node.op
            if node.op == "const":
                head = f"const {node.label}"
            text.add(head, style)
            if node.inputs and node.label:
                text.add(f"  {node.label}", "italic")
            text.add(f"  {shape_text(node.shape)}", "dim")
            if node.grad_fn:
                text.add(f"  {node.grad_fn}", "dim")
            text.add("\n     = ")
            text.add(numbers.array(node.value), "bold")
            show_grad = node.grad is not None and (grads is None or node.id in grads)
            if show_grad:
                text.add("   grad ")
                text.add(numbers.array(node.grad), "bold")
            text.add("\n")
        self.show_lines(text.lines)
