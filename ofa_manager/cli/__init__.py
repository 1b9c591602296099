"""The ``ofa-manager`` command line: the same engine as the window, for servers and scripts.

One module a family of commands (``download``, ``verify``/``check``, ``rm``/``accept``, ``move``,
``list``/``du``, ``inspect``, ``link``, ``catalog``/``lock``, ``login``/``logout``/``mirror``, the desktop
launcher), the arguments in ``parser``, the set-up and words they share in ``common``; here the entry points
and the table from command to handler."""

from __future__ import annotations

import os
import sys

# Only what the window needs before its first paint anyway is imported by the command modules at the top.
# The network side of the engine (credentials → keyring, http → requests, queue, transfer) is imported by
# the commands that use it, so opening the window does not wait for it.
from ofa_manager.cli.access import cmd_login, cmd_logout, cmd_mirror
from ofa_manager.cli.archives import cmd_unpack
from ofa_manager.cli.catalog import cmd_catalog, cmd_lock
from ofa_manager.cli.common import (
    EXIT_MOVED,
    EXIT_OK,
    EXIT_USAGE,
    FolderMovedError,
    UsageError,
    _catalog,
    _library,
    _summary,
)
from ofa_manager.cli.desktop import cmd_install_desktop, cmd_uninstall_desktop
from ofa_manager.cli.download import cmd_download
from ofa_manager.cli.inspection import cmd_inspect
from ofa_manager.cli.links import cmd_link
from ofa_manager.cli.listing import cmd_du, cmd_list
from ofa_manager.cli.move import cmd_move
from ofa_manager.cli.parser import build_parser
from ofa_manager.cli.remove import cmd_accept, cmd_rm
from ofa_manager.cli.verify import cmd_check, cmd_verify
from ofa_manager.core.catalog import CatalogError, redact_text


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "gui"):
            return _open_window(args)
        handler = COMMANDS[args.command]
        return handler(args)
    except (UsageError, CatalogError) as exc:
        print(f"ofa-manager: error: {redact_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except FolderMovedError as exc:
        print(exc.explain(), file=sys.stderr)
        return EXIT_MOVED
    except _keyring_unavailable() as exc:
        print(f"ofa-manager: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # The models folder (or a file named on the command line) cannot be used as asked.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ofa-manager: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE


def _keyring_unavailable() -> type[Exception] | tuple[()]:
    """credentials.KeyringUnavailable once that module is loaded; before that nothing can raise it."""
    credentials = sys.modules.get("ofa_manager.core.credentials")
    return credentials.KeyringUnavailable if credentials is not None else ()


def gui_main() -> int:
    """Entry point for desktop launchers."""
    return main(["gui", *sys.argv[1:]])


def _open_window(args) -> int:
    if _no_display():
        # A headless server: show what the window would, and how to use the commands.
        print(
            "ofa-manager: no display here (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot "
            "open; the commands work:\n",
            file=sys.stderr,
        )
        return _summary_and_usage(args)
    try:
        from ofa_manager.gui.app import run
    except ImportError as exc:
        print(f"ofa-manager: the window cannot start ({exc}); the commands still work:\n", file=sys.stderr)
        return _summary_and_usage(args)
    return run(models_dir=getattr(args, "dir", None), catalog_files=getattr(args, "catalog", None))


def _no_display() -> bool:
    """True on a Linux (or other X11/Wayland) machine with no screen, where Qt would abort."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _summary_and_usage(args) -> int:
    catalog = _catalog(args)
    print(_summary(catalog, _library(args, catalog)))
    print()
    build_parser().print_help()
    return EXIT_OK


COMMANDS = {
    "unpack": cmd_unpack,
    "catalog": cmd_catalog,
    "lock": cmd_lock,
    "mirror": cmd_mirror,
    "list": cmd_list,
    "download": cmd_download,
    "verify": cmd_verify,
    "rm": cmd_rm,
    "move": cmd_move,
    "du": cmd_du,
    "accept": cmd_accept,
    "check": cmd_check,
    "inspect": cmd_inspect,
    "link": cmd_link,
    "login": cmd_login,
    "logout": cmd_logout,
    "install-desktop": cmd_install_desktop,
    "uninstall-desktop": cmd_uninstall_desktop,
}
