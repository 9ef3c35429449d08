"""Truncated trace files: a cut in the last lines loads with a warning, in the header it fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.tracefile import TraceError, read_trace

# The fixtures recorded and lines: pytest finds them among this module's names.
from tests.traces import fixture_lines as fixture_lines
from tests.traces import fixture_recorded as fixture_recorded
from tests.traces import write


def _complete_records(raw_line: bytes, cut: int) -> int:
    """How many records of a compact batch line end within its first ``cut`` bytes."""
    src, first, records = json.loads(raw_line)
    pos = len(f"[{src},{first},[".encode())
    n = 0
    for r in records:
        pos += len(json.dumps(r, separators=(",", ":")).encode())
        if pos > cut:
            break
        n += 1
        pos += 1  # the comma
    return n


def test_truncation_at_every_byte_of_the_last_lines(tmp_path: Path, lines: list[bytes]) -> None:
    data = b"".join(lines)
    starts = [sum(len(x) for x in lines[:i]) for i in range(len(lines))]
    before = [sum(len(json.loads(x)[2]) for x in lines[1:i]) for i in range(len(lines))]
    first_cut = starts[-3]
    path = tmp_path / "cut.qltrace"
    for cut in range(first_cut, len(data) + 1):
        path.write_bytes(data[:cut])
        i = max(k for k in range(len(lines)) if starts[k] <= cut)
        warnings: list[str] = []
        trace = read_trace(path, on_warning=warnings.append)  # must not raise: cut, not corrupt
        expected = before[i] + (
            _complete_records(lines[i], cut - starts[i]) if cut > starts[i] else 0
        )
        assert trace.n_events == expected, cut
        mid_line = starts[i] < cut < starts[i] + len(lines[i]) - 1
        assert bool(warnings) == mid_line, (cut, warnings)
        assert trace.warnings == tuple(warnings)
        if warnings:
            assert f"line {i + 1} is incomplete" in warnings[0]


def test_truncation_inside_the_header_is_a_trace_error(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "cut.qltrace"
    for cut in range(1, len(lines[0]) - 1, 7):
        path.write_bytes(lines[0][:cut])
        with pytest.raises(TraceError, match="line 1"):
            read_trace(path)


def test_a_cut_multibyte_character_is_a_truncation(tmp_path: Path, lines: list[bytes]) -> None:
    tail = '[0,99,[[45,1e9,"stopped"],[47,1e9,"é'.encode()
    path = write(tmp_path, [*lines, tail[:-1]])
    warnings: list[str] = []
    trace = read_trace(path, on_warning=warnings.append)
    assert len(warnings) == 1
    assert trace.batches[-1][2] == [(45, 1e9, "stopped")]
