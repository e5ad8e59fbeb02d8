"""posekit's BlazePose pipeline agrees with mediapipe.solutions.pose on real COCO photos.

Detector on the full image → best detection → ROI → landmark model, compared with MediaPipe's legacy
``Pose(static_image_mode=True, model_complexity=1)``. Metric per image: median over the 33 landmarks of
|ours − mediapipe| in pixels divided by the diagonal of the box around MediaPipe's landmarks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posekit.models.blazepose import PoseDetector, PoseLandmarker, detection_to_roi

pytestmark = pytest.mark.integration

MAX_MEDIAN_ERROR = 0.02  # fraction of the person's box diagonal


def test_body_landmarks_agree_with_mediapipe(data_dir: Path) -> None:
    from mediapipe.python.solutions import pose as mp_pose  # imported here: slow, and only this test needs it

    paths = sorted((data_dir / "1_images_2d_keypoints" / "coco_mini" / "train2017").glob("*.jpg"))
    assert len(paths) >= 20, f"expected the COCO subset under {data_dir}, found {len(paths)} photos"
    det, lmk = PoseDetector(), PoseLandmarker()
    errors: dict[str, float] = {}
    found_only_by_one: list[str] = []
    with mp_pose.Pose(static_image_mode=True, model_complexity=1) as ref:
        for p in paths:
            img = np.asarray(Image.open(p).convert("RGB"))
            h, w = img.shape[:2]
            r = ref.process(img)
            theirs = None
            if r.pose_landmarks is not None:
                theirs = np.array([[q.x * w, q.y * h] for q in r.pose_landmarks.landmark])
            ours = None
            d = det(img)
            if len(d):
                res = lmk(img, detection_to_roi(d.keypoints[0]))
                ours = res.xy if res.pose_score >= 0.5 else None
            if (ours is None) != (theirs is None):
                found_only_by_one.append(p.name)
            if ours is None or theirs is None:
                continue
            diag = float(np.hypot(*(theirs.max(0) - theirs.min(0))))
            assert np.linalg.norm(ours[0] - theirs[0]) < 0.1 * diag, f"{p.name}: a different person was chosen"
            errors[p.name] = float(np.median(np.linalg.norm(ours - theirs, axis=1)) / diag)
    assert len(errors) >= 10, f"too few photos with a person found by both: {sorted(errors)}"
    assert len(found_only_by_one) <= 1, f"person found by only one of posekit/mediapipe: {found_only_by_one}"
    bad = {k: round(v, 4) for k, v in errors.items() if v > MAX_MEDIAN_ERROR}
    assert not bad, f"median error above {MAX_MEDIAN_ERROR:.0%} of the box diagonal: {bad}"


def test_estimator_output_agrees_with_mediapipe(data_dir: Path) -> None:
    """What users get from ``PoseEstimator`` (multi-person, tiles, refinement pass) agrees with MediaPipe.

    For every photo where MediaPipe finds its one person, the posekit person with the nearest nose is
    compared; the median over photos of the per-photo median error must stay within 2% of the box
    diagonal, and at least 80% of the photos must be within 2% individually.
    """
    from mediapipe.python.solutions import pose as mp_pose

    from posekit import PoseEstimator

    paths = sorted((data_dir / "1_images_2d_keypoints" / "coco_mini" / "train2017").glob("*.jpg"))
    est = PoseEstimator()
    errors: dict[str, float] = {}
    with mp_pose.Pose(static_image_mode=True, model_complexity=1) as ref:
        for p in paths:
            img = np.asarray(Image.open(p).convert("RGB"))
            h, w = img.shape[:2]
            r = ref.process(img)
            if r.pose_landmarks is None:
                continue
            theirs = np.array([[q.x * w, q.y * h] for q in r.pose_landmarks.landmark])
            diag = float(np.hypot(*(theirs.max(0) - theirs.min(0))))
            frame = est(img)
            if not len(frame):
                continue
            i = int(np.argmin(np.linalg.norm(frame.xy[:, 0] - theirs[0], axis=1)))
            if np.linalg.norm(frame.xy[i, 0] - theirs[0]) > 0.1 * diag:
                continue
            errors[p.name] = float(np.median(np.linalg.norm(frame.xy[i] - theirs, axis=1)) / diag)
    assert len(errors) >= 15, f"too few photos with the person found by both: {sorted(errors)}"
    vals = np.array(list(errors.values()))
    assert np.median(vals) <= MAX_MEDIAN_ERROR, errors
    assert (vals <= MAX_MEDIAN_ERROR).mean() >= 0.8, {k: round(v, 4) for k, v in errors.items()}
