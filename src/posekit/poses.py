"""Pose containers: keypoint states, per-frame results and sequences.

Arrays and units
----------------
* ``xy``: image coordinates in pixels, origin at the top-left corner of the top-left pixel.
* ``z``: MediaPipe's relative depth, on the same pixel scale as ``x`` (smaller = nearer); may be absent.
* ``world``: metric 3D coordinates in metres. The estimator writes MediaPipe world landmarks (origin between
  the hips); dataset readers keep the dataset's own metric frame (camera or world). Metrics root-align.
* ``score``: confidence in ``[0, 1]``.
* ``state``: a :class:`KeypointState` per keypoint. ``MISSING`` keypoints hold ``NaN`` coordinates; every
  other state holds finite coordinates. Validation enforces both, so "not seen" can never become
  ``(0, 0)``.

A :class:`PoseFrame` holds the people of one image: ``xy (N, K, 2)``, ``score (N, K)``, ``state (N, K)``,
optional ``z (N, K)`` and ``world (N, K, 3)``, ``box (N, 4)`` (x0, y0, x1, y1 pixels), ``box_score (N,)``,
``track_id (N,)`` (``-1`` = none). A :class:`PoseSequence` holds a video: the same arrays with a leading
time axis and an individuals axis, ``(T, I, K, …)``, plus ``time (T,)`` seconds from the container
timestamps and a provenance log. Optional body parts (hands, face) ride along in ``parts`` as containers
of the same kind with the same people.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .errors import ValidationError
from .skeletons import Skeleton, get_conversion, get_skeleton

__all__ = ["KeypointState", "PoseFrame", "PoseSequence", "STATE_NAMES", "PRESENT_STATES"]


class KeypointState(IntEnum):
    """What is known about one keypoint."""

    MISSING = 0  #: no estimate (coordinates are NaN)
    VISIBLE = 1  #: seen by the model or annotator
    OCCLUDED = 2  #: present but not seen (position implied by the body)
    PREDICTED = 3  #: filled in by a tracker or filter
    INTERPOLATED = 4  #: filled in by offline gap filling
    CORRECTED = 5  #: changed by a person in review

    @classmethod
    def parse(cls, value: str | int) -> "KeypointState":
        """From a name (``"visible"``, case-insensitive) or an integer value."""
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                names = ", ".join(s.name.lower() for s in cls)
                raise ValueError(f"unknown keypoint state {value!r} (known: {names})") from None
        return cls(int(value))


STATE_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in KeypointState)
PRESENT_STATES: tuple[KeypointState, ...] = tuple(s for s in KeypointState if s != KeypointState.MISSING)
_NSTATES = len(KeypointState)


def _as_float(name: str, a: Any, shape: tuple[int | None, ...], dtype: type = np.float64) -> np.ndarray:
    arr = np.asarray(a, dtype=dtype)
    ok = arr.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, arr.shape))
    if not ok:
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValidationError(f"Expected '{name}' to have shape {want}, but got {arr.shape}")
    return arr


def _check_states(state: np.ndarray, xy: np.ndarray, where: str) -> None:
    if state.size and (state.max(initial=0) >= _NSTATES):
        raise ValidationError(f"{where}: 'state' holds values outside 0..{_NSTATES - 1}")
    finite = np.isfinite(xy).all(axis=-1)
    nan = np.isnan(xy).all(axis=-1)
    missing = state == KeypointState.MISSING
    bad_present = ~missing & ~finite
    if bad_present.any():
        idx = tuple(int(i) for i in np.argwhere(bad_present)[0])
        raise ValidationError(
            f"{where}: keypoint at index {idx} has state "
            f"{KeypointState(int(state[idx])).name} but non-finite coordinates {xy[idx].tolist()}; "
            "only MISSING keypoints may have NaN coordinates"
        )
    bad_missing = missing & ~nan
    if bad_missing.any():
        idx = tuple(int(i) for i in np.argwhere(bad_missing)[0])
        raise ValidationError(
            f"{where}: keypoint at index {idx} is MISSING but has coordinates {xy[idx].tolist()}; "
            "MISSING keypoints must hold NaN"
        )


def _state_from(state: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    s = np.asarray(state)
    if s.shape != shape:
        raise ValidationError(f"Expected '{name}' to have shape {shape}, but got {s.shape}")
    if s.dtype.kind == "f":
        if not np.all(np.isfinite(s)) or not np.all(s == np.round(s)):
            raise ValidationError(f"'{name}' must hold integer keypoint states")
    if s.dtype.kind not in "biuf":
        raise ValidationError(f"'{name}' must hold integer keypoint states, got dtype {s.dtype}")
    if s.dtype.kind in "iuf" and s.size and (s.min() < 0):
        raise ValidationError(f"'{name}' holds negative values")
    if s.size and s.max() >= _NSTATES:  # before the uint8 cast, which would wrap 256 to 0 (MISSING)
        raise ValidationError(f"'{name}' holds values outside 0..{_NSTATES - 1}")
    return s.astype(np.uint8)


@dataclass(eq=False)
class PoseFrame:
    """The people found in one image or video frame.

    Attributes:
        skeleton: the keypoint layout (a :class:`~posekit.skeletons.Skeleton`; a registry id is accepted).
        xy: ``(N, K, 2)`` float64, pixels. NaN exactly where ``state`` is MISSING.
        score: ``(N, K)`` float32 confidence in [0, 1].
        state: ``(N, K)`` uint8 :class:`KeypointState`.
        z: ``(N, K)`` float64 relative depth on the pixel scale of x, or ``None``.
        world: ``(N, K, 3)`` float64 metres (estimator: origin between the hips; datasets: their own
            metric frame), or ``None``. NaN where MISSING.
        box: ``(N, 4)`` float64 x0, y0, x1, y1 in pixels.
        box_score: ``(N,)`` float32 person confidence.
        track_id: ``(N,)`` int64 identity, ``-1`` where none.
        frame: frame index in its source.
        time: seconds from the start of the source, or ``None`` for still images.
        image_size: ``(width, height)`` in pixels of the analysed image, or ``None``.
        parts: optional per-person parts (``"left_hand"``, ``"right_hand"``, ``"face"``), each a
            :class:`PoseFrame` with the same ``N`` (a person without that part has all keypoints MISSING).
        extras: free-form per-person arrays (leading axis ``N``), e.g. hand handedness scores.
    """

    skeleton: Skeleton
    xy: np.ndarray
    score: np.ndarray
    state: np.ndarray
    z: np.ndarray | None = None
    world: np.ndarray | None = None
    box: np.ndarray | None = None
    box_score: np.ndarray | None = None
    track_id: np.ndarray | None = None
    frame: int = 0
    time: float | None = None
    image_size: tuple[int, int] | None = None
    parts: dict[str, "PoseFrame"] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.skeleton = get_skeleton(self.skeleton)
        k = len(self.skeleton)
        self.xy = _as_float("xy", self.xy, (None, k, 2))
        n = self.xy.shape[0]
        self.score = _as_float("score", self.score, (n, k), np.float32)
        self.state = _state_from(self.state, (n, k), "state")
        if self.z is not None:
            self.z = _as_float("z", self.z, (n, k))
        if self.world is not None:
            self.world = _as_float("world", self.world, (n, k, 3))
        if self.box is None:
            self.box = _boxes_from_xy(self.xy)
        self.box = _as_float("box", self.box, (n, 4))
        self.box_score = (
            np.ones(n, np.float32) if self.box_score is None else _as_float("box_score", self.box_score, (n,), np.float32)
        )
        if self.track_id is None:
            self.track_id = np.full(n, -1, np.int64)
        else:
            tid = np.asarray(self.track_id)
            if tid.shape != (n,):
                raise ValidationError(f"Expected 'track_id' to have shape ({n},), but got {tid.shape}")
            self.track_id = tid.astype(np.int64)
        _check_states(self.state, self.xy, f"PoseFrame[{self.skeleton.name}]")
        for name, part in self.parts.items():
            if not isinstance(part, PoseFrame) or len(part) != n:
                raise ValidationError(f"part {name!r} must be a PoseFrame with {n} people")
        for name, arr in self.extras.items():
            if np.asarray(arr).shape[:1] != (n,):
                raise ValidationError(f"extra {name!r} must have a leading axis of {n} people")
        if self.image_size is not None:
            self.image_size = (int(self.image_size[0]), int(self.image_size[1]))

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def empty(cls, skeleton: str | Skeleton, **kw: Any) -> "PoseFrame":
        """A frame with no people."""
        sk = get_skeleton(skeleton)
        k = len(sk)
        return cls(sk, np.zeros((0, k, 2)), np.zeros((0, k), np.float32), np.zeros((0, k), np.uint8), **kw)

    @classmethod
    def missing(cls, skeleton: str | Skeleton, n: int, *, with_z: bool = False, with_world: bool = False) -> "PoseFrame":
        """``n`` people whose keypoints are all MISSING (e.g. a part not found)."""
        sk = get_skeleton(skeleton)
        k = len(sk)
        return cls(
            sk,
            np.full((n, k, 2), np.nan),
            np.zeros((n, k), np.float32),
            np.zeros((n, k), np.uint8),
            z=np.full((n, k), np.nan) if with_z else None,
            world=np.full((n, k, 3), np.nan) if with_world else None,
            box=np.full((n, 4), np.nan),
            box_score=np.zeros(n, np.float32),
        )

    # -- basic protocol -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @property
    def num_people(self) -> int:
        """Number of people N."""
        return len(self)

    def __getitem__(self, idx: int | slice | np.ndarray | Sequence[int]) -> "PoseFrame":
        """Select people by index, slice, index array or boolean mask ``(N,)``."""
        if isinstance(idx, (int, np.integer)):
            idx = [int(idx)]
        sel = np.arange(len(self))[idx]
        return replace(
            self,
            xy=self.xy[sel],
            score=self.score[sel],
            state=self.state[sel],
            z=None if self.z is None else self.z[sel],
            world=None if self.world is None else self.world[sel],
            box=self.box[sel],
            box_score=self.box_score[sel],
            track_id=self.track_id[sel],
            parts={k: v[sel] for k, v in self.parts.items()},
            extras={k: np.asarray(v)[sel] for k, v in self.extras.items()},
        )

    def copy(self) -> "PoseFrame":
        """A deep copy."""
        return copy.deepcopy(self)

    @property
    def present(self) -> np.ndarray:
        """``(N, K)`` bool: keypoints with a position (any state but MISSING)."""
        return self.state != KeypointState.MISSING

    # -- conversion ---------------------------------------------------------------------------------
    def to_skeleton(self, skeleton: str | Skeleton) -> "PoseFrame":
        """Convert to another layout through its explicit table (targets without a source: MISSING)."""
        conv = get_conversion(self.skeleton, skeleton)
        dst = get_skeleton(skeleton)
        idx = np.asarray(conv.index)
        has = idx >= 0
        src = np.where(has, idx, 0)
        n, k = len(self), len(dst)
        xy = np.where(has[None, :, None], self.xy[:, src], np.nan)
        score = np.where(has[None, :], self.score[:, src], 0).astype(np.float32)
        state = np.where(has[None, :], self.state[:, src], KeypointState.MISSING).astype(np.uint8)
        z = None if self.z is None else np.where(has[None, :], self.z[:, src], np.nan)
        world = None if self.world is None else np.where(has[None, :, None], self.world[:, src], np.nan)
        assert xy.shape == (n, k, 2)
        return replace(self, skeleton=dst, xy=xy, score=score, state=state, z=z, world=world)

    def to_coco(self, image_id: int, *, category_id: int = 1) -> list[dict[str, Any]]:
        """COCO keypoint *results* entries, one per person, in the COCO-17 layout.

        Keypoint visibility follows the COCO convention: VISIBLE → 2, any other present state → 1,
        MISSING → 0 with coordinates written as 0 (COCO's own encoding of "no keypoint"). Each entry's
        ``score`` is the person's ``box_score`` times the mean score of its present keypoints.
        """
        from .io.coco import frame_to_coco_results  # local import: io depends on poses

        return frame_to_coco_results(self, image_id, category_id=category_id)

    def to_dataframe(self, *, coords: str = "image"):
        """Long table: columns frame, time, track_id, person, keypoint, x, y, z, score, state.

        Args:
            coords: ``"image"`` (x, y in pixels, z relative depth) or ``"world"`` (x, y, z in metres).
        """
        from .io.tables import frame_to_dataframe

        return frame_to_dataframe(self, coords=coords)


def _boxes_from_xy(xy: np.ndarray) -> np.ndarray:
    """Tight boxes ``(N, 4)`` around present keypoints; NaN rows for people with none."""
    n = xy.shape[0]
    out = np.full((n, 4), np.nan)
    if n == 0 or xy.shape[1] == 0:
        return out
    ok = np.isfinite(xy).all(-1)
    any_ok = ok.any(1)
    if any_ok.any():
        big = np.where(ok[..., None], xy, np.nan)
        with np.errstate(all="ignore"):
            out[any_ok, 0:2] = np.nanmin(big[any_ok], axis=1)
            out[any_ok, 2:4] = np.nanmax(big[any_ok], axis=1)
    return out


@dataclass(eq=False)
class PoseSequence:
    """Poses over time for a fixed set of individuals (tracks).

    Attributes:
        skeleton: keypoint layout.
        xy: ``(T, I, K, 2)`` pixels; NaN where MISSING (including individuals absent at a time).
        score: ``(T, I, K)`` float32.
        state: ``(T, I, K)`` uint8 :class:`KeypointState`.
        time: ``(T,)`` seconds from the container's timestamps (non-decreasing).
        frame: ``(T,)`` int64 frame indices in the source.
        track_id: ``(I,)`` int64 identity of each individual.
        z: ``(T, I, K)`` or ``None``.
        world: ``(T, I, K, 3)`` metres or ``None``.
        box: ``(T, I, 4)`` pixels (NaN where absent).
        box_score: ``(T, I)`` (0 where absent).
        image_size: ``(width, height)`` pixels.
        fps: nominal frame rate of the source (frames/s), informative only; ``time`` is authoritative.
        source: where the poses came from (a path).
        provenance: processing log, one dict per step (``{"step", "time", "params"}``).
        parts: optional parts (hands, face) as sequences with the same ``T`` and ``I``.
    """

    skeleton: Skeleton
    xy: np.ndarray
    score: np.ndarray
    state: np.ndarray
    time: np.ndarray
    frame: np.ndarray | None = None
    track_id: np.ndarray | None = None
    z: np.ndarray | None = None
    world: np.ndarray | None = None
    box: np.ndarray | None = None
    box_score: np.ndarray | None = None
    image_size: tuple[int, int] | None = None
    fps: float | None = None
    source: str | None = None
    provenance: list[dict[str, Any]] = field(default_factory=list)
    parts: dict[str, "PoseSequence"] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.skeleton = get_skeleton(self.skeleton)
        k = len(self.skeleton)
        self.xy = _as_float("xy", self.xy, (None, None, k, 2))
        t, i = self.xy.shape[:2]
        self.score = _as_float("score", self.score, (t, i, k), np.float32)
        self.state = _state_from(self.state, (t, i, k), "state")
        self.time = _as_float("time", self.time, (t,))
        if t and not np.all(np.isfinite(self.time)):
            raise ValidationError("'time' holds non-finite values")
        if t > 1 and np.any(np.diff(self.time) < 0):
            j = int(np.argmax(np.diff(self.time) < 0))
            raise ValidationError(
                f"'time' must be non-decreasing, but time[{j + 1}]={self.time[j + 1]} < time[{j}]={self.time[j]}"
            )
        self.frame = np.arange(t, dtype=np.int64) if self.frame is None else np.asarray(self.frame, np.int64)
        if self.frame.shape != (t,):
            raise ValidationError(f"Expected 'frame' to have shape ({t},), but got {self.frame.shape}")
        self.track_id = np.arange(i, dtype=np.int64) if self.track_id is None else np.asarray(self.track_id, np.int64)
        if self.track_id.shape != (i,):
            raise ValidationError(f"Expected 'track_id' to have shape ({i},), but got {self.track_id.shape}")
        if self.z is not None:
            self.z = _as_float("z", self.z, (t, i, k))
        if self.world is not None:
            self.world = _as_float("world", self.world, (t, i, k, 3))
        if self.box is None:
            self.box = _boxes_from_xy(self.xy.reshape(t * i, k, 2)).reshape(t, i, 4)
        self.box = _as_float("box", self.box, (t, i, 4))
        if self.box_score is None:
            self.box_score = self.present.any(-1).astype(np.float32)
        self.box_score = _as_float("box_score", self.box_score, (t, i), np.float32)
        _check_states(self.state, self.xy, f"PoseSequence[{self.skeleton.name}]")
        for name, part in self.parts.items():
            if not isinstance(part, PoseSequence) or part.xy.shape[:2] != (t, i):
                raise ValidationError(f"part {name!r} must be a PoseSequence with shape ({t}, {i}, ...)")
        if self.image_size is not None:
            self.image_size = (int(self.image_size[0]), int(self.image_size[1]))

    # -- basic protocol -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @property
    def num_frames(self) -> int:
        """Number of time steps T."""
        return len(self)

    @property
    def num_individuals(self) -> int:
        """Number of individuals I."""
        return int(self.xy.shape[1])

    @property
    def present(self) -> np.ndarray:
        """``(T, I, K)`` bool: keypoints with a position."""
        return self.state != KeypointState.MISSING

    def copy(self) -> "PoseSequence":
        """A deep copy."""
        return copy.deepcopy(self)

    def log_step(self, step: str, **params: Any) -> "PoseSequence":
        """Append a processing step to the provenance log (in place) and return ``self``."""
        self.provenance.append(
            {"step": step, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "params": _jsonable(params)}
        )
        return self

    def frame_at(self, t: int) -> PoseFrame:
        """The :class:`PoseFrame` at time index ``t`` with the individuals present there."""
        here = (self.state[t] != KeypointState.MISSING).any(-1)  # not self.present: O(T·I·K) per call
        return self._frame_people(t, np.flatnonzero(here))

    def _frame_people(self, t: int, sel: np.ndarray) -> PoseFrame:
        """Individuals ``sel`` at time index ``t`` (with the same individuals of every part)."""
        return PoseFrame(
            self.skeleton,
            self.xy[t, sel],
            self.score[t, sel],
            self.state[t, sel],
            z=None if self.z is None else self.z[t, sel],
            world=None if self.world is None else self.world[t, sel],
            box=self.box[t, sel],
            box_score=self.box_score[t, sel],
            track_id=self.track_id[sel],
            frame=int(self.frame[t]),
            time=float(self.time[t]),
            image_size=self.image_size,
            parts={k: p._frame_people(t, sel) for k, p in self.parts.items()},
        )

    def frames(self) -> Iterator[PoseFrame]:
        """Iterate per-frame results."""
        for t in range(len(self)):
            yield self.frame_at(t)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_frames(
        cls,
        frames: Iterable[PoseFrame],
        *,
        skeleton: str | Skeleton | None = None,
        fps: float | None = None,
        source: str | None = None,
    ) -> "PoseSequence":
        """Collect per-frame results into a sequence, one individual per distinct ``track_id``.

        People without a track id (``-1``) get an individual of their own per frame position, which is
        only meaningful when each frame has at most one such person; use a tracker first otherwise.
        Frame times default to the frame index divided by ``fps`` when a frame has no time.
        """
        frames = list(frames)
        if not frames and skeleton is None:
            raise ValidationError("cannot build a sequence from no frames without a skeleton")
        sk = get_skeleton(skeleton if skeleton is not None else frames[0].skeleton)
        k = len(sk)
        ids: list[int] = []
        slot: dict[int, int] = {}
        untracked_base = -1_000_000
        keys: list[list[int]] = []
        for f in frames:
            if f.skeleton.name != sk.name:
                raise ValidationError(f"frame {f.frame} has skeleton {f.skeleton.name!r}, expected {sk.name!r}")
            row = []
            tids = f.track_id[f.track_id >= 0]
            if len(np.unique(tids)) != len(tids):
                raise ValidationError(f"frame {f.frame} has two people with the same track id")
            for p, tid in enumerate(f.track_id.tolist()):
                key = tid if tid >= 0 else untracked_base - p
                if key not in slot:
                    slot[key] = len(ids)
                    ids.append(key)
                row.append(slot[key])
            keys.append(row)
        t, i = len(frames), len(ids)
        xy = np.full((t, i, k, 2), np.nan)
        score = np.zeros((t, i, k), np.float32)
        state = np.zeros((t, i, k), np.uint8)
        box = np.full((t, i, 4), np.nan)
        box_score = np.zeros((t, i), np.float32)
        has_z = any(f.z is not None for f in frames)
        has_w = any(f.world is not None for f in frames)
        z = np.full((t, i, k), np.nan) if has_z else None
        world = np.full((t, i, k, 3), np.nan) if has_w else None
        times = np.zeros(t)
        fidx = np.zeros(t, np.int64)
        part_names = sorted({n for f in frames for n in f.parts})
        part_frames: dict[str, list[PoseFrame]] = {n: [] for n in part_names}
        for ti, (f, row) in enumerate(zip(frames, keys)):
            r = np.asarray(row, dtype=np.int64)
            xy[ti, r] = f.xy
            score[ti, r] = f.score
            state[ti, r] = f.state
            box[ti, r] = f.box
            box_score[ti, r] = f.box_score
            if has_z and f.z is not None:
                z[ti, r] = f.z
            if has_w and f.world is not None:
                world[ti, r] = f.world
            if f.time is not None:
                times[ti] = f.time
            elif fps:
                times[ti] = f.frame / fps
            else:
                times[ti] = float(ti)
            fidx[ti] = f.frame
            for n in part_names:
                part_frames[n].append(f.parts[n] if n in f.parts else None)  # type: ignore[arg-type]
        track_ids = np.asarray([tid if tid >= 0 else -1 for tid in ids], dtype=np.int64)
        image_size = next((f.image_size for f in frames if f.image_size is not None), None)
        parts = {}
        for n in part_names:
            parts[n] = _part_sequence(part_frames[n], keys, i, times, fidx, frames, track_ids)
        return cls(
            sk, xy, score, state, times, frame=fidx, track_id=track_ids, z=z, world=world, box=box,
            box_score=box_score, image_size=image_size, fps=fps, source=source, parts=parts,
        )  # fmt: skip

    # -- interop ------------------------------------------------------------------------------------
    def to_skeleton(self, skeleton: str | Skeleton) -> "PoseSequence":
        """Convert to another layout through its explicit table (targets without a source: MISSING)."""
        conv = get_conversion(self.skeleton, skeleton)
        dst = get_skeleton(skeleton)
        idx = np.asarray(conv.index)
        has = idx >= 0
        src = np.where(has, idx, 0)
        h2 = has[None, None, :]
        out = replace(
            self,
            skeleton=dst,
            xy=np.where(h2[..., None], self.xy[:, :, src], np.nan),
            score=np.where(h2, self.score[:, :, src], 0).astype(np.float32),
            state=np.where(h2, self.state[:, :, src], KeypointState.MISSING).astype(np.uint8),
            z=None if self.z is None else np.where(h2, self.z[:, :, src], np.nan),
            world=None if self.world is None else np.where(h2[..., None], self.world[:, :, src], np.nan),
            provenance=list(self.provenance),
        )
        return out.log_step("to_skeleton", src=self.skeleton.name, dst=dst.name)

    def to_dataframe(self, *, coords: str = "image"):
        """Long table: columns frame, time, track_id, person, keypoint, x, y, z, score, state."""
        from .io.tables import sequence_to_dataframe

        return sequence_to_dataframe(self, coords=coords)

    def to_xarray(self, *, coords: str = "image"):
        """An ``xarray.Dataset`` in the layout of the ``movement`` package (position, confidence)."""
        from .io.movement import sequence_to_xarray

        return sequence_to_xarray(self, coords=coords)


def _part_sequence(
    part_frames: list[PoseFrame | None],
    keys: list[list[int]],
    i: int,
    times: np.ndarray,
    fidx: np.ndarray,
    frames: list[PoseFrame],
    track_ids: np.ndarray,
) -> PoseSequence:
    sk = next(p.skeleton for p in part_frames if p is not None)
    k = len(sk)
    t = len(part_frames)
    xy = np.full((t, i, k, 2), np.nan)
    score = np.zeros((t, i, k), np.float32)
    state = np.zeros((t, i, k), np.uint8)
    has_z = any(p is not None and p.z is not None for p in part_frames)
    has_w = any(p is not None and p.world is not None for p in part_frames)
    z = np.full((t, i, k), np.nan) if has_z else None
    world = np.full((t, i, k, 3), np.nan) if has_w else None
    box = np.full((t, i, 4), np.nan)
    box_score = np.zeros((t, i), np.float32)
    for ti, (p, row) in enumerate(zip(part_frames, keys)):
        if p is None:
            continue
        r = np.asarray(row, dtype=np.int64)
        xy[ti, r] = p.xy
        score[ti, r] = p.score
        state[ti, r] = p.state
        box[ti, r] = p.box
        box_score[ti, r] = p.box_score
        if has_z and p.z is not None:
            z[ti, r] = p.z
        if has_w and p.world is not None:
            world[ti, r] = p.world
    return PoseSequence(
        sk, xy, score, state, times.copy(), frame=fidx.copy(), track_id=track_ids.copy(), z=z, world=world, box=box,
        box_score=box_score,
    )  # fmt: skip


def _jsonable(obj: Any) -> Any:
    """Make a params dict JSON-serialisable (numpy scalars/arrays, paths, enums)."""
    return json.loads(json.dumps(obj, default=_json_default))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return str(o)
