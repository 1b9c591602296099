"""What "apply" does for a project: from a scan's report, the links to make and the checkpoints to
download before them; from chosen entries, links into one folder. Plain Python, so the command line and
the window follow one rule: only catalog rows not linked yet are acted on, a user's file is never
replaced, and a link that cannot be made is said for that file while the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ofa_manager.core.catalog import Catalog, Checkpoint
from ofa_manager.core.library import Library
from ofa_manager.core.linking import Expected, LinkNameError, LinkResult, Outcome, link


@dataclass(frozen=True)
class LinkRequest:
    """One link to make: ``folder/name`` standing for ``entry``'s file."""

    entry: Checkpoint
    folder: Path
    name: str

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
    """The rows satisfied by a catalog entry and not linked yet; present, produced and unknown rows are
    left alone (a user's file is never replaced)."""
    plan = ApplyPlan()
    for row in expected:
        if row.kind != "catalog" or row.linked or row.entry_id is None or row.entry_id not in catalog:
            continue
        plan.links.append(LinkRequest(catalog.get(row.entry_id), row.path.parent, row.path.name))
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
    """The requests' entries whose file is neither in the models folder nor in a shared store, one each."""
    missing: dict[str, Checkpoint] = {}
    for request in requests:
        entry = request.entry
        if entry.id not in missing and library.local_or_store_path(entry) is None:
            missing[entry.id] = entry
    return list(missing.values())


def make_links(library: Library, requests: Iterable[LinkRequest], mode: str) -> list[LinkResult]:
    """Make each link; each result says what happened (refused, not downloaded, failed) and the rest go on."""
    results = []
    for request in requests:
        try:
            results.append(link(library, request.entry, request.folder, request.name, mode))
        except LinkNameError as exc:
            results.append(LinkResult(request.entry.id, request.path, None, Outcome.FAILED, mode, str(exc)))
    return results
