"""Lesson files in, validated Lessons out: every error names the file, the line and the field."""
from __future__ import annotations

import difflib
import functools
import keyword
import math
import os
import re
import stat
import zlib
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple, NoReturn

from . import __version__
from .errors import GdtutorError
from .expr import FUNCTIONS, parse
from .model import BACKENDS, DTYPES, Checkpoint, Lesson, Linear, Text

MAX_BYTES = 1 << 20          # a lesson is a page of text, not a data set
MAX_VISITS = 200_000         # YAML nodes visited while converting; an alias counts every time
MAX_DEPTH = 32
MAX_FLOW_DEPTH = 4 * MAX_DEPTH  # past this, brackets are refused while scanning (see _Loader)
MAX_NUMBERS = 100_000
MAX_DIMS = 4
MAX_ITERATIONS = 10_000_000
MAX_EXACT_ITERATIONS = 20_000  # exact fractions grow with every step
MAX_NUMBER_TEXT = 100

KINDS = ("graph", "descent")
LOSSES = ("sse", "half_mse")
OBJECTIVES = {  # the linear form's sugar, in the expression language itself
    "sse": "sum((X @ w - y)**2)",
    "half_mse": "sum((X @ w - y)**2) / (2 * m)",
}

COMMON_KEYS = ("id", "title", "summary", "kind", "text", "backend", "dtype", "checkpoints")
GRAPH_KEYS = ("expression", "inputs")
LINEAR_KEYS = ("data", "bias", "loss", "init")
FREE_KEYS = ("objective", "params")
DESCENT_KEYS = LINEAR_KEYS + FREE_KEYS + ("lr", "grad_scale", "iterations")
ALL_KEYS = COMMON_KEYS + GRAPH_KEYS + DESCENT_KEYS
GRAPH_CHECKPOINT_KEYS = ("value", "grads", "tol")
DESCENT_CHECKPOINT_KEYS = ("step", "weights", "loss", "grad", "sse", "diverged", "tol")

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null")}
_ID = re.compile(r"[a-z0-9-]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a decimal with a bounded exponent, so that "1e999999999" cannot ask for a huge integer
_DECIMAL = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?"
_NUMBER = re.compile(rf"\s*({_DECIMAL})\s*(?:/\s*({_DECIMAL})\s*)?")


def parse_number(value) -> Fraction:
    """A number as a lesson or a flag writes it ("1/28", "-3", "0.5", 2, 0.01), exactly."""
    if isinstance(value, bool) or value is None:
        raise GdtutorError(f"expected a number, got {_show(value)}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise GdtutorError(f"expected a finite number, got {value}")
        return Fraction(repr(value))  # as written: 0.01 is 1/100, not the nearest binary float
    if isinstance(value, str):
        match = _NUMBER.fullmatch(value) if len(value) <= MAX_NUMBER_TEXT else None
        if not match:
            raise GdtutorError(f"expected a number, got {_show(value)}")
        top, bottom = match.group(1), match.group(2)
        denominator = Fraction(bottom) if bottom else Fraction(1)
        if denominator == 0:
            raise GdtutorError(f"division by zero in {_show(value)}")
        return Fraction(top) / denominator
    raise GdtutorError(f"expected a number, got {_show(value)}")


def _show(value) -> str:
    """A value as a message quotes it, short."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + (value if len(value) <= 40 else value[:37] + "...") + "'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return str(value)


def _suggest(word: str, choices) -> str:
    folded = {choice.lower(): choice for choice in choices}  # so that 'Y' finds 'y'
    close = difflib.get_close_matches(word.lower(), list(folded), n=1)
    return f" (did you mean '{folded[close[0]]}'?)" if close else ""


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


class _TooDeep(Exception):
    """Brackets nested far past MAX_DEPTH: refused while scanning, before the cost grows."""


class _Yaml(NamedTuple):
    """PyYAML and what the reader builds on it (see _yaml)."""

    yaml: object           # the module
    guarded: type          # the loader for a student's file
    builtin: type          # the loader for the files shipped with gdtutor
    scalars: object        # builds ints, floats and bools from scalar text, never objects


@functools.cache
def _yaml() -> _Yaml:
    """PyYAML, imported at the first file to parse rather than with this module: its package
    imports the whole loader and dumper (15-20 ms), which a built-in lesson read from the cache
    of trees never needs."""
    import yaml
    from yaml.constructor import SafeConstructor

    class _Loader(yaml.SafeLoader):
        """The safe loader, stopping runaway `[` and `{` nesting early: PyYAML's scanner spends
        time that grows with the square of the depth (seconds at a few hundred levels)."""

        def fetch_flow_collection_start(self, TokenClass):
            if self.flow_level >= MAX_FLOW_DEPTH:
                raise _TooDeep()
            super().fetch_flow_collection_start(TokenClass)

    # The lesson files shipped with gdtutor are parsed by libyaml when PyYAML has it (the same
    # nodes, ten times faster); a student's file always goes through the guarded _Loader.
    return _Yaml(yaml=yaml, guarded=_Loader,
                 builtin=getattr(yaml, "CSafeLoader", None) or _Loader,
                 scalars=SafeConstructor())


class _Node(NamedTuple):
    """A YAML value with its line: a scalar, a list of _Nodes, or a dict of key -> _Node."""

    line: int
    value: object
    key_lines: dict | None = None     # mappings: key -> line of the key


class _Reader:
    """Turns one file's YAML into _Nodes and _Nodes into a Lesson, failing with file:line: field."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.visits = 0
        self.numbers = 0
        self.lines: dict[str, int] = {}

    def fail(self, message: str, line: int | None = None, field: str | None = None) -> NoReturn:
        raise GdtutorError(message, file=self.label, line=line, field=field)

    # -- bytes and YAML --------------------------------------------------------------------

    def read_text(self, path: Path) -> str:
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            self.fail("no such file")
        except IsADirectoryError:
            self.fail("is a directory, not a lesson file")
        except PermissionError:
            self.fail("permission denied")
        except OSError as exc:
            self.fail(f"cannot read the file: {exc.strerror or exc}")
        if len(data) > MAX_BYTES:
            self.fail(f"the file is larger than {MAX_BYTES // 1024} KiB; a lesson must be smaller")
        if b"\0" in data:
            self.fail("not a text file (UTF-8 expected)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.fail("not a text file (UTF-8 expected)", data[:exc.start].count(b"\n") + 1)
        if not text.strip():
            self.fail("the file is empty")
        return text

    def compose(self, text: str, builtin: bool = False) -> _Node:
        found = _yaml()
        yaml = found.yaml
        try:
            root = yaml.compose(text, Loader=found.builtin if builtin else found.guarded)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = exc.problem or exc.context or "invalid YAML"
            if exc.context and exc.problem and "single document" in exc.context:
                what = "a lesson file holds one YAML document, but this one has more"
            self.fail(f"YAML syntax error: {what}", mark.line + 1 if mark else None)
        except yaml.reader.ReaderError as exc:
            char = exc.character
            shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
            self.fail(f"not a text file: the control character {shown} is not allowed in YAML",
                      text[:exc.position].count("\n") + 1)
        except yaml.YAMLError as exc:
            self.fail(f"YAML syntax error: {' '.join(str(exc).split())}")
        except (RecursionError, _TooDeep):
            self.fail(f"nested too deeply (the limit is {MAX_DEPTH} levels)")
        if root is None:
            self.fail("the file holds no lesson (only comments?)")
        try:
            return self.convert(root, 0, "")
        except RecursionError:  # a self-referencing alias, or nesting past Python's own limit
            self.fail(f"nested too deeply (the limit is {MAX_DEPTH} levels)")

    def convert(self, node, depth: int, field: str) -> _Node:
        """The node as _Nodes; counts visits so an alias bomb stops before it grows large."""
        line = node.start_mark.line + 1
        where = field or None
        self.visits += 1
        if self.visits > MAX_VISITS:
            self.fail(f"the file expands to more than {MAX_VISITS} values "
                      "(through YAML aliases?); refusing to read it", line, _outer(field))
        if depth > MAX_DEPTH:
            self.fail(f"nested too deeply (the limit is {MAX_DEPTH} levels)", line, _outer(field))
        nodes = _yaml().yaml.nodes
        if isinstance(node, nodes.ScalarNode):
            return _Node(line, self.scalar(node, line, where))
        if isinstance(node, nodes.SequenceNode):
            self.check_tag(node, _YAML + "seq", line, where)
            return _Node(line, [self.convert(item, depth + 1, f"{field}[{index}]")
                                for index, item in enumerate(node.value)])
        self.check_tag(node, _YAML + "map", line, where)
        values: dict[str, _Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, nodes.ScalarNode):
                self.fail("a key must be a plain name, not a list or mapping", key_line, where)
            if key_node.tag == _YAML + "merge":
                self.fail("merge keys ('<<') are not supported; write the keys out",
                          key_line, where)
            if key_node.tag not in _SCALAR_TAGS:
                self.fail(f"tag '{_short_tag(key_node.tag)}' is not allowed", key_line, where)
            key = key_node.value  # as written, so that `no:` or `1:` stays a name
            if key in values:
                self.fail(f"duplicate key '{key}' (first given on line {key_lines[key]})",
                          key_line, _join(field, key))
            key_lines[key] = key_line
            values[key] = self.convert(value_node, depth + 1, _join(field, key))
        return _Node(line, values, key_lines)

    def check_tag(self, node, allowed: str, line: int, field: str | None) -> None:
        if node.tag != allowed:
            dated = node.tag == _YAML + "timestamp"
            hint = " (quote the value to make it a string)" if dated else ""
            self.fail(f"tag '{_short_tag(node.tag)}' is not allowed{hint}", line, field)

    def scalar(self, node, line: int, field: str | None):
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            self.check_tag(node, _YAML + "str", line, field)
        if tag == _YAML + "str":
            return node.value
        if tag == _YAML + "null":
            return None
        found = _yaml()
        yaml, scalars = found.yaml, found.scalars
        build = {"bool": scalars.construct_yaml_bool, "int": scalars.construct_yaml_int,
                 "float": scalars.construct_yaml_float}[tag[len(_YAML):]]
        try:
            return build(node)
        except (ValueError, KeyError, IndexError, yaml.YAMLError):  # `!!int` alone: IndexError
            self.fail(f"'{node.value[:40]}' is not a valid {_short_tag(tag)}", line, field)

    # -- typed values ------------------------------------------------------------------------

    def record(self, field: str, line: int) -> None:
        self.lines.setdefault(field, line)

    def mapping(self, node: _Node, field: str, allowed, required=()) -> dict[str, _Node]:
        """The node as a mapping whose keys are all allowed and all required keys present."""
        if not isinstance(node.value, dict):
            self.fail(f"expected a mapping of keys, got {_show(node.value)}", node.line,
                      field or None)
        for key, key_line in node.key_lines.items():
            if key not in allowed:
                self.fail(f"unknown key '{key}'{_suggest(key, allowed)}", key_line,
                          _join(field, key))
        missing = [k for k in required if k not in node.value]
        if missing:
            self.fail(f"missing required key{'s' if len(missing) > 1 else ''} "
                      + ", ".join(f"'{k}'" for k in missing), node.line, field or None)
        for key, key_line in node.key_lines.items():
            self.record(_join(field, key), key_line)
        return node.value

    def string(self, node: _Node, field: str) -> str:
        value = node.value
        if value is None or isinstance(value, (list, dict)):
            self.fail(f"expected a string, got {_show(value)}", node.line, field)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def text(self, node: _Node, field: str, one_line: bool = False) -> Text:
        """A string for both languages, or {en: ..., zh: ...}."""
        if isinstance(node.value, dict):
            parts = self.mapping(node, field, ("en", "zh"))
            en = self.string(parts["en"], field + ".en") if "en" in parts else ""
            zh = self.string(parts["zh"], field + ".zh") if "zh" in parts else ""
        else:
            en = zh = self.string(node, field)
        tidy = str.strip if one_line else str.rstrip  # a block scalar ends in a newline
        en, zh = tidy(en), tidy(zh)
        if not (en or zh):
            self.fail("expected some text, got an empty string", node.line, field)
        if one_line and ("\n" in en or "\n" in zh):
            self.fail("expected one line", node.line, field)
        return Text(en=en, zh=zh)

    def choice(self, node: _Node, field: str, options) -> str:
        value = self.string(node, field)
        if value not in options:
            self.fail(f"expected one of {', '.join(options)}, got '{value}'"
                      f"{_suggest(value, options)}", node.line, field)
        return value

    def boolean(self, node: _Node, field: str) -> bool:
        if not isinstance(node.value, bool):
            self.fail(f"expected true or false, got {_show(node.value)}", node.line, field)
        return node.value

    def number(self, node: _Node, field: str) -> Fraction:
        self.numbers += 1
        if self.numbers > MAX_NUMBERS:
            self.fail(f"more than {MAX_NUMBERS} numbers in one lesson", node.line, field)
        try:
            return parse_number(node.value)
        except GdtutorError as exc:
            raise exc.located(file=self.label, line=node.line, field=field) from None

    def integer(self, node: _Node, field: str, low: int, high: int) -> int:
        value = self.number(node, field)
        if value.denominator != 1:
            self.fail(f"expected a whole number, got {value}", node.line, field)
        if not low <= value <= high:
            self.fail(f"expected a whole number from {low} to {high}, got {value}",
                      node.line, field)
        return int(value)

    def nonnegative(self, node: _Node, field: str) -> Fraction:
        value = self.number(node, field)
        if value < 0:
            self.fail(f"expected a number of at least 0, got {value}", node.line, field)
        return value

    def array(self, node: _Node, field: str, depth: int = 0):
        """A number, or nested lists of numbers as nested tuples of Fractions (not ragged)."""
        if not isinstance(node.value, list):
            return self.number(node, field)
        if depth >= MAX_DIMS:
            self.fail(f"more than {MAX_DIMS} dimensions", node.line, field)
        if not node.value:
            self.fail("expected numbers, got an empty list", node.line, field)
        items = [self.array(item, field, depth + 1) for item in node.value]
        first = _shape(items[0])
        for index, (item, item_node) in enumerate(zip(items, node.value)):
            if _shape(item) != first:
                self.fail(f"ragged list: item {index + 1} has shape {_shape_text(_shape(item))} "
                          f"where item 1 has {_shape_text(first)}", item_node.line, field)
        return tuple(items)

    def vector(self, node: _Node, field: str) -> tuple[Fraction, ...]:
        """A flat list of numbers (nested lists are flattened; one number is a list of one)."""
        return tuple(_flatten(self.array(node, field)))

    def names(self, node: _Node, field: str) -> tuple[tuple[str, object], ...]:
        """name -> number or nested list, in order, the names fit for an expression."""
        if not isinstance(node.value, dict) or not node.value:
            self.fail(f"expected a mapping of names to values, got {_show(node.value)}",
                      node.line, field)
        out = []
        for name, value in node.value.items():
            line = node.key_lines[name]
            if not _NAME.fullmatch(name) or keyword.iskeyword(name):
                self.fail(f"'{name}' is not a valid name (letters, digits and _; "
                          "not starting with a digit)", line, _join(field, name))
            if name in FUNCTIONS:
                self.fail(f"'{name}' is the name of a function; choose another name",
                          line, _join(field, name))
            self.record(_join(field, name), line)
            out.append((name, self.array(value, _join(field, name))))
        return tuple(out)

    def expression(self, node: _Node, field: str, names):
        source = self.string(node, field)
        try:
            return parse(source, names)
        except GdtutorError as exc:
            raise exc.located(file=self.label, line=node.line, field=field) from None

    # -- the lesson --------------------------------------------------------------------------

    def lesson(self, root: _Node, source: Path) -> Lesson:
        top = self.mapping(root, "", ALL_KEYS, ("id", "title", "kind"))
        kind = self.choice(top["kind"], "kind", KINDS)
        own = GRAPH_KEYS if kind == "graph" else DESCENT_KEYS
        for key in top:
            if key not in COMMON_KEYS and key not in own:
                other = "descent" if kind == "graph" else "graph"
                self.fail(f"'{key}' belongs to {other} lessons, not to a {kind} lesson",
                          root.key_lines[key], key)
        lesson_id = self.string(top["id"], "id")
        if not _ID.fullmatch(lesson_id) or len(lesson_id) > 64:
            self.fail(f"'{lesson_id}' is not a valid id: use a-z, 0-9 and '-' only",
                      top["id"].line, "id")
        fields = dict(
            id=lesson_id,
            title=self.text(top["title"], "title", one_line=True),
            kind=kind,
            source=source,
        )
        if "summary" in top:
            fields["summary"] = self.text(top["summary"], "summary", one_line=True)
        if "text" in top:
            fields["text"] = self.text(top["text"], "text")
        backend = fields["backend"] = (self.choice(top["backend"], "backend", BACKENDS)
                                       if "backend" in top else "numpy")
        dtype = fields["dtype"] = (self.choice(top["dtype"], "dtype", DTYPES)
                                   if "dtype" in top else "float64")
        if backend == "torch" and dtype == "exact":
            self.fail("exact arithmetic runs on the numpy backend only",
                      top["dtype"].line, "dtype")
        if kind == "graph":
            fields.update(self.graph(root, top))
        else:
            fields.update(self.descent(root, top, dtype))
        fields["lines"] = tuple(self.lines.items())
        return Lesson(**fields)

    def graph(self, root: _Node, top: dict[str, _Node]) -> dict:
        missing = [k for k in GRAPH_KEYS if k not in top]
        if missing:
            self.fail(f"missing required key '{missing[0]}' (a graph lesson needs it)",
                      root.line, None)
        inputs = self.names(top["inputs"], "inputs")
        names = [name for name, _ in inputs]
        expression = self.expression(top["expression"], "expression", names)
        checkpoints = []
        for field, node in self.items(top.get("checkpoints"), "checkpoints"):
            keys = self.mapping(node, field, GRAPH_CHECKPOINT_KEYS + DESCENT_CHECKPOINT_KEYS)
            self.only(node, keys, field, GRAPH_CHECKPOINT_KEYS, "graph")
            value = self.array(keys["value"], field + ".value") if "value" in keys else None
            grads = None
            if "grads" in keys:
                grads_node = keys["grads"]
                for name, line in (grads_node.key_lines or {}).items():
                    if name not in names:
                        self.fail(f"'{name}' is not an input{_suggest(name, names)}; "
                                  f"the inputs are {', '.join(names)}", line,
                                  f"{field}.grads.{name}")
                named = self.mapping(grads_node, field + ".grads", names)
                grads = tuple((name, self.array(v, f"{field}.grads.{name}"))
                              for name, v in named.items())
            if value is None and grads is None:
                self.fail("a checkpoint needs 'value' or 'grads'", node.line, field)
            checkpoints.append(Checkpoint(line=node.line, value=value, grads=grads,
                                          tol=self.tol(keys, field)))
        return dict(expression=expression, params=inputs, checkpoints=tuple(checkpoints))

    def descent(self, root: _Node, top: dict[str, _Node], dtype: str) -> dict:
        for key in ("lr", "iterations"):
            if key not in top:
                self.fail(f"missing required key '{key}' (a descent lesson needs it)",
                          root.line, None)
        if ("data" in top) == ("objective" in top):
            self.fail("a descent lesson needs 'data' (a linear model) or 'objective' "
                      "(a free expression)" + (", not both" if "data" in top else ""),
                      root.line, None)
        iterations = self.integer(top["iterations"], "iterations", 1, MAX_ITERATIONS)
        if dtype == "exact" and iterations > MAX_EXACT_ITERATIONS:
            self.fail(f"at most {MAX_EXACT_ITERATIONS} with exact arithmetic (exact fractions "
                      f"grow with every step), got {iterations}", top["iterations"].line,
                      "iterations")
        fields = dict(
            lr=self.number(top["lr"], "lr"),
            grad_scale=self.number(top["grad_scale"], "grad_scale") if "grad_scale" in top
            else Fraction(1),
            iterations=iterations,
        )
        fields.update(self.linear(top) if "data" in top else self.free(top))
        linear = fields.get("linear") is not None
        size = sum(len(_flatten(value)) for _, value in fields["params"])
        checkpoints = []
        for field, node in self.items(top.get("checkpoints"), "checkpoints"):
            checkpoints.append(self.descent_checkpoint(node, field, size, iterations, linear))
        fields["checkpoints"] = tuple(checkpoints)
        return fields

    def linear(self, top: dict[str, _Node]) -> dict:
        for key in FREE_KEYS:
            if key in top:
                self.fail(f"'{key}' goes with 'objective'; a linear lesson (with 'data') "
                          "has 'init' instead", self.lines[key], key)
        data = self.mapping(top["data"], "data", ("X", "y"), ("X", "y"))
        X = self.array(data["X"], "data.X")
        if not isinstance(X, tuple) or len(_shape(X)) > 2:
            self.fail("expected a list of rows (or a flat list for one feature)",
                      data["X"].line, "data.X")
        rows = tuple(row if isinstance(row, tuple) else (row,) for row in X)
        m, d = len(rows), len(rows[0])
        y = self.array(data["y"], "data.y")
        if isinstance(y, tuple) and len(_shape(y)) == 2 and _shape(y)[1] == 1:
            y = tuple(v for (v,) in y)  # a column, as the document's y.reshape(m, 1)
        if not isinstance(y, tuple) or len(_shape(y)) != 1:
            self.fail("expected a flat list of targets", data["y"].line, "data.y")
        if len(y) != m:
            self.fail(f"expected {m} value{'s' if m != 1 else ''} (one per row of X), "
                      f"got {len(y)}", data["y"].line, "data.y")
        bias = self.boolean(top["bias"], "bias") if "bias" in top else False
        if bias:
            rows = tuple(row + (Fraction(1),) for row in rows)
        n = d + bias
        if "init" in top:
            init = self.vector(top["init"], "init")
            if len(init) != n:
                per = "one per column of X" + (", plus one for the bias" if bias else "")
                self.fail(f"expected {n} value{'s' if n != 1 else ''} ({per}), got {len(init)}",
                          top["init"].line, "init")
        else:
            init = (Fraction(0),) * n
        loss = self.choice(top["loss"], "loss", LOSSES) if "loss" in top else "half_mse"
        objective = parse(OBJECTIVES[loss], ("X", "y", "w", "m"))
        return dict(
            expression=objective,
            params=(("w", init),),
            constants=(("X", rows), ("y", y), ("m", Fraction(m))),
            linear=Linear(X=rows, y=y, bias=bias, loss=loss),
        )

    def free(self, top: dict[str, _Node]) -> dict:
        for key in LINEAR_KEYS:
            if key in top:
                self.fail(f"'{key}' goes with 'data' (a linear lesson), not with 'objective'",
                          self.lines[key], key)
        if "params" not in top:
            self.fail("a lesson with 'objective' needs 'params' (name: initial value)",
                      self.lines["objective"], "objective")
        params = self.names(top["params"], "params")
        objective = self.expression(top["objective"], "objective", [n for n, _ in params])
        return dict(expression=objective, params=params)

    def descent_checkpoint(self, node: _Node, field: str, size: int, iterations: int,
                           linear: bool) -> Checkpoint:
        keys = self.mapping(node, field, GRAPH_CHECKPOINT_KEYS + DESCENT_CHECKPOINT_KEYS)
        self.only(node, keys, field, DESCENT_CHECKPOINT_KEYS, "descent")
        if "diverged" in keys:
            others = [k for k in keys if k not in ("diverged", "tol")]
            if others:
                self.fail(f"'diverged' stands alone in its checkpoint; move '{others[0]}' "
                          "to a checkpoint of its own", node.key_lines[others[0]], field)
            return Checkpoint(line=node.line, diverged=self.integer(
                keys["diverged"], field + ".diverged", 0, iterations))
        if "step" not in keys:
            self.fail("a checkpoint needs 'step' (or 'diverged')", node.line, field)
        if not any(k in keys for k in ("weights", "loss", "grad", "sse")):
            self.fail("a checkpoint needs something to check: weights, loss, grad or sse",
                      node.line, field)
        if "sse" in keys and not linear:
            self.fail("'sse' applies only to a linear lesson (with 'data')",
                      node.key_lines["sse"], field + ".sse")
        found = dict(line=node.line, tol=self.tol(keys, field),
                     step=self.integer(keys["step"], field + ".step", 0, iterations))
        for key in ("weights", "grad"):
            if key in keys:
                values = self.vector(keys[key], f"{field}.{key}")
                if len(values) != size:
                    self.fail(f"expected {size} value{'s' if size != 1 else ''} (one per weight), "
                              f"got {len(values)}", keys[key].line, f"{field}.{key}")
                found[key] = values
        for key in ("loss", "sse"):
            if key in keys:
                found[key] = self.number(keys[key], f"{field}.{key}")
        return Checkpoint(**found)

    def only(self, node: _Node, keys, field: str, allowed, kind: str) -> None:
        for key in keys:
            if key not in allowed:
                self.fail(f"'{key}' is not checked in a {kind} lesson; use "
                          + ", ".join(allowed), node.key_lines[key], f"{field}.{key}")

    def tol(self, keys: dict[str, _Node], field: str) -> Fraction | None:
        return self.nonnegative(keys["tol"], field + ".tol") if "tol" in keys else None

    def items(self, node: _Node | None, field: str):
        """(field[i], node) for each item of an optional list."""
        if node is None or node.value is None:
            return []
        if not isinstance(node.value, list):
            self.fail(f"expected a list, got {_show(node.value)}", node.line, field)
        out = []
        for index, item in enumerate(node.value):
            self.record(f"{field}[{index}]", item.line)
            out.append((f"{field}[{index}]", item))
        return out


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _outer(field: str) -> str | None:
    """`inputs.x` for `inputs.x[0][0][0]...`: where a runaway nesting starts."""
    return field.split("[")[0] or None


def _shape(value) -> tuple[int, ...]:
    shape = []
    while isinstance(value, tuple):
        shape.append(len(value))
        value = value[0]
    return tuple(shape)


def _shape_text(shape) -> str:
    return "a number" if not shape else "×".join(map(str, shape))


def _flatten(value) -> list:
    if not isinstance(value, tuple):
        return [value]
    return [x for item in value for x in _flatten(item)]


def _probe(lesson: Lesson, label: str, dtype: str | None = None, field: str | None = None,
           line: int | None = None) -> None:
    """Evaluate the lesson once, so that a shape mismatch is a load error, not a crash later."""
    from .numpy_backend import probe
    if field is None:
        field = ("expression" if lesson.kind == "graph"
                 else "data" if lesson.linear is not None else "objective")
        line = lesson.line_of(field)
    try:
        probe(lesson, dtype)
    except GdtutorError as exc:
        raise exc.located(file=label, line=line, field=field) from None
    except (ArithmeticError, ValueError, MemoryError, RecursionError) as exc:
        raise GdtutorError(f"cannot be computed: {exc}", file=label, line=line,
                           field=field) from None


# -- the cache of built-in trees ---------------------------------------------------------------
#
# The _Node trees of the files shipped with gdtutor (lessons/index.yaml and each lesson) are
# kept as JSON in $XDG_CACHE_HOME/gdtutor/ (~/.cache/gdtutor/), so that opening a built-in
# lesson parses no YAML and imports no PyYAML. An entry stands for its file only while the
# file's size, mtime and CRC-32 and gdtutor's version all match; a student's file is never kept,
# as it is edited while it runs. The cache is only a shortcut: when it is missing, unreadable,
# malformed or cannot be written, the YAML is parsed as if there were none, silently. JSON
# rather than pickle, so that reading it can run no code. GDTUTOR_NO_CACHE=1 turns it off.

CACHE_FORMAT = 1            # raise when _Reader.convert or the layout of an entry changes
MAX_CACHE_BYTES = 8 << 20   # the built-in trees take tens of KiB; past this it is not a cache

_cache_seen: dict[str, tuple] = {}   # cache file -> (its stat, its entries) when last read


def _cache_file() -> Path | None:
    """The cache's one file, or None when GDTUTOR_NO_CACHE is set or there is no home."""
    if os.environ.get("GDTUTOR_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):      # unset, or relative, which the XDG spec says to ignore
        base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):  # no HOME and no password entry
            return None
    return Path(base, "gdtutor", f"lessons-v{CACHE_FORMAT}.json")


def _stamp(path: Path) -> dict | None:
    """What an entry must hold to stand for the file as it is now; None if it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
            status = os.fstat(f.fileno())
    except OSError:
        return None
    # the CRC as well: two writes within one clock tick can leave size and mtime alike
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "crc32": zlib.crc32(data),
            "gdtutor": __version__}


def _cache_entries(cache: Path) -> dict:
    """The cache's entries (file -> entry), or {}; read again only when the file has changed."""
    try:
        # O_NONBLOCK: a FIFO put where the cache should be must not hang the start
        fd = os.open(cache, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_CACHE_BYTES:
                return {}
            version = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
            seen = _cache_seen.get(str(cache))
            if seen is not None and seen[0] == version:
                return seen[1]
            import json
            entries = json.loads(f.read(MAX_CACHE_BYTES + 1))
    except (OSError, ValueError, RecursionError):  # RecursionError: brackets nested too deep
        return {}
    if not isinstance(entries, dict):
        return {}
    _cache_seen[str(cache)] = (version, entries)
    return entries


def _cached_tree(cache: Path, key: str, stamp: dict) -> _Node | None:
    entry = _cache_entries(cache).get(key)
    if not isinstance(entry, dict) or any(entry.get(k) != v for k, v in stamp.items()):
        return None
    try:
        return _tree_from_json(entry.get("tree"))
    except (ValueError, RecursionError):
        return None


def _keep_tree(cache: Path, key: str, stamp: dict, tree: _Node) -> None:
    """Add the entry to the cache, dropping those whose files have gone or changed (a copied
    folder, an older install); replaced whole, so that a reader sees the old file or the new."""
    # a name of its own (O_EXCL), so that writers at once never share a half-written file;
    # not tempfile, whose import costs more than the rest of this write
    temporary = cache.with_name(f"{cache.name}.{os.urandom(6).hex()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:   # a read-only or full disk, a file where a folder should be: nothing kept
        return
    try:
        with open(fd, "w", encoding="ascii") as f:
            import json
            entries = {k: e for k, e in _cache_entries(cache).items()
                       if k != key and _unchanged(k, e)}
            entries[key] = dict(stamp, tree=_tree_to_json(tree))
            f.write(json.dumps(entries, separators=(",", ":")))
        os.replace(temporary, cache)
    except (OSError, ValueError, RecursionError):  # ValueError: an int too long to write
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _unchanged(path: str, entry) -> bool:
    try:
        status = os.stat(path)
    except (OSError, ValueError):   # ValueError: a NUL in a (corrupt) key
        return False
    return (isinstance(entry, dict) and entry.get("size") == status.st_size
            and entry.get("mtime_ns") == status.st_mtime_ns)


def _tree_to_json(node: _Node) -> list:
    """[line, value]: a scalar as it is, a list of [line, value], or {key: [key line, [line,
    value]]}; JSON keeps ints, floats (inf and nan too), strings and key order as they were."""
    value = node.value
    if isinstance(value, list):
        value = [_tree_to_json(item) for item in value]
    elif isinstance(value, dict):
        value = {key: [node.key_lines[key], _tree_to_json(item)] for key, item in value.items()}
    return [node.line, value]


def _tree_from_json(item, depth: int = 0) -> _Node:
    """The _Node _tree_to_json wrote; ValueError for anything else."""
    if (depth > MAX_DEPTH or type(item) is not list or len(item) != 2
            or type(item[0]) is not int):
        raise ValueError("not a cached tree")
    line, value = item
    if type(value) is list:
        return _Node(line, [_tree_from_json(child, depth + 1) for child in value])
    if type(value) is not dict:
        return _Node(line, value)  # JSON has no other kinds of value than a scalar
    values: dict[str, _Node] = {}
    key_lines: dict[str, int] = {}
    for key, pair in value.items():
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not int:
            raise ValueError("not a cached tree")
        key_lines[key] = pair[0]
        values[key] = _tree_from_json(pair[1], depth + 1)
    return _Node(line, values, key_lines)


def _read(path: Path, label: str, builtin: bool = False) -> tuple[_Reader, _Node]:
    """The file's tree; a built-in file's from the cache when it holds the file as it is now."""
    reader = _Reader(label)
    cache = _cache_file() if builtin else None
    if cache is None:
        return reader, reader.compose(reader.read_text(path), builtin)
    key, stamp = os.path.abspath(path), _stamp(path)
    tree = _cached_tree(cache, key, stamp) if stamp is not None else None
    if tree is None:
        tree = reader.compose(reader.read_text(path), builtin)
        if stamp is not None and _stamp(path) == stamp:   # not changed while it was parsed
            _keep_tree(cache, key, stamp, tree)
    return reader, tree


def load(path: str | Path, *, _builtin: bool = False) -> Lesson:
    """Read and validate one lesson file; raise GdtutorError (file, line, field) on any problem."""
    label = str(path)
    reader, root = _read(Path(path), label, _builtin)
    lesson = reader.lesson(root, Path(path))
    _probe(lesson, label)
    return lesson


def lessons_dir() -> Path:
    """Where the built-in lessons live: inside the installed package, else the repository's."""
    inside = Path(__file__).parent / "lessons"
    return inside if inside.is_dir() else Path(__file__).parent.parent / "lessons"


@functools.cache
def _index(folder: Path) -> tuple[str, ...]:
    """The lesson files lessons/index.yaml lists, in order, checked against the folder: every
    file listed once and present, every file present listed. Reading it loads no lesson."""
    index = folder / "index.yaml"
    reader, root = _read(index, str(index), builtin=True)
    listed = reader.mapping(root, "", ("lessons",), ("lessons",))["lessons"]
    names: list[str] = []
    for field, node in reader.items(listed, "lessons"):
        name = reader.string(node, field)
        if "/" in name or "\\" in name or not name.endswith(".yaml"):
            reader.fail(f"expected a file name ending in .yaml, got '{name}'", node.line, field)
        if name in names:
            reader.fail(f"'{name}' is listed twice", node.line, field)
        if not (folder / name).is_file():
            reader.fail(f"'{name}' is listed but there is no such file", node.line, field)
        names.append(name)
    on_disk = sorted(p.name for p in folder.iterdir()
                     if p.suffix in (".yaml", ".yml") and p.name != index.name)
    unlisted = [name for name in on_disk if name not in names]
    if unlisted:
        reader.fail(f"'{unlisted[0]}' is in {folder} but not listed", listed.line, "lessons")
    return tuple(names)


@functools.cache
def _builtin_lesson(folder: Path, name: str, order: int) -> Lesson:
    """One built-in lesson, numbered by its place in the index (loaded once, then shared)."""
    lesson = load(folder / name, _builtin=True)
    if lesson.id != Path(name).stem:
        raise GdtutorError(f"id '{lesson.id}' must match the file name '{name}'",
                           file=str(folder / name), line=lesson.line_of("id"), field="id")
    return lesson._replace(order=order)


@functools.cache
def _builtin() -> tuple[Lesson, ...]:
    folder = lessons_dir()
    return tuple(_builtin_lesson(folder, name, order)
                 for order, name in enumerate(_index(folder), start=1))


def builtin() -> list[Lesson]:
    """Every built-in lesson, in the order of lessons/index.yaml."""
    return list(_builtin())


def resolve(arg: str) -> Lesson:
    """A built-in lesson by id, or a lesson file by its .yaml/.yml path.

    A built-in id reads the index and that one lesson, not the others (the same Lesson object
    as builtin() gives)."""
    if arg.lower().endswith((".yaml", ".yml")):
        return load(arg)
    folder = lessons_dir()
    names = _index(folder)
    ids = [Path(name).stem for name in names]   # a lesson's id is its file's name
    if arg in ids:
        order = ids.index(arg) + 1
        return _builtin_lesson(folder, names[order - 1], order)
    raise GdtutorError(f"unknown lesson '{arg}'{_suggest(arg, ids)}: not a built-in id "
                       "or a .yaml file (try 'gdtutor list')")


def with_overrides(lesson: Lesson, *, backend: str | None = None, dtype: str | None = None,
                   lr=None, steps=None) -> Lesson:
    """The lesson with command-line choices applied, checked as a whole again."""
    changes: dict = {}
    if backend is not None:
        if backend not in BACKENDS:
            raise GdtutorError(f"expected one of {', '.join(BACKENDS)}, got '{backend}'"
                               f"{_suggest(str(backend), BACKENDS)}", field="--backend")
        changes["backend"] = backend
    if dtype is not None:
        if dtype not in DTYPES:
            raise GdtutorError(f"expected one of {', '.join(DTYPES)}, got '{dtype}'"
                               f"{_suggest(str(dtype), DTYPES)}", field="--dtype")
        changes["dtype"] = dtype
    if lesson.kind == "graph":
        for flag, value in (("--lr", lr), ("--steps", steps)):
            if value is not None:
                raise GdtutorError(f"'{lesson.id}' is a graph lesson: it has no gradient descent "
                                   "to change", field=flag)
    if lr is not None:
        try:
            changes["lr"] = parse_number(lr)
        except GdtutorError as exc:
            raise exc.located(field="--lr") from None
    if steps is not None:
        if isinstance(steps, str) and steps.strip().isdigit():
            steps = int(steps)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise GdtutorError(f"expected a positive whole number, got {_show(steps)}",
                               field="--steps")
        changes["iterations"] = steps
    new = lesson._replace(**changes)
    if new.backend == "torch" and new.dtype == "exact":
        if dtype is not None:
            raise GdtutorError("exact arithmetic runs on the numpy backend only", field="--dtype")
        raise GdtutorError(f"'{lesson.id}' uses exact arithmetic, which runs on the numpy "
                           "backend only (add --dtype float64 to use torch)", field="--backend")
    if new.kind == "descent":
        limit = MAX_EXACT_ITERATIONS if new.dtype == "exact" else MAX_ITERATIONS
        if new.iterations > limit:
            flag = "--steps" if steps is not None else "--dtype"
            what = "with exact arithmetic " if new.dtype == "exact" else ""
            raise GdtutorError(f"{new.iterations} iterations; {what}the limit is {limit}"
                               + (" (add --steps)" if flag == "--dtype" else ""), field=flag)
    if new.dtype != lesson.dtype:  # exact refuses what floats allow (exp, huge powers)
        _probe(new, lesson.label, field="--dtype")
    return new
