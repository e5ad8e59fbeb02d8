"""Identity tracking: the same person keeps the same ``track_id``, frame after frame.

Two entry points share one algorithm:

* :class:`PoseTracker` — online, frame by frame (``update(frame) -> frame``, ``reset()``).
* :func:`track_sequence` — offline over a whole clip: the online pass, then identities are written back
  to the frames before each track's confirmation, and fragments of one person are merged.

Association (every frame, in the spirit of ByteTrack)
----------------------------------------------------
Every track carries its last measured keypoints, box, box centre and a body-centre velocity in
pixels/second (the median keypoint displacement over the time between matches, exponentially
smoothed). It is predicted to the frame's timestamp: with a constant velocity for gaps up to
``coast_s`` seconds, then *damped* — the displacement after ``Δ > coast_s`` seconds is
``v · (coast_s + τ · (1 − exp(−(Δ − coast_s)/τ)))`` with ``τ = velocity_damping_s`` — so variable frame
rates and dropped frames are handled through the timestamps, and a lost person's prediction levels off
instead of running away.

The similarity of a track and a detection is ``oks_weight · OKS + (1 − oks_weight) · IoU`` between the
prediction and the detection (OKS with the skeleton's COCO sigmas and the predicted box area as scale;
BlazePose-33 is compared in its COCO-17 view through the registered, exact conversion), and the cost
handed to :func:`scipy.optimize.linear_sum_assignment` is ``1 − similarity + shape_weight · shape``,
where ``shape`` is the limb-proportion distance below (computed only when some track or detection has
more than one candidate; otherwise the assignment is forced anyway). Pairs whose similarity is under
the gate are never assigned.

1. Confident detections (``box_score ≥ high_score``) against the confirmed tracks matched in the
   previous frame, then the rest against confirmed tracks lost for at most ``coast_s`` (so a
   coasting prediction cannot take a detection from the track that was following it).
2. Weak detections (``low_score ≤ box_score < high_score``) against the confirmed tracks still
   unmatched and tracked in the previous frame, with the stricter gate ``min_similarity_weak``.
3. Re-identification (below) of confirmed tracks lost before this frame against the confident
   detections left.
4. Tentative tracks against the confident detections left.
5. Confident detections left with ``box_score ≥ new_track_score`` start tentative tracks.

Birth and death
---------------
A tentative track is confirmed — and only then receives an id — when it was matched in ``min_hits``
consecutive frames; a tentative track that misses one frame is dropped. In the very first frame after
construction or :meth:`PoseTracker.reset`, tracks are confirmed at once when ``confirm_first_frame``
(as ByteTrack does: the people present when the video starts have no history to prove themselves
with, and holding them back would blank the first frames of everyone). A confirmed track that has not
been matched for more than ``max_lost_s`` seconds dies. Time limits are in seconds, not frames.

Re-identification rule
----------------------
A confirmed track lost ``Δ`` seconds ago (``0 < Δ ≤ max_lost_s``) gets its id back on a detection when
both hold:

* **motion**: the detection's box centre lies within ``R = size · (reid_radius + reid_radius_per_s · Δ)``
  pixels of the track's last box centre moved by its damped velocity (and clamped into the image when
  the frame's ``image_size`` is known — someone who left at the left edge comes back at the left edge).
  ``size`` is the median of the track's recent box sides (``max(width, height)``, pixels).
* **shape**: the limb-proportion distance is at most ``reid_max_shape`` (3D) or
  ``reid_max_shape_2d`` (2D). Limb proportions are the log lengths of the skeleton's limb and torso
  bones between keypoints the model *saw* (state ``VISIBLE`` or ``CORRECTED``), measured on the world
  landmarks in metres when the frame has them (pose-independent) and in pixels otherwise. The distance
  between two sets of log lengths ``a, b`` is ``median_bones |(a − b) − median_bones(a − b)|``: the
  typical relative bone-length difference after removing the overall scale (0.1 ≈ bones differ by
  10%). A track's proportions are the running mean of its detections' (a slow moving average after
  the first ``1 / shape_rate`` detections). At least 4 bones must be comparable.

Among candidates, the pair with the least ``d / R + shape / threshold`` wins (linear assignment). The same
test runs again when a tentative track is confirmed, with its averaged proportions and first position,
so that someone who came back in a pose too unusual for a one-frame comparison still gets the old id.

Offline fragment merging
------------------------
After the online pass, two identities ``A`` and ``B`` that never share a frame, with ``B`` starting at most
``merge_max_gap_s`` after ``A`` ends, are joined when the same rule accepts them with better evidence:
``A``'s end and ``B``'s start (centres and velocities fitted over ``merge_window_s``) are both predicted to
the middle of the gap, and the proportions are the median over each whole track. Joins are chosen by
linear assignment between track ends and track starts, so chains of fragments merge too.

Output
------
:meth:`PoseTracker.update` returns the same people in the same order with ``track_id`` set; people not
(yet) matched to a confirmed track — tentative ones, weak unmatched detections, people with no
keypoints — get ``-1``. :func:`track_sequence` keeps only the people with an identity (tentative
frames of tracks confirmed later are included; detections that never formed a confirmed track are
dropped and counted in the provenance record), numbers the identities ``0, 1, …`` in order of first
appearance, and logs the step as ``"track"``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..errors import InputError
from ..poses import KeypointState, PoseFrame, PoseSequence
from ..skeletons import COCO17, Conversion, Skeleton, get_conversion

__all__ = ["TrackerConfig", "PoseTracker", "TrackInfo", "track_sequence"]

_MISSING = int(KeypointState.MISSING)
_SEEN = (int(KeypointState.VISIBLE), int(KeypointState.CORRECTED))
_BIG = 1.0e6
_MIN_BONES = 4
_SIZE_HISTORY = 32
_UNIFORM_SIGMA = 0.05  # OKS sigma for skeletons with neither sigmas nor a conversion to COCO-17


# ----------------------------------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrackerConfig:
    """Options of :class:`PoseTracker` and :func:`track_sequence`. Frozen; derive variants with
    :meth:`replace`.

    Scores are in ``[0, 1]``; times in seconds; distances in pixels or in *body sizes* (the median of a
    track's recent ``max(box width, box height)``, pixels); shape distances are median absolute log
    ratios of bone lengths (≈ relative differences).

    Attributes:
        high_score: ``box_score`` from which a detection is confident (stage 1). BlazePose pose scores
            of real people are mostly above 0.9; ByteTrack uses 0.6 with its detector.
        low_score: ``box_score`` below which a detection is ignored (never tracked).
        new_track_score: ``box_score`` a detection needs to start a track (ByteTrack: high + 0.1).
        oks_weight: weight of OKS against box IoU in the similarity (0..1). OKS leads because it tells
            two overlapping people apart where their boxes cannot.
        shape_weight: weight of the limb-proportion distance added to the assignment cost (not to the
            gate): it breaks near-ties between people of different build when they cross.
        min_similarity: least similarity for a match in stages 1 and 4 (ByteTrack's IoU gate: 0.2).
        min_similarity_weak: least similarity for matching a weak detection (stage 2), stricter
            because weak detections are more often false.
        min_hits: consecutive matched frames before a new track is confirmed and gets an id (3: a
            one- or two-frame false detection never becomes a person; 0.1 s of delay at 30 frames/s,
            and none offline, where the early frames are backfilled).
        confirm_first_frame: confirm the people of the first frame at once (ByteTrack's behaviour).
        coast_s: seconds a lost track is still predicted with an undamped constant velocity and matched
            by OKS/IoU against that prediction (covers someone passing in front); after that only the
            re-identification rule can bring it back.
        max_lost_s: seconds a confirmed track is kept after its last match, for re-identification; then
            it dies.
        velocity_damping_s: time constant τ of the damping of the velocity prediction beyond
            ``coast_s``, seconds (a lost track's predicted displacement levels off at
            ``v · (coast_s + τ)``: people out of sight rarely keep a straight course for long).
        velocity_time_constant_s: time constant of the velocity's exponential smoothing, seconds
            (a measurement ``dt`` seconds after the previous one has weight ``1 − exp(−dt / this)``;
            0.04 s gives about 0.56 at 30 frames/s).
        reid_radius: re-identification gate radius at ``Δ = 0``, body sizes.
        reid_radius_per_s: growth of that radius per second lost, body sizes/s (a walker covers about
            one body size per second).
        reid_max_shape: largest limb-proportion distance for re-identification on world landmarks
            (on the Sports2D demo, one person's single frames lie at a median 0.03 and a 99th
            percentile of about 0.1 from that person's own proportions, so 0.15 rarely refuses the
            right person; MediaPipe's world landmarks are scaled to a standard body, so people of
            ordinary build differ by only about 0.05 and the motion gate does most of the work).
        reid_max_shape_2d: the same on image coordinates (2D proportions change with viewpoint, so the
            bound is looser).
        shape_rate: slowest rate of a track's running limb proportions (per detection).
        merge: join fragments offline (:func:`track_sequence` only).
        merge_max_gap_s: longest gap between two fragments that may be joined offline, seconds.
        merge_window_s: stretch at each fragment end over which offline merging fits centre and
            velocity, seconds.
        untimed_fps: frame rate used when a frame has no timestamp (``time = frame / untimed_fps``).
    """

    high_score: float = 0.6
    low_score: float = 0.1
    new_track_score: float = 0.7
    oks_weight: float = 0.6
    shape_weight: float = 0.3
    min_similarity: float = 0.2
    min_similarity_weak: float = 0.4
    min_hits: int = 3
    confirm_first_frame: bool = True
    coast_s: float = 0.5
    max_lost_s: float = 3.0
    velocity_damping_s: float = 1.0
    velocity_time_constant_s: float = 0.04
    reid_radius: float = 1.0
    reid_radius_per_s: float = 1.5
    reid_max_shape: float = 0.15
    reid_max_shape_2d: float = 0.25
    shape_rate: float = 0.05
    merge: bool = True
    merge_max_gap_s: float = 5.0
    merge_window_s: float = 0.5
    untimed_fps: float = 30.0

    def __post_init__(self) -> None:
        for name in ("high_score", "low_score", "new_track_score", "oks_weight", "min_similarity",
                     "min_similarity_weak", "shape_rate"):  # fmt: skip
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if self.low_score > self.high_score:
            raise ValueError(f"low_score ({self.low_score}) must not exceed high_score ({self.high_score})")
        if self.min_hits < 1:
            raise ValueError(f"min_hits must be at least 1, got {self.min_hits}")
        for name in ("shape_weight", "coast_s", "max_lost_s", "velocity_damping_s", "velocity_time_constant_s",
                     "reid_radius", "reid_radius_per_s", "reid_max_shape", "reid_max_shape_2d",
                     "merge_max_gap_s", "merge_window_s"):  # fmt: skip
            v = getattr(self, name)
            if not (v >= 0.0 and math.isfinite(v)):
                raise ValueError(f"{name} must be a finite number >= 0, got {v}")
        if not (self.untimed_fps > 0 and math.isfinite(self.untimed_fps)):
            raise ValueError(f"untimed_fps must be > 0, got {self.untimed_fps}")

    def replace(self, **changes: object) -> "TrackerConfig":
        """A copy with some fields changed (``None`` values are ignored, as in ``EstimatorConfig``)."""
        from dataclasses import replace

        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# ----------------------------------------------------------------------------------------------------
# skeleton view: which keypoints, sigmas and bones the tracker compares
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _View:
    index: np.ndarray  # (K',) indices into the skeleton
    var: np.ndarray  # (K',) (2 sigma)^2
    bones: np.ndarray  # (B, 2) indices into the view


_VIEWS: dict[int, tuple[Skeleton, _View]] = {}


def _view_of(sk: Skeleton) -> _View:
    hit = _VIEWS.get(id(sk))
    if hit is not None and hit[0] is sk:
        return hit[1]
    conv = _conversion_or_none(sk, COCO17) if sk.sigmas is None or sk.name == COCO17.name else None
    if conv is not None and sum(i >= 0 for i in conv.index) >= 5:
        # compare in the COCO-17 view (with COCO's sigmas) through the explicit conversion table
        keep = [j for j, i in enumerate(conv.index) if i >= 0]
        pos = {j: n for n, j in enumerate(keep)}
        index = np.asarray([conv.index[j] for j in keep], np.int64)
        sig = COCO17.sigmas_array[keep]
        # limb and torso bones only: the face bones are short and noisy
        bones = np.asarray(
            [(pos[a], pos[b]) for a, b in COCO17.edges if min(a, b) >= 5 and a in pos and b in pos], np.int64
        ).reshape(-1, 2)
    else:
        index = np.arange(len(sk), dtype=np.int64)
        sig = sk.sigmas_array if sk.sigmas is not None else np.full(len(sk), _UNIFORM_SIGMA)
        bones = np.asarray(sk.edges, np.int64).reshape(-1, 2)
    v = _View(index, (2.0 * np.asarray(sig, np.float64)) ** 2, bones)
    _VIEWS[id(sk)] = (sk, v)
    return v


def _conversion_or_none(src: Skeleton, dst: Skeleton) -> Conversion | None:
    try:
        return get_conversion(src, dst)
    except KeyError:
        return None


# ----------------------------------------------------------------------------------------------------
# per-frame detection features
# ----------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Dets:
    """Features of the people of one frame (``M`` people, ``K'`` view keypoints, ``B`` bones)."""

    xy: np.ndarray  # (M, K', 2) pixels, 0 where not ok
    ok: np.ndarray  # (M, K') bool present
    box: np.ndarray  # (M, 4) pixels
    centre: np.ndarray  # (M, 2) pixels
    size: np.ndarray  # (M,) pixels, max(box w, box h)
    score: np.ndarray  # (M,) box score, NaN -> 0
    valid: np.ndarray  # (M,) bool: has present keypoints
    shape: np.ndarray  # (M, B) log bone lengths (NaN where unknown)
    shape3d: bool  # shape measured on world landmarks (metres)


def _log_bones(p: np.ndarray, seen: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """Log bone lengths ``(M, B)`` from points ``(M, K', D)``; NaN where an end was not seen."""
    if bones.size == 0:
        return np.zeros((p.shape[0], 0))
    a, b = bones[:, 0], bones[:, 1]
    d = np.sqrt(((p[:, a] - p[:, b]) ** 2).sum(-1))
    good = seen[:, a] & seen[:, b] & (d > 1e-9)
    return np.where(good, np.log(np.where(good, d, 1.0)), np.nan)


def _features(frame: PoseFrame, view: _View) -> _Dets:
    idx = view.index
    xy = frame.xy[:, idx]
    st = frame.state[:, idx]
    ok = st != _MISSING
    seen = (st == _SEEN[0]) | (st == _SEEN[1])
    xy0 = np.where(ok[..., None], xy, 0.0)
    box = np.array(frame.box, dtype=np.float64)
    present = (frame.state != _MISSING).any(1)
    finite = np.isfinite(box).all(1)
    if not finite[present].all():  # a person with keypoints but no usable box: the keypoints' box
        fix = present & ~finite
        pts = np.where((frame.state[fix] != _MISSING)[..., None], frame.xy[fix], np.nan)
        box[fix] = np.concatenate([np.nanmin(pts, axis=1), np.nanmax(pts, axis=1)], axis=1)
    valid = present
    box[~valid] = 0.0
    centre = 0.5 * (box[:, :2] + box[:, 2:])
    size = np.maximum(np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]), 1.0)
    score = np.asarray(frame.box_score, np.float64)
    score = np.where(np.isnan(score), 0.0, score)
    shape3d = frame.world is not None
    if shape3d:
        w = frame.world[:, idx]
        shape = _log_bones(w, seen & np.isfinite(w).all(-1), view.bones)
    else:
        shape = _log_bones(xy0, seen, view.bones)
    return _Dets(xy0, ok, box, centre, size, score, valid, shape, shape3d)


# ----------------------------------------------------------------------------------------------------
# vectorised similarity terms
# ----------------------------------------------------------------------------------------------------
def _oks(
    p: np.ndarray, pok: np.ndarray, area: np.ndarray, d: np.ndarray, dok: np.ndarray, var: np.ndarray
) -> np.ndarray:
    """OKS ``(N, M)`` between predicted poses ``p (N, K', 2)`` and detections ``d (M, K', 2)``.

    ``area (N,)`` is each track's scale² in pixels²; the mean runs over keypoints present in both.
    """
    d2 = ((p[:, None] - d[None]) ** 2).sum(-1)  # (N, M, K')
    both = pok[:, None] & dok[None]
    e = np.exp(-d2 / (2.0 * np.maximum(area, 1.0)[:, None, None] * var))
    n = both.sum(-1)
    return np.where(n > 0, (e * both).sum(-1) / np.maximum(n, 1), 0.0)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU ``(N, M)`` of boxes ``a (N, 4)`` and ``b (M, 4)`` (x0, y0, x1, y1 pixels)."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(aa[:, None] + ab[None] - inter, 1e-9)


def _nanmedian_last(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over the last axis ignoring NaN, and the count of finite values (fast for short axes)."""
    n = np.isfinite(x).sum(-1)
    if x.shape[-1] == 0 or x.size == 0:
        return np.full(x.shape[:-1], np.nan), n
    s = np.sort(x, axis=-1).reshape(-1, x.shape[-1])  # NaN sort last
    nf = n.reshape(-1)
    rows = np.arange(s.shape[0])
    lo = np.maximum((nf - 1) // 2, 0)
    med = 0.5 * (s[rows, lo] + s[rows, nf // 2 - (nf == 0)])
    med = np.where(nf > 0, med, np.nan).reshape(x.shape[:-1])
    return med, n


def shape_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Limb-proportion distance between log bone lengths ``a (N, B)`` and ``b (M, B)`` → ``(N, M)``.

    ``median_bones |(a − b) − median_bones(a − b)|`` over bones known in both, i.e. the typical relative
    difference of bone lengths once the overall scale is removed; NaN where fewer than 4 bones compare.
    """
    diff = a[:, None, :] - b[None, :, :]
    scale, n = _nanmedian_last(diff)
    dist, _ = _nanmedian_last(np.abs(diff - scale[..., None]))
    return np.where(n >= _MIN_BONES, dist, np.nan)


def _damp(dt: np.ndarray | float, tau: float, coast: float) -> np.ndarray | float:
    """Effective prediction horizon (seconds) after ``dt`` seconds: ``dt`` up to ``coast``, then damped.

    ``h(dt) = dt`` for ``dt ≤ coast`` and ``coast + tau · (1 − exp(−(dt − coast) / tau))`` beyond, so the
    predicted displacement ``v · h`` is exact for constant velocity over short gaps and levels off at
    ``v · (coast + tau)`` over long ones.
    """
    d = np.asarray(dt, dtype=np.float64)
    if tau <= 0:
        return np.minimum(d, coast)
    over = np.maximum(d - coast, 0.0)
    return np.minimum(d, coast) + tau * (1.0 - np.exp(-over / tau))


def _assign(cost: np.ndarray, gate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the gated minimum-cost assignment."""
    if cost.size == 0 or not gate.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    r, c = linear_sum_assignment(np.where(gate, cost, _BIG))
    keep = gate[r, c]
    return r[keep], c[keep]


# ----------------------------------------------------------------------------------------------------
# tracks
# ----------------------------------------------------------------------------------------------------
_TENTATIVE, _TRACKED, _LOST = 0, 1, 2


class _Track:
    """One track's state (see the module documentation); arrays in the tracker's skeleton view."""

    __slots__ = (
        "uid", "id", "status", "hits", "xy", "ok", "meas_ok", "box", "centre", "vel", "last_time",
        "first_time", "first_centre", "sizes", "n_sizes", "shape", "shape_n", "shape3d", "lost_at_start",
    )  # fmt: skip

    def __init__(self, uid: int, dets: _Dets, j: int, t: float) -> None:
        self.uid = uid
        self.id = -1
        self.status = _TENTATIVE
        self.hits = 1
        self.xy = dets.xy[j].copy()
        self.ok = dets.ok[j].copy()
        self.meas_ok = self.ok.copy()
        self.box = dets.box[j].copy()
        self.centre = dets.centre[j].copy()
        self.vel = np.zeros(2)
        self.last_time = t
        self.first_time = t
        self.first_centre = self.centre.copy()
        self.sizes = np.zeros(_SIZE_HISTORY)
        self.sizes[0] = dets.size[j]
        self.n_sizes = 1
        self.shape3d = dets.shape3d
        self.shape = dets.shape[j].copy()
        self.shape_n = np.isfinite(self.shape).astype(np.float64)
        self.lost_at_start = False

    @property
    def size(self) -> float:
        """Median of the recent box sides, pixels."""
        return float(np.median(self.sizes[: min(self.n_sizes, _SIZE_HISTORY)]))

    def info(self) -> "TrackInfo":
        return TrackInfo(self.id, self.status != _TENTATIVE, self.status == _LOST, self.last_time, self.hits)


def _update_tracks(tracks: list[_Track], dets: _Dets, js: np.ndarray, t: float, cfg: TrackerConfig) -> None:
    """Update ``tracks[i]`` with detection ``js[i]`` at time ``t`` (seconds), all at once.

    Velocity: the median displacement (pixels) of the keypoints measured both now and at the previous
    match, divided by the time between them, blended in with weight ``1 − exp(−dt / τ_v)``. Keypoints
    not measured now are carried along by the prediction. Limb proportions: running mean (log bone
    lengths), then a moving average at ``shape_rate``; world-landmark proportions are never mixed with
    image ones.
    """
    n = len(tracks)
    if n == 0:
        return
    dt = np.fromiter((t - tr.last_time for tr in tracks), np.float64, n)
    vel = np.array([tr.vel for tr in tracks])
    xy = np.array([tr.xy for tr in tracks])
    mok = np.array([tr.meas_ok for tr in tracks])
    dxy, dok = dets.xy[js], dets.ok[js]
    common = mok & dok
    disp, cnt = _nanmedian_last(np.where(common[..., None], dxy - xy, np.nan).transpose(0, 2, 1))  # (n, 2)
    has = (dt > 0) & (cnt[:, 0] > 0)
    tc = cfg.velocity_time_constant_s
    alpha = 1.0 - np.exp(-np.maximum(dt, 0.0) / tc) if tc > 0 else np.ones(n)
    vmeas = disp / np.where(dt > 0, dt, 1.0)[:, None]  # NaN where nothing to compare (not used)
    new_vel = np.where(has[:, None], vel + alpha[:, None] * (vmeas - vel), vel)
    shift = vel * _damp(dt, cfg.velocity_damping_s, cfg.coast_s)[:, None]
    new_xy = np.where(dok[..., None], dxy, xy + shift[:, None, :])
    new_ok = np.array([tr.ok for tr in tracks]) | dok
    # limb proportions
    sh = np.array([tr.shape for tr in tracks])
    sn = np.array([tr.shape_n for tr in tracks])
    tr3 = np.fromiter((tr.shape3d for tr in tracks), bool, n)
    d = dets.shape[js]
    if dets.shape3d:  # 2D tracks switch to 3D proportions and start over
        sh = np.where(tr3[:, None], sh, np.nan)
        sn = np.where(tr3[:, None], sn, 0.0)
        use = np.ones(n, bool)
    else:  # 3D tracks keep their proportions
        use = ~tr3
    fin = np.isfinite(d) & use[:, None]
    sn = sn + fin
    w = np.maximum(1.0 / np.maximum(sn, 1.0), cfg.shape_rate)
    sh = np.where(fin, np.where(np.isfinite(sh), sh + w * (d - sh), d), sh)
    for i, tr in enumerate(tracks):
        j = int(js[i])
        tr.vel, tr.xy, tr.ok, tr.meas_ok = new_vel[i], new_xy[i], new_ok[i], dok[i]
        tr.box, tr.centre = dets.box[j], dets.centre[j]
        tr.sizes[tr.n_sizes % _SIZE_HISTORY] = dets.size[j]
        tr.n_sizes += 1
        tr.last_time = t
        tr.hits += 1
        if tr.status == _LOST:
            tr.status = _TRACKED
        tr.shape, tr.shape_n = sh[i], sn[i]
        if dets.shape3d:
            tr.shape3d = True


@dataclass(frozen=True)
class TrackInfo:
    """A read-only view of one live track.

    Attributes:
        track_id: public id (``-1`` while tentative).
        confirmed: the track has been confirmed.
        lost: the track was not matched in the latest frame.
        last_time: time of its latest match, seconds.
        hits: number of frames it was matched in.
    """

    track_id: int
    confirmed: bool
    lost: bool
    last_time: float
    hits: int


# ----------------------------------------------------------------------------------------------------
# the online tracker
# ----------------------------------------------------------------------------------------------------
class PoseTracker:
    """Online multi-person identity tracker.

    Example:
        >>> tracker = PoseTracker()                       # doctest: +SKIP
        >>> for frame in estimator.video("clip.mp4"):     # doctest: +SKIP
        ...     frame = tracker.update(frame)             # same people, track_id set (-1: not yet)

    Args:
        config: a :class:`TrackerConfig`; keyword arguments override its fields.
        **overrides: fields of :class:`TrackerConfig`.

    Frames must come in time order (``time`` non-decreasing; a frame without ``time`` is placed at
    ``frame / untimed_fps``) and share one skeleton. See the module documentation for the algorithm.
    """

    def __init__(self, config: TrackerConfig | None = None, **overrides: object) -> None:
        cfg = config or TrackerConfig()
        self.config = cfg.replace(**overrides) if overrides else cfg
        self.reset()

    def reset(self) -> None:
        """Forget every track; the next frame starts a new sequence (ids restart at 0)."""
        self._tracks: list[_Track] = []
        self._next_uid = 0
        self._next_id = 0
        self._last_time: float | None = None
        self._skeleton: Skeleton | None = None
        self._frames_seen = 0

    @property
    def tracks(self) -> list[TrackInfo]:
        """The live tracks (tentative, tracked and lost-but-kept), oldest first."""
        return [t.info() for t in self._tracks]

    def update(self, frame: PoseFrame) -> PoseFrame:
        """Track one frame.

        Args:
            frame: the people of one frame (any registered skeleton; ``time`` in seconds).

        Returns:
            A shallow copy of ``frame`` (arrays shared, not copied) with the same people in the same
            order and ``track_id (N,)`` set: the id of the confirmed track each person belongs to, or
            ``-1`` for people not (yet) in a confirmed track.

        Raises:
            InputError: the frame's time is before the previous frame's, or its skeleton differs.
        """
        owners, _ = self._step(frame)
        ids = np.fromiter((-1 if o is None else o.id for o in owners), np.int64, len(owners))
        out = copy.copy(frame)
        out.track_id = ids
        out.extras = dict(frame.extras)
        if frame.parts:
            parts = {}
            for name, p in frame.parts.items():
                q = copy.copy(p)
                q.track_id = ids.copy()
                parts[name] = q
            out.parts = parts
        else:
            out.parts = {}
        return out

    # -- internals ------------------------------------------------------------------------------------
    def _time_of(self, frame: PoseFrame) -> float:
        t = frame.time
        if t is None:
            return frame.frame / self.config.untimed_fps
        t = float(t)
        if not math.isfinite(t):
            raise InputError(f"frame {frame.frame}", f"time {t} is not a finite number of seconds")
        return t

    def _step(self, frame: PoseFrame) -> tuple[list[_Track | None], _Dets]:
        """Associate one frame; returns each person's owning track (or ``None``) and the features."""
        cfg = self.config
        if not isinstance(frame, PoseFrame):
            raise InputError("frames", f"expected a PoseFrame, got {type(frame).__name__}")
        if self._skeleton is None:
            self._skeleton = frame.skeleton
        elif frame.skeleton.name != self._skeleton.name:
            raise InputError(
                f"frame {frame.frame}",
                f"has skeleton {frame.skeleton.name!r} but the tracker follows {self._skeleton.name!r}; "
                "reset() the tracker to change skeleton",
            )
        t = self._time_of(frame)
        if self._last_time is not None and t < self._last_time:
            raise InputError(
                f"frame {frame.frame}",
                f"time {t:.6g} s is before the previous frame's {self._last_time:.6g} s; "
                "timestamps must not decrease",
            )
        view = _view_of(frame.skeleton)
        dets = _features(frame, view)
        first = self._frames_seen == 0
        self._frames_seen += 1
        self._last_time = t
        m = len(frame)
        owner: list[_Track | None] = [None] * m
        free = dets.valid & (dets.score >= cfg.low_score)
        high = free & (dets.score >= cfg.high_score)

        tracks = self._tracks
        for tr in tracks:
            tr.lost_at_start = tr.status == _LOST
        confirmed = [tr for tr in tracks if tr.status != _TENTATIVE]
        # stage 1: confident detections vs confirmed tracks: those tracked in the previous frame first,
        # then those lost within coast_s (a fresh track wins a near-tie against a coasting one)
        s1 = [tr for tr in confirmed if tr.status == _TRACKED]
        matched = self._match(s1, dets, high, t, cfg.min_similarity, owner, view)
        coasting = [tr for tr in confirmed if tr.status == _LOST and t - tr.last_time <= cfg.coast_s]
        if coasting:
            matched |= self._match(coasting, dets, high, t, cfg.min_similarity, owner, view)
        # stage 2: weak detections vs confirmed tracks tracked in the previous frame
        weak = free & ~high
        s2 = [tr for tr in s1 if tr not in matched and tr.status == _TRACKED]
        if weak.any() and s2:
            matched |= self._match(s2, dets, weak, t, cfg.min_similarity_weak, owner, view)
        # stage 3: re-identification of tracks lost before this frame
        left = high & np.fromiter((o is None for o in owner), bool, m)
        lost = [
            tr for tr in confirmed
            if tr.lost_at_start and tr not in matched and 0 < t - tr.last_time <= cfg.max_lost_s
        ]  # fmt: skip
        if lost and left.any():
            cols = np.flatnonzero(left)
            r, c = self._reid(lost, dets.centre[cols], dets.shape[cols], dets.shape3d, t, frame.image_size)
            _update_tracks([lost[i] for i in r], dets, cols[c], t, cfg)
            for i, j in zip(r, c):
                owner[int(cols[j])] = lost[i]
                matched.add(lost[i])
        # stage 4: tentative tracks vs confident detections left
        tentative = [tr for tr in tracks if tr.status == _TENTATIVE]
        left = high & np.fromiter((o is None for o in owner), bool, m)
        if tentative and left.any():
            matched |= self._match(tentative, dets, left, t, cfg.min_similarity, owner, view)
        # confirmations (before deaths: a track re-identified at confirmation must not be dropped first)
        absorbed: set[_Track] = set()
        for tr in [tr for tr in tracks if tr.status == _TENTATIVE and tr in matched and tr.hits >= cfg.min_hits]:
            kept = self._confirm(tr, frame.image_size)
            if kept is not tr:
                absorbed.add(tr)
                matched.add(kept)
                owner = [kept if o is tr else o for o in owner]
        # deaths
        survivors: list[_Track] = []
        for tr in tracks:
            if tr in absorbed:
                continue
            if tr.status == _TENTATIVE:
                if tr not in matched:
                    continue  # a tentative track must be matched in consecutive frames
            elif tr not in matched:
                if t - tr.last_time > cfg.max_lost_s:
                    continue  # dead
                tr.status = _LOST
            survivors.append(tr)
        # stage 5: births
        left = high & (dets.score >= cfg.new_track_score) & np.fromiter((o is None for o in owner), bool, m)
        for j in np.flatnonzero(left):
            tr = _Track(self._next_uid, dets, int(j), t)
            self._next_uid += 1
            owner[int(j)] = tr
            if first and cfg.confirm_first_frame:
                tr.status = _TRACKED
                tr.id = self._new_id()
            elif cfg.min_hits <= 1:
                kept = self._confirm(tr, frame.image_size)
                if kept is not tr:
                    owner[int(j)] = kept
                    continue
            survivors.append(tr)
        self._tracks = survivors
        return owner, dets

    def _new_id(self) -> int:
        i = self._next_id
        self._next_id += 1
        return i

    def _match(
        self,
        tracks: list[_Track],
        dets: _Dets,
        mask: np.ndarray,
        t: float,
        gate: float,
        owner: list[_Track | None],
        view: _View,
    ) -> set[_Track]:
        cols = np.flatnonzero(mask & np.fromiter((o is None for o in owner), bool, len(owner)))
        if not tracks or cols.size == 0:
            return set()
        cfg = self.config
        dt = np.fromiter((t - tr.last_time for tr in tracks), np.float64, len(tracks))
        shift = np.array([tr.vel for tr in tracks]) * _damp(dt, cfg.velocity_damping_s, cfg.coast_s)[:, None]  # (N, 2)
        p = np.array([tr.xy for tr in tracks]) + shift[:, None, :]
        pok = np.array([tr.ok for tr in tracks])
        pbox = np.array([tr.box for tr in tracks]) + np.concatenate([shift, shift], axis=1)
        area = (pbox[:, 2] - pbox[:, 0]) * (pbox[:, 3] - pbox[:, 1])
        sim = cfg.oks_weight * _oks(p, pok, area, dets.xy[cols], dets.ok[cols], view.var)
        if cfg.oks_weight < 1.0:
            sim = sim + (1.0 - cfg.oks_weight) * _iou(pbox, dets.box[cols])
        cost = 1.0 - sim
        ok = sim >= gate
        # the shape term only matters where a track or a detection has more than one candidate
        if cfg.shape_weight > 0 and (ok.sum(0).max(initial=0) > 1 or ok.sum(1).max(initial=0) > 1):
            sd = self._shape_dist(tracks, dets.shape[cols], dets.shape3d)
            cost = cost + cfg.shape_weight * np.minimum(np.where(np.isnan(sd), 0.0, sd), 1.0)
        r, c = _assign(cost, ok)
        _update_tracks([tracks[i] for i in r], dets, cols[c], t, cfg)
        out = set()
        for i, j in zip(r, c):
            owner[int(cols[j])] = tracks[i]
            out.add(tracks[i])
        return out

    @staticmethod
    def _shape_dist(tracks: list[_Track], shapes: np.ndarray, is3d: bool) -> np.ndarray:
        """``(N, M)`` limb-proportion distances; NaN where the kinds (3D/2D) differ or too few bones."""
        ts = np.array([tr.shape for tr in tracks])
        same = np.fromiter((tr.shape3d == is3d for tr in tracks), bool, len(tracks))
        sd = shape_distance(ts, shapes)
        sd[~same] = np.nan
        return sd

    def _reid_cost(
        self,
        centre_l: np.ndarray,
        vel_l: np.ndarray,
        size_l: np.ndarray,
        dt: np.ndarray,
        centre_d: np.ndarray,
        shape_dist: np.ndarray,
        is3d: bool,
        image_size: tuple[int, int] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Re-identification cost and gate ``(N, M)`` (see the module documentation)."""
        cfg = self.config
        pred = centre_l + vel_l * _damp(dt, cfg.velocity_damping_s, cfg.coast_s)[:, None]
        if image_size is not None:
            pred = np.clip(pred, 0.0, np.asarray(image_size, np.float64))
        radius = size_l * (cfg.reid_radius + cfg.reid_radius_per_s * dt)  # (N,)
        d = np.sqrt(((pred[:, None] - centre_d[None]) ** 2).sum(-1))
        thr = cfg.reid_max_shape if is3d else cfg.reid_max_shape_2d
        with np.errstate(invalid="ignore", divide="ignore"):
            gate = (d <= radius[:, None]) & np.isfinite(shape_dist) & (shape_dist <= thr)
            cost = d / np.maximum(radius[:, None], 1e-9) + np.nan_to_num(shape_dist, nan=1.0) / max(thr, 1e-9)
        return cost, gate

    def _reid(
        self,
        lost: list[_Track],
        centres: np.ndarray,
        shapes: np.ndarray,
        is3d: bool,
        t: float,
        image_size: tuple[int, int] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        dt = np.fromiter((t - tr.last_time for tr in lost), np.float64, len(lost))
        cost, gate = self._reid_cost(
            np.array([tr.centre for tr in lost]),
            np.array([tr.vel for tr in lost]),
            np.fromiter((tr.size for tr in lost), np.float64, len(lost)),
            dt,
            centres,
            self._shape_dist(lost, shapes, is3d),
            is3d,
            image_size,
        )
        return _assign(cost, gate)

    def _confirm(self, tr: _Track, image_size: tuple[int, int] | None) -> _Track:
        """Confirm a tentative track: it takes over a lost track's id when re-identified, else a new id."""
        cfg = self.config
        lost = [
            o for o in self._tracks
            if o.status == _LOST and o.id >= 0 and o.last_time < tr.first_time
            and tr.first_time - o.last_time <= cfg.max_lost_s
        ]  # fmt: skip
        if lost:
            dt = np.fromiter((tr.first_time - o.last_time for o in lost), np.float64, len(lost))
            cost, gate = self._reid_cost(
                np.array([o.centre for o in lost]),
                np.array([o.vel for o in lost]),
                np.fromiter((o.size for o in lost), np.float64, len(lost)),
                dt,
                tr.first_centre[None],
                self._shape_dist(lost, tr.shape[None], tr.shape3d),
                tr.shape3d,
                image_size,
            )
            cost = np.where(gate, cost, np.inf)[:, 0]
            if np.isfinite(cost).any():
                old = lost[int(np.argmin(cost))]
                _absorb(old, tr)
                return old
        tr.status = _TRACKED
        tr.id = self._new_id()
        return tr


def _absorb(old: _Track, new: _Track) -> None:
    """``old`` (a lost confirmed track) continues as ``new`` (a just-confirmed tentative track)."""
    for name in ("xy", "ok", "meas_ok", "box", "centre", "vel", "last_time"):
        setattr(old, name, getattr(new, name))
    for k in range(min(new.n_sizes, _SIZE_HISTORY)):
        old.sizes[old.n_sizes % _SIZE_HISTORY] = new.sizes[k]
        old.n_sizes += 1
    old.hits += new.hits
    old.status = _TRACKED
    new.id = old.id  # the tentative frames belong to the old identity (read back by track_sequence)
    new.status = _TRACKED


# ----------------------------------------------------------------------------------------------------
# offline
# ----------------------------------------------------------------------------------------------------
def track_sequence(
    frames: PoseSequence | Sequence[PoseFrame] | Iterable[PoseFrame],
    config: TrackerConfig | None = None,
    **overrides: object,
) -> PoseSequence:
    """Track a whole clip offline: the online tracker, then backfill and fragment merging.

    Args:
        frames: a :class:`PoseSequence` (its individuals are re-tracked; their ids are ignored) or a list
            of :class:`PoseFrame` in time order (any ``track_id`` they hold is ignored).
        config: a :class:`TrackerConfig`; keyword arguments override its fields.
        **overrides: fields of :class:`TrackerConfig`.

    Returns:
        A new :class:`PoseSequence` with one individual per identity, numbered ``0, 1, …`` in order of
        first appearance; detections that never belonged to a confirmed track are left out (counted in
        the provenance). The input's provenance is kept and a ``"track"`` step is appended with the
        configuration and counts (``tracks``, ``merged``, ``dropped_detections``).

    Raises:
        InputError: no frames (a list, so no skeleton is known), timestamps that decrease, frames of
            different skeletons, or items that are not pose frames.
    """
    cfg = config or TrackerConfig()
    if overrides:
        cfg = cfg.replace(**overrides)
    if isinstance(frames, PoseSequence):
        seq_in: PoseSequence | None = frames
        flist = list(frames.frames())
        skeleton, fps, source = frames.skeleton, frames.fps, frames.source
        provenance = list(frames.provenance)
        image_size = frames.image_size
    else:
        seq_in = None
        flist = list(frames)
        if not flist:
            raise InputError("frames", "no frames to track (an empty list has no skeleton)")
        bad = next((f for f in flist if not isinstance(f, PoseFrame)), None)
        if bad is not None:
            raise InputError("frames", f"expected PoseFrame items, got {type(bad).__name__}")
        skeleton, fps, source, provenance = flist[0].skeleton, None, None, []
        image_size = next((f.image_size for f in flist if f.image_size is not None), None)
    where = source or "frames"

    tracker = PoseTracker(cfg)
    owners: list[list[_Track | None]] = []
    feats: list[_Dets] = []
    times = np.zeros(len(flist))
    try:
        for i, f in enumerate(flist):
            o, d = tracker._step(f)
            owners.append(o)
            feats.append(d)
            times[i] = tracker._last_time if tracker._last_time is not None else 0.0
    except InputError as e:
        raise InputError(where, e.problem if e.path == "frames" else f"{e.path} {e.problem}") from None

    # identities per person (backfilled: a track's final id applies to its tentative frames too)
    ids = [np.asarray([-1 if o is None else o.id for o in row], np.int64) for row in owners]
    merged = 0
    if cfg.merge and len(flist) > 1:
        ids, merged = _merge_fragments(ids, feats, times, cfg, image_size)
    # number identities by first appearance
    order: dict[int, int] = {}
    for row in ids:
        for v in row.tolist():
            if v >= 0 and v not in order:
                order[v] = len(order)
    dropped = 0
    out_frames: list[PoseFrame] = []
    for f, row in zip(flist, ids):
        keep = row >= 0
        dropped += int((~keep).sum())
        g = f[np.flatnonzero(keep)] if not keep.all() else copy.copy(f)
        g.track_id = np.asarray([order[v] for v in row[keep].tolist()], np.int64)
        if seq_in is None and f.time is None:
            g.time = f.frame / cfg.untimed_fps
        out_frames.append(g)
    seq = PoseSequence.from_frames(out_frames, skeleton=skeleton, fps=fps, source=source)
    if seq_in is not None and seq_in.image_size is not None:
        seq.image_size = seq_in.image_size
    seq.provenance = provenance
    params = asdict(cfg)
    params.update(tracks=len(order), merged=merged, dropped_detections=dropped)
    return seq.log_step("track", **params)


def _fit_end(t: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares centre at ``t[-1]`` and velocity (pixels/s) of centres ``c (n, 2)`` over times ``t``."""
    if len(t) < 2 or np.ptp(t) <= 0:
        return c[-1], np.zeros(2)
    a = np.stack([np.ones_like(t), t - t[-1]], axis=1)
    coef, *_ = np.linalg.lstsq(a, c, rcond=None)
    return coef[0], coef[1]


def _merge_fragments(
    ids: list[np.ndarray],
    feats: list[_Dets],
    times: np.ndarray,
    cfg: TrackerConfig,
    image_size: tuple[int, int] | None,
) -> tuple[list[np.ndarray], int]:
    """Join identities that never overlap in time and whose end and start agree (module docs)."""
    # gather per-identity observations
    obs: dict[int, list[tuple[int, int]]] = {}
    for ti, row in enumerate(ids):
        for j, v in enumerate(row.tolist()):
            if v >= 0:
                obs.setdefault(v, []).append((ti, j))
    if len(obs) < 2:
        return ids, 0
    keys = sorted(obs)
    info = []
    for k in keys:
        tis = np.asarray([a for a, _ in obs[k]])
        tt = times[tis]
        cen = np.stack([feats[a].centre[b] for a, b in obs[k]])
        size = np.asarray([feats[a].size[b] for a, b in obs[k]])
        shp = np.stack([feats[a].shape[b] for a, b in obs[k]])
        is3d = all(feats[a].shape3d for a in tis)
        head = tt <= tt[0] + cfg.merge_window_s
        tail = tt >= tt[-1] - cfg.merge_window_s
        c_end, v_end = _fit_end(tt[tail], cen[tail])
        c_start, v_start = _fit_end(tt[head][::-1], cen[head][::-1])
        med_shape, _ = _nanmedian_last(shp.T)  # (B,) per bone over the whole track
        info.append(dict(
            t0=tt[0], t1=tt[-1], c_end=c_end, v_end=v_end, c_start=c_start, v_start=v_start,
            size_end=float(np.median(size[tail])), size_start=float(np.median(size[head])),
            shape=med_shape, is3d=is3d,
        ))  # fmt: skip
    n = len(keys)
    cost = np.full((n, n), _BIG)
    gate = np.zeros((n, n), bool)
    tau = cfg.velocity_damping_s
    lim = None if image_size is None else np.asarray(image_size, np.float64)
    for a in range(n):
        A = info[a]
        for b in range(n):
            B = info[b]
            if a == b or B["t0"] <= A["t1"]:
                continue
            gap = B["t0"] - A["t1"]
            if gap > cfg.merge_max_gap_s:
                continue
            pa = A["c_end"] + A["v_end"] * _damp(gap / 2, tau, cfg.coast_s)
            pb = B["c_start"] - B["v_start"] * _damp(gap / 2, tau, cfg.coast_s)
            if lim is not None:
                pa, pb = np.clip(pa, 0, lim), np.clip(pb, 0, lim)
            size = 0.5 * (A["size_end"] + B["size_start"])
            radius = size * (cfg.reid_radius + cfg.reid_radius_per_s * gap)
            d = float(np.linalg.norm(pa - pb))
            is3d = A["is3d"] and B["is3d"]
            thr = cfg.reid_max_shape if is3d else cfg.reid_max_shape_2d
            sd = float(shape_distance(A["shape"][None], B["shape"][None])[0, 0]) if A["is3d"] == B["is3d"] else math.nan
            if d <= radius and math.isfinite(sd) and sd <= thr:
                gate[a, b] = True
                cost[a, b] = d / max(radius, 1e-9) + sd / max(thr, 1e-9)
    r, c = _assign(cost, gate)
    if r.size == 0:
        return ids, 0
    nxt = {int(a): int(b) for a, b in zip(r, c)}
    has_prev = set(nxt.values())
    new_of: dict[int, int] = {}
    for a in range(n):
        if a in has_prev:
            continue
        root = keys[a]
        k = a
        while True:
            new_of[keys[k]] = root
            if k not in nxt:
                break
            k = nxt[k]
    out = [np.asarray([new_of.get(v, v) if v >= 0 else -1 for v in row.tolist()], np.int64) for row in ids]
    return out, len(nxt)
