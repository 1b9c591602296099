"""The window's item models tell the views what to repaint: which rows, under which parent, which roles.

Reading a model through data() shows what a view would paint if it asked; these tests watch dataChanged,
the signal that makes it ask, while the real engine downloads from the loopback server, with Qt's model
tester attached to each model for the whole scenario.
"""

from __future__ import annotations

from ofa_manager.core.settings import Settings
from ofa_manager.gui import downloads, tree
from tests.model_scene import Spy
from tests.windows import PETL, WAIT_MS, WINDOW_MARKS, KiB, MiB, row_of, status, wait_status

pytestmark = WINDOW_MARKS


def tree_catalog(server) -> None:
    server.add("ofa-large", 64 * KiB)
    server.add("ofa-tiny", 256 * KiB, rate=512 * KiB)
    for entry_id in PETL:
        group = ("PETL on OFA-Large", "RefCOCO+" if "plus" in entry_id else "RefCOCO")
        server.add(entry_id, 16 * KiB, group=group, path="/checkpoints/caption_huge_best.pt")


def test_a_download_repaints_its_row_and_its_groups_status_and_not_the_other_group(
    qtbot, qtmodeltester, server, open_window
):
    tree_catalog(server)
    window = open_window(server.catalog(), Settings(connections=1))
    model = window.model
    qtmodeltester.check(model)  # stays attached: every signal below is checked against the model
    backbones = model.index(0, 0)
    assert backbones.data() == "Pretrained backbones"
    assert model.index(0, tree.COL_STATUS).data() == "0 of 2 downloaded"
    spy = Spy(model)

    window.download([window.workspace.catalog.get("ofa-tiny")])
    # The status cell of the row is repainted with the progress role while the file comes in.
    tiny_status = model.index_of("ofa-tiny", tree.COL_STATUS)
    with qtbot.waitSignal(
        model.dataChanged,
        timeout=WAIT_MS,
        check_params_cb=lambda tl, br, roles=(): (
            tl.parent() == tiny_status.parent()
            and tl.row() <= tiny_status.row() <= br.row()
            and tl.column() <= tree.COL_STATUS <= br.column()
            # Progress alone: only the status cell's text, tooltip and bar, not the whole row.
            and sorted(int(r) for r in roles) == sorted(tree.PROGRESS_ROLES)
        ),
    ):
        pass
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")

    # The checkpoint's own row: status, size and location cells, under its group, with the display role.
    for column in (tree.COL_STATUS, tree.COL_SIZE, tree.COL_LOCATION):
        assert spy.named(model.index_of("ofa-tiny", column), tree.DISPLAY), column
    assert tiny_status.parent() == backbones
    # Its group's row at the top: the "1 of 2 downloaded" count is repainted, not only recomputed.
    assert model.index(0, tree.COL_STATUS).data() == "1 of 2 downloaded"
    assert spy.named(model.index(0, tree.COL_STATUS), tree.DISPLAY)
    # The sibling row that did not change is not named by a row-level change of ofa-tiny alone.
    large = model.index_of("ofa-large", tree.COL_STATUS)
    assert status(window, "ofa-large") == "Not downloaded"
    spy.clear()

    # A change to one PETL entry repaints that row and both of its groups (RefCOCO, PETL on OFA-Large),
    # and nothing under the backbones.
    window.workspace.store.entries_changed.emit(["refcoco-lora"])
    lora = model.index_of("refcoco-lora", tree.COL_STATUS)
    refcoco = lora.parent()
    petl = refcoco.parent()
    assert refcoco.data() == "RefCOCO" and petl.data() == "PETL on OFA-Large"
    assert spy.named(lora, tree.DISPLAY)
    assert spy.named(model.index(refcoco.row(), tree.COL_STATUS, petl), tree.DISPLAY)
    assert spy.named(model.index(petl.row(), tree.COL_STATUS), tree.DISPLAY)
    assert not spy.named(large) and not spy.named(model.index(0, tree.COL_STATUS))
    assert not spy.named(model.index_of("refcocoplus-adapter", tree.COL_STATUS))
    # The search text never changes with a state: the filter is not made to re-check the groups.
    assert all(int(tree.Role.SEARCH) not in roles for *_, roles in spy.seen)


def test_the_downloads_list_repaints_the_row_whose_state_changed(qtbot, qtmodeltester, server, open_window):
    server.add("ofa-medium", 3 * MiB, rate=300 * KiB)
    server.add("ofa-tiny", 3 * MiB, rate=300 * KiB)
    window = open_window(server.catalog(), Settings(jobs=2, connections=1))
    model = window.downloads.model
    qtmodeltester.check(model)  # attached before any row exists: inserts, changes and removals are checked
    spy = Spy(model)
    catalog = window.workspace.catalog
    window.download([catalog.get("ofa-medium"), catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-medium", r"\d+ %.*")
    wait_status(qtbot, window, "ofa-tiny", r"\d+ %.*")
    medium, tiny = row_of(window, "ofa-medium"), row_of(window, "ofa-tiny")
    assert {medium, tiny} == {0, 1}
    # Progress repaints the progress cell of each row that moved.
    qtbot.waitUntil(
        lambda: (
            spy.named(model.index(medium, downloads.COL_PROGRESS))
            and spy.named(model.index(tiny, downloads.COL_PROGRESS))
        ),
        timeout=WAIT_MS,
    )
    spy.clear()

    # Pausing the second row repaints that row's state cell (and the whole row), not only the first.
    window.workspace.commands.pause([catalog.get("ofa-tiny")])
    qtbot.waitUntil(lambda: model.index(tiny, downloads.COL_STATE).data() == "Paused", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: spy.named(model.index(tiny, downloads.COL_STATE)), timeout=WAIT_MS)
    assert spy.named(model.index(tiny, downloads.COL_NAME))  # a state change repaints the whole row
    window.workspace.commands.pause([catalog.get("ofa-medium")])
    qtbot.waitUntil(lambda: model.index(medium, downloads.COL_STATE).data() == "Paused", timeout=WAIT_MS)

    # Rows that changed in the same tick are announced together: the first through the last of them.
    spy.clear()
    window.workspace.store.items_changed.emit([0, 1], False)
    assert spy.named(model.index(0, downloads.COL_PROGRESS)) and spy.named(
        model.index(1, downloads.COL_STATE)
    )
    assert not spy.named(model.index(1, downloads.COL_NAME))  # progress only: the name is not repainted
    spy.clear()
    window.workspace.store.items_changed.emit([1], True)
    assert spy.named(model.index(1, downloads.COL_NAME)) and spy.named(model.index(1, downloads.COL_ACTIONS))
    assert not spy.named(model.index(0, downloads.COL_STATE))


def test_progress_reaches_the_downloads_list_only_on_the_timers_ticks(qtbot, server, open_window):
    """Two downloads report up to twenty times a second; the list repaints progress once per tick of the
    workspace's timer, counted by its ticks rather than by a stretch of wall-clock time."""
    server.add("ofa-medium", 4 * MiB, rate=500 * KiB)
    server.add("ofa-tiny", 4 * MiB, rate=500 * KiB)
    window = open_window(server.catalog(), Settings(jobs=2, connections=4))
    catalog = window.workspace.catalog
    window.download([catalog.get("ofa-medium"), catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-medium", r"\d+ %.*")
    wait_status(qtbot, window, "ofa-tiny", r"\d+ %.*")
    events = {"tick": 0, "progress": 0, "state": 0}
    model = window.downloads.model
    window.workspace.store._flush_timer.timeout.connect(
        lambda: events.__setitem__("tick", events["tick"] + 1)
    )

    def changed(top_left, bottom_right, roles=()) -> None:
        # A progress-only change starts at the progress column; a state change repaints the whole row.
        kind = "progress" if top_left.column() == downloads.COL_PROGRESS else "state"
        events[kind] += 1

    model.dataChanged.connect(changed)
    events_before = dict(events)
    qtbot.waitUntil(lambda: events["tick"] >= 4, timeout=WAIT_MS)
    model.dataChanged.disconnect(changed)
    assert events["progress"] >= 2, events  # progress did reach the list
    # At most one progress repaint per tick (a state change flushes at once, and may carry progress too).
    assert events["progress"] <= events["tick"] + events["state"], (events_before, events)
