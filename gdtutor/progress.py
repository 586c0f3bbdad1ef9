"""The progress file (SPEC section 8): one JSON event a line, appended so that a crash loses
at most the event being written, and read back past any truncated or corrupt line.

The TUI keeps one ProgressLog and, per lesson:

    log = ProgressLog()                                   # the path rules of progress_path()
    log.reached(lesson, k)                                # step k revealed
    log.attempt(lesson, k, "weights", "7/4", correct=True, hint=False, try_=1)
    log.attempt(lesson, k, "weights", None, correct=False, revealed=True)   # esc
    log.finished(lesson, k)
    log.summary(lesson)        # Summary: reached, finished, first_try of predicted, ...

`lesson` is a Lesson (its id and its file's sha256 are written) or a lesson id. Writing
raises OSError (a full disk, a read-only home): the caller says so and goes on.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Mapping, NamedTuple, NoReturn

from .files import read_regular
from .i18n import N_, _

try:
    import fcntl
except ImportError:       # not on Windows: O_APPEND alone keeps lines whole there
    fcntl = None  # type: ignore[assignment]

VERSION = 1
EVENTS = ("attempt", "reached", "finished")
FILE_NAME = "progress.jsonl"
_UTC = timezone.utc


def progress_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$GDTUTOR_PROGRESS`, else `$XDG_STATE_HOME/gdtutor/progress.jsonl` (when that is an
    absolute path), else `~/.local/state/gdtutor/progress.jsonl`."""
    env = os.environ if environ is None else environ
    explicit = env.get("GDTUTOR_PROGRESS", "")
    if explicit:
        return Path(explicit).expanduser()
    state = env.get("XDG_STATE_HOME", "")
    if state and os.path.isabs(state):
        return Path(state) / "gdtutor" / FILE_NAME
    home = env.get("HOME", "") if environ is not None else ""
    if not home:
        try:
            home = str(Path.home())
        except RuntimeError:          # no HOME and no password entry
            home = os.getcwd()
    return Path(home) / ".local" / "state" / "gdtutor" / FILE_NAME


def login_name() -> str:
    """The login name, as getpass finds it; `uid<N>` when it finds none."""
    try:
        name = getpass.getuser()
    except Exception:   # no LOGNAME/USER/... and no password entry (KeyError, OSError)
        name = ""
    if not name:
        getuid = getattr(os, "getuid", None)
        name = f"uid{getuid()}" if getuid else "unknown"
    return name


def lesson_sha256(lesson) -> str:
    """The sha256 of the lesson's file as it is now (hex); "" for a lesson with no file."""
    source = getattr(lesson, "source", None)
    if source is None:
        return ""
    try:
        return hashlib.sha256(Path(source).read_bytes()).hexdigest()
    except OSError:
        return ""


def now() -> str:
    """The current local time, ISO 8601 with its UTC offset, to the millisecond."""
    return datetime.now(_UTC).astimezone().isoformat(timespec="milliseconds")


# -- reading --------------------------------------------------------------------------------

class Event(NamedTuple):
    """One validated line of a progress file."""

    user: str
    lesson: str
    event: str               # "attempt" | "reached" | "finished"
    step: int
    time: str                # as written
    when: datetime           # `time` parsed (a time without an offset is taken as UTC)
    source_sha256: str = ""
    field: str | None = None          # attempts: "grad" | "step" | "weights" | "value" | "grads"
    answer: object = None             # attempts: the text typed; None for a reveal
    correct: bool = False
    revealed: bool = False
    hint: bool = False                # a hint was shown before this attempt
    try_: int | None = None           # the attempt's number within its step and field


class BadLine(NamedTuple):
    """A line that was skipped, and why; str() is the one-line warning."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"gdtutor: {self.file}:{self.line}: {self.reason}"


def _int(value) -> bool:
    return type(value) is int


_DECODER = json.JSONDecoder()
_JSON_SPACE = " \t\r"


# json's reasons for refusing a line (lower-cased, with the column), as the catalog has them
JSON_REASONS = frozenset((
    N_("expecting value at column {column}"),
    N_("expecting property name enclosed in double quotes at column {column}"),
    N_("expecting ':' delimiter at column {column}"),
    N_("expecting ',' delimiter at column {column}"),
    N_("unterminated string starting at column {column}"),
    N_("invalid control character at column {column}"),
    N_("invalid \\escape at column {column}"),
    N_("invalid \\uxxxx escape at column {column}"),
    N_("extra data at column {column}"),
))


def _json(line: str):
    """One line's JSON value, as json.loads would read it; ValueError with the reason."""
    line = line.strip(_JSON_SPACE)
    try:
        obj, end = _DECODER.raw_decode(line)
    except RecursionError:
        raise ValueError(_("not JSON: nested too deeply")) from None
    except json.JSONDecodeError as exc:
        msg = exc.msg.lower()
        template = msg + (" column {column}" if msg.endswith(" at") else " at column {column}")
        known = template in JSON_REASONS
        where = (_(template).format(column=exc.colno) if known
                 else template.replace("{column}", str(exc.colno)))
        raise ValueError(_("truncated or corrupt line, skipped (not JSON: {where})").format(
            where=where)) from None
    if end != len(line):
        raise ValueError(_("corrupt line, skipped (more text after the JSON, column {column})")
                         .format(column=end + 1))
    return obj


def parse_event(raw: bytes | str) -> Event:
    """One line as an Event; ValueError with the reason when it is not a valid event."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(_("corrupt line, skipped (not UTF-8)")) from None
    return event_from(_json(raw))


def event_from(obj) -> Event:
    """A JSON value as an Event; ValueError with the reason when it is not a valid event."""
    if type(obj) is not dict:
        raise ValueError(_("not a JSON object"))
    get = obj.get
    v, time, user, lesson = get("v"), get("time"), get("user"), get("lesson")
    event, step = get("event"), get("step")
    if not (v == VERSION and type(v) is int and type(time) is str and type(user) is str
            and user and type(lesson) is str and lesson and type(step) is int and step >= 0
            and event in EVENTS):
        _explain(obj)
    try:
        when = datetime.fromisoformat(time)
    except ValueError:
        raise ValueError(_("time: not an ISO 8601 time: {value}").format(
            value=json.dumps(time)[:40])) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_UTC)
    sha = get("source_sha256", "")
    if type(sha) is not str:
        raise ValueError(_("source_sha256: expected a hex string"))
    if event != "attempt":
        return Event(user, lesson, event, step, time, when, sha)
    field, correct, revealed = get("field"), get("correct"), get("revealed")
    hint, try_ = get("hint", False), get("try")
    if not (type(field) is str and type(correct) is bool and type(revealed) is bool
            and type(hint) is bool and (try_ is None or type(try_) is int)):
        _explain(obj)
    return Event(user, lesson, event, step, time, when, sha, field, get("answer"), correct,
                 revealed, hint, try_)


def _explain(obj: dict) -> NoReturn:
    """Raise ValueError naming the first field of an event that is wrong."""
    v = obj.get("v")
    if v != VERSION or type(v) is not int:
        raise ValueError(_("v: expected {version}, got {value}").format(
            version=VERSION, value=json.dumps(v)))
    for key in ("user", "lesson", "time"):
        if type(obj.get(key)) is not str or not obj[key]:
            raise ValueError(_("{key}: expected a non-empty string").format(key=key))
    event = obj.get("event")
    if event not in EVENTS:
        raise ValueError(_("event: expected one of {events}, got {value}").format(
            events=", ".join(EVENTS), value=json.dumps(event)))
    step = obj.get("step")
    if type(step) is not int or step < 0:
        raise ValueError(_("step: expected a whole number >= 0, got {value}").format(
            value=json.dumps(step)))
    if type(obj.get("field")) is not str:
        raise ValueError(_("field: expected a string"))
    for key in ("correct", "revealed"):
        if type(obj.get(key)) is not bool:
            raise ValueError(_("{key}: expected true or false").format(key=key))
    if type(obj.get("hint", False)) is not bool:
        raise ValueError(_("{key}: expected true or false").format(key="hint"))
    raise ValueError(_("try: expected a whole number"))


def _lines(data: bytes) -> list[bytes]:
    """The file's lines, each with its newline (a last line may lack it)."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def parse_events(data: bytes, label: str,
                 on_bad: Callable[[BadLine], None] | None = None) -> list[Event]:
    """The events in a progress file's bytes; blank lines are passed over, and every other
    line that is not a valid event is skipped and reported to on_bad (never raised)."""
    try:
        lines: list = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:      # some line is not UTF-8: each is decoded on its own
        lines = data.split(b"\n")
    raw_decode = _DECODER.raw_decode
    events = []
    append = events.append
    for number, line in enumerate(lines, start=1):
        try:                        # the common case: a line as this module writes it
            obj, end = raw_decode(line)
            if end == len(line):
                append(event_from(obj))
                continue
        except (ValueError, TypeError, RecursionError):
            pass
        # anything else, again on the careful path: blank, spaced, bytes, or bad
        if not line.strip(_JSON_SPACE if isinstance(line, str) else b" \t\r"):
            continue
        try:
            append(parse_event(line))
        except ValueError as exc:
            if on_bad is not None:
                on_bad(BadLine(label, number, str(exc)))
    return events


def read_events(path: str | Path, on_bad: Callable[[BadLine], None] | None = None) -> list[Event]:
    """The events of one progress file (OSError if it cannot be read), bad lines skipped."""
    return parse_events(read_regular(path), str(path), on_bad)


# -- summaries ------------------------------------------------------------------------------

class Summary(NamedTuple):
    """One user's progress in one lesson.

    reached: the highest step reached; finished: the lesson was finished at least once;
    attempts: answers typed (reveals are not attempts); predicted: steps with at least one
    attempt or reveal; first_try: of those, steps where every field's first answer (the
    earliest by time) was right;
    hints: steps where a hint was shown; revealed: steps where an answer was revealed;
    last_time: the latest event's time as written (None when there is none)."""

    user: str
    lesson: str
    reached: int = 0
    finished: bool = False
    attempts: int = 0
    first_try: int = 0
    predicted: int = 0
    hints: int = 0
    revealed: int = 0
    last_time: str | None = None

    @property
    def first_try_percent(self) -> float | None:
        """first_try as a percentage of predicted steps; None when none was predicted."""
        return 100.0 * self.first_try / self.predicted if self.predicted else None


class Tally:
    """Adds events up, one (user, lesson) at a time; `summary()` gives the Summary."""

    __slots__ = ("user", "lesson", "reached", "finished", "attempts", "first", "hinted",
                 "revealed", "last", "last_when")

    def __init__(self, user: str, lesson: str) -> None:
        self.user, self.lesson = user, lesson
        self.reached, self.finished, self.attempts = 0, False, 0
        # step -> field -> (time, right) of its first try
        self.first: dict[int, dict[str, tuple[datetime, bool]]] = {}
        self.hinted: set[int] = set()
        self.revealed: set[int] = set()
        self.last: str | None = None
        self.last_when: datetime | None = None

    def add(self, ev: Event) -> None:
        if self.last_when is None or ev.when >= self.last_when:
            self.last, self.last_when = ev.time, ev.when
        if ev.event != "attempt":
            if ev.step > self.reached:
                self.reached = ev.step
            if ev.event == "finished":
                self.finished = True
            return
        # the first try is the earliest by time, not by place: a student's events may come
        # from two files (two machines), read in any order
        fields = self.first.setdefault(ev.step, {})
        seen = fields.get(ev.field)
        if seen is None or ev.when < seen[0]:
            fields[ev.field] = (ev.when, ev.correct and not ev.revealed)
        if ev.revealed:
            self.revealed.add(ev.step)
        else:
            self.attempts += 1
        if ev.hint:
            self.hinted.add(ev.step)

    def summary(self) -> Summary:
        first_try = sum(1 for fields in self.first.values()
                        if all(right for _, right in fields.values()))
        return Summary(self.user, self.lesson, self.reached, self.finished, self.attempts,
                       first_try, len(self.first), len(self.hinted), len(self.revealed),
                       self.last)


def tally(events: Iterable[Event], into: dict | None = None) -> dict[tuple[str, str], Tally]:
    """Events added up per (user, lesson), into an existing dict if given (to add more files)."""
    tallies = {} if into is None else into
    for ev in events:
        key = (ev.user, ev.lesson)
        t = tallies.get(key)
        if t is None:
            t = tallies[key] = Tally(ev.user, ev.lesson)
        t.add(ev)
    return tallies


def summarize(events: Iterable[Event]) -> dict[tuple[str, str], Summary]:
    """One Summary per (user, lesson)."""
    return {key: t.summary() for key, t in tally(events).items()}


# -- writing --------------------------------------------------------------------------------

def _lesson_id(lesson) -> str:
    return lesson if isinstance(lesson, str) else lesson.id


def _open_locked(path: Path) -> int:
    """The file opened for appending (created if need be) and locked against the other
    gdtutor processes writing it; if a reset renamed a new file over it meanwhile, that one."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _write_line(path: Path, line: bytes) -> None:
    """Append one line with one write(2) on an O_APPEND file, then fsync: a kill loses at most
    this line, and writers never interleave within a line (O_APPEND, and a lock among gdtutor
    processes). A file whose last line was cut off by a crash gets a newline first, so this
    line stays whole."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = _open_locked(path)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        written = os.write(fd, line)
        while written < len(line):     # only on a full disk or a signal; rarer than rare
            written += os.write(fd, line[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


class ProgressLog:
    """One user's progress file: appending events, reading them, summaries, reset."""

    def __init__(self, path: str | Path | None = None, *, user: str | None = None) -> None:
        self.path = Path(path) if path is not None else progress_path()
        self.user = user or login_name()
        self._sha: dict[str, str] = {}

    def _sha256(self, lesson) -> str:
        if isinstance(lesson, str):
            return ""
        key = str(getattr(lesson, "source", None))
        if key not in self._sha:
            self._sha[key] = lesson_sha256(lesson)
        return self._sha[key]

    def append(self, lesson, event: str, step: int, **fields) -> dict:
        """Write one event (with v, time, user, lesson, source_sha256) and return it."""
        if event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, not {event!r}")
        if type(step) is not int or step < 0:
            raise ValueError(f"step must be a whole number >= 0, not {step!r}")
        record = {"v": VERSION, "time": now(), "user": self.user,
                  "lesson": _lesson_id(lesson), "source_sha256": self._sha256(lesson),
                  "event": event, "step": step, **fields}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        _write_line(self.path, line.encode("utf-8"))
        return record

    def attempt(self, lesson, step: int, field: str, answer: str | None, correct: bool, *,
                revealed: bool = False, hint: bool = False, try_: int | None = None) -> dict:
        """An answer typed for `field` before step `step` is revealed (step k predicts w_k);
        a reveal (esc) is an attempt with revealed=True, answer None and correct False."""
        fields: dict = {"field": field, "answer": answer, "correct": bool(correct),
                        "revealed": bool(revealed), "hint": bool(hint)}
        if try_ is not None:
            fields["try"] = int(try_)
        return self.append(lesson, "attempt", step, **fields)

    def reached(self, lesson, step: int) -> dict:
        """Step `step` is on screen (the state after `step` updates)."""
        return self.append(lesson, "reached", step)

    def finished(self, lesson, step: int) -> dict:
        """The lesson was finished, at step `step` (its last)."""
        return self.append(lesson, "finished", step)

    def events(self, on_bad: Callable[[BadLine], None] | None = None) -> list[Event]:
        """Every event in the file, any user's; none when there is no file yet."""
        try:
            return read_events(self.path, on_bad)
        except FileNotFoundError:
            return []

    def summaries(self, events: Iterable[Event] | None = None,
                  on_bad: Callable[[BadLine], None] | None = None) -> dict[str, Summary]:
        """This user's Summary per lesson id, from the file (or from events already read)."""
        events = self.events(on_bad) if events is None else events
        return {lesson: t.summary() for (user, lesson), t in tally(events).items()
                if user == self.user}

    def summary(self, lesson) -> Summary:
        """This user's Summary of one lesson (all zeros when not started)."""
        lesson_id = _lesson_id(lesson)
        return self.summaries().get(lesson_id) or Summary(self.user, lesson_id)

    def reset(self, lesson) -> int:
        """Remove one lesson's events (every user's) and return how many lines went. The
        other lines are kept byte for byte; the file is rewritten beside itself and renamed
        over, so a crash leaves the old file or the new one; a gdtutor appending meanwhile
        waits for it, then appends to the new file."""
        lesson_id = _lesson_id(lesson)
        if not self.path.exists():
            return 0
        fd = _open_locked(self.path)      # appends wait until the new file is in place
        try:
            return self._rewrite(fd, lesson_id)
        finally:
            os.close(fd)

    def _rewrite(self, fd: int, lesson_id: str) -> int:
        data = self.path.read_bytes()
        kept, removed = [], 0
        for line in _lines(data):
            if line.strip() and _lesson_of(line) == lesson_id:
                removed += 1
            else:
                kept.append(line)
        if not removed:
            return 0
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(b"".join(kept))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, self.path.stat().st_mode & 0o7777)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return removed


def _lesson_of(line: bytes) -> str | None:
    """The lesson a line belongs to; None for a line that is not a JSON object with one."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    lesson = obj.get("lesson") if type(obj) is dict else None
    return lesson if type(lesson) is str else None
