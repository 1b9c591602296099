"""Real processes: resume after `kill -9`, and two processes downloading the same file at once."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from tests.catalogs import (
    MiB,
    body_requests,
    bytes_served,
    cli_command,
    cli_env,
    entry,
    load,
    payload,
    wait_for,
    write_catalog,
)
from tests.transfers import range_start

PATH = "/ckpt/model.pt"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock semantics are POSIX")


def spawn(models_dir, catalog, *args, tmp_path):
    """`download m` in a process of its own, whose Ctrl+C (SIGINT) works as at a terminal: a process
    inherits an ignored SIGINT, and a suite started in the background without job control has it ignored."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a handled signal is default after exec
    try:
        return subprocess.Popen(
            cli_command("--dir", str(models_dir), "--catalog", str(catalog), "download", "m", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
            cwd=tmp_path,
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def finish(proc, timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"ofa-manager did not finish:\n{err}") from None
    return proc.returncode, out, err


def test_kill_9_mid_download_then_resume_fetches_only_the_missing_bytes(tmp_path, models_dir, http_server):
    data = payload(8 * MiB)
    per_connection = 256 * 1024  # four connections: about 1 MiB/s in total, so 8 s for the whole file
    route = http_server.add(PATH, data, rate=per_connection)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url(PATH))])
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")

    proc = spawn(models_dir, catalog, "--connections", "4", tmp_path=tmp_path)
    try:
        # The record is written as soon as the first answer arrives (it claims the disk space); the wait
        # is for the first one that records received bytes.
        # The limits are hang guards, generous for a loaded machine (the download itself takes 8 s).
        wait_for(lambda: library.read_record(m).get("ranges"), 60, "the first resume record with data")
        # Then until all four connections have sent data and the record holds a piece from each.
        wait_for(
            lambda: (
                len({r.connection for r in body_requests(http_server, PATH) if r.bytes_sent}) >= 4
                and len(library.read_record(m).get("ranges") or ()) >= 4
            ),
            60,
            "four connections with data in the record",
        )
        assert proc.poll() is None, finish(proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        sent = bytes_served(http_server, PATH)
        proc.communicate(timeout=30)  # also closes its pipes when a wait above failed
    assert proc.returncode == -signal.SIGKILL
    # Four connections, or more when a loaded machine made one look slow and it was replaced.
    assert len({r.connection for r in body_requests(http_server, PATH)}) >= 4

    # The partial file and its record survive, and the record covers most of what was received.
    assert library.status(m).state is State.PARTIAL
    record = library.read_record(m)
    assert record["url"] == m.url and record["size"] == len(data) and record["etag"] == route.etag
    recorded = sum(end - start for start, end in record["ranges"])
    # How much of what was sent the record missed depends on how often the killed process ran (the record is
    # saved every second, test_connections_rules.py); a loaded machine can starve it: no bound here.
    assert 0 < recorded <= sent < len(data)
    # What the record claims is really on disk.
    with open(library.part_path(m), "rb") as fh:
        for start, end in record["ranges"]:
            fh.seek(start)
            assert fh.read(end - start) == data[start:end]

    # Second run, faster server: only the missing ranges are fetched, validated by If-Range.
    http_server.clear_requests()
    route.rate = 4 * MiB
    code, out, err = finish(spawn(models_dir, catalog, "--connections", "4", tmp_path=tmp_path))
    assert code == 0, err
    assert library.path(m).read_bytes() == data
    second = body_requests(http_server, PATH)
    assert second and all(r.if_range == route.etag and r.range for r in second)
    # Every request starts at a byte the record did not hold. (The bytes the server sent are no measure: an
    # answer cut short by a helper connection may have run ahead into the socket's buffers.)
    assert not [r.range for r in second if any(a <= range_start(r) < b for a, b in record["ranges"])]
    assert not library.part_path(m).exists() and not library.record_path(m).exists()
    assert library.status(m).state is State.DOWNLOADED


def test_two_processes_on_one_file_fetch_it_once(tmp_path, models_dir, http_server):
    data = payload(4 * MiB)
    # About 4 s with four connections: both processes are still there when the first body byte goes out,
    # even on a loaded machine (the other one waits for the lock or has not started downloading yet).
    http_server.add(PATH, data, rate=256 * 1024)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url(PATH))])
    library = Library(models_dir, load(catalog))
    procs = [spawn(models_dir, catalog, "--connections", "4", tmp_path=tmp_path) for _ in range(2)]
    try:
        wait_for(
            lambda: body_requests(http_server, PATH) or any(p.poll() is not None for p in procs),
            60,
            "the download to start",
        )
        # Both processes are running while the file is being fetched: they really overlap.
        assert all(p.poll() is None for p in procs)
        results = [finish(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for code, _out, err in results:
        assert code == 0, err
        assert "1 file(s) ready, 0 failed" in err
    assert library.path(library.catalog.get("m")).read_bytes() == data
    served = bytes_served(http_server, PATH)
    assert len(data) <= served <= len(data) + 512 * 1024, "the body was fetched more than once"
    assert sorted(os.listdir(models_dir)) == sorted(["model.pt", ".model.pt.meta.json", ".model.pt.lock"])


def test_ctrl_c_stops_cleanly_and_keeps_the_partial(tmp_path, models_dir, http_server):
    data = payload(4 * MiB)
    route = http_server.add(PATH, data, rate=256 * 1024)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url(PATH))])
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    proc = spawn(models_dir, catalog, tmp_path=tmp_path)
    try:
        wait_for(lambda: library.read_record(m).get("ranges"), 60, "the first resume record with data")
    finally:
        proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc)
    assert code == 130
    assert "partial data kept" in err and "Traceback" not in err
    assert library.status(m).state is State.PARTIAL and library.status(m).bytes > 0
    route.rate = None
    code, out, err = finish(spawn(models_dir, catalog, tmp_path=tmp_path))
    assert code == 0, err
    assert library.path(m).read_bytes() == data
