"""Synthetic BlazePose-33 motions with known answers, for tests, examples and benchmarks.

A stick figure is posed from sagittal-plane angles (forward kinematics) or, for walking, from known foot
trajectories (two-link inverse kinematics for the knees), in a world frame with X forward (the walking
direction), Y up and Z to the person's right, in metres. It is then seen by an orthographic camera:

* ``view="side"``: the camera stands on the person's right (right side nearest); image x = +X;
* ``view="front"``: the camera faces the person; image x = −Z (the person's left appears on the right).

``xy`` is pixels (``scale`` pixels per metre, y down); ``world`` follows MediaPipe's convention (metres,
origin at the hip midpoint, axes of the camera: x right, y down, z away from the camera). Every keypoint
is VISIBLE unless a generator says otherwise; ``noise_px`` adds seeded Gaussian pixel noise.

Segment lengths (m): thigh 0.45, shank 0.43, trunk (hip to shoulder midpoint) 0.50, upper arm 0.30,
forearm 0.27, hip width 0.25, shoulder width 0.38.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from posekit.poses import KeypointState, PoseSequence
from posekit.skeletons import BLAZEPOSE33

__all__ = [
    "Pose",
    "render",
    "squat_set",
    "walk",
    "fall",
    "sit_down",
    "lie_down",
    "pick_up",
    "plank",
    "jumping_jacks",
    "lunges",
    "THIGH",
    "SHANK",
    "TRUNK",
]

THIGH, SHANK, TRUNK = 0.45, 0.43, 0.50
UPPER_ARM, FOREARM = 0.30, 0.27
HIP_W, SHOULDER_W = 0.25, 0.38
ANKLE_H = 0.08  # ankle height above the sole (m)
_K = len(BLAZEPOSE33)
_I = {n: i for i, n in enumerate(BLAZEPOSE33.keypoints)}


def _d(a: np.ndarray | float) -> np.ndarray:
    """Unit direction at angle ``a`` (degrees) from straight down, forward positive (X, Y)."""
    r = np.radians(a)
    return np.array([np.sin(r), -np.cos(r)])


@dataclass
class Pose:
    """Sagittal-plane angles (degrees) and the pelvis position (metres) of one frame.

    ``thigh``/``shank``: segment angle from straight down, forward positive, per side ``(left, right)``;
    ``trunk``: lean from vertical, forward positive; ``arm``: upper-arm angle from straight down,
    forward positive; ``elbow``: elbow flexion; ``abduct``: arm abduction (frontal plane, outward);
    ``leg_abduct``: leg abduction (outward); ``pelvis``: (X, Y) of the hip midpoint; ``pitch``:
    whole-body rotation about ``pivot`` (forward positive, degrees).
    """

    pelvis: tuple[float, float]
    thigh: tuple[float, float] = (0.0, 0.0)
    shank: tuple[float, float] = (0.0, 0.0)
    trunk: float = 0.0
    arm: tuple[float, float] = (0.0, 0.0)
    elbow: tuple[float, float] = (10.0, 10.0)
    abduct: tuple[float, float] = (5.0, 5.0)
    leg_abduct: tuple[float, float] = (0.0, 0.0)
    foot: tuple[float, float] = (0.0, 0.0)
    pitch: float = 0.0
    pivot: tuple[float, float] = (0.0, 0.0)


def _figure(p: Pose) -> np.ndarray:
    """World keypoints ``(33, 3)`` (X forward, Y up, Z right) of one pose."""
    out = np.zeros((_K, 3))
    px, py = p.pelvis
    pel = np.array([px, py])
    up = np.array([np.sin(np.radians(p.trunk)), np.cos(np.radians(p.trunk))])
    fwd = np.array([np.cos(np.radians(p.trunk)), -np.sin(np.radians(p.trunk))])

    def put(name: str, xy: np.ndarray, z: float) -> None:
        out[_I[name]] = (xy[0], xy[1], z)

    for k, side in enumerate(("left", "right")):
        sz = -1.0 if side == "left" else 1.0
        ab = np.radians(p.leg_abduct[k])
        hz = sz * HIP_W / 2
        put(f"{side}_hip", pel, hz)
        th = _d(p.thigh[k])
        knee = pel + THIGH * th * np.cos(ab)
        kz = hz + sz * THIGH * np.sin(ab)
        put(f"{side}_knee", knee, kz)
        ankle = knee + SHANK * _d(p.shank[k]) * np.cos(ab)
        az = kz + sz * SHANK * np.sin(ab)
        put(f"{side}_ankle", ankle, az)
        fr = np.radians(p.foot[k])
        rot = np.array([[np.cos(fr), -np.sin(fr)], [np.sin(fr), np.cos(fr)]])
        put(f"{side}_heel", ankle + rot @ np.array([-0.05, -ANKLE_H + 0.01]), az)
        put(f"{side}_foot_index", ankle + rot @ np.array([0.15, -ANKLE_H + 0.01]), az)
        # arms
        sh = pel + TRUNK * up
        shz = sz * SHOULDER_W / 2
        put(f"{side}_shoulder", sh, shz)
        a = np.radians(p.arm[k])
        g = np.radians(p.abduct[k])
        # upper-arm direction in the trunk's frame: sagittal angle a from "down the trunk", abduction g
        down_t = -up
        ua = (np.sin(a) * fwd + np.cos(a) * down_t) * np.cos(g)
        uaz = sz * np.sin(g)
        elbow = sh + UPPER_ARM * ua
        ez = shz + UPPER_ARM * uaz
        put(f"{side}_elbow", elbow, ez)
        b = np.radians(p.arm[k] + p.elbow[k])
        fa = (np.sin(b) * fwd + np.cos(b) * down_t) * np.cos(g)
        wrist = elbow + FOREARM * fa
        wz = ez + FOREARM * uaz
        put(f"{side}_wrist", wrist, wz)
        for name, off, dz in (("index", 0.09, -0.02), ("pinky", 0.08, 0.02), ("thumb", 0.05, -0.03)):
            put(f"{side}_{name}", wrist + off * fa, wz + sz * dz)
        # face
        neck = pel + (TRUNK + 0.10) * up
        put(f"{side}_ear", neck + 0.10 * up, sz * 0.075)
        put(f"{side}_eye", neck + 0.14 * up + 0.08 * fwd, sz * 0.035)
        put(f"{side}_eye_inner", neck + 0.14 * up + 0.085 * fwd, sz * 0.018)
        put(f"{side}_eye_outer", neck + 0.14 * up + 0.075 * fwd, sz * 0.05)
        put(f"mouth_{side}", neck + 0.05 * up + 0.085 * fwd, sz * 0.025)
    put("nose", pel + (TRUNK + 0.21) * up + 0.10 * fwd, 0.0)
    if p.pitch:
        r = np.radians(p.pitch)
        # forward pitch turns +Y toward +X: rotation about Z by -pitch
        rot = np.array([[np.cos(r), np.sin(r)], [-np.sin(r), np.cos(r)]])
        piv = np.asarray(p.pivot)
        out[:, :2] = (out[:, :2] - piv) @ rot.T + piv
    return out


def render(
    world: np.ndarray,
    *,
    fps: float = 30.0,
    view: str = "side",
    scale: float = 300.0,
    origin: tuple[float, float] = (320.0, 420.0),
    image_size: tuple[int, int] = (640, 480),
    noise_px: float = 0.0,
    seed: int = 0,
    state: np.ndarray | None = None,
) -> PoseSequence:
    """A one-person :class:`PoseSequence` from world keypoints ``(T, 33, 3)`` (X fwd, Y up, Z right, m).

    Args:
        world: the figure over time.
        fps: frame rate (time = frame / fps).
        view: ``"side"`` or ``"front"`` (see the module docstring).
        scale: pixels per metre.
        origin: image position (px) of the world origin (X = Y = Z = 0).
        image_size: (width, height) px.
        noise_px: standard deviation of Gaussian pixel noise.
        seed: noise seed.
        state: ``(T, 33)`` keypoint states (default all VISIBLE); MISSING ones get NaN coordinates.
    """
    t = world.shape[0]
    if view == "side":
        xy = np.stack([origin[0] + scale * world[..., 0], origin[1] - scale * world[..., 1]], -1)
        mp = np.stack([world[..., 0], -world[..., 1], -world[..., 2]], -1)
    elif view == "front":
        xy = np.stack([origin[0] - scale * world[..., 2], origin[1] - scale * world[..., 1]], -1)
        mp = np.stack([-world[..., 2], -world[..., 1], -world[..., 0]], -1)
    else:
        raise ValueError(f"view must be 'side' or 'front', got {view!r}")
    if noise_px:
        xy = xy + np.random.default_rng(seed).normal(0.0, noise_px, xy.shape)
    hips = 0.5 * (mp[:, _I["left_hip"]] + mp[:, _I["right_hip"]])
    mp = mp - hips[:, None, :]
    st = np.full((t, _K), KeypointState.VISIBLE, np.uint8) if state is None else np.asarray(state, np.uint8)
    miss = st == KeypointState.MISSING
    xy = np.where(miss[..., None], np.nan, xy)
    mp = np.where(miss[..., None], np.nan, mp)
    score = np.where(miss, 0.0, np.where(st == KeypointState.VISIBLE, 0.95, 0.3)).astype(np.float32)
    return PoseSequence(
        BLAZEPOSE33, xy[:, None], score[:, None], st[:, None], np.arange(t) / fps, world=mp[:, None],
        image_size=image_size, fps=fps, source="synthetic",
    )  # fmt: skip


def _smoothstep(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return s * s * (3 - 2 * s)


def _squat_pose(thigh: float) -> Pose:
    """A squat pose with the thighs at ``thigh`` degrees from vertical, feet fixed at X = 0."""
    shank = -0.35 * thigh  # the shank tilts forward (knees ahead of the toes' line in the side view)
    trunk = 0.45 * thigh
    knee = np.array([0.0, ANKLE_H]) - SHANK * _d(shank)
    pelvis = knee - THIGH * _d(thigh)
    # the arms reach forward as a counterweight
    return Pose((float(pelvis[0]), float(pelvis[1])), (thigh, thigh), (shank, shank), trunk,
                arm=(min(90.0, thigh), min(90.0, thigh)))  # fmt: skip


def squat_set(
    depths: list[float] | None = None,
    *,
    rep_s: float = 2.0,
    rest_s: float = 0.6,
    fps: float = 30.0,
    view: str = "side",
    valgus_deg: dict[int, float] | None = None,
    noise_px: float = 0.5,
    seed: int = 0,
) -> tuple[PoseSequence, list[tuple[float, float, float]]]:
    """A set of squats: each entry of ``depths`` is the peak thigh angle from vertical (degrees).

    Default: seven full squats (thighs 100° — below parallel) with a shallow 45° half rep after the
    fourth, which must not count. ``valgus_deg`` maps a 0-based rep index to an inward knee movement
    (degrees, frontal plane) at the bottom of that rep.

    Returns:
        ``(sequence, reps)`` with ``reps`` a list of ``(start, bottom, end)`` seconds for every entry.
    """
    depths = depths if depths is not None else [100, 100, 100, 100, 45, 100, 100, 100]
    valgus_deg = valgus_deg or {}
    n_rep = int(round(rep_s * fps))
    n_rest = int(round(rest_s * fps))
    frames: list[np.ndarray] = []
    reps = []
    t = 0
    frames += [_figure(_squat_pose(0.0))] * n_rest
    t += n_rest
    for r, depth in enumerate(depths):
        start = t / fps
        for k in range(n_rep):
            s = np.sin(np.pi * k / n_rep) ** 2
            f = _figure(_squat_pose(depth * s))
            v = valgus_deg.get(r, 0.0) * s
            if v:
                # knees move toward the midline (Z toward 0), about the hip–ankle line
                for side, sz in (("left", -1.0), ("right", 1.0)):
                    f[_I[f"{side}_knee"], 2] -= sz * np.tan(np.radians(v)) * THIGH
            frames.append(f)
        t += n_rep
        reps.append((start, start + rep_s / 2, t / fps))
        frames += [_figure(_squat_pose(0.0))] * n_rest
        t += n_rest
    world = np.stack(frames)
    return render(world, fps=fps, view=view, noise_px=noise_px, seed=seed), reps


def _min_jerk(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def _place_leg(f: np.ndarray, side: str, pel: np.ndarray, ankle: np.ndarray) -> None:
    """Put one leg of figure ``f`` (in place) from the pelvis to ``ankle`` by two-link IK, knee forward."""
    d = ankle - pel
    dist = min(float(np.linalg.norm(d)), THIGH + SHANK - 1e-6)
    a = np.arctan2(d[1], d[0])
    cos_h = (THIGH**2 + dist**2 - SHANK**2) / (2 * THIGH * dist)
    h = np.arccos(np.clip(cos_h, -1, 1))
    knee = pel + THIGH * np.array([np.cos(a + h), np.sin(a + h)])
    z = (-1.0 if side == "left" else 1.0) * HIP_W / 2
    f[_I[f"{side}_knee"]] = (*knee, z)
    f[_I[f"{side}_ankle"]] = (*ankle, z)
    f[_I[f"{side}_heel"]] = (ankle[0] - 0.05, ankle[1] - ANKLE_H + 0.01, z)
    f[_I[f"{side}_foot_index"]] = (ankle[0] + 0.15, ankle[1] - ANKLE_H + 0.01, z)


def lunges(reps: int = 6, *, rep_s: float = 2.0, rest_s: float = 0.5, fps: float = 30.0, depth: float = 0.4,
           noise_px: float = 0.5, seed: int = 0) -> PoseSequence:  # fmt: skip
    """Static lunges seen from the side, alternating the front leg: the pelvis drops ``depth`` metres
    from the split stance (feet 0.8 m apart) and rises again, ``reps`` times."""
    stance = 0.4
    h0 = float(np.sqrt((THIGH + SHANK - 0.02) ** 2 - stance**2)) + ANKLE_H

    def frame(drop: float, front: str) -> np.ndarray:
        pel = np.array([0.0, h0 - drop])
        f = _figure(Pose((0.0, float(pel[1]))))
        back = "right" if front == "left" else "left"
        _place_leg(f, front, pel, np.array([stance, ANKLE_H]))
        _place_leg(f, back, pel, np.array([-stance, ANKLE_H]))
        return f

    frames = []
    n_rep, n_rest = int(round(rep_s * fps)), int(round(rest_s * fps))
    for r in range(reps):
        front = "left" if r % 2 == 0 else "right"
        frames += [frame(0.0, front)] * n_rest
        frames += [frame(depth * np.sin(np.pi * k / n_rep) ** 2, front) for k in range(n_rep)]
    frames += [frame(0.0, "right")] * n_rest
    return render(np.stack(frames), fps=fps, view="side", noise_px=noise_px, seed=seed, scale=250.0,
                  origin=(320.0, 440.0))  # fmt: skip


def walk(
    *,
    strides: int = 6,
    stride_s: float = 1.1,
    stance: float = 0.6,
    speed: float = 1.2,
    fps: float = 30.0,
    view: str = "side",
    right_delay: float | None = None,
    noise_px: float = 0.3,
    seed: int = 0,
) -> tuple[PoseSequence, dict[str, dict[str, list[float]]]]:
    """Level walking along +X with known events.

    Each foot is flat on the ground during stance (``stance`` of the stride) and swings forward with a
    minimum-jerk profile and a 6 cm lift; the knees follow by inverse kinematics; the pelvis moves at
    ``speed``. The right foot lags the left by ``right_delay`` strides (default 0.5: symmetric gait).

    Returns:
        ``(sequence, events)`` with ``events[side]["heel_strike" | "toe_off"]`` in seconds.
    """
    rd = 0.5 if right_delay is None else right_delay
    total = (strides + 1) * stride_s
    n = int(round(total * fps))
    time = np.arange(n) / fps
    stride_len = speed * stride_s
    pelvis_h = 0.92 * (THIGH + SHANK) + ANKLE_H
    frames = np.zeros((n, _K, 3))
    events: dict[str, dict[str, list[float]]] = {}
    feet: dict[str, np.ndarray] = {}
    for side, delay in (("left", 0.0), ("right", rd)):
        hs_times = [(k + delay) * stride_s for k in range(-1, strides + 2)]
        x = np.zeros(n)
        lift = np.zeros(n)
        ev = {"heel_strike": [], "toe_off": []}
        for k, t0 in enumerate(hs_times[:-1]):
            t_to = t0 + stance * stride_s
            t_next = hs_times[k + 1]
            x0 = speed * t0 + 0.1  # the foot lands slightly ahead of the pelvis
            x1 = x0 + stride_len
            st = (time >= t0) & (time < t_to)
            x[st] = x0
            sw = (time >= t_to) & (time < t_next)
            s = (time[sw] - t_to) / (t_next - t_to)
            x[sw] = x0 + (x1 - x0) * _min_jerk(s)
            lift[sw] = 0.06 * np.sin(np.pi * s) ** 2
            if 0 <= t0 < total:
                ev["heel_strike"].append(t0)
            if 0 <= t_to < total:
                ev["toe_off"].append(t_to)
        events[side] = ev
        feet[side] = np.stack([x, lift], -1)
    for i, t in enumerate(time):
        pel = np.array([speed * t, pelvis_h])
        arm_swing = 20 * np.sin(2 * np.pi * t / stride_s)
        p = Pose((pel[0], pel[1]), arm=(arm_swing, -arm_swing), elbow=(20.0, 20.0))
        f = _figure(p)
        for side in ("left", "right"):
            fx, fl = feet[side][i]
            _place_leg(f, side, pel, np.array([fx, ANKLE_H + fl]))
        frames[i] = f
    return render(frames, fps=fps, view=view, origin=(40.0, 420.0), scale=120.0, image_size=(1280, 480),
                  noise_px=noise_px, seed=seed), events  # fmt: skip


def _stand() -> Pose:
    return Pose((0.0, THIGH + SHANK + ANKLE_H))


def _timeline(parts: list[tuple[float, Callable[[float], Pose]]], fps: float) -> np.ndarray:
    """Concatenate ``(seconds, f(s) -> Pose)`` pieces, ``s`` running 0..1 over each piece."""
    frames = []
    for dur, fn in parts:
        n = max(1, int(round(dur * fps)))
        for k in range(n):
            frames.append(_figure(fn(k / max(1, n - 1))))
    return np.stack(frames)


def fall(*, fps: float = 30.0, fall_s: float = 0.6, view: str = "side", controlled: bool = False,
         noise_px: float = 0.5, seed: int = 0) -> tuple[PoseSequence, float]:  # fmt: skip
    """Standing 1.5 s, falling forward like a plank about the feet in ``fall_s``, lying still 3 s.

    ``controlled=True`` lowers the body with a smooth start and stop instead of accelerating into the
    floor (a deliberate lowering when ``fall_s`` is long).

    Returns:
        ``(sequence, impact_time_s)``.
    """
    stand = _stand()
    piv = (0.0, 0.0)

    def falling(s: float) -> Pose:
        a = 90.0 * (float(_smoothstep(np.asarray(s))) if controlled else s * s)
        return Pose(stand.pelvis, pitch=a, pivot=piv, arm=(40 * s, 40 * s))

    world = _timeline([(1.5, lambda s: stand), (fall_s, falling), (3.0, lambda s: falling(1.0))], fps)
    # lift everything so nothing sinks below the floor after the rotation
    world[..., 1] = np.maximum(world[..., 1], 0.0)
    return render(world, fps=fps, view=view, noise_px=noise_px, seed=seed, scale=150.0,
                  origin=(200.0, 440.0)), 1.5 + fall_s  # fmt: skip


def _from_ankles(thigh: float, shank: float, **kw: float) -> Pose:
    """A symmetric pose whose ankles stay at X = 0 on the floor (pelvis found by forward kinematics)."""
    knee = np.array([0.0, ANKLE_H]) - SHANK * _d(shank)
    pelvis = knee - THIGH * _d(thigh)
    return Pose((float(pelvis[0]), float(pelvis[1])), (thigh, thigh), (shank, shank), **kw)


def sit_down(*, fps: float = 30.0, sit_s: float = 1.2, view: str = "side", noise_px: float = 0.5, seed: int = 0
             ) -> PoseSequence:  # fmt: skip
    """Standing 1.5 s, sitting down on a chair (knee height) in ``sit_s``, sitting still 3 s."""

    def sitting(s: float) -> Pose:
        e = _smoothstep(s)
        return _from_ankles(90.0 * e, -10.0 * np.sin(np.pi * e), trunk=25.0 * np.sin(np.pi * e))

    world = _timeline([(1.5, lambda s: _stand()), (sit_s, sitting), (3.0, lambda s: sitting(1.0))], fps)
    return render(world, fps=fps, view=view, noise_px=noise_px, seed=seed, scale=250.0, origin=(300.0, 440.0))


def lie_down(*, fps: float = 30.0, view: str = "side", noise_px: float = 0.5, seed: int = 0) -> PoseSequence:
    """Lying down on purpose: squat down to sit on the floor (2.5 s), stretch the legs out (1 s), lie back
    (2 s), lie still (3 s)."""

    def down(s: float) -> Pose:
        e = _smoothstep(s)
        return _from_ankles(130.0 * e, -40.0 * e, trunk=30.0 * e, arm=(40.0 * e, 40.0 * e))

    seat = down(1.0)

    def stretch(s: float) -> Pose:
        e = _smoothstep(s)
        return Pose(seat.pelvis, (130.0 - 40.0 * e,) * 2, (-40.0 + 130.0 * e,) * 2, trunk=30.0 * (1 - e),
                    arm=(40.0, 40.0))  # fmt: skip

    def back(s: float) -> Pose:
        e = _smoothstep(s)
        return Pose(seat.pelvis, (90.0, 90.0), (90.0, 90.0), trunk=-88.0 * e, arm=(40.0, 40.0))

    world = _timeline(
        [(1.5, lambda s: _stand()), (2.5, down), (1.0, stretch), (2.0, back), (3.0, lambda s: back(1.0))], fps
    )
    world[..., 1] = np.maximum(world[..., 1], 0.0)
    return render(world, fps=fps, view=view, noise_px=noise_px, seed=seed, scale=180.0, origin=(300.0, 440.0))


def pick_up(*, fps: float = 30.0, view: str = "side", noise_px: float = 0.5, seed: int = 0) -> PoseSequence:
    """Bending down to pick something up (1 s down, 0.5 s there, 1 s up) between standing phases."""

    def bend(s: float) -> Pose:
        e = _smoothstep(s)
        return _from_ankles(30.0 * e, -20.0 * e, trunk=80.0 * e)

    world = _timeline(
        [(1.5, lambda s: _stand()), (1.0, bend), (0.5, lambda s: bend(1.0)), (1.0, lambda s: bend(1 - s)),
         (2.0, lambda s: _stand())], fps)  # fmt: skip
    return render(world, fps=fps, view=view, noise_px=noise_px, seed=seed, scale=250.0, origin=(300.0, 440.0))


def plank(*, hold_s: float = 10.0, sag: tuple[float, float, float] = (6.0, 8.5, 20.0), fps: float = 30.0,
          noise_px: float = 0.5, seed: int = 0) -> PoseSequence:  # fmt: skip
    """Standing 1 s, then a straight-arm plank held ``hold_s`` seconds (seen from the side).

    ``sag = (from_s, to_s, degrees)``: between those times of the hold the hips sag about that many
    degrees below the shoulder–ankle line.
    """
    legs = THIGH + SHANK
    body = legs + TRUNK
    ankle = np.array([0.0, ANKLE_H])
    shoulder_h = UPPER_ARM + FOREARM + 0.03
    ang = np.arcsin((shoulder_h - ANKLE_H) / body)
    line = np.array([np.cos(ang), np.sin(ang)])
    hip0 = ankle + legs * line
    shoulder = ankle + body * line

    def hold(t: float) -> Pose:
        sag_deg = sag[2] if sag[0] <= t <= sag[1] else 0.0
        hip = hip0 - np.array([0.0, np.radians(sag_deg) * legs * TRUNK / body])
        lv, tv = ankle - hip, shoulder - hip
        a_leg = float(np.degrees(np.arctan2(lv[0], -lv[1])))
        a_trunk = float(np.degrees(np.arctan2(tv[0], tv[1])))
        return Pose((float(hip[0]), float(hip[1])), (a_leg, a_leg), (a_leg, a_leg), a_trunk,
                    arm=(a_trunk, a_trunk), elbow=(0.0, 0.0))  # fmt: skip

    frames = [_figure(_stand())] * int(round(fps))
    frames += [_figure(hold(k / fps)) for k in range(int(round(hold_s * fps)))]
    world = np.stack(frames)
    return render(world, fps=fps, view="side", noise_px=noise_px, seed=seed, scale=220.0, origin=(100.0, 440.0))


def jumping_jacks(reps: int = 5, *, rep_s: float = 1.0, fps: float = 30.0, noise_px: float = 0.5, seed: int = 0
                  ) -> PoseSequence:  # fmt: skip
    """Jumping jacks seen from the front: arms from the sides to overhead, legs apart, ``reps`` times."""
    h0 = THIGH + SHANK + ANKLE_H

    def jj(s: float) -> Pose:
        e = np.sin(np.pi * s) ** 2
        return Pose((0.0, h0 - 0.05 * e), abduct=(5 + 165 * e, 5 + 165 * e), leg_abduct=(15 * e, 15 * e),
                    elbow=(5.0, 5.0))  # fmt: skip

    world = _timeline([(0.5, lambda s: jj(0.0))] + [(rep_s, jj)] * reps + [(0.5, lambda s: jj(0.0))], fps)
    return render(world, fps=fps, view="front", noise_px=noise_px, seed=seed, scale=200.0, origin=(320.0, 440.0))
