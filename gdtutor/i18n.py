"""The message catalog: every string a user reads goes through `_`, in English or Chinese.

Catalogs are gettext's: `gdtutor/locale/zh/LC_MESSAGES/*.po` (one file an area, so they are
edited side by side) compiled into `gdtutor.mo` by `python scripts/catalog.py compile`; a test
fails when the compiled catalog is stale or a string has no translation. English is the source
text, so `en` needs no catalog. Write `_("…{name}…").format(name=...)`, never an f-string
inside `_`, so the catalog holds one entry per sentence.
"""
from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "gdtutor"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGS = ("en", "zh")

_current = "en"
_translations: dict[str, gettext.NullTranslations] = {}


def lang_from_env(environ=None) -> str:
    """The language the environment asks for: LC_ALL, then LC_MESSAGES, then LANG; else en."""
    environ = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def translation(lang: str) -> gettext.NullTranslations:
    """The catalog for `lang` (English, the source text, has none)."""
    found = _translations.get(lang)
    if found is None:
        if lang == "en":
            found = gettext.NullTranslations()
        else:
            found = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
        _translations[lang] = found
    return found


def set_lang(lang: str | None) -> str:
    """Make `lang` (or the environment's) the language of everything said from now on."""
    global _current
    _current = lang if lang in LANGS else lang_from_env()
    return _current


def get_lang() -> str:
    return _current


def _(message: str) -> str:
    """`message` in the current language."""
    return translation(_current).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message for `n`, in the current language."""
    return translation(_current).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for the catalog where it is defined; `_` translates it where it is shown."""
    return message
