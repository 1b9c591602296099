"""The download queue for the window, run in a process of its own and driven over pipes (no Qt here).

At full speed a transfer keeps a dozen threads busy; in the window's own interpreter they would take the
interpreter lock from the GUI thread for hundreds of milliseconds at a time. In a child process they
cannot. The child reads one command per line on stdin and writes one event per line to a pipe of its
own (see core/protocol.py for the messages and their checks). Each end says hello with its protocol
version; the child sends a heartbeat, and the window kills and restarts a child that falls silent.
``LocalQueue`` is the queue the child runs.

Both ends of the pipe live in this one file (≈670 lines), on purpose: the window's side
(``QueueProcess``, its watchdog and restart reasons) and the child's side (``serve``, ``EventWriter``)
change together whenever a message changes, and the child is started as ``python -m`` this module, a
name the frozen build and the restart tests rely on. The messages themselves are in core/protocol.py;
what the window does with the process (start, restart, close) is in gui/download_process.py.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, BinaryIO

from ofa_manager.core.catalog import Checkpoint, load_catalog
from ofa_manager.core.credentials import TokenCache
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.library import Library
from ofa_manager.core.protocol import (
    EVENT_FD_ENV,
    PROTOCOL_VERSION,
    Inbound,
    Message,
    decode_command,
    decode_event,
    encode_command,
    encode_event,
    encode_queue_event,
)
from ofa_manager.core.queue import DownloadQueue
from ofa_manager.core.settings import Settings
from ofa_manager.core.states import ItemState, QueueEvent, QueueEventKind
from ofa_manager.core.transfer_options import RateLimiter, TransferOptions

# Set in the environment of the frozen app's executable when it is to run as the download process.
QUEUE_PROCESS_ENV = "OFA_MANAGER_QUEUE_PROCESS"
# Downloads yield the processor to the window: the one a user is looking at must not stutter.
NICENESS = 10
ENGINE_SETTINGS = ("jobs", "connections", "limit_rate", "timeout", "retries", "rewrite_rules")
# Commands the child takes by name, besides start, restore, download, add, configure and tokens.
PLAIN_COMMANDS = frozenset(
    {"pause", "resume", "cancel", "move", "pause_all", "resume_all", "cancel_all", "clear_finished"}
)
# The child says it is alive this often when it has nothing else to say...
HEARTBEAT_S = 2.0
# ...and the window kills and restarts it after this long without a word.
NOT_RESPONDING_S = 10.0
# Its first word (hello) may take longer: it imports the engine first, on a machine that may be busy.
START_TIMEOUT_S = 30.0
# A child whose event pipe closed is given this long to exit by itself before it is killed.
EXIT_GRACE_S = 2.0
# Events waiting for a window that does not read: past this many, progress-only events are dropped.
MAX_PENDING_EVENTS = 10_000
# The child's exit code when the window speaks another protocol version.
EXIT_INCOMPATIBLE = 3

log = logging.getLogger("ofa_manager.pipe")


class SessionTokens(TokenCache):
    """Tokens handed over in this session (from the settings dialog) first, then the keyring's."""

    def __init__(self) -> None:
        super().__init__()
        self._given: dict[str, str | None] = {}

    def give(self, tokens: dict[str, str | None]) -> None:
        """Tokens per host; None means the host's token was removed."""
        self._given.update({normalise_host(host): token for host, token in tokens.items()})

    def token_for(self, url: str) -> str | None:
        host = normalise_host(url)
        if host in self._given:
            return self._given[host]
        return super().token_for(url)


def engine_settings(settings: Settings) -> dict:
    values = dataclasses.asdict(settings.validated())
    return {name: values[name] for name in ENGINE_SETTINGS}


class LocalQueue(DownloadQueue):
    """The queue the download process runs: a DownloadQueue that also takes the window's commands that
    are more than one queue call (start, download, configure, tokens).

    Tests may run it in the window's own process (``Workspace(queue_in_window=True)``); no build does.
    """

    def __init__(
        self, library: Library, state_file: Path, settings: Settings, on_event: Callable[[QueueEvent], None]
    ) -> None:
        self.session_tokens = SessionTokens()
        super().__init__(
            library,
            TransferOptions(),
            limiter=RateLimiter(0),
            tokens=self.session_tokens,
            state_file=state_file,
            on_event=on_event,
        )
        self.configure(engine_settings(settings))

    def start(self, *, resume: bool) -> None:
        self.restore(resume=resume)

    def download(self, entries: Iterable[Checkpoint]) -> list[str]:
        """Queue the files, and resume the ones that were paused or had failed."""
        keys = self.add(entries)
        for key in keys:
            item = self.get(key)
            if item is not None and item.state in (ItemState.PAUSED, ItemState.FAILED):
                self.resume(key)
        return keys

    def configure(self, values: dict) -> None:
        """New limits and rules; running transfers keep theirs, the next ones use these."""
        self.options.connections = values["connections"]
        self.options.retries = values["retries"]
        self.options.timeout = values["timeout"]
        self.options.rewrite_rules = [(a, b) for a, b in values["rewrite_rules"]]
        self.limiter.set_rate(values["limit_rate"])
        self.set_jobs(values["jobs"])

    def give_tokens(self, tokens: dict[str, str | None]) -> None:
        self.session_tokens.give(tokens)


class ExitReason(str, enum.Enum):
    """Why the download process ended without being asked to."""

    EXITED = "exited"  # it ended by itself (a crash, or killed from outside)
    NOT_RESPONDING = "not responding"  # silent for too long: killed
    INCOMPATIBLE = "incompatible"  # another protocol version: killed, and restarting would not help
    PIPE_CLOSED = "pipe closed"  # its event pipe closed while it ran on: killed
    READER_FAILED = "reader failed"  # handling one of its events raised: killed


@dataclasses.dataclass(frozen=True)
class ChildExit:
    """What ``on_exit`` gets: the exit code, why, and for a silent or incompatible child, the details."""

    code: int | None
    reason: ExitReason
    detail: str = ""
    silent: float = 0.0  # seconds without a word, for NOT_RESPONDING
    version: int | None = None  # the child's protocol version, for INCOMPATIBLE


class RestartBudget:
    """At most ``restarts`` restarts in any ``period`` seconds.

    A download process that crashes now and then is restarted every time, however long the window
    runs; one that crashes in a loop is not.
    """

    def __init__(
        self, restarts: int = 3, period: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.restarts = restarts
        self.period = period
        self.clock = clock
        self._taken: collections.deque[float] = collections.deque()

    def take(self) -> bool:
        """Use one restart; False when the budget is spent for now."""
        now = self.clock()
        while self._taken and now - self._taken[0] >= self.period:
            self._taken.popleft()
        if len(self._taken) >= self.restarts:
            return False
        self._taken.append(now)
        return True


class QueueProcess:
    """The same commands, sent to a child process that runs the queue; its events come back on a thread.

    ``on_event`` gets each QueueEvent, and ``on_exit`` a ``ChildExit`` when the child ends without being
    asked to, both from the reader thread. A child that says nothing for ``not_responding_after``
    seconds (``start_timeout`` before its hello) is killed and reported; so is one whose event pipe
    closes, or whose event makes ``on_event`` raise. Lines that fail the protocol's checks are dropped:
    ``inbound.dropped`` counts them here, ``child_dropped`` the child's count of bad commands.
    ``command`` replaces the child's command line (a test can start another program in its place).
    """

    def __init__(
        self,
        library: Library,
        catalog_files: list[Path],
        state_file: Path,
        settings: Settings,
        on_event: Callable[[QueueEvent], None],
        on_exit: Callable[[ChildExit], None],
        *,
        heartbeat: float = HEARTBEAT_S,
        not_responding_after: float = NOT_RESPONDING_S,
        start_timeout: float = START_TIMEOUT_S,
        command: list[str] | None = None,
    ) -> None:
        self.library = library
        self.on_event = on_event
        self.on_exit = on_exit
        self.heartbeat = heartbeat
        self.not_responding_after = not_responding_after
        self.start_timeout = start_timeout
        self.inbound = Inbound(decode_event, "window")
        self.child_dropped = 0
        self.greeted = False  # the child's hello arrived, with our version
        self.last_heard = time.monotonic()
        self._stopping = False
        self._verdict: ChildExit | None = None
        self._verdict_lock = threading.Lock()
        self._done = threading.Event()
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        if getattr(sys, "frozen", False):
            # The frozen app's executable is the launcher: this variable makes it the download process.
            default = [sys.executable]
            env = dict(os.environ, **{QUEUE_PROCESS_ENV: "1"})
        else:
            default = [sys.executable, "-m", "ofa_manager.gui.queue_process"]
            package_parent = str(Path(__file__).resolve().parent.parent.parent)
            env = dict(
                os.environ,
                PYTHONPATH=os.pathsep.join([package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]),
            )
        env.pop(EVENT_FD_ENV, None)
        # Events come back on a pipe of their own, so nothing the child (or a library in it) prints can
        # reach the stream; its stderr stays the window's, for diagnostics. Windows cannot hand a
        # descriptor to a child this way: there the events travel on its stdout.
        private = os.name == "posix"
        pass_fds: tuple[int, ...] = ()
        if private:
            read_fd, write_fd = os.pipe()
            env[EVENT_FD_ENV] = str(write_fd)
            pass_fds = (write_fd,)
        try:
            self.process = subprocess.Popen(
                command or default,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL if private else subprocess.PIPE,
                pass_fds=pass_fds,
                env=env,
                creationflags=getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0),
            )
        except BaseException:
            if private:
                os.close(read_fd)
            raise
        finally:
            if private:
                os.close(write_fd)
        if private:
            self._events: IO[bytes] = os.fdopen(read_fd, "rb")
        else:
            assert self.process.stdout is not None  # stdout=PIPE
            self._events = self.process.stdout
        self.reader = threading.Thread(target=self._read, name="ofa-queue-reader", daemon=True)
        self.sender = threading.Thread(target=self._write, name="ofa-queue-sender", daemon=True)
        self.watchdog = threading.Thread(target=self._watch, name="ofa-queue-watchdog", daemon=True)
        for thread in (self.reader, self.sender, self.watchdog):
            thread.start()
        self._send("hello", version=PROTOCOL_VERSION, heartbeat=heartbeat)
        self._send(
            "start",
            root=str(library.root),
            catalogs=[str(p) for p in catalog_files],
            state_file=str(state_file),
            settings=engine_settings(settings),
        )

    def start(self, *, resume: bool) -> None:
        self._send("restore", resume=resume)

    def download(self, entries: Iterable[Checkpoint]) -> list[str]:
        entries = list(entries)
        self._send("download", ids=[e.id for e in entries])
        return self._keys(entries)

    def add(self, entries: Iterable[Checkpoint], *, paused: bool = False) -> list[str]:
        entries = list(entries)
        self._send("add", ids=[e.id for e in entries], paused=paused)
        return self._keys(entries)

    def _keys(self, entries: list[Checkpoint]) -> list[str]:
        return list(dict.fromkeys(str(self.library.path(e)) for e in entries))

    def pause(self, key: str) -> None:
        self._send("pause", key=key)

    def resume(self, key: str) -> None:
        self._send("resume", key=key)

    def cancel(self, key: str) -> None:
        self._send("cancel", key=key)

    def move(self, key: str, delta: int) -> None:
        self._send("move", key=key, delta=delta)

    def pause_all(self) -> None:
        self._send("pause_all")

    def resume_all(self) -> None:
        self._send("resume_all")

    def cancel_all(self) -> None:
        self._send("cancel_all")

    def clear_finished(self) -> None:
        self._send("clear_finished")

    def configure(self, values: dict) -> None:
        self._send("configure", settings=values)

    def give_tokens(self, tokens: dict[str, str | None]) -> None:
        self._send("tokens", tokens=tokens)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Ask the child to stop its transfers and save the queue; kill it after ``timeout``."""
        self._stopping = True
        deadline = time.monotonic() + timeout
        self._send("shutdown")
        self._outbox.put(None)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._done.set()
        for thread in (self.reader, self.sender, self.watchdog):
            thread.join(max(0.1, deadline - time.monotonic()))
        return not any(t.is_alive() for t in (self.reader, self.sender, self.watchdog))

    def _send(self, op: str, **fields) -> None:
        # Written by a thread of its own: a child that stopped reading never blocks the window.
        self._outbox.put(encode_command(op, **fields))

    def _write(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None  # stdin=PIPE
        try:
            while (line := self._outbox.get()) is not None:
                stdin.write(line)
                stdin.flush()
        except (OSError, ValueError):
            pass  # the child is gone; the reader reports its exit
        finally:
            try:
                stdin.close()
            except (OSError, ValueError):
                pass

    def _condemn(self, verdict: ChildExit) -> None:
        """Kill the child for this reason (the first reason given wins)."""
        with self._verdict_lock:
            if self._verdict is not None or self._stopping:
                return
            self._verdict = verdict
        log.warning("download process %s: %s; killing it", verdict.reason.value, verdict.detail)
        try:
            self.process.kill()
        except OSError:
            pass

    def _watch(self) -> None:
        step = max(0.05, min(1.0, self.not_responding_after / 4))
        while not self._done.wait(step):
            limit = self.not_responding_after if self.greeted else self.start_timeout
            silent = time.monotonic() - self.last_heard
            if silent > limit:
                self._condemn(
                    ChildExit(
                        None, ExitReason.NOT_RESPONDING, f"no message for {silent:.1f} s", silent=silent
                    )
                )
                return

    def _handle(self, message: Message) -> bool:
        """One checked message from the child; False when the child is to be dropped."""
        if not self.greeted:
            if message.kind != "hello":
                self.inbound.drop(f"{message.kind} before hello")
                return True
            if message["version"] != PROTOCOL_VERSION:
                self._condemn(
                    ChildExit(
                        None,
                        ExitReason.INCOMPATIBLE,
                        f"it speaks protocol version {message['version']}, this window {PROTOCOL_VERSION}",
                        version=message["version"],
                    )
                )
                return False
            self.greeted = True
        self.last_heard = time.monotonic()
        if message.kind == "heartbeat":
            if message["dropped"] != self.child_dropped:
                log.warning("the download process dropped %d bad command(s)", message["dropped"])
            self.child_dropped = message["dropped"]
        elif message.event is not None:
            self.on_event(message.event)
        return True

    def _read(self) -> None:
        reason, detail = ExitReason.PIPE_CLOSED, ""
        try:
            for message in self.inbound.messages(self._events):
                if not self._handle(message):
                    break
        except Exception as exc:  # a reader must never die silently: it becomes the child's exit
            log.exception("reading the download process's events failed")
            reason, detail = ExitReason.READER_FAILED, repr(exc)
        self._done.set()
        if self._verdict is None and reason is ExitReason.PIPE_CLOSED and not self._stopping:
            # Its events ended: most often because it exited. One that lives on without them is useless.
            try:
                self.process.wait(EXIT_GRACE_S)
                reason = ExitReason.EXITED
            except subprocess.TimeoutExpired:
                detail = "its event pipe closed while it ran"
        if self._verdict is None and reason is not ExitReason.EXITED:
            self._condemn(ChildExit(None, reason, detail))
        code = self.process.wait()
        self._outbox.put(None)
        self._events.close()
        if self._stopping:
            return
        verdict = self._verdict or ChildExit(code, reason, detail)
        self.on_exit(dataclasses.replace(verdict, code=code))


class EventWriter:
    """The child's events, written to the pipe by a thread of their own.

    The queue calls ``put`` with its lock held, so ``put`` only appends to a buffer and never waits for
    the pipe: a window that stops reading never freezes the downloads. While the pipe is full, a
    file's progress coalesces (a ``changed`` event replaces the one still waiting for the same file if
    the state is the same); state changes and added, removed and moved events are kept. Past
    ``max_pending`` waiting events, ``changed`` events that do not finish a file are dropped
    (``overflowed`` counts them): the file's next event carries its whole state again. A failed write
    (the window is gone) calls ``on_broken`` once.
    """

    def __init__(
        self,
        stream: BinaryIO,
        on_broken: Callable[[], None],
        *,
        max_pending: int = MAX_PENDING_EVENTS,
    ) -> None:
        self._stream = stream
        self.on_broken = on_broken
        self.max_pending = max_pending
        self._cond = threading.Condition()
        self._pending: collections.deque[list] = collections.deque()  # [kind, QueueEvent or line]
        self._last: dict[str, list] = {}  # per file, its last waiting event
        self._beat: int | None = None  # a heartbeat to send, with the count of dropped commands
        self._closing = False
        self.broken = False
        self.overflowed = 0
        self.thread = threading.Thread(target=self._run, name="ofa-event-writer", daemon=True)
        self.thread.start()

    def put(self, event: QueueEvent) -> None:
        with self._cond:
            if self.broken or self._closing:
                return
            last = self._last.get(event.key)
            state = event.item.state if event.item is not None else None
            if (
                event.kind == QueueEventKind.CHANGED
                and last is not None
                and last[0] == "changed"
                and last[1].item.state is state
            ):
                last[1] = event
                return
            if (
                len(self._pending) >= self.max_pending
                and event.kind == QueueEventKind.CHANGED
                and state is not None
                and not state.finished
            ):
                self.overflowed += 1
                return
            slot = [event.kind, event]
            self._pending.append(slot)
            self._last[event.key] = slot
            self._cond.notify()

    def send_line(self, line: bytes) -> None:
        with self._cond:
            self._pending.append(["line", line])
            self._cond.notify()

    def beat(self, dropped: int) -> None:
        with self._cond:
            self._beat = dropped
            self._cond.notify()

    def close(self, timeout: float = 2.0) -> None:
        """Send what waits (for up to ``timeout``), then stop."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self.thread.join(timeout)

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def _run(self) -> None:
        reported = False
        while True:
            with self._cond:
                while not self._pending and self._beat is None and not self._closing:
                    self._cond.wait()
                if not self._pending and self._beat is None:
                    return
                batch = list(self._pending)
                self._pending.clear()
                self._last.clear()
                beat, self._beat = self._beat, None
                overflowed = self.overflowed
            if overflowed and not reported:
                print("ofa-manager queue process: the window stopped reading", file=sys.stderr)
                reported = True
            lines = []
            for kind, value in batch:
                try:
                    lines.append(value if kind == "line" else encode_queue_event(value))
                except ValueError as exc:
                    print(f"ofa-manager queue process: event not sent: {exc}", file=sys.stderr)
            if beat is not None:
                lines.append(encode_event("heartbeat", dropped=beat))
            try:
                self._stream.write(b"".join(lines))
                self._stream.flush()
            except (OSError, ValueError):
                with self._cond:
                    self.broken = True
                    self._pending.clear()
                    self._last.clear()
                self.on_broken()
                return


def _run_command(local: LocalQueue | None, catalog, message: Message, forward) -> tuple:
    """Carry out one checked command; returns the (maybe new) queue and catalog."""
    op, fields = message.kind, dict(message.fields)
    if op == "start":
        catalog = load_catalog(fields["catalogs"] or None)
        library = Library(fields["root"], catalog)
        local = LocalQueue(library, Path(fields["state_file"]), Settings(**fields["settings"]), forward)
        return local, catalog
    if local is None:
        raise ValueError("the queue is not started yet")
    if op in ("download", "add"):
        entries = [catalog.get(i) for i in fields.pop("ids") if i in catalog]
        getattr(local, op)(entries, **fields)
    elif op == "restore":
        local.start(resume=fields["resume"])
    elif op == "configure":
        # Numbers out of range are clamped here as in the window: a command is an input like a file.
        local.configure(engine_settings(Settings(**fields["settings"])))
    elif op == "tokens":
        local.give_tokens(fields["tokens"])
    elif op in PLAIN_COMMANDS:
        getattr(local, op)(**fields)
    else:
        raise ValueError("not a command here")
    return local, catalog


def serve(commands: BinaryIO, events: BinaryIO) -> int:
    """The child's loop: commands from ``commands``, events to ``events``, until shutdown or an end closes.

    Returns the exit code: 0, or EXIT_INCOMPATIBLE when the window speaks another protocol version.
    """
    inbox: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
    writer = EventWriter(events, on_broken=lambda: inbox.put(None))
    writer.send_line(encode_event("hello", version=PROTOCOL_VERSION))
    inbound = Inbound(decode_command, "download process")

    def read() -> None:
        try:
            for message in inbound.messages(commands):
                inbox.put(message)
        except Exception as exc:  # its end is the end of the commands, never a silent thread
            print(f"ofa-manager queue process: reading commands failed: {exc!r}", file=sys.stderr)
        inbox.put(None)

    threading.Thread(target=read, name="ofa-command-reader", daemon=True).start()
    hello = inbox.get()
    if hello is None:
        writer.close()
        return 0
    if hello.kind != "hello" or hello["version"] != PROTOCOL_VERSION:
        theirs = hello["version"] if hello.kind == "hello" else "unknown"
        print(
            f"ofa-manager queue process: the window speaks protocol version {theirs}, "
            f"this process {PROTOCOL_VERSION}",
            file=sys.stderr,
        )
        writer.close()
        return EXIT_INCOMPATIBLE
    interval = max(0.05, hello["heartbeat"])
    local: LocalQueue | None = None
    catalog = None
    # The heartbeat comes from this loop, the one that runs the commands: it proves the queue answers.
    next_beat = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= next_beat:
            writer.beat(inbound.dropped)
            next_beat = now + interval
        try:
            message = inbox.get(timeout=next_beat - now)
        except queue.Empty:
            continue
        if message is None or message.kind == "shutdown":
            break
        try:
            local, catalog = _run_command(local, catalog, message, writer.put)
        except Exception as exc:  # a bad command must not take the downloads down with it
            print(f"ofa-manager queue process: {message.kind}: {exc!r}", file=sys.stderr)
    if local is not None:
        local.shutdown()
    writer.close()
    return 0


def main() -> int:
    # Ctrl+C in a terminal reaches this process too: the window decides when downloads stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    fd = os.environ.pop(EVENT_FD_ENV, None)
    if fd is not None:
        try:
            number = int(fd)
            os.set_inheritable(number, False)
            events = os.fdopen(number, "wb")
        except (ValueError, OSError) as exc:
            print(f"ofa-manager queue process: no event pipe at {fd!r}: {exc}", file=sys.stderr)
            return 2
    else:
        events = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Anything printed by accident goes to stderr, never into the event stream.
    sys.stdout = sys.stderr
    # A reader of its own on stdin: the thread blocked in it when the process ends holds its lock, and
    # the interpreter aborts if it must close a stream whose lock another thread holds (sys.stdin's).
    commands = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    return serve(commands, events)


if __name__ == "__main__":
    sys.exit(main())
