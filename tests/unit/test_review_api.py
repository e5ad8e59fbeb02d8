"""API tests of the review server (FastAPI TestClient) and a kill -9 durability test."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from posekit.errors import InputError
from posekit.review.fixtures import synthetic_image_project, synthetic_video_project
from posekit.review.server import build_service, create_app

TOKEN = "test-token-123"
H = {"X-Posekit-Token": TOKEN}


@pytest.fixture()
def video(tmp_path: Path):
    v, a = synthetic_video_project(tmp_path / "v", frames=8)
    svc = build_service(v, a)
    client = TestClient(create_app(svc, TOKEN, export_dir=tmp_path / "out"), base_url="http://127.0.0.1")
    yield client, svc, tmp_path
    svc.store.close()
    svc.project.close()


@pytest.fixture()
def images(tmp_path: Path):
    d, a = synthetic_image_project(tmp_path / "i")
    svc = build_service(d, a)
    client = TestClient(create_app(svc, TOKEN, export_dir=tmp_path / "out"), base_url="http://127.0.0.1")
    yield client, svc, tmp_path
    svc.store.close()


def _move(c, frame=2, person=0, version=0, kp="nose", x=10.0, y=20.0, reviewer="ann"):
    return c.post("/api/edits", headers=H, json={"reviewer": reviewer, "op": "move", "frame": frame, "person": person,
                                                 "version": version, "keypoint": kp, "x": x, "y": y})  # fmt: skip


ROUTES = [("GET", "/api/project"), ("GET", "/api/frames"), ("GET", "/api/frames/0/image"),
          ("GET", "/api/frames/0/poses"), ("GET", "/api/findings"), ("GET", "/api/queue"), ("GET", "/api/edits"),
          ("POST", "/api/edits"), ("POST", "/api/findings/0/decision"), ("POST", "/api/undo"),
          ("POST", "/api/redo"), ("POST", "/api/export"), ("GET", "/")]  # fmt: skip


@pytest.mark.parametrize("method,path", ROUTES)
def test_every_route_needs_the_token(video, method, path):
    c, svc, _ = video
    n = svc.store.count()
    for headers in ({}, {"X-Posekit-Token": "wrong"}, {"Authorization": "Bearer nope"}):
        r = c.request(method, path, headers=headers, json={"reviewer": "x"} if method == "POST" else None)
        assert r.status_code == 401, (path, r.status_code)
        assert "token" in r.json()["detail"]
    assert svc.store.count() == n


def test_token_as_query_header_bearer_and_cookie(video):
    c, _, _ = video
    assert c.get(f"/api/project?token={TOKEN}").status_code == 200
    assert c.get("/api/project", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    r = c.get(f"/?token={TOKEN}")
    assert r.status_code == 200 and "<canvas" in r.text
    assert "posekit_token" in r.headers.get("set-cookie", "")
    c.cookies.set("posekit_token", TOKEN)
    assert c.get("/api/project").status_code == 200


def test_foreign_host_refused(video):
    c, _, _ = video
    r = c.get("/api/project", headers={**H, "Host": "evil.example:8000"})
    assert r.status_code == 400


def test_read_routes(video):
    c, svc, _ = video
    p = c.get("/api/project", headers=H).json()
    assert p["kind"] == "video" and p["frames"] == 8 and p["skeleton"]["name"] == "coco17"
    assert (p["width"], p["height"]) == (320, 240)
    fr = c.get("/api/frames", headers=H).json()["frames"]
    assert [f["frame"] for f in fr] == list(range(8)) and fr[1]["time"] == pytest.approx(0.1)
    img = c.get("/api/frames/5/image", headers=H)
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg" and img.content[:2] == b"\xff\xd8"
    poses = c.get("/api/frames/5/poses", headers=H).json()
    assert len(poses["people"]) == 2 and poses["people"][1]["xy"][3] == [None, None]
    assert poses["people"][1]["state"][3] == 0 and poses["people"][0]["track"] == 1
    assert c.get("/api/findings", headers=H).json() == {"findings": []}
    assert c.get("/api/queue", headers=H).json()["format"] == "posekit-review-queue"
    for bad in ("8", "-1", "x", "..%2F..%2Fetc%2Fpasswd"):
        r = c.get(f"/api/frames/{bad}/poses", headers=H)
        assert r.status_code == 404, bad
        assert c.get(f"/api/frames/{bad}/image", headers=H).status_code == 404
    assert c.get("/api/nothing", headers=H).status_code == 404


def test_static_files_cannot_escape(video):
    c, _, _ = video
    assert c.get("/static/app.js").status_code == 200
    for p in ("/static/..%2F..%2Fstore.py", "/static/../server.py", "/static/%2e%2e/__init__.py", "/static/x.py"):
        assert c.get(p, headers=H).status_code in (401, 404), p


def test_move_state_swap_and_conflict(video):
    c, svc, _ = video
    r = _move(c)
    assert r.status_code == 200, r.text
    person = r.json()["person"]
    assert person["xy"][0] == [10.0, 20.0] and person["state"][0] == 5 and person["version"] == 1
    # a second reviewer based on version 0 gets 409 with the current value, nothing stored
    n = svc.store.count()
    r = _move(c, version=0, x=99.0, reviewer="bob")
    assert r.status_code == 409
    assert r.json()["version"] == 1 and r.json()["current"]["xy"][0] == [10.0, 20.0]
    assert svc.store.count() == n
    # state: occluded keeps the position, missing sets NaN
    body = {"reviewer": "ann", "op": "state", "frame": 2, "person": 0, "version": 1, "keypoint": "left_wrist"}
    r = c.post("/api/edits", headers=H, json={**body, "state": "occluded"})
    assert r.status_code == 200 and r.json()["person"]["state"][9] == 2 and r.json()["person"]["xy"][9][0] is not None
    r = c.post("/api/edits", headers=H, json={**body, "version": 2, "state": "missing"})
    assert r.json()["person"]["state"][9] == 0 and r.json()["person"]["xy"][9] == [None, None]
    # missing → visible without a position is refused
    r = c.post("/api/edits", headers=H, json={**body, "version": 3, "state": "visible"})
    assert r.status_code == 422 and "position" in r.json()["detail"]
    # swap left/right
    before = c.get("/api/frames/2/poses", headers=H).json()["people"][0]
    r = c.post("/api/edits", headers=H, json={"reviewer": "ann", "op": "swap", "frame": 2, "person": 0, "version": 3})
    after = r.json()["person"]
    assert after["xy"][5] == before["xy"][6] and after["xy"][6] == before["xy"][5]
    assert after["state"][10] == before["state"][9] == 0


def test_track_reassign_video_and_images(video, images):
    c, svc, _ = video
    body = {"reviewer": "ann", "op": "track", "frame": 4, "person": 1, "version": 0}
    r = c.post("/api/edits", headers=H, json={**body, "track": 1})  # used by person 0
    assert r.status_code == 409
    r = c.post("/api/edits", headers=H, json={**body, "track": 7})
    assert r.status_code == 200
    assert c.get("/api/frames/0/poses", headers=H).json()["people"][1]["track"] == 7  # whole video
    ci, _, _ = images
    r = ci.post("/api/edits", headers=H, json={**body, "frame": 1, "track": 3})
    assert r.status_code == 200 and r.json()["person"]["track"] == 3


@pytest.mark.parametrize("payload,status", [
    ({"op": "move", "frame": 2, "person": 0, "version": 0, "keypoint": "nose", "x": 1, "y": 2}, 422),  # no reviewer
    ({"reviewer": "a", "op": "fly", "frame": 2, "person": 0, "version": 0}, 422),
    ({"reviewer": "a", "op": "move", "frame": 99, "person": 0, "version": 0, "keypoint": "nose", "x": 1, "y": 2}, 404),
    ({"reviewer": "a", "op": "move", "frame": 2, "person": 5, "version": 0, "keypoint": "nose", "x": 1, "y": 2}, 404),
    ({"reviewer": "a", "op": "move", "frame": 2, "person": 0, "version": 0, "keypoint": "tail", "x": 1, "y": 2}, 404),
    ({"reviewer": "a", "op": "move", "frame": 2, "person": 0, "version": 0, "keypoint": 17, "x": 1, "y": 2}, 404),
    ({"reviewer": "a", "op": "move", "frame": 2, "person": 0, "version": 0, "keypoint": "nose", "x": "a", "y": 2}, 422),
    ({"reviewer": "a", "op": "move", "frame": 2, "person": 0, "version": 0, "keypoint": "nose", "x": 1e9, "y": 2}, 422),
    ({"reviewer": "a", "op": "move", "frame": 2, "person": 0, "keypoint": "nose", "x": 1, "y": 2}, 422),  # no version
    ({"reviewer": "a", "op": "move", "frame": "2", "person": 0, "version": 0, "keypoint": "nose", "x": 1, "y": 2}, 422),
    ({"reviewer": "a", "op": "state", "frame": 2, "person": 0, "version": 0, "keypoint": "nose", "state": "gone"}, 422),
    ({"reviewer": "a", "op": "track", "frame": 2, "person": 0, "version": 0, "track": "x"}, 422),
])  # fmt: skip
def test_bad_edits_leave_store_untouched(video, payload, status):
    c, svc, _ = video
    r = c.post("/api/edits", headers=H, json=payload)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert svc.store.count() == 0


def test_malformed_bodies_and_size_limit(video):
    c, svc, _ = video
    r = c.post("/api/edits", headers={**H, "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 400
    r = c.post("/api/edits", headers=H, json=[1, 2])
    assert r.status_code == 400
    r = c.post("/api/edits", headers=H, content=b"x" * (65 * 1024))
    assert r.status_code == 413
    assert svc.store.count() == 0


def test_findings_decision(tmp_path):
    # a project whose poses have a QA finding: a keypoint flagged visible far outside the image
    d, a = synthetic_image_project(tmp_path / "i")
    doc = json.loads(a.read_text())
    doc["annotations"][0]["keypoints"][0:3] = [5000.0, 5000.0, 2]
    a.write_text(json.dumps(doc))
    svc = build_service(d, a)
    c = TestClient(create_app(svc, TOKEN, export_dir=tmp_path / "out"), base_url="http://127.0.0.1")
    f = c.get("/api/findings", headers=H).json()["findings"]
    assert f, "expected a finding for a keypoint outside the image"
    assert f[0]["status"] == "open" and f[0]["version"] == 0
    assert c.get("/api/queue", headers=H).json()["items"]
    r = c.post("/api/findings/0/decision", headers=H, json={"reviewer": "ann", "status": "accepted", "comment": "real", "version": 0})
    assert r.status_code == 200 and r.json()["finding"]["status"] == "accepted"
    r = c.post("/api/findings/0/decision", headers=H, json={"reviewer": "bob", "status": "dismissed", "comment": "", "version": 0})
    assert r.status_code == 409 and r.json()["current"]["status"] == "accepted"
    assert c.post("/api/findings/999/decision", headers=H, json={"reviewer": "a", "status": "accepted", "version": 0}).status_code == 404
    assert c.post("/api/findings/0/decision", headers=H, json={"reviewer": "a", "status": "maybe", "version": 1}).status_code == 422
    out = c.post("/api/export", headers=H, json={}).json()["written"]
    log = json.loads(Path(out["log"]).read_text())
    assert log["findings"][0]["status"] == "accepted" and log["findings"][0]["comment"] == "real"
    svc.store.close()


def test_undo_redo(video):
    c, svc, _ = video
    orig = c.get("/api/frames/2/poses", headers=H).json()["people"][0]["xy"][0]
    _move(c, x=1.0, y=2.0)
    r = c.post("/api/undo", headers=H, json={"reviewer": "ann"})
    assert r.status_code == 200 and r.json()["frame"] == 2
    p = c.get("/api/frames/2/poses", headers=H).json()["people"][0]
    assert p["xy"][0] == orig and p["state"][0] == 1 and p["version"] == 2
    assert c.post("/api/undo", headers=H, json={"reviewer": "ann"}).status_code == 409  # nothing left
    assert c.post("/api/redo", headers=H, json={"reviewer": "ann"}).status_code == 200
    assert c.get("/api/frames/2/poses", headers=H).json()["people"][0]["xy"][0] == [1.0, 2.0]
    assert c.post("/api/redo", headers=H, json={"reviewer": "ann"}).status_code == 409
    # undo must not overwrite another reviewer's later edit
    _move(c, version=3, x=5.0, y=5.0, reviewer="bob")
    r = c.post("/api/undo", headers=H, json={"reviewer": "ann"})
    assert r.status_code == 409
    assert c.get("/api/frames/2/poses", headers=H).json()["people"][0]["xy"][0] == [5.0, 5.0]
    hist = c.get("/api/edits", headers=H).json()["edits"]
    assert [e["kind"] for e in hist] == ["edit", "undo", "redo", "edit"]
    assert hist[0]["reviewer"] == "ann" and hist[0]["before"]["xy"][0] == orig and hist[0]["after"]["xy"][0] == [1.0, 2.0]


def test_export_video(video):
    c, svc, tmp = video
    _move(c, frame=3, person=1, kp="nose", x=33.0, y=44.0)
    c.post("/api/edits", headers=H, json={"reviewer": "ann", "op": "state", "frame": 3, "person": 0, "version": 0,
                                          "keypoint": "left_knee", "state": "missing"})  # fmt: skip
    w = c.post("/api/export", headers=H, json={}).json()["written"]
    from posekit.io.posekit_json import load_poses

    seq = load_poses(w["posekit"])
    assert seq.xy[3, 1, 0].tolist() == [33.0, 44.0] and seq.state[3, 1, 0] == 5
    assert math.isnan(seq.xy[3, 0, 13, 0]) and seq.state[3, 0, 13] == 0
    assert seq.provenance[-1]["step"] == "review"
    coco = json.loads(Path(w["coco"]).read_text())
    ann = [a for a in coco["annotations"] if a["image_id"] == 3]
    assert ann[1]["keypoints"][0:2] == [33.0, 44.0]
    assert ann[0]["keypoints"][13 * 3 + 2] == 0


def test_export_images(images):
    c, svc, tmp = images
    c.post("/api/edits", headers=H, json={"reviewer": "ann", "op": "state", "frame": 1, "person": 1, "version": 0,
                                          "keypoint": "right_hip", "state": "occluded"})  # fmt: skip
    w = c.post("/api/export", headers=H, json={}).json()["written"]
    coco = json.loads(Path(w["coco"]).read_text())
    ann = [a for a in coco["annotations"] if a["image_id"] == 11]
    assert ann[1]["keypoints"][12 * 3 + 2] == 1  # COCO v=1: labelled, not visible
    assert [a["id"] for a in coco["annotations"]] == [a["id"] for a in json.loads((tmp / "i" / "annotations.json").read_text())["annotations"]]


def test_bad_projects(tmp_path):
    v, a = synthetic_video_project(tmp_path / "v", frames=6)
    other, a2 = synthetic_video_project(tmp_path / "w", frames=4, width=160, height=120)
    with pytest.raises(InputError, match="does not match the video"):
        build_service(other, a)  # 6-frame 320x240 keypoints on a 4-frame 160x120 video
    d, ca = synthetic_image_project(tmp_path / "i")
    doc = json.loads(ca.read_text())
    doc["images"][0]["file_name"] = "../../../etc/passwd"
    ca.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="outside the image folder"):
        build_service(d, ca)
    with pytest.raises(InputError, match="does not exist"):
        build_service(tmp_path / "nothing.mp4", a)


def test_store_refuses_other_poses(tmp_path):
    v, a = synthetic_video_project(tmp_path / "v", frames=6)
    svc = build_service(v, a, db=tmp_path / "s.sqlite")
    svc.store.close()
    v2, a2 = synthetic_video_project(tmp_path / "w", frames=7)
    with pytest.raises(InputError, match="other poses"):
        build_service(v2, a2, db=tmp_path / "s.sqlite")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(v: Path, a: Path, db: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "posekit.review.server", str(v), "--annotations", str(a),
                             "--db", str(db), "--port", str(port), "--token", TOKEN, "--no-checks"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/project", headers=H, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server did not start: {proc.stdout.read().decode() if proc.stdout else ''}")


def test_kill_9_during_burst_keeps_every_acknowledged_edit(tmp_path):
    v, a = synthetic_video_project(tmp_path / "v", frames=10)
    db = tmp_path / "edits.sqlite"
    port = _free_port()
    proc = _start(v, a, db, port)
    acked: list[tuple[int, int, float]] = []  # (frame, person, x)
    stop = threading.Event()

    def burst() -> None:
        versions: dict[tuple[int, int], int] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=H, timeout=5) as cl:
            i = 0
            while not stop.is_set():
                f, p = i % 10, (i // 10) % 2
                x = 1000.0 + i
                try:
                    r = cl.post("/api/edits", json={"reviewer": "k", "op": "move", "frame": f, "person": p, "keypoint": "nose",
                                                    "version": versions.get((f, p), 0), "x": x, "y": 1.0})  # fmt: skip
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    versions[(f, p)] = r.json()["person"]["version"]
                    acked.append((f, p, x))
                i += 1

    th = threading.Thread(target=burst)
    th.start()
    while len(acked) < 40 and th.is_alive():
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stop.set()
    th.join(10)
    assert len(acked) >= 40
    # restart on the same store and export
    port2 = _free_port()
    proc2 = _start(v, a, db, port2)
    try:
        out = httpx.post(f"http://127.0.0.1:{port2}/api/export", headers=H, json={}, timeout=30).json()["written"]
    finally:
        proc2.terminate()
        proc2.wait(10)
    from posekit.io.posekit_json import load_poses

    seq = load_poses(out["posekit"])
    last: dict[tuple[int, int], float] = {}
    for f, p, x in acked:
        last[(f, p)] = x
    for (f, p), x in last.items():
        # the export holds the last acknowledged value, or a later one that was committed but not acknowledged
        got = float(seq.xy[f, p, 0, 0])
        assert got >= x, (f, p, got, x)
    log = json.loads(Path(out["log"]).read_text())
    stored = {e["after"]["xy"][0][0] for e in log["edits"]}
    assert all(x in stored for _, _, x in acked)


def test_frame_access_matches_video_reader(tmp_path):
    import numpy as np

    from posekit.io.video import VideoReader
    from posekit.review.project import _VideoFrames

    v, _ = synthetic_video_project(tmp_path / "v", frames=40)
    ref = {f.index: f.image for f in VideoReader(v)}
    vf = _VideoFrames(v)
    assert len(vf) == 40 and (vf.width, vf.height) == (320, 240)
    for i in (30, 2, 3, 39, 0, 17, 16, 15, 31):  # jumps, steps forward and back
        assert np.array_equal(vf.rgb(i), ref[i]), i
    vf.close()


def test_jpeg_cache_and_prefetch(video):
    c, svc, _ = video
    p = svc.project
    a = p.jpeg(2)
    assert p.jpeg(2) is a  # cached bytes
    p._pending.result(10)  # the next frame was prefetched in the background
    assert p._cache.get(3) is not None


def test_warm_caches_queue_frames(video):
    _, svc, _ = video
    p = svc.project
    p.warm([6, 1, 99])
    p._pending.result(10)
    assert p._cache.get(1) is not None and p._cache.get(6) is not None


def test_swap_follows_scores_and_world_in_export(tmp_path):
    import numpy as np

    from posekit.io.posekit_json import load_poses, save_poses

    v, a = synthetic_video_project(tmp_path / "v", frames=5)
    seq = load_poses(a)
    k = seq.xy.shape[2]
    score = np.tile(np.linspace(0.1, 0.9, k, dtype=np.float32), seq.xy.shape[:2] + (1,))
    score[seq.state == 0] = 0
    world = np.tile(np.arange(k, dtype=float)[:, None].repeat(3, 1), seq.xy.shape[:2] + (1, 1))
    world[seq.state == 0] = np.nan
    import dataclasses

    save_poses(dataclasses.replace(seq, score=score, world=world), a)
    svc = build_service(v, a)
    c = TestClient(create_app(svc, TOKEN, export_dir=tmp_path / "out"), base_url="http://127.0.0.1")
    r = c.post("/api/edits", headers=H, json={"reviewer": "a", "op": "swap", "frame": 1, "person": 0, "version": 0})
    assert r.status_code == 200
    assert r.json()["person"]["score"][5] == pytest.approx(float(score[1, 0, 6]), abs=1e-4)
    _move(c, frame=1, person=0, version=1, kp="left_knee", x=50.0, y=60.0)
    out = load_poses(c.post("/api/export", headers=H, json={}).json()["written"]["posekit"])
    assert out.score[1, 0, 5] == pytest.approx(score[1, 0, 6]) and out.score[1, 0, 6] == pytest.approx(score[1, 0, 5])
    assert out.world[1, 0, 5, 0] == 6.0 and out.world[1, 0, 6, 0] == 5.0
    assert np.isnan(out.world[1, 0, 13]).all()  # moved by hand: its 3D position is no longer known
    assert out.world[2, 0, 5, 0] == 5.0  # other frames untouched
    svc.store.close()


def test_review_export_command(tmp_path):
    import typer
    from typer.testing import CliRunner

    from posekit.cli_review import review_command, review_export_command

    app = typer.Typer()
    app.command("review")(review_command)
    app.command("review-export")(review_export_command)
    v, a = synthetic_video_project(tmp_path / "v", frames=4)
    r = CliRunner().invoke(app, ["review-export", str(v), "-o", str(tmp_path / "out")])
    assert r.exit_code == 2 and "no edit store" in r.output
    svc = build_service(v, a)
    svc.edit({"reviewer": "a", "op": "move", "frame": 1, "person": 0, "version": 0, "keypoint": 0, "x": 7.0, "y": 8.0})
    svc.store.close()
    r = CliRunner().invoke(app, ["review-export", str(v), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out" / "clip.reviewed.coco.json").read_text())
    assert [x for x in doc["annotations"] if x["image_id"] == 1][0]["keypoints"][:2] == [7.0, 8.0]
    r = CliRunner().invoke(app, ["review", str(tmp_path / "none.mp4"), "--no-browser"])
    assert r.exit_code == 2 and "does not exist" in r.output


# -- identity repair: per-frame track ids ---------------------------------------------------------------


@pytest.fixture()
def trio(tmp_path: Path):
    """An 8-frame video with three people (track ids 1, 2, 3); person 1's left_ear is MISSING throughout."""
    v, a = synthetic_video_project(tmp_path / "v3", frames=8, people=3)
    svc = build_service(v, a, proxy=False)
    client = TestClient(create_app(svc, TOKEN, export_dir=tmp_path / "out"), base_url="http://127.0.0.1")
    yield client, svc, tmp_path, a
    svc.store.close()
    svc.project.close()


def _ids(c, frame: int) -> list[int]:
    return [p["track"] for p in c.get(f"/api/frames/{frame}/poses", headers=H).json()["people"]]


def _ident(c, op, frame, person, version, reviewer="ann", **kw):
    return c.post("/api/edits", headers=H, json={"reviewer": reviewer, "op": op, "frame": frame, "person": person,
                                                 "version": version, **kw})  # fmt: skip


def test_track_reassign_from_frame(trio):
    c, svc, _, _ = trio
    r = _ident(c, "track", 5, 2, 0, track=9, from_frame=5)
    assert r.status_code == 200, r.text
    assert r.json()["person"]["track"] == 9 and r.json()["person"]["track_from"] == 5
    assert [_ids(c, f)[2] for f in range(8)] == [3] * 5 + [9] * 3
    assert _ids(c, 4) == [1, 2, 3] and _ids(c, 5) == [1, 2, 9]
    people = c.get("/api/frames/6/poses", headers=H).json()["people"]
    assert {p["track_version"] for p in people} == {1}  # one version for every person's ids
    # a fragment merge: person 0 leaves id 1 from frame 6, then person 1 takes id 1 from frame 6 on
    assert _ident(c, "track", 6, 0, 1, track=50, from_frame=6).status_code == 200
    assert _ident(c, "track", 6, 1, 2, track=1, from_frame=6).status_code == 200
    assert [_ids(c, f)[:2] for f in (5, 6, 7)] == [[1, 2], [50, 1], [50, 1]]


def test_track_reassign_conflict_names_frame_and_person(trio):
    c, svc, _, _ = trio
    assert _ident(c, "track", 4, 0, 0, track=40, from_frame=4).status_code == 200  # id 1: person 0 before frame 4
    n = svc.store.count()
    hist = c.get("/api/edits", headers=H).json()
    r = _ident(c, "track", 2, 2, 1, track=1, from_frame=2)  # person 0 has id 1 in frames 2, 3
    assert r.status_code == 409
    d = r.json()
    assert "frame 2" in d["detail"] and "person 0" in d["detail"] and "swap_tracks" in d["detail"]
    assert d["conflict"] == {"frame": 2, "person": 0, "track": 1, "from_frame": 2}
    r = _ident(c, "track", 0, 1, 1, track=3)  # whole video: person 2 has id 3 from frame 0
    assert r.status_code == 409 and "frame 0" in r.json()["detail"] and "person 2" in r.json()["detail"]
    assert svc.store.count() == n and c.get("/api/edits", headers=H).json() == hist
    assert _ids(c, 2) == [1, 2, 3] and _ids(c, 5) == [40, 2, 3]
    # from frame 4 on, id 1 is free: allowed
    assert _ident(c, "track", 4, 2, 1, track=1, from_frame=4).status_code == 200
    assert _ids(c, 3) == [1, 2, 3] and _ids(c, 4) == [40, 2, 1]
    # -1 (no id) never conflicts
    assert _ident(c, "track", 4, 1, 2, track=-1, from_frame=4).status_code == 200
    assert _ident(c, "track", 4, 2, 3, track=-1, from_frame=4).status_code == 200
    assert _ids(c, 7) == [40, -1, -1]


@pytest.mark.parametrize("extra,status", [
    ({"op": "track", "track": 9, "from_frame": "3"}, 422),
    ({"op": "track", "track": 9, "from_frame": 3.0}, 422),
    ({"op": "track", "track": 9, "from_frame": True}, 422),
    ({"op": "track", "track": 9, "from_frame": 8}, 404),
    ({"op": "track", "track": 9, "from_frame": -1}, 404),
    ({"op": "track", "track": -2, "from_frame": 1}, 422),
    ({"op": "swap_tracks"}, 422),  # no other
    ({"op": "swap_tracks", "other": 0}, 422),  # itself
    ({"op": "swap_tracks", "other": "1"}, 422),
    ({"op": "swap_tracks", "other": None}, 422),
    ({"op": "swap_tracks", "other": 3}, 404),
    ({"op": "swap_tracks", "other": 1, "from_frame": 99}, 404),
    ({"op": "swap_tracks", "other": 1, "from_frame": [2]}, 422),
    ({"op": "move", "keypoint": "nose", "x": 1, "y": 2, "from_frame": 2}, 422),  # from_frame: identity edits only
])  # fmt: skip
def test_malformed_identity_edits_leave_store_untouched(trio, extra, status):
    c, svc, _, _ = trio
    r = c.post("/api/edits", headers=H, json={"reviewer": "a", "frame": 2, "person": 0, "version": 0, **extra})
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert svc.store.count() == 0


def test_swap_tracks_images_refused(images):
    c, svc, _ = images
    r = _ident(c, "swap_tracks", 1, 0, 0, other=1)
    assert r.status_code == 422 and "video" in r.json()["detail"]
    r = _ident(c, "track", 1, 0, 0, track=4, from_frame=1)
    assert r.status_code == 422 and "from_frame" in r.json()["detail"]
    assert svc.store.count() == 0


def test_swap_tracks_atomic_undo_redo_and_stale_version(trio):
    c, svc, _, _ = trio
    r = _ident(c, "swap_tracks", 4, 0, 0, other=1, from_frame=4)
    assert r.status_code == 200, r.text
    assert r.json()["person"]["track"] == 2 and r.json()["person"]["track_version"] == 1
    assert [_ids(c, f) for f in (0, 3, 4, 7)] == [[1, 2, 3], [1, 2, 3], [2, 1, 3], [2, 1, 3]]
    hist = c.get("/api/edits", headers=H).json()["edits"]
    assert len(hist) == 1 and hist[0]["target"] == "ids" and hist[0]["op"] == "swap_tracks"  # one row for both
    assert hist[0]["before"]["segments"] == [[[0, 1]], [[0, 2]], [[0, 3]]]
    assert hist[0]["after"]["segments"] == [[[0, 1], [4, 2]], [[0, 2], [4, 1]], [[0, 3]]]
    # another reviewer based on version 0: 409 with the current value, nothing stored
    r = _ident(c, "swap_tracks", 2, 1, 0, reviewer="bob", other=2, from_frame=2)
    assert r.status_code == 409 and r.json()["version"] == 1 and r.json()["current"] == hist[0]["after"]
    r = _ident(c, "track", 2, 1, 0, reviewer="bob", track=77)
    assert r.status_code == 409 and r.json()["version"] == 1
    assert svc.store.count() == 1
    # swapping back later in the video: a second switch
    assert _ident(c, "swap_tracks", 6, 0, 1, other=1, from_frame=6).status_code == 200
    assert [_ids(c, f)[:2] for f in (3, 4, 5, 6, 7)] == [[1, 2], [2, 1], [2, 1], [1, 2], [1, 2]]
    # undo restores both people at once; redo re-applies
    r = c.post("/api/undo", headers=H, json={"reviewer": "ann"})
    assert r.status_code == 200 and r.json()["target"] == "ids"
    assert [_ids(c, f)[:2] for f in (3, 6)] == [[1, 2], [2, 1]]
    c.post("/api/undo", headers=H, json={"reviewer": "ann"})
    assert all(_ids(c, f) == [1, 2, 3] for f in range(8))
    c.post("/api/redo", headers=H, json={"reviewer": "ann"})
    assert _ids(c, 5) == [2, 1, 3] and _ids(c, 3) == [1, 2, 3]
    # bob edits identities after ann: ann's undo would overwrite bob's edit → 409
    assert _ident(c, "track", 1, 2, 5, reviewer="bob", track=30).status_code == 200
    assert c.post("/api/undo", headers=H, json={"reviewer": "ann"}).status_code == 409
    assert _ids(c, 5) == [2, 1, 30]
    # whole-video swap (no from_frame)
    assert _ident(c, "swap_tracks", 0, 2, 6, reviewer="bob", other=0).status_code == 200
    assert _ids(c, 0) == [30, 2, 1] and _ids(c, 5) == [30, 1, 2]


def test_export_after_identity_swap_regroups_individuals(trio):
    import numpy as np

    from posekit.io.posekit_json import load_poses

    c, svc, tmp, ann = trio
    src = load_poses(ann)
    # the tracker swapped persons 0 and 1 at frame 4: repair it, and fix a few keypoints on both sides
    assert _ident(c, "swap_tracks", 4, 0, 0, other=1, from_frame=4).status_code == 200
    _move(c, frame=6, person=0, kp="left_knee", x=11.0, y=12.0)  # slot 0 = id 2 from frame 4
    c.post("/api/edits", headers=H, json={"reviewer": "ann", "op": "state", "frame": 5, "person": 1, "version": 0,
                                          "keypoint": "right_wrist", "state": "occluded"})  # fmt: skip
    c.post("/api/edits", headers=H, json={"reviewer": "ann", "op": "state", "frame": 2, "person": 0, "version": 0,
                                          "keypoint": "nose", "state": "missing"})  # fmt: skip
    w = c.post("/api/export", headers=H, json={}).json()["written"]
    seq = load_poses(w["posekit"])
    assert seq.track_id.tolist() == [1, 2, 3] and seq.xy.shape[:2] == (8, 3)
    for f in range(8):
        a, b = (0, 1) if f < 4 else (1, 0)  # id 1 is slot a's skeleton, id 2 is slot b's
        for ind, slot in ((0, a), (1, b), (2, 2)):
            want = src.xy[f, slot].copy()
            if (f, slot) == (6, 0):
                want[13] = [11.0, 12.0]
            if (f, slot) == (2, 0):
                want[0] = np.nan
            np.testing.assert_array_equal(seq.xy[f, ind], want, err_msg=f"frame {f} individual {ind}")
    # states and scores follow the skeleton: slot 1's missing left_ear is id 2's before frame 4, id 1's after
    assert [int(seq.state[f, 0, 3]) for f in range(8)] == [1] * 4 + [0] * 4
    assert [int(seq.state[f, 1, 3]) for f in range(8)] == [0] * 4 + [1] * 4
    assert seq.score[5, 0, 3] == 0 and seq.score[5, 1, 3] == pytest.approx(0.9)
    assert seq.state[6, 1, 13] == 5 and seq.state[5, 0, 10] == 2 and seq.state[2, 0, 0] == 0  # CORRECTED, OCCLUDED, MISSING
    assert seq.provenance[-1]["params"]["identity_edits"] == 1
    coco = json.loads(Path(w["coco"]).read_text())
    per_image = {f: [a["track_id"] for a in coco["annotations"] if a["image_id"] == f] for f in (3, 5)}
    assert per_image == {3: [1, 2, 3], 5: [2, 1, 3]}
    a5 = [a for a in coco["annotations"] if a["image_id"] == 5]
    assert a5[1]["keypoints"][10 * 3 + 2] == 1  # slot 1 (id 1) right_wrist occluded: COCO v=1
    log = json.loads(Path(w["log"]).read_text())
    assert log["identities"][0] == {"track": 1, "pieces": [{"person": 0, "from_frame": 0, "to_frame": 3},
                                                           {"person": 1, "from_frame": 4, "to_frame": 7}]}  # fmt: skip
    assert log["identities"][2] == {"track": 3, "pieces": [{"person": 2, "from_frame": 0, "to_frame": 7}]}
    assert [e["op"] for e in log["edits"]][0] == "swap_tracks"


def test_export_after_reassign_to_a_new_id(trio):
    import numpy as np

    from posekit.io.posekit_json import load_poses

    c, svc, tmp, ann = trio
    src = load_poses(ann)
    assert _ident(c, "track", 6, 2, 0, track=9, from_frame=6).status_code == 200
    seq = load_poses(c.post("/api/export", headers=H, json={}).json()["written"]["posekit"])
    assert seq.track_id.tolist() == [1, 2, 3, 9]
    np.testing.assert_array_equal(seq.xy[:6, 2], src.xy[:6, 2])
    np.testing.assert_array_equal(seq.xy[6:, 3], src.xy[6:, 2])
    assert np.isnan(seq.xy[6:, 2]).all() and (seq.state[6:, 2] == 0).all() and (seq.score[6:, 2] == 0).all()
    assert np.isnan(seq.xy[:6, 3]).all() and (seq.state[:6, 3] == 0).all()


def test_legacy_whole_video_track_edits_still_read(tmp_path):
    v, a = synthetic_video_project(tmp_path / "v", frames=6)
    db = tmp_path / "old.sqlite"
    svc = build_service(v, a, db=db, run_checks=False, proxy=False)
    # an edit as stores before per-frame ids wrote it: target t:<person>, whole video
    svc.store.apply("t:1", 0, {"track": 2}, {"track": 7}, reviewer="old", op="track")
    svc.store.close()
    svc = build_service(v, a, db=db, run_checks=False, proxy=False)
    c = TestClient(create_app(svc, TOKEN, export_dir=tmp_path / "out"), base_url="http://127.0.0.1")
    assert all(_ids(c, f) == [1, 7] for f in range(6))
    p = c.get("/api/frames/3/poses", headers=H).json()["people"][1]
    assert p["track_version"] == 0
    assert _ident(c, "swap_tracks", 3, 1, 0, reviewer="old", other=0, from_frame=3).status_code == 200
    assert _ids(c, 2) == [1, 7] and _ids(c, 3) == [7, 1]
    c.post("/api/undo", headers=H, json={"reviewer": "old"})  # undoes the swap
    assert _ids(c, 3) == [1, 7]
    r = c.post("/api/undo", headers=H, json={"reviewer": "old"})  # the legacy row: folded into ids, refused
    assert r.status_code == 409 and "t:1" in r.json()["detail"]
    assert _ids(c, 3) == [1, 7]
    svc.store.close()
    svc.project.close()


def test_project_reports_seek_proxy_state(video, images, tmp_path):
    c, svc, _ = video
    s = c.get("/api/project", headers=H).json()["seek"]
    assert s["state"] in ("building", "ready") and s["total"] == 8 and 0 <= s["done"] <= 8
    assert svc.project.proxy.wait(60)
    assert c.get("/api/project", headers=H).json()["seek"] == {"state": "ready", "done": 8, "total": 8,
                                                                "segments_done": 1, "segments_total": 1}
    ci, _, _ = images
    assert ci.get("/api/project", headers=H).json()["seek"]["state"] == "off"
    v, a = synthetic_video_project(tmp_path / "np", frames=4)
    svc2 = build_service(v, a, run_checks=False, proxy=False)
    c2 = TestClient(create_app(svc2, TOKEN), base_url="http://127.0.0.1")
    assert c2.get("/api/project", headers=H).json()["seek"] == {"state": "off", "done": 0, "total": 4,
                                                                 "segments_done": 0, "segments_total": 0}
    svc2.store.close()
    svc2.project.close()
