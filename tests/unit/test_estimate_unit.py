"""Unit tests for posekit.estimate helpers (tiles, clustering, stability, scoring, duplicates) and the
estimator's config, on synthetic inputs; one short real-model run on matplotlib's sample portrait."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from posekit.config import EstimatorConfig, load_config
from posekit.errors import InputError
from posekit.estimate import (
    PoseEstimator,
    body_oks,
    cluster_detections,
    person_score,
    pose_oks,
    pose_stability,
    suppress_duplicates,
    tile_regions,
)
from posekit.models.geometry import Detections, full_image_rect


def _pose(x0: float, y0: float, w: float, h: float, seed: int = 0) -> np.ndarray:
    """A synthetic BlazePose-33 pose ``(33, 2)`` pixels spread over the box (x0, y0, w, h)."""
    rng = np.random.default_rng(seed)
    return np.column_stack([x0 + w * rng.random(33), y0 + h * rng.random(33)])


def _dets(boxes, scores, kps=None) -> Detections:
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if kps is None:  # hip centre under the face, scale point above it
        cx = 0.5 * (boxes[:, 0] + boxes[:, 2])
        kps = np.zeros((len(boxes), 4, 2), np.float32)
        kps[:, 0] = np.column_stack([cx, boxes[:, 3] + 100])
        kps[:, 1] = np.column_stack([cx, boxes[:, 1] - 20])
    return Detections(boxes, np.asarray(kps, np.float32), np.asarray(scores, np.float32))


# ------------------------------------------------------------------------------------------ tiles


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (1768, 994), (500, 333)])
@pytest.mark.parametrize("levels", [(1.0, 0.66, 0.44), (1.0, 0.5), (0.3,)])
def test_tiles_are_inside_the_image_and_cover_it(size, levels) -> None:
    w, h = size
    tiles = tile_regions(w, h, levels)
    short = min(w, h)
    for t in tiles:
        assert t.angle == 0.0 and t.w == t.h
        assert any(t.w == pytest.approx(f * short) for f in levels)
        assert t.cx - t.w / 2 >= -1e-9 and t.cx + t.w / 2 <= w + 1e-9
        assert t.cy - t.h / 2 >= -1e-9 and t.cy + t.h / 2 <= h + 1e-9
    # Every level that is not skipped covers every pixel centre.
    ys, xs = np.mgrid[0.5:h:7, 0.5:w:7]
    pts = np.column_stack([xs.ravel(), ys.ravel()])
    for f in levels:
        level = [t for t in tiles if t.w == pytest.approx(f * short)]
        if f * short >= max(w, h) - 1:
            assert not level  # a tile as large as the image is the full image: skipped
            continue
        covered = np.zeros(len(pts), bool)
        for t in level:
            covered |= t.contains(pts)
        assert covered.all(), f"level {f} leaves pixels uncovered"


def test_tile_counts_and_overlap_on_a_photo() -> None:
    # 640x480, level 0.5: side 240, step 180 -> 4 columns x 3 rows; level 1.0: side 480 -> 2 columns.
    t = tile_regions(640, 480, [0.5])
    assert len(t) == 12
    xs = sorted({round(r.cx, 6) for r in t})
    assert xs[0] == pytest.approx(120) and xs[-1] == pytest.approx(520)
    assert np.diff(xs).max() <= 240 * (1 - 0.25) + 1e-9  # neighbours share at least 25 %
    assert len(tile_regions(640, 480, [1.0])) == 2
    assert tile_regions(500, 500, [1.0]) == []  # would equal the full image
    assert len(tile_regions(640, 480, [1.0, 0.66, 0.44])) == 2 + 6 + 12


# ------------------------------------------------------------------------------------ clustering


def test_cluster_detections_merges_one_person_seen_in_two_tiles() -> None:
    a = _dets([[100, 100, 140, 140]], [0.9])  # from tile A
    b = _dets([[104, 102, 144, 142]], [0.6])  # the same face from tile B, shifted a little
    c = _dets([[400, 100, 440, 140]], [0.7])  # someone else
    out = cluster_detections([a, b, c, Detections.empty(4)])
    assert len(out) == 2
    np.testing.assert_allclose(out.scores, [0.9, 0.7])  # best first, cluster keeps its best score
    want = (0.9 * np.array([100, 100, 140, 140]) + 0.6 * np.array([104, 102, 144, 142])) / 1.5
    np.testing.assert_allclose(out.boxes[0], want, rtol=1e-5)  # score-weighted mean
    np.testing.assert_allclose(out.boxes[1], [400, 100, 440, 140])
    assert out.keypoints.shape == (2, 4, 2)


def test_cluster_detections_keeps_faces_that_barely_touch() -> None:
    a = _dets([[0, 0, 40, 40]], [0.8])
    b = _dets([[30, 0, 70, 40]], [0.8])  # IoU = 10*40 / (2*1600 - 400) = 0.14 < 0.3
    assert len(cluster_detections([a, b])) == 2


def test_cluster_detections_of_nothing() -> None:
    out = cluster_detections([Detections.empty(4), Detections.empty(4)])
    assert len(out) == 0 and out.keypoints.shape == (0, 4, 2)
    assert len(cluster_detections([])) == 0


# ----------------------------------------------------------------------------- stability, scores


def test_body_oks_identical_shifted_and_symmetric() -> None:
    p = _pose(100, 100, 80, 200)
    assert body_oks(p, p) == pytest.approx(1.0)
    near, far = p + 3.0, p + 40.0
    assert 0.0 < body_oks(p, far) < body_oks(p, near) < 1.0
    assert body_oks(p, far) == pytest.approx(body_oks(far, p))


def test_body_oks_uses_the_smaller_pose_scale() -> None:
    big = _pose(0, 0, 400, 800, seed=1)
    small = big * 0.25 + 150  # a quarter-size body lying on the big one
    area_small = float(np.prod(np.ptp(small[[0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]], 0)))
    assert body_oks(big, small) == pytest.approx(pose_oks(big, small, area_small))
    assert body_oks(big, small) < 0.1


def test_pose_stability_drops_when_the_second_pass_drifts() -> None:
    first = _pose(200, 50, 100, 300, seed=2)
    assert pose_stability(first, first + 1.0) > 0.95
    drifted = first.copy()
    drifted[::2] += 60.0  # half of the landmarks move by 60 px
    assert pose_stability(first, drifted) < 0.6


def test_person_score_is_the_product_in_unit_range() -> None:
    assert person_score(0.9, 0.5) == pytest.approx(0.45)
    assert person_score(1.0, 1.0) == 1.0 and person_score(0.0, 0.8) == 0.0
    assert isinstance(person_score(np.float32(0.5), np.float64(0.5)), float)


# ---------------------------------------------------------------------------------- duplicates


def test_suppress_duplicates_keeps_the_first_of_one_body() -> None:
    a = _pose(100, 100, 80, 200, seed=3)
    b = _pose(400, 100, 80, 200, seed=4)
    poses = [a, a + 2.0, b, b - 1.0, a + 60.0]
    assert suppress_duplicates(poses, 0.5) == [0, 2, 4]
    assert suppress_duplicates(poses, 1.0) == [0, 1, 2, 3, 4]  # OKS < 1 for any shift: all kept
    assert suppress_duplicates([], 0.5) == []


def test_suppress_duplicates_respects_existing_poses() -> None:
    a = _pose(100, 100, 80, 200, seed=5)
    b = _pose(400, 100, 80, 200, seed=6)
    assert suppress_duplicates([a + 1.0, b], 0.5, existing=[a]) == [1]


# -------------------------------------------------------------------------------------- config


def test_config_defaults_and_validation() -> None:
    c = EstimatorConfig()
    assert c.tile_levels == (1.0, 0.66, 0.44) and c.video_tile_levels == (1.0, 0.5)
    assert c.min_detection_score == 0.4 and c.video_min_detection_score == 0.5 and c.tile_min_side == 448
    with pytest.raises(ValueError, match="video_tile_levels"):
        EstimatorConfig(video_tile_levels=(1.0, 0.01))
    with pytest.raises(ValueError, match="video_min_detection_score"):
        EstimatorConfig(video_min_detection_score=1.5)
    with pytest.raises(ValueError, match="tile_levels"):
        EstimatorConfig(tile_levels=(2.0,))


def test_load_config_reads_level_lists_as_tuples(tmp_path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[estimate]\ntile_levels = [1.0, 0.5]\nvideo_tile_levels = [0.8]\nmin_detection_score = 0.3\n")
    c = load_config(p)
    assert c.tile_levels == (1.0, 0.5) and c.video_tile_levels == (0.8,) and c.min_detection_score == 0.3
    p.write_text("[estimate]\nvideo_tile_levels = [0]\n")
    with pytest.raises(InputError, match="video_tile_levels"):
        load_config(p)


# ------------------------------------------------------------------------------ estimator runs


@pytest.fixture(scope="module")
def estimator() -> PoseEstimator:
    return PoseEstimator()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """Grace Hopper portrait shipped with matplotlib (600x512 RGB): one person, upper body."""
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))


def test_image_mode_scores_one_stable_person(estimator: PoseEstimator, photo: np.ndarray) -> None:
    before = dict(estimator.counts)
    frame = estimator(photo)
    assert len(frame) == 1
    assert 0.5 <= float(frame.box_score[0]) <= 1.0  # pose presence x stability, above min_pose_score
    n_det = estimator.counts["detect"] - before["detect"]
    assert n_det == 1 + len(tile_regions(photo.shape[1], photo.shape[0], estimator.config.tile_levels))
    # Two landmark passes per candidate that passes the first; the person's tiles cost no more runs.
    assert 2 <= estimator.counts["landmarks"] - before["landmarks"] <= 2 * n_det
    face = frame.xy[0, 0]
    assert 150 < face[0] < 450 and 50 < face[1] < 350  # the nose is on her face


def test_blank_image_has_no_one(estimator: PoseEstimator) -> None:
    frame = estimator(np.full((480, 640, 3), 128, np.uint8))
    assert len(frame) == 0 and frame.box_score.shape == (0,)


def test_find_people_does_nothing_when_full(photo: np.ndarray) -> None:
    """Video scans cost nothing once ``max_people`` people are tracked."""
    est = PoseEstimator(max_people=1)
    h, w = photo.shape[:2]
    tracked = est.landmarker(photo, full_image_rect(w, h))
    before = dict(est.counts)
    assert est._find_people(photo, [full_image_rect(w, h)], existing=[tracked], min_score=0.5) == []
    assert est.counts == before


def test_video_follows_one_person_with_one_landmark_run_per_frame(photo: np.ndarray) -> None:
    est = PoseEstimator(max_people=1, detect_every=0)
    stream = iter(est.stream([photo] * 6))
    first = next(stream)
    after_first = dict(est.counts)
    rest = list(stream)
    assert [len(f) for f in [first, *rest]] == [1] * 6
    assert {int(f.track_id[0]) for f in [first, *rest]} == {0}
    # After the first frame: no detector, one landmark run per frame (no second pass on tracked people).
    assert est.counts["detect"] == after_first["detect"]
    assert est.counts["landmarks"] - after_first["landmarks"] == 5
