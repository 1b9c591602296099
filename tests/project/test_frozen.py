"""The frozen one-folder app builds with packaging/build.sh, runs its command line and opens its window."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ofa_manager import __version__
from tests.catalogs import REPO

ROOT = REPO
BACKBONES = {"ofa-huge", "ofa-large", "ofa-base", "ofa-medium", "ofa-tiny"}
PETL = {
    "refcoco-adapter",
    "refcoco-lora",
    "refcoco-prompt",
    "refcoco-pi-adapter",
    "refcocoplus-adapter",
    "refcocoplus-pi-adapter",
    "refcocog-adapter",
    "refcocog-pi-adapter",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="build.sh and this check are for Linux"),
    # The first test pays for the build (about half a minute on two cores).
    pytest.mark.timeout(900),
]


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory) -> Path:
    """The bundle's executable, built from a copy of the tree so the checkout stays untouched."""
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install .[package])")
    base = tmp_path_factory.mktemp("frozen")
    source = base / "source"
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "dist", "*.egg-info")
    for name in ("ofa_manager", "resources", "packaging"):
        shutil.copytree(ROOT / name, source / name, ignore=junk)
    shutil.copy2(ROOT / "pyproject.toml", source / "pyproject.toml")
    environment = dict(os.environ, PYTHON=sys.executable, QT_QPA_PLATFORM="offscreen")
    # PyInstaller's --clean empties its cache folder: give it one of its own.
    environment["PYINSTALLER_CONFIG_DIR"] = str(base / "pyinstaller-cache")
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(source / "packaging" / "build.sh"),
         "--distpath", str(base / "dist"), "--workpath", str(base / "work")],
        cwd=source, env=environment, capture_output=True, text=True, timeout=840,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"build failed after {time.monotonic() - started:.0f}s:\n{output[-6000:]}"
    executable = base / "dist" / "ofa-manager" / "ofa-manager"
    assert executable.is_file() and os.access(executable, os.X_OK), output[-3000:]
    return executable


def test_frozen_command_line_lists_the_built_in_catalog(frozen_app, tmp_path):
    models = tmp_path / "models"
    result = subprocess.run(
        [str(frozen_app), "list", "--json", "--dir", str(models)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert BACKBONES | PETL <= rows.keys()
    assert len({rows[i]["url"] for i in PETL}) == 1, "the eight PETL entries share one published file"
    assert len({rows[i]["url"] for i in BACKBONES}) == len(BACKBONES)
    assert all(row["state"] == "remote" for row in rows.values())


def test_frozen_app_ships_the_translations(frozen_app):
    """The window's Chinese and Qt's own, where the bundle's resources folder is found at run time."""
    found = {path.name: path for path in frozen_app.parent.rglob("*.qm") if "translations" in path.parts}
    assert {"ofa_manager_zh_CN.qm", "ofa_manager_en.qm", "qtbase_zh_CN.qm"} <= found.keys()
    assert found["ofa_manager_zh_CN.qm"].parent.parent.name == "resources"


def test_frozen_command_line_reports_its_version(frozen_app):
    result = subprocess.run(
        [str(frozen_app), "--version"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ofa-manager {__version__}"


def test_frozen_app_without_arguments_opens_the_window(frozen_app, tmp_path, isolated_user_folders):
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", OFA_MANAGER_DIR=str(tmp_path / "models"))
    environment.update({name: str(folder) for name, folder in isolated_user_folders.items()})
    process = subprocess.Popen(
        [str(frozen_app)], env=environment, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        # Without a window to run, the app would print a summary and exit straight away.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        running = process.poll() is None
        # The window runs its downloads in a second copy of the same executable.
        children_file = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        children = children_file.read_text().split() if children_file.exists() else []
        child_commands = [Path(f"/proc/{child}/exe").resolve() for child in children]
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert running, f"the window closed by itself (exit code {process.returncode}):\n{output[-4000:]}"
    assert frozen_app.resolve() in child_commands, (
        f"no download process started: {child_commands}\n{output[-4000:]}"
    )


def test_frozen_app_keeps_a_token_in_the_secret_service_and_downloads_with_it(
    frozen_app, tmp_path, http_server, secret_service
):
    from tests.catalogs import entry, payload, write_catalog

    token = "tok-frozen-0d41-in-gnome-keyring"
    data = payload(200_000, 7)
    http_server.add("/private.pt", data, require_token=token)
    catalog = write_catalog(tmp_path / "catalog.json", [entry("private", http_server.url("/private.pt"))])
    # The bundle finds the Secret Service backend through keyring's entry points and secretstorage.
    env = secret_service.process_env()
    site = ["--catalog", str(catalog), "--dir", str(tmp_path / "models")]

    login = subprocess.run(
        [str(frozen_app), "login", http_server.netloc], input=token + "\n",
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert login.returncode == 0, login.stdout + login.stderr
    assert secret_service.lookup("ofa-manager", http_server.netloc) == token

    done = subprocess.run(
        [str(frozen_app), *site, "download", "private"],
        capture_output=True, text=True, env=env, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "models" / "private.pt").read_bytes() == data
    requests = http_server.requests_for("/private.pt", "GET")
    assert requests and all(r.headers.get("authorization") == f"Bearer {token}" for r in requests)
    assert token not in done.stdout + done.stderr + login.stdout + login.stderr
