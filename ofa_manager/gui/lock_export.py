""" "Export lock file…": the chosen (or every) downloaded checkpoint pinned to its exact bytes, written
where the user says, in the background."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.library import State
from ofa_manager.gui.project_links import JobResult, Jobs

DEFAULT_NAME = "ofa.lock.json"


def choose_save_file(parent: QWidget, title: str, start: str) -> str:
    """Where the user saves the lock file ("" when cancelled); tests replace this, as a person would."""
    chosen, _ = QFileDialog.getSaveFileName(
        parent, title, start, QCoreApplication.translate("LockExport", "Lock files (*.json);;All files (*)")
    )
    return chosen


class LockExport(QObject):
    """One export: which checkpoints, where, then ``build_lock`` and the write on the disk workers; the
    result (or why there is none) goes to ``show`` and, for a problem, to ``ask`` as a warning."""

    def __init__(
        self,
        store,
        bridge,
        parent: QWidget,
        ask: Callable[..., str | None],
        show: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.widget = parent
        self.ask = ask
        self.show = show
        self.jobs = Jobs(bridge, self)
        self.done: JobResult | None = None

    def _downloaded(self, entry: Checkpoint) -> bool:
        status = self.store.status_of(entry)
        return status is not None and status.state is State.DOWNLOADED

    def start(self, selected: list[Checkpoint]) -> bool:
        """Pin ``selected`` (or, with none, every downloaded checkpoint); False when nothing was started."""
        ws = self.store
        if self.jobs.running:
            return False
        ok = self.tr("OK")
        chosen = (
            [e for e in selected if self._downloaded(e)]
            if selected
            else [e for e in ws.catalog if self._downloaded(e)]
        )
        if not chosen:
            text = (
                self.tr(
                    "None of the selected checkpoints is downloaded; a lock file pins only files that are "
                    "here."
                )
                if selected
                else self.tr("Nothing is downloaded in {folder}; a lock file would be empty.").format(
                    folder=ws.library.root
                )
            )
            self.ask(self.tr("Nothing to pin"), text, [ok], warning=True)
            return False
        left = [e for e in selected if not self._downloaded(e)]
        if left:
            pin = self.tr("Pin %n Downloaded", None, len(chosen))
            answer = self.ask(
                self.tr("Pin only what is downloaded?"),
                self.tr("Not downloaded, so not pinned: {names}.").format(
                    names=", ".join(e.title for e in left)
                )
                + "\n\n"
                + self.tr("Pin the %n downloaded checkpoint(s)?", None, len(chosen)),
                [pin, self.tr("Cancel")],
            )
            if answer != pin:
                return False
        start = str(Path.home() / DEFAULT_NAME)
        target = choose_save_file(self.widget, self.tr("Save the lock file"), start)
        if not target:
            return False
        output = Path(target).expanduser()
        catalog, library = ws.catalog, ws.library

        def work():
            from ofa_manager.core.durable import atomic_write_json
            from ofa_manager.core.lockfile import build_lock

            lock = build_lock(library, catalog, chosen)
            atomic_write_json(output, lock)
            return output, len(lock["entries"]), sum(row["size"] for row in lock["entries"])

        self.show(self.tr("Writing the lock file {path}…").format(path=output))
        self.jobs.run("lock-export", work, self._written)
        return True

    def _written(self, result: JobResult) -> None:
        self.done = result
        if not result.ok:
            text = self.tr("No lock file written: {reason}").format(reason=result.error)
            self.show(text)
            self.ask(self.tr("Lock file not written"), text, [self.tr("OK")], warning=True)
            return
        output, count, total = result.value
        self.show(
            self.tr("Pinned %n checkpoint(s), {size}, in {path}", None, count).format(
                size=units.size(total), path=output
            )
        )
