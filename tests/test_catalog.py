"""The message catalog: every marked string translated, the compiled catalog in step with it."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gdtutor import i18n

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("babel")


def _catalog_tool():
    spec = importlib.util.spec_from_file_location("catalog_tool", ROOT / "scripts" / "catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalog = _catalog_tool()
FIELD = re.compile(r"\{[^{}]*\}")


def test_every_marked_string_is_translated_and_the_compiled_catalog_is_current():
    assert catalog.extract(), "no string is marked for translation"
    assert catalog.problems() == []


def test_translations_keep_every_placeholder():
    for message in catalog.merged():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert sorted(FIELD.findall(text)) == sorted(FIELD.findall(ids[0])), message.id


def test_a_stale_compiled_catalog_is_found(tmp_path, monkeypatch):
    stale = tmp_path / "gdtutor.mo"
    stale.write_bytes(catalog.COMPILED.read_bytes()[:-4])
    monkeypatch.setattr(catalog, "COMPILED", stale)
    assert any("stale" in line for line in catalog.problems())


def test_an_untranslated_string_is_found(monkeypatch):
    real = catalog.extract()
    monkeypatch.setattr(catalog, "extract",
                        lambda: {**real, "a sentence nobody translated": ["gdtutor/x.py"]})
    assert any("a sentence nobody translated" in line for line in catalog.problems())


def test_chinese_from_the_catalog_and_english_as_written():
    message = "internal error: {detail} (set GDTUTOR_DEBUG=1 for details)"
    try:
        i18n.set_lang("zh")
        zh = i18n._(message)
        i18n.set_lang("en")
        en = i18n._(message)
    finally:
        i18n.set_lang("en")
    assert en == message
    assert zh != message and "内部错误" in zh and "{detail}" in zh


@pytest.mark.parametrize("environ, lang", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"), ({"LC_MESSAGES": "zh_CN"}, "zh"), ({}, "en"),
])
def test_language_from_the_environment(environ, lang):
    assert i18n.lang_from_env(environ) == lang


def test_the_compiled_catalog_ships_inside_the_package():
    assert catalog.COMPILED.is_relative_to(ROOT / "gdtutor")
    done = subprocess.run([sys.executable, "-c", "import gdtutor.i18n as i, gettext; "
                           "print(gettext.find('gdtutor', i.LOCALE_DIR, ['zh']))"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip().endswith("gdtutor.mo"), done.stderr
