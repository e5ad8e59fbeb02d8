"""``posekit qa`` and ``posekit agree`` (plain functions; ``posekit.cli`` registers them).

Register with::

    from .cli_qa import agree_command, qa_command
    app.command("qa")(qa_command)
    app.command("agree")(agree_command)

Exit codes: 0 done; 1 ``--strict`` and error-level findings exist; 2 bad input or unwritable output.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .errors import PosekitError

__all__ = ["qa_command", "agree_command"]


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _fail(exc: BaseException) -> typer.Exit:
    _console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def qa_command(
    input: Path = typer.Argument(..., help="COCO keypoint JSON, COCO results list, or posekit poses JSON."),
    output: Path = typer.Option(..., "-o", "--output", help='Findings JSON to write ({"findings": [...]}).'),
    profile: Optional[str] = typer.Option(None, "--profile", "-p", help="Profile name ('default') or a TOML file."),
    report: Optional[Path] = typer.Option(None, "--report", help="Also write a self-contained HTML report."),
    queue: Optional[Path] = typer.Option(None, "--queue", help="Also write the review queue: JSON here, CSV beside it."),
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 when error-level findings exist."),
    skeleton: Optional[str] = typer.Option(None, "--skeleton", help="Layout id for a COCO file \\[from its category]."),
    images: Optional[Path] = typer.Option(None, "--images", help="Folder of the COCO file's images; each must exist."),
) -> None:
    """Check poses or annotations with the QA rules and write the findings (and a review queue / report)."""
    from rich.table import Table

    from .io.atomic import ensure_writable_dir
    from .qa import load_profile, load_qa_input, review_queue, run_qa, write_findings, write_queue, write_report
    from .qa.findings import count_by

    try:
        prof = load_profile(profile)
        data = load_qa_input(input, skeleton=skeleton, images_dir=images)
        result = run_qa(data, prof)
        for p in (output, queue, report):
            if p is not None:
                ensure_writable_dir(p.expanduser().absolute().parent)
        write_findings(output, result.findings)
        items = review_queue(result, prof.review)
        written = [output]
        if queue is not None:
            written += list(write_queue(queue, items, source=str(input), skeleton=data.skeleton.name, weights=prof.review))
        if report is not None:
            write_report(report, result, items, title=f"posekit QA: {input.name}", profile_name=prof.name)
            written.append(report)
    except PosekitError as exc:
        raise _fail(exc) from None
    console = _console()
    t, i, k = data.shape
    table = Table(title=f"QA of {input.name}: {t} {'frames' if data.temporal else 'images'}, "
                        f"{int(data.checked.sum())} people, skeleton {data.skeleton.name}")  # fmt: skip
    table.add_column("rule")
    for s in ("error", "warning", "info"):
        table.add_column(s, justify="right")
    for rid, c in count_by(result.findings).items():
        table.add_row(rid, str(c["error"] or ""), str(c["warning"] or ""), str(c["info"] or ""))
    console.print(table)
    if result.skipped:
        console.print("not applicable: " + ", ".join(sorted(result.skipped)), highlight=False)
    for p in written:
        console.print(f"wrote {p}", highlight=False)
    if strict and result.errors:
        console.print(f"[bold red]{result.errors} error-level finding(s)[/]", highlight=False)
        raise typer.Exit(1)


def agree_command(
    files: List[Path] = typer.Argument(..., help="Two or more COCO keypoint files of the same images (first = reference)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Agreement JSON to write."),
    annotator: Optional[List[str]] = typer.Option(
        None, "--annotator", "-a", help="Annotator of each file, in order (repeat the option); equal names = repeats."
    ),
    threshold: float = typer.Option(0.5, "--threshold", help="Keypoint similarity below which a keypoint is a disagreement."),
    skeleton: Optional[str] = typer.Option(None, "--skeleton", help="Layout id of the files \\[from their category]."),
) -> None:
    """Agreement between annotation files: OKS per keypoint and person, annotator bias, repeats, disagreements."""
    import numpy as np
    from rich.table import Table

    from .io.atomic import ensure_writable_dir
    from .qa.agreement import agreement, write_agreement

    try:
        if skeleton is not None:
            from .qa.data import _skeleton_arg

            _skeleton_arg(files[0], skeleton)
        res = agreement(files, annotators=annotator or None, threshold=threshold, skeleton=skeleton)
        if output is not None:
            ensure_writable_dir(output.expanduser().absolute().parent)
            write_agreement(output, res)
    except PosekitError as exc:
        raise _fail(exc) from None
    console = _console()
    console.print(f"mean OKS {res.mean_oks:.4f} over {len(res.people)} matched person pairs; "
                  f"{len(res.disagreements)} disagreements; {len(res.unmatched)} unmatched", highlight=False)  # fmt: skip
    table = Table(title="per keypoint")
    table.add_column("keypoint")
    table.add_column("OKS", justify="right")
    table.add_column("labelled alike", justify="right")
    for f in res.files:
        table.add_column(f"bias {Path(f).name} (px)", justify="right")
    for n, kname in enumerate(res.keypoints):
        row = [kname, "" if np.isnan(res.oks_per_keypoint[n]) else f"{res.oks_per_keypoint[n]:.3f}",
               "" if np.isnan(res.label_agreement[n]) else f"{100 * res.label_agreement[n]:.0f}%"]  # fmt: skip
        for j in range(len(res.files)):
            b = res.bias[j, n]
            row.append("" if not np.isfinite(b).all() else f"{b[0]:+.1f}, {b[1]:+.1f}")
        table.add_row(*row)
    console.print(table)
    for r in res.repeat:
        console.print(f"repeat ({r['kind']}, {r['annotator']}): mean OKS {r['mean_oks']}", highlight=False)
    if output is not None:
        console.print(f"wrote {output}", highlight=False)
