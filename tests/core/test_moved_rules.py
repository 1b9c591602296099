"""core/moved.py's marker, rule by rule: the mode it is written with, its size cap at the byte, and the
path it may name (length, control characters)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ofa_manager.core import moved

GOOD = {"format": 1, "moved_to": "/data/new-models", "moved_at": "2026-11-30T19:50:00+00:00"}


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "A"
    path.mkdir()
    return path


def marker_of(folder, text: str):
    (folder / moved.MARKER_NAME).write_text(text, encoding="utf-8")
    return moved.read_marker(folder)


def padded(length: int, **fields) -> str:
    """A marker's JSON, padded with spaces to exactly ``length`` bytes."""
    text = json.dumps({**GOOD, **fields})
    return text + " " * (length - len(text.encode()))


def test_the_marker_has_a_new_files_mode_not_a_private_temporary_files(folder, tmp_path):
    old = os.umask(0o022)
    try:
        moved.leave_marker(folder, tmp_path / "B")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(folder / moved.MARKER_NAME).st_mode) == 0o644  # others can read it too
    assert moved.read_marker(folder).moved_to == tmp_path / "B"


def test_a_marker_of_exactly_the_cap_is_read_one_byte_more_is_not(folder):
    assert marker_of(folder, padded(moved.MAX_MARKER_BYTES)) is not None
    assert marker_of(folder, padded(moved.MAX_MARKER_BYTES + 1)) is None


def test_a_path_of_1024_characters_is_taken_1025_is_not(folder):
    assert marker_of(folder, json.dumps({**GOOD, "moved_to": "/" + "a" * 1023})) is not None
    assert marker_of(folder, json.dumps({**GOOD, "moved_to": "/" + "a" * 1024})) is None


@pytest.mark.parametrize("path", ["/data/my models", "/data/caf\u00e9", "/data/\x80x", "/data/~!"])
def test_spaces_and_other_printable_characters_are_taken(folder, path):
    found = marker_of(folder, json.dumps({**GOOD, "moved_to": path}))
    assert found is not None and str(found.moved_to) == path


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\t", "\x7f"])
def test_control_characters_are_not(folder, char):
    assert marker_of(folder, json.dumps({**GOOD, "moved_to": f"/data/a{char}b"})) is None


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_marker_holding_nan_or_infinity_is_none(folder, constant):
    assert (
        marker_of(folder, f'{{"format": {constant}, "moved_to": "/x", "moved_at": "{GOOD["moved_at"]}"}}')
        is None
    )
    assert (
        marker_of(folder, f'{{"format": 1, "moved_to": {constant}, "moved_at": "{GOOD["moved_at"]}"}}')
        is None
    )


def test_the_sentence_names_the_folder_and_the_local_day(folder):
    found = marker_of(folder, json.dumps({**GOOD, "moved_at": "2026-11-30T12:00:00+00:00"}))
    assert (
        found.sentence() == f"The checkpoints of this folder were moved to /data/new-models on {found.date}"
    )
    assert found.date in ("2026-11-29", "2026-11-30", "2026-12-01")
