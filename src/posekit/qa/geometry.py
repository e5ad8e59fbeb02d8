"""Vectorised geometry shared by the QA rules: named keypoints, body scale, angles.

Body scale. Rules measure lengths and speeds in *torso units*: one unit is a typical adult's
shoulder-to-hip distance (same side), 0.288 × stature in the segment tables of Drillis & Contini (1966)
as given by Winter, *Biomechanics and Motor Control of Human Movement*. Each measured 2D bone length
divided by its typical length in torso units estimates the scale in pixels per torso unit; foreshortening
only ever shortens a bone, so the scale is taken as an upper quantile (75th percentile) of those
estimates over the available bones (at least :data:`MIN_SCALE_BONES`). One stretched bone among a dozen
barely moves it.
"""

from __future__ import annotations

import warnings

import numpy as np

from posekit.skeletons import Skeleton

__all__ = [
    "TYPICAL",
    "MIN_SCALE_BONES",
    "LIMB_SEGMENTS",
    "index_of",
    "bone_table",
    "body_scale",
    "track_scale",
    "segment_lengths",
    "flexion_deg",
    "cross2",
    "nanmedian_axis0",
    "nanquantile_last",
]

#: Typical bone lengths in torso units (shoulder-to-hip distance = 1), from Drillis & Contini's segment
#: fractions of stature: biacromial 0.259 H, hip joint centres 0.191 H, shoulder-hip 0.288 H,
#: upper arm 0.186 H, forearm 0.146 H, thigh 0.245 H, shank 0.246 H.
TYPICAL: dict[tuple[str, str], float] = {
    ("left_shoulder", "right_shoulder"): 0.90,
    ("left_hip", "right_hip"): 0.66,
    ("left_shoulder", "left_hip"): 1.0,
    ("right_shoulder", "right_hip"): 1.0,
}
for _s in ("left", "right"):
    TYPICAL[(f"{_s}_shoulder", f"{_s}_elbow")] = 0.65
    TYPICAL[(f"{_s}_elbow", f"{_s}_wrist")] = 0.51
    TYPICAL[(f"{_s}_hip", f"{_s}_knee")] = 0.85
    TYPICAL[(f"{_s}_knee", f"{_s}_ankle")] = 0.85

#: Fewest bones with both ends present needed to estimate a person's scale.
MIN_SCALE_BONES = 5

#: Limb segments by chain: (name, proximal, distal) per side.
LIMB_SEGMENTS: tuple[tuple[str, str, str], ...] = tuple(
    (f"{s}_{seg}", f"{s}_{a}", f"{s}_{b}")
    for s in ("left", "right")
    for seg, a, b in (("upper_arm", "shoulder", "elbow"), ("forearm", "elbow", "wrist"),
                      ("thigh", "hip", "knee"), ("shank", "knee", "ankle"))
)  # fmt: skip


def index_of(sk: Skeleton, *names: str) -> list[int] | None:
    """Indices of ``names`` in ``sk``, or ``None`` if any is absent."""
    out = []
    for n in names:
        try:
            out.append(sk.index(n))
        except KeyError:
            return None
    return out


def bone_table(sk: Skeleton) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """The :data:`TYPICAL` bones this skeleton has.

    Returns:
        ``(B, 2)`` int keypoint indices, ``(B,)`` typical lengths in torso units, and the name pairs.
    """
    idx, typ, names = [], [], []
    for (a, b), t in TYPICAL.items():
        ij = index_of(sk, a, b)
        if ij is not None:
            idx.append(ij)
            typ.append(t)
            names.append((a, b))
    return np.asarray(idx, dtype=np.int64).reshape(-1, 2), np.asarray(typ, dtype=np.float64), names


def segment_lengths(xy: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Lengths ``(..., B)`` of segments ``pairs (B, 2)`` in ``xy (..., K, D)`` (NaN if an end is NaN)."""
    if len(pairs) == 0:
        return np.zeros(xy.shape[:-2] + (0,))
    d = xy[..., pairs[:, 0], :] - xy[..., pairs[:, 1], :]
    return np.sqrt(np.sum(d * d, axis=-1))


def nanquantile_last(a: np.ndarray, q: float) -> np.ndarray:
    """``np.nanquantile(a, q, axis=-1)`` (linear interpolation), vectorised by sorting; NaN for all-NaN rows.

    numpy's own ``nanquantile`` loops in Python over rows, far too slow for ``(T, I, B)`` arrays.
    """
    srt = np.sort(a, axis=-1)  # NaN sort last
    c = np.isfinite(srt).sum(-1)
    pos = q * np.maximum(c - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(c - 1, 0))
    w = pos - lo
    vlo = np.take_along_axis(srt, lo[..., None], -1)[..., 0]
    vhi = np.take_along_axis(srt, hi[..., None], -1)[..., 0]
    return np.where(c > 0, vlo + w * (vhi - vlo), np.nan)


def body_scale(
    xy: np.ndarray, sk: Skeleton, *, min_bones: int = MIN_SCALE_BONES, quantile: float = 0.75, leave_one_out: bool = False
) -> np.ndarray:
    """Pixels per torso unit for each person.

    Args:
        xy: ``(..., K, 2)`` pixels (NaN where MISSING).
        sk: the layout (bones are found by name; see :data:`TYPICAL`).
        min_bones: fewest measurable bones for an estimate.
        quantile: upper quantile of the per-bone estimates (foreshortening only shortens).
        leave_one_out: return ``(..., B)``: for each bone of :func:`bone_table`, the scale from the
            *other* bones (a stretched bone then cannot inflate its own yardstick).

    Returns:
        ``(...)`` pixels per torso unit (``(..., B)`` with ``leave_one_out``); NaN where fewer than
        ``min_bones`` bones are measurable.
    """
    pairs, typ, _ = bone_table(sk)
    if len(pairs) < min_bones:
        shape = xy.shape[:-2] + ((len(pairs),) if leave_one_out else ())
        return np.full(shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = segment_lengths(xy, pairs) / typ
    est = np.where(est > 0, est, np.nan)
    if not leave_one_out:
        n = np.isfinite(est).sum(-1)
        return np.where(n >= min_bones, nanquantile_last(est, quantile), np.nan)
    b = len(pairs)
    others = np.broadcast_to(est[..., None, :], est.shape + (b,)).copy()
    idx = np.arange(b)
    others[..., idx, idx] = np.nan
    n = np.isfinite(others).sum(-1)
    return np.where(n >= min_bones - 1, nanquantile_last(others, quantile), np.nan)


def nanmedian_axis0(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=0)`` without warnings (NaN where a column is all NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=0)


def track_scale(scale: np.ndarray) -> np.ndarray:
    """Per-slot median of a ``(T, I)`` scale over time, ``(I,)`` (robust to single bad frames)."""
    return nanmedian_axis0(scale)


def cross2(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """z of the 2D cross product ``u × v`` over the last axis (positive: ``v`` turns clockwise from
    ``u`` on screen, image y pointing down)."""
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def flexion_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Unsigned flexion at ``b`` in degrees: 180 − the interior angle a-b-c (0 = straight).

    Args:
        a, b, c: ``(..., D)`` points (NaN propagates).
    """
    u = a - b
    v = c - b
    nu = np.sqrt(np.sum(u * u, -1))
    nv = np.sqrt(np.sum(v * v, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, -1) / (nu * nv)
    interior = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return 180.0 - interior
