"""`gdtutor report`: hand-written files with known counts, a generated class checked against
counts kept while it was generated, the three formats, bad lines, unreadable paths."""
from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gdtutor.cli import main
from gdtutor.catalog import builtin

LESSON_IDS = [lesson.id for lesson in builtin()]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def line(user, lesson, event, step, minute, zone=0, **more) -> str:
    when = (T0 + timedelta(minutes=minute)).astimezone(timezone(timedelta(hours=zone)))
    return json.dumps({"v": 1, "time": when.isoformat(), "user": user, "lesson": lesson,
                       "source_sha256": "ab" * 32, "event": event, "step": step, **more})


def attempt(user, lesson, step, minute, field, answer, correct, revealed=False, **more):
    return line(user, lesson, "attempt", step, minute, field=field, answer=answer,
                correct=correct, revealed=revealed, **more)


HAND = [
    # ada, worked-example: step 1 right at once; step 2 wrong, wrong, hint, right;
    # step 3 revealed after one miss; finished at 3
    line("ada", "worked-example", "reached", 0, 0),
    attempt("ada", "worked-example", 1, 1, "weights", "1", True),
    line("ada", "worked-example", "reached", 1, 1),
    attempt("ada", "worked-example", 2, 2, "weights", "2", False),
    attempt("ada", "worked-example", 2, 3, "weights", "5/4", False),
    attempt("ada", "worked-example", 2, 4, "weights", "3/2", True, hint=True),
    line("ada", "worked-example", "reached", 2, 4),
    attempt("ada", "worked-example", 3, 5, "weights", "1", False),
    attempt("ada", "worked-example", 3, 6, "weights", None, False, revealed=True),
    line("ada", "worked-example", "reached", 3, 6),
    line("ada", "worked-example", "finished", 3, 7),
    # ada, backprop: value right, grads wrong then right: the step is not first-try correct
    attempt("ada", "backprop", 1, 10, "value", "1", True),
    attempt("ada", "backprop", 1, 11, "grads", "1", False),
    attempt("ada", "backprop", 1, 12, "grads", "2", True),
    line("ada", "backprop", "reached", 1, 12),
]
BOB = [
    # bob in UTC+8: the later instant is the earlier clock reading in UTC
    line("bob", "backprop", "reached", 0, 30, zone=8),
    line("bob", "backprop", "reached", 1, 20, zone=-5),
]


def write(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


def test_hand_written_files_in_every_format(capsys, tmp_path):
    write(tmp_path / "class" / "ada.jsonl", HAND)
    write(tmp_path / "class" / "more" / "bob.jsonl", BOB)
    (tmp_path / "class" / "notes.txt").write_text("not a progress file")
    status, out, err = run(capsys, "report", str(tmp_path / "class"), "--format", "json")
    assert status == 0 and err == ""
    rows = json.loads(out)
    assert [(r["user"], r["lesson"]) for r in rows] == \
        [("ada", "backprop"), ("ada", "worked-example"), ("bob", "backprop")]
    ada_b, ada_w, bob = rows
    assert {k: ada_w[k] for k in ("reached", "attempts", "first_try_correct", "steps_predicted",
                                  "hints", "revealed", "finished")} == \
        {"reached": 3, "attempts": 5, "first_try_correct": 1, "steps_predicted": 3,
         "hints": 1, "revealed": 1, "finished": True}
    assert ada_w["first_try_percent"] == pytest.approx(33.3)
    assert ada_w["last_time"] == (T0 + timedelta(minutes=7)).isoformat()
    assert (ada_b["attempts"], ada_b["first_try_correct"], ada_b["steps_predicted"],
            ada_b["first_try_percent"], ada_b["finished"]) == (3, 0, 1, 0, False)
    assert (bob["reached"], bob["attempts"], bob["first_try_percent"]) == (1, 0, None)
    assert bob["last_time"] == (T0 + timedelta(minutes=30)).astimezone(
        timezone(timedelta(hours=8))).isoformat()

    status, out, err = run(capsys, "report", str(tmp_path / "class"), "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [(r["user"], r["lesson"], r["reached"], r["attempts"], r["first_try_correct"],
             r["first_try_percent"], r["hints"], r["revealed"], r["finished"]) for r in table] == [
        ("ada", "backprop", "1", "3", "0", "0.0", "0", "0", "no"),
        ("ada", "worked-example", "3", "5", "1", "33.3", "1", "1", "yes"),
        ("bob", "backprop", "1", "0", "0", "", "0", "0", "no")]

    status, out, err = run(capsys, "report", str(tmp_path / "class"))
    lines = out.splitlines()
    assert lines[0].split() == ["user", "lesson", "reached", "attempts", "first", "try",
                                "hints", "revealed", "finished", "last", "time"]
    assert lines[2].split()[:8] == ["ada", "worked-example", "3", "5", "33%", "(1/3)", "1", "1"]
    # aligned: every column starts at the same place on every line
    for name in ("reached", "hints", "finished", "last time"):
        end = lines[0].index(name) + (len(name) if name in ("reached", "hints") else 0)
        for row in lines[1:]:
            if name in ("reached", "hints"):       # numbers are right-aligned
                assert row[end - 1] != " " and row[end] == " "
            else:
                assert row[end - 1] == " " and row[end] != " "


def test_a_file_and_a_folder_and_the_same_file_twice_count_once(capsys, tmp_path):
    ada = write(tmp_path / "ada.jsonl", HAND)
    status, out, err = run(capsys, "report", str(ada), str(tmp_path), str(ada), "--format", "json")
    assert status == 0 and [r["attempts"] for r in json.loads(out)] == [3, 5]


def test_corrupt_lines_are_warned_about_and_the_report_goes_on(capsys, tmp_path):
    lines = list(HAND)
    lines.insert(3, '{"v": 1, "time": "2025-03-01T09:02:00+00:00", "us')
    lines.insert(6, "\x00\x00 garbage")
    path = write(tmp_path / "ada.jsonl", lines)
    with open(path, "a", encoding="utf-8") as f:
        f.write(BOB[0][:30])                         # a last line cut short
    status, out, err = run(capsys, "report", str(tmp_path), "--format", "json")
    assert status == 0
    assert [r["attempts"] for r in json.loads(out)] == [3, 5]    # nothing else lost
    warnings = err.splitlines()
    assert [w.split(": ")[1] for w in warnings[:3]] == \
        [f"{path}:4", f"{path}:7", f"{path}:{len(lines) + 1}"]
    assert all(w.startswith("gdtutor: ") for w in warnings)
    assert warnings[-1] == "gdtutor: 3 bad lines skipped" and len(warnings) == 4


def test_a_flood_of_bad_lines_is_warned_about_briefly(capsys, tmp_path):
    path = write(tmp_path / "junk.jsonl", ["junk"] * 500 + HAND[:2])
    status, out, err = run(capsys, "report", str(path), "--format", "json")
    assert status == 0 and json.loads(out)[0]["attempts"] == 1
    assert len(err.splitlines()) == 22 and "480 more bad lines" in err
    assert err.splitlines()[-1] == "gdtutor: 500 bad lines skipped"


def test_a_missing_or_unreadable_path_is_status_2_with_one_line(capsys, tmp_path):
    write(tmp_path / "ok.jsonl", HAND)
    status, out, err = run(capsys, "report", str(tmp_path / "ok.jsonl"), str(tmp_path / "nope"))
    assert (status, out) == (2, "")
    assert err == f"gdtutor: {tmp_path / 'nope'}: no such file or folder\n"
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "nowhere")   # listed, but cannot be read
    status, out, err = run(capsys, "report", str(tmp_path))
    assert (status, out) == (2, "") and len(err.splitlines()) == 1
    assert err.startswith(f"gdtutor: {tmp_path / 'gone.jsonl'}: cannot read")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_a_file_without_read_permission_is_status_2(capsys, tmp_path):
    path = write(tmp_path / "ada.jsonl", HAND)
    path.chmod(0)
    status, out, err = run(capsys, "report", str(path))
    assert status == 2 and "cannot read" in err and len(err.splitlines()) == 1


def test_an_empty_folder_is_an_empty_report(capsys, tmp_path):
    status, out, err = run(capsys, "report", str(tmp_path), "--format", "json")
    assert (status, json.loads(out)) == (0, []) and "no *.jsonl" in err


def test_bad_format_is_status_2(capsys, tmp_path):
    status, out, err = run(capsys, "report", str(tmp_path), "--format", "xml")
    assert status == 2 and err.startswith("gdtutor: ") and len(err.splitlines()) == 1


# -- a generated class --------------------------------------------------------------------------

FIELDS = {"dynamic-graph": ("value", "grads"), "backprop": ("value", "grads")}


def generate_class(folder: Path, students: int, seed: int) -> dict:
    """Progress files for a class, and what each (user, lesson) row must say, counted while the
    events are made up (not by reading them back)."""
    rng = random.Random(seed)
    expected = {}
    for s in range(students):
        user = f"s{s:03d}"
        minute = rng.randrange(10_000)
        files = {"main": [], "lab": []}
        for lesson in LESSON_IDS:
            if rng.random() < 0.1:
                continue                            # never opened
            fields = FIELDS.get(lesson) or rng.choice([("weights",), ("grad", "step", "weights")])
            steps = rng.randrange(0, 12)
            want = dict(reached=0, attempts=0, first=0, predicted=0, hints=0, revealed=0,
                        finished=False)
            events = []

            def add(text):
                events.append(text)
            for k in range(1, steps + 1):
                if rng.random() < 0.2:               # watched, not predicted
                    minute += 1
                    add(line(user, lesson, "reached", k, minute, zone=rng.choice((0, 8, -5))))
                    want["reached"] = k
                    continue
                all_first, hinted, revealed = True, False, False
                for field in fields:
                    misses = 0 if rng.random() < 0.6 else rng.randrange(1, 5)
                    all_first &= misses == 0
                    for _ in range(misses):
                        minute += 1
                        add(attempt(user, lesson, k, minute, field, "0", False,
                                    hint=misses > 2 and _ > 1))
                        want["attempts"] += 1
                    hint = misses >= 2
                    hinted |= hint
                    minute += 1
                    if misses and rng.random() < 0.3:
                        add(attempt(user, lesson, k, minute, field, None, False, revealed=True,
                                    hint=hint))
                        revealed = True
                    else:
                        add(attempt(user, lesson, k, minute, field, "1", True, hint=hint))
                        want["attempts"] += 1
                want["predicted"] += 1
                want["first"] += all_first
                want["hints"] += hinted
                want["revealed"] += revealed
                minute += 1
                add(line(user, lesson, "reached", k, minute, zone=rng.choice((0, 8, -5))))
                want["reached"] = k
            if steps and rng.random() < 0.4:
                minute += 1
                add(line(user, lesson, "finished", steps, minute))
                want["finished"] = True
            if not events:
                continue
            want["last"] = json.loads(events[-1])["time"]
            expected[(user, lesson)] = want
            cut = rng.randrange(len(events) + 1) if rng.random() < 0.2 else len(events)
            files["main"] += events[:cut]
            files["lab"] += events[cut:]            # a second machine's file
        write(folder / f"{user}.jsonl", files["main"])
        if files["lab"]:
            write(folder / "lab" / f"{user}.jsonl", files["lab"])
    return expected


def test_a_generated_class_of_200_students_matches_the_counts_kept(capsys, tmp_path):
    expected = generate_class(tmp_path / "class", 200, seed=15)
    assert len(expected) > 1000
    status, out, err = run(capsys, "report", str(tmp_path / "class"), "--format", "json")
    assert status == 0 and err == ""
    rows = json.loads(out)
    assert [(r["user"], r["lesson"]) for r in rows] == sorted(expected)
    for r in rows:
        want = expected[(r["user"], r["lesson"])]
        assert (r["reached"], r["attempts"], r["first_try_correct"], r["steps_predicted"],
                r["hints"], r["revealed"], r["finished"], r["last_time"]) == \
            (want["reached"], want["attempts"], want["first"], want["predicted"], want["hints"],
             want["revealed"], want["finished"], want["last"]), (r["user"], r["lesson"])
        if want["predicted"]:
            assert r["first_try_percent"] == round(100 * want["first"] / want["predicted"], 1)


def test_python_dash_m_report(tmp_path):
    write(tmp_path / "ada.jsonl", HAND)
    proc = subprocess.run([sys.executable, "-m", "gdtutor", "report", str(tmp_path), "--format",
                           "csv"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines()[0].startswith("user,lesson,reached,attempts,")
    assert len(proc.stdout.splitlines()) == 3
