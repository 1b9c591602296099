"""Queue rules no other test pinned: Clear finished takes the done rows off and keeps the failed ones (their
Retry is still wanted)."""

from __future__ import annotations

from ofa_manager.core.queue import ItemState
from tests.catalogs import payload


def test_clear_finished_keeps_failed_rows(make_queue, http_server):  # noqa: F811
    queue, library, _ = make_queue({"good": payload(10_000), "bad": payload(10_000, 1)})
    http_server.route("/bad.pt").statuses = [404] * 5  # its row fails
    keys = queue.add(list(library.catalog))
    assert queue.wait(30)
    states = {i.entry_ids[0]: i.state for i in queue.items()}
    assert states == {"good": ItemState.DONE, "bad": ItemState.FAILED} and len(keys) == 2
    queue.clear_finished()
    assert [(i.entry_ids[0], i.state) for i in queue.items()] == [("bad", ItemState.FAILED)]
