"""Face landmark datasets (mmpose's COCO forms and 300VW ``.pts`` files).

Layouts: ``face68`` (300W, 300W-LP, 300VW; the iBUG 68-point scheme), ``wflw98``, ``cofw29``, ``aflw19``,
``lapa106``. Landmarks are numbered, not named; readers only need the order. Flags: COFW's files mark
occluded landmarks with 1 and visible ones with 2 (COCO convention: 1 → OCCLUDED); the other sets only
say "labelled" (1 or 2 → VISIBLE).

:data:`NME_NORM_INDICES` gives the landmark pair whose distance normalises the NME of each layout (the
outer eye corners, as in mmpose's ``NME`` metric); AFLW is normalised by the face box instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posekit.errors import InputError
from posekit.io.coco import CocoDataset
from posekit.metrics.keypoints2d import OUTER_EYE_CORNERS
from posekit.poses import KeypointState, PoseFrame

from ._cocolike import Flags, read_coco_style

__all__ = ["FACE_DATASETS", "NME_NORM_INDICES", "read_face_coco", "read_pts"]

#: dataset name → (layout, flag convention)
FACE_DATASETS: dict[str, tuple[str, Flags]] = {
    "300w": ("face68", "labelled"),
    "300wlp": ("face68", "labelled"),
    "300vw": ("face68", "labelled"),
    "wflw": ("wflw98", "labelled"),
    "cofw": ("cofw29", "coco"),
    "aflw": ("aflw19", "labelled"),
    "lapa": ("lapa106", "labelled"),
}

#: layout → indices of the two outer eye corners used as NME normaliser (mmpose ``NME``), from
#: :data:`posekit.metrics.OUTER_EYE_CORNERS`; ``None``: normalise by the face box (AFLW: sqrt(w · h)).
NME_NORM_INDICES: dict[str, tuple[int, int] | None] = {
    layout: OUTER_EYE_CORNERS.get(layout) for layout, _flags in FACE_DATASETS.values()
}


def read_face_coco(path: str | Path, dataset: str) -> CocoDataset:
    """Read a face landmark file in COCO form.

    Args:
        path: the JSON file.
        dataset: one of :data:`FACE_DATASETS` (``"300w"``, ``"300wlp"``, ``"300vw"``, ``"wflw"``, ``"cofw"``,
            ``"aflw"``, ``"lapa"``); it fixes the layout and the flag convention.

    Returns:
        A :class:`CocoDataset` (pixels). ``frame.extras`` holds ``center`` ``(N, 2)`` and ``scale``
        ``(N,)`` where the file gives them (NaN otherwise) and, for AFLW, ``box_size`` ``(N,)``.

    Raises:
        InputError: an unknown ``dataset`` or any malformation (see
            :func:`posekit.datasets._cocolike.read_coco_style`).
    """
    if dataset not in FACE_DATASETS:
        raise InputError(path, f"unknown face dataset {dataset!r} (known: {', '.join(FACE_DATASETS)})")
    layout, flags = FACE_DATASETS[dataset]
    extras = {"center": (2,), "scale": ()}
    if dataset == "aflw":
        extras["box_size"] = ()
    return read_coco_style(path, layout, flags=flags, extras=extras)


def read_pts(path: str | Path, *, layout: str = "face68") -> PoseFrame:
    """Read an iBUG ``.pts`` landmark file (``version: 1``, ``n_points: N``, ``{``, N lines ``x y``, ``}``).

    Returns:
        A one-person :class:`PoseFrame`, every landmark VISIBLE (pixels as stored).

    Raises:
        InputError: missing file, bad header, a point count that differs from ``n_points`` or from the
            layout, or a line that is not two numbers.
    """
    from ._cocolike import resolve_layout

    p = Path(path)
    sk = resolve_layout(p, layout)
    if not p.is_file():
        raise InputError(p, "file not found" if not p.exists() else "is not a file")
    try:
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except UnicodeDecodeError:
        raise InputError(p, "not a text file") from None
    header = {}
    i = 0
    while i < len(lines) and lines[i] != "{":
        key, _, val = lines[i].partition(":")
        header[key.strip()] = val.strip()
        i += 1
    if i == len(lines) or "n_points" not in header or lines[-1] != "}":
        raise InputError(p, "not a .pts file (expected 'n_points:' and a '{ … }' block)")
    try:
        n = int(header["n_points"])
    except ValueError:
        raise InputError(p, f"field 'n_points' is {header['n_points']!r}, expected an integer") from None
    body = lines[i + 1 : -1]
    if len(body) != n:
        raise InputError(p, f"holds {len(body)} points but 'n_points' says {n}")
    if n != len(sk):
        raise InputError(p, f"holds {n} points but layout {sk.name!r} has {len(sk)}")
    try:
        xy = np.array([[float(v) for v in ln.split()] for ln in body], dtype=np.float64)
    except ValueError:
        raise InputError(p, "a point line is not two numbers") from None
    if xy.shape != (n, 2) or not np.all(np.isfinite(xy)):
        raise InputError(p, "every point line must hold two finite numbers x y")
    return PoseFrame(sk, xy[None], np.ones((1, n), np.float32), np.full((1, n), KeypointState.VISIBLE, np.uint8))
