"""``install-desktop`` and ``uninstall-desktop``: the launcher and icons of the window."""

from __future__ import annotations

from ofa_manager.cli.common import EXIT_OK


def cmd_install_desktop(args) -> int:
    from ofa_manager.core.desktop import install_desktop

    for path in install_desktop():
        print(path)
    print("ofa-manager is now in the application launcher")
    return EXIT_OK


def cmd_uninstall_desktop(args) -> int:
    from ofa_manager.core.desktop import uninstall_desktop

    removed = uninstall_desktop()
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print("nothing was installed")
    return EXIT_OK
