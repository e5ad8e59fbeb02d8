"""One entry point for every input: an image, a folder of images, a video file or a webcam.

:func:`open_source` classifies what the user named, by these rules in order:

1. an ``int``, a string of digits (``"0"``) or ``/dev/videoN`` → webcam ``N`` (Linux V4L2). A file
   literally named ``0`` must be written ``./0``;
2. a path that does not exist → :class:`~posekit.errors.InputError` ``"does not exist"``;
3. a folder → its images (:func:`~posekit.io.images.list_images`, natural order, not recursive);
4. a file whose extension is in :data:`~posekit.io.images.IMAGE_EXTENSIONS` → one image;
5. a file whose extension is in :data:`~posekit.io.video.VIDEO_EXTENSIONS` → video;
6. anything else → ``InputError("unsupported file type …")`` listing both sets of extensions.

The kind is decided by the extension, never guessed from the content; the content is then checked by the
reader (a text file named ``x.mp4`` fails with "cannot be opened as media").

:meth:`Source.frames` yields :class:`SourceFrame` tuples ``(index, time, name, image)`` for every kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from posekit.errors import InputError
from posekit.io.images import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_SIDE,
    IMAGE_EXTENSIONS,
    list_images,
    read_image,
    supported_images_text,
)
from posekit.io.video import VIDEO_EXTENSIONS, VideoReader, supported_videos_text

__all__ = ["Source", "SourceFrame", "SourceKind", "open_source"]

SourceKind = Literal["image", "images", "video", "webcam"]

_DEV_VIDEO = re.compile(r"^/dev/video(\d+)$")


class SourceFrame(NamedTuple):
    """One input frame, the same for every kind of source.

    Attributes:
        index: 0-based frame number (position in the folder for image folders).
        time: presentation time in seconds for videos and webcams; ``None`` for still images.
        name: the image's file name (``"img_0001.jpg"``), or ``"<video stem>_<index:06d>"`` for video
            frames (``"webcam<N>_<index:06d>"`` for a webcam); usable as an output file stem.
        image: ``(H, W, 3)`` ``uint8`` RGB array in display orientation.
    """

    index: int
    time: float | None
    name: str
    image: np.ndarray


class Source:
    """An opened input. Create it with :func:`open_source`.

    Attributes:
        kind: ``"image"``, ``"images"`` (a folder), ``"video"`` or ``"webcam"``.
        path: the file, folder, or ``/dev/videoN`` device.
        files: the image files (``kind`` ``"image"``/``"images"``); empty otherwise.
        reader: the :class:`~posekit.io.video.VideoReader` (``kind`` ``"video"``/``"webcam"``), else ``None``.
    """

    def __init__(
        self,
        kind: SourceKind,
        path: Path,
        *,
        files: list[Path] | None = None,
        reader: VideoReader | None = None,
        label: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        min_side: int = DEFAULT_MIN_SIDE,
    ) -> None:
        self.kind: SourceKind = kind
        self.path = path
        self.files: list[Path] = list(files or [])
        self.reader = reader
        self._label = label or path.stem
        self._max_pixels = max_pixels
        self._min_side = min_side

    @property
    def fps(self) -> float | None:
        """Average frame rate in frames per second for videos and webcams; ``None`` for images."""
        return self.reader.fps if self.reader is not None else None

    @property
    def frame_count(self) -> int | None:
        """Number of frames: exact for images, the container's estimate for videos, ``None`` for webcams."""
        if self.reader is None:
            return len(self.files)
        return None if self.kind == "webcam" else self.reader.frame_count

    def frames(self) -> Iterator[SourceFrame]:
        """Yield every frame as a :class:`SourceFrame`.

        Raises:
            InputError: a bad image in a folder (naming that file), or a video that cannot be decoded.
            TruncatedInputError: a video that breaks part-way, after the frames decoded before the break.
        """
        if self.reader is None:
            for i, f in enumerate(self.files):
                img = read_image(f, max_pixels=self._max_pixels, min_side=self._min_side)
                yield SourceFrame(i, None, f.name, img)
            return
        for vf in self.reader:
            yield SourceFrame(vf.index, vf.time, f"{self._label}_{vf.index:06d}", vf.image)

    def close(self) -> None:
        """Release the video file or camera (nothing to do for images)."""
        if self.reader is not None:
            self.reader.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Source(kind={self.kind!r}, path={str(self.path)!r}, frame_count={self.frame_count})"


def open_source(
    spec: str | Path | int,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
) -> Source:
    """Open an image, a folder of images, a video file or a webcam (rules in the module docstring).

    Video files and webcams are opened at once (header read, first frame decoded), so their errors come
    here; image files are read by :meth:`Source.frames`.

    Args:
        spec: a path, or a webcam number (``0``, ``"0"``, ``"/dev/video0"``).
        max_pixels: largest accepted image or frame, width × height in pixels.
        min_side: smallest accepted image side in pixels (still images only).

    Returns:
        The opened :class:`Source`.

    Raises:
        InputError: missing path, unsupported file type, a folder without images, a missing camera, or a
            video that cannot be opened.
    """
    if isinstance(spec, bool):
        raise TypeError("a source must be a path or a webcam number, not a bool")
    webcam = _webcam_index(spec)
    if webcam is not None:
        reader = VideoReader.webcam(webcam, max_pixels=max_pixels)
        return Source("webcam", reader.path, reader=reader, label=f"webcam{webcam}")
    p = Path(spec).expanduser()
    if not p.exists():
        raise InputError(p, "does not exist")
    if p.is_dir():
        return Source("images", p, files=list_images(p), max_pixels=max_pixels, min_side=min_side)
    suffix = p.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return Source("image", p, files=[p], max_pixels=max_pixels, min_side=min_side)
    if suffix in VIDEO_EXTENSIONS:
        return Source("video", p, reader=VideoReader(p, max_pixels=max_pixels))
    what = f"file type '{p.suffix}'" if p.suffix else "file without an extension"
    raise InputError(
        p,
        f"unsupported {what} (supported images: {supported_images_text()}; "
        f"videos: {supported_videos_text()})",
    )


def _webcam_index(spec: str | Path | int) -> int | None:
    if isinstance(spec, int):
        return spec
    if isinstance(spec, str):
        s = spec.strip()
        if s.isascii() and s.isdigit():
            return int(s)
        m = _DEV_VIDEO.match(s)
        if m:
            return int(m.group(1))
    elif isinstance(spec, Path):
        m = _DEV_VIDEO.match(str(spec))
        if m:
            return int(m.group(1))
    return None
