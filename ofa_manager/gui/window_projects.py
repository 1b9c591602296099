"""The main window's project, catalog, lock-file and archive views, opened from its actions (a part of
MainWindow; the views themselves are in gui/scan_report.py, project_dialog.py, catalogs_page.py,
lock_export.py and unpack_run.py). Qt's ``self.tr()`` looks strings up under every class of the object's
MRO, so they translate here too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt


class WindowProjects:
    """Check a project folder, link into one, add a catalog, export a lock file, unpack an archive."""

    def _asking(self):
        """The window's questions and Download as the project views get them (looked up when called)."""
        return (lambda *args, **options: self.ask(*args, **options)), (lambda entries: self.download(entries))

    def _open(self, dialog):
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def check_project_folder(self, project: str = ""):
        """Show the scan report of a project folder (returned: tests answer it as a user would)."""
        from ofa_manager.gui.scan_report import ScanReportDialog

        dialog = ScanReportDialog(self.store, self.workspace.bridge, *self._asking(), self, project=project)
        self._open(dialog)
        if project:
            dialog.scan()
        else:
            dialog._browse()
        return dialog

    def link_selected(self):
        """Ask where and how to link the selected checkpoints, then link them (returns the dialog)."""
        from ofa_manager.gui.project_dialog import LinkDialog

        entries = self.selected_entries()
        if not entries:
            return None
        dialog = LinkDialog(self.store, self.workspace.bridge, entries, *self._asking(), self)
        return self._open(dialog)

    def add_catalog(self):
        """Import a checkpoint list as a catalog (returns the dialog)."""
        from ofa_manager.gui.catalogs_page import AddCatalogDialog

        dialog = AddCatalogDialog(self.store, self.workspace.bridge, self)
        dialog.imported.connect(self._catalogs_changed)
        return self._open(dialog)

    def _catalogs_changed(self, *args) -> None:
        self.show_message(self.tr("The catalogs change in the tree the next time ofa-manager opens"))

    def export_lock_file(self):
        """Pin the selected (or all) downloaded checkpoints in a lock file; returns the export."""
        from ofa_manager.gui.lock_export import LockExport

        export = LockExport(self.store, self.workspace.bridge, self, self._asking()[0], self.show_message)
        export.start(self.selected_entries())
        return export

    def unpack_selected(self):
        """Unpack the selected downloaded archive after asking (returns the run: tests follow it)."""
        from ofa_manager.gui.unpack_run import UnpackRun

        entries = self.selected_entries()
        if len(entries) != 1:
            return None
        run = UnpackRun(self.store, self.workspace.bridge, self, self._asking()[0], self.show_message)
        run.start(entries[0])
        return run
