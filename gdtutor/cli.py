"""The `gdtutor` command: the TUI, and headless replay, check and list over the same core."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from .errors import GdtutorError

COMMANDS = ("replay", "check", "list")
USAGE = """\
gdtutor                      open the lesson picker
gdtutor LESSON               open one lesson (a built-in id or a .yaml file)
gdtutor replay LESSON        step a lesson headless, print a transcript, verify its checkpoints
gdtutor check LESSON...      validate lesson files and verify their checkpoints
gdtutor list                 the built-in lessons"""


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


def default_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _load(arg: str, args: argparse.Namespace):
    from .lesson import resolve, with_overrides
    lesson = resolve(arg)
    return with_overrides(lesson, backend=args.backend, dtype=args.dtype,
                          lr=getattr(args, "lr", None), steps=getattr(args, "steps", None))


def _stepper(lesson, args):
    """The lesson's stepper; a backend that cannot start is blamed on what chose it: the
    --backend flag, or the file's line."""
    from .stepper import Stepper
    try:
        return Stepper(lesson)
    except GdtutorError as exc:
        if exc.field != "backend" or exc.file:
            raise
        if args.backend is not None:
            raise GdtutorError(exc.message, field="--backend") from None
        raise exc.located(file=lesson.label, line=lesson.line_of("backend")) from None


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
    from .transcript import replay
    lesson = _load(args.lesson, args)
    failed = replay(_stepper(lesson, args), args.format, _write, args.lang)
    return 1 if failed else 0


def cmd_check(args) -> int:
    from .checks import verify
    status = 0
    for arg in args.lessons:
        try:
            lesson = _load(arg, args)
            results = verify(_stepper(lesson, args))
        except GdtutorError as exc:
            print(exc, file=sys.stderr)
            status = 2
            continue
        bad = [r for r in results if not r.passed]
        if bad:
            for r in bad:
                _write(f"FAIL {lesson.id}: {lesson.label}:{r.checkpoint.line}: {r.detail}")
            status = max(status, 1)
        else:
            _write(f"OK {lesson.id}")
    return status


def cmd_tui(args) -> int:
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
    try:
        args = _parser(command).parse_args(rest)
        if args.lang is None:
            args.lang = default_lang()
        return {"list": cmd_list, "replay": cmd_replay, "check": cmd_check, "tui": cmd_tui}[command](args)
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
        print(f"gdtutor: internal error: {type(exc).__name__}: {exc} "
              "(set GDTUTOR_DEBUG=1 for details)".replace("\n", " "), file=sys.stderr)
        return 70
