"""Whole-body centre of mass from segment parameters (de Leva 1996), in 2D and 3D.

Segment parameters
------------------
De Leva P. (1996) *Adjustments to Zatsiorsky–Seluyanov's segment inertia parameters.* Journal of
Biomechanics 29(9):1223–1230, **Table 4** (segment endpoints at joint centres). Mass is a percentage of
body mass; the centre-of-mass (CM) position is a percentage of the segment length from the first
(proximal) endpoint:

=========  ====================  ===============  ==============  ================
segment    endpoints (Table 4)   mass % (M / F)   CM % (M / F)    posekit points
=========  ====================  ===============  ==============  ================
head       VERT → MIDG           6.94 / 6.68      59.76 / 58.94   head proxy (see below)
trunk      SUPR → MIDH           43.46 / 42.57    44.86 / 41.51   mid-shoulders → mid-hips
upper arm  SJC → EJC             2.71 / 2.55      57.72 / 57.54   shoulder → elbow
forearm    EJC → WJC             1.62 / 1.38      45.74 / 45.59   elbow → wrist
hand       WJC → MET3            0.61 / 0.56      79.00 / 74.74   wrist → mid(index, pinky)
thigh      HJC → KJC             14.16 / 14.78    40.95 / 36.12   hip → knee
shank      KJC → LMAL            4.33 / 4.81      44.59 / 44.16   knee → ankle
foot       HEEL → TTIP           1.37 / 1.29      44.15 / 40.14   heel → foot index
=========  ====================  ===============  ==============  ================

Approximations (keypoints are not anatomical landmarks): the suprasternal notch (SUPR) is taken as the
shoulder midpoint; the head's CM is taken at the midpoint of the ears (BlazePose/COCO), else at a
``head`` keypoint (Penn Action, JHMDB), else at the nose — the head CM lies close to the ear canal, so no
vertex/gonion construction is attempted. Where a hand has no finger points its mass sits at the wrist;
where a foot has no heel/toe points its mass sits at the ankle. A segment whose endpoints are absent in a
frame is left out and the remaining masses are renormalised; :attr:`CenterOfMass.coverage` says what
fraction of body mass was located, and the CM is NaN where the trunk is absent or coverage is below
``min_coverage``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.poses import PoseSequence

from ._body import Body
from .kinematics import UP_IMAGE, UP_WORLD

__all__ = ["Segment", "DE_LEVA_1996", "CenterOfMass", "center_of_mass", "com_over_feet", "BaseOfSupport"]


@dataclass(frozen=True)
class Segment:
    """One body segment of the mass model.

    Attributes:
        name: segment name (``"left_thigh"``).
        proximal: names of candidate proximal points; each candidate is a joint name or a ``"a+b"``
            midpoint; the first available one is used.
        distal: candidate distal points (same syntax); empty for a point mass at ``proximal``.
        mass: fraction of body mass.
        cm: CM position as a fraction of the segment length from the proximal point.
    """

    name: str
    proximal: tuple[str, ...]
    distal: tuple[str, ...]
    mass: float
    cm: float


# de Leva (1996), Table 4: (mass %, CM % from the proximal endpoint) for males and females.
_TABLE4 = {
    "male": {
        "head": (6.94, 59.76), "trunk": (43.46, 44.86), "upper_arm": (2.71, 57.72), "forearm": (1.62, 45.74),
        "hand": (0.61, 79.00), "thigh": (14.16, 40.95), "shank": (4.33, 44.59), "foot": (1.37, 44.15),
    },
    "female": {
        "head": (6.68, 58.94), "trunk": (42.57, 41.51), "upper_arm": (2.55, 57.54), "forearm": (1.38, 45.59),
        "hand": (0.56, 74.74), "thigh": (14.78, 36.12), "shank": (4.81, 44.16), "foot": (1.29, 40.14),
    },
}  # fmt: skip


def _model(sex: str) -> tuple[Segment, ...]:
    t = _TABLE4[sex]
    segs = [
        Segment("head", ("left_ear+right_ear", "head", "nose"), (), t["head"][0] / 100, 0.0),
        Segment(
            "trunk", ("left_shoulder+right_shoulder",), ("left_hip+right_hip",), t["trunk"][0] / 100,
            t["trunk"][1] / 100,
        ),
    ]
    for s in ("left", "right"):
        segs += [
            Segment(f"{s}_upper_arm", (f"{s}_shoulder",), (f"{s}_elbow",), *(v / 100 for v in t["upper_arm"])),
            Segment(f"{s}_forearm", (f"{s}_elbow",), (f"{s}_wrist",), *(v / 100 for v in t["forearm"])),
            Segment(
                f"{s}_hand", (f"{s}_wrist",), (f"{s}_index+{s}_pinky", f"{s}_wrist"), *(v / 100 for v in t["hand"])
            ),
            Segment(f"{s}_thigh", (f"{s}_hip",), (f"{s}_knee",), *(v / 100 for v in t["thigh"])),
            Segment(f"{s}_shank", (f"{s}_knee",), (f"{s}_ankle",), *(v / 100 for v in t["shank"])),
            Segment(
                f"{s}_foot", (f"{s}_heel", f"{s}_ankle"), (f"{s}_foot_index", f"{s}_ankle"),
                *(v / 100 for v in t["foot"]),
            ),
        ]
    return tuple(segs)


#: The segment models: ``DE_LEVA_1996["male"]`` and ``DE_LEVA_1996["female"]`` (masses sum to 1).
DE_LEVA_1996: dict[str, tuple[Segment, ...]] = {"male": _model("male"), "female": _model("female")}


@dataclass
class CenterOfMass:
    """Whole-body centre of mass.

    Attributes:
        position: ``(T, I, D)`` pixels (2D) or metres (3D); NaN where it cannot be located.
        coverage: ``(T, I)`` fraction of body mass whose segments were located (0..1).
        coords: ``"image"`` or ``"world"``.
    """

    position: np.ndarray
    coverage: np.ndarray
    coords: str


def _point(body: Body, spec: tuple[str, ...], use_proximal: np.ndarray | None = None) -> np.ndarray:
    """First available candidate point per frame (candidates are tried frame by frame)."""
    out = np.full((len(body.seq), body.dims), np.nan)
    for cand in spec:
        if "+" in cand:
            a, b = cand.split("+")
            if not (body.has(a) and body.has(b)):
                continue
            p = body.mid(a, b)
        else:
            if not body.has(cand):
                continue
            p = body.p(cand)
        fill = ~np.isfinite(out).all(-1) & np.isfinite(p).all(-1)
        out[fill] = p[fill]
    return out


def center_of_mass(
    seq: PoseSequence,
    *,
    coords: str = "image",
    sex: str = "male",
    min_coverage: float = 0.8,
    person: int | None = None,
) -> CenterOfMass:
    """Whole-body centre of mass of every individual (see the module docstring for the model).

    Args:
        seq: the poses (any skeleton that names shoulders and hips; limbs and head when available).
        coords: ``"image"`` (pixels) or ``"world"`` (metres).
        sex: ``"male"`` or ``"female"`` parameter set.
        min_coverage: CM is NaN where less than this fraction of body mass was located.
        person: compute only this individual (the others stay NaN, coverage 0).

    Returns:
        A :class:`CenterOfMass`.
    """
    if sex not in DE_LEVA_1996:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    model = DE_LEVA_1996[sex]
    t, n = len(seq), seq.num_individuals
    dims = 2 if coords == "image" else 3
    pos = np.full((t, n, dims), np.nan)
    cov = np.zeros((t, n))
    for i in range(n) if person is None else [person]:
        body = Body(seq, i, coords)
        acc = np.zeros((t, dims))
        mass = np.zeros(t)
        trunk_ok = np.zeros(t, bool)
        for seg in model:
            p = _point(body, seg.proximal)
            if seg.distal:
                d = _point(body, seg.distal)
                c = p + seg.cm * (d - p)
            else:
                c = p
            ok = np.isfinite(c).all(-1)
            if seg.name == "trunk":
                trunk_ok = ok
            acc[ok] += seg.mass * c[ok]
            mass[ok] += seg.mass
        good = trunk_ok & (mass >= min_coverage) & (mass > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            pos[good, i] = acc[good] / mass[good, None]
        cov[:, i] = mass
    return CenterOfMass(pos, cov, coords)


@dataclass
class BaseOfSupport:
    """Centre of mass relative to the feet.

    Attributes:
        offset: ``(T, I, D)`` CM ground projection minus the centre of the foot points, in the ground
            plane (the component along ``up`` is removed), pixels or metres.
        margin: ``(T, I)`` signed distance from the CM projection to the edge of the support region,
            positive inside. In 2D the region is the horizontal span of the foot points (an interval on
            the image x axis); in 3D the convex hull of the foot points in the ground plane (when they
            span a polygon, else their segment/point with zero width).
        inside: ``(T, I)`` ``margin >= 0`` (False where NaN).
    """

    offset: np.ndarray
    margin: np.ndarray
    inside: np.ndarray


_FOOT_POINTS = ("left_heel", "left_foot_index", "right_heel", "right_foot_index", "left_ankle", "right_ankle")


def _hull_margin(pts: np.ndarray, q: np.ndarray) -> float:
    """Signed distance from q to the boundary of the convex hull of 2D points (positive inside)."""
    from scipy.spatial import ConvexHull, QhullError

    if len(pts) >= 3:
        try:
            hull = ConvexHull(pts)
            eq = hull.equations  # a·x + b·y + c <= 0 inside, (a, b) unit normals
            return float(-np.max(eq[:, :2] @ q + eq[:, 2]))
        except QhullError:
            pass
    # degenerate: distance to the segment spanned by the points, as a negative margin
    a, b = pts.min(0), pts.max(0)
    if len(pts) == 1 or np.allclose(a, b):
        return -float(np.linalg.norm(q - pts[0]))
    # project onto the longest principal direction
    c = pts.mean(0)
    u = np.linalg.svd(pts - c)[2][0]
    s = (pts - c) @ u
    lo, hi = s.min(), s.max()
    sq = (q - c) @ u
    along = max(lo - sq, 0.0, sq - hi)
    perp = float(np.linalg.norm((q - c) - sq * u))
    return -float(np.hypot(along, perp))


def com_over_feet(
    seq: PoseSequence,
    com: CenterOfMass,
    *,
    up: np.ndarray | None = None,
    person: int | None = None,
) -> BaseOfSupport:
    """Project the centre of mass onto the ground and relate it to the feet.

    Foot points are heels and foot-index (toe) points, with ankles where a skeleton has no feet.

    Args:
        seq: the poses the CM was computed from.
        com: from :func:`center_of_mass` (its ``coords`` decides image or world).
        up: the up direction; default :data:`UP_IMAGE` / :data:`UP_WORLD`.
        person: only this individual (the others stay NaN).

    Returns:
        A :class:`BaseOfSupport`.
    """
    t, n, dims = com.position.shape
    upv = np.asarray(up if up is not None else (UP_IMAGE if dims == 2 else UP_WORLD), dtype=np.float64)
    upv = upv / np.linalg.norm(upv)
    offset = np.full((t, n, dims), np.nan)
    margin = np.full((t, n), np.nan)
    names = [f for f in _FOOT_POINTS if f in seq.skeleton.keypoints]
    has_feet = any(f.endswith(("heel", "foot_index")) for f in names)
    if has_feet:
        names = [f for f in names if not f.endswith("ankle")]
    for i in range(n) if person is None else [person]:
        body = Body(seq, i, com.coords)
        feet = np.stack([body.p(f) for f in names], axis=1) if names else np.full((t, 0, dims), np.nan)
        for k in range(t):
            c = com.position[k, i]
            f = feet[k][np.isfinite(feet[k]).all(-1)]
            if not np.isfinite(c).all() or len(f) == 0:
                continue
            # remove the vertical component
            cg = c - (c @ upv) * upv
            fg = f - (f @ upv)[:, None] * upv
            offset[k, i] = cg - fg.mean(0)
            if dims == 2:
                h = np.array([-upv[1], upv[0]])  # horizontal axis of the image plane
                x = fg @ h
                xc = cg @ h
                margin[k, i] = float(min(xc - x.min(), x.max() - xc))
            else:
                # 2D coordinates in the ground plane
                e1 = np.cross(upv, [1.0, 0.0, 0.0])
                if np.linalg.norm(e1) < 1e-6:
                    e1 = np.cross(upv, [0.0, 0.0, 1.0])
                e1 /= np.linalg.norm(e1)
                e2 = np.cross(upv, e1)
                g = np.stack([fg @ e1, fg @ e2], -1)
                margin[k, i] = _hull_margin(g, np.array([cg @ e1, cg @ e2]))
    inside = np.where(np.isfinite(margin), margin >= 0, False)
    return BaseOfSupport(offset, margin, inside)
