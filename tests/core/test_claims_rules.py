"""The summary of a file that cannot be read as a checkpoint (core/claims.py's unreadable): every field, as
`inspect --json` and the lock file show it, and the globals a broken pickle named before it broke."""

from __future__ import annotations

import pickle

from ofa_manager.core.checkpoint_results import CheckpointError, GlobalUse
from ofa_manager.core.claims import (
    SUMMARY_VERSION,
    cached_summary,
    claim_mismatch,
    describe_contents,
    inspect_entry,
    inspect_path,
    params_text,
    unreadable,
)
from ofa_manager.core.library import Library
from tests.catalogs import entry, load, sha256, write_catalog

EMPTY = {
    "version": SUMMARY_VERSION,
    "format": None,
    "arch": None,
    "task": None,
    "params": None,
    "petl": [],
    "inferred_size": None,
    "inferred": {},
    "safe": False,
    "dangerous": [],
    "unknown": [],
    "load_code": None,
    "problems": [],
}


def test_a_web_page_saved_as_a_checkpoint_is_summarised_as_unreadable(tmp_path):
    page = tmp_path / "model.pt"
    page.write_bytes(b"<!DOCTYPE html><html><body>Access denied</body></html>\n")
    summary = inspect_path(page)
    error = summary.pop("error")
    assert summary == {**EMPTY, "safety": "not readable as a checkpoint"}
    assert isinstance(error, str) and error


def test_the_globals_named_before_the_pickle_broke_are_said_dangerous_and_unknown_only():
    seen = [
        GlobalUse("torch._utils._rebuild_tensor_v2", "torch"),
        GlobalUse("os.system", "dangerous"),
        GlobalUse("collections.OrderedDict", "benign"),
        GlobalUse("mylab.Model", "unknown"),
    ]
    summary = unreadable(CheckpointError("the pickle ends early", seen))
    assert summary == {
        **EMPTY,
        "safety": "not readable as a checkpoint; before that, it named os.system (dangerous), "
        "mylab.Model (unknown)",
        "error": "the pickle ends early",
    }


def test_a_truncated_pickle_is_unreadable_not_an_exception(tmp_path):
    path = tmp_path / "cut.pt"
    path.write_bytes(pickle.dumps({"model": list(range(100))}, protocol=2)[:40])
    summary = inspect_path(path)
    assert summary["safe"] is False and summary["safety"].startswith("not readable as a checkpoint")


def test_parameter_counts_in_words():
    assert params_text(999_999) == "999,999"
    assert params_text(1_000_000) == "1M" and params_text(472_600_000) == "473M"
    assert params_text(999_999_999) == "1000M" and params_text(1_000_000_000) == "1.00B"
    assert params_text(1_034_000_000) == "1.03B"


def test_what_a_file_holds_in_a_phrase():
    assert describe_contents({"error": "x"}) == "no readable checkpoint"
    assert describe_contents({}) == "a model of unknown architecture"
    assert describe_contents({"inferred_size": "base"}) == "an OFA-Base model (by its shapes)"
    assert describe_contents({"arch": "ofa_large", "inferred_size": "large"}) == "ofa_large"
    assert (
        describe_contents(
            {"arch": "m6_unify", "inferred_size": "large", "task": "caption", "params": 470_000_000}
        )
        == "m6_unify (OFA-Large by its shapes) fine-tuned for caption (470M parameters)"
    )
    assert describe_contents({"arch": "ofa_base", "petl": ["adapter", "lora", "other"]}) == (
        "ofa_base with Adapter, LoRA keys"
    )


def test_a_claim_differs_only_on_evidence_and_beyond_ten_percent():
    large = {"arch": "ofa_large", "inferred_size": "large", "task": "caption", "params": 470_000_000}
    assert claim_mismatch(None, large) is None and claim_mismatch({"arch": "ofa_large"}, None) is None
    assert claim_mismatch({"arch": "ofa_large", "task": "Caption", "params": 470_000_000}, large) is None
    # The shapes decide the size, whatever the recorded name says.
    assert claim_mismatch({"arch": "ofa_large"}, {**large, "arch": "m6_unify_large"}) is None
    assert claim_mismatch({"arch": "ofa_base"}, large) == (
        "holds ofa_large fine-tuned for caption (470M parameters), not OFA-Base"
    )
    # Without shapes the recorded name decides; without either nothing is evidence.
    assert claim_mismatch({"arch": "mine"}, {"arch": "Mine"}) is None
    assert claim_mismatch({"arch": "mine"}, {"arch": "other"}) is not None
    assert claim_mismatch({"arch": "mine"}, {}) is None
    assert claim_mismatch({"task": "vqa"}, large) is not None and claim_mismatch({"task": "vqa"}, {}) is None
    assert claim_mismatch({"params": 430_000_000}, large) is None  # 40M off: within 10 % of the claim
    assert claim_mismatch({"params": 425_000_000}, large) is not None  # 45M off: beyond 42.5M
    assert claim_mismatch({"petl": "lora"}, {**large, "petl": ["adapter"]}) is not None
    assert claim_mismatch({"petl": "pi-adapter"}, {**large, "petl": ["adapter"]}) is None
    assert claim_mismatch({"arch": "ofa_large"}, {"error": "bad zip"}) == (
        "holds no readable checkpoint (bad zip), not OFA-Large"
    )


GOOD = {**EMPTY, "safety": "x", "error": "e", "arch": "a", "task": "t", "params": 5, "load_code": "c"}


def test_a_recorded_summary_is_used_only_for_the_same_file_and_only_when_well_formed(tmp_path):
    path = tmp_path / "f.pt"
    path.write_bytes(b"x" * 10)
    st = path.stat()
    meta = {"contents": {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "summary": GOOD}}
    assert cached_summary(meta, st) == GOOD
    assert cached_summary({}, st) is None and cached_summary({"contents": []}, st) is None
    assert cached_summary({"contents": {**meta["contents"], "size": 11}}, st) is None
    assert cached_summary({"contents": {**meta["contents"], "mtime_ns": st.st_mtime_ns + 1}}, st) is None
    for bad in (
        {"version": SUMMARY_VERSION - 1},
        {"arch": 1},
        {"task": 2},
        {"params": True},
        {"params": "5"},
        {"error": 3},
        {"safety": None, "load_code": 4},
        {"petl": "adapter"},
        {"petl": [1]},
        {"safe": "no"},
    ):
        summary = {**GOOD, **bad}
        assert cached_summary({"contents": {**meta["contents"], "summary": summary}}, st) is None, bad
    missing = dict(GOOD)
    del missing["petl"]
    assert cached_summary({"contents": {**meta["contents"], "summary": missing}}, st) is None


def test_inspecting_an_entry_records_the_summary_and_uses_it_until_asked_to_read_again(tmp_path, models_dir):
    data = b"<html>not a checkpoint</html>\n"
    catalog = write_catalog(
        tmp_path / "c.json", [entry("a", "http://x.invalid/a.pt", sha256=sha256(data), size=len(data))]
    )
    library = Library(models_dir, load(catalog))
    a = library.catalog.get("a")
    assert inspect_entry(library, a) is None  # not here
    library.path(a).write_bytes(data)
    assert library.adopt(a)
    first = inspect_entry(library, a)
    assert first.cached is False and first.path == str(library.path(a)) and first.summary["safe"] is False
    recorded = library.read_meta(a)["contents"]
    assert recorded["size"] == len(data) and recorded["summary"] == first.summary
    again = inspect_entry(library, a)
    assert again.cached is True and again.summary == first.summary and again.mismatch is None
    assert inspect_entry(library, a, refresh=True).cached is False
