"""Space figures agree (issue 11, item 4): a partial file counts its data on disk everywhere (`du --json`,
`list --json`, `rm`), a preallocated partial file never counts its full length, and moving to the trash
never claims to free anything."""

from __future__ import annotations

import json
import os

import pytest

from ofa_manager import cli
from ofa_manager.core import footprint, units
from ofa_manager.core.library import Library, State
from tests.catalogs import MiB, entry, load, payload, run_cli, sha256, write_catalog

SIZE = 4 * MiB


pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def broken_download(tmp_path, models_dir, http_server, capsys):
    """A real four-connection download that broke off: a preallocated (sparse) partial file and its record."""
    data = payload(SIZE, 11)
    # Every connection is cut after 256 KiB and no retry is allowed: four islands of data in a 4 MiB file.
    http_server.add("/m.pt", data, drop_after=256 * 1024, drop_times=1000)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"), sha256=sha256(data))])
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    code, _, err = run_cli(capsys, *args, "download", "m", "--connections", "4", "--retries", "0")
    assert code == 1, err
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    part = library.part_path(m)
    assert part.stat().st_size == SIZE  # preallocated to its full length
    return args, library, m, part


def test_a_partial_file_counts_its_data_on_disk_in_du_list_and_rm(broken_download, capsys):
    args, library, m, part = broken_download
    on_disk = footprint.data_on_disk(part)
    arrived = footprint.received(library.read_record(m))
    assert 0 < on_disk < SIZE and 0 < arrived < SIZE
    figure = min(on_disk, arrived)

    code, out, _ = run_cli(capsys, *args, "du", "--json")
    assert code == 0
    usage = json.loads(out)
    assert usage["partial"] == figure
    assert usage["files"][str(library.path(m))] == figure
    # The holes are nobody's data: not "other data" either.
    assert usage["other"] < 64 * 1024

    code, out, _ = run_cli(capsys, *args, "list", "--json")
    (row,) = [r for r in json.loads(out) if r["id"] == "m"]
    assert row["state"] == "partial" and row["bytes"] == figure

    # rm names the same figure it asks about, and reports that figure freed.
    code, out, _ = run_cli(capsys, *args, "rm", "m", "--partial", "--yes")
    assert code == 0
    assert f"{part} — {units.size(figure)}" in out
    assert f"freed {units.size(figure)}" in out
    assert not part.exists()


def test_a_partial_file_allocated_in_full_still_counts_what_arrived(broken_download, capsys):
    args, library, m, part = broken_download
    arrived = footprint.received(library.read_record(m))
    # As on a file system without holes: every block of the partial file is allocated.
    fd = os.open(part, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, SIZE)
    finally:
        os.close(fd)
    assert footprint.data_on_disk(part) == SIZE
    assert library.read_record(m), "the record still fits the partial file"

    status = library.status(m)
    assert status.state is State.PARTIAL and status.bytes == arrived < SIZE
    code, out, _ = run_cli(capsys, *args, "du", "--json")
    assert json.loads(out)["partial"] == arrived
    code, out, _ = run_cli(capsys, *args, "list")
    assert f"partial {units.size(arrived)}" in out and f"partial {units.size(SIZE)}" not in out
    code, out, _ = run_cli(capsys, *args, "rm", "m", "--partial", "--yes")
    assert f"— {units.size(arrived)}" in out and f"freed {units.size(arrived)}" in out


def test_a_partial_file_without_a_record_counts_its_data_not_its_length(broken_download, capsys):
    args, library, m, part = broken_download
    on_disk = footprint.data_on_disk(part)
    library.record_path(m).unlink()
    code, out, _ = run_cli(capsys, *args, "du", "--json")
    assert json.loads(out)["partial"] == on_disk < SIZE
    code, out, _ = run_cli(capsys, *args, "rm", "m", "--partial", "--yes")
    assert f"freed {units.size(on_disk)}" in out


def test_moving_to_the_trash_never_says_freed(tmp_path, models_dir, http_server, capsys, monkeypatch):
    data = payload(300_000, 5)
    http_server.add("/t.pt", data)
    catalog = write_catalog(tmp_path / "c.json", [entry("t", http_server.url("/t.pt"), sha256=sha256(data))])
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    assert run_cli(capsys, *args, "download", "t")[0] == 0
    code, out, err = run_cli(capsys, *args, "rm", "t", "--trash", "--yes")
    assert code == 0, err
    assert "free" not in out.replace("still", "")  # neither "freeing" nor "freed"
    assert f"({units.size(len(data))}) to the trash; they take their space until the trash is emptied" in out
    with pytest.raises(SystemExit):
        cli.main(["rm", "--help"])
    assert "freed" not in capsys.readouterr().out
