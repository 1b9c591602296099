"""Durability, observed: which file and which folder are fsynced, in what order around the rename.

A crash cannot be staged here, so the order is what is checked: ``os.fsync`` is wrapped (the real call
still runs) to record which path each call syncs and whether the final name existed at that moment.
Where a failing disk is needed (an fsync that fails with EIO), that one call is made to fail, said so
at the test.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest

from ofa_manager.core import durable
from ofa_manager.core.durable import OnError, atomic_write_json, copy_sparse, sync_folder
from ofa_manager.core.library import Library
from ofa_manager.core.relocate import move_file
from ofa_manager.core.transfer import Transfer
from tests.catalogs import cli_env, engine_threads, entry, fast_options, load, payload, write_catalog


class Fsyncs:
    """Every os.fsync as (the synced path, whether ``watch`` existed then); the real fsync still runs."""

    def __init__(self, monkeypatch, watch: Path) -> None:
        self.calls: list[tuple[Path, bool]] = []
        self.watch = watch
        real = os.fsync

        def fsync(fd):
            self.calls.append((Path(os.readlink(f"/proc/self/fd/{fd}")), self.watch.exists()))
            return real(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    def of(self, path: Path) -> list[bool]:
        return [existed for synced, existed in self.calls if synced == path]

    def order(self, *paths: Path) -> list[Path]:
        return [synced for synced, _ in self.calls if synced in paths]


pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads fd paths from /proc")


def test_a_download_syncs_its_file_before_the_rename_and_the_folder_after(
    tmp_path, models_dir, http_server, monkeypatch
):
    data = payload(300_000)
    http_server.add("/m.pt", data)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"))])
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    final, part = library.path(m), library.part_path(m)
    fsyncs = Fsyncs(monkeypatch, final)
    assert Transfer(library, m, fast_options(connections=1)).run().read_bytes() == data
    assert engine_threads() == []
    # The partial file's data reaches the disk before it takes the final name ...
    assert fsyncs.of(part) and not any(fsyncs.of(part))
    # ... and the folder is synced once the final name is there, so the rename survives a crash.
    assert fsyncs.of(models_dir) and all(fsyncs.of(models_dir))
    assert fsyncs.order(part, models_dir)[-2:] == [part, models_dir]


def test_a_move_across_volumes_syncs_the_copy_then_its_folder_before_the_source_goes(
    tmp_path,
    elsewhere,  # noqa: F811
    monkeypatch,
):
    source = tmp_path / "a.pt"
    data = payload(200_000)
    source.write_bytes(data)
    target = elsewhere / "a.pt"
    temporary = target.with_name(".a.pt.moving")
    fsyncs = Fsyncs(monkeypatch, target)
    move_file(source, target)
    assert target.read_bytes() == data and not source.exists() and not temporary.exists()
    # The copy is synced under its temporary name before the rename; the folder after it.
    assert fsyncs.of(temporary) == [False]
    assert fsyncs.of(elsewhere) == [True]
    assert fsyncs.order(temporary, elsewhere) == [temporary, elsewhere]


def test_a_move_across_volumes_keeps_the_source_until_the_folder_is_synced(
    tmp_path,
    elsewhere,  # noqa: F811
    monkeypatch,
):
    source = tmp_path / "a.pt"
    source.write_bytes(payload(50_000))
    target = elsewhere / "a.pt"
    fsyncs = Fsyncs(monkeypatch, source)  # records whether the source was still there at each fsync
    move_file(source, target)
    assert fsyncs.of(elsewhere) == [True]


def test_atomic_json_syncs_a_temporary_beside_the_file_then_renames(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "er" / "record.json"  # folders made as needed
    fsyncs = Fsyncs(monkeypatch, path)
    atomic_write_json(path, {"name": "Modèle — 模型"})
    (synced, existed) = fsyncs.calls[0]
    assert synced.parent == path.parent and not existed  # beside it (one volume), before the rename
    assert synced.name.startswith(".record.json.") and synced.name.endswith(".tmp")
    assert os.listdir(path.parent) == ["record.json"]  # no temporary left behind
    # UTF-8, not escaped: another program reading the bytes as UTF-8 sees the same text.
    assert "Modèle — 模型" in path.read_bytes().decode("utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "Modèle — 模型"}
    # Readable by its owner only, unless a mode is asked for.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    atomic_write_json(path, [1], mode=0o644)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 and json.loads(path.read_text()) == [1]


def test_atomic_json_without_durable_does_not_sync(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    fsyncs = Fsyncs(monkeypatch, path)
    atomic_write_json(path, {}, durable=False)
    assert fsyncs.calls == [] and json.loads(path.read_text()) == {}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "r.json"
    atomic_write_json(path, {"old": True})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"bad": object()})
    assert os.listdir(tmp_path) == ["r.json"] and json.loads(path.read_text()) == {"old": True}


def failing_fsync(monkeypatch, code: int) -> None:
    # A disk that fails a folder sync cannot exist here: this one call fails as such a disk makes it fail.
    def fsync(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fsync)


def test_sync_folder_syncs_the_folder_itself(tmp_path, monkeypatch):
    fsyncs = Fsyncs(monkeypatch, tmp_path)
    sync_folder(tmp_path, on_error=OnError.RAISE)
    assert fsyncs.calls == [(tmp_path, True)]


def test_sync_folder_raises_a_real_failure_only_when_asked(tmp_path, monkeypatch):
    missing = tmp_path / "gone"
    with pytest.raises(FileNotFoundError):
        sync_folder(missing, on_error=OnError.RAISE)
    sync_folder(missing, on_error=OnError.IGNORE)  # a best effort says nothing
    failing_fsync(monkeypatch, errno.EIO)
    with pytest.raises(OSError) as info:
        sync_folder(tmp_path, on_error=OnError.RAISE)
    assert info.value.errno == errno.EIO
    sync_folder(tmp_path, on_error=OnError.IGNORE)


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOTSUP, errno.EBADF])
def test_a_folder_that_cannot_be_synced_at_all_is_not_an_error(tmp_path, monkeypatch, code):
    failing_fsync(monkeypatch, code)
    sync_folder(tmp_path, on_error=OnError.RAISE)  # the rename stands there anyway


def test_sync_file_raises_only_when_asked(tmp_path, monkeypatch):
    failing_fsync(monkeypatch, errno.EIO)
    with open(tmp_path / "f", "wb") as fh:
        with pytest.raises(OSError):
            durable.sync_file(fh.fileno(), on_error=OnError.RAISE)
        durable.sync_file(fh.fileno(), on_error=OnError.IGNORE)


def test_copy_sparse_syncs_the_copy(tmp_path, monkeypatch):
    source, target = tmp_path / "s", tmp_path / "t"
    source.write_bytes(payload(10_000))
    fsyncs = Fsyncs(monkeypatch, target)
    copy_sparse(source, target)
    assert fsyncs.of(target) == [True] and target.read_bytes() == source.read_bytes()


def sparse(path: Path, size: int, pieces: dict[int, bytes]) -> None:
    with open(path, "wb") as fh:
        for offset, data in pieces.items():
            fh.seek(offset)
            fh.write(data)
        fh.truncate(size)


def test_disk_bytes_counts_blocks_not_holes(tmp_path):
    assert durable.disk_bytes(tmp_path / "missing") == 0
    whole = tmp_path / "whole"
    whole.write_bytes(b"w" * 10_000)
    assert durable.disk_bytes(whole) == 10_000  # never more than the size, though blocks are rounded up
    holey = tmp_path / "holey"
    sparse(holey, 8 << 20, {0: b"a" * 4096})
    assert durable.disk_bytes(holey) == holey.stat().st_blocks * 512 < 8 << 20


def test_same_volume(tmp_path, elsewhere):  # noqa: F811
    (tmp_path / "a").mkdir()
    assert durable.same_volume(tmp_path, tmp_path / "a") is True
    assert durable.same_volume(tmp_path, elsewhere) is False
    assert durable.same_volume(tmp_path, tmp_path / "missing") is False


def test_data_spans_and_a_sparse_copy_keep_the_holes(tmp_path):
    source, target = tmp_path / "s", tmp_path / "t"
    mib = 1 << 20
    sparse(source, 8 * mib, {0: b"a" * 4096, 4 * mib: b"b" * 4096})
    with open(source, "rb") as fh:
        spans = durable.data_spans(fh.fileno(), 8 * mib)
    if spans == [(0, 8 * mib)]:
        pytest.skip("this file system does not report holes")
    # Data where it was written (block-aligned), holes between and at the end.
    assert spans[0][0] == 0 and spans[-1][0] <= 4 * mib < spans[-1][1] < 8 * mib and len(spans) == 2
    copied = []
    copy_sparse(source, target, advance=copied.append)
    assert target.read_bytes() == source.read_bytes()
    assert sum(copied) == sum(end - start for start, end in spans)  # only the data was copied
    assert durable.disk_bytes(target) < 2 * mib


def test_a_stopped_copy_says_so(tmp_path):
    source = tmp_path / "s"
    source.write_bytes(b"x" * 1000)
    with pytest.raises(OSError) as info:
        copy_sparse(source, tmp_path / "t", stopped=lambda: True)
    assert info.value.errno == errno.ECANCELED and "stopped while copying s" in str(info.value)


def test_atomic_json_is_indented_for_people_to_read(tmp_path):
    path = tmp_path / "r.json"
    data = {"name": "Modèle", "ranges": [[0, 1]]}
    atomic_write_json(path, data)
    assert path.read_text(encoding="utf-8") == json.dumps(data, indent=2, ensure_ascii=False)


def test_a_source_that_shrinks_while_it_is_copied_is_an_error(tmp_path):
    source = tmp_path / "s"
    source.write_bytes(b"x" * 1000)

    def shrink() -> bool:  # called before each chunk: the source is cut short before the first one
        with open(source, "r+b") as fh:
            fh.truncate(0)
        return False

    with pytest.raises(OSError) as info:
        copy_sparse(source, tmp_path / "t", stopped=shrink)
    assert info.value.errno == errno.EIO and str(info.value) == "[Errno 5] s got shorter while it was copied"


def test_a_stop_after_the_last_chunk_still_stops_the_copy(tmp_path):
    source = tmp_path / "s"
    source.write_bytes(b"x" * 1000)
    asked = []

    def stopped() -> bool:
        asked.append(True)
        return len(asked) > 1  # not before the only chunk, but once it is written

    with pytest.raises(OSError) as info:
        copy_sparse(source, tmp_path / "t", stopped=stopped)
    assert info.value.errno == errno.ECANCELED and len(asked) == 2


def test_a_copy_keeps_the_time_stamps_and_the_size(tmp_path):
    source, target = tmp_path / "s", tmp_path / "t"
    sparse(source, 3 << 20, {0: b"a" * 4096})  # a hole at the end
    os.utime(source, ns=(1_600_000_000_000_000_000, 1_600_000_000_123_456_789))
    copy_sparse(source, target)
    assert target.stat().st_mtime_ns == 1_600_000_000_123_456_789
    assert target.stat().st_size == 3 << 20 and target.read_bytes() == source.read_bytes()


def test_a_copy_whose_sync_fails_is_an_error(tmp_path, monkeypatch):
    # A move removes its source once the copy is synced: a failing disk must stop it (failing_fsync says why).
    source = tmp_path / "s"
    source.write_bytes(payload(10_000))
    failing_fsync(monkeypatch, errno.EIO)
    with pytest.raises(OSError) as info:
        copy_sparse(source, tmp_path / "t")
    assert info.value.errno == errno.EIO


def test_a_stop_after_the_last_chunk_names_the_file(tmp_path):
    source = tmp_path / "weights.pt"
    source.write_bytes(b"x" * 1000)
    asked = []
    with pytest.raises(OSError) as info:
        copy_sparse(source, tmp_path / "t", stopped=lambda: asked.append(True) or len(asked) > 1)
    assert str(info.value) == "[Errno 125] stopped while copying weights.pt"


def test_atomic_json_is_written_as_utf8_whatever_the_locale(tmp_path):
    # A process in the plain C locale (ASCII), without Python's UTF-8 mode, writes a name in Chinese.
    path = tmp_path / "r.json"
    env = cli_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    code = (
        "from pathlib import Path; from ofa_manager.core.durable import atomic_write_json; "
        f"atomic_write_json(Path({str(path)!r}), {{'name': '\\u6a21\\u578b'}})"  # the command line is ASCII
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == json.dumps({"name": "模型"}, indent=2, ensure_ascii=False).encode("utf-8")


def test_disk_bytes_is_the_size_where_the_system_counts_no_blocks(tmp_path):
    # Windows' stat has no st_blocks; such a result cannot exist here, so a stand-in path gives one.
    class NoBlocks:
        def stat(self):
            return types.SimpleNamespace(st_size=5000)

    assert durable.disk_bytes(NoBlocks()) == 5000


@pytest.mark.parametrize("missing", ["SEEK_DATA", "SEEK_HOLE"])
def test_without_a_way_to_ask_for_holes_the_whole_file_is_data(tmp_path, monkeypatch, missing):
    # A system without SEEK_DATA or SEEK_HOLE (older macOS, Windows) cannot exist here: the name is removed.
    path = tmp_path / "holey"
    sparse(path, 8 << 20, {0: b"a" * 4096})
    monkeypatch.delattr(os, missing)
    with open(path, "rb") as fh:
        assert durable.data_spans(fh.fileno(), 8 << 20) == [(0, 8 << 20)]


def test_a_file_that_cannot_seek_is_all_data(tmp_path):
    reader, writer = os.pipe()  # lseek on a pipe fails (ESPIPE): no holes can be asked for
    try:
        assert durable.data_spans(reader, 1000) == [(0, 1000)]
    finally:
        os.close(reader)
        os.close(writer)


def test_data_spans_end_at_the_size_asked_for_though_the_file_goes_on(tmp_path):
    # The size a copy read first: data written beyond it afterwards (a file that grew) is not asked for.
    path = tmp_path / "growing"
    mib = 1 << 20
    sparse(path, 4 * mib, {0: b"a" * 4096, mib: b"b" * (3 * mib)})
    with open(path, "rb") as fh:
        whole = durable.data_spans(fh.fileno(), 4 * mib)
        if whole == [(0, 4 * mib)]:
            pytest.skip("this file system does not report holes")
        spans = durable.data_spans(fh.fileno(), 2 * mib)
    assert spans[0][0] == 0 and spans[0][1] < mib and spans[1] == (mib, 2 * mib) and len(spans) == 2
