"""Accuracy of posekit and of MediaPipe's own solutions on the shared ground truth, scored the same way.

    python benchmarks/accuracy.py [--write docs/benchmarks.md] [--quick]

One command runs, on the same images:

* body: posekit ``PoseEstimator`` (multi-person, default settings) and ``mp.solutions.pose.Pose(
  static_image_mode=True, model_complexity=1)`` (one person per image) on COCO (``coco_mini`` + mmpose's
  4 val photos, COCO-17 view of BlazePose-33) and CrowdPose (the 12 limb keypoints that BlazePose has;
  CrowdPose's head top and neck have no BlazePose counterpart and are left out of both GT and scores);
* hands: ``posekit.models.hands.HandPipeline.detect`` and ``mp.solutions.hands.Hands(static_image_mode=True,
  max_num_hands=2, model_complexity=1)`` on FreiHAND, OneHand10K, CMU Panoptic and RHD (``hand21``);
* faces: ``posekit.models.face.FacePipeline.detect`` and ``mp.solutions.face_mesh.FaceMesh(
  static_image_mode=True, max_num_faces=5)`` on 300W, 300W-LP and WFLW, scored on the 8 landmarks that
  are the same anatomical point in the 468-vertex mesh and in the 68/98-point markups (outer and inner
  eye corners, mouth corners, nose tip, chin; :data:`FACE_POINTS`), NME normalised by the annotated
  outer-eye-corner distance;
* 3D: world landmarks (metres, hip-centred) of both on Human3.6M's 4 frames, converted to ``h36m17``
  through the registered table (the 12 limb joints; pelvis/spine/thorax/head have no BlazePose landmark),
  PA-MPJPE and hip-centred MPJPE against the camera-frame ground truth, in millimetres.

Metrics come from :mod:`posekit.metrics` (AP by pycocotools). The markdown table (posekit, MediaPipe,
difference) goes into the ``accuracy`` section of ``docs/benchmarks.md`` with date and machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_dir, git_rev, machine, markdown_table, stamp, update_section  # noqa: E402

from posekit.poses import KeypointState, PoseFrame  # noqa: E402
from posekit.skeletons import get_conversion  # noqa: E402

# The face468 → face68 / wflw98 tables are registered in posekit.skeletons (8 true correspondences).
FACE_POINTS = {
    layout: tuple(j for j, i in enumerate(get_conversion("face468", layout).index) if i >= 0)
    for layout in ("face68", "wflw98")
}

COCO_SETS = {
    "COCO coco_mini": ("1_images_2d_keypoints/coco_mini/annotations/person_keypoints_train2017.present_images_only.json",
                       "1_images_2d_keypoints/coco_mini/train2017"),
    "COCO mmpose val": ("1_images_2d_keypoints/mmpose/tests/data/coco/test_coco.json",
                        "1_images_2d_keypoints/mmpose/tests/data/coco"),
}  # fmt: skip
CROWDPOSE = ("1_images_2d_keypoints/mmpose/tests/data/crowdpose/test_crowdpose.json",
             "1_images_2d_keypoints/mmpose/tests/data/crowdpose")  # fmt: skip
HAND_SETS = {
    "FreiHAND": ("freihand", "test_freihand.json", "read_freihand"),
    "OneHand10K": ("onehand10k", "test_onehand10k.json", "read_onehand10k"),
    "Panoptic hands": ("panoptic", "test_panoptic.json", "read_panoptic_hands"),
    "RHD": ("rhd", "test_rhd.json", "read_rhd"),
}
FACE_SETS = {"300W": ("300w", "test_300w.json"), "300W-LP": ("300wlp", "test_300wlp.json"), "WFLW": ("wflw", "test_wflw.json")}
H36M = "3_3d_ground_truth/mmpose/tests/data/h36m"


# ---------------------------------------------------------------------------------------------------
# the two contenders, as functions image → PoseFrame
# ---------------------------------------------------------------------------------------------------
@dataclass
class Contender:
    name: str
    body: Callable[[np.ndarray], PoseFrame]
    hands: Callable[[np.ndarray], PoseFrame]
    face: Callable[[np.ndarray], PoseFrame]
    seconds: dict[str, float] = field(default_factory=lambda: {"body": 0.0, "hands": 0.0, "face": 0.0})
    calls: dict[str, int] = field(default_factory=lambda: {"body": 0, "hands": 0, "face": 0})

    def run(self, kind: str, image: np.ndarray) -> PoseFrame:
        t0 = time.perf_counter()
        out = getattr(self, kind)(image)
        self.seconds[kind] += time.perf_counter() - t0
        self.calls[kind] += 1
        return out


def _frame(skeleton: str, xy: list[np.ndarray], score: list[np.ndarray], vis: list[np.ndarray] | None = None,
           world: list[np.ndarray] | None = None) -> PoseFrame:  # fmt: skip
    from posekit.skeletons import get_skeleton

    k = len(get_skeleton(skeleton))
    if not xy:
        return PoseFrame.empty(skeleton)
    xy_a = np.stack(xy).astype(np.float64)
    sc = np.stack(score).astype(np.float32)
    if vis is None:
        st = np.full(sc.shape, KeypointState.VISIBLE, np.uint8)
    else:
        st = np.where(np.stack(vis) >= 0.5, KeypointState.VISIBLE, KeypointState.OCCLUDED).astype(np.uint8)
    assert xy_a.shape[1] == k
    return PoseFrame(skeleton, xy_a, sc, st, world=None if world is None else np.stack(world))


def posekit_contender() -> Contender:
    from posekit import PoseEstimator
    from posekit.models.face import FacePipeline
    from posekit.models.hands import HandPipeline

    est = PoseEstimator(threads=1)
    hands = HandPipeline(threads=1)
    faces = FacePipeline(threads=1)

    def hand_frame(image: np.ndarray) -> PoseFrame:
        found = hands.detect(image, max_hands=2)
        return _frame("hand21", [h.xy for h in found], [np.full(21, h.score) for h in found])

    def face_frame(image: np.ndarray) -> PoseFrame:
        found = faces.detect(image, max_faces=None)
        return _frame("face468", [f.xy for f in found], [np.full(468, f.score) for f in found])

    return Contender("posekit", est, hand_frame, face_frame)


def mediapipe_contender() -> Contender:
    import mediapipe as mp

    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    hands = mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2, model_complexity=1)
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=5, refine_landmarks=False)

    def xy_of(lms: Any, w: int, h: int, n: int) -> np.ndarray:
        return np.array([[lms.landmark[i].x * w, lms.landmark[i].y * h] for i in range(n)])

    def body(image: np.ndarray) -> PoseFrame:
        h, w = image.shape[:2]
        r = pose.process(image)
        if r.pose_landmarks is None:
            return PoseFrame.empty("blazepose33")
        vis = np.array([lm.visibility for lm in r.pose_landmarks.landmark])
        world = np.array([[lm.x, lm.y, lm.z] for lm in r.pose_world_landmarks.landmark])
        return _frame("blazepose33", [xy_of(r.pose_landmarks, w, h, 33)], [vis], [vis], [world])

    def hand_frame(image: np.ndarray) -> PoseFrame:
        h, w = image.shape[:2]
        r = hands.process(image)
        lms = r.multi_hand_landmarks or []
        scores = [c.classification[0].score for c in (r.multi_handedness or [])]
        return _frame("hand21", [xy_of(m, w, h, 21) for m in lms], [np.full(21, s) for s in scores])

    def face_frame(image: np.ndarray) -> PoseFrame:
        h, w = image.shape[:2]
        r = mesh.process(image)
        lms = r.multi_face_landmarks or []
        return _frame("face468", [xy_of(m, w, h, 468) for m in lms], [np.ones(468) for _ in lms])

    return Contender("MediaPipe", body, hand_frame, face_frame)


# ---------------------------------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------------------------------
def _images(ds: Any, folder: Path, limit: int | None) -> dict[Any, Path]:
    out = {}
    for iid, img in ds.images.items():
        p = folder / img["file_name"]
        if not p.is_file():
            sys.exit(f"error: {p} (image of {ds.path}) not found")
        out[iid] = p
        if limit is not None and len(out) >= limit:
            break
    return out


def _subset(ds: Any, ids: dict[Any, Path]) -> Any:
    return replace(ds, images={i: ds.images[i] for i in ids}, frames={i: ds.frames[i] for i in ids},
                   annotation_ids={i: ds.annotation_ids[i] for i in ids}, iscrowd={i: ds.iscrowd[i] for i in ids},
                   areas={i: ds.areas[i] for i in ids})  # fmt: skip


def _predict(c: Contender, kind: str, ids: dict[Any, Path]) -> dict[Any, PoseFrame]:
    from posekit.io.images import read_image

    return {iid: c.run(kind, read_image(p)) for iid, p in ids.items()}


def score_body(gt: Any, pred: dict[Any, PoseFrame]) -> dict[str, float]:
    from posekit.cli_eval import evaluate_frames
    from posekit.errors import PosekitError

    try:
        r = evaluate_frames(gt, pred)
    except PosekitError as e:  # e.g. no prediction at all
        print(f"  ({e})")
        return {"AP": 0.0, "AR": 0.0, "pck_box": 0.0, "mean_error": float("nan"), "matched": 0, "gt_people": 0}
    return r


def _without(ds: Any, names: tuple[str, ...]) -> Any:
    """The dataset with the named keypoints made MISSING in every ground-truth person."""
    idx = [ds.skeleton.index(n) for n in names]
    frames = {}
    for iid, f in ds.frames.items():
        xy, st, sc = f.xy.copy(), f.state.copy(), f.score.copy()
        xy[:, idx], st[:, idx], sc[:, idx] = np.nan, KeypointState.MISSING, 0
        frames[iid] = replace(f, xy=xy, state=st, score=sc, box=f.box)  # validated again by __post_init__
    return replace(ds, frames=frames)


def score_parts(gt: Any, pred: dict[Any, PoseFrame], norm: str, keypoints: Any = None,
                to_layout: Callable[[PoseFrame], PoseFrame] | None = None) -> dict[str, float]:  # fmt: skip
    from posekit.metrics import NME, PCK, KeypointError

    pck = PCK(0.2, "box", keypoints=keypoints)
    nme = NME(norm, keypoints=keypoints)
    err = KeypointError(keypoints=keypoints)
    for iid, g in gt.frames.items():
        p = pred[iid] if to_layout is None else to_layout(pred[iid])
        for acc in (pck, nme, err):
            acc.update(g, p, iscrowd=gt.iscrowd[iid])
    out = {"pck": pck.compute()["pck"], "matched": pck.matched, "people": pck.people}
    if pck.matched:
        out["nme"] = nme.compute()["nme"]
        out["epe"] = err.compute()["mean_error"]
    else:
        out["nme"] = out["epe"] = float("nan")
    return out


def mesh_to(layout: str) -> Callable[[PoseFrame], PoseFrame]:
    """face468 predictions in ``layout`` through the registered table (points without a counterpart MISSING)."""
    return lambda f: f.to_skeleton(layout)


def score_h36m(c: Contender, d: Path) -> dict[str, float]:
    from posekit.datasets.h36m import read_h36m_npz
    from posekit.io.images import read_image
    from posekit.metrics import match_people, mpjpe, pa_mpjpe, root_relative

    samples = read_h36m_npz(d / H36M / "test_h36m_body3d.npz")
    preds, gts, masks, found = [], [], [], 0
    for s in samples:
        f = c.run("body", read_image(d / H36M / s.image)).to_skeleton("h36m17")
        g = s.poses
        pairs = match_people(g, f, threshold=0.5)
        if not pairs or f.world is None:
            continue
        found += 1
        p = f[pairs[0][1]]
        m = p.present[0] & g.present[0] & np.isfinite(p.world[0]).all(-1)
        preds.append(p.world[0])
        gts.append(g.world[0])
        masks.append(m)
    if not preds:
        return {"pa_mpjpe": float("nan"), "mpjpe": float("nan"), "found": 0, "frames": len(samples)}
    p, g, m = np.stack(preds), np.stack(gts), np.stack(masks)
    sk = samples[0].poses.skeleton
    hips = [sk.index("right_hip"), sk.index("left_hip")]
    ok = m[:, hips].all(1)  # hip-centring needs both hips
    pr, gr = root_relative(np.where(m[..., None], p, 0.0), hips), root_relative(np.where(m[..., None], g, 0.0), hips)
    return {"pa_mpjpe": 1000 * pa_mpjpe(p, g, m), "mpjpe": 1000 * mpjpe(pr[ok], gr[ok], m[ok]), "found": found,
            "frames": len(samples)}


# ---------------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------------
def _fmt(v: float, pct: bool, digits: int = 1) -> str:
    if v != v:
        return "–"
    return f"{100 * v:.{digits}f}" if pct else f"{v:.{digits}f}"


def _row(rows: list[list[str]], name: str, n: str, metric: str, a: float, b: float, *, pct: bool, lower: bool = False,
         digits: int = 1) -> None:  # fmt: skip
    d = (a - b) if a == a and b == b else float("nan")
    ds = "–" if d != d else (f"{100 * d:+.{digits}f}" if pct else f"{d:+.{digits}f}")
    arrow = "↓" if lower else "↑"
    rows.append([name, n, f"{metric} {arrow}", _fmt(a, pct, digits), _fmt(b, pct, digits), ds])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to update ('' to skip)")
    ap.add_argument("--quick", action="store_true", help="only 6 coco_mini images (a smoke run; not for the docs)")
    args = ap.parse_args()
    d = data_dir()
    from posekit.datasets import faces as dfaces
    from posekit.datasets import hands as dhands
    from posekit.datasets.body2d import read_crowdpose
    from posekit.io.coco import read_coco

    contenders = [posekit_contender(), mediapipe_contender()]
    rows: list[list[str]] = []
    t_start = time.perf_counter()

    for name, (ann, folder) in COCO_SETS.items():
        ds = read_coco(d / ann)
        ids = _images(ds, d / folder, 6 if args.quick and "mini" in name else None)
        ds = _subset(ds, ids)
        res = [score_body(ds, _predict(c, "body", ids)) for c in contenders]
        n = f"{len(ids)} img, {res[0]['gt_people']} people"
        _row(rows, name, n, "OKS AP", res[0]["AP"], res[1]["AP"], pct=True)
        _row(rows, name, n, "AR", res[0]["AR"], res[1]["AR"], pct=True)
        _row(rows, name, n, "PCK@0.2 (box)", res[0]["pck_box"], res[1]["pck_box"], pct=True)
        _row(rows, name, n, "mean error (px, matched)", res[0]["mean_error"], res[1]["mean_error"], pct=False, lower=True)
        _row(rows, name, n, "people matched", res[0]["matched"], res[1]["matched"], pct=False, digits=0)
        print(f"{name}: done ({time.perf_counter() - t_start:.0f} s)")

    cp = _without(read_crowdpose(d / CROWDPOSE[0]), ("head_top", "neck"))
    ids = _images(cp, d / CROWDPOSE[1], None)
    res = [score_body(cp, {i: f.to_skeleton("crowdpose14") for i, f in _predict(c, "body", ids).items()}) for c in contenders]
    n = f"{len(ids)} img, {res[0]['gt_people']} people"
    _row(rows, "CrowdPose (12 limb kp)", n, "OKS AP", res[0]["AP"], res[1]["AP"], pct=True)
    _row(rows, "CrowdPose (12 limb kp)", n, "PCK@0.2 (box)", res[0]["pck_box"], res[1]["pck_box"], pct=True)
    _row(rows, "CrowdPose (12 limb kp)", n, "people matched", res[0]["matched"], res[1]["matched"], pct=False, digits=0)
    print(f"CrowdPose: done ({time.perf_counter() - t_start:.0f} s)")

    base = d / "6_hands/mmpose/tests/data"
    for name, (sub, fname, reader) in HAND_SETS.items():
        ds = getattr(dhands, reader)(base / sub / fname)
        ids = _images(ds, base / sub, None)
        res = [score_parts(ds, _predict(c, "hands", ids), "box") for c in contenders]
        n = f"{len(ids)} img, {res[0]['people']} hands"
        _row(rows, name, n, "PCK@0.2 (box)", res[0]["pck"], res[1]["pck"], pct=True)
        _row(rows, name, n, "NME (box, %, matched)", res[0]["nme"], res[1]["nme"], pct=True, lower=True, digits=2)
        _row(rows, name, n, "hands matched", res[0]["matched"], res[1]["matched"], pct=False, digits=0)
    print(f"hands: done ({time.perf_counter() - t_start:.0f} s)")

    base = d / "6_faces/mmpose/tests/data"
    for name, (sub, fname) in FACE_SETS.items():
        ds = dfaces.read_face_coco(base / sub / fname, sub)
        ids = _images(ds, base / sub, None)
        lay = ds.skeleton.name
        res = [score_parts(ds, _predict(c, "face", ids), "interocular", FACE_POINTS[lay], mesh_to(lay)) for c in contenders]
        n = f"{len(ids)} img, {res[0]['people']} faces"
        _row(rows, name, n, "NME (inter-ocular, %, 8 pts)", res[0]["nme"], res[1]["nme"], pct=True, lower=True, digits=2)
        _row(rows, name, n, "faces matched", res[0]["matched"], res[1]["matched"], pct=False, digits=0)
    print(f"faces: done ({time.perf_counter() - t_start:.0f} s)")

    res = [score_h36m(c, d) for c in contenders]
    n = f"{res[0]['frames']} frames"
    _row(rows, "Human3.6M 3D (12 limb joints)", n, "PA-MPJPE (mm)", res[0]["pa_mpjpe"], res[1]["pa_mpjpe"], pct=False, lower=True)
    _row(rows, "Human3.6M 3D (12 limb joints)", n, "MPJPE, hip-centred (mm)", res[0]["mpjpe"], res[1]["mpjpe"], pct=False, lower=True)
    _row(rows, "Human3.6M 3D (12 limb joints)", n, "frames with a pose", res[0]["found"], res[1]["found"], pct=False, digits=0)

    ms = [
        " / ".join(f"{k} {1e3 * c.seconds[k] / max(c.calls[k], 1):.0f}" for k in ("body", "hands", "face"))
        for c in contenders
    ]
    body = "\n".join([
        "## Accuracy against MediaPipe (`python benchmarks/accuracy.py`)\n",
        f"{stamp()} · {machine()} · commit {git_rev()}" + (" · QUICK RUN" if args.quick else "") + "\n",
        "Same images, same scoring (`posekit.metrics`; OKS AP by pycocotools). posekit: `PoseEstimator` "
        "(multi-person), `HandPipeline.detect`, `FacePipeline.detect`. MediaPipe: `mp.solutions.pose` "
        "(static images, model_complexity=1, one person), `mp.solutions.hands` (max 2 hands), "
        "`mp.solutions.face_mesh` (max 5 faces). PCK counts unmatched people and MISSING keypoints as "
        "misses; mean error / NME are over matched people only (see *matched* rows). Δ = posekit − MediaPipe "
        "(percentage points for %-metrics); ↑ higher is better, ↓ lower is better. Faces: the 8 landmarks "
        "with a true mesh counterpart (eye corners, mouth corners, nose tip, chin). 3D: world landmarks "
        "converted to H36M-17 (limb joints only), Procrustes-aligned per frame.\n",
        markdown_table(["set", "samples", "metric", "posekit", "MediaPipe", "Δ"], rows),
        "",
        f"Mean time per call, ms (body / hands / face): posekit {ms[0]}; MediaPipe {ms[1]}. "
        f"Whole run {time.perf_counter() - t_start:.0f} s.",
    ])  # fmt: skip
    print(body)
    if args.write and not args.quick:
        update_section(Path(args.write), "accuracy", body)


if __name__ == "__main__":
    main()
