"""The window's project flows: "Check a project folder…" (the scan report and Apply) and "Link into project
folder…", against the real window offscreen, the loopback server, real files and the fixture project."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from ofa_manager.core import linking  # noqa: E402
from ofa_manager.gui import project_dialog, project_links, scan_report  # noqa: E402
from tests.catalogs import body_requests, entry, payload, sha256, write_catalog  # noqa: E402
from tests.scenes import PetlProject  # noqa: E402
from tests.windows import WAIT_MS, Answers  # noqa: E402

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "project"
SCRIPTS = Path("OFA/run_scripts/refcoco")


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> PetlProject:
    """The fixture project and a catalog of its checkpoints (sizes published) on the loopback server."""
    return PetlProject(tmp_path, models_dir, http_server, with_sizes=True)


def parts(window):
    """The store and the bridge the views are given."""
    return window.store, window.workspace.bridge


def asking(window):
    """The window's ask and download as the dialogs get them: looked up when called (Answers replaces ask)."""
    return (lambda *a, **k: window.ask(*a, **k)), (lambda entries: window.download(entries))


def open_report(qtbot, monkeypatch, window, project: Path) -> scan_report.ScanReportDialog:
    """Project → Check a Project Folder…, the folder chosen in the folder dialog."""
    asked = []
    monkeypatch.setattr(
        project_dialog, "choose_folder", lambda parent, title, start: asked.append(title) or str(project)
    )
    menu = [a.objectName() for a in window.project_menu.actions() if not a.isSeparator()]
    assert menu == ["check_project", "link_into", "add_catalog", "export_lock"]  # the toolbar's Project menu
    window.actions_by_name["check_project"].trigger()
    dialog = window.findChild(scan_report.ScanReportDialog)
    assert asked == ["Project folder to check"] and dialog.isVisible()
    assert dialog.folder.text() == str(project)
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0 and not dialog.jobs.running, timeout=WAIT_MS)
    return dialog


def open_link_dialog(window, entry_ids: list[str]) -> project_dialog.LinkDialog:
    """Select the checkpoints in the tree, then Link into Project Folder… (the context menu's action)."""
    window.select(entry_ids)
    action = window.actions_by_name["link_into"]
    assert action.isEnabled()
    action.trigger()
    dialog = window.findChild(project_dialog.LinkDialog)
    assert dialog.isVisible() and [e.id for e in dialog.entries] == entry_ids
    return dialog


def rows_by_path(dialog) -> dict[str, tuple[str, str, str]]:
    model = dialog.model
    columns = (scan_report.COL_STATUS, scan_report.COL_DETAIL, scan_report.COL_SCRIPT)
    return {
        model.index(r, scan_report.COL_PATH).data(): tuple(model.index(r, c).data() for c in columns)
        for r in range(model.rowCount())
    }


def test_the_report_shows_each_expected_path_its_script_and_line_and_what_satisfies_it(
    qtbot, qtmodeltester, site, open_window, monkeypatch
):
    window = open_window(site.catalog_file, queue_in_window=True)
    scanned_in = []
    real_scan = linking.scan

    def scan(*args):
        scanned_in.append(threading.current_thread())
        return real_scan(*args)

    monkeypatch.setattr(linking, "scan", scan)  # the real scan, watched for the thread it runs in
    # A user's own file at one expected name, and one checkpoint already downloaded.
    site.checkpoints.mkdir(parents=True)
    (site.checkpoints / "ofa_base.pt").write_bytes(b"my own base model")
    Answers(monkeypatch, window, lambda title, choices: "Only the Selected")  # not its backbone
    window.download([window.store.catalog.get("refcocog-adapter")])
    qtbot.waitUntil(lambda: (window.store.library.root / "a_rcg.pt").exists(), timeout=WAIT_MS)

    dialog = open_report(qtbot, monkeypatch, window, site.project)
    qtmodeltester.check(dialog.model)
    assert scanned_in and scanned_in[0] is not threading.main_thread()
    script = "OFA/run_scripts/refcoco/train_task_embedding.sh"
    assert rows_by_path(dialog) == {
        "OFA/run_scripts/refcoco/refcoco_checkpoints/adapter/checkpoint_best.pt": (
            "Produced by the project",
            "under OFA/run_scripts/refcoco/refcoco_checkpoints/adapter, which the project's scripts write to",
            "OFA/run_scripts/refcoco/evaluate_refcoco_adapter.sh:3",
        ),
        "OFA/checkpoints/ofa_base.pt": (
            "Already present",
            "not our link; Ofa Base (ofa-base) has this name",
            "OFA/run_scripts/refcoco/evaluate_refcoco_adapter.sh:5",
        ),
        "OFA/checkpoints/ofa_large.pt": (
            "Not downloaded",
            "Ofa Large (ofa-large)",
            "OFA/run_scripts/refcoco/train_refcoco_adapter.sh:8",
        ),
        "OFA/checkpoints/refcoco_adapter.pt": (
            "Not downloaded",
            "Refcoco Adapter (refcoco-adapter)",
            f"{script}:4",
        ),
        "OFA/checkpoints/refcocoplus_adapter.pt": (
            "Not downloaded",
            "Refcocoplus Adapter (refcocoplus-adapter)",
            f"{script}:4",
        ),
        "OFA/checkpoints/refcocog_adapter.pt": (
            "Downloaded, not linked",
            "Refcocog Adapter (refcocog-adapter)",
            f"{script}:8",
        ),
        "$HOME/embeddings/init.pt": ("Unknown", "uses a variable the script does not set", f"{script}:9"),
        "OFA/checkpoints/clip/ViT-B-16.pt": (
            "Unknown",
            "no catalog entry has this file name",
            f"{script}:10",
        ),
    }
    assert dialog.summary.text() == (
        "8 checkpoint paths in the scripts: 0 linked, 4 to link, 3 checkpoints to download first, 2 unknown"
    )
    assert dialog.apply_button.isEnabled()
    assert site.gets() == 1  # the scan fetched nothing


def test_apply_shows_the_download_plan_downloads_links_and_leaves_a_users_file_alone(
    qtbot, site, open_window, monkeypatch
):
    window = open_window(site.catalog_file)  # the real download process
    site.checkpoints.mkdir(parents=True)
    users = site.checkpoints / "ofa_base.pt"
    users.write_bytes(b"my own base model")
    dialog = open_report(qtbot, monkeypatch, window, site.project)
    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    assert dialog.apply()
    qtbot.waitUntil(lambda: not dialog.run.running and not dialog.jobs.running, timeout=WAIT_MS)

    [(title, text, choices)] = answers.asked
    assert title == "Download first?"
    assert choices == ["Download and Link", "Cancel"]  # nothing to link is here yet
    for line in ("• Ofa Large (ofa_large.pt) — ", "• Refcoco Adapter (a_rc.pt) — 29.3 KiB"):
        assert line in text
    assert "Download plan: " in text and f"free in {window.store.library.root}" in text
    assert "Ofa Base" not in text  # a user's file is there: not in the plan
    # From the scripts' folder, the paths they read are the verified files.
    scripts = site.project / SCRIPTS
    for relative, served in {
        "../../checkpoints/ofa_large.pt": "ofa_large.pt",
        "../../checkpoints/refcoco_adapter.pt": "a_rc.pt",
        "../../checkpoints/refcocoplus_adapter.pt": "a_rcp.pt",
        "../../checkpoints/refcocog_adapter.pt": "a_rcg.pt",
    }.items():
        data = (scripts / relative).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256(site.files[served]), relative
        assert os.path.realpath(scripts / relative).startswith(str(window.store.library.root))
    assert users.read_bytes() == b"my own base model"
    assert body_requests(site.server, "/ofa_base.pt") == []
    assert dialog.status.text() == "4 links made"
    # The report was read again: what was linked says so, and there is nothing left to apply.
    rows = rows_by_path(dialog)
    assert rows["OFA/checkpoints/ofa_large.pt"][:2] == ("Linked", "Ofa Large (ofa-large)")
    assert rows["OFA/checkpoints/ofa_base.pt"][0].startswith("Already present")
    assert not dialog.apply_button.isEnabled()


def test_apply_cancelled_downloads_and_links_nothing(qtbot, site, open_window, monkeypatch):
    window = open_window(site.catalog_file, queue_in_window=True)
    dialog = open_report(qtbot, monkeypatch, window, site.project)
    answers = Answers(monkeypatch, window, lambda title, choices: "Cancel")
    assert not dialog.apply()
    assert [a[0] for a in answers.asked] == ["Download first?"]
    assert dialog.status.text() == "Nothing downloaded, nothing linked"
    assert site.gets() == 0 and not site.checkpoints.exists()
    assert window.store.items() == []


def test_a_folder_that_is_not_there_is_said_and_the_typed_text_stays(qtbot, site, open_window, tmp_path):
    window = open_window(site.catalog_file, queue_in_window=True)
    dialog = scan_report.ScanReportDialog(*parts(window), *asking(window), window)
    qtbot.addWidget(dialog)
    for typed, said in (
        (str(tmp_path / "nowhere"), f"{tmp_path / 'nowhere'} is not a folder."),
        ("relative/folder", "Choose the project folder (a full path)."),
        (str(site.catalog_file), f"{site.catalog_file} is not a folder."),
    ):
        dialog.folder.setText(typed)
        assert not dialog.scan()
        assert dialog.status.text() == said
        assert dialog.folder.text() == typed
    assert dialog.model.rowCount() == 0 and not dialog.apply_button.isEnabled()


# -- Link into project folder… --------------------------------------------------------------------


def test_link_dialog_downloads_first_when_asked_names_a_users_file_and_goes_on(
    qtbot, site, open_window, monkeypatch, tmp_path
):
    window = open_window(site.catalog_file, queue_in_window=True)
    ws = window.store
    into = tmp_path / "elsewhere"
    into.mkdir()
    (into / "a_rcp.pt").write_bytes(b"mine")
    chosen = [ws.catalog.get(i) for i in ("refcoco-adapter", "refcocoplus-adapter", "refcocog-adapter")]
    monkeypatch.setattr(project_dialog, "choose_folder", lambda parent, title, start: str(into))
    window.select([])
    assert not window.actions_by_name["link_into"].isEnabled()  # nothing selected, nothing to link
    dialog = open_link_dialog(window, [e.id for e in chosen])
    dialog._browse()
    assert dialog.folder.text() == str(into)
    assert not dialog.name.isEnabled()  # several checkpoints: each under its own name
    dialog.set_mode("hardlink")
    answers = Answers(monkeypatch, window, lambda title, choices: "Download and Link")
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.run.running, timeout=WAIT_MS)

    assert answers.asked[0][0] == "Download first?"
    assert (into / "a_rc.pt").read_bytes() == site.files["a_rc.pt"]
    assert os.stat(into / "a_rc.pt").st_ino == os.stat(ws.library.root / "a_rc.pt").st_ino
    assert (into / "a_rcg.pt").read_bytes() == site.files["a_rcg.pt"]
    assert (into / "a_rcp.pt").read_bytes() == b"mine"
    lines = dialog.results.toPlainText().splitlines()
    assert f"{into / 'a_rcp.pt'}: left alone — a file that is not our link is there; left alone" in lines
    assert f"{into / 'a_rc.pt'}: linked to {ws.library.root / 'a_rc.pt'}" in lines
    assert dialog.status.text() == "2 links made; 1 not made"


def test_link_dialog_one_checkpoint_under_a_name_and_bad_input_said_in_place(
    qtbot, site, open_window, monkeypatch, tmp_path
):
    window = open_window(site.catalog_file, queue_in_window=True)
    ws = window.store
    window.download([ws.catalog.get("ofa-base")])
    qtbot.waitUntil(lambda: (ws.library.root / "ofa_base.pt").exists(), timeout=WAIT_MS)
    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    dialog = open_link_dialog(window, ["ofa-base"])
    into = tmp_path / "proj" / "checkpoints"
    for folder, name, said in (
        ("", "", "Choose the project folder (a full path)."),
        ("proj", "", "Choose the project folder (a full path)."),
        (str(site.catalog_file), "", f"{site.catalog_file} is not a folder."),
        (str(into), "../up.pt", "The link name '../up.pt' must be a plain file name, without '/' or '\\'."),
    ):
        dialog.folder.setText(folder)
        dialog.name.setText(name)
        assert not dialog.start()
        assert dialog.status.text() == said
        assert dialog.folder.text() == folder and dialog.name.text() == name
    assert not (tmp_path / "proj").exists() and not (tmp_path / "up.pt").exists()
    dialog.name.setText("base.pt")
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.run.running, timeout=WAIT_MS)
    assert answers.asked == []  # downloaded: nothing to ask
    assert (into / "base.pt").is_symlink() and (into / "base.pt").read_bytes() == site.files["ofa_base.pt"]
    assert dialog.status.text() == "1 link made"
    # Again: ours already, nothing changes.
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.run.running, timeout=WAIT_MS)
    assert dialog.results.toPlainText() == f"{into / 'base.pt'}: already linked"


def test_a_download_that_fails_is_named_and_the_other_links_are_made(
    qtbot, open_window, http_server, tmp_path, monkeypatch
):
    data = payload(40_000, 7)
    http_server.add("/base.pt", data)
    catalog = write_catalog(
        tmp_path / "catalog.json",
        [
            entry("ofa-base", http_server.url("/base.pt"), sha256=sha256(data)),
            entry("gone", http_server.url("/gone.pt")),
        ],
    )
    window = open_window(catalog, queue_in_window=True)
    ws = window.store
    into = tmp_path / "project"
    Answers(monkeypatch, window, lambda title, choices: choices[0])
    dialog = open_link_dialog(window, ["ofa-base", "gone"])
    dialog.folder.setText(str(into))
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.run.running, timeout=WAIT_MS)
    assert (into / "base.pt").read_bytes() == data
    assert not os.path.lexists(into / "gone.pt")
    lines = dialog.results.toPlainText().splitlines()
    assert lines[0] == f"{into / 'base.pt'}: linked to {ws.library.root / 'base.pt'}"
    assert lines[1].startswith("gone: not linked — its download did not finish (") and "404" in lines[1]
    assert dialog.status.text() == "1 link made; 1 checkpoint not ready"


def test_closing_the_report_while_its_scan_runs_drops_the_answer(qtbot, site, open_window, monkeypatch):
    window = open_window(site.catalog_file, queue_in_window=True)
    release, finished = threading.Event(), threading.Event()
    real_scan = linking.scan

    def slow_scan(*args):  # the real scan, held until the dialog is gone
        release.wait(10)
        try:
            return real_scan(*args)
        finally:
            finished.set()

    monkeypatch.setattr(linking, "scan", slow_scan)
    answered = []
    real_done = project_links.Jobs._done

    def done(jobs, number, result):  # the real delivery, watched
        answered.append(result)
        real_done(jobs, number, result)

    monkeypatch.setattr(project_links.Jobs, "_done", done)
    dialog = window.check_project_folder(str(site.project))
    assert dialog.jobs.running
    dialog.close()  # deleted on close
    qtbot.waitUntil(lambda: window.findChild(scan_report.ScanReportDialog) is None, timeout=WAIT_MS)
    release.set()
    qtbot.waitUntil(finished.is_set, timeout=WAIT_MS)
    # The answer reaches the GUI thread after the dialog is gone: dropped, no error, the window goes on.
    qtbot.waitUntil(lambda: len(answered) == 1, timeout=WAIT_MS)
    assert window.isVisible()


def test_closing_while_waiting_for_downloads_asks_and_the_links_come_with_apply_again(
    qtbot, site, open_window, monkeypatch
):
    window = open_window(site.catalog_file, queue_in_window=True)
    site.server.add("/ofa_large.pt", site.files["ofa_large.pt"], rate=30_000)  # a download that takes a while
    dialog = open_report(qtbot, monkeypatch, window, site.project)
    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    assert dialog.apply()
    qtbot.waitUntil(lambda: dialog.run.waiter is not None, timeout=WAIT_MS)
    answers.choose = lambda title, choices: "Keep Waiting"
    dialog.reject()
    assert dialog.isVisible() and answers.asked[-1][0] == "Stop waiting for the downloads?"
    answers.choose = lambda title, choices: "Stop Waiting"
    dialog.reject()
    qtbot.waitUntil(lambda: window.findChild(scan_report.ScanReportDialog) is None, timeout=WAIT_MS)
    ws = window.store
    qtbot.waitUntil(lambda: (ws.library.root / "ofa_large.pt").exists(), timeout=WAIT_MS)  # it went on
    assert not site.checkpoints.exists()  # no links made
    gets = site.gets()
    dialog = open_report(qtbot, monkeypatch, window, site.project)
    answers.choose = lambda title, choices: choices[0]
    qtbot.waitUntil(lambda: all(ws.library.local_or_store_path(e) for e in ws.catalog), timeout=WAIT_MS)
    assert dialog.scan()
    qtbot.waitUntil(lambda: not dialog.jobs.running, timeout=WAIT_MS)
    assert dialog.apply()
    qtbot.waitUntil(lambda: not dialog.run.running and not dialog.jobs.running, timeout=WAIT_MS)
    assert dialog.status.text() == "5 links made" and site.gets() == gets  # nothing downloaded twice
