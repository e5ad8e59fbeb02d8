"""Review page: frame switch time at 1080p (with and without the seek proxy) and edit round-trip latency.

    python benchmarks/review.py [--write docs/benchmarks.md] [--frames 300] [--steps 90] [--jumps 40] [--edits 300]

* **frame switch**: a synthetic 1920x1080 H.264 video (moving textured content, 30 fps, key frame every
  250 frames as x264 writes by default; 300 frames so random jumps meet a whole key-frame interval), and
  the Sports2D demo video (1768x994 VP9, real footage, 230 frames) when the shared data is present
  (``$POSEKIT_TEST_DATA``). Server side: decode + JPEG encode of an uncached frame, stepping back, stepping
  forward and jumping to random frames. HTTP: what the page does on a switch (GET of the JPEG and of the
  poses from a real uvicorn server on loopback), uncached. Each measured three ways: *no proxy* (frames
  from the original video), *during the proxy build* (one client jumping and editing while
  :mod:`posekit.review.proxy` re-encodes the video in the background; only requests that finished before
  the build did count) and *proxy ready*. Also: the proxy's build time (frames/s on an idle server), its
  size (and what 10 min of 1080p would take, against an all-intra store of the served JPEGs) and how far its
  frames are from the original's (mean absolute RGB difference). Target ≤ 100 ms.
* **edits**: two client threads (httpx, one connection each) post keypoint moves to a running server;
  half of each client's edits target people the other client also edits, so version conflicts happen.
  Round trip = POST until the response is read (the store commits with fsync before answering).
  Target p95 ≤ 20 ms. Afterwards every acknowledged edit is checked to be in the store and every stored
  edit's ``before`` is checked to equal the previous edit's ``after`` (no silent overwrite).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine, markdown_table, stamp, update_section  # noqa: E402

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from posekit.poses import KeypointState, PoseSequence  # noqa: E402
from posekit.review.fixtures import walking_people  # noqa: E402
from posekit.review.server import build_service, create_app  # noqa: E402
from posekit.skeletons import get_skeleton  # noqa: E402

TOKEN = "bench"
H = {"X-Posekit-Token": TOKEN}


def _p(a: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(a) * 1000.0, q))


def make_1080p(folder: Path, frames: int) -> tuple[Path, Path]:
    from posekit.io.posekit_json import save_poses
    from posekit.io.video import write_video

    w, h = 1920, 1080
    rng = np.random.default_rng(0)
    tex = rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)

    def frame(f: int) -> np.ndarray:
        img = np.roll(tex, 6 * f, axis=1)
        img[..., 2] = ((img[..., 2].astype(np.int32) + 3 * f) % 256).astype(np.uint8)
        return img

    video = write_video(folder / "hd.mp4", (frame(f) for f in range(frames)), 30.0)
    xy = walking_people(frames, 3, w, h)
    st = np.full(xy.shape[:3], int(KeypointState.VISIBLE), np.uint8)
    seq = PoseSequence(get_skeleton("coco17"), xy, np.full(xy.shape[:3], 0.9, np.float32), st, np.arange(frames) / 30.0,
                       track_id=np.arange(3) + 1, image_size=(w, h), fps=30.0)  # fmt: skip
    ann = folder / "hd.json"
    save_poses(seq, ann)
    return Path(video), ann


def serve(svc) -> tuple[uvicorn.Server, threading.Thread, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(svc, TOKEN), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.02)
    return srv, th, f"http://127.0.0.1:{port}"


def _rows(label: str, t: dict[str, list[float]]) -> list[list[object]]:
    return [[f"{label}{k}", len(v), f"{_p(v, 50):.1f}", f"{_p(v, 95):.1f}"] for k, v in t.items() if v]


def _reader(proj):  # noqa: ANN001, ANN202 - the decoder a request uses now (proxy once ready)
    b = proj.proxy
    return b.reader if b is not None and b.reader is not None else proj._video


def server_side(proj, n: int, jumps: int) -> dict[str, list[float]]:  # noqa: ANN001
    """Decode + JPEG of uncached frames: previous frame, next frame, random jumps (seconds)."""
    proj._cache.size = 1
    proj.prefetch = False
    m = min(n, proj.num_frames)
    seq_t, rnd_t, back_t = [], [], []
    for i in range(m - 1, 0, -1):
        proj._cache._d.clear()
        t0 = time.perf_counter()
        proj.jpeg(i)
        back_t.append(time.perf_counter() - t0)
    _reader(proj)._recent.clear()
    _reader(proj)._it = None
    for i in range(0, m):
        t0 = time.perf_counter()
        proj.jpeg(i)
        seq_t.append(time.perf_counter() - t0)
    rng = random.Random(0)
    for _ in range(jumps):
        i = rng.randrange(proj.num_frames)
        proj._cache._d.clear()
        _reader(proj)._recent.clear()
        t0 = time.perf_counter()
        proj.jpeg(i)
        rnd_t.append(time.perf_counter() - t0)
    proj._cache._d.clear()
    proj._cache.size = 64
    proj.prefetch = True
    return {"previous frame": back_t[1:], "next frame": seq_t[1:], "random jump": rnd_t}


def _fetch(c: httpx.Client, i: int) -> float:
    t0 = time.perf_counter()
    a = c.get(f"/api/frames/{i}/image")
    b = c.get(f"/api/frames/{i}/poses")
    assert a.status_code == 200 and b.status_code == 200
    return time.perf_counter() - t0


def http_side(proj, base: str, n: int, jumps: int) -> dict[str, list[float]]:  # noqa: ANN001
    """What the page does on a switch (GET image + poses), uncached: next frames, cached frames, random jumps."""
    proj._cache._d.clear()
    _reader(proj)._recent.clear()
    _reader(proj)._it = None
    m = min(n, proj.num_frames)
    rng = random.Random(1)
    with httpx.Client(base_url=base, headers=H) as c:
        c.get("/api/project")
        ft = [_fetch(c, i) for i in range(0, m)]
        time.sleep(0.2)
        ct = [_fetch(c, i) for i in range(max(0, m - 40), m)]  # the last 40: all in the 64-frame cache
        rt = []
        for _ in range(jumps):
            i = rng.randrange(proj.num_frames)
            proj._cache._d.clear()
            _reader(proj)._recent.clear()
            rt.append(_fetch(c, i))
            time.sleep(0.05)  # let the prefetch of i + 1 finish, as a reviewer looks at the frame
    proj._cache._d.clear()
    return {"next frame (with prefetch of the next frame)": ft, "random jump": rt, "cached": ct}


def during_build(svc, base: str) -> tuple[dict[str, list[float]], float]:  # noqa: ANN001
    """Random jumps (GET image + poses) and edits while the proxy builds; (latencies, build seconds)."""
    proj = svc.project
    build = proj.proxy
    rng = random.Random(2)
    jt: list[float] = []
    et: list[float] = []
    with httpx.Client(base_url=base, headers=H) as c:
        k = 0
        while build.state == "building":
            i = rng.randrange(proj.num_frames)
            proj._cache._d.clear()
            dt = _fetch(c, i)
            if build.state == "building":
                jt.append(dt)
            for _ in range(3):
                ver = c.get(f"/api/frames/{i}/poses").json()["people"][0]["version"]
                t0 = time.perf_counter()
                r = c.post("/api/edits", json={"reviewer": "d", "op": "move", "frame": i, "person": 0, "version": ver,
                                               "keypoint": "nose", "x": 10.0 + k, "y": 5.0})  # fmt: skip
                dt = time.perf_counter() - t0
                assert r.status_code == 200, r.text
                k += 1
                if build.state == "building":
                    et.append(dt)
            time.sleep(0.1)  # a reviewer looks at the frame; the build goes on meanwhile
    build.wait()
    assert build.state == "ready", build.error
    return {"HTTP image + poses, random jump": jt, "edit round trip": et}, float(build.seconds)


def proxy_fidelity(proj, samples: int = 12) -> tuple[float, float, float]:  # noqa: ANN001
    """(mean, max) over sampled frames of the mean abs RGB difference proxy vs original (0-255 levels),
    and the mean JPEG size (bytes) of those frames as served."""
    from posekit.review.project import _VideoFrames, encode_jpeg

    orig = _VideoFrames(proj.media)
    reader = proj.proxy.reader
    d, sizes = [], []
    for i in np.linspace(0, len(reader) - 1, samples).astype(int):
        a = orig.rgb(int(i))
        d.append(float(np.abs(a.astype(np.int16) - reader.rgb(int(i)).astype(np.int16)).mean()))
        sizes.append(len(encode_jpeg(a)))
    orig.close()
    return float(np.mean(d)), float(np.max(d)), float(np.mean(sizes))


def frame_switch(video: Path, ann: Path, folder: Path, n: int, jumps: int) -> tuple[list[list[object]], str]:
    """Cold (no proxy), during the proxy build and with the proxy ready; table rows and the proxy summary."""
    rows: list[list[object]] = []
    svc = build_service(video, ann, db=folder / f"{video.stem}-cold.sqlite", run_checks=False, proxy=False)
    srv, th, base = serve(svc)
    cold_s = server_side(svc.project, n, jumps)
    cold_h = http_side(svc.project, base, n, jumps)
    srv.should_exit = True
    th.join()
    svc.project.close()
    # proxy built while a reviewer jumps around and edits
    svc = build_service(video, ann, db=folder / f"{video.stem}-busy.sqlite", run_checks=False)
    srv, th, base = serve(svc)
    busy, busy_s = during_build(svc, base)
    srv.should_exit = True
    th.join()
    svc.project.close()
    # proxy built on an idle server, then used
    svc = build_service(video, ann, db=folder / f"{video.stem}-proxy.sqlite", run_checks=False)
    build = svc.project.proxy
    build.wait()
    assert build.state == "ready", build.error
    srv, th, base = serve(svc)
    warm_s = server_side(svc.project, n, jumps)
    warm_h = http_side(svc.project, base, n, jumps)
    srv.should_exit = True
    th.join()
    size = build.path.stat().st_size
    frames = len(build.reader)
    mad, mad_max, jpeg = proxy_fidelity(svc.project)
    idle_s = float(build.seconds)
    px = svc.project.width * svc.project.height
    svc.project.close()
    rows += _rows("decode + JPEG, no proxy, ", cold_s)
    rows += _rows("decode + JPEG, proxy ready, ", {k: warm_s[k] for k in ("random jump", "next frame", "previous frame")})
    rows += _rows("HTTP image + poses, no proxy, ", cold_h)
    rows += _rows("HTTP image + poses, proxy ready, ", {"random jump": warm_h["random jump"]})
    rows += _rows("during the proxy build: ", busy)
    ten_min = 10 * 60 * 30 * 1920 * 1080 / px  # frames-worth scaled to 1080p: bytes per frame × this
    summary = (f"seek proxy: {frames} frames built in {idle_s:.1f} s on an idle server ({frames / idle_s:.0f} frames/s; "
               f"{busy_s:.1f} s while answering the requests above), {size / 1e6:.1f} MB ({size / frames / 1e3:.0f} kB/frame, "
               f"≈ {size / frames * ten_min / 1e9:.1f} GB for 10 min of 1080p at 30 fps; an all-intra store of the served "
               f"JPEGs would take {jpeg / 1e3:.0f} kB/frame, ≈ {jpeg * ten_min / 1e9:.1f} GB); proxy vs original frames: "
               f"mean abs difference {mad:.2f} (max {mad_max:.2f}) levels of 255")  # fmt: skip
    return rows, summary


def edits(svc, base: str, per_client: int) -> tuple[list[float], int, int, int, int]:
    lat: list[float] = []
    acked: list[tuple[str, float]] = []
    conflicts = [0]
    lock = threading.Lock()
    frames = svc.project.num_frames

    def client(name: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers=H) as c:
            for i in range(per_client):
                shared = i % 2 == 0
                f = rng.randrange(4) if shared else 10 + rng.randrange(frames - 10)
                p = 0 if shared else (1 if name == "a" else 2)
                ver = c.get(f"/api/frames/{f}/poses").json()["people"][p]["version"]
                x = float(seed * 500 + 0.5 * i)
                t0 = time.perf_counter()
                r = c.post("/api/edits", json={"reviewer": name, "op": "move", "frame": f, "person": p, "version": ver,
                                               "keypoint": "nose", "x": x, "y": 5.0})  # fmt: skip
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
                    if r.status_code == 200:
                        acked.append((f"p:{f}:{p}", x))
                    elif r.status_code == 409:
                        conflicts[0] += 1
                    else:
                        raise AssertionError(r.text)

    ts = [threading.Thread(target=client, args=("a", 1)), threading.Thread(target=client, args=("b", 2))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    hist = svc.store.history(limit=10**9)
    stored = {(e.target, e.after["xy"][0][0]) for e in hist}
    lost = sum(1 for a in acked if a not in stored)
    by_target: dict[str, list] = {}
    for e in hist:
        by_target.setdefault(e.target, []).append(e)
    overwritten = 0
    for rows in by_target.values():
        for prev, cur in zip(rows, rows[1:]):
            overwritten += cur.before != prev.after
    return lat, len(acked), conflicts[0], lost, overwritten


def demo_project(folder: Path) -> tuple[Path, Path] | None:
    """The Sports2D demo video with stick-figure poses (``None`` without the shared data)."""
    from posekit.io.posekit_json import save_poses

    root = Path(os.environ.get("POSEKIT_TEST_DATA", REPO.parent / "shared" / "data"))
    demo = root / "5_plain_videos/sports2d/Sports2D/Demo/demo.mp4"
    if not demo.is_file():
        return None
    n = 230
    xy = walking_people(n, 1, 1768, 994)
    seq = PoseSequence(get_skeleton("coco17"), xy, np.full(xy.shape[:3], 0.9, np.float32),
                       np.ones(xy.shape[:3], np.uint8), np.arange(n) / 30.0, image_size=(1768, 994))  # fmt: skip
    save_poses(seq, folder / "demo.json")
    return demo, folder / "demo.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to update ('' to skip)")
    ap.add_argument("--frames", type=int, default=300, help="synthetic video length (x264 puts a key frame every 250)")
    ap.add_argument("--steps", type=int, default=90, help="frames stepped through forward and back")
    ap.add_argument("--jumps", type=int, default=40, help="random jumps per measurement")
    ap.add_argument("--edits", type=int, default=300, help="edits per client")
    args = ap.parse_args()
    head = ["what", "n", "median ms", "p95 ms"]
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        v, a = make_1080p(folder, args.frames)
        rows, summary = frame_switch(v, a, folder, args.steps, args.jumps)
        svc = build_service(v, a, db=folder / "bench.sqlite", run_checks=False, proxy=False)
        srv, th, base = serve(svc)
        lat, ok, conf, lost, over = edits(svc, base, args.edits)
        srv.should_exit = True
        th.join()
        svc.project.close()
        demo = demo_project(folder)
        demo_rows, demo_summary = frame_switch(*demo, folder, args.steps, args.jumps) if demo else ([], "")
    body = "\n".join([
        "## Review page",
        "",
        f"{stamp()} · {machine()} · `benchmarks/review.py` · 1-minute load average {load0:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end",
        "",
        "Frame switch (target ≤ 100 ms). *No proxy*: frames decoded from the original (a random jump seeks to "
        "the previous key frame and decodes forward). *Proxy ready*: from the seek proxy (the video re-encoded "
        "in the background with a key frame every 8 frames, `posekit.review.proxy`). *During the proxy build*: "
        "one client jumping to random frames (GET image + poses) and posting 3 edits per frame while the "
        "proxy builds. *Previous / next*: stepping back and forth over the first "
        f"{args.steps} frames, each uncached.",
        "",
        f"Synthetic 1920x1080 H.264 video ({args.frames} frames, 30 fps, key frame every 250 frames as x264 "
        "writes by default), milliseconds:",
        "",
        markdown_table(head, rows),
        "",
        f"{summary[0].upper()}{summary[1:]}.",
        "",
        *(["Sports2D demo video (1768x994 VP9, real footage, 230 frames), milliseconds:", "",
           markdown_table(head, demo_rows), "", f"{demo_summary[0].upper()}{demo_summary[1:]}.", ""] if demo_rows else []),
        f"Edit round trip with two concurrent clients ({2 * args.edits} edits, half of them on people both "
        "clients edit; target p95 ≤ 20 ms, 0 lost, 0 silently overwritten):",
        "",
        markdown_table(["edits", "acknowledged", "409 conflicts", "median ms", "p95 ms", "lost", "silently overwritten"],
                       [[len(lat), ok, conf, f"{_p(lat, 50):.1f}", f"{_p(lat, 95):.1f}", lost, over]]),
    ])  # fmt: skip
    print(body)
    if args.write:
        update_section(Path(args.write), "review", body)


if __name__ == "__main__":
    main()
