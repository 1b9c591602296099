"""One rule for an entry's sources: the link, its mirrors, then the mirrors of entries sharing its file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core import settings
from ofa_manager.core.mirrors import Source, rewrite, sources
from tests.catalogs import body_requests, entry, load, payload, write_catalog

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_sources_in_order_each_fetched_address_once(tmp_path):
    catalog = load(
        write_catalog(
            tmp_path / "c.json",
            [
                entry("a", "https://bucket.example/s.pt", mirrors=["https://m1.example/s.pt"]),
                entry("b", "https://bucket.example/s.pt", mirrors=["https://m2.example/s.pt"]),
                entry("c", "https://bucket.example/other.pt", mirrors=["https://m3.example/other.pt"]),
            ],
        )
    )
    a = catalog.get("a")
    assert sources(a, catalog) == [
        Source("https://bucket.example/s.pt", "https://bucket.example/s.pt", False),
        Source("https://m1.example/s.pt", "https://m1.example/s.pt", True),
        Source("https://m2.example/s.pt", "https://m2.example/s.pt", True),
    ]
    # A rule that sends the mirror to the bucket's own cache address makes two sources one.
    rules = [["https://m1.example/", "http://cache.lab/"], ["https://bucket.example/", "http://cache.lab/"]]
    fetched = [s.fetch for s in sources(a, catalog, rules)]
    assert fetched == ["http://cache.lab/s.pt", "https://m2.example/s.pt"]


def test_the_first_matching_rule_wins_and_an_empty_prefix_matches_nothing():
    rules = [["", "http://never/"], ["https://b/x/", "http://one/"], ["https://b/", "http://two/"]]
    assert rewrite("https://b/x/f.pt", rules) == "http://one/f.pt"
    assert rewrite("https://b/y.pt", rules) == "http://two/y.pt"
    assert rewrite("https://c/y.pt", rules) == "https://c/y.pt"


@pytest.fixture
def shared_site(tmp_path, models_dir, http_server):
    """Two entries sharing one file; only the second lists a mirror, and the link itself is gone."""
    data = payload(90_000, 5)
    http_server.add("/mirror/s.pt", data)
    link = http_server.url("/bucket/s.pt")  # never added: 404
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("a", link), entry("b", link, mirrors=[http_server.url("/mirror/s.pt")])],
    )
    return data, ["--dir", str(models_dir), "--catalog", str(catalog)]


def test_check_asks_the_mirror_of_an_entry_sharing_the_file(capsys, shared_site, http_server):
    _, args = shared_site
    code = cli.main([*args, "check", "a", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 1  # the published link is gone, though a mirror serves the file
    assert [row["ok"] for row in rows if not row["mirror"]] == [False]
    mirror = [row for row in rows if row["url"].endswith("/mirror/s.pt")]
    assert mirror and mirror[0]["ok"] and mirror[0]["mirror"] and mirror[0]["ids"] == ["a"]
    assert http_server.requests_for("/mirror/s.pt", "HEAD")


def test_a_download_falls_back_to_the_mirror_of_an_entry_sharing_the_file(capsys, shared_site, http_server):
    data, args = shared_site
    assert cli.main([*args, "download", "a"]) == 0
    assert body_requests(http_server, "/mirror/s.pt")
    assert [p.stat().st_size for p in Path(args[1]).glob("*.pt")] == [len(data)]


def test_check_applies_the_saved_mirror_rules(capsys, shared_site, http_server):
    _, args = shared_site
    saved = settings.load()
    saved.rewrite_rules = [[http_server.url("/bucket/"), http_server.url("/mirror/")]]
    settings.save(saved)
    assert cli.main([*args, "check", "a", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["url"].rsplit("/", 2)[-2] for row in rows] == ["mirror"]
