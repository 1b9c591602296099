"""Links into project folders from the window: background jobs, waiting for downloads, and the link run
that both "Link into project folder…" and a scan report's Apply use."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal

from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint, redact_text
from ofa_manager.core.linking import LinkResult, Outcome
from ofa_manager.core.project_setup import LinkRequest, make_links, to_download, to_unpack
from ofa_manager.core.states import ItemState

_numbers = itertools.count(1)


@dataclass
class JobResult:
    """What a background job gave back: its value, or why it failed (never a traceback)."""

    ok: bool
    value: object = None
    error: str = ""


class Jobs(QObject):
    """Runs work on the bridge's disk workers (never in the GUI thread); each job's ``JobResult`` comes back
    to its own callback in the GUI thread. Callbacks of a Jobs whose owner is gone are never called."""

    def __init__(self, bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._callbacks: dict[int, Callable[[JobResult], None]] = {}

    @property
    def running(self) -> bool:
        return bool(self._callbacks)

    def run(self, kind: str, work: Callable[[], object], done: Callable[[JobResult], None]) -> None:
        """``kind`` names the work in a failure's reason; ``work`` captures its inputs when it is made."""
        number = next(_numbers)
        self._callbacks[number] = done

        def guarded(task) -> JobResult:
            try:
                return JobResult(True, work())
            except Exception as exc:  # said to the user; a worker never dies silently
                return JobResult(False, error=redact_text(str(exc)) or type(exc).__name__)

        self.bridge.submit(
            guarded,
            lambda result: self._done(number, result),
            lambda reason: self._done(number, JobResult(False, error=f"{kind}: {reason}")),
        )

    def _done(self, number: int, result: JobResult) -> None:
        if not shiboken6.isValid(self):  # the dialog that asked was closed meanwhile
            return
        callback = self._callbacks.pop(number, None)
        if callback is not None:
            callback(result)


class DownloadWaiter(QObject):
    """Follows the downloads of some checkpoints until each one's file is here, or its download failed
    or was taken off the list.

    Signals:
        finished(list, list): ids whose file is here; (id, why) pairs of those that did not come
        progressed(int, int): how many have finished, of how many
    """

    finished = Signal(list, list)
    progressed = Signal(int, int)

    def __init__(self, store, entries: list[Checkpoint], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.entries = list(entries)
        self._seen: set[str] = set()  # ids whose download appeared in the list
        self._done = False
        for signal in (
            store.item_finished,
            store.items_inserted,
            store.items_removed,
            store.items_reset,
            store.entries_changed,
            store.statuses_changed,
        ):
            signal.connect(self.check)

    def check(self, *args) -> None:
        if self._done:
            return
        ws = self.store
        ready, failed, pending = [], [], 0
        for entry in self.entries:
            item = ws.item_for(entry)
            if ws.library.local_or_store_path(entry) is not None and (
                item is None or not item.state.unfinished
            ):
                ready.append(entry.id)
            elif item is not None and item.state is ItemState.FAILED:
                why = item.error or self.tr("the download failed")
                failed.append((entry.id, self.tr("its download did not finish ({why})").format(why=why)))
            elif item is not None:
                self._seen.add(entry.id)
                pending += 1
            elif entry.id in self._seen:
                failed.append((entry.id, self.tr("its download was taken off the list")))  # cancelled
            else:
                pending += 1  # asked for; not in the list yet
        self.progressed.emit(len(ready) + len(failed), len(self.entries))
        if pending == 0:
            self._done = True
            self.finished.emit(ready, failed)


def outcome_text(result: LinkResult) -> str:
    """One line for one link: what happened, in the user's words."""
    where = str(result.path)
    if result.outcome is Outcome.CREATED:
        return QCoreApplication.translate("ProjectLinks", "{path}: linked to {target}").format(
            path=where, target=result.target
        )
    if result.outcome is Outcome.REPLACED:
        return QCoreApplication.translate(
            "ProjectLinks", "{path}: our old link now points to {target}"
        ).format(path=where, target=result.target)
    if result.outcome is Outcome.ALREADY:
        return QCoreApplication.translate("ProjectLinks", "{path}: already linked").format(path=where)
    if result.outcome is Outcome.REFUSED:
        return QCoreApplication.translate("ProjectLinks", "{path}: left alone — {reason}").format(
            path=where, reason=result.reason
        )
    if result.outcome is Outcome.NOT_HERE:
        return QCoreApplication.translate(
            "ProjectLinks", "{path}: not linked — {id} is not downloaded"
        ).format(path=where, id=result.entry_id)
    return QCoreApplication.translate("ProjectLinks", "{path}: not linked — {reason}").format(
        path=where, reason=result.reason
    )


class ProjectLinks(QObject):
    """The link run's translation context for its counted words: ``ProjectLinks.tr`` (pyside6-lupdate
    reads plural forms from tr() calls only, not from QCoreApplication.translate)."""

    @staticmethod
    def tr(source: str, disambiguation: str | None = None, n: int = -1) -> str:
        """``source`` in the window's language, under this context, without an instance."""
        return QCoreApplication.translate("ProjectLinks", source, disambiguation, n)


def summary_text(results: list[LinkResult], not_downloaded: list[tuple[str, str]]) -> str:
    """One line for a run: links made, already there, not made, and checkpoints that did not come."""
    made = sum(1 for r in results if r.outcome in (Outcome.CREATED, Outcome.REPLACED))
    already = sum(1 for r in results if r.outcome is Outcome.ALREADY)
    left = sum(1 for r in results if not r.ok)
    parts = [ProjectLinks.tr("%n link(s) made", "", made)]
    if already:
        parts.append(ProjectLinks.tr("%n already there", "", already))
    if left:
        parts.append(ProjectLinks.tr("%n not made", "", left))
    if not_downloaded:
        parts.append(ProjectLinks.tr("%n checkpoint(s) not ready", "", len(not_downloaded)))
    return "; ".join(parts)


class LinkRun(QObject):
    """Makes a set of links: asks to download what is not here (showing what and how much), waits for
    those downloads, then links in the background. One run at a time per object.

    Signals:
        status(str): a line on what the run is doing
        finished(list, list): the LinkResults, and (id, why) of downloads that did not finish
        cancelled(): the user said no; nothing was done
    """

    status = Signal(str)
    finished = Signal(list, list)
    cancelled = Signal()

    def __init__(
        self,
        store,
        bridge,
        ask: Callable[..., str | None],
        download: Callable[[list[Checkpoint]], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.ask = ask
        self.download = download
        self.jobs = Jobs(bridge, self)
        self.waiter: DownloadWaiter | None = None
        self.running = False
        self._requests: list[LinkRequest] = []
        self._mode = "symlink"
        self._failed: list[tuple[str, str]] = []

    def start(self, requests: list[LinkRequest], mode: str) -> bool:
        """Begin; False when nothing was started (nothing to do, or the user said no)."""
        if self.running or not requests:
            return False
        ws = self.store
        missing = to_download(ws.library, requests)
        if missing:
            choice = self._ask_download(requests, missing)
            if choice is None:
                self.cancelled.emit()
                return False
            if choice == "download":
                if not self.download(missing):
                    self.cancelled.emit()
                    return False
            else:  # only the downloaded ones
                requests = [r for r in requests if r.entry.id not in {e.id for e in missing}]
                missing = []
                if not requests:
                    self.cancelled.emit()
                    return False
        self.running = True
        self._requests, self._mode, self._failed = list(requests), mode, []
        if missing:
            self.status.emit(self.tr("Waiting for %n download(s)…", None, len(missing)))
            self.waiter = DownloadWaiter(ws, missing, self)
            self.waiter.finished.connect(self._downloads_done)
            self.waiter.check()
        else:
            self._link()
        return True

    def may_stop(self) -> bool:
        """Whether the view making these links may close: yes, unless the run still waits for downloads
        and the user, asked, keeps waiting (the downloads go on either way; only the links wait)."""
        if not self.running or self.waiter is None or self.waiter._done:
            return True
        stop = self.tr("Stop Waiting")
        answer = self.ask(
            self.tr("Stop waiting for the downloads?"),
            self.tr(
                "The links are made when the downloads finish. Closing now leaves the downloads running, "
                "but makes no links; Apply or Link again later makes them without downloading twice."
            ),
            [stop, self.tr("Keep Waiting")],
            default=1,
        )
        return answer == stop

    def _ask_download(self, requests: list[LinkRequest], missing: list[Checkpoint]) -> str | None:
        ws = self.store
        sizes = [ws.size_of(e) for e in missing]
        known = sum(s for s in sizes if s is not None)
        unknown = sum(1 for s in sizes if s is None)
        lines = []
        for entry, size in zip(missing, sizes, strict=True):
            lines.append(
                f"• {entry.title} ({entry.filename}) — {units.size(size) if size is not None else '?'}"
            )
        total = units.size(known)
        if unknown:
            total = self.tr("{size} + %n of unknown size", None, unknown).format(size=total)
        text = (
            self.tr("%n checkpoint(s) to link are not downloaded:", None, len(missing))
            + "\n"
            + "\n".join(lines)
        )
        text += "\n\n" + self.tr("Download plan: {total}; {free} free in {folder}.").format(
            total=total, free=units.size(ws.free_bytes()), folder=ws.library.root
        )
        unpack = [e for e in missing if any(r.member is not None and r.entry.id == e.id for r in requests)]
        if unpack:
            names = ", ".join(e.filename for e in unpack)
            text += "\n" + self.tr(
                "The files the scripts read are inside {names}: it is unpacked after."
            ).format(names=names)
        text += "\n" + self.tr("Download them first, then make the links?")
        here = len({r.entry.id for r in requests} - {e.id for e in missing})
        choices = [self.tr("Download and Link")]
        if here:
            choices.append(self.tr("Link Only the %n Downloaded", None, here))
        choices.append(self.tr("Cancel"))
        answer = self.ask(self.tr("Download first?"), text, choices)
        if answer == choices[0]:
            return "download"
        if here and answer == choices[1]:
            return "only-here"
        return None

    def _downloads_done(self, ready: list[str], failed: list[tuple[str, str]]) -> None:
        self._failed = failed
        gone = {entry_id for entry_id, _ in failed}
        self._requests = [r for r in self._requests if r.entry.id not in gone]
        self._link()

    def _link(self) -> None:
        """Unpack the archives whose members are asked for (verified first, see core.archives), then link."""
        library = self.store.library
        archives_wanted = to_unpack(library, self._requests)
        if not archives_wanted:
            self._make_links()
            return
        self.status.emit(self.tr("Unpacking %n archive(s)…", None, len(archives_wanted)))

        def work() -> list[tuple[str, bool, str]]:
            from ofa_manager.core import archives

            done = []
            for entry in archives_wanted:
                result = archives.unpack(library, entry)
                done.append((entry.id, result.ok, result.reason))
            return done

        self.jobs.run("project-unpack", work, self._unpacked)

    def _unpacked(self, result: JobResult) -> None:
        if not result.ok:
            gone = {r.entry.id for r in self._requests if r.member is not None}
            why = self.tr("not unpacked: {why}").format(why=result.error)
            self._failed += [(i, why) for i in sorted(gone)]
        else:
            gone = {entry_id for entry_id, ok, _ in result.value if not ok}
            self._failed += [
                (entry_id, self.tr("not unpacked: {why}").format(why=why))
                for entry_id, ok, why in result.value
                if not ok
            ]
        self._requests = [r for r in self._requests if not (r.member is not None and r.entry.id in gone)]
        self.store.request_scan()
        self._make_links()

    def _make_links(self) -> None:
        requests, mode, library = self._requests, self._mode, self.store.library
        self.status.emit(self.tr("Making %n link(s)…", None, len(requests)))
        self.jobs.run("project-link", lambda: make_links(library, requests, mode), self._linked)

    def _linked(self, result: JobResult) -> None:
        self.running = False
        failed = self._failed
        if not result.ok:
            self.status.emit(self.tr("Linking failed: {reason}").format(reason=result.error))
            self.finished.emit([], failed)
            return
        self.finished.emit(result.value, failed)
