"""The tree of checkpoints: groups, shared files, sizes from the HEAD probe, the search box, its indexes."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from ofa_manager.core import units
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.settings import Settings
from ofa_manager.gui import tree
from ofa_manager.gui.workspace import Workspace
from tests.windows import PETL, WAIT_MS, WINDOW_MARKS, KiB, status, wait_status

pytestmark = WINDOW_MARKS


def test_tree_model_groups_and_modeltester(qtmodeltester, server, open_window):
    server.add("ofa-large", 64 * KiB)
    server.add("ofa-tiny", 32 * KiB)
    for entry_id in PETL:
        group = ("PETL on OFA-Large", "RefCOCO+" if "plus" in entry_id else "RefCOCO")
        server.add(entry_id, 16 * KiB, group=group, path="/checkpoints/caption_huge_best.pt")
    window = open_window(server.catalog())
    qtmodeltester.check(window.model)
    qtmodeltester.check(window.proxy)

    model = window.model
    groups = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert groups == ["Pretrained backbones", "PETL on OFA-Large"]
    petl = model.index(1, 0)
    assert [model.index(r, 0, petl).data() for r in range(model.rowCount(petl))] == ["RefCOCO", "RefCOCO+"]
    assert model.index(1, tree.COL_STATUS).data() == "0 of 3 downloaded"
    # Three entries, one shared file: the group's size counts it once.
    assert model.index(1, tree.COL_SIZE).data() == units.size(16 * KiB)
    assert status(window, "ofa-tiny") == "Not downloaded"


def test_shared_file_is_marked_and_its_tooltip_names_the_others(server, open_window):
    server.add("ofa-large", 64 * KiB)
    for entry_id in PETL:
        server.add(entry_id, 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"), path="/checkpoints/caption.pt")
    window = open_window(server.catalog())
    index = window.model.index_of("refcoco-lora")
    assert not index.data(Qt.DecorationRole).isNull()
    tip = index.data(Qt.ToolTipRole)
    assert (
        "Shares one file (caption.pt) with: Adapter checkpoint on RefCOCO, Adapter checkpoint on RefCOCO+"
        in tip
    )
    assert window.model.index_of("ofa-large").data(Qt.DecorationRole) is None


def test_size_unknown_until_the_head_probe_answers(qtbot, server, open_window, http_server, models_dir):
    server.add("ofa-base", 200 * KiB, in_catalog_size=False)
    catalog = load_catalog([server.catalog()])
    not_started = Workspace(catalog, Settings(), models_dir)
    model = tree.CheckpointTreeModel(not_started.store, not_started.contents)
    assert model.index_of("ofa-base", tree.COL_SIZE).data() == "unknown"
    assert not_started.close()

    window = open_window(server.catalog())
    size = window.model.index_of("ofa-base", tree.COL_SIZE)
    # The probe runs in the background after the first scan; the column fills in when it answers.
    qtbot.waitUntil(lambda: size.data() == units.size(200 * KiB), timeout=WAIT_MS)
    assert http_server.requests_for("/checkpoints/ofa-base.pt", "HEAD")
    assert not http_server.requests_for("/checkpoints/ofa-base.pt", "GET")


def test_a_size_probe_that_gets_no_answer_does_not_call_the_link_broken(qtbot, server, open_window):
    import socket

    # A port nobody listens on: connection refused, as when offline or behind a blocking proxy.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    server.add("ofa-base", 200 * KiB, in_catalog_size=False)
    server.add("ofa-tiny", 100 * KiB, in_catalog_size=False, statuses=[404] * 3)
    server.entries[0]["url"] = f"http://127.0.0.1:{closed_port}/ofa-base.pt"
    window = open_window(server.catalog())
    # A server that answers 404 has a broken link, and the row says so; no answer at all is not news
    # about the link: that row stays "Not downloaded", and the status bar says the server is unreachable.
    wait_status(qtbot, window, "ofa-tiny", "Not downloaded — link failed: 404 Not Found")
    said = window.message_label.text
    qtbot.waitUntil(lambda: said().startswith(f"No answer from 127.0.0.1:{closed_port} ("), timeout=WAIT_MS)
    assert said().endswith("sizes stay unknown — Check Links asks again")
    assert status(window, "ofa-base") == "Not downloaded"
    assert window.model.index_of("ofa-base", tree.COL_SIZE).data() == "unknown"


def test_search_box_filters_and_keeps_groups(qtbot, server, open_window):
    server.add("ofa-large", 64 * KiB)
    server.add("ofa-tiny", 32 * KiB)
    for entry_id in PETL:
        server.add(entry_id, 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"), path="/checkpoints/caption.pt")
    window = open_window(server.catalog())
    qtbot.keyClicks(window.search, "lora")
    proxy = window.proxy
    assert proxy.rowCount() == 1
    petl = proxy.index(0, 0)
    refcoco = proxy.index(0, 0, petl)
    shown = [proxy.index(r, 0, refcoco).data() for r in range(proxy.rowCount(refcoco))]
    assert shown == ["LoRA checkpoint on RefCOCO"]
    window.search.clear()
    assert proxy.rowCount() == 2


def test_index_helpers_do_not_leak_invalid_indexes(server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    assert window.model.parent(QModelIndex()) == QModelIndex()
    assert window.model.parent() is window
