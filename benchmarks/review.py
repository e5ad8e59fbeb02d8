"""Review page: frame switch time at 1080p (with and without the seek proxy) and edit round-trip latency.

    python benchmarks/review.py [--write docs/benchmarks.md] [--frames 1200] [--steps 90] [--jumps 40]
                                [--near 4] [--trials 3] [--repeat 3] [--edits 300]

* **frame switch**: a synthetic 1920x1080 H.264 video (moving textured content, 30 fps, key frame every
  250 frames as x264 writes by default; 1200 frames, 19 proxy segments), and the Sports2D demo video
  (1768x994 VP9, real footage, 230 frames) when the shared data is present (``$POSEKIT_TEST_DATA``).
  Server side: decode + JPEG encode of an uncached frame, stepping back, stepping forward and jumping to
  random frames. HTTP: what the page does on a switch (GET of the JPEG and of the poses from a real
  uvicorn server on loopback), uncached. Measured *no proxy* (frames from the original video) and *proxy
  ready*; also *during the proxy build* for the synthetic video played ``--repeat`` times in one file
  (packets copied, so the build lasts long enough): while :mod:`posekit.review.proxy` re-encodes it segment
  by segment in the background, one client visits places: a *far* jump to a random frame, then ``--near``
  jumps each within 60 frames of the previous one, 1 to 2 s apart (3 edits per frame meanwhile); near
  jumps are split by whether a finished segment held the frame when asked for; only requests that
  finished before the build did count. Also: the proxy's build time (frames/s on an idle server and while
  answering), its size (and what 10 min of 1080p would take, against an all-intra store of the served
  JPEGs) and how far its frames are from the original's (mean absolute RGB difference). Target ≤ 100 ms.
* **time to the first fast jump** (the repeated synthetic video): from opening the project
  (``build_service``) until a jump is served from a finished segment, for a reviewer who opens the page
  (frame 0), then looks around one random place outside the first segment (a jump within 60 frames of it
  every second); ``--trials`` places.
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
from posekit.review.proxy import SEGMENT_FRAMES  # noqa: E402
from posekit.review.server import build_service, create_app  # noqa: E402
from posekit.skeletons import get_skeleton  # noqa: E402

TOKEN = "bench"
H = {"X-Posekit-Token": TOKEN}


def _p(a: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(a) * 1000.0, q))


def make_1080p(folder: Path, frames: int) -> tuple[Path, Path]:
    from posekit.io.video import write_video

    w, h = 1920, 1080
    rng = np.random.default_rng(0)
    tex = rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)

    def frame(f: int) -> np.ndarray:
        img = np.roll(tex, 6 * f, axis=1)
        img[..., 2] = ((img[..., 2].astype(np.int32) + 3 * f) % 256).astype(np.uint8)
        return img

    video = write_video(folder / "hd.mp4", (frame(f) for f in range(frames)), 30.0)
    return Path(video), _poses(folder / "hd.json", frames, w, h)


def _poses(path: Path, frames: int, w: int, h: int) -> Path:
    from posekit.io.posekit_json import save_poses

    xy = walking_people(frames, 3, w, h)
    st = np.full(xy.shape[:3], int(KeypointState.VISIBLE), np.uint8)
    seq = PoseSequence(get_skeleton("coco17"), xy, np.full(xy.shape[:3], 0.9, np.float32), st, np.arange(frames) / 30.0,
                       track_id=np.arange(3) + 1, image_size=(w, h), fps=30.0)  # fmt: skip
    save_poses(seq, path)
    return path


def repeat_video(video: Path, times: int) -> tuple[Path, Path]:
    """``video`` played ``times`` times in one file (packets copied, time stamps shifted: the same key-frame
    intervals, no re-encoding), with poses; a long video for the build-time measurements."""
    import av

    dst = video.with_name(f"{video.stem}-x{times}.mp4")
    n = 0
    with av.open(str(dst), "w") as oc:
        ost = None
        shift = 0
        for _ in range(times):
            with av.open(str(video)) as ic:
                ist = ic.streams.video[0]
                if ost is None:
                    ost = oc.add_stream_from_template(ist)
                end = shift
                for p in ic.demux(ist):
                    if p.size == 0 or p.pts is None:
                        continue
                    end = max(end, p.pts + shift + (p.duration or 0))
                    p.pts += shift
                    p.dts = None if p.dts is None else p.dts + shift
                    p.stream = ost
                    oc.mux(p)
                    n += 1
                shift = end
    with av.open(str(video)) as c:
        w, h = c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height
    return dst, _poses(dst.with_suffix(".json"), n, w, h)


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


def _forget(proj, iterator: bool = False) -> None:  # noqa: ANN001
    """Drop the decoded frames the decoders keep (the original's and the open proxy segments'), and with
    ``iterator`` their open decoding positions, so the next request decodes from a key frame."""
    decoders = [proj._video] + (proj.proxy.reader.readers() if proj.proxy is not None else [])
    for r in decoders:
        r._recent.clear()
        if iterator:
            r._it = None


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
    _forget(proj, iterator=True)
    for i in range(0, m):
        t0 = time.perf_counter()
        proj.jpeg(i)
        seq_t.append(time.perf_counter() - t0)
    rng = random.Random(0)
    for _ in range(jumps):
        i = rng.randrange(proj.num_frames)
        proj._cache._d.clear()
        _forget(proj)
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
    _forget(proj, iterator=True)
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
            _forget(proj)
            rt.append(_fetch(c, i))
            time.sleep(0.05)  # let the prefetch of i + 1 finish, as a reviewer looks at the frame
    proj._cache._d.clear()
    return {"next frame (with prefetch of the next frame)": ft, "random jump": rt, "cached": ct}


NEAR = 60  # frames: a near jump lands within this of the previous one (2 s at 30 fps)


def during_build(svc, base: str, near: int) -> tuple[dict[str, list[float]], float]:  # noqa: ANN001
    """A reviewer visiting places while the proxy builds: a far jump to a random frame, then ``near`` jumps
    each within :data:`NEAR` frames of the previous one, 1-2 s apart (GET image + poses, uncached; 3 edits
    per frame); (latencies by kind, build seconds)."""
    proj = svc.project
    build = proj.proxy
    n = proj.num_frames
    rng = random.Random(2)
    far_fast: list[float] = []
    far_slow: list[float] = []
    near_fast: list[float] = []
    near_slow: list[float] = []
    et: list[float] = []
    with httpx.Client(base_url=base, headers=H) as c:
        k = 0
        left = 0
        i = 0
        while build.state == "building":
            t_look = time.perf_counter() + rng.uniform(1.0, 2.0)
            if left == 0:
                i, left = rng.randrange(n), near
                kind = far_fast if build.reader.has(i) else far_slow
            else:
                i, left = min(n - 1, max(0, i + rng.randint(-NEAR, NEAR))), left - 1
                kind = near_fast if build.reader.has(i) else near_slow
            proj._cache._d.clear()
            dt = _fetch(c, i)
            if build.state == "building":
                kind.append(dt)
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
            time.sleep(max(0.0, t_look - time.perf_counter()))  # a reviewer looks at the frame; the build goes on
    build.wait()
    assert build.state == "ready", build.error
    return {"HTTP image + poses, far jump (random frame)": far_fast + far_slow,
            "HTTP image + poses, far jump, frame in a finished segment": far_fast,
            "HTTP image + poses, far jump, segment not finished": far_slow,
            f"HTTP image + poses, near jump (≤ {NEAR} frames from the previous, 1-2 s later)": near_fast + near_slow,
            "HTTP image + poses, near jump, frame in a finished segment": near_fast,
            "HTTP image + poses, near jump, segment not finished": near_slow,
            "edit round trip": et}, float(build.seconds)  # fmt: skip


def first_fast_jump(video: Path, ann: Path, folder: Path, trial: int) -> tuple[float, float, int]:
    """Seconds from opening the project until a jump is served from a finished segment, for a reviewer who
    opens the page (frame 0), then jumps around one random place (within :data:`NEAR` frames of it, one jump
    a second); (seconds, that jump's latency, jumps made)."""
    t0 = time.perf_counter()
    svc = build_service(video, ann, db=folder / f"{video.stem}-ttff{trial}.sqlite", run_checks=False)
    srv, th, base = serve(svc)
    proj, build = svc.project, svc.project.proxy
    rng = random.Random(10 + trial)
    n = proj.num_frames
    place = rng.randrange(min(build.segment_frames, n - 1), n)
    out = (float("nan"), float("nan"), 0)
    with httpx.Client(base_url=base, headers=H) as c:
        c.get("/api/project")
        _fetch(c, 0)
        time.sleep(1.0)
        i, jumps = place, 0
        while time.perf_counter() - t0 < 300 and build.state in ("building", "ready"):
            fast = build.reader.has(i)
            proj._cache._d.clear()
            dt = _fetch(c, i)
            jumps += 1
            if fast:
                out = (time.perf_counter() - t0, dt, jumps)
                break
            time.sleep(1.0)
            i = min(n - 1, max(0, place + rng.randint(-NEAR, NEAR)))
    srv.should_exit = True
    th.join()
    svc.project.close()
    return out


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


def frame_switch(video: Path, ann: Path, folder: Path, n: int, jumps: int, near: int,
                 busy_video: tuple[Path, Path] | None) -> tuple[list[list[object]], str]:  # fmt: skip
    """Cold (no proxy), during the proxy build (of ``busy_video``, if given) and with the proxy ready; table
    rows and the proxy summary."""
    rows: list[list[object]] = []
    svc = build_service(video, ann, db=folder / f"{video.stem}-cold.sqlite", run_checks=False, proxy=False)
    srv, th, base = serve(svc)
    cold_s = server_side(svc.project, n, jumps)
    cold_h = http_side(svc.project, base, n, jumps)
    srv.should_exit = True
    th.join()
    svc.project.close()
    busy: dict[str, list[float]] = {}
    if busy_video is not None:  # proxy built while a reviewer jumps around and edits
        bv, ba = busy_video
        svc = build_service(bv, ba, db=folder / f"{bv.stem}-busy.sqlite", run_checks=False)
        srv, th, base = serve(svc)
        busy, busy_s = during_build(svc, base, near)
        busy_n = svc.project.num_frames
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
    size = sum(f.stat().st_size for f in build.path.glob("*.mp4"))
    frames = len(build.reader)
    segments = build.num_segments
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
    busy_text = (f"; {busy_n} frames in {busy_s:.1f} s while answering the requests above ({busy_n / busy_s:.0f} frames/s)"
                 if busy_video is not None else "")  # fmt: skip
    summary = (f"seek proxy: {frames} frames ({segments} segments of up to {SEGMENT_FRAMES}) built in {idle_s:.1f} s on an "
               f"idle server ({frames / idle_s:.0f} frames/s{busy_text}), {size / 1e6:.1f} MB ({size / frames / 1e3:.0f} kB/frame, "
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
    ap.add_argument("--frames", type=int, default=1200,
                    help="synthetic video length (x264 puts a key frame every 250; 1200 = 10 proxy segments)")
    ap.add_argument("--steps", type=int, default=90, help="frames stepped through forward and back")
    ap.add_argument("--jumps", type=int, default=40, help="random jumps per measurement")
    ap.add_argument("--near", type=int, default=4, help="near jumps after each far jump during the proxy build")
    ap.add_argument("--trials", type=int, default=3, help="places for the time to the first fast jump")
    ap.add_argument("--repeat", type=int, default=3,
                    help="the synthetic video played this many times in one file for the measurements during the build")
    ap.add_argument("--edits", type=int, default=300, help="edits per client")
    args = ap.parse_args()
    head = ["what", "n", "median ms", "p95 ms"]
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        v, a = make_1080p(folder, args.frames)
        lv, la = repeat_video(v, args.repeat)
        rows, summary = frame_switch(v, a, folder, args.steps, args.jumps, args.near, (lv, la))
        ttff = [first_fast_jump(lv, la, folder, t) for t in range(args.trials)]
        svc = build_service(v, a, db=folder / "bench.sqlite", run_checks=False, proxy=False)
        srv, th, base = serve(svc)
        lat, ok, conf, lost, over = edits(svc, base, args.edits)
        srv.should_exit = True
        th.join()
        svc.project.close()
        demo = demo_project(folder)
        demo_rows, demo_summary = frame_switch(*demo, folder, args.steps, args.jumps, args.near, None) if demo else ([], "")
    secs = [t[0] for t in ttff]
    ttff_text = (f"Time to the first fast jump ({args.repeat * args.frames}-frame synthetic video; opening the project, the page's frame 0, then one jump "
                 f"a second within {NEAR} frames of a random place outside the first segment; {len(ttff)} places): "
                 f"median {np.nanmedian(secs):.1f} s (" + ", ".join(f"{t:.1f}" for t in secs) + " s; that jump "
                 + ", ".join(f"{lat * 1000:.0f}" for _, lat, _ in ttff) + " ms, after "
                 + ", ".join(str(j) for _, _, j in ttff) + " slow jumps there). Before the proxy was segmented, "
                 "the first fast jump came only once the whole video was re-encoded (the build times above).")  # fmt: skip
    body = "\n".join([
        "## Review page",
        "",
        f"{stamp()} · {machine()} · `benchmarks/review.py` · 1-minute load average {load0:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end",
        "",
        "Frame switch (target ≤ 100 ms). *No proxy*: frames decoded from the original (a random jump seeks to "
        "the previous key frame and decodes forward). *Proxy ready*: from the seek proxy (the video re-encoded "
        f"in the background in segments of {SEGMENT_FRAMES} frames with a key frame every 8 frames, "
        "`posekit.review.proxy`). *During the proxy build*: one client visiting places (GET image + poses, "
        f"uncached): a *far* jump to a random frame, then {args.near} *near* jumps, each within {NEAR} frames of "
        "the previous one and 1-2 s after it, posting 3 edits per frame; the build does the segment of the "
        "latest request first, then its neighbours. Jumps are also split by whether a finished segment "
        f"held the frame when asked for. The build is measured on the synthetic video played {args.repeat} times in one file "
        f"({args.repeat * args.frames} frames, packets copied), so that it lasts long enough to visit several "
        "places. *Previous / next*: stepping back and forth over the first "
        f"{args.steps} frames, each uncached.",
        "",
        f"Synthetic 1920x1080 H.264 video ({args.frames} frames, 30 fps, key frame every 250 frames as x264 "
        "writes by default), milliseconds:",
        "",
        markdown_table(head, rows),
        "",
        f"{summary[0].upper()}{summary[1:]}.",
        "",
        ttff_text,
        "",
        *(["Sports2D demo video (1768x994 VP9, real footage, 230 frames; its proxy builds in a few seconds, so no "
           "measurement during the build), milliseconds:", "",
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
