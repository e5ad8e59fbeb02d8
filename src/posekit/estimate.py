"""PoseEstimator: images and videos in, multi-person BlazePose-33 keypoints (2D pixels + 3D metres) out.

The pipeline is MediaPipe's pose pipeline generalised to many people, run by posekit on LiteRT:

* **Images** (and the first frame of a video): the person detector runs on the whole image and, when the
  image is large compared with its 224×224 input, on overlapping tiles at a few scales. The detections
  of all regions are pooled and clustered (weighted NMS on their face boxes), so a person seen in several
  tiles costs one landmark run. Each cluster becomes a rotated region; the landmark model runs on it
  (first pass) and again on the region its auxiliary landmarks define (second pass, the region a video
  would use next). The person's score is ``pose presence (second pass) × stability``, where stability is
  the OKS between the two passes: real people are stable under re-cropping, hallucinated ones drift.
  Poses below ``min_pose_score`` are dropped and poses that describe one body (OKS ≥ ``duplicate_oks``)
  are merged, keeping the best score.
* **Video**: each person's region for the next frame comes from its current auxiliary landmarks (as in
  MediaPipe's tracking: one landmark run per person per frame). The detector runs only when nobody is
  tracked, when someone was lost, and every ``detect_every`` frames to find newcomers (cycling through
  the full frame and the tiles, one detector call per run). Regions that converge on one body are
  merged. Each person keeps a region-track id.

``PoseFrame.box_score`` is the person score above in image mode and for a newcomer's first video frame;
for a person followed in video it is the landmark model's pose presence.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .config import EstimatorConfig
from .errors import ImageArrayError
from .models.blazepose import LandmarkResult, PoseDetector, PoseLandmarker, detection_to_roi, landmarks_to_roi
from .models.geometry import Detections, RotatedRect, full_image_rect, weighted_nms
from .models.ssd import check_image
from .poses import KeypointState, PoseFrame, PoseSequence
from .skeletons import BLAZEPOSE33, COCO17, get_conversion

__all__ = [
    "PoseEstimator",
    "PoseStream",
    "tile_regions",
    "pose_oks",
    "body_oks",
    "pose_stability",
    "person_score",
    "cluster_detections",
    "suppress_duplicates",
]

_COCO_IDX = np.asarray(get_conversion("blazepose33", "coco17").index)
_COCO_SIGMAS = COCO17.sigmas_array
#: IoU of face boxes above which detections from different regions are one candidate (MediaPipe's own
#: detector NMS threshold, applied across tiles).
_CLUSTER_IOU = 0.3


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
class _Candidate:
    """One person found by the detector path.

    ``result`` is what is returned (first or second pass, see ``refine_landmarks``); ``refined`` is the
    second pass, used for duplicate suppression; ``score`` = refined pose presence × stability.
    """

    result: LandmarkResult
    refined: LandmarkResult
    stability: float
    score: float


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
    last_full: int = 0
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
        det_min = min(c.min_detection_score, c.video_min_detection_score)
        self.detector = PoseDetector(threads=c.threads, model_dir=c.model_dir, min_score=det_min)
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
        found = self._search(image, regions, existing=[], min_score=self.config.min_detection_score)
        results = [c.result for c in found]
        return self._to_frame(
            image, results, [-1] * len(found), frame=frame, time=time, box_scores=[c.score for c in found]
        )

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
        scores = {}
        if len(kept) < c.max_people and (not kept or lost or due):
            regions = self._scan_regions(w, h, state, full=not kept or lost > 0)
            found = self._find_people(
                image, regions, existing=[p.result for p in kept], min_score=c.video_min_detection_score
            )
            for cand in found:
                kept.append(_Person(state.next_id, cand.result, landmarks_to_roi(cand.result.aux)))
                scores[state.next_id] = cand.score
                state.next_id += 1
            state.since_detect = 0
        elif due:
            state.since_detect = 0
        state.people = kept
        state.frame_index += 1
        return self._to_frame(
            image,
            [p.result for p in kept],
            [p.track_id for p in kept],
            frame=frame,
            time=time,
            box_scores=[scores.get(p.track_id, p.result.pose_score) for p in kept],
        )

    # ------------------------------------------------------------------------------------------------
    # internals
    # ------------------------------------------------------------------------------------------------
    def _use_tiles(self, w: int, h: int) -> bool:
        t = self.config.tiles
        return bool(t) if t != "auto" else max(w, h) >= self.config.tile_min_side

    def _tiles(self, w: int, h: int, *, video: bool = False) -> list[RotatedRect]:
        c = self.config
        return tile_regions(w, h, c.video_tile_levels if video else c.tile_levels)

    def _scan_regions(self, w: int, h: int, state: _VideoState, *, full: bool) -> list[RotatedRect]:
        """Regions for one detection run in video mode, at most two detector calls after the first frame.

        The first frame scans the whole frame and every tile, and so does every ``detect_every``-th frame
        while nobody is tracked or someone is lost (``full``); the frames between scan the whole frame
        plus the next tile in turn (e.g. someone lying on the floor after a fall, whom the detector
        finds only in a tile, is found again within ``detect_every`` frames); a periodic newcomer
        scan takes one region in turn (the whole frame counts as one). So an empty scene costs two
        detector calls per frame, not one per tile, and a small person is found within a cycle.
        """
        whole = full_image_rect(w, h)
        tiles = self._tiles(w, h, video=True) if self._use_tiles(w, h) else []
        if state.frame_index == 0 or (full and state.frame_index - state.last_full >= max(1, self.config.detect_every)):
            state.last_full = state.frame_index
            return [whole, *tiles]
        if full:
            if not tiles:
                return [whole]
            t = tiles[state.scan_cursor % len(tiles)]
            state.scan_cursor += 1
            return [whole, t]
        regions = [whole, *tiles]
        r = regions[state.scan_cursor % len(regions)]
        state.scan_cursor += 1
        return [r]

    def _run_landmarks(self, image: np.ndarray, roi: RotatedRect) -> LandmarkResult:
        t0 = _time.perf_counter()
        res = self.landmarker(image, roi)
        self.timings["landmarks"] += _time.perf_counter() - t0
        self.counts["landmarks"] += 1
        return res

    def _landmarks(self, image: np.ndarray, roi: RotatedRect) -> LandmarkResult | None:
        res = self._run_landmarks(image, roi)
        return res if res.pose_score >= self.config.min_pose_score else None

    def _find_people(
        self, image: np.ndarray, regions: list[RotatedRect], existing: list[LandmarkResult], *, min_score: float
    ) -> list[_Candidate]:
        """Video mode: :meth:`_search` the first region alone, then the others only if there is room.

        (Image mode searches all regions at once: pooling a person's detections from every tile before
        the landmark passes gives better poses there — 55.8 against 50.8 AP on mmpose's four photos.)
        The first region is the whole frame whenever it is scanned, so a frame whose people the whole
        frame already fills up to ``max_people`` (e.g. ``max_people=1``) costs one detector call, as in
        MediaPipe, rather than one per tile.
        """
        head = self._search(image, regions[:1], existing, min_score=min_score)
        if len(regions) == 1 or len(existing) + len(head) >= self.config.max_people:
            return head
        known = [*existing, *(c.refined for c in head)]
        return head + self._search(image, regions[1:], known, min_score=min_score)

    def _search(
        self, image: np.ndarray, regions: list[RotatedRect], existing: list[LandmarkResult], *, min_score: float
    ) -> list[_Candidate]:
        """Detect candidates in ``regions``, run two landmark passes on each new one, drop duplicates.

        Args:
            image: ``(H, W, 3)`` uint8 RGB.
            regions: where the detector looks, pixels.
            existing: poses already known (tracked people in video); their heads and bodies are skipped.
            min_score: least detector score of a detection (0..1).

        Returns:
            New people, best score first, at most ``max_people - len(existing)``.
        """
        c = self.config
        room = c.max_people - len(existing)
        if room <= 0:
            return []
        t0 = _time.perf_counter()
        found = []
        for region in regions:
            d = self.detector(image, region)
            found.append(d[d.scores >= min_score])
            self.counts["detect"] += 1
        self.timings["detect"] += _time.perf_counter() - t0
        dets = cluster_detections(found)
        cands: list[_Candidate] = []
        stable: list[np.ndarray] = [r.xy for r in existing]
        for i in range(len(dets)):
            # A detection whose face box sits on the head of a person already found costs nothing more.
            if any(_face_on_pose(dets.boxes[i], xy) for xy in stable):
                continue
            first = self._landmarks(image, detection_to_roi(dets.keypoints[i]))
            if first is None:
                continue
            refined = self._run_landmarks(image, landmarks_to_roi(first.aux))
            stab = pose_stability(first.xy, refined.xy)
            score = person_score(refined.pose_score, stab)
            if score < c.min_pose_score:
                continue
            cands.append(_Candidate(refined if c.refine_landmarks else first, refined, stab, score))
            stable.append(refined.xy)
        cands.sort(key=lambda q: -q.score)
        keep = suppress_duplicates([q.refined.xy for q in cands], c.duplicate_oks, existing=[r.xy for r in existing])
        return [cands[k] for k in keep[:room]]

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
        box_scores: list[float] | None = None,
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
            box_score[i] = r.pose_score if box_scores is None else box_scores[i]
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
        return seq.log_step("estimate", **asdict(self.estimator.config))


def _check_image(image: np.ndarray) -> None:
    check_image(image)
    if min(image.shape[:2]) < 2:
        raise ImageArrayError(f"image of {image.shape[1]}×{image.shape[0]} pixels is too small to hold a person")


def cluster_detections(found: list[Detections]) -> Detections:
    """Pool the detections of several regions and merge those of one person (weighted NMS on face boxes).

    Args:
        found: per region, :class:`Detections` in image pixels (boxes ``(M, 4)``, keypoints ``(M, 4, 2)``).

    Returns:
        One detection per cluster, best score first; boxes and keypoints are score-weighted means of the
        cluster's members (so a person cut by one tile and whole in another gets an averaged region).
    """
    found = [d for d in found if len(d)]
    if not found:
        return Detections.empty(4)
    pooled = Detections(
        np.concatenate([d.boxes for d in found]),
        np.concatenate([d.keypoints for d in found]),
        np.concatenate([d.scores for d in found]),
    )
    return weighted_nms(pooled, _CLUSTER_IOU)


def _pose_area(xy: np.ndarray) -> float:
    mn, mx = xy.min(axis=0), xy.max(axis=0)
    return float(np.prod(np.maximum(mx - mn, 1.0)))


def body_oks(a: np.ndarray, b: np.ndarray) -> float:
    """OKS between two BlazePose-33 poses ``(33, 2)`` pixels, scaled by the smaller of their COCO-17 boxes.

    The smaller box makes the test strict for a small pose lying on a large one (a partial or hallucinated
    body inside a real one is not "the same" unless it matches at the small one's scale).
    """
    area = min(_pose_area(a[_COCO_IDX]), _pose_area(b[_COCO_IDX]))
    return pose_oks(a, b, area)


def pose_stability(first: np.ndarray, refined: np.ndarray) -> float:
    """How well a pose survives re-cropping: :func:`body_oks` between two landmark passes (0..1).

    Args:
        first: ``(33, 2)`` pixels, landmarks from the detector's region.
        refined: ``(33, 2)`` pixels, landmarks from the region the first pass's auxiliary landmarks define.
    """
    return body_oks(first, refined)


def person_score(pose_score: float, stability: float) -> float:
    """Person confidence in image mode: the refined pass's pose presence times its stability (0..1).

    On the shared COCO photos this ranks true people above false ones better than either factor alone
    (ROC AUC over about 2,600 candidate poses, true = OKS > 0.5 with a labelled person: 0.925, against
    0.875 for the pose presence and 0.907 for the stability).
    """
    return float(pose_score) * float(stability)


def suppress_duplicates(
    poses: list[np.ndarray], thr: float, existing: list[np.ndarray] | tuple[np.ndarray, ...] = ()
) -> list[int]:
    """Greedy pose NMS: indices of ``poses`` kept, in order, dropping any that is :func:`body_oks`-close
    (≥ ``thr``) to an ``existing`` pose or to one kept before it.

    Args:
        poses: ``(33, 2)`` pixel poses, best first.
        thr: OKS at which two poses are one body (0..1).
        existing: poses already accepted elsewhere (never removed).
    """
    kept: list[int] = []
    ref = list(existing)
    for i, xy in enumerate(poses):
        if any(body_oks(xy, q) >= thr for q in ref):
            continue
        kept.append(i)
        ref.append(xy)
    return kept


def _same_body(a: LandmarkResult, b: LandmarkResult, thr: float) -> bool:
    return body_oks(a.xy, b.xy) >= thr


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
