"""A plain, non-editable ``pip install .`` into a new venv carries the catalog and the icons."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_pip_install_into_new_venv_ships_resources(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "docs"
        ),
    )
    env_dir = tmp_path / "venv"
    # System site packages provide the dependencies (PySide6 alone is ~270 MB); ofa-manager itself is
    # installed into the venv from the copied source, without an editable link back to the checkout.
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(source)],
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    shutil.rmtree(source)  # nothing may be found through the source folder any more

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [python, "-c", "import ofa_manager.core.resources as r; print(r.resources_dir())"],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.strip()
    resources = Path(where)
    assert str(resources).startswith(str(env_dir)), resources
    assert (resources / "catalog.json").is_file()
    icons = list((resources / "icons" / "hicolor").glob("*/apps/*"))
    assert len(icons) >= 8, icons
    assert list(resources.glob("*.desktop")) and list(resources.glob("*.metainfo.xml"))

    result = subprocess.run(
        [env_dir / "bin" / "ofa-manager", "--dir", str(tmp_path / "models"), "list", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 13
    assert {"ofa-tiny", "ofa-huge", "refcocog-pi-adapter"} <= {row["id"] for row in rows}
    assert (env_dir / "bin" / "ofa-manager-gui").exists()
