"""The settings dialog: models folder, download limits, mirror rules, tokens (keyring only), start-up."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ofa_manager.core import mirrors
from ofa_manager.core.settings import Settings
from ofa_manager.gui.i18n import system_language

MiB = 1024 * 1024


class _KeyringAnswer(QObject):
    """Carries one keyring call's answer from its thread to the GUI thread.

    Signals:
        checked(str, bool, list, str): why tokens cannot be used now ("" when they can), whether that is
            for good (no keyring at all), the hosts that have a token, a note to show
        written(dict, str, str): the tokens changed ({host: token, or None when removed}; empty when the
            keyring refused), the note to show, why the keyring refused ("" when it did not)
        stored(dict): the tokens changed, only when the keyring took the change
    """

    checked = Signal(str, bool, list, str)
    written = Signal(dict, str, str)
    stored = Signal(dict)


class SettingsDialog(QDialog):
    """Edits a copy of the settings; ``edited()`` gives the result, the caller saves and applies it.

    Tokens are different: they go straight to the system keyring (Store / Remove, or OK with a token
    typed in), never into the settings. The keyring is asked off the GUI thread (it may wait on D-Bus or
    on its own unlock prompt); ``on_tokens`` gets each change the keyring took, even one that finishes
    after the dialog has closed.
    """

    def __init__(
        self,
        settings: Settings,
        models_dir: Path,
        hosts: list[str],
        parent: QWidget | None = None,
        *,
        folder_note: str = "",
        on_tokens: Callable[[dict], None] | None = None,
        sources: list[str] | None = None,
        catalogs: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(560)
        self._settings = settings
        # Hosts whose token was stored (or removed: None) while the dialog was open.
        self.changed_tokens: dict[str, str | None] = {}
        self._on_tokens = on_tokens
        self._writing = False
        self._accept_when_written = False
        # The catalog's download addresses: the lab cache row offers their "scheme://host/" prefixes.
        self._sources = list(sources or [])
        tabs = QTabWidget(self)
        tabs.addTab(self._general_tab(models_dir, folder_note), self.tr("General"))
        tabs.addTab(self._downloads_tab(), self.tr("Downloads"))
        tabs.addTab(self._mirrors_tab(), self.tr("Mirrors"))
        tabs.addTab(self._tokens_tab(hosts), self.tr("Tokens"))
        # The catalogs page (gui/catalogs_page.py): its ticks become ``disabled_catalogs`` on OK.
        self.catalogs = catalogs
        if catalogs is not None:
            tabs.addTab(catalogs, self.tr("Catalogs"))
        self.tabs = tabs
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)

    # -- tabs -------------------------------------------------------------------------------------

    def _general_tab(self, models_dir: Path, note: str) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.folder = QLineEdit(str(models_dir), page)
        choose = QPushButton(self.tr("Choose…"), page)
        choose.clicked.connect(self._choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(choose)
        form.addRow(self.tr("Models folder:"), row)
        if note:
            hint = QLabel(note, page)
            hint.setWordWrap(True)
            form.addRow("", hint)
        self.resume_on_start = QCheckBox(self.tr("Resume unfinished downloads when ofa-manager starts"), page)
        self.resume_on_start.setToolTip(self.tr("Otherwise they come back paused"))
        self.resume_on_start.setChecked(self._settings.resume_on_start)
        form.addRow("", self.resume_on_start)
        self.notifications = QCheckBox(self.tr("Notify when a download finishes or fails"), page)
        self.notifications.setChecked(self._settings.notifications)
        form.addRow("", self.notifications)
        form.addRow(self.tr("Language:"), self._language_box(page))
        form.addRow(self._stores_box(page))
        return page

    def _language_box(self, page: QWidget) -> QWidget:
        """The window's language: each by its own name, so a reader finds theirs whatever is shown now."""
        from ofa_manager.gui.i18n import NATIVE_NAMES

        self.language = QComboBox(page)
        self.language.setObjectName("language")
        self.language.addItem(
            self.tr("As the system (%1)").replace("%1", NATIVE_NAMES[system_language()]), ""
        )
        for code, name in NATIVE_NAMES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(self._settings.language)))
        self.language.setToolTip(self.tr("Takes effect the next time ofa-manager starts"))
        return self.language

    def _stores_box(self, page: QWidget) -> QWidget:
        box = QGroupBox(self.tr("Shared stores"), page)
        layout = QVBoxLayout(box)
        intro = QLabel(
            self.tr(
                "Read-only folders of checkpoints that an administrator keeps (for example on NFS). A file "
                "there with the catalog's name and size counts as present and is used from there; "
                "ofa-manager never writes or deletes in them."
            ),
            box,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.stores = QListWidget(box)
        self.stores.setSelectionMode(QAbstractItemView.ExtendedSelection)
        for folder in self._settings.stores:
            self.stores.addItem(folder)
        layout.addWidget(self.stores)
        add = QPushButton(self.tr("Add folder…"), box)
        add.clicked.connect(self._choose_store)
        remove = QPushButton(self.tr("Remove"), box)
        remove.clicked.connect(self.remove_selected_stores)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addLayout(row)
        return box

    def _downloads_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        s = self._settings
        self.jobs = self._spin(page, 1, 8, s.jobs)
        form.addRow(self.tr("Parallel downloads:"), self.jobs)
        self.connections = self._spin(page, 1, 16, s.connections)
        form.addRow(self.tr("Connections per download:"), self.connections)
        self.limit = QDoubleSpinBox(page)
        self.limit.setRange(0.0, 100000.0)
        self.limit.setDecimals(1)
        self.limit.setSingleStep(0.5)
        self.limit.setSuffix(" MiB/s")
        self.limit.setSpecialValueText(self.tr("No limit"))
        self.limit.setValue(s.limit_rate / MiB)
        form.addRow(self.tr("Bandwidth limit (all downloads):"), self.limit)
        self.timeout = self._spin(page, 1, 3600, int(s.timeout))
        self.timeout.setSuffix(self.tr(" s", "seconds, after a number"))
        form.addRow(self.tr("Stall timeout:"), self.timeout)
        self.retries = self._spin(page, 0, 100, s.retries)
        form.addRow(self.tr("Retries per connection:"), self.retries)
        return page

    def _mirrors_tab(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        text = QLabel(
            self.tr(
                "URLs that start with the first text are fetched from the second instead "
                "(for example a lab mirror of the Beijing bucket). The first matching rule wins."
            ),
            page,
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.rules = QTableWidget(0, 2, page)
        self.rules.setHorizontalHeaderLabels([self.tr("URL starts with"), self.tr("Replace with")])
        self.rules.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.rules.setSelectionBehavior(QAbstractItemView.SelectRows)
        for prefix, replacement in self._settings.rewrite_rules:
            self._add_rule(prefix, replacement)
        add = QPushButton(self.tr("Add rule"), page)
        add.clicked.connect(lambda: self._add_rule("", ""))
        remove = QPushButton(self.tr("Remove rule"), page)
        remove.clicked.connect(self._remove_rule)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addWidget(self.rules)
        layout.addLayout(row)
        layout.addWidget(self._lab_cache_box(page))
        self.mirror_status = QLabel("", page)
        self.mirror_status.setWordWrap(True)
        layout.addWidget(self.mirror_status)
        return page

    def _lab_cache_box(self, page: QWidget) -> QWidget:
        box = QGroupBox(self.tr("Lab cache"), page)
        form = QFormLayout(box)
        intro = QLabel(
            self.tr(
                "A lab cache is one web server in the lab that keeps a copy of the bucket, so the bucket "
                "sends each file once for the whole lab (see “For a lab” in the README). Give its "
                "address to fetch the bucket's files through it; the command line does the same with "
                "“ofa-manager mirror add”."
            ),
            box,
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.cache_bucket = QComboBox(box)
        self.cache_bucket.setEditable(True)
        self.cache_bucket.addItems(mirrors.bucket_prefixes(self._sources))
        form.addRow(self.tr("Bucket:"), self.cache_bucket)
        self.cache_address = QLineEdit(box)
        self.cache_address.setPlaceholderText("http://cache.lab.example:8080/")
        form.addRow(self.tr("Cache address:"), self.cache_address)
        self.use_cache = QPushButton(self.tr("Use the lab cache"), box)
        self.use_cache.clicked.connect(self._use_lab_cache)
        form.addRow("", self.use_cache)
        return box

    def _table_rules(self) -> list[list[str]]:
        rules = []
        for row in range(self.rules.rowCount()):
            prefix = (self.rules.item(row, 0).text() if self.rules.item(row, 0) else "").strip()
            replacement = (self.rules.item(row, 1).text() if self.rules.item(row, 1) else "").strip()
            if prefix:
                rules.append([prefix, replacement])
        return rules

    def _use_lab_cache(self) -> None:
        prefix, address = self.cache_bucket.currentText().strip(), self.cache_address.text().strip()
        try:
            rules = mirrors.with_rule(self._table_rules(), prefix, address)
        except mirrors.MirrorRuleError as exc:
            self.mirror_status.setText(self.tr("Not added: {problem}.").format(problem=exc))
            return
        self.rules.setRowCount(0)
        for rule_prefix, replacement in rules:
            self._add_rule(rule_prefix, replacement)
        prefix, address = mirrors.checked_rule(prefix, address)
        self.mirror_status.setText(
            self.tr("Files from {bucket} will come through {cache} once you press OK.").format(
                bucket=prefix, cache=address
            )
        )

    def _mirror_problem(self) -> str:
        """Why a rule in the table cannot work ("" when all can)."""
        for prefix, replacement in self._table_rules():
            try:
                mirrors.checked_rule(prefix, replacement)
            except mirrors.MirrorRuleError as exc:
                return str(exc)
        return ""

    def _tokens_tab(self, hosts: list[str]) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        intro = QLabel(
            self.tr(
                "A token is sent only to its own host, as “Authorization: Bearer …”. Tokens are kept "
                "in the system keyring, never in the settings file."
            ),
            page,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.host = QComboBox(page)
        self.host.setEditable(True)
        self.host.addItems(hosts)
        form.addRow(self.tr("Host:"), self.host)
        self.token = QLineEdit(page)
        self.token.setEchoMode(QLineEdit.Password)
        self.token.setPlaceholderText(self.tr("paste the token here"))
        form.addRow(self.tr("Token:"), self.token)
        layout.addLayout(form)
        self.store_token = QPushButton(self.tr("Store token"), page)
        self.store_token.clicked.connect(self._store_token)
        self.remove_token = QPushButton(self.tr("Remove token"), page)
        self.remove_token.clicked.connect(self._remove_token)
        row = QHBoxLayout()
        row.addWidget(self.store_token)
        row.addWidget(self.remove_token)
        row.addStretch(1)
        layout.addLayout(row)
        self.token_status = QLabel(page)
        self.token_status.setWordWrap(True)
        layout.addWidget(self.token_status)
        layout.addStretch(1)
        self._hosts = hosts
        self.token_status.setText(self.tr("Looking in the system keyring…"))
        self._show_stored()
        return page

    @staticmethod
    def _spin(parent: QWidget, low: int, high: int, value: int) -> QSpinBox:
        spin = QSpinBox(parent)
        spin.setRange(low, high)
        spin.setValue(value)
        return spin

    # -- actions ----------------------------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Models folder"), self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _choose_store(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Shared store"), str(Path.home()))
        if folder:
            self.add_store(folder)

    def add_store(self, folder: str) -> None:
        """Add a shared store folder to the list (once)."""
        folder = folder.strip()
        if folder and folder not in self.store_folders():
            self.stores.addItem(folder)

    def remove_selected_stores(self) -> None:
        for item in self.stores.selectedItems():
            self.stores.takeItem(self.stores.row(item))

    def store_folders(self) -> list[str]:
        return [self.stores.item(row).text() for row in range(self.stores.count())]

    def _add_rule(self, prefix: str, replacement: str) -> None:
        row = self.rules.rowCount()
        self.rules.insertRow(row)
        self.rules.setItem(row, 0, QTableWidgetItem(prefix))
        self.rules.setItem(row, 1, QTableWidgetItem(replacement))

    def _remove_rule(self) -> None:
        for row in sorted({index.row() for index in self.rules.selectedIndexes()}, reverse=True):
            self.rules.removeRow(row)

    def _current_host(self) -> str:
        from ofa_manager.core.hosts import normalise_host

        return normalise_host(self.host.currentText())

    def _store_token(self) -> None:
        host, token = self._current_host(), self.token.text().strip()
        if not host or not token:
            self.token_status.setText(self.tr("Give a host and a token."))
            self._accept_when_written = False
            return
        self._write(host, token)

    def _remove_token(self) -> None:
        host = self._current_host()
        if not host:
            self.token_status.setText(self.tr("Give a host."))
            return
        self._write(host, None)

    def _write(self, host: str, token: str | None) -> None:
        """Store (or, for None, remove) the host's token in a thread; ``_written`` gets the outcome."""
        if self._writing:
            return
        self._writing = True
        for widget in (self.store_token, self.remove_token, self.ok_button):
            widget.setEnabled(False)
        if token is None:
            self.token_status.setText(self.tr("Removing the token from the system keyring…"))
        else:
            self.token_status.setText(
                self.tr("Storing the token in the system keyring (it may ask to be unlocked)…")
            )
        answer = _KeyringAnswer(QApplication.instance())
        if self._on_tokens is not None:
            answer.stored.connect(self._on_tokens)
        answer.written.connect(self._written)
        answer.written.connect(answer.deleteLater)
        texts = {
            "stored": self.tr("Token for {host} stored in the system keyring.").format(host=host),
            "removed": self.tr("Token for {host} removed.").format(host=host),
            "absent": self.tr("No token was stored for {host}.").format(host=host),
            "not stored": self.tr("Not stored: {problem}"),
            "not removed": self.tr("Not removed: {problem}"),
        }

        def write() -> None:
            from ofa_manager.core import credentials

            try:
                if token is None:
                    note = texts["removed"] if credentials.delete_token(host) else texts["absent"]
                else:
                    credentials.set_token(host, token)
                    note = texts["stored"]
            except credentials.KeyringUnavailable as exc:
                failed = texts["not removed" if token is None else "not stored"]
                answer.written.emit({}, "", failed.format(problem=exc))
                return
            answer.stored.emit({host: token})
            answer.written.emit({host: token}, note, "")

        threading.Thread(target=write, name="ofa-keyring", daemon=True).start()

    def _written(self, tokens: dict, note: str, problem: str) -> None:
        self._writing = False
        for widget in (self.store_token, self.remove_token, self.ok_button):
            widget.setEnabled(True)
        accept, self._accept_when_written = self._accept_when_written, False
        if problem:
            self.token_status.setText(problem)
            if accept:
                self.tabs.setCurrentIndex(3)
            return
        self.changed_tokens.update(tokens)
        if any(token is not None for token in tokens.values()):
            self.token.clear()
        self._show_stored(note)
        if accept:
            self.accept()

    def _show_stored(self, first: str = "") -> None:
        """Which hosts have a token: asked of the keyring off the GUI thread; the answer arrives through
        ``_keyring_answered``."""
        hosts = list(dict.fromkeys(h for h in [*self._hosts, self._current_host()] if h))
        # The answer travels through an object of its own, owned by the application: the dialog may be
        # closed and deleted while the keyring is still being asked, and Qt then simply drops the answer.
        answer = _KeyringAnswer(QApplication.instance())
        answer.checked.connect(self._keyring_answered)
        answer.checked.connect(answer.deleteLater)

        def look() -> None:
            from ofa_manager.core import credentials

            problem, stored = credentials.keyring_problem(), []
            if problem is None:
                for host in hosts:
                    try:
                        if credentials.get_token(host):
                            stored.append(host)
                    except credentials.KeyringUnavailable as exc:
                        problem = exc
                        break
            for_good = problem is not None and not isinstance(problem, credentials.KeyringLocked)
            answer.checked.emit(str(problem or ""), for_good, stored, first)

        threading.Thread(target=look, name="ofa-keyring", daemon=True).start()

    def _keyring_answered(self, problem: str, for_good: bool, stored: list, first: str) -> None:
        if self._writing:
            return  # the write under way has the last word (and looks again when it is done)
        if for_good:
            self.token_status.setText(self.tr("Tokens: {problem}.").format(problem=problem))
            for widget in (self.host, self.token, self.store_token, self.remove_token):
                widget.setEnabled(False)
            return
        lines = [first] if first else []
        if problem:
            # A locked keyring may be unlocked in the meantime: Store and Remove stay available.
            lines.append(self.tr("Tokens: {problem}.").format(problem=problem))
        elif stored:
            lines.append(self.tr("Tokens stored for: {hosts}").format(hosts=", ".join(stored)))
        else:
            lines.append(self.tr("No token stored for these hosts."))
        self.token_status.setText("\n".join(lines))

    def accept(self) -> None:
        problem = self._mirror_problem()
        if problem:
            # A rule that cannot work would break every download it matches: say so, keep the dialog.
            self.tabs.setCurrentIndex(self.tabs.indexOf(self.rules.parentWidget()))
            self.mirror_status.setText(self.tr("Mirror rule: {problem}.").format(problem=problem))
            return
        # A token typed in but not stored yet is what the user meant to keep: the dialog closes once the
        # keyring has taken it (and stays open, saying why, if it refuses).
        if self._writing:
            self._accept_when_written = True
            return
        if self.token.isEnabled() and self.token.text().strip():
            self._accept_when_written = True
            self._store_token()
            return
        super().accept()

    # -- result -----------------------------------------------------------------------------------

    def chosen_folder(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def edited(self) -> Settings:
        """A copy of the settings with the dialog's values (the models folder is the caller's to apply)."""
        rules = []
        for prefix, replacement in self._table_rules():
            try:
                rules.append(list(mirrors.checked_rule(prefix, replacement)))
            except mirrors.MirrorRuleError:
                rules.append([prefix, replacement])  # accept() refuses these; kept as typed otherwise
        disabled = self.catalogs.disabled() if self.catalogs is not None else self._settings.disabled_catalogs
        return dataclasses.replace(
            self._settings,
            disabled_catalogs=list(disabled),
            jobs=self.jobs.value(),
            connections=self.connections.value(),
            limit_rate=int(round(self.limit.value() * MiB)),
            timeout=float(self.timeout.value()),
            retries=self.retries.value(),
            rewrite_rules=rules,
            stores=self.store_folders(),
            resume_on_start=self.resume_on_start.isChecked(),
            notifications=self.notifications.isChecked(),
            language=self.language.currentData() or "",
        )
