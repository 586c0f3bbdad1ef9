"""The class table from progress files (`gdtutor report`), and the student's own (`gdtutor
progress`): rows of Summary, written as aligned text, CSV or JSON."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .cjk import width
from .errors import GdtutorError
from .files import read_regular
from .i18n import N_, _
from .progress import BadLine, Summary, Tally, parse_events, tally

MAX_WARNINGS_PER_FILE = 20
COLUMNS = ("user", "lesson", "reached", "attempts", "first_try", "hints", "revealed",
           "finished", "last_time")
CSV_COLUMNS = ("user", "lesson", "reached", "attempts", "first_try_correct", "steps_predicted",
               "first_try_percent", "hints", "revealed", "finished", "last_time")


def progress_files(paths: Sequence[str]) -> list[Path]:
    """The files named, and every `*.jsonl` under the folders named (sorted), in order and
    without repeats. A path that does not exist or a folder that cannot be listed is a
    GdtutorError."""
    files: list[Path] = []
    seen: set[str] = set()

    def add(path: Path) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            found = []

            def fail(exc: OSError) -> None:
                raise GdtutorError(_("cannot read: {reason}").format(reason=exc.strerror or exc),
                                   file=exc.filename or arg)
            for folder, dirs, names in os.walk(path, onerror=fail):
                dirs.sort()
                found.extend(Path(folder) / n for n in names if n.endswith(".jsonl"))
            for f in sorted(found):
                add(f)
        elif path.exists():
            add(path)
        else:
            raise GdtutorError(_("no such file or folder"), file=arg)
    return files


def read_class(files: Iterable[Path], warn: Callable[[str], None]) -> tuple[list[Summary], int]:
    """Every (user, lesson) Summary in the files, sorted by user then lesson, and the number
    of lines skipped. Each skipped line is warned about (at most MAX_WARNINGS_PER_FILE a file,
    then one line for the rest); a file that cannot be read is a GdtutorError."""
    tallies: dict[tuple[str, str], Tally] = {}
    skipped = 0
    for path in files:
        try:
            data = read_regular(path)
        except OSError as exc:
            raise GdtutorError(_("cannot read: {reason}").format(reason=exc.strerror or exc),
                               file=str(path)) from None
        bad: list[BadLine] = []
        events = parse_events(data, str(path), bad.append)
        for line in bad[:MAX_WARNINGS_PER_FILE]:
            warn(str(line))
        if len(bad) > MAX_WARNINGS_PER_FILE:
            warn("gdtutor: " + _("{file}: {n} more bad lines skipped").format(
                file=path, n=len(bad) - MAX_WARNINGS_PER_FILE))
        skipped += len(bad)
        tally(events, tallies)
    rows = [tallies[key].summary() for key in sorted(tallies)]
    return rows, skipped


# -- writing --------------------------------------------------------------------------------

def _percent(s: Summary) -> str:
    p = s.first_try_percent
    return "" if p is None else f"{p:.0f}"


def first_try_text(s: Summary) -> str:
    """`83% (5/6)`, or `-` when no step was predicted."""
    return "-" if not s.predicted else f"{_percent(s)}% ({s.first_try}/{s.predicted})"


def as_dict(s: Summary) -> dict:
    """One row for JSON: the Summary's fields and first_try_percent (null when none)."""
    p = s.first_try_percent
    return {"user": s.user, "lesson": s.lesson, "reached": s.reached, "attempts": s.attempts,
            "first_try_correct": s.first_try, "steps_predicted": s.predicted,
            "first_try_percent": None if p is None else round(p, 1), "hints": s.hints,
            "revealed": s.revealed, "finished": s.finished, "last_time": s.last_time}


def columns(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Rows aligned in columns two spaces apart; numbers (right[i]) right-aligned."""
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(header)]
    out = []
    for row in [header, *rows]:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell))
            cells.append(pad + cell if right[i] else cell + pad)
        out.append("  ".join(cells).rstrip())
    return out


TEXT_HEADER = (N_("user"), N_("lesson"), N_("reached"), N_("attempts"), N_("first try"),
               N_("hints"), N_("revealed"), N_("finished"), N_("last time"))


def report_text(rows: Sequence[Summary]) -> str:
    header = tuple(_(h) for h in TEXT_HEADER)
    yes, no = _("yes"), _("no")
    body = [(s.user, s.lesson, str(s.reached), str(s.attempts), first_try_text(s),
             str(s.hints), str(s.revealed), yes if s.finished else no, s.last_time or "-")
            for s in rows]
    return "\n".join(columns(header, body, (False, False, True, True, True, True, True,
                                            False, False))) + "\n"


def report_csv(rows: Sequence[Summary]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in rows:
        d = as_dict(s)
        d["finished"] = "yes" if s.finished else "no"
        d["first_try_percent"] = "" if d["first_try_percent"] is None else d["first_try_percent"]
        d["last_time"] = s.last_time or ""
        writer.writerow([d[c] for c in CSV_COLUMNS])
    return buf.getvalue()


def report_json(rows: Sequence[Summary]) -> str:
    return json.dumps([as_dict(s) for s in rows], ensure_ascii=False, indent=1) + "\n"


FORMATS = {"text": report_text, "csv": report_csv, "json": report_json}
