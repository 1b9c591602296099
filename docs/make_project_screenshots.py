"""Render the project and catalog views of the real window to docs/ (loopback server, real engine).

Usage: QT_QPA_PLATFORM=offscreen python docs/make_project_screenshots.py [OUTPUT_FOLDER]

Writes scan-report.png: "Check a project folder…" on the test fixture project (tests/data/project),
with the built-in catalog's entries served by a loopback server: OFA-Large downloaded and linked by an
Apply, a user's own ofa_base.pt in the way, the RefCOCO adapters not downloaded. And
settings-catalogs.png: the Settings dialog's Catalogs page with two imported lists (tests/data/zoo),
one of them disabled.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="ofa-screenshot-") as temp:
        temp = Path(temp)
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[name] = str(temp / name.lower())
        os.environ["HOME"] = str(temp)
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        os.environ.pop("OFA_MANAGER_DIR", None)
        return render(temp, output)


def render(temp: Path, output: Path) -> int:
    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    from ofa_manager import APP_NAME
    from ofa_manager.core import zoo
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.core.settings import Settings
    from ofa_manager.gui.window import MainWindow
    from ofa_manager.gui.workspace import Workspace
    from tests.httpserver import TestServer

    app = QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    with TestServer() as server:
        built_in = json.loads((REPO / "resources" / "catalog.json").read_text(encoding="utf-8"))
        for number, entry in enumerate(built_in["entries"]):
            name = entry["url"].rsplit("/", 1)[1]
            entry["url"] = server.url("/checkpoints/" + name)
            entry["size"] = entry["sha256"] = None  # small stand-ins for the real files
            server.add(f"/checkpoints/{name}", bytes([number]) * 40_000)
        catalog_file = temp / "catalog.json"
        catalog_file.write_text(json.dumps(built_in), encoding="utf-8")
        zoo_data = REPO / "tests" / "data" / "zoo"
        downloads = temp / "Downloads"  # where a user saved the lab's list
        downloads.mkdir()
        shutil.copy(zoo_data / "lab-models.md", downloads)
        zoo.import_document(str(downloads / "lab-models.md"), name="lab-models")
        zoo.import_document(
            str(zoo_data / "vision-zoo.html"), name="vision-zoo", base="https://zoo.example.org/models/"
        )
        workspace = Workspace(load_catalog([catalog_file]), Settings(), temp / "ofa-models")
        window = MainWindow(workspace)
        window.resize(1280, 720)
        window.show()
        workspace.start()

        def wait(condition, seconds: float = 60.0) -> None:
            clock = QElapsedTimer()
            clock.start()
            while not condition():
                if clock.elapsed() > seconds * 1000:
                    raise TimeoutError("the window did not reach the state to show")
                app.processEvents()
                time.sleep(0.01)

        wait(lambda: workspace.store.statuses is not None)
        project = temp / "ofa-project"
        shutil.copytree(REPO / "tests" / "data" / "project", project)
        checkpoints = project / "OFA" / "checkpoints"
        checkpoints.mkdir(parents=True)
        (checkpoints / "ofa_base.pt").write_bytes(b"a base model trained here")
        large = workspace.store.catalog.get("ofa-large")
        window.download([large])
        wait(lambda: workspace.store.library.local_or_store_path(large) is not None)
        window.ask = lambda title, text, choices, **options: choices[-1]  # Apply's question: not now
        # Project → Check a Project Folder…, the folder typed as a user would (HOME is the temporary folder).
        report = window.check_project_folder("~/ofa-project")
        wait(lambda: report.model.rowCount() > 0 and not report.jobs.running)
        # Link what is here (OFA-Large) as an Apply that declines the downloads would.
        from ofa_manager.core.project_setup import LinkRequest, make_links

        make_links(workspace.store.library, [LinkRequest(large, checkpoints, "ofa_large.pt")], "symlink")
        report.scan()
        wait(lambda: not report.jobs.running and report.model.rows and report.model.rows[2].linked)
        report.view.selectionModel().clear()
        report.resize(1180, 330)
        app.processEvents()
        output.mkdir(parents=True, exist_ok=True)
        shot = report.grab()
        shot.save(str(output / "scan-report.png"))
        report.close()

        workspace.store.settings.disabled_catalogs = ["vision-zoo"]
        settings = window.open_settings()
        settings.tabs.setCurrentWidget(settings.catalogs)
        settings.catalogs.select("lab-models")
        settings.resize(900, 420)
        app.processEvents()
        shot2 = settings.grab()
        shot2.save(str(output / "settings-catalogs.png"))
        settings.reject()
        window.close()
        workspace.close()
    print(f"wrote {output / 'scan-report.png'} ({shot.width()}×{shot.height()})")
    print(f"wrote {output / 'settings-catalogs.png'} ({shot2.width()}×{shot2.height()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
