"""`gdtutor serve`: what it refuses before serving (one line, status 2), what it says, the page
it serves, the session a websocket gets, and that it leaves no process behind."""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from classroom import Served, Tab, children, free_port  # noqa: E402

pytest.importorskip("textual_serve", reason="gdtutor serve needs textual-serve "
                    "(pip install '.[serve]')")


def serve(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "gdtutor", "serve", *args], cwd=REPO,
                          env=environ, capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdtutor: "), proc.stderr
    return lines[0]


def test_without_textual_serve_it_says_how_to_install_it(tmp_path):
    # a textual_serve that cannot be imported, ahead of the real one on the path
    (tmp_path / "textual_serve").mkdir()
    (tmp_path / "textual_serve" / "__init__.py").write_text("raise ImportError('absent')\n")
    proc = serve("worked-example", env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"})
    line = one_line_error(proc)
    assert "pip install 'gdtutor[serve]'" in line


def test_a_port_in_use_is_one_line_before_serving():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(serve("worked-example", "--port", str(port)))
    assert f"port {port} is in use" in line and "--port" in line


@pytest.mark.parametrize("port", ["0", "65536", "eighty", "-1"])
def test_a_bad_port_number_is_one_line(port):
    line = one_line_error(serve("--port", port))
    assert line.startswith("gdtutor: --port: expected a port number from 1 to 65535")


def test_a_host_that_does_not_resolve_is_one_line():
    line = one_line_error(serve("--host", "no-such-host.invalid", "--port", str(free_port())))
    assert line.startswith("gdtutor: --host: cannot resolve host 'no-such-host.invalid'")


def test_a_host_this_machine_does_not_have_is_one_line():
    # TEST-NET-1 (RFC 5737): an address no interface here carries
    line = one_line_error(serve("--host", "192.0.2.1", "--port", str(free_port())))
    assert line.startswith("gdtutor: --host: cannot listen on 192.0.2.1")


def test_a_bad_lesson_is_one_line_before_serving(tmp_path):
    line = one_line_error(serve("no-such-lesson", "--port", str(free_port())))
    assert "unknown lesson 'no-such-lesson'" in line
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nkind: descent\nlr: [\n")
    line = one_line_error(serve(str(bad), "--port", str(free_port())))
    assert str(bad.name) in line


def test_a_course_folder_is_served_and_a_broken_one_refused_before_serving(tmp_path):
    from gdtutor.catalog import Course
    from gdtutor.serve import load_target
    shutil.copy(REPO / "lessons" / "worked-example.yaml", tmp_path / "a.yaml")
    course = load_target(str(tmp_path))
    assert isinstance(course, Course) and [e.lesson.id for e in course.entries] == ["worked-example"]
    (tmp_path / "course.yaml").write_text("title: x\nlessons: [\n")
    line = one_line_error(serve(str(tmp_path), "--port", str(free_port())))
    assert line.startswith(f"gdtutor: {tmp_path}/course.yaml:3: YAML syntax error")


def test_max_sessions_must_be_a_positive_number():
    line = one_line_error(serve("--max-sessions", "0", "--port", str(free_port())))
    assert line.startswith("gdtutor: --max-sessions: expected a whole number of at least 1")


def test_each_session_runs_this_python_with_quoted_arguments(tmp_path):
    import shlex
    from gdtutor.serve import session_command
    lesson = tmp_path / "it's a lesson.yaml"
    lesson.write_text("")
    words = shlex.split(session_command(str(lesson), "zh"))
    assert words == ["exec", sys.executable, "-m", "gdtutor", str(lesson), "--lang", "zh"]
    assert shlex.split(session_command(None, "en"))[1:] == [sys.executable, "-m", "gdtutor",
                                                             "--lang", "en"]


def test_under_the_web_driver_the_tutor_is_not_refused():
    from gdtutor.tui.app import terminal_refusal

    class Pipe:
        def isatty(self) -> bool:
            return False

    assert terminal_refusal({"TERM": "xterm"}, Pipe(), Pipe()) is not None
    web = {"TERM": "dumb", "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver"}
    assert terminal_refusal(web, Pipe(), Pipe()) is None


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("localhost", False),
                                          ("0.0.0.0", True)])
def test_it_prints_its_url_and_warns_off_loopback(host, warned):
    port = free_port()
    environ = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "gdtutor", "serve", "--host", host,
                             "--port", str(port)], cwd=REPO, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first.startswith(f"gdtutor: serving on http://{host}:{port}/")
    assert proc.returncode == 0
    warning = [line for line in err.splitlines() if "warning" in line]
    if warned:
        assert warning == [f"gdtutor: warning: {host} is not loopback: anyone who can reach "
                           f"port {port} gets a tutor session"]
    else:
        assert warning == [] and err == ""


async def fetch(url: str) -> tuple[int, str]:
    import aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return response.status, await response.text()


def wait_gone(pids, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if alive(pid)]
    return left


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_the_page_a_session_a_full_server_and_sigterm_leaving_nothing():
    served = Served("worked-example", "--max-sessions", "2").ready()
    try:
        status, page = asyncio.run(fetch(served.base + "/"))
        assert status == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
        assert "static/js/textual.js" in page and "googleapis" not in page

        async def tabs_then_sigterm():
            import aiohttp
            async with aiohttp.ClientSession() as session:
                tabs = [await Tab(served.base).open(session) for _ in range(2)]
                for tab in tabs:
                    assert await tab.until(lambda t: "w0 = 0" in t, 30) is not None
                await tabs[0].key("n")
                assert await tabs[0].until(lambda t: "w1 = w0" in t, 10) is not None
                assert "w1 = w0" not in tabs[1].text()     # each tab its own session
                sessions = served.sessions()
                assert len(sessions) == 2
                # a third tab: a page, then a terminal, that say the tutor is full
                status, page = await fetch(served.base + "/")
                assert status == 503 and "already has 2 students" in page
                third = await Tab(served.base).open(session)
                assert await third.until(lambda t: "already has 2 students" in t, 10) is not None
                await asyncio.wait_for(third.closed.wait(), 10)
                assert sorted(served.sessions()) == sorted(sessions)   # no process for it
                # a closed tab's process ends; the other goes on
                await tabs[1].close()
                assert len(await asyncio.to_thread(wait_gone, sessions, 5)) == 1
                remaining = served.sessions()
                assert len(remaining) == 1
                # SIGTERM with a tab open: the server ends, and the session with it
                status = await asyncio.to_thread(served.stop)
                await asyncio.wait_for(tabs[0].closed.wait(), 5)
                return status, remaining

        status, remaining = asyncio.run(tabs_then_sigterm())
    finally:
        served.stop()
    assert status == 0
    assert wait_gone(remaining, 5) == []
    assert children(served.proc.pid) == []


@pytest.mark.slow
def test_ctrl_c_to_the_whole_group_ends_server_and_sessions_quietly():
    """ctrl+c in a terminal signals the server and its sessions at once."""
    served = Served("worked-example").ready()

    async def open_then_interrupt():
        import aiohttp
        async with aiohttp.ClientSession() as session:
            tab = await Tab(served.base).open(session)
            assert await tab.until(lambda t: "w0 = 0" in t, 30) is not None
            sessions = served.sessions()
            assert len(sessions) == 1
            os.killpg(served.proc.pid, signal.SIGINT)
            await asyncio.wait_for(tab.closed.wait(), 10)
            return sessions, await asyncio.to_thread(served.proc.wait, 20)

    try:
        sessions, status = asyncio.run(open_then_interrupt())
    finally:
        served.stop()
    assert status == 0
    assert wait_gone(sessions, 5) == []
    err = served.proc.stderr.read()
    assert "Traceback" not in err and "Loop" not in err, err
