"""Export the reviewed poses: corrected COCO JSON, posekit JSON and the review log, written atomically.

Video projects: track ids can change from one frame on (identity edits, see
:mod:`posekit.review.service`), so the posekit sequence is regrouped by id: individual ``X`` of the
export holds, in each frame, the skeleton (positions, states, scores, 3D) of the person slot that has
id ``X`` in that frame. Without identity edits the individuals are the project's slots, in order. The
COCO export writes each annotation's id of its frame; the review log lists, per exported individual,
which slot it came from over which frames (``identities``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from posekit.io.atomic import atomic_write, ensure_writable_dir
from posekit.poses import PoseFrame, PoseSequence

from .service import ReviewService

__all__ = ["export_review", "corrected_frames", "regroup_by_track", "identity_pieces"]


def corrected_frames(svc: ReviewService) -> list[PoseFrame]:
    """One :class:`PoseFrame` per project frame with every edit applied (people that exist only)."""
    p = svc.project
    xy, st, tr, sc = svc.current_arrays()
    out = []
    for f in range(p.num_frames):
        m = np.flatnonzero(p.exists[f])
        if p.kind == "images":
            src = p.coco.frames[p.image_ids[f]]
            out.append(dataclasses.replace(src, xy=xy[f, m], state=st[f, m], score=sc[f, m], track_id=tr[f, m], box=None,
                                           z=None, world=None, parts={}))  # fmt: skip
        else:
            t = None if p.time is None else float(p.time[f])
            out.append(PoseFrame(p.skeleton, xy[f, m], sc[f, m], st[f, m], track_id=tr[f, m], frame=f, time=t,
                                 image_size=(p.width, p.height)))  # fmt: skip
    return out


def regroup_by_track(track: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Individuals from per-frame track ids.

    Args:
        track: ``(T, I)`` track id of each slot in each frame (``-1``: none).

    Returns:
        ``dest (T, I)``: the individual that slot ``i`` belongs to in frame ``t``, and ``ids (I',)``: the
        track id of each individual. Individuals are ordered by slot, then by frame of first appearance,
        so without id changes individual ``i`` is slot ``i``. A slot without id (``-1``) is an
        individual of its own; so is a slot whose id another slot of the same frame also has (ids
        duplicated in the poses file itself), so no skeleton is ever dropped.
    """
    t, n = track.shape
    keys = [[None] * n for _ in range(t)]
    for f in range(t):
        row = track[f].tolist()
        for i, v in enumerate(row):
            keys[f][i] = int(v) if v >= 0 and row.count(v) == 1 else ("slot", i, int(v))
    slot_of: dict = {}
    ids: list[int] = []
    dest = np.zeros((t, n), np.int64)
    for i in range(n):
        for f in range(t):
            k = keys[f][i]
            if k not in slot_of:
                slot_of[k] = len(ids)
                ids.append(k if isinstance(k, int) else k[2])
            dest[f, i] = slot_of[k]
    return dest, np.asarray(ids, np.int64)


def identity_pieces(track: np.ndarray, frames: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Per individual of :func:`regroup_by_track`: ``{"track": id, "pieces": [{"person": slot,
    "from_frame": f0, "to_frame": f1}, ...]}`` (frames inclusive; ``frames``: the frame index of each row)."""
    dest, ids = regroup_by_track(track)
    fr = np.arange(track.shape[0]) if frames is None else np.asarray(frames)
    out: list[dict[str, Any]] = [{"track": int(v), "pieces": []} for v in ids]
    for i in range(track.shape[1]):
        start = 0
        for f in range(1, track.shape[0] + 1):
            if f == track.shape[0] or dest[f, i] != dest[start, i]:
                out[int(dest[start, i])]["pieces"].append(
                    {"person": i, "from_frame": int(fr[start]), "to_frame": int(fr[f - 1])})
                start = f
    for ind in out:
        ind["pieces"].sort(key=lambda p: p["from_frame"])
    return out


def _sequence(svc: ReviewService) -> PoseSequence:
    p = svc.project
    seq = p.sequence
    assert seq is not None
    xy, st, tr, _ = svc.current_arrays()
    t = seq.xy.shape[0]
    rows = np.arange(t) if seq.frame is None else np.asarray(seq.frame)
    # per row of the sequence: follow left/right swaps in the scores and 3D; a keypoint moved by hand or made
    # missing has no known 3D position any more (NaN)
    row_of = {int(f): r for r, f in enumerate(rows)}
    score = seq.score.copy()
    world = None if seq.world is None else seq.world.copy()
    for (f, i), (perm, moved) in svc.keypoint_maps().items():
        r = row_of.get(f)
        if r is None:
            continue
        score[r, i] = seq.score[r, i][perm]
        if world is not None:
            world[r, i] = seq.world[r, i][perm]
            world[r, i, moved] = np.nan
    if world is not None:
        world[st[rows] == 0] = np.nan
    # regroup the slots' skeletons by their per-frame track id
    dest, ids = regroup_by_track(tr[rows])
    xy_r, st_r = xy[rows], st[rows]
    t, n = dest.shape
    k = xy_r.shape[2]
    m = len(ids)
    rr = np.repeat(np.arange(t), n)
    cc = dest.reshape(-1)
    out_xy = np.full((t, m, k, 2), np.nan)
    out_st = np.zeros((t, m, k), np.uint8)
    out_sc = np.zeros((t, m, k), np.float32)
    out_xy[rr, cc] = xy_r.reshape(t * n, k, 2)
    out_st[rr, cc] = st_r.reshape(t * n, k)
    out_sc[rr, cc] = score.reshape(t * n, k)
    out_bs = np.zeros((t, m), np.float32)
    out_bs[rr, cc] = np.asarray(seq.box_score, np.float32).reshape(-1)
    out_w = None
    if world is not None:
        out_w = np.full((t, m, k, 3), np.nan)
        out_w[rr, cc] = world.reshape(t * n, k, 3)
    new = dataclasses.replace(
        seq, xy=out_xy, state=out_st, score=out_sc, track_id=ids, world=out_w, z=None, box=None, box_score=out_bs,
        provenance=list(seq.provenance), parts={},
    )  # fmt: skip
    new.log_step("review", edits=svc.store.count(), identity_edits=len(svc.store.history(limit=10**9, target="ids")),
                 individuals=m)  # fmt: skip
    return new


def export_review(svc: ReviewService, out_dir: str | Path, stem: str | None = None) -> dict[str, str]:
    """Write ``<stem>.reviewed.coco.json``, ``<stem>.reviewed.posekit.json`` and ``<stem>.review-log.json``.

    Args:
        svc: the review service.
        out_dir: output folder (created if needed).
        stem: file name stem; default the annotations file's stem.

    Returns:
        ``{"coco": path, "posekit": path, "log": path}``.
    """
    from posekit.io.coco import write_coco
    from posekit.io.posekit_json import save_poses

    p = svc.project
    folder = ensure_writable_dir(out_dir)
    stem = stem or p.annotations.stem
    paths = {k: folder / f"{stem}.{suffix}" for k, suffix in
             (("coco", "reviewed.coco.json"), ("posekit", "reviewed.posekit.json"), ("log", "review-log.json"))}  # fmt: skip
    with svc.store.lock:
        frames = corrected_frames(svc)
        if p.kind == "images":
            ds = dataclasses.replace(p.coco, frames={iid: fr for iid, fr in zip(p.image_ids, frames)})
            write_coco(paths["coco"], ds, skeleton=None)
            save_poses(frames, paths["posekit"])
        else:
            images = [({"id": f, "file_name": f"{p.media.name}#frame={f}", "width": p.width, "height": p.height,
                        "posekit_frame": f}, fr) for f, fr in enumerate(frames)]  # fmt: skip
            write_coco(paths["coco"], images, skeleton=None)
            save_poses(_sequence(svc), paths["posekit"])
        log: dict[str, Any] = {
            "format": "posekit-review-log", "version": 1, "media": str(p.media), "annotations": str(p.annotations),
            "edits": [r.to_dict() for r in svc.store.history(limit=10**9)], "findings": svc.finding_rows(),
        }  # fmt: skip
        if p.kind == "video":
            seq = p.sequence
            rows = np.arange(seq.xy.shape[0]) if seq is None or seq.frame is None else np.asarray(seq.frame)
            log["identities"] = identity_pieces(svc.track_table()[rows], rows)
    with atomic_write(paths["log"], "w") as fh:
        json.dump(log, fh, allow_nan=False)
    return {k: str(v) for k, v in paths.items()}
