"""Nothing found on disk is evidence by itself: users' files, links, folders and damaged records.

Every command runs through the real command line (``cli.main`` in this process, one subprocess) against
the loopback server; the window starts offscreen on a damaged folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ofa_manager import cli
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.records import record_problem
from tests.catalogs import (
    body_requests,
    cli_command,
    cli_env,
    entry,
    leftovers,
    load,
    payload,
    sha256,
    write_catalog,
)

SIZE = 300_000
DATA = {"plain": payload(SIZE, 1), "pinned": payload(SIZE, 2)}


class Site:
    """A models folder and a catalog: ``plain`` as published (no size, no sha256), ``pinned`` with both."""

    def __init__(self, folder: Path, http_server) -> None:
        self.folder = folder
        self.dir = folder / "models"
        self.dir.mkdir(exist_ok=True)
        self.server = http_server
        self.etags = {name: http_server.add(f"/{name}.pt", data).etag for name, data in DATA.items()}
        catalog = write_catalog(
            folder / "catalog.json",
            [
                entry("plain", http_server.url("/plain.pt")),
                entry(
                    "pinned",
                    http_server.url("/pinned.pt"),
                    size=SIZE,
                    sha256=sha256(DATA["pinned"]),
                ),
            ],
        )
        self.args = ["--dir", str(self.dir), "--catalog", str(catalog)]
        self.library = Library(self.dir, load(catalog))

    def entry(self, name: str):
        return self.library.catalog.get(name)

    def path(self, name: str) -> Path:
        return self.library.path(self.entry(name))

    def names(self, name: str) -> dict[str, Path]:
        e, lib = self.entry(name), self.library
        return {
            "final": lib.path(e),
            "part": lib.part_path(e),
            "record": lib.record_path(e),
            "meta": lib.meta_path(e),
            "lock": lib.lock_path(e),
        }

    def run(self, *args: str) -> tuple[int, str, str]:
        """The command line in this process; a traceback would fail the test as an exception."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([*self.args, *args])
        return code, out.getvalue(), err.getvalue()

    def rows(self) -> dict[str, dict]:
        code, out, _ = self.run("list", "--json")
        assert code == 0
        return {row["id"]: row for row in json.loads(out)}


@pytest.fixture
def site(tmp_path, http_server) -> Site:
    return Site(tmp_path, http_server)


def users_file() -> bytes:
    return b"my own fine-tuned weights " * 1000


# -- a user's own file at the final path -------------------------------------------------------------


def test_a_users_file_is_never_overwritten_listed_as_ours_verified_or_deleted_without_force(site):
    path = site.path("plain")
    path.write_bytes(users_file())
    meta = site.names("plain")["meta"]

    code, _, err = site.run("download", "plain")
    assert code == 1
    assert f"a different file is already at {path}" in err and "did not download" in err
    assert "rm --force plain" in err
    assert path.read_bytes() == users_file()
    assert body_requests(site.server, "/plain.pt") == [] and not meta.exists()

    row = site.rows()["plain"]
    assert row["state"] == "not-ours" and not row["verified"]
    assert "did not download" in row["reason"]
    code, out, _ = site.run("list")
    assert code == 0
    line = next(li for li in out.splitlines() if li.strip().startswith("plain"))
    assert "not ours: a file ofa-manager did not download" in line and "downloaded " not in line

    for _ in range(2):  # a second verify finds no proof left by the first
        code, out, _ = site.run("verify", "plain")
        assert code == 1 and "plain: UNVERIFIED" in out and str(path) in out
        assert "nothing was recorded" in out and "1 not ours" in out
        assert not meta.exists() and site.rows()["plain"]["state"] == "not-ours"
    code, _, _ = site.run("download", "plain")
    assert code == 1 and path.read_bytes() == users_file()

    code, out, err = site.run("rm", "plain", "--yes")
    assert code == 1 and f"not deleted: {path}" in err and "--force" in err
    assert "deleted 0" not in out and path.read_bytes() == users_file()

    code, out, err = site.run("rm", "plain", "--yes", "--force")
    assert code == 0 and f"{path} is not ours" in out and "--force deletes it" in out
    assert "deleted 1 file(s)" in out and not path.exists()


def test_the_very_bytes_of_the_checkpoint_are_not_adopted_without_a_hash_known_beforehand(site):
    path = site.path("plain")
    path.write_bytes(DATA["plain"])  # what the server would send, but nothing known said so beforehand
    code, _, err = site.run("download", "plain")
    assert code == 1 and "a different file is already at" in err
    assert site.server.requests == []  # not even a HEAD: the server's word now is no evidence
    code, out, _ = site.run("verify")
    assert code == 1 and "UNVERIFIED" in out
    assert site.rows()["plain"]["state"] == "not-ours"


def test_a_file_matching_the_catalogs_size_and_sha256_is_adopted_and_a_wrong_one_is_not(site):
    path = site.path("pinned")
    wrong = payload(SIZE, 9)  # the right size, other bytes
    path.write_bytes(wrong)
    code, out, _ = site.run("verify", "pinned")
    assert code == 1 and "pinned: NOT OURS" in out and sha256(wrong) in out and sha256(DATA["pinned"]) in out
    assert not site.names("pinned")["meta"].exists()
    code, _, err = site.run("download", "pinned")
    assert code == 1 and "does not match the catalog's size and sha256" in err
    assert path.read_bytes() == wrong and body_requests(site.server, "/pinned.pt") == []

    path.write_bytes(DATA["pinned"])
    code, out, _ = site.run("verify", "pinned")
    assert code == 0 and "pinned: ok" in out and "verified against the catalog sha256" in out
    row = site.rows()["pinned"]
    assert row["state"] == "downloaded" and row["verified"]
    code, _, _ = site.run("download", "pinned")
    assert code == 0 and body_requests(site.server, "/pinned.pt") == []


def test_a_file_changed_after_download_is_ours_again_only_when_it_matches_the_download_hash(site):
    assert site.run("download", "plain")[0] == 0
    path = site.path("plain")
    stamp = path.stat()
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10**9))  # copied by a tool, say
    row = site.rows()["plain"]
    assert row["state"] == "not-ours" and "modified after ofa-manager wrote it" in row["reason"]
    code, out, _ = site.run("verify", "plain")
    assert code == 0 and "plain: ok" in out  # the sha256 recorded while downloading matches
    assert site.rows()["plain"]["state"] == "downloaded"

    path.write_bytes(payload(SIZE, 7))  # the user saved another checkpoint of the same size over it
    assert site.rows()["plain"]["state"] == "not-ours"
    code, out, _ = site.run("verify", "plain")
    assert code == 1 and "NOT OURS" in out and "does not match the one recorded at download" in out
    assert site.rows()["plain"]["state"] == "not-ours"
    code, _, err = site.run("download", "plain")
    assert code == 1 and "a different file is already at" in err
    assert path.read_bytes() == payload(SIZE, 7)


def test_a_file_that_appears_while_downloading_is_not_overwritten(site):
    # Placed after the download checked the name and before it finished: the hard link refuses the name.
    from ofa_manager.core.file_status import NotOursError
    from ofa_manager.core.safe_files import place_file

    part = site.names("plain")["part"]
    part.write_bytes(DATA["plain"])
    path = site.path("plain")
    path.write_bytes(users_file())
    with pytest.raises(NotOursError, match="did not download"):
        place_file(part, path, replace=False)
    assert path.read_bytes() == users_file() and part.read_bytes() == DATA["plain"]
    path.unlink()
    place_file(part, path, replace=False)
    assert path.read_bytes() == DATA["plain"] and not part.exists()


def test_the_command_line_reports_a_users_file_without_a_traceback_in_a_subprocess(site):
    site.path("plain").write_bytes(users_file())
    for args in (["download", "plain"], ["verify"], ["rm", "plain", "--yes"], ["list"], ["du"]):
        result = subprocess.run(
            cli_command(*site.args, *args), env=cli_env(), capture_output=True, text=True, timeout=60
        )
        assert result.returncode in (0, 1), (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert site.path("plain").read_bytes() == users_file()


def test_a_link_swapped_in_after_the_check_is_still_not_opened(site, monkeypatch):
    # The check before opening is replaced by one that sees nothing, as if the link appeared just after it:
    # O_NOFOLLOW alone must refuse it.
    from ofa_manager.core import safe_files

    target = site.folder / "precious.bin"
    target.write_bytes(b"precious")
    part = site.names("plain")["part"]
    os.symlink(target, part)
    monkeypatch.setattr(safe_files, "refuse_unsafe", lambda path: None)
    for mode, create in (("r+b", True), ("r+b", False), ("rb", False)):
        with pytest.raises(OSError):
            safe_files.open_nofollow(part, mode, create=create)
    assert target.read_bytes() == b"precious" and part.is_symlink()


# -- links and folders at our names --------------------------------------------------------------------

EVERY_COMMAND = (
    ["list"],
    ["list", "--json"],
    ["du"],
    ["du", "--json"],
    ["verify"],
    ["verify", "plain", "pinned"],
    ["download", "plain", "pinned"],
    ["rm", "plain", "pinned", "--yes"],
    ["rm", "plain", "pinned", "--partial", "--yes"],
    ["rm", "plain", "pinned", "--yes", "--force"],
)


def _partial_download(site: Site, name: str) -> None:
    """A partial file and its record, as an interrupted download leaves them."""
    part = site.names(name)["part"]
    part.write_bytes(DATA[name][:100_000])
    site.library.write_record(
        site.entry(name),
        {
            "url": site.entry(name).url,
            "size": SIZE,
            "etag": None,
            "last_modified": "x",
            "ranges": [[0, 100_000]],
        },
    )


@pytest.mark.parametrize("name", ["final", "part", "record", "meta", "lock"])
@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_a_link_at_any_of_our_names_is_reported_never_followed_nor_replaced(site, name, dangling):
    outside = site.folder / "outside"
    outside.mkdir()
    target = outside / "precious.bin"
    # The target holds what would be trusted if it were read through the link: the checkpoint's bytes, a
    # whole resume record, metadata that describes the file.
    original = {
        "final": DATA["pinned"],
        "record": json.dumps(
            {"url": site.entry("plain").url, "size": SIZE, "etag": site.etags["plain"], "ranges": [[0, 1000]]}
        ).encode(),
    }.get(name, b"lock or partial data")
    # What makes the commands reach the name: a partial download takes the lock in rm --partial, a
    # partial file makes list read its record, a finished file makes list read its metadata.
    if name == "lock":
        _partial_download(site, "plain")
    elif name == "record":
        site.names("plain")["part"].write_bytes(DATA["plain"][:1000])
    elif name == "meta":
        site.path("plain").write_bytes(DATA["plain"])
    if name == "meta":
        stamp = site.path("plain").stat()
        original = json.dumps(
            {
                "url": site.entry("plain").url,
                "catalog_url": site.entry("plain").url,
                "size": SIZE,
                "sha256": sha256(DATA["plain"]),
                "state": "ok",
                "downloaded_at": "2026-01-01T00:00:00+0000",
                "mtime_ns": stamp.st_mtime_ns,
            }
        ).encode()
    if not dangling:
        target.write_bytes(original)
    for which in ("plain", "pinned"):
        link = site.names(which)[name]
        os.symlink(target, link)
    plain = site.rows()["plain"]
    if name in ("meta", "final"):
        assert plain["state"] == "not-ours"  # the metadata behind a link is not read
    if name in ("record", "part"):
        assert plain["state"] in ("partial", "not-ours") and "symbolic link" in (plain["reason"] or "")
    for args in EVERY_COMMAND:
        code, out, err = site.run(*args)
        assert code in (0, 1), (args, out, err)
        assert "Traceback" not in err
    for which in ("plain", "pinned"):
        link = site.names(which)[name]
        assert link.is_symlink() and os.readlink(link) == str(target)  # left alone, not replaced
    assert sorted(os.listdir(outside)) == ([] if dangling else ["precious.bin"])
    if not dangling:
        assert target.read_bytes() == original
    code, _, err = site.run("download", "pinned")
    assert code == 1 and "a symbolic link is at" in err and "move it away" in err
    assert body_requests(site.server, "/pinned.pt") == []
    if name == "final":
        rows = site.rows()
        assert rows["pinned"]["state"] == "not-ours" and "symbolic link" in rows["pinned"]["reason"]
        assert not rows["pinned"]["verified"]


@pytest.mark.parametrize("name", ["final", "part", "record", "meta", "lock"])
def test_a_folder_at_any_of_our_names_is_reported_by_every_command(site, name):
    for which in ("plain", "pinned"):
        folder = site.names(which)[name]
        folder.mkdir()
        (folder / "inside.txt").write_text("keep me")
    if name == "record":
        site.names("plain")["part"].write_bytes(DATA["plain"][:1000])
    elif name == "meta":
        site.path("plain").write_bytes(DATA["plain"])
    elif name == "lock":
        _partial_download(site, "plain")
    said = []
    for args in EVERY_COMMAND:
        code, out, err = site.run(*args)
        assert code in (0, 1), (args, out, err)
        said.append(out + err)
    assert any("a folder is at" in text for text in said)
    for which in ("plain", "pinned"):
        assert (site.names(which)[name] / "inside.txt").read_text() == "keep me"
    code, _, err = site.run("download", "pinned")
    assert code == 1 and "a folder is at" in err


# -- damaged resume records and metadata --------------------------------------------------------------

JUNK = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
RAW = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"",
            b"[]",
            b"null",
            b'"text"',
            b"NaN",
            b'{"size": NaN}',
            b'{"size": Infinity, "ranges": []}',
            b"[" * 5000 + b"]" * 5000,
            b"\xff\xfe{}",
            b'{"ranges": [[0, 1e400]]}',
            b'{"url": "http://x/' + b"a" * (2 * 1024 * 1024) + b'"}',
        ]
    ),
)
# Validators are sent back in If-Range: a line break would add a header, a non-ASCII byte breaks the request.
BAD_HEADERS = ['"a"\r\nInjected: 1', "", "\x00", "Mon,\n 01 Jan", '"é"', "x" * 5000]
PLACEHOLDER_URL, PLACEHOLDER_ETAG, PLACEHOLDER_MTIME = "<url>", "<etag>", "<mtime>"


@st.composite
def ranges_within(draw, have: int) -> list[list[int]]:
    """Ordered, disjoint, non-empty ranges inside the first ``have`` bytes: what a real record holds."""
    cuts = sorted(draw(st.sets(st.integers(0, have), max_size=8)))
    pairs = [cuts[i : i + 2] for i in range(0, len(cuts) - 1, 2)]
    return [list(p) for p in pairs if p[0] < p[1]]


@st.composite
def damaged_ranges(draw, have: int):
    """Ranges with one defect each: overlapping, out of order, negative, empty, past the partial file or
    the size, not whole numbers, or not pairs."""
    ranges = draw(ranges_within(have))
    damages = ["overlap", "reverse", "negative", "empty", "past-part", "past-size", "float", "shape"]
    how = draw(st.sampled_from(damages))
    if how == "overlap":
        ranges = ranges or [[0, 2]]
        ranges.append([ranges[-1][0], ranges[-1][1] + 1])
    elif how == "reverse":
        ranges = ranges[::-1] if len(ranges) > 1 else [[2, 3], [0, 1]]
    elif how == "empty":
        ranges.append([have, have])
    elif how == "negative":
        ranges.insert(0, [draw(st.integers(-(2**64), -1)), draw(st.integers(-5, 10))])
    elif how == "past-part":
        start = ranges[-1][1] if ranges else 0
        ranges.append([start, draw(st.one_of(st.integers(have + 1, SIZE + 1), st.integers(have + 1, 2**70)))])
    elif how == "past-size":
        ranges.append([SIZE, SIZE + 1])
    elif how == "float":
        ranges.append([draw(st.floats(allow_nan=True)), draw(st.floats(allow_infinity=True))])
    else:
        ranges.append(draw(st.one_of(JUNK, st.lists(st.integers(0, have), min_size=3, max_size=3))))
    return ranges


@st.composite
def resume_records(draw, name: str):
    """A partial file's length and its record: whole, or with its ranges damaged, or up to three other
    fields damaged or missing, or not a record at all."""
    have = draw(st.integers(0, SIZE))
    record = {
        "url": PLACEHOLDER_URL,
        "size": SIZE,
        "etag": PLACEHOLDER_ETAG,
        "last_modified": None,
        "ranges": draw(ranges_within(have)),
        "sha256": sha256(DATA[name]) if name == "pinned" else None,
        "started": 1.0,
        "updated": 2.0,
    }
    junk = {
        "url": st.one_of(JUNK, st.sampled_from(["ftp://x/y.pt", "http://127.0.0.1:1/elsewhere.pt", ""])),
        "size": st.one_of(JUNK, st.sampled_from([SIZE - 1, SIZE + 1, 0, 2**64, -SIZE])),
        "etag": st.one_of(st.sampled_from(BAD_HEADERS), JUNK),
        "last_modified": st.one_of(st.sampled_from(BAD_HEADERS), JUNK),
        "ranges": JUNK,
        "sha256": st.one_of(JUNK, st.sampled_from(["0" * 64, "Z" * 64, sha256(b"other")])),
        "started": JUNK,
        "updated": JUNK,
    }
    kind = draw(st.sampled_from(["whole", "ranges", "ranges", "ranges", "field", "field", "fields", "raw"]))
    if kind == "raw":
        return have, draw(RAW)
    if kind == "ranges":
        record["ranges"] = draw(damaged_ranges(have))
    elif kind == "field":
        field = draw(st.sampled_from(sorted(junk)))
        record[field] = draw(junk[field])
    elif kind == "fields":
        for field in draw(st.lists(st.sampled_from(sorted(junk)), min_size=1, max_size=3, unique=True)):
            if draw(st.booleans()):
                record[field] = draw(junk[field])
            else:
                del record[field]
    return have, record


def _one_line(value) -> bool:
    return isinstance(value, str) and value.isprintable() and "\n" not in value


def _hex64(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _finite(value) -> bool:
    return type(value) in (int, float) and value == value and abs(value) != float("inf")


RECORD_TYPES = {
    "url": _one_line,
    "size": lambda v: v is None or type(v) is int,
    "etag": lambda v: v is None or _one_line(v),
    "last_modified": lambda v: v is None or _one_line(v),
    "sha256": lambda v: v is None or _hex64(v),
    "started": lambda v: v is None or _finite(v),
    "updated": lambda v: v is None or _finite(v),
}
META_TYPES = {
    "url": _one_line,
    "catalog_url": _one_line,
    "etag": lambda v: v is None or _one_line(v),
    "size": lambda v: type(v) is int and v >= 0,
    "sha256": _hex64,
    "state": lambda v: v in ("ok", "corrupt"),
    "verified": lambda v: type(v) is bool,
    "downloaded_at": lambda v: v is None or isinstance(v, str),
    "adopted_at": lambda v: v is None or isinstance(v, str),
    "mtime_ns": lambda v: type(v) is int,
}


def assert_typed(trusted: dict, types: dict) -> None:
    """Whatever a record that was trusted holds has the type the engine expects."""
    for name, check in types.items():
        assert name not in trusted or check(trusted[name]), (name, trusted[name])


def _write_record(site: Site, name: str, have: int, record) -> None:
    names = site.names(name)
    names["part"].write_bytes(DATA[name][:have])
    if isinstance(record, bytes):
        names["record"].write_bytes(record)
        return
    fill = {PLACEHOLDER_URL: site.entry(name).url, PLACEHOLDER_ETAG: site.etags[name]}
    record = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in record.items()}
    names["record"].write_text(json.dumps(record, allow_nan=True), encoding="utf-8")


def _check_commands(site: Site) -> None:
    for args in (["list"], ["list", "--json"], ["du"], ["du", "--json"], ["verify"]):
        code, out, err = site.run(*args)
        assert code in (0, 1), (args, out, err)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["plain", "pinned"]), data=st.data())
def test_a_damaged_resume_record_is_discarded_by_list_du_verify_and_rm(http_server, name, data):
    have, record = data.draw(resume_records(name))
    with tempfile.TemporaryDirectory() as folder:
        site = Site(Path(folder), http_server)
        e, library = site.entry(name), site.library
        _write_record(site, name, have, record)
        trusted = library.read_record(e)
        event("record trusted" if trusted else "record discarded")
        if trusted:
            # What is trusted fits the catalog entry and the partial file, in order and in range.
            assert record_problem(trusted, library.expected_size(e), library.expected_sha256(e), have) is None
            assert trusted["url"].startswith(("http://", "https://"))
            if name == "pinned":  # the catalog knows the size and the sha256
                assert trusted.get("size") in (None, SIZE) and trusted.get("sha256") in (
                    None,
                    sha256(DATA[name]),
                )
            flat = [n for pair in trusted.get("ranges", []) for n in pair]
            assert flat == sorted(flat) and all(type(n) is int and 0 <= n <= have for n in flat)
            assert all(start < end for start, end in trusted.get("ranges", []))
            assert_typed(trusted, RECORD_TYPES)
        status = library.status(e)
        assert status.state is State.PARTIAL and 0 <= status.bytes <= max(have, SIZE)
        assert (status.reason == "") == bool(trusted)
        library.disk_usage()
        _check_commands(site)
        row = site.rows()[name]
        assert row["state"] == "partial" and (row["reason"] is None) == bool(trusted)
        code, out, err = site.run("rm", name, "--partial", "--yes")
        assert code == 0, (out, err)
        assert not site.names(name)["part"].exists() and not site.names(name)["record"].exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["plain", "pinned"]), data=st.data())
def test_a_download_over_a_damaged_resume_record_ends_with_the_servers_file(http_server, name, data):
    # The partial file holds true data: a record can only lie about it by claiming what is not there.
    have, record = data.draw(resume_records(name))
    with tempfile.TemporaryDirectory() as folder:
        site = Site(Path(folder), http_server)
        _write_record(site, name, have, record)
        trusted = site.library.read_record(site.entry(name))
        event("resumed" if trusted.get("ranges") else "started over")
        code, out, err = site.run("download", name, "--connections", "2")
        assert code == 0, (out, err)
        assert site.path(name).read_bytes() == DATA[name]
        assert leftovers(site.dir) == []
        assert site.rows()[name]["state"] == "downloaded"


@st.composite
def metadata(draw, name: str, size: int):
    """Metadata as a download writes it for a file of ``size`` bytes, then up to three fields damaged."""
    meta = {
        "url": PLACEHOLDER_URL,
        "catalog_url": PLACEHOLDER_URL,
        "etag": None,
        "last_modified": None,
        "size": size,
        "sha256": sha256(DATA[name]),
        "verified": name == "pinned",
        "state": "ok",
        "downloaded_at": "2026-01-01T00:00:00+0000",
        "mtime_ns": PLACEHOLDER_MTIME,
    }
    junk = {
        "url": JUNK,
        "catalog_url": st.one_of(JUNK, st.just("http://127.0.0.1:1/other.pt")),
        "etag": st.one_of(JUNK, st.just("a\r\nb")),
        "size": st.one_of(JUNK, st.sampled_from([size - 1, size + 1, -size, 2**64])),
        "sha256": st.one_of(JUNK, st.sampled_from(["0" * 64, "Z" * 64, sha256(b"other")])),
        "state": st.one_of(JUNK, st.sampled_from(["corrupt", "OK"])),
        "verified": JUNK,
        "downloaded_at": JUNK,
        "adopted_at": st.one_of(JUNK, st.just("2026-01-01T00:00:00+0000")),
        "mtime_ns": st.one_of(JUNK, st.integers(0, 2**63)),
    }
    for field in draw(st.lists(st.sampled_from(sorted(junk)), max_size=3, unique=True)):
        if draw(st.booleans()):
            meta[field] = draw(junk[field])
        else:
            meta.pop(field, None)
    raw = draw(st.one_of(st.none(), RAW)) if draw(st.integers(0, 9)) == 0 else None
    return raw if raw is not None else meta


def _write_meta(site: Site, name: str, meta) -> None:
    path = site.names(name)["meta"]
    if isinstance(meta, bytes):
        path.write_bytes(meta)
        return
    fill = {PLACEHOLDER_URL: site.entry(name).url, PLACEHOLDER_MTIME: site.path(name).stat().st_mtime_ns}
    meta = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in meta.items()}
    path.write_text(json.dumps(meta, allow_nan=True), encoding="utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["plain", "pinned"]), data=st.data())
def test_damaged_metadata_never_makes_a_users_file_ours(http_server, name, data):
    mine = users_file()
    # Metadata of another size: even undamaged it describes some other file, not this one.
    meta = data.draw(metadata(name, SIZE))
    with tempfile.TemporaryDirectory() as folder:
        site = Site(Path(folder), http_server)
        e = site.entry(name)
        path = site.path(name)
        path.write_bytes(mine)
        _write_meta(site, name, meta)
        event(f"metadata kept: {bool(site.library.read_meta(e))}")
        assert site.library.status(e).state is State.FOREIGN
        site.library.disk_usage()
        _check_commands(site)
        code, out, err = site.run("download", name)
        assert code == 1 and "a different file is already at" in err, (out, err)
        assert site.run("rm", name, "--yes")[0] == 1
        assert path.read_bytes() == mine and site.rows()[name]["state"] == "not-ours"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["plain", "pinned"]), data=st.data())
def test_damaged_metadata_of_our_own_download_is_discarded_never_a_crash(http_server, name, data):
    meta = data.draw(metadata(name, SIZE))
    with tempfile.TemporaryDirectory() as folder:
        site = Site(Path(folder), http_server)
        e, library = site.entry(name), site.library
        path = site.path(name)
        path.write_bytes(DATA[name])
        _write_meta(site, name, meta)
        status = library.status(e)
        event(f"state {status.state.value}")
        if status.state is not State.FOREIGN:
            kept = library.read_meta(e)
            assert kept["catalog_url"] == e.url and kept["size"] == SIZE and isinstance(kept["sha256"], str)
            assert kept.get("mtime_ns", path.stat().st_mtime_ns) == path.stat().st_mtime_ns
            assert_typed(kept, META_TYPES)
            assert status.verified == (
                kept["sha256"] == library.expected_sha256(e) and status.state is State.DOWNLOADED
            )
        _check_commands(site)
        code, out, err = site.run("download", name)
        assert code in (0, 1), (out, err)
        assert path.read_bytes() == DATA[name]  # replaced only when it was ours and corrupt
        if code == 1:
            assert status.state is State.FOREIGN and "a different file is already at" in err


# -- the window ------------------------------------------------------------------------------------------


@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
def test_the_window_starts_on_a_damaged_folder_and_says_not_ours(qtbot, tmp_path, http_server, monkeypatch):
    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QApplication

    from ofa_manager.core import settings as settings_file
    from ofa_manager.core import units
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.gui import tree
    from ofa_manager.gui.window import MainWindow
    from ofa_manager.gui.workspace import Workspace

    ids = ["mine", "partial", "linked", "folder", "badmeta"]
    for name in ids:
        http_server.add(f"/{name}.pt", DATA["plain"])
    catalog = write_catalog(tmp_path / "c.json", [entry(i, http_server.url(f"/{i}.pt")) for i in ids])
    models = tmp_path / "models"
    models.mkdir()
    library = Library(models, load(catalog))
    get = library.catalog.get
    library.path(get("mine")).write_bytes(users_file())
    library.part_path(get("partial")).write_bytes(DATA["plain"][:1000])
    damaged = '{"url": "URL", "size": NaN, "ranges": [[0, 1000]]}'.replace("URL", get("partial").url)
    library.record_path(get("partial")).write_text(damaged)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"outside")
    os.symlink(outside, library.path(get("linked")))
    library.path(get("folder")).mkdir()
    library.path(get("badmeta")).write_bytes(DATA["plain"])
    library.meta_path(get("badmeta")).write_text('{"size": -1, "downloaded_at": 5}')

    workspace = Workspace(load_catalog([catalog]), settings_file.load(), models, queue_in_window=True)
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    workspace.start()
    qtbot.waitUntil(lambda: workspace.store.statuses is not None, timeout=15000)

    def text(entry_id: str, role=None) -> str:
        index = window.model.index_of(entry_id, tree.COL_STATUS)
        return index.data() if role is None else index.data(role)

    assert text("mine") == "Not ours: a file ofa-manager did not download is at this path"
    assert text("partial") == f"Partial ({units.size(1000)})"
    from PySide6.QtCore import Qt

    assert "was discarded" in text("partial", Qt.ItemDataRole.ToolTipRole)
    assert text("linked").startswith("Not ours: a symbolic link is at this path")
    assert text("folder").startswith("Not ours: a folder is at this path")
    assert (
        text("badmeta")
        == "Not ours: a file ofa-manager did not download is at this path (its metadata is damaged)"
    )
    assert "never overwrites, adopts or deletes it" in text("mine", Qt.ItemDataRole.ToolTipRole)

    # Verify is offered for the user's file and reports it unverified; Delete is not offered.
    window.select(["mine"])
    assert window.actions_by_name["verify"].isEnabled()
    assert not window.actions_by_name["delete"].isEnabled()
    messages: list[str] = []
    workspace.store.message.connect(messages.append)
    window.actions_by_name["verify"].trigger()
    qtbot.waitUntil(lambda: any("not ours" in m for m in messages), timeout=15000)
    said = next(m for m in messages if "not ours" in m)
    assert said.startswith("Mine: not ours — unverified:") and "nothing was recorded" in said
    assert not library.meta_path(get("mine")).exists()
    assert outside.read_bytes() == b"outside" and library.path(get("mine")).read_bytes() == users_file()
    window.close()
    QApplication.processEvents()


def test_the_library_itself_deletes_a_file_that_is_not_ours_only_when_forced(site):
    from ofa_manager.core.file_status import NotOursError

    path = site.path("plain")
    path.write_bytes(users_file())
    with pytest.raises(NotOursError, match="--force"):
        site.library.delete(site.entry("plain"))
    assert path.read_bytes() == users_file()
    assert site.library.delete(site.entry("plain"), force=True) == len(users_file())
    assert not path.exists()
