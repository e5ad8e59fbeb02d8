"""Video mode on real recordings from ``$POSEKIT_TEST_DATA``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posekit import PoseEstimator, PoseSequence

SPORTS2D = "5_plain_videos/sports2d/Sports2D/Demo/demo.mp4"
UPFALL_WALK = "5_plain_videos/upfall_via_HumanFallDetection/dataset/Activity6/Subject1/Trial1Cam1.mp4"


@pytest.fixture(scope="module")
def sports2d(data_dir: Path) -> PoseSequence:
    return PoseEstimator().video(data_dir / SPORTS2D).collect()


def test_sports2d_two_main_people_are_followed(sports2d: PoseSequence) -> None:
    """The jumper and the walker each keep one region-track id over a long stretch, at the same time."""
    seq = sports2d
    assert seq.num_frames == 230
    assert np.all(np.diff(seq.time) > 0) and abs(seq.time[1] - seq.time[0] - 1 / 30) < 1e-3
    present = seq.present.any(-1)  # (T, I)
    long_tracks = []
    for i in range(seq.num_individuals):
        frames = np.flatnonzero(present[:, i])
        if len(frames) < 100:
            continue
        span = frames[-1] - frames[0] + 1
        assert len(frames) / span >= 0.95, f"track {seq.track_id[i]} has gaps: {len(frames)} of {span} frames"
        long_tracks.append(i)
    assert len(long_tracks) >= 2, f"long tracks: {[int(present[:, i].sum()) for i in range(seq.num_individuals)]}"
    a, b = long_tracks[:2]
    assert (present[:, a] & present[:, b]).sum() >= 80, "the two main people are followed at the same time"
    # Their skeletons are separate bodies, far apart while both are tracked.
    both = np.flatnonzero(present[:, a] & present[:, b])
    hips = seq.xy[:, :, [23, 24]].mean(axis=2)  # (T, I, 2)
    dist = np.linalg.norm(hips[both, a] - hips[both, b], axis=-1)
    assert np.median(dist) > 100


def test_sports2d_world_landmarks_are_metric(sports2d: PoseSequence) -> None:
    """World landmarks are in metres around the hips: plausible human bone lengths."""
    w = sports2d.world
    ok = sports2d.present.all(-1)
    thigh = np.linalg.norm(w[..., 23, :] - w[..., 25, :], axis=-1)[ok]
    assert 0.25 < np.median(thigh) < 0.6
    hip_mid = w[..., [23, 24], :].mean(axis=-2)[ok]
    assert np.median(np.linalg.norm(hip_mid, axis=-1)) < 0.05


def test_single_person_walk_is_tracked_without_redetection(data_dir: Path) -> None:
    """One walker in a 640×480 clip: found whenever in view, few landmark calls.

    The walker leaves the view for about 20 of the first 150 frames (MediaPipe legacy finds 126 of them,
    posekit 130 at the time of writing).
    """
    est = PoseEstimator(max_people=1)
    frames = []
    for f in est.video(data_dir / UPFALL_WALK):
        frames.append(f)
        if len(frames) == 150:
            break
    found = [len(f) for f in frames]
    assert sum(found) >= 126
    ids = {int(t) for f in frames for t in f.track_id}
    assert len(ids) <= 2
    assert est.counts["landmarks"] <= 1.2 * len(frames) + 10
