"""The review page's seek proxy (posekit.review.proxy): same frames as the original, short GOPs, segments
built where the reviewer looks first, kept and partial proxies reused, fallbacks.

Videos are synthesised in ``tmp_path`` with PyAV (x264 default: one key frame for the whole clip).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from posekit.errors import InputError
from posekit.review.fixtures import synthetic_video_project
from posekit.review import proxy as proxy_mod
from posekit.review.project import _open_proxy, _VideoFrames, open_project
from posekit.review.proxy import PROXY_GOP, SEGMENT_FRAMES, Activity, ProxyBuild, proxy_name
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


def _build(video: Path, folder: Path | None = None, **kw) -> tuple[_VideoFrames, ProxyBuild]:  # noqa: ANN003
    vf = _VideoFrames(video)
    b = ProxyBuild(video, vf.pts, folder, open_reader=_open_proxy, **kw).start()
    assert b.wait(60)
    return vf, b


def _segments(b: ProxyBuild) -> list[str]:
    assert b.path is not None
    return sorted(f.name for f in b.path.iterdir() if f.suffix == ".mp4")


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("rotation", [None, 90, -90, 180])
def test_proxy_frame_i_is_original_frame_i(tmp_path: Path, rotation: float | None) -> None:
    """40 frames in segments of 16 (16 + 16 + 8): frame i of segment s is original frame 16 s + i, across
    the segment boundaries too."""
    v = _encode(tmp_path / "clip.mp4", _frames(40), rotation=rotation)
    vf, b = _build(v, segment_frames=16)
    assert b.state == "ready", b.error
    r = b.reader
    assert len(r) == len(vf) == 40 and b.segments_done == b.num_segments == 3
    if rotation in (90, -90):
        assert (vf.width, vf.height) == (96, 128)  # display orientation: the proxy is stored upright
    assert _segments(b) == ["seg-000000.mp4", "seg-000001.mp4", "seg-000002.mp4"]
    for name, n in zip(_segments(b), (16, 16, 8)):
        with av.open(str(b.path / name)) as c:
            s = c.streams.video[0]
            keys = [i for i, p in enumerate(c.demux(s)) if p.is_keyframe]
            cc = s.codec_context
            assert cc.name == "h264" and (cc.width, cc.height) == (vf.width, vf.height)
        assert keys == list(range(0, n, PROXY_GOP))
    for i in (0, 1, 17, 39, 8, 7, 25, 15, 16, 31, 32):  # random order, across segments: jumps through the proxy
        orig = vf.rgb(i)
        assert _mad(r.rgb(i), orig) < 2.0, i
        for j in (i - 1, i + 1):  # and clearly not a neighbour
            if 0 <= j < 40:
                assert _mad(r.rgb(j), orig) > 2.5, (i, j)
    assert r.rgb(40) is None
    b.close()
    vf.close()
    assert r.rgb(3) is None  # closed
    assert not b.path.parent.exists()  # temporary folder removed


def test_project_serves_from_the_proxy_once_ready(tmp_path: Path) -> None:
    v, a = synthetic_video_project(tmp_path / "v", frames=30)
    p = open_project(v, a)
    direct = [p._video.rgb(i) for i in range(30)]
    b = p.start_proxy()
    assert b is not None and p.start_proxy() is b  # once per project
    assert b.segment_frames == SEGMENT_FRAMES and b.num_segments == 1
    assert b.wait(60) and b.state == "ready" and b.frames_done == 30
    assert p._video._c is None  # the original's decoder was released
    for i in (29, 3, 11, 12, 0):
        assert _mad(p._video_rgb(i), direct[i]) < 2.0
    assert p.jpeg(5)[:2] == b"\xff\xd8"
    assert p.seek_status() == {"state": "ready", "done": 30, "total": 30, "segments_done": 1, "segments_total": 1}
    p.close()
    assert not b.path.exists()


def test_segment_of_the_requested_frame_is_built_first(tmp_path: Path) -> None:
    """A video of 5 default segments (the last one 10 frames): the page asks for a frame of segment 3
    while the build waits for the request; the build starts with segment 3, and the status says so."""
    n = SEGMENT_FRAMES
    v, a = synthetic_video_project(tmp_path / "v", frames=4 * n + 10, width=64, height=48)
    p = open_project(v, a)
    seen: list[tuple[dict, bool, bool]] = []
    with p._activity:  # a request in flight: the build waits before choosing its first segment
        b = p.start_proxy()
        assert b is not None and b.num_segments == 5
        b._on_segment = lambda s: seen.append((p.seek_status(), b.reader.has(3 * n + 5), b.reader.has(0)))
        p.jpeg(3 * n + 5)
        assert not b.wait(0.2) and b.order == []
    assert b.wait(60) and b.state == "ready", b.error
    assert b.order[0] == 3 and sorted(b.order) == [0, 1, 2, 3, 4]
    first, has_it, has_0 = seen[0]
    assert first["state"] == "building" and (first["segments_done"], first["segments_total"]) == (1, 5)
    assert (first["done"], first["total"]) == (n, 4 * n + 10) and has_it and not has_0
    p.close()


def test_build_order_follows_the_latest_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments of 16 frames, neighbours within 16 frames: the requested frame's segment, its neighbours
    (nearest first), the queue's segments, then the rest in order from there; a request in the middle of
    the build takes effect once the current segment is finished."""
    monkeypatch.setattr(proxy_mod, "NEIGHBOUR_FRAMES", 16)
    v = _encode(tmp_path / "clip.mp4", _frames(100))  # segments 0-6, the last one 4 frames
    vf = _VideoFrames(v)
    act = Activity()
    with act:
        b = ProxyBuild(v, vf.pts, None, open_reader=_open_proxy, pause=act.wait_idle, segment_frames=16,
                       queue=[20]).start()  # fmt: skip
        b.request(70)  # segment 4 (64-79); 3 is 7 frames away, 5 is 10
    assert b.wait(60) and b.state == "ready", b.error
    assert b.order == [4, 3, 5, 1, 2, 6, 0]
    b.close()

    def jump(s: int) -> None:
        if s == 4:
            b2.request(99)  # the reviewer jumps to the last frames while segment 4 is being built

    b2 = ProxyBuild(v, vf.pts, None, open_reader=_open_proxy, segment_frames=16, on_segment=jump)
    b2.request(70)
    b2.start()
    assert b2.wait(60) and b2.state == "ready", b2.error
    assert b2.order == [4, 6, 5, 0, 1, 2, 3]
    for i in (99, 70, 64, 63, 0):
        assert _mad(b2.reader.rgb(i), vf.rgb(i)) < 2.0, i
    b2.close()
    vf.close()


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


@pytest.mark.parametrize("segment", [SEGMENT_FRAMES, 8])
def test_damaged_video_behaves_as_before(tmp_path: Path, segment: int) -> None:
    """A zeroed block mid-file: each segment holds its frames up to the break; the frames after it come
    from the original as they did without a proxy (the undecodable one with a clear error)."""
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
    b = p.start_proxy(segment_frames=segment)
    assert b.wait(60) and b.state == "ready", b.error
    held = [i for i in range(30) if b.reader.has(i)]
    assert 0 < len(held) < 30 and not any(b.reader.has(i) for i in errors)
    assert held[: first_error] == list(range(first_error))  # up to the break
    if segment == SEGMENT_FRAMES:
        assert len(b.reader) == first_error  # one segment: as the one-file proxy
    else:
        assert held[-1] == 29  # later segments (built after a seek past the damage) serve their frames
    with_proxy = _outcomes(p._video_rgb, 30)
    for i, (x, y) in enumerate(zip(plain, with_proxy)):
        if isinstance(x, str):
            assert y == "error", i
        else:
            assert not isinstance(y, str) and _mad(x, y) < 8.0, i  # noise frames: x264 noise is larger
    assert p.seek_status()["done"] == len(held) < 30
    p.close()


def test_truncated_video_keeps_its_frames(tmp_path: Path) -> None:
    full = _encode(tmp_path / "full.mkv", _frames(30))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])
    vf, b = _build(cut, segment_frames=8)
    assert b.state == "ready" and 8 < len(b.reader) == len(vf) < 30
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
    assert b.state == "failed" and len(b.reader) == 0 and "not-a-folder" in (b.error or "")
    c = TestClient(create_app(svc, TOKEN), base_url="http://127.0.0.1")
    seek = c.get("/api/project", headers={"X-Posekit-Token": TOKEN}).json()["seek"]
    assert seek["state"] == "failed" and "not-a-folder" in seek["error"] and seek["total"] == 12
    for i in (11, 2, 7):
        r = c.get(f"/api/frames/{i}/image", headers={"X-Posekit-Token": TOKEN})
        assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    svc.store.close()
    svc.project.close()


def test_failure_mid_build_keeps_finished_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder fails on the second segment (say, a full disk): the build fails, the first segment
    keeps serving and the other frames come from the original."""
    v, a = synthetic_video_project(tmp_path / "v", frames=40, width=64, height=48)
    p = open_project(v, a)
    direct = [p._video.rgb(i) for i in range(40)]
    real = proxy_mod._open_output
    calls = []

    def failing(dst, first):  # noqa: ANN001, ANN202
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(dst, first)

    monkeypatch.setattr(proxy_mod, "_open_output", failing)
    b = p.start_proxy(segment_frames=16)
    assert b.wait(60) and b.state == "failed" and "No space left" in (b.error or "")
    assert b.order == [0] and b.frames_done == 16 and not any(f.suffix == ".part" for f in b.path.iterdir())
    st = p.seek_status()
    assert (st["state"], st["done"], st["segments_done"], st["segments_total"]) == ("failed", 16, 1, 3)
    for i in (3, 20, 39, 15, 16):
        assert b.reader.has(i) == (i < 16)
        assert _mad(p._video_rgb(i), direct[i]) < 2.0, i
    p.close()


def test_kept_proxy_is_reused(tmp_path: Path) -> None:
    v = _encode(tmp_path / "clip.mp4", _frames(20))
    keep = tmp_path / "cache"
    vf, b = _build(v, keep, segment_frames=8)
    assert b.state == "ready" and b.seconds and b.seconds > 0 and b.reused == []
    assert b.path == keep / proxy_name(v, 8) != keep / proxy_name(v)  # the segment size is part of the name
    assert [f.name for f in keep.iterdir()] == [b.path.name]
    assert sorted(f.name for f in b.path.iterdir()) == ["manifest.json", *_segments(b)]  # no .part left
    assert len(_segments(b)) == 3
    b.close()
    assert b.path.is_dir() and len(_segments(b)) == 3  # a given folder is kept
    _, b2 = _build(v, keep, segment_frames=8)
    assert b2.state == "ready" and b2.seconds == 0.0 and b2.path == b.path and sorted(b2.reused) == [0, 1, 2]
    assert b2.order == [] and len(b2.reader) == 20
    for i in (19, 0, 8, 7):
        assert _mad(b2.reader.rgb(i), vf.rgb(i)) < 2.0
    b2.close()
    (b.path / "seg-000001.mp4").write_bytes(b"damaged")  # a damaged kept segment is rebuilt
    _, b3 = _build(v, keep, segment_frames=8)
    assert b3.state == "ready" and b3.seconds and b3.seconds > 0 and sorted(b3.reused) == [0, 2] and b3.order == [1]
    assert len(b3.reader) == 20 and _mad(b3.reader.rgb(9), vf.rgb(9)) < 2.0
    b3.close()
    # a complete MP4 of the right size but the wrong frames (segment 2's 4 frames as segment 1): reused,
    # dropped when opened (its frames then come from the original) and removed, so the next session rebuilds it
    import json

    def wrong_frames() -> None:
        (b.path / "seg-000001.mp4").write_bytes((b.path / "seg-000002.mp4").read_bytes())
        m = json.loads((b.path / "manifest.json").read_text())
        m["segments"]["1"]["bytes"] = (b.path / "seg-000001.mp4").stat().st_size
        (b.path / "manifest.json").write_text(json.dumps(m))

    wrong_frames()
    _, b5 = _build(v, keep, segment_frames=8)
    assert b5.state == "ready" and sorted(b5.reused) == [0, 1, 2] and b5.reader.has(9)
    assert b5.reader.rgb(9) is None and not b5.reader.has(9) and len(b5.reader) == 12
    assert not (b.path / "seg-000001.mp4").exists()
    b5.close()
    _, b6 = _build(v, keep, segment_frames=8)
    assert b6.order == [1] and _mad(b6.reader.rgb(9), vf.rgb(9)) < 2.0
    b6.close()
    wrong_frames()  # found out while the build still runs (here: all reused, waiting for a request): rebuilt at once
    act = Activity()
    with act:
        b8 = ProxyBuild(v, vf.pts, keep, open_reader=_open_proxy, pause=act.wait_idle, segment_frames=8).start()
        for _ in range(500):
            if b8.segments_done == 3:
                break
            time.sleep(0.01)
        assert b8.segments_done == 3 and b8.reader.rgb(9) is None and b8.state == "building"
    assert b8.wait(60) and b8.state == "ready", b8.error
    assert b8.order == [1] and _mad(b8.reader.rgb(9), vf.rgb(9)) < 2.0
    b8.close()
    _, b4 = _build(v, keep, segment_frames=16)  # another segment size: another proxy
    assert b4.state == "ready" and b4.reused == [] and sorted(b4.order) == [0, 1] and b4.path != b.path
    b4.close()
    m = json.loads((b.path / "manifest.json").read_text())
    m["segment_frames"] = 16
    (b.path / "manifest.json").write_text(json.dumps(m))  # a manifest of other settings: not reused
    _, b7 = _build(v, keep, segment_frames=8)
    assert b7.reused == [] and sorted(b7.order) == [0, 1, 2]
    b7.close()
    vf.close()


def test_interrupted_kept_proxy_goes_on_where_it_stopped(tmp_path: Path) -> None:
    """A session ends after two segments: the next one reuses them (file size and frame count checked)
    and builds only the others; a part left by a dead process is removed, a stray segment file the
    manifest does not list is rebuilt."""
    import subprocess
    import sys

    v = _encode(tmp_path / "clip.mp4", _frames(40))
    keep = tmp_path / "cache"
    vf = _VideoFrames(v)

    def stop_after_two(s: int) -> None:
        if len(b.order) == 2:
            b._stop.set()

    b = ProxyBuild(v, vf.pts, keep, open_reader=_open_proxy, segment_frames=8, on_segment=stop_after_two)
    b.request(20)  # segment 2, then 1 or 3
    assert b.start().wait(60) and b.state == "stopped" and len(b.order) == 2 and b.order[0] == 2
    first = list(b.order)
    b.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = b.path / f"seg-000004.mp4.{int(dead.stdout)}-1.part"
    stale.write_bytes(b"half")
    other = next(s for s in range(5) if s not in first)
    (b.path / f"seg-{other:06d}.mp4").write_bytes(b"not in the manifest")
    _, b2 = _build(v, keep, segment_frames=8)
    assert b2.state == "ready", b2.error
    assert sorted(b2.reused) == sorted(first) and sorted(b2.order) == sorted(set(range(5)) - set(first))
    assert not stale.exists() and len(b2.reader) == 40
    for i in range(0, 40, 3):
        assert _mad(b2.reader.rgb(i), vf.rgb(i)) < 2.0, i
    b2.close()
    vf.close()


def test_close_stops_the_build(tmp_path: Path) -> None:
    v, a = synthetic_video_project(tmp_path / "v", frames=30)
    p = open_project(v, a)
    with p._activity:  # a frame request in flight: the build waits before its first frame
        b = p.start_proxy()
        assert not b.wait(0.3) and b.state == "building" and b.frames_done == 0
        p.close()
    assert not b._thread.is_alive() and b.state == "stopped" and b.frames_done == 0
    assert b._tmpdir is not None and not b._tmpdir.exists()


def test_close_stops_the_build_between_segments(tmp_path: Path) -> None:
    """close() during a multi-segment build: the thread ends, no further segment is built, the
    temporary folder is removed."""
    v = _encode(tmp_path / "clip.mp4", _frames(64))
    vf = _VideoFrames(v)
    gate = threading.Event()

    def slow(stop) -> None:  # noqa: ANN001 - the build waits here until the gate opens or it is stopped
        while not gate.wait(0.02) and not stop.is_set():
            pass

    b = ProxyBuild(v, vf.pts, None, open_reader=_open_proxy, pause=slow, segment_frames=8,
                   on_segment=lambda s: gate.clear()).start()  # fmt: skip
    gate.set()
    while not b.order and b._thread.is_alive():
        time.sleep(0.01)
    b.close(timeout=10)
    assert not b._thread.is_alive() and b.state == "stopped" and len(b.order) == 1
    assert b._tmpdir is not None and not b._tmpdir.exists()
    vf.close()


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
