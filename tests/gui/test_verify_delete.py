"""Verify and Delete from the window: a corrupted file caught, the trash, the permanent fallback."""

from __future__ import annotations

from ofa_manager.core.settings import Settings
from tests.catalogs import rot
from tests.windows import PETL, WAIT_MS, WINDOW_MARKS, Answers, KiB, MiB, download_all, wait_status

pytestmark = WINDOW_MARKS


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
    # The trash's own result comes back from its background task; a scan may see the file gone first.
    qtbot.waitUntil(lambda: str(trashed) in window.message_label.text(), timeout=WAIT_MS)
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


def test_several_files_to_the_trash_are_told_in_one_line(
    qtbot, monkeypatch, server, open_window, models_dir, isolated_user_folders
):
    """Moving three files to the trash (and then deleting two permanently) ends in one line each time,
    with the count and the total, instead of three lines overwriting each other."""
    server.add("ofa-tiny", 100 * KiB)
    server.add("ofa-base", 200 * KiB)
    server.add("ofa-large", 300 * KiB)
    window = open_window(server.catalog())
    download_all(qtbot, window)
    lines: list[str] = []
    window.store.message.connect(lines.append)
    Answers(monkeypatch, window, lambda title, choices: choices[0])
    window.select(["ofa-tiny", "ofa-base", "ofa-large"])
    window.actions_by_name["delete"].trigger()
    for entry_id in ("ofa-tiny", "ofa-base", "ofa-large"):
        wait_status(qtbot, window, entry_id, "Not downloaded")
    qtbot.waitUntil(lambda: any("to the trash" in line for line in lines), timeout=WAIT_MS)
    trash_lines = [line for line in lines if "to the trash" in line]
    assert trash_lines == [
        "Moved 3 files to the trash (600.0 KiB, still taken until the trash is emptied; "
        "restore them from the trash to get them back)"
    ]
    assert window.message_label.text() == trash_lines[0]

    # Two files deleted permanently: one line, the figure freed summed.
    window.download([window.store.catalog.get("ofa-tiny"), window.store.catalog.get("ofa-base")])
    for entry_id in ("ofa-tiny", "ofa-base"):
        wait_status(qtbot, window, entry_id, "Downloaded|Verified")
    lines.clear()
    window.commands.delete_permanently([window.store.catalog.get(i) for i in ("ofa-tiny", "ofa-base")])
    qtbot.waitUntil(lambda: any("permanently" in line for line in lines), timeout=WAIT_MS)
    assert [line for line in lines if "permanently" in line] == [
        "Deleted 2 files permanently (300.0 KiB freed)"
    ]
