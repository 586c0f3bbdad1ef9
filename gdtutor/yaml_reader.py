"""A lesson file's bytes to a tree of YAML values marked with their lines, within limits: the
size, the text, the nesting and the count of values (an alias bomb) are checked here."""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import NamedTuple, NoReturn

import yaml
from yaml.constructor import SafeConstructor

from .errors import GdtutorError, quoted
from .files import NotRegular, read_regular
from .i18n import N_, _

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

# PyYAML's words for what is wrong, as the catalog says them ({found}: a character or token)
_PROBLEMS = tuple((re.compile(pattern), template) for pattern, template in (
    (r"mapping values are not allowed here", N_("mapping values are not allowed here")),
    (r"mapping keys are not allowed here", N_("mapping keys are not allowed here")),
    (r"sequence entries are not allowed here", N_("sequence entries are not allowed here")),
    (r"could not find expected ':'", N_("could not find expected ':'")),
    (r"found character (?P<found>.+) that cannot start any token",
     N_("found character {found} that cannot start any token")),
    (r"expected <block end>, but found (?P<found>.+)",
     N_("expected <block end>, but found {found}")),
    (r"expected ',' or '\]', but got (?P<found>.+)", N_("expected ',' or ']', but got {found}")),
    (r"expected ',' or '\}', but got (?P<found>.+)", N_("expected ',' or '}}', but got {found}")),
    (r"expected the node content, but found (?P<found>.+)",
     N_("expected the node content, but found {found}")),
    (r"expected '<document start>', but found (?P<found>.+)",
     N_("expected '<document start>', but found {found}")),
    (r"expected a comment or a line break, but found (?P<found>.+)",
     N_("expected a comment or a line break, but found {found}")),
    (r"expected ' ', but found (?P<found>.+)", N_("expected ' ', but found {found}")),
    (r"expected alphabetic or numeric character, but found (?P<found>.+)",
     N_("expected alphabetic or numeric character, but found {found}")),
    (r"expected chomping or indentation indicators, but found (?P<found>.+)",
     N_("expected chomping or indentation indicators, but found {found}")),
    (r"expected indentation indicator in the range 1-9, but found 0",
     N_("expected indentation indicator in the range 1-9, but found 0")),
    (r"found unexpected end of stream", N_("found unexpected end of stream")),
    (r"found unexpected document separator", N_("found unexpected document separator")),
    (r"found undefined alias (?P<found>.+)", N_("found undefined alias {found}")),
    (r"found unknown escape character (?P<found>.+)",
     N_("found unknown escape character {found}")),
    (r"found undefined tag handle (?P<found>.+)", N_("found undefined tag handle {found}")),
    (r"second occurrence", N_("second occurrence")),
    (r"invalid indentation or unclosed '\[' or '\{'",
     N_("invalid indentation or unclosed '[' or '{{'")),
))
_TOKENS = {"<directive>": N_("<directive>"), "<document start>": N_("<document start>"),
           "<document end>": N_("<document end>"), "<stream start>": N_("<stream start>"),
           "<stream end>": N_("<stream end>"), "<block sequence start>": N_("<block sequence start>"),
           "<block mapping start>": N_("<block mapping start>"), "<block end>": N_("<block end>"),
           "<alias>": N_("<alias>"), "<anchor>": N_("<anchor>"), "<tag>": N_("<tag>"),
           "<scalar>": N_("<scalar>")}


def yaml_problem(text: str) -> str:
    """PyYAML's problem in the current language (as it is, when the catalog does not know it)."""
    for pattern, template in _PROBLEMS:
        found = pattern.fullmatch(text)
        if found:
            parts = {key: _found(value) for key, value in found.groupdict().items()}
            return _(template).format(**parts)
    return text


def _found(text: str) -> str:
    """What PyYAML found, quoted as the catalog quotes: a token by its translated name."""
    if len(text) < 3 or text[0] != "'" or text[-1] != "'":
        return text
    inner = text[1:-1]
    return quoted(_(_TOKENS[inner]) if inner in _TOKENS else inner)


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
            self.fail(_("no such file"))
        except IsADirectoryError:
            self.fail(_("is a directory, not a lesson file"))
        except PermissionError:
            self.fail(_("permission denied"))
        except NotRegular as exc:
            self.fail(_("is {kind}, not a lesson file").format(kind=_(exc.kind)))
        except OSError as exc:
            self.fail(_("cannot read the file: {reason}").format(reason=exc.strerror or exc))
        if len(data) > MAX_BYTES:
            self.fail(_("the file is larger than {n} KiB; a lesson must be smaller").format(
                n=MAX_BYTES // 1024))
        if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            self.fail(_("the file is UTF-32; save it as UTF-8"), 1)
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data):
            self.fail(_("the file is UTF-16; save it as UTF-8"), 1)
        if b"\0" in data:
            self.fail(_("not a text file: it holds a NUL byte (UTF-8 expected)"),
                      data[:data.index(b"\0")].count(b"\n") + 1)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.fail(_("not a text file (UTF-8 expected)"), data[:exc.start].count(b"\n") + 1)
        if not text.strip():
            self.fail(_("the file is empty"))
        return text

    def compose(self, text: str, builtin: bool = False) -> YamlNode:
        loader = None
        try:
            loader = (_BUILTIN_LOADER if builtin else _Loader)(text)   # reads the first bytes
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = yaml_problem(exc.problem or exc.context or _("invalid YAML"))
            if exc.context and exc.problem and "single document" in exc.context:
                what = _("a lesson file holds one YAML document, but this one has more")
            self.fail(_("YAML syntax error: {problem}").format(problem=what),
                      mark.line + 1 if mark else None)
        except yaml.reader.ReaderError as exc:
            char = exc.character
            shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
            self.fail(_("not a text file: the control character {char} is not allowed in YAML")
                      .format(char=shown),
                      text[:exc.position].count("\n") + 1)
        except yaml.YAMLError as exc:
            self.fail(_("YAML syntax error: {problem}").format(problem=' '.join(str(exc).split())))
        except _TooDeep as exc:
            self.fail(_("nested too deeply (the limit is {n} levels)").format(n=MAX_DEPTH), exc.line)
        except RecursionError:  # block nesting: the reader stopped where it grew too deep
            self.fail(_("nested too deeply (the limit is {n} levels)").format(n=MAX_DEPTH),
                      getattr(loader, "line", 0) + 1)
        finally:
            if loader is not None:
                loader.dispose()
        if root is None:
            self.fail(_("the file holds no lesson (only comments?)"))
        try:
            return self.convert(root, 0, "")
        except RecursionError:  # a self-referencing alias, or nesting past Python's own limit
            self.fail(_("nested too deeply (the limit is {n} levels)").format(n=MAX_DEPTH),
                      root.start_mark.line + 1)

    def convert(self, node, depth: int, field: str) -> YamlNode:
        """The node as YamlNodes; counts visits so an alias bomb stops before it grows large."""
        line = node.start_mark.line + 1
        where = field or None
        self.visits += 1
        if self.visits > MAX_VISITS:
            self.fail(_("the file expands to more than {n} values "
                        "(through YAML aliases?); refusing to read it").format(n=MAX_VISITS),
                      line, _outer(field))
        if depth > MAX_DEPTH:
            self.fail(_("nested too deeply (the limit is {n} levels)").format(n=MAX_DEPTH),
                      line, _outer(field))
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
                self.fail(_("a key must be a plain name, not a list or mapping"), key_line, where)
            if key_node.tag == _YAML + "merge":
                self.fail(_("merge keys ('<<') are not supported; write the keys out"),
                          key_line, where)
            if key_node.tag not in _SCALAR_TAGS:
                self.fail(_("tag '{tag}' is not allowed").format(tag=_short_tag(key_node.tag)),
                          key_line, where)
            key = key_node.value  # as written, so that `no:` or `1:` stays a name
            if key in values:
                self.fail(_("duplicate key '{key}' (first given on line {line})").format(
                    key=key, line=key_lines[key]),
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
            self.fail(_("the number '{number}' is too large: a lesson's numbers have at most "
                        "{n} digits").format(number=shown, n=MAX_DIGITS), line, field)

    def check_tag(self, node, allowed: str, line: int, field: str | None) -> None:
        if node.tag != allowed:
            dated = node.tag == _YAML + "timestamp"
            message = (_("tag '{tag}' is not allowed (quote the value to make it a string)")
                       if dated else _("tag '{tag}' is not allowed"))
            self.fail(message.format(tag=_short_tag(node.tag)), line, field)

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
            self.fail(_("'{value}' is not a valid {tag}").format(value=node.value[:40],
                                                                 tag=_short_tag(tag)), line, field)


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of the first few is NUL."""
    head = data[:64]
    if len(head) < 4 or b"\0" not in head:
        return False
    return head[1::2].count(0) >= len(head) // 2 - 1 or head[0::2].count(0) >= len(head) // 2 - 1
