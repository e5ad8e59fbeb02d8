"""Fall detection: a fast drop to the floor, the trunk turning toward horizontal, stillness afterwards.

Per person and frame, from image coordinates (a fixed camera) and *measured* keypoints (present and not
a tracker prediction), with lengths in units of the person's trunk length ``L`` (robust shoulder–hip
distance over the clip, so the rules do not depend on distance to the camera):

* **upright**: trunk within ``upright_trunk_deg`` of vertical and the hips at least ``upright_legs``·L
  above the ankles (or half that above the knees where the ankles are not measured);
* **down** (on the floor): the hips less than ``down_legs``·L above the ankles (or half that above the
  knees) and the trunk at least ``down_trunk_deg`` from vertical — or the hips at floor level
  (``floor_legs``·L) whatever the trunk does (sitting on the floor after a fall backwards);
* a **fall** is a change from upright to down within ``max_fall_s`` seconds in which the hips (and the
  centre of mass, de Leva 1996, where it can be located) drop by at least ``min_drop``·L — from their
  standing level (median over the upright second before the fall) to their level while lying still —,
  with the hips descending at ``min_speed``·L per second or faster at some moment (over 0.2 s) and the
  trunk turning at least ``down_trunk_deg`` from vertical within ``max_fall_s + settle_s`` of the last
  upright frame (the turn is timed at the last frame the trunk was *seen* — trusted keypoints —
  upright, so a tracking gap or a low-visibility guess in mid-fall does not delay it), followed by
  ``still_s`` seconds — starting between ``settle_s`` and ``settle_s + max_settle_s`` after the
  impact, or what remains of the video if at least ``min_after_s`` — in which the person stays down
  (``stay_down`` of the measured frames) and the midpoint of hips and shoulders stays within
  ``still_spread``·L (the 10–90 percentile spread of its positions, so keypoint jitter does not count
  as movement).

Sitting on a chair keeps the hips above the ankles and the trunk upright; picking something up bends
the trunk but keeps the hips high; lying down on purpose passes through sitting and takes longer than
``max_fall_s`` and turns the trunk only after sitting; jumping never ends down. None of these raise an alarm.

Each event has a time (the first frame on the floor), the person (track id) and a confidence in 0..1
that grows with the size of the drop, the speed of the descent, how horizontal the trunk ends up and
how still the person stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posekit.poses import PoseSequence

from ._body import Body
from .com import center_of_mass

__all__ = ["FallConfig", "FallEvent", "FallResult", "detect_falls", "fall_signals"]


@dataclass(frozen=True)
class FallConfig:
    """Thresholds of :func:`detect_falls` (lengths in trunk lengths ``L``, times in seconds)."""

    upright_trunk_deg: float = 35.0
    upright_legs: float = 0.6
    down_trunk_deg: float = 50.0
    down_legs: float = 0.4
    floor_legs: float = 0.25
    max_fall_s: float = 1.5
    min_drop: float = 0.5
    min_speed: float = 1.5
    still_s: float = 1.5
    settle_s: float = 0.3
    max_settle_s: float = 1.5
    min_after_s: float = 0.5
    still_spread: float = 0.5
    stay_down: float = 0.7
    min_frames: int = 5


@dataclass
class FallEvent:
    """One detected fall.

    Attributes:
        time: the first frame on the floor (s).
        start: the last upright frame before it (s).
        frame: frame index of ``time``.
        person: track id.
        person_index: individual index in the sequence.
        confidence: 0..1.
        drop: hip drop in trunk lengths.
        duration_s: ``time - start``.
        speed: peak hip descent speed (trunk lengths per second, over 0.2 s).
        trunk_deg: median trunk angle from vertical after the fall (degrees).
        motion_after: spread of the hip/shoulder midpoint after the fall (trunk lengths).
    """

    time: float
    start: float
    frame: int
    person: int
    person_index: int
    confidence: float
    drop: float
    duration_s: float
    speed: float
    trunk_deg: float
    motion_after: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        r = lambda v, n=3: None if not np.isfinite(v) else round(float(v), n)  # noqa: E731
        return {
            "time": r(self.time), "start": r(self.start), "frame": self.frame, "person": self.person,
            "confidence": r(self.confidence), "drop_trunk_lengths": r(self.drop),
            "duration_s": r(self.duration_s), "descent_speed_trunk_lengths_s": r(self.speed),
            "trunk_deg_after": r(self.trunk_deg, 1),
            "motion_after_trunk_lengths": r(self.motion_after),
        }  # fmt: skip


@dataclass
class FallResult:
    """Falls in a sequence, with per-person signals for plots and notes for the report."""

    events: list[FallEvent]
    messages: list[str] = field(default_factory=list)
    signals: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    def as_dict(self) -> list[dict[str, Any]]:
        """The events as JSON-friendly dicts."""
        return [e.as_dict() for e in self.events]


def fall_signals(seq: PoseSequence, person: int) -> dict[str, np.ndarray] | None:
    """Per-frame fall features of one individual, or ``None`` when its trunk is never measured.

    Returns:
        ``{"L": trunk length (scalar array), "hip_y": (T,) px, "com_y": (T,) px, "trunk_deg": (T,)
        unsigned degrees from vertical, "legs": (T,) hip height above the ankles in L (knee-based
        estimate where the ankles are not measured), "mid": (T, 2) hip/shoulder midpoint in px,
        "trunk_seen": (T,) hip and shoulder of one side trusted (VISIBLE/CORRECTED)}``;
        NaN where not measured.
    """
    b = Body(seq, person, "image")
    if not all(b.has(n) for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")):
        return None
    t = len(seq)
    hip_ok = b.measured("left_hip", "right_hip")
    sh_ok = b.measured("left_shoulder", "right_shoulder")
    hip = np.where(hip_ok[:, None], b.mid("left_hip", "right_hip"), np.nan)
    sh = np.where(sh_ok[:, None], b.mid("left_shoulder", "right_shoulder"), np.nan)
    # one side is enough where the other is not measured (side views, occlusion)
    for s in ("left", "right"):
        one = b.measured(f"{s}_hip") & ~hip_ok
        hip[one] = b.p(f"{s}_hip")[one]
        one = b.measured(f"{s}_shoulder") & ~sh_ok
        sh[one] = b.p(f"{s}_shoulder")[one]
    d = np.linalg.norm(sh - hip, axis=-1)
    fin = np.isfinite(d)
    if fin.sum() < 2:
        return None
    L = float(np.percentile(d[fin], 90))
    if not L > 0:
        return None
    v = sh - hip
    trunk = np.degrees(np.arctan2(np.abs(v[:, 0]), -v[:, 1]))  # 0 upright, 90 horizontal, 180 upside down
    legs = np.full(t, np.nan)
    for joint, factor in (("ankle", 1.0), ("knee", 2.0)):
        ys = []
        for s in ("left", "right"):
            n = f"{s}_{joint}"
            if b.has(n):
                ys.append(np.where(b.measured(n), b.p(n)[:, 1], np.nan))
        if ys:
            y = np.fmax.reduce(ys) if len(ys) > 1 else ys[0]  # the lower point (larger y); NaN-safe
            est = factor * (y - hip[:, 1]) / L
            legs = np.where(np.isfinite(legs), legs, est)
    com = center_of_mass(seq, coords="image", min_coverage=0.8, person=person).position[:, person, 1]
    mid = 0.5 * (hip + sh)
    seen = np.zeros(t, bool)
    for s in ("left", "right"):
        seen |= b.ok(f"{s}_hip", f"{s}_shoulder")
    return {"L": np.asarray(L), "hip_y": hip[:, 1], "com_y": com, "trunk_deg": trunk, "legs": legs, "mid": mid,
            "trunk_seen": seen}  # fmt: skip


def _descent_speed(time: np.ndarray, y: np.ndarray, t0: float, t1: float, dt: float = 0.2) -> float:
    """Fastest downward image speed (px/s, y down) over pairs of measured samples about ``dt`` apart
    within ``[t0, t1]``; NaN when no such pair exists."""
    sel = np.flatnonzero((time >= t0) & (time <= t1) & np.isfinite(y))
    if sel.size < 2:
        return float("nan")
    ts, ys = time[sel], y[sel]
    best = -np.inf
    for a in range(len(ts)):
        b = np.searchsorted(ts, ts[a] + dt - 1e-9)
        # the first sample at least dt later, if it is not much later (gaps)
        if b < len(ts) and ts[b] - ts[a] <= 1.75 * dt:
            best = max(best, (ys[b] - ys[a]) / (ts[b] - ts[a]))
    return float(best) if np.isfinite(best) else float("nan")


def _sat(x: float, lo: float, hi: float) -> float:
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0)) if np.isfinite(x) else 0.0


def detect_falls(seq: PoseSequence, config: FallConfig | None = None) -> FallResult:
    """Find falls of every individual (see the module docstring for the rules).

    Args:
        seq: the poses (a fixed camera; run a tracker first so each person is one individual).
        config: thresholds.

    Returns:
        A :class:`FallResult`; an empty video gives no events and a message, never an error.
    """
    cfg = config or FallConfig()
    events: list[FallEvent] = []
    msgs: list[str] = []
    signals: dict[int, dict[str, np.ndarray]] = {}
    if len(seq) == 0 or seq.num_individuals == 0 or not seq.present.any():
        return FallResult([], ["nobody was found in the video"], {})
    time = seq.time
    analysed = 0
    for i in range(seq.num_individuals):
        if seq.present[:, i].any(-1).sum() < cfg.min_frames:
            continue
        sig = fall_signals(seq, i)
        if sig is None:
            continue
        analysed += 1
        tid = int(seq.track_id[i])
        signals[tid] = sig
        L = float(sig["L"])
        trunk, legs, hip_y, com_y, mid = sig["trunk_deg"], sig["legs"], sig["hip_y"], sig["com_y"], sig["mid"]
        seen = sig["trunk_seen"]
        with np.errstate(invalid="ignore"):
            upright = (trunk <= cfg.upright_trunk_deg) & (legs >= cfg.upright_legs)
            down = ((legs < cfg.down_legs) & (trunk >= cfg.down_trunk_deg)) | (legs < cfg.floor_legs)
        measured = np.isfinite(trunk) & np.isfinite(legs)
        k = 0
        last_event_t = -np.inf
        while k < len(seq):
            if not (down[k] and measured[k]) or time[k] - last_event_t < cfg.still_s:
                k += 1
                continue
            # latest upright frame before k within max_fall_s
            look = np.flatnonzero(upright[:k] & (time[:k] >= time[k] - cfg.max_fall_s))
            if look.size == 0:
                k += 1
                continue
            j0 = int(look[-1])
            # standing level: upright frames in the second before the last upright one
            ref = upright & (time >= time[j0] - 1.0) & (time <= time[j0])
            hip0 = float(np.median(hip_y[ref])) if np.isfinite(hip_y[ref]).all() else float(hip_y[j0])
            c_ref = com_y[ref][np.isfinite(com_y[ref])]
            com0 = float(np.median(c_ref)) if c_ref.size else np.nan
            found = None
            ended = False
            starts = (time >= time[k] + cfg.settle_s) & (time <= time[k] + cfg.settle_s + cfg.max_settle_s)
            for w in np.flatnonzero(starts):
                t1 = time[w]
                after = (time >= t1) & (time <= t1 + cfg.still_s)
                span = float(time[after][-1] - t1) if after.any() else 0.0
                if span < min(cfg.min_after_s, cfg.still_s):
                    ended = found is None
                    break
                m_after = after & measured
                pos = mid[after & np.isfinite(mid).all(-1)]
                if m_after.sum() < 2 or len(pos) < 2:
                    continue
                stay = float(down[m_after].mean())
                spread = float(np.hypot(*(np.percentile(pos, 90, axis=0) - np.percentile(pos, 10, axis=0)))) / L
                if stay >= cfg.stay_down and spread <= cfg.still_spread and (found is None or spread < found[0]):
                    hy = hip_y[after][np.isfinite(hip_y[after])]
                    cy = com_y[after][np.isfinite(com_y[after])]
                    drop = (float(np.median(hy)) - hip0) / L if hy.size else np.nan
                    cdrop = (float(np.median(cy)) - com0) / L if cy.size and np.isfinite(com0) else np.nan
                    found = (spread, float(np.median(trunk[m_after])), drop, cdrop)
            if found is None:
                if ended:
                    msgs.append(f"possible fall of person {tid} at {time[k]:.1f} s not confirmed: the video ends")
                    break
                k += 1
                continue
            spread, trunk_after, drop, cdrop = found
            eff = min(drop, cdrop) if np.isfinite(cdrop) else drop
            speed = _descent_speed(time, hip_y, time[j0] - 0.5, time[k] + cfg.settle_s) / L
            # when the trunk turned: the earliest time the data allow — the last frame before the first
            # turned one where the trunk was *seen* upright (a tracking gap or a low-visibility guess
            # mid-fall may hide the turn itself)
            turned = np.flatnonzero((trunk >= cfg.down_trunk_deg) & (time > time[j0]))
            turn_s = np.inf
            if turned.size:
                before = np.flatnonzero(seen[: turned[0]] & (trunk[: turned[0]] < cfg.down_trunk_deg))
                turn_s = float(time[before[-1] if before.size else turned[0]] - time[j0])
            if not (np.isfinite(eff) and eff >= cfg.min_drop and speed >= cfg.min_speed
                    and turn_s <= cfg.max_fall_s + cfg.settle_s):  # fmt: skip
                k += 1
                continue
            dur = float(time[k] - time[j0])
            conf = (
                0.3 * _sat(eff, cfg.min_drop, 2 * cfg.min_drop + 0.5)
                + 0.2 * _sat(speed, cfg.min_speed, 2 * cfg.min_speed)
                + 0.25 * _sat(trunk_after, cfg.down_trunk_deg - 20, 85.0)
                + 0.25 * _sat(cfg.still_spread - spread, 0.0, cfg.still_spread * 0.8)
            )
            events.append(FallEvent(float(time[k]), float(time[j0]), int(seq.frame[k]), tid, i, float(conf),
                                    float(eff), dur, float(speed), trunk_after, spread))  # fmt: skip
            last_event_t = float(time[k])
            k += 1
    if analysed == 0:
        msgs.append("no person had measured hips and shoulders: falls cannot be judged")
    events.sort(key=lambda e: e.time)
    return FallResult(events, msgs, signals)
