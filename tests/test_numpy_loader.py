"""numpy imported for the first frame without its help texts, which come after: in the end
numpy is as a plain import leaves it. Each case runs in a fresh interpreter."""
from fresh import fresh_json as run
from gdtutor.tui.numpy_loader import _core_init, docs_can_wait

# every help text numpy has in its namespace, and a computation
SURVEY = """
import json, hashlib, numpy as np
docs = {}
for space in (np, np.ndarray, np.dtype, np.float32, np.generic):
    for name in dir(space):
        doc = getattr(getattr(space, name, None), "__doc__", None)
        docs[f"{space.__name__}.{name}"] = doc if isinstance(doc, str) else None
digest = hashlib.sha256(json.dumps(docs, sort_keys=True).encode()).hexdigest()
X = np.array([[1, 1], [3, 1]], dtype=np.float32)
w = np.zeros(2, dtype=np.float32)
for _ in range(1000):
    w = w - np.float32(0.01) * X.T @ (X @ w - np.array([2, 4], dtype=np.float32)) / 2
print(json.dumps({"digest": digest, "documented": sum(d is not None for d in docs.values()),
                  "w": w.tolist()}))
"""


def test_the_installed_numpy_lets_its_help_texts_wait():
    assert docs_can_wait(_core_init())


def test_numpy_works_at_once_and_has_every_help_text_after_add_docs():
    plain = run(SURVEY)
    before = run("from gdtutor.tui.numpy_loader import import_numpy\nimport_numpy()\n" + SURVEY)
    after = run("from gdtutor.tui.numpy_loader import add_docs, import_numpy\nimport_numpy()\n"
                "add_docs()\n" + SURVEY)
    assert before["w"] == after["w"] == plain["w"]
    assert abs(plain["w"][0] - 1.0372) < 1e-4 and abs(plain["w"][1] - 0.9102) < 1e-4
    assert before["documented"] < plain["documented"]           # the texts did wait
    assert after["digest"] == plain["digest"]                   # and are all there after


def test_the_real_help_text_modules_take_the_stand_ins_place():
    names = run("""
import json, sys
from gdtutor.tui.numpy_loader import DOCS, add_docs, import_numpy
import_numpy()
kinds = [type(sys.modules[name]).__name__ for name in DOCS]
add_docs()
add_docs()                  # a second call changes nothing
import numpy._core
print(json.dumps({"before": kinds, "after": [type(sys.modules[n]).__name__ for n in DOCS],
                  "attribute": type(numpy._core._add_newdocs).__name__}))
""")
    assert names == {"before": ["_StandIn", "_StandIn"], "after": ["module", "module"],
                     "attribute": "module"}


def test_numpy_already_imported_is_left_alone():
    seen = run("""
import json, sys, numpy
from gdtutor.tui.numpy_loader import DOCS, add_docs, import_numpy
import_numpy()
add_docs()
print(json.dumps([type(sys.modules[n]).__name__ for n in DOCS]))
""")
    assert seen == ["module", "module"]


def test_a_numpy_that_uses_its_help_text_modules_otherwise_is_imported_as_it_is():
    source = _core_init()
    assert not docs_can_wait(source + "\nx = _add_newdocs.something\n")
    assert not docs_can_wait(source.replace("    _add_newdocs,\n", "    _add_newdocs as d,\n"))
    assert not docs_can_wait("")                                 # numpy's source not found
    kinds = run("""
import json, sys
from gdtutor.tui import numpy_loader
numpy_loader._core_init = lambda: ""
numpy_loader.import_numpy()
print(json.dumps([type(sys.modules[n]).__name__ for n in numpy_loader.DOCS]))
""")
    assert kinds == ["module", "module"]


def test_help_texts_that_fail_to_load_leave_numpy_working():
    seen = run("""
import json, sys, importlib
from gdtutor.tui import numpy_loader
numpy_loader.import_numpy()
real = importlib.import_module
def failing(name, *args):
    if name in numpy_loader.DOCS:
        raise RuntimeError("a docstring is already there")
    return real(name, *args)
numpy_loader.importlib.import_module = failing
numpy_loader.add_docs()
import numpy as np
print(json.dumps({"left": [n in sys.modules for n in numpy_loader.DOCS],
                  "sum": float((np.ones(3) @ np.ones(3)))}))
""")
    assert seen == {"left": [False, False], "sum": 3.0}
