"""The download queue under test: an event recorder and quick transfer options (fixture: make_queue)."""

from __future__ import annotations

import threading
import time

from ofa_manager.core.queue import ItemState
from ofa_manager.core.transfer_options import TransferOptions

FAST = TransferOptions(backoff_base=0.01, retries=2, timeout=2.0, connect_timeout=2.0)


class Recorder:
    """Collects queue events (from worker threads) and answers questions about them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events = []
        self.active: set[str] = set()
        self.max_active = 0
        self.started: list[str] = []

    def __call__(self, event) -> None:
        with self.lock:
            self.events.append((time.monotonic(), event))
            if event.item is None:
                return
            key = event.item.key
            if event.kind == "changed" and event.item.state.active:
                if key not in self.started:
                    self.started.append(key)
                self.active.add(key)
            elif event.kind == "removed" or not event.item.state.active:
                self.active.discard(key)
            self.max_active = max(self.max_active, len(self.active))

    def changes(self, key: str) -> list:
        with self.lock:
            return [(t, e) for t, e in self.events if e.kind == "changed" and e.key == key]

    def states(self, key: str) -> list[ItemState]:
        return [e.item.state for _, e in self.changes(key)]
