"""Every way of writing a server gives the host its token is stored under, and what is not a host is
refused in words: the edges of the normalisation (ports, case, slashes, users, international names)."""

from __future__ import annotations

import pytest

from ofa_manager.core.hosts import normalise_host, parse_host


@pytest.mark.parametrize(
    ("text", "host"),
    [
        # An empty port is the scheme's default one: the same server as without it.
        ("name:", "name"),
        ("Models.Example.org:", "models.example.org"),
        ("https://Models.Example.org:/x.pt", "models.example.org"),
        ("http://[::1]:/x", "[::1]"),
        # A typed host's trailing slashes go, and only those (upper-case letters stay letters).
        ("MAILBOX/", "mailbox"),
        ("MAILBOX.EXAMPLE.ORG:8443//", "mailbox.example.org:8443"),
        ("HOST-XX", "host-xx"),
        # The scheme in any case; its default port dropped, another kept.
        ("HTTPS://Models.Example.org:443/x", "models.example.org"),
        ("HTTP://models.example.org:80/", "models.example.org"),
        ("https://models.example.org:80/", "models.example.org:80"),
        # A typed host has no scheme, so no port is a default one.
        ("models.example.org:443", "models.example.org:443"),
        ("models.example.org:80", "models.example.org:80"),
        # A user (and password) is never part of the host, typed or in a URL.
        ("someone@Models.Example.org", "models.example.org"),
        ("https://a@b:c@models.example.org:9000/x", "models.example.org:9000"),
        # A numeric host is a name, not a port.
        ("12345", "12345"),
        ("https://12345/x", "12345"),
        ("https://12345:8080/x", "12345:8080"),
        # IPv6 addresses in brackets, with or without a port.
        ("[::1]", "[::1]"),
        ("[::1]:8080", "[::1]:8080"),
        ("https://[FE80::1]:443/x", "[fe80::1]"),
        ("https://[fe80::1]:8443/x", "[fe80::1]:8443"),
        # A port that is no number is left as typed (it matches no server).
        ("models.example.org:http", "models.example.org:http"),
        # International names in their IDNA form, any case; an invalid one kept as typed.
        ("BÜCHER.example:8443", "xn--bcher-kva.example:8443"),
        ("https://Bücher.Example/x", "xn--bcher-kva.example"),
        ("ü" * 70 + ".example", "ü" * 70 + ".example"),
        ("  Models.Example.org  ", "models.example.org"),
    ],
)
def test_a_spelling_of_a_server_normalises_to_its_host(text, host):
    assert normalise_host(text) == host


@pytest.mark.parametrize("text", [":8443", ":", "https://:8443/x", "two words", "tab\there", "a/b"])
def test_a_port_alone_or_a_name_with_spaces_or_slashes_is_not_a_host(text):
    with pytest.raises(ValueError) as refused:
        parse_host(text)
    assert str(refused.value) == (
        f"not a host name: {text!r} (example: ofa-beijing.oss-cn-beijing.aliyuncs.com)"
    )


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("Models.Example.org:", "models.example.org"),
        ("https://models.example.org:9000/x", "models.example.org:9000"),
    ],
)
def test_a_typed_host_is_accepted_as_its_normal_form(text, host):
    assert parse_host(text) == host
