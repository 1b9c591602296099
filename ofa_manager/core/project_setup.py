"""What "apply" does for a project: from a scan's report, the links to make, the checkpoints to
download and the archives to unpack before them; from chosen entries, links into one folder. Plain
Python, so the command line and the window follow one rule: only catalog and archive-member rows not
linked yet are acted on, a user's file is never replaced, and a link that cannot be made is said for that
file while the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ofa_manager.core.catalog import Catalog, Checkpoint
from ofa_manager.core.library import Library
from ofa_manager.core.linking import Expected, LinkNameError, LinkResult, Outcome, link, link_member


@dataclass(frozen=True)
class LinkRequest:
    """One link to make: ``folder/name`` standing for ``entry``'s file, or for ``member`` of its unpacked
    archive (core.archives)."""

    entry: Checkpoint
    folder: Path
    name: str
    member: str | None = None

    @property
    def path(self) -> Path:
        return self.folder / self.name


@dataclass
class ApplyPlan:
    """The links a scan report asks for."""

    links: list[LinkRequest] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.links


def plan_apply(expected: Iterable[Expected], catalog: Catalog) -> ApplyPlan:
    """The rows satisfied by a catalog entry (or a member of an archive entry) and not linked yet;
    present, produced and unknown rows are left alone (a user's file is never replaced)."""
    plan = ApplyPlan()
    for row in expected:
        if row.kind not in ("catalog", "member") or row.linked or row.entry_id not in catalog:
            continue
        if row.entry_id is None or (row.kind == "member" and row.member is None):
            continue
        member = row.member if row.kind == "member" else None
        plan.links.append(LinkRequest(catalog.get(row.entry_id), row.path.parent, row.path.name, member))
    return plan


def requests_for(
    entries: Iterable[Checkpoint], folder: Path | str, name: str | None = None
) -> list[LinkRequest]:
    """Each entry into one folder under its file name; ``name`` renames the link of a single entry."""
    chosen = list(entries)
    if name is not None and len(chosen) != 1:
        raise ValueError("a link name goes with one checkpoint")
    folder = Path(folder).expanduser()
    return [LinkRequest(entry, folder, name or entry.filename) for entry in chosen]


def to_download(library: Library, requests: Iterable[LinkRequest]) -> list[Checkpoint]:
    """The requests' entries whose file is neither in the models folder nor in a shared store (for a
    member: unless its archive is unpacked already), one each."""
    from ofa_manager.core import archive_records

    missing: dict[str, Checkpoint] = {}
    for request in requests:
        entry = request.entry
        if entry.id in missing or library.local_or_store_path(entry) is not None:
            continue
        if request.member is not None and archive_records.unpacked_folder(library, entry) is not None:
            continue
        missing[entry.id] = entry
    return list(missing.values())


def to_unpack(library: Library, requests: Iterable[LinkRequest]) -> list[Checkpoint]:
    """The archive entries whose members are asked for and that are not unpacked yet, one each."""
    from ofa_manager.core import archive_records

    wanted: dict[str, Checkpoint] = {}
    for request in requests:
        if request.member is not None and archive_records.unpacked_folder(library, request.entry) is None:
            wanted.setdefault(request.entry.id, request.entry)
    return list(wanted.values())


def make_links(library: Library, requests: Iterable[LinkRequest], mode: str) -> list[LinkResult]:
    """Make each link; each result says what happened (refused, not downloaded, failed) and the rest go on."""
    results = []
    for request in requests:
        try:
            if request.member is not None:
                results.append(
                    link_member(library, request.entry, request.member, request.folder, request.name, mode)
                )
            else:
                results.append(link(library, request.entry, request.folder, request.name, mode))
        except LinkNameError as exc:
            results.append(LinkResult(request.entry.id, request.path, None, Outcome.FAILED, mode, str(exc)))
    return results
