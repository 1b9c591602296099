"""Sizes, rates and durations in the words users read (binary units, via humanize), and record timestamps."""

from __future__ import annotations

import re
import time

import humanize

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?)[bB]?(?:/s)?\s*$")
_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size(num_bytes: int | float | None) -> str:
    """'1.8 GiB'; 'unknown' when the size is not known."""
    if num_bytes is None:
        return "unknown"
    return humanize.naturalsize(num_bytes, binary=True)  # one decimal: humanize's own format, "%.1f"


def rate(bytes_per_second: float | None) -> str:
    if not bytes_per_second:
        return "—"
    return f"{size(bytes_per_second)}/s"


def duration(seconds: float | None) -> str:
    """'2 min', '1 h 5 min', '12 s'."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "unknown"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" if minutes >= 10 or not seconds else f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def parse_rate(text: str) -> int:
    """'5M' → 5 MiB/s in bytes per second; '500k', '1.5MiB/s', '0' (no limit) also accepted."""
    match = _RATE.match(text or "")
    if not match:
        raise ValueError(f"not a rate: {text!r} (examples: 500k, 5M, 1.5MiB/s, 0 for no limit)")
    number, unit, _ = match.groups()
    value = float(number) * _FACTORS[unit.lower()]
    if not value < 2**63:  # also inf, from a number of hundreds of digits
        raise ValueError(f"too large a rate: {text!r}")
    return int(value)


def timestamp(when: float | None = None) -> str:
    """A moment as the metadata records store it (downloaded, verified, adopted): local ISO 8601 with
    its UTC offset, to the second, e.g. ``2026-11-30T17:42:06+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(when))
