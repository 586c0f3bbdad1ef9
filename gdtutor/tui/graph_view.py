"""The computation graph as a list read top to bottom: inputs first, the output last."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from .text import Numbers, shape_text


class GraphView(Static):
    """Each node with its op, inputs, shape, value and gradient (and grad_fn on torch)."""

    def show(self, nodes, numbers: Numbers, caption: str = "", *, values: int | None = None,
             grads: frozenset[str] | None = None, current: str | None = None) -> None:
        """Render `nodes`; only the first `values` show a value and only `grads` a gradient."""
        text = Text(no_wrap=False)
        if caption:
            text.append(caption + "\n", style="dim")
        if not nodes:
            text.append("no graph: the loss is not finite here", style="bold red")
        for i, node in enumerate(nodes):
            seen = values is None or i < values
            style = "reverse" if node.id == current else ""
            text.append(f"{node.id:<4} ", style=f"bold {style}")
            if not seen:
                text.append("…\n", style="dim")
                continue
            head = f"{node.op}({', '.join(node.inputs)})" if node.inputs else node.op
            if node.op == "const":
                head = f"const {node.label}"
            text.append(head, style=style)
            if node.inputs and node.label:
                text.append(f"  {node.label}", style="italic")
            text.append(f"  {shape_text(node.shape)}", style="dim")
            if node.grad_fn:
                text.append(f"  {node.grad_fn}", style="dim")
            text.append("\n     = ")
            text.append(numbers.array(node.value), style="bold")
            show_grad = node.grad is not None and (grads is None or node.id in grads)
            if show_grad:
                text.append("   grad ")
                text.append(numbers.array(node.grad), style="bold")
            text.append("\n")
        self.update(text)
