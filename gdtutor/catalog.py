"""The lessons gdtutor knows: the built-in ones listed in lessons/index.yaml, a student's file
by its path, and a lesson with the command line's choices applied."""
from __future__ import annotations

import functools
import re
from pathlib import Path

from .errors import GdtutorError, number_text, show, suggest
from .model import BACKENDS, DTYPES, Lesson
from .schema import (MAX_EXACT_ITERATIONS, MAX_ITERATIONS, Schema, check_computes, check_lr,
                     parse_number, to_lesson)
from .yaml_reader import read

_WHOLE = re.compile(r"\s*[0-9]+\s*")


def load(path: str | Path, *, _builtin: bool = False) -> Lesson:
    """Read and validate one lesson file; raise GdtutorError (file, line, field) on any problem."""
    label = str(path)
    return to_lesson(read(Path(path), label, _builtin), label, Path(path))


def lessons_dir() -> Path:
    """Where the built-in lessons live: inside the installed package, else the repository's."""
    inside = Path(__file__).parent / "lessons"
    return inside if inside.is_dir() else Path(__file__).parent.parent / "lessons"


@functools.cache
def _index(folder: Path) -> tuple[str, ...]:
    """The lesson files lessons/index.yaml lists, in order, checked against the folder: every
    file listed once and present, every file present listed. Reading it loads no lesson."""
    index = folder / "index.yaml"
    reader = Schema(str(index))
    root = read(index, str(index), builtin=True)
    listed = reader.mapping(root, "", ("lessons",), ("lessons",))["lessons"]
    names: list[str] = []
    for field, node in reader.items(listed, "lessons"):
        name = reader.string(node, field)
        if "/" in name or "\\" in name or not name.endswith(".yaml"):
            reader.fail(f"expected a file name ending in .yaml, got '{name}'", node.line, field)
        if name in names:
            reader.fail(f"'{name}' is listed twice", node.line, field)
        if not (folder / name).is_file():
            reader.fail(f"'{name}' is listed but there is no such file", node.line, field)
        names.append(name)
    on_disk = sorted(p.name for p in folder.iterdir()
                     if p.suffix in (".yaml", ".yml") and p.name != index.name)
    unlisted = [name for name in on_disk if name not in names]
    if unlisted:
        reader.fail(f"'{unlisted[0]}' is in {folder} but not listed", listed.line, "lessons")
    return tuple(names)


@functools.cache
def _builtin_lesson(folder: Path, name: str, order: int) -> Lesson:
    """One built-in lesson, numbered by its place in the index (loaded once, then shared)."""
    lesson = load(folder / name, _builtin=True)
    if lesson.id != Path(name).stem:
        raise GdtutorError(f"id '{lesson.id}' must match the file name '{name}'",
                           file=str(folder / name), line=lesson.line_of("id"), field="id")
    return lesson._replace(order=order)


@functools.cache
def _builtin() -> tuple[Lesson, ...]:
    folder = lessons_dir()
    return tuple(_builtin_lesson(folder, name, order)
                 for order, name in enumerate(_index(folder), start=1))


def builtin() -> list[Lesson]:
    """Every built-in lesson, in the order of lessons/index.yaml."""
    return list(_builtin())


def resolve(arg: str) -> Lesson:
    """A built-in lesson by id, or a lesson file by its .yaml/.yml path.

    A built-in id reads the index and that one lesson, not the others (the same Lesson object
    as builtin() gives)."""
    if arg.lower().endswith((".yaml", ".yml")):
        return load(arg)
    folder = lessons_dir()
    names = _index(folder)
    ids = [Path(name).stem for name in names]   # a lesson's id is its file's name
    if arg in ids:
        order = ids.index(arg) + 1
        return _builtin_lesson(folder, names[order - 1], order)
    raise GdtutorError(f"unknown lesson '{arg}'{suggest(arg, ids)}: not a built-in id "
                       "or a .yaml file (try 'gdtutor list')")


def with_overrides(lesson: Lesson, *, backend: str | None = None, dtype: str | None = None,
                   lr=None, steps=None) -> Lesson:
    """The lesson with command-line choices applied, checked as a whole again."""
    changes: dict = {}
    if backend is not None:
        if backend not in BACKENDS:
            raise GdtutorError(f"expected one of {', '.join(BACKENDS)}, got '{backend}'"
                               f"{suggest(str(backend), BACKENDS)}", field="--backend")
        changes["backend"] = backend
    if dtype is not None:
        if dtype not in DTYPES:
            raise GdtutorError(f"expected one of {', '.join(DTYPES)}, got '{dtype}'"
                               f"{suggest(str(dtype), DTYPES)}", field="--dtype")
        changes["dtype"] = dtype
    if lesson.kind == "graph":
        for flag, value in (("--lr", lr), ("--steps", steps)):
            if value is not None:
                raise GdtutorError(f"'{lesson.id}' is a graph lesson: it has no gradient descent "
                                   "to change", field=flag)
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
            raise GdtutorError(f"expected a positive whole number, got {show(steps)}",
                               field="--steps")
        if steps > MAX_ITERATIONS:
            raise GdtutorError(f"{number_text(steps)} iterations; the limit is {MAX_ITERATIONS}",
                               field="--steps")
        changes["iterations"] = steps
    new = lesson._replace(**changes)
    if new.backend == "torch" and new.dtype == "exact":
        if dtype is not None:
            raise GdtutorError("exact arithmetic runs on the numpy backend only", field="--dtype")
        raise GdtutorError(f"'{lesson.id}' uses exact arithmetic, which runs on the numpy "
                           "backend only (add --dtype float64 to use torch)", field="--backend")
    if new.kind == "descent":
        limit = MAX_EXACT_ITERATIONS if new.dtype == "exact" else MAX_ITERATIONS
        if new.iterations > limit:
            flag = "--steps" if steps is not None else "--dtype"
            what = "with exact arithmetic " if new.dtype == "exact" else ""
            raise GdtutorError(f"{new.iterations} iterations; {what}the limit is {limit}"
                               + (" (add --steps)" if flag == "--dtype" else ""), field=flag)
    if new.dtype != lesson.dtype:  # exact refuses what floats allow (exp, huge powers)
        check_computes(new, lesson.label, field="--dtype")
    return new
