"""A tree of YAML values into a typed, validated Lesson: every field's type, range and
shape is checked here, and the lesson is evaluated once, so that an error names the file, the
line and the field."""
from __future__ import annotations

import keyword
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

from .backends import probe
from .errors import GdtutorError, number_text, show, suggest
from .expr import FUNCTIONS, Expr, names_in, parse, render
from .numbers import quiet_arithmetic
from .model import BACKENDS, DTYPES, Checkpoint, Lesson, Linear, Text
from .yaml_reader import MAX_DIGITS, YamlNode, join

MAX_NUMBERS = 100_000
MAX_DIMS = 4
MAX_ITERATIONS = 10_000_000
MAX_EXACT_ITERATIONS = 20_000  # exact fractions grow with every step
MAX_NUMBER_TEXT = 100
MAX_NUMBER_BITS = int(MAX_DIGITS * 3.3219) + 1  # 10**999 fits; 10**1000 does not
MAX_NODE_NAME = 24

KINDS = ("graph", "descent")
LOSSES = ("sse", "half_mse")
DATA_NAMES = ("X", "y", "m")      # what `data` gives an objective: X (m×d), y (m), m
OBJECTIVES = {  # the linear form's sugar, in the expression language itself
    "sse": "sum((X @ w - y)**2)",
    "half_mse": "sum((X @ w - y)**2) / (2 * m)",
}

COMMON_KEYS = ("id", "title", "summary", "kind", "text", "backend", "dtype", "checkpoints",
               "names", "predict", "predict_tol")
GRAPH_KEYS = ("expression", "inputs")
LINEAR_KEYS = ("data", "bias", "loss", "init")
FREE_KEYS = ("objective", "params")
DESCENT_KEYS = LINEAR_KEYS + FREE_KEYS + ("lr", "grad_scale", "iterations")
ALL_KEYS = COMMON_KEYS + GRAPH_KEYS + DESCENT_KEYS
GRAPH_CHECKPOINT_KEYS = ("value", "grads", "tol")
PREDICT_FIELDS = {"descent": ("grad", "step", "weights"), "graph": ("value", "grads")}
DESCENT_CHECKPOINT_KEYS = ("step", "weights", "loss", "grad", "sse", "diverged", "tol")

# what other tools call α and the number of steps: suggested besides the nearest spelling
SYNONYMS = {"learning_rate": "lr", "learningrate": "lr", "alpha": "lr", "eta": "lr",
            "step_size": "lr", "epochs": "iterations", "epoch": "iterations",
            "steps": "iterations", "n_iter": "iterations", "n_iters": "iterations",
            "num_iterations": "iterations", "max_iter": "iterations", "iters": "iterations"}


def key_hint(key: str, allowed) -> str:
    """` (did you mean 'lr'?)` for a key other tools use for one of ours, else the nearest."""
    same = SYNONYMS.get(str(key).lower().replace("-", "_"))
    if same in allowed:
        return f" (did you mean '{same}'?)"
    return suggest(key, allowed)


_ID = re.compile(r"[a-z0-9-]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a decimal with a bounded exponent, so that "1e999999999" cannot ask for a huge integer
_DECIMAL = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?"
_NUMBER = re.compile(rf"\s*({_DECIMAL})\s*(?:/\s*({_DECIMAL})\s*)?")


def parse_number(value) -> Fraction:
    """A number as a lesson or a flag writes it ("1/28", "-3", "0.5", 2, 0.01), exactly; one
    whose numerator or denominator has more than MAX_DIGITS digits is refused."""
    number = _parse_number(value)
    if max(number.numerator.bit_length(), number.denominator.bit_length()) > MAX_NUMBER_BITS:
        raise GdtutorError(f"{number_text(number)} is too large: a lesson's numbers have at "
                           f"most {MAX_DIGITS} digits")
    return number


def _parse_number(value) -> Fraction:
    if isinstance(value, bool) or value is None:
        raise GdtutorError(f"expected a number, got {show(value)}")
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
            raise GdtutorError(f"expected a number, got {show(value)}")
        top, bottom = match.group(1), match.group(2)
        denominator = Fraction(bottom) if bottom else Fraction(1)
        if denominator == 0:
            raise GdtutorError(f"division by zero in {show(value)}")
        return Fraction(top) / denominator
    raise GdtutorError(f"expected a number, got {show(value)}")


def check_lr(lr: Fraction) -> Fraction:
    """α as every way of setting it takes it (a file's `lr`, `--lr`, the API, the TUI's keys):
    zero or more. A negative α climbs the loss instead of descending it."""
    if lr < 0:
        raise GdtutorError(f"α must not be negative, got {number_text(lr)}")
    return lr


def to_lesson(tree: YamlNode, label: str, source: Path) -> Lesson:
    """The tree of a lesson file as a Lesson, validated and evaluated once."""
    found = Schema(label).lesson(tree, source)
    check_computes(found, label)
    return found


class Schema:
    """Reads typed values out of one file's tree, failing with file:line: field; keeps the line
    of every field it reads (Lesson.lines)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.numbers = 0
        self.lines: dict[str, int] = {}

    def fail(self, message: str, line: int | None = None, field: str | None = None) -> NoReturn:
        raise GdtutorError(message, file=self.label, line=line, field=field)

    # -- typed values ------------------------------------------------------------------------

    def record(self, field: str, line: int) -> None:
        self.lines.setdefault(field, line)

    def mapping(self, node: YamlNode, field: str, allowed, required=()) -> dict[str, YamlNode]:
        """The node as a mapping whose keys are all allowed and all required keys present."""
        if not isinstance(node.value, dict):
            self.fail(f"expected a mapping of keys, got {show(node.value)}", node.line,
                      field or None)
        for key, key_line in node.key_lines.items():
            if key not in allowed:
                self.fail(f"unknown key '{key}'{key_hint(key, allowed)}", key_line,
                          join(field, key))
        missing = [k for k in required if k not in node.value]
        if missing:
            self.fail(f"missing required key{'s' if len(missing) > 1 else ''} "
                      + ", ".join(f"'{k}'" for k in missing), node.line, field or None)
        for key, key_line in node.key_lines.items():
            self.record(join(field, key), key_line)
        return node.value

    def string(self, node: YamlNode, field: str) -> str:
        value = node.value
        if value is None or isinstance(value, (list, dict)):
            self.fail(f"expected a string, got {show(value)}", node.line, field)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def text(self, node: YamlNode, field: str, one_line: bool = False) -> Text:
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

    def choice(self, node: YamlNode, field: str, options) -> str:
        value = self.string(node, field)
        if value not in options:
            self.fail(f"expected one of {', '.join(options)}, got '{value}'"
                      f"{suggest(value, options)}", node.line, field)
        return value

    def boolean(self, node: YamlNode, field: str) -> bool:
        if not isinstance(node.value, bool):
            self.fail(f"expected true or false, got {show(node.value)}", node.line, field)
        return node.value

    def number(self, node: YamlNode, field: str) -> Fraction:
        self.numbers += 1
        if self.numbers > MAX_NUMBERS:
            self.fail(f"more than {MAX_NUMBERS} numbers in one lesson", node.line, field)
        try:
            return parse_number(node.value)
        except GdtutorError as exc:
            raise exc.located(file=self.label, line=node.line, field=field) from None

    def integer(self, node: YamlNode, field: str, low: int, high: int) -> int:
        value = self.number(node, field)
        if value.denominator != 1:
            self.fail(f"expected a whole number, got {value}", node.line, field)
        if not low <= value <= high:
            self.fail(f"expected a whole number from {low} to {high}, got {value}",
                      node.line, field)
        return int(value)

    def learning_rate(self, node: YamlNode) -> Fraction:
        try:
            return check_lr(self.number(node, "lr"))
        except GdtutorError as exc:
            raise exc.located(file=self.label, line=node.line, field="lr") from None

    def nonnegative(self, node: YamlNode, field: str) -> Fraction:
        value = self.number(node, field)
        if value < 0:
            self.fail(f"expected a number of at least 0, got {value}", node.line, field)
        return value

    def array(self, node: YamlNode, field: str, depth: int = 0):
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

    def vector(self, node: YamlNode, field: str) -> tuple[Fraction, ...]:
        """A flat list of numbers (nested lists are flattened; one number is a list of one)."""
        return tuple(_flatten(self.array(node, field)))

    def names(self, node: YamlNode, field: str) -> tuple[tuple[str, object], ...]:
        """name -> number or nested list, in order, the names fit for an expression."""
        if not isinstance(node.value, dict) or not node.value:
            self.fail(f"expected a mapping of names to values, got {show(node.value)}",
                      node.line, field)
        out = []
        for name, value in node.value.items():
            line = node.key_lines[name]
            if not _NAME.fullmatch(name) or keyword.iskeyword(name):
                self.fail(f"'{name}' is not a valid name (letters, digits and _; "
                          "not starting with a digit)", line, join(field, name))
            if name in FUNCTIONS:
                self.fail(f"'{name}' is the name of a function; choose another name",
                          line, join(field, name))
            self.record(join(field, name), line)
            out.append((name, self.array(value, join(field, name))))
        return tuple(out)

    def expression(self, node: YamlNode, field: str, names):
        source = self.string(node, field)
        try:
            return parse(source, names)
        except GdtutorError as exc:
            raise exc.located(file=self.label, line=node.line, field=field) from None

    # -- the lesson --------------------------------------------------------------------------

    def lesson(self, root: YamlNode, source: Path) -> Lesson:
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
        if "names" in top:
            fields["names"] = self.node_names(top["names"], fields["expression"])
        fields.update(self.predict(top, kind))
        fields["lines"] = tuple(self.lines.items())
        return Lesson(**fields)

    def predict(self, top: dict[str, YamlNode], kind: str) -> dict:
        """`predict`: what the student types before each step (SPEC section 7), kept in the
        order one step computes them; `predict_tol`: the relative tolerance, 0 < tol < 1."""
        found: dict = {}
        if "predict" in top:
            node = top["predict"]
            options = PREDICT_FIELDS[kind]
            items = ([("predict", node)] if isinstance(node.value, str)
                     else self.items(node, "predict"))
            if not items:
                self.fail(f"expected a list of one or more of {', '.join(options)}",
                          node.line, "predict")
            chosen = []
            for field, item in items:
                value = self.string(item, field)
                if value not in options:
                    other = "graph" if kind == "descent" else "descent"
                    why = (f" ('{value}' is predicted in {other} lessons)"
                           if value in PREDICT_FIELDS[other] else suggest(value, options))
                    self.fail(f"expected one of {', '.join(options)}, got '{value}'{why}",
                              item.line, field)
                if value in chosen:
                    self.fail(f"'{value}' is listed twice", item.line, field)
                chosen.append(value)
            found["predict"] = tuple(v for v in options if v in chosen)
        if "predict_tol" in top:
            node = top["predict_tol"]
            tol = self.number(node, "predict_tol")
            if not 0 < tol < 1:
                self.fail(f"expected a relative tolerance above 0 and below 1, got {tol}",
                          node.line, "predict_tol")
            found["predict_tol"] = tol
        return found

    def graph(self, root: YamlNode, top: dict[str, YamlNode]) -> dict:
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
            if isinstance(value, tuple):
                self.fail(f"expected one number (the expression gives one), got a list of "
                          f"shape {_shape_text(_shape(value))}", keys["value"].line,
                          field + ".value")
            grads = None
            if "grads" in keys:
                grads_node = keys["grads"]
                for name, line in (grads_node.key_lines or {}).items():
                    if name not in names:
                        self.fail(f"'{name}' is not an input{suggest(name, names)}; "
                                  f"the inputs are {', '.join(names)}", line,
                                  f"{field}.grads.{name}")
                named = self.mapping(grads_node, field + ".grads", names)
                grads = tuple((name, self.array(v, f"{field}.grads.{name}"))
                              for name, v in named.items())
                shapes = {name: _shape(value) for name, value in inputs}
                for name, grad in grads:
                    if _shape(grad) != shapes[name]:
                        self.fail(f"expected the shape of input '{name}' "
                                  f"({_shape_text(shapes[name])}), got {_shape_text(_shape(grad))}",
                                  named[name].line, f"{field}.grads.{name}")
            if value is None and grads is None:
                self.fail("a checkpoint needs 'value' or 'grads'", node.line, field)
            checkpoints.append(Checkpoint(line=node.line, value=value, grads=grads,
                                          tol=self.tol(keys, field)))
        return dict(expression=expression, params=inputs, checkpoints=tuple(checkpoints))

    def descent(self, root: YamlNode, top: dict[str, YamlNode], dtype: str) -> dict:
        for key in ("lr", "iterations"):
            if key not in top:
                self.fail(f"missing required key '{key}' (a descent lesson needs it)",
                          root.line, None)
        if "data" not in top and "objective" not in top:
            self.fail("a descent lesson needs 'data' (a linear model) or 'objective' "
                      "(a free expression)", root.line, None)
        iterations = self.integer(top["iterations"], "iterations", 1, MAX_ITERATIONS)
        if dtype == "exact" and iterations > MAX_EXACT_ITERATIONS:
            self.fail(f"at most {MAX_EXACT_ITERATIONS} with exact arithmetic (exact fractions "
                      f"grow with every step), got {iterations}", top["iterations"].line,
                      "iterations")
        fields = dict(
            lr=self.learning_rate(top["lr"]),
            grad_scale=self.number(top["grad_scale"], "grad_scale") if "grad_scale" in top
            else Fraction(1),
            iterations=iterations,
        )
        fields.update(self.free(top) if "objective" in top else self.linear(top))
        linear = fields.get("linear") is not None
        size = sum(len(_flatten(value)) for _, value in fields["params"])
        checkpoints = []
        for field, node in self.items(top.get("checkpoints"), "checkpoints"):
            checkpoints.append(self.descent_checkpoint(node, field, size, iterations, linear))
        fields["checkpoints"] = tuple(checkpoints)
        return fields

    def linear(self, top: dict[str, YamlNode]) -> dict:
        for key in FREE_KEYS:
            if key in top:
                self.fail(f"'{key}' goes with 'objective'; a linear lesson (with 'data') "
                          "has 'init' instead", self.lines[key], key)
        rows, y, bias = self.data(top)
        n = len(rows[0])
        if "init" in top:
            init = self.vector(top["init"], "init")
            if len(init) != n:
                per = "one per column of X" + (", plus one for the bias" if bias else "")
                self.fail(f"expected {n} value{'s' if n != 1 else ''} ({per}), got {len(init)}",
                          top["init"].line, "init")
        else:
            init = (Fraction(0),) * n
        loss = self.choice(top["loss"], "loss", LOSSES) if "loss" in top else "half_mse"
        objective = parse(OBJECTIVES[loss], DATA_NAMES + ("w",))
        return dict(
            expression=objective,
            params=(("w", init),),
            constants=(("X", rows), ("y", y), ("m", Fraction(len(rows)))),
            linear=Linear(X=rows, y=y, bias=bias, loss=loss),
        )

    def data(self, top: dict[str, YamlNode]) -> tuple[tuple, tuple, bool]:
        """X's rows (with the column of ones when `bias: true`), y, and the bias flag."""
        data = self.mapping(top["data"], "data", ("X", "y"), ("X", "y"))
        X = self.array(data["X"], "data.X")
        if not isinstance(X, tuple) or len(_shape(X)) > 2:
            self.fail("expected a list of rows (or a flat list for one feature)",
                      data["X"].line, "data.X")
        rows = tuple(row if isinstance(row, tuple) else (row,) for row in X)
        m = len(rows)
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
        return rows, y, bias

    def free(self, top: dict[str, YamlNode]) -> dict:
        """An objective over params, and over X, y and m when the lesson has `data`."""
        for key in ("init", "loss") if "data" in top else LINEAR_KEYS:
            if key in top and "data" in top:
                self.fail(f"'{key}' goes with a linear lesson; with 'objective', the loss is "
                          "the objective and the initial values are in 'params'",
                          self.lines[key], key)
            if key in top:
                self.fail(f"'{key}' goes with 'data' (a linear lesson), not with 'objective'",
                          self.lines[key], key)
        if "params" not in top:
            self.fail("a lesson with 'objective' needs 'params' (name: initial value)",
                      self.lines["objective"], "objective")
        params = self.names(top["params"], "params")
        names = [n for n, _ in params]
        constants: tuple = ()
        if "data" in top:
            for name in names:
                if name in DATA_NAMES:
                    self.fail(f"'{name}' is the data's name ({', '.join(DATA_NAMES)} come from "
                              "'data'); choose another name", self.lines[f"params.{name}"],
                              f"params.{name}")
            rows, y, _ = self.data(top)
            constants = (("X", rows), ("y", y), ("m", Fraction(len(rows))))
            names += DATA_NAMES
        objective = self.expression(top["objective"], "objective", names)
        return dict(expression=objective, params=params, constants=constants)

    def descent_checkpoint(self, node: YamlNode, field: str, size: int, iterations: int,
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

    def node_names(self, node: YamlNode, expression: Expr) -> tuple[tuple[str, str], ...]:
        """`names`: what the graph calls an operation node, e.g. `{y: "x**2"}`; each source
        must be an operation of the expression (written any way that parses the same)."""
        if not isinstance(node.value, dict) or not node.value:
            self.fail(f"expected a mapping of node names to parts of the expression, "
                      f"got {show(node.value)}", node.line, "names")
        known = names_in(expression)
        parts = {render(e) for e in _operations(expression)}
        named: dict[str, str] = {}
        out = []
        for key, value in node.value.items():
            name, line, field = str(key), node.key_lines[key], join("names", str(key))
            if not name.strip() or "\n" in name or len(name) > MAX_NODE_NAME:
                self.fail(f"a node name is one line of at most {MAX_NODE_NAME} characters",
                          line, field)
            if name in known:
                self.fail(f"'{name}' is already a name in the expression; choose another",
                          line, field)
            label = render(self.expression(value, field, known))
            if label not in parts:
                hint = suggest(label, parts)
                self.fail(f"'{label}' is not an operation of the expression "
                          f"'{render(expression)}'{hint}", value.line, field)
            if label in named:
                self.fail(f"'{label}' is named twice ('{named[label]}' and '{name}')",
                          line, field)
            named[label] = name
            out.append((name, label))
        return tuple(out)

    def only(self, node: YamlNode, keys, field: str, allowed, kind: str) -> None:
        for key in keys:
            if key not in allowed:
                self.fail(f"'{key}' is not checked in a {kind} lesson; use "
                          + ", ".join(allowed), node.key_lines[key], f"{field}.{key}")

    def tol(self, keys: dict[str, YamlNode], field: str) -> Fraction | None:
        return self.nonnegative(keys["tol"], field + ".tol") if "tol" in keys else None

    def items(self, node: YamlNode | None, field: str):
        """(field[i], node) for each item of an optional list."""
        if node is None or node.value is None:
            return []
        if not isinstance(node.value, list):
            self.fail(f"expected a list, got {show(node.value)}", node.line, field)
        out = []
        for index, item in enumerate(node.value):
            self.record(f"{field}[{index}]", item.line)
            out.append((f"{field}[{index}]", item))
        return out


def _operations(e: Expr):
    """Every operation node of an expression (not its names or numbers)."""
    if e.op not in ("name", "const"):
        yield e
    for a in e.args:
        yield from _operations(a)


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


def check_computes(lesson: Lesson, label: str, dtype: str | None = None,
                   field: str | None = None, line: int | None = None) -> None:
    """Evaluate the lesson once, so that a shape mismatch is a load error, not a crash later."""
    if field is None:
        field = ("expression" if lesson.kind == "graph"
                 else "data" if lesson.linear is not None else "objective")
        line = lesson.line_of(field)
    try:
        with quiet_arithmetic():
            probe(lesson, dtype)
    except GdtutorError as exc:
        raise exc.located(file=label, line=line, field=field) from None
    except (ArithmeticError, ValueError, MemoryError, RecursionError) as exc:
        raise GdtutorError(f"cannot be computed: {exc}", file=label, line=line,
                           field=field) from None
