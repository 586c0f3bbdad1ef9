"""The graph screen: the forward pass node by node, then the backward pass back to the inputs."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import Footer, Markdown, Static

from ..backward_steps import Step, backward_steps, node_names, step_lines
from ..i18n import _
from .glyphs import shown
from .graph_view import GraphView
from .lazy import readable
from .lesson_screen import LessonScreen
from .literal import literal
from .notice import Notice
from .pane import Pane
from .status import Status, StatusLine
from .too_small import TooSmall


class GraphScreen(LessonScreen):
    """Stage 0 is the empty graph; stages 1..n build it; the rest fill in gradients."""

    BINDINGS = [*LessonScreen.STEPPING, *LessonScreen.LEAVING, *LessonScreen.SCROLLING]
    goto_noun = "stage"
    stage = var(0, init=False)

    def __init__(self, stepper, **kwargs) -> None:
        super().__init__(stepper, **kwargs)
        self.nodes = []
        self.backward: list[str] = []   # ids in the order the backward pass reaches them
        self.steps: dict[str, Step] = {}   # what reaches each node, edge by edge
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Status(id="status")
        yield Notice(id="notice")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Static(id="narration")
                with Pane(id="graph"):
                    yield GraphView(id="graph-view")
            with Pane(id="lesson"):
                yield Markdown(readable(shown(self, self.lesson_markdown())), id="lesson-text")
        yield Footer(compact=True)
        yield TooSmall()

    def on_mount(self) -> None:
        if self.waiting_for_torch():
            self.refresh_status()
            return
        self.load_nodes()
        self.sync()

    def load_nodes(self) -> None:
        self.nodes = self.stepper.nodes()
        self.backward = [n.id for n in reversed(self.nodes) if n.grad is not None]
        self.steps = {step.id: step for step in backward_steps(self.nodes, self.lesson.names)}
        self.names = node_names(self.nodes, self.lesson.names)

    @property
    def stages(self) -> int:
        return len(self.nodes) + len(self.backward)

    # -- state into widgets ----------------------------------------------------------------

    def sync(self) -> None:
        self.stage = min(self.stage, self.stages)
        self._show(self.stage)

    def watch_stage(self, stage: int) -> None:
        self._show(stage)

    def _show(self, stage: int) -> None:
        n = len(self.nodes)
        back = self.backward[:max(0, stage - n)]
        current = (self.nodes[stage - 1].id if 0 < stage <= n
                   else back[-1] if back else None)
        self.query_one(GraphView).show(
            self.nodes, self.numbers, "", values=min(stage, n), grads=frozenset(back),
            current=current, names=self.lesson.names, ascii=self.ascii_plot)
        # lesson names are shown as they are written, never read as markup
        self.query_one("#narration", Static).update(literal(self.narrate(stage), multiline=True))
        self.refresh_status()
        self.moved()

    def narrate(self, stage: int) -> str:
        """What the last stage did, as the document tells it: a forward stage's node and
        value; a backward stage's upstream × local for each edge into the node, and their sum."""
        nodes, n = self.nodes, len(self.nodes)
        if not nodes:
            return _("This expression has no graph to show.")
        fmt = self.numbers.array
        if stage == 0:
            return _("Press n to run the expression: each step adds one node to the graph, "
                     "as torch builds it while the code runs.")
        if stage <= n:
            return self.narrate_forward(stage)
        j = stage - n
        node = next(m for m in nodes if m.id == self.backward[j - 1])
        name = self.names[node.id]
        lines = [_("backward {k}/{n}: {name}").format(k=j, n=len(self.backward), name=name)
                 + (f"  ({node.grad_fn})" if node.grad_fn else "")]
        step = self.steps.get(node.id)
        if step is not None:
            lines += [line for line in step_lines(step, nodes, self.names, fmt)]
        if j == len(self.backward):
            leaves = [m for m in nodes if m.op == "param"]
            lines.append(_("Done: {grads}").format(grads=", ".join(
                f"{self.names[m.id]}.grad = {fmt(m.grad)}" for m in leaves)))
        return "\n".join(lines)

    def narrate_forward(self, stage: int) -> str:
        n = len(self.nodes)
        node = self.nodes[stage - 1]
        name, value = self.names[node.id], self.numbers.array(node.value)
        if node.op == "param":
            text = _("forward {k}/{n}: {name} = {value}, a leaf that requires grad")
        elif node.op == "data":
            text = _("forward {k}/{n}: {name} = {value}, data (no grad)")
        elif node.op == "const":
            text = _("forward {k}/{n}: {name}, a constant")
        else:
            if name.replace(" ", "") != node.label.replace(" ", ""):
                name = f"{name} = {node.label}"
            text = _("forward {k}/{n}: {name} = {value}")
        text = text.format(k=stage, n=n, name=name, value=value)
        if stage == n:
            text += "\n" + _("The graph is built; n starts the backward pass.")
        return text

    def scroll_target(self, direction: str):
        return self.query_one("#graph" if direction in ("up", "down") else "#lesson")

    def position_index(self) -> int:
        return self.stage

    def kept(self) -> dict:
        return {**super().kept(), "stage": self.stage}

    def restore(self, kept: dict) -> None:
        if kept.get("kind") == "graph":
            self.stage = min(kept.get("stage", 0), self.stages)
        super().restore(kept)

    def refresh_status(self) -> None:
        self.query_one(Status).show(StatusLine(
            title=self.lesson.title.get(self.lang),
            position=_("stage {k} of {n}").format(k=self.stage, n=self.stages), lr=None,
            backend=self.stepper.backend_name, dtype=self.stepper.dtype,
            playing=self.playing, speed=self.speed_text(), busy=self.busy))

    # -- what the keys do --------------------------------------------------------------------

    def advance(self) -> bool:
        if self.stage >= self.stages:
            self.notify(_("The backward pass is complete. r starts again."), timeout=4)
            return False
        self.stage += 1
        return True

    def retreat(self) -> bool:
        if self.stage == 0:
            return False
        self.stage -= 1
        return True

    def restart(self) -> None:
        self.stage = 0

    def last_step(self) -> int:
        return self.stages

    def jump(self, target: int) -> None:
        self.stage = target

    def backend_switched(self) -> None:
        self.load_nodes()
