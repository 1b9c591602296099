"""core/safe_files.py rule by rule: what is at a path (a link never followed), the refusals and their words,
no-follow opens, small JSON files read with suspicion, removing only regular files, placing a finished file
without overwriting another, and the names and sizes found in a folder."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat

import pytest

from ofa_manager.core import safe_files
from ofa_manager.core.file_status import NotOursError, UnsafePathError


@pytest.fixture
def spot(tmp_path):
    """A file, a link to it, a dangling link, a folder, a link to the folder and a FIFO."""
    (tmp_path / "file").write_bytes(b"12345")
    os.symlink(tmp_path / "file", tmp_path / "link")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    (tmp_path / "folder").mkdir()
    os.symlink(tmp_path / "folder", tmp_path / "folder-link")
    os.mkfifo(tmp_path / "fifo")
    return tmp_path


def test_what_is_at_a_path(spot):
    kinds = {name: safe_files.path_kind(spot / name) for name in os.listdir(spot)}
    assert kinds == {
        "file": "file",
        "link": "link",
        "dangling": "link",
        "folder": "folder",
        "folder-link": "link",
        "fifo": "other",
    }
    assert safe_files.path_kind(spot / "missing") is None
    assert safe_files.path_kind(spot / "file" / "below") is None


def test_kinds_in_words():
    assert [safe_files.describe_kind(k) for k in ("link", "folder", "other", "file", None, "?")] == [
        "a symbolic link",
        "a folder",
        "a special file (not a regular file)",
        "a file",
        "nothing",
        "nothing",
    ]


def test_sizes_of_files_and_of_nothing(spot):
    assert safe_files.file_size(spot / "file") == 5
    assert safe_files.file_size(spot / "missing") == 0
    assert safe_files.file_size(spot / "file" / "below") == 0


def test_free_space_of_a_path_not_made_yet_is_its_nearest_folders(tmp_path, monkeypatch):
    asked = []
    real = shutil.disk_usage
    monkeypatch.setattr(safe_files.shutil, "disk_usage", lambda p: asked.append(p) or real(p))
    assert safe_files.free_space(tmp_path / "a" / "b" / "c") > 0
    assert safe_files.free_space(tmp_path) > 0
    assert asked == [tmp_path, tmp_path]


def test_a_link_or_special_file_where_a_file_belongs_is_refused_in_words(spot):
    safe_files.refuse_unsafe(spot / "file")
    safe_files.refuse_unsafe(spot / "missing")
    with pytest.raises(UnsafePathError) as caught:
        safe_files.refuse_unsafe(spot / "link")
    assert str(caught.value) == (
        f"a symbolic link is at {spot / 'link'} where ofa-manager keeps its own file; it is left alone "
        "(nothing in the models folder is followed through links): move it away"
    )
    for name in ("folder", "fifo", "dangling"):
        with pytest.raises(UnsafePathError):
            safe_files.refuse_unsafe(spot / name)


def test_anything_but_a_folder_where_a_folder_belongs_is_refused_in_words(spot):
    safe_files.refuse_unsafe_folder(spot / "folder")
    safe_files.refuse_unsafe_folder(spot / "missing")
    with pytest.raises(UnsafePathError) as caught:
        safe_files.refuse_unsafe_folder(spot / "file")
    assert str(caught.value) == (
        f"a file is at {spot / 'file'} where ofa-manager keeps a folder of its own; it is left "
        "alone (nothing in the models folder is followed through links): move it away"
    )
    for name in ("folder-link", "fifo"):
        with pytest.raises(UnsafePathError):
            safe_files.refuse_unsafe_folder(spot / name)


def test_a_regular_file_opens_unbuffered_and_blocking(spot):
    with safe_files.open_nofollow(spot / "file") as fh:
        assert isinstance(fh, io.FileIO) and fh.mode == "rb"
        assert os.get_blocking(fh.fileno())
        assert fh.read() == b"12345"
    with safe_files.open_nofollow(spot / "file", "r+b") as fh:
        fh.seek(0, os.SEEK_END)
        fh.write(b"6")
    assert (spot / "file").read_bytes() == b"123456"


def test_a_file_is_made_only_when_asked_with_a_new_files_mode(tmp_path):
    with pytest.raises(FileNotFoundError):
        safe_files.open_nofollow(tmp_path / "new", "r+b")
    old = os.umask(0o022)
    try:
        with safe_files.open_nofollow(tmp_path / "new", "r+b", create=True) as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "new").read_bytes() == b"x"
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o644


def test_a_file_made_in_a_group_folder_is_group_writable(tmp_path):
    folder = tmp_path / "group"
    folder.mkdir()
    os.chmod(folder, 0o2775)
    old = os.umask(0o077)
    try:
        with safe_files.open_nofollow(folder / "new", "r+b", create=True) as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(folder / "new").st_mode) == 0o660  # the umask still keeps others out


@pytest.mark.parametrize("name", ["link", "dangling", "folder", "fifo", "folder-link"])
def test_nothing_but_a_regular_file_is_opened(spot, name):
    with pytest.raises(UnsafePathError):
        safe_files.open_nofollow(spot / name)  # a FIFO is not waited on
    with pytest.raises(UnsafePathError):
        safe_files.open_nofollow(spot / name, "r+b", create=True)
    assert (spot / "file").read_bytes() == b"12345"


def test_a_link_swapped_in_after_the_check_is_still_not_followed(spot, monkeypatch):
    # The check and the open are two steps: a link put there between them must still be refused.
    monkeypatch.setattr(safe_files, "refuse_unsafe", lambda path: None)
    with pytest.raises(OSError) as caught:
        safe_files.open_nofollow(spot / "link")
    assert caught.value.errno == errno.ELOOP
    with pytest.raises(UnsafePathError):
        safe_files.open_nofollow(spot / "fifo")


def test_a_file_opened_to_read_is_opened_read_only(spot):
    # A shared store's copy, a record, metadata: read through a descriptor that cannot write.
    import fcntl

    with safe_files.open_nofollow(spot / "file") as fh:
        assert fcntl.fcntl(fh.fileno(), fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
    with safe_files.open_nofollow(spot / "file", "r+b") as fh:
        assert fcntl.fcntl(fh.fileno(), fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR


def test_a_file_made_in_a_plain_folder_has_the_mode_the_umask_gives(tmp_path):
    old = os.umask(0o002)
    try:
        with safe_files.open_nofollow(tmp_path / "new", "r+b", create=True) as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o664


def test_a_link_swapped_in_after_the_first_check_is_refused_in_words(spot, monkeypatch):
    # The first check sees nothing (as if the link appeared just after it); the open's own refusal
    # (ELOOP) is checked again and named.
    real, calls = safe_files.refuse_unsafe, []

    def first_sees_nothing(path):
        calls.append(path)
        if len(calls) > 1:
            real(path)

    monkeypatch.setattr(safe_files, "refuse_unsafe", first_sees_nothing)
    with pytest.raises(UnsafePathError) as caught:
        safe_files.open_nofollow(spot / "link")
    assert str(caught.value) == (
        f"a symbolic link is at {spot / 'link'} where ofa-manager keeps its own file; it is left alone "
        "(nothing in the models folder is followed through links): move it away"
    )
    assert calls == [spot / "link", spot / "link"]


def test_a_fifo_swapped_in_after_the_check_is_refused_in_words(spot, monkeypatch):
    monkeypatch.setattr(safe_files, "refuse_unsafe", lambda path: None)
    with pytest.raises(UnsafePathError) as caught:
        safe_files.open_nofollow(spot / "fifo")  # opened without waiting, then seen not to be a file
    assert str(caught.value) == f"{spot / 'fifo'} is not a regular file; it is left alone"


def test_a_small_json_object_is_read(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"a": 1, "b": [1.5, None]}))
    assert safe_files.read_json_nofollow(tmp_path / "r.json") == {"a": 1, "b": [1.5, None]}
    at_cap = json.dumps({"a": ""})
    at_cap = json.dumps({"a": "x" * (safe_files.MAX_RECORD_BYTES - len(at_cap))})
    assert len(at_cap) == safe_files.MAX_RECORD_BYTES
    (tmp_path / "cap.json").write_text(at_cap)
    assert safe_files.read_json_nofollow(tmp_path / "cap.json") is not None


@pytest.mark.parametrize(
    "content",
    [
        b"[1, 2]",
        b'"text"',
        b"not json",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": "\xff"}',
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"a": "x" * safe_files.MAX_RECORD_BYTES}).encode(),
    ],
)
def test_what_is_not_a_small_json_object_is_none(tmp_path, content):
    (tmp_path / "r.json").write_bytes(content)
    assert safe_files.read_json_nofollow(tmp_path / "r.json") is None


def test_a_json_file_behind_a_link_or_missing_is_none(spot):
    (spot / "file").write_text("{}")
    assert safe_files.read_json_nofollow(spot / "file") == {}
    assert safe_files.read_json_nofollow(spot / "link") is None
    assert safe_files.read_json_nofollow(spot / "missing") is None
    assert safe_files.read_json_nofollow(spot / "fifo") is None


def test_only_a_regular_file_is_removed_and_its_bytes_counted(spot):
    assert safe_files._unlink_file(spot / "file") == 5 and not (spot / "file").exists()
    assert safe_files._unlink_file(spot / "missing") == 0
    assert safe_files._unlink_file(spot / "file" / "below") == 0
    for name in ("link", "dangling", "folder", "fifo"):
        assert safe_files._unlink_file(spot / name) == 0 and os.path.lexists(spot / name)


def test_a_file_removed_by_someone_else_meanwhile_counts_nothing(spot, monkeypatch):
    real = os.unlink

    def gone_first(path, *args, **kwargs):
        real(path)
        raise FileNotFoundError(errno.ENOENT, "gone", str(path))

    monkeypatch.setattr(safe_files.os, "unlink", gone_first)
    assert safe_files._unlink_file(spot / "file") == 0


def test_a_finished_file_takes_a_free_name(tmp_path):
    (tmp_path / "m.pt.part").write_bytes(b"data")
    safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=False)
    assert (tmp_path / "m.pt").read_bytes() == b"data" and not (tmp_path / "m.pt.part").exists()


def test_a_finished_file_never_overwrites_another(tmp_path):
    (tmp_path / "m.pt.part").write_bytes(b"data")
    (tmp_path / "m.pt").write_bytes(b"theirs")
    with pytest.raises(NotOursError) as caught:
        safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=False)
    assert str(caught.value) == (
        f"{tmp_path / 'm.pt'}: a file ofa-manager did not download is at this path; it was left as it is"
    )
    assert (tmp_path / "m.pt").read_bytes() == b"theirs" and (tmp_path / "m.pt.part").read_bytes() == b"data"


def test_a_link_as_the_source_is_placed_as_a_link_not_followed(tmp_path):
    (tmp_path / "target").write_bytes(b"t")
    os.symlink(tmp_path / "target", tmp_path / "m.pt.part")
    safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=False)
    assert os.path.islink(tmp_path / "m.pt") and os.stat(tmp_path / "target").st_nlink == 1


def test_our_corrupt_file_is_replaced_but_never_a_link(tmp_path):
    (tmp_path / "m.pt.part").write_bytes(b"new")
    (tmp_path / "m.pt").write_bytes(b"old")
    safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=True)
    assert (tmp_path / "m.pt").read_bytes() == b"new" and not (tmp_path / "m.pt.part").exists()
    (tmp_path / "m.pt.part").write_bytes(b"newer")
    (tmp_path / "m.pt").unlink()
    os.symlink(tmp_path / "elsewhere", tmp_path / "m.pt")
    with pytest.raises(UnsafePathError):
        safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=True)
    assert os.path.islink(tmp_path / "m.pt") and (tmp_path / "m.pt.part").read_bytes() == b"newer"


def no_hard_links(monkeypatch, code: int) -> None:
    # A file system without hard links (FAT, some network shares) cannot exist here: os.link fails as on one.
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(safe_files.os, "link", refuse)


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS])
def test_without_hard_links_a_free_name_is_taken_by_a_rename(tmp_path, monkeypatch, code):
    no_hard_links(monkeypatch, code)
    (tmp_path / "m.pt.part").write_bytes(b"data")
    safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=False)
    assert (tmp_path / "m.pt").read_bytes() == b"data" and not (tmp_path / "m.pt.part").exists()


def test_without_hard_links_a_taken_name_is_still_never_overwritten(tmp_path, monkeypatch):
    no_hard_links(monkeypatch, errno.EPERM)
    (tmp_path / "m.pt.part").write_bytes(b"data")
    os.symlink(tmp_path / "nowhere", tmp_path / "m.pt")
    with pytest.raises(NotOursError) as caught:
        safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=False)
    assert caught.value.errno == errno.EEXIST and caught.value.filename == str(tmp_path / "m.pt")
    assert caught.value.strerror == (
        f"{tmp_path / 'm.pt'}: a file ofa-manager did not download is at this path; it was left as it is"
    )
    assert os.path.islink(tmp_path / "m.pt") and (tmp_path / "m.pt.part").read_bytes() == b"data"


def test_another_failure_to_link_is_raised_as_it_is(tmp_path, monkeypatch):
    no_hard_links(monkeypatch, errno.EIO)
    (tmp_path / "m.pt.part").write_bytes(b"data")
    with pytest.raises(OSError) as caught:
        safe_files.place_file(tmp_path / "m.pt.part", tmp_path / "m.pt", replace=False)
    assert caught.value.errno == errno.EIO and not isinstance(caught.value, NotOursError)
    assert not os.path.lexists(tmp_path / "m.pt") and (tmp_path / "m.pt.part").exists()


def test_names_are_folded_as_case_insensitive_normalising_systems_fold_them():
    assert safe_files._folded("Model.PT") == "model.pt"
    assert (
        safe_files._folded("Mod\u0065\u0301le.PT") == safe_files._folded("mod\u00e9le.pt") == "mod\u00e9le.pt"
    )
    assert safe_files._folded("Stra\u00dfe") == "strasse"


def test_the_names_found_in_a_folder_with_partial_and_rejected_names_cut(tmp_path):
    for name in ("A.pt", "B.pt.part", "C.pt.rejected", "D.pt.part.json", "e\u0301.pt"):
        (tmp_path / name).write_bytes(b"")
    assert safe_files._names_in(tmp_path) == {
        "a.pt",
        "b.pt.part",
        "b.pt",
        "c.pt.rejected",
        "c.pt",
        "d.pt.part.json",
        "\u00e9.pt",
    }
    assert safe_files._names_in(tmp_path / "missing") == set()
    assert safe_files._names_in(tmp_path / "A.pt") is None  # cannot be listed: each file on its own


def test_a_trees_size_counts_data_on_disk_not_lengths_or_links(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 100)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 50)
    with open(tmp_path / "sub" / "sparse", "wb") as fh:
        fh.truncate(10 * 1024 * 1024)
    os.symlink(tmp_path / "a", tmp_path / "sub" / "link")
    assert safe_files._tree_size(tmp_path) == 150
    assert safe_files._tree_size(tmp_path / "missing") == 0


def test_a_store_files_hash_key_names_path_size_and_time(spot):
    st = os.lstat(spot / "file")
    assert safe_files._store_key(spot / "file", st) == f"{spot / 'file'}|5|{st.st_mtime_ns}"
