"""``link``: the checkpoints a project names, linked from the models folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ofa_manager.cli.common import EXIT_FAILED, EXIT_OK, UsageError, _catalog, _library, _select
from ofa_manager.cli.download import cmd_download


def cmd_link(args) -> int:
    from ofa_manager.core import linking

    if args.scan is not None:
        if args.ids or args.into or args.name:
            raise UsageError("--scan reads the project's scripts: give no ids, --into or --as with it")
        return _link_scan(args)
    if args.apply:
        raise UsageError("--apply goes with --scan PROJECT")
    if not args.ids or not args.into:
        raise UsageError(
            "name the checkpoints and the folder: link ID... --into DIR (or link --scan PROJECT)"
        )
    if args.name is not None and len(args.ids) > 1:
        raise UsageError("--as names one link: give one ID with it")
    catalog = _catalog(args)
    entries = _select(catalog, args.ids)
    library = _library(args, catalog)
    try:
        results = [linking.link(library, e, Path(args.into), args.name, args.mode) for e in entries]
    except linking.LinkNameError as exc:
        raise UsageError(str(exc)) from None
    _print_links(results, args.json)
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def _print_links(results, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.as_json() for r in results], indent=2))
        return
    for result in results:
        text = f"{result.entry_id}: {result.path}: {result.outcome.value}"
        if result.target is not None and result.ok:
            text += f" → {result.target}"
        if result.reason and not result.ok:
            text += f" ({result.reason})"
        print(text, file=sys.stdout if result.ok else sys.stderr)


def _link_scan(args) -> int:
    from ofa_manager.core import linking

    catalog = _catalog(args)
    library = _library(args, catalog)
    project = Path(args.scan).expanduser()
    if not project.is_dir():
        raise UsageError(f"{args.scan}: not a folder")
    expected = linking.scan(project, catalog, library)
    results: list = []
    code = EXIT_OK
    if args.apply:
        wanted = {e.entry_id: e for e in expected if e.kind in ("catalog", "member") and not e.linked}
        missing = [i for i, e in wanted.items() if not e.downloaded and not e.unpacked]
        if missing:
            download_args = argparse.Namespace(**vars(args))
            download_args.ids, download_args.all, download_args.here = missing, False, False
            download_args.unpack = False
            for name in ("jobs", "connections", "limit_rate", "retries", "timeout"):
                setattr(download_args, name, None)
            code = cmd_download(download_args)
        to_unpack = [catalog.get(i) for i, e in wanted.items() if e.kind == "member" and not e.unpacked]
        if to_unpack:
            from ofa_manager.cli.archives import _unpack_downloaded

            code = max(code, _unpack_downloaded(library, to_unpack))
        for item in expected:
            if item.kind not in ("catalog", "member") or item.linked or item.entry_id is None:
                continue
            if item.kind == "member" and item.member is not None:
                entry = catalog.get(item.entry_id)
                into, name = item.path.parent, item.path.name
                result = linking.link_member(library, entry, item.member, into, name, args.mode)
            else:
                result = linking.link(
                    library, catalog.get(item.entry_id), item.path.parent, item.path.name, args.mode
                )
            results.append(result)
        expected = linking.scan(project, catalog, library)
        if any(not r.ok for r in results):
            code = EXIT_FAILED
    if args.json:
        report = {
            "project": str(project.resolve()),
            "expected": [e.as_json() for e in expected],
            "links": [r.as_json() for r in results],
        }
        print(json.dumps(report, indent=2))
        return code
    if args.apply:
        _print_links(results, False)
    print(_scan_report(project.resolve(), expected))
    return code


def _scan_report(project: Path, expected) -> str:
    def shown(path: Path) -> str:
        return str(path.relative_to(project)) if path.is_relative_to(project) else str(path)

    lines = [f"{project}: {len(expected)} checkpoint path(s) in its scripts"]
    for item in expected:
        if item.kind == "catalog":
            state = (
                "linked" if item.linked else "downloaded, not linked" if item.downloaded else "not downloaded"
            )
            what = f"catalog {item.entry_id} ({state})"
        elif item.kind == "member":
            state = (
                "linked"
                if item.linked
                else "unpacked, not linked"
                if item.unpacked
                else "downloaded, not unpacked"
                if item.downloaded
                else "not downloaded"
            )
            what = f"member {item.member} of catalog {item.entry_id} ({state})"
        elif item.kind == "present":
            what = "present" + (
                f" (not our link; {item.entry_id} is not linked there)" if item.entry_id else ""
            )
        elif item.kind == "produced":
            what = "produced by the project"
        else:
            what = f"unknown ({item.detail})"
        lines.append(f"  {shown(item.path)}: {what}  [{shown(item.script)}:{item.line}]")
    return "\n".join(lines)
