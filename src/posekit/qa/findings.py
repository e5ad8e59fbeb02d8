"""QA findings: what a rule found, where, how bad, and the ``{"findings": [...]}`` file.

A :class:`Finding` names the rule (``rule``), its :class:`Severity` (``info`` < ``warning`` < ``error``),
where it is (``frame`` index in the source, ``time`` in seconds when known, ``track`` id when known,
``person`` slot: the individual index of a sequence or the person's position in its image, and on
COCO input ``image_id`` and ``annotation_id``), the keypoints concerned (names), the measured
``value`` and the ``threshold`` it was compared with (both in ``unit``), and a plain ``message``.

File layout (:func:`write_findings`, atomically)::

    {"findings": [
        {"rule": "topology.proportion", "severity": "error", "frame": 3, "time": null,
         "track": null, "person": 1, "image_id": 785, "annotation_id": 425226,
         "keypoints": ["left_elbow", "left_wrist"], "value": 2.41, "threshold": 2.0,
         "unit": "x typical", "message": "..."},
        ...]}

Every key is always present (``null`` where it does not apply), so readers need no guessing.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Iterable

from posekit.errors import InputError, OutputError
from posekit.io.atomic import atomic_write

__all__ = ["Severity", "Finding", "write_findings", "read_findings", "findings_to_json", "count_by"]


class Severity(IntEnum):
    """How serious a finding is (ordered: ``info < warning < error``)."""

    INFO = 0  #: worth a look; never a defect on its own
    WARNING = 1  #: likely a defect; a person should check
    ERROR = 2  #: almost certainly a defect (impossible anatomy, contradictory data)

    @classmethod
    def parse(cls, value: "str | int | Severity") -> "Severity":
        """From ``"info"``, ``"warning"``, ``"error"`` (case-insensitive) or an integer."""
        if isinstance(value, Severity):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(f"unknown severity {value!r} (known: info, warning, error)") from None
        return cls(int(value))

    def __str__(self) -> str:
        return self.name.lower()


def _clean_number(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    if not math.isfinite(v):
        return None
    return round(v, 6)


def _json_id(v: Any) -> Any:
    if v is None:
        return None
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
    if isinstance(v, (int, str)):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return str(v)


@dataclass(frozen=True)
class Finding:
    """One thing a QA rule found.

    Attributes:
        rule: the rule id, e.g. ``"left_right.torso"``.
        severity: :class:`Severity`.
        message: one plain sentence saying what is wrong and where.
        frame: frame index in the source (COCO: the image's position in the file), or ``None``.
        time: seconds from the start of the source, or ``None`` for still images.
        track: track id of the person, or ``None`` when the input has none.
        person: the person's slot: individual index of a sequence, or position in its image.
        keypoints: names of the keypoints concerned.
        value: the measured value (in ``unit``), or ``None``.
        threshold: the threshold it was compared with (in ``unit``), or ``None``.
        unit: unit of ``value`` and ``threshold`` (e.g. ``"deg"``, ``"torso/s"``, ``"robust z"``).
        image_id: COCO image id, or ``None``.
        annotation_id: COCO annotation id (results files: the entry's position), or ``None``.
        row: index of the row in the checked :class:`~posekit.qa.data.QAData` (in memory only; not
            written to files).
    """

    rule: str
    severity: Severity
    message: str
    frame: int | None = None
    time: float | None = None
    track: int | None = None
    person: int | None = None
    keypoints: tuple[str, ...] = field(default_factory=tuple)
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    image_id: Any = None
    annotation_id: Any = None
    row: int | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every key present (``None`` where not applicable)."""
        return {
            "rule": self.rule,
            "severity": str(Severity.parse(self.severity)),
            "frame": None if self.frame is None else int(self.frame),
            "time": _clean_number(self.time),
            "track": None if self.track is None else int(self.track),
            "person": None if self.person is None else int(self.person),
            "image_id": _json_id(self.image_id),
            "annotation_id": _json_id(self.annotation_id),
            "keypoints": list(self.keypoints),
            "value": _clean_number(self.value),
            "threshold": _clean_number(self.threshold),
            "unit": self.unit,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        """Inverse of :meth:`to_dict` (raises ``KeyError``/``ValueError`` on malformed input)."""
        return cls(
            rule=str(d["rule"]),
            severity=Severity.parse(d["severity"]),
            message=str(d["message"]),
            frame=None if d.get("frame") is None else int(d["frame"]),
            time=None if d.get("time") is None else float(d["time"]),
            track=None if d.get("track") is None else int(d["track"]),
            person=None if d.get("person") is None else int(d["person"]),
            keypoints=tuple(str(k) for k in d.get("keypoints", ())),
            value=None if d.get("value") is None else float(d["value"]),
            threshold=None if d.get("threshold") is None else float(d["threshold"]),
            unit=str(d.get("unit", "")),
            image_id=d.get("image_id"),
            annotation_id=d.get("annotation_id"),
        )


def findings_to_json(findings: Iterable[Finding]) -> dict[str, Any]:
    """``{"findings": [...]}`` for a list of findings."""
    return {"findings": [f.to_dict() for f in findings]}


def write_findings(path: str | Path, findings: Iterable[Finding]) -> None:
    """Write ``{"findings": [...]}`` to ``path`` atomically (complete or absent, never half-written).

    Raises:
        OutputError: the file cannot be written.
    """
    doc = findings_to_json(findings)
    text = json.dumps(doc, allow_nan=False, indent=1)
    try:
        with atomic_write(path, "w") as fh:
            fh.write(text)
            fh.write("\n")
    except OSError as exc:  # pragma: no cover - atomic_write already maps most
        raise OutputError(path, f"cannot write findings: {exc}") from exc


def read_findings(path: str | Path) -> list[Finding]:
    """Read a file written by :func:`write_findings`.

    Raises:
        InputError: the file is not JSON, has no ``"findings"`` list, or an entry is malformed.
    """
    from posekit.io.posekit_json import load_json_file

    doc = load_json_file(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise InputError(path, "expected a JSON object with a 'findings' list")
    out = []
    for j, d in enumerate(doc["findings"]):
        try:
            out.append(Finding.from_dict(d))
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(path, f"finding {j} is malformed ({type(exc).__name__}: {exc})") from None
    return out


def count_by(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """Counts per rule and severity: ``{rule: {"info": n, "warning": n, "error": n}}``, rules sorted."""
    c: Counter[tuple[str, str]] = Counter((f.rule, str(Severity.parse(f.severity))) for f in findings)
    out: dict[str, dict[str, int]] = {}
    for (rule, sev), n in sorted(c.items()):
        out.setdefault(rule, {"info": 0, "warning": 0, "error": 0})[sev] = n
    return out
