"""``posekit eval``: score predictions against keypoint ground truth, or run the estimator on a dataset.

Two forms::

    posekit eval --gt person_keypoints.json --pred results.json [--report report.md]
    posekit eval --dataset coco FOLDER [--report report.md] [--save-pred results.json]

The table holds pycocotools' OKS AP/AR (the ground truth's skeleton sigmas), PCK@α normalised by the
person's box (longer side) and by the torso, and the mean keypoint error in pixels over matched people
(see :mod:`posekit.metrics`). Predictions in another layout are converted through the registered
conversion (BlazePose-33 → COCO-17 is exact); the table says so.

Prediction files: a COCO results list (matched to the ground truth by ``image_id``; its layout is the
ground truth's unless ``--pred-layout`` names another, never guessed from a count), a full COCO file
such as the ``*.coco.json`` that ``posekit estimate`` writes (matched by file name), or posekit JSON (a
list of frames carries no image names: it is refused unless ``--match order`` says that its i-th frame
is the ground truth's i-th image).

:func:`eval_command` is a plain function with typer parameters; ``posekit.cli`` registers it as the
``eval`` subcommand.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import InputError, PosekitError

__all__ = ["eval_command", "evaluate_frames", "find_coco_annotation", "run_estimator_on_coco", "report_markdown"]

_err = Console(stderr=True)


def _fail(exc: BaseException, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


# ---------------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------------
def evaluate_frames(
    gt: Any,
    pred: Mapping[Any, Any],
    *,
    alpha: float = 0.2,
    gt_path: Path | None = None,
    results_path: Path | None = None,
) -> dict[str, Any]:
    """All the numbers of the ``eval`` table for a :class:`~posekit.io.coco.CocoDataset` and predictions.

    Args:
        gt: the ground truth (a CocoDataset).
        pred: ground-truth image id → predicted :class:`~posekit.poses.PoseFrame` (any layout with a
            registered conversion to the ground truth's).
        alpha: PCK threshold as a fraction of the normaliser.
        gt_path, results_path: when both are given (a COCO results file scored against its ground-truth
            file), AP/AR come from pycocotools run directly on the two files.

    Returns:
        ``{"AP", …, "ARl", "pck_box", "pck_torso", "mean_error", "images", "gt_people", "matched",
        "predictions", "missing_keypoints", "pred_layout", "gt_layout"}``.
    """
    from .metrics import PCK, KeypointError, coco_eval_files, oks_ap
    from .poses import PoseFrame

    frames = {iid: pred.get(iid, PoseFrame.empty(gt.skeleton)) for iid in gt.images}
    if results_path is not None and gt_path is not None:
        out: dict[str, Any] = dict(coco_eval_files(gt_path, results_path, skeleton=gt.skeleton))
    else:
        out = dict(oks_ap(gt, {i: f for i, f in frames.items() if len(f)} or frames, convert=True))
    box = PCK(alpha, "box", convert=True)
    torso = PCK(alpha, "torso", convert=True) if _has_torso(gt.skeleton) else None
    err = KeypointError(convert=True)
    for iid, g in gt.frames.items():
        crowd = gt.iscrowd.get(iid)
        for acc in (box, torso, err):
            if acc is not None:
                acc.update(g, frames[iid], iscrowd=crowd)
    b = box.compute()
    out["pck_box"] = b["pck"]
    out["pck_torso"] = torso.compute()["pck"] if torso is not None and torso.people else float("nan")
    if b["matched"]:
        e = err.compute()
        out["mean_error"], out["missing_keypoints"] = e["mean_error"], e["missing"]
    else:
        out["mean_error"], out["missing_keypoints"] = float("nan"), 0
    out.update(
        images=len(gt.images), gt_people=b["people"], matched=b["matched"],
        predictions=sum(len(f) for f in frames.values()), alpha=alpha,
        pred_layout=next((f.skeleton.name for f in frames.values() if len(f)), gt.skeleton.name),
        gt_layout=gt.skeleton.name,
    )  # fmt: skip
    return out


def _has_torso(skeleton: Any) -> bool:
    return "left_shoulder" in skeleton.keypoints and "right_hip" in skeleton.keypoints


def _rows(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    def pct(v: float) -> str:
        return "n/a" if v != v or v < 0 else f"{100 * v:.1f}"

    a = f"{r['alpha']:g}"
    rows = [(name, pct(r[name])) for name in ("AP", "AP50", "AP75", "APm", "APl", "AR")]
    rows += [
        (f"PCK@{a} (box)", pct(r["pck_box"])),
        (f"PCK@{a} (torso)", pct(r["pck_torso"])),
        ("mean error (px)", "n/a" if r["mean_error"] != r["mean_error"] else f"{r['mean_error']:.2f}"),
        ("images", str(r["images"])),
        ("ground-truth people", str(r["gt_people"])),
        ("matched people", str(r["matched"])),
        ("predicted people", str(r["predictions"])),
        ("missing predicted keypoints", str(r["missing_keypoints"])),
    ]
    return rows


def _layout_note(r: Mapping[str, Any]) -> str:
    if r["pred_layout"] == r["gt_layout"]:
        return f"layout {r['gt_layout']}"
    return f"predictions {r['pred_layout']} converted to {r['gt_layout']} (registered table)"


def report_markdown(r: Mapping[str, Any], title: str) -> str:
    """The ``eval`` table as markdown (AP/AR/PCK in percent)."""
    lines = [f"# {title}", "", f"{time.strftime('%Y-%m-%d %H:%M')} · {_layout_note(r)}", "",
             "| metric | value |", "|---|---|"]  # fmt: skip
    lines += [f"| {k} | {v} |" for k, v in _rows(r)]
    return "\n".join(lines) + "\n"


def _print(r: Mapping[str, Any], title: str) -> None:
    table = Table(title=title, title_justify="left", caption=_layout_note(r), caption_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in _rows(r):
        table.add_row(k, v)
    Console().print(table)


# ---------------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------------
def _read_gt(path: Path, layout: str | None):
    from .io.coco import read_coco

    if layout:
        from .datasets.coco import read_coco_keypoints

        return read_coco_keypoints(path, layout=layout)
    return read_coco(path)


def _read_pred(path: Path, gt: Any, match: str, pred_layout: str | None = None) -> tuple[dict[Any, Any], bool]:
    """Predicted frames per ground-truth image id, and whether the file is a COCO results list."""
    from .io.coco import CocoDataset
    from .io.posekit_json import FORMAT, load_json_file, load_poses

    doc = load_json_file(path)
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        from .poses import PoseFrame, PoseSequence

        obj = load_poses(path)
        frames = list(obj.frames()) if isinstance(obj, PoseSequence) else [obj] if isinstance(obj, PoseFrame) else obj
        if match != "order":
            raise InputError(
                path,
                "posekit JSON holds no image ids or file names; score the '*.coco.json' written next to it, "
                "or pass --match order if its i-th frame is the ground truth's i-th image",
            )
        if len(frames) != len(gt.images):
            raise InputError(path, f"holds {len(frames)} frames but the ground truth has {len(gt.images)} images")
        return dict(zip(gt.images, frames)), False
    if isinstance(doc, list):
        from .io.coco import read_coco_results

        from .skeletons import get_skeleton

        sk = gt.skeleton if pred_layout is None else get_skeleton(pred_layout)
        try:
            res = read_coco_results(path, gt if sk.name == gt.skeleton.name else None, skeleton=sk)
        except InputError as e:
            if "values, expected" in e.problem and pred_layout is None:
                raise InputError(path, f"{e.problem} (results in another layout? pass --pred-layout, e.g. blazepose33)") from None
            raise
        unknown = [i for i in res.images if i not in gt.images]
        if unknown:
            raise InputError(path, f"result for image id {unknown[0]!r}, which is not in the ground truth")
        return dict(res.frames), sk.name == gt.skeleton.name
    if isinstance(doc, dict) and "annotations" in doc:
        from .io.coco import read_coco

        ds: CocoDataset = read_coco(path)
        by = match if match != "auto" else ("file_name" if all("file_name" in i for i in ds.images.values()) else "image_id")
        return _align(ds, gt, by, path), False
    raise InputError(path, "expected a COCO results list, a COCO keypoint file or posekit JSON")


def _align(ds: Any, gt: Any, by: str, path: Path) -> dict[Any, Any]:
    from pathlib import PurePosixPath

    if by == "image_id":
        extra = [i for i in ds.images if i not in gt.images]
        if extra:
            raise InputError(path, f"image id {extra[0]!r} is not in the ground truth")
        return dict(ds.frames)
    if by == "file_name":
        names = {PurePosixPath(str(img.get("file_name", ""))).name: iid for iid, img in gt.images.items()}
        out = {}
        for iid, img in ds.images.items():
            name = PurePosixPath(str(img.get("file_name", ""))).name
            if name not in names:
                raise InputError(path, f"image {name!r} (id {iid!r}) is not in the ground truth")
            out[names[name]] = ds.frames[iid]
        return out
    if by == "order":
        if len(ds.images) != len(gt.images):
            raise InputError(path, f"holds {len(ds.images)} images but the ground truth has {len(gt.images)}")
        return dict(zip(gt.images, ds.frames.values()))
    raise InputError(path, f"unknown --match {by!r} (auto, image_id, file_name, order)")


def find_coco_annotation(folder: Path) -> Path:
    """The COCO keypoint file of a dataset folder: the one JSON (in the folder or its ``annotations/``)
    that holds ``images``, ``annotations`` and ``categories``; among several, the one whose image files
    all exist.

    Raises:
        InputError: none, or several equally good candidates (pass ``--gt``).
    """
    from .io.posekit_json import load_json_file

    if not folder.is_dir():
        raise InputError(folder, "is not a folder (give a COCO-style folder: annotation JSON + images)")
    cands = sorted(set(folder.glob("*.json")) | set((folder / "annotations").glob("*.json")))
    docs = []
    for c in cands:
        try:
            d = load_json_file(c)
        except InputError:
            continue
        if isinstance(d, dict) and all(k in d for k in ("images", "annotations", "categories")):
            docs.append((c, d))
    if not docs:
        raise InputError(folder, "holds no COCO keypoint file (*.json with images, annotations, categories)")
    if len(docs) > 1:
        full = [c for c, d in docs if all(_image_path(folder, i.get("file_name", "")) for i in d["images"])]
        if len(full) == 1:
            return full[0]
        names = ", ".join(c.name for c, _ in docs)
        raise InputError(folder, f"holds several COCO keypoint files ({names}); choose one with --gt")
    return docs[0][0]


def _image_path(folder: Path, file_name: str) -> Path | None:
    name = str(file_name)
    for base in [folder, folder / "images", *sorted(p for p in folder.iterdir() if p.is_dir())]:
        p = base / name
        if p.is_file():
            return p
    return None


def run_estimator_on_coco(
    gt: Any, folder: Path, *, max_people: int | None = None, threads: int | None = None, progress: bool = True
) -> tuple[dict[Any, Any], float]:
    """Run :class:`~posekit.PoseEstimator` on every image of a COCO-style folder.

    Returns:
        ground-truth image id → predicted frame (BlazePose-33), and the seconds spent estimating.

    Raises:
        InputError: an image of the annotation file is not in the folder (every image is needed: a
            missing one would count its people as missed).
    """
    from rich.progress import Progress

    from .estimate import PoseEstimator
    from .io.images import read_image

    paths = {}
    for iid, img in gt.images.items():
        p = _image_path(folder, img.get("file_name", ""))
        if p is None:
            raise InputError(folder, f"image {img.get('file_name')!r} (id {iid}) of the annotation file is not in the folder")
        paths[iid] = p
    est = PoseEstimator(max_people=max_people, threads=threads)
    out, spent = {}, 0.0
    with Progress(console=_err, transient=True, disable=not progress) as prog:
        task = prog.add_task("estimating", total=len(paths))
        for iid, p in paths.items():
            image = read_image(p, max_pixels=est.config.max_pixels)
            t0 = time.perf_counter()
            out[iid] = est(image)
            spent += time.perf_counter() - t0
            prog.advance(task)
    return out, spent


# ---------------------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------------------
def eval_command(
    path: Optional[Path] = typer.Argument(None, help="With --dataset: the dataset folder (annotation JSON + images)."),
    gt: Optional[Path] = typer.Option(None, "--gt", help="Ground-truth COCO keypoint file."),
    pred: Optional[Path] = typer.Option(None, "--pred", help="Predictions: COCO results, a COCO file or posekit JSON."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Run the estimator on a dataset folder: 'coco'."),
    report: Optional[Path] = typer.Option(None, "--report", help="Also write the table to this markdown file."),
    alpha: float = typer.Option(0.2, "--alpha", help="PCK threshold as a fraction of the box / torso size."),
    layout: Optional[str] = typer.Option(None, "--layout", help="Ground-truth layout, e.g. crowdpose14 (default: from the file)."),
    pred_layout: Optional[str] = typer.Option(
        None, "--pred-layout", help="Layout of a COCO results file, e.g. blazepose33 (default: the ground truth's)."
    ),
    match: str = typer.Option("auto", "--match", help="Pair predictions with images by: auto, image_id, file_name, order."),
    save_pred: Optional[Path] = typer.Option(None, "--save-pred", help="With --dataset: write the predictions (COCO results)."),
    max_people: Optional[int] = typer.Option(None, "--max-people", "-n", help="With --dataset: most people per image [10]."),
    threads: Optional[int] = typer.Option(None, "--threads", help="With --dataset: inference threads per model [1]."),
) -> None:
    """Score keypoint predictions against ground truth (OKS AP/AR, PCK, mean error)."""
    try:
        if not 0 < alpha <= 1:
            raise typer.BadParameter(f"--alpha must be in (0, 1], got {alpha}")
        if dataset is not None:
            if dataset.lower() != "coco":
                raise typer.BadParameter(f"unknown --dataset {dataset!r}; supported: coco")
            if path is None:
                raise typer.BadParameter("--dataset coco needs the dataset FOLDER")
            if pred is not None:
                raise typer.BadParameter("--dataset runs the estimator; do not pass --pred as well")
            ann = gt or find_coco_annotation(path)
            g = _read_gt(ann, layout)
            frames, spent = run_estimator_on_coco(g, path, max_people=max_people, threads=threads)
            if save_pred is not None:
                from .io.coco import write_coco_results

                write_coco_results(save_pred, frames)
            r = evaluate_frames(g, frames, alpha=alpha)
            title = f"posekit eval — PoseEstimator on {path} ({spent / max(len(frames), 1) * 1e3:.0f} ms/image)"
        else:
            if path is not None:
                raise typer.BadParameter(f"unexpected argument {str(path)!r}; use --gt and --pred, or --dataset coco FOLDER")
            if gt is None or pred is None:
                raise typer.BadParameter("give --gt and --pred (or --dataset coco FOLDER)")
            g = _read_gt(gt, layout)
            frames, is_results = _read_pred(pred, g, match, pred_layout)
            r = evaluate_frames(g, frames, alpha=alpha, gt_path=gt if is_results and layout is None else None,
                                results_path=pred if is_results and layout is None else None)  # fmt: skip
            title = f"posekit eval — {pred.name} vs {gt.name}"
        if report is not None:
            from .io.atomic import atomic_write

            with atomic_write(report, "w") as fh:
                fh.write(report_markdown(r, title))
    except typer.BadParameter:
        raise
    except (PosekitError, ValueError, KeyError) as e:
        raise _fail(e) from None
    _print(r, title)
