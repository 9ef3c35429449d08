"""--install-desktop-entry and --uninstall-desktop-entry: two files, in the user's data dir only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import desktop_entry
from engine.resources_path import resource_dir

ROOT = Path(__file__).resolve().parent.parent
ENTRY = Path("applications", "queuelab.desktop")
ICON = Path("icons", "hicolor", "scalable", "apps", "queuelab.svg")


def exec_command(entry_text: str) -> list[str]:
    """The argv a launcher runs for the entry's Exec key (Desktop Entry Specification 1.5)."""
    (value,) = [line[5:] for line in entry_text.splitlines() if line.startswith("Exec=")]
    # 1. The escapes of every string value.
    unescaped, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            unescaped.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(
                value[i + 1], "\\" + value[i + 1]))  # fmt: skip
            i += 2
        else:
            unescaped.append(value[i])
            i += 1
    text = "".join(unescaped)
    # 2. Arguments: split on spaces outside double quotes; inside them \ escapes " ` $ \.
    args: list[str] = []
    current: list[str] | None = None
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\" and text[i + 1] in '"`$\\':
                current.append(text[i + 1])  # type: ignore[union-attr]
                i += 1
            elif c == '"':
                quoted = False
            else:
                current.append(c)  # type: ignore[union-attr]
        elif c == " ":
            if current is not None:
                args.append("".join(current))
            current = None
        else:
            current = current if current is not None else []
            if c == '"':
                quoted = True
            else:
                current.append(c)
        i += 1
    assert not quoted, f"unbalanced quotes in {value!r}"
    if current is not None:
        args.append("".join(current))
    # 3. Field codes: %% is a literal percent sign (the entry uses no other).
    return [arg.replace("%%", "%") for arg in args]


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def user_env(tmp_path: Path, *, xdg: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "PYTHONPATH")}
    env["HOME"] = str(tmp_path / "home")
    if xdg:
        env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return env


def validate(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is not None:  # desktop-file-utils; checked where it is installed
        done = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
        problems = [line for line in done.stdout.splitlines() if "error:" in line]
        assert done.returncode == 0 and not problems, done.stdout + done.stderr


def test_install_then_uninstall_under_xdg_data_home(tmp_path: Path) -> None:
    env, data = user_env(tmp_path), tmp_path / "data"
    done = cli("--install-desktop-entry", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"installed {data / ENTRY}", f"installed {data / ICON}"]
    # Exactly two files, under XDG_DATA_HOME only; nothing under HOME.
    assert sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file()) == [ENTRY, ICON]
    assert not (tmp_path / "home").exists()
    assert (data / ICON).read_bytes() == (resource_dir("icons") / "queuelab.svg").read_bytes()
    text = (data / ENTRY).read_text()
    assert text.startswith(desktop_entry.MARKER + "\n[Desktop Entry]\n")
    for line in ("Type=Application", "Name=QueueLab", "Icon=queuelab", "Terminal=false"):
        assert line in text.splitlines()
    validate(data / ENTRY)

    # The menu's command starts this checkout, from any folder, with no shell.
    command = exec_command(text)
    assert command == [os.path.abspath(sys.executable), str(ROOT / "main.py")]
    started = subprocess.run([*command, "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert started.returncode == 0 and started.stdout.startswith("QueueLab ")

    again = cli("--install-desktop-entry", env=env, cwd=tmp_path)  # rewriting is fine
    assert again.returncode == 0, again.stderr
    gone = cli("--uninstall-desktop-entry", env=env, cwd=tmp_path)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.splitlines() == [f"removed {data / ENTRY}", f"removed {data / ICON}"]
    assert not [p for p in data.rglob("*") if p.is_file()]
    nothing = cli("--uninstall-desktop-entry", env=env, cwd=tmp_path)
    assert nothing.returncode == 0 and "no QueueLab desktop entry" in nothing.stdout


def test_without_xdg_data_home_it_goes_under_home_local_share(tmp_path: Path) -> None:
    env = user_env(tmp_path, xdg=False)
    done = cli("--install-desktop-entry", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    share = tmp_path / "home" / ".local" / "share"
    assert (share / ENTRY).is_file() and (share / ICON).is_file()
    assert cli("--uninstall-desktop-entry", env=env, cwd=tmp_path).returncode == 0
    assert not (share / ENTRY).exists() and not (share / ICON).exists()


def test_a_desktop_file_queuelab_did_not_write_is_left_alone(tmp_path: Path) -> None:
    env, data = user_env(tmp_path), tmp_path / "data"
    (data / ENTRY).parent.mkdir(parents=True)
    mine = "[Desktop Entry]\nType=Application\nName=My QueueLab\nExec=/opt/ql\n"
    (data / ENTRY).write_text(mine)
    for flag in ("--install-desktop-entry", "--uninstall-desktop-entry"):
        done = cli(flag, env=env, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.startswith("queuelab: error: ") and "not written by queuelab" in (
            done.stderr
        )
        assert (data / ENTRY).read_text() == mine
    assert not (data / ICON).exists()


def test_an_unwritable_data_dir_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    (tmp_path / "data").write_text("a file where the folder should be")
    done = cli("--install-desktop-entry", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("queuelab: error: cannot ")  # read or write, as root too
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "path",
    ["/opt/my apps/queuelab", '/tmp/a"b$c`d\\e/queuelab', "/tmp/100%/queuelab",
     "/tmp/tab\there/queuelab", "/tmp/(x);y~z/queuelab"],
)  # fmt: skip
def test_exec_quoting_survives_odd_paths(path: str, tmp_path: Path) -> None:
    command = [path, "/home/me/main.py"]
    text = desktop_entry.render_entry(command)
    assert exec_command(text) == command
    entry = tmp_path / "queuelab.desktop"
    entry.write_text(text)
    validate(entry)


def test_exec_refuses_an_equals_sign_in_the_program() -> None:
    with pytest.raises(desktop_entry.DesktopEntryError, match="contains '='"):
        desktop_entry.exec_value(["/opt/a=b/queuelab"])


def test_launch_command_installed_and_from_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert desktop_entry.launch_command("/venv/bin/queuelab", "/venv/bin/python") == [
        "/venv/bin/queuelab"
    ]
    monkeypatch.chdir(tmp_path)  # a relative main.py is made absolute against the current folder
    assert desktop_entry.launch_command("main.py", "/usr/bin/python3") == [
        "/usr/bin/python3",
        str(tmp_path / "main.py"),
    ]


def test_other_platforms_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("darwin", "win32"):
        monkeypatch.setattr(sys, "platform", name)
        with pytest.raises(desktop_entry.DesktopEntryError, match="Linux and BSD"):
            desktop_entry.install(["/x/queuelab"], data_dir=tmp_path)
        with pytest.raises(desktop_entry.DesktopEntryError, match="Linux and BSD"):
            desktop_entry.uninstall(data_dir=tmp_path)
    assert not list(tmp_path.iterdir())
