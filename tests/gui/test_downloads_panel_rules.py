"""The downloads panel without the main window: its summary, its buttons and row actions over the real
download queue (in this process) fetching from the loopback server, and what each click does."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMenu

from ofa_manager.core.states import ItemState, QueueEventKind
from ofa_manager.gui import downloads
from ofa_manager.gui.i18n import rate_text
from tests.model_scene import WAIT_MS

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform cannot raise the context menu or let it grab the keyboard; it says so.
    pytest.mark.qt_log_ignore(
        r"This plugin does not support propagateSizeHints\(\)",
        r"This plugin does not support raise\(\)",
        r"This plugin does not support grabbing the keyboard",
    ),
]


def panel_of(qtbot, scene) -> downloads.DownloadsPanel:
    panel = downloads.DownloadsPanel(scene.store, scene.workspace.commands)
    qtbot.addWidget(panel)
    panel.resize(1000, 300)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def states(scene) -> dict[str, ItemState]:
    return {item.title: item.state for item in scene.store.items()}


def wait_states(qtbot, scene, expected: dict[str, ItemState]) -> None:
    try:
        qtbot.waitUntil(lambda: states(scene) == expected, timeout=WAIT_MS)
    except Exception:
        raise AssertionError(f"{states(scene)} != {expected}") from None


def select(panel, *rows: int) -> None:
    view = panel.view
    view.clearSelection()
    for row in rows:
        view.selectionModel().select(
            panel.model.index(row, 0),
            view.selectionModel().SelectionFlag.Select | view.selectionModel().SelectionFlag.Rows,
        )


def enabled(actions: dict) -> set[str]:
    return {name for name, action in actions.items() if action.isEnabled()}


def click(qtbot, panel, row: int, action: str) -> None:
    rect = panel.button_rect(row, action)
    assert not rect.isNull(), (row, action)
    qtbot.mouseClick(panel.view.viewport(), Qt.LeftButton, pos=rect.center())


def test_nothing_queued_and_no_queue_to_act_on(qtbot, model_scene):
    panel = panel_of(qtbot, model_scene)  # the queue never started: nothing may be sent to it
    assert panel.summary.text() == "nothing queued"
    assert enabled(panel.tool_buttons) == set() and enabled(panel.row_actions) == set()
    item = model_scene.add(model_scene.item("big", ItemState.FAILED, error="x"))
    assert panel.summary.text() == "1 failed"
    retried: list = []
    panel.retry_requested.connect(retried.append)
    for action in ("retry", "pause", "resume", "cancel", "remove", "show"):
        panel.act(item.key, action)
    for name in ("pause_all", "resume_all", "cancel_all", "clear", "up"):
        panel.act_on_all(name)
    assert retried == [] and states(model_scene) == {"Big Model": ItemState.FAILED}
    # Retry over several failed rows asks once, for all of them (the window asks where copies were kept).
    model_scene.add(model_scene.item("petl-a", ItemState.FAILED, error="y"))
    select(panel, 0, 1)
    panel.row_actions["retry"].trigger()
    assert retried == [[item.key, model_scene.key("petl-a")]]
    model_scene.event(QueueEventKind.REMOVED, model_scene.key("petl-a"))
    panel.view.clearSelection()
    # The summary counts each kind of row and adds the running downloads' speeds.
    model_scene.add(model_scene.item("small", ItemState.DOWNLOADING, speed=1_500_000.0, total=10, done=1))
    model_scene.add(model_scene.item("petl-a", ItemState.QUEUED))
    assert panel.summary.text() == f"1 running  ·  1 queued  ·  1 failed  ·  {rate_text(1_500_000.0)}"
    assert enabled(panel.tool_buttons) == {"pause_all", "resume_all", "cancel_all"}
    model_scene.change(item, state=ItemState.DONE)
    assert panel.summary.text() == f"1 running  ·  1 queued  ·  1 finished  ·  {rate_text(1_500_000.0)}"
    assert enabled(panel.tool_buttons) == {"pause_all", "cancel_all", "clear"}
    model_scene.change(model_scene.store.item_by_key(model_scene.key("petl-a")), state=ItemState.PAUSED)
    assert panel.summary.text() == f"1 running  ·  1 paused  ·  1 finished  ·  {rate_text(1_500_000.0)}"
    assert enabled(panel.tool_buttons) == {"pause_all", "resume_all", "cancel_all", "clear"}
    model_scene.change(model_scene.store.item_by_key(model_scene.key("small")), state=ItemState.PAUSED)
    assert panel.summary.text() == "2 paused  ·  1 finished"  # a paused row's old speed is not added
    assert enabled(panel.tool_buttons) == {"resume_all", "cancel_all", "clear"}
    model_scene.event(QueueEventKind.REMOVED, item.key)
    assert panel.summary.text() == "2 paused"
    model_scene.store.clear_items()
    assert panel.summary.text() == "nothing queued"


def test_buttons_pause_resume_move_and_cancel_rows(qtbot, queue_scene):
    scene = queue_scene
    scene.http.add("/big.pt", scene.data["big"], rate=30_000)  # slow enough to be caught running
    scene.start()
    panel = panel_of(qtbot, scene)
    big, small, petl = (scene.catalog.get(i) for i in ("big", "small", "petl-a"))
    scene.workspace.commands.download([big, small, petl])
    wait_states(
        qtbot,
        scene,
        {"Big Model": ItemState.DOWNLOADING, "Small Model": ItemState.QUEUED, "Adapter A": ItemState.QUEUED},
    )
    assert panel.summary.text().startswith("1 running  ·  2 queued")
    assert enabled(panel.tool_buttons) == {"pause_all", "cancel_all"}
    # The last row can go up, not down; the first (running) row can go down.
    select(panel, 2)
    assert panel.moves() == (True, False)
    assert enabled(panel.row_actions) == {"pause", "up", "remove"}
    select(panel, 0)
    assert panel.moves() == (False, True)
    select(panel, 1, 2)
    assert enabled(panel.tool_buttons) == {"pause_all", "cancel_all", "up", "down"}
    panel.row_actions["up"].trigger()  # both selected rows, in their order
    qtbot.waitUntil(lambda: panel.model.key(0) == scene.key("small"), timeout=WAIT_MS)
    assert [panel.model.key(r) for r in range(3)] == [scene.key(i) for i in ("small", "petl-a", "big")]
    select(panel, 0)
    panel.row_actions["down"].trigger()  # Ctrl+Down
    qtbot.waitUntil(lambda: panel.model.key(1) == scene.key("small"), timeout=WAIT_MS)
    # Its row's Pause button pauses the running download; Resume brings it back.
    row = scene.store.row_of(scene.key("big"))
    click(qtbot, panel, row, "pause")
    qtbot.waitUntil(
        lambda: scene.store.item_by_key(scene.key("big")).state is ItemState.PAUSED, timeout=WAIT_MS
    )
    assert "1 paused" in panel.summary.text()
    assert "resume_all" in enabled(panel.tool_buttons)
    select(panel, row)
    assert enabled(panel.row_actions) >= {"resume", "remove"} and "pause" not in enabled(panel.row_actions)
    panel.row_actions["resume"].trigger()  # the selected paused row, from its context menu
    qtbot.waitUntil(
        lambda: scene.store.item_by_key(scene.key("big")).state is not ItemState.PAUSED, timeout=WAIT_MS
    )
    # Its Cancel button takes it off the list.
    click(qtbot, panel, scene.store.row_of(scene.key("big")), "cancel")
    qtbot.waitUntil(lambda: scene.store.row_of(scene.key("big")) is None, timeout=WAIT_MS)
    # A click beside the buttons, or with the other mouse button, does nothing.
    row = scene.store.row_of(scene.key("small"))
    qtbot.mouseClick(panel.view.viewport(), Qt.RightButton, pos=panel.button_rect(row, "cancel").center())
    qtbot.mouseClick(
        panel.view.viewport(), Qt.LeftButton, pos=panel.button_rect(row, "cancel").topLeft() - QPoint(3, 0)
    )
    assert scene.store.row_of(scene.key("small")) is not None
    assert panel.button_rect(row, "retry") == QRect()
    # The two left finish; Show in Folder opens the first selected one only (one file manager window).
    wait_states(qtbot, scene, {"Small Model": ItemState.DONE, "Adapter A": ItemState.DONE})
    shown: list = []
    panel.show_file.connect(shown.append)
    select(panel, 0, 1)
    panel.row_actions["show"].trigger()
    assert shown == [panel.model.key(0)]
    # A button acts on the release of the left button over it: a press alone does nothing.
    qtbot.mousePress(panel.view.viewport(), Qt.LeftButton, pos=panel.button_rect(1, "show").center())
    assert shown == [panel.model.key(0)]
    qtbot.mouseRelease(panel.view.viewport(), Qt.LeftButton, pos=panel.button_rect(1, "show").center())
    assert shown == [panel.model.key(0), panel.model.key(1)]
    # The keyboard's Delete takes the selected finished row off the list.
    first = panel.model.key(0)
    select(panel, 0)
    panel.row_actions["remove"].trigger()
    qtbot.waitUntil(lambda: scene.store.row_of(first) is None, timeout=WAIT_MS)


def test_all_rows_at_once_and_the_keyboards_actions(qtbot, queue_scene):
    scene = queue_scene
    scene.http.add("/big.pt", scene.data["big"], rate=30_000)
    scene.http.add("/small.pt", scene.data["small"], statuses=[404] * 20)
    scene.start()
    panel = panel_of(qtbot, scene)
    retried: list = []
    shown: list = []
    panel.retry_requested.connect(retried.append)
    panel.show_file.connect(shown.append)
    petl, small, big = (scene.catalog.get(i) for i in ("petl-a", "small", "big"))
    scene.workspace.commands.download([petl, small, big])
    wait_states(
        qtbot,
        scene,
        {"Adapter A": ItemState.DONE, "Small Model": ItemState.FAILED, "Big Model": ItemState.DOWNLOADING},
    )
    assert panel.summary.text().startswith("1 running  ·  1 failed  ·  1 finished")
    assert enabled(panel.tool_buttons) == {"pause_all", "resume_all", "cancel_all", "clear"}
    # The finished row: Show, by its button, a double click, or the row action; not on the buttons' cell.
    click(qtbot, panel, 0, "show")
    assert shown == [scene.key("petl-a")]
    panel.view.doubleClicked.emit(panel.model.index(0, downloads.COL_NAME))
    assert shown == [scene.key("petl-a")] * 2
    panel.view.doubleClicked.emit(panel.model.index(0, downloads.COL_ACTIONS))  # the buttons' own cell
    panel.view.doubleClicked.emit(panel.model.index(1, downloads.COL_NAME))  # failed: nothing to show
    assert shown == [scene.key("petl-a")] * 2
    select(panel, 1, 0)
    panel.row_actions["show"].trigger()  # the first finished row only
    assert shown == [scene.key("petl-a")] * 3
    # The failed row: Retry, by its button or the row actions (Resume retries a failed row too).
    click(qtbot, panel, 1, "retry")
    select(panel, 1, 2)
    assert enabled(panel.row_actions) == {"pause", "resume", "retry", "up", "down", "remove"}
    panel.row_actions["resume"].trigger()
    panel.row_actions["retry"].trigger()
    assert retried == [[scene.key("small")]] * 3
    # The context menu offers the row actions.
    panel.view.customContextMenuRequested.emit(QPoint(5, 5))
    menu = next(m for m in panel.findChildren(QMenu) if m.isVisible())
    assert [a.text() for a in menu.actions() if not a.isSeparator()] == [
        "Pause",
        "Resume",
        "Retry",
        "Show in Folder",
        "Move Up",
        "Move Down",
        "Take Off the List",
    ]
    menu.close()
    # Pause every download, resume them, clear the finished row, then cancel what is left.
    panel.tool_buttons["pause_all"].trigger()
    qtbot.waitUntil(lambda: states(scene)["Big Model"] is ItemState.PAUSED, timeout=WAIT_MS)
    panel.tool_buttons["clear"].trigger()
    qtbot.waitUntil(lambda: "Adapter A" not in states(scene), timeout=WAIT_MS)
    click(qtbot, panel, scene.store.row_of(scene.key("small")), "remove")  # the failed row's Remove button
    qtbot.waitUntil(lambda: "Small Model" not in states(scene), timeout=WAIT_MS)
    panel.tool_buttons["resume_all"].trigger()
    qtbot.waitUntil(lambda: states(scene)["Big Model"] is not ItemState.PAUSED, timeout=WAIT_MS)
    panel.tool_buttons["cancel_all"].trigger()
    qtbot.waitUntil(lambda: states(scene) == {}, timeout=WAIT_MS)
    assert panel.summary.text() == "nothing queued"


def test_the_buttons_cell_is_as_wide_as_its_buttons(qtbot, model_scene):
    panel = panel_of(qtbot, model_scene)
    model_scene.add(model_scene.item("big", ItemState.PAUSED))
    delegate, view = panel.buttons, panel.view
    option = view.viewOptions() if hasattr(view, "viewOptions") else None
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    option.initFrom(view)
    metrics = option.fontMetrics
    index = panel.model.index(0, downloads.COL_ACTIONS)
    rects = delegate.button_rects(QRect(10, 0, 1000, 30), ("resume", "cancel"), metrics)
    assert [name for name, _ in rects] == ["resume", "cancel"]
    (_, first), (_, second) = rects
    assert first.left() == 14 and second.left() == first.right() + 1 + delegate.SPACING
    assert first.width() == metrics.horizontalAdvance("Resume") + 18
    assert first.height() == min(26, metrics.height() + 8) and first.top() == (30 - first.height()) // 2
    # In a short row the buttons keep two pixels above and below.
    (_, short), _ = delegate.button_rects(QRect(0, 0, 1000, 16), ("resume", "cancel"), metrics)
    assert (short.top(), short.height()) == (2, 12)
    hint = delegate.sizeHint(option, index)
    assert hint.width() == second.right() - 10 + delegate.SPACING
    assert hint.height() == metrics.height() + 12
    # Painted: the buttons show on the row (the cell is not blank).
    image = view.viewport().grab(view.visualRect(index)).toImage()
    assert len({image.pixel(x, image.height() // 2) for x in range(image.width())}) > 2
    # The buttons' words are drawn, in the enabled text colour (dark on the light button).
    button = panel.button_rect(0, "resume").translated(-view.visualRect(index).topLeft())
    dark = sum(
        1
        for x in range(button.left(), button.right())
        for y in range(button.top() + 3, button.bottom() - 3)
        if QColor(image.pixel(x, y)).lightness() < 60
    )
    assert dark > 20, dark


def test_the_panels_toolbar_keys_and_list(qtbot, model_scene):
    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel

    panel = panel_of(qtbot, model_scene)
    assert [(a.objectName(), a.text(), a.toolTip()) for a in panel.toolbar.actions()] == [
        ("up", "Move up", "Start the selected download earlier"),
        ("down", "Move down", "Start the selected download later"),
        ("pause_all", "Pause all", "Pause every download (partial data is kept)"),
        ("resume_all", "Resume all", "Resume every paused or failed download"),
        ("cancel_all", "Cancel all", "Take every unfinished download off the list (partial data is kept)"),
        ("clear", "Clear finished", "Remove finished downloads from the list"),
    ]
    assert panel.toolbar.toolButtonStyle() == Qt.ToolButtonTextOnly
    keys = {
        name: ([k.toString() for k in a.shortcuts()], a.text(), a.shortcutContext())
        for name, a in panel.row_actions.items()
    }
    within = Qt.WidgetWithChildrenShortcut
    assert keys == {
        "pause": ([], "Pause", within),
        "resume": ([], "Resume", within),
        "retry": ([], "Retry", within),
        "show": ([], "Show in Folder", within),
        "up": (["Ctrl+Up"], "Move Up", within),
        "down": (["Ctrl+Down"], "Move Down", within),
        "remove": ([QKeySequence(QKeySequence.Delete).toString()], "Take Off the List", within),
    }
    assert panel.view.actions() == list(panel.row_actions.values())
    assert (
        panel.row_actions["remove"].toolTip()
        == "Cancel unfinished downloads (their data is kept) or remove rows"
    )
    assert "<b>Downloads</b>" in [label.text() for label in panel.findChildren(QLabel)]
    view = panel.view
    assert view.objectName() == "downloads" and not view.rootIsDecorated()
    assert view.uniformRowHeights() and view.alternatingRowColors() and view.hasMouseTracking()
    assert view.selectionMode() == QAbstractItemView.ExtendedSelection
    assert view.selectionBehavior() == QAbstractItemView.SelectRows
    assert view.contextMenuPolicy() == Qt.CustomContextMenu
    header = view.header()
    assert not header.stretchLastSection()
    modes = [header.sectionResizeMode(c) for c in range(8)]
    assert modes[downloads.COL_NAME] == modes[downloads.COL_STATE] == QHeaderView.Stretch
    assert modes.count(QHeaderView.Stretch) == 2
    metrics = panel.fontMetrics()
    assert header.sectionSize(downloads.COL_CONNECTIONS) == metrics.horizontalAdvance("Conn.") + 24
    assert header.sectionSize(downloads.COL_ACTIONS) == metrics.horizontalAdvance("Resume  Cancel    ") + 24
    assert view.itemDelegateForColumn(downloads.COL_ACTIONS) is panel.buttons
    assert view.itemDelegateForColumn(downloads.COL_PROGRESS).role == downloads.PROGRESS
    # The panel owns its model; the list owns its delegates (they live as long as it does).
    assert panel.model.parent() is panel
    assert view.itemDelegateForColumn(downloads.COL_PROGRESS).parent() is view
    assert panel.buttons.parent() is view


def test_each_figures_column_fits_its_widest_words(qtbot, model_scene):
    # Sized once, for the widest figure a column shows before a unit changes: 1023.9 MiB, 59 min, a
    # stalled row's words, the two buttons of a paused row.
    from PySide6.QtWidgets import QWidget

    window = QWidget()
    qtbot.addWidget(window)
    panel = downloads.DownloadsPanel(model_scene.store, model_scene.workspace.commands, window)
    assert panel.parentWidget() is window
    header, metrics = panel.view.header(), panel.fontMetrics()
    assert {
        column: header.sectionSize(column)
        for column in (
            downloads.COL_PROGRESS,
            downloads.COL_SIZE,
            downloads.COL_SPEED,
            downloads.COL_ETA,
            downloads.COL_STATE,
        )
    } == {
        downloads.COL_PROGRESS: metrics.horizontalAdvance("100 %  ") + 24,
        downloads.COL_SIZE: metrics.horizontalAdvance("1023.9 MiB of 1023.9 MiB") + 24,
        downloads.COL_SPEED: metrics.horizontalAdvance("1023.9 MiB/s") + 24,
        downloads.COL_ETA: metrics.horizontalAdvance("59 min") + 24,
        downloads.COL_STATE: metrics.horizontalAdvance("Stalled, reconnecting  ") + 24,
    }
    # The summary has a name to be found by (style sheets, screen readers' tools), and the toolbar is
    # called Downloads where its name shows (a toolbar's context menu, a screen reader).
    assert panel.summary.objectName() == "downloads-summary"
    assert window.findChild(QWidget, "downloads-summary") is panel.summary
    assert panel.toolbar.windowTitle() == "Downloads"


def test_the_list_sits_in_the_panel_with_its_margins(qtbot, model_scene):
    panel = panel_of(qtbot, model_scene)
    # Six pixels left and right, four above the title bar, none below; two between the bar and the list.
    view, bar = panel.view.geometry(), panel.layout().itemAt(0).geometry()  # the title, summary, toolbar row
    assert (view.left(), panel.width() - 1 - view.right(), panel.height() - 1 - view.bottom()) == (6, 6, 0)
    assert bar.top() == 4 and view.top() - bar.bottom() - 1 == 2
    assert [a.objectName() for a in panel.view.actions()] == [
        "row-pause",
        "row-resume",
        "row-retry",
        "row-show",
        "row-up",
        "row-down",
        "row-remove",
    ]


def test_the_summary_takes_the_room_the_title_and_the_toolbar_leave(qtbot, model_scene):
    panel = panel_of(qtbot, model_scene)
    bar = panel.layout().itemAt(0).layout()  # the title, summary, toolbar row
    title, summary, toolbar = (bar.itemAt(i).widget() for i in range(3))
    assert summary is panel.summary and toolbar is panel.toolbar
    assert title.width() == title.sizeHint().width() and toolbar.width() == toolbar.sizeHint().width()
    assert summary.width() > title.width()


def test_take_off_the_list_cancels_running_and_paused_rows_and_keeps_their_data(qtbot, queue_scene):
    scene = queue_scene
    scene.http.add("/big.pt", scene.data["big"], rate=20_000)
    scene.http.add("/small.pt", scene.data["small"], rate=20_000)
    scene.start()
    panel = panel_of(qtbot, scene)
    big, small = (scene.catalog.get(i) for i in ("big", "small"))
    scene.workspace.commands.download([big, small])
    wait_states(qtbot, scene, {"Big Model": ItemState.DOWNLOADING, "Small Model": ItemState.QUEUED})
    part = scene.path("big").with_name(scene.path("big").name + ".part")
    qtbot.waitUntil(lambda: part.exists() and part.stat().st_size > 0, timeout=WAIT_MS)
    # A queued row offers Pause and Cancel, not Remove: the list's action takes it off anyway.
    select(panel, 1)
    assert enabled(panel.row_actions) >= {"pause", "remove"}
    panel.row_actions["remove"].trigger()
    wait_states(qtbot, scene, {"Big Model": ItemState.DOWNLOADING})
    select(panel, 0)
    panel.row_actions["pause"].trigger()
    wait_states(qtbot, scene, {"Big Model": ItemState.PAUSED})
    select(panel, 0)
    panel.row_actions["remove"].trigger()
    wait_states(qtbot, scene, {})
    assert 0 < part.stat().st_size <= len(scene.data["big"])  # a row taken off keeps what it fetched
