"""Input checks shared by the metric functions.

Every metric refuses input that would give a silently wrong number: arrays of mismatched shapes, masks of
the wrong shape or type, NaN or infinity where a number is needed, and empty selections all raise
:class:`~posekit.errors.ValidationError` with a message that says which argument is wrong and how.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from posekit.errors import ValidationError

__all__ = ["KeypointScore", "as_points", "as_mask", "check_pair", "check_norm", "first_bad"]


class KeypointScore(NamedTuple):
    """A score pooled over keypoints, with its per-keypoint breakdown.

    Attributes:
        value: the score over every evaluated (sample, keypoint) pair (pooled, i.e. the per-keypoint
            values weighted by their counts).
        per_keypoint: ``(K,)`` the score of each keypoint; NaN where a keypoint was never evaluated.
        count: ``(K,)`` int64 number of evaluated samples per keypoint.
    """

    value: float
    per_keypoint: np.ndarray
    count: np.ndarray


def first_bad(bad: np.ndarray) -> tuple[int, ...]:
    """Index of the first True entry of a boolean array."""
    return tuple(int(i) for i in np.argwhere(bad)[0])


def as_points(name: str, a: Any, *, dims: tuple[int, ...] = (2, 3), ndim: int = 3) -> np.ndarray:
    """A float64 array of points with ``ndim`` axes whose last axis has a length in ``dims``.

    Raises:
        ValidationError: not numeric, wrong number of axes or wrong coordinate count.
    """
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"'{name}' must be a numeric array, got {type(a).__name__}") from None
    if arr.ndim != ndim or arr.shape[-1] not in dims:
        want = "(" + ", ".join(["?"] * (ndim - 1)) + f", {' or '.join(str(d) for d in dims)})"
        raise ValidationError(f"Expected '{name}' to have shape {want}, but got {arr.shape}")
    return arr


def as_mask(name: str, mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A boolean mask of exactly ``shape`` (``None`` = everything selected).

    Integer masks are accepted when they hold only 0 and 1; anything else (e.g. COCO visibility flags
    0/1/2, or keypoint states) must be turned into a boolean mask by the caller, so that the meaning of
    the selection is explicit.
    """
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValidationError(f"Expected '{name}' to have shape {shape}, but got {m.shape}")
    if m.dtype == bool:
        return m
    if m.dtype.kind in "iu" and np.isin(m, (0, 1)).all():
        return m.astype(bool)
    raise ValidationError(f"'{name}' must be a boolean mask (or 0/1 integers), got dtype {m.dtype}")


def check_pair(
    pred: Any,
    gt: Any,
    mask: Any = None,
    *,
    dims: tuple[int, ...] = (2, 3),
    missing: str = "error",
    what: str = "keypoints",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check predictions ``(N, K, D)`` against ground truth of the same shape under a mask ``(N, K)``.

    Args:
        pred: predicted points.
        gt: ground-truth points.
        mask: ``(N, K)`` bool, the pairs to evaluate (``None`` = all).
        dims: accepted coordinate counts D.
        missing: what a non-finite prediction under the mask means: ``"error"`` (raise) or ``"miss"``
            (the pair is evaluated and counts as a failure; see the returned ``pred_ok``).
        what: noun for messages.

    Returns:
        ``pred, gt, mask, pred_ok`` where ``pred_ok (N, K)`` is True where the prediction is finite.

    Raises:
        ValidationError: shapes differ, the mask selects nothing, the ground truth is not finite under
            the mask, or a prediction is not finite under the mask while ``missing="error"``.
    """
    p = as_points("pred", pred, dims=dims)
    g = as_points("gt", gt, dims=dims)
    if p.shape != g.shape:
        raise ValidationError(
            f"'pred' and 'gt' must have the same shape, but got {p.shape} and {g.shape} "
            "(a different number of samples, or predictions for another skeleton?)"
        )
    m = as_mask("mask", mask, p.shape[:2])
    if not m.any():
        raise ValidationError(f"nothing to evaluate: no {what} selected (empty input or an all-False mask)")
    g_bad = m & ~np.isfinite(g).all(-1)
    if g_bad.any():
        i = first_bad(g_bad)
        raise ValidationError(
            f"'gt' {what[:-1] if what.endswith('s') else what} at index {i} is {g[i].tolist()} but is selected by the mask; "
            "exclude missing ground truth from the mask"
        )
    p_ok = np.isfinite(p).all(-1)
    if missing == "error":
        p_bad = m & ~p_ok
        if p_bad.any():
            i = first_bad(p_bad)
            raise ValidationError(
                f"'pred' {what[:-1] if what.endswith('s') else what} at index {i} is {p[i].tolist()} but is selected by the mask; "
                "a missing prediction has no position (exclude it from the mask, or count it as a miss)"
            )
    elif missing != "miss":
        raise ValueError(f"missing must be 'error' or 'miss', got {missing!r}")
    return p, g, m, p_ok


def check_norm(name: str, norm: Any, n: int, rows: np.ndarray) -> np.ndarray:
    """A per-sample normaliser ``(N,)``, finite and positive wherever ``rows`` is True.

    Raises:
        ValidationError: wrong shape, or a non-finite / non-positive value for an evaluated sample.
    """
    try:
        a = np.asarray(norm, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"'{name}' must be numeric, got {type(norm).__name__}") from None
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValidationError(f"Expected '{name}' to have shape ({n},), but got {a.shape}")
    bad = rows & ~(np.isfinite(a) & (a > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"'{name}' of sample {i} is {a[i]!r}; a normaliser must be a finite positive number")
    return a


def pooled(values: np.ndarray, mask: np.ndarray) -> KeypointScore:
    """Pool ``values (N, K)`` over ``mask (N, K)`` into a :class:`KeypointScore`."""
    count = mask.sum(0).astype(np.int64)
    total = np.where(mask, values, 0.0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return KeypointScore(float(total.sum() / count.sum()), per, count)
