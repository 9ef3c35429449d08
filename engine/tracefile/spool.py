"""TraceSpool: a live window's recording, kept as pickled batches and written as JSON on demand.

A :class:`~engine.tracefile.writer.TraceWriter` encodes every batch as JSON while the run goes
on: about 1.2 µs per record on the polling thread, a quarter of the live window's time under a
flood (benchmarks/gui_flood.py: 1.1 of 5.0 CPU seconds for 600,000 records). The window keeps
every run in case someone saves it, and most runs are never saved. The spool keeps each batch in
the bytes it arrived in (a worker's, engine/recorder.encode_batch) or pickles it (the parent's
own, about 0.1 µs per record) into a file beside the trace, and
:meth:`TraceSpool.export` writes what was recorded since the last export as .qltrace lines,
through a TraceWriter, so the file is exactly what that writer would have made. Nothing read
back from the spool comes from anywhere but this process (unpickling it is safe).
"""

from __future__ import annotations

import os
import pickle
import struct
from typing import IO, Any

from engine.config import RunConfig
from engine.recorder import decode_batch, dumps_batch
from engine.tracefile.format import Batch, PathLike
from engine.tracefile.writer import TraceWriter

_LEN = struct.Struct("<I")
EXPORT_CHUNK = 64  # batches decoded and written at a time (a few MB at most)


class TraceSpool:
    """A run's batches spooled as they reach the model; :meth:`export` makes the .qltrace.

    Same face as TraceWriter where the window uses it: ``attach``, ``flush``, ``close``,
    ``path``, ``error``, ``batches``, ``records``. ``flush`` only pushes the spool to the OS;
    the trace file at ``path`` holds the header and what the last :meth:`export` wrote.
    """

    def __init__(self, path: PathLike, cfg: RunConfig) -> None:
        self.path = os.fspath(path)
        self.cfg = cfg
        self.batches = 0
        self.records = 0
        self.error: Exception | None = None
        self._writer = TraceWriter(self.path, cfg)  # the header is in the file from the start
        self.spool_path = self.path + ".spool"
        self._spool: IO[bytes] = open(self.spool_path, "w+b")  # noqa: SIM115 - close() closes it
        self._exported = 0  # spool bytes already written to the trace
        self._closed = False
        self._source: Any = None  # the attached run's source, for the bytes a batch came in

    @property
    def closed(self) -> bool:
        return self._closed

    def attach(self, run: Any) -> None:
        """Spool every batch ``run`` delivers, in the order its model gets them (see
        :meth:`TraceWriter.attach`); call before ``run.start()``."""
        if getattr(getattr(run, "status", None), "value", "idle") != "idle":
            raise RuntimeError("attach the trace spool before the run starts")
        if run.cfg != self.cfg:
            raise ValueError("the trace spool was made for a different config than this run's")
        self._source = getattr(run, "source", None)
        run.add_listener(self._on_batch)

    def write(self, batches: list[Batch], payload: bytes | None = None) -> None:
        """Spool batches ``(src, first_seq, records)`` (the polling thread only); ``payload``:
        the one batch's bytes as it arrived (engine/recorder.encode_batch), kept as they are."""
        if self._closed:
            raise ValueError(f"{self.path}: the trace spool is closed")
        out = self._spool
        for batch in batches:
            # A worker's batch arrived as bytes: encoding it again was a third of the spool's
            # time under a flood. The parent's own are encoded here, without a pickle memo.
            data = payload if payload is not None else dumps_batch(batch)
            out.write(_LEN.pack(len(data)))
            out.write(data)
            self.batches += 1
            self.records += len(batch[2])

    def _on_batch(self, batch: Batch) -> None:
        if self.error is None and not self._closed:
            try:
                self.write([batch], getattr(self._source, "last_payload", None))
            except (OSError, ValueError, TypeError, pickle.PicklingError) as exc:
                # Raised into the polling thread (Inbox.poll) it would end the run's feeding.
                self.error = exc

    def flush(self) -> None:
        """Push the spool to the OS (cheap: no JSON)."""
        if not self._closed:
            self._spool.flush()

    def export(self) -> str:
        """Write everything spooled since the last export to the trace; returns ``path``.

        An error (disk full, ...) is kept in :attr:`error`; the file then holds a readable
        prefix of the run.
        """
        if self._closed or self.error is not None:
            return self.path
        try:
            spool = self._spool
            spool.flush()
            end = spool.seek(0, os.SEEK_END)
            spool.seek(self._exported)
            chunk: list[Batch] = []
            while spool.tell() < end:
                head = spool.read(_LEN.size)
                if len(head) < _LEN.size:
                    break
                chunk.append(decode_batch(spool.read(_LEN.unpack(head)[0])))
                if len(chunk) >= EXPORT_CHUNK:
                    self._writer.write(chunk)
                    chunk = []
            if chunk:
                self._writer.write(chunk)
            self._exported = spool.tell()
            spool.seek(0, os.SEEK_END)  # later batches are appended
            self._writer.flush()
        except (OSError, ValueError, TypeError) as exc:
            self.error = exc
        return self.path

    def close(self) -> None:
        """Close both files and delete the spool; the trace keeps what was exported.

        Idempotent. Batches an attached run delivers later are dropped.
        """
        if self._closed:
            return
        self._closed = True
        try:
            self._spool.close()
            self._writer.close()
        finally:
            try:
                os.unlink(self.spool_path)
            except OSError:
                pass

    def __enter__(self) -> TraceSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
