"""One way to name a server: the key tokens are stored under, and the host messages name.

A host is ``name`` or ``name:port``: lower-case, an international name in its IDNA (``xn--``) form as
it goes on the wire, never a user and password, and without the scheme's default port (``:443`` on
https, ``:80`` on http), so that every way of writing the same server finds the same token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def normalise_host(text: str) -> str:
    """The host of a URL, or a host typed by a user (``Name.Example:8443/``), normalised; "" when none."""
    text = text.strip()
    if "://" in text:
        parts = urlsplit(text)
        scheme, netloc = parts.scheme.lower(), parts.netloc
    else:
        scheme, netloc = "", text.rstrip("/")
    # No user and password; an empty port ("name:") is the scheme's default, as if none was written.
    netloc = netloc.rpartition("@")[2].removesuffix(":")
    # The port is the number after the last ":"; an IPv6 address ends in "]" ("[::1]") or in its port
    # ("[::1]:8080"), so it needs no case of its own.
    name, colon, port = netloc.rpartition(":")
    if not colon or not port.isdigit():
        name, port = netloc, ""
    name = _idna(name.lower())
    return f"{name}:{port}" if port and port != _DEFAULT_PORTS.get(scheme) else name


def parse_host(text: str) -> str:
    """A host a user typed (or a URL): normalised, or ValueError saying what is wrong with it."""
    host = normalise_host(text)
    if not host or "/" in host or any(c.isspace() for c in host) or host.startswith(":"):
        raise ValueError(f"not a host name: {text!r} (example: ofa-beijing.oss-cn-beijing.aliyuncs.com)")
    return host


def _idna(name: str) -> str:
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name  # not a valid international name: kept as typed, it matches no server anyway
