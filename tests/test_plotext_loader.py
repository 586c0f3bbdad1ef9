"""plotext imported without its help texts draws exactly what plotext imported as it is draws,
and a plotext the stand-ins do not fit is imported as it is."""
from __future__ import annotations

from fresh import fresh_json

# a loss curve and a parabola-like plot, built by plotext's own figure, as text with colours
DRAW = """
import json, sys
import plotext
from plotext._figure import _figure_class
out = []
for log in (False, True):
    fig = _figure_class()
    fig.plotsize(60, 16)
    fig.plot(list(range(1, 41)), [5 * 0.8 ** k + 1e-3 for k in range(40)], marker="braille")
    fig.scatter([3, 7], [2, 1])
    fig.title("loss")
    if log:
        fig.yscale("log")
    fig.xticks([0, 10, 20, 30, 40])
    out.append(fig.build())
print(json.dumps({"drawings": out, "docs_module": "plotext._doc" in sys.modules,
                  "plot_doc": bool(plotext.plot.__doc__)}))
"""


def run(prelude: str) -> dict:
    return fresh_json(prelude + DRAW)


def test_without_help_texts_plotext_draws_the_same():
    plain = run("")
    quick = run("import gdtutor.tui.plotext_loader\n")
    assert plain["docs_module"] and plain["plot_doc"]
    assert not quick["docs_module"] and not quick["plot_doc"]     # the help texts were skipped
    assert len(quick["drawings"]) == 2 and all("loss" in d for d in quick["drawings"])
    assert quick["drawings"] == plain["drawings"]


def test_stand_ins_that_do_not_fit_fall_back_to_plotext_as_it_is():
    # stand-ins missing the `add` plotext imports: its import fails, and plotext is imported
    # again with its own documentation modules
    prelude = """
import gdtutor.tui.plotext_loader as loader
from types import ModuleType
loader._forget_plotext()
loader._stand_ins = lambda: {n: ModuleType(n) for n in loader.DOCS}
loader._import()
"""
    fallback = run(prelude)
    assert fallback["docs_module"] and fallback["plot_doc"]
    assert fallback["drawings"] == run("")["drawings"]


def test_a_plotext_already_imported_is_left_as_it_is():
    kept = run("import plotext, gdtutor.tui.plotext_loader\n")
    assert kept["docs_module"] and kept["plot_doc"]
