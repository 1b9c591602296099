"""The settings dialog: a round trip, tokens in the keyring, no keyring."""

from __future__ import annotations

from ofa_manager.core import settings as settings_file
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB, MiB, wait_status

pytestmark = WINDOW_MARKS


def test_settings_round_trip_through_the_dialog(qtbot, server, open_window, models_dir):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    dialog = window.open_settings()
    dialog.jobs.setValue(3)
    dialog.connections.setValue(8)
    dialog.limit.setValue(2.5)
    dialog.timeout.setValue(45)
    dialog.retries.setValue(7)
    dialog.resume_on_start.setChecked(False)
    dialog.notifications.setChecked(False)
    dialog._add_rule("https://ofa-beijing.oss-cn-beijing.aliyuncs.com/", "https://mirror.example/ofa/")
    dialog.accept()

    saved = settings_file.load()
    assert (saved.jobs, saved.connections, saved.limit_rate, saved.timeout, saved.retries) == (
        3,
        8,
        int(2.5 * MiB),
        45.0,
        7,
    )
    assert not saved.resume_on_start and not saved.notifications
    assert saved.rewrite_rules == [
        ["https://ofa-beijing.oss-cn-beijing.aliyuncs.com/", "https://mirror.example/ofa/"]
    ]

    again = window.open_settings()
    assert (again.jobs.value(), again.connections.value(), again.limit.value(), again.timeout.value()) == (
        3,
        8,
        2.5,
        45,
    )
    assert again.rules.rowCount() == 1 and again.rules.item(0, 1).text() == "https://mirror.example/ofa/"
    assert not again.resume_on_start.isChecked()
    again.reject()


def test_a_token_goes_to_the_keyring_not_the_settings_file(qtbot, server, open_window, memory_keyring):
    entry = server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    dialog = window.open_settings()
    host = entry["url"].split("/")[2]
    assert dialog.host.currentText() == host
    dialog.token.setText("s3cr3t-token-value")
    # The keyring is written off the GUI thread; the dialog closes once it has taken the token.
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.accept()
    assert memory_keyring.passwords[("ofa-manager", host)] == "s3cr3t-token-value"
    assert "s3cr3t-token-value" not in settings_file.settings_path().read_text(encoding="utf-8")

    # The next download sends it, to its own host only.
    window.download([window.workspace.catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    sent = server.http.requests_for("/checkpoints/ofa-tiny.pt", "GET")[0].headers.get("authorization")
    assert sent == "Bearer s3cr3t-token-value"


def test_a_token_removed_then_cancelled_is_no_longer_sent(qtbot, server, open_window, memory_keyring):
    entry = server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    host = entry["url"].split("/")[2]
    dialog = window.open_settings()
    dialog.token.setText("s3cr3t-token-value")
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.accept()
    # Removed in a second visit that ends with Cancel: the keyring has no token, and neither do downloads.
    dialog = window.open_settings()
    dialog.remove_token.click()
    qtbot.waitUntil(lambda: "removed" in dialog.token_status.text(), timeout=WAIT_MS)
    dialog.reject()
    assert ("ofa-manager", host) not in memory_keyring.passwords
    window.download([window.workspace.catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    request = server.http.requests_for("/checkpoints/ofa-tiny.pt", "GET")[0]
    assert "authorization" not in request.headers


def test_without_a_keyring_the_dialog_says_so(qtbot, server, open_window):
    import keyring
    import keyring.backends.fail

    from ofa_manager.core import credentials

    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    keyring.set_keyring(keyring.backends.fail.Keyring())  # memory_keyring restores its own afterwards
    dialog = window.open_settings()
    # The keyring is asked off the GUI thread: the answer arrives a moment after the dialog opens.
    qtbot.waitUntil(lambda: credentials.NO_BACKEND in dialog.token_status.text(), timeout=WAIT_MS)
    assert not dialog.token.isEnabled()
    dialog.reject()
