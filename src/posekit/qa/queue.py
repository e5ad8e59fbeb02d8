"""The review queue: frames ranked by risk, for people to check first what is most likely wrong.

Risk of a frame (image) = Σ over its findings of the profile's severity weight (``error`` 1.0,
``warning`` 0.3, ``info`` 0.05 by default) + ``uncertainty`` weight × the model uncertainty of the
frame: for its least confident person ``max(0, c − mean keypoint score) / c`` with ``c`` the
profile's ``confident_score`` (0.8), so 0 for human annotations (score 1) and for clearly seen model
output. Frames under ``min_risk`` are left out.

JSON schema (:func:`write_queue`; read by the review web page)::

    {
      "format": "posekit-review-queue",
      "version": 1,
      "source": "path/of/the/checked/file" | null,
      "skeleton": "coco17",
      "weights": {"error": 1.0, "warning": 0.3, "info": 0.05, "uncertainty": 1.0, "confident_score": 0.8,
                  "min_risk": 0.05},
      "items": [
        {
          "rank": 1,                    # 1 = review first
          "risk": 2.6,                  # see above (unitless)
          "frame": 3,                   # frame index in the source (COCO: image position in the file)
          "time": 0.1 | null,           # seconds, null for still images
          "image_id": 785 | null,       # COCO image id
          "file_name": "000000000785.jpg" | null,
          "people": [                   # the people with findings in this frame
            {"person": 1, "track": 7 | null, "annotation_id": 425226 | null}
          ],
          "errors": 2, "warnings": 2, "infos": 0,   # finding counts by severity
          "uncertainty": 0.0,           # model uncertainty of the frame (see above), in [0, 1]
          "rules": ["left_right.torso", "topology.proportion"],   # distinct rule ids, sorted
          "keypoints": ["left_hip", "right_hip"],                  # distinct keypoint names, sorted
          "findings": [12, 13, 14, 15], # indices into the "findings" list of the findings file
          "summary": "message of the worst finding"
        }
      ]
    }

CSV (same stem, ``.csv``; one row per item): ``rank, risk, frame, time, image_id, file_name, people,
tracks, annotation_ids, errors, warnings, infos, uncertainty, rules, keypoints, findings, summary``;
list fields are joined with ``;``, empty cells where null.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from posekit.errors import InputError
from posekit.io.atomic import atomic_write

from .findings import Finding, Severity
from .profiles import ReviewWeights

__all__ = ["QueueItem", "review_queue", "frame_uncertainty", "write_queue", "read_queue", "QUEUE_FORMAT",
           "CSV_COLUMNS"]  # fmt: skip

QUEUE_FORMAT = "posekit-review-queue"
QUEUE_VERSION = 1
CSV_COLUMNS = ("rank", "risk", "frame", "time", "image_id", "file_name", "people", "tracks", "annotation_ids",
               "errors", "warnings", "infos", "uncertainty", "rules", "keypoints", "findings", "summary")  # fmt: skip


@dataclass
class QueueItem:
    """One frame to review (see the module docstring for the fields)."""

    rank: int
    risk: float
    frame: int | None
    time: float | None
    image_id: Any
    file_name: str | None
    people: list[dict[str, Any]]
    errors: int
    warnings: int
    infos: int
    uncertainty: float
    rules: list[str]
    keypoints: list[str]
    findings: list[int] = field(default_factory=list)
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["risk"] = round(float(self.risk), 6)
        d["uncertainty"] = round(float(self.uncertainty), 6)
        return d


def frame_uncertainty(data: Any, confident_score: float = 0.8) -> np.ndarray:
    """``(T,)`` uncertainty of each row: its least confident checked person's
    ``max(0, confident_score − mean keypoint score) / confident_score`` (0 without people)."""
    pres = data.present & data.checked[..., None]
    n = pres.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(pres, data.score, 0.0).sum(-1) / n
    c = max(float(confident_score), 1e-9)
    unc = np.where(n > 0, np.clip((c - mean) / c, 0.0, 1.0), 0.0)
    return unc.max(axis=1) if unc.shape[1] else np.zeros(unc.shape[0])


def review_queue(result: Any, weights: ReviewWeights | None = None) -> list[QueueItem]:
    """Frames ranked by risk.

    Args:
        result: a :class:`~posekit.qa.rules.QAResult` (its ``findings`` order is what ``findings``
            indices refer to, i.e. the order written by :func:`~posekit.qa.findings.write_findings`).
        weights: severity and uncertainty weights; default :class:`ReviewWeights`.

    Returns:
        Items sorted by risk (highest first; ties by frame), ranks 1, 2, …
    """
    w = weights or ReviewWeights()
    data = result.data
    sev_w = {Severity.ERROR: w.error, Severity.WARNING: w.warning, Severity.INFO: w.info}
    by_row: dict[int, list[int]] = {}
    for j, f in enumerate(result.findings):
        r = f.row if f.row is not None else (-1 if f.frame is None else -1 - int(f.frame))
        by_row.setdefault(r, []).append(j)
    unc = frame_uncertainty(data, w.confident_score) if data is not None else None
    rows = set(by_row)
    if unc is not None:
        rows |= set(np.flatnonzero(unc * w.uncertainty >= w.min_risk).tolist())
    items = []
    for r in rows:
        idx = by_row.get(r, [])
        fs: list[Finding] = [result.findings[j] for j in idx]
        u = float(unc[r]) if (unc is not None and 0 <= r < len(unc)) else 0.0
        risk = sum(sev_w[Severity.parse(f.severity)] for f in fs) + w.uncertainty * u
        if risk < w.min_risk or risk <= 0:
            continue
        people: dict[int, dict[str, Any]] = {}
        for f in fs:
            if f.person is not None and f.person not in people:
                people[f.person] = {"person": f.person, "track": f.track, "annotation_id": f.annotation_id}
        worst = max(fs, key=lambda f: int(f.severity)) if fs else None
        if data is not None and 0 <= r < data.shape[0]:
            frame = int(data.frame[r])
            time = None if data.time is None else float(data.time[r])
            image_id = None if data.image_id is None else data.image_id[r]
            file_name = None if data.file_name is None else data.file_name[r]
        else:
            frame, time, image_id, file_name = (fs[0].frame, fs[0].time, fs[0].image_id, None)
        summary = worst.message if worst is not None else f"model uncertainty {u:.2f}"
        items.append(QueueItem(
            rank=0, risk=risk, frame=frame, time=time, image_id=image_id, file_name=file_name,
            people=[people[k] for k in sorted(people)],
            errors=sum(f.severity == Severity.ERROR for f in fs),
            warnings=sum(f.severity == Severity.WARNING for f in fs),
            infos=sum(f.severity == Severity.INFO for f in fs),
            uncertainty=u, rules=sorted({f.rule for f in fs}), keypoints=sorted({k for f in fs for k in f.keypoints}),
            findings=idx, summary=summary,
        ))  # fmt: skip
    items.sort(key=lambda it: (-it.risk, -1 if it.frame is None else it.frame))
    for n, it in enumerate(items, 1):
        it.rank = n
    return items


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _csv_text(items: Iterable[QueueItem]) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(CSV_COLUMNS)
    for it in items:
        wr.writerow([
            it.rank, _cell(round(it.risk, 6)), _cell(it.frame), _cell(it.time), _cell(it.image_id), _cell(it.file_name),
            ";".join(str(p["person"]) for p in it.people),
            ";".join(_cell(p["track"]) for p in it.people),
            ";".join(_cell(p["annotation_id"]) for p in it.people),
            it.errors, it.warnings, it.infos, _cell(round(it.uncertainty, 6)), ";".join(it.rules),
            ";".join(it.keypoints), ";".join(str(j) for j in it.findings), it.summary,
        ])  # fmt: skip
    return buf.getvalue()


def write_queue(
    path: str | Path,
    items: list[QueueItem],
    *,
    source: str | None = None,
    skeleton: str | None = None,
    weights: ReviewWeights | None = None,
    csv_path: str | Path | None = None,
) -> tuple[Path, Path]:
    """Write the queue as JSON (``path``) and CSV (``csv_path``, default ``path`` with ``.csv``), atomically.

    Returns:
        The two paths written.
    """
    p = Path(path)
    c = Path(csv_path) if csv_path is not None else p.with_suffix(".csv")
    w = weights or ReviewWeights()
    doc = {
        "format": QUEUE_FORMAT,
        "version": QUEUE_VERSION,
        "source": source,
        "skeleton": skeleton,
        "weights": asdict(w),
        "items": [it.to_dict() for it in items],
    }
    text = json.dumps(doc, allow_nan=False, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    with atomic_write(p, "w") as fh:
        fh.write(text + "\n")
    with atomic_write(c, "w") as fh:
        fh.write(_csv_text(items))
    return p, c


def read_queue(path: str | Path) -> list[QueueItem]:
    """Read the JSON written by :func:`write_queue`.

    Raises:
        InputError: not a posekit review queue, or an item is malformed.
    """
    from posekit.io.posekit_json import load_json_file

    doc = load_json_file(path)
    if not isinstance(doc, dict) or doc.get("format") != QUEUE_FORMAT or not isinstance(doc.get("items"), list):
        raise InputError(path, f"not a posekit review queue (expected 'format': {QUEUE_FORMAT!r} and an 'items' list)")
    out = []
    for j, d in enumerate(doc["items"]):
        try:
            out.append(QueueItem(**d))
        except TypeError as exc:
            raise InputError(path, f"queue item {j} is malformed: {exc}") from None
    return out
