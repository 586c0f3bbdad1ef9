"""What the first frame leaves out is built when it is first needed: one lesson read for one
lesson asked for, the picker under a lesson built on esc, the history and lesson text views on
first show, the progress bar when work that counts its steps first starts; and the keys line
(Textual's Footer) works as keys do."""
from __future__ import annotations

import shutil
import time

import pytest
from textual.widgets import Footer, Markdown

from gdtutor import catalog as lessons
from gdtutor.errors import GdtutorError
from gdtutor.catalog import builtin, resolve
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.descent import DescentScreen
from gdtutor.tui.history import History
from gdtutor.tui.picker import PickerScreen
from screen_reader import record_notifications, screen_text

SIZE = (80, 24)


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


# -- resolve reads one lesson ------------------------------------------------------------------

def test_resolve_loads_only_the_lesson_asked_for(tmp_path, monkeypatch):
    folder = tmp_path / "lessons"          # a folder of its own: nothing of it is cached yet
    shutil.copytree(lessons.lessons_dir(), folder)
    monkeypatch.setattr(lessons, "lessons_dir", lambda: folder)
    loaded = []
    real = lessons.load
    monkeypatch.setattr(lessons, "load",
                        lambda path, **kw: loaded.append(path.name) or real(path, **kw))
    item = resolve("grad-descent")
    assert loaded == ["grad-descent.yaml"]
    assert item.id == "grad-descent" and item.order == 5      # its place in the index
    assert resolve("grad-descent") is item                     # loaded once
    assert lessons._builtin.__wrapped__()[4] is item           # the Lesson builtin() gives
    assert len(loaded) == len(lessons._index(folder))


def test_builtin_lessons_read_with_libyaml_are_the_lessons_the_guarded_loader_reads():
    for item in builtin():
        again = lessons.load(item.source)                  # the guarded pure-Python loader
        assert again == item._replace(order=0)
        assert again.lines == item.lines


def built_in(folder, monkeypatch, lesson_id: str, listed: str) -> None:
    """Built-in lessons read from `folder`: a.yaml (with the id `lesson_id`) and an index
    listing `listed`."""
    (folder / "a.yaml").write_text(f"id: {lesson_id}\ntitle: T\nkind: graph\nexpression: x\n"
                                   "inputs: {x: 1}\n", encoding="utf-8")
    (folder / "course.yaml").write_text(f"lessons: [{listed}]\n", encoding="utf-8")
    monkeypatch.setattr(lessons, "lessons_dir", lambda: folder)


def test_resolve_of_an_unknown_id_still_suggests_and_a_broken_index_is_still_reported(
        tmp_path, monkeypatch):
    with pytest.raises(GdtutorError, match="did you mean 'grad-descent'"):
        resolve("grad-decent")
    built_in(tmp_path, monkeypatch, lesson_id="a", listed="a.yaml, b.yaml")
    with pytest.raises(GdtutorError, match="'b.yaml' is listed but there is no such file"):
        resolve("a")


def test_resolve_checks_the_id_of_the_one_lesson_it_reads(tmp_path, monkeypatch):
    built_in(tmp_path, monkeypatch, lesson_id="b", listed="a.yaml")
    with pytest.raises(GdtutorError, match="id 'b' must match the file name 'a.yaml'"):
        resolve("a")


# -- the picker under a lesson -------------------------------------------------------------------

def lesson_app(lesson_id: str = "grad-descent", lessons_source=None) -> GdtutorApp:
    return GdtutorApp(builtin if lessons_source is None else lessons_source,
                      Stepper(resolve(lesson_id)))


async def test_the_picker_is_made_when_esc_first_asks_for_it_under_a_lesson_opened_at_start():
    asked = []

    def source():
        asked.append(True)
        return builtin()

    app = lesson_app(lessons_source=source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert [type(s) for s in app.screen_stack[1:]] == [DescentScreen]
        assert not asked                                  # the lessons are not even read
        await press(pilot, "escape")
        picker = app.screen
        assert isinstance(picker, PickerScreen) and len(app.screen_stack) == 2
        assert asked == [True]
        await pilot.pause()
        text = "\n".join(str(w.render()) for w in picker.query("#picker-title"))
        assert "gdtutor" in text
        options = picker.query_one("#lessons")
        assert options.option_count == len(builtin()) and options.highlighted == 0
        assert picker.focused is options
        await press(pilot, "down", "enter")              # the picker works as one shown at start
        assert isinstance(app.screen, type(app.lesson_screen(Stepper(builtin()[1]))))
        assert app.screen.lesson.id == builtin()[1].id
        await press(pilot, "escape")
        assert app.screen is picker and asked == [True]   # made once


async def test_a_broken_builtin_lesson_is_reported_in_the_picker_and_q_still_quits():
    def broken():
        raise GdtutorError("no such file", file="lessons/course.yaml", line=3)

    app = record_notifications(lesson_app(lessons_source=broken))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await press(pilot, "escape")
        assert isinstance(app.screen, PickerScreen)
        assert any("course.yaml:3" in message for message in app.notified)
        assert "course.yaml:3" in str(app.screen.query_one("#picker-error").render())
        await press(pilot, "enter")                      # nothing to open, no crash
        await press(pilot, "q")
    assert app.return_code == 0


async def test_a_picker_first_shown_in_a_too_small_terminal_takes_every_key():
    app = lesson_app()
    async with app.run_test(size=(20, 8)) as pilot:
        await pilot.pause()
        await press(pilot, "escape", "pageup", "pagedown", "down", "up")
        assert isinstance(app.screen, PickerScreen) and app.is_running
        await pilot.resize_terminal(80, 24)
        await press(pilot, "pagedown")
        assert app.screen.query_one("#lessons").highlighted == len(builtin()) - 1


async def test_the_picker_shown_at_start_is_composed_at_once():
    app = GdtutorApp(builtin())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert app.screen.query_one("#lessons").option_count == len(builtin())


# -- views built on first show ---------------------------------------------------------------

async def test_history_and_lesson_text_are_built_on_first_show():
    app = lesson_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert not screen.query(History) and not screen.query(Markdown)
        await press(pilot, "n", "n", "2")
        await pilot.pause()
        table = screen.query_one(History)
        assert table.display and table.row_count == 3            # k = 0, 1, 2 at once
        assert str(table.get_row("2")[0]) == "2"
        await press(pilot, "n")
        assert table.row_count == 4
        await press(pilot, "3")
        await pilot.pause()
        assert screen.query_one(Markdown).display and not table.display
        assert "The data and the loss" in screen_text(app)
        await press(pilot, "1", "2")
        assert screen.query_one(History) is table and len(screen.query(History)) == 1
        assert table.row_count == 4


async def test_keys_right_after_showing_a_view_land_in_it():
    app = lesson_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in ("2", "n", "n", "n"):               # no pause: the table is still mounting
            await pilot.press(key)
        await pilot.pause()
        await pilot.pause()
        table = app.screen.query_one(History)
        assert table.row_count == 4 and table.cursor_row == 3


# -- the keys line ------------------------------------------------------------------------------

async def test_a_click_on_a_key_of_the_footer_presses_it_and_the_pointer_shows_its_tooltip():
    app = lesson_app("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        assert screen_text(app).splitlines()[-1].startswith("n step b back")
        await pilot.click(footer, offset=(0, 0))       # "n step"
        await pilot.pause()
        assert app.screen.stepper.k == 1
        await pilot.click(footer, offset=(7, 0))       # "b back"
        await pilot.pause()
        assert app.screen.stepper.k == 0
        key, _ = app.screen.get_widget_at(footer.region.x + 2, footer.region.y)
        assert key.tooltip == "one step forward (n, space or →)"


async def test_the_progress_bar_is_made_when_work_that_counts_its_steps_first_starts():
    app = lesson_app("grad-descent")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.screen.query("#progress")
        await press(pilot, "t")          # switching the backend: a worker that counts nothing,
        await pilot.pause(0.05)          # said on the status line, with no bar
        assert not app.screen.query("#progress")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen               # work that counts its steps gets the bar
        screen.in_background(lambda cancelled: time.sleep(0.3), "counting…", lambda _: None,
                             total=10)
        await pilot.pause(0.1)
        bar = screen.query_one("#progress")
        assert bar.display and bar.total == 10 and bar.query_one("#bar")
        assert bar.region.y == SIZE[1] - 2            # on the line above the keys
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not bar.display
