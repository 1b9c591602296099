"""core/resources.py: where the shipped files (catalog, icons, desktop entry) are found. A frozen bundle's
own folder comes first, then the installed package's, then a checkout's beside the package; a folder
without a catalog.json file is passed over, and none at all is a clear error naming what is missing."""

from __future__ import annotations

import json
import sys

import pytest

from ofa_manager.core import resources


def shipped(folder):
    """A resources folder with its catalog; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.json").write_text('{"format": 1, "entries": []}', encoding="utf-8")
    return folder


@pytest.fixture
def site(tmp_path, monkeypatch):
    """The module as if installed at <tmp>/site/ofa_manager/core/resources.py (only its __file__ is read),
    not frozen."""
    core = tmp_path / "site" / "ofa_manager" / "core"
    core.mkdir(parents=True)
    (core / "resources.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(resources, "__file__", str(core / "resources.py"))
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    return tmp_path / "site"


def test_an_installed_package_uses_its_own_folder_before_one_beside_it(site):
    installed = shipped(site / "ofa_manager" / "resources")
    shipped(site / "resources")
    assert resources.resources_dir() == installed
    assert resources.builtin_catalog_path() == installed / "catalog.json"


def test_a_checkout_uses_the_folder_beside_the_package(site):
    checkout = shipped(site / "resources")
    assert resources.resources_dir() == checkout
    assert resources.builtin_catalog_path() == checkout / "catalog.json"


def test_a_frozen_bundle_uses_its_own_folder_first(site, tmp_path, monkeypatch):
    shipped(site / "ofa_manager" / "resources")
    bundled = shipped(tmp_path / "bundle" / "ofa_manager" / "resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    assert resources.resources_dir() == bundled


def test_a_frozen_bundle_without_its_catalog_falls_back_to_the_package(site, tmp_path, monkeypatch):
    installed = shipped(site / "ofa_manager" / "resources")
    (tmp_path / "bundle" / "ofa_manager" / "resources").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    assert resources.resources_dir() == installed


def test_a_folder_named_catalog_json_is_not_a_catalog(site):
    (site / "ofa_manager" / "resources" / "catalog.json").mkdir(parents=True)
    checkout = shipped(site / "resources")
    assert resources.resources_dir() == checkout


def test_a_module_reached_through_a_link_finds_the_folder_of_the_real_package(site, tmp_path, monkeypatch):
    installed = shipped(site / "ofa_manager" / "resources")
    linked = tmp_path / "elsewhere" / "ofa_manager"
    linked.mkdir(parents=True)
    (linked / "core").symlink_to(site / "ofa_manager" / "core", target_is_directory=True)
    monkeypatch.setattr(resources, "__file__", str(linked / "core" / "resources.py"))
    assert resources.resources_dir() == installed


def test_no_resources_anywhere_is_a_clear_error(site):
    with pytest.raises(FileNotFoundError) as raised:
        resources.resources_dir()
    assert str(raised.value) == (
        "ofa-manager's resources folder (catalog.json) is missing from this installation"
    )


def test_the_checkout_finds_the_published_catalog():
    path = resources.builtin_catalog_path()
    assert path.name == "catalog.json" and path.parent == resources.resources_dir()
    assert len(json.loads(path.read_text(encoding="utf-8"))["entries"]) > 0
