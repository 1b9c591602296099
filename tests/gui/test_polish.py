"""The window as people use it (issue 11): legible progress, fitting the screen, the keyboard, one summary
line for a Verify over several files, and a name for everything assistive technology meets.

The real window offscreen against the loopback server, as in test_gui.py (whose fixtures these reuse).
"""

# ruff: noqa: F811  (the fixtures imported from test_gui are parameters of the tests)
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QAccessible, QColor, QFontMetrics, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication, QToolButton  # noqa: E402

from ofa_manager.core.library import State  # noqa: E402
from ofa_manager.gui import downloads, tree  # noqa: E402
from ofa_manager.gui.delegates import fitting_text  # noqa: E402
from tests.catalogs import REPO, rot  # noqa: E402
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB, MiB, row_of, status, wait_status  # noqa: E402

pytestmark = WINDOW_MARKS


# -- 1. progress that reads in every state --------------------------------------------------------


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in (
        (QPalette.Window, "#2b2b2b"),
        (QPalette.WindowText, "#e8e8e8"),
        (QPalette.Base, "#1e1e1e"),
        (QPalette.AlternateBase, "#262626"),
        (QPalette.Text, "#e8e8e8"),
        (QPalette.Button, "#353535"),
        (QPalette.ButtonText, "#e8e8e8"),
        (QPalette.Highlight, "#3d7fc4"),
        (QPalette.HighlightedText, "#ffffff"),
    ):
        palette.setColor(role, QColor(color))
    return palette


def luminance(color: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.red()) + 0.7152 * channel(color.green()) + 0.0722 * channel(color.blue())


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def off_blend(pixel: QColor, ground: QColor, ink: QColor) -> float:
    """How far (0-255) a pixel is from every blend of ``ground`` and ``ink`` (antialiased text is one)."""
    p = (pixel.red(), pixel.green(), pixel.blue())
    g = (ground.red(), ground.green(), ground.blue())
    i = (ink.red(), ink.green(), ink.blue())
    d = [i[k] - g[k] for k in range(3)]
    span = sum(x * x for x in d) or 1
    t = max(0.0, min(1.0, sum((p[k] - g[k]) * d[k] for k in range(3)) / span))
    return max(abs(p[k] - (g[k] + t * d[k])) for k in range(3))


def text_band(window, entry_id: str, column: int = tree.COL_STATUS):
    """A cell's picture above the progress bar: (pixels, ground colour)."""
    view = window.tree
    index = window.proxy.mapFromSource(window.model.index_of(entry_id, column))
    rect = view.visualRect(index)
    image = view.viewport().grab(rect).toImage()
    height = image.height() - 6  # the bar and the gap above it
    pixels = [QColor(image.pixel(x, y)) for y in range(height) for x in range(image.width())]
    ground = QColor(Counter(p.rgb() for p in pixels).most_common(1)[0][0])
    return pixels, ground


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_progress_text_stands_on_plain_ground_selected_or_not(qtbot, server, open_window, dark):
    server.add("ofa-base", 8 * MiB, rate=200 * KiB)
    server.add("ofa-tiny", 64 * KiB)
    app = QApplication.instance()
    before = app.palette()
    if dark:
        app.setPalette(dark_palette())
    try:
        window = open_window(server.catalog())
        window.resize(1280, 700)
        window.download([window.store.catalog.get("ofa-base")])
        wait_status(qtbot, window, "ofa-base", r"\d+ % — .* left")
        for selected in (False, True):
            if selected:
                window.select(["ofa-base"])
            else:
                window.tree.selectionModel().clearSelection()
            palette = window.tree.palette()
            ink = palette.color(QPalette.Inactive, QPalette.HighlightedText if selected else QPalette.Text)
            active_ink = palette.color(
                QPalette.Active, QPalette.HighlightedText if selected else QPalette.Text
            )
            pixels, ground = text_band(window, "ofa-base")
            inks = [c for c in (ink, active_ink) if any(off_blend(p, ground, c) < 40 for p in pixels)]
            assert inks, "no text in the palette's text colour"
            # Every pixel is the ground, the text colour or a blend of them: nothing drawn under the text.
            stray = [p for p in pixels if off_blend(p, ground, inks[0]) > 40]
            assert len(stray) <= len(pixels) // 100, (selected, ground.name(), [s.name() for s in stray[:5]])
            # The palette's own pair for the state: a selected row reads as the rest of that row (Fusion's
            # white on #308cc6 is 3.7:1, enough for its bold-sized text only; WCAG's large-text level).
            assert contrast(ground, inks[0]) >= (3.0 if selected else 4.5), (selected, ground.name())
            row_ground = text_band(window, "ofa-base", tree.COL_NAME)[1]
            assert off_blend(ground, row_ground, row_ground) <= 8, (ground.name(), row_ground.name())
    finally:
        app.setPalette(before)


def test_status_colours_read_on_a_light_and_a_dark_base(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-medium", 64 * KiB, statuses=[404] * 10)
    app = QApplication.instance()
    before = app.palette()
    try:
        window = open_window(server.catalog())
        window.download([window.store.catalog.get("ofa-tiny")])
        window.download([window.store.catalog.get("ofa-medium")])
        wait_status(qtbot, window, "ofa-tiny", "Downloaded")
        wait_status(qtbot, window, "ofa-medium", "Failed: .*")
        failed_row = window.downloads.model.index(row_of(window, "ofa-medium"), downloads.COL_STATE)
        for palette in (before, dark_palette()):
            app.setPalette(palette)
            for base in (QPalette.Base, QPalette.AlternateBase):
                ground = app.palette().color(base)
                for cell in (window.model.index_of("ofa-tiny", tree.COL_STATUS), failed_row):
                    ink = cell.data(Qt.ForegroundRole).color()
                    assert contrast(ink, ground) >= 4.5, (ink.name(), ground.name())
    finally:
        app.setPalette(before)


def test_narrow_progress_keeps_how_far_and_how_long(qapp):
    metrics = QFontMetrics(QApplication.font())
    text = "71 % — 11.8 MiB/s — 1 min 11 s left"
    assert fitting_text(text, metrics.horizontalAdvance(text), metrics) == text
    shorter = "71 % — 1 min 11 s left"
    assert fitting_text(text, metrics.horizontalAdvance(shorter), metrics) == shorter
    assert fitting_text(text, metrics.horizontalAdvance("71 % — 1 min"), metrics) == "71 %"
    narrow = metrics.horizontalAdvance("Verifying…")
    assert fitting_text("Verifying 42 %", narrow, metrics).endswith("…")


# -- 2. the screen it opens on --------------------------------------------------------------------


def on_screen(tmp_path: Path, width: int, height: int, *extra: str) -> dict:
    """The real window opened in a child process on an offscreen screen of this size."""
    config = tmp_path / f"screen-{width}x{height}.json"
    screen = {"name": "test", "x": 0, "y": 0, "width": width, "height": height}
    screen.update(logicalDpi=96, logicalBaseDpi=96, dpr=1)
    config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "tests.screen_window", str(width), str(height)]
        + [str(REPO / "resources" / "catalog.json"), str(models), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def inside(frame: list[int], available: list[int]) -> bool:
    x, y, w, h = frame
    ax, ay, aw, ah = available
    return ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah


def test_a_small_screen_holds_the_whole_window(tmp_path):
    facts = on_screen(tmp_path, 1024, 600)
    assert inside(facts["frame"], facts["available"]), facts
    # The toolbar gives up its labels rather than hide buttons behind its overflow menu.
    assert all(facts["toolbar_buttons_shown"].values()), facts
    assert not facts["toolbar_overflows"]
    assert facts["toolbar_labels"] == "ToolButtonIconOnly"
    assert facts["search_width"] >= 200
    assert not facts["downloads_toolbar_overflows"]
    # The tree, the side tabs and the downloads all keep a usable share.
    assert facts["tree_rows_visible"] >= 10 and facts["side"][0] >= 220 and facts["downloads"][1] >= 150
    # The status column is on screen whole and holds a progress line without its speed at least.
    assert facts["status_column_visible"] >= facts["status_column"] >= facts["short_progress"]


def test_a_roomy_screen_shows_labels_and_whole_progress_lines(tmp_path):
    facts = on_screen(tmp_path, 1280, 800)
    assert inside(facts["frame"], facts["available"]), facts
    assert facts["toolbar_labels"] == "ToolButtonTextBesideIcon"
    assert all(facts["toolbar_buttons_shown"].values()) and not facts["toolbar_overflows"]
    assert facts["status_column_visible"] >= facts["status_column"] >= facts["full_progress"]


def test_a_place_saved_on_a_larger_screen_is_brought_onto_this_one(tmp_path):
    facts = on_screen(tmp_path, 1024, 600, "--saved", "1500,900,1600,1000")
    assert inside(facts["frame"], facts["available"]), facts


# -- 3. the keyboard ------------------------------------------------------------------------------


def test_enter_and_keypad_enter_do_what_a_double_click_does(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-base", 64 * KiB)
    window = open_window(server.catalog())
    ws = window.store
    view = window.tree
    view.setFocus()
    view.setCurrentIndex(window.proxy.mapFromSource(window.model.index_of("ofa-tiny")))
    qtbot.keyClick(view, Qt.Key_Return)
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    view.setCurrentIndex(window.proxy.mapFromSource(window.model.index_of("ofa-base")))
    qtbot.keyClick(view, Qt.Key_Enter, Qt.KeypadModifier)
    wait_status(qtbot, window, "ofa-base", "Downloaded")
    assert {e.id for e in ws.catalog if ws.item_for(e) is not None} == {"ofa-tiny", "ofa-base"}
    # On a group, Enter opens or closes it, as a double-click does.
    group = window.proxy.index(0, 0)
    view.setCurrentIndex(group)
    assert view.isExpanded(group)
    qtbot.keyClick(view, Qt.Key_Return)
    assert not view.isExpanded(group)
    qtbot.keyClick(view, Qt.Key_Enter, Qt.KeypadModifier)
    assert view.isExpanded(group)


def test_escape_in_the_search_box_clears_it(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-base", 64 * KiB)
    window = open_window(server.catalog())
    qtbot.keyClicks(window.search, "tiny")
    group = window.proxy.index(0, 0)
    assert window.proxy.rowCount(group) == 1
    qtbot.keyClick(window.search, Qt.Key_Escape)
    assert window.search.text() == ""
    assert window.proxy.rowCount(window.proxy.index(0, 0)) == 2


def test_retry_says_that_it_tried_even_when_it_fails_again(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB, statuses=[404] * 10)
    window = open_window(server.catalog())
    window.download([window.store.catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Failed: 404 Not Found")
    said: list[str] = []
    window.store.message.connect(said.append)
    window.select(["ofa-tiny"])
    window.actions_by_name["retry"].trigger()
    assert said[0] == "Trying OFA-Tiny again…"
    qtbot.waitUntil(lambda: any("try 2 failed too" in s for s in said), timeout=WAIT_MS)
    window.actions_by_name["retry"].trigger()
    qtbot.waitUntil(lambda: any("try 3 failed too" in s for s in said), timeout=WAIT_MS)
    assert "404 Not Found" in window.message_label.text()


# -- 9. one line for many results -----------------------------------------------------------------


def test_verify_on_many_rows_says_one_summary_and_the_rows_the_details(
    qtbot, server, open_window, models_dir
):
    for entry_id in ("ofa-tiny", "ofa-base", "ofa-medium"):
        server.add(entry_id, 200 * KiB)
    window = open_window(server.catalog())
    ws = window.store
    window.download(list(ws.catalog))
    for entry in ws.catalog:
        wait_status(qtbot, window, entry.id, "Downloaded|Verified")
    rot(models_dir / "ofa-base.pt", 1000, b"garbage!" * 64)
    said: list[str] = []
    ws.message.connect(said.append)
    window.select([e.id for e in ws.catalog])
    window.actions_by_name["verify"].trigger()
    assert window.message_label.text() == "Verifying 3 files…"
    qtbot.waitUntil(lambda: not ws.verifying and bool(said), timeout=WAIT_MS)
    assert said == ["Verified 2 of 3 — 1 differs from its hash — the rows say which"]
    assert window.message_label.text() == said[-1]
    wait_status(qtbot, window, "ofa-base", "Corrupt")
    wait_status(qtbot, window, "ofa-tiny", "Verified")
    wait_status(qtbot, window, "ofa-medium", "Verified")
    # One file alone still gets its own detailed line.
    window.select(["ofa-tiny"])
    window.actions_by_name["verify"].trigger()
    qtbot.waitUntil(lambda: "verified, sha256" in window.message_label.text(), timeout=WAIT_MS)


# -- accessibility --------------------------------------------------------------------------------

INTERACTIVE = {
    QAccessible.Role.PushButton,
    QAccessible.Role.Button if hasattr(QAccessible.Role, "Button") else QAccessible.Role.PushButton,
    QAccessible.Role.ButtonMenu,
    QAccessible.Role.ButtonDropDown,
    QAccessible.Role.CheckBox,
    QAccessible.Role.RadioButton,
    QAccessible.Role.ComboBox,
    QAccessible.Role.EditableText,
    QAccessible.Role.SpinBox,
    QAccessible.Role.Slider,
    QAccessible.Role.MenuItem,
    QAccessible.Role.PageTab,
    QAccessible.Role.TreeItem,
    QAccessible.Role.Cell,
    QAccessible.Role.ListItem,
    QAccessible.Role.ColumnHeader,
    QAccessible.Role.Link,
}


def unnamed_interactive(widget) -> tuple[list[str], Counter]:
    """Walk the accessibility tree under ``widget``; the interactive elements without a name."""
    missing: list[str] = []
    roles: Counter = Counter()
    pending = [QAccessible.queryAccessibleInterface(widget)]
    while pending:
        iface = pending.pop()
        if iface is None or not iface.isValid():
            continue
        role = iface.role()
        roles[role.name] += 1
        if role in INTERACTIVE and not iface.text(QAccessible.Text.Name).strip():
            owner = iface.object()
            where = owner.objectName() if owner is not None else ""
            parent = iface.parent()
            up = parent.text(QAccessible.Text.Name) if parent is not None else ""
            missing.append(f"{role.name} {where!r} in {up!r}")
        pending.extend(iface.child(i) for i in range(iface.childCount()))
    return missing, roles


def test_every_interactive_element_has_a_name(qtbot, server, open_window):
    server.add("ofa-base", 8 * MiB, rate=200 * KiB)
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    window.download([window.store.catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", r"\d+ % — .*")
    for labels in (Qt.ToolButtonTextBesideIcon, Qt.ToolButtonIconOnly):
        window.toolbar.setToolButtonStyle(labels)
        missing, roles = unnamed_interactive(window)
        assert not missing, missing
        # The walk reached the parts that matter: the toolbar's buttons, the rows, the search box.
        assert roles["Button"] >= 10 and roles["TreeItem"] >= 10 and roles["EditableText"] >= 1, roles
    # The painted parts say in words what they show.
    status_cell = window.model.index_of("ofa-base", tree.COL_STATUS)
    assert status_cell.data(Qt.AccessibleTextRole) == status(window, "ofa-base")
    assert status_cell.data(Qt.AccessibleDescriptionRole)
    row = row_of(window, "ofa-base")
    buttons = window.downloads.model.index(row, downloads.COL_ACTIONS)
    assert buttons.data(Qt.AccessibleTextRole) == "Pause, Cancel"
    assert window.disk.bar.accessibleName()
    qtbot.waitUntil(lambda: "Free" in window.disk.bar.accessibleDescription(), timeout=WAIT_MS)
    assert window.toolbar.findChild(QToolButton, "qt_toolbar_ext_button").accessibleName()


# -- 3. actions that cannot apply -----------------------------------------------------------------


def enabled(actions: dict, *names: str) -> dict[str, bool]:
    return {name: actions[name].isEnabled() for name in names}


def select_download_row(window, row: int) -> None:
    view = window.downloads.view
    selection = view.selectionModel()
    selection.clearSelection()
    index = window.downloads.model.index(row, downloads.COL_NAME)
    selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)


def test_actions_that_cannot_apply_are_disabled(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    server.add("ofa-medium", 64 * KiB, statuses=[404] * 10)
    server.add("ofa-base", 8 * MiB, rate=100 * KiB)
    window = open_window(server.catalog())
    ws = window.store
    catalog = ws.catalog
    window.download([catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "Downloaded")
    window.download([catalog.get("ofa-medium")])
    wait_status(qtbot, window, "ofa-medium", "Failed: 404 Not Found")
    window.download([catalog.get("ofa-base")])
    wait_status(qtbot, window, "ofa-base", r"\d+ % — .*")
    # Its partial file is on disk (seen by a scan) while it downloads: Resume still has nothing to do.
    base = catalog.get("ofa-base")
    qtbot.waitUntil(lambda: ws.status_of(base).state is State.PARTIAL, timeout=WAIT_MS)
    window.update_actions()
    tree_actions = window.actions_by_name
    names = ("download", "pause", "resume", "cancel", "retry", "verify", "delete")

    window.select(["ofa-base"])  # running
    assert enabled(tree_actions, *names) == {
        "download": False,
        "pause": True,
        "resume": False,
        "cancel": True,
        "retry": False,
        "verify": False,
        "delete": False,
    }
    window.select(["ofa-tiny"])  # finished
    assert enabled(tree_actions, *names) == {
        "download": False,
        "pause": False,
        "resume": False,
        "cancel": False,
        "retry": False,
        "verify": True,
        "delete": True,
    }
    window.select(["ofa-medium"])  # failed
    assert enabled(tree_actions, "pause", "resume", "retry", "verify") == {
        "pause": False,
        "resume": True,
        "retry": True,
        "verify": False,
    }

    panel = window.downloads
    rows = {e: row_of(window, e) for e in ("ofa-tiny", "ofa-medium", "ofa-base")}
    assert rows == {"ofa-tiny": 0, "ofa-medium": 1, "ofa-base": 2}
    select_download_row(window, rows["ofa-tiny"])  # finished: its place in the queue decides nothing
    assert enabled(panel.tool_buttons, "up", "down") == {"up": False, "down": False}
    assert enabled(panel.row_actions, "up", "down", "pause", "resume", "show", "remove") == {
        "up": False,
        "down": False,
        "pause": False,
        "resume": False,
        "show": True,
        "remove": True,
    }
    select_download_row(window, rows["ofa-base"])  # running, last: it can go up, not down
    assert enabled(panel.tool_buttons, "up", "down") == {"up": True, "down": False}
    assert enabled(panel.row_actions, "up", "down", "pause", "resume", "retry") == {
        "up": True,
        "down": False,
        "pause": True,
        "resume": False,
        "retry": False,
    }
    select_download_row(window, rows["ofa-medium"])  # failed: only a finished row above, a running below
    assert enabled(panel.tool_buttons, "up", "down") == {"up": False, "down": True}
    assert enabled(panel.row_actions, "pause", "retry") == {"pause": False, "retry": True}

    window.select(["ofa-base"])
    tree_actions["pause"].trigger()
    wait_status(qtbot, window, "ofa-base", "Paused")
    assert enabled(tree_actions, "pause", "resume", "cancel") == {
        "pause": False,
        "resume": True,
        "cancel": True,
    }
