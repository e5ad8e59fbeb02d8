"""The live (webcam) path of ``posekit estimate``, with a real clip standing in for the camera.

No camera exists on the test machines, so ``VideoReader.webcam`` is replaced by a reader of a real
UP-Fall recording opened exactly as a camera is (``live=True``: one pass, no container diagnosis). What
runs is the CLI's live path: online tracker + One Euro frame by frame, drawn as it comes, stopped by
``--max-frames`` or by Ctrl-C (KeyboardInterrupt), after which what was captured is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from posekit.cli import app
from posekit.io import video as video_mod
from posekit.io.posekit_json import load_poses
from posekit.poses import KeypointState

CLIP = "5_plain_videos/upfall_via_HumanFallDetection/dataset/Activity6/Subject1/Trial1Cam1.mp4"
runner = CliRunner()


@pytest.fixture()
def fake_camera(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """``/dev/video0`` reads the UP-Fall clip; ``stop_after`` frames, then Ctrl-C (``None``: never)."""
    clip = data_dir / CLIP
    state = {"stop_after": None}

    def webcam(cls, index: int = 0, *, options=None, max_pixels: int = video_mod.DEFAULT_MAX_PIXELS):
        self = cls.__new__(cls)
        self._init(str(clip), Path(f"/dev/video{index}"), None, None, max_pixels=max_pixels, thread_type="AUTO", live=True, label=f"webcam {index}")
        inner = cls.__iter__

        def frames(me):
            for k, f in enumerate(inner(me)):
                if state["stop_after"] is not None and k >= state["stop_after"]:
                    raise KeyboardInterrupt
                yield f

        monkeypatch.setattr(cls, "__iter__", frames)
        return self

    monkeypatch.setattr(video_mod.VideoReader, "webcam", classmethod(webcam))
    return state


def _check_output(out: Path, n: int) -> None:
    seq = load_poses(out / "webcam0.poses.json")
    assert seq.num_frames == n
    assert np.all(np.diff(seq.time) > 0)  # capture times, increasing
    assert (seq.state == KeypointState.VISIBLE).sum() > 0  # the walker is found
    prov = {p["step"]: p["params"] for p in json.loads((out / "webcam0.poses.json").read_text())["provenance"]}
    assert prov["track"]["mode"] == "online"  # live: frame by frame, no offline pass
    assert prov["stabilize"] == {"mode": "online", "filter": "one-euro"}


def test_webcam_run_stops_at_max_frames_and_writes_everything(fake_camera, tmp_path: Path) -> None:
    out = tmp_path / "cam"
    res = runner.invoke(app, ["estimate", "0", "-o", str(out), "--max-frames", "60", "--render", "--format", "json,csv"])
    assert res.exit_code == 0, res.output
    assert {"webcam0.poses.json", "webcam0.keypoints.csv", "webcam0.annotated.mp4"} <= {p.name for p in out.iterdir()}
    _check_output(out, 60)


def test_webcam_run_ended_by_ctrl_c_keeps_what_was_captured(fake_camera, tmp_path: Path) -> None:
    fake_camera["stop_after"] = 45
    out = tmp_path / "cam"
    res = runner.invoke(app, ["estimate", "/dev/video0", "-o", str(out), "--render"])
    assert res.exit_code == 0, res.output
    _check_output(out, 45)
    assert (out / "webcam0.annotated.mp4").stat().st_size > 0
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]


def test_missing_camera_is_one_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["estimate", "57", "-o", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert "webcam 57" in res.output and "/dev/video57" in res.output
    assert not (tmp_path / "o").exists()
