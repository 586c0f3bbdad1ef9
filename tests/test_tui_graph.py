"""The graph screen at 80×24: the graph drawn as a tree from the output down, the nodes named
as the lessons name them, and the backward pass node by node as upstream × local = grad, with
a node used twice showing its shares summed. The numbers come from the core (Stepper and
backward_steps) or from the lessons' closed forms, never from the screen itself."""
from __future__ import annotations

import re
import shutil

import pytest
from rich.cells import cell_len

from gdtutor.backward_steps import backward_steps
from gdtutor.catalog import builtin, resolve
from gdtutor.i18n import set_lang
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.graph_screen import GraphScreen
from gdtutor.tui.graph_view import GraphView
from screen_reader import screen_text

SIZE = (80, 24)
BOX = re.compile("[\u2500-\u257f]")      # box drawing


def app_on(lesson, **options) -> GdtutorApp:
    lesson = resolve(lesson) if isinstance(lesson, str) else lesson
    return GdtutorApp(builtin(), Stepper(lesson), **options)


def view_text(app) -> str:
    return app.screen.query_one(GraphView).content.plain


def narration(app) -> str:
    return " ".join(str(app.screen.query_one("#narration").content).split())


async def to_stage(pilot, stage: int) -> None:
    screen = pilot.app.screen
    while screen.stage < stage:
        await pilot.press("n")
        await pilot.pause()


@pytest.mark.parametrize("lesson_id, x", [("dynamic-graph", 3), ("backprop", 1)])
async def test_y_equals_x_squared_is_drawn_as_a_tree_with_the_output_named_y(lesson_id, x):
    app = app_on(lesson_id)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GraphScreen) and screen.stages == 5
        await to_stage(pilot, 3)                 # the forward pass: x, the constant 2, y
        lines = view_text(app).splitlines()
        assert lines[0].startswith(f"y = x**2 = {x * x}")
        assert lines[1].startswith(f"├─ x = {x}") and lines[2].startswith("└─ 2")
        await to_stage(pilot, 4)
        assert "∂y/∂y = 1" in narration(app)
        await to_stage(pilot, 5)
        said = narration(app)
        assert f"∂y/∂x = ∂y/∂y · 2x = 1 · {2 * x} = {2 * x}" in said
        assert f"x.grad = {2 * x}" in said
        assert f"grad {2 * x}" in view_text(app).splitlines()[1]
        assert "v2" not in said                  # the output is y, as the text calls it
        assert f"y = x**2 = {x * x}" in screen_text(app)


async def test_chain_rule_stepped_through_sums_the_two_shares_of_x():
    # f = x**3 + 2*x*y at x = 2, y = 3: ∂f/∂x = 3x² + 2y = 12 + 6 = 18, ∂f/∂y = 2x = 4
    x, y = 2, 3
    stepper = Stepper(resolve("chain-rule"))
    nodes = stepper.nodes()
    steps = backward_steps(nodes, stepper.lesson.names)
    app = app_on("chain-rule")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        n = len(nodes)
        assert screen.stages == n + len(steps)
        await to_stage(pilot, n)
        assert view_text(app).splitlines()[0].startswith(f"f = x**3 + 2 * x * y = {x**3 + 2*x*y}")
        assert "x  (see above)" in view_text(app)        # x is drawn once, then referred to
        for j, step in enumerate(steps, 1):
            await to_stage(pilot, n + j)
            said = narration(app)
            assert f"backward {j}/{len(steps)}" in said
            assert f"= {stepper.fmt(step.grad[()])}" in said
            shown = screen_text(app)
            if step.id == "y":
                assert f"∂f/∂y = ∂f/∂(2*x*y) · (2*x) = 1 · {2 * x} = {2 * x}" in shown
        shown = screen_text(app)
        assert f"from x**3: ∂f/∂(x**3) · 3x² = 1 · {3 * x**2} = {3 * x**2}" in shown
        assert f"from 2*x: ∂f/∂(2*x) · 2 = {y} · 2 = {2 * y}" in shown
        assert f"∂f/∂x = {3 * x**2} + {2 * y} = {3 * x**2 + 2 * y}" in shown
        assert "12 + 6 = 18" in shown
        assert f"x.grad = {3 * x**2 + 2 * y}, y.grad = {2 * x}" in narration(app)
        await pilot.press("b")
        await pilot.pause()
        assert "12 + 6" not in screen_text(app)


async def test_ascii_draws_the_tree_without_box_drawing():
    app = app_on("chain-rule", ascii_plot=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await to_stage(pilot, app.screen.stages)
        text = view_text(app) + narration(app)
        assert not BOX.search(text), text
        lines = view_text(app).splitlines()
        assert lines[1].startswith("|- x**3 = 8") and "`- 2*x*y = 12" in view_text(app)


async def test_matrices_show_as_rows_and_long_vectors_are_summarised(tmp_path):
    path = tmp_path / "matrix.yaml"
    v = list(range(1, 21))
    path.write_text("id: matrix\ntitle: M\nkind: graph\nexpression: sum(X @ w) * sum(v)\n"
                    f"inputs:\n  X: [[1, 1], [3, 1]]\n  w: [1, 2]\n  v: {v}\n",
                    encoding="utf-8")
    from gdtutor.catalog import load
    app = app_on(load(path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await to_stage(pilot, app.screen.stages)
        view = app.screen.query_one(GraphView)
        lines = view_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "X = [[1, 1]," in line)
        assert "[3, 1]]" in lines[first + 1]
        assert lines[first + 1].index("[3, 1]]") == lines[first].index("[1, 1],")
        vector = next(line for line in lines if re.search(r"\bv = \[", line))
        assert "…" in vector and "20]" in vector and "10" not in vector
        # every line fits the pane: nothing folds into the next line
        assert all(cell_len(line) <= view.size.width for line in lines), lines


async def test_in_chinese_the_shares_are_introduced_in_chinese():
    # the command line sets the language of every message before the app starts
    set_lang("zh")
    app = app_on("chain-rule", lang="zh")
    try:
        await chinese_shares(app)
    finally:
        set_lang("en")


async def chinese_shares(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await to_stage(pilot, app.screen.stages)
        said = narration(app)
        assert "12 + 6 = 18" in said and "from x**3" not in said
        assert "来自 x**3" in said


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_chain_rule_backward_pass_in_tmux_at_80x24():
    from test_tui_tmux import tutor
    term = tutor("chain-rule")
    try:
        stages = 8 + 6                           # 8 nodes forward, 6 with a gradient
        for k in range(1, stages + 1):
            term.keys("n")
            screen = term.wait_for(f"stage {k} of {stages}")
        screen = term.wait_for("12 + 6 = 18")
        assert "∂f/∂x = 12 + 6 = 18" in screen
        assert "from x**3: ∂f/∂(x**3) · 3x² = 1 · 12 = 12" in screen
        assert "f = x**3 + 2 * x * y = 20" in screen
        assert "x  (see above)" in screen
        assert "Traceback" not in screen
        term.keys("b")
        screen = term.wait_for(f"stage {stages - 1} of {stages}")
        assert "12 + 6 = 18" not in screen
    finally:
        term.close()
