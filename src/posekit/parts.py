"""Attach hands (21 points) and the face mesh (468 points) to the bodies of a frame.

Each part becomes a :class:`~posekit.poses.PoseFrame` with one row per body, so part ``p`` of body ``i`` is
``frame.parts[p][i]``. A body without that part (not found, or its wrist/head not visible) has every
keypoint ``MISSING`` — never a made-up position.
"""

from __future__ import annotations

import numpy as np

from .models.face import FacePipeline, FaceResult
from .models.hands import HandPipeline
from .poses import KeypointState, PoseFrame
from .skeletons import FACE468, HAND21

__all__ = ["hand_parts", "face_part"]


def _fill(part: PoseFrame, i: int, xy: np.ndarray, z: np.ndarray, score: float, world: np.ndarray | None) -> None:
    part.xy[i] = xy
    part.z[i] = z
    part.score[i] = score
    part.state[i] = KeypointState.VISIBLE
    part.box[i] = np.concatenate([xy.min(0), xy.max(0)])
    part.box_score[i] = score
    if world is not None and part.world is not None:
        part.world[i] = world


def hand_parts(
    pipeline: HandPipeline, image: np.ndarray, bodies_xy: np.ndarray, bodies_vis: np.ndarray, min_visibility: float
) -> dict[str, PoseFrame]:
    """Hands of each body as parts ``"left_hand"`` and ``"right_hand"`` (the person's anatomical sides).

    Args:
        pipeline: the hand models.
        image: ``(H, W, 3)`` uint8 RGB.
        bodies_xy: ``(N, 33, 2)`` BlazePose landmarks, pixels.
        bodies_vis: ``(N, 33)`` BlazePose visibility.
        min_visibility: unused by the crop itself (the pipeline decides); kept for a uniform signature.

    Returns:
        ``{"left_hand": PoseFrame(hand21, N), "right_hand": PoseFrame(hand21, N)}``; the extra
        ``"handedness_score"`` (N,) holds the model's confidence that the hand is on that side.
    """
    n = len(bodies_xy)
    out = {side: PoseFrame.missing(HAND21, n, with_z=True, with_world=True) for side in ("left_hand", "right_hand")}
    for part in out.values():
        part.extras["handedness_score"] = np.zeros(n, np.float32)
    for i, sides in enumerate(pipeline.for_bodies(image, bodies_xy, bodies_vis)):
        for side, res in sides.items():
            if res is None:
                continue
            part = out[f"{side}_hand"]
            _fill(part, i, res.xy, res.z, float(res.score), res.world)
            part.extras["handedness_score"][i] = res.handedness_score if res.handedness == side else 1 - res.handedness_score
    return out


def face_part(
    pipeline: FacePipeline, image: np.ndarray, bodies_xy: np.ndarray, bodies_vis: np.ndarray, min_visibility: float
) -> PoseFrame:
    """The face mesh of each body as a ``PoseFrame(face468, N)`` (all MISSING where no face was found)."""
    n = len(bodies_xy)
    out = PoseFrame.missing(FACE468, n, with_z=True)
    results: list[FaceResult | None] = pipeline.for_bodies(image, bodies_xy, bodies_vis)
    for i, res in enumerate(results):
        if res is not None:
            _fill(out, i, res.xy, res.z, float(res.score), None)
    return out


