"""The command line: replay in every format on both backends, check, list, overrides, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from gdtutor.cli import main
from gdtutor.catalog import builtin

LESSONS = [lesson.id for lesson in builtin()]
FLOAT_LESSONS = [lesson.id for lesson in builtin() if lesson.dtype != "exact"]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_builtin_lesson_replays_and_passes_on_numpy(capsys, lesson):
    status, out, err = run(capsys, "replay", lesson, "--format", "jsonl")
    assert (status, err) == (0, "")
    lines = jsonl(out)
    assert lines[0]["lesson"] == lesson and lines[0]["backend"] == "numpy"
    assert lines[-1]["checkpoints"]["failed"] == 0 and lines[-1]["checkpoints"]["passed"] >= 1


@pytest.mark.parametrize("lesson", FLOAT_LESSONS)
def test_every_float_lesson_gives_the_same_numbers_on_torch(capsys, lesson):
    pytest.importorskip("torch")
    _, out_np, _ = run(capsys, "replay", lesson, "--format", "jsonl")
    status, out_t, err = run(capsys, "replay", lesson, "--format", "jsonl", "--backend", "torch")
    assert (status, err) == (0, "")
    a, b = jsonl(out_np), jsonl(out_t)
    assert b[0]["backend"] == "torch" and len(a) == len(b)
    assert {k: v for k, v in a[-1].items() if k != "final"} == \
        {k: v for k, v in b[-1].items() if k != "final"}
    rel = 1e-5 if a[0]["dtype"] == "float32" else 1e-12
    finals = [[x["final"]] if x["final"] else [] for x in (a[-1], b[-1])]
    for x, y in zip(a[1:-1] + finals[0], b[1:-1] + finals[1]):
        for key in ("weights", "grad", "step_size", "loss", "value"):
            if key in x and "inf" not in str(x[key]) and "nan" not in str(x[key]):
                u, v = np.array(x[key], float), np.array(y[key], float)
                assert np.all(np.abs(u - v) <= rel * np.maximum(1, np.abs(u))), (key, x, y)


def test_exact_lessons_refuse_torch(capsys):
    status, out, err = run(capsys, "replay", "worked-example", "--backend", "torch")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gdtutor: ") and "exact" in err


def test_text_transcript_reads_like_the_document(capsys):
    status, out, _ = run(capsys, "replay", "worked-example")
    assert status == 0
    assert "  1. grad = -1/2" in out
    assert "  2. α·grad = 1/2 · (-1/2) = -1/4" in out
    assert "  3. w_3 = w_2 − α·grad = 3/2 − (-1/4) = 7/4" in out
    assert "w_4 = w_3 − α·grad = 7/4 − (-1/8) = 15/8" in out


def test_jsonl_worked_example_is_exact_and_follows_the_closed_form(capsys):
    def w(k: int) -> F:                       # w_k = 2 − 1/2^(k−1), w_0 = 0
        return F(0) if k == 0 else 2 - F(1, 2 ** (k - 1))

    _, out, _ = run(capsys, "replay", "worked-example", "--format", "jsonl")
    steps = jsonl(out)[2:-1]      # after the header and the step-0 line
    assert [line["step"] for line in steps] == list(range(1, 21))
    for line in steps:
        n = line["step"]
        assert F(line["weights"][0]) == w(n)
        assert F(line["grad"][0]) == w(n - 1) - 2          # the effective gradient at w_(n−1)
        assert F(line["step_size"][0]) == F(1, 2) * F(line["grad"][0])
        assert F(line["loss"]) == 14 * (w(n - 1) - 2) ** 2  # L(w_(n−1)) = 14·(w − 2)²
    assert steps[0]["loss"] == "56"


def test_graph_jsonl_has_the_nodes(capsys):
    _, out, _ = run(capsys, "replay", "backprop", "--format", "jsonl")
    graph = jsonl(out)[1]
    assert graph["value"] == 1.0 and graph["grads"] == {"x": 2.0}
    assert [n["op"] for n in graph["nodes"]] == ["param", "const", "pow"]
    assert {"id", "op", "value", "grad"} <= set(graph["nodes"][0])


def test_summary_and_divergence(capsys):
    status, out, _ = run(capsys, "replay", "divergence", "--format", "summary")
    assert status == 0 and "diverged at step 510" in out and "L(w_510) = inf" in out
    _, out, _ = run(capsys, "replay", "divergence", "--format", "jsonl")
    lines = jsonl(out)
    assert lines[-1]["diverged"] == 510 and lines[-2]["step"] == 510   # w_510 made, L(w_510) = inf


def test_overrides_change_the_run_and_fail_checkpoints(capsys):
    status, out, _ = run(capsys, "replay", "worked-example", "--lr", "2", "--format", "jsonl")
    assert status == 1                        # the lesson's checkpoints assume α = 1/2
    ws = [line["weights"][0] for line in jsonl(out)[2:6]]
    assert ws == ["4", "0", "4", "0"]
    status, out, _ = run(capsys, "replay", "worked-example", "--steps", "3", "--dtype", "float64",
                         "--format", "jsonl")
    lines = jsonl(out)
    assert lines[0]["dtype"] == "float64"
    assert [x["weights"][0] for x in lines[1:-1]] == [0.0, 1.0, 1.5, 1.75]
    assert status == 0                        # checkpoints past step 3 are skipped, not failed
    assert lines[-1]["checkpoints"] == {"passed": 4, "failed": 0, "skipped": 5}


def test_list_and_check(capsys, tmp_path):
    status, out, _ = run(capsys, "list")
    assert status == 0 and [line.split()[0] for line in out.splitlines()] == LESSONS
    status, out, _ = run(capsys, "list", "--lang", "zh")
    assert status == 0 and any("\u4e00" <= ch <= "\u9fff" for ch in out)
    files = sorted(Path(builtin()[0].source).parent.glob("*.yaml"))
    files = [str(f) for f in files if f.name != "course.yaml"]
    status, out, err = run(capsys, "check", *files)
    assert status == 0 and err == "" and sorted(out.split()[1::2]) == sorted(LESSONS)
    # a wrong number in a checkpoint is status 1, with the file and line named
    text = Path(builtin()[2].source).read_text(encoding="utf-8").replace("15/8", "16/8")
    bad = tmp_path / "wrong.yaml"
    bad.write_text(text, encoding="utf-8")
    status, out, _ = run(capsys, "check", str(bad))
    assert status == 1 and out.startswith("FAIL worked-example: ") and "wrong.yaml:" in out


@pytest.mark.parametrize("argv, words", [
    (["replay"], "required"),
    (["replay", "backprop", "--format", "xml"], "invalid choice"),
    (["replay", "no-such-lesson"], "unknown lesson"),
    (["replay", "worked-example", "--lr", "abc"], "--lr"),
    (["replay", "worked-example", "--steps", "-4"], "--steps"),
    (["--bogus"], "unrecognized"),
])
def test_bad_flags_are_one_line_and_status_2(capsys, argv, words):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gdtutor: ") and words in err


def test_python_dash_m_is_the_same_command():
    out = subprocess.run([sys.executable, "-m", "gdtutor", "replay", "backprop", "--format",
                          "summary"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "x.grad = 2" in out.stdout
