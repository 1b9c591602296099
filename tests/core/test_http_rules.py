"""A token never leaves https: a redirect from an https URL down to plain http drops it (core/http.py).

The https side is the loopback test server behind TLS, with a certificate made for the test by openssl and
trusted by this session only."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading

import pytest

from ofa_manager.core import credentials
from ofa_manager.core.credentials import TokenCache
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.http import make_session, open_url
from tests.httpserver import _HTTPD, TestServer


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
