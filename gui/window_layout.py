"""WindowLayout: the main window's docks sized for the screen, the lesson's height, the zoom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont, QGuiApplication, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QStyle, QWidget

if TYPE_CHECKING:
    from engine.config import RunConfig
    from gui.charts import ChartsPanel
    from gui.code_view import CodeView
    from gui.event_log import EventLog
    from gui.lesson_view import LessonView
    from gui.pending_charts import PendingCharts

APP_NAME = "QueueLab"
PRESENTER_SCALE = 1.3
ZOOM_STEP = 1.15
ZOOM_MIN = 0.6
ZOOM_MAX = 3.0
# A diagnosis may take this share of the window's height from the tabs below the lesson.
LESSON_SHARE = 0.4
LESSON_SHARE_PROBLEM = 0.5
WIDE_SCREEN_PX = 1700
# The code's column on wide screens: its statements (not its comments) fit in presenter mode.
RIGHT_COLUMN_PX = 500


class WindowLayout(QMainWindow):
    """Dock geometry and text scale, a base of MainWindow (which creates the docks).

    Qt shares heights and widths out anew after many changes (a new central widget, a
    resize, a longer diagnosis), so the lesson is refitted on the next loop turn.
    """

    charts: ChartsPanel | PendingCharts
    lesson_view: LessonView
    event_log: EventLog
    code_view: CodeView
    lesson_dock: QDockWidget
    config_dock: QDockWidget
    log_dock: QDockWidget
    code_dock: QDockWidget
    presenter_action: QAction
    log_beside: bool
    _presenter: bool
    _zoom: float
    _base_font: QFont | None
    _laid_out: bool
    _refit_pending: bool
    _widths_pending: bool
    _closing: bool

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    def _size_for_screen(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        width = avail.width() if avail is not None else 1280
        height = avail.height() if avail is not None else 800
        # The four charts need the full height to stay readable. Wide screens give the log a
        # column of its own; narrower ones share the left column between options and log,
        # and the log comes to the front while a run is going (the options are locked then).
        # The code shares the log's place: the log's column on wide screens, the options'
        # tabs otherwise (it comes to the front while a run goes on).
        self.log_beside = width >= WIDE_SCREEN_PX
        if not self.log_beside:
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.log_dock)
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.code_dock)
            self.tabifyDockWidget(self.config_dock, self.code_dock)
            self.tabifyDockWidget(self.code_dock, self.log_dock)
            self.config_dock.raise_()
        else:
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.code_dock)
            self.tabifyDockWidget(self.log_dock, self.code_dock)
            self.code_dock.raise_()
        if avail is not None:
            # A projector or a laptop: use all of it. Without a window manager (Xvfb) a
            # maximize request does nothing, so the size is also set by hand.
            self.resize(avail.size())
            self.move(avail.topLeft())
        else:
            self.resize(1280, 800)
        self._laid_out = True
        self._apply_dock_widths()
        self._fit_lesson_height(self._left_width(), height)

    def _left_width(self) -> int:
        """The left column: a third of the window, 340-480 px (380 when the log is beside).

        The lesson and the code (which shares this column below 1700 px) read best with their
        lines unwrapped; the charts keep the rest.
        """
        floor = 380 if self.log_beside else 340
        return max(floor, min(int(self.width() * 0.34), 480))

    def _apply_dock_widths(self) -> None:
        # Re-applied when the real charts replace the placeholder: a new central widget
        # makes Qt share the width out again, and the docks would take most of it. A cap
        # keeps them from it; people can still drag the splitter up to that.
        # On a wide screen the side columns stay about 25% each, so the charts keep half.
        cap = self._left_width()
        right = (self.log_dock, self.code_dock)
        for dock in (self.lesson_dock, self.config_dock, *right):
            dock.setMaximumWidth(cap if dock not in right or not self.log_beside else 480)
        self.resizeDocks([self.config_dock], [self._left_width()], Qt.Orientation.Horizontal)
        if self.log_beside:
            self.resizeDocks([self.log_dock], [RIGHT_COLUMN_PX], Qt.Orientation.Horizontal)

    def _refit_lesson_soon(self) -> None:
        """Fit the lesson once Qt has laid the docks out again (it shares heights out anew)."""
        if not self._refit_pending:
            self._refit_pending = True
            QTimer.singleShot(0, self._on_refit_timer_timeout)

    def _on_refit_timer_timeout(self) -> None:
        self._refit_pending = False
        if self.isVisible() and not self._closing:
            if self._widths_pending:
                self._widths_pending = False
                self._apply_dock_widths()
            self._fit_lesson_height(self.lesson_dock.width(), self.height())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refit_lesson_soon()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._laid_out:
            self._refit_lesson_soon()

    def _fit_lesson_height(self, width: int, height: int) -> None:
        """Give the lesson just the height its text needs; the rest goes to the options."""
        lv = self.lesson_view
        if self.isVisible() and lv.width() > 50:
            # Measured: the text at the width it gets beside a scroll bar (so a scroll bar
            # that shows for a moment cannot stay because it narrowed the text), plus what
            # the dock adds around it (title bar, frames).
            bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, lv)
            need = lv.text_height(lv.width() - 2 * lv.frameWidth() - bar)
            need += self.lesson_dock.height() - lv.viewport().height()
        else:
            need = lv.text_height(width - 28) + 28  # before the first layout: an estimate
        problem = bool(lv.diagnosis_view.sentences())
        share = LESSON_SHARE_PROBLEM if problem else LESSON_SHARE
        lesson = max(120, min(need, int(height * share)))
        # resizeDocks shares the column's real height out in proportion to the sizes given:
        # they must add up to it (separator included), or the lesson gets less than it needs.
        central = self.centralWidget()
        column = central.height() if self.isVisible() and central is not None else height - 110
        column -= self.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent)
        self.resizeDocks(
            [self.lesson_dock, self.config_dock],
            [lesson, max(200, column - lesson)],
            Qt.Orientation.Vertical,
        )

    def _update_title(self, cfg: RunConfig | None) -> None:
        if cfg is None:
            return
        title = cfg.title or "custom configuration"
        self.setWindowTitle(f"{APP_NAME} — {title}")

    def _show_log_or_options(self, log: bool) -> None:
        if not self.log_beside:
            # While a run goes on the options are locked: its code, with the lines the
            # workers execute, is more to look at than the log (one click away).
            (self.code_dock if log else self.config_dock).raise_()

    def _on_presenter_action_toggled(self, on: bool) -> None:
        self.set_presenter(on)

    def set_presenter(self, on: bool) -> None:
        """Scale every text up for a projector; the charts thicken their lines too."""
        if on == self._presenter:
            return
        self._presenter = on
        self.presenter_action.setChecked(on)
        self._apply_scale()

    @property
    def presenter(self) -> bool:
        return self._presenter

    @property
    def zoom(self) -> float:
        """The Ctrl+= / Ctrl+- factor, on top of presenter mode's."""
        return self._zoom

    @property
    def font_scale(self) -> float:
        """How much larger than normal every text is now."""
        return self._zoom * (PRESENTER_SCALE if self._presenter else 1.0)

    def set_zoom(self, zoom: float) -> None:
        zoom = min(ZOOM_MAX, max(ZOOM_MIN, zoom))
        if abs(zoom - 1.0) < 0.01:
            zoom = 1.0
        if zoom != self._zoom:
            self._zoom = zoom
            self._apply_scale()

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def zoom_reset(self) -> None:
        self.set_zoom(1.0)

    def _place_step_pane(self) -> None:
        """Presenter mode with the flow view in front: the Step pane is a strip below it (the
        flow view needs the width); beside the charts, which need the height, a column."""
        step = getattr(self, "step_mode", None)
        if step is not None:
            tabs = getattr(self, "view_tabs", None)
            big = self._presenter or self._zoom >= PRESENTER_SCALE
            step.set_strip(big and tabs is not None and tabs.flow_shown)

    def _apply_scale(self) -> None:
        scale = self.font_scale
        app = QApplication.instance()
        if isinstance(app, QApplication):
            if self._base_font is None:
                self._base_font = app.font()
            font = QFont(self._base_font)
            if scale != 1.0:
                font.setPointSizeF(self._base_font.pointSizeF() * scale)
            # The application font, not the window's: an application style sheet stops a
            # parent's font from reaching its children.
            app.setFont(font)
            if scale == 1.0:
                self._base_font = None
            # The style sheet fixed every widget's font when it polished it; polish again.
            app.setStyleSheet(app.styleSheet())
        self.event_log.set_font_scale(scale)
        self.code_view.set_font_scale(scale)
        self.lesson_view.update_fonts()
        # The charts know two sizes: presenter's, for presenter mode or a zoom as large.
        self.charts.set_presenter(self._presenter or self._zoom >= PRESENTER_SCALE)
        flow = getattr(self, "flow_view", None)
        if flow is not None:  # the flow view's tokens and words scale the same way
            flow.set_presenter(self._presenter or self._zoom >= PRESENTER_SCALE)
        self._place_step_pane()
        if self.isVisible():
            self._refit_lesson_soon()
