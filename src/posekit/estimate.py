"""PoseEstimator: images and videos in, multi-person BlazePose-33 keypoints (2D pixels + 3D metres) out.

The pipeline is MediaPipe's pose pipeline generalised to many people, run by posekit on LiteRT:

* **Images** (and the first frame of a video): the person detector runs on the whole image and, when the
  image is large compared with its 224×224 input, on overlapping tiles; every candidate becomes a
  rotated region; the landmark model runs on each region; regions whose pose-presence score is low are
  dropped, and poses that describe one body (OKS ≥ ``duplicate_oks``) are merged, keeping the best.
* **Video**: each person's region for the next frame comes from its current auxiliary landmarks (as in
  MediaPipe's tracking). The detector runs only when nobody is tracked, when someone was lost, and every
  ``detect_every`` frames to find newcomers (cycling through the full frame and the tiles, one detector
  call per run). Regions that converge on one body are merged. Each person keeps a region-track id.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .config import EstimatorConfig
from .models.blazepose import LandmarkResult, PoseDetector, PoseLandmarker, detection_to_roi, landmarks_to_roi
from .models.geometry import RotatedRect, full_image_rect
from .poses import KeypointState, PoseFrame, PoseSequence
from .skeletons import BLAZEPOSE33, COCO17, get_conversion

__all__ = ["PoseEstimator", "tile_regions", "pose_oks"]

_COCO_IDX = np.asarray(get_conversion("blazepose33", "coco17").index)
_COCO_SIGMAS = COCO17.sigmas_array


def tile_regions(width: int, height: int, levels: Iterable[float], overlap: float = 0.25) -> list[RotatedRect]:
    """Overlapping square tiles covering an image, for the person detector.

    Args:
        width: image width, pixels.
        height: image height, pixels.
        levels: tile sides as fractions of the image's shorter side.
        overlap: fraction of a tile shared with its neighbour.

    Returns:
        Axis-aligned :class:`RotatedRect` tiles in pixels (the full image is not included). Tiles that
        would equal the full image are skipped.
    """
    out: list[RotatedRect] = []
    short = min(width, height)
    for f in levels:
        side = max(1.0, f * short)
        if side >= max(width, height) - 1:
            continue
        step = side * (1.0 - overlap)
        nx = max(1, math.ceil((width - side) / step) + 1)
        ny = max(1, math.ceil((height - side) / step) + 1)
        xs = np.linspace(side / 2, width - side / 2, nx) if nx > 1 else [width / 2]
        ys = np.linspace(side / 2, height - side / 2, ny) if ny > 1 else [height / 2]
        for cy in ys:
            for cx in xs:
                out.append(RotatedRect(float(cx), float(cy), side, side, 0.0))
    return out


def pose_oks(a: np.ndarray, b: np.ndarray, area: float) -> float:
    """OKS between two BlazePose-33 poses ``(33, 2)`` pixels over their COCO-17 keypoints.

    Args:
        a: first pose, pixels.
        b: second pose, pixels.
        area: object scale² in pixels² (COCO uses the segment area; we use the box area).
    """
    d2 = np.sum((a[_COCO_IDX] - b[_COCO_IDX]) ** 2, axis=1)
    var = (2 * _COCO_SIGMAS) ** 2
    return float(np.mean(np.exp(-d2 / (2 * max(area, 1.0) * var))))


@dataclass
class _Person:
    """One tracked region in video mode."""

    track_id: int
    result: LandmarkResult
    roi: RotatedRect
    age: int = 0


@dataclass
class _VideoState:
    people: list[_Person] = field(default_factory=list)
    next_id: int = 0
    frame_index: int = 0
    since_detect: int = 0
    scan_cursor: int = 0


class PoseEstimator:
    """Multi-person pose estimation on images, videos and streams of decoded frames.

    Example:
        >>> est = PoseEstimator(max_people=4)               # doctest: +SKIP
        >>> frame = est(image_rgb)                          # PoseFrame, BlazePose-33, pixels
        >>> frame.to_coco(image_id=1)                       # COCO results entries
        >>> seq = est.video("clip.mp4").collect()           # PoseSequence

    Args:
        config: an :class:`~posekit.config.EstimatorConfig`; keyword arguments override its fields.
        **overrides: any field of :class:`~posekit.config.EstimatorConfig` (``max_people``, ``threads``, …).
    """

    def __init__(self, config: EstimatorConfig | None = None, **overrides) -> None:
        cfg = config or EstimatorConfig()
        self.config = cfg.replace(**overrides) if overrides else cfg
        c = self.config
        self.detector = PoseDetector(threads=c.threads, model_dir=c.model_dir, min_score=c.min_detection_score)
        self.landmarker = PoseLandmarker(threads=c.threads, model_dir=c.model_dir)
        self._hands = None
        self._face = None
        if c.hands:
            from .models.hands import HandPipeline

            self._hands = HandPipeline(threads=c.threads, model_dir=c.model_dir)
        if c.face:
            from .models.face import FacePipeline

            self._face = FacePipeline(threads=c.threads, model_dir=c.model_dir)
        #: seconds spent per stage over this estimator's life (detector, landmarks, parts)
        self.timings: dict[str, float] = {"detect": 0.0, "landmarks": 0.0, "parts": 0.0}
        self.counts: dict[str, int] = {"detect": 0, "landmarks": 0}

    # ------------------------------------------------------------------------------------------------
    # images
    # ------------------------------------------------------------------------------------------------
    def __call__(self, image: np.ndarray, *, frame: int = 0, time: float | None = None) -> PoseFrame:
        """Estimate the poses in one RGB image.

        Args:
            image: ``(H, W, 3)`` uint8 RGB.
            frame: frame index to record in the result.
            time: time in seconds to record in the result.

        Returns:
            A :class:`PoseFrame` (BlazePose-33) with up to ``max_people`` people, best first.
        """
        _check_image(image)
        h, w = image.shape[:2]
        regions = [full_image_rect(w, h)] + (self._tiles(w, h) if self._use_tiles(w, h) else [])
        people = self._find_people(image, regions, existing=[])
        people.sort(key=lambda r: -r.pose_score)
        people = people[: self.config.max_people]
        return self._to_frame(image, people, [-1] * len(people), frame=frame, time=time)

    def image(self, path: str | Path) -> PoseFrame:
        """Read an image file (EXIF orientation applied) and estimate its poses."""
        from .io.images import read_image

        return self(read_image(path, max_pixels=self.config.max_pixels))

    # ------------------------------------------------------------------------------------------------
    # video
    # ------------------------------------------------------------------------------------------------
    def stream(self, frames: Iterable[np.ndarray | tuple[int, float | None, np.ndarray]]) -> "PoseStream":
        """Video mode over any iterable of decoded RGB frames (or ``(index, time_s, image)`` tuples).

        Returns a :class:`PoseStream`: iterate it for :class:`PoseFrame` results, or ``.collect()``.
        """
        return PoseStream(self, frames)

    def video(self, path: str | Path) -> "PoseStream":
        """Video mode over a video file (timestamps from the container; rotation honoured)."""
        from .io.video import VideoReader

        reader = VideoReader(path, max_pixels=self.config.max_pixels)
        frames = ((f.index, f.time, f.image) for f in reader)
        return PoseStream(self, frames, source=str(path), fps=reader.fps)

    def track_frame(self, image: np.ndarray, state: _VideoState, *, frame: int, time: float | None) -> PoseFrame:
        """One video-mode step: follow each tracked person's region, detect when needed."""
        _check_image(image)
        c = self.config
        h, w = image.shape[:2]
        kept: list[_Person] = []
        lost = 0
        for p in state.people:
            res = self._landmarks(image, p.roi)
            if res is None:
                lost += 1
                continue
            p.result, p.roi, p.age = res, landmarks_to_roi(res.aux), p.age + 1
            kept.append(p)
        kept = self._merge_converged(kept)
        state.since_detect += 1
        due = c.detect_every > 0 and state.since_detect >= c.detect_every
        if not kept or lost or due:
            regions = self._scan_regions(w, h, state, full=not kept or lost > 0)
            found = self._find_people(image, regions, existing=[p.result for p in kept])
            for res in sorted(found, key=lambda r: -r.pose_score):
                if len(kept) >= c.max_people:
                    break
                kept.append(_Person(state.next_id, res, landmarks_to_roi(res.aux)))
                state.next_id += 1
            state.since_detect = 0
        state.people = kept
        state.frame_index += 1
        return self._to_frame(image, [p.result for p in kept], [p.track_id for p in kept], frame=frame, time=time)

    # ------------------------------------------------------------------------------------------------
    # internals
    # ------------------------------------------------------------------------------------------------
    def _use_tiles(self, w: int, h: int) -> bool:
        t = self.config.tiles
        return bool(t) if t != "auto" else max(w, h) >= self.config.tile_min_side

    def _tiles(self, w: int, h: int) -> list[RotatedRect]:
        return tile_regions(w, h, self.config.tile_levels)

    def _scan_regions(self, w: int, h: int, state: _VideoState, *, full: bool) -> list[RotatedRect]:
        """Regions for one detection run in video mode: everything when ``full``, else one in turn."""
        regions = [full_image_rect(w, h)] + (self._tiles(w, h) if self._use_tiles(w, h) else [])
        if full:
            return regions
        r = regions[state.scan_cursor % len(regions)]
        state.scan_cursor += 1
        return [r]

    def _landmarks(self, image: np.ndarray, roi: RotatedRect) -> LandmarkResult | None:
        t0 = _time.perf_counter()
        res = self.landmarker(image, roi)
        self.timings["landmarks"] += _time.perf_counter() - t0
        self.counts["landmarks"] += 1
        return res if res.pose_score >= self.config.min_pose_score else None

    def _find_people(
        self, image: np.ndarray, regions: list[RotatedRect], existing: list[LandmarkResult]
    ) -> list[LandmarkResult]:
        """Detect candidates in ``regions``, run landmarks on new ones, drop duplicates."""
        t0 = _time.perf_counter()
        boxes, kps, scores = [], [], []
        for region in regions:
            d = self.detector(image, region)
            self.counts["detect"] += 1
            if len(d):
                boxes.append(d.boxes)
                kps.append(d.keypoints)
                scores.append(d.scores)
        self.timings["detect"] += _time.perf_counter() - t0
        if not boxes:
            return []
        boxes_a, kps_a, scores_a = np.concatenate(boxes), np.concatenate(kps), np.concatenate(scores)
        order = _nms_order(boxes_a, scores_a, iou=0.3)
        accepted: list[LandmarkResult] = list(existing)
        new: list[LandmarkResult] = []
        for i in order:
            # Skip a detection whose face box sits on the head of someone already accepted.
            if any(_face_on_pose(boxes_a[i], r.xy) for r in accepted):
                continue
            res = self._landmarks(image, detection_to_roi(kps_a[i]))
            if res is None:
                continue
            if any(_same_body(res, r, self.config.duplicate_oks) for r in accepted):
                continue
            accepted.append(res)
            new.append(res)
            if len(accepted) >= self.config.max_people:
                break
        return new

    def _merge_converged(self, people: list[_Person]) -> list[_Person]:
        """Drop tracked regions that now describe the same body as an older one."""
        out: list[_Person] = []
        for p in sorted(people, key=lambda q: (-q.age, q.track_id)):
            if any(_same_body(p.result, q.result, self.config.duplicate_oks) for q in out):
                continue
            out.append(p)
        return sorted(out, key=lambda q: q.track_id)

    def _to_frame(
        self,
        image: np.ndarray,
        results: list[LandmarkResult],
        track_ids: list[int],
        *,
        frame: int,
        time: float | None,
    ) -> PoseFrame:
        h, w = image.shape[:2]
        n = len(results)
        k = len(BLAZEPOSE33)
        xy = np.zeros((n, k, 2))
        z = np.zeros((n, k))
        world = np.zeros((n, k, 3))
        score = np.zeros((n, k), np.float32)
        state = np.zeros((n, k), np.uint8)
        vis = np.zeros((n, k), np.float32)
        pres = np.zeros((n, k), np.float32)
        box_score = np.zeros(n, np.float32)
        thr = self.config.visibility_threshold
        for i, r in enumerate(results):
            xy[i], z[i], world[i] = r.xy, r.z, r.world
            vis[i], pres[i] = r.visibility, r.presence
            score[i] = r.visibility
            seen = (r.visibility >= thr) & (r.presence >= thr)
            state[i] = np.where(seen, KeypointState.VISIBLE, KeypointState.OCCLUDED)
            box_score[i] = r.pose_score
        pf = PoseFrame(
            BLAZEPOSE33, xy, score, state, z=z, world=world, box_score=box_score,
            track_id=np.asarray(track_ids, np.int64), frame=frame, time=time, image_size=(w, h),
            extras={"visibility": vis, "presence": pres},
        )  # fmt: skip
        if n and (self._hands is not None or self._face is not None):
            t0 = _time.perf_counter()
            pf.parts.update(self._parts(image, pf))
            self.timings["parts"] += _time.perf_counter() - t0
        return pf

    def _parts(self, image: np.ndarray, pf: PoseFrame) -> dict[str, PoseFrame]:
        from .parts import face_part, hand_parts

        parts: dict[str, PoseFrame] = {}
        vis = pf.extras["visibility"]
        if self._hands is not None:
            parts.update(hand_parts(self._hands, image, pf.xy, vis, self.config.visibility_threshold))
        if self._face is not None:
            parts["face"] = face_part(self._face, image, pf.xy, vis, self.config.visibility_threshold)
        return parts


class PoseStream:
    """Video-mode results over a frame source; iterate for :class:`PoseFrame` or call :meth:`collect`.

    Iteration is lazy: frames are decoded, estimated and released one at a time, so memory does not grow
    with the length of the video. If the source breaks part-way (a truncated file), the frames before the
    break are yielded and then the source's error is raised.
    """

    def __init__(
        self,
        estimator: PoseEstimator,
        frames: Iterable[np.ndarray | tuple[int, float | None, np.ndarray]],
        *,
        source: str | None = None,
        fps: float | None = None,
    ) -> None:
        self.estimator = estimator
        self._frames = frames
        self.source = source
        self.fps = fps
        self.state = _VideoState()

    def __iter__(self) -> Iterator[PoseFrame]:
        for frame, _image in self.with_images():
            yield frame

    def with_images(self) -> Iterator[tuple[PoseFrame, np.ndarray]]:
        """Iterate ``(PoseFrame, image)`` pairs (the decoded RGB image, e.g. to draw on it)."""
        for i, item in enumerate(self._frames):
            if isinstance(item, np.ndarray):
                idx, t, img = i, (i / self.fps if self.fps else None), item
            else:
                idx, t, img = item
            yield self.estimator.track_frame(img, self.state, frame=idx, time=t), img

    def collect(self) -> PoseSequence:
        """Run to the end and return a :class:`PoseSequence` (one individual per region-track id)."""
        seq = PoseSequence.from_frames(list(self), skeleton=BLAZEPOSE33, fps=self.fps, source=self.source)
        return seq.log_step("estimate", **_config_dict(self.estimator.config))


def _config_dict(cfg: EstimatorConfig) -> dict:
    from dataclasses import asdict

    return asdict(cfg)


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got shape {shape} dtype {dtype}")
    if min(image.shape[:2]) < 2:
        raise ValueError(f"image of {image.shape[1]}×{image.shape[0]} pixels is too small to hold a person")


def _nms_order(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by hard NMS on boxes ``(M, 4)`` pixels, best score first."""
    order = list(np.argsort(-scores))
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(i)
        if not order:
            break
        rest = np.asarray(order)
        x0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        a = (boxes[i, 2] - boxes[i, 0]) * (boxes[i, 3] - boxes[i, 1])
        b = (boxes[rest, 2] - boxes[rest, 0]) * (boxes[rest, 3] - boxes[rest, 1])
        ious = inter / np.maximum(a + b - inter, 1e-9)
        order = [j for j, v in zip(order, ious) if v <= iou]
    return keep


def _pose_area(xy: np.ndarray) -> float:
    mn, mx = xy.min(axis=0), xy.max(axis=0)
    return float(np.prod(np.maximum(mx - mn, 1.0)))


def _same_body(a: LandmarkResult, b: LandmarkResult, thr: float) -> bool:
    area = min(_pose_area(a.xy[_COCO_IDX]), _pose_area(b.xy[_COCO_IDX]))
    return pose_oks(a.xy, b.xy, area) >= thr


def _face_on_pose(face_box: np.ndarray, xy: np.ndarray) -> bool:
    """True when a detector face box (x0, y0, x1, y1) holds the nose of a pose and matches its head size."""
    nose = xy[0]
    x0, y0, x1, y1 = face_box
    if not (x0 <= nose[0] <= x1 and y0 <= nose[1] <= y1):
        return False
    head = xy[:11]
    head_w = float(np.ptp(head[:, 0])) + 1e-6
    face_w = float(x1 - x0)
    return 0.4 <= face_w / head_w <= 2.5
