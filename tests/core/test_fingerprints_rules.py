"""The server's fingerprints, rule by rule: reading them from an answer's headers, and what counts as a
difference between two sources (core/fingerprints.py; the downloads that use them: test_fingerprints.py)."""

from __future__ import annotations

import hashlib

from ofa_manager.core.fingerprints import (
    CRC_HEADER,
    RunningFingerprints,
    ServerFingerprints,
    check,
    is_multipart_etag,
    parse_crc,
)

MD5 = hashlib.md5(b"x").hexdigest()
OTHER_MD5 = hashlib.md5(b"y").hexdigest()


def test_no_etag_is_no_multipart_etag():
    assert is_multipart_etag(None) is False and is_multipart_etag("") is False
    assert is_multipart_etag(f' "{MD5}-12" ') is True and is_multipart_etag(f'"{MD5}"') is False


def test_from_headers_keeps_the_size_etag_crc_and_md5():
    headers = {"etag": f'"{MD5}"', CRC_HEADER: "12345"}  # names as an HTTP library gives them: lower case
    got = ServerFingerprints.from_headers(headers, size=77)
    assert got == ServerFingerprints(size=77, crc64=12345, md5=MD5, etag=f'"{MD5}"')
    assert ServerFingerprints.from_headers({}) == ServerFingerprints()


def test_a_difference_is_named_only_where_both_sources_know_the_fingerprint():
    base = ServerFingerprints(size=10, crc64=0xAB, md5=MD5)
    assert base.differences(base) == []
    assert base.differences(ServerFingerprints(size=11, crc64=0xAB, md5=MD5)) == ["size 11 bytes, not 10"]
    assert base.differences(ServerFingerprints(size=10, crc64=0xAC, md5=MD5)) == [
        "CRC-64 00000000000000ac, not 00000000000000ab"
    ]
    assert base.differences(ServerFingerprints(size=10, crc64=0xAB, md5=OTHER_MD5)) == [
        f"MD5 {OTHER_MD5}, not {MD5}"
    ]
    # One side not knowing a fingerprint is no difference, whichever side it is.
    unknown = ServerFingerprints()
    assert base.differences(unknown) == [] and unknown.differences(base) == []
    assert ServerFingerprints(md5=MD5).differences(ServerFingerprints(size=3)) == []
    assert ServerFingerprints(size=3).differences(ServerFingerprints(md5=MD5)) == []


def test_running_fingerprints_compute_only_what_is_wanted():
    neither = RunningFingerprints(crc=False, md5=False)
    neither.update_crc(b"abc")
    neither.update_md5(b"abc")
    assert not neither.wanted and neither.crc is None and neither.md5() is None and not neither.wants_md5
    both = RunningFingerprints(crc=True, md5=True)
    both.update_crc(b"123456789")
    both.update_md5(b"x")
    assert both.wanted and both.crc == 0x995DC9BBDF1939FA and both.md5() == MD5 and both.wants_md5
    assert RunningFingerprints(crc=False, md5=True).wanted and RunningFingerprints(crc=True, md5=False).wanted


def test_check_verifies_by_crc_first_then_md5_and_names_a_mismatch():
    assert check({"crc64": f"{0xAB:016x}", "md5": MD5}, 0xAB, MD5) == ("crc64", "")
    assert check({"md5": MD5}, 0xAB, MD5) == ("md5", "")
    assert check({}, 0xAB, MD5) == (None, "")
    verified, why = check({"crc64": f"{0xAB:016x}"}, 0xAC, None)
    assert verified is None and why.startswith("CRC-64 mismatch") and "00000000000000ac" in why
    verified, why = check({"crc64": f"{0xAB:016x}", "md5": MD5}, 0xAB, OTHER_MD5)
    assert verified is None and why.startswith("MD5 mismatch") and OTHER_MD5 in why


def test_a_crc_header_that_is_not_a_decimal_below_2_64_is_none():
    assert parse_crc(None) is None and parse_crc("") is None and parse_crc(" 42 ") == 42
    assert parse_crc(str(2**64 - 1)) == 2**64 - 1 and parse_crc("1" * 21) is None
