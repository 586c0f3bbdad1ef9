"""The progress file: round trips, lines skipped past (truncated, corrupt), kill -9, concurrent
writers, reset byte for byte, the path rules, and the progress command."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gdtutor.cli import main
from gdtutor.catalog import builtin, resolve
from gdtutor.progress import (BadLine, ProgressLog, Summary, parse_event, progress_path,
                              read_events, summarize)

LESSON_IDS = [lesson.id for lesson in builtin()]


def bad_lines(path) -> list[BadLine]:
    bad: list[BadLine] = []
    read_events(path, bad.append)
    return bad


def test_events_round_trip_with_every_field(tmp_path):
    path = tmp_path / "deep" / "er" / "p.jsonl"
    log = ProgressLog(path, user="ada")
    lesson = resolve("worked-example")
    log.reached(lesson, 0)
    log.attempt(lesson, 1, "weights", "−1/2", False, try_=1)
    log.attempt(lesson, 1, "weights", "1", True, hint=True, try_=2)
    log.attempt("backprop", 1, "value", None, False, revealed=True)
    log.finished("backprop", 1)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 6           # one line an event, each ended
    events = read_events(path)
    assert [e.event for e in events] == ["reached", "attempt", "attempt", "attempt", "finished"]
    first = json.loads(lines[0])
    assert first["v"] == 1 and first["user"] == "ada" and first["lesson"] == "worked-example"
    assert first["source_sha256"] == hashlib.sha256(lesson.source.read_bytes()).hexdigest()
    assert events[3].source_sha256 == ""                  # a bare id has no file to hash
    # ISO 8601 with an offset, and close to now
    assert events[0].when.utcoffset() is not None
    assert abs(time.time() - events[0].when.timestamp()) < 600
    a = events[1]
    assert (a.step, a.field, a.answer, a.correct, a.revealed, a.hint, a.try_) == \
        (1, "weights", "−1/2", False, False, False, 1)
    assert (events[2].hint, events[2].try_, events[3].revealed, events[3].answer) == \
        (True, 2, True, None)
    assert json.loads(lines[2])["try"] == 2 and json.loads(lines[3])["revealed"] is True


def test_summary_counts_steps_first_tries_hints_and_reveals(tmp_path):
    log = ProgressLog(tmp_path / "p.jsonl", user="ada")
    w = "worked-example"
    # step 1: grad right, weights wrong then right -> not first-try correct
    log.attempt(w, 1, "grad", "-2", True)
    log.attempt(w, 1, "weights", "2", False)
    log.attempt(w, 1, "weights", "1", True)
    log.reached(w, 1)
    # step 2: both right at once
    log.attempt(w, 2, "grad", "-1", True)
    log.attempt(w, 2, "weights", "3/2", True)
    log.reached(w, 2)
    # step 3: two misses, a hint, then esc
    log.attempt(w, 3, "weights", "1", False)
    log.attempt(w, 3, "weights", "2", False)
    log.attempt(w, 3, "weights", "5/3", False, hint=True)
    log.attempt(w, 3, "weights", None, False, revealed=True, hint=True)
    log.reached(w, 3)
    log.attempt("other", 1, "weights", "0", True)
    ProgressLog(log.path, user="bob").reached(w, 7)
    s = log.summary(w)
    assert s == Summary("ada", w, reached=3, finished=False, attempts=8, first_try=1,
                        predicted=3, hints=1, revealed=1, last_time=s.last_time)
    assert s.first_try_percent == pytest.approx(100 / 3)
    assert set(log.summaries()) == {w, "other"}           # bob's events are bob's
    assert summarize(log.events())[("bob", w)].reached == 7
    assert log.summary("never-opened") == Summary("ada", "never-opened")
    log.finished(w, 20)
    assert log.summary(w).finished and log.summary(w).reached == 20


def test_a_truncated_last_line_is_skipped_and_the_next_event_kept_whole(tmp_path):
    path = tmp_path / "p.jsonl"
    log = ProgressLog(path, user="ada")
    for k in range(3):
        log.reached("backprop", k)
    whole = path.read_bytes()
    path.write_bytes(whole + whole.splitlines(keepends=True)[0][:25])   # a write cut short
    assert [e.step for e in read_events(path)] == [0, 1, 2]
    assert [(b.line, "truncated" in b.reason) for b in bad_lines(path)] == [(4, True)]
    log.reached("backprop", 3)        # lands on a line of its own, not glued to the fragment
    assert [e.step for e in read_events(path)] == [0, 1, 2, 3]
    assert [b.line for b in bad_lines(path)] == [4]


@pytest.mark.parametrize("junk, words", [
    (b"not json at all", "not JSON"),
    (b'{"v": 1, "time": "2025-01-01T00:00:00+00:00"', "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"v": 2, "time": "x", "user": "a", "lesson": "b", "event": "reached", "step": 0}', "v:"),
    (b'{"v": 1, "time": "yesterday", "user": "a", "lesson": "b", "event": "reached", "step": 0}',
     "time:"),
    (b'{"v": 1, "time": "2025-01-01T00:00:00Z", "user": "a", "lesson": "b", "event": "left", '
     b'"step": 0}', "event:"),
    (b'{"v": 1, "time": "2025-01-01T00:00:00Z", "user": "a", "lesson": "b", "event": "reached", '
     b'"step": -1}', "step:"),
    (b'{"v": 1, "time": "2025-01-01T00:00:00Z", "user": "a", "lesson": "b", "event": "attempt", '
     b'"step": 1, "field": "weights", "answer": "1", "correct": "yes", "revealed": false}',
     "correct:"),
    (b"\xff\xfe\x00garbage", "not"),
    (b"[" * 100_000, "not JSON"),
])
def test_a_corrupt_middle_line_is_skipped_with_its_line_number(tmp_path, junk, words):
    path = tmp_path / "p.jsonl"
    log = ProgressLog(path, user="ada")
    log.reached("backprop", 1)
    with open(path, "ab") as f:
        f.write(junk + b"\n\n")        # the blank line after it is passed over silently
    log.reached("backprop", 2)
    assert [e.step for e in read_events(path)] == [1, 2]
    bad = bad_lines(path)
    assert len(bad) == 1 and bad[0].line == 2 and words in bad[0].reason
    assert str(bad[0]).startswith(f"gdtutor: {path}:2: ") and "\n" not in str(bad[0])


def test_a_time_without_an_offset_is_read_as_utc():
    line = ('{"v": 1, "time": "2025-03-01T10:00:00", "user": "a", "lesson": "b", '
            '"event": "reached", "step": 0}')
    assert parse_event(line).when.utcoffset().total_seconds() == 0


CHILD = """
import sys
from gdtutor.progress import ProgressLog
log = ProgressLog(sys.argv[1], user=sys.argv[2])
for i in range(int(sys.argv[3])):
    log.attempt("worked-example", i, "weights", sys.argv[2] + str(i) + "-" + "x" * int(sys.argv[4]),
                i % 2 == 0, try_=1)
    print(i, flush=True)
"""


def _child(path, user: str, count: int, pad: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), user, str(count), str(pad)],
                            stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_9_loses_no_completed_event(tmp_path):
    path = tmp_path / "p.jsonl"
    child = _child(path, "ada", 10**6, 200)
    done = -1
    deadline = time.monotonic() + 60
    try:
        while done < 300 and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, "the child stopped writing"
            done = int(line)
    finally:
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()     # events it finished before the signal landed
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    done = max([done] + [int(x) for x in rest.split()])
    assert done >= 300
    bad = bad_lines(path)
    events = read_events(path)
    steps = [e.step for e in events]
    # every event reported complete is there, in order; at most the one in flight beyond it,
    # and at most a cut last line
    assert steps[:done + 1] == list(range(done + 1))
    assert len(steps) - (done + 1) in (0, 1)
    assert all(e.answer == f"ada{e.step}-" + "x" * 200 for e in events)
    assert not bad or (len(bad) == 1 and bad[0].line == len(path.read_bytes().split(b"\n")))


@pytest.mark.slow
def test_two_concurrent_writers_never_interleave_within_a_line(tmp_path):
    path = tmp_path / "p.jsonl"
    count, pad = 400, 5000        # lines far above a pipe's atomic size
    children = [_child(path, user, count, pad) for user in ("ada", "bob")]
    for child in children:
        child.communicate(timeout=120)
        assert child.returncode == 0
    assert bad_lines(path) == []
    events = read_events(path)
    for user in ("ada", "bob"):
        mine = [e for e in events if e.user == user]
        assert [e.step for e in mine] == list(range(count))
        assert all(e.answer == f"{user}{e.step}-" + "x" * pad for e in mine)
    assert len(path.read_bytes().split(b"\n")) == 2 * count + 1


def test_reset_removes_one_lesson_and_keeps_every_other_byte(tmp_path):
    path = tmp_path / "p.jsonl"
    log = ProgressLog(path, user="ada")
    log.reached("backprop", 1)
    log.attempt("worked-example", 1, "weights", "1", True)
    log.reached("worked-example", 1)
    with open(path, "ab") as f:    # lines another writer or a hand might leave
        f.write(b'{"lesson":"backprop","v":1}\n')                 # backprop, though not valid
        f.write(b"corrupt line \xff\n")
        f.write(b"   \n")
        f.write('{"v": 1,   "user": "李", "lesson": "divergence"}\n'.encode())
    log.finished("backprop", 1)
    ProgressLog(path, user="bob").reached("backprop", 9)
    before = path.read_bytes().split(b"\n")
    os.chmod(path, 0o640)
    assert log.reset("backprop") == 4
    expected = b"\n".join(line for line in before if b'"backprop"' not in line)
    assert path.read_bytes() == expected
    assert {e.lesson for e in log.events()} == {"worked-example"}
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["p.jsonl"]    # no temporary file left
    assert log.reset("backprop") == 0 and path.read_bytes() == expected
    assert ProgressLog(tmp_path / "none.jsonl").reset("backprop") == 0


def test_path_rules():
    assert progress_path({"GDTUTOR_PROGRESS": "/x/p.jsonl", "XDG_STATE_HOME": "/s",
                          "HOME": "/h"}) == Path("/x/p.jsonl")
    assert progress_path({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == \
        Path("/s/gdtutor/progress.jsonl")
    # a relative XDG_STATE_HOME is ignored, as the XDG spec says
    assert progress_path({"XDG_STATE_HOME": "rel/state", "HOME": "/h"}) == \
        Path("/h/.local/state/gdtutor/progress.jsonl")
    assert progress_path({"GDTUTOR_PROGRESS": "", "XDG_STATE_HOME": "", "HOME": "/h"}) == \
        Path("/h/.local/state/gdtutor/progress.jsonl")


def test_the_default_log_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("GDTUTOR_PROGRESS", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert ProgressLog().path == tmp_path / "state" / "gdtutor" / "progress.jsonl"
    monkeypatch.setenv("GDTUTOR_PROGRESS", str(tmp_path / "mine.jsonl"))
    assert ProgressLog().path == tmp_path / "mine.jsonl"


def test_the_login_name_survives_getpass_failing(tmp_path, monkeypatch):
    import getpass

    def fail():
        raise OSError("no user")
    monkeypatch.setattr(getpass, "getuser", fail)
    log = ProgressLog(tmp_path / "p.jsonl")
    assert log.user == f"uid{os.getuid()}"
    log.reached("backprop", 0)
    assert read_events(log.path)[0].user == log.user


# -- the command ------------------------------------------------------------------------------

def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def mine(tmp_path, monkeypatch):
    path = tmp_path / "p.jsonl"
    monkeypatch.setenv("GDTUTOR_PROGRESS", str(path))
    return ProgressLog(path)


def test_progress_lists_every_builtin_lesson_in_order_then_others(capsys, mine):
    mine.attempt("worked-example", 1, "weights", "1", True)
    mine.attempt("worked-example", 2, "weights", "1", False)
    mine.reached("worked-example", 2)
    mine.reached("zz-own-lesson", 4)
    ProgressLog(mine.path, user=mine.user + "-other").reached("backprop", 1)
    status, out, err = run(capsys, "progress")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"{mine.user}: {mine.path}"
    rows = [line.split()[0] for line in lines[2:]]
    assert rows == LESSON_IDS + ["zz-own-lesson"]
    worked = lines[2 + LESSON_IDS.index("worked-example")].split()
    assert worked[1:5] == ["2/20", "50%", "(1/2)", "0"]
    assert "1 other user" in err
    status, out, err = run(capsys, "progress", "--format", "json")
    data = json.loads(out)
    assert [r["lesson"] for r in data["lessons"]] == LESSON_IDS + ["zz-own-lesson"]
    row = data["lessons"][LESSON_IDS.index("worked-example")]
    assert (row["reached"], row["first_try_correct"], row["steps_predicted"], row["steps"]) == \
        (2, 1, 2, 20)
    assert data["lessons"][LESSON_IDS.index("backprop")]["reached"] == 0   # not the other's


def test_progress_with_no_file_yet(capsys, mine):
    status, out, err = run(capsys, "progress")
    assert status == 0 and err == "" and len(out.splitlines()) == 2 + len(LESSON_IDS)
    assert not mine.path.exists()


def test_reset_asks_and_refuses_without_a_terminal(capsys, mine, monkeypatch):
    mine.reached("backprop", 1)
    mine.reached("worked-example", 1)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    status, out, err = run(capsys, "progress", "--reset", "backprop")
    assert status == 2 and err.startswith("gdtutor: --reset: ") and "--yes" in err
    assert len(err.splitlines()) == 1 and len(read_events(mine.path)) == 2
    status, out, err = run(capsys, "progress", "--reset", "backprp", "--yes")
    assert status == 2 and "did you mean 'backprop'" in err
    status, out, err = run(capsys, "progress", "--reset", "backprop", "--yes")
    assert status == 0 and [e.lesson for e in read_events(mine.path)] == ["worked-example"]


@pytest.mark.parametrize("typed, cleared", [("y\n", True), ("yes\n", True), ("\n", False),
                                             ("n\n", False), ("", False)])
def test_reset_on_a_terminal_takes_y_for_yes(capsys, mine, monkeypatch, typed, cleared):
    import io
    mine.reached("backprop", 1)

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.setattr(sys, "stdin", Terminal(typed))
    status, out, err = run(capsys, "progress", "--reset", "backprop")
    assert status == 0 and "[y/N]" in err
    assert (read_events(mine.path) == []) is cleared


@pytest.mark.slow
def test_a_reset_while_another_process_appends_loses_none_of_its_events(tmp_path):
    path = tmp_path / "p.jsonl"
    log = ProgressLog(path, user="ada")
    child = _child(path, "bob", 300, 100)        # appends to worked-example meanwhile
    resets = 0
    while child.poll() is None:
        log.reached("backprop", resets)
        resets += log.reset("backprop")
    child.communicate(timeout=120)
    assert child.returncode == 0 and resets > 0
    assert bad_lines(path) == []
    assert [e.step for e in read_events(path) if e.user == "bob"] == list(range(300))
