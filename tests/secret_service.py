"""A real Secret Service for tests: a private D-Bus session bus with gnome-keyring on it, in a temp folder.

Nothing here touches the user's own keyring: the bus, the daemon's sockets and its keyring files all
live under the folder given, and the tests' processes are pointed at that bus only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

PASSWORD = "ofa-manager-test-keyring-password"
SECRETS_NAME = "org.freedesktop.secrets"
NEEDED = ("dbus-daemon", "gnome-keyring-daemon", "secret-tool")


def missing_programs() -> list[str]:
    return [name for name in NEEDED if shutil.which(name) is None]


class SecretService:
    """One D-Bus session bus and one gnome-keyring-daemon serving Secret Service on it.

    ``unlocked`` starts the daemon with the test password on stdin (the login collection is created
    with it, or unlocked); otherwise the daemon starts with its collection locked, as after a log-in
    that did not unlock it. Headless, gnome-keyring cannot show its unlock prompt: the prompt is
    dismissed at once and every read or write is refused.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.home = folder / "home"
        self.runtime = folder / "runtime"
        self.data = folder / "data"
        self.config = folder / "config"
        for path in (self.home, self.data, self.config):
            path.mkdir(parents=True, exist_ok=True)
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.address = ""
        self._bus: subprocess.Popen | None = None
        self._daemon: subprocess.Popen | None = None

    # -- what the tests' processes get ----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Variables that point a process at this bus (and at this daemon's keyring files)."""
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.data),
        }

    def process_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) pointed at this Secret Service, with nothing
        that would make keyring pick another backend."""
        env = dict(os.environ if base is None else base)
        env.pop("PYTHON_KEYRING_BACKEND", None)
        env.update(self.env())
        return env

    # -- life ---------------------------------------------------------------------------------------

    def start(self, *, unlocked: bool = True) -> SecretService:
        if self._bus is None:
            self._start_bus()
        self._start_daemon(unlocked)
        return self

    def start_silent(self) -> SecretService:
        """The bus with a process that owns the Secret Service's name and never answers a call: how a
        stuck keyring daemon looks to its clients."""
        self._start_bus()
        self._daemon = subprocess.Popen(
            [sys.executable, "-c", _SILENT_SERVICE, self.address, SECRETS_NAME],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=self.process_env(), text=True,
        )  # fmt: skip
        self._wait_for_name(owned=True)
        return self

    def restart_daemon(self, *, unlocked: bool) -> None:
        """Stop gnome-keyring and start it again on the same bus and keyring files."""
        self._stop_daemon()
        self._start_daemon(unlocked)

    def stop(self) -> None:
        self._stop_daemon()
        if self._bus is not None:
            _end(self._bus)
            self._bus = None

    def __enter__(self) -> SecretService:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start_bus(self) -> None:
        env = self.process_env()
        socket = self.runtime / "bus"
        self._bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address=unix:path={socket}",
             "--print-address=1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
        )  # fmt: skip
        assert self._bus.stdout is not None
        self.address = self._bus.stdout.readline().strip()
        if not self.address:
            code = self._bus.wait(timeout=10)
            raise RuntimeError(f"dbus-daemon did not start (exit code {code})")

    def _start_daemon(self, unlocked: bool) -> None:
        command = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        if unlocked:
            command.insert(1, "--unlock")
        self._daemon = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=self.process_env(), text=True,
        )  # fmt: skip
        assert self._daemon.stdin is not None
        # --unlock reads the password up to the end of its input; without it the input is simply closed.
        self._daemon.stdin.write(PASSWORD if unlocked else "")
        self._daemon.stdin.close()
        self._wait_for_name(owned=True)

    def _stop_daemon(self) -> None:
        if self._daemon is not None:
            _end(self._daemon)
            self._daemon = None
            self._wait_for_name(owned=False)

    def _wait_for_name(self, *, owned: bool, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self._name_owned() != owned:
            if self._daemon is not None and self._daemon.poll() is not None:
                err = self._daemon.stderr.read() if self._daemon.stderr else ""
                raise RuntimeError(f"gnome-keyring-daemon exited ({self._daemon.returncode}): {err}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{SECRETS_NAME} still {'not ' if owned else ''}on the bus after {timeout}s"
                )
            time.sleep(0.05)

    def _name_owned(self) -> bool:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        bus = DBusAddress(
            "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus"
        )
        with open_dbus_connection(self.address) as connection:
            reply = connection.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", (SECRETS_NAME,)))
        return bool(reply.body[0])

    # -- looking from outside ---------------------------------------------------------------------

    def lookup(self, service: str, username: str) -> str | None:
        """The secret as gnome-keyring holds it, asked with libsecret's secret-tool (not through Python)."""
        done = subprocess.run(
            ["secret-tool", "lookup", "service", service, "username", username],
            capture_output=True, text=True, env=self.process_env(), timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if done.returncode != 0 and done.stderr.strip():
            raise RuntimeError(f"secret-tool lookup failed: {done.stderr.strip()}")
        return done.stdout if done.returncode == 0 else None


_SILENT_SERVICE = """
import sys
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

connection = open_dbus_connection(sys.argv[1])
connection.send_and_get_reply(message_bus.RequestName(sys.argv[2]))
while True:
    connection.receive()
"""


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def started(folder: Path, *, unlocked: bool = True, silent: bool = False):
    """A running Secret Service for one test (``silent``: one that never answers); skips where its
    programs are not installed."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the Secret Service tests run gnome-keyring, which is for Linux")
    missing = missing_programs()
    if missing:
        packages = "dbus-daemon gnome-keyring libsecret-tools"
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install {packages})")
    service = SecretService(folder)
    try:
        if silent:
            return service.start_silent()
        service.start(unlocked=True)
        if not unlocked:
            # The login collection exists (made with the test password) but starts locked.
            service.restart_daemon(unlocked=False)
    except BaseException:
        service.stop()
        raise
    return service


# Fixtures for the test modules that import them.


@pytest.fixture
def secret_service(tmp_path_factory) -> SecretService:
    """An unlocked Secret Service on a private bus, stopped after the test."""
    service = started(tmp_path_factory.mktemp("secret-service"))
    yield service
    service.stop()


@pytest.fixture
def locked_secret_service(tmp_path_factory) -> SecretService:
    """A Secret Service whose login collection is locked (started without the password)."""
    service = started(tmp_path_factory.mktemp("secret-service"), unlocked=False)
    yield service
    service.stop()


@pytest.fixture
def silent_secret_service(tmp_path_factory) -> SecretService:
    """A bus whose Secret Service never answers."""
    service = started(tmp_path_factory.mktemp("secret-service"), silent=True)
    yield service
    service.stop()
