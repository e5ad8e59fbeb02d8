"""Identity tracking: CLEAR-MOT counts (TP, FP, FN, identity switches, MOTA, MOTP) for pose tracks.

Ground truth and predictions are per-frame :class:`~posekit.poses.PoseFrame` s (same layout) whose
people carry ``track_id`` s (``-1`` is not allowed: without identities there is nothing to switch).
Each frame is matched as in py-motmetrics' CLEAR-MOT accumulator:

1. a ground-truth track keeps the predicted track it was matched to last time when that pair is still
   similar enough in this frame;
2. the remaining people are matched by the Hungarian method (``scipy.optimize.linear_sum_assignment``)
   on the similarity, keeping pairs that pass the threshold;
3. a ground-truth track matched to a different predicted track than the last time it was matched is an
   identity switch (IDSW).

Similarity is OKS (``"oks"``, pycocotools' formula with the skeleton's sigmas and the ground truth's
box area as scale; a pair matches when OKS ≥ ``threshold``) or the mean distance over keypoints
present in both (``"distance"``, pixels; a pair matches when the distance ≤ ``threshold``). Ground-truth
people without a present keypoint are ignored.

``MOTA = 1 − (FN + FP + IDSW) / number of ground-truth people``; ``MOTP`` is the mean similarity of
the matched pairs (mean OKS, or mean distance in pixels).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.errors import ValidationError
from posekit.poses import PoseFrame, PoseSequence

from .keypoints2d import _as_layout, oks

__all__ = ["ClearMOT", "clear_mot"]


class ClearMOT:
    """CLEAR-MOT accumulator for pose tracking.

    Args:
        similarity: ``"oks"`` or ``"distance"``.
        threshold: OKS lower bound (default 0.5) or largest mean distance in pixels (required for
            ``"distance"``).
        convert: convert predictions in another layout through the registered conversion.

    ``update(gt_frame, pred_frame) -> self`` per frame, in time order; ``compute()`` returns
    ``{"mota", "motp", "tp", "fp", "fn", "idsw", "num_gt", "frames"}``.
    """

    def __init__(self, similarity: str = "oks", threshold: float | None = None, *, convert: bool = False) -> None:
        if similarity not in ("oks", "distance"):
            raise ValueError(f"similarity must be 'oks' or 'distance', got {similarity!r}")
        if threshold is None:
            if similarity == "distance":
                raise ValueError("similarity='distance' needs a threshold in pixels")
            threshold = 0.5
        if not np.isfinite(threshold) or threshold <= 0:
            raise ValueError(f"threshold must be a positive number, got {threshold!r}")
        self.similarity = similarity
        self.threshold = float(threshold)
        self.convert = bool(convert)
        self.reset()

    def reset(self) -> "ClearMOT":
        """Forget everything added."""
        self.tp = self.fp = self.fn = self.idsw = self.num_gt = self.frames = 0
        self._sim_sum = 0.0
        self._last: dict[int, int] = {}  # gt track → pred track of its last match
        self._skeleton: str | None = None
        return self

    def _scores(self, gt: PoseFrame, pred: PoseFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(G, P)`` similarity and a ``(G, P)`` bool of pairs that pass the threshold."""
        g, p = len(gt), len(pred)
        if g == 0 or p == 0:
            return np.zeros((g, p)), np.zeros((g, p), bool)
        if self.similarity == "oks":
            sig = gt.skeleton.sigmas_array
            if sig is None:
                raise ValidationError(f"skeleton {gt.skeleton.name!r} has no OKS sigmas; use similarity='distance'")
            b = gt.box
            area = np.nan_to_num((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), nan=0.0)
            s = oks(pred.xy, gt.xy, gt.present, np.maximum(area, 1.0), sig).T
            return np.nan_to_num(s, nan=0.0), np.nan_to_num(s, nan=0.0) >= self.threshold
        both = gt.present[:, None] & pred.present[None]
        d = np.linalg.norm(np.where(both[..., None], gt.xy[:, None] - pred.xy[None], 0.0), axis=-1).sum(-1)
        n = both.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            dist = np.where(n > 0, d / np.maximum(n, 1), np.inf)
        return dist, dist <= self.threshold

    def update(self, gt: PoseFrame, pred: PoseFrame) -> "ClearMOT":
        """Add the next frame's ground truth and predictions. Returns ``self``."""
        if not isinstance(gt, PoseFrame) or not isinstance(pred, PoseFrame):
            raise ValidationError("update() takes a ground-truth PoseFrame and a predicted PoseFrame")
        if self._skeleton is not None and gt.skeleton.name != self._skeleton:
            raise ValidationError(f"ground truth in the {gt.skeleton.name!r} layout after {self._skeleton!r}")
        self._skeleton = gt.skeleton.name
        pred = _as_layout(pred, gt.skeleton, self.convert)
        gt = gt[np.flatnonzero(gt.present.any(1))]
        for name, f in (("ground-truth", gt), ("predicted", pred)):
            if np.any(f.track_id < 0):
                raise ValidationError(f"frame {f.frame}: a {name} person has no track id (-1); identities are needed")
            if len(np.unique(f.track_id)) != len(f):
                raise ValidationError(f"frame {f.frame}: two {name} people share a track id")
        sim, ok = self._scores(gt, pred)
        gids, pids = gt.track_id.tolist(), pred.track_id.tolist()
        pairs: list[tuple[int, int]] = []
        free_g, free_p = set(range(len(gt))), set(range(len(pred)))
        for gi, gid in enumerate(gids):  # 1. keep last frame's correspondences that still hold
            pid = self._last.get(gid)
            if pid is not None and pid in pids:
                pj = pids.index(pid)
                if ok[gi, pj] and pj in free_p:
                    pairs.append((gi, pj))
                    free_g.discard(gi)
                    free_p.discard(pj)
        if free_g and free_p:  # 2. Hungarian on the rest
            rg, rp = sorted(free_g), sorted(free_p)
            sub = sim[np.ix_(rg, rp)]
            subok = ok[np.ix_(rg, rp)]
            cost = np.where(subok, -sub if self.similarity == "oks" else sub, 1e12)
            for r, c in zip(*linear_sum_assignment(cost)):
                if subok[r, c]:
                    pairs.append((rg[r], rp[c]))
        for gi, pj in pairs:  # 3. identity switches
            gid, pid = gids[gi], pids[pj]
            if gid in self._last and self._last[gid] != pid:
                self.idsw += 1
            self._last[gid] = pid
            self._sim_sum += float(sim[gi, pj])
        self.tp += len(pairs)
        self.fn += len(gt) - len(pairs)
        self.fp += len(pred) - len(pairs)
        self.num_gt += len(gt)
        self.frames += 1
        return self

    def compute(self) -> dict[str, Any]:
        """The CLEAR-MOT counts over every frame added."""
        if self.num_gt == 0:
            raise ValidationError("nothing to evaluate: the ground truth holds no person (MOTA is undefined)")
        return {
            "mota": 1.0 - (self.fn + self.fp + self.idsw) / self.num_gt,
            "motp": self._sim_sum / self.tp if self.tp else float("nan"),
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "idsw": self.idsw,
            "num_gt": self.num_gt, "frames": self.frames,
        }  # fmt: skip


def clear_mot(
    gt: PoseSequence | Iterable[PoseFrame],
    pred: PoseSequence | Iterable[PoseFrame],
    *,
    similarity: str = "oks",
    threshold: float | None = None,
    convert: bool = False,
) -> dict[str, Any]:
    """CLEAR-MOT counts for whole sequences (or lists of frames of equal length, in time order).

    See :class:`ClearMOT` for the arguments and the result.
    """
    gf = list(gt.frames()) if isinstance(gt, PoseSequence) else list(gt)
    pf = list(pred.frames()) if isinstance(pred, PoseSequence) else list(pred)
    if len(gf) != len(pf):
        raise ValidationError(f"{len(gf)} ground-truth frames but {len(pf)} predicted frames")
    if not gf:
        raise ValidationError("nothing to evaluate: no frames")
    acc = ClearMOT(similarity, threshold, convert=convert)
    for g, p in zip(gf, pf):
        acc.update(g, p)
    return acc.compute()
