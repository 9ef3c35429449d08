"""PythonHighlighter: the Code pane's colours for keywords, strings, numbers and the BUG lines."""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

from engine.codegen import BUG_MARK

_BUILTINS = frozenset(("print", "range", "len", "max", "min", "Exception", "ValueError"))
_KEYWORDS = frozenset(keyword.kwlist)
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_NUMBER = re.compile(r"\b\d[\d_]*(\.\d+)?\b")
_STRING = re.compile(r"""[fF]?('[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*")""")
_BUG_STATE = 1  # block state of a BUG comment line, so its wrapped continuation lines follow

_NAMES = ("keyword", "builtin", "string", "number", "comment", "bug", "bug_bg", "running", "chip")
COLOURS: dict[bool, dict[str, str]] = {
    dark: dict(zip(_NAMES, colours.split(), strict=True))
    for dark, colours in (
        (False, "#0b3d91 #6a3d9a #a0522d #0a7a5a #6b7680 #c62828 #fde3e1 #ffe89a #8a5a00"),
        (True, "#79b8ff #d2a8ff #f2b880 #7ee2b8 #8b949e #ff6b6b #4a1f1f #5c4a12 #ffd666"),
    )
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.45


def _comment_start(text: str) -> int:
    """Index of the ``#`` that starts a comment, -1 if none (a ``#`` in a string does not)."""
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return i
        i += 1
    return -1


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings, numbers and comments; a lesson's ``# BUG (lesson):`` stands out."""

    def __init__(self, document: QTextDocument, dark: bool) -> None:
        super().__init__(document)
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        c = COLOURS[dark]

        def fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            f.setFontItalic(italic)
            return f

        self._keyword = fmt(c["keyword"], bold=True)
        self._builtin = fmt(c["builtin"])
        self._string = fmt(c["string"])
        self._number = fmt(c["number"])
        self._comment = fmt(c["comment"], italic=True)
        self._bug = fmt(c["bug"], bold=True)
        self._bug.setBackground(QColor(c["bug_bg"]))
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        self.setCurrentBlockState(0)
        stripped = text.lstrip()
        if stripped.startswith(BUG_MARK) or (
            self.previousBlockState() == _BUG_STATE and stripped.startswith("#   ")
        ):
            self.setCurrentBlockState(_BUG_STATE)
            start = len(text) - len(stripped)
            self.setFormat(start, len(stripped), self._bug)
            return
        cut = _comment_start(text)
        code = text if cut < 0 else text[:cut]
        for m in _WORD.finditer(code):
            word = m.group()
            if word in _KEYWORDS:
                self.setFormat(m.start(), len(word), self._keyword)
            elif word in _BUILTINS:
                self.setFormat(m.start(), len(word), self._builtin)
        for m in _NUMBER.finditer(code):
            self.setFormat(m.start(), m.end() - m.start(), self._number)
        for m in _STRING.finditer(code):
            self.setFormat(m.start(), m.end() - m.start(), self._string)
        if cut >= 0:
            self.setFormat(cut, len(text) - cut, self._comment)
