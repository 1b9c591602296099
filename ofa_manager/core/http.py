"""HTTP plumbing shared by transfers and link checks: sessions, per-host tokens, redirects, errors."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection

from ofa_manager import __version__
from ofa_manager.core.catalog import redact_text
from ofa_manager.core.credentials import NO_BACKEND, TokenCache
from ofa_manager.core.hosts import normalise_host

USER_AGENT = f"ofa-manager/{__version__}"
MAX_REDIRECTS = 10
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})
WEB_PAGE_TYPES = ("text/html", "application/xml", "text/xml", "application/xhtml")
# What a refusal (401, 403) means for the token, noted per response by request() for _refusal().
_TOKEN_HINTS: weakref.WeakKeyDictionary[requests.Response, str] = weakref.WeakKeyDictionary()


class HttpStatusError(Exception):
    """A final answer from the server that is not the file: the status is in the message."""

    def __init__(self, status: int, reason: str, retry_after: float | None = None) -> None:
        super().__init__(redact_text(f"{status} {reason}".strip()))
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUS or 500 <= self.status < 600


class _TrackingAdapter(requests.adapters.HTTPAdapter):
    """Remembers the connections it opens, so that an abort can shut their sockets down at once."""

    def __init__(self, *args, **kwargs) -> None:
        self.connections: weakref.WeakSet = weakref.WeakSet()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        adapter = self

        class TrackedHTTPConnection(urllib3.connection.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                with adapter.connections_lock:
                    adapter.connections.add(self)

        class TrackedHTTPSConnection(urllib3.connection.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                with adapter.connections_lock:
                    adapter.connections.add(self)

        class HTTPPool(urllib3.HTTPConnectionPool):
            ConnectionCls = TrackedHTTPConnection

        class HTTPSPool(urllib3.HTTPSConnectionPool):
            ConnectionCls = TrackedHTTPSConnection

        self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    def shutdown_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def shutdown_connections(session: requests.Session) -> None:
    """Wake every request of this session blocked on the network (it then fails and ends)."""
    for adapter in set(session.adapters.values()):
        if isinstance(adapter, _TrackingAdapter):
            adapter.shutdown_connections()


def make_session(pool: int = 20) -> requests.Session:
    """A session with a connection pool big enough for every segment of a transfer."""
    session = requests.Session()
    adapter = _TrackingAdapter(pool_connections=4, pool_maxsize=pool, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Identity encoding keeps byte offsets equal to file offsets, which ranges rely on.
    session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    return session


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds, from a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def open_url(
    session: requests.Session,
    url: str,
    tokens: TokenCache | None,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: tuple[float, float] = (15.0, 30.0),
) -> requests.Response:
    """Send a request, following redirects by hand so that a host's token goes to that host only."""
    secure_start = urlsplit(url).scheme == "https"
    for _ in range(MAX_REDIRECTS + 1):
        sent = dict(headers or {})
        # A redirect from https down to plain http would show the token to anyone on the path.
        downgraded = secure_start and urlsplit(url).scheme != "https"
        token = tokens.token_for(url) if tokens and not downgraded else None
        if token:
            sent["Authorization"] = f"Bearer {token}"
        response = session.request(
            method, url, headers=sent, stream=True, timeout=timeout, allow_redirects=False
        )
        if response.is_redirect and "location" in response.headers:
            target = urljoin(url, response.headers["location"])
            response.close()
            if urlsplit(target).scheme not in ("http", "https"):
                raise HttpStatusError(response.status_code, f"redirect to unsupported URL {target}")
            url = target
            continue
        if response.status_code in (401, 403):
            host = normalise_host(url)
            _TOKEN_HINTS[response] = token_hint(response.status_code, host, bool(token), tokens)
        return response
    raise HttpStatusError(310, "too many redirects")


def token_hint(status: int, host: str, sent: bool, tokens: TokenCache | None) -> str:
    """What a refusal (401, 403) means for the user's token for ``host``, in a few words."""
    if sent:
        return f"the token stored for {host} was refused"
    problem = tokens.problem_for(host) if tokens is not None else None
    if problem == NO_BACKEND:
        return f"no token for {host}: no system keyring is available to keep one"
    if problem:
        return f"no token for {host} could be read: {problem}"
    store = f"ofa-manager login {host}, or Settings > Tokens in the window"
    if status == 401:
        return f"{host} wants a token: store one with {store}"
    return f"no token is stored for {host}; if it needs one, store it with {store}"


def _refusal(response: requests.Response) -> str:
    """The status line, with what it means for the token where the server refused access."""
    text = f"{response.status_code} {response.reason or ''}".strip()
    hint = _TOKEN_HINTS.get(response, "")
    return f"{text} ({hint})" if hint else text


def is_web_page(response: requests.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    return content_type.startswith(WEB_PAGE_TYPES)


def compression_of(response: requests.Response, filename: str = "") -> str | None:
    """The compression a server applied to the body ("gzip"…), or None when the bytes are the file's.

    Requests ask for ``Accept-Encoding: identity``; a server or proxy may compress anyway, and such a
    body is not the checkpoint (nor can a byte range of it be decoded alone). A ``.gz`` file labelled
    gzip is the exception: servers label such files so (Apache's AddEncoding), and its bytes are the file.
    """
    value = response.headers.get("content-encoding", "").strip().lower()
    if value in ("", "identity", "none"):
        return None
    if value in ("gzip", "x-gzip") and filename.lower().endswith((".gz", ".tgz")):
        return None
    return value


def raise_for_status(response: requests.Response) -> None:
    if response.status_code >= 400:
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        reason = _refusal(response).removeprefix(str(response.status_code)).strip()
        response.close()
        raise HttpStatusError(response.status_code, reason, retry_after)


@dataclass
class LinkCheck:
    """What a HEAD request said about a URL, without fetching the body."""

    url: str
    status: int | None
    size: int | None = None
    etag: str | None = None
    accepts_ranges: bool = False
    error: str | None = None
    crc64: int | None = None  # the object store's own CRC-64 (x-oss-hash-crc64ecma), when sent

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 400

    def fingerprints(self):
        """Size, CRC-64 and content MD5 (a single-part ETag) as core.fingerprints compares them."""
        from ofa_manager.core.fingerprints import ServerFingerprints, md5_of_etag

        md5 = md5_of_etag(self.etag)
        return ServerFingerprints(size=self.size, crc64=self.crc64, md5=md5, etag=self.etag)


def check_link(
    url: str,
    *,
    session: requests.Session | None = None,
    tokens: TokenCache | None = None,
    timeout: float = 15.0,
) -> LinkCheck:
    """HEAD a URL; errors become a readable ``error`` rather than exceptions."""
    own = session is None
    session = session or make_session(4)
    try:
        response = open_url(session, url, tokens, method="HEAD", timeout=(timeout, timeout))
        response.close()
        length = response.headers.get("content-length")
        result = LinkCheck(
            url=url,
            status=response.status_code,
            size=int(length) if length and length.isdigit() else None,
            etag=response.headers.get("etag"),
            accepts_ranges=response.headers.get("accept-ranges", "").lower() == "bytes",
            crc64=_crc_header(response),
        )
        if response.status_code >= 400:
            result.error = redact_text(_refusal(response))
        elif is_web_page(response):
            result.error = "the server returned a web page, not a file"
        return result
    except HttpStatusError as exc:
        return LinkCheck(url=url, status=exc.status, error=str(exc))
    except requests.RequestException as exc:
        return LinkCheck(url=url, status=None, error=describe_network_error(exc))
    finally:
        if own:
            session.close()


def _crc_header(response: requests.Response) -> int | None:
    from ofa_manager.core.fingerprints import CRC_HEADER, parse_crc

    return parse_crc(response.headers.get(CRC_HEADER))


def describe_network_error(exc: BaseException) -> str:
    """A one-line reason for a network failure, without the stack of wrapped exceptions or credentials."""
    return redact_text(_network_error_reason(exc))


def _network_error_reason(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc).lower():
        return "no data received before the stall timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS/SSL error"
    text = str(exc)
    if "Name or service not known" in text or "getaddrinfo" in text or "nodename nor servname" in text:
        url = getattr(getattr(exc, "request", None), "url", "") or ""
        return f"host not found ({normalise_host(url) or 'unknown'})"
    if "Connection refused" in text:
        return "connection refused"
    if "Connection reset" in text or "RemoteDisconnected" in text or "aborted" in text.lower():
        return "connection dropped by the server"
    if "IncompleteRead" in text or "Connection broken" in text:
        return "connection dropped mid-transfer"
    return text.splitlines()[0][:200] if text else type(exc).__name__
