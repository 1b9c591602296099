"""The window's catalogs and lock files: "Add catalog…" from a URL or a file, the Settings catalogs list
(enable, disable, remove), the tree's top level per catalog with one file for entries shared across
catalogs, and "Export lock file…" — the real window offscreen against the loopback server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from ofa_manager.core import settings as settings_file  # noqa: E402
from ofa_manager.core import zoo  # noqa: E402
from ofa_manager.core.catalog import load_catalog  # noqa: E402
from ofa_manager.gui import catalogs_page, lock_export  # noqa: E402
from ofa_manager.gui.window import MainWindow  # noqa: E402
from tests.catalogs import body_requests, entry, payload, sha256, write_catalog  # noqa: E402
from tests.windows import WAIT_MS, Answers, status  # noqa: E402

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


class Zoo:
    """A stand-in for the built-in catalog (the real one points at the internet, which tests never
    reach) and a lab's Markdown list on the loopback server, one of whose links is the built-in's file."""

    def __init__(self, tmp_path: Path, http_server, monkeypatch) -> None:
        self.server = http_server
        self.files = {
            "base.pt": payload(60_000, 1),
            "tiny.pt": payload(20_000, 2),
            "lab.pt": payload(25_000, 3),
        }
        for name, data in self.files.items():
            http_server.add(f"/ckpt/{name}", data)
        self.builtin = write_catalog(
            tmp_path / "builtin.json",
            [
                entry("ofa-base", self.url("base.pt"), group=["Pretrained backbones"], size=60_000),
                entry("ofa-tiny", self.url("tiny.pt"), group=["Pretrained backbones"], size=20_000),
            ],
            title="π-Tuning checkpoints",
        )
        monkeypatch.setattr(zoo, "builtin_catalog_path", lambda: self.builtin)
        page = (
            "# Lab checkpoints\n\n"
            "See the [code](https://github.com/example/lab) first.\n\n"
            "![banner](/img/banner.png)\n\n"
            "## Backbones\n\n"
            f"* [Lab-Base, the official file]({self.url('base.pt')}) (~180M parameters)\n"
            "## Grounding\n\n"
            "* [Lab adapter](/ckpt/lab.pt) (~2M parameters)\n"
        )
        http_server.add("/lists/lab.md", page.encode(), content_type="text/markdown")

    def url(self, name: str) -> str:
        return self.server.url(f"/ckpt/{name}")


@pytest.fixture
def lab(tmp_path, http_server, monkeypatch) -> Zoo:
    return Zoo(tmp_path, http_server, monkeypatch)


@pytest.fixture
def open_window(open_window) -> Callable[[], MainWindow]:
    """Opens windows as the app does without --catalog: the built-in catalog and each enabled imported one
    (through the window tests' shared fixture, which also checks that everything stops at the end)."""

    def open_() -> MainWindow:
        saved = settings_file.load()
        return open_window(zoo.default_catalog_paths(saved.disabled_catalogs), saved, queue_in_window=True)

    return open_


def add_catalog(qtbot, window, source: str, name: str = "") -> catalogs_page.AddCatalogDialog:
    """Project → Add Catalog…, the source and name typed, Import."""
    dialog = window.add_catalog()
    assert dialog.isVisible()
    dialog.source.setText(source)
    dialog.name.setText(name)
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.jobs.running, timeout=WAIT_MS)
    return dialog


def top_level(window) -> list[str]:
    model = window.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_add_catalog_from_a_url_reports_what_was_left_out_and_the_tree_gets_a_top_level_for_it(
    qtbot, lab, open_window, monkeypatch
):
    window = open_window()
    assert top_level(window) == ["Pretrained backbones"]  # one catalog: its own groups on top
    dialog = add_catalog(qtbot, window, lab.server.url("/lists/lab.md"))
    assert dialog.name.placeholderText() == "lab"
    path = zoo.catalog_path("lab")
    assert dialog.report.toPlainText().splitlines() == [
        f"Imported 2 checkpoints in 2 groups as 'lab': {path}",
        "Sharing a file with another catalog's entry (downloaded once): lab-base-the-official-file",
        "Left out 2 links that are not checkpoint files:",
        "  https://github.com/example/lab: a repository page, not a file",
        f"  {lab.server.url('/img/banner.png')}: an image, not a checkpoint file",
    ]
    assert dialog.status.text() == "The catalog 'lab' is in use the next time ofa-manager opens."
    assert json.loads(path.read_text())["title"] == "Lab checkpoints"
    window.close()

    # Opened again: a top level per catalog; the entries sharing a URL are one file, fetched once.
    window = open_window()
    assert top_level(window) == ["π-Tuning checkpoints", "Lab checkpoints"]
    model = window.model
    lab_top = model.index(1, 0)
    assert [model.index(r, 0, lab_top).data() for r in range(model.rowCount(lab_top))] == [
        "Backbones",
        "Grounding",
    ]
    builtin_top = model.index(0, 0)
    assert model.index(0, 0, builtin_top).data() == "Pretrained backbones"
    ws = window.store
    shared = [ws.catalog.get("ofa-base"), ws.catalog.get("lab-base-the-official-file")]
    assert window.download(shared)
    qtbot.waitUntil(lambda: all(status(window, e.id) == "Downloaded" for e in shared), timeout=WAIT_MS)
    assert len(body_requests(lab.server, "/ckpt/base.pt")) == 1
    assert (ws.library.root / "base.pt").read_bytes() == lab.files["base.pt"]


def test_add_catalog_errors_are_clear_keep_what_was_typed_and_write_nothing(
    qtbot, lab, open_window, tmp_path
):
    window = open_window()
    junk = tmp_path / "notes.md"
    junk.write_text("# Notes\n\nNo links at all here.\n", encoding="utf-8")
    for source, name, said in (
        ("", "", "Give a file or an address to import."),
        (
            lab.server.url("/lists/gone.md"),
            "",
            f"Nothing imported: {lab.server.url('/lists/gone.md')}: the server answered 404",
        ),
        (str(tmp_path / "missing.md"), "", f"Nothing imported: {tmp_path / 'missing.md'}: no such file"),
        (
            str(junk),
            "",
            f"Nothing imported: {junk}: no links found; expected a Markdown or HTML list of checkpoint links",
        ),
        (lab.server.url("/lists/lab.md"), "../x", "Nothing imported: catalog name '../x' must be letters"),
    ):
        dialog = window.add_catalog()
        dialog.source.setText(source)
        dialog.name.setText(name)
        if dialog.start():
            qtbot.waitUntil(lambda d=dialog: not d.jobs.running, timeout=WAIT_MS)
        assert dialog.status.text().startswith(said), dialog.status.text()
        assert dialog.source.text() == source and dialog.name.text() == name
        assert dialog.report.toPlainText() == ""
    assert zoo.user_catalogs() == []
    # A name taken: said, the first catalog untouched.
    first = add_catalog(qtbot, window, lab.server.url("/lists/lab.md"))
    before = zoo.catalog_path("lab").read_bytes()
    again = add_catalog(qtbot, window, lab.server.url("/lists/lab.md"))
    assert "a catalog named 'lab' exists already" in again.status.text()
    assert zoo.catalog_path("lab").read_bytes() == before and first.report.toPlainText()


def test_settings_catalogs_list_enables_disables_and_removes_after_asking(
    qtbot, lab, open_window, monkeypatch
):
    for name in ("lab", "lab-copy"):
        zoo.import_document(lab.server.url("/lists/lab.md"), name=name, replace=False)
    window = open_window()
    settings = window.open_settings()
    page = settings.catalogs
    assert settings.tabs.indexOf(page) >= 0
    assert page.names() == ["built-in", "lab-copy", "lab"]
    builtin = page.item("built-in")
    assert builtin.checkState(0) == catalogs_page.Qt.Checked
    assert not builtin.flags() & catalogs_page.Qt.ItemIsUserCheckable  # always used
    page.set_enabled("lab-copy", False)
    assert page.disabled() == ["lab-copy"]
    page.set_enabled("lab-copy", True)
    page.set_enabled("lab", False)
    assert page.disabled() == ["lab"]
    # Remove asks first; Cancel keeps the file.
    answers = Answers(monkeypatch, window, lambda title, choices: "Cancel")
    page.select("built-in")
    assert not page.remove_button.isEnabled()
    page.select("lab")
    assert page.remove_button.isEnabled()
    assert not page.remove_current()
    assert zoo.catalog_path("lab").exists()
    [(title, text, choices)] = answers.asked
    assert title == "Remove the catalog?" and "files already downloaded stay" in text
    assert choices == ["Remove", "Cancel"]
    answers.choose = lambda title, choices: "Remove"
    assert page.remove_current()
    assert not zoo.catalog_path("lab").exists()
    assert page.names() == ["built-in", "lab-copy"]
    assert page.disabled() == []  # a removed catalog is forgotten
    assert page.message.text() == "Removed 'lab'; downloaded files stay."
    # Unticked and OK: saved, and the next window leaves that catalog out.
    page.set_enabled("lab-copy", False)
    settings.accept()
    assert settings_file.load().disabled_catalogs == ["lab-copy"]
    assert window.message_label.text() == "Settings saved"
    window.close()
    window = open_window()
    assert not any(e.source.endswith("lab-copy.json") for e in window.store.catalog)
    assert top_level(window) == ["Pretrained backbones"]


def test_export_lock_file_of_the_chosen_or_all_downloaded_entries(
    qtbot, lab, open_window, monkeypatch, tmp_path
):
    window = open_window()
    ws = window.store
    base, tiny = ws.catalog.get("ofa-base"), ws.catalog.get("ofa-tiny")
    messages: list[str] = []
    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    target = tmp_path / "project.lock.json"
    target.mkdir()  # first a folder stands at the chosen name
    monkeypatch.setattr(lock_export, "choose_save_file", lambda parent, title, start: str(target))

    monkeypatch.setattr(window, "show_message", messages.append)

    def export(selected: list) -> lock_export.LockExport:
        """Select the rows, then Project → Export Lock File…"""
        window.select([e.id for e in selected])
        assert window.actions_by_name["export_lock"].isEnabled()
        job = window.export_lock_file()
        if job.jobs.running:
            qtbot.waitUntil(lambda: job.done is not None, timeout=WAIT_MS)
        return job

    export([])  # nothing downloaded yet
    assert answers.asked[-1][:2] == (
        "Nothing to pin",
        f"Nothing is downloaded in {ws.library.root}; a lock file would be empty.",
    )
    assert window.download([base, tiny])
    qtbot.waitUntil(lambda: all(status(window, e.id) == "Downloaded" for e in (base, tiny)), timeout=WAIT_MS)

    job = export([tiny])  # a folder at the name: said, nothing written
    assert not job.done.ok and answers.asked[-1][0] == "Lock file not written"
    assert messages[-1].startswith("No lock file written: ") and list(target.iterdir()) == []
    target.rmdir()
    export([tiny])
    lock = json.loads(target.read_text())
    assert [(row["id"], row["sha256"], row["size"]) for row in lock["entries"]] == [
        ("ofa-tiny", sha256(lab.files["tiny.pt"]), 20_000)
    ]
    assert messages[-1] == f"Pinned 1 checkpoint, 19.5 KiB, in {target}"
    export([])  # none chosen: every downloaded checkpoint
    assert [row["id"] for row in json.loads(target.read_text())["entries"]] == ["ofa-base", "ofa-tiny"]
    assert load_catalog([target]).get("ofa-base").sha256 == sha256(lab.files["base.pt"])  # a catalog again
