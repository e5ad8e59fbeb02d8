"""QA profiles: which rules run, at what severity, with which thresholds — in TOML.

The defaults live with the rules (each :class:`~posekit.qa.rules.Param` carries its default, unit and
the reason for it); the packaged ``profiles/default.toml`` is exactly :func:`render_profile_toml` of
them, with every reason as a comment. A user profile lists only what it changes::

    # my.toml
    name = "lenient"
    [review]
    warning = 0.5
    [rules."continuity.speed"]
    max_speed = 40.0
    [rules."confidence.keypoint"]
    enabled = false
    [rules."left_right.face"]
    severity = "error"

Unknown tables, rules, parameters and values of the wrong type are errors naming the file and key.
TOML is read with :mod:`tomllib` (Python 3.11+) or ``tomli`` (3.10).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from posekit.errors import InputError

from .findings import Severity
from .rules import Rule, get_rule, list_rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["RuleSettings", "ReviewWeights", "Profile", "default_profile", "load_profile", "render_profile_toml",
           "PACKAGED_PROFILES"]  # fmt: skip

#: Profiles shipped with posekit (files in ``posekit/qa/profiles/``).
PACKAGED_PROFILES = ("default",)


@dataclass(frozen=True)
class RuleSettings:
    """How one rule runs: ``enabled``, its findings' ``severity`` and parameter values."""

    enabled: bool
    severity: Severity
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ReviewWeights:
    """How the review queue weighs a frame (see :mod:`posekit.qa.queue`).

    Attributes:
        error: risk added per error-level finding.
        warning: risk added per warning.
        info: risk added per info finding.
        uncertainty: risk added per unit of model uncertainty of the frame (see ``confident_score``).
        confident_score: mean keypoint score from which a person counts as certain; a person's
            uncertainty is ``max(0, confident_score − mean score) / confident_score`` and a frame's is
            its least confident person's.
        min_risk: frames below this risk are left out of the queue.
    """

    error: float = 1.0
    warning: float = 0.3
    info: float = 0.05
    uncertainty: float = 1.0
    confident_score: float = 0.8
    min_risk: float = 0.05


_REVIEW_REASONS = {
    "error": "An error-level finding is a near-certain defect: one alone puts a frame at the top.",
    "warning": "About three warnings on one frame weigh like one error.",
    "info": "Infos only break ties between otherwise equal frames.",
    "uncertainty": "A frame whose least confident person has mean keypoint score 0.4 (half the confident score) "
                   "weighs like half an error; annotations score 1 and add nothing.",
    "confident_score": "Clearly seen keypoints of a landmark model score about 0.9; only the shortfall below 0.8 "
                       "counts as uncertainty, so ordinary model output does not flood the queue.",
    "min_risk": "Frames with nothing but a trace of uncertainty (under 5% of an error) stay out of the queue.",
}  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """A QA profile: rule settings by id and review-queue weights."""

    name: str
    rules: Mapping[str, RuleSettings]
    review: ReviewWeights = field(default_factory=ReviewWeights)

    def build_rules(self) -> list[Rule]:
        """Instances of the enabled rules, sorted by id."""
        out = []
        for rid in sorted(self.rules):
            s = self.rules[rid]
            if s.enabled:
                out.append(get_rule(rid, severity=s.severity, **dict(s.params)))
        return out

    def with_rule(self, rule_id: str, **changes: Any) -> "Profile":
        """A copy with one rule's ``enabled``, ``severity`` or parameters changed."""
        s = self.rules[rule_id]
        params = dict(s.params)
        enabled = changes.pop("enabled", s.enabled)
        severity = Severity.parse(changes.pop("severity", s.severity))
        params.update(changes)
        get_rule(rule_id, severity=severity, **params)  # validate
        rules = dict(self.rules)
        rules[rule_id] = RuleSettings(enabled, severity, params)
        return replace(self, rules=rules)


def default_profile() -> Profile:
    """Every registered rule enabled with its default severity and parameters."""
    rules = {
        cls.id: RuleSettings(True, cls.severity, {p.name: p.default for p in cls.parameters}) for cls in list_rules()
    }
    return Profile("default", rules, ReviewWeights())


def _fail(path: str | Path, problem: str) -> InputError:
    return InputError(path, problem)


def profile_from_dict(doc: Mapping[str, Any], path: str | Path = "<profile>", base: Profile | None = None) -> Profile:
    """A profile from parsed TOML (keys: ``name``, ``[review]``, ``[rules."id"]``) over ``base``.

    Raises:
        InputError: unknown keys, rules or parameters, or values of the wrong type.
    """
    base = base or default_profile()
    extra = sorted(set(doc) - {"name", "review", "rules"})
    if extra:
        raise _fail(path, f"unknown top-level key(s) {', '.join(map(repr, extra))} (expected name, [review], [rules])")
    name = doc.get("name", Path(str(path)).stem)
    if not isinstance(name, str):
        raise _fail(path, f"'name' must be a string, got {name!r}")
    review = base.review
    rv = doc.get("review", {})
    if not isinstance(rv, dict):
        raise _fail(path, "[review] must be a table")
    known = {f.name for f in fields(ReviewWeights)}
    for k, v in rv.items():
        if k not in known:
            raise _fail(path, f"[review] has unknown key {k!r} (known: {', '.join(sorted(known))})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise _fail(path, f"[review] {k} must be a non-negative number, got {v!r}")
        review = replace(review, **{k: float(v)})
    rules = dict(base.rules)
    rt = doc.get("rules", {})
    if not isinstance(rt, dict):
        raise _fail(path, "[rules] must be a table of rule tables")
    for rid, tab in rt.items():
        if rid not in rules:
            raise _fail(path, f"[rules] names unknown rule {rid!r} (known: {', '.join(sorted(rules))})")
        if not isinstance(tab, dict):
            raise _fail(path, f'[rules."{rid}"] must be a table')
        s = rules[rid]
        enabled, severity, params = s.enabled, s.severity, dict(s.params)
        for k, v in tab.items():
            if k == "enabled":
                if not isinstance(v, bool):
                    raise _fail(path, f'[rules."{rid}"] enabled must be true or false, got {v!r}')
                enabled = v
            elif k == "severity":
                try:
                    severity = Severity.parse(v) if isinstance(v, str) else Severity.parse("?")
                except ValueError:
                    raise _fail(path, f'[rules."{rid}"] severity must be "info", "warning" or "error", got {v!r}') from None
            elif k in params:
                params[k] = v
            else:
                known_p = ", ".join(sorted(params)) or "none"
                raise _fail(path, f'[rules."{rid}"] has unknown parameter {k!r} (known: enabled, severity, {known_p})')
        try:
            get_rule(rid, severity=severity, **params)
        except ValueError as exc:
            raise _fail(path, f'[rules."{rid}"]: {exc}') from None
        rules[rid] = RuleSettings(enabled, severity, params)
    return Profile(name, rules, review)


def load_profile(spec: "str | Path | Profile | None" = None) -> Profile:
    """A profile by packaged name (``"default"``), TOML file path, or ``None`` for the default.

    A file overrides the default profile key by key.

    Raises:
        InputError: a file that is missing, not TOML, or holds unknown keys or bad values.
    """
    if isinstance(spec, Profile):
        return spec
    if spec is None:
        return default_profile()
    if isinstance(spec, str) and spec in PACKAGED_PROFILES:
        text = resources.files("posekit.qa").joinpath("profiles", f"{spec}.toml").read_text(encoding="utf-8")
        return profile_from_dict(tomllib.loads(text), f"posekit/qa/profiles/{spec}.toml")
    p = Path(spec)
    if not p.exists():
        raise InputError(p, f"profile not found (packaged profiles: {', '.join(PACKAGED_PROFILES)})")
    if p.is_dir():
        raise InputError(p, "is a folder, expected a TOML profile")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(p, "not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(p, f"not valid TOML: {exc}") from None
    return profile_from_dict(doc, p)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {v!r} to TOML")


def _comment(text: str, width: int = 100) -> list[str]:
    words, lines, cur = text.split(), [], "#"
    for w in words:
        if len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = "#"
        cur += " " + w
    lines.append(cur)
    return lines


def render_profile_toml(profile: Profile | None = None) -> str:
    """The profile as TOML with every rule's description and every default's reason as comments."""
    prof = profile or default_profile()
    lines = [
        f"# posekit QA profile {prof.name!r}.",
        "# Generated from the rule definitions (posekit.qa.profiles.render_profile_toml); every value below is",
        "# the default, with the reason for it. A profile of your own needs only the keys it changes.",
        "# Lengths are in torso units (one typical shoulder-to-hip distance of the body being checked).",
        "",
        f"name = {_toml_value(prof.name)}",
        "",
        "[review]",
    ]
    for f in fields(ReviewWeights):
        lines += _comment(_REVIEW_REASONS[f.name])
        lines.append(f"{f.name} = {_toml_value(float(getattr(prof.review, f.name)))}")
    classes = {c.id: c for c in list_rules()}
    for rid in sorted(prof.rules):
        s = prof.rules[rid]
        cls = classes[rid]
        lines += ["", f'[rules."{rid}"]']
        lines += _comment(cls.description)
        lines += [f"enabled = {_toml_value(s.enabled)}", f"severity = {_toml_value(str(s.severity))}"]
        for p in cls.parameters:
            lines += _comment(f"[{p.unit}] {p.reason}")
            lines.append(f"{p.name} = {_toml_value(s.params[p.name])}")
    return "\n".join(lines) + "\n"
