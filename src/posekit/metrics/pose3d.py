"""3D pose error: MPJPE, PA-MPJPE, N-MPJPE, per-joint error and bone-length error.

Inputs are ``(N, K, 3)`` arrays in one unit (metres for posekit world landmarks; the result is in the
same unit) with an explicit boolean ``mask (N, K)`` of the joints to evaluate (``None`` = all). Errors
are pooled over every evaluated (sample, joint) pair, as mmpose's ``keypoint_mpjpe``.

Alignments (computed per sample from the evaluated joints only):

* ``"none"``: MPJPE as given. For Human3.6M protocol #1, make both root-relative first
  (:func:`root_relative`).
* ``"scale"`` (N-MPJPE, Rhodin et al. 2018): the prediction is scaled by the least-squares factor
  ``s = Σ p·g / Σ p·p`` (no rotation, no translation; use root-relative inputs).
* ``"procrustes"`` (PA-MPJPE, protocol #2): the similarity transform (scale, rotation, translation)
  that best maps the prediction onto the ground truth in the least-squares sense (Umeyama 1991). The
  rotation is proper (determinant +1): a mirrored prediction is not "aligned" by a reflection.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from posekit.errors import ValidationError
from posekit.poses import PoseFrame
from posekit.skeletons import Skeleton, get_skeleton

from ._validate import KeypointScore, as_points, check_pair, pooled

__all__ = [
    "procrustes_align",
    "scale_align",
    "root_relative",
    "mpjpe",
    "pa_mpjpe",
    "n_mpjpe",
    "per_joint_error",
    "bone_length_error",
    "MPJPE",
]

ALIGNMENTS = ("none", "scale", "procrustes")


def root_relative(xyz: Any, root: int | Sequence[int]) -> np.ndarray:
    """Subtract the root joint (or the mean of several joints, e.g. both hips) from every joint.

    Args:
        xyz: ``(N, K, 3)``.
        root: a joint index, or indices whose mean is the root.

    Returns:
        ``(N, K, 3)`` root-relative coordinates (NaN where the root is NaN).
    """
    a = as_points("xyz", xyz, dims=(3,))
    idx = [root] if isinstance(root, (int, np.integer)) else list(root)
    return a - a[:, idx].mean(axis=1, keepdims=True)


def procrustes_align(pred: Any, gt: Any, mask: Any = None, *, scale: bool = True) -> np.ndarray:
    """Map each predicted pose onto its ground truth by the best similarity transform.

    Args:
        pred: ``(N, K, 3)``.
        gt: ``(N, K, 3)``.
        mask: ``(N, K)`` joints used to fit the transform (``None`` = all). Samples with no selected
            joint are returned unchanged.
        scale: also fit a scale (``False``: rotation and translation only).

    Returns:
        ``(N, K, 3)`` aligned predictions (all joints transformed, fitted on the selected ones).

    Raises:
        ValidationError: a sample has 1 or 2 selected joints, or all its selected predicted joints
            coincide (the transform is undefined).
    """
    p, g, m, _ = check_pair(pred, gt, mask, dims=(3,), what="joints")
    out = p.copy()
    for n in range(len(p)):
        sel = m[n]
        c = int(sel.sum())
        if c == 0:
            continue
        if c < 3:
            raise ValidationError(f"sample {n} has {c} selected joint(s); Procrustes alignment needs at least 3")
        x, y = p[n, sel], g[n, sel]
        mx, my = x.mean(0), y.mean(0)
        x0, y0 = x - mx, y - my
        var_x = float((x0**2).sum())
        if var_x <= 0:
            raise ValidationError(f"sample {n}: all selected predicted joints coincide; Procrustes alignment is undefined")
        u, s, vt = np.linalg.svd(y0.T @ x0)  # cross-covariance Σ_yx
        d = np.ones(3)
        if np.linalg.det(u) * np.linalg.det(vt) < 0:
            d[-1] = -1.0  # the best *proper* rotation (no reflection)
        r = (u * d) @ vt
        k = float((s * d).sum() / var_x) if scale else 1.0
        out[n] = k * (p[n] - mx) @ r.T + my
    return out


def scale_align(pred: Any, gt: Any, mask: Any = None) -> np.ndarray:
    """Scale each predicted pose by the least-squares factor ``Σ p·g / Σ p·p`` over its selected joints.

    Args:
        pred: ``(N, K, 3)`` (root-relative).
        gt: ``(N, K, 3)`` (root-relative).
        mask: ``(N, K)`` (``None`` = all).

    Returns:
        ``(N, K, 3)`` scaled predictions.
    """
    p, g, m, _ = check_pair(pred, gt, mask, dims=(3,), what="joints")
    pz = np.where(m[..., None], p, 0.0)
    gz = np.where(m[..., None], g, 0.0)
    pp = np.einsum("nkc,nkc->n", pz, pz)
    pg = np.einsum("nkc,nkc->n", pz, gz)
    rows = m.any(1)
    if np.any(rows & (pp <= 0)):
        n = int(np.argmax(rows & (pp <= 0)))
        raise ValidationError(f"sample {n}: the selected predicted joints are all at the origin; the scale is undefined")
    k = np.where(rows, pg / np.where(pp > 0, pp, 1.0), 1.0)
    return p * k[:, None, None]


def _aligned(pred: Any, gt: Any, mask: Any, alignment: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if alignment not in ALIGNMENTS:
        raise ValueError(f"alignment must be one of {ALIGNMENTS}, got {alignment!r}")
    p, g, m, _ = check_pair(pred, gt, mask, dims=(3,), what="joints")
    if alignment == "procrustes":
        p = procrustes_align(p, g, m)
    elif alignment == "scale":
        p = scale_align(p, g, m)
    return p, g, m


def per_joint_error(pred: Any, gt: Any, mask: Any = None, *, alignment: str = "none") -> KeypointScore:
    """Mean per-joint position error with its per-joint breakdown.

    Args:
        pred: ``(N, K, 3)``.
        gt: ``(N, K, 3)``.
        mask: ``(N, K)`` bool (``None`` = all).
        alignment: ``"none"``, ``"scale"`` or ``"procrustes"`` (see the module docstring).

    Returns:
        :class:`KeypointScore` in the unit of the input.
    """
    p, g, m = _aligned(pred, gt, mask, alignment)
    d = np.linalg.norm(np.where(m[..., None], p - g, 0.0), axis=-1)
    return pooled(d, m)


def mpjpe(pred: Any, gt: Any, mask: Any = None, *, alignment: str = "none") -> float:
    """Mean per-joint position error (unit of the input), pooled over all evaluated joints."""
    return per_joint_error(pred, gt, mask, alignment=alignment).value


def pa_mpjpe(pred: Any, gt: Any, mask: Any = None) -> float:
    """MPJPE after Procrustes alignment (scale, proper rotation, translation)."""
    return mpjpe(pred, gt, mask, alignment="procrustes")


def n_mpjpe(pred: Any, gt: Any, mask: Any = None) -> float:
    """MPJPE after least-squares scaling of the prediction (N-MPJPE)."""
    return mpjpe(pred, gt, mask, alignment="scale")


def _edges(edges: Any, k: int) -> np.ndarray:
    if isinstance(edges, (str, Skeleton)):
        sk = get_skeleton(edges)
        if len(sk) != k:
            raise ValidationError(f"skeleton {sk.name!r} has {len(sk)} keypoints, the poses have {k}")
        edges = sk.edges
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if e.size == 0:
        raise ValidationError("no bones (edges) given")
    if e.min() < 0 or e.max() >= k:
        raise ValidationError(f"bone indices must lie in 0..{k - 1}")
    return e


def bone_length_error(pred: Any, gt: Any, edges: Any, mask: Any = None) -> KeypointScore:
    """Mean absolute bone-length difference ``| |p_a − p_b| − |g_a − g_b| |``.

    Args:
        pred: ``(N, K, D)``.
        gt: ``(N, K, D)``.
        edges: ``(B, 2)`` joint index pairs, or a skeleton (its edges).
        mask: ``(N, K)`` bool; a bone is evaluated where both its joints are selected.

    Returns:
        :class:`KeypointScore` whose ``per_keypoint``/``count`` are per bone ``(B,)``; unit of the input.
    """
    p, g, m, _ = check_pair(pred, gt, mask, what="joints")
    e = _edges(edges, p.shape[1])
    bm = m[:, e[:, 0]] & m[:, e[:, 1]]
    if not bm.any():
        raise ValidationError("no bone has both of its joints selected by the mask")
    lp = np.linalg.norm(np.where(bm[..., None], p[:, e[:, 0]] - p[:, e[:, 1]], 0.0), axis=-1)
    lg = np.linalg.norm(np.where(bm[..., None], g[:, e[:, 0]] - g[:, e[:, 1]], 0.0), axis=-1)
    return pooled(np.abs(lp - lg), bm)


class MPJPE:
    """3D error accumulator: MPJPE, PA-MPJPE, N-MPJPE, per-joint and (with a skeleton) bone-length error.

    Args:
        skeleton: the joints' layout (for the bone-length error), or ``None``.

    ``update(pred, gt, mask=None)`` takes ``(N, K, 3)`` arrays (or one ``(K, 3)`` pose), or two
    :class:`PoseFrame` s with ``world`` coordinates (mask: joints present in both). ``compute()``
    returns ``{"mpjpe", "pa_mpjpe", "n_mpjpe", "per_joint" (K,), "pa_per_joint" (K,), "bone_error"
    (with a skeleton), "samples", "joints"}`` in the unit of the input.
    """

    def __init__(self, skeleton: str | Skeleton | None = None) -> None:
        self.skeleton = None if skeleton is None else get_skeleton(skeleton)
        self.reset()

    def reset(self) -> "MPJPE":
        """Forget everything added."""
        self._p: list[np.ndarray] = []
        self._g: list[np.ndarray] = []
        self._m: list[np.ndarray] = []
        return self

    def update(self, pred: Any, gt: Any, mask: Any = None) -> "MPJPE":
        """Add poses (see the class docstring). Returns ``self``."""
        if isinstance(pred, PoseFrame) or isinstance(gt, PoseFrame):
            if not (isinstance(pred, PoseFrame) and isinstance(gt, PoseFrame)):
                raise ValidationError("pass two PoseFrames or two arrays")
            if pred.skeleton.name != gt.skeleton.name:
                raise ValidationError(f"predictions are {pred.skeleton.name!r}, ground truth is {gt.skeleton.name!r}")
            if pred.world is None or gt.world is None:
                raise ValidationError("both frames need world (3D) coordinates")
            if mask is None:
                mask = pred.present & gt.present
            pred, gt = pred.world, gt.world
        p = np.asarray(pred, dtype=np.float64)
        g = np.asarray(gt, dtype=np.float64)
        if p.ndim == 2:
            p, g = p[None], g[None]
            mask = None if mask is None else np.asarray(mask)[None]
        p, g, m, _ = check_pair(p, g, mask, dims=(3,), what="joints")
        if self._p and p.shape[1] != self._p[0].shape[1]:
            raise ValidationError(f"poses with {p.shape[1]} joints after poses with {self._p[0].shape[1]}")
        if self.skeleton is not None and p.shape[1] != len(self.skeleton):
            raise ValidationError(f"poses have {p.shape[1]} joints, skeleton {self.skeleton.name!r} has {len(self.skeleton)}")
        self._p.append(p)
        self._g.append(g)
        self._m.append(m)
        return self

    def compute(self) -> dict[str, Any]:
        """The errors over everything added."""
        if not self._p:
            raise ValidationError("nothing to evaluate: no pose was added")
        p, g, m = np.concatenate(self._p), np.concatenate(self._g), np.concatenate(self._m)
        plain = per_joint_error(p, g, m)
        pa = per_joint_error(p, g, m, alignment="procrustes")
        out: dict[str, Any] = {
            "mpjpe": plain.value,
            "pa_mpjpe": pa.value,
            "n_mpjpe": mpjpe(p, g, m, alignment="scale"),
            "per_joint": plain.per_keypoint,
            "pa_per_joint": pa.per_keypoint,
            "samples": int(m.any(1).sum()),
            "joints": int(m.sum()),
        }
        if self.skeleton is not None and self.skeleton.edges:
            out["bone_error"] = bone_length_error(p, g, self.skeleton, m).value
        return out
