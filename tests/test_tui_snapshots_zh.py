"""Pictures of the TUI in Chinese at 80×24 (pytest-textual-snapshot): every screen a student
meets, to see that the double-width text fits (footer, status, step labels, history headers,
prompts, the α lab, the predict bar) and that the too-small message reads at 40×10.

Regenerate with `pytest tests/test_tui_snapshots_zh.py --snapshot-update` and read the text of
each new SVG before committing. Nothing drawn depends on a clock or on chance.
"""
from __future__ import annotations

import time

import pytest

from gdtutor import i18n
from gdtutor.catalog import builtin, resolve
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_lang("en")


def app_on(lesson_id: str | None = None) -> GdtutorApp:
    return GdtutorApp(builtin(), Stepper(resolve(lesson_id)) if lesson_id else None, lang="zh")


def test_picker(snap_compare):
    assert snap_compare(app_on(), terminal_size=SIZE)


def test_worked_example_step_3(snap_compare):
    assert snap_compare(app_on("worked-example"), press=["n"] * 3, terminal_size=SIZE)


def test_matrix_form_step_1(snap_compare):
    assert snap_compare(app_on("matrix-form"), press=["n"], terminal_size=SIZE)


def test_dynamic_graph_mid_forward(snap_compare):
    assert snap_compare(app_on("dynamic-graph"), press=["n"] * 2, terminal_size=SIZE)


def test_backprop_mid_backward(snap_compare):
    assert snap_compare(app_on("backprop"), press=["n"] * 4, terminal_size=SIZE)


def test_history_view(snap_compare):
    assert snap_compare(app_on("worked-example"), press=["n", "n", "2"], terminal_size=SIZE)


def test_help(snap_compare):
    assert snap_compare(app_on("worked-example"), press=["question_mark"], terminal_size=SIZE)


def test_goto_prompt(snap_compare):
    assert snap_compare(app_on("worked-example"), press=["g"], terminal_size=SIZE)


def test_stability(snap_compare):
    assert snap_compare(app_on("worked-example"), press=["n", "e"], terminal_size=SIZE)


def test_sweep(snap_compare):
    async def drawn(pilot) -> None:
        await pilot.press("s")
        deadline = time.monotonic() + 30
        while getattr(pilot.app.screen, "runs", None) is None:
            assert time.monotonic() < deadline, "the sweep was not drawn in time"
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app_on("worked-example"), run_before=drawn, terminal_size=SIZE)


def test_gradient_check(snap_compare):
    assert snap_compare(app_on("worked-example"), press=["n", "c"], terminal_size=SIZE)


def test_predict_bar(snap_compare):
    async def asked(pilot) -> None:
        await pilot.press("p")
        await pilot.pause()
        pilot.app.clear_notifications()     # "predict mode on" would cover the bar's right end
        await pilot.pause()

    assert snap_compare(app_on("worked-example"), run_before=asked, terminal_size=SIZE)


def test_too_small(snap_compare):
    assert snap_compare(app_on("worked-example"), terminal_size=(40, 10))
