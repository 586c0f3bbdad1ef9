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
from .errors import GdtutorError, number_text, quoted, show, suggest
from .expr import FUNCTIONS, Expr, names_in, parse, render
from .i18n import _
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
        return _(" (did you mean '{close}'?)").format(close=same)
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
        raise GdtutorError(_("{number} is too large: a lesson's numbers have at "
                             "most {n} digits").format(number=number_text(number), n=MAX_DIGITS))
    return number


def _parse_number(value) -> Fraction:
    if isinstance(value, bool) or value is None:
        raise GdtutorError(_("expected a number, got {value}").format(value=show(value)))
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise GdtutorError(_("expected a finite number, got {value}").format(value=value))
        return Fraction(repr(value))  # as written: 0.01 is 1/100, not the nearest binary float
    if isinstance(value, str):
        match = _NUMBER.fullmatch(value) if len(value) <= MAX_NUMBER_TEXT else None
        if not match:
            raise GdtutorError(_("expected a number, got {value}").format(value=show(value)))
        top, bottom = match.group(1), match.group(2)
        denominator = Fraction(bottom) if bottom else Fraction(1)
        if denominator == 0:
            raise GdtutorError(_("division by zero in {value}").format(value=show(value)))
        return Fraction(top) / denominator
    raise GdtutorError(_("expected a number, got {value}").format(value=show(value)))


def check_lr(lr: Fraction) -> Fraction:
    """α as every way of setting it takes it (a file's `lr`, `--lr`, the API, the TUI's keys):
    zero or more. A negative α climbs the loss instead of descending it."""
    if lr < 0:
        raise GdtutorError(_("α must not be negative, got {lr}").format(lr=number_text(lr)))
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
            self.fail(_("expected a mapping of keys, got {value}").format(value=show(node.value)),
                      node.line, field or None)
        for key, key_line in node.key_lines.items():
            if key not in allowed:
                self.fail(_("unknown key '{key}'{suggestion}").format(
                    key=key, suggestion=key_hint(key, allowed)), key_line, join(field, key))
        missing = [k for k in required if k not in node.value]
        if missing:
            said = (_("missing required keys {keys}") if len(missing) > 1
                    else _("missing required key {keys}"))
            self.fail(said.format(keys=", ".join(quoted(k) for k in missing)), node.line,
                      field or None)
        for key, key_line in node.key_lines.items():
            self.record(join(field, key), key_line)
        return node.value

    def string(self, node: YamlNode, field: str) -> str:
        value = node.value
        if value is None or isinstance(value, (list, dict)):
            self.fail(_("expected a string, got {value}").format(value=show(value)), node.line,
                      field)
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
            self.fail(_("expected some text, got an empty string"), node.line, field)
        if one_line and ("\n" in en or "\n" in zh):
            self.fail(_("expected one line"), node.line, field)
        return Text(en=en, zh=zh)

    def choice(self, node: YamlNode, field: str, options) -> str:
        value = self.string(node, field)
        if value not in options:
            self.fail(_("expected one of {options}, got '{value}'{suggestion}").format(
                options=", ".join(options), value=value, suggestion=suggest(value, options)),
                node.line, field)
        return value

    def boolean(self, node: YamlNode, field: str) -> bool:
        if not isinstance(node.value, bool):
            self.fail(_("expected true or false, got {value}").format(value=show(node.value)),
                      node.line, field)
        return node.value

    def number(self, node: YamlNode, field: str) -> Fraction:
        self.numbers += 1
        if self.numbers > MAX_NUMBERS:
            self.fail(_("more than {n} numbers in one lesson").format(n=MAX_NUMBERS), node.line,
                      field)
        try:
            return parse_number(node.value)
        except GdtutorError as exc:
            raise exc.located(file=self.label, line=node.line, field=field) from None

    def integer(self, node: YamlNode, field: str, low: int, high: int) -> int:
        value = self.number(node, field)
        if value.denominator != 1:
            self.fail(_("expected a whole number, got {value}").format(value=value), node.line,
                      field)
        if not low <= value <= high:
            self.fail(_("expected a whole number from {low} to {high}, got {value}").format(
                low=low, high=high, value=value), node.line, field)
        return int(value)

    def learning_rate(self, node: YamlNode) -> Fraction:
        try:
            return check_lr(self.number(node, "lr"))
        except GdtutorError as exc:
            raise exc.located(file=self.label, line=node.line, field="lr") from None

    def nonnegative(self, node: YamlNode, field: str) -> Fraction:
        value = self.number(node, field)
        if value < 0:
            self.fail(_("expected a number of at least 0, got {value}").format(value=value),
                      node.line, field)
        return value

    def array(self, node: YamlNode, field: str, depth: int = 0):
        """A number, or nested lists of numbers as nested tuples of Fractions (not ragged)."""
        if not isinstance(node.value, list):
            return self.number(node, field)
        if depth >= MAX_DIMS:
            self.fail(_("more than {n} dimensions").format(n=MAX_DIMS), node.line, field)
        if not node.value:
            self.fail(_("expected numbers, got an empty list"), node.line, field)
        items = [self.array(item, field, depth + 1) for item in node.value]
        first = _shape(items[0])
        for index, (item, item_node) in enumerate(zip(items, node.value)):
            if _shape(item) != first:
                self.fail(_("ragged list: item {i} has shape {shape} where item 1 has {first}")
                          .format(i=index + 1, shape=_shape_text(_shape(item)),
                                  first=_shape_text(first)), item_node.line, field)
        return tuple(items)

    def vector(self, node: YamlNode, field: str) -> tuple[Fraction, ...]:
        """A flat list of numbers (nested lists are flattened; one number is a list of one)."""
        return tuple(_flatten(self.array(node, field)))

    def names(self, node: YamlNode, field: str) -> tuple[tuple[str, object], ...]:
        """name -> number or nested list, in order, the names fit for an expression."""
        if not isinstance(node.value, dict) or not node.value:
            self.fail(_("expected a mapping of names to values, got {value}").format(
                value=show(node.value)), node.line, field)
        out = []
        for name, value in node.value.items():
            line = node.key_lines[name]
            if not _NAME.fullmatch(name) or keyword.iskeyword(name):
                self.fail(_("'{name}' is not a valid name (letters, digits and _; "
                            "not starting with a digit)").format(name=name), line, join(field, name))
            if name in FUNCTIONS:
                self.fail(_("'{name}' is the name of a function; choose another name").format(
                    name=name), line, join(field, name))
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
                self.fail(_("'{key}' belongs to {other} lessons, not to a {kind} lesson").format(
                    key=key, other=_(other), kind=_(kind)), root.key_lines[key], key)
        lesson_id = self.string(top["id"], "id")
        if not _ID.fullmatch(lesson_id) or len(lesson_id) > 64:
            self.fail(_("'{id}' is not a valid id: use a-z, 0-9 and '-' only").format(
                id=lesson_id), top["id"].line, "id")
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
            self.fail(_("exact arithmetic runs on the numpy backend only"),
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
            self.fail(_("missing required key '{key}' (a graph lesson needs it)").format(
                key=missing[0]), root.line, None)
        inputs = self.names(top["inputs"], "inputs")
        names = [name for name, _ in inputs]
        expression = self.expression(top["expression"], "expression", names)
        checkpoints = []
        for field, node in self.items(top.get("checkpoints"), "checkpoints"):
            keys = self.mapping(node, field, GRAPH_CHECKPOINT_KEYS + DESCENT_CHECKPOINT_KEYS)
            self.only(node, keys, field, GRAPH_CHECKPOINT_KEYS, "graph")
            value = self.array(keys["value"], field + ".value") if "value" in keys else None
            if isinstance(value, tuple):
                self.fail(_("expected one number (the expression gives one), got a list of "
                            "shape {shape}").format(shape=_shape_text(_shape(value))),
                          keys["value"].line, field + ".value")
            grads = None
            if "grads" in keys:
                grads_node = keys["grads"]
                for name, line in (grads_node.key_lines or {}).items():
                    if name not in names:
                        self.fail(_("'{name}' is not an input{suggestion}; "
                                    "the inputs are {names}").format(
                            name=name, suggestion=suggest(name, names), names=", ".join(names)),
                            line, f"{field}.grads.{name}")
                named = self.mapping(grads_node, field + ".grads", names)
                grads = tuple((name, self.array(v, f"{field}.grads.{name}"))
                              for name, v in named.items())
                shapes = {name: _shape(value) for name, value in inputs}
                for name, grad in grads:
                    if _shape(grad) != shapes[name]:
                        self.fail(_("expected the shape of input '{name}' ({shape}), got {got}")
                                  .format(name=name, shape=_shape_text(shapes[name]),
                                          got=_shape_text(_shape(grad))),
                                  named[name].line, f"{field}.grads.{name}")
            if value is None and grads is None:
                self.fail(_("a checkpoint needs 'value' or 'grads'"), node.line, field)
            checkpoints.append(Checkpoint(line=node.line, value=value, grads=grads,
                                          tol=self.tol(keys, field)))
        return dict(expression=expression, params=inputs, checkpoints=tuple(checkpoints))

    def descent(self, root: YamlNode, top: dict[str, YamlNode], dtype: str) -> dict:
        for key in ("lr", "iterations"):
            if key not in top:
                self.fail(_("missing required key '{key}' (a descent lesson needs it)").format(
                    key=key), root.line, None)
        if "data" not in top and "objective" not in top:
            self.fail(_("a descent lesson needs 'data' (a linear model) or 'objective' "
                        "(a free expression)"), root.line, None)
        iterations = self.integer(top["iterations"], "iterations", 1, MAX_ITERATIONS)
        if dtype == "exact" and iterations > MAX_EXACT_ITERATIONS:
            self.fail(_("at most {n} with exact arithmetic (exact fractions "
                        "grow with every step), got {got}").format(
                n=MAX_EXACT_ITERATIONS, got=iterations), top["iterations"].line, "iterations")
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
                self.fail(_("'{key}' goes with 'objective'; a linear lesson (with 'data') "
                            "has 'init' instead").format(key=key), self.lines[key], key)
        rows, y, bias = self.data(top)
        n = len(rows[0])
        if "init" in top:
            init = self.vector(top["init"], "init")
            if len(init) != n:
                if bias:
                    said = (_("expected {n} values (one per column of X, plus one for the bias), "
                              "got {got}") if n != 1 else
                            _("expected {n} value (one per column of X, plus one for the bias), "
                              "got {got}"))
                else:
                    said = (_("expected {n} values (one per column of X), got {got}") if n != 1
                            else _("expected {n} value (one per column of X), got {got}"))
                self.fail(said.format(n=n, got=len(init)), top["init"].line, "init")
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
            self.fail(_("expected a list of rows (or a flat list for one feature)"),
                      data["X"].line, "data.X")
        rows = tuple(row if isinstance(row, tuple) else (row,) for row in X)
        m = len(rows)
        y = self.array(data["y"], "data.y")
        if isinstance(y, tuple) and len(_shape(y)) == 2 and _shape(y)[1] == 1:
            y = tuple(v for (v,) in y)  # a column, as the document's y.reshape(m, 1)
        if not isinstance(y, tuple) or len(_shape(y)) != 1:
            self.fail(_("expected a flat list of targets"), data["y"].line, "data.y")
        if len(y) != m:
            said = (_("expected {n} values (one per row of X), got {got}") if m != 1
                    else _("expected {n} value (one per row of X), got {got}"))
            self.fail(said.format(n=m, got=len(y)), data["y"].line, "data.y")
        bias = self.boolean(top["bias"], "bias") if "bias" in top else False
        if bias:
            rows = tuple(row + (Fraction(1),) for row in rows)
        return rows, y, bias

    def free(self, top: dict[str, YamlNode]) -> dict:
        """An objective over params, and over X, y and m when the lesson has `data`."""
        for key in ("init", "loss") if "data" in top else LINEAR_KEYS:
            if key in top and "data" in top:
                self.fail(_("'{key}' goes with a linear lesson; with 'objective', the loss is "
                            "the objective and the initial values are in 'params'").format(
                    key=key), self.lines[key], key)
            if key in top:
                self.fail(_("'{key}' goes with 'data' (a linear lesson), not with 'objective'")
                          .format(key=key), self.lines[key], key)
        if "params" not in top:
            self.fail(_("a lesson with 'objective' needs 'params' (name: initial value)"),
                      self.lines["objective"], "objective")
        params = self.names(top["params"], "params")
        names = [n for n, _ in params]
        constants: tuple = ()
        if "data" in top:
            for name in names:
                if name in DATA_NAMES:
                    self.fail(_("'{name}' is the data's name ({names} come from "
                                "'data'); choose another name").format(
                        name=name, names=", ".join(DATA_NAMES)), self.lines[f"params.{name}"],
                        f"params.{name}")
            rows, y, _bias = self.data(top)
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
                self.fail(_("'diverged' stands alone in its checkpoint; move '{key}' "
                            "to a checkpoint of its own").format(key=others[0]),
                          node.key_lines[others[0]], field)
            return Checkpoint(line=node.line, diverged=self.integer(
                keys["diverged"], field + ".diverged", 0, iterations))
        if "step" not in keys:
            self.fail(_("a checkpoint needs 'step' (or 'diverged')"), node.line, field)
        if not any(k in keys for k in ("weights", "loss", "grad", "sse")):
            self.fail(_("a checkpoint needs something to check: weights, loss, grad or sse"),
                      node.line, field)
        if "sse" in keys and not linear:
            self.fail(_("'sse' applies only to a linear lesson (with 'data')"),
                      node.key_lines["sse"], field + ".sse")
        found = dict(line=node.line, tol=self.tol(keys, field),
                     step=self.integer(keys["step"], field + ".step", 0, iterations))
        for key in ("weights", "grad"):
            if key in keys:
                values = self.vector(keys[key], f"{field}.{key}")
                if len(values) != size:
                    said = (_("expected {n} values (one per weight), got {got}") if size != 1
                            else _("expected {n} value (one per weight), got {got}"))
                    self.fail(said.format(n=size, got=len(values)), keys[key].line,
                              f"{field}.{key}")
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
                self.fail(_("'{key}' is not checked in a {kind} lesson; use {keys}").format(
                    key=key, kind=_(kind), keys=", ".join(allowed)),
                    node.key_lines[key], f"{field}.{key}")

    def tol(self, keys: dict[str, YamlNode], field: str) -> Fraction | None:
        return self.nonnegative(keys["tol"], field + ".tol") if "tol" in keys else None

    def items(self, node: YamlNode | None, field: str):
        """(field[i], node) for each item of an optional list."""
        if node is None or node.value is None:
            return []
        if not isinstance(node.value, list):
            self.fail(_("expected a list, got {value}").format(value=show(node.value)),
                      node.line, field)
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
    return _("a number") if not shape else "×".join(map(str, shape))


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
        raise GdtutorError(_("cannot be computed: {error}").format(error=exc), file=label,
                           line=line, field=field) from None
