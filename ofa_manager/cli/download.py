"""``download``: the transfer options, the plan's questions answered by flags, the progress lines."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ofa_manager.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    MAX_TIMEOUT,
    UsageError,
    _catalog,
    _confirm,
    _library,
    _say_claims,
    _select,
    _verified_words,
)
from ofa_manager.core import settings, units
from ofa_manager.core.catalog import (
    Catalog,
    Checkpoint,
)
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.safe_files import free_space

if TYPE_CHECKING:
    from ofa_manager.core.states import QueueEvent
    from ofa_manager.core.transfer_options import TransferOptions


def _options(args, saved: settings.Settings) -> tuple[TransferOptions, int, int]:
    from ofa_manager.core.transfer_options import TransferOptions

    limit = saved.limit_rate
    if args.limit_rate:
        try:
            limit = units.parse_rate(args.limit_rate)
        except ValueError as exc:
            raise UsageError(f"--limit-rate: {exc}") from None
    timeout = args.timeout if args.timeout is not None else saved.timeout
    if not 0 < timeout <= MAX_TIMEOUT:  # also refuses nan and inf; a socket cannot wait 1e300 s
        raise UsageError(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    options = TransferOptions(
        connections=args.connections or saved.connections,
        retries=args.retries if args.retries is not None else saved.retries,
        timeout=timeout,
        rewrite_rules=[(a, b) for a, b in saved.rewrite_rules],
    )
    return options, args.jobs or saved.jobs, limit


# Off a terminal, a file's progress line comes at most this often (seconds), so a log stays readable.
LINE_EVERY = 5.0


class _Reporter:
    """Progress for the terminal: tqdm bars on a TTY, plain lines otherwise."""

    def __init__(self, stream, clock=None) -> None:
        self.stream = stream
        self.clock = clock or time.monotonic  # plain lines are spaced by it
        self.tty = stream.isatty()
        self._lock = threading.Lock()
        self._bars: dict[str, object] = {}
        self._last_line: dict[str, float] = {}
        self._waiting: set[str] = set()  # files whose other download was announced

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

        # Entries sharing the file join its download one by one: the bar names them all.
        name = ", ".join(item.entry_ids)
        if item.state is ItemState.WAITING:
            text = f"{units.size(item.done)} of {units.size(item.total)} by the other process"
        else:
            text = f"{units.size(item.done)} of {units.size(item.total)}"
        if item.state in (ItemState.DOWNLOADING, ItemState.STALLED):
            text += f", {units.rate(item.speed)}, {units.duration(item.eta)} left"
        status = {
            "stalled": "reconnecting",
            "waiting": item.message or "waiting for another process",
            "verifying": "verifying",
            "done": "done",
            "failed": "failed",
        }.get(item.state.value)
        words = f"{text} — {status}" if status else text
        bar = self._bars.get(item.key)
        if bar is None:
            # Counts are plain bytes; the words are written by units.size (binary units, like the window).
            # Its first drawing already shows the file's name, share and words; the width follows the
            # terminal's. Bars stay open until the command ends, so each file keeps the row it started on
            # (tqdm gives a new bar the first row no open bar holds) whatever order the files finish in.
            bar = self._bars[item.key] = tqdm(
                total=item.total,  # None while the size is unknown: the bar stays empty
                initial=item.done,
                desc=name,
                unit=words,
                file=self.stream,
                dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {unit}",
            )
        else:
            bar.desc = name
            bar.unit = words
            bar.total = item.total
            bar.n = item.done
        bar.refresh()

    def _line(self, item) -> None:
        # Python's standard error is never buffered (it writes through, on a pipe or a log file too): each
        # line reaches whoever reads it as it is printed.
        from ofa_manager.core.states import ItemState

        now = self.clock()
        name = ", ".join(item.entry_ids)
        if item.state is ItemState.DONE:
            print(f"done: {name} ({units.size(item.total)}) -> {item.key}", file=self.stream)
        elif item.state is ItemState.FAILED:
            pass  # reported once, with the reason, in the summary
        elif item.state is ItemState.WAITING and item.message:
            # Said at once, then the other process's progress every few seconds.
            if item.key not in self._waiting:
                self._waiting.add(item.key)
                self._last_line[item.key] = now
                print(f"{item.message}; waiting…", file=self.stream)
            elif now - self._last_line[item.key] >= LINE_EVERY:
                self._last_line[item.key] = now
                from ofa_manager.core.elsewhere import OtherDownload

                other = OtherDownload(Path(item.key).name, None, item.done, item.total)
                print(f"{name}: the other process has {other.progress()}", file=self.stream)
        elif (
            item.state in (ItemState.DOWNLOADING, ItemState.STALLED)
            and now - self._last_line.get(item.key, -LINE_EVERY) >= LINE_EVERY
        ):
            self._last_line[item.key] = now
            pct = f"{100 * item.fraction:.0f}%" if item.fraction is not None else "?"
            extra = " reconnecting" if item.state is ItemState.STALLED else ""
            print(
                f"{name}: {pct} {units.size(item.done)} of {units.size(item.total)}, "
                f"{units.rate(item.speed)}, {units.duration(item.eta)} left{extra}",
                file=self.stream,
            )

    def close(self) -> None:
        with self._lock:
            for bar in self._bars.values():
                bar.close()


def cmd_download(args) -> int:
    from ofa_manager.core.queue import DownloadQueue, ItemState
    from ofa_manager.core.transfer_options import RateLimiter

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
        refusal = (
            f"{names}: a download that failed its check is kept (NAME.rejected); not fetched again. "
            "`ofa-manager accept ID` keeps it anyway, `ofa-manager rm --rejected ID` deletes it, "
            "--yes downloads again"
        )
        if not _confirm(f"{names}: the last download failed its check and is kept. Download again?", refusal):
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
        waited = [i for i in queue.items() if i.state is ItemState.WAITING]
        queue.shutdown()
        reporter.close()
        print("\nstopped; partial data kept — run the same command again to resume", file=sys.stderr)
        for item in waited:
            print(
                f"stopped waiting for {Path(item.key).name}: the other process's download goes on",
                file=sys.stderr,
            )
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
    if args.unpack:
        from ofa_manager.cli.archives import _unpack_downloaded

        code = max(code, _unpack_downloaded(library, entries))
    return code


def _answer_download_plan(args, catalog: Catalog, library: Library, entries: list[Checkpoint]):
    """The checkpoints to queue after the questions the window asks too (missing backbone, disk space),
    answered by flags or on the terminal; None when the user says no. Off a terminal, a question no
    flag answers is a usage error: never a hang, never a guess."""
    from ofa_manager.core.plan import DiskView, plan_download

    plan = plan_download(entries, catalog, library, DiskView(library), free=free_space(library.root))
    with_bases, names = False, ""
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
            entries = plan.missing_bases + list(entries)
    if plan.short_of_space(with_bases=with_bases):
        need, free = units.size(plan.space_needed(with_bases=with_bases)), units.size(plan.free)
        warning = f"these downloads need {need}, but only {free} is free in {library.root}"
        if args.yes:
            print(f"warning: {warning}; downloading anyway (--yes)", file=sys.stderr)
        elif not _confirm(
            f"{warning}. Download anyway?", f"{warning}: free some space, or add --yes to download anyway"
        ):
            return None
    if with_bases:  # said once every question is answered: a refusal above downloads nothing
        print(f"also downloading the backbone {names}", file=sys.stderr)
    return entries
