"""The words sizes, rates and durations are shown in (window, progress bar, command line), and the rates a
user may type for the bandwidth limit: every boundary of each, read as text."""

from __future__ import annotations

import pytest

from ofa_manager.core import units


@pytest.mark.parametrize(
    ("num_bytes", "text"),
    [
        (None, "unknown"),
        (0, "0 Bytes"),
        (1, "1 Byte"),
        (1023, "1023 Bytes"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (10**9, "953.7 MiB"),
        (1.8 * 2**30, "1.8 GiB"),
    ],
)
def test_a_size_reads_in_binary_units_with_one_decimal_or_unknown(num_bytes, text):
    assert units.size(num_bytes) == text


@pytest.mark.parametrize(
    ("per_second", "text"),
    [(None, "—"), (0, "—"), (0.0, "—"), (1, "1 Byte/s"), (1536, "1.5 KiB/s"), (5 * 2**20, "5.0 MiB/s")],
)
def test_a_rate_is_a_size_per_second_and_a_dash_when_nothing_moves(per_second, text):
    assert units.rate(per_second) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "unknown"),
        (float("nan"), "unknown"),
        (-1, "unknown"),
        (-0.4, "unknown"),  # negative before rounding, not "0 s"
        (0, "0 s"),
        (0.4, "0 s"),
        (12, "12 s"),
        (59, "59 s"),
        (59.4, "59 s"),
        (59.6, "1 min"),  # rounded first, then a minute
        (60, "1 min"),
        (61, "1 min 1 s"),
        (125, "2 min 5 s"),
        (599, "9 min 59 s"),
        (600, "10 min"),  # from ten minutes on, the seconds are left out
        (601, "10 min"),
        (659, "10 min"),
        (3599, "59 min"),
        (3600, "1 h 0 min"),
        (3659, "1 h 0 min"),
        (3660, "1 h 1 min"),
        (3900, "1 h 5 min"),
        (90_000, "25 h 0 min"),  # hours do not roll over into days
    ],
)
def test_a_duration_reads_in_seconds_minutes_and_hours(seconds, text):
    assert units.duration(seconds) == text


@pytest.mark.parametrize(
    ("typed", "per_second"),
    [
        ("0", 0),
        ("1", 1),
        ("1B", 1),
        ("1b/s", 1),
        ("1k", 1024),
        ("1K", 1024),
        ("500k", 500 * 1024),
        ("1m", 2**20),
        ("5M", 5 * 2**20),
        ("1.5MiB/s", 3 * 2**19),
        ("1g", 2**30),
        ("2G", 2 * 2**30),
        ("  2 GiB  ", 2 * 2**30),
        ("0.5", 0),  # whole bytes per second
        ("8589934591G", 2**63 - 2**30),  # just below the limit
    ],
)
def test_a_typed_rate_reads_as_bytes_per_second_in_binary_units(typed, per_second):
    value = units.parse_rate(typed)
    assert value == per_second
    assert type(value) is int


@pytest.mark.parametrize("typed", ["", None, "fast", "5 T", "5MB/h", "-1", ".5", "5..0k", "k"])
def test_a_rate_that_is_no_rate_is_refused_with_examples(typed):
    with pytest.raises(ValueError) as refused:
        units.parse_rate(typed)
    assert str(refused.value) == f"not a rate: {typed!r} (examples: 500k, 5M, 1.5MiB/s, 0 for no limit)"


@pytest.mark.parametrize(
    "typed",
    [
        "8589934592G",  # exactly 2**63 bytes per second
        "12884901888G",  # between 2**63 and 2**64
        "17179869184G",  # exactly 2**64
        "9" * 400,  # a float of hundreds of digits is inf
    ],
)
def test_a_rate_too_large_for_a_64_bit_count_is_refused_by_name(typed):
    with pytest.raises(ValueError) as refused:
        units.parse_rate(typed)
    assert str(refused.value) == f"too large a rate: {typed!r}"
