"""The pipe to the download process: bad lines dropped and counted, the version handshake, the heartbeat,
the private event pipe, a reader that stops or dies, and the restart budget."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.library import Library
from ofa_manager.core.protocol import (
    EVENT_FD_ENV,
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    Dropped,
    Inbound,
    Message,
    decode_command,
    decode_event,
    encode_command,
    encode_event,
    encode_queue_event,
    item_fields,
)
from ofa_manager.core.queue import ItemState, QueueEvent, QueueItem
from ofa_manager.core.settings import Settings
from ofa_manager.gui.queue_process import (
    EXIT_INCOMPATIBLE,
    ChildExit,
    EventWriter,
    ExitReason,
    QueueProcess,
    RestartBudget,
    engine_settings,
)
from tests.catalogs import cli_env, entry, payload, wait_for, write_catalog

KiB = 1024
MiB = 1024 * 1024
WAIT_S = 30.0

ITEM = QueueItem(
    key="/models/ofa-tiny.pt",
    entry_ids=("ofa-tiny",),
    title="OFA-Tiny",
    state=ItemState.DOWNLOADING,
    done=1024,
    total=4096,
    speed=512.0,
    eta=6.0,
    connections=2,
    message="",
)


def line(data) -> bytes:
    return json.dumps(data).encode() + b"\n"


def changed_line(**item_changes) -> dict:
    fields = {**item_fields(ITEM), **item_changes}
    return {"event": "changed", "key": fields["key"], "index": 0, "item": fields}


# Lines that are not valid events, each with a word of the reason it is dropped for.
BAD_EVENT_LINES = [
    (b"not json at all\n", "not JSON"),
    (b"\n", "not JSON"),
    (b"[1, 2, 3]\n", "not a JSON object"),
    (b'"a string"\n', "not a JSON object"),
    (b'{"event": 5, "key": "k"}\n', "no 'event'"),
    (b'{"key": "k", "index": 0}\n', "no 'event'"),
    (line({"event": "teleported", "key": "k"}), "unknown event"),
    (line({"event": "changed", "key": 7, "index": 0, "item": item_fields(ITEM)}), "'key' is not a string"),
    (line({**changed_line(done="1024")}), "'done' is not an integer"),
    (line({**changed_line(done=True)}), "'done' is not an integer"),
    (line({**changed_line(state="exploded")}), "'state' is not a known item state"),
    (line({**changed_line(entry_ids="ofa-tiny")}), "'entry_ids' is not a list"),
    (line({**changed_line(key="/elsewhere.pt"), "key": ITEM.key}), "the item's key is not the event's key"),
    (line({"event": "changed", "key": ITEM.key, "index": 0, "item": None}), "'item' is not an object"),
    (line({"event": "added", "key": ITEM.key, "item": item_fields(ITEM)}), "'index' is missing"),
    (b'{"event": "heartbeat", "dropped": NaN}\n', "not JSON"),
    (b'{"event": "changed", "item": {"speed": Infinity}}\n', "not JSON"),
    (b"\xff\xfe\xfd\n", "not UTF-8"),
    (b'{"event": "heartbeat", "dropped": "\xc3\x28"}\n', "not UTF-8"),
    (b"[" * 200_000 + b"\n", "not JSON"),
]

BAD_COMMAND_LINES = [
    (b"pause everything\n", "not JSON"),
    (b"[]\n", "not a JSON object"),
    (line({"op": "format_disk"}), "unknown op"),
    (line({"op": "pause"}), "'key' is missing"),
    (line({"op": "pause", "key": ["a"]}), "'key' is not a string"),
    (line({"op": "move", "key": "k", "delta": 1.5}), "'delta' is not an integer"),
    (line({"op": "add", "ids": ["a", 3], "paused": False}), "'ids' is not a string"),
    (line({"op": "restore", "resume": "yes"}), "'resume' is not true or false"),
    (line({"op": "tokens", "tokens": {"host": 5}}), "'tokens' is not an object of host to token"),
    (line({"op": "configure", "settings": {"jobs": 2}}), "'connections' is missing"),
    (line({"op": "hello", "version": "1", "heartbeat": 2}), "'version' is not an integer"),
    (b"\xc0\xaf\n", "not UTF-8"),
]


# -- the decoders ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "reason"), BAD_EVENT_LINES, ids=range(len(BAD_EVENT_LINES)))
def test_the_window_drops_each_bad_event_line_with_its_reason(raw, reason):
    result = decode_event(raw)
    assert isinstance(result, Dropped), result
    assert reason in result.reason


@pytest.mark.parametrize(("raw", "reason"), BAD_COMMAND_LINES, ids=range(len(BAD_COMMAND_LINES)))
def test_the_download_process_drops_each_bad_command_line_with_its_reason(raw, reason):
    result = decode_command(raw)
    assert isinstance(result, Dropped), result
    assert reason in result.reason


def test_a_queue_event_goes_through_the_pipe_unchanged():
    for kind in ("added", "changed", "removed", "moved"):
        event = QueueEvent(kind, ITEM.key, ITEM, 3)
        decoded = decode_event(encode_queue_event(event))
        assert isinstance(decoded, Message)
        assert decoded.event == event
    removed = decode_event(encode_queue_event(QueueEvent("removed", ITEM.key, None, -1)))
    assert removed.event == QueueEvent("removed", ITEM.key, None, -1)


def test_unknown_fields_are_ignored_on_both_sides():
    fields = {**item_fields(ITEM), "colour": "blue", "done": 2048}
    event = decode_event(
        line({"event": "changed", "key": ITEM.key, "index": 0, "item": fields, "extra": [1]})
    )
    assert isinstance(event, Message)
    assert event.event.item.done == 2048 and not hasattr(event.event.item, "colour")
    assert "extra" not in event.fields
    command = decode_command(line({"op": "pause", "key": "k", "priority": "high"}))
    assert isinstance(command, Message) and command.fields == {"key": "k"}
    settings = engine_settings(Settings())
    configure = decode_command(line({"op": "configure", "settings": {**settings, "theme": "dark"}}))
    assert isinstance(configure, Message) and configure["settings"] == settings


def test_a_hello_from_any_version_decodes_so_a_mismatch_can_be_named():
    hello = decode_event(line({"event": "hello", "version": 99, "features": ["x"]}))
    assert isinstance(hello, Message) and hello["version"] == 99


def test_neither_end_sends_what_the_other_would_drop():
    with pytest.raises(ValueError, match="'key' is not a string"):
        encode_command("pause", key=3)
    with pytest.raises(ValueError):
        encode_event("heartbeat", dropped=float("nan"))
    assert isinstance(
        decode_command(encode_command("hello", version=PROTOCOL_VERSION, heartbeat=2.0)), Message
    )


def test_the_line_reader_counts_bad_lines_and_skips_a_huge_one_to_its_end():
    good = [encode_event("hello", version=1), encode_queue_event(QueueEvent("changed", ITEM.key, ITEM, 0))]
    huge = b'{"event": "heartbeat", "dropped": 0, "pad": "' + b"x" * (3 * 4096) + b'"}\n'
    stream = io.BytesIO(
        b"".join(raw for raw, _ in BAD_EVENT_LINES[:5]) + good[0] + huge + good[1] + b"\xff\n" + b"\n"
    )
    inbound = Inbound(decode_event, "test", max_bytes=4096)
    messages = list(inbound.messages(stream))
    assert [m.kind for m in messages] == ["hello", "changed"]
    assert messages[1].event.item == ITEM
    assert inbound.dropped == 5 + 1 + 2
    assert inbound.reasons["line longer than 4096 bytes"] == 1
    assert inbound.reasons["not UTF-8"] == 1


def test_the_restart_budget_refills_over_time():
    now = [1000.0]
    budget = RestartBudget(3, 600.0, clock=lambda: now[0])
    assert [budget.take() for _ in range(3)] == [True, True, True]
    assert budget.take() is False
    now[0] += 300
    assert budget.take() is False
    now[0] += 300
    # Ten minutes after the first three, the budget is whole again.
    assert [budget.take() for _ in range(4)] == [True, True, True, False]


# -- the real download process, driven over its pipes as the window would ----------------------------


class Child:
    """The real download process, with the test at the window's end of both pipes."""

    def __init__(self, tmp_path: Path, *, fill_pipe: bool = False) -> None:
        read_fd, write_fd = os.pipe()
        self.filled = fill(write_fd) if fill_pipe else 0
        self.stderr_path = tmp_path / "child-stderr.txt"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ofa_manager.gui.queue_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(write_fd,),
                env=cli_env(**{EVENT_FD_ENV: str(write_fd)}),
            )
        os.close(write_fd)
        self.events = os.fdopen(read_fd, "rb")
        self.inbound = Inbound(decode_event, "test")
        self.messages: list[Message] = []
        self.reader: threading.Thread | None = None

    def send(self, raw: bytes) -> None:
        self.process.stdin.write(raw)
        self.process.stdin.flush()

    def command(self, op: str, **fields) -> None:
        self.send(encode_command(op, **fields))

    def start_reading(self) -> None:
        def read() -> None:
            for message in self.inbound.messages(self.events):
                self.messages.append(message)

        self.reader = threading.Thread(target=read, name="test-event-reader", daemon=True)
        self.reader.start()

    def states(self, key: str) -> list[ItemState]:
        return [
            m.event.item.state for m in list(self.messages) if m.event and m.event.key == key and m.event.item
        ]

    def heartbeats(self) -> list[int]:
        return [m["dropped"] for m in list(self.messages) if m.kind == "heartbeat"]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> int:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            code = self.process.wait(WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self.reader is not None:
            self.reader.join(WAIT_S)
        self.events.close()
        return code


def fill(fd: int) -> int:
    """Fill a pipe until a write would block, as a window that stopped reading leaves it."""
    os.set_blocking(fd, False)
    written = 0
    try:
        while True:
            written += os.write(fd, b"\n" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(fd, True)
    return written


@pytest.fixture
def one_file(http_server, tmp_path, models_dir):
    """A catalog of one 1 MiB checkpoint on the loopback server; returns (catalog file, data, final path)."""
    data = payload(MiB, seed=6)
    http_server.add("/checkpoints/ofa-tiny.pt", data, rate=512 * KiB)
    url = http_server.url("/checkpoints/ofa-tiny.pt")
    catalog = write_catalog(tmp_path / "catalog.json", [entry("ofa-tiny", url, size=len(data))])
    return catalog, data, models_dir / "ofa-tiny.pt"


def start_commands(child: Child, catalog: Path, models_dir: Path, tmp_path: Path) -> None:
    child.command(
        "start",
        root=str(models_dir),
        catalogs=[str(catalog)],
        state_file=str(tmp_path / "queue.json"),
        settings=engine_settings(Settings(connections=2)),
    )
    child.command("restore", resume=True)
    child.command("download", ids=["ofa-tiny"])


def test_the_download_process_drops_bad_commands_counts_them_and_downloads(tmp_path, models_dir, one_file):
    catalog, data, final = one_file
    child = Child(tmp_path)
    try:
        child.start_reading()
        junk = [raw for raw, _ in BAD_COMMAND_LINES] + [b"x" * (MAX_LINE_BYTES + 10) + b"\n"]
        child.send(junk[0])  # before the hello, too
        child.command("hello", version=PROTOCOL_VERSION, heartbeat=0.05)
        for raw in junk[1:]:
            child.send(raw)
        start_commands(child, catalog, models_dir, tmp_path)
        wait_for(lambda: ItemState.DONE in child.states(str(final)), what="the download")
        assert final.read_bytes() == data
        # The heartbeat carries the process's count of dropped commands.
        wait_for(lambda: len(junk) in child.heartbeats(), what="a heartbeat with the count")
        assert child.messages[0].kind == "hello" and child.messages[0]["version"] == PROTOCOL_VERSION
        assert child.inbound.dropped == 0
        assert child.process.poll() is None
        child.command("shutdown")
        assert child.close() == 0
    finally:
        child.close()
    assert "dropped a bad line" in child.stderr()


def test_the_download_process_refuses_a_window_of_another_protocol_version(tmp_path):
    child = Child(tmp_path)
    try:
        child.start_reading()
        child.command("hello", version=PROTOCOL_VERSION + 1, heartbeat=2.0)
        assert child.process.wait(WAIT_S) == EXIT_INCOMPATIBLE
    finally:
        child.close()
    assert child.messages and child.messages[0]["version"] == PROTOCOL_VERSION
    assert f"protocol version {PROTOCOL_VERSION + 1}" in child.stderr()


def test_a_window_that_stops_reading_does_not_freeze_the_downloads(tmp_path, models_dir, one_file):
    # The pipe is full before the process writes a byte: every write it makes would block.
    catalog, data, final = one_file
    child = Child(tmp_path, fill_pipe=True)
    try:
        child.command("hello", version=PROTOCOL_VERSION, heartbeat=0.05)
        start_commands(child, catalog, models_dir, tmp_path)
        wait_for(lambda: final.exists(), what="the download while nobody reads")
        assert final.read_bytes() == data
        assert child.process.poll() is None
        # Now the window reads again: what waited arrives, progress coalesced, the end kept.
        child.start_reading()
        wait_for(lambda: ItemState.DONE in child.states(str(final)), what="the waiting events")
        states = child.states(str(final))
        assert states[0] is ItemState.QUEUED and states[-1] is ItemState.DONE
        # About ten progress events were made; the ones that waited behind the full pipe came out as
        # one. (The batch the writer took before it blocked may hold one more of the same state.)
        repeats = sum(a is b for a, b in zip(states, states[1:], strict=False))
        assert repeats <= 1, states
        assert child.inbound.dropped == child.filled  # the blank lines the test filled the pipe with
        child.command("shutdown")
        assert child.close() == 0
    finally:
        child.close()


def test_the_download_process_ends_when_its_reader_is_gone(tmp_path, models_dir, one_file):
    catalog, _, _ = one_file
    child = Child(tmp_path)
    try:
        child.command("hello", version=PROTOCOL_VERSION, heartbeat=0.05)
        start_commands(child, catalog, models_dir, tmp_path)
        first = child.events.readline()
        assert decode_event(first).kind == "hello"
        child.events.close()
        # Its stdin stays open: only the broken event pipe tells it the window is gone.
        assert child.process.wait(WAIT_S) == 0
    finally:
        child.close()
    # It saved the queue on the way out, so the next window resumes the download.
    saved = json.loads((tmp_path / "queue.json").read_text())
    assert [row["entry_ids"] for row in saved["items"]] == [["ofa-tiny"]]


def test_past_its_limit_the_event_buffer_drops_progress_but_never_an_end(tmp_path):
    read_fd, write_fd = os.pipe()
    filled = fill(write_fd)
    events = os.fdopen(read_fd, "rb")
    stream = os.fdopen(write_fd, "wb")
    writer = EventWriter(stream, on_broken=lambda: None, max_pending=3)
    inbound = Inbound(decode_event, "test")
    received: list[Message] = []
    try:
        writer.send_line(encode_event("hello", version=PROTOCOL_VERSION))
        wait_for(lambda: writer.pending == 0, what="the writer blocking on the full pipe")
        items = {name: dataclasses.replace(ITEM, key=name, state=ItemState.QUEUED) for name in "abc"}
        for name in "abc":
            writer.put(QueueEvent("added", name, items[name], 0))
        progress = dataclasses.replace(items["a"], state=ItemState.DOWNLOADING)
        done = dataclasses.replace(items["b"], state=ItemState.DONE)
        failed = dataclasses.replace(items["c"], state=ItemState.FAILED, error="404 Not Found")
        writer.put(QueueEvent("changed", "a", progress, 0))
        writer.put(QueueEvent("changed", "b", done, 1))
        writer.put(QueueEvent("changed", "c", failed, 2))
        writer.put(QueueEvent("removed", "a", progress, -1))
        overflowed, pending = writer.overflowed, writer.pending
        # The window reads again: everything waiting goes out, then the writer stops and the pipe ends.
        reader = threading.Thread(target=lambda: received.extend(inbound.messages(events)), daemon=True)
        reader.start()
        writer.close(WAIT_S)
        stream.close()
        reader.join(WAIT_S)
    finally:
        events.close()  # first: a writer still blocked on the full pipe fails and ends
        writer.close()
        with contextlib.suppress(OSError):
            stream.close()
    assert (overflowed, pending) == (1, 6)
    assert inbound.dropped == filled
    assert received[0].kind == "hello"
    assert [m.event for m in received[1:]] == [
        QueueEvent("added", "a", items["a"], 0),
        QueueEvent("added", "b", items["b"], 0),
        QueueEvent("added", "c", items["c"], 0),
        QueueEvent("changed", "b", done, 1),
        QueueEvent("changed", "c", failed, 2),
        QueueEvent("removed", "a", progress, -1),
    ]


# -- the window's end: QueueProcess with the real child, and with fake ones -------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[QueueEvent] = []
        self.exits: list[ChildExit] = []

    def on_event(self, event: QueueEvent) -> None:
        self.events.append(event)

    def on_exit(self, ended: ChildExit) -> None:
        self.exits.append(ended)


# Writes the lines of the file named by argv[1] to its event pipe, then: "beat" (heartbeats until its
# stdin closes), "close" (closes the event pipe and lives on), "silent" (lives on, saying nothing) or
# "exit" (exits).
FAKE_CHILD = r"""
import os, sys, threading, time
events = os.fdopen(int(os.environ["OFA_MANAGER_EVENT_FD"]), "wb")
with open(sys.argv[1], "rb") as lines:
    events.write(lines.read())
events.flush()
then = sys.argv[2]
if then == "beat":
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), done.set()), daemon=True).start()
    while not done.wait(0.05):
        try:
            events.write(b'{"event": "heartbeat", "dropped": 0}\n')
            events.flush()
        except OSError:
            break
elif then == "close":
    events.close()
    time.sleep(600)
elif then == "silent":
    time.sleep(600)
"""


def fake_child(tmp_path: Path, lines: list[bytes], then: str) -> list[str]:
    script = tmp_path / "fake_child_lines"
    script.write_bytes(b"".join(lines))
    return [sys.executable, "-c", FAKE_CHILD, str(script), then]


def queue_process(
    tmp_path: Path, models_dir: Path, recorder: Recorder, catalog: Path | None = None, **options
) -> QueueProcess:
    if catalog is None:
        catalog = write_catalog(tmp_path / "catalog.json", [entry("ofa-tiny", "http://127.0.0.1:9/x.pt")])
    library = Library(models_dir, load_catalog([catalog]))
    return QueueProcess(
        library,
        [catalog],
        tmp_path / "queue.json",
        Settings(connections=2),
        on_event=recorder.on_event,
        on_exit=recorder.on_exit,
        **options,
    )


def test_the_window_drops_junk_from_the_child_counts_it_and_keeps_it(tmp_path, models_dir):
    added = QueueEvent("added", ITEM.key, ITEM, 0)
    with_extras = json.loads(encode_queue_event(QueueEvent("changed", ITEM.key, ITEM, 0)))
    with_extras["sent_at"] = 12.5
    with_extras["item"]["colour"] = "blue"
    junk = [encode_queue_event(added)]  # before the hello: dropped
    junk += [raw for raw, _ in BAD_EVENT_LINES] + [b"y" * (2 * MAX_LINE_BYTES) + b"\n"]
    lines = [junk[0], encode_event("hello", version=PROTOCOL_VERSION), *junk[1:]]
    lines += [encode_queue_event(added), line(with_extras)]
    recorder = Recorder()
    process = queue_process(tmp_path, models_dir, recorder, command=fake_child(tmp_path, lines, "beat"))
    try:
        wait_for(lambda: len(recorder.events) == 2, what="the two good events")
        assert recorder.events == [added, QueueEvent("changed", ITEM.key, ITEM, 0)]
        assert process.inbound.dropped == len(junk)
        assert process.inbound.reasons[f"line longer than {MAX_LINE_BYTES} bytes"] == 1
        assert process.inbound.reasons["added before hello"] == 1
        assert process.process.poll() is None and recorder.exits == []
    finally:
        assert process.shutdown(WAIT_S)
    assert process.process.returncode == 0 and recorder.exits == []


def test_a_child_that_closes_its_event_pipe_is_killed_and_reported(tmp_path, models_dir):
    recorder = Recorder()
    lines = [encode_event("hello", version=PROTOCOL_VERSION)]
    process = queue_process(tmp_path, models_dir, recorder, command=fake_child(tmp_path, lines, "close"))
    try:
        wait_for(lambda: recorder.exits, what="the exit event")
        assert recorder.exits[0].reason is ExitReason.PIPE_CLOSED
        assert process.process.poll() is not None
    finally:
        process.shutdown(WAIT_S)


def test_a_reader_that_dies_becomes_an_exit_event(tmp_path, models_dir):
    recorder = Recorder()

    def broken_listener(event) -> None:
        raise RuntimeError("the listener broke")

    recorder.on_event = broken_listener
    lines = [
        encode_event("hello", version=PROTOCOL_VERSION),
        encode_queue_event(QueueEvent("added", ITEM.key, ITEM, 0)),
    ]
    process = queue_process(tmp_path, models_dir, recorder, command=fake_child(tmp_path, lines, "beat"))
    try:
        wait_for(lambda: recorder.exits, what="the exit event")
        assert recorder.exits[0].reason is ExitReason.READER_FAILED
        assert "the listener broke" in recorder.exits[0].detail
        assert process.process.poll() is not None
    finally:
        process.shutdown(WAIT_S)


def test_a_silent_child_is_killed_as_not_responding(tmp_path, models_dir):
    recorder = Recorder()
    lines = [encode_event("hello", version=PROTOCOL_VERSION)]
    process = queue_process(
        tmp_path,
        models_dir,
        recorder,
        command=fake_child(tmp_path, lines, "silent"),
        heartbeat=0.1,
        not_responding_after=0.5,
    )
    try:
        wait_for(lambda: recorder.exits, what="the exit event")
        ended = recorder.exits[0]
        assert ended.reason is ExitReason.NOT_RESPONDING and ended.silent > 0.5
        assert process.process.poll() is not None
    finally:
        process.shutdown(WAIT_S)


def test_a_child_of_another_protocol_version_is_refused(tmp_path, models_dir):
    recorder = Recorder()
    lines = [encode_event("hello", version=PROTOCOL_VERSION + 1)]
    process = queue_process(tmp_path, models_dir, recorder, command=fake_child(tmp_path, lines, "beat"))
    try:
        wait_for(lambda: recorder.exits, what="the exit event")
        assert recorder.exits[0].reason is ExitReason.INCOMPATIBLE
        assert recorder.exits[0].version == PROTOCOL_VERSION + 1
    finally:
        process.shutdown(WAIT_S)


PRINTING_CHILD = (
    "import os, sys; os.write(1, b'printed by a library\\n'); print('and by Python');"
    "from ofa_manager.gui.queue_process import main; sys.exit(main())"
)


def test_what_the_child_prints_never_reaches_the_event_stream(tmp_path, models_dir, one_file):
    catalog, data, final = one_file
    recorder = Recorder()
    process = queue_process(
        tmp_path,
        models_dir,
        recorder,
        catalog,
        command=[sys.executable, "-c", PRINTING_CHILD],
    )
    try:
        process.start(resume=True)
        process.download(process.library.catalog.entries)
        wait_for(
            lambda: any(e.item and e.item.state is ItemState.DONE for e in list(recorder.events)),
            what="the download",
        )
        assert final.read_bytes() == data
        assert process.inbound.dropped == 0 and process.child_dropped == 0
    finally:
        assert process.shutdown(WAIT_S)
    assert recorder.exits == []


# -- the window -------------------------------------------------------------------------------------


@pytest.fixture
def window_on(qtbot):
    """Opens a window on a workspace (timeouts set before its engine starts); closes it at the end."""
    pytest.importorskip("pytestqt")
    from ofa_manager.gui.window import MainWindow

    opened = []

    def open_(workspace):
        window = MainWindow(workspace)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        workspace.start()
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.close()
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate() if t.name.startswith("ofa-")], timeout=5000)


def workspace_for(catalog: Path, models_dir: Path, restart_budget=None, **options):
    from ofa_manager.gui.workspace import Workspace

    return Workspace(
        load_catalog([catalog]),
        Settings(connections=1),
        models_dir,
        process_options=options,
        restart_budget=restart_budget,
    )


@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
def test_a_stopped_download_process_is_marked_not_responding_and_restarted(
    qtbot, window_on, http_server, one_file, models_dir
):
    catalog, data, final = one_file
    route = http_server.route("/checkpoints/ofa-tiny.pt")
    route.rate = 64 * KiB
    workspace = workspace_for(catalog, models_dir, heartbeat=0.1, not_responding_after=1.0)
    window = window_on(workspace)
    window.download(list(workspace.catalog.entries))
    qtbot.waitUntil(
        lambda: any(i.state is ItemState.DOWNLOADING for i in workspace.store.items()), timeout=WAIT_S * 1000
    )
    first = workspace.process.queue.process
    os.kill(first.pid, signal.SIGSTOP)
    try:
        qtbot.waitUntil(lambda: workspace.process.queue.process is not first, timeout=WAIT_S * 1000)
        assert re.search(r"was not responding for \d+ s; restarted it$", window.message_label.text())
        assert first.wait(WAIT_S) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    route.rate = None
    qtbot.waitUntil(lambda: final.exists(), timeout=WAIT_S * 1000)
    assert final.read_bytes() == data


@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
def test_a_download_process_of_another_version_is_named_and_not_restarted(
    qtbot, window_on, tmp_path, models_dir, one_file
):
    catalog, _, _ = one_file
    lines = [encode_event("hello", version=PROTOCOL_VERSION + 1)]
    workspace = workspace_for(catalog, models_dir, command=fake_child(tmp_path, lines, "beat"))
    window = window_on(workspace)
    qtbot.waitUntil(lambda: workspace.process.queue is None, timeout=WAIT_S * 1000)
    assert window.message_label.text() == (
        f"The download process is from another version of ofa-manager (protocol {PROTOCOL_VERSION + 1}, "
        f"this window {PROTOCOL_VERSION}); reinstall ofa-manager"
    )


@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
def test_a_download_process_that_keeps_dying_is_restarted_within_the_budget(
    qtbot, window_on, tmp_path, models_dir, one_file
):
    catalog, _, _ = one_file
    lines = [encode_event("hello", version=PROTOCOL_VERSION)]
    # A child that says hello and exits at once (nothing left to run after its lines but "exit").
    now = [0.0]
    budget = RestartBudget(2, 600.0, clock=lambda: now[0])
    workspace = workspace_for(catalog, models_dir, budget, command=fake_child(tmp_path, lines, "exit"))
    messages = []
    workspace.store.message.connect(messages.append)
    window = window_on(workspace)
    qtbot.waitUntil(lambda: workspace.process.queue is None, timeout=WAIT_S * 1000)
    assert messages == ["The download process stopped (exit code 0); restarted it"] * 2 + [
        "The download process keeps stopping (exited, exit code 0); restart ofa-manager"
    ]
    assert window.message_label.text() == messages[-1]
    # Ten minutes later the budget has refilled: the next crash is restarted again.
    now[0] += 600
    workspace.bridge.exited(ChildExit(0, ExitReason.EXITED))
    qtbot.waitUntil(lambda: workspace.process.queue is not None, timeout=WAIT_S * 1000)
    assert messages[-1].endswith("restarted it")
