"""The window's figures (issue 11, items 4 and 5): a partial file shows its data on disk in the tree, the
disk bar and the delete dialog, and the delete reports that same figure; moving to the trash never says
"freed"; queued rows in the downloads panel show the size the tree knows."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from ofa_manager import cli  # noqa: E402
from ofa_manager.core import footprint, units  # noqa: E402
from ofa_manager.core.catalog import load_catalog  # noqa: E402
from ofa_manager.core.library import Library  # noqa: E402
from ofa_manager.core.settings import Settings  # noqa: E402
from ofa_manager.gui import downloads  # noqa: E402
from ofa_manager.gui.download_process import queue_state_file  # noqa: E402
from tests.windows import (  # noqa: E402
    WAIT_MS,
    WINDOW_MARKS,
    Answers,
    KiB,
    MiB,
    download_all,
    row_of,
    row_state,
    wait_status,
)

pytestmark = WINDOW_MARKS


def test_a_partial_file_shows_one_figure_in_tree_disk_bar_dialog_and_result(
    qtbot,
    monkeypatch,
    server,
    open_window,
    models_dir,
    capsys,
):
    # A real four-connection download cut off on every connection: a sparse 4 MiB partial file.
    server.add("ofa-base", 4 * MiB, drop_after=256 * KiB, drop_times=1000)
    catalog = server.catalog()
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert cli.main([*args, "download", "ofa-base", "--connections", "4", "--retries", "0"]) == 1
    capsys.readouterr()
    part = models_dir / "ofa-base.pt.part"
    assert part.stat().st_size == 4 * MiB
    # The one rule every face counts by: the data on disk, at most what the resume record says arrived
    # (a file system may allocate a block or two beyond the data written, or preallocate ahead).
    library = Library(models_dir, load_catalog([catalog]))
    counted = library.partial_bytes(library.catalog.get("ofa-base"))
    assert 0 < counted <= footprint.data_on_disk(part) and counted < 4 * MiB
    figure = units.size(counted)

    window = open_window(catalog, Settings(resume_on_start=False))
    wait_status(qtbot, window, "ofa-base", rf"Partial \({figure}\)")
    qtbot.waitUntil(lambda: window.disk.figure_labels["partial"].text() == figure, timeout=WAIT_MS)

    answers = Answers(monkeypatch, window, lambda title, choices: "Delete")
    window.select(["ofa-base"])
    window.actions_by_name["delete_partial"].trigger()
    title, text, _ = answers.asked[0]
    assert title == "Delete partial files?" and f"({figure})" in text
    wait_status(qtbot, window, "ofa-base", "Not downloaded")
    assert not part.exists()
    qtbot.waitUntil(lambda: f"({figure} freed)" in window.message_label.text(), timeout=WAIT_MS)


def test_moving_to_the_trash_says_the_space_stays_taken(qtbot, monkeypatch, server, open_window):
    server.add("ofa-tiny", 200 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    window.select(["ofa-tiny"])
    window.actions_by_name["delete"].trigger()
    title, text, _ = answers.asked[0]
    assert title == "Move to the trash?"
    assert "(200.0 KiB)" in text and "until it is emptied" in text and "free" not in text
    wait_status(qtbot, window, "ofa-tiny", "Not downloaded")
    # The trash's own result comes back from its background task; a scan may see the file gone first.
    qtbot.waitUntil(lambda: "Moved ofa-tiny.pt to the trash" in window.message_label.text(), timeout=WAIT_MS)
    message = window.message_label.text()
    assert "Moved ofa-tiny.pt to the trash" in message and "200.0 KiB" in message
    assert "freed" not in message and "until the trash is emptied" in message


def test_queued_rows_show_the_size_the_tree_knows(qtbot, server, open_window):
    server.add("ofa-large", 2 * MiB, rate=100 * KiB)  # runs long enough for the others to wait
    server.add("ofa-tiny", 300 * KiB)
    server.add("ofa-base", 500 * KiB, in_catalog_size=False)  # known from the HEAD probe only
    window = open_window(server.catalog(), Settings(jobs=1, connections=1))
    tree_size = window.model.index_of("ofa-base", 2)
    qtbot.waitUntil(lambda: tree_size.data() == units.size(500 * KiB), timeout=WAIT_MS)
    window.download([window.workspace.catalog.get(i) for i in ("ofa-large", "ofa-tiny", "ofa-base")])
    qtbot.waitUntil(lambda: row_of(window, "ofa-base") is not None, timeout=WAIT_MS)

    def size_cell(entry_id: str) -> str:
        return window.downloads.model.index(row_of(window, entry_id), downloads.COL_SIZE).data()

    for entry_id in ("ofa-tiny", "ofa-base"):
        assert row_state(window, row_of(window, entry_id)) == "Queued"
    assert size_cell("ofa-tiny") == units.size(300 * KiB)
    assert size_cell("ofa-base") == units.size(500 * KiB)


def test_a_permanent_delete_reports_the_figure_its_dialog_asked_about(
    qtbot, monkeypatch, server, open_window
):
    server.add("ofa-tiny", 200 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    # As on a system without a desktop trash: the window offers to delete permanently instead.
    monkeypatch.setattr("ofa_manager.gui.commands.trash_file", lambda path: None)
    choices = iter(["Move to Trash", "Delete Permanently"])
    answers = Answers(monkeypatch, window, lambda title, offered: next(choices))
    window.select(["ofa-tiny"])
    window.actions_by_name["delete"].trigger()
    qtbot.waitUntil(lambda: len(answers.asked) == 2, timeout=WAIT_MS)
    title, text, _ = answers.asked[1]
    assert title == "The trash cannot take the file" and "ofa-tiny.pt (200.0 KiB) permanently" in text
    wait_status(qtbot, window, "ofa-tiny", "Not downloaded")
    # The delete's own result comes back from its background task; a scan may see the file gone first.
    qtbot.waitUntil(lambda: "(200.0 KiB freed)" in window.message_label.text(), timeout=WAIT_MS)


def test_a_paused_row_after_a_restart_shows_the_partial_data_not_the_full_length(
    qtbot, server, open_window, models_dir, capsys
):
    server.add("ofa-base", 4 * MiB, drop_after=256 * KiB, drop_times=1000)
    catalog = server.catalog()
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert cli.main([*args, "download", "ofa-base", "--connections", "4", "--retries", "0"]) == 1
    capsys.readouterr()
    library = Library(models_dir, load_catalog([catalog]))
    figure = library.partial_bytes(library.catalog.get("ofa-base"))  # data on disk, at most what arrived
    assert 0 < figure < 4 * MiB
    # The window closed with the download paused (its saved list, as the window writes it).
    key = str((models_dir / "ofa-base.pt").resolve())
    rows = {"version": 1, "items": [{"key": key, "entry_ids": ["ofa-base"], "state": "paused"}]}
    queue_state_file(models_dir).parent.mkdir(parents=True, exist_ok=True)
    queue_state_file(models_dir).write_text(json.dumps(rows), encoding="utf-8")

    window = open_window(catalog, Settings(resume_on_start=False))
    qtbot.waitUntil(lambda: row_of(window, "ofa-base") is not None, timeout=WAIT_MS)
    row = row_of(window, "ofa-base")
    assert row_state(window, row) == "Paused"
    size = window.downloads.model.index(row, downloads.COL_SIZE)
    progress = window.downloads.model.index(row, downloads.COL_PROGRESS)
    expected = f"{units.size(figure)} of {units.size(4 * MiB)}"
    qtbot.waitUntil(lambda: size.data() == expected, timeout=WAIT_MS)
    assert progress.data() == f"{int(100 * figure / (4 * MiB))} %"
