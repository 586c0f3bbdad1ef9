"""The lesson API under its earlier name: the reader, the schema and the catalog are
gdtutor/yaml_reader.py, gdtutor/schema.py and gdtutor/catalog.py."""
from __future__ import annotations

from .catalog import builtin, lessons_dir, load, resolve, with_overrides
from .schema import parse_number

__all__ = ["builtin", "lessons_dir", "load", "parse_number", "resolve", "with_overrides"]
