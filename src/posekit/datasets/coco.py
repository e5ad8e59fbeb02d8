"""COCO keypoint ground truth and predictions (thin layer over :mod:`posekit.io.coco`).

* :func:`read_coco_keypoints` reads a COCO person-keypoints file (COCO-17 by default).
* :func:`read_predictions` reads any prediction file posekit understands: posekit's own JSON
  (:func:`posekit.io.posekit_json.load_poses`), a COCO results list or a full COCO file (such as the
  ``*.coco.json`` that ``posekit estimate`` writes next to its poses).
* :func:`align_to_gt` pairs prediction frames with ground-truth images by image id, file name or order.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Literal

from posekit.errors import InputError
from posekit.io.coco import CocoDataset, read_coco, read_coco_results
from posekit.io.posekit_json import FORMAT, load_json_file, load_poses
from posekit.poses import PoseFrame, PoseSequence
from posekit.skeletons import Skeleton

from ._cocolike import resolve_layout

__all__ = ["Predictions", "read_coco_keypoints", "read_predictions", "align_to_gt"]

#: What :func:`read_predictions` returns.
Predictions = CocoDataset | PoseFrame | list[PoseFrame] | PoseSequence


def read_coco_keypoints(path: str | Path, *, layout: str | Skeleton = "coco17") -> CocoDataset:
    """Read a COCO keypoint ground-truth file (flags 0 → MISSING, 1 → OCCLUDED, 2 → VISIBLE).

    Args:
        path: the JSON file.
        layout: the keypoint layout of the file (default COCO-17).

    Returns:
        A :class:`CocoDataset`, one :class:`PoseFrame` per image (pixels).

    Raises:
        InputError: see :func:`posekit.io.coco.read_coco`; also for an unknown ``layout``.
    """
    return read_coco(path, skeleton=resolve_layout(path, layout))


def read_predictions(
    path: str | Path, gt: CocoDataset | None = None, *, layout: str | Skeleton | None = None
) -> Predictions:
    """Read predictions: posekit JSON, a COCO results list, or a full COCO keypoint file.

    Args:
        path: the prediction file.
        gt: ground truth, used for COCO results lists (their images and, unless ``layout`` is given,
            their layout).
        layout: the layout of a COCO results list or COCO file (e.g. ``"coco17"`` for COCO-17 results
            scored against CrowdPose ground truth after conversion). Ignored for posekit JSON, which names
            its skeleton.

    Returns:
        For posekit JSON the saved object (:class:`PoseFrame`, list of frames or :class:`PoseSequence`);
        otherwise a :class:`CocoDataset`.

    Raises:
        InputError: the file is missing, empty, not JSON, of no known kind, or malformed (the message
            names the file and the field).
    """
    doc = load_json_file(path)
    lay = None if layout is None else resolve_layout(path, layout)
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        return load_poses(path)
    if isinstance(doc, list):
        return read_coco_results(path, gt, skeleton=lay)
    if isinstance(doc, dict) and "annotations" in doc:
        return read_coco(path, skeleton=lay)
    kind = type(doc).__name__ if not isinstance(doc, dict) else f"object with keys {sorted(doc)[:5]}"
    raise InputError(
        path, f"is a JSON {kind}: expected posekit poses ('format': 'posekit'), a COCO results list or a COCO file"
    )


def _base(name: Any) -> str:
    return PurePosixPath(str(name).replace("\\", "/")).name


def align_to_gt(
    pred: Predictions, gt: CocoDataset, *, by: Literal["image_id", "file_name", "order"] = "image_id"
) -> dict[Any, PoseFrame]:
    """Pair prediction frames with the ground-truth images.

    Args:
        pred: predictions (from :func:`read_predictions`).
        gt: the ground truth.
        by: ``"image_id"`` (the files share image ids), ``"file_name"`` (match the base names of the
            images' ``file_name``; for posekit's ``*.coco.json``) or ``"order"`` (the i-th prediction frame
            belongs to the i-th ground-truth image; for a list of frames).

    Returns:
        Ground-truth image id → the predicted people of that image (an empty frame where the prediction
        has none), in ground-truth order.

    Raises:
        InputError: a prediction image that is not in the ground truth, a file name that is ambiguous,
            or a different number of frames for ``by="order"``.
    """
    where = getattr(pred, "path", None) or "predictions"
    if isinstance(pred, PoseSequence):
        pred = list(pred.frames())
    if isinstance(pred, PoseFrame):
        pred = [pred]
    if isinstance(pred, list):
        if by != "order":
            raise InputError(where, "a list of frames carries no image ids or file names; use by='order'")
        if len(pred) != len(gt.images):
            raise InputError(where, f"holds {len(pred)} frames but the ground truth has {len(gt.images)} images")
        return dict(zip(gt.images, pred))
    sk = pred.skeleton
    out: dict[Any, PoseFrame] = {}
    if by == "image_id":
        extra = [iid for iid in pred.images if iid not in gt.images]
        if extra:
            raise InputError(where, f"image id {extra[0]!r} is not in the ground truth {gt.path or ''}".rstrip())
        for iid in gt.images:
            out[iid] = pred.frames[iid] if iid in pred.frames else PoseFrame.empty(sk)
        return out
    if by == "file_name":
        gt_names: dict[str, Any] = {}
        for iid, img in gt.images.items():
            name = _base(img.get("file_name", ""))
            if name in gt_names:
                raise InputError(gt.path or "ground truth", f"file name {name!r} appears twice in 'images'")
            gt_names[name] = iid
        by_gt: dict[Any, PoseFrame] = {}
        for iid, img in pred.images.items():
            name = _base(img.get("file_name", ""))
            if name not in gt_names:
                raise InputError(where, f"image {name!r} (id {iid!r}) is not in the ground truth")
            if gt_names[name] in by_gt:
                raise InputError(where, f"image {name!r} appears twice")
            by_gt[gt_names[name]] = pred.frames[iid]
        return {iid: by_gt.get(iid, PoseFrame.empty(sk)) for iid in gt.images}
    if by == "order":
        frames = list(pred.frames.values())
        return align_to_gt(frames, gt, by="order")
    raise ValueError(f"by must be 'image_id', 'file_name' or 'order', got {by!r}")
