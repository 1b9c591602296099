"""core/records.py rule by rule: what a resume record and a finished file's metadata must hold to be
trusted, and the reason stated for each thing that is not (the reason reaches `list --json` and the
window's tooltips)."""

from __future__ import annotations

import math

import pytest

from ofa_manager.core.records import MAX_FILE_SIZE, meta_problem, record_problem

URL = "https://example.org/m.pt"
SHA = "0123456789abcdef" * 4
OTHER_SHA = "f" * 64
GOOD = {"url": URL, "size": 100, "ranges": [[0, 10], [10, 20], [50, 100]]}


def problem(part_length: int | None = 100, expected_size=100, expected_sha=None, **fields):
    record = {**GOOD, **fields}
    return record_problem(
        {k: v for k, v in record.items() if v is not ...}, expected_size, expected_sha, part_length
    )


def test_a_good_record_is_trusted():
    assert problem() is None
    assert problem(size=None, ranges=[], expected_size=None) is None
    assert problem(ranges=..., expected_size=None) is None  # no ranges yet
    assert problem(expected_size=None, sha256=SHA, expected_sha=SHA) is None
    assert problem(sha256=SHA) is None  # nothing to compare it with
    assert problem(sha256=None, expected_sha=SHA) is None
    assert problem(url="http://example.org/m.pt") is None
    assert problem(url="https://" + "a" * (8192 - 8)) is None  # 8192 characters
    assert problem(size=0, ranges=[], expected_size=0) is None
    assert problem(size=MAX_FILE_SIZE, ranges=[], expected_size=None) is None
    assert problem(etag="x" * 1024, last_modified='"W/abc"') is None
    assert problem(etag="x", last_modified="y") is None  # one character is a validator too
    assert problem(server_crc64="0123456789abcdef", server_md5="0123456789abcdef" * 2) is None
    assert problem(started=0, updated=1.5) is None
    assert problem(started=None, updated=None) is None


def test_a_missing_partial_file_comes_first():
    assert problem(part_length=None, url=5) == "its partial file is missing"


@pytest.mark.parametrize(
    "url", [..., None, 5, "ftp://example.org/m.pt", "example.org/m.pt", "https://" + "a" * (8192 - 7)]
)
def test_a_record_without_a_web_url(url):
    assert problem(url=url) == "no http(s) URL"


@pytest.mark.parametrize("size", ["100", True, -1, 1.0, MAX_FILE_SIZE + 1, 2**63])
def test_a_size_that_is_not_a_number_of_bytes(size):
    assert problem(size=size, expected_size=None) == f"the size {size!r} is not a number of bytes"


def test_a_size_other_than_the_catalogs():
    assert problem(size=10, ranges=[], expected_size=20) == "its size 10 is not the catalog's 20"
    assert problem(size=None, ranges=[], expected_size=20) is None
    assert problem(size=10, ranges=[[0, 10]], expected_size=None) is None


@pytest.mark.parametrize("sha", ["", 5, SHA.upper(), SHA[:-1], SHA + "0", "X" * 64, "g" * 64])
def test_a_sha256_that_is_not_64_hex_digits(sha):
    assert problem(sha256=sha) == "its sha256 is not 64 hex digits"


def test_a_record_started_for_another_sha256():
    assert (
        problem(sha256=SHA, expected_sha=OTHER_SHA) == "it was started for another sha256 than the catalog's"
    )


@pytest.mark.parametrize("name", ["etag", "last_modified"])
@pytest.mark.parametrize("value", ["", "x" * 1025, "a\nb", "caf\u00e9", 5, ["a"]])
def test_a_validator_that_is_not_a_short_line_of_text(name, value):
    assert problem(**{name: value}) == f"its {name} is not a short line of text"


@pytest.mark.parametrize("value", ["0123456789abcde", "0123456789abcdef0", "0123456789ABCDEF", "X" * 16, 5])
def test_a_server_crc64_that_is_not_16_hex_digits(value):
    assert problem(server_crc64=value) == "its server CRC-64 is not 16 hex digits"


@pytest.mark.parametrize("value", ["a" * 31, "a" * 33, "A" * 32, "X" * 32, 5])
def test_a_server_md5_that_is_not_32_hex_digits(value):
    assert problem(server_md5=value) == "its server MD5 is not 32 hex digits"


@pytest.mark.parametrize("name", ["started", "updated"])
@pytest.mark.parametrize("value", ["1", True, math.nan, math.inf, -math.inf, [1]])
def test_a_time_that_is_not_a_number(name, value):
    assert problem(**{name: value}) == f"its {name} time is not a number"


@pytest.mark.parametrize("ranges", ["0-10", {"0": 10}, (0, 10)])
def test_ranges_that_are_not_a_list(ranges):
    assert problem(ranges=ranges) == "its ranges are not a list"


def test_ranges_without_a_size():
    assert problem(size=None, expected_size=None) == "it has ranges but no size"


@pytest.mark.parametrize("item", [(0, 10), [0], [0, 10, 20], [0, "10"], ["0", 10], [True, 10], [0, 10.0], 5])
def test_a_range_that_is_not_two_whole_numbers(item):
    assert problem(ranges=[[0, 5], item]) == f"the range {item!r} is not two whole numbers"


@pytest.mark.parametrize("item", [[5, 5], [-1, 3], [6, 5]])
def test_an_empty_or_negative_range(item):
    assert problem(ranges=[item]) == f"the range {item!r} is empty or negative"


def test_ranges_in_order_may_touch_but_not_overlap():
    assert problem(ranges=[[0, 10], [10, 20]]) is None
    assert problem(ranges=[[0, 10], [9, 20]]) == "the range [9, 20] overlaps or is out of order"
    assert problem(ranges=[[20, 30], [0, 10]]) == "the range [0, 10] overlaps or is out of order"


def test_a_range_past_the_end_of_the_file_or_of_the_partial_data():
    assert problem(ranges=[[0, 100]]) is None
    assert problem(ranges=[[0, 101]]) == "the range [0, 101] goes past the end of the file (100 bytes)"
    # The partial file is shorter than the record's size: the ranges must fit the partial file.
    assert problem(part_length=60, ranges=[[0, 60]]) is None
    assert (
        problem(part_length=60, ranges=[[0, 61]])
        == "the range [0, 61] goes past the end of the file (60 bytes)"
    )
    assert problem(part_length=200, ranges=[[0, 101]]) == (
        "the range [0, 101] goes past the end of the file (100 bytes)"
    )


GOOD_META = {
    "url": URL,
    "catalog_url": "http://example.org/m.pt",
    "etag": '"abc"',
    "last_modified": None,
    "size": 0,
    "sha256": SHA,
    "sha256_found": None,
    "state": "ok",
    "verified": False,
    "downloaded_at": "2026-11-30T10:00:00Z",
    "adopted_at": None,
    "verified_at": None,
    "mtime_ns": 0,
    "verified_by": None,
    "server_crc64": None,
    "crc64": "0123456789abcdef",
    "server_md5": None,
    "md5": "0123456789abcdef" * 2,
}


def test_good_metadata_is_trusted():
    assert meta_problem(GOOD_META) is None
    assert meta_problem({}) is None  # fields are checked where present
    assert meta_problem({"size": MAX_FILE_SIZE, "verified": True, "other": object()}) is None
    for state in ("ok", "corrupt", "differs"):
        assert meta_problem({"state": state}) is None
    for by in (None, "sha256", "crc64", "md5"):
        assert meta_problem({"verified_by": by}) is None
    for name in ("downloaded_at", "adopted_at", "verified_at"):
        assert meta_problem({name: None}) is None and meta_problem({name: "now"}) is None
    for name in (
        "etag",
        "last_modified",
        "sha256",
        "sha256_found",
        "server_crc64",
        "crc64",
        "server_md5",
        "md5",
    ):
        assert meta_problem({name: None}) is None
    assert meta_problem({"sha256_found": SHA, "server_crc64": "f" * 16, "server_md5": "f" * 32}) is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("url", None),
        ("url", "ftp://example.org/m.pt"),
        ("catalog_url", "example.org"),
        ("etag", ""),
        ("etag", "a\nb"),
        ("last_modified", 5),
        ("size", None),
        ("size", -1),
        ("size", True),
        ("size", "5"),
        ("size", MAX_FILE_SIZE + 1),
        ("sha256", SHA[:-1]),
        ("sha256", "X" * 64),
        ("sha256_found", 5),
        ("state", "OK"),
        ("state", None),
        ("state", ""),
        ("verified", 1),
        ("verified", None),
        ("downloaded_at", 5),
        ("adopted_at", 5.0),
        ("verified_at", ["now"]),
        ("mtime_ns", -1),
        ("mtime_ns", True),
        ("mtime_ns", 1.0),
        ("mtime_ns", None),
        ("verified_by", "sha1"),
        ("verified_by", ""),
        ("verified_by", "SHA256"),
        ("server_crc64", "f" * 15),
        ("crc64", "X" * 16),
        ("server_md5", "f" * 33),
        ("md5", "X" * 32),
    ],
)
def test_metadata_with_a_field_of_the_wrong_kind(name, value):
    assert meta_problem({**GOOD_META, name: value}) == f"its {name} is not valid"


def test_the_first_bad_field_is_named():
    assert meta_problem({**GOOD_META, "size": -1, "md5": 5}) == "its size is not valid"
