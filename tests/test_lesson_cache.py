"""A built-in lesson read from the cache of parsed trees is the lesson read from its YAML; a
cache that is stale, damaged or out of reach only costs the parse, and a student's file is
never kept in it."""
from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdtutor import lesson as lessons
from gdtutor.errors import GdtutorError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = lessons.lessons_dir()
FILES = ("index.yaml",) + lessons._index(SHIPPED)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """The cache file, in a cache home of this test's own with nothing in it yet."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    monkeypatch.delenv("GDTUTOR_NO_CACHE", raising=False)
    monkeypatch.setattr(lessons, "_cache_seen", {})
    return tmp_path / "cache-home" / "gdtutor" / f"lessons-v{lessons.CACHE_FORMAT}.json"


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The names of the files parsed from YAML from now on (a file read from the cache is not)."""
    names: list[str] = []
    compose = lessons._Reader.compose
    monkeypatch.setattr(lessons._Reader, "compose", lambda self, text, builtin=False: (
        names.append(Path(self.label).name) or compose(self, text, builtin)))
    return names


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A copy of the built-in lessons, standing in for them."""
    copy = tmp_path / "lessons"
    shutil.copytree(SHIPPED, copy)
    monkeypatch.setattr(lessons, "lessons_dir", lambda: copy)
    return copy


def every_lesson(folder: Path) -> list:
    """builtin() for `folder`, read again (past the in-process memo of each lesson)."""
    names = lessons._index.__wrapped__(folder)
    return [lessons._builtin_lesson.__wrapped__(folder, name, order)
            for order, name in enumerate(names, start=1)]


def without_cache(monkeypatch, read):
    monkeypatch.setenv("GDTUTOR_NO_CACHE", "1")
    try:
        return read()
    finally:
        monkeypatch.delenv("GDTUTOR_NO_CACHE")


def tree(path: Path, builtin: bool = True):
    return lessons._read(path, str(path), builtin=builtin)[1]


def exact(node) -> tuple:
    """A tree as nested tuples that tell 1 from 1.0 and from True, and -0.0 from 0.0, as == on
    _Nodes does not; key order counts."""
    value = node.value
    if isinstance(value, list):
        value = ("list", [exact(item) for item in value])
    elif isinstance(value, dict):
        assert list(node.key_lines) == list(value)
        value = ("map", [(key, node.key_lines[key], exact(item)) for key, item in value.items()])
    else:
        value = (type(value).__name__, repr(value))
    return node.line, value


def entries(cache: Path) -> dict:
    return json.loads(cache.read_text(encoding="ascii"))


def key(path: Path) -> str:
    return os.path.abspath(path)


def write_cache(cache: Path, data: bytes) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(data)
    lessons._cache_seen.clear()   # as a new process finds it


# -- the same lessons, the same trees ---------------------------------------------------------

def test_every_builtin_lesson_from_a_warm_cache_is_the_lesson_parsed_from_yaml(
        cache, parses, monkeypatch):
    folder = SHIPPED
    cold = every_lesson(folder)
    assert sorted(parses) == sorted(FILES)
    assert sorted(entries(cache)) == sorted(key(folder / name) for name in FILES)
    parses.clear()
    warm = every_lesson(folder)
    assert parses == []                                  # nothing parsed: all from the cache
    plain = without_cache(monkeypatch, lambda: every_lesson(folder))
    assert sorted(parses) == sorted(FILES)
    assert warm == plain and cold == plain
    assert [item.id for item in warm] == [Path(name).stem for name in FILES[1:]]
    assert [item.order for item in warm] == list(range(1, len(FILES)))
    for item, parsed in zip(warm, plain):
        assert item.lines == parsed.lines and len(item.lines) > 10
        assert [item.line_of(field) for field, _ in parsed.lines] == [
            line for _, line in parsed.lines]
        # the top-level keys against the file read as plain text
        text = item.source.read_text(encoding="utf-8").splitlines()
        for field, line in item.lines:
            if re.fullmatch(r"[a-z_]+", field):
                assert text[line - 1].startswith(f"{field}:"), (item.id, field, line)
        # and against PyYAML's pure-Python loader, which never uses the cache
        assert item._replace(order=0) == lessons.load(item.source)


def test_the_tree_of_every_builtin_file_round_trips_exactly(cache, parses, monkeypatch):
    folder = SHIPPED
    for name in FILES:
        path = folder / name
        cold = tree(path)
        warm = tree(path)
        plain = without_cache(monkeypatch, lambda: tree(path))
        guarded = tree(path, builtin=False)
        assert exact(warm) == exact(cold) == exact(plain) == exact(guarded)
        assert warm == plain
        assert parses == [name, name, name]           # the warm read parsed nothing
        parses.clear()
        again = lessons._tree_from_json(json.loads(json.dumps(lessons._tree_to_json(plain))))
        assert exact(again) == exact(plain)


# every kind of scalar YAML 1.1 gives a lesson, in a file read as a built-in one
TRICKY = """\
ints: [0, -3, +12, 1_000, 0x1F, 0b101, 017, 1:30, 123456789012345678901234567890]
floats: [1.0, 2., -0.0, 0.5, 1.5e+3, 6.02e+23, .inf, -.inf, .nan, 0.1]
not numbers: [1e3, 1.5e3, "1", '2.5', 1/28, 0o17, 0x]
bools: [yes, No, true, FALSE, on, off]
nothing: [~, null, Null]
no: key written as a bool
1: key written as an int
null: key written as null
zh: 梯度下降 ∂L/∂w
emoji: "🙂 \\u00e9 \\t tab"
text: |
  two lines,

  and a blank one
folded: >
  one
  line
nested: {a: [1, [2, [3, {b: c}]]], z: last, y: order}
anchored: &x [1, 2.5]
alias: *x
"""


def test_every_kind_of_scalar_comes_back_from_the_cache_as_it_was(tmp_path, cache, parses,
                                                                   monkeypatch):
    path = tmp_path / "tricky.yaml"
    path.write_text(TRICKY, encoding="utf-8")
    cold, warm = tree(path), tree(path)
    assert parses == ["tricky.yaml"]
    plain = without_cache(monkeypatch, lambda: tree(path))
    assert exact(warm) == exact(cold) == exact(plain) == exact(tree(path, builtin=False))
    values = warm.value
    assert list(values) == ["ints", "floats", "not numbers", "bools", "nothing", "no", "1",
                            "null", "zh", "emoji", "text", "folded", "nested", "anchored",
                            "alias"]
    ints = [node.value for node in values["ints"].value]
    assert ints == [0, -3, 12, 1000, 31, 5, 15, 90, 123456789012345678901234567890]
    assert all(type(i) is int for i in ints)
    floats = [node.value for node in values["floats"].value]
    assert [repr(f) for f in floats] == ["1.0", "2.0", "-0.0", "0.5", "1500.0", "6.02e+23",
                                         "inf", "-inf", "nan", "0.1"]
    assert all(type(f) is float for f in floats)
    assert [node.value for node in values["not numbers"].value] == [
        "1e3", "1.5e3", "1", "2.5", "1/28", "0o17", "0x"]
    assert [node.value for node in values["bools"].value] == [True, False, True, False,
                                                             True, False]
    assert [node.value for node in values["nothing"].value] == [None, None, None]
    assert values["zh"].value == "梯度下降 ∂L/∂w" and values["emoji"].value == "🙂 é \t tab"
    assert values["text"].value == "two lines,\n\nand a blank one\n"
    assert values["folded"].value == "one line\n"
    assert list(values["nested"].value) == ["a", "z", "y"]
    assert warm.key_lines["alias"] == 20 and values["alias"].line == 19   # where &x is
    assert exact(values["alias"])[1] == exact(values["anchored"])[1]


def test_an_int_too_long_for_json_is_read_and_simply_not_kept(tmp_path, cache, monkeypatch):
    path = tmp_path / "huge.yaml"
    path.write_text("n: 0x" + "F" * 4000 + "\n", encoding="utf-8")
    first, second = tree(path), tree(path)
    assert first.value["n"].value == second.value["n"].value == 16 ** 4000 - 1
    assert type(second.value["n"].value) is int
    assert second == without_cache(monkeypatch, lambda: tree(path))
    # JSON writes an int in decimal, past Python's limit on int-to-text conversion here
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if 0 < limit < 4000 * math.log10(16):
        assert not cache.exists() or key(path) not in entries(cache)


# -- the win: a warm start imports no PyYAML --------------------------------------------------

PROBE = ("import sys, gdtutor.lesson as l; item = l.resolve('grad-descent'); "
         "print(item.id, item.order, item.line_of('lr'), item.lr, 'yaml' in sys.modules)")


def probe(cache_home: Path, code: str = PROBE, **env) -> list[str]:
    run_env = {k: v for k, v in os.environ.items() if k != "GDTUTOR_NO_CACHE"}
    run_env.update(XDG_CACHE_HOME=str(cache_home), **env)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=run_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.split()


def test_a_warm_start_imports_no_yaml_and_a_cold_one_does(tmp_path):
    path = SHIPPED / "grad-descent.yaml"
    lr_line = next(number for number, line in enumerate(
        path.read_text(encoding="utf-8").splitlines(), start=1) if line.startswith("lr:"))
    same = ["grad-descent", "5", str(lr_line), "1/100"]
    home = tmp_path / "cache-home"
    assert probe(home, "import sys, gdtutor.lesson; print('yaml' in sys.modules)") == ["False"]
    assert probe(home) == same + ["True"]                          # cold: parsed
    assert probe(home) == same + ["False"]                         # warm: from the cache
    assert probe(home) == same + ["False"]
    assert probe(home, GDTUTOR_NO_CACHE="1") == same + ["True"]    # turned off: parsed
    resolve_a_file = ("import sys, gdtutor.lesson as l; l.resolve(%r); "
                      "print('yaml' in sys.modules)" % str(path))
    assert probe(home, resolve_a_file) == ["True"]                 # a file by path: parsed


# -- a changed file, a changed gdtutor ---------------------------------------------------------

def same_size_and_mtime(path: Path, old: str, new: str) -> None:
    """Replace `old` by `new` (as long) and put the mtime back: only the content differs."""
    status = os.stat(path)
    text = path.read_text(encoding="utf-8")
    assert len(old) == len(new) and text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert os.stat(path).st_size == status.st_size
    assert os.stat(path).st_mtime_ns == status.st_mtime_ns


def test_editing_a_builtin_lesson_replaces_its_entry(folder, cache, parses):
    path = folder / "grad-descent.yaml"
    read = lambda: lessons._builtin_lesson.__wrapped__(folder, "grad-descent.yaml", 5)  # noqa: E731
    first = read()
    lr_line = first.line_of("lr")
    assert first.lr == Fraction(1, 100) and read() == first
    assert parses == ["grad-descent.yaml"]
    same_size_and_mtime(path, "lr: 0.01", "lr: 0.02")
    second = read()
    assert second.lr == Fraction(2, 100) and second.line_of("lr") == lr_line
    assert parses == ["grad-descent.yaml"] * 2
    path.write_text("# one more line\n" + path.read_text(encoding="utf-8").replace(
        "lr: 0.02", "lr: 0.005"), encoding="utf-8")
    third = read()
    assert third.lr == Fraction(1, 200) and third.line_of("lr") == lr_line + 1
    assert third.line_of("id") == first.line_of("id") + 1
    assert read() == third and parses == ["grad-descent.yaml"] * 3
    entry = entries(cache)[key(path)]
    assert entry["size"] == path.stat().st_size and entry["mtime_ns"] == path.stat().st_mtime_ns


def test_editing_the_index_replaces_its_entry_and_it_is_checked_every_time(folder, cache,
                                                                           parses):
    index = folder / "index.yaml"
    names = lessons._index.__wrapped__(folder)
    assert lessons._index.__wrapped__(folder) == names and parses == ["index.yaml"]
    same_size_and_mtime(index, "  - backprop.yaml\n  - worked-example.yaml",
                        "  - worked-example.yaml\n  - backprop.yaml")
    swapped = lessons._index.__wrapped__(folder)
    assert swapped[1:3] == ("worked-example.yaml", "backprop.yaml") and swapped[3:] == names[3:]
    assert parses == ["index.yaml"] * 2
    (folder / "divergence.yaml").unlink()        # the tree is kept; the check still runs
    with pytest.raises(GdtutorError, match="'divergence.yaml' is listed but there is no such"):
        lessons._index.__wrapped__(folder)
    assert parses == ["index.yaml"] * 2


def test_a_file_changed_while_it_is_read_is_not_kept(folder, cache, parses, monkeypatch):
    index = folder / "index.yaml"
    original, status = index.read_bytes(), os.stat(index)
    read_text = lessons._Reader.read_text

    def read_an_edited_file(self, path):
        path.write_bytes(original.replace(b"  - backprop.yaml\n", b""))
        return read_text(self, path)

    monkeypatch.setattr(lessons._Reader, "read_text", read_an_edited_file)
    with pytest.raises(GdtutorError, match="'backprop.yaml' is in"):
        lessons._index.__wrapped__(folder)
    monkeypatch.setattr(lessons._Reader, "read_text", read_text)
    index.write_bytes(original)                  # back as it was when its stamp was taken
    os.utime(index, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert lessons._index.__wrapped__(folder) == FILES[1:]
    assert parses == ["index.yaml"] * 2


def test_another_version_of_gdtutor_parses_again(cache, parses, monkeypatch):
    path = SHIPPED / "backprop.yaml"
    before = tree(path)
    monkeypatch.setattr(lessons, "__version__", "999.0")
    after = tree(path)
    assert exact(after) == exact(before) and parses == ["backprop.yaml"] * 2
    assert entries(cache)[key(path)]["gdtutor"] == "999.0"
    tree(path)
    assert parses == ["backprop.yaml"] * 2


def test_entries_of_files_that_have_gone_are_dropped_at_the_next_write(folder, cache):
    every_lesson(folder)
    assert sorted(entries(cache)) == sorted(key(folder / name) for name in FILES)
    shutil.rmtree(folder)
    tree(SHIPPED / "index.yaml")
    assert list(entries(cache)) == [key(SHIPPED / "index.yaml")]


# -- errors: the same with the cache as without ------------------------------------------------

def test_a_builtin_file_that_fails_to_parse_is_not_kept_and_fails_the_same(folder, cache,
                                                                          parses, monkeypatch):
    path = folder / "grad-descent.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "oops: [1, 2\n", encoding="utf-8")
    read = lambda: lessons._builtin_lesson.__wrapped__(folder, "grad-descent.yaml", 5)  # noqa: E731
    messages = []
    for _ in range(2):
        with pytest.raises(GdtutorError, match="YAML syntax error") as err:
            read()
        messages.append(str(err.value))
    with pytest.raises(GdtutorError) as err:
        without_cache(monkeypatch, read)
    assert messages == [str(err.value)] * 2 and f"{path}:" in messages[0]
    assert parses == ["grad-descent.yaml"] * 3
    assert not cache.exists() or key(path) not in entries(cache)


def test_a_kept_tree_fails_validation_with_the_same_file_line_and_field(folder, cache, parses,
                                                                         monkeypatch):
    path = folder / "grad-descent.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("lr: 0.01", "lrr: 0.01"),
                    encoding="utf-8")
    read = lambda: lessons._builtin_lesson.__wrapped__(folder, "grad-descent.yaml", 5)  # noqa: E731
    messages = []
    for _ in range(2):
        with pytest.raises(GdtutorError) as err:
            read()
        messages.append(str(err.value))
    assert parses == ["grad-descent.yaml"]            # the second from the kept tree
    with pytest.raises(GdtutorError) as err:
        without_cache(monkeypatch, read)
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("lrr:"))
    assert messages == [str(err.value)] * 2
    assert messages[0] == (f"gdtutor: {path}:{line}: lrr: unknown key 'lrr' "
                           "(did you mean 'lr'?)")


# -- a student's file -----------------------------------------------------------------------------

def test_a_students_file_is_never_kept_and_always_parsed(tmp_path, cache, parses):
    mine = tmp_path / "mine.yaml"
    shutil.copy(SHIPPED / "grad-descent.yaml", mine)
    for _ in range(2):
        lessons.load(mine)
        lessons.resolve(str(mine))
    assert parses == ["mine.yaml"] * 4 and not cache.exists()
    every_lesson(SHIPPED)
    shipped = SHIPPED / "grad-descent.yaml"
    parses.clear()
    lessons.load(shipped)                        # a built-in file opened as a student's
    lessons.resolve(str(mine))
    assert parses == ["grad-descent.yaml", "mine.yaml"]
    assert key(mine) not in entries(cache)


# -- a damaged cache ---------------------------------------------------------------------------

def damaged_trees(make_tree):
    def damage(good: bytes) -> bytes:
        found = json.loads(good)
        for entry in found.values():
            entry["tree"] = make_tree(entry["tree"])
        return json.dumps(found).encode()
    return damage


def nested(depth: int) -> list:
    node = [1, "x"]
    for _ in range(depth):
        node = [1, [node]]
    return node


def damaged_stamps(field, value):
    def damage(good: bytes) -> bytes:
        found = json.loads(good)
        for entry in found.values():
            entry[field] = value
        return json.dumps(found).encode()
    return damage


DAMAGE = {
    "empty": lambda good: b"",
    "truncated": lambda good: good[:len(good) // 2],
    "one byte short": lambda good: good[:-1],
    "not UTF-8": lambda good: b"\xff\xfe\x80" + good,
    "not JSON": lambda good: b"lessons: [a, b]\n",
    "NUL bytes": lambda good: good.replace(b'"', b"\0", 3),
    "a list": lambda good: b"[]",
    "null": lambda good: b"null",
    "brackets past the recursion limit": lambda good: b"[" * 200_000 + b"]" * 200_000,
    "entries are lists": lambda good: json.dumps(
        {k: [1, 2] for k in json.loads(good)}).encode(),
    "no tree": damaged_trees(lambda t: None),
    "tree a string": damaged_trees(lambda t: "tree"),
    "tree of three": damaged_trees(lambda t: t + [0]),
    "line a string": damaged_trees(lambda t: [str(t[0]), t[1]]),
    "line a bool": damaged_trees(lambda t: [True, t[1]]),
    "line a float": damaged_trees(lambda t: [float(t[0]), t[1]]),
    "a key without its line": damaged_trees(
        lambda t: [t[0], {k: v[1] for k, v in t[1].items()}]),
    "a key line a string": damaged_trees(
        lambda t: [t[0], {k: [str(v[0]), v[1]] for k, v in t[1].items()}]),
    "an item not a node": damaged_trees(lambda t: [t[0], {"lessons": [4, [7]]}]),
    "nested past MAX_DEPTH": damaged_trees(lambda t: nested(lessons.MAX_DEPTH + 2)),
    "size a string": damaged_stamps("size", "315"),
    "crc wrong": damaged_stamps("crc32", 0),
    "no version": damaged_stamps("gdtutor", None),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_cache_falls_back_to_parsing_and_is_then_rewritten(cache, parses, monkeypatch,
                                                                    damage):
    folder = SHIPPED
    plain = without_cache(monkeypatch, lambda: every_lesson(folder))
    every_lesson(folder)
    parses.clear()
    write_cache(cache, damage(cache.read_bytes()))
    assert every_lesson(folder) == plain
    assert sorted(parses) == sorted(FILES)                 # every file parsed again
    assert sorted(entries(cache)) == sorted(key(folder / name) for name in FILES)
    parses.clear()
    lessons._cache_seen.clear()
    assert every_lesson(folder) == plain and parses == []  # and the cache is whole again


def test_a_changed_cache_file_is_read_again_in_the_same_process(cache, parses):
    path = SHIPPED / "index.yaml"
    tree(path)
    tree(path)
    assert parses == ["index.yaml"]
    cache.write_text("{}", encoding="ascii")       # another size: no need to clear the memo
    tree(path)
    assert parses == ["index.yaml"] * 2


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4),
    max_leaves=24)


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(found=JSON, raw=st.binary(max_size=64), whole=st.booleans())
def test_any_json_in_the_cache_reads_as_the_yaml_or_as_a_well_formed_tree(cache, found, raw,
                                                                         whole):
    path = SHIPPED / "index.yaml"
    stamp = lessons._stamp(path)
    if whole:   # the whole file: any JSON, or any bytes
        data = json.dumps(found).encode() if raw[:1] != b"\0" else raw
    else:       # the entry matches the file; the tree is anything
        data = json.dumps({key(path): dict(stamp, tree=found)}).encode()
    write_cache(cache, data)
    got = tree(path)
    try:
        well_formed = lessons._tree_from_json(found) if not whole else None
    except ValueError:
        well_formed = None
    assert exact(got) == exact(well_formed if well_formed is not None
                               else tree(path, builtin=False))


# -- a cache out of reach ----------------------------------------------------------------------

def test_a_cache_home_that_is_a_file_changes_nothing(tmp_path, monkeypatch, parses):
    (tmp_path / "not-a-folder").write_text("x", encoding="ascii")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    folder = SHIPPED
    plain = without_cache(monkeypatch, lambda: every_lesson(folder))
    assert every_lesson(folder) == plain and every_lesson(folder) == plain
    assert len(parses) == 3 * len(FILES)


def test_a_folder_where_the_cache_file_should_be_changes_nothing(cache, parses, monkeypatch):
    cache.mkdir(parents=True)
    folder = SHIPPED
    plain = without_cache(monkeypatch, lambda: every_lesson(folder))
    assert every_lesson(folder) == plain and every_lesson(folder) == plain
    assert len(parses) == 3 * len(FILES)
    assert cache.is_dir() and os.listdir(cache.parent) == [cache.name]   # no temporary left


@pytest.mark.parametrize("where", ["mkdir", "open", "write", "replace"])
@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_a_cache_that_cannot_be_written_changes_nothing(cache, parses, monkeypatch, where, code):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    real_open = os.open

    def refuse_a_temporary(path, flags, *args, **kwargs):
        if str(path).endswith(".tmp"):
            refuse()
        return real_open(path, flags, *args, **kwargs)

    if where == "mkdir":
        monkeypatch.setattr(Path, "mkdir", refuse)
    elif where == "open":
        monkeypatch.setattr(os, "open", refuse_a_temporary)
    elif where == "write":    # the disk fills up while the temporary is written
        def open_to_fail_at_write(file, mode="r", *args, **kwargs):
            opened = open(file, mode, *args, **kwargs)
            if "w" in mode:
                opened.write = refuse
            return opened
        monkeypatch.setattr(lessons, "open", open_to_fail_at_write, raising=False)
    else:
        monkeypatch.setattr(os, "replace", refuse)
    folder = SHIPPED
    plain = without_cache(monkeypatch, lambda: every_lesson(folder))
    assert every_lesson(folder) == plain and every_lesson(folder) == plain
    assert len(parses) == 3 * len(FILES)
    assert not cache.exists()
    assert not cache.parent.exists() or os.listdir(cache.parent) == []   # no temporary left


def test_a_cache_that_cannot_be_opened_changes_nothing(cache, parses, monkeypatch):
    folder = SHIPPED
    every_lesson(folder)
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if os.fspath(path) == str(cache):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    lessons._cache_seen.clear()
    parses.clear()
    assert every_lesson(folder) == without_cache(monkeypatch, lambda: every_lesson(folder))
    assert len(parses) == 2 * len(FILES)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file modes bind a user that is not root, on POSIX")
def test_a_read_only_cache_folder_changes_nothing(cache, parses):
    cache.parent.mkdir(parents=True)
    cache.parent.chmod(0o500)
    try:
        folder = SHIPPED
        first, second = every_lesson(folder), every_lesson(folder)
        assert first == second and len(parses) == 2 * len(FILES)
        assert os.listdir(cache.parent) == []
    finally:
        cache.parent.chmod(0o700)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_where_the_cache_file_should_be_does_not_hang_the_start(tmp_path):
    home = tmp_path / "cache-home"
    (home / "gdtutor").mkdir(parents=True)
    os.mkfifo(home / "gdtutor" / f"lessons-v{lessons.CACHE_FORMAT}.json")
    assert probe(home)[-1] == "True"      # within probe's timeout, parsed


def test_no_cache_set_neither_reads_nor_writes_it(cache, parses, monkeypatch):
    folder = SHIPPED
    monkeypatch.setenv("GDTUTOR_NO_CACHE", "1")
    every_lesson(folder)
    assert not cache.exists()
    monkeypatch.setenv("GDTUTOR_NO_CACHE", "0")     # 0 or empty: on
    every_lesson(folder)
    written = cache.read_bytes()
    monkeypatch.setenv("GDTUTOR_NO_CACHE", "1")
    parses.clear()
    every_lesson(folder)
    assert sorted(parses) == sorted(FILES) and cache.read_bytes() == written


def test_where_the_cache_lives(tmp_path, monkeypatch):
    name = f"lessons-v{lessons.CACHE_FORMAT}.json"
    monkeypatch.delenv("GDTUTOR_NO_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert lessons._cache_file() == tmp_path / "xdg" / "gdtutor" / name
    for unusable in ("", "relative/cache"):          # the XDG spec: ignore a relative path
        monkeypatch.setenv("XDG_CACHE_HOME", unusable)
        assert lessons._cache_file() == tmp_path / "home" / ".cache" / "gdtutor" / name
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert lessons._cache_file() == tmp_path / "home" / ".cache" / "gdtutor" / name
    for off in ("1", "yes"):
        monkeypatch.setenv("GDTUTOR_NO_CACHE", off)
        assert lessons._cache_file() is None


def test_the_suite_keeps_its_cache_out_of_the_home_folder():
    home = os.path.realpath(os.path.expanduser("~"))
    assert not os.path.realpath(os.environ["XDG_CACHE_HOME"]).startswith(home + os.sep)


# -- writers at once -------------------------------------------------------------------------------

WRITER = """
import os
from gdtutor import lesson as l
folder = l.lessons_dir()
files = [folder / name for name in ("index.yaml",) + l._index(folder)]
trees = {path: l._read(path, str(path), builtin=True)[1] for path in files}
cache = l._cache_file()
for round in range(15):
    for path in files:
        l._keep_tree(cache, os.path.abspath(path), l._stamp(path), trees[path])
        assert l._read(path, str(path), builtin=True)[1] == trees[path]
assert [item.id for item in l.builtin()] == [path.stem for path in files[1:]]
print("ok")
"""


def test_writers_at_once_leave_a_whole_cache_and_right_lessons(tmp_path, monkeypatch):
    home = tmp_path / "cache-home"
    env = {k: v for k, v in os.environ.items() if k != "GDTUTOR_NO_CACHE"}
    env["XDG_CACHE_HOME"] = str(home)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(4)]
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert (writer.returncode, out.strip(), err) == (0, "ok", "")
    cache = home / "gdtutor" / f"lessons-v{lessons.CACHE_FORMAT}.json"
    folder = SHIPPED
    assert set(entries(cache)) <= {key(folder / name) for name in FILES}
    assert os.listdir(cache.parent) == [cache.name]            # no temporary left
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.setattr(lessons, "_cache_seen", {})
    assert every_lesson(folder) == without_cache(monkeypatch, lambda: every_lesson(folder))
