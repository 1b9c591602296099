"""The window's tokens in a real Secret Service: the settings dialog stores and removes them in gnome-keyring,
the download process reads them from it, and a locked or silent keyring never freezes the window.

The window runs in this process, so keyring is switched to its Secret Service backend for these tests
(conftest's in-memory keyring is for the others); the download process is a child that finds the same
private bus through the environment, as it would find the desktop's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import keyring
import keyring.backends.SecretService
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402

from ofa_manager.core import credentials  # noqa: E402
from ofa_manager.core import settings as settings_file  # noqa: E402
from tests.catalogs import REPO  # noqa: E402
from tests.windows import WAIT_MS, WINDOW_MARKS, status, wait_status  # noqa: E402

pytestmark = WINDOW_MARKS

TOKEN = "tok-51d0-kept-by-gnome-keyring"
KiB = 1024
STORING = "Storing the token in the system keyring"


def use(service, monkeypatch) -> None:
    """Point this process and the download process it starts at ``service``."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    for name, value in service.env().items():
        monkeypatch.setenv(name, value)
    keyring.set_keyring(keyring.backends.SecretService.Keyring())  # memory_keyring restores its own


class Ticks:
    """Counts the turns of the GUI thread's event loop (a zero-interval timer fires once per turn)."""

    def __init__(self) -> None:
        self.count = 0
        self.timer = QTimer()
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.count += 1


def test_the_settings_dialog_stores_and_removes_a_token_in_the_secret_service(
    qtbot, server, open_window, secret_service, monkeypatch
):
    use(secret_service, monkeypatch)
    entry = server.add("ofa-tiny", 64 * KiB, require_token=TOKEN)
    host = entry["url"].split("/")[2]
    window = open_window(server.catalog())
    dialog = window.open_settings()
    qtbot.waitUntil(lambda: "No token stored" in dialog.token_status.text(), timeout=WAIT_MS)
    dialog.token.setText(TOKEN)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.accept()

    assert secret_service.lookup("ofa-manager", host) == TOKEN
    assert TOKEN not in settings_file.settings_path().read_text(encoding="utf-8")
    window.download([window.workspace.catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    served = server.http.requests_for("/checkpoints/ofa-tiny.pt", "GET")
    assert served and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in served)

    dialog = window.open_settings()
    qtbot.waitUntil(lambda: f"Tokens stored for: {host}" in dialog.token_status.text(), timeout=WAIT_MS)
    dialog.remove_token.click()
    qtbot.waitUntil(lambda: f"Token for {host} removed." in dialog.token_status.text(), timeout=WAIT_MS)
    assert secret_service.lookup("ofa-manager", host) is None
    dialog.reject()


def test_the_download_process_reads_a_token_stored_from_the_command_line(
    qtbot, server, open_window, secret_service, monkeypatch
):
    use(secret_service, monkeypatch)
    entry = server.add("ofa-tiny", 64 * KiB, require_token=TOKEN)
    host = entry["url"].split("/")[2]
    # Logged in on the command line before the window opens: only the keyring can tell the window.
    env = secret_service.process_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    login = subprocess.run(
        [sys.executable, "-m", "ofa_manager", "login", host],
        input=TOKEN, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr

    window = open_window(server.catalog())
    window.download([window.workspace.catalog.get("ofa-tiny")])

    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    requests = server.http.requests_for("/checkpoints/ofa-tiny.pt", "GET")
    assert requests and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in requests)


def test_a_locked_keyring_is_explained_and_the_window_keeps_running(
    qtbot, server, open_window, locked_secret_service, monkeypatch
):
    use(locked_secret_service, monkeypatch)
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    dialog = window.open_settings()
    qtbot.waitUntil(lambda: "keyring is locked" in dialog.token_status.text(), timeout=WAIT_MS)
    # Locked is not missing: the user may unlock the keyring and try again.
    assert dialog.token.isEnabled() and dialog.store_token.isEnabled()

    ticks = Ticks()
    dialog.token.setText(TOKEN)
    dialog.store_token.click()
    # The click returned before the keyring answered: it is asked off the GUI thread.
    assert STORING in dialog.token_status.text() and not dialog.ok_button.isEnabled()
    qtbot.waitUntil(lambda: "Not stored" in dialog.token_status.text(), timeout=WAIT_MS)
    assert "keyring is locked" in dialog.token_status.text() and ticks.count > 0
    assert dialog.store_token.isEnabled() and dialog.ok_button.isEnabled()

    # OK with the token still typed in: the dialog stays open on the Tokens tab and says why.
    dialog.accept()
    qtbot.waitUntil(lambda: "Not stored" in dialog.token_status.text(), timeout=WAIT_MS)
    assert dialog.isVisible() and dialog.tabs.currentIndex() == 3
    dialog.reject()
    assert status(window, "ofa-tiny") is not None


def test_a_keyring_that_never_answers_does_not_freeze_the_window(
    qtbot, server, open_window, silent_secret_service, monkeypatch
):
    use(silent_secret_service, monkeypatch)
    monkeypatch.setattr(credentials, "TIMEOUT_S", 3.0)
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    dialog = window.open_settings()
    ticks = Ticks()
    dialog.token.setText(TOKEN)
    dialog.store_token.click()

    # While the keyring says nothing, the event loop goes on turning and the window goes on painting.
    qtbot.waitUntil(lambda: ticks.count >= 200, timeout=WAIT_MS)
    assert STORING in dialog.token_status.text()
    window.repaint()
    qtbot.waitUntil(lambda: "did not answer" in dialog.token_status.text(), timeout=WAIT_MS)
    assert "Not stored" in dialog.token_status.text()
    dialog.reject()
