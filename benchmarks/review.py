"""Review page: frame switch time at 1080p and edit round-trip latency with two concurrent reviewers.

    python benchmarks/review.py [--write docs/benchmarks.md] [--frames 90] [--edits 300]

* **frame switch**: a synthetic 1920x1080 H.264 video (moving textured content, 30 fps, key frame every
  250 frames as x264 writes by default). Server side: decode + JPEG encode of a frame that is not cached,
  stepping to the next frame and jumping to a random one. Fetch: what the page does on a switch (HTTP GET
  of the JPEG and of the poses from a real uvicorn server on loopback), uncached. Target ≤ 100 ms.
  The Sports2D demo video (1768x994, real footage) is measured too when the shared data is present.
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
    imgs = []
    for f in range(frames):
        img = np.roll(tex, 6 * f, axis=1).copy()
        img[..., 2] = ((img[..., 2].astype(np.int32) + 3 * f) % 256).astype(np.uint8)
        imgs.append(img)
    video = write_video(folder / "hd.mp4", imgs, 30.0)
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


def frame_switch(svc, base: str, n: int) -> list[list[object]]:
    proj = svc.project
    rows = []
    # server side, uncached: next frame, then random jumps
    proj._cache.size = 1
    proj.prefetch = False
    seq_t, rnd_t, back_t = [], [], []
    for i in range(1, min(n, proj.num_frames)):
        t0 = time.perf_counter()
        proj.jpeg(i)
        seq_t.append(time.perf_counter() - t0)
    for i in range(min(n, proj.num_frames) - 2, 0, -1):
        proj._cache._d.clear()
        t0 = time.perf_counter()
        proj.jpeg(i)
        back_t.append(time.perf_counter() - t0)
    rng = random.Random(0)
    for _ in range(20):
        i = rng.randrange(proj.num_frames)
        proj._cache._d.clear()
        t0 = time.perf_counter()
        proj.jpeg(i)
        rnd_t.append(time.perf_counter() - t0)
        proj._video._recent.clear()  # type: ignore[union-attr]
    rows.append(["decode + JPEG, previous frame", len(back_t), f"{_p(back_t, 50):.1f}", f"{_p(back_t, 95):.1f}"])
    rows.append(["decode + JPEG, next frame", len(seq_t), f"{_p(seq_t, 50):.1f}", f"{_p(seq_t, 95):.1f}"])
    rows.append(["decode + JPEG, random jump", len(rnd_t), f"{_p(rnd_t, 50):.1f}", f"{_p(rnd_t, 95):.1f}"])
    # HTTP fetch of image + poses, as the page does, uncached, stepping forward from frame 0
    proj._cache._d.clear()
    proj._cache.size = 64
    proj.prefetch = True
    proj._video._open()  # type: ignore[union-attr]
    proj._video._recent.clear()  # type: ignore[union-attr]
    ft = []
    with httpx.Client(base_url=base, headers=H) as c:
        c.get("/api/project")
        for i in range(0, min(n, proj.num_frames)):
            t0 = time.perf_counter()
            a = c.get(f"/api/frames/{i}/image")
            b = c.get(f"/api/frames/{i}/poses")
            assert a.status_code == 200 and b.status_code == 200
            ft.append(time.perf_counter() - t0)
        time.sleep(0.2)
        ct = []
        for i in range(max(0, min(n, proj.num_frames) - 40), min(n, proj.num_frames)):  # the last 40: all in the 64-frame cache
            t0 = time.perf_counter()
            c.get(f"/api/frames/{i}/image")
            c.get(f"/api/frames/{i}/poses")
            ct.append(time.perf_counter() - t0)
    rows.append(["HTTP image + poses, next frame (with prefetch of the next frame)", len(ft), f"{_p(ft, 50):.1f}", f"{_p(ft, 95):.1f}"])
    rows.append(["HTTP image + poses, cached", len(ct), f"{_p(ct, 50):.1f}", f"{_p(ct, 95):.1f}"])
    return rows


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to update ('' to skip)")
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--edits", type=int, default=300, help="edits per client")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        v, a = make_1080p(folder, args.frames)
        svc = build_service(v, a, db=folder / "bench.sqlite", run_checks=False)
        srv, th, base = serve(svc)
        rows = frame_switch(svc, base, args.frames)
        lat, ok, conf, lost, over = edits(svc, base, args.edits)
        srv.should_exit = True
        th.join()
        demo_rows = []
        demo = Path(os.environ.get("POSEKIT_TEST_DATA", REPO.parent / "shared" / "data")) / "5_plain_videos/sports2d/Sports2D/Demo/demo.mp4"
        if demo.is_file():
            from posekit.io.posekit_json import save_poses

            n = 60
            xy = walking_people(n, 1, 1768, 994)
            seq = PoseSequence(get_skeleton("coco17"), xy, np.full(xy.shape[:3], 0.9, np.float32),
                               np.ones(xy.shape[:3], np.uint8), np.arange(n) / 30.0, image_size=(1768, 994))  # fmt: skip
            save_poses(seq, folder / "demo.json")
            dsvc = build_service(demo, folder / "demo.json", db=folder / "demo.sqlite", run_checks=False)
            srv2, th2, base2 = serve(dsvc)
            demo_rows = frame_switch(dsvc, base2, n)
            srv2.should_exit = True
            th2.join()
    body = "\n".join([
        "## Review page",
        "",
        f"{stamp()} · {machine()} · `benchmarks/review.py`",
        "",
        f"Frame switch, synthetic 1920x1080 H.264 video ({args.frames} frames; target ≤ 100 ms), milliseconds:",
        "",
        markdown_table(["what", "frames", "median ms", "p95 ms"], rows),
        "",
        *(["Sports2D demo video (1768x994, real footage), milliseconds:", "",
           markdown_table(["what", "frames", "median ms", "p95 ms"], demo_rows), ""] if demo_rows else []),
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
