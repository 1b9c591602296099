"""The models folder: one path per URL, shared files, adoption of hand-placed files, states and metadata."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import DownloadError, TransferOptions
from tests.catalogs import (
    MiB,
    body_requests,
    bytes_served,
    entry,
    leftovers,
    load,
    payload,
    rot,
    sha256,
    write_catalog,
)

FAST = TransferOptions(backoff_base=0.01, retries=2, timeout=2.0)


def library_for(tmp_path, models_dir, entries) -> Library:
    return Library(models_dir, load(write_catalog(tmp_path / "catalog.json", entries)))


def download(library: Library, entry_id: str, options: TransferOptions = FAST):
    return Transfer(library, library.catalog.get(entry_id), options).run()


# -- naming --------------------------------------------------------------------------------------------


def test_different_urls_with_the_same_file_name_never_share_a_path(tmp_path, models_dir, http_server):
    one, two = payload(300_000, 1), payload(200_000, 2)
    http_server.add("/a/model.pt", one)
    http_server.add("/b/model.pt", two)
    library = library_for(
        tmp_path,
        models_dir,
        [entry("one", http_server.url("/a/model.pt")), entry("two", http_server.url("/b/model.pt"))],
    )
    first, second = library.path(library.catalog.get("one")), library.path(library.catalog.get("two"))
    # One host: its folder, and a short hash of each URL (core/names.py).
    host = models_dir.resolve() / f"127.0.0.1_{http_server.port}"
    assert first != second and first.parent == second.parent == host
    assert download(library, "one").read_bytes() == one
    assert download(library, "two").read_bytes() == two
    assert first.read_bytes() == one  # the second download did not overwrite the first


def test_an_explicit_filename_clash_between_urls_is_also_kept_apart(tmp_path, models_dir):
    library = library_for(
        tmp_path,
        models_dir,
        [
            entry("one", "https://one.invalid/x.pt", filename="model.pt"),
            entry("two", "https://two.invalid/y.pt", filename="model.pt"),
            entry("three", "https://three.invalid/model.pt"),
        ],
    )
    paths = {library.path(e) for e in library.catalog}
    assert len(paths) == 3
    assert all(p.resolve().is_relative_to(library.root.resolve()) for p in paths)


def test_file_names_differing_only_in_case_are_kept_apart(tmp_path, models_dir):
    # On macOS and Windows these would be one file.
    library = library_for(
        tmp_path,
        models_dir,
        [entry("upper", "https://one.invalid/Model.pt"), entry("lower", "https://two.invalid/model.pt")],
    )
    upper, lower = (library.path(library.catalog.get(i)) for i in ("upper", "lower"))
    assert str(upper).casefold() != str(lower).casefold()
    # Each keeps its published name, in a folder for its host.
    assert (upper.parent.name, upper.name) == ("one.invalid", "Model.pt")
    assert (lower.parent.name, lower.name) == ("two.invalid", "model.pt")


def test_every_path_stays_inside_the_models_folder_for_the_builtin_catalog(models_dir):
    from ofa_manager.core.catalog import load_catalog

    library = Library(models_dir, load_catalog())
    for e in library.catalog:
        for path in (library.path(e), library.part_path(e), library.record_path(e), library.meta_path(e)):
            assert path.parent == models_dir.resolve()
    # The eight PETL entries share one published URL, so one file; five backbones have their own.
    assert len(library.files()) == 6


# -- shared files ----------------------------------------------------------------------------------------


def test_entries_with_the_same_url_share_one_file_and_one_download(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    http_server.add("/shared.pt", data)
    url = http_server.url("/shared.pt")
    library = library_for(tmp_path, models_dir, [entry("x", url), entry("y", url, title="Y")])
    x, y = library.catalog.get("x"), library.catalog.get("y")
    assert library.path(x) == library.path(y)
    assert [e.id for e in library.sharing(x)] == ["y"]

    queue = DownloadQueue(library, FAST, jobs=2)
    try:
        keys = queue.add([x, y])
        assert len(keys) == 1 and len(queue.items()) == 1
        assert queue.items()[0].entry_ids == ("x", "y")
        assert queue.wait(30)
    finally:
        queue.shutdown()
    assert library.path(x).read_bytes() == data
    assert len(body_requests(http_server, "/shared.pt")) == 1
    assert bytes_served(http_server, "/shared.pt") == len(data)
    statuses = library.statuses()
    assert statuses["x"].state is statuses["y"].state is State.DOWNLOADED

    # Downloading the other entry later finds the file and fetches nothing.
    http_server.clear_requests()
    assert download(library, "y") == library.path(x)
    assert http_server.requests == []


def test_two_threads_on_one_file_download_it_once(tmp_path, models_dir, http_server):
    data = payload(1 * MiB)
    http_server.add("/shared.pt", data, rate=2 * MiB)
    url = http_server.url("/shared.pt")
    library = library_for(tmp_path, models_dir, [entry("x", url), entry("y", url)])
    results, errors = [], []

    def run(entry_id):
        try:
            results.append(download(library, entry_id))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert results[0].read_bytes() == data
    assert len(body_requests(http_server, "/shared.pt")) == 1


# -- adoption of a file put there by hand ----------------------------------------------------------------


def test_hand_placed_file_with_known_sha256_is_adopted_after_hashing(tmp_path, models_dir, http_server):
    data = payload(500_000)
    http_server.add("/m.pt", data)
    library = library_for(
        tmp_path, models_dir, [entry("m", http_server.url("/m.pt"), sha256=sha256(data), size=len(data))]
    )
    m = library.catalog.get("m")
    library.path(m).write_bytes(data)
    assert download(library, "m") == library.path(m)
    assert http_server.requests == []  # nothing fetched: no GET, not even a HEAD
    meta = library.read_meta(m)
    assert meta["sha256"] == sha256(data) and meta["size"] == len(data) and meta["adopted_at"]
    status = library.status(m)
    assert status.state is State.DOWNLOADED and status.verified


def test_hand_placed_wrong_file_is_not_adopted_and_left_untouched(tmp_path, models_dir, http_server):
    data = payload(500_000)
    wrong = payload(500_000, seed=9)
    http_server.add("/m.pt", data)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    m = library.catalog.get("m")
    library.path(m).write_bytes(wrong)
    with pytest.raises(DownloadError) as info:
        download(library, "m")
    assert "a different file is already at" in str(info.value) and str(library.path(m)) in str(info.value)
    assert str(info.value).startswith(m.title)
    assert library.path(m).read_bytes() == wrong
    assert not library.meta_path(m).exists()
    assert body_requests(http_server, "/m.pt") == []


def test_hand_placed_file_of_the_wrong_size_is_not_overwritten(tmp_path, models_dir, http_server):
    data = payload(500_000)
    http_server.add("/m.pt", data)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"), size=len(data))])
    m = library.catalog.get("m")
    library.path(m).write_bytes(b"mine" * 100)
    with pytest.raises(DownloadError, match="a different file is already at"):
        download(library, "m")
    assert library.path(m).read_bytes() == b"mine" * 100
    assert body_requests(http_server, "/m.pt") == []


def test_hand_placed_file_without_published_hash_is_not_adopted_even_when_the_server_size_matches(
    tmp_path, models_dir, http_server
):
    # The server's size is learned after the file was found: no evidence that it is the checkpoint.
    data = payload(400_000)
    http_server.add("/m.pt", data)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"))])
    m = library.catalog.get("m")
    library.path(m).write_bytes(data)
    with pytest.raises(DownloadError, match="a different file is already at"):
        download(library, "m")
    assert http_server.requests == []
    assert not library.meta_path(m).exists()
    assert library.status(m).state is State.FOREIGN


# -- states and metadata -------------------------------------------------------------------------------


def test_states_remote_partial_downloaded_corrupt(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    route = http_server.add("/m.pt", data, drop_after=700_000)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    m = library.catalog.get("m")
    assert library.status(m).state is State.REMOTE and library.status(m).bytes == 0

    with pytest.raises(DownloadError):
        download(library, "m", TransferOptions(backoff_base=0.01, retries=0, connections=1))
    status = library.status(m)
    assert status.state is State.PARTIAL
    assert 0 < status.bytes < len(data) and status.size == len(data)
    assert not library.path(m).exists()
    record = library.read_record(m)
    assert record["url"] == m.url and record["size"] == len(data) and record["etag"] == route.etag
    assert record["ranges"] and record["ranges"][0][0] == 0

    download(library, "m")
    status = library.status(m)
    assert status.state is State.DOWNLOADED and status.verified and status.bytes == len(data)
    assert leftovers(models_dir) == []

    rot(library.path(m), 1000, b"\0corrupted\0")
    assert library.verify(m).state is State.CORRUPT
    assert library.status(m).state is State.CORRUPT


def test_metadata_is_recorded_next_to_the_file(tmp_path, models_dir, http_server):
    data = payload(300_000)
    route = http_server.add("/m.pt", data)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"))])
    m = library.catalog.get("m")
    path = download(library, "m")
    meta_path = library.meta_path(m)
    assert meta_path.parent == path.parent and meta_path.name.startswith(".")
    meta = json.loads(meta_path.read_text())
    assert meta["url"] == m.url
    assert meta["etag"] == route.etag and meta["last_modified"] == route.last_modified
    assert meta["size"] == len(data) and meta["sha256"] == sha256(data)
    assert meta["downloaded_at"]
    # Without a published hash, the file is "downloaded", not "verified".
    assert library.status(m).state is State.DOWNLOADED and not library.status(m).verified


def test_verify_without_published_hash_compares_with_the_hash_recorded_on_arrival(
    tmp_path, models_dir, http_server
):
    data = payload(300_000)
    http_server.add("/m.pt", data)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"))])
    m = library.catalog.get("m")
    path = download(library, "m")
    assert library.verify(m).state is State.DOWNLOADED
    rot(path, 0, payload(300_000, seed=5))  # same size, different bytes, same time stamp
    status = library.verify(m)
    assert status.state is State.CORRUPT
    assert status.meta["sha256_found"] == sha256(payload(300_000, seed=5))
    assert status.meta["sha256"] == sha256(data)


def test_a_corrupt_downloaded_file_is_replaced_by_a_new_download(tmp_path, models_dir, http_server):
    data = payload(300_000)
    http_server.add("/m.pt", data)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    m = library.catalog.get("m")
    path = download(library, "m")
    rot(path, 0, b"rot" * 1000)
    assert library.verify(m).state is State.CORRUPT
    download(library, "m")
    assert path.read_bytes() == data and library.status(m).state is State.DOWNLOADED


def test_delete_and_delete_partial(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    http_server.add("/m.pt", data, drop_after=500_000)
    library = library_for(tmp_path, models_dir, [entry("m", http_server.url("/m.pt"))])
    m = library.catalog.get("m")
    with pytest.raises(DownloadError):
        download(library, "m", TransferOptions(backoff_base=0.01, retries=0, connections=1))
    assert library.part_path(m).exists() and library.record_path(m).exists()
    assert library.delete(m, partial_only=True) > 0
    assert not library.part_path(m).exists() and not library.record_path(m).exists()
    assert library.status(m).state is State.REMOTE

    download(library, "m")
    assert library.delete(m) >= len(data)
    assert not library.path(m).exists() and not library.meta_path(m).exists()
    assert library.status(m).state is State.REMOTE


def test_disk_usage_counts_each_shared_file_once(tmp_path, models_dir, http_server):
    data = payload(1 * MiB)
    http_server.add("/s.pt", data)
    http_server.add("/p.pt", payload(2 * MiB), drop_after=600_000)
    url = http_server.url("/s.pt")
    library = library_for(
        tmp_path,
        models_dir,
        [
            entry("x", url),
            entry("y", url),
            entry("p", http_server.url("/p.pt")),
            entry("r", http_server.url("/r.pt")),
        ],
    )
    download(library, "x")
    with pytest.raises(DownloadError):
        download(library, "p", TransferOptions(backoff_base=0.01, retries=0, connections=1))
    usage = library.disk_usage()
    assert usage.downloaded == len(data)
    received = library.status(library.catalog.get("p")).bytes
    assert 0 < received < 2 * MiB
    assert usage.partial == received == usage.per_entry["p"]  # bytes received, not the preallocated length
    assert usage.per_entry["x"] == usage.per_entry["y"] == len(data)
    assert usage.per_entry["r"] == 0
    # The volume's figures are the models folder's own. Free space moves with other writers on a shared
    # volume, so it is compared within a margin; a wrong figure (total, used, another volume's) is far off.
    volume = shutil.disk_usage(models_dir)
    assert usage.total == volume.total
    assert abs(usage.free - volume.free) <= 256 * MiB
    # Other data is everything in the folder that is not a checkpoint: metadata, resume records, strays.
    everything = sum(f.stat().st_size for f in models_dir.rglob("*") if f.is_file())
    preallocated = library.part_path(library.catalog.get("p")).stat().st_size
    assert usage.other == everything - len(data) - preallocated
    (models_dir / "notes.txt").write_bytes(b"n" * 12_345)
    assert library.disk_usage().other == usage.other + 12_345
