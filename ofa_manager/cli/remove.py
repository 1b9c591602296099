"""``rm`` and ``accept``: deleting a file (or moving it to the trash), keeping a rejected one."""

from __future__ import annotations

import os
import sys

from ofa_manager.cli.common import EXIT_FAILED, EXIT_OK, UsageError, _catalog, _confirm, _library, _select
from ofa_manager.core import units
from ofa_manager.core.file_status import NotOursError, State, UnsafePathError
from ofa_manager.core.safe_files import describe_kind, file_size, path_kind


def cmd_rm(args) -> int:
    if args.rejected:
        if args.partial or args.trash or args.force:
            raise UsageError(
                "--rejected deletes only the rejected copies; not with --partial, --trash or --force"
            )
        return _rm_rejected(args)
    if args.trash:
        return _rm_to_trash(args)
    from ofa_manager.core.plan import DiskView, deletion_impact

    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids)
    targets = []
    refused: list[str] = []
    for entry in library.one_per_file(entries):
        path = library.path(entry)
        status = library.status(entry)
        part = library.part_path(entry)
        if args.partial:
            if path_kind(part) not in (None, "file"):
                refused.append(f"{describe_kind(path_kind(part))} is at {part}; ofa-manager leaves it alone")
                continue
            size = library.partial_bytes(entry)
            if path_kind(part) == "file" or path_kind(library.record_path(entry)) == "file":
                targets.append((entry, size, part))
        elif status.state is State.IN_STORE and not args.partial:
            refused.append(f"{entry.id}: in the shared store ({status.store_path}), which is read-only")
        elif status.state is State.FOREIGN:
            if path_kind(path) == "file" and args.force:
                print(f"{path} is not ours ({status.reason}); --force deletes it")
                targets.append((entry, file_size(path) + library.partial_bytes(entry), path))
            elif path_kind(path) == "file":
                refused.append(f"{path}: {status.reason} (--force deletes it)")
            else:
                where = path if path_kind(path) is not None else part
                refused.append(f"{where}: {status.reason}")
        elif status.state is not State.REMOTE:
            targets.append((entry, file_size(path) + library.partial_bytes(entry), path))
    for reason in refused:
        print(f"not deleted: {reason}", file=sys.stderr)
    from ofa_manager.cli.archives import _remove_unpacked, _unpacked_of

    folders = [] if args.partial or args.keep_unpacked else _unpacked_of(library, entries)
    if not targets and not folders:
        print("nothing to delete")
        return EXIT_FAILED if refused else EXIT_OK
    total = sum(size for _, size, _ in targets) + sum(size for _, _, size in folders)
    impacts = deletion_impact([e for e, _, _ in targets], catalog, library, DiskView(library))
    for (_, size, path), impact in zip(targets, impacts, strict=True):
        also = f" (also used by {', '.join(o.id for o in impact.sharing)})" if impact.sharing else ""
        print(f"{path} — {units.size(size)}{also}")
        for broken in [] if args.partial else impact.breaks:
            needing = ", ".join(d.id for d in broken.dependants)
            print(f"  without the backbone {broken.backbone.id}, these stop working: {needing}")
    for entry, folder, size in folders:
        keep = "--keep-unpacked keeps it"
        print(f"{folder}{os.sep} — {units.size(size)} unpacked from {entry.filename} ({keep})")
    if not args.yes:
        what = f"{len(targets)} file(s)" + (f" and {len(folders)} unpacked folder(s)" if folders else "")
        question = f"Delete {what}, freeing {units.size(total)}?"
        if not _confirm(question, "not on a terminal: add --yes to delete without asking"):
            print("nothing deleted")
            return EXIT_OK
    freed = deleted = 0
    failed = False
    for entry, _, _ in targets:
        try:
            freed += library.delete(entry, partial_only=args.partial, force=args.force)
            deleted += 1
        except (UnsafePathError, NotOursError) as exc:  # changed since it was listed
            failed = True
            print(f"not deleted: {exc}", file=sys.stderr)
    freed += _remove_unpacked(library, folders)
    print(f"deleted {deleted} file(s), freed {units.size(freed)}")
    return EXIT_FAILED if refused or failed else EXIT_OK


def _rm_rejected(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids)
    targets = [e for e in library.one_per_file(entries) if library.read_rejected(e) is not None]
    if not targets:
        print("no rejected download is kept for these checkpoints")
        return EXIT_OK
    for entry in targets:
        info = library.read_rejected(entry)
        print(f"{library.rejected_path(entry)} — {units.size(info['size'])} ({info.get('reason', '')})")
    if not args.yes:
        question = f"Delete {len(targets)} rejected file(s)?"
        if not _confirm(question, "not on a terminal: add --yes to delete without asking"):
            print("nothing deleted")
            return EXIT_OK
    freed = sum(library.delete_rejected(entry) for entry in targets)
    print(f"deleted {len(targets)} rejected file(s), freed {units.size(freed)}")
    return EXIT_OK


def cmd_accept(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids)
    failed = False
    for entry in library.one_per_file(entries):
        try:
            status = library.accept_rejected(entry)
        except (UnsafePathError, NotOursError) as exc:
            failed = True
            print(f"not accepted: {exc}", file=sys.stderr)
            continue
        reason = status.meta.get("rejected_reason") or "not verified"
        print(f"{entry.id}: kept anyway as {status.path} — differs from the catalog ({reason}); not verified")
    return EXIT_FAILED if failed else EXIT_OK


def _rm_to_trash(args) -> int:
    """``rm --trash``: the downloaded (or corrupt) files go to the desktop trash, as the window's Delete."""
    from filelock import Timeout

    from ofa_manager.core.trash import NoTrashError, move_to_trash, send2trash_function

    if args.partial:
        raise UsageError("--trash moves downloaded files; partial files are deleted with --partial alone")
    if args.force:
        raise UsageError("--trash moves only files ofa-manager downloaded; --force deletes permanently")
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids)
    targets, refused = [], []
    for entry in library.one_per_file(entries):
        status = library.status(entry)
        if status.state in (State.DOWNLOADED, State.CORRUPT):
            targets.append((entry, status.bytes))
        elif status.state is State.FOREIGN:
            refused.append(f"{status.path}: {status.reason} (rm --force deletes it permanently)")
        elif status.state is State.PARTIAL:
            refused.append(f"{entry.id} is not downloaded yet (rm --partial deletes its partial file)")
        else:
            print(f"{entry.id}: not downloaded; nothing to move to the trash")
    for reason in refused:
        print(f"not moved to the trash: {reason}", file=sys.stderr)
    if not targets:
        return EXIT_FAILED if refused else EXIT_OK
    for entry, size in targets:
        others = [o.id for o in catalog.sharing(entry)]
        also = f" (also used by {', '.join(others)})" if others else ""
        print(f"{library.path(entry)} — {units.size(size)}{also}")
    if not args.yes:
        question = f"Move {len(targets)} file(s) to the trash?"
        if not _confirm(question, "not on a terminal: add --yes to move to the trash without asking"):
            print("nothing moved")
            return EXIT_OK
    trashed = held = 0
    failed = False
    for entry, _ in targets:
        try:
            done = move_to_trash(library, entry, send2trash_function)
        except Timeout:  # filelock's Timeout is an OSError: it comes first
            reason = f"{entry.id}: another process is using the file"
        except (UnsafePathError, NotOursError, NoTrashError, FileNotFoundError) as exc:
            reason = str(exc)
        except OSError as exc:
            # The trash itself failed (its folder broken or full): this file stays, the next is tried.
            reason = f"{library.path(entry)}: the trash failed ({exc.strerror or exc})"
        else:
            trashed += 1
            held += done.size
            print(f"{done.path.name} moved to {done.where}")
            continue
        failed = True
        print(f"not moved to the trash: {reason}", file=sys.stderr)
    if trashed:
        print(
            f"moved {trashed} file(s) ({units.size(held)}) to the trash; "
            "they take their space until the trash is emptied"
        )
    return EXIT_FAILED if refused or failed else EXIT_OK
