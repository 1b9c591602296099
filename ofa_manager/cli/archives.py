"""``unpack``, and what ``download --unpack``, ``verify``, ``rm`` and ``link --scan --apply`` do with archives
(the rules are in core.archives, core.archive_records and core.archive_checks)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ofa_manager.cli.common import EXIT_FAILED, EXIT_OK, UsageError, _catalog, _library, _select
from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library


def cmd_unpack(args) -> int:
    from ofa_manager.core import archive_records

    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids)
    others = [e.id for e in entries if not archive_records.is_archive(e)]
    if others:
        raise UsageError(f"{', '.join(others)}: not a .zip archive; there is nothing to unpack")
    return _unpack_entries(library, library.one_per_file(entries), again=args.again, as_json=args.json)


def _unpack_downloaded(library: Library, entries: list[Checkpoint]) -> int:
    """``download --unpack`` and ``link --scan --apply``: unpack the archives among ``entries``."""
    from ofa_manager.core import archive_records

    chosen = [e for e in library.one_per_file(entries) if archive_records.is_archive(e)]
    return _unpack_entries(library, chosen) if chosen else EXIT_OK


def _unpack_entries(library: Library, entries: list[Checkpoint], *, again=False, as_json=False) -> int:
    from ofa_manager.core import archives
    from ofa_manager.core.archives import Outcome

    results = []
    for entry in entries:
        progress = _UnpackProgress(sys.stderr)
        try:
            result = archives.unpack(library, entry, progress=progress, again=again)
        except KeyboardInterrupt:
            progress.close()
            print(f"\n{entry.id}: stopped; nothing half-unpacked is left", file=sys.stderr)
            return 130
        progress.close()
        results.append(result)
        if as_json:
            continue
        if result.outcome is Outcome.UNPACKED:
            count, size = len(result.members), units.size(result.size)
            print(f"{entry.id}: unpacked {count} file(s), {size}, into {result.folder}")
            for member in result.members[:20]:
                print(f"  {member.name}  {units.size(member.size)}")
            if len(result.members) > 20:
                print(f"  … and {len(result.members) - 20} more")
        elif result.outcome is Outcome.ALREADY:
            print(f"{entry.id}: already unpacked in {result.folder} ({len(result.members)} file(s))")
        else:
            hint = ""
            # Only where a download fetches it: a download leaves a file not ours at its name alone.
            fetched = (State.REMOTE, State.PARTIAL, State.CORRUPT)
            if result.outcome is Outcome.NOT_READY and library.status(entry).state in fetched:
                hint = f" (`ofa-manager download --unpack {entry.id}` fetches and unpacks it)"
            print(f"{entry.id}: not unpacked: {result.reason}{hint}", file=sys.stderr)
    if as_json:
        print(json.dumps([r.as_json() for r in results], indent=2))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


class _UnpackProgress:
    """An unpack's progress on stderr: a tqdm bar per phase on a terminal, nothing otherwise."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self._bar = None
        self._phase = None

    def __call__(self, phase, done: int, total: int) -> None:
        if not self.stream.isatty():
            return
        if phase is not self._phase:
            self.close()
            from tqdm import tqdm

            self._phase = phase
            self._bar = tqdm(
                total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=phase.value, file=self.stream
            )
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _verify_unpacked(library: Library, entries: list[Checkpoint]) -> int:
    """``verify``: each unpacked folder read again against its record; the number found damaged."""
    from ofa_manager.core import archives

    damaged = 0
    for entry in library.one_per_file(entries):
        check = archives.check_unpacked(library, entry)
        if check is None:
            continue
        if check.ok:
            print(f"{entry.id}: unpacked folder ok ({check.folder}, {check.checked} file(s), CRC-32 checked)")
        else:
            damaged += 1
            what = [
                f"{label}: {', '.join(names)}"
                for label, names in (("changed", check.changed), ("missing", check.missing))
                if names
            ]
            print(
                f"{entry.id}: unpacked folder DAMAGED ({check.folder}): {'; '.join(what)} "
                f"(`ofa-manager unpack --again {entry.id}` unpacks it anew)"
            )
        if check.extra:
            print(f"  not from the archive, left alone: {', '.join(check.extra)}")
    return damaged


def _unpacked_of(library: Library, entries: list[Checkpoint]) -> list[tuple[Checkpoint, Path, int]]:
    from ofa_manager.core.archive_records import unpacked_of

    return unpacked_of(library, entries)


def _remove_unpacked(library: Library, folders: list[tuple[Checkpoint, Path, int]]) -> int:
    from ofa_manager.core import archives

    freed = 0
    for entry, folder, _ in folders:
        gone, left = archives.remove_unpacked(library, entry)
        freed += gone
        if left:
            print(f"{folder}: kept, it holds files not from the archive: {', '.join(left)}")
        else:
            print(f"{entry.id}: unpacked folder {folder} deleted")
    return freed
