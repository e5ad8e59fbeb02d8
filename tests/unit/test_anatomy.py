"""Anatomy: bone lengths, bend direction, left/right swaps, on a synthetic 3D walker (seeded, known answers)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posekit.poses import KeypointState, PoseSequence
from posekit.skeletons import BLAZEPOSE33, COCO17
from posekit.track.anatomy import (
    bend_joints,
    bend_signs,
    bone_length_cv,
    enforce_bone_lengths,
    estimate_bone_lengths,
    fix_bends,
    fix_swaps,
    rigid_bones,
    swap_groups,
)

K = len(COCO17)
C = {n: i for i, n in enumerate(COCO17.keypoints)}
PX_PER_M = 150.0


def walker_world(time: np.ndarray, *, yaw: float = 0.8) -> np.ndarray:
    """``(T, 17, 3)`` metres: a person walking in place, knees and elbows always bent, turned by ``yaw``.

    Axes: x to the image right, y down, z away from the camera; origin between the hips. Limbs swing in
    the body's sagittal plane; knees flex 35–55°, elbows 40–70°; the body is turned by ``yaw`` radians
    about the vertical so that both the image and the world show the bends and the two sides apart.
    """
    t_n = len(time)
    p = np.zeros((t_n, K, 3))
    ph = 2 * np.pi * 1.0 * time

    def put(name: str, v: np.ndarray) -> None:
        p[:, C[name]] = v

    def along(a: np.ndarray) -> np.ndarray:  # unit vector in the sagittal plane, angle a from "down"
        return np.stack([np.zeros_like(a), np.cos(a), -np.sin(a)], -1)  # forward = −z (toward camera)

    for side, sx, sgn in (("left", 1.0, 1.0), ("right", -1.0, -1.0)):
        hip = np.array([0.09 * sx, 0.0, 0.0])
        sh = np.array([0.18 * sx, -0.5, 0.0])
        put(side + "_hip", np.broadcast_to(hip, (t_n, 3)))
        put(side + "_shoulder", np.broadcast_to(sh, (t_n, 3)))
        thigh = 0.25 + 0.25 * sgn * np.sin(ph)  # forward swing of the thigh, rad
        knee = hip + 0.42 * along(thigh)
        flex_k = np.radians(45 + 10 * np.sin(ph + 1.0))
        ankle = knee + 0.40 * along(thigh - flex_k)  # the shank bends backward: knee flexion
        upper = -0.2 * sgn * np.sin(ph)
        elbow = sh + 0.28 * along(upper)
        flex_e = np.radians(55 + 15 * np.sin(ph))
        wrist = elbow + 0.25 * along(upper + flex_e)  # the forearm bends forward: elbow flexion
        put(side + "_knee", knee)
        put(side + "_ankle", ankle)
        put(side + "_elbow", elbow)
        put(side + "_wrist", wrist)
        put(side + "_eye", np.broadcast_to([0.03 * sx, -0.71, -0.08], (t_n, 3)))
        put(side + "_ear", np.broadcast_to([0.07 * sx, -0.69, 0.0], (t_n, 3)))
    put("nose", np.broadcast_to([0.0, -0.68, -0.1], (t_n, 3)))
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return p @ rot.T


def walker_seq(t_n: int = 90, fps: float = 30.0, *, noise_px: float = 0.0, noise_m: float = 0.0, seed: int = 0,
               yaw: float = 0.8, grow: float = 0.0) -> tuple[PoseSequence, np.ndarray, np.ndarray]:  # fmt: skip
    """A COCO-17 sequence of the walker (image: weak perspective at 150 px/m, scale growing by ``grow``).

    Returns the sequence and the true image ``(T, 17, 2)`` and world ``(T, 17, 3)`` coordinates.
    """
    time = np.arange(t_n) / fps
    world = walker_world(time, yaw=yaw)
    scale = PX_PER_M * (1 + grow * time / time[-1])
    xy = np.array([320.0, 260.0]) + np.array([40.0, 0.0]) * time[:, None, None] + scale[:, None, None] * world[..., :2]
    rng = np.random.default_rng(seed)
    nxy = xy + rng.normal(0, noise_px, xy.shape)
    nw = world + rng.normal(0, noise_m, world.shape)
    seq = PoseSequence(
        COCO17, nxy[:, None], np.full((t_n, 1, K), 0.9), np.ones((t_n, 1, K)), time, world=nw[:, None],
        source="walker",
    )  # fmt: skip
    return seq, xy, world


# ---------------------------------------------------------------------------------------------------
# structure
# ---------------------------------------------------------------------------------------------------
def test_swap_groups_and_joints_follow_the_skeleton() -> None:
    names = lambda sk, g: sorted(sk.keypoints[i] for i in g)  # noqa: E731
    groups = [names(COCO17, g) for g in swap_groups(COCO17)]
    assert ["left_elbow", "left_wrist", "right_elbow", "right_wrist"] in groups
    assert ["left_ankle", "left_knee", "right_ankle", "right_knee"] in groups
    assert ["left_hip", "left_shoulder", "right_hip", "right_shoulder"] in groups
    assert ["left_ear", "left_eye", "right_ear", "right_eye"] in groups
    bp = [names(BLAZEPOSE33, g) for g in swap_groups(BLAZEPOSE33)]
    assert any("left_foot_index" in g and "right_knee" in g for g in bp)
    assert any("left_thumb" in g and "right_elbow" in g for g in bp)
    paired = sorted(i for p in BLAZEPOSE33.flip_pairs for i in p)
    assert sorted(i for g in swap_groups(BLAZEPOSE33) for i in g) == paired
    hinges = [COCO17.keypoints[v] for _, v, _ in bend_joints(COCO17)]
    assert hinges == ["left_elbow", "left_knee", "right_elbow", "right_knee"]
    bones = {tuple(sorted(COCO17.keypoints[i] for i in b)) for b in rigid_bones(COCO17).tolist()}
    assert ("left_ear", "left_shoulder") not in bones and ("left_knee", "left_ankle") not in bones
    assert ("left_ankle", "left_knee") in bones and len(bones) == len(COCO17.edges) - 2


# ---------------------------------------------------------------------------------------------------
# left/right swaps
# ---------------------------------------------------------------------------------------------------
def _swap_frames(seq: PoseSequence, frames: slice, group_names: list[str]) -> PoseSequence:
    out = seq.copy()
    flip = COCO17.flip_index
    idx = np.asarray([C[n] for n in group_names])
    for arr in (out.xy, out.world, out.score, out.state):
        arr[frames, 0, idx] = arr[frames, 0, flip[idx]].copy()
    return out


@pytest.mark.parametrize("noise", [0.0, 2.0])
def test_injected_left_right_swaps_are_corrected(noise: float) -> None:
    seq, _, _ = walker_seq(90, noise_px=noise, seed=3)
    legs = ["left_knee", "left_ankle", "right_knee", "right_ankle"]
    everything = [n for n in COCO17.keypoints if n != "nose"]
    bad = _swap_frames(_swap_frames(seq, slice(20, 26), legs), slice(50, 53), everything)
    fixed = fix_swaps(bad)
    np.testing.assert_array_equal(fixed.xy, seq.xy)
    np.testing.assert_array_equal(fixed.world, seq.world)
    log = fixed.provenance[-1]
    assert log["step"] == "anatomy.fix_swaps" and sum(log["params"]["swapped_frames"]) == 6 + 3 * 4
    # a track whose start is swapped (the first 20 of 90 frames) is relabelled where it is the minority
    start = _swap_frames(seq, slice(0, 20), legs)
    np.testing.assert_array_equal(fix_swaps(start).xy, seq.xy)


def test_mirror_reached_through_a_midway_frame_is_undone_and_the_rest_kept() -> None:
    """The model morphs into its mirror over one frame (every left/right pair drawn together), stays
    mirrored 5 frames and snaps back: those 5 frames are relabelled, nothing else (Sports2D frames 67-72).
    Before the midway frame was kept out of the motion history, the morph was followed as motion, the
    snap back taken for the swap and the rest of the track relabelled."""
    seq, _, _ = walker_seq(90, noise_px=0.5, seed=5, yaw=0.3)  # facing the camera: the sides are apart
    everything = [n for n in COCO17.keypoints if n != "nose"]
    bad = _swap_frames(seq, slice(41, 46), everything)
    flip = COCO17.flip_index
    idx = np.asarray([C[n] for n in everything])
    mid = 0.5 * (seq.xy[40, 0, idx] + seq.xy[40, 0, flip[idx]])  # midway: each pair at its midpoint
    bad.xy[40, 0, idx] = mid + 0.02 * (seq.xy[40, 0, idx] - mid)
    out = fix_swaps(bad)
    changed = np.flatnonzero(np.any(out.xy != bad.xy, axis=(1, 2, 3)))
    assert changed.tolist() == [41, 42, 43, 44, 45]
    np.testing.assert_array_equal(out.xy[41:46], seq.xy[41:46])


def test_limb_relabel_that_would_cross_the_torso_is_dropped() -> None:
    """With the anatomical check off (max_cross huge) a wrong arm relabelling may stand; with it, a run
    whose relabelling attaches each elbow to the opposite shoulder is refused (the model's labels kept)."""
    from posekit.track.anatomy import _anatomy_veto, _anchor_links

    seq, _, _ = walker_seq(30, noise_px=0.0, seed=1, yaw=0.3)
    links = _anchor_links(COCO17)["pairs"]
    arms = np.asarray([C[n] for n in ("left_elbow", "right_elbow", "left_wrist", "right_wrist")])
    assert {(COCO17.keypoints[a], COCO17.keypoints[x]) for a, _, x, _ in links} == {
        ("left_elbow", "left_shoulder"), ("left_knee", "left_hip")}
    sw = np.zeros(30, bool)
    sw[10:15] = True
    scale = np.full(30, 150.0)
    assert not _anatomy_veto(sw, seq.xy[:, 0], arms, links, scale, 0.05).any()
    assert _anatomy_veto(sw, seq.xy[:, 0], arms, links, scale, 10.0)[10:15].all()


def test_no_swap_is_invented_for_clean_walking() -> None:
    """Legs cross in the image as the walker turned sideways swings them: nothing to correct."""
    seq, _, _ = walker_seq(150, noise_px=1.0, seed=4, yaw=1.5)
    out = fix_swaps(seq)
    np.testing.assert_array_equal(out.xy, seq.xy)
    assert sum(out.provenance[-1]["params"]["swapped_frames"]) == 0


# ---------------------------------------------------------------------------------------------------
# bone lengths
# ---------------------------------------------------------------------------------------------------
def test_noisy_world_bone_lengths_become_consistent() -> None:
    seq, _, world = walker_seq(120, noise_m=0.015, seed=5)
    bones = rigid_bones(COCO17)
    cv_before = np.nanmedian(bone_length_cv(seq.world[:, 0], seq.present[:, 0], bones, per_frame_scale=False))
    out = enforce_bone_lengths(seq)
    cv_after = np.nanmedian(bone_length_cv(out.world[:, 0], out.present[:, 0], bones, per_frame_scale=False))
    assert cv_before > 0.04 and cv_after < 0.02, (cv_before, cv_after)
    # lengths converge on the true ones (median of noisy lengths is biased up by noise only slightly)
    true_len = np.linalg.norm(world[0][bones[:, 0]] - world[0][bones[:, 1]], axis=-1)
    got = np.linalg.norm(out.world[:, 0][:, bones[:, 0]] - out.world[:, 0][:, bones[:, 1]], axis=-1)
    assert np.median(np.abs(np.median(got, 0) / true_len - 1)) < 0.03
    # the keypoints did not go anywhere odd: error to the truth does not grow
    err_before = np.linalg.norm(seq.world[:, 0] - world, axis=-1).mean()
    err_after = np.linalg.norm(out.world[:, 0] - world, axis=-1).mean()
    assert err_after < err_before
    assert out.provenance[-1]["step"] == "anatomy.bone_lengths"


def test_noisy_image_bone_lengths_with_per_frame_scale() -> None:
    """The walker comes closer (scale × 1.6); after per-frame scale normalisation the CV goes down."""
    seq, xy, _ = walker_seq(120, noise_px=3.0, seed=6, grow=0.6)
    bones = rigid_bones(COCO17)
    _, scale = estimate_bone_lengths(xy, np.ones((120, K), bool), bones, per_frame_scale=True)
    assert scale[-1] / scale[0] == pytest.approx(1.6, rel=0.05)  # the scale follows the approach
    cv = lambda s: np.nanmedian(bone_length_cv(s.xy[:, 0], s.present[:, 0], bones, per_frame_scale=True))  # noqa: E731
    both = enforce_bone_lengths(seq, image_shorten_only=False, world=False)
    shorten = enforce_bone_lengths(seq, world=False)
    assert cv(both) < 0.6 * cv(seq) and cv(shorten) < cv(seq), (cv(seq), cv(both), cv(shorten))
    # shorten-only (the default in 2D) fixes gross over-extensions: a wrist pushed 80 % beyond the forearm
    bad = seq.copy()
    e, w = C["left_elbow"], C["left_wrist"]
    frames = np.array([40, 41, 42, 43, 70, 90])
    bad.xy[frames, 0, w] += 0.8 * (xy[frames, w] - xy[frames, e])
    fixed = enforce_bone_lengths(bad, world=False)
    fore = lambda s: np.linalg.norm(s.xy[frames, 0, w] - s.xy[frames, 0, e], axis=-1)  # noqa: E731
    full = 0.25 * PX_PER_M * (1 + 0.6 * seq.time[frames] / seq.time[-1])  # unforeshortened forearm, px
    assert np.all(fore(bad) > 1.2 * full)
    assert np.all(fore(fixed) < 1.05 * full), fore(fixed) / full  # projected: at most its full length
    err = lambda s: np.linalg.norm(s.xy[frames, 0, w] - xy[frames, w], axis=-1).mean()  # noqa: E731
    assert err(fixed) < 0.6 * err(bad)


def test_exact_skeleton_is_left_alone() -> None:
    seq, _, _ = walker_seq(60, grow=0.5)
    out = enforce_bone_lengths(seq)
    np.testing.assert_allclose(out.world, seq.world, atol=1e-12)
    np.testing.assert_allclose(out.xy, seq.xy, atol=1e-9)


def test_weak_keypoints_move_more_than_confident_ones() -> None:
    seq, _, _ = walker_seq(60)
    bad = seq.copy()
    bad.world[30, 0, C["left_ankle"]] += [0.0, 0.1, 0.0]  # the shank is 0.1 m too long
    bad.score[30, 0, C["left_ankle"]] = 0.1
    bad.state[30, 0, C["left_ankle"]] = KeypointState.OCCLUDED
    out = enforce_bone_lengths(bad, image=False)
    move_ankle = np.linalg.norm(out.world[30, 0, C["left_ankle"]] - bad.world[30, 0, C["left_ankle"]])
    move_knee = np.linalg.norm(out.world[30, 0, C["left_knee"]] - bad.world[30, 0, C["left_knee"]])
    assert move_ankle > 2 * move_knee
    shank = np.linalg.norm(out.world[30, 0, C["left_ankle"]] - out.world[30, 0, C["left_knee"]])
    assert shank == pytest.approx(0.40, abs=0.01)


# ---------------------------------------------------------------------------------------------------
# bend direction
# ---------------------------------------------------------------------------------------------------
def _reflect(points: np.ndarray, frames: slice, joint: tuple[int, int, int]) -> None:
    p, v, d = joint
    a, b, x = points[frames, p], points[frames, d], points[frames, v]
    ab = b - a
    s = np.sum((x - a) * ab, -1) / np.sum(ab * ab, -1)
    points[frames, v] = 2 * (a + s[:, None] * ab) - x


def test_implausible_bend_reversals_are_corrected() -> None:
    seq, xy, world = walker_seq(90, noise_px=0.5, seed=7)
    knee = (C["left_hip"], C["left_knee"], C["left_ankle"])
    elbow = (C["right_shoulder"], C["right_elbow"], C["right_wrist"])
    bad = seq.copy()
    _reflect(bad.xy[:, 0], slice(30, 34), knee)
    _reflect(bad.world[:, 0], slice(60, 62), elbow)
    flex, sign = bend_signs(bad.xy[:, 0], knee)
    assert np.all(flex[25:40] > 25) and np.all(sign[30:34] != sign[29])  # bent, and flipped without straight
    out = fix_bends(bad)
    np.testing.assert_allclose(out.xy, seq.xy, atol=1e-9)
    np.testing.assert_allclose(out.world, seq.world, atol=1e-12)
    assert out.provenance[-1]["params"]["reflected"] == {"image": 4, "world": 2}


def test_bend_reversal_through_straight_is_kept() -> None:
    """A 2D knee that straightens and bends the other way is plausible (e.g. the person turned)."""
    t = np.arange(60) / 30.0
    seq, _, _ = walker_seq(60)
    knee = (C["left_hip"], C["left_knee"], C["left_ankle"])
    out = seq.copy()
    hip = out.xy[:, 0, knee[0]]
    # knee angle sweeps from +50° through 0 to −50°: thigh straight down, shank rotating
    ang = np.radians(np.linspace(50, -50, 60))
    out.xy[:, 0, knee[1]] = hip + [0.0, 60.0]
    out.xy[:, 0, knee[2]] = out.xy[:, 0, knee[1]] + 60 * np.stack([np.sin(ang), np.cos(ang)], -1)
    res = fix_bends(out, world=False)
    np.testing.assert_array_equal(res.xy, out.xy)
    assert len(t) == 60
    # a long opposite stretch (over max_flip) is left alone too
    long_flip = seq.copy()
    _reflect(long_flip.xy[:, 0], slice(20, 45), knee)
    np.testing.assert_array_equal(fix_bends(long_flip, world=False, max_flip=0.5).xy, long_flip.xy)


def test_missing_and_degenerate_input_pass() -> None:
    seq, _, _ = walker_seq(30)
    seq.xy[10:20, 0, C["left_knee"]] = np.nan
    seq.world[10:20, 0, C["left_knee"]] = np.nan
    seq.state[10:20, 0, C["left_knee"]] = KeypointState.MISSING
    seq.score[10:20, 0, C["left_knee"]] = 0
    for fn in (fix_swaps, fix_bends, enforce_bone_lengths):
        out = fn(seq)
        assert np.isnan(out.xy[10:20, 0, C["left_knee"]]).all()
        np.testing.assert_array_equal(out.state, seq.state)
    empty = PoseSequence(COCO17, np.zeros((4, 0, K, 2)), np.zeros((4, 0, K)), np.zeros((4, 0, K)), np.arange(4) / 30)
    for fn in (fix_swaps, fix_bends, enforce_bone_lengths):
        assert fn(empty).xy.shape == (4, 0, K, 2)


def test_online_bone_lengths_steady_the_world_skeleton() -> None:
    from posekit.track.anatomy import OnlineBoneLengths
    from posekit.track.stabilize import OnlineStabilizer

    seq, _, world = walker_seq(150, noise_m=0.015, seed=8)
    bones = rigid_bones(COCO17)
    on = OnlineStabilizer().run(seq)
    off = OnlineStabilizer(bone_lengths=False).run(seq)
    def cv(s: PoseSequence) -> float:
        return np.nanmedian(bone_length_cv(s.world[30:, 0], s.present[30:, 0], bones, per_frame_scale=False))

    assert cv(on) < 0.5 * cv(off), (cv(on), cv(off))
    np.testing.assert_array_equal(on.xy, off.xy)  # image coordinates are the filter's alone
    # the running lengths approach the true ones; a track's lengths are its own
    ob = OnlineBoneLengths(COCO17)
    true_len = np.linalg.norm(world[0][bones[:, 0]] - world[0][bones[:, 1]], axis=-1)
    for k in range(150):
        pts = np.stack([seq.world[k, 0], 2 * seq.world[k, 0]])  # a second track twice the size
        ob.update(np.array([3, 8]), pts, np.ones((2, K), bool), np.ones((2, K)), k / 30)
    got = ob.length[[ob.slots[3], ob.slots[8]]]
    assert np.median(np.abs(got[0] / true_len - 1)) < 0.03
    assert np.median(np.abs(got[1] / (2 * true_len) - 1)) < 0.03
