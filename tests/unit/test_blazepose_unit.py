"""Unit tests for posekit.models.blazepose: ROI rules, heatmap refinement, real model runs on a demo photo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from posekit.errors import ValidationError
from posekit.models.blazepose import (
    PoseDetector,
    PoseLandmarker,
    detection_to_roi,
    landmarks_to_roi,
    refine_from_heatmap,
)
from posekit.models.geometry import RotatedRect


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """Grace Hopper portrait shipped with matplotlib (600x512 RGB): one person, upper body."""
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def detector() -> PoseDetector:
    return PoseDetector()


@pytest.fixture(scope="module")
def landmarker() -> PoseLandmarker:
    return PoseLandmarker()


# ------------------------------------------------------------------------------------------ ROIs


def test_detection_to_roi_by_hand() -> None:
    kps = np.array([[100.0, 200.0], [100.0, 100.0], [0, 0], [0, 0]])
    roi = detection_to_roi(kps)
    assert (roi.cx, roi.cy) == (100.0, 200.0)
    assert roi.w == pytest.approx(250.0) and roi.h == pytest.approx(250.0)  # 2 * 100 * 1.25
    assert roi.angle == pytest.approx(0.0)
    tilted = detection_to_roi(np.array([[0.0, 0.0], [10.0, -10.0], [0, 0], [0, 0]]))
    assert tilted.angle == pytest.approx(math.pi / 4)  # leaning right → rect turned clockwise
    assert tilted.w == pytest.approx(2 * math.sqrt(200) * 1.25)


def test_landmarks_to_roi_by_hand() -> None:
    roi = landmarks_to_roi(np.array([[50.0, 60.0], [90.0, 60.0]]))
    assert (roi.cx, roi.cy, roi.w, roi.h) == (50.0, 60.0, pytest.approx(100.0), pytest.approx(100.0))
    assert roi.angle == pytest.approx(math.pi / 2)


# ------------------------------------------------------------------------------- heatmap refinement


def test_refine_from_heatmap_centroid_threshold_and_bounds() -> None:
    hm = np.full((64, 64, 4), -20.0, np.float32)  # sigmoid ≈ 0 everywhere
    hm[30, 20, 0] = 20.0  # a confident single cell for landmark 0
    hm[31, 21, 0] = 20.0
    hm[10, 10, 1] = -0.1  # landmark 1: peak below 0.5 → not refined
    hm[0, 0, 2] = 20.0  # landmark 2: x slightly negative → C++ int() truncates to column 0
    xy = np.array([[20.9 / 64, 30.2 / 64], [10.5 / 64, 10.5 / 64], [-0.2 / 64, 0.1 / 64], [70 / 64, 5 / 64]])
    out = refine_from_heatmap(xy, hm[None], kernel_size=7, min_confidence=0.5)
    np.testing.assert_allclose(out[0], [20.5 / 64, 30.5 / 64], atol=1e-6)  # centroid of cell indices
    np.testing.assert_allclose(out[1], xy[1])
    np.testing.assert_allclose(out[2], [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(out[3], xy[3])  # outside the heatmap: kept
    assert out is not xy
    with pytest.raises(ValidationError):
        refine_from_heatmap(xy[:3], hm)


def test_refine_window_is_clipped_at_edges() -> None:
    hm = np.full((64, 64, 1), -20.0, np.float32)
    hm[62:64, 63, 0] = 20.0
    out = refine_from_heatmap(np.array([[63.5 / 64, 62.5 / 64]]), hm)
    np.testing.assert_allclose(out[0], [63 / 64, 62.5 / 64], atol=1e-6)
    nan = refine_from_heatmap(np.array([[np.nan, 0.5]]), hm)
    assert np.isnan(nan[0, 0])


# ----------------------------------------------------------------------------------- real models


def test_detector_finds_the_person_and_tiles_map_back(photo: np.ndarray, detector: PoseDetector) -> None:
    d = detector(photo)
    assert len(d) == 1
    assert d.boxes.shape == (1, 4) and d.keypoints.shape == (1, 4, 2) and d.scores.shape == (1,)
    assert 0.5 <= d.scores[0] <= 1.0
    x0, y0, x1, y1 = d.boxes[0]
    assert 0 <= x0 < x1 <= photo.shape[1] and 0 <= y0 < y1 <= photo.shape[0]
    # the same photo pasted into a bigger canvas, detected on the tile that holds it → same pixels + offset
    canvas = np.zeros((900, 1000, 3), np.uint8)
    ox, oy = 300, 200
    canvas[oy : oy + photo.shape[0], ox : ox + photo.shape[1]] = photo
    tile = RotatedRect(ox + photo.shape[1] / 2, oy + photo.shape[0] / 2, photo.shape[1], photo.shape[0], 0.0)
    t = detector(canvas, region=tile)
    assert len(t) == 1
    np.testing.assert_allclose(t.keypoints[0], d.keypoints[0] + [ox, oy], atol=0.05)
    np.testing.assert_allclose(t.boxes[0], d.boxes[0] + [ox, oy, ox, oy], atol=0.05)
    assert set(detector.last_timing) == {"preprocess", "invoke", "postprocess"}


def test_detector_blank_image_and_bad_input(detector: PoseDetector) -> None:
    assert len(detector(np.full((300, 400, 3), 128, np.uint8))) == 0
    with pytest.raises(ValidationError):
        detector(np.zeros((300, 400), np.uint8))
    with pytest.raises(ValidationError):
        detector(np.zeros((300, 400, 3), np.float32))


def test_landmarker_shapes_and_ranges(photo: np.ndarray, detector: PoseDetector, landmarker: PoseLandmarker) -> None:
    roi = detection_to_roi(detector(photo).keypoints[0])
    r = landmarker(photo, roi)
    assert r.xy.shape == (33, 2) and r.z.shape == (33,) and r.world.shape == (33, 3) and r.aux.shape == (2, 2)
    assert r.visibility.shape == (33,) and r.presence.shape == (33,)
    for a in (r.xy, r.z, r.world, r.aux, r.visibility, r.presence):
        assert np.isfinite(a).all()
    assert ((0 <= r.visibility) & (r.visibility <= 1)).all() and ((0 <= r.presence) & (r.presence <= 1)).all()
    assert r.pose_score > 0.5 and r.roi == roi
    # nose (0) above the shoulders (11, 12), the shoulders apart, all inside the ROI
    assert r.xy[0, 1] < min(r.xy[11, 1], r.xy[12, 1])
    assert abs(r.xy[11, 0] - r.xy[12, 0]) > 50
    assert roi.contains(r.xy).all()
    # world landmarks are metres around the hips: a body fits in a 2 m cube
    assert np.abs(r.world).max() < 2.0
    with pytest.raises(ValidationError):
        landmarker(photo, RotatedRect(10, 10, 0, 0, 0))


def test_landmarker_is_equivariant_to_image_rotation(photo: np.ndarray, landmarker: PoseLandmarker) -> None:
    """Rotating the image by 90° and the ROI with it must rotate pixels and world landmarks the same way."""
    h, w = photo.shape[:2]
    roi = RotatedRect(256.0, 300.0, 520.0, 520.0, 0.1)
    a = landmarker(photo, roi)
    rot = np.ascontiguousarray(np.rot90(photo))  # counter-clockwise: (x, y) → (y, w - 1 - x)
    roi_r = RotatedRect(roi.cy, w - 1 - roi.cx, roi.w, roi.h, roi.angle - math.pi / 2)
    b = landmarker(rot, roi_r)
    expected = np.stack([a.xy[:, 1], w - 1 - a.xy[:, 0]], axis=1)
    assert np.median(np.linalg.norm(b.xy - expected, axis=1)) < 0.5
    world_expected = np.stack([a.world[:, 1], -a.world[:, 0], a.world[:, 2]], axis=1)
    assert np.median(np.linalg.norm(b.world - world_expected, axis=1)) < 0.005
    np.testing.assert_allclose(b.z, a.z, atol=2.0)


def test_row_strided_frames_are_used_without_a_copy() -> None:
    """PyAV pads frame rows to an aligned line size; the models read such views as they are."""
    from posekit.demo import demo_image_path
    from posekit.io.images import read_image
    from posekit.models.blazepose import PoseLandmarker, _check_image
    from posekit.models.geometry import RotatedRect

    img = read_image(demo_image_path())
    padded = np.zeros((img.shape[0], img.shape[1] + 5, 3), np.uint8)
    padded[:, : img.shape[1]] = img
    view = padded[:, : img.shape[1]]
    assert not view.flags.c_contiguous and _check_image(view) is view
    lm = PoseLandmarker()
    roi = RotatedRect(256.0, 300.0, 500.0, 500.0, 0.0)
    assert np.array_equal(lm(img, roi).xy, lm(view, roi).xy)
