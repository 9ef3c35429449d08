"""The trace file format: header and lines as documented, record shapes, kinds by version."""

from __future__ import annotations

import json
from pathlib import Path

from engine.config import RunConfig
from engine.events import SHAPES, Kind
from engine.tracefile import _FIELDS, FORMAT_VERSION, KINDS_SINCE, read_trace
from tests.traces import CFG, _set_header, write

# The fixtures recorded and lines: pytest finds them among this module's names.
from tests.traces import fixture_lines as fixture_lines
from tests.traces import fixture_recorded as fixture_recorded


def test_the_reader_knows_every_record_shape() -> None:
    assert {int(k): len(f) + 2 for k, f in _FIELDS.items()} == {
        int(k): n for k, n in SHAPES.items()
    }


# The kinds version 1 of the format knew, as it was first written down. A kind that is not
# here and not in KINDS_SINCE is one an older QueueLab would meet as "unknown record kind"
# inside a file whose header it accepted: a new kind needs a new format version.
VERSION_1_KINDS = {
    "PUT", "PUT_FULL", "GET", "GET_EMPTY", "TASK_DONE", "TASK_DONE_ERROR", "JOIN_BEGIN",
    "JOIN_END", "FEED_ERROR", "WORKER_START", "WORKER_EXIT", "TASK_START", "TASK_END",
    "TASK_FAIL", "TASK_RETRY", "PAUSED", "PROC_INFO", "LINE", "QUEUE", "QUEUE_NEW", "PROC_JOIN",
    "TASK_RESULT", "RUN_START", "PRODUCERS_JOINED", "PROC_EXIT", "PAUSE", "RESUME", "STOP",
    "RUN_END", "STALL", "QUEUE_INFO", "MAIN_BLOCKED", "STEP_GATE", "STEP_HOLD",
}  # fmt: skip


def test_every_record_kind_came_with_a_format_version() -> None:
    since = {k.name: KINDS_SINCE.get(k, 1) for k in SHAPES}
    assert {name for name, v in since.items() if v == 1} == VERSION_1_KINDS
    assert max(since.values()) == FORMAT_VERSION
    assert {k.name for k in KINDS_SINCE} == {"PUT_BLOCKED", "TASK_ABANDON", "PROC_END"}


def test_a_version_1_file_still_loads_with_the_put_blocked_records_it_may_hold(
    tmp_path: Path, lines: list[bytes]
) -> None:
    # Written between PUT_BLOCKED's arrival and version 2: version 1, with such a record.
    t = json.loads(lines[1])[2][0][1]
    blocked = json.dumps([9, 0, [[int(Kind.PUT_BLOCKED), t, (9 << 32) + 1, 0, 0.5]]])
    path = write(tmp_path, [*_set_header("version", 1)(lines), blocked.encode() + b"\n"])
    trace = read_trace(path)
    assert trace.version == 1
    assert trace.batches[-1] == (9, 0, [(int(Kind.PUT_BLOCKED), t, (9 << 32) + 1, 0, 0.5)])
    assert trace.n_events == read_trace(write(tmp_path, lines, "v2.qltrace")).n_events + 1


def test_header_and_lines_follow_the_documented_format(lines: list[bytes]) -> None:
    header = json.loads(lines[0])
    assert header["format"] == "queuelab-trace"
    assert header["version"] == 3
    assert header["queuelab"] == "0.1.0"
    assert RunConfig.from_mapping(header["config"]) == CFG
    assert "T" in header["created"]
    for raw in lines[1:]:
        assert raw.endswith(b"\n")
        src, first, records = json.loads(raw)
        assert isinstance(src, int) and isinstance(first, int) and records
        for r in records:
            assert len(r) == SHAPES[Kind(r[0])]
