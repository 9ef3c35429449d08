"""Installed like an application: the wheel, the `queuelab` command from any folder, --version."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import os
import platform
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from engine import about
from engine.codegen import generate_program
from engine.config import list_presets, load_preset
from engine.resources_path import resource_dir, resources_root
from tests.test_desktop_entry import exec_command

ROOT = Path(__file__).resolve().parent.parent
VERSION_NAMES = ["QueueLab", "Python", "Qt", "PySide6", "pyqtgraph"]
# Folders and files of the checkout that must never reach a wheel.
NOT_SHIPPED = ("tests/", "benchmarks/", "docs/", ".ci/")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that could put the checkout on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def requirement_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def normalized(requirements: list[str]) -> set[str]:
    return {str(Requirement(r)) for r in requirements}


# ------------------------------------------------------------------ dependencies and data


def test_requirements_txt_is_a_plain_list_pyproject_can_read() -> None:
    # pyproject.toml reads requirements.txt as the package's dependencies; setuptools accepts
    # only bare requirements there, so a pip option (-r, -e, --hash, a URL) must not creep in.
    lines = requirement_lines(ROOT / "requirements.txt")
    assert lines
    for line in lines:
        assert not line.startswith("-") and "://" not in line, line
        Requirement(line)  # raises on anything that is not a requirement
    names = {Requirement(line).name.lower() for line in lines}
    assert {"pyside6-essentials", "pyqtgraph", "platformdirs"} <= names
    dev = requirement_lines(ROOT / "requirements-dev.txt")
    assert "-r requirements.txt" in dev and any(line.startswith("build") for line in dev)


def test_resources_come_from_the_resources_package() -> None:
    assert resources_root() == Path(str(importlib.resources.files("resources")))
    assert resources_root() == ROOT / "resources"  # the checkout's own data, in the tests
    for folder, sample in (("presets", "tutorial.toml"), ("icons", "queuelab.svg"),
                           ("styles", "light.qss")):  # fmt: skip
        assert (resource_dir(folder) / sample).is_file()


def test_the_checkout_runs_from_any_folder(tmp_path: Path) -> None:
    # A decoy resources/ in the current folder must not be what the app reads.
    (tmp_path / "resources" / "presets").mkdir(parents=True)
    (tmp_path / "resources" / "presets" / "decoy.toml").write_text('title = "decoy"\n')
    done = cli("presets", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "tutorial" and "decoy" not in done.stdout


def test_a_foreign_resources_package_is_named_as_the_culprit(tmp_path: Path) -> None:
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "__init__.py").write_text("")
    env = clean_env(PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    done = subprocess.run(
        [sys.executable, "-c", "import engine.config"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "ResourcesNotFound" in last and "is not QueueLab's" in last and "pipx" in last


# ------------------------------------------------------------------------------- --version


def test_versions_are_in_display_order_and_come_from_metadata() -> None:
    found = about.versions()
    assert list(found) == ["QueueLab", "Python", "PySide6", "pyqtgraph"]
    assert found["QueueLab"] == pyproject_version()
    assert found["Python"] == platform.python_version()
    assert found["PySide6"] == installed_pyside6_version()
    assert found["pyqtgraph"] == importlib.metadata.version("pyqtgraph")


def test_versions_import_no_qt() -> None:
    code = (
        "import sys\n"
        "for name in ('PySide6', 'pyqtgraph', 'numpy'):\n"
        "    sys.modules[name] = None\n"
        "import engine.desktop_entry, engine.resources_path\n"
        "from engine.about import versions\n"
        "print(list(versions().values()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=clean_env(PYTHONPATH=str(ROOT)))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed_pyside6_version() in done.stdout


def test_checkout_version_ignores_another_projects_pyproject(tmp_path: Path) -> None:
    other = tmp_path / "pyproject.toml"
    other.write_text('[project]\nname = "something-else"\nversion = "9.9"\n')
    assert about._checkout_version(other) is None
    assert about._checkout_version(tmp_path / "missing.toml") is None
    assert about._checkout_version(ROOT / "pyproject.toml") == pyproject_version()


def test_main_version_prints_every_version_from_any_folder(tmp_path: Path) -> None:
    from PySide6.QtCore import qVersion

    done = cli("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert list(shown) == VERSION_NAMES
    assert shown["QueueLab"] == pyproject_version()
    assert shown["Qt"] == qVersion()
    assert shown["PySide6"] == installed_pyside6_version()


@pytest.mark.parametrize(
    "args",
    [["--version", "presets"], ["--version", "--install-desktop-entry"],
     ["--uninstall-desktop-entry", "run"]],
)  # fmt: skip
def test_app_flags_refuse_a_command_or_each_other(args: list[str], tmp_path: Path) -> None:
    done = cli(*args, cwd=tmp_path, env=clean_env(XDG_DATA_HOME=str(tmp_path / "data")))
    assert done.returncode == 2
    assert done.stderr.startswith("queuelab: error: ") and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "data").exists()


def pyproject_version() -> str:
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def installed_pyside6_version() -> str:
    for name in ("PySide6", "PySide6-Essentials"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise AssertionError("PySide6 is not installed")


# ------------------------------------------------------------- the wheel in a fresh venv


def source_tree(dest: Path) -> Path:
    """A copy of the checkout's files (tracked or new, not ignored), to build from.

    Building in a copy keeps build/ and *.egg-info out of the checkout, and shows the wheel
    is made from what is in version control rather than from leftovers of earlier runs.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():  # a file deleted but not yet committed is still listed
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def make_venv(path: Path) -> Path:
    """A new venv that sees the machine's packages: PySide6 and friends are not downloaded."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(path)], check=True, timeout=120)  # fmt: skip
    python = path / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # Run from a venv, the "system" packages are this venv's, which the new venv would not
        # see through --system-site-packages (that means the base interpreter's): add them.
        purelib = subprocess.run([str(python), "-c", "import sysconfig; print("
                                  "sysconfig.get_paths()['purelib'])"], capture_output=True,
                                 text=True, check=True).stdout.strip()  # fmt: skip
        Path(purelib, "_outer_venv.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel built by `python -m build --wheel`, installed into a fresh venv."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to list the checkout's files")
    base = tmp_path_factory.mktemp("wheel")
    src = source_tree(base / "src")
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir",
                            str(base / "dist"), str(src)], capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("queuelab-*.whl")
    python = make_venv(base / "venv")
    # --no-index: every dependency must already be satisfied by the machine's packages.
    pip = subprocess.run([str(python), "-m", "pip", "install", "--no-index", str(wheel)],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    # pip check also judges the machine's own packages, seen through --system-site-packages:
    # a conflict among those is not this test's business, one touching QueueLab's stack is.
    ours = {"queuelab"} | {Requirement(r).name.lower().replace("_", "-")
                           for r in requirement_lines(ROOT / "requirements.txt")}  # fmt: skip
    broken = [line for line in check.stdout.splitlines()
              if line.split(" ", 1)[0].lower().replace("_", "-") in ours]  # fmt: skip
    assert check.returncode == 0 or (check.stdout and not broken), check.stdout + check.stderr
    # Somewhere that is not the checkout, with decoys a cwd-relative lookup would fall for.
    elsewhere = base / "elsewhere"
    (elsewhere / "resources" / "presets").mkdir(parents=True)
    (elsewhere / "main.py").write_text("raise SystemExit('the decoy main.py was imported')\n")
    return {"wheel": wheel, "python": python, "bin": python.parent, "elsewhere": elsewhere}


def queuelab(installed: dict[str, Path], *args: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [str(installed["bin"] / "queuelab"), *args], cwd=installed["elsewhere"],
        env=env or clean_env(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.mark.slow
def test_wheel_holds_the_code_the_data_and_the_licence(installed: dict[str, Path]) -> None:
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        names = set(wheel.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(f"{info}/METADATA").decode()
        top_level = wheel.read(f"{info}/top_level.txt").decode().split()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "resources").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip
    assert {"resources/presets/tutorial.toml", "resources/icons/queuelab.svg"} <= data
    assert data <= names, sorted(data - names)
    code = {p.relative_to(ROOT).as_posix() for d in ("engine", "gui")
            for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts}  # fmt: skip
    assert code | {"main.py"} <= names, sorted(code - names)
    assert not [n for n in names if n.startswith(NOT_SHIPPED) or n.endswith(".pyc")]
    assert sorted(top_level) == ["engine", "gui", "main", "resources"]
    assert f"{info}/licenses/LICENSE" in names
    assert "queuelab = main:main" in entry_points
    # The dependencies are requirements.txt's, pins and environment markers included.
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]  # fmt: skip
    assert normalized(requires) == normalized(requirement_lines(ROOT / "requirements.txt"))


@pytest.mark.slow
def test_installed_command_lists_runs_and_writes_code_from_another_folder(
    installed: dict[str, Path],
) -> None:
    # The modules that run are the venv's, not the checkout's.
    where = subprocess.run(
        [str(installed["python"]), "-I", "-c",
         "import engine.about, gui, main, resources; print(engine.__file__, main.__file__, "
         "resources.__file__, engine.about._PYPROJECT.exists(), engine.about.queuelab_version())"],
        cwd=installed["elsewhere"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout and str(installed["bin"].parent) in where.stdout
    # No pyproject.toml beside the installed engine: the version came from the metadata.
    assert where.stdout.split()[-2:] == ["False", pyproject_version()]

    presets = queuelab(installed, "presets")
    assert presets.returncode == 0, presets.stderr
    listed = [line.split(None, 1) for line in presets.stdout.splitlines()]
    assert [(name, title.strip()) for name, title in listed] == list_presets()

    run = queuelab(installed, "run", "--preset", "tutorial", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["join_returned"] is True and summary["premature_join"] is False
    assert summary["task_dones"] == summary["gets"] == 11 and summary["unfinished"] == 0

    code = queuelab(installed, "code", "--preset", "tutorial")
    assert code.returncode == 0, code.stderr
    assert code.stdout == generate_program(load_preset("tutorial"))
    compile(code.stdout, "tutorial.py", "exec")


@pytest.mark.slow
def test_installed_command_has_mains_flags_and_exit_codes(installed: dict[str, Path]) -> None:
    usage = queuelab(installed, "--help")
    assert usage.returncode == 0 and usage.stdout.startswith("usage: queuelab ")
    for name in ("--version", "--install-desktop-entry", "gui", "replay", "export"):
        assert name in usage.stdout
    bad = queuelab(installed, "run", "--preset", "no-such-preset")
    assert bad.returncode == 2
    assert bad.stderr.startswith("queuelab: error: unknown preset 'no-such-preset'")
    bad_flag = queuelab(installed, "run", "--no-such-flag")
    assert bad_flag.returncode == 2 and "see 'queuelab --help'" in bad_flag.stderr

    version = queuelab(installed, "--version")
    assert version.returncode == 0, version.stderr
    shown = dict(line.split(" ", 1) for line in version.stdout.splitlines())
    assert list(shown) == VERSION_NAMES
    assert shown["QueueLab"] == pyproject_version()  # read from the installed metadata here


@pytest.mark.slow
def test_installed_window_finds_its_icons_and_styles(installed: dict[str, Path]) -> None:
    shot = installed["elsewhere"] / "shot.png"
    env = clean_env(QT_QPA_PLATFORM="offscreen")
    done = queuelab(installed, "gui", "--preset", "tutorial", "--start", "--screenshot",
                    str(shot), "--quit-when-done", env=env, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 10_000
    assert "Cannot open file" not in done.stderr and "Could not parse" not in done.stderr


@pytest.mark.slow
def test_installed_desktop_entry_starts_the_installed_command(
    installed: dict[str, Path], tmp_path: Path
) -> None:
    env = clean_env(XDG_DATA_HOME=str(tmp_path / "data"), HOME=str(tmp_path / "home"))
    done = queuelab(installed, "--install-desktop-entry", env=env)
    assert done.returncode == 0, done.stderr
    entry = (tmp_path / "data" / "applications" / "queuelab.desktop").read_text()
    command = exec_command(entry)
    assert command == [str(installed["bin"] / "queuelab")]
    started = subprocess.run([*command, "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert started.returncode == 0 and started.stdout.startswith("QueueLab ")
    gone = queuelab(installed, "--uninstall-desktop-entry", env=env)
    assert gone.returncode == 0, gone.stderr
    assert not list((tmp_path / "data").rglob("queuelab*"))


@pytest.mark.slow
def test_installed_own_function_preset_runs_and_its_program_runs_plainly(
    installed: dict[str, Path],
) -> None:
    # The example module ships in the wheel and is imported from there, in every worker.
    run = queuelab(installed, "run", "--preset", "own-function", "--set", "tasks_per_producer=3")
    assert run.returncode == 0, run.stderr
    returned = [line for line in run.stdout.splitlines() if ", returned '" in line]
    assert len(returned) == 3
    code = queuelab(installed, "code", "--preset", "own-function", "--set", "tasks_per_producer=3")
    assert code.returncode == 0, code.stderr
    assert "from resources.examples.own_function import fingerprint" in code.stdout
    path = installed["elsewhere"] / "own_function_program.py"
    path.write_text(code.stdout)
    plain = subprocess.run([str(installed["python"]), "-I", str(path)], cwd=installed["elsewhere"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert sorted(x.split(" got ")[1] for x in plain.stdout.splitlines() if ", returned " in x) \
        == sorted(x.split(" got ")[1] for x in returned)  # fmt: skip
