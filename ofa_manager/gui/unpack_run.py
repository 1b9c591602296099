""" "Unpack" for a downloaded zip entry: what it holds and how much space it needs, asked first; then the
archive verified and unpacked into the folder beside it on a disk worker (core.archives)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.gui.project_links import JobResult, Jobs


class UnpackRun(QObject):
    """One unpack: the plan read in the background, the question, the unpack, and what came of it
    (to ``show``, and to ``ask`` as a warning when nothing was unpacked)."""

    def __init__(
        self,
        store,
        bridge,
        parent: QObject,
        ask: Callable[..., str | None],
        show: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.ask = ask
        self.show = show
        self.jobs = Jobs(bridge, self)
        self.done: JobResult | None = None
        self.entry: Checkpoint | None = None

    def start(self, entry: Checkpoint) -> bool:
        from ofa_manager.core import archive_records

        if self.jobs.running:
            return False
        self.entry = entry
        library = self.store.library
        self.show(self.tr("Reading what {name} holds…").format(name=entry.filename))
        self.jobs.run("unpack-plan", lambda: archive_records.plan_unpack(library, entry), self._planned)
        return True

    def _planned(self, result: JobResult) -> None:
        from ofa_manager.core import archives  # unpack

        entry = self.entry
        ok = self.tr("OK")
        if not result.ok or result.value.problem:
            why = result.error if not result.ok else result.value.problem
            text = self.tr("{name} is not unpacked: {why}").format(name=entry.filename, why=why)
            self.show(text)
            self.done = JobResult(False, error=why)
            self.ask(self.tr("Not unpacked"), text, [ok], warning=True)
            return
        plan = result.value
        if plan.unpacked:
            self.show(
                self.tr("{name} is unpacked already in {folder}").format(
                    name=entry.filename, folder=plan.folder
                )
            )
            self.done = JobResult(True, None)
            return
        names = [m.name for m in plan.members]
        shown = "\n".join(f"• {n}" for n in names[:12]) + ("\n…" if len(names) > 12 else "")
        unpack = self.tr("Unpack")
        answer = self.ask(
            self.tr("Unpack the archive?"),
            self.tr("Unpack %n file(s) from {name} into {folder}?", None, len(names)).format(
                name=entry.filename, folder=plan.folder
            )
            + "\n\n"
            + shown
            + "\n\n"
            + self.tr("{size} in all; {free} free. The archive is checked against its sha256 first.").format(
                size=units.size(plan.size), free=units.size(plan.free)
            ),
            [unpack, self.tr("Cancel")],
        )
        if answer != unpack:
            self.show(self.tr("Nothing unpacked"))
            self.done = JobResult(False, error="cancelled")
            return
        library = self.store.library
        self.show(self.tr("Unpacking {name}…").format(name=entry.filename))
        self.jobs.run("unpack", lambda: archives.unpack(library, entry), self._unpacked)

    def _unpacked(self, result: JobResult) -> None:
        entry = self.entry
        self.done = result
        if result.ok and result.value.ok:
            value = result.value
            self.show(
                self.tr(
                    "Unpacked %n file(s) of {name} ({size}) into {folder}", None, len(value.members)
                ).format(name=entry.filename, size=units.size(value.size), folder=value.folder)
            )
            self.store.request_scan()
            return
        why = result.error if not result.ok else result.value.reason
        text = self.tr("{name} is not unpacked: {why}").format(name=entry.filename, why=why)
        self.show(text)
        self.ask(self.tr("Not unpacked"), text, [self.tr("OK")], warning=True)
