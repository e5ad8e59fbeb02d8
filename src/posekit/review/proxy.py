"""Seek proxy of a review video: the video re-encoded with short GOPs for fast random access.

A random jump in the original costs a seek to the previous key frame and a decode forward; x264 writes
a key frame every 250 frames by default, so a jump decodes up to 250 frames (0.1 to 1 s at 1080p on 2
cores; ``benchmarks/review.py``). The proxy is the same frames (presentation order, rotation applied, same
colour tags) re-encoded with H.264 (x264 ``superfast`` + ``fastdecode``, CRF 17, a key frame every
:data:`PROXY_GOP` frames, no B-frames), so a jump decodes at most :data:`PROXY_GOP` frames. Frame ``j``
of the proxy is frame ``j`` of the original: the build checks every decoded time stamp against the
original's list and stops at the first missing or undecodable frame (a truncated video gives a proxy
of the frames before the break; later frames keep coming from the original).

Disk: about 0.05 byte per pixel per frame at CRF 17 (≈ 100 kB a 1080p frame, ≈ 2 GB for 10 minutes at
30 fps); the build is skipped when the folder's free space is below :data:`BYTES_PER_PIXEL` times the
video's pixel count plus 256 MiB.

The build runs in one background thread (decoder and encoder single-threaded, nice +10 on Linux) that
waits while frame requests are in flight (:class:`Activity`), writes ``<name>.part`` and renames it
when complete, so a proxy file is never seen half-written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PROXY_GOP", "PROXY_FORMAT", "BYTES_PER_PIXEL", "Activity", "ProxyBuild", "proxy_name", "write_proxy"]

PROXY_GOP = 8
"""Frames per key frame in the proxy: a random jump decodes at most this many frames."""
PROXY_FORMAT = "h264-superfast-fastdecode-crf17-g8-v1"
"""Part of the proxy file name: changing the encoding settings invalidates kept proxies."""
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


def proxy_name(video: Path) -> str:
    """File name of ``video``'s proxy; it changes with the video's path, size and modification time and with
    :data:`PROXY_FORMAT`, so a kept proxy is reused only for the same file."""
    st = video.stat()
    key = f"{video.resolve()}|{st.st_size}|{st.st_mtime_ns}|{PROXY_FORMAT}"
    return f"{video.stem}.{hashlib.sha256(key.encode()).hexdigest()[:16]}.proxy.mp4"


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


def _never() -> bool:
    return False


def _no_pause() -> None:
    return None


def write_proxy(src: Path, dst: Path, pts: Sequence[int], *, stop: Callable[[], bool] = _never,
                pause: Callable[[], None] = _no_pause, progress: Callable[[int], None] | None = None) -> int:  # fmt: skip
    """Re-encode ``src``'s frames into ``dst`` (MP4): frame ``j`` of ``dst`` is the frame with time stamp ``pts[j]``.

    Args:
        src: the original video.
        dst: the proxy file to write (any suffix: written as MP4).
        pts: the original's frame time stamps (stream time base) in presentation order.
        pause: called before each frame (blocks while the server answers requests).
        stop: polled before each frame, after ``pause``; when it returns true the build ends early (``dst``
            is then partial).
        progress: called with the number of frames written so far after each frame.

    Returns:
        Frames written: ``len(pts)``, or fewer when the original breaks (undecodable or missing frame) or
        ``stop`` ended the build.

    Raises:
        av.FFmpegError, OSError, ValueError: the proxy cannot be written (encoder, disk, odd frame size).
    """
    import av

    ic = av.open(str(src))
    oc = st = None
    n = 0
    try:
        s = ic.streams.video[0]
        s.thread_count = 1  # one core for the build: the requests keep the other
        for fr in _decoded(ic, s):
            pause()
            if stop():
                break
            if fr.pts is None or (n < len(pts) and fr.pts < pts[n]):
                continue
            if n >= len(pts) or fr.pts != pts[n]:
                break  # a frame of the original's list never came out: stop before it
            img = _upright(fr)
            if st is None:
                oc, st = _open_output(dst, img)
            img.pts, img.time_base, img.pict_type = n, 1 / _RATE, 0  # pict_type 0: x264 places the key frames
            for p in st.encode(img):
                oc.mux(p)
            n += 1
            if progress is not None:
                progress(n)
        if st is not None:
            for p in st.encode():
                oc.mux(p)
    finally:
        if oc is not None:
            oc.close()
        ic.close()
    return n


def _sweep_temporary() -> None:
    """Remove temporary proxy folders left by review processes that no longer run (killed before their
    :meth:`ProxyBuild.close`). POSIX only (elsewhere a process cannot be probed harmlessly)."""
    if os.name != "posix":
        return
    for d in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*-*"):
        pid = d.name[len(_TMP_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:  # alive (another user's): leave it
            pass


def _lower_priority() -> None:
    """Add :data:`BUILD_NICE` to the calling thread's niceness (Linux threads have their own)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + BUILD_NICE))
    except (AttributeError, OSError):  # pragma: no cover - not Linux or not allowed
        pass


class ProxyBuild:
    """Builds (or reuses) the seek proxy of a video in a background thread.

    Args:
        video: the original video.
        pts: its frame time stamps (stream time base) in presentation order, as
            :class:`~posekit.review.project._VideoFrames` lists them.
        folder: where the proxy is kept and reused next time; ``None``: a private temporary folder,
            removed by :meth:`close` (or, after a crash, by the next build).
        open_reader: opens a finished proxy file for random access (returns an object with ``len()``,
            ``rgb(i)`` and ``close()``).
        pause: called before each frame (see :class:`Activity`).
        on_ready: called with the reader once the proxy can be used (in the build thread).

    Attributes:
        state: ``"building"``, ``"ready"``, ``"failed"`` (see :attr:`error`) or ``"stopped"``.
        frames_done: frames encoded so far.
        seconds: build time in seconds once ready (0 for a reused proxy), else ``None``.
        path: the proxy file once ready.
        reader: the opened proxy once ready, else ``None``.
    """

    def __init__(self, video: Path, pts: Sequence[int], folder: Path | None, *, open_reader: Callable[[Path], Any],
                 pause: Callable[[threading.Event], None] | None = None,
                 on_ready: Callable[[Any], None] | None = None) -> None:  # fmt: skip
        self.video = Path(video)
        self.pts = list(pts)
        self.folder = Path(folder) if folder is not None else None
        self.state = "building"
        self.error: str | None = None
        self.frames_done = 0
        self.seconds: float | None = None
        self.path: Path | None = None
        self.reader: Any = None
        self._open_reader = open_reader
        self._pause = pause
        self._on_ready = on_ready
        self._stop = threading.Event()
        self._done = threading.Event()
        self._tmpdir: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self._thread = threading.Thread(target=self._run, name="posekit-review-proxy", daemon=True)

    def start(self) -> ProxyBuild:
        """Start the build thread; returns ``self``."""
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the build ended (ready, failed or stopped); ``True`` if it did within ``timeout`` seconds."""
        return self._done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the build, close the proxy and remove a temporary folder."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self.reader is not None:
            self.reader.close()
        if self._cleanup is not None:
            self._cleanup()

    def _run(self) -> None:
        _lower_priority()
        t0 = time.perf_counter()
        try:
            folder = self._folder()
            final = folder / proxy_name(self.video)
            reused = self._reuse(final)
            if not reused:
                self._build(final)
            if self._stop.is_set():
                self.state = "stopped"
                return
            reader = self._open_reader(final)
            if not 0 < len(reader) <= len(self.pts):
                reader.close()
                raise ValueError(f"proxy holds {len(reader)} frames, the video {len(self.pts)}")
            self.path, self.reader = final, reader
            self.seconds = 0.0 if reused else time.perf_counter() - t0
            self.state = "ready"
            if self._on_ready is not None:
                self._on_ready(reader)
        except Exception as exc:  # noqa: BLE001 - any failure: the original keeps serving the frames
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            self._done.set()

    def _folder(self) -> Path:
        if self.folder is None:
            _sweep_temporary()
            d = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-"))
            self._tmpdir = d
            self._cleanup = weakref.finalize(self, shutil.rmtree, d, True)
            return d
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def _reuse(self, final: Path) -> bool:
        """``True`` if a kept proxy of this very file is there (a damaged one is removed)."""
        if self.folder is None or not final.is_file():
            return False
        try:
            reader = self._open_reader(final)
        except Exception:  # noqa: BLE001 - rebuild it
            final.unlink(missing_ok=True)
            return False
        ok = 0 < len(reader) <= len(self.pts)
        reader.close()
        if not ok:
            final.unlink(missing_ok=True)
        return ok

    def _build(self, final: Path) -> None:
        first = self._first_size()
        need = int(len(self.pts) * first * BYTES_PER_PIXEL) + DISK_MARGIN
        free = shutil.disk_usage(final.parent).free
        if free < need:
            raise OSError(f"{final.parent}: {free >> 20} MiB free, the proxy needs about {need >> 20} MiB")
        tmp = final.with_name(f"{final.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            n = write_proxy(self.video, tmp, self.pts, stop=self._stop.is_set, pause=self._wait,
                            progress=self._progress)  # fmt: skip
            if self._stop.is_set():
                return
            if n == 0:
                raise ValueError("no frame of the video could be decoded")
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def _first_size(self) -> int:
        import av

        with av.open(str(self.video)) as c:
            cc = c.streams.video[0].codec_context
            return int(cc.width) * int(cc.height)

    def _wait(self) -> None:
        if self._pause is not None:
            self._pause(self._stop)

    def _progress(self, n: int) -> None:
        self.frames_done = n
