"""The model's fast path: a run of put/get/task_done records applied as numpy columns at once.

Under a flood nearly every record is a put, a get or a task_done; applying them one Python call
at a time held the model to ~150,000 records/s. :func:`apply_hot` gives exactly the state the
one-at-a-time path (``RunModel._apply``) gives for the same records in the same order,
including its holds (a get whose put is still in another pipe waits for it; a task_done waits
for its get) and its timeline rule (a worker's row never goes back in time). Whatever it is not
sure to do exactly (a bounded queue, a pause, an untracked item, a stand-in put, a task_done
for a task this worker did not take) it leaves to the slow path: it returns False before
changing anything.
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.events import LABEL_NONE, ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.points import DONE as P_DONE
from engine.points import DONE_REAL as P_DONE_REAL
from engine.points import GET as P_GET
from engine.points import PUT as P_PUT
from engine.states import Activity
from engine.tasks import MASK, distinct

if TYPE_CHECKING:
    from engine.applied import Applied
    from engine.model import RunModel
    from engine.states import WorkerInfo

PUT, GET, DONE = int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE)
HOT = frozenset((PUT, GET, DONE))
_ACT_PROCESS, _ACT_WAIT, _ACT_RUNNING = 3, 2, 1  # Activity values (engine/model.py)
_EXITED, _DIED = 7, 8
_POINT_CODE = np.zeros(256, np.uint8)  # a record kind's point code (engine/points.py)
_POINT_CODE[[PUT, GET, DONE]] = P_PUT, P_GET, P_DONE


def eligible(m: RunModel) -> bool:
    """Model states in which the fast path is exact."""
    return (
        not m.maxsize
        and m.t0 is not None
        and not m._pauses
        and m._paused_at is None
        and m.join_returned_t is None
        and not m._held_puts
    )


def columns(recs: list[tuple], srcs: Any, kind: np.ndarray) -> dict[str, np.ndarray]:
    """The fields of records as arrays, absolute times; ``ok`` False where a record is not a
    well-formed put/get/task_done (those go the slow way)."""
    n = len(recs)
    tid = np.zeros(n, np.int64)
    t1 = np.zeros(n, np.float64)
    te = np.zeros(n, np.float64)
    label = np.zeros(n, np.int64)
    value = np.zeros(n, np.float64)
    ok = np.zeros(n, bool)
    for k, width in ((PUT, 6), (GET, 4), (DONE, 3)):
        at = np.flatnonzero(kind == k)
        if not at.size:
            continue
        rows = pick(recs, at.tolist())
        try:
            a = np.fromiter(itertools.chain.from_iterable(rows), np.float64, width * at.size)
        except (TypeError, ValueError):
            continue  # a null value (from a trace), a wrong shape: the slow path
        a = a.reshape(-1, width)
        t1[at] = a[:, 1]
        te[at] = a[:, 2] if k != DONE else a[:, 1]
        ids = a[:, 3] if k != DONE else a[:, 2]
        tid[at] = ids
        good = (tid[at] == ids) & (ids >= 0) & (ids < 1 << 53)
        if k == PUT:
            label[at], value[at] = a[:, 4], a[:, 5]
            good &= label[at] == a[:, 4]
        ok[at] = good
    return {
        "kind": kind, "src": np.asarray(srcs, np.int64), "t1": t1, "te": te, "tid": tid,
        "label": label, "value": value, "ok": ok,
    }  # fmt: skip


def pick(items: list, idx: list[int]) -> list:
    """``[items[i] for i in idx]`` at C speed (itemgetter), for the long runs of a flood."""
    if not idx:
        return []
    if len(idx) == 1:
        return [items[idx[0]]]
    return list(itemgetter(*idx)(items))


def _has_repeats(a: np.ndarray) -> bool:
    if a.size < 2:
        return False
    d = np.diff(a)
    if (d > 0).all():
        return False  # increasing, as one stream's ids are
    s = np.sort(a)
    return bool((s[1:] == s[:-1]).any())


def _match(keys: np.ndarray, at: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``want``: (found?, ``at`` of the equal key). ``keys`` are unique."""
    if not keys.size or not want.size:
        return np.zeros(want.size, bool), np.zeros(want.size, np.int64)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    j = np.minimum(np.searchsorted(sk, want), sk.size - 1)
    found = sk[j] == want
    return found, at[order[j]]


def apply_hot(
    m: RunModel, c: dict[str, np.ndarray], records: list[tuple], at: np.ndarray, applied: Applied
) -> bool:
    """Apply ``records[at[i]]`` (put/get/task_done in effect-time order; ``c`` their columns).

    Returns False, with the model untouched, where only the slow path is exact.
    """
    if not c["ok"].all():
        return False
    t0 = m.t0
    c = dict(c, t1=c["t1"] - t0, te=c["te"] - t0)
    n = at.size
    kind, tid = c["kind"], c["tid"]
    table = m.tasks
    if table.overflow and np.isin(tid, np.fromiter(table.overflow, np.int64)).any():
        return False
    for s, _at, rows in _split(tid):
        if not table.dense(s, int(rows.max())):
            return False  # far-out ids: the table's overflow rows, one at a time
    ip, ig, id_ = (np.flatnonzero(kind == k) for k in (PUT, GET, DONE))
    # Puts: new ids only.
    p_tid = tid[ip]
    if _has_repeats(p_tid) or (~np.isnan(_Loc(table, p_tid).get("t_put"))).any():
        return False
    held_gets = m._held_gets
    held_keys = np.fromiter(held_gets, np.int64, len(held_gets))
    key = np.arange(n, dtype=np.float64)  # application order: position, then rank after it
    sub = np.zeros(n, np.int64)
    keep = np.ones(n, bool)  # applied now (False: held for a later feed)
    # Gets: their put is in the table, earlier here (or later: then right after it), or not
    # in yet (held).
    g_tid = tid[ig]
    if _has_repeats(g_tid) or (held_keys.size and np.isin(g_tid, held_keys).any()):
        return False
    g_loc = _Loc(table, g_tid)
    if (~np.isnan(g_loc.get("t_get"))).any():
        return False  # taken twice (a damaged trace): its row moves, one at a time
    known = ~np.isnan(g_loc.get("t_put"))
    here, k_put = _match(p_tid, ip, g_tid)
    missing = ~known & ~here
    if missing.any() and m._closed_streams:
        streams = np.fromiter(m._closed_streams, np.int64, len(m._closed_streams))
        if np.isin(g_tid[missing] >> 32, streams).any():
            return False  # a stand-in put: slow path
    keep[ig[missing]] = False
    late = ~known & here & (k_put > ig)
    key[ig[late]], sub[ig[late]] = k_put[late], 1
    # Gets held by earlier feeds whose put is here now: right after it, then their dones.
    rel_found, rel_k = _match(p_tid, ip, held_keys)
    extra: list[tuple] = []
    extra_src: list[int] = []
    extra_key: list[tuple[int, int]] = []
    released = held_keys[rel_found].tolist()
    for t, k in zip(released, rel_k[rel_found].tolist(), strict=True):
        gsrc, grec = held_gets[t]
        extra.append(grec)
        extra_src.append(gsrc)
        extra_key.append((k, 1))
        for j, (dsrc, drec) in enumerate(m._held_dones.get(t, ())):
            if drec[0] != DONE or j > 60:
                return False  # a task's start/end held with its get: slow path
            extra.append(drec)
            extra_src.append(dsrc)
            extra_key.append((k, 2 + j))
    # Dones: after their get (applied before, earlier here, or released here), else held.
    d_tid, d_src = tid[id_], c["src"][id_]
    d_loc = _Loc(table, d_tid)
    if _has_repeats(d_tid) or (~np.isnan(d_loc.get("t_done"))).any():
        return False
    kept_g = ig[keep[ig]]
    in_feed, g_at = _match(tid[kept_g], kept_g, d_tid)
    was_got = ~np.isnan(d_loc.get("t_get"))
    rel_d, rel_at = _match(np.asarray(released, np.int64), np.arange(len(released)), d_tid)
    blocked = (np.isin(d_tid, held_keys) if held_keys.size else np.zeros(id_.size, bool)) & ~rel_d
    if m._held_dones:
        blocked |= np.isin(d_tid, np.fromiter(m._held_dones, np.int64, len(m._held_dones)))
        blocked &= ~rel_d
    held_d = blocked | ~(in_feed | was_got | rel_d)
    keep[id_[held_d]] = False
    # The worker that marks a task done must be the one that took it (else: slow path).
    got_by = np.where(was_got, d_loc.get("get_src", missing=-2), -2)
    got_by[in_feed] = c["src"][g_at[in_feed]]
    rel_src = np.asarray(extra_src, np.int64)
    rel_gets = [i for i, r in enumerate(extra) if r[0] == GET]
    if rel_d.any():
        got_by[rel_d] = rel_src[np.asarray(rel_gets)[rel_at[rel_d]]]
    if (got_by[~held_d] != d_src[~held_d]).any():
        return False
    gkey, gsub = key[g_at], sub[g_at]
    after = in_feed & ~held_d & ((gkey > id_) | ((gkey == id_) & (gsub > 0)))
    key[id_[after]], sub[id_[after]] = gkey[after], 2 + 64
    moved = bool(late.any() or after.any())
    if rel_d.any():
        rk = np.asarray([extra_key[rel_gets[i]][0] for i in rel_at[rel_d].tolist()], np.float64)
        mv = rk > id_[rel_d]
        key[id_[rel_d][mv]], sub[id_[rel_d][mv]] = rk[mv], 2 + 64
        moved = moved or bool(mv.any())
    for s in distinct(c["src"][ip]):
        w = m.workers.get(s)
        if s and (w is None or w.role != ROLE_PRODUCER):
            return False  # a consumer's re-put (retry) or an unknown putter: slow path

    # ---- from here on the model changes
    for t in released:
        del held_gets[t]
        m._held_dones.pop(t, None)
    if not keep.all():
        _hold(m, c["src"], records, at, keep)
    m.last_t = max(m.last_t, float(c["t1"].max()))
    # What was applied, as positions in ``base``: the feed's records (and those released).
    base = records
    if extra:
        e = columns(extra, extra_src, np.fromiter((r[0] for r in extra), np.int8, len(extra)))
        e = dict(e, t1=e["t1"] - t0, te=e["te"] - t0)
        ek = np.asarray(extra_key, np.float64)
        cols = {k: np.concatenate((v[keep], e[k])) for k, v in c.items()}
        k_all = np.concatenate((key[keep], ek[:, 0]))
        s_all = np.concatenate((sub[keep], ek[:, 1].astype(np.int64)))
        base = records + extra
        pos = np.concatenate((at[keep], np.arange(len(records), len(base))))
        m.last_t = max(m.last_t, float(e["t1"].max()))
    elif keep.all():
        cols, k_all, s_all, pos = c, key, sub, at
    else:
        cols = {k: v[keep] for k, v in c.items()}
        k_all, s_all, pos = key[keep], sub[keep], at[keep]
    if not k_all.size:
        return True
    if moved or extra:  # else every record keeps its place: no sort
        rank = np.lexsort((np.arange(k_all.size), s_all, k_all))
        if (rank[1:] < rank[:-1]).any():  # usually already in order
            cols = {k: v[rank] for k, v in cols.items()}
            pos = pos[rank]
    _apply_ordered(m, cols)
    applied.add_columns(cols["src"], base, pos)
    return True


def _apply_ordered(m: RunModel, c: dict[str, np.ndarray]) -> None:
    kind, srcs, tid, t1 = c["kind"], c["src"], c["tid"], c["t1"]
    is_put, is_get, is_done = kind == PUT, kind == GET, kind == DONE
    ip, ig, id_ = np.flatnonzero(is_put), np.flatnonzero(is_get), np.flatnonzero(is_done)
    table = m.tasks
    point_t = c["te"].copy()
    labels = c["label"]
    if ip.size:
        _scatter_puts(table, tid[ip], labels[ip], c["value"][ip], srcs[ip], point_t[ip])
    if ig.size:
        g_loc = _Loc(table, tid[ig])
        point_t[ig] = np.maximum(point_t[ig], g_loc.get("t_put"))
        g_loc.set("get_src", srcs[ig])
        g_loc.set("t_get", point_t[ig])
    d_loc = _Loc(table, tid[id_])
    t_get = d_loc.get("t_get")
    d_label = d_loc.get("label", missing=-1)
    point_t[id_] = np.maximum(t1[id_], t_get)
    d_loc.set("t_done", point_t[id_])
    # Counters and the series: one point per record, never back in time. The points refer to
    # the rows just written (engine/points.py): kind and row, no times of their own.
    ser_t = np.maximum.accumulate(np.concatenate(([m.points.last_t], point_t)))[1:]
    real = d_label != LABEL_NONE
    code = _POINT_CODE[kind]
    code[id_[real]] = P_DONE_REAL
    # Every id here has its row now: the points and the timelines refer to the same rows.
    ref_slot, ref_row = table.refs(tid)
    m.points.extend(code, tid, ser_t, (ref_slot, ref_row))
    m.puts += ip.size
    m.gets += ig.size
    m.task_dones += id_.size
    sentinels = int((labels[ip] == LABEL_NONE).sum())
    m.sentinel_puts += sentinels
    m.task_puts += ip.size - sentinels
    # Workers: held tasks, counts and timelines, each worker's records in order.
    for s in distinct(srcs):
        mine = np.flatnonzero(srcs == s)
        # (trace) The main process is a worker only where it gets, as in _apply_get: a
        # traced program's main may take items (a results queue), not only put them.
        if not s and not (kind[mine] != PUT).any():
            continue
        w = m._worker(s)
        k = kind[mine]
        if w.role == ROLE_CONSUMER:
            tids = tid[mine]
            got, done = tids[k == GET], tids[k == DONE]
            if done.size:
                # Held = what it held and what it took here, less what it marked done here.
                # Every done here is of a task it held or took here (else the slow path) and
                # ids are unique here.
                old_done = 0
                if w.held:
                    old = np.fromiter(w.held, np.int64, len(w.held))
                    stays = _absent(old, done)
                    old_done = old.size - int(stays.sum())
                    if old_done:
                        w.held.clear()
                        w.held.extend(old[stays].tolist())
                left = got.size - (done.size - old_done)  # taken here, not done here
                if left == 0:
                    got = got[:0]
                elif not (0 < left <= 8 and _absent(got[-left:], done).all()):
                    got = got[_absent(got, done)]
                else:  # usually the last few taken: then all before them were done
                    got = got[-left:]
                w.tasks_done += int(real[np.searchsorted(id_, mine[k == DONE])].sum())
            w.held.extend(got.tolist())
        _timeline(m, w, k, t1[mine], point_t[mine], tid[mine], ref_slot[mine], ref_row[mine])


def _absent(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where the ids ``a`` are not among ``b``; a few by comparing (np.isin costs ~20 us)."""
    if a.size <= 8:
        return ~(b[:, None] == a).any(axis=0)
    return ~np.isin(a, b)


def _timeline(
    m: RunModel, w: WorkerInfo, kind: np.ndarray, t1: np.ndarray, t_ret: np.ndarray,
    tid: np.ndarray, ref_slot: np.ndarray, ref_row: np.ndarray,
) -> None:  # fmt: skip
    """``RunModel._set`` for a worker's records in order, at once.

    A call changes the row only if its time is not before the row's current start; the
    start is then the running maximum of the calls' times. ``ref_slot``/``ref_row``: the
    records' task rows (engine/tasks.py references).
    """
    if w.activity in (_EXITED, _DIED) and w.exit_t is not None:
        return
    if w.role == ROLE_PRODUCER:
        put = kind == PUT
        t = t_ret[put]
        act = np.full(t.size, _ACT_RUNNING, np.int8)
        task = np.full(t.size, -1, np.int64)
        hint = tid[put]
        hs, hr = ref_slot[put], ref_row[put]
        src = np.full(t.size, 1, np.uint8)  # a put's return: the row's t_put
    elif w.role == ROLE_CONSUMER:
        # get: waiting from its start, processing from its return; done: waiting again
        g, d = kind == GET, kind == DONE
        cnt = np.where(g, 2, np.where(d & w.alive, 1, 0))
        idx = np.repeat(np.arange(kind.size), cnt)
        second = np.zeros(idx.size, bool)
        second[1:] = (idx[1:] == idx[:-1])
        got, di = g[idx] & second, d[idx]  # a get's return; a task_done
        t = np.where(got | di, t_ret[idx], t1[idx])
        act = np.where(got, _ACT_PROCESS, _ACT_WAIT).astype(np.int8)
        hint = tid[idx]  # the record that closes the interval before it
        hs, hr = ref_slot[idx], ref_row[idx]
        task = np.where(got, hint, -1)
        # where t lies in that record's row: a get's return is t_get, a done's t_done
        src = (got * 2 + di * 3).astype(np.uint8)
    else:
        return
    if not t.size:
        return
    start = np.maximum.accumulate(np.concatenate(([w.since], t)))
    valid = t >= start[:-1]
    if not valid.any():
        return
    if valid.all():  # the usual case: a worker's records in time order
        vt, vact, vtask, vhint, vsrc, vs, vr = t, act, task, hint, src, hs, hr
        prev_t = start[:-1]
    else:
        vt, vact, vtask, vhint, vsrc = t[valid], act[valid], task[valid], hint[valid], src[valid]
        vs, vr = hs[valid], hr[valid]
        prev_t = start[:-1][valid]
    prev_act = np.concatenate(([int(w.activity)], vact[:-1]))
    prev_task = np.concatenate(([w.task], vtask[:-1]))
    grow = vt > prev_t
    if grow.all():
        w.intervals.extend_refs(prev_t, vt, prev_act, prev_task, vhint, vsrc, vs, vr)
    elif grow.any():
        w.intervals.extend_refs(prev_t[grow], vt[grow], prev_act[grow], prev_task[grow],
                                vhint[grow], vsrc[grow], vs[grow], vr[grow])  # fmt: skip
    w.activity, w.since, w.task = Activity(int(vact[-1])), float(vt[-1]), int(vtask[-1])


def _hold(
    m: RunModel, srcs: np.ndarray, records: list[tuple], at: np.ndarray, keep: np.ndarray
) -> None:
    """Hold the records ``records[at[i]]`` not kept (from ``srcs[i]``) for a later feed."""
    held = np.flatnonzero(~keep)
    for s, j in zip(srcs[held].tolist(), at[held].tolist(), strict=True):
        r = records[j]
        if r[0] == GET:
            m._held_gets[r[3]] = (s, r)
        else:
            m._held_dones.setdefault(r[2], []).append((s, r))


def _split(tids: np.ndarray) -> list[tuple[int, np.ndarray | None, np.ndarray]]:
    """(stream, positions in ``tids`` (None: all of them), rows) per stream."""
    if not tids.size:
        return []
    streams = tids >> 32
    rows = tids & MASK
    lo, hi = int(streams.min()), int(streams.max())
    if lo == hi:  # the usual case: one producer
        return [(lo, None, rows)]
    out = []
    for s in distinct(streams):
        at = np.flatnonzero(streams == s)
        out.append((s, at, rows[at]))
    return out


def _sub(a: np.ndarray, at: np.ndarray | None) -> np.ndarray:
    return a if at is None else a[at]


_DTYPE = {"label": np.int64, "value": np.float64, "put_src": np.int32, "t_put": np.float64,
          "get_src": np.int32, "t_get": np.float64, "t_done": np.float64}  # fmt: skip


class _Loc:
    """Where ids sit in the task table, found once for several reads and writes: per stream
    its rows, their positions among the ids (None: all) and rows; ids without a row left out."""

    __slots__ = ("n", "parts", "whole")

    def __init__(self, table, tids: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        self.n = tids.size
        self.parts: list[tuple[Any, np.ndarray | None, np.ndarray]] = []
        for s, at, rows in _split(tids):
            r = table.streams.get(s)
            if r is None:
                continue
            if int(rows.max()) >= r.n:  # some not in the table (yet)
                ok = rows < r.n
                at = np.flatnonzero(ok) if at is None else at[ok]
                rows = rows[ok]
            self.parts.append((r, at, rows))
        self.whole = len(self.parts) == 1 and self.parts[0][1] is None

    def get(self, column: str, missing: float = np.nan) -> np.ndarray:
        """``column`` of each id's row, ``missing`` where it has none."""
        if self.whole:
            r, _, rows = self.parts[0]
            return getattr(r, column)[rows]
        out = np.full(self.n, missing, _DTYPE[column])
        for r, at, rows in self.parts:
            out[at] = getattr(r, column)[rows]
        return out

    def set(self, column: str, values: np.ndarray) -> None:
        """Write ``values`` (one per id) into the rows of ids that have one."""
        for r, at, rows in self.parts:
            getattr(r, column)[rows] = _sub(values, at)


def _scatter_puts(table, tids, labels, values, srcs, t) -> None:  # type: ignore[no-untyped-def]
    for s, at, rows in _split(tids):
        r, _ = table.rows_for(int((s << 32) + int(rows.max())))
        r.label[rows], r.value[rows], r.put_src[rows], r.t_put[rows] = (
            _sub(labels, at), _sub(values, at), _sub(srcs, at), _sub(t, at)
        )
        r.get_src[rows], r.t_get[rows], r.t_done[rows] = -1, np.nan, np.nan
    table.count += tids.size


def _gather(table, tids, column: str, missing: float = np.nan) -> np.ndarray:  # type: ignore[no-untyped-def]
    return _Loc(table, tids).get(column, missing)
