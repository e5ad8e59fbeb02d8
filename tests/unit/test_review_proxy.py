"""The review page's seek proxy (posekit.review.proxy): same frames as the original, short GOPs, fallbacks.

Videos are synthesised in ``tmp_path`` with PyAV (x264 default: one key frame for the whole clip).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from posekit.errors import InputError
from posekit.review.fixtures import synthetic_video_project
from posekit.review.project import _VideoFrames, open_project
from posekit.review.proxy import PROXY_GOP, ProxyBuild, proxy_name
from posekit.review.server import build_service, create_app

TOKEN = "proxy-test"


def _frames(n: int, h: int = 96, w: int = 128) -> list[np.ndarray]:
    """Smooth frames that differ from one to the next (a moving block, a changing blue level)."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for i in range(n):
        a = np.zeros((h, w, 3), np.uint8)
        a[..., 0] = xx * 255 // (w - 1)
        a[..., 1] = yy * 255 // (h - 1)
        a[..., 2] = (i * 9) % 256
        x = (3 * i) % (w - 16)
        a[8:24, x : x + 16] = 255
        out.append(a)
    return out


def _encode(path: Path, frames: list[np.ndarray], *, codec: str = "libx264", rotation: float | None = None,
            options: dict[str, str] | None = None) -> Path:  # fmt: skip
    c = av.open(str(path), "w", options=options or {})
    s = c.add_stream(codec, rate=30)
    s.height, s.width = frames[0].shape[:2]
    s.pix_fmt = "yuv420p"
    if rotation is not None:
        s.set_display_rotation(rotation)
    for img in frames:
        for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    return path


def _build(video: Path, folder: Path | None = None) -> tuple[_VideoFrames, ProxyBuild]:
    vf = _VideoFrames(video)
    b = ProxyBuild(video, vf.pts, folder, open_reader=_VideoFrames).start()
    assert b.wait(60)
    return vf, b


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("rotation", [None, 90, -90, 180])
def test_proxy_frame_i_is_original_frame_i(tmp_path: Path, rotation: float | None) -> None:
    v = _encode(tmp_path / "clip.mp4", _frames(40), rotation=rotation)
    vf, b = _build(v)
    assert b.state == "ready", b.error
    r = b.reader
    assert len(r) == len(vf) == 40 and (r.width, r.height) == (vf.width, vf.height)
    if rotation in (90, -90):
        assert (vf.width, vf.height) == (96, 128)  # display orientation: the proxy is stored upright
    with av.open(str(b.path)) as c:
        s = c.streams.video[0]
        keys = [i for i, p in enumerate(c.demux(s)) if p.is_keyframe]
        assert s.codec_context.name == "h264"
    assert keys == list(range(0, 40, PROXY_GOP))
    for i in (0, 1, 17, 39, 8, 7, 25):  # random order: jumps through the proxy
        orig = vf.rgb(i)
        assert _mad(r.rgb(i), orig) < 2.0, i
        for j in (i - 1, i + 1):  # and clearly not a neighbour
            if 0 <= j < 40:
                assert _mad(r.rgb(j), orig) > 2.5, (i, j)
    b.close()
    vf.close()
    assert not b.path.parent.exists()  # temporary folder removed


def test_project_serves_from_the_proxy_once_ready(tmp_path: Path) -> None:
    v, a = synthetic_video_project(tmp_path / "v", frames=30)
    p = open_project(v, a)
    direct = [p._video.rgb(i) for i in range(30)]
    b = p.start_proxy()
    assert b is not None and p.start_proxy() is b  # once per project
    assert b.wait(60) and b.state == "ready" and b.frames_done == 30
    assert p._video._c is None  # the original's decoder was released
    for i in (29, 3, 11, 12, 0):
        assert _mad(p._video_rgb(i), direct[i]) < 2.0
    assert p.jpeg(5)[:2] == b"\xff\xd8"
    p.close()
    assert not b.path.exists()


def test_image_project_has_no_proxy(tmp_path: Path) -> None:
    from posekit.review.fixtures import synthetic_image_project

    d, a = synthetic_image_project(tmp_path / "i")
    assert open_project(d, a).start_proxy() is None


def _outcomes(get, n: int) -> list[np.ndarray | str]:
    out: list[np.ndarray | str] = []
    for i in range(n):
        try:
            out.append(get(i))
        except InputError as exc:
            assert "could not be decoded" in str(exc) and "bad.mp4" in str(exc)
            out.append("error")
    return out


def test_damaged_video_behaves_as_before(tmp_path: Path) -> None:
    """A zeroed block mid-file: the proxy holds the frames before the break; later frames come from the
    original as they did without a proxy (the undecodable one with a clear error)."""
    rng = np.random.default_rng(0)
    full = _encode(tmp_path / "full.mp4", [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(30)],
                   codec="mpeg4", options={"movflags": "faststart"})  # fmt: skip
    data = bytearray(full.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 3000] = bytes(3000)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    plain = _outcomes(_VideoFrames(bad).rgb, 30)
    errors = [i for i, x in enumerate(plain) if isinstance(x, str)]
    assert errors and errors[-1] < 29  # the damage shows, and frames after it decode (else this tests nothing)
    first_error = errors[0]
    v, a = synthetic_video_project(tmp_path / "p", frames=30, width=128, height=96)
    p = open_project(v, a)
    p._video.close()
    p._video = _VideoFrames(bad)
    b = p.start_proxy()
    assert b.wait(60) and b.state == "ready", b.error
    assert 0 < len(b.reader) == first_error < 30
    with_proxy = _outcomes(p._video_rgb, 30)
    for i, (x, y) in enumerate(zip(plain, with_proxy)):
        if isinstance(x, str):
            assert y == "error", i
        else:
            assert not isinstance(y, str) and _mad(x, y) < 8.0, i  # noise frames: x264 noise is larger
    p.close()


def test_truncated_video_keeps_its_frames(tmp_path: Path) -> None:
    full = _encode(tmp_path / "full.mkv", _frames(30))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])
    vf, b = _build(cut)
    assert b.state == "ready" and 0 < len(b.reader) == len(vf) < 30
    for i in range(len(vf)):
        assert _mad(b.reader.rgb(i), vf.rgb(i)) < 2.0
    b.close()


def test_unwritable_proxy_folder_falls_back_to_the_original(tmp_path: Path) -> None:
    v, a = synthetic_video_project(tmp_path / "v", frames=12)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    svc = build_service(v, a, db=tmp_path / "s.sqlite", run_checks=False, proxy_dir=blocker / "proxy")
    b = svc.project.proxy
    assert b is not None and b.wait(30)
    assert b.state == "failed" and b.reader is None and "not-a-folder" in (b.error or "")
    c = TestClient(create_app(svc, TOKEN), base_url="http://127.0.0.1")
    seek = c.get("/api/project", headers={"X-Posekit-Token": TOKEN}).json()["seek"]
    assert seek["state"] == "failed" and "not-a-folder" in seek["error"] and seek["total"] == 12
    for i in (11, 2, 7):
        r = c.get(f"/api/frames/{i}/image", headers={"X-Posekit-Token": TOKEN})
        assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    svc.store.close()
    svc.project.close()


def test_kept_proxy_is_reused(tmp_path: Path) -> None:
    v = _encode(tmp_path / "clip.mp4", _frames(20))
    keep = tmp_path / "cache"
    vf, b = _build(v, keep)
    assert b.state == "ready" and b.seconds and b.seconds > 0
    assert b.path == keep / proxy_name(v) and [f.name for f in keep.iterdir()] == [b.path.name]  # no .part left
    b.close()
    assert b.path.is_file()  # a given folder is kept
    _, b2 = _build(v, keep)
    assert b2.state == "ready" and b2.seconds == 0.0 and b2.path == b.path
    b2.close()
    b.path.write_bytes(b"damaged")  # a damaged kept proxy is rebuilt
    _, b3 = _build(v, keep)
    assert b3.state == "ready" and b3.seconds and b3.seconds > 0 and len(b3.reader) == 20
    b3.close()
    vf.close()


def test_close_stops_the_build(tmp_path: Path) -> None:
    v, a = synthetic_video_project(tmp_path / "v", frames=30)
    p = open_project(v, a)
    with p._activity:  # a frame request in flight: the build waits before its first frame
        b = p.start_proxy()
        assert not b.wait(0.3) and b.state == "building" and b.frames_done == 0
        p.close()
    assert not b._thread.is_alive() and b.state == "stopped" and b.reader is None
    assert b._tmpdir is not None and not b._tmpdir.exists()


def test_build_waits_for_requests_then_goes_on(tmp_path: Path) -> None:
    v, a = synthetic_video_project(tmp_path / "v", frames=20)
    p = open_project(v, a)
    with p._activity:
        b = p.start_proxy()
        assert not b.wait(0.2) and b.frames_done == 0
    assert b.wait(60) and b.state == "ready" and b.frames_done == 20
    p.close()


def test_left_over_temporary_folders_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / "tmp" / f"posekit-review-proxy-{int(dead.stdout)}-abc"  # a killed session's folder
    alive = tmp_path / "tmp" / "posekit-review-proxy-1-abc"  # pid 1 runs
    for d in (stale, alive):
        d.mkdir()
        (d / "x.proxy.mp4").write_bytes(b"x")
    v = _encode(tmp_path / "clip.mp4", _frames(10))
    vf, b = _build(v)
    assert b.state == "ready" and b.path.parent.parent == tmp_path / "tmp"
    assert not stale.exists() and alive.exists()
    b.close()
    vf.close()
