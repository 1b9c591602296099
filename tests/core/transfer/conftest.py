"""Fixtures of the transfer tests."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ofa_manager.core import transfer as transfer_module
from tests.catalogs import MiB


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 10 MiB folder: a tmpfs where one can be mounted (root), else a simulated volume whose free
    space is 10 MiB less the blocks of the files in it (then writing past it does not fail)."""
    folder = tmp_path / "small"
    folder.mkdir()
    capacity = 10 * MiB
    mounted = (
        shutil.which("mount") is not None
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={capacity}", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    if not mounted:

        def simulated_free(path):
            used = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
            return max(0, capacity - used)

        monkeypatch.setattr(transfer_module, "free_space", simulated_free)
    yield folder
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)
