"""Small synthetic review projects (for tests, benchmarks and demos): no real data needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from posekit.poses import KeypointState, PoseSequence
from posekit.skeletons import get_skeleton

__all__ = ["synthetic_video_project", "synthetic_image_project", "walking_people"]


def walking_people(t: int, people: int, width: int, height: int, seed: int = 0) -> np.ndarray:
    """``(T, I, 17, 2)`` pixel positions of COCO-17 stick people drifting across a ``width × height`` frame."""
    rng = np.random.default_rng(seed)
    # a standing figure in a unit box (x right, y down), COCO-17 order
    base = np.array([
        [0.5, 0.08], [0.54, 0.06], [0.46, 0.06], [0.58, 0.08], [0.42, 0.08],
        [0.65, 0.22], [0.35, 0.22], [0.72, 0.38], [0.28, 0.38], [0.75, 0.52], [0.25, 0.52],
        [0.6, 0.55], [0.4, 0.55], [0.62, 0.75], [0.38, 0.75], [0.63, 0.95], [0.37, 0.95],
    ])  # fmt: skip
    h = 0.6 * height
    out = np.zeros((t, people, 17, 2))
    for i in range(people):
        x0 = (0.2 + 0.5 * i / max(people, 1)) * width
        y0 = 0.2 * height
        for f in range(t):
            dx = 2.0 * f + rng.normal(0, 0.3)
            out[f, i] = base * [h * 0.5, h] + [x0 + dx, y0]
    return out


def synthetic_video_project(folder: str | Path, *, frames: int = 12, width: int = 320, height: int = 240,
                            people: int = 2, fps: float = 10.0) -> tuple[Path, Path]:  # fmt: skip
    """Write ``clip.mp4`` (plain gradients with a frame counter band) and ``clip.json`` (a posekit sequence).

    Returns:
        ``(video path, posekit JSON path)``. Keypoint 3 (``left_ear``) of person 1 is MISSING in every frame.
    """
    from posekit.io.posekit_json import save_poses
    from posekit.io.video import write_video

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:height, 0:width]
    imgs = []
    for f in range(frames):
        img = np.zeros((height, width, 3), np.uint8)
        img[..., 0] = (xx * 255 // max(width - 1, 1)).astype(np.uint8)
        img[..., 1] = (yy * 255 // max(height - 1, 1)).astype(np.uint8)
        img[..., 2] = (f * 20) % 256
        imgs.append(img)
    video = write_video(folder / "clip.mp4", imgs, fps)
    xy = walking_people(frames, people, width, height)
    state = np.full(xy.shape[:3], int(KeypointState.VISIBLE), np.uint8)
    score = np.full(xy.shape[:3], 0.9, np.float32)
    if people > 1:
        xy[:, 1, 3] = np.nan
        state[:, 1, 3] = KeypointState.MISSING
        score[:, 1, 3] = 0.0
    seq = PoseSequence(get_skeleton("coco17"), xy, score, state, np.arange(frames) / fps,
                       track_id=np.arange(people, dtype=np.int64) + 1, image_size=(width, height), fps=fps,
                       source=str(video))  # fmt: skip
    ann = folder / "clip.json"
    save_poses(seq, ann)
    return Path(video), ann


def synthetic_image_project(folder: str | Path, *, images: int = 3, width: int = 200, height: int = 160) -> tuple[Path, Path]:
    """Write ``images/img_XX.jpg`` and ``annotations.json`` (COCO keypoints, one or two people per image).

    Returns:
        ``(image folder, COCO JSON path)``.
    """
    import cv2

    folder = Path(folder)
    imgdir = folder / "images"
    imgdir.mkdir(parents=True, exist_ok=True)
    sk = get_skeleton("coco17")
    doc: dict = {"images": [], "annotations": [], "categories": [
        {"id": 1, "name": "person", "keypoints": list(sk.keypoints), "skeleton": [[a + 1, b + 1] for a, b in sk.edges]}]}
    aid = 100
    for i in range(images):
        img = np.full((height, width, 3), 40 + 50 * i, np.uint8)
        name = f"img_{i:02d}.jpg"
        cv2.imwrite(str(imgdir / name), img)
        doc["images"].append({"id": 10 + i, "file_name": name, "width": width, "height": height})
        n = 1 + i % 2
        xy = walking_people(1, n, width, height, seed=i)[0]
        for p in range(n):
            kps = []
            for k in range(17):
                v = 0 if (p == 0 and k == 4) else 2
                kps += [0, 0, 0] if v == 0 else [round(float(xy[p, k, 0]), 2), round(float(xy[p, k, 1]), 2), v]
            doc["annotations"].append({"id": aid, "image_id": 10 + i, "category_id": 1, "keypoints": kps,
                                       "num_keypoints": 16 if p == 0 else 17, "iscrowd": 0,
                                       "bbox": [0, 0, width, height], "area": float(width * height)})  # fmt: skip
            aid += 1
    ann = folder / "annotations.json"
    ann.write_text(json.dumps(doc))
    return imgdir, ann
