"""The Python API (SPEC section 11): what `import gdtutor` imports, load and replay, their
errors, and the API's numbers against the jsonl transcript's. The example in docs/api.md runs
here too."""
from __future__ import annotations

import dataclasses
import inspect
import json
import re
import typing
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

import gdtutor
from gdtutor import api
from gdtutor.cli import main
from fresh import fresh_json

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def transcript(capsys, *argv) -> list[dict]:
    main(["replay", *argv, "--format", "jsonl"])
    out, err = capsys.readouterr()
    assert err == ""
    return [json.loads(line) for line in out.splitlines()]


def same(written, value) -> bool:
    """A value of the jsonl transcript equals the API's value, read back on its own terms."""
    if isinstance(value, tuple):                               # exact vector
        return [F(v) for v in written] == list(value) and all(type(v) is F for v in value)
    if isinstance(value, F):
        return F(written) == value
    if isinstance(value, np.ndarray):
        return len(written) == value.size and all(same(w, v) for w, v in zip(written, value))
    assert isinstance(value, (np.float32, np.float64)), type(value)
    if isinstance(written, str):
        return np.isnan(value) if written == "nan" else value == float(written)
    return value.dtype.type(written) == value                  # float32: its shortest text


# -- import ---------------------------------------------------------------------------------


def test_import_gdtutor_is_cheap_and_replay_brings_no_interface():
    found = fresh_json(
        "import json, sys, gdtutor\n"
        "mods = ('numpy', 'yaml', 'textual', 'rich', 'torch')\n"
        "before = [m for m in mods if m in sys.modules]\n"
        "run = gdtutor.replay('grad-descent', steps=3)\n"
        "after = [m for m in mods if m in sys.modules]\n"
        "print(json.dumps([before, after, run.final.step]))\n")
    before, after, step = found
    assert before == [] and step == 3
    assert "numpy" in after and set(after) <= {"numpy", "yaml"}     # no textual, rich, torch


def test_the_api_names_and_their_types():
    for name in ("load", "replay", "Run", "Record", "State", "Failure", "Checkpoints",
                 "GdtutorError", "Lesson", "GraphNode"):
        assert getattr(gdtutor, name) is getattr(api, name)
    with pytest.raises(AttributeError):
        gdtutor.no_such_name  # noqa: B018
    assert dataclasses.is_dataclass(gdtutor.Run)
    hints = typing.get_type_hints(api.replay)
    assert hints["return"] is api.Run and set(hints) >= {"lesson", "backend", "dtype", "lr", "steps"}
    assert list(inspect.signature(api.replay).parameters) == ["lesson", "backend", "dtype",
                                                              "lr", "steps"]
    assert gdtutor.Record._fields == ("step", "loss", "grad", "step_size", "weights")
    assert typing.get_type_hints(gdtutor.Record)["step"] is int


# -- the API's numbers are the jsonl's ------------------------------------------------------


@pytest.mark.parametrize("argv, kwargs", [
    (["worked-example"], {}),
    (["worked-example", "--lr", "3/4", "--steps", "6"], {"lr": "3/4", "steps": 6}),
    (["grad-descent", "--steps", "300"], {"steps": 300}),
    (["matrix-form", "--steps", "50"], {"steps": 50}),
    (["divergence"], {}),
])
def test_descent_numbers_equal_the_jsonl(capsys, argv, kwargs):
    run = gdtutor.replay(argv[0], **kwargs)
    lines = transcript(capsys, *argv)
    header, zero, records, last = lines[0], lines[1], lines[2:-1], lines[-1]
    assert run.header == header
    assert zero["step"] == run.initial.step == 0
    assert same(zero["weights"], run.initial.weights) and same(zero["loss"], run.initial.loss)
    assert len(run.records) == len(records)
    for r, line in zip(run.records, records):
        assert r.step == line["step"]
        for key in ("loss", "grad", "step_size", "weights"):
            assert same(line[key], getattr(r, key)), (key, line, r)
    assert run.diverged == last["diverged"]
    assert last["final"]["step"] == run.final.step
    assert same(last["final"]["weights"], run.final.weights)
    assert same(last["final"]["loss"], run.final.loss)
    c = run.checkpoints
    assert last["checkpoints"] == {"passed": c.passed, "failed": c.failed, "skipped": c.skipped}
    assert len(last["failed"]) == len(c.failures)


def test_exact_records_are_fractions_and_floats_are_numpy():
    run = gdtutor.replay("worked-example")
    r = run.records[2]                                 # iteration 3: from w_2 = 3/2 to 7/4
    assert r == (3, F(7, 2), (F(-1, 2),), (F(-1, 4),), (F(7, 4),))
    assert run.records[-1].step == 20 and [x.step for x in run.records[1:3]] == [2, 3]
    assert run.final == (20, (2 - F(1, 2 ** 19),), F(7, 137438953472))
    run = gdtutor.replay("grad-descent", steps=1)
    r = run.records[0]
    assert isinstance(r.loss, np.float32) and r.weights.dtype == np.float32
    assert np.array_equal(r.weights, np.float32([0.07, 0.03]))
    assert np.array_equal(r.step_size, np.float32(0.01) * np.float32([-7, -3]))


def test_graph_lesson(capsys):
    run = gdtutor.replay("backprop")
    assert run.value == 1 and run.grads == {"x": 2} and run.records == ()
    assert run.final is None and run.diverged is None
    assert [(n.id, n.op) for n in run.nodes] == [("x", "param"), ("v1", "const"), ("v2", "pow")]
    header, graph, last = transcript(capsys, "backprop")
    assert run.header == header and same(graph["value"], run.value)
    for node, written in zip(run.nodes, graph["nodes"]):
        assert same(written["value"], node.value)
    exact = gdtutor.replay("backprop", dtype="exact")
    assert exact.value == F(1) and exact.grads == {"x": F(2)} and type(exact.grads["x"]) is F


def test_failures_skips_and_divergence(tmp_path):
    run = gdtutor.replay("worked-example", lr=2, steps=3)
    assert (run.checkpoints.passed, run.checkpoints.failed, run.checkpoints.skipped) == (1, 3, 5)
    first = run.checkpoints.failures[0]
    # α = 2: w_1 = 0 − 2·(0 − 2) = 4
    line = next(c.line for c in gdtutor.load("worked-example").checkpoints if c.step == 1)
    assert first == (line, 1, "weights", (F(1),), (F(4),))
    assert [f.field for f in run.checkpoints.failures[:3]] == ["weights", "loss", "grad"]
    assert [r.status for r in run.checkpoints.results] == ["passed"] + ["failed"] * 3 + ["skipped"] * 5
    run = gdtutor.replay("divergence")
    assert run.diverged == 510 and run.final.step == 510 and np.isinf(run.final.loss)
    run = gdtutor.replay("divergence", steps=100)
    assert run.diverged is None and run.checkpoints.skipped == 1


# -- lessons as ids, paths, Lessons; errors -------------------------------------------------


def test_lesson_given_as_id_path_or_lesson(tmp_path):
    lesson = gdtutor.load("worked-example")
    assert isinstance(lesson, gdtutor.Lesson) and lesson.id == "worked-example"
    copy = tmp_path / "copy.yml"
    copy.write_bytes(Path(lesson.source).read_bytes())
    runs = [gdtutor.replay(x, steps=5) for x in (lesson, copy, str(copy), "worked-example")]
    assert {r.records[-1].weights for r in runs} == {(F(31, 16),)}
    assert {r.header["source_sha256"] for r in runs} == {runs[0].header["source_sha256"]}


@pytest.mark.parametrize("call, field", [
    (lambda: gdtutor.replay("worked-example", lr="abc"), "lr"),
    (lambda: gdtutor.replay("worked-example", steps=0), "steps"),
    (lambda: gdtutor.replay("worked-example", dtype="float16"), "dtype"),
    (lambda: gdtutor.replay("worked-example", backend="torch"), "backend"),
    (lambda: gdtutor.replay("backprop", steps=3), "steps"),
    (lambda: gdtutor.load("no-such-lesson"), None),
    (lambda: gdtutor.load(3), None),
])
def test_errors_are_gdtutor_errors_naming_the_keyword(call, field):
    with pytest.raises(gdtutor.GdtutorError) as caught:
        call()
    assert caught.value.field == field
    assert str(caught.value).startswith("gdtutor: ") and "\n" not in str(caught.value)


def test_a_file_that_does_not_load_says_file_line_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ntitle: Bad\nkind: descent\nobjective: (w - 1)**2\n"
                    "params: {w: 0}\nlr: 0.1\niterations: -3\n", encoding="utf-8")
    with pytest.raises(gdtutor.GdtutorError) as caught:
        gdtutor.replay(path)
    assert (caught.value.file, caught.value.line, caught.value.field) == \
        (str(path), 7, "iterations")


# -- the example in docs/api.md -------------------------------------------------------------

EXAMPLE = re.search(r"<!-- tests/test_api.py runs this example -->\n```python\n(.*?)```",
                    DOC.read_text(encoding="utf-8"), re.S).group(1)
EXAMPLE_TESTS = re.findall(r"^def (test_\w+)\(", EXAMPLE, re.M)


def test_the_doc_has_an_example():
    assert len(EXAMPLE_TESTS) >= 4


@pytest.mark.parametrize("name", EXAMPLE_TESTS)
def test_the_doc_example_runs(name, tmp_path):
    namespace: dict = {"__name__": "doc_example"}
    exec(compile(EXAMPLE, str(DOC), "exec"), namespace)
    test = namespace[name]
    given = {"tmp_path": tmp_path}
    test(**{p: given[p] for p in inspect.signature(test).parameters})
