"""Smaller holes in transfers, each broken on purpose: credentials in URLs, trickling bodies, short ranges,
an ETag per answer, two downloads on a small disk, and a file removed while it downloads."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import transfer as transfer_module
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue, ItemState
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted, DownloadError, RateLimiter
from tests.catalogs import (
    MiB,
    bytes_served,
    cli_command,
    cli_env,
    engine_threads,
    entry,
    fast_options,
    leftovers,
    load,
    payload,
    sha256,
    write_catalog,
)

PATH = "/ckpt/model.pt"
USER, PASSWORD = "alice", "S3cret-pw-7f2a"


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


def make_library(tmp_path, models_dir, url, name="catalog.json", **fields):
    catalog = write_catalog(tmp_path / name, [entry("m", url, title="Model M", **fields)])
    library = Library(models_dir, load(catalog))
    return library, library.catalog.get("m")


def run_guarded(transfer: Transfer, limit: float = 60) -> Path:
    """Run a transfer in a thread; a transfer still running after ``limit`` seconds is stopped and fails
    the test (a hang guard, not a speed check)."""
    outcome: dict = {}

    def work():
        try:
            outcome["path"] = transfer.run()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="test-transfer")
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        transfer.abort.set()
        thread.join()
        pytest.fail(f"the transfer was still running after {limit:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["path"]


def wait_for(condition, timeout: float = 30, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def range_start(record) -> int:
    match = re.match(r"bytes=(\d+)-", record.range or "")
    return int(match.group(1)) if match else 0


# -- a URL's user and password ---------------------------------------------------------------------


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def files_holding(folder: Path, secret: str) -> list[str]:
    """Every file under ``folder`` whose bytes contain ``secret``."""
    found = []
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            try:
                if secret.encode() in path.read_bytes():
                    found.append(str(path))
            except OSError:
                pass
    return found


READ_ONLY_COMMANDS = (
    ["list"],
    ["list", "--json"],
    ["check"],
    ["check", "--json"],
    ["verify"],
    ["du", "--json"],
)


def test_a_urls_user_and_password_are_sent_but_never_written_or_printed(
    tmp_path, models_dir, http_server, capsys, isolated_user_folders
):
    good, slow = payload(300_000, 1), payload(4 * MiB, 2)
    http_server.add("/good.pt", data=good)
    http_server.add("/mirror/good.pt", data=good)
    http_server.add("/slow.pt", data=slow, rate=512 * 1024)
    # A redirect to a URL that cannot be fetched, carrying credentials of its own, then a missing mirror.
    http_server.add("/bad.pt", b"x", redirect_to=f"ftp://{USER}:{PASSWORD}@files.invalid/bad.pt")
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry(
                "good",
                with_credentials(http_server.url("/good.pt")),
                sha256=sha256(good),
                mirrors=[with_credentials(http_server.url("/mirror/good.pt"))],
            ),
            entry(
                "bad",
                with_credentials(http_server.url("/bad.pt")),
                mirrors=[with_credentials(http_server.url("/gone.pt"))],
            ),
            entry("slow", with_credentials(http_server.url("/slow.pt"))),
        ],
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    outputs = []

    def command(*more):
        code = cli.main([*args, *more])
        out, err = capsys.readouterr()
        outputs.append(out + err)
        return code, out, err

    assert command("download", "good")[0] == 0
    code, _, err = command("download", "bad")
    assert code == 1 and "redirect to unsupported URL ftp://***@files.invalid/bad.pt" in err
    codes = [command(*more)[0] for more in READ_ONLY_COMMANDS]
    # check says "bad" is not downloaded (exit 1); verify proves the one file there is (exit 0).
    assert codes == [0, 0, 1, 1, 0, 0], list(
        zip([" ".join(c) for c in READ_ONLY_COMMANDS], codes, strict=True)
    )
    assert f"http://***@{http_server.netloc}/good.pt" in outputs[3]  # list --json shows the URL, redacted

    # The queue's state file (the window's), with a failed row, and a paused download's resume record.
    library = Library(models_dir, load(catalog))
    state_file = isolated_user_folders["XDG_STATE_HOME"] / "ofa-manager" / "queue.json"
    queue = DownloadQueue(library, fast_options(), state_file=state_file)
    try:
        queue.add([library.catalog.get("bad")])
        assert queue.wait(30)
        assert queue.items()[0].state is ItemState.FAILED and "***@" in queue.items()[0].error
    finally:
        queue.shutdown()
    abort = threading.Event()
    slow_transfer = Transfer(library, library.catalog.get("slow"), fast_options(), abort=abort)
    runner = threading.Thread(target=lambda: pytest.raises(Aborted, slow_transfer.run))
    runner.start()
    wait_for(lambda: library.read_record(library.catalog.get("slow")).get("ranges"), what="a resume record")
    abort.set()
    runner.join()

    # The credentials were used: HTTP Basic authentication on the requests to the file.
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert {r.headers.get("authorization") for r in http_server.requests_for("/good.pt")} == {basic}
    # What was written holds the URLs, without them.
    meta = library.read_meta(library.catalog.get("good"))
    assert meta["url"] == meta["catalog_url"] == f"http://***@{http_server.netloc}/good.pt"
    assert library.status(library.catalog.get("good")).state is State.DOWNLOADED
    assert library.read_record(library.catalog.get("slow"))["url"].startswith("http://***@")
    assert state_file.exists()
    written = [models_dir, *isolated_user_folders.values()]
    for secret in (PASSWORD, f"{USER}:"):
        assert [f for folder in written for f in files_holding(folder, secret)] == []
        assert [text for text in outputs if secret in text] == []


def test_a_catalog_error_about_a_url_does_not_print_its_password(tmp_path, models_dir, capsys):
    catalog = write_catalog(tmp_path / "c.json", [entry("m", f"ftp://{USER}:{PASSWORD}@example.org/m.pt")])
    code = cli.main(["--dir", str(models_dir), "--catalog", str(catalog), "list"])
    _, err = capsys.readouterr()
    assert code == 2 and "unsupported URL scheme 'ftp'" in err and "***@example.org" in err
    assert PASSWORD not in err and USER not in err


# -- a body trickling below the speed floor -----------------------------------------------------------


def test_a_body_trickling_below_the_floor_is_a_stall_and_a_new_connection_finishes_it(
    tmp_path, models_dir, http_server
):
    data = payload(2 * MiB)
    # After 1 MiB the server sends 300 bytes a second, a piece every 50 ms: no read ever times out.
    http_server.add(PATH, data, trickle_after=MiB, trickle_rate=300)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    options = fast_options(connections=1, timeout=1.0, min_speed=1024)
    final = run_guarded(Transfer(library, m, options, on_progress=progress.append))
    assert final.read_bytes() == data
    gets = http_server.requests_for(PATH, "GET")
    assert len(gets) == 2
    assert range_start(gets[1]) >= MiB  # resumed where the trickle was cut, not started over
    stalls = [p.message for p in progress if p.state == "stalled"]
    assert stalls and all("under 1.0 KiB/s for 1 s" in text for text in stalls)


def test_a_trickle_that_never_ends_fails_after_the_retries_like_any_stall(tmp_path, models_dir, http_server):
    data = payload(MiB)
    http_server.add(PATH, data, trickle_after=100_000, trickle_rate=200, trickle_times=100)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    options = fast_options(connections=1, timeout=0.5, retries=2, min_speed=1024)
    with pytest.raises(DownloadError, match=r"under 1.0 KiB/s .*gave up after 3 attempts"):
        run_guarded(Transfer(library, m, options))
    # The bytes each trickle brought did not count as "data flowing again": three attempts in all.
    assert len(http_server.requests_for(PATH, "GET")) == 3
    assert library.status(m).state is State.PARTIAL  # what did arrive is kept for a later resume


def test_a_connection_slowed_by_the_bandwidth_limit_is_not_taken_for_a_stall(
    tmp_path, models_dir, http_server
):
    data = payload(256 * 1024)
    # The server could send 72 KiB/s; the user's limit lets 64 KiB/s through, under a 128 KiB/s floor.
    # (The server is barely faster than the limit, so the kernel holds little unread: a connection cut
    # for slowness would soon read its end and show as a stall.)
    http_server.add(PATH, data, rate=72 * 1024)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    options = fast_options(connections=1, timeout=0.5, retries=1, min_speed=128 * 1024)
    transfer = Transfer(library, m, options, limiter=RateLimiter(64 * 1024), on_progress=progress.append)
    assert run_guarded(transfer).read_bytes() == data
    assert len(http_server.requests_for(PATH, "GET")) == 1
    assert not [p for p in progress if p.state == "stalled"]


def test_a_slow_connection_above_the_floor_is_not_cut(tmp_path, models_dir, http_server):
    data = payload(12 * 1024)
    # 3 KiB/s, a KiB at a time: above a 1 KiB/s floor, though far less than one usual read in the
    # 2 s window; the floor must see the bytes arrive, not wait for a read that takes longer.
    http_server.add(PATH, data, rate=3 * 1024)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    options = fast_options(connections=1, timeout=2.0, retries=1, min_speed=1024)
    assert run_guarded(Transfer(library, m, options, on_progress=progress.append)).read_bytes() == data
    assert len(http_server.requests_for(PATH, "GET")) == 1
    assert not [p for p in progress if p.state == "stalled"]


# -- shorter ranges than asked ----------------------------------------------------------------------


def counting_backoffs(transfer: Transfer) -> list[int]:
    """Count the backoff pauses the transfer decides on (the method is wrapped on this instance)."""
    calls: list[int] = []
    original = transfer._backoff

    def backoff(attempts, retry_after):
        calls.append(attempts)
        return original(attempts, retry_after)

    transfer._backoff = backoff
    return calls


def test_shorter_ranges_than_asked_are_followed_at_once_without_backoff(tmp_path, models_dir, http_server):
    data = payload(2 * MiB)
    piece = 256 * 1024
    http_server.add(PATH, data, short_ranges=piece)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH))
    progress = []
    options = fast_options(connections=1, backoff_base=0.5)
    transfer = Transfer(library, m, options, on_progress=progress.append)
    backoffs = counting_backoffs(transfer)
    assert run_guarded(transfer).read_bytes() == data
    gets = http_server.requests_for(PATH, "GET")
    assert [r.status for r in gets] == [206] * 8
    assert [range_start(r) for r in gets] == [i * piece for i in range(8)]
    assert len({r.connection for r in gets}) == 1  # each answer read to its end: the connection is reused
    assert backoffs == []
    assert not [p for p in progress if p.state == "stalled"]


def test_shorter_ranges_on_several_connections_make_a_whole_file(tmp_path, models_dir, http_server):
    data = payload(4 * MiB)
    http_server.add(PATH, data, short_ranges=300_000)
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), sha256=sha256(data))
    transfer = Transfer(library, m, fast_options(connections=4, min_segment=512 * 1024, backoff_base=0.5))
    backoffs = counting_backoffs(transfer)
    assert run_guarded(transfer).read_bytes() == data
    assert backoffs == []
    assert len({r.connection for r in http_server.requests_for(PATH, "GET")}) >= 2


# -- an ETag per answer -----------------------------------------------------------------------------


@pytest.mark.parametrize("known_sha", [True, False], ids=["sha256", "no-sha256"])
def test_an_etag_that_changes_on_every_answer_falls_back_to_one_connection(
    tmp_path, models_dir, http_server, known_sha
):
    data = payload(8 * MiB)
    route = http_server.add(PATH, data, etag_per_request=True)
    fields = {"sha256": sha256(data)} if known_sha else {}
    library, m = make_library(tmp_path, models_dir, http_server.url(PATH), **fields)
    final = run_guarded(Transfer(library, m, fast_options(connections=4, min_segment=MiB)))
    assert final.read_bytes() == data
    gets = [r for r in http_server.requests_for(PATH, "GET") if r.status in (200, 206)]
    assert any(r.if_range for r in gets)  # segments were tried first, validated by the ETag
    last = gets[-1]
    # Then one answer from byte 0 on one connection, which no validator has to vouch for.
    assert last.range is None and last.status == 200 and last.bytes_sent == len(data)
    assert route.etag != http_server.requests_for(PATH, "GET")[0].headers.get("if-range")
    assert library.status(m).state is State.DOWNLOADED and leftovers(models_dir) == []


# -- two downloads on a small disk ------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 10 MiB folder: a tmpfs where one can be mounted (root), else a simulated volume whose free
    space is 10 MiB less the blocks of the files in it (then writing past it does not fail)."""
    folder = tmp_path / "small"
    folder.mkdir()
    capacity = 10 * MiB
    mounted = (
        shutil.which("mount") is not None
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={capacity}", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    if not mounted:

        def simulated_free(path):
            used = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
            return max(0, capacity - used)

        monkeypatch.setattr(transfer_module, "free_space", simulated_free)
    yield folder
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def two_files(tmp_path, folder, http_server, rate):
    a, b = payload(6 * MiB, 1), payload(6 * MiB, 2)
    http_server.add("/a.pt", a, rate=rate)
    http_server.add("/b.pt", b, rate=rate)
    # No sizes in the catalog: the space is checked on the first answer, when both run.
    catalog = write_catalog(
        tmp_path / "c.json", [entry("a", http_server.url("/a.pt")), entry("b", http_server.url("/b.pt"))]
    )
    return {"a": a, "b": b}, catalog, Library(folder, load(catalog))


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


# -- a file removed while it downloads --------------------------------------------------------------


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
