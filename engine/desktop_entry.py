"""The Linux desktop entry and app icon: written to, and removed from, the user's data directory.

``queuelab --install-desktop-entry`` puts QueueLab in the desktop's application menu by writing
two files under the user's own data directory (``$XDG_DATA_HOME``, by default ~/.local/share, as
platformdirs finds it): ``applications/queuelab.desktop`` and the icon
``icons/hicolor/scalable/apps/queuelab.svg``. Nothing is written anywhere else, and
``--uninstall-desktop-entry`` removes exactly those two files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .resources_path import resource_dir

# The file name is the desktop file id; gui/qt_app.py gives Qt the same one (setDesktopFileName),
# so on Wayland the running window is matched to this entry and shows its icon.
APP_ID = "queuelab"
ICON_NAME = "queuelab"
# The first line of every entry we write: only a file that carries it is ours to remove.
MARKER = (
    "# Written by queuelab --install-desktop-entry; queuelab --uninstall-desktop-entry removes it."
)
# Characters that force an Exec argument into double quotes (Desktop Entry Specification 1.5,
# "The Exec key"); inside the quotes these four take a backslash.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = set('"`$\\')
_FREEDESKTOP_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly")


class DesktopEntryError(Exception):
    """The entry cannot be written or removed; the message is one line for the user."""


@dataclass(frozen=True)
class EntryFiles:
    """Where the two files go under one data directory."""

    data_dir: Path

    @property
    def desktop_file(self) -> Path:
        return self.data_dir / "applications" / f"{APP_ID}.desktop"

    @property
    def icon_file(self) -> Path:
        return self.data_dir / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"


def user_data_dir() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset (platformdirs' rules)."""
    try:
        import platformdirs  # only these two commands need it
    except ImportError:
        raise DesktopEntryError(
            "platformdirs is missing: python -m pip install -r requirements.txt"
        ) from None
    return Path(platformdirs.user_data_path())


def launch_command(argv0: str, executable: str) -> list[str]:
    """The command that starts this QueueLab again, from a menu with no shell and any cwd.

    Installed, argv0 is the ``queuelab`` script (kept unresolved: a pipx symlink survives
    upgrades); from a checkout it is main.py, which needs the interpreter that runs it now.
    """
    script = os.path.abspath(argv0)
    if script.endswith(".py"):
        return [os.path.abspath(executable), script]
    return [script]


def exec_value(command: Sequence[str]) -> str:
    """``command`` as the value of an Exec key: quoted, %-escaped, then string-escaped."""
    if not command:
        raise DesktopEntryError("no command to put in the desktop entry")
    if "=" in command[0]:
        # The specification forbids it outright and offers no escape.
        raise DesktopEntryError(
            f"the program path {command[0]!r} contains '=', which an Exec key cannot hold"
        )
    return " ".join(_string_escape(_quote_arg(arg)) for arg in command)


def _quote_arg(arg: str) -> str:
    text = arg.replace("%", "%%")  # a lone % would start a field code (%f, %u, ...)
    if arg and not any(c in _RESERVED for c in arg):
        return text
    return '"' + "".join("\\" + c if c in _ESCAPED_IN_QUOTES else c for c in text) + '"'


def _string_escape(value: str) -> str:
    # Every string value's escapes are undone before the Exec quoting is: \ doubles again.
    for char, escape in (("\\", "\\\\"), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        value = value.replace(char, escape)
    return value


def render_entry(command: Sequence[str]) -> str:
    """The text of queuelab.desktop for a given launch command."""
    exec_line = exec_value(command)
    lines = [
        MARKER,
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # of the specification; 1.4 is the newest most validators know
        "Name=QueueLab",
        "GenericName=Queue Visualizer",
        "Comment=Watch multiprocessing.JoinableQueue at work: real processes, live charts",
        f"Exec={exec_line}",
        # The menu hides the entry once the program it starts is gone (say, pipx uninstall).
        f"TryExec={_string_escape(command[0])}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Education;ComputerScience;",  # one main category: one menu place
        "Keywords=multiprocessing;JoinableQueue;queue;producer;consumer;Python;",
        "StartupNotify=true",
        "StartupWMClass=QueueLab",
    ]
    return "\n".join(lines) + "\n"


def _check_platform() -> None:
    if not sys.platform.startswith(_FREEDESKTOP_PLATFORMS):
        raise DesktopEntryError(
            "desktop entries are for Linux and BSD desktops (freedesktop.org); "
            f"there is nothing to install on {sys.platform}"
        )


def install(command: Sequence[str], data_dir: Path | None = None) -> EntryFiles:
    """Write (or rewrite) the desktop entry and the icon; returns where they went."""
    _check_platform()
    files = EntryFiles(data_dir if data_dir is not None else user_data_dir())
    text = render_entry(command)
    icon = (resource_dir("icons") / f"{ICON_NAME}.svg").read_bytes()
    existing = _read(files.desktop_file)
    if existing is not None and not existing.startswith(MARKER):
        raise DesktopEntryError(
            f"{files.desktop_file} exists and was not written by queuelab; left as it is"
        )
    try:
        _write(files.icon_file, icon)
        _write(files.desktop_file, text.encode("utf-8"))
    except OSError as exc:
        raise DesktopEntryError(f"cannot write the desktop entry: {exc}") from None
    return files


def uninstall(data_dir: Path | None = None) -> list[Path]:
    """Remove the entry and the icon that install() wrote; returns the files removed."""
    _check_platform()
    files = EntryFiles(data_dir if data_dir is not None else user_data_dir())
    existing = _read(files.desktop_file)
    if existing is not None and not existing.startswith(MARKER):
        raise DesktopEntryError(f"{files.desktop_file} was not written by queuelab; left as it is")
    removed: list[Path] = []
    for path in (files.desktop_file, files.icon_file):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopEntryError(f"cannot remove {path}: {exc}") from None
        removed.append(path)
    return removed


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DesktopEntryError(f"cannot read {path}: {exc}") from None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed over: a menu scanning the folder never sees half a file.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.chmod(partial, 0o644)
    os.replace(partial, path)
