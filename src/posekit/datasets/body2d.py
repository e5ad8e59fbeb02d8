"""Single-image 2D body datasets: CrowdPose, AI Challenger, MHP and MPII.

All return a :class:`~posekit.io.coco.CocoDataset` (one :class:`~posekit.poses.PoseFrame` per image,
coordinates in pixels as stored in the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.io.coco import CocoDataset
from posekit.io.posekit_json import load_json_file
from posekit.poses import KeypointState, PoseFrame
from posekit.skeletons import get_skeleton

from ._cocolike import read_coco_style

__all__ = ["read_crowdpose", "read_aic", "read_mhp", "read_mpii"]


def read_crowdpose(path: str | Path) -> CocoDataset:
    """Read a CrowdPose keypoint file (layout ``crowdpose14``; COCO flags: 1 → OCCLUDED, 2 → VISIBLE).

    The file names the last two points ``head`` and ``neck``; the first is the top of the head
    (``head_top`` here, mmpose: ``top_head``). Images keep CrowdPose's ``crowdIndex`` in ``images``.

    Raises:
        InputError: see :func:`posekit.datasets._cocolike.read_coco_style`.
    """
    return read_coco_style(path, "crowdpose14", flags="coco")


def read_aic(path: str | Path) -> CocoDataset:
    """Read an AI Challenger keypoint file in COCO form (layout ``aic14``; COCO flags).

    mmpose's conversion maps AIC's own flags (1 visible, 2 not visible, 3 not labelled) to COCO's 2/1/0.
    """
    return read_coco_style(path, "aic14", flags="coco")


def read_mhp(path: str | Path) -> CocoDataset:
    """Read an MHP (multi-human parsing) keypoint file: the MPII order (layout ``mpii16``), COCO flags.

    The face box of each person is kept in ``frame.extras["face_box"]`` (``(N, 4)`` x, y, w, h pixels).
    """
    return read_coco_style(path, "mpii16", flags="coco", extras={"face_box": (4,)})


def read_mpii(path: str | Path) -> CocoDataset:
    """Read MPII single-person annotations in mmpose's JSON form (a list of people).

    Each entry has ``image``, ``joints`` (16 × [x, y] pixels, MATLAB 1-based as in the original
    annotations — subtract 1 for 0-based pixel indices), ``joints_vis`` (1 labelled, 0 not; unlabelled
    joints hold -1) and ``center``/``scale`` (person centre in pixels; scale = person height / 200 px).

    Returns:
        A :class:`CocoDataset` keyed by image file name, layout ``mpii16``; people of the same image
        share a frame. ``joints_vis`` 1 → VISIBLE (MPII's json carries no occlusion), 0 → MISSING.
        ``frame.extras`` holds ``center`` ``(N, 2)`` and ``scale`` ``(N,)``.

    Raises:
        InputError: not a list, a missing field, 16 joints expected, a non-number, a flag other than 0/1.
    """
    doc = load_json_file(path)
    if not isinstance(doc, list):
        raise InputError(path, f"holds a JSON {type(doc).__name__}, expected a list of MPII people")
    sk = get_skeleton("mpii16")
    people: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]] = {}
    for j, e in enumerate(doc):
        label = f"entry {j}"
        if not isinstance(e, dict):
            raise InputError(path, f"{label} is not an object")
        for key in ("image", "joints", "joints_vis"):
            if key not in e:
                raise InputError(path, f"{label} has no field {key!r}")
        try:
            joints = np.asarray(e["joints"], dtype=np.float64)
            vis = np.asarray(e["joints_vis"], dtype=np.float64)
            center = np.asarray(e.get("center", [np.nan, np.nan]), dtype=np.float64)
            scale = float(e.get("scale", np.nan))
        except (TypeError, ValueError):
            raise InputError(path, f"{label}: fields 'joints', 'joints_vis', 'center', 'scale' must hold numbers") from None
        if joints.shape != (16, 2):
            raise InputError(path, f"{label}: field 'joints' has shape {joints.shape}, expected 16×2")
        if vis.shape != (16,) or not np.isin(vis, (0, 1)).all():
            raise InputError(path, f"{label}: field 'joints_vis' must be 16 flags 0 or 1")
        if center.shape != (2,):
            raise InputError(path, f"{label}: field 'center' must be [x, y]")
        labelled = vis == 1
        if not np.isfinite(joints[labelled]).all():
            raise InputError(path, f"{label}: field 'joints' holds a non-finite labelled joint")
        people.setdefault(str(e["image"]), []).append((joints, labelled, center, scale))
    images: dict[Any, dict[str, Any]] = {}
    frames, ann_ids, crowd, areas = {}, {}, {}, {}
    aid = 0
    for pos, (name, ps) in enumerate(people.items()):
        images[name] = {"id": name, "file_name": name}
        xy = np.stack([np.where(lab[:, None], jt, np.nan) for jt, lab, _, _ in ps])
        state = np.stack([np.where(lab, KeypointState.VISIBLE, KeypointState.MISSING) for _, lab, _, _ in ps])
        try:
            frames[name] = PoseFrame(
                sk, xy, (state != 0).astype(np.float32), state, frame=pos,
                extras={"center": np.stack([c for *_, c, _ in ps]), "scale": np.array([s for *_, s in ps])},
            )  # fmt: skip
        except ValidationError as exc:
            raise InputError(path, f"image {name!r}: {exc}") from None
        ann_ids[name] = np.arange(aid, aid + len(ps), dtype=np.int64)
        aid += len(ps)
        crowd[name] = np.zeros(len(ps), bool)
        box = frames[name].box
        areas[name] = np.nan_to_num((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]))
    return CocoDataset(
        skeleton=sk, category_id=1, images=images, frames=frames, annotation_ids=ann_ids, iscrowd=crowd,
        areas=areas, categories=[{"id": 1, "name": "person", "keypoints": list(sk.keypoints)}], path=str(path),
    )  # fmt: skip
