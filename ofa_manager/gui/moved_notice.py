"""The bar above the tree that says a models folder's checkpoints were moved elsewhere, with a way there."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ofa_manager.core.moved import FolderMoved, read_marker
from ofa_manager.gui.bridge import Bridge
from ofa_manager.gui.commands import Commands
from ofa_manager.gui.status import display_path
from ofa_manager.gui.store import Store


class MovedNotice(QFrame):
    """Shown while the models folder is one whose checkpoints ofa-manager moved to another folder.

    The marker (core/moved.py) is read on a worker thread when the window opens and whenever the models
    folder changes; "Open X" switches the window to the folder the checkpoints went to.
    """

    def __init__(
        self, store: Store, commands: Commands, bridge: Bridge, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.commands = commands
        self.bridge = bridge
        self.moved: FolderMoved | None = None
        self.checked: Path | None = None  # the folder whose marker was last read
        self.setObjectName("moved-notice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.text = QLabel(self)
        self.text.setObjectName("moved-notice-text")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton(self)
        self.open_button.setObjectName("moved-notice-open")
        # Named before the folder is known too: assistive technology meets the button while it is hidden.
        self.open_button.setText(self.tr("Open the New Folder"))
        self.open_button.clicked.connect(self.open_new_folder)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.open_button)
        self.hide()
        store.folder_changed.connect(self.check)
        self.check()

    def check(self) -> None:
        """Read the models folder's marker in the background; the bar follows the answer."""
        root = self.store.library.root
        self.bridge.submit(lambda task: read_marker(root), lambda result: self._read(root, result))

    def _read(self, root: Path, result: FolderMoved | None) -> None:
        if root != self.store.library.root:
            return  # the answer for a folder the window has left meanwhile
        self.moved = result
        self.checked = root
        if result is None:
            self.hide()
            return
        self.text.setText(
            self.tr("The checkpoints of this folder were moved to {folder} on {date}.").format(
                folder=display_path(result.moved_to), date=result.date
            )
        )
        self.open_button.setText(self.tr("Open {folder}").format(folder=display_path(result.moved_to)))
        self.open_button.setToolTip(
            self.tr("Use {folder} as the models folder").format(folder=str(result.moved_to))
        )
        self.show()

    def open_new_folder(self) -> None:
        if self.moved is not None:
            self.commands.change_folder(Path(self.moved.moved_to), move_files=False)
