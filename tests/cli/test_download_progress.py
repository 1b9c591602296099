"""`download`'s bars on a terminal, frame by frame: what each drawing says (the file's names, its share, the
words), which row each file keeps while several download at once, and the width, which follows the
terminal's. The reporter is fed the queue's own snapshots (QueueItem) and draws on a stream that says it is a
terminal, or on a real pseudo-terminal where the width matters."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import termios

import pytest

from ofa_manager.cli.download import _Reporter
from ofa_manager.core.states import ItemState, QueueEvent, QueueItem
from tests.scenes import Terminal, screen_lines

KiB = 1024


def item(key="/m/good.pt", ids=("good",), state=ItemState.DOWNLOADING, **fields) -> QueueEvent:
    return QueueEvent("changed", key, QueueItem(key, tuple(ids), "Good", state, **fields))


def frames(written: str) -> list[str]:
    """Every drawing of a bar, in order: tqdm starts each with a carriage return (and pads a shorter one with
    blanks over the longer one before it)."""
    return [part.rstrip() for part in re.split(r"\r|\n|\x1b\[A", written) if part.strip()]


def test_every_drawing_names_the_file_and_its_words_from_the_first(monkeypatch):
    elsewhere = io.StringIO()
    monkeypatch.setattr("sys.stderr", elsewhere)
    screen = Terminal()
    report = _Reporter(screen)
    report(item(done=100 * KiB, total=400 * KiB, speed=50 * KiB, eta=6))
    report(item(done=300 * KiB, total=400 * KiB, speed=50 * KiB, eta=2))
    report(item(state=ItemState.VERIFYING, done=400 * KiB, total=400 * KiB))
    report(item(state=ItemState.DONE, done=400 * KiB, total=400 * KiB))
    drawn = frames(screen.getvalue())
    assert elsewhere.getvalue() == ""  # the bars go to the stream the reporter was given
    assert drawn[0] == "good:  25%|##5       | 100.0 KiB of 400.0 KiB, 50.0 KiB/s, 6 s left"
    assert "good:  75%|#######5  | 300.0 KiB of 400.0 KiB, 50.0 KiB/s, 2 s left" in drawn
    assert "good: 100%|##########| 400.0 KiB of 400.0 KiB — verifying" in drawn
    assert drawn[-1] == "good: 100%|##########| 400.0 KiB of 400.0 KiB — done"
    assert all(frame.startswith("good: ") for frame in drawn), drawn
    assert screen_lines(screen.getvalue())[0] == "good: 100%|##########| 400.0 KiB of 400.0 KiB — done"


def test_a_file_of_unknown_size_shows_what_arrived_and_no_share(monkeypatch):
    screen = Terminal()
    report = _Reporter(screen)
    report(item(done=0, total=None))
    report(item(done=150 * KiB, total=None, speed=10 * KiB, eta=None))
    report(item(state=ItemState.FAILED, done=150 * KiB, total=None))
    drawn = frames(screen.getvalue())
    assert drawn[0] == "good:   0%|          | 0 Bytes of unknown, —, unknown left"
    assert drawn[-1] == "good:   0%|          | 150.0 KiB of unknown — failed"
    assert all("%|          |" in frame for frame in drawn), drawn


def test_a_size_learnt_later_and_a_restart_from_zero_are_drawn_as_they_are():
    screen = Terminal()
    report = _Reporter(screen)
    report(item(done=100 * KiB, total=None))
    report(item(done=100 * KiB, total=400 * KiB))
    # The server's file changed: the download starts again from its first byte, and the bar goes back.
    report(item(done=0, total=400 * KiB, state=ItemState.STALLED))
    drawn = frames(screen.getvalue())
    assert drawn[-2].startswith("good:  25%|##5       | 100.0 KiB of 400.0 KiB,")
    assert drawn[-1] == "good:   0%|          | 0 Bytes of 400.0 KiB, —, unknown left — reconnecting"


def test_entries_sharing_the_file_are_all_named_as_they_join():
    screen = Terminal()
    report = _Reporter(screen)
    report(item(ids=("shared-a",), done=KiB, total=4 * KiB))
    report(item(ids=("shared-a", "shared-b"), done=2 * KiB, total=4 * KiB))
    report(item(ids=("shared-a", "shared-b"), state=ItemState.DONE, done=4 * KiB, total=4 * KiB))
    drawn = frames(screen.getvalue())
    assert drawn[0].startswith("shared-a:  25%|")
    assert drawn[-1] == "shared-a, shared-b: 100%|##########| 4.0 KiB of 4.0 KiB — done"


def test_waiting_for_another_process_says_so_and_shows_its_progress():
    screen = Terminal()
    report = _Reporter(screen)
    report(item(state=ItemState.WAITING, done=KiB, total=4 * KiB, message="pid 7 has it"))
    report(item(state=ItemState.WAITING, done=2 * KiB, total=4 * KiB))
    drawn = frames(screen.getvalue())
    assert drawn[0] == "good:  25%|##5       | 1.0 KiB of 4.0 KiB by the other process — pid 7 has it"
    assert (
        drawn[-1]
        == "good:  50%|#####     | 2.0 KiB of 4.0 KiB by the other process — waiting for another process"
    )


def test_files_downloading_at_once_keep_their_rows_whatever_order_they_finish_in():
    screen = Terminal()
    report = _Reporter(screen)
    a = {"key": "/m/a.pt", "ids": ("a",), "total": 4 * KiB}
    b = {"key": "/m/b.pt", "ids": ("b",), "total": 8 * KiB}
    c = {"key": "/m/c.pt", "ids": ("c",), "total": 2 * KiB}
    report(item(**a, done=KiB))
    report(item(**b, done=2 * KiB))
    report(item(**b, state=ItemState.DONE, done=8 * KiB))  # the second finishes first
    report(item(**c, done=KiB))  # a third starts below the others, not over a finished row
    report(item(**a, done=2 * KiB))
    assert screen_lines(screen.getvalue())[:3] == [
        "a:  50%|#####     | 2.0 KiB of 4.0 KiB, —, unknown left",
        "b: 100%|##########| 8.0 KiB of 8.0 KiB — done",
        "c:  50%|#####     | 1.0 KiB of 2.0 KiB, —, unknown left",
    ]
    report(item(**c, state=ItemState.FAILED, done=KiB))
    report(item(**a, state=ItemState.DONE, done=4 * KiB))
    report.close()
    assert screen_lines(screen.getvalue()) == [
        "a: 100%|##########| 4.0 KiB of 4.0 KiB — done",
        "b: 100%|##########| 8.0 KiB of 8.0 KiB — done",
        "c:  50%|#####     | 1.0 KiB of 2.0 KiB — failed",
    ]
    screen.write("3 file(s)\n")  # what the command prints next starts on a row of its own
    assert screen_lines(screen.getvalue())[3] == "3 file(s)"


@pytest.fixture
def pseudo_terminal():
    """A real pseudo-terminal: the reporter draws on its terminal side; the test reads what arrives and sets
    its width as a resized window would."""
    master, terminal = pty.openpty()
    stream = os.fdopen(terminal, "w", encoding="utf-8")

    def columns(width: int) -> None:
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, width, 0, 0))

    def read() -> str:
        """What has reached the terminal: read until nothing more comes for a moment (the kernel hands a
        pseudo-terminal's bytes over in pieces)."""
        stream.flush()
        got = b""
        while select.select([master], [], [], 0.3)[0]:
            got += os.read(master, 65536)
        return got.decode("utf-8")

    yield stream, columns, read
    stream.close()
    os.close(master)


def test_the_bar_follows_the_terminal_width(pseudo_terminal):
    stream, columns, read = pseudo_terminal
    columns(60)
    report = _Reporter(stream)
    assert report.tty
    report(item(done=KiB, total=4 * KiB))
    narrow = frames(read())
    columns(100)  # the window was made wider
    report(item(done=2 * KiB, total=4 * KiB))
    wide = frames(read())
    assert len(narrow[-1]) == 59 and narrow[-1].startswith("good:  25%|")
    assert len(wide[-1]) == 99 and wide[-1].startswith("good:  50%|")
    report.close()


# -- off a terminal: plain lines ------------------------------------------------------------------------


class Clock:
    """The reporter's clock, moved by the test: lines are spaced by seconds that need not be waited for."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lines_reporter():
    screen, clock = io.StringIO(), Clock()
    report = _Reporter(screen, clock=clock)
    assert not report.tty
    return report, screen, clock


def test_off_a_terminal_a_line_at_once_then_one_every_five_seconds_per_file():
    report, screen, clock = lines_reporter()
    report(item(done=100 * KiB, total=400 * KiB, speed=50 * KiB, eta=6))
    report(item(key="/m/b.pt", ids=("b",), done=KiB, total=None, speed=KiB, eta=None))  # its own spacing
    clock.now = 4.9
    report(item(done=200 * KiB, total=400 * KiB, speed=50 * KiB, eta=4))  # too soon: nothing
    clock.now = 5.0
    report(item(done=250 * KiB, total=400 * KiB, speed=50 * KiB, eta=3, state=ItemState.STALLED))
    clock.now = 9.9
    report(item(done=300 * KiB, total=400 * KiB, speed=50 * KiB, eta=2))  # 4.9 s after the last: nothing
    report(item(state=ItemState.VERIFYING, done=400 * KiB, total=400 * KiB))
    report(item(state=ItemState.CONNECTING, key="/m/c.pt", ids=("c",)))
    report(item(state=ItemState.FAILED, key="/m/b.pt", ids=("b",), done=KiB))
    report(item(state=ItemState.DONE, done=400 * KiB, total=400 * KiB))
    report.close()
    assert screen.getvalue().splitlines() == [
        "good: 25% 100.0 KiB of 400.0 KiB, 50.0 KiB/s, 6 s left",
        "b: ? 1.0 KiB of unknown, 1.0 KiB/s, unknown left",
        "good: 62% 250.0 KiB of 400.0 KiB, 50.0 KiB/s, 3 s left reconnecting",
        "done: good (400.0 KiB) -> /m/good.pt",
    ]


def test_off_a_terminal_waiting_for_another_process_says_so_then_its_progress():
    report, screen, clock = lines_reporter()
    waiting = {"state": ItemState.WAITING, "total": 4 * KiB, "message": "pid 7 is downloading good.pt"}
    report(item(**waiting, done=KiB))
    report(item(**waiting, done=KiB))  # said once
    clock.now = 4.9
    report(item(**waiting, done=2 * KiB))
    clock.now = 5.0
    report(item(**waiting, done=3 * KiB))
    report(item(state=ItemState.WAITING, key="/m/b.pt", ids=("b",), done=KiB))  # no words yet: nothing
    clock.now = 10.0
    report(item(**{**waiting, "total": None}, done=3 * KiB))
    assert screen.getvalue().splitlines() == [
        "pid 7 is downloading good.pt; waiting…",
        "good: the other process has 75 %, 3.0 KiB of 4.0 KiB",
        "good: the other process has 3.0 KiB",
    ]
