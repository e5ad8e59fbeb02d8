"""``posekit analyze VIDEO [--exercise EXERCISE|auto] [--gait] [--falls] -o OUT`` (a plain function;
``posekit.cli`` registers it with ``app.command("analyze")(analyze_command)``).

``VIDEO`` is a video file (poses are estimated, tracked and stabilised first) or a posekit JSON file of
poses from ``posekit estimate`` (then ``--video`` gives the video for the annotated copy). Writes
``OUT/summary.json``, ``OUT/report.html`` and, unless ``--no-video``, ``OUT/annotated.mp4``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .errors import InputError, PosekitError

__all__ = ["analyze_command", "EXERCISE_CHOICES", "estimator_overrides"]

#: Values of ``--exercise``.
EXERCISE_CHOICES = ("auto", "squat", "pushup", "lunge", "jumping_jack", "situp", "pullup", "plank")


def estimator_overrides(*, falls: bool, max_people: Optional[int] = None) -> dict:
    """Estimator settings ``posekit analyze`` uses (keyword overrides of :class:`~posekit.EstimatorConfig`).

    With ``falls``, people are re-detected in video at the image-mode detector threshold
    (``video_min_detection_score=0.4`` instead of MediaPipe's 0.5): a person lying on the floor after a
    fall scores lower in the person detector than an upright one, and a fall monitor must find them again.
    """
    kw: dict = {} if max_people is None else {"max_people": max_people}
    if falls:
        from .config import EstimatorConfig

        kw["video_min_detection_score"] = EstimatorConfig().min_detection_score
    return kw


def _load(input: Path, max_people: Optional[int], falls: bool):
    """Poses of ``input``: estimated from a video, or read from a posekit JSON file."""
    from .poses import PoseSequence

    if input.suffix.lower() == ".json":
        from .cli_stabilize import load_sequence

        return load_sequence(input), False
    from .estimate import PoseEstimator
    from .io.video import VIDEO_EXTENSIONS

    if not input.exists():
        raise InputError(input, "file not found")
    if input.suffix.lower() not in VIDEO_EXTENSIONS:
        raise InputError(input, f"not a video file or a posekit .json file (extension '{input.suffix}')")
    seq = PoseEstimator(**estimator_overrides(falls=falls, max_people=max_people)).video(input).collect()
    assert isinstance(seq, PoseSequence)
    return seq, True


def analyze_command(
    input: Path = typer.Argument(..., help="Video file, or posekit JSON poses from `posekit estimate`."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder (created if needed)."),
    exercise: Optional[str] = typer.Option(
        None, "--exercise", "-e", help="auto, squat, pushup, lunge, jumping_jack, situp, pullup or plank."
    ),
    gait: bool = typer.Option(False, "--gait", help="Detect gait events and parameters."),
    falls: bool = typer.Option(False, "--falls", help="Detect falls (every person)."),
    video: Optional[Path] = typer.Option(None, "--video", help="With JSON input: the video to annotate."),
    no_video: bool = typer.Option(False, "--no-video", help="Do not write the annotated video."),
    max_people: Optional[int] = typer.Option(None, "--max-people", "-n", help="Most people per frame [10]."),
    stabilize: bool = typer.Option(True, "--stabilize/--no-stabilize", help="Stabilise poses before analysis."),
    metres_per_pixel: Optional[float] = typer.Option(
        None, "--metres-per-pixel", help="Image scale for metric gait lengths in 2D."
    ),
) -> None:
    """Analyse movement: joint angles, exercise reps with form feedback, gait, falls; writes a report."""
    from rich.console import Console

    from .analysis.report import analyze, prepare, write_html, write_overlay, write_summary
    from .io.atomic import ensure_writable_dir

    console = Console(stderr=True)

    def fail(exc: BaseException) -> typer.Exit:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return typer.Exit(2)

    name = None if exercise is None else exercise.strip().lower().replace("-", "_")
    if name is not None and name not in EXERCISE_CHOICES:
        raise fail(ValueError(f"--exercise {exercise!r}: choose one of {', '.join(EXERCISE_CHOICES)}"))
    if metres_per_pixel is not None and not metres_per_pixel > 0:
        raise fail(ValueError(f"--metres-per-pixel must be positive, got {metres_per_pixel}"))
    try:
        out = ensure_writable_dir(output.expanduser().absolute())
        seq, from_video = _load(input, max_people, falls)
        seq, notes = prepare(seq, stabilize=stabilize)
        result = analyze(seq, exercise=name, gait=gait, falls=falls, metres_per_pixel=metres_per_pixel)
        result.pipeline = (["estimate"] if from_video else ["load"]) + notes + result.pipeline
        written = [write_summary(result, out / "summary.json"), write_html(result, out / "report.html")]
        src = input if from_video else video
        if not no_video and src is not None:
            written.append(write_overlay(result, src, out / "annotated.mp4"))
        elif not no_video:
            result.messages.append("no annotated video: pass --video with JSON input")
            written[0] = write_summary(result, out / "summary.json")
    except (PosekitError, ValueError) as exc:
        raise fail(exc) from None
    ex = result.exercise
    bits = []
    if ex is not None:
        bits.append(f"{ex.exercise}: {ex.count} reps")
    if result.plank is not None:
        bits.append(f"plank: {result.plank.total_s:.1f} s")
    if result.falls is not None:
        bits.append(f"falls: {len(result.falls.events)}")
    if result.gait is not None and result.gait.parameters.get("cadence_steps_per_min"):
        bits.append(f"cadence: {result.gait.parameters['cadence_steps_per_min']} steps/min")
    for m in result.messages:
        console.print(f"note: {m}", highlight=False, soft_wrap=True)
    console.print(f"analysed {len(seq)} frames — {'; '.join(bits) or 'angles only'}", highlight=False)
    for p in written:
        console.print(f"wrote {p}", highlight=False)
