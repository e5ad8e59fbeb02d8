"""QA rules on synthetic poses: each rule has a case that must trigger it and a near case that must not.

The synthetic person (``posekit.qa.inject.synthetic_walk``) walks in place with typical adult proportions,
so the clean poses trigger nothing; each test changes one thing and runs the one rule concerned.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from posekit.errors import InputError, ValidationError
from posekit.poses import KeypointState, PoseFrame, PoseSequence
from posekit.qa import (
    RULES,
    Finding,
    QAData,
    Severity,
    default_profile,
    get_rule,
    list_rules,
    load_profile,
    load_qa_input,
    read_findings,
    read_queue,
    render_profile_toml,
    review_queue,
    run_qa,
    write_findings,
    write_queue,
    write_report,
)
from posekit.qa.inject import synthetic_walk
from posekit.qa.queue import CSV_COLUMNS
from posekit.skeletons import get_skeleton

PX = 120.0  # synthetic_walk pixels per torso unit
V, O, M = int(KeypointState.VISIBLE), int(KeypointState.OCCLUDED), int(KeypointState.MISSING)


# ---------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------
def walk(skeleton: str = "coco17", yaw: float = 30.0, seconds: float = 2.0, fps: float = 30.0, world: bool = False,
         noise: float = 0.5) -> PoseSequence:  # fmt: skip
    return synthetic_walk(seconds, fps, skeleton=skeleton, yaw_deg=yaw, noise_px=noise, with_world=world, seed=1)


def frame(seq: PoseSequence, t: int = 10) -> PoseFrame:
    return seq.frame_at(t)


def still(xy: np.ndarray, skeleton: str = "coco17", state: np.ndarray | None = None, score=None, size=None) -> QAData:
    """QAData of still images from ``xy (N, K, 2)`` (one image)."""
    xy = np.asarray(xy, float)
    n, k = xy.shape[:2]
    st = np.where(np.isfinite(xy).all(-1), V, M) if state is None else np.asarray(state)
    sc = np.where(st != M, 1.0, 0.0) if score is None else score
    f = PoseFrame(skeleton, xy, sc, st, image_size=size)
    return QAData.from_frames([f])


def seq_data(seq: PoseSequence, xy: np.ndarray | None = None, state: np.ndarray | None = None, world=None) -> QAData:
    s = replace(seq, xy=seq.xy if xy is None else xy, state=seq.state if state is None else state,
                world=seq.world if world is None else world, box=None)  # fmt: skip
    return QAData.from_sequence(s)


def findings(rule: str, data, **params) -> list[Finding]:
    return run_qa(data, rules=[get_rule(rule, **params)]).findings


def ix(name: str, skeleton: str = "coco17") -> int:
    return get_skeleton(skeleton).index(name)


def person(seq: PoseSequence, t: int = 10) -> np.ndarray:
    return seq.xy[t, 0].copy()


def set_bend(p: np.ndarray, vertex: str, distal: str, proximal: str, flexion_deg: float, sign: float = 1.0,
             sk: str = "coco17") -> None:  # fmt: skip
    """Place ``distal`` so the 2D flexion at ``vertex`` is ``flexion_deg`` (``sign`` picks the side)."""
    a, b, c = ix(proximal, sk), ix(vertex, sk), ix(distal, sk)
    u = (p[b] - p[a]) / np.linalg.norm(p[b] - p[a])
    ang = np.radians(flexion_deg) * sign
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    p[c] = p[b] + np.linalg.norm(p[c] - p[b]) * (rot @ u)


def swap(p: np.ndarray, *parts: str, sk: str = "coco17") -> None:
    for part in parts:
        a, b = ix(f"left_{part}", sk), ix(f"right_{part}", sk)
        p[[a, b]] = p[[b, a]]


# ---------------------------------------------------------------------------------------------------
# clean synthetic poses trigger nothing
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("skeleton,yaw", [("coco17", 0), ("coco17", 90), ("blazepose33", 30), ("blazepose33", -60)])
def test_clean_synthetic_walk_has_no_findings(skeleton, yaw):
    seq = walk(skeleton, yaw, seconds=3, world=skeleton == "blazepose33")
    res = run_qa(seq)
    assert res.findings == []
    assert "continuity.speed" in res.ran and "topology.proportion" in res.ran


# ---------------------------------------------------------------------------------------------------
# topology
# ---------------------------------------------------------------------------------------------------
def _lengthen(p: np.ndarray, a: str, b: str, by_typical: float, typical: float) -> None:
    ia, ib = ix(a), ix(b)
    d = p[ib] - p[ia]
    p[ib] += d / np.linalg.norm(d) * by_typical * typical * PX


def test_proportion_flags_a_stretched_forearm_but_not_a_long_one():
    p = person(walk(yaw=0))
    bad = p.copy()
    _lengthen(bad, "left_elbow", "left_wrist", 1.5, 0.51)
    f = findings("topology.proportion", still(bad[None]))
    assert [x.keypoints for x in f] == [("left_elbow", "left_wrist")]
    assert f[0].severity == Severity.ERROR and f[0].value > 2.0 and f[0].unit == "x typical"
    near = p.copy()
    _lengthen(near, "left_elbow", "left_wrist", 0.6, 0.51)  # 1.6x typical: long, but possible in 2D
    assert findings("topology.proportion", still(near[None])) == []


def test_proportion_needs_enough_bones_for_a_scale():
    p = person(walk(yaw=0))
    _lengthen(p, "left_elbow", "left_wrist", 3.0, 0.51)
    keep = [ix(n) for n in ("left_elbow", "left_wrist", "left_shoulder", "right_shoulder")]
    part = np.full_like(p, np.nan)
    part[keep] = p[keep]
    assert findings("topology.proportion", still(part[None])) == []  # 2 bones: no yardstick, no verdict


def test_chain_order_flags_swapped_elbow_and_wrist_but_not_a_folded_arm():
    p = person(walk(yaw=0))
    set_bend(p, "left_elbow", "left_wrist", "left_shoulder", 0.0)  # straight arm
    bad = p.copy()
    e, w = ix("left_elbow"), ix("left_wrist")
    bad[[e, w]] = bad[[w, e]]
    f = findings("topology.order", still(bad[None]))
    assert len(f) == 1 and set(f[0].keypoints) == {"left_shoulder", "left_elbow", "left_wrist"}
    folded = p.copy()
    set_bend(folded, "left_elbow", "left_wrist", "left_shoulder", 155.0)  # full flexion: wrist near the shoulder
    assert findings("topology.order", still(folded[None])) == []


# ---------------------------------------------------------------------------------------------------
# joint limits
# ---------------------------------------------------------------------------------------------------
def test_flexion_2d_knee_folded_through_the_thigh_but_not_a_deep_crouch():
    p = person(walk(yaw=0))
    bad = p.copy()
    set_bend(bad, "left_knee", "left_ankle", "left_hip", 178.0)
    f = findings("joint_limits.flexion", still(bad[None]))
    assert len(f) == 1 and f[0].keypoints == ("left_hip", "left_knee", "left_ankle")
    assert f[0].value == pytest.approx(178.0, abs=0.5) and f[0].threshold == pytest.approx(175.0)
    near = p.copy()
    set_bend(near, "left_knee", "left_ankle", "left_hip", 170.0)  # within the 2D projection margin
    assert findings("joint_limits.flexion", still(near[None])) == []


def test_flexion_2d_ignores_elbows_and_short_segments():
    p = person(walk(yaw=0))
    elbow = p.copy()
    set_bend(elbow, "left_elbow", "left_wrist", "left_shoulder", 179.0)  # real full flexion can project so
    assert findings("joint_limits.flexion", still(elbow[None])) == []
    short = p.copy()
    k, a = ix("left_knee"), ix("left_ankle")
    short[a] = short[k] + 0.2 * (short[a] - short[k])  # shank pointing at the camera
    set_bend(short, "left_knee", "left_ankle", "left_hip", 178.0)
    assert findings("joint_limits.flexion", still(short[None])) == []


def test_flexion_3d_uses_the_skeleton_limits_for_every_joint():
    seq = walk("blazepose33", world=True)
    w = seq.world.copy()
    sk = "blazepose33"
    t = 10
    pw = w[t, 0]
    a, b, c = ix("left_shoulder", sk), ix("left_elbow", sk), ix("left_wrist", sk)

    def bend3(deg: float) -> np.ndarray:
        out = w.copy()
        u = (pw[b] - pw[a]) / np.linalg.norm(pw[b] - pw[a])
        n = np.cross(u, [0.0, 0.0, 1.0])
        n /= np.linalg.norm(n)
        ang = np.radians(deg)
        out[t, 0, c] = pw[b] + np.linalg.norm(pw[c] - pw[b]) * (np.cos(ang) * u + np.sin(ang) * n)
        return out

    f = findings("joint_limits.flexion", seq_data(seq, world=bend3(176.0)))
    assert [x.keypoints[1] for x in f] == ["left_elbow"] and f[0].threshold == 170.0 and f[0].frame == t
    assert findings("joint_limits.flexion", seq_data(seq, world=bend3(165.0))) == []  # within the 3D margin
    f = findings("joint_limits.flexion", seq_data(seq, world=bend3(165.0)), margin_3d_deg=0.0)  # measured 3D
    assert [x.keypoints[1] for x in f] == ["left_elbow"] and f[0].threshold == 160.0


def _side_knee(hyper_deg: float, facing: float = 1.0) -> np.ndarray:
    """Side view (yaw ±90): thigh straight down, shank bent ``hyper_deg`` toward the front (wrong way)."""
    p = person(walk(yaw=90.0 * facing))
    h, k, a = ix("left_hip"), ix("left_knee"), ix("left_ankle")
    p[k] = p[h] + np.array([0.0, 0.85 * PX])
    ang = np.radians(hyper_deg)
    p[a] = p[k] + 0.85 * PX * np.array([facing * np.sin(ang), np.cos(ang)])  # +x is anterior when facing right
    return p


@pytest.mark.parametrize("facing", [1.0, -1.0])
def test_hyperextension_2d_side_view(facing):
    bad = _side_knee(40.0, facing)
    f = findings("joint_limits.hyperextension", still(bad[None]))
    assert len(f) == 1 and f[0].keypoints[1] == "left_knee" and f[0].value == pytest.approx(-40.0, abs=1.0)
    assert findings("joint_limits.hyperextension", still(_side_knee(15.0, facing)[None])) == []  # within limit
    assert findings("joint_limits.hyperextension", still(_side_knee(-60.0, facing)[None])) == []  # normal flexion


def test_hyperextension_2d_needs_a_side_view_with_a_face():
    p = _side_knee(40.0)
    p[ix("nose")] = np.nan  # no facing cue
    assert findings("joint_limits.hyperextension", still(p[None])) == []
    front = person(walk(yaw=0.0))  # frontal view: the bend plane is not in the image
    set_bend(front, "left_knee", "left_ankle", "left_hip", 40.0)
    set_bend(front, "right_knee", "right_ankle", "right_hip", -40.0)
    assert findings("joint_limits.hyperextension", still(front[None])) == []


def test_hyperextension_3d_knee():
    seq = walk("blazepose33", yaw=0, world=True)
    sk = "blazepose33"
    w = seq.world.copy()
    t = 10
    h, k, a = ix("left_hip", sk), ix("left_knee", sk), ix("left_ankle", sk)

    def knee3(signed: float) -> np.ndarray:
        out = w.copy()
        p = out[t, 0]
        down, ant = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])  # yaw 0: facing the camera (-z)
        p[k] = p[h] + 0.42 * down
        ang = np.radians(signed)  # + flexion: ankle goes backwards (away from the camera)
        p[a] = p[k] + 0.42 * (np.cos(ang) * down - np.sin(ang) * ant)
        return out

    f = findings("joint_limits.hyperextension", seq_data(seq, world=knee3(-35.0)))
    assert len(f) == 1 and f[0].keypoints[1] == "left_knee" and f[0].value == pytest.approx(-35.0, abs=1.0)
    assert f[0].threshold == -25.0
    assert findings("joint_limits.hyperextension", seq_data(seq, world=knee3(-20.0))) == []
    assert findings("joint_limits.hyperextension", seq_data(seq, world=knee3(60.0))) == []


# ---------------------------------------------------------------------------------------------------
# left / right
# ---------------------------------------------------------------------------------------------------
def test_torso_swap_flags_swapped_hips_but_not_a_twist():
    front = person(walk(yaw=0))
    bad = front.copy()
    swap(bad, "hip")
    f = findings("left_right.torso", still(bad[None]))
    assert len(f) == 1 and f[0].value < -0.3 and f[0].severity == Severity.ERROR
    twist = front.copy()
    turned = person(walk(yaw=60))
    for n in ("left_shoulder", "right_shoulder"):
        twist[ix(n)] = turned[ix(n)]  # shoulders turned 60 degrees against the hips
    assert findings("left_right.torso", still(twist[None])) == []
    side = person(walk(yaw=85))
    swap(side, "hip")  # side view: too narrow to judge
    assert findings("left_right.torso", still(side[None])) == []


def test_face_swap_flags_swapped_ears_but_not_a_turned_head():
    front = person(walk(yaw=0))
    bad = front.copy()
    swap(bad, "ear", "eye")
    f = findings("left_right.face", still(bad[None]))
    assert len(f) == 1 and "left_ear" in f[0].keypoints
    turned = front.copy()
    head = person(walk(yaw=70))
    for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear"):
        turned[ix(n)] = head[ix(n)]
    assert findings("left_right.face", still(turned[None])) == []


def test_limb_crossing_flags_swapped_knees_but_not_in_a_side_view():
    front = person(walk(yaw=0))
    bad = front.copy()
    swap(bad, "knee", "ankle")
    f = findings("left_right.crossing", still(bad[None]))
    assert len(f) == 1 and f[0].keypoints == ("left_hip", "right_hip", "left_knee", "right_knee")
    assert findings("left_right.crossing", still(front[None])) == []
    side = person(walk(yaw=80))
    swap(side, "knee", "ankle")
    assert findings("left_right.crossing", still(side[None])) == []


def test_temporal_swap_flags_onset_and_end_of_a_leg_swap():
    seq = walk(yaw=80, seconds=2)
    xy = seq.xy.copy()
    for part in ("knee", "ankle"):
        a, b = ix(f"left_{part}"), ix(f"right_{part}")
        xy[7:10, 0, [a, b]] = xy[7:10, 0, [b, a]]  # legs far apart there (stride phase 90 degrees)
    f = findings("left_right.temporal", seq_data(seq, xy=xy))
    assert sorted(x.frame for x in f) == [7, 10] and all("left_knee" in x.keypoints for x in f)
    assert findings("left_right.temporal", seq_data(seq)) == []


# ---------------------------------------------------------------------------------------------------
# symmetry under occlusion
# ---------------------------------------------------------------------------------------------------
def test_occluded_limb_much_longer_than_its_visible_counterpart():
    p = person(walk(yaw=0))
    st = np.full(len(p), V)
    st[ix("left_wrist")] = O

    def forearm(factor: float) -> np.ndarray:
        q = p.copy()
        e, w = ix("left_elbow"), ix("left_wrist")
        right = np.linalg.norm(p[ix("right_wrist")] - p[ix("right_elbow")])
        d = (q[w] - q[e]) / np.linalg.norm(q[w] - q[e])
        q[w] = q[e] + factor * right * d
        return q

    f = findings("symmetry.occluded", still(forearm(2.6)[None], state=st[None]))
    assert len(f) == 1 and f[0].keypoints == ("left_elbow", "left_wrist") and f[0].value == pytest.approx(2.6, rel=0.01)
    assert findings("symmetry.occluded", still(forearm(1.6)[None], state=st[None])) == []
    vis = np.full(len(p), V)  # the same geometry with nothing hidden is the proportion rule's business
    assert findings("symmetry.occluded", still(forearm(2.6)[None], state=vis[None])) == []


def test_occluded_limb_in_a_sequence_is_compared_with_its_own_visible_length():
    seq = walk(yaw=0, seconds=1)
    xy, st = seq.xy.copy(), seq.state.copy()
    e, w = ix("left_elbow"), ix("left_wrist")
    st[15, 0, w] = O
    xy[15, 0, w] = xy[15, 0, e] + 2.5 * (xy[15, 0, w] - xy[15, 0, e])
    # make the other forearm equally long there, so only the track's own history can tell
    re, rw = ix("right_elbow"), ix("right_wrist")
    xy[15, 0, rw] = xy[15, 0, re] + 2.5 * (xy[15, 0, rw] - xy[15, 0, re])
    f = findings("symmetry.occluded", seq_data(seq, xy=xy, state=st))
    assert [(x.frame, x.keypoints) for x in f] == [(15, ("left_elbow", "left_wrist"))]


# ---------------------------------------------------------------------------------------------------
# over time
# ---------------------------------------------------------------------------------------------------
def test_bone_stability_flags_a_one_frame_stretch_but_not_a_small_one():
    seq = walk(yaw=0, seconds=2)

    def stretched(factor: float) -> QAData:
        xy = seq.xy.copy()
        h, k, a = ix("left_hip"), ix("left_knee"), ix("left_ankle")
        d = xy[30, 0, k] - xy[30, 0, h]
        xy[30, 0, [k, a]] += (factor - 1.0) * d
        return seq_data(seq, xy=xy)

    f = findings("bone_length.stability", stretched(1.6))
    assert [(x.frame, x.keypoints) for x in f] == [(30, ("left_hip", "left_knee"))] and f[0].value > 5
    assert findings("bone_length.stability", stretched(1.15)) == []


def test_bone_stability_3d_sees_shortening_too():
    seq = walk("blazepose33", world=True, seconds=2)
    w = seq.world.copy()
    sk = "blazepose33"
    h, k = ix("left_hip", sk), ix("left_knee", sk)
    shift = -0.5 * (w[30, 0, k] - w[30, 0, h])  # thigh half as long in metres; the leg below moves with the knee
    for name in ("left_knee", "left_ankle", "left_heel", "left_foot_index"):
        w[30, 0, ix(name, sk)] += shift
    f = findings("bone_length.stability", seq_data(seq, world=w))
    assert [(x.frame, x.keypoints) for x in f] == [(30, ("left_hip", "left_knee"))] and f[0].value < -5


def test_speed_flags_a_teleport_but_not_fast_motion():
    seq = walk(yaw=0, seconds=2)
    w = ix("left_wrist")
    xy = seq.xy.copy()
    xy[30:, 0, w] += np.array([2.0 * PX, 0.0])  # 2 torso in one frame at 30 fps = 60 torso/s, then stays
    f = findings("continuity.speed", seq_data(seq, xy=xy))
    assert [(x.frame, x.keypoints) for x in f] == [(30, ("left_wrist",))] and f[0].value == pytest.approx(60, rel=0.05)
    xy = seq.xy.copy()
    xy[30:, 0, w] += np.array([0.6 * PX, 0.0])  # 18 torso/s: fast, but a wrist can
    assert findings("continuity.speed", seq_data(seq, xy=xy)) == []


def test_acceleration_flags_a_one_frame_jump_relative_to_frame_rate():
    for fps, expect in ((30.0, True), (10.0, False)):
        seq = walk(yaw=0, seconds=3, fps=fps)
        xy = seq.xy.copy()
        a = ix("left_ankle")
        xy[15, 0, a] += np.array([0.0, 0.3 * PX])  # 0.3 torso: 540 torso/s^2 at 30 fps, 60 at 10 fps
        f = findings("continuity.acceleration", seq_data(seq, xy=xy))
        assert bool(f) is expect
        if expect:
            assert [(x.frame, x.keypoints) for x in f] == [(15, ("left_ankle",))]
    seq = walk(yaw=0, seconds=2)
    xy = seq.xy.copy()
    xy[15, 0, ix("left_ankle")] += np.array([0.0, 0.1 * PX])  # 180 torso/s^2: noise-level
    assert findings("continuity.acceleration", seq_data(seq, xy=xy)) == []


def test_bend_flip_flags_a_reversed_knee_but_not_a_slightly_bent_one():
    seq = walk(yaw=85, seconds=2)

    def flipped(t: int, flex: float) -> QAData:
        xy = seq.xy.copy()
        for tt in (t - 1, t):
            p = xy[tt, 0]
            set_bend(p, "left_knee", "left_ankle", "left_hip", flex, sign=1.0 if tt == t else -1.0)
        return seq_data(seq, xy=xy)

    f = findings("bend.flip", flipped(20, 45.0))
    assert [x.frame for x in f] == [20] and f[0].keypoints == ("left_hip", "left_knee", "left_ankle")
    assert findings("bend.flip", flipped(20, 20.0)) == []


# ---------------------------------------------------------------------------------------------------
# states, duplicates, confidence
# ---------------------------------------------------------------------------------------------------
def _coco_doc(kps: list[list[float]], num_keypoints: list[int] | None = None) -> dict:
    sk = get_skeleton("coco17")
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 1280, "height": 720}],
        "annotations": [
            {"id": 10 + j, "image_id": 1, "category_id": 1, "keypoints": kp, "iscrowd": 0, "area": 40000.0,
             "num_keypoints": (num_keypoints[j] if num_keypoints else sum(1 for v in kp[2::3] if v > 0))}
            for j, kp in enumerate(kps)
        ],  # fmt: skip
        "categories": [{"id": 1, "name": "person", "keypoints": list(sk.keypoints)}],
    }


def _flat(p: np.ndarray, v: np.ndarray) -> list[float]:
    out = []
    for (x, y), vv in zip(p.tolist(), v.tolist()):
        out += [0, 0, 0] if vv == 0 else [round(x, 2), round(y, 2), int(vv)]
    return out


def _load(tmp_path: Path, doc: dict) -> QAData:
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(doc))
    return load_qa_input(path)


def test_coco_state_rules_on_raw_triplets(tmp_path):
    p = person(walk(yaw=0))
    v = np.full(17, 2)
    clean = _flat(p, v)
    assert run_qa(_load(tmp_path, _coco_doc([clean]))).findings == []
    kp = list(clean)
    kp[3 * ix("left_wrist") + 2] = 0  # v=0 but coordinates kept
    f = findings("state.missing_with_position", _load(tmp_path, _coco_doc([kp])))
    assert len(f) == 1 and f[0].keypoints == ("left_wrist",) and f[0].image_id == 1 and f[0].annotation_id == 10
    kp = list(clean)
    kp[3 * ix("nose") : 3 * ix("nose") + 3] = [0, 0, 1]  # OCCLUDED without a position
    f = findings("state.present_without_position", _load(tmp_path, _coco_doc([kp])))
    assert len(f) == 1 and f[0].keypoints == ("nose",) and f[0].severity == Severity.ERROR
    near = list(clean)
    near[3 * ix("nose") : 3 * ix("nose") + 3] = [0, 0, 0]  # a proper "not labelled"
    d = _load(tmp_path, _coco_doc([near]))
    assert findings("state.missing_with_position", d) == [] and findings("state.present_without_position", d) == []
    assert findings("state.num_keypoints", d) == []
    f = findings("state.num_keypoints", _load(tmp_path, _coco_doc([near], num_keypoints=[17])))
    assert len(f) == 1 and f[0].value == 17


def test_visible_keypoint_outside_the_image():
    p = person(walk(yaw=0))
    st = np.full(17, V)
    q = p.copy()
    q[ix("left_wrist")] = (-60.0, 300.0)
    f = findings("state.visible_outside", still(q[None], state=st[None], size=(1280, 720)))
    assert len(f) == 1 and f[0].keypoints == ("left_wrist",)
    q[ix("left_wrist")] = (-6.0, 300.0)  # on the border (within 1%)
    assert findings("state.visible_outside", still(q[None], state=st[None], size=(1280, 720))) == []
    q[ix("left_wrist")] = (-60.0, 300.0)
    st[ix("left_wrist")] = O  # hidden and outside: fine
    assert findings("state.visible_outside", still(q[None], state=st[None], size=(1280, 720))) == []


def test_state_transitions_interpolated_and_predicted():
    seq = walk(yaw=0, seconds=1)
    w = ix("left_wrist")
    st = seq.state.copy()
    st[:3, 0, w] = KeypointState.INTERPOLATED  # interpolated with nothing measured before
    st[10:12, 0, ix("left_ankle")] = KeypointState.INTERPOLATED  # bracketed: fine
    f = findings("state.transitions", seq_data(seq, state=st))
    assert sorted((x.frame, x.keypoints) for x in f) == [(0, ("left_wrist",)), (1, ("left_wrist",)), (2, ("left_wrist",))]
    st = seq.state.copy()
    st[0, 0, w] = KeypointState.PREDICTED
    st[5, 0, w] = KeypointState.PREDICTED  # after a measurement: fine
    f = findings("state.transitions", seq_data(seq, state=st))
    assert [(x.frame, x.keypoints) for x in f] == [(0, ("left_wrist",))]


def test_duplicate_people():
    p = person(walk(yaw=0))
    rng = np.random.default_rng(0)
    twin = p + rng.normal(0, 2.0, p.shape)
    f = findings("duplicate.person", still(np.stack([p, twin])))
    assert len(f) == 1 and f[0].person == 1 and f[0].value > 0.9 and len(f[0].keypoints) == 17
    apart = p + np.array([0.5 * PX, 0.0])  # half a torso to the side: two people
    assert findings("duplicate.person", still(np.stack([p, apart]))) == []


def test_low_confidence():
    p = person(walk(yaw=0))
    sc = np.full((1, 17), 0.9, np.float32)
    sc[0, ix("nose")] = 0.05
    f = findings("confidence.keypoint", still(p[None], score=sc))
    assert len(f) == 1 and f[0].keypoints == ("nose",) and f[0].severity == Severity.INFO
    sc[0, ix("nose")] = 0.15
    assert findings("confidence.keypoint", still(p[None], score=sc)) == []
    assert findings("confidence.person", still(p[None], score=np.full((1, 17), 0.2, np.float32)))
    assert findings("confidence.person", still(p[None], score=np.full((1, 17), 0.4, np.float32))) == []


# ---------------------------------------------------------------------------------------------------
# registry, profiles, findings, queue, report
# ---------------------------------------------------------------------------------------------------
TESTED = {
    "topology.proportion", "topology.order", "joint_limits.flexion", "joint_limits.hyperextension",
    "left_right.torso", "left_right.face", "left_right.crossing", "left_right.temporal", "symmetry.occluded",
    "bone_length.stability", "continuity.speed", "continuity.acceleration", "bend.flip",
    "state.missing_with_position", "state.present_without_position", "state.num_keypoints", "state.visible_outside",
    "state.transitions", "duplicate.person", "confidence.keypoint", "confidence.person",
}  # fmt: skip


def test_every_registered_rule_is_described_and_tested():
    rules = list_rules()
    assert {r.id for r in rules} == TESTED == set(RULES)
    for r in rules:
        assert r.description and r.severity in Severity
        for p in r.parameters:
            assert p.reason and p.unit, f"{r.id}.{p.name} needs a unit and a reason"
        inst = r()
        assert inst.params == {p.name: p.default for p in r.parameters}


def test_rule_parameters_are_validated():
    with pytest.raises(ValueError, match="no parameter"):
        get_rule("continuity.speed", max_sped=3.0)
    with pytest.raises(ValueError, match="must be a number"):
        get_rule("continuity.speed", max_speed="fast")
    with pytest.raises(KeyError, match="unknown QA rule"):
        get_rule("no.such")
    assert get_rule("continuity.speed", severity="error", max_speed=10).params["max_speed"] == 10.0


def test_packaged_default_profile_is_the_rendered_defaults():
    from importlib import resources

    text = resources.files("posekit.qa").joinpath("profiles", "default.toml").read_text(encoding="utf-8")
    assert text == render_profile_toml()
    prof = load_profile("default")
    assert prof.rules == default_profile().rules and prof.review == default_profile().review


def test_user_profile_overrides_and_errors(tmp_path):
    good = tmp_path / "p.toml"
    good.write_text('name = "mine"\n[review]\nwarning = 0.5\n[rules."continuity.speed"]\nmax_speed = 40.0\n'
                    'severity = "error"\n[rules."confidence.keypoint"]\nenabled = false\n')  # fmt: skip
    prof = load_profile(good)
    assert prof.name == "mine" and prof.review.warning == 0.5
    assert prof.rules["continuity.speed"].params["max_speed"] == 40.0
    assert prof.rules["continuity.speed"].severity == Severity.ERROR
    ids = [r.id for r in prof.build_rules()]
    assert "confidence.keypoint" not in ids and "continuity.speed" in ids
    cases = {
        '[rules."no.rule"]\nenabled = true\n': "unknown rule 'no.rule'",
        '[rules."continuity.speed"]\nmax_sped = 1.0\n': "unknown parameter 'max_sped'",
        '[rules."continuity.speed"]\nmax_speed = "x"\n': "must be a number",
        '[rules."continuity.speed"]\nseverity = "fatal"\n': "severity must be",
        "[extra]\na = 1\n": "unknown top-level key",
        "[review]\nerror = -1\n": "non-negative",
        "not toml [": "not valid TOML",
    }
    for text, msg in cases.items():
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(InputError, match=msg) as ei:
            load_profile(bad)
        assert str(bad) in str(ei.value)
    with pytest.raises(InputError, match="profile not found"):
        load_profile(tmp_path / "absent.toml")


def test_findings_file_round_trip_and_is_atomic(tmp_path, monkeypatch):
    seq = walk(yaw=0, seconds=1)
    xy = seq.xy.copy()
    xy[15, 0, ix("left_ankle")] += 0.5 * PX
    res = run_qa(seq_data(seq, xy=xy))
    assert res.findings
    out = tmp_path / "f.json"
    write_findings(out, res.findings)
    doc = json.loads(out.read_text())
    assert list(doc) == ["findings"]
    keys = {"rule", "severity", "frame", "time", "track", "person", "image_id", "annotation_id", "keypoints",
            "value", "threshold", "unit", "message"}  # fmt: skip
    assert all(set(d) == keys for d in doc["findings"])
    back = read_findings(out)
    assert [f.to_dict() for f in back] == doc["findings"]
    assert [(f.rule, f.frame, f.keypoints, f.severity) for f in back] == [
        (f.rule, f.frame, f.keypoints, f.severity) for f in res.findings
    ]
    # a failure while writing leaves the previous file untouched and no temporary file behind
    before = out.read_text()
    import posekit.qa.findings as fm

    monkeypatch.setattr(fm.json, "dumps", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        write_findings(out, res.findings)
    assert out.read_text() == before and sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


def test_review_queue_ranks_by_risk_and_exports_json_and_csv(tmp_path):
    seq = walk(yaw=0, seconds=1)
    xy = seq.xy.copy()
    sc = seq.score.copy()
    p = xy[5, 0]
    _lengthen(p, "left_elbow", "left_wrist", 1.5, 0.51)  # error at frame 5
    xy[12, 0, ix("left_ankle")] += 0.5 * PX  # warnings at frame 12
    sc[20, 0] = 0.4  # uncertain model output at frame 20
    s2 = replace(seq, xy=xy, score=sc, box=None)
    res = run_qa(s2)
    items = review_queue(res)
    assert [it.rank for it in items] == list(range(1, len(items) + 1))
    assert [it.risk for it in items] == sorted((it.risk for it in items), reverse=True)
    by_frame = {it.frame: it for it in items}
    assert items[0].frame == 5 and items[0].errors >= 1 and "topology.proportion" in items[0].rules
    assert by_frame[20].uncertainty == pytest.approx(0.5, abs=1e-6) and by_frame[20].findings == []
    assert all(it.uncertainty == 0.0 for it in items if it.frame != 20)  # scores ~0.9 are certain
    assert 12 in by_frame and by_frame[12].warnings >= 1
    for it in items:
        assert all(res.findings[j].frame == it.frame for j in it.findings)
    jpath, cpath = write_queue(tmp_path / "q.json", items, source="x", skeleton="coco17")
    doc = json.loads(jpath.read_text())
    assert doc["format"] == "posekit-review-queue" and doc["version"] == 1 and len(doc["items"]) == len(items)
    assert [it.to_dict() for it in read_queue(jpath)] == doc["items"] == [it.to_dict() for it in items]
    lines = cpath.read_text().splitlines()
    assert lines[0].split(",") == list(CSV_COLUMNS) and len(lines) == len(items) + 1


def test_html_report_is_self_contained(tmp_path):
    seq = walk(yaw=0, seconds=1)
    xy = seq.xy.copy()
    _lengthen(xy[5, 0], "left_elbow", "left_wrist", 1.5, 0.51)
    res = run_qa(seq_data(seq, xy=xy))
    out = tmp_path / "r.html"
    write_report(out, res, review_queue(res))
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "topology.proportion" in text and "<svg" in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text
    assert "<script src" not in text and "<link" not in text


# ---------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors(tmp_path):
    p = person(walk(yaw=0))
    doc = _coco_doc([_flat(p, np.full(17, 2))])
    short = json.loads(json.dumps(doc))
    short["annotations"][0]["keypoints"] = short["annotations"][0]["keypoints"][:-3]
    with pytest.raises(InputError, match=r"annotation id 10: 'keypoints' has 48 values, expected 3×17=51"):
        _load(tmp_path, short)
    bad = json.loads(json.dumps(doc))
    bad["annotations"][0]["keypoints"][4] = "x"
    with pytest.raises(InputError, match=r"annotation id 10: 'keypoints' value 4"):
        _load(tmp_path, bad)
    orphan = json.loads(json.dumps(doc))
    orphan["annotations"][0]["image_id"] = 99
    with pytest.raises(InputError, match="refers to image id 99"):
        _load(tmp_path, orphan)
    unknown = json.loads(json.dumps(doc))
    unknown["categories"][0]["keypoints"] = ["a", "b", "c"]
    with pytest.raises(InputError, match="match no registered skeleton"):
        _load(tmp_path, unknown)
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="unknown skeleton 'nope'"):
        load_qa_input(path, skeleton="nope")
    (tmp_path / "imgs").mkdir()
    with pytest.raises(InputError, match=r"image id 1 refers to 'a.jpg', which is not in"):
        load_qa_input(path, images_dir=tmp_path / "imgs")
    (tmp_path / "imgs" / "a.jpg").write_bytes(b"x")
    assert load_qa_input(path, images_dir=tmp_path / "imgs").shape == (1, 1, 17)
    (tmp_path / "odd.json").write_text('{"hello": 1}')
    with pytest.raises(InputError, match="neither a COCO keypoint file"):
        load_qa_input(tmp_path / "odd.json")
    (tmp_path / "broken.json").write_text('{"images": [')
    with pytest.raises(InputError, match="not valid JSON"):
        load_qa_input(tmp_path / "broken.json")


def test_qadata_refuses_wrong_keypoint_count():
    sk = get_skeleton("coco17")
    with pytest.raises(ValidationError, match=r"shape \(T, I, 17, 2\)"):
        QAData(sk, np.zeros((2, 1, 16, 2)), np.ones((2, 1, 16)), np.ones((2, 1, 16)), np.ones((2, 1)), np.arange(2),
               None, np.full((2, 1), -1), False)  # fmt: skip
    with pytest.raises(TypeError, match="cannot run QA"):
        run_qa({"not": "poses"})


# ---------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------
def test_qa_command_exit_codes_and_outputs(tmp_path):
    import typer
    from typer.testing import CliRunner

    from posekit.cli_qa import qa_command

    app = typer.Typer()
    app.command("qa")(qa_command)
    app.command("noop")(lambda: None)
    p = person(walk(yaw=0))
    clean = _flat(p, np.full(17, 2))
    bad = list(clean)
    bad[3 * ix("left_hip") : 3 * ix("left_hip") + 2], bad[3 * ix("right_hip") : 3 * ix("right_hip") + 2] = (
        bad[3 * ix("right_hip") : 3 * ix("right_hip") + 2], bad[3 * ix("left_hip") : 3 * ix("left_hip") + 2])  # fmt: skip
    src = tmp_path / "ann.json"
    src.write_text(json.dumps(_coco_doc([clean, bad])))
    out, rep, q = tmp_path / "o" / "f.json", tmp_path / "o" / "r.html", tmp_path / "o" / "q.json"
    run = CliRunner().invoke(app, ["qa", str(src), "-o", str(out), "--report", str(rep), "--queue", str(q)])
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    assert any(f["rule"] == "left_right.torso" and f["annotation_id"] == 11 for f in doc["findings"])
    assert rep.read_text().startswith("<!DOCTYPE html>") and q.with_suffix(".csv").exists()
    assert json.loads(q.read_text())["items"][0]["image_id"] == 1
    run = CliRunner().invoke(app, ["qa", str(src), "-o", str(out), "--strict"])
    assert run.exit_code == 1 and "error-level" in run.output
    src.write_text(json.dumps(_coco_doc([clean])))
    assert CliRunner().invoke(app, ["qa", str(src), "-o", str(out), "--strict"]).exit_code == 0
    run = CliRunner().invoke(app, ["qa", str(tmp_path / "none.json"), "-o", str(out)])
    assert run.exit_code == 2 and "file not found" in run.output
    prof = tmp_path / "p.toml"
    prof.write_text('[rules."left_right.torso"]\nmax_cosine = "x"\n')
    run = CliRunner().invoke(app, ["qa", str(src), "-o", str(out), "--profile", str(prof)])
    assert run.exit_code == 2 and "must be a number" in run.output


def test_posekit_json_frames_of_a_video_are_checked_as_a_sequence(tmp_path):
    from posekit.io.posekit_json import save_poses

    seq = walk(yaw=0, seconds=1)
    frames = list(seq.frames())
    path = tmp_path / "frames.json"
    save_poses(frames, path)
    data = load_qa_input(path)
    assert data.temporal and data.kind == "sequence" and data.shape == (30, 1, 17)
    stills = [replace(f, time=None) for f in frames[:3]]
    save_poses(stills, path)
    data = load_qa_input(path)
    assert not data.temporal and data.shape == (3, 1, 17)
    assert "continuity.speed" in run_qa(data).skipped


def test_coco_results_with_confidences_are_not_read_as_flags(tmp_path):
    p = person(walk(yaw=0))
    kp = []
    for (x, y), c in zip(p.tolist(), np.linspace(0.0, 0.9, 17).tolist()):
        kp += [round(x, 2), round(y, 2), round(c, 3)]  # third value: a confidence (0.0 for the nose)
    path = tmp_path / "res.json"
    path.write_text(json.dumps([{"image_id": 1, "category_id": 1, "keypoints": kp, "score": 0.8}]))
    data = load_qa_input(path, skeleton="coco17")
    assert data.kind == "coco" and findings("state.missing_with_position", data) == []
    flags = list(kp)
    flags[2::3] = [2] * 17
    flags[2] = 0  # a real COCO flag: nose not labelled, yet coordinates given
    path.write_text(json.dumps([{"image_id": 1, "category_id": 1, "keypoints": flags, "score": 0.8}]))
    f = findings("state.missing_with_position", load_qa_input(path, skeleton="coco17"))
    assert len(f) == 1 and f[0].keypoints == ("nose",) and f[0].annotation_id == 0
