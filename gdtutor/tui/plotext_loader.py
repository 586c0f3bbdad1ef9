"""plotext and textual-plotext, imported without plotext's help texts.

plotext's import writes a coloured help text for each of its 150-odd functions: it parses
the texts of its `_doc` module, inspects every function's signature and colours each line.
That is two thirds of its import, about 15 ms of the tutor's start-up, for `plotext.doc`,
which the tutor never shows. While plotext is imported here, its two documentation modules
are stand-ins that record nothing; its drawing code is plotext's own, untouched
(tests/test_plot_drawing.py checks the cells against textual-plotext's own rendering).

Should a plotext release import anything else from them, the import fails at once, and
plotext is imported again as it is, with its help texts.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType

DOCS = ("plotext._doc", "plotext._doc_utils")


class _Nothing:
    """Any attribute is a function that does nothing (plotext.doc.plot(), ...)."""

    def __getattr__(self, name: str):
        return _ignore


def _ignore(*args, **kwargs) -> None:
    return None


def _stand_ins() -> dict[str, ModuleType]:
    docs = ModuleType("plotext._doc")
    utils = ModuleType("plotext._doc_utils")
    utils.documentation = _Nothing()   # plotext.doc
    utils.add = _ignore                # gives a function its help text
    return {"plotext._doc": docs, "plotext._doc_utils": utils}


def _forget_plotext() -> None:
    for name in [n for n in sys.modules if n == "plotext" or n.startswith("plotext.")]:
        del sys.modules[name]


def _import() -> None:
    if "plotext" in sys.modules:     # already imported, help texts and all
        return
    stand_ins = _stand_ins()
    sys.modules.update(stand_ins)
    try:
        importlib.import_module("plotext")
    except Exception:
        _forget_plotext()
        importlib.import_module("plotext")
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import()

from plotext import _utility as plotext_utility  # noqa: E402
from textual_plotext import PlotextPlot  # noqa: E402

__all__ = ["PlotextPlot", "plotext_utility"]
