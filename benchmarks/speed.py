"""Speed and memory: posekit against MediaPipe legacy ``mp.solutions.pose``, measured in the same run.

    python benchmarks/speed.py [--frames 300] [--repeats 3] [--write docs/benchmarks.md]

1. Single-person video: the same decoded frames (PyAV, decoded once, held in memory) are fed to
   ``PoseEstimator(max_people=1, threads=1).stream(frames)`` and to
   ``mp.solutions.pose.Pose(model_complexity=1, static_image_mode=False)``. The process is pinned to one
   CPU core, so both get exactly one core (MediaPipe's graph has no thread option; pinning gives equal
   compute). The contenders alternate over ``--repeats`` rounds; the median frames/s is reported.
2. Cost of each extra person: on the multi-person Sports2D clip, per-frame time is regressed on the
   number of people tracked in that frame; the slope is compared with one landmark-model call
   (preprocess + invoke + postprocess on one region) timed in the same run.
3. Peak memory: a child process streams a 1768×994 video three times over (as one long stream) through
   the estimator and reports its peak RSS after each pass; it must stay flat (frames are never held).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_dir, git_rev, machine, markdown_table, pin_to_one_core, stamp, update_section  # noqa: E402

SINGLE = "5_plain_videos/upfall_via_HumanFallDetection/dataset/Activity6/Subject1/Trial1Cam1.mp4"
MULTI = "5_plain_videos/sports2d/Sports2D/Demo/demo.mp4"


def decode(path: Path, n: int) -> list[np.ndarray]:
    from posekit.io.video import VideoReader

    out = []
    for f in VideoReader(path):
        out.append(f.image)
        if len(out) >= n:
            break
    return out


def run_posekit(frames: list[np.ndarray], **kw) -> tuple[float, list]:
    from posekit import PoseEstimator

    est = PoseEstimator(threads=1, **kw)
    t0 = time.perf_counter()
    results = list(est.stream(frames))
    return time.perf_counter() - t0, results


def run_mediapipe(frames: list[np.ndarray]) -> float:
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        t0 = time.perf_counter()
        for f in frames:
            pose.process(f)
        return time.perf_counter() - t0


def single_person(frames: list[np.ndarray], repeats: int) -> dict:
    """Frames/s of posekit (default, and without detector tiles) and MediaPipe, alternating rounds."""
    run_posekit(frames[:10], max_people=1)  # warm-up (model load, first allocations)
    run_mediapipe(frames[:10])
    ours, notiles, theirs = [], [], []
    found = {}
    for _ in range(repeats):
        dt, res = run_posekit(frames, max_people=1)
        ours.append(len(frames) / dt)
        found["ours"] = sum(len(f) > 0 for f in res)
        dt, res = run_posekit(frames, max_people=1, tiles=False)
        notiles.append(len(frames) / dt)
        found["notiles"] = sum(len(f) > 0 for f in res)
        theirs.append(len(frames) / run_mediapipe(frames))
    o, n, t = statistics.median(ours), statistics.median(notiles), statistics.median(theirs)
    return {"ours_fps": o, "notiles_fps": n, "mp_fps": t, "ratio": o / t, "notiles_ratio": n / t, "found": found}


def extra_person_cost(frames: list[np.ndarray]) -> dict:
    from posekit import PoseEstimator
    est = PoseEstimator(threads=1, max_people=10)
    times, counts, rois = [], [], []
    stream = est.stream(frames)
    it = iter(stream)
    for _ in range(len(frames)):
        d0 = est.counts["detect"]
        t0 = time.perf_counter()
        f = next(it)
        dt = time.perf_counter() - t0
        if est.counts["detect"] == d0:  # frames where only landmark models ran
            times.append(dt)
            counts.append(len(f))
        if stream.state.people:
            rois.append((len(times), stream.state.people[0].roi))
    # one landmark call (preprocess + invoke + postprocess) on a tracked region, same frames
    single, bare = [], []
    if rois:
        roi = rois[len(rois) // 2][1]  # a tracked person's region from the middle of the clip
        for img in frames[len(frames) // 2 - 15 : len(frames) // 2 + 15]:
            t0 = time.perf_counter()
            est.landmarker(img, roi)
            single.append(time.perf_counter() - t0)
            bare.append(est.landmarker.last_timing["invoke"])
    invoke = statistics.median(bare) if bare else float("nan")
    call = statistics.median(single) if single else float("nan")
    x, y = np.asarray(counts, float), np.asarray(times, float)
    slope = float(np.polyfit(x, y, 1)[0]) if len(set(counts)) > 1 else float("nan")
    per_n = {int(n): statistics.median(y[x == n]) * 1e3 for n in sorted(set(counts))}
    return {
        "slope_ms": slope * 1e3, "invoke_ms": invoke * 1e3, "call_ms": call * 1e3, "ratio": slope / invoke,
        "per_people_ms": per_n, "frames_used": len(times),
    }  # fmt: skip


MEMORY_CHILD = r"""
import json, sys
from posekit import PoseEstimator
from posekit.io.video import VideoReader
path, passes = sys.argv[1], int(sys.argv[2])
est = PoseEstimator(threads=1)
def frames():
    for p in range(passes):
        for f in VideoReader(path):
            yield f.image
        rss.append(hwm_mb())
def hwm_mb():
    # VmHWM is this process's own peak RSS (ru_maxrss would include the parent's, inherited at fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
rss = []
n = sum(1 for _ in est.stream(frames()))
print(json.dumps({"frames": n, "peak_mb_after_pass": rss}))
"""


def peak_memory(path: Path, passes: int = 3) -> dict:
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(path), str(passes)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to update ('' to skip)")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to one core (MediaPipe then uses its default threads)")
    args = ap.parse_args()
    d = data_dir()
    if not args.no_pin:
        pin_to_one_core()

    single_frames = decode(d / SINGLE, args.frames)
    sp = single_person(single_frames, args.repeats)
    del single_frames
    multi_frames = decode(d / MULTI, 230)
    sp_hd = single_person(multi_frames, args.repeats)
    mp_cost = extra_person_cost(multi_frames)
    del multi_frames
    mem = None if args.skip_memory else peak_memory(d / MULTI)

    rows = []
    for clip, r in (("640×480 walking clip (UP-Fall)", sp), ("1768×994 clip (Sports2D)", sp_hd)):
        rows.append([f"{clip}, default (detector tiles)", f"{r['ours_fps']:.1f}", f"{r['mp_fps']:.1f}", f"{r['ratio']:.2f}×",
                     r["found"]["ours"]])
        rows.append([f"{clip}, `tiles=False` (whole-frame detector, as MediaPipe)", f"{r['notiles_fps']:.1f}",
                     f"{r['mp_fps']:.1f}", f"{r['notiles_ratio']:.2f}×", r["found"]["notiles"]])  # fmt: skip
    text = [
        f"## Speed and memory (`python benchmarks/speed.py{' --no-pin' if args.no_pin else ''}`)\n",
        f"{stamp()} · {machine()} · commit {git_rev()}\n",
        f"Single-person video mode (`PoseEstimator(max_people=1)` against `mp.solutions.pose.Pose(model_complexity=1)`, "
        f"which follows one person): `{SINGLE}` (first {args.frames} frames) and `{MULTI}` (230 frames), each decoded "
        f"once with PyAV and fed to both; median of {args.repeats} alternating rounds; "
        + ("process NOT pinned (MediaPipe uses its default threads); " if args.no_pin else "process pinned to one core; ")
        + "posekit `threads=1`.\n",
        markdown_table(["frames/s", "posekit", "MediaPipe legacy", "ratio", "frames with the person (posekit)"], rows),
        "",
        f"Extra person (Sports2D demo, 1768×994, frames where only landmark models ran): "
        f"slope {mp_cost['slope_ms']:.2f} ms per extra person over {mp_cost['frames_used']} frames; one landmark-model "
        f"invoke {mp_cost['invoke_ms']:.2f} ms (whole call with crop and decoding {mp_cost['call_ms']:.2f} ms); "
        f"extra person = **{mp_cost['ratio']:.2f}×** one invoke. Median frame time by people tracked: "
        + ", ".join(f"{n}: {ms:.1f} ms" for n, ms in mp_cost["per_people_ms"].items())
        + ".",
    ]
    if mem:
        text.append(
            f"\nPeak memory (RSS) streaming the 1768×994 Sports2D clip 3 times as one stream "
            f"({mem['frames']} frames): after each pass "
            + ", ".join(f"{v:.0f} MB" for v in mem["peak_mb_after_pass"])
            + "."
        )
    body = "\n".join(text)
    print(body)
    print("\nraw:", json.dumps({"single": sp, "single_hd": sp_hd, "extra_person": mp_cost, "memory": mem}, default=float))
    if args.write:
        update_section(Path(args.write), "speed-unpinned" if args.no_pin else "speed", body)


if __name__ == "__main__":
    main()
