"""The plots draw plotext's matrix straight into strips: cell for cell and colour for colour
what textual-plotext's own render (plotext's ANSI text parsed by Rich) shows."""
from __future__ import annotations

import pytest
from rich.text import Text
from textual_plotext import PlotextPlot

from gdtutor.catalog import builtin, resolve
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.loss_plot import LossPlot, x_limit
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


@pytest.mark.parametrize("lesson_id, steps, ascii_plot, log", [
    ("worked-example", 4, False, False),
    ("worked-example", 9, True, False),
    ("grad-descent", 30, False, True),
    ("divergence", 520, False, False),
])
async def test_direct_drawing_matches_textual_plotext(lesson_id, steps, ascii_plot, log):
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
            assert ours.plain == theirs.plain
            assert normalised(ours) == normalised(theirs)
            assert ours.plain.strip(), "the plot drew nothing"


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
        before = plot.render().plain
        assert "(log)" in before and "no plot" not in before
        await pilot.resize_terminal(90, 28)
        await pilot.pause()
        assert "no plot" not in plot.render().plain
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert plot.render().plain == before


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
