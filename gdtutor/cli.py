"""The `gdtutor` command: the TUI, and headless replay, check and list over the same core."""
from __future__ import annotations

import argparse
import gc
import os
import re
import sys
from typing import Sequence

from .errors import GdtutorError
from .i18n import _, set_lang
from .safe_text import json_safe, printable

COMMANDS = ("replay", "check", "list", "analyze", "progress", "report")
USAGE = """\
gdtutor                      open the lesson picker
gdtutor LESSON               open one lesson (a built-in id or a .yaml file)
gdtutor replay LESSON        step a lesson headless, print a transcript, verify its checkpoints
gdtutor check LESSON...      validate lesson files and verify their checkpoints
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


# -- the output layer: everything a command prints goes through these ----------------------


class OutputError(Exception):
    """stdout cannot be written (closed, a full disk): reported in one line, status 2."""


# Where the output's encoding cannot write the tutor's symbols (PYTHONIOENCODING=ascii, a C
# locale), they are written the ASCII way; anything else is backslash-escaped.
ASCII_SYMBOLS = str.maketrans({"α": "alpha", "·": "*", "−": "-", "≈": "~", "→": "->",
                               "≠": "!=", "∂": "d", "Σ": "sum", "²": "^2", "…": "...",
                               "∇": "grad ", "×": "x", "—": "-", "–": "-", "≤": "<=",
                               "≥": ">=", "λ": "lambda", "η": "eta", "ŵ": "w^", "\u0302": "^"})
_plain = {"stdout": False, "stderr": False}


def _can_encode(stream) -> bool:
    try:
        "α·−≈→≠".encode(getattr(stream, "encoding", None) or "utf-8")
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _prepare_streams() -> None:
    """Streams that cannot encode the tutor's symbols write them as ASCII, and escape anything
    else they cannot write, instead of failing on the first α."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        _plain[name] = False
        if stream is None or _can_encode(stream):
            continue
        _plain[name] = True
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def _out(text: str) -> None:
    if sys.stdout is None:
        raise OutputError("stdout is closed")
    if _plain["stdout"]:
        text = text.translate(ASCII_SYMBOLS)
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc)) from None


def _write(line: str) -> None:
    """One line of text for a person; nothing in it can act on the terminal."""
    _out(printable(line) + "\n")


def _write_json(line: str) -> None:
    _out(json_safe(line) + "\n")


def _warn(line: str) -> None:
    """One line on stderr; a closed or failing stderr is left alone."""
    if sys.stderr is None:
        return
    line = printable(line)
    if _plain["stderr"]:
        line = line.translate(ASCII_SYMBOLS)
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _finish_output() -> None:
    """Flush stdout now, so that a failing write is reported here and not by the interpreter
    at exit; then point stdout at the null device, where the exit's own flush cannot fail."""
    stream = sys.stdout
    if stream is None:
        return
    try:
        stream.flush()
    except BrokenPipeError:
        _stdout_to_null()
    except OSError as exc:
        _stdout_to_null()
        raise OutputError(exc.strerror or str(exc)) from None


def _stdout_to_null() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def cmd_list(args) -> int:
    from .catalog import builtin
    lessons = builtin()
    width = max(len(lesson.id) for lesson in lessons)
    for lesson in lessons:
        _write(f"{lesson.id:<{width}}  {lesson.title.get(args.lang)}")
    return 0


class _Progress:
    """`step k of N` on stderr while a long replay steps, where stderr is a terminal (Ctrl-C
    stops the run: status 130)."""

    def __init__(self) -> None:
        import time
        self.clock = time.monotonic
        self.shown = False
        self.next = self.clock() + 1.0

    def __call__(self, k: int, end: int) -> None:
        if self.clock() >= self.next:
            self.next = self.clock() + 0.2
            self.shown = True
            sys.stderr.write(f"\rgdtutor: step {k} of {end} (Ctrl-C stops)")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def cmd_replay(args) -> int:
    from .api import record_run
    from .transcript import write_transcript
    stepper = _stepper(_load(args.lesson, args), args)
    if stepper.lesson.kind == "descent" and sys.stderr is not None and sys.stderr.isatty():
        progress = _Progress()
        try:
            stepper.run(progress)
        finally:
            progress.done()
    run = record_run(stepper)
    write_transcript(run, args.format, _write, args.lang)
    return 1 if run.checkpoints.failed else 0


def cmd_check(args) -> int:
    import json
    from .transcript import check_many
    options = {k: getattr(args, k) for k in ("backend", "dtype", "lr", "steps")}
    status = 0
    for report in check_many(args.lessons, options):
        if report.error is not None:
            _warn(report.error)
        if args.format == "json":
            _write_json(json.dumps(report.obj, ensure_ascii=False, separators=(", ", ": ")))
        else:
            for line in report.lines:
                _write(line)
        status = max(status, report.status)
    return status


def cmd_analyze(args) -> int:
    import json
    from .analysis import analyze, gradient_check, stability, text_report
    lesson = _load(args.lesson, args)
    if lesson.kind != "descent":
        raise GdtutorError(f"'{lesson.id}' is a graph lesson: analyze is for descent lessons "
                           "(a graph has no α and no Hessian to analyse)", file=lesson.label)
    from .numbers import quiet_arithmetic
    _stepper(lesson, args)     # a backend that cannot start is blamed as replay blames it
    with quiet_arithmetic():
        if args.format == "json":
            lines = [json.dumps(_finite_json(analyze(lesson)), ensure_ascii=False)]
        else:
            lines = list(text_report(lesson, stability(lesson), gradient_check(lesson), args.lang))
    for line in lines:
        (_write_json if args.format == "json" else _write)(line)
    return 0


def _finite_json(obj):
    """obj with every non-finite float as the transcript writes it ("inf", "-inf", "nan"):
    JSON has no such numbers, and json.dumps would write `Infinity`, which is not JSON."""
    import math
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_json(v) for v in obj]
    return obj


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
        for line in json.dumps({"user": log.user, "file": str(log.path), "lessons": out},
                               ensure_ascii=False, indent=1).split("\n"):
            _write_json(line)
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
        sys.stderr.write(printable(f"Clear the progress in '{lesson_id}' ({count} events) "
                                   f"from {log.path}? [y/N] "))
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
    text = FORMATS[args.format](rows)
    if args.format == "json":
        _out(json_safe(text))
    else:
        _out(printable(text, multiline=True))
    if skipped:
        _warn(f"gdtutor: {skipped} bad line{'s' if skipped > 1 else ''} skipped")
    return 0


def cmd_tui(args) -> int:
    from .tui.numpy_loader import import_numpy
    import_numpy()     # its help texts are written after the first frame
    lesson = _load(args.lesson, args) if args.lesson else None
    from .tui.app import run
    overrides = {k: getattr(args, k) for k in ("backend", "dtype", "lr", "steps")
                 if getattr(args, k) is not None}
    return run(lesson, lang=args.lang, ascii_plot=args.ascii, mouse=args.mouse,
               overrides=overrides) or 0


_NEGATIVE = re.compile(r"-[0-9.]")


def _join_negative_values(argv: list[str]) -> list[str]:
    """`--lr -1/2` as `--lr=-1/2`: argparse takes any word starting with '-' that is not a
    plain negative number for an option, and a fraction is not one."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--lr", "--steps") and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        if argv[i] == "--":
            out.extend(argv[i:])
            break
        out.append(argv[i])
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    # Lessons multiply matrices of a few rows: one BLAS thread is all they use, and starting
    # OpenBLAS's pool (whose threads spin while idle) costs numpy's import tens of ms.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
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
        if command != "tui":
            _prepare_streams()
        args = _parser(command).parse_args(rest)
        args.lang = set_lang(args.lang)
        status = {"list": cmd_list, "replay": cmd_replay, "check": cmd_check,
                  "analyze": cmd_analyze, "progress": cmd_progress, "report": cmd_report,
                  "tui": cmd_tui}[command](args)
        if command != "tui":
            _finish_output()
        return status
    except GdtutorError as exc:
        _warn(str(exc))
        return exc.status
    except OutputError as exc:
        _stdout_to_null()
        _warn(f"gdtutor: cannot write the output: {exc}")
        return 2
    except KeyboardInterrupt:
        _stdout_to_null()
        return 130
    except BrokenPipeError:
        # the reader went away (`gdtutor replay ... | head`): not an error of ours
        _stdout_to_null()
        return 0
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        if os.environ.get("GDTUTOR_DEBUG"):
            raise
        detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        _warn("gdtutor: " + _("internal error: {detail} (set GDTUTOR_DEBUG=1 for details)")
              .format(detail=detail))
        return 70
    finally:
        if paused:
            gc.enable()
