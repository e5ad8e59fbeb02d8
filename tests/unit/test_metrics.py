"""posekit.metrics on synthetic inputs with answers known by construction or computed by hand."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.spatial.transform import Rotation

from posekit import metrics as M
from posekit.errors import InputError, ValidationError
from posekit.io.coco import read_coco, read_coco_results, write_coco, write_coco_results
from posekit.poses import KeypointState, PoseFrame, PoseSequence
from posekit.skeletons import COCO17, get_skeleton

RNG_SEED = 20240603


# ---------------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------------
def _person(rng: np.random.Generator, cx: float, cy: float, size: float) -> np.ndarray:
    """A COCO-17 person-like pose ``(17, 2)`` around (cx, cy) spanning about ``size`` pixels."""
    base = np.array([
        [0, -0.45], [-0.04, -0.48], [0.04, -0.48], [-0.08, -0.46], [0.08, -0.46], [-0.15, -0.3], [0.15, -0.3],
        [-0.2, -0.1], [0.2, -0.1], [-0.22, 0.08], [0.22, 0.08], [-0.1, 0.05], [0.1, 0.05], [-0.11, 0.28],
        [0.11, 0.28], [-0.12, 0.5], [0.12, 0.5],
    ])  # fmt: skip
    return np.array([cx, cy]) + size * (base + rng.normal(0, 0.02, base.shape))


def _frame(xy: np.ndarray, state: np.ndarray | None = None, *, skeleton="coco17", score=None, track=None, box=None) -> PoseFrame:
    xy = np.array(xy, dtype=np.float64)
    n, k = xy.shape[:2]
    st = np.full((n, k), KeypointState.VISIBLE, np.uint8) if state is None else np.asarray(state, np.uint8)
    xy[st == 0] = np.nan
    sc = np.where(st > 0, 0.9 if score is None else score, 0.0) if not isinstance(score, np.ndarray) else score
    return PoseFrame(skeleton, xy, np.asarray(sc, np.float32), st, track_id=track, box=box)


def _dataset(rng: np.random.Generator, n_images: int = 5) -> dict[int, PoseFrame]:
    out = {}
    for i in range(n_images):
        n = int(rng.integers(1, 4))
        xy = np.stack([_person(rng, 100 + 150 * j, 200, float(rng.uniform(80, 260))) for j in range(n)])
        st = np.where(rng.random((n, 17)) < 0.15, 0, np.where(rng.random((n, 17)) < 0.3, 2, 1))
        out[100 + i] = _frame(xy, st)
    return out


def _noisy_predictions(rng: np.random.Generator, gt: dict[int, PoseFrame]) -> dict[int, PoseFrame]:
    out = {}
    for iid, f in gt.items():
        xy = np.where(np.isnan(f.xy), _person(rng, 300, 300, 120)[None], f.xy)
        xy = xy + rng.normal(0, 6.0, xy.shape)
        if iid % 2 == 0:  # a false positive
            xy = np.concatenate([xy, _person(rng, 700, 500, 150)[None]])
        n = len(xy)
        st = np.where(rng.random((n, 17)) < 0.1, 0, 1)
        sc = rng.uniform(0.2, 1.0, (n, 17)).astype(np.float32)
        out[iid] = _frame(xy, st, score=np.where(st > 0, sc, 0).astype(np.float32))
    return out


def _pycocotools(gt_path: Path, res_path: Path, sigmas=None) -> np.ndarray:
    """A direct pycocotools run on two files (no posekit code involved)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(res_path))
        ev = COCOeval(gt, dt, "keypoints")
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = np.asarray(sigmas)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


# ---------------------------------------------------------------------------------------------------
# COCO OKS AP
# ---------------------------------------------------------------------------------------------------
def test_ground_truth_as_prediction_gives_ap_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    gt = _dataset(rng)
    stats = M.oks_ap(gt, gt)
    assert stats["AP"] == pytest.approx(1.0, abs=1e-12)
    assert stats["AR"] == pytest.approx(1.0, abs=1e-12)
    write_coco(tmp_path / "gt.json", gt)
    write_coco_results(tmp_path / "res.json", gt)
    assert M.oks_ap(tmp_path / "gt.json", tmp_path / "res.json")["AP"] == pytest.approx(1.0, abs=1e-12)


def test_ap_equals_direct_pycocotools_on_the_same_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(RNG_SEED + 1)
    gt = _dataset(rng, 8)
    pred = _noisy_predictions(rng, gt)
    write_coco(tmp_path / "gt.json", gt)
    write_coco_results(tmp_path / "res.json", pred)
    direct = _pycocotools(tmp_path / "gt.json", tmp_path / "res.json")
    assert 0.05 < direct[0] < 0.95  # a non-trivial AP, so agreement means something
    via_files = M.coco_eval_files(tmp_path / "gt.json", tmp_path / "res.json")
    gt_ds = read_coco(tmp_path / "gt.json")
    via_objects = M.oks_ap(gt_ds, pred)
    via_read_back = M.oks_ap(gt_ds, read_coco_results(tmp_path / "res.json", gt_ds))
    for stats in (via_files, via_objects, via_read_back):
        got = np.array([stats[k] for k in M.STAT_NAMES])
        np.testing.assert_allclose(got, direct, rtol=0, atol=1e-9)
    acc = M.KeypointAP()
    for iid in gt:
        acc.update(gt_ds.frames[iid], pred[iid], image_id=iid, area=gt_ds.areas[iid])
    np.testing.assert_allclose([acc.compute()[k] for k in M.STAT_NAMES], direct, atol=1e-9)


def test_ap_uses_the_skeleton_sigmas(tmp_path: Path) -> None:
    rng = np.random.default_rng(RNG_SEED + 2)
    gt = _dataset(rng, 4)
    pred = _noisy_predictions(rng, gt)
    write_coco(tmp_path / "gt.json", gt)
    write_coco_results(tmp_path / "res.json", pred)
    wide = np.full(17, 0.2)
    direct = _pycocotools(tmp_path / "gt.json", tmp_path / "res.json", sigmas=wide)
    ours = M.oks_ap(read_coco(tmp_path / "gt.json"), pred, sigmas=wide)
    np.testing.assert_allclose([ours[k] for k in M.STAT_NAMES], direct, atol=1e-9)
    assert ours["AP"] > M.oks_ap(read_coco(tmp_path / "gt.json"), pred)["AP"]  # wider sigmas, higher AP


def test_ap_converts_blazepose_only_when_asked() -> None:
    rng = np.random.default_rng(RNG_SEED + 3)
    gt = _dataset(rng, 2)
    bp = {}
    bp_names = get_skeleton("blazepose33").keypoints
    conv = np.asarray([bp_names.index(n) for n in COCO17.keypoints])
    for iid, f in gt.items():
        xy = np.full((len(f), 33, 2), np.nan)
        st = np.zeros((len(f), 33), np.uint8)
        xy[:, conv], st[:, conv] = f.xy, f.state
        bp[iid] = PoseFrame("blazepose33", xy, (st > 0).astype(np.float32), st)
    with pytest.raises(ValidationError, match="blazepose33.*coco17"):
        M.oks_ap(gt, bp)
    assert M.oks_ap(gt, bp, convert=True)["AP"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------------
# PCK, mean error, NME
# ---------------------------------------------------------------------------------------------------
def test_pck_and_mean_error_of_a_known_shift() -> None:
    rng = np.random.default_rng(RNG_SEED + 4)
    gt = np.stack([_person(rng, 200, 200, 200), _person(rng, 500, 200, 200)])
    pred = gt + np.array([3.0, 4.0])  # every keypoint 5 px off
    mask = np.ones((2, 17), bool)
    mask[1, :5] = False
    # norm 30 px: 5 < 0.2*30 = 6 → correct; norm 20 px: 5 < 4 is false → wrong
    s = M.pck(pred, gt, mask, norm=np.array([30.0, 20.0]), alpha=0.2)
    assert s.value == pytest.approx(17 / (17 + 12))
    np.testing.assert_allclose(s.per_keypoint[:5], 1.0)
    np.testing.assert_allclose(s.per_keypoint[5:], 0.5)
    assert s.count.tolist() == [1] * 5 + [2] * 12
    # boundary is strict: d == alpha * norm is a miss
    assert M.pck(pred, gt, mask, norm=np.array([25.0, 25.0]), alpha=0.2).value == 0.0
    e = M.mean_keypoint_error(pred, gt, mask)
    assert e.value == pytest.approx(5.0)
    np.testing.assert_allclose(e.per_keypoint, 5.0)
    assert M.pck(gt, gt, mask, norm=np.array([30.0, 20.0])).value == 1.0
    assert M.mean_keypoint_error(gt, gt, mask).value == 0.0


def test_pck_accumulator_on_frames_with_matching_and_misses() -> None:
    rng = np.random.default_rng(RNG_SEED + 5)
    g = np.stack([_person(rng, 150, 300, 200), _person(rng, 600, 300, 100)])
    gt = _frame(g)
    box = M.box_size(gt.box)
    # prediction order reversed, shifted by 5 px; person 1 (smaller) gets 8 MISSING keypoints
    st = np.ones((2, 17), np.uint8)
    st[0, 9:] = 0  # pred row 0 is gt person 1
    pred = _frame((g + [3.0, 4.0])[::-1], st)
    pck = M.PCK(alpha=0.2).update(gt, pred).compute()
    assert pck["matched"] == 2 and pck["people"] == 2
    want = ((5 < 0.2 * box[0]) * 17 + (5 < 0.2 * box[1]) * 9) / 34
    assert pck["pck"] == pytest.approx(want)
    err = M.KeypointError().update(gt, pred).compute()
    assert err["mean_error"] == pytest.approx(5.0) and err["missing"] == 8
    # an empty prediction: all ground-truth keypoints are misses
    none = M.PCK().update(gt, PoseFrame.empty("coco17")).compute()
    assert none["pck"] == 0.0 and none["matched"] == 0
    # GT scored as its own prediction
    assert M.PCK().update(gt, gt).compute()["pck"] == 1.0
    assert M.PCK(norm="torso").update(gt, gt).compute()["pck"] == 1.0
    assert M.KeypointError().update(gt, gt).compute()["mean_error"] == 0.0


def test_torso_and_crowd_and_keypoint_subset() -> None:
    rng = np.random.default_rng(RNG_SEED + 6)
    g = _person(rng, 200, 200, 300)[None]
    gt = _frame(g)
    torso = float(np.linalg.norm(g[0, 5] - g[0, 12]))
    assert M.torso_size(g, "coco17")[0] == pytest.approx(torso)
    d = 0.5 * 0.2 * torso  # half the threshold on every keypoint except the ankles
    p = g.copy()
    p[0, :, 0] += d
    p[0, 15:, 0] += 0.2 * torso  # ankles beyond
    r = M.PCK(norm="torso").update(gt, _frame(p)).compute()
    assert r["pck"] == pytest.approx(15 / 17)
    assert M.PCK(norm="torso", keypoints=["left_ankle", "right_ankle"]).update(gt, _frame(p)).compute()["pck"] == 0.0
    assert M.PCK(norm="torso", keypoints=range(15)).update(gt, _frame(p)).compute()["pck"] == 1.0
    with pytest.raises(ValidationError, match="nothing to evaluate"):
        M.PCK().update(gt, gt, iscrowd=[True]).compute()


def test_pckh_with_explicit_head_size() -> None:
    rng = np.random.default_rng(RNG_SEED + 7)
    g = np.stack([_person(rng, 200, 200, 200), _person(rng, 400, 200, 200)])
    p = g + [0.0, 7.0]
    s = M.pckh(p, g, None, head_size=np.array([15.0, 14.0]))  # 7 < 7.5 ; 7 < 7 false
    assert s.value == pytest.approx(0.5)
    assert M.PCKh().update(_frame(g), _frame(p), norm=np.array([15.0, 14.0])).compute()["pckh"] == pytest.approx(0.5)
    with pytest.raises(ValidationError, match="head_top"):
        M.PCKh().update(_frame(g), _frame(p))  # COCO-17 has no head top: explicit sizes are required


def test_head_segment_length_on_a_layout_with_head_top() -> None:
    from posekit.skeletons import Skeleton

    sk = Skeleton("test_headtop4", ("head_top", "upper_neck", "left_hip", "right_hip"), ((0, 1), (2, 3)))
    xy = np.array([[[10.0, 0.0], [10.0, 30.0], [0.0, 60.0], [20.0, 60.0]]])
    assert M.head_segment_length(xy, sk)[0] == pytest.approx(30.0)


def test_nme_face_interocular_and_hand_box() -> None:
    rng = np.random.default_rng(RNG_SEED + 8)
    face = np.stack([rng.uniform(100, 300, (468, 2)) for _ in range(2)])
    face[:, 33] = [[120, 150], [140, 160]]
    face[:, 263] = [[220, 150], [200, 240]]  # inter-ocular 100 and 100
    io_d = M.interocular_distance(face, "face468")
    np.testing.assert_allclose(io_d, [100.0, 100.0])
    pred = face + [6.0, 8.0]  # 10 px
    assert M.nme(pred, face, None, io_d).value == pytest.approx(0.1)
    r = M.NME().update(_frame(face, skeleton="face468"), _frame(pred, skeleton="face468")).compute()
    assert r["nme"] == pytest.approx(0.1) and r["matched"] == 2
    hand = rng.uniform(0, 50, (1, 21, 2))
    hand[0, 0], hand[0, 1] = [0, 0], [50, 40]  # box max side 50
    r = M.NME(norm="box").update(_frame(hand, skeleton="hand21"), _frame(hand + [0, 5.0], skeleton="hand21")).compute()
    assert r["nme"] == pytest.approx(5.0 / 50.0)
    with pytest.raises(ValidationError, match="outer eye corners"):
        M.interocular_distance(np.zeros((1, 17, 2)), "coco17")


def test_oks_function_matches_the_cocoeval_formula() -> None:
    rng = np.random.default_rng(RNG_SEED + 9)
    g = _person(rng, 200, 200, 200)[None]
    p = g + rng.normal(0, 5, g.shape)
    area = 150.0 * 200.0
    var = (2 * COCO17.sigmas_array) ** 2
    want = np.mean(np.exp(-np.sum((p[0] - g[0]) ** 2, -1) / var / (area + np.spacing(1)) / 2))
    got = M.oks(p, g, np.ones((1, 17), bool), [area], COCO17.sigmas_array)
    assert got.shape == (1, 1) and got[0, 0] == pytest.approx(want, abs=1e-15)


# ---------------------------------------------------------------------------------------------------
# 3D
# ---------------------------------------------------------------------------------------------------
def _pose3d(rng: np.random.Generator, n: int = 4, k: int = 17) -> np.ndarray:
    return rng.normal(0, 0.3, (n, k, 3))


def test_similarity_transform_gives_zero_pa_mpjpe() -> None:
    rng = np.random.default_rng(RNG_SEED + 10)
    gt = _pose3d(rng)
    rot = Rotation.random(len(gt), random_state=3).as_matrix()
    pred = np.einsum("nij,nkj->nki", rot, gt) * 1.7 + np.array([0.3, -2.0, 4.0])
    assert M.mpjpe(gt, gt) == 0.0
    assert M.mpjpe(pred, gt) > 0.1
    assert M.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-12)
    # pure scale of a root-relative pose: N-MPJPE 0, PA 0, MPJPE > 0
    assert M.n_mpjpe(gt * 0.8, gt) == pytest.approx(0.0, abs=1e-12)
    assert M.n_mpjpe(pred, gt) > 0.1
    # masked joints do not take part: corrupt one joint outside the mask
    bad = pred.copy()
    bad[:, 3] += 5.0
    mask = np.ones(gt.shape[:2], bool)
    mask[:, 3] = False
    assert M.pa_mpjpe(bad, gt, mask) == pytest.approx(0.0, abs=1e-12)


def _best_proper_similarity(p: np.ndarray, g: np.ndarray) -> float:
    """Numerical optimum of the mean joint error over scale, proper rotation and translation."""

    def err(v: np.ndarray) -> float:
        r = Rotation.from_rotvec(v[:3]).as_matrix()
        q = math.exp(v[3]) * p @ r.T + v[4:]
        return float(np.sum((q - g) ** 2))

    best = None
    for seed in range(12):
        x0 = np.concatenate([Rotation.random(random_state=seed).as_rotvec(), [0.0], g.mean(0) - p.mean(0)])
        res = minimize(err, x0, method="BFGS", options={"gtol": 1e-12, "maxiter": 5000})
        if best is None or res.fun < best.fun:
            best = res
    v = best.x
    q = math.exp(v[3]) * p @ Rotation.from_rotvec(v[:3]).as_matrix().T + v[4:]
    return q


def test_reflection_is_not_aligned_away() -> None:
    rng = np.random.default_rng(RNG_SEED + 11)
    gt = _pose3d(rng, 1)
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    pa = M.pa_mpjpe(mirrored, gt)
    assert pa > 0.05  # an improper "rotation" would make this exactly 0
    aligned = M.procrustes_align(mirrored, gt)[0]
    # the closed form is the least-squares optimum over proper similarity transforms
    numeric = _best_proper_similarity(mirrored[0], gt[0])
    assert np.sum((aligned - gt[0]) ** 2) <= np.sum((numeric - gt[0]) ** 2) + 1e-9
    assert np.sum((aligned - gt[0]) ** 2) == pytest.approx(np.sum((numeric - gt[0]) ** 2), rel=1e-5)
    # a proper rotation of the mirrored pose gives the same PA-MPJPE
    r = Rotation.from_euler("xyz", [0.3, -1.0, 2.0]).as_matrix()
    assert M.pa_mpjpe(mirrored @ r.T, gt) == pytest.approx(pa, rel=1e-9)


def test_per_joint_and_bone_length_error() -> None:
    rng = np.random.default_rng(RNG_SEED + 12)
    gt = _pose3d(rng, 3)
    pred = gt.copy()
    pred[:, 9] += [0.0, 0.0, 0.05]  # left wrist 5 cm off
    pj = M.per_joint_error(pred, gt)
    np.testing.assert_allclose(pj.per_keypoint[9], 0.05)
    np.testing.assert_allclose(np.delete(pj.per_keypoint, 9), 0.0, atol=1e-15)
    assert pj.value == pytest.approx(0.05 / 17)
    # bone length: shift the wrist along the forearm by 4 cm → that bone is 4 cm longer
    pred = gt.copy()
    fore = gt[:, 9] - gt[:, 7]
    pred[:, 9] += 0.04 * fore / np.linalg.norm(fore, axis=-1, keepdims=True)
    b = M.bone_length_error(pred, gt, COCO17)
    ib = list(COCO17.edges).index((7, 9))
    assert b.per_keypoint[ib] == pytest.approx(0.04)
    others = np.delete(b.per_keypoint, ib)
    np.testing.assert_allclose(others, 0.0, atol=1e-12)
    r = M.MPJPE("coco17").update(gt, gt).compute()
    assert r["mpjpe"] == 0.0 and r["pa_mpjpe"] == pytest.approx(0.0, abs=1e-12) and r["bone_error"] == 0.0


# ---------------------------------------------------------------------------------------------------
# temporal
# ---------------------------------------------------------------------------------------------------
def _uneven_time(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.cumsum(rng.uniform(0.02, 0.05, n))


def test_constant_velocity_has_zero_jitter_even_with_uneven_time() -> None:
    rng = np.random.default_rng(RNG_SEED + 13)
    t = _uneven_time(40, rng)
    start = _person(rng, 100, 100, 150)
    x = start[None] + np.array([30.0, -12.0])[None, None] * t[:, None, None]  # (T, K, 2), px/s
    assert M.jitter(x, t) == pytest.approx(0.0, abs=1e-9)


def test_quadratic_motion_gives_its_exact_acceleration_at_uneven_steps() -> None:
    rng = np.random.default_rng(RNG_SEED + 14)
    t = _uneven_time(30, rng)
    c = np.array([3.0, -4.0])  # x = c t² → a = 2c, |a| = 10
    x = np.zeros((30, 17, 2)) + _person(rng, 0, 0, 100)[None] + c * (t**2)[:, None, None]
    acc, valid = M.acceleration(x, t)
    assert valid.all()
    np.testing.assert_allclose(acc, np.broadcast_to(2 * c, acc.shape), atol=1e-6)
    assert M.jitter(x, t, body_size=1.0) == pytest.approx(10.0, rel=1e-9)
    assert M.jitter(x, t, body_size=50.0) == pytest.approx(0.2, rel=1e-9)


def test_sinusoid_jitter_matches_the_hand_computed_value() -> None:
    fps, amp, freq = 30.0, 20.0, 1.5  # px, Hz
    t = np.arange(90) / fps
    w, h = 2 * math.pi * freq, 1 / fps
    x = np.zeros((90, 2, 2))
    x[:, 0, 0] = amp * np.sin(w * t)  # keypoint 0 oscillates; keypoint 1 at rest 100 px away
    x[:, 1, 0] = 100.0
    # second difference of sin: −4 sin²(wh/2)/h² · A sin(wt)
    want = np.mean(4 * math.sin(w * h / 2) ** 2 / h**2 * amp * np.abs(np.sin(w * t[1:-1])))
    want_total = want / 2  # the resting keypoint contributes zeros
    assert M.jitter(x, t, body_size=1.0) == pytest.approx(want_total, rel=1e-9)
    assert want == pytest.approx(amp * w**2 * 2 / math.pi, rel=0.02)  # ≈ the continuous mean |a|
    size = M.median_body_size(x)
    assert M.jitter(x, t) == pytest.approx(want_total / size[0], rel=1e-9)


def test_acceleration_error_of_a_single_spike() -> None:
    t = np.arange(10) * 0.1
    gt = np.zeros((10, 1, 2, 2))
    gt[:, 0, 1, 0] = 10.0
    pred = gt.copy()
    pred[5, 0, 0, 1] += 1.0  # one keypoint jumps 1 px at frame 5
    # accelerations at frames 4, 5, 6: +1, −2, +1 px / 0.01 s² → |err| = 100, 200, 100
    want = (100 + 200 + 100) / (8 * 2)
    assert M.acceleration_error(pred, gt, t, body_size=1.0) == pytest.approx(want)


def test_bone_length_cv_rigid_motion_zero_and_known_variation() -> None:
    rng = np.random.default_rng(RNG_SEED + 15)
    base = rng.normal(0, 0.3, (17, 3))
    rots = Rotation.random(25, random_state=5).as_matrix()
    x = np.einsum("tij,kj->tki", rots, base) + rng.normal(0, 1, (25, 1, 3))
    assert M.bone_length_cv(x, COCO17).value == pytest.approx(0.0, abs=1e-12)
    # one bone alternates between L(1+e) and L(1-e): CV = e for that bone
    y = np.repeat(base[None], 20, 0).copy()
    e = 0.1
    d = base[9] - base[7]
    y[:, 9] = base[7] + d * np.where(np.arange(20) % 2 == 0, 1 + e, 1 - e)[:, None]
    r = M.bone_length_cv(y, COCO17)
    ib = list(COCO17.edges).index((7, 9))
    assert r.per_keypoint[ib] == pytest.approx(e)
    assert r.value == pytest.approx(e / len(COCO17.edges))
    seq = PoseSequence("coco17", y[:, None, :, :2] * 100 + 500, np.ones((20, 1, 17), np.float32),
                       np.ones((20, 1, 17), np.uint8), np.arange(20) / 30)  # fmt: skip
    assert M.BoneLengthCV().update(seq).compute()["bone_cv"] > 0


def test_left_right_swaps_with_and_without_ground_truth() -> None:
    rng = np.random.default_rng(RNG_SEED + 16)
    t = 12
    g = np.stack([_person(rng, 200 + 3 * i, 200, 200) for i in range(t)])
    pred = g.copy()
    flip = COCO17.flip_index
    pred[4:7] = pred[4:7][:, flip]  # frames 4, 5, 6 swapped
    sw = M.left_right_swaps(pred, COCO17, gt=g)
    assert sw[:, 0].tolist() == [i in (4, 5, 6) for i in range(t)]
    ev = M.left_right_swaps(pred, COCO17)
    assert np.flatnonzero(ev[:, 0]).tolist() == [4, 7]  # swap in, swap back
    assert not M.left_right_swaps(g, COCO17, gt=g).any()
    sym = g.copy()  # left and right keypoints on top of each other: flipping changes nothing, no swap
    for a, b in COCO17.flip_pairs:
        sym[:, b] = sym[:, a]
    assert not M.left_right_swaps(sym, COCO17, gt=sym).any()
    assert not M.left_right_swaps(sym, COCO17).any()
    mk = lambda a: PoseSequence("coco17", a[:, None], np.ones((t, 1, 17), np.float32),  # noqa: E731
                                np.ones((t, 1, 17), np.uint8), np.arange(t) / 25.0)
    assert M.SwapCount().update(mk(pred), mk(g)).compute()["swaps"] == 3
    assert M.SwapCount().update(mk(pred)).compute()["swaps"] == 2


def test_jitter_accumulator_on_a_sequence_with_missing_keypoints() -> None:
    t = np.arange(20) / 20.0
    xy = np.zeros((20, 1, 17, 2)) + _person(np.random.default_rng(1), 300, 300, 200)[None, None]
    xy = xy + np.array([40.0, 0.0]) * t[:, None, None, None]
    st = np.ones((20, 1, 17), np.uint8)
    st[7, 0, :4] = 0
    xy[st == 0] = np.nan
    seq = PoseSequence("coco17", xy, st.astype(np.float32), st, t)
    r = M.Jitter().update(seq).compute()
    assert r["jitter"] == pytest.approx(0.0, abs=1e-9)
    assert r["count"] == 18 * 17 - 3 * 4  # frames 6, 7, 8 lose 4 keypoints each
    xy2 = xy.copy()
    xy2[10] += 3.0
    assert M.Jitter().update(PoseSequence("coco17", xy2, st.astype(np.float32), st, t)).compute()["jitter"] > 0


# ---------------------------------------------------------------------------------------------------
# tracking
# ---------------------------------------------------------------------------------------------------
def _walkers(n: int, swap_at: int | None, drop: int | None = None, extra: int | None = None):
    rng = np.random.default_rng(7)
    a, b = _person(rng, 100, 300, 200), _person(rng, 700, 300, 200)
    gts, preds = [], []
    for t in range(n):
        g = np.stack([a + [10 * t, 0], b - [10 * t, 0]])
        gts.append(_frame(g, track=[1, 2]))
        ids = [10, 20] if swap_at is None or t < swap_at else [20, 10]
        p, pid = g + 2.0, ids
        if drop is not None and t == drop:
            p, pid = p[:1], pid[:1]
        if extra is not None and t == extra:
            p = np.concatenate([p, _person(rng, 400, 50, 60)[None]])
            pid = list(pid) + [99]
        preds.append(_frame(p, track=pid))
    return gts, preds


def test_identity_switches_on_a_two_track_swap() -> None:
    gts, preds = _walkers(10, swap_at=None)
    r = M.clear_mot(gts, preds)
    assert (r["idsw"], r["fp"], r["fn"], r["tp"], r["mota"]) == (0, 0, 0, 20, 1.0)
    gts, preds = _walkers(10, swap_at=6, drop=2, extra=8)
    r = M.clear_mot(gts, preds)
    assert r["idsw"] == 2  # both ground-truth tracks change predicted identity once
    assert (r["fn"], r["fp"], r["tp"], r["num_gt"]) == (1, 1, 19, 20)
    assert r["mota"] == pytest.approx(1 - (1 + 1 + 2) / 20)
    d = M.clear_mot(gts, preds, similarity="distance", threshold=10.0)
    assert d["idsw"] == 2 and d["motp"] == pytest.approx(math.sqrt(8))


def test_tracking_needs_identities() -> None:
    gts, preds = _walkers(3, None)
    preds[1] = _frame(preds[1].xy)  # no track ids
    with pytest.raises(ValidationError, match="no track id"):
        M.clear_mot(gts, preds)


# ---------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------
def test_bad_arrays_raise() -> None:
    g = np.zeros((2, 17, 2))
    with pytest.raises(ValidationError, match="same shape"):
        M.mean_keypoint_error(np.zeros((2, 16, 2)), g)
    with pytest.raises(ValidationError, match="nothing to evaluate"):
        M.mean_keypoint_error(np.zeros((0, 17, 2)), np.zeros((0, 17, 2)))
    with pytest.raises(ValidationError, match="nothing to evaluate"):
        M.mean_keypoint_error(g, g, np.zeros((2, 17), bool))
    p = g.copy()
    p[1, 3] = np.nan
    with pytest.raises(ValidationError, match=r"'pred'.*\(1, 3\).*mask"):
        M.mean_keypoint_error(p, g)
    m = np.ones((2, 17), bool)
    m[1, 3] = False
    assert M.mean_keypoint_error(p, g, m).value == 0.0  # excluded, not read as (0, 0)
    assert M.pck(p, g + 1, None, norm=[100, 100], missing="miss").value == pytest.approx(33 / 34)
    with pytest.raises(ValidationError, match="'gt'"):
        M.mean_keypoint_error(g, p)
    with pytest.raises(ValidationError, match="boolean mask"):
        M.pck(g, g, np.full((2, 17), 2), norm=[1, 1])
    with pytest.raises(ValidationError, match="normaliser"):
        M.pck(g, g, None, norm=[1.0, np.nan])
    with pytest.raises(ValidationError, match="normaliser"):
        M.pck(g, g, None, norm=[1.0, 0.0])
    with pytest.raises(ValidationError, match="at least 3"):
        M.pa_mpjpe(np.ones((1, 17, 3)), np.ones((1, 17, 3)), np.eye(17, dtype=bool)[:1])
    with pytest.raises(ValidationError, match="strictly increasing"):
        M.jitter(np.zeros((4, 17, 2)), [0, 0.1, 0.1, 0.2])
    with pytest.raises(ValidationError, match="at least 3 frames"):
        M.jitter(np.zeros((2, 17, 2)), [0, 0.1])
    x = np.zeros((5, 17, 2))
    x[2, 0] = np.nan
    with pytest.raises(ValidationError, match="selected by the mask"):
        M.jitter(x, np.arange(5.0))


def test_bad_frames_raise() -> None:
    rng = np.random.default_rng(3)
    gt = _dataset(rng, 2)
    with pytest.raises(ValidationError, match="not in the ground truth"):
        M.oks_ap(gt, {999: next(iter(gt.values()))})
    with pytest.raises(ValidationError, match="no predictions"):
        M.oks_ap(gt, {})
    with pytest.raises(ValidationError, match="no annotated people"):
        M.oks_ap({1: PoseFrame.empty("coco17")}, {1: PoseFrame.empty("coco17")})
    with pytest.raises(ValidationError, match="51"):
        M.oks_ap(gt, [{"image_id": 100, "category_id": 1, "keypoints": [1.0] * 48, "score": 1.0}])
    with pytest.raises(ValidationError, match="non-finite"):
        M.oks_ap(gt, [{"image_id": 100, "category_id": 1, "keypoints": [float("nan")] * 51, "score": 1.0}])
    hand = _frame(np.zeros((1, 21, 2)) + np.arange(21)[None, :, None], skeleton="hand21")
    with pytest.raises(ValidationError, match="hand21.*coco17"):
        M.PCK().update(next(iter(gt.values())), hand)
    with pytest.raises(ValidationError, match="no OKS sigmas"):
        face = _frame(np.random.default_rng(0).uniform(0, 9, (1, 468, 2)), skeleton="face468")
        M.oks_ap({1: face}, {1: face})
    with pytest.raises(ValidationError, match="nothing to evaluate"):
        M.PCK().compute()
    with pytest.raises(ValidationError, match="already added"):
        f = next(iter(gt.values()))
        M.KeypointAP().update(f, f, image_id=1).update(f, f, image_id=1)


def test_bad_files_raise(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    gt = _dataset(rng, 3)
    write_coco(tmp_path / "gt.json", gt)
    write_coco_results(tmp_path / "res.json", gt)
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "none.json").write_text("[]")
    with pytest.raises(InputError, match="empty"):
        M.coco_eval_files(tmp_path / "gt.json", tmp_path / "empty.json")
    with pytest.raises(InputError, match="no predictions"):
        M.coco_eval_files(tmp_path / "gt.json", tmp_path / "none.json")
    res = json.loads((tmp_path / "res.json").read_text())
    res[0]["image_id"] = 12345
    (tmp_path / "ids.json").write_text(json.dumps(res))
    with pytest.raises(InputError, match="12345.*not in the ground truth"):
        M.coco_eval_files(tmp_path / "gt.json", tmp_path / "ids.json")
    res = json.loads((tmp_path / "res.json").read_text())
    res[1]["keypoints"] = res[1]["keypoints"] + [1, 2, 2] * 16  # 33 keypoints: another skeleton
    for r in res:
        r.pop("posekit_state", None), r.pop("keypoint_scores", None)
    (tmp_path / "bp.json").write_text(json.dumps(res))
    with pytest.raises(InputError, match="99 values, expected 3×17=51"):
        M.coco_eval_files(tmp_path / "gt.json", tmp_path / "bp.json")
    (tmp_path / "nan.json").write_text((tmp_path / "res.json").read_text().replace('"score":', '"score":NaN,"x":', 1))
    with pytest.raises(InputError):
        M.coco_eval_files(tmp_path / "gt.json", tmp_path / "nan.json")


# ---------------------------------------------------------------------------------------------------
# posekit eval (the command function, registered here in a throw-away app)
# ---------------------------------------------------------------------------------------------------
def _app():
    import typer

    from posekit.cli_eval import eval_command

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("eval")(eval_command)
    app.command("noop")(lambda: None)
    return app


def test_eval_command_inputs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from posekit.io.posekit_json import save_poses

    rng = np.random.default_rng(RNG_SEED + 20)
    gt = _dataset(rng, 3)
    write_coco(tmp_path / "gt.json", gt)
    pred = _noisy_predictions(rng, gt)
    write_coco_results(tmp_path / "res.json", pred)
    run = lambda *a: CliRunner().invoke(_app(), ["eval", *a])  # noqa: E731
    r = run("--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "res.json"), "--report", str(tmp_path / "r.md"))
    assert r.exit_code == 0, r.output
    direct = _pycocotools(tmp_path / "gt.json", tmp_path / "res.json")
    assert f"| AP | {100 * direct[0]:.1f} |" in (tmp_path / "r.md").read_text()
    # posekit JSON carries no image ids: refused unless the order is declared
    save_poses(list(gt.values()), tmp_path / "poses.json")
    r = run("--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "poses.json"))
    assert r.exit_code == 2 and "--match order" in r.output
    r = run("--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "poses.json"), "--match", "order",
            "--report", str(tmp_path / "o.md"))  # fmt: skip
    assert r.exit_code == 0 and "| AP | 100.0 |" in (tmp_path / "o.md").read_text()
    # BlazePose-33 results are converted through the exact table, and the table says so
    bp_names = get_skeleton("blazepose33").keypoints
    rows = []
    for iid, f in gt.items():
        for n in range(len(f)):
            kp = np.zeros((33, 3))
            for j, name in enumerate(COCO17.keypoints):
                if f.state[n, j]:
                    kp[bp_names.index(name)] = [*f.xy[n, j], 2]
            rows.append({"image_id": iid, "category_id": 1, "keypoints": kp.ravel().tolist(), "score": 0.9})
    (tmp_path / "bp.json").write_text(json.dumps(rows))
    r = run("--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "bp.json"))
    assert r.exit_code == 2 and "99 values" in r.output and "--pred-layout" in r.output  # never guessed by count
    r = run("--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "bp.json"), "--pred-layout", "blazepose33",
            "--report", str(tmp_path / "b.md"))  # fmt: skip
    assert r.exit_code == 0, r.output
    text = (tmp_path / "b.md").read_text()
    assert "| AP | 100.0 |" in text and "blazepose33 converted to coco17" in text
    assert run("--dataset", "mpii", str(tmp_path)).exit_code == 2
    assert run("--gt", str(tmp_path / "gt.json")).exit_code == 2
    r = run("--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "missing.json"))
    assert r.exit_code == 2 and "missing.json" in r.output
