"""The checkpoint tree's model over a real models folder and the window's store, without the window:
what each cell says for each state, what sorts and searches, and which cells a change repaints."""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, QObject, Qt

from ofa_manager.core import units
from ofa_manager.core.states import ItemState
from ofa_manager.gui import i18n, tree
from ofa_manager.gui.delegates import StatusColors
from ofa_manager.gui.status import display_path, status_tooltip
from tests.model_scene import SIZES, WAIT_MS, Spy
from tests.windows import WINDOW_MARKS

pytestmark = WINDOW_MARKS

COLUMNS = range(len(tree.HEADERS))


def cells(model, entry_id: str, role: int = tree.DISPLAY) -> list:
    return [model.index_of(entry_id, column).data(role) for column in COLUMNS]


def group(model, *titles: str) -> QModelIndex:
    index = QModelIndex()
    for title in titles:
        rows = [model.index(r, 0, index) for r in range(model.rowCount(index))]
        index = next(i for i in rows if i.data() == title)
    return index


def group_cells(model, *titles: str, role: int = tree.DISPLAY) -> list:
    found = group(model, *titles)
    return [model.index(found.row(), column, found.parent()).data(role) for column in COLUMNS]


def test_structure_headers_and_flags(qtmodeltester, model_scene):
    owner = QObject()
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents, owner)
    qtmodeltester.check(model)
    assert model.parent() is owner  # QObject's parent() without arguments, as Qt's overload
    assert [model.headerData(c, Qt.Horizontal) for c in COLUMNS] == [
        "Name",
        "Parameters",
        "Size",
        "Status",
        "Location",
    ]
    assert model.headerData(5, Qt.Horizontal) is None and model.headerData(-1, Qt.Horizontal) is None
    assert (
        model.headerData(0, Qt.Vertical) is None
        and model.headerData(0, Qt.Horizontal, Qt.ToolTipRole) is None
    )
    assert model.columnCount() == 5
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["Backbones", "PETL"]
    backbones, petl = model.index(0, 0), model.index(1, 0)
    assert [model.index(r, 0, backbones).data() for r in range(model.rowCount(backbones))] == [
        "Big Model",
        "Small Model",
    ]
    assert [model.index(r, 0, petl).data() for r in range(model.rowCount(petl))] == ["RefCOCO", "RefCOCO+"]
    # Only the first column has children; out-of-range rows and columns give no index.
    assert model.rowCount(model.index(0, 1)) == 0
    assert not model.index(0, 1, model.index(0, 1)).isValid()
    assert not model.index(2, 0).isValid() and not model.index(0, 5).isValid()
    assert not model.index(-1, 0).isValid() and not model.index(0, -1).isValid()
    assert model.index(0, 4).isValid() and model.index(1, 0).isValid()
    # A checkpoint's parent is its group's first cell; a top group's parent is the root.
    lora = model.index_of("petl-a", tree.COL_STATUS)
    assert lora.parent().data() == "RefCOCO" and lora.parent().column() == 0
    assert lora.parent().parent().data() == "PETL" and lora.parent().parent().row() == 1
    assert not lora.parent().parent().parent().isValid()
    assert not model.parent(QModelIndex()).isValid()
    assert model.index_of("small").row() == 1 and model.index_of("small").column() == tree.COL_NAME
    # A checkpoint row never has children and says so; a group does not.
    never = Qt.ItemFlag.ItemNeverHasChildren
    assert model.flags(model.index_of("big")) & never
    assert not model.flags(backbones) & never
    assert model.flags(backbones) & Qt.ItemFlag.ItemIsSelectable and model.flags(backbones) & Qt.ItemIsEnabled
    assert model.flags(QModelIndex()) == Qt.NoItemFlags
    assert model.node(QModelIndex()) is None and model.node(backbones).title == "Backbones"
    assert [e.id for e in model.node(petl).entries()] == ["petl-a", "petl-b"]


def test_cells_before_the_first_scan(model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    path = model_scene.path("big")
    assert cells(model, "big") == ["Big Model", "470M", units.size(SIZES["big"]), "Checking…", ""]
    assert cells(model, "small")[1:3] == ["—", "unknown"]
    assert model.index_of("big", tree.COL_LOCATION).data(Qt.ToolTipRole) == f"Will be saved as {path}"
    assert model.index_of("big", tree.COL_SIZE).data(Qt.ToolTipRole) == "300,000 bytes"
    assert model.index_of("small", tree.COL_SIZE).data(Qt.ToolTipRole) == (
        "Size unknown: the server has not said yet"
    )
    # Assistive technology: a word for an empty cell, the location's own word for no file yet.
    assert model.index_of("big", tree.COL_LOCATION).data(tree.ACCESSIBLE_TEXT) == "No local file"
    assert model.index_of("big", tree.COL_NAME).data(tree.ACCESSIBLE_TEXT) == "Big Model"
    assert group_cells(model, "Backbones", role=tree.ACCESSIBLE_TEXT)[tree.COL_PARAMS] == "None"
    assert model.index_of("big", tree.COL_SIZE).data(tree.ACCESSIBLE_DESCRIPTION) == "300,000 bytes"
    # The group's size counts what is known and says how many are not.
    assert group_cells(model, "Backbones")[tree.COL_SIZE] == f"{units.size(SIZES['big'])} + 1 unknown"
    assert group_cells(model, "PETL")[tree.COL_SIZE] == units.size(SIZES["petl"])  # one shared file
    assert group_cells(model, "PETL")[tree.COL_STATUS] == "0 of 2 downloaded"
    # A role the model does not answer, and an invalid index, give nothing.
    assert model.index_of("big").data(Qt.SizeHintRole) is None
    assert model.data(QModelIndex(), tree.DISPLAY) is None
    assert model.data(QModelIndex(), tree.SORT) is None


def test_downloaded_files_fill_their_rows_and_groups(model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    colors = StatusColors()
    model_scene.download("big", "petl-a")
    model_scene.scan()
    big = model_scene.path("big")
    assert cells(model, "big")[tree.COL_STATUS] == "Verified"
    assert cells(model, "big")[tree.COL_LOCATION] == display_path(big)
    assert model.index_of("big", tree.COL_LOCATION).data(Qt.ToolTipRole) == str(big)
    assert model.index_of("big", tree.COL_STATUS).data(tree.FOREGROUND) == colors["good"]
    state = model_scene.store.entry_state(model_scene.catalog.get("big"))
    assert model.index_of("big", tree.COL_STATUS).data(Qt.ToolTipRole) == status_tooltip(state)
    assert model.index_of("big", tree.COL_STATUS).data(tree.ACCESSIBLE_DESCRIPTION) == status_tooltip(state)
    assert model.index_of("small", tree.COL_STATUS).data(tree.FOREGROUND) is None
    assert model.index_of("small", tree.COL_STATUS).data(tree.DISPLAY) == "Not downloaded"
    # The shared file counts for both of its checkpoints, and for each group above them.
    assert cells(model, "petl-b")[tree.COL_STATUS] == cells(model, "petl-a")[tree.COL_STATUS]
    assert group_cells(model, "PETL")[tree.COL_STATUS] == "2 of 2 downloaded"
    assert group_cells(model, "PETL", "RefCOCO+")[tree.COL_STATUS] == "1 of 1 downloaded"
    assert group_cells(model, "Backbones")[tree.COL_STATUS] == "1 of 2 downloaded"
    assert group_cells(model, "Backbones", role=Qt.ToolTipRole)[tree.COL_STATUS] == "1 of 2 downloaded"
    # The small one's size comes from its file once it is here.
    model_scene.download("small")
    model_scene.scan()
    assert cells(model, "small")[tree.COL_SIZE] == units.size(SIZES["small"])
    total = SIZES["big"] + SIZES["small"]
    assert group_cells(model, "Backbones")[tree.COL_SIZE] == units.size(total)
    assert group(model, "Backbones").siblingAtColumn(tree.COL_SIZE).data(tree.SORT) == float(total)


def test_group_cells_and_the_name_column(model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    backbones = group_cells(model, "Backbones", role=tree.DISPLAY)
    assert backbones[tree.COL_NAME] == "Backbones" and backbones[tree.COL_PARAMS] == ""
    assert backbones[tree.COL_LOCATION] == ""
    assert group_cells(model, "Backbones", role=tree.FONT)[tree.COL_NAME].bold()
    assert group_cells(model, "Backbones", role=tree.FONT)[tree.COL_SIZE] is None
    assert group_cells(model, "Backbones", role=Qt.ToolTipRole) == [
        None,
        None,
        "Total of the distinct files in this group (shared files counted once)",
        "0 of 2 downloaded",
        None,
    ]
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    assert group_cells(model, "Backbones", role=tree.ALIGNMENT) == [None, None, right, None, None]
    assert cells(model, "big", tree.ALIGNMENT) == [None, right, right, None, None]
    assert cells(model, "big", tree.FONT) == [None] * 5
    assert group_cells(model, "PETL", role=tree.ENTRY_ID) == [""] * 5
    assert cells(model, "petl-a", tree.ENTRY_ID) == ["petl-a"] * 5
    assert group_cells(model, "PETL", role=tree.SEARCH)[0] == "PETL"
    # Every word the search box matches: title (and its translation), id, groups, file, params, description.
    assert (
        model.index_of("big").data(tree.SEARCH)
        == "Big Model Big Model big Backbones big.pt 470M The large one."
    )
    assert (
        model.index_of("small", tree.COL_SIZE).data(tree.SEARCH)
        == "Small Model Small Model small Backbones small.pt  "
    )
    assert (
        model.index_of("petl-a").data(tree.SEARCH) == "Adapter A Adapter A petl-a PETL RefCOCO petl.pt 1.5B "
    )
    # The name's tooltip: title and id, description, the backbone it needs, the files it shares, the URL.
    assert model.index_of("big").data(Qt.ToolTipRole).split("\n") == [
        "Big Model (big)",
        "The large one.",
        model_scene.catalog.get("big").url,
    ]
    assert model.index_of("petl-a").data(Qt.ToolTipRole).split("\n") == [
        "Adapter A (petl-a)",
        "Needs the backbone Big Model.",
        "Shares one file (petl.pt) with: Adapter B. It is downloaded and stored once; deleting it removes "
        "it for all of them.",
        model_scene.catalog.get("petl-a").url,
    ]
    assert model.index_of("petl-a").data(Qt.DecorationRole) is not None
    assert model.index_of("big").data(Qt.DecorationRole) is None
    assert model.index_of("big", tree.COL_STATUS).data(Qt.DecorationRole) is None  # no content mismatch
    assert model.index_of("big", tree.COL_PARAMS).data(Qt.ToolTipRole) is None
    assert model.index_of("big", tree.COL_LOCATION).data(tree.FOREGROUND) is None
    assert model.index_of("big", tree.COL_STATUS).data(tree.ALIGNMENT) is None


def test_sort_keys_are_one_type_per_column(model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    model_scene.download("big")
    model_scene.scan()
    assert cells(model, "big", tree.SORT) == [
        "big model",
        470e6,
        float(SIZES["big"]),
        "Verified",
        str(model_scene.path("big")),
    ]
    assert cells(model, "small", tree.SORT) == ["small model", 0.0, 0.0, "Not downloaded", ""]
    assert cells(model, "petl-a", tree.SORT)[tree.COL_PARAMS] == 1.5e9
    assert cells(model, "petl-b", tree.SORT)[tree.COL_PARAMS] == 33e3
    assert group_cells(model, "Backbones", role=tree.SORT) == [
        "backbones",
        0.0,
        float(SIZES["big"]),
        "1 of 2 downloaded",
        "",
    ]
    assert tree.params_value("2.5 b") == 2.5e9 and tree.params_value(" 7 ") == 7.0
    assert tree.params_value(None) == 0.0 and tree.params_value("many") == 0.0


def test_progress_and_the_status_colour_follow_the_queue(model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    colors = StatusColors()
    model_scene.scan()
    status = model.index_of("big", tree.COL_STATUS)
    assert status.data(tree.PROGRESS) == tree.NO_PROGRESS
    item = model_scene.add(model_scene.item("big", ItemState.QUEUED, total=SIZES["big"]))
    assert status.data(tree.PROGRESS) == tree.NO_PROGRESS  # queued: no bar yet
    assert status.data(tree.FOREGROUND) is None
    item = model_scene.change(item, state=ItemState.DOWNLOADING, done=SIZES["big"] // 4)
    assert status.data(tree.PROGRESS) == 0.25
    assert model.index_of("big", tree.COL_SIZE).data(tree.PROGRESS) == tree.NO_PROGRESS
    assert group(model, "Backbones").siblingAtColumn(tree.COL_STATUS).data(tree.PROGRESS) == tree.NO_PROGRESS
    assert group_cells(model, "Backbones")[tree.COL_STATUS] == "0 of 2 downloaded, 1 downloading"
    assert status.data(tree.FOREGROUND) is None
    item = model_scene.change(item, done=SIZES["big"] * 2)
    assert status.data(tree.PROGRESS) == 1.0  # never past the end
    item = model_scene.change(item, total=None, done=10)
    assert status.data(tree.PROGRESS) == tree.NO_PROGRESS  # no size: no fraction
    item = model_scene.change(item, state=ItemState.FAILED, error="boom")
    assert status.data(tree.FOREGROUND) == colors["bad"]
    assert status.data(tree.PROGRESS) == tree.NO_PROGRESS
    assert group_cells(model, "Backbones")[tree.COL_STATUS] == "0 of 2 downloaded"
    # A verification shows its own fraction, whatever the queue says.
    model_scene.store.verifying[model_scene.key("big")] = 0.5
    assert status.data(tree.PROGRESS) == 0.5


def test_status_colours_for_files_on_disk(model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    colors = StatusColors()
    model_scene.download("big", "small")
    # A file ofa-manager did not put there, and a downloaded file a verification found corrupt.
    model_scene.path("petl-a").write_bytes(b"someone else's")
    library, big = model_scene.store.library, model_scene.catalog.get("big")
    library.write_meta(big, {**library.read_meta(big), "state": "corrupt"})
    model_scene.scan()
    assert model.index_of("petl-a", tree.COL_STATUS).data(tree.FOREGROUND) == colors["warn"]
    assert model.index_of("big", tree.COL_STATUS).data(tree.FOREGROUND) == colors["bad"]
    small = model.index_of("small", tree.COL_STATUS)
    assert small.data(tree.FOREGROUND) == colors["good"]
    # Done in the queue and on disk: good; while it is verified again: no colour yet.
    item = model_scene.add(
        model_scene.item("small", ItemState.DONE, total=SIZES["small"], done=SIZES["small"])
    )
    assert small.data(tree.FOREGROUND) == colors["good"]
    model_scene.store.verifying[item.key] = 0.1
    assert small.data(tree.FOREGROUND) is None
    assert small.data(tree.DISPLAY).startswith("Verifying")
    # Partial data: its location is the partial file.
    model_scene.store.verifying.clear()
    part = model_scene.store.library.part_path(model_scene.catalog.get("small"))
    model_scene.path("small").rename(part)
    model_scene.scan()
    assert model.index_of("small", tree.COL_LOCATION).data() == display_path(part)
    assert model.index_of("small", tree.COL_LOCATION).data(tree.SORT) == str(part)


def test_a_failed_link_check_colours_a_file_that_is_not_here(model_scene):
    from ofa_manager.core.http import LinkCheck

    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    model_scene.scan()
    entry = model_scene.catalog.get("small")
    model_scene.store.set_link(entry.url, LinkCheck(entry.url, 404, error="404 Not Found"))
    status = model.index_of("small", tree.COL_STATUS)
    assert status.data(tree.FOREGROUND) == StatusColors()["warn"]
    assert "404 Not Found" in status.data()


def test_changes_repaint_the_rows_and_groups_they_touch(model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    spy = Spy(model)
    store = model_scene.store
    changing = sorted(tree.CHANGING_ROLES)
    refcoco = group(model, "PETL", "RefCOCO")
    petl = group(model, "PETL")
    store.entries_changed.emit(["not-in-the-catalog", "petl-a"])  # an unknown id first: the rest still count
    assert spy.seen == [
        (refcoco, 0, 0, tree.COL_SIZE, 4, changing),  # the row, from its size to its location
        (petl, 0, 0, tree.COL_SIZE, 4, changing),  # its group, RefCOCO
        (QModelIndex(), 1, 1, tree.COL_SIZE, 4, changing),  # and the group above, PETL
    ]
    spy.clear()
    store.entries_progressed.emit(["not-in-the-catalog", "small"])
    backbones = group(model, "Backbones")
    # Progress: the status cell alone, with the progress roles only; nothing for its group.
    assert spy.seen == [(backbones, 1, 1, tree.COL_STATUS, tree.COL_STATUS, sorted(tree.PROGRESS_ROLES))]
    spy.clear()
    store.statuses_changed.emit()
    # Everything: each group's children, first to last row, every column.
    assert sorted(spy.seen, key=repr) == sorted(
        [
            (QModelIndex(), 0, 1, 0, 4, changing),
            (backbones, 0, 1, 0, 4, changing),
            (petl, 0, 1, 0, 4, changing),
            (refcoco, 0, 0, 0, 4, changing),
            (group(model, "PETL", "RefCOCO+"), 0, 0, 0, 4, changing),
        ],
        key=repr,
    )
    assert all(int(tree.Role.SEARCH) not in roles for *_, roles in spy.seen)


def test_the_filter_searches_every_word_and_keeps_the_groups_above(qtmodeltester, model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    owner = QObject()
    proxy = tree.CheckpointFilter(owner)
    assert proxy.parent() is owner
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    assert not proxy.dynamicSortFilter()
    proxy.setFilterFixedString("LARGE ONE")  # the description, any case
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["Backbones"]
    assert proxy.rowCount(proxy.index(0, 0)) == 1
    proxy.setFilterFixedString("refcoco+")  # a group's title keeps its checkpoints
    petl = proxy.index(0, 0)
    assert petl.data() == "PETL" and proxy.rowCount() == 1
    refcoco_plus = proxy.index(0, 0, petl)
    assert refcoco_plus.data() == "RefCOCO+" and proxy.rowCount(petl) == 1
    assert proxy.index(0, 0, refcoco_plus).data() == "Adapter B"
    proxy.setFilterFixedString("")
    # Sorting by parameters compares values, not the text shown ("—" for none would sort last as text).
    proxy.sort(tree.COL_PARAMS, Qt.AscendingOrder)
    backbones = next(proxy.index(r, 0) for r in range(2) if proxy.index(r, 0).data() == "Backbones")
    assert [proxy.index(r, 0, backbones).data() for r in range(2)] == ["Small Model", "Big Model"]
    proxy.sort(tree.COL_SIZE, Qt.DescendingOrder)  # by bytes: the unknown size counts as none
    backbones = next(proxy.index(r, 0) for r in range(2) if proxy.index(r, 0).data() == "Backbones")
    assert [proxy.index(r, 0, backbones).data() for r in range(2)] == ["Big Model", "Small Model"]
    proxy.sort(tree.COL_NAME, Qt.DescendingOrder)
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["PETL", "Backbones"]


def test_a_file_in_a_shared_store_is_shown_where_it_is(model_scene, tmp_path):
    from ofa_manager.core.library import Library

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "big.pt").write_bytes(model_scene.data["big"])
    store = model_scene.store
    store.set_library(Library(model_scene.dir, model_scene.catalog, stores=[shared]))
    model = tree.CheckpointTreeModel(store, model_scene.contents)
    model_scene.scan()
    location = model.index_of("big", tree.COL_LOCATION)
    assert location.data() == display_path(shared / "big.pt")
    assert location.data(Qt.ToolTipRole) == str(shared / "big.pt")
    assert model.index_of("big", tree.COL_STATUS).data(tree.FOREGROUND) == StatusColors()["good"]
    assert group_cells(model, "Backbones")[tree.COL_STATUS] == "0 of 2 downloaded"  # not in the folder


def test_a_file_that_does_not_hold_what_the_catalog_says_is_marked(qtbot, model_scene):
    model = tree.CheckpointTreeModel(model_scene.store, model_scene.contents)
    model_scene.download("petl-a")
    with qtbot.waitSignal(model_scene.contents.inspected, timeout=WAIT_MS):
        model_scene.scan()
    claimed = model.index_of("petl-b", tree.COL_STATUS)
    assert not claimed.data(Qt.DecorationRole).isNull()
    state = model_scene.store.entry_state(model_scene.catalog.get("petl-b"))
    mismatch = model_scene.contents.mismatch_of(model_scene.catalog.get("petl-b"))
    assert mismatch.startswith("holds no readable checkpoint, not ")
    assert claimed.data(Qt.ToolTipRole) == f"{status_tooltip(state)}\n\nThis file {mismatch}."
    # The other checkpoint of the same file claims nothing: no mark.
    assert model.index_of("petl-a", tree.COL_STATUS).data(Qt.DecorationRole) is None
    # In Chinese, the sentence around the mismatch is Chinese too.
    i18n.install("zh_CN")
    said = claimed.data(Qt.ToolTipRole).split("\n\n")[-1]
    assert re.search(
        r"[\u4e00-\u9fff]",
        said.replace(model_scene.contents.mismatch_of(model_scene.catalog.get("petl-b")), ""),
    ), said


def test_three_checkpoints_of_one_file_and_a_translated_group_name(qtbot, tmp_path, english):
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.core.settings import Settings
    from ofa_manager.gui.catalog_words import catalog_text
    from ofa_manager.gui.workspace import Workspace
    from tests.catalogs import entry, write_catalog

    titles = ["Adapter checkpoint on RefCOCO", "LoRA checkpoint on RefCOCO", "Adapter checkpoint on RefCOCO+"]
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry(f"e{n}", "http://127.0.0.1:9/x.pt", title=title, group=["Pretrained backbones"], size=10)
            for n, title in enumerate(titles)
        ],
    )
    (tmp_path / "models").mkdir()
    workspace = Workspace(load_catalog([catalog]), Settings(), tmp_path / "models")
    try:
        model = tree.CheckpointTreeModel(workspace.store, workspace.contents)
        assert model.index_of("e0").data(Qt.ToolTipRole).split("\n")[1] == (
            "Shares one file (x.pt) with: LoRA checkpoint on RefCOCO, Adapter checkpoint on RefCOCO+. It is "
            "downloaded and stored once; deleting it removes it for all of them."
        )
        # In Chinese, the group's translated name finds the group and every checkpoint in it, though their
        # own words hold the group's name as the catalog writes it.
        i18n.install("zh_CN")
        group = catalog_text("Pretrained backbones")
        assert group != "Pretrained backbones"
        model = tree.CheckpointTreeModel(workspace.store, workspace.contents)  # its titles in Chinese
        proxy = tree.CheckpointFilter()
        proxy.setSourceModel(model)
        proxy.setFilterFixedString(group)
        assert proxy.rowCount() == 1 and proxy.index(0, 0).data() == group
        assert proxy.rowCount(proxy.index(0, 0)) == 3
    finally:
        assert workspace.close()
