"""Fuzzing the lesson loader with mutated copies of the built-in lessons.

Each case takes a real lesson file and applies one to three mutations (byte flips, deleted,
duplicated or swapped lines, renamed keys, values swapped for odd YAML scalars or expressions,
tags such as !!python/object, deep nesting, anchors and aliases, random Unicode, truncation),
then runs `gdtutor check` on it. Whatever the input: the status is 0, 1 or 2; a 2 is exactly
one stderr line starting `gdtutor: ` that names the file; there is never a traceback or an
internal error (70); each case ends within a few seconds; and no file is written.

The runs are repeatable (derandomized, no example database). GDTUTOR_FUZZ_EXAMPLES raises
the in-process count for a longer local run.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from gdtutor.cli import main
from gdtutor.schema import ALL_KEYS, DESCENT_CHECKPOINT_KEYS, GRAPH_CHECKPOINT_KEYS
from limits import time_limit

REPO = Path(__file__).resolve().parent.parent
SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted((REPO / "lessons").glob("*.yaml"))}
IN_PROCESS_EXAMPLES = int(os.environ.get("GDTUTOR_FUZZ_EXAMPLES", "2500"))
SUBPROCESS_EXAMPLES = 20
CASE_LIMIT = 5.0      # seconds a case may take before it counts as a hang
HARD_LIMIT = 30.0     # the case is interrupted here, so that a real hang fails instead of hanging
LESSON_NAME = "lesson.yaml"
PHASES = (Phase.explicit, Phase.generate, Phase.shrink)   # no tracing "explain" phase: it is slow

# -- what mutations put in --------------------------------------------------------------------

KEYS = sorted(set(ALL_KEYS + GRAPH_CHECKPOINT_KEYS + DESCENT_CHECKPOINT_KEYS
                  + ("en", "zh", "X", "y")))
ODD_KEYS = ["iteration", "Lr", "learning_rate", "expresion", "<<", "? [a]", "1", "true", "null",
            "~", "''", "x y", "ÿ", "名字", "__class__", "!!python/name:os.system", "-", "&a a", "*a"]
SCALARS = [
    "~", "null", "true", "false", "yes", "no", "on", "off", "''", '""', "0", "-0", "1", "-1",
    "2", "3", "20", "20000", "20001", "10000000", "10000001", "99999999999999999999999",
    "1" * 5000, "1" + "0" * 4400, "0x1F", "0o17", "0b101", "1_000", "+1", "1e3", "1e-3",
    "1e308", "1e309", "-1e309", "4.9e-324", ".inf", "-.inf", ".nan", ".NaN", "1.5", "-0.0",
    '"1/28"', '"1/0"', '"0/0"', '"-3/4"', '"1e999"', '"1e999/1e-999"', '"1e9999"', '" 1 / 2 "',
    '"1//2"', '"½"', '"١"', "2001-12-14", "2001-12-14t21:59:43.10-05:00", "12:30:45",
    "[]", "{}", "[1, 2]", "[[1, 2], [3]]", "[[1], [2], [3]]", "{en: x}", "{a: 1}", "[~]",
    "numpy", "torch", "exact", "float32", "float64", "float16", "graph", "descent", "sse",
    "half_mse", "mse", '"x**2"', "|\n  x\n", ">\n  y\n", "'''", '"\\u0000"', '"\\x85"',
    "*undefined", "&anchor 1", "!!str 1", "!!int 1.5", "!!float abc", "!!bool maybe",
]
EXPRESSIONS = [
    "x**2", "(w - 3)**2", "sum((X @ w - y)**2)", "__import__('os').system('touch PWNED')",
    "open('PWNED', 'w')", "x.__class__", "x.real", "x[0]", "lambda: 1", "(lambda: 0)()",
    "[i for i in x]", "'a string'", "x if x else x", "x == x", "not x", "x and x", "f(x)",
    "eval('1')", "exec('1')", "globals()", "2**2**2**2**2**2", "9**9**9**9", "x**99999999",
    "10**100000", "x**1e300", "x**-1", "x**0.5", "1/(x - x)", "log(0*x)", "sqrt(-1 - x*x)",
    "exp(exp(exp(exp(x))))", "x @ x @ x", "T(T(x))", "sum()", "relu(x, x)", "sigmoid()",
    "mean(x, x)", "-" * 5000 + "x", "(" * 300 + "x" + ")" * 300, "x" + " + x" * 3000, "x +",
    "", "   ", "x;x", "x\nx", "x # comment", "x ** y ** z", "m", "X", "y", "w", "1e999 * x",
    "0 * x", "abs(x) + cos(x) + sin(x) + tanh(x)", "x @ T(x)", "sum(x) / 0",
]
TAGS = [
    "!!python/object/apply:os.system ['touch PWNED']", "!!python/object:os.system",
    "!!python/name:os.system", "!!python/object/new:builtins.open ['PWNED', 'w']",
    "!!python/tuple [1, 2]", "!!python/str", "!!binary aGVsbG8=", "!!set {a, b}",
    "!!omap [a: 1]", "!!pairs [a: 1]", "!!timestamp 2001-12-14", "!!merge", "!!str",
    "!!int", "!!float", "!!null", "!!seq", "!!map", "!local", "!<tag:yaml.org,2002:python/none>",
    "!<!>", "!!value", "!!yaml",
]
ALIAS_BLOCKS = [
    "bomb0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"bomb{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
    "loop: &loop [*loop]\n",
    "anchor: &same 1\nagain: *same\n",
    "<<: {id: merged}\n",
    "base: &base {lr: 1}\nuse:\n  <<: *base\n",
]
KEY_AT = re.compile(r"(?m)^(\s*(?:-\s+)?)([^\s#:][^:#\n]*?)(\s*:)(?=\s|$)")
VALUE_AT = re.compile(r":[ \t]+([^\s#,{}\[\]][^#,{}\[\]\n]*)")

# -- mutations: each takes hypothesis's draw and the text, and returns the new text ----------


def _index(draw, n: int) -> int:
    return draw(st.integers(0, max(n - 1, 0)))


def _lines(text: str) -> list[str]:
    return text.split("\n")


def delete_lines(draw, text):
    lines = _lines(text)
    at = _index(draw, len(lines))
    return "\n".join(lines[:at] + lines[at + draw(st.integers(1, 4)):])


def duplicate_line(draw, text):
    lines = _lines(text)
    at = _index(draw, len(lines))
    return "\n".join(lines[:at + 1] + lines[at:at + 1] * draw(st.integers(1, 3)) + lines[at + 1:])


def swap_lines(draw, text):
    lines = _lines(text)
    a, b = _index(draw, len(lines)), _index(draw, len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def rename_key(draw, text):
    found = list(KEY_AT.finditer(text))
    if not found:
        return text
    m = found[_index(draw, len(found))]
    key = draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(ODD_KEYS),
                         st.text(min_size=1, max_size=12)))
    return text[:m.start(2)] + key + text[m.end(2):]


def _replace_value(draw, text, new):
    found = list(VALUE_AT.finditer(text))
    if not found:
        return text
    m = found[_index(draw, len(found))]
    return text[:m.start(1)] + new + text[m.end(1):]


def swap_value(draw, text):
    new = draw(st.one_of(
        st.sampled_from(SCALARS),
        st.integers(-10 ** 6, 10 ** 6).map(str),
        st.fractions(max_denominator=10 ** 6).map(lambda f: f'"{f}"'),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.text(max_size=20).map(lambda s: json.dumps(s, ensure_ascii=False)),
        st.sampled_from(EXPRESSIONS).map(lambda e: json.dumps(e)),
    ))
    return _replace_value(draw, text, new)


def swap_expression(draw, text):
    found = list(re.finditer(r"(?m)^(expression|objective):.*$", text))
    if not found:
        return swap_value(draw, text)
    m = found[_index(draw, len(found))]
    source = draw(st.one_of(st.sampled_from(EXPRESSIONS), st.text(max_size=30)))
    line = f"{m.group(1)}: {json.dumps(source, ensure_ascii=False)}"
    return text[:m.start()] + line + text[m.end():]


def insert_tag(draw, text):
    found = list(VALUE_AT.finditer(text))
    if not found:
        return text
    m = found[_index(draw, len(found))]
    tag = draw(st.sampled_from(TAGS))
    if draw(st.booleans()) or " " in tag:   # the whole value, or a tag on the value as it is
        return text[:m.start(1)] + tag + text[m.end(1):]
    return text[:m.start(1)] + tag + " " + text[m.start(1):]


def nest(draw, text):
    depth = draw(st.one_of(st.integers(1, 40), st.sampled_from([100, 1000, 5000, 20000])))
    style = draw(st.sampled_from(["list", "map", "block"]))
    if style == "list":
        value = "[" * depth + "1" + "]" * depth
    elif style == "map":
        value = "{a: " * depth + "1" + "}" * depth
    else:
        value = "".join("\n" + "  " * (i + 1) + "a:" for i in range(min(depth, 400))) + " 1"
    return _replace_value(draw, text, value)


def alias(draw, text):
    if draw(st.booleans()):
        block = draw(st.sampled_from(ALIAS_BLOCKS))
        lines = _lines(text)
        at = _index(draw, len(lines))
        return "\n".join(lines[:at] + block.rstrip("\n").split("\n") + lines[at:])
    found = list(VALUE_AT.finditer(text))   # anchor one value, and point another at it
    if len(found) < 2:
        return text
    a, b = sorted((_index(draw, len(found)), _index(draw, len(found))))
    ma, mb = found[a], found[b]
    if a == b:
        return text[:ma.start(1)] + "&x *x" + text[ma.end(1):]
    return (text[:ma.start(1)] + "&x " + text[ma.start(1):mb.start(1)] + "*x"
            + text[mb.end(1):])


def unicode(draw, text):
    at = _index(draw, len(text) + 1)
    junk = draw(st.one_of(
        st.text(max_size=12),
        st.sampled_from(["\x00", "\x1b[2J", "\ufeff", "\u2028", "\x85", "\t", "\r", "\ud800",
                         "\u202e", "\U0001F600", "\uffff", "：", "　", "—", "−"])))
    return text[:at] + junk + text[at:]


def retab(draw, text):
    lines = _lines(text)
    at = _index(draw, len(lines))
    lines[at] = draw(st.sampled_from(["\t", "    ", " ", ""])) + lines[at].lstrip()
    return "\n".join(lines)


TEXT_MUTATIONS = [delete_lines, duplicate_line, swap_lines, rename_key, swap_value, swap_value,
                  swap_expression, insert_tag, nest, alias, unicode, retab]


@st.composite
def mutated_lessons(draw) -> tuple[str, bytes]:
    """(the lesson it came from, the mutated file's bytes)."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    text = SOURCES[name]
    for _ in range(draw(st.integers(1, 3))):
        text = draw(st.sampled_from(TEXT_MUTATIONS))(draw, text)
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    mangle = draw(st.integers(0, 9))
    if mangle == 0 and data:        # flip a few bytes
        for _ in range(draw(st.integers(1, 8))):
            data[_index(draw, len(data))] ^= draw(st.integers(1, 255))
    elif mangle == 1:               # cut the file short
        del data[_index(draw, len(data) + 1):]
    return name, bytes(data)


def _edit(name: str, *changes: tuple[str, str]) -> tuple[str, bytes]:
    text = SOURCES[name]
    for old, new in changes:
        assert old in text, (name, old)
        text = text.replace(old, new, 1)
    return name, text.encode("utf-8")


# What this fuzzing found (and two cases found by hand on the same paths), kept as explicit
# examples so that every run tries them again; all but the deep nesting once exited 70 or
# wrote a warning, and the deep nesting took seconds.
FOUND = [
    _edit("backprop.yaml", ("id: backprop", "id: !!int")),                        # IndexError
    _edit("divergence.yaml", ("lr: 3", "lr: " + "[" * 20000 + "3" + "]" * 20000)),  # seconds
    _edit("matrix-form.yaml", ("tol: 1e-9", "tol: 1e309")),                       # OverflowError
    _edit("worked-example.yaml", ('lr: "1/2"', "lr: 1e309"),
          ("dtype: exact", "dtype: float64")),                                     # OverflowError
    ("quartic.yaml", b"id: quartic\ntitle: q\nkind: descent\ndtype: exact\n"
     b"objective: w**4\nparams: {w: 10}\nlr: 1\niterations: 12\n"
     b"checkpoints:\n  - {step: 12, weights: [0]}\n"),                          # OverflowError
    ("digits.yaml", b"id: digits\ntitle: d\nkind: descent\ndtype: exact\n"
     b"objective: (w - 1)**2\nparams: {w: 0}\nlr: 1e-100\niterations: 50\n"
     b"checkpoints:\n  - {step: 50, weights: [0]}\n"),                          # 4300 digits
    _edit("backprop.yaml", ("expression: x**2", "expression: 2**2**2**2**2**2")),  # a warning
]


def with_found(test):
    """The test, trying every FOUND case first."""
    for case in reversed(FOUND):
        test = example(case=case)(test)
    return test


# -- running a case ---------------------------------------------------------------------------

def check_in_process(path: Path) -> tuple[int, str, str, float]:
    """`gdtutor check path` in this process; a warning counts as stderr, as a user would see it."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught, time_limit(HARD_LIMIT):
        warnings.simplefilter("always")
        status = main(["check", str(path)])
    for w in caught:
        if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
    return status, out.getvalue(), err.getvalue(), time.perf_counter() - start


def assert_well_behaved(path: Path, status: int, out: str, err: str, seconds: float) -> None:
    assert "Traceback" not in out + err, err
    assert status in (0, 1, 2), (status, err)
    if status == 2:
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert err.startswith(f"gdtutor: {path}"), err       # names the file
        assert out == "", out
    else:
        assert err == "", err
        lines = out.splitlines()
        assert lines and all(line.startswith("OK " if status == 0 else ("OK ", "FAIL "))
                             for line in lines), out
    assert seconds < CASE_LIMIT, f"the case took {seconds:.1f} s"


@contextlib.contextmanager
def sandbox():
    """An empty working directory and an empty folder for the lesson; both must stay as left."""
    with tempfile.TemporaryDirectory() as home:
        cwd, folder = Path(home) / "cwd", Path(home) / "lessons"
        cwd.mkdir()
        folder.mkdir()
        before = os.getcwd()
        os.chdir(cwd)
        try:
            yield cwd, folder
        finally:
            os.chdir(before)


def assert_nothing_written(cwd: Path, folder: Path) -> None:
    assert list(cwd.iterdir()) == [], sorted(p.name for p in cwd.iterdir())
    assert [p.name for p in folder.iterdir()] == [LESSON_NAME]


def test_the_mutations_start_from_every_lesson_and_pass_unmutated():
    with sandbox() as (cwd, folder):
        for name, text in SOURCES.items():
            path = folder / LESSON_NAME
            path.write_text(text, encoding="utf-8")
            status, out, err, seconds = check_in_process(path)
            assert_well_behaved(path, status, out, err, seconds)
            assert status == (2 if name == "course.yaml" else 0), (name, err)
        assert_nothing_written(cwd, folder)


@pytest.mark.slow
@settings(max_examples=IN_PROCESS_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck), print_blob=True, phases=PHASES)
@given(case=mutated_lessons())
@with_found
def test_check_on_mutated_lessons_exits_0_1_or_2_in_one_line(case):
    _, data = case
    with sandbox() as (cwd, folder):
        path = folder / LESSON_NAME
        path.write_bytes(data)
        status, out, err, seconds = check_in_process(path)
        event(f"exit status {status}")   # shown with --hypothesis-show-statistics
        assert_well_behaved(path, status, out, err, seconds)
        assert_nothing_written(cwd, folder)


@pytest.mark.slow
@settings(max_examples=SUBPROCESS_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck), print_blob=True, phases=PHASES)
@given(case=mutated_lessons())
@with_found
def test_the_real_command_behaves_as_in_process(case):
    """`python -m gdtutor check` in a fresh process: the same status and output as in-process."""
    _, data = case
    with sandbox() as (cwd, folder):
        path = folder / LESSON_NAME
        path.write_bytes(data)
        expected = check_in_process(path)
        env = {k: v for k, v in os.environ.items() if k != "GDTUTOR_DEBUG"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "gdtutor", "check", str(path)], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        assert_well_behaved(path, done.returncode, done.stdout, done.stderr,
                            min(seconds, expected[3]))   # process start-up is not the case's time
        assert (done.returncode, done.stdout, done.stderr) == expected[:3]
        assert_nothing_written(cwd, folder)
