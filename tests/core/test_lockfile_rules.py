"""A lock file's rows, field by field, and the refusal naming every checkpoint that is not here
(core/lockfile.py; the command line's lock and its use: test_zoo.py)."""

from __future__ import annotations

import calendar
import re
import time

import pytest

from ofa_manager.core.catalog import FORMAT
from ofa_manager.core.library import Library
from ofa_manager.core.lockfile import LockError, build_lock
from tests.catalogs import entry, load, payload, sha256, write_catalog

DATA = payload(1000)


@pytest.fixture
def library(tmp_path, models_dir) -> Library:
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry(
                "a",
                "http://x.invalid/a.pt",
                sha256=sha256(DATA),
                size=len(DATA),
                mirrors=["http://m.invalid/a.pt"],
                filename="model-a.pt",
            ),
            entry("b", "http://x.invalid/b.pt"),
            entry("c", "http://x.invalid/c.pt"),
        ],
    )
    library = Library(models_dir, load(catalog))
    a = library.catalog.get("a")
    library.path(a).write_bytes(DATA)
    assert library.adopt(a)  # the catalog's size and sha256 match: ours, hashed
    return library


def test_a_lock_row_pins_the_file_with_its_mirrors_and_name(library):
    lock = build_lock(library, library.catalog)
    assert lock["format"] == FORMAT and lock["title"] == f"Lock of {library.catalog.title}"
    (row,) = lock["entries"]  # only what is here is pinned
    assert row == {
        "id": "a",
        "title": "A",
        "group": ["Test"],
        "url": "http://x.invalid/a.pt",
        "mirrors": ["http://m.invalid/a.pt"],
        "filename": "model-a.pt",
        "size": len(DATA),
        "sha256": sha256(DATA),
        "base": None,
        "params": None,
        "description": "",
    }


def test_locking_named_checkpoints_that_are_not_here_names_each_of_them(library):
    catalog = library.catalog
    with pytest.raises(LockError) as info:
        build_lock(library, catalog, [catalog.get("a"), catalog.get("b"), catalog.get("c")])
    assert f"not downloaded in {library.root}, so not pinned: b, c (" in str(info.value)


def test_a_backbone_not_pinned_is_not_named_and_the_catalogs_own_fields_are_carried(tmp_path, models_dir):
    rows = [
        entry("base", "http://x.invalid/base.pt"),
        entry(
            "tuned", "http://x.invalid/t.pt", sha256=sha256(DATA), size=len(DATA), base="base", license="MIT"
        ),
    ]
    library = Library(models_dir, load(write_catalog(tmp_path / "c.json", rows)))
    tuned = library.catalog.get("tuned")
    library.path(tuned).write_bytes(DATA)
    assert library.adopt(tuned)
    (row,) = build_lock(library, library.catalog)["entries"]
    assert row["id"] == "tuned" and row["base"] is None  # "base" is not here, so not in the lock
    assert row["license"] == "MIT"


def test_the_lock_time_is_utc_whatever_the_local_zone(library, monkeypatch):
    monkeypatch.setenv("TZ", "Etc/GMT-12")  # twelve hours ahead of UTC
    time.tzset()
    try:
        before = int(time.time())
        stamp = build_lock(library, library.catalog)["locked_at"]
        after = int(time.time())
    finally:
        monkeypatch.undo()
        time.tzset()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    seconds = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    assert before <= seconds <= after
