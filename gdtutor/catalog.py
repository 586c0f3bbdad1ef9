"""The lessons gdtutor knows: course folders (a folder of lesson files, ordered by its
course.yaml or by file name), the built-in lessons (the course folder lessons/), a student's
file by its path, and a lesson with the command line's choices applied."""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import NamedTuple

from .errors import GdtutorError, number_text, show, suggest
from .i18n import _
from .model import BACKENDS, DTYPES, Lesson, Text
from .schema import (MAX_EXACT_ITERATIONS, MAX_ITERATIONS, Schema, check_computes, check_lr,
                     parse_number, to_lesson)
from .yaml_reader import read

COURSE_FILE = "course.yaml"
LESSON_SUFFIXES = (".yaml", ".yml")
_WHOLE = re.compile(r"\s*[0-9]+\s*")


def load(path: str | Path, *, _builtin: bool = False) -> Lesson:
    """Read and validate one lesson file; raise GdtutorError (file, line, field) on any problem."""
    label = str(path)
    return to_lesson(read(Path(path), label, _builtin), label, Path(path))


def lessons_dir() -> Path:
    """Where the built-in lessons live: inside the installed package, else the repository's."""
    inside = Path(__file__).parent / "lessons"
    return inside if inside.is_dir() else Path(__file__).parent.parent / "lessons"


class Entry(NamedTuple):
    """One lesson file of a course: where course.yaml lists it (line and field `lessons[i]`;
    None without a course.yaml), and the lesson, or the one-line error that keeps it shut."""

    name: str
    path: Path
    line: int | None = None
    field: str | None = None
    lesson: Lesson | None = None
    error: GdtutorError | None = None


class Course(NamedTuple):
    """A folder of lessons in order. A bad entry keeps its error and the others still open."""

    title: Text
    folder: Path
    entries: tuple[Entry, ...]
    index: Path | None = None      # the folder's course.yaml, if it has one

    @property
    def lessons(self) -> list[Lesson]:
        """The lessons that loaded, in the course's order."""
        return [entry.lesson for entry in self.entries if entry.lesson is not None]

    @property
    def errors(self) -> list[GdtutorError]:
        """Why each bad entry cannot open, in the course's order."""
        return [entry.error for entry in self.entries if entry.error is not None]


def _folder_title(folder: Path) -> Text:
    name = folder.resolve().name or str(folder)
    return Text(en=name, zh=name)


def _listed(folder: Path, name: str, seen: dict[Path, str]) -> str | None:
    """What is wrong with `name` as an entry of the course in `folder`, or None."""
    if os.path.isabs(name):
        return _("'{name}' is an absolute path; list a file inside the course's folder").format(
            name=name)
    try:
        where = (folder / name).resolve()
        inside = where.is_relative_to(folder.resolve())
    except (OSError, RuntimeError):      # a loop of symbolic links
        return _("'{name}' cannot be followed: its symbolic links form a loop").format(name=name)
    if not inside:
        return _("'{name}' is outside the course's folder {folder}").format(name=name,
                                                                            folder=folder)
    if where.is_dir():
        return (_("'{name}' is a folder, not a lesson file: a course lists lesson files and "
                  "cannot include another course").format(name=name))
    if where.name == COURSE_FILE and where.parent == folder.resolve():
        return _("'{name}' is the course's own index, not a lesson").format(name=name)
    if not name.lower().endswith(LESSON_SUFFIXES):
        return _("expected a lesson file ending in .yaml or .yml, got '{name}'").format(name=name)
    if not where.is_file():
        return _("'{name}' is listed but there is no such file in {folder}").format(
            name=name, folder=folder)
    if where in seen:
        return _("'{name}' is listed twice (first as {first})").format(name=name,
                                                                       first=seen[where])
    return None


def _listing(folder: Path, builtin: bool = False) -> tuple[Text, Path | None, tuple[Entry, ...]]:
    """The course's title, its course.yaml (or None) and its entries in order, none loaded
    yet; an entry course.yaml lists wrongly carries its error. A course.yaml that cannot be
    read as a whole raises. `builtin`: every error raises, and every lesson file in the
    folder must be listed."""
    index = folder / COURSE_FILE
    if not folder.is_dir():
        raise GdtutorError(_("not a folder"), file=str(folder))
    if not index.is_file():
        names = sorted(p.name for p in folder.iterdir() if p.suffix in LESSON_SUFFIXES
                       and p.name != COURSE_FILE and p.is_file())
        if not names:
            raise GdtutorError(_("no lesson files (*.yaml, *.yml) in this folder"),
                               file=str(folder))
        return _folder_title(folder), None, tuple(Entry(n, folder / n) for n in names)
    reader = Schema(str(index))
    root = read(index, str(index), builtin)
    top = reader.mapping(root, "", ("title", "lessons"), ("lessons",))
    title = (reader.text(top["title"], "title", one_line=True) if "title" in top
             else _folder_title(folder))
    listed = top["lessons"]
    if not isinstance(listed.value, list) or not listed.value:
        reader.fail(_("expected a list of lesson files, got {value}").format(
            value=show(listed.value)), listed.line, "lessons")
    entries: list[Entry] = []
    seen: dict[Path, str] = {}
    for field, node in reader.items(listed, "lessons"):
        if not isinstance(node.value, str) or not node.value:
            problem = _("expected a file name, got {value}").format(value=show(node.value))
            name = str(node.value)
        else:
            name = node.value
            problem = _listed(folder, name, seen)
        error = None
        if problem is not None:
            error = GdtutorError(problem, file=str(index), line=node.line, field=field)
            if builtin:
                raise error
        else:
            seen[(folder / name).resolve()] = field
        entries.append(Entry(name, folder / name, node.line, field, error=error))
    if builtin:
        names = {entry.name for entry in entries}
        unlisted = sorted(p.name for p in folder.iterdir() if p.suffix in LESSON_SUFFIXES
                          and p.name != COURSE_FILE and p.name not in names)
        if unlisted:
            reader.fail(_("'{name}' is in {folder} but not listed").format(
                name=unlisted[0], folder=folder), listed.line, "lessons")
    return title, index, tuple(entries)


def _opened(entry: Entry, index: Path | None, ids: dict[str, str]) -> Entry:
    """The entry with its lesson loaded, or with the error that keeps it shut."""
    if entry.error is not None:
        return entry
    try:
        lesson = load(entry.path)
    except GdtutorError as exc:
        if index is None:
            return entry._replace(error=exc)
        inner = str(exc).removeprefix("gdtutor: ")
        return entry._replace(error=GdtutorError(_("'{name}' is not a lesson: {error}").format(
            name=entry.name, error=inner), file=str(index), line=entry.line, field=entry.field))
    if index is not None:
        if lesson.id in ids:
            return entry._replace(error=GdtutorError(
                _("'{name}' has the id '{id}', as {other} has: the "
                  "lessons of a course need distinct ids").format(
                    name=entry.name, id=lesson.id, other=ids[lesson.id]),
                file=str(index), line=entry.line, field=entry.field))
        ids[lesson.id] = _("'{name}' ({field})").format(name=entry.name, field=entry.field)
    return entry._replace(lesson=lesson)


def load_course(folder: str | Path) -> Course:
    """The course in `folder`: its lessons in the order of its course.yaml, else by file name.

    A course.yaml that cannot be read at all raises GdtutorError; an entry that names a missing
    file, a file listed twice, a path outside the folder, a folder, a file that is not a
    lesson, or a lesson whose id another entry has, keeps its error (Entry.error, naming
    course.yaml's line and `lessons[i]`) and the other lessons still load. In a folder without
    course.yaml each file stands alone (a file that is not a lesson has its own error, and ids
    may repeat: a folder of students' copies of one lesson is a folder, not a course)."""
    folder = Path(folder)
    title, index, entries = _listing(folder)
    ids: dict[str, str] = {}
    return Course(title, folder, tuple(_opened(e, index, ids) for e in entries), index)


def check_targets(args) -> list:
    """What `gdtutor check ARG...` checks, in order: a lesson argument as given (str), or a
    CourseNote: a course index's verdict or one bad entry's error. A folder is every lesson in
    it; a course.yaml given as a file is checked as a course index, not as a lesson."""
    out: list = []
    for arg in args:
        path = Path(arg)
        if path.name == COURSE_FILE and path.is_file():
            try:
                course = load_course(path.parent)
            except GdtutorError as exc:
                out.append(CourseNote(arg, None, exc))
                continue
            out.extend(CourseNote(arg, None, error) for error in course.errors)
            if not course.errors:
                out.append(CourseNote(arg, course.title, None))
        elif _is_course(arg):
            try:
                if (path / COURSE_FILE).is_file():
                    entries = load_course(path).entries
                else:           # each file stands alone: checked as given, in parallel
                    entries = _listing(path)[2]
            except GdtutorError as exc:
                out.append(CourseNote(exc.file or arg, None, exc))
                continue
            out.extend(str(e.path) if e.error is None
                       else CourseNote(e.error.file or str(e.path), None, e.error)
                       for e in entries)
        else:
            out.append(arg)
    return out


class CourseNote(NamedTuple):
    """`check`'s word on a course rather than on one lesson: a good course.yaml (its title), or
    an error of the course (its index, or an entry that cannot open)."""

    file: str
    title: Text | None
    error: GdtutorError | None


def _is_course(arg: str) -> bool:
    """A folder is a course, unless the argument is just a built-in id (`./NAME` opens a
    folder named like a built-in lesson)."""
    if not Path(arg).is_dir():
        return False
    if "/" in arg or os.sep in arg or arg.startswith("."):
        return True
    try:
        return arg not in _builtin_ids()
    except GdtutorError:
        return True


def resolve_target(arg: str) -> Lesson | Course:
    """What `gdtutor ARG` opens: a course (a folder, or its course.yaml), else one lesson (a
    built-in id or a lesson file)."""
    path = Path(arg)
    if path.name == COURSE_FILE and path.is_file():
        return load_course(path.parent)
    if _is_course(arg):
        return load_course(path)
    return resolve(arg)


def course_of(lesson: Lesson) -> Course | None:
    """The course a lesson opened from a file belongs to: its folder (in the order of its
    course.yaml, else by file name), so that esc from the lesson lists it with its
    neighbours; None for a built-in lesson."""
    if lesson.source is None or lesson.order:
        return None
    return load_course(Path(lesson.source).parent)


# -- the built-in lessons: the course folder lessons/ --------------------------------------


@functools.cache
def _builtin_listing(folder: Path) -> tuple[Text, tuple[str, ...]]:
    """The built-in course's title and lesson files, checked against the folder: every file
    listed once and present, every file present listed. Reading it loads no lesson."""
    title, _, entries = _listing(folder, builtin=True)
    return title, tuple(entry.name for entry in entries)


def _index(folder: Path) -> tuple[str, ...]:
    """The lesson files lessons/course.yaml lists, in order."""
    return _builtin_listing(folder)[1]


def _builtin_ids() -> list[str]:
    return [Path(name).stem for name in _index(lessons_dir())]


@functools.cache
def _builtin_lesson(folder: Path, name: str, order: int) -> Lesson:
    """One built-in lesson, numbered by its place in the course (loaded once, then shared)."""
    lesson = load(folder / name, _builtin=True)
    if lesson.id != Path(name).stem:
        raise GdtutorError(_("id '{id}' must match the file name '{name}'").format(
            id=lesson.id, name=name),
                           file=str(folder / name), line=lesson.line_of("id"), field="id")
    return lesson._replace(order=order)


@functools.cache
def _builtin() -> tuple[Lesson, ...]:
    folder = lessons_dir()
    return tuple(_builtin_lesson(folder, name, order)
                 for order, name in enumerate(_index(folder), start=1))


def builtin() -> list[Lesson]:
    """Every built-in lesson, in the order of lessons/course.yaml."""
    return list(_builtin())


def builtin_course() -> Course:
    """The built-in lessons as the course they are (every error raises: they ship with gdtutor)."""
    folder = lessons_dir()
    title, names = _builtin_listing(folder)
    lessons = _builtin()
    index = folder / COURSE_FILE
    return Course(title, folder, tuple(Entry(name, folder / name, lesson=lesson)
                                       for name, lesson in zip(names, lessons)), index)


def resolve(arg: str) -> Lesson:
    """A built-in lesson by id, or a lesson file by its .yaml/.yml path.

    A built-in id reads the course index and that one lesson, not the others (the same Lesson
    object as builtin() gives)."""
    if arg.lower().endswith(LESSON_SUFFIXES):
        return load(arg)
    folder = lessons_dir()
    names = _index(folder)
    ids = [Path(name).stem for name in names]   # a lesson's id is its file's name
    if arg in ids:
        order = ids.index(arg) + 1
        return _builtin_lesson(folder, names[order - 1], order)
    raise GdtutorError(_("unknown lesson '{id}'{suggestion}: not a built-in id, "
                         "a .yaml file or a folder (try 'gdtutor list')").format(
        id=arg, suggestion=suggest(arg, ids)))


def with_overrides(lesson: Lesson, *, backend: str | None = None, dtype: str | None = None,
                   lr=None, steps=None) -> Lesson:
    """The lesson with command-line choices applied, checked as a whole again."""
    changes: dict = {}
    for key, value, options in (("backend", backend, BACKENDS), ("dtype", dtype, DTYPES)):
        if value is None:
            continue
        if value not in options:
            raise GdtutorError(_("expected one of {options}, got '{value}'{suggestion}").format(
                options=", ".join(options), value=value,
                suggestion=suggest(str(value), options)), field=f"--{key}")
        changes[key] = value
    if lesson.kind == "graph":
        for flag, value in (("--lr", lr), ("--steps", steps)):
            if value is not None:
                raise GdtutorError(_("'{id}' is a graph lesson: it has no gradient descent "
                                     "to change").format(id=lesson.id), field=flag)
    if lr is not None:
        try:
            changes["lr"] = check_lr(parse_number(lr))
        except GdtutorError as exc:
            raise exc.located(field="--lr") from None
    if steps is not None:
        # the digits are counted before int(): Python will not read more than 4300 of them
        if isinstance(steps, str) and _WHOLE.fullmatch(steps) and len(steps.strip()) <= 20:
            steps = int(steps)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise GdtutorError(_("expected a positive whole number, got {value}").format(
                value=show(steps)), field="--steps")
        if steps > MAX_ITERATIONS:
            raise GdtutorError(_("{n} iterations; the limit is {max}").format(
                n=number_text(steps), max=MAX_ITERATIONS), field="--steps")
        changes["iterations"] = steps
    new = lesson._replace(**changes)
    if new.backend == "torch" and new.dtype == "exact":
        if dtype is not None:
            raise GdtutorError(_("exact arithmetic runs on the numpy backend only"),
                               field="--dtype")
        raise GdtutorError(_("'{id}' uses exact arithmetic, which runs on the numpy "
                             "backend only (add --dtype float64 to use torch)").format(
            id=lesson.id), field="--backend")
    if new.kind == "descent":
        limit = MAX_EXACT_ITERATIONS if new.dtype == "exact" else MAX_ITERATIONS
        if new.iterations > limit:
            flag = "--steps" if steps is not None else "--dtype"
            if new.dtype == "exact":
                said = (_("{n} iterations; with exact arithmetic the limit is {max} (add --steps)")
                        if flag == "--dtype" else
                        _("{n} iterations; with exact arithmetic the limit is {max}"))
            else:
                said = (_("{n} iterations; the limit is {max} (add --steps)") if flag == "--dtype"
                        else _("{n} iterations; the limit is {max}"))
            raise GdtutorError(said.format(n=new.iterations, max=limit), field=flag)
    if new.dtype != lesson.dtype:  # exact refuses what floats allow (exp, huge powers)
        check_computes(new, lesson.label, field="--dtype")
    return new
