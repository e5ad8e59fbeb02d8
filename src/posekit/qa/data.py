"""The one view of poses that every QA rule reads, built from sequences, frames or COCO files.

:class:`QAData` holds ``(T, I, K, …)`` arrays: ``T`` rows (time steps of one video, or images of a
COCO file / list of still frames), ``I`` person slots per row, ``K`` keypoints. When ``temporal`` is
true the rows are one video in time order and slot ``i`` is the same individual in every row (a
:class:`~posekit.poses.PoseSequence`); otherwise rows are independent images and the temporal rules do
not apply. On COCO input the raw ``x, y, v`` triplets of the file ride along (``raw``) so that the
state rules can see what the data model refuses to hold (``v = 0`` with coordinates, ``v > 0`` at
``(0, 0)``).

Units: ``xy`` pixels, ``time`` seconds, ``world`` metres, ``score`` in [0, 1], ``area`` pixels².
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.poses import KeypointState, PoseFrame, PoseSequence
from posekit.skeletons import Skeleton, get_skeleton

__all__ = ["QAData", "load_qa_input", "check_images_exist", "frames_as_sequence"]


@dataclass
class QAData:
    """Poses laid out for the QA rules.

    Attributes:
        skeleton: keypoint layout.
        xy: ``(T, I, K, 2)`` float64 pixels; NaN where MISSING or where the slot is empty.
        state: ``(T, I, K)`` uint8 :class:`~posekit.poses.KeypointState`.
        score: ``(T, I, K)`` float32 confidence (annotations: 1 for labelled keypoints).
        occupied: ``(T, I)`` bool: a person (annotation, detection or track) is in that slot.
        frame: ``(T,)`` int64 frame index of each row in its source.
        time: ``(T,)`` float64 seconds, or ``None`` (still images).
        track: ``(T, I)`` int64 track id (``-1`` = none).
        temporal: rows are one video in time order and slots are identities.
        world: ``(T, I, K, 3)`` metres, or ``None``.
        area: ``(T, I)`` pixels² object area (COCO ``area``; box area otherwise; NaN unknown).
        iscrowd: ``(T, I)`` bool COCO crowd regions (skipped by the rules).
        image_id: ``(T,)`` COCO image ids, or ``None``.
        annotation_id: ``(T, I)`` object array of COCO annotation ids (``None`` in empty slots), or ``None``.
        image_size: ``(T, 2)`` float64 width, height in pixels (NaN unknown).
        raw: ``(T, I, K, 3)`` float64 the file's ``x, y, v`` triplets (COCO input only; NaN in empty slots).
        raw_num_keypoints: ``(T, I)`` int64 the file's ``num_keypoints`` field (``-1`` absent).
        file_name: ``(T,)`` image file names (COCO ``file_name``), or ``None``.
        source: where the poses came from.
        kind: ``"sequence"``, ``"frames"`` or ``"coco"``.
    """

    skeleton: Skeleton
    xy: np.ndarray
    state: np.ndarray
    score: np.ndarray
    occupied: np.ndarray
    frame: np.ndarray
    time: np.ndarray | None
    track: np.ndarray
    temporal: bool
    world: np.ndarray | None = None
    area: np.ndarray | None = None
    iscrowd: np.ndarray | None = None
    image_id: list[Any] | None = None
    annotation_id: np.ndarray | None = None
    image_size: np.ndarray | None = None
    raw: np.ndarray | None = None
    raw_num_keypoints: np.ndarray | None = None
    file_name: list[str | None] | None = None
    source: str | None = None
    kind: str = "frames"
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """A value computed once per data object (shared between rules, e.g. the body scale)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def __post_init__(self) -> None:
        self.skeleton = get_skeleton(self.skeleton)
        k = len(self.skeleton)
        xy = np.asarray(self.xy, dtype=np.float64)
        if xy.ndim != 4 or xy.shape[2:] != (k, 2):
            raise ValidationError(
                f"Expected 'xy' to have shape (T, I, {k}, 2) for skeleton {self.skeleton.name!r}, but got {xy.shape}"
            )
        self.xy = xy
        t, i = xy.shape[:2]
        for name in ("state", "score"):
            a = np.asarray(getattr(self, name))
            if a.shape != (t, i, k):
                raise ValidationError(f"Expected '{name}' to have shape {(t, i, k)}, but got {a.shape}")
        self.state = np.asarray(self.state, dtype=np.uint8)
        self.score = np.asarray(self.score, dtype=np.float32)
        self.occupied = np.asarray(self.occupied, dtype=bool).reshape(t, i)
        self.frame = np.asarray(self.frame, dtype=np.int64).reshape(t)
        self.track = np.asarray(self.track, dtype=np.int64).reshape(t, i)
        if self.time is not None:
            self.time = np.asarray(self.time, dtype=np.float64).reshape(t)
        if self.area is None:
            self.area = np.full((t, i), np.nan)
        if self.iscrowd is None:
            self.iscrowd = np.zeros((t, i), bool)
        if self.image_size is None:
            self.image_size = np.full((t, 2), np.nan)

    # -- shape --------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """``(T, I, K)``."""
        t, i, k = self.state.shape
        return t, i, k

    @property
    def present(self) -> np.ndarray:
        """``(T, I, K)`` bool: keypoints with a position."""
        return (self.state != KeypointState.MISSING) & self.occupied[..., None]

    @property
    def checked(self) -> np.ndarray:
        """``(T, I)`` bool: slots the rules look at (occupied, not a crowd region)."""
        return self.occupied & ~self.iscrowd

    def where(self, t: int, i: int) -> dict[str, Any]:
        """Location fields of a finding for row ``t``, slot ``i`` (frame, time, track, person, ids)."""
        tid = int(self.track[t, i])
        return {
            "row": int(t),
            "frame": int(self.frame[t]),
            "time": None if self.time is None else float(self.time[t]),
            "track": None if tid < 0 else tid,
            "person": int(i),
            "image_id": None if self.image_id is None else self.image_id[t],
            "annotation_id": None if self.annotation_id is None else self.annotation_id[t, i],
        }

    def label(self, t: int, i: int) -> str:
        """A short human description of row ``t``, slot ``i`` for messages."""
        if self.image_id is not None:
            ann = None if self.annotation_id is None else self.annotation_id[t, i]
            return f"image {self.image_id[t]}, annotation {ann}"
        tid = int(self.track[t, i])
        who = f"track {tid}" if tid >= 0 else f"person {i}"
        when = f"frame {int(self.frame[t])}"
        if self.time is not None:
            when += f" ({float(self.time[t]):.3f} s)"
        return f"{when}, {who}"

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_sequence(cls, seq: PoseSequence) -> "QAData":
        """From a :class:`PoseSequence` (rows are time steps; slots are its individuals)."""
        t, i = seq.xy.shape[:2]
        present = seq.present
        occupied = present.any(-1)
        box = seq.box
        with np.errstate(invalid="ignore"):
            area = (box[..., 2] - box[..., 0]) * (box[..., 3] - box[..., 1])
        size = np.full((t, 2), np.nan) if seq.image_size is None else np.tile(np.asarray(seq.image_size, float), (t, 1))
        return cls(
            skeleton=seq.skeleton,
            xy=np.where(present[..., None], seq.xy, np.nan),
            state=seq.state,
            score=seq.score,
            occupied=occupied,
            frame=seq.frame,
            time=seq.time,
            track=np.broadcast_to(seq.track_id[None, :], (t, i)).copy(),
            temporal=True,
            world=seq.world,
            area=area,
            image_size=size,
            source=seq.source,
            kind="sequence",
        )

    @classmethod
    def from_frames(cls, frames: Sequence[PoseFrame], *, source: str | None = None) -> "QAData":
        """From still frames (rows are independent images; no temporal rules).

        To check a video, build a :class:`PoseSequence` first (``PoseSequence.from_frames`` for
        tracked frames) and use :meth:`from_sequence`.
        """
        frames = list(frames)
        if not frames:
            raise ValidationError("no frames to check")
        sk = frames[0].skeleton
        for f in frames:
            if f.skeleton.name != sk.name:
                raise ValidationError(f"frames mix skeletons {sk.name!r} and {f.skeleton.name!r}")
        return cls._pack(sk, frames, source=source, kind="frames")

    @classmethod
    def _pack(cls, sk: Skeleton, frames: list[PoseFrame], **kw: Any) -> "QAData":
        t = len(frames)
        i = max([len(f) for f in frames] + [1])
        k = len(sk)
        xy = np.full((t, i, k, 2), np.nan)
        state = np.zeros((t, i, k), np.uint8)
        score = np.zeros((t, i, k), np.float32)
        occupied = np.zeros((t, i), bool)
        track = np.full((t, i), -1, np.int64)
        area = np.full((t, i), np.nan)
        size = np.full((t, 2), np.nan)
        has_w = any(f.world is not None for f in frames)
        world = np.full((t, i, k, 3), np.nan) if has_w else None
        fidx = np.zeros(t, np.int64)
        times = [f.time for f in frames]
        for r, f in enumerate(frames):
            n = len(f)
            xy[r, :n] = f.xy
            state[r, :n] = f.state
            score[r, :n] = f.score
            occupied[r, :n] = True
            track[r, :n] = f.track_id
            with np.errstate(invalid="ignore"):
                area[r, :n] = (f.box[:, 2] - f.box[:, 0]) * (f.box[:, 3] - f.box[:, 1])
            if f.image_size is not None:
                size[r] = f.image_size
            if has_w and f.world is not None:
                world[r, :n] = f.world
            fidx[r] = f.frame
        time = None if any(tt is None for tt in times) else np.asarray(times, dtype=np.float64)
        return cls(sk, xy, state, score, occupied, fidx, time, track, False, world=world, area=area,
                   image_size=size, **kw)  # fmt: skip

    @classmethod
    def from_coco(cls, ds: Any, raw: dict[Any, tuple[list[float], int]] | None = None) -> "QAData":
        """From a :class:`~posekit.io.coco.CocoDataset` (rows are images in file order).

        Args:
            ds: the dataset (``posekit.io.coco.read_coco`` or ``read_coco_results``).
            raw: annotation id → (the file's flat ``keypoints`` list ``x, y, v`` × K, its
                ``num_keypoints`` or -1), for the raw state checks; see :func:`load_qa_input`.
        """
        ids = list(ds.images)
        frames = [ds.frames[iid] for iid in ids]
        data = cls._pack(ds.skeleton, frames, source=ds.path, kind="coco")
        t, i, k = data.shape
        ann = np.full((t, i), None, dtype=object)
        crowd = np.zeros((t, i), bool)
        for r, iid in enumerate(ids):
            n = len(ds.frames[iid])
            if n:
                ann[r, :n] = list(ds.annotation_ids[iid])
                crowd[r, :n] = ds.iscrowd[iid]
                data.area[r, :n] = np.where(ds.areas[iid] > 0, ds.areas[iid], data.area[r, :n])
        data.annotation_id = ann
        data.iscrowd = crowd
        data.image_id = ids
        data.file_name = [ds.images[iid].get("file_name") if isinstance(ds.images[iid].get("file_name"), str) else None
                          for iid in ids]  # fmt: skip
        if raw is not None:
            rr = np.full((t, i, k, 3), np.nan)
            numk = np.full((t, i), -1, np.int64)
            for r in range(t):
                for n in range(i):
                    a = ann[r, n]
                    if a is None or a not in raw:
                        continue
                    kp, nk = raw[a]
                    rr[r, n] = np.asarray(kp, dtype=np.float64).reshape(k, 3)
                    numk[r, n] = nk
            data.raw = rr
            data.raw_num_keypoints = numk
        return data


def _raw_keypoints(doc: Any, results: bool) -> dict[Any, tuple[list[float], int]]:
    """Annotation id (results: position) → (flat keypoints list, num_keypoints or -1).

    Results entries whose third values are confidences rather than COCO flags (not all 0, 1 or 2) are
    left out: their ``v`` says nothing about labelling.
    """
    out: dict[Any, tuple[list[float], int]] = {}
    items = doc if results else doc.get("annotations", [])
    for j, a in enumerate(items):
        if not isinstance(a, dict):
            continue
        if results and not all(v in (0, 1, 2) for v in (a.get("keypoints") or [])[2::3]):
            continue
        key = j if results else a.get("id")
        nk = a.get("num_keypoints", -1)
        out[key] = (a.get("keypoints"), nk if type(nk) is int else -1)
    return out


def _skeleton_arg(path: str | Path, skeleton: str | Skeleton | None) -> Skeleton | None:
    if skeleton is None:
        return None
    try:
        return get_skeleton(skeleton)
    except KeyError as exc:
        raise InputError(path, str(exc.args[0])) from None


def load_qa_input(
    path: str | Path,
    *,
    skeleton: str | Skeleton | None = None,
    images_dir: str | Path | None = None,
) -> QAData:
    """Read poses to check: a COCO keypoint file, a COCO results list, or a posekit poses JSON file.

    Args:
        path: the JSON file. COCO keypoint files (``images``/``annotations``/``categories``) become
            still images (with the raw ``x, y, v`` for the state checks); COCO results lists likewise;
            posekit files (``posekit.io.save_poses``) become a sequence when they hold one (or frames
            of one video with times and track ids, see :func:`frames_as_sequence`), else still frames.
        skeleton: layout id to read a COCO file with (default: from the category's keypoint names).
        images_dir: when given, every image a COCO file names must exist in this folder
            (``file_name`` relative to it).

    Raises:
        InputError: unreadable or malformed file (the message names the object and field), keypoint
            lists of the wrong length, an unknown or undeterminable skeleton, or images named by the
            file but absent from ``images_dir``.
    """
    from posekit.io.coco import read_coco, read_coco_results
    from posekit.io.posekit_json import load_json_file, load_poses

    p = Path(path)
    sk = _skeleton_arg(p, skeleton)
    doc = load_json_file(p)
    if isinstance(doc, dict) and doc.get("format") == "posekit":
        obj = load_poses(p)
        if sk is not None and obj_skeleton(obj).name != sk.name:
            raise InputError(p, f"holds {obj_skeleton(obj).name!r} poses but skeleton {sk.name!r} was asked for")
        if isinstance(obj, PoseSequence):
            return QAData.from_sequence(obj)
        frames = [obj] if isinstance(obj, PoseFrame) else obj
        if not frames:
            raise InputError(p, "holds no frames to check")
        seq = frames_as_sequence(frames, source=str(p))
        return QAData.from_sequence(seq) if seq is not None else QAData.from_frames(frames, source=str(p))
    if isinstance(doc, dict) and ("annotations" in doc or "images" in doc):
        ds = read_coco(p, skeleton=sk)
        data = QAData.from_coco(ds, _raw_keypoints(doc, results=False))
    elif isinstance(doc, list):
        ds = read_coco_results(p, skeleton=sk)
        data = QAData.from_coco(ds, _raw_keypoints(doc, results=True))
    else:
        raise InputError(
            p, "is neither a COCO keypoint file (object with 'images', 'annotations', 'categories'), "
            "a COCO results list, nor a posekit poses file ('format': 'posekit')"
        )  # fmt: skip
    if images_dir is not None:
        check_images_exist(p, ds.images, images_dir)
    return data


def frames_as_sequence(frames: Sequence[PoseFrame], source: str | None = None) -> PoseSequence | None:
    """The frames as a :class:`PoseSequence` when they are one video with identities, else ``None``.

    That is: more than one frame, every frame has a time, times never decrease, and every person has a
    track id (or no frame holds more than one person). Otherwise identities over time are unknown and
    the frames are checked as still images.
    """
    if len(frames) < 2 or any(f.time is None for f in frames):
        return None
    times = [float(f.time) for f in frames]  # type: ignore[arg-type]
    if any(b < a for a, b in zip(times, times[1:])):
        return None
    tracked = all(bool(np.all(f.track_id >= 0)) for f in frames)
    if not tracked and any(len(f) > 1 for f in frames):
        return None
    try:
        return PoseSequence.from_frames(frames, source=source)
    except ValidationError:
        return None


def obj_skeleton(obj: Any) -> Skeleton:
    """The skeleton of a PoseFrame, PoseSequence or list of frames."""
    if isinstance(obj, list):
        return obj[0].skeleton if obj else get_skeleton("coco17")
    return obj.skeleton


def check_images_exist(path: str | Path, images: dict[Any, dict[str, Any]], images_dir: str | Path) -> None:
    """Raise :class:`InputError` when an image named in a COCO file is absent from ``images_dir``.

    Args:
        path: the COCO file (named in the error).
        images: image id → image entry (needs ``file_name``).
        images_dir: folder the ``file_name`` entries are relative to.
    """
    folder = Path(images_dir)
    if not folder.is_dir():
        raise InputError(folder, "image folder not found")
    missing = []
    for iid, img in images.items():
        name = img.get("file_name")
        if not isinstance(name, str) or not name:
            raise InputError(path, f"image id {iid!r} has no 'file_name', so its picture cannot be found")
        if not (folder / name).is_file():
            missing.append((iid, name))
    if missing:
        iid, name = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(
            path, f"image id {iid!r} refers to {name!r}, which is not in {folder}{more}"
        )
