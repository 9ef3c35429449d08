"""TraceWriter: streams a run's batches to a .qltrace file as they reach the model."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from engine.config import RunConfig
from engine.tracefile.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    QUEUELAB_VERSION,
    Batch,
    PathLike,
    _dumps,
)

FLUSH_INTERVAL_S = 0.5
FLUSH_BATCHES = 64


def _finite(x: object) -> object:
    return x if not isinstance(x, float) or math.isfinite(x) else None


class TraceWriter:
    """Streams a run to a trace file: the header at once, then one line per batch.

    Lines are flushed to the OS at least every ``flush_interval`` seconds (a background thread
    covers quiet spells) or every ``flush_batches`` batches, so a crashed run leaves a readable
    prefix. Non-finite floats in records are written as ``null`` (JSON has no NaN).
    """

    def __init__(
        self,
        path: PathLike,
        cfg: RunConfig,
        *,
        flush_interval: float = FLUSH_INTERVAL_S,
        flush_batches: int = FLUSH_BATCHES,
    ) -> None:
        self.path = os.fspath(path)
        self.cfg = cfg
        self.batches = 0
        self.records = 0
        self.error: Exception | None = None  # the first error met while attached to a run
        self._interval = flush_interval
        self._every = max(1, flush_batches)
        self._lock = threading.Lock()
        self._pending = 0
        self._last_flush = time.monotonic()
        self._closed = threading.Event()
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "config": cfg.to_mapping(),
            "created": datetime.now().astimezone().isoformat(timespec="seconds"),
            "queuelab": QUEUELAB_VERSION,
        }
        self._file: IO[str] = open(  # noqa: SIM115 - closed by close(), which __exit__ calls
            self.path, "w", encoding="utf-8", newline="\n", buffering=1 << 16
        )
        try:
            self._file.write(_dumps(header) + "\n")
            self._file.flush()
        except BaseException:
            self._file.close()
            raise
        self._thread = threading.Thread(
            target=self._flush_loop, name="queuelab-trace-flush", daemon=True
        )
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def write(self, batches: Iterable[Batch]) -> None:
        """Append batches ``(src, first_seq, records)``; safe to call from several threads."""
        lines = []
        n = 0
        for batch in batches:
            try:
                lines.append(_dumps(batch))
            except ValueError:  # NaN or infinity somewhere: JSON cannot hold it
                src, first, records = batch
                clean = [tuple(_finite(x) for x in r) for r in records]
                lines.append(_dumps((src, first, clean)))
            n += len(batch[2])
        if not lines:
            return
        text = "\n".join(lines) + "\n"
        with self._lock:
            if self._closed.is_set():
                raise ValueError(f"{self.path}: the trace writer is closed")
            self._file.write(text)
            self.batches += len(lines)
            self.records += n
            self._pending += len(lines)
            due = time.monotonic() - self._last_flush >= self._interval
            if due or self._pending >= self._every:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            if not self._closed.is_set():
                self._flush_locked()

    def _flush_locked(self) -> None:
        self._file.flush()
        self._pending = 0
        self._last_flush = time.monotonic()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self._interval / 2):
            if self._pending and time.monotonic() - self._last_flush >= self._interval / 2:
                try:
                    self.flush()
                except OSError as exc:
                    self.error = self.error or exc
                    return

    def close(self) -> None:
        """Flush and close; idempotent. Batches an attached run delivers later are dropped."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            try:
                self._file.flush()
            finally:
                self._file.close()
        if self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attach(self, run: Any) -> None:
        """Write every batch ``run`` delivers; call before ``run.start()``.

        The run's inbox (engine/inbox.py) hands each batch to the writer as it takes it, just
        before the model gets it, so batches are written in the very order the model receives
        them (and only batches that were polled: ``Run.wait`` and the CLI poll everything).
        A write error (disk full, ...) never disturbs the run: writing stops and the error is
        kept in :attr:`error` for the caller to report.
        """
        if getattr(getattr(run, "status", None), "value", "idle") != "idle":
            raise RuntimeError("attach the trace writer before the run starts")
        if run.cfg != self.cfg:
            raise ValueError("the trace writer was made for a different config than this run's")
        run.add_listener(self._on_batch)

    def _on_batch(self, batch: Batch) -> None:
        if self.error is None and not self.closed:
            try:
                self.write((batch,))
            except (OSError, ValueError, TypeError) as exc:
                # Raised into the polling thread (Inbox.poll) it would end the run's feeding.
                self.error = exc
