"""The `gdtutor` command: the TUI, and headless replay, check and list over the same core."""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Sequence

from .errors import GdtutorError
from .i18n import N_, _, set_lang
from .safe_text import json_safe, printable

COMMANDS = ("replay", "check", "list", "analyze", "progress", "report", "serve")
# the commands, each with what it does (one catalog entry a line)
USAGE = (
    ("gdtutor", N_("open the lesson picker")),
    ("gdtutor LESSON", N_("open one lesson (a built-in id or a .yaml file)")),
    ("gdtutor DIR", N_("open the picker of a course folder")),
    ("gdtutor replay LESSON", N_("step a lesson headless, print a transcript, verify its checkpoints")),
    ("gdtutor check LESSON...", N_("validate lesson files and verify their checkpoints")),
    ("gdtutor check DIR", N_("check every lesson of a course folder")),
    ("gdtutor list", N_("the built-in lessons")),
    ("gdtutor analyze LESSON", N_("stability (Hessian, eigenvalues, α_max) and a gradient check")),
    ("gdtutor progress", N_("your progress in every lesson (--reset LESSON clears one)")),
    ("gdtutor report PATH...", N_("one row per student and lesson from progress files or folders")),
    ("gdtutor serve [LESSON|DIR]", N_("the tutor in the browser, one session a tab (needs gdtutor[serve])")),
)


def usage() -> str:
    return "\n".join(f"{command:<29}{_(text)}" for command, text in USAGE)



# argparse's own messages (Python 3.11 and later), each with the catalog entry it becomes.
ARGPARSE_MESSAGES = (
    (r"the following arguments are required: (?P<names>.*)",
     N_("the following arguments are required: {names}")),
    (r"unrecognized arguments: (?P<args>.*)", N_("unrecognized arguments: {args}")),
    (r"invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)",
     N_("invalid choice: {value} (choose from {choices})")),
    (r"expected one argument", N_("expected one argument")),
    (r"expected at most one argument", N_("expected at most one argument")),
    (r"expected at least one argument", N_("expected at least one argument")),
    (r"expected (?P<n>\d+) arguments?", N_("expected {n} arguments")),
    (r"ignored explicit argument (?P<value>.*)", N_("ignored explicit argument {value}")),
    (r"one of the arguments (?P<names>.*) is required",
     N_("one of the arguments {names} is required")),
    (r"not allowed with argument (?P<name>.*)", N_("not allowed with argument {name}")),
    (r"ambiguous option: (?P<option>.*) could match (?P<matches>.*)",
     N_("ambiguous option: {option} could match {matches}")),
    (r"invalid (?P<type>\S+) value: (?P<value>.*)", N_("invalid {type} value: {value}")),
)
HELP_HEADINGS = {"positional arguments:": N_("positional arguments:"), "options:": N_("options:")}


def argparse_message(message: str) -> str:
    """One of argparse's error messages in the current language (as it is when unknown)."""
    import re
    found = re.fullmatch(r"argument (?P<name>\S+(?:/\S+)*): (?P<rest>.*)", message, re.S)
    if found:
        return _("argument {name}: {message}").format(
            name=found["name"], message=argparse_message(found["rest"]))
    for pattern, template in ARGPARSE_MESSAGES:
        found = re.fullmatch(pattern, message, re.S)
        if found:
            return _(template).format(**found.groupdict())
    return message


class Parser(argparse.ArgumentParser):
    """argparse, with its errors turned into the one-line, status-2 kind, and its headings
    and messages in the current language."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, add_help=False, **kwargs)
        self.add_argument("-h", "--help", action="help",
                          help=_("show this help message and exit"))

    def error(self, message: str) -> None:  # type: ignore[override]
        raise GdtutorError(argparse_message(message).replace("\n", " "))

    def _translated(self, text: str) -> str:
        from .cjk import ljust, width
        if text.startswith("usage: "):      # the lines below are indented to its width
            text = ljust(_("usage: "), width("usage: ")) + text.removeprefix("usage: ")
        return "\n".join(_(HELP_HEADINGS[line]) if line in HELP_HEADINGS else line
                         for line in text.split("\n"))

    def format_usage(self) -> str:
        return self._translated(super().format_usage())

    def format_help(self) -> str:
        return self._translated(super().format_help())


def _common(p: argparse.ArgumentParser, *, descent: bool = True) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help=_("language of lesson text (default: from LANG, else en)"))
    p.add_argument("--backend", choices=("numpy", "torch"),
                   help=_("override the lesson's backend"))
    p.add_argument("--dtype", choices=("float32", "float64", "exact"),
                   help=_("override the lesson's arithmetic"))
    if descent:
        p.add_argument("--lr", metavar="A", help=_("override α (a number or a fraction like 1/2)"))
        p.add_argument("--steps", metavar="N", help=_("override the number of iterations"))


def _parser(command: str) -> Parser:
    if command in ("progress", "report"):
        return _progress_parser(command)
    if command == "replay":
        p = Parser(prog="gdtutor replay", description=_("Step a lesson headless and verify it."))
        p.add_argument("lesson", metavar="LESSON")
        _common(p)
        p.add_argument("--format", choices=("text", "jsonl", "summary"), default="text")
    elif command == "check":
        p = Parser(prog="gdtutor check",
                   description=_("Validate lessons and verify their checkpoints."))
        p.add_argument("lessons", metavar="LESSON", nargs="+")
        _common(p)
        p.add_argument("--format", choices=("text", "json"), default="text",
                       help=_("json: one object per file, one a line"))
    elif command == "analyze":
        p = Parser(prog="gdtutor analyze", description=_("Stability and gradient check, headless."))
        p.add_argument("lesson", metavar="LESSON")
        _common(p)
        p.add_argument("--format", choices=("text", "json"), default="text")
    elif command == "serve":
        p = Parser(prog="gdtutor serve", description=_(
            "The tutor in the browser through textual-serve: every tab gets its own session."))
        p.add_argument("lesson", metavar="LESSON|DIR", nargs="?")
        p.add_argument("--host", default="127.0.0.1", help=_("address to listen on"))
        p.add_argument("--port", default="8000", help=_("port to listen on"))
        p.add_argument("--lang", choices=("en", "zh"), default=None)
        p.add_argument("--max-sessions", default="50", metavar="N",
                       help=_("tabs served at once; the next one gets a page saying so"))
    elif command == "list":
        p = Parser(prog="gdtutor list", description=_("List the built-in lessons."))
        p.add_argument("--lang", choices=("en", "zh"), default=None)
    else:
        p = Parser(prog="gdtutor", usage=usage(), description=_(
            "Step through backpropagation and gradient descent, one iteration at a time."))
        p.add_argument("lesson", metavar="LESSON", nargs="?")
        _common(p)
        p.add_argument("--ascii", action="store_true", help=_("draw plots with ASCII, not braille"))
        p.add_argument("--mouse", action=argparse.BooleanOptionalAction, default=None,
                       help=_("mouse support (default: off over SSH, on elsewhere)"))
        p.add_argument("--predict", action="store_true",
                       help=_("predict mode: type each step's numbers before it is shown"))
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
    from .catalog import check_targets
    options = {k: getattr(args, k) for k in ("backend", "dtype", "lr", "steps")}
    status = 0
    for report in _check_reports(check_targets(args.lessons), options, args.lang):
        if report.error is not None:
            _warn(report.error)
        if args.format == "json":
            _write_json(json.dumps(report.obj, ensure_ascii=False, separators=(", ", ": ")))
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
        raise GdtutorError(_("'{id}' is a graph lesson: analyze is for descent lessons "
                             "(a graph has no α and no Hessian to analyse)").format(id=lesson.id),
                           file=lesson.label)
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
        p = Parser(prog="gdtutor progress", description=_(
            "Your progress in every lesson, from $GDTUTOR_PROGRESS, else "
            "$XDG_STATE_HOME/gdtutor/progress.jsonl, else ~/.local/state/gdtutor/progress.jsonl."))
        p.add_argument("--format", choices=("text", "json"), default="text")
        p.add_argument("--reset", metavar="LESSON", help=_("clear one lesson's progress"))
        p.add_argument("--yes", action="store_true", help=_("reset without asking"))
    else:
        p = Parser(prog="gdtutor report", description=_(
            "One row per student and lesson from progress files, or folders searched for "
            "*.jsonl."))
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
        raise GdtutorError(_("only goes with --reset LESSON"), field="--yes")
    lessons = {lesson.id: lesson for lesson in builtin()}
    if args.reset:
        return _reset(log, args.reset, lessons, args.yes)
    try:
        events = log.events(lambda bad: _warn(str(bad)))
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
            _write_json(line)
    else:
        _write(f"{log.user}: {log.path}")
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
            _write(line)
    if others:
        many = len(others) > 1
        _warn("gdtutor: " + (
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
            _write(_("no progress to clear for '{id}' in {file}").format(id=lesson_id,
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
            _write(_("nothing cleared"))
            return 0
    try:
        removed = log.reset(lesson_id)
    except OSError as exc:
        raise GdtutorError(_("cannot rewrite: {reason}").format(reason=exc.strerror or exc),
                           file=str(log.path)) from None
    _write((_("cleared '{id}': {n} event removed from {file}") if removed == 1 else
            _("cleared '{id}': {n} events removed from {file}")).format(
        id=lesson_id, n=removed, file=log.path))
    return 0


def cmd_report(args) -> int:
    from .report import FORMATS, progress_files, read_class
    files = progress_files(args.paths)
    if not files:
        _warn("gdtutor: " + _("no *.jsonl progress files in {paths}").format(
            paths=", ".join(args.paths)))
    rows, skipped = read_class(files, _warn)
    text = FORMATS[args.format](rows)
    if args.format == "json":
        _out(json_safe(text))
    else:
        _out(printable(text, multiline=True))
    if skipped:
        _warn("gdtutor: " + (_("{n} bad lines skipped") if skipped > 1 else
                             _("{n} bad line skipped")).format(n=skipped))
    return 0


def cmd_tui(args) -> int:
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
               overrides=overrides, predict=args.predict) or 0


def cmd_serve(args) -> int:
    from .serve import serve
    return serve(args.lesson, host=args.host, port=args.port, lang=args.lang,
                 max_sessions=args.max_sessions)


def _lang_asked(argv: Sequence[str]) -> str | None:
    """The language `--lang X` or `--lang=X` asks for, read before the arguments are parsed."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=")
    return None


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
    try:
        set_lang(_lang_asked(rest))      # argparse's own messages are in it too
        if command != "tui":
            _prepare_streams()
        args = _parser(command).parse_args(rest)
        args.lang = set_lang(args.lang)
        status = {"list": cmd_list, "replay": cmd_replay, "check": cmd_check,
                  "analyze": cmd_analyze, "progress": cmd_progress, "report": cmd_report,
                  "serve": cmd_serve, "tui": cmd_tui}[command](args)
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
