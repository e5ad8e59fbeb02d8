"""Known defects injected into clean poses, to measure what the QA rules catch.

Used by the integration tests and ``benchmarks/qa.py``; also handy to check a tuned profile. Each
injection changes one person in one place and says where a finding must appear to count as caught
(:func:`caught`). Magnitudes are relative to the person's body scale (torso units, see
:mod:`posekit.qa.geometry`):

=========  =====================================================================================
kind       defect
=========  =====================================================================================
swap       left/right labels of a body part exchanged (arms: elbows+wrists; legs: knees+ankles;
           shoulders; hips; face: eyes+ears). Only *material* swaps are injected: the exchanged
           points lie at least half a torso apart on average (closer points change nothing visible).
           In sequences the swap lasts 1-5 frames.
stretch    a limb bone lengthened by 1.5x its typical length for this body: the distal keypoint
           (and the keypoints beyond it) pushed outward along the bone. Sequences: 1-3 frames.
jump       (sequences) one keypoint displaced by half a torso in a random direction for one frame.
knee       a knee folded to 178 degrees: the ankle turned back onto the thigh (shank length kept);
           only knees whose thigh and shank are at least half their typical length in the image.
state      COCO: a labelled keypoint set to v=0 keeping its coordinates, or a keypoint set to v=1/2
           at (0, 0). Sequences: a keypoint's first measured frames marked INTERPOLATED (no
           measurement before them) or PREDICTED (nothing measured yet).
=========  =====================================================================================
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any, Iterable

import numpy as np

from posekit.poses import KeypointState, PoseSequence
from posekit.skeletons import Skeleton

from .findings import Finding, Severity
from .geometry import TYPICAL, body_scale, nanmedian_axis0

__all__ = ["DEFECT_KINDS", "Injection", "caught", "inject_coco", "inject_sequence", "SWAP_GROUPS", "synthetic_walk"]

DEFECT_KINDS = ("swap", "stretch", "jump", "knee", "state")

SWAP_GROUPS: dict[str, tuple[str, ...]] = {
    "arms": ("elbow", "wrist"),
    "legs": ("knee", "ankle"),
    "shoulders": ("shoulder",),
    "hips": ("hip",),
    "face": ("eye", "ear"),
}
_BONES = tuple(
    (f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b in (("shoulder", "elbow"), ("elbow", "wrist"),
                                                                     ("hip", "knee"), ("knee", "ankle"))
)  # fmt: skip
_BEYOND = {
    "elbow": ("wrist", "pinky", "index", "thumb"),
    "wrist": ("pinky", "index", "thumb"),
    "knee": ("ankle", "heel", "foot_index"),
    "ankle": ("heel", "foot_index"),
}


@dataclass(frozen=True)
class Injection:
    """One injected defect.

    Attributes:
        kind: one of :data:`DEFECT_KINDS`.
        detail: what exactly was done (e.g. ``"swap legs"``).
        row: first row (image position / time index) with the defect.
        person: the person's slot.
        window: ``(first, last)`` rows where a finding counts (inclusive).
        keypoints: names of the changed keypoints.
        image_id: COCO image id of the copy that carries the defect, or ``None``.
        annotation_id: COCO annotation id of the changed person, or ``None``.
    """

    kind: str
    detail: str
    row: int
    person: int
    window: tuple[int, int]
    keypoints: tuple[str, ...]
    image_id: Any = None
    annotation_id: Any = None


def caught(inj: Injection, findings: Iterable[Finding], baseline: Iterable[Finding] = (),
           min_severity: Severity = Severity.WARNING) -> bool:  # fmt: skip
    """True when a finding of at least ``min_severity`` that is not in ``baseline`` names the injected
    person inside the injection's window (by image/annotation id on COCO, by row and slot otherwise) and
    involves one of the changed keypoints (or names no keypoints, e.g. a person-level finding)."""
    base = {(f.rule, f.row, f.person, f.keypoints) for f in baseline}
    changed = set(inj.keypoints)
    for f in findings:
        if f.severity < min_severity or (f.rule, f.row, f.person, f.keypoints) in base:
            continue
        if inj.image_id is not None:
            if f.image_id != inj.image_id or f.annotation_id != inj.annotation_id:
                continue
        else:
            if f.person != inj.person or f.row is None or not (inj.window[0] <= f.row <= inj.window[1]):
                continue
        if not f.keypoints or changed & set(f.keypoints):
            return True
    return False


def _names(sk: Skeleton) -> dict[str, int]:
    return {n: i for i, n in enumerate(sk.keypoints)}


def _typical(a: str, b: str) -> float:
    return TYPICAL.get((a, b), TYPICAL.get((b, a), 0.5))


def _swap_pairs(sk: Skeleton, group: str) -> list[tuple[int, int]]:
    ix = _names(sk)
    return [(ix[f"left_{p}"], ix[f"right_{p}"]) for p in SWAP_GROUPS[group] if f"left_{p}" in ix and f"right_{p}" in ix]


def _material_swap(xy: np.ndarray, pairs: list[tuple[int, int]], scale: float) -> bool:
    """xy ``(K, 2)``: every pair present and the mean separation ≥ half a torso."""
    if not pairs or not np.isfinite(scale):
        return False
    sep = [np.linalg.norm(xy[a] - xy[b]) for a, b in pairs]
    return bool(np.all(np.isfinite(sep)) and np.mean(sep) >= 0.5 * scale)


def _stretch(xy: np.ndarray, sk: Skeleton, bone: tuple[str, str], scale: float) -> tuple[str, ...] | None:
    """Lengthen ``bone`` in ``xy (K, 2)`` in place; returns the moved keypoint names or ``None``."""
    ix = _names(sk)
    a, b = bone
    if a not in ix or b not in ix or not np.isfinite(scale):
        return None
    pa, pb = xy[ix[a]], xy[ix[b]]
    d = pb - pa
    n = np.linalg.norm(d)
    if not (np.isfinite(n) and n > 1e-6):
        return None
    shift = d / n * 1.5 * _typical(a, b) * scale
    side, joint = b.split("_", 1)
    moved = [b] + [f"{side}_{j}" for j in _BEYOND.get(joint, ()) if f"{side}_{j}" in ix]
    for m in moved:
        if np.isfinite(xy[ix[m]]).all():
            xy[ix[m]] += shift
    return tuple(moved)


def _fold_knee(xy: np.ndarray, sk: Skeleton, side: str, scale: float, rng: np.random.Generator) -> tuple[str, ...] | None:
    ix = _names(sk)
    h, k, a = (ix.get(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
    if h is None or k is None or a is None or not np.isfinite(scale):
        return None
    if not np.isfinite(xy[[h, k, a]]).all():
        return None
    thigh, shank = xy[h] - xy[k], xy[a] - xy[k]
    lt, ls = np.linalg.norm(thigh), np.linalg.norm(shank)
    if lt < 0.5 * 0.85 * scale or ls < 0.5 * 0.85 * scale:
        return None
    ang = np.radians(2.0) * (1 if rng.random() < 0.5 else -1)
    u = thigh / lt
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    xy[a] = xy[k] + ls * (rot @ u)
    return (f"{side}_hip", f"{side}_knee", f"{side}_ankle")


# ---------------------------------------------------------------------------------------------------
# COCO files (raw JSON documents)
# ---------------------------------------------------------------------------------------------------
def _raw_person(kps: list[float], k: int) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(kps, dtype=np.float64).reshape(k, 3)
    xy = arr[:, :2].copy()
    xy[arr[:, 2] <= 0] = np.nan
    return xy, arr[:, 2].copy()


def inject_coco(doc: dict[str, Any], sk: Skeleton, kind: str, rng: np.random.Generator,
                *, min_labelled: int = 5) -> tuple[dict[str, Any], list[Injection]]:  # fmt: skip
    """Copies of images, each with one defect of ``kind`` in one person.

    Every eligible (non-crowd, at least ``min_labelled`` labelled keypoints, defect applicable and
    material) annotation gets its own copy of its image (new image id, new annotation ids for all the
    image's people) carrying the defect; the returned document holds only those copies, so one QA run
    checks them all.

    Args:
        doc: a parsed COCO keypoint file (not modified).
        sk: its skeleton.
        kind: ``"swap"``, ``"stretch"``, ``"knee"`` or ``"state"`` (``"jump"`` needs a sequence).
        rng: random generator (which variant, direction, keypoint).

    Returns:
        The new document and the injections (image/annotation ids refer to the new document).
    """
    if kind not in ("swap", "stretch", "knee", "state"):
        raise ValueError(f"kind {kind!r} cannot be injected into still images")
    k = len(sk)
    images = {img["id"]: img for img in doc["images"]}
    anns_by_img: dict[Any, list[dict[str, Any]]] = {}
    for a in doc["annotations"]:
        anns_by_img.setdefault(a["image_id"], []).append(a)
    next_img = max([int(i) for i in images if isinstance(i, int)] + [0]) + 1
    next_ann = max([int(a["id"]) for a in doc["annotations"]] + [0]) + 1
    out_images, out_anns, injections = [], [], []
    for iid, anns in anns_by_img.items():
        for pos, target in enumerate(anns):
            if target.get("iscrowd", 0) or target.get("num_keypoints", 0) < min_labelled:
                continue
            xy, v = _raw_person(target["keypoints"], k)
            scale = float(body_scale(xy[None], sk)[0])
            if not np.isfinite(scale):
                continue
            new_kp = np.asarray(target["keypoints"], dtype=np.float64).reshape(k, 3)
            detail, changed = _apply_still(kind, sk, xy, v, new_kp, scale, rng)
            if changed is None:
                continue
            img = dict(images[iid], id=next_img)
            out_images.append(img)
            target_id = None
            for other in anns:
                a = copy.deepcopy(other)
                a["id"] = next_ann
                a["image_id"] = next_img
                if other is target:
                    a["keypoints"] = [float(x) if not float(x).is_integer() else int(x) for x in new_kp.ravel()]
                    a["num_keypoints"] = int((new_kp[:, 2] > 0).sum()) if kind != "state" else a.get("num_keypoints")
                    target_id = next_ann
                out_anns.append(a)
                next_ann += 1
            injections.append(Injection(kind, detail, len(out_images) - 1, pos, (len(out_images) - 1,) * 2, changed,
                                        image_id=next_img, annotation_id=target_id))  # fmt: skip
            next_img += 1
    new = {key: val for key, val in doc.items() if key not in ("images", "annotations")}
    new["images"] = out_images
    new["annotations"] = out_anns
    return new, injections


def _apply_still(kind: str, sk: Skeleton, xy: np.ndarray, v: np.ndarray, kp: np.ndarray, scale: float,
                 rng: np.random.Generator) -> tuple[str, tuple[str, ...] | None]:  # fmt: skip
    """Apply one defect to the raw triplets ``kp (K, 3)`` in place."""
    names = sk.keypoints
    if kind == "swap":
        groups = [g for g in SWAP_GROUPS if _material_swap(xy, _swap_pairs(sk, g), scale)]
        if not groups:
            return "", None
        g = groups[int(rng.integers(len(groups)))]
        pairs = _swap_pairs(sk, g)
        for a, b in pairs:
            kp[[a, b]] = kp[[b, a]]
        return f"swap {g}", tuple(names[j] for p in pairs for j in p)
    if kind == "stretch":
        bones = [b for b in _BONES if b[0] in names and b[1] in names and np.isfinite(xy[[sk.index(b[0]), sk.index(b[1])]]).all()]
        if not bones:
            return "", None
        bone = bones[int(rng.integers(len(bones)))]
        moved_xy = xy.copy()
        moved = _stretch(moved_xy, sk, bone, scale)
        if moved is None:
            return "", None
        for m in moved:
            j = sk.index(m)
            if v[j] > 0:
                kp[j, :2] = moved_xy[j]
        return f"stretch {bone[0]}–{bone[1]}", tuple(m for m in moved if v[sk.index(m)] > 0) + (bone[0],)
    if kind == "knee":
        sides = ["left", "right"]
        rng.shuffle(sides)
        for side in sides:
            moved_xy = xy.copy()
            changed = _fold_knee(moved_xy, sk, side, scale, rng)
            if changed is not None:
                j = sk.index(f"{side}_ankle")
                kp[j, :2] = moved_xy[j]
                return f"fold {side} knee to 178 degrees", changed
        return "", None
    # state
    labelled = np.flatnonzero(v > 0)
    if rng.random() < 0.5 and len(labelled):
        j = int(labelled[int(rng.integers(len(labelled)))])
        kp[j, 2] = 0  # coordinates kept
        return f"v=0 with coordinates on {names[j]}", (names[j],)
    j = int(rng.integers(len(names)))
    kp[j] = (0, 0, int(rng.choice([1, 2])))
    return f"v={int(kp[j, 2])} at (0, 0) on {names[j]}", (names[j],)


# ---------------------------------------------------------------------------------------------------
# sequences
# ---------------------------------------------------------------------------------------------------
def inject_sequence(seq: PoseSequence, kind: str, rng: np.random.Generator, *, person: int = 0,
                    tries: int = 50) -> tuple[PoseSequence, Injection | None]:  # fmt: skip
    """A copy of ``seq`` with one defect of ``kind`` in individual ``person`` (``None`` if none applies).

    Rows are chosen at random (up to ``tries`` attempts) away from the first and last two frames.
    """
    sk = seq.skeleton
    t_ = len(seq)
    if t_ < 8:
        return seq, None
    xy = seq.xy[:, person].copy()  # (T, K, 2)
    state = seq.state[:, person].copy()
    scales = body_scale(xy, sk)
    track_scale = float(nanmedian_axis0(scales[:, None])[0])
    if not np.isfinite(track_scale):
        return seq, None
    names = sk.keypoints
    for _ in range(tries):
        t = int(rng.integers(2, t_ - 6))
        s = scales[t] if np.isfinite(scales[t]) else track_scale
        if kind == "swap":
            groups = [g for g in ("arms", "legs", "shoulders", "hips") if _material_swap(xy[t], _swap_pairs(sk, g), s)]
            if not groups:
                continue
            g = groups[int(rng.integers(len(groups)))]
            pairs = _swap_pairs(sk, g)
            span = int(rng.integers(1, 6))
            rows = np.arange(t, min(t + span, t_ - 1))
            for a, b in pairs:
                xy[np.ix_(rows, [a, b])] = xy[np.ix_(rows, [b, a])]
                state[np.ix_(rows, [a, b])] = state[np.ix_(rows, [b, a])]
            inj = Injection(kind, f"swap {g} for {len(rows)} frame(s)", t, person, (t, int(rows[-1]) + 1),
                            tuple(names[j] for p in pairs for j in p))  # fmt: skip
        elif kind == "stretch":
            bones = [b for b in _BONES if b[0] in names and b[1] in names
                     and np.isfinite(xy[t, [sk.index(b[0]), sk.index(b[1])]]).all()]  # fmt: skip
            if not bones:
                continue
            bone = bones[int(rng.integers(len(bones)))]
            span = int(rng.integers(1, 4))
            rows = [r for r in range(t, min(t + span, t_)) if np.isfinite(xy[r, [sk.index(bone[0]), sk.index(bone[1])]]).all()]
            moved: tuple[str, ...] = ()
            for r in rows:
                moved = _stretch(xy[r], sk, bone, s) or moved
            inj = Injection(kind, f"stretch {bone[0]}–{bone[1]} for {len(rows)} frame(s)", t, person, (t, rows[-1]),
                            moved + (bone[0],))  # fmt: skip
        elif kind == "jump":
            ok = np.isfinite(xy[t - 1 : t + 2]).all(-1).all(0)
            cand = np.flatnonzero(ok)
            if not len(cand):
                continue
            j = int(cand[int(rng.integers(len(cand)))])
            ang = rng.uniform(0, 2 * np.pi)
            xy[t, j] += 0.5 * track_scale * np.array([np.cos(ang), np.sin(ang)])
            inj = Injection(kind, f"jump {names[j]} by 0.5 torso", t, person, (t - 1, t + 1), (names[j],))
        elif kind == "knee":
            sides = ["left", "right"]
            rng.shuffle(sides)
            changed = None
            for side in sides:
                changed = _fold_knee(xy[t], sk, side, s, rng)
                if changed is not None:
                    break
            if changed is None:
                continue
            inj = Injection(kind, f"fold {changed[1]} to 178 degrees", t, person, (t, t), changed)
        elif kind == "state":
            measured = np.isin(state, (KeypointState.VISIBLE, KeypointState.OCCLUDED))
            first = np.where(measured.any(0), measured.argmax(0), t_)
            cand = np.flatnonzero(first < t_ - 3)
            if not len(cand):
                continue
            j = int(cand[int(rng.integers(len(cand)))])
            f0 = int(first[j])
            span = int(rng.integers(1, 4))
            rows = [r for r in range(f0, min(f0 + span, t_)) if state[r, j] != KeypointState.MISSING]
            new_state = KeypointState.INTERPOLATED if rng.random() < 0.5 else KeypointState.PREDICTED
            state[rows, j] = new_state
            inj = Injection(kind, f"{new_state.name} before any measurement on {names[j]}", rows[0], person,
                            (rows[0], rows[-1]), (names[j],))  # fmt: skip
        else:
            raise ValueError(f"unknown defect kind {kind!r} (known: {', '.join(DEFECT_KINDS)})")
        new_xy = seq.xy.copy()
        new_state = seq.state.copy()
        new_xy[:, person] = xy
        new_state[:, person] = state
        return replace(seq, xy=new_xy, state=new_state, box=None, provenance=list(seq.provenance)), inj
    return seq, None


# ---------------------------------------------------------------------------------------------------
# synthetic clean poses
# ---------------------------------------------------------------------------------------------------
def _body3d(t: np.ndarray, yaw: float) -> dict[str, np.ndarray]:
    """Joint positions ``(T, 3)`` of a person walking in place, camera frame (x right, y down, z away),
    in torso units (shoulder-to-hip distance 1), pelvis at the origin."""
    w = 2 * np.pi * 0.9 * t  # stride frequency 0.9 Hz
    c, s = np.cos(yaw), np.sin(yaw)
    left = np.array([c, 0.0, s])  # person's left; yaw 0 = facing the camera (left appears image-right)
    ant = np.array([s, 0.0, -c])  # anterior
    up = np.array([0.0, -1.0, 0.0])

    def at(u_up: float, u_left: float, u_ant: float) -> np.ndarray:
        return np.broadcast_to(u_up * up + u_left * left + u_ant * ant, (len(t), 3)).copy()

    def seg(start: np.ndarray, angle: np.ndarray, length: float) -> np.ndarray:
        """From ``start``, ``length`` along straight-down rotated forward by ``angle`` (rad)."""
        return start + length * (-np.cos(angle)[:, None] * up + np.sin(angle)[:, None] * ant)

    sway = 0.03 * np.sin(w)[:, None] * left + 0.02 * np.abs(np.sin(w))[:, None] * up
    p: dict[str, np.ndarray] = {}
    for side, sgn, ph in (("left", 1.0, 0.0), ("right", -1.0, np.pi)):
        hip_f = np.radians(20) * np.sin(w + ph)
        knee_f = np.radians(5 + 40 * np.clip(np.sin(w + ph + np.pi / 2), 0, None))
        sh_f = np.radians(-18) * np.sin(w + ph)
        el_f = np.radians(25 + 10 * np.sin(w + ph))
        p[f"{side}_hip"] = at(0.0, 0.33 * sgn, 0.0)
        p[f"{side}_knee"] = seg(p[f"{side}_hip"], hip_f, 0.85)
        p[f"{side}_ankle"] = seg(p[f"{side}_knee"], hip_f - knee_f, 0.85)
        foot = p[f"{side}_ankle"]
        p[f"{side}_heel"] = foot - 0.1 * ant + 0.06 * -up
        p[f"{side}_foot_index"] = foot + 0.32 * ant + 0.08 * -up
        p[f"{side}_shoulder"] = at(1.0, 0.45 * sgn, 0.0)
        p[f"{side}_elbow"] = seg(p[f"{side}_shoulder"], sh_f, 0.65)
        p[f"{side}_wrist"] = seg(p[f"{side}_elbow"], sh_f + el_f, 0.51)
        for j, (dl, da) in (("pinky", (-0.04, 0.0)), ("index", (0.0, 0.04)), ("thumb", (0.04, 0.05))):
            p[f"{side}_{j}"] = seg(p[f"{side}_wrist"], sh_f + el_f, 0.14) + (dl * sgn) * left + da * ant
        p[f"{side}_eye_inner"] = at(1.36, 0.06 * sgn, 0.3)
        p[f"{side}_eye"] = at(1.36, 0.11 * sgn, 0.29)
        p[f"{side}_eye_outer"] = at(1.36, 0.16 * sgn, 0.27)
        p[f"{side}_ear"] = at(1.33, 0.25 * sgn, 0.05)
    p["nose"] = at(1.27, 0.0, 0.38)
    p["mouth_left"] = at(1.18, 0.08, 0.33)
    p["mouth_right"] = at(1.18, -0.08, 0.33)
    return {k: v + sway for k, v in p.items()}


def synthetic_walk(
    seconds: float = 10.0,
    fps: float = 30.0,
    *,
    skeleton: str = "blazepose33",
    yaw_deg: float = 30.0,
    px_per_torso: float = 120.0,
    noise_px: float = 1.0,
    with_world: bool = True,
    seed: int = 0,
) -> PoseSequence:
    """A clean single-person sequence: a person walking in place, projected orthographically.

    Proportions follow :data:`~posekit.qa.geometry.TYPICAL`; joint angles stay well inside the
    skeleton's limits. Use it as a clean baseline (no rule should fire) or as a host for injected defects.

    Args:
        seconds: duration; ``fps``: frame rate (timestamps ``frame / fps`` seconds).
        skeleton: ``"blazepose33"`` or ``"coco17"`` (any layout with these keypoint names).
        yaw_deg: body rotation about the vertical axis (0 = facing the camera).
        px_per_torso: image scale, pixels per torso unit (1280×720 image, body centred).
        noise_px: Gaussian keypoint noise in pixels (annotation or model noise).
        with_world: also fill ``world`` (metres, 0.5 m per torso unit, origin between the hips).
        seed: random seed of the noise.
    """
    from posekit.skeletons import get_skeleton

    sk = get_skeleton(skeleton)
    n = int(round(seconds * fps))
    t = np.arange(n) / fps
    body = _body3d(t, np.radians(yaw_deg))
    rng = np.random.default_rng(seed)
    k = len(sk)
    pos = np.zeros((n, k, 3))
    for j, name in enumerate(sk.keypoints):
        if name not in body:
            raise ValueError(f"synthetic_walk has no keypoint {name!r} (skeleton {sk.name!r})")
        pos[:, j] = body[name]
    xy = pos[..., :2] * px_per_torso + np.array([640.0, 400.0]) + rng.normal(0, noise_px, (n, k, 2))
    score = np.clip(0.9 + rng.normal(0, 0.03, (n, k)), 0, 1).astype(np.float32)
    world = None
    if with_world:
        hips = 0.5 * (pos[:, sk.index("left_hip")] + pos[:, sk.index("right_hip")])
        world = ((pos - hips[:, None]) * 0.5 + rng.normal(0, 0.004, (n, k, 3)))[:, None]
    seq = PoseSequence(
        sk, xy[:, None], score[:, None], np.full((n, 1, k), int(KeypointState.VISIBLE), np.uint8), t,
        world=world, image_size=(1280, 720), fps=fps, source="synthetic_walk",
    )  # fmt: skip
    return seq.log_step("synthetic_walk", seconds=seconds, fps=fps, yaw_deg=yaw_deg, seed=seed)
