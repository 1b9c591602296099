"""Tests of the loopback test server: ranges, validators, keep-alive, every fault knob, script mode."""

from __future__ import annotations

import email.utils
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest
import requests

from tests.catalogs import REPO
from tests.httpserver import HTML_ERROR_PAGE, TestServer

DATA = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable enough for slicing checks


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer() as srv:
        yield srv
    # stop() joins every connection thread, so none may outlive the test.
    assert server_threads() == []


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as ses:
        yield ses


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes
    eof: bool


def raw_get(srv: TestServer, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Raw:
    """One request on a fresh socket; reads the body to Content-Length or to EOF, whichever comes first."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {srv.netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed inside the headers: {buffer!r}")
            buffer += chunk
        head, _, body = buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            parsed[name.strip().lower()] = value.strip()
        length = None if method == "HEAD" else parsed.get("content-length")
        if method == "HEAD":
            length = "0"
        eof = False
        while length is None or len(body) < int(length):
            chunk = sock.recv(65536)
            if not chunk:
                eof = True
                break
            body += chunk
        return Raw(int(status_line.split()[1]), parsed, body, eof)


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("testserver-")]


# Plain serving --------------------------------------------------------------------------------------


def test_full_get_has_length_validators_and_accept_ranges(
    server: TestServer, session: requests.Session
) -> None:
    route = server.add("/obj.bin", DATA)
    reply = session.get(server.url("/obj.bin"))
    assert reply.status_code == 200
    assert reply.content == DATA
    assert reply.headers["Content-Length"] == str(len(DATA))
    assert reply.headers["Accept-Ranges"] == "bytes"
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.headers["ETag"] == route.etag
    assert route.etag is not None and route.etag.startswith('"') and len(route.etag) == 42
    assert reply.headers["Last-Modified"] == route.last_modified
    assert server.url("x") == f"http://{server.netloc}/x"
    assert server.netloc == f"127.0.0.1:{server.port}"


def test_head_sends_headers_without_body(server: TestServer) -> None:
    server.add("/obj", DATA)
    reply = raw_get(server, "/obj", method="HEAD")
    assert reply.status == 200
    assert reply.headers["content-length"] == str(len(DATA))
    assert reply.body == b""


def test_unknown_path_is_404_and_query_is_ignored_for_lookup(
    server: TestServer, session: requests.Session
) -> None:
    server.add("/bucket/model.pt", b"weights")
    assert session.get(server.url("/nothing")).status_code == 404
    signed = session.get(server.url("/bucket/model.pt?Expires=1&Signature=abc%3D"))
    assert signed.content == b"weights"
    assert server.requests[-1].path == "/bucket/model.pt?Expires=1&Signature=abc%3D"
    server.add("/with space.bin", b"spaced")
    assert session.get(server.url("/with%20space.bin")).content == b"spaced"


def test_validators_can_be_turned_off_or_fixed(server: TestServer, session: requests.Session) -> None:
    server.add("/none", DATA, etag=None, last_modified=False)
    bare = session.get(server.url("/none"))
    assert "ETag" not in bare.headers and "Last-Modified" not in bare.headers
    server.add("/fixed", DATA, etag="v1")
    assert session.get(server.url("/fixed")).headers["ETag"] == '"v1"'
    server.add("/weak", DATA, etag='W/"soft"')
    assert session.get(server.url("/weak")).headers["ETag"] == 'W/"soft"'


def test_add_rejects_unknown_knobs_and_ambiguous_content(server: TestServer) -> None:
    with pytest.raises(TypeError, match="drop_afterr"):
        server.add("/x", b"x", drop_afterr=3)
    with pytest.raises(ValueError):
        server.add("/y")


# Ranges ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("bytes=100-199", 100, 199),
        ("bytes=10000-", 10000, len(DATA) - 1),
        ("bytes=-240", len(DATA) - 240, len(DATA) - 1),
        ("bytes=-999999", 0, len(DATA) - 1),
        ("bytes=10200-99999", 10200, len(DATA) - 1),
    ],
)
def test_single_range_is_206_with_content_range(
    server: TestServer, session: requests.Session, spec: str, start: int, end: int
) -> None:
    server.add("/obj", DATA)
    reply = session.get(server.url("/obj"), headers={"Range": spec})
    assert reply.status_code == 206
    assert reply.headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert reply.headers["Content-Length"] == str(end - start + 1)
    assert reply.content == DATA[start : end + 1]


@pytest.mark.parametrize("spec", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_range_is_416_with_size(
    server: TestServer, session: requests.Session, spec: str
) -> None:
    server.add("/obj", DATA)
    reply = session.get(server.url("/obj"), headers={"Range": spec})
    assert reply.status_code == 416
    assert reply.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert reply.content == b""
    # The connection stays usable after a 416.
    assert session.get(server.url("/obj")).status_code == 200
    assert server.connections_accepted == 1


def test_multiple_or_malformed_ranges_are_ignored(server: TestServer, session: requests.Session) -> None:
    server.add("/obj", DATA)
    for spec in ("bytes=0-1,5-6", "bytes=9-3", "items=0-1"):
        reply = session.get(server.url("/obj"), headers={"Range": spec})
        assert reply.status_code == 200
        assert reply.content == DATA


def test_if_range_with_matching_etag_or_date_gives_206(server: TestServer, session: requests.Session) -> None:
    route = server.add("/obj", DATA)
    for validator in (route.etag, route.last_modified):
        assert validator is not None
        reply = session.get(server.url("/obj"), headers={"Range": "bytes=5-", "If-Range": validator})
        assert reply.status_code == 206
        assert reply.content == DATA[5:]


def test_if_range_that_does_not_match_gives_full_200(server: TestServer, session: requests.Session) -> None:
    route = server.add("/obj", DATA)
    old_date = email.utils.formatdate(route.mtime - 3600, usegmt=True)
    for validator in ('"stale"', 'W/"weak"', old_date, "not a date"):
        reply = session.get(server.url("/obj"), headers={"Range": "bytes=5-", "If-Range": validator})
        assert reply.status_code == 200, validator
        assert reply.content == DATA
        assert "Content-Range" not in reply.headers


def test_weak_etag_never_validates_a_range(server: TestServer, session: requests.Session) -> None:
    server.add("/obj", DATA, etag='W/"soft"')
    reply = session.get(server.url("/obj"), headers={"Range": "bytes=5-", "If-Range": 'W/"soft"'})
    assert reply.status_code == 200


def test_changing_data_moves_etag_and_last_modified(server: TestServer, session: requests.Session) -> None:
    route = server.add("/obj", DATA)
    old_etag, old_date = route.etag, route.last_modified
    route.data = DATA[::-1]
    assert route.etag != old_etag
    assert route.last_modified != old_date
    reply = session.get(server.url("/obj"), headers={"Range": "bytes=5-", "If-Range": old_etag})
    assert reply.status_code == 200
    assert reply.content == DATA[::-1]
    dated = session.get(server.url("/obj"), headers={"Range": "bytes=5-", "If-Range": old_date})
    assert dated.status_code == 200


# Connections and the request log ---------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(server: TestServer, session: requests.Session) -> None:
    server.add("/obj", DATA)
    first = session.get(server.url("/obj"))
    second = session.get(server.url("/obj"), headers={"Range": "bytes=0-9"})
    assert first.status_code == 200 and second.status_code == 206
    assert server.connections_accepted == 1
    assert server.active_connections() == 1
    assert {r.connection for r in server.requests} == {1}


def test_active_connections_follow_clients_closing(server: TestServer) -> None:
    server.add("/obj", DATA)
    assert raw_get(server, "/obj").body == DATA
    deadline = time.monotonic() + 2
    while server.active_connections() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.active_connections() == 0
    assert server.connections_accepted == 1


def test_request_log_records_headers_status_and_bytes(server: TestServer, session: requests.Session) -> None:
    route = server.add("/obj", DATA)
    session.get(
        server.url("/obj"),
        headers={"Authorization": "Bearer t0ken", "Range": "bytes=10-19", "If-Range": route.etag},
    )
    assert server.wait_idle()
    (record,) = server.requests_for("/obj")
    assert record.method == "GET"
    assert record.headers["authorization"] == "Bearer t0ken"
    assert record.range == "bytes=10-19"
    assert record.if_range == route.etag
    assert (record.status, record.bytes_sent, record.done) == (206, 10, True)
    server.clear_requests()
    assert server.requests == []


def test_parallel_segments_each_get_their_slice(server: TestServer) -> None:
    blob = os.urandom(1 << 20)
    server.add("/big", blob)
    step = len(blob) // 8

    def fetch(index: int) -> bytes:
        end = len(blob) - 1 if index == 7 else (index + 1) * step - 1
        with requests.Session() as ses:
            reply = ses.get(server.url("/big"), headers={"Range": f"bytes={index * step}-{end}"})
            assert reply.status_code == 206
            return reply.content

    with ThreadPoolExecutor(8) as pool:
        parts = list(pool.map(fetch, range(8)))
    assert b"".join(parts) == blob
    assert server.connections_accepted == 8


# Files ----------------------------------------------------------------------------------------------


def test_file_route_is_sent_with_sendfile_byte_for_byte(
    server: TestServer, session: requests.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = os.urandom((3 << 20) + 123)
    path = tmp_path / "model.pt"
    path.write_bytes(blob)
    calls = []
    original = socket.socket.sendfile

    def counting_sendfile(
        self: socket.socket, file: BinaryIO, offset: int = 0, count: int | None = None
    ) -> int:
        calls.append(count)
        return original(self, file, offset, count)

    monkeypatch.setattr(socket.socket, "sendfile", counting_sendfile)
    route = server.add("/model.pt", file=path)
    reply = session.get(server.url("/model.pt"))
    assert reply.content == blob
    assert reply.headers["ETag"] == route.etag
    part = session.get(server.url("/model.pt"), headers={"Range": "bytes=1000000-"})
    assert part.status_code == 206
    assert part.content == blob[1000000:]
    assert calls, "the file was not sent with sendfile"


def test_file_changed_on_disk_gets_a_new_etag_and_missing_file_is_404(
    server: TestServer, session: requests.Session, tmp_path: Path
) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    route = server.add("/a.bin", file=path)
    first = route.etag
    path.write_bytes(b"two")
    os.utime(path, (time.time() + 5, time.time() + 5))
    reply = session.get(server.url("/a.bin"))
    assert reply.content == b"two"
    assert reply.headers["ETag"] == route.etag != first
    path.unlink()
    assert session.get(server.url("/a.bin")).status_code == 404


# Fault knobs ----------------------------------------------------------------------------------------


def test_drop_after_cuts_the_body_then_behaves(server: TestServer) -> None:
    route = server.add("/obj", DATA, drop_after=100)
    cut = raw_get(server, "/obj")
    assert cut.status == 200
    assert cut.headers["content-length"] == str(len(DATA))
    assert cut.body == DATA[:100] and cut.eof
    assert server.wait_idle()
    assert server.requests[-1].bytes_sent == 100
    assert route.drop_after is None
    whole = raw_get(server, "/obj")
    assert whole.body == DATA and not whole.eof


def test_drop_counts_from_the_start_of_a_ranged_body_and_repeats(server: TestServer) -> None:
    server.add("/obj", DATA, drop_after=50, drop_times=2)
    for _ in range(2):
        cut = raw_get(server, "/obj", {"Range": "bytes=1000-"})
        assert cut.status == 206
        assert cut.body == DATA[1000:1050] and cut.eof
    assert raw_get(server, "/obj", {"Range": "bytes=1000-"}).body == DATA[1000:]


def test_drop_shows_up_as_a_broken_body_in_requests(server: TestServer, session: requests.Session) -> None:
    server.add("/obj", DATA, drop_after=0)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        session.get(server.url("/obj"))
    assert session.get(server.url("/obj")).content == DATA


def test_ignore_range_answers_200_without_accept_ranges(
    server: TestServer, session: requests.Session
) -> None:
    server.add("/obj", DATA, ignore_range=True)
    reply = session.get(server.url("/obj"), headers={"Range": "bytes=100-"})
    assert reply.status_code == 200
    assert reply.content == DATA
    assert "Accept-Ranges" not in reply.headers
    assert "Content-Range" not in reply.headers


def test_stall_pauses_then_continues(server: TestServer, session: requests.Session) -> None:
    server.add("/obj", DATA, stall_after=10, stall_seconds=0.3)
    with session.get(server.url("/obj"), stream=True, timeout=5) as reply:
        head = reply.raw.read(10)
        began = time.monotonic()
        rest = reply.raw.read()
        waited = time.monotonic() - began
    assert head + rest == DATA
    assert 0.2 <= waited < 2.0
    # Only the next response stalls.
    began = time.monotonic()
    assert session.get(server.url("/obj")).content == DATA
    assert time.monotonic() - began < 0.25


def test_stall_until_holds_the_body_until_the_test_lets_it_go(
    server: TestServer, session: requests.Session
) -> None:
    release = threading.Event()
    server.add("/held", DATA, stall_after=10, stall_until=release, stall_seconds=0)
    with session.get(server.url("/held"), stream=True, timeout=30) as reply:
        assert reply.raw.read(10) == DATA[:10]
        (record,) = server.requests_for("/held")
        assert record.bytes_sent == 10 and not record.done  # held, though its stall_seconds is 0
        release.set()
        assert reply.raw.read() == DATA[10:]


def test_stall_close_ends_the_body_and_read_timeouts_fire(
    server: TestServer, session: requests.Session
) -> None:
    server.add("/closing", DATA, stall_after=10, stall_seconds=0.1, stall_close=True)
    cut = raw_get(server, "/closing")
    assert cut.body == DATA[:10] and cut.eof
    server.add("/slow", DATA, stall_after=10, stall_seconds=5)
    began = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(server.url("/slow"), timeout=(2, 0.2))
    assert time.monotonic() - began < 2


def test_change_after_swaps_content_and_etag(server: TestServer, session: requests.Session) -> None:
    route = server.add("/obj", DATA, change_after=1)
    first = session.get(server.url("/obj"))
    second = session.get(server.url("/obj"))
    third = session.get(server.url("/obj"))
    assert first.content == DATA
    assert second.content != DATA and len(second.content) == len(DATA)
    assert second.headers["ETag"] != first.headers["ETag"]
    assert third.content == second.content
    assert route.change_after is None
    resumed = session.get(
        server.url("/obj"), headers={"Range": "bytes=100-", "If-Range": first.headers["ETag"]}
    )
    assert resumed.status_code == 200 and resumed.content == second.content


def test_change_after_uses_changed_data_and_counts_only_gets(
    server: TestServer, session: requests.Session
) -> None:
    route = server.add("/obj", b"old", change_after=1, changed_data=b"new!")
    assert session.head(server.url("/obj")).headers["Content-Length"] == "3"
    assert session.get(server.url("/obj")).content == b"old"
    assert session.get(server.url("/obj")).content == b"new!"
    route.change_after = 0
    assert session.get(server.url("/obj")).content == bytes(b ^ 0xFF for b in b"new!")


def test_statuses_are_consumed_one_per_request(server: TestServer, session: requests.Session) -> None:
    canned = [(503, {"Retry-After": "1"}, b"busy"), 404, (429, {"Retry-After": "2"})]
    server.add("/obj", DATA, statuses=canned)
    busy = session.get(server.url("/obj"))
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert busy.content == b"busy"
    assert session.get(server.url("/obj")).status_code == 404
    limited = session.get(server.url("/obj"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert session.get(server.url("/obj")).content == DATA
    # Canned answers keep the connection alive.
    assert server.connections_accepted == 1


def test_a_none_among_the_statuses_serves_that_request_as_usual(
    server: TestServer, session: requests.Session
) -> None:
    server.add("/obj", DATA, statuses=[None, 404])
    assert session.get(server.url("/obj")).content == DATA
    assert session.get(server.url("/obj")).status_code == 404
    assert session.get(server.url("/obj")).content == DATA


def test_html_error_and_xml_bodies(server: TestServer, session: requests.Session) -> None:
    server.add("/denied", DATA, html_error=True)
    page = session.get(server.url("/denied"), headers={"Range": "bytes=0-9"})
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.content == HTML_ERROR_PAGE
    xml = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>'
    server.add("/oss", xml, content_type="application/xml")
    reply = session.get(server.url("/oss"))
    assert reply.headers["Content-Type"] == "application/xml"
    assert reply.content == xml


def test_no_length_sends_body_until_close(server: TestServer, session: requests.Session) -> None:
    server.add("/obj", DATA, no_length=True)
    reply = raw_get(server, "/obj", {"Range": "bytes=10-"})
    assert reply.status == 200
    assert "content-length" not in reply.headers
    assert "accept-ranges" not in reply.headers
    assert reply.headers["connection"] == "close"
    assert reply.body == DATA and reply.eof
    assert session.get(server.url("/obj")).content == DATA


@pytest.mark.parametrize("on_disk", [False, True])
def test_rate_throttles_each_connection(server: TestServer, tmp_path: Path, on_disk: bool) -> None:
    blob = os.urandom(600_000)
    if on_disk:
        (tmp_path / "blob").write_bytes(blob)
        server.add("/obj", file=tmp_path / "blob", rate=2_000_000)
    else:
        server.add("/obj", blob, rate=2_000_000)
    began = time.monotonic()
    reply = raw_get(server, "/obj")
    elapsed = time.monotonic() - began
    assert reply.body == blob
    assert 0.27 <= elapsed <= 0.9, elapsed


def test_redirect_points_elsewhere_and_auth_stays_behind(
    server: TestServer, session: requests.Session
) -> None:
    with TestServer() as other:
        other.add("/target", b"payload")
        server.add("/obj", DATA, redirect_to=other.url("/target"))
        plain = session.get(server.url("/obj"), allow_redirects=False)
        assert plain.status_code == 302
        assert plain.headers["Location"] == other.url("/target")
        followed = session.get(server.url("/obj"), headers={"Authorization": "Bearer secret"})
        assert followed.content == b"payload"
        assert server.requests[-1].headers["authorization"] == "Bearer secret"
        assert "authorization" not in other.requests[-1].headers


def test_knobs_can_be_set_after_add(server: TestServer) -> None:
    route = server.add("/obj", DATA)
    assert raw_get(server, "/obj").body == DATA
    route.drop_after = 7
    assert raw_get(server, "/obj").body == DATA[:7]
    route.statuses = [500]
    assert raw_get(server, "/obj").status == 500
    assert raw_get(server, "/obj").body == DATA


# Stopping -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("knobs", [{"stall_after": 10, "stall_seconds": 30}, {"rate": 1000}])
def test_stop_is_prompt_while_a_client_is_stuck(knobs: dict[str, int]) -> None:
    srv = TestServer().start()
    srv.add("/obj", DATA, **knobs)
    idle = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    with idle, socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(f"GET /obj HTTP/1.1\r\nHost: {srv.netloc}\r\n\r\n".encode())
        assert sock.recv(100)
        deadline = time.monotonic() + 2
        while srv.active_connections() < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        began = time.monotonic()
        srv.stop()
        assert time.monotonic() - began < 1.0
        assert server_threads() == []
        sock.settimeout(2)
        while sock.recv(65536):
            pass
    srv.stop()


def test_stopped_server_cannot_restart() -> None:
    srv = TestServer()
    with srv:
        pass
    with pytest.raises(RuntimeError):
        srv.start()


# Script mode ----------------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_script_serves_a_directory_until_sigterm(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(DATA)
    (tmp_path / "sub" / "b.bin").write_bytes(b"nested")
    script = REPO / "tests" / "httpserver.py"
    command = [sys.executable, str(script), "--port", "0", "--dir", str(tmp_path), "--rate", "50000000"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("READY http://127.0.0.1:") and line.endswith("/")
            base = line.split()[1]
            with requests.Session() as ses:
                assert ses.get(base + "a.bin").content == DATA
                ranged = ses.get(base + "sub/b.bin", headers={"Range": "bytes=2-"})
                assert (ranged.status_code, ranged.content) == (206, b"sted")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
