"""What checking the server's own fingerprints costs a one-connection download, on loopback.

Usage: python bench/bench_fingerprints.py [--mib 512] [--runs 5]

One file, served four times by tests/httpserver.py (its own process) under four names, downloaded with
`Transfer.run()` and one connection (the engine alone, as bench_transfer.py's "engine only" row):
  - off:      no catalog sha256, the server sends no fingerprint: the sha256 is computed, nothing checked;
  - crc64:    no catalog sha256, the server sends x-oss-hash-crc64ecma: the CRC-64 is computed and checked;
  - md5:      no catalog sha256, no CRC-64, the ETag is the content's MD5 (a single-part upload to a
              store that sends no CRC): the MD5 is computed and checked (with a CRC-64 the MD5 is not);
  - sha256:   the catalog has the sha256 (today's usual case, for reference).
Runs alternate between the variants so a slow moment of the machine does not land on one of them. Prints a
Markdown table with the median seconds, MB/s and the ratio to "off" (the budget: at most 10 % slower).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_transfer import ENGINE_ONLY, ROOT, MiB, clean, make_file  # noqa: E402
from ofa_manager.core.fingerprints import crc64  # noqa: E402

VARIANTS = ("off", "crc64", "md5", "sha256")
# What the metadata must say verified each file (the run checks it: a variant that checked nothing would
# be fast for the wrong reason).
EXPECTED = {"off": None, "crc64": "crc64", "md5": "md5", "sha256": "sha256"}


def fingerprints_of(path: Path) -> tuple[str, int, str]:
    sha, md5, crc = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(4 * MiB):
            sha.update(chunk)
            md5.update(chunk)
            crc = crc64(chunk, crc)
    return sha.hexdigest(), crc, md5.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ofa-bench-fp-", dir=args.workdir))
    served, folder = work / "served", work / "models"
    served.mkdir()
    size = args.mib * MiB
    make_file(served / "off.bin", size)
    for name in VARIANTS[1:]:
        os.link(served / "off.bin", served / f"{name}.bin")
    sha, crc, md5 = fingerprints_of(served / "off.bin")
    headers = {
        "/crc64.bin": {"x-oss-hash-crc64ecma": str(crc)},
        "/md5.bin": {"ETag": f'"{md5.upper()}"'},
    }
    (work / "headers.json").write_text(json.dumps(headers))
    cmd = [sys.executable, str(ROOT / "tests" / "httpserver.py"), "--port", "0", "--dir", str(served)]
    cmd += ["--headers", str(work / "headers.json")]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        base = server.stdout.readline().split()[1].rstrip("/")
        rows = [
            {"id": name, "title": name, "group": ["bench"], "url": f"{base}/{name}.bin", "size": size}
            for name in VARIANTS
        ]
        rows[-1]["sha256"] = sha
        catalog = work / "catalog.json"
        catalog.write_text(json.dumps({"format": 1, "title": "bench", "entries": rows}))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.runs):
            for name in VARIANTS:
                clean(folder)
                out = subprocess.run(
                    [sys.executable, "-c", ENGINE_ONLY, str(catalog), str(folder), name],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                times[name].append(float(out.strip().splitlines()[-1]))
                meta = json.loads((folder / f".{name}.bin.meta.json").read_text())
                assert meta["verified_by"] == EXPECTED[name], (name, meta)
                assert (meta["md5"] is not None) == (name == "md5"), (name, meta)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    base_time = statistics.median(times["off"])
    print(f"{args.mib} MiB, one connection, median of {args.runs} (engine only, loopback)\n")
    print("| fingerprints checked | seconds | MB/s | time vs off |")
    print("|---|---:|---:|---:|")
    for name in VARIANTS:
        t = statistics.median(times[name])
        print(f"| {name} | {t:.2f} | {size / t / 1e6:.0f} | {t / base_time:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
