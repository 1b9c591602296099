"""Tokens: login/logout through the keyring only, never printed; no keyring is a clear, normal state.

Most tests rely on conftest's in-memory keyring (no Secret Service runs on the test machine); the ones
about a missing keyring switch to keyring's own ``fail`` backend.
"""

from __future__ import annotations

import io
import subprocess

import keyring
import keyring.backends.fail
import pytest

from ofa_manager import cli
from ofa_manager.core import credentials
from ofa_manager.core.credentials import KeyringUnavailable, TokenCache
from ofa_manager.core.hosts import normalise_host
from tests.catalogs import cli_command, cli_env, entry, payload, write_catalog

TOKEN = "tok-3f9a-very-secret"


@pytest.fixture
def no_keyring():
    keyring.set_keyring(keyring.backends.fail.Keyring())  # memory_keyring restores its own afterwards


def login(capsys, monkeypatch, host: str, stdin: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(["login", host])
    out, err = capsys.readouterr()
    return code, out, err


def test_login_reads_the_token_from_stdin_and_never_prints_it(capsys, monkeypatch, memory_keyring):
    code, out, err = login(capsys, monkeypatch, "models.example.org", TOKEN + "\n")
    assert code == 0 and "models.example.org" in out
    assert TOKEN not in out + err
    assert memory_keyring.passwords == {("ofa-manager", "models.example.org"): TOKEN}


def test_login_on_a_terminal_asks_without_echo(capsys, monkeypatch, memory_keyring):
    asked = []

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or TOKEN)
    assert cli.main(["login", "models.example.org"]) == 0
    out, err = capsys.readouterr()
    assert len(asked) == 1 and "models.example.org" in asked[0]
    assert TOKEN not in out + err + asked[0]
    assert memory_keyring.passwords[("ofa-manager", "models.example.org")] == TOKEN


def test_login_with_a_url_stores_the_token_under_host_and_port(capsys, monkeypatch, memory_keyring):
    assert login(capsys, monkeypatch, "https://Models.Example.org:8443/checkpoints/", TOKEN)[0] == 0
    assert memory_keyring.passwords == {("ofa-manager", "models.example.org:8443"): TOKEN}


def test_login_without_a_token_stores_nothing(capsys, monkeypatch, memory_keyring):
    code, _, err = login(capsys, monkeypatch, "models.example.org", "\n")
    assert code == 2 and "no token" in err
    assert memory_keyring.passwords == {}


def test_login_refuses_something_that_is_not_a_host(capsys, monkeypatch, memory_keyring):
    code, _, err = login(capsys, monkeypatch, "not a host", TOKEN)
    assert code == 2 and "not a host name" in err
    assert memory_keyring.passwords == {}


def test_logout_removes_the_token(capsys, monkeypatch, memory_keyring):
    login(capsys, monkeypatch, "models.example.org", TOKEN)
    assert cli.main(["logout", "models.example.org"]) == 0
    assert "removed" in capsys.readouterr().out
    assert memory_keyring.passwords == {}
    assert cli.main(["logout", "models.example.org"]) == 0
    assert "no token was stored" in capsys.readouterr().out


def test_token_is_kept_only_in_the_keyring(capsys, monkeypatch, isolated_user_folders, tmp_path):
    login(capsys, monkeypatch, "models.example.org", TOKEN)
    for folder in [*isolated_user_folders.values(), tmp_path]:
        for path in folder.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_login_without_a_keyring_backend_says_so_clearly(capsys, monkeypatch, no_keyring):
    code, out, err = login(capsys, monkeypatch, "models.example.org", TOKEN)
    assert code == 2
    assert "no system keyring is available" in err and "downloads that need no token still work" in err
    assert TOKEN not in out + err and "Traceback" not in err


def test_logout_without_a_keyring_backend_says_so_clearly(capsys, no_keyring):
    assert cli.main(["logout", "models.example.org"]) == 2
    assert "no system keyring is available" in capsys.readouterr().err


def test_cli_download_works_without_a_keyring_backend(capsys, tmp_path, models_dir, http_server, no_keyring):
    data = payload(100_000)
    http_server.add("/m.pt", data)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"))])
    assert cli.main(["--dir", str(models_dir), "--catalog", str(catalog), "download", "m"]) == 0
    assert (models_dir / "m.pt").read_bytes() == data


def test_login_in_a_subprocess_without_a_keyring(tmp_path):
    done = subprocess.run(
        cli_command("login", "models.example.org"),
        input=TOKEN + "\n",
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no system keyring is available" in done.stderr
    assert TOKEN not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_credentials_module(memory_keyring):
    assert normalise_host("https://A.Example.org:9000/x") == "a.example.org:9000"
    credentials.set_token("A.example.org", TOKEN)
    assert credentials.get_token("a.example.org") == TOKEN
    assert credentials.keyring_problem() is None
    cache = TokenCache()
    assert cache.token_for("https://a.example.org/file.pt") == TOKEN
    assert cache.token_for("https://b.example.org/file.pt") is None
    assert credentials.delete_token("a.example.org") is True
    assert credentials.delete_token("a.example.org") is False


def test_credentials_module_without_a_keyring(no_keyring):
    assert credentials.keyring_problem() is not None
    with pytest.raises(KeyringUnavailable, match="no system keyring"):
        credentials.set_token("a.example.org", TOKEN)
    assert TokenCache().token_for("https://a.example.org/file.pt") is None
