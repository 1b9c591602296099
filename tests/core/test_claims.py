"""Claims against contents: the catalog's ``expect``, the mismatch sentence, and where it shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ofa_manager.core.catalog import EXPECT_PETL, CatalogError, load_catalog
from ofa_manager.core.checkpoint_contents import read_checkpoint
from ofa_manager.core.claims import claim_mismatch, inspect_entry, inspect_path
from ofa_manager.core.library import Library
from tests.catalogs import DATA, entry, run_cli, write_catalog

URL = "https://example.invalid/checkpoints/a.pt"
FIXTURES = DATA / "checkpoints"


def refused(tmp_path: Path, expect) -> str:
    path = write_catalog(tmp_path / "bad.json", [entry("a", URL, expect=expect)])
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    message = str(info.value)
    assert str(path) in message and "'a'" in message
    return message


# -- the catalog's expect field --------------------------------------------------------------------------


def test_expect_is_read_and_optional(tmp_path):
    path = write_catalog(
        tmp_path / "c.json",
        [
            entry(
                "a",
                URL,
                expect={"arch": "ofa_large", "task": "refcoco", "params": 470000000, "petl": "adapter"},
            ),
            entry("b", "https://example.invalid/b.pt"),
        ],
    )
    catalog = load_catalog([path])
    assert catalog.get("a").expect == {
        "arch": "ofa_large",
        "task": "refcoco",
        "params": 470000000,
        "petl": "adapter",
    }
    assert catalog.get("b").expect is None
    assert "expect" not in catalog.get("a").extra


@pytest.mark.parametrize(
    "expect,field",
    [
        ("ofa_large", "expect"),
        ({"arch": "OFA Large!"}, "expect.arch"),
        ({"arch": ""}, "expect.arch"),
        ({"arch": "x" * 41}, "expect.arch"),
        ({"task": 3}, "expect.task"),
        ({"params": 0}, "expect.params"),
        ({"params": -5}, "expect.params"),
        ({"params": "470M"}, "expect.params"),
        ({"params": True}, "expect.params"),
        ({"params": 4.7e8}, "expect.params"),
        ({"petl": "bitfit"}, "expect.petl"),
        ({"size": "large"}, "expect.size"),
    ],
)
def test_bad_expect_is_refused_naming_file_entry_and_field(tmp_path, expect, field):
    assert f"'{field}'" in refused(tmp_path, expect)


def test_every_petl_family_is_accepted(tmp_path):
    rows = [
        entry(f"e{i}", f"https://example.invalid/{i}.pt", expect={"petl": p})
        for i, p in enumerate(EXPECT_PETL)
    ]
    catalog = load_catalog([write_catalog(tmp_path / "c.json", rows)])
    assert [e.expect["petl"] for e in catalog] == ["adapter", "lora", "prompt", "pi-adapter"]


def test_builtin_catalog_expects_what_the_published_list_states():
    catalog = load_catalog()
    backbones = {e.id: e.expect for e in catalog if e.group == ("Pretrained backbones",)}
    assert backbones == {
        "ofa-huge": {"arch": "ofa_huge", "params": 930_000_000},
        "ofa-large": {"arch": "ofa_large", "params": 470_000_000},
        "ofa-base": {"arch": "ofa_base", "params": 180_000_000},
        "ofa-medium": {"arch": "ofa_medium", "params": 93_000_000},
        "ofa-tiny": {"arch": "ofa_tiny", "params": 33_000_000},
    }
    petl = {e.id: e.expect for e in catalog if e.base == "ofa-large"}
    assert len(petl) == 8
    assert petl["refcoco-lora"] == {"arch": "ofa_large", "task": "refcoco", "petl": "lora"}
    assert petl["refcocoplus-pi-adapter"] == {
        "arch": "ofa_large",
        "task": "refcocoplus",
        "petl": "pi-adapter",
    }
    assert petl["refcocog-adapter"] == {"arch": "ofa_large", "task": "refcocog", "petl": "adapter"}
    for e in catalog:
        if e.base == "ofa-large":
            assert e.expect["petl"] in e.id and e.expect["task"] == e.id.split("-")[0]


# -- the sentence ----------------------------------------------------------------------------------------

HUGE = FIXTURES / "fairseq_ofa_huge_caption.pt"
PETL_LARGE = FIXTURES / "petl_ofa_large.pt"
ADAPTER = {"arch": "ofa_large", "task": "refcoco", "petl": "adapter"}


def test_an_ofa_huge_caption_model_is_not_an_adapter_on_ofa_large():
    summary = inspect_path(HUGE)
    assert (summary["arch"], summary["task"], summary["inferred_size"], summary["petl"]) == (
        "ofa_huge",
        "caption",
        "huge",
        [],
    )
    assert claim_mismatch(ADAPTER, summary) == (
        "holds ofa_huge fine-tuned for caption (873M parameters), not an Adapter for refcoco on OFA-Large"
    )


def test_a_file_that_holds_what_is_claimed_has_no_mismatch():
    summary = inspect_path(PETL_LARGE)
    assert claim_mismatch(ADAPTER, summary) is None
    assert claim_mismatch({**ADAPTER, "petl": "pi-adapter"}, summary) is None  # same keys as an Adapter
    assert claim_mismatch({"arch": "ofa_large", "params": 400_000_000}, summary) is None  # 374M: within 10 %
    assert claim_mismatch(None, summary) is None and claim_mismatch({}, summary) is None


@pytest.mark.parametrize(
    "expect,part",
    [
        ({"arch": "ofa_base"}, "not OFA-Base"),
        ({"task": "caption"}, "not a checkpoint fine-tuned for caption"),
        ({"params": 430_000_000}, "(~430M parameters)"),  # 374M is 13 % less
    ],
)
def test_each_claimed_fact_is_checked(expect, part):
    mismatch = claim_mismatch(expect, inspect_path(PETL_LARGE))
    assert (
        mismatch is not None
        and mismatch.startswith("holds ofa_large fine-tuned for refcoco")
        and part in mismatch
    )


def test_a_tied_embedding_counts_once():
    # fairseq lists one embedding matrix as encoder and decoder embed_tokens and the output projection.
    for path, width in ((HUGE, 1280), (PETL_LARGE, 1024), (FIXTURES / "fairseq_ofa_tiny.pt", 256)):
        contents = read_checkpoint(path)
        assert contents.model_parameters - contents.model_parameters_distinct == 2 * 59457 * width
        assert inspect_path(path)["params"] == contents.model_parameters_distinct
    plain = read_checkpoint(FIXTURES / "zip_state_dict.pt")
    assert plain.model_parameters_distinct == plain.model_parameters == 8


def test_the_petl_family_is_read_from_the_keys():
    adapters_only = {**inspect_path(PETL_LARGE), "petl": ["adapter"]}
    assert claim_mismatch({"petl": "adapter"}, adapters_only) is None
    assert claim_mismatch({"petl": "pi-adapter"}, adapters_only) is None
    assert claim_mismatch({"arch": "ofa_large", "petl": "lora"}, adapters_only).endswith(
        "with Adapter keys (374M parameters), not a LoRA on OFA-Large"
    )
    assert claim_mismatch({"petl": "prompt"}, adapters_only) is not None


def test_parameters_match_within_ten_percent():
    summary = {**inspect_path(PETL_LARGE), "params": 1000}
    assert claim_mismatch({"params": 1100}, summary) is None
    assert claim_mismatch({"params": 910}, summary) is None
    assert claim_mismatch({"params": 1112}, summary) is not None
    assert claim_mismatch({"params": 900}, summary) is not None


def test_the_shapes_decide_the_size_over_an_old_architecture_name():
    # The first ofa_large.pt named its architecture m6_unify_large: still OFA-Large by its shapes.
    summary = {**inspect_path(PETL_LARGE), "arch": "m6_unify_large"}
    assert claim_mismatch({"arch": "ofa_large"}, summary) is None
    assert "m6_unify_large" in claim_mismatch({"arch": "ofa_huge"}, summary)


def test_a_web_page_is_no_checkpoint_at_all():
    summary = inspect_path(FIXTURES / "web_page.pt")
    assert summary["error"] and summary["safe"] is False
    assert claim_mismatch(ADAPTER, summary).startswith(
        "holds no readable checkpoint (not a PyTorch checkpoint"
    )


# -- list --json, list and verify after a download -------------------------------------------------------


@pytest.fixture
def site(tmp_path, models_dir, http_server):
    """As published: PETL entries whose link serves an OFA-Huge caption model."""
    http_server.add("/checkpoints/caption_huge_best.pt", HUGE.read_bytes())
    http_server.add("/checkpoints/ofa_large.pt", PETL_LARGE.read_bytes())
    url = http_server.url("/checkpoints/caption_huge_best.pt")
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("ofa-large", http_server.url("/checkpoints/ofa_large.pt"), expect={"arch": "ofa_large"}),
            entry("refcoco-adapter", url, base="ofa-large", expect=ADAPTER),
            entry("refcoco-lora", url, base="ofa-large", expect={**ADAPTER, "petl": "lora"}),
            entry("huge-caption", url, expect={"arch": "ofa_huge", "task": "caption"}),
        ],
    )
    return ["--dir", str(models_dir), "--catalog", str(catalog)]


def rows(capsys, site) -> dict[str, dict]:
    code, out, _ = run_cli(capsys, *site, "list", "--json")
    assert code == 0
    return {row["id"]: row for row in json.loads(out)}


def test_list_json_carries_contents_and_the_mismatch_after_a_download(capsys, site):
    assert run_cli(capsys, *site, "download", "refcoco-adapter", "ofa-large")[0] == 0
    found = rows(capsys, site)
    adapter = found["refcoco-adapter"]
    assert adapter["state"] == "downloaded"  # a mismatch is a warning: the file stays
    assert adapter["contents"]["arch"] == "ofa_huge" and adapter["contents"]["task"] == "caption"
    assert (
        adapter["contents"]["safe"] is True and adapter["contents"]["safety"] == "tensors and plain data only"
    )
    assert adapter["mismatch"] == (
        "holds ofa_huge fine-tuned for caption (873M parameters), not an Adapter for refcoco on OFA-Large"
    )
    assert found["refcoco-lora"]["mismatch"].endswith("not a LoRA for refcoco on OFA-Large")
    assert (
        found["huge-caption"]["mismatch"] is None and found["huge-caption"]["contents"]["arch"] == "ofa_huge"
    )
    assert found["ofa-large"]["mismatch"] is None and found["ofa-large"]["contents"]["petl"] == [
        "adapter",
        "lora",
        "prompt",
    ]
    assert Path(adapter["path"]).read_bytes() == HUGE.read_bytes()


def test_remote_entries_have_no_contents(capsys, site):
    row = rows(capsys, site)["refcoco-adapter"]
    assert row["contents"] is None and row["mismatch"] is None and row["expect"] == ADAPTER


def test_list_marks_the_mismatch_in_words(capsys, site):
    assert run_cli(capsys, *site, "download", "refcoco-adapter", "--no-backbone")[0] == 0
    code, out, _ = run_cli(capsys, *site, "list")
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "refcoco-adapter" in line)
    assert lines[at + 1].strip() == (
        "! mismatch: holds ofa_huge fine-tuned for caption (873M parameters), "
        "not an Adapter for refcoco on OFA-Large"
    )
    assert not any("huge-caption" in line and "mismatch" in line for line in lines)


def test_contents_are_cached_in_the_metadata_and_read_again_when_the_file_changes(capsys, site, models_dir):
    assert run_cli(capsys, *site, "download", "refcoco-adapter", "--no-backbone")[0] == 0
    catalog = load_catalog([Path(site[3])])
    library = Library(models_dir, catalog)
    entry_ = catalog.get("refcoco-adapter")
    first = inspect_entry(library, entry_)
    assert first.mismatch and library.read_meta(entry_)["contents"]["summary"] == first.summary
    assert inspect_entry(library, entry_).cached is True  # list does not read the file again
    # The same name, other bytes, the metadata brought along (as a restore from a backup might):
    # the recorded contents belong to the old size and time and are not used.
    path = library.path(entry_)
    path.write_bytes(PETL_LARGE.read_bytes())
    meta = library.read_meta(entry_)
    st = path.stat()
    meta.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    library.write_meta(entry_, meta)
    again = inspect_entry(library, entry_)
    assert again.cached is False and again.mismatch is None and again.summary["arch"] == "ofa_large"


def test_a_damaged_cached_summary_is_not_trusted(capsys, site, models_dir):
    assert run_cli(capsys, *site, "download", "refcoco-adapter", "--no-backbone")[0] == 0
    catalog = load_catalog([Path(site[3])])
    library = Library(models_dir, catalog)
    entry_ = catalog.get("refcoco-adapter")
    inspect_entry(library, entry_)
    meta = library.read_meta(entry_)
    meta["contents"]["summary"]["arch"] = 7  # not a name
    library.write_meta(entry_, meta)
    found = inspect_entry(library, entry_)
    assert found.cached is False and found.summary["arch"] == "ofa_huge"


def test_verify_reads_the_file_again_and_warns_for_each_entry_sharing_it(capsys, site, models_dir):
    assert run_cli(capsys, *site, "download", "refcoco-adapter", "--no-backbone")[0] == 0
    catalog = load_catalog([Path(site[3])])
    library = Library(models_dir, catalog)
    entry_ = catalog.get("refcoco-adapter")
    inspect_entry(library, entry_)
    meta = library.read_meta(entry_)
    meta["contents"]["summary"]["task"] = "refcoco"
    meta["contents"]["summary"]["arch"] = "ofa_large"  # a stale record: verify does not trust it
    meta["contents"]["summary"]["inferred_size"] = "large"
    meta["contents"]["summary"]["petl"] = ["adapter"]
    library.write_meta(entry_, meta)
    assert inspect_entry(library, entry_).mismatch is None
    code, out, _ = run_cli(capsys, *site, "verify", "refcoco-adapter")
    assert code == 0  # a warning, not a failure
    assert "warning: refcoco-adapter: holds ofa_huge fine-tuned for caption" in out
    assert "warning: refcoco-lora: holds ofa_huge" in out and "huge-caption" not in out.split("ok (")[1]
    assert inspect_entry(library, entry_).summary["arch"] == "ofa_huge"


def test_download_warns_when_the_file_is_not_what_is_claimed(capsys, site):
    code, _, err = run_cli(capsys, *site, "download", "refcoco-adapter", "--no-backbone")
    assert code == 0  # downloaded and kept: the claim is the catalog's, the file is what the server has
    assert "warning: refcoco-adapter: holds ofa_huge fine-tuned for caption" in err
    assert "warning: refcoco-lora" not in err  # sharing the file, but not asked for
    code, _, err = run_cli(capsys, *site, "download", "ofa-large")
    assert code == 0 and "warning" not in err


def test_inspect_by_id_says_the_claim_and_the_mismatch(capsys, site):
    assert run_cli(capsys, *site, "download", "refcoco-adapter", "--no-backbone")[0] == 0
    code, out, _ = run_cli(capsys, *site, "inspect", "refcoco-adapter")
    assert code == 0
    assert "claim       an Adapter for refcoco on OFA-Large" in out
    assert "MISMATCH: holds ofa_huge fine-tuned for caption" in out
    code, out, _ = run_cli(capsys, *site, "inspect", "huge-caption", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["expect"] == {"arch": "ofa_huge", "task": "caption"} and data["mismatch"] is None
    code, out, _ = run_cli(capsys, *site, "inspect", str(HUGE), "--json")
    assert code == 0
    assert "mismatch" not in json.loads(out)  # a file by its path claims nothing
