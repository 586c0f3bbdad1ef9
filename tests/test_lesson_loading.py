"""The built-in lessons load, and their pinned numbers agree with the document and with numpy."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from gdtutor import catalog, yaml_reader
from gdtutor.errors import GdtutorError
from gdtutor.expr import parse
from gdtutor.schema import parse_number

BUILTIN = catalog.builtin()
BY_ID = {item.id: item for item in BUILTIN}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _line_of(path: Path, pattern: str) -> int:
    """1-based line of the first line matching pattern, found by reading the file as text."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.match(pattern, line):
            return number
    raise AssertionError(f"{pattern!r} not in {path}")


def test_manifest_lists_every_lesson_file_once_in_order():
    folder = catalog.lessons_dir()
    listed = yaml.safe_load((folder / "course.yaml").read_text(encoding="utf-8"))["lessons"]
    on_disk = sorted(p.name for p in folder.glob("*.y*ml") if p.name != "course.yaml")
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    assert [item.source.name for item in BUILTIN] == listed
    assert [item.order for item in BUILTIN] == list(range(1, len(listed) + 1))


def test_the_document_lessons_are_all_there():
    assert list(BY_ID) == ["dynamic-graph", "backprop", "worked-example", "matrix-form",
                           "grad-descent", "step-too-large", "divergence",
                           "half-mse-diverges", "chain-rule"]


def test_ids_are_unique_and_match_file_names():
    assert len(BY_ID) == len(BUILTIN)
    for item in BUILTIN:
        assert item.id == item.source.stem
        assert re.fullmatch(r"[a-z0-9-]+", item.id)


@pytest.mark.parametrize("item", BUILTIN, ids=lambda item: item.id)
def test_title_summary_and_text_in_english_and_chinese(item):
    for text in (item.title, item.summary, item.text):
        assert text.en and text.zh
        assert CJK.search(text.zh), "the Chinese text should be Chinese"
        assert not CJK.search(text.en), "the English text should not be Chinese"
    assert "\n" not in item.title.en + item.title.zh + item.summary.en + item.summary.zh
    assert len(item.text.en) > 400 and len(item.text.zh) > 200


@pytest.mark.parametrize("item", BUILTIN, ids=lambda item: item.id)
def test_loading_a_builtin_file_directly_gives_the_same_lesson(item):
    again = catalog.load(item.source)
    assert again.expression == item.expression
    assert again.params == item.params
    assert again.checkpoints == item.checkpoints
    assert again.order == 0  # only builtin() numbers the lessons


@pytest.mark.parametrize("item", BUILTIN, ids=lambda item: item.id)
def test_lines_point_at_the_fields_in_the_file(item):
    for field in ("id", "title", "kind"):
        assert item.line_of(field) == _line_of(item.source, rf"{field}:")
    main = "expression" if item.kind == "graph" else "data"
    assert item.line_of(main) == _line_of(item.source, rf"{main}:")
    lines = [c.line for c in item.checkpoints]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    text = item.source.read_text(encoding="utf-8").splitlines()
    for index, checkpoint in enumerate(item.checkpoints):
        assert text[checkpoint.line - 1].lstrip().startswith("- ")
        assert item.line_of(f"checkpoints[{index}]") == checkpoint.line


# -- libyaml (built-in files) and the guarded loader (a student's) read the same --------------

def _exact(node) -> tuple:
    """A tree as nested tuples that tell 1 from 1.0 and from True, and -0.0 from 0.0, as == on
    YamlNodes does not; key order counts."""
    value = node.value
    if isinstance(value, list):
        value = ("list", [_exact(item) for item in value])
    elif isinstance(value, dict):
        assert list(node.key_lines) == list(value)
        value = ("map", [(key, node.key_lines[key], _exact(item)) for key, item in value.items()])
    else:
        value = (type(value).__name__, repr(value))
    return node.line, value


def _both(path: Path) -> tuple:
    """The file's tree as a built-in file and as a student's file is read."""
    return (_exact(yaml_reader.read(path, str(path), builtin=True)),
            _exact(yaml_reader.read(path, str(path), builtin=False)))


def test_every_builtin_file_reads_the_same_through_either_loader():
    folder = catalog.lessons_dir()
    for path in [folder / "course.yaml"] + [item.source for item in BUILTIN]:
        fast, guarded = _both(path)
        assert fast == guarded, path.name


def test_a_builtin_lesson_is_the_lesson_the_guarded_loader_reads():
    for item in BUILTIN:
        again = catalog.load(item.source)            # the guarded pure-Python loader
        assert again == item._replace(order=0) and again.lines == item.lines


# every kind of scalar YAML 1.1 gives a lesson
TRICKY = """\
ints: [0, -3, +12, 1_000, 0x1F, 0b101, 017, 1:30, 123456789012345678901234567890]
floats: [1.0, 2., -0.0, 0.5, 1.5e+3, 6.02e+23, .inf, -.inf, .nan, 0.1]
not numbers: [1e3, 1.5e3, "1", '2.5', 1/28, 0o17, 0x]
bools: [yes, No, true, FALSE, on, off]
nothing: [~, null, Null]
no: key written as a bool
1: key written as an int
null: key written as null
zh: 梯度下降 ∂L/∂w
emoji: "🙂 \\u00e9 \\t tab"
text: |
  two lines,

  and a blank one
folded: >
  one
  line
nested: {a: [1, [2, [3, {b: c}]]], z: last, y: order}
anchored: &x [1, 2.5]
alias: *x
huge: 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
"""


def test_every_kind_of_scalar_reads_as_written_through_either_loader(tmp_path):
    path = tmp_path / "tricky.yaml"
    path.write_text(TRICKY, encoding="utf-8")
    fast, guarded = _both(path)
    assert fast == guarded
    tree = yaml_reader.read(path, str(path))
    values = tree.value
    assert list(values) == ["ints", "floats", "not numbers", "bools", "nothing", "no", "1",
                            "null", "zh", "emoji", "text", "folded", "nested", "anchored",
                            "alias", "huge"]
    ints = [node.value for node in values["ints"].value]
    assert ints == [0, -3, 12, 1000, 31, 5, 15, 90, 123456789012345678901234567890]
    assert all(type(i) is int for i in ints)
    floats = [node.value for node in values["floats"].value]
    assert [repr(f) for f in floats] == ["1.0", "2.0", "-0.0", "0.5", "1500.0", "6.02e+23",
                                         "inf", "-inf", "nan", "0.1"]
    assert all(type(f) is float for f in floats)
    assert [node.value for node in values["not numbers"].value] == [
        "1e3", "1.5e3", "1", "2.5", "1/28", "0o17", "0x"]
    assert [node.value for node in values["bools"].value] == [True, False, True, False,
                                                             True, False]
    assert [node.value for node in values["nothing"].value] == [None, None, None]
    assert values["zh"].value == "梯度下降 ∂L/∂w" and values["emoji"].value == "🙂 é \t tab"
    assert values["text"].value == "two lines,\n\nand a blank one\n"
    assert values["folded"].value == "one line\n"
    assert list(values["nested"].value) == ["a", "z", "y"]
    assert tree.key_lines["alias"] == 20 and values["alias"].line == 19   # where &x is
    assert _exact(values["alias"])[1] == _exact(values["anchored"])[1]
    assert values["huge"].value == 16 ** 40 - 1


@pytest.mark.parametrize("edit, expected", [
    (lambda text: text + "oops: [1, 2\n", "YAML syntax error"),
    (lambda text: text.replace("lr: 0.01", "lrr: 0.01"), "lrr: unknown key 'lrr' "
     "(did you mean 'lr'?)"),
])
def test_a_broken_builtin_file_fails_as_the_same_file_read_as_a_students(
        tmp_path, monkeypatch, edit, expected):
    folder = tmp_path / "lessons"
    shutil.copytree(catalog.lessons_dir(), folder)
    path = folder / "grad-descent.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    monkeypatch.setattr(catalog, "lessons_dir", lambda: folder)
    with pytest.raises(GdtutorError) as built_in:
        catalog.resolve("grad-descent")
    with pytest.raises(GdtutorError) as students:
        catalog.load(path)
    # the same file, line and field (libyaml words a syntax error its own way)
    shown, theirs = str(built_in.value), str(students.value)
    assert expected in shown and expected in theirs
    assert shown.split(expected)[0] == theirs.split(expected)[0]
    assert shown.startswith(f"gdtutor: {path}:{built_in.value.line}: ")


def test_graph_lessons_pin_x_squared_and_its_derivative():
    for lesson_id, x in (("dynamic-graph", 3), ("backprop", 1)):
        item = BY_ID[lesson_id]
        assert item.kind == "graph"
        assert item.expression == parse("x**2", ["x"])
        assert item.params == (("x", Fraction(x)),)
        (checkpoint,) = item.checkpoints
        assert checkpoint.value == x ** 2
        assert checkpoint.grads == (("x", Fraction(2 * x)),)
    assert BY_ID["backprop"].checkpoints[0].grads == (("x", 2),)  # the document's tensor(2.)


def test_worked_example_objective_is_the_sse_sugar():
    item = BY_ID["worked-example"]
    assert item.expression == parse("sum((X @ w - y)**2)", ["X", "y", "w", "m"])
    constants = dict(item.constants)
    assert constants["X"] == ((1,), (2,), (3,))
    assert constants["y"] == (2, 4, 6)
    assert constants["m"] == 3
    assert item.params == (("w", (Fraction(0),)),)
    assert item.linear.loss == "sse" and item.linear.bias is False
    # the document's algebra: SSE = Σ(x·w − y)² = 14(w − 2)²
    for w in (Fraction(0), Fraction(1), Fraction(7, 4), Fraction(-3, 5)):
        sse = sum((row[0] * w - target) ** 2 for row, target in zip(constants["X"], constants["y"]))
        assert sse == 14 * (w - 2) ** 2


def test_worked_example_numbers_are_exact_fractions_as_written():
    item = BY_ID["worked-example"]
    assert item.dtype == "exact"
    assert item.lr == Fraction(1, 2)
    assert item.grad_scale == Fraction(1, 28)
    for value in (item.lr, item.grad_scale, *item.checkpoints[2].weights):
        assert type(value) is Fraction


def test_worked_example_checkpoints_follow_the_closed_form():
    item = BY_ID["worked-example"]
    steps = {c.step: c for c in item.checkpoints}
    assert set(range(0, 8)) <= set(steps)
    assert [steps[k].weights[0] for k in range(1, 8)] == [
        1, Fraction(3, 2), Fraction(7, 4), Fraction(15, 8), Fraction(31, 16), Fraction(63, 32),
        Fraction(127, 64)]
    for k, checkpoint in steps.items():
        w = checkpoint.weights[0]
        if k >= 1:
            assert w == 2 - Fraction(1, 2 ** (k - 1))  # w_n = 2 − 1/2^(n−1)
        if checkpoint.loss is not None:
            assert checkpoint.loss == 14 * (w - 2) ** 2
        if checkpoint.grad is not None:
            assert checkpoint.grad == (w - 2,)  # the effective gradient, 28(w − 2)/28
    # the document's own numbers for the first four iterations
    assert [steps[k].grad[0] for k in range(4)] == [-2, -1, Fraction(-1, 2), Fraction(-1, 4)]
    assert steps[0].loss == 56


def test_step_too_large_bounces_between_0_and_4():
    item = BY_ID["step-too-large"]
    assert item.lr == 2 and item.grad_scale == Fraction(1, 28)
    w = Fraction(0)
    for checkpoint in item.checkpoints:
        expected = w if checkpoint.step % 2 == 0 else 4 - w  # w_(k+1) = w_k − 2(w_k − 2)
        assert checkpoint.weights == (expected,)
        if checkpoint.loss is not None:
            assert checkpoint.loss == 56
    assert [c.step for c in item.checkpoints][:5] == [0, 1, 2, 3, 4]


def test_matrix_form_last_checkpoint_is_the_least_squares_solution():
    item = BY_ID["matrix-form"]
    assert item.linear.bias and item.linear.loss == "half_mse"
    assert item.expression == parse("sum((X @ w - y)**2) / (2 * m)", ["X", "y", "w", "m"])
    X = np.array(item.linear.X, dtype=float)
    y = np.array(item.linear.y, dtype=float)
    assert np.all(X[:, -1] == 1)
    assert dict(item.constants)["m"] == len(y)
    solution, *_ = np.linalg.lstsq(X, y, rcond=None)
    last = max(item.checkpoints, key=lambda c: c.step or 0)
    assert last.step == item.iterations
    assert np.allclose(np.array(last.weights, dtype=float), solution, rtol=0, atol=1e-12)
    residual = X @ solution - y
    assert float(last.sse) == pytest.approx(residual @ residual, abs=1e-12)
    assert float(last.loss) == pytest.approx(residual @ residual / (2 * len(y)), abs=1e-12)


def test_matrix_form_descent_reaches_the_checkpoint_within_its_tolerance():
    # the lesson's own update, written out with numpy: ŵ ← ŵ − (α/m)·Xᵀ(Xŵ − y)
    item = BY_ID["matrix-form"]
    X = np.array(item.linear.X, dtype=float)
    y = np.array(item.linear.y, dtype=float)
    w = np.array(item.params[0][1], dtype=float)
    for _ in range(item.iterations):
        w = w - float(item.lr) * X.T @ (X @ w - y) / len(y)
    last = item.checkpoints[-1]
    assert np.max(np.abs(w - np.array(last.weights, dtype=float))) < float(last.tol)
    first = item.checkpoints[0]
    assert first.loss == sum(v * v for v in item.linear.y) / (2 * len(item.linear.y))


def _grad_descent_float32(X, y, steps):
    """The document's gradDescent, in float32 numpy: grad = Xᵀ(Xw − y)/2; w -= 0.01·grad."""
    X = np.array(X, dtype=np.float32)
    y = np.array(y, dtype=np.float32)
    w = np.zeros(X.shape[1], dtype=np.float32)
    for _ in range(steps):
        w = w - np.float32(0.01) * (X.T @ (X @ w - y) / np.float32(2))
    residual = X @ w - y
    return w, float(residual @ residual)


def test_grad_descent_matches_the_document_in_float32():
    item = BY_ID["grad-descent"]
    assert (item.backend, item.dtype) == ("numpy", "float32")
    assert item.lr == Fraction(1, 100) and item.iterations == 10000
    assert item.linear.X == ((1, 1), (3, 1)) and item.linear.y == (2, 4)
    assert item.linear.loss == "half_mse" and not item.linear.bias
    checks = {(c.step, c.sse is not None): c for c in item.checkpoints}
    at_1000 = checks[(1000, False)]
    assert at_1000.weights == (Fraction("1.0372"), Fraction("0.9102"))
    assert at_1000.tol == Fraction(1, 10000)
    w, _ = _grad_descent_float32(item.linear.X, item.linear.y, 1000)
    assert np.all(np.abs(w - np.array(at_1000.weights, dtype=float)) <= float(at_1000.tol))
    w, sse = _grad_descent_float32(item.linear.X, item.linear.y, 10000)
    at_end = checks[(10000, False)]
    assert np.all(np.abs(w - np.array(at_end.weights, dtype=float)) <= float(at_end.tol))
    pinned = checks[(10000, True)]
    assert pinned.sse == Fraction("2.8518e-10")
    assert abs(sse - float(pinned.sse)) <= float(pinned.tol)
    # the tolerance still says "float32": the same descent in float64 ends near 1e-16 and fails it
    w64 = np.zeros(2)
    X64, y64 = np.array([[1.0, 1.0], [3.0, 1.0]]), np.array([2.0, 4.0])
    for _ in range(10000):
        w64 = w64 - 0.01 * X64.T @ (X64 @ w64 - y64) / 2
    residual = X64 @ w64 - y64
    assert abs(residual @ residual - float(pinned.sse)) > float(pinned.tol)


def test_divergence_step_is_where_the_float64_loss_overflows():
    item = BY_ID["divergence"]
    assert item.dtype == "float64" and item.lr == 3 and item.grad_scale == Fraction(1, 28)
    (diverged,) = [c.diverged for c in item.checkpoints if c.diverged is not None]
    X = np.array(item.linear.X, dtype=float)[:, 0]
    y = np.array(item.linear.y, dtype=float)
    w, found = 0.0, None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(item.iterations + 1):
            loss = np.sum((X * w - y) ** 2)
            if not (math.isfinite(loss) and math.isfinite(w)):
                found = k
                break
            w = w - 3 * np.sum(2 * X * (X * w - y)) / 28
    assert found == diverged == 510
    assert diverged <= item.iterations
    for checkpoint in item.checkpoints:
        if checkpoint.weights is not None:
            k = checkpoint.step
            # w_k − 2 = −2·(w_(k−1) − 2), from w_0 − 2 = −2
            assert checkpoint.weights == (2 - 2 * Fraction(-2) ** k,)
            if checkpoint.loss is not None:
                assert checkpoint.loss == 14 * (checkpoint.weights[0] - 2) ** 2


def test_resolve_finds_builtins_and_files(tmp_path):
    assert catalog.resolve("backprop") is BY_ID["backprop"]
    path = tmp_path / "mine.yaml"
    path.write_text("id: mine\ntitle: Mine\nkind: graph\nexpression: x*3\ninputs: {x: 2}\n",
                    encoding="utf-8")
    assert catalog.resolve(str(path)).id == "mine"
    with pytest.raises(GdtutorError) as err:
        catalog.resolve("backprp")
    assert str(err.value) == ("gdtutor: unknown lesson 'backprp' (did you mean 'backprop'?): "
                              "not a built-in id, a .yaml file or a folder (try 'gdtutor list')")
    with pytest.raises(GdtutorError, match="no such file"):
        catalog.resolve(str(tmp_path / "absent.yml"))


def test_builtin_is_cached_and_returns_a_fresh_list():
    first, second = catalog.builtin(), catalog.builtin()
    assert first == second and first is not second
    assert all(a is b for a, b in zip(first, second))


def test_lessons_dir_is_the_repository_folder_when_not_installed():
    assert catalog.lessons_dir().name == "lessons"
    assert (catalog.lessons_dir() / "course.yaml").is_file()


def _manifest(tmp_path: Path, listed, files):
    for name in files:
        (tmp_path / name).write_text(
            f"id: {Path(name).stem}\ntitle: T\nkind: graph\nexpression: x\ninputs: {{x: 1}}\n",
            encoding="utf-8")
    (tmp_path / "course.yaml").write_text(yaml.safe_dump({"lessons": listed}), encoding="utf-8")


@pytest.mark.parametrize("listed, files, message", [
    (["a.yaml"], ["a.yaml", "b.yaml"], "'b.yaml' is in"),
    (["a.yaml", "b.yaml"], ["a.yaml"], "'b.yaml' is listed but there is no such file"),
    (["a.yaml", "a.yaml"], ["a.yaml"], "'a.yaml' is listed twice"),
    (["../a.yaml"], ["a.yaml"], "is outside the course's folder"),
])
def test_the_manifest_must_match_the_folder(tmp_path, monkeypatch, listed, files, message):
    _manifest(tmp_path, listed, files)
    monkeypatch.setattr(catalog, "lessons_dir", lambda: tmp_path)
    with pytest.raises(GdtutorError, match=re.escape(message)) as err:
        catalog._builtin.__wrapped__()
    assert "course.yaml" in str(err.value)


def test_a_lesson_id_must_match_its_file_name(tmp_path, monkeypatch):
    _manifest(tmp_path, ["a.yaml"], ["a.yaml"])
    (tmp_path / "a.yaml").write_text("id: b\ntitle: T\nkind: graph\nexpression: x\n"
                                     "inputs: {x: 1}\n", encoding="utf-8")
    monkeypatch.setattr(catalog, "lessons_dir", lambda: tmp_path)
    with pytest.raises(GdtutorError) as err:
        catalog._builtin.__wrapped__()
    assert str(err.value).endswith("a.yaml:1: id: id 'b' must match the file name 'a.yaml'")


@pytest.mark.parametrize("text, expected", [
    ("1/28", Fraction(1, 28)), ("-3", Fraction(-3)), ("0.5", Fraction(1, 2)),
    (" 3 / 4 ", Fraction(3, 4)), ("1e-4", Fraction(1, 10000)), ("2.5e2", Fraction(250)),
    ("-0.01", Fraction(-1, 100)), ("1.5/3", Fraction(1, 2)), (".25", Fraction(1, 4)),
    (0.01, Fraction(1, 100)), (0.1, Fraction(1, 10)), (7, Fraction(7)),
    (1e300, Fraction(10) ** 300),
    (Fraction(2, 3), Fraction(2, 3)),
])
def test_numbers_are_parsed_exactly_as_written(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text, message", [
    ("abc", "expected a number, got 'abc'"), ("1/0", "division by zero in '1/0'"),
    ("inf", "expected a number, got 'inf'"), ("nan", "expected a number, got 'nan'"),
    (True, "expected a number, got true"), (None, "expected a number, got nothing"),
    (float("inf"), "expected a finite number"), (float("nan"), "expected a finite number"),
    ("1e999999999", "expected a number"), ("1/2/3", "expected a number"), ("", "expected a number"),
    ("0x10", "expected a number"), ("1" * 200, "expected a number"),
])
def test_non_numbers_are_refused(text, message):
    with pytest.raises(GdtutorError, match=re.escape(message)):
        parse_number(text)


def test_numbers_in_a_file_are_exact(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text(
        "id: n\ntitle: N\nkind: descent\nobjective: sum((w - c)**2)\n"
        "params:\n  w: [0.1, '1/3', -2, 1.5e+3]\n  c: 1\nlr: 0.01\ngrad_scale: '-1/7'\n"
        "iterations: '1e3'\n"
        "checkpoints:\n  - {step: 0, weights: [0.1, '1/3', -2, 1500, 1], loss: '1/3', tol: 1e-4}\n",
        encoding="utf-8")
    item = catalog.load(path)
    assert item.params == (("w", (Fraction(1, 10), Fraction(1, 3), Fraction(-2), Fraction(1500))),
                           ("c", Fraction(1)))
    assert item.lr == Fraction(1, 100) and item.grad_scale == Fraction(-1, 7)
    assert item.iterations == 1000
    (checkpoint,) = item.checkpoints
    assert checkpoint.weights == (Fraction(1, 10), Fraction(1, 3), -2, 1500, 1)
    assert checkpoint.tol == Fraction(1, 10000) and checkpoint.loss == Fraction(1, 3)
    assert item.line_of("params.w") == 6 and item.line_of("checkpoints[0]") == 12


def test_linear_sugar_with_bias_and_defaults(tmp_path):
    path = tmp_path / "lin.yaml"
    path.write_text("id: lin\ntitle: {en: Lin}\nkind: descent\ndata:\n  X: [[1, 2], [3, 4]]\n"
                    "  y: [[5], [6]]\nbias: true\nlr: '1/10'\niterations: 5\n", encoding="utf-8")
    item = catalog.load(path)
    assert item.title.en == "Lin" and item.title.get("zh") == "Lin"
    assert item.linear.X == ((1, 2, 1), (3, 4, 1)) and item.linear.y == (5, 6)
    assert item.linear.loss == "half_mse"
    assert item.params == (("w", (0, 0, 0)),)
    assert dict(item.constants) == {"X": ((1, 2, 1), (3, 4, 1)), "y": (5, 6), "m": 2}
    assert str(item.expression) == "sum((X @ w - y)**2) / (2 * m)"


def test_with_overrides_replaces_and_revalidates():
    item = BY_ID["worked-example"]
    changed = catalog.with_overrides(item, lr="1/4", steps="7", dtype="float64")
    assert (changed.lr, changed.iterations, changed.dtype) == (Fraction(1, 4), 7, "float64")
    assert (item.lr, item.iterations, item.dtype) == (Fraction(1, 2), 20, "exact")
    assert catalog.with_overrides(item, lr=0.3).lr == Fraction(3, 10)
    assert catalog.with_overrides(item) == item
    torch_float = catalog.with_overrides(BY_ID["grad-descent"], backend="torch")
    assert torch_float.backend == "torch" and torch_float.dtype == "float32"


@pytest.mark.parametrize("lesson_id, overrides, expected", [
    ("worked-example", {"backend": "torch"},
     "gdtutor: --backend: 'worked-example' uses exact arithmetic, which runs on the numpy "
     "backend only (add --dtype float64 to use torch)"),
    ("grad-descent", {"backend": "torch", "dtype": "exact"},
     "gdtutor: --dtype: exact arithmetic runs on the numpy backend only"),
    ("worked-example", {"lr": "abc"}, "gdtutor: --lr: expected a number, got 'abc'"),
    ("worked-example", {"lr": "1/0"}, "gdtutor: --lr: division by zero in '1/0'"),
    ("worked-example", {"lr": float("nan")}, "gdtutor: --lr: expected a finite number, got nan"),
    ("worked-example", {"steps": 0}, "gdtutor: --steps: expected a positive whole number, got 0"),
    ("worked-example", {"steps": "ten"}, "gdtutor: --steps: expected a positive whole number"),
    ("worked-example", {"steps": 20001},
     "gdtutor: --steps: 20001 iterations; with exact arithmetic the limit is 20000"),
    ("matrix-form", {"steps": 10**8}, "gdtutor: --steps: 100000000 iterations; the limit is"),
    ("backprop", {"lr": "0.1"}, "gdtutor: --lr: 'backprop' is a graph lesson"),
    ("worked-example", {"dtype": "float16"},
     "gdtutor: --dtype: expected one of float64, float32, exact, got 'float16'"),
    ("worked-example", {"backend": "jax"}, "gdtutor: --backend: expected one of numpy, torch"),
])
def test_with_overrides_refuses_bad_combinations(lesson_id, overrides, expected):
    with pytest.raises(GdtutorError) as err:
        catalog.with_overrides(BY_ID[lesson_id], **overrides)
    assert str(err.value).startswith(expected)


def test_switching_to_exact_probes_the_expression_again(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("id: e\ntitle: E\nkind: descent\nobjective: exp(w)\nparams: {w: 1}\n"
                    "lr: 1\niterations: 3\n", encoding="utf-8")
    item = catalog.load(path)
    with pytest.raises(GdtutorError) as err:
        catalog.with_overrides(item, dtype="exact")
    assert str(err.value).startswith(f"gdtutor: {path}: --dtype: exp() has no exact value")


def _run_check(*args: str) -> subprocess.CompletedProcess:
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "gdtutor", "check", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def test_every_builtin_lesson_passes_its_checkpoints():
    result = _run_check(*BY_ID)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"OK {lesson_id}" for lesson_id in BY_ID]


def test_float_lessons_pass_on_torch_too():
    pytest.importorskip("torch")
    ids = [item.id for item in BUILTIN if item.dtype != "exact"]
    result = _run_check("--backend", "torch", *ids)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"OK {lesson_id}" for lesson_id in ids]


def test_the_example_in_the_docs_is_a_valid_lesson(tmp_path):
    docs = Path(__file__).resolve().parent.parent / "docs" / "lessons.md"
    example = re.search(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S).group(1)
    path = tmp_path / "my-first-descent.yaml"
    path.write_text(example, encoding="utf-8")
    item = catalog.load(path)
    assert item.id == "my-first-descent" and item.title.zh
    result = _run_check(str(path))
    assert result.returncode == 0, result.stdout + result.stderr
