"""Seek proxy of a review video: the video re-encoded in short segments with short GOPs, for fast random access.

A random jump in the original costs a seek to the previous key frame and a decode forward; x264 writes
a key frame every 250 frames by default, so a jump decodes up to 250 frames (0.1 to 1 s at 1080p on 2
cores; ``benchmarks/review.py``). The proxy is the same frames (presentation order, rotation applied, same
colour tags) re-encoded with H.264 (x264 ``superfast`` + ``fastdecode``, CRF 17, a key frame every
:data:`PROXY_GOP` frames, no B-frames), so a jump decodes at most :data:`PROXY_GOP` frames.

Segments: the proxy is one MP4 file per :data:`SEGMENT_FRAMES` frames of the original; frame ``i`` of
segment ``s`` is frame ``s * SEGMENT_FRAMES + i`` of the original. A finished segment serves its frames
at once, so fast jumps come where the reviewer looks within seconds instead of after the whole build
(minutes for a long 1080p video). The build checks every decoded time stamp against the original's list
and ends a segment at the first missing or undecodable frame (a truncated or damaged video: the
segment holds the frames before the break; later frames of that segment keep coming from the original,
with the same errors as without a proxy).

Build order (:meth:`ProxyBuild.request`, :meth:`ProxyBuild.set_queue`): after each segment the build
picks the next one by the latest frame request: its segment, then the segments within
:data:`NEIGHBOUR_FRAMES` frames of it (nearest first); then the segments of the review-queue frames (queue
order); then the rest in video order, from the last segment built on (wrapping to the start), so the
decoder of the original runs on without a seek.

Kept proxies (a folder given): ``<folder>/<proxy_name>/`` holds ``seg-NNNNNN.mp4`` files and a
``manifest.json`` (format, frame count, segment size, and per finished segment its frame count and byte
size), rewritten atomically after each segment; a later session reuses every listed segment whose file
still has that size and frame count, so an interrupted build goes on where it stopped.

Disk: about 0.05 byte per pixel per frame at CRF 17 (≈ 100 kB a 1080p frame, ≈ 2 GB for 10 minutes at
30 fps); the build is skipped when the folder's free space is below :data:`BYTES_PER_PIXEL` times the
pixels still to encode plus :data:`DISK_MARGIN`, and stops (keeping the finished segments) when a
segment would not fit.

The build runs in one background thread (decoder and encoder single-threaded, nice +10 on Linux) that
waits while frame requests are in flight (:class:`Activity`); each segment is written to a ``.part``
name and renamed when complete, so a segment file is never seen half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PROXY_GOP", "PROXY_FORMAT", "SEGMENT_FRAMES", "NEIGHBOUR_FRAMES", "BYTES_PER_PIXEL", "Activity",
           "ProxyBuild", "ProxyFrames", "proxy_name"]  # fmt: skip

PROXY_GOP = 8
"""Frames per key frame in the proxy: a random jump decodes at most this many frames."""
SEGMENT_FRAMES = 64
"""Frames per proxy segment (a multiple of :data:`PROXY_GOP`): about 2 s of a 30 fps video and 1 s of build
at 1080p on an idle 2-core machine. The wait for the first fast jump at a new place is the rest of the
segment being built, a seek in the original (a segment built out of order first decodes from the
original's previous key frame: up to 250 frames) and the new segment: on the 1080p benchmark with a reviewer
jumping about, 4 s with 64 frames, 6.5 s with 120, 14 s with 240. 10 minutes at 30 fps make 282 files."""
NEIGHBOUR_FRAMES = 240
"""After the segment of the latest request, the segments within this many frames of it are built next."""
PROXY_FORMAT = f"h264-superfast-fastdecode-crf17-g{PROXY_GOP}-seg{SEGMENT_FRAMES}-v2"
"""Part of the proxy folder name: changing the encoding settings or the segment size invalidates kept proxies."""
BYTES_PER_PIXEL = 0.1
"""Disk needed per frame pixel (twice the ≈ 0.05 measured at CRF 17), for the free-space check."""
DISK_MARGIN = 256 << 20
"""Bytes left free on the proxy folder's disk beyond the proxy's estimated size."""
BUILD_NICE = 10
"""Niceness added to the build thread (Linux; elsewhere the build just yields to requests)."""

_OPTIONS = {"preset": "superfast", "tune": "fastdecode", "crf": "17", "g": str(PROXY_GOP),
            "keyint_min": str(PROXY_GOP), "bf": "0", "sc_threshold": "0", "threads": "1"}  # fmt: skip
_RATE = Fraction(30)  # proxy clock only: frames are addressed by index, never by time
_COLOR_TAGS = ("colorspace", "color_range", "color_primaries", "color_trc")
_TMP_PREFIX = "posekit-review-proxy-"  # + "<pid>-<random>": the pid tells a left-over folder
_MANIFEST = "manifest.json"
_LEGACY_FORMAT = "h264-superfast-fastdecode-crf17-g8-v1"  # one-file proxies (``<stem>.<hash>.proxy.mp4``)
_OPEN_SEGMENTS = 2  # segment decoders kept open (each keeps up to 16 decoded frames)
_MANIFEST_EVERY = 2.0  # seconds between manifest rewrites (a killed session loses at most this much work)


class Activity:
    """Frame requests in flight (a context manager per request) that the proxy build waits for.

    Args:
        grace: seconds the build keeps waiting after the last request ended (a page switch asks for
            the image, then the poses; the server prefetches the next frame).
    """

    def __init__(self, grace: float = 0.02) -> None:
        self.grace = float(grace)
        self._busy = 0
        self._last = 0.0
        self._cond = threading.Condition()

    def __enter__(self) -> Activity:
        with self._cond:
            self._busy += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._busy -= 1
            self._last = time.monotonic()
            self._cond.notify_all()

    def wait_idle(self, stop: threading.Event) -> None:
        """Return once no request is in flight and none ended in the last :attr:`grace` seconds (or ``stop`` is set)."""
        with self._cond:
            while not stop.is_set():
                if self._busy:
                    self._cond.wait(0.1)
                    continue
                left = self._last + self.grace - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)


def _key_hash(video: Path, fmt: str) -> str:
    st = video.stat()
    key = f"{video.resolve()}|{st.st_size}|{st.st_mtime_ns}|{fmt}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def proxy_name(video: Path, segment_frames: int = SEGMENT_FRAMES) -> str:
    """Folder name of ``video``'s proxy segments; it changes with the video's path, size and modification
    time, with :data:`PROXY_FORMAT` and with the segment size, so a kept proxy is reused only for the same
    file and settings."""
    fmt = PROXY_FORMAT if segment_frames == SEGMENT_FRAMES else f"{PROXY_FORMAT}-seg{segment_frames}"
    return f"{video.stem}.{_key_hash(video, fmt)}.proxy"


def _segment_name(s: int) -> str:
    return f"seg-{s:06d}.mp4"


def _turns(rotation: Any) -> int:
    """Quarter turns (counter-clockwise, as :func:`numpy.rot90`) that put a frame upright."""
    rot = rotation or 0
    return int(round(rot / 90.0)) % 4 if np.isfinite(rot) else 0


def _rotate_yuv420(fr: Any, turns: int) -> Any:
    """``fr`` (8-bit 4:2:0) turned by ``turns`` quarter turns, plane by plane (no colour conversion)."""
    import av

    h, w = fr.height, fr.width
    flat = fr.to_ndarray().reshape(-1)
    y = flat[: h * w].reshape(h, w)
    u = flat[h * w : h * w + h * w // 4].reshape(h // 2, w // 2)
    v = flat[h * w + h * w // 4 :].reshape(h // 2, w // 2)
    planes = [np.rot90(p, turns).reshape(-1) for p in (y, u, v)]
    new_w = h if turns % 2 else w
    out = av.VideoFrame.from_ndarray(np.concatenate(planes).reshape(-1, new_w), format=fr.format.name)
    for tag in _COLOR_TAGS:
        setattr(out, tag, getattr(fr, tag))
    return out


def _upright(fr: Any) -> Any:
    """A decoded frame as 8-bit 4:2:0 in display orientation, ready for the encoder."""
    if fr.format.name not in ("yuv420p", "yuvj420p"):
        tags = {t: getattr(fr, t) for t in _COLOR_TAGS}
        rot = fr.rotation
        fr = fr.reformat(format="yuv420p")
        for t, v in tags.items():
            setattr(fr, t, v)
    else:
        rot = fr.rotation
    turns = _turns(rot)
    return _rotate_yuv420(fr, turns) if turns else fr


def _decoded(container: Any, stream: Any) -> Any:
    """Decoded frames of ``stream``, ending quietly at the first decoding error (a truncated file)."""
    import av

    it = container.decode(stream)
    while True:
        try:
            fr = next(it)
        except StopIteration:
            return
        except av.FFmpegError:
            return
        yield fr


def _open_output(dst: Path, first: Any) -> tuple[Any, Any]:
    import av

    if first.width % 2 or first.height % 2:
        raise ValueError(f"odd frame size {first.width}x{first.height} (4:2:0 H.264 needs even sizes)")
    oc = av.open(str(dst), "w", format="mp4")
    try:
        st = oc.add_stream("libx264", rate=_RATE)
        st.width, st.height = first.width, first.height
        st.pix_fmt = first.format.name
        st.options = dict(_OPTIONS)
        for tag in _COLOR_TAGS:
            setattr(st.codec_context, tag, getattr(first, tag))
    except Exception:
        oc.close()
        raise
    return oc, st


class _Source:
    """The original's frames for the build, segment by segment: one decoder (single-threaded) that runs on
    when the next segment follows the last one, and seeks to the key frame before a segment otherwise."""

    def __init__(self, video: Path, pts: Sequence[int]) -> None:
        import av

        self.pts = pts
        self._c = av.open(str(video))
        self._s = self._c.streams.video[0]
        self._s.thread_count = 1  # one core for the build: the requests keep the other
        self._it: Iterator[Any] | None = None
        self._next = -1  # frame index the open iterator yields next (-1: unknown, seek first)
        self._fresh = True  # nothing read yet: frame 0 needs no seek
        self.seeks = 0

    def frames(self, start: int, stop: int, pause: Callable[[], None], stopped: Callable[[], bool]) -> Iterator[Any]:
        """Decoded frames ``start`` to ``stop - 1`` (time stamps checked), ending early at a missing or
        undecodable frame or when ``stopped()``; ``pause()`` is called before each decoded frame."""
        if self._it is None or self._next != start:
            if start > 0 or not self._fresh:
                self._c.seek(self.pts[start], stream=self._s, backward=True, any_frame=False)
                self.seeks += 1
            self._it = _decoded(self._c, self._s)
        self._fresh = False
        self._next = -1
        j = start
        while j < stop:
            pause()
            if stopped():
                return
            fr = next(self._it, None)
            if fr is None:
                self._it = None
                return
            if fr.pts is None or fr.pts < self.pts[j]:
                continue
            if fr.pts != self.pts[j]:
                self._it = None
                return  # a frame of the original's list never came out: end the segment before it
            yield fr
            j += 1
        self._next = stop

    def close(self) -> None:
        self._it = None
        self._c.close()


def _write_segment(frames: Iterable[Any], dst: Path) -> int:
    """Encode ``frames`` into ``dst`` (MP4, key frame every :data:`PROXY_GOP`); returns the frames written
    (no file when 0)."""
    oc = st = None
    n = 0
    try:
        for fr in frames:
            img = _upright(fr)
            if st is None:
                oc, st = _open_output(dst, img)
            img.pts, img.time_base, img.pict_type = n, 1 / _RATE, 0  # pict_type 0: x264 places the key frames
            for p in st.encode(img):
                oc.mux(p)
            n += 1
        if st is not None:
            for p in st.encode():
                oc.mux(p)
    finally:
        if oc is not None:
            oc.close()
    return n


def _mp4_complete(path: Path, size: int) -> bool:
    """``True`` if ``path`` is ``size`` bytes of top-level MP4 boxes that end exactly at its end and
    include ``mdat`` and ``moov`` (the index, written last): a segment written completely. Reads a few bytes
    per box, so a kept proxy of thousands of segments is checked at once; the frame count is checked when
    a segment is opened (:meth:`ProxyFrames.rgb`)."""
    seen = set()
    try:
        with path.open("rb") as f:
            if os.fstat(f.fileno()).st_size != size:
                return False
            pos = 0
            while pos < size:
                f.seek(pos)
                head = f.read(16)
                if len(head) < 8:
                    return False
                n, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if n == 1 and len(head) == 16:
                    n = int.from_bytes(head[8:16], "big")
                elif n == 0:
                    n = size - pos
                if n < 8:
                    return False
                seen.add(kind)
                pos += n
    except OSError:
        return False
    return pos == size and {b"mdat", b"moov"} <= seen


def _pid_gone(pid: str) -> bool:
    """``True`` if no process has id ``pid`` (POSIX; elsewhere, and for another user's process, ``False``)."""
    if os.name != "posix" or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive (another user's)
        return False
    return False


def _sweep_temporary() -> None:
    """Remove temporary proxy folders left by review processes that no longer run (killed before their
    :meth:`ProxyBuild.close`). POSIX only (elsewhere a process cannot be probed harmlessly)."""
    for d in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*-*"):
        if _pid_gone(d.name[len(_TMP_PREFIX) :].split("-", 1)[0]):
            shutil.rmtree(d, ignore_errors=True)


def _lower_priority() -> None:
    """Add :data:`BUILD_NICE` to the calling thread's niceness (Linux threads have their own)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + BUILD_NICE))
    except (AttributeError, OSError):  # pragma: no cover - not Linux or not allowed
        pass


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        m = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) and isinstance(m.get("segments"), dict) else None


class ProxyFrames:
    """Random access to the frames of the finished proxy segments (thread-safe).

    Segment decoders are opened on first use (``open_reader``: an object with ``len()``, ``rgb(i)`` and
    ``release()``); the last :data:`_OPEN_SEGMENTS` used stay open. A segment that cannot be opened or
    decoded, or does not hold the frames it should, is dropped (its frames come from the original).

    Args:
        segment_frames: frames per segment.
        total: frames of the original.
        open_reader: opens a segment file for random access.
        on_drop: called with a dropped segment's index (outside the lock).
    """

    def __init__(self, segment_frames: int, total: int, open_reader: Callable[[Path], Any],
                 on_drop: Callable[[int], None] | None = None) -> None:  # fmt: skip
        self.segment_frames = int(segment_frames)
        self.total = int(total)
        self._open_reader = open_reader
        self._on_drop = on_drop
        self._held: dict[int, tuple[Path | None, int]] = {}  # segment -> (file, frames it holds)
        self._frames = 0
        self._open: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False

    def __len__(self) -> int:
        """Frames the finished segments hold."""
        return self._frames

    @property
    def segments(self) -> int:
        """Finished segments (a segment of a damaged video may hold fewer frames than its span, or none)."""
        return len(self._held)

    def done(self, s: int) -> bool:
        """``True`` once segment ``s`` is finished."""
        return s in self._held

    def has(self, i: int) -> bool:
        """``True`` if frame ``i`` (of the original) is in a finished segment."""
        s = i // self.segment_frames
        held = self._held.get(s)
        return held is not None and 0 <= i - s * self.segment_frames < held[1]

    def add(self, s: int, path: Path | None, frames: int) -> None:
        """Segment ``s`` is finished: ``path`` holds its first ``frames`` frames (``None`` when 0)."""
        with self._lock:
            self._held[s] = (path, int(frames))
            self._frames = sum(n for _, n in self._held.values())

    def rgb(self, i: int) -> np.ndarray | None:
        """Frame ``i`` of the original as ``(H, W, 3)`` uint8 RGB from its segment, or ``None`` when no
        finished segment holds it (or its segment cannot be read: it is then dropped and the caller
        decodes the original)."""
        n = self.segment_frames
        s = i // n
        with self._lock:
            held = self._held.get(s)
            if self._closed or held is None or held[0] is None or not 0 <= i - s * n < held[1]:
                return None
            reader = self._open.get(s)
            try:
                if reader is None:
                    reader = self._open_reader(held[0])
                    if len(reader) != held[1]:
                        reader.release()
                        raise ValueError(f"{held[0]} holds {len(reader)} frames, not {held[1]}")
                    self._open[s] = reader
                    while len(self._open) > _OPEN_SEGMENTS:
                        self._open.popitem(last=False)[1].release()
                self._open.move_to_end(s)
                fail = False
            except Exception:  # noqa: BLE001 - a segment that cannot be opened: serve the original
                fail = True
        if not fail:
            try:
                return reader.rgb(i - s * n)
            except Exception:  # noqa: BLE001 - same
                pass
        self._drop(s)
        return None

    def _drop(self, s: int) -> None:
        with self._lock:
            self._held[s] = (None, 0)
            self._frames = sum(n for _, n in self._held.values())
            r = self._open.pop(s, None)
        if r is not None:
            r.release()
        if self._on_drop is not None:
            self._on_drop(s)

    def readers(self) -> list[Any]:
        """The open segment decoders (benchmarks clear their decoded frames)."""
        with self._lock:
            return list(self._open.values())

    def close(self) -> None:
        """Close the segment decoders (later :meth:`rgb` calls return ``None``)."""
        with self._lock:
            self._closed = True
            while self._open:
                self._open.popitem()[1].release()


class ProxyBuild:
    """Builds (or reuses) the seek proxy of a video, segment by segment, in a background thread.

    Args:
        video: the original video.
        pts: its frame time stamps (stream time base) in presentation order, as
            :class:`~posekit.review.project._VideoFrames` lists them.
        folder: where the proxy is kept and reused next time; ``None``: a private temporary folder,
            removed by :meth:`close` (or, after a crash, by the next build).
        open_reader: opens a finished segment file for random access (returns an object with ``rgb(i)``
            and ``release()``).
        pause: called before each frame (see :class:`Activity`).
        on_ready: called with :attr:`reader` once every segment is finished (in the build thread).
        segment_frames: frames per segment (a multiple of :data:`PROXY_GOP`).
        queue: frames of the review queue, most urgent first (see :meth:`set_queue`).
        on_segment: called with each segment index once it is finished (in the build thread).

    Attributes:
        state: ``"building"``, ``"ready"`` (every segment finished), ``"failed"`` (see :attr:`error`;
            finished segments keep serving) or ``"stopped"``.
        reader: the finished segments' frames (:class:`ProxyFrames`; it grows while the build runs).
        order: segments built by this build, in build order; :attr:`reused`: those taken from a kept proxy.
        seconds: build time in seconds once ready (0 when every segment was reused), else ``None``.
        path: the folder of the segment files once the build started.
    """

    def __init__(self, video: Path, pts: Sequence[int], folder: Path | None, *, open_reader: Callable[[Path], Any],
                 pause: Callable[[threading.Event], None] | None = None, on_ready: Callable[[Any], None] | None = None,
                 segment_frames: int = SEGMENT_FRAMES, queue: Iterable[int] = (),
                 on_segment: Callable[[int], None] | None = None) -> None:  # fmt: skip
        if segment_frames <= 0 or segment_frames % PROXY_GOP:
            raise ValueError(f"segment_frames must be a positive multiple of {PROXY_GOP}, got {segment_frames}")
        self.video = Path(video)
        self.pts = list(pts)
        self.folder = Path(folder) if folder is not None else None
        self.segment_frames = int(segment_frames)
        self.num_segments = -(-len(self.pts) // self.segment_frames)
        self.state = "building"
        self.error: str | None = None
        self.seconds: float | None = None
        self.path: Path | None = None
        self.reader = ProxyFrames(self.segment_frames, len(self.pts), open_reader, on_drop=self._dropped)
        self.order: list[int] = []
        self.reused: list[int] = []
        self._entries: dict[int, dict[str, int]] = {}  # manifest: segment -> {"frames", "bytes"}
        self._todo: set[int] = set(range(self.num_segments))
        self._latest: int | None = None
        self._queue = [int(f) for f in queue]
        self._last_built = -1
        self._saved = -1e9  # time.monotonic() of the last manifest write
        self._unsaved = False
        self._lock = threading.Lock()
        self._pause = pause
        self._on_ready = on_ready
        self._on_segment = on_segment
        self._stop = threading.Event()
        self._done = threading.Event()
        self._tmpdir: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self._thread = threading.Thread(target=self._run, name="posekit-review-proxy", daemon=True)

    @property
    def frames_done(self) -> int:
        """Frames the finished segments hold."""
        return len(self.reader)

    @property
    def segments_done(self) -> int:
        """Finished segments (built or reused)."""
        return self.reader.segments

    def request(self, frame: int) -> None:
        """The reviewer asked for ``frame``: the next segment built is its segment (or, once that is done,
        a neighbour), after the one being built now."""
        with self._lock:
            self._latest = int(frame)

    def set_queue(self, frames: Iterable[int]) -> None:
        """Frames of the review queue, most urgent first: their segments come after the neighbourhood
        of the latest request."""
        with self._lock:
            self._queue = [int(f) for f in frames]

    def start(self) -> ProxyBuild:
        """Start the build thread; returns ``self``."""
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the build ended (ready, failed or stopped); ``True`` if it did within ``timeout`` seconds."""
        return self._done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the build, close the segment decoders and remove a temporary folder."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self.reader.close()
        if self._cleanup is not None:
            self._cleanup()

    def _span(self, s: int) -> tuple[int, int]:
        return s * self.segment_frames, min(len(self.pts), (s + 1) * self.segment_frames)

    def _run(self) -> None:
        _lower_priority()
        t0 = time.perf_counter()
        src: _Source | None = None
        px = 0
        try:
            folder = self._folder()
            segdir = folder / proxy_name(self.video, self.segment_frames)
            segdir.mkdir(exist_ok=True)
            self.path = segdir
            if self.folder is not None:
                self._tidy(segdir)
                self._reuse(segdir)
            with self._lock:
                todo = sorted(self._todo)
            if todo:
                px = self._first_size()
                self._check_disk(segdir, px * sum(b - a for a, b in map(self._span, todo)))
            while not self._stop.is_set():
                self._wait()  # pick the next segment once the requests in flight are answered
                s = self._next_segment()
                if s is None or self._stop.is_set():
                    break
                if src is None:  # (also when every segment was reused, then one turned out unreadable)
                    px = px or self._first_size()
                    src = _Source(self.video, self.pts)
                a, b = self._span(s)
                self._check_disk(segdir, px * (b - a))
                self._build_segment(src, segdir, s)
            if self._stop.is_set():
                self.state = "stopped"
                return
            if len(self.reader) == 0:
                raise ValueError("no frame of the video could be decoded")
            self.seconds = time.perf_counter() - t0 if self.order else 0.0
            self.state = "ready"
            if self._on_ready is not None:
                self._on_ready(self.reader)
        except Exception as exc:  # noqa: BLE001 - any failure: the original serves the frames not built
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if src is not None:
                src.close()
            if self._unsaved and self.path is not None:
                try:
                    self._save_manifest(self.path, force=True)
                except OSError:
                    pass
            self._done.set()

    def _next_segment(self) -> int | None:
        """The segment to build next (see the module docstring), or ``None`` when all are finished."""
        with self._lock:
            todo = self._todo
            if not todo:
                return None
            n = self.segment_frames
            f = self._latest
            if f is not None:

                def gap(s: int) -> int:  # frames between f and segment s
                    return max(0, s * n - f, f - ((s + 1) * n - 1))

                lo, hi = (f - NEIGHBOUR_FRAMES) // n, (f + NEIGHBOUR_FRAMES) // n
                near = [s for s in range(max(0, lo), hi + 1) if s in todo and gap(s) <= NEIGHBOUR_FRAMES]
                if near:
                    return min(near, key=lambda s: (gap(s), -s))
            for q in self._queue:
                if q // n in todo:
                    return q // n
            later = [s for s in todo if s > self._last_built]
            return min(later) if later else min(todo)

    def _build_segment(self, src: _Source, segdir: Path, s: int) -> None:
        a, b = self._span(s)
        final = segdir / _segment_name(s)
        tmp = segdir / f"{final.name}.{os.getpid()}-{threading.get_ident()}.part"
        try:
            n = _write_segment(src.frames(a, b, self._wait, self._stop.is_set), tmp)
            if n < b - a and self._stop.is_set():
                return  # interrupted: the part is dropped
            if n:
                os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        size = final.stat().st_size if n else 0
        with self._lock:
            self._todo.discard(s)
            self._last_built = s
            self._entries[s] = {"frames": n, "bytes": size}
        self.order.append(s)
        self.reader.add(s, final if n else None, n)
        self._save_manifest(segdir)
        if self._on_segment is not None:
            self._on_segment(s)

    def _folder(self) -> Path:
        if self.folder is None:
            _sweep_temporary()
            d = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-"))
            self._tmpdir = d
            self._cleanup = weakref.finalize(self, shutil.rmtree, d, True)
            return d
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def _tidy(self, segdir: Path) -> None:
        """Remove this video's one-file proxy of the previous format and parts left by dead processes."""
        assert self.folder is not None
        (self.folder / f"{self.video.stem}.{_key_hash(self.video, _LEGACY_FORMAT)}.proxy.mp4").unlink(missing_ok=True)
        for p in segdir.glob("*.part"):
            if _pid_gone(p.name.rsplit(".", 2)[-2].split("-", 1)[0]):
                p.unlink(missing_ok=True)

    def _compatible(self, m: dict[str, Any] | None) -> bool:
        return (m is not None and m.get("format") == PROXY_FORMAT and m.get("frames") == len(self.pts)
                and m.get("segment_frames") == self.segment_frames)  # fmt: skip

    def _kept(self, segdir: Path, key: Any, entry: Any, check: bool) -> tuple[int, int, int] | None:
        """``(segment, frames, bytes)`` of a manifest entry whose file is there with that size (and with
        ``check``, complete), else ``None``."""
        try:
            s, n, size = int(key), int(entry["frames"]), int(entry["bytes"])
        except (TypeError, ValueError, KeyError):
            return None
        if not 0 <= s < self.num_segments or not 0 <= n <= self._span(s)[1] - self._span(s)[0]:
            return None
        if n == 0:
            return s, 0, 0
        f = segdir / _segment_name(s)
        if check:
            ok = _mp4_complete(f, size)
        else:
            try:
                ok = f.stat().st_size == size
            except OSError:
                ok = False
        return (s, n, size) if ok else None

    def _reuse(self, segdir: Path) -> None:
        """Take the finished segments a kept proxy's manifest lists (file size and frame count checked)."""
        m = _read_manifest(segdir / _MANIFEST)
        if not self._compatible(m):
            return
        assert m is not None
        for key, entry in m["segments"].items():
            if self._stop.is_set():
                return
            kept = self._kept(segdir, key, entry, check=True)
            if kept is None:
                continue
            s, n, size = kept
            with self._lock:
                self._entries[s] = {"frames": n, "bytes": size}
                self._todo.discard(s)
            self.reused.append(s)
            self.reader.add(s, segdir / _segment_name(s) if n else None, n)

    def _dropped(self, s: int) -> None:
        """A finished segment turned out unreadable: remove its file and build it again (once the build
        ended: in the next session that keeps this proxy)."""
        with self._lock:
            self._entries.pop(s, None)
            self._unsaved = True
            if self.state == "building" and not self._stop.is_set():
                self._todo.add(s)
        if self.path is not None:
            (self.path / _segment_name(s)).unlink(missing_ok=True)

    def _save_manifest(self, segdir: Path, force: bool = False) -> None:
        """Rewrite the manifest (kept proxies only) atomically, keeping the entries another session added;
        at most every :data:`_MANIFEST_EVERY` seconds unless ``force`` (the build's end writes the rest)."""
        if self.folder is None:
            return
        if not force and time.monotonic() - self._saved < _MANIFEST_EVERY:
            self._unsaved = True
            return
        with self._lock:
            entries = {s: dict(e) for s, e in self._entries.items()}
            self._unsaved = False
        self._saved = time.monotonic()
        old = _read_manifest(segdir / _MANIFEST)
        if self._compatible(old):
            assert old is not None
            for key, entry in old["segments"].items():
                kept = self._kept(segdir, key, entry, check=False)
                if kept is not None and kept[0] not in entries:
                    entries[kept[0]] = {"frames": kept[1], "bytes": kept[2]}
        data = {"format": PROXY_FORMAT, "video": self.video.name, "frames": len(self.pts),
                "segment_frames": self.segment_frames,
                "segments": {str(s): e for s, e in sorted(entries.items())}}  # fmt: skip
        tmp = segdir / f"{_MANIFEST}.{os.getpid()}-{threading.get_ident()}.part"
        try:
            tmp.write_text(json.dumps(data))
            os.replace(tmp, segdir / _MANIFEST)
        finally:
            tmp.unlink(missing_ok=True)

    def _check_disk(self, segdir: Path, pixels: int) -> None:
        need = int(pixels * BYTES_PER_PIXEL) + DISK_MARGIN
        free = shutil.disk_usage(segdir).free
        if free < need:
            raise OSError(f"{segdir.parent}: {free >> 20} MiB free, the proxy needs about {need >> 20} MiB more")

    def _first_size(self) -> int:
        import av

        with av.open(str(self.video)) as c:
            cc = c.streams.video[0].codec_context
            return int(cc.width) * int(cc.height)

    def _wait(self) -> None:
        if self._pause is not None:
            self._pause(self._stop)
