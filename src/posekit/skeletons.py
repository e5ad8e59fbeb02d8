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
