"""Dataset layouts, conversion tables and readers, on small synthetic files written in tmp_path."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import posekit.datasets as D
from posekit.datasets.cameras import Camera
from posekit.errors import InputError
from posekit.io.coco import write_coco, write_coco_results
from posekit.io.posekit_json import save_poses
from posekit.poses import KeypointState as S
from posekit.poses import PoseFrame, PoseSequence
from posekit.skeletons import CONVERSIONS, SKELETONS, get_conversion, get_skeleton

LIMBS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
BODY_LAYOUTS = ("crowdpose14", "posetrack17", "mpii16", "aic14", "jhmdb15", "h36m17", "mpi3dhp17", "penn13", "panoptic19")


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


def frame_of(layout: str, xy: np.ndarray, state: np.ndarray | None = None, **kw) -> PoseFrame:
    sk = get_skeleton(layout)
    xy = np.asarray(xy, float)
    state = np.full(xy.shape[:2], S.VISIBLE, np.uint8) if state is None else np.asarray(state, np.uint8)
    xy = np.where((state == S.MISSING)[..., None], np.nan, xy)
    return PoseFrame(sk, xy, (state != 0).astype(np.float32), state, **kw)


# ---------------------------------------------------------------------------------------------------
# layouts
# ---------------------------------------------------------------------------------------------------
def test_layout_orders_are_the_datasets_own():
    assert get_skeleton("h36m17").keypoints[:7] == (
        "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    )  # fmt: skip
    assert get_skeleton("h36m17").keypoints[11] == "left_shoulder"
    assert get_skeleton("h36m17").keypoints[14] == "right_shoulder"
    assert get_skeleton("penn13").keypoints[:3] == ("head", "right_shoulder", "left_shoulder")
    assert get_skeleton("crowdpose14").keypoints[12:] == ("head_top", "neck")
    assert get_skeleton("posetrack17").keypoints[:5] == ("nose", "head_bottom", "head_top", "left_ear", "right_ear")
    assert get_skeleton("mpii16").keypoints[6:10] == ("pelvis", "thorax", "upper_neck", "head_top")
    assert get_skeleton("aic14").keypoints[0] == "right_shoulder" and get_skeleton("aic14").keypoints[12] == "head_top"
    assert get_skeleton("panoptic19").keypoints[:3] == ("neck", "nose", "body_center")
    assert get_skeleton("mpi3dhp17").keypoints[14] == "pelvis"
    assert get_skeleton("rhd21").keypoints[:5] == ("wrist", "thumb_tip", "thumb_ip", "thumb_mcp", "thumb_cmc")
    assert get_skeleton("interhand21").keypoints[0] == "thumb_tip" and get_skeleton("interhand21").keypoints[20] == "wrist"
    for name, k in (("face68", 68), ("wflw98", 98), ("cofw29", 29), ("aflw19", 19), ("lapa106", 106)):
        assert len(get_skeleton(name)) == k


@pytest.mark.parametrize("layout", BODY_LAYOUTS)
def test_body_layouts_flip_pairs_bones_and_angles(layout):
    sk = get_skeleton(layout)
    for a, b in sk.flip_pairs:
        na, nb = sk.keypoints[a], sk.keypoints[b]
        assert na.startswith("left_") and nb == "right_" + na[5:]
    assert len(sk.flip_pairs) == sum(n.startswith("left_") for n in sk.keypoints)
    assert {n for e in sk.edges for n in (sk.keypoints[e[0]], sk.keypoints[e[1]])} >= set(LIMBS)
    assert {a.name for a in sk.angles} >= {"left_knee", "right_elbow"}


def test_sigmas_where_known():
    assert get_skeleton("crowdpose14").sigmas_array[12:].tolist() == [0.079, 0.079]
    assert get_skeleton("posetrack17").sigmas == get_skeleton("coco17").sigmas
    assert get_skeleton("mpii16").sigmas_array[12] == pytest.approx(0.179)
    assert get_skeleton("aic14").sigmas_array[0] == pytest.approx(0.01388152)
    assert get_skeleton("h36m17").sigmas is None


# ---------------------------------------------------------------------------------------------------
# conversion tables, checked by names
# ---------------------------------------------------------------------------------------------------
NO_COUNTERPART = {
    "crowdpose14": {"head_top", "neck"},
    "posetrack17": {"head_bottom", "head_top"},
    "mpii16": {"pelvis", "thorax", "upper_neck", "head_top"},
    "aic14": {"head_top", "neck"},
    "jhmdb15": {"neck", "belly", "head"},
    "h36m17": {"pelvis", "spine", "thorax", "head", "head_top"},
    "mpi3dhp17": {"head_top", "neck", "pelvis", "spine", "head"},
    "penn13": {"head"},
    "panoptic19": {"neck", "body_center"},
}


@pytest.mark.parametrize("src", ["blazepose33", "coco17"])
@pytest.mark.parametrize("dst", BODY_LAYOUTS)
def test_tables_from_blazepose_and_coco_map_same_named_points_only(src, dst):
    conv = get_conversion(src, dst)
    s, d = get_skeleton(src), get_skeleton(dst)
    unmapped = {d.keypoints[j] for j, i in enumerate(conv.index) if i < 0}
    assert unmapped == NO_COUNTERPART[dst]
    for j, i in enumerate(conv.index):
        if i >= 0:
            assert s.keypoints[i] == d.keypoints[j]
    assert not conv.exact


def test_specific_correspondences():
    bp, h36 = get_skeleton("blazepose33"), get_skeleton("h36m17")
    conv = get_conversion("blazepose33", "h36m17")
    assert conv.index[h36.index("right_hip")] == bp.index("right_hip") == 24
    assert conv.index[h36.index("left_ankle")] == bp.index("left_ankle") == 27
    assert conv.index[h36.index("head")] == -1  # H36M's head joint is not the nose
    penn = get_conversion("blazepose33", "penn13")
    assert penn.index[0] == -1  # Penn's head point is not the nose
    assert penn.index[1] == bp.index("right_shoulder")
    pt = get_conversion("coco17", "posetrack17")
    assert pt.index[:5] == (0, -1, -1, 3, 4)
    back = get_conversion("posetrack17", "coco17")
    assert back.index[:5] == (0, -1, -1, 3, 4)
    pan = get_conversion("blazepose33", "panoptic19")
    names = get_skeleton("panoptic19").keypoints
    assert bp.keypoints[pan.index[names.index("left_ear")]] == "left_ear"


@pytest.mark.parametrize("dst", BODY_LAYOUTS)
def test_tables_back_to_coco(dst):
    conv = get_conversion(dst, "coco17")
    s, c = get_skeleton(dst), get_skeleton("coco17")
    for j, i in enumerate(conv.index):
        if i >= 0:
            assert s.keypoints[i] == c.keypoints[j]
    mapped = {c.keypoints[j] for j, i in enumerate(conv.index) if i >= 0}
    assert mapped == set(c.keypoints) & set(s.keypoints)


def test_hand_reorders_are_exact_permutations():
    h = get_skeleton("hand21")
    for lay in ("rhd21", "interhand21"):
        fwd, back = get_conversion(lay, "hand21"), get_conversion("hand21", lay)
        assert fwd.exact and sorted(fwd.index) == list(range(21))
        src = get_skeleton(lay)
        assert all(src.keypoints[i] == h.keypoints[j] for j, i in enumerate(fwd.index))
        assert [fwd.index[i] for i in back.index] == list(range(21))
    # RHD: thumb tip at index 1 of the file lands at hand21's thumb_tip (4)
    assert get_conversion("rhd21", "hand21").index[4] == 1
    assert get_conversion("interhand21", "hand21").index[0] == 20


def test_conversion_applies_to_frames_with_missing_targets():
    bp = get_skeleton("blazepose33")
    xy = np.arange(33 * 2, dtype=float).reshape(1, 33, 2)
    f = frame_of("blazepose33", xy)
    h = f.to_skeleton("h36m17")
    assert h.state[0, h.skeleton.index("pelvis")] == S.MISSING
    assert np.isnan(h.xy[0, h.skeleton.index("pelvis")]).all()
    np.testing.assert_array_equal(h.xy[0, h.skeleton.index("right_hip")], xy[0, bp.index("right_hip")])


def test_no_conversion_between_unrelated_layouts():
    with pytest.raises(KeyError):
        get_conversion("crowdpose14", "h36m17")
    assert ("hand21", "coco17") not in CONVERSIONS
    assert "penn13" in SKELETONS


# ---------------------------------------------------------------------------------------------------
# derived midpoints
# ---------------------------------------------------------------------------------------------------
def test_derive_midpoints_pelvis_from_hips():
    bp = get_skeleton("blazepose33")
    xy = np.zeros((2, 33, 2))
    xy[:, bp.index("left_hip")] = [10.0, 20.0]
    xy[:, bp.index("right_hip")] = [30.0, 40.0]
    state = np.full((2, 33), S.VISIBLE, np.uint8)
    state[0, bp.index("right_hip")] = S.OCCLUDED
    state[1, bp.index("left_hip")] = S.MISSING
    world = np.zeros((2, 33, 3))
    world[:, bp.index("left_hip")] = [0.1, 0.0, 0.0]
    world[:, bp.index("right_hip")] = [-0.1, 0.0, 0.2]
    f = frame_of("blazepose33", xy, state, world=np.where((state == 0)[..., None], np.nan, world))
    plain = D.convert(f, "h36m17")
    h = D.convert(f, "h36m17", derived=True)
    j = h.skeleton.index("pelvis")
    assert plain.state[0, j] == S.MISSING
    np.testing.assert_allclose(h.xy[0, j], [20.0, 30.0])
    np.testing.assert_allclose(h.world[0, j], [0.0, 0.0, 0.1])
    assert h.state[0, j] == S.OCCLUDED  # one source occluded
    assert h.state[1, j] == S.MISSING and np.isnan(h.xy[1, j]).all()  # a source missing
    assert h.state[0, h.skeleton.index("thorax")] == S.MISSING  # thorax is never derived


def test_derive_midpoints_on_sequences_logs_provenance():
    f = frame_of("blazepose33", np.ones((1, 33, 2)))
    seq = PoseSequence.from_frames([f, f], fps=10)
    out = D.convert(seq, "panoptic19", derived=True)
    names = out.skeleton.keypoints
    assert (out.state[:, :, names.index("neck")] == S.VISIBLE).all()
    assert out.provenance[-1]["step"] == "derive_midpoints"
    assert not any(p["step"] == "derive_midpoints" for p in seq.provenance)


# ---------------------------------------------------------------------------------------------------
# COCO-style files
# ---------------------------------------------------------------------------------------------------
def crowdpose_doc(kps=None, **ann):
    kps = kps if kps is not None else [0, 0, 0] + [10, 20, 2] * 11 + [5, 6, 1, 7, 8, 1]
    a = {"id": 1, "image_id": 7, "category_id": 1, "keypoints": kps, "bbox": [1, 2, 30, 40], "iscrowd": 0, **ann}
    return {
        "categories": [{"id": 1, "name": "person", "keypoints": ["x"] * 14}],
        "images": [{"id": 7, "file_name": "7.jpg", "width": 64, "height": 48}],
        "annotations": [a],
    }


def test_crowdpose_flags_boxes_and_missing_as_nan(tmp_path):
    ds = D.read_crowdpose(write_json(tmp_path / "c.json", crowdpose_doc()))
    f = ds.frames[7]
    assert ds.skeleton.name == "crowdpose14" and f.image_size == (64, 48)
    assert f.state[0].tolist() == [S.MISSING] + [S.VISIBLE] * 11 + [S.OCCLUDED] * 2
    assert np.isnan(f.xy[0, 0]).all()  # never (0, 0)
    np.testing.assert_array_equal(f.xy[0, 12], [5, 6])
    np.testing.assert_array_equal(f.box[0], [1, 2, 31, 42])


def test_labelled_flags_and_nested_keypoints_and_float_flags(tmp_path):
    doc = crowdpose_doc(kps=[[1.0, 2.0, 1.0]] * 13 + [[0.0, 0.0, 0.0]], iscrowd=False, track_id=3)
    doc["categories"][0]["keypoints"] = []  # face files list no names
    from posekit.datasets._cocolike import read_coco_style

    ds = read_coco_style(write_json(tmp_path / "n.json", doc), "crowdpose14", flags="labelled")
    f = ds.frames[7]
    assert f.state[0].tolist() == [S.VISIBLE] * 13 + [S.MISSING]
    assert f.track_id.tolist() == [3] and not ds.iscrowd[7][0]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["annotations"][0].update(keypoints=[1, 2, 2] * 13), "'keypoints' has 39 values, expected 3×14=42"),
        (lambda d: d["annotations"][0]["keypoints"].__setitem__(2, 3), "visibility flag 3"),
        (lambda d: d["annotations"][0]["keypoints"].__setitem__(3, "a"), "'keypoints' must hold numbers"),
        (lambda d: d["annotations"][0]["keypoints"].__setitem__(3, float("nan")), "non-finite"),
        (lambda d: d["annotations"][0].update(image_id=99), "'image_id' 99 is not in 'images'"),
        (lambda d: d["annotations"][0].update(bbox=[1, 2]), "'bbox' has shape (2,)"),
        (lambda d: d["annotations"][0].update(track_id="a"), "'track_id'"),
        (lambda d: d["annotations"].append(dict(d["annotations"][0])), "appears twice"),
        (lambda d: d["categories"][0].update(keypoints=["a"] * 17), "lists 17 keypoints, but the layout has 14"),
        (lambda d: d.pop("annotations"), "missing top-level field 'annotations'"),
        (lambda d: d["images"].append({"file_name": "x"}), "images[1] has no field 'id'"),
    ],
)
def test_coco_style_errors_name_file_and_field(tmp_path, mutate, message):
    doc = crowdpose_doc()
    mutate(doc)
    p = write_json(tmp_path / "bad.json", doc)
    with pytest.raises(InputError) as e:
        D.read_crowdpose(p)
    assert message in str(e.value) and str(p) in str(e.value)


def test_file_level_errors(tmp_path):
    empty = tmp_path / "e.json"
    empty.write_text("")
    for p, msg in ((empty, "empty"), (tmp_path / "none.json", "not found"), (write_json(tmp_path / "l.json", []), "JSON list")):
        with pytest.raises(InputError, match=msg):
            D.read_crowdpose(p)
    (tmp_path / "t.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        D.read_aic(tmp_path / "t.json")


def test_unknown_layout_is_an_input_error(tmp_path):
    from posekit.datasets._cocolike import read_coco_style

    p = write_json(tmp_path / "c.json", crowdpose_doc())
    with pytest.raises(InputError, match="unknown keypoint layout 'body99'") as e:
        read_coco_style(p, "body99", flags="coco")
    assert str(p) in str(e.value)
    with pytest.raises(InputError, match="unknown face dataset"):
        D.read_face_coco(p, "ffhq")
    with pytest.raises(InputError, match="unknown keypoint layout"):
        D.read_coco_keypoints(p, layout="nope")


def test_mpii_json(tmp_path):
    joints = [[float(i), float(i + 1)] for i in range(16)]
    joints[0] = [-1.0, -1.0]
    e = {"image": "a.jpg", "joints": joints, "joints_vis": [0] + [1] * 15, "center": [5, 6], "scale": 1.5}
    ds = D.read_mpii(write_json(tmp_path / "m.json", [e, dict(e)]))
    f = ds.frames["a.jpg"]
    assert len(f) == 2 and f.skeleton.name == "mpii16"
    assert f.state[0, 0] == S.MISSING and np.isnan(f.xy[0, 0]).all()
    np.testing.assert_array_equal(f.xy[0, 1], [1, 2])
    assert f.extras["scale"].tolist() == [1.5, 1.5]
    with pytest.raises(InputError, match="'joints' has shape"):
        D.read_mpii(write_json(tmp_path / "b.json", [{**e, "joints": joints[:15]}]))
    with pytest.raises(InputError, match="expected a list"):
        D.read_mpii(write_json(tmp_path / "c.json", {"a": 1}))


# ---------------------------------------------------------------------------------------------------
# PoseTrack
# ---------------------------------------------------------------------------------------------------
def posetrack_doc():
    def ann(aid, iid, tid, x):
        return {"id": aid, "image_id": iid, "category_id": 1, "track_id": tid, "iscrowd": False,
                "keypoints": [x, 10, 1] * 3 + [0, 0, 0] * 2 + [x, 20, 1] * 12, "bbox_head": [1, 2, 3, 4]}  # fmt: skip

    return {
        "categories": [{"id": 1, "name": "person", "keypoints": list(get_skeleton("posetrack17").keypoints)}],
        "images": [
            {"id": 100, "file_name": "images/val/v1/000000.jpg", "vid_id": "v1", "width": 40, "height": 30},
            {"id": 101, "file_name": "images/val/v1/000004.jpg", "vid_id": "v1", "width": 40, "height": 30},
            {"id": 200, "file_name": "images/val/v2/000000.jpg", "vid_id": "v2"},
        ],
        "annotations": [ann(1, 100, 0, 1.0), ann(2, 100, 1, 2.0), ann(3, 101, 1, 3.0), ann(4, 200, 5, 4.0)],
    }


def test_posetrack_frames_tracks_and_sequences(tmp_path):
    ds = D.read_posetrack18(write_json(tmp_path / "p.json", posetrack_doc()))
    assert ds.frames[101].frame == 4 and ds.frames[100].track_id.tolist() == [0, 1]
    assert ds.frames[100].state[0].tolist() == [S.VISIBLE] * 3 + [S.MISSING] * 2 + [S.VISIBLE] * 12
    assert ds.frames[100].extras["bbox_head"].shape == (2, 4)
    assert D.track_ids(ds).tolist() == [["v1", 0], ["v1", 1], ["v2", 5]]
    seqs = D.to_sequences(ds, fps=25.0)
    s = seqs["v1"]
    assert s.xy.shape == (2, 2, 17, 2) and s.track_id.tolist() == [0, 1]
    assert s.frame.tolist() == [0, 4] and s.time.tolist() == [0.0, 4 / 25]
    assert (s.state[1, 0] == S.MISSING).all()  # track 0 absent in frame 4
    assert s.xy[1, 1, 0, 0] == 3.0
    assert s.provenance[-1]["params"]["fps_assumed"] is False
    assert D.to_sequences(ds)["v2"].provenance[-1]["params"]["fps_assumed"] is True


def test_posetrack_errors(tmp_path):
    doc = posetrack_doc()
    doc["annotations"][1]["track_id"] = 0
    with pytest.raises(InputError, match="same track id"):
        D.to_sequences(D.read_posetrack18(write_json(tmp_path / "a.json", doc)))
    doc = posetrack_doc()
    del doc["images"][0]["vid_id"]
    with pytest.raises(InputError, match="no field 'vid_id'"):
        D.read_posetrack18(write_json(tmp_path / "b.json", doc))
    doc = posetrack_doc()
    doc["images"][0]["file_name"] = "frame_a.jpg"
    with pytest.raises(InputError, match="is not a frame number"):
        D.read_posetrack18(write_json(tmp_path / "c.json", doc))


# ---------------------------------------------------------------------------------------------------
# Penn Action
# ---------------------------------------------------------------------------------------------------
def penn_mat(path: Path, t: int = 3, **over) -> Path:
    x = np.tile(np.arange(13, dtype=float) * 10 + 50, (t, 1))
    y = np.tile(np.arange(13, dtype=float) * 5 + 40, (t, 1))
    vis = np.ones((t, 13), np.uint8)
    vis[0, 2] = 0  # hidden with a real position -> OCCLUDED
    vis[1, 3] = 0  # hidden placeholder -> MISSING
    x[1, 3], y[1, 3] = 0.75, 0.75
    m = {
        "x": x, "y": y, "visibility": vis, "bbox": np.tile([1.0, 2.0, 300.0, 200.0], (t, 1)),
        "action": "squat", "pose": "front", "train": np.array([[1]], np.int32),
        "nframes": np.array([[t]], np.uint8), "dimensions": np.array([[240, 320, t]], np.uint16),
    }  # fmt: skip
    m.update(over)
    scipy.io.savemat(path, m)
    return path


def test_penn_clip_states_time_and_metadata(tmp_path):
    clip = D.read_penn_clip(penn_mat(tmp_path / "0001.mat"))
    s = clip.poses
    assert (clip.name, clip.action, clip.view, clip.train, clip.width, clip.height) == ("0001", "squat", "front", True, 320, 240)
    assert s.skeleton.name == "penn13" and s.xy.shape == (3, 1, 13, 2)
    assert s.state[0, 0, 2] == S.OCCLUDED and s.xy[0, 0, 2, 0] == 70.0
    assert s.state[1, 0, 3] == S.MISSING and np.isnan(s.xy[1, 0, 3]).all()
    assert (s.state[2, 0] == S.VISIBLE).all()
    np.testing.assert_allclose(s.time, [0, 1 / 30, 2 / 30])
    np.testing.assert_array_equal(s.box[0, 0], [1, 2, 300, 200])
    assert s.provenance[-1]["params"]["fps_assumed"] is True
    assert D.read_penn_clip(tmp_path / "0001.mat", fps=60).poses.time[1] == pytest.approx(1 / 60)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"nframes": np.array([[4]], np.uint8)}, "'nframes' is 4 but 'x' has 3 frames"),
        ({"visibility": np.full((3, 13), 2, np.uint8)}, "'visibility' holds values other than 0 and 1"),
        ({"x": np.zeros((3, 12))}, "field 'x' has shape (3, 12)"),
        ({"dimensions": np.array([[240, 320, 9]])}, "'dimensions' says 9 frames"),
        ({"train": np.array([[0]])}, "field 'train' is 0"),
    ],
)
def test_penn_errors_name_the_field(tmp_path, over, message):
    p = penn_mat(tmp_path / "0002.mat", **over)
    with pytest.raises(InputError) as e:
        D.read_penn_clip(p)
    assert message in str(e.value) and str(p) in str(e.value)


def test_penn_missing_field_and_garbage(tmp_path):
    p = tmp_path / "0003.mat"
    scipy.io.savemat(p, {"x": np.zeros((2, 13)), "y": np.zeros((2, 13))})
    with pytest.raises(InputError, match="field 'visibility' is missing"):
        D.read_penn_clip(p)
    g = tmp_path / "0004.mat"
    g.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="not a readable MATLAB file"):
        D.read_penn_clip(g)


def test_penn_index_and_iteration(tmp_path):
    labels = tmp_path / "labels"
    labels.mkdir()
    penn_mat(labels / "0001.mat")
    penn_mat(labels / "0002.mat", action="pushup")
    idx = tmp_path / "INDEX.csv"
    idx.write_text(
        "file,action,view,nframes,height,width,train_flag\n"
        "0001.mat,squat,front,3,240,320,1\n0002.mat,pushup,front,3,240,320,1\n0009.mat,situp,back,5,240,320,-1\n"
    )
    entries = D.read_penn_index(idx)
    assert [e.file for e in entries] == ["0001.mat", "0002.mat", "0009.mat"] and entries[2].train is False
    clips = list(D.iter_penn_clips(labels, entries=entries, skip_absent=True))
    assert [c.name for c in clips] == ["0001", "0002"]
    assert [c.name for c in D.iter_penn_clips(labels, actions=["pushup"])] == ["0002"]
    with pytest.raises(InputError, match="file not found"):
        list(D.iter_penn_clips(labels, entries=entries))
    wrong = [D.PennIndexEntry("0001.mat", "squat", "back", 3, 240, 320, True)]
    with pytest.raises(InputError, match="disagrees with its index row"):
        list(D.iter_penn_clips(labels, entries=wrong))
    bad = tmp_path / "bad.csv"
    bad.write_text("file,action\n0001.mat,squat\n")
    with pytest.raises(InputError, match="column 'view' is missing"):
        D.read_penn_index(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text("file,action,view,nframes,height,width,train_flag\n" + "0001.mat,squat,front,3,240,320,1\n" * 2)
    with pytest.raises(InputError, match="listed twice"):
        D.read_penn_index(dup)


# ---------------------------------------------------------------------------------------------------
# cameras
# ---------------------------------------------------------------------------------------------------
def rot(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def test_opencv_distortion_matches_cv2():
    import cv2  # opencv-contrib-python, installed with mediapipe
    rng = np.random.default_rng(0)
    R, t = rot(0.1, -0.3, 0.2), np.array([0.2, -0.1, 3.0])
    dist = np.array([-0.22, 0.2, 0.001, -0.002, 0.02])
    cam = Camera("c", 1000.0, 990.0, 640.0, 360.0, R=R, t=t, dist=dist, dist_model="opencv")
    X = rng.uniform(-1, 1, (50, 3))
    want, _ = cv2.projectPoints(X, cv2.Rodrigues(R)[0], t, cam.K, dist)
    np.testing.assert_allclose(cam.project(X), want[:, 0], atol=1e-6)
    np.testing.assert_allclose(cam.center, -R.T @ t)


def test_camera_pinhole_and_behind():
    cam = Camera("c", 100.0, 100.0, 50.0, 40.0)
    np.testing.assert_allclose(cam.project(np.array([[0.1, 0.2, 2.0]])), [[55.0, 50.0]])
    assert np.isnan(cam.project(np.array([[0.0, 0.0, -1.0]]))).all()
    h36 = Camera("h", 100.0, 100.0, 50.0, 40.0, dist=np.zeros(5), dist_model="h36m")
    np.testing.assert_allclose(h36.project(np.array([[0.1, 0.2, 2.0]])), [[55.0, 50.0]])
    with pytest.raises(ValueError, match="distortion coefficients"):
        Camera("x", 1, 1, 0, 0, dist=np.ones(3), dist_model="opencv")


# ---------------------------------------------------------------------------------------------------
# Human3.6M / 3DHP
# ---------------------------------------------------------------------------------------------------
def h36m_files(tmp_path: Path, n: int = 2):
    base = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # camera looks along world +y, z up
    R = (rot(0.05, -0.1, 0.02) @ base).T  # the file stores the transpose of world -> camera
    T = np.array([[0.3], [-4.9], [1.5]])  # camera centre, metres
    cams = {("S1", "54138969"): {"R": R, "T": T, "f": np.array([[1145.0], [1143.0]]), "c": np.array([[512.0], [515.0]]),
                                 "k": np.array([[-0.2], [0.24], [-0.003]]), "p": np.array([[-0.001], [-0.0009]]),
                                 "w": np.array(1000), "h": np.array(1002)}}  # fmt: skip
    with open(tmp_path / "cameras.pkl", "wb") as fh:
        pickle.dump(cams, fh)
    cam = D.read_h36m_cameras(tmp_path / "cameras.pkl")[("S1", "54138969")]
    rng = np.random.default_rng(1)
    world = rng.normal([0.0, 0.0, 1.0], 0.3, (n, 17, 3))
    Sc = cam.world_to_camera(world)
    part = cam.camera_to_pixels(Sc)
    names = np.array([f"S1/S1_Walking_1.54138969/S1_Walking_1.54138969_{i + 1:06d}.jpg" for i in range(n)])
    ones = np.ones((n, 17, 1))
    np.savez(tmp_path / "b.npz", imgname=names, part=np.concatenate([part, ones], -1),
             S=np.concatenate([Sc, ones], -1), center=np.zeros((n, 2)), scale=np.ones(n))  # fmt: skip
    return cam, world, Sc, part


def test_h36m_cameras_and_npz_round_trip(tmp_path):
    cam, world, Sc, part = h36m_files(tmp_path)
    assert cam.dist_model == "h36m" and cam.image_size == (1000, 1002)
    np.testing.assert_allclose(cam.center, [0.3, -4.9, 1.5])
    assert (Sc[..., 2] > 3).all()
    cams = D.read_h36m_cameras(tmp_path / "cameras.pkl")
    samples = D.read_h36m_npz(tmp_path / "b.npz", cams)
    assert [s.poses.frame for s in samples] == [1, 2] and samples[0].subject == "S1"
    assert samples[0].camera_key == ("S1", "54138969") and samples[0].camera.fx == cam.fx
    np.testing.assert_allclose(samples[1].poses.world[0], Sc[1])
    np.testing.assert_allclose(samples[1].poses.xy[0], part[1])
    assert samples[0].poses.skeleton.name == "h36m17" and (samples[0].poses.state == S.VISIBLE).all()


def test_h36m_npz_errors(tmp_path):
    h36m_files(tmp_path)
    d = dict(np.load(tmp_path / "b.npz"))
    np.savez(tmp_path / "s.npz", **{**d, "S": d["S"][:, :16]})
    with pytest.raises(InputError, match="array 'S' has shape"):
        D.read_h36m_npz(tmp_path / "s.npz")
    np.savez(tmp_path / "n.npz", **{**d, "imgname": np.array(["x.jpg", "y.jpg"])})
    with pytest.raises(InputError, match="not a h36m image name"):
        D.read_h36m_npz(tmp_path / "n.npz")
    with pytest.raises(InputError, match="is not in the camera file"):
        D.read_h36m_npz(tmp_path / "b.npz", cameras={})
    flags = d["part"].copy()
    flags[0, 3, 2] = 0
    np.savez(tmp_path / "f.npz", **{**d, "part": flags})
    f = D.read_h36m_npz(tmp_path / "f.npz")[0].poses
    assert f.state[0, 3] == S.MISSING and np.isnan(f.world[0, 3]).all()
    (tmp_path / "z.npz").write_bytes(b"PK not a zip")
    with pytest.raises(InputError, match="not a readable .npz"):
        D.read_h36m_npz(tmp_path / "z.npz")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_camera_pickles_refuse_code(tmp_path):
    with open(tmp_path / "evil.pkl", "wb") as fh:
        pickle.dump({("S1", "1"): _Evil()}, fh)
    with pytest.raises(InputError, match="refusing to load builtins.print"):
        D.read_h36m_cameras(tmp_path / "evil.pkl")
    with open(tmp_path / "list.pkl", "wb") as fh:
        pickle.dump([1, 2], fh)
    with pytest.raises(InputError, match="expected a dict of cameras"):
        D.read_3dhp_cameras(tmp_path / "list.pkl")


def test_3dhp_names(tmp_path):
    names = np.array(["S4_Seq2_Cam0_001033.jpg", "TS1_002001.jpg"])
    rng = np.random.default_rng(2)
    Sc = rng.normal([0, 0, 4], 0.3, (2, 17, 3))
    part = Sc[..., :2] / Sc[..., 2:] * 1500 + 1024
    ones = np.ones((2, 17, 1))
    np.savez(tmp_path / "t.npz", imgname=names, part=np.concatenate([part, ones], -1), S=np.concatenate([Sc, ones], -1))
    with open(tmp_path / "c.pkl", "wb") as fh:
        pickle.dump({"S4_Seq2_Cam0": {"f": np.array([[1500.0], [1500.0]]), "c": np.array([[1024.0], [1024.0]])},
                     "TS1": {"f": np.array([[1500.0], [1500.0]]), "c": np.array([[1024.0], [1024.0]])}}, fh)  # fmt: skip
    ss = D.read_3dhp_npz(tmp_path / "t.npz", D.read_3dhp_cameras(tmp_path / "c.pkl"))
    assert [(s.subject, s.camera_key, s.poses.frame) for s in ss] == [("S4", "S4_Seq2_Cam0", 1033), ("TS1", "TS1", 2001)]
    np.testing.assert_allclose(ss[0].camera.camera_to_pixels(ss[0].poses.world[0]), part[0])


# ---------------------------------------------------------------------------------------------------
# CMU Panoptic
# ---------------------------------------------------------------------------------------------------
def panoptic_files(tmp_path: Path):
    K = [[1600.0, 0, 960.0], [0, 1600.0, 540.0], [0, 0, 1]]
    cal = {"calibDataSource": "x", "cameras": [
        {"name": "00_00", "type": "hd", "resolution": [1920, 1080], "K": K, "distCoef": [-0.2, 0.2, 0.0, 0.001, 0.02],
         "R": np.eye(3).tolist(), "t": [[0.0], [0.0], [300.0]]}]}  # fmt: skip
    write_json(tmp_path / "calibration.json", cal)
    d = tmp_path / "hdPose3d_stage1_coco19"
    d.mkdir()
    body = lambda bid, dx: {"id": bid, "joints19": sum(([float(j) + dx, -100.0 + j, 5.0, 0.5] for j in range(19)), [])}  # noqa: E731
    b0 = body(0, 0.0)
    b0["joints19"][8 * 4 : 8 * 4 + 4] = [0, 0, 0, -1]
    write_json(d / "body3DScene_00000010.json", {"univTime": 1.0, "fpsType": "hd_29_97", "bodies": [b0, body(4, 50.0)]})
    write_json(d / "body3DScene_00000011.json", {"univTime": 34.0, "fpsType": "hd_29_97", "bodies": [body(4, 51.0)]})
    return d


def test_panoptic_body3d_sequence(tmp_path):
    d = panoptic_files(tmp_path)
    cams = D.read_panoptic_calibration(tmp_path / "calibration.json")
    cam = cams["00_00"]
    assert cam.dist_model == "opencv" and cam.t[2] == pytest.approx(3.0) and cam.image_size == (1920, 1080)
    s = D.read_panoptic_body3d(d, cameras=cams, camera="00_00")
    assert s.skeleton.name == "panoptic19" and s.xy.shape == (2, 2, 19, 2)
    assert s.track_id.tolist() == [0, 4] and s.frame.tolist() == [10, 11]
    np.testing.assert_allclose(s.time, [10 / 29.97, 11 / 29.97])
    np.testing.assert_allclose(s.world[0, 1, 3], [0.53, -0.97, 0.05])  # centimetres -> metres
    assert s.state[0, 0, 8] == S.MISSING and np.isnan(s.world[0, 0, 8]).all()
    assert (s.state[1, 0] == S.MISSING).all()  # body 0 absent in frame 11
    np.testing.assert_allclose(s.xy[1, 1], cam.project(s.world[1, 1]))
    assert s.score[0, 1, 0] == pytest.approx(0.5)


def test_panoptic_errors(tmp_path):
    d = panoptic_files(tmp_path)
    cams = D.read_panoptic_calibration(tmp_path / "calibration.json")
    with pytest.raises(InputError, match="camera '99_99' is not in the calibration"):
        D.read_panoptic_body3d(d, cameras=cams, camera="99_99")
    write_json(d / "body3DScene_00000012.json", {"bodies": [{"id": 1, "joints19": [0.0] * 75}]})
    with pytest.raises(InputError, match="'joints19' must be 76 numbers, got 75"):
        D.read_panoptic_body3d(d, cameras=cams, camera="00_00")
    write_json(d / "body3DScene_00000012.json", {"bodies": [{"id": 1, "joints19": [0.0] * 76}] * 2})
    with pytest.raises(InputError, match="body id 1 appears twice"):
        D.read_panoptic_body3d(d, cameras=cams, camera="00_00")
    write_json(tmp_path / "cal2.json", {"cameras": [{"name": "a", "K": [[1, 0]], "R": np.eye(3).tolist(), "t": [0, 0, 0]}]})
    with pytest.raises(InputError, match="camera 'a': field 'K'"):
        D.read_panoptic_calibration(tmp_path / "cal2.json")
    assert D.panoptic_fps("vga_25") == 25.0


# ---------------------------------------------------------------------------------------------------
# hands
# ---------------------------------------------------------------------------------------------------
def test_rhd_reorder_and_world(tmp_path):
    rhd = get_skeleton("rhd21")
    kps = [[float(i), float(10 * i), 1.0] for i in range(21)]  # x = index in the file's order
    doc = {"categories": [{"id": 1, "name": "hand", "keypoints": ["x"] * 21}],
           "images": [{"id": 1, "file_name": "a.png", "width": 320, "height": 320}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": kps, "hand_type": "left",
                            "joint_cam": [[i, 0.0, 500.0] for i in range(21)]}]}  # fmt: skip
    p = write_json(tmp_path / "rhd.json", doc)
    f = D.read_rhd(p).frames[1]
    h = get_skeleton("hand21")
    assert f.skeleton.name == "hand21" and f.extras["handedness"].tolist() == ["left"]
    for j, name in enumerate(h.keypoints):
        assert f.xy[0, j, 0] == rhd.index(name)
    assert f.world[0, h.index("thumb_tip"), 2] == pytest.approx(0.5)
    assert D.read_rhd(p, layout="rhd21").frames[1].skeleton.name == "rhd21"
    doc["annotations"][0]["hand_type"] = "both"
    with pytest.raises(InputError, match="'hand_type' is 'both'"):
        D.read_rhd(write_json(tmp_path / "b.json", doc))


def test_interhand(tmp_path):
    rng = np.random.default_rng(3)
    world = rng.normal([0, 0, 1000], 30, (42, 3))
    write_json(tmp_path / "cam.json", {"3": {"campos": {"9": [0, 0, 0]}, "camrot": {"9": np.eye(3).tolist()},
                                             "focal": {"9": [1000, 1000]}, "princpt": {"9": [160, 250]}}})  # fmt: skip
    write_json(tmp_path / "j.json", {"3": {"7": {"world_coord": world.tolist(), "joint_valid": [1] * 42, "hand_type": "right"}}})
    valid = [1] * 21 + [0] * 21
    write_json(tmp_path / "d.json", {
        "images": [{"id": 5, "file_name": "i.jpg", "width": 334, "height": 512, "capture": 3, "camera": "9", "frame_idx": 7}],
        "annotations": [{"id": 5, "image_id": 5, "bbox": [1, 2, 3, 4], "joint_valid": [[v] for v in valid], "hand_type": "right"}],
    })  # fmt: skip
    ds = D.read_interhand(tmp_path / "d.json", tmp_path / "j.json", tmp_path / "cam.json")
    f = ds.frames[5]
    assert len(f) == 1 and f.extras["handedness"].tolist() == ["right"]
    h = get_skeleton("hand21")
    np.testing.assert_allclose(f.world[0, h.index("wrist")], world[20] / 1000)
    np.testing.assert_allclose(f.world[0, h.index("thumb_tip")], world[0] / 1000)
    np.testing.assert_allclose(f.xy[0, 0], world[20, :2] / world[20, 2] * 1000 + [160, 250])
    write_json(tmp_path / "j2.json", {"3": {}})
    with pytest.raises(InputError, match="no 'world_coord' for capture 3 frame 7"):
        D.read_interhand(tmp_path / "d.json", tmp_path / "j2.json", tmp_path / "cam.json")


# ---------------------------------------------------------------------------------------------------
# faces
# ---------------------------------------------------------------------------------------------------
def test_face_coco_and_pts(tmp_path):
    doc = {"categories": [{"id": 1, "name": "face", "keypoints": []}],
           "images": [{"id": 1, "file_name": "f.png", "width": 100, "height": 100}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": [3.0, 4.0, 2.0] * 28 + [5, 6, 1],
                            "center": [50, 50], "scale": 1.2}]}  # fmt: skip
    p = write_json(tmp_path / "cofw.json", doc)
    f = D.read_face_coco(p, "cofw").frames[1]
    assert f.skeleton.name == "cofw29" and f.state[0, -1] == S.OCCLUDED and f.state[0, 0] == S.VISIBLE
    assert f.extras["scale"].tolist() == [1.2]
    with pytest.raises(InputError, match="expected 3×68"):
        D.read_face_coco(p, "300w")
    pts = tmp_path / "a.pts"
    pts.write_text("version: 1\nn_points: 68\n{\n" + "".join(f"{i} {i + 0.5}\n" for i in range(68)) + "}\n")
    g = D.read_pts(pts)
    assert g.skeleton.name == "face68" and g.xy[0, 10].tolist() == [10.0, 10.5]
    pts.write_text("version: 1\nn_points: 68\n{\n1 2\n}\n")
    with pytest.raises(InputError, match="holds 1 points but 'n_points' says 68"):
        D.read_pts(pts)
    assert D.NME_NORM_INDICES["face68"] == (36, 45)


# ---------------------------------------------------------------------------------------------------
# predictions
# ---------------------------------------------------------------------------------------------------
def test_read_predictions_kinds_and_alignment(tmp_path):
    f = frame_of("coco17", np.arange(34, dtype=float).reshape(1, 17, 2) + 1)
    save_poses([f, f], tmp_path / "p.poses.json")
    got = D.read_predictions(tmp_path / "p.poses.json")
    assert isinstance(got, list) and len(got) == 2
    gt_path = tmp_path / "gt.json"
    write_coco(gt_path, [({"id": 11, "file_name": "dir/a.jpg"}, f), ({"id": 12, "file_name": "b.jpg"}, f)])
    gt = D.read_coco_keypoints(gt_path)
    write_coco_results(tmp_path / "res.json", {12: f})
    res = D.read_predictions(tmp_path / "res.json", gt)
    aligned = D.align_to_gt(res, gt)
    assert list(aligned) == [11, 12] and len(aligned[11]) == 0 and len(aligned[12]) == 1
    np.testing.assert_array_equal(aligned[12].xy, f.xy)
    pred_coco = tmp_path / "pred.coco.json"
    write_coco(pred_coco, [({"id": 1, "file_name": "b.jpg"}, f)])
    by_name = D.align_to_gt(D.read_predictions(pred_coco), gt, by="file_name")
    assert len(by_name[12]) == 1 and len(by_name[11]) == 0
    with pytest.raises(InputError, match="image id 1 is not in the ground truth"):
        D.align_to_gt(D.read_predictions(pred_coco), gt)
    with pytest.raises(InputError, match="use by='order'"):
        D.align_to_gt(got, gt)
    assert len(D.align_to_gt(got, gt, by="order")[12]) == 1
    write_json(tmp_path / "odd.json", {"foo": 1})
    with pytest.raises(InputError, match="expected posekit poses"):
        D.read_predictions(tmp_path / "odd.json")
    write_json(tmp_path / "other.json", [{"image_id": 99, "category_id": 1, "keypoints": [1, 1, 2] * 17, "score": 1}])
    with pytest.raises(InputError, match="not in the ground truth"):
        D.read_predictions(tmp_path / "other.json", gt)
    write_json(tmp_path / "short.json", [{"image_id": 11, "category_id": 1, "keypoints": [1, 1, 2] * 14, "score": 1}])
    with pytest.raises(InputError, match="expected 3×17"):
        D.read_predictions(tmp_path / "short.json", gt)
