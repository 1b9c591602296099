"""A lock file's rows, field by field, and the refusal naming every checkpoint that is not here
(core/lockfile.py; the command line's lock and its use: test_zoo.py)."""

from __future__ import annotations

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
