"""Locate model weights on disk. Nothing is ever downloaded.

Search order for a relative name such as ``"pose_detection/pose_detection.tflite"``:

1. the ``model_dir`` the caller gave;
2. the folder in the ``POSEKIT_MODEL_DIR`` environment variable (read at call time);
3. the ``modules/`` folder of the installed ``mediapipe`` package, found with
   :func:`importlib.util.find_spec` without importing mediapipe (which is slow).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from posekit.errors import ModelNotFoundError

__all__ = ["find_model", "mediapipe_modules_dir", "ENV_MODEL_DIR"]

ENV_MODEL_DIR = "POSEKIT_MODEL_DIR"


def mediapipe_modules_dir() -> Path | None:
    """The installed mediapipe package's ``modules`` folder, or None when mediapipe is not installed."""
    try:
        spec = importlib.util.find_spec("mediapipe")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        d = Path(root) / "modules"
        if d.is_dir():
            return d
    return None


def find_model(relative: str, model_dir: str | Path | None = None) -> Path:
    """Find a model file by its name relative to a models folder.

    Args:
        relative: e.g. ``"pose_landmark/pose_landmark_full.tflite"``. In ``model_dir`` and
            ``POSEKIT_MODEL_DIR`` the file is also accepted flat (by its base name alone).
        model_dir: a folder to look in first.

    Returns:
        The absolute path of the first match.

    Raises:
        ModelNotFoundError: when no candidate exists; the message lists every place looked at.
    """
    candidates: list[Path] = []
    for base in (model_dir, os.environ.get(ENV_MODEL_DIR) or None):
        if base is not None:
            b = Path(base).expanduser()
            candidates += [b / relative, b / Path(relative).name]
    mp_dir = mediapipe_modules_dir()
    if mp_dir is not None:
        candidates.append(mp_dir / relative)
    seen: list[Path] = []
    for c in candidates:
        if c in seen:
            continue
        seen.append(c)
        if c.is_file():
            return c.resolve()
    looked = ", ".join(str(c) for c in seen) or "nowhere: no model_dir and no POSEKIT_MODEL_DIR were given"
    if mp_dir is None:
        looked += "; the mediapipe package is not installed"
    raise ModelNotFoundError(
        f"Model {relative!r} not found (looked in: {looked}). Install the models with "
        f"`pip install mediapipe==0.10.21`, or set {ENV_MODEL_DIR} to a folder that holds {relative!r}."
    )
