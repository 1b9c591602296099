"""The main window's geometry: its toolbar, column widths and place on the screen (a part of MainWindow).

Kept apart from gui/window.py so that file holds the wiring; MainWindow inherits these methods. Qt's
``self.tr()`` looks the strings up under every class of the object's MRO, so they translate here too.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QMenu,
    QSizePolicy,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from ofa_manager.gui.actions import (
    PROJECT_MENU,
    TOOLBAR,
    add_actions,
)
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.delegates import ProgressDelegate
from ofa_manager.gui.i18n import duration_text, size_text
from ofa_manager.gui.screen_fit import clamp_to, first_geometry
from ofa_manager.gui.tree import (
    COL_NAME,
    COL_PARAMS,
    COL_SIZE,
    COL_STATUS,
    CheckpointTreeModel,
)

# The search box never gets narrower than this for the toolbar's labels: they give way first.
SEARCH_MIN_WIDTH = 200


class WindowLayout:
    """The toolbar, the columns' widths, the window's first size and its place on the screen."""

    def _build_toolbar(self) -> None:
        bar = QToolBar(self.tr("Actions"), self)
        bar.setObjectName("actions")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        add_actions(bar, self.actions_by_name, TOOLBAR)
        self.project_menu = QMenu(self.tr("Project"), self)
        self.project_menu.setObjectName("project-menu")
        add_actions(self.project_menu, self.actions_by_name, PROJECT_MENU)
        # An icon with a menu, whatever the toolbar's style: with its label the toolbar would no longer
        # fit a 1280-pixel screen with labels (see _fit_toolbar); its name is in the tooltip and the
        # accessible name.
        project = QToolButton(bar)
        project.setObjectName("project-button")
        project.setIcon(self.style().standardIcon(QStyle.SP_DirLinkIcon))
        project.setText(self.tr("Project"))
        project.setAccessibleName(self.tr("Project"))
        project.setToolTip(
            self.tr("Project: check a project folder, link into one, add a catalog, export a lock file")
        )
        project.setToolButtonStyle(Qt.ToolButtonIconOnly)
        project.setPopupMode(QToolButton.InstantPopup)
        project.setMenu(self.project_menu)
        bar.addWidget(project)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        bar.addWidget(spacer)
        self._spacer = spacer
        bar.addWidget(self.search)
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar
        self._toolbar_text_width = 0  # what the toolbar needs with its labels shown, measured once

    def _size_columns(self, room: int | None = None) -> None:
        """Room for the usual texts: a long name, the widest progress line ("99 % — 1023.9 MiB/s — 59 min
        59 s left"), a failure. Given the tree's ``room``, the status column takes what is left, down to
        the progress line without its speed (the delegate drops that part first; the tooltip keeps it)."""
        from ofa_manager.gui.status import progress_text

        header = self.tree.header()
        metrics = self.tree.fontMetrics()
        margins = 2 * ProgressDelegate.MARGIN + 12

        def width(*samples: str) -> int:
            return max(metrics.horizontalAdvance(sample) for sample in samples)

        # The widest times left: "9 min 59 s", "23 h 59 min".
        lines = [progress_text(999, 1000, 1023.9 * 1024 * 1024, eta) for eta in (599, 86399)]
        full = max(lines, key=metrics.horizontalAdvance)
        shortest = max(
            (
                progress_text(999, 1000, 0, None)
                + " — "
                + QCoreApplication.translate("status", "{time} left").format(time=duration_text(eta))
                for eta in (599, 86399)
            ),
            key=metrics.horizontalAdvance,
        )
        # The name also needs the tree's indentation (three levels) and the shared-file icon.
        fixed = {
            COL_NAME: width(catalog_text("π-Adapter checkpoint on RefCOCO+"))
            + 3 * self.tree.indentation()
            + 40,
            COL_PARAMS: width(self.model.headerData(COL_PARAMS, Qt.Horizontal)) + 24,
            # A group's total while some sizes are still unknown is the widest usual text.
            COL_SIZE: width(
                CheckpointTreeModel.tr("{size} + %n unknown", "", 1).format(size=size_text(9.9 * 2**30)),
                self.model.headerData(COL_SIZE, Qt.Horizontal),
            )
            + 24,
        }
        status = width(full, self.tr("Failed: 404 Not Found")) + margins
        if room is not None:
            status = max(width(shortest) + margins, min(status, room - sum(fixed.values())))
            # Still short of room: the names give way (elided, whole in their tooltips), to a point.
            short_of = status - (room - sum(fixed.values()))
            if short_of > 0:
                least = width("Adapter checkpoint") + 3 * self.tree.indentation() + 40
                fixed[COL_NAME] = max(least, fixed[COL_NAME] - short_of)
        for column, size in (*fixed.items(), (COL_STATUS, status)):
            header.resizeSection(column, size)

    def _fit_toolbar(self) -> None:
        """Labels beside the icons when the window has room for every button and the search box, else
        icons alone (their names stay in the tooltips and for assistive technology): never a toolbar
        whose last buttons hide behind its overflow menu."""
        bar = self.toolbar
        if not self._toolbar_text_width:
            style = bar.toolButtonStyle()
            bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            # The buttons with their labels, and the search box at a useful width (it grows when it can).
            layout = bar.layout()
            margins = layout.contentsMargins()
            widgets = [bar.widgetForAction(a) for a in bar.actions()]
            buttons = [w for w in widgets if w is not None and w is not self.search and w is not self._spacer]
            self._toolbar_text_width = (
                sum(w.sizeHint().width() for w in buttons)
                + layout.spacing() * (len(widgets) + 1)
                + margins.left()
                + margins.right()
                + SEARCH_MIN_WIDTH
                + 16  # the toolbar's handle and frame
            )
            bar.setToolButtonStyle(style)
        roomy = self.width() >= self._toolbar_text_width
        wanted = Qt.ToolButtonTextBesideIcon if roomy else Qt.ToolButtonIconOnly
        if bar.toolButtonStyle() != wanted:
            bar.setToolButtonStyle(wanted)

    def _keep_frame_on_screen(self) -> None:
        """The window, frame included (known once shown), fits the screen it opened on: a place saved on
        another screen or a larger one is brought back whole."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        inner, outer = self.geometry(), self.frameGeometry()
        room = screen.availableGeometry().adjusted(
            inner.left() - outer.left(),
            inner.top() - outer.top(),
            inner.right() - outer.right(),
            inner.bottom() - outer.bottom(),
        )
        fitted = clamp_to(inner, room)
        if fitted != inner:
            self.setGeometry(fitted)

    def _restore_layout(self) -> None:
        s = self.store.settings
        geometry = QByteArray.fromBase64(s.window_geometry.encode())
        # A saved place is made to fit the screen it opens on once shown (_keep_frame_on_screen).
        if not (s.window_geometry and self.restoreGeometry(geometry)):
            self.setGeometry(first_geometry(QGuiApplication.primaryScreen().availableGeometry()))
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))
        # Both splitters in the one setting: "main;tree", each base64.
        main, _, top = s.splitter_state.partition(";")
        if not (main and self.splitter.restoreState(QByteArray.fromBase64(main.encode()))):
            self.splitter.setSizes([self.height() * 3 // 5, self.height() * 2 // 5])
        if not (top and self.top_splitter.restoreState(QByteArray.fromBase64(top.encode()))):
            side = min(320, max(260, self.width() // 4))  # the details need about 250 px
            self.top_splitter.setSizes([self.width() - side, side])
        self._fit_toolbar()
