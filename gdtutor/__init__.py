"""gdtutor: step through backpropagation and gradient descent, one iteration at a time.

The Python API (docs/api.md): `gdtutor.load`, `gdtutor.replay` and the types they return.
They are imported on first use, so `import gdtutor` alone imports neither numpy nor the
tutor's interface (Textual, Rich) nor torch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import GdtutorError

__version__ = "0.1.0"

_API = ("load", "replay", "Run", "Record", "State", "GraphNode", "Failure",
        "CheckpointResult", "Checkpoints", "Lesson")

__all__ = ["GdtutorError", "__version__", *_API]

if TYPE_CHECKING:
    from .api import (CheckpointResult, Checkpoints, Failure, GraphNode, Lesson, Record, Run,
                      State, load, replay)


def __getattr__(name: str):
    if name in _API:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'gdtutor' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
