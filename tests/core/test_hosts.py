"""One host normalisation: every way of writing a server finds the token stored for it."""

from __future__ import annotations

import io

import pytest

from ofa_manager import cli
from ofa_manager.core.credentials import TokenCache
from ofa_manager.core.hosts import normalise_host, parse_host
from tests.catalogs import entry, load, write_catalog

TOKEN = "s3cr3t-token-value"


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("https://OFA.Example.org/x.pt", "ofa.example.org"),
        ("https://user:pw@OFA.Example.org:8443/x.pt", "ofa.example.org:8443"),
        ("https://ofa.example.org:443/x.pt", "ofa.example.org"),
        ("http://ofa.example.org:80/x.pt", "ofa.example.org"),
        ("http://ofa.example.org:443/x.pt", "ofa.example.org:443"),
        ("  Ofa.Example.org:9000/ ", "ofa.example.org:9000"),
        ("https://Bücher.example/x", "xn--bcher-kva.example"),
        ("http://[::1]:8080/x", "[::1]:8080"),
        ("", ""),
    ],
)
def test_each_spelling_of_a_server_gives_one_host(text, host):
    assert normalise_host(text) == host


@pytest.mark.parametrize("text", ["", "   ", "a host", "ofa.example.org/checkpoints", "https:///x"])
def test_what_is_not_a_host_is_refused_with_the_reason(text):
    with pytest.raises(ValueError, match="not a host name"):
        parse_host(text)


def test_a_token_stored_by_login_is_found_for_every_spelling_of_its_url(capsys, monkeypatch, memory_keyring):
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    assert cli.main(["login", "https://Models.Example.org:443/"]) == 0
    tokens = TokenCache()
    for url in (
        "https://models.example.org/x.pt",
        "https://MODELS.example.org/y.pt",
        "https://someone:pw@models.example.org:443/z.pt",
    ):
        assert tokens.token_for(url) == TOKEN, url
    assert TokenCache().token_for("https://models.example.org:8443/x.pt") is None


def test_a_checkpoint_names_its_server_as_the_token_is_stored(tmp_path):
    # The window lists the catalog's servers in the settings dialog by this name and stores a token under
    # it: with a capitalised URL, it once listed a host the downloads never looked up.
    catalog = load(write_catalog(tmp_path / "c.json", [entry("x", "https://u:p@Models.Example.org/x.pt")]))
    assert catalog.get("x").host == "models.example.org"
