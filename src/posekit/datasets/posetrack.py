"""Video keypoint datasets with track ids: PoseTrack18 and JHMDB (mmpose's COCO-style files).

:func:`read_posetrack18` gives one :class:`~posekit.poses.PoseFrame` per annotated frame with each person's
``track_id``; :func:`to_sequences` groups them by video into :class:`~posekit.poses.PoseSequence` objects.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.io.coco import CocoDataset
from posekit.poses import PoseFrame, PoseSequence

from ._cocolike import read_coco_style

__all__ = ["POSETRACK_ASSUMED_FPS", "read_posetrack18", "read_jhmdb", "video_frames", "to_sequences", "track_ids"]

#: PoseTrack18 annotation files carry no frame rate; this is assumed unless ``fps=`` is given.
POSETRACK_ASSUMED_FPS = 30.0


def read_posetrack18(path: str | Path) -> CocoDataset:
    """Read a PoseTrack18 annotation file (mmpose's COCO form; layout ``posetrack17``).

    PoseTrack flags only say "labelled" (1; never 2), so labelled points are VISIBLE and 0 is MISSING;
    the ear slots are never labelled. Each frame's ``track_id`` holds the people's track ids;
    ``frame.frame`` is the frame number within its video (from the image file name, e.g. ``000000.jpg`` →
    0); ``frame.extras["bbox_head"]`` ``(N, 4)`` is the head box ``[x, y, w, h]`` in pixels. The image
    entries keep ``vid_id``, ``file_name``, ``nframes`` and the ignore regions.

    Raises:
        InputError: see :func:`posekit.datasets._cocolike.read_coco_style`; also an image without
            ``vid_id`` or with a file name that is not a frame number.
    """
    ds = read_coco_style(path, "posetrack17", flags="labelled", extras={"bbox_head": (4,)})
    _number_frames(path, ds)
    return ds


def read_jhmdb(path: str | Path) -> CocoDataset:
    """Read a JHMDB keypoint file (mmpose's COCO form; layout ``jhmdb15``; flags 2 → VISIBLE).

    Frame numbers come from the image file names (``00001.png`` → 1); ``track_id`` as in the file.
    """
    ds = read_coco_style(path, "jhmdb15", flags="coco")
    _number_frames(path, ds)
    return ds


def _number_frames(path: str | Path, ds: CocoDataset) -> None:
    for iid, img in ds.images.items():
        if "vid_id" not in img:
            raise InputError(path, f"image id {iid!r} has no field 'vid_id'")
        stem = PurePosixPath(str(img.get("file_name", ""))).stem
        if not stem.isdigit():
            raise InputError(path, f"image id {iid!r}: field 'file_name' {img.get('file_name')!r} is not a frame number")
        ds.frames[iid].frame = int(stem)


def video_frames(ds: CocoDataset) -> dict[str, list[Any]]:
    """Video id → the image ids of its frames, in frame order."""
    out: dict[str, list[Any]] = {}
    for iid, img in ds.images.items():
        out.setdefault(str(img["vid_id"]), []).append(iid)
    return {v: sorted(ids, key=lambda i: ds.frames[i].frame) for v, ids in out.items()}


def to_sequences(ds: CocoDataset, *, fps: float | None = None) -> dict[str, PoseSequence]:
    """Group the frames of a PoseTrack/JHMDB dataset into one :class:`PoseSequence` per video.

    Args:
        ds: from :func:`read_posetrack18` or :func:`read_jhmdb` (images must carry ``vid_id``).
        fps: frame rate used for ``time = frame / fps`` (seconds). The files carry none; by default
            :data:`POSETRACK_ASSUMED_FPS` (30) is assumed, which each sequence's provenance records.

    Returns:
        Video id → sequence with one individual per track id (``track_id (I,)``), MISSING where a track
        is absent from a frame; ``frame`` holds the video frame numbers; ``source`` is the file.

    Raises:
        InputError: two people of one frame share a track id.
    """
    assumed = fps is None
    rate = POSETRACK_ASSUMED_FPS if fps is None else float(fps)
    if not rate > 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    out: dict[str, PoseSequence] = {}
    for vid, ids in video_frames(ds).items():
        frames = []
        for iid in ids:
            f = ds.frames[iid]
            frames.append(PoseFrame(
                f.skeleton, f.xy, f.score, f.state, box=f.box, box_score=f.box_score, track_id=f.track_id,
                frame=f.frame, time=f.frame / rate, image_size=f.image_size,
            ))  # fmt: skip
        try:
            seq = PoseSequence.from_frames(frames, skeleton=ds.skeleton, fps=rate, source=ds.path)
        except ValidationError as exc:
            raise InputError(ds.path or "dataset", f"video {vid}: {exc}") from None
        out[vid] = seq.log_step("read_ground_truth", file=ds.path, video=vid, fps=rate, fps_assumed=assumed)
    return out


def track_ids(ds: CocoDataset) -> np.ndarray:
    """All ``(video id, track id)`` pairs as a sorted ``(M, 2)`` object array (for counting tracks)."""
    pairs = {(str(ds.images[i]["vid_id"]), int(t)) for i, f in ds.frames.items() for t in f.track_id.tolist()}
    return np.array(sorted(pairs), dtype=object).reshape(-1, 2)
