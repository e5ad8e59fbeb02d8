"""COCO keypoint JSON: ground-truth (dataset) files, results files, and exact posekit round trips.

COCO encodes each keypoint as ``x, y, v`` in image pixels with the visibility flag ``v``: 0 = not
labelled (written ``0, 0, 0``), 1 = labelled but not visible, 2 = labelled and visible. posekit maps
its :class:`~posekit.poses.KeypointState` as follows:

=====================  ==========  ======================================
posekit state          written v   read back as (plain COCO file)
=====================  ==========  ======================================
MISSING                0 (0, 0)    MISSING, coordinates NaN
VISIBLE                2           VISIBLE
OCCLUDED, PREDICTED,   1           OCCLUDED
INTERPOLATED,
CORRECTED
=====================  ==========  ======================================

So that a file written by :func:`write_coco` reads back exactly, each annotation also carries posekit
extras that other COCO tools ignore: ``posekit_state`` (the state integers), ``keypoint_scores``,
``posekit_box`` (x0, y0, x1, y1 pixels), ``posekit_box_score`` and, when present, ``posekit_z`` and
``posekit_world`` (metres). Coordinates are written as floats with Python's shortest round-trip
representation (integral values as integers), so ``x, y`` come back bit-for-bit.

The skeleton of a file is never guessed from a keypoint count: it is the explicit ``skeleton=``
argument, or the registered skeleton whose keypoint names equal the category's ``keypoints`` list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import InputError, OutputError, ValidationError
from posekit.io.atomic import atomic_write
from posekit.io.posekit_json import load_json_file
from posekit.poses import KeypointState, PoseFrame
from posekit.skeletons import SKELETONS, Skeleton, get_skeleton

__all__ = [
    "CocoDataset",
    "frame_to_coco_results",
    "write_coco",
    "write_coco_results",
    "read_coco",
    "read_coco_results",
    "coco_keypoints",
]

_VISIBLE = int(KeypointState.VISIBLE)
_OCCLUDED = int(KeypointState.OCCLUDED)
_MISSING = int(KeypointState.MISSING)


@dataclass
class CocoDataset:
    """The people of a COCO keypoint file, one :class:`PoseFrame` per image.

    Attributes:
        skeleton: the keypoint layout of the keypoint category.
        category_id: the COCO category whose annotations were read.
        images: image id → the image entry as in the file (``file_name``, ``width``, ``height``, …),
            in file order.
        frames: image id → the people of that image, in annotation order (images without
            annotations give empty frames). ``frame`` is the image's position in the file (or
            ``posekit_frame``), ``image_size`` is ``(width, height)`` pixels when the file gives it.
        annotation_ids: image id → ``(N,)`` int64 annotation ids (for results files: the entry's
            position in the results list).
        iscrowd: image id → ``(N,)`` bool.
        areas: image id → ``(N,)`` float64 ``area`` in square pixels (segment area for COCO ground
            truth; box area where the file has none).
        categories: the file's category entries.
        path: the file read, if any.
        info: the file's ``info`` block, if any.
        licenses: the file's ``licenses`` list, if any.
    """

    skeleton: Skeleton
    category_id: int
    images: dict[Any, dict[str, Any]]
    frames: dict[Any, PoseFrame]
    annotation_ids: dict[Any, np.ndarray]
    iscrowd: dict[Any, np.ndarray]
    areas: dict[Any, np.ndarray]
    categories: list[dict[str, Any]] = field(default_factory=list)
    path: str | None = None
    info: dict[str, Any] | None = None
    licenses: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_annotations(self) -> int:
        """Number of annotations (people) over all images."""
        return sum(len(f) for f in self.frames.values())


# ---------------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------------
def _num(x: float) -> float | int:
    """A float for JSON: integral values as ``int`` (COCO style), others as the exact float."""
    x = float(x)
    if x.is_integer() and abs(x) < 2**53 and not (x == 0.0 and math.copysign(1.0, x) < 0):
        return int(x)
    return x


def _opt_floats(a: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in np.asarray(a, np.float64).ravel().tolist()]


def _as_layout(frame: PoseFrame, skeleton: str | Skeleton | None) -> PoseFrame:
    if skeleton is None:
        return frame
    dst = get_skeleton(skeleton)
    if frame.skeleton.name == dst.name:
        return frame
    try:
        return frame.to_skeleton(dst)
    except KeyError as exc:
        raise ValidationError(
            f"cannot write {frame.skeleton.name!r} poses in the {dst.name!r} layout: {exc.args[0]}"
        ) from None


def coco_keypoints(xy: np.ndarray, state: np.ndarray) -> list[float | int]:
    """The flat COCO list ``[x, y, v] * K`` for one person.

    Args:
        xy: ``(K, 2)`` pixels (NaN where MISSING).
        state: ``(K,)`` keypoint states.

    Returns:
        ``3 K`` numbers: VISIBLE → v=2, other present states → v=1, MISSING → ``0, 0, 0``.
    """
    out: list[float | int] = []
    for (x, y), s in zip(xy.tolist(), state.tolist()):
        if s == _MISSING:
            out += [0, 0, 0]
        else:
            out += [_num(x), _num(y), 2 if s == _VISIBLE else 1]
    return out


def _xywh(box: np.ndarray, xy: np.ndarray, present: np.ndarray) -> list[float | int]:
    if np.all(np.isfinite(box)):
        x0, y0, x1, y1 = (float(v) for v in box)
    elif present.any():
        pts = xy[present]
        x0, y0 = (float(v) for v in pts.min(0))
        x1, y1 = (float(v) for v in pts.max(0))
    else:
        return [0, 0, 0, 0]
    return [_num(x0), _num(y0), _num(x1 - x0), _num(y1 - y0)]


def _instance_score(box_score: float, scores: np.ndarray, present: np.ndarray) -> float:
    s = scores[present].astype(np.float64)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return 0.0
    bs = float(box_score)
    return (bs if math.isfinite(bs) else 1.0) * float(s.mean())


def _person_extras(f: PoseFrame, n: int) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "keypoint_scores": _opt_floats(f.score[n]),
        "posekit_state": [int(v) for v in f.state[n].tolist()],
        "posekit_box": _opt_floats(f.box[n]),
        "posekit_box_score": None if math.isnan(float(f.box_score[n])) else float(f.box_score[n]),
    }
    if f.z is not None:
        extra["posekit_z"] = _opt_floats(f.z[n])
    if f.world is not None:
        extra["posekit_world"] = _opt_floats(f.world[n])
    return extra


def _image_id(image_id: Any) -> Any:
    if isinstance(image_id, (np.integer, int)) and not isinstance(image_id, bool):
        return int(image_id)
    if isinstance(image_id, str):
        return image_id
    raise TypeError(f"COCO image ids must be integers or strings, got {image_id!r}")


def frame_to_coco_results(frame: PoseFrame, image_id: int, category_id: int = 1) -> list[dict[str, Any]]:
    """COCO keypoint *results* entries for one image, one per person, in the COCO-17 layout.

    Frames in another layout are converted through their registered conversion (BlazePose-33 →
    COCO-17 is exact); a layout without one is an error.

    Args:
        frame: the people of the image.
        image_id: the COCO image id.
        category_id: the COCO category id (1 = person).

    Returns:
        Dicts with ``image_id``, ``category_id``, ``keypoints`` (``[x, y, v] * 17``, pixels; MISSING
        as ``0, 0, 0``), ``score`` (``box_score`` × mean score of the present keypoints; 0 for a
        person with none), ``bbox`` (``[x, y, w, h]`` pixels), ``track_id`` and the posekit extras
        (``keypoint_scores``, ``posekit_state``, ``posekit_box``, ``posekit_box_score``).

    Raises:
        ValidationError: the frame's skeleton has no conversion to COCO-17.
    """
    f = _as_layout(frame, "coco17")
    iid = _image_id(image_id)
    out = []
    present = f.present
    for n in range(len(f)):
        out.append(
            {
                "image_id": iid,
                "category_id": int(category_id),
                "keypoints": coco_keypoints(f.xy[n], f.state[n]),
                "score": _instance_score(f.box_score[n], f.score[n], present[n]),
                "bbox": _xywh(f.box[n], f.xy[n], present[n]),
                "track_id": int(f.track_id[n]),
                **_person_extras(f, n),
            }
        )
    return out


def write_coco_results(path: str | Path, frames: Mapping[Any, PoseFrame], *, category_id: int = 1) -> None:
    """Write a COCO keypoint results file (a JSON list) for ``image_id → frame`` (atomically).

    See :func:`frame_to_coco_results` for the entries.
    """
    results = []
    for iid, f in frames.items():
        results += frame_to_coco_results(f, iid, category_id)
    _dump(path, results)


def _dump(path: str | Path, doc: Any) -> None:
    try:
        text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    except ValueError as exc:
        raise OutputError(path, f"cannot write COCO JSON: {exc}") from exc
    with atomic_write(path, "w") as fh:
        fh.write(text)
        fh.write("\n")


def write_coco(
    path: str | Path,
    frames: CocoDataset | Mapping[Any, PoseFrame] | Sequence[tuple[dict[str, Any], PoseFrame]],
    *,
    skeleton: str | Skeleton | None = "coco17",
    category_id: int = 1,
    category_name: str = "person",
    info: dict[str, Any] | None = None,
) -> None:
    """Write a full COCO keypoint file (``images``, ``annotations``, ``categories``), atomically.

    Args:
        path: the output JSON file (its folder must exist).
        frames: ``image_id → PoseFrame``; or ``(image entry, PoseFrame)`` pairs where the image entry
            is a COCO image dict with at least ``id`` (``file_name``, ``width``, ``height`` are kept;
            ``width``/``height`` are filled from ``frame.image_size`` when absent); or a
            :class:`CocoDataset` (its image entries, annotation ids, ``iscrowd``, areas, ``info`` and
            ``licenses`` are kept, so a file read with :func:`read_coco` is written back faithfully).
        skeleton: layout to write (frames are converted through their registered conversion), or
            ``None`` to write the frames' own layout (all frames must share it).
        category_id: the keypoint category's id.
        category_name: its name.
        info: an ``info`` block to write.

    Annotations get ``id`` (1, 2, … unless taken from a :class:`CocoDataset`), ``image_id``,
    ``category_id``, ``keypoints``, ``num_keypoints`` (present keypoints), ``bbox`` ``[x, y, w, h]``,
    ``area`` (box area unless known), ``iscrowd`` (0 unless known), ``score``, ``track_id`` and the
    posekit extras described in the module docstring. Images carry ``posekit_frame`` /
    ``posekit_time`` when a frame's index differs from its position or it has a time.

    Raises:
        ValidationError: a frame cannot be converted to ``skeleton``, or frames mix layouts.
        OutputError: the file cannot be written.
    """
    ds = frames if isinstance(frames, CocoDataset) else None
    pairs: list[tuple[dict[str, Any], PoseFrame]]
    if ds is not None:
        pairs = [(dict(ds.images[iid]), ds.frames[iid]) for iid in ds.images]
        if info is None:
            info = ds.info
    elif isinstance(frames, Mapping):
        pairs = [({"id": _image_id(iid)}, f) for iid, f in frames.items()]
    else:
        pairs = []
        for item in frames:
            img, f = item
            if not isinstance(img, dict) or "id" not in img:
                raise TypeError("each (image entry, frame) pair needs an image dict with an 'id'")
            pairs.append((dict(img), f))

    out_frames = [_as_layout(f, skeleton) for _, f in pairs]
    names = {f.skeleton.name for f in out_frames}
    if len(names) > 1:
        raise ValidationError(f"frames mix skeletons {sorted(names)}; pass skeleton= to convert them to one layout")
    if out_frames:
        sk = out_frames[0].skeleton
    else:
        sk = get_skeleton(skeleton if skeleton is not None else (ds.skeleton if ds else "coco17"))

    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    next_id = 1
    for pos, ((img, f_orig), f) in enumerate(zip(pairs, out_frames)):
        iid = _image_id(img["id"])
        img["id"] = iid
        if f.image_size is not None:
            img.setdefault("width", int(f.image_size[0]))
            img.setdefault("height", int(f.image_size[1]))
        if int(f.frame) != pos:
            img["posekit_frame"] = int(f.frame)
        else:
            img.pop("posekit_frame", None)
        if f.time is not None:
            img["posekit_time"] = float(f.time)
        else:
            img.pop("posekit_time", None)
        images.append(img)
        present = f.present
        ann_ids = ds.annotation_ids.get(iid) if ds is not None else None
        crowd = ds.iscrowd.get(iid) if ds is not None else None
        areas = ds.areas.get(iid) if ds is not None else None
        for n in range(len(f)):
            bbox = _xywh(f.box[n], f.xy[n], present[n])
            if ann_ids is not None and len(ann_ids) == len(f):
                aid = int(ann_ids[n])
            else:
                aid = next_id
            next_id = max(next_id, aid) + 1
            area = float(areas[n]) if areas is not None and len(areas) == len(f) else float(bbox[2]) * float(bbox[3])
            annotations.append(
                {
                    "id": aid,
                    "image_id": iid,
                    "category_id": int(category_id),
                    "keypoints": coco_keypoints(f.xy[n], f.state[n]),
                    "num_keypoints": int(present[n].sum()),
                    "bbox": bbox,
                    "area": _num(area),
                    "iscrowd": int(bool(crowd[n])) if crowd is not None and len(crowd) == len(f) else 0,
                    "score": _instance_score(f.box_score[n], f.score[n], present[n]),
                    "track_id": int(f.track_id[n]),
                    **_person_extras(f, n),
                }
            )
    category = {
        "id": int(category_id),
        "name": category_name,
        "supercategory": category_name,
        "keypoints": list(sk.keypoints),
        "skeleton": [[a + 1, b + 1] for a, b in sk.edges],
        "posekit_skeleton": sk.name,
    }
    doc: dict[str, Any] = {}
    if info is not None:
        doc["info"] = info
    if ds is not None and ds.licenses is not None:
        doc["licenses"] = ds.licenses
    doc.update({"images": images, "annotations": annotations, "categories": [category]})
    _dump(path, doc)


# ---------------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------------
def _is_num(v: Any) -> bool:
    return (type(v) is int) or (type(v) is float and math.isfinite(v))


def _is_id(v: Any) -> bool:
    return type(v) is int or type(v) is str


class _Ctx:
    def __init__(self, path: str | Path) -> None:
        self.path = path

    def fail(self, problem: str) -> InputError:
        return InputError(self.path, problem)


def _pick_category(ctx: _Ctx, categories: list[Any], category_id: int | None) -> dict[str, Any]:
    if category_id is not None:
        for c in categories:
            if c.get("id") == category_id:
                return c
        have = [c.get("id") for c in categories]
        raise ctx.fail(f"no category with id {category_id} in 'categories' (ids: {have})")
    kp = [c for c in categories if "keypoints" in c]
    if len(kp) == 1:
        return kp[0]
    if len(kp) > 1:
        ids = [c.get("id") for c in kp]
        raise ctx.fail(f"several categories list keypoints (ids {ids}); pass category_id= to choose one")
    if len(categories) == 1:
        return categories[0]
    raise ctx.fail("no category lists 'keypoints'; pass category_id= and skeleton=")


def _resolve_skeleton(ctx: _Ctx, cat: dict[str, Any], skeleton: str | Skeleton | None) -> Skeleton:
    label = f"category {cat.get('name', '?')!r} (id {cat.get('id')})"
    names = cat.get("keypoints")
    if skeleton is not None:
        sk = get_skeleton(skeleton)  # KeyError for an unknown id: a caller error, not a file error
        if isinstance(names, list) and len(names) != len(sk):
            raise ctx.fail(f"{label} lists {len(names)} keypoints but skeleton {sk.name!r} has {len(sk)}")
        return sk
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ctx.fail(f"{label} has no list of keypoint names; pass skeleton= (e.g. skeleton='coco17')")
    matches = [s for s in SKELETONS.values() if list(s.keypoints) == names]
    hint = cat.get("posekit_skeleton")
    for s in matches:
        if s.name == hint:
            return s
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ctx.fail(
            f"the keypoint names of {label} match several skeletons ({', '.join(s.name for s in matches)}); "
            "pass skeleton= to choose one"
        )
    raise ctx.fail(
        f"the {len(names)} keypoint names of {label} match no registered skeleton "
        f"(first names: {names[:3]}); pass skeleton= to read it with a known layout"
    )


def _float_field(ctx: _Ctx, a: dict[str, Any], key: str, length: int, label: str) -> np.ndarray | None:
    """An optional list of numbers/nulls of a given length → float64 with NaN for null."""
    v = a.get(key)
    if v is None:
        return None
    if not isinstance(v, list) or len(v) != length:
        got = f"{len(v)} values" if isinstance(v, list) else type(v).__name__
        raise ctx.fail(f"{label}: {key!r} has {got}, expected {length}")
    for j, x in enumerate(v):
        if x is not None and not _is_num(x):
            raise ctx.fail(f"{label}: {key!r} value {j} is {x!r}, expected a number")
    return np.array([np.nan if x is None else float(x) for x in v], dtype=np.float64)


@dataclass
class _Person:
    xy: np.ndarray
    score: np.ndarray
    state: np.ndarray
    z: np.ndarray | None
    world: np.ndarray | None
    box: np.ndarray
    box_score: float
    track_id: int
    ann_id: Any
    iscrowd: bool
    area: float


def _parse_person(ctx: _Ctx, a: dict[str, Any], k: int, label: str, *, results: bool) -> _Person:
    kps = a.get("keypoints")
    if not isinstance(kps, list):
        raise ctx.fail(f"{label}: 'keypoints' is missing or not a list")
    if len(kps) != 3 * k:
        raise ctx.fail(f"{label}: 'keypoints' has {len(kps)} values, expected 3×{k}={3 * k}")
    for j, v in enumerate(kps):
        if not _is_num(v):
            raise ctx.fail(f"{label}: 'keypoints' value {j} is {v!r}, expected a finite number")
    arr = np.asarray(kps, dtype=np.float64).reshape(k, 3)
    x, y, v = arr[:, 0], arr[:, 1], arr[:, 2]
    kscores = _float_field(ctx, a, "keypoint_scores", k, label)
    pstate = a.get("posekit_state")
    if pstate is not None:
        if not isinstance(pstate, list) or len(pstate) != k or not all(type(s) is int and 0 <= s <= 5 for s in pstate):
            raise ctx.fail(f"{label}: 'posekit_state' must be {k} integers in 0..5")
        state = np.asarray(pstate, dtype=np.uint8)
        if np.any((state == _MISSING) != (v == 0)):
            j = int(np.argmax((state == _MISSING) != (v == 0)))
            raise ctx.fail(f"{label}: 'posekit_state' disagrees with the visibility flag of keypoint {j}")
        score = kscores if kscores is not None else np.where(state != _MISSING, 1.0, 0.0)
    elif not results or np.isin(v, (0, 1, 2)).all():
        if not np.isin(v, (0, 1, 2)).all():
            j = int(np.argmax(~np.isin(v, (0, 1, 2))))
            raise ctx.fail(f"{label}: keypoint {j} has visibility flag {_num(v[j])}, expected 0, 1 or 2")
        state = np.where(v == 2, _VISIBLE, np.where(v == 1, _OCCLUDED, _MISSING)).astype(np.uint8)
        if kscores is not None:
            score = kscores
        else:
            fill = float(a["score"]) if results and _is_num(a.get("score")) else 1.0
            score = np.where(state != _MISSING, fill, 0.0)
    else:  # results whose third value is a per-keypoint confidence (e.g. mmpose)
        missing = (x == 0) & (y == 0) & (v == 0)
        state = np.where(missing, _MISSING, _VISIBLE).astype(np.uint8)
        score = kscores if kscores is not None else np.where(missing, 0.0, v)
    miss = state == _MISSING
    xy = np.stack([x, y], -1)
    xy[miss] = np.nan
    if kscores is None:
        score = np.where(miss, 0.0, score)
    z = _float_field(ctx, a, "posekit_z", k, label)
    w = _float_field(ctx, a, "posekit_world", 3 * k, label)
    world = None if w is None else w.reshape(k, 3)
    pbox = _float_field(ctx, a, "posekit_box", 4, label)
    bbox = a.get("bbox")
    if pbox is not None:
        box = pbox
    elif bbox is not None:
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(_is_num(b) for b in bbox):
            raise ctx.fail(f"{label}: 'bbox' must be 4 finite numbers [x, y, width, height], got {bbox!r}")
        bx, by, bw, bh = (float(b) for b in bbox)
        box = np.array([bx, by, bx + bw, by + bh])
        if bw == 0 and bh == 0 and miss.all():
            box = np.full(4, np.nan)
    else:
        box = np.full(4, np.nan)
        if not miss.all():
            box = np.concatenate([xy[~miss].min(0), xy[~miss].max(0)])
    if "posekit_box_score" in a:
        bs, key = a["posekit_box_score"], "posekit_box_score"
    else:
        bs, key = a.get("score", 1.0), "score"
    if bs is None and key == "posekit_box_score":
        box_score = float("nan")
    elif _is_num(bs):
        box_score = float(bs)
    else:
        raise ctx.fail(f"{label}: {key!r} is {bs!r}, expected a finite number")
    tid = a.get("track_id", -1)
    if type(tid) is not int:
        raise ctx.fail(f"{label}: 'track_id' is {tid!r}, expected an integer")
    crowd = a.get("iscrowd", 0)
    if crowd not in (0, 1) or type(crowd) is float:
        raise ctx.fail(f"{label}: 'iscrowd' is {crowd!r}, expected 0 or 1")
    area = a.get("area")
    if area is None:
        area_f = float((box[2] - box[0]) * (box[3] - box[1])) if np.all(np.isfinite(box)) else 0.0
    elif _is_num(area):
        area_f = float(area)
    else:
        raise ctx.fail(f"{label}: 'area' is {area!r}, expected a finite number")
    return _Person(xy, score, state, z, world, box, box_score, tid, a.get("id"), bool(crowd), area_f)


def _frame_from(sk: Skeleton, people: list[_Person], pos: int, img: dict[str, Any]) -> PoseFrame:
    k = len(sk)
    n = len(people)
    w, h = img.get("width"), img.get("height")
    size = (w, h) if type(w) is int and type(h) is int and w > 0 and h > 0 else None
    frame_idx = img.get("posekit_frame", pos)
    t = img.get("posekit_time")
    has_z = any(p.z is not None for p in people)
    has_w = any(p.world is not None for p in people)
    return PoseFrame(
        sk,
        np.stack([p.xy for p in people]) if n else np.zeros((0, k, 2)),
        np.stack([p.score for p in people]).astype(np.float32) if n else np.zeros((0, k), np.float32),
        np.stack([p.state for p in people]) if n else np.zeros((0, k), np.uint8),
        z=np.stack([p.z if p.z is not None else np.full(k, np.nan) for p in people]) if has_z else None,
        world=np.stack([p.world if p.world is not None else np.full((k, 3), np.nan) for p in people]) if has_w else None,
        box=np.stack([p.box for p in people]) if n else np.zeros((0, 4)),
        box_score=np.array([p.box_score for p in people], np.float32),
        track_id=np.array([p.track_id for p in people], np.int64),
        frame=int(frame_idx) if type(frame_idx) is int else pos,
        time=float(t) if _is_num(t) else None,
        image_size=size,
    )


def _check_images(ctx: _Ctx, images: Any) -> dict[Any, dict[str, Any]]:
    if not isinstance(images, list):
        raise ctx.fail("'images' must be a list")
    out: dict[Any, dict[str, Any]] = {}
    for j, img in enumerate(images):
        if not isinstance(img, dict) or "id" not in img:
            raise ctx.fail(f"image entry {j} has no 'id'")
        iid = img["id"]
        if not _is_id(iid):
            raise ctx.fail(f"image entry {j}: 'id' is {iid!r}, expected an integer")
        if iid in out:
            raise ctx.fail(f"image id {iid} appears twice in 'images'")
        for key in ("width", "height"):
            if key in img and not (type(img[key]) is int and img[key] > 0):
                raise ctx.fail(f"image id {iid}: {key!r} is {img[key]!r}, expected a positive integer")
        out[iid] = img
    return out


def read_coco(
    path: str | Path, *, skeleton: str | Skeleton | None = None, category_id: int | None = None
) -> CocoDataset:
    """Read a COCO keypoint file (``images``, ``annotations``, ``categories``).

    Args:
        path: the JSON file.
        skeleton: the layout to read the keypoints with; by default the registered skeleton whose
            keypoint names equal the category's ``keypoints`` list (never chosen by count).
        category_id: the keypoint category to read; by default the only category that lists
            keypoints. Annotations of other categories are skipped.

    Returns:
        A :class:`CocoDataset`. Flags map v=0 → MISSING (NaN coordinates), v=1 → OCCLUDED, v=2 →
        VISIBLE, unless the annotation carries ``posekit_state``. Keypoint scores are 1 for labelled
        keypoints and 0 otherwise unless ``keypoint_scores`` is given; ``box_score`` is
        ``posekit_box_score``, else ``score``, else 1.

    Raises:
        InputError: the file is missing, empty or not JSON; a top-level key is missing; an
            annotation has the wrong number of keypoint values, a non-number where a number is
            needed or an unknown image id; ids repeat; or the skeleton cannot be determined.
    """
    ctx = _Ctx(path)
    doc = load_json_file(path)
    if isinstance(doc, list):
        raise ctx.fail("holds a JSON list (a COCO results file?), expected an object with 'images', "
                       "'annotations' and 'categories'; use read_coco_results for results")  # fmt: skip
    if not isinstance(doc, dict):
        raise ctx.fail(f"holds a JSON {type(doc).__name__}, expected an object with 'images', 'annotations' and 'categories'")
    missing = [key for key in ("images", "annotations", "categories") if key not in doc]
    if missing:
        raise ctx.fail(f"missing top-level key{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}")
    cats = doc["categories"]
    if not isinstance(cats, list) or not cats or not all(isinstance(c, dict) and "id" in c for c in cats):
        raise ctx.fail("'categories' must be a non-empty list of objects with an 'id'")
    cat = _pick_category(ctx, cats, category_id)
    sk = _resolve_skeleton(ctx, cat, skeleton)
    k = len(sk)
    images = _check_images(ctx, doc["images"])
    anns = doc["annotations"]
    if not isinstance(anns, list):
        raise ctx.fail("'annotations' must be a list")
    people: dict[Any, list[_Person]] = {iid: [] for iid in images}
    seen: set[Any] = set()
    for j, a in enumerate(anns):
        if not isinstance(a, dict):
            raise ctx.fail(f"annotation {j} is not an object")
        if "id" not in a or not _is_id(a["id"]):
            raise ctx.fail(f"annotation {j} has no integer 'id'")
        label = f"annotation id {a['id']}"
        if a.get("category_id") != cat["id"]:
            if "category_id" not in a:
                raise ctx.fail(f"{label} has no 'category_id'")
            continue
        if a["id"] in seen:
            raise ctx.fail(f"annotation id {a['id']} appears twice")
        seen.add(a["id"])
        iid = a.get("image_id")
        if iid is None:
            raise ctx.fail(f"{label} has no 'image_id'")
        if iid not in images:
            raise ctx.fail(f"{label} refers to image id {iid!r}, which is not in 'images'")
        people[iid].append(_parse_person(ctx, a, k, label, results=False))
    return _dataset(ctx, sk, int(cat["id"]), images, people, cats, doc)


def _dataset(ctx: _Ctx, sk: Skeleton, cat_id: int, images: dict[Any, dict[str, Any]],
             people: dict[Any, list[_Person]], cats: list[dict[str, Any]], doc: dict[str, Any]) -> CocoDataset:  # fmt: skip
    frames, ann_ids, crowd, areas = {}, {}, {}, {}
    for pos, (iid, img) in enumerate(images.items()):
        ps = people[iid]
        try:
            frames[iid] = _frame_from(sk, ps, pos, img)
        except ValidationError as exc:
            raise ctx.fail(f"image id {iid}: {exc}") from None
        ann_ids[iid] = np.array([p.ann_id for p in ps], dtype=np.int64 if all(type(p.ann_id) is int for p in ps) else object)
        crowd[iid] = np.array([p.iscrowd for p in ps], dtype=bool)
        areas[iid] = np.array([p.area for p in ps], dtype=np.float64)
    return CocoDataset(
        skeleton=sk, category_id=cat_id, images=images, frames=frames, annotation_ids=ann_ids, iscrowd=crowd,
        areas=areas, categories=cats, path=str(ctx.path), info=doc.get("info"), licenses=doc.get("licenses"),
    )  # fmt: skip


def read_coco_results(
    path: str | Path,
    gt: CocoDataset | None = None,
    *,
    skeleton: str | Skeleton | None = None,
    category_id: int | None = None,
) -> CocoDataset:
    """Read a COCO keypoint results file: a JSON list of ``{image_id, category_id, keypoints, score}``.

    Args:
        path: the JSON file.
        gt: the ground truth the results belong to: its images (sizes, order) and skeleton are used,
            every image gets a frame (empty without detections), and a result for an image not in it
            is an error.
        skeleton: the layout; default ``gt.skeleton``, else COCO-17 (the results format's own layout).
        category_id: keep only results of this category (default: ``gt.category_id``, else all).

    Returns:
        A :class:`CocoDataset` whose ``annotation_ids`` are positions in the results list. The third
        value of each keypoint is read as a COCO flag when all of an entry's values are 0, 1 or 2
        (v=0 → MISSING; keypoint score = the entry's ``score``); otherwise as a per-keypoint
        confidence (state VISIBLE, except ``0, 0, 0`` → MISSING). posekit extras
        (``posekit_state``, ``keypoint_scores``, ``posekit_box_score``) take precedence.

    Raises:
        InputError: as :func:`read_coco`, plus a results entry for an image unknown to ``gt``.
    """
    ctx = _Ctx(path)
    doc = load_json_file(path)
    if isinstance(doc, dict):
        hint = "; this looks like a COCO dataset file, use read_coco" if "annotations" in doc else ""
        raise ctx.fail(f"holds a JSON object, expected a list of results{hint}")
    if not isinstance(doc, list):
        raise ctx.fail(f"holds a JSON {type(doc).__name__}, expected a list of results")
    try:
        sk = get_skeleton(skeleton if skeleton is not None else (gt.skeleton if gt is not None else "coco17"))
    except KeyError as exc:
        raise ctx.fail(exc.args[0]) from None
    k = len(sk)
    cat_id = category_id if category_id is not None else (gt.category_id if gt is not None else None)
    images: dict[Any, dict[str, Any]] = {iid: img for iid, img in gt.images.items()} if gt is not None else {}
    people: dict[Any, list[_Person]] = {iid: [] for iid in images}
    for j, a in enumerate(doc):
        label = f"result {j}"
        if not isinstance(a, dict):
            raise ctx.fail(f"{label} is not an object")
        if cat_id is not None and a.get("category_id", cat_id) != cat_id:
            continue
        iid = a.get("image_id")
        if iid is None or not _is_id(iid):
            raise ctx.fail(f"{label}: 'image_id' is {iid!r}, expected an integer")
        if "score" not in a:
            raise ctx.fail(f"{label} has no 'score'")
        if not _is_num(a["score"]) or not math.isfinite(float(a["score"])):
            raise ctx.fail(f"{label}: 'score' is {a['score']!r}, expected a finite number")
        if iid not in images:
            if gt is not None:
                raise ctx.fail(f"{label} refers to image id {iid!r}, which is not in the ground truth")
            images[iid] = {"id": iid}
            people[iid] = []
        p = _parse_person(ctx, {**a, "id": j}, k, label, results=True)
        people[iid].append(p)
    cats = gt.categories if gt is not None else [
        {"id": cat_id if cat_id is not None else 1, "name": "person", "keypoints": list(sk.keypoints)}
    ]  # fmt: skip
    return _dataset(ctx, sk, cat_id if cat_id is not None else 1, images, people, cats, {})
