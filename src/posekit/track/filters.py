"""Keypoint trajectory filters aware of timestamps, keypoint confidence and gaps.

Four filters, one contract:

* :func:`one_euro` and the stateful :class:`OneEuroFilter` (online, causal; the default online filter),
* :func:`kalman` — constant-velocity or constant-acceleration Kalman filter with Rauch–Tung–Striebel
  smoothing (offline),
* :func:`butterworth` — zero-phase Butterworth low-pass (``scipy.signal.sosfiltfilt``, offline),
* :func:`savgol` — Savitzky–Golay: a local polynomial fitted by weighted least squares (offline).

Array contract (all filters)
----------------------------
``values (T, S, D)``: ``S`` independent series (e.g. individuals × keypoints flattened) of ``D``
coordinates (pixels or metres; the filters are linear or scale-normalised, so the unit is the caller's).
``time (T,)``: seconds, strictly increasing; the frame interval may vary (variable frame rate).
``weight (T, S)``: measurement trust in ``[0, 1]``; ``0`` means *no measurement* (a MISSING keypoint).
See :func:`confidence_weights` for the mapping from keypoint scores.

* **Confidence.** A weak measurement counts less: One Euro scales its smoothing factor by the weight and
  leans on its own constant-velocity prediction instead. The offline filters first pull each weak sample
  toward the straight line through its full-confidence neighbours (``w·x + (1 − w)·b``, see
  :func:`lean_on_confident`), then Kalman scales the measurement variance by ``1 / weight`` and
  Savitzky–Golay weights its least-squares fit (Butterworth, a linear filter, cannot weight samples).
* **Missing measurements** are never filled: the output is ``NaN`` exactly where the weight is ``0``.
  Inside a short gap the filters carry their state across (Kalman predicts, One Euro holds, Butterworth
  bridges the gap with a straight line *inside the filter only*, Savitzky–Golay gives the gap weight 0).
  Gap filling is a separate, explicit step (:mod:`posekit.track.occlusion`).
* **Long gaps segment the series.** Where two consecutive measurements of a series are more than
  ``max_gap`` seconds apart, the filter restarts: nothing is smoothed across the gap.
* **Time.** One Euro and Kalman use each frame interval ``dt`` as it is. Savitzky–Golay fits its
  polynomial in real time offsets, so an uneven frame interval is exact. Butterworth needs a uniform
  sampling rate: a segment whose intervals vary by more than 1 % is resampled onto a uniform grid
  (linear interpolation at the median interval), filtered, and interpolated back at the original times.

The sequence-level entry point is :func:`smooth`, which filters the image coordinates (``xy`` and the
relative depth ``z``) and the world coordinates (metres) of a :class:`~posekit.poses.PoseSequence` and
records the step in its provenance.
"""

from __future__ import annotations

import copy
import math
from typing import Literal

import numpy as np

from posekit.errors import InputError
from posekit.poses import KeypointState, PoseFrame, PoseSequence

__all__ = [
    "FILTERS",
    "FilterName",
    "DEFAULT_MAX_GAP",
    "ONE_EURO_DEFAULTS",
    "confidence_weights",
    "check_time",
    "segment_ids",
    "person_scale",
    "lean_on_confident",
    "one_euro",
    "kalman",
    "butterworth",
    "savgol",
    "OneEuroCore",
    "OneEuroFilter",
    "smooth",
    "check_sequence",
    "image_values",
    "fast_boxes",
    "FULL_SCORE",
    "MIN_WEIGHT",
    "TIME_EPS",
]

FilterName = Literal["one-euro", "kalman", "butterworth", "savgol"]
#: The filter names :func:`smooth` accepts.
FILTERS: tuple[str, ...] = ("one-euro", "kalman", "butterworth", "savgol")
#: Default longest gap (seconds) that a filter carries its state across (and that gap filling bridges).
DEFAULT_MAX_GAP = 0.5
#: One Euro defaults: ``min_cutoff`` Hz, ``beta`` Hz per (person scale per second), ``d_cutoff`` Hz.
#: Chosen on real output (``benchmarks/stability.py``): a person standing still loses about two thirds of
#: the frame-to-frame acceleration jitter while moving joints lag by well under one frame, and the error
#: on Penn Action ground truth with 1 % noise still goes down. A lower ``beta`` smooths more and lags
#: more on moderate motion; MediaPipe's pose graph uses 0.05 / 80 / 1 (less smoothing at rest).
ONE_EURO_DEFAULTS: dict[str, float] = {"min_cutoff": 0.3, "beta": 16.0, "d_cutoff": 2.0}
#: Keypoint score at or above which a measurement has full weight (see :func:`confidence_weights`).
FULL_SCORE = 0.5
#: Smallest weight of a present keypoint: a keypoint the model reports but barely sees (BlazePose
#: OCCLUDED, visibility near 0) still counts a fifth, so its estimate cannot fall far behind the body.
MIN_WEIGHT = 0.2
_MISSING = int(KeypointState.MISSING)
#: Tolerance (seconds) of gap comparisons, so that e.g. 15 frames at 30 frames/s count as 0.5 s.
TIME_EPS = 1e-6


# ---------------------------------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------------------------------
def confidence_weights(
    state: np.ndarray, score: np.ndarray, *, full_score: float = FULL_SCORE, floor: float = MIN_WEIGHT
) -> np.ndarray:
    """Measurement weights from keypoint states and scores.

    ``w = clip(score / full_score, floor, 1)`` for present keypoints and ``0`` for MISSING ones. A score of
    ``full_score`` or more (default 0.5, MediaPipe's own visibility threshold) counts fully; a NaN score
    counts as ``floor``. When no
    present keypoint carries a positive score (data without confidences, e.g. ground truth), every
    present keypoint gets weight 1.

    Args:
        state: ``(...)`` :class:`~posekit.poses.KeypointState` values.
        score: ``(...)`` confidences in ``[0, 1]``, same shape.
        full_score: score from which a measurement counts fully.
        floor: weight of a present keypoint with score 0.

    Returns:
        ``(...)`` float64 weights in ``[0, 1]``.
    """
    present = np.asarray(state) != _MISSING
    s = np.asarray(score, dtype=np.float64)
    w = np.where(present, np.fmax(np.minimum(s * (1.0 / max(full_score, 1e-9)), 1.0), floor), 0.0)  # NaN → floor
    if not np.any((s > 0) & present):
        return present.astype(np.float64)
    return w


def check_time(time: np.ndarray, where: str = "<sequence>") -> np.ndarray:
    """Validate frame times: finite and strictly increasing.

    Args:
        time: ``(T,)`` seconds.
        where: what to name in the error (a file or ``"<sequence>"``).

    Returns:
        ``time`` as float64.

    Raises:
        InputError: non-finite or non-increasing timestamps (the message names the first bad pair).
    """
    t = np.asarray(time, dtype=np.float64)
    if t.ndim != 1:
        raise InputError(where, f"time must be a 1-D array of seconds, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        j = int(np.flatnonzero(~np.isfinite(t))[0])
        raise InputError(where, f"time[{j}] is {t[j]}, timestamps must be finite seconds")
    if len(t) > 1:
        d = np.diff(t)
        if np.any(d <= 0):
            j = int(np.flatnonzero(d <= 0)[0])
            raise InputError(
                where,
                f"timestamps must increase strictly, but time[{j + 1}]={t[j + 1]:.6g} s is not after "
                f"time[{j}]={t[j]:.6g} s",
            )
    return t


def segment_ids(time: np.ndarray, measured: np.ndarray, max_gap: float) -> np.ndarray:
    """Label the runs of each series that are separated by gaps longer than ``max_gap``.

    Args:
        time: ``(T,)`` seconds, increasing.
        measured: ``(T, S)`` bool, True where a series has a measurement.
        max_gap: seconds; consecutive measurements further apart than this start a new segment.

    Returns:
        ``(T, S)`` int64 segment number per series (``0, 1, …`` in time order) at measured samples;
        samples between two measurements of one segment carry that segment's number (they lie in a
        short gap); samples before the first, after the last measurement or inside a long gap hold ``-1``.
    """
    t_n, s_n = measured.shape
    out = np.full((t_n, s_n), -1, np.int64)
    for s in range(s_n):
        idx = np.flatnonzero(measured[:, s])
        if idx.size == 0:
            continue
        new = np.ones(idx.size, bool)
        new[1:] = np.diff(time[idx]) > max_gap + TIME_EPS
        seg = np.cumsum(new) - 1
        out[idx, s] = seg
        # fill the short gaps between consecutive measurements of one segment
        same = ~new[1:]
        for a, b, g in zip(idx[:-1][same], idx[1:][same], seg[1:][same]):
            if b > a + 1:
                out[a + 1 : b, s] = g
    return out


def person_scale(points: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Size of each person: the mean of the width and height of its keypoints' bounding box.

    This is the object scale MediaPipe's landmark smoothing divides speeds by. Times with fewer than two
    present keypoints take the person's median scale; a person never seen gets scale 1.

    Args:
        points: ``(T, I, K, D)`` coordinates (pixels or metres); only the first two axes x, y are used.
        present: ``(T, I, K)`` bool.

    Returns:
        ``(T, I)`` scale in the unit of ``points`` (positive).
    """
    xy = np.where(present[..., None], points[..., :2], np.nan)
    ok = present.sum(-1) >= 2
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ext = np.nanmax(xy, axis=2) - np.nanmin(xy, axis=2)  # (T, I, 2)
            s = ext.mean(-1)
            s = np.where(ok & (s > 0), s, np.nan)
            med = np.nanmedian(s, axis=0)  # (I,)
    med = np.where(np.isfinite(med) & (med > 0), med, 1.0)
    return np.where(np.isfinite(s), s, med[None, :])


def _check_arrays(
    values: np.ndarray, time: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 3:
        raise ValueError(f"Expected 'values' to have shape (T, S, D), but got {v.shape}")
    t = check_time(time, "<array>")
    if t.shape[0] != v.shape[0]:
        raise ValueError(f"'time' has {t.shape[0]} entries for {v.shape[0]} frames")
    finite = np.isfinite(v).all(-1)
    if weight is None:
        w = finite.astype(np.float64)
    else:
        w = np.asarray(weight, dtype=np.float64)
        if w.shape != v.shape[:2]:
            raise ValueError(f"Expected 'weight' to have shape {v.shape[:2]}, but got {w.shape}")
        if np.any((w < 0) | (w > 1) | ~np.isfinite(w)):
            raise ValueError("'weight' must hold values in [0, 1]")
        bad = (w > 0) & ~finite
        if bad.any():
            tt, ss = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"series {ss} at frame {tt} has weight {w[tt, ss]:.3g} but non-finite values")
    return v, t, w


def lean_on_confident(values: np.ndarray, time: np.ndarray, weight: np.ndarray, max_gap: float) -> np.ndarray:
    """Pull weak measurements toward the straight line through their full-confidence neighbours.

    A sample with ``0 < w < 1`` becomes ``w·x + (1 − w)·b``, where ``b`` is the linear interpolation
    between the nearest full-confidence (``w = 1``) samples before and after it, when both exist and
    lie at most ``max_gap`` seconds apart; otherwise it is left as it is. This is how the offline
    filters let a stretch of weak measurements (e.g. the model's guesses for an occluded joint) lean on
    the track instead of following the guesses: weighting alone cannot, when every sample in a filter's
    reach is equally weak.

    Args:
        values: ``(T, S, D)``.
        time: ``(T,)`` seconds.
        weight: ``(T, S)`` in ``[0, 1]``.
        max_gap: seconds.

    Returns:
        ``(T, S, D)`` (a copy).
    """
    out = values.copy()
    weak = (weight > 0) & (weight < 1)
    if not weak.any():
        return out
    for s in np.flatnonzero(weak.any(0)):
        full = np.flatnonzero(weight[:, s] >= 1)
        if full.size < 2:
            continue
        rows = np.flatnonzero(weak[:, s])
        pos = np.searchsorted(full, rows)
        inside = (pos > 0) & (pos < full.size)
        rows, pos = rows[inside], pos[inside]
        a, b = full[pos - 1], full[pos]
        near = time[b] - time[a] <= max_gap + TIME_EPS
        rows, a, b = rows[near], a[near], b[near]
        if rows.size == 0:
            continue
        f = ((time[rows] - time[a]) / (time[b] - time[a]))[:, None]
        line = values[a, s] + f * (values[b, s] - values[a, s])
        wr = weight[rows, s][:, None]
        out[rows, s] = wr * values[rows, s] + (1 - wr) * line
    return out


def _alpha(cutoff: np.ndarray | float, dt: np.ndarray | float) -> np.ndarray:
    """Smoothing factor of a first-order low-pass with ``cutoff`` Hz at step ``dt`` s."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / np.asarray(dt, dtype=np.float64))


# ---------------------------------------------------------------------------------------------------
# One Euro
# ---------------------------------------------------------------------------------------------------
class OneEuroCore:
    """One Euro filter state for ``S`` series of ``D`` coordinates, stepped one frame at a time.

    The filter of Casiez, Roussel and Vogel (CHI 2012), as MediaPipe applies it to landmarks: a first-order
    low-pass whose cutoff rises with speed, ``cutoff = min_cutoff + beta·|ẋ| / scale``, where ``ẋ`` is
    the low-passed (``d_cutoff``) derivative and ``scale`` the person's size, so that ``beta`` does not
    depend on how large the person appears. The speed is the norm over the ``D`` coordinates (one cutoff
    per keypoint). Two additions:

    * **Confidence.** With weight ``w`` the update is ``x̂ = p + w·α·(x − p)`` where
      ``p = x̂₋ + (1 − w)·v·dt`` is the previous estimate advanced by ``(1 − w)`` of a velocity ``v``:
      a full-confidence measurement gives the classic filter, a weak one moves the estimate less and
      lets it coast instead. ``v`` is the mean smoothed velocity of the full-weight keypoints of the
      same person when ``groups`` are given (an occluded wrist moves with the walking body), else the
      series' own smoothed velocity.
    * **Gaps.** A series without a measurement keeps its state; when its next measurement arrives more
      than ``max_gap`` seconds after the last, the series restarts from that measurement.

    Steady-state lag: a constant velocity ``v`` is followed with a constant offset ``v·τ`` where
    ``τ = 1 / (2π·(min_cutoff + beta·|v|/scale))`` (the first-order low-pass lag).

    Args:
        n_series: ``S``.
        n_dims: ``D``.
        min_cutoff: cutoff at rest, Hz.
        beta: cutoff increase per unit of speed, Hz per (scale per second).
        d_cutoff: cutoff of the derivative low-pass, Hz.
        max_gap: seconds without a measurement after which a series restarts.
        speed_dims: the leading coordinates the speed is measured on (default all); e.g. 2 for
            ``x, y, z`` image values, so MediaPipe's noisy relative depth does not open the cutoff.
    """

    def __init__(
        self,
        n_series: int,
        n_dims: int,
        *,
        min_cutoff: float = ONE_EURO_DEFAULTS["min_cutoff"],
        beta: float = ONE_EURO_DEFAULTS["beta"],
        d_cutoff: float = ONE_EURO_DEFAULTS["d_cutoff"],
        max_gap: float = DEFAULT_MAX_GAP,
        speed_dims: int | None = None,
    ) -> None:
        if not (min_cutoff > 0 and d_cutoff > 0 and beta >= 0 and max_gap > 0):
            raise ValueError(
                f"One Euro needs min_cutoff > 0, d_cutoff > 0, beta >= 0 and max_gap > 0; got "
                f"min_cutoff={min_cutoff}, beta={beta}, d_cutoff={d_cutoff}, max_gap={max_gap}"
            )
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.max_gap = float(max_gap)
        self.shape = (int(n_series), int(n_dims))
        self.speed_dims = int(n_dims if speed_dims is None else speed_dims)
        self.reset()

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the state of all series, or of those selected by ``mask`` (bool ``(S,)`` or indices)."""
        s, d = self.shape
        if mask is None:
            self.x = np.full((s, d), np.nan)  # filtered value
            self.dx = np.zeros((s, d))  # smoothed derivative, units per second
            self.raw = np.full((s, d), np.nan)  # last raw measurement
            self.t = np.full(s, np.nan)  # time of the last measurement, s
        else:
            m = np.asarray(mask)
            self.x[m] = np.nan
            self.dx[m] = 0.0
            self.raw[m] = np.nan
            self.t[m] = np.nan

    def grow(self, n_series: int) -> None:
        """Make room for at least ``n_series`` series (new ones start without state)."""
        s, d = self.shape
        if n_series <= s:
            return
        extra = n_series - s
        self.x = np.concatenate([self.x, np.full((extra, d), np.nan)])
        self.dx = np.concatenate([self.dx, np.zeros((extra, d))])
        self.raw = np.concatenate([self.raw, np.full((extra, d), np.nan)])
        self.t = np.concatenate([self.t, np.full(extra, np.nan)])
        self.shape = (n_series, d)

    @property
    def started(self) -> np.ndarray:
        """``(S,)`` bool: series with a state."""
        return np.isfinite(self.t)

    def update(
        self,
        values: np.ndarray,
        t: float,
        weight: np.ndarray,
        scale: np.ndarray | float = 1.0,
        index: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> np.ndarray:
        """Feed one frame.

        Args:
            values: ``(S, D)`` measurements (NaN allowed where ``weight`` is 0), or ``(n, D)`` for the
                series in ``index``.
            t: time of the frame, seconds (after every earlier measurement of these series).
            weight: ``(S,)`` or ``(n,)`` measurement weights in ``[0, 1]``; 0 = no measurement.
            scale: ``(S,)``/``(n,)`` or scalar person scale in the unit of ``values``.
            index: ``(n,)`` series indices the rows refer to (default: all series, in order).
            groups: ``(S,)``/``(n,)`` non-negative int: the person each series belongs to. A weak
                measurement then coasts with the mean velocity of its person's full-weight keypoints
                (it moves with the body) instead of its own; without full-weight keypoints it holds.

        Returns:
            ``(S, D)`` or ``(n, D)`` filtered values, NaN where there was no measurement.
        """
        v = np.asarray(values, dtype=np.float64)
        w = np.asarray(weight, dtype=np.float64)
        idx = _as_index(index, self.shape[0])
        n = self.shape[0] if index is None else len(index)
        # a slice gives views (updated in place); an index array gives copies (written back below)
        x, dx, raw, tl = self.x[idx], self.dx[idx], self.raw[idx], self.t[idx]
        sc = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))
        present = (w > 0) & np.isfinite(v).all(-1)
        started = np.isfinite(tl)
        last = np.where(started, tl, -np.inf)
        if np.any(present & started & (t <= last)):
            raise ValueError(f"time {t} s is not after the previous measurement at {np.nanmax(tl)} s")
        fresh = present & (~started | (t - last > self.max_gap + TIME_EPS))
        upd = present & ~fresh
        x[fresh] = v[fresh]
        dx[fresh] = 0.0
        if upd.any():
            dt = t - tl[upd]
            wu = w[upd][:, None]
            dval = (v[upd] - raw[upd]) / dt[:, None]
            ad = _alpha(self.d_cutoff, dt)[:, None] * wu
            dxu = dx[upd] + ad * (dval - dx[upd])
            dsp = dxu[:, : self.speed_dims]
            speed = np.sqrt(np.einsum("nd,nd->n", dsp, dsp)) / np.maximum(sc[upd], 1e-12)
            a = _alpha(self.min_cutoff + self.beta * speed, dt)[:, None] * wu
            vel = dxu if groups is None else _group_velocity(np.asarray(groups)[upd], dxu, wu[:, 0] >= 1.0)
            pred = x[upd] + (1.0 - wu) * vel * dt[:, None]
            x[upd] = pred + a * (v[upd] - pred)
            dx[upd] = dxu
        raw[present] = v[present]
        tl[present] = t
        if not isinstance(idx, slice):
            self.x[idx], self.dx[idx], self.raw[idx], self.t[idx] = x, dx, raw, tl
        return np.where(present[:, None], x, np.nan)

    def predict(
        self, t: float, *, decay: float = 0.25, index: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions predicted at time ``t`` from the last state (for keypoints without a measurement).

        The prediction moves on with the smoothed velocity, damped with time constant ``decay`` seconds:
        ``x̂ + ẋ·decay·(1 − exp(−Δ/decay))`` with ``Δ = t − t_last``, so it never runs away.

        Args:
            t: seconds.
            decay: seconds (0: undamped constant velocity).
            index: series to predict (default: all).

        Returns:
            ``(S, D)`` (or ``(n, D)``) predictions and a bool mask: True where the series has a state and
            its last measurement is at most ``max_gap`` seconds old.
        """
        idx = _as_index(index, self.shape[0])
        tl = self.t[idx]
        started = np.isfinite(tl)
        gap = np.where(started, t - np.where(started, tl, t), np.inf)
        ok = started & (gap <= self.max_gap + TIME_EPS) & (gap >= 0)
        g = np.where(ok, gap, 0.0)[:, None]
        move = self.dx[idx] * (decay * (1.0 - np.exp(-g / decay)) if decay > 0 else g)
        return np.where(ok[:, None], self.x[idx] + move, np.nan), ok


def _group_velocity(groups: np.ndarray, vel: np.ndarray, full: np.ndarray) -> np.ndarray:
    """Per row, the mean of ``vel (n, D)`` over the ``full`` rows of its group (0 where there are none)."""
    g = groups.astype(np.int64)
    size = int(g.max()) + 1 if g.size else 0
    cnt = np.bincount(g[full], minlength=size).astype(float)
    out = np.stack([np.bincount(g[full], weights=vel[full, d], minlength=size) for d in range(vel.shape[1])], -1)
    mean = out / np.maximum(cnt, 1.0)[:, None]
    return mean[g]


def _as_index(index: np.ndarray | None, n: int) -> slice | np.ndarray:
    """``index`` as a slice when it is a run of consecutive series (views instead of copies)."""
    if index is None:
        return slice(0, n)
    idx = np.asarray(index)
    if idx.size and idx[-1] - idx[0] == idx.size - 1 and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


def one_euro(
    values: np.ndarray,
    time: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    scale: np.ndarray | float | None = None,
    min_cutoff: float = ONE_EURO_DEFAULTS["min_cutoff"],
    beta: float = ONE_EURO_DEFAULTS["beta"],
    d_cutoff: float = ONE_EURO_DEFAULTS["d_cutoff"],
    max_gap: float = DEFAULT_MAX_GAP,
    speed_dims: int | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Run the (causal) One Euro filter over whole series. See :class:`OneEuroCore`.

    Args:
        values: ``(T, S, D)``.
        time: ``(T,)`` seconds, strictly increasing.
        weight: ``(T, S)`` in ``[0, 1]`` (0 = missing); default: 1 where values are finite.
        scale: ``(T, S)``, ``(S,)`` or scalar person scale in the unit of ``values`` (default 1).
        min_cutoff: Hz. beta: Hz per (scale/s). d_cutoff: Hz. max_gap: seconds.
        speed_dims: leading coordinates the speed is measured on (default all).
        groups: ``(S,)`` person of each series (weak measurements move with their person).

    Returns:
        ``(T, S, D)`` filtered values, NaN where ``weight`` is 0.
    """
    v, t, w = _check_arrays(values, time, weight)
    n_t, n_s, n_d = v.shape
    sc = np.broadcast_to(np.asarray(1.0 if scale is None else scale, dtype=np.float64), (n_t, n_s))
    core = OneEuroCore(n_s, n_d, min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff, max_gap=max_gap,
                       speed_dims=speed_dims)  # fmt: skip
    out = np.full_like(v, np.nan)
    for k in range(n_t):
        out[k] = core.update(v[k], float(t[k]), w[k], sc[k], groups=groups)
    return out


# ---------------------------------------------------------------------------------------------------
# Kalman + RTS
# ---------------------------------------------------------------------------------------------------
def _kalman_mats(order: int, dt: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    if order == 2:
        f = np.array([[1.0, dt], [0.0, 1.0]])
        qm = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    else:
        f = np.array([[1.0, dt, dt * dt / 2], [0.0, 1.0, dt], [0.0, 0.0, 1.0]])
        qm = q * np.array(
            [
                [dt**5 / 20, dt**4 / 8, dt**3 / 6],
                [dt**4 / 8, dt**3 / 3, dt**2 / 2],
                [dt**3 / 6, dt**2 / 2, dt],
            ]
        )
    return f, qm


def kalman(
    values: np.ndarray,
    time: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    cutoff: float = 6.0,
    model: Literal["velocity", "acceleration"] = "velocity",
    max_gap: float = DEFAULT_MAX_GAP,
    smooth: bool = True,
    chunk: int = 128,
) -> np.ndarray:
    """Kalman filter with a constant-velocity (or constant-acceleration) model and RTS smoothing.

    Each coordinate of each series is its own scalar-measured linear system. The measurement variance of
    a sample is ``1 / weight`` (arbitrary unit); the continuous white-noise acceleration (or jerk) density
    is chosen so that the steady-state forward filter at the median frame interval has its corner at
    ``cutoff`` Hz: ``q = (2π·cutoff)^(2n) · dt_median`` for an ``n``-state model. The forward-backward
    (RTS) smoother then attenuates by about 6 dB at ``cutoff``, like a zero-phase filter. Process noise
    uses each actual frame interval, so a variable frame rate is modelled exactly. Each series starts from
    a diffuse velocity prior at its first measurement and restarts after gaps longer than ``max_gap``;
    during shorter gaps the state is predicted, but only measured samples are returned.

    Args:
        values: ``(T, S, D)``.
        time: ``(T,)`` seconds, strictly increasing.
        weight: ``(T, S)`` in ``[0, 1]`` (0 = missing); default: 1 where finite.
        cutoff: corner frequency, Hz.
        model: ``"velocity"`` (2 states) or ``"acceleration"`` (3 states).
        max_gap: seconds.
        smooth: apply the RTS backward pass (False: causal forward filter only).
        chunk: series processed together (memory bound).

    Returns:
        ``(T, S, D)`` smoothed values, NaN where ``weight`` is 0.
    """
    v, t, w = _check_arrays(values, time, weight)
    if not cutoff > 0:
        raise ValueError(f"Kalman cutoff must be positive, got {cutoff} Hz")
    if model not in ("velocity", "acceleration"):
        raise ValueError(f"Kalman model must be 'velocity' or 'acceleration', got {model!r}")
    n = 2 if model == "velocity" else 3
    n_t, n_s, n_d = v.shape
    out = np.full_like(v, np.nan)
    if n_t == 0 or n_s == 0:
        return out
    v = lean_on_confident(v, t, w, max_gap)
    dts = np.diff(t)
    dt_nom = float(np.median(dts)) if dts.size else 1.0
    q = (2 * math.pi * cutoff) ** (2 * n) * dt_nom
    mats = [_kalman_mats(n, float(d), q) for d in dts]
    p0 = np.diag([0.0] + [1e8 / dt_nom ** (2 * i) for i in range(1, n)])  # diffuse prior on the derivatives
    # flatten series × coordinates
    vv = v.reshape(n_t, n_s * n_d)
    ww = np.repeat(w, n_d, axis=1)
    res = out.reshape(n_t, n_s * n_d)
    for c0 in range(0, n_s * n_d, chunk):
        c1 = min(c0 + chunk, n_s * n_d)
        res[:, c0:c1] = _kalman_chunk(vv[:, c0:c1], ww[:, c0:c1], t, mats, p0, n, max_gap, smooth)
    return out


def _kalman_chunk(z: np.ndarray, w: np.ndarray, t: np.ndarray, mats: list, p0: np.ndarray, n: int,
                  max_gap: float, smooth: bool) -> np.ndarray:  # fmt: skip
    n_t, m = z.shape
    meas = w > 0
    xs_f = np.full((n_t, m, n), np.nan)
    ps_f = np.full((n_t, m, n, n), np.nan)
    xs_p = np.full((n_t, m, n), np.nan)
    ps_p = np.full((n_t, m, n, n), np.nan)
    start = np.zeros((n_t, m), bool)  # a new segment starts here
    alive = np.zeros(m, bool)
    t_last = np.full(m, -np.inf)
    x = np.zeros((m, n))
    p = np.zeros((m, n, n))
    rv = np.where(meas, 1.0 / np.maximum(w, 1e-12), np.inf)
    for k in range(n_t):
        # predict
        if k > 0:
            f, qm = mats[k - 1]
            x = x @ f.T
            p = f @ p @ f.T + qm
        # segments end after a long gap
        expired = alive & (t[k] - t_last > max_gap + TIME_EPS)
        alive &= ~expired
        fresh = meas[k] & ~alive
        if fresh.any():
            x[fresh] = 0.0
            x[fresh, 0] = z[k, fresh]
            p[fresh] = p0
            p[fresh, 0, 0] = rv[k, fresh]
            alive |= fresh
            t_last[fresh] = t[k]
            start[k, fresh] = True
        xs_p[k, alive] = x[alive]
        ps_p[k, alive] = p[alive]
        upd = meas[k] & alive & ~fresh
        if upd.any():
            pu = p[upd]
            s = pu[:, 0, 0] + rv[k, upd]
            gain = pu[:, :, 0] / s[:, None]
            innov = z[k, upd] - x[upd, 0]
            x[upd] = x[upd] + gain * innov[:, None]
            p[upd] = pu - gain[:, :, None] * pu[:, None, 0, :]
            t_last[upd] = t[k]
        xs_f[k, alive] = x[alive]
        ps_f[k, alive] = p[alive]
        x[~alive] = 0.0
        p[~alive] = 0.0
    if not smooth:
        return np.where(meas, xs_f[..., 0], np.nan)
    xs = xs_f.copy()
    for k in range(n_t - 2, -1, -1):
        f, _ = mats[k]
        link = np.isfinite(xs_f[k, :, 0]) & np.isfinite(xs_p[k + 1, :, 0]) & ~start[k + 1]
        if not link.any():
            continue
        pf = ps_f[k, link]
        pp = ps_p[k + 1, link]
        c = pf @ f.T @ np.linalg.inv(pp)
        xs[k, link] = xs_f[k, link] + np.einsum("mij,mj->mi", c, xs[k + 1, link] - xs_p[k + 1, link])
    return np.where(meas, xs[..., 0], np.nan)


# ---------------------------------------------------------------------------------------------------
# Butterworth
# ---------------------------------------------------------------------------------------------------
def butterworth(
    values: np.ndarray,
    time: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    cutoff: float = 6.0,
    order: int = 2,
    max_gap: float = DEFAULT_MAX_GAP,
) -> np.ndarray:
    """Zero-phase Butterworth low-pass (``scipy.signal.sosfiltfilt``, odd-extension padding).

    The sampling rate comes from the timestamps (``1 / median dt``); a segment whose frame intervals vary
    by more than 1 % is resampled to a uniform grid, filtered and interpolated back. ``cutoff`` is the
    −3 dB frequency of one pass; forward and backward together attenuate by 6 dB there (a 2nd-order
    filter run both ways is the "4th-order zero-lag Butterworth" of biomechanics). The straight line
    through a segment's end samples is subtracted before filtering and added back afterwards (no
    start-up transient; odd-extension padding of the residual). Low-confidence
    samples are pulled toward the straight line through their full-confidence neighbours before
    filtering (:func:`lean_on_confident`), short gaps are bridged by a line inside the filter only, and
    segments of fewer than 4 samples pass through unchanged. A straight-line (constant-velocity) input
    comes out unchanged.

    Args:
        values: ``(T, S, D)``.
        time: ``(T,)`` seconds, strictly increasing.
        weight: ``(T, S)`` in ``[0, 1]`` (0 = missing); default: 1 where finite.
        cutoff: Hz; must be below half the sampling rate.
        order: filter order of one pass.
        max_gap: seconds.

    Returns:
        ``(T, S, D)`` filtered values, NaN where ``weight`` is 0.

    Raises:
        ValueError: ``cutoff`` not below the Nyquist frequency of the sequence.
    """
    from scipy.signal import butter, sosfiltfilt

    v, t, w = _check_arrays(values, time, weight)
    n_t, n_s, n_d = v.shape
    out = np.full_like(v, np.nan)
    if n_t < 2:
        return np.where(w[..., None] > 0, v, np.nan)
    fs = 1.0 / float(np.median(np.diff(t)))
    if not 0 < cutoff < fs / 2:
        raise ValueError(
            f"Butterworth cutoff {cutoff} Hz must be positive and below the Nyquist frequency "
            f"{fs / 2:.4g} Hz of this sequence (frame rate {fs:.4g} frames/s)"
        )
    if int(order) < 1:
        raise ValueError(f"Butterworth order must be at least 1, got {order}")
    sos = butter(int(order), cutoff, btype="low", fs=fs, output="sos")
    default_pad = 3 * (2 * len(sos) + 1)
    v = lean_on_confident(v, t, w, max_gap)
    seg = segment_ids(t, w > 0, max_gap)
    for s in range(n_s):
        for g in np.unique(seg[:, s][seg[:, s] >= 0]):
            idx = np.flatnonzero(seg[:, s] == g)
            lo, hi = idx[0], idx[-1] + 1
            ts = t[lo:hi]
            ws = w[lo:hi, s]
            xs = v[lo:hi, s]
            meas = ws > 0
            if meas.sum() < 4:
                out[lo:hi, s][meas] = xs[meas]
                continue
            line = np.stack([np.interp(ts, ts[meas], xs[meas, d]) for d in range(n_d)], -1)
            xin = np.where(meas[:, None], xs, line)  # short gaps bridged inside the filter only
            dts = np.diff(ts)
            uniform = np.max(np.abs(dts - np.median(dts))) <= 0.01 * np.median(dts)
            # remove the straight line through the end samples: the residual starts and ends at 0, so the
            # filter has no start-up transient and a constant-velocity input passes exactly
            trend = xin[0] + np.outer((ts - ts[0]) / (ts[-1] - ts[0]), xin[-1] - xin[0])
            xin = xin - trend
            if uniform:
                y = sosfiltfilt(sos, xin, axis=0, padtype="odd", padlen=min(default_pad, len(ts) - 1))
            else:
                # uniform grid spanning the segment exactly, at (about) the median interval
                n_grid = max(int(math.ceil((ts[-1] - ts[0]) * fs - 1e-9)) + 1, 4)
                grid_t = np.linspace(ts[0], ts[-1], n_grid)
                fs_g = (n_grid - 1) / (ts[-1] - ts[0])
                sos_g = butter(int(order), min(cutoff, 0.499 * fs_g), btype="low", fs=fs_g, output="sos")
                grid_x = np.stack([np.interp(grid_t, ts, xin[:, d]) for d in range(n_d)], -1)
                yg = sosfiltfilt(sos_g, grid_x, axis=0, padtype="odd", padlen=min(default_pad, n_grid - 1))
                y = np.stack([np.interp(ts, grid_t, yg[:, d]) for d in range(n_d)], -1)
            y = y + trend
            out[lo:hi, s] = np.where(meas[:, None], y, np.nan)
    return out


# ---------------------------------------------------------------------------------------------------
# Savitzky–Golay
# ---------------------------------------------------------------------------------------------------
def savgol(
    values: np.ndarray,
    time: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    window: float = 0.3,
    polyorder: int = 2,
    max_gap: float = DEFAULT_MAX_GAP,
    chunk: int = 200_000,
) -> np.ndarray:
    """Savitzky–Golay smoothing as a weighted local polynomial fit in real time offsets.

    Around each frame, a polynomial of degree ``polyorder`` is fitted by weighted least squares to the
    ``2M + 1`` frames of the window (``window / dt_median`` rounded to the nearest whole number of
    frames, then up to an odd number; at least ``polyorder + 1`` frames) and evaluated at that frame.
    The window is shifted, not shrunk, at the ends of the sequence and of each segment, as
    ``scipy.signal.savgol_filter(mode="interp")`` does at the ends, so for uniform time and full
    weights the result equals SciPy's. Frames of other segments (across a gap longer than ``max_gap``)
    and missing frames get weight 0; a frame whose window holds fewer than ``polyorder + 1`` weighted
    samples keeps its measurement. A polynomial of degree ≤ ``polyorder`` passes unchanged.

    Args:
        values: ``(T, S, D)``.
        time: ``(T,)`` seconds, strictly increasing.
        weight: ``(T, S)`` in ``[0, 1]`` (0 = missing); default: 1 where finite.
        window: window length in seconds.
        polyorder: polynomial degree (≥ 0).
        max_gap: seconds.
        chunk: frames × series processed together (memory bound).

    Returns:
        ``(T, S, D)`` smoothed values, NaN where ``weight`` is 0.
    """
    v, t, w = _check_arrays(values, time, weight)
    n_t, n_s, n_d = v.shape
    p = int(polyorder)
    if p < 0:
        raise ValueError(f"Savitzky-Golay polyorder must be >= 0, got {polyorder}")
    if not window > 0:
        raise ValueError(f"Savitzky-Golay window must be positive, got {window} s")
    if n_t < 2:
        return np.where(w[..., None] > 0, v, np.nan)
    v = lean_on_confident(v, t, w, max_gap)
    dt_nom = float(np.median(np.diff(t)))
    frames = int(math.floor(window / dt_nom + 0.5 + 1e-9))  # nearest whole number of frames
    half = max(frames // 2, (p + 1) // 2, 1)  # an even count rounds up to the next odd one
    width = min(2 * half + 1, n_t)
    seg = segment_ids(t, w > 0, max_gap)  # (T, S)
    # each series' segment bounds (first and last measured frame), per frame
    lo = np.zeros((n_t, n_s), np.int64)
    hi = np.full((n_t, n_s), n_t - 1, np.int64)
    for s_i in range(n_s):
        ids = seg[:, s_i]
        for g in np.unique(ids[ids >= 0]):
            rows = np.flatnonzero(ids == g)
            lo[rows, s_i], hi[rows, s_i] = rows[0], rows[-1]
    # window start per centre and series: centred, shifted to stay inside the segment (scipy's "interp")
    centre = np.arange(n_t)[:, None]
    starts = np.minimum(np.maximum(centre - half, lo), np.maximum(hi - width + 1, lo))
    starts = np.clip(starts, 0, n_t - width)
    est = np.empty_like(v)
    step = max(1, chunk // max(n_t, 1))  # series per block, to bound memory on long sequences
    for c0 in range(0, n_s, step):
        sl = slice(c0, min(c0 + step, n_s))
        idx = starts[:, sl, None] + np.arange(width)  # (T, s, W)
        cols = np.arange(n_s)[sl][None, :, None]
        tn = (t[idx] - t[:, None, None]) / (half * dt_nom)  # (T, s, W) normalised time offsets
        a = tn[..., None] ** np.arange(p + 1)  # (T, s, W, P)
        same = (seg[idx, cols] == seg[:, sl, None]) & (seg[:, sl, None] >= 0)
        ww = np.where(same, w[idx, cols], 0.0)  # (T, s, W)
        vv = np.nan_to_num(v[idx, cols])  # (T, s, W, D)
        ata = np.einsum("tswp,tsw,tswq->tspq", a, ww, a)  # (T, s, P, P)
        aty = np.einsum("tswp,tsw,tswd->tspd", a, ww, vv)  # (T, s, P, D)
        enough = (ww > 0).sum(-1) >= p + 1  # (T, s)
        ata = np.where(enough[..., None, None], ata, np.eye(p + 1))
        coef = np.linalg.solve(ata, aty)  # (T, s, P, D)
        est[:, sl] = np.where(enough[..., None], coef[:, :, 0, :], v[:, sl])
    return np.where(w[..., None] > 0, est, np.nan)


# ---------------------------------------------------------------------------------------------------
# frame-level online One Euro
# ---------------------------------------------------------------------------------------------------
class OneEuroFilter:
    """Online One Euro over :class:`~posekit.poses.PoseFrame` results, one filter state per track id.

    Image coordinates (``xy`` and, when present, ``z``) and world coordinates are filtered separately,
    each with its person scale (bounding box of the present keypoints). All people of a frame are
    filtered in one vectorised step (each track id owns a slot of ``K`` series). States are untouched:
    a MISSING keypoint stays MISSING (see :class:`~posekit.track.stabilize.OnlineStabilizer` for
    occlusion prediction). People without a track id (``-1``) pass through unfiltered: without an
    identity there is no history to filter with. A track not updated for longer than ``forget_after``
    seconds is forgotten and its slot reused.

    Args:
        min_cutoff: Hz. beta: Hz per (person scale per second). d_cutoff: Hz.
        max_gap: seconds a keypoint's state is carried across missing measurements.
        full_score: keypoint score from which a measurement counts fully.
        fps: frames per second used for frames without a ``time`` (``time = frame / fps``).
        forget_after: seconds after which an absent track's state is dropped.
    """

    def __init__(
        self,
        *,
        min_cutoff: float = ONE_EURO_DEFAULTS["min_cutoff"],
        beta: float = ONE_EURO_DEFAULTS["beta"],
        d_cutoff: float = ONE_EURO_DEFAULTS["d_cutoff"],
        max_gap: float = DEFAULT_MAX_GAP,
        full_score: float = FULL_SCORE,
        fps: float | None = None,
        forget_after: float = 5.0,
    ) -> None:
        OneEuroCore(1, 1, min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff, max_gap=max_gap)  # validate
        self.params = {"min_cutoff": min_cutoff, "beta": beta, "d_cutoff": d_cutoff, "max_gap": max_gap}
        self.full_score = full_score
        self.fps = fps
        self.forget_after = forget_after
        self.reset()

    def reset(self, track_id: int | None = None) -> None:
        """Forget every track, or one."""
        if track_id is None:
            self.cores: dict[str, OneEuroCore] = {}
            self.slots: dict[int, int] = {}
            self._free: list[int] = []
            self._seen: dict[int, float] = {}
            self._k = 0
            self._last_time: float | None = None
            self.last_weights = np.zeros((0, 0))
            return
        slot = self.slots.pop(int(track_id), None)
        self._seen.pop(int(track_id), None)
        if slot is not None:
            rows = slot * self._k + np.arange(self._k)
            for core in self.cores.values():
                core.reset(rows)
            self._free.append(slot)

    def frame_time(self, frame: PoseFrame) -> float:
        """The frame's time in seconds (``frame.time``, else ``frame.frame / fps``); must increase."""
        if frame.time is not None:
            t = float(frame.time)
        elif self.fps:
            t = frame.frame / float(self.fps)
        else:
            raise InputError(f"frame {frame.frame}", "has no time and the filter was given no fps")
        if not math.isfinite(t):
            raise InputError(f"frame {frame.frame}", f"time {t} is not a finite number of seconds")
        if self._last_time is not None and t <= self._last_time:
            raise InputError(
                f"frame {frame.frame}",
                f"time {t:.6g} s is not after the previous frame's {self._last_time:.6g} s (timestamps must increase)",
            )
        return t

    def _slot(self, tid: int) -> int:
        slot = self.slots.get(tid)
        if slot is None:
            slot = self._free.pop() if self._free else len(self.slots)
            self.slots[tid] = slot
            for core in self.cores.values():
                core.grow((slot + 1) * self._k)
        return slot

    def _core(self, name: str, d: int, n_slots: int) -> OneEuroCore:
        core = self.cores.get(name)
        if core is None or core.shape[1] != d:
            core = OneEuroCore(n_slots * self._k, d, speed_dims=2 if name == "image" else None, **self.params)
            self.cores[name] = core
        core.grow(n_slots * self._k)
        return core

    def update(self, frame: PoseFrame) -> PoseFrame:
        """Filter one frame; returns a new :class:`PoseFrame` (same people, states and scores)."""
        return self._update(frame)[0]

    def _update(self, frame: PoseFrame) -> tuple[PoseFrame, np.ndarray, np.ndarray]:
        """Filter one frame. Also returns the filtered people ``(n,)`` and their series rows ``(n, K)``;
        their measurement weights ``(n, K)`` are left in ``self.last_weights``."""
        t = self.frame_time(frame)
        _check_frame(frame)
        k = len(frame.skeleton)
        if self._k != k:
            if self.slots:
                raise ValueError(f"this filter follows {self._k}-keypoint skeletons, got {frame.skeleton.name!r}")
            self._k = k
        out = copy.copy(frame)
        out.parts = dict(frame.parts)
        out.extras = dict(frame.extras)
        out.xy = frame.xy.copy()
        out.score = frame.score.copy()
        out.state = frame.state.copy()
        out.z = None if frame.z is None else frame.z.copy()
        out.world = None if frame.world is None else frame.world.copy()
        people = np.flatnonzero(frame.track_id >= 0)
        rows = np.zeros((0, k), np.int64)
        if people.size:
            slots = np.asarray([self._slot(int(frame.track_id[n])) for n in people])
            n_slots = int(slots.max()) + 1
            rows = slots[:, None] * k + np.arange(k)[None, :]
            flat = rows.ravel()
            state = frame.state[people]
            present = state != _MISSING
            w2 = confidence_weights(state, frame.score[people], full_score=self.full_score)
            self.last_weights = w2
            w = w2.ravel()
            img = frame.xy[people]
            if frame.z is not None:
                img = np.concatenate([img, frame.z[people][..., None]], -1)
            sc = np.repeat(_frame_scale(frame.xy[people], present), k)
            grp = np.repeat(np.arange(len(people)), k)
            core = self._core("image", img.shape[-1], n_slots)
            f_img = core.update(img.reshape(-1, img.shape[-1]), t, w, sc, flat, groups=grp)
            f_img = f_img.reshape(len(people), k, -1)
            out.xy[people] = np.where(present[..., None], f_img[..., :2], np.nan)
            if frame.z is not None:
                out.z[people] = np.where(present, f_img[..., 2], np.nan)
            if frame.world is not None:
                wsc = np.repeat(_frame_scale(frame.world[people], present), k)
                world_core = self._core("world", 3, n_slots)
                f_w = world_core.update(frame.world[people].reshape(-1, 3), t, w, wsc, flat, groups=grp)
                out.world[people] = np.where(present[..., None], f_w.reshape(len(people), k, 3), np.nan)
            for n in people:
                self._seen[int(frame.track_id[n])] = t
        for tid in [i for i, s in self._seen.items() if t - s > self.forget_after]:
            self.reset(tid)
        self._last_time = t
        out.box = fast_boxes(out.xy)
        return out, people, rows


def _frame_scale(points: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``(n,)`` person scale of one frame: mean of the width and height of the present keypoints.

    ``points`` must be NaN where not present (as validated frames are); a person with fewer than two
    distinct present keypoints gets scale 1.
    """
    if points.shape[0] == 0:
        return np.zeros(0)
    xy = points[..., :2]
    with np.errstate(invalid="ignore"):
        ext = np.fmax.reduce(xy, axis=1) - np.fmin.reduce(xy, axis=1)  # (n, 2); fmin/fmax skip NaN
        s = 0.5 * (ext[:, 0] + ext[:, 1])
        return np.where(s > 0, s, 1.0)  # NaN compares False


def fast_boxes(xy: np.ndarray) -> np.ndarray:
    """Tight boxes ``(N, 4)`` (x0, y0, x1, y1 pixels) around the finite keypoints of ``xy (N, K, 2)``;
    NaN rows for people without any."""
    if xy.shape[1] == 0:
        return np.full((xy.shape[0], 4), np.nan)
    # fmin/fmax skip NaN (a person with no finite keypoint gets NaN); a keypoint is NaN in both coordinates
    return np.concatenate([np.fmin.reduce(xy, axis=1), np.fmax.reduce(xy, axis=1)], -1)


def _check_frame(frame: PoseFrame) -> None:
    """Present keypoints must have finite coordinates (arrays may have been edited after validation)."""
    present = frame.state != _MISSING
    bad = present & ~np.isfinite(frame.xy).all(-1)
    if bad.any():
        n, k = (int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            f"frame {frame.frame}",
            f"person {n} keypoint {frame.skeleton.keypoints[k]!r} is {KeypointState(int(frame.state[n, k])).name} "
            "but has NaN coordinates",
        )


# ---------------------------------------------------------------------------------------------------
# sequence level
# ---------------------------------------------------------------------------------------------------
def check_sequence(seq: PoseSequence) -> None:
    """Raise :class:`InputError` for a sequence the stabilisation stages cannot trust.

    Checks strictly increasing timestamps and that every present keypoint has finite image (and, where
    given, world) coordinates. A sequence with no frames, no individuals or no present keypoint is valid
    (the stages pass it through).
    """
    where = seq.source or "<sequence>"
    check_time(seq.time, where)
    present = seq.state != _MISSING
    for name, arr in (("xy", seq.xy), ("world", seq.world)):
        if arr is None:
            continue
        bad = present & ~np.isfinite(arr).all(-1)
        if bad.any():
            ti, ii, ki = (int(i) for i in np.argwhere(bad)[0])
            raise InputError(
                where,
                f"keypoint {seq.skeleton.keypoints[ki]!r} of individual {ii} at frame {ti} is "
                f"{KeypointState(int(seq.state[ti, ii, ki])).name} but its {name} coordinates are not finite",
            )
    if seq.z is not None:
        bad = present & ~np.isfinite(seq.z)
        if bad.any():
            ti, ii, ki = (int(i) for i in np.argwhere(bad)[0])
            name = seq.skeleton.keypoints[ki]
            raise InputError(where, f"keypoint {name!r} of individual {ii} at frame {ti} has a non-finite z")


def image_values(seq: PoseSequence) -> np.ndarray:
    """``(T, I, K, D)`` image coordinates: ``x, y`` pixels, plus ``z`` when the sequence has it."""
    if seq.z is None:
        return seq.xy
    return np.concatenate([seq.xy, seq.z[..., None]], -1)


def smooth(
    seq: PoseSequence,
    method: str = "one-euro",
    *,
    max_gap: float = DEFAULT_MAX_GAP,
    full_score: float = FULL_SCORE,
    world: bool = True,
    log: bool = True,
    **params: float | int | str,
) -> PoseSequence:
    """Filter a sequence's keypoint trajectories; returns a new sequence (states and scores unchanged).

    Args:
        seq: the poses (individuals are filtered independently).
        method: ``"one-euro"``, ``"kalman"``, ``"butterworth"`` or ``"savgol"``.
        max_gap: seconds; longer gaps restart the filter.
        full_score: keypoint score from which a measurement counts fully.
        world: also filter the world coordinates (metres) when present.
        log: record the step in the provenance.
        **params: the filter's own parameters — one-euro: ``min_cutoff``, ``beta``, ``d_cutoff``;
            kalman: ``cutoff``, ``model``; butterworth: ``cutoff``, ``order``; savgol: ``window``,
            ``polyorder``.

    Returns:
        The filtered sequence. Sequences with fewer than two frames, no individuals or no present
        keypoint are returned as an unchanged copy (still logged).

    Raises:
        InputError: non-increasing timestamps or a present keypoint with NaN coordinates.
        ValueError: an unknown method or parameter.
    """
    if method not in FILTERS:
        raise ValueError(f"unknown filter {method!r}; choose from {', '.join(FILTERS)}")
    allowed = {
        "one-euro": {"min_cutoff", "beta", "d_cutoff"},
        "kalman": {"cutoff", "model"},
        "butterworth": {"cutoff", "order"},
        "savgol": {"window", "polyorder"},
    }[method]
    params = {k: v for k, v in params.items() if v is not None}
    unknown = set(params) - allowed
    if unknown:
        takes = ", ".join(sorted(allowed))
        raise ValueError(f"filter {method!r} has no parameter(s) {', '.join(sorted(unknown))} (it takes {takes})")
    check_sequence(seq)
    out = seq.copy()
    t_n, i_n, k_n = seq.state.shape
    present = seq.state != _MISSING
    if t_n >= 2 and i_n and present.any():
        w = confidence_weights(seq.state, seq.score, full_score=full_score).reshape(t_n, i_n * k_n)
        targets = [("image", image_values(seq))]
        if world and seq.world is not None:
            targets.append(("world", seq.world))
        for name, vals in targets:
            d = vals.shape[-1]
            flat = np.where(present[..., None], vals, np.nan).reshape(t_n, i_n * k_n, d)
            if method == "one-euro":
                sc = np.repeat(person_scale(vals, present), k_n, axis=1)
                res = one_euro(
                    flat, seq.time, w, scale=sc, max_gap=max_gap, speed_dims=2 if name == "image" else None,
                    groups=np.repeat(np.arange(i_n), k_n), **params,  # type: ignore[arg-type]
                )  # fmt: skip
            elif method == "kalman":
                res = kalman(flat, seq.time, w, max_gap=max_gap, **params)  # type: ignore[arg-type]
            elif method == "butterworth":
                res = butterworth(flat, seq.time, w, max_gap=max_gap, **params)  # type: ignore[arg-type]
            else:
                res = savgol(flat, seq.time, w, max_gap=max_gap, **params)  # type: ignore[arg-type]
            res = res.reshape(t_n, i_n, k_n, d)
            res = np.where(present[..., None], res, np.nan)
            if name == "image":
                out.xy = res[..., :2]
                if seq.z is not None:
                    out.z = res[..., 2]
            else:
                out.world = res
        from posekit.poses import _boxes_from_xy

        out.box = _boxes_from_xy(out.xy.reshape(t_n * i_n, k_n, 2)).reshape(t_n, i_n, 4)
    if log:
        out.log_step(f"filter.{method}", max_gap=max_gap, full_score=full_score, world=bool(world), **params)
    return out
