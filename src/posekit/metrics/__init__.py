"""Accuracy and stability metrics.

Plain numpy functions with explicit boolean masks (mmpose ``keypoint_eval`` style), and accumulators
with ``update(...) -> self``, ``reset()`` and ``compute() -> dict``:

* 2D (:mod:`.keypoints2d`, :mod:`.coco_ap`): OKS AP/AR through pycocotools with the skeleton's sigmas
  (:func:`oks_ap`, :func:`coco_eval_files`, :class:`KeypointAP`), PCK@α by box or torso
  (:func:`pck`, :class:`PCK`), PCKh (:func:`pckh`, :class:`PCKh`), mean keypoint error in pixels
  (:func:`mean_keypoint_error`, :class:`KeypointError`), NME for faces (inter-ocular) and hands (box)
  (:func:`nme`, :class:`NME`).
* 3D (:mod:`.pose3d`): MPJPE, PA-MPJPE, N-MPJPE, per-joint and bone-length error (:class:`MPJPE`).
* Temporal (:mod:`.temporal`, :mod:`.tracking`): jitter, acceleration error, bone-length CV,
  left/right swaps, CLEAR-MOT identity switches and MOTA.

Bad input (mismatched shapes or image ids, wrong keypoint counts, NaN where a number is needed, empty
input, predictions in another layout) raises :class:`~posekit.errors.ValidationError` or
:class:`~posekit.errors.InputError`; no metric returns a number computed from it.
"""

from __future__ import annotations

from ._validate import KeypointScore
from .coco_ap import STAT_NAMES, KeypointAP, coco_eval_files, oks_ap
from .keypoints2d import (
    NME,
    OUTER_EYE_CORNERS,
    PCK,
    KeypointError,
    PCKh,
    box_size,
    head_segment_length,
    interocular_distance,
    keypoint_distances,
    match_people,
    mean_keypoint_error,
    nme,
    oks,
    pck,
    pckh,
    torso_size,
)
from .pose3d import (
    MPJPE,
    bone_length_error,
    mpjpe,
    n_mpjpe,
    pa_mpjpe,
    per_joint_error,
    procrustes_align,
    root_relative,
    scale_align,
)
from .temporal import (
    AccelerationError,
    BoneLengthCV,
    Jitter,
    SwapCount,
    acceleration,
    acceleration_error,
    bone_length_cv,
    jitter,
    left_right_swaps,
    median_body_size,
    sequence_arrays,
)
from .tracking import ClearMOT, clear_mot

__all__ = [
    "KeypointScore",
    "STAT_NAMES",
    "KeypointAP",
    "coco_eval_files",
    "oks_ap",
    "NME",
    "OUTER_EYE_CORNERS",
    "PCK",
    "PCKh",
    "KeypointError",
    "box_size",
    "head_segment_length",
    "interocular_distance",
    "keypoint_distances",
    "match_people",
    "mean_keypoint_error",
    "nme",
    "oks",
    "pck",
    "pckh",
    "torso_size",
    "MPJPE",
    "bone_length_error",
    "mpjpe",
    "n_mpjpe",
    "pa_mpjpe",
    "per_joint_error",
    "procrustes_align",
    "root_relative",
    "scale_align",
    "AccelerationError",
    "BoneLengthCV",
    "Jitter",
    "SwapCount",
    "acceleration",
    "acceleration_error",
    "bone_length_cv",
    "jitter",
    "left_right_swaps",
    "median_body_size",
    "sequence_arrays",
    "ClearMOT",
    "clear_mot",
]
