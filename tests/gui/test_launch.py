"""Launching: a second launch, the window's geometry restored."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtWidgets import QApplication

from ofa_manager.core import settings as settings_file
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.settings import Settings
from ofa_manager.gui import tree
from ofa_manager.gui.app import SingleInstance
from ofa_manager.gui.window import MainWindow
from ofa_manager.gui.workspace import Workspace
from tests.catalogs import REPO
from tests.windows import WAIT_MS, WINDOW_MARKS, KiB

pytestmark = WINDOW_MARKS


def test_geometry_and_splitter_are_restored(qtbot, server, open_window):
    server.add("ofa-tiny", 64 * KiB)
    window = open_window(server.catalog())
    window.resize(720, 520)
    QApplication.processEvents()
    window.splitter.setSizes([300, 200])
    QApplication.processEvents()
    sizes = window.splitter.sizes()
    window.close()
    saved = settings_file.load()
    assert saved.window_geometry and saved.splitter_state and saved.window_state
    again = open_window(server.catalog(), saved)
    assert (again.width(), again.height()) == (720, 520)
    assert again.splitter.sizes() == sizes


def test_a_second_launch_brings_the_first_window_forward(qtbot):
    first = SingleInstance("test-key")
    second = SingleInstance("test-key")
    try:
        assert first.claim()
        with qtbot.waitSignal(first.activated, timeout=WAIT_MS):
            assert not second.claim()
        other = SingleInstance("another-folder")
        assert other.claim()
        other.close()
    finally:
        first.close()
        second.close()


def test_a_second_launch_on_the_same_folder_exits_and_the_first_window_stays(server, models_dir):
    server.add("ofa-tiny", 64 * KiB)
    command = [
        sys.executable,
        "-m",
        "ofa_manager",
        "--dir",
        str(models_dir),
        "--catalog",
        str(server.catalog()),
    ]
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        OFA_MANAGER_REPORT_FIRST_PAINT="1",
        PYTHONPATH=str(REPO),
    )
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert first.stdout.readline().startswith("first-paint ")
        second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert second.returncode == 0
        assert "already open" in second.stderr and "first-paint" not in second.stdout
        assert first.poll() is None
        # SIGTERM (a logout, a kill) closes the window as its close button would: settings are saved.
        first.terminate()
        assert first.wait(10) == 0
        assert settings_file.load().window_geometry
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
        first.stdout.close()


def test_a_window_larger_than_its_screen_lays_the_tree_out_for_the_screen(qtbot, server, models_dir):
    # As when a laptop leaves its large monitor: the window's place is wider than the screen it opens on.
    server.add("ofa-tiny", 64 * KiB)
    workspace = Workspace(load_catalog([server.catalog()]), Settings(), models_dir)
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    room = window.screen().availableGeometry()
    window.resize(room.width() + 600, room.height())
    window.show()
    qtbot.waitExposed(window)
    assert window.frameGeometry().width() <= room.width()
    # The tree's columns were fitted to the room the tree has here: Size and Status are in view.
    header = window.tree.header()
    size_end = header.sectionViewportPosition(tree.COL_SIZE) + header.sectionSize(tree.COL_SIZE)
    status_start = header.sectionViewportPosition(tree.COL_STATUS)
    assert size_end <= window.tree.viewport().width() and status_start < window.tree.viewport().width()
    window.close()
