"""Skeleton definitions, the skeleton registry and explicit conversion tables.

A :class:`Skeleton` names its keypoints, its bones (edges), its left/right flip pairs, COCO OKS sigmas
where they are known, joint-angle definitions and anatomical limits. Skeletons are looked up by explicit
id (``"blazepose33"``, ``"coco17"``, ``"hand21"``, ``"face468"``); posekit never guesses a skeleton from
a keypoint count. Conversions between skeletons are explicit index tables (:data:`CONVERSIONS`); a
target keypoint with no true counterpart in the source is left out of the table (index ``-1``), never
approximated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "JointAngle",
    "Skeleton",
    "Conversion",
    "SKELETONS",
    "CONVERSIONS",
    "get_skeleton",
    "register_skeleton",
    "get_conversion",
    "BLAZEPOSE33",
    "COCO17",
    "HAND21",
    "FACE468",
]


@dataclass(frozen=True)
class JointAngle:
    """A joint angle at ``vertex`` between the segments to ``proximal`` and ``distal``.

    Flexion is 0 degrees when the three points are in a straight line and grows as the joint bends
    (flexion = 180° − the interior angle). ``limits`` is the anatomically possible flexion range in
    degrees; a negative lower limit allows that much hyperextension.
    """

    name: str
    proximal: str
    vertex: str
    distal: str
    limits: tuple[float, float] = (-10.0, 180.0)


@dataclass(frozen=True, eq=False)
class Skeleton:
    """A keypoint layout.

    Attributes:
        name: registry id, e.g. ``"coco17"``.
        keypoints: keypoint names, in array order.
        edges: bones as pairs of keypoint indices.
        flip_pairs: left/right pairs of keypoint indices (swapped when an image is mirrored).
        sigmas: COCO OKS per-keypoint sigmas ``(K,)``, or ``None`` where none are defined.
        angles: joint-angle definitions.
    """

    name: str
    keypoints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    flip_pairs: tuple[tuple[int, int], ...] = ()
    sigmas: tuple[float, ...] | None = None
    angles: tuple[JointAngle, ...] = ()
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        k = len(self.keypoints)
        if len(set(self.keypoints)) != k:
            raise ValueError(f"skeleton {self.name!r}: keypoint names are not unique")
        for a, b in (*self.edges, *self.flip_pairs):
            if not (0 <= a < k and 0 <= b < k) or a == b:
                raise ValueError(f"skeleton {self.name!r}: bad index pair ({a}, {b}) for {k} keypoints")
        if self.sigmas is not None and len(self.sigmas) != k:
            raise ValueError(f"skeleton {self.name!r}: {len(self.sigmas)} sigmas for {k} keypoints")
        self._index.update({n: i for i, n in enumerate(self.keypoints)})
        for ang in self.angles:
            for n in (ang.proximal, ang.vertex, ang.distal):
                if n not in self._index:
                    raise ValueError(f"skeleton {self.name!r}: angle {ang.name!r} names unknown keypoint {n!r}")

    def __len__(self) -> int:
        return len(self.keypoints)

    @property
    def num_keypoints(self) -> int:
        """Number of keypoints K."""
        return len(self.keypoints)

    def index(self, name: str) -> int:
        """Index of a keypoint by name; ``KeyError`` naming the skeleton if unknown."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"skeleton {self.name!r} has no keypoint {name!r}") from None

    @property
    def flip_index(self) -> np.ndarray:
        """Permutation ``(K,)`` that swaps left and right keypoints (identity where unpaired)."""
        perm = np.arange(len(self.keypoints))
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    @property
    def sigmas_array(self) -> np.ndarray | None:
        """OKS sigmas as a float64 array ``(K,)``, or ``None``."""
        return None if self.sigmas is None else np.asarray(self.sigmas, dtype=np.float64)

    def __repr__(self) -> str:
        return f"Skeleton({self.name!r}, {len(self.keypoints)} keypoints, {len(self.edges)} bones)"


@dataclass(frozen=True, eq=False)
class Conversion:
    """An explicit keypoint correspondence ``src → dst``.

    ``index[j]`` is the source keypoint index for target keypoint ``j``, or ``-1`` where the target has no
    true counterpart in the source (that target keypoint becomes ``MISSING``).
    """

    src: str
    dst: str
    index: tuple[int, ...]

    @property
    def exact(self) -> bool:
        """True when every target keypoint has a source counterpart."""
        return all(i >= 0 for i in self.index)


SKELETONS: dict[str, Skeleton] = {}
CONVERSIONS: dict[tuple[str, str], Conversion] = {}


def register_skeleton(skeleton: Skeleton, *, overwrite: bool = False) -> Skeleton:
    """Add a skeleton to the registry under ``skeleton.name``."""
    if skeleton.name in SKELETONS and not overwrite:
        raise ValueError(f"a skeleton named {skeleton.name!r} is already registered")
    SKELETONS[skeleton.name] = skeleton
    return skeleton


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """Look a skeleton up by id (a :class:`Skeleton` is returned as is)."""
    if isinstance(name, Skeleton):
        return name
    try:
        return SKELETONS[name]
    except KeyError:
        known = ", ".join(sorted(SKELETONS))
        raise KeyError(f"unknown skeleton {name!r} (known: {known})") from None


def register_conversion(src: str, dst: str, index: list[int] | tuple[int, ...]) -> Conversion:
    """Register an explicit conversion table ``src → dst`` (see :class:`Conversion`)."""
    s, d = get_skeleton(src), get_skeleton(dst)
    if len(index) != len(d):
        raise ValueError(f"conversion {src}->{dst}: {len(index)} entries for {len(d)} target keypoints")
    if any(not (-1 <= i < len(s)) for i in index):
        raise ValueError(f"conversion {src}->{dst}: index out of range for {len(s)} source keypoints")
    conv = Conversion(src, dst, tuple(int(i) for i in index))
    CONVERSIONS[(src, dst)] = conv
    return conv


def get_conversion(src: str | Skeleton, dst: str | Skeleton) -> Conversion:
    """The registered conversion ``src → dst``; identity when both are the same skeleton."""
    s, d = get_skeleton(src), get_skeleton(dst)
    if s.name == d.name:
        return Conversion(s.name, d.name, tuple(range(len(s))))
    try:
        return CONVERSIONS[(s.name, d.name)]
    except KeyError:
        have = ", ".join(f"{a}->{b}" for a, b in sorted(CONVERSIONS))
        raise KeyError(f"no conversion from {s.name!r} to {d.name!r} (registered: {have})") from None


def _pairs(names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Flip pairs from names that start with ``left_``/``right_``."""
    idx = {n: i for i, n in enumerate(names)}
    out = []
    for n, i in idx.items():
        if n.startswith("left_"):
            j = idx.get("right_" + n[5:])
            if j is not None:
                out.append((i, j))
    return tuple(out)


def _edges(names: tuple[str, ...], pairs: list[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    idx = {n: i for i, n in enumerate(names)}
    return tuple((idx[a], idx[b]) for a, b in pairs)


def _limb_angles(foot: str | None) -> tuple[JointAngle, ...]:
    out = []
    for side in ("left", "right"):
        s = side + "_"
        out += [
            JointAngle(s + "elbow", s + "shoulder", s + "elbow", s + "wrist", (-15.0, 160.0)),
            JointAngle(s + "knee", s + "hip", s + "knee", s + "ankle", (-15.0, 165.0)),
            JointAngle(s + "hip", s + "shoulder", s + "hip", s + "knee", (-40.0, 150.0)),
            JointAngle(s + "shoulder", s + "hip", s + "shoulder", s + "elbow", (-10.0, 180.0)),
        ]
        if foot:
            out.append(JointAngle(s + "ankle", s + "knee", s + "ankle", s + foot, (0.0, 150.0)))
    return tuple(out)


# --- BlazePose 33 (MediaPipe pose landmark topology) -------------------------------------------------
_BP_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip
_BP_EDGES = (
    (0, 1), (0, 4), (1, 2), (2, 3), (3, 7), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
    (11, 23), (12, 14), (12, 24), (13, 15), (14, 16), (15, 17), (15, 19), (15, 21), (16, 18), (16, 20),
    (16, 22), (17, 19), (18, 20), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (27, 31),
    (28, 30), (28, 32), (29, 31), (30, 32),
)  # fmt: skip
_BP_FLIP = _pairs(_BP_NAMES) + ((9, 10),)  # mouth_left <-> mouth_right

# --- COCO 17 -------------------------------------------------------------------------------------------
_COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# COCO's own skeleton (1-based in the annotation file), here 0-based.
_COCO_EDGES = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
    (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip
_COCO_SIGMAS = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087,
    0.087, 0.089, 0.089,
)  # fmt: skip

# --- Hand 21 (MediaPipe hand landmark topology; same order as FreiHAND/OneHand10K/RHD/Panoptic) ----
_HAND_NAMES = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip", "index_finger_mcp", "index_finger_pip",
    "index_finger_dip", "index_finger_tip", "middle_finger_mcp", "middle_finger_pip",
    "middle_finger_dip", "middle_finger_tip", "ring_finger_mcp", "ring_finger_pip", "ring_finger_dip",
    "ring_finger_tip", "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)  # fmt: skip
_HAND_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip
# COCO-WholeBody hand sigmas (one hand, 21 points).
_HAND_SIGMAS = (
    0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026, 0.017,
    0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031,
)  # fmt: skip

# --- Face mesh 468 (MediaPipe face mesh). Edges: the mesh contours (lips, eyes, brows, face oval). ---
_FACE_CONTOURS = (
    (0, 267), (7, 163), (10, 338), (13, 312), (14, 317), (17, 314), (21, 54), (33, 7), (33, 246),
    (37, 0), (39, 37), (40, 39), (46, 53), (52, 65), (53, 52), (54, 103), (58, 132), (61, 146),
    (61, 185), (63, 105), (65, 55), (66, 107), (67, 109), (70, 63), (78, 95), (78, 191), (80, 81),
    (81, 82), (82, 13), (84, 17), (87, 14), (88, 178), (91, 181), (93, 234), (95, 88), (103, 67),
    (105, 66), (109, 10), (127, 162), (132, 93), (136, 172), (144, 145), (145, 153), (146, 91),
    (148, 176), (149, 150), (150, 136), (152, 148), (153, 154), (154, 155), (155, 133), (157, 173),
    (158, 157), (159, 158), (160, 159), (161, 160), (162, 21), (163, 144), (172, 58), (173, 133),
    (176, 149), (178, 87), (181, 84), (185, 40), (191, 80), (234, 127), (246, 161), (249, 390),
    (251, 389), (263, 249), (263, 466), (267, 269), (269, 270), (270, 409), (276, 283), (282, 295),
    (283, 282), (284, 251), (288, 397), (293, 334), (295, 285), (296, 336), (297, 332), (300, 293),
    (310, 415), (311, 310), (312, 311), (314, 405), (317, 402), (318, 324), (321, 375), (323, 361),
    (324, 308), (332, 284), (334, 296), (338, 297), (356, 454), (361, 288), (365, 379), (373, 374),
    (374, 380), (375, 291), (377, 152), (378, 400), (379, 378), (380, 381), (381, 382), (382, 362),
    (384, 398), (385, 384), (386, 385), (387, 386), (388, 387), (389, 356), (390, 373), (397, 365),
    (398, 362), (400, 377), (402, 318), (405, 321), (409, 291), (415, 308), (454, 323), (466, 388),
)  # fmt: skip

BLAZEPOSE33 = register_skeleton(
    Skeleton("blazepose33", _BP_NAMES, _BP_EDGES, _BP_FLIP, None, _limb_angles("foot_index"))
)
COCO17 = register_skeleton(
    Skeleton(
        "coco17",
        _COCO_NAMES,
        _COCO_EDGES,
        _pairs(_COCO_NAMES),
        _COCO_SIGMAS,
        _limb_angles(None),
    )
)
HAND21 = register_skeleton(Skeleton("hand21", _HAND_NAMES, _HAND_EDGES, (), _HAND_SIGMAS))
FACE468 = register_skeleton(
    Skeleton("face468", tuple(f"face_{i}" for i in range(468)), _FACE_CONTOURS)
)

# BlazePose-33 -> COCO-17 is exact: every COCO keypoint is one BlazePose landmark.
register_conversion(
    "blazepose33",
    "coco17",
    [_BP_NAMES.index(n) for n in _COCO_NAMES],
)


# =====================================================================================================
# Dataset layouts (ground-truth keypoint orders) and explicit conversion tables.
#
# Keypoint orders are those of the annotation files in ../shared/data, cross-checked against mmpose's
# ``configs/_base_/datasets/*.py`` and, where the two disagree, against the geometry of the data itself
# (noted per layout). Names of anatomically identical joints are shared across layouts
# (``left_shoulder`` … ``right_ankle``) so that the tables below read as plain name correspondences.
# =====================================================================================================
_LIMB_NAMES = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
_LIMB_BONES = [
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
]  # fmt: skip


def _layout(
    name: str,
    names: tuple[str, ...],
    bones: list[tuple[str, str]],
    sigmas: tuple[float, ...] | None = None,
    *,
    flip: tuple[tuple[int, int], ...] | None = None,
    angles: bool = True,
) -> Skeleton:
    return register_skeleton(
        Skeleton(
            name,
            names,
            _edges(names, bones),
            _pairs(names) if flip is None else flip,
            sigmas,
            _limb_angles(None) if angles else (),
        )
    )


# --- CrowdPose 14 (file: ..., "head", "neck"; mmpose: "top_head", "neck"; the point is the head top) ---
_CROWDPOSE_NAMES = _LIMB_NAMES + ("head_top", "neck")
CROWDPOSE14 = _layout(
    "crowdpose14",
    _CROWDPOSE_NAMES,
    _LIMB_BONES
    + [("left_hip", "right_hip"), ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
       ("left_shoulder", "right_shoulder"), ("head_top", "neck"), ("left_shoulder", "neck"),
       ("right_shoulder", "neck")],  # fmt: skip
    (0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089, 0.079, 0.079),
)

# --- PoseTrack18 17 (COCO order with head_bottom/head_top in the eye slots; ears are never labelled) ---
_POSETRACK_NAMES = ("nose", "head_bottom", "head_top") + _COCO_NAMES[3:]
POSETRACK17 = _layout(
    "posetrack17",
    _POSETRACK_NAMES,
    [(_POSETRACK_NAMES[a], _POSETRACK_NAMES[b]) for a, b in _COCO_EDGES],
    _COCO_SIGMAS,
)

# --- MPII 16 (also MHP; mmpose mpii.py order and sigmas) ---------------------------------------------
_MPII_NAMES = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis", "thorax",
    "upper_neck", "head_top", "right_wrist", "right_elbow", "right_shoulder", "left_shoulder",
    "left_elbow", "left_wrist",
)  # fmt: skip
MPII16 = _layout(
    "mpii16",
    _MPII_NAMES,
    _LIMB_BONES
    + [("right_hip", "pelvis"), ("left_hip", "pelvis"), ("pelvis", "thorax"), ("thorax", "upper_neck"),
       ("upper_neck", "head_top"), ("upper_neck", "right_shoulder"), ("upper_neck", "left_shoulder")],  # fmt: skip
    (0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062, 0.072, 0.179, 0.179,
     0.072, 0.062),  # fmt: skip
)

# --- AI Challenger 14 (file order; sigmas from mmpose aic.py = AIC's delta / 2) -----------------------
_AIC_NAMES = (
    "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "head_top", "neck",
)  # fmt: skip
AIC14 = _layout(
    "aic14",
    _AIC_NAMES,
    _LIMB_BONES
    + [("right_shoulder", "neck"), ("left_shoulder", "neck"), ("head_top", "neck"),
       ("right_shoulder", "right_hip"), ("left_shoulder", "left_hip"), ("right_hip", "left_hip")],  # fmt: skip
    (0.01388152, 0.01515228, 0.01057665, 0.01417709, 0.01497891, 0.01402144, 0.03909642, 0.03686941,
     0.01981803, 0.03843971, 0.03412318, 0.02415081, 0.01291456, 0.01236173),  # fmt: skip
)

# --- JHMDB 15 (puppet joints; file order) ------------------------------------------------------------
_JHMDB_NAMES = (
    "neck", "belly", "head", "right_shoulder", "left_shoulder", "right_hip", "left_hip", "right_elbow",
    "left_elbow", "right_knee", "left_knee", "right_wrist", "left_wrist", "right_ankle", "left_ankle",
)  # fmt: skip
JHMDB15 = _layout(
    "jhmdb15",
    _JHMDB_NAMES,
    _LIMB_BONES
    + [("neck", "head"), ("neck", "right_shoulder"), ("neck", "left_shoulder"), ("neck", "belly"),
       ("belly", "right_hip"), ("belly", "left_hip")],  # fmt: skip
)

# --- Human3.6M 17. Index 1 is the RIGHT hip: in the shared data joint 1 lies on the side of joint 14
# (right shoulder) and the body's handedness (left × up points to where the face is) confirms it; some
# mmpose versions of h36m.py and the shared h36m_coco.json name index 1 "left_hip", which is wrong.
# H36M's "foot" joints sit at the ankles (named so here); index 9 is H36M's "Head" joint (inside the
# head at about nose height, mmpose: neck_base) and index 10 its head top ("Site", mmpose: head). ------
_H36M_NAMES = (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine",
    "thorax", "head", "head_top", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
    "right_elbow", "right_wrist",
)  # fmt: skip
H36M17 = _layout(
    "h36m17",
    _H36M_NAMES,
    _LIMB_BONES
    + [("pelvis", "right_hip"), ("pelvis", "left_hip"), ("pelvis", "spine"), ("spine", "thorax"),
       ("thorax", "head"), ("head", "head_top"), ("thorax", "left_shoulder"), ("thorax", "right_shoulder")],  # fmt: skip
)

# --- MPI-INF-3DHP 17 (mmpose mpi_inf_3dhp.py order; "root" named pelvis) -----------------------------
_MPI3DHP_NAMES = (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "pelvis", "spine", "head",
)  # fmt: skip
MPI3DHP17 = _layout(
    "mpi3dhp17",
    _MPI3DHP_NAMES,
    _LIMB_BONES
    + [("neck", "right_shoulder"), ("neck", "left_shoulder"), ("pelvis", "right_hip"), ("pelvis", "left_hip"),
       ("head_top", "head"), ("head", "neck"), ("neck", "spine"), ("spine", "pelvis")],  # fmt: skip
)

# --- Penn Action 13. The dataset README lists 1 head, 2 left_shoulder, 3 right_shoulder, …; the labels
# themselves put the person's RIGHT side first in every pair: in the 581 shared clips the "front" view
# has joint 2 left of joint 3 in the image in 90 % of clips ("back": 0 %), and in side-view squats the
# far (hidden) side is joint 3/9 when the knees bend towards +x (the right side faces the camera). So the
# true order is head, right_shoulder, left_shoulder, … (see posekit.datasets.penn). --------------------
_PENN_NAMES = (
    "head", "right_shoulder", "left_shoulder", "right_elbow", "left_elbow", "right_wrist", "left_wrist",
    "right_hip", "left_hip", "right_knee", "left_knee", "right_ankle", "left_ankle",
)  # fmt: skip
PENN13 = _layout(
    "penn13",
    _PENN_NAMES,
    _LIMB_BONES
    + [("head", "left_shoulder"), ("head", "right_shoulder"), ("left_shoulder", "right_shoulder"),
       ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"), ("left_hip", "right_hip")],  # fmt: skip
)

# --- CMU Panoptic body19 (hdPose3d_stage1_coco19: OpenPose COCO-18 keypoints + body centre) -----------
_PANOPTIC_NAMES = (
    "neck", "nose", "body_center", "left_shoulder", "left_elbow", "left_wrist", "left_hip", "left_knee",
    "left_ankle", "right_shoulder", "right_elbow", "right_wrist", "right_hip", "right_knee", "right_ankle",
    "left_eye", "left_ear", "right_eye", "right_ear",
)  # fmt: skip
PANOPTIC19 = _layout(
    "panoptic19",
    _PANOPTIC_NAMES,
    _LIMB_BONES
    + [("neck", "nose"), ("neck", "body_center"), ("neck", "left_shoulder"), ("neck", "right_shoulder"),
       ("body_center", "left_hip"), ("body_center", "right_hip"), ("nose", "left_eye"), ("left_eye", "left_ear"),
       ("nose", "right_eye"), ("right_eye", "right_ear")],  # fmt: skip
)

# --- Hands: RHD (wrist, then each finger tip-first) and InterHand2.6M (each finger tip-first, wrist last),
# named with the hand21 names so that the reorder tables are plain name matches. -----------------------
_FINGERS = ("thumb", "index_finger", "middle_finger", "ring_finger", "pinky")


def _finger_tip_first(f: str) -> tuple[str, ...]:
    j = ("tip", "ip", "mcp", "cmc") if f == "thumb" else ("tip", "dip", "pip", "mcp")
    return tuple(f"{f}_{s}" for s in j)


_RHD_NAMES = ("wrist",) + tuple(n for f in _FINGERS for n in _finger_tip_first(f))
_INTERHAND_NAMES = tuple(n for f in _FINGERS for n in _finger_tip_first(f)) + ("wrist",)
_HAND_BONES = [(_HAND_NAMES[a], _HAND_NAMES[b]) for a, b in _HAND_EDGES]
RHD21 = _layout("rhd21", _RHD_NAMES, _HAND_BONES, None, flip=(), angles=False)
INTERHAND21 = _layout("interhand21", _INTERHAND_NAMES, _HAND_BONES, None, flip=(), angles=False)

# --- Faces: numbered landmarks (no names, flip pairs or bones; readers only need the order) ----------
FACE68 = _layout("face68", tuple(f"f68_{i}" for i in range(68)), [], flip=(), angles=False)
WFLW98 = _layout("wflw98", tuple(f"wflw_{i}" for i in range(98)), [], flip=(), angles=False)
COFW29 = _layout("cofw29", tuple(f"cofw_{i}" for i in range(29)), [], flip=(), angles=False)
AFLW19 = _layout("aflw19", tuple(f"aflw_{i}" for i in range(19)), [], flip=(), angles=False)
LAPA106 = _layout("lapa106", tuple(f"lapa_{i}" for i in range(106)), [], flip=(), angles=False)

# --- Conversion tables ---------------------------------------------------------------------------------
# For every body layout: target keypoint -> the COCO-17 keypoint that is the same anatomical point, or None
# where COCO-17 (and BlazePose-33, which holds all COCO-17 points under the same names) has no such point.
# Head/neck/trunk points (head_top, neck, thorax, pelvis, spine, belly, body_center, PoseTrack's
# head_bottom, Penn/JHMDB/H36M "head") are not COCO landmarks: nose is the tip of the nose, not a head
# centre or head top. Derived points (e.g. pelvis = mean of the hips) are never put in a table; see
# posekit.datasets.layouts.derive_midpoints.
_SAME = {n: n for n in _LIMB_NAMES}
_FROM_COCO: dict[str, dict[str, str | None]] = {
    "crowdpose14": {**_SAME, "head_top": None, "neck": None},
    "posetrack17": {
        **_SAME, "nose": "nose", "head_bottom": None, "head_top": None, "left_ear": "left_ear",
        "right_ear": "right_ear",
    },  # fmt: skip
    "mpii16": {**_SAME, "pelvis": None, "thorax": None, "upper_neck": None, "head_top": None},
    "aic14": {**_SAME, "head_top": None, "neck": None},
    "jhmdb15": {**_SAME, "neck": None, "belly": None, "head": None},
    "h36m17": {**_SAME, "pelvis": None, "spine": None, "thorax": None, "head": None, "head_top": None},
    "mpi3dhp17": {**_SAME, "head_top": None, "neck": None, "pelvis": None, "spine": None, "head": None},
    "penn13": {**_SAME, "head": None},
    "panoptic19": {
        **_SAME, "neck": None, "nose": "nose", "body_center": None, "left_eye": "left_eye",
        "right_eye": "right_eye", "left_ear": "left_ear", "right_ear": "right_ear",
    },  # fmt: skip
}


def _register_by_names(src: str, dst: str, table: dict[str, str | None]) -> Conversion:
    s, d = get_skeleton(src), get_skeleton(dst)
    if set(table) != set(d.keypoints):
        raise ValueError(f"table {src}->{dst} does not cover exactly the keypoints of {dst}")
    return register_conversion(src, dst, [-1 if table[n] is None else s.index(table[n]) for n in d.keypoints])


for _dst, _table in _FROM_COCO.items():
    _register_by_names("coco17", _dst, _table)
    _register_by_names("blazepose33", _dst, _table)
    # and back to COCO-17: every COCO keypoint that the layout holds
    _inverse = {v: k for k, v in _table.items() if v is not None}
    _register_by_names(_dst, "coco17", {n: _inverse.get(n) for n in _COCO_NAMES})

# Hands: exact reorders (the same 21 anatomical points in another order).
_register_by_names("rhd21", "hand21", {n: n for n in _HAND_NAMES})
_register_by_names("hand21", "rhd21", {n: n for n in _RHD_NAMES})
_register_by_names("interhand21", "hand21", {n: n for n in _HAND_NAMES})
_register_by_names("hand21", "interhand21", {n: n for n in _INTERHAND_NAMES})

__all__ += [
    "CROWDPOSE14", "POSETRACK17", "MPII16", "AIC14", "JHMDB15", "H36M17", "MPI3DHP17", "PENN13",
    "PANOPTIC19", "RHD21", "INTERHAND21", "FACE68", "WFLW98", "COFW29", "AFLW19", "LAPA106",
    "register_conversion",
]  # fmt: skip


# face468 (MediaPipe mesh) → 68-point (300W) and 98-point (WFLW) markups: only the mesh vertices that
# are the same anatomical landmark as a markup point (eye corners, mouth corners, nose tip, chin); every
# other markup point has no counterpart (-1). Checked on the shared 300W faces: the mesh's 33/263 land on
# the same sides as 300W's 36/45.
_MESH_POINTS = (33, 133, 362, 263, 61, 291, 1, 152)
for _layout, _points in (("face68", (36, 39, 42, 45, 48, 54, 30, 8)), ("wflw98", (60, 64, 68, 72, 76, 82, 54, 16))):
    _table = [-1] * len(get_skeleton(_layout))
    for _mesh, _mark in zip(_MESH_POINTS, _points):
        _table[_mark] = _mesh
    register_conversion("face468", _layout, _table)
