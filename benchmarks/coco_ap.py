"""COCO keypoint OKS AP on the shared COCO photos: posekit against MediaPipe legacy, same run.

    python benchmarks/coco_ap.py [--write docs/benchmarks.md]

Both are scored by pycocotools' COCOeval (iouType="keypoints", COCO-17 sigmas) on the same ground truth:
``coco_mini`` (28 train2017 photos, 147 annotations) and mmpose's 4 val2017 photos. posekit runs its
multi-person image mode (default settings); MediaPipe legacy runs ``mp.solutions.pose.Pose(
static_image_mode=True, model_complexity=1)``, which finds at most one person per image. Each result's
score is the person score times the mean keypoint visibility (posekit: ``PoseFrame.to_coco``; MediaPipe:
mean visibility of the 17 COCO landmarks).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_dir, git_rev, machine, markdown_table, stamp, update_section  # noqa: E402

SETS = {
    "coco_mini (28 photos)": (
        "1_images_2d_keypoints/coco_mini/annotations/person_keypoints_train2017.present_images_only.json",
        "1_images_2d_keypoints/coco_mini/train2017",
    ),
    "mmpose coco val (4 photos)": (
        "1_images_2d_keypoints/mmpose/tests/data/coco/test_coco.json",
        "1_images_2d_keypoints/mmpose/tests/data/coco",
    ),
}
COCO_FROM_BP = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


def coco_eval(gt_path: Path, results: list[dict]) -> dict[str, float]:
    """pycocotools' summary (AP, AP50, AR, ...) through :func:`posekit.metrics.oks_ap` (0 when empty)."""
    from posekit.metrics import oks_ap

    if not results:
        return {"AP": 0.0, "AP50": 0.0, "AR": 0.0}
    return oks_ap(gt_path, results)


def run_posekit(images: list[tuple[int, Path]], **options) -> tuple[list[dict], float]:
    from posekit import PoseEstimator
    from posekit.io.images import read_image

    est = PoseEstimator(threads=1, **options)
    out, t = [], 0.0
    for image_id, path in images:
        img = read_image(path)
        t0 = time.perf_counter()
        frame = est(img)
        t += time.perf_counter() - t0
        out += frame.to_coco(image_id)
    return out, t


def run_mediapipe(images: list[tuple[int, Path]]) -> tuple[list[dict], float]:
    import mediapipe as mp

    from posekit.io.images import read_image

    out, t = [], 0.0
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        for image_id, path in images:
            img = read_image(path)
            h, w = img.shape[:2]
            t0 = time.perf_counter()
            res = pose.process(img)
            t += time.perf_counter() - t0
            if res.pose_landmarks is None:
                continue
            lm = res.pose_landmarks.landmark
            kps, vis = [], []
            for j in COCO_FROM_BP:
                kps += [lm[j].x * w, lm[j].y * h, 2]
                vis.append(lm[j].visibility)
            out.append({"image_id": image_id, "category_id": 1, "keypoints": kps, "score": float(np.mean(vis))})
    return out, t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to update ('' to skip)")
    args = ap.parse_args()
    d = data_dir()
    rows = []
    for name, (ann, folder) in SETS.items():
        gt = json.loads((d / ann).read_text())
        images = [(im["id"], d / folder / im["file_name"]) for im in gt["images"] if (d / folder / im["file_name"]).is_file()]
        theirs, t_mp = run_mediapipe(images)
        b = coco_eval(d / ann, theirs)
        for label, options in (("posekit (default)", {}), ("posekit refine_landmarks=True", {"refine_landmarks": True})):
            ours, t_ours = run_posekit(images, **options)
            a = coco_eval(d / ann, ours)
            rows.append([
                name, label,
                f"{100 * a['AP']:.1f}", f"{100 * b['AP']:.1f}", f"{100 * (a['AP'] - b['AP']):+.1f}",
                f"{100 * a['AP50']:.1f}", f"{100 * b['AP50']:.1f}",
                f"{100 * a['AR']:.1f}", f"{100 * b['AR']:.1f}",
                f"{len(ours)} / {len(theirs)}",
                f"{1e3 * t_ours / len(images):.0f} / {1e3 * t_mp / len(images):.0f}",
            ])  # fmt: skip
    body = "\n".join([
        "## COCO keypoint AP (`python benchmarks/coco_ap.py`)\n",
        f"{stamp()} · {machine()} · commit {git_rev()}\n",
        "OKS AP by pycocotools on the shared COCO photos (COCO-17 view of BlazePose-33). "
        "MediaPipe legacy = `mp.solutions.pose`, static image mode, model_complexity=1 (one person per image).\n",
        markdown_table(
            ["set", "posekit variant", "AP posekit", "AP MediaPipe", "Δ AP (points)", "AP50 posekit", "AP50 MP", "AR posekit", "AR MP",
             "poses returned (ours / MP)", "ms per image (ours / MP)"],
            rows,
        ),
    ])  # fmt: skip
    print(body)
    if args.write:
        update_section(Path(args.write), "coco_ap", body)


if __name__ == "__main__":
    main()
