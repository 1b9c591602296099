"""What every command shares, in this process: the catalog and models folder it uses (--catalog, imported
catalogs, --dir, the environment, --store), unknown ids, and how `main` turns each kind of failure into one
line and an exit code; with no command and no display, the summary and the commands instead of the window."""

from __future__ import annotations

import json
import sys

import pytest

from ofa_manager import cli
from ofa_manager.cli.parser import build_parser
from ofa_manager.core import settings
from tests.catalogs import entry, run_cli, write_catalog
from tests.scenes import Shelf

pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def shelf(tmp_path, models_dir, http_server) -> Shelf:
    return Shelf(tmp_path, models_dir, http_server)


def states(out: str) -> dict[str, str]:
    return {row["id"]: row["state"] for row in json.loads(out)}


# -- which catalog, which folder -------------------------------------------------------------------------


def test_unknown_ids_are_each_named_in_one_line(capsys, shelf):
    code, out, err = run_cli(capsys, *shelf.args, "verify", "goood", "good", "nope")
    assert code == 2 and out == ""
    assert err.startswith("ofa-manager: error: unknown checkpoint id 'goood'")
    assert "; unknown checkpoint id 'nope'" in err and err.count("\n") == 1


def test_an_id_named_twice_is_done_once(capsys, shelf, http_server):
    code, _, err = run_cli(capsys, *shelf.args, "download", "good", "good")
    assert code == 0, err
    assert len([r for r in http_server.requests if r.path == "/good.pt" and r.method == "GET"]) >= 1
    code, out, _ = run_cli(capsys, *shelf.args, "verify", "good", "good")
    assert code == 0 and out.count("good: ok") == 1 and "1 file(s) checked" in out


def test_a_store_named_on_the_command_line_adds_to_the_saved_ones(capsys, tmp_path, models_dir, http_server):
    saved, named = tmp_path / "saved", tmp_path / "named"
    saved.mkdir()
    named.mkdir()
    shelf = Shelf(tmp_path, models_dir, http_server)
    (saved / "good.pt").write_bytes(shelf.files["good"])
    (named / "shared.pt").write_bytes(shelf.files["shared"])
    current = settings.load()
    current.stores = [str(saved)]
    settings.save(current)
    code, out, _ = run_cli(capsys, *shelf.args, "--store", str(named), "list", "--json")
    assert code == 0
    assert states(out) == {"good": "in-store", "shared-a": "remote", "shared-b": "remote", "bad": "remote"}
    code, out, _ = run_cli(capsys, *shelf.args, "list", "--json")
    assert states(out)["good"] == "in-store"


def test_the_folder_is_dir_then_the_environment_then_the_setting(capsys, tmp_path, monkeypatch, shelf):
    (shelf.dir / "good.pt").write_bytes(b"x")  # a file not ours: marks which folder is read
    current = settings.load()
    current.models_dir = str(shelf.dir)
    settings.save(current)
    catalog = ["--catalog", str(shelf.catalog)]
    code, out, _ = run_cli(capsys, *catalog, "list", "--json")
    assert states(out)["good"] == "not-ours"
    monkeypatch.setenv("OFA_MANAGER_DIR", str(tmp_path / "env"))
    code, out, _ = run_cli(capsys, *catalog, "list", "--json")
    assert states(out)["good"] == "remote" and json.loads(out)[0]["path"].startswith(str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, _ = run_cli(capsys, "--dir", "~/" + shelf.dir.name, *catalog, "list", "--json")
    assert code == 0 and states(out)["good"] == "not-ours"  # ~ is the home folder


def test_an_imported_catalog_that_cannot_be_read_says_how_to_turn_it_off(capsys, tmp_path):
    folder = settings.config_dir() / "catalogs"
    folder.mkdir(parents=True)
    (folder / "lab.json").write_text("{not json", encoding="utf-8")
    code, out, err = run_cli(capsys, "--dir", str(tmp_path / "m"), "list")
    assert code == 2 and out == ""
    assert err.startswith("ofa-manager: error: ") and "lab.json" in err
    assert err.endswith("; an imported catalog is turned off with `ofa-manager catalog disable NAME`\n")


def test_a_named_catalog_that_cannot_be_read_is_named_without_the_hint(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, out, err = run_cli(capsys, "--dir", str(tmp_path / "m"), "--catalog", str(bad), "list")
    assert code == 2 and out == "" and err.startswith("ofa-manager: error: ") and "bad.json" in err
    assert "catalog disable" not in err


def test_the_built_in_catalog_is_used_when_none_is_named(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "--dir", str(tmp_path / "m"), "list", "--json")
    assert code == 0 and "ofa-large" in states(out)


# -- main: one line and an exit code for each kind of failure ---------------------------------------------


def test_a_models_folder_inside_a_file_is_a_usage_error_naming_it(capsys, tmp_path, shelf):
    where = tmp_path / "a-file"
    where.write_bytes(b"")
    args = ["--dir", str(where / "models"), "--catalog", str(shelf.catalog)]
    code, out, err = run_cli(capsys, *args, "move", str(tmp_path / "new"))
    assert code == 2 and out == ""
    assert err == f"ofa-manager: error: {where / 'models'}: Not a directory\n"


def test_a_usage_error_hides_a_password_in_a_url(capsys, tmp_path):
    catalog = write_catalog(tmp_path / "c.json", [entry("a", "http://user:hunter2@127.0.0.1:9/a.pt")] * 2)
    code, _, err = run_cli(capsys, "--dir", str(tmp_path / "m"), "--catalog", str(catalog), "list")
    assert code == 2 and err.startswith("ofa-manager: error: ")
    assert "hunter2" not in err


def test_a_closed_pipe_ends_quietly(monkeypatch, shelf):
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def flush(self) -> None:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main([*shelf.args, "list"]) == 0


# -- no command ---------------------------------------------------------------------------------------


@pytest.fixture
def no_display(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")


def test_without_a_display_the_summary_and_the_commands_are_printed(capsys, no_display, shelf):
    code, out, err = run_cli(capsys, *shelf.args)
    assert code == 0
    assert err == (
        "ofa-manager: no display here (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open; "
        "the commands work:\n\n"
    )
    assert out.startswith(f"Test catalog — 4 checkpoints, models folder {shelf.dir.resolve()}\n")
    assert f"\n\n{build_parser().format_help()}" in out


@pytest.mark.parametrize("variable", ["DISPLAY", "WAYLAND_DISPLAY"])
def test_with_a_display_but_no_window_module_the_commands_still_work(
    capsys, monkeypatch, no_display, shelf, variable
):
    monkeypatch.setenv(variable, ":99")
    monkeypatch.setitem(sys.modules, "ofa_manager.gui.app", None)  # the window's part is not installed
    monkeypatch.setattr(sys, "argv", ["ofa-manager-gui", *shelf.args])
    code = cli.gui_main()
    out, err = capsys.readouterr()
    assert code == 0
    assert err.startswith("ofa-manager: the window cannot start (") and err.endswith(
        "); the commands still work:\n\n"
    )
    assert out.startswith("Test catalog — 4 checkpoints") and "usage: ofa-manager" in out


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_always_have_a_display(capsys, monkeypatch, no_display, shelf, platform):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setitem(sys.modules, "ofa_manager.gui.app", None)
    code, _, err = run_cli(capsys, *shelf.args, "gui")
    assert code == 0 and err.startswith("ofa-manager: the window cannot start (")


def test_a_file_under_an_earlier_name_is_moved_and_named_once(capsys, tmp_path, models_dir, http_server):
    from ofa_manager.core import names
    from tests.scenes import SameNameSite, to_earlier_name

    site = SameNameSite(tmp_path, models_dir, http_server)
    assert run_cli(capsys, *site.args, "download", "one")[0] == 0
    earlier = site.dir.resolve() / names.hashed_name("model.pt", site.urls["one"])
    to_earlier_name(site, "one", earlier)
    code, out, err = run_cli(capsys, *site.args, "list", "--json")
    assert code == 0
    host = site.hosts["one"]
    assert err.splitlines() == [
        f"{earlier.name} is now {host}/model.pt (see README: file names)",
        f".{earlier.stem}.pt.meta.json is now {host}/.model.pt.meta.json (see README: file names)",
    ]
    assert states(out)["one"] == "downloaded"
    code, _, err = run_cli(capsys, *site.args, "list", "--json")
    assert err == ""


# -- the desktop launcher -------------------------------------------------------------------------------


def test_install_desktop_names_each_file_and_uninstall_removes_them(capsys, isolated_user_folders):
    code, out, _ = run_cli(capsys, "install-desktop")
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "ofa-manager is now in the application launcher"
    written = lines[:-1]
    data_home = str(isolated_user_folders["XDG_DATA_HOME"])
    assert written and all(line.startswith(data_home) for line in written)
    assert any(line.endswith(".desktop") for line in written)
    code, out, _ = run_cli(capsys, "uninstall-desktop")
    assert code == 0 and sorted(out.splitlines()) == sorted(f"removed {path}" for path in written)
    code, out, _ = run_cli(capsys, "uninstall-desktop")
    assert code == 0 and out == "nothing was installed\n"
