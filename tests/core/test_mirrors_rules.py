"""The mirror rules as `mirror add / remove` and the Settings dialog store them, each refusal in its words,
the addresses a download tries in order, and the bucket prefixes the dialog offers for a lab cache."""

from __future__ import annotations

import pytest

from ofa_manager.core import mirrors
from ofa_manager.core.mirrors import MirrorRuleError, Source, bucket_prefixes, checked_rule, rewrite
from tests.catalogs import entry, load, write_catalog

BUCKET = "https://bucket.example.org/"
CACHE = "http://cache.lab:8080/"


@pytest.mark.parametrize(
    ("url", "rules", "fetched"),
    [
        ("https://bucket.example.org/ofa/x.pt", [[BUCKET, CACHE]], "http://cache.lab:8080/ofa/x.pt"),
        ("https://other.example.org/x.pt", [[BUCKET, CACHE]], "https://other.example.org/x.pt"),
        # The first rule that matches wins; an empty prefix matches nothing.
        (
            "https://bucket.example.org/ofa/x.pt",
            [["", "http://never/"], [BUCKET + "ofa/", "http://first/"], [BUCKET, "http://second/"]],
            "http://first/x.pt",
        ),
        ("https://bucket.example.org/x.pt", [], "https://bucket.example.org/x.pt"),
    ],
)
def test_a_url_is_fetched_through_the_first_rule_whose_prefix_it_starts_with(url, rules, fetched):
    assert rewrite(url, rules) == fetched


def test_sources_are_the_link_then_its_mirrors_then_those_of_entries_sharing_its_file(tmp_path):
    catalog = load(
        write_catalog(
            tmp_path / "c.json",
            [
                entry("a", BUCKET + "x.pt", mirrors=["https://m1.example.org/x.pt"]),
                entry("b", BUCKET + "x.pt", mirrors=["https://m2.example.org/x.pt", BUCKET + "x.pt"]),
                entry("c", BUCKET + "y.pt", mirrors=["https://m3.example.org/y.pt"]),
            ],
        )
    )
    a = catalog.get("a")
    assert mirrors.sources(a, catalog) == [
        Source(BUCKET + "x.pt", BUCKET + "x.pt", False),
        Source("https://m1.example.org/x.pt", "https://m1.example.org/x.pt", True),
        Source("https://m2.example.org/x.pt", "https://m2.example.org/x.pt", True),
    ]
    # A mirror rewritten to an address already tried comes once, as it came first.
    rules = [("https://m1.example.org/", BUCKET)]
    assert mirrors.sources(a, catalog, iter(rules)) == [
        Source(BUCKET + "x.pt", BUCKET + "x.pt", False),
        Source("https://m2.example.org/x.pt", "https://m2.example.org/x.pt", True),
    ]


@pytest.mark.parametrize(
    ("prefix", "url", "stored"),
    [
        (BUCKET, "http://cache.lab:8080", (BUCKET, CACHE)),  # a "/" added to match the prefix
        ("https://bucket.example.org", CACHE, ("https://bucket.example.org", "http://cache.lab:8080")),
        (
            "https://bucket.example.org",
            "http://cache.lab:8080//",
            ("https://bucket.example.org", "http://cache.lab:8080"),
        ),
        (f"  {BUCKET}  ", f" {CACHE} ", (BUCKET, CACHE)),
        (
            BUCKET + "ofa/",
            "https://mirror.example.org/ofa/",
            (BUCKET + "ofa/", "https://mirror.example.org/ofa/"),
        ),
        (
            "http://b.example.org:9000/x",
            "https://c.example.org/y",
            ("http://b.example.org:9000/x", "https://c.example.org/y"),
        ),
    ],
)
def test_a_rule_is_stored_with_both_sides_ending_alike(prefix, url, stored):
    assert checked_rule(prefix, url) == stored


@pytest.mark.parametrize(
    ("prefix", "url", "message"),
    [
        (
            "ftp://bucket/",
            CACHE,
            "the URL prefix must be an http:// or https:// address, not 'ftp://bucket/'",
        ),
        (
            "bucket.example.org/",
            CACHE,
            "the URL prefix must be an http:// or https:// address, not 'bucket.example.org/'",
        ),
        ("https:///x/", CACHE, "the URL prefix must be an http:// or https:// address, not 'https:///x/'"),
        (BUCKET, "cache.lab", "the mirror address must be an http:// or https:// address, not 'cache.lab'"),
        (BUCKET + "?a=1", CACHE, f"the URL prefix must not have a query or fragment: {BUCKET + '?a=1'!r}"),
        (BUCKET, CACHE + "#top", f"the mirror address must not have a query or fragment: {CACHE + '#top'!r}"),
        ("https://bucket:99999/", CACHE, "the URL prefix has a bad port: 'https://bucket:99999/'"),
        (BUCKET, "http://cache:port/", "the mirror address has a bad port: 'http://cache:port/'"),
        (BUCKET, "https://bucket.example.org", f"the mirror address is the prefix itself: {BUCKET}"),
        (
            "https://bucket.example.org",
            BUCKET,
            "the mirror address is the prefix itself: https://bucket.example.org",
        ),
    ],
)
def test_a_rule_that_cannot_work_is_refused_saying_why(prefix, url, message):
    with pytest.raises(MirrorRuleError) as refused:
        checked_rule(prefix, url)
    assert str(refused.value) == message


def test_adding_a_rule_replaces_the_one_for_its_prefix_where_it_stands_or_appends_it():
    rules = [[BUCKET, CACHE], ["https://other.example.org/", "http://o/"]]
    replaced = mirrors.with_rule(rules, BUCKET, "http://new.lab")
    assert replaced == [[BUCKET, "http://new.lab/"], ["https://other.example.org/", "http://o/"]]
    assert rules == [[BUCKET, CACHE], ["https://other.example.org/", "http://o/"]]  # not changed in place
    added = mirrors.with_rule(rules, "https://third.example.org/", "http://t.lab/")
    assert added == [*rules, ["https://third.example.org/", "http://t.lab/"]]
    with pytest.raises(MirrorRuleError):
        mirrors.with_rule(rules, "nonsense", CACHE)


def test_removing_a_rule_finds_it_with_or_without_its_final_slash():
    rules = [[BUCKET, CACHE], ["https://other.example.org/x", "http://o/x"]]
    assert mirrors.without_rule(rules, f" {BUCKET} ") == [["https://other.example.org/x", "http://o/x"]]
    assert mirrors.without_rule(rules, "https://bucket.example.org") == [
        ["https://other.example.org/x", "http://o/x"]
    ]
    assert mirrors.without_rule(rules, "https://other.example.org/x/") == [[BUCKET, CACHE]]
    assert rules == [[BUCKET, CACHE], ["https://other.example.org/x", "http://o/x"]]


def test_an_exact_prefix_is_removed_before_one_that_differs_by_its_slash():
    rules = [["https://b.example.org/", "http://one/"], ["https://b.example.org", "http://two"]]
    assert mirrors.without_rule(rules, "https://b.example.org") == [["https://b.example.org/", "http://one/"]]
    assert mirrors.without_rule(rules, "https://b.example.org/") == [["https://b.example.org", "http://two"]]


@pytest.mark.parametrize(
    ("rules", "known"),
    [
        ([[BUCKET, CACHE], ["https://o.example.org/", "http://o/"]], f"{BUCKET}, https://o.example.org/"),
        ([], "none"),
    ],
)
def test_removing_a_rule_that_is_not_there_names_the_rules_there_are(rules, known):
    with pytest.raises(MirrorRuleError) as refused:
        mirrors.without_rule(rules, "https://missing.example.org/")
    assert str(refused.value) == f"no mirror rule for 'https://missing.example.org/' (rules: {known})"


def test_the_bucket_prefixes_are_each_http_servers_root_once_in_order():
    urls = [
        "https://bucket.example.org/ofa/a.pt",
        "http://Other.Example.org:9000/b.pt",
        "https://bucket.example.org/ofa/c.pt",
        "ftp://files.example.org/d.pt",
        "file:///models/e.pt",
        "not a url",
        "http://Other.Example.org:9000/f.pt",
    ]
    assert bucket_prefixes(urls) == ["https://bucket.example.org/", "http://Other.Example.org:9000/"]
    assert bucket_prefixes([]) == []


def test_only_slashes_are_taken_off_the_ends_of_addresses():
    # Addresses whose last letter is an upper-case X: the "/" that ends them, and nothing more, is ignored.
    assert checked_rule("https://b.example.org/BOX", "http://cache.lab/MIRRORX/") == (
        "https://b.example.org/BOX",
        "http://cache.lab/MIRRORX",
    )
    with pytest.raises(MirrorRuleError, match="the mirror address is the prefix itself"):
        checked_rule("https://b.example.org/X", "https://b.example.org/X/")
    with pytest.raises(MirrorRuleError, match="the mirror address is the prefix itself"):
        checked_rule("https://b.example.org/X/", "https://b.example.org/X")
    assert checked_rule("https://b.example.org/X/", "https://b.example.org/") == (
        "https://b.example.org/X/",
        "https://b.example.org/",
    )
    rules = [["https://b.example.org/BOX", "http://cache.lab/BOX"], ["https://c.example.org/", "http://c/"]]
    assert mirrors.without_rule(rules, "https://b.example.org/BOX/") == [
        ["https://c.example.org/", "http://c/"]
    ]
