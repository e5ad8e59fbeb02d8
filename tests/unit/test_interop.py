"""Interop: COCO JSON, long tables (CSV/Parquet), movement-style xarray, posekit JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posekit.errors import InputError, OutputError, ValidationError
from posekit.io.coco import (
    CocoDataset,
    frame_to_coco_results,
    read_coco,
    read_coco_results,
    write_coco,
    write_coco_results,
)
from posekit.io.movement import (
    DIMS,
    LEGACY_DIMS,
    load_netcdf,
    save_netcdf,
    sequence_from_xarray,
    sequence_to_xarray,
)
from posekit.io.posekit_json import load_poses, save_poses
from posekit.io.tables import COLUMNS, read_table, sequence_from_dataframe, write_table
from posekit.poses import STATE_NAMES, KeypointState, PoseFrame, PoseSequence
from posekit.skeletons import BLAZEPOSE33, COCO17, HAND21, get_skeleton

S = KeypointState


# --- fixtures ---------------------------------------------------------------------------------------
def rand_frame(rng: np.random.Generator, n: int, skeleton: str = "coco17", *, z: bool = False, world: bool = False,
               **kw) -> PoseFrame:  # fmt: skip
    k = len(get_skeleton(skeleton))
    state = rng.integers(0, 6, (n, k)).astype(np.uint8)
    if n:
        state[0, :6] = np.arange(6)
    # awkward floats on purpose: many digits, tiny and huge magnitudes, negative zero
    xy = rng.uniform(-50, 2000, (n, k, 2)) * 10.0 ** rng.integers(-3, 4, (n, k, 1))
    if n:
        xy[0, 1] = [-0.0, 1e-300]
    xy[state == S.MISSING] = np.nan
    zz = ww = None
    if z:
        zz = rng.normal(0, 100, (n, k))
        zz[state == S.MISSING] = np.nan
    if world:
        ww = rng.normal(0, 0.5, (n, k, 3))
        ww[state == S.MISSING] = np.nan
    return PoseFrame(skeleton, xy, rng.random((n, k)).astype(np.float32), state, z=zz, world=ww,
                     box_score=rng.random(n).astype(np.float32), **kw)  # fmt: skip


def assert_frames_equal(a: PoseFrame, b: PoseFrame, *, meta: bool = True) -> None:
    assert a.skeleton.name == b.skeleton.name
    assert a.xy.shape == b.xy.shape
    assert np.array_equal(a.xy.view(np.uint64), b.xy.view(np.uint64)), "xy not bitwise equal"
    np.testing.assert_array_equal(a.state, b.state)
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.box, b.box)
    np.testing.assert_array_equal(a.box_score, b.box_score)
    np.testing.assert_array_equal(a.track_id, b.track_id)
    for name in ("z", "world"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=name)
    if meta:
        assert a.frame == b.frame and a.time == b.time and a.image_size == b.image_size


def rand_sequence(seed: int = 0, t: int = 6, i: int = 3, *, parts: bool = False, world: bool = False) -> PoseSequence:
    rng = np.random.default_rng(seed)
    frames = []
    for ti in range(t):
        ids = [tid for tid in (4, 8, 15)[:i] if rng.random() > 0.3] or [4]
        f = rand_frame(rng, len(ids), z=True, world=world, track_id=ids, frame=10 + ti, time=ti / 29.97 + 0.5,
                       image_size=(1280, 720))  # fmt: skip
        if parts:
            f.parts["left_hand"] = rand_frame(rng, len(ids), "hand21", world=world)
        frames.append(f)
    return PoseSequence.from_frames(frames, fps=29.97, source="walk.mp4")


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


def coco_doc(keypoints=None, **ann_extra) -> dict:
    kps = keypoints if keypoints is not None else [10, 20, 2, 30, 40, 1] + [0, 0, 0] * 15
    return {
        "images": [{"id": 5, "file_name": "a.jpg", "width": 640, "height": 480}, {"id": 6, "file_name": "b.jpg", "width": 320, "height": 200}],
        "annotations": [
            {"id": 123, "image_id": 5, "category_id": 1, "keypoints": kps, "num_keypoints": 2, "bbox": [5.5, 10, 30, 40],
             "area": 777.5, "iscrowd": 0, **ann_extra},
            {"id": 124, "image_id": 5, "category_id": 1, "keypoints": [0] * 51, "num_keypoints": 0, "bbox": [1, 2, 3, 4],
             "area": 12.0, "iscrowd": 1},
        ],
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17.keypoints), "skeleton": [[16, 14]]}],
    }  # fmt: skip


# --- COCO: results entries -------------------------------------------------------------------------
def test_frame_to_coco_results_flags_score_and_bbox():
    xy = np.full((1, 17, 2), np.nan)
    state = np.zeros((1, 17), np.uint8)
    score = np.zeros((1, 17), np.float32)
    for j, s in enumerate(S):
        if s != S.MISSING:
            xy[0, j] = [10.5 + j, 20.25 + j]
        state[0, j] = s
        score[0, j] = 0.1 * j
    f = PoseFrame("coco17", xy, score, state, box=[[1.0, 2.0, 41.0, 62.0]], box_score=[0.5], track_id=[3])
    (r,) = frame_to_coco_results(f, image_id=42, category_id=1)
    assert r["image_id"] == 42 and r["category_id"] == 1 and r["track_id"] == 3
    kp = r["keypoints"]
    assert len(kp) == 51
    assert kp[0:3] == [0, 0, 0]  # MISSING
    assert kp[3:6] == [11.5, 21.25, 2]  # VISIBLE
    assert [kp[3 * j + 2] for j in range(2, 6)] == [1, 1, 1, 1]  # OCCLUDED..CORRECTED
    assert kp[18:] == [0] * (51 - 18)
    # box_score × mean score of the present keypoints (j = 1..5 → 0.1 … 0.5)
    assert r["score"] == pytest.approx(0.5 * 0.3, rel=1e-6)
    assert r["bbox"] == [1, 2, 40, 60]
    assert r["posekit_state"] == [0, 1, 2, 3, 4, 5] + [0] * 11


def test_frame_to_coco_results_converts_blazepose_and_refuses_hands():
    rng = np.random.default_rng(1)
    f = rand_frame(rng, 2, "blazepose33")
    res = frame_to_coco_results(f, 7)
    for n, r in enumerate(res):
        kp = np.asarray(r["keypoints"], dtype=float).reshape(17, 3)
        for j, name in enumerate(COCO17.keypoints):
            i = BLAZEPOSE33.index(name)
            if f.state[n, i] == S.MISSING:
                assert kp[j].tolist() == [0, 0, 0]
            else:
                assert kp[j, :2].tolist() == f.xy[n, i].tolist()
                assert kp[j, 2] == (2 if f.state[n, i] == S.VISIBLE else 1)
    with pytest.raises(ValidationError, match="no conversion from 'hand21' to 'coco17'"):
        frame_to_coco_results(rand_frame(rng, 1, "hand21"), 1)
    # a person without present keypoints scores 0 and has an empty box
    (r,) = frame_to_coco_results(PoseFrame.missing("coco17", 1), 1)
    assert r["score"] == 0.0 and r["bbox"] == [0, 0, 0, 0] and r["keypoints"] == [0] * 51
    assert f.to_coco(3)[0]["image_id"] == 3  # the method on PoseFrame


# --- COCO: exact round trip -----------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_write_read_coco_round_trip_is_exact(tmp_path, seed):
    rng = np.random.default_rng(seed)
    frames = {
        100: rand_frame(rng, 3, z=True, world=True, track_id=[1, -1, 5], image_size=(640, 480)),
        7: PoseFrame.empty("coco17", image_size=(10, 20), frame=1),
        8: rand_frame(rng, 1, frame=5, time=0.25),
        9: PoseFrame.missing("coco17", 2),
    }
    p = tmp_path / "gt.json"
    write_coco(p, frames)
    ds = read_coco(p)
    assert isinstance(ds, CocoDataset) and ds.skeleton.name == "coco17"
    assert list(ds.images) == [100, 7, 8, 9]
    assert ds.num_annotations == 6
    for pos, (iid, f) in enumerate(frames.items()):
        g = ds.frames[iid]
        assert_frames_equal(f, g, meta=False)
        assert g.image_size == f.image_size
        assert g.frame == f.frame and g.time == f.time
    assert set(np.unique(np.concatenate([f.state.ravel() for f in ds.frames.values()]))) == set(range(6))
    # second generation is identical, also as a file
    p2 = tmp_path / "gt2.json"
    write_coco(p2, ds)
    assert p2.read_text() == p.read_text()
    doc = json.loads(p.read_text())
    ann = doc["annotations"][0]
    assert set(ann) >= {"id", "image_id", "category_id", "keypoints", "num_keypoints", "bbox", "area", "iscrowd", "score",
                        "track_id", "posekit_state", "keypoint_scores"}  # fmt: skip
    assert ann["num_keypoints"] == int(frames[100].present[0].sum())
    assert doc["categories"][0]["keypoints"] == list(COCO17.keypoints)
    assert doc["categories"][0]["skeleton"][0] == [16, 14]  # COCO's own 1-based skeleton


def test_write_coco_with_image_entries_and_skeleton_conversion(tmp_path):
    rng = np.random.default_rng(3)
    f = rand_frame(rng, 2, "blazepose33", image_size=(800, 600))
    p = tmp_path / "bp.json"
    write_coco(p, [({"id": 1, "file_name": "x.jpg"}, f)])
    ds = read_coco(p)
    assert ds.images[1]["file_name"] == "x.jpg" and ds.images[1]["width"] == 800
    assert_frames_equal(f.to_skeleton("coco17"), ds.frames[1], meta=False)
    # own layout kept with skeleton=None, and read back by exact name match
    p2 = tmp_path / "bp33.json"
    write_coco(p2, {1: f}, skeleton=None)
    ds2 = read_coco(p2)
    assert ds2.skeleton is BLAZEPOSE33
    assert_frames_equal(f, ds2.frames[1], meta=False)
    with pytest.raises(ValidationError, match="mix skeletons"):
        write_coco(tmp_path / "mix.json", {1: f, 2: rand_frame(rng, 1)}, skeleton=None)


def test_read_plain_coco_maps_flags(tmp_path):
    ds = read_coco(write_json(tmp_path / "c.json", coco_doc()))
    f = ds.frames[5]
    assert len(f) == 2 and len(ds.frames[6]) == 0 and ds.frames[6].image_size == (320, 200)
    assert f.state[0, :3].tolist() == [S.VISIBLE, S.OCCLUDED, S.MISSING]
    assert f.xy[0, 0].tolist() == [10.0, 20.0] and f.xy[0, 1].tolist() == [30.0, 40.0]
    assert np.isnan(f.xy[0, 2:]).all() and not f.present[1].any()
    assert f.score[0, :3].tolist() == [1.0, 1.0, 0.0] and f.box_score.tolist() == [1.0, 1.0]
    assert f.box[0].tolist() == [5.5, 10.0, 35.5, 50.0]
    assert f.image_size == (640, 480) and f.frame == 0 and f.time is None and f.track_id.tolist() == [-1, -1]
    assert ds.annotation_ids[5].tolist() == [123, 124]
    assert ds.iscrowd[5].tolist() == [False, True] and ds.areas[5].tolist() == [777.5, 12.0]


def test_read_coco_skeleton_by_exact_names_never_by_count(tmp_path):
    doc = coco_doc()
    doc["categories"][0]["keypoints"] = [f"kp{i}" for i in range(17)]  # 17 names, but not COCO's
    p = write_json(tmp_path / "c.json", doc)
    with pytest.raises(InputError, match=r"category 'person' \(id 1\) match no registered skeleton.*skeleton="):
        read_coco(p)
    assert read_coco(p, skeleton="coco17").skeleton is COCO17  # explicit choice is honoured
    with pytest.raises(InputError, match="lists 17 keypoints but skeleton 'hand21' has 21"):
        read_coco(p, skeleton="hand21")
    del doc["categories"][0]["keypoints"]
    with pytest.raises(InputError, match="has no list of keypoint names; pass skeleton="):
        read_coco(write_json(tmp_path / "d.json", doc))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("images"), "missing top-level key 'images'"),
        (lambda d: (d.pop("images"), d.pop("categories")), "missing top-level keys 'images', 'categories'"),
        (lambda d: d["annotations"][0].update(keypoints=[1] * 50),
         r"annotation id 123: 'keypoints' has 50 values, expected 3×17=51"),
        (lambda d: d["annotations"][0]["keypoints"].__setitem__(4, "40"), r"annotation id 123: 'keypoints' value 4 is '40'"),
        (lambda d: d["annotations"][0]["keypoints"].__setitem__(0, float("nan")), r"annotation id 123: 'keypoints' value 0 is nan"),
        (lambda d: d["annotations"][0]["keypoints"].__setitem__(2, 3), "annotation id 123: keypoint 0 has visibility flag 3"),
        (lambda d: d["annotations"][1].update(image_id=99), "annotation id 124 refers to image id 99, which is not in 'images'"),
        (lambda d: d["annotations"][1].update(id=123), "annotation id 123 appears twice"),
        (lambda d: d["images"][1].update(id=5), "image id 5 appears twice"),
        (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), r"annotation id 123: 'bbox' must be 4 finite numbers"),
        (lambda d: d["annotations"][0].update(posekit_state=[1] * 16), "'posekit_state' must be 17 integers"),
        (lambda d: d["annotations"][0].update(score="high"), "annotation id 123: 'score' is 'high'"),
    ],
)  # fmt: skip
def test_read_coco_errors_name_file_and_problem(tmp_path, mutate, message):
    doc = coco_doc()
    mutate(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))  # json.dumps writes NaN as the (invalid) literal NaN, as some tools do
    with pytest.raises(InputError, match=message) as ei:
        read_coco(p)
    assert ei.value.path == str(p) and str(p) in str(ei.value)


def test_read_coco_file_level_errors(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="file is empty"):
        read_coco(empty)
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [],\n "annotations": [\n}')
    with pytest.raises(InputError, match=r"not valid JSON: .* at line 3 column 1"):
        read_coco(broken)
    with pytest.raises(InputError, match="file not found"):
        read_coco(tmp_path / "nope.json")
    results = write_json(tmp_path / "res.json", [{"image_id": 1, "category_id": 1, "keypoints": [0] * 51, "score": 1}])
    with pytest.raises(InputError, match="use read_coco_results"):
        read_coco(results)


def test_coco_results_round_trip_and_foreign_results(tmp_path):
    rng = np.random.default_rng(5)
    gt = read_coco(write_json(tmp_path / "gt.json", coco_doc()))
    det = {5: rand_frame(rng, 3, track_id=[1, 2, 3])}
    p = tmp_path / "res.json"
    write_coco_results(p, det)
    res = read_coco_results(p, gt)
    assert list(res.frames) == [5, 6] and len(res.frames[6]) == 0
    assert_frames_equal(det[5], res.frames[5], meta=False)
    assert res.annotation_ids[5].tolist() == [0, 1, 2]
    # results from another tool: third value is a per-keypoint confidence; 0,0,0 = missing
    kps = []
    for j in range(17):
        kps += [0, 0, 0] if j == 3 else [10.0 + j, 5.0, 0.25 + 0.01 * j]
    other = write_json(tmp_path / "mm.json", [{"image_id": 6, "category_id": 1, "keypoints": kps, "score": 0.8}])
    r = read_coco_results(other, gt).frames[6]
    assert r.state[0, 3] == S.MISSING and (r.state[0, np.arange(17) != 3] == S.VISIBLE).all()
    assert r.score[0, 0] == np.float32(0.25) and r.box_score[0] == np.float32(0.8)
    # flag-style results without extras: keypoint score = entry score
    flags = write_json(tmp_path / "fl.json", [{"image_id": 5, "category_id": 1, "keypoints": [1, 2, 2] + [0] * 48, "score": 0.7}])
    r2 = read_coco_results(flags).frames[5]
    assert r2.state[0, 0] == S.VISIBLE and r2.score[0, 0] == np.float32(0.7) and r2.score[0, 1] == 0
    unknown = write_json(tmp_path / "u.json", [{"image_id": 77, "category_id": 1, "keypoints": [0] * 51, "score": 1}])
    with pytest.raises(InputError, match="result 0 refers to image id 77, which is not in the ground truth"):
        read_coco_results(unknown, gt)
    with pytest.raises(InputError, match="expected a list of results; this looks like a COCO dataset file"):
        read_coco_results(tmp_path / "gt.json")


# --- tables -----------------------------------------------------------------------------------------
def test_frame_to_dataframe_columns_rows_and_parts():
    rng = np.random.default_rng(7)
    hand = rand_frame(rng, 2, "hand21")
    f = rand_frame(rng, 2, z=True, track_id=[4, 9], frame=12, time=0.5, parts={"left_hand": hand})
    df = f.to_dataframe()
    assert tuple(df.columns) == COLUMNS
    assert len(df) == 2 * (17 + 21)
    assert df.dtypes["frame"] == np.int64 and df.dtypes["x"] == np.float64 and df.dtypes["score"] == np.float64
    body = df[~df.keypoint.str.contains(".", regex=False)]
    assert body.keypoint.tolist()[:17] == list(COCO17.keypoints)
    np.testing.assert_array_equal(body.x.to_numpy().reshape(2, 17), f.xy[..., 0])
    np.testing.assert_array_equal(body.z.to_numpy().reshape(2, 17), f.z)
    np.testing.assert_array_equal(body.score.to_numpy().reshape(2, 17), f.score.astype(np.float64))
    assert body.state.tolist()[:6] == list(STATE_NAMES)  # all six, lower-case names
    assert body.x[body.state == "missing"].isna().all()  # MISSING rows kept, NaN coordinates
    assert set(df.track_id) == {4, 9} and set(df.person) == {0, 1} and (df.frame == 12).all() and (df.time == 0.5).all()
    hand_rows = df[df.keypoint.str.startswith("left_hand.")]
    assert hand_rows.keypoint.tolist()[:2] == ["left_hand.wrist", "left_hand.thumb_cmc"]
    np.testing.assert_array_equal(hand_rows.y.to_numpy().reshape(2, 21), hand.xy[..., 1])
    assert f[[1]].to_dataframe().person.unique().tolist() == [0]


def test_dataframe_world_coordinates():
    rng = np.random.default_rng(8)
    f = rand_frame(rng, 1, world=True)
    df = f.to_dataframe(coords="world")
    np.testing.assert_array_equal(df[["x", "y", "z"]].to_numpy(), f.world[0])
    with pytest.raises(ValidationError, match="no world coordinates"):
        rand_frame(rng, 1).to_dataframe(coords="world")
    with pytest.raises(ValueError, match="coords must be"):
        f.to_dataframe(coords="pixels")
    seq = rand_sequence(1, world=True)
    d = seq.to_dataframe(coords="world")
    row = d.iloc[0]
    i = int(row.person)
    np.testing.assert_array_equal(d.iloc[:17][["x", "y", "z"]].to_numpy(), seq.world[0, i])


def test_sequence_to_dataframe_only_present_individuals():
    seq = rand_sequence(2, parts=True)
    df = seq.to_dataframe()
    here = seq.present.any(-1) | seq.parts["left_hand"].present.any(-1)
    assert len(df) == int(here.sum()) * (17 + 21)
    for t in range(len(seq)):
        people = sorted(set(df[df.frame == seq.frame[t]].person))
        assert people == np.flatnonzero(here[t]).tolist()
    first = df.iloc[0]
    assert first.frame == seq.frame[0] and first.time == seq.time[0]
    assert first.track_id == seq.track_id[first.person]


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_table_round_trip_is_exact(tmp_path, ext):
    seq = rand_sequence(3, parts=True)
    df = seq.to_dataframe()
    p = tmp_path / f"poses{ext}"
    write_table(seq, p)
    back = read_table(p)
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    assert np.array_equal(back.x.to_numpy().view(np.uint64), df.x.to_numpy().view(np.uint64))
    s2 = sequence_from_dataframe(back, "coco17", fps=seq.fps)
    assert np.array_equal(s2.xy.view(np.uint64), seq.xy.view(np.uint64))
    for name in ("score", "state", "time", "frame", "track_id", "z"):
        np.testing.assert_array_equal(getattr(s2, name), getattr(seq, name), err_msg=name)


def test_read_table_errors(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("frame,time,person\n0,0.0,0\n")
    with pytest.raises(InputError, match="missing columns track_id, keypoint, x, y, z, score, state"):
        read_table(p)
    df = rand_sequence(4).to_dataframe()
    df.loc[3, "state"] = "hidden"
    write_table(df, p)
    with pytest.raises(InputError, match="column 'state' holds 'hidden'"):
        read_table(p)
    df = rand_sequence(4).to_dataframe().astype({"frame": object})
    df.loc[0, "frame"] = "x"
    write_table(df, p)
    with pytest.raises(InputError, match="column 'frame' must hold integers"):
        read_table(p)
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InputError, match="file is empty"):
        read_table(tmp_path / "e.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(InputError, match="unknown table format '.xlsx'"):
        read_table(tmp_path / "t.xlsx")
    with pytest.raises(OutputError, match="unknown table format '.txt'"):
        write_table(df, tmp_path / "t.txt")
    with pytest.raises(InputError, match="cannot read Parquet"):
        (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
        read_table(tmp_path / "bad.parquet")


def test_sequence_from_dataframe_refuses_inconsistent_tables():
    df = rand_sequence(5).to_dataframe()
    bad = df.copy()
    bad.loc[0, "keypoint"] = "tail"
    with pytest.raises(ValidationError, match="keypoint 'tail' is not in skeleton 'coco17'"):
        sequence_from_dataframe(bad, "coco17")
    bad = pd.concat([df, df.iloc[:1]])
    with pytest.raises(ValidationError, match="twice"):
        sequence_from_dataframe(bad, "coco17")
    bad = df.copy()
    bad.loc[bad.person == bad.person.iloc[0], "track_id"] = np.arange((bad.person == bad.person.iloc[0]).sum())
    with pytest.raises(ValidationError, match="more than one track id"):
        sequence_from_dataframe(bad, "coco17")
    bad = df.copy()
    j = int(np.flatnonzero(bad.state.to_numpy() == "visible")[0])
    bad.loc[j, "x"] = np.nan
    with pytest.raises(ValidationError, match="non-finite coordinates"):
        sequence_from_dataframe(bad, "coco17")


# --- movement-style xarray -----------------------------------------------------------------------
def test_xarray_layout_matches_movement():
    seq = rand_sequence(6)
    seq.log_step("smooth", cutoff_hz=6.0)
    ds = seq.to_xarray()
    # what movement's ValidPosesInputs.validate checks: variables and dimensions
    assert {"position", "confidence"} <= set(ds.data_vars)
    assert ds["position"].dims == DIMS == ("time", "space", "keypoint", "individual")
    assert ds["confidence"].dims == ("time", "keypoint", "individual")
    assert ds["state"].dims == ("time", "keypoint", "individual") and ds["state"].dtype == np.uint8
    assert ds["state"].attrs["flag_meanings"].split() == list(STATE_NAMES)
    assert ds["space"].values.tolist() == ["x", "y"]
    assert ds["keypoint"].values.tolist() == list(COCO17.keypoints)
    assert ds["individual"].values.tolist() == [f"id_{t}" for t in seq.track_id]
    np.testing.assert_array_equal(ds["time"].values, seq.time)
    a = ds.attrs
    assert a["ds_type"] == "poses" and a["source_software"] == "posekit" and a["time_unit"] == "seconds"
    assert a["fps"] == 29.97 and a["source_file"] == "walk.mp4" and a["skeleton"] == "coco17"
    log = json.loads(a["log"])
    assert log[-1]["operation"] == "smooth" and log[-1]["params"] == {"cutoff_hz": 6.0}
    # values in the right places
    pos = ds["position"].values
    for t, i, k in [(0, 0, 0), (3, 2, 16), (5, 1, 7)]:
        np.testing.assert_array_equal(pos[t, :, k, i], seq.xy[t, i, k])
        assert ds["confidence"].values[t, k, i] == seq.score[t, i, k]
        assert ds["state"].values[t, k, i] == seq.state[t, i, k]
    assert ds["confidence"].dtype == np.float32
    # selection by label works as movement users expect
    sel = ds.position.sel(individual=f"id_{seq.track_id[1]}", keypoint="left_knee", space="x").values
    np.testing.assert_array_equal(sel, seq.xy[:, 1, COCO17.index("left_knee"), 0])


def test_xarray_world_legacy_parts_and_names():
    seq = rand_sequence(7, world=True, parts=True)
    ds = seq.to_xarray(coords="world")
    assert ds["space"].values.tolist() == ["x", "y", "z"]
    np.testing.assert_array_equal(ds["position"].values.transpose(0, 3, 2, 1), seq.world)
    legacy = sequence_to_xarray(seq, legacy_dims=True, include_parts=True)
    assert legacy["position"].dims == LEGACY_DIMS
    names = legacy["keypoints"].values.tolist()
    assert len(names) == 17 + 21 and names[17] == "left_hand.wrist"
    with pytest.raises(ValidationError, match="no world coordinates"):
        rand_sequence(8).to_xarray(coords="world")
    untracked = PoseSequence("coco17", np.zeros((1, 3, 17, 2)), np.zeros((1, 3, 17)), np.ones((1, 3, 17)), [0.0],
                             track_id=[-1, -1, 2])  # fmt: skip
    assert untracked.to_xarray()["individual"].values.tolist() == ["untracked_0", "untracked_1", "id_2"]


def test_xarray_and_netcdf_round_trip(tmp_path):
    seq = rand_sequence(9)
    seq.log_step("track", max_age=3)
    for ds in (seq.to_xarray(), sequence_to_xarray(seq, legacy_dims=True)):
        back = sequence_from_xarray(ds)
        assert np.array_equal(back.xy.view(np.uint64), seq.xy.view(np.uint64))
        for name in ("score", "state", "time", "frame", "track_id"):
            np.testing.assert_array_equal(getattr(back, name), getattr(seq, name), err_msg=name)
        assert back.provenance == seq.provenance and back.fps == seq.fps and back.image_size == seq.image_size
    p = tmp_path / "poses.nc"
    save_netcdf(seq, p)
    ds = load_netcdf(p)
    assert ds["position"].dims == DIMS and ds.attrs["ds_type"] == "poses"
    back = sequence_from_xarray(ds)
    assert np.array_equal(back.xy.view(np.uint64), seq.xy.view(np.uint64))
    np.testing.assert_array_equal(back.state, seq.state)
    np.testing.assert_array_equal(back.track_id, seq.track_id)
    # a plain movement dataset (no state): finite positions are VISIBLE
    plain = seq.to_xarray().drop_vars("state")
    plain.attrs.pop("skeleton")
    b2 = sequence_from_xarray(plain, skeleton="coco17")
    np.testing.assert_array_equal(b2.present, seq.present)


# --- posekit JSON ---------------------------------------------------------------------------------
def test_posekit_json_round_trips_every_kind(tmp_path):
    rng = np.random.default_rng(11)
    hand = rand_frame(rng, 2, "hand21", world=True)
    f = rand_frame(rng, 2, z=True, world=True, track_id=[3, 4], frame=9, time=0.3, image_size=(640, 480),
                   parts={"left_hand": hand}, extras={"handedness": np.array([0.25, np.nan]), "label": np.array(["a", "b"]),
                                                      "count": np.array([[1, 2], [3, 4]], np.int32)})  # fmt: skip
    p = tmp_path / "frame.json"
    save_poses(f, p)
    text = p.read_text()
    assert "NaN" not in text and "null" in text
    head = json.loads(text)
    assert head["format"] == "posekit" and head["version"] == 1 and head["skeleton"] == "coco17"
    g = load_poses(p)
    assert_frames_equal(f, g)
    assert_frames_equal(hand, g.parts["left_hand"], meta=False)
    for k, v in f.extras.items():
        np.testing.assert_array_equal(g.extras[k], v)
        assert g.extras[k].dtype == v.dtype
    frames = [f, PoseFrame.empty("coco17", frame=10), rand_frame(rng, 1, "blazepose33")]
    save_poses(frames, tmp_path / "frames.json")
    back = load_poses(tmp_path / "frames.json")
    assert isinstance(back, list) and len(back) == 3
    for a, b in zip(frames, back):
        assert_frames_equal(a, b)
    seq = rand_sequence(12, parts=True, world=True)
    seq.log_step("fill_gaps", max_gap_s=0.5)
    save_poses(seq, tmp_path / "seq.json")
    s2 = load_poses(tmp_path / "seq.json")
    assert isinstance(s2, PoseSequence)
    for name in ("xy", "score", "state", "time", "frame", "track_id", "z", "world", "box", "box_score"):
        a, b = getattr(seq, name), getattr(s2, name)
        assert np.array_equal(a.view(np.uint64) if a.dtype == np.float64 else a, b.view(np.uint64) if b.dtype == np.float64 else b), name
    assert s2.provenance == seq.provenance and s2.fps == seq.fps and s2.source == seq.source and s2.image_size == seq.image_size
    np.testing.assert_array_equal(s2.parts["left_hand"].xy, seq.parts["left_hand"].xy)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(format="coco"), "not a posekit poses file \\('format' is 'coco'"),
        (lambda d: d.update(version=99), "file version 99 is newer"),
        (lambda d: d.update(skeleton="coco18"), "field 'skeleton': unknown skeleton 'coco18'"),
        (lambda d: d.update(score=[[0.5] * 16]), r"field 'score' has shape \(1, 16\), expected \(1, 17\)"),
        (lambda d: d.update(xy=[[[1, 2]] * 17, [[1, 2]] * 16]), "field 'xy' must be a nested list of numbers"),
        (lambda d: d.update(state=[[7] * 17]), "field 'state' holds values outside 0..5"),
        (lambda d: d.update(state=[[0] * 17]), "invalid poses in '<root>'.*MISSING but has coordinates"),
        (lambda d: d.update(kind="video"), "field 'kind' must be"),
        (lambda d: d.update(image_size=[640]), "field 'image_size' must be"),
        (lambda d: d["parts"].update(left_hand={"skeleton": "hand21", "xy": [], "score": [], "state": []}),
         r"field 'parts.left_hand.xy' has shape \(0, 21, 2\), expected \(1, 21, 2\)"),
    ],
)  # fmt: skip
def test_posekit_json_errors_name_the_field(tmp_path, edit, message):
    rng = np.random.default_rng(13)
    p = tmp_path / "p.json"
    f = rand_frame(rng, 1)
    f.state[:] = S.VISIBLE
    f.xy[:] = 1.0
    save_poses(f, p)
    doc = json.loads(p.read_text())
    edit(doc)
    p.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=message) as ei:
        load_poses(p)
    assert str(p) in str(ei.value)


def test_posekit_json_file_errors_and_atomic_write(tmp_path):
    p = tmp_path / "p.json"
    p.write_text('{"format": "posekit",')
    with pytest.raises(InputError, match=r"not valid JSON: .* line 1 column 22"):
        load_poses(p)
    p.write_text("")
    with pytest.raises(InputError, match="file is empty"):
        load_poses(p)
    good = rand_frame(np.random.default_rng(0), 1)
    save_poses(good, p)
    before = p.read_bytes()
    bad = rand_frame(np.random.default_rng(1), 1, z=True)
    bad.z[0, bad.present[0]] = np.inf
    with pytest.raises(OutputError, match="infinite"):
        save_poses(bad, p)
    assert p.read_bytes() == before  # untouched
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p.json"]  # no temporary left behind
    with pytest.raises(TypeError):
        save_poses({"not": "poses"}, p)


def test_results_with_a_nan_score_are_refused(tmp_path):
    import json

    from posekit.errors import InputError
    from posekit.io.coco import read_coco_results

    p = tmp_path / "res.json"
    p.write_text(json.dumps([{"image_id": 1, "category_id": 1, "keypoints": [1.0, 2.0, 2] * 17, "score": float("nan")}]))
    import pytest

    with pytest.raises(InputError, match="score"):
        read_coco_results(p, skeleton="coco17")
