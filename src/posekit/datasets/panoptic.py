"""CMU Panoptic Studio 3D body ground truth (``hdPose3d_stage1_coco19``) and calibration.

Each ``body3DScene_NNNNNNNN.json`` holds one HD frame: ``univTime`` (ms), ``fpsType`` (e.g.
``"hd_29_97"``) and ``bodies``, each with a persistent ``id`` and ``joints19``: 19 × (x, y, z, confidence)
in the studio's world frame in **centimetres** (y points down), confidence -1 where a joint was not
reconstructed (its coordinates are then 0). ``calibration_<seq>.json`` lists every camera with ``K``,
``distCoef`` (OpenCV k1, k2, p1, p2, k3), ``R`` and ``t`` (cm) such that ``X_cam = R X + t``.

posekit converts to metres. The layout is ``panoptic19`` (OpenPose COCO-18 points + body centre).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.io.posekit_json import load_json_file
from posekit.poses import KeypointState, PoseSequence
from posekit.skeletons import get_skeleton

from ._cocolike import is_number
from .cameras import Camera

__all__ = ["read_panoptic_calibration", "read_panoptic_body3d", "panoptic_fps"]

_K = 19
_CM = 0.01  # metres per centimetre
_FRAME = re.compile(r"(\d+)\.json$")


def read_panoptic_calibration(path: str | Path) -> dict[str, Camera]:
    """Read a Panoptic ``calibration_<sequence>.json``.

    Returns:
        Camera name (``"00_00"`` … for HD, ``"01_01"`` … VGA, ``"50_01"`` … Kinect) → :class:`Camera`
        with ``t`` in metres, OpenCV distortion and ``image_size`` from ``resolution``.

    Raises:
        InputError: not JSON, no ``cameras`` list, or a camera whose ``K``/``R``/``t``/``distCoef`` are
            malformed (the message names the camera and the field).
    """
    doc = load_json_file(path)
    cams = doc.get("cameras") if isinstance(doc, dict) else None
    if not isinstance(cams, list):
        raise InputError(path, "field 'cameras' is missing or not a list")
    out: dict[str, Camera] = {}
    for j, c in enumerate(cams):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise InputError(path, f"cameras[{j}] has no field 'name'")
        name = c["name"]

        def arr(key: str, shape: tuple[int, ...], c=c, name=name) -> np.ndarray:
            try:
                a = np.asarray(c.get(key), dtype=np.float64)
            except (TypeError, ValueError):
                raise InputError(path, f"camera {name!r}: field {key!r} must hold numbers") from None
            if a.shape != shape and a.size != int(np.prod(shape)):
                raise InputError(path, f"camera {name!r}: field {key!r} has shape {a.shape}, expected {shape}")
            if not np.all(np.isfinite(a)):
                raise InputError(path, f"camera {name!r}: field {key!r} holds a non-finite value")
            return a.reshape(shape)

        K = arr("K", (3, 3))
        R = arr("R", (3, 3))
        t = arr("t", (3,))
        dist = np.asarray(c.get("distCoef", []), dtype=np.float64).reshape(-1)
        if dist.size not in (0, 4, 5):
            raise InputError(path, f"camera {name!r}: field 'distCoef' has {dist.size} values, expected 5")
        res = c.get("resolution")
        size = (int(res[0]), int(res[1])) if isinstance(res, list) and len(res) == 2 else None
        out[name] = Camera(
            name=name, fx=K[0, 0], fy=K[1, 1], cx=K[0, 2], cy=K[1, 2], R=R, t=t * _CM, dist=dist,
            dist_model="opencv" if dist.size else "none", image_size=size,
        )  # fmt: skip
    return out


def panoptic_fps(fps_type: str) -> float:
    """Frames per second from a Panoptic ``fpsType`` (``"hd_29_97"`` → 29.97, ``"vga_25"`` → 25)."""
    m = re.fullmatch(r"[a-z]+_(\d+)(?:_(\d+))?", fps_type)
    if not m:
        raise ValueError(f"unknown Panoptic fpsType {fps_type!r}")
    return float(f"{m.group(1)}.{m.group(2) or 0}")


def read_panoptic_body3d(
    files: str | Path | Iterable[str | Path],
    *,
    cameras: Mapping[str, Camera],
    camera: str,
) -> PoseSequence:
    """Read Panoptic 3D body frames into one sequence, one individual per body id.

    Args:
        files: a ``hdPose3d_stage1_coco19`` folder (all its ``body3DScene_*.json``) or the frame files.
        cameras: the sequence's cameras (:func:`read_panoptic_calibration`).
        camera: the camera whose image the ``xy`` pixels refer to (e.g. ``"00_00"``, an HD camera): 3D
            ground truth has no 2D of its own, so ``xy`` is the projection (with distortion) into it.

    Returns:
        A :class:`PoseSequence` in layout ``panoptic19``: ``world (T, I, 19, 3)`` in the studio frame,
        **metres** (not hip-centred); ``xy`` pixels in ``camera``; ``score`` = reconstruction confidence
        (clipped to [0, 1]); state VISIBLE where confidence ≥ 0, MISSING (NaN) where -1 or where the body is
        absent from a frame; ``track_id`` = body ids; ``frame`` = HD frame numbers from the file names;
        ``time = frame / fps`` seconds with fps from ``fpsType``; ``image_size`` of ``camera``.

    Raises:
        InputError: no files, a malformed file (missing ``bodies``/``joints19``, wrong count, non-numbers),
            two bodies with one id in a frame, frames of different ``fpsType``, or an unknown ``camera``.
        ValueError: a reconstructed joint lies behind ``camera`` (choose a camera that faces the scene).
    """
    if isinstance(files, (str, Path)):
        p = Path(files)
        if p.is_dir():
            paths = sorted(p.glob("body3DScene_*.json"))
            if not paths:
                raise InputError(p, "folder holds no body3DScene_*.json files")
        else:
            paths = [p]
    else:
        paths = [Path(f) for f in files]
    if not paths:
        raise InputError("panoptic frames", "no files given")
    if camera not in cameras:
        raise InputError(paths[0], f"camera {camera!r} is not in the calibration ({len(cameras)} cameras)")
    cam = cameras[camera]
    frames: list[tuple[int, dict[int, tuple[np.ndarray, np.ndarray]]]] = []
    fps_types = set()
    for f in paths:
        m = _FRAME.search(f.name)
        if not m:
            raise InputError(f, "file name does not end in a frame number")
        doc = load_json_file(f)
        bodies = doc.get("bodies") if isinstance(doc, dict) else None
        if not isinstance(bodies, list):
            raise InputError(f, "field 'bodies' is missing or not a list")
        if isinstance(doc.get("fpsType"), str):
            fps_types.add(doc["fpsType"])
        people: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for j, b in enumerate(bodies):
            if not isinstance(b, dict) or type(b.get("id")) is not int:
                raise InputError(f, f"bodies[{j}] has no integer field 'id'")
            js = b.get("joints19")
            if not isinstance(js, list) or len(js) != 4 * _K or not all(is_number(v) for v in js):
                n = len(js) if isinstance(js, list) else type(js).__name__
                raise InputError(f, f"bodies[{j}]: field 'joints19' must be {4 * _K} numbers, got {n}")
            if b["id"] in people:
                raise InputError(f, f"body id {b['id']} appears twice")
            a = np.asarray(js, dtype=np.float64).reshape(_K, 4)
            people[b["id"]] = (a[:, :3] * _CM, a[:, 3])
        frames.append((int(m.group(1)), people))
    if len(fps_types) > 1:
        raise InputError(paths[0].parent, f"frames mix fpsType values {sorted(fps_types)}")
    fps = panoptic_fps(fps_types.pop()) if fps_types else 29.97
    frames.sort(key=lambda fr: fr[0])
    ids = sorted({i for _, ps in frames for i in ps})
    t, n = len(frames), len(ids)
    world = np.full((t, n, _K, 3), np.nan)
    score = np.zeros((t, n, _K), np.float32)
    state = np.zeros((t, n, _K), np.uint8)
    slot = {i: s for s, i in enumerate(ids)}
    for ti, (_, ps) in enumerate(frames):
        for bid, (xyz, conf) in ps.items():
            ok = conf >= 0
            s = slot[bid]
            world[ti, s] = np.where(ok[:, None], xyz, np.nan)
            score[ti, s] = np.where(ok, np.clip(conf, 0.0, 1.0), 0.0)
            state[ti, s] = np.where(ok, KeypointState.VISIBLE, KeypointState.MISSING)
    xy = cam.project(world)
    present = state != KeypointState.MISSING
    if not np.isfinite(xy[present]).all():
        raise ValueError(f"camera {camera!r} has reconstructed joints behind it; choose a camera facing the scene")
    frame_no = np.array([fr for fr, _ in frames], np.int64)
    try:
        seq = PoseSequence(
            get_skeleton("panoptic19"), xy, score, state, frame_no / fps, frame=frame_no,
            track_id=np.array(ids, np.int64), world=world, image_size=cam.image_size, fps=fps,
            source=str(paths[0].parent),
        )  # fmt: skip
    except ValidationError as exc:
        raise InputError(paths[0].parent, f"invalid poses: {exc}") from None
    return seq.log_step("read_ground_truth", dataset="cmu_panoptic", camera=camera, files=len(paths), fps=fps)
