"""Input and output: images, videos, webcams and atomic file writing.

* :func:`open_source` — one entry point for an image, a folder of images, a video or a webcam;
  :meth:`Source.frames` yields ``(index, time, name, image)`` with RGB ``uint8`` images.
* :func:`read_image`, :func:`list_images` — still images (EXIF orientation, 16-bit, alpha handled).
* :class:`VideoReader`, :class:`VideoWriter`, :func:`write_video` — PyAV video with container
  timestamps, rotation metadata, truncation detection and atomic output.
* :func:`atomic_write`, :func:`atomic_path`, :func:`ensure_writable_dir` — outputs that are complete or
  absent, never half-written.

Every bad input raises :class:`posekit.errors.InputError` naming the file and the problem.
"""

from posekit.io.atomic import atomic_path, atomic_write, ensure_writable_dir
from posekit.io.images import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_SIDE,
    IMAGE_EXTENSIONS,
    list_images,
    natural_sort_key,
    read_image,
)
from posekit.io.sources import Source, SourceFrame, SourceKind, open_source
from posekit.io.video import VIDEO_EXTENSIONS, VideoFrame, VideoReader, VideoWriter, write_video

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MIN_SIDE",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Source",
    "SourceFrame",
    "SourceKind",
    "VideoFrame",
    "VideoReader",
    "VideoWriter",
    "atomic_path",
    "atomic_write",
    "ensure_writable_dir",
    "list_images",
    "natural_sort_key",
    "open_source",
    "read_image",
    "write_video",
]
