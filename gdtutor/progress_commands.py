"""`gdtutor progress` (a student's own progress) and `gdtutor report` (a class's), over the
progress files of gdtutor/progress.py."""
from __future__ import annotations

import sys

from .errors import GdtutorError
from .i18n import N_, _
from .output import put, warn, write, write_json
from .safe_text import json_safe, printable


def progress(args) -> int:
    from .catalog import builtin
    from .progress import ProgressLog, Summary
    from .report import as_dict, columns, first_try_text
    log = ProgressLog()
    if args.yes and not args.reset:
        raise GdtutorError(_("only goes with --reset LESSON"), field="--yes")
    lessons = {lesson.id: lesson for lesson in builtin()}
    if args.reset:
        return _reset(log, args.reset, lessons, args.yes)
    try:
        events = log.events(lambda bad: warn(str(bad)))
    except OSError as exc:
        raise GdtutorError(_("cannot read: {reason}").format(reason=exc.strerror or exc),
                           file=str(log.path)) from None
    mine = log.summaries(events)
    others = {ev.user for ev in events} - {log.user}
    ids = list(lessons) + sorted(set(mine) - set(lessons))
    rows = [mine.get(i) or Summary(log.user, i) for i in ids]
    if args.format == "json":
        import json
        out = [dict(as_dict(s), title=lessons[s.lesson].title.get(args.lang)
                    if s.lesson in lessons else None,
                    steps=_steps(lessons.get(s.lesson))) for s in rows]
        for line in json.dumps({"user": log.user, "file": str(log.path), "lessons": out},
                               ensure_ascii=False, indent=1).split("\n"):
            write_json(line)
    else:
        write(f"{log.user}: {log.path}")
        header = tuple(_(h) for h in (N_("lesson"), N_("reached"), N_("first try"), N_("hints"),
                                      N_("revealed"), N_("finished"), N_("last time")))
        body = []
        yes, no = _("yes"), _("no")
        for s in rows:
            steps = _steps(lessons.get(s.lesson))
            body.append((s.lesson, f"{s.reached}/{steps}" if steps else str(s.reached),
                         first_try_text(s), str(s.hints), str(s.revealed),
                         yes if s.finished else no, s.last_time or "-"))
        for line in columns(header, body, (False, True, True, True, True, False, False)):
            write(line)
    if others:
        many = len(others) > 1
        warn("gdtutor: " + (
            _("{file}: also holds the progress of {n} other users (gdtutor report {file} "
              "shows all)") if many else
            _("{file}: also holds the progress of {n} other user (gdtutor report {file} "
              "shows all)")).format(file=log.path, n=len(others)))
    return 0


def _steps(lesson) -> int | None:
    """How many steps a lesson offers; None for a graph lesson (its stages are the TUI's)."""
    return lesson.iterations if lesson is not None and lesson.kind == "descent" else None


def _reset(log, lesson_id: str, lessons: dict, yes: bool) -> int:
    from .progress import read_events
    try:
        events = read_events(log.path) if log.path.exists() else []
    except OSError as exc:
        raise GdtutorError(_("cannot read: {reason}").format(reason=exc.strerror or exc),
                           file=str(log.path)) from None
    count = sum(1 for ev in events if ev.lesson == lesson_id)
    if not count:
        if lesson_id in lessons or not events:
            write(_("no progress to clear for '{id}' in {file}").format(id=lesson_id,
                                                                          file=log.path))
            return 0
        import difflib
        known = sorted(set(lessons) | {ev.lesson for ev in events})
        close = difflib.get_close_matches(lesson_id, known, n=1)
        if close:
            raise GdtutorError(_("no lesson '{id}' in {file} (did you mean '{close}'?)").format(
                id=lesson_id, file=log.path, close=close[0]), field="--reset")
        raise GdtutorError(_("no lesson '{id}' in {file}").format(id=lesson_id, file=log.path),
                           field="--reset")
    if not yes:
        if not sys.stdin.isatty():
            raise GdtutorError(_("no terminal to confirm on: add --yes to clear '{id}'").format(
                id=lesson_id), field="--reset")
        sys.stderr.write(printable(_("Clear the progress in '{id}' ({n} events) from {file}? [y/N] ").format(
            id=lesson_id, n=count, file=log.path)))
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline()
        except (EOFError, OSError):
            answer = ""
        if answer.strip().lower() not in ("y", "yes", _("yes")):
            write(_("nothing cleared"))
            return 0
    try:
        removed = log.reset(lesson_id)
    except OSError as exc:
        raise GdtutorError(_("cannot rewrite: {reason}").format(reason=exc.strerror or exc),
                           file=str(log.path)) from None
    write((_("cleared '{id}': {n} event removed from {file}") if removed == 1 else
            _("cleared '{id}': {n} events removed from {file}")).format(
        id=lesson_id, n=removed, file=log.path))
    return 0


def report(args) -> int:
    from .report import FORMATS, progress_files, read_class
    files = progress_files(args.paths)
    if not files:
        warn("gdtutor: " + _("no *.jsonl progress files in {paths}").format(
            paths=", ".join(args.paths)))
    rows, skipped = read_class(files, warn)
    text = FORMATS[args.format](rows)
    if args.format == "json":
        put(json_safe(text))
    else:
        put(printable(text, multiline=True))
    if skipped:
        warn("gdtutor: " + (_("{n} bad lines skipped") if skipped > 1 else
                             _("{n} bad line skipped")).format(n=skipped))
    return 0
