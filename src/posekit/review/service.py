"""Review operations on a project: current poses (project + stored edits), edits, undo/redo, findings.

Keypoints are addressed by frame index, person slot and keypoint (name or index). Positions are
pixels in the frame. A moved keypoint becomes ``CORRECTED``; a keypoint set ``missing`` gets NaN
coordinates (``null`` in JSON).

Identities (video projects): a person *slot* holds one skeleton per frame; its track id may change from
one frame on (an identity switch of the tracker is repaired by swapping two slots' ids from the frame
of the switch on). The ids of all slots are one store target, ``ids`` (see :mod:`posekit.review.store`):
per slot a list of ``[from_frame, track_id]`` segments. In every frame the track ids of the slots are
distinct (``-1``, no id, excepted), so the export can regroup the skeletons by id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from posekit.poses import KeypointState

from .project import ReviewProject
from .store import Conflict, EditRow, EditStore

__all__ = ["ReviewService", "BadEdit", "FINDING_STATUSES", "EDIT_OPS", "IDS_TARGET", "track_column"]

FINDING_STATUSES = ("open", "accepted", "dismissed")
EDIT_OPS = ("move", "state", "swap", "track", "swap_tracks")
IDS_TARGET = "ids"
_SETTABLE = {"visible": KeypointState.VISIBLE, "occluded": KeypointState.OCCLUDED, "missing": KeypointState.MISSING,
             "corrected": KeypointState.CORRECTED}  # fmt: skip


class BadEdit(ValueError):
    """A malformed or impossible edit (an HTTP 4xx); ``status`` is 404 for unknown things, 409 for an
    edit that contradicts the current poses (a track id already taken), else 422. ``extra``: more
    JSON-ready fields for the error response."""

    def __init__(self, message: str, status: int = 422, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


def _xy_json(xy: np.ndarray) -> list[list[float | None]]:
    return [[None, None] if not np.isfinite(p).all() else [float(p[0]), float(p[1])] for p in xy]


# -- track id segments: per slot a list of [from_frame, id], sorted, the first from frame 0 -------------
def _id_at(segs: list[list[int]], frame: int) -> int:
    t = segs[0][1]
    for start, v in segs:
        if start > frame:
            break
        t = v
    return int(t)


def _segment_start(segs: list[list[int]], frame: int) -> int:
    s0 = 0
    for start, _ in segs:
        if start > frame:
            break
        s0 = start
    return int(s0)


def _merge(segs: list[list[int]]) -> list[list[int]]:
    """Drop segments that repeat the previous id."""
    out: list[list[int]] = []
    for start, v in segs:
        if not out or out[-1][1] != v:
            out.append([int(start), int(v)])
    return out


def _head(segs: list[list[int]], frame: int) -> list[list[int]]:
    return [list(s) for s in segs if s[0] < frame]


def _tail(segs: list[list[int]], frame: int) -> list[list[int]]:
    return [[frame, _id_at(segs, frame)]] + [list(s) for s in segs if s[0] > frame]


def track_column(segs: list[list[int]], num_frames: int) -> np.ndarray:
    """``(T,)`` int64 track id per frame of one slot's ``[from_frame, id]`` segments."""
    out = np.empty(num_frames, np.int64)
    for start, v in segs:
        out[start:] = v
    return out


@dataclass
class ReviewService:
    """The project's poses with the stored edits applied, and the operations on them.

    Args:
        project: the opened project.
        store: the edit store.
        findings: QA findings (``posekit.qa.findings.Finding``) on the original poses.
        queue: review queue items (``posekit.qa.queue.QueueItem``).
    """

    project: ReviewProject
    store: EditStore
    findings: list[Any]
    queue: list[Any]

    # -- values ---------------------------------------------------------------------------------
    def _check_frame(self, frame: Any, name: str = "frame") -> int:
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise BadEdit(f"'{name}' must be an integer")
        if not 0 <= frame < self.project.num_frames:
            raise BadEdit(f"unknown frame {frame} for '{name}' (the project has {self.project.num_frames})", 404)
        return frame

    def _check_person(self, frame: int, person: Any) -> int:
        if isinstance(person, bool) or not isinstance(person, int):
            raise BadEdit("'person' must be an integer")
        if not 0 <= person < self.project.num_people or not self.project.exists[frame, person]:
            raise BadEdit(f"unknown person {person} in frame {frame}", 404)
        return person

    def _keypoint(self, kp: Any) -> int:
        names = self.project.skeleton.keypoints
        if isinstance(kp, str):
            if kp not in names:
                raise BadEdit(f"unknown keypoint {kp!r} for skeleton {self.project.skeleton.name}", 404)
            return names.index(kp)
        if isinstance(kp, bool) or not isinstance(kp, int) or not 0 <= kp < len(names):
            raise BadEdit(f"unknown keypoint {kp!r} (give a name or an index 0..{len(names) - 1})", 404)
        return kp

    def base_person(self, frame: int, person: int) -> dict[str, Any]:
        """The person's value in the project file (JSON-ready)."""
        p = self.project
        return {"xy": _xy_json(p.xy[frame, person]), "state": [int(s) for s in p.state[frame, person]],
                "track": int(p.track[frame, person])}  # fmt: skip

    def value_of(self, target: str) -> Any:
        """Current value of a target key (see :mod:`posekit.review.store`)."""
        kind, *rest = target.split(":")
        if kind == "p":
            f, i = int(rest[0]), int(rest[1])
            return self.store.current(target, None)[1] or self.base_person(f, i)
        if kind == "t":
            return self.store.current(target, None)[1] or {"track": int(self.project.track[0, int(rest[0])])}
        if kind == IDS_TARGET:
            return self.store.current(target, None)[1] or {"segments": self._base_segments()}
        if kind == "f":
            return self.store.current(target, None)[1] or {"status": "open", "comment": ""}
        raise KeyError(target)

    def _base_segments(self) -> list[list[list[int]]]:
        """Track id segments before any ``ids`` edit: the project's id of each slot, or the whole-video
        id of a legacy ``t:<person>`` edit (stores written before per-frame ids)."""
        out = []
        for i in range(self.project.num_people):
            _, legacy = self.store.current(f"t:{i}", None)
            out.append([[0, int(legacy["track"]) if legacy else int(self.project.track[0, i])]])
        return out

    def segments(self) -> list[list[list[int]]]:
        """Current track id segments of a video project: per slot ``[[from_frame, id], ...]``."""
        return self.value_of(IDS_TARGET)["segments"]

    def track_table(self) -> np.ndarray:
        """``(T, I)`` int64 current track id per frame and slot."""
        p = self.project
        if p.kind != "video":
            return self.current_arrays()[2]
        segs = self.segments()
        return np.stack([track_column(s, p.num_frames) for s in segs], 1) if segs else p.track.copy()

    def person(self, frame: int, person: int) -> dict[str, Any]:
        """Current person value with versions: ``xy`` pixels (null = missing), ``state``, ``track`` (the id in
        this frame), ``version``, ``track_version``; video projects add ``track_from``, the first frame of
        the run of frames in which the slot has had this id."""
        key = f"p:{frame}:{person}"
        ver, val = self.store.current(key, None)
        val = dict(val or self.base_person(frame, person))
        perm = val.get("perm") or range(len(val["state"]))
        sc = self.project.score[frame, person]
        out = {"person": person, "version": ver, **val, "score": [round(float(sc[j]), 4) for j in perm]}
        if self.project.kind == "video":
            tver, tval = self.store.current(IDS_TARGET, None)
            segs = (tval or {"segments": self._base_segments()})["segments"][person]
            out["track"] = _id_at(segs, frame)
            out["track_from"] = _segment_start(segs, frame)
            out["track_version"] = tver
        else:
            out["track_version"] = ver
        return out

    def poses(self, frame: int) -> dict[str, Any]:
        """The people of ``frame`` (JSON-ready)."""
        frame = self._check_frame(frame)
        with self.store.lock:
            people = [self.person(frame, i) for i in range(self.project.num_people) if self.project.exists[frame, i]]
        return {"frame": frame, "people": people}

    def current_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``xy (T, I, K, 2)`` pixels, ``state (T, I, K)``, ``track (T, I)`` and ``score (T, I, K)`` (following
        left/right swaps) with every edit applied."""
        p = self.project
        xy, st, tr, sc = p.xy.copy(), p.state.copy(), p.track.copy(), p.score.copy()
        for key, (_, val) in self.store.targets().items():
            kind, *rest = key.split(":")
            if kind == "p":
                f, i = int(rest[0]), int(rest[1])
                xy[f, i] = np.array([[np.nan, np.nan] if q[0] is None else q for q in val["xy"]], float)
                st[f, i] = val["state"]
                if val.get("perm"):
                    sc[f, i] = p.score[f, i][val["perm"]]
                if p.kind != "video":
                    tr[f, i] = val["track"]
        if p.kind == "video":
            tr = self.track_table()
        return xy, st, tr, sc

    def keypoint_maps(self) -> dict[tuple[int, int], tuple[list[int], list[int]]]:
        """``(frame, person) → (perm, moved)`` for edited people: ``perm[k]`` is the keypoint of the
        file now in slot ``k`` (after left/right swaps), ``moved`` the slots moved by hand."""
        out = {}
        for key, (_, val) in self.store.targets().items():
            kind, *rest = key.split(":")
            if kind == "p":
                k = len(val["state"])
                out[(int(rest[0]), int(rest[1]))] = (list(val.get("perm") or range(k)), list(val.get("moved", [])))
        return out

    def finding_rows(self) -> list[dict[str, Any]]:
        """Findings with index, decision, comment and version."""
        out = []
        for i, f in enumerate(self.findings):
            ver, val = self.store.current(f"f:{i}", None)
            val = val or {"status": "open", "comment": ""}
            out.append({"index": i, **f.to_dict(), "status": val["status"], "comment": val["comment"],
                        "reviewer": val.get("reviewer"), "version": ver})  # fmt: skip
        return out

    # -- edits ----------------------------------------------------------------------------------
    def edit(self, body: dict[str, Any]) -> tuple[EditRow, dict[str, Any]]:
        """Apply one edit.

        ``body``: ``{"reviewer": str, "op": "move" | "state" | "swap" | "track" | "swap_tracks", "frame":
        int, "person": int, "version": int, "keypoint": name | index (move, state), "x": float, "y": float
        (move; pixels), "state": "visible" | "occluded" | "missing" (state), "track": int (track),
        "other": int (swap_tracks), "from_frame": int (track, swap_tracks; video only)}``.

        Identity edits of a video project (``version`` is the person's ``track_version``):

        * ``track``: from frame ``from_frame`` on (absent: the whole video) the slot ``person`` has
          the id ``track``; 409 (nothing stored) if another slot has that id in one of those frames
          (the error names the frame and the slot, and suggests ``swap_tracks``).
        * ``swap_tracks``: from frame ``from_frame`` on (absent: the whole video) the slots ``person``
          and ``other`` (both present in ``frame``) exchange their ids: one stored edit, undone at once.

        Returns:
            The stored row and the person's new value.

        Raises:
            BadEdit: malformed or unknown frame/person/keypoint (nothing stored).
            Conflict: outdated version (nothing stored).
        """
        reviewer = _reviewer(body)
        op = body.get("op")
        if op not in EDIT_OPS:
            raise BadEdit(f"'op' must be one of {', '.join(EDIT_OPS)}")
        frame = self._check_frame(body.get("frame"))
        person = self._check_person(frame, body.get("person"))
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise BadEdit("'version' must be a non-negative integer (the version the edit is based on)")
        video = self.project.kind == "video"
        identity = op == "swap_tracks" or (op == "track" and video)
        if op == "swap_tracks" and not video:
            raise BadEdit("'swap_tracks' applies to video projects; set each person's track id with 'track'")
        if body.get("from_frame") is not None and not identity:
            raise BadEdit(f"'from_frame' applies to identity edits of a video ('track', 'swap_tracks'), not to {op!r}")
        target = IDS_TARGET if identity else f"p:{frame}:{person}"
        with self.store.lock:
            if identity:
                row = self._identity_edit(op, body, frame, person, version, reviewer)
                return row, self.person(frame, person)
            before = self.value_of(target)
            after = _deep(before)
            if op == "move":
                k = self._keypoint(body.get("keypoint"))
                x, y = _coord(body.get("x"), "x"), _coord(body.get("y"), "y")
                lim = 4 * max(self.project.width, self.project.height, 1)
                if abs(x) > lim or abs(y) > lim:
                    raise BadEdit(f"position ({x}, {y}) is far outside the {self.project.width}x{self.project.height} frame")
                after["xy"][k] = [x, y]
                after["state"][k] = int(KeypointState.CORRECTED)
                after["moved"] = sorted(set(after.get("moved", [])) | {k})
            elif op == "state":
                k = self._keypoint(body.get("keypoint"))
                name = body.get("state")
                if not isinstance(name, str) or name.lower() not in ("visible", "occluded", "missing"):
                    raise BadEdit("'state' must be 'visible', 'occluded' or 'missing'")
                s = _SETTABLE[name.lower()]
                if s != KeypointState.MISSING and after["xy"][k][0] is None:
                    raise BadEdit(f"keypoint {k} is missing: move it to a position first (a present keypoint needs one)")
                after["state"][k] = int(s)
                if s == KeypointState.MISSING:
                    after["xy"][k] = [None, None]
            elif op == "swap":
                fi = self.project.skeleton.flip_index
                flip = [int(j) for j in (fi() if callable(fi) else fi)]
                after["xy"] = [after["xy"][j] for j in flip]
                after["state"] = [after["state"][j] for j in flip]
                perm = after.get("perm") or list(range(len(flip)))
                after["perm"] = [perm[j] for j in flip]  # slot k now holds what was keypoint perm[k] in the file
                after["moved"] = sorted(flip[k] for k in after.get("moved", []))
            else:
                after["track"] = _track_id(body.get("track"))
            row = self.store.apply(target, version, before, after, reviewer=reviewer, op=op)
            return row, self.person(frame, person)

    def _identity_edit(self, op: str, body: dict[str, Any], frame: int, person: int, version: int,
                       reviewer: str) -> EditRow:  # fmt: skip
        """``track`` / ``swap_tracks`` of a video project (caller holds the store lock)."""
        p = self.project
        f0 = 0 if body.get("from_frame") is None else self._check_frame(body.get("from_frame"), "from_frame")
        before = self.value_of(IDS_TARGET)
        ver = self.store.version(IDS_TARGET)
        if version != ver:  # before judging the edit against identities the reviewer has not seen
            raise Conflict(IDS_TARGET, ver, before, f"{IDS_TARGET} is at version {ver}, the edit was based on {version}")
        segs = _deep(before["segments"])
        if op == "track":
            t = _track_id(body.get("track"))
            new = _merge(_head(segs[person], f0) + [[f0, t]])
            if t != -1:
                col = track_column(new, p.num_frames)
                for j, other in enumerate(segs):
                    if j == person:
                        continue
                    clash = np.flatnonzero((track_column(other, p.num_frames) == col) & p.exists[:, j] & p.exists[:, person])
                    clash = clash[clash >= f0]
                    if clash.size:
                        f = int(clash[0])
                        raise BadEdit(
                            f"track id {t} is used by person {j} in frame {f}: a track id names one person per frame. "
                            f"To exchange the identities of persons {person} and {j} from frame {f0} on, use the "
                            f"'swap_tracks' edit (\"swap identity with…\" on the page)",
                            409, conflict={"frame": f, "person": j, "track": t, "from_frame": f0},
                        )  # fmt: skip
            segs[person] = new
        else:
            other = body.get("other")
            if isinstance(other, bool) or not isinstance(other, int):
                raise BadEdit("'other' must be an integer: the person whose identity is exchanged with 'person'")
            other = self._check_person(frame, other)
            if other == person:
                raise BadEdit("'other' must be another person than 'person'")
            a, b = segs[person], segs[other]
            segs[person] = _merge(_head(a, f0) + _tail(b, f0))
            segs[other] = _merge(_head(b, f0) + _tail(a, f0))
        return self.store.apply(IDS_TARGET, version, before, {"segments": segs}, reviewer=reviewer, op=op)

    def decide(self, index: Any, body: dict[str, Any]) -> tuple[EditRow, dict[str, Any]]:
        """Accept, dismiss or reopen finding ``index`` with a comment.

        ``body``: ``{"reviewer": str, "status": "accepted" | "dismissed" | "open", "comment": str,
        "version": int}``.
        """
        reviewer = _reviewer(body)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.findings):
            raise BadEdit(f"unknown finding {index}", 404)
        status = body.get("status")
        if status not in FINDING_STATUSES:
            raise BadEdit(f"'status' must be one of {', '.join(FINDING_STATUSES)}")
        comment = body.get("comment", "")
        if not isinstance(comment, str) or len(comment) > 2000:
            raise BadEdit("'comment' must be a string of at most 2000 characters")
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise BadEdit("'version' must be a non-negative integer")
        target = f"f:{index}"
        with self.store.lock:
            before = self.value_of(target)
            after = {"status": status, "comment": comment, "reviewer": reviewer}
            row = self.store.apply(target, version, before, after, reviewer=reviewer, op="decision")
            return row, self.finding_rows()[index]

    def undo(self, reviewer: str) -> EditRow:
        """Undo the reviewer's latest edit."""
        return self.store.undo(reviewer, self.value_of, check=self._legacy_guard)

    def redo(self, reviewer: str) -> EditRow:
        """Redo the reviewer's latest undo."""
        return self.store.redo(reviewer, self.value_of, check=self._legacy_guard)

    def _legacy_guard(self, row: EditRow) -> None:
        """A legacy whole-video ``t:<person>`` edit is folded into the ``ids`` target's starting value; once
        ``ids`` is edited, undoing it alone would change nothing visible, so it is refused."""
        ver = self.store.version(IDS_TARGET)
        if row.target.startswith("t:") and ver:
            raise Conflict(row.target, self.store.version(row.target), self.value_of(row.target),
                           f"{row.target} is an old whole-video track edit and identities were edited since; "
                           "set the track id again instead")  # fmt: skip


def _reviewer(body: dict[str, Any]) -> str:
    r = body.get("reviewer")
    if not isinstance(r, str) or not r.strip() or len(r) > 100:
        raise BadEdit("'reviewer' must be a non-empty name of at most 100 characters")
    return r.strip()


def _track_id(t: Any) -> int:
    if isinstance(t, bool) or not isinstance(t, int) or t < -1:
        raise BadEdit("'track' must be an integer >= -1")
    return t


def _coord(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise BadEdit(f"'{name}' must be a finite number of pixels")
    return float(v)


def _deep(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _deep(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_deep(x) for x in v]
    return v


__all__ += ["Conflict"]
