"""``catalog`` and ``lock``: the imported catalogs, and a project's pinned list of checkpoints."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ofa_manager.cli.common import EXIT_OK, UsageError, _catalog, _confirm, _library, _select
from ofa_manager.core import settings, units
from ofa_manager.core.catalog import (
    display_url,
)


def cmd_catalog(args) -> int:
    from ofa_manager.core import zoo

    action = args.catalog_action
    if action == "import":
        try:
            result = zoo.import_document(args.source, name=args.name, replace=args.replace, base=args.base)
        except zoo.ZooError as exc:
            raise UsageError(str(exc)) from None
        entries = result.catalog["entries"]
        groups = {tuple(e["group"]) for e in entries}
        print(
            f"imported {len(entries)} checkpoint(s) in {len(groups)} group(s) as {result.name!r}: "
            f"{result.path}"
        )
        catalog = _catalog(argparse.Namespace())
        shared = [e["id"] for e in entries if e["id"] in catalog and catalog.sharing(catalog.get(e["id"]))]
        if shared:
            print(f"sharing a file with another entry (downloaded once): {', '.join(shared)}")
        for url, why in result.skipped:
            print(f"left out {display_url(url)}: {why}")
        return EXIT_OK
    if action == "remove":
        path = zoo.catalog_path(_zoo_name(zoo, args.name))
        if not path.exists():
            raise UsageError(
                f"no imported catalog named {args.name!r}; `ofa-manager catalog list` shows them"
            )
        if not args.yes:
            question = f"Remove the catalog {args.name!r} ({path})?"
            if not _confirm(question, "not on a terminal: add --yes to remove without asking"):
                print("nothing removed")
                return EXIT_OK
        zoo.remove_catalog(args.name)
        print(f"removed {path} (downloaded files stay in the models folder)")
        return EXIT_OK
    if action in ("enable", "disable"):
        name = _zoo_name(zoo, args.name)
        if not zoo.catalog_path(name).exists():
            raise UsageError(f"no imported catalog named {name!r}; `ofa-manager catalog list` shows them")
        saved = settings.load()
        off = [n for n in saved.disabled_catalogs if n != name]
        saved.disabled_catalogs = off + [name] if action == "disable" else off
        settings.save(saved)
        print(f"{name}: {'disabled' if action == 'disable' else 'enabled'}")
        return EXIT_OK
    rows = zoo.list_catalogs()
    if getattr(args, "json", False):
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        problem = f"  ({row['problem']})" if row.get("problem") else ""
        print(f"{row['name']:<20} {row['entries']:>5} entries  {state:<8}  {row['source']}{problem}")
    return EXIT_OK


def _zoo_name(zoo, name: str) -> str:
    try:
        return zoo.check_name(name)
    except zoo.ZooError as exc:
        raise UsageError(str(exc)) from None


def cmd_lock(args) -> int:
    from ofa_manager.core.durable import atomic_write_json
    from ofa_manager.core.lockfile import LockError, build_lock

    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids) if args.ids else None
    try:
        lock = build_lock(library, catalog, entries)
    except LockError as exc:
        raise UsageError(str(exc)) from None
    if not lock["entries"]:
        raise UsageError(f"nothing is downloaded in {library.root}; a lock file would be empty")
    output = Path(args.output)
    atomic_write_json(output, lock)
    total = sum(row["size"] for row in lock["entries"])
    print(f"pinned {len(lock['entries'])} checkpoint(s), {units.size(total)}, in {output}")
    return EXIT_OK
