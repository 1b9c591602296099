"""A lab cache on a real nginx (packaging/nginx/ofa-lab-cache.conf) in front of the loopback bucket.

The catalog names the real bucket's https address, which no test can reach: a download works only if
the mirror rule sends it to the cache, and the cache's upstream is the loopback test server.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from tests.catalogs import MiB, cli_command, cli_env, entry, load, payload, sha256, write_catalog
from tests.lab_cache import BUCKET, LabCache, missing_nginx

NO_NGINX = missing_nginx()
pytestmark = pytest.mark.skipif(NO_NGINX is not None, reason=f"lab cache tests need nginx: {NO_NGINX}")

PATH = "/checkpoints/lab.pt"
SLICE = 4 * MiB  # the shipped configuration's slice size
CRC64 = "14392378465294216427"  # what the bucket sends as x-oss-hash-crc64ecma; passed through untouched


@pytest.fixture
def cache(tmp_path, http_server):
    with LabCache(tmp_path / "nginx", f"http://{http_server.netloc}") as running:
        yield running


def origin_spans(server, path: str = PATH) -> list[tuple[int, int]]:
    """The byte spans of the object the origin sent, sorted: [start, end) per GET."""
    spans = []
    for record in server.requests_for(path, "GET"):
        if record.status == 206:
            start = int(re.match(r"bytes=(\d+)-", record.range).group(1))
        else:
            assert record.status == 200, record
            start = 0
        spans.append((start, start + record.bytes_sent))
    return sorted(spans)


def assert_each_byte_at_most_once(spans: list[tuple[int, int]]) -> None:
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end, f"the origin sent bytes {start}-{end - 1} twice: {spans}"


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def spawn_download(models_dir, catalog) -> subprocess.Popen:
    return subprocess.Popen(
        cli_command(
            "--dir", str(models_dir), "--catalog", str(catalog), "download", "lab", "--connections", "4"
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"ofa-manager did not finish:\n{err}") from None
    return proc.returncode, err


def lab_catalog(tmp_path, data: bytes):
    return write_catalog(
        tmp_path / "catalog.json", [entry("lab", BUCKET + PATH, sha256=sha256(data), size=len(data))]
    )


def point_at_cache(cache: LabCache) -> None:
    done = cli("mirror", "add", BUCKET + "/", cache.url("/"))
    assert done.returncode == 0, done.stderr


def test_whole_object_headers_reach_the_client_and_the_key_ignores_authorization(cache, http_server):
    data = payload(3 * SLICE + 12345)
    route = http_server.add(PATH, data, headers={"x-oss-hash-crc64ecma": CRC64})

    first = requests.get(cache.url(PATH), headers={"Authorization": "Bearer alice"}, timeout=30)
    assert first.status_code == 200 and first.content == data
    # The client sees the whole object's length and fingerprints, not those of a slice.
    assert first.headers["Content-Length"] == str(len(data))
    assert first.headers["ETag"] == route.etag
    assert first.headers["Last-Modified"] == route.last_modified
    assert first.headers["x-oss-hash-crc64ecma"] == CRC64
    assert "Content-Range" not in first.headers

    # Another user, another token, a signed-URL query: the same cached copy.
    ranged = requests.get(
        cache.url(PATH + "?Signature=bob"),
        headers={"Authorization": "Bearer bob", "Range": f"bytes={SLICE - 10}-{2 * SLICE + 9}"},
        timeout=30,
    )
    assert ranged.status_code == 206 and ranged.content == data[SLICE - 10 : 2 * SLICE + 10]
    assert ranged.headers["Content-Range"] == f"bytes {SLICE - 10}-{2 * SLICE + 9}/{len(data)}"
    assert ranged.headers["ETag"] == route.etag and ranged.headers["x-oss-hash-crc64ecma"] == CRC64
    assert ranged.headers["X-Cache-Status"] == "HIT"

    # If-Range is answered by the cache: the right ETag gives the range, a stale one the whole object.
    resumed = requests.get(
        cache.url(PATH), headers={"Range": "bytes=100-", "If-Range": route.etag}, timeout=30
    )
    assert resumed.status_code == 206 and resumed.content == data[100:]
    stale = requests.get(cache.url(PATH), headers={"Range": "bytes=100-", "If-Range": '"old"'}, timeout=30)
    assert stale.status_code == 200 and stale.content == data

    head = requests.head(cache.url(PATH), timeout=30)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))

    spans = origin_spans(http_server)
    assert_each_byte_at_most_once(spans)
    assert sum(end - start for start, end in spans) == len(data)
    # The origin was asked in slices only, never for the client's own ranges or validators.
    assert all(r.range and r.if_range is None for r in http_server.requests_for(PATH, "GET"))


def test_two_clients_four_connections_each_the_origin_sends_each_byte_once(tmp_path, cache, http_server):
    data = payload(6 * SLICE + 54321)
    # Slow enough that both clients are at work while slices are still being fetched.
    http_server.add(PATH, data, rate=16 * MiB, headers={"x-oss-hash-crc64ecma": CRC64})
    catalog = lab_catalog(tmp_path, data)
    point_at_cache(cache)
    folders = [tmp_path / "alice", tmp_path / "bob"]

    procs = [spawn_download(folder, catalog) for folder in folders]
    results = [finish(proc) for proc in procs]

    for (code, err), folder in zip(results, folders, strict=True):
        assert code == 0, err
        library = Library(folder, load(catalog))
        status = library.status(library.catalog.get("lab"))
        assert status.state is State.DOWNLOADED and status.verified
        assert library.path(library.catalog.get("lab")).read_bytes() == data

    # The origin's own log: every byte of the object once, nothing more, however the two clients'
    # eight connections cut the file.
    spans = origin_spans(http_server)
    assert_each_byte_at_most_once(spans)
    assert spans[0][0] == 0 and sum(end - start for start, end in spans) == len(data)
    assert len(spans) == -(-len(data) // SLICE)

    # The cache's log: the clients used four connections each.
    cache.stop()  # nginx writes a request's line when it ends; stopping ends them all
    assert len({line.connection for line in cache.log() if line.status == 206}) >= 2 * 4


def test_download_killed_through_the_cache_resumes_and_the_origin_sends_no_byte_twice(
    tmp_path, cache, http_server
):
    data = payload(4 * SLICE + 999)
    route = http_server.add(PATH, data, rate=2 * MiB)
    catalog = lab_catalog(tmp_path, data)
    point_at_cache(cache)
    models = tmp_path / "models"
    library = Library(models, load(catalog))
    lab = library.catalog.get("lab")

    proc = spawn_download(models, catalog)
    try:
        deadline = time.monotonic() + 60

        def fetching():
            return [r for r in http_server.requests_for(PATH, "GET") if not r.done and r.bytes_sent]

        # Until the partial file and its record exist and the origin is in the middle of a slice.
        while not (library.part_path(lab).exists() and library.record_path(lab).exists() and fetching()):
            assert proc.poll() is None, finish(proc)
            assert time.monotonic() < deadline, "no partial file and slice in flight after a minute"
            time.sleep(0.05)
        assert proc.poll() is None, "the download ended before it could be interrupted"
        in_flight = fetching()
    finally:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert library.status(lab).state is State.PARTIAL
    # The client went away in the middle of slices; nginx still finishes and keeps each of them (a
    # cacheable answer is read to its end), so the resumed download finds them in the cache.
    assert in_flight, "nothing was being fetched from the origin when the client was killed"
    assert http_server.wait_idle(60)
    spans = origin_spans(http_server)
    assert all(end - start == SLICE for start, end in spans), spans
    assert sum(end - start for start, end in spans) < len(data)

    route.rate = None
    code, err = finish(spawn_download(models, catalog))
    assert code == 0, err
    status = library.status(lab)
    assert status.state is State.DOWNLOADED and status.verified
    assert library.path(lab).read_bytes() == data

    spans = origin_spans(http_server)
    assert_each_byte_at_most_once(spans)
    assert sum(end - start for start, end in spans) == len(data)


def test_a_file_replaced_in_the_bucket_is_never_delivered_mixed_and_dropping_the_cache_mends_it(
    tmp_path, cache, http_server
):
    old, new = payload(3 * SLICE, seed=1), payload(3 * SLICE, seed=2)
    route = http_server.add(PATH, old)
    # No sha256 in the catalog (the published one has none): only the cache and If-Range stand between
    # the client and a file spliced from two versions.
    catalog = write_catalog(tmp_path / "catalog.json", [entry("lab", BUCKET + PATH)])
    point_at_cache(cache)
    first = requests.get(cache.url(PATH), headers={"Range": "bytes=0-99"}, timeout=30)
    assert first.status_code == 206 and first.content == old[:100]  # slice 0 of the old file is cached
    route.data = new  # replaced under the same name: a new ETag
    models = tmp_path / "models"
    library = Library(models, load(catalog))
    lab = library.catalog.get("lab")

    failed = cli(
        "--dir", str(models), "--catalog", str(catalog), "download", "lab", "--retries", "1", timeout=120
    )
    assert failed.returncode == 1, (failed.returncode, failed.stderr)
    assert not library.path(lab).exists()
    assert "etag mismatch in slice response" in cache.errors()

    # The README's remedy: stop nginx, empty the cache folder, start it again.
    cache.stop()
    shutil.rmtree(cache.cache_dir)
    cache.cache_dir.mkdir()
    cache.start()
    done = cli("--dir", str(models), "--catalog", str(catalog), "download", "lab", timeout=120)
    assert done.returncode == 0, done.stderr
    assert library.path(lab).read_bytes() == new


def test_mirror_rules_from_the_command_line(tmp_path):
    listed = cli("mirror", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []

    added = cli("mirror", "add", BUCKET + "/", "http://cache.lab.example:8080")
    assert added.returncode == 0 and added.stderr == "", added.stderr
    assert json.loads(cli("mirror", "list", "--json").stdout) == [
        {"prefix": BUCKET + "/", "url": "http://cache.lab.example:8080/"}
    ]
    # The trailing "/" of the prefix is kept on the address, so paths join as they left the prefix.
    changed = cli("mirror", "add", BUCKET + "/", "http://cache2.lab.example:8080/")
    assert changed.returncode == 0
    other = cli("mirror", "add", "https://example.org/models", "https://mirror.example.org/models/")
    # Kept, but a prefix that no catalog URL starts with is pointed out (the likelier cause is a typo).
    assert other.returncode == 0 and "no URL in the catalog starts with" in other.stderr
    listed = cli("mirror", "list", "--json")
    assert json.loads(listed.stdout) == [
        {"prefix": BUCKET + "/", "url": "http://cache2.lab.example:8080/"},
        {"prefix": "https://example.org/models", "url": "https://mirror.example.org/models"},
    ]
    assert cli("mirror").stdout.splitlines()[0] == f"{BUCKET}/ -> http://cache2.lab.example:8080/"

    for bad in (
        ("add", "ofa-beijing", "http://cache"),
        ("add", BUCKET + "/", "cache:8080"),
        ("remove", "nope"),
    ):
        refused = cli("mirror", *bad)
        assert refused.returncode == 2 and "no rule changed" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert len(json.loads(cli("mirror", "list", "--json").stdout)) == 2

    removed = cli("mirror", "remove", BUCKET)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(cli("mirror", "list", "--json").stdout) == [
        {"prefix": "https://example.org/models", "url": "https://mirror.example.org/models"}
    ]
