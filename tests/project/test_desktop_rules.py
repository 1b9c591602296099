"""The menu entry's rules, read from what lands on disk and what the desktop's tools are asked to do: the
data folder chosen, the launcher found on PATH when none sits beside the interpreter, the tools run after
an install and an uninstall (stand-in scripts on PATH that record their arguments: the real tools change
nothing a test can read), and the entry that keeps its TryExec line only where Exec is set."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ofa_manager import APP_ID
from ofa_manager.core import desktop


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """A PATH holding only stand-ins for the desktop's tools; each writes its arguments to calls.txt."""
    folder = tmp_path / "bin"
    folder.mkdir()
    calls = tmp_path / "calls.txt"
    for name in ("update-desktop-database", "gtk-update-icon-cache"):
        script = folder / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n', encoding="utf-8")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    return folder, calls


def recorded(calls: Path) -> list[str]:
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_the_data_folder_is_xdg_data_home_when_absolute_else_the_home_share(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert desktop.user_data_home() == tmp_path / "home" / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")  # invalid by the spec: ignored
    assert desktop.user_data_home() == tmp_path / "home" / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert desktop.user_data_home() == tmp_path / "data"


def test_the_launcher_beside_the_interpreter_must_be_an_executable_file(tmp_path, monkeypatch, tools):
    folder, _ = tools
    scripts = tmp_path / "venv" / "bin"
    scripts.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(scripts / "python"))
    assert desktop.find_launcher() is None  # neither beside the interpreter nor on PATH
    beside = scripts / desktop.LAUNCHER_NAME
    beside.write_text("#!/bin/sh\n", encoding="utf-8")  # not executable: not a launcher
    assert desktop.find_launcher() is None
    on_path = folder / desktop.LAUNCHER_NAME
    on_path.write_text("#!/bin/sh\n", encoding="utf-8")
    on_path.chmod(0o755)
    assert desktop.find_launcher() == on_path.absolute()  # PATH's, since the one beside cannot run
    beside.chmod(0o755)
    assert desktop.find_launcher() == beside.absolute()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert desktop.find_launcher() == Path(sys.executable)


def test_install_and_uninstall_ask_the_menu_to_reread_its_folder(tmp_path, tools):
    _, calls = tools
    home = tmp_path / "share"
    desktop.install_desktop(home, exec_path="/opt/ofa/ofa-manager-gui")
    applications = home / "applications"
    assert recorded(calls) == [f"update-desktop-database -q {applications}"]
    hicolor = home / "icons" / "hicolor"
    (hicolor / "icon-theme.cache").write_bytes(b"")  # a theme that keeps a cache gets it refreshed
    removed = desktop.uninstall_desktop(home)
    assert applications / f"{APP_ID}.desktop" in removed
    assert recorded(calls)[1:] == [
        f"update-desktop-database -q {applications}",
        f"gtk-update-icon-cache -q -t -f {hicolor}",
    ]
    assert desktop.uninstall_desktop(home) == []  # nothing left to remove: nothing to refresh
    assert len(recorded(calls)) == 3


def test_uninstall_removes_every_icon_even_when_the_entry_is_already_gone(tmp_path, tools):
    home = tmp_path / "share"
    written = desktop.install_desktop(home, exec_path="/opt/ofa/ofa-manager-gui")
    entry = home / "applications" / f"{APP_ID}.desktop"
    icons = [path for path in written if path.suffix in (".png", ".svg")]
    assert entry in written and len(icons) >= 2
    entry.unlink()  # the first thing uninstall looks for
    assert sorted(desktop.uninstall_desktop(home)) == sorted(icons)
    assert not any(path.exists() for path in written)


def test_the_entry_points_exec_and_tryexec_at_the_launcher_and_keeps_no_other_tryexec():
    shipped = desktop.desktop_entry_text()
    text = desktop.desktop_entry_text("/opt/my apps/ofa-manager-gui")
    lines = text.splitlines()
    assert 'Exec="/opt/my apps/ofa-manager-gui"' in lines
    assert [line for line in lines if line.startswith("TryExec=")] == ["TryExec=/opt/my apps/ofa-manager-gui"]
    assert (
        text.count("\n")
        == len([line for line in shipped.splitlines() if not line.startswith("TryExec=")]) + 1
    )
    windows_like = desktop.desktop_entry_text("C:\\ofa\\gui")
    assert "TryExec=C:\\\\ofa\\\\gui" in windows_like.splitlines()


def test_an_exec_argument_escapes_quotes_backquotes_dollars_and_backslashes():
    assert desktop.quote_exec_argument('/a b/"x"`y`$z') == '"/a b/\\\\"x\\\\"\\\\`y\\\\`\\\\$z"'
    assert desktop.quote_exec_argument("/plain/path%") == "/plain/path%%"
    assert desktop.quote_exec_argument("/my apps/X-ofa") == '"/my apps/X-ofa"'  # only those four escaped


def test_a_missing_tool_is_skipped_without_a_word(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    home = tmp_path / "share"
    written = desktop.install_desktop(home, exec_path="/opt/ofa/ofa-manager-gui")
    assert all(path.exists() for path in written)
    assert desktop.uninstall_desktop(home) == written


def test_on_windows_the_exe_launcher_is_looked_for_first_then_the_bare_name():
    # os.name cannot be faked on Linux (pathlib follows it): the names are a function of the platform's name.
    assert desktop.launcher_names("nt") == ["ofa-manager-gui.exe", "ofa-manager-gui"]
    assert desktop.launcher_names("posix") == ["ofa-manager-gui"]
    assert desktop.launcher_names("java") == ["ofa-manager-gui"]


def test_the_tools_never_read_the_users_input_nor_print_into_the_output(tmp_path, monkeypatch, capfd):
    folder = tmp_path / "bin"
    folder.mkdir()
    heard = tmp_path / "heard.txt"
    script = folder / "update-desktop-database"
    # A tool that reads what it is given on stdin and talks on both outputs.
    script.write_text(
        f'#!/bin/sh\n/bin/cat > "{heard}"\necho "tool output"\necho "tool warning" >&2\n', encoding="utf-8"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    # Something waiting on this process's stdin, as a terminal's typed input would be.
    reader, writer = os.pipe()
    os.write(writer, b"typed by the user\n")
    os.close(writer)
    saved = os.dup(0)
    os.dup2(reader, 0)
    os.close(reader)
    try:
        desktop.install_desktop(tmp_path / "share", exec_path="/opt/ofa/ofa-manager-gui")
        left = os.read(0, 100)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
    assert heard.read_bytes() == b""  # the tool's stdin was empty, not ours
    assert left == b"typed by the user\n"
    out, err = capfd.readouterr()
    assert "tool" not in out and "tool" not in err


def test_an_install_without_shipped_icons_is_refused_naming_the_folder(tmp_path, monkeypatch):
    resources = tmp_path / "resources"
    resources.mkdir()
    source = desktop.resources_dir() / desktop.DESKTOP_FILE_NAME
    (resources / desktop.DESKTOP_FILE_NAME).write_bytes(source.read_bytes())
    monkeypatch.setattr(desktop, "resources_dir", lambda: resources)
    with pytest.raises(FileNotFoundError) as refused:
        desktop.install_desktop(tmp_path / "share", exec_path="/opt/ofa/ofa-manager-gui")
    assert str(refused.value) == f"no icons found under {resources / 'icons' / 'hicolor'}"


def test_a_tryexec_line_in_the_template_gives_way_to_the_one_written(tmp_path, monkeypatch):
    # A template that carries its own TryExec (a packager's edit): the entry keeps only the one written.
    resources = tmp_path / "resources"
    resources.mkdir()
    (resources / desktop.DESKTOP_FILE_NAME).write_text(
        "[Desktop Entry]\nName=OFA\nTryExec=/usr/bin/old\nExec=old\n", encoding="utf-8"
    )
    monkeypatch.setattr(desktop, "resources_dir", lambda: resources)
    assert desktop.desktop_entry_text("/opt/ofa/gui") == (
        "[Desktop Entry]\nName=OFA\nExec=/opt/ofa/gui\nTryExec=/opt/ofa/gui\n"
    )
