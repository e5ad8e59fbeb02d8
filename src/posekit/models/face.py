"""Faces: MediaPipe short-range face detector + 468-point face mesh, driven by our own code on LiteRT.

Pipeline pieces (parameters from MediaPipe 0.10.21's ``face_detection_short_range_cpu``,
``face_landmark_front_cpu`` and ``holistic_landmark_cpu`` graphs):

* :class:`FaceDetector` — ``face_detection_short_range.tflite``, 128×128 letterboxed input in −1..1,
  896 SSD anchors, 6 keypoints per face (0 right eye, 1 left eye, 2 nose tip, 3 mouth centre, 4 right
  ear tragion, 5 left ear tragion — the person's sides), weighted NMS at IoU 0.3. Meant for faces
  within about 2 m of the camera (faces filling a good part of the searched region).
* :func:`face_detection_to_roi` — the mesh crop from a detection: box centre and size, rotation that
  makes the eye line (keypoint 0 → 1) horizontal, scale 1.5, squared on the long side.
* :class:`FaceMesh` — ``face_landmark.tflite``, 192×192 crop in 0..1: 468 landmarks and a face flag
  (sigmoid → presence probability).
* :func:`face_landmarks_to_roi` — the next crop from a mesh (tracking / second pass).
* :func:`face_roi_from_body` — the region to search for a face from BlazePose face landmarks 0..10, as
  MediaPipe Holistic does (bounding box, eye-line rotation, scale 3.0, squared).
* :class:`FacePipeline` — ``detect`` (detector on the whole image) and ``for_bodies`` (detector inside
  each body's face region, then the mesh).
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
    box_rect,
    image_to_tensor,
    rect_rotation,
    tensor_pixel_scale,
    tensor_to_image,
    transform_rect,
)
from posekit.models.ssd import SsdDetector
from posekit.models.ssd import check_image as _check_image
from posekit.models.ssd import check_rect as _check_rect
from posekit.models.runtime import TFLiteModel

__all__ = [
    "FACE_DETECTOR_MODEL",
    "FACE_MESH_MODEL",
    "FACE_ANCHOR_OPTIONS",
    "FACE_DECODE_OPTIONS",
    "FaceResult",
    "FaceDetector",
    "FaceMesh",
    "FacePipeline",
    "face_detection_to_roi",
    "face_landmarks_to_roi",
    "face_roi_from_body",
]

FACE_DETECTOR_MODEL = "face_detection/face_detection_short_range.tflite"
FACE_MESH_MODEL = "face_landmark/face_landmark.tflite"

DETECTOR_INPUT = (128, 128)  # (height, width), model pixels
MESH_INPUT = (192, 192)

FACE_ANCHOR_OPTIONS = AnchorOptions(
    input_size_width=128,
    input_size_height=128,
    min_scale=0.1484375,
    max_scale=0.75,
    num_layers=4,
    strides=(8, 16, 16, 16),
    aspect_ratios=(1.0,),
    anchor_offset_x=0.5,
    anchor_offset_y=0.5,
    interpolated_scale_aspect_ratio=1.0,
    fixed_anchor_size=True,
)
FACE_DECODE_OPTIONS = DecodeOptions(
    num_coords=16,
    num_keypoints=6,
    x_scale=128.0,
    y_scale=128.0,
    w_scale=128.0,
    h_scale=128.0,
    keypoint_coord_offset=4,
    num_values_per_keypoint=2,
    box_coord_offset=0,
    reverse_output_order=True,
    sigmoid_score=True,
    score_clipping_thresh=100.0,
    min_score_thresh=0.5,
)
FACE_NMS_IOU = 0.3
FACE_PRESENCE_THRESHOLD = 0.5  # ThresholdingCalculator in the face landmark graph
# Face-mesh landmarks that set the crop rotation in FaceLandmarkLandmarksToRoi (outer eye corners: the
# person's right eye 33 → left eye 263).
MESH_RIGHT_EYE, MESH_LEFT_EYE = 33, 263
# BlazePose-33 face points: 0 nose, 1-3 left eye (inner, centre, outer), 4-6 right eye, 7-8 ears,
# 9-10 mouth corners. Holistic rotates the face region so that right eye (5) → left eye (2) is level.
_BODY_FACE = np.arange(11)
_BODY_RIGHT_EYE, _BODY_LEFT_EYE, _BODY_NOSE = 5, 2, 0


@dataclass
class FaceResult:
    """One face mesh.

    Attributes:
        xy: (468, 2) mesh vertices, image pixels (MediaPipe canonical face-mesh order).
        z: (468,) relative depth, pixels at the image scale (smaller = nearer the camera), roughly 0 at
            the face's centre.
        score: face presence probability, 0..1 (MediaPipe keeps a face when ≥ 0.5).
        roi: the crop the mesh was read from, pixels.
    """

    xy: np.ndarray
    z: np.ndarray
    score: float
    roi: RotatedRect

    def box(self) -> np.ndarray:
        """(4,) axis-aligned bound of the mesh, ``xmin, ymin, xmax, ymax`` pixels."""
        return np.concatenate([np.nanmin(self.xy, axis=0), np.nanmax(self.xy, axis=0)])


# --------------------------------------------------------------------------------------------------
# ROI geometry
# --------------------------------------------------------------------------------------------------


def face_detection_to_roi(det: Detections, index: int = 0) -> RotatedRect:
    """Mesh crop from one face detection (MediaPipe FaceDetectionFrontDetectionToRoi).

    Args:
        det: face detections in image pixels (boxes (N, 4), keypoints (N, 6, 2)).
        index: which detection.

    Returns:
        Square :class:`RotatedRect` in pixels: the box centre, rotation that levels keypoint 0 (right eye)
        → 1 (left eye), side 1.5 × the box's longer side.
    """
    if len(det) <= index or det.keypoints.shape[1] < 2:
        raise ValidationError(
            f"Expected a face detection with 6 keypoints at index {index}, but got {len(det)} detections"
        )
    kp = det.keypoints[index].astype(np.float64)
    raw = box_rect(det.boxes[index], rect_rotation(kp[0], kp[1], 0.0))
    return transform_rect(raw, scale_x=1.5, scale_y=1.5, square_long=True)


def _face_keypoints_to_roi(det: Detections, index: int = 0) -> RotatedRect:
    """Mesh crop from the keypoints of one detection, as Holistic does after a face search from the body.

    Axis-aligned bound of the 6 keypoints (pixels), rotation that levels keypoint 0 → 1, scale 2.0, shift
    −0.1 of the height, square on the long side (Holistic's FaceDetectionFrontDetectionsToRoi with
    ``conversion_mode: USE_KEYPOINTS``).
    """
    kp = det.keypoints[index].astype(np.float64)
    mn, mx = kp.min(axis=0), kp.max(axis=0)
    angle = rect_rotation(kp[0], kp[1], 0.0)
    raw = box_rect(np.concatenate([mn, mx]), angle)
    return transform_rect(raw, scale_x=2.0, scale_y=2.0, shift_y=-0.1, square_long=True)


def face_landmarks_to_roi(xy: np.ndarray) -> RotatedRect:
    """Mesh crop from a 468-point mesh (MediaPipe FaceLandmarkLandmarksToRoi).

    Args:
        xy: (468, 2) mesh vertices, pixels.

    Returns:
        Square :class:`RotatedRect` in pixels: centre of the mesh's axis-aligned box, rotation that levels
        vertex 33 → 263 (outer eye corners), side 1.5 × the box's longer side.
    """
    p = np.asarray(xy, dtype=np.float64)
    if p.shape != (468, 2) or not np.isfinite(p).all():
        raise ValidationError(f"Expected finite face landmarks of shape (468, 2), but got {p.shape}")
    mn, mx = p.min(axis=0), p.max(axis=0)
    angle = rect_rotation(p[MESH_RIGHT_EYE], p[MESH_LEFT_EYE], 0.0)
    raw = box_rect(np.concatenate([mn, mx]), angle)
    return transform_rect(raw, scale_x=1.5, scale_y=1.5, square_long=True)


def face_roi_from_body(
    pose_xy: np.ndarray, visibility: np.ndarray, min_visibility: float = 0.1, scale: float = 3.0
) -> RotatedRect | None:
    """Region to search for a face, from BlazePose face landmarks (MediaPipe Holistic's FaceLandmarksFromPose).

    Bounding box of landmarks 0..10 (nose, eyes, ears, mouth), rotation that levels the right eye (5) →
    left eye (2), scaled ``scale`` (Holistic: 3.0) and squared on the long side.

    Args:
        pose_xy: (33, 2) BlazePose landmarks, pixels (NaN = missing).
        visibility: (33,) BlazePose visibility, 0..1.
        min_visibility: the nose and both eyes must all reach this visibility.
        scale: enlargement of the landmark box.

    Returns:
        Square :class:`RotatedRect` in pixels, or None when face points are missing or not visible.
    """
    p = np.asarray(pose_xy, dtype=np.float64)
    v = np.asarray(visibility, dtype=np.float64)
    if p.shape != (33, 2) or v.shape != (33,):
        raise ValidationError(f"Expected pose_xy (33, 2) and visibility (33,), but got {p.shape} and {v.shape}")
    face = p[_BODY_FACE]
    if not np.isfinite(face).all():
        return None
    if not (v[[_BODY_NOSE, _BODY_RIGHT_EYE, _BODY_LEFT_EYE]] >= min_visibility).all():
        return None
    mn, mx = face.min(axis=0), face.max(axis=0)
    if not (mx - mn > 0).any():
        return None
    angle = rect_rotation(p[_BODY_RIGHT_EYE], p[_BODY_LEFT_EYE], 0.0)
    raw = box_rect(np.concatenate([mn, mx]), angle)
    return transform_rect(raw, scale_x=scale, scale_y=scale, square_long=True)


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


class FaceDetector(SsdDetector):
    """MediaPipe's short-range face detector (128x128 SSD in -1..1, 896 anchors, 6 face keypoints).

    Arguments and attributes as :class:`~posekit.models.ssd.SsdDetector`.
    """

    MODEL = FACE_DETECTOR_MODEL
    INPUT = DETECTOR_INPUT
    ANCHORS = FACE_ANCHOR_OPTIONS
    NUM_ANCHORS = 896
    DECODE = FACE_DECODE_OPTIONS
    VALUE_RANGE = (-1.0, 1.0)
    NMS_IOU = FACE_NMS_IOU


class FaceMesh:
    """MediaPipe's 468-point face mesh model (without attention) on a given crop.

    Args:
        threads: LiteRT CPU threads.
        model_dir: a folder to look in first for ``face_landmark.tflite``.
    """

    def __init__(self, threads: int = 1, model_dir: str | Path | None = None) -> None:
        self.model = TFLiteModel(find_model(FACE_MESH_MODEL, model_dir), threads=threads)

    def __call__(self, image: np.ndarray, roi: RotatedRect) -> FaceResult:
        """Run the mesh model on one crop (stretched to 192×192, no letterbox, as MediaPipe does).

        The mesh is returned whatever the presence score; callers keep the face when ``score >= 0.5``.

        Args:
            image: (H, W, 3) uint8 RGB.
            roi: the face crop, pixels (e.g. from :func:`face_detection_to_roi`).

        Returns:
            :class:`FaceResult`.
        """
        _check_image(image)
        _check_rect(roi)
        tensor, m_inv = image_to_tensor(
            image, roi, MESH_INPUT, keep_aspect_ratio=False, value_range=(0.0, 1.0), border="replicate"
        )
        lm, flag = self.model.run(tensor)
        lm = lm.reshape(468, 3).astype(np.float64)
        xy = tensor_to_image(lm[:, :2], m_inv)
        z = lm[:, 2] * tensor_pixel_scale(m_inv)
        logit = float(np.clip(flag.reshape(-1)[0], -80.0, 80.0))
        return FaceResult(xy=xy, z=z, score=1.0 / (1.0 + math.exp(-logit)), roi=roi)


# --------------------------------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------------------------------


class FacePipeline:
    """Face detector and face mesh together.

    Args:
        threads: LiteRT CPU threads per model.
        model_dir: a folder to look in first for the ``.tflite`` files.
        min_presence: keep a face when the mesh's presence reaches this (MediaPipe: 0.5).
        min_detection_score: the face detector's score threshold (MediaPipe: 0.5).
        body_fallback: in :meth:`for_bodies`, when the detector finds no face in a body's face region,
            try the mesh on a crop made directly from the body's face landmarks (box × 1.5, like the
            mesh crop from a detection).
    """

    def __init__(
        self,
        threads: int = 1,
        model_dir: str | Path | None = None,
        *,
        min_presence: float = FACE_PRESENCE_THRESHOLD,
        min_detection_score: float = 0.5,
        body_fallback: bool = True,
    ) -> None:
        self.detector = FaceDetector(threads=threads, model_dir=model_dir, min_score=min_detection_score)
        self.mesh = FaceMesh(threads=threads, model_dir=model_dir)
        self.min_presence = float(min_presence)
        self.body_fallback = bool(body_fallback)

    def detect(self, image: np.ndarray, max_faces: int | None = None) -> list[FaceResult]:
        """Find faces anywhere in an image (MediaPipe FaceMesh, static-image mode).

        Args:
            image: (H, W, 3) uint8 RGB.
            max_faces: at most this many detections (best first) get a mesh; None = all.

        Returns:
            Faces whose presence reaches ``min_presence``, in detection-score order.
        """
        dets = self.detector(image)
        if max_faces is not None:
            dets = dets[: int(max_faces)]
        out: list[FaceResult] = []
        for i in range(len(dets)):
            face = self.mesh(image, face_detection_to_roi(dets, i))
            if face.score >= self.min_presence:
                out.append(face)
        return out

    def for_bodies(self, image: np.ndarray, bodies_xy: np.ndarray, bodies_vis: np.ndarray) -> list[FaceResult | None]:
        """Find each body's face.

        For each body, the detector searches the body's face region (:func:`face_roi_from_body`); the
        detection nearest the body's nose (among those whose box contains it, else the best-scoring one)
        gives the mesh crop. Without a detection and with ``body_fallback``, the mesh runs on a crop made
        from the body's face landmarks, then once more on the crop from that mesh. A face is kept when its
        presence reaches ``min_presence``.

        Args:
            image: (H, W, 3) uint8 RGB.
            bodies_xy: (N, 33, 2) BlazePose landmarks, pixels (NaN = missing).
            bodies_vis: (N, 33) BlazePose visibility, 0..1.

        Returns:
            One :class:`FaceResult` or None per body.
        """
        _check_image(image)
        bx = np.asarray(bodies_xy, dtype=np.float64)
        bv = np.asarray(bodies_vis, dtype=np.float64)
        if bx.ndim != 3 or bx.shape[1:] != (33, 2) or bv.shape != bx.shape[:2]:
            raise ValidationError(
                f"Expected bodies_xy (N, 33, 2) and bodies_vis (N, 33), but got {bx.shape} and {bv.shape}"
            )
        return [self._face_for_body(image, bx[n], bv[n]) for n in range(bx.shape[0])]

    def _face_for_body(self, image: np.ndarray, xy: np.ndarray, vis: np.ndarray) -> FaceResult | None:
        region = face_roi_from_body(xy, vis)
        if region is None:
            return None
        dets = self.detector(image, region)
        if len(dets):
            nose = xy[_BODY_NOSE]
            b = dets.boxes
            inside = (b[:, 0] <= nose[0]) & (nose[0] <= b[:, 2]) & (b[:, 1] <= nose[1]) & (nose[1] <= b[:, 3])
            if inside.any():
                centres = 0.5 * (b[:, :2] + b[:, 2:])
                d = np.hypot(*(centres - nose).T)
                d[~inside] = np.inf
                pick = int(np.argmin(d))
            else:
                pick = 0
            face = self.mesh(image, _face_keypoints_to_roi(dets, pick))
            if face.score >= self.min_presence:
                return face
        if not self.body_fallback:
            return None
        crop = face_roi_from_body(xy, vis, scale=1.5)
        if crop is None:
            return None
        face = self.mesh(image, crop)
        if face.score < self.min_presence:
            return None
        # the body's face points give only a rough crop: one more pass on the crop from the mesh itself
        second = self.mesh(image, face_landmarks_to_roi(face.xy))
        return second if second.score >= self.min_presence else face
