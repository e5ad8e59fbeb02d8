"""Exercises: exact rep counts on synthetic sets, gating on keypoint state, form feedback, plank, recognition."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from posekit.analysis import synthetic as syn
from posekit.analysis.exercises import (
    CounterConfig,
    RepCounter,
    count_reps,
    exercise_spec,
    plank_hold,
    recognize_exercise,
)
from posekit.poses import KeypointState, PoseSequence

LEGS = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def _set_state(seq: PoseSequence, when: np.ndarray, names, state: KeypointState) -> PoseSequence:
    """A copy with the named keypoints in ``state`` at frames ``when`` (NaN coordinates if MISSING)."""
    idx = [seq.skeleton.index(n) for n in names] if names is not None else list(range(len(seq.skeleton)))
    st = seq.state.copy()
    xy = seq.xy.copy()
    world = seq.world.copy()
    sel = np.ix_(np.flatnonzero(when), [0], idx)
    st[sel] = state
    if state == KeypointState.MISSING:
        xy[sel] = np.nan
        world[sel] = np.nan
    return replace(seq, state=st, xy=xy, world=world, box=None, box_score=None)


@pytest.fixture(scope="module")
def side_set():
    return syn.squat_set(view="side")


def test_squat_set_counts_seven_and_not_the_half_rep(side_set):
    seq, truth = side_set
    r = count_reps(seq, "squat")
    assert r.count == 7
    assert r.cue == "hip over knee / thigh" and r.view == "side"
    partial = [a for a in r.attempts if a["kind"] == "partial"]
    assert len(partial) == 1 and "not counted" in partial[0]["message"]
    half_start, _, half_end = truth[4]
    assert half_start - 0.1 <= partial[0]["start"] and partial[0]["end"] <= half_end + 0.1
    counted = [t for k, t in enumerate(truth) if k != 4]
    for rep, (start, bottom, end) in zip(r.reps, counted):
        assert rep.bottom == pytest.approx(bottom, abs=0.1)
        assert start - 0.05 <= rep.start <= start + 0.5 and end - 0.5 <= rep.end <= end + 0.05
        assert rep.metrics["depth"] > 1.0 and rep.metrics["peak_angle_deg"] == pytest.approx(135, abs=3)
        assert rep.metrics["tempo_down_s"] > 0 and rep.metrics["tempo_up_s"] > 0
        assert rep.feedback == []


def test_squat_set_front_view_and_knee_valgus_feedback():
    seq, _ = syn.squat_set(view="front", valgus_deg={2: 14.0})
    r = count_reps(seq, "squat")
    assert r.count == 7 and r.view == "frontal"
    assert r.reps[2].feedback == ["rep 3: knees moved inward 14° past the toes line (limit 10°)"]
    assert r.reps[2].metrics["knee_valgus_deg"] == pytest.approx(14.0, abs=1.0)
    assert all(not x.feedback for k, x in enumerate(r.reps) if k != 2)
    looser = count_reps(seq, exercise_spec("squat", limits={"knee_valgus": 20.0}))
    assert looser.reps[2].feedback == []


def test_side_view_says_valgus_cannot_be_judged(side_set):
    r = count_reps(side_set[0], "squat")
    msg = "knee valgus not assessed: needs a frontal view (this rep was filmed from the side)"
    assert msg in r.reps[0].not_assessed
    assert r.reps[0].metrics["knee_valgus_deg"] is None


def test_shallow_reps_count_with_depth_feedback():
    seq, _ = syn.squat_set([65.0, 65.0, 65.0], view="side")
    r = count_reps(seq, "squat", coords="image")
    assert r.count == 3
    assert all("stopped above parallel" in x.feedback[0] for x in r.reps)


@pytest.mark.parametrize("state", [KeypointState.OCCLUDED, KeypointState.PREDICTED])
def test_no_counting_through_occlusion_guesses(side_set, state):
    seq, truth = side_set
    bottom = truth[1][1]
    hidden = (seq.time > bottom - 0.4) & (seq.time < bottom + 0.4)  # 0.8 s around rep 2's bottom
    r = count_reps(_set_state(seq, hidden, LEGS, state), "squat")
    assert r.count == 6
    inter = [a for a in r.attempts if a["kind"] == "interrupted"]
    assert len(inter) == 1 and "keypoints were occluded" in inter[0]["message"]


def test_short_occlusion_is_bridged(side_set):
    seq, truth = side_set
    bottom = truth[1][1]
    hidden = (seq.time > bottom - 0.15) & (seq.time < bottom + 0.15)  # 0.3 s < max_gap_s
    assert count_reps(_set_state(seq, hidden, LEGS, KeypointState.OCCLUDED), "squat").count == 7


def test_person_leaving_mid_set(side_set):
    seq, truth = side_set
    gone = seq.time >= truth[5][1] + 0.3  # leaves on the way up of the 6th squat
    r = count_reps(_set_state(seq, gone, None, KeypointState.MISSING), "squat")
    assert r.count == 4
    assert any("the person left the view" in m for m in r.messages)


def test_nobody_and_unusable_input_give_messages_not_errors():
    empty = PoseSequence("blazepose33", np.zeros((5, 0, 33, 2)), np.zeros((5, 0, 33), np.float32),
                         np.zeros((5, 0, 33), np.uint8), np.arange(5) / 30.0)  # fmt: skip
    r = count_reps(empty, "pushup")
    assert r.count == 0 and r.messages == ["nobody was found in the video"]
    assert plank_hold(empty).messages == ["nobody was found in the video"]
    assert recognize_exercise(empty).exercise is None
    seq, _ = syn.squat_set([100.0], view="side")
    all_occluded = _set_state(seq, np.ones(len(seq), bool), None, KeypointState.OCCLUDED)
    r = count_reps(all_occluded, "squat")
    assert r.count == 0 and "no trusted keypoints" in r.messages[0]


def test_works_on_penn13_by_joint_names(side_set):
    seq = side_set[0].to_skeleton("penn13")  # Penn has no feet or face: only named joints are used
    assert count_reps(seq, "squat").count == 7


def test_jumping_jacks_and_recognition():
    jj = syn.jumping_jacks(5)
    assert count_reps(jj, "jumping_jack").count == 5
    assert recognize_exercise(jj).exercise == "jumping_jack"
    assert recognize_exercise(syn.squat_set()[0]).exercise == "squat"


def test_plank_timer_and_hip_sag():
    res = plank_hold(syn.plank(hold_s=10.0, sag=(6.0, 8.5, 20.0)))
    assert res.total_s == pytest.approx(10.0, abs=0.15)
    assert len(res.holds) == 1 and res.holds[0][0] == pytest.approx(1.0, abs=0.1)
    assert len(res.feedback) == 1 and "hips sagged" in res.feedback[0]
    assert res.feedback[0].startswith("0:07.0–0:09.5")
    assert not plank_hold(syn.plank(sag=(0.0, 0.0, 0.0))).feedback


def _feed(values, trusted=None, fps=30.0, config=None, t0=0.0):
    c = RepCounter(config, t0=t0)
    evs = []
    for k, v in enumerate(values):
        e = c.update(t0 + k / fps, float(v), True if trusted is None else bool(trusted[k]))
        if e:
            evs.append(e)
    e = c.finish(t0 + (len(values) - 1) / fps)
    if e:
        evs.append(e)
    return c, evs


def test_rep_counter_hysteresis_partial_and_noise():
    up = np.concatenate([np.zeros(10), np.linspace(0, 1, 15), np.linspace(1, 0, 15)])
    shallow = np.concatenate([np.zeros(10), np.linspace(0, 0.45, 10), np.linspace(0.45, 0, 10)])
    noise = 0.08 * np.sin(np.arange(60))  # jitter at rest never counts
    c, evs = _feed(np.concatenate([up, shallow, up, noise, np.zeros(5)]))
    assert c.count == 2
    assert [e.kind for e in evs] == ["rep", "partial", "rep"]
    assert evs[1].peak == pytest.approx(0.45, abs=0.01)


def test_rep_counter_edges_and_gaps():
    # the video starts at the bottom of a rep, and ends on the way back up of the next one
    sig = np.concatenate([np.linspace(0.9, 0, 6), np.zeros(10), np.linspace(0, 1, 15), np.linspace(1, 0.48, 10)])
    c, evs = _feed(sig)
    assert c.count == 2 and [e.edge for e in evs] == ["start", "end"]
    c, evs = _feed(sig[:-3])  # not back far enough when the video ends: not counted
    assert c.count == 1 and evs[-1].kind == "unfinished"
    c, _ = _feed(sig, config=CounterConfig(edge_reps=False))
    assert c.count == 0
    # an untrusted stretch longer than max_gap_s mid-rep abandons it
    rep = np.concatenate([np.zeros(10), np.linspace(0, 1, 15), np.linspace(1, 0, 15), np.zeros(5)])
    ok = np.ones(len(rep), bool)
    ok[20:38] = False  # 0.6 s
    c, evs = _feed(rep, trusted=ok)
    assert c.count == 0 and evs[0].kind == "interrupted"
    with pytest.raises(ValueError):
        CounterConfig(enter=0.3, rest=0.4)
    with pytest.raises(ValueError):
        exercise_spec("squat", limits={"no_such_rule": 1.0})
    with pytest.raises(ValueError):
        exercise_spec("yoga")


def test_lunges_alternating_legs():
    seq = syn.lunges(6)
    r = count_reps(seq, "lunge")
    assert r.count == 6 and r.view == "side"
    assert recognize_exercise(seq).exercise == "lunge"
    shallow = syn.lunges(4, depth=0.1)  # a 10 cm dip is not a lunge
    assert count_reps(shallow, "lunge").count == 0


def test_2d_front_view_does_not_invent_sagittal_angles():
    seq, _ = syn.squat_set([100.0, 100.0], view="front")
    r = count_reps(replace(seq, world=None), "squat")  # 2D only
    assert r.count == 2 and r.coords == "image"
    rep = r.reps[0]
    assert rep.metrics["peak_angle_deg"] is None and rep.metrics["trunk_lean_deg"] is None
    msg = "knee angle not assessed: needs a side view or 3D (this rep was filmed from the front)"
    assert msg in rep.not_assessed
    assert rep.metrics["knee_valgus_deg"] is not None  # the frontal view is what valgus needs
