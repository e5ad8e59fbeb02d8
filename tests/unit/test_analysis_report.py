"""Reports: analyze(), summary.json, the HTML report, the annotated video and the analyze command."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from posekit.analysis import analyze, write_html, write_overlay, write_summary
from posekit.analysis import synthetic as syn
from posekit.cli_analyze import analyze_command
from posekit.io.posekit_json import save_poses
from posekit.io.video import VideoReader, VideoWriter
from posekit.poses import PoseSequence


@pytest.fixture(scope="module")
def squats():
    seq, _ = syn.squat_set([100.0, 100.0, 40.0, 100.0], view="front", valgus_deg={1: 15.0})
    return seq


def _blank_video(path, n: int, fps: float = 30.0, size=(640, 480)):
    with VideoWriter(path, fps=fps) as w:
        for k in range(n):
            img = np.full((size[1], size[0], 3), 40 + (k % 50), np.uint8)
            w.write(img)
    return path


def test_summary_sections(squats, tmp_path):
    a = analyze(squats, exercise="squat", gait=True, falls=True)
    p = write_summary(a, tmp_path / "summary.json")
    d = json.loads(p.read_text())
    assert d["frames"] == len(squats) and d["person"] == 0
    assert isinstance(d["reps"], list) and len(d["reps"]) == 3
    assert d["reps"][1]["feedback"] == ["rep 2: knees moved inward 15° past the toes line (limit 10°)"]
    assert d["exercise"]["count"] == 3 and d["exercise"]["attempts"][0]["kind"] == "partial"
    assert d["falls"] == [] and d["gait"] is not None and "parameters" in d["gait"]
    assert d["angles"]["coords"] == "world" and "left_knee" in d["angles"]["joints"]
    assert d["angles"]["joints"]["left_knee"]["max"] > 100
    assert d["balance"]["inside_base_of_support_pct"] > 50


def test_auto_exercise_and_html_is_self_contained(squats, tmp_path):
    a = analyze(squats, exercise="auto", falls=True)
    assert a.recognition is not None and a.recognition.exercise == "squat" and a.exercise.count == 3
    h = write_html(a, tmp_path / "report.html").read_text()
    imgs = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", h)
    assert len(imgs) >= 3  # progress, angles, falls timeline
    assert "http://" not in h and "https://" not in h and "<script" not in h
    assert "knees moved inward 15°" in h


def test_plank_and_fall_in_summary(tmp_path):
    a = analyze(syn.plank(), exercise="plank")
    d = a.summary()
    assert d["plank"]["total_s"] == pytest.approx(10.0, abs=0.2) and d["reps"] == []
    fall, impact = syn.fall()
    d = analyze(fall, falls=True).summary()
    assert len(d["falls"]) == 1 and d["falls"][0]["time"] == pytest.approx(impact, abs=0.35)
    json.dumps(d, allow_nan=False)


def test_nobody_gives_messages_everywhere(tmp_path):
    empty = PoseSequence("blazepose33", np.zeros((20, 0, 33, 2)), np.zeros((20, 0, 33), np.float32),
                         np.zeros((20, 0, 33), np.uint8), np.arange(20) / 30.0)  # fmt: skip
    a = analyze(empty, exercise="auto", gait=True, falls=True)
    d = json.loads(write_summary(a, tmp_path / "s.json").read_text())
    assert d["reps"] == [] and d["falls"] == [] and d["person"] is None
    assert any("nobody was found" in m for m in d["messages"])
    write_html(a, tmp_path / "r.html")
    with pytest.raises(ValueError):
        analyze(empty, exercise="yoga")


def test_overlay_video(squats, tmp_path):
    short = PoseSequence(squats.skeleton, squats.xy[:90], squats.score[:90], squats.state[:90], squats.time[:90],
                         world=squats.world[:90], fps=30.0)  # fmt: skip
    video = _blank_video(tmp_path / "in.mp4", 90)
    a = analyze(short, exercise="squat", falls=True)
    out = write_overlay(a, video, tmp_path / "annotated.mp4")
    frames = list(VideoReader(out))
    assert len(frames) == 90 and frames[0].image.shape == (480, 640, 3)
    # the skeleton is drawn: pixels differ from the blank input where the body is
    blank = list(VideoReader(video))[45].image.astype(int)
    assert np.abs(frames[45].image.astype(int) - blank).sum() > 1000


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("analyze")(analyze_command)
    app.command("noop")(lambda: None)  # keep "analyze" as a subcommand
    return app


def test_command_on_json_and_bad_input(squats, tmp_path):
    poses = tmp_path / "poses.json"
    save_poses(squats, poses)
    out = tmp_path / "out"
    r = CliRunner().invoke(_app(), ["analyze", str(poses), "--exercise", "squat", "--falls", "--no-video",
                                    "--no-stabilize", "-o", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    d = json.loads((out / "summary.json").read_text())
    assert len(d["reps"]) == 3 and (out / "report.html").is_file() and not (out / "annotated.mp4").exists()
    r = CliRunner().invoke(_app(), ["analyze", str(tmp_path / "missing.mp4"), "-o", str(out)])
    assert r.exit_code == 2 and "missing.mp4" in r.output and "not found" in r.output
    r = CliRunner().invoke(_app(), ["analyze", str(poses), "--exercise", "yoga", "-o", str(out)])
    assert r.exit_code == 2 and "choose one of" in r.output
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    r = CliRunner().invoke(_app(), ["analyze", str(txt), "-o", str(out)])
    assert r.exit_code == 2 and "not a video file" in r.output


def test_command_on_a_video_with_nobody(tmp_path):
    video = _blank_video(tmp_path / "empty.mp4", 15)
    out = tmp_path / "out"
    r = CliRunner().invoke(_app(), ["analyze", str(video), "--exercise", "auto", "--gait", "--falls", "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads((out / "summary.json").read_text())
    assert d["reps"] == [] and d["falls"] == [] and any("nobody was found" in m for m in d["messages"])
    assert (out / "annotated.mp4").is_file() and (out / "report.html").is_file()
