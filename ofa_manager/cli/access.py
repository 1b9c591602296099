"""``login``, ``logout`` and ``mirror``: the tokens for a host, the other places a file is fetched from."""

from __future__ import annotations

import json
import sys

from ofa_manager.cli.common import EXIT_OK, UsageError, _catalog
from ofa_manager.core import settings


def _host(text: str) -> str:
    from ofa_manager.core.hosts import parse_host

    try:
        return parse_host(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_login(args) -> int:
    import getpass

    from ofa_manager.core import credentials

    host = _host(args.host)
    # Asked before the token is typed: a missing or locked keyring is said first.
    problem = credentials.keyring_problem()
    if problem is not None:
        raise problem
    if sys.stdin.isatty():
        token = getpass.getpass(f"Token for {host} (not shown): ")
    else:
        token = sys.stdin.readline().strip()
    if not token:
        raise UsageError("no token given; nothing stored")
    credentials.set_token(host, token)
    print(f"token for {host} stored in the system keyring")
    return EXIT_OK


def cmd_logout(args) -> int:
    from ofa_manager.core import credentials

    host = _host(args.host)
    if credentials.delete_token(host):
        print(f"token for {host} removed from the system keyring")
    else:
        print(f"no token was stored for {host}")
    return EXIT_OK


def cmd_mirror(args) -> int:
    from ofa_manager.core import mirrors

    saved = settings.load()
    action = args.mirror_action or "list"
    if action == "list":
        if getattr(args, "json", False):
            print(json.dumps([{"prefix": a, "url": b} for a, b in saved.rewrite_rules], indent=2))
            return EXIT_OK
        if not saved.rewrite_rules:
            print("no mirror rules: every URL is fetched as the catalog gives it")
        for prefix, url in saved.rewrite_rules:
            print(f"{prefix} -> {url}")
        return EXIT_OK
    try:
        if action == "add":
            rules = mirrors.with_rule(saved.rewrite_rules, args.prefix, args.url)
        else:
            rules = mirrors.without_rule(saved.rewrite_rules, args.prefix)
    except mirrors.MirrorRuleError as exc:
        raise UsageError(f"{exc}; no rule changed") from None
    matching = 0
    if action == "add":
        prefix, url = mirrors.checked_rule(args.prefix, args.url)
        matching = sum(u.startswith(prefix) for e in _catalog(args) for u in (e.url, *e.mirrors))
    saved.rewrite_rules = rules
    path = settings.save(saved)
    if action == "add":
        print(f"URLs starting with {prefix} are now fetched from {url} (saved in {path})")
        if not matching:
            # Saved all the same (it may be meant for another catalog), but a typo is the likelier cause.
            print(f"note: no URL in the catalog starts with {prefix}; check the prefix", file=sys.stderr)
    else:
        print(f"mirror rule for {args.prefix} removed (saved in {path})")
    return EXIT_OK
