"""Joint and segment angles, angular velocity, range of motion and left/right symmetry.

Conventions
-----------
* **Coordinates.** Image coordinates are pixels with x to the right and y *down*; "up" in the image is
  ``(0, -1)``. Estimator world landmarks (MediaPipe) are metres with the same axis orientation (x right,
  y down, z away from the camera), so "up" is ``(0, -1, 0)``. Dataset frames differ: pass ``up=``.
* **Joint flexion** (:func:`flexion_angle`): 0° when the proximal segment, the vertex and the distal
  segment lie on one straight line; it grows as the joint bends (180° − the interior angle), in
  ``[0, 180]`` degrees. This is the anatomical flexion of the knee and elbow, and of the hip measured
  from the shoulder–hip line. It has no wrap-around: it never jumps between 0° and 360°.
* **Signed 2D flexion** (:func:`signed_flexion_2d`): the turn from the proximal segment direction to the
  distal one in the image plane, positive clockwise on screen (y down), then unwrapped over time so a
  joint that folds past ±180° keeps a continuous value (e.g. 190° instead of jumping to −170°).
  The sign tells the bend direction and depends on which way the person faces the camera.
* **Segment angles** (:func:`segment_angle`): in 2D, signed degrees from the reference direction —
  vertical: 0° when the segment points up, positive when it leans toward +x; horizontal: 0° along +x,
  positive when it points up (counter-clockwise on screen) — unwrapped over time. In 3D, unsigned:
  vertical: the angle to the up vector in ``[0, 180]``; horizontal: the elevation above the horizontal
  plane in ``[-90, 90]``.
* **Missing data.** Any NaN input gives NaN output; nothing is interpolated here.

All angles are degrees and angular velocities degrees per second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.poses import PoseSequence

from ._body import TRUSTED_STATES

__all__ = [
    "flexion_angle",
    "signed_flexion_2d",
    "unwrap_degrees",
    "segment_angle",
    "angular_velocity",
    "RangeOfMotion",
    "range_of_motion",
    "symmetry_index",
    "joint_angles",
    "trunk_angle",
    "angle_summary",
    "UP_IMAGE",
    "UP_WORLD",
]

#: "Up" in image coordinates (y grows downward).
UP_IMAGE = np.array([0.0, -1.0])
#: "Up" in MediaPipe world coordinates (same axis orientation as the image).
UP_WORLD = np.array([0.0, -1.0, 0.0])


def _vec(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)


def flexion_angle(proximal: np.ndarray, vertex: np.ndarray, distal: np.ndarray) -> np.ndarray:
    """Flexion at ``vertex`` (0° = straight), 2D or 3D.

    Args:
        proximal: ``(..., D)`` proximal joint (e.g. hip), pixels or metres, ``D`` = 2 or 3.
        vertex: ``(..., D)`` the joint itself (e.g. knee).
        distal: ``(..., D)`` distal joint (e.g. ankle).

    Returns:
        ``(...)`` degrees in ``[0, 180]``; NaN where a point is NaN or a segment has zero length.
    """
    u = _vec(proximal, vertex)  # proximal segment direction, continued through the joint
    v = _vec(vertex, distal)
    nu = np.linalg.norm(u, axis=-1)
    nv = np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.sum(u * v, axis=-1) / (nu * nv)
    c = np.where((nu > 0) & (nv > 0), c, np.nan)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def unwrap_degrees(angle: np.ndarray, axis: int = 0) -> np.ndarray:
    """Unwrap angles in degrees along ``axis`` (time), skipping NaN samples.

    Consecutive finite samples never differ by more than 180°; a run of NaN is bridged as if the angle
    changed by less than 180° across it. NaN samples stay NaN.
    """
    a = np.moveaxis(np.asarray(angle, dtype=np.float64), axis, 0)
    out = np.full_like(a, np.nan)
    flat = a.reshape(a.shape[0], -1)
    oflat = out.reshape(a.shape[0], -1)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        m = np.isfinite(col)
        if m.any():
            oflat[m, j] = np.degrees(np.unwrap(np.radians(col[m])))
    return np.moveaxis(oflat.reshape(a.shape), 0, axis)


def signed_flexion_2d(
    proximal: np.ndarray, vertex: np.ndarray, distal: np.ndarray, *, unwrap: bool = True
) -> np.ndarray:
    """Signed image-plane flexion at ``vertex``: ``|value|`` is the flexion while it stays below 180°.

    Args:
        proximal, vertex, distal: ``(T, ..., 2)`` pixels; time on the first axis when ``unwrap``.
        unwrap: remove ±360° jumps along the first axis (see :func:`unwrap_degrees`).

    Returns:
        ``(T, ...)`` degrees, positive when the distal segment turns clockwise on screen from the
        direction of the proximal segment.
    """
    u = _vec(proximal, vertex)
    v = _vec(vertex, distal)
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = np.sum(u * v, axis=-1)
    bad = (np.linalg.norm(u, axis=-1) == 0) | (np.linalg.norm(v, axis=-1) == 0)
    ang = np.where(bad, np.nan, np.degrees(np.arctan2(cross, dot)))
    return unwrap_degrees(ang) if unwrap else ang


def segment_angle(
    start: np.ndarray,
    end: np.ndarray,
    *,
    reference: str = "vertical",
    up: np.ndarray | None = None,
    unwrap: bool = True,
) -> np.ndarray:
    """Angle of the segment ``start → end`` against the vertical or the horizontal.

    Args:
        start: ``(T, ..., D)`` segment origin (e.g. hip midpoint), pixels or metres.
        end: ``(T, ..., D)`` segment end (e.g. shoulder midpoint).
        reference: ``"vertical"`` or ``"horizontal"``.
        up: the up direction ``(D,)``; default :data:`UP_IMAGE` in 2D, :data:`UP_WORLD` in 3D.
        unwrap: 2D only — unwrap along the first (time) axis.

    Returns:
        ``(T, ...)`` degrees; see the module docstring for ranges and signs.
    """
    if reference not in ("vertical", "horizontal"):
        raise ValueError(f"reference must be 'vertical' or 'horizontal', got {reference!r}")
    v = _vec(start, end)
    d = v.shape[-1]
    if d not in (2, 3):
        raise ValueError(f"expected 2D or 3D points, got last axis {d}")
    upv = np.asarray(up if up is not None else (UP_IMAGE if d == 2 else UP_WORLD), dtype=np.float64)
    upv = upv / np.linalg.norm(upv)
    n = np.linalg.norm(v, axis=-1)
    if d == 2:
        cross = upv[0] * v[..., 1] - upv[1] * v[..., 0]
        # positive toward +x when up = (0, -1): cross = up_x·v_y − up_y·v_x = v_x
        from_up = np.degrees(np.arctan2(cross, np.sum(v * upv, axis=-1)))
        ang = from_up if reference == "vertical" else 90.0 - from_up
        ang = np.where(n > 0, ang, np.nan)
        if reference == "horizontal":
            ang = (ang + 180.0) % 360.0 - 180.0
        return unwrap_degrees(ang) if unwrap else ang
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.sum(v * upv, axis=-1) / n
    from_up = np.degrees(np.arccos(np.clip(np.where(n > 0, c, np.nan), -1.0, 1.0)))
    return from_up if reference == "vertical" else 90.0 - from_up


def angular_velocity(angle: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Time derivative of an angle series, NaN-aware, for uneven frame times.

    Args:
        angle: ``(T, ...)`` degrees (unwrapped).
        time: ``(T,)`` seconds, non-decreasing.

    Returns:
        ``(T, ...)`` degrees per second: central differences where both neighbours are finite, one-sided
        differences at the ends of a finite run, NaN for isolated samples or repeated times.
    """
    a = np.asarray(angle, dtype=np.float64)
    t = np.asarray(time, dtype=np.float64)
    if a.shape[0] != t.shape[0]:
        raise ValueError(f"angle has {a.shape[0]} samples but time has {t.shape[0]}")
    out = np.full_like(a, np.nan)
    if len(t) < 2:
        return out
    shape = (-1,) + (1,) * (a.ndim - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dt1 = (t[1:] - t[:-1]).reshape(shape)
        fwd = np.where(dt1 > 0, (a[1:] - a[:-1]) / dt1, np.nan)  # (T-1, ...) between t and t+1
        if len(t) > 2:
            dt2 = (t[2:] - t[:-2]).reshape(shape)
            out[1:-1] = np.where(dt2 > 0, (a[2:] - a[:-2]) / dt2, np.nan)
    # one-sided where the central difference is unavailable
    back = np.concatenate([np.full((1,) + a.shape[1:], np.nan), fwd])  # at t: (a[t]-a[t-1])/dt
    ahead = np.concatenate([fwd, np.full((1,) + a.shape[1:], np.nan)])  # at t: (a[t+1]-a[t])/dt
    out = np.where(np.isfinite(out), out, np.where(np.isfinite(ahead), ahead, back))
    return np.where(np.isfinite(a), out, np.nan)


@dataclass(frozen=True)
class RangeOfMotion:
    """Range of motion of one angle series, degrees (NaN when there is no finite sample)."""

    min: float
    max: float
    range: float
    samples: int

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-friendly (NaN → ``None``)."""
        f = lambda v: None if not np.isfinite(v) else round(float(v), 2)  # noqa: E731
        return {"min": f(self.min), "max": f(self.max), "range": f(self.range), "samples": self.samples}


def range_of_motion(angle: np.ndarray, *, percentiles: tuple[float, float] = (0.0, 100.0)) -> RangeOfMotion:
    """Minimum, maximum and range of an angle series.

    Args:
        angle: ``(T,)`` degrees (NaN ignored).
        percentiles: robust limits, e.g. ``(2, 98)`` to ignore outliers; default the true extremes.
    """
    a = np.asarray(angle, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return RangeOfMotion(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = np.percentile(a, percentiles)
    return RangeOfMotion(float(lo), float(hi), float(hi - lo), int(a.size))


def symmetry_index(left: np.ndarray | float, right: np.ndarray | float) -> np.ndarray:
    """Robinson's symmetry index ``100 · (L − R) / (0.5 · (|L| + |R|))``, percent.

    0 is perfect symmetry; positive means the left value is larger. NaN where both are 0 or either is NaN.
    """
    lv = np.asarray(left, dtype=np.float64)
    rv = np.asarray(right, dtype=np.float64)
    den = 0.5 * (np.abs(lv) + np.abs(rv))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 100.0 * (lv - rv) / den, np.nan)


def _points(seq: PoseSequence, coords: str) -> np.ndarray:
    if coords == "image":
        return seq.xy
    if coords == "world":
        if seq.world is None:
            raise ValueError("coords='world' needs a sequence with world coordinates")
        return seq.world
    raise ValueError(f"coords must be 'image' or 'world', got {coords!r}")


def joint_angles(
    seq: PoseSequence,
    *,
    coords: str = "image",
    names: list[str] | None = None,
    trusted_only: bool = False,
    signed: bool = False,
) -> dict[str, np.ndarray]:
    """Every joint angle the skeleton defines (:attr:`Skeleton.angles`), for every individual.

    Args:
        seq: the poses.
        coords: ``"image"`` (2D) or ``"world"`` (3D).
        names: only these angles (default: all the skeleton defines).
        trusted_only: NaN where any of the three keypoints is not trusted (VISIBLE/CORRECTED).
        signed: 2D only — signed, unwrapped flexion (:func:`signed_flexion_2d`).

    Returns:
        ``{angle name: (T, I) degrees}``.
    """
    pts = _points(seq, coords)
    if signed and coords != "image":
        raise ValueError("signed angles are defined in the image plane only (coords='image')")
    sk = seq.skeleton
    wanted = {a.name: a for a in sk.angles}
    if names is not None:
        unknown = [n for n in names if n not in wanted]
        if unknown:
            raise KeyError(f"skeleton {sk.name!r} defines no angle {unknown[0]!r} (has: {', '.join(wanted)})")
        wanted = {n: wanted[n] for n in names}
    trusted = np.isin(seq.state, np.asarray(TRUSTED_STATES, np.uint8))
    out: dict[str, np.ndarray] = {}
    for name, a in wanted.items():
        i, j, k = sk.index(a.proximal), sk.index(a.vertex), sk.index(a.distal)
        p, v, d = pts[:, :, i], pts[:, :, j], pts[:, :, k]
        ang = signed_flexion_2d(p, v, d) if signed else flexion_angle(p, v, d)
        if trusted_only:
            ang = np.where(trusted[:, :, i] & trusted[:, :, j] & trusted[:, :, k], ang, np.nan)
        out[name] = ang
    return out


def trunk_angle(seq: PoseSequence, *, coords: str = "image", up: np.ndarray | None = None) -> np.ndarray:
    """Trunk inclination from the vertical: hip midpoint → shoulder midpoint, ``(T, I)`` degrees.

    2D: signed (positive leaning toward +x), unwrapped; 3D: unsigned in ``[0, 180]``. NaN where a hip or
    shoulder is absent.
    """
    pts = _points(seq, coords)
    sk = seq.skeleton
    hips = 0.5 * (pts[:, :, sk.index("left_hip")] + pts[:, :, sk.index("right_hip")])
    shoulders = 0.5 * (pts[:, :, sk.index("left_shoulder")] + pts[:, :, sk.index("right_shoulder")])
    return segment_angle(hips, shoulders, reference="vertical", up=up)


def angle_summary(angles: dict[str, np.ndarray], time: np.ndarray, person: int = 0) -> dict[str, dict]:
    """Per-angle summary for one individual: min, max, range, mean, peak angular speed.

    Args:
        angles: ``{name: (T, I) degrees}`` (e.g. from :func:`joint_angles`).
        time: ``(T,)`` seconds.
        person: individual index.

    Returns:
        ``{name: {"min", "max", "range", "mean", "peak_speed_deg_s", "samples"}}`` (``None`` for
        quantities without data).
    """
    out: dict[str, dict] = {}
    for name, a in angles.items():
        s = a[:, person]
        rom = range_of_motion(s).as_dict()
        fin = s[np.isfinite(s)]
        vel = angular_velocity(s, time)
        vf = np.abs(vel[np.isfinite(vel)])
        rom["mean"] = round(float(fin.mean()), 2) if fin.size else None
        rom["peak_speed_deg_s"] = round(float(vf.max()), 1) if vf.size else None
        out[name] = rom
    return out
