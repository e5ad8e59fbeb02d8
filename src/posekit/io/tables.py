"""Long tables of keypoints (pandas), CSV and Parquet files.

One row per keypoint of a person at a time, with exactly these columns, in this order:

========  =======  ===========================================================================
column    dtype    meaning
========  =======  ===========================================================================
frame     int64    frame index in the source
time      float64  seconds from the start of the source (NaN for still images)
track_id  int64    identity (``-1`` = none)
person    int64    person index in the frame (:class:`PoseFrame`) or individual index
                   (:class:`PoseSequence`)
keypoint  str      keypoint name; part keypoints as ``"<part>.<name>"``, e.g. ``"left_hand.wrist"``
x, y, z   float64  ``coords="image"``: pixels, ``z`` MediaPipe's relative depth (NaN if none);
                   ``coords="world"``: metres
score     float64  confidence (the float32 value, widened exactly)
state     str      lower-case :class:`~posekit.poses.KeypointState` name (``"visible"``, …)
========  =======  ===========================================================================

MISSING keypoints of a person who is there are rows with NaN coordinates and state ``"missing"``.
For a sequence, an individual has rows at a time only when at least one of its keypoints (body or
part) is present then; a time at which nobody is present has no rows.

CSV is written with full float precision (Python's shortest round-trip representation) and read
with pandas' round-trip float parser, so a CSV round trip is exact; Parquet is exact by construction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from posekit.errors import InputError, OutputError, ValidationError
from posekit.io.atomic import atomic_path, atomic_write
from posekit.poses import STATE_NAMES, PoseFrame, PoseSequence
from posekit.skeletons import Skeleton, get_skeleton

__all__ = [
    "COLUMNS",
    "TABLE_EXTENSIONS",
    "frame_to_dataframe",
    "sequence_to_dataframe",
    "sequence_from_dataframe",
    "write_table",
    "read_table",
]

#: The columns of every keypoint table, in order.
COLUMNS: tuple[str, ...] = ("frame", "time", "track_id", "person", "keypoint", "x", "y", "z", "score", "state")
#: File extensions :func:`write_table` / :func:`read_table` understand.
TABLE_EXTENSIONS: tuple[str, ...] = (".csv", ".parquet")

_INT_COLS = ("frame", "track_id", "person")
_FLOAT_COLS = ("time", "x", "y", "z", "score")
_STATE_NAMES = np.array(STATE_NAMES, dtype=object)


def _text_dtype() -> Any:
    """The dtype pandas infers for a column of Python strings (``str`` in pandas ≥ 3, else object)."""
    return pd.Series(["a"]).dtype


def _check_coords(coords: str) -> None:
    if coords not in ("image", "world"):
        raise ValueError(f"coords must be 'image' or 'world', got {coords!r}")


def _blocks(obj: Any, sel: tuple[Any, ...], coords: str, what: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Names ``(Ktot,)``, xyz ``(P, Ktot, 3)``, score ``(P, Ktot)``, state ``(P, Ktot)`` of body + parts."""
    names: list[str] = []
    xyz, score, state = [], [], []

    def add(o: Any, prefix: str, required: bool) -> None:
        xy = o.xy[sel]
        p, k = xy.shape[:2]
        if coords == "world":
            if o.world is None:
                if required:
                    raise ValidationError(f"{what} has no world coordinates; use coords='image'")
                return  # a part without world coordinates is left out of a world table
            block = o.world[sel]
        else:
            z = np.full((p, k, 1), np.nan) if o.z is None else o.z[sel][..., None]
            block = np.concatenate([xy, z], axis=-1)
        names.extend(prefix + n for n in o.skeleton.keypoints)
        xyz.append(block)
        score.append(o.score[sel].astype(np.float64))
        state.append(o.state[sel])

    add(obj, "", True)
    for pname in sorted(obj.parts):
        add(obj.parts[pname], pname + ".", False)
    return names, np.concatenate(xyz, axis=1), np.concatenate(score, axis=1), np.concatenate(state, axis=1)


def _table(frame: np.ndarray, time: np.ndarray, track: np.ndarray, person: np.ndarray, names: list[str],
           xyz: np.ndarray, score: np.ndarray, state: np.ndarray) -> pd.DataFrame:  # fmt: skip
    p, k = score.shape
    rep = lambda a, dt: np.repeat(np.asarray(a, dtype=dt), k)  # noqa: E731
    return pd.DataFrame(
        {
            "frame": rep(frame, np.int64),
            "time": rep(time, np.float64),
            "track_id": rep(track, np.int64),
            "person": rep(person, np.int64),
            "keypoint": np.tile(np.asarray(names, dtype=object), p),
            "x": xyz[..., 0].reshape(-1),
            "y": xyz[..., 1].reshape(-1),
            "z": xyz[..., 2].reshape(-1),
            "score": score.reshape(-1),
            "state": _STATE_NAMES[state.reshape(-1).astype(np.intp)],
        },
        columns=list(COLUMNS),
    )


def frame_to_dataframe(frame: PoseFrame, *, coords: str = "image") -> pd.DataFrame:
    """The people of one frame as a long table (see the module docstring for the columns).

    Args:
        frame: the people.
        coords: ``"image"`` (x, y pixels; z relative depth) or ``"world"`` (x, y, z metres; parts
            without world coordinates are left out).

    Returns:
        ``N × (K + part keypoints)`` rows, person-major, keypoints in skeleton order, then parts in
        name order.

    Raises:
        ValidationError: ``coords="world"`` and the frame has no world coordinates.
    """
    _check_coords(coords)
    n = len(frame)
    sel = (slice(None),)
    names, xyz, score, state = _blocks(frame, sel, coords, "the frame")
    t = np.nan if frame.time is None else float(frame.time)
    return _table(np.full(n, frame.frame), np.full(n, t), frame.track_id, np.arange(n), names, xyz, score, state)


def sequence_to_dataframe(seq: PoseSequence, *, coords: str = "image") -> pd.DataFrame:
    """A sequence as a long table (see the module docstring for the columns).

    Rows are time-major, then individual, then keypoint. ``person`` is the individual index; an
    individual appears at a time only when one of its keypoints (body or part) is present.

    Raises:
        ValidationError: ``coords="world"`` and the sequence has no world coordinates.
    """
    _check_coords(coords)
    here = seq.present.any(-1)
    for part in seq.parts.values():
        here |= part.present.any(-1)
    ti, ii = np.nonzero(here)
    names, xyz, score, state = _blocks(seq, (ti, ii), coords, "the sequence")
    return _table(seq.frame[ti], seq.time[ti], seq.track_id[ii], ii, names, xyz, score, state)


def _poses_table(obj: Any, coords: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, PoseSequence):
        return sequence_to_dataframe(obj, coords=coords)
    if isinstance(obj, PoseFrame):
        return frame_to_dataframe(obj, coords=coords)
    if isinstance(obj, (list, tuple)) and all(isinstance(f, PoseFrame) for f in obj):
        tables = [frame_to_dataframe(f, coords=coords) for f in obj]
        return pd.concat(tables, ignore_index=True) if tables else _empty_table()
    raise TypeError(f"expected a DataFrame, PoseFrame, list of PoseFrame or PoseSequence, got {type(obj).__name__}")


def _empty_table() -> pd.DataFrame:
    return _table(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), [], np.zeros((0, 0, 3)),
                  np.zeros((0, 0)), np.zeros((0, 0), np.uint8))  # fmt: skip


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in TABLE_EXTENSIONS:
        raise ValueError(f"unknown table format {ext or '(no extension)'!r}; use {' or '.join(TABLE_EXTENSIONS)}")
    return ext


def write_table(df_or_poses: Any, path: str | Path, *, coords: str = "image") -> None:
    """Write a keypoint table as CSV or Parquet, chosen by the extension (``.csv``, ``.parquet``).

    Args:
        df_or_poses: a DataFrame (written as is), or a :class:`PoseFrame`, list of them or
            :class:`PoseSequence` (converted with ``coords``).
        path: the output file; written atomically (temporary file renamed over it).
        coords: ``"image"`` or ``"world"`` when poses are given.

    Raises:
        OutputError: unknown extension, or the file cannot be written.
    """
    p = Path(path)
    try:
        ext = _format_of(p)
    except ValueError as exc:
        raise OutputError(p, str(exc)) from None
    df = _poses_table(df_or_poses, coords)
    if ext == ".csv":
        with atomic_write(p, "w", newline="") as fh:
            df.to_csv(fh, index=False, float_format=None, lineterminator="\n")
    else:
        with atomic_path(p) as tmp:
            try:
                df.to_parquet(tmp, index=False)
            except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
                raise OutputError(p, f"cannot write Parquet: {exc}") from exc


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a keypoint table written by :func:`write_table` (CSV or Parquet, by extension).

    Returns:
        A DataFrame with the columns of :data:`COLUMNS` in order and their dtypes (see the module
        docstring); CSV floats are parsed with round-trip precision.

    Raises:
        InputError: missing/empty/unreadable file, unknown extension, missing columns, or values of
            the wrong type (the message names the column).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found" if not p.exists() else "is not a file")
    try:
        ext = _format_of(p)
    except ValueError as exc:
        raise InputError(p, str(exc)) from None
    if p.stat().st_size == 0:
        raise InputError(p, "file is empty")
    try:
        if ext == ".csv":
            df = pd.read_csv(
                p,
                float_precision="round_trip",
                dtype={"keypoint": str, "state": str},
                keep_default_na=False,
                na_values={c: [""] for c in _FLOAT_COLS},
            )
        else:
            df = pd.read_parquet(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        kind = "CSV" if ext == ".csv" else "Parquet"
        raise InputError(p, f"cannot read {kind} table: {str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__}") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(p, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    df = df[list(COLUMNS)].copy()
    for c in _INT_COLS:
        try:
            if df[c].isna().any():
                raise ValueError
            df[c] = df[c].astype(np.int64)
        except (ValueError, TypeError):
            raise InputError(p, f"column {c!r} must hold integers") from None
    for c in _FLOAT_COLS:
        try:
            df[c] = df[c].astype(np.float64)
        except (ValueError, TypeError):
            raise InputError(p, f"column {c!r} must hold numbers") from None
    for c in ("keypoint", "state"):  # pandas ≥ 3: the ``str`` dtype; pandas 2: object holding str
        df[c] = df[c].astype(_text_dtype())
    bad = ~df["state"].isin(STATE_NAMES)
    if bad.any():
        v = df["state"][bad].iloc[0]
        raise InputError(p, f"column 'state' holds {v!r}, expected one of {', '.join(STATE_NAMES)}")
    return df


def sequence_from_dataframe(
    df: pd.DataFrame,
    skeleton: str | Skeleton,
    *,
    fps: float | None = None,
    source: str | None = None,
) -> PoseSequence:
    """Rebuild a :class:`PoseSequence` (body skeleton, image coordinates) from a long table.

    The inverse of :func:`sequence_to_dataframe` with ``coords="image"``: times are the distinct
    ``frame`` values in ascending order (each with one ``time``), individuals are ``person`` indices
    ``0 … max`` (each with one ``track_id``; an index with no rows gets track id ``-1``). Keypoints
    without a row are MISSING. Rows of parts (``"<part>.<name>"``) are ignored. ``z`` is kept when
    any row has a finite ``z``.

    Args:
        df: the table (columns of :data:`COLUMNS`).
        skeleton: the body skeleton the keypoint names belong to.
        fps: nominal frame rate to record (informative).
        source: source path to record.

    Raises:
        ValidationError: missing columns, an unknown keypoint name, a frame with two times, a person
            with two track ids, a duplicated row, an unknown state, or rows that break the pose
            invariants (e.g. a present keypoint with NaN coordinates).
    """
    sk = get_skeleton(skeleton)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError(f"table is missing column(s) {', '.join(missing)}")
    kp = df["keypoint"].astype(str).to_numpy(dtype=object)
    body = np.array(["." not in n for n in kp], dtype=bool) if len(kp) else np.zeros(0, bool)
    d = df.loc[body]
    kp = kp[body]
    k = len(sk)
    name_to_idx = {n: i for i, n in enumerate(sk.keypoints)}
    try:
        kidx = np.array([name_to_idx[n] for n in kp], dtype=np.int64)
    except KeyError as exc:
        raise ValidationError(f"keypoint {exc.args[0]!r} is not in skeleton {sk.name!r}") from None
    frames = d["frame"].to_numpy(np.int64)
    times = d["time"].to_numpy(np.float64)
    persons = d["person"].to_numpy(np.int64)
    tracks = d["track_id"].to_numpy(np.int64)
    if persons.size and persons.min() < 0:
        raise ValidationError("column 'person' holds negative indices")
    uframes, tidx = np.unique(frames, return_inverse=True)
    t = len(uframes)
    time_of = np.full(t, np.nan)
    time_of[tidx] = times
    if np.any(time_of[tidx] != times):
        j = int(np.argmax(time_of[tidx] != times))
        raise ValidationError(f"frame {frames[j]} has more than one time")
    i = int(persons.max()) + 1 if persons.size else 0
    track_of = np.full(i, -1, np.int64)
    track_of[persons] = tracks
    if np.any(track_of[persons] != tracks):
        j = int(np.argmax(track_of[persons] != tracks))
        raise ValidationError(f"person {persons[j]} has more than one track id")
    flat = (tidx * i + persons) * k + kidx
    if len(np.unique(flat)) != len(flat):
        raise ValidationError("table holds the same keypoint of the same person at the same frame twice")
    states = d["state"].astype(str).str.lower().to_numpy(dtype=object)
    lookup = {n: v for v, n in enumerate(STATE_NAMES)}
    try:
        sval = np.array([lookup[s] for s in states], dtype=np.uint8)
    except KeyError as exc:
        raise ValidationError(f"unknown keypoint state {exc.args[0]!r}") from None
    xy = np.full((t * i * k, 2), np.nan)
    score = np.zeros(t * i * k, np.float32)
    state = np.zeros(t * i * k, np.uint8)
    z = np.full(t * i * k, np.nan)
    xy[flat, 0] = d["x"].to_numpy(np.float64)
    xy[flat, 1] = d["y"].to_numpy(np.float64)
    z[flat] = d["z"].to_numpy(np.float64)
    score[flat] = d["score"].to_numpy(np.float64).astype(np.float32)
    state[flat] = sval
    has_z = bool(np.isfinite(z).any())
    return PoseSequence(
        sk,
        xy.reshape(t, i, k, 2),
        score.reshape(t, i, k),
        state.reshape(t, i, k),
        time_of,
        frame=uframes,
        track_id=track_of,
        z=z.reshape(t, i, k) if has_z else None,
        fps=fps,
        source=source,
    )
