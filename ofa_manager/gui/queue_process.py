"""The download queue for the window, run in a process of its own and driven over pipes (no Qt here).

At full speed a transfer keeps a dozen threads busy; in the window's own interpreter they would take the
interpreter lock from the GUI thread for hundreds of milliseconds at a time. In a child process they
cannot. The child reads one JSON command per line on stdin and writes one JSON event per line on stdout.
``LocalQueue`` offers the same commands in-process, for builds that cannot start a Python child.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ofa_manager.core.catalog import Checkpoint, load_catalog
from ofa_manager.core.credentials import TokenCache, host_of
from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue, ItemState, QueueEvent, QueueItem
from ofa_manager.core.settings import Settings
from ofa_manager.core.transfer import RateLimiter, TransferOptions

# Set in the environment of the frozen app's executable when it is to run as the download process.
QUEUE_PROCESS_ENV = "OFA_MANAGER_QUEUE_PROCESS"
# Downloads yield the processor to the window: the one a user is looking at must not stutter.
NICENESS = 10
ENGINE_SETTINGS = ("jobs", "connections", "limit_rate", "timeout", "retries", "rewrite_rules")
# Commands the child takes by name, besides start, restore, download, add, configure and tokens.
PLAIN_COMMANDS = frozenset(
    {"pause", "resume", "retry", "cancel", "move", "pause_all", "resume_all", "cancel_all", "clear_finished"}
)


class SessionTokens(TokenCache):
    """Tokens handed over in this session (from the settings dialog) first, then the keyring's."""

    def __init__(self) -> None:
        super().__init__()
        self._given: dict[str, str | None] = {}

    def give(self, tokens: dict[str, str | None]) -> None:
        """Tokens per host; None means the host's token was removed."""
        self._given.update({host.lower(): token for host, token in tokens.items()})

    def token_for(self, url: str) -> str | None:
        host = host_of(url)
        if host in self._given:
            return self._given[host]
        return super().token_for(url)


def engine_settings(settings: Settings) -> dict:
    values = dataclasses.asdict(settings.validated())
    return {name: values[name] for name in ENGINE_SETTINGS}


def item_to_dict(item: QueueItem) -> dict:
    data = dataclasses.asdict(item)
    data["state"] = item.state.value
    return data


def item_from_dict(data: dict) -> QueueItem:
    return QueueItem(**{**data, "entry_ids": tuple(data["entry_ids"]), "state": ItemState(data["state"])})


class LocalQueue:
    """The window's commands on a DownloadQueue in this process."""

    def __init__(
        self, library: Library, state_file: Path, settings: Settings, on_event: Callable[[QueueEvent], None]
    ) -> None:
        values = engine_settings(settings)
        self.options = TransferOptions()
        self.limiter = RateLimiter(0)
        self.tokens = SessionTokens()
        self.queue = DownloadQueue(
            library,
            self.options,
            limiter=self.limiter,
            tokens=self.tokens,
            state_file=state_file,
            on_event=on_event,
        )
        self.configure(values)

    def start(self, *, resume: bool) -> None:
        self.queue.restore(resume=resume)

    def download(self, entries: Iterable[Checkpoint]) -> list[str]:
        """Queue the files, and resume the ones that were paused or had failed."""
        keys = self.queue.add(entries)
        for key in keys:
            item = self.queue.get(key)
            if item is not None and item.state in (ItemState.PAUSED, ItemState.FAILED):
                self.queue.resume(key)
        return keys

    def add(self, entries: Iterable[Checkpoint], *, paused: bool = False) -> list[str]:
        return self.queue.add(entries, paused=paused)

    def pause(self, key: str) -> None:
        self.queue.pause(key)

    def resume(self, key: str) -> None:
        self.queue.resume(key)

    retry = resume

    def cancel(self, key: str) -> None:
        self.queue.cancel(key)

    def move(self, key: str, delta: int) -> None:
        self.queue.move(key, delta)

    def pause_all(self) -> None:
        self.queue.pause_all()

    def resume_all(self) -> None:
        self.queue.resume_all()

    def cancel_all(self) -> None:
        self.queue.cancel_all()

    def clear_finished(self) -> None:
        self.queue.clear_finished()

    def configure(self, values: dict) -> None:
        """New limits and rules; running transfers keep theirs, the next ones use these."""
        self.options.connections = values["connections"]
        self.options.retries = values["retries"]
        self.options.timeout = values["timeout"]
        self.options.rewrite_rules = [(a, b) for a, b in values["rewrite_rules"]]
        self.limiter.set_rate(values["limit_rate"])
        self.queue.set_jobs(values["jobs"])

    def give_tokens(self, tokens: dict[str, str | None]) -> None:
        self.tokens.give(tokens)

    def shutdown(self, timeout: float = 10.0) -> bool:
        self.queue.shutdown(timeout)
        return True


class QueueProcess:
    """The same commands, sent to a child process that runs the queue; its events come back on a thread.

    ``on_event`` gets each QueueEvent, and ``on_exit`` the exit code when the child ends, both from the
    reader thread.
    """

    def __init__(
        self,
        library: Library,
        catalog_files: list[Path],
        state_file: Path,
        settings: Settings,
        on_event: Callable[[QueueEvent], None],
        on_exit: Callable[[int | None], None],
    ) -> None:
        self.library = library
        self.on_event = on_event
        self.on_exit = on_exit
        self._lock = threading.Lock()
        self._stopping = False
        if getattr(sys, "frozen", False):
            # The frozen app's executable is the launcher: this variable makes it the download process.
            command = [sys.executable]
            env = dict(os.environ, **{QUEUE_PROCESS_ENV: "1"})
        else:
            command = [sys.executable, "-m", "ofa_manager.gui.queue_process"]
            package_parent = str(Path(__file__).resolve().parent.parent.parent)
            env = dict(
                os.environ,
                PYTHONPATH=os.pathsep.join([package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]),
            )
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env=env,
            creationflags=getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0),
        )
        self.reader = threading.Thread(target=self._read, name="ofa-queue-reader", daemon=True)
        self.reader.start()
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

    retry = resume

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
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(max(0.1, deadline - time.monotonic()))
        return not self.reader.is_alive()

    def _send(self, op: str, **fields) -> None:
        line = json.dumps({"op": op, **fields}) + "\n"
        with self._lock:
            try:
                self.process.stdin.write(line)
                self.process.stdin.flush()
            except (OSError, ValueError):
                pass  # the child is gone; the reader reports its exit

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "event" in message:
                item = item_from_dict(message["item"]) if message.get("item") else None
                self.on_event(QueueEvent(message["event"], message["key"], item, message.get("index", -1)))
        code = self.process.wait()
        try:
            self.process.stdin.close()
        except OSError:
            pass
        self.process.stdout.close()
        if not self._stopping:
            self.on_exit(code)


def serve(commands, events) -> int:
    """The child's loop: commands from ``commands`` (lines), events to ``events``, until shutdown or EOF."""
    lock = threading.Lock()

    def send(message: dict) -> None:
        with lock:
            events.write(json.dumps(message) + "\n")
            events.flush()

    def forward(event: QueueEvent) -> None:
        send(
            {
                "event": event.kind,
                "key": event.key,
                "index": event.index,
                "item": item_to_dict(event.item) if event.item else None,
            }
        )

    local: LocalQueue | None = None
    catalog = None
    for line in commands:
        message = json.loads(line)
        op = message.pop("op")
        try:
            if op == "start":
                catalog = load_catalog(message["catalogs"] or None)
                library = Library(message["root"], catalog)
                local = LocalQueue(
                    library, Path(message["state_file"]), Settings(**message["settings"]), forward
                )
            elif op == "shutdown":
                break
            elif op in ("download", "add"):
                entries = [catalog.get(i) for i in message.pop("ids") if i in catalog]
                getattr(local, op)(entries, **message)
            elif op == "restore":
                local.start(resume=message["resume"])
            elif op == "configure":
                local.configure(message["settings"])
            elif op == "tokens":
                local.give_tokens(message["tokens"])
            elif op in PLAIN_COMMANDS:
                getattr(local, op)(**message)
            else:
                raise ValueError("unknown command")
        except Exception as exc:  # a bad command must not take the downloads down with it
            print(f"ofa-manager queue process: {op}: {exc!r}", file=sys.stderr)
    if local is not None:
        local.shutdown()
    return 0


def main() -> int:
    # Ctrl+C in a terminal reaches this process too: the window decides when downloads stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    events = sys.stdout
    # Anything printed by accident must not end up in the event stream.
    sys.stdout = sys.stderr
    return serve(sys.stdin, events)


if __name__ == "__main__":
    sys.exit(main())
