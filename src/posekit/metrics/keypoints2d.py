"""2D keypoint accuracy: PCK, PCKh, mean error, NME and OKS, as plain functions and accumulators.

Conventions (all coordinates in pixels):

* Functions take ``pred`` and ``gt`` of shape ``(N, K, 2)`` and an explicit boolean ``mask (N, K)`` of
  the pairs to evaluate (``None`` = all). Ground truth must be finite under the mask. A non-finite
  prediction under the mask is an error unless the function is told to count it as a miss
  (``missing="miss"``); MISSING keypoints are never read as ``(0, 0)``.
* A keypoint is correct for PCK when its distance is strictly below ``alpha × norm`` (as mmpose's
  ``keypoint_pck_accuracy``). Scores are pooled over all evaluated (sample, keypoint) pairs, which equals
  the per-keypoint scores weighted by their counts (as MPII's PCKh "mean").
* Normalisers, from the ground truth:

  - ``box``: the longer side of the person's box (``max(x1 - x0, y1 - y0)``), pixels (mmpose's
    ``bbox`` normalisation; also the hand NME normaliser).
  - ``torso``: distance from the left shoulder to the right hip (mmpose / JHMDB torso), pixels.
  - ``head`` (PCKh): an explicit head size per person is preferred (MPII's is 0.6 × the diagonal of the
    annotated head box). :func:`head_segment_length` gives the head-top-to-neck distance for layouts
    that have both keypoints, a documented proxy, not MPII's official head size.
  - ``interocular`` (face NME): distance between the outer eye corners (:data:`OUTER_EYE_CORNERS`).

Accumulators (:class:`PCK`, :class:`PCKh`, :class:`KeypointError`, :class:`NME`) take whole frames: for
each image, ground-truth people (not crowd, at least one present keypoint) are matched one-to-one to
predicted people by the Hungarian method on the mean keypoint distance over commonly present keypoints
divided by the ground truth's box size; pairs whose cost exceeds ``match_threshold`` stay unmatched.
An unmatched ground-truth person, and a MISSING predicted keypoint of a matched person, count as misses
for PCK and as "missing" (not as an error value) for the mean error and NME. A ground-truth person whose
normaliser is undefined (e.g. no left shoulder for the torso size) is not evaluated and is counted in
``skipped``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.errors import ValidationError
from posekit.poses import PoseFrame
from posekit.skeletons import Skeleton, get_conversion, get_skeleton

from ._validate import KeypointScore, as_mask, as_points, check_norm, check_pair, pooled

__all__ = [
    "OUTER_EYE_CORNERS",
    "keypoint_distances",
    "pck",
    "pckh",
    "mean_keypoint_error",
    "nme",
    "oks",
    "box_size",
    "torso_size",
    "head_segment_length",
    "interocular_distance",
    "match_people",
    "PCK",
    "PCKh",
    "KeypointError",
    "NME",
]

#: Outer eye corners (the two keypoint indices) per face layout: the MediaPipe face mesh's vertices 33
#: and 263; the 68-point markup's 36 and 45 (300W); WFLW's 60 and 72; COFW's 8 and 9; LaPa's 66 and 79
#: (the indices mmpose's face datasets use for their inter-ocular NME). Layouts not listed are looked up by keypoint
#: names (``right_eye_outer`` / ``left_eye_outer``); others need an explicit normaliser.
OUTER_EYE_CORNERS: dict[str, tuple[int, int]] = {
    "face468": (33, 263),
    "face68": (36, 45),
    "wflw98": (60, 72),
    "cofw29": (8, 9),
    "lapa106": (66, 79),
}


# ---------------------------------------------------------------------------------------------------
# normalisers
# ---------------------------------------------------------------------------------------------------
def box_size(box: Any) -> np.ndarray:
    """Longer side of each box.

    Args:
        box: ``(N, 4)`` ``x0, y0, x1, y1`` pixels.

    Returns:
        ``(N,)`` pixels (NaN where the box is NaN).
    """
    b = np.asarray(box, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValidationError(f"Expected 'box' to have shape (?, 4), but got {b.shape}")
    return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])


def _named(skeleton: Skeleton, *names: str) -> int | None:
    for n in names:
        if n in skeleton.keypoints:
            return skeleton.index(n)
    return None


def _segment(xy: Any, skeleton: str | Skeleton, a: int, b: int) -> np.ndarray:
    sk = get_skeleton(skeleton)
    p = as_points("xy", xy, dims=(2, 3))
    if p.shape[1] != len(sk):
        raise ValidationError(f"'xy' has {p.shape[1]} keypoints, skeleton {sk.name!r} has {len(sk)}")
    return np.linalg.norm(p[:, a] - p[:, b], axis=-1)


def torso_size(xy: Any, skeleton: str | Skeleton) -> np.ndarray:
    """Distance from the left shoulder to the right hip, per person.

    Args:
        xy: ``(N, K, 2)`` pixels (or ``(N, K, 3)``).
        skeleton: layout with keypoints ``left_shoulder`` and ``right_hip``.

    Returns:
        ``(N,)`` in the units of ``xy``; NaN where either keypoint is missing.

    Raises:
        ValidationError: the layout has no left shoulder or right hip.
    """
    sk = get_skeleton(skeleton)
    a, b = _named(sk, "left_shoulder"), _named(sk, "right_hip")
    if a is None or b is None:
        raise ValidationError(f"skeleton {sk.name!r} has no 'left_shoulder'/'right_hip'; torso size is undefined")
    return _segment(xy, sk, a, b)


def head_segment_length(xy: Any, skeleton: str | Skeleton) -> np.ndarray:
    """Head-top-to-neck distance per person: a head-size proxy for PCKh.

    This is not MPII's official head size (0.6 × the head-box diagonal); pass that explicitly when the
    annotation has it.

    Args:
        xy: ``(N, K, 2)`` pixels.
        skeleton: layout with ``head_top`` and ``upper_neck`` or ``neck``.

    Returns:
        ``(N,)`` pixels; NaN where either keypoint is missing.

    Raises:
        ValidationError: the layout has no head top or neck.
    """
    sk = get_skeleton(skeleton)
    a, b = _named(sk, "head_top"), _named(sk, "upper_neck", "neck")
    if a is None or b is None:
        raise ValidationError(
            f"skeleton {sk.name!r} has no 'head_top' and 'upper_neck'/'neck' keypoints; pass head sizes explicitly"
        )
    return _segment(xy, sk, a, b)


def interocular_distance(xy: Any, skeleton: str | Skeleton) -> np.ndarray:
    """Distance between the outer eye corners per face (the NME normaliser for faces).

    Args:
        xy: ``(N, K, 2)`` pixels.
        skeleton: a face layout listed in :data:`OUTER_EYE_CORNERS`, or one with keypoints named
            ``right_eye_outer`` and ``left_eye_outer``.

    Returns:
        ``(N,)`` pixels; NaN where a corner is missing.

    Raises:
        ValidationError: the outer eye corners of the layout are not known.
    """
    sk = get_skeleton(skeleton)
    pair = OUTER_EYE_CORNERS.get(sk.name)
    if pair is None:
        a, b = _named(sk, "right_eye_outer"), _named(sk, "left_eye_outer")
        if a is None or b is None:
            raise ValidationError(
                f"the outer eye corners of skeleton {sk.name!r} are not known; add them to "
                "posekit.metrics.OUTER_EYE_CORNERS or pass the normaliser explicitly"
            )
        pair = (a, b)
    return _segment(xy, sk, *pair)


# ---------------------------------------------------------------------------------------------------
# functions
# ---------------------------------------------------------------------------------------------------
def keypoint_distances(pred: Any, gt: Any, mask: Any = None, norm: Any = None) -> np.ndarray:
    """Euclidean distance of each predicted keypoint to its ground truth.

    Args:
        pred: ``(N, K, D)`` predictions (pixels, or metres in 3D).
        gt: ``(N, K, D)`` ground truth.
        mask: ``(N, K)`` bool pairs to evaluate (``None`` = all).
        norm: optional ``(N,)`` per-sample normaliser (distances are divided by it).

    Returns:
        ``(N, K)`` distances (in units of the input, or of ``norm``); NaN outside the mask.

    Raises:
        ValidationError: see :func:`~posekit.metrics._validate.check_pair`.
    """
    p, g, m, _ = check_pair(pred, gt, mask)
    d = np.where(m, np.linalg.norm(np.where(m[..., None], p - g, 0.0), axis=-1), np.nan)
    if norm is not None:
        d = d / check_norm("norm", norm, len(p), m.any(1))[:, None]
    return d


def pck(pred: Any, gt: Any, mask: Any, norm: Any, alpha: float = 0.2, *, missing: str = "error") -> KeypointScore:
    """Percentage of correct keypoints: distance < ``alpha × norm``.

    Args:
        pred: ``(N, K, 2)`` predictions, pixels.
        gt: ``(N, K, 2)`` ground truth, pixels.
        mask: ``(N, K)`` bool pairs to evaluate (``None`` = all).
        norm: ``(N,)`` per-sample normaliser, pixels (e.g. :func:`box_size`, :func:`torso_size`).
        alpha: threshold as a fraction of ``norm``.
        missing: ``"error"``: a non-finite prediction under the mask raises; ``"miss"``: it counts as
            incorrect.

    Returns:
        :class:`KeypointScore` with fractions in [0, 1].
    """
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValidationError(f"'alpha' must be a positive number, got {alpha!r}")
    p, g, m, ok = check_pair(pred, gt, mask, dims=(2,), missing=missing)
    nrm = check_norm("norm", norm, len(p), m.any(1))
    with np.errstate(invalid="ignore"):
        d = np.linalg.norm(np.where((m & ok)[..., None], p - g, np.inf), axis=-1)
        correct = (d < alpha * nrm[:, None]) & ok
    return pooled(correct.astype(np.float64), m)


def pckh(pred: Any, gt: Any, mask: Any, head_size: Any, alpha: float = 0.5, *, missing: str = "error") -> KeypointScore:
    """PCKh@α: PCK normalised by head size (MPII: α = 0.5, head size = 0.6 × head-box diagonal).

    Args:
        pred: ``(N, K, 2)`` pixels.
        gt: ``(N, K, 2)`` pixels.
        mask: ``(N, K)`` bool.
        head_size: ``(N,)`` pixels, explicit (see :func:`head_segment_length` for a proxy).
        alpha: threshold as a fraction of the head size.
        missing: as :func:`pck`.
    """
    return pck(pred, gt, mask, head_size, alpha, missing=missing)


def mean_keypoint_error(pred: Any, gt: Any, mask: Any = None) -> KeypointScore:
    """Mean Euclidean keypoint error (end-point error), in the units of the input (pixels in 2D).

    Args:
        pred: ``(N, K, D)``.
        gt: ``(N, K, D)``.
        mask: ``(N, K)`` bool (``None`` = all). Predictions must be finite under it.
    """
    d = keypoint_distances(pred, gt, mask)
    return pooled(np.nan_to_num(d), ~np.isnan(d))


def nme(pred: Any, gt: Any, mask: Any, norm: Any) -> KeypointScore:
    """Normalised mean error: keypoint distance divided by a per-sample normaliser, pooled.

    Faces: ``norm`` = :func:`interocular_distance` (outer eye corners); hands: :func:`box_size`.

    Args:
        pred: ``(N, K, 2)`` pixels.
        gt: ``(N, K, 2)`` pixels.
        mask: ``(N, K)`` bool (``None`` = all).
        norm: ``(N,)`` pixels.

    Returns:
        :class:`KeypointScore` (a fraction of the normaliser; multiply by 100 for percent).
    """
    d = keypoint_distances(pred, gt, mask, norm)
    return pooled(np.nan_to_num(d), ~np.isnan(d))


def oks(pred: Any, gt: Any, gt_mask: Any, area: Any, sigmas: Any) -> np.ndarray:
    """COCO object keypoint similarity between every prediction and every ground-truth person.

    ``OKS = mean over labelled keypoints of exp(-d² / (2 · area · (2σ)²))`` (pycocotools' formula). A
    non-finite predicted keypoint contributes 0 (it is nowhere near the ground truth).

    Args:
        pred: ``(P, K, 2)`` pixels.
        gt: ``(G, K, 2)`` pixels.
        gt_mask: ``(G, K)`` bool labelled ground-truth keypoints.
        area: ``(G,)`` object scale², pixels² (COCO: segment area).
        sigmas: ``(K,)`` per-keypoint OKS sigmas.

    Returns:
        ``(P, G)`` OKS in [0, 1]; NaN for ground truth without labelled keypoints.
    """
    p = as_points("pred", pred, dims=(2,))
    g = as_points("gt", gt, dims=(2,))
    if p.shape[1] != g.shape[1]:
        raise ValidationError(f"'pred' has {p.shape[1]} keypoints but 'gt' has {g.shape[1]}")
    k = g.shape[1]
    m = as_mask("gt_mask", gt_mask, g.shape[:2])
    s = np.asarray(sigmas, dtype=np.float64)
    if s.shape != (k,) or not np.all(np.isfinite(s) & (s > 0)):
        raise ValidationError(f"'sigmas' must be {k} positive numbers, got shape {s.shape}")
    a = check_norm("area", area, len(g), m.any(1))
    bad = m & ~np.isfinite(g).all(-1)
    if bad.any():
        raise ValidationError("'gt' is not finite at a keypoint selected by 'gt_mask'")
    d2 = np.sum((p[:, None] - g[None]) ** 2, axis=-1)  # (P, G, K)
    d2 = np.where(np.isnan(d2), np.inf, d2)
    e = d2 / ((2 * s) ** 2) / (a[None, :, None] + np.spacing(1)) / 2
    val = np.where(m[None], np.exp(-e), 0.0).sum(-1)
    cnt = m.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt[None] > 0, val / cnt[None], np.nan)


# ---------------------------------------------------------------------------------------------------
# frames: matching and accumulators
# ---------------------------------------------------------------------------------------------------
def _as_layout(pred: PoseFrame, skeleton: Skeleton, convert: bool) -> PoseFrame:
    if pred.skeleton.name == skeleton.name:
        return pred
    if not convert:
        raise ValidationError(
            f"predictions are in the {pred.skeleton.name!r} layout but the ground truth is {skeleton.name!r}; "
            f"convert them (frame.to_skeleton({skeleton.name!r})) or pass convert=True"
        )
    try:
        get_conversion(pred.skeleton, skeleton)
    except KeyError as exc:
        raise ValidationError(str(exc.args[0])) from None
    return pred.to_skeleton(skeleton)


def match_people(
    gt: PoseFrame, pred: PoseFrame, *, threshold: float = 0.5, gt_valid: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """One-to-one matching of ground-truth and predicted people in one image (same layout).

    Cost = mean distance over keypoints present in both, divided by the ground truth's box size
    (longer side, at least 1 pixel); Hungarian assignment; pairs with cost > ``threshold`` or no common
    keypoint are dropped.

    Args:
        gt: ground-truth people.
        pred: predicted people in the same layout.
        threshold: largest accepted cost (a fraction of the box size).
        gt_valid: ``(N_gt,)`` bool, ground-truth people that may be matched (default: all).

    Returns:
        ``(gt index, pred index)`` pairs.
    """
    if gt.skeleton.name != pred.skeleton.name:
        raise ValidationError(f"cannot match {pred.skeleton.name!r} predictions to {gt.skeleton.name!r} ground truth")
    if len(gt) == 0 or len(pred) == 0:
        return []
    valid = np.ones(len(gt), bool) if gt_valid is None else np.asarray(gt_valid, bool)
    both = gt.present[:, None, :] & pred.present[None, :, :]  # (G, P, K)
    d = np.linalg.norm(np.where(both[..., None], gt.xy[:, None] - pred.xy[None], 0.0), axis=-1)
    n = both.sum(-1)
    scale = np.maximum(np.nan_to_num(box_size(gt.box), nan=1.0), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cost = d.sum(-1) / n / scale[:, None]
    ok = (n > 0) & valid[:, None] & (cost <= threshold)
    big = 1e6
    rows, cols = linear_sum_assignment(np.where(ok, cost, big))
    return [(int(r), int(c)) for r, c in zip(rows, cols) if ok[r, c]]


class _FrameMetric:
    """Collects matched ground-truth/prediction pairs over frames (see the module docstring)."""

    norm_kind: str = "box"

    def __init__(
        self,
        *,
        convert: bool = False,
        match_threshold: float = 0.5,
        keypoints: Sequence[int | str] | None = None,
    ) -> None:
        self.convert = bool(convert)
        self.match_threshold = float(match_threshold)
        self.keypoints = None if keypoints is None else list(keypoints)
        self.reset()

    def reset(self) -> "_FrameMetric":
        """Forget everything collected."""
        self._gt: list[np.ndarray] = []
        self._pred: list[np.ndarray] = []
        self._mask: list[np.ndarray] = []
        self._norm: list[np.ndarray] = []
        self._skeleton: Skeleton | None = None
        self.people = 0  #: ground-truth people evaluated
        self.matched = 0  #: of which matched to a prediction
        self.skipped = 0  #: ground-truth people without a usable normaliser
        self.images = 0
        return self

    def _norms(self, gt: PoseFrame) -> np.ndarray:
        kind = self.norm_kind
        if kind == "box":
            return box_size(gt.box)
        if kind == "torso":
            return torso_size(gt.xy, gt.skeleton)
        if kind == "head":
            return head_segment_length(gt.xy, gt.skeleton)
        if kind == "interocular":
            return interocular_distance(gt.xy, gt.skeleton)
        raise ValueError(f"unknown normaliser {kind!r}")

    def update(
        self, gt: PoseFrame, pred: PoseFrame, *, iscrowd: Any = None, norm: Any = None
    ) -> "_FrameMetric":
        """Add one image.

        Args:
            gt: ground-truth people.
            pred: predicted people (same layout, or converted when ``convert=True``).
            iscrowd: ``(N_gt,)`` bool, crowd regions to leave out (default none).
            norm: ``(N_gt,)`` explicit per-person normaliser in pixels (e.g. MPII head sizes),
                overriding the metric's own; NaN for a person skips it.

        Returns:
            ``self``.
        """
        if not isinstance(gt, PoseFrame) or not isinstance(pred, PoseFrame):
            raise ValidationError("update() takes a ground-truth PoseFrame and a predicted PoseFrame")
        if self._skeleton is not None and gt.skeleton.name != self._skeleton.name:
            raise ValidationError(
                f"ground truth in the {gt.skeleton.name!r} layout after {self._skeleton.name!r}; one metric, one layout"
            )
        self._skeleton = gt.skeleton
        p = _as_layout(pred, gt.skeleton, self.convert)
        n = len(gt)
        crowd = np.zeros(n, bool) if iscrowd is None else np.asarray(iscrowd, bool)
        if crowd.shape != (n,):
            raise ValidationError(f"Expected 'iscrowd' to have shape ({n},), but got {crowd.shape}")
        sel = self._selection(gt)
        gmask = gt.present & sel[None, :]
        valid = ~crowd & gmask.any(1)
        if norm is None:
            nrm = self._norms(gt)
        else:
            nrm = np.asarray(norm, dtype=np.float64)
            if nrm.shape != (n,):
                raise ValidationError(f"Expected 'norm' to have shape ({n},), but got {nrm.shape}")
        good = valid & np.isfinite(nrm) & (nrm > 0)
        self.images += 1
        self.people += int(good.sum())
        self.skipped += int((valid & ~good).sum())
        pairs = match_people(gt, p, threshold=self.match_threshold, gt_valid=good)
        pxy = np.full((n, len(gt.skeleton), 2), np.nan)
        for g, q in pairs:
            pxy[g] = p.xy[q]
        self.matched += len(pairs)
        self._gt.append(gt.xy[good])
        self._pred.append(pxy[good])
        self._mask.append(gmask[good])
        self._norm.append(nrm[good])
        return self

    def _selection(self, gt: PoseFrame) -> np.ndarray:
        k = len(gt.skeleton)
        if self.keypoints is None:
            return np.ones(k, bool)
        sel = np.zeros(k, bool)
        for kp in self.keypoints:
            sel[gt.skeleton.index(kp) if isinstance(kp, str) else int(kp)] = True
        return sel

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self._gt or sum(len(a) for a in self._gt) == 0:
            raise ValidationError(
                "nothing to evaluate: no ground-truth person with labelled keypoints and a usable normaliser was added"
            )
        return (np.concatenate(self._pred), np.concatenate(self._gt), np.concatenate(self._mask), np.concatenate(self._norm))

    def _common(self) -> dict[str, Any]:
        return {"images": self.images, "people": self.people, "matched": self.matched, "skipped": self.skipped}


class PCK(_FrameMetric):
    """PCK@α accumulator over frames (see the module docstring for matching and misses).

    Args:
        alpha: threshold as a fraction of the normaliser.
        norm: ``"box"`` (longer box side) or ``"torso"`` (left shoulder to right hip).
        convert: convert predictions in another layout through the registered conversion.
        match_threshold: largest matching cost (mean distance / box size).
        keypoints: evaluate only these keypoints (indices or names).

    ``compute()`` returns ``{"pck", "per_keypoint" (K,), "count" (K,), "images", "people", "matched",
    "skipped"}``.
    """

    def __init__(self, alpha: float = 0.2, norm: str = "box", **kw: Any) -> None:
        if norm not in ("box", "torso", "head"):
            raise ValueError(f"norm must be 'box', 'torso' or 'head', got {norm!r}")
        self.alpha = float(alpha)
        self.norm_kind = norm
        super().__init__(**kw)

    def compute(self) -> dict[str, Any]:
        """The PCK over everything added."""
        p, g, m, nrm = self._arrays()
        s = pck(p, g, m, nrm, self.alpha, missing="miss")
        return {"pck": s.value, "per_keypoint": s.per_keypoint, "count": s.count, **self._common()}


class PCKh(PCK):
    """PCKh@α (default 0.5) accumulator: PCK normalised by head size.

    Pass MPII-style head sizes to ``update(..., norm=head_sizes)``; without them the head-top-to-neck
    length (:func:`head_segment_length`) is used, for layouts that have those keypoints.
    """

    def __init__(self, alpha: float = 0.5, **kw: Any) -> None:
        super().__init__(alpha=alpha, norm="head", **kw)

    def compute(self) -> dict[str, Any]:
        """The PCKh over everything added (key ``"pckh"``)."""
        out = super().compute()
        out["pckh"] = out.pop("pck")
        return out


class KeypointError(_FrameMetric):
    """Mean keypoint error accumulator (pixels) over matched people.

    ``compute()`` returns ``{"mean_error", "per_keypoint" (K,), "count" (K,), "missing", "images",
    "people", "matched", "skipped"}``; ``missing`` counts labelled ground-truth keypoints with no
    prediction (unmatched person or MISSING keypoint), which are not part of the mean.
    """

    def compute(self) -> dict[str, Any]:
        """The mean error over everything added."""
        p, g, m, _ = self._arrays()
        ok = m & np.isfinite(p).all(-1)
        if not ok.any():
            raise ValidationError("no ground-truth keypoint has a matched prediction; the mean error is undefined")
        s = mean_keypoint_error(p, g, ok)
        return {"mean_error": s.value, "per_keypoint": s.per_keypoint, "count": s.count,
                "missing": int((m & ~ok).sum()), **self._common()}  # fmt: skip


class NME(_FrameMetric):
    """Normalised mean error accumulator.

    Args:
        norm: ``"interocular"`` (faces, outer eye corners) or ``"box"`` (hands, longer box side).
        convert, match_threshold, keypoints: as :class:`PCK`.

    ``compute()`` returns ``{"nme", "per_keypoint", "count", "missing", "images", "people", "matched",
    "skipped"}`` with ``nme`` a fraction of the normaliser.
    """

    def __init__(self, norm: str = "interocular", **kw: Any) -> None:
        if norm not in ("interocular", "box"):
            raise ValueError(f"norm must be 'interocular' or 'box', got {norm!r}")
        self.norm_kind = norm
        super().__init__(**kw)

    def compute(self) -> dict[str, Any]:
        """The NME over everything added."""
        p, g, m, nrm = self._arrays()
        ok = m & np.isfinite(p).all(-1)
        if not ok.any():
            raise ValidationError("no ground-truth keypoint has a matched prediction; the NME is undefined")
        s = nme(p, g, ok, nrm)
        return {"nme": s.value, "per_keypoint": s.per_keypoint, "count": s.count,
                "missing": int((m & ~ok).sum()), **self._common()}  # fmt: skip
