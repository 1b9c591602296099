"""`list` and `du`, in this process: every JSON field of a row and of the disk usage, the words and figures of
the text forms (a rejected copy, a shared store, files sharing one name, the share of each file)."""

from __future__ import annotations

import json
import re

import pytest

from ofa_manager.core import units
from tests.catalogs import entry, payload, run_cli, sha256, write_catalog
from tests.httpserver import md5_etag, oss_headers
from tests.scenes import Shelf

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def shelf(tmp_path, models_dir, http_server) -> Shelf:
    return Shelf(tmp_path, models_dir, http_server)


def listed(capsys, shelf) -> tuple[str, dict[str, dict]]:
    code, out, err = run_cli(capsys, *shelf.args, "list", "--json")
    assert code == 0, err
    return out, {row["id"]: row for row in json.loads(out)}


def test_a_remote_row_has_every_field(capsys, shelf):
    out, rows = listed(capsys, shelf)
    assert list(rows) == ["good", "shared-a", "shared-b", "bad"]
    assert rows["good"] == {
        "id": "good",
        "title": "Gööd π",
        "group": ["Base", "Large"],
        "url": shelf.url("/good.pt"),
        "state": "remote",
        "path": str(shelf.dir.resolve() / "good.pt"),
        "bytes": 0,
        "size": 300_000,
        "shared_with": [],
        "base": None,
        "params": "470M",
        "sha256": sha256(shelf.files["good"]),
        "verified": False,
        "verified_by": None,
        "differs": False,
        "rejected": None,
        "reason": None,
        "filename": "good.pt",
        "mirrors": [f"http://***@127.0.0.1:{shelf.port}/mirror/good.pt"],
        "store_path": None,
        "expect": {"arch": "ofa_large"},
        "contents": None,
        "mismatch": None,
    }
    assert rows["shared-a"]["shared_with"] == ["shared-b"] and rows["shared-b"]["shared_with"] == ["shared-a"]
    assert rows["shared-a"]["base"] == "good" and rows["shared-a"]["params"] is None
    assert rows["shared-a"]["mirrors"] == [] and rows["shared-a"]["expect"] is None
    # Indented two spaces, the title as it is written (not \\u escapes), no password anywhere.
    assert '\n  {\n    "id": "good",' in out and "Gööd π" in out and "secret" not in out


def test_a_downloaded_row_is_verified_by_the_catalogs_sha256(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "good", "shared-a", "--no-backbone")[0] == 0
    _, rows = listed(capsys, shelf)
    good = rows["good"]
    size = len(shelf.files["good"])
    assert (good["state"], good["bytes"], good["size"]) == ("downloaded", size, size)
    assert good["verified"] is True and good["verified_by"] == "sha256"
    assert good["differs"] is False and good["rejected"] is None and good["reason"] is None
    shared = rows["shared-b"]
    assert shared["state"] == "downloaded" and shared["verified"] is False and shared["verified_by"] is None


def test_a_rejected_copy_is_listed_with_its_check_and_figures(capsys, shelf):
    code, _, _ = run_cli(capsys, *shelf.args, "download", "bad")
    assert code == 1
    _, rows = listed(capsys, shelf)
    bad = rows["bad"]
    assert bad["state"] == "remote" and bad["verified"] is False
    assert set(bad["rejected"]) == {"check", "reason", "expected", "found", "size"}
    assert bad["rejected"]["check"] == "sha256"
    assert bad["rejected"]["expected"] == sha256(b"something else")
    assert bad["rejected"]["found"] == sha256(shelf.files["bad"])
    assert bad["rejected"]["size"] == len(shelf.files["bad"])
    assert "sha256" in bad["rejected"]["reason"]
    code, out, _ = run_cli(capsys, *shelf.args, "list")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("  bad "))
    assert line.endswith("remote; rejected: sha256 mismatch (kept as bad.pt.rejected)  [Test]")


def test_accepted_anyway_reads_differs_and_the_reason(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "bad")[0] == 1
    assert run_cli(capsys, *shelf.args, "accept", "bad")[0] == 0
    _, rows = listed(capsys, shelf)
    assert rows["bad"]["state"] == "downloaded" and rows["bad"]["differs"] is True
    assert rows["bad"]["verified"] is False and rows["bad"]["rejected"] is None
    code, out, _ = run_cli(capsys, *shelf.args, "list")
    line = next(line for line in out.splitlines() if line.startswith("  bad "))
    assert "kept anyway, differs from the catalog (sha256 mismatch" in line


def test_the_text_list_names_the_shared_file_once(capsys, shelf):
    code, out, _ = run_cli(capsys, *shelf.args, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Test catalog — 4 checkpoints, models folder {shelf.dir.resolve()}"
    assert lines[-2:] == ["", "2 entries share 1 file(s) (shared.pt): downloaded once, kept once."]
    good = lines[1]
    assert good.startswith("  good                     Gööd π ")
    assert good.endswith("remote  [Base / Large]")
    assert "(shared file)  [PETL]" in lines[2] and "(shared file)" not in good


def test_the_text_list_names_each_shared_file_in_order(capsys, tmp_path, http_server):
    url = http_server.url
    catalog = write_catalog(
        tmp_path / "two.json",
        [entry(i, url(f"/{name}.pt")) for i, name in (("a1", "b"), ("a2", "b"), ("z1", "a"), ("z2", "a"))],
    )
    code, out, _ = run_cli(capsys, "--dir", str(tmp_path / "m"), "--catalog", str(catalog), "list")
    assert code == 0
    assert out.splitlines()[-1] == "4 entries share 2 file(s) (a.pt, b.pt): downloaded once, kept once."


def test_the_text_list_without_shared_files_ends_with_the_last_entry(capsys, tmp_path, http_server):
    http_server.add("/x.pt", b"x" * 1000)
    catalog = write_catalog(tmp_path / "one.json", [entry("x", http_server.url("/x.pt"), size=1000)])
    code, out, _ = run_cli(capsys, "--dir", str(tmp_path / "m"), "--catalog", str(catalog), "list")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("  x ") and "1000 B" in lines[1]
    assert "share" not in out


def du(capsys, shelf) -> dict:
    code, out, err = run_cli(capsys, *shelf.args, "du", "--json")
    assert code == 0, err
    assert out.startswith('{\n  "root": ')
    return json.loads(out)


def test_du_json_has_every_figure(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "good", "shared-a", "--no-backbone")[0] == 0
    assert run_cli(capsys, *shelf.args, "download", "bad")[0] == 1
    (shelf.dir / "notes.txt").write_bytes(b"n" * 123)
    usage = du(capsys, shelf)
    good, shared, bad = (len(shelf.files[k]) for k in ("good", "shared", "bad"))
    assert set(usage) == {
        "root",
        "downloaded",
        "partial",
        "other",
        "free",
        "total",
        "in_stores",
        "rejected",
        "entries",
        "files",
    }
    assert usage["root"] == str(shelf.dir.resolve())
    assert (usage["downloaded"], usage["partial"], usage["rejected"]) == (good + shared, 0, bad)
    assert usage["other"] >= 123 and usage["in_stores"] == 0
    assert 0 < usage["free"] <= usage["total"]
    assert usage["entries"] == {"good": good, "shared-a": shared, "shared-b": shared, "bad": 0}
    files = {name.rsplit("/", 1)[-1]: size for name, size in usage["files"].items()}
    assert files["good.pt"] == good and files["shared.pt"] == shared


def test_du_text_shows_each_figure_and_each_files_share(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "good", "shared-a", "--no-backbone")[0] == 0
    assert run_cli(capsys, *shelf.args, "download", "bad")[0] == 1
    usage = du(capsys, shelf)
    code, out, _ = run_cli(capsys, *shelf.args, "du")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"models folder {shelf.dir.resolve()}"
    assert lines[1] == "  checkpoints       488.3 KiB"
    assert lines[2] == "  partial files       0 Bytes"
    assert lines[3] == "  rejected           48.8 KiB  (failed their check; rm --rejected ID)"
    assert lines[4] == f"  other data     {units.size(usage['other']):>12}"
    # The volume's free space moves while others write: its shape, in units, is what is pinned.
    assert re.fullmatch(r"  free on volume +\d+(\.\d)? \w+  \(of \d+(\.\d)? \w+\)", lines[5]), lines[5]
    assert "in shared stores" not in out
    # The files by size, largest first, each with its share of the files listed.
    shares = [line for line in lines[6:]]
    total = sum(size for size in usage["files"].values() if size)
    assert shares[0] == f"     293.0 KiB  {100 * 300_000 / total:5.1f}%  good.pt"
    assert shares[1] == f"     195.3 KiB  {100 * 200_000 / total:5.1f}%  shared.pt"
    assert len(shares) == len([s for s in usage["files"].values() if s])


def test_du_text_without_a_rejected_copy_has_no_such_line(capsys, shelf):
    code, out, _ = run_cli(capsys, *shelf.args, "du")
    assert code == 0
    assert "rejected" not in out and "in shared stores" not in out
    assert out.splitlines()[1:3] == ["  checkpoints         0 Bytes", "  partial files       0 Bytes"]


def test_a_shared_store_is_listed_and_counted_apart(capsys, tmp_path, models_dir, http_server):
    store = tmp_path / "store"
    store.mkdir()
    shelf = Shelf(tmp_path, models_dir, http_server, store=store)
    (store / "good.pt").write_bytes(shelf.files["good"])
    _, rows = listed(capsys, shelf)
    assert rows["good"]["state"] == "in-store" and rows["good"]["store_path"] == str(store / "good.pt")
    assert rows["shared-a"]["store_path"] is None
    code, out, _ = run_cli(capsys, *shelf.args, "list")
    assert f"in the shared store: {store / 'good.pt'}  [Base / Large]" in out
    assert du(capsys, shelf)["in_stores"] == 300_000
    code, out, _ = run_cli(capsys, *shelf.args, "du")
    assert code == 0
    assert "  in shared stores  293.0 KiB  (read from the stores, not counted in this folder)" in out


# -- the words of a list line (the same words the window shows) -------------------------------------------


def line_of(capsys, args, entry_id: str) -> str:
    code, out, err = run_cli(capsys, *args, "list")
    assert code == 0, err
    return next(line for line in out.splitlines() if line.startswith(f"  {entry_id} "))


def served_with_fingerprints(tmp_path, models_dir, http_server, **faults):
    data = payload(100_000, 7)
    http_server.add("/f.pt", data, headers=oss_headers(data), **faults)
    catalog = write_catalog(tmp_path / "f.json", [entry("f", http_server.url("/f.pt"), group=["G"])])
    return data, ["--dir", str(models_dir), "--catalog", str(catalog)]


def test_a_file_checked_against_the_servers_crc_says_so(capsys, tmp_path, models_dir, http_server):
    _, args = served_with_fingerprints(tmp_path, models_dir, http_server)
    assert run_cli(capsys, *args, "download", "f")[0] == 0
    line = line_of(capsys, args, "f")
    assert line.endswith("   97.7 KiB  verified against the server's CRC-64  [G]")


def test_a_copy_rejected_by_the_servers_crc_names_that_check(capsys, tmp_path, models_dir, http_server):
    _, args = served_with_fingerprints(tmp_path, models_dir, http_server, corrupt_at=99)
    assert run_cli(capsys, *args, "download", "f", "--retries", "0")[0] == 1
    line = line_of(capsys, args, "f")
    assert line.endswith("remote; rejected: server CRC-64 mismatch (kept as f.pt.rejected)  [G]")


def test_a_copy_rejected_by_the_servers_md5_names_that_check(capsys, tmp_path, models_dir, http_server):
    data = payload(100_000, 8)
    http_server.add("/f.pt", data, etag=md5_etag(data), corrupt_at=99)
    catalog = write_catalog(tmp_path / "f.json", [entry("f", http_server.url("/f.pt"), group=["G"])])
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert run_cli(capsys, *args, "download", "f", "--retries", "0")[0] == 1
    line = line_of(capsys, args, "f")
    assert line.endswith("remote; rejected: server MD5 mismatch (kept as f.pt.rejected)  [G]")


def test_a_partial_file_shows_the_bytes_it_has(capsys, shelf, http_server):
    http_server.add("/bad.pt", shelf.files["bad"], drop_after=30_000)
    assert run_cli(capsys, *shelf.args, "download", "bad", "--retries", "0", "--connections", "1")[0] == 1
    line = line_of(capsys, shelf.args, "bad")
    assert re.search(r"  partial \d+(\.\d)? KiB  \[Test\]$", line), line
    _, rows = listed(capsys, shelf)
    assert f"partial {units.size(rows['bad']['bytes'])}  [Test]" in line


def test_a_file_it_did_not_write_is_not_ours_with_the_reason(capsys, shelf):
    (shelf.dir / "good.pt").write_bytes(b"the user's own file")
    line = line_of(capsys, shelf.args, "good")
    _, rows = listed(capsys, shelf)
    assert rows["good"]["state"] == "not-ours" and rows["good"]["reason"]
    assert line.endswith(f"  not ours: {rows['good']['reason']}  [Base / Large]")


def test_a_partial_file_whose_record_is_unreadable_starts_over_and_says_why(capsys, shelf, http_server):
    http_server.add("/bad.pt", shelf.files["bad"], drop_after=30_000)
    assert run_cli(capsys, *shelf.args, "download", "bad", "--retries", "0", "--connections", "1")[0] == 1
    (shelf.dir / "bad.pt.part.json").write_text("{", encoding="utf-8")
    _, rows = listed(capsys, shelf)
    reason = "its resume record bad.pt.part.json was discarded: it is not a readable record"
    assert rows["bad"]["state"] == "partial" and rows["bad"]["reason"] == reason
    line = line_of(capsys, shelf.args, "bad")
    size = units.size(rows["bad"]["bytes"])
    assert line.endswith(f"  partial {size} ({reason}; the next download starts over)  [Test]")


def test_a_store_copy_verified_says_so(capsys, tmp_path, models_dir, http_server):
    store = tmp_path / "store"
    store.mkdir()
    shelf = Shelf(tmp_path, models_dir, http_server, store=store)
    (store / "good.pt").write_bytes(shelf.files["good"])
    assert line_of(capsys, shelf.args, "good").endswith(
        f"in the shared store: {store / 'good.pt'}  [Base / Large]"
    )
    assert run_cli(capsys, *shelf.args, "verify", "good")[0] == 0
    line = line_of(capsys, shelf.args, "good")
    assert line.endswith(f"in the shared store: {store / 'good.pt'} (verified)  [Base / Large]")
    _, rows = listed(capsys, shelf)
    assert rows["good"]["verified"] is True


def test_a_store_copy_that_cannot_be_checked_is_not_used_and_says_why(
    capsys, tmp_path, models_dir, http_server
):
    store = tmp_path / "store"
    store.mkdir()
    shelf = Shelf(tmp_path, models_dir, http_server, store=store)
    (store / "bad.pt").write_bytes(shelf.files["bad"])  # the catalog gives no size for it
    _, rows = listed(capsys, shelf)
    reason = f"{store / 'bad.pt'} in the shared store was not used: no size is known to check it"
    assert rows["bad"]["state"] == "remote" and rows["bad"]["reason"] == reason
    assert line_of(capsys, shelf.args, "bad").endswith(f"  remote ({reason})  [Test]")


def test_a_downloaded_file_verified_by_the_catalog_reads_verified(capsys, shelf):
    assert run_cli(capsys, *shelf.args, "download", "good")[0] == 0
    assert line_of(capsys, shelf.args, "good").endswith("   293.0 KiB  verified  [Base / Large]")


def rejected_without(capsys, shelf, field: str) -> None:
    """Download "bad" (kept as bad.pt.rejected), then take ``field`` out of its rejection record."""
    assert run_cli(capsys, *shelf.args, "download", "bad")[0] == 1
    (sidecar,) = [p for p in shelf.dir.iterdir() if ".rejected" in p.name and p.name.endswith(".json")]
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    del record[field]
    sidecar.write_text(json.dumps(record), encoding="utf-8")


def test_a_rejected_record_naming_no_check_says_check(capsys, shelf):
    rejected_without(capsys, shelf, "check")
    line = line_of(capsys, shelf.args, "bad")
    assert line.endswith("remote; rejected: check mismatch (kept as bad.pt.rejected)  [Test]")


def test_a_remote_row_without_a_size_in_the_catalog_reads_size_unknown(capsys, shelf):
    line = line_of(capsys, shelf.args, "shared-a")
    assert re.search(r" {2,}size unknown  remote \(shared file\)  \[PETL\]$", line), line


def test_a_copy_accepted_from_a_record_without_its_reason_lists_not_verified(capsys, shelf):
    rejected_without(capsys, shelf, "reason")
    assert run_cli(capsys, *shelf.args, "accept", "bad")[0] == 0
    line = line_of(capsys, shelf.args, "bad")
    assert "  kept anyway, differs from the catalog (not verified)  [" in line, line
