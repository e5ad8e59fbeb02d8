"""Dataset readers on the real shared samples: counts from MANIFEST.tsv, and facts the geometry must obey."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import posekit.datasets as D
from posekit.io.coco import write_coco_results
from posekit.poses import KeypointState as S
from posekit.skeletons import get_skeleton

pytestmark = pytest.mark.integration

BODY2D = "1_images_2d_keypoints/mmpose/tests/data"
VIDEO = "2_video_tracking/mmpose/tests/data"
PENN = "2_video_tracking/penn_action_labels_via_samaonline"
H36M = "3_3d_ground_truth/mmpose/tests/data/h36m"
MPI3DHP = "3_3d_ground_truth/mmpose/tests/data/mpi_inf_3dhp"
PANOPTIC = "3_3d_ground_truth/mmpose_at_85abc0e/tests/data/panoptic_body3d/160906_band1"
HANDS = "6_hands/mmpose/tests/data"
FACES = "6_faces/mmpose/tests/data"


def labelled(ds) -> int:
    return sum(int(f.present.any(1).sum()) for f in ds.frames.values())


def check_against_raw(path: Path, ds, flags: str) -> None:
    """Every annotation's coordinates and flags, as read, equal the raw JSON (MISSING = NaN)."""
    raw = json.loads(path.read_text())
    k = len(ds.skeleton)
    by_img: dict = {}
    for a in raw["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    for iid, f in ds.frames.items():
        anns = by_img.get(iid, [])
        assert len(f) == len(anns)
        for n, a in enumerate(anns):
            kp = np.asarray(a["keypoints"], float).reshape(k, 3)
            lab = kp[:, 2] > 0
            np.testing.assert_array_equal(f.xy[n][lab], kp[lab, :2])
            assert np.isnan(f.xy[n][~lab]).all()
            occluded = S.OCCLUDED if flags == "coco" else S.VISIBLE
            want = np.select([kp[:, 2] == 2, kp[:, 2] == 1], [S.VISIBLE, occluded], S.MISSING)
            np.testing.assert_array_equal(f.state[n], want)


# --- 2D body ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reader", "rel", "flags", "counts"),
    [
        (D.read_coco_keypoints, "coco/test_coco.json", "coco", (4, 14, 12)),
        (D.read_crowdpose, "crowdpose/test_crowdpose.json", "coco", (2, 5, 4)),
        (D.read_aic, "aic/test_aic.json", "coco", (3, 9, 9)),
        (D.read_mhp, "mhp/test_mhp.json", "coco", (2, 4, 4)),
    ],
    ids=["coco", "crowdpose", "aic", "mhp"],
)
def test_coco_style_body_files(data_dir, reader, rel, flags, counts):
    p = data_dir / BODY2D / rel
    ds = reader(p)
    assert (len(ds.images), ds.num_annotations, labelled(ds)) == counts
    check_against_raw(p, ds, flags)


def test_coco_mini_counts(data_dir):
    p = data_dir / "1_images_2d_keypoints/coco_mini/annotations/person_keypoints_train2017.present_images_only.json"
    ds = D.read_coco_keypoints(p)
    assert (len(ds.images), ds.num_annotations, labelled(ds)) == (28, 147, 86)


def test_crowdpose_left_right_and_head_above_neck(data_dir):
    ds = D.read_crowdpose(data_dir / BODY2D / "crowdpose/test_crowdpose.json")
    sk = ds.skeleton
    for f in ds.frames.values():
        for n in range(len(f)):
            ht, nk = f.xy[n, sk.index("head_top")], f.xy[n, sk.index("neck")]
            if np.isfinite(ht).all() and np.isfinite(nk).all():
                assert ht[1] < nk[1]  # the head top lies above the neck in the image


def test_mpii(data_dir):
    ds = D.read_mpii(data_dir / BODY2D / "mpii/test_mpii.json")
    assert len(ds.images) == 5 and ds.num_annotations == 5
    f = ds.frames["051423444.jpg"]
    sk = f.skeleton
    assert f.state[0, sk.index("right_ankle")] == S.MISSING and np.isnan(f.xy[0, 0]).all()  # stored as -1, -1
    for f in ds.frames.values():
        top, neck = f.xy[0, sk.index("head_top")], f.xy[0, sk.index("upper_neck")]
        assert top[1] < neck[1]


# --- video: PoseTrack18 / JHMDB ----------------------------------------------------------------------------
def test_posetrack18_people_tracks_and_videos(data_dir):
    p = data_dir / VIDEO / "posetrack18/annotations/test_posetrack18_val.json"
    ds = D.read_posetrack18(p)
    assert ds.skeleton.name == "posetrack17"
    assert len(ds.images) == 3 and ds.num_annotations == 14 and labelled(ds) == 14
    check_against_raw(p, ds, "labelled")
    assert len(D.track_ids(ds)) == 14
    seqs = D.to_sequences(ds)
    assert {v: s.num_individuals for v, s in seqs.items()} == {"012834": 11, "009473": 2, "003418": 1}
    for s in seqs.values():
        assert s.frame.tolist() == [0] and s.time.tolist() == [0.0]
        ears = [s.skeleton.index("left_ear"), s.skeleton.index("right_ear")]
        assert (s.state[:, :, ears] == S.MISSING).all()  # PoseTrack never labels ears
    # the per-video files hold the same people
    for vid, s in seqs.items():
        per = D.read_posetrack18(data_dir / VIDEO / f"posetrack18/annotations/val/{vid}_mpii_test.json")
        (f,) = per.frames.values()
        np.testing.assert_array_equal(f.track_id, s.track_id)
        np.testing.assert_array_equal(f.xy, s.xy[0])


def test_jhmdb(data_dir):
    ds = D.read_jhmdb(data_dir / VIDEO / "jhmdb/test_jhmdb_sub1.json")
    assert len(ds.images) == 3 and ds.num_annotations == 3
    assert all(f.frame == 1 and f.track_id.tolist() == [0] for f in ds.frames.values())
    assert len(D.to_sequences(ds, fps=30.0)) == 3


# --- Penn Action -------------------------------------------------------------------------------------------
def test_penn_index_and_all_present_clips(data_dir):
    entries = D.read_penn_index(data_dir / PENN / "INDEX_derived.csv")
    assert len(entries) == 1163
    actions = {"squat", "pushup", "pullup", "situp", "jumping_jacks", "bench_press", "jump_rope", "clean_and_jerk"}
    assert set(e.action for e in entries) == actions
    clips = list(D.iter_penn_clips(data_dir / PENN / "labels", entries=entries, skip_absent=True))
    assert len(clips) == 581  # the ~580 shared clips, each matching its index row
    assert set(c.action for c in clips) == actions
    c = next(c for c in clips if c.name == "0342")
    assert (c.action, c.view, c.num_frames, c.width, c.height, c.train) == ("bench_press", "right", 58, 480, 318, False)
    assert c.poses.skeleton.name == "penn13" and c.poses.xy.shape == (58, 1, 13, 2)
    counts = np.bincount(np.concatenate([c.poses.state.ravel() for c in clips]), minlength=3)
    assert counts[S.MISSING] == 84983 and counts[S.OCCLUDED] == 54684  # placeholders vs hidden-but-placed
    for c in clips:
        s = c.poses
        assert np.isnan(s.xy[~s.present]).all() and np.isfinite(s.xy[s.present]).all()


def test_penn_left_right_follow_the_person(data_dir):
    """In front views the person's left shoulder appears on the image right; in back views on the left."""
    sk = get_skeleton("penn13")
    left, right = sk.index("left_shoulder"), sk.index("right_shoulder")
    votes: dict[str, list[bool]] = {"front": [], "back": []}
    for c in D.iter_penn_clips(data_dir / PENN / "labels"):
        if c.view not in votes:
            continue
        st, xy = c.poses.state[:, 0], c.poses.xy[:, 0]
        both = (st[:, left] == S.VISIBLE) & (st[:, right] == S.VISIBLE)
        if both.sum() >= 5:
            votes[c.view].append(bool(np.mean(xy[both, left, 0] > xy[both, right, 0]) > 0.5))
    assert np.mean(votes["front"]) > 0.95 and len(votes["front"]) > 100
    assert np.mean(votes["back"]) < 0.05 and len(votes["back"]) > 20


# --- 3D: Human3.6M, MPI-INF-3DHP, CMU Panoptic ------------------------------------------------------------
def bone_lengths(world: np.ndarray, sk, pairs) -> dict[str, float]:
    return {f"{a}-{b}": float(np.linalg.norm(world[sk.index(a)] - world[sk.index(b)])) for a, b in pairs}


LIMB_PAIRS = [(f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b in
              (("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist"))]  # fmt: skip


def test_h36m_frames_cameras_and_metric_bones(data_dir):
    cams = D.read_h36m_cameras(data_dir / H36M / "cameras.pkl")
    assert len(cams) == 44
    samples = D.read_h36m_npz(data_dir / H36M / "test_h36m_body3d.npz", cams)
    assert [s.subject for s in samples] == ["S1", "S5", "S7", "S8"]
    coco = D.read_h36m_coco(data_dir / H36M / "h36m_coco.json")
    sk = get_skeleton("h36m17")
    for s, wf in zip(samples, coco.frames.values()):
        f = s.poses
        assert len(f) == 1 and (f.state == S.VISIBLE).all()
        # the 3D ground truth reprojects onto the 2D ground truth with H36M's distortion model
        assert np.abs(s.camera.camera_to_pixels(f.world[0]) - f.xy[0]).max() < 1e-3
        # world-frame joints of h36m_coco.json map to the camera-frame joints of the npz
        assert np.abs(s.camera.world_to_camera(wf.world[0]) - f.world[0]).max() < 1e-6
        np.testing.assert_allclose(wf.xy[0], f.xy[0], atol=1e-3)
        bones = bone_lengths(f.world[0], sk, LIMB_PAIRS)
        for side_l, side_r in zip(LIMB_PAIRS[:4], LIMB_PAIRS[4:]):
            a, b = bones["-".join(side_l)], bones["-".join(side_r)]
            assert 0.2 < a < 0.55 and abs(a - b) < 0.01  # metres; H36M limbs are symmetric
        # handedness: with index 11 as the left shoulder, the head joint lies in front of the trunk
        w = f.world[0]
        up = w[sk.index("thorax")] - w[sk.index("pelvis")]
        fwd = np.cross(w[sk.index("left_shoulder")] - w[sk.index("right_shoulder")], up)
        mid = (w[sk.index("thorax")] + w[sk.index("head_top")]) / 2
        assert np.dot(fwd / np.linalg.norm(fwd), w[sk.index("head")] - mid) > 0.02
        # right_hip (index 1) lies on the side of the right shoulder
        assert np.linalg.norm(w[1] - w[14]) < np.linalg.norm(w[1] - w[11])


def test_3dhp_frames(data_dir):
    for npz, pkl, n in (("test_3dhp_train.npz", "cameras_train.pkl", 2), ("test_3dhp_test.npz", "cameras_test.pkl", 2)):
        cams = D.read_3dhp_cameras(data_dir / MPI3DHP / pkl)
        samples = D.read_3dhp_npz(data_dir / MPI3DHP / npz, cams)
        assert len(samples) == n
        for s in samples:
            f = s.poses
            err = np.abs(s.camera.camera_to_pixels(f.world[0]) - f.xy[0])[f.present[0]]
            assert err.max() < 3.0  # pinhole, no distortion given
            assert 2.0 < np.nanmin(f.world[0, :, 2]) < 8.0  # metres in front of the camera


def test_panoptic_20_frames_3_people(data_dir):
    cams = D.read_panoptic_calibration(data_dir / PANOPTIC / "calibration_160906_band1.json")
    assert len(cams) == 520 and Counter(n.split("_")[0] == "00" for n in cams)[True] == 31
    s = D.read_panoptic_body3d(data_dir / PANOPTIC / "hdPose3d_stage1_coco19", cameras=cams, camera="00_00")
    assert s.xy.shape == (20, 3, 19, 2) and s.track_id.tolist() == [0, 1, 2]
    assert s.frame.tolist() == list(range(168, 188))
    np.testing.assert_allclose(np.diff(s.time), 1 / 29.97)
    assert s.present.any(-1).all()  # all three people in every frame
    sk = s.skeleton
    ok = []  # limb lengths between confidently reconstructed joints (score > 0.2) are human, in metres
    for t in range(20):
        for i in range(3):
            for a, b in LIMB_PAIRS:
                ja, jb = sk.index(a), sk.index(b)
                if min(s.score[t, i, ja], s.score[t, i, jb]) > 0.2:
                    ok.append(0.15 < np.linalg.norm(s.world[t, i, ja] - s.world[t, i, jb]) < 0.6)
    assert len(ok) > 300 and np.mean(ok) > 0.95
    inside = (s.xy[..., 0] >= 0) & (s.xy[..., 0] < 1920) & (s.xy[..., 1] >= 0) & (s.xy[..., 1] < 1080)
    assert inside[s.present].mean() > 0.5
    # Panoptic's body centre is the hip midpoint (what derive_midpoints uses): 55 of the 57 cases
    both = s.present[..., sk.index("left_hip")] & s.present[..., sk.index("right_hip")] & s.present[..., 2]
    mid = (s.world[..., sk.index("left_hip"), :] + s.world[..., sk.index("right_hip"), :]) / 2
    close = np.linalg.norm(mid[both] - s.world[..., 2, :][both], axis=-1) < 1e-4
    assert both.sum() == 57 and close.sum() == 55


# --- hands -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reader", "rel", "counts"),
    [
        (D.read_freihand, "freihand/test_freihand.json", (8, 8)),
        (D.read_onehand10k, "onehand10k/test_onehand10k.json", (4, 4)),
        (D.read_panoptic_hands, "panoptic/test_panoptic.json", (4, 4)),
        (D.read_rhd, "rhd/test_rhd.json", (3, 3)),
    ],
    ids=["freihand", "onehand10k", "panoptic", "rhd"],
)
def test_hand_files(data_dir, reader, rel, counts):
    ds = reader(data_dir / HANDS / rel)
    assert ds.skeleton.name == "hand21"
    assert (len(ds.images), ds.num_annotations) == counts and labelled(ds) == counts[1]
    # in hand21 order each finger runs from its base outwards: the tip is farther from the wrist than the base
    sk = ds.skeleton
    farther = []
    for f in ds.frames.values():
        for n in range(len(f)):
            for finger in ("index_finger", "middle_finger", "ring_finger", "pinky"):
                base, tip, wrist = (f.xy[n, sk.index(x)] for x in (f"{finger}_mcp", f"{finger}_tip", "wrist"))
                if np.isfinite([*base, *tip, *wrist]).all():
                    farther.append(np.linalg.norm(tip - wrist) > np.linalg.norm(base - wrist))
    assert np.mean(farther) > 0.7  # 0.75–1.0 on these files; a reversed order gives 0–0.25


def test_rhd_file_is_tip_first_and_world_is_metric(data_dir):
    p = data_dir / HANDS / "rhd/test_rhd.json"
    ds = D.read_rhd(p)
    sk = ds.skeleton
    tip_first = []
    for a in json.loads(p.read_text())["annotations"]:
        raw = np.asarray(a["keypoints"], float)[:, :2]
        for b in range(1, 21, 4):  # each finger block of the file: first entry farther from the wrist
            tip_first.append(np.linalg.norm(raw[b] - raw[0]) > np.linalg.norm(raw[b + 3] - raw[0]))
        f = ds.frames[a["image_id"]]
        np.testing.assert_array_equal(f.xy[0, sk.index("thumb_tip")], raw[1])
        np.testing.assert_array_equal(f.xy[0, sk.index("thumb_cmc")], raw[4])
    assert np.mean(tip_first) > 0.8
    for img_id, f in ds.frames.items():
        cp = ds.images[img_id]["cam_param"]
        w = f.world[0]
        np.testing.assert_allclose(w[:, :2] / w[:, 2:] * cp["focal"] + cp["princpt"], f.xy[0], atol=0.1)
        assert 0.02 < np.linalg.norm(w[sk.index("wrist")] - w[sk.index("middle_finger_mcp")]) < 0.15


def test_interhand(data_dir):
    d = data_dir / HANDS / "interhand2.6m"
    ds = D.read_interhand(d / "test_interhand2.6m_data.json", d / "test_interhand2.6m_joint_3d.json",
                          d / "test_interhand2.6m_camera.json")  # fmt: skip
    assert len(ds.images) == 4 and ds.num_annotations == 6
    sides = sorted(tuple(f.extras["handedness"].tolist()) for f in ds.frames.values())
    assert sides == [("left",), ("right",), ("right", "left"), ("right", "left")]
    sk = ds.skeleton
    for f in ds.frames.values():
        for n in range(len(f)):
            assert 0.05 < np.linalg.norm(f.world[n, sk.index("wrist")] - f.world[n, sk.index("middle_finger_mcp")]) < 0.12
            x0, y0, x1, y1 = f.box[n]
            assert ((f.xy[n, :, 0] > x0 - 10) & (f.xy[n, :, 0] < x1 + 10) & (f.xy[n, :, 1] > y0 - 10) & (f.xy[n, :, 1] < y1 + 10)).all()


# --- faces -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dataset", "rel", "counts"),
    [
        ("300w", "300w/test_300w.json", (2, 2)),
        ("300wlp", "300wlp/test_300wlp.json", (2, 2)),
        ("300vw", "300vw/anno_300vw.json", (3, 3)),
        ("wflw", "wflw/test_wflw.json", (2, 4)),
        ("cofw", "cofw/test_cofw.json", (2, 2)),
        ("aflw", "aflw/test_aflw.json", (2, 2)),
        ("lapa", "lapa/test_lapa.json", (2, 2)),
    ],
)
def test_face_files(data_dir, dataset, rel, counts):
    ds = D.read_face_coco(data_dir / FACES / rel, dataset)
    assert (len(ds.images), ds.num_annotations) == counts and labelled(ds) == counts[1]
    pair = D.NME_NORM_INDICES[ds.skeleton.name]
    for f in ds.frames.values():
        for n in range(len(f)):
            width = np.nanmax(f.xy[n, :, 0]) - np.nanmin(f.xy[n, :, 0])
            if pair is not None:  # outer eye corners: a sizeable part of the face width
                d = np.linalg.norm(f.xy[n, pair[0]] - f.xy[n, pair[1]])
                assert 0.2 * width < d <= width


def test_300vw_pts_match_json(data_dir):
    ds = D.read_face_coco(data_dir / FACES / "300vw/anno_300vw.json", "300vw")
    for iid, img in ds.images.items():
        vid, _, name = img["file_name"].split("/")
        f = D.read_pts(data_dir / FACES / "300vw" / vid / "annot" / name.replace(".jpg", ".pts"))
        np.testing.assert_allclose(f.xy, ds.frames[iid].xy, atol=1e-9)


# --- predictions -------------------------------------------------------------------------------------------
def test_ground_truth_as_results_round_trips(data_dir, tmp_path):
    gt = D.read_coco_keypoints(data_dir / BODY2D / "coco/test_coco.json")
    write_coco_results(tmp_path / "res.json", gt.frames)
    aligned = D.align_to_gt(D.read_predictions(tmp_path / "res.json", gt), gt)
    for iid, f in gt.frames.items():
        np.testing.assert_array_equal(aligned[iid].xy, f.xy)
        np.testing.assert_array_equal(aligned[iid].state, f.state)
