"""Hands and face models: ROI geometry on hand-made landmarks, handedness mapping, real-model smoke tests.

The geometry tests build points in a local frame (x right, y down, fingers / face "up" = −y), place them
with a known rotation (MediaPipe convention: positive = clockwise on screen) and check that the ROI
functions recover that rotation, size and centre.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from posekit.errors import InputError, ValidationError
from posekit.models.face import (
    FaceDetector,
    FaceMesh,
    FacePipeline,
    face_detection_to_roi,
    face_landmarks_to_roi,
    face_roi_from_body,
)
from posekit.models.geometry import Detections, RotatedRect, normalize_radians
from posekit.models.hands import (
    HandLandmarker,
    HandPipeline,
    HandRecrop,
    PalmDetector,
    hand_landmarks_to_roi,
    hand_roi_from_body,
    handedness_from_score,
    palm_to_roi,
)


def _rot(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def _place(local: np.ndarray, angle: float, centre: tuple[float, float]) -> np.ndarray:
    """Local-frame points (M, 2) → image pixels, rotated by ``angle`` (clockwise on screen) about the origin."""
    return local @ _rot(angle).T + np.asarray(centre)


def _angle_close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(normalize_radians(a - b)) < tol


# A right hand, palm facing the camera, fingers up (−y), in a local frame with the wrist at the origin
# (pixels). Layout hand21: wrist, thumb 1-4, index 5-8, middle 9-12, ring 13-16, pinky 17-20.
_FINGER_X = {5: -24.0, 9: -6.0, 13: 10.0, 17: 25.0}
_LOCAL_HAND = np.zeros((21, 2))
_LOCAL_HAND[1:5] = [[-22, -12], [-36, -26], [-46, -40], [-54, -52]]
for _base, _x in _FINGER_X.items():
    for _j in range(4):
        _LOCAL_HAND[_base + _j] = [_x, -60.0 - 22.0 * _j]


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 90.0, -120.0, 180.0])
def test_hand_landmarks_to_roi_recovers_rotation_size_and_centre(angle_deg: float) -> None:
    angle = math.radians(angle_deg)
    # Make the wrist→(mean of MCPs) direction exactly "up" by using a symmetric palm for the rotation joints.
    local = _LOCAL_HAND.copy()
    local[5, 0], local[13, 0], local[9, 0] = -16.0, 16.0, 0.0
    xy = _place(local, angle, (300.0, 200.0))
    roi = hand_landmarks_to_roi(xy)
    assert _angle_close(roi.angle, angle)
    # Expected in the local frame: tight box of the 12 palm points, shift −0.1 h, square long side, × 2.
    part = local[[0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18]]
    mn, mx = part.min(0), part.max(0)
    w, h = mx - mn
    centre_local = 0.5 * (mn + mx) + np.array([0.0, -0.1 * h])
    assert roi.w == pytest.approx(2.0 * max(w, h))
    assert roi.h == pytest.approx(2.0 * max(w, h))
    expected = _place(centre_local[None], angle, (300.0, 200.0))[0]
    assert (roi.cx, roi.cy) == pytest.approx(tuple(expected), abs=1e-6)


def test_hand_landmarks_to_roi_rotation_uses_mcp_joints_only() -> None:
    # Moving fingertips or the thumb must not change the rotation; moving the middle MCP must.
    base = hand_landmarks_to_roi(_LOCAL_HAND + 500.0)
    moved = _LOCAL_HAND.copy()
    moved[[4, 8, 12, 16, 20]] += [40.0, 5.0]
    assert _angle_close(hand_landmarks_to_roi(moved + 500.0).angle, base.angle)
    moved = _LOCAL_HAND.copy()
    moved[9] += [30.0, 0.0]
    assert not _angle_close(hand_landmarks_to_roi(moved + 500.0).angle, base.angle, tol=1e-3)


def test_hand_landmarks_to_roi_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        hand_landmarks_to_roi(np.zeros((20, 2)))
    bad = _LOCAL_HAND.copy()
    bad[5] = np.nan
    with pytest.raises(ValidationError):
        hand_landmarks_to_roi(bad)


@pytest.mark.parametrize("angle_deg", [0.0, 90.0, -45.0])
def test_palm_to_roi(angle_deg: float) -> None:
    angle = math.radians(angle_deg)
    centre = np.array([100.0, 120.0])
    # Keypoint 0 (wrist centre) below the box centre, keypoint 2 (middle base) above, then rotated.
    kps_local = np.array([[0, 20], [-10, -15], [0, -20], [8, -15], [15, -10], [-18, 5], [-22, -5]], float)
    kps = _place(kps_local, angle, tuple(centre))
    det = Detections(
        boxes=np.array([[80.0, 100.0, 120.0, 150.0]], np.float32),  # 40 wide, 50 high, centre (100, 125)
        keypoints=kps[None].astype(np.float32),
        scores=np.array([0.9], np.float32),
    )
    roi = palm_to_roi(det)
    assert _angle_close(roi.angle, angle, tol=1e-5)
    # shift −0.5 × box height (50) along the rect's up axis, square on the long side (50), scale 2.6.
    up = _rot(angle) @ np.array([0.0, -1.0])
    expected = np.array([100.0, 125.0]) + 25.0 * up
    assert (roi.cx, roi.cy) == pytest.approx(tuple(expected), abs=1e-4)
    assert roi.w == pytest.approx(130.0) and roi.h == pytest.approx(130.0)


def test_palm_to_roi_rejects_missing_detection() -> None:
    with pytest.raises(ValidationError):
        palm_to_roi(Detections.empty(7))


def _body(side_points: dict[int, tuple[float, float]], vis: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    xy = np.full((33, 2), np.nan)
    v = np.zeros(33)
    for i, p in side_points.items():
        xy[i] = p
        v[i] = vis
    return xy, v


@pytest.mark.parametrize("side,idx", [("left", (15, 17, 19)), ("right", (16, 18, 20))])
def test_hand_roi_from_body_points_along_forearm(side: str, idx: tuple[int, int, int]) -> None:
    # Hand pointing right (+x): wrist (100, 200); pinky and index knuckles 30 px to the right.
    wrist, pinky, index = (100.0, 200.0), (130.0, 212.0), (130.0, 188.0)
    xy, vis = _body({idx[0]: wrist, idx[1]: pinky, idx[2]: index})
    roi = hand_roi_from_body(xy, vis, side)
    assert roi is not None
    middle = (2 * np.array(index) + np.array(pinky)) / 3.0  # (130, 192)
    d = float(np.hypot(*(middle - np.array(wrist))))
    expected_angle = normalize_radians(math.pi / 2 - math.atan2(-(middle[1] - 200.0), middle[0] - 100.0))
    assert _angle_close(roi.angle, expected_angle)
    assert roi.w == pytest.approx(2.7 * 2.0 * d)
    up = _rot(roi.angle) @ np.array([0.0, -1.0])
    assert (roi.cx, roi.cy) == pytest.approx(tuple(middle + 0.1 * 2.0 * d * up), abs=1e-6)
    # The crop's "up" points from the wrist towards the fingers.
    assert float(np.dot(up, middle - np.array(wrist))) > 0


def test_hand_roi_from_body_gates_on_visibility_and_missing_points() -> None:
    xy, vis = _body({15: (100, 200), 17: (130, 212), 19: (130, 188)})
    vis[15] = 0.05
    assert hand_roi_from_body(xy, vis, "left") is None
    xy, vis = _body({15: (100, 200), 17: (130, 212)})  # index missing (NaN)
    assert hand_roi_from_body(xy, vis, "left") is None
    xy, vis = _body({15: (100, 200), 17: (130, 212), 19: (130, 188)})
    assert hand_roi_from_body(xy, vis, "right") is None  # right-side points are NaN
    with pytest.raises(ValidationError):
        hand_roi_from_body(xy, vis, "middle")


def test_handedness_mapping() -> None:
    # Model output = P(MediaPipe label "Left"), a label that assumes a mirrored image.
    assert handedness_from_score(0.9) == ("right", pytest.approx(0.9))
    assert handedness_from_score(0.2) == ("left", pytest.approx(0.8))
    assert handedness_from_score(0.9, mirrored=True) == ("left", pytest.approx(0.9))
    assert handedness_from_score(0.2, mirrored=True) == ("right", pytest.approx(0.8))
    with pytest.raises(ValidationError):
        handedness_from_score(float("nan"))


@pytest.mark.parametrize("angle_deg", [0.0, 20.0, -35.0])
def test_face_detection_to_roi(angle_deg: float) -> None:
    angle = math.radians(angle_deg)
    eyes = _place(np.array([[-15.0, 0.0], [15.0, 0.0]]), angle, (60.0, 70.0))
    kps = np.vstack([eyes, np.full((4, 2), 60.0)])
    box = np.array([[40.0, 50.0, 80.0, 100.0]], np.float32)
    det = Detections(box, kps[None].astype(np.float32), np.ones(1, np.float32))
    roi = face_detection_to_roi(det)
    assert _angle_close(roi.angle, angle, tol=1e-5)
    assert (roi.cx, roi.cy) == pytest.approx((60.0, 75.0))
    assert roi.w == pytest.approx(75.0) and roi.h == pytest.approx(75.0)  # 1.5 × long side (50)


def test_face_landmarks_to_roi_levels_the_eye_line() -> None:
    rng = np.random.default_rng(0)
    local = rng.uniform(-50, 50, size=(468, 2))
    local[33] = [-30.0, -10.0]  # person's right eye outer corner (image left)
    local[263] = [30.0, -10.0]
    angle = math.radians(25.0)
    xy = _place(local, angle, (400.0, 300.0))
    roi = face_landmarks_to_roi(xy)
    assert _angle_close(roi.angle, angle)
    mn, mx = xy.min(0), xy.max(0)
    assert (roi.cx, roi.cy) == pytest.approx(tuple(0.5 * (mn + mx)))
    assert roi.w == pytest.approx(1.5 * max(mx - mn))


def test_face_roi_from_body() -> None:
    # BlazePose: 0 nose, 1-3 left eye, 4-6 right eye, 7 left ear, 8 right ear, 9-10 mouth.
    pts = {0: (200, 120), 1: (208, 110), 2: (212, 110), 3: (216, 110), 4: (192, 110), 5: (188, 110),
           6: (184, 110), 7: (225, 115), 8: (175, 115), 9: (207, 132), 10: (193, 132)}  # fmt: skip
    xy, vis = _body(pts)
    roi = face_roi_from_body(xy, vis)
    assert roi is not None
    assert _angle_close(roi.angle, 0.0)
    # box x 175..225 (50), y 110..132 (22): centre (200, 121), side 3 × 50.
    assert (roi.cx, roi.cy) == pytest.approx((200.0, 121.0))
    assert roi.w == pytest.approx(150.0) and roi.h == pytest.approx(150.0)
    # Tilted head: rotate all points by 30° about the nose → the ROI turns by 30°.
    tilted = dict(pts)
    for i, p in pts.items():
        tilted[i] = tuple(_place(np.array([p], float) - [200, 120], math.radians(30), (200, 120))[0])
    xy_t, vis_t = _body(tilted)
    assert _angle_close(face_roi_from_body(xy_t, vis_t).angle, math.radians(30))
    vis[5] = 0.0
    assert face_roi_from_body(xy, vis) is None
    xy[9] = np.nan
    vis[5] = 0.9
    assert face_roi_from_body(xy, vis) is None


# --------------------------------------------------------------------------------------------------
# Real models (from the installed mediapipe wheel): shapes, ranges, geometric consistency
# --------------------------------------------------------------------------------------------------


def _smooth_noise(h: int, w: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(h // 8 + 1, w // 8 + 1, 3)).astype(np.float64)
    img = np.kron(small, np.ones((8, 8, 1)))[:h, :w]
    return img.astype(np.uint8)


@pytest.fixture(scope="module")
def hand_landmarker() -> HandLandmarker:
    return HandLandmarker()


def test_palm_detector_output_shapes_and_ranges() -> None:
    det = PalmDetector()
    assert det.anchors.shape == (2016, 4)
    out = det(_smooth_noise(240, 320))
    assert out.boxes.shape[1:] == (4,) and out.keypoints.shape[1:] == (7, 2)
    assert out.scores.shape == (len(out),)
    assert np.all((out.scores >= 0.5) & (out.scores <= 1.0))
    blank = det(np.zeros((240, 320, 3), np.uint8))
    assert len(blank) == 0


def test_hand_landmarker_output_shapes_and_ranges(hand_landmarker: HandLandmarker) -> None:
    img = _smooth_noise(240, 320)
    roi = RotatedRect(160.0, 120.0, 150.0, 150.0, 0.3)
    res = hand_landmarker(img, roi)
    assert res.xy.shape == (21, 2) and res.z.shape == (21,) and res.world.shape == (21, 3)
    assert np.isfinite(res.xy).all() and np.isfinite(res.world).all()
    assert 0.0 <= res.score <= 1.0
    assert res.handedness in ("left", "right") and 0.5 <= res.handedness_score <= 1.0
    assert np.abs(res.world).max() < 0.5  # metres: a hand is ~0.2 m
    assert res.roi == roi
    assert res.box().shape == (4,)


def test_hand_landmarker_follows_a_rotated_crop(hand_landmarker: HandLandmarker) -> None:
    # Rotating the picture 90° counter-clockwise together with the crop gives the same crop content, so
    # the landmarks must map with the picture and the world coordinates must turn with it.
    img = _smooth_noise(240, 320, seed=3)
    w = img.shape[1]
    roi = RotatedRect(170.0, 110.0, 140.0, 140.0, 0.4)
    a = hand_landmarker(img, roi)
    rot_img = np.ascontiguousarray(np.rot90(img))  # new[i, j] = old[j, w-1-i]: (x, y) -> (y, w-1-x)
    rot_roi = RotatedRect(roi.cy, w - 1 - roi.cx, roi.w, roi.h, roi.angle - math.pi / 2)
    b = hand_landmarker(rot_img, rot_roi)
    expected_xy = np.stack([a.xy[:, 1], w - 1 - a.xy[:, 0]], axis=1)
    assert np.abs(b.xy - expected_xy).max() < 0.25  # px; OpenCV samples at 1/32 px steps
    expected_world = np.stack([a.world[:, 1], -a.world[:, 0], a.world[:, 2]], axis=1)
    assert np.abs(b.world - expected_world).max() < 2e-3  # metres (hand coordinates reach ~0.1 m)
    assert b.score == pytest.approx(a.score, abs=1e-2)


def test_hand_recrop_returns_square_rect() -> None:
    rc = HandRecrop()
    out = rc(_smooth_noise(240, 320), RotatedRect(160.0, 120.0, 120.0, 120.0, 0.0))
    assert out.w == pytest.approx(out.h) and out.w > 0
    assert all(math.isfinite(v) for v in (out.cx, out.cy, out.angle))


def test_face_models_output_shapes_and_ranges() -> None:
    fd = FaceDetector()
    assert fd.anchors.shape == (896, 4)
    assert len(fd(np.zeros((200, 300, 3), np.uint8))) == 0
    mesh = FaceMesh()
    res = mesh(_smooth_noise(200, 300), RotatedRect(150.0, 100.0, 120.0, 120.0, 0.2))
    assert res.xy.shape == (468, 2) and res.z.shape == (468,)
    assert np.isfinite(res.xy).all() and np.isfinite(res.z).all()
    assert 0.0 <= res.score <= 1.0


def test_pipelines_on_empty_scene_find_nothing() -> None:
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert HandPipeline().detect(blank) == []
    assert FacePipeline().detect(blank) == []
    xy = np.full((1, 33, 2), np.nan)
    vis = np.zeros((1, 33))
    assert HandPipeline().for_bodies(blank, xy, vis) == [{"left": None, "right": None}]
    assert FacePipeline().for_bodies(blank, xy, vis) == [None]


def test_bad_images_raise_input_error(hand_landmarker: HandLandmarker) -> None:
    roi = RotatedRect(10.0, 10.0, 20.0, 20.0, 0.0)
    with pytest.raises(InputError, match="image"):
        hand_landmarker(np.zeros((20, 20), np.uint8), roi)
    with pytest.raises(InputError, match="uint8"):
        hand_landmarker(np.zeros((20, 20, 3), np.float32), roi)
    with pytest.raises(ValidationError):
        hand_landmarker(np.zeros((20, 20, 3), np.uint8), RotatedRect(10.0, 10.0, 0.0, 20.0, 0.0))
