"""Helpers of the transfer tests (tests/core/transfer/): one catalog entry on the loopback server, a guarded
run."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from ofa_manager.core.library import Library
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted
from tests.catalogs import MiB, entry, fast_options, load, payload, write_catalog

PATH = "/ckpt/model.pt"


USER, PASSWORD = "alice", "S3cret-pw-7f2a"


def serve_entry(tmp_path, models_dir, server, data, *, path=PATH, fields=None, **route):
    """Serve ``data`` at ``path`` and write a catalog of one entry 'm' for it: (library, entry, catalog)."""
    server.add(path, data, **route)
    catalog = write_catalog(tmp_path / "catalog.json", [entry("m", server.url(path), **(fields or {}))])
    library = Library(models_dir, load(catalog))
    return library, library.catalog.get("m"), catalog


def make_library(tmp_path, models_dir, url, name="catalog.json", **fields):
    catalog = write_catalog(tmp_path / name, [entry("m", url, title="Model M", **fields)])
    library = Library(models_dir, load(catalog))
    return library, library.catalog.get("m")


def run_guarded(transfer: Transfer, limit: float = 60) -> Path:
    """Run a transfer in a thread; a transfer still running after ``limit`` seconds is stopped and fails
    the test (a hang guard, not a speed check)."""
    outcome: dict = {}

    def work():
        try:
            outcome["path"] = transfer.run()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="test-transfer")
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        transfer.abort.set()
        thread.join()
        pytest.fail(f"the transfer was still running after {limit:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["path"]


def range_start(record) -> int:
    match = re.match(r"bytes=(\d+)-", record.range or "")
    return int(match.group(1)) if match else 0


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def files_holding(folder: Path, secret: str) -> list[str]:
    """Every file under ``folder`` whose bytes contain ``secret``."""
    found = []
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            try:
                if secret.encode() in path.read_bytes():
                    found.append(str(path))
            except OSError:
                pass
    return found


def counting_backoffs(transfer: Transfer) -> list[int]:
    """Count the backoff pauses the transfer decides on (the method is wrapped on this instance)."""
    calls: list[int] = []
    original = transfer._backoff

    def backoff(attempts, retry_after):
        calls.append(attempts)
        return original(attempts, retry_after)

    transfer._backoff = backoff
    return calls


def two_files(tmp_path, folder, http_server, rate):
    a, b = payload(6 * MiB, 1), payload(6 * MiB, 2)
    http_server.add("/a.pt", a, rate=rate)
    http_server.add("/b.pt", b, rate=rate)
    # No sizes in the catalog: the space is checked on the first answer, when both run.
    catalog = write_catalog(
        tmp_path / "c.json", [entry("a", http_server.url("/a.pt")), entry("b", http_server.url("/b.pt"))]
    )
    return {"a": a, "b": b}, catalog, Library(folder, load(catalog))


options = fast_options


def setup(tmp_path, models_dir, server, data=None, *, path=PATH, fields=None, **faults):
    """Serve ``data`` at ``path`` and return (route, library, entry) for one catalog entry 'm'."""
    route = server.add(path, data, **faults) if data is not None else None
    catalog = write_catalog(
        tmp_path / "catalog.json", [entry("m", server.url(path), title="Model M", **(fields or {}))]
    )
    library = Library(models_dir, load(catalog))
    return route, library, library.catalog.get("m")


def run(library, e, opts=None, **kwargs):
    """A transfer run with a hang guard (see run_guarded): a bug that makes it wait forever fails the test."""
    return run_guarded(Transfer(library, e, opts or options(), **kwargs))


def gets(server, path=PATH):
    return server.requests_for(path, "GET")


def run_outcome(transfer: Transfer) -> str:
    try:
        transfer.run()
    except Aborted:
        return "aborted"
    return "done"
