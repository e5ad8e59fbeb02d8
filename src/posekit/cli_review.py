"""``posekit review`` and ``posekit review-export`` (plain functions; ``posekit.cli`` registers them).

Register with::

    from .cli_review import review_command, review_export_command
    app.command("review")(review_command)
    app.command("review-export")(review_export_command)

Exit codes: 0 done; 2 bad input, a store made for other poses, or unwritable output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .errors import PosekitError

__all__ = ["review_command", "review_export_command"]


def _fail(exc: BaseException) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def review_command(
    path: Path = typer.Argument(..., help="A video file (with its posekit JSON) or a folder of images (with COCO JSON)."),
    annotations: Optional[Path] = typer.Option(
        None, "--annotations", "-a", help="Poses file \\[video: <stem>.json beside it; folder: annotations.json in it]."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the URL but do not open a browser."),
    port: int = typer.Option(0, "--port", help="TCP port \\[a free one]."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind \\[loopback only]."),
    db: Optional[Path] = typer.Option(None, "--db", help="Edit store (SQLite) [<annotations>.review.sqlite]."),
    export_dir: Optional[Path] = typer.Option(None, "--export-dir", help="Where the page's Export writes \\[beside the annotations]."),
    proxy_dir: Optional[Path] = typer.Option(
        None, "--proxy-dir", help="Keep the video's seek proxy (fast random jumps) here for later sessions \\[a temporary folder]."),
) -> None:
    """Open the review page: check and correct skeletons frame by frame; every edit is stored at once."""
    from .review.server import build_service, run_server

    try:
        svc = build_service(path, annotations, db=db, proxy_dir=proxy_dir)
    except PosekitError as exc:
        raise _fail(exc) from None
    try:
        run_server(svc, host=host, port=port, open_browser=not no_browser, export_dir=export_dir)
    except OSError as exc:
        raise _fail(exc) from None


def review_export_command(
    path: Path = typer.Argument(..., help="The reviewed video file or image folder."),
    annotations: Optional[Path] = typer.Option(None, "--annotations", "-a", help="Poses file (as given to 'posekit review')."),
    db: Optional[Path] = typer.Option(None, "--db", help="Edit store [<annotations>.review.sqlite]."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output folder \\[beside the annotations]."),
) -> None:
    """Write corrected COCO JSON, posekit JSON and the review log (atomically) from the stored edits."""
    from .review.export import export_review
    from .review.server import build_service, default_store_path

    try:
        from .review.project import open_project

        if db is None:
            proj = open_project(path, annotations)
            proj.close()
            db = default_store_path(proj.annotations)
        if not Path(db).is_file():
            raise PosekitError(f"{db}: no edit store here (review first with 'posekit review')")
        svc = build_service(path, annotations, db=db, proxy=False)
        written = export_review(svc, output or svc.project.annotations.parent)
        svc.store.close()
        svc.project.close()
    except PosekitError as exc:
        raise _fail(exc) from None
    for kind, p in written.items():
        typer.echo(f"{kind}: {p}")
