"""COCO IO on real COCO keypoint files (shared test data), checked against the raw JSON and pycocotools."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from posekit.io.coco import read_coco, read_coco_results, write_coco, write_coco_results
from posekit.poses import KeypointState

pytestmark = pytest.mark.integration

FILES = {
    # relative path: (images, annotations, annotations with >= 1 labelled keypoint, crowd annotations)
    "1_images_2d_keypoints/coco_mini/annotations/person_keypoints_train2017.present_images_only.json": (28, 147, 86, 5),
    "1_images_2d_keypoints/mmpose/tests/data/coco/test_coco.json": (4, 14, 12, 0),
}


@pytest.fixture(params=sorted(FILES), ids=["coco_mini", "mmpose_test_coco"])
def coco_file(request, data_dir: Path) -> tuple[Path, tuple[int, int, int, int]]:
    p = data_dir / request.param
    assert p.is_file(), f"missing shared data file {p}"
    return p, FILES[request.param]


def test_counts_and_values_match_the_raw_json(coco_file):
    path, (n_img, n_ann, n_kp, n_crowd) = coco_file
    raw = json.loads(path.read_text())
    ds = read_coco(path)
    assert ds.skeleton.name == "coco17"  # by the category's keypoint names
    assert len(ds.images) == n_img and ds.num_annotations == n_ann
    assert sum(int(f.present.any(1).sum()) for f in ds.frames.values()) == n_kp
    assert sum(int(c.sum()) for c in ds.iscrowd.values()) == n_crowd
    by_id = {}
    for iid, f in ds.frames.items():
        for n, aid in enumerate(ds.annotation_ids[iid].tolist()):
            by_id[aid] = (f, n, iid)
    for a in raw["annotations"]:
        f, n, iid = by_id[a["id"]]
        assert iid == a["image_id"]
        kp = np.asarray(a["keypoints"], dtype=float).reshape(17, 3)
        want_state = np.select([kp[:, 2] == 2, kp[:, 2] == 1], [KeypointState.VISIBLE, KeypointState.OCCLUDED], KeypointState.MISSING)
        np.testing.assert_array_equal(f.state[n], want_state)
        lab = kp[:, 2] > 0
        np.testing.assert_array_equal(f.xy[n][lab], kp[lab, :2])
        assert np.isnan(f.xy[n][~lab]).all()  # unlabelled: NaN, never (0, 0)
        assert int(f.present[n].sum()) == a["num_keypoints"]
        x, y, w, h = a["bbox"]
        np.testing.assert_array_equal(f.box[n], [x, y, x + w, y + h])
        assert ds.areas[iid][list(ds.annotation_ids[iid]).index(a["id"])] == a["area"]
    for img in raw["images"]:
        assert ds.frames[img["id"]].image_size == (img["width"], img["height"])


def test_write_read_round_trip_is_exact(coco_file, tmp_path):
    path, _ = coco_file
    ds = read_coco(path)
    out = tmp_path / "copy.json"
    write_coco(out, ds)
    ds2 = read_coco(out)
    assert list(ds2.images) == list(ds.images)
    for iid, f in ds.frames.items():
        g = ds2.frames[iid]
        assert np.array_equal(f.xy.view(np.uint64), g.xy.view(np.uint64))
        np.testing.assert_array_equal(f.state, g.state)
        np.testing.assert_array_equal(f.score, g.score)
        np.testing.assert_array_equal(f.box, g.box)
        np.testing.assert_array_equal(f.box_score, g.box_score)
        np.testing.assert_array_equal(ds.annotation_ids[iid], ds2.annotation_ids[iid])
        np.testing.assert_array_equal(ds.iscrowd[iid], ds2.iscrowd[iid])
        np.testing.assert_array_equal(ds.areas[iid], ds2.areas[iid])
        assert ds2.images[iid]["file_name"] == ds.images[iid]["file_name"]
    # the written file is COCO: the raw keypoint lists are unchanged
    raw = {a["id"]: a for a in json.loads(path.read_text())["annotations"]}
    for a in json.loads(out.read_text())["annotations"]:
        assert a["keypoints"] == raw[a["id"]]["keypoints"]
        assert a["num_keypoints"] == raw[a["id"]]["num_keypoints"]
        assert a["iscrowd"] == raw[a["id"]]["iscrowd"]


def _coco_ap(gt_path: Path, results: list[dict]) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, iouType="keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def test_ground_truth_as_prediction_scores_ap_1(coco_file, tmp_path):
    path, (_, _, n_kp, _) = coco_file
    ds = read_coco(path)
    results = []
    for iid, f in ds.frames.items():
        keep = ~ds.iscrowd[iid] & f.present.any(1)  # COCO ignores crowd and zero-keypoint annotations
        entries = f[keep].to_coco(iid)
        assert all(e["score"] == 1.0 for e in entries)  # box score 1 × keypoint scores 1
        results += entries
    assert len(results) == n_kp
    stats = _coco_ap(path, results)
    assert stats[0] == pytest.approx(1.0)  # AP @ OKS 0.50:0.95
    assert stats[1] == pytest.approx(1.0)  # AP @ 0.50
    # the same through a results file written and read by posekit, against posekit's own GT copy
    res_path = tmp_path / "results.json"
    write_coco_results(res_path, {iid: f[~ds.iscrowd[iid] & f.present.any(1)] for iid, f in ds.frames.items()})
    copy_path = tmp_path / "gt.json"
    write_coco(copy_path, ds)
    stats2 = _coco_ap(copy_path, json.loads(res_path.read_text()))
    assert stats2[0] == pytest.approx(1.0)
    back = read_coco_results(res_path, ds)
    assert back.num_annotations == n_kp


def test_perturbed_prediction_scores_below_1(coco_file):
    """The AP check can fail: shifting every predicted keypoint by 10 px lowers AP."""
    path, _ = coco_file
    ds = read_coco(path)
    results = []
    for iid, f in ds.frames.items():
        g = f[~ds.iscrowd[iid] & f.present.any(1)].copy()
        g.xy = g.xy + 10.0
        g.box = g.box + 10.0
        results += g.to_coco(iid)
    assert _coco_ap(path, results)[0] < 0.9
