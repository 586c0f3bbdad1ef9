"""The tutor in real terminals: over OpenSSH at 80×24, and where TERM=dumb or NO_COLOR is set.

The SSH test starts its own sshd on 127.0.0.1 (a free port, a throwaway host key and user key
in a temporary directory), connects with `ssh -tt` inside a tmux pane of 80×24, steps the
worked example with keys, reads the numbers off the screen, quits, and checks the terminal was
left as it was found. Everything it starts is stopped by its PID.
"""
from __future__ import annotations

import getpass
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from tmux_pane import (Pane, alive, kitty_keyboard_balance, missing_tools, modes_left_on,
                       mouse_enables, poll, stop_pid)

pytestmark = pytest.mark.slow      # real terminals: sshd and tmux

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SSH_OPTIONS = ("-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
               "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
               "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
               "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR")


def find_sshd() -> str | None:
    for candidate in (shutil.which("sshd"), "/usr/sbin/sshd", "/usr/local/sbin/sshd"):
        if candidate and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)   # sshd refuses to start from a relative path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def account_locked(user: str) -> bool:
    """A '!' password (a locked account) makes sshd without PAM refuse even a key login."""
    try:
        with open("/etc/shadow") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name == user:
                    return rest.startswith("!")
    except OSError:
        pass
    return False


class Sshd:
    """OpenSSH's sshd, in the foreground, on 127.0.0.1:port, configured only from `home`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.user = getpass.getuser()
        self.key = home / "user_key"
        self.log = home / "sshd.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self, sshd: str) -> None:
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gdtutor-test", "-f"]
        subprocess.run(keygen + [str(self.home / "host_key")], check=True, timeout=30)
        subprocess.run(keygen + [str(self.key)], check=True, timeout=30)
        (self.home / "authorized_keys").write_text((self.home / "user_key.pub").read_text())
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation
        for _ in range(5):  # another process may take the free port before sshd binds it
            self.port = free_port()
            config = self.write_config()
            test = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True,
                                  text=True, timeout=30)
            if test.returncode != 0:
                pytest.fail(f"sshd rejects the test configuration: {test.stderr.strip()}")
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)],
                                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             start_new_session=True)
            if self.wait_listening():
                return
            self.stop()
        pytest.fail("sshd did not start listening; its log:\n" + self.log.read_text())

    def write_config(self) -> Path:
        h = self.home
        config = h / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {h / 'host_key'}",
            f"AuthorizedKeysFile {h / 'authorized_keys'}",
            f"PidFile {h / 'sshd.pid'}",
            f"UsePAM {'yes' if account_locked(self.user) else 'no'}",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            f"AllowUsers {self.user}",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "LogLevel VERBOSE",
        ]) + "\n")
        return config

    def wait_listening(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def ssh(self, *, tty: bool) -> list[str]:
        return ["ssh", *(["-tt"] if tty else ["-T"]), *SSH_OPTIONS, "-i", str(self.key),
                "-p", str(self.port), f"{self.user}@127.0.0.1"]

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc.pid)
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    missing = missing_tools("tmux", "ssh", "ssh-keygen")
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install tmux openssh-client)")
    binary = find_sshd()
    if binary is None:
        pytest.skip("OpenSSH's sshd is not installed here (apt-get install openssh-server)")
    if os.geteuid() != 0 and not os.path.isdir("/run/sshd"):
        pytest.skip("sshd needs /run/sshd, which only root can create")
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    try:
        server.start(binary)
        yield server
    finally:
        server.stop()


def last_value(screen: str, marker: str) -> Fraction:
    """The number after the last '= ' of the equation that contains `marker` on the screen."""
    for line in screen.splitlines():
        at = line.find(marker)
        if at >= 0:
            equation = re.split(r"\s{3,}|[│┤┌└]", line[at:])[0]
            return Fraction(equation.rsplit("= ", 1)[1].strip("() ").replace("−", "-"))
    raise AssertionError(f"no '{marker}' on the screen:\n{screen}")


def worked_example_at(k: int) -> tuple[Fraction, Fraction]:
    """(w_k, the effective grad at w_(k-1)) in closed form: w_k = 2 − 1/2^(k−1), grad = w − 2."""
    def w(n: int) -> Fraction:
        return Fraction(0) if n == 0 else 2 - Fraction(1, 2 ** (n - 1))
    return w(k), w(k - 1) - 2


def sane(pane: Pane) -> bool:
    flags = pane.flags()
    raw = pane.raw_text()
    return (flags["alternate_on"] == flags["insert_flag"] == "0"
            and all(flags[f] == "0" for f in flags if f.startswith("mouse_"))
            and modes_left_on(raw) == {} and kitty_keyboard_balance(raw) == 0)


def assert_terminal_sane(pane: Pane) -> str:
    """Nothing the program switched on is left on: tmux's view and the raw output agree. The
    program's last bytes may reach tmux and the raw file a moment after it has ended, so this
    waits a little for them; the raw output, once it is all there."""
    poll(lambda: sane(pane), 10)
    raw = pane.raw_text()
    flags = pane.flags()
    assert flags["alternate_on"] == "0", flags
    assert all(flags[f] == "0" for f in flags if f.startswith("mouse_")), flags
    assert flags["insert_flag"] == "0", flags   # tmux hides the cursor of a dead pane itself
    assert modes_left_on(raw) == {}, "modes left switched on: " + repr(modes_left_on(raw))
    assert kitty_keyboard_balance(raw) == 0, "keyboard protocol left pushed"
    return raw


def test_worked_example_over_ssh_at_80x24(sshd, tmp_path):
    # the login works and SSH_CONNECTION is set there, which turns the mouse off by default
    probe = subprocess.run(sshd.ssh(tty=False) + ['echo "connected:$SSH_CONNECTION"'],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert probe.returncode == 0 and "connected:127.0.0.1" in probe.stdout, \
        f"{probe.stderr}\nsshd log:\n{sshd.log.read_text()[-3000:]}"

    remote_pid = tmp_path / "remote.pid"
    remote = (f"echo $$ > {shlex.quote(str(remote_pid))}; cd {shlex.quote(str(REPO))} && "
              f"exec env PATH={shlex.quote(os.path.dirname(PYTHON))}:/usr/bin:/bin "
              f"TERM=xterm-256color LC_ALL=C.UTF-8 "
              # the account's real home: the lesson cache goes to the test's folder instead
              f"XDG_CACHE_HOME={shlex.quote(str(tmp_path / 'cache'))} "
              f"{shlex.quote(PYTHON)} -m gdtutor worked-example")
    command = shlex.join(sshd.ssh(tty=True) + [remote])
    pane = Pane(command, tmp_path / "raw.out", keep_status=True)
    try:
        screen = pane.wait_for(lambda s: "k = 0 of 20" in s, 60, "the worked example to open")
        assert last_value(screen, "w0 =") == 0
        lines = screen.splitlines()
        assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
        flags = pane.flags()
        assert flags["alternate_on"] == "1", flags
        assert flags["mouse_any_flag"] == "0", "mouse tracking is on over SSH: " + repr(flags)

        for k in (1, 2, 3):
            pane.keys("n")
            screen = pane.wait_for(lambda s, k=k: f"k = {k} of 20" in s and f"w{k} = w{k - 1}" in s,
                                   20, f"step {k}")
            w, grad = worked_example_at(k)
            assert last_value(screen, f"w{k} = w{k - 1}") == w
            assert last_value(screen, f"grad(w{k - 1})") == grad
            assert last_value(screen, "α·grad") == grad / 2
        assert last_value(screen, "w3 = w2") == Fraction(7, 4)   # the document's 7/4

        pane.keys("b")
        screen = pane.wait_for(lambda s: "k = 2 of 20" in s, 20, "one step back")
        assert last_value(screen, "w2 = w1") == Fraction(3, 2)

        pane.keys("q")
        status = pane.wait_exit(20)
        raw = assert_terminal_sane(pane)
        assert status == 0, pane.screen()
        assert "Traceback" not in raw and "Traceback" not in pane.screen()
        assert mouse_enables(raw) == [], "mouse tracking was switched on over SSH"
        assert "\x1b[?1049h" in raw, "the app never took the alternate screen: not a real run"
        pid = int(remote_pid.read_text())
        assert poll(lambda: not alive(pid), 10), "gdtutor still runs on the server after quitting"
    finally:
        pane.close()
        if remote_pid.exists():
            stop_pid(int(remote_pid.read_text()))


# -- terminals without colour ---------------------------------------------------------------

GREY_256 = set(range(232, 256)) | {0, 7, 8, 15, 16, 59, 102, 145, 188, 231}
_SGR = re.compile(r"\x1b\[([\d;]*)m")


def hued_colours(raw: str) -> list[str]:
    """Colours in `raw` that are not a shade of grey (SGR 30–37, 90–97, 38;5;n, 38;2;r;g;b…)."""
    found = []
    for match in _SGR.finditer(raw):
        parts = [int(p) if p else 0 for p in match.group(1).split(";")]
        i = 0
        while i < len(parts):
            p = parts[i]
            if p in (38, 48, 58) and i + 1 < len(parts):
                if parts[i + 1] == 5 and i + 2 < len(parts):
                    if parts[i + 2] not in GREY_256:
                        found.append(match.group(0))
                    i += 3
                    continue
                if parts[i + 1] == 2 and i + 4 < len(parts):
                    r, g, b = parts[i + 2:i + 5]
                    if not (r == g == b):
                        found.append(match.group(0))
                    i += 5
                    continue
            if 31 <= p <= 36 or 41 <= p <= 46 or 91 <= p <= 96 or 101 <= p <= 106:
                found.append(match.group(0))
            i += 1
    return found


@pytest.mark.parametrize("setting", ["TERM=dumb", "NO_COLOR=1", "TERM=dumb NO_COLOR=1", "no TERM"])
def test_a_terminal_without_colours_gets_a_plain_screen_or_a_clear_refusal(tmp_path, setting):
    missing = missing_tools("tmux")
    if missing:
        pytest.skip("needs tmux (apt-get install tmux)")
    env = "env -u TERM" if setting == "no TERM" else f"env TERM=xterm-256color {setting}"
    command = (f"{env} {shlex.quote(PYTHON)} -m gdtutor worked-example; "
               "echo gdtutor-exit-status=$?")
    pane = Pane(f"/bin/sh -c {shlex.quote(f'cd {shlex.quote(str(REPO))} && {command}')}",
                tmp_path / "raw.out", env={k: v for k, v in os.environ.items()
                                           if k not in ("NO_COLOR", "GDTUTOR_DEBUG")})
    try:
        screen = pane.wait_for(lambda s: "k = 0 of 20" in s or "gdtutor-exit-status=" in s, 60,
                               "the lesson or a refusal")
        if "gdtutor-exit-status=" in screen:   # a refusal: one clear line and status 2
            assert "gdtutor-exit-status=2" in screen, screen
            assert "Traceback" not in pane.raw_text()
            said = [line for line in screen.splitlines() if line.startswith("gdtutor: ")]
            assert len(said) == 1, screen
            return
        pane.keys("n")
        screen = pane.wait_for(lambda s: "k = 1 of 20" in s and "w1 = w0" in s, 20, "step 1")
        assert last_value(screen, "w1 = w0") == 1
        assert last_value(screen, "grad(w0)") == -2
        pane.keys("q")
        screen = pane.wait_for(lambda s: "gdtutor-exit-status=" in s, 20, "the app to quit")
        raw = assert_terminal_sane(pane)
        assert "gdtutor-exit-status=0" in screen, screen
        assert "Traceback" not in raw and "Traceback" not in screen
        if "NO_COLOR" in setting:
            assert hued_colours(raw)[:5] == [], "colours drawn although NO_COLOR is set"
    finally:
        pane.close()
