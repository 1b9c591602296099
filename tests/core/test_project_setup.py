"""core.project_setup (what Apply acts on, links in bulk) and Catalog.tree_path: plain Python, real files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ofa_manager.core import linking
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.library import Library
from ofa_manager.core.linking import Outcome
from ofa_manager.core.project_setup import LinkRequest, make_links, plan_apply, requests_for, to_download
from ofa_manager.core.transfer import Transfer
from tests.catalogs import entry, fast_options, payload, sha256, write_catalog

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "project"


def fetch(library, entry) -> None:
    Transfer(library, entry, fast_options()).run()


def test_apply_plans_catalog_rows_not_linked_and_never_a_present_one(tmp_path, http_server):
    http_server.add("/ofa_large.pt", payload(20_000, 1))
    rows = [
        entry("ofa-large", http_server.url("/ofa_large.pt"), sha256=sha256(payload(20_000, 1))),
        entry("ofa-base", "https://h/ofa_base.pt"),
    ]
    for entry_id, alias in (
        ("refcoco-adapter", "refcoco_adapter.pt"),
        ("refcocog-adapter", "refcocog_adapter.pt"),
    ):
        row = entry(entry_id, f"https://h/{entry_id}.pt")
        row["aliases"] = [alias]
        rows.append(row)
    catalog = load_catalog([write_catalog(tmp_path / "c.json", rows)])
    (tmp_path / "models").mkdir()
    library = Library(tmp_path / "models", catalog)
    fetch(library, catalog.get("ofa-large"))
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    checkpoints = project / "OFA" / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / "ofa_base.pt").write_bytes(b"a user's own")
    os.symlink(tmp_path / "models" / "refcocog-adapter.pt", checkpoints / "refcocog_adapter.pt")

    plan = plan_apply(linking.scan(project, catalog, library), catalog)
    planned = {(r.entry.id, r.name) for r in plan.links}
    assert planned == {
        ("ofa-large", "ofa_large.pt"),
        ("refcoco-adapter", "refcoco_adapter.pt"),
        ("refcocog-adapter", "refcocog_adapter.pt"),  # our link to a file not here yet: made again after
    }
    assert all(r.folder == checkpoints for r in plan.links)
    assert [e.id for e in to_download(library, plan.links)] == ["refcoco-adapter", "refcocog-adapter"]

    results = {r.entry_id: r for r in make_links(library, plan.links, "symlink")}
    assert results["ofa-large"].outcome is Outcome.CREATED
    assert results["refcoco-adapter"].outcome is Outcome.NOT_HERE
    assert (checkpoints / "ofa_base.pt").read_bytes() == b"a user's own"


def test_requests_for_a_name_only_with_one_checkpoint_and_a_bad_name_is_one_failed_result(
    tmp_path, http_server
):
    http_server.add("/a.pt", b"a" * 5000)
    catalog = load_catalog(
        [
            write_catalog(
                tmp_path / "c.json", [entry("a", http_server.url("/a.pt")), entry("b", "https://h/b.pt")]
            )
        ]
    )
    (tmp_path / "models").mkdir()
    library = Library(tmp_path / "models", catalog)
    fetch(library, catalog.get("a"))
    assert [r.name for r in requests_for(catalog, tmp_path / "p")] == ["a.pt", "b.pt"]
    try:
        requests_for(catalog, tmp_path / "p", "x.pt")
    except ValueError as exc:
        assert "one checkpoint" in str(exc)
    else:
        raise AssertionError("a name for two checkpoints was accepted")
    bad = LinkRequest(catalog.get("a"), tmp_path / "p", "../a.pt")
    good = LinkRequest(catalog.get("a"), tmp_path / "p", "a-link.pt")
    first, second = make_links(library, [bad, good], "copy")
    assert first.outcome is Outcome.FAILED and "plain file name" in first.reason
    assert second.outcome is Outcome.CREATED and (tmp_path / "p" / "a-link.pt").read_bytes() == b"a" * 5000


def test_tree_path_puts_each_catalog_under_its_title_when_there_are_several(tmp_path):
    one = write_catalog(
        tmp_path / "one.json", [entry("a", "https://h/a.pt", group=["Backbones"])], title="One"
    )
    two = write_catalog(
        tmp_path / "two.json",
        [entry("b", "https://h/b.pt", group=["Two", "Grounding"]), entry("c", "https://h/c.pt", group=["X"])],
        title="Two",
    )
    alone = load_catalog([one])
    assert alone.tree_path(alone.get("a")) == ("Backbones",)
    both = load_catalog([one, two])
    assert both.tree_path(both.get("a")) == ("One", "Backbones")
    assert both.tree_path(both.get("b")) == ("Two", "Grounding")  # imported groups start with the title
    assert both.tree_path(both.get("c")) == ("Two", "X")
