"""Falls: a synthetic fall raises one event; sitting, lying down on purpose and picking up raise none."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from posekit.analysis import synthetic as syn
from posekit.analysis.falls import FallConfig, detect_falls
from posekit.poses import KeypointState, PoseSequence


@pytest.mark.parametrize("view", ["side", "front"])
def test_fall_is_found_with_time_person_confidence(view):
    seq, impact = syn.fall(view=view)
    res = detect_falls(seq)
    assert len(res.events) == 1, [e.as_dict() for e in res.events]
    e = res.events[0]
    assert e.person == 0 and e.time == pytest.approx(impact, abs=0.35)
    assert 0.5 < e.confidence <= 1.0
    assert e.drop > 1.0 and e.trunk_deg > 60
    d = e.as_dict()
    assert set(d) >= {"time", "person", "confidence"}


@pytest.mark.parametrize("make", [syn.sit_down, syn.lie_down, syn.pick_up], ids=["sit", "lie", "pick"])
def test_no_alarm_for_everyday_movements(make):
    assert detect_falls(make()).events == []


def test_slow_descent_is_not_a_fall():
    seq, _ = syn.fall(fall_s=5.0, controlled=True)  # the same movement over 5 s, smooth: a lowering
    assert detect_falls(seq).events == []
    seq, _ = syn.fall(fall_s=1.2)  # a slower but accelerating fall is still a fall
    assert len(detect_falls(seq).events) == 1


def test_fall_then_video_ends_is_reported_unconfirmed():
    seq, impact = syn.fall()
    cut = int(np.searchsorted(seq.time, impact + 0.3))
    short = PoseSequence(seq.skeleton, seq.xy[:cut], seq.score[:cut], seq.state[:cut], seq.time[:cut],
                         world=seq.world[:cut])  # fmt: skip
    res = detect_falls(short)
    assert res.events == [] and any("not confirmed" in m for m in res.messages)


def test_predicted_keypoints_are_not_measurements():
    seq, _ = syn.fall()
    st = np.full_like(seq.state, KeypointState.PREDICTED)
    res = detect_falls(replace(seq, state=st))
    assert res.events == [] and any("cannot be judged" in m for m in res.messages)


def test_empty_and_config():
    empty = PoseSequence("blazepose33", np.zeros((0, 0, 33, 2)), np.zeros((0, 0, 33), np.float32),
                         np.zeros((0, 0, 33), np.uint8), np.zeros(0))  # fmt: skip
    assert detect_falls(empty).messages == ["nobody was found in the video"]
    seq, _ = syn.fall()
    assert detect_falls(seq, FallConfig(min_drop=5.0)).events == []
