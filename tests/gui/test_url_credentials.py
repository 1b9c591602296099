"""The window never shows a URL's user and password: rows, tooltips, the downloads panel, messages."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex, Qt  # noqa: E402

from tests.transfers import PASSWORD, USER, files_holding, with_credentials  # noqa: E402
from tests.windows import WINDOW_MARKS, KiB, Server, status, wait_status  # noqa: E402

pytestmark = WINDOW_MARKS


def texts(model, parent: QModelIndex | None = None) -> list[str]:
    """Every display text and tooltip of a model, its children included."""
    parent = parent or QModelIndex()
    found = []
    for row in range(model.rowCount(parent)):
        for column in range(model.columnCount(parent)):
            index = model.index(row, column, parent)
            for role in (Qt.DisplayRole, Qt.ToolTipRole):
                value = index.data(role)
                if isinstance(value, str):
                    found.append(value)
        found.extend(texts(model, model.index(row, 0, parent)))
    return found


def test_the_window_shows_urls_without_their_user_and_password(
    qtbot,
    server: Server,
    open_window,
    models_dir,
    isolated_user_folders,
):
    tiny = server.add("ofa-tiny", 256 * KiB)
    base = server.add("ofa-base", 128 * KiB, redirect_to=f"ftp://{USER}:{PASSWORD}@files.invalid/b.pt")
    base["mirrors"] = [with_credentials(server.http.url("/gone.pt"))]
    for row in (tiny, base):
        row["url"] = with_credentials(row["url"])
    window = open_window(server.catalog())
    messages: list[str] = []
    window.workspace.store.message.connect(messages.append)

    window.download(list(window.workspace.catalog))
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    wait_status(qtbot, window, "ofa-base", "Failed: .*")
    window.check_links()
    qtbot.waitUntil(lambda: any("failed — " in m for m in messages), timeout=15000)

    tip = window.model.index_of("ofa-tiny").data(Qt.ToolTipRole)
    assert f"http://***@{server.http.netloc}/checkpoints/ofa-tiny.pt" in tip
    assert "ftp://***@files.invalid" in status(window, "ofa-base")
    assert f"(mirror at {server.http.netloc}): 404" in messages[-1]
    shown = [*texts(window.model), *texts(window.downloads.model), *messages]
    shown += [window.windowTitle(), window.message_label.text()]
    written = [models_dir, *isolated_user_folders.values()]
    for secret in (PASSWORD, f"{USER}:"):
        assert [text for text in shown if secret in text] == []
        assert [f for folder in written for f in files_holding(folder, secret)] == []
