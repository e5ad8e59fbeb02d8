"""A real browser drives the review page: headless Debian Chromium through Playwright (no downloaded browsers)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
TOKEN = "browser-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(tmp_path: Path):
    import uvicorn

    from posekit.review.fixtures import synthetic_video_project
    from posekit.review.server import build_service, create_app

    v, a = synthetic_video_project(tmp_path / "proj", frames=6, width=320, height=240)
    svc = build_service(v, a)
    port = _free_port()
    app = create_app(svc, TOKEN, export_dir=tmp_path / "out")
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "review server did not start"
    yield f"http://127.0.0.1:{port}", svc, tmp_path
    srv.should_exit = True
    th.join(10)
    svc.store.close()
    svc.project.close()


def test_drag_occlude_export_in_chromium(server):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's browser with `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    base, svc, tmp = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            # bypass_csp: the page forbids eval; Playwright needs it for wait_for_function
            page = browser.new_page(viewport={"width": 1200, "height": 800}, bypass_csp=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/?token={TOKEN}")
            page.wait_for_function("window.posekitReview && window.posekitReview.ready", timeout=15000)
            page.fill("#reviewer", "playwright")
            # drag person 0's nose by (+30, +20) screen pixels
            x, y = page.evaluate("window.posekitReview.screenOf(0, 0)")
            scale = page.evaluate("window.posekitReview.state.view.scale")
            nose0 = svc.poses(0)["people"][0]["xy"][0]
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 15, y + 10, steps=3)
            page.mouse.move(x + 30, y + 20, steps=3)
            page.mouse.up()
            page.wait_for_function("document.getElementById('status').textContent.startsWith('saved edit')", timeout=5000)
            # select person 1's left wrist (keypoint 9) by clicking it, then mark it occluded
            wx, wy = page.evaluate("window.posekitReview.screenOf(1, 9)")
            page.mouse.click(wx, wy)
            assert page.evaluate("window.posekitReview.state.sel") == {"person": 1, "kp": 9}
            page.click("#btn-occluded")
            page.wait_for_function("document.getElementById('status').textContent === 'saved edit #2'", timeout=5000)
            page.keyboard.press("ArrowRight")
            page.wait_for_function("window.posekitReview.state.frame === 1", timeout=5000)
            page.keyboard.press("ArrowLeft")
            page.wait_for_function("window.posekitReview.state.frame === 0", timeout=5000)
            # the seek proxy's state is shown (building or ready, depending on the machine's speed)
            page.wait_for_function("document.getElementById('seek-status').textContent.startsWith('fast seeking')",
                                   timeout=5000)  # fmt: skip
            # repair an identity switch: from frame 3 on, persons 0 and 1 exchange their ids (key I)
            page.evaluate("window.posekitReview.gotoFrame(3)")
            page.wait_for_function("window.posekitReview.state.frame === 3", timeout=5000)
            page.evaluate("window.posekitReview.select(0, null)")
            page.select_option("#track-scope", "from")
            page.select_option("#swap-other", "1")
            page.focus("#canvas")
            page.keyboard.press("i")
            page.wait_for_function("document.getElementById('status').textContent === 'saved edit #3'", timeout=5000)
            assert page.evaluate("window.posekitReview.state.people.map((p) => p.track)") == [2, 1]
            assert "since frame 4" in page.text_content("#selection")  # 1-based, as the frame label
            page.keyboard.press("ArrowLeft")  # the frame number changes at once, the poses once loaded
            page.wait_for_function("window.posekitReview.state.frame === 2 && "
                                   "window.posekitReview.state.people.map((p) => p.track).join() === '1,2'", timeout=5000)  # fmt: skip
            page.click("#btn-export")
            page.wait_for_function("document.getElementById('status').textContent.startsWith('exported')", timeout=10000)
            shot = tmp / "review_page.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            assert errors == [], errors
        finally:
            browser.close()
    out = tmp / "out"
    from posekit.io.posekit_json import load_poses

    seq = load_poses(out / "clip.reviewed.posekit.json")
    want = [nose0[0] + 30 / scale, nose0[1] + 20 / scale]
    assert seq.xy[0, 0, 0] == pytest.approx(want, abs=1.0 / scale + 0.02)
    assert seq.state[0, 0, 0] == 5  # CORRECTED
    assert seq.state[0, 1, 9] == 2  # OCCLUDED
    coco = json.loads((out / "clip.reviewed.coco.json").read_text())
    a = [x for x in coco["annotations"] if x["image_id"] == 0]
    assert a[0]["keypoints"][0] == pytest.approx(want[0], abs=1.0 / scale + 0.02)
    assert a[1]["keypoints"][9 * 3 + 2] == 1  # COCO: labelled but not visible
    # after the swap, individual 0 (track 1) holds person 1's skeleton from frame 3 on
    assert seq.track_id.tolist() == [1, 2]
    assert seq.xy[4, 0, 0] == pytest.approx(svc.project.xy[4, 1, 0]) and seq.xy[4, 1, 0] == pytest.approx(svc.project.xy[4, 0, 0])
    assert seq.xy[2, 0, 0] == pytest.approx(svc.project.xy[2, 0, 0])
    hist = svc.store.history()
    assert [(e.op, e.reviewer) for e in hist] == [("move", "playwright"), ("state", "playwright"),
                                                  ("swap_tracks", "playwright")]  # fmt: skip
