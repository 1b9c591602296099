"""How a download ends: sha256 and size checks, disk space before and during, a file removed or replaced while
it downloads."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading

import pytest

from ofa_manager import cli
from ofa_manager.core import units
from ofa_manager.core.file_status import State
from ofa_manager.core.queue import DownloadQueue, ItemState
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import DownloadError
from tests.catalogs import (
    MiB,
    bytes_served,
    cli_command,
    cli_env,
    fast_options,
    leftovers,
    payload,
    rot,
    sha256,
    wait_for,
)
from tests.transfers import PATH, make_library, options, run, setup, two_files

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_sha256_mismatch_never_reaches_the_final_path(tmp_path, models_dir, http_server):
    data = payload(3 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, fields={"sha256": sha256(b"other")})
    with pytest.raises(DownloadError) as info:
        run(library, m)
    assert "sha256 mismatch" in str(info.value) and str(info.value).startswith("Model M")
    assert not library.path(m).exists()
    assert leftovers(models_dir) == []  # the bad data was discarded
    assert library.status(m).state is State.REMOTE


def test_catalog_sha256_is_checked_and_recorded(tmp_path, models_dir, http_server):
    data = payload(3 * MiB)
    route, library, m = setup(tmp_path, models_dir, http_server, data, fields={"sha256": sha256(data)})
    assert run(library, m).read_bytes() == data
    assert library.status(m).verified and library.read_meta(m)["verified"] is True


def test_size_different_from_the_catalog_is_refused(tmp_path, models_dir, http_server):
    route, library, m = setup(tmp_path, models_dir, http_server, payload(100_000), fields={"size": 99_999})
    with pytest.raises(DownloadError, match="catalog says"):
        run(library, m)
    assert not library.path(m).exists()


def test_disk_preflight_fails_before_any_body_with_both_sizes(tmp_path, models_dir, http_server):
    free = shutil.disk_usage(models_dir).free
    size = free + 2**40
    route, library, m = setup(tmp_path, models_dir, http_server, payload(1000), fields={"size": size})
    with pytest.raises(DownloadError) as info:
        run(library, m)
    message = str(info.value)
    assert "not enough disk space" in message and units.size(size) in message
    assert re.search(r"only [\d.]+ (KiB|MiB|GiB|TiB|PiB) free", message)
    assert not [r for r in http_server.requests if r.method == "GET" and r.bytes_sent]
    assert not library.part_path(m).exists()


def test_disk_preflight_uses_the_content_length_when_the_catalog_has_no_size(
    tmp_path, models_dir, http_server, monkeypatch
):
    import ofa_manager.core.transfer as transfer_module

    route, library, m = setup(tmp_path, models_dir, http_server, payload(2 * MiB))
    monkeypatch.setattr(transfer_module, "free_space", lambda path: 1 * MiB)
    with pytest.raises(DownloadError) as info:
        run(library, m)
    assert "2.0 MiB" in str(info.value) and "1.0 MiB" in str(info.value)
    assert not library.part_path(m).exists() and not library.path(m).exists()


def test_body_longer_than_the_catalog_size_is_refused(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    http_server.add(PATH, data, no_length=True)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), size=MiB)
    with pytest.raises(DownloadError, match="more than the catalog's size"):
        Transfer(library, m, options()).run()
    assert not library.path(m).exists() and not library.part_path(m).exists()


def test_second_verify_does_not_bless_a_damaged_file(tmp_path, models_dir, http_server):
    data = payload(MiB)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))  # no sha256 in the catalog
    final = Transfer(library, m, options()).run()
    rot(final, 1000, b"\xff" * 16)
    assert library.verify(m).state is State.CORRUPT
    assert library.verify(m).state is State.CORRUPT


def test_a_file_fetched_for_another_url_is_not_taken_for_this_entry(tmp_path, models_dir, http_server):
    old, new = payload(MiB, 1), payload(MiB, 2)
    http_server.add("/v1/model.pt", old)
    http_server.add("/v2/model.pt", new)
    library, m = make_library(tmp_path, models_dir, http_server.url("/v1/model.pt"), "v1.json")
    Transfer(library, m, options()).run()
    other, m2 = make_library(tmp_path, models_dir, http_server.url("/v2/model.pt"), "v2.json")
    assert other.path(m2) == library.path(m)  # same file name from two catalogs
    assert other.status(m2).state is State.FOREIGN and "another link" in other.status(m2).reason
    with pytest.raises(DownloadError, match="a different file is already at"):
        Transfer(other, m2, options()).run()
    assert library.path(m).read_bytes() == old  # the other catalog's file is left alone


def test_two_downloads_started_together_on_a_small_disk_are_checked_together(
    tmp_path, small_disk, http_server
):
    data, _, library = two_files(tmp_path, small_disk, http_server, rate=2 * MiB)
    queue = DownloadQueue(library, fast_options(connections=1), jobs=2)
    try:
        queue.add(list(library.catalog))
        assert queue.wait(60)
    finally:
        queue.shutdown()
    items = {item.entry_ids[0]: item for item in queue.items()}
    done = [i for i, item in items.items() if item.state is ItemState.DONE]
    failed = [i for i, item in items.items() if item.state is ItemState.FAILED]
    assert len(done) == len(failed) == 1, items
    refused = items[failed[0]]
    # Refused up front for space, naming what the other download still needs; not failing halfway.
    assert refused.error_kind == "space", refused.error
    assert "not enough disk space" in refused.error and "other downloads in progress" in refused.error
    entry_refused = library.catalog.get(failed[0])
    assert not library.part_path(entry_refused).exists() and not library.record_path(entry_refused).exists()
    assert library.path(library.catalog.get(done[0])).read_bytes() == data[done[0]]


def test_a_download_in_another_process_holds_its_space_too(tmp_path, small_disk, http_server):
    data, catalog, library = two_files(tmp_path, small_disk, http_server, rate=MiB)
    a, b = library.catalog.get("a"), library.catalog.get("b")
    proc = subprocess.Popen(
        cli_command("--dir", str(small_disk), "--catalog", str(catalog), "download", "a", "--connections=1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        wait_for(lambda: library.read_record(a).get("ranges"), what="the other process's download")
        with pytest.raises(DownloadError, match="other downloads in progress") as info:
            Transfer(library, b, fast_options(connections=1)).run()
        assert info.value.kind == "space"
        assert not library.part_path(b).exists()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert library.path(a).read_bytes() == data["a"]


def test_rm_during_a_download_makes_the_download_report_its_file_removed(
    tmp_path, models_dir, http_server, capsys
):
    data = payload(4 * MiB)
    http_server.add(PATH, data, rate=512 * 1024)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    args = ["--dir", str(models_dir), "--catalog", str(tmp_path / "catalog.json")]
    proc = subprocess.Popen(
        cli_command(*args, "download", "m", "--connections", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        wait_for(lambda: library.read_record(m).get("ranges"), what="data on disk")
        assert cli.main([*args, "rm", "m", "--yes"]) == 0
        assert "deleted 1 file(s)" in capsys.readouterr().out
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 1, err
    assert "failed: Model M: its file was removed" in err
    assert "done:" not in err and "0 file(s) ready, 1 failed" in err
    # The rm did not wait for the whole download: it stopped it.
    assert bytes_served(http_server, PATH) < len(data)
    # Nothing came back after the rm: no partial file, no record, no metadata, no final file.
    assert leftovers(models_dir) == [] and not library.path(m).exists()
    assert not library.meta_path(m).exists()


def test_a_partial_file_deleted_under_a_transfer_stops_it_and_leaves_nothing(
    tmp_path, models_dir, http_server
):
    data = payload(4 * MiB)
    http_server.add(PATH, data, rate=MiB)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    transfer = Transfer(library, m, fast_options(connections=2, min_segment=MiB))
    outcome = {}

    def work():
        try:
            transfer.run()
        except DownloadError as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=work)
    runner.start()
    wait_for(lambda: library.read_record(m).get("ranges"), what="data on disk")
    os.remove(library.part_path(m))  # as `rm model.pt.part` in a shell
    runner.join(60)
    assert not runner.is_alive()
    error = outcome["error"]
    assert error.kind == "removed" and "its file was removed" in str(error)
    assert leftovers(models_dir) == []  # the record was not written again


def test_a_file_removed_just_after_it_was_downloaded_is_reported_removed_not_done(
    tmp_path, models_dir, http_server, monkeypatch
):
    data = payload(MiB)
    http_server.add(PATH, data)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    finish = Transfer._finish

    def finish_then_rm(self, plan, digest):
        # The one moment no check inside the transfer can see: just after the rename.
        finish(self, plan, digest)
        os.remove(self.library.path(self.entry))

    monkeypatch.setattr(Transfer, "_finish", finish_then_rm)
    queue = DownloadQueue(library, fast_options())
    try:
        queue.add([m])
        assert queue.wait(30)
    finally:
        queue.shutdown()
    item = queue.items()[0]
    assert item.state is ItemState.FAILED and item.error_kind == "removed"
    assert "its file was removed" in item.error
