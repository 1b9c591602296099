"""The entry points (`ofa-manager`, `ofa-manager-gui`): when the window is opened and with what, and one line
and an exit code for each kind of failure a command raises.

The window's start itself (gui/app.run) is replaced here by a stand-in that notes what it was given: these
tests are about what the command line hands it; tests/gui/test_launch.py opens the real window."""

from __future__ import annotations

import sys
import types

import pytest

from ofa_manager import cli
from tests.catalogs import run_cli
from tests.scenes import Shelf

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def shelf(tmp_path, models_dir, http_server) -> Shelf:
    return Shelf(tmp_path, models_dir, http_server)


@pytest.fixture
def window(monkeypatch):
    """Stands in for the window: notes each start and what it was given, and returns 7 as its exit code."""
    starts: list[dict] = []

    def run(**given) -> int:
        starts.append(given)
        return 7

    monkeypatch.setitem(sys.modules, "ofa_manager.gui.app", types.SimpleNamespace(run=run))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    return starts


@pytest.mark.parametrize("command", [[], ["gui"]])
def test_the_window_gets_the_models_folder_and_every_catalog_named(capsys, monkeypatch, window, command):
    monkeypatch.setenv("DISPLAY", ":99")
    code = cli.main([*command, "--dir", "/data/models", "--catalog", "a.json", "--catalog", "b.json"])
    assert code == 7 and capsys.readouterr() == ("", "")
    assert window == [{"models_dir": "/data/models", "catalog_files": ["a.json", "b.json"]}]


def test_the_window_with_nothing_named_uses_its_settings(capsys, monkeypatch, window):
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert cli.main([]) == 7
    assert window == [{"models_dir": None, "catalog_files": None}]


def test_a_qt_platform_named_in_the_environment_needs_no_display(capsys, monkeypatch, window, shelf):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cli.main(shelf.args) == 7 and len(window) == 1
    monkeypatch.delenv("QT_QPA_PLATFORM")
    code, out, err = run_cli(capsys, *shelf.args)
    assert code == 0 and len(window) == 1 and err.startswith("ofa-manager: no display here")
    assert out.startswith("Test catalog — 4 checkpoints")


def test_the_launchers_entry_opens_the_window_with_what_follows_it(capsys, monkeypatch, window):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "argv", ["ofa-manager-gui", "--dir", "/data/models"])
    assert cli.gui_main() == 7
    assert window == [{"models_dir": "/data/models", "catalog_files": None}]
