"""Shared fixtures: every test gets its own user folders, an in-memory keyring and a loopback server."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import keyring.backend
import pytest

from tests.catalogs import engine_threads
from tests.fixture_server import http_server  # noqa: F401  (re-exported fixture)
from tests.scenes import move_away
from tests.secret_service import locked_secret_service, secret_service, silent_secret_service  # noqa: F401

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The window follows the system's language (gui/i18n.py): the tests read English, whatever the machine's
# locale, unless a test installs another language (tests/gui/test_i18n.py).
os.environ["LANGUAGE"] = "en"

# Without pytest-qt (a slim install) the window tests are not collected; the others run as usual.
try:
    import pytestqt  # noqa: F401
except ImportError:
    collect_ignore = ["gui"]


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Stands in for the system keyring in this process; the tests of the real one start a private
    Secret Service (tests/secret_service.py) and point their processes at it."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.passwords:
            raise PasswordDeleteError("not found")
        del self.passwords[(service, username)]


@pytest.fixture(autouse=True)
def isolated_user_folders(tmp_path_factory, monkeypatch) -> dict[str, Path]:
    """Point every per-user folder at a temp folder: no test reads or writes the real user's files."""
    base = tmp_path_factory.mktemp("home")
    folders = {}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = base / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
        folders[name] = folder
    runtime = base / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("OFA_MANAGER_DIR", raising=False)
    # Processes the tests start (the window's download process among them) find no keyring, even on a
    # desktop whose session has one; the Secret Service tests point theirs at a private one instead.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return folders


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    """An in-memory keyring for each test (see MemoryKeyring for why)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def models_dir(tmp_path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


@pytest.fixture
def engine_threads_end():
    """Every download, worker and queue thread the test started has ended when it returns. Use it with
    ``pytestmark = pytest.mark.usefixtures("engine_threads_end")``."""
    yield
    assert engine_threads() == []


@pytest.fixture
def moved_away(tmp_path, http_server, capsys) -> tuple[Path, Path, Path]:  # noqa: F811
    """Folder A after a real download and `ofa-manager move B`: (A, B, catalog)."""
    return move_away(tmp_path, http_server, capsys)
