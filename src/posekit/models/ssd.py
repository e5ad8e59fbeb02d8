"""The SSD detectors shared by the body, palm and face pipelines, and the input checks of every model.

MediaPipe's person, palm and face detectors differ only in their model file, input size, value range,
anchor and decoding options: :class:`SsdDetector` runs any of them (letterboxed crop → LiteRT →
anchor decoding → weighted NMS → image pixels), with preprocess / infer / postprocess kept apart.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from posekit.errors import ImageArrayError, ValidationError
from posekit.models.assets import find_model
from posekit.models.geometry import (
    AnchorOptions,
    DecodeOptions,
    Detections,
    RotatedRect,
    decode_ssd,
    detections_to_image,
    full_image_rect,
    image_to_tensor,
    ssd_anchors,
    weighted_nms,
)
from posekit.models.runtime import TFLiteModel

__all__ = ["SsdDetector", "check_image", "check_rect", "zero_timing"]


def check_image(image: np.ndarray) -> np.ndarray:
    """Check an RGB image ``(H, W, 3)`` uint8 and return it in a layout OpenCV reads without a copy.

    Rows with a stride (e.g. PyAV frames padded to an aligned line size) are taken as they are; only a
    non-packed pixel layout is copied.

    Raises:
        ImageArrayError: wrong shape, dtype or an empty image.
    """
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ImageArrayError(f"expected an (H, W, 3) uint8 RGB image, but got shape {shape} dtype {dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageArrayError(f"the image is empty (shape {image.shape})")
    if image.strides[1:] == (3, 1) and image.strides[0] > 0:
        return image
    return np.ascontiguousarray(image)


def check_rect(rect: RotatedRect) -> None:
    """Check that a region is finite with a positive size (pixels)."""
    vals = (rect.cx, rect.cy, rect.w, rect.h, rect.angle)
    if not all(math.isfinite(v) for v in vals) or rect.w <= 0 or rect.h <= 0:
        raise ValidationError(f"Expected a finite region with positive size, but got {rect}")


def zero_timing() -> dict[str, float]:
    """Per-stage seconds of a call before any call: preprocess, invoke, postprocess."""
    return {"preprocess": 0.0, "invoke": 0.0, "postprocess": 0.0}


class SsdDetector:
    """A MediaPipe SSD detector; subclasses set the class attributes below.

    Args:
        threads: LiteRT CPU threads.
        model_dir: folder to look in first for the model file.
        min_score: minimum detection score (0..1).
        nms_iou: IoU above which detections merge in the weighted NMS (default: the graph's).

    Attributes:
        last_timing: seconds spent in ``preprocess``, ``invoke`` and ``postprocess`` by the last call.
    """

    MODEL: ClassVar[str]
    INPUT: ClassVar[tuple[int, int]]  # (height, width), model pixels
    ANCHORS: ClassVar[AnchorOptions]
    NUM_ANCHORS: ClassVar[int]
    DECODE: ClassVar[DecodeOptions]
    VALUE_RANGE: ClassVar[tuple[float, float]]
    NMS_IOU: ClassVar[float] = 0.3

    def __init__(
        self, threads: int = 1, model_dir: str | Path | None = None, min_score: float = 0.5, nms_iou: float | None = None
    ) -> None:
        self.model = TFLiteModel(find_model(self.MODEL, model_dir), threads=threads)
        self.anchors = ssd_anchors(self.ANCHORS)
        if self.anchors.shape[0] != self.NUM_ANCHORS:
            raise ValidationError(
                f"Expected {self.NUM_ANCHORS} anchors for {self.MODEL}, but generated {self.anchors.shape[0]}"
            )
        self.min_score = float(min_score)
        self.decode_options = replace(self.DECODE, min_score_thresh=self.min_score)
        self.nms_iou = float(self.NMS_IOU if nms_iou is None else nms_iou)
        self.last_timing: dict[str, float] = zero_timing()

    def preprocess(self, image: np.ndarray, region: RotatedRect | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Letterboxed crop of ``region`` (whole image by default) with zero borders; returns (tensor, M_inv)."""
        image = check_image(image)
        rect = full_image_rect(image.shape[1], image.shape[0]) if region is None else region
        check_rect(rect)
        return image_to_tensor(image, rect, self.INPUT, keep_aspect_ratio=True, value_range=self.VALUE_RANGE, border="zero")

    def infer(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Raw outputs: boxes (1, A, num_coords) and score logits (1, A, 1)."""
        return self.model.run(tensor)

    def postprocess(self, outputs: list[np.ndarray], M_inv: np.ndarray) -> Detections:
        """Decode, weighted-NMS and map to image pixels; detections sorted by decreasing score."""
        dets = decode_ssd(outputs[0], outputs[1], self.anchors, self.decode_options)
        dets = weighted_nms(dets, self.nms_iou)
        return detections_to_image(dets, M_inv, self.INPUT)

    def __call__(self, image_rgb: np.ndarray, region: RotatedRect | None = None) -> Detections:
        """Detect in an RGB image (or in ``region`` of it, letterboxed like MediaPipe).

        Returns:
            :class:`Detections` in image pixels, best first: boxes (N, 4) xyxy, keypoints (N, Kd, 2), scores (N,).
        """
        t0 = time.perf_counter()
        tensor, m_inv = self.preprocess(image_rgb, region)
        t1 = time.perf_counter()
        out = self.infer(tensor)
        t2 = time.perf_counter()
        dets = self.postprocess(out, m_inv)
        self.last_timing = {"preprocess": t1 - t0, "invoke": t2 - t1, "postprocess": time.perf_counter() - t2}
        return dets
