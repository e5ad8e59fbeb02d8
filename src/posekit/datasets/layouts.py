"""Layout conversion helpers beyond the exact tables: derived midpoints.

The conversion tables in :mod:`posekit.skeletons` only map keypoints that are the same anatomical point.
Some dataset joints are, by the dataset's own construction, midpoints of points a predictor does have;
:func:`derive_midpoints` fills those, explicitly and separately from the tables:

* ``h36m17`` ``pelvis``: Human3.6M's pelvis is exactly the midpoint of its hip joints (0.0 mm apart in
  every shared frame). Its ``thorax`` is *not* the shoulder midpoint (4–8 cm off), so it is not derived.
* ``panoptic19`` ``body_center``: the midpoint of the hips (to 0.01 mm in 55 of the 57 shared
  person-frames with both hips; the other two, at confidence 0.15, are 3 and 32 cm off); ``neck``: the
  shoulder midpoint to within 1.5 cm (OpenPose's neck).

A derived point inherits the error of its sources: BlazePose's hips are surface landmarks, not the joint
centres of a motion-capture skeleton. Its state is the sources' common state when they share one, else
OCCLUDED; its score is the smallest source score; it is MISSING when any source is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

import numpy as np

from posekit.poses import KeypointState, PoseFrame, PoseSequence
from posekit.skeletons import Skeleton, get_skeleton

__all__ = ["DERIVED_MIDPOINTS", "derive_midpoints", "convert"]

P = TypeVar("P", PoseFrame, PoseSequence)

#: target layout → {target keypoint: source keypoint names whose mean it is}.
DERIVED_MIDPOINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "h36m17": {"pelvis": ("left_hip", "right_hip")},
    "panoptic19": {"body_center": ("left_hip", "right_hip"), "neck": ("left_shoulder", "right_shoulder")},
}


def derive_midpoints(src: P, dst: P, rules: Mapping[str, tuple[str, ...]]) -> P:
    """Fill target keypoints of ``dst`` as the mean of named keypoints of ``src``.

    Args:
        src: the poses in their own layout (e.g. BlazePose-33).
        dst: the same poses already converted to the target layout (same people/time axes).
        rules: target keypoint name → source keypoint names (see :data:`DERIVED_MIDPOINTS`).

    Returns:
        A copy of ``dst`` with the rule targets replaced (``xy``, ``z``, ``world``, ``score``, ``state``).

    Raises:
        KeyError: a rule names a keypoint that a layout lacks.
        ValueError: ``src`` and ``dst`` do not hold the same people/frames.
    """
    if src.xy.shape[:-2] != dst.xy.shape[:-2]:
        raise ValueError(f"src has people/time axes {src.xy.shape[:-2]}, dst {dst.xy.shape[:-2]}")
    xy, score, state = dst.xy.copy(), dst.score.copy(), dst.state.copy()
    z = None if dst.z is None else dst.z.copy()
    world = None if dst.world is None else dst.world.copy()
    for target, names in rules.items():
        j = dst.skeleton.index(target)
        idx = [src.skeleton.index(n) for n in names]
        st = src.state[..., idx]
        ok = (st != KeypointState.MISSING).all(-1)
        same = (st == st[..., :1]).all(-1)
        new_state = np.where(ok, np.where(same, st[..., 0], KeypointState.OCCLUDED), KeypointState.MISSING)
        state[..., j] = new_state
        xy[..., j, :] = np.where(ok[..., None], src.xy[..., idx, :].mean(-2), np.nan)
        score[..., j] = np.where(ok, src.score[..., idx].min(-1), 0.0)
        if z is not None:
            z[..., j] = np.where(ok, src.z[..., idx].mean(-1), np.nan) if src.z is not None else np.nan
        if world is not None:
            w = src.world[..., idx, :].mean(-2) if src.world is not None else np.nan
            world[..., j, :] = np.where(ok[..., None], w, np.nan)
    out = replace(dst, xy=xy, score=score, state=state, z=z, world=world)
    if isinstance(out, PoseSequence):
        out.provenance = list(dst.provenance)
        out.log_step("derive_midpoints", rules={k: list(v) for k, v in rules.items()})
    return out


def convert(poses: P, layout: str | Skeleton, *, derived: bool = False) -> P:
    """Convert through the registered table; with ``derived=True`` also fill :data:`DERIVED_MIDPOINTS`.

    Raises:
        KeyError: no table from the poses' layout to ``layout``.
    """
    dst = get_skeleton(layout)
    out = poses.to_skeleton(dst)
    if derived and dst.name in DERIVED_MIDPOINTS:
        out = derive_midpoints(poses, out, DERIVED_MIDPOINTS[dst.name])
    return out
