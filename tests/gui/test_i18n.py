"""The window in Chinese: no English left where a person reads (titles, actions, menus, tooltips,
headers, status texts, buttons, labels), in the window, the settings dialog and each confirmation.

The window runs as in the other window tests (offscreen, the real engine, the loopback server); the
Chinese translation is installed as the app installs it at start-up. What may stay in Latin letters is
data (the catalog's titles, ids and file names, paths, URLs, hosts) and the small list of proper names
and units below.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex, Qt  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QWidget,
)

from ofa_manager.core.settings import Settings  # noqa: E402
from ofa_manager.gui import i18n  # noqa: E402
from ofa_manager.gui.scan_report import COL_PATH, COL_SCRIPT, COL_STATUS  # noqa: E402
from tests.windows import WAIT_MS, Answers, KiB, Server, wait_status  # noqa: E402

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

PROJECT = Path(__file__).resolve().parent.parent / "data" / "project"  # a project with shell scripts

# Proper names, technical names and units that Chinese text keeps as they are.
ALLOWED = {
    "OFA", "OFA-Tiny", "OFA-Medium", "OFA-Base", "OFA-Large", "OFA-Huge",
    "PETL", "RefCOCO", "RefCOCOg", "LoRA", "Adapter", "Prompt", "π-Adapter", "PyTorch", "torch",
    "sha256", "CRC-64", "MD5", "ETag", "URL", "HEAD", "NFS", "README", "Authorization", "Bearer",
    "zip", "pickle", "weights_only", "load", "True", "False", "ofa-manager", "PySide6", "Python",
    "KiB", "MiB", "GiB", "TiB", "B", "s", "OK", "English", "Web", "ID", "Ctrl", "Shift", "Del", "F5", "Esc",
    "shell", "Markdown", "HTML",
}  # fmt: skip
# Names quoted from elsewhere: a README section (the README is English), a command (the CLI is), the
# method the project is named for.
ALLOWED_PHRASES = ("For a lab", "ofa-manager mirror add", "π-Tuning")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
PATH = re.compile(r"(?:~|/)[^\s:：，（）()]*")
FILE = re.compile(r"\b[\w.-]+\.(?:pt|json|part|rejected|lock|md|html)\b")
TAG = re.compile(r"<[^>]+>")
# A shell variable a project's script writes ($HOME, ${ckpt_dir}): the script's text, quoted.
VARIABLE = re.compile(r"\$\{?\w+\}?")
# Hashes and fingerprints, record time stamps, key sequences: figures, not words.
FIGURES = re.compile(
    r"\b[0-9a-f]{8,}\b|\d{4}-\d\d-\d\dT[\d:]+[+-]\d{4}|\b(?:Ctrl|Shift|Alt|Meta)\+[^\s)）]*|\bDel\b"
)


@pytest.fixture
def chinese(qapp) -> Iterator[None]:
    """The window's language is Chinese, as the app sets it at start-up, before any window is built."""
    i18n.install("zh_CN", qapp)
    yield
    i18n.uninstall(qapp)


def english_left(text: str, data: set[str]) -> list[str]:
    """The English words in a text once data (titles, ids, paths, URLs) and allowed names are taken out."""
    text = TAG.sub(" ", text or "").replace("&&", "&").replace("&", "")
    for pattern in (URL, VARIABLE, FILE, PATH, FIGURES):
        text = pattern.sub(" ", text)
    for known in sorted({*data, *ALLOWED_PHRASES}, key=len, reverse=True):
        text = text.replace(known, " ")
    return [word for word in WORD.findall(text) if word not in ALLOWED]


def columns(model, parent: QModelIndex) -> int:
    try:
        return model.columnCount(parent)
    except TypeError:  # a list widget's model keeps columnCount private: one column
        return 1


def model_texts(model, parent: QModelIndex | None = None) -> Iterator[tuple[str, str]]:
    parent = parent if parent is not None else QModelIndex()
    if not parent.isValid():
        for column in range(columns(model, parent)):
            yield "header", str(model.headerData(column, Qt.Horizontal, Qt.DisplayRole) or "")
    for row in range(model.rowCount(parent)):
        for column in range(columns(model, parent)):
            index = model.index(row, column, parent)
            for role, name in ((Qt.DisplayRole, "cell"), (Qt.ToolTipRole, "cell tooltip")):
                value = index.data(role)
                if isinstance(value, str):
                    yield name, value
        yield from model_texts(model, model.index(row, 0, parent))


def visible_texts(top: QWidget) -> Iterator[tuple[str, str]]:
    """Every text a person can read in a window or dialog and its children, with where it is."""
    yield "title", top.windowTitle()
    for action in top.findChildren(QAction):
        yield f"action {action.objectName()}", action.text()
        yield f"action tooltip {action.objectName()}", action.toolTip()
    for widget in [top, *top.findChildren(QWidget)]:
        where = f"{type(widget).__name__} {widget.objectName()}".strip()
        yield f"tooltip of {where}", widget.toolTip()
        if isinstance(widget, QLabel):
            yield where, widget.text()
        elif isinstance(widget, QAbstractButton):
            yield where, widget.text()
        elif isinstance(widget, QGroupBox):
            yield where, widget.title()
        elif isinstance(widget, QLineEdit):
            yield f"placeholder of {where}", widget.placeholderText()
        elif isinstance(widget, QToolBar):
            yield where, widget.windowTitle()
        elif isinstance(widget, QAbstractSpinBox):
            yield where, widget.specialValueText()
            yield where, widget.suffix() if hasattr(widget, "suffix") else ""
        elif isinstance(widget, QTabWidget):
            for tab in range(widget.count()):
                yield where, widget.tabText(tab)
                yield where, widget.tabToolTip(tab)
        elif isinstance(widget, QComboBox) and not widget.isEditable():
            for item in range(widget.count()):
                yield where, widget.itemText(item)
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            for kind, text in model_texts(widget.model()):
                yield f"{kind} of {where}", text
        if isinstance(widget, QMessageBox):
            yield "message box", widget.text()
            yield "message box", widget.informativeText()


def assert_chinese(top: QWidget, data: set[str]) -> None:
    left = [
        f"{where}: {text!r} → {words}"
        for where, text in visible_texts(top)
        if (words := english_left(text, data))
    ]
    assert not left, "English left in the Chinese window:\n" + "\n".join(dict.fromkeys(left))


def catalog_data(window) -> set[str]:
    """What is data, not the window's words: the catalog's ids, file names and URLs."""
    ws = window.store
    data = {"ofa-manager", "built-in"}  # built-in: the catalog's name, as the command line takes it
    for entry in ws.catalog:
        data |= {entry.id, entry.filename, entry.url, *entry.mirrors}
    return data


def test_translation_words_are_detected():
    """The detector itself: English words are found, data and allowed names are not."""
    assert english_left("Download the file", set()) == ["Download", "the", "file"]
    assert english_left("下载 OFA-Large（1.2 GiB）到 ~/models/ofa_large.pt", {"OFA-Large"}) == []
    assert english_left("<b>下载队列</b> https://example.org/a.pt", set()) == []


def test_window_and_settings_are_all_chinese(qtbot, chinese, http_server, tmp_path, open_window):  # noqa: F811
    """Every state a row can show at once: verified, downloading then paused, failed (404), partial,
    not downloaded; every tab; the settings dialog opened from the window."""
    server = Server(http_server, tmp_path)
    server.add("ofa-large", 64 * KiB)
    server.add("ofa-tiny", 48 * KiB)
    server.add("ofa-huge", 32 * KiB, statuses=[404] * 50)
    server.add("ofa-base", 2 * 1024 * KiB, rate=200 * KiB)
    server.add("ofa-medium", 2 * 1024 * KiB, rate=200 * KiB)
    server.add("refcoco-adapter", 16 * KiB, group=("PETL on OFA-Large", "RefCOCO")).update(base="ofa-large")
    server.add("refcoco-lora", 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"))
    window = open_window(server.catalog(), Settings(connections=1))
    ws = window.store
    catalog = ws.catalog
    window.download([catalog.get("ofa-tiny"), catalog.get("ofa-huge")])
    wait_status(qtbot, window, "ofa-huge", "失败：404 未找到")
    wait_status(qtbot, window, "ofa-tiny", "已下载|已校验")
    window.select(["ofa-tiny"])
    window.actions_by_name["verify"].trigger()
    wait_status(qtbot, window, "ofa-tiny", "已校验")
    base, medium = catalog.get("ofa-base"), catalog.get("ofa-medium")
    window.download([base, medium])
    wait_status(qtbot, window, "ofa-base", r"\d+% — .*")
    wait_status(qtbot, window, "ofa-medium", r"\d+% — .*")
    window.commands.pause([base, medium])
    wait_status(qtbot, window, "ofa-base", "已暂停")
    wait_status(qtbot, window, "ofa-medium", "已暂停")
    window.commands.cancel([medium])
    wait_status(qtbot, window, "ofa-medium", r"部分下载（.+）")
    window.select(["ofa-huge"])
    data = catalog_data(window)
    for tab in range(window.side.count()):
        window.side.setCurrentIndex(tab)
        assert_chinese(window, data)
    window.downloads.view.selectAll()
    window.downloads.update_summary()
    assert_chinese(window, data)

    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    assert_chinese(dialog, data | {str(window.store.library.root)})
    dialog.reject()


def test_settings_dialog_is_chinese_and_lists_languages_by_their_own_names(qtbot, chinese, tmp_path):
    from ofa_manager.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), tmp_path, ["example.org"], folder_note="")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert_chinese(dialog, {str(tmp_path), "example.org"})
    names = [dialog.language.itemText(i) for i in range(dialog.language.count())]
    assert names[1:] == ["English", "简体中文"] and names[0].startswith("跟随系统")
    dialog.language.setCurrentIndex(names.index("简体中文"))
    assert dialog.edited().language == "zh_CN"
    dialog.language.setCurrentIndex(0)
    assert dialog.edited().language == ""


def test_project_dialogs_and_the_catalogs_page_are_chinese(
    qtbot, chinese, http_server, tmp_path, open_window
):
    """The parts added for projects and catalogs: the settings' Catalogs tab, the scan report of a real
    project folder (the fixture's shell scripts), Add Catalog and Link into Project Folder."""
    server = Server(http_server, tmp_path)
    server.add("ofa-large", 64 * KiB)
    server.add("ofa-tiny", 48 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    root = str(window.store.library.root)
    data = catalog_data(window) | {root, str(tmp_path)}

    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    tabs = dialog.tabs
    assert tabs.tabText(tabs.count() - 1) == "清单"
    for tab in range(tabs.count()):
        tabs.setCurrentIndex(tab)
        assert_chinese(dialog, data)
    dialog.reject()

    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    report = window.check_project_folder(str(project))
    qtbot.waitUntil(lambda: report.model.rowCount() > 0 and not report.jobs.running, timeout=WAIT_MS)
    assert report.windowTitle() == "检查项目文件夹"
    statuses = {report.model.index(row, COL_STATUS).data() for row in range(report.model.rowCount())}
    assert statuses and all(english_left(status, set()) == [] for status in statuses), statuses
    # The paths and script lines the report quotes are the project's own text.
    quoted = {
        report.model.index(row, column).data()
        for row in range(report.model.rowCount())
        for column in (COL_PATH, COL_SCRIPT)
    }
    assert_chinese(report, data | quoted | {str(project)})
    report.reject()

    adding = window.add_catalog()
    qtbot.waitExposed(adding)
    assert_chinese(adding, data)
    adding.reject()

    window.select(["ofa-large"])
    linking = window.link_selected()
    qtbot.waitExposed(linking)
    assert linking.windowTitle() == "链接到项目文件夹"
    assert_chinese(linking, data)
    linking.reject()


def test_lock_export_questions_are_chinese(qtbot, chinese, http_server, tmp_path, open_window, monkeypatch):
    """Export Lock File's questions, as the window's ask gets them (recorded, answered with the last
    button, so no modal box is left open): nothing downloaded, then part of the selection downloaded."""
    server = Server(http_server, tmp_path)
    server.add("ofa-tiny", 48 * KiB)
    server.add("ofa-large", 64 * KiB)
    window = open_window(server.catalog(), Settings(connections=1))
    data = catalog_data(window) | {str(window.store.library.root)}
    answers = Answers(monkeypatch, window, lambda title, choices: choices[-1])
    window.select(["ofa-tiny"])
    window.export_lock_file()
    window.download([window.store.catalog.get("ofa-tiny")])
    wait_status(qtbot, window, "ofa-tiny", "已下载|已校验")
    window.select(["ofa-tiny", "ofa-large"])
    window.export_lock_file()
    titles = [title for title, _text, _choices in answers.asked]
    assert titles == ["没有可锁定的内容", "只锁定已下载的？"]
    for title, text, choices in answers.asked:
        assert english_left("\n".join([title, text, *choices]), data) == [], (title, text, choices)


def test_every_confirmation_is_chinese(qtbot, chinese, http_server, tmp_path, open_window):
    """Each question of gui/confirm.py, as the window's ask gets it (recorded; answered with the button
    that leads to the next question, or the last one), built from core's real plan and a real download."""
    from ofa_manager.core.plan import DownloadPlan, deletion_impact
    from ofa_manager.gui import confirm

    server = Server(http_server, tmp_path)
    server.add("ofa-tiny", 48 * KiB)
    server.add("ofa-large", 64 * KiB)
    adapter = server.add("refcoco-adapter", 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"))
    adapter["base"] = "ofa-large"
    window = open_window(server.catalog(), Settings(connections=1))
    store = window.store
    tiny = store.catalog.get("ofa-tiny")
    window.download([tiny])
    wait_status(qtbot, window, "ofa-tiny", "已下载|已校验")
    petl, base = store.catalog.get("refcoco-adapter"), store.catalog.get("ofa-large")
    reason = "[Errno 95] Operation not supported"  # the engine's own words, shown as they are
    data = catalog_data(window) | {str(store.library.root), str(tmp_path), reason}
    data |= {e.title for e in store.catalog}
    asked: list[tuple[str, str, list[str]]] = []

    def ask(title: str, text: str, choices: list[str], **options) -> str | None:
        asked.append((title, text, choices))
        return choices[0] if len(asked) == 1 else choices[-1]  # the backbone too, then Cancel on space

    # Too little space, with the backbone missing: both questions of Download.
    plan = DownloadPlan(
        entries=[petl], missing_bases=[base], needed=10**11, needed_with_bases=2 * 10**11, free=1
    )
    assert confirm.download_choice(ask, plan, store.library.root) is None
    impacts = deletion_impact([tiny], store.catalog, store.library, store)
    confirm.trash(ask, [tiny], impacts, store)
    confirm.delete_instead_of_trash(ask, reason, tiny.filename, " (48.0 KiB)")
    confirm.retry_rejected(ask, [tiny])
    confirm.delete_rejected(ask, [tiny], store)
    confirm.delete_partial(ask, [tiny], store)
    confirm.move_files(ask, tmp_path / "elsewhere", store.library.root)
    confirm.stop_moving(ask, str(tmp_path / "elsewhere"), str(store.library.root))
    assert len(asked) == 9, [title for title, _, _ in asked]
    for title, text, choices in asked:
        assert english_left("\n".join([title, text, *choices]), data) == [], (title, text, choices)
