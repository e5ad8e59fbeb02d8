"""Trajectory filters: known answers on synthetic tracks (seeded), gaps, confidence, time, bad input, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import savgol_filter
from typer.testing import CliRunner

from posekit.errors import InputError
from posekit.io.posekit_json import load_poses, save_poses
from posekit.poses import KeypointState, PoseFrame, PoseSequence
from posekit.skeletons import COCO17
from posekit.track.filters import (
    FILTERS,
    ONE_EURO_DEFAULTS,
    OneEuroFilter,
    butterworth,
    confidence_weights,
    kalman,
    one_euro,
    savgol,
    segment_ids,
    smooth,
)
from posekit.track.stabilize import OnlineStabilizer, stabilize

OFFLINE = {"kalman": kalman, "butterworth": butterworth, "savgol": savgol}
K = len(COCO17)


def _ramp(time: np.ndarray, n: int = 3) -> np.ndarray:
    """``(T, n, 2)`` straight lines at constant velocity, pixels."""
    v = np.array([[40.0, -25.0], [-90.0, 10.0], [5.0, 130.0]])[:n]
    p0 = np.array([[100.0, 300.0], [640.0, 200.0], [320.0, 20.0]])[:n]
    return p0[None] + time[:, None, None] * v[None]


def _vfr_time(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([[0.0], np.cumsum(rng.uniform(0.02, 0.05, n - 1))])


def _seq(xy: np.ndarray, time: np.ndarray, *, score: float = 0.9, world: np.ndarray | None = None) -> PoseSequence:
    """A COCO-17 sequence ``(T, I, 17)`` from ``xy (T, I, 17, 2)``; NaN keypoints are MISSING."""
    present = np.isfinite(xy).all(-1)
    state = np.where(present, KeypointState.VISIBLE, KeypointState.MISSING).astype(np.uint8)
    sc = np.where(present, score, 0.0).astype(np.float32)
    return PoseSequence(COCO17, xy, sc, state, time, world=world, source="synthetic")


def _person_track(time: np.ndarray, seed: int = 1, noise: float = 0.0, scale: float = 200.0) -> np.ndarray:
    """``(T, 17, 2)`` a rigid 'person' (spread ``scale`` px) moving on a slow sinusoid, plus noise."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-0.5, 0.5, (K, 2)) * scale + np.array([400.0, 300.0])
    motion = np.stack([0.15 * scale * np.sin(2 * np.pi * 0.5 * time), 0.1 * scale * np.cos(2 * np.pi * 0.3 * time)], -1)
    out = base[None] + motion[:, None, :]
    return out + rng.normal(0.0, noise, out.shape)


# ---------------------------------------------------------------------------------------------------
# constant velocity passes through
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OFFLINE))
@pytest.mark.parametrize("vfr", [False, True])
def test_constant_velocity_passes_offline_filters_unchanged(name: str, vfr: bool) -> None:
    t = _vfr_time(90) if vfr else np.arange(90) / 30.0
    x = _ramp(t)
    out = OFFLINE[name](x, t)
    np.testing.assert_allclose(out, x, atol=1e-6)


def test_constant_velocity_one_euro_lags_by_the_analytic_amount_after_warm_up() -> None:
    """A first-order low-pass follows a ramp at a constant offset v·τ, τ = 1/(2π(min_cutoff + β·|v|/scale))."""
    fps, scale = 30.0, 200.0
    t = np.arange(240) / fps
    x = _ramp(t)
    out = one_euro(x, t, scale=scale)
    speed = np.linalg.norm(np.array([[40.0, -25.0], [-90.0, 10.0], [5.0, 130.0]]), axis=-1)
    cutoff = ONE_EURO_DEFAULTS["min_cutoff"] + ONE_EURO_DEFAULTS["beta"] * speed / scale
    dt = 1 / fps
    alpha = 1 / (1 + 1 / (2 * math.pi * cutoff) / dt)
    expected_lag = (1 - alpha) / alpha * dt  # seconds: the discrete first-order low-pass lag on a ramp
    lag_vec = (x - out)[120:]  # after warm-up (4 s)
    v = np.array([[40.0, -25.0], [-90.0, 10.0], [5.0, 130.0]])
    np.testing.assert_allclose(lag_vec, np.broadcast_to(v * expected_lag[:, None], lag_vec.shape), rtol=1e-6, atol=1e-6)
    # and the offset is small: below 2 % of the person's scale at these speeds
    assert np.max(np.linalg.norm(lag_vec, axis=-1)) < 0.02 * scale


@pytest.mark.parametrize("vfr", [False, True])
def test_still_track_passes_one_euro_unchanged(vfr: bool) -> None:
    t = _vfr_time(60) if vfr else np.arange(60) / 30.0
    x = np.broadcast_to(np.array([[10.0, 20.0], [300.0, 40.0]]), (60, 2, 2)).copy()
    np.testing.assert_array_equal(one_euro(x, t), x)
    f = OneEuroFilter(fps=30)
    for k in range(60):
        fr = PoseFrame(COCO17, np.broadcast_to(x[k, :1, None], (1, K, 2)), np.ones((1, K)), np.ones((1, K)),
                       track_id=[3], frame=k, time=float(t[k]))  # fmt: skip
        np.testing.assert_array_equal(f.update(fr).xy, fr.xy)


def test_savgol_equals_scipy_on_uniform_time() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(50) / 30.0
    x = rng.normal(size=(50, 4, 2))
    for poly in (1, 2, 3):
        out = savgol(x, t, window=9 / 30, polyorder=poly)
        np.testing.assert_allclose(out, savgol_filter(x, 9, poly, axis=0, mode="interp"), atol=1e-10)


@pytest.mark.parametrize("name", ["butterworth", "kalman"])
def test_cutoff_separates_slow_from_fast_motion(name: str) -> None:
    """1 Hz passes (≥ 95 % amplitude), 12 Hz is removed (≤ 10 %) with a 4 Hz cutoff at 60 frames/s."""
    t = np.arange(600) / 60.0
    for freq, check in ((1.0, lambda r: r >= 0.95), (12.0, lambda r: r <= 0.10)):
        x = np.sin(2 * np.pi * freq * t)[:, None, None]
        y = OFFLINE[name](x, t, cutoff=4.0)
        ratio = np.std(y[100:-100]) / np.std(x[100:-100])
        assert check(ratio), f"{name} at {freq} Hz keeps {ratio:.3f} of the amplitude"


# ---------------------------------------------------------------------------------------------------
# noise goes down
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", FILTERS)
@pytest.mark.parametrize("vfr", [False, True])
def test_noisy_motion_error_goes_down(method: str, vfr: bool) -> None:
    """Slow sinusoidal motion with 2 % noise: every filter lowers the RMS error (through ``smooth``)."""
    t = _vfr_time(240, seed=5) if vfr else np.arange(240) / 30.0
    truth = _person_track(t, seed=1)[:, None]
    noisy = truth + np.random.default_rng(7).normal(0.0, 4.0, truth.shape)
    out = smooth(_seq(noisy, t), method)
    before = np.sqrt(np.mean((noisy - truth) ** 2))
    after = np.sqrt(np.mean((out.xy - truth) ** 2))
    assert after < (0.8 if method == "one-euro" else 0.6) * before, f"{method}: {before:.2f} -> {after:.2f} px"
    assert out.provenance[-1]["step"] == f"filter.{method}"
    np.testing.assert_array_equal(out.state, KeypointState.VISIBLE)


def test_filters_use_the_timestamps() -> None:
    """The same motion sampled at a variable frame rate gives the result of the uniform sampling."""
    tu = np.arange(180) / 30.0
    tv = _vfr_time(180, seed=3) * (tu[-1] / _vfr_time(180, seed=3)[-1])
    for name in ("butterworth", "kalman", "savgol"):
        res = []
        for t in (tu, tv):
            x = np.sin(2 * np.pi * 0.8 * t)[:, None, None] * 50
            y = OFFLINE[name](x, t, cutoff=4.0) if name != "savgol" else savgol(x, t)
            res.append(np.sqrt(np.mean((y - x)[20:-20] ** 2)))
        # both samplings follow the slow signal closely
        assert max(res) < 1.0, (name, res)
    # One Euro: a still point sampled irregularly; a jump of equal size decays by real time, not frames
    for t in (np.arange(60) / 30.0, np.arange(60) / 60.0):
        x = np.where(np.arange(60)[:, None, None] < 30, 0.0, 10.0) * np.ones((60, 1, 2))
        y = one_euro(x, t, scale=100.0, beta=0.0, min_cutoff=1.0)
        k = int(np.searchsorted(t, t[30] + 0.2))
        tau = 1 / (2 * np.pi)
        assert abs(y[k, 0, 0] - 10 * (1 - np.exp(-(t[k] - t[29]) / tau))) < 0.8


# ---------------------------------------------------------------------------------------------------
# gaps and confidence
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["one-euro", *sorted(OFFLINE)])
def test_missing_stays_missing_and_long_gaps_are_not_smoothed_across(name: str) -> None:
    t = np.arange(120) / 30.0
    x = _ramp(t, 1)
    x[60:] += 500.0  # a jump across the gap
    x[45:60] = np.nan  # 0.53 s gap: longer than max_gap 0.5 s
    x[20:23] = np.nan  # a short gap
    fn = one_euro if name == "one-euro" else OFFLINE[name]
    y = fn(x, t, max_gap=0.5)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))
    after = fn(x[60:], t[60:], max_gap=0.5)
    np.testing.assert_allclose(y[60:], after, atol=1e-9)  # the segment after the gap ignores the one before
    seg = segment_ids(t, np.isfinite(x[..., 0]), 0.5)
    assert seg[0, 0] == 0 and seg[21, 0] == 0 and seg[50, 0] == -1 and seg[60, 0] == 1


@pytest.mark.parametrize("name", ["one-euro", *sorted(OFFLINE)])
def test_weak_measurements_count_less(name: str) -> None:
    t = np.arange(90) / 30.0
    x = np.zeros((90, 1, 2))
    x[45] = 30.0  # one outlier
    fn = one_euro if name == "one-euro" else OFFLINE[name]
    kw = {"scale": 200.0} if name == "one-euro" else {}
    w_full = np.ones((90, 1))
    w_weak = w_full.copy()
    w_weak[45] = 0.1
    hit_full = np.abs(fn(x, t, w_full, **kw)).max()
    hit_weak = np.abs(fn(x, t, w_weak, **kw)).max()
    assert hit_weak < 0.5 * hit_full, (hit_weak, hit_full)


def test_confidence_weights() -> None:
    state = np.array([1, 2, 0, 1])
    np.testing.assert_allclose(confidence_weights(state, np.array([0.9, 0.15, 0.8, 0.0])), [1.0, 0.3, 0.0, 0.2])
    # no scores at all (e.g. ground truth): every present keypoint counts fully
    np.testing.assert_allclose(confidence_weights(state, np.zeros(4)), [1, 1, 0, 1])


def test_smooth_keeps_states_and_filters_world() -> None:
    t = np.arange(60) / 30.0
    rng = np.random.default_rng(4)
    xy = _person_track(t, noise=3.0)[:, None]
    xy[10:14, 0, 5] = np.nan
    world = rng.normal(0, 0.01, (60, 1, K, 3)) + np.linspace(0, 1, K)[None, None, :, None]
    world[10:14, 0, 5] = np.nan
    seq = _seq(xy, t, world=world)
    out = smooth(seq, "kalman")
    np.testing.assert_array_equal(out.state, seq.state)
    np.testing.assert_array_equal(out.score, seq.score)
    assert np.isnan(out.xy[10:14, 0, 5]).all() and np.isnan(out.world[10:14, 0, 5]).all()
    assert np.std(np.diff(out.world[:, 0, 0], axis=0)) < 0.5 * np.std(np.diff(world[:, 0, 0], axis=0))
    assert seq.provenance == [] and out.provenance[-1]["step"] == "filter.kalman"


# ---------------------------------------------------------------------------------------------------
# online, per track id
# ---------------------------------------------------------------------------------------------------
def _frames(xy: np.ndarray, time: np.ndarray, ids: list[int]) -> list[PoseFrame]:
    out = []
    for k in range(len(time)):
        st = np.where(np.isfinite(xy[k]).all(-1), 1, 0)
        out.append(PoseFrame(COCO17, xy[k], np.where(st, 0.9, 0.0), st, track_id=ids, frame=k, time=float(time[k])))
    return out


def test_online_filter_keeps_tracks_apart_and_matches_the_offline_run() -> None:
    t = np.arange(90) / 30.0
    a = _person_track(t, seed=1, noise=3.0)
    b = _person_track(t, seed=2, noise=3.0) + 300
    both = np.stack([a, b], 1)
    f = OneEuroFilter()
    online = np.stack([f.update(fr).xy for fr in _frames(both, t, [7, 4])])
    # people in reversed order in every other frame: identity is the track id, not the position
    f2 = OneEuroFilter()
    swapped = []
    for k, fr in enumerate(_frames(both, t, [7, 4])):
        if k % 2:
            fr = fr[[1, 0]]
        g = f2.update(fr)
        swapped.append(g.xy if k % 2 == 0 else g.xy[[1, 0]])
    np.testing.assert_allclose(np.stack(swapped), online, atol=1e-9)
    for i, single in enumerate((a, b)):
        sc = np.ptp(single, axis=1).mean(-1)  # per-frame scale as the online filter computes it
        ref = one_euro(single, t, scale=np.repeat(sc[:, None], K, 1))
        np.testing.assert_allclose(online[:, i], ref, atol=1e-9)


def test_online_filter_untracked_people_pass_and_reset_forgets() -> None:
    t = np.arange(10) / 30.0
    xy = _person_track(t, noise=2.0)[:, None]
    f = OneEuroFilter()
    for fr in _frames(xy, t, [-1]):
        np.testing.assert_array_equal(f.update(fr).xy, fr.xy)
    f.reset()
    frs = _frames(xy, t, [5])
    out = [f.update(fr) for fr in frs]
    f.reset(5)
    assert 5 not in f.slots
    again = f.update(PoseFrame(COCO17, xy[0] + 50, np.full((1, K), 0.9), np.ones((1, K)), track_id=[5], time=1.0))
    np.testing.assert_array_equal(again.xy, xy[0] + 50)  # a fresh state starts at the measurement
    assert not np.array_equal(out[-1].xy, frs[-1].xy)


# ---------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------
def test_degenerate_sequences_pass_through() -> None:
    t = np.arange(5) / 30.0
    cases = {
        "no people": PoseSequence(COCO17, np.zeros((5, 0, K, 2)), np.zeros((5, 0, K)), np.zeros((5, 0, K)), t),
        "no frames": PoseSequence(
            COCO17, np.zeros((0, 1, K, 2)), np.zeros((0, 1, K)), np.zeros((0, 1, K)), np.zeros(0)
        ),
        "one frame": _seq(_person_track(t[:1])[:, None], t[:1]),
        "all missing": _seq(np.full((5, 2, K, 2), np.nan), t),
    }
    for name, seq in cases.items():
        for method in (*FILTERS, None):
            out = stabilize(seq, filter=method)
            np.testing.assert_array_equal(out.xy, seq.xy, err_msg=name)
            np.testing.assert_array_equal(out.state, seq.state, err_msg=name)
            assert out.provenance[-1]["step"] == "stabilize" and out.provenance[-1]["params"]["skipped"]
        for method in FILTERS:
            np.testing.assert_array_equal(smooth(seq, method).xy, seq.xy, err_msg=name)
        assert len(OnlineStabilizer().run(seq)) == len(seq)


def test_bad_timestamps_and_nan_visible_keypoints_raise_input_error() -> None:
    t = np.arange(10) / 30.0
    seq = _seq(_person_track(t)[:, None], t)
    back = seq.copy()
    back.time[6] = back.time[4]  # edited after validation: no longer increasing
    with pytest.raises(InputError, match=r"timestamps must increase strictly.*time\[6\]"):
        stabilize(back)
    same = seq.copy()
    same.time[3] = same.time[2]
    with pytest.raises(InputError, match="increase strictly"):
        smooth(same, "kalman")
    nan = seq.copy()
    nan.xy[3, 0, 7] = np.nan  # VISIBLE with NaN coordinates
    with pytest.raises(InputError, match=r"'left_elbow' of individual 0 at frame 3 is VISIBLE"):
        stabilize(nan)
    with pytest.raises(InputError, match="not finite"):
        OnlineStabilizer().run(nan)
    f = OnlineStabilizer()
    fr = _frames(_person_track(t)[:, None], t, [1])
    f.update(fr[5])
    with pytest.raises(InputError, match="not after the previous frame"):
        f.update(fr[5])
    untimed = PoseFrame(COCO17, fr[0].xy, fr[0].score, fr[0].state, track_id=[1], frame=3)
    with pytest.raises(InputError, match="no time"):
        OnlineStabilizer().update(untimed)
    assert OnlineStabilizer(fps=30).update(untimed).xy.shape == (1, K, 2)
    broken = fr[6].copy()
    broken.xy[0, 2] = np.nan
    with pytest.raises(InputError, match="'right_eye' is VISIBLE but has NaN"):
        f.update(broken)


def test_bad_parameters_raise_value_error() -> None:
    t = np.arange(20) / 10.0
    seq = _seq(_person_track(t)[:, None], t)
    with pytest.raises(ValueError, match="unknown filter"):
        stabilize(seq, filter="median")
    with pytest.raises(ValueError, match="Nyquist frequency 5 Hz"):
        stabilize(seq, filter="butterworth", cutoff=6.0)
    with pytest.raises(ValueError, match="takes min_cutoff and beta"):
        stabilize(seq, filter="one-euro", cutoff=3.0)
    with pytest.raises(ValueError, match="has no parameter"):
        smooth(seq, "savgol", cutoff=3.0)
    with pytest.raises(ValueError, match="min_cutoff > 0"):
        OneEuroFilter(min_cutoff=0.0)


# ---------------------------------------------------------------------------------------------------
# the stabilize pipeline and command
# ---------------------------------------------------------------------------------------------------
def test_stabilize_records_every_stage() -> None:
    t = np.arange(60) / 30.0
    seq = _seq(_person_track(t, noise=2.0)[:, None], t)
    out = stabilize(seq, filter="butterworth", cutoff=5.0, fix_swaps=True)
    steps = [p["step"] for p in out.provenance]
    assert steps == ["anatomy.fix_swaps", "anatomy.fix_bends", "filter.butterworth", "occlusion.fill_gaps",
                     "anatomy.bone_lengths"]  # fmt: skip
    assert out.provenance[2]["params"]["cutoff"] == 5.0
    off = stabilize(seq, filter=None, bone_lengths=False, fix_swaps=False, fix_bends=False, fill_gaps=False)
    np.testing.assert_array_equal(off.xy, seq.xy)
    assert off.provenance == []
    json.dumps(out.provenance)  # serialisable
    default = [p["step"] for p in stabilize(seq).provenance]  # swap fixing is opt-in (see stabilize's docs)
    assert default == ["anatomy.fix_bends", "filter.one-euro", "occlusion.fill_gaps", "anatomy.bone_lengths"]


def _app():
    import typer

    from posekit.cli_stabilize import stabilize_command

    app = typer.Typer()
    app.command()(stabilize_command)
    return app


def test_stabilize_command_writes_json_and_tables(tmp_path: Path) -> None:
    t = np.arange(40) / 30.0
    seq = _seq(_person_track(t, noise=2.0)[:, None], t)
    src = tmp_path / "in.json"
    save_poses(seq, src)
    out = tmp_path / "sub" / "out.json"
    res = CliRunner().invoke(
        _app(), [str(src), "-o", str(out), "--filter", "butterworth", "--cutoff", "6", "--table",
                 str(tmp_path / "t.csv"), "--table", str(tmp_path / "t.parquet")],  # fmt: skip
    )
    assert res.exit_code == 0, res.output
    back = load_poses(out)
    assert isinstance(back, PoseSequence)
    assert "filter.butterworth" in [p["step"] for p in back.provenance]
    assert (tmp_path / "t.csv").stat().st_size > 0 and (tmp_path / "t.parquet").stat().st_size > 0
    assert not np.allclose(back.xy, seq.xy)


def test_stabilize_command_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_app(), [str(tmp_path / "nope.json"), "-o", str(tmp_path / "o.json")])
    assert res.exit_code == 2 and "file not found" in res.output
    still = tmp_path / "still.json"
    save_poses([PoseFrame.empty(COCO17)], still)
    res = runner.invoke(_app(), [str(still), "-o", str(tmp_path / "o.json")])
    assert res.exit_code == 2 and "still images" in res.output
    t = np.arange(20) / 10.0
    good = tmp_path / "good.json"
    save_poses(_seq(_person_track(t)[:, None], t), good)
    res = runner.invoke(_app(), [str(good), "-o", str(tmp_path / "o.json"), "--filter", "butterworth"])
    assert res.exit_code == 2 and "Nyquist" in res.output
    res = runner.invoke(_app(), [str(good), "-o", str(tmp_path / "o.json"), "--table", str(tmp_path / "x.txt")])
    assert res.exit_code == 2 and "extension" in res.output
    assert not (tmp_path / "o.json").exists()


def test_weak_keypoints_move_with_their_person() -> None:
    """A barely seen keypoint (noisy model guesses) on a walking person follows the body, not its guesses."""
    t = np.arange(120) / 30.0
    truth = _ramp(t, 1)[:, 0][:, None, :] + np.random.default_rng(3).uniform(-80, 80, (1, K, 2))  # (T, K, 2)
    rng = np.random.default_rng(9)
    meas = truth + rng.normal(0, 1.0, truth.shape)
    meas[:, 9] += rng.normal(0, 25.0, (120, 2))  # the left wrist: guesses scattered by 25 px
    w = np.ones((120, K))
    w[:, 9] = 0.2
    grouped = one_euro(meas, t, w, scale=160.0, groups=np.zeros(K, int))
    alone = one_euro(meas, t, w, scale=160.0)
    err = lambda y: np.linalg.norm(y[30:, 9] - truth[30:, 9], axis=-1).mean()  # noqa: E731
    raw_err = np.linalg.norm(meas[30:, 9] - truth[30:, 9], axis=-1).mean()
    assert err(grouped) < 0.6 * raw_err and err(grouped) < err(alone), (err(grouped), err(alone), raw_err)
    seq = _seq(meas[:, None], t)
    seq.score[:, 0, 9] = 0.1  # → weight 0.2
    out = smooth(seq, "one-euro")
    assert np.linalg.norm(out.xy[30:, 0, 9] - truth[30:, 9], axis=-1).mean() < 0.6 * raw_err
