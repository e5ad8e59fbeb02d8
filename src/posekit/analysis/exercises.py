"""Exercise repetitions, per-rep metrics, form feedback, a plank timer and exercise recognition.

How a repetition is counted
---------------------------
Each exercise has a *progress signal* ``p(t)``: 0 at rest (standing, arms straight, lying, hanging) and
1 at the full range of the movement (thighs level, chest at the floor, chin over the bar, hands
overhead). ``p`` comes from one of the exercise's *cues* (:class:`Cue`), each a body-size-free measure
with fixed anatomical end points — never rescaled to the clip's own range, so a shallow half rep stays
shallow. For example the squat's first cue is how far the hip sits above the knee, as a fraction of the
thigh length (1 standing, 0 with the thigh level): ``p = (raw − 1) / (0 − 1)``. A cue is evaluated per
body side on **trusted keypoints only** (VISIBLE or CORRECTED by default; never OCCLUDED/PREDICTED
guesses) and the sides are averaged (or their maximum taken, for one-legged movements). Of the cues
that have data, the first in the exercise's list with at least half the best one's coverage is used.

:class:`RepCounter` runs a hysteresis state machine over ``p`` (:class:`CounterConfig`): a rep starts
when ``p`` rises ``start_delta`` above its resting level, becomes *active* once it reaches ``enter``,
and is counted when ``p`` is back at rest (``p ≤ rest``) with at least ``min_amplitude`` between its
peak and the rest levels around it. An excursion that turns back too early is a *partial* rep
(reported, not counted). Samples without trusted keypoints do not move the state machine; a gap longer
than ``max_gap_s`` in the middle of a rep abandons it (*interrupted*: the person was occluded or left).
Reps cut by the start or the end of the video count when most of them is visible (``edge_reps``).

Per rep: depth (peak ``p``), range of motion of the primary joint, duration, tempo down/up, left/right
symmetry, trunk lean, knee valgus (frontal view), hip sag (push-up). Metrics that need a view the video
does not show (knee valgus needs a frontal view; trunk lean, hip sag and sagittal joint angles in 2D
need a side view) are reported as not assessed, with the reason, never estimated. With world
coordinates (3D) the angle metrics are view-independent.

Form rules (:class:`FormRule`) turn metrics into plain messages tied to the rep, e.g.
``"rep 3: knees moved inward 14° past the toes line (limit 10°)"``; their limits are configurable
(:func:`exercise_spec` with ``limits={...}``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

import numpy as np

from posekit.poses import KeypointState, PoseSequence

from ._body import SIDES, TRUSTED_STATES, Body, main_person
from .kinematics import UP_IMAGE, UP_WORLD, flexion_angle, segment_angle, symmetry_index

__all__ = [
    "EXERCISES",
    "Cue",
    "CounterConfig",
    "FormRule",
    "ExerciseSpec",
    "SPECS",
    "exercise_spec",
    "RepCounter",
    "RepEvent",
    "Rep",
    "ExerciseResult",
    "exercise_signal",
    "count_reps",
    "estimate_view",
    "PlankResult",
    "plank_hold",
    "Recognition",
    "recognize_exercise",
    "recognition_features",
    "knee_valgus",
    "hip_sag",
]

#: Exercises posekit knows (``plank`` is a hold, timed rather than counted).
EXERCISES: tuple[str, ...] = ("squat", "pushup", "lunge", "jumping_jack", "situp", "pullup", "plank")


# ================================================================================================
# Cues and the progress signal
# ================================================================================================
@dataclass(frozen=True)
class Cue:
    """One way to measure an exercise's progress from keypoints.

    Kinds (joint names are stems — ``"hip"`` means ``left_hip``/``right_hip`` — when ``sided``):

    * ``"height"``: how far ``joints[0]`` is above ``joints[-1]`` in the image (or world, along "up"),
      divided by the robust length of the chain ``joints`` (e.g. hip → knee → ankle).
    * ``"flexion"``: the flexion angle (degrees, 0 = straight) at ``joints[1]`` between ``joints[0]``
      and ``joints[2]``.
    * ``"distance"``: the distance ``joints[0]``–``joints[1]`` divided by its robust maximum over the
      clip (the 95th percentile).

    ``p = (raw − rest) / (full − rest)``. ``combine`` says how sides are merged (``"mean"`` or
    ``"max"``); ``views`` lists the views where the cue is meaningful in 2D (``None``: any).
    """

    name: str
    kind: str
    joints: tuple[str, ...]
    rest: float
    full: float
    sided: bool = True
    combine: str = "mean"
    views: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CounterConfig:
    """Thresholds of the repetition state machine (progress units: 0 rest, 1 full range).

    Attributes:
        enter: progress a rep must reach to count.
        rest: the highest progress at which the body is at rest; a rep must start from and return to
            at or below it.
        min_amplitude: a rep's peak must lie at least this much above the lower of the rest levels
            before and after it.
        start_delta: rise above the resting minimum that starts an excursion (its start time).
        min_rep_s: shorter excursions are not reps (seconds).
        max_rep_s: longer excursions are not reps (seconds).
        max_gap_s: longest run of untrusted samples inside a rep before it is abandoned (seconds).
        edge_reps: count a rep cut by the start or end of the video: one already under way (at or past
            ``enter``) in the first trusted samples that returns to rest, or one past its bottom that has
            come back by at least half its rise (and ``min_amplitude``) when the video ends. Reps cut by
            an occlusion or by the person leaving are never counted.
        trusted_states: keypoint states a rep may be counted on.
    """

    enter: float = 0.5
    rest: float = 0.45
    min_amplitude: float = 0.35
    start_delta: float = 0.1
    min_rep_s: float = 0.3
    max_rep_s: float = 20.0
    max_gap_s: float = 0.5
    edge_reps: bool = True
    trusted_states: tuple[KeypointState, ...] = TRUSTED_STATES

    def __post_init__(self) -> None:
        if not (self.rest < self.enter):
            raise ValueError(f"rest ({self.rest}) must be below enter ({self.enter})")
        if self.min_amplitude <= 0 or self.start_delta <= 0:
            raise ValueError("min_amplitude and start_delta must be positive")
        if self.min_rep_s < 0 or self.max_rep_s <= self.min_rep_s or self.max_gap_s < 0:
            raise ValueError("need 0 <= min_rep_s < max_rep_s and max_gap_s >= 0")


@dataclass(frozen=True)
class FormRule:
    """A form check on one per-rep metric.

    Attributes:
        name: rule id (used to override ``limit``).
        metric: key of :attr:`Rep.metrics`.
        limit: threshold in the metric's unit.
        fault: ``"above"`` (metric > limit is a fault) or ``"below"``.
        message: format string with ``{rep}``, ``{value}``, ``{limit}``, e.g.
            ``"rep {rep}: knees moved inward {value:.0f}° past the toes line (limit {limit:.0f}°)"``.
    """

    name: str
    metric: str
    limit: float
    fault: str
    message: str

    def check(self, rep: int, value: float | None) -> str | None:
        """The message when ``value`` breaks the rule, else ``None`` (``None`` values never do)."""
        if value is None or not np.isfinite(value):
            return None
        bad = value > self.limit if self.fault == "above" else value < self.limit
        return self.message.format(rep=rep, value=value, limit=self.limit) if bad else None


@dataclass(frozen=True)
class ExerciseSpec:
    """Everything posekit knows about one counted exercise.

    Attributes:
        name: exercise id.
        cues: progress cues in order of preference.
        counter: state-machine thresholds.
        rules: form rules.
        primary: stems of the primary joint angle (proximal, vertex, distal), e.g. ``("hip", "knee",
            "ankle")``.
        primary_view: the 2D view in which the primary angle is seen undistorted (``"side"`` for a
            sagittal-plane joint, ``"frontal"`` for a frontal-plane one, ``None`` for either).
    """

    name: str
    cues: tuple[Cue, ...]
    counter: CounterConfig
    rules: tuple[FormRule, ...]
    primary: tuple[str, str, str]
    primary_view: str | None = "side"


_SQUAT_CUES = (
    Cue("hip over knee / thigh", "height", ("hip", "knee"), 1.0, 0.0),
    Cue("hip over ankle / leg", "height", ("hip", "knee", "ankle"), 1.0, 0.45),
    Cue("knee flexion", "flexion", ("hip", "knee", "ankle"), 0.0, 95.0, views=("side",)),
)
_LUNGE_CUES = (
    Cue("hip over ankle / leg", "height", ("hip", "knee", "ankle"), 1.0, 0.5),
    Cue("knee flexion (max)", "flexion", ("hip", "knee", "ankle"), 0.0, 90.0, combine="max", views=("side",)),
    Cue("hip over knee / thigh (max)", "height", ("hip", "knee"), 1.0, 0.0, combine="max"),
)
_PUSHUP_CUES = (
    Cue("shoulder over wrist / arm", "height", ("shoulder", "elbow", "wrist"), 1.0, 0.35),
    Cue("shoulder over elbow / upper arm", "height", ("shoulder", "elbow"), 1.0, 0.1),
    Cue("elbow flexion", "flexion", ("shoulder", "elbow", "wrist"), 10.0, 90.0, views=("side",)),
)
_PULLUP_CUES = (
    Cue("wrist over shoulder / arm", "height", ("wrist", "elbow", "shoulder"), 1.0, 0.15),
    Cue("elbow over shoulder / upper arm", "height", ("elbow", "shoulder"), 1.0, -0.3),
    Cue("elbow flexion", "flexion", ("shoulder", "elbow", "wrist"), 10.0, 110.0),
)
_SITUP_CUES = (
    Cue("shoulder to knee closing", "distance", ("shoulder", "knee"), 1.0, 0.6),
    Cue("shoulder over hip / trunk", "height", ("shoulder", "hip"), 0.0, 0.75),
    Cue("hip flexion", "flexion", ("shoulder", "hip", "knee"), 45.0, 115.0, views=("side",)),
    Cue("head over hip / trunk", "height", ("head", "hip"), 0.1, 0.8, sided=False),
)
_JJ_CUES = (
    Cue("wrist over shoulder / arm", "height", ("wrist", "elbow", "shoulder"), -1.0, 0.8),
    Cue("elbow over shoulder / upper arm", "height", ("elbow", "shoulder"), -1.0, 0.7),
)

_DEPTH_MSG = "rep {rep}: only {value:.0%} of the full range (aim for {limit:.0%})"

SPECS: dict[str, ExerciseSpec] = {
    "squat": ExerciseSpec(
        "squat",
        _SQUAT_CUES,
        CounterConfig(enter=0.4, rest=0.3, min_amplitude=0.3),
        (
            FormRule("depth", "depth", 0.8, "below", "rep {rep}: squat stopped above parallel — "
                     "{value:.0%} of the way to thighs level (aim for {limit:.0%})"),
            FormRule("knee_valgus", "knee_valgus_deg", 10.0, "above",
                     "rep {rep}: knees moved inward {value:.0f}° past the toes line (limit {limit:.0f}°)"),
            FormRule("trunk_lean", "trunk_lean_deg", 45.0, "above",
                     "rep {rep}: chest dropped — trunk leaned {value:.0f}° forward (limit {limit:.0f}°)"),
            FormRule("symmetry", "symmetry_abs_pct", 15.0, "above",
                     "rep {rep}: uneven — left and right knees bent {value:.0f}% differently (limit {limit:.0f}%)"),
            FormRule("tempo_down", "tempo_down_s", 0.4, "below",
                     "rep {rep}: dropped too fast — {value:.1f} s down (take at least {limit:.1f} s)"),
        ),
        ("hip", "knee", "ankle"),
    ),
    "lunge": ExerciseSpec(
        "lunge",
        _LUNGE_CUES,
        CounterConfig(enter=0.4, rest=0.3, min_amplitude=0.3),
        (
            FormRule("depth", "depth", 0.8, "below", _DEPTH_MSG),
            FormRule("knee_valgus", "knee_valgus_deg", 10.0, "above",
                     "rep {rep}: front knee moved inward {value:.0f}° past the toes line (limit {limit:.0f}°)"),
            FormRule("trunk_lean", "trunk_lean_deg", 30.0, "above",
                     "rep {rep}: trunk leaned {value:.0f}° forward — keep the chest up (limit {limit:.0f}°)"),
        ),
        ("hip", "knee", "ankle"),
    ),
    "pushup": ExerciseSpec(
        "pushup",
        _PUSHUP_CUES,
        CounterConfig(),
        (
            FormRule("depth", "depth", 0.8, "below", "rep {rep}: not low enough — {value:.0%} of the way "
                     "down (aim for {limit:.0%})"),
            FormRule("hip_sag", "hip_sag_deg", 15.0, "above",
                     "rep {rep}: hips sagged {value:.0f}° below the shoulder–ankle line (limit {limit:.0f}°)"),
            FormRule("hip_pike", "hip_pike_deg", 20.0, "above",
                     "rep {rep}: hips piked {value:.0f}° above the shoulder–ankle line (limit {limit:.0f}°)"),
            FormRule("symmetry", "symmetry_abs_pct", 20.0, "above",
                     "rep {rep}: uneven — left and right elbows bent {value:.0f}% differently (limit {limit:.0f}%)"),
        ),
        ("shoulder", "elbow", "wrist"),
    ),
    "pullup": ExerciseSpec(
        "pullup",
        _PULLUP_CUES,
        CounterConfig(),
        (
            FormRule("depth", "depth", 0.85, "below", "rep {rep}: did not pull high enough — {value:.0%} of "
                     "the way to the bar (aim for {limit:.0%})"),
            FormRule("full_hang", "start_flexion_deg", 35.0, "above",
                     "rep {rep}: arms not straight at the bottom — elbows still bent {value:.0f}° "
                     "(limit {limit:.0f}°)"),
        ),
        ("shoulder", "elbow", "wrist"),
        None,
    ),
    "situp": ExerciseSpec(
        "situp",
        _SITUP_CUES,
        CounterConfig(),
        (
            FormRule("depth", "depth", 0.8, "below", "rep {rep}: did not sit all the way up — {value:.0%} of "
                     "the way (aim for {limit:.0%})"),
            FormRule("tempo_down", "tempo_up_s", 0.3, "below",
                     "rep {rep}: dropped back too fast — {value:.1f} s down (take at least {limit:.1f} s)"),
        ),
        ("shoulder", "hip", "knee"),
    ),
    "jumping_jack": ExerciseSpec(
        "jumping_jack",
        _JJ_CUES,
        CounterConfig(),
        (
            FormRule("depth", "depth", 0.8, "below", "rep {rep}: arms stopped short of overhead — {value:.0%} "
                     "of the way (aim for {limit:.0%})"),
            FormRule("feet_width", "feet_spread_ratio", 1.5, "below",
                     "rep {rep}: feet did not jump wide — {value:.1f}× hip width (aim for {limit:.1f}×)"),
        ),
        ("hip", "shoulder", "elbow"),
        "frontal",
    ),
}


def exercise_spec(
    name: str,
    *,
    limits: dict[str, float] | None = None,
    counter: CounterConfig | None = None,
    **counter_overrides: Any,
) -> ExerciseSpec:
    """The spec of an exercise, optionally with changed rule limits and counter thresholds.

    Args:
        name: one of :data:`EXERCISES` except ``"plank"``.
        limits: ``{rule name: new limit}``, e.g. ``{"knee_valgus": 8.0}``.
        counter: a whole new :class:`CounterConfig`.
        **counter_overrides: fields of :class:`CounterConfig` (``enter=0.6``).

    Raises:
        ValueError: unknown exercise or rule name.
    """
    if name not in SPECS:
        raise ValueError(f"unknown exercise {name!r}; choose from {', '.join(SPECS)}")
    spec = SPECS[name]
    rules = spec.rules
    if limits:
        known = {r.name for r in rules}
        bad = [k for k in limits if k not in known]
        if bad:
            raise ValueError(f"exercise {name!r} has no rule {bad[0]!r} (rules: {', '.join(sorted(known))})")
        rules = tuple(replace(r, limit=float(limits[r.name])) if r.name in limits else r for r in rules)
    cfg = counter or spec.counter
    if counter_overrides:
        cfg = replace(cfg, **counter_overrides)
    return replace(spec, rules=rules, counter=cfg)


def _up(body: Body) -> np.ndarray:
    return UP_IMAGE if body.dims == 2 else UP_WORLD


def _cue_side(body: Body, cue: Cue, side: str | None, use_all: bool) -> tuple[np.ndarray, np.ndarray]:
    """Raw cue value ``(T,)`` and its trust mask for one side (``side=None`` for unsided cues)."""
    names = [f"{side}_{j}" if (cue.sided and side and j != "head") else j for j in cue.joints]
    t = len(body.seq)
    nan = np.full(t, np.nan)
    # unsided joints may be midpoints of the two sides when the skeleton has no single joint
    pts = []
    for n in names:
        if body.has(n):
            pts.append((body.p(n), body.ok(n) if not use_all else body.present(n)))
        elif n == "head":
            hn = body.first("head", "nose")
            if hn is None:
                return nan, np.zeros(t, bool)
            pts.append((body.p(hn), body.ok(hn) if not use_all else body.present(hn)))
        elif not cue.sided and body.has(f"left_{n}") and body.has(f"right_{n}"):
            a, b = f"left_{n}", f"right_{n}"
            ok = (body.ok(a) & body.ok(b)) if not use_all else (body.present(a) & body.present(b))
            pts.append((body.mid(a, b), ok))
        else:
            return nan, np.zeros(t, bool)
    ok = np.logical_and.reduce([m for _, m in pts])
    if cue.kind == "height":
        upv = _up(body)
        chain = 0.0
        for (pa, _), (pb, _) in zip(pts[:-1], pts[1:]):
            d = np.linalg.norm(pa - pb, axis=-1)
            fin = np.isfinite(d)
            if not fin.any():
                return nan, np.zeros(t, bool)
            chain += float(np.percentile(d[fin], 90))
        if not chain > 0:
            return nan, np.zeros(t, bool)
        raw = ((pts[0][0] - pts[-1][0]) @ upv) / chain
    elif cue.kind == "flexion":
        raw = flexion_angle(pts[0][0], pts[1][0], pts[2][0])
    elif cue.kind == "distance":
        d = np.linalg.norm(pts[0][0] - pts[1][0], axis=-1)
        fin = np.isfinite(d)
        if not fin.any():
            return nan, np.zeros(t, bool)
        ref = float(np.percentile(d[fin], 95))
        raw = d / ref if ref > 0 else nan
    else:  # pragma: no cover - specs are fixed
        raise ValueError(f"unknown cue kind {cue.kind!r}")
    ok = ok & np.isfinite(raw)
    return np.where(ok, raw, np.nan), ok


def _cue_signal(body: Body, cue: Cue, use_all: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Progress ``p (T,)`` of a cue (sides merged) and its trust mask ``(T,)``."""
    sides: Sequence[str | None] = SIDES if cue.sided else (None,)
    vals, oks = [], []
    for s in sides:
        raw, ok = _cue_side(body, cue, s, use_all)
        p = (raw - cue.rest) / (cue.full - cue.rest)
        vals.append(np.where(ok, p, np.nan))
        oks.append(ok)
    v = np.stack(vals)
    ok = np.logical_or.reduce(oks)
    n = np.isfinite(v).sum(0)
    if cue.combine == "max":
        p = np.where(n > 0, np.nanmax(np.where(np.isfinite(v), v, -np.inf), axis=0), np.nan)
    else:
        p = np.where(n > 0, np.nansum(np.where(np.isfinite(v), v, 0.0), axis=0) / np.maximum(n, 1), np.nan)
    return p, ok


def exercise_signal(
    body: Body, spec: ExerciseSpec, *, view: str | None = None, use_all: bool = False
) -> tuple[np.ndarray, np.ndarray, Cue | None]:
    """The progress signal of an exercise for one person.

    Args:
        body: the person (image or world coordinates).
        spec: the exercise.
        view: the camera view (``"frontal"``, ``"side"``, ``"oblique"``); cues restricted to other
            views are skipped in 2D.
        use_all: use every present keypoint instead of trusted ones (for recognition only).

    Returns:
        ``(p (T,), trusted (T,), cue)``; ``cue`` is ``None`` (and ``p`` all NaN) when no cue has data.
    """
    t = len(body.seq)
    best: list[tuple[float, np.ndarray, np.ndarray, Cue]] = []
    for cue in spec.cues:
        if body.dims == 2 and cue.views is not None and view is not None and view not in cue.views:
            continue
        p, ok = _cue_signal(body, cue, use_all)
        best.append((float(ok.mean()) if t else 0.0, p, ok, cue))
    if not best or max(b[0] for b in best) == 0:
        return np.full(t, np.nan), np.zeros(t, bool), None
    top = max(b[0] for b in best)
    for cov, p, ok, cue in best:
        if cov >= 0.5 * top:
            return p, ok, cue
    raise AssertionError("unreachable")  # pragma: no cover


# ================================================================================================
# View
# ================================================================================================
def estimate_view(body: Body, frames: np.ndarray | None = None) -> str:
    """Camera view of a person: ``"frontal"`` (front or back), ``"side"``, ``"oblique"`` or ``"unknown"``.

    From 3D (world coordinates) when present: the angle between the shoulder line and the image plane
    (< 35° frontal, > 60° side). Otherwise from 2D: shoulder width over the clip's robust trunk length
    (≥ 0.45 frontal, ≤ 0.3 side; a real shoulder width is about 0.75 trunk lengths).

    Args:
        body: the person (image coordinates; world ones are read from ``body.seq`` when present).
        frames: ``(T,)`` bool, the frames to judge (default all).
    """
    seq = body.seq
    sel = np.ones(len(seq), bool) if frames is None else np.asarray(frames, bool)
    if seq.world is not None and body.has("left_shoulder"):
        wb = Body(seq, body.person, "world", body.trusted_states)
        v = wb.p("left_shoulder") - wb.p("right_shoulder")
        ok = sel & wb.present("left_shoulder", "right_shoulder")
        if ok.sum() >= 3:
            ang = np.degrees(np.arctan2(np.abs(v[ok, 2]), np.hypot(v[ok, 0], v[ok, 1])))
            a = float(np.median(ang))
            return "frontal" if a < 35 else "side" if a > 60 else "oblique"
    ib = body if body.coords == "image" else Body(seq, body.person, "image", body.trusted_states)
    if not (ib.has("left_shoulder") and ib.has("right_shoulder")):
        return "unknown"
    torso = ib.torso_length()
    w = np.linalg.norm(ib.p("left_shoulder") - ib.p("right_shoulder"), axis=-1)
    ok = sel & np.isfinite(w)
    if not ok.any() or not torso > 0:
        return "unknown"
    r = float(np.median(w[ok])) / torso
    return "frontal" if r >= 0.45 else "side" if r <= 0.3 else "oblique"


# ================================================================================================
# The state machine
# ================================================================================================
@dataclass(frozen=True)
class RepEvent:
    """What the counter reports when an excursion ends.

    Attributes:
        kind: ``"rep"`` (counted), ``"partial"`` (turned back before reaching ``enter`` and
            ``min_amplitude``), ``"rejected"`` (too short or too long), ``"interrupted"`` (trusted data
            stopped mid-rep) or ``"unfinished"`` (the video ended mid-rep).
        start: time of the last resting sample before the excursion (s).
        peak_time: time of the peak progress (s).
        end: time the body was back at rest, or of the last trusted sample (s).
        peak: peak progress.
        valley: the resting progress the excursion started from.
        count: the number of counted reps after this event.
        edge: ``"start"`` / ``"end"`` for a rep cut by the start / end of the video, else ``None``.
    """

    kind: str
    start: float
    peak_time: float
    end: float
    peak: float
    valley: float
    count: int
    edge: str | None = None


class RepCounter:
    """Online hysteresis repetition counter on a progress signal (see the module docstring).

    States: ``unknown`` (no resting sample yet, or after an interruption), ``rest``, ``going`` (left
    rest, not yet at ``enter``) and ``active`` (reached ``enter``: it counts when it returns to rest
    with ``min_amplitude`` between its peak and the rest levels around it).
    Call :meth:`update` for every frame, :meth:`finish` at the end of the video, :meth:`reset` to
    start over.

    Args:
        config: thresholds.
        t0: time of the first frame of the video (s), for reps under way when it starts
            (``edge_reps``); ``None`` takes the first sample's time.
    """

    def __init__(self, config: CounterConfig | None = None, t0: float | None = None) -> None:
        self.config = config or CounterConfig()
        self._t0_given = t0
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.count = 0
        self.phase = "unknown"
        self._t0 = self._t0_given
        self._seen_ok = False
        self._interrupted = False
        self._rest_t: float | None = None
        self._valley = math.inf
        self._last_ok: float | None = None
        self._last_value = math.nan
        self._start = self._peak_t = 0.0
        self._peak = -math.inf
        self._edge: str | None = None
        self._ret_min, self._ret_t = math.inf, 0.0

    def _close(self, kind: str, end: float, edge: str | None = None) -> RepEvent:
        ev = RepEvent(kind, self._start, self._peak_t, end, self._peak, self._valley, self.count, edge)
        self._peak = -math.inf
        self._edge = None
        self._ret_min, self._ret_t = math.inf, 0.0
        return ev

    def _reportable(self) -> bool:
        """Whether a turned-back excursion is worth reporting as a partial rep (not jitter at rest)."""
        cfg = self.config
        return self._peak - self._valley >= 0.5 * cfg.min_amplitude and self._peak >= 0.5 * cfg.enter

    def _to_rest(self, t: float, value: float) -> None:
        self.phase = "rest"
        self._rest_t = t
        self._valley = value

    def update(self, t: float, value: float, trusted: bool = True) -> RepEvent | None:
        """Feed one sample.

        Args:
            t: time in seconds (non-decreasing).
            value: progress (0 rest, 1 full range).
            trusted: whether the sample rests on trusted keypoints; untrusted samples never move the
                state machine.

        Returns:
            A :class:`RepEvent` when an excursion ends at this sample, else ``None``.
        """
        cfg = self.config
        if self._t0 is None:
            self._t0 = t
        ok = bool(trusted) and value is not None and math.isfinite(value)
        ev: RepEvent | None = None
        if self.phase in ("going", "active") and self._last_ok is not None and t - self._last_ok > cfg.max_gap_s:
            ev = self._close("interrupted", self._last_ok)
            self.phase = "unknown"
            self._interrupted = True
        if not ok:
            return ev
        first = not self._seen_ok
        self._seen_ok = True
        self._last_ok = t
        self._last_value = value
        if self.phase == "unknown":
            if value <= cfg.rest:
                self._to_rest(t, value)
            elif first and cfg.edge_reps and t - self._t0 <= cfg.max_gap_s:
                # the video starts mid-rep: assume it came from rest
                self.phase = "active" if value >= cfg.enter else "going"
                self._start, self._valley = t, min(0.0, value)
                self._peak, self._peak_t = value, t
                self._edge = "start"
            return ev
        if self.phase == "rest":
            if value <= self._valley + cfg.start_delta:
                self._rest_t = t
                self._valley = min(self._valley, value)
            else:
                self.phase = "going"
                self._start = self._rest_t if self._rest_t is not None else t
                self._peak, self._peak_t = value, t
                if value >= cfg.enter:
                    self.phase = "active"
            return ev
        # going / active
        if value > self._peak:
            self._peak, self._peak_t = value, t
        if self.phase == "going" and value >= cfg.enter:
            self.phase = "active"
        back = value <= max(cfg.rest, self._valley + cfg.start_delta)
        if self.phase == "active":
            if back and self._peak - min(self._valley, value) >= cfg.min_amplitude:
                dur = t - self._start
                # a rep cut by the start of the video is shorter than it was: no minimum duration
                if (self._edge == "start" or cfg.min_rep_s <= dur) and dur <= cfg.max_rep_s:
                    self.count += 1
                    out = self._close("rep", t, self._edge)
                else:
                    out = self._close("rejected", t)
                self._to_rest(t, value)
                return out
            if back:  # back at rest but not far enough below the peak (yet)
                if value < self._ret_min:
                    self._ret_min, self._ret_t = value, t
                return ev
            if math.isfinite(self._ret_min) and value > self._ret_min + cfg.start_delta:
                # rose again before a full return: the excursion was too shallow; a new one starts
                out = self._close("partial", self._ret_t)
                self._to_rest(self._ret_t, self._ret_min)
                self.phase = "going"
                self._start = self._ret_t
                self._peak, self._peak_t = value, t
                if value >= cfg.enter:
                    self.phase = "active"
                return out
            return ev
        if value <= self._valley + cfg.start_delta:
            # back where it started without reaching enter: too shallow
            out = self._close("partial", t) if self._reportable() else None
            self._to_rest(t, min(value, self._valley))
            return out
        return ev

    def finish(self, t_end: float | None = None) -> RepEvent | None:
        """Close the video: an excursion still under way becomes ``"rep"`` (see ``edge_reps``) or
        ``"unfinished"``.

        Args:
            t_end: time of the video's last frame (default: the last trusted sample).
        """
        cfg = self.config
        if self.phase not in ("going", "active") or self._last_ok is None:
            return None
        t_end = self._last_ok if t_end is None else t_end
        rise = self._peak - self._valley
        back = self._peak - self._last_value
        dur = self._last_ok - self._start
        edge_ok = (
            cfg.edge_reps
            and self.phase == "active"
            and self._edge is None
            and t_end - self._last_ok <= cfg.max_gap_s
            and back >= max(cfg.min_amplitude, 0.5 * rise)
            and cfg.min_rep_s <= dur <= cfg.max_rep_s
        )
        if edge_ok:
            self.count += 1
            ev = self._close("rep", self._last_ok, "end")
        else:
            ev = self._close("unfinished", self._last_ok)
        self.phase = "unknown"
        return ev


# ================================================================================================
# Per-rep metrics
# ================================================================================================
def knee_valgus(body: Body, side: str, thigh_length: float | None = None) -> np.ndarray:
    """Knee valgus proxy in a frontal (or back) view, ``(T,)`` degrees: positive = knee moved inward.

    The knee's image distance from the line through the hip and the foot (the foot index — the toes —
    where trusted, else the ankle), signed positive toward the body's midline (the other hip's side),
    expressed as an angle over the thigh length: ``atan(offset / thigh)``. Using the clip's full thigh
    length (not the foreshortened one at the bottom of a squat) keeps the angle meaningful when the
    thighs point at the camera. Only meaningful in a frontal view.

    Args:
        body: the person (image coordinates).
        side: ``"left"`` or ``"right"``.
        thigh_length: full thigh length in pixels (default: the robust 90th percentile over the clip).
    """
    hip, knee, ankle = (f"{side}_{j}" for j in ("hip", "knee", "ankle"))
    foot = f"{side}_foot_index"
    other = f"{'right' if side == 'left' else 'left'}_hip"
    t = len(body.seq)
    if not all(body.has(n) for n in (hip, knee, ankle, other)):
        return np.full(t, np.nan)
    fp = body.p(ankle)[:, :2].copy()
    if body.has(foot):
        use = body.ok(foot)
        fp[use] = body.p(foot)[use, :2]
    h, k = body.p(hip)[:, :2], body.p(knee)[:, :2]
    line = fp - h
    n = np.linalg.norm(line, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cross_k = (line[:, 0] * (k - h)[:, 1] - line[:, 1] * (k - h)[:, 0]) / n  # signed distance, px
    towards = body.p(other)[:, :2] - h
    cross_m = line[:, 0] * towards[:, 1] - line[:, 1] * towards[:, 0]
    offset = cross_k * np.sign(cross_m)
    lt = thigh_length if thigh_length is not None else body.length(hip, knee)
    if not (lt and lt > 0):
        return np.full(t, np.nan)
    ang = np.degrees(np.arctan2(offset, lt))
    ok = body.ok(hip, knee, ankle, other) & (n > 0)
    return np.where(ok, ang, np.nan)


def hip_sag(body: Body, side: str) -> np.ndarray:
    """Hip deviation from the shoulder–ankle line, ``(T,)`` degrees: positive = hips below (sag),
    negative = hips above (pike). Meaningful in a side view (2D) or in 3D.
    """
    sh, hp, an = (f"{side}_{j}" for j in ("shoulder", "hip", "ankle"))
    t = len(body.seq)
    if not (body.has(sh) and body.has(hp) and body.has(an)):
        return np.full(t, np.nan)
    s, h, a = body.p(sh), body.p(hp), body.p(an)
    dev = flexion_angle(s, h, a)
    # below the line = further along "down" than the point of the line closest to the hip
    line = a - s
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.sum((h - s) * line, -1) / np.sum(line * line, -1)
    closest = s + u[:, None] * line
    down = -_up(body)
    sign = np.sign((h - closest) @ down)
    ok = body.ok(sh, hp, an)
    return np.where(ok, dev * sign, np.nan)


def _trunk_lean(body: Body) -> np.ndarray:
    """Unsigned trunk angle from vertical ``(T,)`` degrees on trusted keypoints (side or 3D)."""
    hips = body.mid("left_hip", "right_hip")
    sh = body.mid("left_shoulder", "right_shoulder")
    ok_both = body.ok("left_hip", "right_hip", "left_shoulder", "right_shoulder")
    out = np.where(ok_both, np.abs(segment_angle(hips, sh, unwrap=False)), np.nan)
    for s in SIDES:  # one side is enough in a side view
        one = body.ok(f"{s}_hip", f"{s}_shoulder") & ~np.isfinite(out)
        if one.any():
            a = np.abs(segment_angle(body.p(f"{s}_hip"), body.p(f"{s}_shoulder"), unwrap=False))
            out = np.where(one, a, out)
    return out


def _side_angles(body: Body, stems: tuple[str, str, str]) -> dict[str, np.ndarray]:
    out = {}
    for s in SIDES:
        names = [f"{s}_{j}" for j in stems]
        if all(body.has(n) for n in names):
            a = flexion_angle(*(body.p(n) for n in names))
            out[s] = np.where(body.ok(*names), a, np.nan)
        else:
            out[s] = np.full(len(body.seq), np.nan)
    return out


def _mean_sides(sides: dict[str, np.ndarray]) -> np.ndarray:
    """Per-frame mean of the finite side values ``(T,)`` (NaN where neither side has one)."""
    stack = np.stack([sides["left"], sides["right"]])
    n = np.isfinite(stack).sum(0)
    return np.where(n > 0, np.nansum(np.nan_to_num(stack, nan=0.0), 0) / np.maximum(n, 1), np.nan)


def _nanmax(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.max()) if x.size else None


def _nanmin(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.min()) if x.size else None


# ================================================================================================
# Results
# ================================================================================================
@dataclass
class Rep:
    """One counted repetition.

    Attributes:
        index: 1-based number in the set.
        person: track id.
        start, bottom, end: times in seconds (bottom = peak progress).
        start_frame, bottom_frame, end_frame: indices into the sequence.
        metrics: per-rep numbers (``None`` where not measurable); units in the key names
            (``_deg``, ``_s``, ``_pct``); ``depth`` is the peak progress (fraction of full range).
        feedback: plain-language messages from the form rules.
        not_assessed: why a rule could not be checked on this rep (e.g. the view).
        view: camera view during the rep.
        edge: ``"start"``/``"end"`` when the video cut the rep (see :class:`CounterConfig`).
    """

    index: int
    person: int
    start: float
    bottom: float
    end: float
    start_frame: int
    bottom_frame: int
    end_frame: int
    metrics: dict[str, float | None]
    feedback: list[str] = field(default_factory=list)
    not_assessed: list[str] = field(default_factory=list)
    view: str = "unknown"
    edge: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        r = lambda v: None if v is None or not np.isfinite(v) else round(float(v), 4)  # noqa: E731
        return {
            "rep": self.index, "person": self.person, "start": r(self.start), "bottom": r(self.bottom),
            "end": r(self.end), "start_frame": self.start_frame, "bottom_frame": self.bottom_frame,
            "end_frame": self.end_frame, "view": self.view, "edge": self.edge,
            "metrics": {k: r(v) for k, v in self.metrics.items()},
            "feedback": list(self.feedback), "not_assessed": list(self.not_assessed),
        }  # fmt: skip


@dataclass
class ExerciseResult:
    """Repetitions of one exercise by one person.

    Attributes:
        exercise: the exercise name.
        person: track id (``-1`` when nobody was found).
        person_index: individual index in the sequence (``-1`` when nobody was found).
        reps: counted repetitions.
        attempts: excursions that did not count (``partial``, ``rejected``, ``interrupted``) as dicts.
        messages: plain-language notes about the input (nobody there, person left, view …).
        cue: the name of the progress cue used, or ``None``.
        view: the camera view over the clip.
        progress: ``(T,)`` progress signal (NaN where untrusted).
        trusted: ``(T,)`` whether each sample was usable.
        time: ``(T,)`` seconds.
        primary_angle: ``(T,)`` the primary joint angle in degrees (mean of trusted sides).
        coords: ``"image"`` or ``"world"`` (what the angle metrics used).
    """

    exercise: str
    person: int
    person_index: int
    reps: list[Rep]
    attempts: list[dict[str, Any]]
    messages: list[str]
    cue: str | None
    view: str
    progress: np.ndarray
    trusted: np.ndarray
    time: np.ndarray
    primary_angle: np.ndarray
    coords: str = "image"

    @property
    def count(self) -> int:
        """Number of counted repetitions."""
        return len(self.reps)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (without the per-frame arrays)."""
        return {
            "exercise": self.exercise, "person": self.person, "count": self.count, "cue": self.cue,
            "view": self.view, "angle_coords": self.coords, "messages": list(self.messages),
            "attempts": list(self.attempts),
        }  # fmt: skip


def _frame_at(time: np.ndarray, t: float) -> int:
    return int(np.clip(np.searchsorted(time, t - 1e-9), 0, len(time) - 1))


_FILMED = {"frontal": "from the front", "side": "from the side", "oblique": "at an angle"}


def _needs(view: str, has3d: bool, need: str) -> str | None:
    """Reason a metric cannot be measured in this view, or ``None`` when it can."""
    filmed = f"this rep was filmed {_FILMED[view]}" if view in _FILMED else "the view could not be told"
    if need == "frontal":
        # the frontal-plane quantities here are image measurements: 3D does not replace the view
        return None if view == "frontal" else f"needs a frontal view ({filmed})"
    if need == "side":
        return None if (has3d or view == "side") else f"needs a side view or 3D ({filmed})"
    if need == "both_sides":
        return None if (has3d or view == "frontal") else f"needs both sides in view: a frontal view or 3D ({filmed})"
    return None


_METRIC_NEEDS = {
    "knee_valgus_deg": "frontal",
    "feet_spread_ratio": "frontal",
    "trunk_lean_deg": "side",
    "hip_sag_deg": "side",
    "hip_pike_deg": "side",
    "symmetry_abs_pct": "both_sides",
}
_METRIC_LABEL = {
    "knee_valgus_deg": "knee valgus",
    "feet_spread_ratio": "feet width",
    "trunk_lean_deg": "trunk lean",
    "hip_sag_deg": "hip sag",
    "hip_pike_deg": "hip pike",
    "symmetry_abs_pct": "left/right symmetry",
}


def _rep_metrics(
    spec: ExerciseSpec,
    ibody: Body,
    abody: Body,
    sel: np.ndarray,
    ev: RepEvent,
    time: np.ndarray,
    view: str,
) -> tuple[dict[str, float | None], list[str]]:
    """Metrics of one rep over frames ``sel`` and the reasons some could not be measured."""
    has3d = abody.coords == "world"
    m: dict[str, float | None] = {}
    m["depth"] = float(ev.peak)
    m["duration_s"] = float(ev.end - ev.start)
    m["tempo_down_s"] = float(ev.peak_time - ev.start)
    m["tempo_up_s"] = float(ev.end - ev.peak_time)
    sides = _side_angles(abody, spec.primary)
    both = _mean_sides(sides)
    seg = both[sel]
    m["rom_deg"] = (float(np.nanmax(seg) - np.nanmin(seg))) if np.isfinite(seg).any() else None
    m["peak_angle_deg"] = _nanmax(seg)
    m["min_angle_deg"] = _nanmin(seg)
    start_sl = sel & (time <= ev.start + 0.25)
    m["start_flexion_deg"] = _nanmin(both[start_sl]) if start_sl.any() else _nanmin(seg)
    # symmetry at the bottom (peak flexion per side)
    lp, rp = _nanmax(sides["left"][sel]), _nanmax(sides["right"][sel])
    si = symmetry_index(lp, rp) if lp is not None and rp is not None else np.nan
    m["symmetry_pct"] = float(si) if np.isfinite(si) else None
    m["symmetry_abs_pct"] = abs(float(si)) if np.isfinite(si) else None
    m["trunk_lean_deg"] = _nanmax(_trunk_lean(abody)[sel])
    if spec.name in ("squat", "lunge"):
        v = [_nanmax(knee_valgus(ibody, s)[sel]) for s in SIDES]
        v = [x for x in v if x is not None]
        m["knee_valgus_deg"] = max(0.0, max(v)) if v else None
    if spec.name == "pushup":
        sag = [hip_sag(abody, s)[sel] for s in SIDES]
        sags = np.concatenate(sag)
        m["hip_sag_deg"] = max(0.0, _nanmax(sags)) if _nanmax(sags) is not None else None
        mn = _nanmin(sags)
        m["hip_pike_deg"] = max(0.0, -mn) if mn is not None else None
    if spec.name == "jumping_jack":
        la, ra, lh, rh = (ibody.p(n) for n in ("left_ankle", "right_ankle", "left_hip", "right_hip"))
        ok = ibody.ok("left_ankle", "right_ankle", "left_hip", "right_hip") & sel
        if ok.any():
            hw = np.linalg.norm(lh[ok] - rh[ok], axis=-1)
            fw = np.linalg.norm(la[ok] - ra[ok], axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = fw / np.median(hw)
            m["feet_spread_ratio"] = float(np.nanmax(r)) if np.isfinite(r).any() else None
        else:
            m["feet_spread_ratio"] = None
    reasons = []
    if spec.primary_view is not None:
        why = _needs(view, has3d, spec.primary_view)
        if why is not None:
            for key in ("rom_deg", "peak_angle_deg", "min_angle_deg", "start_flexion_deg"):
                m[key] = None
            reasons.append(f"{spec.primary[1]} angle not assessed: {why}")
    for key, need in _METRIC_NEEDS.items():
        if key not in m:
            continue
        why = _needs(view, has3d, need)
        if why is not None:
            m[key] = None
            reasons.append(f"{_METRIC_LABEL[key]} not assessed: {why}")
    return m, reasons


def _refine_bounds(events: list[RepEvent], time: np.ndarray, p: np.ndarray, ok: np.ndarray, eps: float = 0.03
                   ) -> list[RepEvent]:  # fmt: skip
    """Move counted reps' start back to the onset of movement and their end to where the body settles.

    The state machine marks a rep's start when progress has already risen ``start_delta`` above rest
    and its end as soon as progress is back below ``rest``; offline, the start becomes the last trusted
    sample within ``eps`` of the resting level before it and the end the first one within ``eps`` of
    the resting level after it (never crossing the neighbouring reps).
    """
    out = []
    good = ok & np.isfinite(p)
    for n, ev in enumerate(events):
        if ev.kind != "rep":
            out.append(ev)
            continue
        lo = events[n - 1].end if n > 0 else -np.inf
        hi = events[n + 1].start if n + 1 < len(events) else np.inf
        start, end = ev.start, ev.end
        if ev.edge != "start":
            sel = good & (time >= lo) & (time <= ev.start)
            if sel.any():
                base = float(np.min(p[sel]))
                cand = np.flatnonzero(sel & (p <= base + eps))
                start = float(time[cand[-1]])
        if ev.edge != "end":
            sel = good & (time >= ev.end) & (time <= hi)
            if sel.any():
                base = float(np.min(p[sel]))
                cand = np.flatnonzero(sel & (p <= base + eps))
                end = float(time[cand[0]])
        out.append(replace(ev, start=start, end=end))
    return out


def count_reps(
    seq: PoseSequence,
    exercise: str | ExerciseSpec,
    *,
    person: int | None = None,
    coords: str = "auto",
    trusted_states: Iterable[KeypointState] | None = None,
) -> ExerciseResult:
    """Count repetitions of an exercise and measure each one.

    Args:
        seq: the poses (any skeleton naming the joints the exercise needs).
        exercise: a name from :data:`EXERCISES` (not ``"plank"``; see :func:`plank_hold`) or a spec
            from :func:`exercise_spec`.
        person: individual index; default :func:`~posekit.analysis._body.main_person`.
        coords: angle metrics from ``"image"`` (2D), ``"world"`` (3D) or ``"auto"`` (world when present).
            Counting itself always runs on image coordinates.
        trusted_states: override the spec's trusted states (e.g. add OCCLUDED for human annotations
            that place hidden joints).

    Returns:
        An :class:`ExerciseResult`. Never raises on empty or unusable input: the reason is in
        ``messages``.
    """
    spec = exercise if isinstance(exercise, ExerciseSpec) else exercise_spec(exercise)
    states = tuple(trusted_states) if trusted_states is not None else spec.counter.trusted_states
    t = len(seq)
    time = seq.time
    empty = np.full(t, np.nan)
    idx = main_person(seq) if person is None else person
    if idx is None:
        return ExerciseResult(spec.name, -1, -1, [], [], ["nobody was found in the video"], None, "unknown", empty,
                              np.zeros(t, bool), time, empty)  # fmt: skip
    ibody = Body(seq, idx, "image", states)
    use3d = coords == "world" or (coords == "auto" and seq.world is not None)
    abody = Body(seq, idx, "world", states) if use3d else ibody
    view = estimate_view(ibody)
    p, ok, cue = exercise_signal(ibody, spec, view=view)
    messages: list[str] = []
    prim = _mean_sides(_side_angles(abody, spec.primary))
    if cue is None:
        need = sorted({j for c in spec.cues for j in c.joints})
        messages.append(
            f"no trusted keypoints for a {spec.name} signal: needs {', '.join(need)} seen "
            "(not occluded or predicted) on at least one side"
        )
        return ExerciseResult(spec.name, ibody.track_id, idx, [], [], messages, None, view, p, ok, time, prim,
                              abody.coords)  # fmt: skip
    counter = RepCounter(replace(spec.counter, trusted_states=states), t0=float(time[0]))
    events: list[RepEvent] = []
    for k in range(t):
        ev = counter.update(float(time[k]), float(p[k]), bool(ok[k]))
        if ev is not None:
            events.append(ev)
    ev = counter.finish(float(time[-1]))
    if ev is not None:
        events.append(ev)
    events = _refine_bounds(events, time, p, ok)
    reps: list[Rep] = []
    attempts: list[dict[str, Any]] = []
    present = ibody.frames_present()
    for ev in events:
        if ev.kind != "rep":
            a = {"kind": ev.kind, "start": round(ev.start, 4), "end": round(ev.end, 4), "depth": round(ev.peak, 4)}
            if ev.kind == "partial":
                a["message"] = (f"half rep at {ev.start:.1f}–{ev.end:.1f} s not counted: reached {ev.peak:.0%} of "
                                f"the range (needs {spec.counter.enter:.0%} and a rise of "
                                f"{spec.counter.min_amplitude:.0%})")  # fmt: skip
            elif ev.kind == "interrupted":
                gone = ~present[(time > ev.end) & (time <= ev.end + spec.counter.max_gap_s + 1e-9)]
                why = "the person left the view" if gone.size and gone.all() else "keypoints were occluded"
                a["message"] = f"rep in progress at {ev.end:.1f} s abandoned: {why}"
                messages.append(a["message"])
            elif ev.kind == "unfinished":
                a["message"] = f"rep started at {ev.start:.1f} s not finished when the video ended"
            else:
                a["message"] = (f"movement at {ev.start:.1f}–{ev.end:.1f} s not counted: "
                                f"{ev.end - ev.start:.1f} s is outside {spec.counter.min_rep_s}–"
                                f"{spec.counter.max_rep_s} s")  # fmt: skip
            attempts.append(a)
            continue
        sel = (time >= ev.start - 1e-9) & (time <= ev.end + 1e-9)
        rview = estimate_view(ibody, sel)
        metrics, reasons = _rep_metrics(spec, ibody, abody, sel, ev, time, rview)
        rep = Rep(len(reps) + 1, ibody.track_id, ev.start, ev.peak_time, ev.end, _frame_at(time, ev.start),
                  _frame_at(time, ev.peak_time), _frame_at(time, ev.end), metrics, view=rview,
                  edge=ev.edge)  # fmt: skip
        for rule in spec.rules:
            msg = rule.check(rep.index, metrics.get(rule.metric))
            if msg:
                rep.feedback.append(msg)
        rep.not_assessed = reasons
        if ev.edge == "start":
            rep.not_assessed.append("the video started during this rep: its start and down tempo are cut")
        elif ev.edge == "end":
            rep.not_assessed.append("the video ended during this rep's return: its end and up tempo are cut")
        reps.append(rep)
    if not present.any():
        messages.append("nobody was found in the video")
    elif not ok.any():
        messages.append(f"the {spec.name} signal ({cue.name}) never rested on trusted keypoints")
    if present.any() and (~present).any():
        first, last = np.flatnonzero(present)[[0, -1]]
        if last < t - 1 and reps and reps[-1].end <= time[last] + 1e-9:
            messages.append(f"the person left the view at {time[last]:.1f} s")
    return ExerciseResult(spec.name, ibody.track_id, idx, reps, attempts, messages, cue.name, view, p, ok, time,
                          prim, abody.coords)  # fmt: skip


# ================================================================================================
# Plank
# ================================================================================================
@dataclass
class PlankResult:
    """A plank hold.

    Attributes:
        person: track id (``-1`` when nobody was found).
        total_s: time in a plank position, seconds.
        longest_s: longest continuous hold, seconds.
        holds: ``[(start, end)]`` seconds.
        feedback: plain-language messages (time ranges of form faults).
        messages: notes about the input.
        in_plank: ``(T,)`` bool per frame.
        hip_sag: ``(T,)`` degrees (positive = hips below the shoulder–ankle line).
    """

    person: int
    total_s: float
    longest_s: float
    holds: list[tuple[float, float]]
    feedback: list[str]
    messages: list[str]
    in_plank: np.ndarray
    hip_sag: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "person": self.person, "total_s": round(self.total_s, 3), "longest_s": round(self.longest_s, 3),
            "holds": [[round(a, 3), round(b, 3)] for a, b in self.holds], "feedback": list(self.feedback),
            "messages": list(self.messages),
        }  # fmt: skip


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive index runs of True."""
    out = []
    k = 0
    n = len(mask)
    while k < n:
        if mask[k]:
            j = k
            while j + 1 < n and mask[j + 1]:
                j += 1
            out.append((k, j))
            k = j + 1
        else:
            k += 1
    return out


def plank_hold(
    seq: PoseSequence,
    *,
    person: int | None = None,
    max_trunk_deg: float = 30.0,
    sag_limit_deg: float = 15.0,
    pike_limit_deg: float = 20.0,
    min_hold_s: float = 1.0,
    max_gap_s: float = 0.5,
    trusted_states: Iterable[KeypointState] | None = None,
) -> PlankResult:
    """Time a plank hold and check the hips.

    A frame is *in plank* when, on trusted keypoints of at least one side, the ankle–shoulder line is
    within ``max_trunk_deg`` of horizontal, the shoulders are above the elbows or wrists (supported), the
    knees are nearly straight (flexion < 40°), and the hips lie within 35° of the shoulder–ankle line.
    Holds are runs of such frames bridged over gaps up to ``max_gap_s`` and at least ``min_hold_s``
    long. Form: stretches where the hips sag more than ``sag_limit_deg`` below (or pike more than
    ``pike_limit_deg`` above) the shoulder–ankle line. Needs a side view in 2D.

    Returns:
        A :class:`PlankResult`; empty input gives zero times and a message, never an error.
    """
    states = tuple(trusted_states) if trusted_states is not None else TRUSTED_STATES
    t = len(seq)
    idx = main_person(seq) if person is None else person
    if idx is None:
        z = np.zeros(t, bool)
        return PlankResult(-1, 0.0, 0.0, [], [], ["nobody was found in the video"], z, np.full(t, np.nan))
    body = Body(seq, idx, "image", states)
    time = seq.time
    view = estimate_view(body)
    inpl = np.zeros(t, bool)
    sag = np.full(t, np.nan)
    for s in SIDES:
        sh, el, wr, hp, kn, an = (f"{s}_{j}" for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
        if not all(body.has(n) for n in (sh, hp, kn, an)):
            continue
        ok = body.ok(sh, hp, kn, an)
        elev = np.abs(segment_angle(body.p(an), body.p(sh), reference="horizontal", unwrap=False))
        elev = np.minimum(elev, 180 - elev)  # the ankle–shoulder line, whichever way the person faces
        knee = flexion_angle(body.p(hp), body.p(kn), body.p(an))
        hs = hip_sag(body, s)
        support = np.zeros(t, bool)
        for arm in (el, wr):
            if body.has(arm):
                support |= body.ok(arm) & (body.p(arm)[:, 1] > body.p(sh)[:, 1])
        this = ok & (elev <= max_trunk_deg) & (knee < 40) & support & (np.abs(np.nan_to_num(hs, nan=90)) < 35)
        sag = np.where(np.isfinite(sag), sag, np.where(this, hs, np.nan))
        inpl |= this
    # bridge short gaps
    filled = inpl.copy()
    runs = _runs(inpl)
    for (a0, a1), (b0, b1) in zip(runs[:-1], runs[1:]):
        if time[b0] - time[a1] <= max_gap_s:
            filled[a1:b0] = True
    holds = [(float(time[a]), float(time[b])) for a, b in _runs(filled) if time[b] - time[a] >= min_hold_s]
    total = float(sum(b - a for a, b in holds))
    longest = float(max((b - a for a, b in holds), default=0.0))
    feedback: list[str] = []
    messages: list[str] = []
    inside = np.zeros(t, bool)
    for a, b in holds:
        inside |= (time >= a) & (time <= b)
    for name, mask, lim in (
        ("sagged", inside & (np.nan_to_num(sag, nan=0) > sag_limit_deg), sag_limit_deg),
        ("piked", inside & (np.nan_to_num(sag, nan=0) < -pike_limit_deg), pike_limit_deg),
    ):
        for a, b in _runs(mask):
            if time[b] - time[a] < 0.3:
                continue
            peak = float(np.nanmax(np.abs(sag[a : b + 1])))
            where = "below" if name == "sagged" else "above"
            feedback.append(
                f"{_clock(time[a])}–{_clock(time[b])}: hips {name} {peak:.0f}° {where} the shoulder–ankle line "
                f"(limit {lim:.0f}°)"
            )
    if not body.frames_present().any():
        messages.append("nobody was found in the video")
    elif not holds:
        if view == "frontal":
            messages.append("no plank hold found: plank timing needs a side view (this video shows the front)")
        else:
            messages.append("no plank hold found")
    return PlankResult(body.track_id, total, longest, holds, feedback, messages, filled, sag)


def _clock(t: float) -> str:
    m, s = divmod(float(t), 60.0)
    return f"{int(m)}:{s:04.1f}"


# ================================================================================================
# Recognition
# ================================================================================================
@dataclass
class Recognition:
    """Which exercise a person does.

    Attributes:
        exercise: the recognised exercise, or ``None`` when nothing fits.
        confidence: 0..1.
        scores: ``{exercise: score}`` (0..1) for every candidate.
        reason: one sentence on the decision.
    """

    exercise: str | None
    confidence: float
    scores: dict[str, float]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "exercise": self.exercise, "confidence": round(self.confidence, 3),
            "scores": {k: round(v, 3) for k, v in self.scores.items()}, "reason": self.reason,
        }  # fmt: skip


def _q(x: np.ndarray, q: float) -> float:
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else float("nan")


def _height(body: Body, top: str, bottom: str, chain: tuple[str, ...]) -> np.ndarray:
    """Mean over sides of how far ``top`` is above ``bottom`` divided by the chain length (all present)."""
    cue = Cue("", "height", (top, *chain, bottom) if chain else (top, bottom), 0.0, 1.0)
    return _cue_signal(body, cue, use_all=True)[0]


def _ramp(x: float, lo: float, hi: float, missing: float = 0.0) -> float:
    """0 below ``lo``, 1 above ``hi``, linear between; ``missing`` for NaN."""
    if not np.isfinite(x):
        return missing
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def recognition_features(seq: PoseSequence, person: int) -> dict[str, float]:
    """Body-size-free posture and movement features of one person (see :func:`recognize_exercise`).

    Heights are how far one joint is above another over the chain length between them (1 = straight
    above, 0 = level, −1 = straight below), as percentiles over the clip: ``legs`` (hip over ankle),
    ``trunk`` (shoulder over hip), ``wrist`` (wrist over shoulder), ``hands_over_feet`` (wrist over
    ankle, over the leg length). ``knee_flexion`` is the median knee
    flexion (degrees) and ``amp_<exercise>`` the 5–95 percentile range of each exercise's progress.
    Every present keypoint is used (posture, not counting). NaN where the joints are absent.
    """
    body = Body(seq, person, "image", tuple(KeypointState)[1:])
    view = estimate_view(body)
    legs = _height(body, "hip", "ankle", ("knee",))
    trunk = _height(body, "shoulder", "hip", ())
    wrist = _height(body, "wrist", "shoulder", ("elbow",))
    hands_feet = _height(body, "wrist", "ankle", ("knee", "hip"))
    kf = _mean_sides(_side_angles(body, ("hip", "knee", "ankle")))
    f = {
        "legs_q50": _q(legs, 50), "legs_q90": _q(legs, 90), "trunk_q50": _q(trunk, 50), "trunk_q90": _q(trunk, 90),
        "wrist_q10": _q(wrist, 10), "wrist_q50": _q(wrist, 50), "wrist_q90": _q(wrist, 90),
        "hands_over_feet_q50": _q(hands_feet, 50),
        "knee_flexion": _q(kf, 50), "feet_split": _feet_split(body),
        "duration_s": float(seq.time[-1] - seq.time[0]) if len(seq) else 0.0,
    }  # fmt: skip
    for name in SPECS:
        p, _, _ = exercise_signal(body, SPECS[name], view=view, use_all=True)
        f[f"amp_{name}"] = _q(p, 95) - _q(p, 5) if np.isfinite(p).any() else float("nan")
    return f


def recognize_exercise(
    seq: PoseSequence,
    *,
    person: int | None = None,
    candidates: Iterable[str] = EXERCISES,
) -> Recognition:
    """Recognise the exercise from posture and movement (transparent rules on
    :func:`recognition_features`).

    * **Upright or horizontal**: upright when hanging from the hands (wrists mostly above the
      shoulders, legs not horizontal); horizontal when the hands are on the floor (wrists far below
      the shoulders and not above the feet); otherwise upright when the hips rise well above the
      ankles at some point (``legs_q90 > 0.55``) or, without ankles, when the shoulders are mostly above
      the hips (``trunk_q50 > 0.65``).
    * Upright — **pull-up**: the wrists stay above the shoulders (median height > 0.3, never far
      below) and the arms move; **jumping jack**: the wrists swing from well below the shoulders to
      above them; **squat**: the hips drop (squat progress range) with the arms not overhead;
      **lunge**: as a squat, with the feet split front/back (side view).
    * Horizontal — **sit-up**: bent knees (median flexion > 40–60°, or the trunk rising upright when
      the knees are not seen), hands not on the floor, and the trunk rising; **push-up**: straight legs
      or hands on the floor, wrists below the shoulders, the shoulders moving; **plank**: the push-up
      posture held still for 3 s or more.

    Each candidate gets a score in 0..1 (a product of linear ramps); the best one wins when its
    score is at least 0.15.

    Returns:
        A :class:`Recognition`; ``exercise`` is ``None`` when nobody is there or nothing fits.
    """
    cands = tuple(candidates)
    unknown = [c for c in cands if c not in EXERCISES]
    if unknown:
        raise ValueError(f"unknown exercise {unknown[0]!r}; choose from {', '.join(EXERCISES)}")
    idx = main_person(seq) if person is None else person
    zero = {c: 0.0 for c in cands}
    if idx is None:
        return Recognition(None, 0.0, zero, "nobody was found in the video")
    f = recognition_features(seq, idx)
    hands_on_floor = f["wrist_q50"] < -0.4 and not f["hands_over_feet_q50"] > 0.3
    if np.isfinite(f["wrist_q50"]) and f["wrist_q50"] > 0.3 and not f["legs_q90"] < 0.3:
        upright = True  # hanging from the hands
    elif hands_on_floor:
        upright = False
    elif np.isfinite(f["legs_q90"]):
        upright = f["legs_q90"] > 0.55
    elif np.isfinite(f["trunk_q50"]):
        upright = f["trunk_q50"] > 0.65
    else:
        return Recognition(None, 0.0, zero, "too few keypoints to tell the posture")
    r = _ramp
    sc: dict[str, float] = {}
    if upright:
        has_wr = np.isfinite(f["wrist_q50"])
        overhead = r(f["wrist_q50"], 0.25, 0.4) * r(f["wrist_q10"], -0.4, -0.15)
        swing = r(-f["wrist_q10"], 0.4, 0.6) * r(f["wrist_q90"], 0.0, 0.25)
        sc["pullup"] = overhead * r(f["amp_pullup"], 0.3, 0.5)
        sc["jumping_jack"] = swing * r(f["amp_jumping_jack"], 0.4, 0.6)
        legs = r(f["amp_squat"], 0.3, 0.5)
        arms_free = (1.0 - max(overhead, swing)) if has_wr else 1.0
        split = r(f["feet_split"], 0.6, 0.9)
        sc["squat"] = legs * arms_free * (1.0 - split)
        sc["lunge"] = max(legs, r(f["amp_lunge"], 0.3, 0.5)) * arms_free * split
        sc["situp"] = sc["pushup"] = sc["plank"] = 0.0
    else:
        bent = r(f["knee_flexion"], 40.0, 60.0, missing=r(f["trunk_q90"], 0.4, 0.6))
        hands_down = r(-f["wrist_q50"], 0.25, 0.4, missing=0.5)
        sc["situp"] = bent * (1.0 - r(-f["wrist_q50"], 0.3, 0.45)) * r(f["amp_situp"], 0.3, 0.5)
        sc["pushup"] = max(1.0 - bent, r(-f["wrist_q50"], 0.3, 0.45)) * hands_down * r(f["amp_pushup"], 0.3, 0.5)
        sc["plank"] = (1.0 - bent) * hands_down * (1.0 - r(f["amp_pushup"], 0.15, 0.3)) * r(f["duration_s"], 2.0, 3.0)
        sc["squat"] = sc["lunge"] = sc["pullup"] = sc["jumping_jack"] = 0.0
    scores = {c: float(sc.get(c, 0.0)) for c in cands}
    best = max(scores, key=lambda k: scores[k]) if scores else None
    conf = scores[best] if best else 0.0
    if best is None or conf < 0.15:
        return Recognition(None, float(conf), scores, "no exercise movement was recognised")
    posture = "upright" if upright else "horizontal"
    return Recognition(best, float(conf), scores, f"{posture} body; best match {best}")


def _feet_split(body: Body) -> float:
    """Median front/back (image x) separation of the ankles over the leg length, in the lowest frames."""
    la, ra = body.p("left_ankle"), body.p("right_ankle")
    if not np.isfinite(la).any() or not np.isfinite(ra).any():
        return 0.0
    leg = body.segment_scale([("left_hip", "left_knee"), ("left_knee", "left_ankle")])
    if not leg > 0:
        return 0.0
    view = estimate_view(body)
    if view == "frontal":
        return 0.0  # a front/back split cannot be seen from the front
    dx = np.abs(la[:, 0] - ra[:, 0]) / leg
    return _q(dx, 75)
