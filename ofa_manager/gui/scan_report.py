""" "Check a project folder…": the checkpoint paths a project's scripts read, what satisfies each, and
Apply, which downloads what is needed (asking first) and makes the links."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QAbstractTableModel, QCoreApplication, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ofa_manager.core import linking
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.project_setup import plan_apply
from ofa_manager.gui import project_dialog
from ofa_manager.gui.project_links import JobResult, Jobs, LinkRun, outcome_text, summary_text

COL_PATH, COL_STATUS, COL_DETAIL, COL_SCRIPT = range(4)
_TOP = QModelIndex()  # the default parent (a shared value, never modified)
_COLORS = {"good": "#1e6b34", "todo": "#1a4f8b", "warn": "#8a5300", "plain": None}


def detail_words(detail: str) -> str:
    """A row's detail from core/linking.py (plain English there, for the command line too) in the window's
    language; a detail not listed here comes back as it is."""
    fixed = {
        "uses a variable the script does not set": QCoreApplication.translate(
            "ScanReportModel", "uses a variable the script does not set"
        ),
        "named as a training run names its outputs": QCoreApplication.translate(
            "ScanReportModel", "named as a training run names its outputs"
        ),
        "our link is there; the file is not": QCoreApplication.translate(
            "ScanReportModel", "our link is there; the file is not"
        ),
        "already there": QCoreApplication.translate("ScanReportModel", "already there"),
        "no catalog entry has this file name": QCoreApplication.translate(
            "ScanReportModel", "no catalog entry has this file name"
        ),
        "our link is there; the archive is not unpacked": QCoreApplication.translate(
            "ScanReportModel", "our link is there; the archive is not unpacked"
        ),
    }
    if detail in fixed:
        return fixed[detail]
    patterns = (
        (r"under (?P<folder>.+), which the project's scripts write to", DETAIL_UNDER),
        (r"already there; the name fits several entries: (?P<ids>.+)", DETAIL_PRESENT_ENTRIES),
        (r"the name fits several catalog entries: (?P<ids>.+)", DETAIL_ENTRIES),
        (r"already there; it fits several archive members: (?P<fits>.+)", DETAIL_PRESENT_MEMBERS),
        (r"it fits several archive members: (?P<fits>.+)", DETAIL_MEMBERS),
        (r"already there \(fits (?P<member>.+) of (?P<entry>.+)\)", DETAIL_FITS),
    )
    for pattern, text in patterns:
        if found := re.fullmatch(pattern, detail or ""):
            return QCoreApplication.translate("ScanReportModel", text).format(**found.groupdict())
    return detail


DETAIL_UNDER = QT_TRANSLATE_NOOP("ScanReportModel", "under {folder}, which the project's scripts write to")
DETAIL_PRESENT_ENTRIES = QT_TRANSLATE_NOOP(
    "ScanReportModel", "already there; the name fits several entries: {ids}"
)
DETAIL_ENTRIES = QT_TRANSLATE_NOOP("ScanReportModel", "the name fits several catalog entries: {ids}")
DETAIL_PRESENT_MEMBERS = QT_TRANSLATE_NOOP(
    "ScanReportModel", "already there; it fits several archive members: {fits}"
)
DETAIL_MEMBERS = QT_TRANSLATE_NOOP("ScanReportModel", "it fits several archive members: {fits}")
DETAIL_FITS = QT_TRANSLATE_NOOP("ScanReportModel", "already there (fits {member} of {entry})")


class ScanReportModel(QAbstractTableModel):
    """The rows of one scan (``linking.Expected``), paths shown relative to the project: the expected
    path, its status in a few words, what satisfies it (or why nothing does), and the script and line."""

    def __init__(self, catalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.project: Path | None = None
        self.rows: list[linking.Expected] = []
        self._brushes = {k: QBrush(QColor(v)) for k, v in _COLORS.items() if v}

    def set_rows(self, project: Path | None, rows: list[linking.Expected]) -> None:
        self.beginResetModel()
        self.project, self.rows = project, list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = _TOP) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = _TOP) -> int:
        return 0 if parent.isValid() else 4

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < 4:
            headers = (
                self.tr("Expected path"),
                self.tr("Status"),
                self.tr("Satisfied by"),
                self.tr("Script and line"),
            )
            return headers[section]
        return None

    def shown(self, path: Path) -> str:
        if self.project is not None and path.is_relative_to(self.project):
            return str(path.relative_to(self.project))
        return str(path)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.DisplayRole:
            if column == COL_PATH:
                return self.shown(row.path)
            if column == COL_STATUS:
                return self.status_text(row)
            if column == COL_DETAIL:
                return self.detail_text(row)
            return f"{self.shown(row.script)}:{row.line}"
        if role == Qt.ToolTipRole:
            if column == COL_PATH:
                return self.tr("{path}\nas the script writes it: {written}").format(
                    path=row.path, written=row.written
                )
            if column in (COL_STATUS, COL_DETAIL):
                detail = self.detail_text(row)
                return (
                    self.tr("{status}: {detail}").format(status=self.status_text(row), detail=detail)
                    if detail
                    else None
                )
            return str(row.script)
        if role == Qt.ForegroundRole and column == COL_STATUS:
            return self._brushes.get(self.tone(row))
        return None

    def _entry_name(self, row: linking.Expected) -> str:
        if row.entry_id is not None and row.entry_id in self.catalog:
            entry = self.catalog.get(row.entry_id)
            name = f"{entry.title} ({entry.id})"
        else:
            name = row.entry_id or ""
        member = row.member  # a file inside an archive entry
        return self.tr("{member} in {entry}").format(member=member, entry=name) if member else name

    def status_text(self, row: linking.Expected) -> str:
        if row.kind in ("catalog", "member"):
            if row.linked:
                return self.tr("Linked")
            if row.kind == "member" and row.unpacked:
                return self.tr("Unpacked, not linked")
            if row.kind == "member" and row.downloaded:
                return self.tr("Downloaded, not unpacked")
            if row.downloaded:
                return self.tr("Downloaded, not linked")
            return self.tr("Not downloaded")
        if row.kind == "present":
            return self.tr("Already present")
        if row.kind == "produced":
            return self.tr("Produced by the project")
        return self.tr("Unknown")

    def detail_text(self, row: linking.Expected) -> str:
        name = self._entry_name(row)
        if row.kind in ("catalog", "member"):
            detail = detail_words(row.detail)
            return self.tr("{entry}; {detail}").format(entry=name, detail=detail) if detail else name
        if row.kind == "present" and row.entry_id:
            return self.tr("not our link; {entry} has this name").format(entry=name)
        if row.kind == "present" and row.detail == "already there":
            return ""
        if self.project is not None:  # "under …/refcoco_checkpoints/adapter": the project's part of it
            return detail_words(row.detail.replace(f"{self.project}{os.sep}", ""))
        return detail_words(row.detail)

    @staticmethod
    def tone(row: linking.Expected) -> str:
        if row.kind in ("catalog", "member"):
            return "good" if row.linked else "todo"
        if row.kind == "unknown":
            return "warn"
        return "plain"


class ScanReportDialog(QDialog):
    """Scans a chosen project folder in the background and shows the report; Apply links what the
    catalog has (downloading it first, when the user agrees) and scans again."""

    def __init__(
        self,
        store,
        bridge,
        ask: Callable[..., str | None],
        download: Callable[[list[Checkpoint]], bool],
        parent: QWidget | None = None,
        *,
        project: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("scan-report")
        self.setWindowTitle(self.tr("Check a Project Folder"))
        self.store = store
        self.jobs = Jobs(bridge, self)
        self.run = LinkRun(store, bridge, ask, download, self)
        self.run.status.connect(self._set_status)
        self.run.finished.connect(self._applied)
        self.run.cancelled.connect(self._apply_cancelled)
        self.scanned: Path | None = None
        self._after_scan = ""  # the status line a scan leaves (an Apply's summary, once it scans again)

        self.folder = QLineEdit(project, self)
        self.folder.setObjectName("project-folder")
        self.folder.setPlaceholderText(self.tr("The project's folder (its shell scripts are read)"))
        self.folder.returnPressed.connect(self.scan)
        browse = QPushButton(self.tr("Choose…"), self)
        browse.clicked.connect(self._browse)
        self.scan_button = QPushButton(self.tr("Scan"), self)
        self.scan_button.setObjectName("scan-button")
        self.scan_button.clicked.connect(self.scan)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Project folder:"), self))
        top.addWidget(self.folder, 1)
        top.addWidget(browse)
        top.addWidget(self.scan_button)

        self.model = ScanReportModel(store.catalog, self)
        self.view = QTreeView(self)
        self.view.setObjectName("scan-rows")
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setAlternatingRowColors(True)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        # Paths keep their file name and scripts their line number when a column is narrow.
        self.view.setTextElideMode(Qt.ElideMiddle)
        header = self.view.header()
        header.setStretchLastSection(False)
        for column in (COL_PATH, COL_DETAIL, COL_SCRIPT):
            header.setSectionResizeMode(column, QHeaderView.Interactive)
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(COL_DETAIL, QHeaderView.Stretch)
        metrics = self.fontMetrics()
        header.resizeSection(
            COL_PATH, metrics.horizontalAdvance("OFA/checkpoints/refcocoplus_adapter.pt") + 24
        )
        header.resizeSection(
            COL_SCRIPT, metrics.horizontalAdvance("run_scripts/refcoco/train_refcoco.sh:12") + 24
        )

        self.summary = QLabel(self)
        self.summary.setObjectName("scan-summary")
        self.summary.setWordWrap(True)
        self.results = QPlainTextEdit(self)
        self.results.setObjectName("scan-results")
        self.results.setReadOnly(True)
        self.results.setMaximumHeight(metrics.lineSpacing() * 6)
        self.results.hide()
        self.status = QLabel(self)
        self.status.setObjectName("scan-status")
        self.status.setWordWrap(True)

        self.mode = QComboBox(self)
        self.mode.setObjectName("apply-mode")
        for mode, label in project_dialog.mode_names().items():
            self.mode.addItem(label, mode)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.apply_button = self.buttons.addButton(self.tr("Apply"), QDialogButtonBox.ApplyRole)
        self.apply_button.setObjectName("apply-button")
        self.apply_button.setToolTip(
            self.tr(
                "Download the checkpoints the scripts need (asking first) and link them where the scripts "
                "read them; files that are not our links are left alone"
            )
        )
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel(self.tr("Link as:"), self))
        bottom.addWidget(self.mode)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.results)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        self.resize(1180, 400)
        self._update_buttons()

    # -- scanning ---------------------------------------------------------------------------------

    def _browse(self) -> None:
        chosen = project_dialog.choose_folder(
            self, self.tr("Project folder to check"), self.folder.text() or str(Path.home())
        )
        if chosen:
            self.folder.setText(chosen)
            self.scan()

    def scan(self) -> bool:
        """Scan the folder typed or chosen, in the background; a bad folder is said here."""
        text = self.folder.text().strip()
        project = Path(text).expanduser() if text else None
        if project is None or not project.is_absolute():
            self._set_status(self.tr("Choose the project folder (a full path)."))
            return False
        if not project.is_dir():
            self._set_status(self.tr("{path} is not a folder.").format(path=project))
            return False
        if self.jobs.running or self.run.running:
            return False
        ws = self.store
        catalog, library = ws.catalog, ws.library
        self._set_status(self.tr("Reading the scripts in {path}…").format(path=project))
        self.jobs.run(
            "project-scan", lambda: (project, linking.scan(project, catalog, library)), self._scanned
        )
        self._update_buttons()
        return True

    def _scanned(self, result: JobResult) -> None:
        if not result.ok:
            self._set_status(self.tr("The folder cannot be read: {reason}").format(reason=result.error))
            self._update_buttons()
            return
        project, rows = result.value
        self.scanned = Path(os.path.abspath(project))
        self.model.set_rows(self.scanned, rows)
        self._fit_columns()
        self.summary.setText(self.summary_text(rows))
        if not self.run.running:
            self._set_status(self._after_scan)
            self._after_scan = ""
        self._update_buttons()

    def _fit_columns(self) -> None:
        """Paths and scripts as wide as they are, up to a quarter of the view each; what satisfies a path
        takes the rest (the script's line number matters more than the path's folders)."""
        width = self.view.viewport().width()
        for column, limit in ((COL_PATH, width // 4), (COL_SCRIPT, width * 3 // 10)):
            self.view.resizeColumnToContents(column)
            if self.view.columnWidth(column) > max(160, limit):
                self.view.setColumnWidth(column, max(160, limit))

    def summary_text(self, rows: list[linking.Expected]) -> str:
        linked = sum(1 for r in rows if r.kind in ("catalog", "member") and r.linked)
        todo = sum(1 for r in rows if r.kind in ("catalog", "member") and not r.linked)
        missing = len(
            {
                r.entry_id
                for r in rows
                if r.kind in ("catalog", "member")
                and not r.linked
                and not r.downloaded
                and not (r.kind == "member" and r.unpacked)
            }
        )
        text = self.tr("%n checkpoint path(s) in the scripts", None, len(rows))
        parts = [self.tr("%n linked", None, linked), self.tr("%n to link", None, todo)]
        if missing:
            parts.append(self.tr("%n checkpoint(s) to download first", None, missing))
        unknown = sum(1 for r in rows if r.kind == "unknown")
        if unknown:
            parts.append(self.tr("%n unknown", None, unknown))
        return f"{text}: {', '.join(parts)}"

    # -- applying ---------------------------------------------------------------------------------

    def plan(self):
        return plan_apply(self.model.rows, self.store.catalog)

    def apply(self) -> bool:
        plan = self.plan()
        if plan.empty or self.run.running:
            return False
        started = self.run.start(plan.links, self.mode.currentData())
        self._update_buttons()
        return started

    def _apply_cancelled(self) -> None:
        self._set_status(self.tr("Nothing downloaded, nothing linked"))
        self._update_buttons()

    def _applied(self, results: list, not_downloaded: list) -> None:
        lines = [outcome_text(r) for r in results]
        lines += [self.tr("{id}: not linked — {why}").format(id=i, why=why) for i, why in not_downloaded]
        self.results.setPlainText("\n".join(lines))
        self.results.setVisible(bool(lines))
        self._after_scan = summary_text(results, not_downloaded)
        self._set_status(self._after_scan)
        self.scan()  # the report now says what is linked

    def reject(self) -> None:
        """Close (Close, Escape, the window's close button); while downloads are awaited, ask first."""
        if self.run.may_stop():
            super().reject()

    def _set_status(self, text: str) -> None:
        self.status.setText(text)

    def _update_buttons(self) -> None:
        busy = self.jobs.running or self.run.running
        self.scan_button.setEnabled(not busy)
        self.apply_button.setEnabled(not busy and not self.plan().empty)
