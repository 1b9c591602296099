"""Archives in the window: Unpack on a downloaded zip entry, and a scan report whose paths are members of
a zip (Apply downloads, unpacks and links them) — the real window offscreen, zips built here and served by
the loopback server."""

from __future__ import annotations

import hashlib
import os

import pytest

pytest.importorskip("pytestqt")

from ofa_manager.gui import project_dialog, scan_report  # noqa: E402
from tests.archives import GOOD, build_zip  # noqa: E402
from tests.catalogs import body_requests, entry, payload, sha256, write_catalog  # noqa: E402
from tests.windows import WAIT_MS, Answers, status  # noqa: E402

# Image generation in the style of OFA's run_scripts/image_gen: VQGAN and CLIP from the published zip.
IMAGE_GEN = """#!/usr/bin/env bash
cd "$(dirname "$0")"
ckpt_root=../../checkpoints
python3 ../../evaluate.py \\
    --path=${ckpt_root}/ofa_large.pt \\
    --vqgan-model-path=${ckpt_root}/vqgan/last.ckpt \\
    --vqgan-config-path=${ckpt_root}/vqgan/model.yaml \\
    --clip-model-path=${ckpt_root}/clip/ViT-B-16.pt
"""
MEMBERS = {**GOOD, "vqgan/model.yaml": b"model:\n  target: taming.models.vqgan.VQModel\n"}

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


@pytest.fixture
def bundle_site(tmp_path, http_server):
    bundle = build_zip(list(MEMBERS.items()))
    http_server.add("/ofa_clip_vqgan.zip", bundle)
    evil = build_zip([("ok.pt", b"fine"), ("../../evil.pt", b"evil")])
    http_server.add("/evil.zip", evil)
    http_server.add("/plain.pt", payload(20_000, 7))
    row = entry("bundle", http_server.url("/ofa_clip_vqgan.zip"), sha256=sha256(bundle))
    row["members"] = sorted(MEMBERS)
    rows = [
        row,
        entry("evil", http_server.url("/evil.zip"), sha256=sha256(evil)),
        entry("plain", http_server.url("/plain.pt"), sha256=sha256(payload(20_000, 7))),
    ]
    project = tmp_path / "project"
    scripts = project / "OFA" / "run_scripts" / "image_gen"
    scripts.mkdir(parents=True)
    (scripts / "evaluate_image_gen.sh").write_text(IMAGE_GEN)
    return write_catalog(tmp_path / "catalog.json", rows), project, scripts


def download(qtbot, window, entry_id: str) -> None:
    assert window.download([window.store.catalog.get(entry_id)])
    qtbot.waitUntil(lambda: status(window, entry_id) in ("Downloaded", "Verified"), timeout=WAIT_MS)


def test_unpack_asks_with_what_the_zip_holds_then_unpacks_it_beside_the_archive(
    qtbot, bundle_site, open_window, monkeypatch
):
    catalog, _, _ = bundle_site
    window = open_window(catalog, queue_in_window=True)
    action = window.actions_by_name["unpack"]
    window.select(["bundle"])
    assert not action.isEnabled()  # not downloaded yet
    download(qtbot, window, "bundle")
    window.select(["bundle"])
    assert action.isEnabled()
    window.select(["bundle", "plain"])
    assert not action.isEnabled()  # one archive at a time
    download(qtbot, window, "plain")
    window.select(["plain"])
    assert not action.isEnabled()  # not an archive
    messages: list[str] = []
    monkeypatch.setattr(window, "show_message", messages.append)

    answers = Answers(monkeypatch, window, lambda title, choices: "Cancel")
    window.select(["bundle"])
    run = window.unpack_selected()
    qtbot.waitUntil(lambda: run.done is not None, timeout=WAIT_MS)
    title, text, choices = answers.asked[-1]
    assert title == "Unpack the archive?" and choices == ["Unpack", "Cancel"]
    folder = window.store.library.root / "ofa_clip_vqgan"
    assert f"Unpack 4 files from ofa_clip_vqgan.zip into {folder}?" in text
    assert all(f"• {name}" in text for name in MEMBERS)
    assert not folder.exists() and messages[-1] == "Nothing unpacked"

    answers.choose = lambda title, choices: "Unpack"
    run = window.unpack_selected()
    qtbot.waitUntil(lambda: run.done is not None, timeout=WAIT_MS)
    for name, data in MEMBERS.items():
        assert (folder / name).read_bytes() == data
    assert messages[-1].startswith("Unpacked 4 files of ofa_clip_vqgan.zip (") and str(folder) in messages[-1]
    asked = len(answers.asked)
    run = window.unpack_selected()  # again: said, nothing asked
    qtbot.waitUntil(lambda: run.done is not None, timeout=WAIT_MS)
    assert (
        len(answers.asked) == asked and messages[-1] == f"ofa_clip_vqgan.zip is unpacked already in {folder}"
    )

    download(qtbot, window, "evil")  # a member outside the folder: refused as a whole, said, nothing written
    answers.choose = lambda title, choices: choices[0]
    window.select(["evil"])
    run = window.unpack_selected()
    qtbot.waitUntil(lambda: run.done is not None, timeout=WAIT_MS)
    title, text, _ = answers.asked[-1]
    assert (
        title == "Not unpacked" and text.startswith("evil.zip is not unpacked: ") and "../../evil.pt" in text
    )
    assert not (window.store.library.root / "evil").exists()
    assert not (window.store.library.root.parent / "evil.pt").exists()


def test_apply_on_a_project_reading_zip_members_downloads_unpacks_and_links_them(
    qtbot, bundle_site, open_window, monkeypatch, http_server
):
    catalog, project, scripts = bundle_site
    window = open_window(catalog, queue_in_window=True)
    monkeypatch.setattr(project_dialog, "choose_folder", lambda parent, title, start: str(project))
    window.actions_by_name["check_project"].trigger()
    dialog = window.findChild(scan_report.ScanReportDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 4 and not dialog.jobs.running, timeout=WAIT_MS)
    model = dialog.model
    rows = {
        model.index(r, scan_report.COL_PATH).data(): (
            model.index(r, scan_report.COL_STATUS).data(),
            model.index(r, scan_report.COL_DETAIL).data(),
        )
        for r in range(model.rowCount())
    }
    assert rows["OFA/checkpoints/vqgan/last.ckpt"] == ("Not downloaded", "vqgan/last.ckpt in Bundle (bundle)")
    assert dialog.summary.text().endswith("0 linked, 4 to link, 1 checkpoint to download first")
    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    assert dialog.apply()
    qtbot.waitUntil(lambda: not dialog.run.running and not dialog.jobs.running, timeout=WAIT_MS)
    [(title, text, _)] = answers.asked
    assert "The files the scripts read are inside ofa_clip_vqgan.zip: it is unpacked after." in text
    assert dialog.status.text() == "4 links made"
    folder = window.store.library.root / "ofa_clip_vqgan"
    for name, data in MEMBERS.items():
        linked = scripts / ".." / ".." / "checkpoints" / name
        assert hashlib.sha256(linked.read_bytes()).hexdigest() == sha256(data), name
        assert os.path.realpath(linked).startswith(str(folder.resolve()))
    assert len(body_requests(http_server, "/ofa_clip_vqgan.zip")) == 1
    assert {model.index(r, scan_report.COL_STATUS).data() for r in range(model.rowCount())} == {"Linked"}
