"""The summary of a file that cannot be read as a checkpoint (core/claims.py's unreadable): every field, as
`inspect --json` and the lock file show it, and the globals a broken pickle named before it broke."""

from __future__ import annotations

import pickle

from ofa_manager.core.checkpoint_contents import read_checkpoint
from ofa_manager.core.checkpoint_results import CheckpointError, GlobalUse
from ofa_manager.core.claims import (
    SUMMARY_VERSION,
    arch_title,
    cached_summary,
    claim_mismatch,
    describe_claim,
    describe_contents,
    inspect_entry,
    inspect_path,
    params_text,
    summarize,
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
    assert params_text(1_005_000_001) == "1.01B"  # divided by exactly 1e9
    assert params_text(1_500_000) == "2M" and params_text(7_499_999) == "7M"  # divided by exactly 1e6


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
        {"safety": 5},
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
    assert again.path == str(library.path(a))
    assert inspect_entry(library, a, refresh=True).cached is False


# -- the summary of a readable file, and the claim in words ----------------------------------------------


def test_the_summary_of_a_readable_file_field_by_field():
    from tests.catalogs import DATA

    path = DATA / "checkpoints" / "fairseq_ofa_tiny.pt"
    contents = read_checkpoint(path)
    summary = summarize(contents)
    assert summary == {
        "version": SUMMARY_VERSION,
        "format": "zip",
        "arch": "ofa_tiny",
        "task": "refcoco",
        "params": contents.model_parameters_distinct,
        "petl": [],
        "inferred_size": "tiny",
        "inferred": contents.inferred,
        "safe": True,
        "safety": "tensors and plain data only",
        "dangerous": [],
        "unknown": [],
        "load_code": contents.verdict.weights_only_code,
        "problems": [],
        "error": None,
    }
    assert summary["params"] < contents.model_parameters  # the tied embedding counted once
    contents.model_parameters_distinct = None
    contents.petl = {"prompt": {}, "lora": {}}
    contents.problems = ["one"]
    again = summarize(contents)
    assert again["params"] == contents.model_parameters
    assert again["petl"] == ["lora", "prompt"] and again["problems"] == ["one"]
    assert again["problems"] is not contents.problems


def test_the_summary_of_an_unsafe_file_names_what_it_would_call():
    from tests.catalogs import DATA

    summary = summarize(read_checkpoint(DATA / "checkpoints" / "malicious_reduce.pt"))
    assert summary["safe"] is False and summary["dangerous"] == ["posix.system"] and summary["unknown"] == []
    assert summary["load_code"] is None
    assert (
        summary["safety"] == "loading it with weights_only=False would import or call dangerous: posix.system"
    )


def test_architecture_titles():
    assert arch_title("ofa_large") == "OFA-Large" and arch_title("ofa_tiny") == "OFA-Tiny"
    assert arch_title("ofa_large_x") == "ofa_large_x" and arch_title("my_ofa_base") == "my_ofa_base"
    assert arch_title("m6_unify") == "m6_unify"


def test_what_a_file_holds_in_a_phrase_in_every_case():
    assert describe_contents({"arch": "OFA_LARGE", "inferred_size": "large"}) == "OFA_LARGE"
    assert describe_contents({"petl": ["lora"]}) == "a model of unknown architecture with LoRA keys"
    assert (
        describe_contents({"arch": "x", "petl": ["prompt", "pi-adapter"]}) == "x with Prompt, π-Adapter keys"
    )
    assert describe_contents({"arch": "x", "petl": [], "params": 0, "task": ""}) == "x"
    assert describe_contents({"arch": "x", "params": 1234}) == "x (1,234 parameters)"
    assert describe_contents({"error": ""}) == "a model of unknown architecture"


def test_what_the_catalog_claims_in_words():
    assert describe_claim({}) == "a checkpoint"
    assert describe_claim({"task": "vqa"}) == "a checkpoint fine-tuned for vqa"
    assert describe_claim({"arch": "ofa_huge", "task": "caption", "params": 930_000_000}) == (
        "OFA-Huge fine-tuned for caption (~930M parameters)"
    )
    assert describe_claim({"arch": "mine"}) == "mine"
    assert describe_claim({"petl": "lora"}) == "a LoRA"
    assert describe_claim({"petl": "adapter", "task": "refcoco", "arch": "ofa_large"}) == (
        "an Adapter for refcoco on OFA-Large"
    )
    assert describe_claim({"petl": "pi-adapter", "arch": "ofa_base", "params": 1_000}) == (
        "a π-Adapter on OFA-Base (~1,000 parameters)"
    )
    assert describe_claim({"petl": "prompt", "task": "snli_ve"}) == "a Prompt for snli_ve"


def test_a_claim_differs_at_the_edges_of_each_fact():
    large = {"arch": "ofa_large", "inferred_size": "large", "task": "caption", "params": 110}
    assert claim_mismatch({"params": 100}, large) is None  # exactly 10 % off
    assert claim_mismatch({"params": 100}, {**large, "params": 111}) == (
        "holds ofa_large fine-tuned for caption (111 parameters), not a checkpoint (~100 parameters)"
    )
    assert claim_mismatch({"params": 100}, {**large, "params": 90}) is None
    assert claim_mismatch({"params": 100}, {**large, "params": 89}) is not None
    assert claim_mismatch({"params": 100}, {**large, "params": None}) is None
    assert claim_mismatch({"task": "CAPTION"}, large) is None
    assert claim_mismatch({"task": "vqa"}, {**large, "task": ""}) is None
    assert claim_mismatch({}, large) is None
    assert claim_mismatch({"petl": "prompt"}, {**large, "petl": None}) == (
        "holds ofa_large fine-tuned for caption (110 parameters), not a Prompt"
    )
    assert claim_mismatch({"petl": "prompt"}, {**large, "petl": ["prompt"]}) is None
    # A claim that is not OFA's: the recorded name decides even where the shapes give a size.
    assert claim_mismatch({"arch": "Large_Model"}, {**large, "arch": "large_model"}) is None
    assert claim_mismatch({"arch": "large_model"}, {**large, "arch": "other"}) is not None
    assert claim_mismatch({"arch": "ofa_large"}, {"arch": "OFA_Large"}) is None  # no shapes: the name
    assert claim_mismatch({"arch": "ofa_large"}, {"arch": ""}) is None
    assert claim_mismatch({"arch": "ofa_large"}, {"arch": 5}) is None
    assert claim_mismatch({"arch": "ofa_large"}, {"inferred_size": "base", "arch": "ofa_large"}) is not None
    assert claim_mismatch({"arch": "ofa_large"}, {"error": ""}) is None  # an empty error is none


# -- contents per file, where the file is -----------------------------------------------------------------


def test_a_file_in_a_shared_store_is_read_there_and_nothing_is_recorded(tmp_path):
    data = b"<html>denied</html>\n"
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry(
                "a",
                "http://x.invalid/a.pt",
                sha256=sha256(data),
                size=len(data),
                expect={"arch": "ofa_large"},
            )
        ],
    )
    store = tmp_path / "store"
    store.mkdir()
    (store / "a.pt").write_bytes(data)
    library = Library(tmp_path / "models", load(catalog), stores=[store])
    a = library.catalog.get("a")
    found = inspect_entry(library, a)
    assert found.path == str(store / "a.pt") and found.cached is False
    assert found.summary["error"] and found.mismatch.startswith("holds no readable checkpoint (")
    assert sorted(p.name for p in store.iterdir()) == ["a.pt"]
    assert library.read_meta(a) in (None, {})


def lab_entry(tmp_path, models_dir, data=b"<html>not a checkpoint</html>\n"):
    catalog = write_catalog(
        tmp_path / "c.json", [entry("a", "http://x.invalid/a.pt", sha256=sha256(data), size=len(data))]
    )
    library = Library(models_dir, load(catalog))
    a = library.catalog.get("a")
    library.path(a).write_bytes(data)
    assert library.adopt(a)
    return library, a


def test_no_summary_is_recorded_while_another_holds_the_files_lock(tmp_path, models_dir):
    import threading

    library, a = lab_entry(tmp_path, models_dir)
    held, release = threading.Event(), threading.Event()

    def hold():
        with library.lock(a):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        first = inspect_entry(library, a)
        assert first.cached is False and "contents" not in library.read_meta(a)
    finally:
        release.set()
        holder.join()
    inspect_entry(library, a)
    assert "contents" in library.read_meta(a)  # free again: recorded


def test_a_summary_read_from_a_file_since_replaced_is_not_recorded(tmp_path, models_dir):
    import os

    from ofa_manager.core import claims

    library, a = lab_entry(tmp_path, models_dir)
    path = library.path(a)
    before = os.lstat(path)
    replacement = path.with_name("new")
    replacement.write_bytes(path.read_bytes() + b"more")
    os.replace(replacement, path)
    claims._record(library, a, before, {"safe": False})
    assert "contents" not in library.read_meta(a)
    claims._record(library, a, os.lstat(path), {"safe": False})
    assert library.read_meta(a)["contents"]["summary"] == {"safe": False}


def test_no_summary_is_recorded_without_the_files_own_record(tmp_path, models_dir):
    import os

    from ofa_manager.core import claims

    library, a = lab_entry(tmp_path, models_dir)
    library.meta_path(a).unlink()
    claims._record(library, a, os.lstat(library.path(a)), {"safe": False})
    assert not library.meta_path(a).exists() and library.read_meta(a) == {}


def test_a_corrupt_file_is_still_read_for_what_it_holds(tmp_path, models_dir):
    library, a = lab_entry(tmp_path, models_dir)
    meta = library.read_meta(a)
    meta["state"] = "corrupt"
    library.write_meta(a, meta)
    found = inspect_entry(library, a)
    assert found is not None and found.cached is False and found.summary["error"]


def test_a_file_replaced_in_one_respect_only_is_not_recorded(tmp_path, models_dir):
    import os
    import shutil

    from ofa_manager.core import claims

    library, a = lab_entry(tmp_path, models_dir)
    path = library.path(a)
    st = os.lstat(path)
    # Another inode, same size and time (a copy put in its place).
    copy = path.with_name("copy")
    shutil.copy2(path, copy)
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(copy, path)
    now = os.lstat(path)
    assert (now.st_size, now.st_mtime_ns) == (st.st_size, st.st_mtime_ns) and now.st_ino != st.st_ino
    claims._record(library, a, st, {"x": 1})
    assert "contents" not in library.read_meta(a)
    # Same inode and size, another time.
    os.utime(path, ns=(now.st_atime_ns, now.st_mtime_ns + 10**9))
    claims._record(library, a, now, {"x": 2})
    assert "contents" not in library.read_meta(a)
    # Same inode and time, another size.
    now = os.lstat(path)
    with open(path, "ab") as f:
        f.write(b"x")
    os.utime(path, ns=(now.st_atime_ns, now.st_mtime_ns))
    claims._record(library, a, now, {"x": 3})
    assert "contents" not in library.read_meta(a)


def test_the_files_lock_is_free_again_after_a_summary_is_recorded(tmp_path, models_dir):
    import threading

    library, a = lab_entry(tmp_path, models_dir)
    inspect_entry(library, a)
    assert "contents" in library.read_meta(a)
    got: list[bool] = []

    def try_lock():
        lock = library.lock(a)
        try:
            lock.acquire(timeout=0)
        except Exception:
            got.append(False)
        else:
            got.append(True)
            lock.release()

    other = threading.Thread(target=try_lock)
    other.start()
    other.join()
    assert got == [True]


def test_a_summary_that_cannot_be_written_is_left_unrecorded_without_an_error(
    tmp_path, models_dir, monkeypatch
):
    library, a = lab_entry(tmp_path, models_dir)

    def full_disk(entry, meta):  # a full disk or a read-only folder (tests run as root: not reproducible)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(library, "write_meta", full_disk)
    found = inspect_entry(library, a)
    assert found.cached is False and "contents" not in library.read_meta(a)


def test_a_fresh_read_and_a_recorded_one_both_say_how_the_file_differs_from_the_claim(tmp_path, models_dir):
    data = b"<html>not a checkpoint</html>\n"
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("a", "http://x.invalid/a.pt", sha256=sha256(data), size=len(data), expect={"task": "vqa"})],
    )
    library = Library(models_dir, load(catalog))
    a = library.catalog.get("a")
    library.path(a).write_bytes(data)
    assert library.adopt(a)
    fresh = inspect_entry(library, a)
    assert fresh.cached is False and fresh.mismatch == (
        f"holds no readable checkpoint ({fresh.summary['error']}), not a checkpoint fine-tuned for vqa"
    )
    recorded = inspect_entry(library, a)
    assert recorded.cached is True and recorded.mismatch == fresh.mismatch
