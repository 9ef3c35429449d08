"""LessonView: the configuration's title, setup, explanation and the live run's diagnosis."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from engine.config import RunConfig
from gui.diagnosis_view import DiagnosisView

MAX_CHANGES_LISTED = 4  # edits named in the "modified from" note; the rest are counted


def setup_words(cfg: RunConfig) -> str:
    """One line a class can read off the projector: who runs, how much, and the protocol."""

    def n(count: int, word: str) -> str:
        return f"{count:,} {word}{'' if count == 1 else 's'}"

    queue = "unbounded queue" if cfg.maxsize == 0 else f"queue maxsize {cfg.maxsize:,}"
    sentinels = {
        "per_consumer": "one None per consumer",
        "single": "a single None",
        "none": "no None sentinel",
    }[cfg.sentinels]
    join = "producers joined first" if cfg.join_order == "producers_first" else "queue joined first"
    return (
        f"{n(cfg.producers, 'producer')} · {n(cfg.consumers, 'consumer')} · "
        f"{n(cfg.tasks_per_producer, 'task')} each · {queue} · {sentinels} · {join}"
    )


class LessonView(QScrollArea):
    """What this configuration demonstrates, and what the diagnosis finds while it runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_view")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(self)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(8, 6, 8, 8)
        lay.setSpacing(6)
        self.title_label = QLabel(body)
        self.title_label.setObjectName("lesson_title")
        self.title_label.setProperty("role", "lesson-title")
        self.title_label.setWordWrap(True)
        self.update_title_font()
        self.setup_label = QLabel(body)
        self.setup_label.setObjectName("lesson_setup")
        self.setup_label.setProperty("role", "muted")
        self.setup_label.setWordWrap(True)
        # Once the options differ from the preset, the explanation no longer describes them.
        self.modified_label = QLabel(body)
        self.modified_label.setObjectName("lesson_modified")
        self.modified_label.setProperty("role", "note")
        self.modified_label.setWordWrap(True)
        self.modified_label.hide()
        self.text_label = QLabel(body)
        self.text_label.setObjectName("lesson_text")
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.diagnosis_view = DiagnosisView(body)
        # The diagnosis right under the title: when a run goes wrong it matters most, and the
        # explanation was read before the start. Without a run it has nothing to say.
        self.diagnosis_view.hide()
        lay.addWidget(self.title_label)
        lay.addWidget(self.diagnosis_view)
        lay.addWidget(self.modified_label)
        lay.addWidget(self.text_label)
        lay.addWidget(self.setup_label)
        lay.addStretch(1)
        self.setWidget(body)
        self.update_fonts()

    def update_title_font(self) -> None:
        """The title is 1.25 times the application font (call again when that changes)."""
        font = QApplication.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title_label.setFont(font)

    def update_fonts(self) -> None:
        """Follow the application font (call again when it changes: zoom, presenter mode)."""
        self.update_title_font()
        # Set explicitly: the application style sheet keeps a changed application font from
        # reaching labels that were already polished.
        small = QApplication.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.setup_label.setFont(small)
        self.text_label.setFont(QApplication.font())
        self.modified_label.setFont(QApplication.font())
        self.diagnosis_view.update_fonts()

    def show_diagnosis(self, sentences: list[str] | None, *, ended: bool = False) -> bool:
        """A run's findings (None: no run). True when the pane's text changed."""
        if sentences is None:
            changed = self.diagnosis_view.show_idle() or not self.diagnosis_view.isHidden()
            self.diagnosis_view.hide()
            return changed
        changed = self.diagnosis_view.show_findings(sentences, ended=ended)
        changed = changed or self.diagnosis_view.isHidden()
        self.diagnosis_view.show()
        if changed and sentences:
            self.verticalScrollBar().setValue(0)  # the finding, right under the title
        return changed

    def text_height(self, width: int) -> int:
        """Height the title, setup line, explanation and diagnosis need at ``width`` pixels."""
        body = self.widget()
        lay = body.layout()
        if lay.hasHeightForWidth():
            return lay.totalHeightForWidth(width)
        return body.sizeHint().height()

    def show_config(self, cfg: RunConfig | None) -> None:
        if cfg is None:
            self.setup_label.setText("Some options are invalid: fix the fields marked in red.")
            return
        self.title_label.setText(cfg.title or "Custom configuration")
        self.setup_label.setText(setup_words(cfg))
        self.text_label.setText(
            cfg.explanation
            or "No explanation comes with this configuration. Pick a preset to see one."
        )

    def show_modified(self, preset_title: str | None, changes: list[str]) -> bool:
        """Say that the options were edited away from ``preset_title`` (None: they were not).

        True when that changed what the pane shows (its height may need to follow).
        """
        if preset_title is None:
            changed = not self.modified_label.isHidden()
            self.modified_label.hide()
            self.modified_label.clear()
            return changed
        listed = "; ".join(changes[:MAX_CHANGES_LISTED])
        if len(changes) > MAX_CHANGES_LISTED:
            listed += f"; and {len(changes) - MAX_CHANGES_LISTED} more"
        text = (
            f"\u270e Modified from the preset \u201c{preset_title}\u201d"
            + (f" ({listed})" if listed else "")
            + ". The explanation below is the preset's: it describes the options as shipped,"
            " not your edits."
        )
        changed = text != self.modified_label.text() or self.modified_label.isHidden()
        self.modified_label.setText(text)
        self.modified_label.show()
        return changed
