"""Catalog: the built-in catalog reproduces the published list; bad catalogs are refused with clear errors."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ofa_manager import cli
from ofa_manager.core.catalog import CatalogError, load_catalog
from ofa_manager.core.resources import builtin_catalog_path
from tests.catalogs import DATA, REPO, entry, write_catalog

# The published list (../shared/seed/checkpoints.md), copied here so a bare clone can run the test.
SEED = DATA / "checkpoints.md"
# The checkout sits beside shared/ (CI, the main checkout) or deeper (a worktree): look upwards for it.
SHARED_SEEDS = [folder / "shared" / "seed" / "checkpoints.md" for folder in REPO.parents]
URL = "https://example.invalid/checkpoints/a.pt"
TASKS = ["RefCOCO", "RefCOCO+", "RefCOCOg"]
METHODS = ["Adapter", "LoRA", "Prompt", "π-Adapter"]


def seed_links() -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(url, model, params) for each backbone and (url, title) for each PETL link, as published."""
    text = SEED.read_text(encoding="utf-8")
    pretraining, finetuning = text.split("## Finetuning", 1)
    link = re.compile(r'<a href="([^"]+)">\s*(.*?)\s*</a>\s*(?:\(~(\S+) parameters\))?')
    backbones = []
    for url, title, params in link.findall(pretraining):
        model = re.fullmatch(r"Pre-trained checkpoint \((OFA-\w+)\)", title).group(1)
        backbones.append((url, model, params))
    petl = [(url, html.unescape(title).replace("$\\pi$", "π")) for url, title, _ in link.findall(finetuning)]
    return backbones, petl


@pytest.fixture(scope="module")
def builtin():
    return load_catalog()


def test_seed_is_what_the_test_expects():
    backbones, petl = seed_links()
    assert len(backbones) == 5 and len(petl) == 8
    published = next((path for path in SHARED_SEEDS if path.is_file()), None)
    if published is None:
        missing = f"the published list is missing: none of {[str(p) for p in SHARED_SEEDS]}"
        # CI always has shared/ beside the clone: there the comparison must run. A bare clone elsewhere
        # (a newcomer's) has only the copy in tests/data, which every other catalog test reads.
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    assert SEED.read_text(encoding="utf-8") == published.read_text(encoding="utf-8")


def test_builtin_catalog_has_the_five_backbones_with_their_parameter_counts(builtin):
    backbones, _ = seed_links()
    rows = [e for e in builtin if e.group == ("Pretrained backbones",)]
    assert [(e.url, e.title, e.params) for e in rows] == backbones
    assert all(e.base is None for e in rows)


def test_builtin_catalog_has_the_eight_petl_checkpoints_with_the_published_urls(builtin):
    _, petl = seed_links()
    rows = [e for e in builtin if e.group[0] != "Pretrained backbones"]
    assert sorted((e.url, e.title) for e in rows) == sorted(petl)
    assert len(rows) == 8
    assert {e.base for e in rows} == {"ofa-large"}
    assert builtin.get("ofa-large").title == "OFA-Large"


def test_builtin_petl_entries_are_grouped_by_task_then_method(builtin):
    rows = [e for e in builtin if e.group[0] != "Pretrained backbones"]
    keys = []
    for e in rows:
        task = next(part for part in reversed(e.group) if part in TASKS)
        method, _, title_task = e.title.partition(" checkpoint on ")
        assert title_task == task, e.id
        assert e.extra.get("method", method) == method
        keys.append((TASKS.index(task), METHODS.index(method)))
    # Sorted keys: each task is one contiguous branch, in the published task order, methods in order.
    assert keys == sorted(keys)
    assert {k[0] for k in keys} == {0, 1, 2}
    assert len({e.group[:-1] for e in rows}) == 1


def test_builtin_catalog_file_is_format_1_with_the_documented_fields():
    data = json.loads(builtin_catalog_path().read_text(encoding="utf-8"))
    assert data["format"] == 1
    for row in data["entries"]:
        assert {"id", "title", "group", "url"} <= row.keys()
        assert isinstance(row["group"], list)


def test_entries_sharing_a_url_know_each_other(builtin):
    adapter = builtin.get("refcoco-adapter")
    shared = {e.id for e in builtin.sharing(adapter)}
    assert len(shared) == 7 and "refcoco-adapter" not in shared
    assert builtin.sharing(builtin.get("ofa-huge")) == []


def test_optional_fields_are_read_and_filename_defaults_to_the_last_url_segment(tmp_path):
    path = write_catalog(
        tmp_path / "c.json",
        [
            entry("plain", "https://example.invalid/dir/model%20v2.pt"),
            entry(
                "full",
                URL,
                size=12,
                sha256="AB" * 32,
                mirrors=["http://mirror.invalid/a.pt"],
                filename="named.bin",
                params="1M",
                description="d",
                extra_field=1,
            ),
            entry("needs", "https://example.invalid/b.pt", base="full"),
        ],
    )
    catalog = load_catalog([path])
    assert catalog.get("plain").filename == "model v2.pt"
    full = catalog.get("full")
    assert (full.size, full.sha256, full.mirrors, full.filename) == (
        12,
        "ab" * 32,
        ("http://mirror.invalid/a.pt",),
        "named.bin",
    )
    assert full.extra == {"extra_field": 1}
    assert [e.id for e in catalog.dependants(full)] == ["needs"]


# -- validation ------------------------------------------------------------------------------------


def refused(tmp_path: Path, entries: list[dict] | None = None, text: str | None = None) -> str:
    path = tmp_path / "bad.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    else:
        write_catalog(path, entries)
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    message = str(info.value)
    assert str(path) in message
    return message


def test_json_syntax_error_names_the_file_and_the_line(tmp_path):
    text = '{\n  "format": 1,\n  "entries": [\n    {"id": "a",, }\n  ]\n}\n'
    message = refused(tmp_path, text=text)
    assert "line 4" in message


@pytest.mark.parametrize("field", ["id", "title", "group", "url"])
def test_missing_required_field_is_named(tmp_path, field):
    row = entry("a-model", URL)
    del row[field]
    message = refused(tmp_path, [row])
    assert f"'{field}'" in message and "required" in message
    if field != "id":
        assert "'a-model'" in message


def test_duplicate_ids_are_refused(tmp_path):
    message = refused(tmp_path, [entry("twice", URL), entry("twice", "https://example.invalid/b.pt")])
    assert "'twice'" in message and "'id'" in message and "not unique" in message


def test_duplicate_ids_across_catalog_files_are_refused(tmp_path):
    first = write_catalog(tmp_path / "one.json", [entry("twice", URL)])
    second = write_catalog(tmp_path / "two.json", [entry("twice", "https://example.invalid/b.pt")])
    with pytest.raises(CatalogError) as info:
        load_catalog([first, second])
    assert str(second) in str(info.value) and "'twice'" in str(info.value)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.invalid/a.pt", "s3://bucket/a.pt", "example.invalid/a.pt"]
)
def test_only_http_and_https_urls_are_accepted(tmp_path, url):
    message = refused(tmp_path, [entry("a", url)])
    assert "'a'" in message and "'url'" in message and "unsupported URL scheme" in message


def test_mirror_urls_are_checked_too(tmp_path):
    message = refused(tmp_path, [entry("a", URL, mirrors=["ftp://mirror.invalid/a.pt"])])
    assert "'mirrors'" in message and "unsupported URL scheme" in message


@pytest.mark.parametrize("name", ["sub/a.pt", "..\\a.pt", "a\\b.pt", "..", "../a.pt", ".hidden.pt", "."])
def test_filename_must_be_a_plain_name_inside_the_models_folder(tmp_path, name):
    message = refused(tmp_path, [entry("a", URL, filename=name)])
    assert "'a'" in message and "'filename'" in message


def test_a_url_whose_last_segment_is_not_a_file_name_needs_a_filename(tmp_path):
    message = refused(tmp_path, [entry("a", "https://example.invalid/dir/..%2F..%2Fetc")])
    assert "'a'" in message and "filename" in message


@pytest.mark.parametrize("sha", ["abc", "g" * 64, "a" * 63, "a" * 65, 12])
def test_sha256_must_be_64_hex_digits(tmp_path, sha):
    message = refused(tmp_path, [entry("a", URL, sha256=sha)])
    assert "'a'" in message and "'sha256'" in message


@pytest.mark.parametrize(
    "field,value",
    [
        ("group", "Test"),
        ("group", []),
        ("size", -1),
        ("size", "1G"),
        ("mirrors", "https://example.invalid/m.pt"),
        ("base", "nowhere"),
    ],
)
def test_other_bad_values_name_the_entry_and_field(tmp_path, field, value):
    message = refused(tmp_path, [entry("a", URL, **{field: value})])
    assert "'a'" in message and f"'{field}'" in message


def test_entries_sharing_a_url_must_agree_on_the_file(tmp_path):
    message = refused(tmp_path, [entry("a", URL, sha256="a" * 64), entry("b", URL, sha256="b" * 64)])
    assert "'b'" in message and "'sha256'" in message


@pytest.mark.parametrize("text", ["[]", '{"format": 2, "entries": []}', '{"format": 1}'])
def test_wrong_top_level_shape_is_refused(tmp_path, text):
    refused(tmp_path, text=text)


def test_missing_catalog_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog([tmp_path / "nope.json"])


# -- through the command line -----------------------------------------------------------------------


def test_cli_invalid_catalog_exits_2_with_the_message_and_no_traceback(tmp_path, models_dir, capsys):
    bad = write_catalog(tmp_path / "bad.json", [entry("a", "ftp://example.invalid/a.pt")])
    code = cli.main(["--dir", str(models_dir), "--catalog", str(bad), "list"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(bad) in err and "unsupported URL scheme" in err and "Traceback" not in err


def test_cli_json_syntax_error_in_a_subprocess_exits_2_without_traceback(tmp_path, models_dir):
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": 1,\n "entries": [\n', encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ofa_manager",
            "--dir",
            str(models_dir),
            "--catalog",
            str(bad),
            "list",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert str(bad) in done.stderr and "line 3" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_cli_catalog_option_is_repeatable(tmp_path, models_dir, capsys):
    one = write_catalog(tmp_path / "one.json", [entry("first", "https://example.invalid/1.pt")])
    two = write_catalog(tmp_path / "two.json", [entry("second", "https://example.invalid/2.pt")])
    assert (
        cli.main(["--dir", str(models_dir), "--catalog", str(one), "--catalog", str(two), "list", "--json"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rows] == ["first", "second"]


def test_cli_catalog_option_after_the_command_works_too(tmp_path, models_dir, capsys):
    one = write_catalog(tmp_path / "one.json", [entry("first", "https://example.invalid/1.pt")])
    assert cli.main(["list", "--json", "--dir", str(models_dir), "--catalog", str(one)]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == ["first"]


def test_cli_without_catalog_uses_the_builtin_one(models_dir, capsys):
    assert cli.main(["--dir", str(models_dir), "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 13 and rows[0]["id"] == "ofa-huge"
