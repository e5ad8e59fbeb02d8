"""Gait events and spatio-temporal gait parameters, from a side view (2D) or world landmarks (3D).

Events
------
Heel strike and toe off follow Zeni et al. (2008, *Gait & Posture* 27:710–714): relative to the pelvis
(the hip midpoint) and along the walking direction, each **heel strike** is a peak of the heel's
forward position and each **toe off** a trough of the toe's (foot index) position. The walking
direction is where the toes point (toe minus heel, averaged over both feet and smoothed over a second);
skeletons without heel/toe points use the ankle for both, and the pelvis velocity for the direction.
Zeni's extremes fall where the foot's velocity relative to the pelvis crosses zero, slightly before
the heel lands and after the toe leaves (the foot is still slowing down or speeding up). With
``refine=True`` (default) each event moves, by at most ``refine_s``, to where the foot's backward
velocity relative to the pelvis reaches ``stance_frac`` of its median stance velocity — i.e. where the
foot has actually joined (heel strike) or still belongs to (toe off) the ground.

Only trusted keypoints (VISIBLE, CORRECTED) are used; runs of untrusted samples split the signal and no
event is placed at the edge of a run.

Parameters
----------
From the events (a *step* ends at a heel strike and is named after that foot; a *stride* runs from one
heel strike to the next of the same foot): step and stride time (s), cadence (steps per minute, from the
median step time), stance and swing time (s) and their share of the stride (%), step length (distance
between the heels along the walking direction at heel strike: metres in 3D, pixels in 2D or metres when
``metres_per_pixel`` is given), walking speed (step length × cadence, only where lengths are metric),
and left/right symmetry indices (:func:`~posekit.analysis.kinematics.symmetry_index`) of step time, step
length and stance time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posekit.poses import PoseSequence

from ._body import SIDES, Body, main_person
from .kinematics import UP_IMAGE, UP_WORLD, symmetry_index

__all__ = ["GaitEvents", "GaitResult", "gait_events", "gait_parameters", "analyze_gait"]


@dataclass
class GaitEvents:
    """Heel strikes and toe offs of one person.

    Attributes:
        heel_strike: ``{"left": frames, "right": frames}`` int arrays of frame indices (sorted).
        toe_off: the same for toe offs.
        time: ``(T,)`` seconds of the sequence.
        coords: ``"image"`` or ``"world"``.
        direction: ``(T, D)`` unit walking direction per frame (NaN where unknown).
        heel_forward: ``{side: (T,)}`` heel position along the direction relative to the pelvis.
        toe_forward: ``{side: (T,)}`` the same for the toe.
        leg_length: robust hip–knee–ankle length (pixels or metres).
    """

    heel_strike: dict[str, np.ndarray]
    toe_off: dict[str, np.ndarray]
    time: np.ndarray
    coords: str
    direction: np.ndarray
    heel_forward: dict[str, np.ndarray]
    toe_forward: dict[str, np.ndarray]
    leg_length: float

    def times(self, kind: str, side: str) -> np.ndarray:
        """Event times in seconds (``kind``: ``"heel_strike"`` or ``"toe_off"``)."""
        return self.time[getattr(self, kind)[side]]


@dataclass
class GaitResult:
    """Gait of one person: events, parameters and notes.

    Attributes:
        person: track id (``-1`` when nobody was found).
        events: the events, or ``None``.
        parameters: see :func:`gait_parameters` (empty when there are too few events).
        messages: plain-language notes (too few steps, no scale …).
    """

    person: int
    events: GaitEvents | None
    parameters: dict[str, Any]
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        ev = {}
        if self.events is not None:
            for kind in ("heel_strike", "toe_off"):
                ev[kind] = {
                    s: [round(float(t), 4) for t in self.events.times(kind, s)] for s in SIDES
                }
        return {"person": self.person, "events": ev, "parameters": self.parameters, "messages": list(self.messages)}


def _smooth(x: np.ndarray, n: int) -> np.ndarray:
    """Moving average over ``2n+1`` samples along axis 0, NaN-aware (NaN where no sample)."""
    if n <= 0:
        return x
    ok = np.isfinite(x)
    v = np.where(ok, x, 0.0)
    k = np.ones(2 * n + 1)
    shape = x.shape
    v2 = v.reshape(shape[0], -1)
    ok2 = ok.reshape(shape[0], -1).astype(float)
    num = np.stack([np.convolve(v2[:, j], k, mode="same") for j in range(v2.shape[1])], 1)
    den = np.stack([np.convolve(ok2[:, j], k, mode="same") for j in range(v2.shape[1])], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, np.nan)
    return out.reshape(shape)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index runs ``[a, b)`` of True."""
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _extrema(x: np.ndarray, *, maxima: bool, distance: int, prominence: float) -> np.ndarray:
    """Indices of peaks (or troughs) inside finite runs, never at a run's edge."""
    from scipy.signal import find_peaks

    out = []
    for a, b in _runs(np.isfinite(x)):
        if b - a < 3:
            continue
        seg = x[a:b] if maxima else -x[a:b]
        idx, _ = find_peaks(seg, distance=max(1, distance), prominence=prominence)
        out.extend((idx + a).tolist())
    return np.asarray(sorted(out), dtype=np.int64)


def gait_events(
    seq: PoseSequence,
    *,
    person: int | None = None,
    coords: str = "auto",
    min_stride_s: float = 0.6,
    prominence: float = 0.08,
    refine: bool = True,
    refine_s: float = 0.12,
    stance_frac: float = 0.8,
) -> GaitEvents | None:
    """Detect heel strikes and toe offs (see the module docstring).

    Args:
        seq: the poses (side view in 2D, or world coordinates).
        person: individual index; default the person seen longest.
        coords: ``"image"``, ``"world"`` or ``"auto"`` (world when present).
        min_stride_s: the same event of the same foot is at least this far apart (seconds).
        prominence: minimum peak prominence, in leg lengths.
        refine: move events to ground contact (see the module docstring).
        refine_s: how far an event may move (seconds).
        stance_frac: fraction of the stance velocity that marks contact.

    Returns:
        :class:`GaitEvents`, or ``None`` when nobody is there or the feet/hips are never trusted.
    """
    idx = main_person(seq) if person is None else person
    if idx is None or len(seq) < 3:
        return None
    c = "world" if (coords == "world" or (coords == "auto" and seq.world is not None)) else "image"
    body = Body(seq, idx, c)
    up = UP_IMAGE if c == "image" else UP_WORLD
    time = seq.time
    t = len(seq)
    dt = float(np.median(np.diff(time))) if t > 1 else 1.0
    if not dt > 0:
        return None
    heel_name = {s: body.first(f"{s}_heel", f"{s}_ankle") for s in SIDES}
    toe_name = {s: body.first(f"{s}_foot_index", f"{s}_ankle") for s in SIDES}
    if not all(heel_name.values()) or not body.has("left_hip") or not body.has("right_hip"):
        return None
    pelvis = body.mid("left_hip", "right_hip")
    pelvis_ok = body.ok("left_hip", "right_hip")
    leg = body.segment_scale([("left_hip", "left_knee"), ("left_knee", "left_ankle")])
    if not np.isfinite(leg):
        leg = body.segment_scale([("right_hip", "right_knee"), ("right_knee", "right_ankle")])
    if not leg > 0:
        return None
    # walking direction: where the toes point, else where the pelvis moves; horizontal, unit length
    half = max(1, int(round(0.5 / dt)))
    dirs = []
    for s in SIDES:
        if toe_name[s] != heel_name[s]:
            v = body.p(toe_name[s]) - body.p(heel_name[s])
            v = np.where(body.ok(toe_name[s], heel_name[s])[:, None], v, np.nan)
            dirs.append(v)
    if dirs:
        st = np.stack(dirs)
        cnt = np.isfinite(st).sum(0)
        d = np.where(cnt > 0, np.nansum(np.nan_to_num(st, nan=0.0), 0) / np.maximum(cnt, 1), np.nan)
    else:
        d = np.gradient(np.where(pelvis_ok[:, None], pelvis, np.nan), axis=0)
    with np.errstate(invalid="ignore"):
        d = _smooth(d, half)
        d = d - (d @ up)[:, None] * up  # horizontal
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        d = np.where(n > 1e-9, d / n, np.nan)
    heel_fwd: dict[str, np.ndarray] = {}
    toe_fwd: dict[str, np.ndarray] = {}
    hs: dict[str, np.ndarray] = {}
    to: dict[str, np.ndarray] = {}
    dist = max(1, int(round(min_stride_s / dt)))
    win = max(1, int(round(refine_s / dt)))
    for s in SIDES:
        hn, tn = heel_name[s], toe_name[s]
        assert hn is not None and tn is not None
        h_ok = body.ok(hn) & pelvis_ok
        t_ok = body.ok(tn) & pelvis_ok
        hf = np.where(h_ok, np.sum((body.p(hn) - pelvis) * d, -1), np.nan)
        tf = np.where(t_ok, np.sum((body.p(tn) - pelvis) * d, -1), np.nan)
        heel_fwd[s], toe_fwd[s] = hf, tf
        h_ev = _extrema(hf, maxima=True, distance=dist, prominence=prominence * leg)
        t_ev = _extrema(tf, maxima=False, distance=dist, prominence=prominence * leg)
        if refine:
            h_ev = _refine(hf, time, h_ev, win, stance_frac, strike=True)
            t_ev = _refine(tf, time, t_ev, win, stance_frac, strike=False)
        hs[s], to[s] = h_ev, t_ev
    return GaitEvents(hs, to, time, c, d, heel_fwd, toe_fwd, float(leg))


def _refine(fwd: np.ndarray, time: np.ndarray, events: np.ndarray, win: int, frac: float, *, strike: bool
            ) -> np.ndarray:  # fmt: skip
    """Move events to where the foot joins (strike) or leaves (toe off) its stance motion.

    In stance a foot moves backward relative to the pelvis at about the walking speed; a Zeni peak
    (trough) falls where that relative velocity crosses zero, a little before (after) ground contact.
    The event moves to the first frame after the peak (the last frame before the trough), within
    ``win`` frames, whose backward velocity reaches ``frac`` of the median stance velocity.
    """
    v = np.gradient(fwd, time) if len(time) > 2 else np.zeros_like(fwd)
    back = v[np.isfinite(v) & (v < 0)]
    if back.size < 3:
        return events
    stance_v = float(np.median(back))
    out = []
    t = len(fwd)
    for e in events.tolist():
        if strike:
            rng = range(e, min(t, e + win + 1))
        else:
            rng = range(e, max(-1, e - win - 1), -1)
        hit = next((k for k in rng if np.isfinite(v[k]) and v[k] <= frac * stance_v), e)
        out.append(int(hit))
    return np.asarray(sorted(set(out)), dtype=np.int64)


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def _stats(x: list[float]) -> dict[str, float | int | None]:
    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"mean": None, "median": None, "sd": None, "n": 0}
    return {"mean": _r(a.mean()), "median": _r(float(np.median(a))), "sd": _r(a.std()), "n": int(a.size)}


def gait_parameters(
    seq: PoseSequence,
    events: GaitEvents,
    *,
    person: int | None = None,
    metres_per_pixel: float | None = None,
    max_stride_s: float = 2.5,
) -> dict[str, Any]:
    """Spatio-temporal parameters from gait events (see the module docstring).

    Args:
        seq: the poses the events came from.
        events: from :func:`gait_events`.
        person: individual index (default: the person seen longest).
        metres_per_pixel: image scale, for metric step length and speed in 2D.
        max_stride_s: longer intervals between events are gaps, not strides (seconds).

    Returns:
        A JSON-friendly dict: ``cadence_steps_per_min``, ``step_time_s``, ``stride_time_s``,
        ``stance_time_s``, ``swing_time_s``, ``stance_pct``, ``swing_pct`` (stats: mean, median, sd,
        n), ``step_length`` (stats, with ``unit``), ``walking_speed_m_s``, per-side values under
        ``left``/``right`` and ``symmetry_index_pct`` (step time, step length, stance time).
    """
    idx = main_person(seq) if person is None else person
    time = events.time
    body = Body(seq, idx if idx is not None else 0, events.coords)
    metric = events.coords == "world" or metres_per_pixel is not None
    scale = 1.0 if events.coords == "world" else (metres_per_pixel or 1.0)
    unit = "m" if metric else "px"
    strikes = sorted([(int(f), s) for s in SIDES for f in events.heel_strike[s]])
    step_t: dict[str, list[float]] = {s: [] for s in SIDES}
    step_len: dict[str, list[float]] = {s: [] for s in SIDES}
    heel = {s: body.p(body.first(f"{s}_heel", f"{s}_ankle") or "") for s in SIDES}
    for (f0, s0), (f1, s1) in zip(strikes[:-1], strikes[1:]):
        if s0 == s1:
            continue
        dt = float(time[f1] - time[f0])
        if 0 < dt <= max_stride_s / 2 + 1e-9:
            step_t[s1].append(dt)
            other = "left" if s1 == "right" else "right"
            dv = events.direction[f1]
            gap = heel[s1][f1] - heel[other][f1]
            if np.isfinite(dv).all() and np.isfinite(gap).all():
                step_len[s1].append(abs(float(gap @ dv)) * scale)
    stride_t: dict[str, list[float]] = {s: [] for s in SIDES}
    stance: dict[str, list[float]] = {s: [] for s in SIDES}
    swing: dict[str, list[float]] = {s: [] for s in SIDES}
    stance_pct: dict[str, list[float]] = {s: [] for s in SIDES}
    for s in SIDES:
        h = events.heel_strike[s]
        o = events.toe_off[s]
        for a, b in zip(h[:-1], h[1:]):
            st = float(time[b] - time[a])
            if not 0 < st <= max_stride_s:
                continue
            stride_t[s].append(st)
            offs = o[(o > a) & (o < b)]
            if offs.size == 1:
                sta = float(time[offs[0]] - time[a])
                stance[s].append(sta)
                swing[s].append(st - sta)
                stance_pct[s].append(100.0 * sta / st)
    allv = lambda d: d["left"] + d["right"]  # noqa: E731
    steps = allv(step_t)
    med_step = float(np.median(steps)) if steps else float("nan")
    cadence = 60.0 / med_step if steps and med_step > 0 else None
    lens = allv(step_len)
    speed = None
    if metric and lens and cadence:
        speed = float(np.median(lens)) * cadence / 60.0
    si = {}
    for name, d in (("step_time", step_t), ("step_length", step_len), ("stance_time", stance)):
        lm = np.median(d["left"]) if d["left"] else np.nan
        rm = np.median(d["right"]) if d["right"] else np.nan
        si[name] = _r(float(symmetry_index(lm, rm)), 2)
    out: dict[str, Any] = {
        "coords": events.coords,
        "heel_strikes": {s: int(len(events.heel_strike[s])) for s in SIDES},
        "toe_offs": {s: int(len(events.toe_off[s])) for s in SIDES},
        "cadence_steps_per_min": _r(cadence, 2),
        "step_time_s": _stats(steps),
        "stride_time_s": _stats(allv(stride_t)),
        "stance_time_s": _stats(allv(stance)),
        "swing_time_s": _stats(allv(swing)),
        "stance_pct": _stats(allv(stance_pct)),
        "swing_pct": _stats([100.0 - v for v in allv(stance_pct)]),
        "step_length": {**_stats(lens), "unit": unit},
        "walking_speed_m_s": _r(speed, 3),
        "symmetry_index_pct": si,
    }
    for s in SIDES:
        out[s] = {
            "step_time_s": _stats(step_t[s]), "stride_time_s": _stats(stride_t[s]),
            "stance_time_s": _stats(stance[s]), "step_length": {**_stats(step_len[s]), "unit": unit},
        }  # fmt: skip
    return out


def analyze_gait(
    seq: PoseSequence,
    *,
    person: int | None = None,
    coords: str = "auto",
    metres_per_pixel: float | None = None,
    **event_options: Any,
) -> GaitResult:
    """Events and parameters in one call, with plain-language notes; never raises on empty input.

    Args:
        seq: the poses.
        person: individual index (default: the person seen longest).
        coords: ``"image"``, ``"world"`` or ``"auto"``.
        metres_per_pixel: image scale for metric lengths in 2D.
        **event_options: passed to :func:`gait_events`.
    """
    idx = main_person(seq) if person is None else person
    if idx is None:
        return GaitResult(-1, None, {}, ["nobody was found in the video"])
    body = Body(seq, idx, "image")
    msgs: list[str] = []
    ev = gait_events(seq, person=idx, coords=coords, **event_options)
    if ev is None:
        return GaitResult(body.track_id, None, {}, ["gait needs trusted hips and feet (heels/ankles); none were seen"])
    if ev.coords == "image":
        from .exercises import estimate_view

        view = estimate_view(body)
        if view == "frontal":
            msgs.append("gait events in 2D need a side view; this video shows the person from the front, "
                        "so the events below are unreliable")  # fmt: skip
    params = gait_parameters(seq, ev, person=idx, metres_per_pixel=metres_per_pixel)
    n = sum(len(ev.heel_strike[s]) for s in SIDES)
    if n < 3:
        msgs.append(f"only {n} heel strike(s) found: too few steps for gait parameters")
    if ev.coords == "image" and metres_per_pixel is None:
        msgs.append("step length is in pixels and walking speed is not given: pass a scale (metres per pixel)")
    return GaitResult(body.track_id, ev, params, msgs)
