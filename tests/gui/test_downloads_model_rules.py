"""The downloads list's model over the window's store, without the window: the queue's rows as the
download process's events bring them (added, changed, moved, removed, replaced), what each cell says,
and which cells a change repaints."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from ofa_manager.core.states import ErrorKind, ItemState, QueueEventKind, QueueItem
from ofa_manager.gui import downloads
from ofa_manager.gui.delegates import StatusColors
from ofa_manager.gui.i18n import duration_text, rate_text, size_text
from tests.model_scene import SIZES, Spy
from tests.windows import WINDOW_MARKS

pytestmark = WINDOW_MARKS

COLUMNS = range(len(downloads.HEADERS))
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def row(model, number: int, role: int = downloads.DISPLAY) -> list:
    return [model.index(number, column).data(role) for column in COLUMNS]


def test_rows_follow_the_queue_events(qtmodeltester, model_scene):
    model = downloads.DownloadsModel(model_scene.store)
    qtmodeltester.check(model)  # attached before any row exists: every change below is checked
    assert model.rowCount() == 0 and model.columnCount() == 8
    assert [model.headerData(c, Qt.Horizontal) for c in COLUMNS] == [
        "Name",
        "Progress",
        "Size",
        "Speed",
        "Time left",
        "Conn.",
        "State",
        "Actions",
    ]
    assert model.headerData(8, Qt.Horizontal) is None and model.headerData(-1, Qt.Horizontal) is None
    assert model.headerData(0, Qt.Vertical) is None
    assert model.headerData(0, Qt.Horizontal, Qt.ToolTipRole) is None
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    big = model_scene.add(model_scene.item("big"))
    small = model_scene.add(model_scene.item("small"))
    petl = model_scene.add(model_scene.item("petl-a"))
    assert inserted == [(0, 0), (1, 1), (2, 2)]
    assert [model.key(r) for r in range(3)] == [big.key, small.key, petl.key]
    assert [model.index(r, 0).data(downloads.KEY) for r in range(3)] == [big.key, small.key, petl.key]
    assert model.rowCount(model.index(0, 0)) == 0 and model.columnCount(model.index(0, 0)) == 0
    assert model.flags(model.index(0, 0)) == Qt.ItemIsEnabled | Qt.ItemIsSelectable
    assert model.flags(QModelIndex()) == Qt.NoItemFlags
    # Moved down: Qt's destination counts the row itself, one past the target.
    moves: list[tuple[int, int]] = []
    model.rowsAboutToBeMoved.connect(lambda src, first, last, dst, row: moves.append((first, row)))
    model_scene.event(QueueEventKind.MOVED, big.key, index=2)
    assert moves == [(0, 3)]
    assert [model.key(r) for r in range(3)] == [small.key, petl.key, big.key]
    model_scene.event(QueueEventKind.MOVED, big.key, index=0)
    assert moves[-1] == (2, 0)
    assert [model.key(r) for r in range(3)] == [big.key, small.key, petl.key]
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    model_scene.event(QueueEventKind.REMOVED, small.key)
    assert removed == [(1, 1)] and [model.key(r) for r in range(2)] == [big.key, petl.key]
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(model.rowCount()))
    model_scene.store.clear_items()
    assert resets == [0] and model.rowCount() == 0


def test_what_each_cell_says_while_a_file_downloads(model_scene):
    model = downloads.DownloadsModel(model_scene.store)
    item = model_scene.add(model_scene.item("big", total=SIZES["big"]))
    assert row(model, 0) == ["Big Model", "0 %", size_text(SIZES["big"]), "", "", "", "Queued", ""]
    assert row(model, 0, downloads.ACTIONS)[0] == ("pause", "cancel")
    item = model_scene.change(
        item, state=ItemState.DOWNLOADING, done=SIZES["big"] // 4, speed=2_000_000.0, eta=75.0, connections=3
    )
    done = size_text(SIZES["big"] // 4)
    cells = row(model, 0)
    assert cells[:3] == ["Big Model", "25 %", f"{done} of {size_text(SIZES['big'])}"]
    assert cells[3:6] == [rate_text(2_000_000.0), duration_text(75.0), "3"]
    assert cells[downloads.COL_STATE] == "Downloading"
    assert row(model, 0, downloads.PROGRESS) == [downloads.NO_PROGRESS, 0.25] + [downloads.NO_PROGRESS] * 6
    assert row(model, 0, downloads.ALIGNMENT) == [None, None, RIGHT, RIGHT, RIGHT, RIGHT, None, None]
    assert row(model, 0, downloads.FOREGROUND) == [None] * 8
    assert row(model, 0, Qt.SizeHintRole) == [None] * 8
    assert model.index(0, downloads.COL_NAME).data(Qt.ToolTipRole) == f"{item.key}\nFile of: Big Model"
    assert model.index(0, downloads.COL_SIZE).data(Qt.ToolTipRole) is None
    # More bytes than the size said: the bar stops at the end.
    model_scene.change(item, done=SIZES["big"] * 2)
    assert model.index(0, downloads.COL_PROGRESS).data(downloads.PROGRESS) == 1.0
    # Paused: no speed, time or connections, though the item still carries them.
    item = model_scene.change(item, state=ItemState.PAUSED, done=SIZES["big"] // 2)
    assert row(model, 0)[3:] == ["", "", "", "Paused", ""]
    assert row(model, 0, downloads.ACTIONS)[0] == ("resume", "cancel")
    # Running without speed, time or connections known yet.
    item = model_scene.change(item, state=ItemState.CONNECTING, speed=0.0, eta=None, connections=0)
    assert row(model, 0)[3:7] == ["", "", "", "Connecting"]
    # Finished: the size alone, the whole file.
    item = model_scene.change(item, state=ItemState.DONE, done=SIZES["big"])
    assert row(model, 0)[1:3] == ["100 %", size_text(SIZES["big"])]
    assert row(model, 0, downloads.ACTIONS)[0] == ("show", "remove")
    assert model.index(0, downloads.COL_STATE).data(Qt.ToolTipRole) == "Downloaded"


def test_a_shared_file_names_its_checkpoints_and_a_failure_says_why(model_scene):
    model = downloads.DownloadsModel(model_scene.store)
    colors = StatusColors()
    item = model_scene.add(model_scene.item("petl-a", ItemState.DOWNLOADING, total=SIZES["petl"], done=100))
    assert model.index(0, downloads.COL_NAME).data(Qt.ToolTipRole) == (
        f"{item.key}\nFile of: Adapter A, Adapter B"
    )
    model_scene.change(
        item,
        state=ItemState.FAILED,
        error="connection reset by the server; tried 3 times",
        error_kind=ErrorKind.NETWORK,
        message="a mirror was tried too",
    )
    state = model.index(0, downloads.COL_STATE)
    assert state.data().startswith("Failed: ")
    assert state.data(Qt.ToolTipRole).split("\n") == [
        state.data(),
        "connection reset by the server; tried 3 times",
        "a mirror was tried too",
    ]
    assert state.data(downloads.FOREGROUND) == colors["bad"]
    assert model.index(0, downloads.COL_NAME).data(downloads.FOREGROUND) is None
    assert row(model, 0, downloads.ACTIONS)[0] == ("retry", "remove")
    # A plain server answer says nothing more than the row: no second line.
    model_scene.change(
        item, state=ItemState.FAILED, error="404 Not Found", error_kind=ErrorKind.HTTP, message=""
    )
    assert state.data(Qt.ToolTipRole) == state.data()
    # Only a failed row tells the engine's reason: a paused one keeps the last error to itself.
    model_scene.change(
        item, state=ItemState.PAUSED, error="connection reset by the server", error_kind=ErrorKind.NETWORK
    )
    assert state.data(Qt.ToolTipRole) == state.data() == "Paused"


def test_sizes_of_rows_that_have_none_of_their_own(model_scene):
    model = downloads.DownloadsModel(model_scene.store)
    model_scene.add(model_scene.item("big"))  # the catalog knows its size
    small = model_scene.add(model_scene.item("small"))  # nobody does yet
    assert model.index(0, downloads.COL_SIZE).data() == size_text(SIZES["big"])
    assert model.index(1, downloads.COL_SIZE).data() == "unknown"
    assert model.known_size(small) is None
    # A screen reader hears the same word for the size nobody knows, not a count of no bytes.
    assert model.index(1, downloads.COL_SIZE).data(downloads.ACCESSIBLE_TEXT) == "unknown"
    assert model.index(1, downloads.COL_PROGRESS).data(downloads.ACCESSIBLE_DESCRIPTION) == "unknown"
    assert model.index(1, downloads.COL_PROGRESS).data() == ""
    assert model.index(1, downloads.COL_PROGRESS).data(downloads.PROGRESS) == downloads.NO_PROGRESS
    # Bytes without a size: the bytes so far, in both columns.
    model_scene.change(small, state=ItemState.DOWNLOADING, done=5000)
    assert model.index(1, downloads.COL_PROGRESS).data() == size_text(5000)
    assert model.index(1, downloads.COL_SIZE).data() == size_text(5000)
    # Finished without a size ever given: the bytes it got.
    model_scene.change(model_scene.store.item_by_key(small.key), state=ItemState.DONE, done=SIZES["small"])
    assert model.index(1, downloads.COL_SIZE).data() == size_text(SIZES["small"])
    assert model.index(1, downloads.COL_PROGRESS).data(downloads.PROGRESS) == downloads.NO_PROGRESS


def test_a_paused_row_shows_the_partial_data_on_disk(model_scene):
    model = downloads.DownloadsModel(model_scene.store)
    model_scene.download("big", "small")
    library = model_scene.store.library
    for name in ("big", "small"):
        entry = model_scene.catalog.get(name)
        path = library.path(entry)
        path.write_bytes(path.read_bytes()[:100_000])
        path.rename(library.part_path(entry))
        library.meta_path(entry).unlink()
    model_scene.scan()
    big = model_scene.add(model_scene.item("big", ItemState.PAUSED))
    small = model_scene.add(model_scene.item("small", ItemState.QUEUED))
    shown = model.with_partial_data(big)
    assert (shown.done, shown.total) == (100_000, SIZES["big"])
    assert row(model, 0)[1:3] == ["33 %", f"{size_text(100_000)} of {size_text(SIZES['big'])}"]
    assert model.index(0, downloads.COL_PROGRESS).data(downloads.PROGRESS) == 100_000 / SIZES["big"]
    # No size anywhere: the partial data alone.
    assert model.with_partial_data(small).done == 100_000
    assert row(model, 1)[1:3] == [size_text(100_000), size_text(100_000)]
    # Failed rows show it too; running rows and rows with bytes of their own show their own.
    failed = model_scene.change(big, state=ItemState.FAILED, error="x")
    assert model.with_partial_data(failed).done == 100_000
    running = model_scene.change(failed, state=ItemState.DOWNLOADING)
    assert model.with_partial_data(running) is running
    own = model_scene.change(running, state=ItemState.PAUSED, done=7)
    assert model.with_partial_data(own) is own
    # An empty partial file: nothing to show either.
    petl_b = model_scene.catalog.get("petl-b")
    library.part_path(petl_b).write_bytes(b"")
    model_scene.scan()
    empty = model_scene.add(model_scene.item("petl-b", ItemState.QUEUED))
    assert model.with_partial_data(empty) is empty
    model_scene.event(QueueEventKind.REMOVED, empty.key)
    library.part_path(petl_b).unlink()
    # A file that is downloaded, not partial: nothing to add.
    model_scene.download("petl-a")
    model_scene.scan()
    petl = model_scene.add(model_scene.item("petl-a", ItemState.PAUSED))
    assert model.with_partial_data(petl) is petl


def test_accessible_text_names_the_buttons_and_empty_cells(model_scene):
    model = downloads.DownloadsModel(model_scene.store)
    item = model_scene.add(model_scene.item("big", ItemState.PAUSED, total=SIZES["big"], done=1000))
    assert row(model, 0, downloads.ACCESSIBLE_TEXT) == [
        "Big Model",
        "0 %",
        f"{size_text(1000)} of {size_text(SIZES['big'])}",
        "None",
        "None",
        "None",
        "Paused",
        "Resume, Cancel",
    ]
    described = row(model, 0, downloads.ACCESSIBLE_DESCRIPTION)
    assert described[downloads.COL_NAME] == f"{item.key}\nFile of: Big Model"
    assert described[downloads.COL_PROGRESS] == f"{size_text(1000)} of {size_text(SIZES['big'])}"
    assert described[downloads.COL_SPEED] == ""
    assert described[downloads.COL_STATE] == "Paused"
    assert described[downloads.COL_ACTIONS] == (
        "Buttons of this row: Resume, Cancel; its context menu offers them too"
    )
    # A running row says its speed, time and connections; a finished one its size, also to a screen reader.
    model_scene.change(
        item, state=ItemState.DOWNLOADING, speed=1_000_000.0, eta=30.0, connections=2, done=SIZES["big"] // 2
    )
    spoken = row(model, 0, downloads.ACCESSIBLE_TEXT)
    assert spoken[3:7] == [rate_text(1_000_000.0), duration_text(30.0), "2", "Downloading"]
    model_scene.change(model_scene.store.item_by_key(item.key), state=ItemState.DONE, done=SIZES["big"])
    assert model.index(0, downloads.COL_PROGRESS).data(downloads.ACCESSIBLE_DESCRIPTION) == size_text(
        SIZES["big"]
    )
    # The second row's description is its own, not the first row's.
    model_scene.add(model_scene.item("small", ItemState.QUEUED))
    assert model.index(1, downloads.COL_NAME).data(downloads.ACCESSIBLE_DESCRIPTION).endswith("Small Model")
    assert model.index(0, downloads.COL_NAME).data(downloads.ACCESSIBLE_DESCRIPTION).endswith("Big Model")
    assert [downloads.button_label(a) for a in ("pause", "retry", "remove", "show")] == [
        "Pause",
        "Retry",
        "Remove",
        "Show",
    ]
    assert model.data(QModelIndex()) is None
    assert model.data(model.createIndex(2, 0)) is None and model.data(model.createIndex(-1, 0)) is None


def test_changes_repaint_the_rows_and_columns_that_changed(model_scene):
    model = downloads.DownloadsModel(model_scene.store)
    store = model_scene.store
    spy = Spy(model)
    store.entries_changed.emit(["big"])
    store.items_changed.emit([], True)
    assert spy.seen == []  # no rows: nothing to repaint
    for name in ("big", "small", "petl-a"):
        model_scene.add(model_scene.item(name))
    spy.clear()
    store.items_changed.emit([0, 2], False)
    store.items_changed.emit([1], True)
    assert spy.seen == [
        (QModelIndex(), 0, 2, downloads.COL_PROGRESS, downloads.COL_STATE, []),
        (QModelIndex(), 1, 1, 0, 7, []),
    ]
    spy.clear()
    # A size the tree learnt (catalog, disk, a probe): every row's progress and size.
    store.entries_changed.emit(["small"])
    store.statuses_changed.emit()
    assert spy.seen == [(QModelIndex(), 0, 2, downloads.COL_PROGRESS, downloads.COL_SIZE, [])] * 2


def test_a_row_of_a_file_no_catalog_entry_names_has_no_size_nor_partial_data(model_scene, tmp_path):
    model = downloads.DownloadsModel(model_scene.store)
    stray = QueueItem(str(tmp_path / "elsewhere.pt"), (), "Elsewhere", ItemState.PAUSED)
    assert model_scene.store.entries_of(stray.key) == []
    assert model.known_size(stray) is None
    assert model.with_partial_data(stray) is stray
