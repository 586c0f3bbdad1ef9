"""The baseline for the first frame: a Textual app of the lesson screen's kind, started and
painted the same way as gdtutor.

It imports numpy, takes ten steps of the document's gradient descent with it, and shows them in
a Header, a DataTable, a Markdown pane, a textual-plotext plot of the loss and a Footer.
"""
import numpy as np
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Markdown
from textual_plotext import PlotextPlot

TEXT = """\
## The document's code

```python
def gradDescent(X, y, eps=0.01, numIt=1000):
    weights = torch.zeros(n, 1)
    for k in range(numIt):
        grad = torch.mm(X.t(), torch.mm(X, weights) - y) / 2
        weights = weights - eps * grad
```

Each iteration takes three steps: the gradient, the step, the update.
"""


def descent(steps: int) -> list[tuple[int, float, float, float]]:
    X = np.array([[1, 1], [3, 1]], dtype=np.float32)
    y = np.array([2, 4], dtype=np.float32)
    w = np.zeros(2, dtype=np.float32)
    rows = []
    for k in range(steps):
        r = X @ w - y
        rows.append((k, float(w[0]), float(w[1]), float(r @ r / 4)))
        w = w - np.float32(0.01) * (X.T @ r / 2)
    return rows


class Baseline(App):
    TITLE = "gradDescent"
    CSS = "#left { width: 1fr; } PlotextPlot { width: 1fr; } DataTable { height: 8; }"
    BINDINGS = [("n", "bell", "next"), ("p", "bell", "previous"), ("q", "quit", "quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield DataTable()
                yield Markdown(TEXT)
            yield PlotextPlot()
        yield Footer()

    def on_mount(self) -> None:
        rows = descent(10)
        table = self.query_one(DataTable)
        table.add_columns("k", "w1", "w2", "loss")
        table.add_rows([(k, f"{a:.4f}", f"{b:.4f}", f"{loss:.4g}") for k, a, b, loss in rows])
        plt = self.query_one(PlotextPlot).plt
        plt.plot([k for k, *_ in rows], [loss for *_, loss in rows])
        plt.title("loss")


if __name__ == "__main__":
    Baseline().run()
