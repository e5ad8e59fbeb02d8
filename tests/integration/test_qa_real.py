"""QA rules and agreement on the human-made annotations in ../shared/data (POSEKIT_TEST_DATA).

Clean COCO people must rarely draw an error; defects injected into them (and into Penn Action clips, for the
rules over time) must be caught.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from posekit.cli_qa import qa_command
from posekit.datasets import read_penn_clip, read_posetrack18
from posekit.qa import QAData, Severity, agreement, load_qa_input, run_qa
from posekit.qa.inject import DEFECT_KINDS, caught, inject_coco, inject_sequence
from posekit.skeletons import get_skeleton

pytestmark = pytest.mark.integration

COCO_MINI = "1_images_2d_keypoints/coco_mini/annotations/person_keypoints_train2017.present_images_only.json"
MMPOSE_COCO = "1_images_2d_keypoints/mmpose/tests/data/coco/test_coco.json"
PENN = "2_video_tracking/penn_action_labels_via_samaonline/labels"
POSETRACK = "2_video_tracking/mmpose/tests/data/posetrack18/annotations/test_posetrack18_val.json"


@pytest.fixture(scope="module")
def coco_paths(data_dir: Path) -> list[Path]:
    return [data_dir / COCO_MINI, data_dir / MMPOSE_COCO]


@pytest.fixture(scope="module")
def penn_clips(data_dir: Path):
    files = sorted((data_dir / PENN).glob("*.mat"))
    assert len(files) > 500
    return [read_penn_clip(f).poses for f in files[::8]]


def test_clean_coco_people_rarely_get_an_error(coco_paths):
    people = errors = 0
    for path in coco_paths:
        data = load_qa_input(path)
        res = run_qa(data)
        assert "topology.proportion" in res.ran and "state.missing_with_position" in res.ran
        labelled = data.checked & data.present.any(-1)
        people += int(labelled.sum())
        errors += len({(f.row, f.person) for f in res.findings if f.severity == Severity.ERROR})
    assert people == 98
    assert errors <= 0.05 * people


def test_injected_defects_in_coco_annotations_are_caught(coco_paths, tmp_path):
    sk = get_skeleton("coco17")
    rng = np.random.default_rng(0)
    total = hit = 0
    for kind in ("swap", "stretch", "knee", "state"):
        n = k = 0
        for path in coco_paths:
            new, injs = inject_coco(json.loads(path.read_text()), sk, kind, rng)
            p = tmp_path / f"{kind}.json"
            p.write_text(json.dumps(new))
            res = run_qa(load_qa_input(p))
            n += len(injs)
            k += sum(caught(i, res.findings) for i in injs)
            # a defect on one person does not spill over onto the unchanged people of its image
            changed = {(i.image_id, i.annotation_id) for i in injs}
            assert all((f.image_id, f.annotation_id) in changed for f in res.findings if f.severity == Severity.ERROR)
        assert n >= 35, kind
        assert k >= 0.85 * n, f"{kind}: caught {k} of {n}"
        total += n
        hit += k
    assert hit >= 0.95 * total, f"caught {hit} of {total}"


def test_injected_defects_in_penn_action_sequences_are_caught(penn_clips):
    rng = np.random.default_rng(1)
    for kind in DEFECT_KINDS:
        n = k = 0
        for seq in penn_clips:
            base = run_qa(seq).findings
            bad, inj = inject_sequence(seq, kind, rng)
            if inj is None:
                continue
            n += 1
            k += caught(inj, run_qa(bad).findings, base)
        assert n >= 50, kind
        assert k >= 0.95 * n, f"{kind}: caught {k} of {n}"


def test_clean_penn_action_frames_rarely_get_an_error(penn_clips):
    frames = flagged = 0
    for seq in penn_clips:
        res = run_qa(seq)
        assert "continuity.acceleration" in res.ran and "bone_length.stability" in res.ran
        frames += len(seq)
        flagged += len({f.row for f in res.findings if f.severity == Severity.ERROR})
    assert flagged <= 0.05 * frames


def test_posetrack_ground_truth_checks_in_its_own_layout(data_dir):
    ds = read_posetrack18(data_dir / POSETRACK)
    res = run_qa(QAData.from_coco(ds))
    assert ds.skeleton.name == "posetrack17" and "topology.proportion" in res.ran
    assert sum(f.severity == Severity.ERROR for f in res.findings) == 0


def test_agreement_on_real_annotations(data_dir, tmp_path):
    src = data_dir / MMPOSE_COCO
    doc = json.loads(src.read_text())
    same = agreement([src, src])
    assert same.mean_oks == 1.0 and len([p for p in same.people if p["oks"] is not None]) == 12  # 2 have no keypoints
    labelled = np.isfinite(same.oks_per_keypoint)
    assert labelled.all() and np.all(same.oks_per_keypoint == 1.0)
    shifted = copy.deepcopy(doc)
    j = get_skeleton("coco17").index("left_knee")
    moved = 0
    for a in shifted["annotations"]:
        if a["keypoints"][3 * j + 2] > 0:
            a["keypoints"][3 * j] += 4.0
            a["keypoints"][3 * j + 1] -= 2.0
            moved += 1
    b = tmp_path / "b.json"
    b.write_text(json.dumps(shifted))
    res = agreement([src, b])
    assert res.bias_of(str(b))["left_knee"] == pytest.approx((4.0, -2.0), abs=1e-9)
    assert res.bias_count[1, j] == moved > 0
    assert all(v == pytest.approx((0.0, 0.0), abs=1e-9) for k, v in res.bias_of(str(b)).items()
               if k != "left_knee" and v is not None)  # fmt: skip
    assert 0.9 < res.oks_per_keypoint[j] < 1.0 and res.mean_oks < 1.0


def test_qa_command_on_real_annotations_with_images(data_dir, tmp_path):
    app = typer.Typer()
    app.command("qa")(qa_command)
    app.command("noop")(lambda: None)
    src = data_dir / MMPOSE_COCO
    out = tmp_path / "f.json"
    run = CliRunner().invoke(app, ["qa", str(src), "-o", str(out), "--images", str(src.parent), "--strict",
                                   "--report", str(tmp_path / "r.html")])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert json.loads(out.read_text()) == {"findings": []}
    run = CliRunner().invoke(app, ["qa", str(data_dir / COCO_MINI), "-o", str(out), "--images", str(src.parent)])
    assert run.exit_code == 2 and "which is not in" in run.output
