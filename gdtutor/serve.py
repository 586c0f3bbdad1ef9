"""`gdtutor serve`: the tutor in the browser through textual-serve, one app process a tab.

The server checks everything it can before it listens (the lesson, the host, the port), gives
each websocket its own `python -m gdtutor` process under Textual's web driver, refuses a tab past
`--max-sessions` with a page that says so, and ends every process it started: when its tab
goes (within QUIT_GRACE + KILL_GRACE seconds) and when the server stops (ctrl+c, SIGTERM)."""
from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import os
import re
import shlex
import signal
import socket
import sys
from pathlib import Path

from .errors import GdtutorError
from .i18n import N_, _

INSTALL = N_("serve needs textual-serve, an optional extra: pip install 'gdtutor[serve]'")
QUIT_GRACE = 2.0    # seconds a session has to quit by itself once its tab is gone
KILL_GRACE = 2.0    # seconds, after SIGTERM, before SIGKILL
CLOSE_WAIT = 1.0    # seconds a tab has to answer the closing of its websocket
STARTING_AT_ONCE = max(2, os.cpu_count() or 1)   # session processes in their start-up at once
START_WAIT = 20.0   # seconds a start-up may hold its place before the next one goes
FULL_TITLE = N_("gdtutor: the tutor is full")


def full_message(limit: int) -> str:
    return (_("This tutor already has {limit} students, its limit (--max-sessions {limit}). "
              "Close another tab, try again in a while, or ask for a second server.")
            .format(limit=limit))


def parse_port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise GdtutorError(_("expected a port number from 1 to 65535, got '{value}'").format(
            value=value), field="--port")
    return port


def parse_max_sessions(value: str) -> int:
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise GdtutorError(_("expected a whole number of at least 1, got '{value}'").format(
            value=value), field="--max-sessions")
    return limit


def load_target(arg: str):
    """What every session will open, loaded once here so that a bad one fails before serving.
    A folder is a course: this is the one place that opens it."""
    from .catalog import resolve_target
    return resolve_target(arg)


def session_command(target: str | None, lang: str) -> str:
    """The shell line textual-serve runs for each tab: this Python, this code, quoted."""
    argv = [sys.executable, "-m", "gdtutor"]
    if target is not None:
        argv.append(str(Path(target).resolve()) if Path(target).exists() else target)
    argv += ["--lang", lang]
    return "exec " + shlex.join(argv)    # exec: the session's process is the shell's own pid


def addresses(host: str, port: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                  flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise GdtutorError(_("cannot resolve host '{host}': {reason}").format(
            host=host, reason=reason), field="--host") from None


def check_bind(host: str, port: int) -> bool:
    """Bind every address of host:port once, as the server will; True when all are loopback."""
    infos = addresses(host, port)
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise bind_error(host, port, exc) from None
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def bind_error(host: str, port: int, exc: OSError) -> GdtutorError:
    import errno
    if exc.errno == errno.EADDRINUSE:
        return GdtutorError(_("port {port} is in use on {host}; choose another with --port")
                            .format(port=port, host=host), field="--port")
    if exc.errno == errno.EACCES:
        return GdtutorError(_("not allowed to listen on port {port} (ports below 1024 need "
                              "privileges); choose another with --port").format(port=port),
                            field="--port")
    return GdtutorError(_("cannot listen on {host}: {reason}").format(
        host=host, reason=exc.strerror or exc), field="--host")


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


# --- processes: found and ended through /proc (Linux); elsewhere a session quits by itself ---

def child_pids(parent: int | None = None) -> list[int]:
    """The live processes whose parent is `parent` (default: this one)."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()   # after "pid (name)": state, ppid, ...
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def pid_reading(pipe) -> int | None:
    """The child of this process whose stdin is the read end of `pipe` (the session's)."""
    try:
        ours = os.fstat(pipe.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    for pid in child_pids():
        try:
            theirs = os.stat(f"/proc/{pid}/fd/0")
        except OSError:
            continue
        if (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino):
            return pid
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def signal_pid(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def end_processes(pids, grace: float = KILL_GRACE) -> None:
    """SIGTERM, then SIGKILL for any still running after `grace` seconds (blocking)."""
    import time
    pids = [pid for pid in pids if alive(pid)]
    for pid in pids:
        signal_pid(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = [pid for pid in pids if alive(pid)]
    for pid in pids:
        signal_pid(pid, signal.SIGKILL)


def server_class():
    """textual-serve's Server, with gdtutor's page, session limit and process ending."""
    from aiohttp import WSMsgType, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, to_int

    class SessionService(AppService):
        """One tab's app process; its tab is closed when the process ends (a crash included)."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.drawn = asyncio.Event()    # its first frame is out: its start-up is over

        async def on_data(self, payload: bytes) -> None:
            self.drawn.set()
            await super().on_data(payload)

        async def run(self) -> None:
            await super().run()
            try:    # bounded: a tab that does not answer the close is not waited for
                await asyncio.wait_for(self.remote_close(), CLOSE_WAIT)
            except Exception:   # the tab went first, or does not answer
                pass

    class Session:
        def __init__(self, websocket: web.WebSocketResponse) -> None:
            self.websocket = websocket
            self.service: SessionService | None = None
            self.pid: int | None = None

    class TutorServer(Server):
        def __init__(self, command: str, *, host: str, port: int, max_sessions: int,
                     loopback: bool) -> None:
            super().__init__(command, host=host, port=port, title="gdtutor")
            self.max_sessions = max_sessions
            self.loopback = loopback
            self.sessions: set[Session] = set()
            # a burst of tabs starts a few processes at a time, so that the sessions already
            # running keep the CPU they need to answer their students
            self.starting = asyncio.Semaphore(STARTING_AT_ONCE)
            page = (Path(self.templates_path) / "app_index.html").read_text(encoding="utf-8")
            # the page fetches nothing from outside this server (a lab may have no internet)
            page = re.sub(r'\s*<link[^>]*fonts\.googleapis\.com[^>]*/>', "", page)
            import jinja2
            self.page = jinja2.Template(page, autoescape=True)

        def initialize_logging(self) -> None:
            logging.basicConfig(level=logging.WARNING, format="gdtutor serve: %(message)s")

        async def on_startup(self, app: web.Application) -> None:
            print("gdtutor: " + _("serving on {url} (ctrl+c stops it and every session)").format(
                url=url_for(self.host, self.port)), flush=True)
            if not self.loopback:
                print("gdtutor: " + _("warning: {host} is not loopback: anyone who can reach "
                                      "port {port} gets a tutor session").format(
                    host=self.host, port=self.port), file=sys.stderr, flush=True)

        async def on_shutdown(self, app: web.Application) -> None:
            ending = [asyncio.ensure_future(self.end(session)) for session in self.sessions]
            if ending:
                await asyncio.wait(ending, timeout=QUIT_GRACE + 2 * KILL_GRACE + CLOSE_WAIT)

        def full(self) -> bool:
            return len(self.sessions) >= self.max_sessions

        async def handle_index(self, request: web.Request) -> web.Response:
            if self.full():
                text = html.escape(full_message(self.max_sessions))
                title = html.escape(_(FULL_TITLE))
                body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}"
                        f"</title></head><body><h1>{title}</h1><p id='full'>{text}</p>"
                        "</body></html>")
                return web.Response(text=body, status=503, content_type="text/html")
            secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
            context = {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": f"{'wss' if secure else 'ws'}://{request.host}/ws",
                "config": {"static": {"url": "static/"}},
                "application": {"name": "gdtutor"},
            }
            return web.Response(text=self.page.render(**context), content_type="text/html")

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            websocket = web.WebSocketResponse(heartbeat=15)
            await websocket.prepare(request)
            if self.full():
                notice = f"\r\n  {full_message(self.max_sessions)}\r\n"
                await websocket.send_bytes(notice.encode("utf-8"))
                await websocket.close()
                return websocket
            session = Session(websocket)
            self.sessions.add(session)
            try:
                service = session.service = SessionService(
                    self.command, write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str, close=websocket.close,
                    download_manager=self.download_manager)
                width = to_int(request.query.get("width", "80"), 80)
                height = to_int(request.query.get("height", "24"), 24)
                async with self.starting:
                    await service.start(width, height)
                    session.pid = pid_reading(service.stdin.transport.get_extra_info("pipe"))
                    try:
                        await asyncio.wait_for(service.drawn.wait(), START_WAIT)
                    except asyncio.TimeoutError:
                        pass
                await self.relay(websocket, service)
            except Exception as error:   # one session's fault ends that session only
                logging.getLogger("gdtutor").warning("a session failed: %r", error)
            finally:
                try:
                    await self.end(session)
                finally:
                    self.sessions.discard(session)
            return websocket

        async def relay(self, websocket: web.WebSocketResponse, service: SessionService) -> None:
            """What the page sends (textual-serve's protocol), to the session."""
            async for message in websocket:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    kind, *rest = json.loads(message.data)
                    data = rest[0] if rest else None
                    if kind == "stdin":
                        await service.send_bytes(str(data).encode("utf-8"))
                    elif kind == "resize":
                        await service.set_terminal_size(int(data["width"]), int(data["height"]))
                    elif kind == "ping":
                        await websocket.send_json(["pong", data])
                    elif kind == "blur":
                        await service.blur()
                    elif kind == "focus":
                        await service.focus()
                except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                    continue   # a malformed message is dropped, the session goes on

        async def end(self, session: Session) -> None:
            """Ask the session's process to quit; end it if it has not within the graces."""
            service = session.service
            if service is None:
                return
            stopping = asyncio.ensure_future(service.stop())
            done, _ = await asyncio.wait({stopping}, timeout=QUIT_GRACE)
            if not done and session.pid is not None:
                signal_pid(session.pid, signal.SIGTERM)
                done, _ = await asyncio.wait({stopping}, timeout=KILL_GRACE)
                if not done:
                    signal_pid(session.pid, signal.SIGKILL)
            try:
                await asyncio.wait_for(stopping, timeout=KILL_GRACE)
            except (asyncio.TimeoutError, Exception):
                pass
            service.stdin.close()   # the pipe to a process that is gone
            if session.pid is not None:
                # reaped while this loop runs, so that asyncio's watcher finds it open
                deadline = asyncio.get_running_loop().time() + KILL_GRACE
                while (os.path.exists(f"/proc/{session.pid}")
                       and asyncio.get_running_loop().time() < deadline):
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.02)
            if not session.websocket.closed:
                try:
                    await asyncio.wait_for(session.websocket.close(), CLOSE_WAIT)
                except Exception:
                    pass

    return TutorServer


def serve(target: str | None, *, host: str, port: str, lang: str, max_sessions: str) -> int:
    try:
        import textual_serve.server  # noqa: F401
    except ImportError:
        raise GdtutorError(_(INSTALL)) from None
    port_number = parse_port(port)
    limit = parse_max_sessions(max_sessions)
    if target is not None:
        load_target(target)
    loopback = check_bind(host, port_number)
    server = server_class()(session_command(target, lang), host=host, port=port_number,
                            max_sessions=limit, loopback=loopback)
    try:
        server.serve()
    except OSError as exc:   # lost the port between the check and the listen
        raise bind_error(host, port_number, exc) from None
    finally:
        left = child_pids()
        if left:   # nothing the server started outlives it
            logging.getLogger("asyncio").setLevel(logging.ERROR)   # their loop is closed
            end_processes(left)
    return 0
