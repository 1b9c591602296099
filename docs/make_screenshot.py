"""Render the real window in a realistic state to docs/screenshot.png (loopback server, real engine).

Usage: QT_QPA_PLATFORM=offscreen python docs/make_screenshot.py [OUTPUT.png]
       QT_QPA_PLATFORM=offscreen python docs/make_screenshot.py --details [OUTPUT.png]
       xvfb-run -s "-screen 0 1280x800x24" python docs/make_screenshot.py --language zh_CN
           (docs/screenshot-zh_CN.png: the window in Chinese, on an X screen with CJK fonts)

The catalog has the built-in titles, groups and parameters, with its URLs pointing at a loopback
server: two backbones are downloaded (one verified), OFA-Base is downloading through a throttled
route, OFA-Huge fails with a 404, and the rest are not downloaded (sizes from HEAD probes).

``--details`` (docs/details.png): the published situation of the PETL links. The server's
caption_huge_best.pt is the test fixture fairseq_ofa_huge_caption.pt (OFA-Huge fine-tuned for caption,
with OFA-Huge's shapes over tiny storages); the Adapter on RefCOCO is downloaded and selected, and the
details pane says what the file holds against what the catalog claims.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MiB = 1024 * 1024
# Sizes in the range of the published checkpoints; the files are sparse, so they cost no disk space.
SIZES = {
    "ofa_tiny.pt": 135 * MiB,
    "ofa_medium.pt": 362 * MiB,
    "ofa_base.pt": 706 * MiB,
    "ofa_large.pt": 1816 * MiB,
    "ofa_huge.pt": 3520 * MiB,
    "caption_huge_best.pt": 1902 * MiB,
}


def main() -> int:
    args = sys.argv[1:]
    details = "--details" in args
    args = [a for a in args if a != "--details"]
    language = "en"
    if "--language" in args:
        at = args.index("--language")
        language = args[at + 1]
        del args[at : at + 2]
    default = REPO / "docs" / ("details.png" if details else "screenshot.png")
    if language != "en":
        default = default.with_name(f"{default.stem}-{language}.png")
    output = Path(args[0]) if args else default
    os.environ["OFA_SCREENSHOT_LANGUAGE"] = language
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="ofa-screenshot-") as temp:
        temp = Path(temp)
        # The user's own settings, queue and keyring stay untouched.
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[name] = str(temp / name.lower())
        # Paths then read ~/ofa-models/…, as on a user's machine.
        os.environ["HOME"] = str(temp)
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        os.environ.pop("OFA_MANAGER_DIR", None)
        return render_details(temp, output) if details else render(temp, output)


def render(temp: Path, output: Path) -> int:
    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    from ofa_manager import APP_NAME
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.core.settings import Settings
    from ofa_manager.gui.workspace import Workspace
    from tests.httpserver import TestServer

    app = QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    translate = _install_language(app)
    served = temp / "served"
    served.mkdir()
    for name, size in SIZES.items():
        with open(served / name, "wb") as fh:
            fh.truncate(size)
    with TestServer() as server:
        for name in SIZES:
            route = server.add(f"/checkpoints/{name}", file=served / name)
            if name == "ofa_base.pt":
                route.rate = 3 * MiB  # per connection: a download that is still running at the snapshot
            if name == "ofa_huge.pt":
                route.statuses = [404] * 50
        built_in = json.loads((REPO / "resources" / "catalog.json").read_text(encoding="utf-8"))
        for entry in built_in["entries"]:
            entry["url"] = server.url("/checkpoints/" + entry["url"].rsplit("/", 1)[1])
        catalog_file = temp / "catalog.json"
        catalog_file.write_text(json.dumps(built_in), encoding="utf-8")

        from ofa_manager.gui.window import MainWindow

        root = temp / "ofa-models"
        workspace = Workspace(load_catalog([catalog_file]), Settings(jobs=3, connections=4), root)
        window = MainWindow(workspace)
        window.resize(1280, 800)
        window.show()
        workspace.start()
        catalog = workspace.catalog

        def wait(condition, seconds: float = 60.0) -> None:
            clock = QElapsedTimer()
            clock.start()
            while not condition():
                if clock.elapsed() > seconds * 1000:
                    raise TimeoutError("the window did not reach the state to show")
                app.processEvents()
                time.sleep(0.01)

        def state(entry_id: str) -> str:
            from ofa_manager.gui.tree import COL_STATUS

            return window.model.index_of(entry_id, COL_STATUS).data()

        wait(lambda: workspace.statuses is not None)
        workspace.download([catalog.get("ofa-tiny"), catalog.get("ofa-medium")])
        downloaded, verified = translate("status", "Downloaded"), translate("status", "Verified")
        wait(lambda: state("ofa-tiny") == downloaded and state("ofa-medium") == downloaded)
        workspace.verify([catalog.get("ofa-tiny")])
        wait(lambda: state("ofa-tiny") == verified)
        workspace.download([catalog.get("ofa-huge")])
        failed = translate("status", "Failed: {reason}").split("{")[0]
        wait(lambda: state("ofa-huge").startswith(failed))
        workspace.download([catalog.get("ofa-base")])
        base = catalog.get("ofa-base")
        wait(
            lambda: (
                (item := workspace.item_for(base)) is not None
                and item.eta is not None
                and item.speed
                and state("ofa-large") != translate("status", "Checking…")
                and window.model.index_of("ofa-large", 2).data() != translate("units", "unknown")
            )
        )
        # Let the speed settle over a few seconds, as a user would see it.
        settle = time.monotonic() + 4
        wait(lambda: time.monotonic() > settle)
        window.select(["ofa-base"])
        wait(lambda: window.disk.model.rowCount() >= 2)
        app.processEvents()
        image = window.grab()
        output.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(output))
        window.close()
        workspace.close()
    print(f"wrote {output} ({image.width()}×{image.height()})")
    return 0


def _install_language(app):
    """The window's language as the app installs it (English: the source strings); returns translate."""
    from PySide6.QtCore import QCoreApplication

    from ofa_manager.gui import i18n

    i18n.install(os.environ.get("OFA_SCREENSHOT_LANGUAGE", "en"), app)
    return QCoreApplication.translate


def render_details(temp: Path, output: Path) -> int:
    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    from ofa_manager import APP_NAME
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.core.settings import Settings
    from ofa_manager.gui.window import MainWindow
    from ofa_manager.gui.workspace import Workspace
    from tests.httpserver import TestServer

    app = QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    fixture = REPO / "tests" / "data" / "checkpoints" / "fairseq_ofa_huge_caption.pt"
    with TestServer() as server:
        server.add("/checkpoints/caption_huge_best.pt", fixture.read_bytes())
        served = temp / "served"
        served.mkdir()
        for name, size in SIZES.items():
            if name != "caption_huge_best.pt":
                with open(served / name, "wb") as fh:
                    fh.truncate(size)
                server.add(f"/checkpoints/{name}", file=served / name)
        built_in = json.loads((REPO / "resources" / "catalog.json").read_text(encoding="utf-8"))
        for entry in built_in["entries"]:
            entry["url"] = server.url("/checkpoints/" + entry["url"].rsplit("/", 1)[1])
        catalog_file = temp / "catalog.json"
        catalog_file.write_text(json.dumps(built_in), encoding="utf-8")
        workspace = Workspace(load_catalog([catalog_file]), Settings(), temp / "ofa-models")
        window = MainWindow(workspace)
        window.resize(1280, 720)
        window.show()
        workspace.start()
        catalog = workspace.catalog

        def wait(condition, seconds: float = 60.0) -> None:
            clock = QElapsedTimer()
            clock.start()
            while not condition():
                if clock.elapsed() > seconds * 1000:
                    raise TimeoutError("the window did not reach the state to show")
                app.processEvents()
                time.sleep(0.01)

        wait(lambda: workspace.statuses is not None)
        adapter = catalog.get("refcoco-adapter")
        workspace.download([adapter])
        wait(lambda: workspace.contents.summary_of(adapter) is not None)
        window.splitter.setSizes([560, 120])
        window.top_splitter.setSizes([700, 580])
        window.select(["refcoco-adapter"])
        wait(lambda: window.details.labels["verdict"].text().startswith("⚠"))
        app.processEvents()
        image = window.grab()
        output.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(output))
        window.close()
        workspace.close()
    print(f"wrote {output} ({image.width()}×{image.height()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
