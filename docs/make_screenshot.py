"""Render the real window in a realistic state to docs/screenshot.png (loopback server, real engine).

Usage: QT_QPA_PLATFORM=offscreen python docs/make_screenshot.py [OUTPUT.png]
       QT_QPA_PLATFORM=offscreen python docs/make_screenshot.py --details [OUTPUT.png]
       xvfb-run -s "-screen 0 1280x800x24" python docs/make_screenshot.py --language zh_CN
           (docs/screenshot-zh_CN.png: the window in Chinese, on an X screen with CJK fonts)
       python docs/make_screenshot.py --screen 1024x600 docs/screenshot-1024x600.png

The catalog has the built-in titles, groups and parameters, with its URLs pointing at a loopback
server: two backbones are downloaded (one verified), OFA-Base is downloading through a throttled
route, OFA-Huge fails with a 404, and the rest are not downloaded (sizes from HEAD probes). The two
downloaded backbones are the real checkpoint fixtures of tests/data (OFA-Tiny and OFA-Large as fairseq
saves them, over tiny storages), so their rows show the normal state, not a warning about what they hold.

``--screen WxH`` takes the picture on a real X server of that size (Xvfb, started and stopped here): the
window fills the screen, as a user would maximise it there, and ImageMagick's ``import -window root``
takes what the X server shows.

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


# Served from the checkpoint fixtures: files whose contents match what the catalog says they hold.
FIXTURES = {
    "ofa_tiny.pt": "fairseq_ofa_tiny.pt",
    "ofa_large.pt": "fairseq_ofa_large_args.pt",
}


def main() -> int:
    args = sys.argv[1:]
    details = "--details" in args
    args = [a for a in args if a != "--details"]
    language = os.environ.get("OFA_SCREENSHOT_LANGUAGE", "en")
    if "--language" in args:
        at = args.index("--language")
        language = args[at + 1]
        del args[at : at + 2]
    os.environ["OFA_SCREENSHOT_LANGUAGE"] = language  # also for the run inside Xvfb
    screen = None
    if "--screen" in args:
        at = args.index("--screen")
        width, height = (int(v) for v in args[at + 1].split("x"))
        screen = (width, height)
        del args[at : at + 2]
        if "DISPLAY_STARTED_HERE" not in os.environ:
            return on_xvfb(width, height, args)
    default = REPO / "docs" / ("details.png" if details else "screenshot.png")
    if language != "en":
        default = default.with_name(f"{default.stem}-{language}.png")
    output = Path(args[0]) if args else default
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
        return render_details(temp, output) if details else render(temp, output, screen)


def on_xvfb(width: int, height: int, args: list[str]) -> int:
    """Run this script again inside a fresh Xvfb of the given size."""
    import subprocess

    display = f":{90 + os.getpid() % 9}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", DISPLAY_STARTED_HERE="1")
        return subprocess.call([sys.executable, __file__, "--screen", f"{width}x{height}", *args], env=env)
    finally:
        server.terminate()
        server.wait()


def fixture_params(path: Path) -> int:
    """How many parameters a checkpoint file holds, as the window's contents check counts them."""
    from ofa_manager.core.checkpoint_contents import read_checkpoint
    from ofa_manager.core.claims import summarize

    return summarize(read_checkpoint(path))["params"]


def render(temp: Path, output: Path, screen: tuple[int, int] | None = None) -> int:
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
        if name in FIXTURES:
            (served / name).write_bytes(
                (REPO / "tests" / "data" / "checkpoints" / FIXTURES[name]).read_bytes()
            )
            continue
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
            name = entry["url"].rsplit("/", 1)[1]
            entry["url"] = server.url("/checkpoints/" + name)
            if name in FIXTURES:
                # The fixtures are fine-tuned checkpoints of the same architecture, with fewer parameters
                # than the published backbone: the claim is theirs, as a published file's matches its own.
                entry["expect"]["params"] = fixture_params(served / name)
        catalog_file = temp / "catalog.json"
        catalog_file.write_text(json.dumps(built_in), encoding="utf-8")

        from ofa_manager.gui.window import MainWindow

        root = temp / "ofa-models"
        workspace = Workspace(load_catalog([catalog_file]), Settings(jobs=3, connections=4), root)
        window = MainWindow(workspace)
        if screen is None:
            window.resize(1280, 800)
        window.show()
        if screen is not None:
            # As a user would maximise it (no window manager runs in this X server to do it).
            window.setGeometry(window.screen().availableGeometry())
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

        wait(lambda: workspace.store.statuses is not None)
        workspace.commands.download([catalog.get("ofa-tiny"), catalog.get("ofa-large")])
        downloaded, verified = translate("status", "Downloaded"), translate("status", "Verified")
        wait(lambda: state("ofa-tiny") == downloaded and state("ofa-large") == downloaded)
        workspace.commands.verify([catalog.get("ofa-tiny")])
        wait(lambda: state("ofa-tiny") == verified)
        workspace.commands.download([catalog.get("ofa-huge")])
        failed = translate("status", "Failed: {reason}").split("{")[0]
        wait(lambda: state("ofa-huge").startswith(failed))
        workspace.commands.download([catalog.get("ofa-base")])
        base = catalog.get("ofa-base")
        wait(
            lambda: (
                (item := workspace.store.item_for(base)) is not None
                and item.eta is not None
                and item.speed
                and state("ofa-medium") != translate("status", "Checking…")
                and window.model.index_of("ofa-medium", 2).data() != translate("units", "unknown")
            )
        )
        # Let the speed settle over a few seconds, as a user would see it.
        settle = time.monotonic() + 4
        wait(lambda: time.monotonic() > settle)
        window.select(["ofa-base"])
        wait(lambda: window.disk.model.rowCount() >= 2)
        app.processEvents()
        output.parent.mkdir(parents=True, exist_ok=True)
        if screen is not None:
            import subprocess

            settle = time.monotonic() + 0.5
            wait(lambda: time.monotonic() > settle)
            subprocess.run(["import", "-window", "root", str(output)], check=True)
            size = f"{screen[0]}×{screen[1]}"
        else:
            image = window.grab()
            image.save(str(output))
            size = f"{image.width()}×{image.height()}"
        window.close()
        workspace.close()
    print(f"wrote {output} ({size})")
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

        wait(lambda: workspace.store.statuses is not None)
        adapter = catalog.get("refcoco-adapter")
        workspace.commands.download([adapter])
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
