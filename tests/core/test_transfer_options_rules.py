"""What a download is told and what it reports (core/transfer_options.py): the shared bandwidth limit's
chunk sizes and waits, a failure's message and kind, the URL rewrite rules.

The limiter's waits are read from a fake clock and an event that records what it was asked to wait:
real time would make the figures depend on how fast the machine is (no timed asserts)."""

from __future__ import annotations

import threading

import pytest

from ofa_manager.core import transfer_options
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer_options import DownloadError, RateLimiter, TransferOptions

MiB = 1024 * 1024


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingEvent(threading.Event):
    """An abort event that notes each wait instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return False


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(transfer_options.time, "monotonic", fake)
    return fake


def test_a_limit_is_a_whole_number_of_bytes_and_never_negative():
    assert RateLimiter().rate == 0
    assert RateLimiter(2048.9).rate == 2048
    assert RateLimiter(-5).rate == 0
    limiter = RateLimiter(1000)
    limiter.set_rate(-1)
    assert limiter.rate == 0
    limiter.set_rate(4096.7)
    assert limiter.rate == 4096


def test_reads_are_a_twentieth_of_a_second_of_the_limit_between_4_kib_and_the_chunk():
    assert RateLimiter(0).chunk_size(MiB) == MiB  # no limit: the whole chunk
    assert RateLimiter(2 * MiB).chunk_size(MiB) == 2 * MiB // 20
    assert RateLimiter(20 * MiB).chunk_size(MiB) == MiB
    assert RateLimiter(21 * MiB).chunk_size(MiB) == MiB
    assert RateLimiter(40_000).chunk_size(MiB) == 4096
    assert RateLimiter(20 * 4097).chunk_size(MiB) == 4097


def test_no_limit_never_waits(clock):
    abort = RecordingEvent()
    limiter = RateLimiter(0)
    for _ in range(3):
        limiter.consume(10 * MiB, abort)
    assert abort.waits == []


def test_each_read_waits_for_its_share_of_the_limit(clock):
    abort = RecordingEvent()
    limiter = RateLimiter(1000)
    limiter.consume(500, abort)
    limiter.consume(500, abort)
    assert abort.waits == [pytest.approx(0.5), pytest.approx(1.0)]


def test_an_idle_connection_may_catch_up_only_a_fifth_of_a_second(clock):
    abort = RecordingEvent()
    limiter = RateLimiter(1000)
    clock.now += 10  # idle for ten seconds: only 0.2 s of it may be spent at once
    limiter.consume(100, abort)  # 0.1 s of the 0.2 s burst: no wait
    assert abort.waits == []
    limiter.consume(150, abort)  # 0.15 s more: 0.05 s beyond the burst
    assert abort.waits == [pytest.approx(0.05)]


def test_a_new_limit_starts_afresh(clock):
    abort = RecordingEvent()
    limiter = RateLimiter(100)
    limiter.consume(1000, abort)  # ten seconds ahead at 100 B/s
    assert abort.waits == [pytest.approx(10.0)]
    limiter.set_rate(1000)
    limiter.consume(500, abort)  # not behind the old limit's ten seconds
    assert abort.waits[1:] == [pytest.approx(0.5)]
    limiter.set_rate(0)
    limiter.consume(10 * MiB, abort)
    assert len(abort.waits) == 2


def test_a_failure_names_the_checkpoint_and_never_a_password():
    error = DownloadError("OFA base", "403 Forbidden at https://ann:s3cret@example.org/m.pt")
    assert "s3cret" not in str(error) and "s3cret" not in error.reason
    assert str(error) == f"OFA base: {error.reason}"
    assert error.reason.startswith("403 Forbidden at https://") and error.reason.endswith("@example.org/m.pt")
    assert error.title == "OFA base"
    assert error.kind is ErrorKind.ERROR


def test_a_failures_kind_may_be_given_as_its_word():
    assert DownloadError("t", "r", kind="network").kind is ErrorKind.NETWORK
    assert DownloadError("t", "r", kind=ErrorKind.DISK).kind is ErrorKind.DISK


def test_the_first_matching_rewrite_rule_applies():
    options = TransferOptions(
        rewrite_rules=[("https://a.example/", "http://mirror/a/"), ("https://a.", "http://other/")]
    )
    assert options.rewrite("https://a.example/x/m.pt") == "http://mirror/a/x/m.pt"
    assert options.rewrite("https://b.example/m.pt") == "https://b.example/m.pt"
