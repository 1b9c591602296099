"""A plain, non-editable ``pip install .`` into a new venv carries the catalog and the icons."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import venv
from pathlib import Path

import pytest

from tests.catalogs import REPO

ROOT = REPO


def _site_folders() -> list[str]:
    """The folders the running interpreter imports installed packages from (site and user site)."""
    folders = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [folder for folder in dict.fromkeys(folders) if Path(folder).is_dir()]


SKIPPED = (".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "docs")


def _copy_checkout(target: Path) -> None:
    """The checkout as git sees it (tracked files and new ones, not what .gitignore leaves out: a venv,
    scratch copies of the tree); without git, the tree minus the usual build and cache folders."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
    ) if shutil.which("git") and (ROOT / ".git").exists() else None  # fmt: skip
    if listed is None or listed.returncode != 0:
        shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*SKIPPED))
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        if name.split("/")[0] == "docs" or not (ROOT / name).is_file():
            continue  # the docs are not shipped; a file deleted but not yet committed is gone
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)


@pytest.mark.slow
def test_pip_install_into_new_venv_ships_resources(tmp_path):
    source = tmp_path / "src"
    _copy_checkout(source)
    env_dir = tmp_path / "venv"
    # The new venv sees the dependencies of whichever environment runs the tests (a venv, the system
    # Python, CI) through a .pth file naming that environment's site folders (PySide6 alone is ~270 MB,
    # and no test reaches the network). Plain path lines add the folders without running the .pth files
    # inside them, so an editable install of this checkout stays invisible to the new venv.
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    (site_packages / "_running_environment.pth").write_text("\n".join(_site_folders()) + "\n")
    # ofa-manager itself is built from the copied source and installed into the venv, not as an
    # editable link back to the checkout; the build uses the setuptools of the running environment.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", str(source)],
        check=True, cwd=tmp_path, timeout=300, env=env,
    )  # fmt: skip
    shutil.rmtree(source)  # nothing may be found through the source folder any more

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
    # The window's translations and Qt's own Chinese for its standard buttons and dialogs.
    shipped = {path.name for path in (resources / "translations").glob("*.qm")}
    assert {"ofa_manager_zh_CN.qm", "ofa_manager_en.qm", "qtbase_zh_CN.qm"} <= shipped, shipped

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
