"""Window tests: pytest-qt, offscreen, the real engine against the loopback test server."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ofa_manager.core import settings as settings_file  # noqa: E402
from ofa_manager.core import units  # noqa: E402
from ofa_manager.core.catalog import load_catalog  # noqa: E402
from ofa_manager.core.settings import Settings  # noqa: E402
from ofa_manager.gui import downloads, tree  # noqa: E402
from ofa_manager.gui.app import SingleInstance  # noqa: E402
from ofa_manager.gui.download_process import queue_state_file  # noqa: E402
from ofa_manager.gui.window import MainWindow  # noqa: E402
from ofa_manager.gui.workspace import Workspace  # noqa: E402
from tests.catalogs import rot  # noqa: E402

# Any Qt warning fails a test, except the offscreen platform's note that it has no window manager.
pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

KiB = 1024
MiB = 1024 * 1024
WAIT_MS = 15000
PETL = ("refcoco-adapter", "refcoco-lora", "refcocoplus-adapter")
TITLES = {
    "ofa-huge": "OFA-Huge",
    "ofa-large": "OFA-Large",
    "ofa-base": "OFA-Base",
    "ofa-medium": "OFA-Medium",
    "ofa-tiny": "OFA-Tiny",
    "refcoco-adapter": "Adapter checkpoint on RefCOCO",
    "refcoco-lora": "LoRA checkpoint on RefCOCO",
    "refcocoplus-adapter": "Adapter checkpoint on RefCOCO+",
}


def payload(size: int, seed: int) -> bytes:
    """Distinct, incompressible-looking bytes for each file."""
    block = bytes((i * 131 + seed * 17) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


class Server:
    """The loopback server with the files of a small catalog shaped like the built-in one."""

    def __init__(self, http_server, tmp_path: Path) -> None:
        self.http = http_server
        self.tmp_path = tmp_path
        self.entries: list[dict] = []
        self.data: dict[str, bytes] = {}

    def add(
        self,
        entry_id: str,
        size: int,
        *,
        group=("Pretrained backbones",),
        path: str | None = None,
        in_catalog_size: bool = True,
        **faults,
    ) -> dict:
        path = path or f"/checkpoints/{entry_id}.pt"
        if path not in self.data:
            self.data[path] = payload(size, len(self.data) + 1)
            self.http.add(path, self.data[path], **faults)
        entry = {"id": entry_id, "title": TITLES[entry_id], "group": list(group), "url": self.http.url(path)}
        if in_catalog_size:
            entry["size"] = size
        self.entries.append(entry)
        return entry

    def catalog(self) -> Path:
        file = self.tmp_path / "catalog.json"
        file.write_text(json.dumps({"format": 1, "title": "test", "entries": self.entries}), encoding="utf-8")
        return file


@pytest.fixture
def server(http_server, tmp_path) -> Server:
    return Server(http_server, tmp_path)


def engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ofa-")]


@pytest.fixture
def open_window(qtbot, models_dir) -> Iterator[Callable[..., MainWindow]]:
    """Opens windows as the app does (window painted, then the engine starts); closes them at the end."""
    opened: list[MainWindow] = []

    def open_(
        catalog: Path,
        settings: Settings | None = None,
        root: Path | None = None,
        *,
        queue_in_window: bool = False,
    ) -> MainWindow:
        saved = settings or settings_file.load()
        workspace = Workspace(
            load_catalog([catalog]), saved, root or models_dir, queue_in_window=queue_in_window
        )
        window = MainWindow(workspace)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        workspace.start()
        qtbot.waitUntil(lambda: workspace.store.statuses is not None, timeout=WAIT_MS)
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.close()
    # Closing stops every download, worker and the download process; none may outlive the test.
    qtbot.waitUntil(lambda: not engine_threads(), timeout=5000)
    for window in opened:
        process = getattr(window.workspace.process.queue, "process", None)
        assert process is None or process.poll() is not None


def status(window: MainWindow, entry_id: str) -> str:
    return window.model.index_of(entry_id, tree.COL_STATUS).data()


def wait_status(qtbot, window: MainWindow, entry_id: str, pattern: str, timeout: int = WAIT_MS) -> None:
    qtbot.waitUntil(
        lambda: re.fullmatch(pattern, status(window, entry_id) or "") is not None, timeout=timeout
    )


def row_state(window: MainWindow, row: int) -> str:
    return window.downloads.model.index(row, downloads.COL_STATE).data()


def row_of(window: MainWindow, entry_id: str) -> int | None:
    ws = window.workspace
    return ws.store.row_of(ws.store.key_of(ws.catalog.get(entry_id)))


class Answers:
    """Stands in for a person clicking in the confirmation dialogs: records each question, picks a button."""

    def __init__(
        self, monkeypatch, window: MainWindow, choose: Callable[[str, list[str]], str | None]
    ) -> None:
        self.asked: list[tuple[str, str, list[str]]] = []
        self.choose = choose
        monkeypatch.setattr(window, "ask", self)

    def __call__(self, title: str, text: str, choices: list[str], **options) -> str | None:
        self.asked.append((title, text, choices))
        return self.choose(title, choices)


# -- the tree -------------------------------------------------------------------------------------


def test_tree_model_groups_and_modeltester(qtmodeltester, server, open_window):
    server.add("ofa-large", 64 * KiB)
    server.add("ofa-tiny", 32 * KiB)
    for entry_id in PETL:
        group = ("PETL on OFA-Large", "RefCOCO+" if "plus" in entry_id else "RefCOCO")
        server.add(entry_id, 16 * KiB, group=group, path="/checkpoints/caption_huge_best.pt")
    window = open_window(server.catalog())
    qtmodeltester.check(window.model)
    qtmodeltester.check(window.proxy)

    model = window.model
    groups = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert groups == ["Pretrained backbones", "PETL on OFA-Large"]
    petl = model.index(1, 0)
    assert [model.index(r, 0, petl).data() for r in range(model.rowCount(petl))] == ["RefCOCO", "RefCOCO+"]
    assert model.index(1, tree.COL_STATUS).data() == "0 of 3 downloaded"
    # Three entries, one shared file: the group's size counts it once.
    assert model.index(1, tree.COL_SIZE).data() == units.size(16 * KiB)
    assert status(window, "ofa-tiny") == "Not downloaded"


def test_shared_file_is_marked_and_its_tooltip_names_the_others(server, open_window):
    server.add("ofa-large", 64 * KiB)
    for entry_id in PETL:
        server.add(entry_id, 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"), path="/checkpoints/caption.pt")
    window = open_window(server.catalog())
    index = window.model.index_of("refcoco-lora")
    assert not index.data(Qt.DecorationRole).isNull()
    tip = index.data(Qt.ToolTipRole)
    assert (
        "Shares one file (caption.pt) with: Adapter checkpoint on RefCOCO, Adapter checkpoint on RefCOCO+"
        in tip
    )
    assert window.model.index_of("ofa-large").data(Qt.DecorationRole) is None


def test_size_unknown_until_the_head_probe_answers(qtbot, server, open_window, http_server, models_dir):
    server.add("ofa-base", 200 * KiB, in_catalog_size=False)
    catalog = load_catalog([server.catalog()])
    not_started = Workspace(catalog, Settings(), models_dir)
    model = tree.CheckpointTreeModel(not_started.store, not_started.contents)
    assert model.index_of("ofa-base", tree.COL_SIZE).data() == "unknown"
    assert not_started.close()

    window = open_window(server.catalog())
    size = window.model.index_of("ofa-base", tree.COL_SIZE)
    # The probe runs in the background after the first scan; the column fills in when it answers.
    qtbot.waitUntil(lambda: size.data() == units.size(200 * KiB), timeout=WAIT_MS)
    assert http_server.requests_for("/checkpoints/ofa-base.pt", "HEAD")
    assert not http_server.requests_for("/checkpoints/ofa-base.pt", "GET")


def test_a_size_probe_that_gets_no_answer_does_not_call_the_link_broken(qtbot, server, open_window):
    import socket

    # A port nobody listens on: connection refused, as when offline or behind a blocking proxy.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    server.add("ofa-base", 200 * KiB, in_catalog_size=False)
    server.add("ofa-tiny", 100 * KiB, in_catalog_size=False, statuses=[404] * 3)
    server.entries[0]["url"] = f"http://127.0.0.1:{closed_port}/ofa-base.pt"
    window = open_window(server.catalog())
    # A server that answers 404 has a broken link, and the row says so; no answer at all is not news
    # about the link: that row stays "Not downloaded", and the status bar says the server is unreachable.
    wait_status(qtbot, window, "ofa-tiny", "Not downloaded — link failed: 404 Not Found")
    said = window.message_label.text
    qtbot.waitUntil(lambda: said().startswith(f"No answer from 127.0.0.1:{closed_port} ("), timeout=WAIT_MS)
    assert said().endswith("sizes stay unknown — Check Links asks again")
    assert status(window, "ofa-base") == "Not downloaded"
    assert window.model.index_of("ofa-base", tree.COL_SIZE).data() == "unknown"


def test_search_box_filters_and_keeps_groups(qtbot, server, open_window):
    server.add("ofa-large", 64 * KiB)
    server.add("ofa-tiny", 32 * KiB)
    for entry_id in PETL:
        server.add(entry_id, 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"), path="/checkpoints/caption.pt")
    window = open_window(server.catalog())
    qtbot.keyClicks(window.search, "lora")
    proxy = window.proxy
    assert proxy.rowCount() == 1
    petl = proxy.index(0, 0)
    refcoco = proxy.index(0, 0, petl)
    shown = [proxy.index(r, 0, refcoco).data() for r in range(proxy.rowCount(refcoco))]
    assert shown == ["LoRA checkpoint on RefCOCO"]
    window.search.clear()
    assert proxy.rowCount() == 2


# -- downloads ------------------------------------------------------------------------------------


def test_two_downloads_pause_resume_and_cancel(qtbot, qtmodeltester, server, open_window, models_dir):
    size = 3 * MiB
    server.add("ofa-medium", size, rate=400 * KiB)
    server.add("ofa-tiny", size, rate=400 * KiB)
    window = open_window(server.catalog(), Settings(jobs=2, connections=2))
    window.select(["ofa-medium", "ofa-tiny"])
    window.actions_by_name["download"].trigger()
    qtbot.waitUntil(lambda: window.downloads.model.rowCount() == 2, timeout=WAIT_MS)
    qtmodeltester.check(window.downloads.model)
    wait_status(qtbot, window, "ofa-medium", r"\d+ %.*")
    wait_status(qtbot, window, "ofa-tiny", r"\d+ %.*")

    # Pause one from the tree; the other keeps going.
    window.select(["ofa-medium"])
    window.actions_by_name["pause"].trigger()
    wait_status(qtbot, window, "ofa-medium", "Paused")
    assert row_state(window, row_of(window, "ofa-medium")) == "Paused"
    assert re.fullmatch(r"\d+ %.*", status(window, "ofa-tiny"))

    # Cancel the other from its row's button: it leaves the list, its partial data stays on disk.
    tiny_row = row_of(window, "ofa-tiny")
    qtbot.mouseClick(
        window.downloads.view.viewport(),
        Qt.LeftButton,
        pos=window.downloads.button_rect(tiny_row, "cancel").center(),
    )
    qtbot.waitUntil(lambda: row_of(window, "ofa-tiny") is None, timeout=WAIT_MS)
    wait_status(qtbot, window, "ofa-tiny", r"Partial \(.+\)")
    assert (models_dir / "ofa-tiny.pt.part").exists()

    # Resume the paused one: it completes with the server's bytes.
    window.select(["ofa-medium"])
    window.actions_by_name["resume"].trigger()
    wait_status(qtbot, window, "ofa-medium", "Downloaded", timeout=30000)
    assert (models_dir / "ofa-medium.pt").read_bytes() == server.data["/checkpoints/ofa-medium.pt"]
    assert row_state(window, row_of(window, "ofa-medium")) == "Downloaded"


def test_failure_shows_on_the_row_and_retry_fixes_it(qtbot, server, open_window, models_dir, http_server):
    server.add("ofa-tiny", 256 * KiB, statuses=[404])
    window = open_window(server.catalog())
    window.select(["ofa-tiny"])
    window.actions_by_name["download"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Failed: 404 Not Found")
    row = row_of(window, "ofa-tiny")
    assert row_state(window, row) == "Failed: 404 Not Found"
    assert window.downloads.model.index(row, downloads.COL_ACTIONS).data(downloads.Role.ACTIONS) == (
        "retry",
        "remove",
    )
    # A failure in the background never opens a dialog.
    assert QApplication.activeModalWidget() is None
    assert "download failed: 404" in window.message_label.text()

    qtbot.mouseClick(
        window.downloads.view.viewport(),
        Qt.LeftButton,
        pos=window.downloads.button_rect(row, "retry").center(),
    )
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    assert (models_dir / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]
    assert [r.status for r in http_server.requests_for("/checkpoints/ofa-tiny.pt", "GET")][:2] == [404, 206]


def test_window_title_shows_overall_progress(qtbot, server, open_window):
    server.add("ofa-base", 2 * MiB, rate=300 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    assert window.windowTitle() == "ofa-manager"
    window.download([window.workspace.catalog.get("ofa-base")])
    qtbot.waitUntil(
        lambda: re.fullmatch(r"([1-9]\d?) % — 1 download — ofa-manager", window.windowTitle()) is not None,
        timeout=WAIT_MS,
    )
    window.workspace.commands.pause([window.workspace.catalog.get("ofa-base")])
    qtbot.waitUntil(lambda: window.windowTitle() == "ofa-manager", timeout=WAIT_MS)


# Progress reaching the views once per timer tick: tests/test_model_signals_gui.py (counted by ticks).


def test_petl_download_offers_the_backbone(qtbot, monkeypatch, server, open_window):
    server.add("ofa-large", 64 * KiB)
    for entry_id in PETL:
        server.add(entry_id, 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"), path="/checkpoints/caption.pt")
    for entry in server.entries[1:]:
        entry["base"] = "ofa-large"
    window = open_window(server.catalog())
    catalog = window.workspace.catalog
    plan = window.plan_download([catalog.get("refcoco-lora")])
    assert [b.id for b in plan.missing_bases] == ["ofa-large"]
    assert plan.needed == 16 * KiB and plan.needed_with_bases == 80 * KiB

    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    window.select(["refcoco-lora"])
    window.actions_by_name["download"].trigger()
    title, text, choices = answers.asked[0]
    assert choices == ["Queue OFA-Large Too", "Only the Selected", "Cancel"]
    assert "LoRA checkpoint on RefCOCO need(s) the backbone OFA-Large" in text
    wait_status(qtbot, window, "ofa-large", "Downloaded")
    wait_status(qtbot, window, "refcoco-lora", "Downloaded")
    # The three PETL entries share the file: all of them are downloaded now, with one GET of the file.
    assert status(window, "refcocoplus-adapter") == "Downloaded"
    assert window.plan_download([catalog.get("refcoco-adapter")]).entries == []


def test_queue_warns_when_the_disk_is_too_small(qtbot, monkeypatch, server, open_window):
    server.add("ofa-huge", 512 * KiB)
    window = open_window(server.catalog())
    monkeypatch.setattr(window.store, "free_bytes", lambda: 100 * KiB)
    answers = Answers(monkeypatch, window, lambda title, choices: "Cancel")
    assert not window.download([window.workspace.catalog.get("ofa-huge")])
    assert answers.asked[0][0] == "Not enough disk space"
    assert "need 512.0 KiB" in answers.asked[0][1] and "only 100.0 KiB is free" in answers.asked[0][1]
    assert window.downloads.model.rowCount() == 0


def test_unfinished_downloads_come_back_after_a_restart(qtbot, server, open_window, models_dir):
    server.add("ofa-base", 2 * MiB, rate=200 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    window.download([window.workspace.catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    started = time.monotonic()
    window.close()
    # Closing does not wait for the download to finish: the transfer stops, the queue is saved.
    assert time.monotonic() - started < 2.0
    assert queue_state_file(models_dir).exists()

    # With resume-on-start (the default) the download carries on by itself.
    again = open_window(server.catalog(), Settings(connections=1, resume_on_start=True))
    qtbot.waitUntil(lambda: again.downloads.model.rowCount() == 1, timeout=WAIT_MS)
    wait_status(qtbot, again, "ofa-base", r"\d+ %.*")
    again.close()

    # Without it, the download comes back paused, and resumes from where it stopped when asked.
    third = open_window(server.catalog(), Settings(resume_on_start=False))
    qtbot.waitUntil(lambda: third.downloads.model.rowCount() == 1, timeout=WAIT_MS)
    assert row_state(third, 0) == "Paused"
    wait_status(qtbot, third, "ofa-base", "Paused")
    server.http.route("/checkpoints/ofa-base.pt").rate = None
    third.workspace.commands.resume([third.workspace.catalog.get("ofa-base")])
    wait_status(qtbot, third, "ofa-base", "Downloaded")
    assert (models_dir / "ofa-base.pt").read_bytes() == server.data["/checkpoints/ofa-base.pt"]
    assert any(
        r.range and not r.range.startswith("bytes=0-")
        for r in server.http.requests_for("/checkpoints/ofa-base.pt", "GET")
    )


# -- verify, delete, disk usage -------------------------------------------------------------------


def download_all(qtbot, window: MainWindow) -> None:
    window.download(list(window.workspace.catalog))
    for entry in window.workspace.catalog:
        wait_status(qtbot, window, entry.id, "Downloaded|Verified")


def test_verify_catches_a_corrupted_file(qtbot, server, open_window, models_dir):
    server.add("ofa-tiny", 300 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    window.select(["ofa-tiny"])
    window.actions_by_name["verify"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Verified")

    path = models_dir / "ofa-tiny.pt"
    rot(path, 1000, b"garbage!" * 64)  # in place, the time stamp kept: the file is still ours
    window.actions_by_name["verify"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Corrupt")
    assert "CORRUPT" in window.message_label.text()
    assert window.actions_by_name["delete"].isEnabled()

    # Downloading it again: while the new copy is on its way the corrupt file is neither hashed (the
    # result would describe a file about to be replaced) nor offered for deletion.
    server.http.route("/checkpoints/ofa-tiny.pt").rate = 100 * KiB
    window.actions_by_name["download"].trigger()
    wait_status(qtbot, window, "ofa-tiny", r"\d+ %.*")
    assert not window.actions_by_name["verify"].isEnabled()
    assert not window.actions_by_name["delete"].isEnabled()
    assert window.workspace.commands.verify([window.workspace.catalog.get("ofa-tiny")]) == 0
    server.http.route("/checkpoints/ofa-tiny.pt").rate = None
    wait_status(qtbot, window, "ofa-tiny", "Downloaded|Verified")
    assert window.actions_by_name["verify"].isEnabled() and window.actions_by_name["delete"].isEnabled()
    assert path.read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]


def test_delete_moves_to_the_trash_and_says_where(
    qtbot, monkeypatch, server, open_window, models_dir, isolated_user_folders
):
    server.add("ofa-large", 200 * KiB)
    for entry_id in PETL[:2]:
        server.add(
            entry_id,
            16 * KiB,
            group=("PETL on OFA-Large", "RefCOCO"),
            path="/checkpoints/caption.pt",
        ).update(base="ofa-large")
    window = open_window(server.catalog())
    download_all(qtbot, window)
    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    window.select(["ofa-large"])
    window.actions_by_name["delete"].trigger()
    title, text, _ = answers.asked[0]
    assert title == "Move to the trash?"
    assert "(200.0 KiB) to the desktop trash" in text and "free" not in text
    assert "backbone of downloaded PETL checkpoints" in text and "LoRA checkpoint on RefCOCO" in text
    wait_status(qtbot, window, "ofa-large", "Not downloaded")
    trashed = isolated_user_folders["XDG_DATA_HOME"] / "Trash" / "files" / "ofa-large.pt"
    assert trashed.read_bytes() == server.data["/checkpoints/ofa-large.pt"]
    assert not (models_dir / "ofa-large.pt").exists()
    assert not (models_dir / ".ofa-large.pt.meta.json").exists()
    assert str(trashed) in window.message_label.text()
    # Its finished row in the downloads panel goes too: it would say "Downloaded" about a file in the trash.
    large = window.workspace.catalog.get("ofa-large")
    qtbot.waitUntil(lambda: window.workspace.store.item_for(large) is None, timeout=WAIT_MS)

    # Deleting a shared file names the other checkpoints that use it.
    window.select(["refcoco-lora"])
    window.actions_by_name["delete"].trigger()
    assert "the same file is used by: Adapter checkpoint on RefCOCO" in answers.asked[1][1]
    wait_status(qtbot, window, "refcoco-adapter", "Not downloaded")


def test_delete_falls_back_to_permanent_only_after_asking(
    qtbot, monkeypatch, server, open_window, models_dir
):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    # As on a system without a desktop trash (or a models folder on a volume the trash cannot reach).
    monkeypatch.setattr("ofa_manager.gui.commands.trash_file", lambda path: None)
    choices_made = iter(["Move to Trash", "Keep the File", "Move to Trash", "Delete Permanently"])
    answers = Answers(monkeypatch, window, lambda title, choices: next(choices_made))
    window.select(["ofa-tiny"])
    window.actions_by_name["delete"].trigger()
    qtbot.waitUntil(lambda: len(answers.asked) == 2, timeout=WAIT_MS)
    assert answers.asked[1][0] == "The trash cannot take the file"
    assert (models_dir / "ofa-tiny.pt").exists()
    window.actions_by_name["delete"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "Not downloaded")
    assert not (models_dir / "ofa-tiny.pt").exists()
    # The scan that follows the refusal may see the file gone before the deletion reports.
    qtbot.waitUntil(lambda: "permanently" in window.message_label.text(), timeout=WAIT_MS)


def test_delete_partial_file(qtbot, monkeypatch, server, open_window, models_dir):
    server.add("ofa-base", 2 * MiB, rate=300 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    base = window.workspace.catalog.get("ofa-base")
    window.download([base])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    window.workspace.commands.pause([base])
    wait_status(qtbot, window, "ofa-base", "Paused")
    window.workspace.commands.cancel([base])
    wait_status(qtbot, window, "ofa-base", r"Partial \(.+\)")
    Answers(monkeypatch, window, lambda title, choices: "Delete")
    window.select(["ofa-base"])
    window.actions_by_name["delete_partial"].trigger()
    wait_status(qtbot, window, "ofa-base", "Not downloaded")
    assert not (models_dir / "ofa-base.pt.part").exists()


def test_disk_panel_figures_match_the_files(qtbot, qtmodeltester, server, open_window, models_dir):
    server.add("ofa-tiny", 300 * KiB)
    server.add("ofa-medium", 700 * KiB)
    server.add("ofa-base", 2 * MiB, rate=300 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    # The by-size rows live in the workspace; a view must never see them change before the reset begins.
    usage_model = window.disk.model
    resets: list[tuple[str, int]] = [("after", usage_model.rowCount())]
    usage_model.modelAboutToBeReset.connect(lambda: resets.append(("before", usage_model.rowCount())))
    usage_model.modelReset.connect(lambda: resets.append(("after", usage_model.rowCount())))
    catalog = window.workspace.catalog
    window.download([catalog.get("ofa-tiny"), catalog.get("ofa-medium")])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    wait_status(qtbot, window, "ofa-medium", "Downloaded")
    window.download([catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    window.workspace.commands.pause([catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", "Paused")
    record_file = models_dir / "ofa-base.pt.part.json"

    # The paused transfer writes its resume record once more as it stops, marked as no longer running
    # (the record exists from the first answer on, as the download's claim on the disk space).
    def record_settled() -> bool:
        try:
            return json.loads(record_file.read_text()).get("running") is False
        except (OSError, ValueError):
            return False

    qtbot.waitUntil(record_settled, timeout=WAIT_MS)
    (models_dir / "notes.txt").write_bytes(b"x" * 5000)
    window.actions_by_name["refresh"].trigger()

    part = models_dir / "ofa-base.pt.part"
    # The partial file is preallocated (sparse) to the full size; what it holds is what the record says.
    received = sum(end - start for start, end in json.loads(record_file.read_text())["ranges"])
    assert 0 < received < part.stat().st_size
    labels = window.disk.figure_labels
    everything = sum(p.stat().st_size for p in models_dir.rglob("*") if p.is_file())
    other = everything - 1000 * KiB - part.stat().st_size  # metadata, resume record, notes.txt
    vfs = os.statvfs(models_dir)
    expected = {
        "downloaded": units.size(1000 * KiB),
        "partial": units.size(received),
        "other": units.size(other),
        "free": units.size(vfs.f_bavail * vfs.f_frsize),
    }
    try:
        qtbot.waitUntil(lambda: {k: labels[k].text() for k in expected} == expected, timeout=WAIT_MS)
    except Exception:
        raise AssertionError(f"{ {k: labels[k].text() for k in expected} } != {expected}") from None
    rows = window.disk.model
    sizes = sorted(
        [("OFA-Base (partial)", received), ("OFA-Medium", 700 * KiB), ("OFA-Tiny", 300 * KiB)],
        key=lambda row: -row[1],
    )
    assert [rows.index(r, 0).data() for r in range(rows.rowCount())] == [name for name, _ in sizes]
    assert [rows.index(r, 1).data() for r in range(rows.rowCount())] == [units.size(n) for _, n in sizes]
    qtmodeltester.check(rows)
    kinds = [kind for kind, _ in resets]
    assert len(resets) > 3 and kinds == ["after", "before"] * (len(resets) // 2) + ["after"], resets
    for (_, shown), (_, announced) in zip(resets[:-1:2], resets[1::2], strict=True):
        assert announced == shown, resets


# -- settings -------------------------------------------------------------------------------------


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


def test_geometry_and_splitter_are_restored(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    window.resize(720, 520)
    QApplication.processEvents()
    window.splitter.setSizes([300, 200])
    QApplication.processEvents()
    sizes = window.splitter.sizes()
    window.close()
    saved = settings_file.load()
    assert saved.window_geometry and saved.splitter_state and saved.window_state
    again = open_window(server.catalog(), saved)
    assert (again.width(), again.height()) == (720, 520)
    assert again.splitter.sizes() == sizes


def choose_folder(window: MainWindow, target: Path) -> None:
    """Pick another models folder in the settings dialog and press OK, as a user would."""
    dialog = window.open_settings()
    dialog.folder.setText(str(target))
    dialog.accept()


def wait_moved(qtbot, window: MainWindow, target: Path) -> None:
    ws = window.workspace
    qtbot.waitUntil(
        lambda: ws.store.library.root == target.resolve() and not ws.store.moving, timeout=WAIT_MS
    )


def test_changing_the_models_folder_moves_the_files(qtbot, monkeypatch, server, open_window, tmp_path):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    Answers(monkeypatch, window, lambda title, choices: "Move Files")
    target = tmp_path / "elsewhere"
    choose_folder(window, target)
    wait_moved(qtbot, window, target)
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    assert (target / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]
    assert settings_file.load().models_dir == str(target)


def test_a_failed_folder_change_keeps_the_old_folder_and_setting(
    qtbot, monkeypatch, server, open_window, tmp_path, models_dir
):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    before = settings_file.load().models_dir
    messages: list[str] = []
    window.workspace.store.message.connect(messages.append)
    Answers(monkeypatch, window, lambda title, choices: "Move Files")
    window.select(["ofa-tiny"])
    assert window.actions_by_name["verify"].isEnabled()
    target = tmp_path / "not-a-folder"
    target.write_text("a file stands where the folder would go")
    choose_folder(window, target)
    qtbot.waitUntil(lambda: window.workspace.store.moving, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.workspace.store.moving, timeout=WAIT_MS)
    assert window.workspace.store.library.root == models_dir.resolve()
    assert settings_file.load().models_dir == before
    assert (models_dir / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]
    assert any("Changing the models folder failed" in text for text in messages), messages
    # The actions held back during the move come back with the same selection.
    qtbot.waitUntil(lambda: window.actions_by_name["verify"].isEnabled(), timeout=WAIT_MS)
    assert window.actions_by_name["delete"].isEnabled()


def other_volume(near: Path) -> Path:
    """A folder on another file system than ``near`` (a tmpfs), or skip: moves across volumes copy."""
    for candidate in (Path("/dev/shm"), Path("/run/user") / str(os.getuid())):
        try:
            if candidate.is_dir() and os.access(candidate, os.W_OK):
                if candidate.stat().st_dev != near.stat().st_dev:
                    return candidate
        except OSError:
            continue
    pytest.skip("no writable folder on another file system here")


def test_a_move_to_another_volume_copies_with_progress_and_leaves_no_partial_copy(
    qtbot, monkeypatch, server, open_window, models_dir
):
    import tempfile

    server.add("ofa-tiny", 24 * MiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    target = Path(tempfile.mkdtemp(prefix="ofa-move-", dir=other_volume(models_dir))) / "models"
    try:
        messages: list[str] = []
        window.workspace.store.message.connect(messages.append)
        Answers(monkeypatch, window, lambda title, choices: "Move Files")
        choose_folder(window, target)
        wait_moved(qtbot, window, target)
        wait_status(qtbot, window, "ofa-tiny", "Downloaded")
        assert (target / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]
        assert not (models_dir / "ofa-tiny.pt").exists()
        assert not [p.name for p in target.iterdir() if p.name.endswith(".moving")]
        # The status bar followed the copy in per cent (a rename within a volume jumps to 100 % at once).
        percents = [
            int(m.group(1)) for t in messages if (m := re.search(r"Moving the checkpoints .*… (\d+) %$", t))
        ]
        assert any(0 < p < 100 for p in percents), messages
    finally:
        shutil.rmtree(target.parent, ignore_errors=True)


def test_closing_during_a_move_asks_and_can_keep_moving(qtbot, monkeypatch, server, open_window, tmp_path):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    ws = window.workspace
    tiny = ws.catalog.get("ofa-tiny")
    answers = Answers(
        monkeypatch, window, lambda title, choices: "Move Files" if "Move Files" in choices else "Keep Moving"
    )
    target = tmp_path / "elsewhere"
    # Another program holds the file's lock: the move waits for it, as it would for a running download.
    with ws.store.library.lock(tiny).acquire():
        choose_folder(window, target)
        qtbot.waitUntil(lambda: ws.store.moving, timeout=WAIT_MS)
        assert not window.actions_by_name["verify"].isEnabled()
        assert not window.actions_by_name["delete"].isEnabled()
        window.close()
        assert window.isVisible() and not ws._closed
        assert answers.asked[-1][0] == "Stop moving the checkpoints?" and str(target) in answers.asked[-1][1]
    wait_moved(qtbot, window, target)
    assert (target / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]


# -- start-up -------------------------------------------------------------------------------------


def test_a_second_launch_brings_the_first_window_forward(qtbot):
    first = SingleInstance("test-key")
    second = SingleInstance("test-key")
    try:
        assert first.claim()
        with qtbot.waitSignal(first.activated, timeout=WAIT_MS):
            assert not second.claim()
        other = SingleInstance("another-folder")
        assert other.claim()
        other.close()
    finally:
        first.close()
        second.close()


def test_a_second_launch_on_the_same_folder_exits_and_the_first_window_stays(server, models_dir):
    server.add("ofa-tiny", 64 * KiB)
    command = [
        sys.executable,
        "-m",
        "ofa_manager",
        "--dir",
        str(models_dir),
        "--catalog",
        str(server.catalog()),
    ]
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        OFA_MANAGER_REPORT_FIRST_PAINT="1",
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
    )
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert first.stdout.readline().startswith("first-paint ")
        second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert second.returncode == 0
        assert "already open" in second.stderr and "first-paint" not in second.stdout
        assert first.poll() is None
        # SIGTERM (a logout, a kill) closes the window as its close button would: settings are saved.
        first.terminate()
        assert first.wait(10) == 0
        assert settings_file.load().window_geometry
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
        first.stdout.close()


def test_index_helpers_do_not_leak_invalid_indexes(server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    assert window.model.parent(QModelIndex()) == QModelIndex()
    assert window.model.parent() is window


def test_the_in_process_test_mode_downloads_pauses_and_resumes(qtbot, server, open_window, models_dir):
    # Tests that need no download process run its queue in the window's process: it must behave alike.
    server.add("ofa-tiny", 2 * MiB, rate=400 * KiB)
    window = open_window(server.catalog(), Settings(connections=2), queue_in_window=True)
    tiny = window.workspace.catalog.get("ofa-tiny")
    window.download([tiny])
    wait_status(qtbot, window, "ofa-tiny", r"\d+ %.*")
    window.workspace.commands.pause([tiny])
    wait_status(qtbot, window, "ofa-tiny", "Paused")
    server.http.route("/checkpoints/ofa-tiny.pt").rate = None
    window.workspace.commands.resume([tiny])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    assert (models_dir / "ofa-tiny.pt").read_bytes() == server.data["/checkpoints/ofa-tiny.pt"]


def test_a_crashed_download_process_is_restarted_and_the_queue_comes_back(qtbot, server, open_window):
    server.add("ofa-base", 2 * MiB, rate=200 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    window.download([window.workspace.catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    first = window.workspace.process.queue.process
    os.kill(first.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.workspace.process.queue.process is not first, timeout=WAIT_MS)
    assert "download process stopped" in window.message_label.text()
    server.http.route("/checkpoints/ofa-base.pt").rate = None
    wait_status(qtbot, window, "ofa-base", "Downloaded")


def test_double_click_downloads_a_remote_checkpoint(qtbot, server, open_window, models_dir):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    index = window.proxy.mapFromSource(window.model.index_of("ofa-tiny"))
    window.tree.doubleClicked.emit(index)
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    opened: list = []
    window.open_folder = opened.append
    window.tree.doubleClicked.emit(index)
    assert opened == [[models_dir / "ofa-tiny.pt"]]


def test_check_links_reports_each_link(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-huge", 64 * KiB, statuses=[404] * 5)
    window = open_window(server.catalog())
    window.select(["ofa-tiny", "ofa-huge"])
    window.actions_by_name["check"].trigger()
    qtbot.waitUntil(lambda: "link(s) failed" in window.message_label.text(), timeout=WAIT_MS)
    assert window.message_label.text() == "1 of 2 link(s) failed — ofa-huge.pt: 404 Not Found"
    wait_status(qtbot, window, "ofa-huge", "Not downloaded — link failed: 404 Not Found")


def test_check_links_asks_the_mirrors_too(qtbot, server, open_window, http_server):
    server.add("ofa-tiny", 64 * KiB, statuses=[404] * 5, in_catalog_size=False)
    http_server.add("/mirror/ofa-tiny.pt", server.data["/checkpoints/ofa-tiny.pt"])
    http_server.add("/dead-mirror/ofa-tiny.pt", b"", statuses=[410] * 5)
    server.entries[0]["mirrors"] = [
        http_server.url("/dead-mirror/ofa-tiny.pt"),
        http_server.url("/mirror/ofa-tiny.pt"),
    ]
    window = open_window(server.catalog())
    window.select(["ofa-tiny"])
    window.actions_by_name["check"].trigger()
    qtbot.waitUntil(lambda: "link(s) failed" in window.message_label.text(), timeout=WAIT_MS)
    host = http_server.url("/").split("/")[2]
    assert window.message_label.text() == (
        f"2 of 3 link(s) failed — ofa-tiny.pt: 404 Not Found; ofa-tiny.pt (mirror at {host}): 410 Gone"
    )
    # The published link is broken, but the file can still be had: the row says so, with the mirror's size.
    wait_status(qtbot, window, "ofa-tiny", "Not downloaded — link failed: 404 Not Found; a mirror answers")
    assert window.model.index_of("ofa-tiny", tree.COL_SIZE).data() == units.size(64 * KiB)


def test_downloads_panel_reorders_pauses_all_and_clears_finished(qtbot, server, open_window):
    for entry_id in ("ofa-huge", "ofa-large", "ofa-base"):
        server.add(entry_id, 2 * MiB, rate=300 * KiB)
    window = open_window(server.catalog(), Settings(jobs=1, connections=1))
    panel = window.downloads
    window.download(list(window.workspace.catalog))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=WAIT_MS)
    names = lambda: [panel.model.index(r, 0).data() for r in range(panel.model.rowCount())]  # noqa: E731
    assert names() == ["OFA-Huge", "OFA-Large", "OFA-Base"]

    # One file at a time: moving OFA-Base up makes it the next to start.
    panel.view.setCurrentIndex(panel.model.index(2, 0))
    panel.tool_buttons["up"].trigger()
    qtbot.waitUntil(lambda: names() == ["OFA-Huge", "OFA-Base", "OFA-Large"], timeout=WAIT_MS)
    assert [row_state(window, r) for r in (1, 2)] == ["Queued", "Queued"]

    panel.tool_buttons["pause_all"].trigger()
    qtbot.waitUntil(lambda: [row_state(window, r) for r in range(3)] == ["Paused"] * 3, timeout=WAIT_MS)
    for name in ("ofa-huge", "ofa-large", "ofa-base"):
        server.http.route(f"/checkpoints/{name}.pt").rate = None
    panel.tool_buttons["resume_all"].trigger()
    qtbot.waitUntil(lambda: [row_state(window, r) for r in range(3)] == ["Downloaded"] * 3, timeout=WAIT_MS)
    assert "3 finished" in panel.summary.text()
    panel.tool_buttons["clear"].trigger()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT_MS)


def test_download_rows_answer_the_keyboard_and_a_context_menu(
    qtbot, monkeypatch, server, open_window, models_dir
):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-base", 2 * MiB, rate=200 * KiB)
    server.add("ofa-huge", 64 * KiB, statuses=[404] * 5)
    window = open_window(server.catalog(), Settings(connections=1))
    panel = window.downloads
    catalog = window.workspace.catalog
    window.download([catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    window.download([catalog.get("ofa-base"), catalog.get("ofa-huge")])
    wait_status(qtbot, window, "ofa-base", r"\d+ %.*")
    qtbot.waitUntil(lambda: row_state(window, 2).startswith("Failed"), timeout=WAIT_MS)
    names = lambda: [panel.model.index(r, 0).data() for r in range(panel.model.rowCount())]  # noqa: E731
    assert names() == ["OFA-Tiny", "OFA-Base", "OFA-Huge"]

    def select_rows(*rows: int) -> None:
        selection = panel.view.selectionModel()
        selection.clearSelection()
        for row in rows:
            selection.select(
                panel.model.index(row, 0), selection.SelectionFlag.Select | selection.SelectionFlag.Rows
            )

    # What the menu offers follows the selection: the downloading row can pause, the failed one retry.
    select_rows(1, 2)
    assert panel.row_actions["pause"].isEnabled() and panel.row_actions["retry"].isEnabled()
    assert not panel.row_actions["show"].isEnabled()
    panel.row_actions["pause"].trigger()
    qtbot.waitUntil(lambda: row_state(window, 1) == "Paused", timeout=WAIT_MS)
    assert row_state(window, 2).startswith("Failed")

    # A finished row opens its folder on a double-click.
    shown: list = []
    window.open_folder = shown.append
    panel.view.doubleClicked.emit(panel.model.index(0, 0))
    assert shown == [[models_dir / "ofa-tiny.pt"]]
    panel.view.doubleClicked.emit(panel.model.index(1, 0))  # a paused row: nothing to open
    assert len(shown) == 1

    # Delete in the list takes the selected rows off it; the checkpoint selected in the tree is not
    # touched, and nobody is asked about the trash.
    answers = Answers(monkeypatch, window, lambda title, choices: choices[-1])
    window.select(["ofa-tiny"])
    select_rows(1, 2)
    window.activateWindow()
    panel.view.setFocus()
    qtbot.waitUntil(panel.view.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(panel.view, Qt.Key_Delete)
    qtbot.waitUntil(lambda: names() == ["OFA-Tiny"], timeout=WAIT_MS)
    assert answers.asked == [] and (models_dir / "ofa-tiny.pt").exists()
    assert (models_dir / "ofa-base.pt.part").exists()  # a cancelled download keeps its data

    # The same key in the tree is the tree's: it asks before trashing the file.
    window.tree.setFocus()
    qtbot.waitUntil(window.tree.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(window.tree, Qt.Key_Delete)
    assert [title for title, _, _ in answers.asked] == ["Move to the trash?"]
    assert (models_dir / "ofa-tiny.pt").exists()  # the answer was Cancel


def test_a_dropped_connection_shows_stalled_then_recovers(qtbot, server, open_window):
    server.add("ofa-tiny", 1 * MiB, rate=512 * KiB, drop_after=256 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    window.download([window.workspace.catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Stalled, reconnecting")
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")


def test_copy_path_puts_the_files_on_the_clipboard(server, open_window, models_dir):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-base", 64 * KiB)
    window = open_window(server.catalog())
    window.select(["ofa-tiny", "ofa-base"])
    window.actions_by_name["copy"].trigger()
    assert QApplication.clipboard().text() == f"{models_dir / 'ofa-tiny.pt'}\n{models_dir / 'ofa-base.pt'}"


def test_no_two_actions_share_a_shortcut(server, open_window):
    window = open_window(server.catalog())
    keys = {}
    for name, action in window.actions_by_name.items():
        for sequence in action.shortcuts():
            text = sequence.toString()
            assert text not in keys, f"{name} and {keys[text]} both use {text}"
            keys[text] = name
    assert window.actions_by_name["refresh"].shortcut().toString() == "F5"
