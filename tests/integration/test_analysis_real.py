"""Movement analysis on real data: Penn Action ground truth (reps, recognition) and UP-Fall videos (falls).

Penn Action: the labels place many hidden joints by hand (``OCCLUDED`` with a position); those are
human placements, not model guesses, so the per-clip check trusts them (``trusted_states`` includes
OCCLUDED) and the strict VISIBLE-only figures are reported beside. UP-Fall camera 1: each video is
estimated once with the settings ``posekit analyze --falls -n 1`` uses
(:func:`posekit.cli_analyze.estimator_overrides`) and cached for the module, then prepared (tracking +
stabilisation) and analysed exactly as the command does.
"""

from __future__ import annotations

import collections
import json

import pytest
import typer
from typer.testing import CliRunner

from posekit import PoseEstimator
from posekit.analysis import count_reps, detect_falls, prepare, recognize_exercise
from posekit.cli_analyze import analyze_command, estimator_overrides
from posekit.datasets import iter_penn_clips, read_penn_index
from posekit.poses import KeypointState

pytestmark = pytest.mark.integration

PENN = "2_video_tracking/penn_action_labels_via_samaonline"
CLASSES = {"squat": "squat", "pushup": "pushup", "jumping_jacks": "jumping_jack", "situp": "situp",
           "pullup": "pullup"}  # fmt: skip
UPFALL = "5_plain_videos/upfall_via_HumanFallDetection/dataset/Activity{a}/Subject1/Trial1Cam1.mp4"
_ESTIMATES: dict[int, object] = {}


@pytest.fixture(scope="module")
def penn_clips(data_dir):
    idx = read_penn_index(data_dir / PENN / "INDEX_derived.csv")
    clips = list(iter_penn_clips(data_dir / PENN / "labels", entries=idx, actions=CLASSES, skip_absent=True))
    assert len(clips) > 400
    return clips


def test_penn_every_class_counts_reps(penn_clips):
    annot = (KeypointState.VISIBLE, KeypointState.OCCLUDED, KeypointState.CORRECTED)
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures = []
    for c in penn_clips:
        ex = CLASSES[c.action]
        r = count_reps(c.poses, ex, trusted_states=annot)
        s = stats[c.action]
        s["clips"] += 1
        s["counted"] += r.count >= 1
        s["strict"] += count_reps(c.poses, ex).count >= 1
        if r.count == 0:
            why = "; ".join(a["message"] for a in r.attempts) or "; ".join(r.messages) or "no movement"
            failures.append(f"{c.name} {c.action} ({c.view}): {why}")
    report = {a: f"{s['counted']}/{s['clips']} (VISIBLE only {s['strict']})" for a, s in stats.items()}
    print("Penn clips with >= 1 rep:", json.dumps(report), "\n" + "\n".join(failures))
    total = sum(s["clips"] for s in stats.values())
    counted = sum(s["counted"] for s in stats.values())
    assert counted / total >= 0.98, report
    for a, s in stats.items():
        assert s["counted"] / s["clips"] >= 0.94, (a, report)
        assert s["strict"] / s["clips"] >= 0.8, (a, report)


def test_penn_exercise_recognition_accuracy(penn_clips):
    confusion: collections.Counter = collections.Counter()
    for c in penn_clips:
        confusion[(CLASSES[c.action], recognize_exercise(c.poses).exercise)] += 1
    correct = sum(v for (a, b), v in confusion.items() if a == b)
    acc = correct / len(penn_clips)
    per_class = {a: sum(v for (t, p), v in confusion.items() if t == a and p == a) for a in CLASSES.values()}
    print(f"recognition accuracy {acc:.3f} on {len(penn_clips)} clips; correct per class {per_class}; "
          f"errors {sorted(((k, v) for k, v in confusion.items() if k[0] != k[1]), key=str)}")
    assert acc >= 0.9


def _estimate(data_dir, a: int):
    if a not in _ESTIMATES:
        kw = estimator_overrides(falls=True, max_people=1)
        _ESTIMATES[a] = PoseEstimator(**kw).video(data_dir / UPFALL.format(a=a)).collect()
    return _ESTIMATES[a]


@pytest.mark.parametrize("activity", range(1, 12))
def test_upfall_falls(data_dir, activity):
    seq = _estimate(data_dir, activity)
    prepared, notes = prepare(seq)
    res = detect_falls(prepared)
    got = [e.as_dict() for e in res.events]
    print(f"activity {activity}: {notes}; falls {got}; {res.messages}")
    if activity <= 5:
        assert len(res.events) >= 1, f"fall activity {activity}: no fall found ({res.messages})"
        assert all(0 < e.confidence <= 1 for e in res.events)
    else:
        assert res.events == [], f"non-fall activity {activity}: false alarm {got}"


def test_analyze_command_on_a_real_fall_video(data_dir, tmp_path):
    app = typer.Typer()
    app.command("analyze")(analyze_command)
    app.command("noop")(lambda: None)
    video = data_dir / UPFALL.format(a=1)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["analyze", str(video), "--falls", "--exercise", "auto", "-n", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads((out / "summary.json").read_text())
    assert len(d["falls"]) == 1 and d["falls"][0]["person"] == d["person"]
    assert 2.5 < d["falls"][0]["time"] < 4.0  # the subject hits the floor a little after 3 s
    assert (out / "report.html").stat().st_size > 10_000 and (out / "annotated.mp4").stat().st_size > 10_000
