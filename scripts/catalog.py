"""Keep the message catalog in step with the code: `extract` lists the strings marked with `_`,
`N_` or `ngettext` in gdtutor/, `update` adds new ones to the zh catalog (untranslated) and
drops those no longer used, `compile` writes gdtutor.mo from every .po file.

    python scripts/catalog.py update    # then translate the empty msgstr entries
    python scripts/catalog.py compile
    python scripts/catalog.py check     # what the test checks: nothing stale, nothing missing

Needs Babel (in the `test` extra); gdtutor itself reads the compiled catalog with gettext.
"""
from __future__ import annotations

import datetime
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gdtutor"
MESSAGES = PACKAGE / "locale" / "zh" / "LC_MESSAGES"
COMPILED = MESSAGES / "gdtutor.mo"
NEW_ENTRIES = MESSAGES / "new.po"     # where `update` puts strings not yet in any .po file
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extract() -> dict[str, list[str]]:
    """msgid -> the files that use it (a plural is keyed by its singular)."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        with open(path, "rb") as f:
            for _line, message, _comments, _context in extract_from_file(
                    "python", path, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
                key = message[0] if isinstance(message, tuple) else message
                if key:
                    found.setdefault(key, []).append(str(path.relative_to(ROOT)))
    return found


def po_files() -> list[Path]:
    return sorted(MESSAGES.glob("*.po"))


def read(path: Path) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale="zh_Hans_CN", domain="gdtutor")


def merged() -> Catalog:
    """Every .po file's entries in one catalog (later files win on a duplicate)."""
    # fixed dates: the compiled catalog depends on the translations only
    catalog = Catalog(locale="zh_Hans_CN", domain="gdtutor", project="gdtutor",
                      charset="utf-8", fuzzy=False, creation_date=EPOCH, revision_date=EPOCH)
    for path in po_files():
        for message in read(path):
            if message.id:
                catalog[message.id] = message
    return catalog


def compiled_bytes() -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, merged(), use_fuzzy=False)
    return buffer.getvalue()


def problems() -> list[str]:
    """What is wrong with the catalog now: strings without a translation, a stale .mo."""
    out = []
    catalog = merged()
    for message_id, files in sorted(extract().items()):
        message = catalog.get(message_id)
        strings = message.string if message is not None else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or not all(strings) or message.fuzzy:
            out.append(f"no translation: {message_id!r} ({files[0]})")
    if not COMPILED.exists() or COMPILED.read_bytes() != compiled_bytes():
        out.append(f"{COMPILED.name} is stale: run python scripts/catalog.py compile")
    return out


def update() -> int:
    used = extract()
    known = merged()
    added = [m for m in used if m not in known]
    for path in po_files():
        catalog = read(path)
        for message in list(catalog):
            if message.id and message.id not in used:
                del catalog[message.id]
        _write(path, catalog)
    if added:
        catalog = read(NEW_ENTRIES) if NEW_ENTRIES.exists() else Catalog(
            locale="zh_Hans_CN", domain="gdtutor", charset="utf-8")
        for message_id in added:
            catalog.add(message_id, "")
        _write(NEW_ENTRIES, catalog)
    print(f"{len(added)} new strings" + (f" in {NEW_ENTRIES.relative_to(ROOT)}" if added else ""))
    return 0


def _write(path: Path, catalog: Catalog) -> None:
    with open(path, "wb") as f:
        write_po(f, catalog, omit_header=True, sort_output=True, no_location=True, width=0)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "extract":
        for message_id in extract():
            print(message_id)
        return 0
    if command == "update":
        return update()
    if command == "compile":
        COMPILED.write_bytes(compiled_bytes())
        return 0
    if command == "check":
        found = problems()
        for line in found:
            print(line)
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
