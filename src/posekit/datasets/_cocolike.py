"""A tolerant reader for the COCO-style keypoint files that dataset tools (mmpose) write.

COCO-style files of other datasets differ from COCO itself in small ways that :func:`posekit.io.coco.read_coco`
rightly refuses: an empty ``keypoints`` list in the category (faces), keypoints as nested ``[[x, y, v], …]``
lists (RHD), visibility flags written as floats, ``iscrowd: false`` (PoseTrack), no ``categories`` at all, or a
flag 1 that means "labelled" rather than COCO's "labelled but not visible". This module reads them all into a
:class:`~posekit.io.coco.CocoDataset` with an explicit layout and an explicit flag convention.

Flag conventions (``flags=``):

* ``"coco"``: 0 → MISSING (coordinates NaN), 1 → OCCLUDED, 2 → VISIBLE (COCO, CrowdPose, AI Challenger, COFW).
* ``"labelled"``: 0 → MISSING, 1 or 2 → VISIBLE, for files whose flag only says "labelled" (PoseTrack18,
  Human3.6M, the hand sets, most face sets): they carry no occlusion information.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.io.coco import CocoDataset
from posekit.io.posekit_json import load_json_file
from posekit.poses import KeypointState, PoseFrame
from posekit.skeletons import SKELETONS, Skeleton, get_skeleton

Flags = Literal["coco", "labelled"]

__all__ = ["Flags", "read_coco_style", "resolve_layout", "is_number"]


def is_number(v: Any) -> bool:
    """True for a finite int/float that is not a bool."""
    return (type(v) is int) or (type(v) is float and math.isfinite(v))


def resolve_layout(path: str | Path, layout: str | Skeleton) -> Skeleton:
    """The registered skeleton ``layout``; an unknown id is an :class:`InputError` naming ``path``."""
    try:
        return get_skeleton(layout)
    except KeyError:
        known = ", ".join(sorted(SKELETONS))
        raise InputError(path, f"unknown keypoint layout {layout!r} (known: {known})") from None


def _num_array(path: str | Path, value: Any, shape: tuple[int, ...], label: str) -> np.ndarray:
    """A nested list of finite numbers of a given shape → float64 array, else InputError."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(path, f"{label} must hold numbers, got {str(value)[:60]}") from None
    if arr.shape != shape:
        want = "×".join(str(s) for s in shape) or "a single number"
        raise InputError(path, f"{label} has shape {arr.shape}, expected {want}")
    if not np.all(np.isfinite(arr)):
        raise InputError(path, f"{label} holds a non-finite value")
    return arr


def _keypoints(path: str | Path, a: dict[str, Any], k: int, label: str) -> np.ndarray:
    kps = a.get("keypoints")
    if not isinstance(kps, list):
        raise InputError(path, f"{label}: field 'keypoints' is missing or not a list")
    if kps and isinstance(kps[0], list):  # nested [[x, y, v], ...]
        if len(kps) != k:
            raise InputError(path, f"{label}: field 'keypoints' has {len(kps)} points, expected {k}")
        return _num_array(path, kps, (k, 3), f"{label}: field 'keypoints'")
    if len(kps) != 3 * k:
        raise InputError(path, f"{label}: field 'keypoints' has {len(kps)} values, expected 3×{k}={3 * k}")
    return _num_array(path, kps, (3 * k,), f"{label}: field 'keypoints'").reshape(k, 3)


def _states(path: str | Path, v: np.ndarray, flags: Flags, label: str) -> np.ndarray:
    bad = ~np.isin(v, (0.0, 1.0, 2.0))
    if bad.any():
        j = int(np.argmax(bad))
        raise InputError(path, f"{label}: keypoint {j} has visibility flag {v[j]:g}, expected 0, 1 or 2")
    occluded = KeypointState.OCCLUDED if flags == "coco" else KeypointState.VISIBLE
    return np.where(v == 2, KeypointState.VISIBLE, np.where(v == 1, occluded, KeypointState.MISSING)).astype(np.uint8)


def _images(path: str | Path, images: Any) -> dict[Any, dict[str, Any]]:
    if not isinstance(images, list):
        raise InputError(path, "field 'images' must be a list")
    out: dict[Any, dict[str, Any]] = {}
    for j, img in enumerate(images):
        if not isinstance(img, dict) or "id" not in img:
            raise InputError(path, f"images[{j}] has no field 'id'")
        iid = img["id"]
        if type(iid) not in (int, str):
            raise InputError(path, f"images[{j}]: field 'id' is {iid!r}, expected an integer or a string")
        if iid in out:
            raise InputError(path, f"image id {iid!r} appears twice in 'images'")
        out[iid] = img
    return out


def _category_id(path: str | Path, doc: dict[str, Any], k: int, category_id: int | None) -> int | None:
    cats = doc.get("categories")
    if cats is None:
        return category_id
    if not isinstance(cats, list) or not all(isinstance(c, dict) and "id" in c for c in cats):
        raise InputError(path, "field 'categories' must be a list of objects with an 'id'")
    if category_id is None:
        if len(cats) != 1:
            ids = [c.get("id") for c in cats]
            raise InputError(path, f"field 'categories' lists {len(cats)} categories (ids {ids}); pass category_id=")
        cat = cats[0]
    else:
        found = [c for c in cats if c.get("id") == category_id]
        if not found:
            raise InputError(path, f"no category with id {category_id} in field 'categories'")
        cat = found[0]
    names = cat.get("keypoints")
    if isinstance(names, list) and names and len(names) != k:
        raise InputError(
            path, f"field 'categories[].keypoints' lists {len(names)} keypoints, but the layout has {k}"
        )
    return cat.get("id")


def read_coco_style(
    path: str | Path,
    layout: str | Skeleton,
    *,
    flags: Flags,
    extras: Mapping[str, tuple[int, ...]] | None = None,
    category_id: int | None = None,
    doc: dict[str, Any] | None = None,
) -> CocoDataset:
    """Read a COCO-style keypoint file with an explicit layout and flag convention.

    Args:
        path: the JSON file.
        layout: registered skeleton id of the file's keypoint order (never guessed from a count).
        flags: the visibility-flag convention (see the module docstring).
        extras: per-annotation numeric fields to keep, name → shape per person (e.g.
            ``{"bbox_head": (4,)}``); they land in ``frame.extras[name]`` with a leading people axis,
            NaN where an annotation lacks the field.
        category_id: the category to read (default: the only one; files without ``categories`` read all
            annotations).
        doc: the already parsed document (``path`` is then used in messages only).

    Returns:
        A :class:`CocoDataset`, one :class:`PoseFrame` per image in file order (``frame`` = position in the
        file, ``image_size`` from ``width``/``height``), people in annotation order, ``track_id`` from the
        annotations' ``track_id`` (``-1`` when absent). Boxes come from ``bbox`` ``[x, y, w, h]``, else from
        the labelled keypoints. Coordinates are pixels as stored.

    Raises:
        InputError: the file is missing or not JSON; a required field is missing; an annotation has the
            wrong number of keypoints, a flag other than 0/1/2, a non-number, or an unknown image id; ids
            repeat; or ``layout`` is not registered. Every message names the file and the field.
    """
    sk = resolve_layout(path, layout)
    k = len(sk)
    if doc is None:
        doc = load_json_file(path)
    if not isinstance(doc, dict):
        raise InputError(path, f"holds a JSON {type(doc).__name__}, expected an object with 'images' and 'annotations'")
    for key in ("images", "annotations"):
        if key not in doc:
            raise InputError(path, f"missing top-level field {key!r}")
    cat_id = _category_id(path, doc, k, category_id)
    images = _images(path, doc["images"])
    anns = doc["annotations"]
    if not isinstance(anns, list):
        raise InputError(path, "field 'annotations' must be a list")
    extras = dict(extras or {})
    per_image: dict[Any, list[dict[str, Any]]] = {iid: [] for iid in images}
    seen: set[Any] = set()
    for j, a in enumerate(anns):
        if not isinstance(a, dict):
            raise InputError(path, f"annotations[{j}] is not an object")
        aid = a.get("id", j)
        label = f"annotation id {aid!r}"
        if "category_id" in a and cat_id is not None and a["category_id"] != cat_id:
            continue
        if aid in seen:
            raise InputError(path, f"{label} appears twice in 'annotations'")
        seen.add(aid)
        iid = a.get("image_id")
        if iid not in images:
            raise InputError(path, f"{label}: field 'image_id' {iid!r} is not in 'images'")
        per_image[iid].append(_person(path, a, k, label, flags, extras, aid))
    frames, ann_ids, crowd, areas = {}, {}, {}, {}
    for pos, (iid, img) in enumerate(images.items()):
        people = per_image[iid]
        try:
            frames[iid] = _frame(sk, people, pos, img, extras)
        except ValidationError as exc:
            raise InputError(path, f"image id {iid!r}: {exc}") from None
        ids = [p["id"] for p in people]
        ann_ids[iid] = np.array(ids, dtype=np.int64 if all(type(i) is int for i in ids) else object)
        crowd[iid] = np.array([p["iscrowd"] for p in people], dtype=bool)
        areas[iid] = np.array([p["area"] for p in people], dtype=np.float64)
    return CocoDataset(
        skeleton=sk, category_id=int(cat_id) if type(cat_id) is int else 1, images=images, frames=frames,
        annotation_ids=ann_ids, iscrowd=crowd, areas=areas, categories=list(doc.get("categories") or []),
        path=str(path), info=doc.get("info"), licenses=doc.get("licenses"),
    )  # fmt: skip


def _person(
    path: str | Path, a: dict[str, Any], k: int, label: str, flags: Flags,
    extras: dict[str, tuple[int, ...]], aid: Any,
) -> dict[str, Any]:  # fmt: skip
    kp = _keypoints(path, a, k, label)
    state = _states(path, kp[:, 2], flags, label)
    xy = kp[:, :2].copy()
    xy[state == KeypointState.MISSING] = np.nan
    bbox = a.get("bbox")
    if bbox is not None:
        b = _num_array(path, bbox, (4,), f"{label}: field 'bbox'")
        box = np.array([b[0], b[1], b[0] + b[2], b[1] + b[3]])
    else:
        box = np.full(4, np.nan)
        ok = state != KeypointState.MISSING
        if ok.any():
            box = np.concatenate([xy[ok].min(0), xy[ok].max(0)])
    tid = a.get("track_id", -1)
    if type(tid) is not int:
        raise InputError(path, f"{label}: field 'track_id' is {tid!r}, expected an integer")
    crowd = a.get("iscrowd", 0)
    if crowd not in (0, 1) or type(crowd) is float:
        raise InputError(path, f"{label}: field 'iscrowd' is {crowd!r}, expected 0 or 1")
    area = a.get("area")
    if area is not None and not is_number(area):
        raise InputError(path, f"{label}: field 'area' is {area!r}, expected a number")
    if area is None:
        area = float((box[2] - box[0]) * (box[3] - box[1])) if np.all(np.isfinite(box)) else 0.0
    ex = {}
    for name, shape in extras.items():
        if name in a and a[name] is not None:
            ex[name] = _num_array(path, a[name], shape, f"{label}: field {name!r}")
        else:
            ex[name] = np.full(shape, np.nan)
    return {
        "xy": xy, "state": state, "box": box, "track_id": tid, "iscrowd": bool(crowd), "area": float(area),
        "id": aid, "extras": ex,
    }  # fmt: skip


def _frame(sk: Skeleton, people: list[dict[str, Any]], pos: int, img: dict[str, Any],
           extras: dict[str, tuple[int, ...]]) -> PoseFrame:  # fmt: skip
    k = len(sk)
    n = len(people)
    w, h = img.get("width"), img.get("height")
    size = (w, h) if type(w) is int and type(h) is int and w > 0 and h > 0 else None
    state = np.stack([p["state"] for p in people]) if n else np.zeros((0, k), np.uint8)
    return PoseFrame(
        sk,
        np.stack([p["xy"] for p in people]) if n else np.zeros((0, k, 2)),
        (state != KeypointState.MISSING).astype(np.float32),
        state,
        box=np.stack([p["box"] for p in people]) if n else np.zeros((0, 4)),
        track_id=np.array([p["track_id"] for p in people], np.int64),
        frame=pos,
        image_size=size,
        extras={
            name: (np.stack([p["extras"][name] for p in people]) if n else np.zeros((0, *shape)))
            for name, shape in extras.items()
        },
    )
