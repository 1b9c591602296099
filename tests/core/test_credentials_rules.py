"""What a user reads when the keyring cannot be used, in each way it can fail, and how the token cache
remembers why there was no token. Keyring backends that fail on purpose stand in for a locked, broken
or silent system keyring (the real one, locked and silent, is tested in test_secret_service.py)."""

from __future__ import annotations

import threading

import keyring
import keyring.backend
import keyring.errors
import pytest

from ofa_manager.core import credentials
from ofa_manager.core.credentials import KeyringLocked, KeyringUnavailable, TokenCache

TOKEN = "tok-3c1d"


class FailingKeyring(keyring.backend.KeyringBackend):
    """A keyring backend whose every call raises ``error`` (after noting who asked for what)."""

    priority = 1

    def __init__(self, error: BaseException | None = None) -> None:
        super().__init__()
        self.error = error
        self.asked: list[tuple[str, str]] = []
        self.threads: list[threading.Thread] = []
        self.passwords: dict[tuple[str, str], str] = {}

    def _fail(self, service: str, username: str) -> None:
        self.asked.append((service, username))
        self.threads.append(threading.current_thread())
        if self.error is not None:
            raise self.error

    def get_password(self, service, username):
        self._fail(service, username)
        return self.passwords.get((service, username))

    def set_password(self, service, username, password):
        self._fail(service, username)
        self.passwords[(service, username)] = password

    def delete_password(self, service, username):
        self._fail(service, username)
        raise keyring.errors.PasswordDeleteError("not found")


@pytest.fixture
def failing_keyring():
    previous = keyring.get_keyring()

    def install(error=None) -> FailingKeyring:
        backend = FailingKeyring(error)
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (keyring.errors.NoKeyringError("none"), KeyringUnavailable, credentials.NO_BACKEND),
        (keyring.errors.KeyringLocked("locked"), KeyringLocked, credentials.LOCKED),
        (keyring.errors.InitError("no collection"), KeyringLocked, credentials.NO_COLLECTION),
        (
            keyring.errors.KeyringError("D-Bus said no"),
            KeyringUnavailable,
            "the system keyring refused: D-Bus said no",
        ),
    ],
)
def test_each_keyring_failure_reads_in_its_own_words(failing_keyring, error, kind, message):
    failing_keyring(error)
    for call in (
        lambda: credentials.get_token("a.example.org"),
        lambda: credentials.set_token("a.example.org", TOKEN),
        lambda: credentials.delete_token("a.example.org"),
    ):
        with pytest.raises(KeyringUnavailable) as raised:
            call()
        assert type(raised.value) is kind
        assert str(raised.value) == message
        assert raised.value.__cause__ is None and raised.value.__suppress_context__
    problem = credentials.keyring_problem()
    assert type(problem) is kind and str(problem) == message


def test_the_words_name_what_to_do():
    assert "locked" in credentials.LOCKED and "unlock it" in credentials.LOCKED
    assert "no collection" in credentials.NO_COLLECTION
    assert "no system keyring is available" in credentials.NO_BACKEND


def test_a_token_that_is_not_there_deletes_as_false_not_an_error(failing_keyring):
    backend = failing_keyring()
    assert credentials.delete_token("https://A.Example.org:443/x") is False
    assert backend.asked == [("ofa-manager", "a.example.org")]


def test_tokens_are_kept_under_the_apps_service_and_the_normalised_host(failing_keyring):
    backend = failing_keyring()
    credentials.set_token("HTTPS://Files.Example.org:8443/path", TOKEN)
    assert backend.passwords == {("ofa-manager", "files.example.org:8443"): TOKEN}
    assert credentials.get_token("files.example.org:8443") == TOKEN


def test_the_keyring_probe_asks_for_a_host_that_cannot_exist(failing_keyring):
    # The probe must never read (or prompt for) a real server's token: .invalid is reserved (RFC 2606).
    backend = failing_keyring()
    assert credentials.keyring_problem() is None
    assert backend.asked == [("ofa-manager", "ofa-manager.invalid")]


def test_the_cache_remembers_why_there_was_no_token_per_host(failing_keyring):
    backend = failing_keyring(keyring.errors.KeyringLocked("locked"))
    cache = TokenCache()
    assert cache.token_for("https://A.Example.org/x.pt") is None
    assert cache.problem_for("a.example.org") == credentials.LOCKED
    assert cache.problem_for("https://a.example.org:443/") == credentials.LOCKED
    assert cache.problem_for("b.example.org") is None
    # Asked once per host and session, even though it failed.
    assert cache.token_for("https://a.example.org/y.pt") is None
    assert backend.asked == [("ofa-manager", "a.example.org")]


def test_the_cache_has_no_problem_to_tell_when_the_keyring_answered(failing_keyring):
    backend = failing_keyring()
    backend.passwords[("ofa-manager", "a.example.org")] = TOKEN
    cache = TokenCache()
    assert cache.token_for("https://a.example.org/x.pt") == TOKEN
    assert cache.token_for("https://b.example.org/x.pt") is None
    assert cache.problem_for("a.example.org") is None and cache.problem_for("b.example.org") is None
    assert cache.token_for("https://a.example.org/z.pt") == TOKEN
    assert backend.asked == [("ofa-manager", "a.example.org"), ("ofa-manager", "b.example.org")]


def test_a_keyring_call_runs_on_a_daemon_thread_that_is_not_the_engines(failing_keyring):
    # A call stuck on a silent keyring is left behind: it must not keep the process alive at exit (a
    # daemon) nor count as an engine thread the window waits for (those are named "ofa-...").
    backend = failing_keyring()
    credentials.get_token("a.example.org")
    (thread,) = backend.threads
    assert thread is not threading.main_thread()
    assert thread.daemon is True
    assert thread.name == "keyring-call"


class SilentKeyring(FailingKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service, username):
        self._fail(service, username)
        # Answers only when the test lets it; the bound only ends a call that a broken _call would wait
        # for for ever (the test then fails instead of hanging).
        self.release.wait(timeout=60)


def test_a_keyring_that_does_not_answer_is_given_up_on_and_named(monkeypatch):
    monkeypatch.setattr(credentials, "TIMEOUT_S", 0.6)
    backend = SilentKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        with pytest.raises(KeyringLocked) as raised:
            credentials.get_token("a.example.org")
        assert str(raised.value) == (
            "the system keyring did not answer within 1 s (is an unlock prompt waiting?); "
            "no token was read or stored"
        )
        (thread,) = backend.threads
        assert thread.is_alive() and thread.daemon
    finally:
        backend.release.set()
        keyring.set_keyring(previous)
    thread.join()
