"""Hand keypoint datasets (mmpose's test-data forms): FreiHAND, OneHand10K, CMU Panoptic hands, RHD and
InterHand2.6M. Every reader returns hands in the ``hand21`` layout (MediaPipe's order: wrist, then each
finger from its base to its tip), so predictions of the hand model compare directly.

* FreiHAND, OneHand10K, Panoptic: COCO-style files already in the ``hand21`` order (``thumb1`` …
  ``thumb4`` = base … tip). Their flags only say "labelled": 1 → VISIBLE, 0 → MISSING.
* RHD (synthetic): keypoints as nested ``[x, y, v]`` lists, each finger stored tip first (layout
  ``rhd21``); reordered through the exact ``rhd21 → hand21`` table. ``joint_cam`` (camera frame, mm)
  becomes ``world`` in metres.
* InterHand2.6M: 42 joints (right hand then left, each finger tip first, wrist last: layout
  ``interhand21`` per hand) in world millimetres plus per-capture cameras; each image gives up to two hands.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from posekit.errors import InputError, ValidationError
from posekit.io.coco import CocoDataset
from posekit.io.posekit_json import load_json_file
from posekit.poses import KeypointState, PoseFrame
from posekit.skeletons import get_conversion, get_skeleton

from ._cocolike import read_coco_style
from .cameras import Camera

__all__ = [
    "read_freihand",
    "read_onehand10k",
    "read_panoptic_hands",
    "read_rhd",
    "read_interhand_cameras",
    "read_interhand",
]


def read_freihand(path: str | Path) -> CocoDataset:
    """Read FreiHAND keypoints (COCO form, ``hand21``, 224×224 images, pixels)."""
    return read_coco_style(path, "hand21", flags="labelled")


def read_onehand10k(path: str | Path) -> CocoDataset:
    """Read OneHand10K keypoints (COCO form, ``hand21``; unlabelled points are MISSING)."""
    return read_coco_style(path, "hand21", flags="labelled")


def read_panoptic_hands(path: str | Path) -> CocoDataset:
    """Read CMU Panoptic hand keypoints (COCO form, ``hand21``).

    ``frame.extras`` holds ``head_size`` ``(N,)`` pixels (the normaliser of Panoptic's PCKh-style metric)
    and ``center`` ``(N, 2)`` pixels.
    """
    return read_coco_style(path, "hand21", flags="labelled", extras={"head_size": (), "center": (2,)})


def read_rhd(path: str | Path, *, layout: Literal["hand21", "rhd21"] = "hand21") -> CocoDataset:
    """Read RHD keypoints (mmpose's COCO form with nested keypoints).

    Args:
        path: the JSON file.
        layout: ``"hand21"`` (default; reordered exactly) or ``"rhd21"`` (the file's own order).

    Returns:
        A :class:`CocoDataset`; ``frame.world`` holds ``joint_cam`` in the camera frame in metres and
        ``frame.extras["handedness"]`` the ``hand_type`` (``"left"``/``"right"``). Each image entry keeps its
        ``cam_param`` (``focal``, ``princpt`` in pixels).
    """
    ds = read_coco_style(path, "rhd21", flags="labelled", extras={"joint_cam": (21, 3)})
    anns = load_json_file(path)["annotations"]
    hand_type: dict[Any, list[str]] = {}
    for j, a in enumerate(anns):
        ht = a.get("hand_type", "")
        if ht not in ("left", "right", ""):
            raise InputError(path, f"annotation id {a.get('id', j)!r}: field 'hand_type' is {ht!r}, expected left or right")
        hand_type.setdefault(a.get("image_id"), []).append(ht)
    for iid, f in ds.frames.items():
        jc = f.extras.pop("joint_cam") / 1000.0
        world = np.where(f.present[..., None], jc, np.nan)
        g = replace(f, world=world, extras={**f.extras, "handedness": np.array(hand_type.get(iid, []), dtype="<U5")})
        ds.frames[iid] = g if layout == "rhd21" else g.to_skeleton("hand21")
    if layout != "rhd21":
        ds.skeleton = get_skeleton("hand21")
    return ds


def read_interhand_cameras(path: str | Path) -> dict[tuple[str, str], Camera]:
    """Read ``InterHand2.6M_*_camera.json``: capture → ``campos`` (mm), ``camrot``, ``focal``, ``princpt``.

    Returns:
        ``(capture, camera)`` → :class:`Camera` with ``R = camrot``, ``t = -camrot @ campos`` in metres
        (InterHand maps a world point by ``camrot @ (X - campos)``), no distortion.
    """
    doc = load_json_file(path)
    if not isinstance(doc, dict):
        raise InputError(path, "expected an object of captures")
    out: dict[tuple[str, str], Camera] = {}
    for cap, d in doc.items():
        if not isinstance(d, dict) or not all(k in d for k in ("campos", "camrot", "focal", "princpt")):
            raise InputError(path, f"capture {cap!r}: fields 'campos', 'camrot', 'focal', 'princpt' are required")
        for cam in d["campos"]:
            try:
                pos = np.asarray(d["campos"][cam], np.float64).reshape(3) / 1000.0
                rot = np.asarray(d["camrot"][cam], np.float64).reshape(3, 3)
                f = np.asarray(d["focal"][cam], np.float64).reshape(2)
                c = np.asarray(d["princpt"][cam], np.float64).reshape(2)
            except (KeyError, TypeError, ValueError):
                raise InputError(path, f"capture {cap!r} camera {cam!r}: malformed or missing parameters") from None
            out[(str(cap), str(cam))] = Camera(name=str(cam), fx=f[0], fy=f[1], cx=c[0], cy=c[1], R=rot, t=-rot @ pos)
    return out


def read_interhand(data_path: str | Path, joints_path: str | Path, cameras_path: str | Path) -> CocoDataset:
    """Read InterHand2.6M: image list (``*_data.json``), 3D joints (``*_joint_3d.json``), cameras.

    Args:
        data_path: ``images`` (``capture``, ``camera``, ``frame_idx``, size) and ``annotations``
            (``bbox``, ``joint_valid`` (42), ``hand_type``).
        joints_path: capture → frame → ``world_coord`` (42 × 3 mm), ``joint_valid``, ``hand_type``.
        cameras_path: see :func:`read_interhand_cameras`.

    Returns:
        A :class:`CocoDataset` in ``hand21``: per image one person per hand with at least one valid
        joint (right before left); ``world`` = world-frame joints in metres; ``xy`` = their projection
        into the image's camera (pixels); valid joints VISIBLE (InterHand has no occlusion flag), invalid
        ones MISSING; ``extras["handedness"]`` = ``"right"``/``"left"``; the box of both hands is the
        annotation's ``bbox``.

    Raises:
        InputError: a missing field, 42 joints expected, an image whose capture/frame/camera is absent
            from the joint or camera file.
    """
    data = load_json_file(data_path)
    joints = load_json_file(joints_path)
    cams = read_interhand_cameras(cameras_path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        raise InputError(data_path, "fields 'images' and 'annotations' must be lists")
    if not isinstance(joints, dict):
        raise InputError(joints_path, "expected an object of captures")
    anns = {a.get("image_id"): a for a in data["annotations"] if isinstance(a, dict)}
    to21 = np.asarray(get_conversion("interhand21", "hand21").index)
    sk = get_skeleton("hand21")
    images, frames, ann_ids, crowd, areas = {}, {}, {}, {}, {}
    for pos, img in enumerate(data["images"]):
        if not isinstance(img, dict) or "id" not in img:
            raise InputError(data_path, f"images[{pos}] has no field 'id'")
        iid = img["id"]
        try:
            cap, cam_name, fr = str(img["capture"]), str(img["camera"]), str(img["frame_idx"])
        except KeyError as exc:
            raise InputError(data_path, f"image id {iid!r} has no field {exc.args[0]!r}") from None
        if iid not in anns:
            raise InputError(data_path, f"image id {iid!r} has no annotation")
        a = anns[iid]
        try:
            jrec = joints[cap][fr]
            world42 = np.asarray(jrec["world_coord"], np.float64)
        except (KeyError, TypeError):
            raise InputError(joints_path, f"no 'world_coord' for capture {cap} frame {fr} (image id {iid!r})") from None
        if world42.shape != (42, 3) or not np.all(np.isfinite(world42)):
            raise InputError(joints_path, f"capture {cap} frame {fr}: field 'world_coord' must be 42×3 finite numbers")
        valid = np.asarray(a.get("joint_valid", jrec.get("joint_valid")), np.float64).reshape(-1)
        if valid.shape != (42,):
            raise InputError(data_path, f"image id {iid!r}: field 'joint_valid' has {valid.size} values, expected 42")
        if (cap, cam_name) not in cams:
            raise InputError(cameras_path, f"capture {cap} has no camera {cam_name!r} (image id {iid!r})")
        cam = cams[(cap, cam_name)]
        hands, names = [], []
        for side, sl in (("right", slice(0, 21)), ("left", slice(21, 42))):
            ok = valid[sl] > 0
            if ok.any():
                w = np.where(ok[:, None], world42[sl] / 1000.0, np.nan)[to21]
                hands.append((w, ok[to21]))
                names.append(side)
        n = len(hands)
        world = np.stack([h[0] for h in hands]) if n else np.zeros((0, 21, 3))
        ok = np.stack([h[1] for h in hands]) if n else np.zeros((0, 21), bool)
        xy = cam.project(world)
        state = np.where(ok, KeypointState.VISIBLE, KeypointState.MISSING).astype(np.uint8)
        bbox = a.get("bbox")
        box = None
        if isinstance(bbox, list) and len(bbox) == 4:
            b = np.asarray(bbox, np.float64)
            box = np.tile([b[0], b[1], b[0] + b[2], b[1] + b[3]], (n, 1))
        w_, h_ = img.get("width"), img.get("height")
        try:
            frames[iid] = PoseFrame(
                sk, xy, ok.astype(np.float32), state, world=world, box=box, frame=pos,
                image_size=(w_, h_) if isinstance(w_, int) and isinstance(h_, int) else None,
                extras={"handedness": np.array(names, dtype="<U5")},
            )  # fmt: skip
        except ValidationError as exc:
            raise InputError(data_path, f"image id {iid!r}: {exc}") from None
        images[iid] = img
        ann_ids[iid] = np.full(n, a.get("id", iid), dtype=np.int64)
        crowd[iid] = np.zeros(n, bool)
        areas[iid] = np.full(n, float(box[0, 2] - box[0, 0]) * float(box[0, 3] - box[0, 1]) if box is not None and n else 0.0)
    return CocoDataset(
        skeleton=sk, category_id=1, images=images, frames=frames, annotation_ids=ann_ids, iscrowd=crowd,
        areas=areas, categories=[{"id": 1, "name": "hand", "keypoints": list(sk.keypoints)}], path=str(data_path),
    )  # fmt: skip
