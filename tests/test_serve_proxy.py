"""docs/nginx-gdtutor.conf, as the README gives it (ports changed), run by Debian's nginx in
front of two `gdtutor serve` instances on loopback: the page and a websocket session work
through it, and a student's tabs stay on one instance (ip_hash)."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "docs" / "nginx-gdtutor.conf"
sys.path.insert(0, str(REPO / "benchmarks"))

from classroom import Served, Tab, free_port  # noqa: E402


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)


def with_ports(text: str, listen: int, upstreams: list[int]) -> str:
    ports = iter(upstreams)
    text, listens = re.subn(r"listen 8080;", f"listen 127.0.0.1:{listen};", text)
    text, servers = re.subn(r"server 127\.0\.0\.1:800\d;",
                            lambda _m: f"server 127.0.0.1:{next(ports)};", text)
    assert (listens, servers) == (1, 2), "docs/nginx-gdtutor.conf changed shape"
    return text


def main_config(prefix: Path, site: str) -> str:
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {prefix / 'error.log'} warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log off;\n{temp}\n{site}\n}}\n")


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def nginx(tmp_path):
    binary = nginx_binary()
    if binary is None:
        pytest.skip("needs nginx (apt-get install nginx-light)")
    pytest.importorskip("textual_serve", reason="needs textual-serve (pip install '.[serve]')")
    instances = [Served("worked-example").ready(), Served("worked-example").ready()]
    port = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(main_config(prefix, with_ports(CONFIG.read_text(), port,
                                                   [s.port for s in instances])))
    proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-e",
                             str(prefix / "error.log")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while not listening(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is not None:
            pytest.fail(f"nginx did not start: {proc.stdout.read()}")
        yield f"http://127.0.0.1:{port}", instances
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for served in instances:
            served.stop()


@pytest.mark.slow
def test_nginx_serves_the_page_and_sessions_sticky_to_one_instance(nginx):
    import aiohttp
    base, instances = nginx

    async def through_the_proxy():
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/") as response:
                assert response.status == 200
                page = await response.text()
            # the page's websocket goes back through the proxy, not to an instance
            host = base.split("//", 1)[1]
            assert f'data-session-websocket-url="ws://{host}/ws"' in page
            async with session.get(base + "/static/js/textual.js") as response:
                assert response.status == 200
            tabs = [await Tab(base).open(session) for _ in range(2)]
            for tab in tabs:
                assert await tab.until(lambda t: "w0 = 0" in t, 30) is not None
            for _ in range(3):
                await tabs[0].key("n")
            assert await tabs[0].until(lambda t: "w3 = w2 − α·grad = 3/2 − (-1/4) = 7/4" in t,
                                       10) is not None
            assert "w1 = w0" not in tabs[1].text()
            per_instance = sorted(len(served.sessions()) for served in instances)
            for tab in tabs:
                await tab.close()
            return per_instance

    # one client address: ip_hash puts both of its tabs on the same instance
    assert asyncio.run(through_the_proxy()) == [0, 2]
