"""The ``ofa-manager`` command line: the same engine as the window, for servers and scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ofa_manager import __version__

# Only what the window needs before its first paint anyway is imported here. The network side of the
# engine (credentials → keyring, http → requests, queue, transfer) is imported by the commands that
# use it, so opening the window does not wait for it.
from ofa_manager.core import settings, units
from ofa_manager.core.catalog import Catalog, CatalogError, Checkpoint, load_catalog, unknown_id_message
from ofa_manager.core.library import Library, State, file_size

if TYPE_CHECKING:
    from ofa_manager.core.queue import QueueEvent
    from ofa_manager.core.transfer import TransferOptions

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_TIMEOUT = settings.RANGES["timeout"][1]


class UsageError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="models folder (default: $OFA_MANAGER_DIR, the setting, or the user data folder)",
    )
    common.add_argument(
        "--catalog",
        metavar="FILE",
        action="append",
        default=argparse.SUPPRESS,
        help="use this catalog instead of the built-in one (repeatable)",
    )
    parser = argparse.ArgumentParser(
        prog="ofa-manager",
        parents=[common],
        description="Get and keep the OFA backbones and π-Tuning PETL checkpoints. "
        "With no command, the window opens.",
    )
    parser.add_argument("--version", action="version", version=f"ofa-manager {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", parents=[common], help="list the checkpoints and their state")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("download", parents=[common], help="download checkpoints (resumes partial files)")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every checkpoint in the catalog")
    p.add_argument("--jobs", type=_int_range(1, 8), help="files in parallel (default 2)")
    p.add_argument("--connections", type=_int_range(1, 16), help="connections per file (default 4, max 16)")
    p.add_argument("--limit-rate", metavar="RATE", help="total bandwidth limit, e.g. 5M or 500k (bytes/s)")
    p.add_argument("--retries", type=_int_range(0, 100), help="retries per connection (default 5)")
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help=f"stall timeout in seconds, more than 0 and at most {MAX_TIMEOUT:g} (default 30)",
    )

    p = sub.add_parser("verify", parents=[common], help="re-hash local files; exit 1 on a mismatch")
    p.add_argument("ids", nargs="*", metavar="ID")

    p = sub.add_parser("rm", parents=[common], help="delete local copies (permanently)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--partial", action="store_true", help="delete only unfinished partial files")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    p = sub.add_parser("du", parents=[common], help="disk usage of the models folder")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "check", parents=[common], help="HEAD each URL and mirror: status, size, ETag; no body fetched"
    )
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("login", parents=[common], help="store a token for a host in the system keyring")
    p.add_argument("host")
    p = sub.add_parser("logout", parents=[common], help="remove a host's token from the system keyring")
    p.add_argument("host")

    sub.add_parser(
        "install-desktop",
        parents=[common],
        help="add ofa-manager to the desktop's application launcher (XDG folders)",
    )
    sub.add_parser("uninstall-desktop", parents=[common], help="remove the launcher entry and icons")
    sub.add_parser("gui", parents=[common], help="open the window (the default)")
    return parser


def _int_range(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "gui"):
            return _open_window(args)
        handler = COMMANDS[args.command]
        return handler(args)
    except (UsageError, CatalogError) as exc:
        print(f"ofa-manager: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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


# -- shared set-up ------------------------------------------------------------------------------


def _catalog(args) -> Catalog:
    return load_catalog(getattr(args, "catalog", None))


def _library(args, catalog: Catalog) -> Library:
    folder = getattr(args, "dir", None)
    root = Path(folder).expanduser() if folder else settings.load().models_path()
    return Library(root, catalog)


def _select(catalog: Catalog, ids: list[str], *, everything_when_empty: bool) -> list[Checkpoint]:
    if not ids:
        return list(catalog) if everything_when_empty else []
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise UsageError("; ".join(unknown_id_message(i, catalog.ids()) for i in unknown))
    return [catalog.get(i) for i in dict.fromkeys(ids)]


def _summary(catalog: Catalog, library: Library, statuses: dict | None = None) -> str:
    statuses = statuses if statuses is not None else library.statuses()
    lines = [f"{catalog.title} — {len(catalog)} checkpoints, models folder {library.root}"]
    for entry in catalog:
        lines.append(_list_line(entry, statuses[entry.id], catalog))
    return "\n".join(lines)


def _list_line(entry: Checkpoint, status, catalog: Catalog) -> str:
    state = status.state.value
    if status.state is State.PARTIAL:
        state = f"partial {units.size(status.bytes)}"
    elif status.state is State.DOWNLOADED:
        state = "verified" if status.verified else "downloaded"
    size = units.size(status.size) if status.size else "size unknown"
    shared = " (shared file)" if catalog.sharing(entry) else ""
    group = " / ".join(entry.group)
    return f"  {entry.id:<24} {entry.title:<34} {size:>12}  {state}{shared}  [{group}]"


# -- commands -----------------------------------------------------------------------------------


def cmd_list(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    statuses = library.statuses()
    if args.json:
        rows = []
        for entry in catalog:
            status = statuses[entry.id]
            rows.append(
                {
                    "id": entry.id,
                    "title": entry.title,
                    "group": list(entry.group),
                    "url": entry.url,
                    "state": status.state.value,
                    "path": str(status.path),
                    "bytes": status.bytes,
                    "size": status.size,
                    "shared_with": [o.id for o in catalog.sharing(entry)],
                    "base": entry.base,
                    "params": entry.params,
                    "sha256": entry.sha256,
                    "verified": status.verified,
                    "filename": status.path.name,
                    "mirrors": list(entry.mirrors),
                }
            )
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(_summary(catalog, library, statuses))
    shared = [e for e in catalog if catalog.sharing(e)]
    if shared:
        names = {library.path(e).name for e in shared}
        print(
            f"\n{len(shared)} entries share {len(names)} file(s) ({', '.join(sorted(names))}): "
            "downloaded once, kept once."
        )
    return EXIT_OK


def _options(args, saved: settings.Settings) -> tuple[TransferOptions, int, int]:
    from ofa_manager.core.transfer import TransferOptions

    limit = saved.limit_rate
    if getattr(args, "limit_rate", None):
        try:
            limit = units.parse_rate(args.limit_rate)
        except ValueError as exc:
            raise UsageError(f"--limit-rate: {exc}") from None
    timeout = args.timeout if getattr(args, "timeout", None) is not None else saved.timeout
    if not 0 < timeout <= MAX_TIMEOUT:  # also refuses nan and inf; a socket cannot wait 1e300 s
        raise UsageError(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    options = TransferOptions(
        connections=args.connections or saved.connections,
        retries=args.retries if args.retries is not None else saved.retries,
        timeout=timeout,
        rewrite_rules=[(a, b) for a, b in saved.rewrite_rules],
    )
    return options, args.jobs or saved.jobs, limit


class _Reporter:
    """Progress for the terminal: tqdm bars on a TTY, plain lines otherwise."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._lock = threading.Lock()
        self._bars: dict[str, object] = {}
        self._last_line: dict[str, float] = {}
        self._positions = 0

    def __call__(self, event: QueueEvent) -> None:
        item = event.item
        if item is None:
            return
        with self._lock:
            if self.tty:
                self._bar(item)
            else:
                self._line(item)

    def _bar(self, item) -> None:
        from tqdm import tqdm

        from ofa_manager.core.queue import ItemState

        bar = self._bars.get(item.key)
        if bar is None:
            # Counts are plain bytes; the text is written by units.size (binary units, like the window).
            bar = tqdm(
                total=item.total or 0,
                desc=", ".join(item.entry_ids),
                position=self._positions,
                leave=True,
                file=self.stream,
                dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {unit}",
            )
            self._positions += 1
            self._bars[item.key] = bar
        if item.total and bar.total != item.total:
            bar.total = item.total
        if item.done >= bar.n:
            bar.update(item.done - bar.n)
        text = f"{units.size(item.done)} of {units.size(item.total)}"
        if item.state in (ItemState.DOWNLOADING, ItemState.STALLED):
            text += f", {units.rate(item.speed)}, {units.duration(item.eta)} left"
        status = {
            "stalled": "reconnecting",
            "waiting": "waiting for another process",
            "verifying": "verifying",
            "done": "done",
            "failed": "failed",
        }.get(item.state.value)
        bar.unit = f"{text} — {status}" if status else text
        if item.state in (ItemState.DONE, ItemState.FAILED):
            bar.close()
        else:
            bar.refresh()

    def _line(self, item) -> None:
        from ofa_manager.core.queue import ItemState

        now = time.monotonic()
        name = ", ".join(item.entry_ids)
        if item.state is ItemState.DONE:
            print(f"done: {name} ({units.size(item.total)}) -> {item.key}", file=self.stream, flush=True)
        elif item.state is ItemState.FAILED:
            pass  # reported once, with the reason, in the summary
        elif (
            item.state in (ItemState.DOWNLOADING, ItemState.STALLED)
            and now - self._last_line.get(item.key, 0) >= 5
        ):
            self._last_line[item.key] = now
            pct = f"{100 * item.fraction:.0f}%" if item.fraction is not None else "?"
            extra = " reconnecting" if item.state is ItemState.STALLED else ""
            print(
                f"{name}: {pct} {units.size(item.done)} of {units.size(item.total)}, "
                f"{units.rate(item.speed)}, {units.duration(item.eta)} left{extra}",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        with self._lock:
            for bar in self._bars.values():
                bar.close()


def cmd_download(args) -> int:
    from ofa_manager.core import credentials
    from ofa_manager.core.queue import DownloadQueue, ItemState
    from ofa_manager.core.transfer import RateLimiter

    catalog = _catalog(args)
    if args.all and args.ids:
        raise UsageError("give checkpoint ids or --all, not both")
    if not args.all and not args.ids:
        raise UsageError("name the checkpoints to download (see `ofa-manager list`), or use --all")
    entries = _select(catalog, args.ids, everything_when_empty=True)
    library = _library(args, catalog)
    saved = settings.load()
    options, jobs, limit = _options(args, saved)
    reporter = _Reporter(sys.stderr)
    queue = DownloadQueue(
        library,
        options,
        jobs=jobs,
        limiter=RateLimiter(limit),
        tokens=credentials.TokenCache(),
        on_event=reporter,
    )
    by_file: dict[Path, list[str]] = {}
    for entry in entries:
        by_file.setdefault(library.path(entry), []).append(entry.id)
    for path, ids in by_file.items():
        if len(ids) > 1:
            print(f"{', '.join(ids)} share one file ({path.name}): fetched once", file=sys.stderr)
    try:
        queue.add(entries)
        while not queue.wait(0.5):
            pass
    except KeyboardInterrupt:
        queue.shutdown()
        reporter.close()
        print("\nstopped; partial data kept — run the same command again to resume", file=sys.stderr)
        return 130
    queue.shutdown()  # nothing runs any more: this only waits for the worker threads to return
    reporter.close()
    failed = [item for item in queue.items() if item.state is ItemState.FAILED]
    for item in failed:
        titles = ", ".join(catalog.get(i).title for i in item.entry_ids)
        print(f"failed: {titles}: {item.error}", file=sys.stderr)
    done = [item for item in queue.items() if item.state is ItemState.DONE]
    print(f"{len(done)} file(s) ready, {len(failed)} failed, in {library.root}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_verify(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=True)
    statuses = library.statuses()
    bad = checked = 0
    for entry in library.one_per_file(entries):
        path = library.path(entry)
        before = statuses[entry.id]
        if before.state not in (State.DOWNLOADED, State.CORRUPT):
            if args.ids:
                print(f"{entry.id}: not downloaded ({before.state.value})")
            continue
        status = library.verify(entry)
        checked += 1
        names = ", ".join([entry.id] + [o.id for o in catalog.sharing(entry)])
        if status.state is State.CORRUPT:
            bad += 1
            found = status.meta.get("sha256_found", "?")
            print(
                f"{names}: CORRUPT ({path}): sha256 {found} does not match the expected "
                f"{library.expected_sha256(entry) or status.meta.get('sha256')}"
            )
        else:
            how = "verified against the catalog sha256" if status.verified else "hash recorded"
            print(f"{names}: ok ({units.size(status.bytes)}, sha256 {status.sha256}; {how})")
    print(f"{checked} file(s) checked, {bad} corrupt")
    return EXIT_FAILED if bad else EXIT_OK


def cmd_rm(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=False)
    targets = []
    for entry in library.one_per_file(entries):
        path = library.path(entry)
        status = library.status(entry)
        if args.partial:
            size = file_size(library.part_path(entry))
            if size or library.record_path(entry).exists():
                targets.append((entry, size, library.part_path(entry)))
        elif status.state is not State.REMOTE:
            targets.append((entry, file_size(path) + file_size(library.part_path(entry)), path))
    if not targets:
        print("nothing to delete")
        return EXIT_OK
    total = sum(size for _, size, _ in targets)
    for entry, size, path in targets:
        others = [o.id for o in catalog.sharing(entry)]
        also = f" (also used by {', '.join(others)})" if others else ""
        dependants = [o.id for o in catalog.dependants(entry) if library.status(o).state is State.DOWNLOADED]
        needs = f"; needed by downloaded {', '.join(dependants)}" if dependants and not args.partial else ""
        print(f"{path} — {units.size(size)}{also}{needs}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("not on a terminal: add --yes to delete without asking")
        answer = input(f"Delete {len(targets)} file(s), freeing {units.size(total)}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return EXIT_OK
    freed = sum(library.delete(entry, partial_only=args.partial) for entry, _, _ in targets)
    print(f"deleted {len(targets)} file(s), freed {units.size(freed)}")
    return EXIT_OK


def cmd_du(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    usage = library.disk_usage()
    if args.json:
        print(
            json.dumps(
                {
                    "root": str(library.root),
                    "downloaded": usage.downloaded,
                    "partial": usage.partial,
                    "other": usage.other,
                    "free": usage.free,
                    "total": usage.total,
                    "entries": usage.per_entry,
                    "files": usage.per_file,
                },
                indent=2,
            )
        )
        return EXIT_OK
    print(f"models folder {library.root}")
    print(f"  checkpoints    {units.size(usage.downloaded):>12}")
    print(f"  partial files  {units.size(usage.partial):>12}")
    print(f"  other data     {units.size(usage.other):>12}")
    print(f"  free on volume {units.size(usage.free):>12}  (of {units.size(usage.total)})")
    used = sorted(((size, path) for path, size in usage.per_file.items() if size), reverse=True)
    everything = sum(size for size, _ in used) or 1
    for size, path in used:
        print(f"  {units.size(size):>12}  {100 * size / everything:5.1f}%  {Path(path).name}")
    return EXIT_OK


def cmd_check(args) -> int:
    import concurrent.futures

    from ofa_manager.core import credentials
    from ofa_manager.core.http import check_link, make_session
    from ofa_manager.core.transfer import TransferOptions

    catalog = _catalog(args)
    entries = _select(catalog, args.ids, everything_when_empty=True)
    saved = settings.load()
    options = TransferOptions(rewrite_rules=[(a, b) for a, b in saved.rewrite_rules])
    # Every source a download may use: the published link, then the mirrors (rewritten as downloads are).
    urls: dict[str, list[Checkpoint]] = {}
    mirror_only: set[str] = set()
    for entry in entries:
        link = options.rewrite(entry.url)
        mirror_only.discard(link)
        sources = [link, *(options.rewrite(m) for m in entry.mirrors)]
        for url in dict.fromkeys(sources):  # a mirror may rewrite to the link itself
            if url not in urls and url != link:
                mirror_only.add(url)
            users = urls.setdefault(url, [])
            if entry not in users:
                users.append(entry)
    tokens = credentials.TokenCache()
    session = make_session(8)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(urls) or 1)) as pool:
            checks = pool.map(
                lambda u: check_link(u, session=session, tokens=tokens, timeout=saved.timeout), urls
            )
            results = dict(zip(urls, checks, strict=True))
    finally:
        session.close()
    rows, bad = [], 0
    for url, users in urls.items():
        result = results[url]
        bad += not result.ok
        rows.append(
            {
                "url": url,
                "ids": [e.id for e in users],
                "status": result.status,
                "size": result.size,
                "etag": result.etag,
                "accepts_ranges": result.accepts_ranges,
                "ok": result.ok,
                "error": result.error,
                "shared": len(users) > 1 or any(catalog.sharing(e) for e in users),
                "mirror": url in mirror_only,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            state = "ok" if row["ok"] else f"FAILED: {row['error']}"
            shared = f"  shared by {len(row['ids'])} entries" if len(row["ids"]) > 1 else ""
            mirror = "  (mirror)" if row["mirror"] else ""
            print(
                f"{state:<10} {row['status'] or '---'}  {units.size(row['size']):>10}  "
                f"etag {row['etag'] or '-'}{shared}{mirror}\n           {row['url']}\n           "
                f"{', '.join(row['ids'])}"
            )
    return EXIT_FAILED if bad else EXIT_OK


def _host(text: str) -> str:
    host = urlsplit(text).netloc if "://" in text else text.strip().rstrip("/")
    if not host or "/" in host or " " in host:
        raise UsageError(f"not a host name: {text!r} (example: ofa-beijing.oss-cn-beijing.aliyuncs.com)")
    return host.lower()


def cmd_login(args) -> int:
    import getpass

    from ofa_manager.core import credentials

    host = _host(args.host)
    if not credentials.keyring_available():
        raise credentials.KeyringUnavailable(credentials.NO_BACKEND)
    if sys.stdin.isatty():
        token = getpass.getpass(f"Token for {host} (not shown): ")
    else:
        token = sys.stdin.readline().strip()
    if not token:
        raise UsageError("no token given; nothing stored")
    credentials.set_token(host, token)
    print(f"token for {host} stored in the system keyring")
    return EXIT_OK


def cmd_logout(args) -> int:
    from ofa_manager.core import credentials

    host = _host(args.host)
    if credentials.delete_token(host):
        print(f"token for {host} removed from the system keyring")
    else:
        print(f"no token was stored for {host}")
    return EXIT_OK


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


COMMANDS = {
    "list": cmd_list,
    "download": cmd_download,
    "verify": cmd_verify,
    "rm": cmd_rm,
    "du": cmd_du,
    "check": cmd_check,
    "login": cmd_login,
    "logout": cmd_logout,
    "install-desktop": cmd_install_desktop,
    "uninstall-desktop": cmd_uninstall_desktop,
}

if __name__ == "__main__":
    sys.exit(main())
