"""COCO object-keypoint-similarity AP/AR through pycocotools.

The numbers are pycocotools' own (``COCOeval(iouType="keypoints")``), with the per-keypoint OKS sigmas
of the skeleton (``COCOeval.params.kpt_oks_sigmas``), so any layout with sigmas (COCO-17, CrowdPose-14,
hand-21, …) can be scored. Ground truth and predictions may be files or posekit objects:

* :func:`coco_eval_files` runs pycocotools directly on a ground-truth file and a results file, after
  posekit has checked both (the numbers are exactly those of a plain pycocotools run).
* :func:`oks_ap` accepts files, :class:`~posekit.io.coco.CocoDataset` objects, ``image_id →
  PoseFrame`` mappings or lists of COCO result dicts, and builds the pycocotools objects in memory.
  Ground-truth ``area`` and ``iscrowd`` come from a :class:`CocoDataset` when given (COCO's ``area``
  is the segment area); for a plain mapping of frames ``area`` is the box area and nobody is a crowd.
  Each prediction's ``score`` is ``box_score × mean score of its present keypoints`` (as
  :func:`~posekit.io.coco.frame_to_coco_results`), its ``bbox`` the frame's box; MISSING predicted
  keypoints are written as ``0, 0, 0`` as in any COCO results file.
* :class:`KeypointAP` accumulates frames one image at a time.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.poses import PoseFrame
from posekit.skeletons import Skeleton, get_skeleton

__all__ = ["STAT_NAMES", "coco_eval_files", "oks_ap", "KeypointAP"]

#: Names of pycocotools' ten keypoint summary numbers, in ``COCOeval.stats`` order.
STAT_NAMES: tuple[str, ...] = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")


def _sigmas(skeleton: Skeleton, sigmas: Any) -> np.ndarray:
    if sigmas is None:
        if skeleton.sigmas is None:
            raise ValidationError(f"skeleton {skeleton.name!r} has no OKS sigmas; pass sigmas= explicitly")
        return skeleton.sigmas_array.copy()
    s = np.asarray(sigmas, dtype=np.float64)
    if s.shape != (len(skeleton),) or not np.all(np.isfinite(s) & (s > 0)):
        raise ValidationError(f"'sigmas' must be {len(skeleton)} positive numbers for {skeleton.name!r}, got shape {s.shape}")
    return s


def _run(gt_coco: Any, results: Any, sigmas: np.ndarray) -> dict[str, float]:
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt_coco.loadRes(results)
        ev = COCOeval(gt_coco, dt, "keypoints")
        ev.params.kpt_oks_sigmas = sigmas
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {name: float(v) for name, v in zip(STAT_NAMES, ev.stats)}


def coco_eval_files(
    gt_path: str | Path,
    results_path: str | Path,
    *,
    skeleton: str | Skeleton | None = None,
    sigmas: Any = None,
) -> dict[str, float]:
    """OKS AP/AR of a COCO results file against a COCO ground-truth file, by pycocotools on the files.

    Both files are first read by posekit (:func:`~posekit.io.coco.read_coco`,
    :func:`~posekit.io.coco.read_coco_results`), so a malformed file, a result for an image that is not
    in the ground truth, a wrong keypoint count or an empty results list raise a clear error instead of
    a pycocotools assertion.

    Args:
        gt_path: the ground-truth keypoint file.
        results_path: the results file (a JSON list).
        skeleton: the ground truth's layout (default: found from the category's keypoint names).
        sigmas: ``(K,)`` OKS sigmas (default: the skeleton's).

    Returns:
        ``{"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"}`` as pycocotools
        reports them (fractions; -1 where pycocotools has nothing to average).

    Raises:
        InputError: a file is missing, malformed, inconsistent with the other, or holds no results.
        ValidationError: the layout has no sigmas and none were given.
    """
    from pycocotools.coco import COCO

    from posekit.io.coco import read_coco, read_coco_results

    gt = read_coco(gt_path, skeleton=skeleton)
    pred = read_coco_results(results_path, gt)
    if pred.num_annotations == 0:
        raise InputError(results_path, f"holds no predictions for category {gt.category_id}")
    if gt.num_annotations == 0:
        raise InputError(gt_path, "holds no annotated people")
    s = _sigmas(gt.skeleton, sigmas)
    from posekit.io.posekit_json import load_json_file

    for j, r in enumerate(load_json_file(results_path)):  # pycocotools ranks by 'score': it must be a number
        sc = r.get("score")
        if type(sc) not in (int, float) or not math.isfinite(sc):
            raise InputError(results_path, f"result {j}: 'score' is {sc!r}, expected a finite number")
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            coco = COCO(str(gt_path))
        except Exception as exc:  # noqa: BLE001 - pycocotools raises bare assertions
            raise InputError(gt_path, f"pycocotools cannot read it: {exc!r}") from None
    for a in coco.dataset.get("annotations", []):
        if "num_keypoints" not in a:
            raise InputError(gt_path, f"annotation id {a.get('id')} has no 'num_keypoints' (pycocotools needs it)")
    return _run(coco, str(results_path), s)


# ---------------------------------------------------------------------------------------------------
# posekit objects → pycocotools
# ---------------------------------------------------------------------------------------------------
def _flat(xy: np.ndarray, state: np.ndarray, *, gt: bool) -> list[float]:
    out: list[float] = []
    for (x, y), s in zip(xy.tolist(), state.tolist()):
        if s == 0:
            out += [0.0, 0.0, 0.0]
        else:
            out += [x, y, 2.0 if (s == 1 or not gt) else 1.0]
    return out


def _xywh(box: np.ndarray) -> list[float]:
    if not np.all(np.isfinite(box)):
        return [0.0, 0.0, 0.0, 0.0]
    x0, y0, x1, y1 = (float(v) for v in box)
    return [x0, y0, x1 - x0, y1 - y0]


def _gt_dataset(gt: Any, skeleton: Skeleton | None) -> tuple[Skeleton, int, dict[str, Any]]:
    """A pycocotools dataset dict from a CocoDataset or an ``image_id → PoseFrame`` mapping."""
    from posekit.io.coco import CocoDataset

    if isinstance(gt, CocoDataset):
        frames, images, cat_id = gt.frames, gt.images, gt.category_id
        areas, crowd, ann_ids = gt.areas, gt.iscrowd, gt.annotation_ids
        sk = gt.skeleton
    elif isinstance(gt, Mapping):
        frames = dict(gt)
        images = {iid: {"id": iid} for iid in frames}
        cat_id, areas, crowd, ann_ids = 1, None, None, None
        sks = {f.skeleton.name for f in frames.values() if isinstance(f, PoseFrame)}
        if len(sks) > 1:
            raise ValidationError(f"ground-truth frames mix skeletons {sorted(sks)}")
        sk = get_skeleton(next(iter(sks))) if sks else (skeleton or get_skeleton("coco17"))
    else:
        raise ValidationError(f"ground truth must be a path, a CocoDataset or a mapping image_id → PoseFrame, got {type(gt).__name__}")
    if skeleton is not None and skeleton.name != sk.name:
        raise ValidationError(f"ground truth is in the {sk.name!r} layout, not {skeleton.name!r}")
    annotations = []
    next_id = 1
    for iid, f in frames.items():
        if not isinstance(f, PoseFrame):
            raise ValidationError(f"ground truth of image {iid!r} is a {type(f).__name__}, expected a PoseFrame")
        if f.skeleton.name != sk.name:
            raise ValidationError(f"ground truth of image {iid!r} is in the {f.skeleton.name!r} layout, expected {sk.name!r}")
        present = f.present
        for n in range(len(f)):
            box = _xywh(f.box[n])
            if ann_ids is not None and len(ann_ids[iid]) == len(f) and isinstance(ann_ids[iid][n], (int, np.integer)):
                aid = int(ann_ids[iid][n])
            else:
                aid = next_id
            next_id = max(next_id, aid) + 1
            area = float(areas[iid][n]) if areas is not None else box[2] * box[3]
            annotations.append({
                "id": aid, "image_id": iid, "category_id": cat_id,
                "keypoints": _flat(f.xy[n], f.state[n], gt=True),
                "num_keypoints": int(present[n].sum()), "bbox": box, "area": area,
                "iscrowd": int(bool(crowd[iid][n])) if crowd is not None else 0,
            })  # fmt: skip
    if not annotations:
        raise ValidationError("the ground truth holds no annotated people")
    if not any(a["num_keypoints"] > 0 and not a["iscrowd"] for a in annotations):
        raise ValidationError("no ground-truth person has a labelled keypoint; AP is undefined")
    ds = {
        "images": [dict(img, id=iid) for iid, img in images.items()],
        "annotations": annotations,
        "categories": [{"id": cat_id, "name": "person", "keypoints": list(sk.keypoints),
                        "skeleton": [[a + 1, b + 1] for a, b in sk.edges]}],
    }  # fmt: skip
    return sk, cat_id, ds


def _frame_results(f: PoseFrame, iid: Any, cat_id: int) -> list[dict[str, Any]]:
    out = []
    present = f.present
    for n in range(len(f)):
        s = f.score[n][present[n]].astype(np.float64)
        s = s[np.isfinite(s)]
        bs = float(f.box_score[n])
        score = (bs if math.isfinite(bs) else 1.0) * float(s.mean()) if s.size else 0.0
        if not math.isfinite(score):
            raise ValidationError(f"prediction {n} of image {iid!r} has a non-finite score")
        out.append({"image_id": iid, "category_id": cat_id, "keypoints": _flat(f.xy[n], f.state[n], gt=False),
                    "score": score, "bbox": _xywh(f.box[n])})  # fmt: skip
    return out


def _pred_results(pred: Any, sk: Skeleton, cat_id: int, image_ids: set[Any], convert: bool) -> list[dict[str, Any]]:
    from posekit.io.coco import CocoDataset

    from .keypoints2d import _as_layout

    if isinstance(pred, CocoDataset):
        pred = pred.frames
    if isinstance(pred, Mapping):
        out: list[dict[str, Any]] = []
        for iid, f in pred.items():
            if not isinstance(f, PoseFrame):
                raise ValidationError(f"predictions of image {iid!r} are a {type(f).__name__}, expected a PoseFrame")
            if iid not in image_ids:
                raise ValidationError(f"predictions for image id {iid!r}, which is not in the ground truth")
            out += _frame_results(_as_layout(f, sk, convert), iid, cat_id)
        return out
    if isinstance(pred, (list, tuple)):
        out = []
        for j, r in enumerate(pred):
            if not isinstance(r, dict) or "keypoints" not in r or "image_id" not in r or "score" not in r:
                raise ValidationError(f"result {j} is not a COCO keypoint result (image_id, keypoints, score)")
            if r["image_id"] not in image_ids:
                raise ValidationError(f"result {j} is for image id {r['image_id']!r}, which is not in the ground truth")
            kp = np.asarray(r["keypoints"], dtype=np.float64)
            if kp.shape != (3 * len(sk),):
                raise ValidationError(
                    f"result {j} has {kp.size} keypoint values, expected 3×{len(sk)}={3 * len(sk)} for {sk.name!r}"
                )
            if not np.all(np.isfinite(kp)) or not math.isfinite(float(r["score"])):
                raise ValidationError(f"result {j} holds a non-finite number")
            if r.get("category_id", cat_id) == cat_id:
                out.append(copy.deepcopy(r) | {"category_id": cat_id})
        return out
    raise ValidationError(
        f"predictions must be a path, a CocoDataset, a mapping image_id → PoseFrame or a list of results, got {type(pred).__name__}"
    )


def oks_ap(
    gt: Any,
    pred: Any,
    *,
    skeleton: str | Skeleton | None = None,
    sigmas: Any = None,
    convert: bool = False,
) -> dict[str, float]:
    """OKS AP/AR by pycocotools for ground truth and predictions given as files or posekit objects.

    Args:
        gt: a COCO ground-truth file, a :class:`~posekit.io.coco.CocoDataset`, or a mapping
            ``image_id → PoseFrame``.
        pred: a COCO results file, a :class:`CocoDataset` (e.g. from ``read_coco_results``), a mapping
            ``image_id → PoseFrame``, or a list of COCO result dicts.
        skeleton: the expected ground-truth layout (checked).
        sigmas: ``(K,)`` OKS sigmas (default: the skeleton's).
        convert: predictions in another layout are converted through the registered conversion
            (e.g. BlazePose-33 → COCO-17); otherwise they are an error.

    Returns:
        pycocotools' ten summary numbers (see :data:`STAT_NAMES`).

    Raises:
        InputError: a file is bad. ValidationError: predictions for unknown images, another layout,
        wrong keypoint counts, non-finite numbers, no predictions or no ground truth.
    """
    if isinstance(gt, (str, Path)) and isinstance(pred, (str, Path)):
        return coco_eval_files(gt, pred, skeleton=skeleton, sigmas=sigmas)
    from pycocotools.coco import COCO

    from posekit.io.coco import read_coco, read_coco_results

    sk_req = None if skeleton is None else get_skeleton(skeleton)
    if isinstance(gt, (str, Path)):
        gt = read_coco(gt, skeleton=sk_req)
    if isinstance(pred, (str, Path)):
        from posekit.io.coco import CocoDataset

        pred = read_coco_results(pred, gt if isinstance(gt, CocoDataset) else None, skeleton=sk_req)
    sk, cat_id, ds = _gt_dataset(gt, sk_req)
    s = _sigmas(sk, sigmas)
    results = _pred_results(pred, sk, cat_id, {img["id"] for img in ds["images"]}, convert)
    if not results:
        raise ValidationError("there are no predictions to evaluate")
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = ds
        coco.createIndex()
    return _run(coco, results, s)


class KeypointAP:
    """OKS AP/AR accumulator: add images one at a time, compute with pycocotools at the end.

    Args:
        sigmas: ``(K,)`` OKS sigmas (default: the ground truth's skeleton's).
        convert: convert predictions in another layout through the registered conversion.

    Example:
        >>> ap = KeypointAP()
        >>> for iid in gt_frames:                                    # doctest: +SKIP
        ...     ap.update(gt_frames[iid], pred_frames[iid], image_id=iid)
        >>> ap.compute()["AP"]                                       # doctest: +SKIP
    """

    def __init__(self, *, sigmas: Any = None, convert: bool = False) -> None:
        self.sigmas = sigmas
        self.convert = bool(convert)
        self.reset()

    def reset(self) -> "KeypointAP":
        """Forget everything added."""
        self._gt: dict[Any, PoseFrame] = {}
        self._pred: dict[Any, PoseFrame] = {}
        self._area: dict[Any, np.ndarray] = {}
        self._crowd: dict[Any, np.ndarray] = {}
        return self

    def update(
        self,
        gt: PoseFrame,
        pred: PoseFrame,
        *,
        image_id: Any = None,
        area: Sequence[float] | np.ndarray | None = None,
        iscrowd: Sequence[bool] | np.ndarray | None = None,
    ) -> "KeypointAP":
        """Add one image.

        Args:
            gt: its ground-truth people.
            pred: its predicted people.
            image_id: an id (default: the number of images added so far); must be new.
            area: ``(N_gt,)`` object areas in pixels² (default: box areas).
            iscrowd: ``(N_gt,)`` crowd flags (default: none).

        Returns:
            ``self``.
        """
        iid = len(self._gt) if image_id is None else image_id
        if iid in self._gt:
            raise ValidationError(f"image id {iid!r} was already added")
        if not isinstance(gt, PoseFrame) or not isinstance(pred, PoseFrame):
            raise ValidationError("update() takes a ground-truth PoseFrame and a predicted PoseFrame")
        n = len(gt)
        b = gt.box
        a = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) if area is None else np.asarray(area, dtype=np.float64)
        c = np.zeros(n, bool) if iscrowd is None else np.asarray(iscrowd, bool)
        if a.shape != (n,) or c.shape != (n,):
            raise ValidationError(f"'area' and 'iscrowd' must have shape ({n},)")
        self._gt[iid], self._pred[iid] = gt, pred
        self._area[iid] = np.nan_to_num(a, nan=0.0)
        self._crowd[iid] = c
        return self

    def compute(self) -> dict[str, float]:
        """pycocotools' ten summary numbers over everything added."""
        from posekit.io.coco import CocoDataset

        if not self._gt:
            raise ValidationError("nothing to evaluate: no image was added")
        sks = {f.skeleton.name for f in self._gt.values()}
        if len(sks) > 1:
            raise ValidationError(f"ground-truth frames mix skeletons {sorted(sks)}")
        sk = next(iter(self._gt.values())).skeleton
        ds = CocoDataset(
            skeleton=sk, category_id=1, images={i: {"id": i} for i in self._gt}, frames=self._gt,
            annotation_ids={i: np.zeros(0, np.int64) for i in self._gt},  # no ids: numbered in order
            iscrowd=self._crowd, areas=self._area,
        )  # fmt: skip
        return oks_ap(ds, self._pred, sigmas=self.sigmas, convert=self.convert)
