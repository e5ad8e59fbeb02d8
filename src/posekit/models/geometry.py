"""Geometry shared by the MediaPipe-family models: anchors, SSD decoding, NMS, rotated rects, crops.

Conventions:
    * Coordinates are image pixels (x right, y down) unless a name says ``norm`` (0..1 of a size).
    * Angles are radians in MediaPipe's ``NormalizedRect.rotation`` convention: a positive angle turns the
      rect clockwise on screen (y down). A point ``(u, v)`` in the rect's own frame (origin at the centre)
      lands at ``centre + R(angle) @ (u, v)`` with ``R = [[cos, -sin], [sin, cos]]``.
    * Detector outputs are decoded into coordinates normalised to the model input square (0..1), then
      mapped to image pixels with the affine returned by :func:`image_to_tensor`.

The semantics follow MediaPipe's calculators (SsdAnchors, TensorsToDetections, NonMaxSuppression with the
WEIGHTED algorithm, AlignmentPointsRects, RectTransformation, ImageToTensor, HandLandmarksToRect); the code
is our own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from posekit.errors import ValidationError

__all__ = [
    "RotatedRect",
    "AnchorOptions",
    "ssd_anchors",
    "DecodeOptions",
    "Detections",
    "decode_ssd",
    "weighted_nms",
    "box_iou",
    "Letterbox",
    "pad_rect",
    "image_to_tensor",
    "full_image_rect",
    "rect_rotation",
    "box_rect",
    "tensor_pixel_scale",
    "tensor_to_image",
    "detections_to_image",
    "alignment_rect",
    "rect_from_points",
    "transform_rect",
    "normalize_radians",
]


# --------------------------------------------------------------------------------------------------
# Rotated rectangles
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotatedRect:
    """A rotated rectangle in image pixels.

    Attributes:
        cx: centre x, pixels.
        cy: centre y, pixels.
        w: width (along the rect's own x axis), pixels.
        h: height (along the rect's own y axis), pixels.
        angle: rotation, radians, positive = clockwise on screen (MediaPipe convention).
    """

    cx: float
    cy: float
    w: float
    h: float
    angle: float = 0.0

    def _rot(self) -> np.ndarray:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([[c, -s], [s, c]], dtype=np.float64)

    def corners(self) -> np.ndarray:
        """Corners in pixels, shape (4, 2): top-left, top-right, bottom-right, bottom-left of the rect's frame."""
        hw, hh = 0.5 * self.w, 0.5 * self.h
        local = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]], dtype=np.float64)
        return local @ self._rot().T + np.array([self.cx, self.cy])

    def contains(self, pts: np.ndarray) -> np.ndarray:
        """Which points (M, 2) pixels lie inside or on the rect; returns (M,) bool. NaN points are outside."""
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2) - np.array([self.cx, self.cy])
        local = p @ self._rot()  # inverse rotation (R^T applied to row vectors)
        with np.errstate(invalid="ignore"):
            return (np.abs(local[:, 0]) <= 0.5 * self.w + 1e-9) & (np.abs(local[:, 1]) <= 0.5 * self.h + 1e-9)


def normalize_radians(a: float) -> float:
    """Wrap an angle to [-pi, pi) radians (MediaPipe's NormalizeRadians)."""
    return a - 2.0 * math.pi * math.floor((a + math.pi) / (2.0 * math.pi))


def rect_rotation(p0: np.ndarray, p1: np.ndarray, target: float) -> float:
    """MediaPipe's rect rotation (radians) that turns the vector ``p0`` → ``p1`` (pixels) to ``target``
    radians: ``normalize(target - atan2(-(y1 - y0), x1 - x0))`` (image y points down)."""
    return normalize_radians(target - math.atan2(-(float(p1[1]) - float(p0[1])), float(p1[0]) - float(p0[0])))


def box_rect(box: np.ndarray, rotation: float) -> RotatedRect:
    """The rect with the centre and size of an ``(x1, y1, x2, y2)`` pixel box, rotated by ``rotation`` radians."""
    b = np.asarray(box, np.float64)
    return RotatedRect(0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3]), b[2] - b[0], b[3] - b[1], rotation)


def tensor_pixel_scale(m_inv: np.ndarray) -> float:
    """Image pixels per tensor pixel along the tensor's x axis, from the tensor → image 2x3 affine."""
    return float(math.hypot(m_inv[0, 0], m_inv[1, 0]))


def full_image_rect(width: int, height: int) -> RotatedRect:
    """The unrotated rect covering a whole ``width`` x ``height`` pixel image."""
    return RotatedRect(width / 2.0, height / 2.0, float(width), float(height), 0.0)


def alignment_rect(kp_start: np.ndarray, kp_end: np.ndarray, target_angle_deg: float) -> RotatedRect:
    """Square rect centred on ``kp_start`` whose side is twice the distance to ``kp_end``.

    Mirrors MediaPipe's AlignmentPointsRectsCalculator followed by the rotation of
    DetectionsToRectsCalculator: ``angle = normalize(target - atan2(-(y1 - y0), x1 - x0))``.

    Args:
        kp_start: (2,) pixels, the centre.
        kp_end: (2,) pixels, the point that sets the size and the rotation.
        target_angle_deg: the angle, degrees, at which the start→end vector counts as upright.

    Returns:
        A square :class:`RotatedRect` in pixels.
    """
    x0, y0 = float(kp_start[0]), float(kp_start[1])
    x1, y1 = float(kp_end[0]), float(kp_end[1])
    side = 2.0 * math.hypot(x1 - x0, y1 - y0)
    return RotatedRect(x0, y0, side, side, rect_rotation(kp_start, kp_end, math.radians(target_angle_deg)))


def rect_from_points(points: np.ndarray, rotation: float) -> RotatedRect:
    """Tight rect around ``points`` in a frame rotated by ``rotation`` (MediaPipe HandLandmarksToRect).

    The points are rotated by ``-rotation`` about the centre of their axis-aligned box, bounded there, and
    the bound's centre is rotated back.

    Args:
        points: (M, 2) pixels; NaN rows are ignored.
        rotation: radians, MediaPipe convention.

    Returns:
        :class:`RotatedRect` in pixels with ``angle = rotation``.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) == 0:
        raise ValidationError("rect_from_points needs at least one finite point, but got none")
    mn, mx = p.min(axis=0), p.max(axis=0)
    centre = 0.5 * (mn + mx)
    rev = normalize_radians(-rotation)
    c, s = math.cos(rev), math.sin(rev)
    q = p - centre
    proj = np.stack([q[:, 0] * c - q[:, 1] * s, q[:, 0] * s + q[:, 1] * c], axis=1)
    pmn, pmx = proj.min(axis=0), proj.max(axis=0)
    pc = 0.5 * (pmn + pmx)
    c2, s2 = math.cos(rotation), math.sin(rotation)
    cx = pc[0] * c2 - pc[1] * s2 + centre[0]
    cy = pc[0] * s2 + pc[1] * c2 + centre[1]
    size = pmx - pmn
    return RotatedRect(float(cx), float(cy), float(size[0]), float(size[1]), float(rotation))


def transform_rect(
    rect: RotatedRect,
    *,
    scale_x: float = 1.0,
    scale_y: float = 1.0,
    shift_x: float = 0.0,
    shift_y: float = 0.0,
    square_long: bool = False,
    square_short: bool = False,
) -> RotatedRect:
    """Shift, square and scale a rect (MediaPipe RectTransformationCalculator, in pixels).

    Args:
        rect: the rect, pixels.
        scale_x: factor on the width after squaring.
        scale_y: factor on the height after squaring.
        shift_x: shift along the rect's own x axis, as a fraction of its width.
        shift_y: shift along the rect's own y axis, as a fraction of its height.
        square_long: make both sides equal to the longer one (before scaling).
        square_short: make both sides equal to the shorter one (before scaling).

    Returns:
        The transformed :class:`RotatedRect` (same angle).
    """
    w, h, a = rect.w, rect.h, rect.angle
    dx, dy = w * shift_x, h * shift_y
    c, s = math.cos(a), math.sin(a)
    cx = rect.cx + dx * c - dy * s
    cy = rect.cy + dx * s + dy * c
    if square_long:
        w = h = max(w, h)
    elif square_short:
        w = h = min(w, h)
    return RotatedRect(cx, cy, w * scale_x, h * scale_y, a)


# --------------------------------------------------------------------------------------------------
# SSD anchors and decoding
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorOptions:
    """Fields of MediaPipe's SsdAnchorsCalculatorOptions (input sizes in model pixels)."""

    input_size_width: int
    input_size_height: int
    min_scale: float
    max_scale: float
    num_layers: int
    strides: tuple[int, ...]
    aspect_ratios: tuple[float, ...] = (1.0,)
    anchor_offset_x: float = 0.5
    anchor_offset_y: float = 0.5
    reduce_boxes_in_lowest_layer: bool = False
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = False


def _anchor_scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def ssd_anchors(opts: AnchorOptions) -> np.ndarray:
    """Generate SSD anchors like MediaPipe's SsdAnchorsCalculator.

    Layers with equal consecutive strides share one feature map; each cell gets one anchor per
    (layer, aspect ratio) plus one interpolated-scale anchor per layer when
    ``interpolated_scale_aspect_ratio > 0``.

    Returns:
        (A, 4) float32 ``[cx, cy, w, h]`` normalised to the model input (w = h = 1 when
        ``fixed_anchor_size``).
    """
    n = opts.num_layers
    if len(opts.strides) != n:
        raise ValidationError(f"Expected {n} strides for {n} layers, but got {len(opts.strides)}")
    out: list[np.ndarray] = []
    layer = 0
    while layer < n:
        heights: list[float] = []
        widths: list[float] = []
        ratios: list[float] = []
        scales: list[float] = []
        last = layer
        while last < n and opts.strides[last] == opts.strides[layer]:
            scale = _anchor_scale(opts.min_scale, opts.max_scale, last, n)
            if last == 0 and opts.reduce_boxes_in_lowest_layer:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, scale, scale]
            else:
                for r in opts.aspect_ratios:
                    ratios.append(r)
                    scales.append(scale)
                if opts.interpolated_scale_aspect_ratio > 0.0:
                    nxt = 1.0 if last == n - 1 else _anchor_scale(opts.min_scale, opts.max_scale, last + 1, n)
                    scales.append(math.sqrt(scale * nxt))
                    ratios.append(opts.interpolated_scale_aspect_ratio)
            last += 1
        for r, sc in zip(ratios, scales):
            rs = math.sqrt(r)
            heights.append(sc / rs)
            widths.append(sc * rs)
        stride = opts.strides[layer]
        fh = int(math.ceil(opts.input_size_height / stride))
        fw = int(math.ceil(opts.input_size_width / stride))
        k = len(heights)
        ys, xs = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        cx = (xs + opts.anchor_offset_x) / fw
        cy = (ys + opts.anchor_offset_y) / fh
        block = np.empty((fh, fw, k, 4), dtype=np.float64)
        block[..., 0] = cx[..., None]
        block[..., 1] = cy[..., None]
        if opts.fixed_anchor_size:
            block[..., 2] = 1.0
            block[..., 3] = 1.0
        else:
            block[..., 2] = np.asarray(widths)
            block[..., 3] = np.asarray(heights)
        out.append(block.reshape(-1, 4))
        layer = last
    return np.concatenate(out, axis=0).astype(np.float32)


@dataclass(frozen=True)
class DecodeOptions:
    """Fields of MediaPipe's TensorsToDetectionsCalculatorOptions used for decoding (model pixels)."""

    num_coords: int
    num_keypoints: int
    x_scale: float
    y_scale: float
    w_scale: float
    h_scale: float
    keypoint_coord_offset: int = 4
    num_values_per_keypoint: int = 2
    box_coord_offset: int = 0
    reverse_output_order: bool = True
    sigmoid_score: bool = True
    score_clipping_thresh: float | None = 100.0
    min_score_thresh: float = 0.5
    apply_exponential_on_box_size: bool = False


@dataclass
class Detections:
    """N detections with boxes, keypoints and scores.

    Attributes:
        boxes: (N, 4) ``xmin, ymin, xmax, ymax`` (normalised to the model input, or pixels after mapping).
        keypoints: (N, Kd, 2) ``x, y`` in the same units as ``boxes``.
        scores: (N,) detection scores in 0..1.
    """

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def __getitem__(self, index: int | slice | np.ndarray) -> Detections:
        """Select detections by integer, slice, index array or boolean mask (always returns Detections)."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1) if index != -1 else slice(-1, None)
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index])

    @classmethod
    def empty(cls, num_keypoints: int) -> Detections:
        """No detections, with keypoint arrays shaped (0, num_keypoints, 2)."""
        return cls(
            np.zeros((0, 4), np.float32), np.zeros((0, num_keypoints, 2), np.float32), np.zeros((0,), np.float32)
        )


def decode_ssd(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, opts: DecodeOptions) -> Detections:
    """Decode raw SSD outputs into scored boxes and keypoints (MediaPipe TensorsToDetections, one class).

    Scores are clipped to ``±score_clipping_thresh`` and passed through a sigmoid when asked; detections
    scoring below ``min_score_thresh`` and boxes with negative or NaN size are dropped.

    Args:
        raw_boxes: (A, num_coords) or (1, A, num_coords) raw regressions in model pixels.
        raw_scores: (A,), (A, 1) or (1, A, 1) raw logits.
        anchors: (A, 4) ``[cx, cy, w, h]`` normalised, from :func:`ssd_anchors`.
        opts: decoding options.

    Returns:
        :class:`Detections` normalised to the model input square (0..1), in anchor order.
    """
    rb = np.asarray(raw_boxes, dtype=np.float32).reshape(-1, opts.num_coords)
    rs = np.asarray(raw_scores, dtype=np.float32).reshape(-1)
    a = np.asarray(anchors, dtype=np.float32)
    if rb.shape[0] != a.shape[0] or rs.shape[0] != a.shape[0]:
        raise ValidationError(
            f"Expected {a.shape[0]} boxes and scores to match the anchors, but got {rb.shape[0]} and {rs.shape[0]}"
        )
    if opts.score_clipping_thresh is not None:
        t = opts.score_clipping_thresh
        rs = np.clip(rs, -t, t)
    if opts.sigmoid_score:
        with np.errstate(over="ignore"):  # exp overflow → inf → score 0, as in C++
            scores = 1.0 / (1.0 + np.exp(-rs.astype(np.float64)))
    else:
        scores = rs.astype(np.float64)
    keep = np.flatnonzero(scores >= opts.min_score_thresh)
    if keep.size == 0:
        return Detections.empty(opts.num_keypoints)
    rb = rb[keep]
    a = a[keep]
    scores = scores[keep]
    o = opts.box_coord_offset
    if opts.reverse_output_order:
        xc, yc, w, h = rb[:, o], rb[:, o + 1], rb[:, o + 2], rb[:, o + 3]
    else:
        yc, xc, h, w = rb[:, o], rb[:, o + 1], rb[:, o + 2], rb[:, o + 3]
    acx, acy, aw, ah = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    xc = xc / opts.x_scale * aw + acx
    yc = yc / opts.y_scale * ah + acy
    if opts.apply_exponential_on_box_size:
        h = np.exp(h / opts.h_scale) * ah
        w = np.exp(w / opts.w_scale) * aw
    else:
        h = h / opts.h_scale * ah
        w = w / opts.w_scale * aw
    boxes = np.stack([xc - 0.5 * w, yc - 0.5 * h, xc + 0.5 * w, yc + 0.5 * h], axis=1)
    k = opts.num_keypoints
    ko = opts.keypoint_coord_offset
    nv = opts.num_values_per_keypoint
    kp_raw = rb[:, ko : ko + k * nv].reshape(-1, k, nv)
    if opts.reverse_output_order:
        kx, ky = kp_raw[..., 0], kp_raw[..., 1]
    else:
        ky, kx = kp_raw[..., 0], kp_raw[..., 1]
    kps = np.stack([kx / opts.x_scale * aw[:, None] + acx[:, None], ky / opts.y_scale * ah[:, None] + acy[:, None]], -1)
    valid = (w >= 0) & (h >= 0)  # NaN compares False, so NaN sizes are dropped too
    return Detections(
        boxes[valid].astype(np.float32), kps[valid].astype(np.float32), scores[valid].astype(np.float32)
    )


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``xyxy`` box (4,) against many (M, 4); 0 where the union is empty."""
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0.0, None) * np.clip(iy1 - iy0, 0.0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    out = np.zeros(len(boxes), dtype=np.float64)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def weighted_nms(dets: Detections, iou_threshold: float, max_detections: int | None = None) -> Detections:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Detections are taken in decreasing score order; the best remaining one gathers every remaining
    detection whose IoU with it exceeds ``iou_threshold`` (itself included); the cluster's boxes and
    keypoints are averaged with the scores as weights, and the cluster keeps the best score.

    Args:
        dets: detections (any consistent units).
        iou_threshold: IoU above which a detection joins the cluster.
        max_detections: stop after this many output detections (None: no limit).

    Returns:
        :class:`Detections` sorted by decreasing score.
    """
    n = len(dets)
    if n == 0:
        return dets
    order = np.argsort(-dets.scores, kind="stable")
    boxes = dets.boxes[order].astype(np.float64)
    kps = dets.keypoints[order].astype(np.float64)
    scores = dets.scores[order].astype(np.float64)
    remaining = np.arange(n)
    out_b: list[np.ndarray] = []
    out_k: list[np.ndarray] = []
    out_s: list[float] = []
    while remaining.size:
        top = remaining[0]
        iou = box_iou(boxes[top], boxes[remaining])
        in_cluster = iou > iou_threshold
        members = remaining[in_cluster]
        if members.size:
            wts = scores[members]
            total = wts.sum()
            out_b.append((boxes[members] * wts[:, None]).sum(0) / total)
            out_k.append((kps[members] * wts[:, None, None]).sum(0) / total)
        else:  # degenerate (zero-area) top box: kept as it is
            out_b.append(boxes[top])
            out_k.append(kps[top])
        out_s.append(scores[top])
        remaining = remaining[~in_cluster]
        if max_detections is not None and len(out_s) >= max_detections:
            break
    return Detections(
        np.asarray(out_b, np.float32).reshape(-1, 4),
        np.asarray(out_k, np.float32).reshape(len(out_s), -1, 2),
        np.asarray(out_s, np.float32),
    )


# --------------------------------------------------------------------------------------------------
# Image → tensor crops
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letterbox:
    """Padding, as fractions of the padded rect, that ``keep_aspect_ratio`` added on each side."""

    left: float = 0.0
    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0


def pad_rect(rect: RotatedRect, size: tuple[int, int]) -> tuple[RotatedRect, Letterbox]:
    """Grow ``rect`` to the aspect ratio of a tensor of ``size = (height, width)`` (MediaPipe PadRoi).

    Returns:
        The padded rect (same centre and angle) and the :class:`Letterbox` fractions.
    """
    th, tw = size
    tensor_aspect = th / tw
    roi_aspect = rect.h / rect.w if rect.w > 0 else math.inf
    if tensor_aspect > roi_aspect:
        new_w, new_h = rect.w, rect.w * tensor_aspect
        v = (1.0 - roi_aspect / tensor_aspect) / 2.0
        lb = Letterbox(0.0, v, 0.0, v)
    else:
        new_w, new_h = rect.h / tensor_aspect, rect.h
        hpad = (1.0 - tensor_aspect / roi_aspect) / 2.0
        lb = Letterbox(hpad, 0.0, hpad, 0.0)
    return RotatedRect(rect.cx, rect.cy, new_w, new_h, rect.angle), lb


_BORDERS = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}


def image_to_tensor(
    image: np.ndarray,
    rect: RotatedRect,
    size: tuple[int, int],
    *,
    keep_aspect_ratio: bool,
    value_range: tuple[float, float],
    border: str = "zero",
) -> tuple[np.ndarray, np.ndarray]:
    """Crop a rotated rect out of an image into a model input (MediaPipe ImageToTensor, CPU path).

    One bilinear ``cv2.warpAffine`` on the uint8 image (pixel value 0 outside when ``border="zero"``, so
    that border reads as ``value_range[0]``), then one float conversion. Tensor pixel ``(0, 0)`` is the
    rect's (padded) top-left corner and ``(size_w, size_h)`` its bottom-right corner.

    Args:
        image: (H, W, 3) uint8 RGB.
        rect: the region, pixels.
        size: ``(height, width)`` of the tensor, model pixels.
        keep_aspect_ratio: pad the rect to the tensor's aspect ratio (letterbox) instead of stretching.
        value_range: ``(min, max)`` floats that pixel values 0 and 255 map to.
        border: ``"zero"`` or ``"replicate"`` for samples outside the image.

    Returns:
        ``(tensor, M_inv)``: tensor (size_h, size_w, 3) float32, and the 2x3 float64 affine that maps tensor
        pixel coordinates to image pixel coordinates (letterbox included).
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValidationError(f"Expected an image of shape (H, W, 3) and dtype uint8, but got {image.shape} {image.dtype}")
    try:
        border_mode = _BORDERS[border]
    except KeyError:
        raise ValidationError(f"Expected border 'zero' or 'replicate', but got {border!r}") from None
    th, tw = int(size[0]), int(size[1])
    r = pad_rect(rect, (th, tw))[0] if keep_aspect_ratio else rect
    c, s = math.cos(r.angle), math.sin(r.angle)
    sx, sy = r.w / tw, r.h / th
    # image = centre + R @ ((u/tw - 1/2) * w, (v/th - 1/2) * h)
    m_inv = np.array(
        [
            [c * sx, -s * sy, r.cx - c * 0.5 * r.w + s * 0.5 * r.h],
            [s * sx, c * sy, r.cy - s * 0.5 * r.w - c * 0.5 * r.h],
        ],
        dtype=np.float64,
    )
    crop = cv2.warpAffine(
        image,
        m_inv,
        (tw, th),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=border_mode,
        borderValue=(0, 0, 0),
    )
    lo, hi = float(value_range[0]), float(value_range[1])
    tensor = np.multiply(crop, np.float32((hi - lo) / 255.0), dtype=np.float32)
    if lo != 0.0:
        tensor += np.float32(lo)
    return tensor, m_inv


def tensor_to_image(points: np.ndarray, M_inv: np.ndarray) -> np.ndarray:
    """Map tensor pixel coordinates (..., 2) to image pixel coordinates (..., 2) with a 2x3 affine."""
    p = np.asarray(points, dtype=np.float64)
    return p @ M_inv[:, :2].T + M_inv[:, 2]


def detections_to_image(dets: Detections, M_inv: np.ndarray, size: tuple[int, int]) -> Detections:
    """Map detections normalised to a ``size = (height, width)`` model input into image pixels.

    Keypoints map exactly; a box maps to the axis-aligned bound of its four mapped corners (exact for an
    unrotated crop).
    """
    th, tw = size
    scale = np.array([tw, th], dtype=np.float64)
    kps = tensor_to_image(dets.keypoints.astype(np.float64) * scale, M_inv)
    b = dets.boxes.astype(np.float64)
    corners = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [2, 3]], b[:, [0, 3]]], axis=1) * scale
    mc = tensor_to_image(corners, M_inv)
    boxes = np.concatenate([mc.min(axis=1), mc.max(axis=1)], axis=1)
    return Detections(boxes.astype(np.float32), kps.astype(np.float32), dets.scores.copy())
