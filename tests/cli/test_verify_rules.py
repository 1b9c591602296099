"""`verify` and `check`, in this process: each line verify prints for a file (ok and how, corrupt, not ours,
not downloaded, in a shared store), its count line and exit code; every field of check's JSON rows and its
text."""

from __future__ import annotations

import json
import os

import pytest

from tests.catalogs import entry, payload, rot, run_cli, sha256, when_open, write_catalog
from tests.httpserver import crc64_xz, oss_headers
from tests.scenes import Shelf

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def shelf(tmp_path, models_dir, http_server) -> Shelf:
    return Shelf(tmp_path, models_dir, http_server)


def get(capsys, shelf, *ids: str) -> None:
    assert run_cli(capsys, *shelf.args, "download", *ids, "--no-backbone")[0] == 0


def verify(capsys, shelf, *ids: str) -> tuple[int, list[str]]:
    code, out, _ = run_cli(capsys, *shelf.args, "verify", *ids)
    return code, [line for line in out.splitlines() if not line.startswith("  warning: ")]


# -- verify -----------------------------------------------------------------------------------------


def test_verify_says_how_each_file_is_known_good(capsys, shelf):
    get(capsys, shelf, "good", "shared-a")
    code, lines = verify(capsys, shelf)
    assert code == 0
    good, shared = sha256(shelf.files["good"]), sha256(shelf.files["shared"])
    assert lines == [
        f"good: ok (293.0 KiB, sha256 {good}; verified against the catalog sha256)",
        f"shared-a, shared-b: ok (195.3 KiB, sha256 {shared}; hash recorded)",
        "2 file(s) checked, 0 corrupt",
    ]


def test_verify_of_named_entries_says_which_are_not_downloaded(capsys, shelf, http_server):
    code, lines = verify(capsys, shelf, "good", "bad")
    assert code == 0
    assert lines == [
        "good: not downloaded (remote)",
        "bad: not downloaded (remote)",
        "0 file(s) checked, 0 corrupt",
    ]
    code, lines = verify(capsys, shelf)
    assert code == 0 and lines == ["0 file(s) checked, 0 corrupt"]  # nothing named: only what is here


def test_verify_of_a_damaged_file_exits_1_naming_both_hashes(capsys, shelf):
    get(capsys, shelf, "good")
    rot(shelf.dir / "good.pt")
    code, lines = verify(capsys, shelf, "good")
    assert code == 1
    damaged = sha256((shelf.dir / "good.pt").read_bytes())
    assert lines == [
        f"good: CORRUPT ({shelf.dir.resolve() / 'good.pt'}): sha256 {damaged} does not match the expected "
        f"{sha256(shelf.files['good'])}",
        "1 file(s) checked, 1 corrupt",
    ]


def test_verify_counts_every_damaged_file_and_names_the_recorded_hash_without_a_catalog_one(capsys, shelf):
    get(capsys, shelf, "good", "shared-a")
    rot(shelf.dir / "good.pt")
    rot(shelf.dir / "shared.pt")
    code, lines = verify(capsys, shelf)
    assert code == 1
    good, shared = (sha256((shelf.dir / name).read_bytes()) for name in ("good.pt", "shared.pt"))
    assert lines == [
        f"good: CORRUPT ({shelf.dir.resolve() / 'good.pt'}): sha256 {good} does not match the expected "
        f"{sha256(shelf.files['good'])}",
        # shared has no sha256 in the catalog: the one recorded when it arrived is what it is held to.
        f"shared-a, shared-b: CORRUPT ({shelf.dir.resolve() / 'shared.pt'}): sha256 {shared} does not match "
        f"the expected {sha256(shelf.files['shared'])}",
        "2 file(s) checked, 2 corrupt",
    ]


def test_verify_counts_every_file_it_did_not_write(capsys, shelf):
    (shelf.dir / "good.pt").write_bytes(b"the user's own file")
    (shelf.dir / "shared.pt").write_bytes(b"another file of the user's")
    code, lines = verify(capsys, shelf)
    assert code == 1
    # good's catalog hash says it is not ours; shared has none, so what is found there is unverified.
    assert [line.split(" (")[0] for line in lines[:2]] == ["good: NOT OURS", "shared-a, shared-b: UNVERIFIED"]
    assert lines[2:] == ["2 file(s) checked, 0 corrupt, 2 not ours (unverified or not matching)"]


def test_verify_of_a_file_it_did_not_write_exits_1(capsys, shelf):
    (shelf.dir / "good.pt").write_bytes(b"the user's own file")
    code, lines = verify(capsys, shelf)
    assert code == 1
    assert lines[0].startswith(f"good: NOT OURS ({shelf.dir.resolve() / 'good.pt'}): ")
    assert lines[1:] == ["1 file(s) checked, 0 corrupt, 1 not ours (unverified or not matching)"]
    assert (shelf.dir / "good.pt").read_bytes() == b"the user's own file"


def test_verify_of_a_file_of_the_right_size_found_here_is_unverified(capsys, shelf):
    (shelf.dir / "shared.pt").write_bytes(shelf.files["shared"])
    code, lines = verify(capsys, shelf)
    assert code == 1
    assert lines[0].startswith(f"shared-a, shared-b: UNVERIFIED ({shelf.dir.resolve() / 'shared.pt'}): ")
    assert "unverified: " not in lines[0]
    assert lines[1:] == ["1 file(s) checked, 0 corrupt, 1 not ours (unverified or not matching)"]


def test_verify_does_not_hash_what_is_not_a_file(capsys, shelf):
    (shelf.dir / "good.pt").mkdir()
    code, lines = verify(capsys, shelf, "good")
    assert code == 1
    assert lines == [
        f"good: NOT OURS ({shelf.dir.resolve() / 'good.pt'}): a folder is at this path; "
        "ofa-manager leaves it alone",
        "1 file(s) checked, 0 corrupt, 1 not ours (unverified or not matching)",
    ]
    assert (shelf.dir / "good.pt").is_dir()


def test_verify_names_the_server_fingerprint_a_file_was_checked_against(
    capsys, tmp_path, models_dir, http_server
):
    data = payload(100_000, 9)
    http_server.add("/crc.pt", data, headers=oss_headers(data))
    catalog = write_catalog(tmp_path / "crc.json", [entry("crc", http_server.url("/crc.pt"))])
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert run_cli(capsys, *args, "download", "crc")[0] == 0
    code, out, _ = run_cli(capsys, *args, "verify")
    assert code == 0
    assert out.splitlines() == [
        f"crc: ok (97.7 KiB, sha256 {sha256(data)}; hash recorded, verified against the server's CRC-64 "
        "on arrival)",
        "1 file(s) checked, 0 corrupt",
    ]


def test_verify_of_a_store_file_hashes_it_and_says_whether_it_is_used(
    capsys, tmp_path, models_dir, http_server
):
    store = tmp_path / "store"
    store.mkdir()
    shelf = Shelf(tmp_path, models_dir, http_server, store=store)
    (store / "good.pt").write_bytes(shelf.files["good"])
    code, lines = verify(capsys, shelf)
    assert code == 0
    assert lines == [
        f"good: ok in the shared store ({store / 'good.pt'}, sha256 {sha256(shelf.files['good'])}; "
        "verified against the catalog sha256)",
        "1 file(s) checked, 0 corrupt",
    ]
    rotten = bytearray(shelf.files["good"])
    rotten[10] ^= 1
    (store / "good.pt").write_bytes(bytes(rotten))
    code, lines = verify(capsys, shelf)
    assert code == 1
    assert lines == [
        f"good: CORRUPT in the shared store ({store / 'good.pt'}): sha256 {sha256(bytes(rotten))} does not "
        f"match the catalog's {sha256(shelf.files['good'])}; it is no longer used (read-only: tell its "
        "administrator)",
        "1 file(s) checked, 1 corrupt",
    ]


# -- check ------------------------------------------------------------------------------------------


def test_check_json_has_every_field_of_each_url(capsys, tmp_path, models_dir, http_server):
    data = payload(5000, 4)
    http_server.add("/a.pt", data, headers=oss_headers(data), etag='"E1"')
    http_server.add("/gone.pt", b"", statuses=[404])
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("a", http_server.url("/a.pt")),
            entry("b", http_server.url("/a.pt")),
            entry("gone", f"http://user:pw@127.0.0.1:{http_server.port}/gone.pt"),
        ],
    )
    code, out, _ = run_cli(capsys, "--dir", str(models_dir), "--catalog", str(catalog), "check", "--json")
    assert code == 1
    assert out.startswith('[\n  {\n    "url": ')
    rows = json.loads(out)
    assert rows[0] == {
        "url": http_server.url("/a.pt"),
        "ids": ["a", "b"],
        "status": 200,
        "size": 5000,
        "etag": '"E1"',
        "accepts_ranges": True,
        "ok": True,
        "error": None,
        "shared": True,
        "mirror": False,
        "crc64": f"{crc64_xz(data):016x}",
        "different_bytes": None,
    }
    gone = rows[1]
    assert gone["url"] == f"http://***@127.0.0.1:{http_server.port}/gone.pt"
    assert (gone["ids"], gone["status"], gone["ok"], gone["shared"], gone["mirror"]) == (
        ["gone"],
        404,
        False,
        False,
        False,
    )
    assert gone["error"] and "pw" not in gone["error"] and gone["crc64"] is None
    assert len(rows) == 2


def test_check_text_shows_status_size_etag_and_who_uses_each_url(capsys, tmp_path, models_dir, http_server):
    http_server.add("/a.pt", b"a" * 2048, etag='"E1"')
    http_server.add("/gone.pt", b"", statuses=[404])
    http_server.add("/m.pt", b"a" * 2048, etag=False)
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("a", http_server.url("/a.pt"), mirrors=[http_server.url("/m.pt")]),
            entry("b", http_server.url("/a.pt")),
            entry("gone", http_server.url("/gone.pt")),
        ],
    )
    code, out, _ = run_cli(capsys, "--dir", str(models_dir), "--catalog", str(catalog), "check")
    assert code == 1
    blocks = out.splitlines()
    assert blocks[0:3] == [
        'ok         200     2.0 KiB  etag "E1"  shared by 2 entries',
        f"           {http_server.url('/a.pt')}",
        "           a, b",
    ]
    assert blocks[3:6] == [
        "ok         200     2.0 KiB  etag -  shared by 2 entries  (mirror)",  # b shares a's file and mirror
        f"           {http_server.url('/m.pt')}",
        "           a, b",
    ]
    assert blocks[6].startswith("FAILED: ") and " 404 " in blocks[6] and blocks[6].endswith("etag -")
    assert blocks[7:] == [f"           {http_server.url('/gone.pt')}", "           gone"]


def test_check_marks_a_mirror_holding_other_bytes(capsys, tmp_path, models_dir, http_server):
    data = payload(4000, 5)
    http_server.add("/a.pt", data, headers=oss_headers(data))
    other = payload(4001, 6)  # another size and another CRC-64
    http_server.add("/m.pt", other, headers=oss_headers(other))
    catalog = write_catalog(
        tmp_path / "c.json", [entry("a", http_server.url("/a.pt"), mirrors=[http_server.url("/m.pt")])]
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog), "check"]
    code, out, _ = run_cli(capsys, *args, "--json")
    assert code == 1  # downloads would not use the mirror: check says so
    rows = {row["url"]: row for row in json.loads(out)}
    main, mirror = rows[http_server.url("/a.pt")], rows[http_server.url("/m.pt")]
    assert main["different_bytes"] is None and main["ok"] is True
    assert mirror["ok"] is True and mirror["mirror"] is True
    differences = mirror["different_bytes"]
    assert len(differences) == 2 and any("CRC-64" in d for d in differences)
    code, out, _ = run_cli(capsys, *args)
    assert code == 1
    line = out.splitlines()[3]
    assert line.startswith(f"mirror holds different bytes ({'; '.join(differences)}); not used 200")
    assert line.endswith("(mirror)")


def test_check_sends_the_hosts_token(capsys, tmp_path, models_dir, http_server):
    from ofa_manager.core import credentials

    http_server.add("/private.pt", b"p" * 3000, require_token="T0KEN")
    catalog = write_catalog(tmp_path / "c.json", [entry("p", http_server.url("/private.pt"))])
    args = ["--dir", str(models_dir), "--catalog", str(catalog), "check", "--json"]
    code, out, _ = run_cli(capsys, *args)
    assert code == 1 and json.loads(out)[0]["status"] == 401
    credentials.set_token(http_server.url("/"), "T0KEN")
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and json.loads(out)[0]["status"] == 200 and json.loads(out)[0]["size"] == 3000


def test_check_counts_a_broken_link_and_a_mirror_of_other_bytes_both(
    capsys, tmp_path, models_dir, http_server
):
    http_server.add("/gone.pt", b"", statuses=[404])
    data, other = payload(4000, 5), payload(4000, 6)
    http_server.add("/a.pt", data, headers=oss_headers(data))
    http_server.add("/m.pt", other, headers=oss_headers(other))
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("gone", http_server.url("/gone.pt")),
            entry("a", http_server.url("/a.pt"), mirrors=[http_server.url("/m.pt")]),
        ],
    )
    code, _, _ = run_cli(capsys, "--dir", str(models_dir), "--catalog", str(catalog), "check")
    assert code == 1


def test_a_url_that_is_one_entrys_link_is_no_mirror_for_another(capsys, tmp_path, models_dir, http_server):
    http_server.add("/a.pt", b"a" * 100)
    http_server.add("/b.pt", b"b" * 200)
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("a", http_server.url("/a.pt"), mirrors=[http_server.url("/b.pt")]),
            entry("b", http_server.url("/b.pt")),
        ],
    )
    code, out, _ = run_cli(capsys, "--dir", str(models_dir), "--catalog", str(catalog), "check", "--json")
    rows = {row["url"]: row for row in json.loads(out)}
    assert rows[http_server.url("/b.pt")]["mirror"] is False
    assert rows[http_server.url("/b.pt")]["ids"] == ["a", "b"]


def test_verify_of_a_store_counts_each_file_and_names_who_shares_it(
    capsys, tmp_path, models_dir, http_server
):
    store = tmp_path / "store"
    store.mkdir()
    files = {name: payload(3000, seed) for seed, name in enumerate(("s", "c1", "c2"))}
    rows = [
        entry("s1", "http://127.0.0.1:9/s.pt", size=3000),
        entry("s2", "http://127.0.0.1:9/s.pt", size=3000),
    ]
    for name in ("c1", "c2"):
        (store / f"{name}.pt").write_bytes(files[name][:-1] + b"!")  # the right size, other bytes
        rows.append(entry(name, f"http://127.0.0.1:9/{name}.pt", size=3000, sha256=sha256(files[name])))
    (store / "s.pt").write_bytes(files["s"])
    catalog = write_catalog(tmp_path / "c.json", rows)
    args = ["--dir", str(models_dir), "--catalog", str(catalog), "--store", str(store)]
    code, out, _ = run_cli(capsys, *args, "verify")
    assert code == 1
    lines = [line for line in out.splitlines() if not line.startswith("  warning: ")]
    assert lines[0] == (
        f"s1, s2: ok in the shared store ({store / 's.pt'}, sha256 {sha256(files['s'])}; "
        "the catalog has no sha256)"
    )
    assert lines[1].startswith(f"c1: CORRUPT in the shared store ({store / 'c1.pt'})")
    assert lines[2].startswith(f"c2: CORRUPT in the shared store ({store / 'c2.pt'})")
    assert lines[3] == "3 file(s) checked, 2 corrupt"


def test_check_of_a_host_that_does_not_answer(capsys, tmp_path, models_dir):
    catalog = write_catalog(tmp_path / "x.json", [entry("x", "http://127.0.0.1:9/x.pt")])
    code, out, _ = run_cli(capsys, "--dir", str(models_dir), "--catalog", str(catalog), "check")
    assert code == 1
    assert out.splitlines() == [
        "FAILED: connection refused ---     unknown  etag -",
        "           http://127.0.0.1:9/x.pt",
        "           x",
    ]


ZEROS_SHA256 = "a6d72ac7690f53be6ae46ba88506bd97302a093f7108472bd9efc3cefda06484"  # of 2**28 zero bytes


def verify_while(capsys, args, paths, then, *ids: str) -> tuple[int, str]:
    """`verify` with ``then(path)`` done the moment each of ``paths`` is open for hashing."""
    with when_open(paths, then):
        code, out, _ = run_cli(capsys, *args, "verify", *ids)
    return code, out


def zeros_in(store, name="big.pt"):
    """A sparse file of 2**28 zero bytes (a fraction of a second or more to hash, no disk used)."""
    big = store / name
    with open(big, "wb") as fh:
        fh.truncate(2**28)
    return big


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="watches the process's open files in /proc")
def test_verify_of_a_store_file_that_changes_while_hashed_says_so_and_fails(capsys, tmp_path, models_dir):
    store = tmp_path / "store"
    store.mkdir()
    big, big2 = zeros_in(store), zeros_in(store, "big2.pt")
    (store / "rot.pt").write_bytes(b"x" * 1000)  # corrupt: counted apart from the changed ones
    catalog = write_catalog(
        tmp_path / "big.json",
        [
            entry("rot", "http://127.0.0.1:9/rot.pt", size=1000, sha256=sha256(bytes(1000))),
            entry("big", "http://127.0.0.1:9/big.pt", size=2**28, sha256=ZEROS_SHA256),
            entry("big2", "http://127.0.0.1:9/big2.pt", size=2**28, sha256=ZEROS_SHA256),
            entry("stranger", "http://127.0.0.1:9/stranger.pt"),
        ],
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog), "--store", str(store)]
    code, out = verify_while(capsys, args, [big, big2], lambda path: os.utime(path, ns=(10**9, 10**9)))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"rot: CORRUPT in the shared store ({store / 'rot.pt'})")
    assert lines[1:] == [
        f"big: not checked: {big} in the shared store changed while it was hashed",
        f"big2: not checked: {big2} in the shared store changed while it was hashed",
        "1 file(s) checked, 1 corrupt, 2 changed while hashed (run verify again)",
    ]
    # A change alone fails the run too (nothing was proved either way), and is said beside a file not ours.
    code, out = verify_while(
        capsys, args, [big], lambda path: os.utime(path, ns=(2 * 10**9, 2 * 10**9)), "big"
    )
    assert code == 1
    assert out.splitlines()[-1] == "0 file(s) checked, 0 corrupt, 1 changed while hashed (run verify again)"
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / "stranger.pt").write_bytes(b"not from here")
    code, out = verify_while(
        capsys, args, [big], lambda path: os.utime(path, ns=(3 * 10**9, 3 * 10**9)), "big", "stranger"
    )
    assert code == 1 and out.splitlines()[-1] == (
        "1 file(s) checked, 0 corrupt, 1 not ours (unverified or not matching), 1 changed while hashed "
        "(run verify again)"
    )
    code, out, _ = run_cli(capsys, *args, "verify", "big")  # left alone now: hashed and found good
    assert code == 0 and out.startswith(f"big: ok in the shared store ({big}, sha256 {ZEROS_SHA256}")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="watches the process's open files in /proc")
def test_verify_of_a_store_file_removed_after_the_folder_was_read_says_it_is_gone(
    capsys, tmp_path, models_dir
):
    store = tmp_path / "store"
    store.mkdir()
    big = zeros_in(store)
    (store / "gone.pt").write_bytes(bytes(1000))
    (store / "after.pt").write_bytes(bytes(999))
    catalog = write_catalog(
        tmp_path / "gone.json",
        [
            entry("big", "http://127.0.0.1:9/big.pt", size=2**28, sha256=ZEROS_SHA256),
            entry("gone", "http://127.0.0.1:9/gone.pt", size=1000, sha256=sha256(bytes(1000))),
            entry("after", "http://127.0.0.1:9/after.pt", size=999, sha256=sha256(bytes(999))),
        ],
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog), "--store", str(store)]
    code, out = verify_while(capsys, args, [big], lambda _: (store / "gone.pt").unlink())
    assert code == 0
    assert out.splitlines()[1:] == [
        "gone: not checked: its copy in the shared store is gone or no longer the catalog's size",
        f"after: ok in the shared store ({store / 'after.pt'}, sha256 {sha256(bytes(999))}; verified against "
        "the catalog sha256)",
        "2 file(s) checked, 0 corrupt",
    ]
    assert out.startswith(f"big: ok in the shared store ({big}, sha256 {ZEROS_SHA256}")
