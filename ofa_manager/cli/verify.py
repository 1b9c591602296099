"""``verify`` and ``check``: the files against their fingerprints, the links against the server."""

from __future__ import annotations

import json

from ofa_manager.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    _catalog,
    _library,
    _say_claims,
    _select,
    _verified_words,
)
from ofa_manager.core import settings, units
from ofa_manager.core.catalog import (
    Checkpoint,
    display_url,
    redact_text,
)
from ofa_manager.core.file_status import NotOursError, State, UnsafePathError
from ofa_manager.core.safe_files import path_kind


def cmd_verify(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=True)
    statuses = library.statuses()
    bad = checked = not_ours = changed = 0
    for entry in library.one_per_file(entries):
        path = library.path(entry)
        before = statuses[entry.id]
        if before.state is State.IN_STORE:
            names = ", ".join([entry.id] + [o.id for o in catalog.sharing(entry)])
            store_path, digest, good = library.verify_store(entry)
            if store_path is None:  # removed or replaced since the folder was read: nothing to check
                print(
                    f"{names}: not checked: its copy in the shared store is gone or no longer the "
                    "catalog's size"
                )
                continue
            if digest is None:  # no verdict either way: counted apart, and the run fails
                changed += 1
                print(f"{names}: not checked: {store_path} in the shared store changed while it was hashed")
                continue
            checked += 1
            if good is False:
                bad += 1
                print(
                    f"{names}: CORRUPT in the shared store ({store_path}): sha256 {digest} does not match "
                    f"the catalog's {library.expected_sha256(entry)}; it is no longer used (read-only: "
                    "tell its administrator)"
                )
            else:
                how = "verified against the catalog sha256" if good else "the catalog has no sha256"
                print(f"{names}: ok in the shared store ({store_path}, sha256 {digest}; {how})")
            continue
        if before.state not in (State.DOWNLOADED, State.CORRUPT, State.FOREIGN) or path_kind(path) is None:
            if args.ids:
                reason = f"; {before.reason}" if before.reason else ""
                print(f"{entry.id}: not downloaded ({before.state.value}{reason})")
            continue
        names = ", ".join([entry.id] + [o.id for o in catalog.sharing(entry)])
        try:
            status = library.verify(entry)
        except (UnsafePathError, NotOursError) as exc:
            not_ours += 1
            print(f"{names}: not checked: {exc}")
            continue
        checked += 1
        if status.state is State.FOREIGN:
            # Nothing recorded: a hash computed now proves nothing about a file found here.
            not_ours += 1
            if status.reason.startswith("unverified: "):
                print(f"{names}: UNVERIFIED ({path}): {status.reason.removeprefix('unverified: ')}")
            else:
                print(f"{names}: NOT OURS ({path}): {status.reason}")
            continue
        if status.state is State.CORRUPT:
            bad += 1
            found = status.meta.get("sha256_found", "?")
            print(
                f"{names}: CORRUPT ({path}): sha256 {found} does not match the expected "
                f"{library.expected_sha256(entry) or status.meta.get('sha256')}"
            )
        else:
            how = "verified against the catalog sha256" if status.verified else "hash recorded"
            if not status.verified and status.verified_by:
                how = f"hash recorded, {_verified_words(status)} on arrival"
            print(f"{names}: ok ({units.size(status.bytes)}, sha256 {status.sha256}; {how})")
        _say_claims(library, [entry, *catalog.sharing(entry)])
    from ofa_manager.cli.archives import _verify_unpacked

    bad += _verify_unpacked(library, entries)
    also = f", {not_ours} not ours (unverified or not matching)" if not_ours else ""
    if changed:
        also += f", {changed} changed while hashed (run verify again)"
    print(f"{checked} file(s) checked, {bad} corrupt{also}")
    return EXIT_FAILED if bad or not_ours or changed else EXIT_OK


def cmd_check(args) -> int:
    import concurrent.futures

    from ofa_manager.core import credentials, mirrors
    from ofa_manager.core.http import check_link, make_session

    catalog = _catalog(args)
    entries = _select(catalog, args.ids, everything_when_empty=True)
    saved = settings.load()
    # Every source a download may use: the published link, then the mirrors (rewritten as downloads are).
    urls: dict[str, list[Checkpoint]] = {}
    mirror_only: set[str] = set()
    for entry in entries:
        sources = [s.fetch for s in mirrors.sources(entry, catalog, saved.rewrite_rules)]
        link = sources[0]
        mirror_only.discard(link)
        for url in sources:
            if url not in urls and url != link:
                mirror_only.add(url)
            users = urls.setdefault(url, [])
            if entry not in users:
                users.append(entry)
    tokens = credentials.TokenCache()
    session = make_session(8)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(urls) or 1)) as pool:
            checks = pool.map(
                lambda u: check_link(u, session=session, tokens=tokens, timeout=saved.timeout), urls
            )
            results = dict(zip(urls, checks, strict=True))
    finally:
        session.close()
    rows, bad = [], 0
    for url, users in urls.items():
        result = results[url]
        bad += not result.ok
        # A mirror whose HEAD fingerprints (size, CRC-64, content MD5) differ from the main link's holds
        # different bytes: downloads do not use it.
        differs = []
        if url in mirror_only and result.ok:
            for entry in users:
                main = results.get(mirrors.rewrite(entry.url, saved.rewrite_rules))
                if main is not None and main.ok:
                    differs += main.fingerprints().differences(result.fingerprints())
        differs = list(dict.fromkeys(differs))
        bad += bool(differs)
        rows.append(
            {
                "url": display_url(url),
                "ids": [e.id for e in users],
                "status": result.status,
                "size": result.size,
                "etag": result.etag,
                "accepts_ranges": result.accepts_ranges,
                "ok": result.ok,
                "error": redact_text(result.error) if result.error else None,
                "shared": len(users) > 1 or any(catalog.sharing(e) for e in users),
                "mirror": url in mirror_only,
                "crc64": f"{result.crc64:016x}" if result.crc64 is not None else None,
                "different_bytes": differs or None,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            state = "ok" if row["ok"] else f"FAILED: {row['error']}"
            if row["different_bytes"]:
                state = f"mirror holds different bytes ({'; '.join(row['different_bytes'])}); not used"
            shared = f"  shared by {len(row['ids'])} entries" if len(row["ids"]) > 1 else ""
            mirror = "  (mirror)" if row["mirror"] else ""
            print(
                f"{state:<10} {row['status'] or '---'}  {units.size(row['size']):>10}  "
                f"etag {row['etag'] or '-'}{shared}{mirror}\n           {row['url']}\n           "
                f"{', '.join(row['ids'])}"
            )
    return EXIT_FAILED if bad else EXIT_OK
