"""Tokens per host, kept only in the system keyring (never in a settings file, never logged)."""

from __future__ import annotations

import threading

import keyring
import keyring.errors

from ofa_manager.core.hosts import normalise_host

SERVICE = "ofa-manager"
NO_BACKEND = (
    "no system keyring is available (no Secret Service, KWallet, macOS Keychain or Windows Credential "
    "Locker was found), so tokens cannot be stored; downloads that need no token still work"
)


LOCKED = (
    "the system keyring is locked and was not unlocked (unlock it, for example by logging in to the desktop "
    "or in your keyring app, and try again); no token was read or stored"
)
NO_COLLECTION = (
    "the system keyring has no collection to keep tokens in and could not create one (its password "
    "prompt was dismissed or cannot be shown); no token was read or stored"
)
# Long enough to type a password into the keyring's own unlock prompt; a keyring that has not answered by
# then is taken as unavailable rather than left to freeze a download or a command.
TIMEOUT_S = 120.0


class KeyringUnavailable(RuntimeError):
    """The system has no usable keyring backend."""


class KeyringLocked(KeyringUnavailable):
    """A keyring exists but refused to open: locked, its unlock prompt dismissed, or it did not answer."""


def _call(func, *args):
    """Run one keyring call in a thread of its own, so that a keyring that never answers (a Secret
    Service stuck on D-Bus) cannot hang the caller: after ``TIMEOUT_S`` it counts as unavailable."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = func(*args)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    # Not an "ofa-" thread: one stuck on a silent keyring is left behind on purpose (it holds nothing).
    thread = threading.Thread(target=run, name="keyring-call", daemon=True)
    thread.start()
    thread.join(TIMEOUT_S)
    if thread.is_alive():
        raise KeyringLocked(
            f"the system keyring did not answer within {TIMEOUT_S:.0f} s (is an unlock prompt waiting?); "
            "no token was read or stored"
        )
    error = outcome.get("error")
    if not isinstance(error, BaseException):
        return outcome.get("value")
    try:
        raise error
    except keyring.errors.NoKeyringError:
        raise KeyringUnavailable(NO_BACKEND) from None
    except keyring.errors.PasswordDeleteError:
        raise  # no such token: delete_token() answers False
    except keyring.errors.KeyringLocked:
        raise KeyringLocked(LOCKED) from None
    except keyring.errors.InitError:
        # No collection yet and no way to make one: the prompt that would ask for its password was
        # dismissed (or cannot be shown).
        raise KeyringLocked(NO_COLLECTION) from None
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"the system keyring refused: {exc}") from None


def get_token(host: str) -> str | None:
    return _call(keyring.get_password, SERVICE, normalise_host(host))


def set_token(host: str, token: str) -> None:
    _call(keyring.set_password, SERVICE, normalise_host(host), token)


def delete_token(host: str) -> bool:
    """Remove the token; False when there was none."""
    try:
        _call(keyring.delete_password, SERVICE, normalise_host(host))
    except keyring.errors.PasswordDeleteError:
        return False
    return True


def keyring_problem() -> KeyringUnavailable | None:
    """Why tokens cannot be read or stored now (no backend, or a locked keyring); None when they can."""
    try:
        get_token("ofa-manager.invalid")
    except KeyringUnavailable as exc:
        return exc
    return None


class TokenCache:
    """Looks each host up once per session; a missing keyring means 'no token', not an error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, str | None] = {}
        self._problems: dict[str, str] = {}

    def token_for(self, url: str) -> str | None:
        host = normalise_host(url)
        with self._lock:
            if host not in self._tokens:
                try:
                    self._tokens[host] = get_token(host)
                except KeyringUnavailable as exc:
                    self._tokens[host] = None
                    self._problems[host] = str(exc)
            return self._tokens[host]

    def problem_for(self, host: str) -> str | None:
        """Why no token could be read for ``host`` (a locked keyring…), if that is why there is none."""
        with self._lock:
            return self._problems.get(normalise_host(host))
