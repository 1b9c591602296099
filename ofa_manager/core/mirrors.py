"""Mirror rules: URLs that start with a prefix are fetched from another address (a lab cache, a mirror).

The rules are the settings' ``rewrite_rules``; the command line (``ofa-manager mirror``) and the Settings
dialog both check and change them through the functions here.
"""

from __future__ import annotations

from urllib.parse import urlsplit


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
