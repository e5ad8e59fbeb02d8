"""Hands: MediaPipe palm detector + 21-point hand landmark model, driven by our own code on LiteRT.

Pipeline pieces (parameters from MediaPipe 0.10.21's ``hand_landmark_tracking_cpu`` and
``holistic_landmark_cpu`` graphs):

* :class:`PalmDetector` — ``palm_detection_full.tflite``, 192×192 letterboxed input in 0..1, 2016 SSD
  anchors, 7 keypoints per palm, weighted NMS at IoU 0.3.
* :func:`palm_to_roi` — the hand crop from a palm: box centre and size, rotation from keypoint 0 (wrist
  centre) to keypoint 2 (middle-finger base) made upright (90°), scaled 2.6×, shifted by −0.5 of its
  height towards the fingers, squared on the long side.
* :class:`HandLandmarker` — ``hand_landmark_full.tflite``, 224×224 crop in 0..1: 21 landmarks (pixels),
  relative depth, world coordinates (metres), hand presence and handedness.
* :func:`hand_landmarks_to_roi` — the next crop from landmarks (for tracking or a second pass).
* :func:`hand_roi_from_body` / :class:`HandRecrop` — the hand crop from BlazePose wrist, pinky and index
  landmarks, refined by ``hand_recrop.tflite``, as MediaPipe Holistic finds hands from the body.
* :class:`HandPipeline` — ``detect`` (palm detector on the whole image) and ``for_bodies`` (one hand per
  body side, attached to that body's wrist).

Hand landmark order (MediaPipe ``hand21``): 0 wrist; thumb 1 CMC, 2 MCP, 3 IP, 4 tip; index 5 MCP, 6 PIP,
7 DIP, 8 tip; middle 9–12; ring 13–16; pinky 17–20 (each finger base → tip).

Handedness: the model's third output is the probability of MediaPipe's label ``"Left"``, and MediaPipe
documents that its labels assume a mirrored (selfie) image. In an ordinary, non-mirrored photo the
model's ``"Left"`` is therefore the person's anatomical *right* hand. :func:`handedness_from_score` maps
it so that ``"left"`` means the anatomical left hand of the person in a non-mirrored image (pass
``mirrored=True`` for selfie-camera frames).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posekit.errors import ValidationError
from posekit.models.assets import find_model
from posekit.models.geometry import (
    AnchorOptions,
    DecodeOptions,
    Detections,
    RotatedRect,
    alignment_rect,
    box_rect,
    image_to_tensor,
    rect_from_points,
    rect_rotation,
    tensor_pixel_scale,
    tensor_to_image,
    transform_rect,
)
from posekit.models.runtime import TFLiteModel
from posekit.models.ssd import SsdDetector
from posekit.models.ssd import check_image as _check_image
from posekit.models.ssd import check_rect as _check_rect

__all__ = [
    "PALM_MODEL",
    "HAND_LANDMARK_MODEL",
    "HAND_RECROP_MODEL",
    "PALM_ANCHOR_OPTIONS",
    "PALM_DECODE_OPTIONS",
    "HandResult",
    "PalmDetector",
    "HandLandmarker",
    "HandRecrop",
    "HandPipeline",
    "palm_to_roi",
    "hand_landmarks_to_roi",
    "hand_roi_from_body",
    "handedness_from_score",
]

PALM_MODEL = "palm_detection/palm_detection_full.tflite"
HAND_LANDMARK_MODEL = "hand_landmark/hand_landmark_full.tflite"
HAND_RECROP_MODEL = "holistic_landmark/hand_recrop.tflite"

PALM_INPUT = (192, 192)  # (height, width), model pixels
HAND_INPUT = (224, 224)
RECROP_INPUT = (256, 256)

PALM_ANCHOR_OPTIONS = AnchorOptions(
    input_size_width=192,
    input_size_height=192,
    min_scale=0.1484375,
    max_scale=0.75,
    num_layers=4,
    strides=(8, 16, 16, 16),
    aspect_ratios=(1.0,),
    anchor_offset_x=0.5,
    anchor_offset_y=0.5,
    fixed_anchor_size=True,
)
PALM_DECODE_OPTIONS = DecodeOptions(
    num_coords=18,
    num_keypoints=7,
    x_scale=192.0,
    y_scale=192.0,
    w_scale=192.0,
    h_scale=192.0,
    keypoint_coord_offset=4,
    num_values_per_keypoint=2,
    box_coord_offset=0,
    reverse_output_order=True,
    sigmoid_score=True,
    score_clipping_thresh=100.0,
    min_score_thresh=0.5,
)
PALM_NMS_IOU = 0.3
HAND_PRESENCE_THRESHOLD = 0.5  # ThresholdingCalculator in the hand landmark graph
HAND_Z_NORM = 0.4  # TensorsToLandmarksCalculatorOptions.normalize_z of the hand landmark graph
BODY_WRIST_VISIBILITY = 0.1  # holistic: hand ROI from pose only when the wrist visibility reaches this

# BlazePose-33 indices (wrist, pinky, index) per body side.
_BODY_HAND_POINTS = {"left": (15, 17, 19), "right": (16, 18, 20)}
# HandLandmarksToRect works on this subset of the 21 landmarks (wrist, thumb CMC/MCP/IP, MCP and PIP of
# the four fingers); within it the rotation uses 0 (wrist) → mean of 4, 6, 8 (index/middle/ring MCP).
_PARTIAL = np.array([0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18])


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass
class HandResult:
    """One hand from the landmark model.

    Attributes:
        xy: (21, 2) landmark positions, image pixels (hand21 order).
        z: (21,) relative depth, pixels at the image scale (MediaPipe's normalised z times the image
            width); smaller = nearer the camera, roughly 0 at the wrist.
        world: (21, 3) metric landmarks, metres, origin near the hand's centre, x right / y down in the
            image plane (already rotated by the crop's angle).
        score: hand presence probability, 0..1 (MediaPipe keeps a hand when ≥ 0.5).
        handedness: ``"left"`` or ``"right"``: the person's anatomical hand, assuming a non-mirrored image
            unless the producer said otherwise.
        handedness_score: confidence of ``handedness``, 0.5..1.
        roi: the crop the landmarks were read from, pixels.
    """

    xy: np.ndarray
    z: np.ndarray
    world: np.ndarray
    score: float
    handedness: str
    handedness_score: float
    roi: RotatedRect

    def box(self) -> np.ndarray:
        """(4,) axis-aligned bound of the 21 landmarks, ``xmin, ymin, xmax, ymax`` pixels."""
        return np.concatenate([np.nanmin(self.xy, axis=0), np.nanmax(self.xy, axis=0)])


def handedness_from_score(raw: float, mirrored: bool = False) -> tuple[str, float]:
    """Map the hand model's handedness output to the person's anatomical hand.

    Args:
        raw: the model's handedness output (Identity_2), the probability of MediaPipe's label ``"Left"``.
        mirrored: True for a mirrored (selfie-camera) image, where MediaPipe's label is already anatomical.

    Returns:
        ``(side, confidence)``: side ``"left"`` or ``"right"`` (anatomical), confidence in 0.5..1.
    """
    p = float(raw)
    if not math.isfinite(p):
        raise ValidationError(f"Expected a finite handedness score, but got {raw}")
    mp_left = p > 0.5  # MediaPipe: label "Left" when its score beats 1 - score
    conf = p if mp_left else 1.0 - p
    if mirrored:
        return ("left" if mp_left else "right"), conf
    return ("right" if mp_left else "left"), conf


# --------------------------------------------------------------------------------------------------
# ROI geometry
# --------------------------------------------------------------------------------------------------


def palm_to_roi(det: Detections, index: int = 0) -> RotatedRect:
    """Hand crop from one palm detection (MediaPipe PalmDetectionDetectionToRoi).

    The detection box (pixels) gives centre and size; the rotation makes the vector keypoint 0 (wrist
    centre) → keypoint 2 (middle-finger base) point up; then scale 2.6, shift −0.5 of the height along
    the rect's own y axis (towards the fingers), square on the long side.

    Args:
        det: palm detections in image pixels (boxes (N, 4), keypoints (N, 7, 2)).
        index: which detection.

    Returns:
        Square :class:`RotatedRect` in pixels.
    """
    if len(det) <= index or det.keypoints.shape[1] < 3:
        raise ValidationError(
            f"Expected a palm detection with 7 keypoints at index {index}, but got {len(det)} detections"
        )
    kp = det.keypoints[index].astype(np.float64)
    raw = box_rect(det.boxes[index], rect_rotation(kp[0], kp[2], math.pi / 2))
    return transform_rect(raw, scale_x=2.6, scale_y=2.6, shift_y=-0.5, square_long=True)


def hand_landmarks_to_roi(xy: np.ndarray) -> RotatedRect:
    """Hand crop from 21 hand landmarks (MediaPipe HandLandmarksToRect + RectTransformation).

    Rotation: from the wrist (0) to the mean of the middle MCP (9) and the midpoint of the index (5) and
    ring (13) MCPs, made upright. Extent: the tight rect, in that rotated frame, around the wrist, thumb
    CMC/MCP/IP and the MCP and PIP joints of the four fingers; then scale 2.0, shift −0.1 of the height
    towards the fingers, square on the long side.

    Args:
        xy: (21, 2) landmarks, pixels.

    Returns:
        Square :class:`RotatedRect` in pixels.
    """
    p = np.asarray(xy, dtype=np.float64)
    if p.shape != (21, 2):
        raise ValidationError(f"Expected hand landmarks of shape (21, 2), but got {p.shape}")
    part = p[_PARTIAL]
    if not np.isfinite(part).all():
        raise ValidationError("Expected finite hand landmarks for the palm and finger bases, but some are NaN")
    top = 0.5 * (0.5 * (p[5] + p[13]) + p[9])
    angle = rect_rotation(p[0], top, math.pi / 2)
    tight = rect_from_points(part, angle)
    return transform_rect(tight, scale_x=2.0, scale_y=2.0, shift_y=-0.1, square_long=True)


def hand_roi_from_body(
    pose_xy: np.ndarray,
    visibility: np.ndarray,
    side: str,
    min_visibility: float = BODY_WRIST_VISIBILITY,
) -> RotatedRect | None:
    """Hand crop from a BlazePose body (MediaPipe Holistic's HandLandmarksFromPose ROI).

    The middle-finger base is estimated as ``(2 * index + pinky) / 3`` from the body's index (19/20) and
    pinky (17/18) landmarks; the crop is centred there, its side is twice the wrist→middle distance, the
    rotation makes wrist→middle point up; then scale 2.7, shift −0.1 of the height, square on the long
    side.

    Args:
        pose_xy: (33, 2) BlazePose landmarks, pixels (NaN = missing).
        visibility: (33,) BlazePose visibility, 0..1.
        side: ``"left"`` or ``"right"``, the body's anatomical side.
        min_visibility: the wrist's visibility must reach this (Holistic uses 0.1).

    Returns:
        Square :class:`RotatedRect` in pixels, or None when the wrist is not visible enough or a point is
        missing.
    """
    if side not in _BODY_HAND_POINTS:
        raise ValidationError(f"Expected side 'left' or 'right', but got {side!r}")
    p = np.asarray(pose_xy, dtype=np.float64)
    v = np.asarray(visibility, dtype=np.float64)
    if p.shape != (33, 2) or v.shape != (33,):
        raise ValidationError(f"Expected pose_xy (33, 2) and visibility (33,), but got {p.shape} and {v.shape}")
    iw, ip, ii = _BODY_HAND_POINTS[side]
    if not (v[iw] >= min_visibility) or not np.isfinite(p[[iw, ip, ii]]).all():
        return None
    wrist, pinky, index = p[iw], p[ip], p[ii]
    middle = (2.0 * index + pinky) / 3.0
    size = 2.0 * float(np.hypot(*(middle - wrist)))
    if size <= 0:
        return None
    raw = RotatedRect(float(middle[0]), float(middle[1]), size, size, rect_rotation(wrist, middle, math.pi / 2))
    return transform_rect(raw, scale_x=2.7, scale_y=2.7, shift_y=-0.1, square_long=True)


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


class PalmDetector(SsdDetector):
    """MediaPipe's full-range palm detector (192x192 SSD in 0..1, 2016 anchors, 7 palm keypoints).

    Keypoint 0 is the wrist centre and 2 the middle finger's base (the two that set the crop's rotation);
    the others are further palm points, not used here. Arguments and attributes as
    :class:`~posekit.models.ssd.SsdDetector`.
    """

    MODEL = PALM_MODEL
    INPUT = PALM_INPUT
    ANCHORS = PALM_ANCHOR_OPTIONS
    NUM_ANCHORS = 2016
    DECODE = PALM_DECODE_OPTIONS
    VALUE_RANGE = (0.0, 1.0)
    NMS_IOU = PALM_NMS_IOU


class HandLandmarker:
    """MediaPipe's full 21-point hand landmark model on a given crop.

    Args:
        threads: LiteRT CPU threads.
        model_dir: a folder to look in first for ``hand_landmark_full.tflite``.
        mirrored: the images are mirrored (selfie camera); changes only the handedness mapping.
    """

    def __init__(self, threads: int = 1, model_dir: str | Path | None = None, mirrored: bool = False) -> None:
        self.model = TFLiteModel(find_model(HAND_LANDMARK_MODEL, model_dir), threads=threads)
        self.mirrored = bool(mirrored)

    def __call__(self, image: np.ndarray, roi: RotatedRect) -> HandResult:
        """Run the landmark model on one crop.

        The landmarks are returned whatever the presence score; callers keep the hand when
        ``score >= 0.5`` (MediaPipe's rule).

        Args:
            image: (H, W, 3) uint8 RGB.
            roi: the hand crop, pixels (e.g. from :func:`palm_to_roi`).

        Returns:
            :class:`HandResult`.
        """
        _check_image(image)
        _check_rect(roi)
        tensor, m_inv = image_to_tensor(
            image, roi, HAND_INPUT, keep_aspect_ratio=True, value_range=(0.0, 1.0), border="replicate"
        )
        lm, presence, handed, world = self.model.run(tensor)
        lm = lm.reshape(21, 3).astype(np.float64)
        xy = tensor_to_image(lm[:, :2], m_inv)
        z = lm[:, 2] * tensor_pixel_scale(m_inv) / HAND_Z_NORM
        w = world.reshape(21, 3).astype(np.float64)
        c, s = math.cos(roi.angle), math.sin(roi.angle)
        world_rot = np.stack([c * w[:, 0] - s * w[:, 1], s * w[:, 0] + c * w[:, 1], w[:, 2]], axis=1)
        side, conf = handedness_from_score(float(handed.reshape(-1)[0]), mirrored=self.mirrored)
        return HandResult(
            xy=xy,
            z=z,
            world=world_rot,
            score=float(presence.reshape(-1)[0]),
            handedness=side,
            handedness_score=conf,
            roi=roi,
        )


class HandRecrop:
    """MediaPipe Holistic's hand re-crop model: from a rough hand crop to an aligned one.

    The model reads a 256×256 crop and returns two points; the aligned crop is centred on the first,
    twice as large as the distance to the second, rotated so that first→second points down (−90°), then
    shifted −0.1 of its height and squared (Holistic's HandRecropByRoi).

    Args:
        threads: LiteRT CPU threads.
        model_dir: a folder to look in first for ``hand_recrop.tflite``.
    """

    def __init__(self, threads: int = 1, model_dir: str | Path | None = None) -> None:
        self.model = TFLiteModel(find_model(HAND_RECROP_MODEL, model_dir), threads=threads)

    def __call__(self, image: np.ndarray, roi: RotatedRect) -> RotatedRect:
        """Refine a rough hand crop (pixels) into the aligned crop for the landmark model (pixels)."""
        _check_image(image)
        _check_rect(roi)
        tensor, m_inv = image_to_tensor(
            image, roi, RECROP_INPUT, keep_aspect_ratio=True, value_range=(0.0, 1.0), border="replicate"
        )
        (out,) = self.model.run(tensor)
        pts = tensor_to_image(out.reshape(2, 2).astype(np.float64), m_inv)
        rect = alignment_rect(pts[0], pts[1], -90.0)
        return transform_rect(rect, scale_x=1.0, scale_y=1.0, shift_y=-0.1, square_long=True)


# --------------------------------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------------------------------


class HandPipeline:
    """Palm detector, hand re-crop and hand landmark models together.

    Args:
        threads: LiteRT CPU threads per model.
        model_dir: a folder to look in first for the ``.tflite`` files.
        min_presence: keep a hand when the landmark model's presence reaches this (MediaPipe: 0.5).
        min_palm_score: the palm detector's score threshold (MediaPipe: 0.5).
        wrist_tolerance: in :meth:`for_bodies`, the found hand's wrist must lie within this fraction of the
            body-derived crop side from the body's wrist.
        use_recrop: in :meth:`for_bodies`, refine the body-derived crop with ``hand_recrop.tflite`` first
            (as Holistic does).
        palm_fallback: in :meth:`for_bodies`, when the body-derived crop yields no accepted hand, run the
            palm detector on a square around the body's wrist.
        mirrored: the images are mirrored (selfie camera); changes only the handedness mapping.
    """

    def __init__(
        self,
        threads: int = 1,
        model_dir: str | Path | None = None,
        *,
        min_presence: float = HAND_PRESENCE_THRESHOLD,
        min_palm_score: float = 0.5,
        wrist_tolerance: float = 0.25,
        use_recrop: bool = True,
        palm_fallback: bool = True,
        mirrored: bool = False,
    ) -> None:
        self.palm = PalmDetector(threads=threads, model_dir=model_dir, min_score=min_palm_score)
        self.landmarker = HandLandmarker(threads=threads, model_dir=model_dir, mirrored=mirrored)
        self.recrop = HandRecrop(threads=threads, model_dir=model_dir) if use_recrop else None
        self.min_presence = float(min_presence)
        self.wrist_tolerance = float(wrist_tolerance)
        self.palm_fallback = bool(palm_fallback)

    def detect(self, image: np.ndarray, max_hands: int | None = 2) -> list[HandResult]:
        """Find hands anywhere in an image (MediaPipe Hands, static-image mode).

        Args:
            image: (H, W, 3) uint8 RGB.
            max_hands: at most this many palms (best scores first) are passed to the landmark model;
                None = all.

        Returns:
            Hands whose presence reaches ``min_presence``, in palm-score order.
        """
        dets = self.palm(image)
        if max_hands is not None:
            dets = dets[: int(max_hands)]
        out: list[HandResult] = []
        for i in range(len(dets)):
            hand = self.landmarker(image, palm_to_roi(dets, i))
            if hand.score >= self.min_presence:
                out.append(hand)
        return out

    def for_bodies(
        self, image: np.ndarray, bodies_xy: np.ndarray, bodies_vis: np.ndarray
    ) -> list[dict[str, HandResult | None]]:
        """Find each body's two hands, attached to that body's wrists.

        For each body and side: the crop from the body's wrist, pinky and index landmarks
        (:func:`hand_roi_from_body`), refined by the re-crop model; the landmark model runs there and the
        hand is accepted when its presence reaches ``min_presence`` and its wrist lies within
        ``wrist_tolerance`` × crop side of the body's wrist. Otherwise, with ``palm_fallback``, the palm
        detector searches a square of twice the crop side around the body's wrist and each palm found
        there is tried under the same acceptance rule.

        Args:
            image: (H, W, 3) uint8 RGB.
            bodies_xy: (N, 33, 2) BlazePose landmarks, pixels (NaN = missing).
            bodies_vis: (N, 33) BlazePose visibility, 0..1.

        Returns:
            One dict per body, ``{"left": HandResult | None, "right": HandResult | None}`` (the body's
            anatomical sides).
        """
        _check_image(image)
        bx = np.asarray(bodies_xy, dtype=np.float64)
        bv = np.asarray(bodies_vis, dtype=np.float64)
        if bx.ndim != 3 or bx.shape[1:] != (33, 2) or bv.shape != bx.shape[:2]:
            raise ValidationError(
                f"Expected bodies_xy (N, 33, 2) and bodies_vis (N, 33), but got {bx.shape} and {bv.shape}"
            )
        results: list[dict[str, HandResult | None]] = []
        for n in range(bx.shape[0]):
            sides: dict[str, HandResult | None] = {}
            for side in ("left", "right"):
                sides[side] = self._hand_for_body(image, bx[n], bv[n], side)
            results.append(sides)
        return results

    def _accept(self, hand: HandResult, wrist: np.ndarray, tolerance_px: float) -> bool:
        if hand.score < self.min_presence:
            return False
        return bool(np.hypot(*(hand.xy[0] - wrist)) <= tolerance_px)

    def _hand_for_body(self, image: np.ndarray, xy: np.ndarray, vis: np.ndarray, side: str) -> HandResult | None:
        roi = hand_roi_from_body(xy, vis, side)
        if roi is None:
            return None
        wrist = xy[_BODY_HAND_POINTS[side][0]]
        tol = self.wrist_tolerance * roi.w
        crop = self.recrop(image, roi) if self.recrop is not None else roi
        hand = self.landmarker(image, crop)
        if self._accept(hand, wrist, tol):
            return hand
        if not self.palm_fallback:
            return None
        region = RotatedRect(float(wrist[0]), float(wrist[1]), 2.0 * roi.w, 2.0 * roi.w, 0.0)
        dets = self.palm(image, region)
        best: HandResult | None = None
        for i in range(len(dets)):
            cand = self.landmarker(image, palm_to_roi(dets, i))
            if self._accept(cand, wrist, tol) and (best is None or cand.score > best.score):
                best = cand
        return best
