"""The window over core's single rules: the sources of an entry, and the entry state in words."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from ofa_manager.core import units  # noqa: E402
from ofa_manager.gui import tree  # noqa: E402
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB, wait_status  # noqa: E402

pytestmark = WINDOW_MARKS


def test_a_mirror_of_an_entry_sharing_the_file_counts_for_the_link_check(
    qtbot,
    server,  # noqa: F811  (the fixture imported above)
    open_window,  # noqa: F811
    http_server,
):
    # ofa-large and ofa-base are one file; only ofa-base lists a mirror. Its link is broken for both.
    path = "/checkpoints/shared.pt"
    server.add("ofa-large", 64 * KiB, path=path, statuses=[404] * 10, in_catalog_size=False)
    server.add("ofa-base", 64 * KiB, path=path, in_catalog_size=False)
    http_server.add("/mirror/shared.pt", server.data[path])
    server.entries[1]["mirrors"] = [http_server.url("/mirror/shared.pt")]
    window = open_window(server.catalog())
    window.select(["ofa-large"])
    window.actions_by_name["check"].trigger()
    qtbot.waitUntil(lambda: "failed — " in window.message_label.text(), timeout=WAIT_MS)
    assert http_server.requests_for("/mirror/shared.pt", "HEAD")
    wait_status(qtbot, window, "ofa-large", "Not downloaded — link failed: 404 Not Found; a mirror answers")
    assert window.model.index_of("ofa-large", tree.COL_SIZE).data() == units.size(64 * KiB)
