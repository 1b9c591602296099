"""The disk panel's parts over a real models folder and the window's store, without the window: the
files-by-size rows, the figures and their labels, and the bar as it is painted."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from ofa_manager.core.file_status import DiskUsage
from ofa_manager.gui import disk
from ofa_manager.gui.i18n import size_text
from ofa_manager.gui.status import display_path
from tests.model_scene import SIZES
from tests.windows import WINDOW_MARKS

pytestmark = WINDOW_MARKS


def usage(downloaded: int, partial: int, other: int, free: int, total: int) -> DiskUsage:
    return DiskUsage(downloaded, partial, other, free, total, per_entry={}, per_file={})


def rows(model) -> list[list]:
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_figures_add_up_to_the_volume():
    assert disk.figures(usage(10, 20, 30, 40, 1000)) == {
        "downloaded": 10,
        "partial": 20,
        "other": 30,
        "rest": 900,
        "free": 40,
    }
    # A volume whose figures overlap (the folder's files counted on another volume too): no negative rest.
    assert disk.figures(usage(500, 0, 0, 600, 1000))["rest"] == 0
    assert [disk.segment_label(key) for key, *_ in disk.SEGMENTS] == [
        "Checkpoints",
        "Partial files",
        "Other data in the folder",
        "Rest of the volume",
        "Free",
    ]


def test_files_by_size_with_shared_and_partial_files(qtmodeltester, model_scene):
    store = model_scene.store
    model = disk.UsageModel(store)
    qtmodeltester.check(model)
    resets: list[tuple[str, int]] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(("before", model.rowCount())))
    model.modelReset.connect(lambda: resets.append(("after", model.rowCount())))
    assert model.rowCount() == 0 and model.columnCount() == 3
    assert [model.headerData(c, Qt.Horizontal) for c in range(3)] == ["Checkpoint", "Size", "Share"]
    assert model.headerData(3, Qt.Horizontal) is None and model.headerData(-1, Qt.Horizontal) is None
    assert model.headerData(0, Qt.Vertical) is None
    assert model.headerData(0, Qt.Horizontal, Qt.ToolTipRole) is None
    model_scene.download("big", "petl-a", "small")
    part = store.library.part_path(model_scene.catalog.get("small"))
    model_scene.path("small").rename(part)
    model_scene.scan()
    assert resets == [("before", 0), ("after", 3)]
    everything = sum(SIZES.values())
    share = {name: f"{round(100 * size / everything)} %" for name, size in SIZES.items()}
    assert rows(model) == [
        ["Big Model", size_text(SIZES["big"]), share["big"]],
        ["Small Model (partial)", size_text(SIZES["small"]), share["small"]],
        ["Adapter A + 1 other sharing the file", size_text(SIZES["petl"]), share["petl"]],
    ]
    first = model.index(0, 0)
    assert first.data(Qt.ToolTipRole) == f"{model_scene.path('big')}\nBig Model"
    assert model.index(2, 1).data(Qt.ToolTipRole) == f"{model_scene.path('petl-a')}\nAdapter A\nAdapter B"
    right = Qt.AlignRight | Qt.AlignVCenter
    assert [model.index(0, c).data(Qt.TextAlignmentRole) for c in range(3)] == [None, right, right]
    assert first.data(Qt.FontRole) is None
    # No children, and nothing for a row that is not there.
    assert model.rowCount(first) == 0 and model.columnCount(first) == 0
    assert model.data(QModelIndex()) is None
    assert model.data(model.createIndex(3, 0)) is None and model.data(model.createIndex(-1, 0)) is None
    # A file no catalog entry names shows its path; rows are replaced inside one reset.
    store._set_usage(store.usage, [("/x/y.bin", 10, [], False), ("/x/z.bin", 0, [], True)])
    assert resets[-2:] == [("before", 3), ("after", 2)]
    assert rows(model) == [["/x/y.bin", "10 Bytes", "100 %"], ["/x/z.bin (partial)", "0 Bytes", "0 %"]]
    store._set_usage(store.usage, [("/x/z.bin", 0, [], False)])
    assert rows(model) == [["/x/z.bin", "0 Bytes", "0 %"]]  # nothing at all: no division by zero


def test_the_panel_says_the_folder_and_each_figure(model_scene):
    store = model_scene.store
    panel = disk.DiskPanel(store)
    root = display_path(store.library.root)
    assert panel.folder.text() == f"Models folder <b>{root}</b>"
    assert {label.text() for label in panel.figure_labels.values()} == {"…"}
    assert panel.bar.accessibleDescription() == "Not measured yet"
    model_scene.download("big")
    model_scene.scan()
    figures = disk.figures(store.usage)
    assert (
        panel.folder.text() == f"Models folder <b>{root}</b><br>on a volume of {size_text(store.usage.total)}"
    )
    assert {key: label.text() for key, label in panel.figure_labels.items()} == {
        key: size_text(value) for key, value in figures.items()
    }
    assert figures["downloaded"] == SIZES["big"]
    assert panel.figure_labels["free"].toolTip() == (
        f"{store.usage.free:,} bytes free of {store.usage.total:,}"
    )
    labels = ["Checkpoints", "Partial files", "Other data in the folder", "Rest of the volume", "Free"]
    keys = ["downloaded", "partial", "other", "rest", "free"]
    words = [f"{label}: {size_text(figures[key])}" for key, label in zip(keys, labels, strict=True)]
    assert panel.bar.accessibleDescription() == "; ".join(words)
    assert panel.bar.toolTip() == "\n".join(words)
    assert panel.bar.accessibleName() == "Disk usage of the models folder's volume"
    # A figure that goes back to unknown (a new folder, not scanned yet) says so again.
    store.forget_disk()
    assert {label.text() for label in panel.figure_labels.values()} == {"…"}
    assert panel.bar.accessibleDescription() == "Not measured yet"


def colour_at(image, x: int) -> str:
    return QColor(image.pixel(x, image.height() // 2)).name()


def test_the_bar_paints_each_segment_in_proportion_and_a_tiny_one_still_shows(model_scene):
    store = model_scene.store
    bar = disk.UsageBar(store)
    bar.resize(400, 22)
    assert bar.sizeHint().width() == 240 and bar.sizeHint().height() == 22
    frame = QColor(bar.palette().mid().color()).name()
    # Not measured: the frame alone.
    empty = bar.grab().toImage()
    assert colour_at(empty, 0) == frame
    # Half checkpoints, a quarter other data, a quarter free (one byte of partial data on top).
    store._set_usage(usage(500_000, 1, 250_000, 250_000, 1_000_000), store.usage_rows)
    image = bar.grab().toImage()
    colours = {key: color for key, _label, color in disk.SEGMENTS}
    assert colour_at(image, 100) == colours["downloaded"]
    assert colour_at(image, 250) == colours["other"]
    assert colour_at(image, 350) == colours["free"]
    # The frame is one pixel round the bar: the segments fill everything inside it.
    inside = {QColor(image.pixel(x, y)).name() for x in (1, 100) for y in (1, image.height() - 2)}
    assert inside == {colours["downloaded"]}
    assert QColor(image.pixel(398, 10)).name() == colours["free"]
    edges = {QColor(image.pixel(x, y)).name() for x, y in ((100, 0), (100, image.height() - 1), (0, 10))}
    assert not edges & set(colours.values())  # the frame's own colour (blended with the segment's)
    # The one byte of partial data gets a few pixels of its own right after the checkpoints.
    edge = next(x for x in range(150, 260) if colour_at(image, x) != colours["downloaded"])
    assert 195 <= edge <= 200
    assert colours["partial"] in {colour_at(image, x) for x in range(edge, edge + 3)}
    assert colour_at(image, edge + 4) == colours["other"]
    # A volume of no size is not divided by.
    store._set_usage(usage(0, 0, 0, 0, 0), store.usage_rows)
    assert colour_at(bar.grab().toImage(), 100) != colours["downloaded"]


def test_the_panels_labels_and_list(qtbot, model_scene):
    from PySide6.QtWidgets import QHeaderView, QLabel, QTreeView

    panel = disk.DiskPanel(model_scene.store)
    qtbot.addWidget(panel)
    assert panel.model.parent() is panel and panel.bar.parent() is panel
    texts = [label.text() for label in panel.findChildren(QLabel)]
    assert "<b>Disk usage</b>" in texts and "<b>By size</b>" in texts
    labels = ["Checkpoints", "Partial files", "Other data in the folder", "Rest of the volume", "Free"]
    for label in labels:
        assert label in texts
    names = [label.accessibleName() for label in panel.findChildren(QLabel) if label.accessibleName()]
    assert names == [f"Colour of {label} in the bar" for label in labels]
    assert panel.folder.wordWrap() and panel.folder.textInteractionFlags() == Qt.TextSelectableByMouse
    files = panel.files
    assert files.objectName() == "disk-files" and files.model() is panel.model
    assert not files.rootIsDecorated() and files.uniformRowHeights()
    assert files.selectionMode() == QTreeView.NoSelection
    header = files.header()
    assert not header.stretchLastSection()
    assert header.sectionResizeMode(disk.COL_FILE) == QHeaderView.Stretch
    metrics = panel.fontMetrics()
    assert header.sectionSize(disk.COL_SIZE) == metrics.horizontalAdvance(size_text(1023.9 * 2**20)) + 16
    assert header.sectionSize(disk.COL_SHARE) == metrics.horizontalAdvance("Share") + 24
    assert [label.alignment() for label in panel.figure_labels.values()] == [
        Qt.AlignRight | Qt.AlignVCenter
    ] * 5
    # Each figure's row: its colour dot, its name (the column that stretches), its value on the right.
    from PySide6.QtWidgets import QGridLayout, QVBoxLayout

    grid = next(item for item in panel.layout().children() if isinstance(item, QGridLayout))
    for row, key in enumerate(keys_in_order()):
        dot, name, value = (grid.itemAtPosition(row, column).widget() for column in range(3))
        dot_image = dot.pixmap().toImage()
        assert (dot_image.width(), dot_image.height()) == (14, 14)
        assert QColor(dot_image.pixel(7, 7)).name() == dict((k, c) for k, _l, c in disk.SEGMENTS)[key]
        assert dot.accessibleName().startswith("Colour of ")
        assert name.text() == disk.segment_label(key) and value is panel.figure_labels[key]
    assert [grid.columnStretch(c) for c in range(3)] == [0, 1, 0]
    layout = panel.layout()
    assert isinstance(layout, QVBoxLayout) and layout.stretch(layout.indexOf(files)) == 1
    assert [layout.stretch(i) for i in range(layout.count()) if i != layout.indexOf(files)] == [0] * 5
    # The store's folder and figures reach the panel as they change.
    model_scene.scan()
    assert panel.figure_labels["free"].text() != "…"
    model_scene.store.forget_disk()
    model_scene.store.folder_changed.emit()
    assert panel.figure_labels["free"].text() == "…"


def keys_in_order() -> list[str]:
    return ["downloaded", "partial", "other", "rest", "free"]
