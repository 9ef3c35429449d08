"""Help menu: keyboard shortcuts (read from the window's actions), chart guide, tutorial, About."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QMenuBar,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.about import versions

TUTORIAL_MD = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
# An action may name keys it takes only at times (Space moves between Start and Pause).
HELP_KEYS_PROPERTY = "help_keys"
HELP_TEXT_PROPERTY = "help_text"

CHARTS_HTML = """
<h2>How to read the charts</h2>
<p>All four charts share one time axis: seconds since the run started, paused time left out.
The header above them reads the values at the newest moment, or under the mouse pointer.</p>

<h3>Unfinished tasks</h3>
<p>The <b>unfinished</b> counter is what <code>queue.join()</code> waits on: every
<code>put()</code> raises it, every <code>task_done()</code> lowers it. It is drawn as two
stacked areas: <b>queued</b> (put, not taken yet) and <b>taken</b> (by <code>get()</code>,
not marked done yet). <code>get()</code> moves a task from one area to the other; only
<code>task_done()</code> makes it leave. A taken task is <b>in progress</b> while its consumer
works on it; one its consumer left without <code>task_done()</code> (back in
<code>get()</code>, or exited) is <b>not marked done</b>: the status line counts the two
apart. The shaded band is the time the main
process waits in <code>join()</code>; the lines mark when <code>join()</code> was called and
returned, and when the producers were joined. A <code>join()</code> that returns while tasks
are still to be put is marked as premature.</p>

<h3>Workers</h3>
<p>One row per producer and consumer, coloured by what it does: processing a task (with its
number), waiting in <code>get()</code>, producing between puts, blocked in <code>put()</code>
(queue full), a failed task, paused, starting (hatched), exited. A worker that died on its
own is labelled <i>died</i> with its exit code; one ended by Stop or by the hang timeout is
labelled <i>stopped</i>. A cross marks a <code>task_done()</code> that raised
<code>ValueError</code> (called too many times) on that worker's row. Hover a bar to read what
the worker did and when.</p>

<h3>Cumulative flow</h3>
<p>Running totals of puts, gets and <code>task_done()</code> calls. The gap between puts and
gets is the queue's depth; between gets and <code>task_done()</code>, the tasks taken and not
marked done.
Lines that stop rising show where the run is stuck.</p>

<h3>Rates</h3>
<p>Tasks done per second over a sliding one-second window (left axis), and the mean time the
tasks done in that window waited in the queue and were worked on (right axis). While a run
goes on, the header gives the last second's figures (<i>last 1 s</i>); once it has ended,
the whole run's (<i>whole run</i>), as its summary does.</p>

<h3>Moving around</h3>
<p>Scroll over a chart to zoom time, drag to pan. <b>Follow live</b> (F) keeps the newest
seconds in view; turning it off shows the whole run. Presenter mode (F5) enlarges text and
lines for a projector; Ctrl+= and Ctrl+- zoom every text.</p>
"""


def _plain(text: str) -> str:
    """A menu text as people read it: no mnemonic ampersands, no trailing dots."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()


def _keys_text(keys: list[QKeySequence]) -> str:
    fmt = QKeySequence.SequenceFormat.NativeText
    return " or ".join(k.toString(fmt) for k in keys if not k.isEmpty())


def _row(action: QAction) -> tuple[str, str] | None:
    keys = action.property(HELP_KEYS_PROPERTY) or _keys_text(action.shortcuts())
    if not keys or action.isSeparator():
        return None
    return keys, action.property(HELP_TEXT_PROPERTY) or _plain(action.text())


def shortcut_rows(window: QMainWindow, menu_bar: QMenuBar | None = None
                  ) -> list[tuple[str, str, str]]:
    """(group, keys, what they do) for every action of ``window`` that has a shortcut, menu
    by menu in menu order, then the menus' own Alt keys. Read from the actions each time, so
    the list cannot go stale."""
    bar = menu_bar if menu_bar is not None else window.menuBar()
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    menus = [a.menu() for a in bar.actions() if a.menu() is not None]

    def walk(menu: QMenu, group: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), group)
                continue
            row = _row(action)
            if row is not None and id(action) not in seen:
                seen.add(id(action))
                rows.append((group, *row))

    for menu in menus:
        walk(menu, _plain(menu.title()))
    # Shortcuts of actions in no menu (none today; listed rather than lost if one comes).
    for action in window.findChildren(QAction):
        row = _row(action)
        if row is not None and id(action) not in seen:
            seen.add(id(action))
            rows.append(("Other", *row))
    for menu in menus:
        title = menu.title()
        i = title.find("&")
        if 0 <= i < len(title) - 1:
            rows.append(("Menus", f"Alt+{title[i + 1].upper()}", f"Open the {_plain(title)} menu"))
    return rows


def shortcuts_html(rows: list[tuple[str, str, str]]) -> str:
    cells = []
    group = None
    for g, k, w in rows:
        if g != group:
            group = g
            cells.append(f"<tr><td colspan='2' style='padding:10px 0 2px 0'><b>"
                         f"{html.escape(g)}</b></td></tr>")
        cells.append(f"<tr><td style='padding:2px 24px 2px 8px'><code>{html.escape(k)}</code>"
                     f"</td><td style='padding:2px 0'>{html.escape(w)}</td></tr>")
    return f"<h2>Keyboard shortcuts</h2><table>{''.join(cells)}</table>"


def about_versions() -> dict[str, str]:
    """QueueLab, Python, Qt, PySide6 and pyqtgraph versions, in that order."""
    found = versions()
    out: dict[str, str] = {}
    for name, version in found.items():
        out[name] = version
        if name == "Python":
            out["Qt"] = qVersion()  # the Qt library PySide6 runs on (the engine has no Qt)
    return out


def about_html() -> str:
    rows = "".join(
        f"<tr><td style='padding:2px 16px 2px 0'>{html.escape(k)}</td>"
        f"<td><b>{html.escape(v)}</b></td></tr>"
        for k, v in about_versions().items()
    )
    return (
        "<h2>QueueLab</h2><p>Watch Python's <code>multiprocessing.JoinableQueue</code> at "
        "work: real producer and consumer processes on a traced queue, and live charts of "
        f"what they do.</p><table>{rows}</table>"
    )


class HelpDialog(QDialog):
    """A page of help text (HTML or Markdown) with a Close button; not modal."""

    def __init__(self, title: str, parent: QWidget | None = None, *, html_text: str = "",
                 markdown: str = "", size: tuple[int, int] = (720, 560)) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"QueueLab — {title}")
        self.setObjectName("help_dialog")
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("help_text")
        self.browser.setOpenExternalLinks(True)
        if markdown:
            self.browser.setMarkdown(markdown)
        else:
            self.browser.setHtml(html_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser, 1)
        lay.addWidget(buttons)
        self.resize(*size)

    def text(self) -> str:
        return self.browser.toPlainText()


class HelpMenu:
    """Adds Help to ``window``'s menu bar; each entry opens a HelpDialog (kept in ``dialog``)."""

    def __init__(self, window: QMainWindow, menu_bar: QMenuBar) -> None:
        self.window = window
        self.menu_bar = menu_bar
        self.dialog: HelpDialog | None = None
        menu = menu_bar.addMenu("&Help")
        menu.setObjectName("help_menu")
        self.menu = menu

        def action(name: str, text: str, keys: str | QKeySequence.StandardKey | None,
                   slot: object) -> QAction:
            a = QAction(text, window)
            a.setObjectName(f"action_{name}")
            if keys is not None:
                a.setShortcut(QKeySequence(keys))
            a.triggered.connect(slot)  # type: ignore[arg-type]
            window.addAction(a)
            menu.addAction(a)
            return a

        self.shortcuts_action = action(
            "help_shortcuts", "&Keyboard shortcuts", "Ctrl+/", self.show_shortcuts
        )
        self.charts_action = action(
            "help_charts", "How to read the &charts", QKeySequence.StandardKey.HelpContents,
            self.show_charts,
        )
        self.tutorial_action = action(
            "help_tutorial", "The &tutorial's program", None, self.show_tutorial
        )
        menu.addSeparator()
        self.about_action = action("help_about", "&About QueueLab", None, self.show_about)

    def _open(self, title: str, **text: object) -> HelpDialog:
        """One help page at a time: the previous one makes way (and is freed)."""
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        dialog = HelpDialog(title, self.window, **text)  # type: ignore[arg-type]
        self.dialog = dialog
        dialog.show()
        return dialog

    def show_shortcuts(self) -> HelpDialog:
        return self._open("Keyboard shortcuts", size=(600, 680),
                          html_text=shortcuts_html(shortcut_rows(self.window, self.menu_bar)))

    def show_charts(self) -> HelpDialog:
        return self._open("How to read the charts", html_text=CHARTS_HTML)

    def show_tutorial(self) -> HelpDialog:
        try:
            text = TUTORIAL_MD.read_text(encoding="utf-8")
        except OSError as error:
            text = f"# The tutorial's program\n\nCould not read {TUTORIAL_MD}: {error}"
        return self._open("The tutorial's program", markdown=text)

    def show_about(self) -> HelpDialog:
        return self._open("About", html_text=about_html(), size=(520, 330))
