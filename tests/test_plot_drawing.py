"""The plots: read from plotext's matrix (tui/plotext_adapter.py) they draw, cell for cell and
colour for colour, what textual-plotext's own render (plotext's ANSI text parsed by Rich)
shows; on a plotext the adapter was not checked against, or when reading the matrix fails,
they are textual-plotext's own drawing."""
from __future__ import annotations

import pytest
from rich.text import Text
from textual_plotext import PlotextPlot

from gdtutor.catalog import builtin, resolve
from gdtutor.stepper import Stepper
from gdtutor.tui import plotext_adapter
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.loss_plot import LossPlot, x_limit
from gdtutor.tui.plot_base import ascii_row
from gdtutor.tui.parabola import Parabola
from gdtutor.tui.plot_base import thin, ticks


def normalised(text: Text) -> list[list[tuple[str, object]]]:
    """Cells with their combined Rich style (so that two spellings of a style compare equal)."""
    out = []
    for line in text.split("\n"):
        row = []
        for i, char in enumerate(line.plain):
            row.append((char, line.get_style_at_offset(_console(), i)))
        out.append(row)
    return out


def _console():
    from rich.console import Console
    return Console(color_system="truecolor", width=200)


@pytest.mark.parametrize("matrix", [True, False], ids=["matrix", "textual-plotext"])
@pytest.mark.parametrize("lesson_id, steps, ascii_plot, log", [
    ("worked-example", 4, False, False),
    ("worked-example", 9, True, False),
    ("grad-descent", 30, False, True),
    ("divergence", 520, False, False),
])
async def test_the_drawing_is_textual_plotexts(monkeypatch, matrix, lesson_id, steps,
                                               ascii_plot, log):
    monkeypatch.setattr(plotext_adapter, "enabled", matrix and plotext_adapter.enabled)
    read = []
    real = plotext_adapter.rows
    monkeypatch.setattr(plotext_adapter, "rows", lambda *a: read.append(1) or real(*a))
    app = GdtutorApp(builtin(), Stepper(resolve(lesson_id)), ascii_plot=ascii_plot)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        screen.stepper.goto(steps)
        screen.sync()
        if log:
            await pilot.press("l")
        await pilot.pause()
        plots = [screen.query_one(LossPlot)]
        if screen.one_weight:
            plots.append(screen.query_one(Parabola))
        for plot in plots:
            ours = plot.render()
            plot.plt.clear_figure()
            plot.feed(plot.plt)                       # a build uses up its data (log axes)
            theirs = PlotextPlot.render(plot)       # plotext's build, parsed by Rich
            if theirs.plain.endswith("\n"):
                theirs.right_crop(1)                 # plotext ends its text with a newline
            if ascii_plot:                           # --ascii: its frame drawn in ASCII
                theirs = Text("\n").join(ascii_row(line) for line in theirs.split("\n"))
            assert ours.plain == theirs.plain
            assert normalised(ours) == normalised(theirs)
            assert ours.plain.strip(), "the plot drew nothing"
    assert bool(read) == matrix


@pytest.mark.parametrize("versions, ok", [
    ({"plotext": "5.3.2", "textual-plotext": "1.0.1"}, True),
    ({"plotext": "5.2.0", "textual-plotext": "1.0"}, True),
    ({"plotext": "5.1.9", "textual-plotext": "1.0.1"}, False),
    ({"plotext": "6.0.0", "textual-plotext": "1.0.1"}, False),
    ({"plotext": "6.0rc1", "textual-plotext": "1.0.1"}, False),
    ({"plotext": "5.3.2", "textual-plotext": "2.0.0"}, False),
    ({"plotext": "5.3.2", "textual-plotext": None}, False),
])
def test_the_matrix_is_read_only_from_the_versions_it_was_checked_against(versions, ok):
    assert plotext_adapter.supported(versions) is ok


def test_the_matrix_is_read_from_the_installed_plotext():
    # the pinned versions (pyproject.toml) are inside the adapter's range
    assert plotext_adapter.supported(plotext_adapter.installed())
    assert plotext_adapter.enabled


async def test_a_matrix_that_cannot_be_read_falls_back_to_textual_plotext(monkeypatch):
    def broken(plot, width, height):
        raise AttributeError("'_figure_class' object has no attribute '_build_matrix'")

    monkeypatch.setattr(plotext_adapter, "rows", broken)
    monkeypatch.setattr(plotext_adapter, "enabled", True)
    app = GdtutorApp(builtin(), Stepper(resolve("worked-example")))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(3):
            await pilot.press("n")
        await pilot.pause()
        parabola = app.screen.query_one(Parabola)
        assert not plotext_adapter.enabled                     # not tried again
        shown = parabola.render()
        parabola.plt.clear_figure()
        parabola.feed(parabola.plt)
        theirs = PlotextPlot.render(parabola)
        assert shown.plain == theirs.plain.rstrip("\n")
        assert "w3 = 7/4" in shown.plain and "no plot" not in shown.plain


def test_thinning_keeps_each_buckets_extremes_and_the_ends():
    xs = list(range(10_001))
    ys = [(-1) ** i * (i % 97) for i in xs]        # a bouncing series
    tx, ty = thin(xs, ys)
    assert len(tx) <= 1_000
    assert tx[0] == 0 and tx[-1] == 10_000
    assert max(ty) == max(ys) and min(ty) == min(ys)
    assert tx == sorted(tx)


async def test_a_log_plot_redrawn_at_a_new_size_is_the_same_plot():
    """plotext's build takes the log of its data in place: a redraw after a resize must feed
    the data again, not build the used-up figure a second time (which drew nothing)."""
    app = GdtutorApp(builtin(), Stepper(resolve("grad-descent")))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(8):
            await pilot.press("n")
        await pilot.press("l")
        await pilot.pause()
        plot = app.screen.query_one(LossPlot)
        before, size = plot.render().plain, plot.size
        assert "(log)" in before and "cannot be drawn" not in before
        await pilot.resize_terminal(90, 28)
        await pilot.pause()
        assert "cannot be drawn" not in plot.render().plain
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        # the steps panel above keeps its tallest height only while the width stays (a
        # checkpoint line at step 0 made it taller): the plot may come back a line taller
        after = plot.render().plain
        assert after == before if plot.size == size else after.count("●") == 1


@pytest.mark.parametrize("k, last, limit", [
    (0, None, 10), (1, None, 10), (10, None, 10), (11, None, 20), (20, None, 20),
    (21, None, 50), (51, None, 100), (999, None, 1000), (1001, None, 2000),
    (510, 600, 600), (3, 7, 7), (0, 1, 1),
])
def test_the_loss_axis_grows_in_jumps_and_stops_at_the_last_step(k, last, limit):
    assert x_limit(k, last) == limit
    assert x_limit(k, last) >= min(k, last or k)


async def test_a_step_repaints_only_the_rows_of_the_loss_plot_it_changes():
    """With the axes held, one more point changes a few rows (the new stretch, the marker,
    the title), not the whole plot."""
    app = GdtutorApp(builtin(), Stepper(resolve("grad-descent")))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(12):
            await pilot.press("n")
        await pilot.pause()
        plot = app.screen.query_one(LossPlot)
        before = plot.render().plain.split("\n")
        await pilot.press("n")
        await pilot.pause()
        after = plot.render().plain.split("\n")
        assert len(before) == len(after) >= 15
        changed = sum(a != b for a, b in zip(before, after))
        assert 1 <= changed <= len(after) // 3, (changed, len(after))


@pytest.mark.parametrize("right, labels", [
    (10, "0 2 4 6 8 10"), (20, "0 5 10 15 20"), (50, "0 10 20 30 40 50"),
    (200, "0 50 100 150 200"), (10_000, "0 2500 5000 7500 10000"), (1, "0 1"),
])
def test_step_ticks_are_whole_evenly_spaced_and_reach_both_ends(right, labels):
    positions, texts = ticks(0, right, whole=True)
    assert " ".join(texts) == labels
    assert positions[0] == 0 and positions[-1] == right
    assert len({b - a for a, b in zip(positions, positions[1:])}) == 1
