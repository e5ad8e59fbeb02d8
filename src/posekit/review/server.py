"""The review web server: a FastAPI app (JSON API under ``/api/``, the page at ``/``) and its runner.

Security: every route except the static assets needs the access token, given as the ``token`` query
parameter (the printed URL), the ``X-Posekit-Token`` header, ``Authorization: Bearer``, or the
``posekit_token`` cookie that the page sets; requests whose ``Host`` is not a loopback name are refused
(DNS rebinding); request bodies are limited (default 64 KiB); no route takes a file path.

API (all JSON unless noted; errors are ``{"detail": message}`` with a 4xx status):

* ``GET /api/project``: kind, skeleton (keypoints, edges, flip pairs), frame count, size, fps, and
  ``seek``, the seek proxy's progress: ``{"state": "off" | "building" | "ready" | "failed" | "stopped",
  "done": n, "total": N, "segments_done": k, "segments_total": S}`` (see
  :meth:`~posekit.review.project.ReviewProject.seek_status`).
* ``GET /api/frames``: per frame ``frame, time, file_name, image_id, people, risk, findings``.
* ``GET /api/frames/{i}/image``: the frame as JPEG.
* ``GET /api/frames/{i}/poses``: people with ``xy`` (pixels, null = missing), ``state``, ``track`` (the
  id in this frame), ``score``, ``version``, ``track_version`` (and ``track_from`` in a video).
* ``GET /api/findings``, ``GET /api/queue``: QA findings with decisions; the review queue.
* ``POST /api/edits``: one edit (see :meth:`~posekit.review.service.ReviewService.edit`); 409 with
  ``current`` and ``version`` on a version conflict, 409 with ``conflict`` (frame, person, track) when
  a track id is already taken.
* ``POST /api/findings/{i}/decision``: accept / dismiss / reopen a finding with a comment.
* ``POST /api/undo``, ``POST /api/redo``: ``{"reviewer": name}``.
* ``GET /api/edits``: the edit history.
* ``POST /api/export``: writes the corrected COCO and posekit JSON into the export folder.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from posekit.errors import InputError

from .project import open_project
from .service import BadEdit, ReviewService
from .store import Conflict, EditStore, NothingToUndo

__all__ = ["create_app", "build_service", "run_server", "default_store_path", "STATIC_DIR", "main"]

STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY = 64 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _json_default(v: Any) -> Any:
    import numpy as np

    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"cannot serialise {type(v).__name__}")


class _JSON(JSONResponse):
    """JSON response that accepts numpy scalars."""

    def render(self, content: Any) -> bytes:
        import json

        return json.dumps(content, default=_json_default, allow_nan=False, separators=(",", ":")).encode()


def default_store_path(annotations: str | Path) -> Path:
    """``<annotations>.review.sqlite`` beside the annotations file."""
    a = Path(annotations)
    return a.with_name(a.name + ".review.sqlite")


def _file_key(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return f"{path.name}:sha256:{h.hexdigest()}"


def build_service(path: str | Path, annotations: str | Path | None = None, *, db: str | Path | None = None,
                  run_checks: bool = True, proxy: bool = True, proxy_dir: str | Path | None = None) -> ReviewService:  # fmt: skip
    """Open the project, its edit store and its QA findings.

    Args:
        path: video file or image folder.
        annotations: poses file (see :func:`~posekit.review.project.open_project`).
        db: the edit store; default ``<annotations>.review.sqlite``.
        run_checks: run the QA rules to get findings and the review queue.
        proxy: build the seek proxy of a video in the background, in segments, the part the reviewer
            looks at first (fast random jumps in the finished segments; see :mod:`posekit.review.proxy`).
        proxy_dir: where the proxy is kept and reused by later sessions; default a temporary folder
            removed when the project closes.

    Raises:
        InputError: bad project files, or a store made for other poses.
    """
    project = open_project(path, annotations)
    store_path = Path(db) if db else default_store_path(project.annotations)
    try:
        store = EditStore(store_path, _file_key(project.annotations))
    except ValueError as exc:
        raise InputError(store_path, f"holds edits of other poses ({exc}); give another --db") from None
    findings: list[Any] = []
    queue: list[Any] = []
    if run_checks:
        from posekit.qa import load_qa_input, review_queue, run_qa

        res = run_qa(load_qa_input(project.annotations))
        findings, queue = list(res.findings), review_queue(res)
        project.warm([q.frame for q in queue[: project.cache_size // 2] if q.frame is not None])
    if proxy:
        project.start_proxy(proxy_dir)
    return ReviewService(project, store, findings, queue)


def create_app(svc: ReviewService, token: str, *, export_dir: str | Path | None = None,
               max_body: int = MAX_BODY, allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS) -> Any:  # fmt: skip
    """The FastAPI app serving ``svc``.

    Args:
        svc: the review service.
        token: the access token.
        export_dir: where ``POST /api/export`` writes; default the annotations file's folder.
        max_body: largest accepted request body, bytes.
        allowed_hosts: accepted ``Host`` names (without port).
    """
    app = FastAPI(title="posekit review", docs_url=None, redoc_url=None, openapi_url=None, default_response_class=_JSON)
    out_dir = Path(export_dir) if export_dir else svc.project.annotations.parent
    proj = svc.project

    def _err(status: int, msg: str, **extra: Any) -> JSONResponse:
        return _JSON({"detail": msg, **extra}, status_code=status)

    def _token_ok(request: Request) -> bool:
        cands = [request.query_params.get("token"), request.headers.get("x-posekit-token"),
                 request.cookies.get("posekit_token")]  # fmt: skip
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            cands.append(auth[7:].strip())
        return any(c is not None and secrets.compare_digest(c.encode(), token.encode()) for c in cands)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        host = (request.headers.get("host") or "").rsplit(":", 1)[0] if not (request.headers.get("host") or "").startswith("[") \
            else (request.headers.get("host") or "").split("]")[0] + "]"  # fmt: skip
        if host not in allowed_hosts:
            return _err(400, f"host {host!r} is not allowed (the review server answers on loopback names only)")
        if request.method in ("POST", "PUT", "PATCH"):
            cl = request.headers.get("content-length")
            if cl is None:
                return _err(411, "a Content-Length header is required")
            if not cl.isdigit() or int(cl) > max_body:
                return _err(413, f"request body larger than {max_body} bytes")
        if request.url.path == "/favicon.ico":
            return Response(status_code=204)
        if not request.url.path.startswith("/static/") and not _token_ok(request):
            return _err(401, "missing or wrong access token (open the URL printed by 'posekit review')")
        resp = await call_next(request)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    async def _json(request: Request) -> dict[str, Any]:
        body = await request.body()
        if len(body) > max_body:
            raise BadEdit(f"request body larger than {max_body} bytes", 413)
        import json

        try:
            doc = json.loads(body or b"null")
        except ValueError:
            raise BadEdit("request body is not valid JSON", 400) from None
        if not isinstance(doc, dict):
            raise BadEdit("request body must be a JSON object", 400)
        return doc

    def _frame(i: str) -> int:
        if not i.isdigit() or not 0 <= int(i) < proj.num_frames:
            raise BadEdit(f"unknown frame {i!r} (the project has {proj.num_frames})", 404)
        return int(i)

    @app.exception_handler(BadEdit)
    async def _bad(request: Request, exc: BadEdit) -> JSONResponse:
        return _err(exc.status, str(exc), **exc.extra)

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return _err(409, str(exc), target=exc.target, version=exc.version, current=exc.current)

    @app.exception_handler(NothingToUndo)
    async def _nothing(request: Request, exc: NothingToUndo) -> JSONResponse:
        return _err(409, str(exc))

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return _err(422, str(exc))

    @app.get("/")
    async def index(request: Request):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        resp = FileResponse(STATIC_DIR / "index.html", media_type="text/html")
        resp.set_cookie("posekit_token", token, httponly=True, samesite="strict")
        return resp

    @app.get("/static/{name}")
    async def static(name: str):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        allowed = {"app.js": "text/javascript", "app.css": "text/css", "index.html": "text/html"}
        if name not in allowed:
            return _err(404, "no such file")
        return FileResponse(STATIC_DIR / name, media_type=allowed[name])

    @app.get("/api/project")
    async def project_info():  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        sk = proj.skeleton
        return {"kind": proj.kind, "media": proj.media.name, "annotations": proj.annotations.name,
                "frames": proj.num_frames, "people": proj.num_people, "width": proj.width, "height": proj.height,
                "fps": proj.fps, "skeleton": {"name": sk.name, "keypoints": list(sk.keypoints),
                "edges": [list(e) for e in sk.edges], "flip_pairs": [list(e) for e in sk.flip_pairs]},
                "edits": svc.store.count(), "findings": len(svc.findings), "seek": proj.seek_status()}  # fmt: skip

    @app.get("/api/frames")
    async def frames():  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        risk: dict[int, float] = {}
        for q in svc.queue:
            if q.frame is not None:
                risk[int(q.frame)] = round(float(q.risk), 4)
        nf: dict[int, int] = {}
        for f in svc.findings:
            if f.frame is not None:
                nf[int(f.frame)] = nf.get(int(f.frame), 0) + 1
        return _JSON({"frames": [{"frame": i, "time": None if proj.time is None else round(float(proj.time[i]), 6),
                            "file_name": proj.file_names[i],
                            "image_id": proj.image_ids[i] if proj.kind == "images" else None,
                            "people": int(proj.exists[i].sum()), "risk": risk.get(i, 0.0), "findings": nf.get(i, 0)}
                           for i in range(proj.num_frames)]})  # fmt: skip

    @app.get("/api/frames/{i}/image")
    async def image(i: str):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        data = await run_in_threadpool(proj.jpeg, _frame(i))
        return Response(data, media_type="image/jpeg")

    @app.get("/api/frames/{i}/poses")
    async def poses(i: str):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        return svc.poses(_frame(i))

    @app.get("/api/findings")
    async def findings():  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        return _JSON({"findings": svc.finding_rows()})

    @app.get("/api/queue")
    async def queue():  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        return _JSON({"format": "posekit-review-queue", "version": 1, "items": [q.to_dict() for q in svc.queue]})

    @app.post("/api/edits")
    async def edit(request: Request):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        body = await _json(request)
        row, person = await run_in_threadpool(svc.edit, body)
        return {"edit": row.id, "frame": body["frame"], "person": person}

    @app.post("/api/findings/{i}/decision")
    async def decision(i: str, request: Request):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        body = await _json(request)
        if not i.isdigit():
            raise BadEdit(f"unknown finding {i!r}", 404)
        row, f = await run_in_threadpool(svc.decide, int(i), body)
        return _JSON({"edit": row.id, "finding": f})

    def _undo_result(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"edit": row.id, "target": row.target, "kind": row.kind}
        kind, *rest = row.target.split(":")
        if kind == "p":
            out["frame"] = int(rest[0])
        return out

    @app.post("/api/undo")
    async def undo(request: Request):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        body = await _json(request)
        from .service import _reviewer

        return _undo_result(await run_in_threadpool(svc.undo, _reviewer(body)))

    @app.post("/api/redo")
    async def redo(request: Request):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        body = await _json(request)
        from .service import _reviewer

        return _undo_result(await run_in_threadpool(svc.redo, _reviewer(body)))

    @app.get("/api/edits")
    async def edits():  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        return _JSON({"edits": [r.to_dict() for r in svc.store.history(limit=5000)]})

    @app.post("/api/export")
    async def export(request: Request):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        from .export import export_review

        await _json(request)
        return {"written": await run_in_threadpool(export_review, svc, out_dir)}

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def unknown(rest: str):  # noqa: ANN201 (no annotation: FastAPI would validate the return value)
        return _err(404, f"no API route /api/{rest}")

    return app


def run_server(svc: ReviewService, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
               open_browser: bool = True, export_dir: str | Path | None = None) -> None:  # fmt: skip
    """Serve until interrupted; prints the URL (with the token) once listening.

    Args:
        svc: the review service.
        host: interface to bind (loopback by default).
        port: TCP port (0 = a free one).
        token: access token (default: random).
        open_browser: open the URL in the default browser.
        export_dir: see :func:`create_app`.
    """
    import socket

    import uvicorn

    token = token or secrets.token_urlsafe(24)
    hosts = LOOPBACK_HOSTS if host in ("127.0.0.1", "localhost", "::1") else (*LOOPBACK_HOSTS, host)
    app = create_app(svc, token, export_dir=export_dir, allowed_hosts=hosts)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    real_port = sock.getsockname()[1]
    url = f"http://{'127.0.0.1' if host == '127.0.0.1' else host}:{real_port}/?token={token}"
    print(f"posekit review: {url}", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        svc.store.close()
        svc.project.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m posekit.review.server PATH [--annotations F] [--db F] [--port N] [--token T]``."""
    ap = argparse.ArgumentParser(prog="python -m posekit.review.server")
    ap.add_argument("path")
    ap.add_argument("--annotations")
    ap.add_argument("--db")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token")
    ap.add_argument("--export-dir")
    ap.add_argument("--no-checks", action="store_true")
    a = ap.parse_args(argv)
    try:
        svc = build_service(a.path, a.annotations, db=a.db, run_checks=not a.no_checks)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    run_server(svc, host=a.host, port=a.port, token=a.token, open_browser=False, export_dir=a.export_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
