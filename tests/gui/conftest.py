"""Fixtures of the window tests: the catalog server and opened windows (closed, engine ended, at the end)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ofa_manager.core import claims
from ofa_manager.core import settings as settings_file
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.settings import Settings
from ofa_manager.gui.window import MainWindow
from ofa_manager.gui.workspace import Workspace
from tests.catalogs import engine_threads
from tests.windows import WAIT_MS, Server


@pytest.fixture
def server(http_server, tmp_path) -> Server:
    return Server(http_server, tmp_path)


@pytest.fixture
def open_window(qtbot, models_dir) -> Iterator[Callable[..., MainWindow]]:
    """Opens windows as the app does (window painted, then the engine starts); closes them at the end."""
    opened: list[MainWindow] = []

    def open_(
        catalog: Path | list[Path],
        settings: Settings | None = None,
        root: Path | None = None,
        *,
        queue_in_window: bool = False,
    ) -> MainWindow:
        saved = settings or settings_file.load()
        workspace = Workspace(
            load_catalog(catalog if isinstance(catalog, list) else [catalog]),
            saved,
            root or models_dir,
            queue_in_window=queue_in_window,
        )
        window = MainWindow(workspace)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        workspace.start()
        qtbot.waitUntil(lambda: workspace.store.statuses is not None, timeout=WAIT_MS)
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.close()
    # Closing stops every download, worker and the download process; none may outlive the test.
    qtbot.waitUntil(lambda: not engine_threads(), timeout=5000)
    for window in opened:
        process = getattr(window.workspace.process.queue, "process", None)
        assert process is None or process.poll() is not None


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The thread each checkpoint read runs on (a spy around the real reader, which still runs)."""
    seen: list[str] = []
    real = claims.read_checkpoint

    def spy(path, *args, **kwargs):
        seen.append(threading.current_thread().name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(claims, "read_checkpoint", spy)
    return seen


@pytest.fixture
def english(qapp):
    """The window's language installed as start-up installs it (English plural forms), removed after."""
    from ofa_manager.gui import i18n

    i18n.install("en", qapp)
    yield
    i18n.uninstall(qapp)


@pytest.fixture
def model_scene(tmp_path, http_server, qtbot, english):
    """A models folder, its catalog and the window's store, without the window (tests/model_scene.py)."""
    from tests.model_scene import ModelScene

    scene = ModelScene(tmp_path, http_server, qtbot)
    yield scene
    scene.close()


@pytest.fixture
def queue_scene(tmp_path, http_server, qtbot, english):
    """The same, with the download queue running in this process (one download at a time)."""
    from tests.model_scene import ModelScene

    scene = ModelScene(
        tmp_path, http_server, qtbot, settings=Settings(jobs=1, connections=1), queue_in_window=True
    )
    yield scene
    scene.close()
    qtbot.waitUntil(lambda: not engine_threads(), timeout=5000)
