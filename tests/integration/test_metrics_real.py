"""posekit.metrics and ``posekit eval`` on the shared real ground truth, checked against pycocotools."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from scipy.spatial.transform import Rotation
from typer.testing import CliRunner

from posekit import metrics as M
from posekit.cli_eval import eval_command
from posekit.io.coco import read_coco, write_coco_results
from posekit.poses import PoseFrame

pytestmark = pytest.mark.integration

COCO_MINI = "1_images_2d_keypoints/coco_mini/annotations/person_keypoints_train2017.present_images_only.json"
MMPOSE_COCO = "1_images_2d_keypoints/mmpose/tests/data/coco"
H36M = "3_3d_ground_truth/mmpose/tests/data/h36m/test_h36m_body3d.npz"


def _pycocotools(gt_path: Path, res_path: Path) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        ev = COCOeval(gt, gt.loadRes(str(res_path)), "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


def _as_results(ds) -> dict:
    return {iid: f for iid, f in ds.frames.items() if len(f)}


def test_coco_mini_ground_truth_as_prediction(data_dir: Path, tmp_path: Path) -> None:
    gt_path = data_dir / COCO_MINI
    ds = read_coco(gt_path)
    res = tmp_path / "gt_as_results.json"
    write_coco_results(res, _as_results(ds))
    direct = _pycocotools(gt_path, res)
    assert direct[0] == pytest.approx(1.0, abs=1e-12)
    ours = M.oks_ap(ds, _as_results(ds))
    files = M.coco_eval_files(gt_path, res)
    for stats in (ours, files):
        np.testing.assert_allclose([stats[k] for k in M.STAT_NAMES], direct, atol=1e-9)
    assert M.PCK().update(ds.frames[next(iter(ds.frames))], ds.frames[next(iter(ds.frames))]).compute()["pck"] == 1.0
    pck, err = M.PCK(), M.KeypointError()
    for iid, f in ds.frames.items():
        pck.update(f, f, iscrowd=ds.iscrowd[iid])
        err.update(f, f, iscrowd=ds.iscrowd[iid])
    assert pck.compute()["pck"] == 1.0 and pck.people == 86
    assert err.compute()["mean_error"] == 0.0


def test_perturbed_coco_ground_truth_matches_pycocotools(data_dir: Path, tmp_path: Path) -> None:
    """Noisy, partly dropped, rescored ground truth: a non-trivial AP, equal to pycocotools to 1e-9."""
    gt_path = data_dir / COCO_MINI
    ds = read_coco(gt_path)
    rng = np.random.default_rng(11)
    pred = {}
    for iid, f in _as_results(ds).items():
        keep = rng.random(len(f)) > 0.15
        g = f[np.flatnonzero(keep)]
        scale = np.sqrt(np.maximum(ds.areas[iid][keep], 1.0))[:, None, None]
        xy = g.xy + rng.normal(0, 1, g.xy.shape) * 0.06 * scale
        score = np.where(g.present, rng.uniform(0.3, 1.0, g.state.shape), 0).astype(np.float32)
        pred[iid] = PoseFrame("coco17", xy, score, g.state, box=g.box)
    res = tmp_path / "noisy.json"
    write_coco_results(res, pred)
    direct = _pycocotools(gt_path, res)
    assert 0.2 < direct[0] < 0.9
    ours = M.oks_ap(ds, pred)
    np.testing.assert_allclose([ours[k] for k in M.STAT_NAMES], direct, atol=1e-9)
    np.testing.assert_allclose([M.oks_ap(gt_path, res)[k] for k in M.STAT_NAMES], direct, atol=1e-9)


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("eval")(eval_command)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps "eval" a subcommand
        pass

    return app


def test_eval_command_scores_a_results_file(data_dir: Path, tmp_path: Path) -> None:
    gt_path = data_dir / COCO_MINI
    ds = read_coco(gt_path)
    res = tmp_path / "gt.json"
    write_coco_results(res, _as_results(ds))
    report = tmp_path / "report.md"
    r = CliRunner().invoke(_app(), ["eval", "--gt", str(gt_path), "--pred", str(res), "--report", str(report)])
    assert r.exit_code == 0, r.output
    assert "100.0" in r.output and "PCK@0.2 (box)" in r.output
    text = report.read_text()
    assert "| AP | 100.0 |" in text and "| mean error (px) | 0.00 |" in text
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"image_id": 1, "category_id": 1, "keypoints": [1, 2, 2] * 17, "score": 0.5}]))
    r = CliRunner().invoke(_app(), ["eval", "--gt", str(gt_path), "--pred", str(bad)])
    assert r.exit_code == 2 and "not in the ground truth" in r.output


def test_eval_command_runs_the_estimator_on_a_coco_folder(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / MMPOSE_COCO
    saved = tmp_path / "pred.json"
    args = ["eval", "--dataset", "coco", str(folder), "--gt", str(folder / "test_coco.json"), "--save-pred", str(saved),
            "--report", str(tmp_path / "r.md")]  # fmt: skip
    r = CliRunner().invoke(_app(), args)
    assert r.exit_code == 0, r.output
    direct = _pycocotools(folder / "test_coco.json", saved)
    assert direct[0] > 0.2  # posekit finds and places people on real photos
    assert f"| AP | {100 * direct[0]:.1f} |" in (tmp_path / "r.md").read_text()
    r = CliRunner().invoke(_app(), ["eval", "--dataset", "coco", str(folder)])
    assert r.exit_code == 2 and "several COCO keypoint files" in r.output


def test_h36m_ground_truth_3d(data_dir: Path) -> None:
    from posekit.datasets.h36m import read_h36m_npz

    samples = read_h36m_npz(data_dir / H36M)
    gt = np.concatenate([s.poses.world for s in samples])
    mask = np.concatenate([s.poses.present for s in samples])
    assert gt.shape == (4, 17, 3) and mask.all()
    assert M.mpjpe(gt, gt, mask) == 0.0
    rot = Rotation.from_euler("zyx", [40, -25, 10], degrees=True).as_matrix()
    moved = 1.1 * gt @ rot.T + [0.2, 0.1, -0.5]
    assert M.mpjpe(moved, gt, mask) > 0.1
    assert M.pa_mpjpe(moved, gt, mask) == pytest.approx(0.0, abs=1e-9)
    # H36M bones keep their lengths under a rigid motion; the scale shows up as bone-length error
    r = M.MPJPE("h36m17").update(moved, gt, mask).compute()
    assert r["pa_mpjpe"] == pytest.approx(0.0, abs=1e-9) and r["bone_error"] > 0.01
