"""posekit's native results file: JSON that round-trips a :class:`PoseFrame`, a list of them or a
:class:`PoseSequence` exactly.

Layout (version 1)::

    {"format": "posekit", "version": 1, "kind": "frame" | "frames" | "sequence", ...}

* ``kind == "frame"``: the frame's fields at top level (see below).
* ``kind == "frames"``: ``"frames": [<frame object>, ...]``.
* ``kind == "sequence"``: the sequence's fields at top level.

A frame object holds ``skeleton`` (registry id), ``xy`` ``(N, K, 2)`` pixels, ``score`` ``(N, K)``,
``state`` ``(N, K)`` as integers (:class:`~posekit.poses.KeypointState` values), optional ``z``
``(N, K)`` and ``world`` ``(N, K, 3)`` metres, ``box`` ``(N, 4)`` pixels, ``box_score`` ``(N,)``,
``track_id`` ``(N,)``, ``frame``, ``time`` (seconds or null), ``image_size`` (``[width, height]``
pixels or null), ``parts`` (name → frame object) and ``extras`` (name → ``{"dtype", "data"}``).
A sequence object holds the same arrays with leading ``(T, I)`` axes, plus ``time`` ``(T,)``
seconds, ``frame`` ``(T,)``, ``track_id`` ``(I,)``, ``fps``, ``source`` and ``provenance``.

Arrays are nested lists. ``NaN`` is written as ``null`` (JSON has no NaN) and read back as ``NaN``;
floats are written with Python's shortest round-trip representation, so a saved file reads back
bit-for-bit. Files are written atomically (a temporary file renamed over the target).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import InputError, OutputError, ValidationError
from posekit.io.atomic import atomic_write
from posekit.poses import PoseFrame, PoseSequence
from posekit.skeletons import get_skeleton

__all__ = ["FORMAT", "VERSION", "save_poses", "load_poses", "load_json_file"]

#: Value of the ``"format"`` marker.
FORMAT = "posekit"
#: Version of the layout written by :func:`save_poses`.
VERSION = 1


# ---------------------------------------------------------------------------------------------------
# shared JSON helpers (also used by posekit.io.coco)
# ---------------------------------------------------------------------------------------------------
def load_json_file(path: str | Path) -> Any:
    """Parse a JSON file, turning every failure into one :class:`InputError`.

    Args:
        path: the file.

    Returns:
        The parsed document.

    Raises:
        InputError: the file is missing, a folder, empty, not UTF-8, or not valid JSON (the message
            gives the line and column of the first error).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    if p.is_dir():
        raise InputError(p, "is a folder, expected a JSON file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(p, f"cannot read file: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise InputError(p, "file is empty, expected JSON")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(p, f"not a UTF-8 text file (undecodable byte at offset {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(p, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InputError(p, "not valid JSON: nested too deeply") from None


def float_list(a: np.ndarray) -> Any:
    """Nested lists of Python floats with ``NaN`` as ``None``; refuses ±inf (JSON cannot hold it)."""
    arr = np.asarray(a, dtype=np.float64)
    nan = np.isnan(arr)
    if np.isinf(arr).any():
        raise ValueError("array holds infinite values, which JSON cannot represent")
    if not nan.any():
        return arr.tolist()
    obj = arr.astype(object)
    obj[nan] = None
    return obj.tolist()


def _dump(path: str | Path, doc: Any) -> None:
    try:
        text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    except ValueError as exc:  # NaN/inf slipped through
        raise OutputError(path, f"cannot write JSON: {exc}") from exc
    with atomic_write(path, "w") as fh:
        fh.write(text)
        fh.write("\n")


# ---------------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------------
def save_poses(obj: PoseFrame | PoseSequence | list[PoseFrame], path: str | Path) -> None:
    """Write poses to a posekit JSON file (atomically).

    Args:
        obj: a :class:`PoseFrame`, a list of them (e.g. one per image) or a :class:`PoseSequence`.
        path: the output file (its folder must exist).

    Raises:
        TypeError: for any other object.
        OutputError: the file cannot be written, or an array holds ±inf.
    """
    head: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    try:
        if isinstance(obj, PoseSequence):
            doc = {**head, "kind": "sequence", **_sequence_obj(obj)}
        elif isinstance(obj, PoseFrame):
            doc = {**head, "kind": "frame", **_frame_obj(obj)}
        elif isinstance(obj, (list, tuple)) and all(isinstance(f, PoseFrame) for f in obj):
            doc = {**head, "kind": "frames", "frames": [_frame_obj(f) for f in obj]}
        else:
            raise TypeError(f"save_poses expects a PoseFrame, a list of PoseFrame or a PoseSequence, got {type(obj).__name__}")
    except ValueError as exc:
        raise OutputError(path, f"cannot write poses: {exc}") from exc
    _dump(path, doc)


def _opt(a: np.ndarray | None) -> Any:
    return None if a is None else float_list(a)


def _frame_obj(f: PoseFrame) -> dict[str, Any]:
    return {
        "skeleton": f.skeleton.name,
        "xy": float_list(f.xy),
        "score": float_list(f.score),
        "state": f.state.astype(int).tolist(),
        "z": _opt(f.z),
        "world": _opt(f.world),
        "box": float_list(f.box),
        "box_score": float_list(f.box_score),
        "track_id": f.track_id.astype(int).tolist(),
        "frame": int(f.frame),
        "time": None if f.time is None else float(f.time),
        "image_size": None if f.image_size is None else [int(f.image_size[0]), int(f.image_size[1])],
        "parts": {name: _frame_obj(p) for name, p in f.parts.items()},
        "extras": {name: _extra_obj(v) for name, v in f.extras.items()},
    }


def _extra_obj(v: Any) -> dict[str, Any]:
    a = np.asarray(v)
    if a.dtype.kind == "f":
        data = float_list(a)
    elif a.dtype.kind in "biu":
        data = a.tolist()
    elif a.dtype.kind in "UO":
        a = a.astype(str)
        data = a.tolist()
    else:
        raise ValueError(f"extra array of dtype {a.dtype} cannot be written as JSON")
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": data}


def _sequence_obj(s: PoseSequence) -> dict[str, Any]:
    return {
        "skeleton": s.skeleton.name,
        "xy": float_list(s.xy),
        "score": float_list(s.score),
        "state": s.state.astype(int).tolist(),
        "time": float_list(s.time),
        "frame": s.frame.astype(int).tolist(),
        "track_id": s.track_id.astype(int).tolist(),
        "z": _opt(s.z),
        "world": _opt(s.world),
        "box": float_list(s.box),
        "box_score": float_list(s.box_score),
        "image_size": None if s.image_size is None else [int(s.image_size[0]), int(s.image_size[1])],
        "fps": None if s.fps is None else float(s.fps),
        "source": s.source,
        "provenance": s.provenance,
        "parts": {name: _sequence_obj(p) for name, p in s.parts.items()},
    }


# ---------------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------------
def load_poses(path: str | Path) -> PoseFrame | PoseSequence | list[PoseFrame]:
    """Read a file written by :func:`save_poses`; returns the same kind of object that was saved.

    Raises:
        InputError: the file is missing, empty or not JSON; the ``"format"`` marker is not
            ``"posekit"``; the version is newer than this reader; the skeleton is unknown; or a field
            is absent, of the wrong type or of the wrong shape (the message names the field).
    """
    doc = load_json_file(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(path, f"not a posekit poses file ('format' is {got!r}, expected {FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(path, f"field 'version' must be a positive integer, got {version!r}")
    if version > VERSION:
        raise InputError(path, f"file version {version} is newer than this posekit reads ({VERSION}); upgrade posekit")
    kind = doc.get("kind")
    r = _Reader(path)
    if kind == "frame":
        return r.frame(doc, "")
    if kind == "frames":
        frames = doc.get("frames")
        if not isinstance(frames, list):
            raise InputError(path, "field 'frames' must be a list of frames")
        return [r.frame(f, f"frames[{i}].") for i, f in enumerate(frames)]
    if kind == "sequence":
        return r.sequence(doc, "")
    raise InputError(path, f"field 'kind' must be 'frame', 'frames' or 'sequence', got {kind!r}")


class _Reader:
    def __init__(self, path: str | Path) -> None:
        self.path = path

    def fail(self, problem: str) -> InputError:
        return InputError(self.path, problem)

    def obj(self, d: Any, where: str) -> dict[str, Any]:
        if not isinstance(d, dict):
            raise self.fail(f"field '{where.rstrip('.') or '<root>'}' must be an object")
        return d

    def skeleton(self, d: dict[str, Any], where: str):  # noqa: ANN201
        name = d.get("skeleton")
        if not isinstance(name, str):
            raise self.fail(f"field '{where}skeleton' must be a skeleton name, got {name!r}")
        try:
            return get_skeleton(name)
        except KeyError as exc:
            raise self.fail(f"field '{where}skeleton': {exc.args[0]}") from None

    def array(self, d: dict[str, Any], key: str, where: str, shape: tuple[int | None, ...], *,
              dtype: Any = np.float64, optional: bool = False) -> np.ndarray | None:  # fmt: skip
        if key not in d:
            if optional:
                return None
            raise self.fail(f"field '{where}{key}' is missing")
        v = d[key]
        if v is None:
            if optional:
                return None
            raise self.fail(f"field '{where}{key}' is null")
        try:
            if dtype is np.float64:
                a = np.array(v, dtype=np.float64)  # None -> NaN
            else:
                a = np.array(v)
                if a.size and a.dtype.kind not in "iu":
                    raise ValueError("not integers")
                a = a.astype(dtype)
        except (ValueError, TypeError):
            what = "numbers (or null)" if dtype is np.float64 else "integers"
            raise self.fail(f"field '{where}{key}' must be a nested list of {what}") from None
        if a.size == 0 and a.ndim < len(shape):  # e.g. [] for (0, K, 2): fill the trailing axes
            a = a.reshape(list(a.shape) + [0 if s is None else s for s in shape[a.ndim :]])
        ok = a.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, a.shape))
        if not ok:
            want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
            raise self.fail(f"field '{where}{key}' has shape {a.shape}, expected {want}")
        return a

    def number(self, d: dict[str, Any], key: str, where: str, *, optional: bool, integer: bool = False) -> Any:
        v = d.get(key)
        if v is None:
            if optional:
                return None
            raise self.fail(f"field '{where}{key}' is missing")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            raise self.fail(f"field '{where}{key}' must be {'an integer' if integer else 'a number'}, got {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise self.fail(f"field '{where}{key}' must be finite, got {v!r}")
        return v

    def image_size(self, d: dict[str, Any], where: str) -> tuple[int, int] | None:
        v = d.get("image_size")
        if v is None:
            return None
        if (
            not isinstance(v, list)
            or len(v) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v)
        ):
            raise self.fail(f"field '{where}image_size' must be [width, height] in pixels, got {v!r}")
        return (v[0], v[1])

    def frame(self, d: Any, where: str, n: int | None = None) -> PoseFrame:
        d = self.obj(d, where)
        sk = self.skeleton(d, where)
        k = len(sk)
        xy = self.array(d, "xy", where, (n, k, 2))
        assert xy is not None
        n = xy.shape[0]
        score = self.array(d, "score", where, (n, k))
        state = self.array(d, "state", where, (n, k), dtype=np.int64)
        z = self.array(d, "z", where, (n, k), optional=True)
        world = self.array(d, "world", where, (n, k, 3), optional=True)
        box = self.array(d, "box", where, (n, 4), optional=True)
        box_score = self.array(d, "box_score", where, (n,), optional=True)
        track_id = self.array(d, "track_id", where, (n,), dtype=np.int64, optional=True)
        frame = self.number(d, "frame", where, optional=True, integer=True)
        time = self.number(d, "time", where, optional=True)
        parts_d = d.get("parts") or {}
        if not isinstance(parts_d, dict):
            raise self.fail(f"field '{where}parts' must be an object")
        parts = {name: self.frame(p, f"{where}parts.{name}.", n) for name, p in parts_d.items()}
        extras_d = d.get("extras") or {}
        if not isinstance(extras_d, dict):
            raise self.fail(f"field '{where}extras' must be an object")
        extras = {name: self.extra(e, f"{where}extras.{name}") for name, e in extras_d.items()}
        assert state is not None
        if state.size and (state.min() < 0 or state.max() > 5):
            raise self.fail(f"field '{where}state' holds values outside 0..5")
        try:
            return PoseFrame(
                sk, xy, score, state, z=z, world=world, box=box, box_score=box_score, track_id=track_id,
                frame=0 if frame is None else frame, time=None if time is None else float(time),
                image_size=self.image_size(d, where), parts=parts, extras=extras,
            )  # fmt: skip
        except ValidationError as exc:
            raise self.fail(f"invalid poses in '{where.rstrip('.') or '<root>'}': {exc}") from None

    def extra(self, e: Any, where: str) -> np.ndarray:
        if not isinstance(e, dict) or "data" not in e or "dtype" not in e:
            raise self.fail(f"field '{where}' must be an object with 'dtype' and 'data'")
        try:
            dt = np.dtype(e["dtype"])
            data = e["data"]
            if dt.kind == "f":
                a = np.array(data, dtype=np.float64).astype(dt)
            else:
                a = np.array(data, dtype=dt)
            if "shape" in e and list(a.shape) != list(e["shape"]):
                a = a.reshape(e["shape"])
        except (TypeError, ValueError):
            raise self.fail(f"field '{where}' holds data that does not match its dtype/shape") from None
        return a

    def sequence(self, d: Any, where: str, ti: tuple[int, int] | None = None) -> PoseSequence:
        d = self.obj(d, where)
        sk = self.skeleton(d, where)
        k = len(sk)
        t_, i_ = (None, None) if ti is None else ti
        xy = self.array(d, "xy", where, (t_, i_, k, 2))
        assert xy is not None
        t, i = xy.shape[:2]
        score = self.array(d, "score", where, (t, i, k))
        state = self.array(d, "state", where, (t, i, k), dtype=np.int64)
        time = self.array(d, "time", where, (t,))
        frame = self.array(d, "frame", where, (t,), dtype=np.int64, optional=True)
        track_id = self.array(d, "track_id", where, (i,), dtype=np.int64, optional=True)
        z = self.array(d, "z", where, (t, i, k), optional=True)
        world = self.array(d, "world", where, (t, i, k, 3), optional=True)
        box = self.array(d, "box", where, (t, i, 4), optional=True)
        box_score = self.array(d, "box_score", where, (t, i), optional=True)
        fps = self.number(d, "fps", where, optional=True)
        source = d.get("source")
        if source is not None and not isinstance(source, str):
            raise self.fail(f"field '{where}source' must be a string or null")
        prov = d.get("provenance") or []
        if not isinstance(prov, list) or not all(isinstance(p, dict) for p in prov):
            raise self.fail(f"field '{where}provenance' must be a list of objects")
        parts_d = d.get("parts") or {}
        if not isinstance(parts_d, dict):
            raise self.fail(f"field '{where}parts' must be an object")
        parts = {name: self.sequence(p, f"{where}parts.{name}.", (t, i)) for name, p in parts_d.items()}
        assert state is not None
        if state.size and (state.min() < 0 or state.max() > 5):
            raise self.fail(f"field '{where}state' holds values outside 0..5")
        try:
            return PoseSequence(
                sk, xy, score, state, time, frame=frame, track_id=track_id, z=z, world=world, box=box,
                box_score=box_score, image_size=self.image_size(d, where),
                fps=None if fps is None else float(fps), source=source, provenance=prov, parts=parts,
            )  # fmt: skip
        except ValidationError as exc:
            raise self.fail(f"invalid poses in '{where.rstrip('.') or '<root>'}': {exc}") from None
