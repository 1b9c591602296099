"""The summary of a file that cannot be read as a checkpoint (core/claims.py's unreadable): every field, as
`inspect --json` and the lock file show it, and the globals a broken pickle named before it broke."""

from __future__ import annotations

import pickle

from ofa_manager.core.checkpoint_results import CheckpointError, GlobalUse
from ofa_manager.core.claims import (
    SUMMARY_VERSION,
    claim_mismatch,
    describe_contents,
    inspect_path,
    params_text,
    unreadable,
)

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
