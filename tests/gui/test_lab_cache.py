"""Settings → Mirrors → Lab cache: the same stored rules as `ofa-manager mirror`, in the real window."""

from __future__ import annotations

import json
import subprocess

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from ofa_manager.core import settings as settings_file  # noqa: E402
from ofa_manager.core.catalog import load_catalog  # noqa: E402
from ofa_manager.core.mirrors import rewrite  # noqa: E402
from ofa_manager.gui.window import MainWindow  # noqa: E402
from ofa_manager.gui.workspace import Workspace  # noqa: E402
from tests.catalogs import cli_command, cli_env, entry, write_catalog  # noqa: E402

BUCKET = "https://ofa-beijing.oss-cn-beijing.aliyuncs.com/"


@pytest.fixture
def window(qtbot, tmp_path, models_dir):
    # The catalog names the real bucket; nothing here downloads, so nothing reaches for it.
    catalog = write_catalog(
        tmp_path / "catalog.json", [entry("ofa-tiny", BUCKET + "checkpoints/ofa_tiny.pt")]
    )
    workspace = Workspace(load_catalog([catalog]), settings_file.load(), models_dir, queue_in_window=True)
    shown = MainWindow(workspace)
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    yield shown
    shown.close()


def mirror_rules() -> list[dict]:
    done = subprocess.run(
        cli_command("mirror", "list", "--json"), capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_rule_added_on_the_command_line_is_in_the_mirrors_tab(qtbot, window):
    added = subprocess.run(
        cli_command("mirror", "add", BUCKET, "http://cache.lab.example:8080/"),
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    window.workspace.store.settings = settings_file.load()
    dialog = window.open_settings()
    assert dialog.rules.rowCount() == 1
    assert (dialog.rules.item(0, 0).text(), dialog.rules.item(0, 1).text()) == (
        BUCKET,
        "http://cache.lab.example:8080/",
    )
    dialog.reject()


def test_the_lab_cache_row_writes_the_rule_the_command_line_lists(qtbot, window):
    dialog = window.open_settings()
    # The bucket is offered from the catalog's own addresses.
    assert dialog.cache_bucket.currentText() == BUCKET
    dialog.cache_address.setText("http://cache.lab.example:8080")
    qtbot.mouseClick(dialog.use_cache, Qt.LeftButton)
    assert "cache.lab.example" in dialog.mirror_status.text()
    # Pressing it again with another address changes the rule, not adds a second one.
    dialog.cache_address.setText("http://cache2.lab.example:8080/")
    qtbot.mouseClick(dialog.use_cache, Qt.LeftButton)
    assert dialog.rules.rowCount() == 1
    dialog.accept()

    assert mirror_rules() == [{"prefix": BUCKET, "url": "http://cache2.lab.example:8080/"}]
    assert rewrite(BUCKET + "checkpoints/ofa_tiny.pt", window.workspace.store.settings.rewrite_rules) == (
        "http://cache2.lab.example:8080/checkpoints/ofa_tiny.pt"
    )


def test_a_rule_that_cannot_work_keeps_the_dialog_open_and_saves_nothing(qtbot, window):
    dialog = window.open_settings()
    dialog.cache_address.setText("cache.lab.example:8080")  # no scheme: not an address
    qtbot.mouseClick(dialog.use_cache, Qt.LeftButton)
    assert dialog.rules.rowCount() == 0 and dialog.mirror_status.text().startswith("Not added:")

    dialog._add_rule(BUCKET, "ftp://cache.lab.example/")
    dialog.tabs.setCurrentIndex(0)
    dialog.accept()
    assert dialog.isVisible() and dialog.result() == 0
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Mirrors"
    assert "http:// or https://" in dialog.mirror_status.text()
    assert not settings_file.settings_path().exists() or settings_file.load().rewrite_rules == []
    assert mirror_rules() == []
    dialog.reject()
