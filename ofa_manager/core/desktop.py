"""Adds ofa-manager to (or removes it from) the desktop's application menu for the current user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ofa_manager import APP_ID
from ofa_manager.core.resources import resources_dir

LAUNCHER_NAME = "ofa-manager-gui"
DESKTOP_FILE_NAME = f"{APP_ID}.desktop"

# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def user_data_home() -> Path:
    """The user's data folder: $XDG_DATA_HOME, else ~/.local/share."""
    configured = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says a relative path there is invalid and must be ignored.
    if configured and Path(configured).is_absolute():
        return Path(configured)
    return Path.home() / ".local" / "share"


def launcher_names(platform: str) -> list[str]:
    """The launcher's file names to look for beside the interpreter, in order, on ``platform`` (``os.name``).

    A plain function of the platform's name, so that the Windows rule (pip's ``.exe`` launcher first,
    then the bare name) is checked on any system.
    """
    return [LAUNCHER_NAME + ".exe", LAUNCHER_NAME] if platform == "nt" else [LAUNCHER_NAME]


def find_launcher() -> Path | None:
    """The executable that opens the window for this installation, or None if there is none."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable)
    names = launcher_names(os.name)
    # Looked for beside the running interpreter first: a venv that is not on PATH must still start
    # its own copy, not whichever ofa-manager-gui PATH happens to find. The interpreter path is not
    # resolved, since in a venv it is a symlink leading out of the venv.
    scripts = Path(sys.executable).parent
    for name in names:
        candidate = scripts / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.absolute()
    found = shutil.which(LAUNCHER_NAME)
    return Path(found).absolute() if found else None


def quote_exec_argument(argument: str) -> str:
    """One Exec= argument, quoted and escaped as a desktop entry's string value requires."""
    # Two layers: the Exec key's own quoting, then the backslash escapes of any string value.
    if any(char in _EXEC_RESERVED for char in argument):
        inner = "".join("\\" + char if char in '"`$\\' else char for char in argument)
        argument = f'"{inner}"'
    return argument.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry_text(exec_path: str | None = None) -> str:
    """The shipped desktop entry, with Exec (and TryExec) pointing at exec_path when given."""
    source = (resources_dir() / DESKTOP_FILE_NAME).read_text(encoding="utf-8")
    if exec_path is None:
        return source
    command = quote_exec_argument(exec_path)
    lines = []
    for line in source.splitlines():
        if line.startswith("Exec="):
            lines.append(f"Exec={command}")
            # Hides the menu entry by itself if this installation is deleted without uninstalling.
            lines.append("TryExec=" + exec_path.replace("\\", "\\\\"))
        elif not line.startswith("TryExec="):
            lines.append(line)
    return "\n".join(lines) + "\n"


def install_desktop(data_home: Path | None = None, exec_path: str | None = None) -> list[Path]:
    """Write the desktop entry and the hicolor icons under data_home and return the files written.

    Exec= gets exec_path when given, else the absolute path of this installation's launcher when
    one is found, so that a pip install into a venv that is not on PATH still starts from the menu.
    """
    home = _resolve_data_home(data_home)
    if exec_path is None:
        launcher = find_launcher()
        exec_path = str(launcher) if launcher else None
    written = [_write(home / "applications" / DESKTOP_FILE_NAME, desktop_entry_text(exec_path).encode())]
    for source, relative in _shipped_icons():
        written.append(_write(home / "icons" / "hicolor" / relative, source.read_bytes()))
    _refresh_caches(home)
    return written


def uninstall_desktop(data_home: Path | None = None) -> list[Path]:
    """Remove the desktop entry and icons that install_desktop writes; return the files removed."""
    home = _resolve_data_home(data_home)
    targets = [home / "applications" / DESKTOP_FILE_NAME]
    hicolor = home / "icons" / "hicolor"
    # Icons are found by name rather than from the shipped list, so sizes that an older version
    # installed go as well.
    for extension in ("png", "svg"):
        targets += sorted(hicolor.glob(f"*/apps/{APP_ID}.{extension}"))
    removed = []
    for target in targets:
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        removed.append(target)
    if removed:
        _refresh_caches(home)
    return removed


def _resolve_data_home(given: Path | None) -> Path:
    return Path(given).absolute() if given is not None else user_data_home()


def _shipped_icons() -> list[tuple[Path, Path]]:
    """Each shipped hicolor icon and its path inside a hicolor theme folder."""
    hicolor = resources_dir() / "icons" / "hicolor"
    found = []
    for extension in ("png", "svg"):
        for source in sorted(hicolor.glob(f"*/apps/{APP_ID}.{extension}")):
            found.append((source, source.relative_to(hicolor)))
    if not found:
        raise FileNotFoundError(f"no icons found under {hicolor}")
    return found


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return path


def _refresh_caches(home: Path) -> None:
    """Tell the menu and the icon theme about the change; a missing or failing tool is harmless."""
    applications = home / "applications"
    if applications.is_dir():
        _run_quietly(["update-desktop-database", "-q", str(applications)])
    hicolor = home / "icons" / "hicolor"
    if not hicolor.is_dir():
        return
    # A per-user hicolor folder usually has no cache; creating one would leave a file behind that
    # goes stale when other programs add icons. So an existing cache is refreshed, and otherwise the
    # folder's time stamp is bumped, which is what icon theme readers watch (as xdg-icon-resource does).
    if (hicolor / "icon-theme.cache").is_file():
        _run_quietly(["gtk-update-icon-cache", "-q", "-t", "-f", str(hicolor)])
    else:
        os.utime(hicolor)


def _run_quietly(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        return
    try:
        subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        pass
