"""The details pane: where the selected checkpoint comes from, what its file holds, and how to load it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ofa_manager.core.catalog import Checkpoint, display_url
from ofa_manager.core.file_status import State
from ofa_manager.gui.claim_words import claim_text, contents_text, mismatch_text, safety_text
from ofa_manager.gui.contents import ContentsWatcher
from ofa_manager.gui.i18n import size_text
from ofa_manager.gui.status import display_path
from ofa_manager.gui.store import Store

# Fingerprints a server or a download may have recorded in the file's metadata, shown when present.
FINGERPRINTS = (
    ("crc64", "CRC-64"),
    ("crc64ecma", "CRC-64"),
    ("md5", "MD5"),
    ("etag", "ETag"),
    ("verified_by", None),  # in words: see refresh()
)


class DetailsPane(QScrollArea):
    """Shows one checkpoint: source URLs, file, size, hashes, contents, safety, claim and load lines.

    The contents come from the ContentsWatcher (read on a worker thread); this pane only
    shows what is known and says "Reading…" until then.
    """

    def __init__(self, store: Store, contents: ContentsWatcher, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("details")
        self.store = store
        self.contents = contents
        self.entry: Checkpoint | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel(body)
        self.title.setObjectName("details-title")
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        # Shown only for a row whose last download failed its check and is kept as NAME.rejected.
        self.rejected_note = QLabel(body)
        self.rejected_note.setObjectName("details-rejected")
        self.rejected_note.setWordWrap(True)
        self.rejected_note.setStyleSheet("color: #8a5300;")
        self.rejected_note.setVisible(False)
        layout.addWidget(self.rejected_note)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        layout.addLayout(self.form)
        self.labels: dict[str, QLabel] = {}
        for name, text in (
            ("source", self.tr("Source")),
            ("file", self.tr("File")),
            ("size", self.tr("Size")),
            ("sha256", self.tr("sha256")),
            ("fingerprints", self.tr("Server")),
            ("holds", self.tr("Holds")),
            ("safety", self.tr("Safety")),
            ("claim", self.tr("Catalog")),
            ("verdict", self.tr("Claim")),
        ):
            value = QLabel(body)
            value.setObjectName(f"details-{name}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            value.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
            self.labels[name] = value
            self.form.addRow(text, value)
        code_row = QHBoxLayout()
        self.code_label = QLabel(self.tr("Load it"), body)
        code_row.addWidget(self.code_label)
        code_row.addStretch(1)
        self.read_button = QPushButton(self.tr("Read Again"), body)
        self.read_button.setObjectName("details-read")
        self.read_button.setToolTip(
            self.tr("Read what the file holds again (the zip directory and the pickle)")
        )
        self.read_button.clicked.connect(self.read_again)
        code_row.addWidget(self.read_button)
        self.copy_button = QPushButton(self.tr("Copy"), body)
        self.copy_button.setObjectName("details-copy")
        self.copy_button.setToolTip(self.tr("Copy the lines that load this file to the clipboard"))
        self.copy_button.clicked.connect(self.copy_code)
        code_row.addWidget(self.copy_button)
        layout.addLayout(code_row)
        self.code = QPlainTextEdit(body)
        self.code.setObjectName("details-code")
        self.code.setAccessibleName(self.tr("How to load it"))
        self.code.setReadOnly(True)
        self.code.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.code.setMinimumHeight(90)
        layout.addWidget(self.code, 1)
        self.setWidget(body)

        store.entries_changed.connect(self._entries_changed)
        store.statuses_changed.connect(self.refresh)
        contents.inspected.connect(self._inspected)
        self.show_entry(None)

    # -- showing ----------------------------------------------------------------------------------

    def show_entry(self, entry: Checkpoint | None) -> None:
        """Show this checkpoint (None: nothing selected, or more than one)."""
        self.entry = entry
        self.refresh()

    def refresh(self, *args) -> None:
        entry, ws = self.entry, self.store
        shown = entry is not None
        for i in range(self.form.rowCount()):
            for role in (QFormLayout.LabelRole, QFormLayout.FieldRole):
                item = self.form.itemAt(i, role)
                if item is not None and item.widget() is not None:
                    item.widget().setVisible(shown)
        for widget in (self.code_label, self.copy_button, self.read_button, self.code):
            widget.setVisible(shown)
        self.rejected_note.setVisible(False)
        if entry is None:
            self.title.setText(self.tr("Select one checkpoint to see where it comes from and what it holds."))
            return
        self.title.setText(entry.title)
        sources = [display_url(entry.url), *(display_url(m) for m in entry.mirrors)]
        self._set("source", "\n".join(sources))
        status = ws.status_of(entry)
        present = status is not None and status.state in (State.DOWNLOADED, State.CORRUPT, State.IN_STORE)
        if present:
            path = status.store_path if status.state is State.IN_STORE else status.path
            self._set("file", str(display_path(path)))
        else:
            self._set(
                "file",
                self.tr("not downloaded; will be saved as {path}").format(
                    path=display_path(ws.library.path(entry))
                ),
            )
        size = (status.bytes if present else None) or ws.size_of(entry)
        self._set(
            "size",
            self.tr("{size} ({bytes} bytes)").format(size=size_text(size), bytes=f"{size:,}")
            if size is not None
            else self.tr("unknown"),
        )
        sha = status.sha256 if present and status.sha256 else None
        if sha:
            how = self.tr("verified against the catalog") if status.verified else self.tr("computed")
            self._set("sha256", self.tr("{sha} ({how})").format(sha=sha, how=how))
        elif entry.sha256:
            self._set("sha256", self.tr("{sha} (the catalog's)").format(sha=entry.sha256))
        else:
            self._set("sha256", self.tr("not known yet"))
        meta = status.meta if present else {}
        prints = [
            f"{label or self.tr('Verified by')} {meta[key]}"
            for key, label in FINGERPRINTS
            if isinstance(meta.get(key), str | int)
        ]
        more = meta.get("fingerprints")
        if isinstance(more, dict):
            prints += [f"{k} {v}" for k, v in more.items() if isinstance(v, str | int)]
        self._set("fingerprints", "\n".join(prints) or self.tr("none recorded"))
        self._set("claim", claim_text(entry.expect) if entry.expect else self.tr("states nothing"))
        summary = self.contents.summary_of(entry) if present else None
        self.read_button.setEnabled(present and not self.contents.reading(entry))
        verdict = self.labels["verdict"]
        if not present and status is not None and status.rejected is not None:
            self._show_rejected(entry, status)
            return
        if not present:
            self._set("holds", self.tr("not downloaded"))
            self._set("safety", "—")
            self._set("verdict", "—")
            self._set_code(None, self.tr("# Download the file to see how to load it."))
            verdict.setToolTip("")
            return
        self._show_summary(entry, summary, reading=self.contents.reading(entry))

    def _show_rejected(self, entry: Checkpoint, status) -> None:
        """The kept copy of a download that failed its check: what it holds, and the claim against it."""
        ws, info = self.store, status.rejected
        path = ws.library.rejected_path(entry)
        self.rejected_note.setText(
            self.tr(
                "The last download failed its check ({reason}) and is kept as {name}; this is what it holds:"
            ).format(reason=info.get("reason") or self.tr("no reason recorded"), name=path.name)
        )
        self.rejected_note.setVisible(True)
        self._set("file", str(display_path(path)))
        size = info.get("size")
        if isinstance(size, int):
            text = self.tr("{size} ({bytes} bytes)").format(size=size_text(size), bytes=f"{size:,}")
            self._set("size", text)
        if info.get("sha256"):
            self._set("sha256", self.tr("{sha} (the rejected copy's)").format(sha=info["sha256"]))
        self.read_button.setEnabled(False)
        self._show_summary(
            entry, self.contents.rejected_summary_of(entry), reading=self.contents.reading_rejected(entry)
        )

    def _show_summary(self, entry: Checkpoint, summary: dict | None, *, reading: bool) -> None:
        verdict = self.labels["verdict"]
        if summary is None or reading:
            self._set("holds", self.tr("Reading…"))
            self._set("safety", self.tr("Reading…"))
            self._set("verdict", self.tr("Reading…"))
            self._set_code(None, "")
            verdict.setToolTip("")
            return
        self._set("holds", contents_text(summary) if not summary.get("error") else summary["error"])
        safety = safety_text(summary)
        if not summary.get("safe") and not summary.get("error"):
            safety = self.tr("UNSAFE: {why}").format(why=safety)
        self._set("safety", safety)
        mismatch = mismatch_text(entry.expect, summary)
        if mismatch:
            self._set("verdict", "⚠ " + self.tr("This file {mismatch}.").format(mismatch=mismatch))
            verdict.setStyleSheet("color: #8a5300;")
            verdict.setToolTip(self.tr("A warning: the file is kept; load it only if you know what it is."))
        elif entry.expect:
            self._set("verdict", self.tr("holds what the catalog says"))
            verdict.setStyleSheet("color: #1e6b34;")
            verdict.setToolTip("")
        else:
            self._set("verdict", "—")
            verdict.setStyleSheet("")
            verdict.setToolTip("")
        code = summary.get("load_code")
        if code:
            self._set_code(code, code)
        elif summary.get("safe"):
            self._set_code(None, self.tr("# torch.load(weights_only=True) cannot read this file."))
        else:
            self._set_code(None, self.tr("# Not safe to load: do not use torch.load(weights_only=False)."))

    def read_again(self) -> None:
        if self.entry is not None:
            self.contents.read(self.entry, again=True)
            self.refresh()

    def copy_code(self) -> None:
        text = self.code.property("loadable")
        if text:
            QGuiApplication.clipboard().setText(text)

    # -- helpers ----------------------------------------------------------------------------------

    def _set(self, name: str, text: str) -> None:
        label = self.labels[name]
        label.setText(text)
        if name != "verdict":
            label.setToolTip(text if len(text) > 40 else "")

    def _set_code(self, loadable: str | None, text: str) -> None:
        self.code.setProperty("loadable", loadable or "")
        if self.code.toPlainText() != text:
            self.code.setPlainText(text)
        self.copy_button.setEnabled(bool(loadable))

    def _entries_changed(self, ids: list[str]) -> None:
        if self.entry is not None and self.entry.id in ids:
            self.refresh()

    def _inspected(self, key: str, ids: list[str]) -> None:
        self._entries_changed(ids)
