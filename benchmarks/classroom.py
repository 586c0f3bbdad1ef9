"""A classroom on one machine: `gdtutor serve` with 20 students, each figure against its target.

    python benchmarks/classroom.py            20 sessions, 50-tab burst (a few minutes)
    python benchmarks/classroom.py --quick    3 sessions, 6-tab burst (a smoke run)

Each student is a websocket client that speaks what textual-serve's page speaks (["stdin", keys],
["resize", size]) and draws what it receives on a small terminal screen (terminal.Screen).
Figures: the time from a key sent by one student to the output frame that shows its step (the
others idle), p95 over every student's keys; the memory of each idle session's process tree
(RSS); the time from a closed connection to the end of its process; and whether a burst of
tabs opened at once leaves the server and the other sessions running. Loopback only; every
loop is bounded; the server is stopped at the end, and every process with it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from terminal import Screen  # noqa: E402

from gdtutor.serve import alive, child_pids as children  # noqa: E402

LESSON = "worked-example"
COLS, ROWS = 100, 30
TARGET_KEY_P95_MS = 150.0
TARGET_RSS_MB = 120.0
TARGET_END_S = 5.0
STEP = re.compile(r"\bw(\d+) = w\d+ ")    # "w3 = w2 − α·grad = 3/2 − (-1/4) = 7/4"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def last_step(text: str) -> int:
    """The highest step k of the "wk = w(k-1) ..." lines the screen shows (0 for none)."""
    return max((int(m.group(1)) for m in STEP.finditer(text)), default=0)


class Tab:
    """One browser tab as textual-serve's page is one: a websocket, keys out, frames drawn."""

    def __init__(self, base: str, cols: int = COLS, rows: int = ROWS) -> None:
        self.url = f"{base.replace('http', 'ws', 1).rstrip('/')}/ws?width={cols}&height={rows}"
        self.cols, self.rows = cols, rows
        self.screen = Screen(cols, rows)
        self.raw = bytearray()
        self.frames = 0
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.websocket = None
        self.reader: asyncio.Task | None = None

    async def open(self, session) -> "Tab":
        self.websocket = await session.ws_connect(self.url, max_msg_size=0)
        await self.websocket.send_str(json.dumps(["resize", {"width": self.cols,
                                                             "height": self.rows}]))
        self.reader = asyncio.create_task(self.read())
        return self

    async def read(self) -> None:
        import aiohttp
        try:
            async for message in self.websocket:
                if message.type == aiohttp.WSMsgType.BINARY:
                    self.raw += message.data
                    self.screen.feed(message.data)
                    self.frames += 1
                    self.changed.set()
        finally:
            self.closed.set()

    def text(self) -> str:
        return self.screen.text()

    async def until(self, check, timeout: float) -> float | None:
        """Seconds until check(screen text) holds, measured at the frame that made it so."""
        start = time.perf_counter()
        deadline = start + timeout
        while not check(self.text()):
            left = deadline - time.perf_counter()
            if left <= 0 or self.closed.is_set():
                return None
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                return None
        return time.perf_counter() - start

    async def key(self, keys: str) -> None:
        await self.websocket.send_str(json.dumps(["stdin", keys]))

    async def close(self) -> None:
        if self.websocket is not None:
            await self.websocket.close()
        if self.reader is not None:
            await asyncio.wait({self.reader}, timeout=5)


class Served:
    """`python -m gdtutor serve` in a process group of its own, stopped by SIGTERM."""

    def __init__(self, *args: str, port: int | None = None, env: dict | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environ = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gdtutor", "serve", *args, "--port", str(self.port)],
            cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        self.first_line = self.proc.stdout.readline()

    def ready(self, timeout: float = 30) -> "Served":
        """Wait until the server accepts connections (its URL line comes just before)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"gdtutor serve did not start listening: {self.proc.stderr.read()}")

    def sessions(self) -> list[int]:
        """The session processes: the server's children."""
        return children(self.proc.pid)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, in MB."""
    def tree_kb(p: int) -> int:
        return rss_kb(p) + sum(tree_kb(c) for c in children(p))
    return tree_kb(pid) / 1024


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


async def until_true(check, timeout: float, every: float = 0.05) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check():
            return time.perf_counter() - start
        await asyncio.sleep(every)
    return None


async def open_tabs(session, base: str, count: int, timeout: float) -> list[Tab]:
    tabs = await asyncio.gather(*(Tab(base).open(session) for _ in range(count)))
    shown = await asyncio.gather(*(tab.until(lambda t: "w0" in t or "w₀" in t or "α" in t,
                                             timeout) for tab in tabs))
    missing = sum(s is None for s in shown)
    if missing:
        raise SystemExit(f"classroom: {missing} of {count} sessions showed no lesson "
                         f"within {timeout:.0f} s")
    return tabs


async def classroom(students: int, keys_each: int, burst: int) -> dict:
    import aiohttp
    served = Served(LESSON, "--max-sessions", str(students + burst + 1)).ready()
    figures: dict = {}
    try:
        async with aiohttp.ClientSession() as session:
            tabs = await open_tabs(session, served.base, students, timeout=30 + 3 * students)
            pids = served.sessions()
            await asyncio.sleep(1.0)    # idle: past the start-up's work
            rss = [tree_rss_mb(pid) for pid in pids]
            figures["sessions"] = len(pids)
            figures["rss_mb_median"] = statistics.median(rss)
            figures["rss_mb_max"] = max(rss)

            # one student at a time presses n; the others idle
            latencies = []
            for _round in range(keys_each):
                for tab in tabs:
                    step = last_step(tab.text())
                    await tab.key("n")
                    took = await tab.until(lambda t, s=step: last_step(t) > s, 10)
                    if took is None:
                        raise SystemExit("classroom: a key got no answer within 10 s")
                    latencies.append(took * 1000)
            figures["keys"] = len(latencies)
            figures["key_p50_ms"] = statistics.median(latencies)
            figures["key_p95_ms"] = p95(latencies)

            # a burst of tabs opened at once; while their processes start, an earlier
            # student's key is answered and the server serves its page
            before = set(served.sessions())
            start = time.perf_counter()
            opening = asyncio.ensure_future(asyncio.gather(*(Tab(served.base).open(session)
                                                             for _ in range(burst))))
            await asyncio.sleep(0.5)
            step = last_step(tabs[0].text())
            await tabs[0].key("n")
            answer = await tabs[0].until(lambda t: last_step(t) > step, 60)
            figures["burst_others_answer"] = answer is not None
            figures["burst_key_ms"] = None if answer is None else answer * 1000
            async with session.get(served.base + "/") as page:
                figures["burst_server_answers"] = page.status == 200
            burst_tabs = await opening
            await asyncio.gather(*(t.until(lambda s: "α" in s, 60 + 2 * burst)
                                   for t in burst_tabs))
            figures["burst_shown"] = sum("α" in t.text() for t in burst_tabs)
            figures["burst_open_s"] = time.perf_counter() - start
            burst_pids = set(served.sessions()) - before
            await asyncio.gather(*(t.close() for t in burst_tabs))
            gone = await until_true(lambda: not (set(served.sessions()) & burst_pids), 30)
            figures["burst_all_ended_s"] = gone

            # closing one tab ends its process
            ends = []
            for tab in tabs[: min(5, len(tabs))]:
                before = set(served.sessions())
                await tab.close()
                took = await until_true(lambda b=before: len(set(served.sessions()) & b)
                                        < len(b), 10, every=0.02)
                ends.append(took if took is not None else float("inf"))
            figures["end_after_close_s_max"] = max(ends)
            figures["server_running"] = served.proc.poll() is None
            await asyncio.gather(*(t.close() for t in tabs[5:]))
    finally:
        started = served.sessions()
        served.stop()
        await until_true(lambda: not any(alive(p) for p in started), 5)
        figures["left_after_stop"] = sum(alive(p) for p in started)
    return figures


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def key_answer(ms: float | None) -> str:
    return "no" if ms is None else f"in {ms:.0f} ms"


def report(figures: dict, students: int, burst: int) -> bool:
    rows = [
        (f"key to screen, p95 ({students} sessions, others idle)",
         f"{figures['key_p95_ms']:.0f} ms", f"<= {TARGET_KEY_P95_MS:.0f} ms",
         figures["key_p95_ms"] <= TARGET_KEY_P95_MS),
        ("key to screen, median", f"{figures['key_p50_ms']:.0f} ms", "", None),
        ("memory per idle session (RSS of its tree), max",
         f"{figures['rss_mb_max']:.0f} MB (median {figures['rss_mb_median']:.0f})",
         f"<= {TARGET_RSS_MB:.0f} MB", figures["rss_mb_max"] <= TARGET_RSS_MB),
        ("closed connection to ended process, max of 5",
         f"{figures['end_after_close_s_max']:.2f} s", f"<= {TARGET_END_S:.0f} s",
         figures["end_after_close_s_max"] <= TARGET_END_S),
        (f"burst of {burst} tabs at once: lessons shown", f"{figures['burst_shown']}/{burst} "
         f"in {figures['burst_open_s']:.1f} s", "all", figures["burst_shown"] == burst),
        ("  while they start, an earlier session answers a key, the server its page",
         f"{key_answer(figures['burst_key_ms'])}"
         f", {yes(figures['burst_server_answers'])}",
         "yes, yes", figures["burst_others_answer"] and figures["burst_server_answers"]),
        ("  the server still running afterwards", yes(figures["server_running"]), "yes",
         figures["server_running"]),
        ("burst's processes ended after their tabs closed",
         "never" if figures["burst_all_ended_s"] is None
         else f"{figures['burst_all_ended_s']:.2f} s", f"<= {TARGET_END_S:.0f} s",
         figures["burst_all_ended_s"] is not None
         and figures["burst_all_ended_s"] <= TARGET_END_S),
        ("session processes left after SIGTERM to the server",
         str(figures["left_after_stop"]), "0", figures["left_after_stop"] == 0),
    ]
    width = max(len(r[0]) for r in rows)
    ok = True
    for name, value, target, met in rows:
        verdict = "" if met is None else ("pass" if met else "MISS")
        ok = ok and met is not False
        print(f"{name:<{width}}  {value:>24}  {target:>10}  {verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 sessions, a 6-tab burst")
    parser.add_argument("--students", type=int, default=None)
    parser.add_argument("--burst", type=int, default=None)
    args = parser.parse_args()
    students = args.students or (3 if args.quick else 20)
    burst = args.burst or (6 if args.quick else 50)
    keys_each = 2 if args.quick else 5
    load = os.getloadavg()[0]
    figures = asyncio.run(classroom(students, keys_each, burst))
    print(f"gdtutor serve {LESSON}: {students} sessions, {figures['keys']} keys, "
          f"{os.cpu_count()} cores, load average {load:.1f} at the start")
    return 0 if report(figures, students, burst) else 1


if __name__ == "__main__":
    sys.exit(main())
