"""``move``: relocating the models folder, with the window's safety and a progress line."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from ofa_manager.cli.common import EXIT_FAILED, EXIT_OK, UsageError, _catalog, _library
from ofa_manager.core import settings, units
from ofa_manager.core.safe_files import describe_kind, path_kind


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
        tenth = 10 * done // total  # relocate reports only a move of some bytes
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
