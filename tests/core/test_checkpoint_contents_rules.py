"""Opening a checkpoint (core/checkpoint_contents.py): which files are refused and with what words, where
torch would find the pickle in a zip archive, the problems said of an archive or a legacy stream, and the
limits; with the error's own fields (core/checkpoint_results.py). Files are built here with zipfile and
hand-made pickles; the committed fixtures are read as they are."""

from __future__ import annotations

import pickle
import struct
import sys
import zipfile
from pathlib import Path

import pytest

from ofa_manager.core import checkpoint_contents as cc
from ofa_manager.core.checkpoint_results import (
    AmbiguousCheckpoint,
    CheckpointError,
    GlobalUse,
    MalformedPickle,
    NotACheckpoint,
    TruncatedCheckpoint,
)
from tests.catalogs import DATA

FIXTURES = DATA / "checkpoints"


def u(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def storage(key: str, numel: int, kind: str = "FloatStorage") -> bytes:
    """A storage named by persistent id, as torch writes it."""
    return (
        b"(" + u("storage") + b"ctorch\n" + kind.encode() + b"\n" + u(key) + u("cpu")
        + b"J" + struct.pack("<i", numel) + b"tQ"
    )  # fmt: skip


ONE_STORAGE = b"\x80\x02}" + u("w") + storage("0", 2) + b"s."  # {"w": a float32 storage of 2}


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression, compresslevel=1 if compression else None) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def torch_zip(path: Path, pickle_data: bytes = ONE_STORAGE, **extra: bytes) -> Path:
    members = {"archive/data.pkl": pickle_data, "archive/version": b"3\n", "archive/data/0": b"\x00" * 8}
    members.update({f"archive/{name}": data for name, data in extra.items()})
    return write_zip(path, members)


LEGACY_INFO = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}


def legacy(
    path: Path,
    data_pkl: bytes = ONE_STORAGE,
    keys: object = ("0",),
    counts: tuple[int, ...] = (2,),
    *,
    magic: int = cc.LEGACY_MAGIC,
    protocol: int = cc.LEGACY_PROTOCOL,
    info: object = None,
    tail: bytes = b"",
) -> Path:
    """A legacy torch.save stream: magic, protocol, system info, the pickle, its storage keys, storages."""
    head = b"".join(
        pickle.dumps(v, protocol=2) for v in (magic, protocol, LEGACY_INFO if info is None else info)
    )
    body = b"".join(n.to_bytes(8, "little") + b"\x7f" * (4 * n) for n in counts)  # data bytes not zero
    path.write_bytes(head + data_pkl + pickle.dumps(list(keys), protocol=2) + body + tail)
    return path


# -- not a checkpoint ------------------------------------------------------------------------------------

WEB_PAGE = (
    "not a PyTorch checkpoint: this is a web page (HTML/XML), as a server sends for a denied or "
    "missing object"
)
NEITHER = "not a PyTorch checkpoint: neither a torch zip archive nor a legacy torch.save stream"


@pytest.mark.parametrize(
    "start",
    [
        b"<!DOCTYPE html><html>",
        b"\xef\xbb\xbf \t\r\n<HTML>",
        b"<?xml version='1.0'?><Error>AccessDenied</Error>",
        b"<head><title>404</title></head>",
        b"\n<body>denied</body>",
    ],
)
def test_a_web_page_is_said_to_be_one(tmp_path, start):
    path = tmp_path / "page.pt"
    path.write_bytes(start + b" " * 600)
    with pytest.raises(NotACheckpoint) as caught:
        cc.read_checkpoint(path)
    assert str(caught.value) == WEB_PAGE and caught.value.globals == []


def test_a_tar_archive_an_empty_file_and_other_bytes_each_have_their_words(tmp_path):
    tar = bytearray(600)
    tar[257:262] = b"ustar"
    (tmp_path / "a.tar").write_bytes(bytes(tar))
    with pytest.raises(
        NotACheckpoint, match="^not a checkpoint this reads: a tar archive \\(torch < 0.4 format"
    ):
        cc.read_checkpoint(tmp_path / "a.tar")
    (tmp_path / "short.tar").write_bytes(bytes(tar[:262]))  # "ustar" ends the file: no tar header
    with pytest.raises(NotACheckpoint, match=f"^{NEITHER}$"):
        cc.read_checkpoint(tmp_path / "short.tar")
    (tmp_path / "tar263").write_bytes(bytes(tar[:263]))
    with pytest.raises(NotACheckpoint, match="a tar archive"):
        cc.read_checkpoint(tmp_path / "tar263")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(NotACheckpoint, match="^not a PyTorch checkpoint: the file is empty$"):
        cc.read_checkpoint(tmp_path / "empty.pt")
    (tmp_path / "json.pt").write_bytes(b'{"error": "denied"}')
    with pytest.raises(NotACheckpoint, match=f"^{NEITHER}$"):
        cc.read_checkpoint(tmp_path / "json.pt")
    (tmp_path / "p3.pt").write_bytes(pickle.dumps(cc.LEGACY_MAGIC, protocol=3))  # only protocol 2 is torch's
    with pytest.raises(NotACheckpoint, match=f"^{NEITHER}$"):
        cc.read_checkpoint(tmp_path / "p3.pt")


def test_a_page_whose_html_starts_past_the_first_512_bytes_is_not_called_one(tmp_path):
    (tmp_path / "last.pt").write_bytes(b" " * 507 + b"<html>")  # "<html" ends at the 512th byte
    with pytest.raises(NotACheckpoint, match="this is a web page"):
        cc.read_checkpoint(tmp_path / "last.pt")
    (tmp_path / "late.pt").write_bytes(b" " * 508 + b"<html>")
    with pytest.raises(NotACheckpoint, match=f"^{NEITHER}$"):
        cc.read_checkpoint(tmp_path / "late.pt")


# -- where the pickle is in a zip archive ----------------------------------------------------------------


def test_an_empty_zip_archive(tmp_path):
    write_zip(tmp_path / "e.pt", {})
    # An empty archive is its end record alone, which starts PK\x05\x06: not even a zip member.
    with pytest.raises(NotACheckpoint, match=f"^{NEITHER}$"):
        cc.read_checkpoint(tmp_path / "e.pt")
    only_dir = write_zip(tmp_path / "d.pt", {"archive/": b""})
    with pytest.raises(
        NotACheckpoint, match="^not a PyTorch checkpoint: a zip archive without archive/data.pkl$"
    ):
        cc.read_checkpoint(only_dir)
    # A zip member's signature first, then a directory of no entries.
    (tmp_path / "no_entries.pt").write_bytes(b"PK\x03\x04" + bytes(26) + (tmp_path / "e.pt").read_bytes())
    with pytest.raises(NotACheckpoint, match="^not a PyTorch checkpoint: the zip archive is empty$"):
        cc.read_checkpoint(tmp_path / "no_entries.pt")


def test_names_that_differ_in_case_are_named_in_the_refusal(tmp_path):
    path = write_zip(
        tmp_path / "c.pt", {"archive/data.pkl": ONE_STORAGE, "archive/version": b"3", "archive/VERSION": b"3"}
    )
    with pytest.raises(AmbiguousCheckpoint) as caught:
        cc.read_checkpoint(path)
    assert str(caught.value) == (
        "refused as ambiguous: the archive holds 'archive/version' and 'archive/VERSION', names that differ "
        "only in case (torch looks names up ignoring case, so which one it reads is not defined)"
    )


def test_a_name_twice_in_the_archive_is_refused(tmp_path):
    path = tmp_path / "twice.pt"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("archive/data.pkl", ONE_STORAGE)
        archive.writestr("archive/version", b"3")
        archive.writestr("archive/data/0", b"\x00" * 8)
        archive.writestr("archive/version", b"3")
    with pytest.raises(AmbiguousCheckpoint) as caught:
        cc.read_checkpoint(path)
    assert str(caught.value) == (
        "refused as ambiguous: the archive holds 'archive/version' twice "
        "(which one torch reads is not defined)"
    )


def test_two_pickles_are_named_in_the_refusal(tmp_path):
    path = write_zip(
        tmp_path / "two.pt", {"archive/data.pkl": ONE_STORAGE, "archive/x/DATA.pkl": ONE_STORAGE}
    )
    with pytest.raises(AmbiguousCheckpoint) as caught:
        cc.read_checkpoint(path)
    assert str(caught.value) == (
        "refused as ambiguous: the archive holds more than one pickle "
        "('archive/data.pkl', 'archive/x/DATA.pkl')"
    )


def test_the_pickle_must_be_in_the_first_entrys_folder(tmp_path):
    loose = write_zip(tmp_path / "loose.pt", {"data.pkl": ONE_STORAGE})
    with pytest.raises(NotACheckpoint) as caught:
        cc.read_checkpoint(loose)
    assert str(caught.value) == (
        "not a PyTorch checkpoint: a zip archive whose first entry 'data.pkl' is not in a folder"
    )
    deeper = write_zip(tmp_path / "deeper.pt", {"archive/version": b"3", "archive/sub/data.pkl": ONE_STORAGE})
    with pytest.raises(NotACheckpoint) as caught:
        cc.read_checkpoint(deeper)
    assert str(caught.value) == (
        "not a PyTorch checkpoint: a zip archive without archive/data.pkl ('archive/sub/data.pkl' is not "
        "where torch looks)"
    )
    other = write_zip(tmp_path / "other.pt", {"archive/version": b"3", "archive/xdata.pkl": ONE_STORAGE})
    with pytest.raises(NotACheckpoint, match="without archive/data.pkl$"):
        cc.read_checkpoint(other)


def test_what_a_zip_checkpoint_records_of_where_it_was_read(tmp_path):
    path = torch_zip(tmp_path / "ok.pt")
    contents = cc.read_checkpoint(path)
    assert (contents.path, contents.format, contents.archive_prefix) == (str(path), "zip", "archive")
    assert (contents.pickle_member, contents.file_size) == ("archive/data.pkl", path.stat().st_size)
    assert (contents.deep, contents.members_checked, contents.problems) == (False, 0, [])
    assert contents.storage_count == 1 and contents.tensor_bytes == 8
    assert contents.verdict.weights_only_code is not None
    deep = cc.read_checkpoint(str(path), deep=True)  # a path as text too
    assert (deep.deep, deep.members_checked) == (True, 3)


# -- what is said of a zip archive -----------------------------------------------------------------------


def test_an_archive_without_a_version_record_is_said_to_be_refused_by_torch(tmp_path):
    bare = write_zip(tmp_path / "bare.pt", {"archive/data.pkl": ONE_STORAGE, "archive/data/0": b"\x00" * 8})
    assert cc.read_checkpoint(bare).problems == ["no version record: torch.load refuses this archive"]
    hidden = write_zip(
        tmp_path / "hidden.pt",
        {"archive/data.pkl": ONE_STORAGE, "archive/.data/version": b"3", "archive/data/0": b"\x00" * 8},
    )
    assert cc.read_checkpoint(hidden).problems == []
    upper = write_zip(
        tmp_path / "upper.pt",
        {"archive/data.pkl": ONE_STORAGE, "archive/VERSION": b"3", "archive/data/0": b"\x00" * 8},
    )
    assert cc.read_checkpoint(upper).problems == []


def test_big_endian_data_is_said(tmp_path):
    big = "big-endian data: tensors are byte-swapped when loaded on this machine"
    assert cc.read_checkpoint(torch_zip(tmp_path / "b.pt", byteorder=b"big\n")).problems == [big]
    assert cc.read_checkpoint(torch_zip(tmp_path / "l.pt", byteorder=b"little")).problems == []
    padded = torch_zip(tmp_path / "p.pt", byteorder=b"big" + b" " * 12)  # 15 bytes: still read
    assert cc.read_checkpoint(padded).problems == [big]
    long = torch_zip(tmp_path / "long.pt", byteorder=b"big" + b" " * 13)  # 16 bytes: not a byte order
    assert cc.read_checkpoint(long).problems == []


def test_a_storage_is_found_ignoring_case_and_sizes_are_checked(tmp_path):
    upper = write_zip(
        tmp_path / "u.pt",
        {"Archive/data.pkl": ONE_STORAGE, "Archive/version": b"3", "ARCHIVE/DATA/0": b"\x00" * 8},
    )
    assert cc.read_checkpoint(upper).problems == []
    short = torch_zip(tmp_path / "s.pt", ONE_STORAGE.replace(b"J\x02\x00\x00\x00", b"J\x03\x00\x00\x00"))
    assert cc.read_checkpoint(short).problems == ["storage 0: 8 bytes in the archive, 3 × 4 = 12 expected"]


def test_a_damaged_zip_directory_is_a_truncated_file(tmp_path):
    data = torch_zip(tmp_path / "ok.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) - 30])
    with pytest.raises(
        TruncatedCheckpoint,
        match="^truncated: the file starts as a zip archive but its end, the zip directory, is missing or "
        "damaged \\(",
    ):
        cc.read_checkpoint(tmp_path / "cut.pt")


def test_a_damaged_pickle_member_is_a_truncated_file(tmp_path):
    path = torch_zip(tmp_path / "crc.pt")
    raw = bytearray(path.read_bytes())
    at = raw.index(ONE_STORAGE)
    raw[at + 5] ^= 0xFF  # inside the stored pickle: its CRC no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(
        TruncatedCheckpoint, match="^the pickle cannot be read from the archive \\(Bad CRC-32"
    ) as caught:
        cc.read_checkpoint(path)
    assert caught.value.globals == []


def test_a_broken_pickle_keeps_the_globals_it_named(tmp_path):
    path = torch_zip(tmp_path / "b.pt", b"\x80\x02cos\nsystem\n\xff")
    with pytest.raises(MalformedPickle) as caught:
        cc.read_checkpoint(path)
    assert caught.value.globals == [GlobalUse("os.system", "dangerous")]


def test_the_pickle_size_limit_is_64_mib(tmp_path):
    limit = 64 * 2**20
    assert cc.MAX_PICKLE_BYTES == limit
    head = b"\x80\x02}."  # the pickle stops here; the rest is never read as opcodes
    at_limit = write_zip(
        tmp_path / "at.pt",
        {"archive/data.pkl": head + bytes(limit - len(head)), "archive/version": b"3"},
        zipfile.ZIP_DEFLATED,
    )
    assert cc.read_checkpoint(at_limit).top_level_keys == []
    over = write_zip(
        tmp_path / "over.pt",
        {"archive/data.pkl": head + bytes(limit + 1 - len(head)), "archive/version": b"3"},
        zipfile.ZIP_DEFLATED,
    )
    with pytest.raises(MalformedPickle, match="^the pickle is larger than 64 MiB$"):
        cc.read_checkpoint(over)


# -- legacy streams --------------------------------------------------------------------------------------


def test_a_legacy_stream_is_read(tmp_path):
    path = legacy(tmp_path / "l.pt")
    contents = cc.read_checkpoint(path, deep=True)
    assert (contents.format, contents.archive_prefix, contents.pickle_member) == ("legacy", None, None)
    assert (contents.path, contents.file_size) == (str(path), path.stat().st_size)
    assert (contents.problems, contents.deep, contents.members_checked) == ([], True, 1)
    assert contents.storage_count == 1 and contents.tensor_bytes == 8
    assert cc.read_checkpoint(path).members_checked == 0


def test_a_legacy_stream_with_another_magic_number_or_protocol_is_refused(tmp_path):
    with pytest.raises(
        NotACheckpoint, match="^not a PyTorch checkpoint: a pickle without torch's magic number$"
    ):
        cc.read_checkpoint(legacy(tmp_path / "m.pt", magic=cc.LEGACY_MAGIC + 1))
    with pytest.raises(NotACheckpoint, match="^not a PyTorch checkpoint this reads: legacy protocol 1000$"):
        cc.read_checkpoint(legacy(tmp_path / "p.pt", protocol=1000))


def test_a_legacy_header_that_names_a_storage_or_is_too_large_is_refused(tmp_path):
    path = legacy(tmp_path / "s.pt", info=None)
    raw = path.read_bytes()
    info = pickle.dumps(LEGACY_INFO, protocol=2)
    path.write_bytes(raw.replace(info, b"\x80\x02" + storage("0", 1) + b"."))
    with pytest.raises(MalformedPickle, match="^the header names a storage$"):
        cc.read_checkpoint(path)
    big = legacy(tmp_path / "big.pt", info={"padding": "x" * (3 * 2**19)})  # 1.5 MiB
    with pytest.raises(MalformedPickle, match="^the header is larger than this reader accepts$"):
        cc.read_checkpoint(big)
    fits = legacy(tmp_path / "fits.pt", info={"padding": "x" * (2**20 - 100)})
    assert cc.read_checkpoint(fits).problems == []


@pytest.mark.parametrize("keys", [("1",), (), ("0", 0), (b"0",)])
def test_a_legacy_storage_list_that_does_not_match_the_pickle_is_refused(tmp_path, keys):
    path = legacy(tmp_path / "k.pt", keys=keys)
    with pytest.raises(
        MalformedPickle, match="^the storage list does not match the storages the pickle names$"
    ) as caught:
        cc.read_checkpoint(path)
    assert caught.value.globals[0] == GlobalUse("torch.FloatStorage", "torch")


def test_a_legacy_storage_list_that_is_not_a_list_is_refused(tmp_path):
    path = legacy(tmp_path / "k.pt", keys=())
    raw = path.read_bytes()
    path.write_bytes(raw.replace(pickle.dumps([], protocol=2), pickle.dumps(("0",), protocol=2)))
    with pytest.raises(MalformedPickle, match="does not match"):
        cc.read_checkpoint(path)


def test_legacy_system_info_says_big_endian_data(tmp_path):
    big = "big-endian data: tensors are byte-swapped when loaded on this machine"
    assert cc.read_checkpoint(legacy(tmp_path / "b.pt", info={"little_endian": False})).problems == [big]
    assert cc.read_checkpoint(legacy(tmp_path / "n.pt", info={})).problems == []
    assert cc.read_checkpoint(legacy(tmp_path / "z.pt", info={"little_endian": 0})).problems == []
    assert cc.read_checkpoint(legacy(tmp_path / "x.pt", info=["little_endian", False])).problems == []


def test_a_legacy_stream_short_of_its_storages_is_truncated_and_keeps_its_globals(tmp_path):
    path = legacy(tmp_path / "t.pt", counts=())
    size = path.stat().st_size
    with pytest.raises(TruncatedCheckpoint) as caught:
        cc.read_checkpoint(path)
    assert str(caught.value) == f"truncated: the storages need {size + 16} bytes, the file has {size}"
    assert caught.value.globals == [GlobalUse("torch.FloatStorage", "torch")]
    exact = legacy(tmp_path / "e.pt")
    assert cc.read_checkpoint(exact).problems == []
    longer = legacy(tmp_path / "x.pt", tail=b"\x00")
    assert cc.read_checkpoint(longer).problems == ["1 bytes after the last storage"]


def test_a_legacy_storage_records_its_element_count_checked_deep(tmp_path):
    two = b"\x80\x02}" + u("a") + storage("0", 2) + b"s" + u("b") + storage("1", 1) + b"s."
    good = legacy(tmp_path / "g.pt", two, keys=("0", "1"), counts=(2, 1))
    assert cc.read_checkpoint(good, deep=True).problems == []
    assert cc.read_checkpoint(good, deep=True).members_checked == 2
    path = legacy(tmp_path / "d.pt", two, keys=("0", "1"), counts=(2, 1))
    raw = bytearray(path.read_bytes())
    second = len(raw) - (8 + 4)
    raw[second : second + 8] = (5).to_bytes(8, "little")
    path.write_bytes(bytes(raw))
    assert cc.read_checkpoint(path).problems == []
    assert cc.read_checkpoint(path, deep=True).problems == ["storage 1: 5 elements recorded, 1 expected"]


def test_a_legacy_pickle_broken_half_way_keeps_the_globals_it_named(tmp_path):
    path = legacy(tmp_path / "b.pt", b"\x80\x02cposix\nsystem\n\xff")
    with pytest.raises(MalformedPickle) as caught:
        cc.read_checkpoint(path)
    assert caught.value.globals == [GlobalUse("posix.system", "dangerous")]


# -- the error itself ------------------------------------------------------------------------------------


def test_an_error_carries_its_message_and_the_globals_named_before_it():
    assert CheckpointError("why").globals == [] and str(CheckpointError("why")) == "why"
    named = [GlobalUse("os.system", "dangerous")]
    error = TruncatedCheckpoint("cut", named)
    assert error.globals == named and isinstance(error, CheckpointError)
    assert CheckpointError("a").globals is not CheckpointError("b").globals


def test_the_committed_truncated_fixtures_are_truncated():
    for name in ("truncated.pt", "truncated_legacy.pt"):
        with pytest.raises(TruncatedCheckpoint):
            cc.read_checkpoint(FIXTURES / name)


def test_a_pickle_cut_short_says_where_the_file_ends(tmp_path):
    with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the pickle: it is truncated$"):
        cc.read_checkpoint(torch_zip(tmp_path / "z.pt", ONE_STORAGE[:-3]))
    full = legacy(tmp_path / "full.pt").read_bytes()
    keys = pickle.dumps(["0"], protocol=2)
    at = full.rindex(keys)
    (tmp_path / "pickle.pt").write_bytes(full[: at - 3])
    with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the pickle: it is truncated$"):
        cc.read_checkpoint(tmp_path / "pickle.pt")
    (tmp_path / "list.pt").write_bytes(full[: at + 4])
    with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the storage list: it is truncated$"):
        cc.read_checkpoint(tmp_path / "list.pt")
    (tmp_path / "head.pt").write_bytes(full[:20])
    with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the header: it is truncated$"):
        cc.read_checkpoint(tmp_path / "head.pt")


def test_only_whitespace_and_a_byte_order_mark_are_skipped_before_a_web_page():
    for start, words in ((b"X<html>", NEITHER), (b"\xef\xbb\xbf\r\n <html>", WEB_PAGE)):
        raw = start + b" " * 600
        error = cc._not_a_checkpoint(raw[:512])
        assert str(error) == words


def test_a_legacy_header_cut_anywhere_says_so(tmp_path):
    full = legacy(tmp_path / "full.pt").read_bytes()
    magic_end = len(pickle.dumps(cc.LEGACY_MAGIC, protocol=2))
    info_at = full.index(pickle.dumps(LEGACY_INFO, protocol=2))
    for cut in (8, magic_end + 3, info_at + 5):
        (tmp_path / "cut.pt").write_bytes(full[:cut])
        with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the header: it is truncated$"):
            cc.read_checkpoint(tmp_path / "cut.pt")


def test_a_legacy_header_string_past_the_end_is_truncated_whatever_its_size(tmp_path):
    # A 1.5 MiB string (past the header's 1 MiB limit) that the file ends 10 bytes short of.
    length = 3 * 2**19
    head = pickle.dumps(cc.LEGACY_MAGIC, protocol=2) + pickle.dumps(cc.LEGACY_PROTOCOL, protocol=2)
    (tmp_path / "long.pt").write_bytes(head + b"\x80\x02X" + struct.pack("<I", length) + b"x" * (length - 10))
    with pytest.raises(TruncatedCheckpoint, match="^the file ends inside the header: it is truncated$"):
        cc.read_checkpoint(tmp_path / "long.pt")


def test_a_legacy_storage_list_naming_storages_itself_is_refused(tmp_path):
    path = legacy(tmp_path / "s.pt")
    raw = path.read_bytes()
    keys = pickle.dumps(["0"], protocol=2)
    path.write_bytes(raw.replace(keys, b"\x80\x02]" + storage("0", 2) + b"a."))
    with pytest.raises(
        MalformedPickle, match="^the storage list does not match the storages the pickle names$"
    ):
        cc.read_checkpoint(path)


def test_the_archive_folder_is_the_first_entrys_top_folder(tmp_path):
    path = write_zip(
        tmp_path / "deep_first.pt",
        {"archive/data/0": b"\x00" * 8, "archive/data.pkl": ONE_STORAGE, "archive/version": b"3"},
    )
    contents = cc.read_checkpoint(path)
    assert contents.archive_prefix == "archive" and contents.problems == []


def test_lists_nested_far_past_the_recursion_limit_and_a_list_in_itself_are_read(tmp_path):
    # Reading and describing never recurse: twenty times the interpreter's limit is read like one level (the
    # million-deep file of test_checkpoint_contents.py, at a fraction of its time).
    depth = 20 * sys.getrecursionlimit()
    deep = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    contents = cc.read_checkpoint(torch_zip(tmp_path / "deep.pt", deep))
    assert contents.tensor_count == 0 and contents.verdict.safe and contents.top_level_keys == []
    assert [s.name for s in contents.sections] == ["(root)"]
    cycle = b"\x80\x02]q\x00h\x00a."  # a list that contains itself
    assert cc.read_checkpoint(torch_zip(tmp_path / "cycle.pt", cycle)).verdict.safe
