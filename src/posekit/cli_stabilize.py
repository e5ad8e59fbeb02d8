"""``posekit stabilize IN -o OUT``: stabilise saved results (a plain function; ``posekit.cli`` registers it).

Register with ``app.command("stabilize")(stabilize_command)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .errors import InputError, PosekitError

__all__ = ["stabilize_command", "load_sequence"]


def load_sequence(path: Path):
    """Read a posekit JSON file as a :class:`~posekit.poses.PoseSequence`.

    A file of frames (``"kind": "frames"``) becomes a sequence when every frame has a time (one
    individual per track id); still images or a single frame are refused.

    Raises:
        InputError: unreadable file, or poses without a time axis.
    """
    from .io.posekit_json import load_poses
    from .poses import PoseFrame, PoseSequence

    obj = load_poses(path)
    if isinstance(obj, PoseSequence):
        return obj
    if isinstance(obj, PoseFrame):
        raise InputError(path, "holds a single frame; stabilisation needs a video sequence")
    if not obj:
        raise InputError(path, "holds no frames; stabilisation needs a video sequence")
    if any(f.time is None for f in obj):
        raise InputError(path, "holds still images (frames without a time); stabilisation needs a video sequence")
    try:
        return PoseSequence.from_frames(obj, source=str(path))
    except ValueError as exc:
        raise InputError(path, f"cannot form a sequence from its frames: {exc}") from None


def stabilize_command(
    input: Path = typer.Argument(..., help="posekit JSON results of a video (from `posekit estimate`)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output posekit JSON file (folder created if needed)."),
    filter: str = typer.Option(
        "one-euro", "--filter", help="one-euro, kalman, butterworth, savgol or none."
    ),
    cutoff: Optional[float] = typer.Option(None, "--cutoff", help="kalman/butterworth: cutoff in Hz [6]."),
    min_cutoff: Optional[float] = typer.Option(None, "--min-cutoff", help="one-euro: cutoff at rest in Hz [0.3]."),
    beta: Optional[float] = typer.Option(None, "--beta", help="one-euro: speed coefficient [16]."),
    window: Optional[float] = typer.Option(None, "--window", help="savgol: window in seconds [0.3]."),
    max_gap: float = typer.Option(0.5, "--max-gap", help="Longest gap in seconds that is bridged [0.5]."),
    bones: bool = typer.Option(True, "--bones/--no-bones", help="Enforce per-track bone lengths."),
    swaps: bool = typer.Option(
        False, "--swaps/--no-swaps", help="Undo left/right swaps (off by default: it mislabels real footage)."),
    bends: bool = typer.Option(True, "--bends/--no-bends", help="Undo knee/elbow bend reversals."),
    fill: bool = typer.Option(True, "--fill/--no-fill", help="Interpolate gaps up to --max-gap (INTERPOLATED)."),
    gap_method: str = typer.Option("linear", "--gap-method", help="Gap filling: linear or cubic."),
    table: Optional[List[Path]] = typer.Option(
        None, "--table", help="Also write a keypoint table; .csv or .parquet by extension (repeatable)."
    ),
) -> None:
    """Stabilise saved poses: left/right swaps, bend reversals, filtering, bone lengths, short gaps."""
    from rich.console import Console

    from .io.atomic import ensure_writable_dir
    from .io.posekit_json import save_poses
    from .io.tables import TABLE_EXTENSIONS, write_table
    from .track.stabilize import stabilize

    console = Console(stderr=True)

    def fail(exc: BaseException) -> typer.Exit:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return typer.Exit(2)

    name = filter.strip().lower()
    chosen = None if name in ("none", "off", "") else name
    tables = list(table or [])
    bad = [str(p) for p in tables if p.suffix.lower() not in TABLE_EXTENSIONS]
    if bad:
        raise fail(ValueError(f"--table {', '.join(bad)}: extension must be one of {', '.join(TABLE_EXTENSIONS)}"))
    try:
        seq = load_sequence(input)
        out = stabilize(
            seq, filter=chosen, cutoff=cutoff, min_cutoff=min_cutoff, beta=beta, window=window,
            bone_lengths=bones, fix_swaps=swaps, fix_bends=bends, fill_gaps=fill, max_gap=max_gap,
            gap_method=gap_method,
        )  # fmt: skip
        ensure_writable_dir(output.expanduser().absolute().parent)
        save_poses(out, output)
        for p in tables:
            ensure_writable_dir(p.expanduser().absolute().parent)
            write_table(out, p)
    except (PosekitError, ValueError) as exc:
        raise fail(exc) from None
    steps = ", ".join(p["step"] for p in out.provenance[len(seq.provenance) :])
    console.print(
        f"stabilised {out.num_frames} frames × {out.num_individuals} individuals → {output} ({steps})",
        highlight=False,
        soft_wrap=True,
    )
