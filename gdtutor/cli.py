"""The `gdtutor` command: the TUI, and headless replay, check and list over the same core."""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Sequence

from .errors import GdtutorError
from .i18n import N_, _, set_lang
from . import progress_commands
from .output import (OutputError, finish_output, prepare_streams, stdout_to_null, warn, write,
                     write_json)

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


def cmd_list(args) -> int:
    from .catalog import builtin
    lessons = builtin()
    width = max(len(lesson.id) for lesson in lessons)
    for lesson in lessons:
        write(f"{lesson.id:<{width}}  {lesson.title.get(args.lang)}")
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
    write_transcript(run, args.format, write, args.lang)
    return 1 if run.checkpoints.failed else 0


def cmd_check(args) -> int:
    import json
    from .catalog import check_targets
    options = {k: getattr(args, k) for k in ("backend", "dtype", "lr", "steps")}
    status = 0
    for report in _check_reports(check_targets(args.lessons), options, args.lang):
        if report.error is not None:
            warn(report.error)
        if args.format == "json":
            write_json(json.dumps(report.obj, ensure_ascii=False, separators=(", ", ": ")))
        else:
            for line in report.lines:
                write(line)
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
        (write_json if args.format == "json" else write)(line)
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
            prepare_streams()
        args = _parser(command).parse_args(rest)
        args.lang = set_lang(args.lang)
        status = {"list": cmd_list, "replay": cmd_replay, "check": cmd_check,
                  "analyze": cmd_analyze, "progress": progress_commands.progress,
                  "report": progress_commands.report,
                  "serve": cmd_serve, "tui": cmd_tui}[command](args)
        if command != "tui":
            finish_output()
        return status
    except GdtutorError as exc:
        warn(str(exc))
        return exc.status
    except OutputError as exc:
        stdout_to_null()
        warn(f"gdtutor: cannot write the output: {exc}")
        return 2
    except KeyboardInterrupt:
        stdout_to_null()
        return 130
    except BrokenPipeError:
        # the reader went away (`gdtutor replay ... | head`): not an error of ours
        stdout_to_null()
        return 0
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        if os.environ.get("GDTUTOR_DEBUG"):
            raise
        detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        warn("gdtutor: " + _("internal error: {detail} (set GDTUTOR_DEBUG=1 for details)")
              .format(detail=detail))
        return 70
