"""The TUI in Chinese: an app made with lang="zh" says everything in Chinese, on every screen a
student meets (picker, lesson screens, views, prompts, help, the α lab, predict mode, the
too-small message), keys, identifiers and numbers aside; the footer's words follow the app's
language, not the one in force when the classes were made; lesson text joins its soft line
breaks between Chinese characters."""
from __future__ import annotations

import re
import time

import pytest

from gdtutor import i18n
from gdtutor.catalog import builtin, resolve
from gdtutor.cjk import join_soft_breaks
from gdtutor.stepper import Stepper
from gdtutor.tui.app import GdtutorApp
from gdtutor.tui.lazy import readable
from screen_reader import record_notifications, screen_text
from test_i18n_cli import ALLOWED, LESSONS, english_words

SIZE = (80, 24)
# what stays in Latin letters on a Chinese screen: key names, identifiers, lesson content
KEYS_AND_NAMES = ("Enter", "Escape", "enter", "esc", "tab", "space", "PyTorch", "exact",
                  "numpy", "torch", "float64", "float32", "gdtutor", "sum")
# words the CLI's list allows (jsonl keys, commands) that are English words on a screen
SCREEN_WORDS = sorted(ALLOWED & {"text", "summary", "value", "loss", "check", "list", "lesson",
                                 "step", "time", "event", "field", "try", "user", "hint",
                                 "correct", "revealed", "attempt", "reached", "finished",
                                 "progress", "report", "usage", "replay", "analyze", "serve"})


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_lang("en")


def lesson_words(lesson_id: str) -> tuple[str, ...]:
    """The Latin words of a lesson's own Chinese text and title (its code, its names)."""
    lesson = resolve(lesson_id)
    text = " ".join((lesson.text.get("zh"), lesson.title.get("zh"), lesson.summary.get("zh")))
    return tuple(set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text)))


def english_on(text: str, also: tuple[str, ...] = ()) -> list[str]:
    """English words of the interface left in `text` (whole words are allowed, not parts)."""
    allowed = set(KEYS_AND_NAMES) | set(also)
    # a word of the lesson's own (its code) may be cut where its pane ends
    found = [w for w in english_words(text) if w not in allowed
             and not any(word.startswith(w) for word in also)]
    for ident in sorted(LESSONS, key=len, reverse=True):
        text = text.replace(ident, " ")
    found += [w for w in re.findall(r"[A-Za-z]+", text) if w in SCREEN_WORDS and w not in allowed]
    return found


def app_on(lesson_id: str | None, lang: str = "zh") -> GdtutorApp:
    stepper = Stepper(resolve(lesson_id)) if lesson_id else None
    return record_notifications(GdtutorApp(builtin(), stepper, lang=lang))


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


async def until(pilot, condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not drawn in time"
        await pilot.pause(0.05)


def test_the_word_check_finds_interface_english():
    assert english_on("n 前进 b back") == ["back"]
    assert english_on("第 3 步  step") == ["step"]
    assert english_on("按 Enter；Escape 取消  numpy · exact  v11") == []


# (lesson, keys, what is waited for once they are pressed)
WALK = [
    (None, (), None),
    ("worked-example", ("n", "n", "n"), None),
    ("worked-example", ("n", "2"), None),
    ("worked-example", ("3",), None),
    ("worked-example", ("n", "4"), None),
    ("worked-example", ("?",), None),
    ("worked-example", ("g",), None),
    ("worked-example", ("=",), None),
    ("worked-example", ("n", "e"), None),
    ("worked-example", ("s",), lambda app: getattr(app.screen, "runs", None) is not None),
    ("worked-example", ("c",), None),
    ("worked-example", ("p",), None),
    ("worked-example", ("p", "5", "enter"), None),
    ("worked-example", ("a", "full_stop"), None),
    ("matrix-form", ("n",), None),
    ("matrix-form", ("n", "?"), None),
    ("dynamic-graph", ("n", "n"), None),
    ("backprop", ("n", "n", "n", "n"), None),
    ("backprop", ("n", "n", "n", "n", "n", "n"), None),
    ("chain-rule", ("g",), None),
    ("divergence", ("g", "3", "0", "enter"), None),
]


@pytest.mark.parametrize("lesson_id, keys, drawn", WALK,
                         ids=[f"{w[0]}-{''.join(w[1]) or 'start'}" for w in WALK])
async def test_no_english_word_of_the_interface_on_any_screen(lesson_id, keys, drawn):
    app = app_on(lesson_id)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, *keys)
        if drawn is not None:
            await until(pilot, lambda: drawn(app))
            await pilot.pause()
        text = screen_text(app)
        also = lesson_words(lesson_id) if lesson_id else ()
        assert re.search(r"[\u4e00-\u9fff]", text)
        assert english_on(text, also) == [], text
        for message in app.notified:
            assert english_on(message, also) == [], message


async def test_the_too_small_message_in_chinese():
    app = app_on("worked-example")
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "请放大终端窗口" in text and "40×10" in text
        assert english_on(text) == []


async def test_the_app_sets_its_language_and_the_footer_follows_it():
    i18n.set_lang("en")
    app = app_on("worked-example", lang="zh")
    assert i18n.get_lang() == "zh" and app.lang == "zh"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "前进" in footer and "后退" in footer and "退出" in footer, footer
        assert "step" not in footer and "quit" not in footer
    # the same classes, an English app: the footer is English again
    app = app_on("worked-example", lang="en")
    assert i18n.get_lang() == "en"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "n step" in footer and "q quit" in footer and "前进" not in footer, footer


async def test_the_help_lists_the_keys_with_chinese_tooltips():
    app = app_on("worked-example")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = dict(app.keys_of(app.screen))
        assert rows["n space →"] == "前进一步（n、空格或 →）"
        assert rows["q"] == "退出 gdtutor"


@pytest.mark.parametrize("lesson_id", [None, "worked-example", "matrix-form", "backprop"])
async def test_the_whole_footer_fits_80_columns_in_chinese(lesson_id):
    app = app_on(lesson_id)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert footer.endswith("? 帮助 q 退出"), footer
        if lesson_id is not None:
            assert footer.startswith("n 前进 b 后退 r 重来 g 跳转"), footer


def test_lesson_text_joins_soft_breaks_between_chinese_characters():
    text = resolve("worked-example").text.get("zh")
    shown = readable(text)
    assert shown == join_soft_breaks(text)
    lines = text.split("\n")
    broken = [i for i in range(len(lines) - 1) if lines[i].strip() and lines[i + 1].strip()
              and re.search(r"[\u4e00-\u9fff，。）]$", lines[i].rstrip())
              and re.match(r"[\u4e00-\u9fff（]", lines[i + 1].lstrip())]
    for i in broken:       # each such break is gone: the two lines are one
        assert lines[i].rstrip() + lines[i + 1].lstrip() in shown
    # English and Chinese on either side of a break keep their space
    assert readable("用 numpy\ncompute 它") == "用 numpy\ncompute 它"
    assert readable("作为\n有效梯度") == "作为有效梯度"


async def test_the_markdown_view_shows_no_stray_space_between_chinese_lines():
    app = app_on("worked-example")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await press(pilot, "3")
        markdown = app.screen.query_one("#lesson-text")
        source = markdown.source
        assert source == join_soft_breaks(app.screen.lesson_markdown())
        assert not re.search(r"[\u4e00-\u9fff，。]\n[\u4e00-\u9fff]", source)
