"""A torch lesson opens before torch is loaded (tui/pending.py): the keys that need numbers wait
for it, and nothing typed while it loads breaks the screen or is run against a stand-in."""
from __future__ import annotations

import threading

import pytest

from gdtutor.catalog import builtin, resolve, with_overrides
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.pending import PendingStepper
from gdtutor.tui.status import Status
from gdtutor.tui.steps_panel import StepsPanel

pytest.importorskip("torch")

SIZE = (100, 30)


def held_torch_lesson(monkeypatch) -> tuple[GdtutorApp, threading.Event]:
    """The app over grad-descent on torch, as `gdtutor grad-descent --backend torch` starts
    it; loading torch waits until the returned event is set."""
    release = threading.Event()
    load = PendingStepper.load

    def held(self):
        assert release.wait(30), "the test never let torch load"
        return load(self)

    monkeypatch.setattr(PendingStepper, "load", held)
    lesson = with_overrides(resolve("grad-descent"), backend="torch")
    return GdtutorApp(builtin, PendingStepper(lesson)), release


def status_text(app) -> str:
    return str(app.screen.query_one(Status).content)


async def test_keys_typed_while_torch_loads_wait_and_the_numbers_then_follow(monkeypatch):
    app, release = held_torch_lesson(monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert "loading torch…" in status_text(app)
        for key in ("n", "t", "R", "plus", "l", "b", "r", "a", "2", "1"):
            await pilot.press(key)
        await pilot.pause()
        assert screen.stepper.pending and screen.stepper.k == 0
        assert app.screen is screen                          # still the lesson, no error shown
        assert "loading torch…" in status_text(app)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        stepper = screen.stepper
        assert not getattr(stepper, "pending", False) and stepper.backend_name == "torch"
        assert "loading" not in status_text(app) and "k = 0 of" in status_text(app)
        assert stepper.k == 0 and stepper.lr == resolve("grad-descent").lr   # no α change kept
        await pilot.press("n", "n")
        await pilot.pause()
        reference = Stepper(with_overrides(resolve("grad-descent"), backend="torch"))
        reference.goto(2)
        assert stepper.k == 2
        assert stepper.weights_at(2).tolist() == reference.weights_at(2).tolist()
        shown = str(screen.query_one(StepsPanel).content)
        assert "Step 2: w1 → w2" in shown


async def test_quitting_while_torch_loads_ends_at_once(monkeypatch):
    app, release = held_torch_lesson(monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        release.set()                 # the loading thread ends; the app is already closing
        await pilot.pause()
    assert app.return_code in (0, None)
