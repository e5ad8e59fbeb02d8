"""Filters and anatomy on real human motion: Penn Action ground-truth trajectories with added noise.

Two clips per action class (16 clips, 1255 frames, 13 joints) are read with
:func:`posekit.datasets.penn.read_penn_clip` (30 frames/s assumed by the reader); Gaussian noise of a
fixed fraction of the person's size (seeded) is added to every joint, and the error against the
annotation is measured on the joints the annotators saw (VISIBLE).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from posekit.datasets.penn import read_penn_clip
from posekit.poses import KeypointState, PoseSequence
from posekit.track.anatomy import fix_swaps, swap_groups
from posekit.track.filters import FILTERS, person_scale, smooth
from posekit.track.stabilize import OnlineStabilizer, stabilize

PENN = "2_video_tracking/penn_action_labels_via_samaonline"


@pytest.fixture(scope="module")
def clips(data_dir: Path) -> list[PoseSequence]:
    root = data_dir / PENN
    have = {p.name for p in (root / "labels").glob("*.mat")}
    by: dict[str, list[str]] = {}
    with open(root / "INDEX_derived.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["file"] in have:
                by.setdefault(row["action"], []).append(row["file"])
    assert len(by) == 8, sorted(by)
    names = [f for a in sorted(by) for f in sorted(by[a])[:2]]
    return [read_penn_clip(root / "labels" / f).poses for f in names]


def _noisy(clips: list[PoseSequence], sigma: float, seed: int) -> list[PoseSequence]:
    rng = np.random.default_rng(seed)
    out = []
    for c in clips:
        s = c.copy()
        size = np.nanmedian(person_scale(s.xy, s.present)[:, 0])
        s.xy = s.xy + rng.normal(size=s.xy.shape) * sigma * size  # NaN (MISSING) stays NaN
        out.append(s)
    return out


def _reduction(clips: list[PoseSequence], noisy: list[PoseSequence], outs: list[PoseSequence]) -> float:
    """Relative drop of the RMS error on VISIBLE ground-truth joints (0.3 = 30 % lower)."""
    e0 = e1 = 0.0
    for c, n, o in zip(clips, noisy, outs):
        vis = c.state == KeypointState.VISIBLE
        e0 += float(np.sum((n.xy - c.xy)[vis] ** 2))
        e1 += float(np.sum((o.xy - c.xy)[vis] ** 2))
    return 1.0 - np.sqrt(e1 / e0)


# measured at the time of writing (reduction of the RMS error):
#   noise 2 %: one-euro 22.9 %, kalman 37.6 %, butterworth 36.3 %, savgol 40.0 %
#   noise 1 %: one-euro 5.4 %, kalman 28.9 %, butterworth 26.8 %, savgol 19.6 %
FLOORS = {
    0.02: {"one-euro": 0.15, "kalman": 0.30, "butterworth": 0.30, "savgol": 0.30},
    0.01: {"one-euro": 0.0, "kalman": 0.20, "butterworth": 0.20, "savgol": 0.12},
}


@pytest.mark.integration
@pytest.mark.parametrize("sigma", sorted(FLOORS))
def test_every_filter_brings_the_error_down(clips: list[PoseSequence], sigma: float) -> None:
    noisy = _noisy(clips, sigma, seed=11)
    got = {m: _reduction(clips, noisy, [smooth(n, m) for n in noisy]) for m in FILTERS}
    for m, floor in FLOORS[sigma].items():
        assert got[m] > floor, f"noise {sigma:.0%}: error reduction per filter {got}"
    # the online stabiliser is the One Euro filter frame by frame (plus prediction, unused here)
    online = _reduction(clips, noisy, [OnlineStabilizer().run(n) for n in noisy])
    assert online == pytest.approx(got["one-euro"], abs=1e-9)
    # the whole offline pipeline (swaps, bends, filter, bones, gaps) keeps the filter's gain
    for m in ("one-euro", "butterworth"):
        full = _reduction(clips, noisy, [stabilize(n, filter=m) for n in noisy])
        assert full > got[m] - 0.02, (m, full, got[m])


@pytest.mark.integration
def test_filters_at_a_variable_frame_rate(clips: list[PoseSequence]) -> None:
    """A fifth of the frames dropped at random: the timestamps are uneven, the filters still help."""
    rng = np.random.default_rng(5)
    kept = []
    for c in clips:
        keep = np.sort(rng.choice(len(c), size=int(0.8 * len(c)), replace=False))
        kept.append(PoseSequence(c.skeleton, c.xy[keep], c.score[keep], c.state[keep], c.time[keep]))
    assert any(np.ptp(np.diff(c.time)) > 0.03 for c in kept)
    noisy = _noisy(kept, 0.02, seed=12)
    for m in FILTERS:
        red = _reduction(kept, noisy, [smooth(n, m) for n in noisy])
        assert red > (0.12 if m == "one-euro" else 0.25), (m, red)


@pytest.mark.integration
def test_injected_swaps_in_real_motion_are_undone(clips: list[PoseSequence]) -> None:
    """Short bursts (2–5 frames) of swapped arms, legs or torso in noisy real motion are relabelled back."""
    rng = np.random.default_rng(1)
    noisy = _noisy(clips, 0.01, seed=13)
    injected = restored = clean = invented = 0
    for c in noisy:
        groups = swap_groups(c.skeleton)
        flip = c.skeleton.flip_index
        size = np.nanmedian(person_scale(c.xy, c.present)[:, 0])
        labels = np.zeros((len(c), len(groups)), bool)
        bad = c.copy()
        for gi, g in enumerate(groups):
            for _ in range(2):
                a, n = int(rng.integers(5, len(c) - 8)), int(rng.integers(2, 6))
                labels[a : a + n, gi] = True
            fr = np.flatnonzero(labels[:, gi])[:, None]
            for arr in (bad.xy, bad.score, bad.state):
                arr[fr, 0, g] = arr[fr, 0, flip[g]].copy()
        out = fix_swaps(bad)
        for gi, g in enumerate(groups):
            apart = np.linalg.norm(c.xy[:, 0, g] - c.xy[:, 0, flip[g]], axis=-1)
            informative = np.nanmax(np.nan_to_num(apart), axis=1) > 0.1 * size  # the sides can be told apart
            same = np.all((out.xy[:, 0, g] == c.xy[:, 0, g]) | np.isnan(c.xy[:, 0, g]), axis=(1, 2))
            injected += int(np.sum(labels[:, gi] & informative))
            restored += int(np.sum(labels[:, gi] & informative & same))
            clean += int(np.sum(~labels[:, gi]))
            invented += int(np.sum(~labels[:, gi] & ~same))
    # measured: 293 of 293 restored, 0 of 3430 clean group-frames changed
    assert injected > 150
    assert restored / injected > 0.9, (restored, injected)
    assert invented / clean < 0.01, (invented, clean)
