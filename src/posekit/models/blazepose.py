"""BlazePose on LiteRT: the person detector, the 33-landmark model and the ROI rules that link them.

The numbers (anchors, scales, thresholds, ROI scale 1.25, heatmap kernel 7) are those of MediaPipe 0.10.21's
``pose_landmark_cpu`` graph; the code is our own. All outputs are in image pixels (world landmarks in
metres) so callers never see MediaPipe's normalised coordinates.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posekit.errors import ValidationError
from posekit.models.assets import find_model
from posekit.models.geometry import (
    AnchorOptions,
    DecodeOptions,
    RotatedRect,
    alignment_rect,
    image_to_tensor,
    tensor_pixel_scale,
    tensor_to_image,
    transform_rect,
)
from posekit.models.runtime import TFLiteModel
from posekit.models.ssd import SsdDetector, zero_timing
from posekit.models.ssd import check_image as _check_image
from posekit.models.ssd import check_rect as _check_rect

__all__ = [
    "POSE_DETECTOR_MODEL",
    "POSE_LANDMARK_MODEL",
    "POSE_ANCHOR_OPTIONS",
    "POSE_DECODE_OPTIONS",
    "NUM_LANDMARKS",
    "PoseDetector",
    "PoseLandmarker",
    "LandmarkResult",
    "detection_to_roi",
    "landmarks_to_roi",
    "refine_from_heatmap",
]

POSE_DETECTOR_MODEL = "pose_detection/pose_detection.tflite"
POSE_LANDMARK_MODEL = "pose_landmark/pose_landmark_full.tflite"
NUM_LANDMARKS = 33
# Outputs read by posekit, in this order: landmarks (1, 195), pose flag (1, 1), heatmap (1, 64, 64, 39),
# world landmarks (1, 117). Identity_2, the (1, 256, 256, 1) segmentation mask, is pruned.
_KEPT_OUTPUTS = ("Identity", "Identity_1", "Identity_3", "Identity_4")
_NUM_MODEL_LANDMARKS = 39  # 33 body + 2 auxiliary (ROI) + 4 unused by MediaPipe's graph
_DET_SIZE = (224, 224)

POSE_ANCHOR_OPTIONS = AnchorOptions(
    input_size_width=224,
    input_size_height=224,
    min_scale=0.1484375,
    max_scale=0.75,
    num_layers=5,
    strides=(8, 16, 32, 32, 32),
    aspect_ratios=(1.0,),
    anchor_offset_x=0.5,
    anchor_offset_y=0.5,
    fixed_anchor_size=True,
)
POSE_DECODE_OPTIONS = DecodeOptions(
    num_coords=12,
    num_keypoints=4,
    x_scale=224.0,
    y_scale=224.0,
    w_scale=224.0,
    h_scale=224.0,
    keypoint_coord_offset=4,
    num_values_per_keypoint=2,
    box_coord_offset=0,
    reverse_output_order=True,
    sigmoid_score=True,
    score_clipping_thresh=100.0,
    min_score_thresh=0.5,
)

_ROI_SCALE = 1.25
_ROI_TARGET_ANGLE_DEG = 90.0


# --------------------------------------------------------------------------------------------------
# ROI rules
# --------------------------------------------------------------------------------------------------


def detection_to_roi(det_keypoints_px: np.ndarray) -> RotatedRect:
    """Landmark-model ROI from a pose detection (MediaPipe PoseDetectionToRoi).

    Args:
        det_keypoints_px: (4, 2) detector keypoints in pixels; 0 = hip centre, 1 = a point above the head
            that sets scale and rotation.

    Returns:
        Square :class:`RotatedRect` in pixels: centred on keypoint 0, side ``2 * |kp1 - kp0| * 1.25``,
        rotated so that kp0→kp1 points up.
    """
    k = np.asarray(det_keypoints_px, dtype=np.float64)
    rect = alignment_rect(k[0], k[1], _ROI_TARGET_ANGLE_DEG)
    return transform_rect(rect, scale_x=_ROI_SCALE, scale_y=_ROI_SCALE, square_long=True)


def landmarks_to_roi(aux_xy: np.ndarray) -> RotatedRect:
    """Next frame's landmark ROI from the two auxiliary landmarks (MediaPipe PoseLandmarksToRoi).

    Args:
        aux_xy: (2, 2) pixels, landmarks 33 (centre) and 34 (scale/rotation point).

    Returns:
        Square :class:`RotatedRect` in pixels.
    """
    a = np.asarray(aux_xy, dtype=np.float64)
    rect = alignment_rect(a[0], a[1], _ROI_TARGET_ANGLE_DEG)
    return transform_rect(rect, scale_x=_ROI_SCALE, scale_y=_ROI_SCALE, square_long=True)


# --------------------------------------------------------------------------------------------------
# Detector
# --------------------------------------------------------------------------------------------------


class PoseDetector(SsdDetector):
    """BlazePose person detector (224x224 SSD in -1..1, 2254 anchors, 4 keypoints per detection).

    Keypoint 0 is the mid-hip centre and 1 the point that sets the full-body region's size and rotation.
    Arguments and attributes as :class:`~posekit.models.ssd.SsdDetector`.
    """

    MODEL = POSE_DETECTOR_MODEL
    INPUT = _DET_SIZE
    ANCHORS = POSE_ANCHOR_OPTIONS
    NUM_ANCHORS = 2254
    DECODE = POSE_DECODE_OPTIONS
    VALUE_RANGE = (-1.0, 1.0)


# --------------------------------------------------------------------------------------------------
# Landmarks
# --------------------------------------------------------------------------------------------------


def refine_from_heatmap(
    xy_norm: np.ndarray, heatmap: np.ndarray, kernel_size: int = 7, min_confidence: float = 0.5
) -> np.ndarray:
    """Refine landmark positions with the model's heatmap (MediaPipe RefineLandmarksFromHeatmap).

    For each landmark, the sigmoid of its heatmap channel is averaged over a ``kernel_size`` window around
    the landmark's heatmap cell (``int(x * W)``, ``int(y * H)``, truncated like C++; the window is clipped
    at the heatmap's edges); the cell-index centroid replaces the landmark when the window's maximum
    confidence is at least ``min_confidence``. Landmarks whose column falls outside the heatmap, or whose
    row is negative, are kept (MediaPipe tests the column against both sizes; its heatmaps are square).

    Args:
        xy_norm: (L, 2) landmarks normalised to the model input (0..1).
        heatmap: (H, W, L) raw heatmap logits (a leading batch axis of 1 is accepted).
        kernel_size: odd window size, heatmap cells.
        min_confidence: minimum window maximum (0..1) to refine.

    Returns:
        (L, 2) refined normalised landmarks (a new array).
    """
    hm = heatmap[0] if heatmap.ndim == 4 else heatmap
    hh, ww, nl = hm.shape
    xy = np.asarray(xy_norm, dtype=np.float64)
    if xy.shape != (nl, 2):
        raise ValidationError(f"Expected landmarks of shape ({nl}, 2) to match the heatmap, but got {xy.shape}")
    out = xy.copy()
    with np.errstate(invalid="ignore"):
        colf = np.trunc(xy[:, 0] * ww)
        rowf = np.trunc(xy[:, 1] * hh)
        ok = np.isfinite(colf) & np.isfinite(rowf) & (colf >= 0) & (colf < ww) & (rowf >= 0) & (colf < hh)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    col = colf[idx].astype(np.int64)
    row = np.minimum(rowf[idx], hh + kernel_size).astype(np.int64)
    off = np.arange(kernel_size) - (kernel_size - 1) // 2
    rows = row[:, None] + off  # (n, k)
    cols = col[:, None] + off
    rvalid = (rows >= 0) & (rows < hh)
    cvalid = (cols >= 0) & (cols < ww)
    rc = np.clip(rows, 0, hh - 1)
    cc = np.clip(cols, 0, ww - 1)
    vals = hm[rc[:, :, None], cc[:, None, :], idx[:, None, None]]  # (n, k, k)
    conf = (1.0 / (1.0 + np.exp(-vals.astype(np.float32)))) * (rvalid[:, :, None] & cvalid[:, None, :])
    total = conf.sum(axis=(1, 2))
    peak = conf.max(axis=(1, 2))
    wc = (conf * cols[:, None, :]).sum(axis=(1, 2))
    wr = (conf * rows[:, :, None]).sum(axis=(1, 2))
    use = (peak >= min_confidence) & (total > 0)
    sel = idx[use]
    out[sel, 0] = wc[use] / ww / total[use]
    out[sel, 1] = wr[use] / hh / total[use]
    return out


@dataclass
class LandmarkResult:
    """One person's BlazePose landmarks.

    Attributes:
        xy: (33, 2) image pixels.
        z: (33,) depth relative to the hips, pixels (same scale as x; smaller = closer to the camera).
        visibility: (33,) 0..1 (sigmoid), likelihood of being visible (not occluded).
        presence: (33,) 0..1 (sigmoid), likelihood of being present in the image.
        world: (33, 3) metres, origin at the hip centre, rotated by the ROI rotation like MediaPipe.
        aux: (2, 2) image pixels, auxiliary landmarks 33 and 34 that define the next ROI.
        pose_score: 0..1 pose presence flag (MediaPipe drops the pose below 0.5; the caller decides).
        roi: the region the model saw, pixels.
    """

    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    aux: np.ndarray
    pose_score: float
    roi: RotatedRect
    timing: dict[str, float] = field(default_factory=zero_timing, repr=False)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class PoseLandmarker:
    """BlazePose full landmark model (256x256 crop → 33 landmarks + 2 auxiliary, world landmarks).

    Args:
        threads: LiteRT CPU threads.
        model_dir: folder to look in first for ``pose_landmark/pose_landmark_full.tflite``.
        heatmap_kernel: kernel of the heatmap refinement (cells); 0 disables it.
        min_confidence_to_refine: heatmap confidence needed to refine a landmark (0..1).

    Attributes:
        last_timing: seconds spent in ``preprocess``, ``invoke`` and ``postprocess`` by the last call.
    """

    def __init__(
        self,
        threads: int = 1,
        model_dir: str | Path | None = None,
        heatmap_kernel: int = 7,
        min_confidence_to_refine: float = 0.5,
    ) -> None:
        # The segmentation mask (output Identity_2) is never read: pruning its decoder halves the invoke.
        self.model = TFLiteModel(find_model(POSE_LANDMARK_MODEL, model_dir), threads=threads, outputs=_KEPT_OUTPUTS)
        self.size = (int(self.model.input_shape[1]), int(self.model.input_shape[2]))
        self.heatmap_kernel = int(heatmap_kernel)
        self.min_confidence_to_refine = float(min_confidence_to_refine)
        self.last_timing: dict[str, float] = zero_timing()

    def preprocess(self, image: np.ndarray, roi: RotatedRect) -> tuple[np.ndarray, np.ndarray]:
        """256x256 crop of the ROI in 0..1 with replicated borders (MediaPipe's default); (tensor, M_inv)."""
        image = _check_image(image)
        _check_rect(roi)
        return image_to_tensor(image, roi, self.size, keep_aspect_ratio=True, value_range=(0.0, 1.0), border="replicate")

    def infer(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Raw outputs used downstream: landmarks (1, 195), pose flag (1, 1), heatmap (1, 64, 64, 39), world (1, 117).

        The segmentation output is pruned from the model (not computed).
        """
        m = self.model
        m.invoke(tensor)
        return [m.output(0), m.output(1), m.output(2), m.output(3)]

    def postprocess(self, outputs: list[np.ndarray], M_inv: np.ndarray, roi: RotatedRect) -> LandmarkResult:
        """Turn raw outputs into a :class:`LandmarkResult` in image pixels and metres."""
        raw, flag, heatmap, world_raw = outputs
        lm = raw.reshape(_NUM_MODEL_LANDMARKS, 5)
        th, tw = self.size
        xy_t = lm[:, :2].astype(np.float64)
        if self.heatmap_kernel > 0:
            scale = np.array([tw, th], dtype=np.float64)
            xy_t = refine_from_heatmap(xy_t / scale, heatmap, self.heatmap_kernel, self.min_confidence_to_refine) * scale
        xy_img = tensor_to_image(xy_t, M_inv)
        z_scale = tensor_pixel_scale(M_inv)
        c, s = math.cos(roi.angle), math.sin(roi.angle)
        w = world_raw.reshape(_NUM_MODEL_LANDMARKS, 3)[:NUM_LANDMARKS].astype(np.float64)
        world = np.empty_like(w)
        world[:, 0] = c * w[:, 0] - s * w[:, 1]
        world[:, 1] = s * w[:, 0] + c * w[:, 1]
        world[:, 2] = w[:, 2]
        return LandmarkResult(
            xy=xy_img[:NUM_LANDMARKS],
            z=lm[:NUM_LANDMARKS, 2].astype(np.float64) * z_scale,
            visibility=_sigmoid(lm[:NUM_LANDMARKS, 3].astype(np.float64)),
            presence=_sigmoid(lm[:NUM_LANDMARKS, 4].astype(np.float64)),
            world=world,
            aux=xy_img[NUM_LANDMARKS : NUM_LANDMARKS + 2].copy(),
            pose_score=float(flag.reshape(-1)[0]),
            roi=roi,
        )

    def __call__(self, image: np.ndarray, roi: RotatedRect) -> LandmarkResult:
        """Run the landmark model on one ROI.

        Args:
            image: (H, W, 3) uint8 RGB.
            roi: region in pixels (from :func:`detection_to_roi` or :func:`landmarks_to_roi`).

        Returns:
            :class:`LandmarkResult` (always filled; compare ``pose_score`` with 0.5 to accept the pose).
        """
        t0 = time.perf_counter()
        tensor, m_inv = self.preprocess(image, roi)
        t1 = time.perf_counter()
        out = self.infer(tensor)
        t2 = time.perf_counter()
        res = self.postprocess(out, m_inv, roi)
        t3 = time.perf_counter()
        self.last_timing = {"preprocess": t1 - t0, "invoke": t2 - t1, "postprocess": t3 - t2}
        res.timing = dict(self.last_timing)
        return res
