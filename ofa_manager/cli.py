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

from ofa_manager import __version__

# Only what the window needs before its first paint anyway is imported here. The network side of the
# engine (credentials → keyring, http → requests, queue, transfer) is imported by the commands that
# use it, so opening the window does not wait for it.
from ofa_manager.core import settings, units
from ofa_manager.core.catalog import (
    Catalog,
    CatalogError,
    Checkpoint,
    display_url,
    load_catalog,
    redact_text,
    unknown_id_message,
)
from ofa_manager.core.describe import Proof, Word, describe, verified_by
from ofa_manager.core.library import (
    Library,
    NotOursError,
    State,
    UnsafePathError,
    describe_kind,
    file_size,
    free_space,
    path_kind,
)

if TYPE_CHECKING:
    from ofa_manager.core.states import QueueEvent
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
        help="use this catalog instead of the built-in and imported ones (repeatable)",
    )
    common.add_argument(
        "--store",
        metavar="DIR",
        action="append",
        default=argparse.SUPPRESS,
        help="a read-only shared store whose checkpoints count as present (repeatable; added to the "
        "Settings list for this run)",
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
    p.add_argument(
        "--here",
        action="store_true",
        help="also download checkpoints a shared store has, into the models folder",
    )
    backbone = p.add_mutually_exclusive_group()
    backbone.add_argument(
        "--with-backbone",
        action="store_true",
        help="also download the backbone a PETL checkpoint needs when it is not here (asked otherwise)",
    )
    backbone.add_argument(
        "--no-backbone",
        action="store_true",
        help="download only the checkpoints named, without their backbone",
    )
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="download even when the disk looks too small, or again where a download that failed its "
        "check is kept as NAME.rejected (asked otherwise)",
    )
    p.add_argument(
        "--unpack",
        action="store_true",
        help="then unpack the .zip archives among them into a folder beside each (see `unpack`)",
    )

    p = sub.add_parser("verify", parents=[common], help="re-hash local files; exit 1 on a mismatch")
    p.add_argument("ids", nargs="*", metavar="ID")

    p = sub.add_parser("rm", parents=[common], help="delete local copies (permanently)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--partial", action="store_true", help="delete only unfinished partial files")
    p.add_argument(
        "--rejected",
        action="store_true",
        help="delete only the kept copies of downloads that failed their check (NAME.rejected)",
    )
    p.add_argument(
        "--trash",
        action="store_true",
        help="move the files to the desktop trash instead (the space is freed when the trash is emptied)",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--force",
        action="store_true",
        help="also delete a file at the checkpoint's path that ofa-manager did not download (named first)",
    )
    p.add_argument(
        "--keep-unpacked",
        action="store_true",
        help="delete an archive but keep the folder it was unpacked into (deleted with it otherwise)",
    )

    p = sub.add_parser(
        "move",
        parents=[common],
        help="move the models folder (every checkpoint and partial file) to DIR and use DIR from now on",
        description="Move the checkpoints, partial files and their records to DIR (across volumes they are "
        "copied, holes of partial files kept) and save DIR as the models folder. A file whose name is "
        "taken in DIR stays where it is (exit code 1). Ctrl+C stops between two pieces: the file being "
        "copied stays whole where it was.",
    )
    p.add_argument("target", metavar="DIR")

    p = sub.add_parser(
        "accept",
        parents=[common],
        help="keep a download that failed its check (NAME.rejected) anyway, marked as differing from the "
        "catalog (never verified), without downloading it again",
    )
    p.add_argument("ids", nargs="+", metavar="ID")

    p = sub.add_parser("du", parents=[common], help="disk usage of the models folder")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "check", parents=[common], help="HEAD each URL and mirror: status, size, ETag; no body fetched"
    )
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "inspect",
        parents=[common],
        help="what is in a checkpoint (keys, tensors, model, safety), read without torch or running it",
        description="Describe a PyTorch checkpoint from its zip directory and its pickle, without torch and "
        "without executing anything in it: format, keys, sections and their tensor bytes, parameters, "
        "dtypes, fairseq/OFA metadata, PETL families, the OFA size inferred from shapes, and whether "
        "torch.load(weights_only=False) would import or call anything (with the lines that load a safe "
        "file with weights_only=True).",
        epilog="exit codes: 0 tensors and plain data only; 1 it names globals that loading would import or "
        "call, or --deep found damage; 2 usage error, or not a readable PyTorch checkpoint (truncated, "
        "ambiguous, an HTML page…)",
    )
    p.add_argument("target", metavar="ID|PATH", help="a catalog id (its local file) or any file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--deep", action="store_true", help="also read every byte: each member's CRC, each storage's size"
    )

    p = sub.add_parser("login", parents=[common], help="store a token for a host in the system keyring")
    p.add_argument("host")
    p = sub.add_parser("logout", parents=[common], help="remove a host's token from the system keyring")
    p.add_argument("host")

    p = sub.add_parser(
        "mirror",
        parents=[common],
        help="fetch URLs that start with a prefix from a lab cache or mirror instead",
        description="Mirror rules, shared with Settings → Mirrors: a URL that starts with PREFIX is fetched "
        "from URL + the rest of it. The first matching rule wins. With no action, the rules are listed.",
        epilog='example (a lab cache, see README "For a lab"): ofa-manager mirror add '
        "https://ofa-beijing.oss-cn-beijing.aliyuncs.com/ http://cache.lab.example:8080/",
    )
    actions = p.add_subparsers(dest="mirror_action", metavar="ACTION")
    q = actions.add_parser("add", help="add a rule, or change the one for PREFIX")
    q.add_argument("prefix", metavar="PREFIX")
    q.add_argument("url", metavar="URL")
    q = actions.add_parser("list", help="the rules, in the order they are tried")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = actions.add_parser("remove", help="remove the rule for PREFIX")
    q.add_argument("prefix", metavar="PREFIX")

    p = sub.add_parser(
        "link",
        parents=[common],
        help="put checkpoints where a project expects them (links into a folder, or a scan of its scripts)",
        description="Link checkpoints into a project folder: `link ID... --into DIR` makes DIR/FILE stand "
        "for each checkpoint's file (a symbolic link by default). `link --scan PROJECT` reads the project's "
        "shell scripts for the checkpoint paths they read and reports what stands there or could; with "
        "--apply the missing checkpoints are downloaded and linked. A file that is not our own link is never "
        "replaced: it is named and left alone (exit code 1).",
    )
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--into", metavar="DIR", help="the folder to link into (made if missing)")
    p.add_argument("--as", dest="name", metavar="NAME", help="the link's file name (one ID only)")
    p.add_argument(
        "--mode", choices=("symlink", "hardlink", "copy"), default="symlink", help="how (default symlink)"
    )
    p.add_argument("--scan", metavar="PROJECT", help="read PROJECT's shell scripts for checkpoint paths")
    p.add_argument("--apply", action="store_true", help="with --scan: download what is missing, then link")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--yes", "-y", action="store_true", help="with --apply: download even when the disk looks too small"
    )
    backbone = p.add_mutually_exclusive_group()
    backbone.add_argument(
        "--with-backbone", action="store_true", help="with --apply: also fetch a needed backbone"
    )
    backbone.add_argument("--no-backbone", action="store_true", help="with --apply: never fetch a backbone")

    p = sub.add_parser(
        "catalog",
        parents=[common],
        help="import a checkpoint list (Markdown or HTML) as a catalog; list or remove imported ones",
        description="Imported catalogs live in the user's catalogs folder and are used, with the built-in "
        "one, whenever --catalog is not given. A link counts as a checkpoint when its file name ends in "
        ".pt, .pth, .bin, .ckpt, .safetensors, .zip, .tar, .tar.gz, .tgz, .gz, .npz, .h5, .onnx or .pkl; "
        "other links (pages, repositories, images) are left out and reported.",
    )
    actions = p.add_subparsers(dest="catalog_action", metavar="ACTION")
    q = actions.add_parser("import", help="read FILE or URL and keep it as a catalog")
    q.add_argument("source", metavar="FILE|URL")
    q.add_argument("--name", help="the catalog's name (default: from the file or URL)")
    q.add_argument("--replace", action="store_true", help="replace an imported catalog of that name")
    q.add_argument(
        "--base", metavar="URL", default="", help="resolve a saved page's relative links against URL"
    )
    q = actions.add_parser("list", help="the catalogs: name, entries, source, enabled")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = actions.add_parser("remove", help="delete an imported catalog")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    for action, text in (("enable", "use an imported catalog again"), ("disable", "stop using one")):
        q = actions.add_parser(action, help=text)
        q.add_argument("name", metavar="NAME")

    p = sub.add_parser(
        "unpack",
        parents=[common],
        help="unpack downloaded .zip archives into a folder beside each, after checking them",
        description="Each archive (NAME.zip in the models folder) is verified again, every member checked "
        "(no path outside the folder, no absolute path, no link or special file, no name twice, a "
        "limit on size, member count and compression ratio against zip bombs, the free space), then "
        "unpacked into a temporary folder that becomes NAME/ only when complete. `verify` reads the "
        "folder again against the record kept of each member's size and CRC-32; `rm` deletes it with "
        "the archive; `link --scan` links its members where a project expects them.",
    )
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument(
        "--again", action="store_true", help="unpack anew over an earlier unpacked folder (e.g. after damage)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "lock",
        parents=[common],
        help="write a lock file: a catalog of the downloaded checkpoints pinned to size and sha256",
        description="The lock file is a catalog: `ofa-manager --catalog ofa.lock.json download --all` "
        "fetches the same files on another machine (any other bytes are refused) and `verify` with it "
        "proves a machine holds them.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="these checkpoints (default: every downloaded one)")
    p.add_argument("-o", "--output", metavar="FILE", default="ofa.lock.json", help="default ofa.lock.json")

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
        print(f"ofa-manager: error: {redact_text(str(exc))}", file=sys.stderr)
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
    named = getattr(args, "catalog", None)
    if named:
        return load_catalog(named)
    from ofa_manager.core.zoo import default_catalog_paths

    paths = default_catalog_paths()
    try:
        return load_catalog(paths)
    except CatalogError as exc:
        if len(paths) == 1:
            raise
        hint = "; an imported catalog is turned off with `ofa-manager catalog disable NAME`"
        raise CatalogError(f"{exc}{hint}") from None


def _library(args, catalog: Catalog) -> Library:
    folder = getattr(args, "dir", None)
    saved = settings.load()
    root = Path(folder).expanduser() if folder else saved.models_path()
    stores = saved.store_paths() + [Path(d).expanduser() for d in getattr(args, "store", [])]
    return Library(root, catalog, stores=stores)


def _select(catalog: Catalog, ids: list[str], *, everything_when_empty: bool) -> list[Checkpoint]:
    if not ids:
        return list(catalog) if everything_when_empty else []
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise UsageError("; ".join(unknown_id_message(i, catalog.ids()) for i in unknown))
    return [catalog.get(i) for i in dict.fromkeys(ids)]


def _summary(
    catalog: Catalog, library: Library, statuses: dict | None = None, inspections: dict | None = None
) -> str:
    statuses = statuses if statuses is not None else library.statuses()
    lines = [f"{catalog.title} — {len(catalog)} checkpoints, models folder {library.root}"]
    for entry in catalog:
        lines.append(_list_line(entry, statuses[entry.id], catalog))
        found = (inspections or {}).get(entry.id)
        if found is not None and found.mismatch:
            lines.append(f"    ! mismatch: {found.mismatch}")
    return "\n".join(lines)


def _inspections(catalog: Catalog, library: Library, statuses: dict) -> dict:
    """Each present file's contents and each entry's claim against them (cached in the metadata).

    Only entries with a file are looked at (``statuses`` are read once for the whole catalog)."""
    from ofa_manager.core.claims import inspect_entry

    present = (State.DOWNLOADED, State.CORRUPT, State.IN_STORE)
    return {
        entry.id: inspect_entry(library, entry) if statuses[entry.id].state in present else None
        for entry in catalog
    }


def _verified_words(status) -> str:
    """What a finished file was checked against, in words."""
    from ofa_manager.core.fingerprints import VERIFIED_BY

    if status.verified_by in VERIFIED_BY:
        return f"verified against {VERIFIED_BY[status.verified_by]}"
    return "not verified: neither the catalog nor the server gave a fingerprint (its sha256 is recorded)"


def _rejected_words(status) -> str:
    check = status.rejected.get("check")
    what = {"sha256": "sha256", "crc64": "server CRC-64", "md5": "server MD5"}.get(check, "check")
    return f"rejected: {what} mismatch (kept as {status.path.name}.rejected)"


def _list_line(entry: Checkpoint, status, catalog: Catalog) -> str:
    described = describe(status)
    state = str(described.word) if status.state is not State.REMOTE else status.state.value
    if described.word is Word.PARTIAL:
        state = f"partial {units.size(status.bytes)}"
    elif described.word is Word.NOT_OURS:
        state = f"not ours: {described.reason}"
    elif described.proof in (Proof.SERVER_CRC64, Proof.SERVER_MD5):
        state = _verified_words(status)
    elif status.state is State.IN_STORE:
        state = f"in the shared store: {status.store_path}" + (" (verified)" if status.verified else "")
    elif status.state is State.REMOTE and status.reason:
        state = f"remote ({status.reason})"
    if status.state is State.PARTIAL and status.reason:
        state += f" ({status.reason}; the next download starts over)"
    if status.differs:
        state = (
            f"kept anyway, differs from the catalog ({status.meta.get('rejected_reason') or 'not verified'})"
        )
    if status.rejected is not None:
        state += f"; {_rejected_words(status)}"
    size = units.size(status.size) if status.size else "size unknown"
    shared = " (shared file)" if catalog.sharing(entry) else ""
    group = " / ".join(entry.group)
    return f"  {entry.id:<24} {entry.title:<34} {size:>12}  {state}{shared}  [{group}]"


# -- commands -----------------------------------------------------------------------------------


def cmd_list(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    statuses = library.statuses()
    inspections = _inspections(catalog, library, statuses)
    if args.json:
        rows = []
        for entry in catalog:
            status = statuses[entry.id]
            found = inspections[entry.id]
            rows.append(
                {
                    "id": entry.id,
                    "title": entry.title,
                    "group": list(entry.group),
                    "url": display_url(entry.url),
                    "state": status.state.value,
                    "path": str(status.path),
                    "bytes": status.bytes,
                    "size": status.size,
                    "shared_with": [o.id for o in catalog.sharing(entry)],
                    "base": entry.base,
                    "params": entry.params,
                    "sha256": entry.sha256,
                    "verified": verified_by(status) is not None,
                    "verified_by": status.verified_by,
                    "differs": status.differs,
                    "rejected": (
                        {k: status.rejected.get(k) for k in ("check", "reason", "expected", "found", "size")}
                        if status.rejected is not None
                        else None
                    ),
                    "reason": status.reason or None,
                    "filename": status.path.name,
                    "mirrors": [display_url(m) for m in entry.mirrors],
                    "store_path": str(status.store_path) if status.store_path else None,
                    "expect": entry.expect,
                    "contents": found.summary if found else None,
                    "mismatch": found.mismatch if found else None,
                }
            )
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(_summary(catalog, library, statuses, inspections))
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

        from ofa_manager.core.states import ItemState

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
        from ofa_manager.core.states import ItemState

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
    if not args.here:
        in_store = [e for e in entries if library.status(e).state is State.IN_STORE]
        for entry in library.one_per_file(in_store):
            print(
                f"{entry.id}: in the shared store ({library.status(entry).store_path}); not downloaded "
                "(--here downloads a copy into the models folder)",
                file=sys.stderr,
            )
        entries = [e for e in entries if e not in in_store]
        if not entries:
            return EXIT_OK
    rejected = [e for e in library.one_per_file(entries) if library.status(e).rejected is not None]
    if rejected and not args.yes:
        names = ", ".join(e.id for e in rejected)
        if not sys.stdin.isatty():
            raise UsageError(
                f"{names}: a download that failed its check is kept (NAME.rejected); not fetched again. "
                "`ofa-manager accept ID` keeps it anyway, `ofa-manager rm --rejected ID` deletes it, "
                "--yes downloads again"
            )
        answer = input(f"{names}: the last download failed its check and is kept. Download again? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing downloaded")
            return EXIT_OK
    entries = _answer_download_plan(args, catalog, library, entries)
    if entries is None:
        print("nothing downloaded", file=sys.stderr)
        return EXIT_OK
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
    for item in done:
        _say_claims(library, [catalog.get(i) for i in item.entry_ids], sys.stderr)
        status = library.status(catalog.get(item.entry_ids[0]))
        if status.state is State.DOWNLOADED:
            print(f"{', '.join(item.entry_ids)}: {_verified_words(status)}", file=sys.stderr)
    print(f"{len(done)} file(s) ready, {len(failed)} failed, in {library.root}", file=sys.stderr)
    code = EXIT_FAILED if failed else EXIT_OK
    if getattr(args, "unpack", False):
        code = max(code, _unpack_downloaded(library, entries))
    return code


def _answer_download_plan(args, catalog: Catalog, library: Library, entries: list[Checkpoint]):
    """The checkpoints to queue after the questions the window asks too (missing backbone, disk space),
    answered by flags or on the terminal; None when the user says no. Off a terminal, a question no
    flag answers is a usage error: never a hang, never a guess."""
    from ofa_manager.core.plan import DiskView, plan_download

    plan = plan_download(entries, catalog, library, DiskView(library), free=free_space(library.root))
    with_bases = False
    if plan.missing_bases:
        names = ", ".join(b.id for b in plan.missing_bases)
        users = ", ".join(e.id for e in plan.users_of_missing_bases())
        question = f"{users} need(s) the backbone {names}, which is not downloaded"
        if args.with_backbone:
            with_bases = True
        elif not args.no_backbone:
            if not sys.stdin.isatty():
                raise UsageError(f"{question}: add --with-backbone to download it too, or --no-backbone")
            answer = input(f"{question}. Download {names} too? [Y]es / [n]o, only these / [c]ancel ")
            answer = answer.strip().lower()
            if answer in ("c", "cancel"):
                return None
            with_bases = answer in ("", "y", "yes")
        if with_bases:
            print(f"also downloading the backbone {names}", file=sys.stderr)
            entries = plan.missing_bases + list(entries)
    if plan.short_of_space(with_bases=with_bases):
        need, free = units.size(plan.space_needed(with_bases=with_bases)), units.size(plan.free)
        warning = f"these downloads need {need}, but only {free} is free in {library.root}"
        if args.yes:
            print(f"warning: {warning}; downloading anyway (--yes)", file=sys.stderr)
        elif not sys.stdin.isatty():
            raise UsageError(f"{warning}: free some space, or add --yes to download anyway")
        elif input(f"{warning}. Download anyway? [y/N] ").strip().lower() not in ("y", "yes"):
            return None
    return entries


def cmd_verify(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=True)
    statuses = library.statuses()
    bad = checked = not_ours = 0
    for entry in library.one_per_file(entries):
        path = library.path(entry)
        before = statuses[entry.id]
        if before.state is State.IN_STORE:
            names = ", ".join([entry.id] + [o.id for o in catalog.sharing(entry)])
            store_path, digest, good = library.verify_store(entry)
            checked += 1
            if digest is None:
                bad += 1
                print(f"{names}: not checked: {store_path} in the shared store changed while it was hashed")
            elif good is False:
                bad += 1
                print(
                    f"{names}: CORRUPT in the shared store ({store_path}): sha256 {digest} does not match "
                    f"the catalog's {library.expected_sha256(entry)}; it is no longer used (read-only: "
                    "tell its administrator)"
                )
            else:
                how = "verified against the catalog sha256" if good else "the catalog has no sha256"
                print(f"{names}: ok in the shared store ({store_path}, sha256 {digest}; {how})")
            continue
        if before.state not in (State.DOWNLOADED, State.CORRUPT, State.FOREIGN) or path_kind(path) is None:
            if args.ids:
                reason = f"; {before.reason}" if before.reason else ""
                print(f"{entry.id}: not downloaded ({before.state.value}{reason})")
            continue
        names = ", ".join([entry.id] + [o.id for o in catalog.sharing(entry)])
        try:
            status = library.verify(entry)
        except (UnsafePathError, NotOursError) as exc:
            not_ours += 1
            print(f"{names}: not checked: {exc}")
            continue
        checked += 1
        if status.state is State.FOREIGN:
            # Nothing recorded: a hash computed now proves nothing about a file found here.
            not_ours += 1
            if status.reason.startswith("unverified: "):
                print(f"{names}: UNVERIFIED ({path}): {status.reason.removeprefix('unverified: ')}")
            else:
                print(f"{names}: NOT OURS ({path}): {status.reason}")
            continue
        if status.state is State.CORRUPT:
            bad += 1
            found = status.meta.get("sha256_found", "?")
            print(
                f"{names}: CORRUPT ({path}): sha256 {found} does not match the expected "
                f"{library.expected_sha256(entry) or status.meta.get('sha256')}"
            )
        else:
            how = "verified against the catalog sha256" if status.verified else "hash recorded"
            if not status.verified and status.verified_by:
                how = f"hash recorded, {_verified_words(status)} on arrival"
            print(f"{names}: ok ({units.size(status.bytes)}, sha256 {status.sha256}; {how})")
        _say_claims(library, [entry, *catalog.sharing(entry)])
    bad += _verify_unpacked(library, entries)
    also = f", {not_ours} not ours (unverified or not matching)" if not_ours else ""
    print(f"{checked} file(s) checked, {bad} corrupt{also}")
    return EXIT_FAILED if bad or not_ours else EXIT_OK


def _say_claims(library: Library, entries: list[Checkpoint], stream=None) -> None:
    """Read the file again and say where it differs from each entry's claim (a warning, not a failure)."""
    from ofa_manager.core.claims import claim_mismatch, inspect_entry

    found = inspect_entry(library, entries[0], refresh=True)
    if found is None:
        return
    for entry in entries:
        mismatch = claim_mismatch(entry.expect, found.summary)
        if mismatch:
            print(f"  warning: {entry.id}: {mismatch}", file=stream or sys.stdout)


def cmd_rm(args) -> int:
    if args.rejected:
        if args.partial or args.trash or args.force:
            raise UsageError(
                "--rejected deletes only the rejected copies; not with --partial, --trash or --force"
            )
        return _rm_rejected(args)
    if args.trash:
        return _rm_to_trash(args)
    from ofa_manager.core.plan import DiskView, deletion_impact

    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=False)
    targets = []
    refused: list[str] = []
    for entry in library.one_per_file(entries):
        path = library.path(entry)
        status = library.status(entry)
        part = library.part_path(entry)
        if args.partial:
            if path_kind(part) not in (None, "file"):
                refused.append(f"{describe_kind(path_kind(part))} is at {part}; ofa-manager leaves it alone")
                continue
            size = file_size(part)
            if size or path_kind(library.record_path(entry)) == "file":
                targets.append((entry, size, part))
        elif status.state is State.IN_STORE and not args.partial:
            refused.append(f"{entry.id}: in the shared store ({status.store_path}), which is read-only")
        elif status.state is State.FOREIGN:
            if path_kind(path) == "file" and args.force:
                print(f"{path} is not ours ({status.reason}); --force deletes it")
                targets.append((entry, file_size(path) + file_size(part), path))
            elif path_kind(path) == "file":
                refused.append(f"{path}: {status.reason} (--force deletes it)")
            else:
                where = path if path_kind(path) is not None else part
                refused.append(f"{where}: {status.reason}")
        elif status.state is not State.REMOTE:
            targets.append((entry, file_size(path) + file_size(part), path))
    for reason in refused:
        print(f"not deleted: {reason}", file=sys.stderr)
    folders = [] if args.partial or args.keep_unpacked else _unpacked_of(library, entries)
    if not targets and not folders:
        print("nothing to delete")
        return EXIT_FAILED if refused else EXIT_OK
    total = sum(size for _, size, _ in targets) + sum(size for _, _, size in folders)
    impacts = deletion_impact([e for e, _, _ in targets], catalog, library, DiskView(library))
    for (_, size, path), impact in zip(targets, impacts, strict=True):
        also = f" (also used by {', '.join(o.id for o in impact.sharing)})" if impact.sharing else ""
        print(f"{path} — {units.size(size)}{also}")
        for broken in [] if args.partial else impact.breaks:
            needing = ", ".join(d.id for d in broken.dependants)
            print(f"  without the backbone {broken.backbone.id}, these stop working: {needing}")
    for entry, folder, size in folders:
        print(
            f"{folder}{os.sep} — {units.size(size)} unpacked from {entry.filename} (--keep-unpacked keeps it)"
        )
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("not on a terminal: add --yes to delete without asking")
        what = f"{len(targets)} file(s)" + (f" and {len(folders)} unpacked folder(s)" if folders else "")
        answer = input(f"Delete {what}, freeing {units.size(total)}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return EXIT_OK
    freed = deleted = 0
    for entry, _, _ in targets:
        try:
            freed += library.delete(entry, partial_only=args.partial, force=args.force)
            deleted += 1
        except (UnsafePathError, NotOursError) as exc:
            refused.append(str(exc))
            print(f"not deleted: {exc}", file=sys.stderr)
    freed += _remove_unpacked(library, folders)
    print(f"deleted {deleted} file(s), freed {units.size(freed)}")
    return EXIT_FAILED if refused else EXIT_OK


def _rm_rejected(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=False)
    targets = [e for e in library.one_per_file(entries) if library.read_rejected(e) is not None]
    if not targets:
        print("no rejected download is kept for these checkpoints")
        return EXIT_OK
    for entry in targets:
        info = library.read_rejected(entry)
        print(f"{library.rejected_path(entry)} — {units.size(info['size'])} ({info.get('reason', '')})")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("not on a terminal: add --yes to delete without asking")
        answer = input(f"Delete {len(targets)} rejected file(s)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return EXIT_OK
    freed = sum(library.delete_rejected(entry) for entry in targets)
    print(f"deleted {len(targets)} rejected file(s), freed {units.size(freed)}")
    return EXIT_OK


def cmd_accept(args) -> int:
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=False)
    failed = 0
    for entry in library.one_per_file(entries):
        try:
            status = library.accept_rejected(entry)
        except (UnsafePathError, NotOursError) as exc:
            failed += 1
            print(f"not accepted: {exc}", file=sys.stderr)
            continue
        reason = status.meta.get("rejected_reason") or "not verified"
        print(f"{entry.id}: kept anyway as {status.path} — differs from the catalog ({reason}); not verified")
    return EXIT_FAILED if failed else EXIT_OK


def _rm_to_trash(args) -> int:
    """``rm --trash``: the downloaded (or corrupt) files go to the desktop trash, as the window's Delete."""
    from filelock import Timeout

    from ofa_manager.core.trash import NoTrashError, move_to_trash, send2trash_function

    if args.partial:
        raise UsageError("--trash moves downloaded files; partial files are deleted with --partial alone")
    if args.force:
        raise UsageError("--trash moves only files ofa-manager downloaded; --force deletes permanently")
    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=False)
    targets, refused = [], []
    for entry in library.one_per_file(entries):
        status = library.status(entry)
        if status.state in (State.DOWNLOADED, State.CORRUPT):
            targets.append((entry, status.size or file_size(status.path)))
        elif status.state is State.FOREIGN:
            refused.append(f"{status.path}: {status.reason} (rm --force deletes it permanently)")
        elif status.state is State.PARTIAL:
            refused.append(f"{entry.id} is not downloaded yet (rm --partial deletes its partial file)")
        else:
            print(f"{entry.id}: not downloaded; nothing to move to the trash")
    for reason in refused:
        print(f"not moved to the trash: {reason}", file=sys.stderr)
    if not targets:
        return EXIT_FAILED if refused else EXIT_OK
    for entry, size in targets:
        others = [o.id for o in catalog.sharing(entry)]
        also = f" (also used by {', '.join(others)})" if others else ""
        print(f"{library.path(entry)} — {units.size(size)}{also}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("not on a terminal: add --yes to move to the trash without asking")
        answer = input(f"Move {len(targets)} file(s) to the trash? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing moved")
            return EXIT_OK
    trashed = held = 0
    for entry, _ in targets:
        try:
            done = move_to_trash(library, entry, send2trash_function)
        except (UnsafePathError, NotOursError, NoTrashError, FileNotFoundError) as exc:
            refused.append(str(exc))
            print(f"not moved to the trash: {exc}", file=sys.stderr)
            continue
        except Timeout:
            refused.append(entry.id)
            print(f"not moved to the trash: {entry.id}: another process is using the file", file=sys.stderr)
            continue
        trashed += 1
        held += done.size
        print(f"{done.path.name} moved to {done.where}")
    if trashed:
        print(
            f"moved {trashed} file(s) ({units.size(held)}) to the trash; "
            "the space is freed when the trash is emptied"
        )
    return EXIT_FAILED if refused else EXIT_OK


def cmd_move(args) -> int:
    """Relocate the models folder to DIR with the window's rules, then save DIR as the models folder."""
    import signal

    from ofa_manager.core.relocate import FolderBusyError, RelocationError, every_file_held, relocate

    catalog = _catalog(args)
    library = _library(args, catalog)
    target = Path(args.target).expanduser()
    if not target.is_absolute():
        target = Path.cwd() / target
    target = target.resolve()
    if target == library.root.resolve():
        print(f"{target} is the models folder already; nothing moved")
        return EXIT_OK
    if path_kind(target) not in (None, "folder"):
        raise UsageError(f"{target} is {describe_kind(path_kind(target))}, not a folder; nothing moved")
    stop = threading.Event()
    progress = _MoveProgress(sys.stderr)

    def interrupted(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second Ctrl+C: the copy in hand is dropped, its source stays
        stop.set()
        progress.say("stopping after this piece…")

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        with every_file_held(library):
            result = relocate(library, target, progress=progress, stopped=stop.is_set, holding=True)
    except FolderBusyError as exc:
        progress.close()
        print(f"ofa-manager: {exc}; nothing moved", file=sys.stderr)
        return EXIT_FAILED
    except (RelocationError, KeyboardInterrupt) as exc:
        progress.close()
        if isinstance(exc, KeyboardInterrupt) or exc.stopped:
            if isinstance(exc, KeyboardInterrupt):  # a second Ctrl+C, wherever it came
                already = f"see {target} for what is already there"
            else:
                already = f"already in {target}: {', '.join(p.name for p in exc.moved) or 'none'}"
            print(
                f"stopped; every file not yet moved is whole in {library.root} ({already}); the models "
                "folder setting is unchanged — run the same command again to move the rest",
                file=sys.stderr,
            )
            return 130
        print(f"ofa-manager: the move failed: {exc}; the models folder setting is unchanged", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
    progress.close()
    for skipped in result.skipped:
        print(f"left in {library.root}: {skipped.path.name} ({skipped.reason.value})")
    print(f"moved {len(result.moved)} file(s) to {target}")
    if os.environ.get("OFA_MANAGER_DIR"):
        print("note: OFA_MANAGER_DIR is set and decides the models folder; the setting is unchanged")
    else:
        saved = settings.load()
        saved.models_dir = str(target)
        path = settings.save(saved)
        print(f"models folder is now {target} (saved in {path})")
    return EXIT_FAILED if result.skipped else EXIT_OK


class _MoveProgress:
    """A folder move's progress on stderr: a tqdm bar on a terminal, a line per 10 % otherwise."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self._bar = None
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        if self.stream.isatty():
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(
                    total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="moving", file=self.stream
                )
            self._bar.update(done - self._bar.n)
            return
        tenth = 10 * done // total if total else 10
        if tenth != self._shown:
            self._shown = tenth
            print(f"moving: {10 * tenth} % ({units.size(done)} of {units.size(total)})", file=self.stream)

    def say(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


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
                    "in_stores": usage.in_stores,
                    "rejected": usage.rejected,
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
    if usage.rejected:
        print(f"  rejected       {units.size(usage.rejected):>12}  (failed their check; rm --rejected ID)")
    print(f"  other data     {units.size(usage.other):>12}")
    print(f"  free on volume {units.size(usage.free):>12}  (of {units.size(usage.total)})")
    if usage.in_stores:
        stores = units.size(usage.in_stores)
        print(f"  in shared stores {stores:>10}  (read from the stores, not counted in this folder)")
    used = sorted(((size, path) for path, size in usage.per_file.items() if size), reverse=True)
    everything = sum(size for size, _ in used) or 1
    for size, path in used:
        print(f"  {units.size(size):>12}  {100 * size / everything:5.1f}%  {Path(path).name}")
    return EXIT_OK


def cmd_check(args) -> int:
    import concurrent.futures

    from ofa_manager.core import credentials, mirrors
    from ofa_manager.core.http import check_link, make_session

    catalog = _catalog(args)
    entries = _select(catalog, args.ids, everything_when_empty=True)
    saved = settings.load()
    # Every source a download may use: the published link, then the mirrors (rewritten as downloads are).
    urls: dict[str, list[Checkpoint]] = {}
    mirror_only: set[str] = set()
    for entry in entries:
        sources = [s.fetch for s in mirrors.sources(entry, catalog, saved.rewrite_rules)]
        link = sources[0]
        mirror_only.discard(link)
        for url in sources:
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
        # A mirror whose HEAD fingerprints (size, CRC-64, content MD5) differ from the main link's holds
        # different bytes: downloads do not use it.
        differs = []
        if url in mirror_only and result.ok:
            for entry in users:
                main = results.get(mirrors.rewrite(entry.url, saved.rewrite_rules))
                if main is not None and main.ok:
                    differs += main.fingerprints().differences(result.fingerprints())
        differs = list(dict.fromkeys(differs))
        bad += bool(differs)
        rows.append(
            {
                "url": display_url(url),
                "ids": [e.id for e in users],
                "status": result.status,
                "size": result.size,
                "etag": result.etag,
                "accepts_ranges": result.accepts_ranges,
                "ok": result.ok,
                "error": redact_text(result.error) if result.error else None,
                "shared": len(users) > 1 or any(catalog.sharing(e) for e in users),
                "mirror": url in mirror_only,
                "crc64": f"{result.crc64:016x}" if result.crc64 is not None else None,
                "different_bytes": differs or None,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            state = "ok" if row["ok"] else f"FAILED: {row['error']}"
            if row["different_bytes"]:
                state = f"mirror holds different bytes ({'; '.join(row['different_bytes'])}); not used"
            shared = f"  shared by {len(row['ids'])} entries" if len(row["ids"]) > 1 else ""
            mirror = "  (mirror)" if row["mirror"] else ""
            print(
                f"{state:<10} {row['status'] or '---'}  {units.size(row['size']):>10}  "
                f"etag {row['etag'] or '-'}{shared}{mirror}\n           {row['url']}\n           "
                f"{', '.join(row['ids'])}"
            )
    return EXIT_FAILED if bad else EXIT_OK


def _inspect_target(args) -> Path:
    """A catalog id's local file, or the file named."""
    path = Path(args.target).expanduser()
    catalog = _catalog(args)
    if args.target in catalog:
        library = _library(args, catalog)
        entry = catalog.get(args.target)
        status = library.status(entry)
        if status.state is State.IN_STORE:
            return status.store_path
        # Reading never changes a file, so one that is not ours may be inspected too (a regular file
        # only: a link at our name is never followed); the note says whose it is.
        if status.state is State.FOREIGN and path_kind(status.path) == "file":
            print(f"note: {status.path}: {status.reason}", file=sys.stderr)
        elif status.state not in (State.DOWNLOADED, State.CORRUPT):
            raise UsageError(f"{entry.id} is not downloaded ({status.state.value}); nothing to inspect")
        return status.path
    if path.exists():
        return path
    message = unknown_id_message(args.target, catalog.ids())
    raise UsageError(f"{message}; and there is no file {str(path)!r}")


def cmd_inspect(args) -> int:
    from ofa_manager.core import checkpoint_contents as cc

    path = _inspect_target(args)
    try:
        contents = cc.read_checkpoint(path, deep=args.deep)
    except cc.CheckpointError as exc:
        named = [g for g in exc.globals if g.risk in ("dangerous", "unknown")]
        also = ""
        if named:
            also = "; before that, it named " + ", ".join(f"{g.name} ({g.risk})" for g in named)
        raise UsageError(f"{path}: {exc}{also}") from None
    unsafe = not contents.verdict.safe or bool(contents.problems)
    claim = _inspect_claim(args, contents)
    if args.json:
        print(json.dumps({**contents.to_json(), **(claim or {})}, indent=2, ensure_ascii=False))
    else:
        print(_inspect_summary(contents))
        if claim and claim["expect"]:
            from ofa_manager.core.claims import describe_claim

            print(f"  {'claim':<11} {describe_claim(claim['expect'])}")
            print(
                f"  {'':<11} "
                + (f"MISMATCH: {claim['mismatch']}" if claim["mismatch"] else "the file agrees")
            )
    return EXIT_FAILED if unsafe else EXIT_OK


def _inspect_claim(args, contents) -> dict | None:
    """For a catalog id: the entry's claim and how the file meets it (``expect`` and ``mismatch``)."""
    catalog = _catalog(args)
    if args.target not in catalog:
        return None
    from ofa_manager.core.claims import claim_mismatch, summarize

    entry = catalog.get(args.target)
    return {"expect": entry.expect, "mismatch": claim_mismatch(entry.expect, summarize(contents))}


def _inspect_summary(c) -> str:
    fmt = "zip archive (torch >= 1.6)" if c.format == "zip" else "legacy torch.save stream (torch < 1.6)"
    lines = [f"{c.path} — {fmt}, {units.size(c.file_size)}"]

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<11} {text}")

    keys = c.top_level_keys
    shown = ", ".join(keys[:12]) + (f", … ({len(keys)} keys)" if len(keys) > 12 else "")
    row("keys", shown or "(not a mapping)")
    meta = c.metadata
    if meta:
        facts = [meta.get("architecture") or "architecture not recorded"]
        if "task" in meta:
            facts.append(f"task {meta['task']}")
        if "updates" in meta:
            facts.append(f"{meta['updates']:,} updates")
        if "epoch" in meta:
            facts.append(f"epoch {meta['epoch']}")
        if "best" in meta:
            facts.append(
                f"best {meta['best']:.6g}" if isinstance(meta["best"], float) else f"best {meta['best']}"
            )
        row("metadata", ", ".join(facts))
    shape = c.inferred
    if shape:
        facts = []
        if "embedding_width" in shape:
            facts.append(
                f"width {shape['embedding_width']}" + (f" → {shape['size']}" if "size" in shape else "")
            )
        if "encoder_layers" in shape or "decoder_layers" in shape:
            facts.append(
                f"{shape.get('encoder_layers', 0)} encoder / {shape.get('decoder_layers', 0)} decoder layers"
            )
        if "resnet_layer3_blocks" in shape:
            resnet = shape.get("resnet", "ResNet")
            facts.append(f"{resnet} ({shape['resnet_layer3_blocks']} third-stage blocks)")
        if "matches_metadata" in shape:
            facts.append(
                "agrees with the metadata" if shape["matches_metadata"] else "DISAGREES with the metadata"
            )
        row("shapes", "; ".join(facts))
    if c.model_parameters is not None:
        row("parameters", f"{c.model_parameters:,} in the model")
    dtypes = ", ".join(f"{d} {n}" for d, n in c.dtypes.items())
    row(
        "tensors",
        f"{c.tensor_count} ({dtypes}) in {c.storage_count} storage(s), {units.size(c.tensor_bytes)}",
    )
    for section in c.sections:
        if section.tensors:
            row("", f"{section.name}: {section.kind}, {section.tensors} tensors, {units.size(section.bytes)}")
    for family, found in c.petl.items():
        row("PETL", f"{family}: {found['keys']} keys, {found['parameters']:,} parameters")
    verdict = c.verdict
    if verdict.safe:
        row("safety", verdict.summary)
        if verdict.weights_only_code:
            lines.append("  load it with torch >= 2.6 (nothing else is imported or called):")
            lines += [f"    {line}" if line else "" for line in verdict.weights_only_code.splitlines()]
        for blocker in verdict.weights_only_blockers:
            row("", f"torch.load(weights_only=True) cannot read it: {blocker}")
    else:
        row("safety", "UNSAFE: torch.load(weights_only=False) would import or call:")
        for name in verdict.dangerous:
            row("", f"{name}  dangerous")
        for name in verdict.unknown:
            row("", f"{name}  unknown")
        row("", "do not load it with weights_only=False; weights_only=True refuses it")
    for problem in c.problems:
        row("problem", problem)
    if c.deep:
        row("deep check", f"{c.members_checked} members read" + ("" if c.problems else ", all intact"))
    return "\n".join(lines)


def _host(text: str) -> str:
    from ofa_manager.core.hosts import parse_host

    try:
        return parse_host(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_login(args) -> int:
    import getpass

    from ofa_manager.core import credentials

    host = _host(args.host)
    # Asked before the token is typed: a missing or locked keyring is said first.
    problem = credentials.keyring_problem()
    if problem is not None:
        raise problem
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


def cmd_mirror(args) -> int:
    from ofa_manager.core import mirrors

    saved = settings.load()
    action = args.mirror_action or "list"
    if action == "list":
        if getattr(args, "json", False):
            print(json.dumps([{"prefix": a, "url": b} for a, b in saved.rewrite_rules], indent=2))
            return EXIT_OK
        if not saved.rewrite_rules:
            print("no mirror rules: every URL is fetched as the catalog gives it")
        for prefix, url in saved.rewrite_rules:
            print(f"{prefix} -> {url}")
        return EXIT_OK
    try:
        if action == "add":
            rules = mirrors.with_rule(saved.rewrite_rules, args.prefix, args.url)
        else:
            rules = mirrors.without_rule(saved.rewrite_rules, args.prefix)
    except mirrors.MirrorRuleError as exc:
        raise UsageError(f"{exc}; no rule changed") from None
    matching = 0
    if action == "add":
        prefix, url = mirrors.checked_rule(args.prefix, args.url)
        matching = sum(u.startswith(prefix) for e in _catalog(args) for u in (e.url, *e.mirrors))
    saved.rewrite_rules = rules
    path = settings.save(saved)
    if action == "add":
        print(f"URLs starting with {prefix} are now fetched from {url} (saved in {path})")
        if not matching:
            # Saved all the same (it may be meant for another catalog), but a typo is the likelier cause.
            print(f"note: no URL in the catalog starts with {prefix}; check the prefix", file=sys.stderr)
    else:
        print(f"mirror rule for {args.prefix} removed (saved in {path})")
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


def cmd_link(args) -> int:
    from ofa_manager.core import linking

    if args.scan is not None:
        if args.ids or args.into or args.name:
            raise UsageError("--scan reads the project's scripts: give no ids, --into or --as with it")
        return _link_scan(args)
    if args.apply:
        raise UsageError("--apply goes with --scan PROJECT")
    if not args.ids or not args.into:
        raise UsageError(
            "name the checkpoints and the folder: link ID... --into DIR (or link --scan PROJECT)"
        )
    if args.name is not None and len(args.ids) > 1:
        raise UsageError("--as names one link: give one ID with it")
    catalog = _catalog(args)
    entries = _select(catalog, args.ids, everything_when_empty=False)
    library = _library(args, catalog)
    try:
        results = [linking.link(library, e, Path(args.into), args.name, args.mode) for e in entries]
    except linking.LinkNameError as exc:
        raise UsageError(str(exc)) from None
    _print_links(results, args.json)
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def _print_links(results, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.as_json() for r in results], indent=2))
        return
    for result in results:
        text = f"{result.entry_id}: {result.path}: {result.outcome.value}"
        if result.target is not None and result.ok:
            text += f" → {result.target}"
        if result.reason and not result.ok:
            text += f" ({result.reason})"
        print(text, file=sys.stdout if result.ok else sys.stderr)


def _link_scan(args) -> int:
    from ofa_manager.core import linking

    catalog = _catalog(args)
    library = _library(args, catalog)
    project = Path(args.scan).expanduser()
    if not project.is_dir():
        raise UsageError(f"{args.scan}: not a folder")
    expected = linking.scan(project, catalog, library)
    results: list = []
    code = EXIT_OK
    if args.apply:
        wanted = {e.entry_id: e for e in expected if e.kind in ("catalog", "member") and not e.linked}
        missing = [i for i, e in wanted.items() if not e.downloaded and not e.unpacked]
        if missing:
            download_args = argparse.Namespace(**vars(args))
            download_args.ids, download_args.all, download_args.here = missing, False, False
            download_args.unpack = False
            for name in ("jobs", "connections", "limit_rate", "retries", "timeout"):
                setattr(download_args, name, None)
            code = cmd_download(download_args)
        to_unpack = [catalog.get(i) for i, e in wanted.items() if e.kind == "member" and not e.unpacked]
        if to_unpack:
            code = max(code, _unpack_downloaded(library, to_unpack))
        for item in expected:
            if item.kind not in ("catalog", "member") or item.linked or item.entry_id is None:
                continue
            if item.kind == "member" and item.member is not None:
                result = linking.link_member(
                    library,
                    catalog.get(item.entry_id),
                    item.member,
                    item.path.parent,
                    item.path.name,
                    args.mode,
                )
            else:
                result = linking.link(
                    library, catalog.get(item.entry_id), item.path.parent, item.path.name, args.mode
                )
            results.append(result)
        expected = linking.scan(project, catalog, library)
        if any(not r.ok for r in results):
            code = EXIT_FAILED
    if args.json:
        report = {
            "project": str(project.resolve()),
            "expected": [e.as_json() for e in expected],
            "links": [r.as_json() for r in results],
        }
        print(json.dumps(report, indent=2))
        return code
    if args.apply:
        _print_links(results, False)
    print(_scan_report(project.resolve(), expected))
    return code


def _scan_report(project: Path, expected) -> str:
    def shown(path: Path) -> str:
        return str(path.relative_to(project)) if path.is_relative_to(project) else str(path)

    lines = [f"{project}: {len(expected)} checkpoint path(s) in its scripts"]
    for item in expected:
        if item.kind == "catalog":
            state = (
                "linked" if item.linked else "downloaded, not linked" if item.downloaded else "not downloaded"
            )
            what = f"catalog {item.entry_id} ({state})"
        elif item.kind == "member":
            state = (
                "linked"
                if item.linked
                else "unpacked, not linked"
                if item.unpacked
                else "downloaded, not unpacked"
                if item.downloaded
                else "not downloaded"
            )
            what = f"member {item.member} of catalog {item.entry_id} ({state})"
        elif item.kind == "present":
            what = "present" + (
                f" (not our link; {item.entry_id} is not linked there)" if item.entry_id else ""
            )
        elif item.kind == "produced":
            what = "produced by the project"
        else:
            what = f"unknown ({item.detail})"
        lines.append(f"  {shown(item.path)}: {what}  [{shown(item.script)}:{item.line}]")
    return "\n".join(lines)


def cmd_catalog(args) -> int:
    from ofa_manager.core import zoo

    action = args.catalog_action
    if action == "import":
        try:
            result = zoo.import_document(args.source, name=args.name, replace=args.replace, base=args.base)
        except zoo.ZooError as exc:
            raise UsageError(str(exc)) from None
        entries = result.catalog["entries"]
        groups = {tuple(e["group"]) for e in entries}
        print(
            f"imported {len(entries)} checkpoint(s) in {len(groups)} group(s) as {result.name!r}: "
            f"{result.path}"
        )
        catalog = _catalog(argparse.Namespace())
        shared = [e["id"] for e in entries if e["id"] in catalog and catalog.sharing(catalog.get(e["id"]))]
        if shared:
            print(f"sharing a file with another entry (downloaded once): {', '.join(shared)}")
        for url, why in result.skipped:
            print(f"left out {display_url(url)}: {why}")
        return EXIT_OK
    if action == "remove":
        path = zoo.catalog_path(_zoo_name(zoo, args.name))
        if not path.exists():
            raise UsageError(
                f"no imported catalog named {args.name!r}; `ofa-manager catalog list` shows them"
            )
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("not on a terminal: add --yes to remove without asking")
            answer = input(f"Remove the catalog {args.name!r} ({path})? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing removed")
                return EXIT_OK
        zoo.remove_catalog(args.name)
        print(f"removed {path} (downloaded files stay in the models folder)")
        return EXIT_OK
    if action in ("enable", "disable"):
        name = _zoo_name(zoo, args.name)
        if not zoo.catalog_path(name).exists():
            raise UsageError(f"no imported catalog named {name!r}; `ofa-manager catalog list` shows them")
        saved = settings.load()
        off = [n for n in saved.disabled_catalogs if n != name]
        saved.disabled_catalogs = off + [name] if action == "disable" else off
        settings.save(saved)
        print(f"{name}: {'disabled' if action == 'disable' else 'enabled'}")
        return EXIT_OK
    rows = zoo.list_catalogs()
    if getattr(args, "json", False):
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        problem = f"  ({row['problem']})" if row.get("problem") else ""
        print(f"{row['name']:<20} {row['entries']:>5} entries  {state:<8}  {row['source']}{problem}")
    return EXIT_OK


def _zoo_name(zoo, name: str) -> str:
    try:
        return zoo.check_name(name)
    except zoo.ZooError as exc:
        raise UsageError(str(exc)) from None


def cmd_lock(args) -> int:
    from ofa_manager.core.durable import atomic_write_json
    from ofa_manager.core.lockfile import LockError, build_lock

    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=False) if args.ids else None
    try:
        lock = build_lock(library, catalog, entries)
    except LockError as exc:
        raise UsageError(str(exc)) from None
    if not lock["entries"]:
        raise UsageError(f"nothing is downloaded in {library.root}; a lock file would be empty")
    output = Path(args.output)
    atomic_write_json(output, lock)
    total = sum(row["size"] for row in lock["entries"])
    print(f"pinned {len(lock['entries'])} checkpoint(s), {units.size(total)}, in {output}")
    return EXIT_OK


def cmd_unpack(args) -> int:
    from ofa_manager.core import archives

    catalog = _catalog(args)
    library = _library(args, catalog)
    entries = _select(catalog, args.ids, everything_when_empty=False)
    others = [e.id for e in entries if not archives.is_archive(e)]
    if others:
        raise UsageError(f"{', '.join(others)}: not a .zip archive; there is nothing to unpack")
    return _unpack_entries(library, library.one_per_file(entries), again=args.again, as_json=args.json)


def _unpack_downloaded(library: Library, entries: list[Checkpoint]) -> int:
    """``download --unpack`` and ``link --scan --apply``: unpack the archives among ``entries``."""
    from ofa_manager.core import archives

    chosen = [e for e in library.one_per_file(entries) if archives.is_archive(e)]
    return _unpack_entries(library, chosen) if chosen else EXIT_OK


def _unpack_entries(library: Library, entries: list[Checkpoint], *, again=False, as_json=False) -> int:
    from ofa_manager.core import archives
    from ofa_manager.core.archives import Outcome

    results = []
    for entry in entries:
        progress = _UnpackProgress(sys.stderr)
        try:
            result = archives.unpack(library, entry, progress=progress, again=again)
        except KeyboardInterrupt:
            progress.close()
            print(f"\n{entry.id}: stopped; nothing half-unpacked is left", file=sys.stderr)
            return 130
        progress.close()
        results.append(result)
        if as_json:
            continue
        if result.outcome is Outcome.UNPACKED:
            count, size = len(result.members), units.size(result.size)
            print(f"{entry.id}: unpacked {count} file(s), {size}, into {result.folder}")
            for member in result.members[:20]:
                print(f"  {member.name}  {units.size(member.size)}")
            if len(result.members) > 20:
                print(f"  … and {len(result.members) - 20} more")
        elif result.outcome is Outcome.ALREADY:
            print(f"{entry.id}: already unpacked in {result.folder} ({len(result.members)} file(s))")
        else:
            hint = ""
            if result.outcome is Outcome.NOT_READY and "not downloaded" in result.reason:
                hint = f" (`ofa-manager download --unpack {entry.id}` fetches and unpacks it)"
            print(f"{entry.id}: not unpacked: {result.reason}{hint}", file=sys.stderr)
    if as_json:
        print(json.dumps([r.as_json() for r in results], indent=2))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


class _UnpackProgress:
    """An unpack's progress on stderr: a tqdm bar per phase on a terminal, nothing otherwise."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self._bar = None
        self._phase = None

    def __call__(self, phase, done: int, total: int) -> None:
        if not self.stream.isatty():
            return
        if phase is not self._phase:
            self.close()
            from tqdm import tqdm

            self._phase = phase
            self._bar = tqdm(
                total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=phase.value, file=self.stream
            )
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _verify_unpacked(library: Library, entries: list[Checkpoint]) -> int:
    """``verify``: each unpacked folder read again against its record; the number found damaged."""
    from ofa_manager.core import archives

    damaged = 0
    for entry in library.one_per_file(entries):
        check = archives.check_unpacked(library, entry)
        if check is None:
            continue
        if check.ok:
            print(f"{entry.id}: unpacked folder ok ({check.folder}, {check.checked} file(s), CRC-32 checked)")
        else:
            damaged += 1
            what = [
                f"{label}: {', '.join(names)}"
                for label, names in (("changed", check.changed), ("missing", check.missing))
                if names
            ]
            print(
                f"{entry.id}: unpacked folder DAMAGED ({check.folder}): {'; '.join(what)} "
                f"(`ofa-manager unpack --again {entry.id}` unpacks it anew)"
            )
        if check.extra:
            print(f"  not from the archive, left alone: {', '.join(check.extra)}")
    return damaged


def _unpacked_of(library: Library, entries: list[Checkpoint]) -> list[tuple[Checkpoint, Path, int]]:
    from ofa_manager.core.archives import unpacked_of

    return unpacked_of(library, entries)


def _remove_unpacked(library: Library, folders: list[tuple[Checkpoint, Path, int]]) -> int:
    from ofa_manager.core import archives

    freed = 0
    for entry, folder, _ in folders:
        gone, left = archives.remove_unpacked(library, entry)
        freed += gone
        if left:
            print(f"{folder}: kept, it holds files not from the archive: {', '.join(left)}")
        else:
            print(f"{entry.id}: unpacked folder {folder} deleted")
    return freed


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

if __name__ == "__main__":
    sys.exit(main())
