"""Agreement between annotation files: OKS per keypoint and person, annotator bias, repeats, disagreements."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from posekit.cli_qa import agree_command
from posekit.errors import InputError
from posekit.qa import agreement, write_agreement
from posekit.qa.inject import synthetic_walk
from posekit.skeletons import get_skeleton

SK = get_skeleton("coco17")


def _doc(n_images: int = 3, people: int = 2, seed: int = 0) -> dict:
    """A COCO keypoint file of synthetic people (all 17 keypoints labelled, v=2)."""
    seq = synthetic_walk(2.0, 30.0, skeleton="coco17", yaw_deg=20, noise_px=0.0, with_world=False, seed=seed)
    images, anns = [], []
    aid = 100
    for i in range(n_images):
        images.append({"id": i + 1, "file_name": f"{i:03d}.jpg", "width": 1280, "height": 720})
        for p in range(people):
            xy = seq.xy[5 + 7 * i + 3 * p, 0] + np.array([260.0 * p - 200.0, 0.0])
            kps = []
            for x, y in xy.tolist():
                kps += [round(x, 3), round(y, 3), 2]
            anns.append({"id": aid, "image_id": i + 1, "category_id": 1, "keypoints": kps, "num_keypoints": 17,
                         "area": 120.0 * 120.0 * 2.0, "iscrowd": 0})  # fmt: skip
            aid += 1
    return {"images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "person", "keypoints": list(SK.keypoints)}]}  # fmt: skip


def _write(tmp_path: Path, name: str, doc: dict) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def _shift(doc: dict, keypoint: str, dx: float, dy: float) -> dict:
    out = copy.deepcopy(doc)
    j = SK.index(keypoint)
    for a in out["annotations"]:
        a["keypoints"][3 * j] += dx
        a["keypoints"][3 * j + 1] += dy
    return out


def test_identical_files_agree_perfectly(tmp_path):
    doc = _doc()
    a, b = _write(tmp_path, "a.json", doc), _write(tmp_path, "b.json", doc)
    res = agreement([a, b])
    assert res.mean_oks == 1.0
    assert np.all(res.oks_per_keypoint == 1.0) and np.all(res.label_agreement == 1.0)
    assert len(res.people) == 6 and all(p["oks"] == 1.0 for p in res.people)
    assert np.all(res.bias == 0.0) and res.disagreements == [] and res.unmatched == []


def test_known_per_keypoint_offset_comes_back_as_bias(tmp_path):
    doc = _doc()
    a = _write(tmp_path, "a.json", doc)
    b = _write(tmp_path, "b.json", _shift(doc, "left_wrist", 5.0, -3.0))
    res = agreement([a, b])
    bb, ba = res.bias_of(str(b)), res.bias_of(str(a))
    assert bb["left_wrist"] == pytest.approx((5.0, -3.0), abs=1e-6)
    assert ba["left_wrist"] == pytest.approx((-5.0, 3.0), abs=1e-6)
    assert all(bb[k] == pytest.approx((0.0, 0.0), abs=1e-9) for k in SK.keypoints if k != "left_wrist")
    w = SK.index("left_wrist")
    # COCO's formula: ks = exp(-d^2 / (2 * area * (2 sigma)^2)), d^2 = 34 px^2, area = 28800 px^2
    expect = np.exp(-34.0 / (2 * 28800.0 * (2 * 0.062) ** 2))
    assert res.oks_per_keypoint[w] == pytest.approx(expect, rel=1e-9)
    others = np.delete(res.oks_per_keypoint, w)
    assert np.all(others == 1.0)
    assert res.mean_oks == pytest.approx((16 + expect) / 17, rel=1e-9)
    assert res.bias_count[1, w] == 6


def test_three_annotators_bias_is_against_the_others(tmp_path):
    doc = _doc(n_images=2)
    files = [_write(tmp_path, "a.json", doc), _write(tmp_path, "b.json", doc),
             _write(tmp_path, "c.json", _shift(doc, "nose", 2.0, 0.0))]  # fmt: skip
    res = agreement(files)
    assert res.bias_of(2)["nose"] == pytest.approx((2.0, 0.0))
    assert res.bias_of(0)["nose"] == pytest.approx((-1.0, 0.0))  # against the mean of b and c
    assert len(res.pairs) == 3 and {tuple(p["files"]) for p in res.pairs} == {
        (str(files[0]), str(files[1])), (str(files[0]), str(files[2])), (str(files[1]), str(files[2]))
    }  # fmt: skip


def test_people_are_matched_by_similarity_when_ids_differ(tmp_path):
    doc = _doc()
    other = copy.deepcopy(doc)
    other["annotations"] = list(reversed(other["annotations"]))
    for j, a in enumerate(other["annotations"]):
        a["id"] = 9000 + j
    res = agreement([_write(tmp_path, "a.json", doc), _write(tmp_path, "b.json", other)])
    assert res.mean_oks == 1.0 and len(res.people) == 6 and res.unmatched == []


def test_disagreements_list_positions_and_labels(tmp_path):
    doc = _doc(n_images=1, people=1)
    other = copy.deepcopy(doc)
    kp = other["annotations"][0]["keypoints"]
    e = SK.index("left_elbow")
    kp[3 * e] += 60.0  # far off: similarity ~0
    n = SK.index("nose")
    kp[3 * n : 3 * n + 3] = [0, 0, 0]  # not labelled by b
    other["annotations"][0]["num_keypoints"] = 16
    res = agreement([_write(tmp_path, "a.json", doc), _write(tmp_path, "b.json", other)], threshold=0.5)
    kinds = {(d["keypoint"], d["kind"]) for d in res.disagreements}
    assert kinds == {("left_elbow", "position"), ("nose", "labelled_by_one")}
    elbow = next(d for d in res.disagreements if d["keypoint"] == "left_elbow")
    assert elbow["distance_px"] == pytest.approx(60.0) and elbow["similarity"] < 0.5 and elbow["image_id"] == 1
    assert res.label_agreement[n] == 0.0 and np.isnan(res.oks_per_keypoint[n])


def test_repeat_consistency_of_one_annotator(tmp_path):
    doc = _doc(n_images=2)
    rng = np.random.default_rng(3)
    again = copy.deepcopy(doc)
    for a in again["annotations"]:
        for j in range(17):
            a["keypoints"][3 * j] += float(rng.normal(0, 1.0))
    files = [_write(tmp_path, "alice1.json", doc), _write(tmp_path, "bob.json", doc), _write(tmp_path, "alice2.json", again)]
    res = agreement(files, annotators=["alice", "bob", "alice"])
    rep = [r for r in res.repeat if r["kind"] == "files"]
    assert len(rep) == 1 and rep[0]["annotator"] == "alice" and 0.95 < rep[0]["mean_oks"] < 1.0
    # one file holding the same picture twice (a repeat label inserted into the queue)
    twice = copy.deepcopy(doc)
    twice["images"].append({"id": 50, "file_name": "000.jpg", "width": 1280, "height": 720})
    for a in copy.deepcopy([a for a in doc["annotations"] if a["image_id"] == 1]):
        a["id"] += 5000
        a["image_id"] = 50
        a["keypoints"][0] += 1.5
        twice["annotations"].append(a)
    res = agreement([_write(tmp_path, "t.json", twice), _write(tmp_path, "t2.json", twice)], annotators=["x", "y"])
    within = [r for r in res.repeat if r["kind"] == "within_file"]
    assert len(within) == 2 and all(r["file_name"] == "000.jpg" and r["people"] == 2 for r in within)
    assert all(0.99 < r["mean_oks"] < 1.0 for r in within)


def test_agreement_errors(tmp_path):
    doc = _doc()
    a = _write(tmp_path, "a.json", doc)
    with pytest.raises(InputError, match="at least two"):
        agreement([a])
    hand = {"images": doc["images"], "annotations": [],
            "categories": [{"id": 1, "name": "hand", "keypoints": list(get_skeleton("hand21").keypoints)}]}  # fmt: skip
    with pytest.raises(InputError, match="holds 'hand21' keypoints"):
        agreement([a, _write(tmp_path, "h.json", hand)])
    other = copy.deepcopy(doc)
    for img in other["images"]:
        img["id"] += 100
    for ann in other["annotations"]:
        ann["image_id"] += 100
    with pytest.raises(InputError, match="no image id in common"):
        agreement([a, _write(tmp_path, "o.json", other)])
    with pytest.raises(InputError, match="2 annotator names for 3 files"):
        agreement([a, a, a], annotators=["x", "y"])


def test_agree_command_writes_json(tmp_path):
    doc = _doc()
    a = _write(tmp_path, "a.json", doc)
    b = _write(tmp_path, "b.json", _shift(doc, "right_knee", -4.0, 0.0))
    app = typer.Typer()
    app.command("agree")(agree_command)
    app.command("noop")(lambda: None)
    out = tmp_path / "sub" / "agree.json"
    r = CliRunner().invoke(app, ["agree", str(a), str(b), "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert d["bias"][str(b)]["right_knee"] == {"dx": -4.0, "dy": 0.0, "n": 6}
    assert d["oks_per_keypoint"]["nose"] == 1.0 and d["mean_oks"] < 1.0
    r = CliRunner().invoke(app, ["agree", str(a), str(tmp_path / "missing.json")])
    assert r.exit_code == 2 and "file not found" in r.output


def test_write_agreement_is_valid_json(tmp_path):
    doc = _doc(n_images=1)
    res = agreement([_write(tmp_path, "a.json", doc), _write(tmp_path, "b.json", doc)])
    out = tmp_path / "x.json"
    write_agreement(out, res)
    d = json.loads(out.read_text())
    assert d["mean_oks"] == 1.0 and set(d["oks_per_keypoint"]) == set(SK.keypoints)
