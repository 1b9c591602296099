"""The queue's words as other code reads them: which error kinds stop the mirrors, an item's kind given as a
word or left out, and a state word formatted into a column."""

from __future__ import annotations

import pytest

from ofa_manager.core.states import ErrorKind, ItemState, QueueEvent, QueueEventKind, QueueItem


def test_only_problems_here_stop_the_mirrors():
    # The disk, the space, a file removed or one not ours: another source cannot help.
    stopping = {kind for kind in ErrorKind if kind.stops_mirrors}
    assert stopping == {ErrorKind.DISK, ErrorKind.SPACE, ErrorKind.REMOVED, ErrorKind.NOT_OURS}


def test_an_item_that_did_not_fail_has_no_error_kind():
    item = QueueItem(key="k", entry_ids=("x",), title="X", state="downloading")
    assert item.error_kind is None
    assert item.state is ItemState.DOWNLOADING


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_an_error_kind_given_as_its_word_becomes_that_kind(kind):
    item = QueueItem(key="k", entry_ids=("x",), title="X", state="failed", error_kind=kind.value)
    assert item.error_kind is kind


def test_an_error_kind_given_as_the_enum_is_kept():
    item = QueueItem(key="k", entry_ids=("x",), title="X", state=ItemState.FAILED, error_kind=ErrorKind.HTTP)
    assert item.error_kind is ErrorKind.HTTP and item.state is ItemState.FAILED


def test_a_state_word_formats_into_a_column_like_its_text():
    assert f"{ItemState.DONE:>8}|" == "    done|"
    assert f"{ErrorKind.NOT_OURS:<10}|" == "not-ours  |"
    assert f"{ItemState.QUEUED}" == "queued"


def test_an_event_given_its_kind_as_a_word_holds_the_enum():
    assert QueueEvent("moved", key="k").kind is QueueEventKind.MOVED


@pytest.mark.parametrize(
    ("done", "total", "fraction"), [(0, None, None), (5, 0, None), (0, 10, 0.0), (5, 20, 0.25)]
)
def test_an_items_fraction_is_done_over_total_when_the_total_is_known(done, total, fraction):
    item = QueueItem(key="k", entry_ids=("x",), title="X", state="downloading", done=done, total=total)
    assert item.fraction == fraction
