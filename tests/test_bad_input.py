"""Every kind of bad lesson file fails as one line naming the file, the line and the field."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdtutor import schema
from gdtutor.catalog import load
from gdtutor.errors import GdtutorError

REPO = Path(__file__).resolve().parent.parent
MARKER = Path("/tmp/gdtutor-bad-input-marker")

GRAPH = """\
id: bad
title: A bad lesson
kind: graph
expression: {expression}
inputs:
  x: [1, 2, 3]
  y: 2
"""

LINEAR = """\
id: bad
title: A bad lesson
kind: descent
data:
  X: [1, 2, 3]
  y: [2, 4, 6]
loss: sse
lr: 0.5
iterations: 20
checkpoints:
  - {step: 1, weights: [28]}
"""


def linear(replace: str = "", by: str = "", add: str = "") -> str:
    """The good linear lesson with one line replaced, or lines added at the end."""
    text = LINEAR
    if replace:
        assert replace in text
        text = text.replace(replace, by)
    return text + add


def graph(expression: str) -> str:
    return GRAPH.format(expression=expression)


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "id: bomb\ntitle: Boom\nkind: graph\n" + "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


ANY = "any"  # a line or field that the message names, but that this test does not pin


@dataclass
class Case:
    name: str
    content: str | bytes | None   # None: the file is not there
    line: int | None | str        # the line the message must name (None: no line)
    field: str | None             # the field the message must name (None: no field, or ANY)
    message: str                  # a part of the message


CASES = [
    # -- files that are not lesson text
    Case("missing-file", None, None, None, "no such file"),
    Case("empty-file", "", None, None, "the file is empty"),
    Case("only-comments", "# nothing here\n", None, None, "holds no lesson"),
    Case("binary-nul", b"id: x\n\x00\x01\x02", 2, None,
         "not a text file: it holds a NUL byte (UTF-8 expected)"),
    Case("utf-16-bom", "\ufeffid: x\ntitle: T\n".encode("utf-16"), 1, None,
         "the file is UTF-16; save it as UTF-8"),
    Case("utf-16-no-bom", "id: x\ntitle: T\n".encode("utf-16-be"), 1, None,
         "the file is UTF-16; save it as UTF-8"),
    Case("not-utf8", b"id: x\ntitle: caf\xe9\n", 2, None, "not a text file (UTF-8 expected)"),
    Case("control-character", "id: x\ntitle: a\x07b\n", 2, None,
         "the control character U+0007 is not allowed"),
    Case("huge-file", "id: x\n" + "# padding\n" * 120_000, None, None,
         "larger than 1024 KiB"),
    # -- YAML that builds objects or is not YAML
    Case("python-tag", f'id: !!python/object/apply:os.system ["touch {MARKER}"]\n'
         "title: T\nkind: graph\n", 1, "id",
         "tag '!!python/object/apply:os.system' is not allowed"),
    Case("python-name-tag", "id: x\ntitle: T\nkind: graph\nexpression: x\n"
         "inputs: {x: !!python/name:os.system }\n", 5, "inputs.x",
         "tag '!!python/name:os.system' is not allowed"),
    Case("timestamp", LINEAR.replace("title: A bad lesson", "title: 2024-01-01"), 2, "title",
         "tag '!!timestamp' is not allowed (quote the value"),
    Case("binary-tag", linear(add="text: !!binary aGVsbG8=\n"), 12, "text",
         "tag '!!binary' is not allowed"),
    Case("merge-key", linear(add="base: &b {lr: 1}\nmore:\n  <<: *b\n"), 14, "more",
         "merge keys ('<<') are not supported"),
    Case("syntax-colon", linear("loss: sse", "loss: sse: half"), 7, None,
         "YAML syntax error: mapping values are not allowed here"),
    Case("syntax-indent", linear("  y: [2, 4, 6]", "   y: [2, 4, 6]"), 6, None,
         "YAML syntax error"),
    Case("syntax-unclosed", linear("lr: 0.5", "lr: [0.5"), 9, None, "YAML syntax error"),
    Case("two-documents", LINEAR + "---\nid: other\n", 12, None, "one YAML document"),
    Case("duplicate-key", linear(add="lr: 2\n"), 12, "lr",
         "duplicate key 'lr' (first given on line 8)"),
    Case("top-level-list", "- id: x\n- kind: graph\n", 1, None,
         "expected a mapping of keys, got a list"),
    # -- what cannot finish: alias bombs and nesting
    Case("billion-laughs", billion_laughs(), ANY, ANY, "expands to more than 200000 values"),
    Case("recursive-alias", "id: x\ntitle: T\nkind: graph\nexpression: x\ninputs:\n"
         "  x: &loop [1, *loop]\n", 6, "inputs.x", "nested too deeply"),
    Case("deep-nesting", "id: x\ntitle: T\nkind: graph\nexpression: x\ninputs:\n"
         f"  x: {nested(40)}\n", 6, "inputs.x", "nested too deeply (the limit is 32 levels)"),
    Case("very-deep-nesting", f"id: x\nvalue: {nested(5000)}\n", 2, None,
         "nested too deeply"),
    Case("five-dimensions", "id: x\ntitle: T\nkind: graph\nexpression: sum(x)\ninputs:\n"
         f"  x: {nested(5)}\n", 6, "inputs.x", "more than 4 dimensions"),
    # -- keys
    Case("unknown-key", linear("iterations: 20", "iteration: 20"), 9, "iteration",
         "unknown key 'iteration' (did you mean 'iterations'?)"),
    Case("unknown-checkpoint-key", linear("{step: 1, weights: [28]}", "{step: 1, weight: [1]}"),
         11, "checkpoints[0].weight", "unknown key 'weight' (did you mean 'weights'?)"),
    Case("unknown-data-key", linear("  y: [2, 4, 6]", "  Y: [2, 4, 6]"), 6, "data.Y",
         "unknown key 'Y' (did you mean 'y'?)"),
    Case("missing-id", linear("id: bad\n", ""), 1, None, "missing required key 'id'"),
    Case("missing-lr", linear("lr: 0.5\n", ""), 1, None, "missing required key 'lr'"),
    Case("missing-expression", "id: x\ntitle: T\nkind: graph\ninputs: {x: 1}\n", 1, None,
         "missing required key 'expression'"),
    Case("missing-data-y", linear("  y: [2, 4, 6]\n", ""), 5, "data", "missing required key 'y'"),
    Case("graph-key-in-descent", linear(add="inputs: {x: 1}\n"), 12, "inputs",
         "'inputs' belongs to graph lessons, not to a descent lesson"),
    Case("data-and-objective-with-loss", linear(add="objective: w**2\n"), 7, "loss",
         "'loss' goes with a linear lesson; with 'objective', the loss is the objective"),
    Case("neither-data-nor-objective",
         "id: x\ntitle: T\nkind: descent\nlr: 1\niterations: 3\n", 1, None,
         "a descent lesson needs 'data' (a linear model) or 'objective' (a free expression)"),
    Case("init-with-objective", "id: x\ntitle: T\nkind: descent\nobjective: w**2\n"
         "params: {w: 1}\ninit: [0]\nlr: 1\niterations: 3\n", 6, "init",
         "'init' goes with 'data'"),
    # -- values
    Case("bad-id", linear("id: bad", "id: Bad_Id"), 1, "id", "'Bad_Id' is not a valid id"),
    Case("bad-kind", linear("kind: descent", "kind: decsent"), 3, "kind",
         "expected one of graph, descent, got 'decsent' (did you mean 'descent'?)"),
    Case("bad-backend", linear(add="backend: tensorflow\n"), 12, "backend",
         "expected one of numpy, torch, got 'tensorflow'"),
    Case("torch-with-exact", linear(add="backend: torch\ndtype: exact\n"), 13, "dtype",
         "exact arithmetic runs on the numpy backend only"),
    Case("bad-loss", linear("loss: sse", "loss: mse"), 7, "loss",
         "expected one of sse, half_mse, got 'mse'"),
    Case("bias-not-bool", linear(add="bias: 1\n"), 12, "bias", "expected true or false, got 1"),
    Case("empty-title", linear("title: A bad lesson", "title: ''"), 2, "title",
         "expected some text"),
    Case("title-language", linear("title: A bad lesson", "title: {en: A, fr: B}"), 2,
         "title.fr", "unknown key 'fr'"),
    # -- numbers and shapes
    Case("data-y-length", linear("  y: [2, 4, 6]", "  y: [2, 4, 6, 8]"), 6, "data.y",
         "expected 3 values (one per row of X), got 4"),
    Case("ragged-X", linear("  X: [1, 2, 3]", "  X: [[1, 2], [3], [4, 5]]"), 5, "data.X",
         "ragged list: item 2 has shape 1 where item 1 has 2"),
    Case("X-three-dims", linear("  X: [1, 2, 3]", "  X: [[[1]], [[2]], [[3]]]"), 5, "data.X",
         "expected a list of rows"),
    Case("empty-X", linear("  X: [1, 2, 3]", "  X: []"), 5, "data.X", "got an empty list"),
    Case("init-length", linear(add="init: [0, 0]\n"), 12, "init",
         "expected 1 value (one per column of X), got 2"),
    Case("not-a-number", linear("lr: 0.5", "lr: abc"), 8, "lr", "expected a number, got 'abc'"),
    Case("bool-number", linear("lr: 0.5", "lr: yes"), 8, "lr", "expected a number, got true"),
    Case("null-number", linear("lr: 0.5", "lr:"), 8, "lr", "expected a number, got nothing"),
    Case("infinite-number", linear("lr: 0.5", "lr: .inf"), 8, "lr", "expected a finite number"),
    Case("nan-number", linear("lr: 0.5", "lr: .nan"), 8, "lr", "expected a finite number"),
    Case("division-by-zero", linear("lr: 0.5", "lr: '1/0'"), 8, "lr", "division by zero"),
    Case("list-for-number", linear("lr: 0.5", "lr: [1]"), 8, "lr", "expected a number, got a list"),
    Case("number-in-data", linear("  y: [2, 4, 6]", "  y: [2, four, 6]"), 6, "data.y",
         "expected a number, got 'four'"),
    Case("huge-exponent", linear("lr: 0.5", "lr: '1e999999999'"), 8, "lr", "expected a number"),
    Case("iterations-zero", linear("iterations: 20", "iterations: 0"), 9, "iterations",
         "expected a whole number from 1 to 10000000, got 0"),
    Case("iterations-fraction", linear("iterations: 20", "iterations: 2.5"), 9, "iterations",
         "expected a whole number, got 5/2"),
    Case("iterations-too-many", linear("iterations: 20", "iterations: 100000000"), 9,
         "iterations", "expected a whole number from 1 to 10000000"),
    Case("exact-iterations", linear(add="dtype: exact\n").replace("iterations: 20",
                                                                  "iterations: 30000"),
         9, "iterations", "at most 20000 with exact arithmetic"),
    Case("negative-tol", linear("{step: 1, weights: [28]}", "{step: 1, weights: [28], tol: -1}"),
         11, "checkpoints[0].tol", "expected a number of at least 0, got -1"),
    Case("checkpoint-step-too-late", linear("{step: 1,", "{step: 21,"), 11,
         "checkpoints[0].step", "expected a whole number from 0 to 20, got 21"),
    Case("checkpoint-weights-length",
         linear("{step: 1, weights: [28]}", "{step: 1, weights: [28, 2]}"), 11,
         "checkpoints[0].weights", "expected 1 value (one per weight), got 2"),
    Case("checkpoint-checks-nothing", linear("{step: 1, weights: [28]}", "{step: 1}"), 11,
         "checkpoints[0]", "a checkpoint needs something to check"),
    Case("checkpoint-graph-key", linear("{step: 1, weights: [28]}", "{step: 1, value: 1}"), 11,
         "checkpoints[0].value", "'value' is not checked in a descent lesson"),
    Case("diverged-not-alone", linear("{step: 1, weights: [28]}", "{diverged: 3, weights: [1]}"),
         11, "checkpoints[0]", "'diverged' stands alone"),
    Case("sse-without-data", "id: x\ntitle: T\nkind: descent\nobjective: w**2\nparams: {w: 1}\n"
         "lr: 1\niterations: 3\ncheckpoints:\n  - step: 1\n    sse: 0\n", 10,
         "checkpoints[0].sse", "'sse' applies only to a linear lesson"),
    Case("checkpoints-not-a-list", linear("  - {step: 1, weights: [28]}\n", "  step: 1\n"), 11,
         "checkpoints", "expected a list"),
    Case("too-many-numbers", "id: x\ntitle: T\nkind: graph\nexpression: sum(x)\ninputs:\n"
         "  x: [" + ", ".join(["1"] * 20) + "]\n", 6, "inputs.x", "more than 10 numbers"),
    # -- names
    Case("input-is-a-function", "id: x\ntitle: T\nkind: graph\nexpression: sum(1)\n"
         "inputs: {sum: 1}\n", 5, "inputs.sum", "'sum' is the name of a function"),
    Case("input-is-a-keyword", "id: x\ntitle: T\nkind: graph\nexpression: x\n"
         "inputs: {lambda: 1}\n", 5, "inputs.lambda", "'lambda' is not a valid name"),
    Case("input-bad-name", "id: x\ntitle: T\nkind: graph\nexpression: x\n"
         "inputs: {'2x': 1}\n", 5, "inputs.2x", "'2x' is not a valid name"),
    Case("grads-unknown-input", graph("x * y") + "checkpoints:\n  - grads: {z: 1}\n", 9,
         "checkpoints[0].grads.z", "'z' is not an input; the inputs are x, y"),
    # -- expressions: unsafe, unknown, or uncomputable
    Case("expr-import", graph("\"__import__('os')\""), 4, "expression",
         "unknown function '__import__'"),
    Case("expr-attribute", graph("x.__class__"), 4, "expression", "attribute access not allowed"),
    Case("expr-comprehension", graph("'[i for i in x]'"), 4, "expression",
         "comprehensions not allowed"),
    Case("expr-lambda", graph("'lambda: 1'"), 4, "expression", "lambdas not allowed"),
    Case("expr-string", graph("\"'abc'\""), 4, "expression", "only numbers are allowed"),
    Case("expr-subscript", graph("x[0]"), 4, "expression", "subscripts not allowed"),
    Case("expr-open", graph("open('f')"), 4, "expression", "unknown function 'open'"),
    Case("expr-undefined-name", graph("x * z"), 4, "expression", "unknown name 'z'"),
    Case("expr-syntax", graph("x +* 2"), 4, "expression", "syntax error"),
    Case("expr-empty", graph("''"), 4, "expression", "expected an expression"),
    Case("expr-infinite-number", graph("1e999 * x"), 4, "expression", "number is too large"),
    Case("objective-unknown-name", "id: x\ntitle: T\nkind: descent\nobjective: (w - c)**2\n"
         "params: {w: 1}\nlr: 1\niterations: 3\n", 4, "objective", "unknown name 'c'"),
    Case("expr-shape-mismatch", graph("sum(x @ y)").replace("y: 2", "y: [1, 2]"), 4,
         "expression", "shape"),
    Case("expr-not-one-number", graph("x * y"), 4, "expression", "must give one number"),
    Case("exact-exp", "id: x\ntitle: T\nkind: descent\ndtype: exact\nobjective: exp(w)\n"
         "params: {w: 1}\nlr: 1\niterations: 3\n", 5, "objective", "no exact value"),
    Case("exact-huge-power", "id: x\ntitle: T\nkind: descent\ndtype: exact\n"
         "objective: w**100000000\nparams: {w: 3}\nlr: 1\niterations: 3\n", 5, "objective",
         "too large"),
]


def write_case(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / f"{case.name}.yaml"
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    elif case.content is not None:
        path.write_text(case.content, encoding="utf-8")
    return path


def assert_one_line(text: str, path: Path, case: Case) -> None:
    """`gdtutor: FILE[:LINE]: [FIELD: ]MESSAGE`, on one line."""
    text = text.rstrip("\n")
    assert "\n" not in text and "Traceback" not in text
    if case.line is ANY:
        assert text.startswith(f"gdtutor: {path}:")
        line = text[len(f"gdtutor: {path}:"):].split(":")[0]
        assert line.isdigit(), text
        where = f"gdtutor: {path}:{line}: "
    else:
        where = f"gdtutor: {path}" + (f":{case.line}" if case.line is not None else "") + ": "
    assert text.startswith(where), text
    if case.field is None:
        assert text == where + text[len(where):]
    elif case.field is not ANY:
        assert text.startswith(f"{where}{case.field}: "), text
    assert case.message in text, text

@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_load_refuses_bad_input_in_one_line(tmp_path, monkeypatch, case):
    monkeypatch.setattr(schema, "MAX_NUMBERS", 10 if case.name == "too-many-numbers"
                        else schema.MAX_NUMBERS)
    MARKER.unlink(missing_ok=True)
    path = write_case(tmp_path, case)
    with pytest.raises(GdtutorError) as err:
        load(path)
    assert type(err.value).status == 2
    assert_one_line(str(err.value), path, case)
    assert err.value.file == str(path)
    if case.line is not ANY:
        assert err.value.line == case.line
    if case.field is not ANY:
        assert err.value.field == case.field
    assert not MARKER.exists(), "a YAML tag ran a command"


def test_the_file_is_named_as_given(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.yaml").write_text(linear("  y: [2, 4, 6]", "  y: [2, 4, 6, 8]"),
                                             encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GdtutorError) as err:
        load("sub/x.yaml")
    assert str(err.value) == ("gdtutor: sub/x.yaml:6: data.y: expected 3 values "
                              "(one per row of X), got 4")


def test_an_alias_bomb_fails_fast(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(GdtutorError, match="expands to more than"):
        load(path)
    assert time.perf_counter() - start < 5


def test_a_directory_is_not_a_lesson(tmp_path):
    with pytest.raises(GdtutorError, match="is a directory"):
        load(tmp_path)


def test_the_good_templates_are_good(tmp_path):
    """The bad cases above are each one change away from these, so each tests one thing."""
    for name, text in (("linear", LINEAR), ("graph", graph("sum(x * y)"))):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        assert load(path).id == "bad"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "gdtutor", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("case", [c for c in CASES if c.name != "too-many-numbers"],
                         ids=lambda case: case.name)
def test_check_exits_2_with_one_line(tmp_path, case):
    MARKER.unlink(missing_ok=True)
    path = write_case(tmp_path, case)
    result = run_cli("check", str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert_one_line(result.stderr, path, case)
    assert not MARKER.exists(), "a YAML tag ran a command"


def test_check_reports_each_file_and_exits_2_if_any_is_bad(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(LINEAR, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(linear("lr: 0.5", "lr: abc"), encoding="utf-8")
    result = run_cli("check", str(good), str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "OK bad" in result.stdout
    assert result.stderr.splitlines() == [f"gdtutor: {bad}:8: lr: expected a number, got 'abc'"]


# -- whatever the file holds, the loader answers with a Lesson or a GdtutorError, nothing else

KEYS = sorted(schema.ALL_KEYS + schema.DESCENT_CHECKPOINT_KEYS + schema.GRAPH_CHECKPOINT_KEYS
              + ("X", "y", "x", "w", "en", "zh"))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["graph", "descent", "numpy", "torch", "exact", "float32", "sse", "half_mse",
                     "x**2", "sum((w - 1)**2)", "x @ x", "1/28", "1/0", "abc", "exp(w)", ""]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
    max_leaves=20,
)
LESSONS = st.fixed_dictionaries(
    {"id": st.sampled_from(["ok", "Not OK", 3]), "title": st.just("T"),
     "kind": st.sampled_from(["graph", "descent"])},
    optional={key: VALUES for key in schema.ALL_KEYS if key not in ("id", "title", "kind")},
)


def _load_text(folder: Path, text: str | bytes):
    path = folder / "fuzz.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        return load(path)
    except GdtutorError as exc:
        message = str(exc)
        assert message.startswith(f"gdtutor: {path}") and "\n" not in message
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_any_bytes_give_a_lesson_or_one_line(tmp_path_factory, text):
    if isinstance(text, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        text = text.encode("utf-8", "surrogatepass")
    _load_text(tmp_path_factory.getbasetemp(), text)


@pytest.mark.slow          # 300 generated lessons
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=LESSONS)
def test_any_mapping_of_lesson_keys_gives_a_lesson_or_one_line(tmp_path_factory, document):
    text = yaml.safe_dump(document, allow_unicode=True)
    _load_text(tmp_path_factory.getbasetemp(), text)
