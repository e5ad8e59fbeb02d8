"""QA rules: injected defects caught, clean people flagged, and the time to check a long sequence.

    python benchmarks/qa.py [--write docs/benchmarks.md] [--seed 0]

Data (from ``$POSEKIT_TEST_DATA``): the human-made COCO-17 annotations of the shared COCO subset
(``coco_mini`` present-images file, 86 labelled people) and mmpose's ``test_coco.json`` (12), and the
Penn Action labels (581 single-person clips, 13 joints, 30 fps assumed).

* **clean**: share of labelled, non-crowd people with at least one error-level finding under the default
  profile (target ≤ 5 %); on Penn Action, share of frames with one.
* **injected**: defects from :mod:`posekit.qa.inject` (left/right swaps, stretched bones, impossible knee
  folds, contradictory states; on sequences also one-frame jumps), one per eligible person (COCO) or per clip
  and kind (Penn). A defect is caught when a new finding of at least warning level names the changed person
  where the defect is and one of the changed keypoints (target ≥ 95 %). The share caught at error level is
  shown too.
* **time**: ``run_qa`` on a synthetic 10-minute 30 fps single-person sequence (18,000 frames; BlazePose-33
  with world landmarks, and COCO-17 image-only), median of 3 runs on one core (target < 5 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_dir, git_rev, machine, markdown_table, pin_to_one_core, stamp, update_section  # noqa: E402

from posekit.datasets import read_penn_clip  # noqa: E402
from posekit.qa import QAData, Severity, load_qa_input, run_qa  # noqa: E402
from posekit.qa.inject import DEFECT_KINDS, caught, inject_coco, inject_sequence, synthetic_walk  # noqa: E402
from posekit.skeletons import get_skeleton  # noqa: E402

COCO_FILES = {
    "coco_mini": "1_images_2d_keypoints/coco_mini/annotations/person_keypoints_train2017.present_images_only.json",
    "mmpose test_coco": "1_images_2d_keypoints/mmpose/tests/data/coco/test_coco.json",
}
PENN = "2_video_tracking/penn_action_labels_via_samaonline/labels"


def clean_people(data: QAData, findings) -> tuple[int, int]:
    """(labelled non-crowd people, those with an error-level finding)."""
    people = data.checked & data.present.any(-1)
    bad = {(f.row, f.person) for f in findings if f.severity == Severity.ERROR}
    return int(people.sum()), sum(1 for r, p in bad if people[r, p])


def coco_part(root: Path, rng: np.random.Generator, tmp: Path) -> tuple[list[list[object]], dict[str, list[int]]]:
    rows = []
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    sk = get_skeleton("coco17")
    for name, rel in COCO_FILES.items():
        path = root / rel
        data = load_qa_input(path)
        res = run_qa(data)
        n, bad = clean_people(data, res.findings)
        rows.append([name, n, bad, f"{100 * bad / max(n, 1):.1f} %"])
        tally["clean people"][0] += n
        tally["clean people"][1] += bad
        doc = json.loads(path.read_text())
        for kind in ("swap", "stretch", "knee", "state"):
            new, injs = inject_coco(doc, sk, kind, rng)
            p = tmp / f"{kind}.json"
            p.write_text(json.dumps(new))
            r = run_qa(load_qa_input(p))
            t = tally[f"COCO {kind}"]
            t[0] += len(injs)
            t[1] += sum(caught(i, r.findings) for i in injs)
            t[2] += sum(caught(i, r.findings, min_severity=Severity.ERROR) for i in injs)
    return rows, tally


def penn_part(root: Path, rng: np.random.Generator, step: int) -> tuple[dict[str, list[int]], list[int]]:
    files = sorted((root / PENN).glob("*.mat"))[::step]
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    frames = [0, 0]
    for f in files:
        seq = read_penn_clip(f).poses
        base = run_qa(seq).findings
        frames[0] += len(seq)
        frames[1] += len({x.row for x in base if x.severity == Severity.ERROR})
        for kind in DEFECT_KINDS:
            s2, inj = inject_sequence(seq, kind, rng)
            if inj is None:
                continue
            r = run_qa(s2).findings
            t = tally[f"Penn {kind}"]
            t[0] += 1
            t[1] += caught(inj, r, base)
            t[2] += caught(inj, r, base, min_severity=Severity.ERROR)
    return tally, frames


def timing() -> list[list[object]]:
    rows = []
    for sk, world in (("blazepose33", True), ("coco17", False)):
        seq = synthetic_walk(600.0, 30.0, skeleton=sk, with_world=world, seed=0)
        secs = []
        for _ in range(3):
            t0 = time.perf_counter()
            res = run_qa(seq)
            secs.append(time.perf_counter() - t0)
        rows.append([f"{sk}{' + world' if world else ''}", len(seq), len(res.ran), len(res.findings),
                     f"{statistics.median(secs):.2f} s"])  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", default=str(REPO / "docs" / "benchmarks.md"), help="markdown file to update ('' to skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--penn-step", type=int, default=1, help="use every n-th Penn Action clip")
    args = ap.parse_args()
    pin_to_one_core()
    root = data_dir()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        clean_rows, coco_tally = coco_part(root, rng, Path(tmp))
    penn_tally, penn_frames = penn_part(root, rng, args.penn_step)
    time_rows = timing()

    def pct(a: int, b: int) -> str:
        return f"{100 * a / max(b, 1):.1f} %"

    inj_rows = []
    tot = [0, 0, 0]
    for label, tally in (("COCO still images", coco_tally), ("Penn Action sequences", penn_tally)):
        sub = [0, 0, 0]
        for key, (n, c, e) in tally.items():
            if key == "clean people":
                continue
            inj_rows.append([key, n, c, pct(c, n), pct(e, n)])
            sub = [sub[0] + n, sub[1] + c, sub[2] + e]
        inj_rows.append([f"*{label}*", sub[0], sub[1], f"*{pct(sub[1], sub[0])}*", pct(sub[2], sub[0])])
        tot = [tot[0] + sub[0], tot[1] + sub[1], tot[2] + sub[2]]
    inj_rows.append(["**all**", tot[0], tot[1], f"**{pct(tot[1], tot[0])}**", pct(tot[2], tot[0])])
    n_clean, n_bad = coco_tally["clean people"][:2]
    clean_rows.append(["**all COCO**", n_clean, n_bad, f"**{100 * n_bad / max(n_clean, 1):.1f} %**"])
    clean_rows.append(["Penn Action (frames)", penn_frames[0], penn_frames[1],
                       f"{100 * penn_frames[1] / max(penn_frames[0], 1):.1f} %"])  # fmt: skip

    body = "\n".join([
        "## QA rules (`benchmarks/qa.py`)",
        "",
        f"{stamp()} · {machine()} · commit {git_rev()} · seed {args.seed} · default profile",
        "",
        "Injected defects caught (a new finding of at least warning level on the changed person and keypoints; "
        "target ≥ 95 %):",
        "",
        markdown_table(["defect", "injected", "caught", "caught %", "at error level"], inj_rows),
        "",
        "Clean human annotations with an error-level finding (target ≤ 5 % of people):",
        "",
        markdown_table(["data", "people", "with an error", "share"], clean_rows),
        "",
        "QA time of a synthetic 10-minute 30 fps single-person sequence, all rules, one core (target < 5 s):",
        "",
        markdown_table(["poses", "frames", "rules run", "findings", "time (median of 3)"], time_rows),
        "",
        "Defects (see `posekit.qa.inject`): swaps exchange a body part's left/right labels (arms, legs, shoulders, "
        "hips, face; only where the exchanged points lie at least half a torso apart; 1-5 frames in sequences); "
        "stretches lengthen a limb bone by 1.5x its typical length for the body (1-3 frames); jumps move one "
        "keypoint half a torso for one frame; knees are folded to 178 degrees; states are v=0 with coordinates or "
        "v>0 at (0, 0) on COCO, INTERPOLATED/PREDICTED before any measurement in sequences. Misses are mostly "
        "swaps in side views of still images, where the exchanged limbs leave no anatomical trace.",
    ])  # fmt: skip
    print(body)
    if args.write:
        update_section(Path(args.write), "qa", body)


if __name__ == "__main__":
    main()
