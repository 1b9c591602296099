"""Claims against contents: the catalog's ``expect``, the mismatch sentence, and where it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from ofa_manager.core.catalog import EXPECT_PETL, CatalogError, load_catalog
from tests.catalogs import entry, write_catalog

URL = "https://example.invalid/checkpoints/a.pt"
FIXTURES = Path(__file__).parent / "data" / "checkpoints"


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
