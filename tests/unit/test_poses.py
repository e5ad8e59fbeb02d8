"""Tests of the pose data model: keypoint states, PoseFrame, PoseSequence, skeleton conversion."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.errors import ValidationError
from posekit.poses import PRESENT_STATES, STATE_NAMES, KeypointState, PoseFrame, PoseSequence
from posekit.skeletons import BLAZEPOSE33, COCO17, get_conversion, get_skeleton

S = KeypointState


def make_frame(n: int, skeleton: str = "coco17", *, seed: int = 0, with_world: bool = False, **kw) -> PoseFrame:
    """``n`` people with every state, NaN exactly where MISSING."""
    rng = np.random.default_rng(seed)
    k = len(get_skeleton(skeleton))
    state = rng.integers(0, 6, (n, k)).astype(np.uint8)
    if n:
        state[0, :6] = np.arange(6)  # all six states occur
    xy = rng.uniform(0, 640, (n, k, 2))
    xy[state == S.MISSING] = np.nan
    world = None
    if with_world:
        world = rng.normal(0, 0.5, (n, k, 3))
        world[state == S.MISSING] = np.nan
    return PoseFrame(skeleton, xy, rng.random((n, k)).astype(np.float32), state, world=world, **kw)


# --- KeypointState ---------------------------------------------------------------------------------
def test_state_values_and_names_are_fixed():
    assert [int(s) for s in S] == [0, 1, 2, 3, 4, 5]
    assert STATE_NAMES == ("missing", "visible", "occluded", "predicted", "interpolated", "corrected")
    assert S.MISSING not in PRESENT_STATES and len(PRESENT_STATES) == 5


@pytest.mark.parametrize("value, expected", [("visible", S.VISIBLE), (" Occluded ", S.OCCLUDED), (5, S.CORRECTED), ("0", None)])
def test_state_parse(value, expected):
    if expected is None:
        with pytest.raises(ValueError, match="unknown keypoint state '0'"):
            S.parse(value)
    else:
        assert S.parse(value) is expected


# --- PoseFrame validation --------------------------------------------------------------------------
def test_frame_defaults_box_score_track_id():
    f = make_frame(3)
    assert f.xy.dtype == np.float64 and f.score.dtype == np.float32 and f.state.dtype == np.uint8
    assert f.box_score.tolist() == [1.0, 1.0, 1.0]
    assert f.track_id.tolist() == [-1, -1, -1] and f.track_id.dtype == np.int64
    # default box = tight box around present keypoints
    pres = f.present[1]
    np.testing.assert_array_equal(f.box[1], [*f.xy[1][pres].min(0), *f.xy[1][pres].max(0)])


def test_frame_shape_messages():
    with pytest.raises(ValidationError, match=r"Expected 'xy' to have shape \(\?, 17, 2\), but got \(1, 16, 2\)"):
        PoseFrame("coco17", np.zeros((1, 16, 2)), np.zeros((1, 16)), np.ones((1, 16)))
    with pytest.raises(ValidationError, match=r"Expected 'score' to have shape \(2, 17\), but got \(1, 17\)"):
        PoseFrame("coco17", np.zeros((2, 17, 2)), np.zeros((1, 17)), np.ones((2, 17)))
    with pytest.raises(ValidationError, match=r"Expected 'state' to have shape \(2, 17\)"):
        PoseFrame("coco17", np.zeros((2, 17, 2)), np.zeros((2, 17)), np.ones((2, 16)))
    with pytest.raises(ValidationError, match=r"Expected 'track_id' to have shape \(2,\), but got \(3,\)"):
        PoseFrame("coco17", np.zeros((2, 17, 2)), np.zeros((2, 17)), np.ones((2, 17)), track_id=[1, 2, 3])
    with pytest.raises(ValidationError, match=r"Expected 'world' to have shape \(2, 17, 3\)"):
        PoseFrame("coco17", np.zeros((2, 17, 2)), np.zeros((2, 17)), np.ones((2, 17)), world=np.zeros((2, 17, 2)))


def test_missing_must_be_nan_and_present_must_be_finite():
    xy = np.zeros((1, 17, 2))
    state = np.ones((1, 17), np.uint8)
    state[0, 4] = S.MISSING
    with pytest.raises(ValidationError, match=r"index \(0, 4\) is MISSING but has coordinates \[0.0, 0.0\]"):
        PoseFrame("coco17", xy, np.zeros((1, 17)), state)
    xy[0, 4] = np.nan
    PoseFrame("coco17", xy, np.zeros((1, 17)), state)  # now valid
    xy[0, 2, 1] = np.nan  # half-NaN present keypoint
    with pytest.raises(ValidationError, match=r"index \(0, 2\) has state VISIBLE but non-finite coordinates"):
        PoseFrame("coco17", xy, np.zeros((1, 17)), state)


def test_state_values_outside_range_are_refused():
    xy = np.zeros((1, 17, 2))
    with pytest.raises(ValidationError, match="outside 0..5"):
        PoseFrame("coco17", xy, np.zeros((1, 17)), np.full((1, 17), 6))
    with pytest.raises(ValidationError, match="negative"):
        PoseFrame("coco17", xy, np.zeros((1, 17)), np.full((1, 17), -1))
    with pytest.raises(ValidationError, match="integer keypoint states"):
        PoseFrame("coco17", xy, np.zeros((1, 17)), np.full((1, 17), 1.5))


def test_parts_and_extras_must_match_people():
    hand = make_frame(1, "hand21")
    with pytest.raises(ValidationError, match="part 'left_hand' must be a PoseFrame with 2 people"):
        make_frame(2, parts={"left_hand": hand})
    with pytest.raises(ValidationError, match="extra 'handedness' must have a leading axis of 2 people"):
        make_frame(2, extras={"handedness": np.zeros(3)})


def test_unknown_skeleton_names_known_ones():
    with pytest.raises(KeyError, match="unknown skeleton 'coco18'.*coco17"):
        PoseFrame("coco18", np.zeros((0, 17, 2)), np.zeros((0, 17)), np.zeros((0, 17)))


# --- PoseFrame indexing / construction ------------------------------------------------------------
def test_indexing_by_int_slice_mask_and_array_keeps_people_together():
    hand = make_frame(4, "hand21", seed=3)
    f = make_frame(4, seed=1, with_world=True, track_id=[10, 11, 12, 13], parts={"left_hand": hand},
                   extras={"handedness": np.array([0.1, 0.2, 0.3, 0.4])})  # fmt: skip
    for idx, want in [(2, [2]), (slice(1, 3), [1, 2]), (np.array([True, False, False, True]), [0, 3]), ([3, 0], [3, 0])]:
        g = f[idx]
        assert g.track_id.tolist() == [10 + w for w in want]
        np.testing.assert_array_equal(g.xy, f.xy[want])
        np.testing.assert_array_equal(g.state, f.state[want])
        np.testing.assert_array_equal(g.world, f.world[want])
        np.testing.assert_array_equal(g.box, f.box[want])
        np.testing.assert_array_equal(g.parts["left_hand"].xy, hand.xy[want])
        np.testing.assert_array_equal(g.extras["handedness"], f.extras["handedness"][want])
    assert len(f[np.zeros(4, bool)]) == 0


def test_empty_and_missing_constructors():
    e = PoseFrame.empty("blazepose33", frame=7)
    assert len(e) == 0 and e.xy.shape == (0, 33, 2) and e.frame == 7
    m = PoseFrame.missing("hand21", 2, with_world=True)
    assert m.xy.shape == (2, 21, 2) and np.isnan(m.xy).all() and np.isnan(m.world).all()
    assert not m.present.any() and m.box_score.tolist() == [0.0, 0.0]


def test_copy_is_deep():
    f = make_frame(2)
    g = f.copy()
    g.xy[0, 0] = -1.0
    assert f.xy[0, 0, 0] != -1.0


# --- skeletons and conversion ---------------------------------------------------------------------
def test_blazepose_to_coco_is_exact_by_name():
    f = make_frame(3, "blazepose33", seed=4, with_world=True)
    f.z = np.where(f.present, np.arange(33.0)[None], np.nan)
    c = f.to_skeleton("coco17")
    assert c.skeleton is COCO17 and c.xy.shape == (3, 17, 2)
    for j, name in enumerate(COCO17.keypoints):
        i = BLAZEPOSE33.index(name)
        np.testing.assert_array_equal(c.xy[:, j], f.xy[:, i])
        np.testing.assert_array_equal(c.score[:, j], f.score[:, i])
        np.testing.assert_array_equal(c.state[:, j], f.state[:, i])
        np.testing.assert_array_equal(c.world[:, j], f.world[:, i])
        np.testing.assert_array_equal(c.z[:, j], f.z[:, i])
    assert get_conversion("blazepose33", "coco17").exact
    np.testing.assert_array_equal(c.box, f.box)  # the person box is kept


def test_identity_conversion_and_missing_conversion():
    f = make_frame(2)
    np.testing.assert_array_equal(f.to_skeleton("coco17").xy, f.xy)
    with pytest.raises(KeyError, match="no conversion from 'coco17' to 'blazepose33'"):
        f.to_skeleton("blazepose33")


def test_coco_skeleton_facts():
    assert COCO17.keypoints[0] == "nose" and COCO17.keypoints[-1] == "right_ankle"
    # COCO's OKS sigmas (cocoapi: [.26,.25,.25,.35,.35,.79,.79,.72,.72,.62,.62,1.07,1.07,.87,.87,.89,.89]/10)
    np.testing.assert_allclose(
        COCO17.sigmas_array,
        np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10,
    )  # fmt: skip
    flip = COCO17.flip_index
    assert [COCO17.keypoints[i] for i in flip[:5]] == ["nose", "right_eye", "left_eye", "right_ear", "left_ear"]
    assert np.array_equal(flip[flip], np.arange(17))
    bp_flip = BLAZEPOSE33.flip_index
    assert BLAZEPOSE33.keypoints[bp_flip[BLAZEPOSE33.index("mouth_left")]] == "mouth_right"
    assert np.array_equal(bp_flip[bp_flip], np.arange(33))


# --- PoseSequence ---------------------------------------------------------------------------------
def test_sequence_validation_messages():
    with pytest.raises(ValidationError, match=r"time\[2\]=0.1 < time\[1\]=0.2"):
        PoseSequence("coco17", np.zeros((3, 1, 17, 2)), np.zeros((3, 1, 17)), np.ones((3, 1, 17)), [0.0, 0.2, 0.1])
    with pytest.raises(ValidationError, match="non-finite"):
        PoseSequence("coco17", np.zeros((2, 1, 17, 2)), np.zeros((2, 1, 17)), np.ones((2, 1, 17)), [0.0, np.nan])
    with pytest.raises(ValidationError, match=r"Expected 'track_id' to have shape \(1,\)"):
        PoseSequence("coco17", np.zeros((2, 1, 17, 2)), np.zeros((2, 1, 17)), np.ones((2, 1, 17)), [0, 1], track_id=[1, 2])
    xy = np.zeros((2, 1, 17, 2))
    st = np.ones((2, 1, 17))
    st[1, 0, 3] = 0
    with pytest.raises(ValidationError, match=r"index \(1, 0, 3\) is MISSING"):
        PoseSequence("coco17", xy, np.zeros((2, 1, 17)), st, [0, 1])


def test_from_frames_groups_by_track_id():
    a0, b0 = make_frame(1, seed=10), make_frame(1, seed=11)
    f0 = PoseFrame("coco17", np.concatenate([a0.xy, b0.xy]), np.concatenate([a0.score, b0.score]),
                   np.concatenate([a0.state, b0.state]), track_id=[7, 3], frame=0, time=0.0)  # fmt: skip
    b1 = make_frame(1, seed=12)
    f1 = PoseFrame("coco17", b1.xy, b1.score, b1.state, track_id=[3], frame=1, time=0.04, box_score=[0.5])
    c2 = make_frame(1, seed=13)
    f2 = PoseFrame("coco17", np.concatenate([c2.xy, a0.xy]), np.concatenate([c2.score, a0.score]),
                   np.concatenate([c2.state, a0.state]), track_id=[9, 7], frame=2, time=0.09)  # fmt: skip
    s = PoseSequence.from_frames([f0, f1, f2], fps=25.0, source="clip.mp4")
    assert s.track_id.tolist() == [7, 3, 9]  # first-appearance order
    assert s.xy.shape == (3, 3, 17, 2)
    np.testing.assert_array_equal(s.xy[0, 0], a0.xy[0])
    np.testing.assert_array_equal(s.xy[0, 1], b0.xy[0])
    np.testing.assert_array_equal(s.xy[1, 1], b1.xy[0])
    np.testing.assert_array_equal(s.xy[2, 2], c2.xy[0])
    np.testing.assert_array_equal(s.xy[2, 0], a0.xy[0])
    # individuals absent at a time: all MISSING, NaN, box_score 0
    assert not s.present[1, 0].any() and np.isnan(s.xy[1, 0]).all() and s.box_score[1, 0] == 0
    assert not s.present[0, 2].any() and not s.present[1, 2].any()
    assert s.box_score[1, 1] == np.float32(0.5)
    np.testing.assert_array_equal(s.time, [0.0, 0.04, 0.09])
    np.testing.assert_array_equal(s.frame, [0, 1, 2])
    assert s.fps == 25.0 and s.source == "clip.mp4"


def test_from_frames_times_from_fps_and_skeleton_mismatch():
    frames = [PoseFrame.empty("coco17", frame=i) for i in (0, 5, 10)]
    s = PoseSequence.from_frames(frames, fps=10.0)
    np.testing.assert_allclose(s.time, [0.0, 0.5, 1.0])
    assert s.num_individuals == 0
    with pytest.raises(ValidationError, match="frame 0 has skeleton 'hand21', expected 'coco17'"):
        PoseSequence.from_frames([PoseFrame.empty("hand21")], skeleton="coco17")
    with pytest.raises(ValidationError, match="without a skeleton"):
        PoseSequence.from_frames([])
    assert PoseSequence.from_frames([], skeleton="coco17").xy.shape == (0, 0, 17, 2)


def test_frame_at_round_trips_from_frames():
    frames = []
    for t in range(5):
        f = make_frame(2, seed=100 + t, with_world=True, track_id=[1, 2] if t % 2 == 0 else [2, 1], frame=t, time=t / 30,
                       image_size=(640, 480))  # fmt: skip
        frames.append(f)
    s = PoseSequence.from_frames(frames)
    for t, f in enumerate(frames):
        g = s.frame_at(t)
        order = [list(g.track_id).index(tid) for tid in f.track_id]
        for name in ("xy", "score", "state", "world", "box", "box_score"):
            np.testing.assert_array_equal(getattr(g, name)[order], getattr(f, name), err_msg=name)
        assert g.frame == t and g.time == pytest.approx(t / 30) and g.image_size == (640, 480)
    assert len(list(s.frames())) == 5


def test_frame_at_leaves_out_absent_individuals():
    f0 = make_frame(2, seed=1, track_id=[1, 2], time=0.0)
    f1 = make_frame(1, seed=2, track_id=[2], time=0.1)
    s = PoseSequence.from_frames([f0, f1])
    assert s.frame_at(1).track_id.tolist() == [2]


def test_sequence_to_skeleton_logs_provenance_and_keeps_original():
    frames = [make_frame(1, "blazepose33", seed=t, track_id=[0], time=t * 0.1) for t in range(3)]
    s = PoseSequence.from_frames(frames)
    c = s.to_skeleton("coco17")
    assert c.skeleton is COCO17 and s.skeleton is BLAZEPOSE33
    assert c.provenance[-1]["step"] == "to_skeleton" and c.provenance[-1]["params"] == {"src": "blazepose33", "dst": "coco17"}
    assert s.provenance == []
    np.testing.assert_array_equal(c.xy[:, :, COCO17.index("left_knee")], s.xy[:, :, BLAZEPOSE33.index("left_knee")])


def test_log_step_is_json_safe():
    s = PoseSequence("coco17", np.zeros((1, 1, 17, 2)), np.zeros((1, 1, 17)), np.ones((1, 1, 17)), [0.0])
    s.log_step("filter", cutoff=np.float32(2.5), window=np.arange(3))
    assert s.provenance[0]["params"] == {"cutoff": 2.5, "window": [0, 1, 2]}


def test_states_survive_every_container_operation():
    f = make_frame(3, seed=5, track_id=[1, 2, 3], time=0.0)
    s = PoseSequence.from_frames([f])
    assert set(np.unique(s.state).tolist()) == set(range(6))
    back = s.frame_at(0)
    np.testing.assert_array_equal(np.sort(back.state, axis=None), np.sort(f.state, axis=None))
    # MISSING never turns into (0, 0)
    assert np.isnan(s.xy[s.state == S.MISSING]).all()
    assert np.isfinite(s.xy[s.state != S.MISSING]).all()


# --- regressions found in review -------------------------------------------------------------------
def test_state_256_does_not_wrap_to_missing():
    xy = np.zeros((1, 17, 2))
    with pytest.raises(ValidationError, match="outside"):
        PoseFrame("coco17", xy, np.ones((1, 17)), np.full((1, 17), 257))
    with pytest.raises(ValidationError, match="integer"):
        PoseFrame("coco17", xy, np.ones((1, 17)), np.full((1, 17), "visible"))


def test_two_people_with_one_track_id_in_a_frame_are_refused():
    f = make_frame(2, track_id=np.array([4, 4]))
    with pytest.raises(ValidationError, match="same track id"):
        PoseSequence.from_frames([f])


def test_parts_keep_the_body_track_ids():
    body = make_frame(2, track_id=np.array([7, 9]))
    body.parts["left_hand"] = PoseFrame.missing("hand21", 2)
    seq = PoseSequence.from_frames([body, body[1:]])
    assert seq.parts["left_hand"].track_id.tolist() == [7, 9]
    assert seq.frame_at(1).parts["left_hand"].track_id.tolist() == [9]
