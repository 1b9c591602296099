"""core.archive_checks rule by rule: each refusal's words (the user reads them: the command line prints the
reason, the window shows it), each limit at its edge, and what passes. The zip directory's entries are
made here (zipfile.ZipInfo), no archive on disk: the checks read only the directory."""

from __future__ import annotations

import stat
import zipfile

import pytest

from ofa_manager.core import archive_checks
from ofa_manager.core.archive_checks import ArchiveError, Member, check_members, check_names, name_problem

# A hang guard, not a timed assert: these tests take well under a second, so one that runs a minute is stuck
# in a loop (a looping mutant under mutation testing then fails here, not hanging to the runner's limit).
pytestmark = pytest.mark.timeout(60)

FLOOR = archive_checks.RATIO_FLOOR
MARGIN = archive_checks.SPACE_MARGIN


def info(name, size=10, packed=10, offset=0, kind=None, flags=0, method=zipfile.ZIP_DEFLATED, crc=7):
    entry = zipfile.ZipInfo(name)
    entry.file_size, entry.compress_size, entry.header_offset = size, packed, offset
    entry.flag_bits, entry.compress_type, entry.CRC = flags, method, crc
    if kind is not None:
        entry.external_attr = (kind | 0o644) << 16
    return entry


def refusal(infos, **limits) -> str:
    with pytest.raises(ArchiveError) as refused:
        check_members(infos, **limits)
    return str(refused.value)


@pytest.mark.parametrize(
    "name, problem",
    [
        ("", "has an empty name"),
        ("a\x00b", "has a control character in its name"),
        ("a\x1fb", "has a control character in its name"),
        ("a\x7fb", "has a control character in its name"),
        ("a\\b", "has a backslash in its name (a Windows path)"),
        ("/", "has an absolute path"),
        ("/x", "has an absolute path"),
        ("C:x", "has an absolute path"),
        ("z:/x", "has an absolute path"),
        ("..", "has '..' in its path (it would land outside the folder)"),
        ("a/..", "has '..' in its path (it would land outside the folder)"),
        ("../x", "has '..' in its path (it would land outside the folder)"),
        ("a/../b", "has '..' in its path (it would land outside the folder)"),
        ("a//b", "has an empty or '.' segment in its path"),
        ("./a", "has an empty or '.' segment in its path"),
        ("a/./b", "has an empty or '.' segment in its path"),
        ("1:x", "has a path segment that must not contain control characters or ':'"),
        ("a/b:c", "has a path segment that must not contain control characters or ':'"),
    ],
)
def test_each_name_problem_in_words(name, problem):
    assert name_problem(name) == problem


@pytest.mark.parametrize(
    "name", ["a/", "X/", "aX/", "a/.hidden", ".hidden", "a/..b", "..a", "a/...", "x/y/z.pt"]
)
def test_names_that_pass(name):
    assert name_problem(name) is None


@pytest.mark.parametrize(
    "names, dirs, message",
    [
        (["a", "a"], (), "member 'a' is in the archive twice: one would overwrite the other"),
        (
            ["A", "a"],
            (),
            "member 'a' is in the archive twice (as 'A': one name, case ignored): "
            "one would overwrite the other",
        ),
        (
            ["e\u0301", "\u00e9"],  # one letter in two Unicode forms
            (),
            "member '\u00e9' is in the archive twice (as 'e\u0301': one name, case ignored): "
            "one would overwrite the other",
        ),
        (["a", "a/b"], (), "member 'a' is a file, and member 'a/b' needs it as a folder"),
        (["a/b", "a"], (), "member 'a' is a file, and member 'a/b' needs it as a folder"),
        (["x/a", "x/a/b/c"], (), "member 'x/a' is a file, and member 'x/a/b/c' needs it as a folder"),
        (["X/A", "x/a/b"], (), "member 'X/A' is a file, and member 'x/a/b' needs it as a folder"),
        (["a"], ("a",), "member 'a' is both a file and a folder in the archive"),
        (["a"], ("A",), "member 'A' is both a file and a folder in the archive"),
        (["ok", "../x"], (), "member '../x' has '..' in its path (it would land outside the folder)"),
    ],
)
def test_names_that_collide_or_fail(names, dirs, message):
    with pytest.raises(ArchiveError) as refused:
        check_names(names, frozenset(dirs))
    assert str(refused.value) == message


def test_names_that_live_together():
    check_names(["b/c", "b/d", "a"], frozenset({"b", "e"}))


def test_too_many_members_counts_folders_too():
    infos = [info("d/", size=0, packed=0), info("d/a", offset=10), info("b", offset=20)]
    assert refusal(infos, max_members=2) == "the archive has 3 members, more than the 2 allowed"
    assert len(check_members(infos, max_members=3)) == 2


@pytest.mark.parametrize(
    "kind, message",
    [
        (stat.S_IFLNK, "member 'm' is a symbolic link; links are not unpacked"),
        (stat.S_IFIFO, "member 'm' is a special file (a device, pipe or socket)"),
        (stat.S_IFCHR, "member 'm' is a special file (a device, pipe or socket)"),
        (stat.S_IFBLK, "member 'm' is a special file (a device, pipe or socket)"),
        (stat.S_IFSOCK, "member 'm' is a special file (a device, pipe or socket)"),
    ],
)
def test_links_and_special_files_are_refused(kind, message):
    assert refusal([info("m", kind=kind)]) == message


def test_regular_files_and_permissions_alone_pass():
    plain = info("p", offset=50)
    plain.external_attr = 0o644 << 16  # permissions, no file type: says nothing of the type
    members = check_members([info("r", kind=stat.S_IFREG, crc=0xDEADBEEF), plain])
    assert members == [Member("r", 10, 0xDEADBEEF), Member("p", 10, 7)]


def test_a_folder_marked_by_its_type_without_a_slash_is_a_folder():
    assert check_members([info("d", kind=stat.S_IFDIR, size=0, packed=0), info("d/x", offset=50)]) == [
        Member("d/x", 10, 7)
    ]
    folder_then_file = [info("d", kind=stat.S_IFDIR, size=0, packed=0), info("D", offset=50)]
    assert refusal(folder_then_file) == "member 'd' is both a file and a folder in the archive"
    for folder in ("d/", "X/", "d /"):  # a folder entry named with its slash, then a file of its name
        file = folder.rstrip("/")
        assert refusal([info(folder, size=0, packed=0), info(file, offset=50)]) == (
            f"member {file!r} is both a file and a folder in the archive"
        )
    assert refusal([info("../", size=0, packed=0)]) == (
        "member '../' has '..' in its path (it would land outside the folder)"
    )


def test_encryption_and_compression():
    assert refusal([info("e", flags=0x1)]) == "member 'e' is encrypted"
    assert check_members([info("e", flags=0x8)]) == [Member("e", 10, 7)]  # a data descriptor: fine
    assert refusal([info("x", method=99)]) == "member 'x' uses compression method 99, not read here"
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        assert check_members([info("x", method=method)]) == [Member("x", 10, 7)]


def test_the_expansion_limit_at_its_edges():
    assert check_members([info("z", size=2_000_000, packed=20_000)]) == [Member("z", 2_000_000, 7)]
    assert refusal([info("z", size=2_000_000, packed=19_999)]) == (
        "member 'z' expands 100 times (19.5 KiB to 1.9 MiB), more than the 100 allowed: a zip bomb?"
    )
    # Small members may expand as they like; an empty packed size is counted as one byte.
    assert check_members([info("z", size=FLOOR, packed=0)]) == [Member("z", FLOOR, 7)]
    assert refusal([info("z", size=FLOOR + 1, packed=0)]) == (
        "member 'z' expands 1048577 times (0 Bytes to 1.0 MiB), more than the 100 allowed: a zip bomb?"
    )
    assert refusal([info("z", size=2 * FLOOR, packed=FLOOR - 1)], max_ratio=2) == (
        "member 'z' expands 2 times (1.0 MiB to 2.0 MiB), more than the 2 allowed: a zip bomb?"
    )
    assert check_members([info("z", size=2 * FLOOR, packed=FLOOR)], max_ratio=2)
    # A packed size of one byte counts as one.
    assert refusal([info("z", size=FLOOR + 1, packed=1)], max_ratio=600_000) == (
        "member 'z' expands 1048577 times (1 Byte to 1.0 MiB), more than the 600000 allowed: a zip bomb?"
    )
    assert check_members([info("z", size=2 * FLOOR, packed=FLOOR - 1)], max_ratio=2.5)


def test_overlapping_members_at_their_edge_and_in_any_order():
    assert len(check_members([info("a", packed=100, offset=0), info("b", offset=100)])) == 2
    overlap = "members 'a' and 'b' overlap in the archive"
    assert refusal([info("a", packed=101, offset=0), info("b", offset=100)]) == overlap
    assert refusal([info("b", offset=100), info("a", packed=101, offset=0)]) == overlap
    # A third member further on does not hide the overlap of the first two.
    three = [info("a", packed=101, offset=0), info("b", offset=100), info("c", offset=500)]
    assert refusal(three) == overlap


def test_the_total_and_the_free_space_at_their_edges():
    two = [info("a", size=60), info("b", size=40, offset=100), info("d/", size=0, packed=0, offset=200)]
    assert check_members(two, max_total=100) == [Member("a", 60, 7), Member("b", 40, 7)]
    bigger = [info("a", size=60), info("b", size=41, offset=100)]
    assert (
        refusal(bigger, max_total=100) == "the archive unpacks to 101 Bytes, more than the 100 Bytes allowed"
    )
    assert len(check_members(two, free=100 + MARGIN)) == 2
    assert refusal(two, free=99 + MARGIN) == (
        "the archive unpacks to 100 Bytes, and only 64.0 MiB is free (less a margin of 64.0 MiB)"
    )
    assert len(check_members(two, free=None)) == 2


def test_a_member_as_json():
    assert Member("a/b", 5, 0xBEEF).as_json() == {"name": "a/b", "size": 5, "crc32": "0000beef"}
