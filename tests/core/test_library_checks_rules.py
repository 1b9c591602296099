"""core/library_checks.py beyond tests/core/test_library_rules.py: what a verify records and reports in the
cases that file does not reach (a catalog whose size and sha256 disagree, a sha256 recorded wrong, a file
that is not ours with half of what is needed known beforehand), a shared store's copy verified again, and
which of the files it writes are synced. Files are made by hand as a download or a user would leave them."""

from __future__ import annotations

import json
import os

import pytest

from ofa_manager.core.file_status import NOT_OURS, State
from ofa_manager.core.library import Library
from tests.catalogs import DOWNLOADED_AT, entry, finished_file, load, payload, sha256, write_catalog

DATA = payload(50_000, 7)
OTHER = DATA[:-1] + bytes([DATA[-1] ^ 1])  # the same size, other bytes
SHA = sha256(DATA)
URL = "https://example.org/files/m.pt"
WHEN = DOWNLOADED_AT


def make(tmp_path, rows: list[dict], stores=()) -> Library:
    library = Library(
        tmp_path / "models",
        load(write_catalog(tmp_path / "c.json", rows)),
        stores=stores,
        state_folder=tmp_path / "state",
    )
    library.root.mkdir(parents=True)
    return library


def ours(library: Library, entry_id: str, data: bytes = DATA, **meta):
    return library.catalog.get(entry_id), finished_file(library, entry_id, data, **meta)


def test_a_file_of_the_catalogs_sha256_but_not_its_size_is_corrupt_after_verify(tmp_path):
    # The catalog contradicts itself: the bytes have its sha256, not its size. Neither vouches alone.
    library = make(tmp_path, [entry("m", URL, size=len(DATA) + 1, sha256=SHA)])
    m, _ = ours(library, "m")
    status = library.verify(m)
    assert status.state is State.CORRUPT
    assert library.read_meta(m)["state"] == "corrupt"


def test_verify_records_the_hash_it_proved_over_a_wrong_recorded_one(tmp_path):
    # The catalog's sha256 decides; the one recorded at download (wrong here) is replaced by the proven one.
    library = make(tmp_path, [entry("m", URL, size=len(DATA), sha256=SHA)])
    m, _ = ours(library, "m", sha256="e" * 64)
    assert library.verify(m).state is State.DOWNLOADED
    meta = library.read_meta(m)
    assert (meta["state"], meta["sha256"], meta["sha256_found"]) == ("ok", SHA, SHA)


@pytest.mark.parametrize(
    "fields",
    [{"size": len(DATA)}, {"sha256": SHA}],
    ids=["size-only", "sha256-only"],
)
def test_a_users_file_with_only_half_of_what_is_needed_known_proves_nothing(tmp_path, fields):
    library = make(tmp_path, [entry("m", URL, **fields)])
    m = library.catalog.get("m")
    library.path(m).write_bytes(DATA)
    status = library.verify(m)
    assert (status.state, status.path, status.bytes, status.size, status.sha256) == (
        State.FOREIGN,
        library.path(m),
        len(DATA),
        fields.get("size"),
        SHA,
    )
    assert status.reason == (
        f"unverified: {NOT_OURS}; no size and sha256 were known for it beforehand, so its hash "
        "proves nothing and nothing was recorded"
    )
    assert not library.meta_path(m).exists()
    assert library.adopt(m) is False and not library.meta_path(m).exists()


def test_a_users_file_not_matching_is_reported_with_its_path_and_figures(tmp_path):
    library = make(tmp_path, [entry("m", URL, size=len(DATA) + 5, sha256=SHA)])
    m = library.catalog.get("m")
    library.path(m).write_bytes(OTHER)
    status = library.verify(m)
    assert (status.state, status.path, status.bytes, status.size) == (
        State.FOREIGN,
        library.path(m),
        len(OTHER),
        len(DATA) + 5,
    )


def test_an_adopted_file_whose_time_changed_is_ours_again_by_the_catalogs_sha256(tmp_path):
    # No size in the catalog: the proof is the adoption against the catalog's sha256, recorded then.
    library = make(tmp_path, [entry("m", URL, sha256=SHA)])
    m, path = ours(library, "m", downloaded_at=..., adopted_at=WHEN, state="corrupt")
    os.utime(path, ns=(1, 1))
    assert library.status(m).state is State.FOREIGN
    status = library.verify(m)
    assert (status.state, status.verified) == (State.DOWNLOADED, True)
    meta = library.read_meta(m)
    assert (meta["state"], meta["sha256_found"], meta["mtime_ns"], meta["adopted_at"]) == ("ok", SHA, 1, WHEN)
    assert isinstance(meta["verified_at"], str) and meta["verified_at"] != WHEN


def test_our_file_whose_time_changed_gets_a_verify_time_when_ours_again(tmp_path):
    library = make(tmp_path, [entry("n", "https://example.org/files/n.pt")])
    n, path = ours(library, "n", OTHER)
    assert "verified_at" not in library.read_meta(n)
    os.utime(path, ns=(1, 1))
    assert library.verify(n).state is State.DOWNLOADED
    assert isinstance(library.read_meta(n)["verified_at"], str)


def test_a_store_copy_found_rotten_is_hashed_again_by_the_next_verify(tmp_path):
    # Its recorded hash keeps it from being used, not from being checked again.
    store = tmp_path / "store"
    store.mkdir()
    library = make(tmp_path, [entry("m", URL, size=len(DATA), sha256=SHA)], stores=(store,))
    m = library.catalog.get("m")
    copy = store / "m.pt"
    copy.write_bytes(OTHER)
    assert library.verify_store(m) == (copy, sha256(OTHER), False)
    assert library.verify_store(m) == (copy, sha256(OTHER), False)


def test_a_store_copys_hash_is_recorded_without_a_sync(tmp_path, monkeypatch):
    # A crash cannot be staged here: os.fsync is wrapped to see which writes sync (the real call still runs).
    # The store hashes are a cache of what a verify found; losing them costs a verify, nothing more.
    from ofa_manager.core import durable

    store = tmp_path / "store"
    store.mkdir()
    library = make(tmp_path, [entry("m", URL, size=len(DATA), sha256=SHA)], stores=(store,))
    m = library.catalog.get("m")
    (store / "m.pt").write_bytes(DATA)
    synced = []
    real = os.fsync
    monkeypatch.setattr(durable.os, "fsync", lambda fd: synced.append(fd) or real(fd))
    assert library.verify_store(m) == (store / "m.pt", SHA, True)
    assert synced == []
    assert json.loads((tmp_path / "state" / "store-hashes.json").read_text())["sha256"]
