"""Start-up of the window: one instance per models folder, the application object, the first paint."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from ofa_manager import APP_ID, APP_NAME, __version__

# Set to 1 to print "first-paint <time.monotonic()>" when the window first paints; "exit" also quits then.
REPORT_FIRST_PAINT = "OFA_MANAGER_REPORT_FIRST_PAINT"
CONNECT_TIMEOUT_MS = 500


class SingleInstance(QObject):
    """One window per models folder and user: a later launch asks the first one to come forward.

    Signals:
        activated(): another launch on the same folder wants this window in front
    """

    activated = Signal()

    def __init__(self, key: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = f"{APP_NAME}-{key}"
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        if os.name == "posix" and runtime and os.path.isdir(runtime):
            # The user's own runtime folder rather than /tmp: private, and emptied at logout.
            self.name = os.path.join(runtime, self.name)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.UserAccessOption)
        self.server.newConnection.connect(self._connected)

    def claim(self) -> bool:
        """True when this process is the first on the folder (and now listens); False if one runs already."""
        if self.forward():
            return False
        if self.server.listen(self.name):
            return True
        # Either another instance started this very moment, or a crashed one left its socket behind.
        if self.forward():
            return False
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def forward(self) -> bool:
        """Ask a running instance to come forward; False when none answers."""
        socket = QLocalSocket(self)
        try:
            socket.connectToServer(self.name)
            if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
                return False
            socket.write(b"raise\n")
            socket.flush()
            socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
            socket.disconnectFromServer()
            return True
        finally:
            socket.deleteLater()

    def close(self) -> None:
        self.server.close()

    def _connected(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.disconnected.connect(connection.deleteLater)
            connection.close()
            self.activated.emit()


def run(models_dir: str | None, catalog_files: list[str] | None) -> int:
    """Open the window on a models folder (the setting's when None) and a catalog (the built-in when None)."""
    from ofa_manager.core import settings as settings_file
    from ofa_manager.core.catalog import load_catalog
    from ofa_manager.gui.icons import app_icon
    from ofa_manager.gui.workspace import Workspace, folder_key

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())

    saved = settings_file.load()
    root = Path(models_dir).expanduser() if models_dir else saved.models_path()
    instance = SingleInstance(folder_key(root))
    if not instance.claim():
        print(f"{APP_NAME} is already open on {root}; brought its window forward", file=sys.stderr)
        return 0
    catalog = load_catalog(catalog_files)

    from ofa_manager.gui.window import MainWindow

    # A frozen build has no Python to start the download process with: it runs downloads in-process.
    workspace = Workspace(catalog, saved, root, separate_process=True)
    window = MainWindow(workspace)
    instance.activated.connect(window.bring_forward)
    # The engine (and its slower imports) starts once the window is on screen.
    window.first_painted.connect(lambda: QTimer.singleShot(0, workspace.start))
    report = os.environ.get(REPORT_FIRST_PAINT, "")
    if report:
        window.first_painted.connect(lambda: _report_first_paint(app, quit_after=report == "exit"))
    window.show()
    stop_on_signals = close_on_signals(window)
    warning = broken_pyside_warning()
    if warning:
        print(f"{APP_NAME}: {warning}", file=sys.stderr)
        window.show_message(warning)
    try:
        return app.exec()
    finally:
        stop_on_signals()
        workspace.close()
        instance.close()


def close_on_signals(window) -> Callable[[], None]:
    """Ctrl+C in the terminal (SIGINT) and SIGTERM close the window as its close button does.

    Python runs signal handlers only between bytecodes, and an idle Qt loop runs none: the signal's
    wake-up byte on a socket, watched by the event loop, gets the handler run at once. Returns the undo.
    """
    if os.name != "posix":
        return lambda: None
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def drain() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass

    notifier.activated.connect(drain)
    previous = {sig: signal.signal(sig, lambda *_: window.close()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def undo() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        reader.close()
        writer.close()

    return undo


def broken_pyside_warning() -> str | None:
    """A known-bad PySide6 release for this Python, in words, or None."""
    import PySide6

    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        return ("PySide6 6.12.0 loses references to None on Python before 3.12, which crashes the window "
                "after some minutes of use; install another release: "
                "pip install 'PySide6-Essentials!=6.12.0'")
    return None


def _report_first_paint(app: QApplication, *, quit_after: bool) -> None:
    print(f"first-paint {time.monotonic():.6f}", flush=True)
    if quit_after:
        QTimer.singleShot(0, app.quit)
