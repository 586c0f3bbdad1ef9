"""gdtutor's benchmarks: the speed a student feels, each figure against its baseline and target.

    python benchmarks/run.py                     every figure but fast_tests, full size
    python benchmarks/run.py --only replay_torch one measurement (see --help for the names)
    python benchmarks/run.py --only fast_tests   the fast test tier's wall time (slow itself)
    python benchmarks/run.py --quick             tiny sizes: checks the harness, measures nothing

Prints a table and, at full size, merges the figures into benchmarks/results.json (or --out
PATH) and rewrites the results section of benchmarks/README.md from it. Every figure is a
median over repeated runs; where a target is a ratio, both sides are measured in the same run,
in alternating order. See benchmarks/README.md for what each figure means.
"""
from __future__ import annotations

import argparse
import compileall
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from terminal import Terminal  # noqa: E402

RESULTS = HERE / "results.json"
README = HERE / "README.md"
LESSON = "grad-descent"               # the document's gradDescent: float32, lr 0.01, half_mse
TITLE = "gradDescent"                 # on the baseline's first frame
# on the lesson screen's first frame whatever else the status line holds (at 80 columns
# `loading torch…` shortens the title to `The gradDesce…`)
LESSON_SHOWN = "k = 0 of"
TORCH_READY = "L(w0) ="               # step 0 on screen: torch has computed the loss
FRAME_QUIET = 0.15                    # no output for this long: the frame is painted
STEP_QUIET = 0.1                      # no output for this long: the update is complete


@dataclass
class Size:
    """How much work each figure does: full for the record, quick for the smoke test."""

    replay_steps: int = 100_000
    replay_rounds: int = 5
    torch_rounds: int = 5
    frame_rounds: int = 11
    steps: int = 50
    jumps: int = 5
    jump_to: int = 10_000
    memory_steps: int = 1_000_000
    memory_rounds: int = 3
    extras: bool = True               # the figures that explain, beside those that are judged


QUICK = Size(replay_steps=10_000, replay_rounds=1, torch_rounds=1, frame_rounds=1, steps=5,
             jumps=1, memory_steps=20_000, memory_rounds=1, extras=False)


# id: (name in the table, unit, target); the value must be at or below the target
SPECS = {
    "replay_numpy": ("replay, numpy", "×", 2.0),
    "replay_torch": ("replay, torch", "×", 1.0),
    "first_frame": ("first frame, numpy lesson", "×", 1.1),
    "first_frame_torch": ("first frame, torch lesson", "×", 1.1),
    "step_latency_80x24": ("step latency, 80×24 (p95)", "ms", 30.0),
    "step_latency_120x40": ("step latency, 120×40 (p95)", "ms", 30.0),
    "bytes_per_step": ("bytes per step, 100×30", "B", 6144),
    "long_jump": ("long jump to 10,000", "s", 0.3),
    "history_memory": ("history memory", "MB", 150.0),
    "fast_tests": ("pytest -m 'not slow'", "s", 120.0),
    "serve_key_p95": ("serve: key to screen, 20 sessions (p95)", "ms", 150.0),
    "serve_idle_rss": ("serve: memory per idle session (max)", "MB", 120.0),
    "serve_tab_closed": ("serve: closed tab to ended process", "s", 5.0),
}


@dataclass
class Figure:
    """One row of the table: what was measured, its target, and how it was found."""

    id: str
    name: str
    value: float | None
    unit: str
    target: float
    details: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def met(self) -> bool:
        return self.value is not None and self.value <= self.target

    def as_json(self) -> dict:
        return {"id": self.id, "figure": self.name, "value": self.value, "unit": self.unit,
                "target": self.target, "met": self.met, "details": self.details,
                "error": self.error}


def figure(fid: str, value: float | None, details: dict | None = None,
           error: str | None = None) -> Figure:
    name, unit, target = SPECS[fid]
    return Figure(fid, name, value, unit, target, details or {}, error)


# -- running programs -------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment every measured program gets: this checkout, English, a plain xterm."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEXTUAL", "GDTUTOR")) and k not in ("SSH_CONNECTION", "COLUMNS",
                                                                   "LINES", "LC_ALL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["TERM"] = "xterm-256color"
    env["LANG"] = "C.UTF-8"
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # the checkout is compiled, as an install is
    return env


def compile_checkout() -> None:
    """Byte-compile gdtutor as `pip install` does, so that no measured start-up includes
    compiling a module that changed since its last run."""
    compileall.compile_dir(str(REPO / "gdtutor"), quiet=1)


def gdtutor(*args: str) -> list[str]:
    return [sys.executable, "-m", "gdtutor", *args]


def script(name: str, *args: object) -> list[str]:
    return [sys.executable, str(HERE / name), *map(str, args)]


@dataclass
class Run:
    """A finished process: wall time from spawn to exit, CPU time, peak memory, and output."""

    wall: float
    cpu: float
    maxrss_mb: float
    status: int
    stdout: str
    stderr: str


def run(argv: list[str]) -> Run:
    """Start argv, wait for it, and take its own resource usage (os.wait4: this child only)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=child_env(), cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        result = Run(wall, usage.ru_utime + usage.ru_stime, peak_mb, proc.returncode,
                     out.read().decode(errors="replace"), err.read().decode(errors="replace"))
    if result.status != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} exited with {result.status}: "
                           f"{(result.stderr or result.stdout).strip()[-300:]}")
    return result


def alternating(rounds: int, sides: dict[str, Callable[[], object]],
                errors: dict[str, str] | None = None) -> dict[str, list]:
    """Each side once a round, the order turned round every round, so that a slow spell of a
    shared machine falls on both sides alike.

    With `errors`, a side that fails is recorded there and left out of later rounds; without
    it, the failure ends the measurement.
    """
    samples: dict[str, list] = {name: [] for name in sides}
    names = list(sides)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            if errors is not None and name in errors:
                continue
            try:
                samples[name].append(sides[name]())
            except Exception as exc:
                if errors is None:
                    raise
                errors[name] = f"{type(exc).__name__}: {exc}"
    return samples


def median(values) -> float:
    return statistics.median(values)


def paired_ratio(ours: list[float], base: list[float]) -> float:
    """The median of each round's ratio: the two runs of a round are next to each other in
    time, so a machine that slows down or speeds up during the measurement moves both."""
    return median(a / b for a, b in zip(ours, base))


def percentile(values, p: float) -> float:
    """The p-th percentile, by linear interpolation between the closest ranks."""
    s = sorted(values)
    pos = (len(s) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def final_weights(summary: str, steps: int) -> list[float]:
    """w_N from `replay --format summary`."""
    match = re.search(rf"w_{steps} = \[([^\]]*)\]", summary)
    if not match:
        raise RuntimeError(f"no w_{steps} in the replay summary")
    return [float(v) for v in match.group(1).split(",")]


# -- replay -----------------------------------------------------------------------------------


def replay_figure(size: Size, backend: str) -> Figure:
    n = size.replay_steps
    ours = gdtutor("replay", LESSON, "--steps", str(n), "--format", "summary", "--backend", backend)
    if backend == "numpy":
        fid, rounds = "replay_numpy", size.replay_rounds
        base = script("baselines/bare_numpy.py", n)
        base_name = "bare numpy loop, float32"
    else:
        fid, rounds = "replay_torch", size.torch_rounds
        base = script("baselines/doc_torch.py", n)
        base_name = "the document's loop, loss.backward() and the update under no_grad"
    samples = alternating(rounds, {"gdtutor": lambda: run(ours), "baseline": lambda: run(base)})
    ours_runs = [r.wall for r in samples["gdtutor"]]
    base_runs = [r.wall for r in samples["baseline"]]
    ours_s, base_s = median(ours_runs), median(base_runs)
    base_out = json.loads(samples["baseline"][-1].stdout)
    weights = final_weights(samples["gdtutor"][-1].stdout, n)
    details = {
        "iterations": n, "rounds": rounds,
        "command": " ".join(["gdtutor", *ours[3:]]),
        "baseline": base_name,
        "gdtutor_s": round(ours_s, 3), "baseline_s": round(base_s, 3),
        "ratio_of_medians": round(ours_s / base_s, 2),
        # CPU time (user + system) is far less disturbed by other work on a shared machine
        "cpu_ratio": round(paired_ratio([r.cpu for r in samples["gdtutor"]],
                                        [r.cpu for r in samples["baseline"]]), 2),
        "gdtutor_runs_s": [round(v, 3) for v in ours_runs],
        "baseline_runs_s": [round(v, 3) for v in base_runs],
        "same_weights": all(abs(a - b) <= 1e-6 for a, b in zip(weights, base_out["weights"])),
    }
    if size.extras:
        # The loops alone, inside one process each (start-up excluded): for the README's
        # account of where the time goes; the target is on whole processes.
        inside = alternating(min(rounds, 3), {
            "gdtutor": lambda: json.loads(run(script("inprocess.py", backend, n)).stdout)["loop_s"],
            "baseline": lambda: json.loads(run(base).stdout)["loop_s"]})
        details["loop_gdtutor_s"] = round(median(inside["gdtutor"]), 3)
        details["loop_baseline_s"] = round(median(inside["baseline"]), 3)
        details["loop_ratio"] = round(details["loop_gdtutor_s"] / details["loop_baseline_s"], 2)
        details["per_step_us"] = round(details["loop_gdtutor_s"] / n * 1e6, 1)
    return figure(fid, round(paired_ratio(ours_runs, base_runs), 2), details)


def memory_figure(size: Size) -> Figure:
    n = size.memory_steps
    argv = gdtutor("replay", LESSON, "--steps", str(n), "--format", "summary")
    runs = [run(argv) for _ in range(size.memory_rounds)]
    peak = median(r.maxrss_mb for r in runs)
    bare = run([sys.executable, "-c", "import numpy, yaml"]).maxrss_mb
    return figure("history_memory", round(peak, 1), {
        "iterations": n, "rounds": size.memory_rounds,
        "command": " ".join(["gdtutor", *argv[3:]]),
        "runs_mb": [round(r.maxrss_mb, 1) for r in runs],
        "python_numpy_yaml_mb": round(bare, 1),
        "history_bytes": (n + 1) * (2 + 2 + 1) * 4,
    })


# -- the terminal -----------------------------------------------------------------------------


def first_paint(argv: list[str], marker: str, cols: int = 80, rows: int = 24,
                keep: bool = False) -> tuple[float, Terminal | None]:
    """Seconds from process start to the end of the first painted frame holding `marker`."""
    term = Terminal(argv, cols, rows, env=child_env(), cwd=str(REPO))
    try:
        term.wait_for(marker, timeout=120)
        end = term.settle(FRAME_QUIET, timeout=30)
    except BaseException:
        term.close()
        raise
    seconds = end - term.started
    if keep:
        return seconds, term
    term.close()
    return seconds, None


def first_frame_figures(size: Size) -> list[Figure]:
    baseline = script("baselines/textual_app.py")
    lesson = gdtutor(LESSON)
    torch_lesson = gdtutor(LESSON, "--backend", "torch")
    torch_ready: list[float] = []

    def torch_first() -> float:
        seconds, term = first_paint(torch_lesson, LESSON_SHOWN, keep=True)
        try:
            if size.extras:   # not the figure: when torch's numbers have replaced the wait
                term.wait_for(TORCH_READY, timeout=120)
                torch_ready.append(term.settle(FRAME_QUIET, 30) - term.started)
        finally:
            term.close()
        return seconds

    errors: dict[str, str] = {}
    samples = alternating(size.frame_rounds, {
        "baseline": lambda: first_paint(baseline, TITLE)[0],
        "lesson": lambda: first_paint(lesson, LESSON_SHOWN)[0],
        "torch": torch_first}, errors)
    if "baseline" in errors:
        raise RuntimeError(f"the baseline app failed: {errors['baseline']}")
    base_s = median(samples["baseline"])
    out = []
    for fid, key, argv in (("first_frame", "lesson", lesson),
                           ("first_frame_torch", "torch", torch_lesson)):
        if key in errors:
            out.append(figure(fid, None, error=errors[key]))
            continue
        ours = median(samples[key])
        details = {"rounds": size.frame_rounds, "terminal": "80×24 pty, TERM=xterm-256color",
                   "command": " ".join(["gdtutor", *argv[3:]]),
                   "baseline": "benchmarks/baselines/textual_app.py",
                   "gdtutor_s": round(ours, 3), "baseline_s": round(base_s, 3),
                   "ratio_of_medians": round(ours / base_s, 2),
                   "gdtutor_runs_s": [round(v, 3) for v in samples[key]],
                   "baseline_runs_s": [round(v, 3) for v in samples["baseline"]]}
        if key == "torch" and torch_ready:
            details["torch_numbers_on_screen_s"] = round(median(torch_ready), 3)
        out.append(figure(fid, round(paired_ratio(samples[key], samples["baseline"]), 2),
                          details))
    return out


def open_lesson(cols: int, rows: int, argv: list[str] | None = None) -> Terminal:
    """The lesson (or another program showing TITLE) on screen and idle, ready for keys."""
    _, term = first_paint(argv or gdtutor(LESSON), TITLE, cols, rows, keep=True)
    term.drain(quiet=0.3, timeout=30)
    return term


def steps_in_terminal(size: Size, cols: int, rows: int,
                      argv: list[str] | None = None) -> tuple[list[float], list[int]]:
    """(latency in ms, bytes written) for each of size.steps presses of n."""
    latencies, sizes = [], []
    with open_lesson(cols, rows, argv) as term:
        for k in range(1, size.steps + 1):
            seconds, written = term.response("n", STEP_QUIET, timeout=30,
                                             marker=f"k = {k} of")
            latencies.append(seconds * 1000)
            sizes.append(written)
    return latencies, sizes


def step_figures(size: Size) -> list[Figure]:
    out = []
    for cols, rows in ((80, 24), (120, 40)):
        latencies, written = steps_in_terminal(size, cols, rows)
        out.append(figure(f"step_latency_{cols}x{rows}", round(percentile(latencies, 95), 1), {
            "steps": size.steps, "p50_ms": round(median(latencies), 1),
            "p95_ms": round(percentile(latencies, 95), 1), "max_ms": round(max(latencies), 1),
            "mean_bytes": round(statistics.mean(written))}))
    latencies, written = steps_in_terminal(size, 100, 30)
    out.append(figure("bytes_per_step", round(statistics.mean(written)), {
        "steps": size.steps, "TERM": "xterm-256color", "p50_bytes": round(median(written)),
        "p95_bytes": round(percentile(written, 95)), "max_bytes": max(written),
        "p95_ms": round(percentile(latencies, 95), 1)}))
    return out


def long_jump_figure(size: Size) -> Figure:
    times = []
    target = size.jump_to
    with open_lesson(80, 24) as term:
        for _ in range(size.jumps):
            term.response("g", STEP_QUIET, timeout=30, marker="Go to")
            term.response(str(target), STEP_QUIET, timeout=30, marker=str(target))
            seconds, _ = term.response("\r", STEP_QUIET, timeout=60, marker=f"k = {target} of")
            times.append(seconds)
            term.response("r", STEP_QUIET, timeout=30, marker="k = 0 of")
    return figure("long_jump", round(median(times), 3), {
        "jumps": size.jumps, "runs_s": [round(t, 3) for t in times], "terminal": "80×24",
        "keys": f"g {target} Enter, r between jumps"})


def fast_tests_figure(size: Size) -> Figure:
    """Wall time of the fast test tier, as a contributor runs it (with pytest-xdist on every
    core where it is installed). At --quick size, one small test file stands in, on one core."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
    if size is QUICK:
        argv += ["tests/test_lines.py"]
    elif importlib.util.find_spec("xdist") is not None:
        argv += ["-n", str(os.cpu_count() or 1)]
    done = run(argv)
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    return figure("fast_tests", round(done.wall, 1), {
        "command": shlex.join(["python", *argv[1:]]), "cores": os.cpu_count(),
        "summary": summary})


def classroom_figures(size: Size) -> list[Figure]:
    """`gdtutor serve` for a class (benchmarks/classroom.py, which prints the full table):
    20 sessions (3 at --quick size) speaking what the page speaks, a burst of 50 tabs."""
    import asyncio
    from classroom import classroom
    students, burst = (3, 6) if size is QUICK else (20, 50)
    found = asyncio.run(classroom(students, 2 if size is QUICK else 5, burst))
    details = {"sessions": students, "burst": burst, "key_p50_ms": round(found["key_p50_ms"]),
               "rss_mb_median": round(found["rss_mb_median"], 1),
               "burst_shown": found["burst_shown"], "server_running": found["server_running"]}
    return [figure("serve_key_p95", round(found["key_p95_ms"]), details),
            figure("serve_idle_rss", round(found["rss_mb_max"], 1), details),
            figure("serve_tab_closed", round(found["end_after_close_s_max"], 2), details)]


# -- the record -------------------------------------------------------------------------------


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO,
                                capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": version("numpy"),
            "torch": version("torch"), "textual": version("textual"), "commit": commit}


# the measurements, each giving the figures listed beside it
GROUPS: dict[str, tuple[Callable[[Size], Figure | list[Figure]], tuple[str, ...]]] = {
    "replay_numpy": (lambda size: replay_figure(size, "numpy"), ("replay_numpy",)),
    "replay_torch": (lambda size: replay_figure(size, "torch"), ("replay_torch",)),
    "first_frame": (first_frame_figures, ("first_frame", "first_frame_torch")),
    "steps": (step_figures, ("step_latency_80x24", "step_latency_120x40", "bytes_per_step")),
    "long_jump": (long_jump_figure, ("long_jump",)),
    "history_memory": (memory_figure, ("history_memory",)),
    "fast_tests": (fast_tests_figure, ("fast_tests",)),
    "classroom": (classroom_figures, ("serve_key_p95", "serve_idle_rss", "serve_tab_closed")),
}
# these two only when asked: the whole fast test tier, and a server with 20 sessions
DEFAULT = [name for name in GROUPS if name not in ("fast_tests", "classroom")]


def measure(names: list[str], size: Size) -> list[Figure]:
    figures: list[Figure] = []
    for name in names:
        fn, ids = GROUPS[name]
        print(f"measuring {name}…", file=sys.stderr, flush=True)
        try:
            got = fn(size)
        except Exception as exc:     # one broken measurement must not hide the others
            got = [figure(fid, None, error=f"{type(exc).__name__}: {exc}") for fid in ids]
        figures.extend(got if isinstance(got, list) else [got])
    return figures


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "×":
        return f"{value:.2f}×"
    return f"{value:g} {unit}"


def row(f: dict) -> tuple[str, ...]:
    """(figure, gdtutor, baseline, ratio, target, verdict) of one figure's JSON."""
    d = f["details"]
    if f["unit"] == "×":
        ours = f"{d['gdtutor_s']} s" if "gdtutor_s" in d else "—"
        base = f"{d['baseline_s']} s" if "baseline_s" in d else "—"
        ratio = show(f["value"], "×")
    else:
        ours, base, ratio = show(f["value"], f["unit"]), "—", "—"
    verdict = "pass" if f["met"] else ("error" if f["error"] else "MISS")
    return (f["figure"], ours, base, ratio, f"≤ {show(f['target'], f['unit'])}", verdict)


def table(figures: list[dict]) -> str:
    rows = [("figure", "gdtutor", "baseline", "ratio", "target", "")]
    rows += [row(f) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines += [f"{f['figure']}: {f['error']}" for f in figures if f["error"]]
    return "\n".join(lines)


def readme_block(record: dict) -> str:
    m = record["machine"]
    lines = [f"{m['cpu']}, {m['cores']} cores, {m['platform']}, Python {m['python']}, "
             f"numpy {m['numpy']}, torch {m['torch']}, textual {m['textual']}.", "",
             "| figure | gdtutor | baseline | ratio | target | | measured (commit, load average) |",
             "|---|---|---|---|---|---|---|"]
    for f in record["figures"]:
        when = f"{f['date'][:10]} ({f['commit']}, {f['load_before']})"
        lines.append("| " + " | ".join(row(f)) + f" | {when} |")
    return "\n".join(lines)


def update_readme(record: dict) -> None:
    begin, end = "<!-- results: begin -->", "<!-- results: end -->"
    text = README.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{begin}\n{readme_block(record)}\n{end}{tail}", encoding="utf-8")


def merged(path: Path, new: list[dict]) -> list[dict]:
    """The figures recorded at path with the new ones in their place, in the table's order,
    each judged against today's target."""
    record: dict = {}
    if path.exists():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
    # a figure without its own date, commit and load was measured with the record's
    stamp = {"date": record.get("date"), "commit": record.get("machine", {}).get("commit"),
             "load_before": record.get("load_before")}
    by_id = {f["id"]: {**stamp, **f} for f in record.get("figures", []) if f.get("id") in SPECS}
    by_id.update({f["id"]: f for f in new})
    out = []
    for fid in SPECS:
        if fid in by_id:
            f = dict(by_id[fid])
            if f["load_before"] is not None:
                f["load_before"] = round(f["load_before"], 2)
            f["figure"], f["unit"], f["target"] = SPECS[fid]
            f["met"] = f["value"] is not None and f["value"] <= f["target"]
            out.append(f)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness only")
    p.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    p.add_argument("--only", help=f"comma-separated subset of: {', '.join(GROUPS)} "
                                  f"(default: all but fast_tests)")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else DEFAULT
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        p.error(f"unknown figure(s): {', '.join(unknown)}")
    size = QUICK if args.quick else Size()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    compile_checkout()
    info = machine()
    stamp = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "commit": info["commit"],
             "load_before": None if load_before is None else round(load_before, 2)}
    figures = [{**f.as_json(), **stamp} for f in measure(names, size)]
    print(table(figures))
    print(f"\n{sum(f['met'] for f in figures)} of {len(figures)} figures at or better than "
          f"target; written to {args.out}")
    # a quick run records only itself; a full run keeps the figures it did not measure
    record = {"quick": args.quick, "machine": info,
              "figures": figures if args.quick else merged(args.out, figures)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not args.quick and args.out.resolve() == RESULTS.resolve():
        update_readme(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
