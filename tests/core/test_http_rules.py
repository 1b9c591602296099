"""HTTP plumbing (core/http.py): a token never leaves https (a redirect from an https URL down to plain http
drops it); which statuses are retried, Retry-After, redirects followed by hand, what a refusal means for the
token, a link check's figures and errors, network errors in a few words.

The https side is the loopback test server behind TLS, with a certificate made for the test by openssl and
trusted by this session only."""

from __future__ import annotations

import email.utils
import hashlib
import io
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests

from ofa_manager import __version__
from ofa_manager.core import credentials
from ofa_manager.core.credentials import TokenCache
from ofa_manager.core.fingerprints import ServerFingerprints
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.http import (
    HttpStatusError,
    LinkCheck,
    check_link,
    compression_of,
    describe_network_error,
    is_web_page,
    make_session,
    open_url,
    raise_for_status,
    retry_after_seconds,
    shutdown_connections,
    token_hint,
)
from tests.httpserver import _HTTPD, TestServer, crc64_xz, md5_etag, oss_headers


class TlsServer(TestServer):
    def __init__(self, cert, key) -> None:
        super().__init__()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)

    def start(self) -> TlsServer:
        self._httpd = _HTTPD((self.host, self._requested_port), self)
        self._httpd.socket = self.context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="tls-server", daemon=True
        )
        self._thread.start()
        return self

    def url(self, path: str = "/", host: str | None = None) -> str:
        return "https://" + super().url(path, host).removeprefix("http://")


@pytest.fixture
def tls_server(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
    )  # fmt: skip
    if made.returncode:
        pytest.skip(f"openssl could not make a certificate: {made.stderr[-200:]!r}")
    server = TlsServer(cert, key).start()
    server.cert = cert
    yield server
    server.stop()


def test_a_redirect_from_https_to_http_drops_the_token(tls_server, http_server, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they would override the session's own trust
        monkeypatch.delenv(name, raising=False)
    plain = http_server.url("/b.pt", host="localhost")
    http_server.add("/b.pt", b"b" * 100)
    tls_server.add("/a.pt", b"", redirect_to=plain)
    credentials.set_token(normalise_host(plain), "s3cret")
    credentials.set_token(normalise_host(tls_server.url("/a.pt")), "s3cret")
    session = make_session()
    session.verify = str(tls_server.cert)
    try:
        response = open_url(session, tls_server.url("/a.pt"), TokenCache())
        assert response.status_code == 200 and response.content == b"b" * 100
        response.close()
        # Asked directly over http, the same host does get its token: the rule is what kept it back.
        open_url(session, plain, TokenCache()).close()
    finally:
        session.close()
    (https_request,) = tls_server.requests_for("/a.pt")
    assert https_request.headers.get("authorization") == "Bearer s3cret"
    redirected, direct = http_server.requests_for("/b.pt")
    assert "authorization" not in redirected.headers
    assert direct.headers.get("authorization") == "Bearer s3cret"


# -- the rest of the module's rules: statuses, Retry-After, redirects, refusals, link checks, error words


def test_which_statuses_are_worth_another_try():
    assert [HttpStatusError(s, "").retryable for s in (408, 425, 429, 500, 507, 524, 599)] == [True] * 7
    assert [HttpStatusError(s, "").retryable for s in (400, 401, 403, 404, 416, 499, 600)] == [False] * 7


def test_a_status_errors_message_is_its_status_and_reason_without_a_password():
    error = HttpStatusError(404, "Not Found at https://ann:pw@example.org/m.pt", retry_after=3.0)
    assert str(error) == "404 Not Found at https://***@example.org/m.pt"
    assert (error.status, error.retry_after) == (404, 3.0)
    assert str(HttpStatusError(503, "  ")) == "503" and HttpStatusError(503, "").retry_after is None


def test_retry_after_in_seconds_or_as_a_date():
    assert [retry_after_seconds(v) for v in (None, "", " 5 ", "2.5", "0", "-3", "soon")] == [
        None,
        None,
        5.0,
        2.5,
        0.0,
        0.0,
        None,
    ]
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # long past: at once
    ahead = retry_after_seconds(email.utils.formatdate(time.time() + 3600, usegmt=True))
    assert 3500 < ahead <= 3600


def response_with(status: int = 200, **headers) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(b"")
    response.reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests"}.get(status)
    response.headers.update({name.replace("_", "-"): value for name, value in headers.items()})
    return response


def test_a_web_page_is_told_by_its_content_type():
    pages = ("text/html; charset=utf-8", "TEXT/HTML", "application/xml", "text/xml", "application/xhtml+xml")
    assert all(is_web_page(response_with(content_type=t)) for t in pages)
    assert not any(
        is_web_page(response_with(content_type=t)) for t in ("application/octet-stream", "text/plain")
    )
    assert not is_web_page(response_with())


def test_which_content_encodings_mean_the_bytes_are_not_the_file():
    def of(value, name="model.pt"):
        return compression_of(response_with(content_encoding=value), name)

    assert [of(v) for v in ("identity", " None ", "")] == [None, None, None]
    assert compression_of(response_with(), "model.pt") is None
    assert [of("gzip"), of(" GZIP "), of("br"), of("x-gzip")] == ["gzip", "gzip", "br", "x-gzip"]
    # A gzip file labelled gzip is the file itself (Apache's AddEncoding); any other encoding is not.
    assert [of("gzip", "a.tar.gz"), of("x-gzip", "A.TGZ"), of("gzip", "a.GZ")] == [None, None, None]
    assert of("br", "a.tar.gz") == "br" and of("gzip", "a.gz.pt") == "gzip"


def test_a_status_of_400_or_more_is_raised_with_its_retry_after():
    raise_for_status(response_with(200))
    raise_for_status(response_with(399))
    with pytest.raises(HttpStatusError) as info:
        raise_for_status(response_with(429, retry_after="7"))
    assert (str(info.value), info.value.status, info.value.retry_after) == ("429 Too Many Requests", 429, 7.0)
    with pytest.raises(HttpStatusError) as info:
        raise_for_status(response_with(400))
    assert str(info.value) == "400 Bad Request" and info.value.retry_after is None
    with pytest.raises(HttpStatusError) as info:
        raise_for_status(response_with(599))  # a status with no reason phrase
    assert str(info.value) == "599"


def test_requests_say_who_they_are_and_ask_for_the_bytes_as_they_are(http_server):
    http_server.add("/m.pt", b"m" * 100)
    session = make_session()
    try:
        open_url(
            session, http_server.url("/m.pt"), None, method="HEAD", headers={"Range": "bytes=0-"}
        ).close()
    finally:
        session.close()
    (request,) = http_server.requests_for("/m.pt")
    assert request.method == "HEAD" and request.range == "bytes=0-"
    assert request.headers["user-agent"] == f"ofa-manager/{__version__}"
    assert request.headers["accept-encoding"] == "identity"
    assert "authorization" not in request.headers


def test_redirects_are_followed_by_hand_up_to_ten(http_server):
    http_server.add("/m.pt", b"m" * 100)
    http_server.add("/hop", b"", redirect_to="m.pt")  # relative to the redirecting URL
    http_server.add("/loop", b"", redirect_to="/loop")
    session = make_session()
    try:
        response = open_url(session, http_server.url("/hop"), None)
        assert response.status_code == 200 and response.content == b"m" * 100
        response.close()
        with pytest.raises(HttpStatusError) as info:
            open_url(session, http_server.url("/loop"), None)
    finally:
        session.close()
    assert (info.value.status, str(info.value)) == (310, "310 too many redirects")
    assert len(http_server.requests_for("/loop")) == 11  # the first request and ten redirects


def test_a_redirect_away_from_http_is_refused(http_server):
    http_server.add("/ftp", b"", redirect_to="ftp://files.example/m.pt", redirect_status=301)
    session = make_session()
    try:
        with pytest.raises(HttpStatusError) as info:
            open_url(session, http_server.url("/ftp"), None)
    finally:
        session.close()
    assert str(info.value) == "301 redirect to unsupported URL ftp://files.example/m.pt"


@pytest.mark.parametrize(
    ("stored", "status", "hint"),
    [
        (None, 401, "{host} wants a token: store one with ofa-manager login {host}, or Settings > Tokens "
         "in the window"),
        (None, 403, "no token is stored for {host}; if it needs one, store it with ofa-manager login {host}, "
         "or Settings > Tokens in the window"),
        ("wrong", 401, "the token stored for {host} was refused"),
    ],
    ids=["401-no-token", "403-no-token", "token-refused"],
)  # fmt: skip
def test_a_refusal_says_what_it_means_for_the_token(http_server, stored, status, hint):
    http_server.add("/m.pt", b"m", statuses=[status] if status != 401 else [])
    if status == 401:
        http_server.route("/m.pt").require_token = "right"
    host = normalise_host(http_server.url("/m.pt"))
    if stored:
        credentials.set_token(host, stored)
    session = make_session()
    try:
        response = open_url(session, http_server.url("/m.pt"), TokenCache())
        with pytest.raises(HttpStatusError) as info:
            raise_for_status(response)
    finally:
        session.close()
    reason = {401: "Unauthorized", 403: "Forbidden"}[status]
    assert str(info.value) == f"{status} {reason} ({hint.format(host=host)})"
    assert info.value.status == status


def test_a_refusal_without_a_keyring_says_so(http_server, monkeypatch):
    import keyring
    import keyring.backends.fail

    http_server.add("/m.pt", b"m", require_token="right")
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the memory keyring fixture restores its own after
    host = normalise_host(http_server.url("/m.pt"))
    check = check_link(http_server.url("/m.pt"), tokens=TokenCache())
    assert check.status == 401 and not check.ok
    assert (
        check.error == f"401 Unauthorized (no token for {host}: no system keyring is available to keep one)"
    )


def test_token_hints_for_a_keyring_that_could_not_be_read():
    class Tokens(TokenCache):
        def problem_for(self, host):
            return {"locked.example": "the keyring is locked"}.get(host)

    assert token_hint(401, "locked.example", False, Tokens()) == (
        "no token for locked.example could be read: the keyring is locked"
    )
    assert token_hint(401, "open.example", False, Tokens()).startswith("open.example wants a token")
    assert token_hint(403, "h", False, None).startswith("no token is stored for h;")
    assert token_hint(403, "h", True, None) == "the token stored for h was refused"


def test_a_link_check_reads_size_etag_ranges_and_crc(http_server):
    data = b"x" * 1000
    route = http_server.add("/m.pt", data, headers=oss_headers(data))
    check = check_link(http_server.url("/m.pt"))
    assert (check.url, check.status, check.size, check.etag, check.accepts_ranges) == (
        http_server.url("/m.pt"),
        200,
        1000,
        route.etag,
        True,
    )
    assert check.crc64 == crc64_xz(data) and check.error is None and check.ok
    assert [r.method for r in http_server.requests_for("/m.pt")] == ["HEAD"]
    assert check.fingerprints() == ServerFingerprints(
        size=1000, crc64=crc64_xz(data), md5=None, etag=route.etag
    )


def test_a_link_check_of_a_file_without_ranges_or_length(http_server):
    http_server.add("/m.pt", b"x" * 1000, no_length=True, etag=md5_etag(b"x" * 1000))
    check = check_link(http_server.url("/m.pt"))
    assert check.ok and check.size is None and not check.accepts_ranges and check.crc64 is None
    assert check.fingerprints().md5 == hashlib.md5(b"x" * 1000, usedforsecurity=False).hexdigest()


def test_a_link_check_names_what_is_wrong(http_server):
    http_server.add("/gone.pt", b"", statuses=[(404, {}, b"")])
    http_server.add("/page.pt", b"x", html_error=True)
    http_server.add("/ftp.pt", b"", redirect_to="ftp://files.example/m.pt")
    gone, page, ftp = (check_link(http_server.url(p)) for p in ("/gone.pt", "/page.pt", "/ftp.pt"))
    assert (gone.status, gone.error, gone.ok) == (404, "404 Not Found", False)
    assert (page.status, page.error, page.ok) == (200, "the server returned a web page, not a file", False)
    assert (ftp.status, ftp.error) == (302, "302 redirect to unsupported URL ftp://files.example/m.pt")
    assert ftp.url == http_server.url("/ftp.pt")
    http_server.add("/bad.pt", b"", statuses=[(400, {}, b"")])
    bad = check_link(http_server.url("/bad.pt"))
    assert (bad.status, bad.error, bad.ok) == (400, "400 Bad Request", False)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    refused = check_link(f"http://127.0.0.1:{port}/m.pt", timeout=5)
    assert (refused.status, refused.error, refused.ok) == (None, "connection refused", False)
    assert refused.url == f"http://127.0.0.1:{port}/m.pt"


def test_a_link_checks_verdict():
    assert LinkCheck("u", 200).ok and LinkCheck("u", 399).ok
    assert not LinkCheck("u", 400).ok and not LinkCheck("u", None).ok
    assert not LinkCheck("u", 200, error="the server returned a web page, not a file").ok


def test_network_errors_in_a_few_words():
    exc = requests.exceptions
    found = requests.exceptions.ConnectionError("Failed to resolve: Name or service not known")
    found.request = requests.Request("GET", "https://bucket.example:8443/m.pt").prepare()
    cases = [
        (exc.ConnectTimeout("connect timeout=15"), "connection timed out"),
        (exc.ReadTimeout("read"), "no data received before the stall timeout"),
        (OSError("The read operation TIMED OUT"), "no data received before the stall timeout"),
        (exc.SSLError("bad handshake"), "TLS/SSL error"),
        (found, "host not found (bucket.example:8443)"),
        (OSError("[Errno -2] getaddrinfo failed"), "host not found (unknown)"),
        (OSError("nodename nor servname provided"), "host not found (unknown)"),
        (OSError("[Errno 111] Connection refused"), "connection refused"),
        (OSError("Connection reset by peer"), "connection dropped by the server"),
        (OSError("RemoteDisconnected('closed')"), "connection dropped by the server"),
        (OSError("Connection ABORTED."), "connection dropped by the server"),
        (OSError("IncompleteRead(10 bytes read)"), "connection dropped mid-transfer"),
        (OSError("Connection broken: eof"), "connection dropped mid-transfer"),
        (OSError("first line\nsecond line"), "first line"),
        (OSError("y" * 300), "y" * 200),
        (ValueError(), "ValueError"),
        (
            OSError("odd failure at https://ann:pw@example.org/m.pt"),
            "odd failure at https://***@example.org/m.pt",
        ),
    ]
    assert [describe_network_error(e) for e, _ in cases] == [words for _, words in cases]


def test_a_link_check_waits_only_its_own_time_limit():
    # A server that accepts and never answers: the check gives up after its limit, not the default 30 s.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    outcome = []
    try:
        port = listener.getsockname()[1]
        worker = threading.Thread(
            target=lambda: outcome.append(check_link(f"http://127.0.0.1:{port}/m.pt", timeout=0.5)),
            daemon=True,
        )
        worker.start()
        worker.join(15)  # a hang guard, far above the limit
        assert not worker.is_alive(), "the check did not keep to its time limit"
    finally:
        listener.close()
    [check] = outcome
    assert (check.status, check.error) == (None, "no data received before the stall timeout")


def test_a_location_header_on_an_answer_that_is_no_redirect_is_not_followed(http_server):
    http_server.add("/m.pt", b"m" * 100, headers={"Location": "/elsewhere.pt"})
    http_server.add("/elsewhere.pt", b"e" * 100)
    session = make_session()
    try:
        response = open_url(session, http_server.url("/m.pt"), None)
        assert response.status_code == 200 and response.content == b"m" * 100
        response.close()
    finally:
        session.close()
    assert http_server.requests_for("/elsewhere.pt") == []


def test_a_redirect_from_http_up_to_https_is_followed_with_the_https_hosts_token(
    tls_server, http_server, monkeypatch
):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they would override the session's own trust
        monkeypatch.delenv(name, raising=False)
    secure = tls_server.url("/m.pt")
    tls_server.add("/m.pt", b"s" * 100)
    http_server.add("/m.pt", b"", redirect_to=secure)
    credentials.set_token(normalise_host(secure), "s3cret")
    session = make_session()
    session.verify = str(tls_server.cert)
    try:
        response = open_url(session, http_server.url("/m.pt"), TokenCache())
        assert response.status_code == 200 and response.content == b"s" * 100
        response.close()
    finally:
        session.close()
    (request,) = tls_server.requests_for("/m.pt")
    assert request.headers.get("authorization") == "Bearer s3cret"


def test_a_request_is_sent_once_the_engine_alone_decides_on_another_try():
    # A server that takes each connection and closes it unanswered: the session itself never tries again
    # (requests and urllib3 would, for a HEAD or a GET); the transfer's retry policy counts every attempt.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    accepted = []
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)
            conn.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        check = check_link(f"http://127.0.0.1:{listener.getsockname()[1]}/m.pt", timeout=5)
    finally:
        done.set()
        server.join(10)
        listener.close()
    assert (check.status, check.error) == (None, "connection dropped by the server")
    assert len(accepted) == 1


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_read_blocked_on_a_connection_is_woken_by_a_shutdown(tls_server, http_server, monkeypatch, scheme):
    # Pause and cancel shut the session's sockets down to wake the connections at once: plain and https
    # connections are tracked alike. The server stalls far longer than the test's hang guard.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    server = tls_server if scheme == "https" else http_server
    server.add("/m.pt", b"m" * 100_000, stall_after=10, stall_seconds=600)
    session = make_session()
    session.verify = str(tls_server.cert)
    outcome = []

    def read(response):
        try:
            outcome.append(len(response.content))
        except Exception as exc:  # the read cut short, whatever requests calls it
            outcome.append(exc)

    try:
        response = open_url(session, server.url("/m.pt"), None, timeout=(5.0, 600.0))
        reader = threading.Thread(target=read, args=(response,), daemon=True)
        reader.start()
        shutdown_connections(session)
        reader.join(60)  # a hang guard: without the shutdown the read waits for the server's 600 s
        assert not reader.is_alive(), f"the shutdown did not reach the {scheme} connection"
    finally:
        session.close()
    [result] = outcome
    assert isinstance(result, Exception)
