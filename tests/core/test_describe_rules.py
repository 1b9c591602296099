"""The one rule for "verified", a state's word and reason, and whether Download would do anything, read
through describe()'s public functions from the file statuses the library hands out."""

from __future__ import annotations

from pathlib import Path

import pytest

from ofa_manager.core.describe import Description, Proof, Word, describe, verified_by, wants_file
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.states import ItemState, QueueItem

DIGEST = "ab" * 32
ARRIVED = {"verified_at": "2026-11-30T10:00:00+0000", "state": "ok", "sha256": DIGEST, "sha256_found": DIGEST}


def status(state=State.DOWNLOADED, **fields) -> FileStatus:
    return FileStatus(state=state, path=Path("/models/x.pt"), bytes=10, size=10, **fields)


def test_a_file_whose_arrival_hash_matched_at_verify_is_verified_by_arrival():
    assert verified_by(status(meta=dict(ARRIVED))) is Proof.ARRIVAL
    described = describe(status(meta=dict(ARRIVED)))
    assert described == Description(Word.VERIFIED, proof=Proof.ARRIVAL, checked_at=ARRIVED["verified_at"])


@pytest.mark.parametrize(
    "changed",
    [
        {"verified_at": None},  # never checked
        {"verified_at": ""},
        {"state": "failed"},  # checked, and it failed
        {"state": None},
        {"sha256_found": "cd" * 32},  # the hash found differs from the one taken on arrival
        {"sha256_found": None},
        {"sha256": None, "sha256_found": None},  # no hash at all: nothing matched
        {"sha256": "", "sha256_found": ""},
    ],
)
def test_verified_by_arrival_needs_a_time_an_ok_state_and_the_same_hash(changed):
    meta = {**ARRIVED, **changed}
    assert verified_by(status(meta=meta)) is None
    assert describe(status(meta=meta)) == Description(Word.DOWNLOADED)


def test_a_catalog_match_is_verified_by_the_catalog_and_carries_no_checked_time():
    # verified_at in the record is the arrival rule's; a catalog proof does not report it.
    described = describe(status(verified=True, meta=dict(ARRIVED)))
    assert described == Description(Word.VERIFIED, proof=Proof.CATALOG, checked_at=None)


@pytest.mark.parametrize(("word", "proof"), [("crc64", Proof.SERVER_CRC64), ("md5", Proof.SERVER_MD5)])
def test_a_fingerprint_the_server_sent_is_the_proof_and_carries_no_checked_time(word, proof):
    assert verified_by(status(verified_by=word)) is proof
    described = describe(status(verified_by=word, meta=dict(ARRIVED)))
    assert described == Description(Word.VERIFIED, proof=proof, checked_at=None)


def test_a_copy_that_differs_is_never_verified_and_says_why():
    differing = status(verified=True, verified_by="crc64", meta={**ARRIVED, "state": "differs"}, reason="why")
    assert verified_by(differing) is None
    assert describe(differing) == Description(Word.DIFFERS, reason="why")


def test_a_shared_stores_copy_is_verified_only_when_verify_matched_the_catalog():
    assert verified_by(status(State.IN_STORE, verified=True)) is Proof.CATALOG
    assert verified_by(status(State.IN_STORE, meta=dict(ARRIVED), verified_by="md5")) is None
    assert describe(status(State.IN_STORE, reason="store")) == Description(Word.IN_STORE, reason="store")


@pytest.mark.parametrize(
    ("state", "word"),
    [
        (State.REMOTE, Word.NOT_DOWNLOADED),
        (State.PARTIAL, Word.PARTIAL),
        (State.CORRUPT, Word.CORRUPT),
        (State.FOREIGN, Word.NOT_OURS),
    ],
)
def test_each_other_state_has_its_word_and_its_reason_and_no_proof(state, word):
    described = describe(status(state, verified=True, meta=dict(ARRIVED), reason=f"because {state}"))
    assert described == Description(word, reason=f"because {state}")
    assert verified_by(status(state, verified=True, meta=dict(ARRIVED))) is None


def test_the_words_read_as_their_text():
    assert [str(word) for word in Word] == [
        "not downloaded",
        "partial",
        "downloaded",
        "verified",
        "corrupt",
        "not ours",
        "in the shared store",
        "differs from the catalog",
    ]


ENTRY = object()  # the checkpoint asked about (wants_file only hands it to the workspace)


class Workspace:
    """``plan.Known`` as a front end holds it: one checkpoint's status and queue item, by checkpoint."""

    def __init__(self, file_status, item):
        self.file_status, self.item = {ENTRY: file_status}, {ENTRY: item}

    def status_of(self, entry):
        return self.file_status.get(entry)

    def item_for(self, entry):
        return self.item.get(entry)

    def size_of(self, entry):
        return None


def item(state: ItemState) -> QueueItem:
    return QueueItem(key="/models/x.pt", entry_ids=("x",), title="X", state=state)


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("queued", [None, *ItemState])
def test_download_wants_a_file_not_here_and_not_on_its_way(state, queued):
    here = state in (State.DOWNLOADED, State.IN_STORE)
    on_its_way = queued is not None and queued not in (ItemState.PAUSED, ItemState.DONE, ItemState.FAILED)
    known = Workspace(status(state), None if queued is None else item(queued))
    assert wants_file(known, ENTRY) is (not here and not on_its_way)


def test_download_wants_a_file_nobody_has_a_status_for_unless_it_is_on_its_way():
    assert wants_file(Workspace(None, None), ENTRY) is True
    assert wants_file(Workspace(None, item(ItemState.PAUSED)), ENTRY) is True
    assert wants_file(Workspace(None, item(ItemState.QUEUED)), ENTRY) is False
