"""Anatomical consistency over time: bone lengths, bend direction of knees and elbows, left/right swaps.

Three offline corrections of a :class:`~posekit.poses.PoseSequence`, each per individual (track):

* :func:`enforce_bone_lengths` — each bone's length is estimated robustly for the track (median over the
  frames where both ends are confident) and every frame is pulled toward it by a few cheap iterations
  of distance-constraint relaxation (weak keypoints move more than confident ones). World coordinates
  are corrected in metres, both ways. Image coordinates are corrected relative to a per-frame scale
  (the person's distance to the camera changes) and, by default, only where a bone is *longer* than
  expected: a projected bone is legitimately shorter than its length when it points toward the camera
  (foreshortening), never longer; its expected length is then the 90th percentile of its
  scale-normalised projected lengths (the median would call every unforeshortened frame too long),
  and the per-frame scale follows the less foreshortened bones (upper quartile of the frame's length
  ratios). In 2D this only catches gross over-extensions; the metric bone lengths are in the world.
* :func:`fix_bends` — a knee or elbow may not reverse its bend direction between neighbouring frames
  without passing through straight. The direction is the sign of the 2D cross product of the two
  segments (image) or the bend plane's normal (world). Within a run of bent frames, the shorter
  stretches that bend the other way are corrected by reflecting the middle joint across the line
  through the outer two (bone lengths are preserved).
* :func:`fix_swaps` — a left/right swap (the model labelling the left knee as the right one) is found
  by comparing, frame after frame, the keypoints as labelled and as swapped (``skeleton.flip_index``)
  against the prediction from the track's corrected history; the assignment that fits clearly better
  wins. Groups of keypoints are tested separately (each limb, the torso, the head), because detectors
  often swap one limb only; the torso (shoulders and hips) is decided first. A frame in which a group's
  left and right sides suddenly draw together (the model midway between a labelling and its mirror)
  stays out of the motion history, so the mirror that follows is seen as a swap rather than followed as
  motion. Per group, if more than half of the track ended up relabelled the complementary labelling is
  taken (the track most likely started swapped). Last, each limb follows its corrected shoulders or
  hips: in a run where its labelling attaches it to the opposite side clearly more than the other
  labelling would, the other is taken (so no limb is left crossing the torso).
  Opt-in in :func:`~posekit.track.stabilize.stabilize` (see there for its effect on real footage).

The keypoint states are kept (a correction is not a measurement); each step is logged in provenance.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from posekit.poses import KeypointState, PoseSequence
from posekit.skeletons import Skeleton

from .filters import DEFAULT_MAX_GAP, FULL_SCORE, check_sequence, confidence_weights, image_values

__all__ = [
    "rigid_bones",
    "swap_groups",
    "bend_joints",
    "bone_lengths",
    "estimate_bone_lengths",
    "relax_bone_lengths",
    "enforce_bone_lengths",
    "bone_length_cv",
    "bend_signs",
    "fix_bends",
    "fix_swaps",
    "OnlineBoneLengths",
]

_RELAX = 1.5  # Jacobi over-relaxation factor (with per-keypoint averaging of the corrections)
_HEAD = ("nose", "eye", "ear", "mouth", "head")


# ---------------------------------------------------------------------------------------------------
# skeleton-derived structure
# ---------------------------------------------------------------------------------------------------
def rigid_bones(skeleton: Skeleton) -> np.ndarray:
    """The skeleton's edges that are bones of fixed length: all but head-to-shoulder links (the neck bends).

    Returns:
        ``(E, 2)`` int64 keypoint index pairs.
    """
    names = skeleton.keypoints
    out = []
    for a, b in skeleton.edges:
        na, nb = names[a], names[b]
        head_a, head_b = any(h in na for h in _HEAD), any(h in nb for h in _HEAD)
        if (head_a and "shoulder" in nb) or (head_b and "shoulder" in na):
            continue
        out.append((a, b))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def _pair_graph(
    skeleton: Skeleton,
) -> tuple[list[tuple[int, int]], dict[int, int], set[frozenset[int]], set[int]]:
    """Flip pairs ``(left, right)``, each keypoint's partner, the bones as index sets, and the anchors
    (keypoints of both sides joined to their partner by a bone: shoulders, hips, eyes…)."""
    pairs = [(int(a), int(b)) for a, b in skeleton.flip_pairs]
    partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    edges = {frozenset(int(i) for i in e) for e in skeleton.edges}
    anchors = {a for a in partner if frozenset((a, partner[a])) in edges}
    return pairs, partner, edges, anchors


def swap_groups(skeleton: Skeleton) -> list[np.ndarray]:
    """Groups of flip pairs that a detector swaps together: each limb, the torso, the head.

    The *anchors* are left keypoints joined by an edge to their own right partner (shoulders, hips,
    eyes or mouth corners); removing them from the left side's edge graph leaves one connected
    component per limb or head. Head keypoints (names with nose/eye/ear/mouth) form one group and the
    remaining anchors another (the torso).

    Returns:
        A list of ``(G,)`` int64 arrays of keypoint indices (both sides of each pair in the group).
    """
    pairs, partner, edges, both = _pair_graph(skeleton)
    if not pairs:
        return []
    left = [a for a, _ in pairs]
    anchors = {a for a in left if a in both}
    rest = [a for a in left if a not in anchors]
    # connected components among the remaining left keypoints (an edge via the right side counts too)
    comp: dict[int, int] = {}
    for a in rest:
        if a in comp:
            continue
        stack, cid = [a], len(set(comp.values()))
        comp[a] = cid
        while stack:
            u = stack.pop()
            for v in rest:
                if v in comp:
                    continue
                if frozenset((u, v)) in edges or frozenset((partner[u], partner[v])) in edges:
                    comp[v] = cid
                    stack.append(v)
    groups: list[list[int]] = [[] for _ in range(len(set(comp.values())))]
    for a, c in comp.items():
        groups[c] += [a, partner[a]]
    names = skeleton.keypoints

    def is_head(i: int) -> bool:
        return any(h in names[i] for h in _HEAD)

    # head anchors (eyes joined left-right) belong with the rest of the head, not with the torso
    head = [i for g in groups if any(is_head(j) for j in g) for i in g]
    groups = [g for g in groups if not any(is_head(j) for j in g)]
    head += [i for a in sorted(anchors) if is_head(a) for i in (a, partner[a])]
    body = [i for a in sorted(anchors) if not is_head(a) for i in (a, partner[a])]
    groups += [head, body]
    return [np.asarray(sorted(g), dtype=np.int64) for g in groups if g]


def bend_joints(skeleton: Skeleton) -> list[tuple[int, int, int]]:
    """``(proximal, vertex, distal)`` index triples of the hinge joints (knees and elbows)."""
    out = []
    for ang in skeleton.angles:
        if "knee" in ang.name or "elbow" in ang.name:
            out.append((skeleton.index(ang.proximal), skeleton.index(ang.vertex), skeleton.index(ang.distal)))
    return out


# ---------------------------------------------------------------------------------------------------
# bone lengths
# ---------------------------------------------------------------------------------------------------
def bone_lengths(points: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """Bone lengths ``(..., E)`` of ``points (..., K, D)`` (NaN where an end is NaN)."""
    return np.linalg.norm(points[..., bones[:, 0], :] - points[..., bones[:, 1], :], axis=-1)


def _running_median(x: np.ndarray, half: int) -> np.ndarray:
    """Running median over ``2·half + 1`` samples ignoring NaN; NaN only where the window has none."""
    n = len(x)
    if n == 0 or half <= 0:
        return x.copy()
    pad = np.concatenate([np.full(half, np.nan), x, np.full(half, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * half + 1)
    out = np.full(n, np.nan)
    ok = np.isfinite(win).any(1)
    if ok.any():
        out[ok] = np.nanmedian(win[ok], axis=1)
    return out


def estimate_bone_lengths(
    points: np.ndarray,
    confident: np.ndarray,
    bones: np.ndarray,
    *,
    per_frame_scale: bool,
    scale_window: int = 15,
    quantile: float = 0.5,
    scale_quantile: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust bone lengths of one track, optionally with a per-frame scale.

    With ``per_frame_scale`` (image coordinates) lengths and scales are found by alternation:
    ``ℓ_e = median_t(L_te / s_t)``, ``s_t = quantile_e(L_te / ℓ_e, scale_quantile)``, the scale then
    smoothed by a running
    median of ``scale_window`` frames and normalised to a median of 1, so ``ℓ`` is in pixels at the
    track's median size. Without it, ``s_t = 1`` and ``ℓ_e`` is the median length (metres for world).
    Finally ``ℓ_e`` is the ``quantile`` of the (scale-normalised) lengths: the median by default; a high
    quantile for projected lengths, whose true value is their upper range (foreshortening only shortens).

    Args:
        points: ``(T, K, D)`` coordinates.
        confident: ``(T, K)`` bool: keypoints trusted for the estimate.
        bones: ``(E, 2)`` keypoint index pairs.
        per_frame_scale: estimate a per-frame scale.
        scale_window: frames of the running median of the scale.
        quantile: in ``[0, 1]``; which quantile of the lengths is the bone's length.
        scale_quantile: in ``[0, 1]``; which quantile of a frame's length ratios is its scale (a high
            one follows the least foreshortened bones).

    Returns:
        ``lengths (E,)`` (NaN for a bone never seen confidently) and ``scale (T,)`` (positive).
    """
    t_n = points.shape[0]
    ok = confident[:, bones[:, 0]] & confident[:, bones[:, 1]]
    length = np.where(ok, bone_lengths(points, bones), np.nan)  # (T, E)
    length = np.where(length > 0, length, np.nan)
    scale = np.ones(t_n)
    seen = np.isfinite(length).any(0)
    ell = np.full(len(bones), np.nan)
    if not seen.any():
        return ell, scale
    ell[seen] = np.nanmedian(length[:, seen], axis=0)
    if per_frame_scale:
        for _ in range(3):
            ratio = length[:, seen] / ell[seen]
            has = np.isfinite(ratio).any(1)
            s = np.full(t_n, np.nan)
            s[has] = np.nanquantile(ratio[has], scale_quantile, axis=1)
            s = _running_median(s, scale_window // 2)
            fill = np.isfinite(s)
            if not fill.any():
                break
            s = np.interp(np.arange(t_n), np.flatnonzero(fill), s[fill])
            s = s / np.median(s)
            scale = s
            ell[seen] = np.nanmedian(length[:, seen] / scale[:, None], axis=0)
    if quantile != 0.5:
        ell[seen] = np.nanquantile(length[:, seen] / scale[:, None], quantile, axis=0)
    return ell, scale


@functools.lru_cache(maxsize=16)
def _incidence(k_n: int, bones_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Keypoint × (bone as end a | bone as end b) incidence (+1 / −1) and its absolute value."""
    bones = np.frombuffer(bones_bytes, dtype=np.int64).reshape(-1, 2)
    e_n = len(bones)
    inc = np.zeros((k_n, 2 * e_n))
    inc[bones[:, 0], np.arange(e_n)] = 1.0
    inc[bones[:, 1], e_n + np.arange(e_n)] = -1.0
    inc.setflags(write=False)
    inc_abs = np.abs(inc)
    inc_abs.setflags(write=False)
    return inc, inc_abs


def relax_bone_lengths(
    points: np.ndarray,
    target: np.ndarray,
    mobility: np.ndarray,
    bones: np.ndarray,
    *,
    iterations: int = 16,
    shorten_only: bool = False,
    tolerance: float = 0.0,
    relax: float = _RELAX,
) -> np.ndarray:
    """Move keypoints so bones approach their target lengths (Jacobi distance-constraint relaxation).

    Each iteration computes, for every bone with both ends present, the change along the bone that
    would give it its target length (only where it is longer than ``target·(1 + tolerance)`` with
    ``shorten_only``; else where it differs by more than ``tolerance·target``), splits it between the two
    ends in proportion to their ``mobility``, and applies the average of each keypoint's corrections
    (Jacobi iteration with constraint averaging, relaxation factor ``relax``).

    Args:
        points: ``(N, K, D)`` coordinates (NaN where missing).
        target: ``(N, E)`` target lengths (NaN: bone left alone).
        mobility: ``(N, K)`` non-negative; 0 pins a keypoint.
        bones: ``(E, 2)`` index pairs.
        iterations: relaxation sweeps.
        shorten_only: correct only bones longer than their target.
        tolerance: relative band around the target left alone.
        relax: relaxation factor (1 applies the averaged corrections as they are; the default 1.5
            over-relaxes, which converges faster and stays stable below 2).

    Returns:
        ``(N, K, D)`` corrected coordinates (NaN where the input is NaN).
    """
    bones = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
    n_n, k_n, d_n = points.shape
    e_n = len(bones)
    if n_n == 0 or e_n == 0 or iterations <= 0:
        return points.copy()
    a, b = bones[:, 0], bones[:, 1]
    # work keypoint-major, (K, N, D), so that the per-keypoint sums are one matrix product
    p = np.ascontiguousarray(points.transpose(1, 0, 2))
    tgt = np.asarray(target, dtype=np.float64).T  # (E, N)
    mob = mobility.T  # (K, N)
    ma, mb = mob[a], mob[b]  # (E, N)
    msum = ma + mb
    share = np.where(msum > 0, 1.0 / np.where(msum > 0, msum, 1.0), 0.0)
    inc, inc_abs = _incidence(k_n, bones.tobytes())
    if shorten_only:
        lo, hi = np.full_like(tgt, -np.inf), tgt * (1 + tolerance)
    else:
        lo, hi = tgt * (1 - tolerance), tgt * (1 + tolerance)
    shape = (2 * e_n, n_n * d_n)
    usable = np.isfinite(tgt) & (msum > 0)  # (E, N)
    cnt = None
    with np.errstate(invalid="ignore"):
        for _ in range(iterations):
            d = p[b] - p[a]  # (E, N, D)
            length = np.sqrt((d * d).sum(-1))  # (E, N); NaN where an end is missing
            valid = usable & (length > 1e-12)  # NaN compares False
            err = np.where(valid, length - np.clip(length, lo, hi), 0.0)
            if not err.any():
                break
            if cnt is None:  # bones per keypoint (the missing ones do not change between sweeps)
                cnt = np.maximum(inc_abs @ np.concatenate([valid, valid]).astype(float), 1.0)[..., None]
            f = (err * share / np.where(valid, length, 1.0))[..., None] * np.where(valid[..., None], d, 0.0)
            g = np.concatenate([ma[..., None] * f, mb[..., None] * f]).reshape(shape)
            acc = (inc @ g).reshape(k_n, n_n, d_n)  # end a moves toward b, end b toward a, when too long
            p = p + relax * acc / cnt
    return p.transpose(1, 0, 2).copy()


def enforce_bone_lengths(
    seq: PoseSequence,
    *,
    world: bool = True,
    image: bool = True,
    strength: float = 1.0,
    iterations: int = 16,
    image_shorten_only: bool = True,
    tolerance: float = 0.02,
    image_tolerance: float = 0.05,
    full_score: float = FULL_SCORE,
    log: bool = True,
) -> PoseSequence:
    """Pull every frame's bones toward the track's robust bone lengths. See the module docstring.

    Args:
        seq: the poses.
        world: correct world coordinates (metres), when present.
        image: correct image coordinates (pixels, relative to a per-frame scale).
        strength: fraction of the relaxed correction applied, in ``[0, 1]``.
        iterations: relaxation sweeps per frame.
        image_shorten_only: in image coordinates, only shorten bones longer than expected.
        tolerance: relative band around each target length that is left alone (world).
        image_tolerance: the same in image coordinates (the per-frame scale is only an estimate).
        full_score: keypoints at or above this score are confident (bone estimates, pinned more).
        log: record the step in the provenance.

    Returns:
        The corrected sequence (a new object).
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    check_sequence(seq)
    out = seq.copy()
    bones = rigid_bones(seq.skeleton)
    present = seq.state != KeypointState.MISSING
    w = confidence_weights(seq.state, seq.score, full_score=full_score)
    confident = present & (w >= 1.0)
    mobility = np.where(present, 1.5 - w, 0.0)  # weak keypoints move up to 3× more than confident ones
    summary: dict[str, list[float]] = {}
    t_n, i_n = seq.state.shape[:2]
    if len(bones) and t_n and i_n:
        targets = []
        if image:
            targets.append(("image", True))
        if world and seq.world is not None:
            targets.append(("world", False))
        for name, is_image in targets:
            vals = image_values(seq)[..., :2] if is_image else seq.world
            tgt = np.full((t_n, i_n, len(bones)), np.nan)
            lengths_all = []
            for i in range(i_n):
                if not present[:, i].any():
                    continue
                q = 0.9 if (is_image and image_shorten_only) else 0.5
                ell, scale = estimate_bone_lengths(
                    vals[:, i], confident[:, i], bones, per_frame_scale=is_image, quantile=q,
                    scale_quantile=0.75 if (is_image and image_shorten_only) else 0.5,
                )
                lengths_all.append(ell)
                tgt[:, i] = scale[:, None] * ell[None, :]
            rows = present.any(-1)  # (T, I): frames where the individual is there
            fixed = relax_bone_lengths(
                vals[rows], tgt[rows], mobility[rows], bones, iterations=iterations,
                shorten_only=is_image and image_shorten_only, tolerance=image_tolerance if is_image else tolerance,
            )  # fmt: skip
            new = vals.copy()
            new[rows] = vals[rows] + strength * (fixed - vals[rows])
            new = np.where(present[..., None], new, np.nan)
            if is_image:
                out.xy = new
            else:
                out.world = new
            if lengths_all:
                stack = np.stack(lengths_all)
                seen = np.isfinite(stack).any(0)
                med = np.full(stack.shape[1], np.nan)
                med[seen] = np.nanmedian(stack[:, seen], axis=0)
                summary[name] = [None if not np.isfinite(v) else round(float(v), 4) for v in med]
        from posekit.poses import _boxes_from_xy

        k_n = seq.state.shape[2]
        out.box = _boxes_from_xy(out.xy.reshape(t_n * i_n, k_n, 2)).reshape(t_n, i_n, 4)
    if log:
        out.log_step(
            "anatomy.bone_lengths", strength=strength, iterations=iterations, image=image, world=world,
            image_shorten_only=image_shorten_only, tolerance=tolerance, image_tolerance=image_tolerance,
            bones=bones.tolist(),
            median_lengths=summary,
        )  # fmt: skip
    return out


def bone_length_cv(points: np.ndarray, present: np.ndarray, bones: np.ndarray, *, per_frame_scale: bool) -> np.ndarray:
    """Coefficient of variation of each bone's length over one track (std / mean).

    Args:
        points: ``(T, K, D)``.
        present: ``(T, K)`` bool.
        bones: ``(E, 2)``.
        per_frame_scale: divide each frame's lengths by the per-frame scale of
            :func:`estimate_bone_lengths` first (image coordinates).

    Returns:
        ``(E,)`` CV (NaN for a bone seen in fewer than 3 frames).
    """
    ok = present[:, bones[:, 0]] & present[:, bones[:, 1]]
    length = np.where(ok, bone_lengths(points, bones), np.nan)
    if per_frame_scale:
        _, scale = estimate_bone_lengths(points, present, bones, per_frame_scale=True)
        length = length / scale[:, None]
    n = np.isfinite(length).sum(0)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            cv = np.nanstd(length, axis=0) / np.nanmean(length, axis=0)
    return np.where(n >= 3, cv, np.nan)


# ---------------------------------------------------------------------------------------------------
# bend direction
# ---------------------------------------------------------------------------------------------------
def bend_signs(points: np.ndarray, joint: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Flexion angle and bend orientation of one hinge joint.

    Args:
        points: ``(T, K, D)`` with ``D`` = 2 (image) or 3 (world).
        joint: ``(proximal, vertex, distal)``.

    Returns:
        ``flexion (T,)`` degrees (0 = straight; NaN where a point is missing) and ``orientation``:
        ``(T,)`` sign of the 2D cross product, or ``(T, 3)`` unit normal of the bend plane in 3D.
    """
    p, v, d = joint
    u = points[:, v] - points[:, p]
    w = points[:, d] - points[:, v]
    if points.shape[-1] == 2:
        cross = u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0]
        flex = np.degrees(np.arctan2(np.abs(cross), np.sum(u * w, -1)))
        return flex, np.sign(cross)
    n = np.cross(u, w)
    nn = np.linalg.norm(n, axis=-1)
    flex = np.degrees(np.arctan2(nn, np.sum(u * w, -1)))
    return flex, n / np.where(nn > 0, nn, 1.0)[:, None]


def _flip_frames(time: np.ndarray, flex: np.ndarray, orient: np.ndarray, min_flexion: float,
                 max_flip: float, bridge: float) -> np.ndarray:  # fmt: skip
    """Frames (bool ``(T,)``) whose bend direction should be reflected."""
    t_n = len(time)
    # a bend direction is only defined away from straight (0°) and from fully folded (180°): near either,
    # the two segments are nearly collinear and the direction may legitimately change
    bent = np.isfinite(flex) & (flex >= min_flexion) & (flex <= 180.0 - min_flexion)
    straight = np.isfinite(flex) & ~bent
    out = np.zeros(t_n, bool)
    run: list[int] = []
    parity: list[int] = []

    def close() -> None:
        if len(run) < 2:
            return
        idx = np.asarray(run)
        par = np.asarray(parity)
        # durations of each parity (time each frame represents: half the gaps to its run neighbours)
        tt = time[idx]
        dur = np.gradient(tt) if len(tt) > 1 else np.ones(1)
        major = 0 if dur[par == 0].sum() >= dur[par == 1].sum() else 1
        # sub-runs of the minority parity shorter than max_flip are reflected
        change = np.flatnonzero(np.diff(par) != 0) + 1
        subs = np.split(np.arange(len(idx)), change)
        # only a stretch with the other direction on both sides (a flip and a flip back) is an error: a
        # single change can be a real pass through straight between two frames of a fast movement
        for sub in subs[1:-1]:
            if par[sub[0]] != major and tt[sub[-1]] - tt[sub[0]] + dur[sub].mean() <= max_flip:
                out[idx[sub]] = True

    last_t = -np.inf
    for k in range(t_n):
        if straight[k]:
            close()
            run, parity = [], []
            continue
        if not bent[k]:
            continue
        if run and time[k] - last_t > bridge:
            close()
            run, parity = [], []
        if not run:
            run, parity = [k], [0]
        else:
            prev = run[-1]
            if orient.ndim == 1:
                same = orient[k] == orient[prev]
            else:
                same = float(np.dot(orient[k], orient[prev])) > 0
            run.append(k)
            parity.append(parity[-1] if same else 1 - parity[-1])
        last_t = time[k]
    close()
    return out


def _reflect_vertex(points: np.ndarray, joint: tuple[int, int, int], frames: np.ndarray) -> None:
    """Reflect the vertex across the line through the proximal and distal points, in place."""
    p, v, d = joint
    a = points[frames, p]
    b = points[frames, d]
    x = points[frames, v]
    ab = b - a
    denom = np.sum(ab * ab, -1)
    s = np.where(denom > 0, np.sum((x - a) * ab, -1) / np.where(denom > 0, denom, 1.0), 0.0)
    foot = a + s[:, None] * ab
    points[frames, v] = 2 * foot - x


def fix_bends(
    seq: PoseSequence,
    *,
    min_flexion: float = 25.0,
    max_flip: float = 0.5,
    bridge: float = 0.1,
    world: bool = True,
    image: bool = True,
    log: bool = True,
) -> PoseSequence:
    """Correct knees and elbows that reverse their bend without passing through straight.

    Per individual and hinge joint, frames where the joint is bent (flexion between ``min_flexion`` and
    ``180 − min_flexion`` degrees) form runs; a straight or fully folded frame (in 2D a strongly
    foreshortened limb can look folded), or more than ``bridge`` seconds without the joint, ends a run. Inside a
    run, the bend direction must not change. Stretches bending the less common way, each at most
    ``max_flip`` seconds long and with the common direction on both sides (a flip and a flip back), are
    corrected by reflecting the middle joint across the line through the outer two. A single change of
    direction inside a run is left alone: in a fast movement the joint can pass through straight between
    two frames. Image and world coordinates are checked independently.

    Args:
        seq: the poses.
        min_flexion: degrees below which a joint counts as straight (and above ``180 −`` which as folded).
        max_flip: seconds; a longer opposite stretch is left alone (it is more likely real).
        bridge: seconds of missing joint a run survives.
        world: check world coordinates (when present). image: check image coordinates.
        log: record the step in the provenance.

    Returns:
        The corrected sequence (a new object).
    """
    check_sequence(seq)
    out = seq.copy()
    joints = bend_joints(seq.skeleton)
    counts = {"image": 0, "world": 0}
    targets = []
    if image:
        targets.append(("image", out.xy))
    if world and out.world is not None:
        targets.append(("world", out.world))
    for name, arr in targets:
        for i in range(seq.num_individuals):
            pts = arr[:, i]
            for joint in joints:
                flex, orient = bend_signs(pts, joint)
                frames = _flip_frames(seq.time, flex, orient, min_flexion, max_flip, bridge)
                if frames.any():
                    _reflect_vertex(pts, joint, frames)
                    counts[name] += int(frames.sum())
    if counts["image"]:
        from posekit.poses import _boxes_from_xy

        t_n, i_n, k_n = seq.state.shape
        out.box = _boxes_from_xy(out.xy.reshape(t_n * i_n, k_n, 2)).reshape(t_n, i_n, 4)
    if log:
        out.log_step(
            "anatomy.fix_bends", min_flexion=min_flexion, max_flip=max_flip, bridge=bridge,
            joints=[list(j) for j in joints], reflected=counts,
        )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------------
# left/right swaps
# ---------------------------------------------------------------------------------------------------
def _swap_decisions(time: np.ndarray, xy: np.ndarray, w: np.ndarray, group: np.ndarray, flip: np.ndarray,
                    scale: np.ndarray, ratio: float, min_shift: float, max_gap: float,
                    min_separation: float, collapse: float = 0.5) -> np.ndarray:  # fmt: skip
    """Frames ``(T,)`` bool where group ``group`` of one track should be relabelled (swapped)."""
    t_n = len(time)
    swapped = np.zeros(t_n, bool)
    fg = flip[group]
    hist_t: list[float] = []
    hist_p: list[np.ndarray] = []
    state = False  # the current decision: relabel this group or not (kept while the evidence is unclear)
    prev_sep = math.nan  # mean left-right distance of the group's pairs in the previous frame, pixels
    for k in range(t_n):
        g_w = w[k, group]
        if not np.any(g_w > 0):
            continue
        cur = xy[k]
        # prediction from the last two corrected observations of the group (constant velocity)
        pred = None
        if hist_t and time[k] - hist_t[-1] <= max_gap:
            if len(hist_t) >= 2 and hist_t[-1] - hist_t[-2] <= max_gap:
                vel = (hist_p[-1] - hist_p[-2]) / (hist_t[-1] - hist_t[-2])
                cand = hist_p[-1] + vel * (time[k] - hist_t[-1])
                pred = np.where(np.isfinite(cand), cand, hist_p[-1])
            else:
                pred = hist_p[-1]
        else:
            state = False  # no recent history: trust the labels as given
        if pred is not None:
            a = cur[group]
            b = cur[fg]
            wa = w[k, group]
            wb = w[k, fg]
            pg = pred[group]
            # only pairs whose two sides are apart tell the labellings apart
            apart = np.linalg.norm(a - b, axis=-1) > min_separation * scale[k]
            ok = np.isfinite(pg).all(-1) & (wa > 0) & (wb > 0) & apart
            if ok.sum() >= 2:
                ww = np.sqrt(wa * wb)[ok]
                c_id = float(np.sum(ww * np.sum((a[ok] - pg[ok]) ** 2, -1)))
                c_sw = float(np.sum(ww * np.sum((b[ok] - pg[ok]) ** 2, -1)))
                c_keep, c_other = (c_sw, c_id) if state else (c_id, c_sw)
                gain = math.sqrt(max(c_keep - c_other, 0.0) / max(float(ww.sum()), 1e-12))
                if c_other < ratio * c_keep and gain > min_shift * scale[k]:
                    state = not state
        swapped[k] = state
        both = (w[k, group] > 0) & (w[k, fg] > 0) & np.isfinite(cur[group]).all(-1) & np.isfinite(cur[fg]).all(-1)
        sep = float(np.mean(np.linalg.norm(cur[group][both] - cur[fg][both], axis=-1))) if both.any() else math.nan
        dip = sep < collapse * prev_sep
        prev_sep = sep if math.isfinite(sep) else prev_sep
        if dip:
            # Left and right sides drew together from one frame to the next: the model midway between a
            # labelling and its mirror, not motion (a person turning closes them over several frames).
            # Kept out of the history, so the mirror that follows is seen as a swap.
            continue
        corrected = cur[fg] if swapped[k] else cur[group]
        full = np.full_like(cur, np.nan)
        full[group] = corrected
        if hist_p:
            # keep the history of group keypoints missing now
            full[group] = np.where(np.isfinite(full[group]), full[group], hist_p[-1][group])
        hist_t.append(float(time[k]))
        hist_p.append(full)
        if len(hist_t) > 2:
            hist_t.pop(0)
            hist_p.pop(0)
    return swapped


def fix_swaps(
    seq: PoseSequence,
    *,
    ratio: float = 0.5,
    min_shift: float = 0.03,
    min_separation: float = 0.1,
    max_gap: float = DEFAULT_MAX_GAP,
    full_score: float = FULL_SCORE,
    max_cross: float = 0.05,
    log: bool = True,
) -> PoseSequence:
    """Detect and undo left/right swaps over time. See the module docstring.

    For each group of flip pairs (:func:`swap_groups`) and each frame, the squared distances of the
    group's keypoints to the constant-velocity prediction from the two previous corrected frames are
    summed (weighted by confidence) for the current decision (relabel or not, carried from the previous
    frame; "not" at the start and after a gap longer than ``max_gap``) and for the other one. The decision
    changes only when the other labelling fits clearly better: cost below ``ratio`` times the current one
    and an RMS improvement above ``min_shift`` of the person's scale, counting only pairs whose sides are
    more than ``min_separation`` of the scale apart. While the evidence is unclear (legs crossing in
    the image, near-coincident keypoints in a side view) the decision is kept. All
    per-keypoint data are exchanged (image and world coordinates, depth, score, state).

    Args:
        seq: the poses.
        ratio: how much better (cost ratio) the swapped labelling must fit.
        min_shift: smallest RMS improvement, as a fraction of the person's scale.
        min_separation: a left/right pair counts only when its two keypoints are further apart than this
            fraction of the person's scale (coinciding sides, e.g. legs in a side view, carry no evidence).
        max_gap: seconds of history the prediction may bridge.
        full_score: keypoint score from which a measurement counts fully.
        max_cross: the torso is decided first; then, run by run, a limb's labelling that attaches it to
            the opposite shoulder/hip more than this (fraction of the person's scale per joint and frame,
            on average) more than the other labelling is replaced by the other one.
        log: record the step in the provenance.

    Returns:
        The corrected sequence (a new object).
    """
    from .filters import person_scale

    check_sequence(seq)
    out = seq.copy()
    groups = swap_groups(seq.skeleton)
    flip = seq.skeleton.flip_index
    present = seq.state != KeypointState.MISSING
    w = confidence_weights(seq.state, seq.score, full_score=full_score)
    scale = person_scale(seq.xy, present)
    links = _anchor_links(seq.skeleton)
    total = 0
    per_group = [0] * len(groups)
    # the torso (the anchors) first, so that each limb is judged against its corrected shoulders or hips
    names = seq.skeleton.keypoints
    kind = [
        "limb" if not set(g.tolist()) & links["anchors"]
        else "head" if all(any(h in names[j] for h in _HEAD) for j in g) else "torso"
        for g in groups
    ]  # fmt: skip
    order = sorted(range(len(groups)), key=lambda g: ("torso", "head", "limb").index(kind[g]))
    torso_sw: dict[int, np.ndarray] = {}  # per individual: frames whose shoulders/hips were relabelled
    for gi in order:
        group = groups[gi]
        n_g = 0
        for i in range(seq.num_individuals):
            if not present[:, i][:, group].any():
                continue
            sw = _swap_decisions(
                seq.time, out.xy[:, i], w[:, i], group, flip, scale[:, i], ratio, min_shift, max_gap, min_separation
            )
            seen = present[:, i][:, group].any(-1)
            if seen.any() and sw[seen].mean() > 0.5:
                sw = seen & ~sw  # the track most likely started swapped
            if kind[gi] == "limb":  # follows its corrected shoulders or hips
                sw = _anatomy_veto(sw, out.xy[:, i], group, links["pairs"], scale[:, i], max_cross, torso_sw.get(i))
            elif kind[gi] == "torso":
                torso_sw[i] = sw
            if sw.any():
                _swap(out, sw, i, group, flip)
                n_g += int(sw.sum())
        per_group[gi] = n_g
        total += n_g
    if total:
        from posekit.poses import _boxes_from_xy

        t_n, i_n, k_n = seq.state.shape
        out.box = _boxes_from_xy(out.xy.reshape(t_n * i_n, k_n, 2)).reshape(t_n, i_n, 4)
    if log:
        out.log_step(
            "anatomy.fix_swaps", ratio=ratio, min_shift=min_shift, min_separation=min_separation, max_gap=max_gap,
            max_cross=max_cross,
            groups=[g.tolist() for g in groups], swapped_frames=per_group,
        )  # fmt: skip
    return out


def _anchor_links(skeleton: Skeleton) -> dict[str, object]:
    """The anchors (left/right keypoints joined to their partner: shoulders, hips, eyes…) and the
    ``(joint_left, joint_right, anchor_left, anchor_right)`` index tuples of limb keypoints attached to a
    body anchor by a bone (elbow–shoulder, knee–hip; not ear–shoulder)."""
    pairs, partner, edges, anchors = _pair_graph(skeleton)
    names = skeleton.keypoints

    def head(i: int) -> bool:
        return any(h in names[i] for h in _HEAD)

    body_left = [a for a, _ in pairs if a in anchors and not head(a)]
    out = [(a, b, x, partner[x]) for a, b in pairs if a not in anchors and not head(a)
           for x in body_left if frozenset((a, x)) in edges]  # fmt: skip
    return {"anchors": anchors, "pairs": out}


def _anatomy_veto(sw: np.ndarray, xy: np.ndarray, group: np.ndarray, links: list[tuple[int, int, int, int]],
                  scale: np.ndarray, max_cross: float, anchors_swapped: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Make a limb's labelling agree with its (corrected) shoulders or hips, run by run.

    The frames are cut into runs of constant decision (``sw``, and ``anchors_swapped`` when given); in
    each run the labelling that attaches the group's joints to the opposite anchors (e.g. each elbow
    nearer the other shoulder) clearly more than the other labelling is replaced by that other one.

    Args:
        sw: ``(T,)`` frames to relabel.
        xy: ``(T, K, 2)`` one individual's positions (anchors already corrected, group not), pixels.
        group: the group's keypoints.
        links: ``(joint_left, joint_right, anchor_left, anchor_right)`` tuples (see :func:`_anchor_links`).
        scale: ``(T,)`` the person's scale, pixels.
        max_cross: the excess (fraction of the scale per link and frame, on average over the run) from
            which a labelling counts as crossing.
        anchors_swapped: ``(T,)`` frames in which the anchors were relabelled (their runs cut too).

    Returns:
        The corrected ``(T,)`` decisions.
    """
    mine = [lk for lk in links if lk[0] in set(group.tolist())]
    if not mine:
        return sw
    key = sw.astype(np.int8) + (2 * anchors_swapped.astype(np.int8) if anchors_swapped is not None else 0)
    cuts = np.flatnonzero(np.diff(key)) + 1
    out = sw.copy()
    for start, stop in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(sw)]])):
        excess, n = 0.0, 0
        for t in range(start, stop):
            for jl, jr, al, ar in mine:
                p = xy[t, [jl, jr, al, ar]]
                if not np.isfinite(p).all() or not scale[t] > 0:
                    continue
                given = np.linalg.norm(p[0] - p[2]) + np.linalg.norm(p[1] - p[3])
                mirrored = np.linalg.norm(p[1] - p[2]) + np.linalg.norm(p[0] - p[3])
                current, other = (mirrored, given) if sw[start] else (given, mirrored)
                excess += (current - other) / scale[t]
                n += 1
        if n and excess / n > max_cross:
            out[start:stop] = ~sw[start]
    return out


def _swap(seq: PoseSequence, frames: np.ndarray, i: int, group: np.ndarray, flip: np.ndarray) -> None:
    """Exchange the group's left and right keypoints of individual ``i`` at ``frames``, in place."""
    src = flip[group]
    t = np.flatnonzero(frames)[:, None]
    for name in ("xy", "score", "state", "z", "world"):
        arr = getattr(seq, name)
        if arr is None:
            continue
        sub = arr[:, i]
        sub[t, group] = sub[t, src].copy()


# ---------------------------------------------------------------------------------------------------
# online bone lengths (world coordinates)
# ---------------------------------------------------------------------------------------------------
class OnlineBoneLengths:
    """Running per-track bone lengths in metres and a per-frame pull toward them (live use).

    For each track and bone, the length is the median of its first ``warmup`` confident measurements,
    then follows a running median (each confident frame moves it by ``step`` of itself toward the new
    length). Each frame's world keypoints are then relaxed toward those lengths as in
    :func:`relax_bone_lengths` (weak keypoints move more). Bones without an estimate yet are left alone.

    Args:
        skeleton: the keypoint layout (its :func:`rigid_bones` are constrained).
        warmup: confident measurements that give the first estimate (at least 3 are used before that).
        step: relative change of the running estimate per confident frame.
        iterations: relaxation sweeps per frame (few, for speed: 4 at 1.5× over-relaxation).
        relax: relaxation factor of :func:`relax_bone_lengths`.
        tolerance: relative band around each length that is left alone.
        forget_after: seconds after which an absent track's lengths are dropped.
    """

    def __init__(self, skeleton: Skeleton, *, warmup: int = 15, step: float = 0.002, iterations: int = 4,
                 relax: float = 1.5, tolerance: float = 0.02, forget_after: float = 5.0) -> None:  # fmt: skip
        self.skeleton = skeleton
        self.relax = float(relax)
        self.bones = rigid_bones(skeleton)
        self.warmup = int(warmup)
        self.step = float(step)
        self.iterations = int(iterations)
        self.tolerance = float(tolerance)
        self.forget_after = float(forget_after)
        self.reset()

    def reset(self) -> None:
        """Forget every track."""
        e = len(self.bones)
        self.slots: dict[int, int] = {}
        self._seen: dict[int, float] = {}
        self._free: list[int] = []
        self.length = np.full((0, e), np.nan)  # (slots, E) metres
        self._buf = np.full((0, e, self.warmup), np.nan)
        self._count = np.zeros((0, e), np.int64)

    def forget(self, track_id: int) -> None:
        """Drop one track's lengths (its slot is reused)."""
        if track_id in self.slots:
            self._free.append(self.slots.pop(track_id))
        self._seen.pop(track_id, None)

    def _slot(self, tid: int) -> int:
        s = self.slots.get(tid)
        if s is None:
            s = self._free.pop() if self._free else len(self.slots)
            self.slots[tid] = s
            if s >= len(self.length):
                grow = s + 1 - len(self.length)
                e = len(self.bones)
                self.length = np.concatenate([self.length, np.full((grow, e), np.nan)])
                self._buf = np.concatenate([self._buf, np.full((grow, e, self.warmup), np.nan)])
                self._count = np.concatenate([self._count, np.zeros((grow, e), np.int64)])
            self.length[s] = np.nan
            self._buf[s] = np.nan
            self._count[s] = 0
        return s

    def update(self, track_ids: np.ndarray, points: np.ndarray, confident: np.ndarray, mobility: np.ndarray,
               t: float) -> np.ndarray:  # fmt: skip
        """Learn from and correct one frame.

        Args:
            track_ids: ``(n,)`` identities (all ``>= 0``).
            points: ``(n, K, 3)`` world coordinates, metres (NaN where missing).
            confident: ``(n, K)`` bool, keypoints trusted for the length estimates.
            mobility: ``(n, K)`` how freely each keypoint may move (0 pins it).
            t: the frame's time, seconds.

        Returns:
            ``(n, K, 3)`` corrected coordinates.
        """
        if len(track_ids) == 0 or len(self.bones) == 0:
            return points
        ids = [int(i) for i in track_ids]
        slots = np.asarray([self._slot(i) for i in ids])
        self._seen.update(dict.fromkeys(ids, t))
        a, b = self.bones[:, 0], self.bones[:, 1]
        length = np.linalg.norm(points[:, b] - points[:, a], axis=-1)  # (n, E)
        ok = confident[:, a] & confident[:, b] & np.isfinite(length) & (length > 0)
        cnt = self._count[slots]
        est = self.length[slots]
        warm = ok & (cnt < self.warmup)
        if warm.any():
            n_i, e_i = np.nonzero(warm)
            self._buf[slots[n_i], e_i, cnt[n_i, e_i]] = length[n_i, e_i]
            cnt = cnt + warm
            enough = warm & (cnt >= 3)
            if enough.any():
                n_i, e_i = np.nonzero(enough)
                est[n_i, e_i] = np.nanmedian(self._buf[slots[n_i], e_i], axis=-1)
        run = ok & ~warm & (cnt >= self.warmup)
        est = np.where(run, est * (1 + self.step * np.sign(length - est)), est)
        self._count[slots] = cnt
        self.length[slots] = est
        out = relax_bone_lengths(points, est, mobility, self.bones, iterations=self.iterations,
                                 tolerance=self.tolerance, relax=self.relax)  # fmt: skip
        for tid in [i for i, s in self._seen.items() if t - s > self.forget_after]:
            self.forget(tid)
        return out
