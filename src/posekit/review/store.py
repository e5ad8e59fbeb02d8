"""The edit store: every review edit in SQLite (WAL), durable before it is acknowledged.

Each row of ``edits`` is one change of one *target*:

* ``p:<frame>:<person>``: a person in a frame; ``before``/``after`` are JSON snapshots
  ``{"xy": [[x, y] | [null, null], ...] (pixels), "state": [int, ...], "track": int}``.
* ``ids``: the track ids of all person slots of a video, frame by frame; snapshots ``{"segments":
  [[[from_frame, track_id], ...] per slot]}``: slot ``i`` has id ``track_id`` from ``from_frame`` until
  the next segment's ``from_frame`` (the first segment starts at frame 0). One target for every slot,
  so an identity swap of two slots is one row with one version check, and undo restores both; any
  two identity edits of a video conflict unless the later one was based on the earlier one's result
  (an id must name one slot per frame, which depends on every slot's ids).
* ``t:<person>`` (legacy, written before per-frame ids; no longer written): the track id of a slot
  across the whole video, snapshots ``{"track": int}``. Still read: such values are the starting
  value of ``ids`` until ``ids`` has a row (which then holds them).
* ``f:<finding index>``: the decision on a QA finding; snapshots ``{"status": "open" | "accepted" |
  "dismissed", "comment": str}``.

The current value of a target is the ``after`` of its latest row (or the project's value when it has
none); its *version* is its number of rows. An edit names the version it was based on; a mismatch
raises :class:`Conflict` carrying the current value and version, so two reviewers never overwrite each
other silently.

Undo adds a row (kind ``undo``) that restores the ``before`` of the reviewer's latest edit that is not
undone; redo adds a row (kind ``redo``) that re-applies it. Replaying the ``after`` of all rows in id
order therefore rebuilds the current state.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL``: each commit fsyncs the WAL, and
:meth:`EditStore.apply` returns only after the commit, so an acknowledged edit survives ``kill -9``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time as _time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EditStore", "Conflict", "EditRow", "NothingToUndo"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    op TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    time REAL NOT NULL,
    base_version INTEGER NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    ref INTEGER,
    undone INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS edits_target ON edits(target);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Conflict(Exception):
    """An edit was based on an outdated version of its target.

    Attributes:
        target: the target key.
        version: its current version.
        current: its current value (JSON-ready).
    """

    def __init__(self, target: str, version: int, current: Any, message: str) -> None:
        super().__init__(message)
        self.target, self.version, self.current = target, version, current


class NothingToUndo(Exception):
    """The reviewer has no edit to undo (or redo)."""


@dataclass(frozen=True)
class EditRow:
    """One stored edit (see the module docstring).

    Attributes:
        id: row id (increasing).
        target: target key.
        kind: ``"edit"``, ``"undo"`` or ``"redo"``.
        op: the operation (``"move"``, ``"state"``, ``"swap"``, ``"track"``, ``"decision"``, …).
        reviewer: who made it.
        time: UNIX time, seconds.
        base_version: the version it was based on; the target's version after it is ``base_version + 1``.
        before: value before (JSON-ready).
        after: value after (JSON-ready).
        ref: for undo/redo, the row undone or redone.
        undone: whether this row has been undone (for ``edit``/``redo``) or redone (for ``undo``).
    """

    id: int
    target: str
    kind: str
    op: str
    reviewer: str
    time: float
    base_version: int
    before: Any
    after: Any
    ref: int | None
    undone: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _row(r: tuple) -> EditRow:
    return EditRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), json.loads(r[8]), r[9], bool(r[10]))


_COLS = "id, target, kind, op, reviewer, time, base_version, before, after, ref, undone"


class EditStore:
    """SQLite edit store with per-target versions (thread-safe; one connection behind a lock).

    Args:
        path: the database file (created if absent).
        project_key: identifies the reviewed poses file; opening a store made for other poses raises
            ``ValueError`` so edits are never replayed onto the wrong data.
    """

    def __init__(self, path: str | Path, project_key: str | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        if project_key is not None:
            got = self._db.execute("SELECT value FROM meta WHERE key='project'").fetchone()
            if got is None:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("INSERT INTO meta VALUES ('project', ?)", (project_key,))
                self._db.execute("COMMIT")
            elif got[0] != project_key:
                self._db.close()
                raise ValueError(f"edit store {self.path} belongs to {got[0]!r}, not {project_key!r}")
        self._current: dict[str, tuple[int, Any]] = {}
        for r in self._db.execute(f"SELECT {_COLS} FROM edits ORDER BY id"):
            e = _row(r)
            self._current[e.target] = (e.base_version + 1, e.after)

    # -- reading ------------------------------------------------------------------------------------
    def version(self, target: str) -> int:
        """Number of rows of ``target`` (0 = never edited)."""
        with self._lock:
            return self._current.get(target, (0, None))[0]

    def current(self, target: str, default: Any = None) -> tuple[int, Any]:
        """``(version, value)`` of ``target``; ``value`` is ``default`` when never edited."""
        with self._lock:
            return self._current.get(target, (0, default))

    def targets(self) -> dict[str, tuple[int, Any]]:
        """Every edited target → ``(version, value)``."""
        with self._lock:
            return dict(self._current)

    def history(self, limit: int = 1000, target: str | None = None) -> list[EditRow]:
        """The latest ``limit`` rows (oldest first), optionally of one target."""
        with self._lock:
            if target is None:
                rows = self._db.execute(f"SELECT {_COLS} FROM edits ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
            else:
                rows = self._db.execute(
                    f"SELECT {_COLS} FROM edits WHERE target=? ORDER BY id DESC LIMIT ?", (target, limit)
                ).fetchall()
        return [_row(r) for r in reversed(rows)]

    def count(self) -> int:
        """Number of rows."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM edits").fetchone()[0])

    # -- writing ------------------------------------------------------------------------------------
    def _insert(self, target: str, kind: str, op: str, reviewer: str, base: int, before: Any, after: Any,
                ref: int | None) -> EditRow:  # fmt: skip
        now = _time.time()
        cur = self._db.execute(
            "INSERT INTO edits (target, kind, op, reviewer, time, base_version, before, after, ref) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (target, kind, op, reviewer, now, base, json.dumps(before), json.dumps(after), ref),
        )
        return EditRow(int(cur.lastrowid), target, kind, op, reviewer, now, base, before, after, ref, False)

    def apply(self, target: str, base_version: int, before: Any, after: Any, *, reviewer: str, op: str) -> EditRow:
        """Store one edit, committed (fsync'd) before returning.

        Args:
            target: the target key.
            base_version: the version the reviewer saw.
            before: the current value (JSON-ready), as computed by the caller under :attr:`lock`.
            after: the new value (JSON-ready).
            reviewer: who edits.
            op: operation name.

        Raises:
            Conflict: ``base_version`` is not the current version.
        """
        with self._lock:
            ver, _ = self._current.get(target, (0, None))
            if base_version != ver:
                raise Conflict(target, ver, before, f"{target} is at version {ver}, the edit was based on {base_version}")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._insert(target, "edit", op, reviewer, ver, before, after, None)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._current[target] = (ver + 1, after)
            return row

    @property
    def lock(self) -> threading.RLock:
        """The store lock (hold it to read a value and apply an edit atomically)."""
        return self._lock

    def undo(self, reviewer: str, value_of: Any, check: Any = None) -> EditRow:
        """Undo ``reviewer``'s latest edit (or redo) that is not undone.

        Args:
            reviewer: who undoes.
            value_of: ``target → current value`` callable (for targets never edited).
            check: optional callable given the row to undo before anything is stored; may raise
                :class:`Conflict` to refuse.

        Raises:
            NothingToUndo: no such edit.
            Conflict: someone changed the target since (the undo would overwrite their edit).
        """
        with self._lock:
            r = self._db.execute(
                f"SELECT {_COLS} FROM edits WHERE reviewer=? AND kind IN ('edit','redo') AND undone=0 "
                "ORDER BY id DESC LIMIT 1", (reviewer,),
            ).fetchone()  # fmt: skip
            if r is None:
                raise NothingToUndo(f"reviewer {reviewer!r} has nothing to undo")
            e = _row(r)
            if check is not None:
                check(e)
            return self._revert(e, "undo", e.before, reviewer, value_of)

    def redo(self, reviewer: str, value_of: Any, check: Any = None) -> EditRow:
        """Redo ``reviewer``'s latest undo, unless the reviewer edited anything after it (``check``: as
        for :meth:`undo`).

        Raises:
            NothingToUndo: nothing to redo.
            Conflict: someone changed the target since.
        """
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLS} FROM edits WHERE reviewer=? AND kind='undo' AND undone=0 ORDER BY id DESC LIMIT 1",
                (reviewer,),
            ).fetchone()
            if rows is None:
                raise NothingToUndo(f"reviewer {reviewer!r} has nothing to redo")
            u = _row(rows)
            later = self._db.execute(
                "SELECT COUNT(*) FROM edits WHERE reviewer=? AND kind='edit' AND id>?", (reviewer, u.id)
            ).fetchone()[0]
            if later:
                raise NothingToUndo(f"reviewer {reviewer!r} edited after the last undo; nothing to redo")
            if check is not None:
                check(u)
            return self._revert(u, "redo", u.before, reviewer, value_of)

    def _revert(self, e: EditRow, kind: str, value: Any, reviewer: str, value_of: Any) -> EditRow:
        ver, cur = self._current.get(e.target, (0, None))
        others = self._db.execute(
            "SELECT COUNT(*) FROM edits WHERE target=? AND id>? AND reviewer<>?", (e.target, e.id, reviewer)
        ).fetchone()[0]
        if others:
            raise Conflict(e.target, ver, value_of(e.target), f"{e.target} was changed by someone since; cannot {kind}")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._insert(e.target, kind, e.op, reviewer, ver, e.after, value, e.id)
            self._db.execute("UPDATE edits SET undone=1 WHERE id=?", (e.id,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._current[e.target] = (ver + 1, value)
        return row

    def close(self) -> None:
        """Close the database (after a checkpoint)."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()
