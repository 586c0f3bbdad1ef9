"""Pictures of the TUI (pytest-textual-snapshot): the descent screen of the worked example at
80×24 and 120×40 after 0, 1 and 3 steps, and the graph screen of backprop mid-backward.

Regenerate with `pytest tests/test_tui_snapshots.py --snapshot-update` and look at the report.
Nothing drawn depends on a clock or on chance, so the pictures are the same on every run.
"""
from __future__ import annotations

import pytest

from gdtutor.catalog import builtin, resolve
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp


def app_on(lesson_id: str) -> GdtutorApp:
    return GdtutorApp(builtin(), Stepper(resolve(lesson_id)))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("steps", [0, 1, 3])
def test_descent_screen(snap_compare, size, steps):
    assert snap_compare(app_on("worked-example"), press=["n"] * steps, terminal_size=size)


def test_graph_screen_mid_backward(snap_compare):
    # backprop: three nodes forward (x, 2, x**2), then the first backward stage
    assert snap_compare(app_on("backprop"), press=["n"] * 4, terminal_size=(80, 24))


def test_lesson_picker(snap_compare):
    assert snap_compare(GdtutorApp(builtin()), terminal_size=(80, 24))
