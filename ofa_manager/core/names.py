"""How a checkpoint's file is named in the models folder, and finding files kept under earlier names.

The published file name is kept wherever possible: ``ofa_large.pt`` is ``MODELS/ofa_large.pt``. When
several URLs (different files) publish the same name, each keeps its name in a folder named for its
source host — ``MODELS/ofa-beijing.oss-cn-beijing.aliyuncs.com/model.pt`` beside
``MODELS/example.org/model.pt`` (with the port, ``127.0.0.1_8080``, when the URL gives one). Only when
two URLs of one host publish the same name does each get a short hash of its URL as well
(``HOST/model-1a2b3c4d.pt``). Names are compared ignoring case, as macOS and Windows do.

Earlier versions gave every colliding name the hash (``MODELS/model-1a2b3c4d.pt``), and a name that
became a collision only when another catalog was added sits at ``MODELS/model.pt``. Such files (the
file, its partial data, resume record, metadata and rejected copy) are moved to the new name when it is
free: a hash-named file always belongs to its URL; a file at the plain name only when its own metadata
(or resume record) names this URL. Links, folders and special files at any of those names stay where
they are, as does everything while another process holds the file's lock.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ofa_manager.core import sharing

if TYPE_CHECKING:
    from ofa_manager.core.catalog import Checkpoint
    from ofa_manager.core.library import Library

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def host_folder(url: str) -> str:
    """The folder for a URL's host: its name in lower case, with ``_PORT`` when the URL gives a port."""
    parts = urlsplit(url)
    host = parts.hostname or "unknown-host"  # urlsplit gives the host name in lower case
    try:
        port = parts.port
    except ValueError:
        port = None
    folder = _UNSAFE.sub("_", f"{host}_{port}" if port else host).strip(".")
    return folder or "unknown-host"


def hashed_name(name: str, url: str) -> str:
    """``model.pt`` with a short hash of the URL: ``model-1a2b3c4d.pt``."""
    stem, suffix = os.path.splitext(name)
    return f"{stem}-{hashlib.sha256(url.encode()).hexdigest()[:8]}{suffix}"


def assign(root: Path, wanted: dict[str, str]) -> tuple[dict[str, Path], dict[str, list[Path]]]:
    """Paths for ``{url: published file name}``, and for each URL the places earlier versions used: its
    hashed name, then its plain name (last)."""
    by_name: dict[str, list[str]] = {}
    for url, name in wanted.items():
        by_name.setdefault(name.casefold(), []).append(url)
    paths: dict[str, Path] = {}
    earlier: dict[str, list[Path]] = {}
    for urls in by_name.values():
        if len(urls) == 1:
            paths[urls[0]] = root / wanted[urls[0]]
            continue
        per_host = Counter(host_folder(url).casefold() for url in urls)
        for url in urls:
            name, folder = wanted[url], root / host_folder(url)
            alone = per_host[host_folder(url).casefold()] == 1
            paths[url] = folder / (name if alone else hashed_name(name, url))
            earlier[url] = [root / hashed_name(name, url), root / name]
    return paths, earlier


def beside(path: Path) -> list[Path]:
    """Every name ofa-manager keeps for one file: the file, partial data, resume record, metadata, the
    rejected copy and its note (as Library names them)."""
    name = path.name
    return [
        path,
        path.with_name(name + ".part"),
        path.with_name(name + ".part.json"),
        path.with_name(f".{name}.meta.json"),
        path.with_name(name + ".rejected"),
        path.with_name(f".{name}.rejected.json"),
    ]


def adopt_earlier_names(
    library: Library, entries: Iterable[Checkpoint] | None = None
) -> list[tuple[Path, Path]]:
    """Move files kept under earlier names to their names now; returns (from, to) for each file moved."""
    moved: list[tuple[Path, Path]] = []
    for entry in library.one_per_file(library.catalog if entries is None else entries):
        moved.extend(adopt_earlier_name(library, entry))
    return moved


def adopt_earlier_name(library: Library, entry: Checkpoint) -> list[tuple[Path, Path]]:
    """Move one entry's file from an earlier name to its name now, when the new name is free."""
    from filelock import Timeout

    from ofa_manager.core.safe_files import path_kind

    new = library.path(entry)
    earlier = library.earlier_paths(entry)
    for old in earlier:
        olds = beside(old)
        present = [p for p in olds if os.path.lexists(p)]
        if not present or any(path_kind(p) != "file" for p in present):
            continue
        # The plain name (the last of assign's earlier names) may be someone else's file, or another URL's.
        if old == earlier[-1] and not _names_this_url(entry, old):
            continue
        news = beside(new)
        if any(os.path.lexists(p) for p in news[:2]) or path_kind(new.parent) not in (None, "folder"):
            continue  # the new name is taken (or its folder is not a plain folder): nothing moves
        old_lock = sharing.FolderLock(old.with_name(f".{old.name}.lock")) if os.name == "posix" else None
        if old_lock is not None:
            try:
                old_lock.acquire(timeout=0)
            except Timeout:
                continue  # an older version downloads into it right now; next time
        try:
            with library.lock(entry).acquire(timeout=0):
                done = []
                for source, target in zip(olds, news, strict=True):
                    if os.path.lexists(source):
                        os.replace(source, target)
                        done.append((source, target))
                    elif os.path.lexists(target) and path_kind(target) == "file":
                        target.unlink()  # a stale record or metadata would describe the moved file
                return done
        except Timeout:
            continue
        finally:
            if old_lock is not None:
                old_lock.release()
    return []


def _names_this_url(entry: Checkpoint, old: Path) -> bool:
    """Whether the file at the plain name is this URL's: its metadata (or resume record) says so."""
    from ofa_manager.core.catalog import display_url
    from ofa_manager.core.safe_files import read_json_nofollow

    meta = read_json_nofollow(beside(old)[3]) or {}
    if os.path.lexists(old):
        recorded = meta.get("catalog_url")
    else:
        recorded = (read_json_nofollow(beside(old)[2]) or {}).get("url")
    return isinstance(recorded, str) and display_url(recorded) == display_url(entry.url)
