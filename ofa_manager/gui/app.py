"""Start-up of the window: one instance per models folder, the application object, the first paint."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QDir, QLockFile, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from ofa_manager import APP_ID, APP_NAME, __version__

# Set to 1 to print "first-paint <time.monotonic()>" when the window first paints; "exit" also quits then.
REPORT_FIRST_PAINT = "OFA_MANAGER_REPORT_FIRST_PAINT"
CONNECT_TIMEOUT_MS = 500
# How long a launch that finds the folder held waits for the holder to listen (it may be starting too).
CLAIM_WAIT_S = 10.0
CLAIM_RETRY_S = 0.1


class SingleInstance(QObject):
    """One window per models folder and user: a later launch asks the first one to come forward.

    The first launch holds a lock file (QtCore) and then listens on a local socket (QtNetwork); a later
    one that finds the lock held connects to that socket. The lock decides who is first, so listening
    can wait until the window is on screen, and QtNetwork costs the first paint nothing.

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
        # Next to the socket (a relative socket name lives in the temp folder, as QLocalServer puts it).
        self.lock = QLockFile(os.path.join(QDir.tempPath(), self.name) + ".lock")
        # Held as long as the window is open: stale only when its process is gone, however old.
        self.lock.setStaleLockTime(0)
        self.server = None
        self.forwarded = False  # a running instance answered and was asked to come forward

    def claim(self, *, listen: bool = True) -> bool:
        """True when this process is the first on the folder; False when another one runs on it.

        The first holds the lock, and listens now unless ``listen`` is False (then call listen() once
        the window is up). Another one is asked to come forward (``forwarded`` says whether it answered);
        it may have the lock but not listen yet, while it starts, so this waits up to CLAIM_WAIT_S.
        """
        deadline = time.monotonic() + CLAIM_WAIT_S
        while True:
            if self.lock.tryLock(0):
                break
            if self.lock.error() != QLockFile.LockError.LockFailedError:
                # No lock file can be written (a read-only temp folder): the socket alone decides.
                if self.forward():
                    return False
                break
            if self.forward():
                return False
            # Removed only when no live process holds it (its holder crashed and the PID now belongs to
            # another program); the lock of a starting or running instance stays.
            if self.lock.removeStaleLockFile():
                continue
            if time.monotonic() > deadline:
                return False
            time.sleep(CLAIM_RETRY_S)
        if listen:
            self.listen()
        return True

    def listen(self) -> None:
        """Answer later launches on this folder; call once claim() returned True."""
        from PySide6.QtNetwork import QLocalServer

        if self.server is not None:
            return
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.UserAccessOption)
        self.server.newConnection.connect(self._connected)
        if not self.server.listen(self.name):
            # A crashed instance left its socket behind (this process holds the lock): replace it.
            QLocalServer.removeServer(self.name)
            self.server.listen(self.name)

    def forward(self) -> bool:
        """Ask a running instance to come forward; False when none answers."""
        from PySide6.QtNetwork import QLocalSocket

        socket = QLocalSocket(self)
        try:
            socket.connectToServer(self.name)
            if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
                return False
            socket.write(b"raise\n")
            socket.flush()
            socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
            socket.disconnectFromServer()
            self.forwarded = True
            return True
        finally:
            socket.deleteLater()

    def stop_answering(self) -> None:
        """Stop answering later launches (the window is closing): they wait for the lock instead."""
        if self.server is not None:
            self.server.close()

    def close(self) -> None:
        self.stop_answering()
        if self.lock.isLocked():
            self.lock.unlock()

    def _connected(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.disconnected.connect(connection.deleteLater)
            connection.close()
            self.activated.emit()


def run(models_dir: str | None, catalog_files: list[str] | None) -> int:
    """Open the window on a models folder (the setting's when None) and a catalog (the built-in when None)."""
    from ofa_manager.core import settings as settings_file
    from ofa_manager.core.catalog import CatalogError, load_catalog
    from ofa_manager.gui.download_process import folder_key
    from ofa_manager.gui.icons import app_icon
    from ofa_manager.gui.workspace import Workspace

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())

    saved, settings_problems = settings_file.load_checked()
    for problem in settings_problems:
        print(f"{APP_NAME}: warning: {problem}", file=sys.stderr)
    root = Path(models_dir).expanduser() if models_dir else saved.models_path()
    instance = SingleInstance(folder_key(root))
    if not instance.claim(listen=False):
        if instance.forwarded:
            print(f"{APP_NAME} is already open on {root}; brought its window forward", file=sys.stderr)
        else:
            print(
                f"{APP_NAME} is already open on {root} but does not answer; close it (or end its "
                f"process) and try again",
                file=sys.stderr,
            )
            return 1
        return 0
    try:
        from ofa_manager.core.zoo import default_catalog_paths

        # Without --catalog: the built-in catalog and each enabled imported one (core/zoo.py).
        catalog = load_catalog(catalog_files or default_catalog_paths(saved.disabled_catalogs))
    except CatalogError as exc:
        # Started from a launcher, nobody reads stderr: the reason is shown, then the command line's
        # handler prints it and exits 2 as for any other command.
        show_catalog_error(str(exc))
        instance.close()
        raise

    from ofa_manager.gui.window import MainWindow

    def claim_folder(new_root: Path) -> bool:
        """One window per folder also after a folder change: take the new folder's lock, or refuse."""
        nonlocal instance
        claimed = SingleInstance(folder_key(new_root))
        if not claimed.lock.tryLock(0):
            claimed.forward()  # that folder's window comes forward instead
            return False
        claimed.listen()
        claimed.activated.connect(window.bring_forward)
        instance.close()
        instance = claimed
        return True

    workspace = Workspace(catalog, saved, root, claim_folder=claim_folder)
    window = MainWindow(workspace)
    instance.activated.connect(window.bring_forward)
    # The engine and the instance's socket (and their slower imports) start once the window is on screen.
    window.first_painted.connect(lambda: QTimer.singleShot(0, instance.listen))
    window.first_painted.connect(lambda: _start_engine(workspace))
    report = os.environ.get(REPORT_FIRST_PAINT, "")
    if report:
        window.first_painted.connect(lambda: _report_first_paint(app, quit_after=report == "exit"))
    window.show()
    if settings_problems:
        window.show_message(
            QCoreApplication.translate("app", "Some settings could not be used: %1").replace(
                "%1", " ".join(settings_problems)
            )
        )
    stop_on_signals = close_on_signals(window)
    warning = broken_pyside_warning()
    if warning:
        print(f"{APP_NAME}: {warning}", file=sys.stderr)
        window.show_message(warning)
    try:
        return app.exec()
    finally:
        stop_on_signals()
        # A launch while the downloads stop gets a new window once the lock is free, not a dying one.
        instance.stop_answering()
        workspace.close()
        instance.close()


def show_catalog_error(message: str) -> None:
    """Say in a dialog why the catalog cannot be used (the window cannot open without one)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(
        QMessageBox.Icon.Critical,
        QCoreApplication.translate("app", "%1: the catalog cannot be used").replace("%1", APP_NAME),
        QCoreApplication.translate("app", "The catalog cannot be used, so the window cannot open."),
    )
    box.setObjectName("catalog-error")
    box.setInformativeText(message)
    box.exec()


def close_on_signals(window) -> Callable[[], None]:
    """Ctrl+C in the terminal (SIGINT) and SIGTERM close the window as its close button does.

    Python runs signal handlers only between bytecodes, and an idle Qt loop runs none: the signal's
    wake-up byte on a pipe, watched by the event loop, gets the handler run at once. Returns the undo.
    """
    if os.name != "posix":
        return lambda: None
    import signal

    from PySide6.QtCore import QSocketNotifier

    # A pipe rather than socket.socketpair(): on POSIX the wake-up fd may be any non-blocking fd, and
    # the socket module alone costs the start-up a few milliseconds.
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    os.set_blocking(writer, False)
    previous_fd = signal.set_wakeup_fd(writer)
    notifier = QSocketNotifier(reader, QSocketNotifier.Type.Read, window)

    def drain() -> None:
        try:
            os.read(reader, 64)
        except OSError:
            pass

    notifier.activated.connect(drain)
    previous = {
        sig: signal.signal(sig, lambda *_: window.close_now()) for sig in (signal.SIGINT, signal.SIGTERM)
    }

    def undo() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        os.close(reader)
        os.close(writer)

    return undo


class _EngineLoader(QObject):
    """Imports the engine's network and keyring modules off the GUI thread.

    Signals:
        loaded(): the imports are done (delivered to the GUI thread).
    """

    loaded = Signal()


def _start_engine(workspace) -> None:
    """requests and keyring take ~150 ms to import: that happens in a thread, then the queue starts."""
    loader = _EngineLoader(workspace)

    def load() -> None:
        import ofa_manager.gui.queue_process  # noqa: F401  (imports requests, keyring, the engine)

        loader.loaded.emit()

    loader.loaded.connect(workspace.start)
    loader.loaded.connect(loader.deleteLater)
    threading.Thread(target=load, name="ofa-engine-import", daemon=True).start()


def broken_pyside_warning() -> str | None:
    """A known-bad PySide6 release for this Python, in words, or None."""
    import PySide6

    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        return (
            "PySide6 6.12.0 loses references to None on Python before 3.12, which crashes the window "
            "after some minutes of use; install another release: "
            "pip install 'PySide6-Essentials!=6.12.0'"
        )
    return None


def _report_first_paint(app: QApplication, *, quit_after: bool) -> None:
    print(f"first-paint {time.monotonic():.6f}", flush=True)
    if quit_after:
        QTimer.singleShot(0, app.quit)
