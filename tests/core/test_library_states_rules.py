"""core/library_states.py beyond tests/core/test_library_rules.py: the figures of a file that is not ours
(its path, no bytes counted, the catalog's size), a store copy verified against nothing, the next name
in a store tried past a copy recorded with another sha256, and the folder listed instead of each file
looked at. Files are made by hand as a download or a user would leave them."""

from __future__ import annotations

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from tests.catalogs import entry, load, payload, sha256, write_catalog

DATA = payload(40_000, 9)
OTHER = DATA[:-1] + bytes([DATA[-1] ^ 1])  # the same size, other bytes
SHA = sha256(DATA)
SIZE = len(DATA)


def make(tmp_path, rows: list[dict], stores=()) -> Library:
    library = Library(
        tmp_path / "models",
        load(write_catalog(tmp_path / "c.json", rows)),
        stores=stores,
        state_folder=tmp_path / "state",
    )
    library.root.mkdir(parents=True)
    return library


@pytest.fixture
def stores(tmp_path):
    one, two = tmp_path / "store1", tmp_path / "store2"
    one.mkdir()
    two.mkdir()
    return one, two


def figures(library: Library, entry_id: str) -> tuple:
    status = library.status(library.catalog.get(entry_id))
    return status.state, status.path, status.bytes, status.size


def test_what_blocks_a_files_names_counts_no_bytes_and_keeps_the_catalogs_size(tmp_path):
    library = make(
        tmp_path, [entry("a", "https://a.org/m.pt", size=SIZE), entry("b", "https://b.org/m.pt", size=SIZE)]
    )
    a, b = library.catalog.get("a"), library.catalog.get("b")
    (library.root / "a.org").write_bytes(b"x" * 10)  # a file where the host's folder belongs
    assert figures(library, "a") == (State.FOREIGN, library.path(a), 0, SIZE)
    (library.root / "b.org").mkdir()
    library.path(b).mkdir()  # a folder at the final name
    (library.path(b) / "inside").write_bytes(b"y" * 10)
    assert figures(library, "b") == (State.FOREIGN, library.path(b), 0, SIZE)
    library.path(b).rename(tmp_path / "moved")
    library.part_path(b).mkdir()  # a folder at the partial name
    assert figures(library, "b") == (State.FOREIGN, library.path(b), 0, SIZE)


def test_a_users_file_counts_its_bytes_and_keeps_the_catalogs_size(tmp_path):
    library = make(tmp_path, [entry("m", "https://a.org/m.pt", size=SIZE + 1)])
    m = library.catalog.get("m")
    library.path(m).write_bytes(DATA)
    assert figures(library, "m") == (State.FOREIGN, library.path(m), SIZE, SIZE + 1)


def test_a_store_copy_is_verified_only_against_a_catalog_sha256(tmp_path, stores):
    library = make(tmp_path, [entry("s", "https://a.org/s.pt", size=SIZE)], stores=stores)
    s = library.catalog.get("s")
    copy = stores[0] / "s.pt"
    copy.write_bytes(DATA)
    assert library.verify_store(s) == (copy, SHA, None)  # a hash recorded, nothing to match it with
    status = library.status(s)
    assert (status.state, status.sha256, status.verified) == (State.IN_STORE, SHA, False)


def test_past_a_copy_recorded_with_another_sha256_the_next_name_in_the_same_store_is_tried(tmp_path, stores):
    rows = [entry("a", "https://a.org/x.pt", size=SIZE, sha256=SHA), entry("b", "https://b.org/x.pt")]
    library = make(tmp_path, rows, stores=stores)  # two x.pt: each in its host's folder
    a = library.catalog.get("a")
    (stores[0] / "a.org").mkdir()
    rotten = stores[0] / "a.org" / "x.pt"
    rotten.write_bytes(OTHER)
    assert library.verify_store(a) == (rotten, sha256(OTHER), False)  # recorded: not used from now on
    (stores[0] / "x.pt").write_bytes(DATA)
    found, why = library.store_file(a)
    assert (found[0], why) == (stores[0] / "x.pt", "")
    assert library.status(a).state is State.IN_STORE


def test_files_not_in_the_listed_folder_are_not_looked_at_one_by_one(tmp_path, monkeypatch):
    library = make(
        tmp_path,
        [
            entry("m", "https://a.org/m.pt", size=SIZE),
            entry("n", "https://a.org/n.pt"),
            entry("o", "https://b.org/o.pt"),
        ],
    )
    n = library.catalog.get("n")
    library.path(n).parent.mkdir(parents=True, exist_ok=True)
    library.part_path(n).write_bytes(DATA[:100])
    looked_at = []
    real = library.status
    monkeypatch.setattr(library, "status", lambda e: looked_at.append(e.id) or real(e))
    result = library.statuses()
    assert looked_at == ["n"]  # only the file whose partial data the listing found
    assert {k: v.state for k, v in result.items()} == {
        "m": State.REMOTE,
        "n": State.PARTIAL,
        "o": State.REMOTE,
    }
