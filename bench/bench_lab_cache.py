"""Lab cache at scale: N ofa-manager processes fetch the same file through nginx at once (loopback only).

Starts the loopback test server as the bucket, a real nginx with packaging/nginx/ofa-lab-cache.conf in
front of it, points ofa-manager at the cache with `ofa-manager mirror add` (in a private settings folder,
never the user's), then starts N `ofa-manager download` processes into N models folders at the same
moment. Reports what the bucket sent (goal: one copy), each client's time, and the cache's hit ratio
from its access log. Needs nginx (sudo apt-get install nginx) and about (N + 2) x SIZE of free disk.

    python bench/bench_lab_cache.py                 # 16 clients, 256 MiB, 4 connections each
    python bench/bench_lab_cache.py --clients 4 --size-mib 64
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
sys.path.insert(0, str(ROOT))

from tests.httpserver import TestServer  # noqa: E402
from tests.lab_cache import BUCKET, LabCache, missing_nginx  # noqa: E402

MiB = 1024 * 1024
PATH = "/checkpoints/lab-bench.pt"
CLIENT_TIMEOUT = 900  # seconds; the whole run is bounded by this


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            chunk = os.urandom(min(MiB, left))
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def origin_bytes(server: TestServer) -> int:
    return sum(r.bytes_sent for r in server.requests_for(PATH, "GET") if r.status in (200, 206))


def run(clients: int, size: int, connections: int, work: Path) -> dict:
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(work / "home" / name.lower())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(proxy, None)

    source = work / "bucket.bin"
    digest = make_file(source, size)
    catalog = work / "catalog.json"
    catalog.write_text(
        json.dumps(
            {
                "format": 1,
                "title": "Lab cache benchmark",
                "entries": [
                    {
                        "id": "lab",
                        "title": "Lab",
                        "group": ["Bench"],
                        "url": BUCKET + PATH,
                        "sha256": digest,
                        "size": size,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    ofa = [sys.executable, "-m", "ofa_manager"]
    with TestServer() as origin:
        origin.add(PATH, file=source)
        with LabCache(work / "nginx", f"http://{origin.netloc}", workers=2) as cache:
            subprocess.run(
                [*ofa, "mirror", "add", BUCKET + "/", cache.url("/")],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            started = time.perf_counter()
            procs, ended = [], {}
            for i in range(clients):
                folder = work / f"client-{i:02d}"
                cmd = [*ofa, "--dir", str(folder), "--catalog", str(catalog), "download", "lab"]
                cmd += ["--connections", str(connections)]
                with open(work / f"client-{i:02d}.err", "w") as err:
                    procs.append(
                        subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
                    )
            # Each client's time runs from the common start to its own exit.
            while len(ended) < len(procs):
                if time.perf_counter() - started > CLIENT_TIMEOUT:
                    for proc in procs:
                        proc.kill()
                        proc.wait()
                    raise SystemExit(f"the clients took longer than {CLIENT_TIMEOUT} s; stopped them all")
                for i, proc in enumerate(procs):
                    if i not in ended and proc.poll() is not None:
                        ended[i] = time.perf_counter() - started
                        if proc.returncode != 0:
                            text = (work / f"client-{i:02d}.err").read_text(errors="replace")
                            raise SystemExit(f"client {i} failed ({proc.returncode}): {text[-800:]}")
                time.sleep(0.02)
            times = list(ended.values())
            elapsed = max(times)
            sent = origin_bytes(origin)
        log = cache.log()  # complete once nginx has stopped

    verified = 0
    for i in range(clients):
        meta = work / f"client-{i:02d}"
        listed = subprocess.run(
            [*ofa, "--dir", str(meta), "--catalog", str(catalog), "list", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        verified += json.loads(listed.stdout)[0].get("verified") is True
    slices = [line for line in log if line.slice not in ("", "-")]
    return {
        "clients": clients,
        "size": size,
        "connections": connections,
        "origin_bytes": sent,
        "copies": sent / size,
        "slowest": max(times),
        "fastest": min(times),
        "median": statistics.median(times),
        "all_done": elapsed,
        "byte_hit_ratio": 1 - sent / (clients * size),
        "slice_lines": len(slices),
        "slice_hits": sum(line.cache == "HIT" for line in slices),
        "verified": verified,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (files, nginx logs)")
    args = parser.parse_args()
    problem = missing_nginx()
    if problem:
        print(f"skipped: {problem}", file=sys.stderr)
        return 2
    size = args.size_mib * MiB
    need = (args.clients + 2) * size
    work = Path(tempfile.mkdtemp(prefix="ofa-lab-bench-"))
    try:
        free = shutil.disk_usage(work).free
        if free < need * 1.1:
            print(
                f"needs about {need // MiB} MiB free in {work.parent}, has {free // MiB} MiB", file=sys.stderr
            )
            return 2
        r = run(args.clients, size, args.connections, work)
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(
        f"{r['clients']} clients x {r['connections']} connections, one {r['size'] // MiB} MiB file, loopback"
    )
    print()
    print("| Figure | Value |")
    print("|---|---|")
    print(f"| Bytes the bucket sent | {r['origin_bytes']:,} ({r['copies']:.3f} copies of the file) |")
    print(f"| Slowest client (start to verified file) | {r['slowest']:.1f} s |")
    print(f"| Median / fastest client | {r['median']:.1f} s / {r['fastest']:.1f} s |")
    print(f"| Byte hit ratio (1 - bucket bytes / bytes delivered) | {r['byte_hit_ratio']:.1%} |")
    print(
        f"| Slice hit ratio (access log, cache=HIT) | {r['slice_hits']}/{r['slice_lines']} "
        f"= {r['slice_hits'] / max(1, r['slice_lines']):.1%} |"
    )
    print(f"| Clients with a verified file | {r['verified']}/{r['clients']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
