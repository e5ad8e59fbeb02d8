"""A review project: the poses being reviewed and the images they were computed on.

Two kinds of project:

* ``video``: a video file with a posekit JSON file (a :class:`~posekit.poses.PoseSequence`, or frames
  of one video). Persons are the sequence's individuals ``(I,)``; a frame is a video frame index.
* ``images``: a folder of images with a COCO keypoint JSON file. Persons are the annotations of an
  image in file order; a frame is the image's position in the file.

Frames are decoded on demand and JPEG-encoded; the JPEG bytes of recently shown frames are kept in a
small LRU cache. A video project can build a seek proxy in the background
(:meth:`ReviewProject.start_proxy`, see :mod:`posekit.review.proxy`), segment by segment, the segment
of the latest requested frame first: a frame in a finished segment comes from it, so a random jump
decodes at most :data:`~posekit.review.proxy.PROXY_GOP` frames instead of up to a whole key-frame
interval. Image paths named by a COCO file are resolved inside the image folder
only (a ``file_name`` that escapes it is refused).

Arrays: ``xy (T, I, K, 2)`` pixels (NaN where MISSING), ``state (T, I, K)`` uint8
:class:`~posekit.poses.KeypointState`, ``score (T, I, K)`` float32 in [0, 1], ``track (T, I)`` int64
(``-1`` = none). For image projects ``I`` is the largest number of people in one image and absent slots
are flagged by ``exists (T, I)``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import InputError
from posekit.poses import PoseFrame, PoseSequence
from posekit.skeletons import Skeleton

from .proxy import PROXY_GOP, SEGMENT_FRAMES, Activity, ProxyBuild

__all__ = ["ReviewProject", "open_project", "VIDEO_SUFFIXES", "IMAGE_SUFFIXES"]

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class _JpegCache:
    """LRU cache of JPEG bytes by frame index (thread-safe)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, int(size))
        self._d: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: int) -> bytes | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key: int, value: bytes) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    """JPEG bytes of an RGB ``(H, W, 3)`` uint8 image."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 failure
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _rgb(fr: Any) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of a decoded PyAV frame in display orientation (its rotation applied)."""
    img = fr.to_ndarray(format="rgb24")
    rot = getattr(fr, "rotation", 0) or 0
    turns = int(round(rot / 90.0)) % 4 if np.isfinite(rot) else 0
    return np.ascontiguousarray(np.rot90(img, turns)) if turns else img


class _VideoFrames:
    """Random access to the frames of a video by index (seek to the preceding key frame, decode forward).

    Frame ``i`` is the ``i``-th frame in presentation order, as :class:`~posekit.io.video.VideoReader`
    numbers them. A sequential reader is kept open so stepping forward costs one decode.

    Args:
        path: the video.
        thread_type: FFmpeg decoder threading: ``"AUTO"`` (frame threads: fastest over long runs of
            frames, as an original's key-frame interval) or ``"NONE"`` (lowest latency over a few frames,
            as a seek proxy's key-frame interval).
        reach: frames the open decoder steps forward to reach a later frame before a seek is cheaper
            (about the key-frame interval, when it is short).
        probe: decode frame 0 to learn the display size (rotation applied); ``False``: take the coded
            size (a proxy segment, stored upright) and keep the container opened to list the frames.
    """

    def __init__(self, path: Path, thread_type: str = "AUTO", reach: int = 30, probe: bool = True) -> None:
        import av

        self.path = path
        self.thread_type = thread_type
        self.reach = int(reach)
        try:
            c = av.open(str(path))
        except Exception as exc:  # noqa: BLE001 - any PyAV failure is a bad input
            raise InputError(path, f"cannot be opened as a video ({exc})") from None
        try:
            if not c.streams.video:
                raise InputError(path, "holds no video stream")
            s = c.streams.video[0]
            size = int(s.codec_context.height), int(s.codec_context.width)
            rate, tb = s.average_rate, s.time_base
            pts = sorted(p.pts for p in c.demux(s) if p.pts is not None and p.size > 0)
        except BaseException:
            c.close()
            raise
        if probe or not pts:
            c.close()
        if not pts:
            raise InputError(path, "holds no video frames")
        self.pts = pts
        self._index = {p: j for j, p in enumerate(pts)}
        self.keep = 16
        self._recent: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._c: Any = None
        self._it: Any = None
        self._last = -10**9  # index of the last frame decoded by the open iterator
        self.height, self.width = size
        if probe:
            self._open()
            first = self.rgb(0)  # display orientation (rotation metadata applied, as VideoReader does)
            self.height, self.width = int(first.shape[0]), int(first.shape[1])
        else:  # keep the demuxed container (opening one costs about 10 ms at 1080p): the first rgb() seeks
            self._c, self._s = c, c.streams.video[0]
            self._s.thread_type = thread_type
        self.fps = float(rate) if rate else None
        self.times = [float((p - pts[0]) * tb) for p in pts]

    def _open(self) -> None:
        import av

        if self._c is not None:
            self._c.close()
        self._c = av.open(str(self.path))
        self._s = self._c.streams.video[0]
        self._s.thread_type = self.thread_type
        self._it = None
        self._last = -10**9

    def __len__(self) -> int:
        return len(self.pts)

    def rgb(self, i: int) -> np.ndarray:
        """Frame ``i`` as ``(H, W, 3)`` uint8 RGB.

        Decoded frames on the way from the key frame to ``i`` are kept (the last :attr:`keep`, as
        decoded YUV pictures), so stepping back a few frames costs a conversion, not a new seek.

        Raises:
            InputError: the frame cannot be decoded (damaged or truncated video).
        """
        import av

        with self._lock:
            hit = self._recent.get(i)
            if hit is not None:
                return _rgb(hit)
            if self._c is None:
                self._open()
            target = self.pts[i]
            try:
                if self._it is not None and self._last < i <= self._last + self.reach:
                    got = self._forward(i, target)
                else:
                    got = self._seek_decode(i, target)
            except av.FFmpegError as exc:
                self._open()
                raise InputError(self.path, f"frame {i} could not be decoded ({exc})") from None
            if got is not None:
                return got
            self._open()
            raise InputError(self.path, f"frame {i} could not be decoded")

    def _seek_decode(self, i: int, target: int) -> np.ndarray | None:
        """Seek to the key frame before ``target`` and decode up to it (``None`` if it never appears)."""
        self._c.seek(target, stream=self._s, backward=True, any_frame=False)
        self._it = self._c.decode(self._s)
        self._recent.clear()
        for fr in self._it:
            if fr.pts is None:
                continue
            self._keep(fr)
            if fr.pts >= target:
                if fr.pts != target:
                    break
                self._last = i
                return _rgb(fr)
        self._it = None
        return None

    def _forward(self, i: int, target: int) -> np.ndarray | None:
        for fr in self._it:
            if fr.pts is None:
                continue
            self._keep(fr)
            if fr.pts >= target:
                self._last = i
                return _rgb(fr)
        return None

    def _keep(self, fr: Any) -> None:
        j = self._index.get(fr.pts)
        if j is not None:
            self._recent[j] = fr
            while len(self._recent) > self.keep:
                self._recent.pop(next(iter(self._recent)))

    def release(self) -> None:
        """Free the decoder and the kept frames (reopened on the next :meth:`rgb`)."""
        with self._lock:
            self._recent.clear()
            self.close()

    def close(self) -> None:
        if self._c is not None:
            self._c.close()
            self._c = None
            self._it = None


def _open_proxy(path: Path) -> _VideoFrames:
    """Random access to a seek proxy segment: no frame threads (a jump decodes a few frames; frame threads
    would add latency and keep decoding ahead), a seek as soon as it is cheaper than stepping forward, and
    no probe decode on opening (a segment is opened on the first jump into it)."""
    return _VideoFrames(path, thread_type="NONE", reach=PROXY_GOP, probe=False)


@dataclass
class ReviewProject:
    """Poses to review and their images.

    Attributes:
        kind: ``"video"`` or ``"images"``.
        media: the video file or the image folder (absolute).
        annotations: the poses file (absolute).
        skeleton: the keypoint layout.
        xy, state, score, track, exists: see the module docstring.
        time: ``(T,)`` seconds or ``None`` for images.
        width, height: frame size in pixels (video) or the largest image size (images).
        fps: frames per second (video) or ``None``.
        file_names: per frame, the COCO ``file_name`` (images) or ``None``.
        image_ids: per frame, the COCO image id (images) or ``None``.
        sequence: the loaded sequence (video projects), kept for export.
        coco: the loaded :class:`~posekit.io.coco.CocoDataset` (image projects), kept for export.
    """

    kind: str
    media: Path
    annotations: Path
    skeleton: Skeleton
    xy: np.ndarray
    state: np.ndarray
    score: np.ndarray
    track: np.ndarray
    exists: np.ndarray
    time: np.ndarray | None
    width: int
    height: int
    fps: float | None = None
    file_names: list[str | None] = field(default_factory=list)
    image_ids: list[Any] = field(default_factory=list)
    sequence: PoseSequence | None = None
    coco: Any = None
    cache_size: int = 64
    prefetch: bool = True
    _video: _VideoFrames | None = None
    _proxy: ProxyBuild | None = None
    _pool: Any = None
    _pending: Any = None
    _cache: _JpegCache | None = None
    _activity: Activity = field(default_factory=Activity)
    _queue_frames: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cache = _JpegCache(self.cache_size)

    @property
    def proxy(self) -> ProxyBuild | None:
        """The seek proxy build (video projects after :meth:`start_proxy`), else ``None``."""
        return self._proxy

    def start_proxy(self, folder: str | Path | None = None, *,
                    segment_frames: int = SEGMENT_FRAMES) -> ProxyBuild | None:  # fmt: skip
        """Start building the seek proxy in a background thread (video projects; once per project).

        The segment of the latest :meth:`jpeg` request is built first, then its neighbours, then the
        segments of the frames given to :meth:`warm` (the review queue), then the rest. Frames of
        unfinished segments, and frames past a break in a damaged video, come from the original; if the
        build fails (unwritable folder, full disk, encoder error) the segments not finished by then do.

        Args:
            folder: where the proxy is kept and reused next time (created if needed; an unwritable one
                means no proxy); ``None``: a temporary folder removed by :meth:`close`.
            segment_frames: frames per proxy segment (a multiple of :data:`~posekit.review.proxy.PROXY_GOP`).

        Returns:
            The build (``state``, ``frames_done``, ``segments_done``, ``error``), or ``None`` for an image
            project.
        """
        if self.kind != "video" or self._video is None:
            return None
        if self._proxy is None:
            video = self._video
            self._proxy = ProxyBuild(video.path, video.pts, None if folder is None else Path(folder),
                                     open_reader=_open_proxy, pause=self._activity.wait_idle,
                                     on_ready=lambda _reader: video.release(), queue=self._queue_frames,
                                     segment_frames=segment_frames).start()  # fmt: skip
        return self._proxy

    def seek_status(self) -> dict[str, Any]:
        """State of the seek proxy (JSON-ready): ``{"state": "off" | "building" | "ready" | "failed" | "stopped",
        "done": frames in finished segments, "total": frames of the video, "segments_done": finished
        segments, "segments_total": segments}``, plus ``"error"`` when failed. ``off``: an image project, or
        a video served without a proxy. ``ready``: every segment finished (``done < total`` when a damaged
        video's frames past a break come from the original)."""
        b = self._proxy
        if b is None:
            total = self.num_frames if self.kind == "video" else 0
            return {"state": "off", "done": 0, "total": total, "segments_done": 0, "segments_total": 0}
        state = b.state
        out: dict[str, Any] = {"state": state, "done": b.frames_done, "total": len(b.pts),
                               "segments_done": b.segments_done, "segments_total": b.num_segments}  # fmt: skip
        if state == "failed":
            out["error"] = b.error
        return out

    def _video_rgb(self, frame: int) -> np.ndarray:
        """Frame ``frame`` as RGB: from the proxy when a finished segment holds it, else from the video."""
        assert self._video is not None
        if self._proxy is not None:
            img = self._proxy.reader.rgb(frame)
            if img is not None:
                return img
        return self._video.rgb(frame)

    def _video_jpeg(self, frame: int, quality: int, urgent: bool = True) -> bytes:
        """Decode and encode a video frame; for an ``urgent`` one (asked for, or likely next) the proxy build
        waits meanwhile."""
        if not urgent:
            return encode_jpeg(self._video_rgb(frame), quality)
        with self._activity:
            return encode_jpeg(self._video_rgb(frame), quality)

    @property
    def num_frames(self) -> int:
        """Number of frames (video frames or images)."""
        return int(self.xy.shape[0])

    @property
    def num_people(self) -> int:
        """Person slots per frame ``I``."""
        return int(self.xy.shape[1])

    def image_path(self, frame: int) -> Path:
        """The image file of ``frame`` (image projects), guaranteed to lie inside the image folder.

        Raises:
            InputError: the COCO ``file_name`` is absent, absolute, or escapes the folder.
        """
        name = self.file_names[frame]
        if not name:
            raise InputError(self.annotations, f"image at position {frame} has no file_name")
        root = self.media.resolve()
        p = (root / name).resolve()
        if Path(name).is_absolute() or not p.is_relative_to(root):
            raise InputError(self.annotations, f"file_name {name!r} lies outside the image folder {root}")
        return p

    def jpeg(self, frame: int, quality: int = 85) -> bytes:
        """JPEG bytes of ``frame`` (cached).

        Raises:
            IndexError: frame out of range.
            InputError: the image cannot be read.
        """
        if not 0 <= frame < self.num_frames:
            raise IndexError(frame)
        assert self._cache is not None
        hit = self._cache.get(frame)
        if hit is not None:
            if self._proxy is not None:
                self._proxy.request(frame)
            return hit
        if self.kind == "video":
            if self._proxy is not None:
                self._proxy.request(frame)
            data = self._video_jpeg(frame, quality)
            self._cache.put(frame, data)
            self._prefetch(frame + 1, quality)
            return data
        else:
            p = self.image_path(frame)
            if not p.is_file():
                raise InputError(p, "image file does not exist")
            if p.suffix.lower() in (".jpg", ".jpeg"):
                data = p.read_bytes()
            else:
                import cv2

                img = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if img is None:
                    raise InputError(p, "cannot be read as an image")
                data = encode_jpeg(img[..., ::-1], quality)
        self._cache.put(frame, data)
        return data

    def warm(self, frames: list[int], quality: int = 85) -> None:
        """Decode and encode ``frames`` (e.g. the top of the review queue, most urgent first) in the
        background, in frame order, up to half the cache, so jumping to them costs only the fetch (the proxy
        build does not wait for this); their proxy segments are built right after those around the latest
        request."""
        if self.kind != "video":
            return
        self._queue_frames = [int(f) for f in frames if 0 <= int(f) < self.num_frames]
        if self._proxy is not None:
            self._proxy.set_queue(self._queue_frames)
        if not self.prefetch:
            return
        want = sorted({int(f) for f in frames if 0 <= int(f) < self.num_frames})[: max(1, self.cache_size // 2)]
        if not want:
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="posekit-review-prefetch")

        def work() -> None:
            assert self._cache is not None
            for f in want:
                if self._cache.get(f) is None:
                    try:
                        self._cache.put(f, self._video_jpeg(f, quality, urgent=False))
                    except Exception:  # noqa: BLE001 - shows up when the frame is asked for
                        pass

        self._pending = self._pool.submit(work)

    def _prefetch(self, frame: int, quality: int) -> None:
        """Decode and encode ``frame`` in the background (video: the next frame is the likely next request)."""
        if not self.prefetch or frame >= self.num_frames or (self._cache and self._cache.get(frame) is not None):
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="posekit-review-prefetch")
        if self._pending is not None and not self._pending.done():
            return

        def work() -> None:
            assert self._cache is not None
            if self._cache.get(frame) is None:
                try:
                    self._cache.put(frame, self._video_jpeg(frame, quality))
                except Exception:  # noqa: BLE001 - a prefetch failure shows up when the frame is asked for
                    pass

        self._pending = self._pool.submit(work)

    def close(self) -> None:
        """Stop the proxy build (removing a temporary proxy), wait for background decoding, close the decoders."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._proxy is not None:
            self._proxy.close()
        if self._video is not None:
            self._video.close()


def _sequence_from(obj: Any, path: Path) -> PoseSequence:
    from posekit.qa.data import frames_as_sequence

    if isinstance(obj, PoseSequence):
        return obj
    frames = [obj] if isinstance(obj, PoseFrame) else list(obj)
    if not frames:
        raise InputError(path, "holds no frames")
    seq = frames_as_sequence(frames, source=str(path))
    if seq is None:
        raise InputError(path, "holds frames that are not one video with times and track ids")
    return seq


def _open_video(video: Path, annotations: Path, cache_size: int) -> ReviewProject:
    from posekit.io.posekit_json import load_poses

    seq = _sequence_from(load_poses(annotations), annotations)
    vf = _VideoFrames(video)
    t = seq.xy.shape[0]
    frames = np.arange(t) if seq.frame is None else np.asarray(seq.frame)
    if frames.size and (frames.min() < 0 or frames.max() >= len(vf)):
        raise InputError(
            annotations, f"refers to frame {int(frames.max())} but the video {video.name} has {len(vf)} frames; "
            "the keypoints file does not match the video"
        )  # fmt: skip
    if seq.image_size is not None and tuple(seq.image_size) != (vf.width, vf.height):
        raise InputError(
            annotations, f"was computed on {seq.image_size[0]}x{seq.image_size[1]} images but the video "
            f"{video.name} is {vf.width}x{vf.height}; the keypoints file does not match the video"
        )  # fmt: skip
    if not np.array_equal(frames, np.arange(t)):
        # keep one row per video frame: spread the sequence rows onto frame indices
        n = len(vf)
        i, k = seq.xy.shape[1], seq.xy.shape[2]
        xy = np.full((n, i, k, 2), np.nan)
        st = np.zeros((n, i, k), np.uint8)
        sc = np.zeros((n, i, k), np.float32)
        xy[frames], st[frames], sc[frames] = seq.xy, seq.state, seq.score
    else:
        xy, st, sc = seq.xy.copy(), seq.state.copy(), seq.score.copy()
    tid = np.asarray(seq.track_id if seq.track_id is not None else np.arange(xy.shape[1]), np.int64)
    track = np.broadcast_to(tid, xy.shape[:2]).copy()
    proj = ReviewProject(
        "video", video.absolute(), annotations.absolute(), seq.skeleton, xy, st, sc, track,
        np.ones(xy.shape[:2], bool), np.asarray(vf.times[: xy.shape[0]]), vf.width, vf.height, vf.fps,
        [None] * xy.shape[0], [None] * xy.shape[0], sequence=seq, cache_size=cache_size,
    )  # fmt: skip
    proj._video = vf
    return proj


def _open_images(folder: Path, annotations: Path, cache_size: int) -> ReviewProject:
    from posekit.io.coco import read_coco

    ds = read_coco(annotations)
    ids = list(ds.images)
    if not ids:
        raise InputError(annotations, "lists no images")
    k = len(ds.skeleton)
    n = max((len(ds.frames[i]) for i in ids), default=0)
    t = len(ids)
    xy = np.full((t, n, k, 2), np.nan)
    st = np.zeros((t, n, k), np.uint8)
    sc = np.zeros((t, n, k), np.float32)
    track = np.full((t, n), -1, np.int64)
    exists = np.zeros((t, n), bool)
    w = h = 0
    names: list[str | None] = []
    for row, iid in enumerate(ids):
        f = ds.frames[iid]
        m = len(f)
        xy[row, :m], st[row, :m], sc[row, :m] = f.xy, f.state, f.score
        track[row, :m] = f.track_id
        exists[row, :m] = True
        img = ds.images[iid]
        w, h = max(w, int(img.get("width") or 0)), max(h, int(img.get("height") or 0))
        names.append(img.get("file_name"))
    proj = ReviewProject(
        "images", folder.absolute(), annotations.absolute(), ds.skeleton, xy, st, sc, track, exists, None,
        w, h, None, names, ids, coco=ds, cache_size=cache_size,
    )  # fmt: skip
    root = folder.resolve()
    for row, name in enumerate(names):  # refuse escaping names up front
        proj.image_path(row)
        if not (root / str(name)).exists():
            raise InputError(annotations, f"names image {name!r} which is not in the folder {root}")
    return proj


def open_project(path: str | Path, annotations: str | Path | None = None, *, cache_size: int = 64) -> ReviewProject:
    """Open a video + posekit JSON, or an image folder + COCO JSON.

    Args:
        path: a video file or an image folder.
        annotations: the poses file; default ``<video stem>.json`` beside the video, or
            ``annotations.json`` inside the folder.
        cache_size: number of JPEG frames kept in memory.

    Raises:
        InputError: missing files, unreadable poses, or poses that do not match the video or folder.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(p, "does not exist")
    if p.is_dir():
        ann = Path(annotations) if annotations else p / "annotations.json"
        if not ann.is_file():
            raise InputError(ann, "does not exist (give the COCO JSON with --annotations)")
        return _open_images(p, ann, cache_size)
    if p.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(p, f"is neither a folder of images nor a video ({', '.join(VIDEO_SUFFIXES)})")
    ann = Path(annotations) if annotations else p.with_suffix(".json")
    if not ann.is_file():
        raise InputError(ann, "does not exist (give the posekit JSON with --annotations)")
    return _open_video(p, ann, cache_size)

