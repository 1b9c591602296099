"""The mutation bench keeps a mutant's status only while the function it lives in is unchanged.

bench/mutation.py is a script, not part of the package: it is loaded from its file. Its module folder and
its results folder are pointed at a temporary folder, so no real results file is read or written.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.catalogs import REPO

SOURCE = '''"""A module."""

LIMIT = 3


def first(value):
    return value + 1


class Box:
    def size(self):
        return LIMIT

    @property
    def label(self):
        return "box"


def second(value):
    def inner():
        return value * 2

    return inner()
'''

BAR = "\N{LATIN LETTER LATERAL CLICK}"  # mutmut's separator in a method's mutant names
MUTANTS = {
    "ofa_manager.core.sample.x_first__mutmut_1": "killed",
    "ofa_manager.core.sample.x_first__mutmut_2": "survived",
    f"ofa_manager.core.sample.x{BAR}Box{BAR}size__mutmut_1": "survived",
    "ofa_manager.core.sample.x_second__mutmut_1": "not checked",
}


@pytest.fixture
def bench(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("mutation_bench", REPO / "bench" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "ofa_manager" / "core").mkdir(parents=True)
    (tmp_path / "ofa_manager" / "core" / "sample.py").write_text(SOURCE, encoding="utf-8")
    monkeypatch.setattr(module, "REPO", tmp_path)
    monkeypatch.setattr(module, "WORK", tmp_path / ".mutation")
    monkeypatch.setattr(module, "RESULTS", tmp_path / "bench" / "mutation-results")
    (tmp_path / ".mutation").mkdir()
    return module


def save_results(bench, statuses):
    bench.save_results("core/sample.py", statuses)


def edit(bench, old, new):
    path = bench.REPO / "ofa_manager" / "core" / "sample.py"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_each_function_and_method_is_keyed_as_mutmut_names_it(bench):
    rest, functions = bench.function_digests(SOURCE)
    assert sorted(functions) == sorted(["x_first", f"x{BAR}Box{BAR}size", f"x{BAR}Box{BAR}label", "x_second"])
    for name in MUTANTS:
        assert bench.function_of(name) in functions


def test_a_change_inside_a_function_changes_that_function_alone(bench):
    rest, functions = bench.function_digests(SOURCE)
    rest2, functions2 = bench.function_digests(SOURCE.replace("value * 2", "value * 3"))
    assert rest2 == rest
    assert {key for key in functions if functions[key] != functions2[key]} == {"x_second"}
    # A decorator belongs to its function.
    rest3, functions3 = bench.function_digests(SOURCE.replace("@property", "@staticmethod"))
    assert rest3 == rest
    assert {key for key in functions if functions[key] != functions3[key]} == {f"x{BAR}Box{BAR}label"}


def test_a_change_outside_functions_changes_the_rest(bench):
    rest, _ = bench.function_digests(SOURCE)
    assert bench.function_digests(SOURCE.replace("LIMIT = 3", "LIMIT = 4"))[0] != rest
    assert bench.function_digests(SOURCE.replace("class Box:", "class Box(object):"))[0] != rest


def test_an_unchanged_source_keeps_every_status(bench):
    save_results(bench, MUTANTS)
    assert bench.previous_results("core/sample.py") == (MUTANTS, [])


def test_a_changed_function_loses_its_statuses_and_the_others_keep_theirs(bench):
    save_results(bench, MUTANTS)
    edit(bench, "return value + 1", "return value + 2")
    kept, changed = bench.previous_results("core/sample.py")
    assert changed == ["x_first"]
    assert kept == {name: status for name, status in MUTANTS.items() if "x_first" not in name}


def test_a_new_function_is_new_and_the_others_keep_their_statuses(bench):
    save_results(bench, MUTANTS)
    edit(bench, "\n\nclass Box:", "\n\ndef helper(value):\n    return value - 1\n\n\nclass Box:")
    kept, changed = bench.previous_results("core/sample.py")
    assert changed == ["x_helper"] and kept == MUTANTS


def test_a_removed_function_takes_its_mutants_away(bench):
    save_results(bench, MUTANTS)
    edit(bench, "def first(value):\n    return value + 1\n", "")
    kept, changed = bench.previous_results("core/sample.py")
    assert changed == []
    assert not any("x_first" in name for name in kept)
    assert len(kept) == 2


def test_a_change_outside_functions_or_an_old_results_file_means_a_full_run(bench):
    save_results(bench, MUTANTS)
    edit(bench, "LIMIT = 3", "LIMIT = 4")
    assert bench.previous_results("core/sample.py") is None
    # A results file of an older bench (no digests) holds only while the source is the same.
    edit(bench, "LIMIT = 4", "LIMIT = 3")
    path = bench.results_path("core/sample.py")
    saved = json.loads(path.read_text(encoding="utf-8"))
    del saved["functions"]
    path.write_text(json.dumps(saved), encoding="utf-8")
    assert saved["statuses"]["x_first"] == {"killed": [1], "survived": [2]}
    assert bench.previous_results("core/sample.py") == (MUTANTS, [])
    edit(bench, "return value + 1", "return value + 2")
    assert bench.previous_results("core/sample.py") is None


def test_the_results_file_is_small_grouped_and_read_back_whole(bench):
    statuses = {f"ofa_manager.core.sample.x_first__mutmut_{n}": "killed" for n in range(1, 200)}
    statuses["ofa_manager.core.sample.x_first__mutmut_57"] = "survived"
    statuses[f"ofa_manager.core.sample.x{BAR}Box{BAR}size__mutmut_3"] = "no tests"
    save_results(bench, statuses)
    path = bench.results_path("core/sample.py")
    assert path.parent == bench.RESULTS and path.name == "core_sample.json"
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["statuses"]["x_first"]["survived"] == [57]
    assert saved["statuses"]["x_first"]["killed"] == [n for n in range(1, 200) if n != 57]
    assert saved["module"] == "core/sample.py" and set(saved["functions"]) == set(
        bench.function_digests(SOURCE)[1]
    )
    assert bench.previous_results("core/sample.py") == (statuses, [])
    # A package's __init__ is named as mutmut names it.
    assert bench.module_prefix("cli/__init__.py") == "ofa_manager.cli."
    # A damaged file is no earlier run, not a crash.
    path.write_text('{"module": "core/sample.py", "statuses": [1, 2]}', encoding="utf-8")
    assert bench.previous_results("core/sample.py") is None


def test_statuses_are_kept_against_the_source_they_were_measured_on(bench, tmp_path):
    # The run measured a copy taken when it began; the checkout changed meanwhile: that function is changed.
    measured = tmp_path / "scratch"
    (measured / "ofa_manager" / "core").mkdir(parents=True)
    (measured / "ofa_manager" / "core" / "sample.py").write_text(SOURCE, encoding="utf-8")
    edit(bench, "return value + 1", "return value + 2")
    bench.save_results("core/sample.py", MUTANTS, measured=measured)
    kept, changed = bench.previous_results("core/sample.py")
    assert changed == ["x_first"] and not any("x_first" in name for name in kept)


def test_the_scores_are_printed_from_the_stored_statuses(bench, capsys, monkeypatch):
    monkeypatch.setattr(bench, "MODULES", {"core/sample.py": [], "core/other.py": []})
    save_results(bench, {**MUTANTS, "ofa_manager.core.sample.x_second__mutmut_2": "timeout"})
    assert bench.main(["--scores"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # killed + timeout of the tried (one not checked): 2 / 4.
    assert lines[1].split() == ["core/sample.py", "2", "4", "5", "50.0%", "as", "measured"]
    assert lines[2].split() == ["core/other.py", "never", "measured"]
    edit(bench, "return value + 1", "return value + 2")
    bench.main(["--scores", "core/sample.py"])
    assert capsys.readouterr().out.splitlines()[1].endswith("changed since")


def test_a_run_stopped_by_its_budget_keeps_the_status_of_what_it_did_not_reach(bench):
    first_1 = "ofa_manager.core.sample.x_first__mutmut_1"
    first_2 = "ofa_manager.core.sample.x_first__mutmut_2"
    size_1 = f"ofa_manager.core.sample.x{BAR}Box{BAR}size__mutmut_1"
    second_1 = "ofa_manager.core.sample.x_second__mutmut_1"
    # To try again: first's survivor (killed now), Box.size's survivor (not reached), second's untried one.
    now = {first_2: "killed", size_1: "not checked", second_1: "not checked"}
    merged = bench.merge_statuses(MUTANTS, now, {first_2, size_1, second_1}, set())
    assert merged == {first_1: "killed", first_2: "killed", size_1: "survived", second_1: "not checked"}
    # A changed function's mutants are all new: what mutmut says of them now is their status.
    changed = bench.merge_statuses(MUTANTS, {**now, first_1: "survived"}, set(), {"x_first"})
    assert changed[first_1] == "survived" and changed[first_2] == "killed" and changed[size_1] == "survived"


def test_retry_names_survivors_by_their_short_names(bench):
    size_1 = f"ofa_manager.core.sample.x{BAR}Box{BAR}size__mutmut_1"
    assert bench.wanted_again(size_1, ("x|Box|size__mutmut_1",))
    assert bench.wanted_again(size_1, ("*size__mutmut_?",))
    assert not bench.wanted_again(size_1, ("x|Box|size__mutmut_2", "x_first__mutmut_1"))
    assert not bench.wanted_again(size_1, ())
