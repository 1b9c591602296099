"""`login`, `logout` and `mirror`, in this process (the keyring is the in-memory one of tests/conftest.py):
what each stores or removes, the words printed, the refusals and their exit code."""

from __future__ import annotations

import io
import json

import pytest

from ofa_manager.core import settings
from tests.catalogs import entry, run_cli, write_catalog
from tests.scenes import Terminal


def test_login_reads_a_piped_token_and_logout_removes_it(capsys, monkeypatch, memory_keyring):
    monkeypatch.setattr("sys.stdin", io.StringIO("  s3cret \n"))
    code, out, err = run_cli(capsys, "login", "https://Bucket.example:8443/path")
    assert code == 0, err
    assert out == "token for bucket.example:8443 stored in the system keyring\n"
    assert list(memory_keyring.passwords.values()) == ["s3cret"]
    code, out, _ = run_cli(capsys, "logout", "bucket.example:8443")
    assert code == 0 and out == "token for bucket.example:8443 removed from the system keyring\n"
    assert memory_keyring.passwords == {}
    code, out, _ = run_cli(capsys, "logout", "bucket.example:8443")
    assert code == 0 and out == "no token was stored for bucket.example:8443\n"


def test_login_on_a_terminal_asks_without_showing_the_token(capsys, monkeypatch, memory_keyring):
    monkeypatch.setattr("sys.stdin", Terminal(""))
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "typed")
    code, out, _ = run_cli(capsys, "login", "bucket.example")
    assert code == 0 and asked == ["Token for bucket.example (not shown): "]
    assert list(memory_keyring.passwords.values()) == ["typed"]


def test_an_empty_token_stores_nothing(capsys, monkeypatch, memory_keyring):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, out, err = run_cli(capsys, "login", "bucket.example")
    assert code == 2 and out == "" and err == "ofa-manager: error: no token given; nothing stored\n"
    assert memory_keyring.passwords == {}


@pytest.mark.parametrize("command", ["login", "logout"])
def test_a_host_that_is_not_one_is_a_usage_error(capsys, monkeypatch, command):
    monkeypatch.setattr("sys.stdin", io.StringIO("t\n"))
    code, out, err = run_cli(capsys, command, ":8443")
    assert code == 2 and out == "" and err.startswith("ofa-manager: error: ") and err.count("\n") == 1


# -- mirror ---------------------------------------------------------------------------------------------


@pytest.fixture
def catalog(tmp_path):
    path = write_catalog(tmp_path / "c.json", [entry("a", "https://bucket.example/ckpt/a.pt")])
    return ["--catalog", str(path)]


def test_mirror_add_list_and_remove(capsys, catalog):
    code, out, _ = run_cli(capsys, *catalog, "mirror")
    assert code == 0 and out == "no mirror rules: every URL is fetched as the catalog gives it\n"
    code, out, err = run_cli(
        capsys, *catalog, "mirror", "add", "https://bucket.example/ckpt/", "http://cache.lab:8080/"
    )
    saved = settings.config_dir() / "settings.json"
    assert code == 0 and err == ""
    assert out == (
        "URLs starting with https://bucket.example/ckpt/ are now fetched from http://cache.lab:8080/ "
        f"(saved in {saved})\n"
    )
    assert settings.load().rewrite_rules == [["https://bucket.example/ckpt/", "http://cache.lab:8080/"]]
    code, out, _ = run_cli(capsys, *catalog, "mirror", "list")
    assert code == 0 and out == "https://bucket.example/ckpt/ -> http://cache.lab:8080/\n"
    code, out, _ = run_cli(capsys, *catalog, "mirror", "list", "--json")
    assert out.startswith('[\n  {\n    "prefix"')
    assert json.loads(out) == [{"prefix": "https://bucket.example/ckpt/", "url": "http://cache.lab:8080/"}]
    code, out, _ = run_cli(capsys, *catalog, "mirror", "remove", "https://bucket.example/ckpt/")
    assert code == 0 and out == f"mirror rule for https://bucket.example/ckpt/ removed (saved in {saved})\n"
    assert settings.load().rewrite_rules == []


def test_a_prefix_no_catalog_url_starts_with_is_saved_with_a_note(capsys, catalog):
    code, out, err = run_cli(capsys, *catalog, "mirror", "add", "https://other.example/", "http://cache.lab/")
    assert code == 0 and out.startswith("URLs starting with https://other.example/ are now fetched from ")
    assert err == "note: no URL in the catalog starts with https://other.example/; check the prefix\n"
    assert len(settings.load().rewrite_rules) == 1


def test_a_bad_rule_changes_nothing(capsys, catalog):
    code, out, err = run_cli(capsys, *catalog, "mirror", "add", "not a url", "http://cache.lab/")
    assert code == 2 and out == "" and err.startswith("ofa-manager: error: ")
    assert err.endswith("; no rule changed\n")
    code, out, err = run_cli(capsys, *catalog, "mirror", "remove", "https://never.example/")
    assert code == 2 and err.endswith("; no rule changed\n")
    assert settings.load().rewrite_rules == []


def test_without_a_keyring_login_says_so_before_asking(capsys, monkeypatch):
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # the memory keyring fixture puts the previous one back
    asked = []
    monkeypatch.setattr("sys.stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "typed")
    code, out, err = run_cli(capsys, "login", "bucket.example")
    assert code == 2 and out == "" and asked == []
    assert err.startswith("ofa-manager: no system keyring is available (") and err.count("\n") == 1
    assert err.endswith("so tokens cannot be stored; downloads that need no token still work\n")
