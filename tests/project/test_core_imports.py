"""The engine and the command line work with Qt impossible to import (a headless server, a slim install)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys

import ofa_manager.core
from tests.catalogs import REPO, cli_env

QT = ("PySide6", "shiboken6", "PySide2", "shiboken2", "PyQt5", "PyQt6")

BLOCK_QT = f"""
import sys

class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {QT!r}:
            raise ImportError(f"{{name}} is blocked by the test")
        return None

sys.meta_path.insert(0, BlockQt())
"""

CORE_MODULES = sorted(f"ofa_manager.core.{m.name}" for m in pkgutil.iter_modules(ofa_manager.core.__path__))


def run_python(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_QT + code],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=120,
    )


def test_the_core_modules_are_the_expected_ones():
    assert {
        "ofa_manager.core.catalog",
        "ofa_manager.core.library",
        "ofa_manager.core.http",
        "ofa_manager.core.transfer",
        "ofa_manager.core.queue",
        "ofa_manager.core.settings",
        "ofa_manager.core.credentials",
        "ofa_manager.core.units",
    } <= set(CORE_MODULES)


def test_core_and_cli_import_with_qt_blocked(tmp_path):
    code = f"""
import importlib
for name in {CORE_MODULES + ["ofa_manager.cli"]!r}:
    importlib.import_module(name)
try:
    import PySide6
except ImportError:
    pass
else:
    raise SystemExit("the blocker did not work")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {QT!r} or m.startswith("ofa_manager.gui"))
print("LOADED", loaded)
"""
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout


def test_list_json_works_with_qt_blocked(tmp_path, models_dir):
    code = f"""
from ofa_manager.cli import main
status = main(["--dir", {str(models_dir)!r}, "list", "--json"])
assert not [m for m in sys.modules if m.split(".")[0] in {QT!r}], "Qt was imported"
sys.exit(status)
"""
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 13 and {row["state"] for row in rows} == {"remote"}


def test_no_command_without_qt_prints_the_catalog_summary_and_usage(tmp_path, models_dir):
    code = f"""
from ofa_manager.cli import main
sys.exit(main(["--dir", {str(models_dir)!r}]))
"""
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ofa-large" in done.stdout and "usage: ofa-manager" in done.stdout
    assert "the window cannot start" in done.stderr and "Traceback" not in done.stderr


def test_no_core_source_imports_qt():
    offenders = []
    command_line = sorted((REPO / "ofa_manager" / "cli").glob("*.py"))
    window_opener = REPO / "ofa_manager" / "cli" / "__init__.py"
    for path in sorted((REPO / "ofa_manager" / "core").glob("*.py")) + command_line:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in QT:
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
                # The command line opens the window for `gui` (and no command): only its entry module may.
                if name.startswith("ofa_manager.gui") and path != window_opener:
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert offenders == []
