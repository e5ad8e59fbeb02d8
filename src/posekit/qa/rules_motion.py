"""Rules over time (sequences only): bone-length stability, continuity, left/right swaps, bend flips.

Time comes from the sequence's timestamps (seconds), so a variable frame rate is handled; speeds and
accelerations are in torso units per second (per second²) using each track's median body scale, so one
bad frame cannot change the yardstick. Everything is computed on whole ``(T, I, K)`` arrays.
"""

from __future__ import annotations

import numpy as np

from .data import QAData
from .findings import Finding, Severity
from .geometry import MIN_SCALE_BONES, bone_table, cross2, flexion_deg, nanmedian_axis0, segment_lengths
from .rules import Param, Rule, register_rule
from .rules_body import _segment_ok, frame_scale, steady_scale

__all__ = ["BoneStability", "Speed", "Acceleration", "TemporalSwap", "BendFlip"]


def _nms_time(v: np.ndarray) -> np.ndarray:
    """True where ``v (T, …)`` is a local maximum along time (ties: the earlier one); NaN is -inf."""
    a = np.where(np.isfinite(v), v, -np.inf)
    prev = np.concatenate([np.full_like(a[:1], -np.inf), a[:-1]], 0)
    nxt = np.concatenate([a[1:], np.full_like(a[:1], -np.inf)], 0)
    return (a > prev) & (a >= nxt)


def _group_keypoints(data: QAData, mask: np.ndarray, value: np.ndarray) -> list[tuple[int, int, list[str], float]]:
    """``mask``/``value`` ``(T, I, K)`` → per flagged ``(t, i)``: the keypoints and the largest value."""
    names = data.skeleton.keypoints
    cells = np.argwhere(mask.any(-1))
    out = []
    for t, i in cells:
        ks = np.flatnonzero(mask[t, i])
        out.append((int(t), int(i), [names[k] for k in ks], float(np.nanmax(value[t, i, ks]))))
    return out


def _nanquantile0(a: np.ndarray, q: float) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(a, q, axis=0)


@register_rule
class BoneStability(Rule):
    """A bone whose length departs from the rest of its track."""

    id = "bone_length.stability"
    description = (
        "A bone whose length is an outlier over its track by robust z-score (median and median absolute deviation). "
        "With 3D world coordinates both longer and shorter count; in 2D, where turning a bone away from the camera "
        "shortens it legitimately, only a bone longer than the track's long end (its 90th percentile, relative to "
        "the body's scale in each frame) by a material fraction."
    )
    severity = Severity.WARNING
    temporal = True
    parameters = (
        Param("max_z", 5.0, "robust z",
              "Five robust standard deviations: Gaussian noise gives that once in 3.5 million samples, while a "
              "track's real 2D length changes widen the spread instead of producing isolated outliers."),
        Param("min_change", 0.3, "fraction",
              "2D: the bone must also be 30% longer than the track's 90th percentile (its nearly unforeshortened "
              "length). 3D: 30% off the median; smaller departures are within estimation noise."),
        Param("spread_floor", 0.03, "fraction",
              "Lower bound of the spread (as a fraction of the median) so that a perfectly steady track does not turn "
              "a 1-pixel change into a huge z-score."),
        Param("min_frames", 5, "frames", "A track needs this many measurements of a bone to judge it."),
    )  # fmt: skip

    def applies(self, data: QAData) -> str | None:
        why = super().applies(data)
        if why is None and len(bone_table(data.skeleton)[0]) < MIN_SCALE_BONES:
            return f"skeleton {data.skeleton.name!r} has fewer than {MIN_SCALE_BONES} limb/torso bones"
        return why

    def check(self, data: QAData) -> list[Finding]:
        pairs, typ, names = bone_table(data.skeleton)
        three_d = data.world is not None and np.isfinite(data.world).all(-1).any()
        if three_d:
            assert data.world is not None
            n = segment_lengths(data.world, pairs)  # metres: constant for a real body
        else:
            s = frame_scale(data)
            with np.errstate(invalid="ignore", divide="ignore"):
                n = segment_lengths(data.xy, pairs) / (typ * s[..., None])  # typical lengths of this body
        enough = np.isfinite(n).sum(0) >= self.p("min_frames")  # (I, B)
        med = nanmedian_axis0(n)
        spread = np.fmax(1.4826 * nanmedian_axis0(np.abs(n - med[None])), self.p("spread_floor") * med)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (n - med[None]) / spread[None]
            if three_d:
                ref = med
                change = np.abs(n / med[None] - 1.0)
                out_z = np.abs(z) > self.p("max_z")
            else:
                ref = _nanquantile0(n, 0.9)
                change = n / ref[None] - 1.0
                out_z = z > self.p("max_z")
            bad = enough[None] & out_z & (change > self.p("min_change")) & data.checked[..., None]
        thr = self.p("max_z")
        out = []
        for t, i, b in np.argwhere(bad):
            a, c = names[b]
            zz, ch = float(z[t, i, b]), float(n[t, i, b] / ref[i, b])
            what = "median" if three_d else "usual long end (90th percentile)"
            out.append(self.finding(
                data, int(t), int(i),
                f"{data.label(t, i)}: bone {a}–{c} is {ch:.2f}x its {what} in this track "
                f"(robust z {zz:+.1f}, limit {thr:g})",
                keypoints=(a, c), value=zz, threshold=thr, unit="robust z",
            ))  # fmt: skip
        return out


def _dt(data: QAData) -> np.ndarray:
    assert data.time is not None
    dt = np.diff(data.time)
    return np.where(dt > 0, dt, np.nan)


@register_rule
class Speed(Rule):
    """A keypoint moving faster than a body can."""

    id = "continuity.speed"
    description = (
        "A keypoint that moves between consecutive frames faster than body parts move, in torso lengths per "
        "second (frame rate from the timestamps): a jump, a swap with another person or a lost track."
    )
    severity = Severity.WARNING
    temporal = True
    parameters = (
        Param("max_speed", 25.0, "torso/s",
              "About 12 m/s for a 0.5 m torso: faster than a boxer's punch or a pitcher's wrist over one frame; "
              "99.99% of the frame-to-frame moves of Penn Action keypoints (jump rope, clean and jerk, ...) stay "
              "below 22 torso/s."),
        Param("max_gap", 0.25, "s", "Consecutive measurements further apart than this are not compared."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        dt = _dt(data)
        if not len(dt):
            return []
        s = steady_scale(data)
        d = data.xy[1:] - data.xy[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            speed = np.sqrt(np.sum(d * d, -1)) / dt[:, None, None] / s[1:, :, None]
            speed = np.where((dt <= self.p("max_gap"))[:, None, None], speed, np.nan)
        speed = np.concatenate([np.full_like(speed[:1], np.nan), speed], 0)  # at the later frame
        bad = (speed > self.p("max_speed")) & _nms_time(speed) & data.checked[..., None]
        thr = self.p("max_speed")
        return [
            self.finding(
                data, t, i,
                f"{data.label(t, i)}: {', '.join(ks)} moved at {v:.1f} torso/s since the previous frame "
                f"(limit {thr:g}): a jump or a wrong identity",
                keypoints=ks, value=v, threshold=thr, unit="torso/s",
            )
            for t, i, ks, v in _group_keypoints(data, bad, speed)
        ]  # fmt: skip


@register_rule
class Acceleration(Rule):
    """A keypoint that jerks away and back: an acceleration no body produces."""

    id = "continuity.acceleration"
    description = (
        "A keypoint whose acceleration (second difference over the previous and next frames, time-aware) exceeds "
        "what limbs do, in torso lengths per second squared: typically a one-frame jump."
    )
    severity = Severity.WARNING
    temporal = True
    parameters = (
        Param("max_accel", 450.0, "torso/s^2",
              "About 230 m/s^2 for a 0.5 m torso: hand accelerations of fast strikes reach 100-200 m/s^2. At 30 fps "
              "a keypoint displaced for one frame by a quarter torso exceeds it, while 99.9% of the Penn Action "
              "keypoint accelerations stay below 350 torso/s^2."),
        Param("max_gap", 0.25, "s", "Neighbouring measurements further apart than this are not compared."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        dt = _dt(data)
        if len(dt) < 2:
            return []
        s = steady_scale(data)
        x = data.xy
        d1, d2 = dt[:-1, None, None, None], dt[1:, None, None, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            v1 = (x[1:-1] - x[:-2]) / d1
            v2 = (x[2:] - x[1:-1]) / d2
            acc = 2.0 * (v2 - v1) / (d1 + d2)
            mag = np.sqrt(np.sum(acc * acc, -1)) / s[1:-1, :, None]
            ok = (dt[:-1] <= self.p("max_gap")) & (dt[1:] <= self.p("max_gap"))
            mag = np.where(ok[:, None, None], mag, np.nan)
        pad = np.full_like(mag[:1], np.nan)
        mag = np.concatenate([pad, mag, pad], 0)
        bad = (mag > self.p("max_accel")) & _nms_time(mag) & data.checked[..., None]
        thr = self.p("max_accel")
        return [
            self.finding(
                data, t, i,
                f"{data.label(t, i)}: {', '.join(ks)} accelerated at {v:.0f} torso/s^2 (limit {thr:g}): "
                "likely a one-frame jump",
                keypoints=ks, value=v, threshold=thr, unit="torso/s^2",
            )
            for t, i, ks, v in _group_keypoints(data, bad, mag)
        ]  # fmt: skip


_GROUPS = {
    "arm": ("shoulder", "elbow", "wrist", "pinky", "index", "thumb"),
    "leg": ("hip", "knee", "ankle", "heel", "foot_index"),
    "face": ("eye_inner", "eye", "eye_outer", "ear", "mouth"),
}


def _swap_groups(data: QAData) -> dict[str, list[tuple[int, int]]]:
    sk = data.skeleton
    out: dict[str, list[tuple[int, int]]] = {}
    for a, b in sk.flip_pairs:
        na, nb = sk.keypoints[a], sk.keypoints[b]
        if na.startswith("right_"):
            a, b, na, nb = b, a, nb, na
        part = na.split("_", 1)[1] if "_" in na else na
        if na == "mouth_left":
            part = "mouth"
        for g, parts in _GROUPS.items():
            if part in parts:
                out.setdefault(g, []).append((a, b))
    return out


@register_rule
class TemporalSwap(Rule):
    """Left and right of a limb exchanged between two frames."""

    id = "left_right.temporal"
    description = (
        "Between two consecutive frames a limb's left and right keypoints fit the previous frame much better "
        "exchanged than as labelled: a left/right swap starting or ending there."
    )
    severity = Severity.WARNING
    temporal = True
    parameters = (
        Param("min_gain", 0.5, "torso",
              "The exchanged labelling must be shorter by half a torso in total movement, far above "
              "frame-to-frame motion of the same limb at 30 fps (about 0.1 torso)."),
        Param("max_ratio", 0.5, "fraction",
              "...and at most half as long as the labelled movement, so fast but consistent motion is not flagged."),
        Param("max_gap", 0.25, "s", "Frames further apart than this are not compared."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        dt = _dt(data)
        if not len(dt):
            return []
        s = steady_scale(data)[1:]
        x = data.xy
        names = data.skeleton.keypoints
        out = []
        for g, pairs in sorted(_swap_groups(data).items()):
            a = np.array([p[0] for p in pairs])
            b = np.array([p[1] for p in pairs])
            pa, pb = x[:, :, a], x[:, :, b]

            def dist(u: np.ndarray, v: np.ndarray) -> np.ndarray:
                return np.sqrt(np.sum((u - v) ** 2, -1))

            same = dist(pa[1:], pa[:-1]) + dist(pb[1:], pb[:-1])  # (T-1, I, P)
            swap = dist(pa[1:], pb[:-1]) + dist(pb[1:], pa[:-1])
            ok = np.isfinite(same) & np.isfinite(swap)
            same_t = np.where(ok, same, 0.0).sum(-1)
            swap_t = np.where(ok, swap, 0.0).sum(-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                gain = (same_t - swap_t) / s
                bad = (ok.any(-1) & (gain > self.p("min_gain")) & (swap_t < self.p("max_ratio") * same_t)
                       & (dt <= self.p("max_gap"))[:, None])  # fmt: skip
            bad &= data.checked[1:] & data.checked[:-1]
            kp = tuple(names[k] for p in pairs for k in p)
            for t, i in np.argwhere(bad):
                v = float(gain[t, i])
                out.append(self.finding(
                    data, int(t) + 1, int(i),
                    f"{data.label(int(t) + 1, int(i))}: the {g}s' left and right fit the previous frame better "
                    f"exchanged (by {v:.2f} torso): left/right swap",
                    keypoints=kp, value=v, threshold=self.p("min_gain"), unit="torso",
                ))  # fmt: skip
        return out


@register_rule
class BendFlip(Rule):
    """A knee or elbow whose bend reverses between neighbouring frames."""

    id = "bend.flip"
    description = (
        "A knee or elbow that is clearly bent in two consecutive frames but to opposite sides in the image: "
        "a real limb passes through straight first."
    )
    severity = Severity.WARNING
    temporal = True
    parameters = (
        Param("min_flexion", 30.0, "deg",
              "Both frames must show at least this 2D flexion: reversing from 30 to -30 degrees means a 60-degree "
              "change without passing through straight, which needs about 1800 deg/s at 30 fps."),
        Param("min_segment", 0.5, "x typical", "As for joint_limits.flexion: short projected segments give no bend."),
        Param("max_gap", 0.25, "s", "Frames further apart than this are not compared."),
    )  # fmt: skip

    def check(self, data: QAData) -> list[Finding]:
        dt = _dt(data)
        if not len(dt):
            return []
        s = frame_scale(data)
        out = []
        for ang in data.skeleton.angles:
            if not ang.name.endswith(("knee", "elbow")):
                continue
            p = data.xy[:, :, data.skeleton.index(ang.proximal)]
            v = data.xy[:, :, data.skeleton.index(ang.vertex)]
            d = data.xy[:, :, data.skeleton.index(ang.distal)]
            flex = flexion_deg(p, v, d)
            side = np.sign(cross2(v - p, d - v))
            mn = self.p("min_segment")
            with np.errstate(invalid="ignore"):
                good = (flex >= self.p("min_flexion")) & _segment_ok(data, ang.proximal, ang.vertex, mn, s) & _segment_ok(
                    data, ang.vertex, ang.distal, mn, s
                )
                bad = good[1:] & good[:-1] & (side[1:] * side[:-1] < 0) & (dt <= self.p("max_gap"))[:, None]
            names = (ang.proximal, ang.vertex, ang.distal)
            for t, i in np.argwhere(bad):
                t1 = int(t) + 1
                f0, f1 = float(flex[t, i]), float(flex[t1, i])
                out.append(self.finding(
                    data, t1, int(i),
                    f"{data.label(t1, int(i))}: {ang.name} bent {f0:.0f} degrees one way in the previous frame "
                    f"and {f1:.0f} degrees the other way now",
                    keypoints=names, value=min(f0, f1), threshold=self.p("min_flexion"), unit="deg",
                ))  # fmt: skip
        return out
