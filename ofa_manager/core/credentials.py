"""Tokens per host, kept only in the system keyring (never in a settings file, never logged)."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import keyring
import keyring.errors

SERVICE = "ofa-manager"
NO_BACKEND = (
    "no system keyring is available (no Secret Service, KWallet, macOS Keychain or Windows Credential "
    "Locker was found), so tokens cannot be stored; downloads that need no token still work"
)


class KeyringUnavailable(RuntimeError):
    """The system has no usable keyring backend."""


def host_of(url: str) -> str:
    """The key a token is stored under: ``host`` or ``host:port``, without a user and password."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()


def _call(func, *args):
    try:
        return func(*args)
    except keyring.errors.NoKeyringError:
        raise KeyringUnavailable(NO_BACKEND) from None
    except keyring.errors.PasswordDeleteError:
        raise  # no such token: delete_token() answers False
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"the system keyring refused: {exc}") from None


def get_token(host: str) -> str | None:
    return _call(keyring.get_password, SERVICE, host.lower())


def set_token(host: str, token: str) -> None:
    _call(keyring.set_password, SERVICE, host.lower(), token)


def delete_token(host: str) -> bool:
    """Remove the token; False when there was none."""
    try:
        _call(keyring.delete_password, SERVICE, host.lower())
    except keyring.errors.PasswordDeleteError:
        return False
    return True


def keyring_available() -> bool:
    try:
        get_token("ofa-manager.invalid")
    except KeyringUnavailable:
        return False
    return True


class TokenCache:
    """Looks each host up once per session; a missing keyring means 'no token', not an error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, str | None] = {}

    def token_for(self, url: str) -> str | None:
        host = host_of(url)
        with self._lock:
            if host not in self._tokens:
                try:
                    self._tokens[host] = get_token(host)
                except KeyringUnavailable:
                    self._tokens[host] = None
            return self._tokens[host]
