"""Rules on one pose at a time: topology, joint limits, left/right consistency, occlusion symmetry.

All lengths are in torso units (see :mod:`posekit.qa.geometry`): a rule never compares raw pixels, so
the same thresholds hold for a child far away and an adult close up. In 2D a bone can only look
*shorter* than it is (foreshortening), so the rules look for what projection cannot produce: bones far
too long, limbs folded through themselves, a body whose left side is on both sides at once.
"""

from __future__ import annotations

import numpy as np

from posekit.poses import KeypointState

from .data import QAData
from .findings import Finding, Severity
from .geometry import (
    MIN_SCALE_BONES,
    TYPICAL,
    body_scale,
    bone_table,
    cross2,
    flexion_deg,
    index_of,
    nanmedian_axis0,
    segment_lengths,
)
from .rules import Param, Rule, register_rule

__all__ = [
    "frame_scale",
    "steady_scale",
    "Proportion",
    "ChainOrder",
    "Flexion",
    "Hyperextension",
    "TorsoSwap",
    "FaceSwap",
    "LimbCrossing",
    "OccludedSymmetry",
]

#: Typical lengths (torso units) of segments used only to judge whether a 2D angle is trustworthy.
_EXTRA_TYPICAL = {(f"{s}_ankle", f"{s}_foot_index"): 0.42 for s in ("left", "right")}  # ankle to toe tip, ~0.12 H
_VISIBLE_LIKE = (int(KeypointState.VISIBLE), int(KeypointState.CORRECTED))


def typical_length(a: str, b: str) -> float | None:
    """Typical length of the segment a–b in torso units, or ``None`` if unknown."""
    for key in ((a, b), (b, a)):
        if key in TYPICAL:
            return TYPICAL[key]
        if key in _EXTRA_TYPICAL:
            return _EXTRA_TYPICAL[key]
    return None


def frame_scale(data: QAData) -> np.ndarray:
    """``(T, I)`` pixels per torso unit of each person in each row (sequences: gaps filled with the
    track's median)."""

    def make() -> np.ndarray:
        s = body_scale(data.xy, data.skeleton)
        if data.temporal and len(s):
            med = nanmedian_axis0(s)
            s = np.where(np.isfinite(s), s, med[None, :])
        return np.where(data.checked, s, np.nan)

    return data.cached("frame_scale", make)


def steady_scale(data: QAData) -> np.ndarray:
    """``(T, I)`` scale that does not move with one bad frame: a track's median in sequences."""

    def make() -> np.ndarray:
        s = frame_scale(data)
        if not data.temporal or not len(s):
            return s
        med = nanmedian_axis0(s)
        return np.where(data.checked, np.broadcast_to(med[None, :], s.shape), np.nan)

    return data.cached("steady_scale", make)


def _pts(data: QAData, name: str) -> np.ndarray:
    return data.xy[:, :, data.skeleton.index(name)]


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    return np.sqrt(np.sum(d * d, axis=-1))


def _bone_label(a: str, b: str) -> str:
    return f"{a}–{b}"


# =====================================================================================================
# topology
# =====================================================================================================
@register_rule
class Proportion(Rule):
    """A bone far longer than this body allows."""

    id = "topology.proportion"
    description = (
        "A bone much longer than its typical length for this body (body scale from the person's other bones): "
        "a stretched bone or a keypoint placed on the wrong spot."
    )
    severity = Severity.ERROR
    parameters = (
        Param("max_ratio", 2.0, "x typical",
              "Twice the typical adult length (Drillis & Contini segment table) after scaling the body from its "
              "other bones: foreshortening only shortens a 2D bone, and on the 98 labelled people of the shared "
              "COCO annotations the longest bone reaches 1.94x (a child, whose proportions are not an adult's)."),
    )  # fmt: skip

    def applies(self, data: QAData) -> str | None:
        why = super().applies(data)
        if why is None and len(bone_table(data.skeleton)[0]) < MIN_SCALE_BONES:
            return f"skeleton {data.skeleton.name!r} has fewer than {MIN_SCALE_BONES} limb/torso bones"
        return why

    def check(self, data: QAData) -> list[Finding]:
        pairs, typ, names = bone_table(data.skeleton)
        s = body_scale(data.xy, data.skeleton, leave_one_out=True)  # (T, I, B): each bone judged by the others
        if data.temporal:
            s = np.where(np.isfinite(s), s, frame_scale(data)[..., None])
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(data.checked[..., None], segment_lengths(data.xy, pairs) / (typ * s), np.nan)
        thr = self.p("max_ratio")
        out = []
        for t, i, b in np.argwhere(r > thr):
            a, c = names[b]
            v = float(r[t, i, b])
            out.append(self.finding(
                data, int(t), int(i),
                f"{data.label(t, i)}: bone {_bone_label(a, c)} is {v:.2f}x its typical length for this body "
                f"(limit {thr:g}x): stretched bone or misplaced keypoint",
                keypoints=(a, c), value=v, threshold=thr, unit="x typical",
            ))  # fmt: skip
        return out


_CHAINS = tuple(
    (f"{s}_{a}", f"{s}_{b}", f"{s}_{c}") for s in ("left", "right") for a, b, c in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle"))
)


@register_rule
class ChainOrder(Rule):
    """A limb chain out of order: the end joint lies on the segment between the root and the middle."""

    id = "topology.order"
    description = (
        "A limb chain out of order: the wrist (ankle) lies on the line between shoulder and elbow (hip and knee), "
        "so the middle joint sits beyond the end — labels of middle and end likely swapped."
    )
    severity = Severity.ERROR
    parameters = (
        Param("max_detour", 0.05, "torso",
              "How far the path root→end→middle may exceed the straight root→middle distance for the end to count "
              "as lying on that segment; a real elbow folded to its 160-degree limit leaves a detour of 0.1 torso."),
        Param("min_segment", 0.5, "x typical",
              "The middle–end segment must be at least half its typical length, so that two nearly coincident "
              "keypoints do not count as a fold."),
        Param("min_root_mid", 1.4, "x typical",
              "The root–middle distance must exceed 1.4x its typical length: with middle and end swapped it spans "
              "the whole limb (1.8-2x), while a real fully folded limb keeps it at its own length (the wrist of a "
              "front-rack or pull-up elbow lies on the upper arm in 2D; up to 1.4x on the shared COCO people)."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        sk = data.skeleton
        s = frame_scale(data)
        out = []
        for root, mid, end in _CHAINS:
            if index_of(sk, root, mid, end) is None:
                continue
            r, m, e = _pts(data, root), _pts(data, mid), _pts(data, end)
            rm, re, me = _dist(r, m), _dist(r, e), _dist(m, e)
            typ = typical_length(mid, end) or 0.5
            typ_rm = typical_length(root, mid) or 0.5
            with np.errstate(invalid="ignore", divide="ignore"):
                detour = (re + me - rm) / s
                bad = ((detour < self.p("max_detour")) & (re < rm) & (me >= self.p("min_segment") * typ * s)
                       & (rm >= self.p("min_root_mid") * typ_rm * s) & data.checked)  # fmt: skip
            out += self.emit(
                data, bad, detour, self.p("max_detour"), "torso",
                lambda t, i, a=(root, mid, end): a,
                lambda t, i, v, a=(root, mid, end): (
                    f"{data.label(t, i)}: {a[2]} lies on the segment {a[0]}–{a[1]} (detour {v:.3f} torso), so "
                    f"{a[1]} sits beyond {a[2]}: {a[1]} and {a[2]} look swapped"),
            )  # fmt: skip
        return out


# =====================================================================================================
# joint limits
# =====================================================================================================
def _segment_ok(data: QAData, a: str, b: str, frac: float, s: np.ndarray) -> np.ndarray:
    typ = typical_length(a, b)
    if typ is None:
        return np.isfinite(s)
    with np.errstate(invalid="ignore"):
        return _dist(_pts(data, a), _pts(data, b)) >= frac * typ * s


def _world_pts(data: QAData, name: str) -> np.ndarray:
    assert data.world is not None
    return data.world[:, :, data.skeleton.index(name)]


@register_rule
class Flexion(Rule):
    """A joint bent beyond its anatomical maximum (the skeleton's ``JointAngle`` upper limit)."""

    id = "joint_limits.flexion"
    description = (
        "A joint flexed beyond the upper limit of its JointAngle in the skeleton (e.g. a knee folded past 165 degrees). "
        "3D world coordinates are used where present (every joint angle); in 2D only knees and hips, only when both "
        "segments are long enough that projection cannot fake the angle, and with a margin."
    )
    severity = Severity.ERROR
    parameters = (
        Param("margin_2d_deg", 10.0, "deg",
              "A 2D angle is a projection: a catcher's crouch on the shared COCO photos shows a 167-degree knee. "
              "Ten degrees above the limit (knee 175) is a shank folded through the thigh."),
        Param("margin_3d_deg", 10.0, "deg",
              "World coordinates estimated from one camera (MediaPipe's world landmarks) carry joint-angle errors "
              "of about 10 degrees; measured 3D data may set 0."),
        Param("joints_2d", "knee,hip", "joint names",
              "Joints judged in 2D. Not elbows: at full flexion (pull-ups, front rack) the wrist projects onto the "
              "upper arm, and Penn Action shows 2D elbow flexion up to 180 degrees on real people."),
        Param("min_segment", 0.5, "x typical",
              "In 2D both segments must be at least half their typical length: a segment pointing at the camera "
              "projects short and in any direction, which makes the image angle meaningless."),
    )  # fmt: skip

    def applies(self, data: QAData) -> str | None:
        why = super().applies(data)
        if why is None and not data.skeleton.angles:
            return f"skeleton {data.skeleton.name!r} defines no joint angles"
        return why

    def check(self, data: QAData) -> list[Finding]:
        s = frame_scale(data)
        joints2d = {j.strip() for j in str(self.p("joints_2d")).split(",") if j.strip()}
        out = []
        for ang in data.skeleton.angles:
            kind = ang.name.split("_", 1)[-1]
            hi2 = ang.limits[1] + self.p("margin_2d_deg")
            flex = flexion_deg(_pts(data, ang.proximal), _pts(data, ang.vertex), _pts(data, ang.distal))
            ok2 = _segment_ok(data, ang.proximal, ang.vertex, self.p("min_segment"), s) & _segment_ok(
                data, ang.vertex, ang.distal, self.p("min_segment"), s
            )
            if kind not in joints2d:
                ok2 = np.zeros_like(ok2)
            limit = np.where(ok2, hi2, np.nan)
            if data.world is not None:
                fw = flexion_deg(_world_pts(data, ang.proximal), _world_pts(data, ang.vertex), _world_pts(data, ang.distal))
                use3d = np.isfinite(fw)
                flex = np.where(use3d, fw, flex)
                limit = np.where(use3d, ang.limits[1] + self.p("margin_3d_deg"), limit)
            with np.errstate(invalid="ignore"):
                bad = (flex > limit) & data.checked
            names = (ang.proximal, ang.vertex, ang.distal)
            for t, i in np.argwhere(bad):
                v, lim = float(flex[t, i]), float(limit[t, i])
                out.append(self.finding(
                    data, int(t), int(i),
                    f"{data.label(t, i)}: {ang.name} flexed {v:.0f} degrees, beyond its anatomical limit of "
                    f"{ang.limits[1]:g} degrees" + ("" if lim == ang.limits[1] else f" (+{lim - ang.limits[1]:g} margin)"),
                    keypoints=names, value=v, threshold=lim, unit="deg",
                ))  # fmt: skip
        return out


# joint name → (+1: flexion moves the distal segment posteriorly (knee); -1: anteriorly (hip))
_SAGITTAL_BEND = {"knee": 1.0, "hip": -1.0}


def _mean_pts(data: QAData, *names: str) -> np.ndarray:
    """Mean of the present points among ``names`` (NaN where none)."""
    idx = index_of(data.skeleton, *names)
    if idx is None:
        idx = [data.skeleton.index(n) for n in names if n in data.skeleton.keypoints]
    if not idx:
        return np.full(data.xy.shape[:2] + (2,), np.nan)
    p = data.xy[:, :, idx]
    ok = np.isfinite(p).all(-1)
    n = ok.sum(-1)
    tot = np.where(ok[..., None], p, 0.0).sum(-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n[..., None] > 0, tot / n[..., None], np.nan)


def anterior_2d(data: QAData) -> np.ndarray:
    """``(T, I, 2)`` the image direction the body faces, where a side view shows it (else NaN).

    From the feet (heel → toe, BlazePose) when present, else from the face (ears → nose). Length in
    pixels (not normalised).
    """
    sk = data.skeleton.keypoints
    out = np.full(data.xy.shape[:2] + (2,), np.nan)
    if all(n in sk for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")):
        out = _mean_pts(data, "left_foot_index", "right_foot_index") - _mean_pts(data, "left_heel", "right_heel")
    if "nose" in sk and ("left_ear" in sk or "right_ear" in sk):
        face = _pts(data, "nose") - _mean_pts(data, *[n for n in ("left_ear", "right_ear") if n in sk])
        out = np.where(np.isfinite(out), out, face)
    return out


@register_rule
class Hyperextension(Rule):
    """A knee or hip bent the wrong way beyond its limit."""

    id = "joint_limits.hyperextension"
    description = (
        "A knee or hip bent the wrong way beyond the lower limit of its JointAngle (e.g. knee hyperextended past "
        "15 degrees). Judged in 3D world coordinates, or in 2D only in side views where the feet or the face show "
        "which way the body faces (the elbow's bend plane depends on arm rotation and is not judged)."
    )
    severity = Severity.ERROR
    parameters = (
        Param("margin_2d_deg", 10.0, "deg",
              "2D side views are never exactly side-on; 10 degrees absorbs the projection error of a body turned "
              "up to about 30 degrees."),
        Param("margin_3d_deg", 10.0, "deg",
              "As for joint_limits.flexion: single-camera world landmarks err by about 10 degrees (walking in the "
              "shared UP-Fall video shows MediaPipe knees at -19 degrees)."),
        Param("side_view_width", 0.4, "torso",
              "Shoulders and hips narrower than this (typical frontal widths 0.9 and 0.66) mean a side view, "
              "where the bending plane lies in the image."),
        Param("min_facing", 0.15, "torso",
              "The nose must stand this far in front of the ears (or the toes in front of the heels) across the "
              "body axis for the facing direction to be trusted (about half the profile offset of a face)."),
        Param("min_sagittal", 0.5, "cosine",
              "3D: the bend plane's normal must be within 60 degrees of the body's left-right axis for the bend "
              "direction to be meaningful (a rotated hip turns the knee's bend out of the sagittal plane)."),
        Param("min_segment", 0.5, "x typical", "As for joint_limits.flexion."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        sk = data.skeleton
        s = frame_scale(data)
        out = []
        a2 = anterior_2d(data)
        down = _mean_pts(data, "left_hip", "right_hip") - _mean_pts(data, "left_shoulder", "right_shoulder")
        with np.errstate(invalid="ignore", divide="ignore"):
            dn = down / np.linalg.norm(down, axis=-1, keepdims=True)
            across = cross2(dn, a2)  # pixels; sign gives the facing
            facing = np.abs(across) >= self.p("min_facing") * s
            side = np.ones_like(facing)
            for a, b in (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")):
                if index_of(sk, a, b) is not None:
                    w = _dist(_pts(data, a), _pts(data, b))
                    side &= ~(w >= self.p("side_view_width") * s)
            factor2d = np.where(facing & side, -np.sign(across), np.nan)
        left3 = None
        if data.world is not None and index_of(sk, "left_hip", "right_hip") is not None:
            lh, rh = _world_pts(data, "left_hip"), _world_pts(data, "right_hip")
            left3 = (lh - rh) / np.linalg.norm(lh - rh, axis=-1, keepdims=True)
        for ang in sk.angles:
            joint = ang.name.split("_", 1)[-1]
            sign = _SAGITTAL_BEND.get(joint)
            if sign is None or ang.limits[0] >= 0:
                continue
            p, v, d = _pts(data, ang.proximal), _pts(data, ang.vertex), _pts(data, ang.distal)
            flex = flexion_deg(p, v, d)
            bend = cross2(v - p, d - v) * sign  # >0: flexion when facing image-right (factor +1)
            with np.errstate(invalid="ignore"):
                signed = flex * np.sign(bend) * factor2d
                trust = _segment_ok(data, ang.proximal, ang.vertex, self.p("min_segment"), s) & _segment_ok(
                    data, ang.vertex, ang.distal, self.p("min_segment"), s
                )
                lo = ang.limits[0] - self.p("margin_2d_deg")
                bad2 = trust & np.isfinite(signed) & (signed < lo)
                value = np.where(bad2, signed, np.nan)
                limit = np.where(bad2, lo, np.nan)
                if left3 is not None:
                    wp, wv, wd = _world_pts(data, ang.proximal), _world_pts(data, ang.vertex), _world_pts(data, ang.distal)
                    u, w = wv - wp, wd - wv
                    n = np.cross(u, w)
                    nn = np.linalg.norm(n, axis=-1)
                    sag = np.sum(n * left3, -1) / nn  # cosine between bend normal and the left axis
                    fw = flexion_deg(wp, wv, wd)
                    # knee: flexion turns the shank about +left (n · left > 0); hip: about -left.
                    signed3 = fw * np.sign(sag * sign)
                    ok3 = np.isfinite(signed3) & (np.abs(sag) >= self.p("min_sagittal"))
                    lo3 = ang.limits[0] - self.p("margin_3d_deg")
                    bad3 = ok3 & (signed3 < lo3)
                    value = np.where(ok3, np.where(bad3, signed3, np.nan), value)
                    limit = np.where(ok3, lo3, limit)
                bad = np.isfinite(value) & data.checked
            names = (ang.proximal, ang.vertex, ang.distal)
            for t, i in np.argwhere(bad):
                val, lim = float(value[t, i]), float(limit[t, i])
                out.append(self.finding(
                    data, int(t), int(i),
                    f"{data.label(t, i)}: {ang.name} bent the wrong way by {-val:.0f} degrees "
                    f"(hyperextension limit {-ang.limits[0]:g} degrees)",
                    keypoints=names, value=val, threshold=lim, unit="deg",
                ))  # fmt: skip
        return out


# =====================================================================================================
# left / right
# =====================================================================================================
def _cos(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))


@register_rule
class TorsoSwap(Rule):
    """Shoulders and hips face opposite ways: one pair's left and right are swapped."""

    id = "left_right.torso"
    description = (
        "The left-to-right direction of the shoulders and of the hips point opposite ways; a torso cannot twist "
        "that far, so one pair's left and right labels are swapped."
    )
    severity = Severity.ERROR
    requires = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    parameters = (
        Param("max_cosine", -0.3, "cosine",
              "Opposed beyond 107 degrees; the trunk twists at most about 90 degrees between pelvis and shoulders "
              "(on the shared COCO people the smallest cosine is +0.82)."),
        Param("min_width", 0.25, "torso",
              "Both lines must be at least this long (typical 0.9 and 0.66) so that side views, where noise sets "
              "the direction, are not judged."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        s = frame_scale(data)
        sh = _pts(data, "left_shoulder") - _pts(data, "right_shoulder")
        hp = _pts(data, "left_hip") - _pts(data, "right_hip")
        c = _cos(sh, hp)
        w = self.p("min_width") * s
        with np.errstate(invalid="ignore"):
            bad = (c < self.p("max_cosine")) & (np.linalg.norm(sh, axis=-1) >= w) & (np.linalg.norm(hp, axis=-1) >= w)
        kp = self.requires
        return self.emit(
            data, bad & data.checked, c, self.p("max_cosine"), "cosine", lambda t, i: kp,
            lambda t, i, v: (f"{data.label(t, i)}: shoulders and hips point opposite ways (cosine {v:.2f}): "
                             "left/right of the shoulders or of the hips swapped"),
        )  # fmt: skip


@register_rule
class FaceSwap(Rule):
    """The face's left-right direction opposes the shoulders'."""

    id = "left_right.face"
    description = (
        "The ears (or eyes) run left-to-right opposite to the shoulders: the face's or the shoulders' left/right "
        "labels are likely swapped (a head turns at most about 80 degrees)."
    )
    severity = Severity.WARNING
    requires = ("left_shoulder", "right_shoulder")
    parameters = (
        Param("max_cosine", -0.5, "cosine",
              "Opposed beyond 120 degrees; neck rotation reaches about 80 degrees (on the shared COCO people the "
              "smallest cosine is -0.33, a head turned over the shoulder)."),
        Param("min_shoulder_width", 0.35, "torso", "Shoulders must show their left-right direction (typical 0.9)."),
        Param("min_ear_width", 0.25, "torso", "Ears this far apart show the head's direction (typical 0.5 frontal)."),
        Param("min_eye_width", 0.12, "torso", "Eyes this far apart show it when the ears do not (typical 0.22)."),
    )  # fmt: skip

    def applies(self, data: QAData) -> str | None:
        why = super().applies(data)
        sk = data.skeleton.keypoints
        if why is None and not (("left_ear" in sk and "right_ear" in sk) or ("left_eye" in sk and "right_eye" in sk)):
            return f"skeleton {data.skeleton.name!r} has no ear or eye pair"
        return why

    def check(self, data: QAData) -> list[Finding]:
        sk = data.skeleton.keypoints
        s = frame_scale(data)
        sh = _pts(data, "left_shoulder") - _pts(data, "right_shoulder")
        face = np.full_like(sh, np.nan)
        names = np.full(data.xy.shape[:2], "", dtype=object)
        with np.errstate(invalid="ignore"):
            for part, key in (("eye", "min_eye_width"), ("ear", "min_ear_width")):  # ears take precedence
                if f"left_{part}" in sk and f"right_{part}" in sk:
                    v = _pts(data, f"left_{part}") - _pts(data, f"right_{part}")
                    ok = np.linalg.norm(v, axis=-1) >= self.p(key) * s
                    face = np.where(ok[..., None], v, face)
                    names = np.where(ok, part, names)
            c = _cos(face, sh)
            bad = (c < self.p("max_cosine")) & (np.linalg.norm(sh, axis=-1) >= self.p("min_shoulder_width") * s)
        return self.emit(
            data, bad & data.checked, c, self.p("max_cosine"), "cosine",
            lambda t, i: (f"left_{names[t, i]}", f"right_{names[t, i]}", "left_shoulder", "right_shoulder"),
            lambda t, i, v: (f"{data.label(t, i)}: the {names[t, i]}s run opposite to the shoulders (cosine {v:.2f}): "
                             f"left/right of the {names[t, i]}s or of the shoulders swapped"),
        )  # fmt: skip


@register_rule
class LimbCrossing(Rule):
    """Upper arms or thighs attached to the wrong side: elbows (knees) swapped."""

    id = "left_right.crossing"
    description = (
        "The elbows (knees) sit much closer to the opposite shoulders (hips) than to their own: the upper arms "
        "(thighs) cross, which happens when the elbow (knee) labels are swapped."
    )
    severity = Severity.ERROR
    parameters = (
        Param("min_gain", 0.25, "torso",
              "How much shorter the crossed attachment must be, summed over both sides: a quarter torso. On the "
              "shared COCO people the largest gain is -0.06; on the Penn Action labels, whose hidden joints are "
              "guessed, 0.3% of frames exceed it."),
        Param("min_width", 0.3, "torso",
              "The shoulders (hips) must be at least this far apart (typical 0.9 and 0.66): in side and three-quarter "
              "views a forward and a backward limb legitimately reach past the other joint of a narrow pair."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        sk = data.skeleton
        s = frame_scale(data)
        out = []
        for root, mid in (("shoulder", "elbow"), ("hip", "knee")):
            names = (f"left_{root}", f"right_{root}", f"left_{mid}", f"right_{mid}")
            if index_of(sk, *names) is None:
                continue
            lr, rr, lm, rm = (_pts(data, n) for n in names)
            with np.errstate(invalid="ignore", divide="ignore"):
                gain = (_dist(lr, lm) + _dist(rr, rm) - _dist(lr, rm) - _dist(rr, lm)) / s
                wide = _dist(lr, rr) >= self.p("min_width") * s
                bad = (gain > self.p("min_gain")) & wide & data.checked
            out += self.emit(
                data, bad, gain, self.p("min_gain"), "torso", lambda t, i, n=names: n,
                lambda t, i, v, m=mid, r=root: (
                    f"{data.label(t, i)}: each {m} is nearer the opposite {r} (by {v:.2f} torso in all): "
                    f"left/right {m}s likely swapped"),
            )  # fmt: skip
        return out


# =====================================================================================================
# occlusion symmetry
# =====================================================================================================
_MIRROR = tuple(
    ((f"left_{a}", f"left_{b}"), (f"right_{a}", f"right_{b}"))
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"))
)


@register_rule
class OccludedSymmetry(Rule):
    """A hidden limb whose length disagrees with its visible counterpart."""

    id = "symmetry.occluded"
    description = (
        "A limb segment with an OCCLUDED end that is far longer than its visible counterpart: the same segment "
        "where it was visible in the track (sequences), else the other side's segment in the same frame."
    )
    severity = Severity.WARNING
    parameters = (
        Param("max_ratio", 2.0, "x counterpart",
              "Left and right limbs are equally long; a hidden segment more than twice its counterpart cannot be "
              "explained by foreshortening (only a shorter one can, so shorter hidden segments are not judged)."),
        Param("min_typical", 0.6, "x typical",
              "The visible counterpart must be at least 0.6x its typical length, i.e. not strongly foreshortened "
              "itself, or the comparison says nothing."),
        Param("min_visible_frames", 5, "frames",
              "A track's median visible length is used as the counterpart once seen in at least this many frames."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        sk = data.skeleton
        s = frame_scale(data)
        st = data.state
        occl = st == KeypointState.OCCLUDED
        vis = np.isin(st, _VISIBLE_LIKE)
        out = []
        for seg_a, seg_b in _MIRROR:
            for mine, other in ((seg_a, seg_b), (seg_b, seg_a)):
                ij = index_of(sk, *mine)
                oj = index_of(sk, *other)
                if ij is None or oj is None:
                    continue
                hidden = data.present[..., ij].all(-1) & occl[..., ij].any(-1)
                if not hidden.any():
                    continue
                length = _dist(data.xy[:, :, ij[0]], data.xy[:, :, ij[1]])
                ref = np.where(vis[..., oj].all(-1), _dist(data.xy[:, :, oj[0]], data.xy[:, :, oj[1]]), np.nan)
                if data.temporal:
                    seen = vis[..., ij].all(-1)
                    own = np.where(seen, length, np.nan)
                    enough = seen.sum(0) >= self.p("min_visible_frames")
                    med = np.where(enough, nanmedian_axis0(own), np.nan)
                    ref = np.where(np.isfinite(med)[None, :], med[None, :], ref)
                typ = typical_length(*mine) or 0.5
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio = length / ref
                    ref_ok = ref >= self.p("min_typical") * typ * s
                    r = self.p("max_ratio")
                    bad = hidden & ref_ok & (ratio > r) & data.checked
                out += self.emit(
                    data, bad, ratio, r, "x counterpart", lambda t, i, m=mine: m,
                    lambda t, i, v, m=mine: (
                        f"{data.label(t, i)}: hidden segment {_bone_label(*m)} is {v:.2f}x its visible counterpart "
                        f"(limit {r:g}x): the occluded keypoint is probably misplaced"),
                )  # fmt: skip
        return out
