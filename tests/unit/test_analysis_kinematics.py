"""Kinematics: angle conventions, unwrapping, segment angles, angular velocity, ROM, symmetry."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.analysis.kinematics import (
    angle_summary,
    angular_velocity,
    flexion_angle,
    joint_angles,
    range_of_motion,
    segment_angle,
    signed_flexion_2d,
    symmetry_index,
    trunk_angle,
    unwrap_degrees,
)
from posekit.poses import KeypointState, PoseSequence


def test_flexion_zero_when_straight_and_grows_with_bend():
    hip, knee = np.array([0.0, 0.0]), np.array([0.0, 1.0])
    assert flexion_angle(hip, knee, np.array([0.0, 2.0])) == pytest.approx(0.0, abs=1e-9)
    assert flexion_angle(hip, knee, np.array([1.0, 1.0])) == pytest.approx(90.0)
    assert flexion_angle(hip, knee, np.array([1.0, 2.0])) == pytest.approx(45.0)
    # 3D, and NaN in -> NaN out, zero-length segment -> NaN
    assert flexion_angle(np.zeros(3), np.array([0, 0, 1.0]), np.array([0, 1.0, 1.0])) == pytest.approx(90.0)
    assert np.isnan(flexion_angle(hip, knee, np.array([np.nan, 2.0])))
    assert np.isnan(flexion_angle(hip, hip, knee))


def test_signed_flexion_unwraps_past_180_without_jumps():
    # the distal segment turns steadily through 340 degrees around the vertex
    turn = np.radians(np.linspace(0, 340, 200))
    prox = np.tile([0.0, -1.0], (200, 1))
    vert = np.zeros((200, 2))
    dist = np.stack([np.sin(turn), np.cos(turn)], -1)  # starts straight on (down), turns on screen
    a = signed_flexion_2d(prox, vert, dist)
    assert np.all(np.abs(np.diff(a)) < 5.0)  # no 360-degree jump
    assert abs(a[-1]) == pytest.approx(340.0, abs=0.5)
    raw = signed_flexion_2d(prox, vert, dist, unwrap=False)
    assert np.abs(np.diff(raw)).max() > 300  # the wrap exists without unwrapping
    # magnitude equals the unsigned flexion below 180
    assert np.allclose(np.abs(a[:80]), flexion_angle(prox, vert, dist)[:80], atol=1e-6)


def test_unwrap_bridges_nan_gaps():
    a = np.array([170.0, 175.0, np.nan, -175.0, -170.0])
    u = unwrap_degrees(a)
    assert np.isnan(u[2])
    assert u[3] == pytest.approx(185.0) and u[4] == pytest.approx(190.0)


def test_segment_angles_signs_2d_and_3d():
    o = np.zeros((4, 2))
    ends = np.array([[0.0, -1.0], [1.0, -1.0], [1.0, 0.0], [-1.0, -1.0]])  # image y is down
    v = segment_angle(o, ends, reference="vertical", unwrap=False)
    assert v == pytest.approx([0.0, 45.0, 90.0, -45.0])
    h = segment_angle(o, ends, reference="horizontal", unwrap=False)
    assert h == pytest.approx([90.0, 45.0, 0.0, 135.0])
    o3 = np.zeros((2, 3))
    e3 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])  # world y down: first points up
    assert segment_angle(o3, e3) == pytest.approx([0.0, 90.0])
    assert segment_angle(o3, e3, reference="horizontal") == pytest.approx([90.0, 0.0])
    with pytest.raises(ValueError):
        segment_angle(o, ends, reference="diagonal")


def test_angular_velocity_with_uneven_times_and_gaps():
    t = np.array([0.0, 0.1, 0.3, 0.4, 0.7, 0.8, 1.0])
    a = 30.0 * t  # 30 deg/s
    v = angular_velocity(a, t)
    assert v == pytest.approx(np.full(7, 30.0))
    a2 = a.copy()
    a2[3] = np.nan
    v2 = angular_velocity(a2, t)
    assert np.isnan(v2[3]) and v2[2] == pytest.approx(30.0) and v2[4] == pytest.approx(30.0)


def test_rom_and_symmetry():
    r = range_of_motion(np.array([10.0, np.nan, 90.0, 50.0]))
    assert (r.min, r.max, r.range, r.samples) == (10.0, 90.0, 80.0, 3)
    assert range_of_motion(np.array([np.nan])).as_dict()["range"] is None
    assert symmetry_index(110.0, 90.0) == pytest.approx(20.0)
    assert symmetry_index(90.0, 110.0) == pytest.approx(-20.0)
    assert np.isnan(symmetry_index(0.0, 0.0))


def _penn_pose(bend: float) -> np.ndarray:
    """A penn13 side-view figure with both knees bent by ``bend`` degrees (pixels)."""
    names = ("head", "right_shoulder", "left_shoulder", "right_elbow", "left_elbow", "right_wrist",
             "left_wrist", "right_hip", "left_hip", "right_knee", "left_knee", "right_ankle", "left_ankle")  # fmt: skip
    p = {"head": (100, 40), "right_shoulder": (100, 80), "left_shoulder": (100, 80), "right_elbow": (100, 120),
         "left_elbow": (100, 120), "right_wrist": (100, 160), "left_wrist": (100, 160), "right_hip": (100, 180),
         "left_hip": (100, 180), "right_knee": (100, 230), "left_knee": (100, 230)}  # fmt: skip
    r = np.radians(bend)
    for s in ("right", "left"):
        p[f"{s}_ankle"] = (100 - 50 * np.sin(r), 230 + 50 * np.cos(r))
    return np.array([p[n] for n in names], float)


def test_joint_angles_on_penn13_by_name_and_gating():
    xy = np.stack([_penn_pose(b) for b in (0.0, 45.0, 90.0)])[:, None]
    state = np.full(xy.shape[:3], KeypointState.VISIBLE, np.uint8)
    state[2, 0, 11] = KeypointState.OCCLUDED  # right ankle hidden in the last frame
    seq = PoseSequence("penn13", xy, np.ones(xy.shape[:3], np.float32), state, np.arange(3) / 30.0)
    ang = joint_angles(seq)
    assert ang["left_knee"][:, 0] == pytest.approx([0.0, 45.0, 90.0])
    gated = joint_angles(seq, trusted_only=True, names=["right_knee", "left_knee"])
    assert np.isnan(gated["right_knee"][2, 0]) and gated["left_knee"][2, 0] == pytest.approx(90.0)
    assert trunk_angle(seq)[:, 0] == pytest.approx([0.0, 0.0, 0.0])
    s = angle_summary(ang, seq.time)
    assert s["left_knee"]["range"] == pytest.approx(90.0)
    with pytest.raises(KeyError):
        joint_angles(seq, names=["neck"])
    with pytest.raises(ValueError):
        joint_angles(seq, coords="world")
