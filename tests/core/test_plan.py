"""The download plan and the deletion impact, from core, as the command line asks and answers them."""

from __future__ import annotations

import io

import pytest

from ofa_manager import cli
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.plan import DiskView, deletion_impact, plan_download
from tests.catalogs import body_requests, entry, load, payload, sha256, write_catalog
from tests.scenes import Terminal

PiB = 1024**5


pytestmark = pytest.mark.usefixtures("engine_threads_end")


@pytest.fixture
def site(tmp_path, models_dir, http_server):
    """A backbone shared by two entries, a PETL checkpoint needing one of them, and one that is too big."""
    files = {"backbone": payload(120_000, 1), "lora": payload(30_000, 2)}
    for name, data in files.items():
        http_server.add(f"/{name}.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("bb", http_server.url("/backbone.pt"), sha256=sha256(files["backbone"])),
            entry("bb-alias", http_server.url("/backbone.pt")),
            entry("lora", http_server.url("/lora.pt"), base="bb-alias", size=len(files["lora"])),
            # Declares more bytes than any disk here has: the space question is real, not simulated.
            entry("huge", http_server.url("/huge.pt"), size=PiB),  # the largest size a catalog may give
        ],
    )

    class Site:
        pass

    s = Site()
    s.files, s.server = files, http_server
    s.library = Library(models_dir, load(catalog))
    s.args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    return s


def run(capsys, monkeypatch, site, *args, stdin=None) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", stdin if stdin is not None else io.StringIO(""))
    code = cli.main([*site.args, *args])
    out, err = capsys.readouterr()
    return code, out, err


def state(site, entry_id: str) -> State:
    return site.library.status(site.library.catalog.get(entry_id)).state


def test_the_plan_names_the_missing_backbone_and_the_bytes(site):
    library = site.library
    catalog = library.catalog
    plan = plan_download([catalog.get("lora")], catalog, library, DiskView(library), free=10**12)
    assert [e.id for e in plan.entries] == ["lora"] and [b.id for b in plan.missing_bases] == ["bb-alias"]
    assert plan.needed == len(site.files["lora"])
    assert [e.id for e in plan.users_of_missing_bases()] == ["lora"]
    assert not plan.short_of_space(with_bases=True)
    with_base = plan_download(
        [catalog.get("lora"), catalog.get("bb")], catalog, library, DiskView(library), free=0
    )
    assert with_base.missing_bases == []  # bb is asked for; it is the same file as bb-alias
    assert with_base.short_of_space(with_bases=False)


def test_off_a_terminal_a_missing_backbone_is_a_clear_error_and_nothing_is_fetched(capsys, monkeypatch, site):
    code, _, err = run(capsys, monkeypatch, site, "download", "lora")
    assert code == 2
    assert "lora need(s) the backbone bb-alias" in err and "--with-backbone" in err and "--no-backbone" in err
    assert "Traceback" not in err
    assert site.server.requests == []


def test_with_backbone_downloads_it_too(capsys, monkeypatch, site):
    code, _, err = run(capsys, monkeypatch, site, "download", "lora", "--with-backbone")
    assert code == 0, err
    assert "also downloading the backbone bb-alias" in err
    assert state(site, "lora") is State.DOWNLOADED and state(site, "bb") is State.DOWNLOADED


def test_no_backbone_downloads_only_what_was_named(capsys, monkeypatch, site):
    code, _, err = run(capsys, monkeypatch, site, "download", "lora", "--no-backbone")
    assert code == 0, err
    assert state(site, "lora") is State.DOWNLOADED and state(site, "bb") is State.REMOTE
    assert body_requests(site.server, "/backbone.pt") == []


@pytest.mark.parametrize(
    ("answer", "code", "backbone"), [("\n", 0, State.DOWNLOADED), ("n\n", 0, State.REMOTE), ("c\n", 0, None)]
)
def test_on_a_terminal_the_backbone_question_is_asked(capsys, monkeypatch, site, answer, code, backbone):
    got, out, err = run(capsys, monkeypatch, site, "download", "lora", stdin=Terminal(answer))
    assert got == code, err
    assert "Download bb-alias too?" in out
    if backbone is None:  # cancelled: nothing at all
        assert "nothing downloaded" in err and site.server.requests == []
    else:
        assert state(site, "lora") is State.DOWNLOADED and state(site, "bb") is backbone


def test_a_backbone_already_here_is_not_asked_about(capsys, monkeypatch, site):
    assert run(capsys, monkeypatch, site, "download", "bb")[0] == 0
    code, out, err = run(capsys, monkeypatch, site, "download", "lora")
    assert code == 0, err
    assert "need(s) the backbone" not in out + err


def test_off_a_terminal_too_little_space_is_a_clear_error(capsys, monkeypatch, site):
    code, _, err = run(capsys, monkeypatch, site, "download", "huge")
    assert code == 2
    assert "these downloads need" in err and "is free in" in err and "--yes" in err
    assert site.server.requests == []


def test_on_a_terminal_no_to_the_space_question_fetches_nothing(capsys, monkeypatch, site):
    code, out, err = run(capsys, monkeypatch, site, "download", "huge", stdin=Terminal("\n"))
    assert code == 0 and "Download anyway? [y/N]" in out and "nothing downloaded" in err
    assert site.server.requests == []


def test_yes_goes_ahead_with_a_warning_and_the_transfer_then_refuses_for_space(capsys, monkeypatch, site):
    code, _, err = run(capsys, monkeypatch, site, "download", "huge", "--yes")
    assert "downloading anyway (--yes)" in err
    # The download itself checks again and stops before writing: the disk really is too small.
    assert code == 1 and "not enough disk space" in err


# -- what rm says before deleting --------------------------------------------------------------------


def test_rm_names_the_entries_sharing_the_file_and_the_petl_checkpoints_it_breaks(capsys, monkeypatch, site):
    assert run(capsys, monkeypatch, site, "download", "lora", "--with-backbone")[0] == 0
    # lora needs bb-alias, the very file bb names: deleting bb breaks it, though bb is not its base.
    code, out, _ = run(capsys, monkeypatch, site, "rm", "bb", "--yes")
    assert code == 0
    assert "(also used by bb-alias)" in out
    assert "without the backbone bb-alias, these stop working: lora" in out


def test_rm_of_the_petl_checkpoint_too_warns_of_nothing_it_breaks(capsys, monkeypatch, site):
    assert run(capsys, monkeypatch, site, "download", "lora", "--with-backbone")[0] == 0
    code, out, _ = run(capsys, monkeypatch, site, "rm", "bb", "lora", "--yes")
    assert code == 0 and "stop working" not in out


def test_the_deletion_impact_is_one_per_file(site, capsys, monkeypatch):
    assert run(capsys, monkeypatch, site, "download", "lora", "--with-backbone")[0] == 0
    library, catalog = site.library, site.library.catalog
    impacts = deletion_impact(
        [catalog.get("bb"), catalog.get("bb-alias")], catalog, library, DiskView(library)
    )
    assert len(impacts) == 1
    assert [o.id for o in impacts[0].sharing] == ["bb-alias"]
    assert [(b.backbone.id, [d.id for d in b.dependants]) for b in impacts[0].breaks] == [
        ("bb-alias", ["lora"])
    ]
