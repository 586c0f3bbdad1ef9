"""benchmarks/run.py --quick measures every figure at a tiny size and writes them as JSON; no
figure is judged here (speed targets live in benchmarks/ only)."""
from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
COMMITTED = RUN.parent / "results.json"
FIGURES = {"replay_numpy", "replay_torch", "first_frame", "first_frame_torch",
           "step_latency_80x24", "step_latency_120x40", "bytes_per_step", "long_jump",
           "history_memory", "fast_tests"}
GROUPS = "replay_numpy,replay_torch,first_frame,steps,long_jump,history_memory,fast_tests"


@pytest.mark.slow
def test_quick_run_writes_every_figure_as_json(tmp_path):
    before = COMMITTED.read_bytes() if COMMITTED.exists() else None
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--only", GROUPS, "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(out.read_text(encoding="utf-8"))

    assert record["quick"] is True
    assert {"cpu", "cores", "python", "numpy", "textual"} <= set(record["machine"])
    figures = {f["id"]: f for f in record["figures"]}
    assert set(figures) == FIGURES
    has_torch = importlib.util.find_spec("torch") is not None
    for fid, f in figures.items():
        if "torch" in fid and not has_torch:
            assert f["error"], fid          # measured only where torch is installed
            continue
        assert f["error"] is None, (fid, f["error"])
        assert isinstance(f["value"], (int, float)) and math.isfinite(f["value"]) and f["value"] > 0
        assert isinstance(f["target"], (int, float)) and f["target"] > 0
        assert f["met"] == (f["value"] <= f["target"])
        assert f["figure"] in proc.stdout, fid     # every figure is in the printed table
        if f["unit"] == "×":                       # a ratio is printed beside both its sides
            assert f["details"]["gdtutor_s"] > 0 and f["details"]["baseline_s"] > 0
    # a quick run never touches the committed results
    assert (COMMITTED.read_bytes() if COMMITTED.exists() else None) == before
