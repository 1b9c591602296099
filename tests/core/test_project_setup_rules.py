"""core.project_setup's rules row by row: which scan rows Apply acts on, and what a member of an archive
needs (a download, an unpacking) before its link is made. Real files, the loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest

from ofa_manager.core import archives
from ofa_manager.core.library import Library
from ofa_manager.core.linking import Expected, Outcome
from ofa_manager.core.project_setup import (
    LinkRequest,
    make_links,
    plan_apply,
    requests_for,
    to_download,
    to_unpack,
)
from ofa_manager.core.transfer import Transfer
from tests.archives import GOOD, build_zip
from tests.catalogs import entry, fast_options, load, sha256, write_catalog


def row(path: Path, kind: str, entry_id: str | None, **fields) -> Expected:
    return Expected(path, path.name, path.parent / "run.sh", 1, kind, entry_id, **fields)


def test_apply_acts_only_on_catalog_and_member_rows_not_linked(tmp_path):
    catalog = load(
        write_catalog(
            tmp_path / "c.json",
            [entry("a", "https://h/a.pt"), entry("bundle", "https://h/bundle.zip")],
        )
    )
    ckpt = tmp_path / "project" / "ckpt"
    rows = [
        row(ckpt / "mine.pt", "present", "a"),  # a user's file stands there
        row(ckpt / "out.pt", "produced", "a"),  # the script writes it
        row(ckpt / "odd.pt", "unknown", None),
        row(ckpt / "done.pt", "catalog", "a", linked=True),  # our link is there already
        row(ckpt / "gone.pt", "catalog", "ghost"),  # not in this catalog
        row(ckpt / "nameless.pt", "member", "bundle"),  # a member row that names no member
        row(ckpt / "a.pt", "catalog", "a", member="ignored.pt"),  # a catalog row's member means nothing
        row(ckpt / "clip.pt", "member", "bundle", member="clip/ViT-B-16.pt"),
        row(ckpt / "linked-member.pt", "member", "bundle", member="x.pt", linked=True),
        row(tmp_path / "other" / "last.pt", "catalog", "a"),
    ]
    plan = plan_apply(rows, catalog)
    assert not plan.empty
    assert [(r.entry.id, r.folder, r.name, r.member) for r in plan.links] == [
        ("a", ckpt, "a.pt", None),
        ("bundle", ckpt, "clip.pt", "clip/ViT-B-16.pt"),
        ("a", tmp_path / "other", "last.pt", None),
    ]
    assert plan.links[0].path == ckpt / "a.pt"
    assert plan_apply(rows[:6], catalog).empty


def test_a_member_is_downloaded_then_unpacked_once_and_linked_from_its_folder(
    tmp_path, models_dir, http_server
):
    data = build_zip(list(GOOD.items()))
    http_server.add("/bundle.zip", data)
    http_server.add("/a.pt", b"a" * 3000)
    catalog = load(
        write_catalog(
            tmp_path / "c.json",
            [
                entry("bundle", http_server.url("/bundle.zip"), sha256=sha256(data)),
                entry("a", http_server.url("/a.pt")),
                entry("other-bundle", "https://h/other.zip"),
            ],
        )
    )
    library = Library(models_dir, catalog)
    bundle, plain = catalog.get("bundle"), catalog.get("a")
    project = tmp_path / "project"
    requests = [
        LinkRequest(bundle, project, "clip.pt", "clip/ViT-B-16.pt"),
        LinkRequest(bundle, project, "last.ckpt", "vqgan/last.ckpt"),
        LinkRequest(plain, project, "a.pt"),
    ]
    # Nothing here: each entry is downloaded once; an archive not downloaded is not unpacked yet either.
    assert [e.id for e in to_download(library, requests)] == ["bundle", "a"]
    assert [e.id for e in to_unpack(library, requests)] == ["bundle"]
    other = LinkRequest(catalog.get("other-bundle"), project, "x.pt", "x.pt")
    assert [e.id for e in to_unpack(library, [*requests, other])] == ["bundle", "other-bundle"]
    results = make_links(library, requests, "symlink")
    assert [r.outcome for r in results] == [Outcome.NOT_HERE] * 3
    assert "not unpacked" in results[0].reason and "not downloaded" in results[2].reason

    Transfer(library, bundle, fast_options()).run()
    Transfer(library, plain, fast_options()).run()
    assert to_download(library, requests) == []
    assert [e.id for e in to_unpack(library, requests)] == ["bundle"]  # once for its two members

    assert archives.unpack(library, bundle).outcome is archives.Outcome.UNPACKED
    assert to_unpack(library, requests) == []
    results = make_links(library, requests, "symlink")
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3
    assert (project / "clip.pt").read_bytes() == GOOD["clip/ViT-B-16.pt"]
    assert (project / "last.ckpt").read_bytes() == GOOD["vqgan/last.ckpt"]
    assert results[0].target == models_dir / "bundle" / "clip" / "ViT-B-16.pt"
    assert results[1].target == models_dir / "bundle" / "vqgan" / "last.ckpt"
    assert results[2].target == models_dir / "a.pt"
    [copied] = make_links(
        library, [LinkRequest(bundle, project / "copies", "c.pt", "clip/ViT-B-16.pt")], "copy"
    )
    assert copied.outcome is Outcome.CREATED and copied.mode == "copy"
    assert not (project / "copies" / "c.pt").is_symlink()
    assert (project / "copies" / "c.pt").read_bytes() == GOOD["clip/ViT-B-16.pt"]

    # The archive deleted, its unpacked folder kept: a member needs no download, the archive itself does.
    (models_dir / "bundle.zip").unlink()
    assert to_download(library, requests[:2]) == []
    whole = LinkRequest(bundle, project, "b.zip")
    assert [e.id for e in to_download(library, [requests[0], whole])] == ["bundle"]
    assert to_unpack(library, requests) == []


def test_requests_and_links_keep_each_field(tmp_path, models_dir, http_server, monkeypatch):
    http_server.add("/a.pt", b"a" * 3000)
    catalog = load(
        write_catalog(
            tmp_path / "c.json", [entry("a", http_server.url("/a.pt")), entry("b", "https://h/b.pt")]
        )
    )
    library = Library(models_dir, catalog)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    requests = requests_for(catalog, "~/project")
    project = tmp_path / "home" / "project"
    assert [(r.entry, r.folder, r.name) for r in requests] == [
        (catalog.get("a"), project, "a.pt"),
        (catalog.get("b"), project, "b.pt"),
    ]
    [renamed] = requests_for([catalog.get("a")], project, "mine.pt")
    assert (renamed.entry.id, renamed.path) == ("a", project / "mine.pt")
    with pytest.raises(ValueError) as refused:
        requests_for(catalog, project, "x.pt")
    assert str(refused.value) == "a link name goes with one checkpoint"

    Transfer(library, catalog.get("a"), fast_options()).run()
    bad = LinkRequest(catalog.get("a"), project, "../a.pt")
    copied, failed = make_links(library, [renamed, bad], "copy")
    assert copied.outcome is Outcome.CREATED and copied.mode == "copy"
    assert not (project / "mine.pt").is_symlink() and (project / "mine.pt").read_bytes() == b"a" * 3000
    assert (failed.entry_id, failed.path, failed.target, failed.outcome, failed.mode) == (
        "a",
        project / "../a.pt",
        None,
        Outcome.FAILED,
        "copy",
    )
    assert failed.reason.startswith("link name '../a.pt' ")
