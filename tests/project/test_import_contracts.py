"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and each of them can fail.

What they say: the command line and the window sit above the engine, which imports neither them nor Qt;
the views reach the download process (and the transfers, and requests) only through the commands and
the store; the queue's states and the protocol with the download process import only the standard library.
tests/project/test_core_imports.py proves the first at run time too, by importing the engine with Qt blocked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.catalogs import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    # The checkout's own package comes first on the path (a copy, for the tests that break one).
    env = dict(os.environ, PYTHONPATH=str(checkout))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *args],
        capture_output=True,
        text=True,
        cwd=checkout,
        env=env,
        timeout=120,
    )


def verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT or BROKEN, from lint-imports' report."""
    return {m[1]: m[2] for m in re.finditer(r"^(.+) (KEPT|BROKEN)$", output, re.MULTILINE)}


def test_every_import_contract_is_kept():
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    kept = verdicts(done.stdout)
    assert len(kept) >= 3 and set(kept.values()) == {"KEPT"}, done.stdout


# Each contract, broken on purpose in a copy of the package: (contract, module file, the line added).
BREAKS = [
    ("layers", "core/units.py", "from ofa_manager.gui import status"),
    ("layers", "gui/status.py", "import ofa_manager.cli"),
    ("core-without-qt", "core/units.py", "import PySide6.QtCore"),
    ("views-not-process", "gui/tree.py", "from ofa_manager.gui import queue_process"),
    ("views-not-process", "gui/downloads.py", "from ofa_manager.core.queue import DownloadQueue"),
    ("views-not-process", "gui/window.py", "import requests"),
    ("views-not-process", "gui/downloads.py", "from ofa_manager.gui import download_process"),
    ("views-not-process", "gui/actions.py", "from ofa_manager.gui.queue_process import LocalQueue"),
    ("states-stdlib-only", "core/protocol.py", "from ofa_manager.core.queue import DownloadQueue"),
    ("states-stdlib-only", "core/protocol.py", "from ofa_manager.core.transfer_options import Progress"),
    ("states-stdlib-only", "core/states.py", "import filelock"),
]


@pytest.mark.parametrize(("contract", "module", "line"), BREAKS, ids=[f"{c}:{m}" for c, m, _ in BREAKS])
def test_a_forbidden_import_breaks_its_contract(tmp_path, contract, module, line):
    checkout = tmp_path / "checkout"
    shutil.copytree(
        REPO / "ofa_manager", checkout / "ofa_manager", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "pyproject.toml", checkout / "pyproject.toml")
    assert lint_imports(checkout, "--contract", contract).returncode == 0  # the copy is whole
    target = checkout / "ofa_manager" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # forbidden, on purpose\n")

    done = lint_imports(checkout, "--contract", contract)

    assert done.returncode != 0
    assert list(verdicts(done.stdout).values()) == ["BROKEN"], done.stdout
    dotted = "ofa_manager." + module.removesuffix(".py").replace("/", ".")
    assert dotted in done.stdout  # the report names the module that broke it
