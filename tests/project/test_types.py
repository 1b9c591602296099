"""The engine (ofa_manager/core) and the window layer's boundaries (the bridge, the download process and
its owner, the store, the commands, the tasks, the actions) type-check clean with mypy, with the files and
settings of pyproject.toml [tool.mypy].

mypy keeps its cache in the checkout's .mypy_cache (ignored by git): the first run takes a while, the
next ones only look at what changed.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.catalogs import REPO


def mypy(*args: str, cwd=REPO, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(REPO / ".mypy_cache"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_the_engine_type_checks():
    done = mypy()  # the files and the settings come from pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_a_type_error_in_the_engine_is_found(tmp_path):
    # The same settings, on a copy of one engine module with a mistake added: the check can fail.
    module = tmp_path / "units.py"
    source = (REPO / "ofa_manager" / "core" / "units.py").read_text(encoding="utf-8")
    module.write_text(source + '\n\ndef broken() -> int:\n    return "not a number"\n', encoding="utf-8")

    done = mypy("--config-file", str(REPO / "pyproject.toml"), str(module), cwd=tmp_path)

    assert done.returncode == 1
    assert "units.py:" in done.stdout and "Incompatible return value type" in done.stdout


def test_a_type_error_against_the_window_layer_is_found(tmp_path):
    # The store and the commands are typed at their boundaries: misusing them is caught.
    module = tmp_path / "misuse.py"
    module.write_text(
        "from ofa_manager.gui.commands import Commands\n"
        "from ofa_manager.gui.store import Store\n\n\n"
        "def rows(store: Store) -> str:\n"
        "    return store.item_count()\n\n\n"
        "def pause(commands: Commands) -> None:\n"
        "    commands.pause_key(3)\n",
        encoding="utf-8",
    )

    # The package from this checkout (an editable install is not visible to mypy).
    env = dict(os.environ, MYPYPATH=str(REPO))
    done = mypy("--config-file", str(REPO / "pyproject.toml"), str(module), cwd=tmp_path, env=env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "misuse.py:6:" in done.stdout and "Incompatible return value type" in done.stdout
    assert "misuse.py:10:" in done.stdout and 'incompatible type "int"' in done.stdout
