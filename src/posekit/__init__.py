"""posekit: multi-person human pose estimation and movement analysis you can trust over time.

The public API is re-exported here::

    import posekit
    est = posekit.PoseEstimator(max_people=4)
    frame = est(image_rgb)              # PoseFrame (BlazePose-33, pixels; world landmarks in metres)
    seq = est.video("clip.mp4").collect()

Heavy modules (the estimator and its model runtime) load on first use, so ``import posekit`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import EstimatorConfig, load_config
from .errors import InputError, ModelNotFoundError, OutputError, PosekitError, TruncatedInputError, ValidationError
from .poses import KeypointState, PoseFrame, PoseSequence
from .skeletons import SKELETONS, Skeleton, get_conversion, get_skeleton, register_skeleton

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "EstimatorConfig",
    "load_config",
    "PosekitError",
    "InputError",
    "OutputError",
    "TruncatedInputError",
    "ModelNotFoundError",
    "ValidationError",
    "KeypointState",
    "PoseFrame",
    "PoseSequence",
    "Skeleton",
    "SKELETONS",
    "get_skeleton",
    "get_conversion",
    "register_skeleton",
    "PoseEstimator",
    "read_image",
    "open_source",
    "read_coco",
    "write_coco",
    "save_poses",
    "load_poses",
    "draw_frame",
]

_LAZY = {
    "PoseEstimator": ("posekit.estimate", "PoseEstimator"),
    "read_image": ("posekit.io.images", "read_image"),
    "open_source": ("posekit.io.sources", "open_source"),
    "read_coco": ("posekit.io.coco", "read_coco"),
    "write_coco": ("posekit.io.coco", "write_coco"),
    "save_poses": ("posekit.io.posekit_json", "save_poses"),
    "load_poses": ("posekit.io.posekit_json", "load_poses"),
    "draw_frame": ("posekit.viz.draw", "draw_frame"),
}

if TYPE_CHECKING:  # pragma: no cover
    from .estimate import PoseEstimator
    from .io.coco import read_coco, write_coco
    from .io.images import read_image
    from .io.posekit_json import load_poses, save_poses
    from .io.sources import open_source
    from .viz.draw import draw_frame


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'posekit' has no attribute {name!r}")
