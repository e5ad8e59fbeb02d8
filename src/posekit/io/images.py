"""Reading still images into RGB arrays, with every bad input turned into one readable error.

:func:`read_image` returns what a pose model wants: an ``(H, W, 3)`` ``uint8`` RGB array in display
orientation. The conversions it applies, all deterministic:

* **EXIF orientation** is applied (``ImageOps.exif_transpose``), so a phone photo stored sideways with
  orientation 6 comes back upright. An unreadable EXIF block is ignored (the pixels are still valid).
* **Grayscale** (``1``, ``L``) is repeated into three channels.
* **Alpha is dropped**, not composited: ``RGBA``/``LA``/``PA`` and palette images with transparency keep
  their colour channels as stored (this is what MediaPipe does with RGBA input).
* **Palette** images are expanded to RGB; ``CMYK``/``YCbCr`` are converted by Pillow.
* **16-bit** images keep their high byte (``value >> 8``, i.e. ``65535 → 255``). Pillow already does this
  for 16-bit RGB PNG/TIFF; 16-bit grayscale (modes ``I;16``, ``I;16B``, ``I;16L``) and 32-bit integer
  ``I`` images are clipped to ``[0, 65535]`` and shifted the same way. 32-bit float (``F``) images are
  refused: their range is not defined.

The image size is checked from the file header *before* the pixels are decoded.
"""

from __future__ import annotations

import re
import warnings
from struct import error as struct_error
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from posekit.errors import InputError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MIN_SIDE",
    "IMAGE_EXTENSIONS",
    "list_images",
    "natural_sort_key",
    "read_image",
]

#: File extensions read as images (lower case, with the dot).
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")

#: Largest accepted image or video frame, in pixels (width × height): 100 megapixels.
DEFAULT_MAX_PIXELS = 100_000_000

#: Smallest accepted image side, in pixels. Nothing smaller can hold a recognisable person or hand.
DEFAULT_MIN_SIDE = 16

# Pillow's format names for the extensions above. "MPO" is a JPEG with a multi-picture extension
# (written by many cameras and some phones); its first picture is read.
_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF"})
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+) pixels")


def supported_images_text() -> str:
    """The supported image extensions as one comma-separated string, for messages."""
    return ", ".join(IMAGE_EXTENSIONS)


def read_image(
    path: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
) -> np.ndarray:
    """Read a JPEG, PNG, WebP, BMP or TIFF file as an RGB array in display orientation.

    Args:
        path: the image file. Its extension must be one of :data:`IMAGE_EXTENSIONS` (any case).
        max_pixels: largest accepted width × height in pixels, checked from the header before decoding
            (default 100 megapixels).
        min_side: smallest accepted width and height in pixels (default 16).

    Returns:
        ``(H, W, 3)`` ``uint8`` array, RGB, rows top to bottom, after EXIF orientation. ``H`` and ``W``
        are in pixels.

    Raises:
        InputError: naming the file, when it does not exist, is a folder, is empty, has an unsupported
            extension, is not an image or an image of another format, has truncated or corrupt pixel
            data, is larger than ``max_pixels`` or smaller than ``min_side``, or has an unsupported
            pixel mode.
    """
    p = Path(path)
    _check_file(p)
    if p.suffix.lower() not in IMAGE_EXTENSIONS:
        raise InputError(
            p, f"unsupported image extension '{p.suffix}' (supported: {supported_images_text()})"
        )
    try:
        with warnings.catch_warnings():
            # Our own limit below replaces Pillow's warning; its hard error is converted.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(p)
    except Image.DecompressionBombError as exc:
        raise InputError(p, _bomb_problem(str(exc))) from None
    except UnidentifiedImageError:
        raise InputError(p, "is not a readable image (cannot identify image file)") from None
    except (PermissionError, FileNotFoundError, IsADirectoryError) as exc:
        raise InputError(p, f"cannot be read ({exc.strerror or exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # e.g. WebP: a cut file fails in open()
        raise InputError(p, f"truncated or corrupt image data ({exc})") from None
    with im:
        if im.format not in _FORMATS:
            raise InputError(
                p, f"is a {im.format} image, which is not supported (supported: {supported_images_text()})"
            )
        width, height = im.size
        _check_size(p, width, height, max_pixels=max_pixels, min_side=min_side)
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InputError(p, f"truncated or corrupt image data ({exc})") from None
        im = _exif_upright(im)
        return _to_rgb8(p, im)


def list_images(folder: str | Path) -> list[Path]:
    """List the image files directly inside ``folder``, in natural order (``img2`` before ``img10``).

    Only regular files with an extension in :data:`IMAGE_EXTENSIONS` (any case) count; hidden files
    (name starting with ``.``, such as macOS ``._x.jpg`` resource forks) and sub-folders are skipped.

    Args:
        folder: the folder.

    Returns:
        The image paths, sorted naturally by file name.

    Raises:
        InputError: when the folder does not exist, is not a folder, or holds no image.
    """
    d = Path(folder)
    if not d.exists():
        raise InputError(d, "does not exist")
    if not d.is_dir():
        raise InputError(d, "is not a folder")
    files = [
        f
        for f in d.iterdir()
        if f.suffix.lower() in IMAGE_EXTENSIONS and not f.name.startswith(".") and f.is_file()
    ]
    if not files:
        raise InputError(d, f"folder contains no images (supported: {supported_images_text()})")
    return sorted(files, key=lambda f: natural_sort_key(f.name))


def natural_sort_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digit runs by value: ``frame2.png`` < ``frame10.png``.

    Args:
        name: a file name.

    Returns:
        A tuple usable as a ``sorted`` key; text compares case-insensitively.
    """
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(t)) if t.isdigit() else (1, t.lower()) for t in parts if t != "")


def _check_file(p: Path) -> None:
    if not p.exists():
        raise InputError(p, "does not exist")
    if p.is_dir():
        raise InputError(p, "is a folder, not an image file")
    if p.stat().st_size == 0:
        raise InputError(p, "is empty (0 bytes)")


def _check_size(p: Path, width: int, height: int, *, max_pixels: int, min_side: int) -> None:
    n = width * height
    if n > max_pixels:
        raise InputError(
            p, f"image is {width}×{height} = {n} pixels, which exceeds the limit of {max_pixels} (set max_pixels)"
        )
    if min(width, height) < min_side:
        raise InputError(
            p, f"image is {width}×{height} pixels; at least {min_side}×{min_side} is needed (set min_side)"
        )


def _bomb_problem(message: str) -> str:
    m = _BOMB_PIXELS.search(message)
    if m is None:  # pragma: no cover - depends on Pillow's wording
        return f"image is too large to decode safely ({message})"
    return (
        f"image has {int(m.group(1))} pixels, which exceeds Pillow's decompression-bomb limit of "
        f"{int(m.group(2))} (PIL.Image.MAX_IMAGE_PIXELS × 2)"
    )


def _exif_upright(im: Image.Image) -> Image.Image:
    try:
        out = ImageOps.exif_transpose(im)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, struct_error):
        return im  # unreadable EXIF: the pixels are valid, keep them as stored
    return im if out is None else out


def _to_rgb8(p: Path, im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode == "RGB":
        arr = np.asarray(im)
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        a = np.asarray(im)
        a = np.clip(a.astype(np.int64), 0, 65535) >> 8
        arr = np.repeat(a.astype(np.uint8)[:, :, None], 3, axis=2)
    elif mode == "F":
        raise InputError(p, "is a 32-bit floating-point image, which is not supported (no defined range)")
    elif mode == "P" and "transparency" in im.info:
        arr = np.asarray(im.convert("RGBA"))[:, :, :3]
    elif mode in ("RGBA", "RGBa", "RGBX"):
        arr = np.asarray(im.convert("RGBA") if mode == "RGBa" else im)[:, :, :3]
    elif mode in ("LA", "La", "PA"):
        arr = np.asarray(im.convert("RGBA"))[:, :, :3]
    else:  # 1, L, P, CMYK, YCbCr, LAB, HSV
        try:
            arr = np.asarray(im.convert("RGB"))
        except (ValueError, OSError) as exc:
            raise InputError(p, f"has unsupported pixel mode '{mode}' ({exc})") from None
    out = np.ascontiguousarray(arr, dtype=np.uint8)
    if out.ndim != 3 or out.shape[2] != 3:  # pragma: no cover - guarded by the branches above
        raise InputError(p, f"has unsupported pixel mode '{mode}'")
    return out

