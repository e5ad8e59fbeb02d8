"""posekit.io.images: formats, orientation, bit depth, alpha, and every bad input."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posekit.errors import InputError
from posekit.io.images import IMAGE_EXTENSIONS, list_images, natural_sort_key, read_image

# ---------------------------------------------------------------- helpers


def _pattern(h: int = 24, w: int = 32) -> np.ndarray:
    """Blocky RGB pattern that survives lossy compression: four 2×2-block quadrants of flat colour."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = (250, 10, 10)
    a[: h // 2, w // 2 :] = (10, 250, 10)
    a[h // 2 :, : w // 2] = (10, 10, 250)
    a[h // 2 :, w // 2 :] = (250, 250, 250)
    return a


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _write_png16_rgb(path: Path, arr: np.ndarray) -> None:
    """Hand-written 16-bit-per-channel RGB PNG (Pillow cannot write one)."""
    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def _write_png_header_only(path: Path, w: int, h: int) -> None:
    """A PNG whose header claims ``w×h`` pixels but carries almost no data (a decompression bomb probe)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + _png_chunk(b"IEND", b"")
    )


def _assert_names(exc: pytest.ExceptionInfo[InputError], path: Path, *words: str) -> None:
    msg = str(exc.value)
    assert path.name in msg, msg
    for w in words:
        assert w in msg, msg


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("ext", "fmt", "lossless"),
    [(".jpg", "JPEG", False), (".jpeg", "JPEG", False), (".png", "PNG", True), (".webp", "WEBP", True),
     (".bmp", "BMP", True), (".tif", "TIFF", True), (".tiff", "TIFF", True), (".PNG", "PNG", True)],
)
def test_reads_every_supported_format(tmp_path: Path, ext: str, fmt: str, lossless: bool) -> None:
    src = _pattern()
    p = tmp_path / f"img{ext}"
    kwargs = {"lossless": True} if fmt == "WEBP" else ({"quality": 95} if fmt == "JPEG" else {})
    Image.fromarray(src).save(p, format=fmt, **kwargs)
    out = read_image(p)
    assert out.dtype == np.uint8 and out.shape == (24, 32, 3) and out.flags.c_contiguous
    if lossless:
        np.testing.assert_array_equal(out, src)
    else:
        assert np.abs(out.astype(int) - src.astype(int)).mean() < 6


def test_multi_picture_jpeg_reads_the_first_picture(tmp_path: Path) -> None:
    p = tmp_path / "camera.jpg"
    first, second = Image.fromarray(_pattern()), Image.fromarray(255 - _pattern())
    first.save(p, format="MPO", save_all=True, append_images=[second], quality=95)
    with Image.open(p) as im:
        assert im.format == "MPO"  # the case under test
    out = read_image(p)
    assert np.abs(out.astype(int) - _pattern().astype(int)).mean() < 6


def test_exif_orientation_6_is_applied(tmp_path: Path) -> None:
    # Stored 40 wide × 24 tall with a white block in the top-left corner; orientation 6 means
    # "rotate 90° clockwise to display", so the display is 24 wide × 40 tall, block at the top-right.
    stored = np.zeros((24, 40, 3), np.uint8)
    stored[:8, :8] = 255
    im = Image.fromarray(stored)
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / "phone.jpg"
    im.save(p, quality=95, exif=exif)
    out = read_image(p)
    assert out.shape == (40, 24, 3)
    assert out[:8, -8:].mean() > 200  # top-right: the marker
    assert out[:8, :8].mean() < 40 and out[-8:, :8].mean() < 40 and out[-8:, -8:].mean() < 40


def test_exif_orientation_3_png(tmp_path: Path) -> None:
    stored = np.zeros((20, 30, 3), np.uint8)
    stored[0, 0] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 3  # rotate 180°
    p = tmp_path / "o3.png"
    Image.fromarray(stored).save(p, exif=exif)
    out = read_image(p)
    assert out.shape == (20, 30, 3)
    assert tuple(out[-1, -1]) == (255, 0, 0) and tuple(out[0, 0]) == (0, 0, 0)


def test_grayscale_becomes_three_equal_channels(tmp_path: Path) -> None:
    g = (np.arange(20 * 30).reshape(20, 30) % 256).astype(np.uint8)
    p = tmp_path / "gray.png"
    Image.fromarray(g, mode="L").save(p)
    out = read_image(p)
    assert out.shape == (20, 30, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], g)


def test_one_bit_image(tmp_path: Path) -> None:
    b = np.zeros((20, 20), bool)
    b[5:10, 5:10] = True
    p = tmp_path / "bw.bmp"
    Image.fromarray(b).save(p)
    out = read_image(p)
    assert out.shape == (20, 20, 3)
    assert (out[5:10, 5:10] == 255).all() and (out[:5] == 0).all()


def test_rgba_alpha_is_dropped_not_composited(tmp_path: Path) -> None:
    a = np.zeros((20, 20, 4), np.uint8)
    a[..., 0], a[..., 1], a[..., 2] = 200, 100, 50
    a[..., 3] = 0  # fully transparent: colours must still come back as stored
    a[:10, :, 3] = 255
    p = tmp_path / "rgba.png"
    Image.fromarray(a, mode="RGBA").save(p)
    out = read_image(p)
    assert out.shape == (20, 20, 3)
    assert (out == np.array([200, 100, 50], np.uint8)).all()


def test_la_and_palette_with_transparency(tmp_path: Path) -> None:
    la = np.zeros((20, 20, 2), np.uint8)
    la[..., 0] = 77
    la[..., 1] = 10
    p = tmp_path / "la.png"
    Image.fromarray(la, mode="LA").save(p)
    assert (read_image(p) == 77).all()

    pal = Image.new("P", (20, 20), 1)
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0, 0, 0] * 254)
    pal.info["transparency"] = 1  # the green index is transparent
    q = tmp_path / "pal.png"
    pal.save(q, transparency=1)
    out = read_image(q)
    assert out.shape == (20, 20, 3) and (out == np.array([0, 255, 0], np.uint8)).all()


def test_palette_without_transparency(tmp_path: Path) -> None:
    pal = Image.new("P", (20, 20), 0)
    pal.putpalette([12, 34, 56] + [0, 0, 0] * 255)
    p = tmp_path / "pal.bmp"
    pal.save(p)
    assert (read_image(p) == np.array([12, 34, 56], np.uint8)).all()


def test_16bit_grayscale_png_keeps_the_high_byte(tmp_path: Path) -> None:
    a = (np.arange(20 * 30, dtype=np.uint32).reshape(20, 30) * 109).astype(np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(a).save(p)
    with Image.open(p) as im:
        assert im.mode == "I;16"  # the case under test
    out = read_image(p)
    expected = (a >> 8).astype(np.uint8)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], expected)
    assert out.max() == expected.max() > 200


def test_16bit_big_endian_tiff(tmp_path: Path) -> None:
    a = np.full((20, 20), 0xAB12, np.uint16)
    p = tmp_path / "g16b.tif"
    Image.fromarray(a.astype(">u2")).save(p)
    with Image.open(p) as im:
        assert im.mode == "I;16B"
    assert (read_image(p) == 0xAB).all()


def test_16bit_rgb_png_keeps_the_high_byte(tmp_path: Path) -> None:
    a = np.zeros((20, 30, 3), np.uint16)
    a[..., 0], a[..., 1], a[..., 2] = 0x1234, 0xABCD, 0xFF00
    p = tmp_path / "rgb16.png"
    _write_png16_rgb(p, a)
    out = read_image(p)
    assert (out == np.array([0x12, 0xAB, 0xFF], np.uint8)).all()


def test_32bit_integer_tiff_is_clipped_to_16_bits(tmp_path: Path) -> None:
    a = np.array([[70000, 65535, 256, -5]] * 20, np.int32).repeat(5, axis=1)
    p = tmp_path / "i32.tif"
    Image.fromarray(a, mode="I").save(p)
    out = read_image(p)
    assert out.shape == (20, 20, 3)
    np.testing.assert_array_equal(out[0, ::5, 0], [255, 255, 1, 0])


def test_float_tiff_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "f.tif"
    Image.fromarray(np.ones((20, 20), np.float32)).save(p)
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "floating-point")


def test_cmyk_jpeg(tmp_path: Path) -> None:
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(_pattern()).convert("CMYK").save(p, quality=95)
    out = read_image(p)
    assert out.shape == (24, 32, 3)
    assert np.abs(out.astype(int) - _pattern().astype(int)).mean() < 12


# ---------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.jpg"
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "does not exist")


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "folder.png"
    d.mkdir()
    with pytest.raises(InputError) as e:
        read_image(d)
    _assert_names(e, d, "is a folder")


def test_zero_byte_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.png"
    p.touch()
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "empty (0 bytes)")


def test_text_file_named_jpg(tmp_path: Path) -> None:
    p = tmp_path / "notes.jpg"
    p.write_text("this is not an image\n" * 20)
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "is not a readable image (cannot identify image file)")


@pytest.mark.parametrize(("ext", "fmt"), [(".png", "PNG"), (".jpg", "JPEG"), (".webp", "WEBP")])
def test_truncated_image(tmp_path: Path, ext: str, fmt: str) -> None:
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)  # incompressible: data dominates the file
    full = tmp_path / f"full{ext}"
    Image.fromarray(noisy).save(full, format=fmt)
    p = tmp_path / f"cut{ext}"
    data = full.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "truncated or corrupt image data")


def test_unsupported_extension(tmp_path: Path) -> None:
    p = tmp_path / "anim.gif"
    Image.fromarray(_pattern()).save(p)
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "unsupported image extension '.gif'", ".jpg", ".tiff")


def test_other_format_behind_a_supported_extension(tmp_path: Path) -> None:
    p = tmp_path / "really_a_gif.png"
    Image.fromarray(_pattern()).save(p, format="GIF")
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "is a GIF image")


def test_pixel_limit_is_checked_from_the_header(tmp_path: Path) -> None:
    p = tmp_path / "big.png"
    Image.fromarray(np.zeros((100, 120, 3), np.uint8)).save(p)
    with pytest.raises(InputError) as e:
        read_image(p, max_pixels=5000)
    _assert_names(e, p, "120×100 = 12000 pixels", "exceeds the limit of 5000", "max_pixels")
    assert read_image(p, max_pixels=12000).shape == (100, 120, 3)


def test_huge_header_below_pillows_bomb_limit_hits_our_limit(tmp_path: Path) -> None:
    # 12000×9000 = 108 Mpx: above our 100 Mpx default, below Pillow's hard limit (~179 Mpx).
    # The data is missing, so decoding would fail differently: the size check must come first.
    p = tmp_path / "claims_108mpx.png"
    _write_png_header_only(p, 12000, 9000)
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, "12000×9000 = 108000000 pixels", "exceeds the limit of 100000000")


def test_decompression_bomb_becomes_input_error(tmp_path: Path) -> None:
    p = tmp_path / "bomb.png"
    _write_png_header_only(p, 20000, 20000)
    with pytest.raises(InputError) as e:
        read_image(p, max_pixels=10**12)
    _assert_names(e, p, "400000000 pixels", "decompression-bomb limit")


@pytest.mark.parametrize(("w", "h"), [(1, 1), (15, 200), (200, 15)])
def test_too_small(tmp_path: Path, w: int, h: int) -> None:
    p = tmp_path / "tiny.png"
    Image.new("RGB", (w, h)).save(p)
    with pytest.raises(InputError) as e:
        read_image(p)
    _assert_names(e, p, f"{w}×{h} pixels", "at least 16×16")
    assert read_image(p, min_side=1).shape == (h, w, 3)


# ---------------------------------------------------------------- folders


def test_list_images_natural_order_and_filtering(tmp_path: Path) -> None:
    for name in ["img10.png", "img2.jpg", "img1.PNG", "IMG3.tif", "notes.txt", ".hidden.png", "._img0.jpg"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "img0.png").write_bytes(b"x")
    (tmp_path / "dir.png").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["img1.PNG", "img2.jpg", "IMG3.tif", "img10.png"]


def test_list_images_errors(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(InputError) as e:
        list_images(tmp_path)
    assert "folder contains no images (supported: .jpg" in str(e.value) and str(tmp_path) in str(e.value)
    with pytest.raises(InputError, match="does not exist"):
        list_images(tmp_path / "missing")
    with pytest.raises(InputError, match="is not a folder"):
        list_images(tmp_path / "a.txt")


def test_natural_sort_key() -> None:
    names = ["f10.png", "f9.png", "F1.png", "f1b.png", "f01a.png"]
    assert sorted(names, key=natural_sort_key) == ["F1.png", "f01a.png", "f1b.png", "f9.png", "f10.png"]


def test_extensions_constant() -> None:
    assert set(IMAGE_EXTENSIONS) == {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
