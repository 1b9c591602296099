"""Fixtures of the engine's tests: a folder on another volume, and queues over the loopback server."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue
from ofa_manager.core.transfer_options import TransferOptions
from tests.catalogs import entry, load, other_volume, write_catalog
from tests.queues import FAST, Recorder


@pytest.fixture
def elsewhere(tmp_path):
    """An empty folder on another volume, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ofa-move-", dir=other_volume(tmp_path)))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def make_queue(tmp_path, models_dir, http_server):
    """Builds a library over routes on the test server and a queue; the queue is shut down afterwards."""
    queues = []

    def make(
        routes: dict[str, bytes],
        *,
        jobs: int = 2,
        options: TransferOptions = FAST,
        state_file=None,
        rate: int | None = None,
        library: Library | None = None,
        **faults,
    ):
        if library is None:
            for name, data in routes.items():
                http_server.add(f"/{name}.pt", data, rate=rate, **faults)
            catalog = write_catalog(
                tmp_path / "c.json", [entry(name, http_server.url(f"/{name}.pt")) for name in routes]
            )
            library = Library(models_dir, load(catalog))
        recorder = Recorder()
        queue = DownloadQueue(library, options, jobs=jobs, state_file=state_file, on_event=recorder)
        queues.append(queue)
        return queue, library, recorder

    yield make
    for queue in queues:
        queue.shutdown()
