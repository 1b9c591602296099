"""The summary of a file that cannot be read as a checkpoint (core/claims.py's unreadable): every field, as
`inspect --json` and the lock file show it, and the globals a broken pickle named before it broke."""

from __future__ import annotations

import pickle

from ofa_manager.core.checkpoint_results import CheckpointError, GlobalUse
from ofa_manager.core.claims import SUMMARY_VERSION, inspect_path, unreadable

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
