""" "Link into project folder…": where, under what name and how the selected checkpoints are linked,
and what happened to each link."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ofa_manager.core.catalog import Checkpoint, check_filename
from ofa_manager.core.linking import MODES
from ofa_manager.core.project_setup import requests_for
from ofa_manager.gui.project_links import LinkRun, outcome_text, summary_text


def choose_folder(parent: QWidget, title: str, start: str) -> str:
    """The folder the user picks ("" when none); tests replace this, as a person would answer."""
    return QFileDialog.getExistingDirectory(parent, title, start)


def mode_names() -> dict[str, str]:
    """Each link mode as the mode menus show it."""
    return {
        "symlink": QCoreApplication.translate("LinkModes", "Symbolic link (no extra space)"),
        "hardlink": QCoreApplication.translate("LinkModes", "Hard link (same volume only)"),
        "copy": QCoreApplication.translate("LinkModes", "Copy (uses the space again)"),
    }


class LinkDialog(QDialog):
    """Asks for a project folder, a link name (one checkpoint only) and a mode, makes the links (after
    downloading what is not here, when the user agrees) and lists the outcome of each."""

    def __init__(
        self,
        store,
        bridge,
        entries: list[Checkpoint],
        ask: Callable[..., str | None],
        download: Callable[[list[Checkpoint]], bool],
        parent: QWidget | None = None,
        *,
        folder: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("link-dialog")
        self.setWindowTitle(self.tr("Link into Project Folder"))
        self.entries = entries
        self.run = LinkRun(store, bridge, ask, download, self)
        self.run.status.connect(self._set_status)
        self.run.finished.connect(self._finished)
        self.run.cancelled.connect(lambda: self._set_status(self.tr("Nothing linked")))

        names = ", ".join(e.title for e in entries[:3]) + ("…" if len(entries) > 3 else "")
        heading = QLabel(
            self.tr("Link %n checkpoint(s): {names}", None, len(entries)).format(names=names), self
        )
        heading.setWordWrap(True)
        self.folder = QLineEdit(folder, self)
        self.folder.setObjectName("link-folder")
        self.folder.setPlaceholderText(self.tr("The folder your scripts read checkpoints from"))
        browse = QPushButton(self.tr("Choose…"), self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.name = QLineEdit(self)
        self.name.setObjectName("link-name")
        if len(entries) == 1:
            self.name.setPlaceholderText(entries[0].filename)
        else:
            self.name.setEnabled(False)
            self.name.setPlaceholderText(self.tr("each under its own file name"))
        self.mode = QComboBox(self)
        self.mode.setObjectName("link-mode")
        for mode, label in mode_names().items():
            self.mode.addItem(label, mode)
        form = QFormLayout()
        form.addRow(self.tr("Project folder:"), row)
        form.addRow(self.tr("Link name:"), self.name)
        form.addRow(self.tr("Mode:"), self.mode)
        self.results = QPlainTextEdit(self)
        self.results.setObjectName("link-results")
        self.results.setReadOnly(True)
        self.results.setPlaceholderText(
            self.tr("A file at a link's name that is not our link is never replaced: it is named here.")
        )
        self.status = QLabel(self)
        self.status.setObjectName("link-status")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.link_button = self.buttons.addButton(self.tr("Link"), QDialogButtonBox.AcceptRole)
        self.link_button.setObjectName("link-button")
        self.link_button.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(640, 380)

    def _browse(self) -> None:
        chosen = choose_folder(
            self, self.tr("Project folder to link into"), self.folder.text() or str(Path.home())
        )
        if chosen:
            self.folder.setText(chosen)

    def set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(MODES.index(mode))

    def reject(self) -> None:
        """Close (Close, Escape, the window's close button); while downloads are awaited, ask first."""
        if self.run.may_stop():
            super().reject()

    def _set_status(self, text: str) -> None:
        self.status.setText(text)

    def start(self) -> bool:
        """Check what was typed, then link; a mistake is said here and nothing is lost."""
        text = self.folder.text().strip()
        folder = Path(text).expanduser() if text else None
        if folder is None or not folder.is_absolute():
            self._set_status(self.tr("Choose the project folder (a full path)."))
            return False
        if folder.exists() and not folder.is_dir():
            self._set_status(self.tr("{path} is not a folder.").format(path=folder))
            return False
        name = self.name.text().strip() or None
        if name is not None:
            problem = check_filename(name)
            if problem:
                self._set_status(
                    self.tr("The link name {name!r} {problem}.").format(name=name, problem=problem)
                )
                return False
        requests = requests_for(self.entries, folder, name)
        started = self.run.start(requests, self.mode.currentData())
        self.link_button.setEnabled(not self.run.running)
        return started

    def _finished(self, results: list, not_downloaded: list) -> None:
        lines = [outcome_text(r) for r in results]
        lines += [self.tr("{id}: not linked — {why}").format(id=i, why=why) for i, why in not_downloaded]
        self.results.setPlainText("\n".join(lines))
        self._set_status(summary_text(results, not_downloaded))
        self.link_button.setEnabled(True)
