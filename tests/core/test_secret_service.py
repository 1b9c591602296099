"""Tokens in a real Secret Service: ofa-manager login, download and logout, each in its own process.

A private D-Bus session with gnome-keyring on it (tests/secret_service.py) stands in for a desktop's
keyring: the same daemon, reached the same way. The commands run as the installed ``ofa-manager``
script, each a process of its own, as a user runs them; nothing here uses the in-memory keyring.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.catalogs import REPO, entry, payload, write_catalog
from tests.httpserver import TestServer
from tests.secret_service import SecretService

TOKEN = "tok-7c1e-from-the-secret-service"
SERVICE = "ofa-manager"


def ofa_manager() -> list[str]:
    """The console script pip installed next to this Python; ``-m ofa_manager`` where there is none."""
    script = Path(sys.executable).with_name("ofa-manager")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ofa_manager"]


def run(service: SecretService, *args: str, stdin: str = "", cwd: Path | None = None):
    env = service.process_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [*ofa_manager(), *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_a_command_line_process_uses_the_secret_service(secret_service):
    env = secret_service.process_env()
    done = subprocess.run(
        [sys.executable, "-c", "import keyring; k = keyring.get_keyring(); print(type(k).__module__)"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.stdout.strip() == "keyring.backends.SecretService", done.stderr


def test_login_stores_the_token_from_stdin_in_the_secret_service(secret_service, tmp_path):
    done = run(secret_service, "login", "Models.Example.org:8443", stdin=TOKEN + "\n", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "models.example.org:8443" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    # Seen from outside ofa-manager: gnome-keyring holds it under the app's service name and the host.
    assert secret_service.lookup(SERVICE, "models.example.org:8443") == TOKEN
    # And nowhere in a file of the user's folders.
    for folder in (tmp_path, Path(os.environ["XDG_CONFIG_HOME"]), Path(os.environ["XDG_DATA_HOME"])):
        for path in folder.rglob("*"):
            assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), path


def test_login_on_a_terminal_asks_for_the_token_without_echo(secret_service, tmp_path):
    env = secret_service.process_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    pid, terminal = pty.fork()
    if pid == 0:  # the child: ofa-manager on a terminal of its own, as typed in a shell
        try:
            os.chdir(tmp_path)
            command = ofa_manager()
            os.execve(command[0], command + ["login", "models.example.org"], env)
        finally:
            os._exit(127)
    screen = b""
    try:
        screen += read_until(terminal, b"(not shown): ")
        os.write(terminal, TOKEN.encode() + b"\r")
        screen += read_until(terminal, None)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(terminal)

    assert os.waitstatus_to_exitcode(status) == 0, screen.decode(errors="replace")
    assert b"Token for models.example.org" in screen
    assert b"stored in the system keyring" in screen
    assert TOKEN.encode() not in screen, "the token was echoed to the terminal"
    assert secret_service.lookup(SERVICE, "models.example.org") == TOKEN


def read_until(terminal: int, marker: bytes | None, timeout: float = 60) -> bytes:
    """What the terminal shows until ``marker`` appears (or, for None, until the program ends)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the program ended and closed its side
            chunk = b""
        if not chunk:
            if marker is None:
                return seen
            break
        seen += chunk
        if marker is not None and marker in seen:
            return seen
    raise AssertionError(f"the terminal never showed {marker!r}; it showed {seen!r}")


@pytest.fixture
def private_site(http_server, tmp_path):
    """A host that wants the token (http_server) and another one (no token there) it redirects to."""
    with TestServer() as elsewhere:
        files = {"private": payload(150_000, 1), "moved": payload(120_000, 2), "public": payload(90_000, 3)}
        http_server.add("/private.pt", files["private"], require_token=TOKEN)
        http_server.add("/moved.pt", files["moved"], redirect_to=elsewhere.url("/moved.pt"))
        elsewhere.add("/moved.pt", files["moved"])
        elsewhere.add("/public.pt", files["public"])
        catalog = write_catalog(
            tmp_path / "catalog.json",
            [
                entry("private", http_server.url("/private.pt")),
                entry("moved", http_server.url("/moved.pt")),
                entry("public", elsewhere.url("/public.pt")),
            ],
        )
        yield http_server, elsewhere, catalog, files


def test_download_sends_the_stored_token_to_its_own_host_only(secret_service, private_site, tmp_path):
    host, elsewhere, catalog, files = private_site
    models = tmp_path / "models"
    site = ["--catalog", str(catalog), "--dir", str(models)]

    # Before login the host refuses the download, and the message says what to do.
    refused = run(secret_service, *site, "download", "private")
    assert refused.returncode != 0 and "401" in refused.stdout + refused.stderr
    assert f"{host.netloc} wants a token: store one with ofa-manager login {host.netloc}" in refused.stderr
    assert not (models / "private.pt").exists()

    assert run(secret_service, "login", host.netloc, stdin=TOKEN + "\n").returncode == 0
    done = run(secret_service, *site, "download", "private", "moved", "public")

    assert done.returncode == 0, done.stdout + done.stderr
    for name, data in files.items():
        assert (models / f"{name}.pt").read_bytes() == data
    assert TOKEN not in done.stdout + done.stderr
    served = [r for r in host.requests_for("/private.pt", "GET") if r.status in (200, 206)]
    assert served and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in served)
    # The redirect's first hop is the token's host; the other host never sees it.
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in host.requests_for("/moved.pt"))
    assert elsewhere.requests and not [r for r in elsewhere.requests if "authorization" in r.headers]


def test_logout_removes_the_token_and_downloads_stop_sending_it(secret_service, private_site, tmp_path):
    host, _, catalog, files = private_site
    site = ["--catalog", str(catalog), "--dir", str(tmp_path / "models")]
    assert run(secret_service, "login", host.netloc, stdin=TOKEN + "\n").returncode == 0

    done = run(secret_service, "logout", host.netloc)

    assert done.returncode == 0 and "removed" in done.stdout, done.stderr
    assert secret_service.lookup(SERVICE, host.netloc) is None
    host.clear_requests()
    refused = run(secret_service, *site, "download", "private")
    assert refused.returncode != 0 and f"{host.netloc} wants a token" in refused.stdout + refused.stderr
    assert host.requests and not [r for r in host.requests if "authorization" in r.headers]
    again = run(secret_service, "logout", host.netloc)
    assert again.returncode == 0 and "no token was stored" in again.stdout


def test_a_locked_keyring_makes_login_and_logout_say_so(locked_secret_service, tmp_path):
    for command, stdin in (
        (["login", "models.example.org"], TOKEN + "\n"),
        (["logout", "models.example.org"], ""),
    ):
        done = run(locked_secret_service, *command, stdin=stdin, cwd=tmp_path)

        assert done.returncode == 2, done.stdout + done.stderr
        assert "keyring is locked" in done.stderr and "unlock it" in done.stderr
        assert "Traceback" not in done.stderr and TOKEN not in done.stdout + done.stderr
    # Once the keyring is unlocked, the same command works.
    locked_secret_service.restart_daemon(unlocked=True)
    assert run(locked_secret_service, "login", "models.example.org", stdin=TOKEN).returncode == 0
    assert locked_secret_service.lookup(SERVICE, "models.example.org") == TOKEN


def test_a_refused_token_is_named_as_the_cause(secret_service, private_site, tmp_path):
    host, _, catalog, _ = private_site
    assert run(secret_service, "login", host.netloc, stdin="an-old-token\n").returncode == 0
    done = run(secret_service, "--catalog", str(catalog), "--dir", str(tmp_path / "m"), "download", "private")
    assert done.returncode != 0
    assert f"401 Unauthorized (the token stored for {host.netloc} was refused)" in done.stdout + done.stderr
    assert "an-old-token" not in done.stdout + done.stderr


def test_a_locked_keyring_still_lets_downloads_that_need_no_token_run(
    locked_secret_service, private_site, tmp_path
):
    _, _, catalog, files = private_site
    models = tmp_path / "models"
    site = ["--catalog", str(catalog), "--dir", str(models)]
    done = run(locked_secret_service, *site, "download", "public")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (models / "public.pt").read_bytes() == files["public"]
    # One that needs the token says that the keyring is locked, not merely that the server refused.
    refused = run(locked_secret_service, *site, "download", "private")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "could be read: the system keyring is locked" in refused.stdout + refused.stderr


def test_a_keyring_that_never_answers_times_out_instead_of_hanging(silent_secret_service, monkeypatch):
    import keyring
    import keyring.backends.SecretService

    from ofa_manager.core import credentials

    for name, value in silent_secret_service.env().items():
        monkeypatch.setenv(name, value)
    keyring.set_keyring(keyring.backends.SecretService.Keyring())  # memory_keyring restores its own
    monkeypatch.setattr(credentials, "TIMEOUT_S", 2.0)

    with pytest.raises(credentials.KeyringLocked, match="did not answer within 2 s"):
        credentials.set_token("models.example.org", TOKEN)
    assert credentials.keyring_problem() is not None
    # A download asking for a token goes on without one (and the server's answer says what is missing).
    assert credentials.TokenCache().token_for("https://models.example.org/m.pt") is None
