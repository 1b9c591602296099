"""A download's last step (core/finishing.py): what the metadata beside a finished file says it was checked
against, what a rejected copy's sidecar and message say, a partial file longer than the object, a file that
appears at the final path while the download is checked."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from ofa_manager.core import transfer_state
from ofa_manager.core.file_status import State
from ofa_manager.core.segments import _Plan
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer import Aborted, DownloadError, Transfer
from tests.catalogs import MiB, engine_threads, fast_options, leftovers, payload, sha256
from tests.httpserver import crc64_xz, md5_etag, oss_headers
from tests.transfers import PATH, make_library, run_guarded


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def finished(tmp_path, models_dir, http_server, data, *, fields=None, **route):
    route = http_server.add(PATH, data, **route)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), **(fields or {}))
    seen = []
    final = run_guarded(Transfer(library, m, fast_options(connections=1), on_progress=seen.append))
    meta = json.loads(library.meta_path(m).read_text(encoding="utf-8"))
    return route, final, meta, seen


def test_a_file_checked_against_the_catalogs_sha256_says_so(tmp_path, models_dir, http_server):
    data = payload(100_000)
    route, final, meta, seen = finished(
        tmp_path, models_dir, http_server, data, fields={"sha256": sha256(data), "size": len(data)}
    )
    downloaded_at, mtime_ns = meta.pop("downloaded_at"), meta.pop("mtime_ns")
    assert meta == {
        "url": http_server.url(PATH),
        "catalog_url": http_server.url(PATH),
        "etag": route.etag,
        "last_modified": route.last_modified,
        "size": len(data),
        "sha256": sha256(data),
        "verified": True,
        "verified_by": "sha256",
        "server_crc64": None,
        "server_md5": None,
        "crc64": None,
        "md5": None,
        "state": "ok",
    }
    assert isinstance(downloaded_at, str) and downloaded_at[:2] == "20"
    assert mtime_ns == final.stat().st_mtime_ns  # what tells later that the file is still this one
    # The last report: the whole size, done.
    last = seen[-1]
    assert (last.done, last.total, last.speed, last.eta, last.state, last.connections, last.url) == (
        len(data),
        len(data),
        0.0,
        0.0,
        "done",
        0,
        http_server.url(PATH),
    )


def test_a_file_checked_against_the_servers_crc64_records_both_figures(tmp_path, models_dir, http_server):
    data = payload(100_000)
    _, final, meta, _ = finished(tmp_path, models_dir, http_server, data, headers=oss_headers(data))
    crc = f"{crc64_xz(data):016x}"
    assert (meta["verified"], meta["verified_by"], meta["server_crc64"], meta["crc64"]) == (
        False,
        "crc64",
        crc,
        crc,
    )
    assert meta["sha256"] == sha256(data) and meta["size"] == len(data)
    assert final.read_bytes() == data


def test_a_file_checked_against_the_servers_md5_records_both_figures(tmp_path, models_dir, http_server):
    data = payload(100_000)
    _, final, meta, _ = finished(tmp_path, models_dir, http_server, data, etag=md5_etag(data))
    assert (meta["verified"], meta["verified_by"]) == (False, "md5")
    assert meta["server_md5"] == meta["md5"] == md5(data) and meta["crc64"] is None


def rejected(tmp_path, models_dir, http_server, data, *, fields=None, **route):
    http_server.add(PATH, data, **route)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), **(fields or {}))
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1)))
    return library, m, info.value


def test_a_rejected_download_names_where_it_is_kept_and_how_to_keep_or_delete_it(
    tmp_path, models_dir, http_server
):
    data = payload(100_000)
    wrong = sha256(b"other")
    library, m, error = rejected(tmp_path, models_dir, http_server, data, fields={"sha256": wrong})
    assert str(error) == (
        f"Model M: sha256 mismatch: expected {wrong[:12]}…, got {sha256(data)[:12]}…; kept as "
        "model.pt.rejected (`ofa-manager accept m` keeps it anyway, `ofa-manager rm --rejected m` deletes it)"
    )
    assert error.kind is ErrorKind.INTEGRITY
    info = library.read_rejected(m)
    assert {k: info[k] for k in ("check", "expected", "found", "sha256", "url", "etag")} == {
        "check": "sha256",
        "expected": wrong,
        "found": sha256(data),
        "sha256": sha256(data),
        "url": http_server.url(PATH),
        "etag": http_server.route(PATH).etag,
    }
    assert info["reason"] == f"sha256 mismatch: expected {wrong[:12]}…, got {sha256(data)[:12]}…"
    assert info["downloaded_at"][:2] == "20" and info["downloaded_at"][10] == "T"


def test_an_md5_mismatch_is_kept_with_both_md5s(tmp_path, models_dir, http_server):
    data = payload(100_000)
    library, m, error = rejected(tmp_path, models_dir, http_server, data, etag=md5_etag(data), corrupt_at=99)
    info = library.read_rejected(m)
    assert (info["check"], info["expected"]) == ("md5", md5(data))
    assert info["found"] == md5(library.rejected_path(m).read_bytes()) != md5(data)
    assert error.kind is ErrorKind.INTEGRITY and "kept as model.pt.rejected" in str(error)


def test_a_crc64_mismatch_is_kept_with_both_crcs(tmp_path, models_dir, http_server):
    data = payload(100_000)
    library, m, _ = rejected(
        tmp_path, models_dir, http_server, data, headers=oss_headers(data), corrupt_at=99
    )
    info = library.read_rejected(m)
    assert (info["check"], info["expected"]) == ("crc64", f"{crc64_xz(data):016x}")
    assert info["found"] == f"{crc64_xz(library.rejected_path(m).read_bytes()):016x}"


def test_a_partial_file_longer_than_the_object_is_cut_to_its_size(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route = http_server.add(PATH, data, rate=MiB)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    abort = threading.Event()

    def on_progress(progress):
        if progress.done >= 200_000:
            abort.set()

    with pytest.raises(Aborted):
        run_guarded(Transfer(library, m, fast_options(connections=1), abort=abort, on_progress=on_progress))
    with open(library.part_path(m), "ab") as fh:
        fh.write(b"tail that is not the object's")
    route.rate = None
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data


def test_a_file_put_at_the_final_path_while_the_download_is_checked_stays(tmp_path, models_dir, http_server):
    data = payload(100_000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    final = library.path(m)

    def on_progress(progress):
        if progress.state == "verifying":
            final.write_bytes(b"the user's own file")  # just before the move into place

    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1), on_progress=on_progress))
    assert info.value.kind is ErrorKind.NOT_OURS
    assert str(info.value).startswith(f"Model M: a different file is already at {final} (19 Bytes): ")
    assert final.read_bytes() == b"the user's own file" and not library.meta_path(m).exists()
    # The checked data waits in the partial file: once the user's file is gone, nothing is fetched again.
    final.unlink()
    served = len(http_server.requests_for(PATH, "GET"))
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data
    assert len(http_server.requests_for(PATH, "GET")) == served
    assert library.status(m).state is State.DOWNLOADED and leftovers(models_dir) == []


def test_a_rejected_download_that_cannot_be_kept_says_it_was_discarded(tmp_path, models_dir, http_server):
    data = payload(100_000)
    wrong = sha256(b"other")
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), sha256=wrong)
    library.rejected_path(m).write_bytes(b"the user's file")  # not ours: never replaced
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1)))
    assert str(info.value) == (
        f"Model M: sha256 mismatch: expected {wrong[:12]}…, got {sha256(data)[:12]}…; "
        "the bad data was discarded"
    )
    assert info.value.kind is ErrorKind.INTEGRITY
    assert library.rejected_path(m).read_bytes() == b"the user's file" and leftovers(models_dir) == []


def test_the_check_and_the_end_are_always_reported(tmp_path, models_dir, http_server, monkeypatch):
    # Reports are sent at most every PROGRESS_EVERY seconds; with an interval far longer than the download
    # only the forced ones come through: the wait before a retry, the check, the end.
    monkeypatch.setattr(transfer_state, "PROGRESS_EVERY", 1000.0)
    data = payload(100_000)
    http_server.add(PATH, data, statuses=[503])
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    seen = []
    run_guarded(Transfer(library, m, fast_options(connections=1), on_progress=seen.append))
    assert [p.state for p in seen if p.state != "connecting"] == ["stalled", "verifying", "done"]


def test_a_finished_file_of_another_size_than_the_catalogs_is_discarded(tmp_path, models_dir):
    # A second line of defence: the connections already stop a stream that ends short of the catalog's size
    # or runs past it, so no download reaches this check; the last step is called directly with such a
    # file (a stream of unknown length, whose size is then the partial file's).
    data = payload(1000)
    library, m = make_library(tmp_path, models_dir, "http://127.0.0.1:9/m.pt", size=1001)
    part = library.part_path(m)
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data)
    library.write_record(m, {"url": m.url, "size": None, "etag": None, "last_modified": None, "ranges": []})
    transfer = Transfer(library, m, fast_options())
    try:
        with pytest.raises(DownloadError) as info:
            transfer._finish(_Plan(None, []), sha256(data))
    finally:
        transfer.session.close()
    assert str(info.value) == (
        "Model M: size mismatch: expected 1001 bytes, got 1000; the bad data was discarded"
    )
    assert info.value.kind is ErrorKind.INTEGRITY
    assert not part.exists() and not library.record_path(m).exists() and not library.path(m).exists()


def meta_written_then(library, monkeypatch, action):
    """Run ``action`` right after the download's metadata is written, just before the file is moved."""
    real = library.write_meta

    def write_meta(entry, meta):
        real(entry, meta)
        action()

    monkeypatch.setattr(library, "write_meta", write_meta)


def test_a_file_that_appears_at_the_final_path_just_before_the_move_stays(
    tmp_path, models_dir, http_server, monkeypatch
):
    # The last look at the final path and the move are apart by the fsync and the metadata: a file put there
    # meanwhile is found by the move itself (which never overwrites), and the download's metadata goes.
    data = payload(100_000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    final = library.path(m)
    meta_written_then(library, monkeypatch, lambda: final.write_bytes(b"the user's own file"))
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1)))
    assert info.value.kind is ErrorKind.NOT_OURS
    assert final.read_bytes() == b"the user's own file" and not library.meta_path(m).exists()
    assert library.part_path(m).read_bytes() == data  # the checked data waits in the partial file


def test_a_partial_file_removed_just_before_the_move_leaves_nothing(
    tmp_path, models_dir, http_server, monkeypatch
):
    data = payload(100_000)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    meta_written_then(library, monkeypatch, lambda: library.part_path(m).unlink())  # rm, at that moment
    with pytest.raises(DownloadError) as info:
        run_guarded(Transfer(library, m, fast_options(connections=1)))
    assert info.value.kind is ErrorKind.REMOVED
    assert str(info.value) == (
        f"Model M: its file was removed from {library.root} during the download; the download stopped and "
        "nothing was kept"
    )
    assert not library.path(m).exists() and not library.meta_path(m).exists()
    assert leftovers(models_dir) == []


def test_with_the_catalogs_sha256_the_servers_fingerprints_are_neither_checked_nor_kept(
    tmp_path, models_dir, http_server
):
    # A complete partial file whose record holds the server's CRC-64 (gathered while the catalog had no
    # sha256); the catalog now gives one, and that alone decides and is recorded.
    data = payload(100_000)
    route = http_server.add(PATH, data)
    library, m = make_library(
        tmp_path, models_dir, http_server.url(PATH), sha256=sha256(data), size=len(data)
    )
    library.part_path(m).write_bytes(data)
    record = {"url": m.url, "size": len(data), "etag": route.etag, "last_modified": None}
    record.update(ranges=[[0, len(data)]], server_crc64=f"{crc64_xz(data):016x}")
    library.write_record(m, record)
    assert run_guarded(Transfer(library, m, fast_options(connections=1))).read_bytes() == data
    meta = json.loads(library.meta_path(m).read_text(encoding="utf-8"))
    assert (meta["verified_by"], meta["server_crc64"], meta["server_md5"]) == ("sha256", None, None)
    assert http_server.requests_for(PATH, "GET") == []  # finished from the partial file alone
