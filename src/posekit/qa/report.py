"""A self-contained HTML page of a QA run: summary per rule, the review queue with drawings, findings.

No external assets: styles are inline and each queued frame is drawn as an inline SVG of its people
(flagged keypoints in red), so the page can be mailed or archived as one file.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from posekit.io.atomic import atomic_write

from .findings import Severity, count_by
from .rules import list_rules

__all__ = ["render_report", "write_report"]

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f4f4f4}.error{color:#b00;font-weight:600}.warning{color:#a60}.info{color:#357}
.num{text-align:right}.item{display:inline-block;margin:6px;padding:6px;border:1px solid #ddd;width:270px;vertical-align:top}
.item p{margin:2px 0;font-size:12px}svg{background:#fafafa;border:1px solid #eee}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _img_w(data: Any, row: int) -> float:
    w = float(data.image_size[row][0])
    return w if np.isfinite(w) else 0.0


def _img_h(data: Any, row: int) -> float:
    h = float(data.image_size[row][1])
    return h if np.isfinite(h) else 0.0


def _svg(data: Any, row: int, flagged: dict[int, set[str]], size: int = 256) -> str:
    """Inline SVG of the people in ``row`` framed on the flagged ones; their flagged keypoints drawn red,
    the image border dashed (when its size is known)."""
    xy = data.xy[row]
    ok = np.isfinite(xy).all(-1) & data.occupied[row][:, None]
    if not ok.any():
        return ""
    focus = [i for i in flagged if 0 <= i < xy.shape[0] and ok[i].any()]
    pts = xy[focus][ok[focus]] if focus else xy[ok]  # frame the flagged people (others drawn around them)
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    pad = 0.25 * max(x1 - x0, y1 - y0, 1.0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    span = max(x1 - x0, y1 - y0, 1e-6)
    k = size / span
    names = data.skeleton.keypoints
    parts = [f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg">'
             f'<rect x="{-x0 * k:.1f}" y="{-y0 * k:.1f}" width="{_img_w(data, row) * k:.1f}" '
             f'height="{_img_h(data, row) * k:.1f}" fill="none" stroke="#ccc" stroke-dasharray="4"/>']
    r = max(1.5, size / 120)
    for i in range(xy.shape[0]):
        if not ok[i].any():
            continue
        mine = flagged.get(i)
        col = "#444" if mine is not None else "#bbb"
        for a, b in data.skeleton.edges:
            if ok[i, a] and ok[i, b]:
                (ax, ay), (bx, by) = (xy[i, a] - (x0, y0)) * k, (xy[i, b] - (x0, y0)) * k
                parts.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="{col}" stroke-width="1"/>')
        for j in np.flatnonzero(ok[i]):
            cx, cy = (xy[i, j] - (x0, y0)) * k
            bad = mine is not None and names[j] in mine
            fill = "#d00" if bad else col
            rr = r * 1.8 if bad else r
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{rr:.1f}" fill="{fill}"><title>{_e(names[j])}</title></circle>')
    parts.append("</svg>")
    parts[0] = parts[0] if _img_w(data, row) else parts[0].split("<rect")[0]
    return "".join(parts)


def render_report(result: Any, queue: list[Any] | None = None, *, title: str = "posekit QA report",
                  profile_name: str = "default", max_findings: int = 2000, max_items: int = 60) -> str:  # fmt: skip
    """The HTML text of the report for a :class:`~posekit.qa.rules.QAResult` (and its review queue)."""
    data = result.data
    fs = result.findings
    sev = Counter(str(Severity.parse(f.severity)) for f in fs)
    descr = {c.id: c.description for c in list_rules()}
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{_CSS}</style></head><body>"]
    out.append(f"<h1>{_e(title)}</h1>")
    if data is not None:
        t, i, k = data.shape
        people = int(data.checked.sum())
        out.append(
            f"<p>Source: <code>{_e(data.source)}</code> · skeleton <b>{_e(data.skeleton.name)}</b> · "
            f"{t} {'frames' if data.temporal else 'images'} · {people} people checked · profile <b>{_e(profile_name)}</b></p>"
        )
    out.append(
        f"<p><span class='error'>{sev.get('error', 0)} errors</span> · <span class='warning'>{sev.get('warning', 0)} "
        f"warnings</span> · <span class='info'>{sev.get('info', 0)} infos</span></p>"
    )
    out.append("<h2>Rules</h2><table><tr><th>rule</th><th>what it checks</th><th>errors</th><th>warnings</th><th>infos</th></tr>")
    counts = count_by(fs)
    for rid in result.ran:
        c = counts.get(rid, {"error": 0, "warning": 0, "info": 0})
        out.append(
            f"<tr><td><code>{_e(rid)}</code></td><td>{_e(descr.get(rid, ''))}</td><td class='num error'>{c['error'] or ''}</td>"
            f"<td class='num warning'>{c['warning'] or ''}</td><td class='num info'>{c['info'] or ''}</td></tr>"
        )
    out.append("</table>")
    if result.skipped:
        out.append("<p>Not applicable to this input: " + "; ".join(
            f"<code>{_e(r)}</code> ({_e(w)})" for r, w in sorted(result.skipped.items())) + "</p>")  # fmt: skip
    if queue:
        out.append(f"<h2>Review queue (top {min(len(queue), max_items)} of {len(queue)})</h2><div>")
        for it in queue[:max_items]:
            flagged: dict[int, set[str]] = {}
            row = None
            for j in it.findings:
                f = fs[j]
                row = f.row if f.row is not None else row
                if f.person is not None:
                    flagged.setdefault(f.person, set()).update(f.keypoints)
            pic = _svg(data, row, flagged) if (data is not None and row is not None) else ""
            where = f"image {_e(it.image_id)}" if it.image_id is not None else f"frame {_e(it.frame)}"
            if it.time is not None:
                where += f" ({it.time:.3f} s)"
            out.append(
                f"<div class='item'>{pic}<p><b>#{it.rank}</b> risk {it.risk:.2f} · {where}</p>"
                f"<p>{_e(it.file_name or '')}</p><p><span class='error'>{it.errors or ''}</span> "
                f"<span class='warning'>{it.warnings or ''}</span> <span class='info'>{it.infos or ''}</span> "
                f"{_e(', '.join(it.rules))}</p><p>{_e(it.summary)}</p></div>"
            )
        out.append("</div>")
    out.append(f"<h2>Findings ({len(fs)}{'; first ' + str(max_findings) + ' shown' if len(fs) > max_findings else ''})</h2>")
    out.append("<table><tr><th>#</th><th>severity</th><th>rule</th><th>where</th><th>keypoints</th><th>value</th>"
               "<th>threshold</th><th>message</th></tr>")  # fmt: skip
    for j, f in enumerate(fs[:max_findings]):
        s = str(Severity.parse(f.severity))
        where = f"image {f.image_id}, ann {f.annotation_id}" if f.image_id is not None else f"frame {f.frame}"
        if f.track is not None:
            where += f", track {f.track}"
        val = "" if f.value is None else f"{f.value:.3g}"
        thr = "" if f.threshold is None else f"{f.threshold:.3g}"
        out.append(
            f"<tr><td class='num'>{j}</td><td class='{s}'>{s}</td><td><code>{_e(f.rule)}</code></td><td>{_e(where)}</td>"
            f"<td>{_e(', '.join(f.keypoints))}</td><td class='num'>{val} {_e(f.unit)}</td><td class='num'>{thr}</td>"
            f"<td>{_e(f.message)}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out)


def write_report(path: str | Path, result: Any, queue: list[Any] | None = None, **kw: Any) -> None:
    """Write :func:`render_report` to ``path`` atomically."""
    text = render_report(result, queue, **kw)
    with atomic_write(path, "w") as fh:
        fh.write(text)
