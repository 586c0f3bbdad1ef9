"""Mistakes students make in a lesson file, each refused in one line that says what to write
instead (`^` for a power, other tools' names for α and the iterations), and the `names` key
that names a graph's nodes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gdtutor.catalog import load, resolve
from gdtutor.errors import GdtutorError

REPO = Path(__file__).resolve().parent.parent

GRAPH = """\
id: names
title: Names
kind: graph
expression: {expression}
inputs:
  x: 2
  y: 3
"""

DESCENT = """\
id: synonyms
title: Synonyms
kind: descent
objective: (w - 3)**2
params: {{w: 0}}
{key}: {value}
"""


def refused(tmp_path: Path, text: str) -> GdtutorError:
    path = tmp_path / "lesson.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GdtutorError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"gdtutor: {path}:{err.value.line}: ")
    assert message.startswith(f"gdtutor: {path}:{err.value.line}: {err.value.field}: ")
    return err.value


@pytest.mark.parametrize("expression, meant", [
    ("x^2", "x**2"), ("x ^ 2 + y", "x ** 2 + y"), ("3 * x^2", "3 * x**2"),
    ("x^2 + " + "y + " * 20 + "y", "x**2"),     # too long to repeat: the example
])
def test_a_caret_says_to_use_two_stars(tmp_path, expression, meant):
    err = refused(tmp_path, GRAPH.format(expression=expression))
    assert (err.line, err.field) == (4, "expression")
    assert err.message == f"use ** for powers ({meant}), ^ is not a power"


@pytest.mark.parametrize("key, value, meant", [
    ("learning_rate", "0.1", "lr"), ("alpha", "0.1", "lr"), ("epochs", "10", "iterations"),
    ("steps", "10", "iterations"), ("n_iter", "10", "iterations"),
])
def test_other_tools_names_for_alpha_and_iterations_suggest_ours(tmp_path, key, value, meant):
    err = refused(tmp_path, DESCENT.format(key=key, value=value))
    assert (err.line, err.field) == (6, key)
    assert err.message == f"unknown key '{key}' (did you mean '{meant}'?)"


def test_a_misspelling_still_gets_the_nearest_key(tmp_path):
    err = refused(tmp_path, DESCENT.format(key="iteratons", value="10"))
    assert err.message == "unknown key 'iteratons' (did you mean 'iterations'?)"


@pytest.mark.slow
@pytest.mark.parametrize("text, line, field, words", [
    (GRAPH.format(expression="x^2"), 4, "expression", "use ** for powers"),
    (DESCENT.format(key="learning_rate", value="0.1"), 6, "learning_rate", "did you mean 'lr'"),
    (DESCENT.format(key="epochs", value="5"), 6, "epochs", "did you mean 'iterations'"),
])
def test_check_exits_2_with_the_message_in_one_line(tmp_path, text, line, field, words):
    path = tmp_path / "lesson.yaml"
    path.write_text(text, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "gdtutor", "check", str(path), "--lang", "en"],
                          capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"gdtutor: {path}:{line}: {field}: ") and words in done.stderr


# -- names ----------------------------------------------------------------------------------

NAMED = GRAPH.format(expression="x**3 + 2*x*y") + "names:\n{names}"


def test_the_builtin_graph_lessons_name_their_nodes_as_their_text_does():
    assert dict(resolve("backprop").names) == {"y": "x**2"}
    assert dict(resolve("dynamic-graph").names) == {"y": "x**2"}
    assert dict(resolve("chain-rule").names) == {"f": "x**3 + 2 * x * y", "2*x": "2 * x",
                                                 "2*x*y": "2 * x * y"}


def test_a_name_may_be_written_any_way_that_parses_the_same(tmp_path):
    path = tmp_path / "lesson.yaml"
    path.write_text(NAMED.format(names="  f: (x**3) + ((2*x) * y)\n  g: 2 * x\n"))
    assert load(path).names == (("f", "x**3 + 2 * x * y"), ("g", "2 * x"))


@pytest.mark.parametrize("names, line, field, words", [
    ("  f: x**2\n", 9, "names.f", "'x**2' is not an operation of the expression"),
    ("  f: z + 1\n", 9, "names.f", "unknown name 'z'"),
    ("  x: x**3\n", 9, "names.x", "'x' is already a name in the expression"),
    ("  f: x\n", 9, "names.f", "'x' is not an operation of the expression"),
    ("  f: 2*x\n  g: 2 * x\n", 10, "names.g", "'2 * x' is named twice ('f' and 'g')"),
    ("  f: x^3\n", 9, "names.f", "use ** for powers"),
    ("  [f]\n", 9, "names", "expected a mapping of node names"),
])
def test_a_bad_name_is_refused_in_one_line(tmp_path, names, line, field, words):
    err = refused(tmp_path, NAMED.format(names=names))
    assert (err.line, err.field) == (line, field) and words in err.message, str(err)
