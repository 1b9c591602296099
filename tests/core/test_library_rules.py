"""The models folder's layers rule by rule (core/library_paths.py, library_states.py, library_checks.py,
library.py): names beside a file, records and metadata taken or discarded and why, what is ours and the
words for what is not, the states, the shared stores' copies, hashing and verifying, the rejected copy,
deleting and the disk figures. Files are made by hand as a download or a user would leave them."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from ofa_manager.core.file_status import NOT_OURS, NotOursError, State, UnsafePathError
from ofa_manager.core.library import Library
from tests.catalogs import DOWNLOADED_AT, entry, finished_file, load, payload, sha256, write_catalog

DATA = payload(100_000, 5)
OTHER = DATA[:-1] + bytes([DATA[-1] ^ 1])  # the same size, other bytes
SHA = sha256(DATA)
URL = "https://example.org/files/m.pt"
WHEN = DOWNLOADED_AT


def make(tmp_path, rows: list[dict], stores=(), folder: str = "models") -> Library:
    catalog = write_catalog(tmp_path / "c.json", rows)
    return Library(tmp_path / folder, load(catalog), stores=stores, state_folder=tmp_path / "state")


@pytest.fixture
def lib(tmp_path) -> Library:
    """``m`` with its size and sha256, ``alias`` the same URL without them, ``n`` with neither."""
    library = make(
        tmp_path,
        [
            entry("m", URL, size=len(DATA), sha256=SHA),
            entry("alias", URL),
            entry("n", "https://example.org/files/n.pt"),
        ],
    )
    library.root.mkdir(parents=True)
    return library


def ours(library: Library, entry_id: str, data: bytes = DATA, **meta) -> Path:
    return finished_file(library, entry_id, data, **meta)


def partial(library: Library, entry_id: str, data: bytes, record: dict | None) -> Path:
    e = library.catalog.get(entry_id)
    part = library.part_path(e)
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data)
    if record is not None:
        library.record_path(e).write_text(json.dumps(record))
    return part


def record_of(size: int, *ranges) -> dict:
    return {"url": URL, "size": size, "ranges": [list(r) for r in ranges]}


# library_paths: names and records


def test_the_names_kept_beside_a_file(lib):
    m = lib.catalog.get("m")
    assert lib.path(m) == lib.root / "m.pt"
    assert [
        p.name
        for p in (
            lib.part_path(m),
            lib.record_path(m),
            lib.meta_path(m),
            lib.rejected_path(m),
            lib.rejected_meta_path(m),
            lib.lock_path(m),
        )
    ] == [
        "m.pt.part",
        "m.pt.part.json",
        ".m.pt.meta.json",
        "m.pt.rejected",
        ".m.pt.rejected.json",
        ".m.pt.lock",
    ]
    assert lib.earlier_paths(m) == []


def test_the_folder_and_the_stores_are_resolved_once_each_never_the_folder_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "s1").mkdir()
    library = make(
        tmp_path,
        [entry("m", URL)],
        stores=["~/s1", tmp_path / "s2", tmp_path / "s1", "~/models", tmp_path / "x" / ".." / "s2"],
    )
    assert library.stores == [tmp_path.resolve() / "s1", tmp_path.resolve() / "s2"]
    assert Library("~/models", library.catalog).root == tmp_path.resolve() / "models"


def test_one_entry_per_file_and_every_file_with_its_entries(lib):
    m, alias, n = (lib.catalog.get(i) for i in ("m", "alias", "n"))
    assert lib.one_per_file([alias, n, m]) == [alias, n]
    assert lib.files() == {lib.root / "m.pt": [m, alias], lib.root / "n.pt": [n]}
    assert lib.sharing(m) == [alias] and lib.sharing(n) == []


def test_what_is_expected_of_a_file_comes_from_any_entry_of_its_url(lib):
    m, alias, n = (lib.catalog.get(i) for i in ("m", "alias", "n"))
    assert lib.expected_size(alias) == len(DATA) and lib.expected_sha256(alias) == SHA
    assert lib.expected_size(m) == len(DATA) and lib.expected_sha256(m) == SHA
    assert lib.expected_size(n) is None and lib.expected_sha256(n) is None


def test_an_entry_of_size_zero_expects_zero_bytes(tmp_path):
    library = make(tmp_path, [entry("z", URL, size=0)])
    assert library.expected_size(library.catalog.get("z")) == 0


def test_the_lock_makes_the_folders_it_needs_and_never_goes_through_a_link(tmp_path):
    library = make(tmp_path, [entry("a", "https://a.org/m.pt"), entry("b", "https://b.org/m.pt")])
    a, b = library.catalog.get("a"), library.catalog.get("b")
    with library.lock(a):
        assert (library.root / "a.org").is_dir() and library.lock_path(a).is_file()
    os.symlink(tmp_path, library.root / "b.org")
    with pytest.raises(UnsafePathError):
        library.lock(b)
    library.lock_path(a).unlink()
    os.symlink(tmp_path / "elsewhere", library.lock_path(a))
    with pytest.raises(UnsafePathError):
        library.lock(a)
    assert not (tmp_path / "elsewhere").exists()


def test_metadata_that_is_damaged_or_behind_a_link_is_none(lib, tmp_path):
    m = lib.catalog.get("m")
    ours(lib, "m")
    assert lib.read_meta(m)["sha256"] == SHA
    lib.meta_path(m).write_text(json.dumps({"size": -1}))
    assert lib.read_meta(m) == {}
    lib.meta_path(m).unlink()
    (tmp_path / "meta.json").write_text(json.dumps({"size": 1}))
    os.symlink(tmp_path / "meta.json", lib.meta_path(m))
    assert lib.read_meta(m) == {}


def test_metadata_and_records_are_never_written_through_a_link_and_have_a_new_files_mode(lib, tmp_path):
    m = lib.catalog.get("m")
    old = os.umask(0o022)
    try:
        lib.write_meta(m, {"size": 1})
        lib.write_record(m, {"size": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(lib.meta_path(m)).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(lib.record_path(m)).st_mode) == 0o644
    for path, write in ((lib.meta_path(m), lib.write_meta), (lib.record_path(m), lib.write_record)):
        path.unlink()
        os.symlink(tmp_path / "target", path)
        with pytest.raises(UnsafePathError):
            write(m, {"size": 2})
        assert not (tmp_path / "target").exists()


def test_a_record_taken_and_each_reason_one_is_not(lib, tmp_path):
    m = lib.catalog.get("m")
    assert lib.checked_record(m) == ({}, "")
    good = record_of(len(DATA), (0, 10))
    lib.record_path(m).write_text(json.dumps(good))
    assert lib.checked_record(m) == (
        {},
        "its resume record m.pt.part.json was discarded: its partial file is missing",
    )
    os.symlink(tmp_path / "x", lib.part_path(m))
    assert lib.checked_record(m)[1].endswith("its partial file is missing")
    lib.part_path(m).unlink()
    partial(lib, "m", b"p" * 10, None)
    assert lib.checked_record(m) == (good, "")
    assert lib.read_record(m) == good
    lib.record_path(m).write_text(json.dumps(record_of(len(DATA), (0, 11))))
    assert lib.checked_record(m) == (
        {},
        "its resume record m.pt.part.json was discarded: "
        "the range [0, 11] goes past the end of the file (10 bytes)",
    )
    lib.record_path(m).write_text(json.dumps(record_of(5, (0, 5))))
    assert lib.checked_record(m)[1].endswith(f"its size 5 is not the catalog's {len(DATA)}")
    lib.record_path(m).write_text(json.dumps({**good, "sha256": "f" * 64}))
    assert lib.checked_record(m)[1].endswith("it was started for another sha256 than the catalog's")
    lib.record_path(m).write_text("{not json")
    assert lib.checked_record(m) == (
        {},
        "its resume record m.pt.part.json was discarded: it is not a readable record",
    )
    assert lib.read_record(m) == {}
    lib.record_path(m).unlink()
    lib.record_path(m).mkdir()
    assert lib.checked_record(m) == ({}, "a folder is at m.pt.part.json")


def test_the_obstacles_at_a_files_names_are_each_described(tmp_path):
    library = make(tmp_path, [entry("a", "https://a.org/m.pt"), entry("b", "https://b.org/m.pt")])
    a = library.catalog.get("a")
    library.root.mkdir()
    assert library.obstacles(a) == []
    folder = library.path(a).parent
    folder.write_bytes(b"")
    assert library.obstacles(a) == [f"a file is at {folder}"]
    folder.unlink()
    folder.mkdir()
    os.symlink(tmp_path, library.path(a))
    library.part_path(a).mkdir()
    os.mkfifo(library.record_path(a))
    os.symlink(tmp_path, library.meta_path(a))
    library.lock_path(a).mkdir()
    assert library.obstacles(a) == [
        f"a symbolic link is at {library.path(a)}",
        f"a folder is at {library.part_path(a)}",
        f"a special file (not a regular file) is at {library.record_path(a)}",
        f"a symbolic link is at {library.meta_path(a)}",
        f"a folder is at {library.lock_path(a)}",
    ]


def test_the_obstacles_of_a_file_in_the_folder_itself(lib):
    m = lib.catalog.get("m")
    ours(lib, "m")
    assert lib.obstacles(m) == []


def test_dropping_partial_data_frees_what_it_counted_and_leaves_links(lib, tmp_path):
    m = lib.catalog.get("m")
    partial(lib, "m", b"p" * 5000, record_of(len(DATA), (0, 3000)))
    assert lib.partial_bytes(m) == 3000
    assert lib.drop_partial(m) == 3000
    assert not lib.part_path(m).exists() and not lib.record_path(m).exists()
    (tmp_path / "t").write_bytes(b"t" * 100)
    os.symlink(tmp_path / "t", lib.part_path(m))
    assert lib.partial_bytes(m) == 0 and lib.drop_partial(m) == 0
    assert os.path.islink(lib.part_path(m)) and (tmp_path / "t").read_bytes() == b"t" * 100


def rejected(library: Library, entry_id: str, data: bytes, **info) -> dict:
    e = library.catalog.get(entry_id)
    library.rejected_path(e).write_bytes(data)
    st = os.lstat(library.rejected_path(e))
    fields = {"sha256": sha256(data), "size": len(data), "mtime_ns": st.st_mtime_ns, "check": "sha256"}
    fields.update(info)
    fields = {k: v for k, v in fields.items() if v is not ...}
    library.rejected_meta_path(e).write_text(json.dumps(fields))
    return fields


@pytest.mark.parametrize(
    "info",
    [
        {"sha256": "x" * 64},
        {"sha256": ...},
        {"size": "3"},
        {"size": True},
        {"size": ...},
        {"size": 4},
        {"mtime_ns": 1},
        {"mtime_ns": ...},
    ],
)
def test_a_rejected_copy_the_sidecar_does_not_describe_is_none(lib, info):
    rejected(lib, "m", b"bad", **info)
    assert lib.read_rejected(lib.catalog.get("m")) is None


def test_a_rejected_copy_is_what_its_sidecar_describes(lib, tmp_path):
    m = lib.catalog.get("m")
    assert lib.read_rejected(m) is None
    info = rejected(lib, "m", b"bad")
    assert lib.read_rejected(m) == info
    lib.rejected_path(m).unlink()
    assert lib.read_rejected(m) is None
    (tmp_path / "bad").write_bytes(b"bad")
    os.symlink(tmp_path / "bad", lib.rejected_path(m))
    assert lib.read_rejected(m) is None


# library_states: what is ours, and the states


def test_our_file_is_downloaded_and_verified_against_the_catalog(lib):
    path = ours(lib, "m")
    status = lib.status(lib.catalog.get("m"))
    assert (status.state, status.path, status.bytes, status.size) == (
        State.DOWNLOADED,
        path,
        len(DATA),
        len(DATA),
    )
    assert (status.verified, status.verified_by, status.sha256, status.reason) == (True, "sha256", SHA, "")
    assert status.meta["downloaded_at"] == WHEN
    assert lib.local_or_store_path(lib.catalog.get("m")) == path


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        (
            {"catalog_url": "https://example.org/other.pt"},
            f"{NOT_OURS} (downloaded for another link: https://example.org/other.pt)",
        ),
        (
            {"catalog_url": "https://u:p@example.org/o.pt"},
            f"{NOT_OURS} (downloaded for another link: https://***@example.org/o.pt)",
        ),
        ({"catalog_url": ...}, NOT_OURS),
        ({"downloaded_at": ...}, NOT_OURS),
        (
            {"size": 5},
            "the file at this path is not the one ofa-manager wrote: "
            f"its size is {len(DATA)} bytes, 5 were recorded",
        ),
        ({"mtime_ns": 5}, "the file at this path was modified after ofa-manager wrote it"),
    ],
)
def test_a_file_is_not_ours_and_why(lib, meta, reason):
    ours(lib, "m", **meta)
    status = lib.status(lib.catalog.get("m"))
    assert (status.state, status.reason, status.bytes) == (State.FOREIGN, reason, len(DATA))
    assert lib.local_or_store_path(lib.catalog.get("m")) is None


def test_a_file_without_usable_metadata_is_not_ours_and_why(lib, tmp_path):
    m = lib.catalog.get("m")
    lib.path(m).write_bytes(DATA)
    assert lib.status(m).reason == NOT_OURS
    lib.meta_path(m).write_text("{damaged")
    assert lib.status(m).reason == f"{NOT_OURS} (its metadata is damaged)"
    lib.meta_path(m).unlink()
    lib.meta_path(m).mkdir()
    assert lib.status(m).reason == f"{NOT_OURS} (a folder is where its metadata belongs)"


def test_metadata_of_older_versions_without_a_time_is_taken_on_the_size(lib):
    ours(lib, "m", mtime_ns=...)
    assert lib.status(lib.catalog.get("m")).state is State.DOWNLOADED


def test_a_file_adopted_against_the_catalogs_sha256_is_ours_only_while_that_is_the_catalogs(lib, tmp_path):
    ours(lib, "m", downloaded_at=None, adopted_at=WHEN)
    assert lib.status(lib.catalog.get("m")).state is State.DOWNLOADED
    ours(lib, "n", downloaded_at=None, adopted_at=WHEN)  # no sha256 known for n: nothing proves it
    assert lib.status(lib.catalog.get("n")).reason == NOT_OURS
    ours(lib, "m", downloaded_at=None, adopted_at=WHEN, sha256="e" * 64)
    assert lib.status(lib.catalog.get("m")).reason == NOT_OURS
    ours(lib, "m", downloaded_at=None, adopted_at=None)
    assert lib.status(lib.catalog.get("m")).reason == NOT_OURS
    ours(lib, "n", sha256=None)  # downloaded, but no sha256 was ever computed
    assert lib.status(lib.catalog.get("n")).reason == NOT_OURS


@pytest.mark.parametrize(
    ("data", "meta", "state", "verified"),
    [
        (OTHER, {}, State.CORRUPT, False),  # not the catalog's sha256
        (DATA, {"state": "corrupt"}, State.CORRUPT, False),
        (OTHER, {"state": "differs", "catalog_sha256": SHA}, State.DOWNLOADED, False),
        (OTHER, {"state": "differs", "catalog_sha256": "e" * 64}, State.CORRUPT, False),
        (OTHER, {"state": "differs"}, State.CORRUPT, False),
    ],
)
def test_our_file_against_the_catalog(lib, data, meta, state, verified):
    ours(lib, "m", data, **meta)
    status = lib.status(lib.catalog.get("m"))
    assert (status.state, status.verified, status.verified_by) == (state, verified, None)
    assert status.sha256 == sha256(data) and status.bytes == len(data) and status.size == len(data)
    assert status.differs is (meta.get("state") == "differs" and state is State.DOWNLOADED)


def test_a_file_of_another_size_than_the_catalogs_is_corrupt(tmp_path):
    library = make(tmp_path, [entry("m", URL, size=len(DATA) + 1)])
    ours(library, "m")
    status = library.status(library.catalog.get("m"))
    assert status.state is State.CORRUPT and not status.verified


@pytest.mark.parametrize(
    ("by", "shown"), [("crc64", "crc64"), ("md5", "md5"), ("sha256", None), (None, None)]
)
def test_without_a_catalog_sha256_the_servers_fingerprint_verifies(lib, by, shown):
    ours(lib, "n", verified_by=by)
    status = lib.status(lib.catalog.get("n"))
    assert (status.state, status.verified, status.verified_by) == (State.DOWNLOADED, False, shown)


def test_a_corrupt_file_is_verified_by_nothing(lib):
    ours(lib, "n", verified_by="crc64", state="corrupt")
    status = lib.status(lib.catalog.get("n"))
    assert (status.state, status.verified_by) == (State.CORRUPT, None)


def test_what_is_not_a_file_at_our_names_is_not_ours_and_left_alone(tmp_path):
    library = make(tmp_path, [entry("a", "https://a.org/m.pt"), entry("b", "https://b.org/m.pt")])
    a, b = library.catalog.get("a"), library.catalog.get("b")
    library.root.mkdir()
    (library.root / "a.org").write_bytes(b"")
    status = library.status(a)
    assert (status.state, status.bytes, status.size) == (State.FOREIGN, 0, None)
    assert status.reason == "a file is at a.org; ofa-manager leaves it alone"
    (library.root / "b.org").mkdir()
    os.symlink(tmp_path, library.path(b))
    assert library.status(b).reason == "a symbolic link is at this path; ofa-manager leaves it alone"
    library.path(b).unlink()
    library.part_path(b).mkdir()
    assert library.status(b).reason == "a folder is at m.pt.part; ofa-manager leaves it alone"
    assert library.status(b).state is State.FOREIGN


def test_partial_data_its_figures_and_a_record_discarded(lib):
    m, n = lib.catalog.get("m"), lib.catalog.get("n")
    part = partial(lib, "m", b"p" * 5000, record_of(len(DATA), (0, 3000)))
    info = rejected(lib, "m", b"bad")
    status = lib.status(m)
    assert (status.state, status.path, status.bytes, status.size) == (
        State.PARTIAL,
        lib.path(m),
        3000,
        len(DATA),
    )
    assert status.meta == record_of(len(DATA), (0, 3000)) and status.reason == "" and status.rejected == info
    lib.record_path(m).write_text("[]")
    status = lib.status(m)
    assert (status.bytes, status.size, status.meta) == (5000, len(DATA), {})
    assert status.reason == "its resume record m.pt.part.json was discarded: it is not a readable record"
    partial(lib, "n", b"p" * 10, {"url": URL, "size": 777, "ranges": []})
    assert lib.status(n).size == 777  # the record's size where the catalog has none
    assert part.exists()


def test_nothing_here_is_remote_with_the_rejected_copy_known(lib):
    m = lib.catalog.get("m")
    status = lib.status(m)
    assert (status.state, status.bytes, status.size, status.rejected) == (State.REMOTE, 0, len(DATA), None)
    info = rejected(lib, "m", b"bad")
    assert lib.status(m).rejected == info
    assert lib.local_or_store_path(m) is None


def test_the_whole_catalog_at_once_agrees_with_each_file_alone(tmp_path):
    rows = [
        entry("m", URL, size=len(DATA), sha256=SHA),
        entry("alias", URL),
        entry("n", "https://example.org/files/n.pt"),
        entry("p", "https://example.org/files/p.pt"),
        entry("r", "https://example.org/files/r.pt", size=3),
        entry("a", "https://a.org/x.pt"),
        entry("b", "https://b.org/x.pt"),
    ]
    library = make(tmp_path, rows)
    library.root.mkdir()
    ours(library, "m")
    library.path(library.catalog.get("n")).write_bytes(b"theirs")
    partial(library, "p", b"p" * 10, None)
    (library.root / "b.org").mkdir()
    os.symlink(tmp_path, library.root / "a.org")
    statuses = library.statuses()
    assert {k: v.state for k, v in statuses.items()} == {
        "m": State.DOWNLOADED,
        "alias": State.DOWNLOADED,
        "n": State.FOREIGN,
        "p": State.PARTIAL,
        "r": State.REMOTE,
        "a": State.FOREIGN,
        "b": State.REMOTE,
    }
    assert statuses["m"] is statuses["alias"]  # one status a file
    assert statuses["r"].size == 3
    for e in library.catalog:
        assert statuses[e.id] == library.status(e)


def test_a_folder_that_cannot_be_listed_is_looked_at_file_by_file(tmp_path):
    library = make(tmp_path, [entry("m", URL, size=len(DATA), sha256=SHA)])
    library.root.parent.mkdir(parents=True, exist_ok=True)
    library.root.write_bytes(b"not a folder")
    assert library.statuses()["m"].state is State.REMOTE


# The shared stores


@pytest.fixture
def stores(tmp_path):
    one, two = tmp_path / "store1", tmp_path / "store2"
    one.mkdir()
    two.mkdir()
    return one, two


def store_lib(tmp_path, stores, rows=None) -> Library:
    rows = rows or [entry("m", URL, size=len(DATA), sha256=SHA), entry("n", "https://example.org/files/n.pt")]
    library = make(tmp_path, rows, stores=stores)
    library.root.mkdir()
    return library


def test_a_store_copy_of_the_catalogs_size_is_used(tmp_path, stores):
    library = store_lib(tmp_path, stores)
    m = library.catalog.get("m")
    (stores[1] / "m.pt").write_bytes(DATA)
    status = library.status(m)
    assert (status.state, status.path, status.store_path) == (
        State.IN_STORE,
        library.path(m),
        stores[1] / "m.pt",
    )
    assert (status.bytes, status.size, status.verified, status.sha256) == (len(DATA), len(DATA), False, None)
    assert library.local_or_store_path(m) == stores[1] / "m.pt"
    assert library.statuses()["m"] == status


def test_a_store_copy_wins_over_partial_data_not_over_our_file(tmp_path, stores):
    library = store_lib(tmp_path, stores)
    m = library.catalog.get("m")
    (stores[0] / "m.pt").write_bytes(DATA)
    partial(library, "m", b"p", None)
    assert library.status(m).state is State.IN_STORE
    library.part_path(m).unlink()
    ours(library, "m")
    assert library.status(m).state is State.DOWNLOADED and library.local_or_store_path(m) == library.path(m)


def test_why_a_store_copy_is_not_used_the_first_reason_found(tmp_path, stores):
    library = store_lib(tmp_path, stores)
    m, n = library.catalog.get("m"), library.catalog.get("n")
    (stores[0] / "m.pt").write_bytes(DATA[:-1])
    os.symlink(stores[0] / "m.pt", stores[1] / "m.pt")
    found, why = library.store_file(m)
    assert found is None
    assert (
        why == f"{stores[0] / 'm.pt'} in the shared store was not used: it has {len(DATA) - 1} bytes, "
        f"the catalog says {len(DATA)}"
    )
    status = library.status(m)
    assert (status.state, status.reason) == (State.REMOTE, why)
    (stores[0] / "m.pt").unlink()
    assert library.store_file(m)[1] == f"a symbolic link is at {stores[1] / 'm.pt'} in the shared store"
    (stores[0] / "n.pt").write_bytes(b"n")
    assert library.store_file(n) == (
        None,
        f"{stores[0] / 'n.pt'} in the shared store was not used: no size is known to check it",
    )
    partial(library, "m", b"p", None)
    assert library.status(m).reason == ""  # partial data keeps its own (none)


def test_a_store_copy_recorded_with_another_sha256_is_not_used(tmp_path, stores):
    library = store_lib(tmp_path, stores)
    m = library.catalog.get("m")
    copy = stores[0] / "m.pt"
    copy.write_bytes(DATA)
    key = f"{copy}|{len(DATA)}|{os.lstat(copy).st_mtime_ns}"
    hashes = tmp_path / "state" / "store-hashes.json"
    hashes.parent.mkdir()
    hashes.write_text(json.dumps({"version": 1, "sha256": {key: "e" * 64}}))
    assert library.store_file(m) == (
        None,
        f"{copy} in the shared store was not used: its sha256 {'e' * 64} does not match the catalog's {SHA}",
    )
    assert library.store_file(m, trust_recorded=False)[0][0] == copy
    hashes.write_text(json.dumps({"version": 1, "sha256": {key: SHA}}))
    status = library.status(m)
    assert (status.state, status.verified, status.sha256) == (State.IN_STORE, True, SHA)
    for damaged in ({"sha256": [key]}, {"sha256": {key: "x" * 64}}, {"nothing": 1}):
        hashes.write_text(json.dumps(damaged))
        status = library.status(m)
        assert (status.state, status.verified, status.sha256) == (State.IN_STORE, False, None)


def test_a_store_copy_is_found_under_its_host_folder_then_its_names(tmp_path, stores):
    rows = [entry("a", "https://a.org/x.pt", size=1), entry("b", "https://b.org/x.pt", size=2)]
    library = store_lib(tmp_path, stores, rows)
    a, b = library.catalog.get("a"), library.catalog.get("b")
    (stores[0] / "a.org").mkdir()
    (stores[0] / "a.org" / "x.pt").write_bytes(b"1")
    (stores[0] / "x.pt").write_bytes(b"22")
    assert library.store_file(a)[0][0] == stores[0] / "a.org" / "x.pt"
    assert library.store_file(b)[0][0] == stores[0] / "x.pt"


# library_checks: hashing, verifying, adopting


def test_a_files_hash_its_progress_its_crc_and_a_cancel(lib, tmp_path):
    from ofa_manager.core.fingerprints import crc64
    from ofa_manager.core.library_checks import HASH_CHUNK

    big = payload(HASH_CHUNK + 1000, 9)
    (tmp_path / "big").write_bytes(big)
    seen, crc = [], []
    assert lib.hash_file(tmp_path / "big", lambda d, t: seen.append((d, t)), lambda: False, crc) == sha256(
        big
    )
    assert seen == [(HASH_CHUNK, len(big)), (len(big), len(big))]
    assert crc == [crc64(big)]
    assert lib.hash_file(tmp_path / "big") == sha256(big)
    assert lib.hash_file(tmp_path / "big", cancelled=lambda: True) is None
    calls = []
    assert lib.hash_file(tmp_path / "big", cancelled=lambda: calls.append(1) or len(calls) > 1) is None
    (tmp_path / "empty").write_bytes(b"")
    crc = []
    assert lib.hash_file(tmp_path / "empty", crc_out=crc) == sha256(b"") and crc == [0]
    os.symlink(tmp_path / "big", tmp_path / "link")
    with pytest.raises(UnsafePathError):
        lib.hash_file(tmp_path / "link")


def test_verifying_our_good_file_records_it(lib):
    ours(lib, "m")
    m = lib.catalog.get("m")
    status = lib.verify(m)
    assert (status.state, status.verified) == (State.DOWNLOADED, True)
    meta = lib.read_meta(m)
    assert (meta["state"], meta["sha256"], meta["sha256_found"]) == ("ok", SHA, SHA)
    assert isinstance(meta["verified_at"], str) and meta["downloaded_at"] == WHEN


def test_verifying_our_rotten_file_keeps_the_hash_recorded_on_arrival(lib):
    ours(lib, "m", OTHER, sha256=SHA)  # the bytes rotted after they were checked
    m = lib.catalog.get("m")
    assert lib.status(m).state is State.DOWNLOADED  # not known until it is read again
    assert lib.verify(m).state is State.CORRUPT
    meta = lib.read_meta(m)
    assert (meta["state"], meta["sha256"], meta["sha256_found"]) == ("corrupt", SHA, sha256(OTHER))
    assert lib.verify(m).state is State.CORRUPT  # a second verify cannot bless it


def test_without_a_catalog_sha256_our_file_is_held_to_its_recorded_hash(lib):
    n = lib.catalog.get("n")
    ours(lib, "n", OTHER)
    assert lib.verify(n).state is State.DOWNLOADED and lib.read_meta(n)["state"] == "ok"
    ours(lib, "n", OTHER, sha256=SHA)
    assert lib.verify(n).state is State.CORRUPT
    assert (lib.read_meta(n)["sha256"], lib.read_meta(n)["sha256_found"]) == (SHA, sha256(OTHER))


def test_without_a_catalog_sha256_the_servers_crc_is_checked_again(lib):
    from ofa_manager.core.fingerprints import crc64

    n, m = lib.catalog.get("n"), lib.catalog.get("m")
    ours(lib, "n", OTHER, server_crc64=f"{crc64(OTHER):016x}")
    assert lib.verify(n).state is State.DOWNLOADED
    ours(lib, "n", OTHER, server_crc64=f"{crc64(OTHER) ^ 1:016x}")
    assert lib.verify(n).state is State.CORRUPT
    ours(lib, "m", server_crc64=f"{crc64(DATA) ^ 1:016x}")  # the catalog's sha256 decides
    assert lib.verify(m).state is State.DOWNLOADED


def test_a_file_kept_although_it_differs_is_held_to_the_bytes_that_arrived(lib):
    m = lib.catalog.get("m")
    ours(lib, "m", OTHER, state="differs", catalog_sha256=SHA)
    status = lib.verify(m)
    assert (status.state, status.differs, status.verified) == (State.DOWNLOADED, True, False)
    assert lib.read_meta(m)["state"] == "differs"
    ours(lib, "m", OTHER, state="differs", catalog_sha256=SHA, sha256="e" * 64)
    assert lib.verify(m).state is State.CORRUPT
    ours(lib, "m", OTHER, state="differs", catalog_sha256=SHA, size=len(OTHER))
    meta = lib.read_meta(m)
    meta["size"] = len(OTHER) + 1
    lib.write_meta(m, meta)  # not ours any more either (size): verified as not ours
    assert lib.verify(m).state is State.FOREIGN


def test_a_file_that_changes_while_it_is_hashed_records_nothing(lib):
    path = ours(lib, "m")
    m = lib.catalog.get("m")
    before = lib.meta_path(m).read_bytes()

    def touch(done, total):
        os.utime(path, ns=(done, done))  # another program writes to it meanwhile

    status = lib.verify(m, progress=touch)
    assert status.reason == "the file changed while it was being hashed; nothing was recorded"
    assert lib.meta_path(m).read_bytes() == before


def test_a_cancelled_verify_records_nothing(lib):
    ours(lib, "m")
    m = lib.catalog.get("m")
    before = lib.meta_path(m).read_bytes()
    assert lib.verify(m, cancelled=lambda: True).state is State.DOWNLOADED
    assert lib.meta_path(m).read_bytes() == before


def test_verifying_nothing_or_partial_data_reads_nothing(lib):
    m = lib.catalog.get("m")
    assert lib.verify(m).state is State.REMOTE
    partial(lib, "m", b"p", None)
    assert lib.verify(m).state is State.PARTIAL and not lib.meta_path(m).exists()


def test_a_users_file_matching_the_catalog_is_adopted_by_verify(lib):
    m = lib.catalog.get("m")
    lib.path(m).write_bytes(DATA)
    status = lib.verify(m)
    assert (status.state, status.verified) == (State.DOWNLOADED, True)
    meta = lib.read_meta(m)
    assert meta == {
        "url": URL,
        "catalog_url": URL,
        "etag": None,
        "size": len(DATA),
        "sha256": SHA,
        "state": "ok",
        "downloaded_at": None,
        "adopted_at": meta["adopted_at"],
        "verified_at": meta["adopted_at"],
        "sha256_found": SHA,
        "mtime_ns": os.lstat(lib.path(m)).st_mtime_ns,
    }
    assert isinstance(meta["adopted_at"], str)


def test_a_users_file_not_matching_the_catalog_stays_not_ours(lib):
    m = lib.catalog.get("m")
    lib.path(m).write_bytes(OTHER)
    status = lib.verify(m)
    assert (status.state, status.sha256, status.bytes, status.size) == (
        State.FOREIGN,
        sha256(OTHER),
        len(OTHER),
        len(DATA),
    )
    assert status.reason == (
        f"{NOT_OURS}; its sha256 {sha256(OTHER)} does not match the catalog's ({SHA}), or its size does not; "
        "left as it is, nothing recorded"
    )
    assert not lib.meta_path(m).exists()


def test_a_users_file_of_the_catalogs_sha256_but_another_size_is_not_adopted(tmp_path):
    library = make(tmp_path, [entry("m", URL, size=len(DATA) + 1, sha256=SHA)])
    library.root.mkdir()
    m = library.catalog.get("m")
    library.path(m).write_bytes(DATA)
    assert library.verify(m).state is State.FOREIGN and not library.meta_path(m).exists()
    assert library.adopt(m) is False


def test_a_users_file_with_nothing_known_beforehand_proves_nothing(lib):
    n = lib.catalog.get("n")
    lib.path(n).write_bytes(OTHER)
    status = lib.verify(n)
    assert (status.state, status.sha256, status.size) == (State.FOREIGN, sha256(OTHER), None)
    assert status.reason == (
        f"unverified: {NOT_OURS}; no size and sha256 were known for it beforehand, so its hash "
        "proves nothing and nothing was recorded"
    )
    assert not lib.meta_path(n).exists()


def test_our_file_whose_time_changed_is_ours_again_when_its_bytes_did_not(lib):
    n = lib.catalog.get("n")
    path = ours(lib, "n", OTHER)
    os.utime(path, ns=(1, 1))
    assert lib.status(n).state is State.FOREIGN
    status = lib.verify(n)
    assert status.state is State.DOWNLOADED
    meta = lib.read_meta(n)
    assert (meta["state"], meta["sha256_found"], meta["mtime_ns"], meta["downloaded_at"]) == (
        "ok",
        sha256(OTHER),
        1,
        WHEN,
    )
    path.write_bytes(DATA[: len(OTHER)])
    os.utime(path, ns=(2, 2))
    status = lib.verify(n)
    assert status.state is State.FOREIGN and "does not match the one recorded at download" in status.reason
    assert status.reason.startswith(
        "the file at this path was modified after ofa-manager wrote it; its sha256"
    )


def test_recorded_for_another_link_proves_nothing(lib):
    n = lib.catalog.get("n")
    path = ours(lib, "n", OTHER, catalog_url="https://example.org/other.pt")
    status = lib.verify(n)
    assert status.state is State.FOREIGN and status.reason.startswith("unverified: ")
    assert lib.read_meta(n)["catalog_url"] == "https://example.org/other.pt" and path.read_bytes() == OTHER


def test_adopting_a_users_file(lib, tmp_path):
    m, n = lib.catalog.get("m"), lib.catalog.get("n")
    lib.path(m).write_bytes(OTHER)
    assert lib.adopt(m) is False and not lib.meta_path(m).exists()
    lib.path(m).write_bytes(DATA)
    assert lib.adopt(m, cancelled=lambda: True) is False and not lib.meta_path(m).exists()
    assert lib.adopt(m) is True
    assert lib.status(m).state is State.DOWNLOADED and lib.read_meta(m)["adopted_at"]
    assert lib.adopt(m) is False  # ours already
    lib.path(n).write_bytes(DATA)
    assert lib.adopt(n) is False  # nothing known beforehand
    lib.forget(m)
    lib.path(m).unlink()
    os.symlink(tmp_path / "x", lib.path(m))
    assert lib.adopt(m) is False


def test_a_file_that_changes_while_it_is_adopted_is_not(lib, monkeypatch):
    m = lib.catalog.get("m")
    path = lib.path(m)
    path.write_bytes(DATA)
    real = lib.hash_file

    def touch_meanwhile(*args, **kwargs):
        digest = real(*args, **kwargs)
        os.utime(path, ns=(5, 5))
        return digest

    monkeypatch.setattr(lib, "hash_file", touch_meanwhile)
    assert lib.adopt(m) is False and not lib.meta_path(m).exists()


def test_a_store_copy_verified_records_its_hash_in_the_users_state_folder(tmp_path, stores):
    rows = [
        entry("m", URL, size=len(DATA), sha256=SHA),
        entry("s", "https://example.org/s.pt", size=len(OTHER)),
    ]
    library = store_lib(tmp_path, stores, rows)
    m, s = library.catalog.get("m"), library.catalog.get("s")
    assert library.verify_store(m) == (None, None, None)
    copy = stores[0] / "m.pt"
    copy.write_bytes(OTHER)
    assert library.verify_store(m) == (copy, sha256(OTHER), False)
    assert library.status(m).state is State.REMOTE  # its recorded hash now refuses it
    copy.write_bytes(DATA)
    os.utime(copy, ns=(7, 7))
    assert library.verify_store(m) == (copy, SHA, True)
    hashes = json.loads((tmp_path / "state" / "store-hashes.json").read_text())
    assert hashes == {
        "version": 1,
        "sha256": {
            f"{copy}|{len(OTHER)}|{hashes_key_time(hashes, 0)}": sha256(OTHER),
            f"{copy}|{len(DATA)}|7": SHA,
        },
    }
    assert library.status(m).verified is True
    (stores[0] / "s.pt").write_bytes(OTHER)
    assert library.verify_store(s) == (stores[0] / "s.pt", sha256(OTHER), None)  # nothing to match
    assert library.verify_store(m, cancelled=lambda: True) == (copy, None, None)


def hashes_key_time(hashes: dict, index: int) -> str:
    return list(hashes["sha256"])[index].rsplit("|", 1)[1]


def test_a_store_copy_that_changes_while_it_is_hashed_records_nothing(tmp_path, stores):
    library = store_lib(tmp_path, stores)
    m = library.catalog.get("m")
    copy = stores[0] / "m.pt"
    copy.write_bytes(DATA)
    assert library.verify_store(m, progress=lambda d, t: os.utime(copy, ns=(3, 3))) == (copy, None, None)
    assert not (tmp_path / "state" / "store-hashes.json").exists()


# library: the rejected copy, deleting, the disk figures


def test_a_rejected_download_is_kept_with_what_failed(lib):
    m = lib.catalog.get("m")
    partial(lib, "m", OTHER, record_of(len(DATA), (0, len(OTHER))))
    old = os.umask(0o022)
    try:
        kept = lib.quarantine(m, {"check": "sha256", "expected": SHA, "sha256": sha256(OTHER)})
    finally:
        os.umask(old)
    assert kept == lib.rejected_path(m) and kept.read_bytes() == OTHER
    assert not lib.part_path(m).exists() and not lib.record_path(m).exists()
    info = json.loads(lib.rejected_meta_path(m).read_text())
    st = os.lstat(kept)
    assert info == {
        "check": "sha256",
        "expected": SHA,
        "sha256": sha256(OTHER),
        "size": len(OTHER),
        "mtime_ns": st.st_mtime_ns,
        "catalog_url": URL,
        "rejected_at": info["rejected_at"],
    }
    assert isinstance(info["rejected_at"], str)
    assert stat.S_IMODE(os.stat(lib.rejected_meta_path(m)).st_mode) == 0o644
    assert lib.status(m).rejected == info
    # A later rejected download of ours replaces it.
    partial(lib, "m", DATA[:10], None)
    assert lib.quarantine(m, {"check": "md5", "sha256": SHA}) == kept and kept.read_bytes() == DATA[:10]
    assert lib.read_rejected(m)["check"] == "md5"


def test_a_rejected_download_is_discarded_where_the_rejected_name_is_not_ours(lib, tmp_path):
    m = lib.catalog.get("m")
    partial(lib, "m", OTHER, None)
    lib.rejected_path(m).write_bytes(b"theirs")
    assert lib.quarantine(m, {"check": "sha256"}) is None
    assert lib.rejected_path(m).read_bytes() == b"theirs" and not lib.part_path(m).exists()
    lib.rejected_path(m).unlink()
    os.symlink(tmp_path / "x", lib.rejected_path(m))
    partial(lib, "m", OTHER, None)
    assert lib.quarantine(m, {}) is None and not lib.part_path(m).exists()
    lib.rejected_path(m).unlink()
    lib.rejected_meta_path(m).mkdir()
    partial(lib, "m", OTHER, None)
    assert lib.quarantine(m, {}) is None and not lib.part_path(m).exists()
    assert not (tmp_path / "x").exists()


def test_keeping_a_rejected_copy_anyway(lib):
    m = lib.catalog.get("m")
    with pytest.raises(NotOursError) as caught:
        lib.accept_rejected(m)
    assert str(caught.value) == "m: no rejected download is kept (m.pt.rejected)"
    partial(lib, "m", OTHER, None)
    lib.quarantine(
        m,
        {
            "check": "sha256",
            "reason": "it did not match",
            "url": "https://mirror.example.org/m.pt",
            "etag": '"e1"',
            "sha256": sha256(OTHER),
            "downloaded_at": WHEN,
        },
    )
    partial(lib, "m", b"newer partial", None)
    status = lib.accept_rejected(m)
    assert (status.state, status.differs, status.verified) == (State.DOWNLOADED, True, False)
    assert lib.path(m).read_bytes() == OTHER
    assert not lib.part_path(m).exists() and not lib.rejected_meta_path(m).exists()
    assert not lib.rejected_path(m).exists()
    meta = lib.read_meta(m)
    assert {k: meta[k] for k in meta if k != "accepted_at"} == {
        "url": "https://mirror.example.org/m.pt",
        "catalog_url": URL,
        "etag": '"e1"',
        "size": len(OTHER),
        "sha256": sha256(OTHER),
        "verified": False,
        "verified_by": None,
        "state": "differs",
        "catalog_sha256": SHA,
        "rejected_check": "sha256",
        "rejected_reason": "it did not match",
        "downloaded_at": WHEN,
        "mtime_ns": os.lstat(lib.path(m)).st_mtime_ns,
    }
    assert isinstance(meta["accepted_at"], str)


def test_a_rejected_copy_with_a_doubtful_url_and_etag_keeps_the_catalogs(lib):
    m = lib.catalog.get("m")
    partial(lib, "m", OTHER, None)
    lib.quarantine(m, {"url": "ftp://x/m.pt", "etag": "a\nb", "sha256": sha256(OTHER)})
    lib.accept_rejected(m)
    meta = lib.read_meta(m)
    assert (meta["url"], meta["etag"], meta["rejected_check"]) == (URL, None, None)
    assert meta["downloaded_at"] == json.loads(json.dumps(meta))["downloaded_at"] and meta["downloaded_at"]


def test_a_rejected_copy_replaces_our_corrupt_file_never_another(lib):
    m = lib.catalog.get("m")
    ours(lib, "m", OTHER, sha256=sha256(OTHER))
    assert lib.status(m).state is State.CORRUPT
    partial(lib, "m", DATA[:-7] + b"1234567", None)
    lib.quarantine(m, {"sha256": sha256(DATA[:-7] + b"1234567")})
    assert lib.accept_rejected(m).state is State.DOWNLOADED
    assert lib.path(m).read_bytes() == DATA[:-7] + b"1234567"
    partial(lib, "m", b"again", None)
    lib.quarantine(m, {"sha256": sha256(b"again")})
    with pytest.raises(NotOursError) as caught:
        lib.accept_rejected(m)
    assert str(caught.value) == (
        f"{lib.path(m)} is already there (downloaded); "
        f"the rejected copy {lib.rejected_path(m)} was left as it is"
    )
    lib.forget(m)
    with pytest.raises(NotOursError, match=r"is already there \(not-ours\)"):
        lib.accept_rejected(m)
    assert lib.rejected_path(m).read_bytes() == b"again"


def test_deleting_the_rejected_copy(lib):
    m = lib.catalog.get("m")
    partial(lib, "m", OTHER, None)
    lib.quarantine(m, {"sha256": sha256(OTHER)})
    assert lib.delete_rejected(m) == len(OTHER)
    assert not lib.rejected_path(m).exists() and not lib.rejected_meta_path(m).exists()
    lib.rejected_path(m).write_bytes(b"theirs")
    lib.rejected_meta_path(m).write_text("{}")
    assert lib.delete_rejected(m) == 0
    assert lib.rejected_path(m).read_bytes() == b"theirs" and not lib.rejected_meta_path(m).exists()


def test_deleting_our_file_and_its_partial_data(lib):
    m = lib.catalog.get("m")
    ours(lib, "m")
    partial(lib, "m", b"p" * 300, None)
    assert lib.delete(m, partial_only=True) == 300
    assert lib.path(m).exists() and lib.meta_path(m).exists() and not lib.part_path(m).exists()
    assert lib.delete(m) == len(DATA)
    assert not lib.path(m).exists() and not lib.meta_path(m).exists()
    assert lib.delete(m) == 0


def test_deleting_our_file_frees_its_bytes_and_its_partial_datas_together(lib):
    m = lib.catalog.get("m")
    ours(lib, "m")
    partial(lib, "m", b"p" * 300, None)
    assert lib.delete(m) == len(DATA) + 300
    assert not lib.path(m).exists() and not lib.part_path(m).exists()


def test_the_disk_figures_add_up_every_file_and_count_a_shared_one_once(tmp_path):
    rows = [
        entry("m", URL, size=len(DATA), sha256=SHA),
        entry("q", "https://example.org/files/q.pt"),
        entry("p", "https://example.org/files/p.pt"),
        entry("p2", "https://example.org/files/p2.pt"),
        entry("r", "https://example.org/files/r.pt", size=10),
        entry("r-alias", "https://example.org/files/r.pt"),
        entry("r2", "https://example.org/files/r2.pt", size=10),
    ]
    library = make(tmp_path, rows)
    library.root.mkdir()
    ours(library, "m")
    ours(library, "q", b"q" * 500)
    partial(library, "p", b"p" * 5000, None)
    partial(library, "p2", b"P" * 2000, None)
    rejected(library, "r", b"r" * 90)
    rejected(library, "r2", b"R" * 30)
    usage = library.disk_usage()
    assert (usage.downloaded, usage.partial, usage.rejected) == (len(DATA) + 500, 7000, 120)
    meta_bytes = sum(os.path.getsize(p) for p in library.root.glob(".*.json"))
    assert usage.other == meta_bytes  # the partial files and the rejected copies are not other data
    assert usage.per_entry == {
        "m": len(DATA),
        "q": 500,
        "p": 5000,
        "p2": 2000,
        "r": 0,
        "r-alias": 0,
        "r2": 0,
    }


def test_a_file_not_ours_is_deleted_only_when_forced_a_link_never(lib, tmp_path):
    m = lib.catalog.get("m")
    lib.path(m).write_bytes(b"theirs")
    with pytest.raises(NotOursError) as caught:
        lib.delete(m)
    assert str(caught.value) == f"{lib.path(m)}: {NOT_OURS}; not deleted (--force deletes it)"
    assert lib.path(m).read_bytes() == b"theirs"
    assert lib.delete(m, force=True) == len(b"theirs") and not lib.path(m).exists()
    (tmp_path / "t").write_bytes(b"t")
    os.symlink(tmp_path / "t", lib.path(m))
    for force in (False, True):
        with pytest.raises(NotOursError) as caught:
            lib.delete(m, force=force)
        assert str(caught.value) == f"a symbolic link is at {lib.path(m)}; ofa-manager leaves it alone"
    assert os.path.islink(lib.path(m)) and (tmp_path / "t").exists()


def test_a_delete_waits_for_a_download_holding_the_file_then_goes_ahead(lib, monkeypatch):
    from ofa_manager.core import library as library_module

    m = lib.catalog.get("m")
    ours(lib, "m")
    monkeypatch.setattr(library_module, "DELETE_WAIT", 0.01)
    taken, done = threading.Event(), threading.Event()

    def download():
        with lib.lock(m).acquire():
            taken.set()
            done.wait()

    thread = threading.Thread(target=download)
    thread.start()
    taken.wait()
    try:
        assert lib.delete(m) == len(DATA) and not lib.path(m).exists()
    finally:
        done.set()
        thread.join()
    with lib.lock(m).acquire(timeout=0):  # the delete left no lock behind
        pass


def test_the_disk_figures(tmp_path, stores):
    rows = [
        entry("m", URL, size=len(DATA), sha256=SHA),
        entry("alias", URL),
        entry("p", "https://example.org/files/p.pt"),
        entry("f", "https://example.org/files/f.pt"),
        entry("r", "https://example.org/files/r.pt", size=10),
        entry("s", "https://example.org/files/s.pt", size=3),
        entry("s2", "https://example.org/files/s.pt"),
    ]
    library = make(tmp_path, rows, stores=[stores[0]])
    library.root.mkdir()
    ours(library, "m")
    partial(library, "p", b"p" * 5000, {"url": URL, "size": 8000, "ranges": [[0, 3000]]})
    library.path(library.catalog.get("f")).write_bytes(b"f" * 700)
    rejected(library, "r", b"r" * 90)
    (stores[0] / "s.pt").write_bytes(b"sss")
    (library.root / "notes.txt").write_bytes(b"n" * 40)
    usage = library.disk_usage()
    meta_bytes = sum(os.path.getsize(p) for p in library.root.glob(".*.json"))
    record_bytes = os.path.getsize(library.record_path(library.catalog.get("p")))
    assert (usage.downloaded, usage.partial, usage.in_stores, usage.rejected) == (len(DATA), 3000, 3, 90)
    assert usage.other == 700 + 40 + meta_bytes + record_bytes  # the partial file counts as partial
    assert usage.per_file == {str(library.root / "m.pt"): len(DATA), str(library.root / "p.pt"): 3000}
    assert usage.per_entry == {"m": len(DATA), "alias": len(DATA), "p": 3000, "f": 0, "r": 0, "s": 0, "s2": 0}
    assert 0 < usage.free <= usage.total


def test_the_disk_figures_of_a_folder_not_made_yet(tmp_path):
    library = make(tmp_path, [entry("m", URL)], folder="not/yet")
    usage = library.disk_usage()
    assert (usage.downloaded, usage.partial, usage.other, usage.per_file) == (0, 0, 0, {})
    assert usage.total > 0


def test_a_store_copy_under_the_plain_name_is_found_past_what_blocks_the_host_folders_name(tmp_path, stores):
    rows = [entry("a", "https://a.org/x.pt", size=1), entry("b", "https://b.org/x.pt", size=2)]
    library = store_lib(tmp_path, stores, rows)
    a = library.catalog.get("a")
    (stores[0] / "a.org").mkdir()
    os.symlink(stores[1] / "elsewhere", stores[0] / "a.org" / "x.pt")  # a link: not taken
    (stores[0] / "x.pt").write_bytes(b"1")
    found, why = library.store_file(a)
    assert (found[0], why) == (stores[0] / "x.pt", "")
    (stores[0] / "a.org" / "x.pt").unlink()
    (stores[0] / "a.org" / "x.pt").write_bytes(b"too long")  # another size: not taken
    found, why = library.store_file(a)
    assert (found, why) == ((stores[0] / "x.pt", os.lstat(stores[0] / "x.pt"), None), "")


def test_no_store_copy_anywhere_has_no_reason(tmp_path, stores):
    library = store_lib(tmp_path, stores)
    assert library.store_file(library.catalog.get("m")) == (None, "")


def test_the_resume_record_is_not_fsynced_the_metadata_is(lib, monkeypatch):
    # A crash cannot be staged here: os.fsync is wrapped to see which writes sync (the real call still runs).
    from ofa_manager.core import durable

    synced = []
    real = os.fsync
    monkeypatch.setattr(durable.os, "fsync", lambda fd: synced.append(fd) or real(fd))
    m = lib.catalog.get("m")
    lib.write_record(m, {"size": 1})
    assert synced == [] and json.loads(lib.record_path(m).read_text()) == {"size": 1}
    lib.write_meta(m, {"size": 1})
    assert synced != []


def test_a_kept_copy_without_a_download_time_keeps_the_time_it_was_rejected(lib):
    m = lib.catalog.get("m")
    partial(lib, "m", OTHER, None)
    lib.quarantine(m, {"sha256": sha256(OTHER)})
    sidecar = json.loads(lib.rejected_meta_path(m).read_text())
    sidecar["rejected_at"] = "2020-01-02T03:04:05+0000"  # long ago: not the time it is accepted
    lib.rejected_meta_path(m).write_text(json.dumps(sidecar))
    lib.accept_rejected(m)
    assert lib.read_meta(m)["downloaded_at"] == "2020-01-02T03:04:05+0000"


def test_a_file_that_takes_the_final_name_meanwhile_is_left_and_nothing_recorded(lib, monkeypatch):
    # Another program creating the file between the check and the rename cannot be timed here: the rename
    # is wrapped to create it first.
    from ofa_manager.core import library as library_module

    m = lib.catalog.get("m")
    partial(lib, "m", OTHER, None)
    lib.quarantine(m, {"sha256": sha256(OTHER)})
    real = library_module.place_file

    def someone_first(source, final, *, replace):
        final.write_bytes(b"theirs")
        return real(source, final, replace=replace)

    monkeypatch.setattr(library_module, "place_file", someone_first)
    with pytest.raises(NotOursError):
        lib.accept_rejected(m)
    assert lib.path(m).read_bytes() == b"theirs" and not lib.meta_path(m).exists()
    assert lib.rejected_path(m).read_bytes() == OTHER
