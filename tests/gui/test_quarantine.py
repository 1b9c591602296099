"""The window: a rejected download's row, Keep Anyway, Delete Rejected Copy, and Retry asking first."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from tests.catalogs import sha256  # noqa: E402
from tests.httpserver import oss_headers  # noqa: E402
from tests.windows import WAIT_MS, WINDOW_MARKS, Answers, KiB, status, wait_status  # noqa: E402

pytestmark = WINDOW_MARKS


def bad_hash_catalog(server):
    entry = server.add("ofa-tiny", 256 * KiB)
    entry["sha256"] = sha256(b"not these bytes")
    return server.catalog()


def test_rejected_row_then_keep_anyway_without_downloading(
    qtbot, server, open_window, models_dir, http_server, monkeypatch
):
    window = open_window(bad_hash_catalog(server))
    window.select(["ofa-tiny"])
    window.actions_by_name["download"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Failed: sha256 mismatch")
    assert (models_dir / "ofa-tiny.pt.rejected").exists()
    window.workspace.store.request_scan()
    qtbot.waitUntil(lambda: window.actions_by_name["keep_rejected"].isEnabled(), timeout=WAIT_MS)
    assert window.actions_by_name["delete_rejected"].isEnabled()
    gets = len(http_server.requests_for("/checkpoints/ofa-tiny.pt", "GET"))

    # Retry asks first; "Cancel" fetches nothing.
    answers = Answers(monkeypatch, window, lambda title, choices: "Cancel")
    window.actions_by_name["retry"].trigger()
    assert answers.asked and answers.asked[0][0] == "Download again?"
    assert status(window, "ofa-tiny") == "Failed: sha256 mismatch"

    window.actions_by_name["keep_rejected"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Kept anyway: differs from the catalog")
    assert (models_dir / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]
    assert not (models_dir / "ofa-tiny.pt.rejected").exists()
    assert len(http_server.requests_for("/checkpoints/ofa-tiny.pt", "GET")) == gets


def test_delete_rejected_copy(qtbot, server, open_window, models_dir, monkeypatch):
    window = open_window(bad_hash_catalog(server))
    window.select(["ofa-tiny"])
    window.actions_by_name["download"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Failed: sha256 mismatch")
    window.workspace.store.request_scan()
    qtbot.waitUntil(lambda: window.actions_by_name["delete_rejected"].isEnabled(), timeout=WAIT_MS)
    Answers(monkeypatch, window, lambda title, choices: "Delete")
    window.actions_by_name["delete_rejected"].trigger()
    qtbot.waitUntil(lambda: not (models_dir / "ofa-tiny.pt.rejected").exists(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.actions_by_name["delete_rejected"].isEnabled(), timeout=WAIT_MS)


def test_row_says_verified_against_the_servers_crc64(qtbot, server, open_window, http_server):
    entry = server.add("ofa-tiny", 256 * KiB)
    http_server.route("/checkpoints/ofa-tiny.pt").headers.update(
        oss_headers(server.data["/checkpoints/ofa-tiny.pt"])
    )
    assert "sha256" not in entry
    window = open_window(server.catalog())
    window.select(["ofa-tiny"])
    window.actions_by_name["download"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Verified against the server's CRC-64")
