"""Catalogs in the window: "Add catalog…" (a Markdown or HTML checkpoint list, from a file or a URL) and
the Settings page that lists the catalogs in use, enables, disables and removes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ofa_manager.core import zoo
from ofa_manager.core.catalog import display_url
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.project_links import JobResult, Jobs
from ofa_manager.gui.status import display_path

COL_NAME, COL_TITLE, COL_ENTRIES, COL_SOURCE = range(4)


def choose_file(parent: QWidget, title: str, start: str) -> str:
    """The checkpoint list the user picks ("" when none); tests replace this, as a person would answer."""
    chosen, _ = QFileDialog.getOpenFileName(
        parent,
        title,
        start,
        QCoreApplication.translate(
            "AddCatalogDialog", "Checkpoint lists (*.md *.markdown *.html *.htm *.txt);;All files (*)"
        ),
    )
    return chosen


class AddCatalogDialog(QDialog):
    """Imports a checkpoint list as a catalog, in the background; shows what was made and left out, or
    why nothing was (the typed source and name stay, so nothing is lost).

    Signals:
        imported(str): a catalog of this name was written to the catalogs folder
    """

    imported = Signal(str)

    def __init__(self, store, bridge, parent: QWidget | None = None, *, source: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("add-catalog")
        self.setWindowTitle(self.tr("Add Catalog"))
        self.store = store
        self.jobs = Jobs(bridge, self)
        intro = QLabel(
            self.tr(
                "A checkpoint list written in Markdown or HTML (such as OFA's checkpoints.md): each link to "
                "a checkpoint file becomes an entry, headings become groups."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.source = QLineEdit(source, self)
        self.source.setObjectName("catalog-source")
        self.source.setPlaceholderText(self.tr("A file, or an address such as https://…/checkpoints.md"))
        self.source.textChanged.connect(self._suggest_name)
        browse = QPushButton(self.tr("Choose File…"), self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(browse)
        self.name = QLineEdit(self)
        self.name.setObjectName("catalog-name")
        form = QFormLayout()
        form.addRow(self.tr("List:"), row)
        form.addRow(self.tr("Name:"), self.name)
        self.report = QPlainTextEdit(self)
        self.report.setObjectName("catalog-report")
        self.report.setReadOnly(True)
        self.status = QLabel(self)
        self.status.setObjectName("catalog-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.import_button = self.buttons.addButton(self.tr("Import"), QDialogButtonBox.AcceptRole)
        self.import_button.setObjectName("import-button")
        self.import_button.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(640, 400)
        self._suggest_name(source)

    def _browse(self) -> None:
        chosen = choose_file(
            self, self.tr("Checkpoint list to import"), self.source.text() or str(Path.home())
        )
        if chosen:
            self.source.setText(chosen)

    def _suggest_name(self, text: str) -> None:
        self.name.setPlaceholderText(zoo.default_name(text.strip()) if text.strip() else "")

    def start(self) -> bool:
        source = self.source.text().strip()
        if not source:
            self.status.setText(self.tr("Give a file or an address to import."))
            return False
        if self.jobs.running:
            return False
        name = self.name.text().strip() or None
        disabled = list(self.store.settings.disabled_catalogs)
        catalog = self.store.catalog

        def work():
            try:
                result = zoo.import_document(source, name=name, disabled=disabled)
            except zoo.ZooError as exc:
                return None, str(exc), []
            urls = {e.url for e in catalog}
            shared = [e["id"] for e in result.catalog["entries"] if e["url"] in urls]
            return result, "", shared

        self.status.setText(self.tr("Reading {source}…").format(source=display_url(source)))
        self.import_button.setEnabled(False)
        self.jobs.run("catalog-import", work, self._done)
        return True

    def import_report(self, result: zoo.Imported, shared: list[str]) -> str:
        """What an import made and what it left out, for the user."""
        entries = result.catalog["entries"]
        groups = len({tuple(e["group"]) for e in entries})
        lines = [
            self.tr("Imported %n checkpoint(s)", None, len(entries))
            + self.tr(" in %n group(s)", None, groups)
            + self.tr(" as {name!r}: {path}").format(name=result.name, path=result.path)
        ]
        if shared:
            lines.append(
                self.tr("Sharing a file with another catalog's entry (downloaded once): {ids}").format(
                    ids=", ".join(shared)
                )
            )
        if result.skipped:
            lines.append(
                self.tr("Left out %n link(s) that are not checkpoint files:", None, len(result.skipped))
            )
            lines += [f"  {display_url(url)}: {why}" for url, why in result.skipped]
        return "\n".join(lines)

    def _done(self, job: JobResult) -> None:
        self.import_button.setEnabled(True)
        if not job.ok:
            self.status.setText(self.tr("Nothing imported: {reason}").format(reason=job.error))
            return
        result, problem, shared = job.value
        if result is None:
            self.status.setText(self.tr("Nothing imported: {reason}").format(reason=problem))
            return
        self.report.setPlainText(self.import_report(result, shared))
        self.status.setText(
            self.tr("The catalog {name!r} is in use the next time ofa-manager opens.").format(
                name=result.name
            )
        )
        self.imported.emit(result.name)


class CatalogsPage(QWidget):
    """The catalogs in use or available: the built-in one (always on) and each imported one, with a box
    to enable it; Add… and Remove… act at once (Remove asks first), enabling waits for OK.

    Signals:
        changed(): a catalog was added or removed
    """

    changed = Signal()

    def __init__(
        self,
        store,
        bridge,
        ask: Callable[..., str | None],
        disabled: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("catalogs-page")
        self.store = store
        self.bridge = bridge
        self.ask = ask
        self._disabled = set(disabled)
        self.list = QTreeWidget(self)
        self.list.setObjectName("catalogs")
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setHeaderLabels(
            [self.tr("Catalog"), self.tr("Title"), self.tr("Entries"), self.tr("Source")]
        )
        header = self.list.header()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(COL_ENTRIES, QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.add_button = QPushButton(self.tr("Add…"), self)
        self.add_button.setObjectName("add-catalog-button")
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton(self.tr("Remove…"), self)
        self.remove_button.setObjectName("remove-catalog-button")
        self.remove_button.clicked.connect(self.remove_current)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        note = QLabel(
            self.tr(
                "Tick a catalog to use it. Checkpoints listed in several catalogs are one file. Changes "
                "show in the tree the next time ofa-manager opens; downloaded files stay where they are."
            ),
            self,
        )
        note.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setObjectName("catalogs-message")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(note)
        self.add_dialog: AddCatalogDialog | None = None
        self.reload()

    def reload(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for row in zoo.list_catalogs(sorted(self._disabled)):
            source = row.get("source", "")
            builtin = row["name"] == "built-in"
            shown = display_path(source) if source.startswith("/") else source
            shown = self.tr("built in") if builtin else shown
            title = catalog_text(row.get("title", ""))
            item = QTreeWidgetItem([row["name"], title, str(row.get("entries", 0)), shown])
            item.setData(COL_NAME, Qt.UserRole, "" if builtin else row["name"])
            item.setCheckState(COL_NAME, Qt.Checked if row["enabled"] else Qt.Unchecked)
            item.setTextAlignment(COL_ENTRIES, Qt.AlignRight | Qt.AlignVCenter)
            if builtin:
                item.setFlags(item.flags() & ~Qt.ItemIsUserCheckable)
                item.setToolTip(COL_NAME, self.tr("The built-in catalog is always used"))
            if row.get("problem"):
                item.setToolTip(COL_TITLE, row["problem"])
                item.setText(COL_TITLE, self.tr("(cannot be read)"))
            item.setToolTip(COL_SOURCE, shown if builtin else source)
            self.list.addTopLevelItem(item)
        self.list.blockSignals(False)
        self._update_buttons()

    def names(self) -> list[str]:
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [item.text(COL_NAME) for item in items]

    def item(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self.list.topLevelItemCount()):
            if self.list.topLevelItem(i).text(COL_NAME) == name:
                return self.list.topLevelItem(i)
        return None

    def disabled(self) -> list[str]:
        """The imported catalogs left unticked (those removed meanwhile are forgotten)."""
        present = set(self.names())
        return sorted(name for name in self._disabled if name in present)

    def set_enabled(self, name: str, enabled: bool) -> None:
        item = self.item(name)
        if item is not None and item.data(COL_NAME, Qt.UserRole):
            item.setCheckState(COL_NAME, Qt.Checked if enabled else Qt.Unchecked)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.data(COL_NAME, Qt.UserRole)
        if column != COL_NAME or not name:
            return
        if item.checkState(COL_NAME) == Qt.Checked:
            self._disabled.discard(name)
        else:
            self._disabled.add(name)

    def _update_buttons(self) -> None:
        current = self.list.currentItem()
        self.remove_button.setEnabled(current is not None and bool(current.data(COL_NAME, Qt.UserRole)))

    def add(self) -> AddCatalogDialog:
        """Open "Add Catalog" (returned: tests answer it as a user would); the list follows each import."""
        dialog = AddCatalogDialog(self.store, self.bridge, self)
        dialog.imported.connect(self._added)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self.add_dialog = dialog
        return dialog

    def _added(self, name: str) -> None:
        self.reload()
        self.changed.emit()

    def remove_current(self) -> bool:
        current = self.list.currentItem()
        name = current.data(COL_NAME, Qt.UserRole) if current is not None else ""
        if not name:
            return False
        path = zoo.catalog_path(name)
        remove = self.tr("Remove")
        answer = self.ask(
            self.tr("Remove the catalog?"),
            self.tr(
                "Remove the catalog {name!r} ({path})?\n\nIts checkpoints leave the tree; files already "
                "downloaded stay in the models folder. It can be imported again."
            ).format(name=name, path=path),
            [remove, self.tr("Cancel")],
            warning=True,
            default=1,
        )
        if answer != remove:
            return False
        try:
            zoo.remove_catalog(name)
        except (zoo.ZooError, OSError) as exc:
            self.message.setText(self.tr("Not removed: {reason}").format(reason=exc))
            return False
        self._disabled.discard(name)
        self.message.setText(self.tr("Removed {name!r}; downloaded files stay.").format(name=name))
        self.reload()
        self.changed.emit()
        return True

    def select(self, name: str) -> None:
        item = self.item(name)
        if item is not None:
            self.list.setCurrentItem(item)
