"""Check a Project Folder…'s report without the main window: the report model's words for each kind of
row, and the dialog over the window's store (not started) scanning the fixture project, saying bad
folders, and applying links to checkpoints that are here already (the downloading Apply is in
test_project_window.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QModelIndex, Qt
from PySide6.QtWidgets import QPushButton

from ofa_manager.core import linking
from ofa_manager.core.settings import Settings
from ofa_manager.gui import scan_report
from ofa_manager.gui.workspace import Workspace
from tests.scenes import PetlProject
from tests.windows import WAIT_MS, WINDOW_MARKS

pytestmark = WINDOW_MARKS

PROJECT = Path("/work/project")


def expected(kind: str, **fields) -> linking.Expected:
    values = dict(
        path=PROJECT / "OFA/checkpoints/x.pt",
        written="../../checkpoints/x.pt",
        script=PROJECT / "run.sh",
        line=7,
    )
    values.update(fields)
    return linking.Expected(kind=kind, **values)


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> PetlProject:
    return PetlProject(tmp_path, models_dir, http_server, with_sizes=True)


def test_each_kind_of_row_in_words(qtmodeltester, site):
    model = scan_report.ScanReportModel(site.catalog)
    qtmodeltester.check(model)
    assert model.rowCount() == 0 and model.columnCount() == 4
    assert [model.headerData(c, Qt.Horizontal) for c in range(4)] == [
        "Expected path",
        "Status",
        "Satisfied by",
        "Script and line",
    ]
    assert model.headerData(4, Qt.Horizontal) is None and model.headerData(-1, Qt.Horizontal) is None
    assert (
        model.headerData(0, Qt.Vertical) is None
        and model.headerData(0, Qt.Horizontal, Qt.ToolTipRole) is None
    )
    rows = [
        expected("catalog", entry_id="ofa-large", linked=True),
        expected("catalog", entry_id="ofa-large", downloaded=True, detail="already there"),
        expected("catalog", entry_id="ofa-base"),
        expected("member", entry_id="ofa-base", member="a/b.pt", unpacked=True),
        expected("member", entry_id="ofa-base", member="a/b.pt", downloaded=True),
        expected("member", entry_id="gone", member="c.pt"),
        expected("present", entry_id="ofa-base", path=Path("/elsewhere/ofa_base.pt")),
        expected("present", detail="already there"),
        expected("present", detail="already there (fits m.pt of ofa-base)"),
        expected("produced", detail=f"under {PROJECT}{os.sep}out, which the project's scripts write to"),
        expected("unknown", detail="something new"),
    ]
    model.set_rows(PROJECT, rows)
    assert model.rowCount() == 11
    assert model.rowCount(model.index(0, 0)) == 0 and model.columnCount(model.index(0, 0)) == 0
    table = [[model.index(r, c).data() for c in range(4)] for r in range(model.rowCount())]
    assert [r[scan_report.COL_STATUS] for r in table] == [
        "Linked",
        "Downloaded, not linked",
        "Not downloaded",
        "Unpacked, not linked",
        "Downloaded, not unpacked",
        "Not downloaded",
        "Already present",
        "Already present",
        "Already present",
        "Produced by the project",
        "Unknown",
    ]
    assert [r[scan_report.COL_DETAIL] for r in table] == [
        "Ofa Large (ofa-large)",
        "Ofa Large (ofa-large); already there",
        "Ofa Base (ofa-base)",
        "a/b.pt in Ofa Base (ofa-base)",
        "a/b.pt in Ofa Base (ofa-base)",
        "c.pt in gone",
        "not our link; Ofa Base (ofa-base) has this name",
        "",
        "already there (fits m.pt of ofa-base)",
        "under out, which the project's scripts write to",
        "something new",
    ]
    # Paths inside the project are shown from it; others whole; the script with its line.
    assert table[0][scan_report.COL_PATH] == "OFA/checkpoints/x.pt"
    assert table[6][scan_report.COL_PATH] == "/elsewhere/ofa_base.pt"
    assert table[0][scan_report.COL_SCRIPT] == "run.sh:7"
    first = model.index(0, scan_report.COL_PATH)
    assert (
        first.data(Qt.ToolTipRole)
        == f"{PROJECT / 'OFA/checkpoints/x.pt'}\nas the script writes it: ../../checkpoints/x.pt"
    )
    assert model.index(1, scan_report.COL_STATUS).data(Qt.ToolTipRole) == (
        "Downloaded, not linked: Ofa Large (ofa-large); already there"
    )
    assert model.index(1, scan_report.COL_DETAIL).data(Qt.ToolTipRole) == (
        "Downloaded, not linked: Ofa Large (ofa-large); already there"
    )
    assert model.index(7, scan_report.COL_DETAIL).data(Qt.ToolTipRole) is None  # nothing more to say
    assert model.index(0, scan_report.COL_SCRIPT).data(Qt.ToolTipRole) == str(PROJECT / "run.sh")
    colours = [model.index(r, scan_report.COL_STATUS).data(Qt.ForegroundRole) for r in range(11)]
    names = [c.color().name() if c is not None else None for c in colours]
    assert names == ["#1e6b34", "#1a4f8b", "#1a4f8b", "#1a4f8b", "#1a4f8b", "#1a4f8b"] + [None] * 4 + [
        "#8a5300"
    ]
    assert model.index(0, scan_report.COL_PATH).data(Qt.ForegroundRole) is None
    assert model.index(0, scan_report.COL_PATH).data(Qt.FontRole) is None
    assert model.data(QModelIndex()) is None
    assert model.data(model.createIndex(11, 0)) is None and model.data(model.createIndex(-1, 0)) is None
    # Without a project (none scanned yet), paths are whole and the detail is as core wrote it.
    model.set_rows(None, rows)
    assert model.index(0, scan_report.COL_PATH).data() == str(PROJECT / "OFA/checkpoints/x.pt")
    assert model.index(9, scan_report.COL_DETAIL).data() == (
        f"under {PROJECT}{os.sep}out, which the project's scripts write to"
    )


def test_details_from_core_in_the_windows_words():
    fixed = [
        "uses a variable the script does not set",
        "named as a training run names its outputs",
        "our link is there; the file is not",
        "already there",
        "no catalog entry has this file name",
        "our link is there; the archive is not unpacked",
    ]
    for detail in fixed:
        assert scan_report.detail_words(detail) == detail
    for detail in (
        "under a/b, which the project's scripts write to",
        "already there; the name fits several entries: x, y",
        "the name fits several catalog entries: x, y",
        "already there; it fits several archive members: m of x, n of y",
        "it fits several archive members: m of x",
        "already there (fits m.pt of x)",
    ):
        assert scan_report.detail_words(detail) == detail
    assert scan_report.detail_words("anything else") == "anything else"
    assert scan_report.detail_words("") == ""


@pytest.fixture
def dialog(qtbot, site, models_dir, english):
    workspace = Workspace(site.catalog, Settings(), models_dir)
    asked: list[tuple[str, str, list[str]]] = []
    answers: list[str | None] = []

    def ask(title, text, choices, **options):
        asked.append((title, text, choices))
        return answers.pop(0) if answers else None

    downloads: list[list[str]] = []
    queued: list[bool] = []  # whether the window takes the downloads asked for (its queue is not started)
    report = scan_report.ScanReportDialog(
        workspace.store,
        workspace.bridge,
        ask,
        lambda entries: downloads.append([e.id for e in entries]) or bool(queued),
        project=str(site.project),
    )
    qtbot.addWidget(report)
    report.asked, report.answers, report.downloads, report.queued = asked, answers, downloads, queued
    yield report
    report.close()
    assert workspace.close()


def scan(qtbot, report) -> None:
    assert report.scan()
    assert not report.scan_button.isEnabled() and not report.apply_button.isEnabled()
    assert not report.scan()  # one scan at a time
    qtbot.waitUntil(lambda: not report.jobs.running, timeout=WAIT_MS)
    assert report.scan_button.isEnabled()


def test_the_dialog_scans_says_bad_folders_and_sums_up(qtbot, dialog, site, tmp_path):
    assert dialog.windowTitle() == "Check a Project Folder" and dialog.folder.text() == str(site.project)
    assert not dialog.apply_button.isEnabled()
    for typed, said in (
        ("", "Choose the project folder (a full path)."),
        ("relative/folder", "Choose the project folder (a full path)."),
        (str(tmp_path / "nowhere"), f"{tmp_path / 'nowhere'} is not a folder."),
    ):
        dialog.folder.setText(typed)
        assert not dialog.scan()
        assert dialog.status.text() == said
    dialog.folder.setText(f"  {site.project}  ")
    scan(qtbot, dialog)
    assert dialog.status.text() == ""
    assert dialog.scanned == site.project
    assert dialog.model.rowCount() == 8
    assert dialog.summary.text() == (
        "8 checkpoint paths in the scripts: 0 linked, 5 to link, 5 checkpoints to download first, 2 unknown"
    )
    assert dialog.apply_button.isEnabled()
    rows = dialog.model.rows
    assert dialog.summary_text(rows[:0]) == "0 checkpoint paths in the scripts: 0 linked, 0 to link"
    member = [expected("member", entry_id="m", unpacked=True), expected("member", entry_id="n")]
    assert dialog.summary_text(member) == (
        "2 checkpoint paths in the scripts: 0 linked, 2 to link, 1 checkpoint to download first"
    )


def test_apply_cancelled_at_the_download_question_links_nothing(qtbot, dialog, site):
    scan(qtbot, dialog)
    dialog.answers.append("Cancel")
    assert not dialog.apply()
    assert [a[0] for a in dialog.asked] == ["Download first?"]
    assert dialog.status.text() == "Nothing downloaded, nothing linked"
    assert dialog.downloads == [] and not site.checkpoints.exists()
    assert dialog.apply_button.isEnabled()
    # Close: nothing is awaited, so it closes without asking.
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.buttons.rejected.emit()
    assert not dialog.isVisible() and len(dialog.asked) == 1


def test_choose_scans_the_chosen_folder_and_fits_the_columns(qtbot, dialog, site, monkeypatch):
    from ofa_manager.gui import project_dialog

    chosen: list[tuple[str, str]] = []
    answer: list[str] = [""]

    def choose_folder(parent, title, start):  # the desktop's folder dialog cannot be driven offscreen
        assert parent is dialog  # over the report, not a window of its own
        chosen.append((title, start))
        return answer[0]

    monkeypatch.setattr(project_dialog, "choose_folder", choose_folder)
    dialog.resize(1000, 400)
    dialog.show()
    qtbot.waitExposed(dialog)
    browse = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Choose…")
    browse.click()  # cancelled: nothing changes, nothing is scanned
    assert chosen == [("Project folder to check", str(site.project))]
    assert dialog.folder.text() == str(site.project) and not dialog.jobs.running
    dialog.folder.setText("")
    answer[0] = str(site.project)
    browse.click()
    assert chosen[-1] == ("Project folder to check", str(Path.home()))
    assert dialog.folder.text() == str(site.project) and dialog.jobs.running
    qtbot.waitUntil(lambda: not dialog.jobs.running, timeout=WAIT_MS)
    assert dialog.model.rowCount() == 8
    # Paths and scripts as wide as they are, up to a quarter (three tenths) of the view, 160 at least.
    width = dialog.view.viewport().width()
    assert dialog.view.columnWidth(scan_report.COL_PATH) == max(160, width // 4)
    assert dialog.view.columnWidth(scan_report.COL_SCRIPT) == max(160, width * 3 // 10)
    # In a narrow report they keep 160 pixels.
    dialog.resize(500, 400)
    scan(qtbot, dialog)
    assert dialog.view.columnWidth(scan_report.COL_PATH) == 160
    assert dialog.view.columnWidth(scan_report.COL_SCRIPT) == 160
    # Paths are shown from the project's folder.
    assert not dialog.model.index(0, scan_report.COL_PATH).data().startswith("/")


def test_apply_links_what_is_here_and_scans_again(qtbot, dialog, site):
    from ofa_manager import cli

    ids = ["ofa-large", "ofa-base", "refcoco-adapter", "refcocoplus-adapter", "refcocog-adapter"]
    assert cli.main([*site.args, "download", *ids]) == 0
    scan(qtbot, dialog)
    assert dialog.summary.text() == "8 checkpoint paths in the scripts: 0 linked, 5 to link, 2 unknown"
    dialog.answers.extend(["Link"] * 3)
    assert dialog.apply()
    qtbot.waitUntil(lambda: not dialog.run.running and not dialog.jobs.running, timeout=WAIT_MS)
    assert dialog.downloads == []
    assert dialog.status.text() == "5 links made"
    assert dialog.results.isVisibleTo(dialog) and dialog.results.toPlainText().count("\n") == 4
    assert dialog.summary.text() == "8 checkpoint paths in the scripts: 5 linked, 0 to link, 2 unknown"
    assert not dialog.apply_button.isEnabled() and not dialog.apply()
    scan(qtbot, dialog)  # the summary of the links stays until the next scan
    assert dialog.status.text() == ""
    assert (site.checkpoints / "ofa_large.pt").is_symlink() or (site.checkpoints / "ofa_large.pt").exists()


def test_the_dialogs_parts(dialog):
    from PySide6.QtWidgets import QHeaderView, QLabel

    assert dialog.objectName() == "scan-report"
    assert dialog.folder.objectName() == "project-folder"
    assert dialog.folder.placeholderText() == "The project's folder (its shell scripts are read)"
    assert dialog.scan_button.objectName() == "scan-button" and dialog.scan_button.text() == "Scan"
    assert dialog.apply_button.objectName() == "apply-button" and dialog.apply_button.text() == "Apply"
    assert dialog.apply_button.toolTip() == (
        "Download the checkpoints the scripts need (asking first) and link them where the scripts read "
        "them; files that are not our links are left alone"
    )
    assert [dialog.mode.itemData(i) for i in range(dialog.mode.count())] == ["symlink", "hardlink", "copy"]
    assert (
        dialog.mode.itemText(0) == "Symbolic link (no extra space)"
        and dialog.mode.objectName() == "apply-mode"
    )
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert "Project folder:" in labels and "Link as:" in labels
    assert dialog.summary.objectName() == "scan-summary" and dialog.summary.wordWrap()
    assert dialog.status.objectName() == "scan-status" and dialog.status.wordWrap()
    assert dialog.results.objectName() == "scan-results" and dialog.results.isReadOnly()
    assert not dialog.results.isVisibleTo(dialog)
    assert dialog.results.maximumHeight() == dialog.fontMetrics().lineSpacing() * 6
    view = dialog.view
    assert view.objectName() == "scan-rows" and view.model() is dialog.model
    assert not view.rootIsDecorated() and view.alternatingRowColors() and view.uniformRowHeights()
    assert view.textElideMode() == Qt.ElideMiddle
    assert view.selectionBehavior() == view.SelectionBehavior.SelectRows
    header = view.header()
    assert not header.stretchLastSection()
    assert [header.sectionResizeMode(c) for c in range(4)] == [
        QHeaderView.Interactive,
        QHeaderView.ResizeToContents,
        QHeaderView.Stretch,
        QHeaderView.Interactive,
    ]
    metrics = dialog.fontMetrics()
    assert header.sectionSize(scan_report.COL_PATH) == (
        metrics.horizontalAdvance("OFA/checkpoints/refcocoplus_adapter.pt") + 24
    )
    assert header.sectionSize(scan_report.COL_SCRIPT) == (
        metrics.horizontalAdvance("run_scripts/refcoco/train_refcoco.sh:12") + 24
    )
    assert (dialog.width(), dialog.height()) == (1180, 400)
    # Enter in the folder box scans.
    dialog.folder.setText("relative")
    dialog.folder.returnPressed.emit()
    assert dialog.status.text() == "Choose the project folder (a full path)."


def test_closing_while_the_links_wait_for_downloads_asks_first(qtbot, dialog, site):
    scan(qtbot, dialog)
    dialog.queued.append(True)
    dialog.answers.append("Download and Link")
    assert dialog.apply()
    assert dialog.run.running and dialog.downloads  # waiting for downloads that never come here
    assert not dialog.apply_button.isEnabled() and not dialog.scan_button.isEnabled()
    assert not dialog.apply() and not dialog.scan()
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.answers.append("Keep Waiting")
    dialog.reject()
    assert dialog.isVisible() and dialog.asked[-1][0] == "Stop waiting for the downloads?"
    dialog.answers.append("Stop Waiting")
    dialog.reject()
    assert not dialog.isVisible()


def test_a_scan_that_fails_and_links_not_made_are_said(qtbot, dialog, site, monkeypatch):
    # Run as root here, no folder is unreadable: the scan fails as it would on one.
    def unreadable(project, catalog, library):
        raise PermissionError(13, "Permission denied", str(project / "OFA"))

    monkeypatch.setattr(linking, "scan", unreadable)
    scan(qtbot, dialog)
    assert dialog.status.text() == (
        f"The folder cannot be read: [Errno 13] Permission denied: '{site.project / 'OFA'}'"
    )
    assert dialog.model.rowCount() == 0 and dialog.scan_button.isEnabled()
    monkeypatch.undo()
    # An Apply whose downloads failed: the links made, and each checkpoint not linked with why.
    scan(qtbot, dialog)
    dialog.run.finished.emit([], [("ofa-large", "the download failed"), ("ofa-base", "cancelled")])
    assert dialog.results.toPlainText() == (
        "ofa-large: not linked — the download failed\nofa-base: not linked — cancelled"
    )
    assert dialog.results.isVisibleTo(dialog)
    assert dialog.jobs.running  # the report is read again
    qtbot.waitUntil(lambda: not dialog.jobs.running, timeout=WAIT_MS)
    assert dialog.status.text() == "0 links made; 2 checkpoints not ready"  # the Apply's summary stays


def test_the_report_sits_over_its_window_and_takes_what_it_made_with_it(qtbot, site, models_dir, english):
    # A report closed and deleted leaves nothing behind: its model, its background jobs and its link run
    # (which listen to the window's bridge) go with it, and it belongs to the window it was opened from.
    import shiboken6
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QWidget

    workspace = Workspace(site.catalog, Settings(), models_dir)
    window = QWidget()
    qtbot.addWidget(window)
    report = scan_report.ScanReportDialog(
        workspace.store, workspace.bridge, lambda *a, **k: None, lambda entries: False, window
    )
    assert report.parentWidget() is window and report.folder.text() == ""  # no project: an empty box
    assert report.scanned is None  # nothing scanned yet
    made = [report.model, report.jobs, report.run, report.view, report.folder, report.summary]
    report.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    assert [shiboken6.isValid(part) for part in made] == [False] * len(made)
    assert workspace.close()


def test_the_summary_counts_linked_archive_members_too(dialog):
    rows = [
        expected("member", entry_id="m", member="a.pt", linked=True),
        expected("catalog", entry_id="c", linked=True),
        expected("member", entry_id="n", member="b.pt", unpacked=True),
    ]
    assert dialog.summary_text(rows) == "3 checkpoint paths in the scripts: 2 linked, 1 to link"


def test_a_scan_says_what_it_reads_and_the_report_closes_with_close(qtbot, dialog, site):
    from PySide6.QtWidgets import QDialogButtonBox

    assert dialog.scan()
    assert dialog.status.text() == f"Reading the scripts in {site.project}…"  # until the scan is back
    qtbot.waitUntil(lambda: not dialog.jobs.running, timeout=WAIT_MS)
    assert dialog.status.text() == ""
    close = dialog.buttons.button(QDialogButtonBox.Close)
    assert close is not None and close.text() == "Close"
    assert sorted(b.text() for b in dialog.buttons.buttons()) == ["Apply", "Close"]


def test_the_report_lays_its_parts_out(qtbot, dialog):
    dialog.show()
    qtbot.waitExposed(dialog)
    # The rows take the dialog's width and most of its height; the folder box and the buttons are above
    # and below them, inside the dialog.
    view = dialog.view.geometry()
    assert view.width() > dialog.width() * 9 // 10 and view.height() > dialog.height() // 2
    assert dialog.folder.geometry().bottom() < view.top() < view.bottom() < dialog.buttons.geometry().top()
    assert dialog.rect().contains(dialog.buttons.geometry())
