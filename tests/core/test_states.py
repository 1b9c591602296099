"""The states module: standard library only, and its enums are what the pipe and the state file carry."""

from __future__ import annotations

import json
import subprocess
import sys

from ofa_manager.core.library import Library
from ofa_manager.core.protocol import Message, decode_event, encode_queue_event, item_fields
from ofa_manager.core.queue import DownloadQueue
from ofa_manager.core.states import (
    ACTIVE,
    CANCELLABLE,
    GOING,
    UNFINISHED,
    ErrorKind,
    ItemState,
    QueueEvent,
    QueueEventKind,
    QueueItem,
)
from ofa_manager.core.transfer_options import DownloadError
from tests.catalogs import cli_env, entry, load, write_catalog

ITEM = QueueItem(
    key="/models/x.pt",
    entry_ids=("x",),
    title="X",
    state=ItemState.FAILED,
    error="no space left",
    error_kind=ErrorKind.SPACE,
)


def test_the_states_module_loads_nothing_beyond_the_standard_library(tmp_path):
    code = """
import sys
before = set(sys.modules)
import ofa_manager.core.states
new = sorted(m.split(".")[0] for m in set(sys.modules) - before)
outside = sorted({m for m in new if m != "ofa_manager" and m not in sys.stdlib_module_names})
ours = sorted(m for m in set(sys.modules) - before if m.startswith("ofa_manager"))
print("OUTSIDE", outside)
print("OURS", ours)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "OUTSIDE []" in done.stdout
    assert "OURS ['ofa_manager', 'ofa_manager.core', 'ofa_manager.core.states']" in done.stdout


def test_the_state_sets_say_what_each_action_acts_on():
    assert ItemState.QUEUED in GOING and ItemState.PAUSED not in GOING
    assert ItemState.PAUSED in UNFINISHED and ItemState.FAILED not in UNFINISHED
    assert ItemState.FAILED in CANCELLABLE and ItemState.DONE not in CANCELLABLE
    assert all(state.active for state in ACTIVE) and not ItemState.QUEUED.active


def test_enums_print_and_serialise_as_their_words():
    assert f"{ItemState.PAUSED}" == "paused" and str(ErrorKind.NOT_OURS) == "not-ours"
    assert json.dumps({"kind": ErrorKind.NOT_OURS}) == '{"kind": "not-ours"}'


def test_an_error_kind_crosses_the_pipe_as_the_same_word_and_comes_back_an_enum():
    raw = encode_queue_event(QueueEvent(QueueEventKind.CHANGED, ITEM.key, ITEM, 0))
    assert json.loads(raw)["item"]["error_kind"] == "space"
    decoded = decode_event(raw)
    assert isinstance(decoded, Message)
    assert decoded.event.kind is QueueEventKind.CHANGED
    assert decoded.event.item.error_kind is ErrorKind.SPACE


def test_an_error_kind_a_newer_peer_invents_reads_as_a_plain_error():
    fields = {**item_fields(ITEM), "error_kind": "cosmic-rays"}
    line = json.dumps({"event": "changed", "key": ITEM.key, "index": 0, "item": fields}).encode() + b"\n"
    decoded = decode_event(line)
    assert isinstance(decoded, Message) and decoded.event.item.error_kind is ErrorKind.ERROR


def test_a_download_error_carries_its_kind_as_an_enum():
    assert DownloadError("X", "full", kind="space").kind is ErrorKind.SPACE
    assert DownloadError("X", "oops").kind is ErrorKind.ERROR
    assert ErrorKind.SPACE.stops_mirrors and not ErrorKind.NETWORK.stops_mirrors


def test_a_failure_saved_by_the_queue_comes_back_with_its_kind(tmp_path, models_dir):
    catalog = load(write_catalog(tmp_path / "c.json", [entry("x", "http://127.0.0.1:9/x.pt")]))
    library = Library(models_dir, catalog)
    state_file = tmp_path / "queue.json"
    key = str(library.path(catalog.get("x")))
    row = {"entry_ids": ["x"], "state": "failed", "error": "full", "error_kind": "space"}
    state_file.write_text(json.dumps({"items": [row]}))
    queue = DownloadQueue(library, state_file=state_file)
    try:
        assert queue.restore(resume=False) == 1
        assert queue.get(key).error_kind is ErrorKind.SPACE
    finally:
        queue.shutdown()


def test_items_and_events_given_words_hold_enums():
    item = QueueItem(key="k", entry_ids=("x",), title="X", state="failed", error_kind="cosmic-rays")
    assert item.state is ItemState.FAILED and item.error_kind is ErrorKind.ERROR
    assert QueueEvent("changed", "k", item).kind is QueueEventKind.CHANGED
