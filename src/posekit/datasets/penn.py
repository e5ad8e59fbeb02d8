"""Penn Action labels (``.mat``, MATLAB v5): one single-person clip per file, 13 joints per frame.

Each file holds ``x``, ``y`` ``(T, 13)`` pixels, ``visibility`` ``(T, 13)``, ``bbox`` ``(T, 4)`` x0, y0, x1,
y1, ``action``, ``pose`` (the view: front, back, left, right), ``train`` (1 train, -1 test), ``nframes``
and ``dimensions`` (height, width, frames). The frame rate is not stored: 30 fps is assumed
(:data:`PENN_ASSUMED_FPS`) unless ``fps=`` is given, and recorded in the sequence's provenance.

Keypoint states. ``visibility`` 1 → VISIBLE. For ``visibility`` 0 the files hold either a real position
(the annotator placed a hidden joint: 54,684 of the 139,667 hidden joints in the shared 581 clips, 86 % of
them inside the person box) or a placeholder in the top-left pixel (every remaining one has x, y ≤ 1.5). So
``visibility`` 0 with x ≤ 1.5 and y ≤ 1.5 → MISSING (NaN), otherwise → OCCLUDED.

Joint order. The README lists 1 head, 2 left_shoulder, 3 right_shoulder, …, but the labels put the
person's right side first in every pair (layout ``penn13``: head, right_shoulder, left_shoulder, …). In
the shared clips the "front" view has joint 2 to the image-left of joint 3 in 90 % of clips and the "back"
view in none, and in side-view squats (knees bending forward) the hidden side is joints 3/5/7/9/11/13
exactly when the person faces image-right, i.e. shows the camera their right side.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.poses import KeypointState, PoseSequence
from posekit.skeletons import get_skeleton

__all__ = [
    "PENN_ASSUMED_FPS",
    "PENN_PLACEHOLDER_PX",
    "PennClip",
    "PennIndexEntry",
    "read_penn_clip",
    "read_penn_index",
    "iter_penn_clips",
]

#: Frame rate assumed for Penn Action clips (the labels do not store one), frames per second.
PENN_ASSUMED_FPS = 30.0
#: A hidden joint whose x and y are both at most this many pixels is a placeholder (not annotated).
PENN_PLACEHOLDER_PX = 1.5
_K = 13


@dataclass(frozen=True)
class PennClip:
    """One Penn Action clip.

    Attributes:
        name: the file stem, e.g. ``"0342"``.
        action: the action class, e.g. ``"bench_press"``.
        view: ``"front"``, ``"back"``, ``"left"`` or ``"right"`` (the file's ``pose`` field).
        train: True for the training split, False for the test split.
        width, height: frame size in pixels.
        poses: ``(T, 1, 13)`` :class:`PoseSequence` in layout ``penn13``, ``time = frame / fps`` seconds.
    """

    name: str
    action: str
    view: str
    train: bool
    width: int
    height: int
    poses: PoseSequence

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return len(self.poses)


@dataclass(frozen=True)
class PennIndexEntry:
    """One row of ``INDEX_derived.csv`` (``file,action,view,nframes,height,width,train_flag``)."""

    file: str
    action: str
    view: str
    nframes: int
    height: int
    width: int
    train: bool


def _load_mat(path: Path) -> dict[str, Any]:
    from scipy.io import loadmat  # local: scipy.io is slow to import

    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a folder, expected a Penn Action .mat file")
    try:
        return loadmat(str(path))
    except Exception as exc:  # scipy raises ValueError, TypeError, MatReadError, … for bad files
        raise InputError(path, f"not a readable MATLAB file ({type(exc).__name__}: {exc})") from None


def _scalar_str(path: Path, m: dict[str, Any], key: str) -> str:
    v = m.get(key)
    if v is None:
        raise InputError(path, f"field {key!r} is missing")
    a = np.asarray(v).ravel()
    if a.size != 1 or a.dtype.kind not in "US":
        raise InputError(path, f"field {key!r} must be a string")
    return str(a[0])


def _scalar_int(path: Path, m: dict[str, Any], key: str) -> int:
    v = m.get(key)
    if v is None:
        raise InputError(path, f"field {key!r} is missing")
    a = np.asarray(v).ravel()
    if a.size != 1 or a.dtype.kind not in "iuf" or not np.isfinite(a[0]) or a[0] != int(a[0]):
        raise InputError(path, f"field {key!r} must be one integer")
    return int(a[0])


def read_penn_clip(path: str | Path, *, fps: float | None = None) -> PennClip:
    """Read one Penn Action label file.

    Args:
        path: the ``.mat`` file.
        fps: frame rate for the time axis; default :data:`PENN_ASSUMED_FPS` (an assumption).

    Returns:
        A :class:`PennClip`. Keypoint score is 1 for present keypoints and 0 for MISSING ones; boxes are
        the file's ``bbox`` (a frame without a ``bbox`` row gets the box of its keypoints).

    Raises:
        InputError: the file is missing or not MATLAB; a field is missing; ``x``/``y``/``visibility`` are
            not ``(nframes, 13)``; ``visibility`` holds values other than 0/1; a visible joint has a
            non-finite coordinate; or ``dimensions`` disagrees.
    """
    p = Path(path)
    m = _load_mat(p)
    arrays = {}
    for key in ("x", "y", "visibility"):
        if key not in m:
            raise InputError(p, f"field {key!r} is missing")
        a = np.asarray(m[key])
        if a.ndim != 2 or a.shape[1] != _K or a.dtype.kind not in "iuf":
            raise InputError(p, f"field {key!r} has shape {a.shape}, expected (frames, {_K}) numbers")
        arrays[key] = a.astype(np.float64)
    x, y, vis = arrays["x"], arrays["y"], arrays["visibility"]
    t = x.shape[0]
    if y.shape != x.shape or vis.shape != x.shape:
        raise InputError(p, f"fields 'x' {x.shape}, 'y' {y.shape} and 'visibility' {vis.shape} differ in shape")
    nframes = _scalar_int(p, m, "nframes")
    if nframes != t:
        raise InputError(p, f"field 'nframes' is {nframes} but 'x' has {t} frames")
    if not np.isin(vis, (0, 1)).all():
        raise InputError(p, "field 'visibility' holds values other than 0 and 1")
    dims = np.asarray(m.get("dimensions", np.zeros(0))).ravel()
    if dims.size != 3:
        raise InputError(p, "field 'dimensions' must be [height, width, frames]")
    height, width, dframes = (int(v) for v in dims)
    if dframes != t:
        raise InputError(p, f"field 'dimensions' says {dframes} frames but 'x' has {t}")
    finite = np.isfinite(x) & np.isfinite(y)
    seen = vis == 1
    if (seen & ~finite).any():
        i, j = (int(v) for v in np.argwhere(seen & ~finite)[0])
        raise InputError(p, f"field 'x'/'y': visible joint {j} of frame {i} has a non-finite coordinate")
    placeholder = ~finite | ((x <= PENN_PLACEHOLDER_PX) & (y <= PENN_PLACEHOLDER_PX))
    state = np.where(seen, KeypointState.VISIBLE, np.where(placeholder, KeypointState.MISSING, KeypointState.OCCLUDED))
    state = state.astype(np.uint8)
    xy = np.stack([x, y], -1)
    xy[state == KeypointState.MISSING] = np.nan
    present = state != KeypointState.MISSING
    box = np.full((t, 4), np.nan)
    if present.any():
        big = np.where(present[..., None], xy, np.nan)
        has = present.any(1)
        with np.errstate(all="ignore"):
            box[has, :2] = np.nanmin(big[has], axis=1)
            box[has, 2:] = np.nanmax(big[has], axis=1)
    if "bbox" in m:
        b = np.asarray(m["bbox"], dtype=np.float64)
        if b.ndim != 2 or b.shape[1] != 4:
            raise InputError(p, f"field 'bbox' has shape {b.shape}, expected (frames, 4)")
        n = min(t, b.shape[0])
        box[:n] = b[:n]
    train_flag = _scalar_int(p, m, "train")
    if train_flag not in (1, -1):
        raise InputError(p, f"field 'train' is {train_flag}, expected 1 (train) or -1 (test)")
    rate = PENN_ASSUMED_FPS if fps is None else float(fps)
    if not rate > 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    try:
        seq = PoseSequence(
            get_skeleton("penn13"), xy[:, None], present[:, None].astype(np.float32), state[:, None],
            np.arange(t) / rate, track_id=np.zeros(1, np.int64), box=box[:, None],
            box_score=present.any(1, keepdims=True).astype(np.float32), image_size=(width, height), fps=rate,
            source=str(p),
        )  # fmt: skip
    except ValidationError as exc:
        raise InputError(p, f"invalid poses: {exc}") from None
    seq.log_step("read_ground_truth", file=str(p), dataset="penn_action", fps=rate, fps_assumed=fps is None)
    return PennClip(
        name=p.stem, action=_scalar_str(p, m, "action"), view=_scalar_str(p, m, "pose"), train=train_flag == 1,
        width=width, height=height, poses=seq,
    )  # fmt: skip


def read_penn_index(path: str | Path) -> list[PennIndexEntry]:
    """Read ``INDEX_derived.csv`` (columns ``file,action,view,nframes,height,width,train_flag``).

    Raises:
        InputError: the file is missing or empty, a column is missing, a number is malformed, a
            ``train_flag`` is not 1/-1, or a file is listed twice.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found" if not p.exists() else "is not a file")
    cols = ("file", "action", "view", "nframes", "height", "width", "train_flag")
    out: list[PennIndexEntry] = []
    seen: set[str] = set()
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise InputError(p, "file is empty, expected a CSV header")
            missing = [c for c in cols if c not in reader.fieldnames]
            if missing:
                raise InputError(p, f"column {missing[0]!r} is missing (header: {','.join(reader.fieldnames)})")
            for line, row in enumerate(reader, start=2):
                try:
                    e = PennIndexEntry(
                        file=row["file"], action=row["action"], view=row["view"], nframes=int(row["nframes"]),
                        height=int(row["height"]), width=int(row["width"]), train=int(row["train_flag"]) == 1,
                    )  # fmt: skip
                    flag = int(row["train_flag"])
                except (TypeError, ValueError):
                    raise InputError(p, f"line {line}: a number column holds {row!r}") from None
                if flag not in (1, -1):
                    raise InputError(p, f"line {line}: column 'train_flag' is {flag}, expected 1 or -1")
                if e.file in seen:
                    raise InputError(p, f"line {line}: file {e.file!r} is listed twice")
                seen.add(e.file)
                out.append(e)
    except UnicodeDecodeError:
        raise InputError(p, "not a UTF-8 text file") from None
    return out


def iter_penn_clips(
    labels_dir: str | Path,
    *,
    entries: Iterable[PennIndexEntry] | None = None,
    actions: Iterable[str] | None = None,
    fps: float | None = None,
    skip_absent: bool = False,
) -> Iterator[PennClip]:
    """Read the clips of a labels folder, optionally only those of an index and of some actions.

    Args:
        labels_dir: the folder of ``NNNN.mat`` files.
        entries: index rows to read (default: every ``*.mat`` in the folder, sorted by name).
        actions: keep only these action classes.
        fps: see :func:`read_penn_clip`.
        skip_absent: with ``entries``, skip rows whose file is not in the folder (the shared data holds
            581 of the index's 1163 clips) instead of failing.

    Yields:
        :class:`PennClip` objects; each is checked against its index row (action, view, frames, size).

    Raises:
        InputError: a listed file is absent (unless ``skip_absent``), unreadable, or disagrees with its
            index row.
    """
    d = Path(labels_dir)
    if not d.is_dir():
        raise InputError(d, "folder not found" if not d.exists() else "is not a folder")
    keep = None if actions is None else set(actions)
    if entries is None:
        for f in sorted(d.glob("*.mat")):
            clip = read_penn_clip(f, fps=fps)
            if keep is None or clip.action in keep:
                yield clip
        return
    for e in entries:
        if keep is not None and e.action not in keep:
            continue
        f = d / e.file
        if not f.exists() and skip_absent:
            continue
        clip = read_penn_clip(f, fps=fps)
        got = (clip.action, clip.view, clip.num_frames, clip.height, clip.width, clip.train)
        want = (e.action, e.view, e.nframes, e.height, e.width, e.train)
        if got != want:
            raise InputError(f, f"disagrees with its index row: file has {got}, index says {want}")
        yield clip
