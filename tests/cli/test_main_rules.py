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


def test_the_launchers_entry_runs_no_command(capsys, monkeypatch, window):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "argv", ["ofa-manager-gui", "list"])
    with pytest.raises(SystemExit) as stopped:
        cli.gui_main()
    assert stopped.value.code == 2 and window == []
    assert "unrecognized arguments: list" in capsys.readouterr().err


# -- an OSError: one line, exit 2 ------------------------------------------------------------------------
# A full disk or a device error names no file and cannot be made here: the command's handler is replaced by
# one raising what such a failure raises.


@pytest.fixture
def failing_list(monkeypatch):
    def fail_with(exc: BaseException) -> None:
        def handler(args) -> int:
            raise exc

        monkeypatch.setitem(cli.COMMANDS, "list", handler)

    return fail_with


def test_an_os_error_naming_no_file_is_one_line_with_its_reason(capsys, failing_list, shelf):
    failing_list(OSError(28, "No space left on device"))
    code, out, err = run_cli(capsys, *shelf.args, "list")
    assert (code, out, err) == (2, "", "ofa-manager: error: No space left on device\n")


def test_an_os_error_with_no_reason_is_shown_as_it_is(capsys, failing_list, shelf):
    failing_list(OSError("the device went away"))
    code, out, err = run_cli(capsys, *shelf.args, "list")
    assert (code, out, err) == (2, "", "ofa-manager: error: the device went away\n")


def test_an_os_error_naming_a_file_names_it(capsys, failing_list, shelf, tmp_path):
    failing_list(PermissionError(13, "Permission denied", str(tmp_path / "x.json")))
    code, out, err = run_cli(capsys, *shelf.args, "list")
    assert (code, out, err) == (2, "", f"ofa-manager: error: {tmp_path / 'x.json'}: Permission denied\n")


def test_a_failure_before_the_keyring_is_used_is_one_line_too(capsys, monkeypatch, failing_list, shelf):
    # A command that never touched the keyring has not loaded its module: main must not need it.
    monkeypatch.delitem(sys.modules, "ofa_manager.core.credentials", raising=False)
    failing_list(OSError(5, "Input/output error"))
    code, out, err = run_cli(capsys, *shelf.args, "list")
    assert (code, out, err) == (2, "", "ofa-manager: error: Input/output error\n")
    assert "ofa_manager.core.credentials" not in sys.modules
