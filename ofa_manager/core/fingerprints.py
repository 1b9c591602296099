"""The server's own fingerprints of an object: its CRC-64 (Alibaba OSS) and its MD5 (a single-part ETag).

Object storage sends them with every answer. When the catalog has no sha256 they are what a download is
checked against: known before the bytes arrived, they are evidence that the bytes are the server's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import anycrc

# CRC-64/XZ (ECMA-182 polynomial, reflected, init and xorout all ones), as OSS computes it; sent in
# decimal. The check value of b"123456789" is 0x995DC9BBDF1939FA.
CRC_HEADER = "x-oss-hash-crc64ecma"
_CRC64 = anycrc.Model("CRC64-XZ")
_MD5_ETAG = re.compile(r'^(?:W/)?"?([0-9a-fA-F]{32})"?$')
_MULTIPART_ETAG = re.compile(r'^(?:W/)?"?([0-9a-fA-F]{32})-(\d+)"?$')

# What verified a file, in words ("verified against the server's CRC-64").
VERIFIED_BY = {
    "sha256": "the catalog's sha256",
    "crc64": "the server's CRC-64",
    "md5": "the server's MD5 (its ETag)",
}


def crc64(data, crc: int = 0) -> int:
    """CRC-64/XZ of ``data``, continuing from ``crc`` (the value of the bytes before it)."""
    return _CRC64.calc(data, crc) if crc else _CRC64.calc(data)


def parse_crc(value: str | None) -> int | None:
    """The CRC-64 in an ``x-oss-hash-crc64ecma`` header (a decimal number below 2**64), or None."""
    if not value:
        return None
    text = value.strip()
    if not text.isdigit() or len(text) > 20:
        return None
    number = int(text)
    return number if number < 2**64 else None


def md5_of_etag(etag: str | None) -> str | None:
    """The content's MD5 (lowercase hex) when the ETag is one: 32 hex digits, not a multipart ETag."""
    if not etag:
        return None
    match = _MD5_ETAG.match(etag.strip())
    return match.group(1).lower() if match else None


def is_multipart_etag(etag: str | None) -> bool:
    """A multipart upload's ETag, ``<hex>-<parts>``: an MD5 of MD5s, not the content's."""
    return bool(etag and _MULTIPART_ETAG.match(etag.strip()))


@dataclass(frozen=True)
class ServerFingerprints:
    """What a server's answer says about the whole object."""

    size: int | None = None
    crc64: int | None = None
    md5: str | None = None  # from a single-part ETag
    etag: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], size: int | None = None) -> ServerFingerprints:
        etag = headers.get("etag")
        return cls(size=size, crc64=parse_crc(headers.get(CRC_HEADER)), md5=md5_of_etag(etag), etag=etag)

    def differences(self, other: ServerFingerprints) -> list[str]:
        """How two sources' fingerprints of what should be the same object differ ([] when no known
        fingerprint differs). ETags are compared only when both are the content's MD5."""
        found = []
        if self.size is not None and other.size is not None and self.size != other.size:
            found.append(f"size {other.size} bytes, not {self.size}")
        if self.crc64 is not None and other.crc64 is not None and self.crc64 != other.crc64:
            found.append(f"CRC-64 {other.crc64:016x}, not {self.crc64:016x}")
        if self.md5 is not None and other.md5 is not None and self.md5 != other.md5:
            found.append(f"MD5 {other.md5}, not {self.md5}")
        return found


class RunningFingerprints:
    """The CRC-64 and, when wanted, the MD5 of bytes fed in order (beside the sha256)."""

    def __init__(self, *, crc: bool, md5: bool) -> None:
        self.crc: int | None = 0 if crc else None
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None

    @property
    def wanted(self) -> bool:
        return self.crc is not None or self._md5 is not None

    def update_crc(self, data) -> None:
        if self.crc is not None:
            self.crc = crc64(data, self.crc)

    def update_md5(self, data) -> None:
        if self._md5 is not None:
            self._md5.update(data)

    @property
    def wants_md5(self) -> bool:
        return self._md5 is not None

    def md5(self) -> str | None:
        return self._md5.hexdigest() if self._md5 is not None else None


def check(expected: Mapping, crc: int | None, md5: str | None) -> tuple[str | None, str]:
    """Compare what was computed with the server's fingerprints (``expected`` holds ``crc64`` as 16 hex
    digits and ``md5``): (the fingerprint that verified the bytes or None, the mismatch in words or "").
    The CRC-64 is checked first, then the MD5; both must agree when both are known."""
    verified_by = None
    want_crc = expected.get("crc64")
    if isinstance(want_crc, str) and crc is not None:
        if f"{crc:016x}" != want_crc:
            return None, (
                f"CRC-64 mismatch: the server's {CRC_HEADER} is {want_crc}, "
                f"the data received gives {crc:016x}"
            )
        verified_by = "crc64"
    want_md5 = expected.get("md5")
    if isinstance(want_md5, str) and md5 is not None:
        if md5 != want_md5:
            return None, f"MD5 mismatch: the server's ETag says {want_md5}, the data received gives {md5}"
        verified_by = verified_by or "md5"
    return verified_by, ""
