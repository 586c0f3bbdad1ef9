"""The `gdtutor` command: the TUI, and headless replay, check and list over the same core."""
from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Sequence

from .errors import GdtutorError
from .i18n import _, set_lang

COMMANDS = ("replay", "check", "list", "analyze", "progress", "report")
USAGE = """\
gdtutor                      open the lesson picker
gdtutor LESSON               open one lesson (a built-in id or a .yaml file)
gdtutor DIR                  open the picker of a course folder
gdtutor replay LESSON        step a lesson headless, print a transcript, verify its checkpoints
gdtutor check LESSON...      validate lesson files and verify their checkpoints
gdtutor check DIR            check every lesson of a course folder
gdtutor list                 the built-in lessons
gdtutor analyze LESSON       stability (Hessian, eigenvalues, α_max) and a gradient check
gdtutor progress             your progress in every lesson (--reset LESSON clears one)
gdtutor report PATH...       one row per student and lesson from progress files or folders"""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors turned into the one-line, status-2 kind."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise GdtutorError(message.replace("\n", " "))


def _common(p: argparse.ArgumentParser, *, descent: bool = True) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="language of lesson text (default: from LANG, else en)")
    p.add_argument("--backend", choices=("numpy", "torch"), help="override the lesson's backend")
    p.add_argument("--dtype", choices=("float32", "float64", "exact"),
                   help="override the lesson's arithmetic")
    if descent:
        p.add_argument("--lr", metavar="A", help="override α (a number or a fraction like 1/2)")
        p.add_argument("--steps", metavar="N", help="override the number of iterations")


def _parser(command: str) -> Parser:
    if command in ("progress", "report"):
        return _progress_parser(command)
    if command == "replay":
        p = Parser(prog="gdtutor replay", description="Step a lesson headless and verify it.")
        p.add_argument("lesson", metavar="LESSON")
        _common(p)
        p.add_argument("--format", choices=("text", "jsonl", "summary"), default="text")
    elif command == "check":
        p = Parser(prog="gdtutor check", description="Validate lessons and verify their checkpoints.")
        p.add_argument("lessons", metavar="LESSON", nargs="+")
        _common(p)
        p.add_argument("--format", choices=("text", "json"), default="text",
                       help="json: one object per file, one a line")
    elif command == "analyze":
        p = Parser(prog="gdtutor analyze", description="Stability and gradient check, headless.")
        p.add_argument("lesson", metavar="LESSON")
        _common(p)
        p.add_argument("--format", choices=("text", "json"), default="text")
    elif command == "list":
        p = Parser(prog="gdtutor list", description="List the built-in lessons.")
        p.add_argument("--lang", choices=("en", "zh"), default=None)
    else:
        p = Parser(prog="gdtutor", usage=USAGE, description="Step through backpropagation "
                   "and gradient descent, one iteration at a time.")
        p.add_argument("lesson", metavar="LESSON", nargs="?")
        _common(p)
        p.add_argument("--ascii", action="store_true", help="draw plots with ASCII, not braille")
        p.add_argument("--mouse", action=argparse.BooleanOptionalAction, default=None,
                       help="mouse support (default: off over SSH, on elsewhere)")
    return p


def _load(arg: str, args: argparse.Namespace):
    from .catalog import resolve, with_overrides
    lesson = resolve(arg)
    return with_overrides(lesson, backend=args.backend, dtype=args.dtype,
                          lr=getattr(args, "lr", None), steps=getattr(args, "steps", None))


def _stepper(lesson, args):
    """The lesson's stepper; a backend that cannot start is blamed on what chose it: the
    --backend flag, or the file's line."""
    from .checks import make_stepper
    return make_stepper(lesson, "--backend" if args.backend is not None else None)


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")


def cmd_list(args) -> int:
    from .catalog import builtin
    lessons = builtin()
    width = max(len(lesson.id) for lesson in lessons)
    for lesson in lessons:
        _write(f"{lesson.id:<{width}}  {lesson.title.get(args.lang)}")
    return 0


def cmd_replay(args) -> int:
    from .api import record_run
    from .transcript import write_transcript
    run = record_run(_stepper(_load(args.lesson, args), args))
    write_transcript(run, args.format, _write, args.lang)
    return 1 if run.checkpoints.failed else 0


def cmd_check(args) -> int:
    import json
    from .catalog import check_targets
    options = {k: getattr(args, k) for k in ("backend", "dtype", "lr", "steps")}
    status = 0
    for report in _check_reports(check_targets(args.lessons), options, args.lang):
        if report.error is not None:
            print(report.error, file=sys.stderr)
        if args.format == "json":
            _write(json.dumps(report.obj, ensure_ascii=False, separators=(", ", ": ")))
        else:
            for line in report.lines:
                _write(line)
        status = max(status, report.status)
    return status


def _check_reports(targets: list, options: dict, lang: str):
    """A report for each target in order: lessons (str) checked together (in parallel when
    many), a course's own verdict (a CourseNote) in its place among them."""
    from .transcript import CheckReport, check_many
    run: list[str] = []
    for target in [*targets, None]:
        if isinstance(target, str):
            run.append(target)
            continue
        if run:
            yield from check_many(run, options)
            run = []
        if target is None:
            return
        obj = {"file": target.file, "id": None, "ok": target.error is None, "checkpoints": None,
               "failed": [], "error": None}
        if target.error is None:
            obj["course"] = target.title.get(lang)
            yield CheckReport(0, obj, (f"OK course {obj['course']}",), None)
        else:
            e = target.error
            obj["error"] = {"message": e.message, "file": e.file, "line": e.line, "field": e.field}
            yield CheckReport(2, obj, (), str(e))


def cmd_analyze(args) -> int:
    import json
    from .analysis import analyze, gradient_check, stability, text_report
    lesson = _load(args.lesson, args)
    if lesson.kind != "descent":
        raise GdtutorError(f"'{lesson.id}' is a graph lesson: analyze is for descent lessons "
                           "(a graph has no α and no Hessian to analyse)", file=lesson.label)
    _stepper(lesson, args)     # a backend that cannot start is blamed as replay blames it
    if args.format == "json":
        _write(json.dumps(analyze(lesson), ensure_ascii=False))
        return 0
    for line in text_report(lesson, stability(lesson), gradient_check(lesson), args.lang):
        _write(line)
    return 0


def _progress_parser(command: str) -> Parser:
    if command == "progress":
        p = Parser(prog="gdtutor progress", description="Your progress in every lesson, from "
                   "$GDTUTOR_PROGRESS, else $XDG_STATE_HOME/gdtutor/progress.jsonl, else "
                   "~/.local/state/gdtutor/progress.jsonl.")
        p.add_argument("--format", choices=("text", "json"), default="text")
        p.add_argument("--reset", metavar="LESSON", help="clear one lesson's progress")
        p.add_argument("--yes", action="store_true", help="reset without asking")
    else:
        p = Parser(prog="gdtutor report", description="One row per student and lesson from "
                   "progress files, or folders searched for *.jsonl.")
        p.add_argument("paths", metavar="PATH", nargs="+")
        p.add_argument("--format", choices=("text", "csv", "json"), default="text")
    p.add_argument("--lang", choices=("en", "zh"), default=None)
    return p


def _warn(line: str) -> None:
    print(line, file=sys.stderr)


def cmd_progress(args) -> int:
    from .catalog import builtin
    from .progress import ProgressLog, Summary
    from .report import as_dict, columns, first_try_text
    log = ProgressLog()
    if args.yes and not args.reset:
        raise GdtutorError("only goes with --reset LESSON", field="--yes")
    lessons = {lesson.id: lesson for lesson in builtin()}
    if args.reset:
        return _reset(log, args.reset, lessons, args.yes)
    try:
        events = log.events(lambda bad: _warn(str(bad)))
    except OSError as exc:
        raise GdtutorError(f"cannot read: {exc.strerror or exc}", file=str(log.path)) from None
    mine = log.summaries(events)
    others = {ev.user for ev in events} - {log.user}
    ids = list(lessons) + sorted(set(mine) - set(lessons))
    rows = [mine.get(i) or Summary(log.user, i) for i in ids]
    if args.format == "json":
        import json
        out = [dict(as_dict(s), title=lessons[s.lesson].title.get(args.lang)
                    if s.lesson in lessons else None,
                    steps=_steps(lessons.get(s.lesson))) for s in rows]
        _write(json.dumps({"user": log.user, "file": str(log.path), "lessons": out},
                          ensure_ascii=False, indent=1))
    else:
        _write(f"{log.user}: {log.path}")
        header = ("lesson", "reached", "first try", "hints", "revealed", "finished", "last time")
        body = []
        for s in rows:
            steps = _steps(lessons.get(s.lesson))
            body.append((s.lesson, f"{s.reached}/{steps}" if steps else str(s.reached),
                         first_try_text(s), str(s.hints), str(s.revealed),
                         "yes" if s.finished else "no", s.last_time or "-"))
        for line in columns(header, body, (False, True, True, True, True, False, False)):
            _write(line)
    if others:
        _warn(f"gdtutor: {log.path}: also holds the progress of {len(others)} other "
              f"user{'s' if len(others) > 1 else ''} (gdtutor report {log.path} shows all)")
    return 0


def _steps(lesson) -> int | None:
    """How many steps a lesson offers; None for a graph lesson (its stages are the TUI's)."""
    return lesson.iterations if lesson is not None and lesson.kind == "descent" else None


def _reset(log, lesson_id: str, lessons: dict, yes: bool) -> int:
    from .progress import read_events
    try:
        events = read_events(log.path) if log.path.exists() else []
    except OSError as exc:
        raise GdtutorError(f"cannot read: {exc.strerror or exc}", file=str(log.path)) from None
    count = sum(1 for ev in events if ev.lesson == lesson_id)
    if not count:
        if lesson_id in lessons or not events:
            _write(f"no progress to clear for '{lesson_id}' in {log.path}")
            return 0
        import difflib
        known = sorted(set(lessons) | {ev.lesson for ev in events})
        close = difflib.get_close_matches(lesson_id, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise GdtutorError(f"no lesson '{lesson_id}' in {log.path}{hint}", field="--reset")
    if not yes:
        if not sys.stdin.isatty():
            raise GdtutorError("no terminal to confirm on: add --yes to clear "
                               f"'{lesson_id}'", field="--reset")
        sys.stderr.write(f"Clear the progress in '{lesson_id}' ({count} events) from "
                         f"{log.path}? [y/N] ")
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline()
        except (EOFError, OSError):
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            _write("nothing cleared")
            return 0
    try:
        removed = log.reset(lesson_id)
    except OSError as exc:
        raise GdtutorError(f"cannot rewrite: {exc.strerror or exc}", file=str(log.path)) from None
    _write(f"cleared '{lesson_id}': {removed} event{'s' if removed != 1 else ''} removed "
           f"from {log.path}")
    return 0


def cmd_report(args) -> int:
    from .report import FORMATS, progress_files, read_class
    files = progress_files(args.paths)
    if not files:
        _warn(f"gdtutor: no *.jsonl progress files in {', '.join(args.paths)}")
    rows, skipped = read_class(files, _warn)
    sys.stdout.write(FORMATS[args.format](rows))
    if skipped:
        _warn(f"gdtutor: {skipped} bad line{'s' if skipped > 1 else ''} skipped")
    return 0


def cmd_tui(args) -> int:
    from .tui.numpy_loader import import_numpy
    import_numpy()     # its help texts are written after the first frame
    from .catalog import Course, resolve_target, with_overrides
    target = resolve_target(args.lesson) if args.lesson else None
    course = target if isinstance(target, Course) else None
    lesson = None
    if target is not None and course is None:
        lesson = with_overrides(target, backend=args.backend, dtype=args.dtype, lr=args.lr,
                                steps=args.steps)
    from .tui.app import run
    overrides = {k: getattr(args, k) for k in ("backend", "dtype", "lr", "steps")
                 if getattr(args, k) is not None}
    return run(lesson, course=course, lang=args.lang, ascii_plot=args.ascii, mouse=args.mouse,
               overrides=overrides) or 0


def main(argv: Sequence[str] | None = None) -> int:
    # Lessons multiply matrices of a few rows: one BLAS thread is all they use, and starting
    # OpenBLAS's pool (whose threads spin while idle) costs numpy's import tens of ms.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else "tui"
    rest = argv[1:] if command != "tui" else argv
    # Opening the tutor makes a few hundred thousand objects (Textual, numpy, plotext) that
    # live as long as it does, and the cyclic collector would walk them all again at every
    # full collection: about 0.1 s of the first frame. It is paused until the first frame is
    # out; the app then freezes what start-up made and resumes it (or this does, on an error).
    paused = command == "tui" and gc.isenabled()
    if paused:
        gc.disable()
    try:
        args = _parser(command).parse_args(rest)
        args.lang = set_lang(args.lang)
        return {"list": cmd_list, "replay": cmd_replay, "check": cmd_check,
                "analyze": cmd_analyze, "progress": cmd_progress, "report": cmd_report,
                "tui": cmd_tui}[command](args)
    except GdtutorError as exc:
        print(exc, file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`gdtutor replay ... | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        if os.environ.get("GDTUTOR_DEBUG"):
            raise
        detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        print("gdtutor: " + _("internal error: {detail} (set GDTUTOR_DEBUG=1 for details)")
              .format(detail=detail), file=sys.stderr)
        return 70
    finally:
        if paused:
            gc.enable()
