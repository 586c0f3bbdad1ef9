"""The headless commands under hostile input (issue 12), in-process and fast.

Every case runs `gdtutor.cli.main` and holds it to the contract: status 0, 1 or 2 (never 70,
never a traceback); on 2 exactly one stderr line starting `gdtutor: `; on 0 and 1 nothing on
stderr and no warning; nothing from a lesson reaches stdout or stderr as a control character;
and every case ends within a time limit. One test per class of breach reproduces the example
that was found, and a derandomized hypothesis generator looks for more of the class.
"""
from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import time
import warnings
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdtutor
from gdtutor.catalog import load, resolve, with_overrides
from gdtutor.cli import main
from gdtutor.errors import GdtutorError
from gdtutor.numpy_backend import MAX_EXACT_BITS
from gdtutor.safe_text import json_safe, printable
from gdtutor.stepper import WORK_BUDGET, Stepper
from limits import time_limit

CASE_LIMIT = 10.0          # seconds a case may take
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")   # what may never be written raw
GEN = settings(derandomize=True, database=None, deadline=None, max_examples=60,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

try:
    import torch  # noqa: F401
    HAS_TORCH = True
except ImportError:
    HAS_TORCH = False


def run(*argv: str, limit: float = CASE_LIMIT) -> tuple[int, str, str]:
    """main(argv) with stdout and stderr captured; warnings raised anywhere count as stderr."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, time_limit(limit):
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
    text = err.getvalue() + "".join(f"{w.category.__name__}: {w.message}\n" for w in caught)
    return status, out.getvalue(), text


def assert_contract(status: int, out: str, err: str) -> None:
    assert status in (0, 1, 2), (status, err)
    assert "Traceback" not in out + err and "internal error" not in err, err
    if status == 2:
        assert err.startswith("gdtutor: ") and err.count("\n") == 1 and err.endswith("\n"), err
    else:
        assert err == "", err
    assert not RAW_CONTROL.search(out), repr(out[:200])
    assert not RAW_CONTROL.search(err.rstrip("\n")), repr(err)


def lesson_file(tmp_path: Path, text: str, name: str = "lesson.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


FREE = """\
id: t
title: T
kind: descent
{dtype}objective: {objective}
params: {{w: {w}}}
lr: {lr}
iterations: {iterations}
"""


def free(objective="(w - 3)**2", w="0", lr='"1/2"', iterations=5, dtype="") -> str:
    return FREE.format(objective=objective, w=w, lr=lr, iterations=iterations,
                       dtype=f"dtype: {dtype}\n" if dtype else "")


# -- class 1: internal errors -----------------------------------------------------------------


def test_huge_hex_iterations_is_one_line_naming_line_and_field(tmp_path):
    path = lesson_file(tmp_path, free(iterations="0x" + "f" * 4000))
    status, out, err = run("check", path)
    assert_contract(status, out, err)
    assert status == 2 and f"{path}:7: iterations: " in err and "at most 1000 digits" in err


def test_steps_of_5000_digits_is_refused_before_int():
    status, out, err = run("replay", "worked-example", "--steps", "9" * 5000)
    assert_contract(status, out, err)
    assert status == 2 and err.startswith("gdtutor: --steps: ")


def test_api_steps_and_lr_of_huge_integers_are_refused():
    with pytest.raises(GdtutorError, match="limit is 10000000"):
        gdtutor.replay("worked-example", steps=10 ** 5000)
    with pytest.raises(GdtutorError, match="at most 1000 digits"):
        gdtutor.replay("worked-example", lr=Fraction(1, 10 ** 5000))


INTEGER_FIELDS = ("lr", "grad_scale", "iterations", "w", "tol", "step", "loss", "weight")


def _integer_text(base: str, digits: int, negative: bool) -> str:
    sign = "-" if negative else ""
    if base == "hex":
        return f"{sign}0x" + "f" * digits
    if base == "bin":
        return f"{sign}0b" + "1" * digits
    if base == "octal":
        return f"{sign}0" + "7" * digits
    if base == "sexagesimal":
        return sign + "1" + ":59" * max(1, digits // 2)
    if base == "underscored":
        return sign + "_".join(["999"] * max(1, digits // 3))
    return sign + "9" * digits


@GEN
@given(field=st.sampled_from(INTEGER_FIELDS),
       base=st.sampled_from(["decimal", "hex", "bin", "octal", "sexagesimal", "underscored"]),
       digits=st.one_of(st.integers(1, 40), st.integers(280, 320), st.integers(900, 1100),
                        st.integers(3000, 6000)),
       negative=st.booleans(), dtype=st.sampled_from(["", "exact", "float32"]))
def test_any_yaml_integer_in_any_numeric_field(tmp_path, field, base, digits, negative, dtype):
    number = _integer_text(base, digits, negative)
    values = {"lr": '"1/2"', "grad_scale": "1", "iterations": "3", "w": "0", "tol": "1",
              "step": "1", "loss": "4", "weight": "3"}
    values[field] = number
    text = (f"id: t\ntitle: T\nkind: descent\n{'dtype: ' + dtype if dtype else ''}\n"
            f"objective: (w - 3)**2\nparams: {{w: {values['w']}}}\nlr: {values['lr']}\n"
            f"grad_scale: {values['grad_scale']}\niterations: {values['iterations']}\n"
            f"checkpoints:\n  - {{step: {values['step']}, weights: [{values['weight']}], "
            f"loss: {values['loss']}, tol: {values['tol']}}}\n")
    path = lesson_file(tmp_path, text)
    for command in (("check", path), ("replay", path, "--format", "summary")):
        status, out, err = run(*command)
        assert_contract(status, out, err)


def test_exact_division_by_zero_is_the_same_story_in_every_format(tmp_path):
    path = lesson_file(tmp_path, free(objective="1/w", dtype="exact"))
    texts = {}
    for fmt in ("text", "summary", "jsonl"):
        status, out, err = run("replay", path, "--format", fmt)
        assert_contract(status, out, err)
        assert status == 0
        texts[fmt] = out
    assert "diverged at step 0" in texts["text"] and "diverged at step 0" in texts["summary"]
    assert "L(w_0) = nan" in texts["summary"]
    last = json.loads(texts["jsonl"].splitlines()[-1])
    assert last["diverged"] == 0 and last["final"] == {"step": 0, "weights": ["0"], "loss": "nan"}
    run_ = gdtutor.replay(path)
    assert run_.diverged == 0 and run_.final.loss is None and len(run_.records) == 0


def test_exact_graph_division_by_zero_shows_nan_and_fails_its_checkpoint(tmp_path):
    text = "id: t\ntitle: T\nkind: graph\ndtype: exact\nexpression: 1/x\ninputs: {x: 0}\n"
    path = lesson_file(tmp_path, text + "checkpoints: [{value: 1}]\n")
    status, out, err = run("replay", path)
    assert_contract(status, out, err)
    assert status == 1 and "1 / x = nan" in out and "value nan ≠ 1" in out
    status, out, err = run("replay", path, "--format", "jsonl")
    graph, last = (json.loads(line) for line in out.splitlines()[1:])
    assert graph["value"] == "nan" and graph["grads"] == {"x": "nan"}
    assert last["failed"] == [{"line": 7, "step": None, "field": "value", "expected": "1",
                               "got": "nan"}]
    status, out, err = run("check", lesson_file(tmp_path, text, "plain.yaml"))
    assert (status, out, err) == (0, "OK t\n", "")


def test_huge_exact_value_against_a_tolerance_fails_honestly(tmp_path):
    text = ("id: t\ntitle: T\nkind: graph\ndtype: exact\nexpression: x*x\n"
            f"inputs: {{x: {10 ** 200}}}\ncheckpoints: [{{value: 1, tol: 1}}, "
            f"{{value: {10 ** 400}, tol: 1}}]\n")
    status, out, err = run("check", lesson_file(tmp_path, text))
    assert_contract(status, out, err)
    assert status == 1 and out.count("FAIL") == 1       # the first fails, the second passes


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_takes_a_300_digit_constant_as_inf(tmp_path, dtype):
    big = "9" * 300
    path = lesson_file(tmp_path, free(objective=f"(w - {big})**2", w=big, dtype=dtype)
                       + "backend: torch\n")
    status, out, err = run("replay", path, "--format", "summary")
    assert_contract(status, out, err)
    if dtype == "float32":      # 1e300 is past float32: the loss is inf at once
        assert status == 0 and "diverged at step 0" in out
    else:
        assert status == 0 and "after 5 iterations" in out


# -- class 2: hangs ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "replay", "analyze"])
def test_a_fifo_as_the_lesson_is_refused_at_once(tmp_path, command):
    fifo = tmp_path / "lesson.yaml"
    os.mkfifo(fifo)
    status, out, err = run(command, str(fifo), limit=5)
    assert_contract(status, out, err)
    assert status == 2 and "named pipe (FIFO)" in err


def test_report_and_progress_refuse_a_fifo(tmp_path, monkeypatch):
    fifo = tmp_path / "class.jsonl"
    os.mkfifo(fifo)
    status, out, err = run("report", str(fifo), limit=5)
    assert_contract(status, out, err)
    assert status == 2 and "named pipe" in err
    monkeypatch.setenv("GDTUTOR_PROGRESS", str(fifo))
    status, out, err = run("progress", limit=5)
    assert_contract(status, out, err)
    assert status == 2 and "named pipe" in err


def test_exact_products_that_grow_stop_with_a_message_naming_the_step(tmp_path):
    path = lesson_file(tmp_path, free(objective="w*w*w*w", w='"1/3"', lr='"1/7"',
                                      iterations=20000, dtype="exact"))
    started = time.monotonic()
    status, out, err = run("replay", path, "--format", "summary")
    assert time.monotonic() - started < CASE_LIMIT
    assert_contract(status, out, err)
    assert status == 2 and re.search(r"grew past 65536 bits at step \d+ \(in 'w \* w \* w \* w'\)", err)
    assert "--dtype float64" in err and "--steps" in err
    # the bits of w_k roughly triple every step: the step named is where the limit is passed
    k = int(re.search(r"at step (\d+)", err).group(1))
    assert 3 ** (k - 2) < MAX_EXACT_BITS < 3 ** (k + 2)
    status, out, err = run("replay", path, "--format", "summary", "--dtype", "float64")
    assert_contract(status, out, err)
    assert status == 0


# pieces of objectives for exact growth (tests/test_reliability_slow.py runs them)
_EXPR_PARTS = ["w", "w*w", "w*w*w", "(w - 1)", "(w + 1)/3", "w/(w + 2)", "3*w", "w/7"]


def test_enormous_work_is_refused_up_front_with_an_estimate(tmp_path):
    m = 5000
    xs = ", ".join(str(i % 7) for i in range(m))
    ys = ", ".join(str(i % 5) for i in range(m))
    path = lesson_file(tmp_path, f"id: t\ntitle: T\nkind: descent\ndata: {{X: [{xs}], "
                                 f"y: [{ys}]}}\nlr: 1e-9\niterations: 10000000\n")
    status, out, err = run("replay", path, "--format", "summary", limit=20)
    assert_contract(status, out, err)
    assert status == 2 and f"{path}:6: iterations: 10000000 iterations" in err
    assert "lower iterations (or --steps) to at most" in err
    affordable = int(err.rsplit(" ", 1)[1])
    stepper = Stepper(load(path))
    assert stepper.work(affordable) <= WORK_BUDGET < stepper.work(affordable + 1)
    status, out, err = run("check", path, "--steps", str(affordable + 1))
    assert status == 0   # no checkpoints: check runs no step
    # the built-in lessons may still run the 10,000,000 iterations a lesson may ask for
    Stepper(with_overrides(resolve("grad-descent"), steps=10 ** 7)).check_budget(10 ** 7)


# -- class 4: noise and broken channels -------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy"] + (["torch"] if HAS_TORCH else []))
@pytest.mark.parametrize("lr", ["1e30", "1e40", "1e300"])
def test_float32_overflow_writes_no_warning(tmp_path, backend, lr):
    path = lesson_file(tmp_path, free(w="1", lr=lr, dtype="float32"))
    for fmt in ("text", "summary", "jsonl"):
        status, out, err = run("replay", path, "--format", fmt, "--backend", backend)
        assert_contract(status, out, err)
        assert status == 0
    status, out, err = run("analyze", path, "--backend", backend)
    assert_contract(status, out, err)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_transpose_of_a_3d_tensor_writes_no_warning(tmp_path):
    path = lesson_file(tmp_path, "id: t\ntitle: T\nkind: graph\nbackend: torch\n"
                                 "expression: sum(T(x))\ninputs: {x: [[[1, 2], [3, 4]], "
                                 "[[5, 6], [7, 8]]]}\n")
    status, out, err = run("replay", path)
    assert_contract(status, out, err)
    assert status == 0 and "value = 36" in out
    # the quiet is only around the lesson: a warning elsewhere still shows
    with pytest.warns(UserWarning):
        warnings.warn("still here", UserWarning)


class FullDisk(io.StringIO):
    def write(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_or_closed_stdout_is_one_line_and_status_2(monkeypatch):
    for stdout, said in ((FullDisk(), "No space left on device"), (None, "stdout is closed")):
        err = io.StringIO()
        monkeypatch.setattr("sys.stdout", stdout)
        monkeypatch.setattr("sys.stderr", err)
        status = main(["replay", "worked-example", "--format", "summary"])
        assert status == 2
        assert err.getvalue() == f"gdtutor: cannot write the output: {said}\n"


def test_an_ascii_stdout_gets_ascii_symbols(monkeypatch):
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr("sys.stdout", stdout)
    status = main(["replay", "worked-example", "--steps", "2"])
    stdout.flush()
    text = raw.getvalue().decode("ascii")
    assert status == 0
    assert "alpha = 1/2" in text and "1. grad = -2" in text and "w_1 = w_0 - alpha*grad" in text
    main(["list", "--lang", "zh"])
    stdout.flush()
    assert "\\u" in raw.getvalue().decode("ascii")     # Chinese titles, escaped


# -- class 5: one line, with a line number ----------------------------------------------------


@pytest.mark.parametrize("text, where", [
    (free().replace("params: {w: 0}", 'params: {"w\\nx": 0}'), ":5: params.w\\nx: "),
    (free() + '"a\\nb": 1\n', ":8: a\\nb: unknown key 'a\\nb'"),
    ("id: t\nv: " + "[" * 300 + "]" * 300 + "\n", ":2: nested too deeply"),
    ("id: t\ntitle: T\nkind: graph\nexpression: sum(x*x)\ninputs: {x: [1, 2]}\n"
     "checkpoints: [{grads: {x: [2, 4, 6]}}]\n",
     ":6: checkpoints[0].grads.x: expected the shape of input 'x' (2), got 3"),
    ("id: t\ntitle: T\nkind: graph\nexpression: sum(x*x)\ninputs: {x: [1, 2]}\n"
     "checkpoints: [{value: [5]}]\n", ":6: checkpoints[0].value: expected one number"),
])
def test_errors_stay_on_one_line_and_name_a_line(tmp_path, text, where):
    path = lesson_file(tmp_path, text)
    status, out, err = run("check", path)
    assert_contract(status, out, err)
    assert status == 2 and err.startswith(f"gdtutor: {path}{where}"), err


@pytest.mark.parametrize("data, line, said", [
    ("\ufeffid: t\n".encode("utf-16"), 1, "UTF-16"),
    ("id: t\ntitle: T\n".encode("utf-16-le"), 1, "UTF-16"),
    (b"id: t\ntitle: T\nkind: \x00graph\n", 3, "NUL byte"),
])
def test_utf16_and_nul_name_a_line(tmp_path, data, line, said):
    path = tmp_path / "lesson.yaml"
    path.write_bytes(data)
    status, out, err = run("check", str(path))
    assert_contract(status, out, err)
    assert err.startswith(f"gdtutor: {path}:{line}: ") and said in err


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path):
    path = lesson_file(tmp_path, free(lr="x"), name="a\nb\x1b[2J.yaml")
    status, out, err = run("check", path)
    assert_contract(status, out, err)
    assert "a\\nb\\x1b[2J.yaml:6: lr: " in err


# -- class 6: nothing from a lesson acts on the terminal --------------------------------------

CONTROL = st.sampled_from(["\x1b", "\x07", "\r", "\n", "\x1b]0;pwned\x07", "\x1b[2J", "\x9b",
                           "\x9d", "\x7f", "\x00", "\x08", "\u2028", "\u202e", "\x85", "\t"])
PIECE = st.one_of(CONTROL, st.text(alphabet="abcé名 ", min_size=1, max_size=4))
TEXT = st.lists(PIECE, min_size=1, max_size=6).map("".join)


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar holding exactly `text` (YAML's escapes, as json writes)."""
    return json.dumps(text, ensure_ascii=True)


@GEN
@given(title=TEXT, key=TEXT, name=TEXT, value=TEXT,
       where=st.sampled_from(["title", "key", "input", "value", "file", "id", "summary"]))
def test_control_characters_never_reach_the_output_raw(tmp_path_factory, title, key, name,
                                                        value, where):
    tmp = tmp_path_factory.mktemp("ctl")
    lines = {"id": "t", "title": "T", "summary": "S"}
    extra = ""
    if where in ("title", "id", "summary"):
        lines[where] = yaml_string(title)
    text = (f"id: {lines['id']}\ntitle: {lines['title']}\nsummary: {lines['summary']}\n"
            "kind: graph\nexpression: x*x\n")
    if where == "input":
        text += f"inputs: {{{yaml_string(name)}: 1}}\n"
    else:
        text += "inputs: {x: 2}\n"
    if where == "key":
        extra = f"{yaml_string(key)}: 1\n"
    if where == "value":
        extra = f"checkpoints: [{{value: {yaml_string(value)}}}]\n"
    file_name = (name.replace("/", "_").replace("\x00", "_") or "x") + ".yaml" \
        if where == "file" else "lesson.yaml"
    path = lesson_file(tmp, text + extra, file_name)
    for command in (("check", path), ("replay", path), ("replay", path, "--format", "jsonl"),
                    ("check", path, "--format", "json")):
        status, out, err = run(*command)
        assert_contract(status, out, err)
        if command[-1] in ("jsonl", "json"):
            for line in out.splitlines():
                json.loads(line)


def test_the_title_escape_sequence_is_shown_escaped(tmp_path):
    path = lesson_file(tmp_path, free().replace("title: T", 'title: "\\e]0;pwned\\a\\e[2J"'))
    for command in (("replay", path), ("replay", path, "--format", "summary"),
                    ("analyze", path)):
        status, out, err = run(*command)
        assert_contract(status, out, err)
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in out
    status, out, err = run("replay", path, "--format", "jsonl")
    assert json.loads(out.splitlines()[0])["lesson"] == "t"


def test_report_escapes_user_names_and_lesson_ids(tmp_path):
    lines = [{"v": 1, "user": "ev\x1b]0;x\x07il", "lesson": "a\x9bb", "event": "reached",
              "step": 1, "time": "2024-01-01T00:00:00Z"}]
    path = tmp_path / "class.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    for fmt in ("text", "csv", "json"):
        status, out, err = run("report", str(path), "--format", fmt)
        assert_contract(status, out, err)


def test_printable_escapes_controls_once():
    assert printable("a\x1b[2Jb\x07\x9b\u202e") == "a\\x1b[2Jb\\x07\\x9b\\u202e"
    assert printable("one\ntwo\tthree") == "one\\ntwo\\tthree"
    assert printable("one\ntwo\tthree\r", multiline=True) == "one\ntwo\tthree\\r"
    assert printable(printable("\x1b")) == "\\x1b"
    assert printable("α = 1/2 · 名字") == "α = 1/2 · 名字"
    assert json.loads(json_safe(json.dumps("a\x9b\u2028b", ensure_ascii=False))) == "a\x9b\u2028b"
    assert "\x9b" not in json_safe(json.dumps("a\x9b", ensure_ascii=False))


# -- class 7: α --------------------------------------------------------------------------------


def test_a_negative_alpha_is_refused_everywhere_in_the_same_words(tmp_path):
    said = "α must not be negative, got -1/2"
    path = lesson_file(tmp_path, free(lr='"-1/2"'))
    status, out, err = run("check", path)
    assert_contract(status, out, err)
    assert err == f"gdtutor: {path}:6: lr: {said}\n"
    for argv in (["--lr=-1/2"], ["--lr", "-1/2"], ["--lr", "-0.5"]):
        status, out, err = run("replay", "worked-example", *argv)
        assert_contract(status, out, err)
        assert err == f"gdtutor: --lr: {said}\n"
    with pytest.raises(GdtutorError, match="α must not be negative"):
        gdtutor.replay("worked-example", lr=-0.5)
    stepper = Stepper(resolve("worked-example"))
    with pytest.raises(GdtutorError, match="α must not be negative"):
        stepper.set_lr(Fraction(-1, 2))
    # zero is allowed: nothing moves
    status, out, err = run("replay", "worked-example", "--lr", "0", "--format", "summary")
    assert "w_20 = 0" in out and err == ""


def test_a_negative_steps_value_is_a_value_not_an_option():
    status, out, err = run("replay", "worked-example", "--steps", "-3")
    assert_contract(status, out, err)
    assert err == "gdtutor: --steps: expected a positive whole number, got '-3'\n"
