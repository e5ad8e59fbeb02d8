"""Temporal stability: jitter, acceleration error, bone-length variation and left/right swaps.

Arrays are ``x (T, I, K, D)`` (time, individuals, keypoints, coordinates; ``(T, K, D)`` is one
individual) with ``time (T,)`` in seconds and an explicit boolean ``mask (T, I, K)`` (``None`` = all).
Coordinates under the mask must be finite; MISSING keypoints are left out by the mask, never read as
``(0, 0)``.

* **Acceleration** at frame ``t`` is the second difference for uneven steps,
  ``a = 2 ((x[t+1] − x[t]) / h₂ − (x[t] − x[t−1]) / h₁) / (h₁ + h₂)`` with ``h₁ = time[t] − time[t−1]``,
  ``h₂ = time[t+1] − time[t]``; for a constant step ``h`` this is ``(x[t+1] − 2 x[t] + x[t−1]) / h²``.
  It is defined where the keypoint is selected at ``t − 1``, ``t`` and ``t + 1``. Units: input units/s².
* **Jitter** = mean acceleration magnitude divided by the individual's body size, in body sizes/s². The
  default body size (:func:`median_body_size`) is the median over frames of the diagonal of the box around the
  individual's selected keypoints (pixels in 2D, metres in 3D). A constant-velocity track has jitter 0.
* **Acceleration error** = mean ``|a_pred − a_gt|`` (same normalisation, body size of the ground truth).
* **Bone-length CV** = per individual and bone, the standard deviation (ddof 0) of the bone's length
  over the frames where both ends are selected, divided by its mean; reported per bone (mean over
  individuals) and as the mean over all (individual, bone) pairs with at least 2 frames. A rigid
  motion has CV 0.
* **Left/right swaps**: with ground truth, a (frame, individual) is swapped when the left/right-flipped
  prediction is closer to the ground truth than the prediction (mean distance over flip-pair keypoints
  selected in both); without ground truth, when the flipped prediction is closer to the same
  individual's prediction in the previous frame than the prediction itself (a swap *event*).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from posekit.errors import ValidationError
from posekit.poses import PoseSequence
from posekit.skeletons import Skeleton, get_skeleton

from ._validate import KeypointScore, as_mask, first_bad

__all__ = [
    "acceleration",
    "median_body_size",
    "jitter",
    "acceleration_error",
    "bone_length_cv",
    "left_right_swaps",
    "sequence_arrays",
    "Jitter",
    "AccelerationError",
    "BoneLengthCV",
    "SwapCount",
]


def _tracks(name: str, x: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"'{name}' must be a numeric array") from None
    if a.ndim == 3:
        a = a[:, None]
        mask = None if mask is None else np.asarray(mask)[:, None]
    if a.ndim != 4 or a.shape[-1] not in (2, 3):
        raise ValidationError(f"Expected '{name}' to have shape (T, I, K, 2 or 3) or (T, K, 2 or 3), but got {np.shape(x)}")
    m = as_mask(f"{name} mask", mask, a.shape[:3])
    bad = m & ~np.isfinite(a).all(-1)
    if bad.any():
        i = first_bad(bad)
        raise ValidationError(
            f"'{name}' is {a[i].tolist()} at (time, individual, keypoint) {i} but is selected by the mask; "
            "exclude missing keypoints from the mask"
        )
    return a, m


def _time(time: Any, t: int) -> np.ndarray:
    tt = np.asarray(time, dtype=np.float64)
    if tt.shape != (t,):
        raise ValidationError(f"Expected 'time' to have shape ({t},), but got {tt.shape}")
    if not np.all(np.isfinite(tt)):
        raise ValidationError("'time' holds non-finite values")
    if t < 3:
        raise ValidationError(f"acceleration needs at least 3 frames, got {t}")
    dt = np.diff(tt)
    if np.any(dt <= 0):
        j = int(np.argmax(dt <= 0))
        raise ValidationError(
            f"'time' must be strictly increasing (seconds), but time[{j + 1}]={tt[j + 1]} <= time[{j}]={tt[j]}"
        )
    return tt


def acceleration(x: Any, time: Any, mask: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-keypoint acceleration from second differences over uneven time steps.

    Args:
        x: ``(T, I, K, D)`` or ``(T, K, D)`` positions.
        time: ``(T,)`` seconds, strictly increasing.
        mask: ``(T, I, K)`` (or ``(T, K)``) bool selected keypoints.

    Returns:
        ``acc (T − 2, I, K, D)`` in input units/s² (NaN where undefined) and ``valid (T − 2, I, K)``;
        index ``j`` is frame ``j + 1``.
    """
    a, m = _tracks("x", x, mask)
    tt = _time(time, a.shape[0])
    h1 = (tt[1:-1] - tt[:-2])[:, None, None, None]
    h2 = (tt[2:] - tt[1:-1])[:, None, None, None]
    valid = m[:-2] & m[1:-1] & m[2:]
    z = np.where(m[..., None], a, 0.0)
    acc = 2.0 * ((z[2:] - z[1:-1]) / h2 - (z[1:-1] - z[:-2]) / h1) / (h1 + h2)
    return np.where(valid[..., None], acc, np.nan), valid


def median_body_size(x: Any, mask: Any = None) -> np.ndarray:
    """Median over frames of the diagonal of the box around each individual's selected keypoints.

    Args:
        x: ``(T, I, K, D)`` or ``(T, K, D)``.
        mask: ``(T, I, K)`` bool.

    Returns:
        ``(I,)`` in input units; NaN for an individual never seen with two distinct keypoints.
    """
    a, m = _tracks("x", x, mask)
    big = np.where(m[..., None], a, np.nan)
    with np.errstate(all="ignore"), _quiet():
        diag = np.linalg.norm(np.nanmax(big, axis=2) - np.nanmin(big, axis=2), axis=-1)  # (T, I)
        diag = np.where(diag > 0, diag, np.nan)
        return np.nanmedian(diag, axis=0)


class _quiet:
    """Silence numpy's all-NaN RuntimeWarnings locally (no global warning filters)."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._w.__exit__(*exc)


def _norm(size: Any, i: int, default: np.ndarray | None, used: np.ndarray) -> np.ndarray:
    s = default if size is None else np.broadcast_to(np.asarray(size, dtype=np.float64), (i,)).copy()
    bad = used & ~(np.isfinite(s) & (s > 0))
    if bad.any():
        j = int(np.argmax(bad))
        raise ValidationError(f"body size of individual {j} is {s[j]!r}; it must be a finite positive number")
    return s


def _sums(acc_mag: np.ndarray, valid: np.ndarray) -> tuple[float, int]:
    return float(np.where(valid, acc_mag, 0.0).sum()), int(valid.sum())


def jitter(x: Any, time: Any, mask: Any = None, body_size: Any = None) -> float:
    """Mean acceleration magnitude per body size, in body sizes/s² (see the module docstring).

    Args:
        x: ``(T, I, K, D)`` or ``(T, K, D)`` positions (pixels or metres).
        time: ``(T,)`` seconds.
        mask: ``(T, I, K)`` bool (``None`` = all).
        body_size: ``(I,)`` or a scalar in the units of ``x`` (default :func:`median_body_size`); pass 1 for
            raw units/s².

    Raises:
        ValidationError: fewer than 3 frames, non-increasing time, NaN under the mask, no keypoint
            selected in 3 consecutive frames, or an unusable body size.
    """
    s, c = _jitter_sums(x, time, mask, body_size)
    return s / c


def _jitter_sums(x: Any, time: Any, mask: Any, size: Any) -> tuple[float, int]:
    acc, valid = acceleration(x, time, mask)
    if not valid.any():
        raise ValidationError("no keypoint is selected in 3 consecutive frames; jitter is undefined")
    a, m = _tracks("x", x, mask)
    used = valid.any(axis=(0, 2))
    s = _norm(size, a.shape[1], median_body_size(a, m) if size is None else None, used)
    mag = np.linalg.norm(np.nan_to_num(acc), axis=-1) / np.where(used, s, 1.0)[None, :, None]
    return _sums(mag, valid)


def acceleration_error(pred: Any, gt: Any, time: Any, mask: Any = None, body_size: Any = None) -> float:
    """Mean ``|a_pred − a_gt|`` per body size (body sizes/s²; default body size from the ground truth).

    Args:
        pred: ``(T, I, K, D)`` predictions.
        gt: ``(T, I, K, D)`` ground truth, individuals in the same order.
        time: ``(T,)`` seconds.
        mask: ``(T, I, K)`` bool pairs to evaluate (both must be finite there).
        body_size: ``(I,)`` or scalar (pass 1 for raw units/s²).
    """
    s, c = _accel_error_sums(pred, gt, time, mask, body_size)
    return s / c


def _accel_error_sums(pred: Any, gt: Any, time: Any, mask: Any, size: Any) -> tuple[float, int]:
    p, m = _tracks("pred", pred, mask)
    g, _ = _tracks("gt", gt, m if np.ndim(gt) == 4 else m[:, 0])
    if p.shape != g.shape:
        raise ValidationError(f"'pred' and 'gt' must have the same shape, but got {p.shape} and {g.shape}")
    ap, valid = acceleration(p, time, m)
    ag, _ = acceleration(g, time, m)
    if not valid.any():
        raise ValidationError("no keypoint is selected in 3 consecutive frames; acceleration error is undefined")
    used = valid.any(axis=(0, 2))
    s = _norm(size, p.shape[1], median_body_size(g, m) if size is None else None, used)
    mag = np.linalg.norm(np.nan_to_num(ap - ag), axis=-1) / np.where(used, s, 1.0)[None, :, None]
    return _sums(mag, valid)


def _edge_array(edges: Any, k: int) -> np.ndarray:
    if isinstance(edges, (str, Skeleton)):
        sk = get_skeleton(edges)
        if len(sk) != k:
            raise ValidationError(f"skeleton {sk.name!r} has {len(sk)} keypoints, the poses have {k}")
        edges = sk.edges
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if e.size == 0 or e.min() < 0 or e.max() >= k:
        raise ValidationError(f"bones must be index pairs in 0..{k - 1}")
    return e


def _bone_stats(x: Any, edges: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per (individual, bone): CV and the number of frames used."""
    a, m = _tracks("x", x, mask)
    e = _edge_array(edges, a.shape[2])
    both = m[:, :, e[:, 0]] & m[:, :, e[:, 1]]  # (T, I, B)
    length = np.linalg.norm(np.where(both[..., None], a[:, :, e[:, 0]] - a[:, :, e[:, 1]], 0.0), axis=-1)
    n = both.sum(0)
    mean = np.where(both, length, 0.0).sum(0) / np.maximum(n, 1)
    var = np.where(both, (length - mean[None]) ** 2, 0.0).sum(0) / np.maximum(n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where((n >= 2) & (mean > 0), np.sqrt(var) / mean, np.nan)
    return cv, n


def bone_length_cv(x: Any, edges: Any, mask: Any = None) -> KeypointScore:
    """Coefficient of variation of each bone's length over time, per individual.

    Args:
        x: ``(T, I, K, D)`` or ``(T, K, D)``.
        edges: ``(B, 2)`` index pairs, or a skeleton (its edges).
        mask: ``(T, I, K)`` bool.

    Returns:
        :class:`KeypointScore`: ``value`` = mean CV over (individual, bone) pairs with ≥ 2 frames;
        ``per_keypoint (B,)`` = per bone, mean over individuals; ``count (B,)`` = individuals used.
    """
    cv, _ = _bone_stats(x, edges, mask)
    ok = np.isfinite(cv)
    if not ok.any():
        raise ValidationError("no bone is seen in 2 or more frames; bone-length variation is undefined")
    cnt = ok.sum(0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(cnt > 0, np.nansum(np.where(ok, cv, 0.0), 0) / np.maximum(cnt, 1), np.nan)
    return KeypointScore(float(cv[ok].mean()), per, cnt)


def _flip_perm(flip: Any, k: int) -> np.ndarray:
    if isinstance(flip, (str, Skeleton)):
        sk = get_skeleton(flip)
        if len(sk) != k:
            raise ValidationError(f"skeleton {sk.name!r} has {len(sk)} keypoints, the poses have {k}")
        if not sk.flip_pairs:
            raise ValidationError(f"skeleton {sk.name!r} has no left/right pairs")
        return sk.flip_index
    pairs = np.asarray(flip, dtype=np.int64).reshape(-1, 2)
    if pairs.size == 0 or pairs.min() < 0 or pairs.max() >= k:
        raise ValidationError(f"flip pairs must be index pairs in 0..{k - 1}")
    perm = np.arange(k)
    perm[pairs[:, 0]], perm[pairs[:, 1]] = pairs[:, 1], pairs[:, 0]
    return perm


def _closer_flipped(p: np.ndarray, pm: np.ndarray, r: np.ndarray, rm: np.ndarray, perm: np.ndarray, margin: float) -> np.ndarray:
    """(…) bool: the flipped ``p`` is closer to ``r`` than ``p``, over paired keypoints selected in all."""
    paired = perm != np.arange(len(perm))
    sel = pm & pm[..., perm] & rm & rm[..., perm] & paired
    d_id = np.linalg.norm(np.where(sel[..., None], p - r, 0.0), axis=-1).sum(-1)
    d_fl = np.linalg.norm(np.where(sel[..., None], p[..., perm, :] - r, 0.0), axis=-1).sum(-1)
    return sel.any(-1) & (d_fl < (1.0 - margin) * d_id)


def left_right_swaps(
    pred: Any, flip: Any, mask: Any = None, *, gt: Any = None, gt_mask: Any = None, margin: float = 0.0
) -> np.ndarray:
    """Which (frame, individual) predictions have left and right exchanged.

    Args:
        pred: ``(T, I, K, D)`` or ``(T, K, D)``.
        flip: a skeleton (its flip pairs) or ``(P, 2)`` left/right index pairs.
        mask: ``(T, I, K)`` selected predicted keypoints.
        gt: optional ground truth of the same shape; without it each frame is compared with the
            previous frame of the same individual.
        gt_mask: ``(T, I, K)`` selected ground-truth keypoints.
        margin: the flipped distance must be below ``(1 − margin) ×`` the unflipped one.

    Returns:
        ``(T, I)`` bool (row 0 is always False without ground truth); ``.sum()`` is the swap count.
    """
    p, pm = _tracks("pred", pred, mask)
    perm = _flip_perm(flip, p.shape[2])
    if gt is not None:
        g, gm = _tracks("gt", gt, gt_mask)
        if g.shape != p.shape:
            raise ValidationError(f"'pred' and 'gt' must have the same shape, but got {p.shape} and {g.shape}")
        return _closer_flipped(p, pm, g, gm, perm, margin)
    out = np.zeros(p.shape[:2], bool)
    if len(p) > 1:
        out[1:] = _closer_flipped(p[1:], pm[1:], p[:-1], pm[:-1], perm, margin)
    return out


# ---------------------------------------------------------------------------------------------------
# sequences and accumulators
# ---------------------------------------------------------------------------------------------------
def sequence_arrays(seq: PoseSequence, coords: str = "image") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x (T, I, K, D)``, ``time (T,)`` and ``mask (T, I, K)`` of a :class:`PoseSequence`.

    Args:
        seq: the sequence.
        coords: ``"image"`` (``xy`` pixels) or ``"world"`` (``world`` metres; keypoints without world
            coordinates are left out).
    """
    if not isinstance(seq, PoseSequence):
        raise ValidationError(f"expected a PoseSequence, got {type(seq).__name__}")
    if coords == "image":
        return seq.xy, seq.time, seq.present
    if coords == "world":
        if seq.world is None:
            raise ValidationError("the sequence has no world coordinates")
        return seq.world, seq.time, seq.present & np.isfinite(seq.world).all(-1)
    raise ValueError(f"coords must be 'image' or 'world', got {coords!r}")


class _SeqMetric:
    def __init__(self, coords: str = "image") -> None:
        if coords not in ("image", "world"):
            raise ValueError(f"coords must be 'image' or 'world', got {coords!r}")
        self.coords = coords
        self.reset()

    def reset(self) -> "_SeqMetric":
        """Forget everything added."""
        self._sum, self._count, self.sequences = 0.0, 0, 0
        return self

    def _value(self, key: str) -> dict[str, Any]:
        if self._count == 0:
            raise ValidationError("nothing to evaluate: no sequence was added")
        return {key: self._sum / self._count, "count": self._count, "sequences": self.sequences}


class Jitter(_SeqMetric):
    """Jitter accumulator over sequences (body sizes/s²).

    Args:
        coords: ``"image"`` or ``"world"``.
        body_size: fixed body size in the units of ``coords`` (default: per individual,
            :func:`median_body_size`).

    ``update(seq)`` takes a :class:`PoseSequence`; ``compute()`` returns ``{"jitter", "count",
    "sequences"}`` (``count`` = accelerations averaged).
    """

    def __init__(self, coords: str = "image", body_size: float | None = None) -> None:
        self.size = body_size
        super().__init__(coords)

    def update(self, seq: PoseSequence) -> "Jitter":
        """Add a sequence. Returns ``self``."""
        x, t, m = sequence_arrays(seq, self.coords)
        s, c = _jitter_sums(x, t, m, self.size)
        self._sum += s
        self._count += c
        self.sequences += 1
        return self

    def compute(self) -> dict[str, Any]:
        """Mean jitter over every acceleration added."""
        return self._value("jitter")


class AccelerationError(_SeqMetric):
    """Acceleration-error accumulator (body sizes/s²; body size of the ground truth).

    ``update(pred, gt)`` takes two :class:`PoseSequence` s with the same times and individuals in the
    same order (match identities first); pairs present in both are evaluated.
    """

    def __init__(self, coords: str = "image", body_size: float | None = None) -> None:
        self.size = body_size
        super().__init__(coords)

    def update(self, pred: PoseSequence, gt: PoseSequence) -> "AccelerationError":
        """Add a predicted sequence and its ground truth. Returns ``self``."""
        p, t, pm = sequence_arrays(pred, self.coords)
        g, tg, gm = sequence_arrays(gt, self.coords)
        if pred.skeleton.name != gt.skeleton.name:
            raise ValidationError(f"predictions are {pred.skeleton.name!r}, ground truth is {gt.skeleton.name!r}")
        if p.shape != g.shape or not np.array_equal(t, tg):
            raise ValidationError("predicted and ground-truth sequences must share times and individuals")
        s, c = _accel_error_sums(p, g, t, pm & gm, self.size)
        self._sum += s
        self._count += c
        self.sequences += 1
        return self

    def compute(self) -> dict[str, Any]:
        """Mean acceleration error over everything added."""
        return self._value("acceleration_error")


class BoneLengthCV(_SeqMetric):
    """Bone-length coefficient-of-variation accumulator (per individual and bone, then mean).

    ``update(seq)`` takes a :class:`PoseSequence` (bones = its skeleton's edges); ``compute()`` returns
    ``{"bone_cv", "count", "sequences"}`` (``count`` = (individual, bone) pairs averaged).
    """

    def update(self, seq: PoseSequence) -> "BoneLengthCV":
        """Add a sequence. Returns ``self``."""
        x, _, m = sequence_arrays(seq, self.coords)
        cv, _ = _bone_stats(x, seq.skeleton, m)
        ok = np.isfinite(cv)
        self._sum += float(cv[ok].sum())
        self._count += int(ok.sum())
        self.sequences += 1
        return self

    def compute(self) -> dict[str, Any]:
        """Mean bone-length CV over everything added."""
        return self._value("bone_cv")


class SwapCount(_SeqMetric):
    """Left/right swap counter over sequences (see :func:`left_right_swaps`).

    ``update(pred, gt=None)``; ``compute()`` returns ``{"swaps", "frames", "sequences"}`` where
    ``frames`` counts (frame, individual) pairs that were checked.
    """

    def __init__(self, coords: str = "image", margin: float = 0.0) -> None:
        self.margin = float(margin)
        super().__init__(coords)

    def update(self, pred: PoseSequence, gt: PoseSequence | None = None) -> "SwapCount":
        """Add a sequence (and optionally its ground truth, same times and individuals). Returns ``self``."""
        p, _, pm = sequence_arrays(pred, self.coords)
        if gt is not None:
            g, _, gm = sequence_arrays(gt, self.coords)
            if gt.skeleton.name != pred.skeleton.name:
                raise ValidationError(f"predictions are {pred.skeleton.name!r}, ground truth is {gt.skeleton.name!r}")
            sw = left_right_swaps(p, pred.skeleton, pm, gt=g, gt_mask=gm, margin=self.margin)
            checked = (pm & gm).any(-1)
        else:
            sw = left_right_swaps(p, pred.skeleton, pm, margin=self.margin)
            checked = np.zeros(sw.shape, bool)
            checked[1:] = pm[1:].any(-1) & pm[:-1].any(-1)
        self._sum += float(sw.sum())
        self._count += int(checked.sum())
        self.sequences += 1
        return self

    def compute(self) -> dict[str, Any]:
        """The number of swaps over everything added."""
        if self.sequences == 0:
            raise ValidationError("nothing to evaluate: no sequence was added")
        return {"swaps": int(self._sum), "frames": self._count, "sequences": self.sequences}
