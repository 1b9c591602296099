"""core/names.py rule by rule: the folder named for a host, the hashed name, which URL gets which path, the
names kept beside a file, and which files under earlier names are moved (and which never are)."""

from __future__ import annotations

import hashlib
import json
import os
import threading

import pytest

from ofa_manager.core import names
from ofa_manager.core.library import Library
from tests.catalogs import entry, load, write_catalog

A1 = "https://a.example.org/x/model.pt"
A2 = "https://a.example.org/z/model.pt"
B = "https://B.example.org/y/model.pt"


def short(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:8]


@pytest.mark.parametrize(
    ("url", "folder"),
    [
        ("https://Example.ORG/x/m.pt", "example.org"),
        ("http://127.0.0.1:8080/m.pt", "127.0.0.1_8080"),
        ("http://host:99999/m.pt", "host"),  # a port no URL can have is left out
        ("http://host:0/m.pt", "host"),
        ("file:///tmp/m.pt", "unknown-host"),
        ("http://[::1]:81/m.pt", "__1_81"),  # what a file name cannot hold becomes "_"
        ("http://.example./m.pt", "example"),  # no hidden folder, no trailing dot
        ("http://.../m.pt", "unknown-host"),
        ("http://user:pw@Host.org/m.pt", "host.org"),
    ],
)
def test_the_folder_named_for_a_urls_host(url, folder):
    assert names.host_folder(url) == folder


def test_a_hashed_name_keeps_the_suffix_after_eight_hex_digits_of_the_urls_sha256():
    assert names.hashed_name("model.pt", A1) == f"model-{short(A1)}.pt"
    assert names.hashed_name("model", A1) == f"model-{short(A1)}"
    assert names.hashed_name("m.tar.gz", A2) == f"m.tar-{short(A2)}.gz"


def test_each_url_gets_a_path_and_a_name_colliding_ignoring_case_goes_in_host_folders(tmp_path):
    wanted = {A1: "model.pt", B: "Model.pt", "https://c.example.org/own.pt": "own.pt"}  # B's own name
    paths, earlier = names.assign(tmp_path, wanted)
    assert paths == {
        A1: tmp_path / "a.example.org" / "model.pt",
        B: tmp_path / "b.example.org" / "Model.pt",
        "https://c.example.org/own.pt": tmp_path / "own.pt",
    }
    assert earlier == {
        A1: [tmp_path / f"model-{short(A1)}.pt", tmp_path / "model.pt"],
        B: [tmp_path / f"Model-{short(B)}.pt", tmp_path / "Model.pt"],
    }


def test_one_host_publishing_a_name_twice_hashes_both_in_its_folder(tmp_path):
    paths, earlier = names.assign(tmp_path, {A1: "model.pt", A2: "model.pt", B: "model.pt"})
    assert paths[A1] == tmp_path / "a.example.org" / f"model-{short(A1)}.pt"
    assert paths[A2] == tmp_path / "a.example.org" / f"model-{short(A2)}.pt"
    assert paths[B] == tmp_path / "b.example.org" / "model.pt"  # alone on its host
    assert earlier[A2] == [tmp_path / f"model-{short(A2)}.pt", tmp_path / "model.pt"]


def test_hosts_differing_only_in_case_are_one_host(tmp_path):
    upper = "https://A.EXAMPLE.ORG/q/model.pt"
    paths, _ = names.assign(tmp_path, {A1: "model.pt", upper: "model.pt"})
    assert paths[upper] == tmp_path / "a.example.org" / f"model-{short(upper)}.pt"


def test_the_names_kept_beside_a_file(tmp_path):
    assert [p.name for p in names.beside(tmp_path / "m.pt")] == [
        "m.pt",
        "m.pt.part",
        "m.pt.part.json",
        ".m.pt.meta.json",
        "m.pt.rejected",
        ".m.pt.rejected.json",
    ]
    assert {p.parent for p in names.beside(tmp_path / "m.pt")} == {tmp_path}


# Files under earlier names, made by hand (as an earlier version left them).


@pytest.fixture
def library(tmp_path, models_dir):
    catalog = write_catalog(tmp_path / "c.json", [entry("one", A1), entry("two", B)])
    return Library(models_dir, load(catalog))


def put(path, data: bytes = b"data") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def meta_naming(url: str) -> bytes:
    return json.dumps({"catalog_url": url, "url": url}).encode()


def test_a_hash_named_file_and_the_files_beside_it_move_to_the_name_now(library):
    one = library.catalog.get("one")
    old = library.root / f"model-{short(A1)}.pt"
    olds = names.beside(old)
    put(olds[0], b"file")
    put(olds[1], b"part")
    put(olds[3], b"{}")
    new = names.beside(library.path(one))
    put(new[2], b"stale record")  # would describe the moved file wrongly: it goes
    moved = names.adopt_earlier_name(library, one)
    assert moved == [(olds[0], new[0]), (olds[1], new[1]), (olds[3], new[3])]
    assert new[0].read_bytes() == b"file" and new[1].read_bytes() == b"part" and new[3].read_bytes() == b"{}"
    assert not any(os.path.lexists(p) for p in olds)
    assert not os.path.lexists(new[2])


def test_a_link_beside_the_new_name_is_not_removed(library, tmp_path):
    one = library.catalog.get("one")
    olds = names.beside(library.root / f"model-{short(A1)}.pt")
    put(olds[0], b"file")
    new = names.beside(library.path(one))
    new[0].parent.mkdir(parents=True)
    (tmp_path / "elsewhere").write_text("keep")
    os.symlink(tmp_path / "elsewhere", new[3])
    assert names.adopt_earlier_name(library, one) == [(olds[0], new[0])]
    assert os.path.islink(new[3]) and (tmp_path / "elsewhere").read_text() == "keep"


def test_a_link_at_any_earlier_name_leaves_all_of_them_where_they_are(library, tmp_path):
    one = library.catalog.get("one")
    olds = names.beside(library.root / f"model-{short(A1)}.pt")
    put(olds[0], b"file")
    os.symlink(tmp_path / "x", olds[4])
    assert names.adopt_earlier_name(library, one) == []
    assert olds[0].read_bytes() == b"file" and not os.path.lexists(library.path(one))


def test_nothing_under_an_earlier_name_moves_nothing(library):
    assert names.adopt_earlier_name(library, library.catalog.get("one")) == []
    assert names.adopt_earlier_names(library) == []


@pytest.mark.parametrize("taken", [0, 1])
def test_a_new_name_taken_by_a_file_or_partial_data_leaves_the_earlier_one(library, taken):
    one = library.catalog.get("one")
    olds = names.beside(library.root / f"model-{short(A1)}.pt")
    put(olds[0], b"file")
    put(names.beside(library.path(one))[taken], b"someone's")
    assert names.adopt_earlier_name(library, one) == []
    assert olds[0].read_bytes() == b"file"


def test_a_file_where_the_hosts_folder_belongs_leaves_the_earlier_name(library):
    one = library.catalog.get("one")
    olds = names.beside(library.root / f"model-{short(A1)}.pt")
    put(olds[0], b"file")
    library.path(one).parent.write_bytes(b"not a folder")
    assert names.adopt_earlier_name(library, one) == []
    assert olds[0].read_bytes() == b"file"


def test_the_plain_name_moves_only_when_its_metadata_names_this_url(library):
    one, two = library.catalog.get("one"), library.catalog.get("two")
    plain = names.beside(library.root / "model.pt")
    put(plain[0], b"file")
    put(plain[3], meta_naming(A1))
    assert names.adopt_earlier_name(library, two) == []  # B: it names another URL
    assert plain[0].exists()
    moved = names.adopt_earlier_name(library, one)
    assert moved == [(plain[0], library.path(one)), (plain[3], names.beside(library.path(one))[3])]


@pytest.mark.parametrize("meta", [None, b"{}", json.dumps({"catalog_url": 5}).encode(), b"not json"])
def test_the_plain_name_without_metadata_naming_a_url_stays(library, meta):
    one = library.catalog.get("one")
    plain = names.beside(library.root / "model.pt")
    put(plain[0], b"someone's")
    if meta is not None:
        put(plain[3], meta)
    assert names.adopt_earlier_name(library, one) == []
    assert plain[0].read_bytes() == b"someone's"


def test_partial_data_at_the_plain_name_moves_when_its_record_names_this_url(library):
    one = library.catalog.get("one")
    plain = names.beside(library.root / "model.pt")
    put(plain[1], b"part")
    put(plain[2], json.dumps({"url": A1}).encode())
    put(plain[3], meta_naming(B))  # a finished file's metadata says nothing of partial data
    moved = names.adopt_earlier_name(library, one)
    assert [target.name for _, target in moved] == [
        "model.pt.part",
        "model.pt.part.json",
        ".model.pt.meta.json",
    ]


def test_partial_data_at_the_plain_name_whose_record_names_another_url_stays(library):
    one = library.catalog.get("one")
    plain = names.beside(library.root / "model.pt")
    put(plain[1], b"part")
    put(plain[2], json.dumps({"url": B}).encode())
    put(plain[3], meta_naming(A1))
    assert names.adopt_earlier_name(library, one) == []


def test_a_file_of_credentials_in_its_recorded_url_is_this_urls_file(tmp_path, models_dir):
    secret = "https://user:pw@a.example.org/x/model.pt"
    catalog = write_catalog(tmp_path / "c.json", [entry("one", secret), entry("two", B)])
    library = Library(models_dir, load(catalog))
    plain = names.beside(library.root / "model.pt")
    put(plain[0], b"file")
    put(plain[3], meta_naming("https://***@a.example.org/x/model.pt"))
    assert names.adopt_earlier_name(library, library.catalog.get("one")) != []


def hold(lock):
    """Holds ``lock`` on another thread (as another download would) until the returned function is called
    (which returns once the lock is released)."""
    taken, done = threading.Event(), threading.Event()

    def run():
        with lock.acquire():
            taken.set()
            done.wait()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    taken.wait()

    def release():
        done.set()
        thread.join()

    return release


@pytest.mark.parametrize("which", ["old", "new"])
def test_nothing_moves_while_a_download_holds_either_name(library, which):
    from ofa_manager.core.sharing import FolderLock

    one = library.catalog.get("one")
    old = library.root / f"model-{short(A1)}.pt"
    put(old, b"file")
    lock = FolderLock(old.with_name(f".{old.name}.lock")) if which == "old" else library.lock(one)
    release = hold(lock)
    try:
        assert names.adopt_earlier_name(library, one) == []
        assert old.read_bytes() == b"file"
    finally:
        release()
    assert names.adopt_earlier_name(library, one) == [(old, library.path(one))]


def test_every_entry_or_the_ones_asked_for_are_adopted_once_per_file(tmp_path, models_dir):
    catalog = write_catalog(tmp_path / "c.json", [entry("one", A1), entry("again", A1), entry("two", B)])
    library = Library(models_dir, load(catalog))
    one, two = library.catalog.get("one"), library.catalog.get("two")
    put(library.root / f"model-{short(A1)}.pt", b"1")
    put(library.root / f"model-{short(B)}.pt", b"2")
    assert names.adopt_earlier_names(library, [two]) == [
        (library.root / f"model-{short(B)}.pt", library.path(two))
    ]
    assert names.adopt_earlier_names(library) == [(library.root / f"model-{short(A1)}.pt", library.path(one))]


@pytest.fixture
def one_host(tmp_path, models_dir):
    """Two URLs of one host publishing one name: each gets a hashed name in the host's folder."""
    catalog = write_catalog(tmp_path / "c.json", [entry("one", A1), entry("own", A2)])
    return Library(models_dir, load(catalog))


def test_one_host_the_plain_name_moves_only_to_the_url_its_metadata_names(one_host):
    one, own = one_host.catalog.get("one"), one_host.catalog.get("own")
    plain = names.beside(one_host.root / "model.pt")
    put(plain[0], b"own's file")
    put(plain[3], meta_naming(A2))
    assert names.adopt_earlier_name(one_host, one) == []  # not A1's: it stays
    assert plain[0].read_bytes() == b"own's file"
    assert names.adopt_earlier_name(one_host, own) == [
        (plain[0], one_host.path(own)),
        (plain[3], names.beside(one_host.path(own))[3]),
    ]


def test_one_host_a_hash_named_file_always_belongs_to_its_url(one_host):
    one = one_host.catalog.get("one")
    hashed = names.beside(one_host.root / f"model-{short(A1)}.pt")
    put(hashed[1], b"partial data, no record")
    assert names.adopt_earlier_name(one_host, one) == [(hashed[1], names.beside(one_host.path(one))[1])]


def test_a_held_earlier_name_is_skipped_and_the_next_one_tried(library):
    from ofa_manager.core.sharing import FolderLock

    one = library.catalog.get("one")
    hashed = library.root / f"model-{short(A1)}.pt"
    put(hashed, b"hashed")
    plain = names.beside(library.root / "model.pt")
    put(plain[0], b"plain")
    put(plain[3], meta_naming(A1))
    release = hold(FolderLock(hashed.with_name(f".{hashed.name}.lock")))
    try:
        assert names.adopt_earlier_name(library, one) == [
            (plain[0], library.path(one)),
            (plain[3], names.beside(library.path(one))[3]),
        ]
    finally:
        release()
    assert hashed.read_bytes() == b"hashed"


def test_a_unique_name_before_colliding_ones_leaves_them_their_paths(tmp_path):
    paths, _ = names.assign(
        tmp_path, {"https://c.example.org/own.pt": "own.pt", A1: "model.pt", B: "model.pt"}
    )
    assert paths[A1] == tmp_path / "a.example.org" / "model.pt"
    assert paths[B] == tmp_path / "b.example.org" / "model.pt"
