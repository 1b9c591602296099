"""Where the files shipped with ofa-manager (catalog, icons, desktop entry) are found."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The folder holding catalog.json and the icons, installed, in a checkout, or frozen."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "ofa_manager" / "resources"] if frozen else []
    here = Path(__file__).resolve().parent.parent
    candidates += [here / "resources", here.parent / "resources"]
    for candidate in candidates:
        if (candidate / "catalog.json").is_file():
            return candidate
    raise FileNotFoundError("ofa-manager's resources folder (catalog.json) is missing from this installation")


def builtin_catalog_path() -> Path:
    """The built-in catalog that reproduces the published checkpoint list."""
    return resources_dir() / "catalog.json"
