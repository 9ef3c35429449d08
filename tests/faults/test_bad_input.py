"""Bad command lines and config files: one clear line on stderr, exit 2, no process started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import main as cli_main
from engine.config import FIELDS

from . import ROOT

_WRONG_TOML: dict[str, list[str]] = {
    # per field type: values of another type, out of range, NaN and infinities
    "int": ['"3"', "1.5", "true", "[1]", "{ a = 1 }", "-1", "100000000000", "nan", "inf"],
    "optional_int": ['"3"', "1.5", "true", "-1", "nan"],
    "float": ['"1"', "true", "[1.0]", "nan", "inf", "-inf", "-1.0", "1e400"],
    "bool": ['"yes"', "1", "0.0", "[]"],
    "choice": ["1", "true", '"no-such-choice"', '""', "[]"],
    "distribution": ["true", '"bogus"', '{ kind = "uniform", low = 1.0, high = nan }',
                     '{ kind = "constant", value = -1.0 }', '{ kind = "zipf" }', "[1]"],
    "str": ["1", "true", "[]", "{ a = 1 }"],
}  # fmt: skip
_WRONG_SET: dict[str, list[str]] = {
    "int": ["abc", "1.5", "nan", "-5", "99999999999", ""],
    "optional_int": ["abc", "1.5", "-1", "nan"],
    "float": ["abc", "nan", "inf", "-1", "1e999", ""],
    "bool": ["maybe", "2", ""],
    "choice": ["no-such-choice", "", "1"],
    "distribution": ["bogus", "uniform(1, nan)", "normal(0, -1)", "constant(nan)", "-1"],
    "str": [],
}


TOML_CASES = [
    pytest.param(f"{spec.name} = {v}\n", id=f"{spec.name}={v}")
    for spec in FIELDS
    for v in _WRONG_TOML[spec.type]
] + [
    pytest.param("no_such_key = 1\n", id="unknown-key"),
    pytest.param("consumer = 2\n", id="misspelt-key"),
    pytest.param("[section]\nproducers = 1\n", id="unknown-table"),
    pytest.param("producers = 1\nproducers = 2\n", id="duplicate-key"),
    pytest.param("producers = \n", id="syntax"),
    pytest.param("\xff\xfe = 1\n", id="not-utf8"),
]
SET_CASES = [
    pytest.param(f"{spec.name}={v}", id=f"{spec.name}={v}")
    for spec in FIELDS
    for v in _WRONG_SET[spec.type]
] + [
    pytest.param("no_such_key=1", id="unknown-key"),
    pytest.param("novalue", id="no-equals"),
    pytest.param("=3", id="no-key"),
]


def _children() -> set[int]:
    return {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)}


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run main(argv) in this process; it must refuse with exit 2, one line, nothing started."""
    before = _children()
    try:
        code = cli_main.main(argv)
    except SystemExit as exc:  # argparse refuses by exiting
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, f"exit {code}; stderr {err!r}"
    assert out == "", "nothing may be printed to stdout"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {err!r}"
    assert "Traceback" not in err
    assert _children() <= before, "a process was started"
    return lines[0]


@pytest.mark.parametrize("text", TOML_CASES)
def test_bad_config_file_is_refused(text: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    f = tmp_path / "bad.toml"
    f.write_bytes(text.encode("latin-1"))
    line = _refused(["run", "--config", str(f)], capsys)
    assert "bad.toml" in line or text.split("=")[0].strip() in line, line


@pytest.mark.parametrize("text", SET_CASES)
def test_bad_set_is_refused(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(["run", "--set", text], capsys)
    key = text.partition("=")[0]
    assert key in line or text in line, line


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--hang-timeout", "nan"],
        ["run", "--hang-timeout", "-1"],
        ["run", "--hang-timeout", "soon"],
        ["run", "--no-such-flag"],
        ["run", "--preset", "tutorial", "--config", "x.toml"],
        ["no-such-command"],
        ["run", "--preset", "no-such-preset"],
        ["run", "--config", "/nonexistent/queuelab.toml"],
        ["run", "--config", "/"],
        ["run", "--config", "/dev/null/x.toml"],
    ],
    ids=lambda a: " ".join(a),
)
def test_bad_command_line_is_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    _refused(argv, capsys)


def test_a_directory_as_config_is_refused_by_the_real_cli(tmp_path: Path) -> None:
    """The same through a real process: fast, exit 2, one line, nothing on stdout."""
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "run", "--config", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    print(f"\nFIGURE refusing a directory as config took {time.monotonic() - t0:.2f} s")
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and str(tmp_path) in p.stderr, p.stderr
