"""CodeView: the configuration's standalone program, coloured, with the lines workers execute."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCursor,
    QTextFormat,
    QTextOption,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from engine.codegen import (
    code_line_map,
    generate_program,
    main_line_key,
    worker_line_key,
)
from engine.config import RunConfig
from engine.model import RunModel
from gui.code_highlight import COLOURS, PythonHighlighter, is_dark

MAIN_NAME = "main"
class _LineNumbers(QWidget):
    """The gutter: it only forwards painting and size to the editor."""

    def __init__(self, editor: CodeEdit) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._editor.paint_gutter(event)


class CodeEdit(QPlainTextEdit):
    """Read-only monospace text with line numbers and named chips on the running lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("code_edit")
        self.setReadOnly(True)
        # Wrapped: a narrow pane must still show a lesson's whole BUG comment, and a
        # projector audience cannot scroll sideways.
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self._gutter = _LineNumbers(self)
        self._running: dict[int, str] = {}  # 1-based line -> "consumer-0, consumer-2"
        self._dark = is_dark(self.palette())
        self.blockCountChanged.connect(self._on_self_blockCountChanged)
        self.updateRequest.connect(self._on_self_updateRequest)
        self._on_self_blockCountChanged(0)

    # ------------------------------------------------------------------ gutter
    def gutter_width(self) -> int:
        digits = max(2, len(str(self.blockCount())))
        return 14 + self.fontMetrics().horizontalAdvance("9") * digits

    def _on_self_blockCountChanged(self, _count: int) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_self_updateRequest(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        pal = self.palette()
        painter.fillRect(event.rect(), pal.color(QPalette.ColorRole.AlternateBase))
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        strong = pal.color(QPalette.ColorRole.Text)
        block = self.firstVisibleBlock()
        top = self.blockBoundingGeometry(block).translated(self.contentOffset()).top()
        height = self.fontMetrics().height()
        width = self._gutter.width() - 6
        bold = QFont(self.font())
        bold.setBold(True)
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + self.blockBoundingRect(block).height()
            if block.isVisible() and bottom >= event.rect().top():
                line = block.blockNumber() + 1
                running = line in self._running
                painter.setFont(bold if running else self.font())
                painter.setPen(strong if running else muted)
                painter.drawText(0, int(top), width, height, Qt.AlignmentFlag.AlignRight, str(line))
            block = block.next()
            top = bottom
        painter.end()

    # ------------------------------------------------------------------ running lines
    def set_running(self, running: dict[int, str], focus: int | None = None) -> None:
        """Highlight these 1-based lines, each with a chip naming who executes it.

        When ``focus`` (a line) is out of sight, the text scrolls to it.
        """
        self._running = dict(running)
        colour = QColor(COLOURS[self._dark]["running"])
        selections = []
        doc = self.document()
        for line in sorted(self._running):
            block = doc.findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            sel = QTextEdit.ExtraSelection()
            sel.format.setBackground(colour)
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            cursor = QTextCursor(block)
            sel.cursor = cursor
            selections.append(sel)
        self.setExtraSelections(selections)
        if focus is not None and not self._line_visible(focus):
            self.setTextCursor(QTextCursor(doc.findBlockByNumber(focus - 1)))
            self.centerCursor()
        self.viewport().update()
        self._gutter.update()

    def _line_visible(self, line: int) -> bool:
        block = self.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return False
        geo = self.blockBoundingGeometry(block).translated(self.contentOffset())
        return geo.top() >= 0 and geo.bottom() <= self.viewport().height()

    def running(self) -> dict[int, str]:
        return dict(self._running)

    def set_dark(self, dark: bool) -> None:
        self._dark = dark
        self.set_running(self._running)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._running:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.9)  # a chip, not code: a size smaller
        painter.setFont(font)
        fm = QFontMetricsF(font)
        text_fm = QFontMetricsF(self.font())
        chip_bg = QColor(COLOURS[self._dark]["chip"])
        chip_fg = QColor("#1f2328") if self._dark else QColor("#ffffff")
        offset = self.contentOffset()
        margin = self.document().documentMargin()
        view_w = self.viewport().width()
        doc = self.document()
        for line, names in self._running.items():
            block = doc.findBlockByNumber(line - 1)
            if not block.isValid() or not block.isVisible():
                continue
            geo = self.blockBoundingGeometry(block).translated(offset)
            if geo.bottom() < 0 or geo.top() > self.viewport().height():
                continue
            line_h = text_fm.height()
            h = min(line_h, fm.height() + 2)
            line_text = block.text()
            # A wrapped statement: the chip goes after its last visual line.
            layout = block.layout()
            last = layout.lineAt(layout.lineCount() - 1) if layout.lineCount() else None
            end = offset.x() + margin + (last.naturalTextWidth() if last is not None else 0.0)
            top = geo.top() + (last.y() if last is not None else 0.0)
            text = f"◀ {names}"
            w = fm.horizontalAdvance(text) + 12
            if end + 16 + w <= view_w:
                x = end + 16  # beside the statement
            else:
                # A narrow pane: over the comment that introduces the statement (the
                # tutorial's style has one before each), pointing down at it, so the
                # statement itself stays readable.
                above = block.previous()
                indent = len(line_text) - len(line_text.lstrip())
                x = offset.x() + margin + text_fm.horizontalAdvance(line_text[:indent])
                room = max(view_w - x - 4, 40.0)
                text = fm.elidedText(f"▼ {names}", Qt.TextElideMode.ElideRight, room - 12)
                w = fm.horizontalAdvance(text) + 12
                top = geo.top()
                if above.isValid() and above.text().lstrip().startswith("#"):
                    # On the comment's last visual line, right above the statement.
                    top -= line_h
                else:
                    x = max(view_w - w - 4, 4.0)  # no comment above: over the line's end
            rect = QRectF(x, top + (line_h - h) / 2, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(chip_bg)
            painter.drawRoundedRect(rect, h / 3, h / 3)
            painter.setPen(chip_fg)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()


class FitLabel(QLabel):
    """A label that shows the longest of its wordings that fits whole, or nothing.

    A caption cut in the middle of a word looks broken on a projector; a shorter wording (or
    none) does not. It never asks for width, so it never widens its dock.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: tuple[str, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_texts(self, *texts: str) -> None:
        """Wordings from the longest to the shortest."""
        self._texts = texts
        self._fit()

    def full_text(self) -> str:
        return self._texts[0] if self._texts else ""

    def _fit(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin() - self.indent()
        fm = self.fontMetrics()
        shown = next((t for t in self._texts if fm.horizontalAdvance(t) <= room), "")
        if shown != self.text():
            self.setText(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()


class CodeView(QWidget):
    """The program generate_program() writes for a config, and live worker positions in it."""

    sig_save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("code_view")
        self._cfg: RunConfig | None = None
        self._program = ""
        self._lines: dict[str, int] = {}
        self._shown_key: tuple = ()
        self._scale = 1.0

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        top = QHBoxLayout()
        # The buttons matter more than the caption: it gets shorter, never widens the dock.
        self.caption = FitLabel(self)
        self.caption.setObjectName("code_caption")
        self.caption.setProperty("role", "muted")
        self.caption.setToolTip(
            "The program this configuration stands for: it runs with plain python. During a "
            "run the lines the workers execute light up, named on the right."
        )
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("code_copy")
        self.copy_button.setToolTip("Copy the program to the clipboard")
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.save_button = QPushButton("Save…", self)
        self.save_button.setObjectName("code_save")
        self.save_button.setToolTip("Save the program as a .py file (File ▸ Save program…)")
        self.save_button.clicked.connect(self.sig_save_requested)
        top.addWidget(self.caption, 1)
        self.header = top  # the trace window adds its file chooser here
        top.addWidget(self.copy_button)
        top.addWidget(self.save_button)
        lay.addLayout(top)
        self.edit = CodeEdit(self)
        self.edit.setFrameShape(QFrame.Shape.StyledPanel)
        lay.addWidget(self.edit, 1)
        self._highlighter = PythonHighlighter(self.edit.document(), is_dark(self.palette()))
        self.set_font_scale(1.0)

    # ------------------------------------------------------------------ program
    def show_config(self, cfg: RunConfig | None) -> None:
        """Write the program for ``cfg``; an invalid config (None) leaves the last one shown."""
        if cfg is None:
            self.caption.set_texts("Options invalid: last valid program", "Last valid program")
            return
        if cfg == self._cfg:
            return
        self._cfg = cfg
        program = generate_program(cfg)
        self.caption.set_texts(
            "Standalone program (plain python)", "Plain python program", "Plain python"
        )
        if program == self._program:
            return
        self._program = program
        self._lines = code_line_map(program)
        bar = self.edit.verticalScrollBar()
        keep = bar.value()
        self.edit.setPlainText(program)
        bar.setValue(keep)
        self.clear_running()

    def program(self) -> str:
        return self._program

    def line_map(self) -> dict[str, int]:
        return dict(self._lines)

    def save_program(self, path: str | Path) -> None:
        """Write the program as UTF-8 (raises OSError)."""
        Path(path).write_text(self._program, encoding="utf-8")

    def _on_copy_button_clicked(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self._program)

    # ------------------------------------------------------------------ live lines
    def show_run(self, model: RunModel, cfg: RunConfig | None) -> None:
        """Light up the line each worker (and main) is executing; cheap when nothing moved."""
        places: list[tuple[str, int]] = []
        for w in model.workers.values():
            key = worker_line_key(w.role, w.activity)
            line = self._lines.get(key) if key is not None else None
            if line is not None:
                places.append((w.name, line))
        key = main_line_key(model, cfg)
        main_line = self._lines.get(key) if key is not None else None
        if main_line is not None:
            places.append((MAIN_NAME, main_line))
        shown = tuple(places)
        if shown == self._shown_key:
            return
        self._shown_key = shown
        by_line: dict[int, list[str]] = {}
        for name, at in places:
            by_line.setdefault(at, []).append(name)
        # The workers' lines are the lesson; main's is the fallback. A new line comes into
        # view (only then: a reader who scrolled away is not pulled back every frame).
        workers = [at for name, at in places if name != MAIN_NAME]
        target = min(workers) if workers else main_line
        focus = target if target is not None and target not in self.edit.running() else None
        self.edit.set_running(
            {at: _names_text(names) for at, names in by_line.items()}, focus=focus
        )

    def clear_running(self) -> None:
        self._shown_key = ()
        self.edit.set_running({})

    def running(self) -> dict[int, str]:
        """1-based line -> the names of who executes it, as highlighted now."""
        return self.edit.running()

    # ------------------------------------------------------------------ looks
    def set_font_scale(self, scale: float) -> None:
        """Follow the window's zoom: the monospace font scales with the application font."""
        self._scale = scale
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(font.pointSizeF() * scale)
        self.edit.setFont(font)
        self.edit.setTabStopDistance(QFontMetricsF(font).horizontalAdvance(" ") * 4)
        self.edit.setViewportMargins(self.edit.gutter_width(), 0, 0, 0)
        self.edit.resizeEvent(QResizeEvent(self.edit.size(), self.edit.size()))

    def font_scale(self) -> float:
        return self._scale

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark(self.palette())
            self._highlighter.set_dark(dark)
            self.edit.set_dark(dark)


MAX_NAMES = 4


def _names_text(names: list[str]) -> str:
    """Chip text, e.g. "consumer-0, consumer-2"; a long list is cut to stay beside its line."""
    names = _ordered(names)
    if len(names) <= MAX_NAMES:
        return ", ".join(names)
    return ", ".join(names[: MAX_NAMES - 1]) + f" +{len(names) - MAX_NAMES + 1} more"


def _ordered(names: list[str]) -> list[str]:
    """Main first, then producers, then consumers, each by number."""

    def key(name: str) -> tuple[int, str, int]:
        role, _, num = name.rpartition("-")
        rank = 0 if name == MAIN_NAME else (1 if role == "producer" else 2)
        return (rank, role, int(num) if num.isdigit() else 0)

    return sorted(names, key=key)
