"""Rules on keypoint states, duplicates and confidence.

posekit's containers already refuse a MISSING keypoint with coordinates and a present one without, so the
state rules look where contradictions can still hide: the raw ``x, y, v`` triplets of COCO files
(``v = 0`` with coordinates, ``v > 0`` at ``(0, 0)``, a wrong ``num_keypoints``), VISIBLE keypoints outside
the image, and state sequences over time that no stage can produce (INTERPOLATED without measurements
on both sides, PREDICTED before anything was measured).
"""

from __future__ import annotations

import warnings

import numpy as np

from posekit.poses import KeypointState

from .data import QAData
from .findings import Finding, Severity
from .rules import Param, Rule, register_rule

__all__ = [
    "MissingWithPosition",
    "PresentWithoutPosition",
    "NumKeypoints",
    "VisibleOutside",
    "Transitions",
    "Duplicate",
    "LowKeypointConfidence",
    "LowPersonConfidence",
]

_MEASURED = (int(KeypointState.VISIBLE), int(KeypointState.OCCLUDED), int(KeypointState.CORRECTED))


def _grouped(rule: Rule, data: QAData, mask: np.ndarray, value: np.ndarray | None, threshold: float | None,
             unit: str, text: str) -> list[Finding]:  # fmt: skip
    """One finding per flagged ``(t, i)`` of a ``(T, I, K)`` mask, listing the keypoints."""
    names = data.skeleton.keypoints
    out = []
    for t, i in np.argwhere(mask.any(-1)):
        t, i = int(t), int(i)
        ks = np.flatnonzero(mask[t, i])
        kn = [names[k] for k in ks]
        v = None if value is None else float(np.nanmax(value[t, i, ks]) if unit != "score" else np.nanmin(value[t, i, ks]))
        out.append(rule.finding(data, t, i, f"{data.label(t, i)}: {', '.join(kn)} {text}", keypoints=kn, value=v,
                                threshold=threshold, unit=unit))  # fmt: skip
    return out


@register_rule
class MissingWithPosition(Rule):
    """COCO ``v = 0`` (not labelled) with non-zero coordinates."""

    id = "state.missing_with_position"
    description = (
        "A keypoint marked not labelled (COCO v=0, MISSING) that nevertheless carries coordinates: the flag or the "
        "position is wrong (COCO writes unlabelled keypoints as 0, 0, 0)."
    )
    severity = Severity.ERROR
    needs_raw = True

    def check(self, data: QAData) -> list[Finding]:
        assert data.raw is not None
        x, y, v = data.raw[..., 0], data.raw[..., 1], data.raw[..., 2]
        with np.errstate(invalid="ignore"):
            bad = (v == 0) & ((x != 0) | (y != 0)) & data.checked[..., None]
        return _grouped(self, data, bad, None, None, "",
                        "not labelled (v=0) but given coordinates: MISSING keypoints must not have a position")


@register_rule
class PresentWithoutPosition(Rule):
    """COCO ``v = 1`` or ``2`` (labelled) at ``(0, 0)``."""

    id = "state.present_without_position"
    description = (
        "A keypoint marked labelled (COCO v=1 OCCLUDED or v=2 VISIBLE) at exactly (0, 0), COCO's code for 'no "
        "keypoint': an OCCLUDED or VISIBLE keypoint must have a real position."
    )
    severity = Severity.ERROR
    needs_raw = True

    def check(self, data: QAData) -> list[Finding]:
        assert data.raw is not None
        x, y, v = data.raw[..., 0], data.raw[..., 1], data.raw[..., 2]
        with np.errstate(invalid="ignore"):
            bad = (v > 0) & (x == 0) & (y == 0) & data.checked[..., None]
        return _grouped(self, data, bad, None, None, "",
                        "labelled (v>0) at (0, 0), the code for 'no keypoint': the position is missing")


@register_rule
class NumKeypoints(Rule):
    """COCO ``num_keypoints`` disagreeing with the flags."""

    id = "state.num_keypoints"
    description = "An annotation whose num_keypoints field differs from its number of labelled keypoints (v>0)."
    severity = Severity.WARNING
    needs_raw = True

    def check(self, data: QAData) -> list[Finding]:
        assert data.raw is not None and data.raw_num_keypoints is not None
        with np.errstate(invalid="ignore"):
            count = (data.raw[..., 2] > 0).sum(-1)
        bad = (data.raw_num_keypoints >= 0) & (count != data.raw_num_keypoints) & data.checked
        return self.emit(
            data, bad, data.raw_num_keypoints.astype(float), None, "keypoints", lambda t, i: (),
            lambda t, i, v: f"{data.label(t, i)}: num_keypoints says {v:.0f} but {int(count[t, i])} keypoints are labelled",
        )  # fmt: skip


@register_rule
class VisibleOutside(Rule):
    """A VISIBLE keypoint outside the image."""

    id = "state.visible_outside"
    description = "A keypoint marked VISIBLE that lies outside the image: what is outside cannot be seen."
    severity = Severity.WARNING
    parameters = (
        Param("margin", 0.01, "x image size",
              "Tolerance of 1% of the image size for keypoints on the border (clicks on the last pixel, rounding)."),
    )  # fmt: skip

    def applies(self, data: QAData) -> str | None:
        why = super().applies(data)
        if why is None and not np.isfinite(data.image_size).all(-1).any():
            return "image sizes unknown"
        return why

    def check(self, data: QAData) -> list[Finding]:
        w = data.image_size[:, 0][:, None, None]
        h = data.image_size[:, 1][:, None, None]
        m = self.p("margin")
        x, y = data.xy[..., 0], data.xy[..., 1]
        with np.errstate(invalid="ignore"):
            out_x = (x < -m * w) | (x > (1 + m) * w)
            out_y = (y < -m * h) | (y > (1 + m) * h)
            bad = (data.state == KeypointState.VISIBLE) & (out_x | out_y) & data.checked[..., None]
        return _grouped(self, data, bad, None, None, "", "VISIBLE but outside the image")


@register_rule
class Transitions(Rule):
    """State sequences no stage can produce."""

    id = "state.transitions"
    description = (
        "Keypoint states over time that make no sense: INTERPOLATED without a measured position (VISIBLE, "
        "OCCLUDED or CORRECTED) both before and after it in the track, or PREDICTED before anything was measured."
    )
    severity = Severity.ERROR
    temporal = True

    def check(self, data: QAData) -> list[Finding]:
        st = data.state
        measured = np.isin(st, _MEASURED)
        before = np.cumsum(measured, axis=0) - measured > 0  # strictly earlier
        after = np.cumsum(measured[::-1], axis=0)[::-1] - measured > 0
        interp = (st == KeypointState.INTERPOLATED) & ~(before & after)
        pred = (st == KeypointState.PREDICTED) & ~before
        out = _grouped(self, data, interp & data.checked[..., None], None, None, "",
                       "INTERPOLATED without a measured position on both sides in this track")
        out += _grouped(self, data, pred & data.checked[..., None], None, None, "",
                        "PREDICTED before any measured position in this track")
        return out


@register_rule
class Duplicate(Rule):
    """Two people on the same keypoints."""

    id = "duplicate.person"
    description = (
        "Two people of one image (frame) whose shared keypoints nearly coincide (object keypoint similarity, "
        "COCO's OKS, on the keypoints both have): the same person annotated or detected twice."
    )
    severity = Severity.ERROR
    parameters = (
        Param("min_oks", 0.8, "OKS",
              "COCO's strictest AP threshold is 0.95 and a good match 0.75; two distinct people standing close "
              "share few keypoints and score far lower."),
        Param("min_shared", 3, "keypoints", "Fewer shared keypoints than this say nothing about identity."),
        Param("default_sigma", 0.07, "OKS sigma",
              "For skeletons without OKS sigmas: about the mean of COCO's 17 body sigmas."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        t_, i_, k_ = data.shape
        if i_ < 2:
            return []
        sig = data.skeleton.sigmas_array
        sig = np.full(k_, self.p("default_sigma")) if sig is None else sig
        pres = data.present & data.checked[..., None]
        area = np.array(data.area, dtype=np.float64)
        # area of each person from its keypoints where unknown
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            span = np.nanmax(data.xy, axis=2) - np.nanmin(data.xy, axis=2) if k_ else np.zeros((t_, i_, 2))
        area = np.where(np.isfinite(area) & (area > 0), area, span[..., 0] * span[..., 1])
        out = []
        kappa2 = (2 * sig) ** 2
        rows = np.flatnonzero(data.checked.sum(1) >= 2)
        for t in rows:
            x = data.xy[t]  # (I, K, 2)
            d2 = np.sum((x[:, None] - x[None]) ** 2, -1)  # (I, I, K)
            shared = pres[t][:, None] & pres[t][None]
            n = shared.sum(-1)
            a = np.fmin(area[t][:, None], area[t][None])
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                e = d2 / (2 * np.fmax(a, 1.0)[..., None] * kappa2)
                oks = np.where(shared, np.exp(-e), 0.0).sum(-1) / n
            iu, ju = np.triu_indices(i_, 1)
            hit = (n[iu, ju] >= self.p("min_shared")) & (oks[iu, ju] >= self.p("min_oks"))
            for a_, b_ in zip(iu[hit], ju[hit]):
                a_, b_ = int(a_), int(b_)
                ks = [data.skeleton.keypoints[k] for k in np.flatnonzero(shared[a_, b_])]
                other = data.label(int(t), a_)
                v = float(oks[a_, b_])
                out.append(self.finding(
                    data, int(t), b_,
                    f"{data.label(int(t), b_)} lies on the same keypoints as {other} (OKS {v:.2f} over {len(ks)} "
                    "shared keypoints): the same person twice",
                    keypoints=ks, value=v, threshold=self.p("min_oks"), unit="OKS",
                ))  # fmt: skip
        return out


@register_rule
class LowKeypointConfidence(Rule):
    """Present keypoints with a very low score."""

    id = "confidence.keypoint"
    description = "Present keypoints whose confidence score is very low (model output; annotations score 1)."
    severity = Severity.INFO
    parameters = (
        Param("min_score", 0.1, "score",
              "Below 0.1 a landmark model's visibility is essentially a guess; the position is kept but worth a look."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        bad = data.present & (data.score < self.p("min_score")) & data.checked[..., None]
        return _grouped(self, data, bad, data.score, self.p("min_score"), "score", "have a very low confidence score")


@register_rule
class LowPersonConfidence(Rule):
    """A person whose keypoints are mostly guesses."""

    id = "confidence.person"
    description = "A person whose mean keypoint confidence over present keypoints is very low: a doubtful detection."
    severity = Severity.WARNING
    parameters = (
        Param("min_mean_score", 0.3, "score",
              "A mean below 0.3 means most of the body is guessed; such poses are usually false detections or "
              "heavy occlusion that a person should confirm."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        pres = data.present
        n = pres.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(pres, data.score, 0.0).sum(-1) / n
        bad = (n > 0) & (mean < self.p("min_mean_score")) & data.checked
        return self.emit(
            data, bad, mean, self.p("min_mean_score"), "score", lambda t, i: (),
            lambda t, i, v: f"{data.label(t, i)}: mean keypoint confidence {v:.2f} is very low (limit {self.p('min_mean_score'):g})",
        )  # fmt: skip
