"""Occlusion kept honest: short gaps are bridged and marked, long ones stay MISSING.

Rules (the same online and offline; ``max_gap`` in seconds, default 0.5):

* A keypoint the model reports but does not see (``OCCLUDED``, with the model's implied position and a
  low score) stays ``OCCLUDED``; the filters weight it by its score, so its position leans on the track.
* **Online** (:func:`predict_missing`, used by :class:`~posekit.track.stabilize.OnlineStabilizer`): a
  keypoint with no estimate at all (``MISSING``) on a person who is in the frame is given the position
  predicted from its track (damped constant velocity of the One Euro state) and the state ``OCCLUDED``
  with score 0, as long as its last measurement is at most ``max_gap`` seconds old. After that it is
  ``MISSING`` again.
* **Offline** (:func:`fill_gaps`): a run of ``MISSING`` frames of one keypoint whose neighbouring
  measurements are at most ``max_gap`` seconds apart is filled by interpolation (linear, or a
  shape-preserving piecewise cubic), state ``INTERPOLATED``, score 0. Longer gaps, and the frames before
  a track's first or after its last measurement, stay ``MISSING``: nothing is fabricated beyond the
  gap limit, and nothing is extrapolated offline.

The gap length is the time between the two measurements around it, so it depends on the timestamps,
not on frame counts (variable frame rate is handled).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from posekit.poses import KeypointState, PoseSequence

from .filters import DEFAULT_MAX_GAP, TIME_EPS, OneEuroCore, check_sequence, image_values

__all__ = ["gap_spans", "fill_gaps", "predict_missing", "PREDICTED_SCORE"]

#: Score given to a position we filled in (it is not a measurement).
PREDICTED_SCORE = 0.0


def gap_spans(time: np.ndarray, present: np.ndarray, max_gap: float) -> list[tuple[int, int]]:
    """The bridgeable gaps of one series.

    Args:
        time: ``(T,)`` seconds, increasing.
        present: ``(T,)`` bool.
        max_gap: seconds.

    Returns:
        ``[(a, b), ...]``: frame indices of the measurements around each gap (``a + 1 .. b - 1`` are
        missing) with ``time[b] - time[a] <= max_gap``.
    """
    idx = np.flatnonzero(present)
    if idx.size < 2:
        return []
    a, b = idx[:-1], idx[1:]
    keep = (b > a + 1) & (time[b] - time[a] <= max_gap + TIME_EPS)
    return list(zip(a[keep].tolist(), b[keep].tolist()))


def _interp(time: np.ndarray, values: np.ndarray, known: np.ndarray, query: np.ndarray, method: str) -> np.ndarray:
    """Interpolate ``values (T, D)`` known at ``known`` (bool ``(T,)``) at frame indices ``query``."""
    tk = time[known]
    vk = values[known]
    if method == "linear" or tk.size < 3:
        return np.stack([np.interp(time[query], tk, vk[:, d]) for d in range(values.shape[1])], -1)
    from scipy.interpolate import PchipInterpolator

    return PchipInterpolator(tk, vk, axis=0, extrapolate=False)(time[query])


def fill_gaps(
    seq: PoseSequence,
    *,
    max_gap: float = DEFAULT_MAX_GAP,
    method: Literal["linear", "cubic"] = "linear",
    log: bool = True,
) -> PoseSequence:
    """Fill short gaps offline; filled keypoints become ``INTERPOLATED`` with score 0.

    Image coordinates (``xy`` and ``z``) and world coordinates are interpolated from the measurements
    of the same keypoint of the same individual. ``"cubic"`` is the shape-preserving piecewise cubic
    (PCHIP) through the measurements of the surrounding segment (no overshoot), ``"linear"`` a straight
    line between the two measurements around the gap.

    Args:
        seq: the poses.
        max_gap: seconds; gaps whose surrounding measurements are further apart stay MISSING.
        method: ``"linear"`` or ``"cubic"``.
        log: record the step in the provenance.

    Returns:
        A new sequence. Boxes of individuals who were absent and are now present are recomputed from the
        filled keypoints (their ``box_score`` stays as it was).
    """
    if method not in ("linear", "cubic"):
        raise ValueError(f"gap filling method must be 'linear' or 'cubic', got {method!r}")
    if not max_gap > 0:
        raise ValueError(f"max_gap must be positive, got {max_gap} s")
    check_sequence(seq)
    out = seq.copy()
    t_n, i_n, k_n = seq.state.shape
    present = seq.state != KeypointState.MISSING
    img = image_values(seq)
    filled = 0
    for i in range(i_n):
        for k in range(k_n):
            spans = gap_spans(seq.time, present[:, i, k], max_gap)
            if not spans:
                continue
            query = np.concatenate([np.arange(a + 1, b) for a, b in spans])
            known = present[:, i, k]
            if method == "cubic":
                # a cubic only through the measurements of the segment around each gap
                vals = np.empty((len(query), img.shape[-1]))
                wv = np.full((len(query), 3), np.nan)
                pos = 0
                for a, b in spans:
                    q = np.arange(a + 1, b)
                    seg = _segment(seq.time, known, a, b, max_gap)
                    vals[pos : pos + len(q)] = _interp(seq.time, img[:, i, k], seg, q, method)
                    if seq.world is not None:
                        segw = seg & np.isfinite(seq.world[:, i, k]).all(-1)
                        if segw[a] and segw[b]:
                            wv[pos : pos + len(q)] = _interp(seq.time, seq.world[:, i, k], segw, q, method)
                    pos += len(q)
            else:
                vals = _interp(seq.time, img[:, i, k], known, query, "linear")
                wv = np.full((len(query), 3), np.nan)
                if seq.world is not None:
                    wk = known & np.isfinite(seq.world[:, i, k]).all(-1)
                    ends = np.asarray([wk[a] and wk[b] for a, b in spans for _ in range(b - a - 1)], bool)
                    if wk.sum() >= 2 and ends.any():
                        wv[ends] = _interp(seq.time, seq.world[:, i, k], wk, query[ends], "linear")
            out.xy[query, i, k] = vals[:, :2]
            if seq.z is not None:
                out.z[query, i, k] = vals[:, 2]
            if seq.world is not None:
                out.world[query, i, k] = wv
            out.state[query, i, k] = KeypointState.INTERPOLATED
            out.score[query, i, k] = PREDICTED_SCORE
            filled += len(query)
    if filled:
        from posekit.poses import _boxes_from_xy

        was_absent = ~present.any(-1)
        boxes = _boxes_from_xy(out.xy.reshape(t_n * i_n, k_n, 2)).reshape(t_n, i_n, 4)
        out.box = np.where(was_absent[..., None], boxes, out.box)
    if log:
        out.log_step("occlusion.fill_gaps", max_gap=max_gap, method=method, filled_keypoints=filled)
    return out


def _segment(time: np.ndarray, known: np.ndarray, a: int, b: int, max_gap: float) -> np.ndarray:
    """Mask of the measurements connected to frames ``a`` and ``b`` by gaps of at most ``max_gap``."""
    idx = np.flatnonzero(known)
    pos_a = int(np.searchsorted(idx, a))
    pos_b = int(np.searchsorted(idx, b))
    lo = pos_a
    while lo > 0 and time[idx[lo]] - time[idx[lo - 1]] <= max_gap + TIME_EPS:
        lo -= 1
    hi = pos_b
    while hi < len(idx) - 1 and time[idx[hi + 1]] - time[idx[hi]] <= max_gap + TIME_EPS:
        hi += 1
    m = np.zeros_like(known)
    m[idx[lo : hi + 1]] = True
    return m


def predict_missing(
    core: OneEuroCore,
    values: np.ndarray,
    present: np.ndarray,
    t: float,
    *,
    decay: float = 0.25,
    index: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Online: positions for keypoints without a measurement, from their One Euro track state.

    Args:
        core: the track's filter state (its ``max_gap`` is the gap limit).
        values: ``(K, D)`` this frame's filtered values (NaN where missing); ``K`` keypoints of any number
            of people, flattened.
        present: ``(K,)`` bool, True where the frame has a measurement.
        t: the frame's time, seconds.
        decay: seconds; time constant of the velocity damping of the prediction.
        index: ``(K,)`` the core's series these keypoints are (default: all of its series).

    Returns:
        ``(K, D)`` values with predictions filled in and ``(K,)`` bool: the keypoints that were filled
        (missing now, measured at most ``max_gap`` seconds ago).
    """
    pred, ok = core.predict(t, decay=decay, index=index)
    fill = ~present & ok
    return np.where(fill[:, None], pred, values), fill
