"""Tests of the SQLite edit store: versions, conflicts, undo/redo, persistence, concurrency."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from posekit.review.store import Conflict, EditStore, NothingToUndo


def _val(x: float) -> dict:
    return {"x": x}


def test_apply_versions_and_conflict(tmp_path: Path):
    s = EditStore(tmp_path / "s.sqlite", "proj")
    assert s.current("p:0:0", _val(0)) == (0, _val(0))
    r = s.apply("p:0:0", 0, _val(0), _val(1), reviewer="a", op="move")
    assert r.id == 1 and r.base_version == 0
    assert s.current("p:0:0") == (1, _val(1))
    with pytest.raises(Conflict) as ei:
        s.apply("p:0:0", 0, _val(1), _val(2), reviewer="b", op="move")
    assert ei.value.version == 1 and ei.value.current == _val(1)
    assert s.count() == 1
    s.close()


def test_persistence_and_project_key(tmp_path: Path):
    p = tmp_path / "s.sqlite"
    s = EditStore(p, "proj")
    s.apply("p:1:0", 0, _val(0), _val(5), reviewer="a", op="move")
    s.apply("f:3", 0, {"status": "open"}, {"status": "accepted"}, reviewer="a", op="decision")
    s.close()
    s2 = EditStore(p, "proj")
    assert s2.current("p:1:0") == (1, _val(5)) and s2.current("f:3")[1] == {"status": "accepted"}
    h = s2.history()
    assert [e.target for e in h] == ["p:1:0", "f:3"] and h[0].reviewer == "a" and h[0].before == _val(0)
    assert h[0].time > 1.6e9
    s2.close()
    with pytest.raises(ValueError, match="belongs to"):
        EditStore(p, "other")
    db = sqlite3.connect(p)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_undo_redo(tmp_path: Path):
    s = EditStore(tmp_path / "s.sqlite")
    base = {"p:0:0": _val(0)}
    value_of = lambda t: s.current(t, base.get(t))[1]  # noqa: E731
    s.apply("p:0:0", 0, _val(0), _val(1), reviewer="a", op="move")
    s.apply("p:0:0", 1, _val(1), _val(2), reviewer="a", op="move")
    s.undo("a", value_of)
    assert s.current("p:0:0") == (3, _val(1))
    s.undo("a", value_of)
    assert s.current("p:0:0") == (4, _val(0))
    with pytest.raises(NothingToUndo):
        s.undo("a", value_of)
    s.redo("a", value_of)
    assert s.current("p:0:0")[1] == _val(1)
    s.redo("a", value_of)
    assert s.current("p:0:0")[1] == _val(2)
    with pytest.raises(NothingToUndo):
        s.redo("a", value_of)
    # b edits after a: a's undo would overwrite b → conflict, nothing stored
    n = s.count()
    s.apply("p:0:0", 6, _val(2), _val(9), reviewer="b", op="move")
    with pytest.raises(Conflict):
        s.undo("a", value_of)
    assert s.count() == n + 1 and s.current("p:0:0")[1] == _val(9)
    # after a new edit, redo is refused
    s.undo("b", value_of)
    s.apply("p:0:1", 0, _val(0), _val(1), reviewer="b", op="move")
    with pytest.raises(NothingToUndo):
        s.redo("b", value_of)
    s.close()


def test_concurrent_writers_never_overwrite(tmp_path: Path):
    s = EditStore(tmp_path / "s.sqlite")
    wins: list[tuple[str, int]] = []
    conflicts = [0]
    lock = threading.Lock()

    def worker(name: str) -> None:
        for i in range(50):
            with s.lock:
                ver, val = s.current("p:0:0", _val(0))
            try:
                s.apply("p:0:0", ver, val, {"x": i, "by": name}, reviewer=name, op="move")
                with lock:
                    wins.append((name, i))
            except Conflict:
                with lock:
                    conflicts[0] += 1

    ts = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    h = s.history(limit=1000)
    assert len(h) == len(wins) and len(wins) + conflicts[0] == 100
    # every stored edit's 'before' is exactly the previous edit's 'after': no silent overwrite
    for prev, cur in zip(h, h[1:]):
        assert cur.before == prev.after and cur.base_version == prev.base_version + 1
    s.close()
