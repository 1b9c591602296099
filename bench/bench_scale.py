"""Scale benchmark: `list`, `du`, `verify` and the window's start on catalogs of 1k to 100k entries.

Usage: python bench/bench_scale.py [--sizes 1000,10000,100000] [--runs 3] [--skip-window] [--keep DIR]

For each size a catalog of that many entries is written (distinct URLs and file names, groups of 100
entries under 10 top-level groups, every entry with a size and a sha256), and a models folder beside it
holding, for 1 % of the entries, a small finished file with its metadata and, for another 1 %, a partial
file with its resume record. Then each command runs as a user runs it (``python -m ofa_manager …`` in a
new process, output to /dev/null) and the median wall time of ``--runs`` runs is shown, with the ratio
to the size ten times smaller: 10× means linear. The processor time (user + system) of the same runs is
shown too: on a shared machine it varies less than the wall time.

The window: a new process opens the real window offscreen on that catalog and folder and reports the time
from its start until the tree shows every entry's state (the first scan of the folder is in and painted).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SMALL = 4096  # bytes in each finished or partial file

# Runs in the window's process: the same steps as gui.app.run, timed until the tree holds every state.
WINDOW = """
import sys, time
start = time.monotonic()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from ofa_manager.core import settings
from ofa_manager.core.catalog import load_catalog
from ofa_manager.gui import app as gui_app

app = QApplication(sys.argv[:1])
catalog = load_catalog([sys.argv[1]])
from ofa_manager.gui.window import MainWindow
from ofa_manager.gui.workspace import Workspace

workspace = Workspace(catalog, settings.load(), sys.argv[2], separate_process=True)
window = MainWindow(workspace)
marks = {}

def painted():
    marks["first paint"] = time.monotonic() - start
    gui_app._start_engine(workspace)

def scanned():
    # Queued after the repaint the new states ask for: the tree is complete once this runs.
    window.tree.viewport().repaint()
    QTimer.singleShot(0, done)

def done():
    marks["full tree"] = time.monotonic() - start
    app.quit()

window.first_painted.connect(painted)
workspace.store.statuses_changed.connect(scanned)
window.show()
app.exec()
workspace.close()
print("marks " + " ".join(f"{k.replace(' ', '_')}={v:.6f}" for k, v in marks.items()), flush=True)
"""


def make_catalog(folder: Path, count: int) -> tuple[Path, Path]:
    """A catalog of ``count`` entries and a models folder with some finished and some partial files."""
    catalog = folder / f"catalog-{count}.json"
    models = folder / f"models-{count}"
    models.mkdir(parents=True, exist_ok=True)
    data = os.urandom(SMALL)
    digest = hashlib.sha256(data).hexdigest()
    entries = []
    for i in range(count):
        name = f"model-{i:06d}.pt"
        entry = {
            "id": f"model-{i:06d}",
            "title": f"Model {i}",
            "group": [f"Family {i % 10}", f"Batch {i // 100}"],
            "url": f"https://bucket.invalid/checkpoints/{i // 1000}/{name}",
            "size": SMALL if i % 100 in (0, 1) else 1_000_000_000 + i,
            "sha256": digest if i % 100 in (0, 1) else f"{i:064x}",
            "params": f"{(i % 900) + 1}M",
        }
        entries.append(entry)
        if i % 100 == 0:  # finished: the file and its metadata, as a download leaves them
            (models / name).write_bytes(data)
            meta = {"url": entry["url"], "catalog_url": entry["url"], "size": SMALL, "sha256": digest}
            meta["state"] = "ok"
            (models / f".{name}.meta.json").write_text(json.dumps(meta))
        elif i % 100 == 1:  # partial: half the bytes and a resume record
            (models / f"{name}.part").write_bytes(data[: SMALL // 2])
            record = {"url": entry["url"], "size": SMALL, "ranges": [[0, SMALL // 2]]}
            (models / f"{name}.part.json").write_text(json.dumps(record))
    catalog.write_text(json.dumps({"format": 1, "title": f"{count} entries", "entries": entries}))
    return catalog, models


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(home / name.lower())
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and processor time (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def window_marks(catalog: Path, models: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", WINDOW, str(catalog), str(models)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("marks ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"the window run failed ({done.returncode}): {done.stderr[-2000:]}")
    return {k.replace("_", " "): float(v) for k, v in (p.split("=") for p in line.split()[1:])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-window", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="write the catalogs and folders here and keep them")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ofa-bench-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    env = environment(base / "home")
    python = [sys.executable, "-m", "ofa_manager"]
    results: dict[str, dict[int, float]] = {}
    for count in sizes:
        catalog, models = make_catalog(base, count)
        where = ["--dir", str(models), "--catalog", str(catalog)]
        commands = {
            "list": [*python, *where, "list"],
            "list --json": [*python, *where, "list", "--json"],
            "du": [*python, *where, "du"],
            "verify": [*python, *where, "verify"],
        }
        for name, command in commands.items():
            runs = [timed(command, env) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            results.setdefault(name, {})[count] = wall
            results.setdefault(f"{name} (processor time)", {})[count] = cpu
            print(f"{count:>7} entries  {name:<22} {wall:8.2f} s, processor {cpu:.2f} s", file=sys.stderr)
        if not args.skip_window:
            marks = [window_marks(catalog, models, env) for _ in range(args.runs)]
            for mark in marks[0]:
                value = statistics.median(m[mark] for m in marks)
                results.setdefault(f"window: {mark}", {})[count] = value
                print(f"{count:>7} entries  window: {mark:<14} {value:8.2f} s", file=sys.stderr)
    print()
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end, median of {args.runs} runs, whole command "
        "(python -m ofa_manager) in a new process"
    )
    header = "| measure | " + " | ".join(f"{n:,} entries" for n in sizes) + " | per 10× entries |"
    print(header)
    print("|---" * (len(sizes) + 2) + "|")
    for name, by_size in results.items():
        cells = [f"{by_size[n]:.2f} s" for n in sizes]
        ratios = [
            f"{by_size[b] / by_size[a]:.1f}×"
            for a, b in zip(sizes, sizes[1:], strict=False)
            if b == 10 * a and by_size[a]
        ]
        base, cpu, _ = name.partition(" (processor time)")
        label = f"`{base}`" + (" (processor time)" if cpu else "")
        print(f"| {label} | " + " | ".join(cells) + f" | {', '.join(ratios)} |")
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
