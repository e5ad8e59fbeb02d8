"""The ``posekit`` command."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import PosekitError, TruncatedInputError

app = typer.Typer(
    name="posekit",
    help="Human pose estimation you can trust over time: multi-person 2D/3D keypoints on CPU, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
FORMATS = ("json", "csv", "parquet")


def main() -> None:
    """Entry point of the ``posekit`` console script."""
    app()


def _fail(exc: BaseException, code: int = 2) -> "typer.Exit":
    console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _parse_formats(text: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(s.strip().lower() for s in text.split(",") if s.strip()))
    bad = [s for s in items if s not in FORMATS]
    if bad or not items:
        raise typer.BadParameter(f"unknown format(s) {', '.join(bad) or '(none)'}; choose from {', '.join(FORMATS)}")
    return items


@dataclass
class _Run:
    """What one estimate run produced (for the summary)."""

    frames: list = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    sequence: object = None
    seconds: float = 0.0
    error: PosekitError | None = None


@app.command()
def estimate(
    input: str = typer.Argument(..., help="Image, folder of images, video file, or webcam index (0, 1, …)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder (created if needed)."),
    max_people: Optional[int] = typer.Option(None, "--max-people", "-n", help="Most people per frame [10]."),
    hands: bool = typer.Option(False, "--hands", help="Also estimate 21 hand landmarks per body."),
    face: bool = typer.Option(False, "--face", help="Also estimate the 468-point face mesh per body."),
    formats: str = typer.Option("json", "--format", "-f", help="Comma-separated: json, csv, parquet."),
    render: bool = typer.Option(False, "--render", help="Also write an annotated image or video."),
    threads: Optional[int] = typer.Option(None, "--threads", help="Inference threads per model [1]."),
    detect_every: Optional[int] = typer.Option(None, "--detect-every", help="Video: run the detector every N frames [10]."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", help="Video/webcam: stop after N frames."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Largest accepted image, width×height [1e8]."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file with an \\[estimate] table."),
    smooth: str = typer.Option("one-euro", "--smooth", help="Video filter: one-euro (online), kalman, butterworth, savgol."),
    no_smooth: bool = typer.Option(False, "--no-smooth", help="Video: no temporal filter."),
    no_track: bool = typer.Option(False, "--no-track", help="Video: keep the estimator's region ids (no identity tracker)."),
) -> None:
    """Estimate multi-person keypoints and write them to OUTPUT.

    On video, people are tracked (stable ids) and smoothed with One Euro by default; every applied step is
    recorded in the output's provenance. A webcam run ends with Ctrl-C (or --max-frames) and writes what
    was captured.
    """
    from .config import EstimatorConfig, load_config

    fmts = _parse_formats(formats)
    if smooth not in SMOOTHERS:
        raise typer.BadParameter(f"unknown --smooth {smooth!r}; choose from {', '.join(SMOOTHERS)}")
    temporal = _Temporal(track=not no_track, smooth=None if no_smooth else smooth)
    try:
        cfg = load_config(config) if config else EstimatorConfig()
        cfg = cfg.replace(max_people=max_people, threads=threads, detect_every=detect_every, max_pixels=max_pixels)
        if hands:
            cfg = cfg.replace(hands=True)
        if face:
            cfg = cfg.replace(face=True)
        run = _estimate(input, output, cfg, fmts, render, max_frames, temporal)
    except ValueError as e:
        raise _fail(e) from None
    except PosekitError as e:
        raise _fail(e) from None
    _summary(run, input)
    if run.error is not None:
        raise _fail(run.error, 1)


def _estimate(
    spec: str, outdir: Path, cfg, fmts: tuple[str, ...], render: bool, max_frames: int | None, temporal: _Temporal | None = None
) -> _Run:
    from .estimate import PoseEstimator
    from .io.atomic import ensure_writable_dir
    from .io.sources import open_source

    source = open_source(spec, max_pixels=cfg.max_pixels)
    out = ensure_writable_dir(outdir)
    est = PoseEstimator(cfg)
    run = _Run()
    t0 = time.perf_counter()
    if source.kind in ("image", "images"):
        _run_images(est, source, out, fmts, render, run)
    else:
        _run_video(est, source, out, fmts, render, run, max_frames, temporal or _Temporal())
    run.seconds = time.perf_counter() - t0
    return run


def _stem(source) -> str:
    """File stem of the outputs: the input's stem, ``webcamN`` for camera N."""
    p = Path(str(source.path))
    if source.kind == "webcam":
        return "webcam" + "".join(ch for ch in p.name if ch.isdigit())
    return p.stem


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]:>6.1f} frames/s"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _run_images(est, source, out: Path, fmts, render: bool, run: _Run) -> None:
    from .io.atomic import atomic_path
    from .viz.draw import draw_frame

    items = list(source.items()) if hasattr(source, "items") else None
    total = len(items) if items is not None else None
    with _progress() as prog:
        task = prog.add_task("estimating", total=total, fps=0.0)
        t0 = time.perf_counter()
        for i, (index, _t, name, image) in enumerate(source.frames()):
            frame = est(image, frame=index)
            run.frames.append(frame)
            run.names.append(name)
            if render:
                target = out / f"{Path(name).stem}.annotated.jpg"
                _write_jpeg(draw_frame(image, frame), target, atomic_path)
                run.written.append(target)
            prog.update(task, advance=1, fps=(i + 1) / max(time.perf_counter() - t0, 1e-9))
    _write_outputs(run, out, _stem(source), fmts, still=True)


def _write_jpeg(image, target: Path, atomic_path) -> None:
    from PIL import Image

    with atomic_path(target) as tmp:
        Image.fromarray(image).save(tmp, format="JPEG", quality=92)


SMOOTHERS = ("one-euro", "kalman", "butterworth", "savgol")


@dataclass(frozen=True)
class _Temporal:
    """What happens over time in video mode: identity tracking and which filter (``None``: none).

    Files are processed offline after estimation (the tracker's offline pass back-fills each confirmed
    track to its first frame and merges fragments; then the filter, bone lengths, swap/bend fixes and gap
    filling), and the annotated video is drawn from that result in a second decoding pass. A webcam is
    processed live (online tracker + One Euro, drawn as it comes), since it cannot be read twice.
    """

    track: bool = True
    smooth: str | None = "one-euro"
    live: bool = False

    @property
    def online(self) -> bool:
        """Frame-by-frame processing (webcam)."""
        return self.live


def _run_video(
    est, source, out: Path, fmts, render: bool, run: _Run, max_frames: int | None, temporal: _Temporal
) -> None:
    from .viz.draw import draw_frame

    stem = _stem(source)
    writer = None
    total = getattr(source, "frame_count", None)
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    if source.kind == "webcam":
        temporal = _Temporal(temporal.track, temporal.smooth if temporal.smooth in (None, "one-euro") else "one-euro", True)
    post, steps = _online_steps(temporal, source)
    stream = est.stream(((i, t, img) for i, t, _n, img in source.frames()))
    fps = getattr(source, "fps", None)
    try:
        with _progress() as prog:
            task = prog.add_task("estimating", total=total, fps=0.0)
            t0 = time.perf_counter()
            for frame, image in stream.with_images():
                for step in post:
                    frame = step(frame)
                run.frames.append(frame)
                if render and temporal.online:
                    if writer is None:
                        writer = _open_writer(out / f"{stem}.annotated.mp4", fps)
                    writer.write(draw_frame(image, frame), time=frame.time)
                prog.update(task, advance=1, fps=len(run.frames) / max(time.perf_counter() - t0, 1e-9))
                if max_frames is not None and len(run.frames) >= max_frames:
                    break
    except TruncatedInputError as e:
        run.error = e
    except KeyboardInterrupt:
        if source.kind != "webcam":  # a file run stopped by hand writes nothing
            if writer is not None:
                writer.__exit__(*sys.exc_info())
            raise
        # Ctrl-C is how a webcam run ends: keep and write what was captured.
    except BaseException:
        if writer is not None:
            writer.__exit__(*sys.exc_info())
        raise
    if writer is not None:
        writer.__exit__(None, None, None)
        run.written.append(out / f"{stem}.annotated.mp4")
    run.sequence = _sequence(run.frames, est, temporal, steps, fps=fps, source=str(source.path))
    if render and not temporal.online and run.frames:
        run.written.append(_render_sequence(source, run.sequence, out / f"{stem}.annotated.mp4", fps))
    _write_outputs(run, out, stem, fmts, still=False)


def _online_steps(temporal: _Temporal, source) -> tuple[list, list[tuple[str, dict]]]:
    """Per-frame stages after the estimator (online tracker, One Euro) and their provenance entries."""
    from dataclasses import asdict

    post, steps = [], []
    if temporal.track and temporal.online:
        from .track import PoseTracker

        tracker = PoseTracker()
        post.append(tracker.update)
        steps.append(("track", {"mode": "online", **asdict(tracker.config)}))
    if temporal.online and temporal.smooth == "one-euro":
        from .track import OnlineStabilizer

        stab = OnlineStabilizer(fps=getattr(source, "fps", None))
        post.append(stab.update)
        steps.append(("stabilize", {"mode": "online", "filter": "one-euro"}))
    return post, steps


def _sequence(frames: list, est, temporal: _Temporal, steps, *, fps, source):
    """The video's PoseSequence with every applied step in its provenance (offline stages run here)."""
    from dataclasses import asdict

    from .poses import PoseSequence
    from .skeletons import BLAZEPOSE33

    seq = PoseSequence.from_frames(frames, skeleton=BLAZEPOSE33, fps=fps, source=source)
    seq.log_step("estimate", **asdict(est.config))
    for name, params in steps:
        seq.log_step(name, **params)
    if not temporal.online and frames:
        from .track import stabilize, track_sequence

        if temporal.track:
            seq = track_sequence(seq)
        if temporal.smooth is not None:
            seq = stabilize(seq, filter=temporal.smooth)
    return seq


def _open_writer(path: Path, fps: float | None):
    from .io.video import VideoWriter

    writer = VideoWriter(path, fps=fps or 30.0)
    writer.__enter__()
    return writer


def _render_sequence(source, seq, target: Path, fps: float | None) -> Path:
    """Second decoding pass drawing an offline-stabilised sequence (frames matched by index)."""
    from .io.sources import open_source
    from .viz.draw import draw_frame

    by_index = {int(f): t for t, f in enumerate(seq.frame)}
    writer = _open_writer(target, fps)
    try:
        for i, t, _name, image in open_source(str(source.path)).frames():
            if i not in by_index:
                if i > max(by_index):
                    break
                continue
            writer.write(draw_frame(image, seq.frame_at(by_index[i])), time=t)
    except TruncatedInputError:
        pass  # the break was already reported; every frame before it is drawn
    except BaseException:
        writer.__exit__(*sys.exc_info())
        raise
    writer.__exit__(None, None, None)
    return target


def _write_outputs(run: _Run, out: Path, stem: str, fmts, *, still: bool) -> None:
    from .io.posekit_json import save_poses
    from .io.tables import write_table

    poses = run.frames if still else run.sequence
    if "json" in fmts:
        target = out / f"{stem}.poses.json"
        save_poses(poses, target)
        run.written.append(target)
        if still:
            from .io.coco import write_coco

            target = out / f"{stem}.coco.json"
            images = [
                {"id": i + 1, "file_name": name, "width": f.image_size[0], "height": f.image_size[1]}
                for i, (name, f) in enumerate(zip(run.names, run.frames))
            ]
            write_coco(target, list(zip(images, run.frames)))
            run.written.append(target)
    if "csv" in fmts or "parquet" in fmts:
        df = _dataframe(run, poses, still)
        for ext in ("csv", "parquet"):
            if ext in fmts:
                target = out / f"{stem}.keypoints.{ext}"
                write_table(df, target)
                run.written.append(target)


def _dataframe(run: _Run, poses, still: bool):
    import pandas as pd

    if not still:
        return poses.to_dataframe()
    parts = [f.to_dataframe() for f in run.frames]
    if not parts:
        return pd.DataFrame(columns=["frame", "time", "track_id", "person", "keypoint", "x", "y", "z", "score", "state"])
    return pd.concat(parts, ignore_index=True)


def _summary(run: _Run, spec: str) -> None:
    n = len(run.frames)
    people = [len(f) for f in run.frames]
    table = Table(title=f"posekit estimate — {spec}", show_header=False, title_justify="left")
    table.add_row("frames", str(n))
    if n:
        table.add_row("people per frame", f"mean {sum(people) / n:.2f}, max {max(people)}")
        import numpy as np

        vis = [float((f.state == 1).mean()) for f in run.frames if len(f)]
        if vis:
            table.add_row("visible keypoints", f"{100 * float(np.mean(vis)):.1f}%")
    if run.seconds:
        table.add_row("time", f"{run.seconds:.2f} s ({n / run.seconds:.1f} frames/s)")
    for p in run.written:
        table.add_row("wrote", str(p))
    console.print(table)


@app.command()
def demo(
    output: Path = typer.Option(Path("posekit_demo"), "-o", "--output", help="Output folder."),
    threads: int = typer.Option(1, "--threads", help="Inference threads per model."),
) -> None:
    """Run the estimator on a real photo shipped inside matplotlib (Grace Hopper) and write the results."""
    from .demo import demo_image_path

    try:
        path = demo_image_path()
        run = _estimate(str(path), output, _demo_config(threads), ("json", "csv"), True, None)
    except PosekitError as e:
        raise _fail(e) from None
    _summary(run, str(path))
    if not run.frames or not len(run.frames[0]):
        raise _fail(PosekitError(f"{path}: no person found in the demo photo"), 1)
    typer.echo(f"annotated image: {next(p for p in run.written if p.suffix == '.jpg')}")
    typer.echo(f"keypoints: {next(p for p in run.written if p.name.endswith('.poses.json'))}")


def _demo_config(threads: int):
    from .config import EstimatorConfig

    return EstimatorConfig(threads=threads)


_MODEL_FILES = (
    "pose_detection/pose_detection.tflite",
    "pose_landmark/pose_landmark_full.tflite",
    "palm_detection/palm_detection_full.tflite",
    "hand_landmark/hand_landmark_full.tflite",
    "face_detection/face_detection_short_range.tflite",
    "face_landmark/face_landmark.tflite",
)


@app.command()
def info() -> None:
    """Show the version and where each model file is found."""
    from . import __version__
    from .models.assets import find_model

    typer.echo(f"posekit {__version__}")
    for name in _MODEL_FILES:
        try:
            typer.echo(f"  {name}: {find_model(name)}")
        except PosekitError as e:
            typer.echo(f"  {name}: MISSING ({e})")



def _register_stage_commands() -> None:
    """Commands whose code lives in their stage's module (imported lazily when they run)."""
    from .cli_eval import eval_command
    from .cli_qa import agree_command, qa_command

    from .cli_analyze import analyze_command
    from .cli_review import review_command, review_export_command
    from .cli_stabilize import stabilize_command

    app.command("eval")(eval_command)
    app.command("stabilize")(stabilize_command)
    app.command("analyze")(analyze_command)
    app.command("review")(review_command)
    app.command("review-export")(review_export_command)
    app.command("qa")(qa_command)
    app.command("agree")(agree_command)


_register_stage_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
