"""Download throughput and memory of ofa-manager against curl and aria2c, all on loopback, in one run.

Usage: python bench/bench_transfer.py [--big-mib 512] [--long-mib 2048] [--throttled-mib 128]
                                     [--rate 4000000] [--runs 3]

Prints a Markdown table (the README's figures come from it). Every client downloads the same files from
the same loopback server (tests/httpserver.py in its own process), into the same folder:
  1. one connection, full speed: curl (no hashing; also followed by `sync FILE`, since ofa-manager
     fsyncs before it renames) vs `ofa-manager --connections 1` with the sha256 in
     the catalog (hashed while downloading, fsynced before the rename), on a 512 MiB and a 2 GiB file,
     whole commands (ofa-manager pays ~0.5 s of Python start-up, imports and keyring look-up that curl
     does not), and the engine alone (Transfer.run() timed inside an already started interpreter);
  2. a server throttled to 4 MB/s per connection, a 128 MiB file: ofa-manager with 1 and 8 connections,
     and `aria2c -x8 -s8` (plus aria2c with -k1M, which lets aria2 split as finely as ofa-manager does);
  3. peak RSS of the ofa-manager process during the 512 MiB downloads (os.wait4's ru_maxrss).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(MiB)
    with open(path, "wb") as fh:
        left = size
        while left:
            chunk = block[: min(MiB, left)]
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


class Server:
    """tests/httpserver.py in its own process, so its CPU time is not charged to the client."""

    def __init__(self, folder: Path, rate: int | None = None) -> None:
        cmd = [sys.executable, str(ROOT / "tests" / "httpserver.py"), "--port", "0", "--dir", str(folder)]
        if rate:
            cmd += ["--rate", str(rate)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError("the benchmark server did not start")
        self.base = line[1].rstrip("/")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.read().decode()[-500:]}")
    proc.stderr.close()
    return elapsed, usage.ru_maxrss


def ofa(folder: Path, catalog: Path, entry: str, connections: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ofa_manager",
        "--dir",
        str(folder),
        "--catalog",
        str(catalog),
        "download",
        entry,
        "--connections",
        str(connections),
    ]


ENGINE_ONLY = """
import shutil, sys, time
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.library import Library
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import TransferOptions
catalog = load_catalog([sys.argv[1]])
library = Library(sys.argv[2], catalog)
Transfer(library, catalog.get(sys.argv[3]), TransferOptions(connections=1)).tokens.token_for("http://127.0.0.1/")
start = time.perf_counter()
Transfer(library, catalog.get(sys.argv[3]), TransferOptions(connections=1)).run()
print(time.perf_counter() - start)
"""


def engine_only(runs: int, folder: Path, catalog: Path, entry: str, env: dict) -> float:
    """Median seconds of Transfer.run() alone, in a fresh interpreter each time."""
    times = []
    for _ in range(runs):
        clean(folder)
        out = subprocess.run(
            [sys.executable, "-c", ENGINE_ONLY, str(catalog), str(folder), entry],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        times.append(float(out.strip().splitlines()[-1]))
    return statistics.median(times)


def write_catalog(path: Path, entries: list[tuple[str, str, int, str]]) -> None:
    rows = [
        {"id": i, "title": i, "group": ["bench"], "url": url, "size": size, "sha256": sha}
        for i, url, size, sha in entries
    ]
    path.write_text(json.dumps({"format": 1, "title": "bench", "entries": rows}))


def clean(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def median_run(runs: int, prepare, cmd, env=None) -> tuple[float, int]:
    times, rss = [], []
    for _ in range(runs):
        prepare()
        elapsed, peak = timed(cmd, env)
        times.append(elapsed)
        rss.append(peak)
    return statistics.median(times), max(rss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--long-mib", type=int, default=2048, help="the longer one-connection run")
    parser.add_argument("--throttled-mib", type=int, default=128)
    parser.add_argument("--rate", type=int, default=4_000_000, help="bytes/s per connection when throttled")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None, help="where files are served and written")
    args = parser.parse_args()
    for tool in ("curl", "aria2c"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed for the comparison (apt-get install curl aria2)")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="ofa-bench-"))
    served, out = work / "served", work / "out"
    served.mkdir(parents=True, exist_ok=True)
    big_size, small_size, long_size = args.big_mib * MiB, args.throttled_mib * MiB, args.long_mib * MiB
    big_sha = make_file(served / "big.bin", big_size)
    long_sha = make_file(served / "long.bin", long_size)
    small_sha = make_file(served / "throttled.bin", small_size)
    env = dict(os.environ, NO_PROXY="127.0.0.1", PYTHONPATH=str(ROOT))
    rows: list[tuple[str, str, str]] = []

    fast = Server(served)
    try:
        catalog = work / "fast.json"
        write_catalog(
            catalog,
            [
                ("big", f"{fast.base}/big.bin", big_size, big_sha),
                ("long", f"{fast.base}/long.bin", long_size, long_sha),
            ],
        )
        for name, size, mib in (("big", big_size, args.big_mib), ("long", long_size, args.long_mib)):
            curl_t, _ = median_run(
                args.runs,
                lambda: clean(out),
                ["curl", "-s", "-f", "-o", str(out / name), f"{fast.base}/{name}.bin"],
            )
            ofa_t, rss1 = median_run(args.runs, lambda: clean(out), ofa(out, catalog, name, 1), env)
            engine_t = engine_only(args.runs, out, catalog, name, env)
            synced_t, _ = median_run(
                args.runs,
                lambda: clean(out),
                ["sh", "-c", f'curl -s -f -o "{out / name}" "{fast.base}/{name}.bin" && sync "{out / name}"'],
            )
            curl_bps = size / curl_t
            rows.append((f"curl, 1 connection, {mib} MiB, no hash", f"{curl_bps / MiB:.0f} MiB/s", "1.00×"))
            rows.append(
                (
                    f"curl then `sync FILE` (on disk, as ofa-manager leaves it), {mib} MiB",
                    f"{size / synced_t / MiB:.0f} MiB/s",
                    f"{curl_t / synced_t:.2f}× curl",
                )
            )
            rows.append(
                (
                    f"`ofa-manager --connections 1`, sha256, {mib} MiB, whole command",
                    f"{size / ofa_t / MiB:.0f} MiB/s",
                    f"{curl_t / ofa_t:.2f}× curl",
                )
            )
            rows.append(
                (
                    f"ofa-manager engine alone (Transfer.run), 1 connection, sha256, {mib} MiB",
                    f"{size / engine_t / MiB:.0f} MiB/s",
                    f"{curl_t / engine_t:.2f}× curl",
                )
            )
            if name == "big":
                rss_one = rss1
        ofa4_t, rss4 = median_run(args.runs, lambda: clean(out), ofa(out, catalog, "big", 4), env)
        ofa8_t, rss8 = median_run(1, lambda: clean(out), ofa(out, catalog, "big", 8), env)
        rows.append(
            (
                f"`ofa-manager --connections 4`, sha256, {args.big_mib} MiB, whole command",
                f"{big_size / ofa4_t / MiB:.0f} MiB/s",
                "",
            )
        )
    finally:
        fast.close()

    slow = Server(served, rate=args.rate)
    try:
        catalog = work / "slow.json"
        write_catalog(catalog, [("throttled", f"{slow.base}/throttled.bin", small_size, small_sha)])
        one_t, _ = median_run(1, lambda: clean(out), ofa(out, catalog, "throttled", 1), env)
        eight_t, _ = median_run(args.runs, lambda: clean(out), ofa(out, catalog, "throttled", 8), env)
        aria_cmd = [
            "aria2c",
            "-q",
            "-x8",
            "-s8",
            "--file-allocation=none",
            "--allow-overwrite=true",
            "-d",
            str(out),
            "-o",
            "throttled.bin",
            f"{slow.base}/throttled.bin",
        ]
        aria_t, _ = median_run(args.runs, lambda: clean(out), aria_cmd)
        aria_k_t, _ = median_run(args.runs, lambda: clean(out), aria_cmd[:3] + ["-k1M"] + aria_cmd[3:])
    finally:
        slow.close()
    rate_mb = args.rate / 1e6
    rows.append((f"server throttled to {rate_mb:g} MB/s per connection, {args.throttled_mib} MiB:", "", ""))
    rows.append(("ofa-manager --connections 1", f"{small_size / one_t / MiB:.1f} MiB/s", "1.00×"))
    rows.append(
        (
            "ofa-manager --connections 8",
            f"{small_size / eight_t / MiB:.1f} MiB/s",
            f"{one_t / eight_t:.2f}× one connection, {aria_t / eight_t:.2f}× aria2c",
        )
    )
    rows.append(("aria2c -x8 -s8", f"{small_size / aria_t / MiB:.1f} MiB/s", f"{one_t / aria_t:.2f}× one"))
    rows.append(
        (
            "aria2c -x8 -s8 -k1M (splits as finely as ofa-manager)",
            f"{small_size / aria_k_t / MiB:.1f} MiB/s",
            f"ofa-manager -c8 reaches {aria_k_t / eight_t:.2f}× of this",
        )
    )
    rows.append(
        (
            f"peak RSS, ofa-manager, {args.big_mib} MiB download",
            f"{max(rss_one, rss4, rss8) / 1024:.0f} MiB",
            f"1 conn {rss_one / 1024:.0f}, 4 conn {rss4 / 1024:.0f}, 8 conn {rss8 / 1024:.0f} MiB",
        )
    )

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    print(
        f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; median of {args.runs} runs\n"
    )
    print("| run | throughput | ratio |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
