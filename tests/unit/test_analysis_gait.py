"""Gait: events within ±2 frames of the known ones, parameters, asymmetry, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.analysis import synthetic as syn
from posekit.analysis.gait import analyze_gait, gait_events
from posekit.poses import PoseSequence


def _errors(events, truth, fps):
    """Frame errors of detected events to the nearest true ones, and how many true ones were found."""
    out = {}
    for side in ("left", "right"):
        for kind in ("heel_strike", "toe_off"):
            got = events.times(kind, side) * fps
            want = np.asarray(truth[side][kind]) * fps
            err = np.array([g - want[np.argmin(np.abs(want - g))] for g in got])
            inner = want[(want > 0.6 * fps) & (want < (len(events.time) - 0.6 * fps))]  # away from the edges
            found = sum(np.min(np.abs(got - w)) <= 2 for w in inner) if len(got) else 0
            out[(side, kind)] = (err, found, len(inner))
    return out


@pytest.fixture(scope="module")
def walk():
    return syn.walk()


@pytest.mark.parametrize("coords", ["image", "world"])
def test_events_within_two_frames(walk, coords):
    seq, truth = walk
    ev = gait_events(seq, coords=coords)
    assert ev is not None and ev.coords == coords
    for key, (err, found, n) in _errors(ev, truth, seq.fps).items():
        assert len(err) > 0 and np.abs(err).max() <= 2.0, (key, err)
        assert found == n, key  # every event away from the clip's edges is found


def test_parameters_match_the_gait(walk):
    seq, truth = walk
    res = analyze_gait(seq, coords="world")
    p = res.parameters
    # stride 1.1 s, steps 0.55 s, stance 60 %, 1.2 m/s
    assert p["cadence_steps_per_min"] == pytest.approx(60 / 0.55, rel=0.04)
    assert p["stride_time_s"]["median"] == pytest.approx(1.1, abs=0.04)
    assert p["stance_pct"]["median"] == pytest.approx(60.0, abs=4.0)
    assert p["swing_pct"]["median"] == pytest.approx(40.0, abs=4.0)
    assert p["step_length"]["unit"] == "m"
    assert p["step_length"]["median"] == pytest.approx(0.66, abs=0.05)
    assert p["walking_speed_m_s"] == pytest.approx(1.2, abs=0.1)
    assert abs(p["symmetry_index_pct"]["step_time"]) < 8
    assert res.messages == []
    img = analyze_gait(seq, coords="image")
    assert img.parameters["step_length"]["unit"] == "px" and img.parameters["walking_speed_m_s"] is None
    assert any("pass a scale" in m for m in img.messages)
    scaled = analyze_gait(seq, coords="image", metres_per_pixel=1 / 120.0)  # the generator's scale
    assert scaled.parameters["walking_speed_m_s"] == pytest.approx(1.2, abs=0.1)


def test_asymmetry_has_the_right_sign():
    seq, _ = syn.walk(right_delay=0.4)  # right heel strikes 0.4 stride after the left: short right steps
    p = analyze_gait(seq, coords="world").parameters
    assert p["right"]["step_time_s"]["median"] == pytest.approx(0.44, abs=0.04)
    assert p["left"]["step_time_s"]["median"] == pytest.approx(0.66, abs=0.04)
    assert p["symmetry_index_pct"]["step_time"] > 30


def test_penn_like_skeleton_without_feet_uses_ankles(walk):
    seq, truth = walk
    ev = gait_events(seq.to_skeleton("coco17"), coords="image")
    assert ev is not None
    err, _, _ = _errors(ev, truth, seq.fps)[("left", "heel_strike")]
    assert np.abs(err).max() <= 3.0


def test_bad_input_messages():
    empty = PoseSequence("blazepose33", np.zeros((5, 0, 33, 2)), np.zeros((5, 0, 33), np.float32),
                         np.zeros((5, 0, 33), np.uint8), np.arange(5) / 30.0)  # fmt: skip
    assert analyze_gait(empty).messages == ["nobody was found in the video"]
    front, _ = syn.walk(view="front")
    res = analyze_gait(front, coords="image")
    assert any("need a side view" in m for m in res.messages)
