"""The `gdtutor` command: the TUI, and headless replay, check and list over the same core."""
from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Sequence

from .errors import GdtutorError
from .i18n import _, set_lang

COMMANDS = ("replay", "check", "list", "analyze")
USAGE = """\
gdtutor                      open the lesson picker
gdtutor LESSON               open one lesson (a built-in id or a .yaml file)
gdtutor replay LESSON        step a lesson headless, print a transcript, verify its checkpoints
gdtutor check LESSON...      validate lesson files and verify their checkpoints
gdtutor list                 the built-in lessons
gdtutor analyze LESSON       stability (Hessian, eigenvalues, α_max) and a gradient check"""


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
    from .lesson import resolve, with_overrides
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
    from .lesson import builtin
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
    from .transcript import check_many
    options = {k: getattr(args, k) for k in ("backend", "dtype", "lr", "steps")}
    status = 0
    for report in check_many(args.lessons, options):
        if report.error is not None:
            print(report.error, file=sys.stderr)
        if args.format == "json":
            _write(json.dumps(report.obj, ensure_ascii=False, separators=(", ", ": ")))
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
    _stepper(lesson, args)     # a backend that cannot start is blamed as replay blames it
    if args.format == "json":
        _write(json.dumps(analyze(lesson), ensure_ascii=False))
        return 0
    for line in text_report(lesson, stability(lesson), gradient_check(lesson), args.lang):
        _write(line)
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
                "analyze": cmd_analyze, "tui": cmd_tui}[command](args)
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
