"""The ``posekit`` command: outputs, and every bad input of the foundation issue.

Each bad input must give one readable message naming the file and the problem, a non-zero exit, and no
half-written output. Inputs are synthesised in ``tmp_path`` (a real person comes from matplotlib's
Grace Hopper photo, which ships with an installed dependency).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from posekit.cli import app
from posekit.demo import demo_image_path
from posekit.io.images import read_image
from posekit.io.posekit_json import load_poses

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def person() -> np.ndarray:
    return read_image(demo_image_path())


def _person_video(path: Path, person: np.ndarray, n: int = 24, options: dict | None = None) -> Path:
    """A short video of the demo photo drifting sideways (mpeg4, optionally 'faststart')."""
    img = person[: person.shape[0] // 2 * 2, : person.shape[1] // 2 * 2]
    c = av.open(str(path), "w", options=options or {})
    s = c.add_stream("mpeg4", rate=24)
    s.height, s.width = img.shape[:2]
    s.pix_fmt = "yuv420p"
    s.bit_rate = 4_000_000
    for i in range(n):
        f = av.VideoFrame.from_ndarray(np.roll(img, 2 * i, axis=1), format="rgb24")
        for p in s.encode(f):
            c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    return path


# ------------------------------------------------------------------------------------------ outputs


def test_estimate_image_writes_every_format(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = _run("estimate", str(demo_image_path()), "-o", str(out), "--format", "json,csv,parquet", "--render")
    assert r.exit_code == 0, r.output
    assert _files(out) == sorted(
        [
            "grace_hopper.poses.json",
            "grace_hopper.coco.json",
            "grace_hopper.keypoints.csv",
            "grace_hopper.keypoints.parquet",
            "grace_hopper.annotated.jpg",
        ]
    )
    frames = load_poses(out / "grace_hopper.poses.json")
    assert len(frames) == 1 and len(frames[0]) == 1
    coco = json.loads((out / "grace_hopper.coco.json").read_text())
    assert len(coco["annotations"]) == 1 and len(coco["annotations"][0]["keypoints"]) == 51
    import pandas as pd

    df = pd.read_csv(out / "grace_hopper.keypoints.csv")
    assert list(df.columns) == ["frame", "time", "track_id", "person", "keypoint", "x", "y", "z", "score", "state"]
    assert len(df) == 33
    assert Image.open(out / "grace_hopper.annotated.jpg").size == Image.open(demo_image_path()).size


def test_estimate_video_with_hands_face_and_render(tmp_path: Path, person: np.ndarray) -> None:
    video = _person_video(tmp_path / "clip.mp4", person, n=12)
    out = tmp_path / "out"
    r = _run("estimate", str(video), "-o", str(out), "--render", "--hands", "--face", "-f", "json,csv")
    assert r.exit_code == 0, r.output
    seq = load_poses(out / "clip.poses.json")
    assert seq.num_frames == 12 and seq.num_individuals >= 1
    assert "face" in seq.parts and "left_hand" in seq.parts
    assert seq.parts["face"].present.any(), "the face of the demo photo is found"
    with av.open(str(out / "clip.annotated.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == 12


def test_demo_command(tmp_path: Path) -> None:
    r = _run("demo", "-o", str(tmp_path / "d"))
    assert r.exit_code == 0, r.output
    assert "annotated image:" in r.output and "keypoints:" in r.output
    assert (tmp_path / "d" / "grace_hopper.annotated.jpg").is_file()


def test_max_people_and_format_validation(tmp_path: Path) -> None:
    r = _run("estimate", str(demo_image_path()), "-o", str(tmp_path / "o"), "--format", "xml")
    assert r.exit_code != 0 and "xml" in r.output
    r = _run("estimate", str(demo_image_path()), "-o", str(tmp_path / "o"), "--max-people", "0")
    assert r.exit_code == 2 and "max_people" in r.output
    assert _files(tmp_path / "o") == []


# ------------------------------------------------------------------------------------------ bad input


def _assert_clean_failure(r, out: Path, *needles: str) -> None:
    assert r.exit_code != 0
    text = r.output
    assert "error:" in text
    for n in needles:
        assert n in text, f"{n!r} not in {text!r}"
    assert _files(out) == [], f"half-written output: {_files(out)}"


def test_missing_path(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = _run("estimate", str(tmp_path / "nope.jpg"), "-o", str(out))
    _assert_clean_failure(r, out, "nope.jpg", "does not exist")


def test_folder_with_no_images(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("hello")
    out = tmp_path / "out"
    _assert_clean_failure(_run("estimate", str(tmp_path / "in"), "-o", str(out)), out, "in", "no images")


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    out = tmp_path / "out"
    _assert_clean_failure(_run("estimate", str(tmp_path / "empty.jpg"), "-o", str(out)), out, "empty.jpg", "empty")


def test_text_file_named_jpg(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_text("this is not an image\n")
    out = tmp_path / "out"
    r = _run("estimate", str(tmp_path / "photo.jpg"), "-o", str(out))
    _assert_clean_failure(r, out, "photo.jpg", "not a readable image")


def test_unsupported_extension(tmp_path: Path) -> None:
    (tmp_path / "model.obj").write_text("v 0 0 0\n")
    out = tmp_path / "out"
    r = _run("estimate", str(tmp_path / "model.obj"), "-o", str(out))
    _assert_clean_failure(r, out, "model.obj", "unsupported")


def test_one_by_one_image(tmp_path: Path) -> None:
    Image.new("RGB", (1, 1)).save(tmp_path / "dot.png")
    out = tmp_path / "out"
    _assert_clean_failure(_run("estimate", str(tmp_path / "dot.png"), "-o", str(out)), out, "dot.png", "1×1")


def test_image_above_pixel_limit(tmp_path: Path) -> None:
    Image.new("RGB", (400, 300)).save(tmp_path / "big.png")
    cfg = tmp_path / "c.toml"
    cfg.write_text("[estimate]\nmax_pixels = 100000\n")
    out = tmp_path / "out"
    r = _run("estimate", str(tmp_path / "big.png"), "-o", str(out), "--config", str(cfg))
    _assert_clean_failure(r, out, "big.png", "120000", "100000")


def test_file_with_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    c = av.open(str(path), "w")
    s = c.add_stream("aac", rate=8000)
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
    frame.sample_rate = 8000
    for p in s.encode(frame):
        c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    out = tmp_path / "out"
    _assert_clean_failure(_run("estimate", str(path), "-o", str(out)), out, "sound.mp4", "no video stream")


def test_output_folder_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = _run("estimate", str(demo_image_path()), "-o", str(blocker / "sub"))
    assert r.exit_code != 0 and "error:" in r.output and "output folder" in r.output


def test_malformed_config(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[estimate\nmax_people = 3\n")
    out = tmp_path / "out"
    r = _run("estimate", str(demo_image_path()), "-o", str(out), "--config", str(cfg))
    _assert_clean_failure(r, out, "bad.toml", "TOML")


def test_truncated_video_keeps_frames_before_the_break(tmp_path: Path, person: np.ndarray) -> None:
    full = _person_video(tmp_path / "full.mp4", person, n=24, options={"movflags": "faststart"})
    cut = tmp_path / "broken.mp4"
    data = full.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "out"
    r = _run("estimate", str(cut), "-o", str(out), "-f", "json,csv", "--render")
    assert r.exit_code == 1, r.output
    assert "broken.mp4" in r.output and "decoding stopped at frame" in r.output
    seq = load_poses(out / "broken.poses.json")
    assert 0 < seq.num_frames < 24
    assert seq.present.any(), "the frames before the break are estimated and kept"
    assert (out / "broken.keypoints.csv").is_file()
    with av.open(str(out / "broken.annotated.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == seq.num_frames
    assert not [p for p in _files(out) if ".tmp" in p]


def test_console_script_exit_code(tmp_path: Path) -> None:
    """The installed entry point (a real process) exits non-zero with the message on stderr."""
    env = dict(os.environ)
    p = subprocess.run(
        [sys.executable, "-m", "posekit.cli", "estimate", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 2
    assert "missing.mp4" in p.stderr and "does not exist" in p.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("options", "steps"),
    [
        ([], ["estimate", "track", "filter.one-euro"]),
        (["--smooth", "butterworth"], ["estimate", "track", "filter.butterworth"]),
        (["--no-smooth"], ["estimate", "track"]),
        (["--no-smooth", "--no-track"], ["estimate"]),
    ],
)
def test_video_tracking_and_smoothing_are_recorded(tmp_path: Path, person: np.ndarray, options, steps) -> None:
    video = _person_video(tmp_path / "clip.mp4", person, n=12)
    out = tmp_path / "out"
    r = _run("estimate", str(video), "-o", str(out), *options)
    assert r.exit_code == 0, r.output
    seq = load_poses(out / "clip.poses.json")
    got = [p["step"] for p in seq.provenance]
    assert [s for s in got if s in ("estimate", "track") or s.startswith("filter.")] == steps
    assert seq.present.any(-1).any(-1).all(), "the person is in every frame"
    if "--no-track" not in options:
        assert seq.num_individuals == 1, "the identity tracker keeps one id for the one person"


def test_unknown_smoother_is_refused(tmp_path: Path) -> None:
    r = _run("estimate", str(demo_image_path()), "-o", str(tmp_path / "o"), "--smooth", "median")
    assert r.exit_code != 0 and "median" in r.output


def test_stabilize_command_on_saved_results(tmp_path: Path, person: np.ndarray) -> None:
    video = _person_video(tmp_path / "clip.mp4", person, n=12)
    _run("estimate", str(video), "-o", str(tmp_path / "raw"), "--no-smooth")
    r = _run("stabilize", str(tmp_path / "raw" / "clip.poses.json"), "-o", str(tmp_path / "s.poses.json"), "--filter", "savgol")
    assert r.exit_code == 0, r.output
    seq = load_poses(tmp_path / "s.poses.json")
    assert "filter.savgol" in [p["step"] for p in seq.provenance]


def test_help_shows_bracketed_defaults() -> None:
    """Rich markup would swallow ``[loopback only]``-style defaults; they are escaped and shown."""
    wide = {"COLUMNS": "200"}
    assert "[loopback only]" in runner.invoke(app, ["review", "--help"], env=wide).output
    assert "[a temporary folder]" in runner.invoke(app, ["review", "--help"], env=wide).output
    assert "[estimate] table" in runner.invoke(app, ["estimate", "--help"], env=wide).output
    assert "[from its category]" in runner.invoke(app, ["qa", "--help"], env=wide).output
