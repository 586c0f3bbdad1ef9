"""numpy for the tutor's start: its help texts are written after the first frame, not before.

The last thing numpy's import does is write the help text of every function and type it
defines in C: two modules, `numpy._core._add_newdocs` and `_add_newdocs_scalars`, a fifth of
the import and about 10 ms of the tutor's first frame, for help() pages no student asks for
then. `import_numpy` imports numpy with stand-ins for those two modules; `add_docs` imports
the real ones once the frame is out, and numpy ends as a plain import leaves it.

numpy's `_core/__init__.py` imports the two modules last and uses nothing from them; should a
release mention them anywhere else, numpy is imported as it is.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DOCS = ("numpy._core._add_newdocs", "numpy._core._add_newdocs_scalars")


class _StandIn(ModuleType):
    """An empty module in the place of one of numpy's help-text modules."""


def _core_init() -> str:
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.origin:
        return ""
    try:
        return (Path(spec.origin).parent / "_core" / "__init__.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def docs_can_wait(source: str) -> bool:
    """True when numpy's `_core/__init__.py` names the help-text modules only to import them."""
    return (source.count("_add_newdocs") == 2 and "    _add_newdocs,\n" in source
            and "    _add_newdocs_scalars,\n" in source)


def import_numpy() -> None:
    """Import numpy, its help texts left for `add_docs`."""
    if "numpy" in sys.modules or not docs_can_wait(_core_init()):
        importlib.import_module("numpy")
        return
    stand_ins = {name: _StandIn(name) for name in DOCS}
    sys.modules.update(stand_ins)
    importlib.import_module("numpy")


def add_docs() -> None:
    """Write numpy's help texts, if `import_numpy` left them out."""
    for name in DOCS:
        if isinstance(sys.modules.get(name), _StandIn):
            del sys.modules[name]
            try:
                importlib.import_module(name)
            except Exception:   # help texts only: a numpy that will not take them still computes
                sys.modules.pop(name, None)
