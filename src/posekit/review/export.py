"""Export the reviewed poses: corrected COCO JSON, posekit JSON and the review log, written atomically."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from posekit.io.atomic import atomic_write, ensure_writable_dir
from posekit.poses import PoseFrame, PoseSequence

from .service import ReviewService

__all__ = ["export_review", "corrected_frames"]


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
    new = dataclasses.replace(
        seq, xy=xy[rows], state=st[rows], score=score, track_id=tr[0], world=world, z=None, box=None,
        provenance=list(seq.provenance), parts={},
    )  # fmt: skip
    new.log_step("review", edits=svc.store.count())
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
    with atomic_write(paths["log"], "w") as fh:
        json.dump(log, fh, allow_nan=False)
    return {k: str(v) for k, v in paths.items()}
