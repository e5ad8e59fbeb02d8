"""Named-joint access to one person of a :class:`~posekit.poses.PoseSequence`, on any skeleton.

Analysis code asks for joints by name (``"left_hip"``) through :class:`Body`, never by index, so the
same exercise, gait and fall logic runs on BlazePose-33 estimates, COCO-17 and dataset layouts such as
Penn Action's ``penn13``: a joint that the skeleton does not name is simply absent (all NaN, never
trusted) and the code that needs it says so.

Keypoint states decide what a measurement may be used for:

* **trusted** (:data:`TRUSTED_STATES`: VISIBLE, CORRECTED): seen by the model or fixed by a person.
  Repetition counting and per-rep form metrics use trusted keypoints only — never the guesses of an
  occlusion model or a tracker.
* **measured** (:func:`Body.measured`): every present keypoint except guesses made after the fact —
  tracker/filter predictions (``PREDICTED``, and ``OCCLUDED`` with score 0, which is how the online
  stabiliser marks a predicted point) and gap filling (``INTERPOLATED``). Fall detection uses these: the
  model's own estimate of a hidden joint is still a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posekit.poses import KeypointState, PoseSequence

__all__ = ["TRUSTED_STATES", "Body", "main_person", "SIDES"]

#: Keypoint states a repetition may be counted on.
TRUSTED_STATES: tuple[KeypointState, ...] = (KeypointState.VISIBLE, KeypointState.CORRECTED)
#: The two body sides, as name prefixes.
SIDES: tuple[str, str] = ("left", "right")


@dataclass
class Body:
    """One individual of a sequence, with joints looked up by name.

    Args:
        seq: the poses.
        person: individual index ``i`` in ``seq`` (not the track id).
        coords: ``"image"`` (pixels, ``xy``) or ``"world"`` (metres, ``world``; needs ``seq.world``).
        trusted_states: keypoint states that count as trusted.
    """

    seq: PoseSequence
    person: int = 0
    coords: str = "image"
    trusted_states: tuple[KeypointState, ...] = TRUSTED_STATES
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.coords not in ("image", "world"):
            raise ValueError(f"coords must be 'image' or 'world', got {self.coords!r}")
        if self.coords == "world" and self.seq.world is None:
            raise ValueError("coords='world' needs a sequence with world coordinates")
        if not (0 <= self.person < max(self.seq.num_individuals, 1)) and self.seq.num_individuals:
            raise IndexError(f"person {self.person} out of range for {self.seq.num_individuals} individuals")

    # -- basic facts ------------------------------------------------------------------------------------
    @property
    def time(self) -> np.ndarray:
        """``(T,)`` seconds."""
        return self.seq.time

    @property
    def dims(self) -> int:
        """2 for image coordinates, 3 for world coordinates."""
        return 2 if self.coords == "image" else 3

    @property
    def track_id(self) -> int:
        """The individual's track id."""
        return int(self.seq.track_id[self.person]) if self.seq.num_individuals else -1

    def has(self, name: str) -> bool:
        """Whether the skeleton names this joint."""
        return name in self.seq.skeleton.keypoints

    def _idx(self, name: str) -> int | None:
        return self.seq.skeleton.index(name) if self.has(name) else None

    # -- positions and states -------------------------------------------------------------------------
    def p(self, name: str) -> np.ndarray:
        """``(T, D)`` positions (pixels or metres); all NaN when the skeleton lacks the joint."""
        key = ("p", name)
        if key not in self._cache:
            j = self._idx(name)
            t = len(self.seq)
            if j is None or not self.seq.num_individuals:
                out = np.full((t, self.dims), np.nan)
            elif self.coords == "image":
                out = self.seq.xy[:, self.person, j, :]
            else:
                assert self.seq.world is not None
                out = self.seq.world[:, self.person, j, :]
            self._cache[key] = out
        return self._cache[key]

    def state(self, name: str) -> np.ndarray:
        """``(T,)`` keypoint states (MISSING where the skeleton lacks the joint)."""
        j = self._idx(name)
        if j is None or not self.seq.num_individuals:
            return np.zeros(len(self.seq), np.uint8)
        return self.seq.state[:, self.person, j]

    def ok(self, *names: str) -> np.ndarray:
        """``(T,)`` True where every named joint is trusted (and has finite coordinates)."""
        out = np.ones(len(self.seq), bool)
        for n in names:
            key = ("ok", n)
            if key not in self._cache:
                s = self.state(n)
                good = np.isin(s, np.asarray(self.trusted_states, np.uint8))
                self._cache[key] = good & np.isfinite(self.p(n)).all(-1)
            out &= self._cache[key]
        return out

    def measured(self, *names: str) -> np.ndarray:
        """``(T,)`` True where every named joint is a measurement (present, not predicted or gap-filled)."""
        out = np.ones(len(self.seq), bool)
        for n in names:
            j = self._idx(n)
            if j is None or not self.seq.num_individuals:
                return np.zeros(len(self.seq), bool)
            s = self.seq.state[:, self.person, j]
            sc = self.seq.score[:, self.person, j]
            predicted = (
                (s == KeypointState.PREDICTED)
                | (s == KeypointState.INTERPOLATED)
                | ((s == KeypointState.OCCLUDED) & (sc <= 0))
            )
            out &= (s != KeypointState.MISSING) & ~predicted & np.isfinite(self.p(n)).all(-1)
        return out

    def present(self, *names: str) -> np.ndarray:
        """``(T,)`` True where every named joint has a position (any state but MISSING)."""
        out = np.ones(len(self.seq), bool)
        for n in names:
            out &= np.isfinite(self.p(n)).all(-1)
        return out

    # -- derived points ---------------------------------------------------------------------------------
    def mid(self, a: str, b: str) -> np.ndarray:
        """``(T, D)`` midpoint of two joints (NaN where either is absent)."""
        return 0.5 * (self.p(a) + self.p(b))

    def first(self, *names: str) -> str | None:
        """The first of ``names`` the skeleton has, or ``None``."""
        return next((n for n in names if self.has(n)), None)

    def side(self, side: str, joint: str) -> str:
        """``side('left', 'knee') → 'left_knee'``."""
        return f"{side}_{joint}"

    def length(self, a: str, b: str, *, q: float = 90.0, use: np.ndarray | None = None) -> float:
        """Robust length of the segment ``a``–``b`` over the clip: the ``q``-th percentile, pixels/metres.

        Uses every frame where both joints are present (their annotated or estimated positions), or
        the frames in ``use``. NaN when no frame has both.
        """
        d = np.linalg.norm(self.p(a) - self.p(b), axis=-1)
        m = np.isfinite(d) if use is None else (np.isfinite(d) & use)
        return float(np.percentile(d[m], q)) if m.any() else float("nan")

    def segment_scale(self, pairs: list[tuple[str, str]], *, q: float = 90.0) -> float:
        """Sum of robust segment lengths (see :meth:`length`), skipping segments that are never seen."""
        vals = [self.length(a, b, q=q) for a, b in pairs if self.has(a) and self.has(b)]
        vals = [v for v in vals if np.isfinite(v) and v > 0]
        return float(np.sum(vals)) if vals else float("nan")

    def torso_length(self) -> float:
        """Robust shoulder-midpoint to hip-midpoint distance over the clip (pixels/metres)."""
        key = ("torso",)
        if key not in self._cache:
            d = np.linalg.norm(
                self.mid("left_shoulder", "right_shoulder") - self.mid("left_hip", "right_hip"), axis=-1
            )
            if not np.isfinite(d).any():  # one side only: use the side that is there
                for s in SIDES:
                    ds = np.linalg.norm(self.p(f"{s}_shoulder") - self.p(f"{s}_hip"), axis=-1)
                    d = np.where(np.isfinite(d), d, ds)
            self._cache[key] = float(np.nanpercentile(d, 90)) if np.isfinite(d).any() else float("nan")
        return self._cache[key]

    def frames_present(self) -> np.ndarray:
        """``(T,)`` True where the individual has any present keypoint."""
        if not self.seq.num_individuals:
            return np.zeros(len(self.seq), bool)
        return self.seq.present[:, self.person].any(-1)


def main_person(seq: PoseSequence) -> int | None:
    """The individual index seen longest (ties: the larger median box); ``None`` when nobody is there.

    Returns:
        An index into the individuals axis of ``seq``.
    """
    if seq.num_individuals == 0 or len(seq) == 0:
        return None
    pres = seq.present.any(-1)  # (T, I)
    counts = pres.sum(0)
    if counts.max() == 0:
        return None
    box = seq.box
    area = (box[..., 2] - box[..., 0]) * (box[..., 3] - box[..., 1])
    med = np.zeros(seq.num_individuals)
    for i in np.flatnonzero(counts):
        a = area[pres[:, i], i]
        a = a[np.isfinite(a)]
        med[i] = float(np.median(a)) if a.size else 0.0
    order = np.lexsort((-med, -counts))
    return int(order[0])
