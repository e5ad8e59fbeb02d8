"""Movement analysis: its cost against estimation, and its accuracy on real and synthetic data.

    python benchmarks/analysis.py [--videos 1,2,3,4,5,6,7,8,9,10,11] [--write docs/benchmarks.md]

Cost. For each UP-Fall camera-1 video (``$POSEKIT_TEST_DATA``, 640×480, 18 frames/s), the estimator
runs once with the settings of ``posekit analyze --falls -n 1`` (``estimator_overrides``; one LiteRT
thread) and then, timed
separately: ``prepare`` (identity tracking + stabilisation, as ``posekit analyze`` does), ``analyze``
with everything on (exercise recognition + reps, gait, falls, joint angles, centre of mass), writing
``summary.json`` + the HTML report, and writing the annotated video. The target is ``analyze`` ≤ 10 %
of estimation time.

Accuracy. UP-Fall: falls found per video (activities 1–5 are falls, 6–11 are not). Penn Action ground
truth (squat, push-up, jumping jacks, sit-up, pull-up; joints hidden but placed by the annotator count
as trusted there, and the strict VISIBLE-only numbers are shown beside): clips with at least one
counted rep, and exercise recognition accuracy. Synthetic (``posekit.analysis.synthetic``): squat set
of 7 reps + a shallow half rep, gait event errors in frames.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, git_rev, machine, markdown_table, stamp, update_section  # noqa: E402

UPFALL = "5_plain_videos/upfall_via_HumanFallDetection/dataset/Activity{a}/Subject1/Trial1Cam1.mp4"
PENN = "2_video_tracking/penn_action_labels_via_samaonline"
PENN_CLASSES = {"squat": "squat", "pushup": "pushup", "jumping_jacks": "jumping_jack", "situp": "situp",
                "pullup": "pullup"}  # fmt: skip


def cost_and_falls(data: Path, acts: list[int]) -> tuple[list[list[object]], dict[str, float]]:
    from posekit import PoseEstimator
    from posekit.analysis import analyze, prepare, write_html, write_overlay, write_summary
    from posekit.analysis import synthetic as syn
    from posekit.cli_analyze import estimator_overrides

    rows = []
    tot = collections.Counter()
    # one-time costs (lazy imports of scipy parts) are paid before timing
    analyze(prepare(syn.fall()[0])[0], exercise="auto", gait=True, falls=True)
    with tempfile.TemporaryDirectory() as tmp:
        for a in acts:
            path = data / UPFALL.format(a=a)
            t0 = time.perf_counter()
            seq = PoseEstimator(**estimator_overrides(falls=True, max_people=1)).video(path).collect()
            t1 = time.perf_counter()
            prep, _ = prepare(seq)
            t2 = time.perf_counter()
            res = analyze(prep, exercise="auto", gait=True, falls=True)
            t3 = time.perf_counter()
            write_summary(res, Path(tmp) / "summary.json")
            write_html(res, Path(tmp) / "report.html")
            t4 = time.perf_counter()
            write_overlay(res, path, Path(tmp) / "annotated.mp4")
            t5 = time.perf_counter()
            est, pre, ana, rep, vid = t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4
            for k, v in (("est", est), ("pre", pre), ("ana", ana), ("rep", rep), ("vid", vid), ("frames", len(seq))):
                tot[k] += v
            falls = len(res.falls.events) if res.falls else 0
            want = "fall" if a <= 5 else "no fall"
            ok = (falls > 0) == (a <= 5)
            rows.append([a, len(seq), f"{est:.1f}", f"{1000 * pre / len(seq):.2f}", f"{1000 * ana / len(seq):.2f}",
                         f"{100 * ana / est:.1f} %", f"{100 * (pre + ana) / est:.1f} %", f"{rep:.2f}", f"{vid:.1f}",
                         want, falls, "yes" if ok else "**no**"])  # fmt: skip
            print(rows[-1], flush=True)
    return rows, dict(tot)


def penn(data: Path) -> tuple[list[list[object]], float, int]:
    from posekit.analysis import count_reps, recognize_exercise
    from posekit.datasets import iter_penn_clips, read_penn_index
    from posekit.poses import KeypointState as S

    idx = read_penn_index(data / PENN / "INDEX_derived.csv")
    clips = list(iter_penn_clips(data / PENN / "labels", entries=idx, actions=PENN_CLASSES, skip_absent=True))
    annot = (S.VISIBLE, S.OCCLUDED, S.CORRECTED)
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    correct = 0
    for c in clips:
        ex = PENN_CLASSES[c.action]
        st = stats[c.action]
        st["clips"] += 1
        st["annot"] += count_reps(c.poses, ex, trusted_states=annot).count >= 1
        st["strict"] += count_reps(c.poses, ex).count >= 1
        rec = recognize_exercise(c.poses).exercise
        st["recognised"] += rec == ex
        correct += rec == ex
    rows = [[a, s["clips"], f"{s['annot']} ({100 * s['annot'] / s['clips']:.1f} %)",
             f"{s['strict']} ({100 * s['strict'] / s['clips']:.1f} %)",
             f"{s['recognised']} ({100 * s['recognised'] / s['clips']:.1f} %)"] for a, s in stats.items()]  # fmt: skip
    return rows, correct / max(1, len(clips)), len(clips)


def synthetic() -> list[list[object]]:
    from posekit.analysis import analyze_gait, count_reps
    from posekit.analysis import synthetic as syn

    rows = []
    for view in ("side", "front"):
        seq, _ = syn.squat_set(view=view)
        r = count_reps(seq, "squat")
        rows.append([f"squat set, {view} view (7 reps + shallow half rep)", f"{r.count} reps counted",
                     f"{sum(a['kind'] == 'partial' for a in r.attempts)} partial"])  # fmt: skip
    seq, ev = syn.walk()
    fps = seq.fps or 30.0
    for coords in ("image", "world"):
        g = analyze_gait(seq, coords=coords)
        errs = []
        for side in ("left", "right"):
            for kind in ("heel_strike", "toe_off"):
                truth = np.asarray(ev[side][kind]) * fps
                for f in g.events.times(kind, side) * fps:
                    errs.append(f - truth[np.argmin(np.abs(truth - f))])
        e = np.abs(errs)
        rows.append([f"gait events, {coords} ({len(e)} events)", f"max abs. error {e.max():.2f} frames",
                     f"mean {e.mean():.2f} frames"])  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", default="1,2,3,4,5,6,7,8,9,10,11", help="UP-Fall activities to run")
    ap.add_argument("--write", type=Path, default=None, help="update this markdown file's 'analysis' section")
    args = ap.parse_args()
    data = data_dir()
    acts = [int(x) for x in args.videos.split(",") if x.strip()]
    cost_rows, tot = cost_and_falls(data, acts)
    penn_rows, acc, n = penn(data)
    syn_rows = synthetic()
    share = 100 * tot["ana"] / tot["est"]
    share_all = 100 * (tot["pre"] + tot["ana"]) / tot["est"]
    body = "\n".join([
        "## Movement analysis",
        "",
        f"{stamp()}, commit {git_rev()}, {machine()}. `python benchmarks/analysis.py --write docs/benchmarks.md`",
        "",
        f"**Cost.** Over {int(tot['frames'])} frames of {len(acts)} UP-Fall videos: estimation "
        f"{tot['est']:.1f} s ({tot['frames'] / tot['est']:.1f} frames/s); `analyze` (recognition + reps, gait, "
        f"falls, angles, centre of mass) {tot['ana']:.2f} s = **{share:.1f} %** of estimation (target ≤ 10 %); "
        f"with `prepare` (tracking + stabilisation) {share_all:.1f} %. Writing summary.json + HTML "
        f"{tot['rep']:.1f} s; the annotated video {tot['vid']:.1f} s (decode + draw + encode).",
        "",
        markdown_table(["activity", "frames", "estimate s", "prepare ms/frame", "analyze ms/frame", "analyze / est.",
                        "(prepare+analyze) / est.", "summary+HTML s", "video s", "truth", "falls found", "right"],
                       cost_rows),  # fmt: skip
        "",
        f"**Penn Action ground truth** ({n} clips): every clip should count at least one rep of its class. "
        f"Recognition accuracy over the five classes: **{100 * acc:.1f} %**.",
        "",
        markdown_table(["class", "clips", "≥ 1 rep (annotated hidden joints trusted)", "≥ 1 rep (VISIBLE only)",
                        "recognised"], penn_rows),  # fmt: skip
        "",
        "**Synthetic motions with known answers.**",
        "",
        markdown_table(["case", "result", "detail"], syn_rows),
    ])
    print(body)
    if args.write:
        update_section(args.write, "analysis", body)


if __name__ == "__main__":
    main()
