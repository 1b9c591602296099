"""The disk panel's figures against the files."""

from __future__ import annotations

import json
import os

from ofa_manager.core import units
from ofa_manager.core.settings import Settings
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB, MiB, wait_status

pytestmark = WINDOW_MARKS


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
    wait_status(qtbot, window, "ofa-base", r"[1-9]\d* %.*")  # some data arrived, not only the first answer
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
