"""Error messages in Chinese: with `--lang zh` or a Chinese LANG, a bad lesson, a bad flag or a
run past a limit is said in one line, `gdtutor: file:line: field: ` as in English and the rest
in Chinese; `--lang en` says exactly what it always said."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gdtutor import i18n
from gdtutor.cli import main
from gdtutor.errors import GdtutorError, TooLarge, show, suggest
from gdtutor.files import NotRegular
from gdtutor.yaml_reader import yaml_problem
from test_i18n_cli import english_words

DESCENT = """\
id: t
kind: descent
title: T
data:
  X: [1, 2, 3]
  y: [2, 4, 6]
lr: "1/10"
iterations: 5
"""
FREE = """\
id: t
kind: descent
title: T
objective: "{objective}"
params: {{w: 0}}
lr: "1/10"
iterations: 5
"""
GRAPH = """\
id: t
kind: graph
title: T
inputs: {a: [1, 2], b: [1, 2, 3]}
expression: "sum(a * b)"
"""
HAN = re.compile(r"[\u4e00-\u9fff]")


def _free(objective: str) -> str:
    return FREE.format(objective=objective)


# name, the file's text (None: no file), the command after `gdtutor`, the English line with
# {f} for the file, and the words the message may quote from the file (keys, names, input)
CASES = [
    ("unknown key", DESCENT.replace("lr:", "lrr:"), ["check"],
     "gdtutor: {f}:7: lrr: unknown key 'lrr' (did you mean 'lr'?)", ("lrr",)),
    ("wrong type", DESCENT.replace("iterations: 5", "iterations: many"), ["check"],
     "gdtutor: {f}:8: iterations: expected a number, got 'many'", ("many",)),
    ("missing key", DESCENT.replace("title: T\n", ""), ["check"],
     "gdtutor: {f}:1: missing required key 'title'", ("title",)),
    ("missing keys", DESCENT.replace("title: T\n", "").replace("id: t\n", ""), ["check"],
     "gdtutor: {f}:1: missing required keys 'id', 'title'", ("title",)),
    ("yaml syntax", DESCENT.replace("title: T", "title: T: U"), ["check"],
     "gdtutor: {f}:3: YAML syntax error: mapping values are not allowed here", ("YAML",)),
    ("yaml unclosed", DESCENT.replace("iterations: 5", "iterations: [5"), ["check"],
     "gdtutor: {f}:9: YAML syntax error: expected ',' or ']', but got '<stream end>'", ("YAML",)),
    ("unknown name", _free("(ww - 3)**2"), ["check"],
     "gdtutor: {f}:4: objective: unknown name 'ww' (did you mean 'w'?)", ("ww",)),
    ("attribute", _free("w.real"), ["check"],
     "gdtutor: {f}:4: objective: attribute access not allowed in an expression", ()),
    ("caret", _free("w ^ 2"), ["check"], None, ("BitXor",)),
    ("shape", GRAPH, ["check"],
     "gdtutor: {f}:5: expression: '*' cannot combine shapes (2,) and (3,) (in 'a * b')", ()),
    ("negative lr", DESCENT.replace('"1/10"', '"-1/10"'), ["check"],
     "gdtutor: {f}:7: lr: α must not be negative, got -1/10", ()),
    ("negative --lr", DESCENT, ["replay", "--lr", "-1/2"],
     "gdtutor: --lr: α must not be negative, got -1/2", ()),
    ("huge number", DESCENT.replace('"1/10"', '"1e999/1e-999"'), ["check"],
     "gdtutor: {f}:7: lr: a number of about 1999 digits is too large: a lesson's numbers have "
     "at most 1000 digits", ()),
    ("huge integer", DESCENT.replace("iterations: 5", "iterations: " + "9" * 1200), ["replay"],
     "gdtutor: {f}:8: iterations: the number '99999999999999999999...' is too large: a "
     "lesson's numbers have at most 1000 digits", ()),
    ("exact limit", DESCENT.replace("iterations: 5", "iterations: 30000\ndtype: exact"),
     ["replay"], "gdtutor: {f}:8: iterations: at most 20000 with exact arithmetic (exact "
     "fractions grow with every step), got 30000", ()),
    ("exact growth", _free("w*w*w*w").replace("w: 0", 'w: "1/3"') + "dtype: exact\n",
     ["replay", "--steps", "40"], "gdtutor: {f}:8: dtype: exact fractions grew past 65536 "
     "bits at step 9 (in 'w * w * w * w'); use --dtype float64 or fewer --steps", ()),
    ("budget", _free("sum((w - 1)**2)").replace("w: 0", "w: [" + ", ".join(["0"] * 2000) + "]")
     .replace("iterations: 5", "iterations: 10000000"), ["replay"],
     "gdtutor: {f}:7: iterations: 10000000 iterations over a plan of 6003 numbers would take "
     "about 7.0e+10 operations, past the limit of 1e+10; lower iterations (or --steps) to at "
     "most 1713551", ("iterations",)),
    ("unknown lesson", None, ["replay", "worked-exampl"],
     "gdtutor: unknown lesson 'worked-exampl' (did you mean 'worked-example'?): not a built-in "
     "id, a .yaml file or a folder (try 'gdtutor list')", ("worked-exampl",)),
    ("bad --steps", None, ["replay", "worked-example", "--steps", "0"],
     "gdtutor: --steps: expected a positive whole number, got 0", ()),
    ("bad --dtype", None, ["replay", "worked-example", "--backend", "torch"],
     "gdtutor: --backend: 'worked-example' uses exact arithmetic, which runs on the numpy "
     "backend only (add --dtype float64 to use torch)", ()),
]


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_lang("en")


@pytest.fixture
def no_locale(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return monkeypatch


def run(capsys, argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def said_three_ways(capsys, monkeypatch, argv):
    """(status, out, err) with --lang en, with --lang zh, and with LANG=zh_CN.UTF-8 (which must
    say what --lang zh says)."""
    en = run(capsys, [*argv, "--lang", "en"])
    zh = run(capsys, [*argv, "--lang", "zh"])
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    from_env = run(capsys, argv)
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert from_env == zh
    return en, zh


def prefix_of(line: str) -> str:
    """`gdtutor: file:line: field: ` of an English line: everything before its message."""
    head = line.removeprefix("gdtutor: ")
    parts = re.match(r"((?:[^ :]+:\d+: )?(?:[\w.\[\]-]+: )?)", head).group(1)
    return "gdtutor: " + parts


def assert_chinese_line(err: str, prefix: str, also=()) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    line = err[:-1]
    assert line.startswith(prefix), (line, prefix)
    message = line[len(prefix):]
    assert HAN.search(message), line
    assert english_words(message, also) == [], line
    return message


@pytest.mark.parametrize("name, text, command, english, also", CASES, ids=[c[0] for c in CASES])
def test_a_bad_input_is_said_in_chinese(capsys, no_locale, tmp_path, name, text, command,
                                        english, also):
    argv = list(command)
    where = None
    if text is not None:
        where = tmp_path / "bad.yaml"
        where.write_text(text, encoding="utf-8")
        argv.insert(1, str(where))
    (status, out, err), (zh_status, zh_out, zh_err) = said_three_ways(capsys, no_locale, argv)
    assert (status, zh_status) == (2, 2) and out == zh_out == ""
    assert err.count("\n") == 1 and err.startswith("gdtutor: ")
    if english is not None:
        assert err == english.format(f=where) + "\n"
    prefix = prefix_of(err[:-1]) if english is not None else f"gdtutor: {where}:4: objective: "
    assert err.startswith(prefix)
    assert_chinese_line(zh_err, prefix, also)


def test_the_chinese_lines_read_as_written(capsys, no_locale, tmp_path):
    where = tmp_path / "bad.yaml"
    where.write_text(DESCENT.replace("lr:", "lrr:"), encoding="utf-8")
    _, _, err = run(capsys, ["check", str(where), "--lang", "zh"])
    assert err == f"gdtutor: {where}:7: lrr: 未知的键“lrr”（你是不是要找“lr”？）\n"
    where.write_text(DESCENT.replace('"1/10"', '"-1/10"'), encoding="utf-8")
    _, _, err = run(capsys, ["replay", str(where), "--lang", "zh"])
    assert err == f"gdtutor: {where}:7: lr: α 不能为负数，实际为 -1/10\n"
    where.write_text(GRAPH, encoding="utf-8")
    _, _, err = run(capsys, ["replay", str(where), "--lang", "zh"])
    assert err == (f"gdtutor: {where}:5: expression: “*”无法组合形状 (2,) 和 (3,)"
                   "（在“a * b”中）\n")


def test_a_fifo_is_refused_in_chinese(capsys, no_locale, tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    (status, _, err), (zh_status, _, zh_err) = said_three_ways(capsys, no_locale,
                                                                ["check", str(fifo)])
    assert (status, zh_status) == (2, 2)
    assert err == f"gdtutor: {fifo}: is a named pipe (FIFO), not a lesson file\n"
    assert zh_err == f"gdtutor: {fifo}: 是命名管道（FIFO），不是课程文件\n"


def test_a_course_with_a_missing_file_in_chinese(capsys, no_locale, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "a.yaml").write_text(DESCENT, encoding="utf-8")
    (course / "course.yaml").write_text("title: C\nlessons:\n  - a.yaml\n  - gone.yaml\n",
                                        encoding="utf-8")
    index = course / "course.yaml"
    (status, out, err), (zh_status, zh_out, zh_err) = said_three_ways(capsys, no_locale,
                                                                      ["check", str(course)])
    assert (status, zh_status) == (2, 2) and out == zh_out == "OK t\n"
    assert err == (f"gdtutor: {index}:4: lessons[1]: 'gone.yaml' is listed but there is no "
                   f"such file in {course}\n")
    assert zh_err == f"gdtutor: {index}:4: lessons[1]: 列出了“gone.yaml”，但 {course} 中没有这个文件\n"


def test_a_course_entry_that_is_not_a_lesson_says_both_parts_in_chinese(capsys, no_locale,
                                                                          tmp_path):
    (tmp_path / "a.yaml").write_text(DESCENT.replace("lr:", "lrr:"), encoding="utf-8")
    (tmp_path / "course.yaml").write_text("lessons: [a.yaml]\n", encoding="utf-8")
    _, zh = said_three_ways(capsys, no_locale, ["check", str(tmp_path)])
    message = assert_chinese_line(zh[2], f"gdtutor: {tmp_path / 'course.yaml'}:1: lessons[0]: ",
                                  ("lrr",))
    assert message.startswith("“a.yaml”不是课程：") and "未知的键“lrr”" in message


@pytest.mark.parametrize("problem, zh", [
    ("mapping values are not allowed here", "此处不允许出现映射的值"),
    ("expected <block end>, but found '<block mapping start>'", "此处应为块的结束，却遇到了“块映射开始”"),
    ("found character '\\t' that cannot start any token", "遇到了不能作为任何记号开头的字符“\\t”"),
    ("expected ',' or '}', but got '<scalar>'", "此处应为“,”或“}”，却遇到了“标量”"),
    ("invalid indentation or unclosed '[' or '{'", "缩进无效，或有“[”或“{”没有闭合"),
])
def test_yaml_problems_in_both_languages(problem, zh):
    i18n.set_lang("en")
    assert yaml_problem(problem) == problem
    i18n.set_lang("zh")
    assert yaml_problem(problem) == zh
    assert yaml_problem("something PyYAML says one day") == "something PyYAML says one day"


def test_messages_made_earlier_are_said_in_the_language_of_the_moment():
    too_large, fifo = TooLarge("w", 70000, 65536), NotRegular("a named pipe (FIFO)")
    i18n.set_lang("zh")
    assert str(too_large) == "精确值超过了 65536 位（在“w”中）；请使用 dtype float64"
    assert str(fifo) == "命名管道（FIFO）"
    i18n.set_lang("en")
    assert str(too_large) == "exact values grew past 65536 bits (in 'w'); use dtype float64"
    assert str(fifo) == "a named pipe (FIFO)"


def test_shared_phrasing_in_both_languages():
    i18n.set_lang("en")
    assert [show(None), show("x"), show([1]), show({}), show(10 ** 70)] == [
        "nothing", "'x'", "a list", "a mapping", "a number of about 71 digits"]
    assert suggest("LR", ["lr", "iterations"]) == " (did you mean 'lr'?)"
    i18n.set_lang("zh")
    assert [show(None), show("x"), show([1]), show({}), show(10 ** 70)] == [
        "空值", "“x”", "列表", "映射", "约 71 位的数"]
    assert suggest("LR", ["lr", "iterations"]) == "（你是不是要找“lr”？）"
    assert suggest("zzz", ["lr"]) == ""


def test_serve_says_its_errors_in_chinese(capsys, no_locale):
    from gdtutor.serve import full_message, parse_port
    i18n.set_lang("zh")
    with pytest.raises(GdtutorError) as info:
        parse_port("http")
    assert str(info.value) == "gdtutor: --port: 应为 1 到 65535 之间的端口号，实际为“http”"
    assert full_message(3).startswith("本教程已有 3 名学生，达到上限（--max-sessions 3）。")
    i18n.set_lang("en")
    assert full_message(3).startswith("This tutor already has 3 students")


def test_the_api_raises_in_the_language_set(tmp_path):
    from gdtutor import api
    where = tmp_path / "bad.yaml"
    where.write_text(DESCENT.replace("lr:", "lrr:"), encoding="utf-8")
    i18n.set_lang("zh")
    with pytest.raises(GdtutorError) as info:
        api.load(Path(where))
    assert (info.value.field, info.value.message) == ("lrr", "未知的键“lrr”（你是不是要找“lr”？）")
    with pytest.raises(GdtutorError) as info:
        api.load(3)
    assert info.value.message == "应为课程 id 或路径，实际为 int"
