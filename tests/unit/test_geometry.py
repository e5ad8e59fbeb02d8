"""Unit tests for posekit.models.geometry (synthetic, hand-computed expectations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posekit.errors import ValidationError
from posekit.models.geometry import (
    AnchorOptions,
    DecodeOptions,
    Detections,
    RotatedRect,
    alignment_rect,
    decode_ssd,
    detections_to_image,
    full_image_rect,
    image_to_tensor,
    normalize_radians,
    pad_rect,
    rect_from_points,
    ssd_anchors,
    tensor_to_image,
    transform_rect,
    weighted_nms,
)

POSE = AnchorOptions(224, 224, 0.1484375, 0.75, 5, (8, 16, 32, 32, 32), fixed_anchor_size=True)
PALM = AnchorOptions(192, 192, 0.1484375, 0.75, 4, (8, 16, 16, 16), fixed_anchor_size=True)
FACE = AnchorOptions(128, 128, 0.1484375, 0.75, 4, (8, 16, 16, 16), fixed_anchor_size=True)


# ----------------------------------------------------------------------------------------- anchors


def test_anchor_counts_match_mediapipe_detectors() -> None:
    assert ssd_anchors(POSE).shape == (2254, 4)  # 28*28*2 + 14*14*2 + 7*7*6
    assert ssd_anchors(PALM).shape == (2016, 4)  # 24*24*2 + 12*12*6
    assert ssd_anchors(FACE).shape == (896, 4)  # 16*16*2 + 8*8*6


def test_pose_anchor_positions_by_hand() -> None:
    a = ssd_anchors(POSE)
    # stride 8 → 28x28 cells, 2 anchors per cell, row-major (y outer, x inner)
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28, 1, 1], atol=1e-7)
    np.testing.assert_allclose(a[1], [0.5 / 28, 0.5 / 28, 1, 1], atol=1e-7)
    np.testing.assert_allclose(a[2], [1.5 / 28, 0.5 / 28, 1, 1], atol=1e-7)
    np.testing.assert_allclose(a[2 * 28], [0.5 / 28, 1.5 / 28, 1, 1], atol=1e-7)
    # stride 16 starts after 1568 anchors
    np.testing.assert_allclose(a[1568], [0.5 / 14, 0.5 / 14, 1, 1], atol=1e-7)
    # three stride-32 layers share one 7x7 map with 6 anchors per cell
    np.testing.assert_allclose(a[1960], [0.5 / 7, 0.5 / 7, 1, 1], atol=1e-7)
    np.testing.assert_allclose(a[1966], [1.5 / 7, 0.5 / 7, 1, 1], atol=1e-7)
    np.testing.assert_allclose(a[-1], [6.5 / 7, 6.5 / 7, 1, 1], atol=1e-7)


def test_anchor_sizes_when_not_fixed() -> None:
    opts = AnchorOptions(224, 224, 0.1484375, 0.75, 5, (8, 16, 32, 32, 32), fixed_anchor_size=False)
    a = ssd_anchors(opts)
    s0 = 0.1484375
    s1 = 0.1484375 + (0.75 - 0.1484375) * 1 / 4
    np.testing.assert_allclose(a[0, 2:], [s0, s0], rtol=1e-6)
    np.testing.assert_allclose(a[1, 2:], [math.sqrt(s0 * s1)] * 2, rtol=1e-6)
    # last layer's interpolated anchor uses scale_next = 1.0
    np.testing.assert_allclose(a[-1, 2:], [math.sqrt(0.75 * 1.0)] * 2, rtol=1e-6)


def test_anchors_reduce_boxes_in_lowest_layer_and_aspect_ratios() -> None:
    opts = AnchorOptions(64, 64, 0.2, 0.8, 2, (32, 64), aspect_ratios=(1.0, 2.0), reduce_boxes_in_lowest_layer=True)
    a = ssd_anchors(opts)
    # layer 0: 2x2 cells * 3 anchors; layer 1: 1x1 cell * (2 ratios + 1 interpolated)
    assert a.shape == (2 * 2 * 3 + 3, 4)
    np.testing.assert_allclose(a[0, 2:], [0.1, 0.1], rtol=1e-6)
    np.testing.assert_allclose(a[1, 2:], [0.2 * math.sqrt(2), 0.2 / math.sqrt(2)], rtol=1e-6)
    np.testing.assert_allclose(a[2, 2:], [0.2 * math.sqrt(0.5), 0.2 / math.sqrt(0.5)], rtol=1e-6)
    np.testing.assert_allclose(a[12, :2], [0.5, 0.5])
    np.testing.assert_allclose(a[13, 2:], [0.8 * math.sqrt(2), 0.8 / math.sqrt(2)], rtol=1e-6)
    np.testing.assert_allclose(a[14, 2:], [math.sqrt(0.8), math.sqrt(0.8)], rtol=1e-6)


# ------------------------------------------------------------------------------------------ decode

DEC = DecodeOptions(num_coords=8, num_keypoints=2, x_scale=100.0, y_scale=100.0, w_scale=100.0, h_scale=100.0)


def test_decode_ssd_by_hand() -> None:
    anchors = np.array([[0.25, 0.25, 1.0, 1.0], [0.75, 0.75, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5]], np.float32)
    raw = np.zeros((1, 3, 8), np.float32)
    raw[0, 0] = [10, -10, 20, 10, 5, 0, -5, 20]  # x, y, w, h, kp0 x y, kp1 x y (reverse_output_order)
    raw[0, 2] = [10, 10, 20, 20, 0, 0, 0, 0]  # anchor size 0.5 halves everything
    scores = np.array([[[2.0], [-3.0], [1000.0]]], np.float32)
    d = decode_ssd(raw, scores, anchors, DEC)
    assert len(d) == 2  # anchor 1 scores sigmoid(-3) < 0.5
    np.testing.assert_allclose(d.boxes[0], [0.25, 0.1, 0.45, 0.2], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[0], [[0.30, 0.25], [0.20, 0.45]], atol=1e-6)
    np.testing.assert_allclose(d.scores[0], 1 / (1 + math.exp(-2.0)), rtol=1e-6)
    # clipped at 100 before the sigmoid: score 1, no overflow
    np.testing.assert_allclose(d.scores[1], 1.0)
    np.testing.assert_allclose(d.boxes[1], [0.5, 0.5, 0.6, 0.6], atol=1e-6)


def test_decode_ssd_yx_order_threshold_and_negative_size() -> None:
    anchors = np.array([[0.5, 0.5, 1.0, 1.0], [0.5, 0.5, 1.0, 1.0]], np.float32)
    raw = np.zeros((2, 8), np.float32)
    raw[0] = [10, -10, 20, 40, 1, 2, 3, 4]  # y, x, h, w with reverse_output_order=False
    raw[1] = [0, 0, -10, 10, 0, 0, 0, 0]  # negative height: dropped
    opts = DecodeOptions(8, 2, 100.0, 100.0, 100.0, 100.0, reverse_output_order=False, min_score_thresh=0.1)
    d = decode_ssd(raw, np.array([0.0, 5.0]), anchors, opts)
    assert len(d) == 1
    # centre (x=0.4, y=0.6), w=0.4, h=0.2
    np.testing.assert_allclose(d.boxes[0], [0.2, 0.5, 0.6, 0.7], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[0], [[0.52, 0.51], [0.54, 0.53]], atol=1e-6)
    assert d.scores[0] == pytest.approx(0.5)
    none = decode_ssd(raw, np.array([-9.0, -9.0]), anchors, opts)
    assert len(none) == 0 and none.keypoints.shape == (0, 2, 2)
    with pytest.raises(ValidationError):
        decode_ssd(raw[:1], np.array([0.0, 0.0]), anchors, opts)


# --------------------------------------------------------------------------------------------- NMS


def _dets(boxes: list[list[float]], scores: list[float]) -> Detections:
    b = np.asarray(boxes, np.float32)
    kps = np.stack([b[:, :2], b[:, 2:]], axis=1)  # keypoints = box corners, so they average like the boxes
    return Detections(b, kps, np.asarray(scores, np.float32))


def test_weighted_nms_averages_overlapping_boxes() -> None:
    d = _dets([[0, 0, 10, 10], [1, 1, 11, 11]], [0.6, 0.9])  # IoU = 81/119 = 0.68
    out = weighted_nms(d, 0.3)
    assert len(out) == 1
    expected = (0.6 * np.array([0, 0, 10, 10]) + 0.9 * np.array([1, 1, 11, 11])) / 1.5
    np.testing.assert_allclose(out.boxes[0], expected, atol=1e-5)
    np.testing.assert_allclose(out.keypoints[0].reshape(-1), expected, atol=1e-5)
    assert out.scores[0] == pytest.approx(0.9)


def test_weighted_nms_keeps_disjoint_and_sorts() -> None:
    d = _dets([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10.5]], [0.5, 0.8, 0.7])
    out = weighted_nms(d, 0.3)
    assert len(out) == 2
    np.testing.assert_allclose(out.scores, [0.8, 0.7])
    np.testing.assert_allclose(out.boxes[0], [20, 20, 30, 30])
    np.testing.assert_allclose(out.boxes[1], (0.7 * np.array([0, 0, 10, 10.5]) + 0.5 * np.array([0, 0, 10, 10])) / 1.2)
    assert len(weighted_nms(d, 0.3, max_detections=1)) == 1
    # IoU threshold is strict: the weakly overlapping pair stays apart at a high threshold
    assert len(weighted_nms(d, 0.99)) == 3


# ------------------------------------------------------------------------------------------- rects


def test_normalize_radians() -> None:
    assert normalize_radians(1.5 * math.pi) == pytest.approx(-0.5 * math.pi)
    assert normalize_radians(math.pi) == pytest.approx(-math.pi)
    assert normalize_radians(-math.pi) == pytest.approx(-math.pi)
    assert normalize_radians(0.3) == pytest.approx(0.3)


def test_rotated_rect_corners_and_contains() -> None:
    r = RotatedRect(10, 20, 4, 2, math.pi / 2)  # quarter turn clockwise: width now runs down
    np.testing.assert_allclose(r.corners(), [[11, 18], [11, 22], [9, 22], [9, 18]], atol=1e-9)
    inside = r.contains(np.array([[10, 21.9], [10.9, 20], [12, 20], [10, 23], [np.nan, 20]]))
    assert inside.tolist() == [True, True, False, False, False]


def test_alignment_rect_by_hand() -> None:
    up = alignment_rect(np.array([100.0, 100.0]), np.array([100.0, 50.0]), 90.0)
    assert (up.cx, up.cy, up.w, up.h) == (100.0, 100.0, 100.0, 100.0)
    assert up.angle == pytest.approx(0.0)
    right = alignment_rect(np.array([0.0, 0.0]), np.array([30.0, 0.0]), 90.0)
    assert right.w == pytest.approx(60.0) and right.angle == pytest.approx(math.pi / 2)
    down = alignment_rect(np.array([0.0, 0.0]), np.array([0.0, 10.0]), 90.0)
    assert down.angle == pytest.approx(-math.pi)


def test_transform_rect_by_hand() -> None:
    r = RotatedRect(10, 20, 4, 2, math.pi / 2)
    t = transform_rect(r, shift_x=0.5, shift_y=0.5)
    # rect x axis points down (0, 1), rect y axis points left (-1, 0)
    assert (t.cx, t.cy) == (pytest.approx(9.0), pytest.approx(22.0))
    sq = transform_rect(r, scale_x=1.25, scale_y=1.25, square_long=True)
    assert (sq.w, sq.h, sq.cx, sq.cy, sq.angle) == (5.0, 5.0, 10, 20, r.angle)
    short = transform_rect(r, square_short=True)
    assert (short.w, short.h) == (2, 2)


def test_rect_from_points_in_rotated_frame() -> None:
    truth = RotatedRect(50, 60, 20, 10, math.pi / 6)
    pts = np.vstack([truth.corners(), [[truth.cx, truth.cy]], [[np.nan, np.nan]]])
    r = rect_from_points(pts, math.pi / 6)
    np.testing.assert_allclose([r.cx, r.cy, r.w, r.h], [50, 60, 20, 10], atol=1e-9)
    with pytest.raises(ValidationError):
        rect_from_points(np.full((2, 2), np.nan), 0.0)


def test_pad_rect_letterbox() -> None:
    padded, lb = pad_rect(RotatedRect(0, 0, 100, 50, 0.3), (256, 256))
    assert (padded.w, padded.h, padded.angle) == (100, 100, 0.3)
    assert (lb.left, lb.top, lb.right, lb.bottom) == (0.0, 0.25, 0.0, 0.25)
    padded, lb = pad_rect(RotatedRect(0, 0, 50, 100, 0.0), (128, 256))  # tensor aspect h/w = 0.5
    assert (padded.w, padded.h) == (200, 100)
    assert lb.left == pytest.approx(0.375) and lb.top == 0.0


# ---------------------------------------------------------------------------------- image_to_tensor


def _gradient_image(h: int = 120, w: int = 160) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([xs, ys, 0.5 * xs + 0.5 * ys], axis=-1)
    return img.astype(np.uint8)


@pytest.mark.parametrize("angle", [0.0, 0.4, -2.0])
def test_image_to_tensor_round_trip_corners_and_values(angle: float) -> None:
    img = _gradient_image()
    rect = RotatedRect(80, 60, 60, 30, angle)
    tensor, m_inv = image_to_tensor(img, rect, (64, 64), keep_aspect_ratio=True, value_range=(0.0, 1.0))
    assert tensor.shape == (64, 64, 3) and tensor.dtype == np.float32
    padded = pad_rect(rect, (64, 64))[0]
    corners_t = np.array([[0, 0], [64, 0], [64, 64], [0, 64]], np.float64)
    np.testing.assert_allclose(tensor_to_image(corners_t, m_inv), padded.corners(), atol=1e-9)
    # the crop samples the image where M_inv says (linear image → bilinear exact up to rounding)
    uv = np.array([[32, 32], [10, 40], [50, 20]])
    xy = tensor_to_image(uv.astype(np.float64), m_inv)
    for (u, v), (x, y) in zip(uv, xy):
        assert tensor[v, u, 0] * 255 == pytest.approx(x, abs=1.0)
        assert tensor[v, u, 1] * 255 == pytest.approx(y, abs=1.0)


def test_image_to_tensor_borders_and_range() -> None:
    img = np.full((10, 10, 3), 255, np.uint8)
    far = RotatedRect(100, 100, 10, 10, 0.0)  # entirely outside the image
    zero, _ = image_to_tensor(img, far, (8, 8), keep_aspect_ratio=False, value_range=(-1.0, 1.0), border="zero")
    np.testing.assert_allclose(zero, -1.0)
    rep, _ = image_to_tensor(img, far, (8, 8), keep_aspect_ratio=False, value_range=(-1.0, 1.0), border="replicate")
    np.testing.assert_allclose(rep, 1.0)
    full, m_inv = image_to_tensor(img, full_image_rect(10, 10), (5, 5), keep_aspect_ratio=False, value_range=(0.0, 1.0))
    np.testing.assert_allclose(full, 1.0)
    np.testing.assert_allclose(m_inv, [[2, 0, 0], [0, 2, 0]])
    with pytest.raises(ValidationError):
        image_to_tensor(img[..., 0], far, (8, 8), keep_aspect_ratio=False, value_range=(0, 1))
    with pytest.raises(ValidationError):
        image_to_tensor(img, far, (8, 8), keep_aspect_ratio=False, value_range=(0, 1), border="wrap")


def test_full_image_letterbox_maps_back() -> None:
    # a 200x100 image into a square tensor: padded to 200x200, 50 px bands top and bottom
    img = np.zeros((100, 200, 3), np.uint8)
    _, m_inv = image_to_tensor(img, full_image_rect(200, 100), (100, 100), keep_aspect_ratio=True, value_range=(0, 1))
    np.testing.assert_allclose(tensor_to_image(np.array([[0.0, 25.0], [100.0, 75.0]]), m_inv), [[0, 0], [200, 100]])
    dets = Detections(
        np.array([[0.0, 0.25, 1.0, 0.75]], np.float32), np.array([[[0.5, 0.5]]], np.float32), np.array([0.9], np.float32)
    )
    px = detections_to_image(dets, m_inv, (100, 100))
    np.testing.assert_allclose(px.boxes[0], [0, 0, 200, 100], atol=1e-4)
    np.testing.assert_allclose(px.keypoints[0, 0], [100, 50], atol=1e-4)


def test_rect_rotation_box_rect_and_tensor_scale() -> None:
    import math

    from posekit.models.geometry import box_rect, rect_rotation, tensor_pixel_scale

    # image y points down: a vector pointing up is upright for target pi/2, a level one for target 0
    assert rect_rotation(np.array([5.0, 10.0]), np.array([5.0, 2.0]), math.pi / 2) == pytest.approx(0.0)
    assert rect_rotation(np.array([0.0, 0.0]), np.array([3.0, 0.0]), 0.0) == pytest.approx(0.0)
    # a vector pointing right must turn by -pi/2 to point up (MediaPipe's sign)
    assert rect_rotation(np.array([0.0, 0.0]), np.array([3.0, 0.0]), math.pi / 2) == pytest.approx(math.pi / 2)
    r = box_rect(np.array([10.0, 20.0, 50.0, 80.0]), 0.3)
    assert (r.cx, r.cy, r.w, r.h, r.angle) == pytest.approx((30.0, 50.0, 40.0, 60.0, 0.3))
    m = np.array([[0.0, -2.0, 5.0], [2.0, 0.0, 1.0]])  # rotation by 90 degrees and scale 2
    assert tensor_pixel_scale(m) == pytest.approx(2.0)
