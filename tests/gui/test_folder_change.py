"""Changing the models folder from the window: moving files, a failed change, another volume, closing during a
move."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ofa_manager.core import settings as settings_file
from tests.catalogs import other_volume
from tests.windows import (
    WAIT_MS,
    WINDOW_MARKS,
    Answers,
    KiB,
    MiB,
    choose_folder,
    download_all,
    wait_moved,
    wait_status,
)

pytestmark = WINDOW_MARKS


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
