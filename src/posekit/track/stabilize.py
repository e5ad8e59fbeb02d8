"""Stabilisation pipelines: offline over a :class:`~posekit.poses.PoseSequence`, online frame by frame.

Offline, :func:`stabilize` chains the stages in this order, each recorded in the sequence's provenance:

1. :func:`~posekit.track.anatomy.fix_swaps` — undo left/right swaps (before anything smooths across
   them). **Off by default** (``fix_swaps=True`` or ``posekit stabilize --swaps`` to use it). On 12 real
   videos (11 UP-Fall clips and the Sports2D demo, estimated and tracked by posekit) the QA findings
   ``left_right.crossing`` / ``joint_limits.hyperextension`` / ``left_right.temporal`` are 0 / 33 / 16
   without it and 0 / 57 / 3 with it: it removes most abrupt left/right changes and leaves no limb
   crossing the torso, but still mirrors some well-labelled stretches of a walker turning (the extra
   hyperextension findings: a knee bending forward reads as bending backward on a mirrored body). The
   first version, before it skipped frames midway between a labelling and its mirror and made limbs
   follow the torso, gave 183 / 250 / 6.
   Injected bursts of swapped arms, legs or torso in real motion are all undone (293 of 293);
2. :func:`~posekit.track.anatomy.fix_bends` — undo knee/elbow bend reversals;
3. :func:`~posekit.track.filters.smooth` — the chosen filter (image and world coordinates);
4. :func:`~posekit.track.occlusion.fill_gaps` — bridge short gaps (``INTERPOLATED``);
5. :func:`~posekit.track.anatomy.enforce_bone_lengths` — pull bones to the track's robust lengths (last,
   so the filter cannot undo it and the bridged keypoints get the track's proportions too; the lengths
   are estimated from confident measurements only).

Online, :class:`OnlineStabilizer` applies the One Euro filter per track id, predicts keypoints that
vanish for at most ``max_gap`` seconds (``OCCLUDED``, score 0) and keeps each track's world bone
lengths steady; it is meant for frame-by-frame use (``posekit estimate``'s default smoothing on video).

Degenerate input is passed through (copied, and logged): no frames, no individuals, one frame, or no
present keypoint. Non-increasing timestamps and present keypoints with NaN coordinates raise
:class:`~posekit.errors.InputError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from posekit.poses import KeypointState, PoseFrame, PoseSequence

from .anatomy import OnlineBoneLengths, enforce_bone_lengths, fix_bends, fix_swaps
from .filters import (
    DEFAULT_MAX_GAP,
    FILTERS,
    FULL_SCORE,
    ONE_EURO_DEFAULTS,
    OneEuroFilter,
    check_sequence,
    fast_boxes,
    smooth,
)
from .occlusion import PREDICTED_SCORE, fill_gaps as _fill_gaps, predict_missing

__all__ = ["stabilize", "OnlineStabilizer", "DEFAULT_CUTOFF", "DEFAULT_SAVGOL_WINDOW"]

_MISSING = int(KeypointState.MISSING)

#: Default cutoff (Hz) of the offline Butterworth and Kalman filters: 6 Hz keeps human movement
#: (most of its power lies below 6 Hz; the common choice in gait biomechanics) and removes jitter.
DEFAULT_CUTOFF = 6.0
#: Default Savitzky–Golay window (seconds) with a quadratic: about the same corner as 6 Hz at 30 frames/s.
DEFAULT_SAVGOL_WINDOW = 0.3


def stabilize(
    seq: PoseSequence,
    *,
    filter: str | None = "one-euro",
    cutoff: float | None = None,
    min_cutoff: float | None = None,
    beta: float | None = None,
    window: float | None = None,
    kalman_model: str = "velocity",
    bone_lengths: bool = True,
    fix_swaps: bool = False,
    fix_bends: bool = True,
    fill_gaps: bool = True,
    max_gap: float = DEFAULT_MAX_GAP,
    gap_method: str = "linear",
    full_score: float = FULL_SCORE,
) -> PoseSequence:
    """Stabilise a sequence offline. See the module docstring for the order of the stages.

    Args:
        seq: the poses (individuals = tracks; run a tracker first for multi-person video).
        filter: ``"one-euro"``, ``"kalman"``, ``"butterworth"``, ``"savgol"`` or ``None`` (no filter).
        cutoff: Hz, for ``kalman`` and ``butterworth`` (default :data:`DEFAULT_CUTOFF`).
        min_cutoff: Hz, One Euro cutoff at rest (default ``ONE_EURO_DEFAULTS``).
        beta: One Euro speed coefficient, Hz per (person scale per second).
        window: seconds, Savitzky–Golay window (default :data:`DEFAULT_SAVGOL_WINDOW`).
        kalman_model: ``"velocity"`` or ``"acceleration"``.
        bone_lengths: enforce per-track bone lengths.
        fix_swaps: undo left/right swaps (off by default: it mislabels real footage, see the module
            docstring).
        fix_bends: undo knee/elbow bend reversals.
        fill_gaps: interpolate gaps up to ``max_gap``.
        max_gap: seconds; the longest gap filters carry state across and gap filling bridges.
        gap_method: ``"linear"`` or ``"cubic"``.
        full_score: keypoint score from which a measurement counts fully.

    Returns:
        A new, stabilised sequence with one provenance entry per applied stage.

    Raises:
        InputError: non-increasing timestamps, or a present keypoint with NaN coordinates.
        ValueError: an unknown filter or a parameter the chosen filter does not take.
    """
    if filter is not None and filter not in FILTERS:
        raise ValueError(f"unknown filter {filter!r}; choose from {', '.join(FILTERS)} or None")
    params: dict[str, Any] = {}
    if filter == "one-euro":
        if cutoff is not None or window is not None:
            raise ValueError("the one-euro filter takes min_cutoff and beta, not cutoff or window")
        params = {"min_cutoff": min_cutoff, "beta": beta}
    elif filter in ("kalman", "butterworth"):
        if min_cutoff is not None or beta is not None or window is not None:
            raise ValueError(f"the {filter} filter takes cutoff, not min_cutoff, beta or window")
        params = {"cutoff": DEFAULT_CUTOFF if cutoff is None else cutoff}
        if filter == "kalman":
            params["model"] = kalman_model
    elif filter == "savgol":
        if cutoff is not None or min_cutoff is not None or beta is not None:
            raise ValueError("the savgol filter takes window (seconds), not cutoff, min_cutoff or beta")
        params = {"window": DEFAULT_SAVGOL_WINDOW if window is None else window}
    check_sequence(seq)
    out = seq.copy()
    trivial = len(seq) < 2 or seq.num_individuals == 0 or not (seq.state != KeypointState.MISSING).any()
    if trivial:
        return out.log_step(
            "stabilize", skipped=True,
            reason=f"nothing to stabilise ({len(seq)} frames, {seq.num_individuals} individuals, "
            f"{int((seq.state != KeypointState.MISSING).sum())} present keypoints)",
        )  # fmt: skip
    if fix_swaps:
        out = _fix_swaps(out, max_gap=max_gap, full_score=full_score)
    if fix_bends:
        out = _fix_bends(out)
    if filter is not None:
        out = smooth(out, filter, max_gap=max_gap, full_score=full_score, **params)
    if fill_gaps:
        out = _fill_gaps(out, max_gap=max_gap, method=gap_method)  # type: ignore[arg-type]
    if bone_lengths:
        out = enforce_bone_lengths(out, full_score=full_score)
    return out


_fix_swaps = fix_swaps
_fix_bends = fix_bends


class OnlineStabilizer:
    """Frame-by-frame stabilisation for live use: One Euro filter, occlusion prediction and world bone
    lengths, per track id.

    ``update(frame)`` returns a new :class:`~posekit.poses.PoseFrame` with the same people: present
    keypoints filtered (states and scores unchanged); MISSING keypoints whose last measurement is at most
    ``max_gap`` seconds old given their predicted position, state ``OCCLUDED`` (or ``predicted_state``)
    and score 0; older ones stay MISSING. With ``bone_lengths``, world keypoints (metres) are then pulled
    toward each track's running bone lengths (:class:`~posekit.track.anatomy.OnlineBoneLengths`; image
    coordinates are left to the filter). People without a track id (``-1``) pass through unchanged.

    Args:
        min_cutoff: One Euro cutoff at rest, Hz.
        beta: One Euro speed coefficient, Hz per (person scale per second).
        d_cutoff: cutoff of the derivative, Hz.
        max_gap: seconds a vanished keypoint is predicted for.
        predict: fill vanished keypoints (False: filter only).
        predicted_state: state given to predicted keypoints.
        decay: seconds, damping time constant of the predicted velocity.
        bone_lengths: keep each track's world bone lengths steady.
        full_score: keypoint score from which a measurement counts fully.
        fps: frames per second for frames that carry no time.
    """

    def __init__(
        self,
        *,
        min_cutoff: float = ONE_EURO_DEFAULTS["min_cutoff"],
        beta: float = ONE_EURO_DEFAULTS["beta"],
        d_cutoff: float = ONE_EURO_DEFAULTS["d_cutoff"],
        max_gap: float = DEFAULT_MAX_GAP,
        predict: bool = True,
        predicted_state: KeypointState = KeypointState.OCCLUDED,
        decay: float = 0.25,
        bone_lengths: bool = True,
        full_score: float = FULL_SCORE,
        fps: float | None = None,
    ) -> None:
        self.bone_lengths = bone_lengths
        self.full_score = full_score
        self._bones: OnlineBoneLengths | None = None
        self.filter = OneEuroFilter(
            min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff, max_gap=max_gap, full_score=full_score, fps=fps
        )
        self.predict = predict
        self.predicted_state = KeypointState(predicted_state)
        self.decay = decay
        self.params = {
            "min_cutoff": min_cutoff, "beta": beta, "d_cutoff": d_cutoff, "max_gap": max_gap, "predict": predict,
            "predicted_state": self.predicted_state.name, "decay": decay, "bone_lengths": bone_lengths,
            "full_score": full_score,
        }  # fmt: skip

    def reset(self, track_id: int | None = None) -> None:
        """Forget every track, or one."""
        self.filter.reset(track_id)
        if self._bones is not None:
            if track_id is None:
                self._bones.reset()
            else:
                self._bones.forget(int(track_id))

    def update(self, frame: PoseFrame) -> PoseFrame:
        """Stabilise one frame (frames must come in time order)."""
        out, people, rows = self.filter._update(frame)
        if people.size == 0:
            return out
        if self.predict:
            self._predict(out, people, rows)
        if self.bone_lengths and out.world is not None:
            if self._bones is None or self._bones.skeleton is not out.skeleton:
                self._bones = OnlineBoneLengths(out.skeleton)
            present = out.state[people] != _MISSING
            w = self.filter.last_weights
            mobility = np.where(present, 1.5 - w, 0.0)
            fixed = self._bones.update(out.track_id[people], out.world[people], w >= 1.0, mobility,
                                       float(self.filter._last_time))  # type: ignore[arg-type]  # fmt: skip
            out.world[people] = np.where(present[..., None], fixed, np.nan)
        return out

    def _predict(self, out: PoseFrame, people: np.ndarray, rows: np.ndarray) -> None:
        """Fill vanished keypoints of the tracked ``people`` from their filter state, in place."""
        t = float(self.filter._last_time)  # type: ignore[arg-type]
        present = out.state[people] != _MISSING  # (n, K)
        if present.all():
            return
        flat = rows.ravel()
        core = self.filter.cores["image"]
        pred, ok = predict_missing(core, np.full((flat.size, core.shape[1]), np.nan), present.ravel(), t,
                                   decay=self.decay, index=flat)  # fmt: skip
        fill = ok.reshape(present.shape)
        if not fill.any():
            return
        pred = pred.reshape(*present.shape, -1)
        n_idx, k_idx = np.nonzero(fill)
        p_idx = people[n_idx]
        out.xy[p_idx, k_idx] = pred[n_idx, k_idx, :2]
        if out.z is not None:
            out.z[p_idx, k_idx] = pred[n_idx, k_idx, 2]
        if out.world is not None and "world" in self.filter.cores:
            wpred, _ = predict_missing(self.filter.cores["world"], np.full((flat.size, 3), np.nan), present.ravel(), t,
                                       decay=self.decay, index=flat)  # fmt: skip
            out.world[p_idx, k_idx] = wpred.reshape(*present.shape, 3)[n_idx, k_idx]
        out.state[p_idx, k_idx] = self.predicted_state
        out.score[p_idx, k_idx] = PREDICTED_SCORE
        out.box = fast_boxes(out.xy)

    def run(self, seq: PoseSequence) -> PoseSequence:
        """Apply online stabilisation to a whole sequence, frame by frame (as it would run live).

        Returns:
            A new sequence (same individuals and times) with the step logged.
        """
        check_sequence(seq)
        self.reset()
        out = seq.copy()
        t_n, i_n, _ = seq.state.shape
        for t in range(t_n):
            here = np.flatnonzero((seq.state[t] != KeypointState.MISSING).any(-1))
            if here.size == 0:
                continue
            f = seq.frame_at(t)
            f.track_id = here.astype(np.int64)  # individual index as identity: one state per column
            g = self.update(f)
            out.xy[t, here] = g.xy
            out.score[t, here] = g.score
            out.state[t, here] = g.state
            if out.z is not None and g.z is not None:
                out.z[t, here] = g.z
            if out.world is not None and g.world is not None:
                out.world[t, here] = g.world
            out.box[t, here] = g.box
        return out.log_step("stabilize.online", **self.params)
