"""A lesson file's bytes to a tree of YAML values marked with their lines, within limits: the
size, the text, the nesting and the count of values (an alias bomb) are checked here."""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import NamedTuple, NoReturn

import yaml
from yaml.constructor import SafeConstructor

from .errors import GdtutorError
from .files import NotRegular, read_regular

MAX_BYTES = 1 << 20          # a lesson is a page of text, not a data set
MAX_VISITS = 200_000         # YAML nodes visited while converting; an alias counts every time
MAX_DEPTH = 32
MAX_FLOW_DEPTH = 4 * MAX_DEPTH  # past this, brackets are refused while scanning (see _Loader)
MAX_DIGITS = 1000            # a number in a lesson: past 1e308 floats are infinite already

# YAML 1.1 integers, as PyYAML's resolver reads them, and how many bits each digit carries
_INT_FORMS = ((re.compile(r"[-+]?0b[0-1_]+"), 2, 1.0), (re.compile(r"[-+]?0x[0-9a-fA-F_]+"), 2, 4.0),
              (re.compile(r"[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"), 0, 5.91),
              (re.compile(r"[-+]?0[0-7_]+"), 1, 3.0))
_BITS_PER_DIGIT = 3.3219

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null")}


class _TooDeep(Exception):
    """Brackets nested far past MAX_DEPTH: refused while scanning, before the cost grows."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _Loader(yaml.SafeLoader):
    """The safe loader, stopping runaway `[` and `{` nesting early: PyYAML's scanner spends
    time that grows with the square of the depth (seconds at a few hundred levels)."""

    def fetch_flow_collection_start(self, TokenClass):
        if self.flow_level >= MAX_FLOW_DEPTH:
            raise _TooDeep(self.line + 1)
        super().fetch_flow_collection_start(TokenClass)


# The lesson files shipped with gdtutor are parsed by libyaml when PyYAML has it (the same
# nodes, ten times faster); a student's file always goes through _Loader. Both trees then
# pass the same checks of depth, count, tags and keys (YamlReader.convert).
_BUILTIN_LOADER = getattr(yaml, "CSafeLoader", None) or _Loader
_SCALARS = SafeConstructor()    # builds ints, floats and bools from scalar text, never objects


class YamlNode(NamedTuple):
    """A YAML value with its line: a scalar, a list of YamlNodes, or a dict of key -> YamlNode."""

    line: int
    value: object
    key_lines: dict | None = None     # mappings: key -> line of the key


def join(field: str, key: str) -> str:
    """The field `key` inside `field` (`data.X`), or `key` at the top."""
    return f"{field}.{key}" if field else key


def _outer(field: str) -> str | None:
    """`inputs.x` for `inputs.x[0][0][0]...`: where a runaway nesting starts."""
    return field.split("[")[0] or None


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


def read(path: Path, label: str, builtin: bool = False) -> YamlNode:
    """The file's YAML as YamlNodes; GdtutorError naming `label` (and the line) if it is not
    one readable, small enough YAML document. `builtin`: a file shipped with gdtutor."""
    reader = YamlReader(label)
    return reader.compose(reader.read_text(path), builtin)


class YamlReader:
    """Turns one file's bytes into YamlNodes, failing with file:line: field."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.visits = 0

    def fail(self, message: str, line: int | None = None, field: str | None = None) -> NoReturn:
        raise GdtutorError(message, file=self.label, line=line, field=field)

    def read_text(self, path: Path) -> str:
        try:
            data = read_regular(path, MAX_BYTES + 1)
        except FileNotFoundError:
            self.fail("no such file")
        except IsADirectoryError:
            self.fail("is a directory, not a lesson file")
        except PermissionError:
            self.fail("permission denied")
        except NotRegular as exc:
            self.fail(f"is {exc.kind}, not a lesson file")
        except OSError as exc:
            self.fail(f"cannot read the file: {exc.strerror or exc}")
        if len(data) > MAX_BYTES:
            self.fail(f"the file is larger than {MAX_BYTES // 1024} KiB; a lesson must be smaller")
        if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            self.fail("the file is UTF-32; save it as UTF-8", 1)
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data):
            self.fail("the file is UTF-16; save it as UTF-8", 1)
        if b"\0" in data:
            self.fail("not a text file: it holds a NUL byte (UTF-8 expected)",
                      data[:data.index(b"\0")].count(b"\n") + 1)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.fail("not a text file (UTF-8 expected)", data[:exc.start].count(b"\n") + 1)
        if not text.strip():
            self.fail("the file is empty")
        return text

    def compose(self, text: str, builtin: bool = False) -> YamlNode:
        loader = None
        try:
            loader = (_BUILTIN_LOADER if builtin else _Loader)(text)   # reads the first bytes
            root = loader.get_single_node()
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
        except _TooDeep as exc:
            self.fail(f"nested too deeply (the limit is {MAX_DEPTH} levels)", exc.line)
        except RecursionError:  # block nesting: the reader stopped where it grew too deep
            self.fail(f"nested too deeply (the limit is {MAX_DEPTH} levels)",
                      getattr(loader, "line", 0) + 1)
        finally:
            if loader is not None:
                loader.dispose()
        if root is None:
            self.fail("the file holds no lesson (only comments?)")
        try:
            return self.convert(root, 0, "")
        except RecursionError:  # a self-referencing alias, or nesting past Python's own limit
            self.fail(f"nested too deeply (the limit is {MAX_DEPTH} levels)", root.start_mark.line + 1)

    def convert(self, node, depth: int, field: str) -> YamlNode:
        """The node as YamlNodes; counts visits so an alias bomb stops before it grows large."""
        line = node.start_mark.line + 1
        where = field or None
        self.visits += 1
        if self.visits > MAX_VISITS:
            self.fail(f"the file expands to more than {MAX_VISITS} values "
                      "(through YAML aliases?); refusing to read it", line, _outer(field))
        if depth > MAX_DEPTH:
            self.fail(f"nested too deeply (the limit is {MAX_DEPTH} levels)", line, _outer(field))
        nodes = yaml.nodes
        if isinstance(node, nodes.ScalarNode):
            return YamlNode(line, self.scalar(node, line, where))
        if isinstance(node, nodes.SequenceNode):
            self.check_tag(node, _YAML + "seq", line, where)
            return YamlNode(line, [self.convert(item, depth + 1, f"{field}[{index}]")
                                   for index, item in enumerate(node.value)])
        self.check_tag(node, _YAML + "map", line, where)
        values: dict[str, YamlNode] = {}
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
                          key_line, join(field, key))
            key_lines[key] = key_line
            values[key] = self.convert(value_node, depth + 1, join(field, key))
        return YamlNode(line, values, key_lines)

    def check_digits(self, text: str, line: int, field: str | None) -> None:
        """Refuse an integer of more than MAX_DIGITS digits before it is built: Python will not
        turn one of over 4300 digits into text, and no lesson needs one."""
        text = text.strip()
        bits = len(text) * _BITS_PER_DIGIT
        for form, prefix, per_digit in _INT_FORMS:
            if form.fullmatch(text):
                bits = (len(text) - prefix) * per_digit
                break
        if bits > MAX_DIGITS * _BITS_PER_DIGIT:
            shown = text[:20] + "..." if len(text) > 20 else text
            self.fail(f"the number '{shown}' is too large: a lesson's numbers have at most "
                      f"{MAX_DIGITS} digits", line, field)

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
        if tag == _YAML + "int":
            self.check_digits(node.value, line, field)
        build = {"bool": _SCALARS.construct_yaml_bool, "int": _SCALARS.construct_yaml_int,
                 "float": _SCALARS.construct_yaml_float}[tag[len(_YAML):]]
        try:
            return build(node)
        except (ValueError, KeyError, IndexError, yaml.YAMLError):  # `!!int` alone: IndexError
            self.fail(f"'{node.value[:40]}' is not a valid {_short_tag(tag)}", line, field)


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of the first few is NUL."""
    head = data[:64]
    if len(head) < 4 or b"\0" not in head:
        return False
    return head[1::2].count(0) >= len(head) // 2 - 1 or head[0::2].count(0) >= len(head) // 2 - 1
