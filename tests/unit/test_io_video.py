"""posekit.io.video and posekit.io.sources: timestamps, rotation, truncation, bad inputs, atomic writing.

All videos are synthesised in ``tmp_path`` with PyAV (its bundled FFmpeg has libx264, mpeg4 and VP9
encoders). The last tests read the shared real recordings (``data_dir`` fixture).
"""

from __future__ import annotations

import gc
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from posekit.errors import InputError, OutputError, TruncatedInputError, ValidationError
from posekit.io.sources import SourceFrame, open_source
from posekit.io.video import VIDEO_EXTENSIONS, VideoFrame, VideoReader, VideoWriter, write_video

W, H = 64, 48


def _square(i: int, w: int = W, h: int = H) -> np.ndarray:
    """Grey frame with an 8×8 white square whose x position is 2·i (mod w-8): a moving marker."""
    a = np.full((h, w, 3), 40, np.uint8)
    x = (2 * i) % (w - 8)
    a[10:18, x : x + 8] = 255
    return a


def _marker_x(img: np.ndarray) -> float:
    ys, xs = np.nonzero(img[..., 0] > 150)
    return float(xs.mean())


def _encode(
    path: Path,
    frames: list[np.ndarray],
    *,
    codec: str = "libx264",
    rate: int = 30,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    rotation: float | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Write ``frames`` with PyAV directly (independent of VideoWriter)."""
    c = av.open(str(path), "w", options=container_options or {})
    s = c.add_stream(codec, rate=rate)
    s.height, s.width = frames[0].shape[:2]
    s.pix_fmt = "yuv420p"
    if time_base is not None:
        s.codec_context.time_base = time_base
    if rotation is not None:
        s.set_display_rotation(rotation)
    for i, img in enumerate(frames):
        f = av.VideoFrame.from_ndarray(img, format="rgb24")
        if pts is not None:
            f.pts = pts[i]
            f.time_base = time_base
        for p in s.encode(f):
            c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    return path


def _noisy(n: int, seed: int = 0) -> list[np.ndarray]:
    """Incompressible frames, so that frame data (not headers) fills the file."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(n)]


def _cut(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


# ---------------------------------------------------------------- reading


def test_read_synthetic_video(tmp_path: Path) -> None:
    p = _encode(tmp_path / "sq.mp4", [_square(i) for i in range(60)])
    r = VideoReader(p)
    assert (r.width, r.height, r.rotation, r.codec) == (W, H, 0, "h264")
    assert r.fps == 30.0 and r.frame_count == 60 and r.duration == pytest.approx(2.0)
    frames = list(r)
    assert [f.index for f in frames] == list(range(60))
    np.testing.assert_allclose([f.time for f in frames], np.arange(60) / 30, atol=1e-9)
    assert all(isinstance(f, VideoFrame) and f.image.shape == (H, W, 3) and f.image.dtype == np.uint8 for f in frames)
    for i in (0, 7, 33, 59):
        assert _marker_x(frames[i].image) == pytest.approx((2 * i) % (W - 8) + 3.5, abs=1.0)
    # a second loop decodes again from the start
    assert len(list(r)) == 60
    r.close()


def test_variable_frame_rate_times_come_from_pts(tmp_path: Path) -> None:
    ms = [0, 33, 50, 120, 121, 300, 333, 400, 700, 701]
    p = _encode(
        tmp_path / "vfr.mp4", [_square(i) for i in range(len(ms))], pts=ms, time_base=Fraction(1, 1000)
    )
    times = [f.time for f in VideoReader(p)]
    np.testing.assert_allclose(times, np.array(ms) / 1000, atol=1e-9)


def test_times_are_relative_to_stream_start(tmp_path: Path) -> None:
    ms = [1000 + 40 * i for i in range(10)]
    p = _encode(tmp_path / "late.mkv", [_square(i) for i in range(10)], pts=ms, time_base=Fraction(1, 1000))
    times = [f.time for f in VideoReader(p)]  # complete file: no truncation error either
    np.testing.assert_allclose(times, np.arange(10) * 0.04, atol=1e-9)


@pytest.mark.parametrize(
    ("degrees", "size", "corner"),
    [
        # stored 64×48 with the marker top-left; display after rotating counter-clockwise by `degrees`
        (90, (48, 64), "bottom-left"),
        (-90, (48, 64), "top-right"),
        (180, (64, 48), "bottom-right"),
        (0, (64, 48), "top-left"),
    ],
)
def test_rotation_metadata_is_applied(tmp_path: Path, degrees: int, size: tuple[int, int], corner: str) -> None:
    stored = np.zeros((H, W, 3), np.uint8)
    stored[:8, :8] = 255
    p = _encode(tmp_path / "rot.mp4", [stored] * 3, rotation=degrees)
    r = VideoReader(p)
    assert r.rotation == degrees % 360
    assert (r.width, r.height) == size
    img = next(iter(r)).image
    assert img.shape == (size[1], size[0], 3) and img.flags.c_contiguous
    ys, xs = np.nonzero(img[..., 0] > 128)
    vertical = "top" if ys.mean() < img.shape[0] / 2 else "bottom"
    horizontal = "left" if xs.mean() < img.shape[1] / 2 else "right"
    assert f"{vertical}-{horizontal}" == corner


def test_rotation_matches_the_phone_rotate_90_convention(tmp_path: Path) -> None:
    """A portrait phone video (tag rotate=90) stores tkhd matrix (0, 1, 0, -1, 0, 0, ...) and must be
    turned 90° clockwise for display. Check the file we wrote has exactly that matrix, and that the
    reader turns it clockwise (top-left marker → top-right)."""
    stored = np.zeros((H, W, 3), np.uint8)
    stored[:8, :8] = 255
    p = _encode(tmp_path / "portrait.mp4", [stored] * 2, rotation=-90)
    data = p.read_bytes()
    i = data.index(b"tkhd")
    version = data[i + 4]
    off = i + 8 + (32 if version == 1 else 20) + 16
    a, b, _u, c, d, _v = struct.unpack(">6i", data[off : off + 24])
    assert (a, b, c, d) == (0, 1 << 16, -(1 << 16), 0)
    r = VideoReader(p)
    img = next(iter(r)).image
    assert r.rotation == 270 and img.shape == (W, H, 3)
    assert img[:8, -8:].mean() > 200 and img[:8, :8].mean() < 50


def test_avi_times_use_the_frame_index(tmp_path: Path) -> None:
    p = _encode(tmp_path / "x.avi", [_square(i) for i in range(12)], codec="mpeg4", rate=25)
    r = VideoReader(p)
    np.testing.assert_allclose([f.time for f in r], np.arange(12) / 25, atol=1e-9)


# ---------------------------------------------------------------- truncation


@pytest.mark.parametrize(
    ("name", "codec", "options", "thread_type"),
    [
        ("faststart.mp4", "mpeg4", {"movflags": "faststart"}, "AUTO"),  # FFmpeg stops silently
        ("faststart.mp4", "mpeg4", {"movflags": "faststart"}, "NONE"),  # FFmpeg raises mid-stream
        ("cut.mkv", "libx264", None, "AUTO"),
    ],
)
def test_truncated_video(tmp_path: Path, name: str, codec: str, options: dict[str, str] | None, thread_type: str) -> None:
    full = _encode(tmp_path / f"full_{name}", _noisy(30), codec=codec, container_options=options)
    assert len(list(VideoReader(full, thread_type=thread_type))) == 30  # the complete file is fine
    cut = _cut(full, tmp_path / name, 0.6)
    reader = VideoReader(cut, thread_type=thread_type)
    got: list[VideoFrame] = []
    with pytest.raises(TruncatedInputError) as e:
        for f in reader:
            got.append(f)
    assert 0 < e.value.frames_read == len(got) < 30
    assert [f.index for f in got] == list(range(len(got)))
    msg = str(e.value)
    assert name in msg and f"decoding stopped at frame {len(got)}" in msg


def test_mp4_cut_before_its_index(tmp_path: Path) -> None:
    full = _encode(tmp_path / "full.mp4", _noisy(10))  # moov box at the end (no faststart)
    cut = _cut(full, tmp_path / "recording.mp4", 0.6)
    with pytest.raises(InputError) as e:
        VideoReader(cut)
    assert "recording.mp4" in str(e.value)
    assert "cut short" in str(e.value) and "moov" in str(e.value)


def test_mpegts_has_no_declared_length(tmp_path: Path) -> None:
    """Documented limit: MPEG-TS declares no duration, so a cut .ts reads as a shorter complete file."""
    full = _encode(tmp_path / "full.ts", _noisy(30))
    cut = _cut(full, tmp_path / "cut.ts", 0.6)
    n = len(list(VideoReader(cut)))
    assert 0 < n < 30


# ---------------------------------------------------------------- bad inputs


def test_missing_dir_and_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.mp4: does not exist"):
        VideoReader(tmp_path / "nope.mp4")
    (tmp_path / "d.mp4").mkdir()
    with pytest.raises(InputError, match="d.mp4: is a folder"):
        VideoReader(tmp_path / "d.mp4")
    (tmp_path / "e.mp4").touch()
    with pytest.raises(InputError, match=r"e.mp4: is empty \(0 bytes\)"):
        VideoReader(tmp_path / "e.mp4")


def test_text_file_is_not_media(tmp_path: Path) -> None:
    p = tmp_path / "notes.mp4"
    p.write_text("definitely not a video\n" * 100)
    with pytest.raises(InputError) as e:
        VideoReader(p)
    assert type(e.value) is InputError
    assert "notes.mp4: cannot be opened as media" in str(e.value)


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    p = tmp_path / "voice.m4a"
    c = av.open(str(p), "w")
    s = c.add_stream("aac", rate=44100)
    for i in range(20):
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate = 44100
        fr.pts = i * 1024
        for pk in s.encode(fr):
            c.mux(pk)
    for pk in s.encode():
        c.mux(pk)
    c.close()
    with pytest.raises(InputError, match=r"voice.m4a: contains no video stream \(only audio\)"):
        VideoReader(p)


def test_frame_size_limit(tmp_path: Path) -> None:
    p = _encode(tmp_path / "big.mp4", [_square(0)] * 2)
    with pytest.raises(InputError) as e:
        VideoReader(p, max_pixels=1000)
    assert "big.mp4" in str(e.value) and "64×48 = 3072 pixels" in str(e.value) and "limit of 1000" in str(e.value)


def test_missing_webcam() -> None:
    assert not Path("/dev/video99").exists()
    with pytest.raises(InputError) as e:
        VideoReader.webcam(99)
    assert str(e.value) == "webcam 99: no camera device /dev/video99"


# ---------------------------------------------------------------- writing


def test_write_video_round_trip(tmp_path: Path) -> None:
    out = write_video(tmp_path / "out.mp4", (_square(i) for i in range(45)), fps=30)
    assert out == tmp_path / "out.mp4" and [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    r = VideoReader(out)
    assert (r.width, r.height, r.fps, r.frame_count, r.codec) == (W, H, 30.0, 45, "h264")
    frames = list(r)
    np.testing.assert_allclose([f.time for f in frames], np.arange(45) / 30, atol=1e-6)
    for f in frames:
        assert _marker_x(f.image) == pytest.approx((2 * f.index) % (W - 8) + 3.5, abs=1.0)
        assert np.abs(f.image.astype(int) - _square(f.index).astype(int)).mean() < 4


@pytest.mark.parametrize(("ext", "codec"), [(".avi", "mpeg4"), (".webm", "vp9"), (".mkv", "h264"), (".mov", "h264")])
def test_write_other_containers(tmp_path: Path, ext: str, codec: str) -> None:
    out = write_video(tmp_path / f"o{ext}", [_square(i) for i in range(10)], fps=25)
    r = VideoReader(out)
    assert r.codec == codec and len(list(r)) == 10 and r.fps == 25.0


def test_write_mpeg4_when_asked(tmp_path: Path) -> None:
    out = write_video(tmp_path / "m.mp4", [_square(i) for i in range(10)], fps=30, codec="mpeg4")
    assert VideoReader(out).codec == "mpeg4"


def test_writer_keeps_variable_frame_times(tmp_path: Path) -> None:
    times = [0.0, 0.033, 0.05, 0.12, 0.3, 0.301, 0.7]
    frames = [VideoFrame(i, t, _square(i)) for i, t in enumerate(times)]
    out = write_video(tmp_path / "vfr.mp4", frames, fps=30)
    np.testing.assert_allclose([f.time for f in VideoReader(out)], times, atol=1e-4)


def test_writer_pads_odd_sizes(tmp_path: Path) -> None:
    img = np.zeros((47, 63, 3), np.uint8)
    img[:, :10] = 255
    out = write_video(tmp_path / "odd.mp4", [img] * 3, fps=10)
    r = VideoReader(out)
    assert (r.width, r.height) == (64, 48)
    f = next(iter(r)).image
    assert f[:47, :9].mean() > 240 and f[:47, 12:63].mean() < 15


def test_writer_error_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "partial.mp4"
    with pytest.raises(RuntimeError, match="stop"), VideoWriter(target, fps=30) as w:
        for i in range(5):
            w.write(_square(i))
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_writer_error_keeps_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"old")
    with pytest.raises(ValidationError), VideoWriter(target, fps=30) as w:
        w.write(_square(0))
        w.write(np.zeros((10, 10, 3), np.uint8))  # size change
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]


def test_writer_never_closed_leaves_no_file(tmp_path: Path) -> None:
    w = VideoWriter(tmp_path / "forgotten.mp4", fps=30)
    w.write(_square(0))
    del w
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_writer_validation(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="no frames were written"), VideoWriter(tmp_path / "empty.mp4", fps=30):
        pass
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError, match="unsupported video extension '.gif'"):
        VideoWriter(tmp_path / "x.gif", fps=30)
    with pytest.raises(OutputError, match="folder does not exist"):
        VideoWriter(tmp_path / "missing" / "x.mp4", fps=30)
    with pytest.raises(ValueError, match="fps"):
        VideoWriter(tmp_path / "x.mp4", fps=0)
    w = VideoWriter(tmp_path / "x.mp4", fps=30)
    with pytest.raises(ValidationError, match="uint8"):
        w.write(np.zeros((48, 64, 3), np.float32))
    w.write(_square(0), time=0.5)
    with pytest.raises(ValidationError, match="increase"):
        w.write(_square(1), time=0.5)
    w.abort()
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- sources


def test_source_classification(tmp_path: Path) -> None:
    img = tmp_path / "pic.png"
    Image.fromarray(_square(0)).save(img)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (10, 2, 1):
        Image.fromarray(_square(i)).save(folder / f"f{i}.jpg")
    vid = write_video(tmp_path / "clip.mp4", [_square(i) for i in range(6)], fps=12)

    s = open_source(img)
    assert (s.kind, s.path, s.frame_count, s.fps) == ("image", img, 1, None)
    (fr,) = list(s.frames())
    assert isinstance(fr, SourceFrame) and fr.index == 0 and fr.time is None and fr.name == "pic.png"
    np.testing.assert_array_equal(fr.image, _square(0))

    s = open_source(str(folder))
    assert s.kind == "images" and s.frame_count == 3
    got = list(s.frames())
    assert [(f.index, f.time, f.name) for f in got] == [(0, None, "f1.jpg"), (1, None, "f2.jpg"), (2, None, "f10.jpg")]
    assert _marker_x(got[2].image) == pytest.approx(23.5, abs=1.0)

    with open_source(vid) as s:
        assert s.kind == "video" and s.fps == 12.0 and s.frame_count == 6 and s.reader is not None
        got = list(s.frames())
    assert [f.name for f in got[:2]] == ["clip_000000", "clip_000001"]
    np.testing.assert_allclose([f.time for f in got], np.arange(6) / 12, atol=1e-6)


@pytest.mark.parametrize("spec", [99, "99", " 99 ", "/dev/video99", Path("/dev/video99")])
def test_source_webcam_specs(spec: object) -> None:
    with pytest.raises(InputError, match=r"^webcam 99: no camera device /dev/video99$"):
        open_source(spec)  # type: ignore[arg-type]


def test_source_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="ghost.mp4: does not exist"):
        open_source(tmp_path / "ghost.mp4")
    doc = tmp_path / "report.xyz"
    doc.write_text("x")
    with pytest.raises(InputError) as e:
        open_source(doc)
    msg = str(e.value)
    assert "report.xyz: unsupported file type '.xyz' (supported images: .jpg" in msg and "videos: .mp4" in msg
    bare = tmp_path / "README"
    bare.write_text("x")
    with pytest.raises(InputError, match="README: unsupported file without an extension"):
        open_source(bare)
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    with pytest.raises(InputError, match="folder contains no images"):
        open_source(empty)
    fake = tmp_path / "fake.mov"
    fake.write_text("not a movie" * 50)
    with pytest.raises(InputError, match="fake.mov: cannot be opened as media"):
        open_source(fake)
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    s = open_source(bad)  # images are read lazily
    with pytest.raises(InputError, match="bad.jpg: is not a readable image"):
        list(s.frames())
    with pytest.raises(TypeError):
        open_source(True)  # type: ignore[arg-type]


def test_video_extensions_constant() -> None:
    assert set(VIDEO_EXTENSIONS) == {
        ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp"
    }


# ---------------------------------------------------------------- real recordings


@pytest.mark.integration
def test_real_mmpose_demo(data_dir: Path) -> None:
    r = VideoReader(data_dir / "5_plain_videos/mmpose/demo/resources/demo.mp4")
    assert (r.width, r.height, r.fps, r.frame_count, r.rotation) == (960, 540, 5.0, 5, 0)
    frames = list(r)
    assert len(frames) == 5
    times = np.array([f.time for f in frames])
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    np.testing.assert_allclose(times, np.arange(5) * 0.2, atol=1e-6)
    assert all(f.image.shape == (540, 960, 3) for f in frames)
    assert frames[0].image.std() > 20  # a real picture, not a blank frame


@pytest.mark.integration
def test_real_sports2d_demo(data_dir: Path) -> None:
    s = open_source(data_dir / "5_plain_videos/sports2d/Sports2D/Demo/demo.mp4")
    assert s.kind == "video" and s.reader is not None
    assert (s.reader.width, s.reader.height, s.fps, s.frame_count) == (1768, 994, 30.0, 230)
    times = [f.time for f in s.frames()]
    assert len(times) == 230
    np.testing.assert_allclose(np.diff(times), 1 / 30, atol=1e-6)
