"""A floor for step latency: a Textual app whose only work per key is one line of text."""
from textual.app import App, ComposeResult
from textual.widgets import Static


class Counter(App):
    BINDINGS = [("n", "step", "step")]

    def __init__(self) -> None:
        super().__init__()
        self.k = 0

    def compose(self) -> ComposeResult:
        yield Static("gradDescent  k = 0 of 10000", id="status")

    def action_step(self) -> None:
        self.k += 1
        self.query_one("#status", Static).update(f"gradDescent  k = {self.k} of 10000")


if __name__ == "__main__":
    Counter().run()
