"""One-call analysis of a pose sequence and its outputs: ``summary.json``, an HTML report, an annotated video.

:func:`analyze` runs the parts asked for (joint angles always; an exercise — named or recognised —,
gait, falls) and returns an :class:`Analysis`. :func:`write_summary` writes its JSON summary,
:func:`write_html` a self-contained HTML report (matplotlib plots embedded as base64 PNG: angles over
time with rep boundaries, the exercise progress signal, gait events, a falls timeline),
:func:`write_overlay` an annotated copy of the video (skeleton, rep counter, feedback, angles, fall
alerts). :func:`prepare` is the pre-processing the command uses: identity tracking and stabilisation
when :mod:`posekit.track` provides them.

Bad input never raises here: no person, a person who leaves, a view a rule cannot use — each becomes a
plain message in ``messages`` and in the report.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posekit.poses import PoseSequence

from ._body import SIDES, Body, main_person
from .com import center_of_mass, com_over_feet
from .exercises import (
    SPECS,
    ExerciseResult,
    PlankResult,
    Recognition,
    count_reps,
    exercise_spec,
    plank_hold,
    recognize_exercise,
)
from .falls import FallResult, detect_falls
from .gait import GaitResult, analyze_gait
from .kinematics import angle_summary, flexion_angle, segment_angle

__all__ = ["Analysis", "analyze", "prepare", "write_summary", "write_html", "write_overlay", "REPORT_ANGLES"]

#: The joint angles reported (stems; each is computed per side where the skeleton has the joints) and
#: whether the value is the flexion (0° = straight line, knee/hip/elbow) or the interior angle (shoulder
#: elevation: 0° = arm down along the trunk, 180° = overhead).
REPORT_ANGLES: tuple[tuple[str, tuple[str, str, str], str], ...] = (
    ("knee", ("hip", "knee", "ankle"), "flexion"),
    ("hip", ("shoulder", "hip", "knee"), "flexion"),
    ("elbow", ("shoulder", "elbow", "wrist"), "flexion"),
    ("shoulder_elevation", ("hip", "shoulder", "elbow"), "interior"),
)


@dataclass
class Analysis:
    """Everything :func:`analyze` found.

    Attributes:
        seq: the analysed poses.
        person: individual index of the main person (``None`` when nobody is there).
        exercise: repetition result (``None`` when no exercise was asked for or recognised).
        recognition: the recognition result when ``exercise="auto"``.
        plank: the plank result when the exercise is ``"plank"``.
        gait: the gait result when asked for.
        falls: the falls result when asked for.
        angles: ``{"left_knee": (T,) degrees, …}`` for the main person (trusted keypoints only; see
            :data:`REPORT_ANGLES`), plus ``trunk_from_vertical``.
        angle_coords: ``"world"`` (3D) or ``"image"`` (2D).
        balance: centre of mass over the feet (fraction of frames inside the base of support, …).
        messages: plain-language notes about the input and the analysis.
        pipeline: pre-processing and analysis steps applied, in order.
        seconds: wall time of the analysis itself (s).
    """

    seq: PoseSequence
    person: int | None
    exercise: ExerciseResult | None = None
    recognition: Recognition | None = None
    plank: PlankResult | None = None
    gait: GaitResult | None = None
    falls: FallResult | None = None
    angles: dict[str, np.ndarray] = field(default_factory=dict)
    angle_coords: str = "image"
    balance: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    pipeline: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The JSON summary (see :func:`write_summary`)."""
        from posekit import __version__

        seq = self.seq
        t = len(seq)
        dur = float(seq.time[-1] - seq.time[0]) if t > 1 else 0.0
        tid = int(seq.track_id[self.person]) if self.person is not None else None
        ex = None
        if self.exercise is not None:
            ex = self.exercise.as_dict()
        if self.recognition is not None:
            ex = ex or {"exercise": None, "count": 0}
            ex["recognition"] = self.recognition.as_dict()
        angles = {
            "coords": self.angle_coords,
            "units": "degrees (flexion: 0 = straight)",
            "joints": angle_summary({k: v[:, None] for k, v in self.angles.items()}, seq.time) if t else {},
        }
        return {
            "posekit_version": __version__,
            "source": seq.source,
            "frames": t,
            "duration_s": round(dur, 3),
            "fps": None if seq.fps is None else round(float(seq.fps), 3),
            "individuals": int(seq.num_individuals),
            "person": tid,
            "pipeline": list(self.pipeline),
            "messages": list(self.messages),
            "exercise": ex,
            "reps": [r.as_dict() for r in self.exercise.reps] if self.exercise is not None else [],
            "plank": None if self.plank is None else self.plank.as_dict(),
            "falls": [] if self.falls is None else self.falls.as_dict(),
            "gait": None if self.gait is None else self.gait.as_dict(),
            "angles": angles,
            "balance": self.balance,
            "analysis_seconds": round(self.seconds, 4),
        }


def prepare(seq: PoseSequence, *, track: bool = True, stabilize: bool = True) -> tuple[PoseSequence, list[str]]:
    """Identity tracking and stabilisation before analysis, when :mod:`posekit.track` provides them.

    Returns:
        ``(sequence, notes)``; the notes say what ran and what was not available.
    """
    notes: list[str] = []
    if len(seq) == 0 or seq.num_individuals == 0:
        return seq, notes
    if track:
        try:
            from posekit.track import track_sequence
        except ImportError:
            notes.append("identity tracking not available (posekit.track.track_sequence missing): skipped")
        else:
            seq = track_sequence(seq)
            notes.append(f"tracked: {seq.num_individuals} identities")
    if stabilize:
        try:
            from posekit.track import stabilize as _stabilize
        except ImportError:
            notes.append("stabilisation not available (posekit.track.stabilize missing): analysed unfiltered poses")
        else:
            seq = _stabilize(seq)
            notes.append("stabilised (posekit.track.stabilize defaults)")
    return seq, notes


def _angles(seq: PoseSequence, person: int, coords: str) -> dict[str, np.ndarray]:
    body = Body(seq, person, coords)
    out: dict[str, np.ndarray] = {}
    for name, (a, b, c), kind in REPORT_ANGLES:
        for s in SIDES:
            names = (f"{s}_{a}", f"{s}_{b}", f"{s}_{c}")
            if all(body.has(n) for n in names):
                ang = flexion_angle(*(body.p(n) for n in names))
                if kind == "interior":
                    ang = 180.0 - ang
                out[f"{s}_{name}"] = np.where(body.ok(*names), ang, np.nan)
    if all(body.has(n) for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")):
        ok = body.ok("left_hip", "right_hip", "left_shoulder", "right_shoulder")
        tr = segment_angle(body.mid("left_hip", "right_hip"), body.mid("left_shoulder", "right_shoulder"), unwrap=False)
        out["trunk_from_vertical"] = np.where(ok, np.abs(tr), np.nan)
    return out


def analyze(
    seq: PoseSequence,
    *,
    exercise: str | None = None,
    gait: bool = False,
    falls: bool = False,
    person: int | None = None,
    metres_per_pixel: float | None = None,
    limits: dict[str, float] | None = None,
    trusted_states: tuple | None = None,
) -> Analysis:
    """Analyse a sequence: joint angles, and optionally an exercise, gait and falls.

    Args:
        seq: the poses (run :func:`prepare` first for raw estimator output).
        exercise: ``None``, ``"auto"`` (recognise it) or one of
            :data:`~posekit.analysis.exercises.EXERCISES`.
        gait: detect gait events and parameters.
        falls: detect falls (all individuals).
        person: individual index for exercise, gait and angles (default: the person seen longest).
        metres_per_pixel: image scale for metric gait lengths in 2D.
        limits: form-rule limits, ``{rule name: value}`` (see
            :func:`~posekit.analysis.exercises.exercise_spec`).
        trusted_states: keypoint states reps may be counted on (default VISIBLE and CORRECTED).

    Returns:
        An :class:`Analysis`; never raises on empty or unusable input.

    Raises:
        ValueError: an unknown exercise name or rule (a usage error, not bad input).
    """
    t0 = _time.perf_counter()
    from .exercises import EXERCISES

    if exercise is not None and exercise != "auto" and exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; choose from auto, {', '.join(EXERCISES)}")
    idx = main_person(seq) if person is None else person
    res = Analysis(seq=seq, person=idx)
    res.pipeline.append("analyze")
    if idx is None:
        res.messages.append("nobody was found in the video: there is nothing to analyse")
    coords = "world" if seq.world is not None else "image"
    res.angle_coords = coords
    if idx is not None:
        res.angles = _angles(seq, idx, coords)
        com = center_of_mass(seq, coords=coords, person=idx)
        base = com_over_feet(seq, com, person=idx)
        m = np.isfinite(base.margin[:, idx])
        res.balance = {
            "coords": coords,
            "frames_measured": int(m.sum()),
            "inside_base_of_support_pct": round(100.0 * float(base.inside[m, idx].mean()), 1) if m.any() else None,
            "model": "de Leva (1996), Table 4, male",
        }
        present = Body(seq, idx).frames_present()
        if present.any() and not present.all():
            gone = np.flatnonzero(~present)
            res.messages.append(
                f"the main person is missing in {len(gone)} of {len(seq)} frames "
                f"(first at {seq.time[gone[0]]:.1f} s)"
            )
    name = exercise
    if exercise == "auto":
        rec = recognize_exercise(seq, person=idx) if idx is not None else recognize_exercise(seq)
        res.recognition = rec
        name = rec.exercise
        if name is None:
            res.messages.append(f"no exercise recognised: {rec.reason}")
        else:
            res.messages.append(f"recognised exercise: {name} (confidence {rec.confidence:.2f})")
    if name == "plank":
        res.plank = plank_hold(seq, person=idx, trusted_states=trusted_states)
        res.messages += res.plank.messages
    elif name is not None:
        spec = exercise_spec(name, limits=limits)
        res.exercise = count_reps(seq, spec, person=idx, trusted_states=trusted_states)
        res.messages += [m for m in res.exercise.messages if m not in res.messages]
    if gait:
        res.gait = analyze_gait(seq, person=idx, metres_per_pixel=metres_per_pixel)
        res.messages += res.gait.messages
    if falls:
        res.falls = detect_falls(seq)
        res.messages += [m for m in res.falls.messages if m not in res.messages]
    res.seconds = _time.perf_counter() - t0
    return res


# ================================================================================================
# Outputs
# ================================================================================================
def write_summary(analysis: Analysis, path: str | Path) -> Path:
    """Write ``summary.json`` (atomically).

    Keys: ``source``, ``frames``, ``duration_s``, ``person`` (track id), ``pipeline``, ``messages``,
    ``exercise`` (name, count, cue, view, recognition, attempts not counted), ``reps`` (one object per
    counted repetition: times, frames, metrics, feedback, not assessed), ``plank``, ``falls`` (one
    object per event: time, person, confidence, …), ``gait`` (events and parameters), ``angles``
    (per-joint min/max/range/mean), ``balance``.
    """
    from posekit.io.atomic import atomic_write

    p = Path(path)
    text = json.dumps(analysis.summary(), indent=2, ensure_ascii=False, allow_nan=False, default=_json_default)
    with atomic_write(p) as fh:
        fh.write(text)
    return p


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        v = o.item()
        return None if isinstance(v, float) and not math.isfinite(v) else v
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fig(h: float = 3.2):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, h), layout="constrained")
    return fig, fig.add_subplot(1, 1, 1)


def _plot_angles(a: Analysis) -> str | None:
    t = a.seq.time
    keys = [k for k in a.angles if np.isfinite(a.angles[k]).any()]
    if not keys:
        return None
    fig, ax = _fig()
    for k in keys:
        ax.plot(t, a.angles[k], label=k.replace("_", " "), lw=1.2)
    _shade_reps(ax, a)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"degrees ({'3D' if a.angle_coords == 'world' else '2D'})")
    ax.set_title("Joint angles (flexion: 0° = straight; trusted keypoints only)")
    ax.legend(loc="upper right", fontsize=7, ncol=3)
    ax.grid(alpha=0.3)
    return _png(fig)


def _shade_reps(ax, a: Analysis) -> None:
    if a.exercise is None:
        return
    for r in a.exercise.reps:
        ax.axvspan(r.start, r.end, color="tab:green", alpha=0.12)
        ax.text((r.start + r.end) / 2, 1.0, str(r.index), transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize=8, color="tab:green")  # fmt: skip
    for at in a.exercise.attempts:
        ax.axvspan(at["start"], at["end"], color="tab:orange", alpha=0.10)


def _plot_progress(a: Analysis) -> str | None:
    ex = a.exercise
    if ex is None or not np.isfinite(ex.progress).any():
        return None
    spec = SPECS[ex.exercise]
    fig, ax = _fig(2.8)
    ax.plot(ex.time, ex.progress, color="black", lw=1.2, label=f"progress ({ex.cue})")
    ax.axhline(spec.counter.enter, color="tab:red", ls="--", lw=0.8, label=f"enter {spec.counter.enter:.2f}")
    ax.axhline(spec.counter.rest, color="tab:blue", ls="--", lw=0.8, label=f"rest {spec.counter.rest:.2f}")
    _shade_reps(ax, a)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("fraction of full range")
    ax.set_title(f"{ex.exercise}: {ex.count} reps (green), not counted (orange)")
    ax.legend(loc="upper right", fontsize=7)
    ax.grid(alpha=0.3)
    return _png(fig)


def _plot_gait(a: Analysis) -> str | None:
    g = a.gait
    if g is None or g.events is None:
        return None
    ev = g.events
    fig, ax = _fig()
    colors = {"left": "tab:blue", "right": "tab:red"}
    for s in SIDES:
        ax.plot(ev.time, ev.heel_forward[s], color=colors[s], lw=1.0, label=f"{s} heel (forward of pelvis)")
        ax.plot(ev.time, ev.toe_forward[s], color=colors[s], lw=0.8, ls=":", label=f"{s} toe")
        hs, to = ev.heel_strike[s], ev.toe_off[s]
        ax.plot(ev.time[hs], ev.heel_forward[s][hs], "v", color=colors[s], label=f"{s} heel strike")
        ax.plot(ev.time[to], ev.toe_forward[s][to], "^", color=colors[s], mfc="none", label=f"{s} toe off")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("m" if ev.coords == "world" else "px")
    ax.set_title("Gait events")
    ax.legend(loc="upper right", fontsize=7, ncol=4)
    ax.grid(alpha=0.3)
    return _png(fig)


def _plot_falls(a: Analysis) -> str | None:
    f = a.falls
    if f is None or not f.signals:
        return None
    fig, ax = _fig()
    ax2 = ax.twinx()
    t = a.seq.time
    for k, (tid, sig) in enumerate(sorted(f.signals.items())):
        L = float(sig["L"])
        c = f"C{k % 10}"
        ax.plot(t, -sig["hip_y"] / L, color=c, lw=1.2, label=f"person {tid}: hip height (trunk lengths)")
        ax2.plot(t, sig["trunk_deg"], color=c, lw=0.8, ls=":", label=f"person {tid}: trunk from vertical (°)")
    for e in f.events:
        ax.axvline(e.time, color="red", lw=1.5)
        ax.text(e.time, 0.98, f" fall p{e.person} ({e.confidence:.2f})", transform=ax.get_xaxis_transform(),
                color="red", fontsize=8, va="top")  # fmt: skip
    ax.set_xlabel("time (s)")
    ax.set_ylabel("hip height (relative)")
    ax2.set_ylabel("trunk angle (°)")
    ax.set_title(f"Falls timeline: {len(f.events)} event(s)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="lower left", fontsize=7)
    ax.grid(alpha=0.3)
    return _png(fig)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    if isinstance(v, (list, tuple)):
        return "; ".join(_fmt(x) for x in v) if v else "—"
    return str(v)


def write_html(analysis: Analysis, path: str | Path) -> Path:
    """Write a self-contained HTML report (plots embedded as base64 PNG, no external files)."""
    from posekit.io.atomic import atomic_write

    a = analysis
    s = a.summary()
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>posekit analysis</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 7px;"
        "font-size:13px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
        ".msg{background:#fff6d8;border-left:4px solid #e0b000;padding:6px 10px;margin:4px 0}"
        ".bad{color:#b00020}img{max-width:100%}",
        "</style></head><body>",
        f"<h1>posekit analysis</h1><p>Source: <code>{e(str(s['source']))}</code> — {s['frames']} frames, "
        f"{s['duration_s']} s, {s['individuals']} individual(s); analysed person: {e(_fmt(s['person']))}.</p>",
        f"<p>Pipeline: {e(' → '.join(s['pipeline']) or '—')}</p>",
    ]
    if s["messages"]:
        parts.append("<h2>Notes</h2>" + "".join(f"<div class='msg'>{e(m)}</div>" for m in s["messages"]))
    ex = s["exercise"]
    if ex is not None:
        title = ex.get("exercise") or "exercise"
        parts.append(f"<h2>Exercise: {e(str(title))} — {ex.get('count', 0)} rep(s)</h2>")
        if "recognition" in ex:
            r = ex["recognition"]
            parts.append(
                f"<p>Recognised: {e(_fmt(r['exercise']))} (confidence {r['confidence']}); {e(r['reason'])}</p>"
            )
        if ex.get("cue"):
            parts.append(f"<p>Progress signal: {e(ex['cue'])}; camera view: {e(str(ex.get('view')))}.</p>")
        rows = []
        for r in s["reps"]:
            m = r["metrics"]
            rows.append([r["rep"], r["start"], r["end"], m.get("depth"), m.get("rom_deg"), m.get("duration_s"),
                         m.get("tempo_down_s"), m.get("tempo_up_s"), m.get("symmetry_pct"), m.get("trunk_lean_deg"),
                         m.get("knee_valgus_deg"), m.get("hip_sag_deg"), r["feedback"] or ["good"],
                         r["not_assessed"]])  # fmt: skip
        if rows:
            parts.append(_table(["rep", "start s", "end s", "depth", "ROM °", "duration s", "down s", "up s",
                                 "L/R sym %", "trunk lean °", "valgus °", "hip sag °", "feedback", "not assessed"],
                                rows))  # fmt: skip
        if ex.get("attempts"):
            parts.append(_table(["not counted", "start s", "end s", "depth", "why"],
                                [[x["kind"], x["start"], x["end"], x["depth"], x.get("message")]
                                 for x in ex["attempts"]]))  # fmt: skip
    if s["plank"] is not None:
        p = s["plank"]
        parts.append(f"<h2>Plank: {p['total_s']} s in position (longest hold {p['longest_s']} s)</h2>")
        parts.append("".join(f"<div class='msg'>{e(m)}</div>" for m in p["feedback"]) or "<p>Form: good.</p>")
    for img, cap in ((_plot_progress(a), "Exercise progress"), (_plot_angles(a), "Joint angles")):
        if img:
            parts.append(f"<figure><img alt='{e(cap)}' src='data:image/png;base64,{img}'></figure>")
    if s["gait"] is not None:
        g = s["gait"]
        parts.append("<h2>Gait</h2>")
        gp = g["parameters"]
        if gp:
            rows = [
                ["cadence (steps/min)", gp.get("cadence_steps_per_min")],
                ["step time (s)", gp["step_time_s"]["median"]], ["stride time (s)", gp["stride_time_s"]["median"]],
                ["stance (%)", gp["stance_pct"]["median"]], ["swing (%)", gp["swing_pct"]["median"]],
                [f"step length ({gp['step_length']['unit']})", gp["step_length"]["median"]],
                ["walking speed (m/s)", gp.get("walking_speed_m_s")],
                ["symmetry index, step time (%)", gp["symmetry_index_pct"]["step_time"]],
                ["symmetry index, step length (%)", gp["symmetry_index_pct"]["step_length"]],
            ]  # fmt: skip
            parts.append(_table(["parameter (median)", "value"], rows))
        img = _plot_gait(a)
        if img:
            parts.append(f"<figure><img alt='gait events' src='data:image/png;base64,{img}'></figure>")
    if a.falls is not None:
        parts.append(f"<h2>Falls: {len(s['falls'])}</h2>")
        if s["falls"]:
            rows = [[f["time"], f["person"], f["confidence"], f["drop_trunk_lengths"],
                     f["descent_speed_trunk_lengths_s"], f["trunk_deg_after"]] for f in s["falls"]]  # fmt: skip
            heads = ["time s", "person", "confidence", "drop (trunk lengths)", "descent speed (trunk lengths/s)",
                     "trunk after °"]  # fmt: skip
            parts.append(_table(heads, rows))
        img = _plot_falls(a)
        if img:
            parts.append(f"<figure><img alt='falls timeline' src='data:image/png;base64,{img}'></figure>")
    joints = s["angles"]["joints"]
    if joints:
        parts.append(f"<h2>Joint angles ({e(s['angles']['coords'])})</h2>")
        parts.append(_table(["angle", "min °", "max °", "range °", "mean °", "peak speed °/s"],
                            [[k, v["min"], v["max"], v["range"], v["mean"], v["peak_speed_deg_s"]]
                             for k, v in joints.items()]))  # fmt: skip
    parts.append("</body></html>")
    p = Path(path)
    with atomic_write(p) as fh:
        fh.write("".join(parts))
    return p


# ================================================================================================
# Annotated video
# ================================================================================================
def _overlay_text(a: Analysis, t: float) -> tuple[list[str], list[str]]:
    """Lines of the live panel at time ``t`` and the alert lines (red)."""
    lines: list[str] = []
    alerts: list[str] = []
    ex = a.exercise
    if ex is not None:
        done = [r for r in ex.reps if r.end <= t + 1e-9]
        lines.append(f"{ex.exercise}: {len(done)} rep{'s' if len(done) != 1 else ''}")
        recent = [r for r in done if t - r.end <= 2.5]
        for r in recent[-1:]:
            lines += r.feedback[:2] or [f"rep {r.index}: good"]
    if a.plank is not None:
        held = sum(max(0.0, min(b, t) - s0) for s0, b in a.plank.holds if s0 <= t)
        lines.append(f"plank: {held:.1f} s")
    if a.person is not None and a.angles:
        k = int(np.clip(np.searchsorted(a.seq.time, t - 1e-9), 0, len(a.seq) - 1))
        vals = []
        for name in ("left_knee", "right_knee", "left_hip", "right_hip", "left_elbow", "right_elbow"):
            v = a.angles.get(name)
            if v is not None and np.isfinite(v[k]):
                vals.append(f"{name.replace('_', ' ')} {v[k]:.0f}")
        for i in range(0, len(vals), 2):
            lines.append(", ".join(vals[i : i + 2]))
    if a.falls is not None:
        for e in a.falls.events:
            if 0 <= t - e.time <= 3.0:
                alerts.append(f"FALL: person {e.person} at {e.time:.1f} s ({e.confidence:.2f})")
    return lines, alerts


_ASCII = str.maketrans({"°": " deg", "—": "-", "–": "-", "×": "x", "’": "'", "…": "..."})


def _ascii(text: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only."""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def write_overlay(analysis: Analysis, video: str | Path, path: str | Path) -> Path:
    """Write an annotated copy of ``video``: skeletons, rep counter, feedback, angles and fall alerts.

    Frames are matched to the poses by frame index. The file appears only when complete.

    Raises:
        InputError: the video cannot be read.
        OutputError: the output cannot be written.
    """
    import cv2

    from posekit.io.video import VideoReader, VideoWriter
    from posekit.viz.draw import draw_frame

    a = analysis
    reader = VideoReader(video)
    by_frame = {int(f): k for k, f in enumerate(a.seq.frame)}
    fps = float(reader.fps or a.seq.fps or 30.0)
    out = Path(path)
    with VideoWriter(out, fps=fps) as w:
        for vf in reader:
            img = vf.image
            k = by_frame.get(vf.index)
            if k is not None and a.seq.num_individuals:
                img = draw_frame(img, a.seq.frame_at(k))
            else:
                img = np.ascontiguousarray(img.copy())
            lines, alerts = _overlay_text(a, vf.time)
            scale = max(0.45, img.shape[0] / 900)
            y = int(24 * scale / 0.6)
            step = int(22 * scale / 0.6)
            for text in map(_ascii, lines):
                cv2.putText(img, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 4, cv2.LINE_AA)
                cv2.putText(img, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
                y += step
            for text in map(_ascii, alerts):
                cv2.putText(img, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, scale * 1.2, (255, 0, 0), 2, cv2.LINE_AA)
                y += step
            w.write(img, time=vf.time)
    return out
