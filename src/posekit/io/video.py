"""Video input and output with PyAV: frames as RGB arrays with container timestamps.

Reading (:class:`VideoReader`):

* **Time** of each frame comes from the container, ``(pts - stream.start_time) × time_base`` in seconds,
  never from ``index / fps``: variable-frame-rate phone videos are common. Two exceptions: AVI, which
  stores no presentation times (there ``time = index / fps``), and a frame without a time stamp
  (previous time + ``1 / fps``; NaN when the rate is unknown).
* **Rotation**: the display matrix (the ``rotate`` tag of phone videos) is honoured. Frames come out in
  display orientation, rotated with :func:`numpy.rot90` by the matrix's rotation rounded to a multiple of
  90°; :attr:`VideoReader.width`/:attr:`VideoReader.height` are the display size. Flips in the matrix are
  not applied (cameras do not write them).
* **Truncation**: when decoding fails part-way, the frames decoded before the break are yielded, then
  :class:`~posekit.errors.TruncatedInputError` is raised. FFmpeg often stops *silently* at the end of a
  cut file, so after the last frame the decoded span is also compared with the duration the container
  declares in its header (MP4/MOV, Matroska/WebM and AVI only; MPEG-TS/PS and others estimate durations
  from the bit rate, so they are not checked): when the last frame ends more than
  ``max(2 frame intervals, 0.1 s)`` before the declared end, the stream is reported truncated.
* **Webcams** (Linux V4L2 ``/dev/videoN``) through :meth:`VideoReader.webcam`.

Writing (:class:`VideoWriter`, :func:`write_video`) encodes RGB frames with libx264 (MPEG-4 Part 2 where
PyAV's FFmpeg lacks it, VP9 for ``.webm``) into a temporary file beside the target that is renamed over
it only when the writer closes without error.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np

from posekit.errors import InputError, OutputError, TruncatedInputError, ValidationError
from posekit.io.atomic import atomic_path
from posekit.io.images import DEFAULT_MAX_PIXELS

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoFrame",
    "VideoReader",
    "VideoWriter",
    "write_video",
]

#: File extensions read as videos (lower case, with the dot).
VIDEO_EXTENSIONS: tuple[str, ...] = (
    ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp",
)

# Demuxers whose header declares the stream duration (not an estimate from the bit rate).
_DECLARED_DURATION_FORMATS = ("mov", "matroska", "avi")
_TRUNCATION_MIN_SLACK_S = 0.1
# Containers/codecs that store a constant frame rate: one time-base tick per frame.
_CONSTANT_RATE_SUFFIXES = (".avi", ".mpg", ".mpeg")


def supported_videos_text() -> str:
    """The supported video extensions as one comma-separated string, for messages."""
    return ", ".join(VIDEO_EXTENSIONS)


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame.

    Attributes:
        index: 0-based position in decoding (presentation) order.
        time: presentation time in seconds from the start of the stream (container timestamps).
        image: ``(H, W, 3)`` ``uint8`` RGB array in display orientation (rotation applied).
    """

    index: int
    time: float
    image: np.ndarray


class VideoReader:
    """Iterate over the frames of a video file (or a webcam) as :class:`VideoFrame` objects.

    Opening reads the header and decodes the first frame (to learn the rotation and to fail early on a
    file that cannot be decoded). Each ``for`` loop over the reader decodes the file from the start;
    a webcam can be iterated once.

    Args:
        path: the video file.
        max_pixels: largest accepted coded frame size, width × height in pixels (default 100 megapixels).
        thread_type: FFmpeg decoder threading: ``"AUTO"`` (frame and slice threads), ``"FRAME"``,
            ``"SLICE"`` or ``"NONE"``.

    Raises:
        InputError: the file does not exist, is a folder, is empty, cannot be opened as media, contains
            no video stream, has a frame size above ``max_pixels`` or no decodable frame.

    Example:
        >>> for frame in VideoReader("walk.mp4"):  # doctest: +SKIP
        ...     print(frame.index, frame.time, frame.image.shape)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        thread_type: str = "AUTO",
    ) -> None:
        p = Path(path)
        if not p.exists():
            raise InputError(p, "does not exist")
        if p.is_dir():
            raise InputError(p, "is a folder, not a video file")
        if p.stat().st_size == 0:
            raise InputError(p, "is empty (0 bytes)")
        self._init(str(p), p, None, None, max_pixels=max_pixels, thread_type=thread_type, live=False)

    @classmethod
    def webcam(
        cls,
        index: int = 0,
        *,
        options: dict[str, str] | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> VideoReader:
        """Open the Linux V4L2 camera ``/dev/video{index}``.

        Args:
            index: camera number (``0`` → ``/dev/video0``).
            options: FFmpeg v4l2 demuxer options, e.g. ``{"video_size": "1280x720", "framerate": "30"}``.
            max_pixels: largest accepted frame size in pixels.

        Returns:
            A reader that can be iterated once; times are seconds since the first captured frame.

        Raises:
            InputError: (named ``"webcam N"``) when the device does not exist, the platform is not
                Linux, or the device cannot be opened.
        """
        label = f"webcam {index}"
        if not sys.platform.startswith("linux"):
            raise InputError(label, f"webcam input needs Linux V4L2; this platform is {sys.platform}")
        device = Path(f"/dev/video{int(index)}")
        if not device.exists():
            raise InputError(label, f"no camera device {device}")
        self = cls.__new__(cls)
        self._init(
            str(device), device, "v4l2", dict(options or {}), max_pixels=max_pixels,
            thread_type="AUTO", live=True, label=label,
        )
        return self

    # ------------------------------------------------------------------ setup

    def _init(
        self,
        url: str,
        path: Path,
        fmt: str | None,
        options: dict[str, str] | None,
        *,
        max_pixels: int,
        thread_type: str,
        live: bool,
        label: str | None = None,
    ) -> None:
        self._url = url
        self._path = path
        self._label = label or str(path)
        self._format = fmt
        self._options = options
        self._max_pixels = max_pixels
        self._thread_type = thread_type
        self._live = live
        self._used_first = False
        container, stream = self._open()
        self._container: Any = container
        self._codec = stream.codec_context.name
        self._fps = float(stream.average_rate) if stream.average_rate else None
        self._duration = _declared_duration(container, stream)
        self._frames = stream.frames if stream.frames and stream.frames > 0 else None
        self._first_rotation = 0
        self._index_clock = False
        self._break_reason = ""
        self._gen: Iterator[VideoFrame] | None = self._decode(container, stream)
        try:
            first = next(self._gen)
        except StopIteration:
            self.close()
            raise InputError(self._label, "contains no decodable video frame") from None
        except TruncatedInputError:
            self.close()
            hint = _mp4_diagnosis(self._path) if not self._live else None
            raise InputError(
                self._label,
                f"no video frame could be decoded ({self._break_reason})" + (f": {hint}" if hint else ""),
            ) from None
        self._first: VideoFrame | None = first
        self._rotation = self._first_rotation
        self._height, self._width = first.image.shape[:2]

    def _open(self) -> tuple[Any, Any]:
        try:
            container = av.open(self._url, mode="r", format=self._format, options=self._options)
        except av.FFmpegError as exc:
            hint = _mp4_diagnosis(self._path) if not self._live else None
            raise InputError(
                self._label, f"cannot be opened as media ({_reason(exc)})" + (f": {hint}" if hint else "")
            ) from None
        try:
            stream = _pick_video_stream(self._label, container, self._path)
            w, h = stream.codec_context.width, stream.codec_context.height
            if w <= 0 or h <= 0:
                raise InputError(self._label, "video stream declares no frame size")
            if w * h > self._max_pixels:
                raise InputError(
                    self._label,
                    f"video frames are {w}×{h} = {w * h} pixels, which exceeds the limit of "
                    f"{self._max_pixels} (set max_pixels)",
                )
            stream.thread_type = self._thread_type
        except BaseException:
            container.close()
            raise
        return container, stream

    # ------------------------------------------------------------------ properties

    @property
    def path(self) -> Path:
        """The file (or ``/dev/videoN`` device) being read."""
        return self._path

    @property
    def fps(self) -> float | None:
        """Average frame rate in frames per second from the container, or ``None`` when unknown."""
        return self._fps

    @property
    def duration(self) -> float | None:
        """Declared stream duration in seconds, or ``None`` when the container does not say."""
        return self._duration

    @property
    def frame_count(self) -> int | None:
        """Frame count declared by the container, else ``duration × fps`` rounded, else ``None``.

        An estimate: the number actually decoded can differ (edit lists, truncation).
        """
        if self._frames is not None:
            return self._frames
        if self._duration is not None and self._fps:
            return round(self._duration * self._fps)
        return None

    @property
    def width(self) -> int:
        """Frame width in pixels, in display orientation (after rotation)."""
        return self._width

    @property
    def height(self) -> int:
        """Frame height in pixels, in display orientation (after rotation)."""
        return self._height

    @property
    def rotation(self) -> int:
        """Display rotation applied to the frames, degrees counter-clockwise: 0, 90, 180 or 270."""
        return self._rotation

    @property
    def codec(self) -> str:
        """FFmpeg decoder name, e.g. ``"h264"``."""
        return self._codec

    # ------------------------------------------------------------------ iteration

    def __iter__(self) -> Iterator[VideoFrame]:
        try:
            if not self._used_first and self._gen is not None and self._first is not None:
                self._used_first = True
                first, gen = self._first, self._gen
                self._first = None
                yield first
                yield from gen
                return
            if self._live:
                raise InputError(self._label, "a live camera can be iterated only once")
            self.close()
            container, stream = self._open()
            self._container = container
            self._gen = self._decode(container, stream)
            yield from self._gen
        finally:
            self.close()  # at the end, on a break, or on an error: release the file

    def close(self) -> None:
        """Release the file or device. Iterating again reopens a file."""
        if self._gen is not None:
            with contextlib.suppress(Exception):
                self._gen.close()  # type: ignore[attr-defined]
            self._gen = None
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter shutdown
        with contextlib.suppress(Exception):
            self.close()

    def __repr__(self) -> str:
        return (
            f"VideoReader({str(self._path)!r}, {self._width}x{self._height}, fps={self._fps}, "
            f"frames~{self.frame_count}, rotation={self._rotation}, codec={self._codec!r})"
        )

    def _decode(self, container: Any, stream: Any) -> Iterator[VideoFrame]:
        """Decode ``stream``; yield frames; raise TruncatedInputError on a break (see module doc)."""
        time_base = stream.time_base
        origin = stream.start_time
        # AVI stores no presentation times (FFmpeg hands decode-order stamps to B-frame codecs):
        # there one frame is one 1/fps slot.
        self._index_clock = container.format.name == "avi" and bool(self._fps)
        index = 0
        last_time: float | None = None
        last_end: float | None = None
        error: Exception | None = None
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
                decoded = stream.decode(packet)
            except StopIteration:
                break
            except av.FFmpegError as exc:
                error = exc
                break
            for f in decoded:
                vf, last_end, origin = self._convert(f, index, time_base, origin, last_time)
                last_time = vf.time
                index += 1
                yield vf
        if error is not None:
            # Frames already inside the decoder (frame threads) are still good: drain them.
            with contextlib.suppress(av.FFmpegError):
                for f in stream.decode(None):
                    vf, last_end, origin = self._convert(f, index, time_base, origin, last_time)
                    last_time = vf.time
                    index += 1
                    yield vf
            self._break_reason = _reason(error)
            at = f"{last_time:.3f} s" if last_time is not None else "start"
            raise TruncatedInputError(
                self._label,
                f"decoding stopped at frame {index} (last good frame at t={at}): {_reason(error)}",
                frames_read=index,
            )
        if index and not self._live and last_end is not None:
            # Durations are lengths in MP4/AVI but end stamps in Matroska: measuring our end from
            # time stamp zero (not from the first frame) can only under-report truncation, never invent it.
            offset = max(0.0, float(origin * time_base)) if origin and not self._index_clock else 0.0
            self._check_complete(container, index, last_end, last_end + offset)

    def _convert(
        self, f: Any, index: int, time_base: Fraction, origin: int | None, last_time: float | None
    ) -> tuple[VideoFrame, float | None, int | None]:
        if self._index_clock:
            t = index / self._fps  # type: ignore[operator]
        elif f.pts is not None:
            if origin is None:
                origin = f.pts
            t = float((f.pts - origin) * time_base)
        elif last_time is not None and self._fps:
            t = last_time + 1.0 / self._fps
        else:
            t = math.nan
        rot = _quarter_turns(f.rotation)
        if index == 0:
            self._first_rotation = rot * 90
        img = f.to_ndarray(format="rgb24")
        if rot:
            img = np.ascontiguousarray(np.rot90(img, rot))
        end = None
        if self._index_clock:
            end = t + 1.0 / self._fps  # type: ignore[operator]
        elif f.duration and f.pts is not None:
            end = t + float(f.duration * time_base)
        elif self._fps:
            end = t + 1.0 / self._fps
        return VideoFrame(index=index, time=t, image=img), end, origin

    def _check_complete(self, container: Any, n: int, last_end: float, abs_end: float) -> None:
        declared = self._duration
        fmt = container.format.name
        if declared is None or not fmt.startswith(_DECLARED_DURATION_FORMATS):
            return
        slack = max(2.0 / self._fps if self._fps else 0.0, _TRUNCATION_MIN_SLACK_S)
        if declared - abs_end > slack:
            raise TruncatedInputError(
                self._label,
                f"decoding stopped at frame {n} (t={last_end:.3f} s) but the container declares "
                f"{declared:.3f} s of video: the file is probably truncated",
                frames_read=n,
            )


class VideoWriter:
    """Encode RGB frames to a video file, atomically: the file appears only when :meth:`close` succeeds.

    Use as a context manager; an exception inside the ``with`` block deletes the temporary file and
    leaves no output (an existing file at ``path`` is kept).

    Frame sizes: the first frame fixes the size; every frame must match it. Codecs with 4:2:0 chroma need
    even sides, so an odd width or height is padded by one pixel (edge pixels repeated) at the right or
    bottom.

    Timestamps: ``write(image)`` places frames at ``index / fps``; ``write(image, time=t)`` at ``t``
    seconds (variable frame rate; times must increase). Time stamps are stored in units of 1/90000 s
    (1/30000 s for MPEG-4 Part 2). AVI and MPEG-PS (``.avi``, ``.mpg``, ``.mpeg``) store a constant
    rate: there one tick is one frame (``1/fps``) and explicit times are rounded to frame slots.

    Args:
        path: output file; its extension picks the container (see :data:`VIDEO_EXTENSIONS`). The folder
            must exist.
        fps: nominal frame rate in frames per second (> 0), stored as the stream's rate.
        codec: FFmpeg encoder name; default ``libx264`` (``mpeg4`` when unavailable), ``libvpx-vp9`` for
            ``.webm``.
        crf: constant-quality factor for libx264/VP9 (lower is better; default 20).
        preset: libx264 speed preset (default ``"veryfast"``).

    Raises:
        OutputError: unsupported extension, missing folder, unavailable encoder, or a failed write.

    Example:
        >>> with VideoWriter("out.mp4", fps=30) as w:  # doctest: +SKIP
        ...     for frame in VideoReader("in.mp4"):
        ...         w.write(frame.image, time=frame.time)
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        codec: str | None = None,
        crf: int = 20,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        if self.path.suffix.lower() not in VIDEO_EXTENSIONS:
            raise OutputError(
                self.path,
                f"unsupported video extension '{self.path.suffix}' (supported: {supported_videos_text()})",
            )
        if not self.path.parent.is_dir():
            raise OutputError(self.path, "cannot write output file: its folder does not exist")
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        self.fps = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
        self.codec = codec or _default_codec(self.path.suffix.lower())
        if not _has_encoder(self.codec):
            raise OutputError(self.path, f"the video encoder '{self.codec}' is not available in PyAV's FFmpeg")
        self._crf = crf
        self._preset = preset
        if self.path.suffix.lower() in _CONSTANT_RATE_SUFFIXES:
            self._time_base = Fraction(1) / self.fps  # one tick per frame; times round to frame slots
        elif self.codec == "mpeg4":
            self._time_base = Fraction(1, 30000)  # MPEG-4 Part 2 allows denominators up to 65535
        else:
            self._time_base = Fraction(1, 90000)
        self._stack = contextlib.ExitStack()
        self._tmp: Path = self._stack.enter_context(atomic_path(self.path))
        self._container: Any = None
        self._stream: Any = None
        self._size: tuple[int, int] | None = None  # (H, W) of the input frames
        self._last_pts: int | None = None
        self._closed = False
        self.frames_written = 0

    def write(self, image: np.ndarray, time: float | None = None) -> None:
        """Encode one frame.

        Args:
            image: ``(H, W, 3)`` ``uint8`` RGB array; same size as the first frame.
            time: presentation time in seconds; default ``frames_written / fps``.

        Raises:
            ValidationError: wrong shape or dtype, size change, or a time not after the previous one.
            OutputError: encoding or writing failed.
        """
        if self._closed:
            raise OutputError(self.path, "cannot write: the video writer is closed")
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValidationError(
                f"Expected an (H, W, 3) uint8 RGB image, but got "
                f"{getattr(image, 'shape', type(image))} {getattr(image, 'dtype', '')}"
            )
        h, w = image.shape[:2]
        if self._size is None:
            self._start(h, w)
        elif (h, w) != self._size:
            raise ValidationError(f"Expected frames of {self._size[1]}×{self._size[0]}, but got {w}×{h}")
        t = float(self.frames_written / self.fps) if time is None else float(time)
        pts = round(t / self._time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            raise ValidationError(f"frame times must increase; got t={t} s after t={float(self._last_pts * self._time_base)} s")
        frame = av.VideoFrame.from_ndarray(_pad_even(np.ascontiguousarray(image)), format="rgb24")
        frame.pts = pts
        frame.time_base = self._time_base
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.FFmpegError as exc:
            raise OutputError(self.path, f"video encoding failed: {_reason(exc)}") from exc
        self._last_pts = pts
        self.frames_written += 1

    def close(self) -> Path:
        """Flush the encoder, close the file and move it to ``path``.

        Returns:
            The output path.

        Raises:
            OutputError: no frame was written, or flushing/renaming failed (no output is left).
        """
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self.frames_written == 0:
                raise OutputError(self.path, "no frames were written; no video file was created")
            try:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
                self._container.close()
            except av.FFmpegError as exc:
                raise OutputError(self.path, f"video encoding failed: {_reason(exc)}") from exc
            self._container = None
        except BaseException as exc:
            self._abort(exc)
            raise
        self._stack.close()  # renames the temporary file over the target
        return self.path

    def abort(self) -> None:
        """Discard everything written so far; no output file is created."""
        if not self._closed:
            self._closed = True
            self._abort(None)

    def _abort(self, exc: BaseException | None) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None
        err = exc if exc is not None else RuntimeError("video writer aborted")
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(err), err, err.__traceback__)

    def __enter__(self) -> VideoWriter:
        return self

    def __del__(self) -> None:  # never closed: nothing was committed, remove the temporary file
        if not getattr(self, "_closed", True):
            with contextlib.suppress(Exception):
                self.abort()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _start(self, h: int, w: int) -> None:
        self._size = (h, w)
        try:
            self._container = av.open(str(self._tmp), mode="w", format=_muxer_for(self.path.suffix.lower()))
            stream = self._container.add_stream(self.codec, rate=self.fps)
            stream.width = w + (w % 2)
            stream.height = h + (h % 2)
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = self._time_base
            stream.time_base = self._time_base
            if self.codec == "libx264":
                stream.options = {"crf": str(self._crf), "preset": self._preset}
            elif self.codec.startswith("libvpx"):
                stream.options = {"crf": str(self._crf + 12), "b": "0", "deadline": "realtime", "cpu-used": "8"}
            else:  # mpeg4 and others: a bit rate that keeps overlays legible (~0.15 bit per pixel)
                stream.bit_rate = int(w * h * float(self.fps) * 0.15)
            self._stream = stream
        except av.FFmpegError as exc:
            self.abort()
            raise OutputError(self.path, f"cannot start video encoding: {_reason(exc)}") from exc


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray | VideoFrame],
    fps: float,
    **kwargs: Any,
) -> Path:
    """Encode ``frames`` to ``path`` atomically (see :class:`VideoWriter`).

    Args:
        path: output file.
        frames: ``(H, W, 3)`` ``uint8`` RGB arrays, or :class:`VideoFrame` objects whose ``time`` is kept.
        fps: nominal frame rate in frames per second.
        **kwargs: passed to :class:`VideoWriter` (``codec``, ``crf``, ``preset``).

    Returns:
        The output path.
    """
    with VideoWriter(path, fps, **kwargs) as writer:
        for item in frames:
            if isinstance(item, VideoFrame):
                writer.write(item.image, time=item.time)
            else:
                writer.write(item)
    return writer.path


# ---------------------------------------------------------------------- helpers


def _pick_video_stream(label: str, container: Any, path: Path) -> Any:
    streams = [
        s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)
    ]
    if streams:
        return streams[0]
    if not container.streams:
        raise InputError(label, "contains no media streams (not a video, or cut before its index)")
    kinds = ", ".join(sorted({s.type for s in container.streams}))
    hint = _mp4_diagnosis(path) if container.format.name.startswith("mov") else None
    raise InputError(label, f"contains no video stream (only {kinds})" + (f": {hint}" if hint else ""))


def _mp4_diagnosis(path: Path) -> str | None:
    """Explain an MP4/MOV file that FFmpeg cannot use by walking its top-level boxes; None if fine."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[4:8] != b"ftyp":
                return None
            pos, names = 0, []
            while pos + 8 <= size:
                fh.seek(pos)
                hdr = fh.read(16)
                box_size = int.from_bytes(hdr[:4], "big")
                name = hdr[4:8].decode("latin-1")
                if box_size == 1 and len(hdr) == 16:
                    box_size = int.from_bytes(hdr[8:16], "big")
                elif box_size == 0:
                    box_size = size - pos
                if box_size < 8:
                    return f"MP4/MOV box '{name}' at byte {pos} is corrupt"
                names.append(name)
                if pos + box_size > size:
                    missing = "" if "moov" in names else " and its index ('moov' box) is missing"
                    return (
                        f"the MP4/MOV file is cut short (box '{name}' needs {pos + box_size} bytes, the "
                        f"file has {size}){missing}"
                    )
                pos += box_size
    except OSError:
        return None
    if "moov" not in names:
        return "the MP4/MOV file has no index ('moov' box), e.g. a recording that was never finished"
    return None


def _declared_duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    if tag:
        with contextlib.suppress(ValueError):
            hh, mm, ss = tag.split(":")
            return int(hh) * 3600 + int(mm) * 60 + float(ss)
    if container.duration and len(container.streams) == 1:
        return container.duration / av.time_base
    return None


def _quarter_turns(rotation: float | None) -> int:
    if not rotation or not math.isfinite(rotation):
        return 0
    return int(round(rotation / 90.0)) % 4


def _reason(exc: BaseException) -> str:
    msg = getattr(exc, "strerror", None) or str(exc)
    return msg.rstrip(".")


def _default_codec(suffix: str) -> str:
    if suffix == ".webm":
        return "libvpx-vp9"
    if suffix == ".avi":
        return "mpeg4"  # AVI stores no presentation times, so no codec with B-frames
    if suffix in (".mpg", ".mpeg"):
        return "mpeg2video"
    if suffix == ".wmv":
        return "wmv2"
    if suffix == ".flv":
        return "flv"
    return "libx264" if _has_encoder("libx264") else "mpeg4"


def _muxer_for(suffix: str) -> str | None:
    return {".mkv": "matroska", ".webm": "webm", ".ts": "mpegts", ".mpg": "mpeg", ".mpeg": "mpeg",
            ".wmv": "asf", ".m4v": "mp4", ".3gp": "3gp"}.get(suffix)


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):  # type: ignore[attr-defined]
        return False
    return True


def _pad_even(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
