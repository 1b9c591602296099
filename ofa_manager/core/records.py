"""What a resume record or a file's metadata must hold to be trusted; anything else is a stated problem."""

from __future__ import annotations

import math

MAX_FILE_SIZE = 2**62
_HEX = frozenset("0123456789abcdef")


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sha256_text(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _crc_text(value) -> bool:
    return isinstance(value, str) and len(value) == 16 and set(value) <= _HEX


def _md5_text(value) -> bool:
    return isinstance(value, str) and len(value) == 32 and set(value) <= _HEX


def _header_text(value) -> bool:
    """A validator that may be sent back in an If-Range header: short, printable, one line."""
    return isinstance(value, str) and 0 < len(value) <= 1024 and value.isprintable() and value.isascii()


def _optional(value, check) -> bool:
    return value is None or check(value)


def _web_url(value) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) <= 8192


def record_problem(
    record: dict, expected_size: int | None, expected_sha256: str | None, part_length: int | None
) -> str | None:
    """Why a resume record cannot be trusted (None when it can): its types, its ranges inside its
    own size and the partial file's length, non-negative and in order, its size and hash against the
    catalog."""
    if part_length is None:
        return "its partial file is missing"
    if not _web_url(record.get("url")):
        return "no http(s) URL"
    size = record.get("size")
    if not _optional(size, lambda v: _int(v) and 0 <= v <= MAX_FILE_SIZE):
        return f"the size {size!r} is not a number of bytes"
    if expected_size is not None and size is not None and size != expected_size:
        return f"its size {size} is not the catalog's {expected_size}"
    sha = record.get("sha256")
    if not _optional(sha, _sha256_text):
        return "its sha256 is not 64 hex digits"
    if sha and expected_sha256 and sha != expected_sha256:
        return "it was started for another sha256 than the catalog's"
    for name in ("etag", "last_modified"):
        if not _optional(record.get(name), _header_text):
            return f"its {name} is not a short line of text"
    # The server's fingerprints, recorded with the first answer (see core.fingerprints).
    if not _optional(record.get("server_crc64"), _crc_text):
        return "its server CRC-64 is not 16 hex digits"
    if not _optional(record.get("server_md5"), _md5_text):
        return "its server MD5 is not 32 hex digits"
    for name in ("started", "updated"):
        value = record.get(name)
        if value is not None and not (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        ):
            return f"its {name} time is not a number"
    ranges = record.get("ranges", [])
    if not isinstance(ranges, list):
        return "its ranges are not a list"
    if ranges and size is None:
        return "it has ranges but no size"
    previous = 0
    limit = min(size, part_length) if size is not None else part_length
    for item in ranges:
        if not (isinstance(item, list) and len(item) == 2 and _int(item[0]) and _int(item[1])):
            return f"the range {item!r} is not two whole numbers"
        start, end = item
        if not 0 <= start < end:
            return f"the range {item!r} is empty or negative"
        if start < previous:
            return f"the range {item!r} overlaps or is out of order"
        if end > limit:
            return f"the range {item!r} goes past the end of the file ({limit} bytes)"
        previous = end
    return None


def meta_problem(meta: dict) -> str | None:
    """Why a finished file's metadata cannot be trusted (None when it can): the type of each field."""
    checks = {
        "url": _web_url,
        "catalog_url": _web_url,
        "etag": lambda v: _optional(v, _header_text),
        "last_modified": lambda v: _optional(v, _header_text),
        "size": lambda v: _int(v) and 0 <= v <= MAX_FILE_SIZE,
        "sha256": lambda v: _optional(v, _sha256_text),
        "sha256_found": lambda v: _optional(v, _sha256_text),
        "state": lambda v: v in ("ok", "corrupt", "differs"),
        "verified": lambda v: isinstance(v, bool),
        "downloaded_at": lambda v: _optional(v, lambda t: isinstance(t, str)),
        "adopted_at": lambda v: _optional(v, lambda t: isinstance(t, str)),
        "verified_at": lambda v: _optional(v, lambda t: isinstance(t, str)),
        "mtime_ns": lambda v: _int(v) and v >= 0,
        "verified_by": lambda v: v in (None, "sha256", "crc64", "md5"),
        "server_crc64": lambda v: _optional(v, _crc_text),
        "crc64": lambda v: _optional(v, _crc_text),
        "server_md5": lambda v: _optional(v, _md5_text),
        "md5": lambda v: _optional(v, _md5_text),
    }
    for name, check in checks.items():
        if name in meta and not check(meta[name]):
            return f"its {name} is not valid"
    return None
