"""CJK text: soft line breaks between Chinese characters join without a space, everything else
(code, tables, headings, lists, paragraph breaks, English) is left as it is; display width."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdtutor.cjk import is_wide, join_soft_breaks, ljust, rjust, width
from gdtutor.catalog import builtin


@pytest.mark.parametrize("text, joined", [
    # the three places the issue saw a stray space
    ("输入节点（**），\n以及输出节点", "输入节点（**），以及输出节点"),
    ("把它作为\n有效梯度", "把它作为有效梯度"),
    ("缩放 1/28）。\n取 α = 1/2", "缩放 1/28）。取 α = 1/2"),
    # full-width punctuation on either side
    ("梯度：\n学习率", "梯度：学习率"),
    ("迭代\n（第一步）", "迭代（第一步）"),
    # emphasis and curly quotes are looked through
    ("这是**梯度**\n的方向", "这是**梯度**的方向"),
    ("他说“\n发散”", "他说“发散”"),
    ("称为“梯度”\n下降", "称为“梯度”下降"),
    # several lines of one paragraph
    ("一\n二\n三", "一二三"),
    # trailing and leading spaces around the break go too
    ("损失函数 \n  的值", "损失函数的值"),
])
def test_a_break_between_chinese_characters_joins_without_a_space(text, joined):
    assert join_soft_breaks(text) == joined


@pytest.mark.parametrize("text", [
    "English\n中文",               # Latin before the break
    "中文\nEnglish",               # Latin after it
    "取 α = 1/2\n中文",            # a formula's digit before it
    "权重 w\n更新",                 # a variable name
    "`x**2`\n的梯度",              # inline code
    "中文\n2 个检查点",            # a number after it
    "he said “\nhello”",           # curly quotes between Latin words
])
def test_a_break_with_latin_text_on_either_side_keeps_its_space(text):
    assert join_soft_breaks(text) == text


@pytest.mark.parametrize("text", [
    "第一段\n\n第二段",                              # a paragraph break
    "```\n代码\n中文\n```",                          # a fenced code block
    "~~~~\n代码\n中文\n~~~~",
    "    代码\n    中文",                             # an indented code block
    "# 标题\n正文",                                   # an ATX heading
    "正文\n## 标题",
    "- 第一项\n- 第二项",                            # list items
    "1. 第一项\n2. 第二项",
    "正文\n- 列表项",
    "| 甲 | 乙 |\n| 丙 | 丁 |",                      # table rows
    "甲 | 乙\n丙 | 丁",                              # a table without outer pipes
    "中文  \n换行",                                   # a hard break (two spaces)
    "中文\\\n换行",                                   # a hard break (backslash)
    "标题\n===",                                      # a setext underline
    "中文\n---",
    "中文\n> 引用",                                   # a block quote starts
])
def test_block_structure_is_left_alone(text):
    assert join_soft_breaks(text) == text


def test_code_blocks_keep_every_line_while_prose_around_them_joins():
    text = "前面\n的文字\n\n```python\nx = 1\n中\n文\n```\n\n后面\n的文字"
    assert join_soft_breaks(text) == "前面的文字\n\n```python\nx = 1\n中\n文\n```\n\n后面的文字"


def test_a_fence_closes_only_with_its_own_marker():
    text = "````\n中\n```\n文\n````\n前\n后"
    assert join_soft_breaks(text) == "````\n中\n```\n文\n````\n前后"


def test_list_item_continuations_and_quotes_join_like_a_paragraph():
    assert join_soft_breaks("- 第一项的\n  后半句\n- 第二项") == "- 第一项的后半句\n- 第二项"
    assert join_soft_breaks("> 引用的\n> 后半句") == "> 引用的后半句"
    assert join_soft_breaks("> 引用的\n后半句") == "> 引用的后半句"        # a lazy continuation


def test_mixed_lines_join_only_where_both_sides_are_chinese():
    text = "用 numpy\n计算梯度，\n再用 torch\n验证"
    assert join_soft_breaks(text) == "用 numpy\n计算梯度，再用 torch\n验证"


def test_english_markdown_is_unchanged():
    for lesson in builtin():
        text = lesson.text.en
        if text:
            assert join_soft_breaks(text) == text


def test_the_chinese_lessons_keep_no_break_between_chinese_characters():
    # the built-in zh texts keep each paragraph on one line; any break left must be structure
    for lesson in builtin():
        text = lesson.text.zh
        if not text:
            continue
        joined = join_soft_breaks(text)
        # every break left has Latin, a digit, markup or a blank line on one side, or is structure
        for before, after in zip(joined.split("\n"), joined.split("\n")[1:]):
            if before.strip() and after.strip() and is_wide(before.rstrip()[-1]) \
                    and is_wide(after.lstrip()[0]):
                assert re.match(r"^\s*([-*+]|\d+[.)]|#|\||>)", after) or "|" in before + after \
                    or before.startswith("    ") or after.startswith("    "), (before, after)


_TEXT = st.text(alphabet=st.sampled_from(list("中文梯度，。：ab1 *-#|>`\n")), max_size=60)


@settings(derandomize=True, max_examples=300)
@given(_TEXT)
def test_joining_only_removes_newlines_and_the_spaces_around_them(text):
    joined = join_soft_breaks(text)
    assert joined.replace("\n", "").replace(" ", "").replace("\t", "") == \
        text.replace("\n", "").replace(" ", "").replace("\t", "")
    assert join_soft_breaks(joined) == joined               # nothing left to join


@pytest.mark.parametrize("text, cells", [
    ("abc", 3), ("梯度", 4), ("α = 1/2", 7), ("检查点：3", 9), ("", 0), ("ｗ", 2), ("é", 1),
])
def test_width_counts_wide_characters_twice(text, cells):
    assert width(text) == cells


def test_padding_lines_columns_up_in_cells():
    rows = [("权重", "梯度"), ("w1", "-7"), ("相对误差", "x")]
    lines = [ljust(a, 10) + "|" + rjust(b, 6) for a, b in rows]
    assert {width(line) for line in lines} == {17}
    assert all(width(line.split("|")[0]) == 10 for line in lines)
    assert ljust("很长的文字", 4) == "很长的文字" and rjust("ab", 1) == "ab"
