"""The headless commands in Chinese: with `--lang zh` or a Chinese LANG, no English word of the
interface is left (identifiers, keys, paths and numbers aside); machine formats are unchanged;
`--lang en` prints what it always did."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest

from gdtutor import i18n
from gdtutor.answers import NotAnAnswer, Rule, check, hint, parse_answer
from gdtutor.cli import argparse_message, main
from gdtutor.catalog import builtin, resolve
from gdtutor.progress import parse_event

ROOT = Path(__file__).resolve().parent.parent
LESSONS = [lesson.id for lesson in builtin()]
DESCENT = [lesson.id for lesson in builtin() if lesson.kind == "descent"]
GRAPH = [lesson.id for lesson in builtin() if lesson.kind == "graph"]

# What may stay in Latin letters: identifiers, keys, field names, technical tokens.
ALLOWED = {
    "OK", "gdtutor", "SSE", "grad", "grads", "grad_scale", "numpy", "torch", "float32", "float64",
    "exact", "jsonl", "json", "csv", "text", "summary", "param", "const", "pow", "mul", "add",
    "sub", "div", "neg", "value", "loss", "sse", "out", "LESSON", "PATH", "DIR", "LANG", "SSH", "ASCII",
    "NaN", "inf", "nan", "gradDescent", "replay", "check", "list", "analyze", "progress",
    "report", "serve", "usage", "lesson", "step", "time", "event", "field", "try", "user", "hint",
    "correct", "revealed", "attempt", "reached", "finished", "source_sha256", "true", "false",
    "ISO", "UTF", "JSON", "sum", "exp", "log", "tanh", "relu", "sigmoid", "sqrt",
}
OPTION = re.compile(r"--?[A-Za-z][\w-]*")
CHOICES = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]")
PATHLIKE = re.compile(r"[\w./$~*+-]*[/.$~][\w./$~*+-]*")
SUBSCRIPTED = re.compile(r"\w*_\w*")        # w_k, α_max, grad_scale


def checkpoint_lines(lesson_id: str) -> dict:
    """step -> the line of the lesson's checkpoint at that step (lessons are edited)."""
    return {c.step: c.line for c in resolve(lesson_id).checkpoints if c.step is not None}


def english_words(text: str, also: tuple[str, ...] = ()) -> list[str]:
    """The Latin words of 3+ letters left once identifiers, options, paths and allowed tokens
    are taken out."""
    for ident in sorted(LESSONS + list(also), key=len, reverse=True):
        text = text.replace(ident, " ")
    text = OPTION.sub(" ", text)
    text = CHOICES.sub(" ", text)
    text = PATHLIKE.sub(" ", text)
    text = SUBSCRIPTED.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text)
            if len(re.sub(r"[^A-Za-z]", "", w)) >= 3 and w not in ALLOWED]


def test_the_word_finder_finds_english_and_passes_identifiers():
    assert english_words("检查点：1 个通过 passed") == ["passed"]
    assert english_words("worked-example：第 1 步：w 1 = 1，loss 14 = 14 /tmp/x.jsonl") == []
    assert english_words("用法：gdtutor replay [-h] [--lang {en,zh}] LESSON") == []
    assert english_words("iteration 1") == ["iteration"]


@pytest.fixture
def zh_env(monkeypatch):
    """A Chinese locale in the environment, and no --lang."""
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_lang("en")


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def both_ways(capsys, monkeypatch, *argv):
    """The command run with --lang zh, then with LANG=zh_CN.UTF-8: the same output."""
    first = run(capsys, *argv, "--lang", "zh")
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    second = run(capsys, *argv)
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert first == second
    return first


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("fmt", ["text", "summary"])
def test_replay_in_chinese_has_no_english_word(capsys, monkeypatch, lesson, fmt):
    status, out, err = both_ways(capsys, monkeypatch, "replay", lesson, "--format", fmt)
    assert (status, err) == (0, "")
    assert english_words(out) == [], out
    assert "检查点：" in out and "个通过" in out
    if fmt == "text" and lesson in DESCENT:
        assert "第 1 次迭代" in out and "次迭代后：" in out
    if lesson in GRAPH and fmt == "text":
        assert "前向：" in out and "反向：梯度从输出流回各个输入" in out


def test_replay_in_chinese_reads_like_the_document(capsys):
    status, out, _ = run(capsys, "replay", "worked-example", "--steps", "2", "--lang", "zh")
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == "worked-example：举例说明：用梯度下降拟合 y = w·x（梯度下降，numpy，exact）"
    assert lines[1] == "α = 1/2，grad_scale = 1/28，共 2 次迭代"
    assert "第 2 次迭代    L(w_1) = 14" in lines
    assert "  3. w_2 = w_1 − α·grad = 1 − (-1/2) = 3/2" in lines
    assert "2 次迭代后：w_2 = 3/2，L(w_2) = 7/2" in lines
    line = checkpoint_lines("worked-example")
    assert f"  通过  第 {line[1]} 行：第 1 步：w 1 = 1，loss 14 = 14，grad -1 = -1" in lines
    assert f"  跳过  第 {line[3]} 行：未到达第 3 步：运行在第 2 步结束" in lines
    assert lines[-1] == "检查点：3 个通过，0 个失败，6 个跳过"
    # the tags take four cells whatever their script, so the line numbers line up
    from gdtutor.cjk import width
    tagged = [line for line in lines if line.startswith("  ") and "第" in line and "行：" in line]
    assert len({width(line[:line.index("第")]) for line in tagged}) == 1


def test_a_divergence_is_said_in_chinese(capsys):
    _, out, _ = run(capsys, "replay", "divergence", "--format", "summary", "--lang", "zh")
    assert "在第 510 步发散" in out and "发散于第 510 步 = 第 510 步" in out


def test_machine_formats_are_the_same_in_every_language(capsys):
    for argv in (("replay", "worked-example", "--format", "jsonl"),
                 ("replay", "backprop", "--format", "jsonl"),
                 ("check", "worked-example", "--lr", "1/4", "--format", "json"),
                 ("analyze", "grad-descent", "--format", "json")):
        en = run(capsys, *argv, "--lang", "en")
        zh = run(capsys, *argv, "--lang", "zh")
        assert en == zh, argv
        for line in en[1].splitlines():
            json.loads(line)


def test_check_keeps_ok_and_says_the_rest_in_chinese(capsys, monkeypatch):
    status, out, err = both_ways(capsys, monkeypatch, "check", *LESSONS)
    assert (status, err) == (0, "")
    assert out.splitlines() == [f"OK {lesson}" for lesson in LESSONS]
    status, out, _ = both_ways(capsys, monkeypatch, "check", "worked-example", "--lr", "1/4")
    assert status == 1 and english_words(out) == []
    first = out.splitlines()[0]
    line = checkpoint_lines("worked-example")[1]
    assert re.fullmatch(rf"失败 worked-example: .*worked-example\.yaml:{line}: 第 1 步：w 1/2 ≠ 1，"
                        r"loss 63/2 ≠ 14，grad -3/2 ≠ -1", first), first


def test_list_in_chinese(capsys, monkeypatch):
    status, out, _ = both_ways(capsys, monkeypatch, "list")
    assert status == 0 and english_words(out, ("gradDescent",)) == []
    assert len(out.splitlines()) == len(LESSONS) and "反向传播" in out


@pytest.mark.parametrize("lesson", DESCENT)
def test_analyze_in_chinese_has_no_english_word(capsys, monkeypatch, lesson):
    status, out, err = both_ways(capsys, monkeypatch, "analyze", lesson)
    assert (status, err) == (0, "")
    assert english_words(out) == [], out
    assert "预测：" in out and "梯度检验，w = " in out and "最大相对误差：" in out


def test_analyze_columns_line_up_in_chinese(capsys):
    from gdtutor.cjk import width
    _, out, _ = run(capsys, "analyze", "grad-descent", "--lang", "zh")
    lines = out.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("  权重")))
    table = lines[at:at + 3]
    assert {width(line) for line in table} == {width(table[1])}
    # each column ends where its header ends
    ends = [m.end() for m in re.finditer(r"\S+", table[1])]
    header_ends = []
    cells = 0
    for ch in table[0]:
        cells += width(ch)
        header_ends.append(cells)
    heads = [header_ends[m.end() - 1] for m in re.finditer(r"\S+", table[0])]
    assert heads[1:] == ends[1:]


def test_analyze_notes_are_chinese_and_the_json_keeps_english(capsys):
    _, out, _ = run(capsys, "analyze", "worked-example", "--lang", "zh")
    assert "注：L 是二次函数：取 h = 1 的中心差分是精确的" in out
    _, out, _ = run(capsys, "analyze", "worked-example", "--format", "json", "--lang", "zh")
    notes = json.loads(out)["gradient_check"]["notes"]
    assert notes == ["L is quadratic: the central difference with h = 1 is exact"]


def test_a_graph_lesson_refused_by_analyze_in_chinese(capsys):
    status, out, err = run(capsys, "analyze", "chain-rule", "--lang", "zh")
    assert status == 2 and out == "" and err.count("\n") == 1 and err.startswith("gdtutor: ")
    assert "是计算图课程：analyze 只用于梯度下降课程" in err
    assert english_words(err) == []


def _progress_file(tmp_path, monkeypatch) -> Path:
    from gdtutor.progress import ProgressLog
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv("GDTUTOR_PROGRESS", str(path))
    log = ProgressLog()
    log.reached("worked-example", 1)
    log.attempt("worked-example", 1, "weights", "1", correct=True, hint=False, try_=1)
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"v": 1, "user": "x"\n{bad\n')
    return path


def test_progress_and_report_in_chinese(capsys, monkeypatch, tmp_path):
    from gdtutor.cjk import width
    from gdtutor.progress import ProgressLog
    path = _progress_file(tmp_path, monkeypatch)
    user = ProgressLog().user
    status, out, err = both_ways(capsys, monkeypatch, "progress")
    assert status == 0
    lines = out.splitlines()
    assert lines[1].split() == ["课程", "已到达", "一次答对", "提示", "直接揭晓", "已完成", "最近时间"]
    assert english_words(out, (user,)) == [] and english_words(err) == []
    assert err.count("该行被截断或已损坏，已跳过（不是 JSON：") == 2
    # the right-aligned column "已到达" ends where its numbers end
    head_end = width(lines[1][:lines[1].index("已到达") + 3])
    row = next(line for line in lines if line.startswith("worked-example"))
    assert width(row[:row.index("1/20") + 4]) == head_end
    status, out, err = both_ways(capsys, monkeypatch, "report", str(tmp_path))
    assert status == 0 and out.split()[:3] == ["用户", "课程", "已到达"]
    assert english_words(out, (user,)) == [] and "gdtutor: 跳过了 2 行无效内容" in err
    _, out, _ = run(capsys, "report", str(tmp_path), "--format", "csv", "--lang", "zh")
    assert out.startswith("user,lesson,reached,attempts,first_try_correct")
    assert ",no," in out


def test_progress_reset_in_chinese(capsys, monkeypatch, tmp_path):
    path = _progress_file(tmp_path, monkeypatch)
    status, out, err = run(capsys, "progress", "--reset", "worked-exampl", "--lang", "zh")
    assert status == 2 and english_words(err, ("worked-exampl",)) == []
    assert err == (f"gdtutor: --reset: {path} 中没有课程“worked-exampl”"
                   "（你是不是要找“worked-example”？）\n")
    status, out, err = run(capsys, "progress", "--reset", "worked-example", "--yes", "--lang", "zh")
    assert status == 0 and out == f"已清除“worked-example”：从 {path} 中删除了 2 条事件\n"
    status, out, err = run(capsys, "progress", "--yes", "--lang", "zh")
    assert status == 2 and err == "gdtutor: --yes: 只能与 --reset LESSON 一起使用\n"


def test_report_of_a_missing_path_in_chinese(capsys, tmp_path):
    status, out, err = run(capsys, "report", str(tmp_path / "nothing"), "--lang", "zh")
    assert status == 2 and err == f"gdtutor: {tmp_path / 'nothing'}: 没有这个文件或文件夹\n"


@pytest.mark.parametrize("argv, said", [
    (("replay",), "gdtutor: 缺少以下参数：LESSON\n"),
    (("replay", "x", "--format", "q"),
     "gdtutor: 参数 --format：无效的选择：'q'（可选：'text', 'jsonl', 'summary'）\n"),
    (("list", "--bogus"), "gdtutor: 无法识别的参数：--bogus\n"),
    (("replay", "x", "--lr"), "gdtutor: 参数 --lr：需要一个参数值\n"),
])
def test_argparse_errors_in_chinese(capsys, monkeypatch, argv, said):
    status, out, err = both_ways(capsys, monkeypatch, *argv)
    assert (status, out, err) == (2, "", said)


@pytest.mark.parametrize("command", ["replay", "check", "analyze", "list", "progress", "report"])
def test_help_in_chinese(capsys, monkeypatch, command):
    with pytest.raises(SystemExit) as done:
        main([command, "--help", "--lang", "zh"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert out.startswith(f"用法： gdtutor {command} ")
    assert "\n选项：\n" in out and "显示此帮助信息并退出" in out
    assert english_words(out) == [], out


def test_the_tutor_s_own_help_in_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["--help", "--lang", "zh"])
    out = capsys.readouterr().out
    assert out.startswith("用法： gdtutor ") and "打开课程选择界面" in out
    assert english_words(out) == [], out


def test_usage_continuation_lines_keep_their_indent(capsys):
    with pytest.raises(SystemExit):
        main(["replay", "--help", "--lang", "zh"])
    zh = capsys.readouterr().out.splitlines()
    with pytest.raises(SystemExit):
        main(["replay", "--help", "--lang", "en"])
    en = capsys.readouterr().out.splitlines()
    from gdtutor.cjk import width
    assert width(zh[0].split("gdtutor")[0]) == len(en[0].split("gdtutor")[0]) == len("usage: ")
    assert zh[1:4] == en[1:4]          # the wrapped usage lines, as in English


def test_unknown_argparse_messages_pass_through():
    i18n.set_lang("zh")
    assert argparse_message("something new: x") == "something new: x"
    assert argparse_message("argument --x: expected 2 arguments") == "参数 --x：需要 2 个参数值"


def test_answer_refusals_and_feedback_in_chinese():
    i18n.set_lang("zh")
    refusals = []
    for text in ("abc", "[1, 2", "1/0", "", ", 1", "x" * 3000, " ".join(["1"] * 1001)):
        with pytest.raises(NotAnAnswer) as info:
            parse_answer(text)
        refusals.append(str(info.value))
    assert refusals[0] == "“abc”不是数：请输入一个数、一个分数（如 7/4），或用空格分隔的几个数"
    assert refusals[2] == "“1/0”除以了零"
    exact = Rule(True)
    said = [check(parse_answer(t), e, exact).feedback for t, e in [
        ("1 2", [1]), ("-1", [1]), ("3", [1]), ("0", [1]), ("1 1 1 1 1", [2, 2, 2, 2, 2]),
        ("-5", [1]), ("0.001", [0]), ("2", [1]), ("1/3", [1]), ("9/10", [1])]]
    assert said[0] == "应输入一个数，实际输入了两个"
    assert said[1] == "这个数的符号错了"
    assert said[4] == ("第一个数大约只有应有值的一半；第二个数大约只有应有值的一半；"
                       "第三个数大约只有应有值的一半；另外还有两个也不对")
    for text in refusals + said:
        assert text and english_words(text, ("abc", "x" * 17)) == [], text
        assert not any(c.isdigit() for c in text) or text in refusals
    lesson = next(le for le in builtin() if le.id == "worked-example")
    assert hint("step", lesson, k=0, weights=[F(0)], grad=[F(-2)]) == "α·grad = 1/2 · (−2) = ?"
    graph = next(le for le in builtin() if le.id == "chain-rule")
    assert hint("grads", graph).startswith("在 ") and english_words(hint("grads", graph)) == []


def test_answer_feedback_in_english_unchanged():
    i18n.set_lang("en")
    exact = Rule(True)
    assert check(parse_answer("1 2"), [1], exact).feedback == "Expected one number, got two"
    assert check(parse_answer("1 1 1 1 1"), [2] * 5, exact).feedback == (
        "The first number is about half what it should be; the second number is about half "
        "what it should be; the third number is about half what it should be; and two more")
    with pytest.raises(NotAnAnswer, match=r"^'abc' is not a number: type a number, a fraction "
                                          r"such as 7/4, or numbers separated by spaces$"):
        parse_answer("abc")


def test_bad_progress_lines_are_explained_in_chinese():
    i18n.set_lang("zh")
    reasons = []
    for line in ('{"v": 2}', "{", '{"v": 1, "user": "u", "lesson": "l", "time": "t", '
                 '"event": "x", "step": 0}', b"\xff", '[1] x', "[]"):
        with pytest.raises(ValueError) as info:
            parse_event(line)
        reasons.append(str(info.value))
    assert reasons[0] == "v：应为 1，实际为 2"
    assert reasons[1] == "该行被截断或已损坏，已跳过（不是 JSON：第 2 列处应有用双引号括起的属性名）"
    for reason in reasons:
        assert english_words(reason) == [], reason


ENGLISH = [
    (("replay", "worked-example", "--steps", "2"), [
        "worked-example: A worked example: y = w·x, step by step (descent, numpy, exact)",
        "α = 1/2, grad_scale = 1/28, 2 iterations",
        "iteration 2    L(w_1) = 14",
        "after 2 iterations: w_2 = 3/2, L(w_2) = 7/2",
        "  ok    line {s1}: step 1: w 1 = 1, loss 14 = 14, grad -1 = -1",
        "  skip  line {s3}: step 3 not reached: the run stops at step 2",
        "checkpoints: 3 passed, 0 failed, 6 skipped"]),
    (("replay", "divergence", "--format", "summary"), [
        "diverged at step 510", "  ok    line {d}: diverged at step 510 = 510"]),
    (("replay", "dynamic-graph"), [
        "forward: the graph is built as each operation runs",
        "backward: gradients flow from the output back to the inputs"]),
    (("analyze", "grad-descent"), [
        "forecast: converges", "the error shrinks 1000× in 4023 steps",
        "  weight            gradient      finite diff.           formula   rel. error",
        "max relative error: 7.25e-05"]),
]


@pytest.mark.parametrize("argv, lines", ENGLISH)
def test_english_output_is_as_it_was(capsys, argv, lines):
    status, out, _ = run(capsys, *argv, "--lang", "en")
    where = {**{f"s{k}": v for k, v in checkpoint_lines(argv[1]).items()}, "d": next(
        (c.line for c in resolve(argv[1]).checkpoints if c.diverged is not None), None)}
    for line in (line.format_map(where) for line in lines):
        assert line in out.splitlines(), line


def test_english_argparse_messages_are_as_they_were(capsys):
    _, _, err = run(capsys, "replay", "x", "--format", "q", "--lang", "en")
    assert err == ("gdtutor: argument --format: invalid choice: 'q' "
                   "(choose from 'text', 'jsonl', 'summary')\n")
    with pytest.raises(SystemExit):
        main(["list", "--help"])
    assert capsys.readouterr().out == (
        "usage: gdtutor list [-h] [--lang {en,zh}]\n\nList the built-in lessons.\n\n"
        "options:\n  -h, --help      show this help message and exit\n  --lang {en,zh}\n")


@pytest.mark.slow
def test_a_chinese_locale_makes_a_new_process_speak_chinese(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    env.update(LANG="zh_CN.UTF-8", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "gdtutor", "replay", "worked-example",
                           "--format", "summary"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0 and "检查点：" in done.stdout and english_words(done.stdout) == []
    env["LC_ALL"] = "C"
    done = subprocess.run([sys.executable, "-m", "gdtutor", "replay", "worked-example",
                           "--format", "summary"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert "checkpoints: " in done.stdout
