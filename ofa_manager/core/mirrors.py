"""Where a checkpoint's bytes come from: its sources, and the mirror rules that redirect them.

The rules are the settings' ``rewrite_rules``: URLs that start with a prefix are fetched from another
address (a lab cache, a mirror). The command line (``ofa-manager mirror``) and the Settings dialog both
check and change them through the functions here; downloads, ``check`` and the window's link checks all
take an entry's sources from ``sources``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ofa_manager.core.catalog import Catalog, Checkpoint

Rules = Iterable[Sequence[str]]  # (prefix, replacement) pairs, first match wins


@dataclass(frozen=True)
class Source:
    """One address an entry's file can be fetched from."""

    url: str  # as the catalog gives it
    fetch: str  # as downloads fetch it, after the first matching mirror rule
    mirror: bool  # a mirror, not the published link


def rewrite(url: str, rules: Rules) -> str:
    """The URL as downloads fetch it: the first rule whose prefix it starts with replaces that prefix."""
    for prefix, replacement in rules:
        if prefix and url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def sources(entry: Checkpoint, catalog: Catalog, rules: Rules = ()) -> list[Source]:
    """The published link, then the entry's mirrors, then the mirrors of the entries sharing its file.

    Entries sharing a file (same URL) are one download, so any of their mirrors serves each of them.
    Each fetched address comes once (a mirror may be rewritten to the link itself).
    """
    rules = list(rules)
    candidates = [(entry.url, False), *((m, True) for m in entry.mirrors)]
    candidates += [(m, True) for other in catalog.sharing(entry) for m in other.mirrors]
    out: dict[str, Source] = {}
    for url, mirror in candidates:
        fetch = rewrite(url, rules)
        out.setdefault(fetch, Source(url, fetch, mirror))
    return list(out.values())


class MirrorRuleError(ValueError):
    """A rule that cannot work as given; the message says why."""


def _check_url(text: str, what: str) -> str:
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MirrorRuleError(f"{what} must be an http:// or https:// address, not {text!r}")
    if parts.query or parts.fragment:
        raise MirrorRuleError(f"{what} must not have a query or fragment: {text!r}")
    try:
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError:
        raise MirrorRuleError(f"{what} has a bad port: {text!r}") from None
    return url


def checked_rule(prefix: str, url: str) -> tuple[str, str]:
    """The rule as it is stored, or MirrorRuleError.

    Both sides end in "/" or neither does, so that the rest of a URL joins the replacement the way it
    left the prefix ("https://bucket/" → "http://cache:8080" would give "http://cache:8080checkpoints/…").
    """
    prefix = _check_url(prefix, "the URL prefix")
    url = _check_url(url, "the mirror address")
    if prefix.endswith("/") and not url.endswith("/"):
        url += "/"
    elif url.endswith("/") and not prefix.endswith("/"):
        url = url.rstrip("/")
    if url.rstrip("/") == prefix.rstrip("/"):
        raise MirrorRuleError(f"the mirror address is the prefix itself: {prefix}")
    return prefix, url


def with_rule(rules: list[list[str]], prefix: str, url: str) -> list[list[str]]:
    """The rules with PREFIX → URL: an existing rule for that prefix is replaced where it stands."""
    prefix, url = checked_rule(prefix, url)
    out = [list(rule) for rule in rules]
    for rule in out:
        if rule[0] == prefix:
            rule[1] = url
            return out
    out.append([prefix, url])
    return out


def without_rule(rules: list[list[str]], prefix: str) -> list[list[str]]:
    """The rules without the one for PREFIX (given with or without its final "/")."""
    wanted = prefix.strip()
    out = [list(rule) for rule in rules if rule[0] != wanted]
    if len(out) == len(rules):
        out = [list(rule) for rule in rules if rule[0].rstrip("/") != wanted.rstrip("/")]
    if len(out) == len(rules):
        known = ", ".join(rule[0] for rule in rules) or "none"
        raise MirrorRuleError(f"no mirror rule for {prefix!r} (rules: {known})")
    return out


def bucket_prefixes(urls: list[str]) -> list[str]:
    """The distinct "scheme://host/" of these URLs, in order: what a lab cache rule usually replaces."""
    prefixes = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            prefixes.append(f"{parts.scheme}://{parts.netloc}/")
    return list(dict.fromkeys(prefixes))
