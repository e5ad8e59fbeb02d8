"""Occlusion: OCCLUDED / INTERPOLATED / MISSING exactly where expected (online and offline, variable time)."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.poses import KeypointState as S
from posekit.poses import PoseFrame, PoseSequence
from posekit.skeletons import COCO17
from posekit.track.occlusion import fill_gaps, gap_spans
from posekit.track.stabilize import OnlineStabilizer, stabilize

K = len(COCO17)
WRIST = COCO17.index("left_wrist")
VEL = np.array([40.0, -25.0])  # pixels per second


def _truth(time: np.ndarray, seed: int = 0) -> np.ndarray:
    """``(T, 17, 2)``: a rigid ~200 px 'person' translating at constant velocity."""
    base = np.random.default_rng(seed).uniform(-100, 100, (K, 2)) + [400.0, 300.0]
    return base[None] + time[:, None, None] * VEL


def _seq(xy: np.ndarray, time: np.ndarray, world: np.ndarray | None = None) -> PoseSequence:
    present = np.isfinite(xy).all(-1)
    return PoseSequence(
        COCO17, xy, np.where(present, 0.9, 0.0), np.where(present, S.VISIBLE, S.MISSING), time, world=world
    )


def _gappy(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth = _truth(time)[:, None]
    xy = truth.copy()
    xy[0:4, 0, WRIST] = np.nan  # before the first measurement
    xy[20:25, 0, WRIST] = np.nan  # short gap
    xy[40:70, 0, WRIST] = np.nan  # long gap
    return xy, truth


def test_offline_gap_filling_states_and_values() -> None:
    t = np.arange(90) / 30.0
    xy, truth = _gappy(t)
    out = fill_gaps(_seq(xy, t), max_gap=0.5)
    st = out.state[:, 0, WRIST]
    expected = np.full(90, S.VISIBLE)
    expected[0:4] = S.MISSING
    expected[20:25] = S.INTERPOLATED
    expected[40:70] = S.MISSING
    np.testing.assert_array_equal(st, expected)
    np.testing.assert_allclose(out.xy[20:25, 0, WRIST], truth[20:25, 0, WRIST], atol=1e-9)  # linear motion: exact
    assert np.isnan(out.xy[40:70, 0, WRIST]).all() and np.isnan(out.xy[0:4, 0, WRIST]).all()
    np.testing.assert_array_equal(out.score[20:25, 0, WRIST], 0.0)
    others = np.arange(K) != WRIST
    np.testing.assert_array_equal(out.xy[:, 0, others], xy[:, 0, others])
    assert out.provenance[-1] == {**out.provenance[-1], "step": "occlusion.fill_gaps"}
    assert out.provenance[-1]["params"]["filled_keypoints"] == 5


@pytest.mark.parametrize("max_gap, filled", [(0.5, 14), (0.4, 11), (0.2, 5)])
def test_gap_limit_is_in_seconds(max_gap: float, filled: int) -> None:
    """A gap of n missing frames at 30 frames/s spans (n + 1) / 30 s between its measurements."""
    t = np.arange(60) / 30.0
    for n in range(1, 20):
        xy = _truth(t)[:, None]
        xy[20 : 20 + n, 0, WRIST] = np.nan
        out = fill_gaps(_seq(xy, t), max_gap=max_gap)
        bridged = (out.state[20 : 20 + n, 0, WRIST] == S.INTERPOLATED).all()
        assert bridged == (n <= filled), (n, max_gap)


def test_variable_frame_rate_gaps_are_measured_in_time() -> None:
    t = np.concatenate([np.arange(30) / 30.0, [0.0, 0.0], np.zeros(28)])
    t[30] = t[29] + 0.3  # frame 30: 0.6 s between frames 29 and 31
    t[31] = t[30] + 0.3
    t[32:] = t[31] + 0.03 * np.arange(1, 29)  # then dense: 0.03 s per frame
    truth = _truth(t)[:, None]
    xy = truth.copy()
    xy[30, 0] = np.nan  # one frame of the whole person, but 0.6 s between measurements: not bridged
    xy[41:50, 0, WRIST] = np.nan  # nine frames, but only 0.3 s: bridged
    out = fill_gaps(_seq(xy, t), max_gap=0.5)
    assert (out.state[30, 0] == S.MISSING).all()
    assert (out.state[41:50, 0, WRIST] == S.INTERPOLATED).all()
    np.testing.assert_allclose(out.xy[41:50, 0, WRIST], truth[41:50, 0, WRIST], atol=1e-9)
    present = np.arange(60) != 30
    assert gap_spans(t, present, 0.5) == [] and gap_spans(t, present, 0.7) == [(29, 31)]
    online = OnlineStabilizer().run(_seq(xy, t))
    assert (online.state[30, 0] == S.MISSING).all()  # nobody there: no frame to fill
    assert (online.state[41:50, 0, WRIST] == S.OCCLUDED).all()


def test_online_prediction_states_and_positions() -> None:
    t = np.arange(90) / 30.0
    xy, truth = _gappy(t)
    out = OnlineStabilizer(decay=0.0).run(_seq(xy, t))
    st = out.state[:, 0, WRIST]
    expected = np.full(90, S.VISIBLE)
    expected[0:4] = S.MISSING  # never seen yet: nothing to predict from
    expected[20:25] = S.OCCLUDED
    expected[40:55] = S.OCCLUDED  # t − t[39] ≤ 0.5 s: frames 40 … 54
    expected[55:70] = S.MISSING
    np.testing.assert_array_equal(st, expected)
    np.testing.assert_array_equal(out.score[st == S.OCCLUDED, 0, WRIST], 0.0)
    assert np.isnan(out.xy[55:70, 0, WRIST]).all()
    # undamped constant velocity from the One Euro state: within a few pixels of the truth
    err = np.linalg.norm(out.xy[40:55, 0, WRIST] - truth[40:55, 0, WRIST], axis=-1)
    assert err.max() < 3.0, err
    # damped (the default): the prediction moves along the motion but less far
    damped = OnlineStabilizer().run(_seq(xy, t))
    last = damped.xy[39, 0, WRIST]
    step_d = damped.xy[54, 0, WRIST] - last
    step_u = out.xy[54, 0, WRIST] - out.xy[39, 0, WRIST]
    assert 0.2 < np.dot(step_d, step_u) / np.dot(step_u, step_u) < 0.9
    assert out.provenance[-1]["step"] == "stabilize.online"


def test_online_prediction_is_per_track_and_can_be_switched_off() -> None:
    t = np.arange(30) / 30.0
    truth = _truth(t)
    stab = OnlineStabilizer()
    plain = OnlineStabilizer(predict=False)
    for k in range(30):
        xy = np.stack([truth[k], truth[k] + 300])
        if k >= 20:
            xy[1, WRIST] = np.nan  # only person 9 loses the wrist
        st = np.where(np.isfinite(xy).all(-1), S.VISIBLE, S.MISSING)
        fr = PoseFrame(COCO17, xy, np.full((2, K), 0.9), st, track_id=[4, 9], frame=k, time=float(t[k]))
        a, b = stab.update(fr), plain.update(fr)
    assert a.state[1, WRIST] == S.OCCLUDED and a.state[0, WRIST] == S.VISIBLE
    assert b.state[1, WRIST] == S.MISSING and np.isnan(b.xy[1, WRIST]).all()
    assert np.linalg.norm(a.xy[1, WRIST] - (truth[29, WRIST] + 300)) < 10
    assert OnlineStabilizer(predicted_state=S.PREDICTED).predicted_state == S.PREDICTED


def test_cubic_follows_curves_better_and_world_is_filled() -> None:
    t = np.arange(60) / 30.0
    truth = _truth(t)[:, None] + (80.0 * t**2)[:, None, None, None]  # accelerating
    world = np.broadcast_to(np.linspace(0, 1, K)[None, None, :, None], (60, 1, K, 3)) * (1 + t)[:, None, None, None]
    xy = truth.copy()
    xy[25:35, 0, WRIST] = np.nan
    w = world.copy()
    w[25:35, 0, WRIST] = np.nan
    seq = _seq(xy, t, world=w)
    lin = fill_gaps(seq, max_gap=0.5, method="linear")
    cub = fill_gaps(seq, max_gap=0.5, method="cubic")
    e_lin = np.abs(lin.xy[25:35, 0, WRIST] - truth[25:35, 0, WRIST]).max()
    e_cub = np.abs(cub.xy[25:35, 0, WRIST] - truth[25:35, 0, WRIST]).max()
    assert e_cub < 0.4 * e_lin, (e_cub, e_lin)
    for out in (lin, cub):
        np.testing.assert_allclose(out.world[25:35, 0, WRIST], world[25:35, 0, WRIST], atol=1e-9)
    with pytest.raises(ValueError, match="linear' or 'cubic"):
        fill_gaps(seq, method="spline")


def test_absent_person_is_bridged_with_a_box_and_long_absence_is_not() -> None:
    t = np.arange(60) / 30.0
    xy = _truth(t)[:, None]
    xy[30:33] = np.nan  # the whole person, 0.13 s
    out = fill_gaps(_seq(xy, t))
    assert (out.state[30:33, 0] == S.INTERPOLATED).all()
    assert np.isfinite(out.box[30:33, 0]).all() and (out.box_score[30:33, 0] == 0).all()
    xy[30:50] = np.nan
    assert (fill_gaps(_seq(xy, t)).state[30:50, 0] == S.MISSING).all()


def test_model_occluded_keypoints_stay_occluded() -> None:
    """A keypoint the model reports as OCCLUDED keeps that state; its weak position leans on the track."""
    t = np.arange(60) / 30.0
    truth = _truth(t)[:, None]
    xy = truth.copy()
    xy[30:40, 0, WRIST] += 25.0  # the model's guess is off while it cannot see the wrist
    state = np.full((60, 1, K), S.VISIBLE)
    state[30:40, 0, WRIST] = S.OCCLUDED
    score = np.full((60, 1, K), 0.9)
    score[30:40, 0, WRIST] = 0.05
    seq = PoseSequence(COCO17, xy, score, state, t)
    outs = [OnlineStabilizer().run(seq)]
    outs += [stabilize(seq, filter=f) for f in ("one-euro", "kalman", "butterworth", "savgol")]
    for out in outs:
        np.testing.assert_array_equal(out.state, seq.state)
        err_in = np.linalg.norm(xy[30:40, 0, WRIST] - truth[30:40, 0, WRIST], axis=-1).mean()
        err_out = np.linalg.norm(out.xy[30:40, 0, WRIST] - truth[30:40, 0, WRIST], axis=-1).mean()
        assert err_out < 0.6 * err_in, (err_out, err_in)
