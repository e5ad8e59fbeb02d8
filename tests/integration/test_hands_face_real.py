"""Hands and faces on real annotated images, against ground truth and against MediaPipe itself.

Data: ``$POSEKIT_TEST_DATA/6_hands/mmpose/tests/data/{freihand,onehand10k,rhd,panoptic}`` (one hand per
annotation, 21 keypoints) and ``6_faces/mmpose/tests/data/{300w,...}`` (68-point faces).

Keypoint layout: the hand sets list ``wrist, thumb1..4, forefinger1..4, middle_finger1..4,
ring_finger1..4, pinky_finger1..4``, which is MediaPipe's hand21 order (wrist, then each finger from the
base to the tip) for FreiHAND, OneHand10K and Panoptic. mmpose's RHD file stores each finger tip-first
(its ``thumb1`` lies farthest from the wrist), so RHD is re-ordered per finger; the test checks the
layout on the ground truth itself (every finger's base is nearer the wrist than its tip).

Face: no complete 468 → 68 table is used. Only the four eye corners are compared: MediaPipe's iris graph
(``iris_landmark_left_and_right_from_face_landmarks_cpu.pbtxt``) takes mesh vertices {33, 133} and
{362, 263} as the two eyes' corner pairs, and the face-landmark graph levels the crop on 33 → 263 (outer
corners); within each pair the order against 300W's corners 36/39 (person's right eye, outer/inner) and
42/45 (left eye, inner/outer) was checked on these images (wrong pairings err by > 0.2 of the
inter-ocular distance, the right ones by < 0.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from PIL import Image

from posekit.models.face import FacePipeline, face_landmarks_to_roi
from posekit.models.hands import HandPipeline, hand_landmarks_to_roi

pytestmark = pytest.mark.integration

HAND_SETS = ("freihand", "onehand10k", "rhd", "panoptic")
# mmpose's RHD annotation: per finger tip → base. Map to hand21 (base → tip).
RHD_TO_HAND21 = [0, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13, 20, 19, 18, 17]
MESH_EYE_CORNERS = {33: 36, 133: 39, 362: 42, 263: 45}  # mesh vertex → 300W 68-point index (0-based)


def _load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _hand_annotations(
    root: Path, name: str, raw: bool = False
) -> Iterator[tuple[Path, np.ndarray, str | None]]:
    """Yield (image path, (21, 3) keypoints x, y, v in hand21 order (file order if raw), hand_type or None)."""
    d = root / "6_hands" / "mmpose" / "tests" / "data" / name
    data = json.loads((d / f"test_{name}.json").read_text())
    images = {im["id"]: im for im in data["images"]}
    for ann in data["annotations"]:
        k = np.asarray(ann["keypoints"], dtype=np.float64).reshape(21, 3)
        if name == "rhd" and not raw:
            k = k[RHD_TO_HAND21]
        yield d / images[ann["image_id"]]["file_name"], k, ann.get("hand_type")


def _diag(pts: np.ndarray) -> float:
    return float(np.hypot(*np.ptp(pts, axis=0)))


@pytest.fixture(scope="module")
def hands() -> HandPipeline:
    return HandPipeline()


@pytest.fixture(scope="module")
def faces() -> FacePipeline:
    return FacePipeline()


def _runs_base_to_tip(k: np.ndarray) -> list[bool]:
    """Per finger with visible joints: is its first joint nearer the wrist than its second (base → tip)?"""
    v = k[:, 2] > 0
    out = []
    for base in (1, 5, 9, 13, 17):
        if v[0] and v[base] and v[base + 1]:
            d = np.hypot(*(k[[base, base + 1], :2] - k[0, :2]).T)
            out.append(bool(d[0] < d[1]))
    return out


@pytest.mark.parametrize("name", HAND_SETS)
def test_hand_gt_layout_is_hand21(data_dir: Path, name: str) -> None:
    checks = [ok for _, k, _ in _hand_annotations(data_dir, name) for ok in _runs_base_to_tip(k)]
    assert len(checks) >= 5 and all(checks), f"{name}: some finger runs tip-first"
    if name == "rhd":  # the raw file runs tip-first: the re-ordering is needed
        raw = [ok for _, k, _ in _hand_annotations(data_dir, name, raw=True) for ok in _runs_base_to_tip(k)]
        assert sum(raw) < len(raw) / 2


def test_hands_against_ground_truth_and_mediapipe(data_dir: Path, hands: HandPipeline) -> None:
    import mediapipe as mp

    found = total = 0
    correct = counted = 0
    nmes: list[float] = []
    mp_diffs: list[float] = []
    track_diffs: list[float] = []
    rhd_sides: list[tuple[str, str]] = []
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2, model_complexity=1) as mp_static:
        for name in HAND_SETS:
            for path, k, hand_type in _hand_annotations(data_dir, name):
                img = _load_rgb(path)
                v = k[:, 2] > 0
                gt = k[:, :2]
                size = float(np.ptp(gt[v], axis=0).max())
                total += 1
                res = hands.detect(img)
                if not res:
                    continue
                # the annotated hand: the detection nearest the ground truth
                hand = min(res, key=lambda r: float(np.linalg.norm(r.xy[v] - gt[v], axis=1).mean()))
                err = np.linalg.norm(hand.xy[v] - gt[v], axis=1)
                if err.mean() > size:  # another hand in the picture, not the annotated one
                    continue
                found += 1
                correct += int((err < 0.2 * size).sum())
                counted += int(v.sum())
                nmes.append(float(err.mean()) / _diag(gt[v]))
                if hand_type is not None:
                    rhd_sides.append((hand.handedness, hand_type))
                ref = mp_static.process(img)
                assert ref.multi_hand_landmarks is not None, f"{path.name}: MediaPipe finds no hand but we do"
                h, w = img.shape[:2]
                cands = [np.array([[p.x * w, p.y * h] for p in lm.landmark]) for lm in ref.multi_hand_landmarks]
                m = min(cands, key=lambda c: float(np.linalg.norm(c - hand.xy, axis=1).mean()))
                mp_diffs.append(float(np.median(np.linalg.norm(m - hand.xy, axis=1))) / _diag(m))
                # second pass from the landmark ROI, against MediaPipe's tracking (video) mode
                with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=1, model_complexity=1) as mp_track:
                    mp_track.process(img)
                    ref2 = mp_track.process(img)
                best = hands.detect(img, max_hands=1)
                if ref2.multi_hand_landmarks and best:
                    m2 = np.array([[p.x * w, p.y * h] for p in ref2.multi_hand_landmarks[0].landmark])
                    second = hands.landmarker(img, hand_landmarks_to_roi(best[0].xy))
                    track_diffs.append(float(np.median(np.linalg.norm(m2 - second.xy, axis=1))) / _diag(m2))
    pck = correct / counted
    print(
        f"\nhands: found {found}/{total}; PCK@0.2(box) {pck:.3f}; mean error / box diagonal "
        f"{np.mean(nmes):.3f}; vs MediaPipe median {np.median(mp_diffs):.5f} max {np.max(mp_diffs):.5f}; "
        f"landmark-ROI pass vs MediaPipe tracking max {np.max(track_diffs):.5f}"
    )
    # measured (ai-edge-litert 2.3, mediapipe 0.10.21): found 16/19, PCK 0.857, NME 0.083, vs MP ≤ 0.0004
    assert found >= 14
    assert pck >= 0.7
    assert np.mean(nmes) <= 0.12
    assert np.max(mp_diffs) < 0.005
    assert len(track_diffs) >= 10 and np.max(track_diffs) < 0.01
    # RHD gives the anatomical side of each annotated hand
    assert len(rhd_sides) == 3 and all(ours == gt for ours, gt in rhd_sides)


def _face_annotations(root: Path, name: str, json_name: str) -> Iterator[tuple[Path, np.ndarray]]:
    d = root / "6_faces" / "mmpose" / "tests" / "data" / name
    data = json.loads((d / json_name).read_text())
    images = {im["id"]: im for im in data["images"]}
    for ann in data["annotations"]:
        yield d / images[ann["image_id"]]["file_name"], np.asarray(ann["keypoints"], np.float64).reshape(-1, 3)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_faces_on_300w_against_ground_truth_and_mediapipe(data_dir: Path, faces: FacePipeline) -> None:
    import mediapipe as mp

    ious, eye_nmes, mp_diffs, track_diffs = [], [], [], []
    sets = [("300w", "test_300w.json"), ("300wlp", "test_300wlp.json"), ("300vw", "anno_300vw.json")]
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1) as mp_static:
        for name, json_name in sets:
            for path, k in _face_annotations(data_dir, name, json_name):
                assert k.shape == (68, 3)
                img = _load_rgb(path)
                h, w = img.shape[:2]
                res = faces.detect(img)
                assert len(res) == 1, f"{path.name}: expected one face, found {len(res)}"
                face = res[0]
                assert face.score >= 0.5
                gt_box = np.concatenate([k[:, :2].min(0), k[:, :2].max(0)])
                ious.append(_iou(face.box(), gt_box))
                iod = float(np.hypot(*(k[36, :2] - k[45, :2])))
                eye_err = [np.hypot(*(face.xy[m] - k[g, :2])) for m, g in MESH_EYE_CORNERS.items()]
                eye_nmes.append(float(np.mean(eye_err)) / iod)
                ref = mp_static.process(img)
                m = np.array([[p.x * w, p.y * h] for p in ref.multi_face_landmarks[0].landmark])
                mp_diffs.append(float(np.median(np.linalg.norm(m - face.xy, axis=1))) / _diag(m))
                with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1) as mp_track:
                    mp_track.process(img)
                    ref2 = mp_track.process(img)
                m2 = np.array([[p.x * w, p.y * h] for p in ref2.multi_face_landmarks[0].landmark])
                second = faces.mesh(img, face_landmarks_to_roi(face.xy))
                track_diffs.append(float(np.median(np.linalg.norm(m2 - second.xy, axis=1))) / _diag(m2))
    print(
        f"\nfaces ({len(ious)}): mesh-box IoU with GT box min {min(ious):.2f} mean {np.mean(ious):.2f}; "
        f"eye-corner NME (inter-ocular) mean {np.mean(eye_nmes):.3f} max {max(eye_nmes):.3f}; vs MediaPipe "
        f"median {np.median(mp_diffs):.5f} max {max(mp_diffs):.5f}; landmark-ROI pass vs tracking max "
        f"{max(track_diffs):.5f}"
    )
    # measured: IoU ≥ 0.75, eye-corner NME mean 0.037 (max 0.057), vs MediaPipe ≤ 0.0013
    assert len(ious) == 7
    assert min(ious) >= 0.6
    assert np.mean(eye_nmes) <= 0.08 and max(eye_nmes) <= 0.15
    assert max(mp_diffs) < 0.005
    assert max(track_diffs) < 0.005


def test_for_bodies_matches_mediapipe_holistic(data_dir: Path, hands: HandPipeline, faces: FacePipeline) -> None:
    """Hands and face attached to a body: fed Holistic's own pose, we find what Holistic finds, where it finds it."""
    import mediapipe as mp

    files = [
        data_dir / "6_hands/mmpose/tests/data/panoptic/005880453_01_l.jpg",
        data_dir / "6_hands/mmpose/tests/data/panoptic/ex2_2.flv_000040_l.jpg",
        data_dir / "6_hands/mmpose/tests/data/onehand10k/33.jpg",
        data_dir / "6_faces/mmpose/tests/data/300wlp/AFW_134212_1_0.jpg",
        data_dir / "6_faces/mmpose/tests/data/wflw/7_Cheering_Cheering_7_16.jpg",
        data_dir / "6_faces/mmpose/tests/data/aflw/image22568.jpg",
    ]
    hand_diffs, face_diffs, fallback_diffs, n_hands = [], [], [], 0
    no_detector = FacePipeline(min_detection_score=1.5)  # no detection can pass: body fallback only
    with mp.solutions.holistic.Holistic(static_image_mode=True, model_complexity=1) as holistic:
        for path in files:
            img = _load_rgb(path)
            h, w = img.shape[:2]
            ref = holistic.process(img)
            assert ref.pose_landmarks is not None, path.name

            def arr(lms: Any) -> np.ndarray | None:
                return None if lms is None else np.array([[p.x * w, p.y * h] for p in lms.landmark])

            body = arr(ref.pose_landmarks)
            vis = np.array([p.visibility for p in ref.pose_landmarks.landmark])
            ours = hands.for_bodies(img, body[None], vis[None])[0]
            for side, lms in (("left", ref.left_hand_landmarks), ("right", ref.right_hand_landmarks)):
                m = arr(lms)
                assert (ours[side] is None) == (m is None), f"{path.name} {side}: Holistic {m is not None}"
                if m is not None:
                    n_hands += 1
                    hand_diffs.append(float(np.median(np.linalg.norm(m - ours[side].xy, axis=1))) / _diag(m))
            face = faces.for_bodies(img, body[None], vis[None])[0]
            m = arr(ref.face_landmarks)
            assert (face is None) == (m is None), path.name
            if m is not None:
                face_diffs.append(float(np.median(np.linalg.norm(m - face.xy, axis=1))) / _diag(m))
                rough = no_detector.for_bodies(img, body[None], vis[None])[0]
                assert rough is not None, path.name
                fallback_diffs.append(float(np.median(np.linalg.norm(m - rough.xy, axis=1))) / _diag(m))
    print(
        f"\nfor_bodies vs Holistic: {n_hands} hands, max median diff {max(hand_diffs):.5f}; "
        f"{len(face_diffs)} faces, max {max(face_diffs):.5f}; face from body points only (no detector): "
        f"median {np.median(fallback_diffs):.4f} max {max(fallback_diffs):.4f}"
    )
    assert n_hands >= 6
    assert max(hand_diffs) < 0.01
    assert len(face_diffs) == len(files) and max(face_diffs) < 0.02
    assert np.median(fallback_diffs) < 0.03 and max(fallback_diffs) < 0.12  # measured 0.011 / 0.069


def test_for_bodies_palm_fallback_recovers_a_hand_from_a_bad_body_crop(data_dir: Path, hands: HandPipeline) -> None:
    """With the body's hand points reflected through the wrist the body crop misses the hand; the palm
    detector around the wrist finds it again."""
    import mediapipe as mp

    cases = [
        ("6_hands/mmpose/tests/data/panoptic/ex2_2.flv_000040_l.jpg", "right"),
        ("6_hands/mmpose/tests/data/onehand10k/33.jpg", "left"),
        ("6_hands/mmpose/tests/data/panoptic/005880453_01_l.jpg", "left"),
        ("6_hands/mmpose/tests/data/panoptic/005880453_01_l.jpg", "right"),
    ]
    no_fallback = HandPipeline(palm_fallback=False)
    diffs = []
    with mp.solutions.holistic.Holistic(static_image_mode=True, model_complexity=1) as holistic:
        for rel, side in cases:
            img = _load_rgb(data_dir / rel)
            h, w = img.shape[:2]
            ref = holistic.process(img)
            body = np.array([[p.x * w, p.y * h] for p in ref.pose_landmarks.landmark])
            vis = np.array([p.visibility for p in ref.pose_landmarks.landmark])
            good = hands.for_bodies(img, body[None], vis[None])[0][side]
            assert good is not None, rel
            wrist, pinky, index = (15, 17, 19) if side == "left" else (16, 18, 20)
            bad = body.copy()
            bad[[pinky, index]] = 2 * bad[wrist] - bad[[pinky, index]]
            assert no_fallback.for_bodies(img, bad[None], vis[None])[0][side] is None, rel
            found = hands.for_bodies(img, bad[None], vis[None])[0][side]
            assert found is not None, rel
            diffs.append(float(np.median(np.linalg.norm(found.xy - good.xy, axis=1))) / _diag(good.xy))
    print(f"\npalm fallback vs body crop: median diffs {np.round(diffs, 4).tolist()}")
    assert max(diffs) < 0.05  # measured ≤ 0.025
