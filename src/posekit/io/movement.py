"""Poses as an ``xarray.Dataset`` in the layout of the ``movement`` package.

`movement <https://movement.neuroinformatics.dev>`_ represents pose tracks as an
:class:`xarray.Dataset` with ``ds_type == "poses"`` and two data variables:

* ``position``: dims ``("time", "space", "keypoint", "individual")``;
* ``confidence``: dims ``("time", "keypoint", "individual")``;

coordinates ``time`` (seconds when the frame rate is known), ``space`` (``["x", "y"]`` or
``["x", "y", "z"]``), keypoint names and individual names; attributes ``ds_type``,
``source_software``, ``fps``, ``time_unit`` and ``source_file``, and a ``log`` attribute holding a
JSON list of processing steps. movement 0.17.0 (2026) renamed the dimensions ``keypoints`` →
``keypoint`` and ``individuals`` → ``individual`` (movement PR #973); :func:`sequence_to_xarray`
writes the current names by default and the older plural names with ``legacy_dims=True``.

posekit adds a ``state`` variable (``uint8`` :class:`~posekit.poses.KeypointState`, CF-style
``flag_values``/``flag_meanings``), ``track_id`` (per individual) and ``frame`` (per time)
coordinates, and the ``skeleton`` attribute. Time coordinates are the sequence's own ``time`` (from
the container's timestamps), so variable frame rates survive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from posekit.errors import InputError, OutputError, ValidationError
from posekit.io.atomic import atomic_path
from posekit.poses import STATE_NAMES, PoseSequence
from posekit.skeletons import Skeleton, get_skeleton

__all__ = [
    "DIMS",
    "LEGACY_DIMS",
    "sequence_to_xarray",
    "sequence_from_xarray",
    "individual_names",
    "save_netcdf",
    "load_netcdf",
]

#: Dimension names of ``position`` in movement ≥ 0.17.
DIMS: tuple[str, str, str, str] = ("time", "space", "keypoint", "individual")
#: Dimension names of ``position`` in movement ≤ 0.16.
LEGACY_DIMS: tuple[str, str, str, str] = ("time", "space", "keypoints", "individuals")


def individual_names(track_id: np.ndarray) -> list[str]:
    """Unique individual names: ``"id_<track_id>"``; ``"untracked_<index>"`` where the id is ``-1``.

    A track id that occurs twice gets its index appended (``"id_3_1"``) so names stay unique, as
    movement requires.
    """
    names = []
    seen: set[str] = set()
    for i, tid in enumerate(np.asarray(track_id).tolist()):
        name = f"id_{tid}" if tid >= 0 else f"untracked_{i}"
        if name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        names.append(name)
    return names


def _log(seq: PoseSequence) -> str:
    entries = [
        {"operation": p.get("step"), "datetime": p.get("time"), **{k: v for k, v in p.items() if k not in ("step", "time")}}
        for p in seq.provenance
    ]
    return json.dumps(entries)


def sequence_to_xarray(
    seq: PoseSequence,
    coords: str = "image",
    *,
    include_parts: bool = False,
    legacy_dims: bool = False,
) -> xr.Dataset:
    """A movement-style poses dataset.

    Args:
        seq: the poses.
        coords: ``"image"`` (``position`` in pixels, space ``x, y``) or ``"world"`` (metres, space
            ``x, y, z``).
        include_parts: also put part keypoints (hands, face) on the keypoint axis, named
            ``"<part>.<name>"`` (parts without world coordinates are left out of a world dataset).
        legacy_dims: use movement ≤ 0.16's dimension names ``keypoints``/``individuals``.

    Returns:
        ``position`` ``(time, space, keypoint, individual)`` float64 (NaN where MISSING),
        ``confidence`` ``(time, keypoint, individual)`` float32, ``state`` ``(time, keypoint,
        individual)`` uint8; attrs ``ds_type="poses"``, ``source_software="posekit"``,
        ``time_unit="seconds"``, ``skeleton``, ``log`` (JSON list, movement style) and, when
        known, ``fps`` and ``source_file``.

    Raises:
        ValidationError: ``coords="world"`` and the sequence has no world coordinates.
    """
    if coords not in ("image", "world"):
        raise ValueError(f"coords must be 'image' or 'world', got {coords!r}")
    d_time, d_space, d_kp, d_ind = LEGACY_DIMS if legacy_dims else DIMS
    blocks = [(seq, "")] + ([(seq.parts[n], n + ".") for n in sorted(seq.parts)] if include_parts else [])
    pos, conf, state, names = [], [], [], []
    for obj, prefix in blocks:
        if coords == "world":
            if obj.world is None:
                if obj is seq:
                    raise ValidationError("the sequence has no world coordinates; use coords='image'")
                continue
            p = obj.world  # (T, I, K, 3)
        else:
            p = obj.xy  # (T, I, K, 2)
        pos.append(p)
        conf.append(obj.score)
        state.append(obj.state)
        names += [prefix + n for n in obj.skeleton.keypoints]
    position = np.concatenate(pos, axis=2).transpose(0, 3, 2, 1)  # (T, S, K, I)
    confidence = np.concatenate(conf, axis=2).transpose(0, 2, 1)  # (T, K, I)
    states = np.concatenate(state, axis=2).transpose(0, 2, 1).astype(np.uint8)
    space = ["x", "y", "z"][: position.shape[1]]
    attrs: dict[str, Any] = {"source_software": "posekit", "ds_type": "poses", "time_unit": "seconds"}
    if seq.fps is not None:
        attrs["fps"] = float(seq.fps)
    if seq.source is not None:
        attrs["source_file"] = str(seq.source)
    attrs["skeleton"] = seq.skeleton.name
    attrs["coords"] = coords
    attrs["log"] = _log(seq)
    if seq.image_size is not None:
        attrs["image_size"] = [int(seq.image_size[0]), int(seq.image_size[1])]
    return xr.Dataset(
        data_vars={
            "position": ((d_time, d_space, d_kp, d_ind), position),
            "confidence": ((d_time, d_kp, d_ind), confidence.astype(np.float32)),
            "state": (
                (d_time, d_kp, d_ind),
                states,
                {
                    "flag_values": np.arange(len(STATE_NAMES), dtype=np.uint8),
                    "flag_meanings": " ".join(STATE_NAMES),
                    "long_name": "posekit keypoint state",
                },
            ),
        },
        coords={
            d_time: np.asarray(seq.time, np.float64),
            d_space: space,
            d_kp: names,
            d_ind: individual_names(seq.track_id),
            "track_id": (d_ind, np.asarray(seq.track_id, np.int64)),
            "frame": (d_time, np.asarray(seq.frame, np.int64)),
        },
        attrs=attrs,
    )


def sequence_from_xarray(ds: xr.Dataset, skeleton: str | Skeleton | None = None) -> PoseSequence:
    """Rebuild a :class:`PoseSequence` from a movement-style poses dataset (2D image coordinates).

    Works on datasets from :func:`sequence_to_xarray` (exact inverse for the body keypoints) and on
    plain movement datasets: without a ``state`` variable, keypoints with finite positions are
    VISIBLE and the others MISSING; NaN confidences become 0. Either dimension naming is accepted.

    Args:
        ds: the dataset.
        skeleton: the layout of its keypoints; default the ``skeleton`` attribute. Keypoints are
            matched by name; skeleton keypoints absent from the dataset are MISSING; dataset
            keypoints not in the skeleton (e.g. ``"left_hand.wrist"``) are ignored.

    Raises:
        ValidationError: not a 2D poses dataset, no skeleton given or recorded, or no keypoint of
            the skeleton in the dataset.
    """
    kp_dim = "keypoint" if "keypoint" in ds.dims else "keypoints"
    ind_dim = "individual" if "individual" in ds.dims else "individuals"
    for need in ("time", "space", kp_dim, ind_dim):
        if need not in ds.dims:
            raise ValidationError(f"dataset has no {need!r} dimension; not a movement poses dataset")
    if "position" not in ds:
        raise ValidationError("dataset has no 'position' variable; not a movement poses dataset")
    if ds.sizes["space"] != 2:
        raise ValidationError(f"expected 2D positions (space x, y), got {ds.sizes['space']} spatial dimensions")
    if skeleton is None:
        skeleton = ds.attrs.get("skeleton")
        if skeleton is None:
            raise ValidationError("the dataset records no skeleton; pass skeleton=")
    sk = get_skeleton(skeleton)
    names = [str(n) for n in ds[kp_dim].values]
    col = {n: j for j, n in enumerate(names)}
    src = np.array([col.get(n, -1) for n in sk.keypoints])
    if not (src >= 0).any():
        raise ValidationError(f"no keypoint of skeleton {sk.name!r} is in the dataset")
    has = src >= 0
    s = np.where(has, src, 0)
    pos = ds["position"].transpose("time", ind_dim, kp_dim, "space").values.astype(np.float64)  # (T, I, Kd, 2)
    t, i = pos.shape[:2]
    k = len(sk)
    xy = np.where(has[None, None, :, None], pos[:, :, s], np.nan)
    if "confidence" in ds:
        c = ds["confidence"].transpose("time", ind_dim, kp_dim).values.astype(np.float32)[:, :, s]
        score = np.where(has[None, None], np.nan_to_num(c, nan=0.0), 0).astype(np.float32)
    else:
        score = np.zeros((t, i, k), np.float32)
    if "state" in ds:
        st = ds["state"].transpose("time", ind_dim, kp_dim).values.astype(np.uint8)[:, :, s]
        state = np.where(has[None, None], st, 0).astype(np.uint8)
    else:
        state = np.where(np.isfinite(xy).all(-1), 1, 0).astype(np.uint8)
        xy[state == 0] = np.nan
    time = ds["time"].values.astype(np.float64)
    if ds.attrs.get("time_unit") == "frames" and ds.attrs.get("fps"):
        time = time / float(ds.attrs["fps"])
    frame = ds["frame"].values.astype(np.int64) if "frame" in ds.coords else None
    if "track_id" in ds.coords:
        track = ds["track_id"].values.astype(np.int64)
    else:
        track = np.arange(i, dtype=np.int64)
    log = ds.attrs.get("log")
    prov: list[dict[str, Any]] = []
    if isinstance(log, str):
        try:
            for e in json.loads(log):
                if isinstance(e, dict):
                    e = dict(e)
                    prov.append({"step": e.pop("operation", None), "time": e.pop("datetime", None), **e})
        except json.JSONDecodeError:
            prov = []
    size = ds.attrs.get("image_size")
    fps = ds.attrs.get("fps")
    return PoseSequence(
        sk, xy, score, state, time, frame=frame, track_id=track,
        image_size=None if size is None else (int(size[0]), int(size[1])),
        fps=None if fps is None else float(fps), source=ds.attrs.get("source_file"), provenance=prov,
    )  # fmt: skip


def save_netcdf(obj: PoseSequence | xr.Dataset, path: str | Path, *, coords: str = "image") -> None:
    """Write a movement-style dataset to a netCDF file (atomically), movement's native file format.

    Uses whichever netCDF engine xarray has (``netCDF4``, ``h5netcdf`` or ``scipy`` for netCDF-3).

    Raises:
        OutputError: the file cannot be written.
    """
    ds = obj if isinstance(obj, xr.Dataset) else sequence_to_xarray(obj, coords=coords)
    with atomic_path(path) as tmp:
        try:
            ds.to_netcdf(tmp)
        except (ValueError, OSError, RuntimeError) as exc:
            raise OutputError(path, f"cannot write netCDF: {exc}") from exc


def load_netcdf(path: str | Path) -> xr.Dataset:
    """Read a netCDF file written by :func:`save_netcdf` (fully loaded into memory).

    Raises:
        InputError: missing or unreadable file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found")
    try:
        with xr.open_dataset(p) as ds:
            return ds.load()
    except (ValueError, OSError, RuntimeError) as exc:
        raise InputError(p, f"cannot read netCDF: {exc}") from None
