"""Course folders (SPEC section 10): order and title from course.yaml or by file name, `gdtutor
check DIR`, one-line errors for each bad entry while the other lessons still open, the built-in
lessons as a course, `gdtutor DIR` in the TUI, and the checkpoint marks shown while authoring."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from gdtutor import catalog
from gdtutor.catalog import (Course, builtin, builtin_course, check_targets, load_course,
                             resolve, resolve_target)
from gdtutor.checks import FAILED, PASSED, SKIPPED, marks_at
from gdtutor.cli import main
from gdtutor.errors import GdtutorError
from gdtutor.stepper import Stepper

BUILTIN_ORDER = ["dynamic-graph", "backprop", "worked-example", "matrix-form", "grad-descent",
                 "step-too-large", "divergence", "half-mse-diverges", "chain-rule"]


def lesson_text(lesson_id: str, value: int = 2) -> str:
    """A graph lesson whose one checkpoint holds when `value` is 2 (d(x²)/dx at x = 1)."""
    return (f"id: {lesson_id}\ntitle:\n  en: Lesson {lesson_id}\n  zh: 课 {lesson_id}\n"
            f"kind: graph\nexpression: x**2\ninputs: {{x: 1}}\n"
            f"checkpoints:\n  - {{value: 1, grads: {{x: {value}}}}}\n")


def folder_of(tmp_path: Path, files: dict[str, str], listed=None, title=None) -> Path:
    folder = tmp_path / "course"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    if listed is not None:
        index = {"lessons": listed} if title is None else {"title": title, "lessons": listed}
        (folder / "course.yaml").write_text(yaml.safe_dump(index, allow_unicode=True,
                                                          sort_keys=False), encoding="utf-8")
    return folder


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- order and title ---------------------------------------------------------------------------

def test_the_order_is_course_yamls_and_the_title_is_in_both_languages(tmp_path):
    files = {f"{n}.yaml": lesson_text(n) for n in ("a", "b", "c")}
    folder = folder_of(tmp_path, files, ["c.yaml", "a.yaml", "b.yaml"],
                       {"en": "My course", "zh": "我的课程"})
    course = load_course(folder)
    assert [lesson.id for lesson in course.lessons] == ["c", "a", "b"]
    assert course.title.get("en") == "My course" and course.title.get("zh") == "我的课程"
    assert course.index == folder / "course.yaml" and course.errors == []
    assert [e.field for e in course.entries] == ["lessons[0]", "lessons[1]", "lessons[2]"]


def test_without_course_yaml_lessons_go_by_file_name_and_the_title_is_the_folders(tmp_path):
    files = {"b.yml": lesson_text("b"), "a.yaml": lesson_text("a"), "c.yaml": lesson_text("c"),
             "notes.txt": "not a lesson"}
    course = load_course(folder_of(tmp_path, files))
    assert [lesson.id for lesson in course.lessons] == ["a", "b", "c"]
    assert course.index is None and course.title.get("en") == "course"


def test_a_plain_string_title_is_both_languages(tmp_path):
    folder = folder_of(tmp_path, {"a.yaml": lesson_text("a")}, ["a.yaml"], "Optimisation")
    title = load_course(folder).title
    assert title.get("en") == title.get("zh") == "Optimisation"


# -- the built-in lessons are a course ---------------------------------------------------------

def test_the_builtin_lessons_load_as_a_course():
    course = builtin_course()
    assert isinstance(course, Course)
    assert [lesson.id for lesson in course.lessons] == BUILTIN_ORDER
    assert all(a is b for a, b in zip(course.lessons, builtin()))
    assert course.title.get("en") == "Backpropagation and gradient descent"
    assert course.title.get("zh") != course.title.get("en")
    again = load_course(catalog.lessons_dir())           # the same folder as any course
    assert [lesson.id for lesson in again.lessons] == BUILTIN_ORDER and again.errors == []
    assert not (catalog.lessons_dir() / "index.yaml").exists()


def test_gdtutor_list_is_unchanged(capsys):
    status, out, err = run(capsys, "list")
    assert status == 0 and err == ""
    assert [line.split()[0] for line in out.splitlines()] == BUILTIN_ORDER
    assert out.splitlines()[2].split(None, 1)[1] == builtin()[2].title.get("en")


def test_check_of_every_builtin_file_passes_course_yaml_included(capsys):
    files = sorted(str(p) for p in catalog.lessons_dir().glob("*.yaml"))
    assert any(f.endswith("course.yaml") for f in files)
    status, out, err = run(capsys, "check", *files)
    assert status == 0 and err == ""
    assert "OK course Backpropagation and gradient descent" in out.splitlines()
    assert sorted(line.split()[1] for line in out.splitlines()
                  if not line.startswith("OK course")) == sorted(BUILTIN_ORDER)


# -- gdtutor check DIR -------------------------------------------------------------------------

def test_check_dir_checks_every_lesson_in_the_courses_order(tmp_path, capsys):
    files = {f"{n}.yaml": lesson_text(n) for n in ("a", "b")}
    folder = folder_of(tmp_path, files, ["b.yaml", "a.yaml"])
    status, out, err = run(capsys, "check", str(folder))
    assert (status, out, err) == (0, "OK b\nOK a\n", "")
    status, out, err = run(capsys, "check", str(folder / "course.yaml"))
    assert (status, out, err) == (0, "OK course course\n", "")


def test_check_dir_without_course_yaml_is_each_file_on_its_own(tmp_path, capsys):
    # students' copies of one lesson share its id: a folder, not a course
    files = {"ann.yaml": lesson_text("same"), "bob.yaml": lesson_text("same", value=3)}
    status, out, err = run(capsys, "check", str(folder_of(tmp_path, files)))
    assert status == 1 and err == ""
    assert out.splitlines()[0] == "OK same" and out.splitlines()[1].startswith("FAIL same: ")
    assert "bob.yaml:9:" in out


def test_check_dir_json_gives_one_object_per_entry(tmp_path, capsys):
    import json
    files = {"a.yaml": lesson_text("a")}
    folder = folder_of(tmp_path, files, ["a.yaml", "gone.yaml"])
    status, out, err = run(capsys, "check", "--format", "json", str(folder))
    objs = [json.loads(line) for line in out.splitlines()]
    assert status == 2
    assert objs[0]["id"] == "a" and objs[0]["ok"] is True
    assert objs[1]["ok"] is False and objs[1]["error"]["field"] == "lessons[1]"
    assert objs[1]["error"]["line"] == 3 and objs[1]["file"] == str(folder / "course.yaml")


def test_an_empty_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status, out, err = run(capsys, "check", str(tmp_path / "empty"))
    assert status == 2 and out == ""
    assert err == f"gdtutor: {tmp_path / 'empty'}: no lesson files (*.yaml, *.yml) in this folder\n"


# -- bad entries: one line each, the others still open -----------------------------------------

def bad_course(tmp_path: Path, entry: str, extra: dict[str, str] | None = None) -> Path:
    """A course listing a.yaml, then `entry` (lessons[1], line 3 of course.yaml), then b.yaml."""
    files = {"a.yaml": lesson_text("a"), "b.yaml": lesson_text("b"), **(extra or {})}
    return folder_of(tmp_path, files, ["a.yaml", entry, "b.yaml"])


CASES = [
    ("gone.yaml", None, "'gone.yaml' is listed but there is no such file in {folder}"),
    ("a.yaml", None, "'a.yaml' is listed twice (first as lessons[0])"),
    ("twin.yaml", {"twin.yaml": lesson_text("a")},
     "'twin.yaml' has the id 'a', as 'a.yaml' (lessons[0]) has: the lessons of a course "
     "need distinct ids"),
    ("notes.yaml", {"notes.yaml": "just: a note\n"},
     "'notes.yaml' is not a lesson: {folder}/notes.yaml:1: just: unknown key 'just'"),
    ("../outside.yaml", None, "'../outside.yaml' is outside the course's folder {folder}"),
    ("/etc/passwd.yaml", None, "'/etc/passwd.yaml' is an absolute path; list a file inside "
     "the course's folder"),
    ("notes.txt", {"notes.txt": "x"}, "expected a lesson file ending in .yaml or .yml, "
     "got 'notes.txt'"),
    ("course.yaml", None, "'course.yaml' is the course's own index, not a lesson"),
]


@pytest.mark.parametrize("entry, extra, message", CASES)
def test_each_bad_entry_is_one_line_naming_course_yaml_its_line_and_field(
        tmp_path, capsys, entry, extra, message):
    (tmp_path / "outside.yaml").write_text(lesson_text("outside"), encoding="utf-8")
    folder = bad_course(tmp_path, entry, extra)
    expected = f"gdtutor: {folder}/course.yaml:3: lessons[1]: " + message.format(folder=folder)
    course = load_course(folder)
    assert [lesson.id for lesson in course.lessons] == ["a", "b"]     # the others still open
    assert [str(e) for e in course.errors] == [expected]
    status, out, err = run(capsys, "check", str(folder))
    assert status == 2 and err == expected + "\n" and out == "OK a\nOK b\n"
    status, out, err = run(capsys, "check", str(folder / "course.yaml"))
    assert status == 2 and err == expected + "\n" and out == ""


def test_a_nested_folder_is_not_a_lesson_a_course_includes_no_course(tmp_path, capsys):
    folder = bad_course(tmp_path, "inner")
    inner = folder / "inner"
    inner.mkdir()
    (inner / "course.yaml").write_text("lessons: [../course.yaml]\n", encoding="utf-8")
    status, _, err = run(capsys, "check", str(folder))
    assert status == 2
    assert err == (f"gdtutor: {folder}/course.yaml:3: lessons[1]: 'inner' is a folder, not a "
                   "lesson file: a course lists lesson files and cannot include another course\n")


def test_a_loop_of_symbolic_links_is_one_line(tmp_path, capsys):
    folder = bad_course(tmp_path, "loop.yaml")
    os.symlink(folder / "loop.yaml", folder / "loop.yaml")
    assert [lesson.id for lesson in load_course(folder).lessons] == ["a", "b"]
    status, out, err = run(capsys, "check", str(folder))
    assert status == 2 and out == "OK a\nOK b\n"
    assert err == (f"gdtutor: {folder}/course.yaml:3: lessons[1]: 'loop.yaml' cannot be "
                   "followed: its symbolic links form a loop\n")


def test_a_symbolic_link_out_of_the_folder_is_outside(tmp_path):
    (tmp_path / "elsewhere.yaml").write_text(lesson_text("e"), encoding="utf-8")
    folder = bad_course(tmp_path, "link.yaml")
    os.symlink(tmp_path / "elsewhere.yaml", folder / "link.yaml")
    assert "'link.yaml' is outside the course's folder" in str(load_course(folder).errors[0])


@pytest.mark.parametrize("text, line, field, message", [
    ("lessons: [a.yaml\n", 2, None, "YAML syntax error"),
    ("title: T\n", 1, None, "missing required key 'lessons'"),
    ("lessons: []\n", 1, "lessons", "expected a list of lesson files, got a list"),
    ("lesons: [a.yaml]\n", 1, "lesons", "unknown key 'lesons' (did you mean 'lessons'?)"),
])
def test_a_course_yaml_that_cannot_be_read_is_one_line(tmp_path, capsys, text, line, field,
                                                       message):
    folder = folder_of(tmp_path, {"a.yaml": lesson_text("a")})
    (folder / "course.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(GdtutorError) as err:
        load_course(folder)
    assert (err.value.file, err.value.line, err.value.field) == (str(folder / "course.yaml"),
                                                                 line, field)
    assert message in err.value.message
    status, out, stderr = run(capsys, "check", str(folder))
    assert status == 2 and out == "" and stderr == str(err.value) + "\n"


def test_a_bad_lesson_in_a_folder_without_course_yaml_has_its_own_error(tmp_path, capsys):
    files = {"a.yaml": lesson_text("a"), "b.yaml": "id: b\ntitle: B\nkind: grph\n"}
    folder = folder_of(tmp_path, files)
    assert [str(e) for e in load_course(folder).errors] == [
        f"gdtutor: {folder}/b.yaml:3: kind: expected one of graph, descent, got 'grph' "
        "(did you mean 'graph'?)"]
    status, out, err = run(capsys, "check", str(folder))
    assert status == 2 and out == "OK a\n" and err.startswith(f"gdtutor: {folder}/b.yaml:3: kind:")


# -- what `gdtutor ARG` opens ------------------------------------------------------------------

def test_resolve_target_opens_a_folder_or_its_course_yaml_as_a_course(tmp_path, monkeypatch):
    folder = folder_of(tmp_path, {"a.yaml": lesson_text("a")}, ["a.yaml"])
    assert isinstance(resolve_target(str(folder)), Course)
    assert isinstance(resolve_target(str(folder / "course.yaml")), Course)
    assert resolve_target(str(folder / "a.yaml")).id == "a"
    assert resolve_target("backprop") is resolve("backprop")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backprop").mkdir()          # a folder named like a built-in lesson
    (tmp_path / "backprop" / "x.yaml").write_text(lesson_text("x"), encoding="utf-8")
    assert resolve_target("backprop") is resolve("backprop")
    assert [lesson.id for lesson in resolve_target("./backprop").lessons] == ["x"]
    with pytest.raises(GdtutorError, match="no lesson files"):     # none at the top
        resolve_target(".")
    with pytest.raises(GdtutorError, match="a .yaml file or a folder"):
        resolve_target("nothing-here")


def test_check_targets_keeps_the_arguments_order(tmp_path):
    folder = folder_of(tmp_path, {"a.yaml": lesson_text("a"), "b.yaml": lesson_text("b")},
                       ["b.yaml", "a.yaml"])
    targets = check_targets(["backprop", str(folder), str(folder / "course.yaml")])
    assert targets[:3] == ["backprop", str(folder / "b.yaml"), str(folder / "a.yaml")]
    assert targets[3].title.get("en") == "course" and targets[3].error is None


# -- the TUI: the picker of a folder, and esc back to it ---------------------------------------

async def _press(pilot, *keys):
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


@pytest.mark.slow
async def test_the_picker_of_a_course_lists_bad_entries_and_the_builtin_lessons(tmp_path):
    from gdtutor.tui.app import GdtutorApp, picker_lessons
    from gdtutor.tui.picker import BUILT_IN, PickerScreen
    folder = bad_course(tmp_path, "gone.yaml")
    app = GdtutorApp(picker_lessons(course=load_course(folder)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert [getattr(row, "id", getattr(row, "name", row)) for row in picker.lessons] == [
            "a", "gone.yaml", "b", BUILT_IN]
        title = str(picker.query_one("#picker-title").render())
        assert "course" in title and str(folder) in title
        options = picker.query_one("#lessons")
        assert options.get_option_at_index(1).disabled
        assert "no such file" in str(options.get_option_at_index(1).prompt)
        await _press(pilot, "enter")
        assert app.screen.lesson.id == "a"
        await _press(pilot, "escape")
        assert app.screen is picker
        options.highlighted = 3
        await _press(pilot, "enter")                     # the built-in lessons
        assert isinstance(app.screen, PickerScreen) and app.screen is not picker
        assert [lesson.id for lesson in app.screen.lessons] == BUILTIN_ORDER
        await _press(pilot, "escape")
        assert app.screen is picker


@pytest.mark.slow
@pytest.mark.parametrize("with_index", [True, False])
async def test_esc_from_a_lesson_file_returns_to_its_courses_picker(tmp_path, with_index):
    from gdtutor.tui.app import GdtutorApp, picker_lessons
    from gdtutor.tui.picker import PickerScreen
    files = {"a.yaml": lesson_text("a"), "b.yaml": lesson_text("b")}
    folder = folder_of(tmp_path, files, ["b.yaml", "a.yaml"] if with_index else None)
    lesson = catalog.load(folder / "a.yaml")
    app = GdtutorApp(picker_lessons(lesson), Stepper(lesson))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await _press(pilot, "escape")
        assert isinstance(app.screen, PickerScreen)
        ids = [getattr(row, "id", row) for row in app.screen.lessons]
        # the folder's lessons (in course.yaml's order, else by file name), then a row that
        # opens the built-in lessons
        assert ids[:2] == (["b", "a"] if with_index else ["a", "b"]) and len(ids) == 3


# -- checkpoint marks while authoring ----------------------------------------------------------

def test_marks_say_what_matched_and_what_did_not(tmp_path):
    stepper = Stepper(resolve("worked-example"))
    stepper.goto(3)
    [mark] = marks_at(stepper, 3)
    assert mark.status == PASSED
    assert mark.text == "✓ as in the document: w_3 = 7/4, L(w_3) = 7/8, grad at w_3 = -1/4"
    assert marks_at(stepper, 3)[0].line == stepper.lesson.checkpoints[3].line
    text = Path(stepper.lesson.source).read_text(encoding="utf-8")
    line = text.splitlines()[mark.line - 1]
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace(line, line.replace("7/4", "3/2")), encoding="utf-8")
    stepper = Stepper(catalog.load(wrong))
    stepper.goto(3)
    [mark] = marks_at(stepper, 3)
    assert (mark.status, mark.text) == (FAILED, "✗ w_3: expected 3/2, got 7/4")
    assert marks_at(stepper, 5) == [] or marks_at(stepper, 5)[0].status == SKIPPED
    stepper.goto(1)
    assert stepper.computed >= 3     # what was computed stays: marks read it
    assert marks_at(stepper, 3)[0].text == "✗ w_3: expected 3/2, got 7/4"


def test_marks_of_a_graph_lesson_and_of_a_step_not_reached(tmp_path):
    [mark] = marks_at(Stepper(resolve("backprop")), 0)
    assert mark.text == "✓ as in the document: value = 1, x.grad = 2"
    wrong = tmp_path / "g.yaml"
    wrong.write_text(lesson_text("g", value=3), encoding="utf-8")
    [mark] = marks_at(Stepper(catalog.load(wrong)), 0)
    assert (mark.status, mark.text) == (FAILED, "✗ x.grad: expected 3, got 2")
    stepper = Stepper(resolve("worked-example"))
    [mark] = marks_at(stepper, 2)
    assert mark.status == SKIPPED and mark.text == "… step 2 not reached yet"
    assert stepper.k == 0
