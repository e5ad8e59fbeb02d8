"""QA rules: the :class:`Rule` base, the rule registry and :func:`run_qa`.

A rule is a small registered object with an ``id`` (``family.check``, e.g. ``"left_right.torso"``),
a one-line ``description``, a default ``severity`` and ``parameters`` (each a :class:`Param` with a
default, a unit and the reason for the default). Rules read a :class:`~posekit.qa.data.QAData` and
return :class:`~posekit.qa.findings.Finding` objects; they work on whole ``(T, I, K)`` arrays at once
(no per-frame Python loops except over what they flag).

Built-in rules live in :mod:`posekit.qa.rules_body` (one image at a time), :mod:`posekit.qa.rules_motion`
(over time; sequences only) and :mod:`posekit.qa.rules_states` (states, duplicates, confidence).
:func:`list_rules` gives them all; a profile (:mod:`posekit.qa.profiles`) sets what runs and how.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np

from .data import QAData
from .findings import Finding, Severity

__all__ = ["Param", "Rule", "RULES", "register_rule", "get_rule", "list_rules", "QAResult", "run_qa"]


@dataclass(frozen=True)
class Param:
    """A rule parameter: name, default value, unit and the reason for the default."""

    name: str
    default: float | int | bool | str
    unit: str
    reason: str


class Rule:
    """Base class of QA rules. Subclasses set the class attributes and implement :meth:`check`.

    Args:
        severity: severity of this rule's findings (default: the class's ``severity``).
        **params: parameter overrides (names from ``parameters``; unknown names are an error).
    """

    id: ClassVar[str] = ""
    description: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    parameters: ClassVar[tuple[Param, ...]] = ()
    #: needs rows that are one video in time order (a sequence)
    temporal: ClassVar[bool] = False
    #: needs the raw ``x, y, v`` of a COCO file
    needs_raw: ClassVar[bool] = False
    #: keypoint names that must all exist in the skeleton (empty: none required)
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, severity: "Severity | str | None" = None, **params: Any) -> None:
        known = {p.name: p for p in self.parameters}
        bad = sorted(set(params) - set(known))
        if bad:
            raise ValueError(f"rule {self.id!r} has no parameter(s) {', '.join(bad)} (known: {', '.join(known) or 'none'})")
        self.params: dict[str, Any] = {}
        for name, p in known.items():
            v = params.get(name, p.default)
            self.params[name] = _coerce(self.id, name, v, p.default)
        self.level: Severity = Severity.parse(severity) if severity is not None else type(self).severity

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, severity={str(self.level)!r}, params={self.params})"

    def p(self, name: str) -> Any:
        """The value of parameter ``name``."""
        return self.params[name]

    def applies(self, data: QAData) -> str | None:
        """``None`` when the rule can run on ``data``, else the reason it cannot (one phrase)."""
        if self.temporal and not data.temporal:
            return "needs a sequence (rows in time order with identities)"
        if self.temporal and data.time is None:
            return "needs timestamps"
        if self.needs_raw and data.raw is None:
            return "needs the raw COCO keypoint triplets"
        missing = [n for n in self.requires if n not in data.skeleton.keypoints]
        if missing:
            return f"skeleton {data.skeleton.name!r} has no {', '.join(missing)}"
        return None

    def check(self, data: QAData) -> list[Finding]:  # pragma: no cover - abstract
        """Findings on ``data``."""
        raise NotImplementedError

    # -- helpers for subclasses ---------------------------------------------------------------------
    def finding(
        self,
        data: QAData,
        t: int,
        i: int,
        message: str,
        *,
        keypoints: Sequence[str] = (),
        value: float | None = None,
        threshold: float | None = None,
        unit: str = "",
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule at row ``t``, slot ``i``."""
        return Finding(
            rule=self.id,
            severity=self.level if severity is None else severity,
            message=message,
            keypoints=tuple(keypoints),
            value=None if value is None else float(value),
            threshold=None if threshold is None else float(threshold),
            unit=unit,
            **data.where(t, i),
        )

    def emit(
        self,
        data: QAData,
        mask: np.ndarray,
        value: np.ndarray,
        threshold: float | None,
        unit: str,
        keypoints: Callable[[int, int], Sequence[str]],
        message: Callable[[int, int, float], str],
    ) -> list[Finding]:
        """Findings for every ``(t, i)`` where ``mask (T, I)`` is true (``value (T, I)``)."""
        out = []
        for t, i in np.argwhere(mask):
            t, i = int(t), int(i)
            v = float(value[t, i])
            out.append(self.finding(data, t, i, message(t, i, v), keypoints=keypoints(t, i), value=v,
                                    threshold=threshold, unit=unit))  # fmt: skip
        return out


def _coerce(rule: str, name: str, v: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(v, bool):
            raise ValueError(f"rule {rule!r}: parameter {name!r} must be true or false, got {v!r}")
        return v
    if isinstance(default, (int, float)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ValueError(f"rule {rule!r}: parameter {name!r} must be a number, got {v!r}")
        if isinstance(default, int) and not float(v).is_integer():
            raise ValueError(f"rule {rule!r}: parameter {name!r} must be a whole number, got {v!r}")
        return type(default)(v)
    if isinstance(default, str):
        if not isinstance(v, str):
            raise ValueError(f"rule {rule!r}: parameter {name!r} must be a string, got {v!r}")
        return v
    return v


RULES: dict[str, type[Rule]] = {}


def register_rule(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule class to :data:`RULES` under its ``id``."""
    if not cls.id or "." not in cls.id:
        raise ValueError(f"rule class {cls.__name__} needs an id of the form 'family.check'")
    if cls.id in RULES and RULES[cls.id] is not cls:
        raise ValueError(f"a rule with id {cls.id!r} is already registered")
    names = [p.name for p in cls.parameters]
    if len(set(names)) != len(names):
        raise ValueError(f"rule {cls.id!r} declares a parameter twice")
    RULES[cls.id] = cls
    return cls


def _load_builtin() -> None:
    from . import rules_body, rules_motion, rules_states  # noqa: F401  (registers the rules)


def list_rules() -> list[type[Rule]]:
    """All registered rule classes, sorted by id."""
    _load_builtin()
    return [RULES[k] for k in sorted(RULES)]


def get_rule(rule_id: str, **kw: Any) -> Rule:
    """An instance of the rule ``rule_id`` (``kw``: ``severity=`` and parameter overrides)."""
    _load_builtin()
    try:
        cls = RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown QA rule {rule_id!r} (known: {', '.join(sorted(RULES))})") from None
    return cls(**kw)


@dataclass
class QAResult:
    """What :func:`run_qa` produced.

    Attributes:
        findings: all findings, sorted by frame, person, severity (worst first) and rule.
        ran: ids of the rules that ran.
        skipped: rule id → why it did not apply to this input.
        seconds: rule id → wall time spent, seconds.
        data: the checked data.
    """

    findings: list[Finding]
    ran: list[str]
    skipped: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)
    data: QAData | None = None

    @property
    def errors(self) -> int:
        """Number of error-level findings."""
        return sum(1 for f in self.findings if f.severity == Severity.ERROR)


def _sort_key(f: Finding) -> tuple:
    return (
        -1 if f.frame is None else f.frame,
        -1 if f.person is None else f.person,
        -int(f.severity),
        f.rule,
    )


def run_qa(data: Any, profile: Any = None, *, rules: Iterable[Rule] | None = None) -> QAResult:
    """Run QA rules on poses.

    Args:
        data: a :class:`QAData`, a :class:`~posekit.poses.PoseSequence`, a
            :class:`~posekit.poses.PoseFrame`, a list of frames (still images), or a
            :class:`~posekit.io.coco.CocoDataset` (without raw triplets: use
            :func:`~posekit.qa.data.load_qa_input` for files).
        profile: a :class:`~posekit.qa.profiles.Profile`, a profile name or TOML path; default the
            packaged default profile.
        rules: run exactly these rule instances instead of the profile's.

    Returns:
        :class:`QAResult`.
    """
    from .profiles import Profile, load_profile

    qa = as_qa_data(data)
    if rules is None:
        prof = profile if isinstance(profile, Profile) else load_profile(profile)
        rules = prof.build_rules()
    findings: list[Finding] = []
    ran: list[str] = []
    skipped: dict[str, str] = {}
    secs: dict[str, float] = {}
    for rule in rules:
        why = rule.applies(qa)
        if why is not None:
            skipped[rule.id] = why
            continue
        t0 = _time.perf_counter()
        findings += rule.check(qa)
        secs[rule.id] = _time.perf_counter() - t0
        ran.append(rule.id)
    findings.sort(key=_sort_key)
    return QAResult(findings, ran, skipped, secs, qa)


def as_qa_data(data: Any) -> QAData:
    """Wrap poses as :class:`QAData` (see :func:`run_qa` for what is accepted)."""
    from posekit.io.coco import CocoDataset
    from posekit.poses import PoseFrame, PoseSequence

    if isinstance(data, QAData):
        return data
    if isinstance(data, PoseSequence):
        return QAData.from_sequence(data)
    if isinstance(data, PoseFrame):
        return QAData.from_frames([data])
    if isinstance(data, CocoDataset):
        return QAData.from_coco(data)
    if isinstance(data, (list, tuple)) and data and all(isinstance(f, PoseFrame) for f in data):
        return QAData.from_frames(list(data))
    raise TypeError(f"cannot run QA on {type(data).__name__}; pass a PoseSequence, PoseFrame(s), CocoDataset or QAData")
