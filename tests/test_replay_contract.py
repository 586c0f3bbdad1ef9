"""SPEC section 4, line by line: the jsonl transcript's header, step-0 line, iteration lines and
last line; skipped and failed checkpoints; `check --format json`. Numbers are compared with
the document's figures, closed forms and float32 arithmetic redone here."""
from __future__ import annotations

import hashlib
import json
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from gdtutor import transcript
from gdtutor.cli import main
from gdtutor.catalog import builtin

SOURCES = {lesson.id: Path(lesson.source) for lesson in builtin()}
HEADER_KEYS = ["lesson", "kind", "backend", "dtype", "lr", "grad_scale", "iterations",
               "source_sha256"]
RECORD_KEYS = ["step", "loss", "grad", "step_size", "weights"]
LAST_KEYS = ["checkpoints", "diverged", "final", "failed"]
FAILED_KEYS = ["line", "step", "field", "expected", "got"]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def jsonl(capsys, *argv, status: int = 0) -> list[dict]:
    got, out, err = run(capsys, "replay", *argv, "--format", "jsonl")
    assert (got, err) == (status, "")
    return [json.loads(line) for line in out.splitlines()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# -- the worked example, exact ------------------------------------------------------------


def test_worked_example_every_line_and_key(capsys):
    lines = jsonl(capsys, "worked-example")
    header, zero, records, last = lines[0], lines[1], lines[2:-1], lines[-1]
    assert list(header) == HEADER_KEYS
    assert header == {"lesson": "worked-example", "kind": "descent", "backend": "numpy",
                      "dtype": "exact", "lr": "1/2", "grad_scale": "1/28", "iterations": 20,
                      "source_sha256": sha256(SOURCES["worked-example"])}
    # step 0: w_0 = 0 and SSE(0) = 14·(0 − 2)² = 56
    assert zero == {"step": 0, "weights": ["0"], "loss": "56"}
    assert [r["step"] for r in records] == list(range(1, 21))
    # the document: w = 0, 1, 3/2, 7/4, 15/8, and w_n = 2 − 1/2^(n−1)
    assert [r["weights"] for r in records[:4]] == [["1"], ["3/2"], ["7/4"], ["15/8"]]
    before = F(0)
    for r in records:
        assert list(r) == RECORD_KEYS
        k, w = r["step"], F(r["weights"][0])
        assert w == 2 - F(1, 2 ** (k - 1))
        assert F(r["loss"]) == 14 * (before - 2) ** 2          # SSE at w_(k-1)
        assert F(r["grad"][0]) == before - 2                   # the effective gradient
        assert F(r["step_size"][0]) == F(1, 2) * (before - 2)
        assert all(isinstance(v, str) for v in (r["loss"], *r["grad"], *r["weights"]))
        before = w
    assert list(last) == LAST_KEYS
    w20 = 2 - F(1, 2 ** 19)
    assert last == {"checkpoints": {"passed": 9, "failed": 0, "skipped": 0}, "diverged": None,
                    "final": {"step": 20, "weights": [str(w20)], "loss": str(14 * (w20 - 2) ** 2)},
                    "failed": []}
    assert last["final"]["loss"] == "7/137438953472"


def test_shortened_worked_example_skips_and_exits_0(capsys):
    status, out, err = run(capsys, "replay", "worked-example", "--steps", "3")
    assert (status, err) == (0, "")
    path = SOURCES["worked-example"]
    assert f"  ok    line {line_of(path, 'step: 3,')}: step 3: w 7/4 = 7/4" in out
    assert (f"  skip  line {line_of(path, 'step: 4,')}: step 4 not reached: the run stops "
            "at step 3") in out
    assert "checkpoints: 4 passed, 0 failed, 5 skipped" in out and "FAIL" not in out
    status, out, _ = run(capsys, "replay", "worked-example", "--steps", "3", "--format", "summary")
    assert status == 0 and out.count("  skip  ") == 5
    assert "after 3 iterations: w_3 = 7/4, L(w_3) = 7/8" in out
    lines = jsonl(capsys, "worked-example", "--steps", "3")
    assert lines[-1]["checkpoints"] == {"passed": 4, "failed": 0, "skipped": 5}
    assert lines[-1]["final"] == {"step": 3, "weights": ["7/4"], "loss": "7/8"}


# -- float32 and the document's gradDescent -----------------------------------------------


def test_grad_descent_float32_follows_float32_arithmetic_and_the_document(capsys):
    lines = jsonl(capsys, "grad-descent")
    header, zero, records, last = lines[0], lines[1], lines[2:-1], lines[-1]
    assert header["dtype"] == "float32" and header["lr"] == 0.01 and header["grad_scale"] == 1
    assert header["iterations"] == 10000 and header["source_sha256"] == sha256(SOURCES["grad-descent"])
    assert zero == {"step": 0, "weights": [0, 0], "loss": 5}     # (2² + 4²) / (2·2)
    assert records[0]["grad"] == [-7, -3] and records[0]["weights"] == [0.07, 0.03]
    f32 = np.float32
    alpha = f32(0.01)
    w = np.zeros(2, f32)
    for r in records[:200] + records[-200:]:
        grad, size, new = (np.array(r[key], f32) for key in ("grad", "step_size", "weights"))
        if r["step"] > 200:
            w = np.array(records[r["step"] - 2]["weights"], f32)
        assert np.array_equal(size, alpha * grad)          # step 2 in float32, bit for bit
        assert np.array_equal(new, w - size)                # step 3
        for v in (*r["grad"], *r["weights"], r["loss"]):    # shortest text of a float32
            assert float(str(f32(v))) == v
        w = new
    # the document: (1.0372, 0.9102) after 1000 steps, (1.0000, 1.0000) after 10000,
    # SSE 2.8518e-10
    assert np.allclose(records[999]["weights"], [1.0372, 0.9102], atol=1e-4)
    final = last["final"]
    assert final["step"] == 10000 and final["weights"] == records[-1]["weights"]
    assert np.allclose(final["weights"], [1, 1], atol=1e-4)
    X, y = np.array([[1, 1], [3, 1]], f32), np.array([2, 4], f32)
    r = X @ np.array(final["weights"], f32) - y
    assert abs(float(r @ r) - 2.8518e-10) < 1e-11
    assert f32(final["loss"]) == f32(r @ r) / f32(4)        # L = SSE / 2m
    assert last["checkpoints"] == {"passed": 5, "failed": 0, "skipped": 0}


# -- a graph lesson -----------------------------------------------------------------------


def test_backprop_graph_lines(capsys):
    header, graph, last = jsonl(capsys, "backprop")
    assert list(header) == HEADER_KEYS
    assert header == {"lesson": "backprop", "kind": "graph", "backend": "numpy",
                      "dtype": "float64", "lr": None, "grad_scale": None, "iterations": None,
                      "source_sha256": sha256(SOURCES["backprop"])}
    assert graph["value"] == 1 and graph["grads"] == {"x": 2}       # y = x², x = 1: x.grad = 2
    assert [(n["id"], n["op"], n["value"], n["grad"]) for n in graph["nodes"]] == \
        [("x", "param", 1, 2), ("v1", "const", 2, None), ("v2", "pow", 1, 1)]
    assert last == {"checkpoints": {"passed": 1, "failed": 0, "skipped": 0}, "diverged": None,
                    "final": None, "failed": []}
    header, graph, _ = jsonl(capsys, "backprop", "--dtype", "exact")
    assert header["dtype"] == "exact" and graph["value"] == "1" and graph["grads"] == {"x": "2"}


# -- overrides ----------------------------------------------------------------------------


def test_overrides_are_recorded_in_the_header(capsys):
    lines = jsonl(capsys, "worked-example", "--lr", "1/4", "--steps", "5", status=1)
    assert lines[0]["lr"] == "1/4" and lines[0]["iterations"] == 5
    # w_(k+1) − 2 = (3/4)(w_k − 2): w_k = 2 − 2·(3/4)^k
    assert [F(r["weights"][0]) for r in lines[2:-1]] == [2 - 2 * F(3, 4) ** k for k in range(1, 6)]
    assert lines[-1]["final"]["step"] == 5
    lines = jsonl(capsys, "grad-descent", "--lr", "0.02", "--steps", "2", "--dtype", "float64",
                  status=1)                                       # w_1 is no longer (0.07, 0.03)
    assert (lines[0]["lr"], lines[0]["iterations"], lines[0]["dtype"]) == (0.02, 2, "float64")
    assert lines[2]["weights"] == [0.14, 0.06]                    # 0.02 · (7, 3)


# -- skipped and failed checkpoints -------------------------------------------------------

PARABOLA = """\
id: parabola
title: A parabola
kind: descent
dtype: exact
objective: (w - 3)**2
params: {w: 0}
lr: "1/4"
iterations: 10
checkpoints:
  - {step: 1, weights: ["3/2"]}
  - {step: 2, weights: ["%s"], loss: "9/16"}
  - {step: 8, weights: ["765/256"]}
  - {step: 10, loss: "9/1048576"}
"""
# grad = 2(w − 3), α = 1/4: w_(k+1) − 3 = (w_k − 3)/2, so w_k = 3 − 3/2^k, L = 9/4^k


def parabola(tmp_path: Path, w2: str = "9/4") -> Path:
    path = tmp_path / "parabola.yaml"
    path.write_text(PARABOLA % w2, encoding="utf-8")
    return path


def test_closed_form_lesson_passes_and_shortened_run_skips(capsys, tmp_path):
    path = parabola(tmp_path)
    lines = jsonl(capsys, str(path))
    assert lines[-1]["checkpoints"] == {"passed": 4, "failed": 0, "skipped": 0}
    assert lines[0]["source_sha256"] == sha256(path)
    lines = jsonl(capsys, str(path), "--steps", "4")
    assert lines[-1]["checkpoints"] == {"passed": 2, "failed": 0, "skipped": 2}
    assert lines[-1]["failed"] == [] and lines[-1]["final"]["weights"] == [str(3 - F(3, 16))]
    status, out, _ = run(capsys, "replay", str(path), "--steps", "4")
    assert status == 0
    assert f"  skip  line 12: step 8 not reached: the run stops at step 4" in out
    assert f"  skip  line 13: step 10 not reached: the run stops at step 4" in out
    assert "checkpoints: 2 passed, 0 failed, 2 skipped" in out


def test_a_wrong_checkpoint_names_line_field_expected_and_got(capsys, tmp_path):
    path = parabola(tmp_path, w2="5/2")
    lines = jsonl(capsys, str(path), "--steps", "4", status=1)
    last = lines[-1]
    assert last["checkpoints"] == {"passed": 1, "failed": 1, "skipped": 2}
    assert last["failed"] == [{"line": 11, "step": 2, "field": "weights", "expected": ["5/2"],
                               "got": ["9/4"]}]
    assert all(list(f) == FAILED_KEYS for f in last["failed"])
    status, out, _ = run(capsys, "replay", str(path), "--format", "summary")
    assert status == 1 and "  FAIL  line 11: step 2: w 9/4 ≠ 5/2, loss 9/16 = 9/16" in out
    assert "checkpoints: 3 passed, 1 failed, 0 skipped" in out
    # in float64 the same file fails with numbers, not strings
    lines = jsonl(capsys, str(path), "--dtype", "float64", status=1)
    assert lines[-1]["failed"] == [{"line": 11, "step": 2, "field": "weights", "expected": [2.5],
                                    "got": [2.25]}]


# -- divergence ---------------------------------------------------------------------------


def test_divergence_is_recorded_and_later_checkpoints_fail(capsys, tmp_path):
    lines = jsonl(capsys, "divergence")
    last = lines[-1]
    # w_k − 2 = −2·(−2)^k, so the loss 14·(w_k − 2)² = 14·4^(k+1) passes float64's range
    # at k = 510
    assert last["diverged"] == 510 and last["final"]["step"] == 510
    assert last["final"]["loss"] == "inf" and lines[-2]["step"] == 510
    assert abs(lines[-2]["loss"] / (14 * 2.0 ** 1020) - 1) < 1e-12   # L(w_509) = 14·4^510
    assert last["checkpoints"] == {"passed": 6, "failed": 0, "skipped": 0}
    # a run stopped before step 510 cannot say whether it diverges there: skipped
    last = jsonl(capsys, "divergence", "--steps", "100")[-1]
    assert last["diverged"] is None and last["checkpoints"] == {"passed": 5, "failed": 0,
                                                               "skipped": 1}
    # a run that stops on the first infinite loss has diverged there
    assert jsonl(capsys, "divergence", "--steps", "510")[-1]["diverged"] == 510
    # a checkpoint after the divergence fails
    source = SOURCES["divergence"].read_text(encoding="utf-8")
    marker = "  - {diverged: 510}\n"
    path = tmp_path / "late.yaml"
    path.write_text(source.replace(marker, marker + "  - {step: 520, weights: [0]}\n"))
    last = jsonl(capsys, str(path), status=1)[-1]
    assert last["checkpoints"] == {"passed": 6, "failed": 1, "skipped": 0}
    assert last["failed"] == [{"line": line_of(path, "step: 520"), "step": 520, "field": "step",
                               "expected": 520, "got": 510}]
    # and a divergence that comes at another step fails on its field
    last = jsonl(capsys, "divergence", "--lr", "4", status=1)[-1]
    wrong = [f for f in last["failed"] if f["field"] == "diverged"]
    assert wrong == [{"line": line_of(SOURCES["divergence"], "diverged: 510"), "step": None,
                      "field": "diverged", "expected": 510, "got": last["diverged"]}]
    assert last["diverged"] < 510


# -- check --format json ------------------------------------------------------------------


def test_check_json_one_object_per_file_in_order(capsys, tmp_path):
    good, failing = parabola(tmp_path), tmp_path / "failing.yaml"
    failing.write_text(PARABOLA.replace("parabola", "failing") % "5/2", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text((PARABOLA % "9/4").replace("lr: ", "lr_: "), encoding="utf-8")
    status, out, err = run(capsys, "check", "--format", "json", str(good), str(failing))
    objs = [json.loads(line) for line in out.splitlines()]
    assert (status, err) == (1, "")
    assert objs[0] == {"file": str(good), "id": "parabola", "ok": True,
                       "checkpoints": {"passed": 4, "failed": 0, "skipped": 0}, "failed": [],
                       "error": None}
    assert objs[1]["ok"] is False and objs[1]["checkpoints"]["failed"] == 1
    assert objs[1]["failed"] == [{"line": 11, "step": 2, "field": "weights",
                                  "expected": ["5/2"], "got": ["9/4"]}]
    status, out, err = run(capsys, "check", "--format", "json", str(bad), str(good), "backprop")
    objs = [json.loads(line) for line in out.splitlines()]
    assert status == 2 and [o["file"] for o in objs] == [str(bad), str(good), "backprop"]
    error = objs[0]["error"]
    assert objs[0]["ok"] is False and objs[0]["checkpoints"] is None
    assert (error["file"], error["line"], error["field"]) == (str(bad), 7, "lr_")
    assert err.count("\n") == 1 and err.startswith(f"gdtutor: {bad}:7: lr_: ")
    assert objs[2]["id"] == "backprop" and objs[2]["ok"] is True
    # text mode keeps its lines
    status, out, _ = run(capsys, "check", str(good), "backprop")
    assert (status, out) == (0, "OK parabola\nOK backprop\n")


def test_check_over_many_files_keeps_argument_order_across_workers(capsys, tmp_path,
                                                                    monkeypatch):
    files = []
    for i in range(12):
        path = tmp_path / f"s{i}.yaml"
        text = PARABOLA.replace("id: parabola", f"id: s{i}") % ("9/4" if i % 5 else "1")
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    args = ["check", "--format", "json", *files]
    status, serial, _ = run(capsys, *args)
    monkeypatch.setattr(transcript, "PARALLEL_FROM", 2)
    monkeypatch.setattr(transcript, "_cores", lambda: 2)
    status2, parallel, _ = run(capsys, *args)
    assert (status, status2) == (1, 1) and parallel == serial
    objs = [json.loads(line) for line in parallel.splitlines()]
    assert [o["id"] for o in objs] == [f"s{i}" for i in range(12)]
    assert [o["ok"] for o in objs] == [bool(i % 5) for i in range(12)]
