"""What a fresh interpreter imports: `import gdtutor` and the headless commands (replay, check,
list) load none of textual, rich or torch; only the tutor needs the first two, and only the
torch backend the third. Each case runs `gdtutor.cli.main` in-process in an interpreter of its
own, with its output captured, then reads `sys.modules`."""
from __future__ import annotations

import pytest

from fresh import REPO, fresh_json

HEAVY = ("textual", "rich", "torch")
LESSON_FILE = REPO / "lessons" / "matrix-form.yaml"

RUN = """\
import contextlib, io, json, sys
from gdtutor.cli import main
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = main({argv!r})
loaded = sorted({{name.partition(".")[0] for name in sys.modules}} & {heavy!r})
print(json.dumps([status, out.getvalue(), err.getvalue(), loaded]))
"""


def test_importing_gdtutor_loads_no_textual_rich_or_torch():
    loaded = fresh_json("import json, sys, gdtutor\n"
                        "print(json.dumps(sorted({n.partition('.')[0] for n in sys.modules})))")
    assert "gdtutor" in loaded
    assert [name for name in HEAVY if name in loaded] == []


@pytest.mark.parametrize("argv, first_line", [
    (["replay", "worked-example"], None),
    (["replay", "grad-descent", "--format", "summary"], None),
    (["check", str(LESSON_FILE)], "OK matrix-form"),
    (["check", "worked-example"], "OK worked-example"),
    (["list"], None),
], ids=["replay", "replay-summary", "check-file", "check-id", "list"])
def test_headless_commands_load_no_textual_rich_or_torch(argv, first_line):
    status, out, err, loaded = fresh_json(RUN.format(argv=argv, heavy=set(HEAVY)))
    assert (status, err) == (0, ""), err
    assert out.strip(), "the command printed nothing"   # it ran, and did its work
    if first_line is not None:
        assert out.splitlines()[0] == first_line, out
    assert loaded == [], f"{' '.join(argv)} imported {loaded}"


def test_the_check_sees_what_the_tutor_loads():
    """The check above can fail: importing the tutor's app shows in `sys.modules` as textual
    and rich."""
    loaded = fresh_json("import json, sys\nimport gdtutor.tui.app\n"
                        "print(json.dumps(sorted({n.partition('.')[0] for n in sys.modules})))")
    assert {"textual", "rich"} <= set(loaded)
