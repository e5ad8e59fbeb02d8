"""Typed configuration for the estimator (one schema for the CLI, a TOML file and the Python API)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["EstimatorConfig", "load_config"]


@dataclass(frozen=True)
class EstimatorConfig:
    """Options of :class:`posekit.PoseEstimator`. Frozen: derive variants with :meth:`replace`.

    Attributes:
        max_people: most people returned per frame.
        threads: LiteRT inference threads per model (1 is fastest per process on small CPUs).
        model_dir: folder with the ``.tflite`` models (laid out as in mediapipe's ``modules/``);
            ``None`` uses ``$POSEKIT_MODEL_DIR`` or the installed mediapipe package.
        min_detection_score: person detector score threshold (0..1). 0.4 rather than MediaPipe's 0.5:
            candidates are cheap to reject afterwards (pose presence and two-pass stability). On the
            shared COCO photos 0.5 loses about one AP point; 0.3 gives no consistent gain for about 30 %
            more time.
        video_min_detection_score: person detector score threshold in video mode (0..1; MediaPipe's 0.5).
            Newcomer scans run on tracked video, where a lower threshold only adds landmark runs.
        min_pose_score: landmark model pose-presence threshold (0..1) below which a region holds no one.
            In image mode (and for newcomers in video) a person must also reach it with its person score
            (refined pose presence × two-pass stability).
        visibility_threshold: a landmark with visibility and presence at least this is ``VISIBLE``;
            otherwise it is ``OCCLUDED`` (present, position implied, not seen).
        tiles: run the detector on overlapping tiles too: ``"auto"`` when the image is large
            compared with the detector's 224×224 input (longer side ≥ ``tile_min_side``), ``True`` or ``False``.
        tile_min_side: longer image side in pixels from which ``tiles="auto"`` tiles (448 = twice the
            detector's 224-pixel input: a larger image is shrunk more than twofold for the whole-image
            view, and its smaller people get too small for the detector).
        tile_levels: tile sizes as fractions of the image's shorter side (each level overlaps by 25%).
            The default is a pyramid with ratio 1.5 (about 21 detector runs on a 640×480 photo).
        video_tile_levels: tile sizes for the detector in video mode (the full scan when someone is lost,
            and the regions cycled through to find newcomers). Fewer, larger tiles than for photos keep
            a lost-person frame cheap; tracking, not the detector, follows people between scans.
        refine_landmarks: image mode: return the landmarks of the second pass (on the region the first
            pass's auxiliary landmarks define) instead of the first. The second pass always runs, to score
            each person by its stability; returning its landmarks adds about 0.8 AP on the shared
            coco_mini photos and 4.8 on mmpose's four, but the output then no longer matches MediaPipe's
            static image mode landmark for landmark (off by more than 2% of the box diagonal on 5 of 17
            photos). Off by default, so image-mode landmarks agree with MediaPipe's.
        duplicate_oks: two poses whose OKS (COCO-17 view, scaled by the smaller pose's box area) is at
            least this are one person.
        detect_every: in video, run the detector every this many frames to find newcomers (0: only when
            nobody is tracked or someone is lost). With tiling, each such run scans one region, cycling
            through the full frame and the tiles.
        hands: also estimate 21 hand landmarks per visible wrist.
        face: also estimate the 468-point face mesh per head.
        max_pixels: largest accepted image (width × height).
    """

    max_people: int = 10
    threads: int = 1
    model_dir: str | None = None
    min_detection_score: float = 0.4
    video_min_detection_score: float = 0.5
    min_pose_score: float = 0.5
    visibility_threshold: float = 0.5
    tiles: bool | str = "auto"
    tile_min_side: int = 448
    tile_levels: tuple[float, ...] = (1.0, 0.66, 0.44)
    video_tile_levels: tuple[float, ...] = (1.0, 0.5)
    refine_landmarks: bool = False
    duplicate_oks: float = 0.5
    detect_every: int = 10
    hands: bool = False
    face: bool = False
    max_pixels: int = 100_000_000

    def __post_init__(self) -> None:
        if self.max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {self.max_people}")
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        scores = ("min_detection_score", "video_min_detection_score", "min_pose_score", "visibility_threshold")
        for name in (*scores, "duplicate_oks"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if self.tiles not in (True, False, "auto"):
            raise ValueError(f"tiles must be true, false or 'auto', got {self.tiles!r}")
        if self.detect_every < 0:
            raise ValueError(f"detect_every must be >= 0, got {self.detect_every}")
        for name in ("tile_levels", "video_tile_levels"):
            levels = getattr(self, name)
            if any(not 0.05 <= f <= 1.0 for f in levels):
                raise ValueError(f"{name} must be fractions in [0.05, 1], got {levels}")

    def replace(self, **changes: Any) -> "EstimatorConfig":
        """A copy with some fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_config(path: str | Path) -> EstimatorConfig:
    """Read an :class:`EstimatorConfig` from the ``[estimate]`` table of a TOML file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "config file does not exist")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(p, f"is not valid TOML ({e})") from None
    table = data.get("estimate", {})
    known = {f.name for f in fields(EstimatorConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(p, f"unknown option(s) in [estimate]: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    for name in ("tile_levels", "video_tile_levels"):
        if name in table:
            table[name] = tuple(table[name])
    try:
        return EstimatorConfig(**table)
    except (TypeError, ValueError) as e:
        raise InputError(p, str(e)) from None
