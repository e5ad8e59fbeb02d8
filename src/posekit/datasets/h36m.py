"""Human3.6M and MPI-INF-3DHP ground truth in mmpose's form: ``.npz`` frames plus pickled cameras.

* ``test_h36m_body3d.npz`` / ``test_3dhp_*.npz``: ``imgname (F,)``, ``part (F, 17, 3)`` 2D pixels + flag,
  ``S (F, 17, 4)`` 3D joints in the camera frame in **metres** + flag, ``center (F, 2)``, ``scale (F,)``.
* ``cameras.pkl`` (Human3.6M): ``(subject, camera id) →`` ``R`` (3×3), ``T`` (3×1, the camera centre in
  world coordinates, metres), ``f``, ``c`` (pixels), ``k`` (3 radial), ``p`` (2 tangential), ``w``, ``h``.
  The world → camera map is ``X_cam = R.T @ (X - T)``; with H36M's own distortion model it reproduces the
  2D ground truth from the 3D ground truth to 1e-4 px (:mod:`posekit.datasets.cameras`).
* ``h36m_coco.json``: the same four frames as COCO keypoints plus ``keypoints_3d`` in world coordinates
  (metres). Its category names index 1 ``left_hip`` — wrong, see layout ``h36m17`` in
  :mod:`posekit.skeletons`; it is read by position in the ``h36m17`` order.

The layouts are ``h36m17`` and ``mpi3dhp17``. Pickles are read with a loader that only admits numpy
arrays, so a hostile file cannot run code.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.io.coco import CocoDataset
from posekit.poses import KeypointState, PoseFrame
from posekit.skeletons import get_skeleton

from ._cocolike import read_coco_style
from .cameras import Camera

__all__ = [
    "Body3DSample",
    "read_h36m_cameras",
    "read_3dhp_cameras",
    "read_body3d_npz",
    "read_h36m_npz",
    "read_3dhp_npz",
    "read_h36m_coco",
]

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:  # noqa: D102
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _load_pickle(path: str | Path) -> Any:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found" if not p.exists() else "is not a file")
    try:
        with p.open("rb") as fh:
            return _ArrayUnpickler(fh).load()
    except Exception as exc:  # UnpicklingError, EOFError, ValueError, …
        raise InputError(p, f"not a readable camera pickle ({type(exc).__name__}: {exc})") from None


def _arr(path: Path, d: dict[str, Any], key: str, size: int, where: str) -> np.ndarray:
    if key not in d:
        raise InputError(path, f"{where}: field {key!r} is missing")
    try:
        a = np.asarray(d[key], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(path, f"{where}: field {key!r} must hold numbers") from None
    if a.size != size or not np.all(np.isfinite(a)):
        raise InputError(path, f"{where}: field {key!r} must hold {size} finite numbers, got {a.size}")
    return a


def read_h36m_cameras(path: str | Path) -> dict[tuple[str, str], Camera]:
    """Read Human3.6M cameras (mmpose's ``cameras.pkl``).

    Returns:
        ``(subject, camera id)`` (e.g. ``("S1", "54138969")``) → :class:`Camera` with ``R = R_file.T``,
        ``t = -R_file.T @ T_file`` (metres), H36M distortion ``(k1, k2, k3, p1, p2)`` and the image size.

    Raises:
        InputError: unreadable pickle, not a dict, or an entry without ``R``, ``T``, ``f``, ``c``, ``k``,
            ``p`` of the right sizes.
    """
    p = Path(path)
    doc = _load_pickle(p)
    if not isinstance(doc, dict):
        raise InputError(p, f"holds a {type(doc).__name__}, expected a dict of cameras")
    out: dict[tuple[str, str], Camera] = {}
    for key, d in doc.items():
        where = f"camera {key!r}"
        if not (isinstance(key, tuple) and len(key) == 2) or not isinstance(d, dict):
            raise InputError(p, f"{where}: expected a (subject, camera id) key and a dict of parameters")
        R = _arr(p, d, "R", 9, where).reshape(3, 3)
        T = _arr(p, d, "T", 3, where)
        f, c = _arr(p, d, "f", 2, where), _arr(p, d, "c", 2, where)
        k, tp = _arr(p, d, "k", 3, where), _arr(p, d, "p", 2, where)
        size = None
        if "w" in d and "h" in d:
            size = (int(np.asarray(d["w"]).reshape(-1)[0]), int(np.asarray(d["h"]).reshape(-1)[0]))
        out[(str(key[0]), str(key[1]))] = Camera(
            name=str(key[1]), fx=f[0], fy=f[1], cx=c[0], cy=c[1], R=R.T, t=-R.T @ T,
            dist=np.concatenate([k, tp]), dist_model="h36m", image_size=size,
        )  # fmt: skip
    return out


def read_3dhp_cameras(path: str | Path) -> dict[str, Camera]:
    """Read MPI-INF-3DHP camera intrinsics (mmpose's ``cameras_train.pkl`` / ``cameras_test.pkl``).

    Only ``f`` and ``c`` are read: the ground-truth joints are already in each camera's frame, so the
    returned cameras have ``R = I``, ``t = 0`` and no distortion (pinhole projection reproduces the 2D
    ground truth to about 2 px). ``image_size`` is left ``None`` (the shared train pickle says 2048×204 for
    2048×2048 images).

    Returns:
        Camera key (``"S4_Seq2_Cam0"``, ``"TS1"``) → :class:`Camera`.
    """
    p = Path(path)
    doc = _load_pickle(p)
    if not isinstance(doc, dict):
        raise InputError(p, f"holds a {type(doc).__name__}, expected a dict of cameras")
    out: dict[str, Camera] = {}
    for key, d in doc.items():
        where = f"camera {key!r}"
        if not isinstance(d, dict):
            raise InputError(p, f"{where}: expected a dict of parameters")
        f, c = _arr(p, d, "f", 2, where), _arr(p, d, "c", 2, where)
        out[str(key)] = Camera(name=str(key), fx=f[0], fy=f[1], cx=c[0], cy=c[1])
    return out


@dataclass(frozen=True)
class Body3DSample:
    """One annotated frame of a single-person 3D dataset.

    Attributes:
        image: the image path as stored in the file.
        subject: subject id (``"S1"``, ``"TS1"``) parsed from the image name.
        camera_key: the key of the camera in the dataset's camera file (``("S1", "54138969")`` for
            Human3.6M, ``"S4_Seq2_Cam0"`` / ``"TS1"`` for MPI-INF-3DHP).
        poses: a :class:`PoseFrame` with one person: ``xy`` pixels (the file's ``part``), ``world`` the 3D
            joints in the **camera frame**, metres (the file's ``S``; not hip-centred), ``frame`` the frame
            number from the image name, ``extras`` ``center`` ``(1, 2)`` pixels and ``scale`` ``(1,)``.
        camera: the matching :class:`Camera` when cameras were given.
    """

    image: str
    subject: str
    camera_key: Any
    poses: PoseFrame
    camera: Camera | None = None


_H36M_NAME = re.compile(r"^(S\d+)_(.+)\.(\d+)_(\d+)\.\w+$")
_3DHP_NAME = re.compile(r"^((S\d+)_Seq\d+_Cam\d+|(TS\d+))_(\d+)\.\w+$")


def _parse_name(path: Path, name: str, kind: str) -> tuple[str, Any, int]:
    base = PurePosixPath(name).name
    if kind == "h36m":
        m = _H36M_NAME.match(base)
        if m:
            return m.group(1), (m.group(1), m.group(3)), int(m.group(4))
    else:
        m = _3DHP_NAME.match(base)
        if m:
            return (m.group(2) or m.group(3)), m.group(1), int(m.group(4))
    raise InputError(path, f"field 'imgname': {name!r} is not a {kind} image name")


def read_body3d_npz(
    path: str | Path, layout: str, *, cameras: dict[Any, Camera] | None = None, kind: str = "h36m"
) -> list[Body3DSample]:
    """Read an mmpose body-3D ``.npz`` (``imgname``, ``part``, ``S``, ``center``, ``scale``).

    Args:
        path: the ``.npz`` file.
        layout: ``"h36m17"`` or ``"mpi3dhp17"``.
        cameras: cameras by key (from :func:`read_h36m_cameras` / :func:`read_3dhp_cameras`); each sample
            gets its own. A sample whose camera is absent is an error.
        kind: ``"h36m"`` or ``"3dhp"`` — how image names are parsed.

    Returns:
        One :class:`Body3DSample` per frame, in file order. A joint is VISIBLE when both its 2D and 3D
        flags are 1, else MISSING (NaN in ``xy`` and ``world``).

    Raises:
        InputError: unreadable file, a missing array, shapes that disagree with the layout, non-finite
            values in a flagged joint, an unparsable image name, or a camera not in ``cameras``.
    """
    p = Path(path)
    sk = get_skeleton(layout)
    k = len(sk)
    if not p.is_file():
        raise InputError(p, "file not found" if not p.exists() else "is not a file")
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {name: z[name] for name in z.files}
    except Exception as exc:  # BadZipFile, ValueError, OSError
        raise InputError(p, f"not a readable .npz file ({type(exc).__name__}: {exc})") from None
    for key in ("imgname", "part", "S"):
        if key not in data:
            raise InputError(p, f"array {key!r} is missing")
    names, part, S = data["imgname"], data["part"], data["S"]
    n = len(names)
    if part.shape != (n, k, 3):
        raise InputError(p, f"array 'part' has shape {part.shape}, expected ({n}, {k}, 3)")
    if S.shape != (n, k, 4):
        raise InputError(p, f"array 'S' has shape {S.shape}, expected ({n}, {k}, 4)")
    center = data.get("center", np.full((n, 2), np.nan))
    scale = data.get("scale", np.full(n, np.nan))
    if center.shape != (n, 2) or scale.shape != (n,):
        raise InputError(p, f"arrays 'center' {center.shape} / 'scale' {scale.shape} do not match {n} frames")
    out = []
    for i in range(n):
        name = str(names[i])
        subject, cam_key, frame_no = _parse_name(p, name, kind)
        ok = (part[i, :, 2] > 0) & (S[i, :, 3] > 0)
        if not (np.isfinite(part[i, ok, :2]).all() and np.isfinite(S[i, ok, :3]).all()):
            raise InputError(p, f"frame {i} ({name}): a flagged joint has a non-finite coordinate")
        xy = np.where(ok[:, None], part[i, :, :2], np.nan)[None]
        world = np.where(ok[:, None], S[i, :, :3], np.nan)[None]
        state = np.where(ok, KeypointState.VISIBLE, KeypointState.MISSING)[None].astype(np.uint8)
        cam = None
        if cameras is not None:
            if cam_key not in cameras:
                raise InputError(p, f"frame {i} ({name}): camera {cam_key!r} is not in the camera file")
            cam = cameras[cam_key]
        try:
            frame = PoseFrame(
                sk, xy, ok[None].astype(np.float32), state, world=world, frame=frame_no,
                image_size=None if cam is None else cam.image_size,
                extras={"center": center[i][None].astype(np.float64), "scale": np.array([float(scale[i])])},
            )  # fmt: skip
        except ValidationError as exc:
            raise InputError(p, f"frame {i} ({name}): {exc}") from None
        out.append(Body3DSample(name, subject, cam_key, frame, cam))
    return out


def read_h36m_npz(path: str | Path, cameras: dict[tuple[str, str], Camera] | None = None) -> list[Body3DSample]:
    """Read Human3.6M frames (``test_h36m_body3d.npz``) in layout ``h36m17``; see :func:`read_body3d_npz`."""
    return read_body3d_npz(path, "h36m17", cameras=cameras, kind="h36m")


def read_3dhp_npz(path: str | Path, cameras: dict[str, Camera] | None = None) -> list[Body3DSample]:
    """Read MPI-INF-3DHP frames (``test_3dhp_*.npz``) in layout ``mpi3dhp17``; see :func:`read_body3d_npz`."""
    return read_body3d_npz(path, "mpi3dhp17", cameras=cameras, kind="3dhp")


def read_h36m_coco(path: str | Path) -> CocoDataset:
    """Read ``h36m_coco.json``: 2D keypoints (pixels) and ``keypoints_3d`` (world frame, metres).

    Keypoints are read by position in the ``h36m17`` order (the file's own names for indices 1–6 swap
    left and right). Flags only say "labelled" (VISIBLE). ``frame.world`` holds the world-frame joints
    (metres; NaN where a joint has no 3D value or its 3D flag is 0).
    """
    ds = read_coco_style(path, "h36m17", flags="labelled", extras={"keypoints_3d": (68,)})
    for iid, f in ds.frames.items():
        k3 = f.extras.pop("keypoints_3d").reshape(len(f), 17, 4)
        ok = (k3[..., 3] > 0) & f.present  # NaN (no keypoints_3d) compares False
        world = np.where(ok[..., None], k3[..., :3], np.nan)
        try:
            ds.frames[iid] = replace(f, world=world)
        except ValidationError as exc:
            raise InputError(path, f"image id {iid!r}: {exc}") from None
    return ds
