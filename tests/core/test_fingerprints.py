"""The server's own fingerprints (OSS CRC-64, MD5 ETags) check a download when the catalog has no sha256."""

from __future__ import annotations

import hashlib

import pytest

from ofa_manager.core import fingerprints
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import DownloadError
from tests.catalogs import (
    MiB,
    entry,
    fast_options,
    leftovers,
    load,
    payload,
    run_cli,
    sha256,
    write_catalog,
)
from tests.httpserver import crc64_xz, md5_etag, oss_headers
from tests.transfers import serve_entry

PATH = "/oss/model.pt"


pytestmark = pytest.mark.usefixtures("engine_threads_end")


def run(library, e, **opts):
    return Transfer(library, e, fast_options(**opts)).run()


# -- the CRC itself ---------------------------------------------------------------------------------------


def test_crc64_is_crc64_xz_and_continues_across_pieces():
    assert fingerprints.crc64(b"123456789") == 0x995DC9BBDF1939FA
    data = payload(300_000)
    whole = fingerprints.crc64(data)
    assert whole == crc64_xz(data)  # the test server's independent table loop
    assert fingerprints.crc64(data[100_001:], fingerprints.crc64(data[:100_001])) == whole


def test_header_parsing():
    assert fingerprints.parse_crc("10993457676876358138") == 10993457676876358138
    assert fingerprints.parse_crc(str(2**64)) is None
    assert fingerprints.parse_crc("-5") is None and fingerprints.parse_crc("abc") is None
    md5 = hashlib.md5(b"x").hexdigest()
    assert fingerprints.md5_of_etag(f'"{md5.upper()}"') == md5
    assert fingerprints.md5_of_etag(f'"{md5}-3"') is None and fingerprints.is_multipart_etag(f'"{md5}-3"')
    assert fingerprints.md5_of_etag('"abc"') is None


# -- downloads ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connections", [1, 4])
def test_no_catalog_sha256_verified_against_the_servers_crc64(tmp_path, models_dir, http_server, connections):
    data = payload(6 * MiB)
    library, m, _ = serve_entry(tmp_path, models_dir, http_server, data, path=PATH, headers=oss_headers(data))
    final = run(library, m, connections=connections, min_segment=MiB)
    assert final.read_bytes() == data
    status = library.status(m)
    assert status.state is State.DOWNLOADED and status.verified_by == "crc64"
    assert not status.verified  # the catalog's sha256 is what "verified" means
    meta = library.read_meta(m)
    assert meta["crc64"] == meta["server_crc64"] == f"{crc64_xz(data):016x}"
    assert meta["sha256"] == sha256(data) and meta["verified_by"] == "crc64"


@pytest.mark.parametrize(("connections", "offset"), [(1, 2 * MiB + 17), (2, 17)])
def test_a_byte_corrupted_in_flight_is_caught_by_the_crc64(
    tmp_path, models_dir, http_server, connections, offset
):
    data = payload(3 * MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, headers=oss_headers(data), corrupt_at=offset
    )
    with pytest.raises(DownloadError) as caught:
        run(library, m, connections=connections, min_segment=MiB)
    assert caught.value.kind == "integrity" and "CRC-64 mismatch" in caught.value.reason
    assert not library.path(m).exists()
    assert library.status(m).state is not State.DOWNLOADED
    assert leftovers(models_dir) == []


def test_a_wrong_server_crc64_refuses_the_file(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, headers=oss_headers(data, crc=12345)
    )
    with pytest.raises(DownloadError, match="CRC-64 mismatch"):
        run(library, m)
    assert not library.path(m).exists()


def test_single_part_md5_etag_verifies_and_catches_corruption(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    library, m, _ = serve_entry(tmp_path, models_dir, http_server, data, path=PATH, etag=md5_etag(data))
    run(library, m)
    assert library.status(m).verified_by == "md5"
    assert library.read_meta(m)["md5"] == hashlib.md5(data).hexdigest()

    other = payload(2 * MiB, seed=1)
    http_server.add("/oss/other.pt", other, etag=md5_etag(other), corrupt_at=5)
    catalog = write_catalog(tmp_path / "c2.json", [entry("o", http_server.url("/oss/other.pt"))])
    library2 = Library(models_dir, load(catalog))
    with pytest.raises(DownloadError, match="MD5 mismatch"):
        run(library2, library2.catalog.get("o"))


def test_multipart_etag_is_not_taken_for_an_md5(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, etag=md5_etag(data, parts=3)
    )
    run(library, m)
    status = library.status(m)
    assert status.state is State.DOWNLOADED and status.verified_by is None
    assert library.read_meta(m)["md5"] is None


def test_catalog_sha256_wins_and_the_crc_is_not_needed(tmp_path, models_dir, http_server):
    data = payload(MiB)
    wrong = oss_headers(data, crc=1)
    fields = {"sha256": sha256(data)}
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, fields=fields, headers=wrong
    )
    run(library, m)  # a wrong server CRC does not matter when the catalog's sha256 is known
    assert library.status(m).verified_by == "sha256" and library.status(m).verified


def test_verify_rechecks_the_recorded_server_crc(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = serve_entry(tmp_path, models_dir, http_server, data, path=PATH, headers=oss_headers(data))
    run(library, m)
    assert library.verify(m).verified_by == "crc64"
    meta = library.read_meta(m)
    # The recorded server CRC is what verify holds the file to (flip it: the file no longer passes).
    meta["server_crc64"] = "0" * 16
    library.write_meta(m, meta)
    assert library.verify(m).state is State.CORRUPT


# -- the command line -------------------------------------------------------------------------------------


def test_cli_download_says_verified_against_the_servers_crc64(capsys, tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    http_server.add(PATH, data, headers=oss_headers(data))
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url(PATH))])
    site = ["--dir", str(models_dir), "--catalog", str(catalog)]
    code, _, err = run_cli(capsys, *site, "download", "m")
    assert code == 0, err
    assert "m: verified against the server's CRC-64" in err
    code, out, _ = run_cli(capsys, *site, "list", "--json")
    assert code == 0
    import json

    (row,) = json.loads(out)
    # Verified, by the proof the server gave before the file arrived (one rule for "verified", core.describe).
    assert row["verified_by"] == "crc64" and row["verified"] is True
    code, out, _ = run_cli(capsys, *site, "list")
    assert code == 0
    assert "verified against the server's CRC-64" in out
    code, out, _ = run_cli(capsys, *site, "verify", "m")
    assert code == 0 and "verified against the server's CRC-64 on arrival" in out


# -- mirrors ----------------------------------------------------------------------------------------------


def mirrored(tmp_path, models_dir, server, data, mirror_data, *, main_status=404):
    server.add(PATH, data, headers=oss_headers(data), statuses=[main_status] if main_status else [])
    server.add("/mirror/model.pt", mirror_data, headers=oss_headers(mirror_data))
    row = entry("m", server.url(PATH), mirrors=[server.url("/mirror/model.pt")])
    catalog = write_catalog(tmp_path / "catalog.json", [row])
    library = Library(models_dir, load(catalog))
    return library, library.catalog.get("m"), catalog


def test_a_mirror_holding_different_bytes_is_not_used(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = mirrored(tmp_path, models_dir, http_server, data, payload(MiB, seed=7))
    with pytest.raises(DownloadError) as caught:
        run(library, m)
    assert "mirror holds different bytes" in caught.value.reason and "CRC-64" in caught.value.reason
    assert http_server.requests_for("/mirror/model.pt", "GET") == []  # compared by HEAD, never fetched
    assert not library.path(m).exists()


def test_a_mirror_with_the_same_fingerprints_is_used(tmp_path, models_dir, http_server):
    data = payload(MiB)
    library, m, _ = mirrored(tmp_path, models_dir, http_server, data, data)
    assert run(library, m).read_bytes() == data
    assert library.status(m).verified_by == "crc64"
    assert library.read_meta(m)["url"] == http_server.url("/mirror/model.pt")


def test_check_says_a_mirror_holds_different_bytes(capsys, tmp_path, models_dir, http_server):
    data = payload(MiB)
    _, _, catalog = mirrored(tmp_path, models_dir, http_server, data, payload(MiB, seed=7), main_status=None)
    code, out, _ = run_cli(capsys, "--dir", str(models_dir), "--catalog", str(catalog), "check")
    assert code == 1 and "mirror holds different bytes (CRC-64" in out


def test_with_a_crc64_the_md5_is_not_computed(tmp_path, models_dir, http_server):
    data = payload(MiB)
    oss = oss_headers(data)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, headers=oss, etag=md5_etag(data)
    )
    run(library, m)
    meta = library.read_meta(m)
    assert meta["verified_by"] == "crc64" and meta["md5"] is None and meta["server_md5"] is not None


def test_a_record_with_a_malformed_server_fingerprint_is_discarded():
    from ofa_manager.core.records import record_problem

    good = {"url": "https://example.org/m.pt", "size": 10, "ranges": [[0, 5]], "server_crc64": "0" * 16}
    assert record_problem(good, 10, None, 10) is None
    assert "CRC-64" in record_problem({**good, "server_crc64": "12345"}, 10, None, 10)
    assert "MD5" in record_problem({**good, "server_md5": "x" * 32}, 10, None, 10)


def test_an_interrupted_download_resumes_and_is_still_checked_against_the_crc(
    tmp_path, models_dir, http_server
):
    data = payload(3 * MiB)
    library, m, _ = serve_entry(
        tmp_path, models_dir, http_server, data, path=PATH, headers=oss_headers(data), drop_after=MiB
    )
    run(library, m, connections=1, retries=2)
    assert library.status(m).verified_by == "crc64"
    assert library.read_meta(m)["crc64"] == f"{crc64_xz(data):016x}"


def test_a_download_resumed_by_a_later_run_is_checked_over_the_whole_file(tmp_path, models_dir, http_server):
    import threading

    from ofa_manager.core.transfer_options import Aborted

    data = payload(2 * MiB)
    library, m, _ = serve_entry(
        tmp_path,
        models_dir,
        http_server,
        data,
        path=PATH,
        headers=oss_headers(data),
        corrupt_at=100,
        rate=2 * MiB,
    )
    stop = threading.Event()

    def progress(p):
        if p.done >= 512 * 1024:
            stop.set()

    with pytest.raises(Aborted):
        Transfer(library, m, fast_options(connections=1), on_progress=progress, abort=stop).run()
    assert library.status(m).state is State.PARTIAL  # the corrupted byte 100 is in the kept part
    http_server.route(PATH).rate = None
    # The second run fetches only the rest, but the CRC covers the bytes kept from the first run too.
    with pytest.raises(DownloadError, match="CRC-64 mismatch"):
        run(library, m, connections=1)
    assert http_server.requests_for(PATH, "GET")[-1].range != "bytes=0-"
