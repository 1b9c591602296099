"""Transfer rules no other test pinned: Retry-After is honoured up to its cap, and a 206 that does not start
where it was asked is never written into the file (the loopback server misbehaves on purpose)."""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest

from ofa_manager.core.library import Library
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer import Aborted, DownloadError, Transfer
from tests.catalogs import (
    MiB,
    body_requests,
    engine_threads,
    entry,
    fast_options,
    load,
    payload,
    write_catalog,
)

PATH = "/m.pt"


@pytest.fixture(autouse=True)
def _engine_threads_end():
    yield
    assert engine_threads() == []


def library_for(tmp_path, models_dir, http_server, data, **faults):
    route = http_server.add(PATH, data, **faults)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url(PATH))])
    library = Library(models_dir, load(catalog))
    return route, library, library.catalog.get("m")


def first_wait(tmp_path, models_dir, http_server, retry_after: str, cap: float) -> str:
    """The message of the first retry wait; the transfer is stopped there (it would sit out the wait)."""
    busy = (503, {"Retry-After": retry_after}, b"busy")
    _, library, m = library_for(tmp_path, models_dir, http_server, payload(1000), statuses=[busy])
    abort = threading.Event()
    waits = []

    def on_progress(progress):
        if progress.state == "stalled" and not waits:
            waits.append(progress.message)
            abort.set()

    options = fast_options(connections=1, max_retry_after=cap, backoff_base=0.01)
    with pytest.raises(Aborted):
        Transfer(library, m, options, abort=abort, on_progress=on_progress).run()
    return waits[0]


def test_a_long_retry_after_is_cut_to_the_cap(tmp_path, models_dir, http_server):
    assert first_wait(tmp_path, models_dir, http_server, "86400", cap=5.0).endswith("; retrying in 5 s")


def test_a_retry_after_below_the_cap_is_honoured_over_the_short_backoff(tmp_path, models_dir, http_server):
    assert first_wait(tmp_path, models_dir, http_server, "3", cap=300.0).endswith("; retrying in 3 s")


def test_a_206_starting_before_the_asked_byte_is_not_spliced_in(tmp_path, models_dir, http_server):
    # A partial file with two holes: the first request opens the first hole (below the byte from which the
    # server starts its answers early), and a second connection takes the second hole at once, whatever the
    # first one's pace; that answer starts 1000 bytes before the asked byte.
    data = payload(4 * MiB)
    route, library, m = library_for(tmp_path, models_dir, http_server, data, shift_ranges=1000, shift_times=1)
    ranges = [[0, 100], [2 * MiB, 2 * MiB + 100]]
    part = bytearray(b"\xee" * len(data))
    for start, end in ranges:
        part[start:end] = data[start:end]
    library.part_path(m).write_bytes(part)
    library.write_record(
        m, {"url": m.url, "size": len(data), "etag": route.etag, "last_modified": None, "ranges": ranges}
    )
    final = Transfer(library, m, fast_options(connections=2, min_segment=256 * 1024)).run()
    assert route.shift_times == 0  # one answer did start 1000 bytes early
    assert final.read_bytes() == data
    asked = [r.range for r in body_requests(http_server, PATH)]
    assert asked[0] == "bytes=100-" and "bytes=0-" in asked  # the shifted answer made it start over
    # Before that, the second hole is asked for from its first missing byte, by the second connection or,
    # when the first one finished its hole before the second was started, by the first (the other then
    # asks for half of it): the requests may reach the server in either order.
    starts = [int(r.split("=")[1].split("-")[0]) for r in asked[1 : asked.index("bytes=0-")]]
    assert starts and min(starts) == 2 * MiB + 100


@pytest.fixture
def tiny_volume(tmp_path):
    """A 1 MiB tmpfs (mounting needs root; skipped elsewhere): writing past it fails with ENOSPC."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mount = shutil.which("mount")
    if (
        mount is None
        or subprocess.run(
            [mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True
        ).returncode
    ):
        pytest.skip("cannot mount a small tmpfs here")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_fails_the_download_without_trying_the_mirrors(tmp_path, tiny_volume, http_server):
    data = payload(3 * MiB)
    # No length: nothing tells the size before the bytes arrive, so the disk fills while writing.
    http_server.add(PATH, data, no_length=True)
    http_server.add("/mirror.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json", [entry("m", http_server.url(PATH), mirrors=[http_server.url("/mirror.pt")])]
    )
    library = Library(tiny_volume, load(catalog))
    with pytest.raises(DownloadError) as info:
        Transfer(library, library.catalog.get("m"), fast_options(connections=1)).run()
    assert info.value.kind is ErrorKind.DISK, info.value
    assert str(info.value) == "M: cannot write to the models folder: [Errno 28] No space left on device"
    assert http_server.requests_for("/mirror.pt") == []  # another source cannot make the disk bigger
