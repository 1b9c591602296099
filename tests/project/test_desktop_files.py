"""The desktop entry, AppStream metainfo and icons are valid, agree, and install into the XDG folders."""

from __future__ import annotations

import shutil
import stat
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from ofa_manager import APP_ID, APP_NAME
from ofa_manager.core import desktop
from ofa_manager.core.desktop import install_desktop, uninstall_desktop
from ofa_manager.core.resources import resources_dir

RESOURCES = resources_dir()
DESKTOP_FILE = RESOURCES / f"{APP_ID}.desktop"
METAINFO = RESOURCES / f"{APP_ID}.metainfo.xml"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Looked up once, before any test empties PATH.
TOOLS = {
    name: shutil.which(name) for name in ("desktop-file-validate", "appstreamcli", "gtk-update-icon-cache")
}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which the format puts first."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def desktop_keys(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


def run_tool(name: str, *arguments: str) -> subprocess.CompletedProcess:
    if TOOLS[name] is None:
        pytest.skip(f"{name} is not installed (Debian packages desktop-file-utils, appstream)")
    return subprocess.run([TOOLS[name], *arguments], capture_output=True, text=True, timeout=60)


def assert_desktop_file_valid(path: Path) -> None:
    result = run_tool("desktop-file-validate", str(path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Hints are advice; errors and warnings fail.
    assert "error:" not in output and "warning:" not in output, output


# -- the files as shipped ------------------------------------------------------------------------


def test_desktop_file_passes_desktop_file_validate():
    assert_desktop_file_valid(DESKTOP_FILE)


def test_metainfo_passes_appstreamcli_validate():
    result = run_tool("appstreamcli", "validate", "--no-net", str(METAINFO))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    problems = [line for line in output.splitlines() if line.startswith(("E:", "W:"))]
    assert not problems, output


def test_ids_and_names_agree():
    keys = desktop_keys(DESKTOP_FILE)
    root = ElementTree.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP_FILE.name == f"{APP_ID}.desktop"
    assert keys["Icon"] == APP_ID
    # Qt's X11 windows carry the application name as their WM_CLASS class.
    assert keys["StartupWMClass"] == APP_NAME
    assert keys["Exec"] == desktop.LAUNCHER_NAME
    assert (RESOURCES / f"{APP_ID}.svg").is_file()


def test_metainfo_names_the_first_release_and_a_screenshot():
    root = ElementTree.parse(METAINFO).getroot()
    release = root.find("releases/release")
    assert (release.get("version"), release.get("date")) == ("0.1.0", "2026-11-27")
    image = root.findtext("screenshots/screenshot/image")
    assert image.startswith("https://") and image.endswith("/docs/screenshot.png")
    assert root.findtext("screenshots/screenshot/caption")
    assert root.find("content_rating").get("type") == "oars-1.1"


@pytest.mark.parametrize("size", HICOLOR_SIZES)
def test_hicolor_png_has_its_size(size):
    path = RESOURCES / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    data = path.read_bytes()
    assert png_size(data) == (size, size)
    assert data[25] == 6, "colour type should be RGBA so the rounded corners stay transparent"


def test_scalable_icon_is_the_source_drawing():
    scalable = RESOURCES / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert scalable.read_bytes() == (RESOURCES / f"{APP_ID}.svg").read_bytes(), (
        "the scalable icon is stale: run python packaging/make_icons.py"
    )


def test_ico_holds_one_png_per_size_from_16_to_256():
    data = (RESOURCES / f"{APP_ID}.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height, _, _, planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index : 22 + 16 * index]
        )
        width, height = width or 256, height or 256
        assert (planes, bits) == (1, 32)
        assert offset + length <= len(data)
        assert png_size(data[offset : offset + length]) == (width, height)
        sizes.append(width)
    assert sorted(sizes) == [16, 24, 32, 48, 64, 128, 256]


def test_icns_elements_are_pngs_of_their_type_size():
    data = (RESOURCES / f"{APP_ID}.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    expected = {b"ic11": 32, b"ic12": 64, b"ic07": 128, b"ic13": 256, b"ic08": 256, b"ic14": 512,
                b"ic09": 512, b"ic10": 1024}  # fmt: skip
    found = {}
    position = 8
    while position < len(data):
        kind, length = struct.unpack(">4sI", data[position : position + 8])
        assert length >= 8 and position + length <= len(data)
        body = data[position + 8 : position + length]
        if kind != b"TOC ":
            found[kind] = png_size(body)
        position += length
    assert found == {kind: (size, size) for kind, size in expected.items()}


# -- installing into the user's XDG folders -------------------------------------------------------


def test_install_then_uninstall_writes_and_removes_exactly_the_same_files(tmp_path):
    written = install_desktop(data_home=tmp_path)

    entry = tmp_path / "applications" / f"{APP_ID}.desktop"
    assert entry in written
    exec_value = desktop_keys(entry)["Exec"]
    if exec_value != desktop.LAUNCHER_NAME:
        launcher = Path(exec_value.strip('"'))
        assert launcher.is_absolute() and launcher.is_file(), exec_value
    hicolor = tmp_path / "icons" / "hicolor"
    for size in HICOLOR_SIZES:
        icon = hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert icon in written
        assert png_size(icon.read_bytes()) == (size, size)
    assert hicolor / "scalable" / "apps" / f"{APP_ID}.svg" in written
    assert len(written) == len(HICOLOR_SIZES) + 2
    assert all(path.is_file() for path in written)

    removed = uninstall_desktop(data_home=tmp_path)

    assert sorted(removed) == sorted(written)
    assert not any(path.exists() for path in written)
    assert uninstall_desktop(data_home=tmp_path) == []


def test_exec_points_at_the_launcher_beside_the_interpreter(tmp_path, monkeypatch):
    scripts = tmp_path / "venv not on PATH" / "bin"
    scripts.mkdir(parents=True)
    launcher = scripts / desktop.LAUNCHER_NAME
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(sys, "executable", str(scripts / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    install_desktop(data_home=tmp_path / "share")

    entry = tmp_path / "share" / "applications" / f"{APP_ID}.desktop"
    keys = desktop_keys(entry)
    assert keys["Exec"] == f'"{launcher}"'
    assert keys["TryExec"] == str(launcher)
    assert_desktop_file_valid(entry)


def test_exec_of_a_frozen_app_is_the_app_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/ofa-manager/ofa-manager")

    install_desktop(data_home=tmp_path)

    keys = desktop_keys(tmp_path / "applications" / f"{APP_ID}.desktop")
    assert keys["Exec"] == "/opt/ofa-manager/ofa-manager"


def test_exec_without_any_launcher_keeps_the_plain_name(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    install_desktop(data_home=tmp_path)

    entry = tmp_path / "applications" / f"{APP_ID}.desktop"
    assert desktop_keys(entry)["Exec"] == desktop.LAUNCHER_NAME
    assert "TryExec" not in desktop_keys(entry)


def test_exec_path_with_reserved_characters_is_quoted_and_escaped(tmp_path):
    install_desktop(data_home=tmp_path, exec_path="/opt/My Apps/50% $HOME/ofa-manager-gui")

    entry = tmp_path / "applications" / f"{APP_ID}.desktop"
    # Exec quoting escapes $ as \$; the string value escapes that backslash again; % doubles.
    assert desktop_keys(entry)["Exec"] == '"/opt/My Apps/50%% \\\\$HOME/ofa-manager-gui"'
    assert_desktop_file_valid(entry)


def test_default_folder_is_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    written = install_desktop()

    assert written and all(path.is_relative_to(tmp_path / "data") for path in written)
    assert sorted(uninstall_desktop()) == sorted(written)


def test_relative_xdg_data_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    monkeypatch.setenv("HOME", str(tmp_path))

    assert desktop.user_data_home() == tmp_path / ".local" / "share"


def test_missing_cache_tools_are_harmless(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    assert install_desktop(data_home=tmp_path)
    assert uninstall_desktop(data_home=tmp_path)


@pytest.mark.skipif(TOOLS["gtk-update-icon-cache"] is None, reason="gtk-update-icon-cache is not installed")
def test_an_existing_icon_cache_is_refreshed(tmp_path):
    hicolor = tmp_path / "icons" / "hicolor"
    other_icon = hicolor / "16x16" / "apps" / "org.example.Other.png"
    other_icon.parent.mkdir(parents=True)
    shutil.copyfile(RESOURCES / "icons" / "hicolor" / "16x16" / "apps" / f"{APP_ID}.png", other_icon)
    subprocess.run([TOOLS["gtk-update-icon-cache"], "-q", "-t", "-f", str(hicolor)], check=True)
    assert APP_ID.encode() not in (hicolor / "icon-theme.cache").read_bytes()

    install_desktop(data_home=tmp_path)

    assert APP_ID.encode() in (hicolor / "icon-theme.cache").read_bytes()


def test_no_icon_cache_is_created_where_there_was_none(tmp_path):
    install_desktop(data_home=tmp_path)

    assert not (tmp_path / "icons" / "hicolor" / "icon-theme.cache").exists()
