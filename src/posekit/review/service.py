"""Review operations on a project: current poses (project + stored edits), edits, undo/redo, findings.

Keypoints are addressed by frame index, person slot and keypoint (name or index). Positions are
pixels in the frame. A moved keypoint becomes ``CORRECTED``; a keypoint set ``missing`` gets NaN
coordinates (``null`` in JSON).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from posekit.poses import KeypointState

from .project import ReviewProject
from .store import Conflict, EditRow, EditStore

__all__ = ["ReviewService", "BadEdit", "FINDING_STATUSES", "EDIT_OPS"]

FINDING_STATUSES = ("open", "accepted", "dismissed")
EDIT_OPS = ("move", "state", "swap", "track")
_SETTABLE = {"visible": KeypointState.VISIBLE, "occluded": KeypointState.OCCLUDED, "missing": KeypointState.MISSING,
             "corrected": KeypointState.CORRECTED}  # fmt: skip


class BadEdit(ValueError):
    """A malformed or impossible edit (an HTTP 4xx); ``status`` is 404 for unknown things, else 422."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _xy_json(xy: np.ndarray) -> list[list[float | None]]:
    return [[None, None] if not np.isfinite(p).all() else [float(p[0]), float(p[1])] for p in xy]


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
    def _check_frame(self, frame: Any) -> int:
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise BadEdit("'frame' must be an integer")
        if not 0 <= frame < self.project.num_frames:
            raise BadEdit(f"unknown frame {frame} (the project has {self.project.num_frames})", 404)
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
        if kind == "f":
            return self.store.current(target, None)[1] or {"status": "open", "comment": ""}
        raise KeyError(target)

    def person(self, frame: int, person: int) -> dict[str, Any]:
        """Current person value with versions: ``xy`` pixels (null = missing), ``state``, ``track``."""
        key = f"p:{frame}:{person}"
        ver, val = self.store.current(key, None)
        val = dict(val or self.base_person(frame, person))
        perm = val.get("perm") or range(len(val["state"]))
        sc = self.project.score[frame, person]
        out = {"person": person, "version": ver, **val, "score": [round(float(sc[j]), 4) for j in perm]}
        if self.project.kind == "video":
            tver, tval = self.store.current(f"t:{person}", None)
            out["track"] = int(tval["track"]) if tval else int(self.project.track[frame, person])
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
            elif kind == "t":
                tr[:, int(rest[0])] = val["track"]
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

        ``body``: ``{"reviewer": str, "op": "move" | "state" | "swap" | "track", "frame": int,
        "person": int, "version": int, "keypoint": name | index (move, state), "x": float, "y": float
        (move; pixels), "state": "visible" | "occluded" | "missing" (state), "track": int (track)}``.
        For ``track`` in a video project ``version`` is the person's ``track_version`` and the new id
        applies to the whole video.

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
        video_track = op == "track" and self.project.kind == "video"
        target = f"t:{person}" if video_track else f"p:{frame}:{person}"
        with self.store.lock:
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
                t = body.get("track")
                if isinstance(t, bool) or not isinstance(t, int) or t < -1:
                    raise BadEdit("'track' must be an integer >= -1")
                if video_track:
                    _, _, tr, _ = self.current_arrays()
                    others = [int(v) for j, v in enumerate(tr[0]) if j != person]
                    if t != -1 and t in others:
                        raise BadEdit(f"track id {t} is already used by another individual of this video", 409)
                after["track"] = t
            row = self.store.apply(target, version, before, after, reviewer=reviewer, op=op)
            return row, self.person(frame, person)

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
        return self.store.undo(reviewer, self.value_of)

    def redo(self, reviewer: str) -> EditRow:
        """Redo the reviewer's latest undo."""
        return self.store.redo(reviewer, self.value_of)


def _reviewer(body: dict[str, Any]) -> str:
    r = body.get("reviewer")
    if not isinstance(r, str) or not r.strip() or len(r) > 100:
        raise BadEdit("'reviewer' must be a non-empty name of at most 100 characters")
    return r.strip()


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
