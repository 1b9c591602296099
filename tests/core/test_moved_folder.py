"""A folder whose checkpoints ofa-manager moved elsewhere says so when opened again (issue 11, item 6):
the marker the move leaves, checked as any file found on disk, and what the command line does with it."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from ofa_manager import cli
from ofa_manager.core import moved
from tests.catalogs import entry, run_cli, write_catalog

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_the_move_leaves_a_marker_and_every_command_on_the_old_folder_says_where_they_went(
    moved_away, http_server, capsys
):
    old, new, catalog = moved_away
    marker = moved.read_marker(old)
    assert marker is not None and marker.moved_to == new
    assert marker.date == marker.moved_at.astimezone().date().isoformat()
    gets = len(http_server.requests_for("/m.pt", "GET"))
    line = f"The checkpoints of this folder were moved to {new} on {marker.date}."
    for command in (["list"], ["list", "--json"], ["download", "m"], ["du"], ["verify"]):
        code, out, err = run_cli(capsys, "--dir", str(old), "--catalog", str(catalog), *command)
        assert code == cli.EXIT_MOVED == 3, (command, err)
        assert err.startswith(line), (command, err)
        assert f"--dir {new}" in err and str(old / moved.MARKER_NAME) in err
        assert out == ""
    # Nothing was fetched again into the old folder.
    assert len(http_server.requests_for("/m.pt", "GET")) == gets
    assert not (old / "m.pt").exists() and not (old / "m.pt.part").exists()
    code, out, _ = run_cli(capsys, "--dir", str(new), "--catalog", str(catalog), "list", "--json")
    assert code == 0 and json.loads(out)[0]["state"] == "downloaded"


def test_moving_the_checkpoints_back_makes_the_folder_a_models_folder_again(moved_away, capsys):
    old, new, catalog = moved_away
    code, _, err = run_cli(capsys, "--dir", str(new), "--catalog", str(catalog), "move", str(old))
    assert code == 0, err
    assert not (old / moved.MARKER_NAME).exists()
    assert moved.read_marker(new).moved_to == old
    code, out, _ = run_cli(capsys, "--dir", str(old), "--catalog", str(catalog), "list", "--json")
    assert code == 0 and json.loads(out)[0]["state"] == "downloaded"


def test_deleting_the_marker_lets_the_old_folder_be_used_again(moved_away, capsys):
    old, _new, catalog = moved_away
    (old / moved.MARKER_NAME).unlink()
    code, out, _ = run_cli(capsys, "--dir", str(old), "--catalog", str(catalog), "list", "--json")
    assert code == 0 and json.loads(out)[0]["state"] == "remote"


def test_a_move_of_nothing_leaves_no_marker(tmp_path, http_server, capsys):
    http_server.add("/m.pt", b"x" * 1000)
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"))])
    old, new = tmp_path / "A", tmp_path / "B"
    old.mkdir()
    assert run_cli(capsys, "--dir", str(old), "--catalog", str(catalog), "move", str(new))[0] == 0
    assert not (old / moved.MARKER_NAME).exists()


GOOD = {"format": 1, "moved_to": "/data/new-models", "moved_at": "2026-11-30T19:50:00+00:00"}


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({**GOOD, "moved_to": "relative/folder"}),
        json.dumps({**GOOD, "moved_to": 42}),
        json.dumps({**GOOD, "moved_to": "/data/new\nmodels"}),
        json.dumps({**GOOD, "moved_to": ""}),
        json.dumps({**GOOD, "moved_at": "yesterday"}),
        json.dumps({**GOOD, "moved_at": "2026-11-30T19:50:00"}),  # no time zone
        json.dumps({**GOOD, "format": 2}),
        json.dumps({**GOOD, "format": True}),
        json.dumps({**GOOD, "extra": 1}),
        json.dumps([GOOD]),
        '{"format": NaN, "moved_to": "/x", "moved_at": "2026-11-30T19:50:00+00:00"}',
        "not json",
        json.dumps({**GOOD, "moved_to": "/" + "a" * 5000}),  # over the size cap
        "\udcff",
    ],
)
def test_a_marker_that_is_not_one_is_no_marker(tmp_path, content, capsys):
    folder = tmp_path / "A"
    folder.mkdir()
    (folder / moved.MARKER_NAME).write_bytes(content.encode("utf-8", "surrogateescape"))
    assert moved.read_marker(folder) is None
    catalog = write_catalog(tmp_path / "c.json", [entry("m", "http://127.0.0.1:9/m.pt")])
    code, _, err = run_cli(capsys, "--dir", str(folder), "--catalog", str(catalog), "list")
    assert code == 0, err


def test_a_valid_marker_is_read(tmp_path):
    folder = tmp_path / "A"
    folder.mkdir()
    (folder / moved.MARKER_NAME).write_text(json.dumps(GOOD))
    found = moved.read_marker(folder)
    assert found is not None and str(found.moved_to) == "/data/new-models"
    assert found.moved_at == dt.datetime(2026, 11, 30, 19, 50, tzinfo=dt.timezone.utc)


def test_a_link_or_folder_at_the_markers_name_is_never_read_or_written_through(tmp_path):
    folder, elsewhere = tmp_path / "A", tmp_path / "elsewhere.json"
    folder.mkdir()
    elsewhere.write_text(json.dumps(GOOD))
    os.symlink(elsewhere, folder / moved.MARKER_NAME)
    assert moved.read_marker(folder) is None
    moved.leave_marker(folder, tmp_path / "B")
    assert json.loads(elsewhere.read_text()) == GOOD  # not written through the link
    assert (folder / moved.MARKER_NAME).is_symlink()
    moved.clear_marker(folder)
    assert (folder / moved.MARKER_NAME).is_symlink()  # a link is not ours to remove
    (folder / moved.MARKER_NAME).unlink()
    (folder / moved.MARKER_NAME).mkdir()
    assert moved.read_marker(folder) is None
    moved.leave_marker(folder, tmp_path / "B")
    assert (folder / moved.MARKER_NAME).is_dir()
