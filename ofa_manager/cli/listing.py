"""``list`` and ``du``: what the catalog holds and what the models folder keeps on disk."""

from __future__ import annotations

import json
from pathlib import Path

from ofa_manager.cli.common import EXIT_OK, _catalog, _inspections, _library, _summary
from ofa_manager.core import units
from ofa_manager.core.catalog import (
    display_url,
)
from ofa_manager.core.describe import verified_by


def cmd_list(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    statuses = library.statuses()
    inspections = _inspections(catalog, library, statuses)
    if args.json:
        rows = []
        for entry in catalog:
            status = statuses[entry.id]
            found = inspections[entry.id]
            rows.append(
                {
                    "id": entry.id,
                    "title": entry.title,
                    "group": list(entry.group),
                    "url": display_url(entry.url),
                    "state": status.state.value,
                    "path": str(status.path),
                    "bytes": status.bytes,
                    "size": status.size,
                    "shared_with": [o.id for o in catalog.sharing(entry)],
                    "base": entry.base,
                    "params": entry.params,
                    "sha256": entry.sha256,
                    "verified": verified_by(status) is not None,
                    "verified_by": status.verified_by,
                    "differs": status.differs,
                    "rejected": (
                        {k: status.rejected.get(k) for k in ("check", "reason", "expected", "found", "size")}
                        if status.rejected is not None
                        else None
                    ),
                    "reason": status.reason or None,
                    "filename": status.path.name,
                    "mirrors": [display_url(m) for m in entry.mirrors],
                    "store_path": str(status.store_path) if status.store_path else None,
                    "expect": entry.expect,
                    "contents": found.summary if found else None,
                    "mismatch": found.mismatch if found else None,
                }
            )
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(_summary(catalog, library, statuses, inspections))
    shared = [e for e in catalog if catalog.sharing(e)]
    if shared:
        names = {library.path(e).name for e in shared}
        print(
            f"\n{len(shared)} entries share {len(names)} file(s) ({', '.join(sorted(names))}): "
            "downloaded once, kept once."
        )
    return EXIT_OK


def cmd_du(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    usage = library.disk_usage()
    if args.json:
        print(
            json.dumps(
                {
                    "root": str(library.root),
                    "downloaded": usage.downloaded,
                    "partial": usage.partial,
                    "other": usage.other,
                    "free": usage.free,
                    "total": usage.total,
                    "in_stores": usage.in_stores,
                    "rejected": usage.rejected,
                    "entries": usage.per_entry,
                    "files": usage.per_file,
                },
                indent=2,
            )
        )
        return EXIT_OK
    print(f"models folder {library.root}")
    print(f"  checkpoints    {units.size(usage.downloaded):>12}")
    print(f"  partial files  {units.size(usage.partial):>12}")
    if usage.rejected:
        print(f"  rejected       {units.size(usage.rejected):>12}  (failed their check; rm --rejected ID)")
    print(f"  other data     {units.size(usage.other):>12}")
    print(f"  free on volume {units.size(usage.free):>12}  (of {units.size(usage.total)})")
    if usage.in_stores:
        stores = units.size(usage.in_stores)
        print(f"  in shared stores {stores:>10}  (read from the stores, not counted in this folder)")
    used = sorted(((size, path) for path, size in usage.per_file.items() if size), reverse=True)
    everything = sum(size for size, _ in used) or 1
    for size, path in used:
        print(f"  {units.size(size):>12}  {100 * size / everything:5.1f}%  {Path(path).name}")
    return EXIT_OK
