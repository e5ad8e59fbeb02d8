// posekit review page: plain JavaScript, no build step, no external assets.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const TOKEN = params.get("token") || "";
  const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
                   "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3", "#808000"];
  const STATE = { MISSING: 0, VISIBLE: 1, OCCLUDED: 2, PREDICTED: 3, INTERPOLATED: 4, CORRECTED: 5 };
  const STATE_NAMES = ["missing", "visible", "occluded", "predicted", "interpolated", "corrected"];
  const S = {
    project: null, frames: [], findings: [], queue: [], frame: 0, people: [], img: null,
    sel: { person: null, kp: null }, view: { scale: 1, ox: 0, oy: 0 }, drag: null, playing: false, loadSeq: 0,
  };
  const $ = (id) => document.getElementById(id);
  const canvas = $("canvas"), ctx = canvas.getContext("2d");
  const tl = $("timeline"), tctx = tl.getContext("2d");

  function status(msg, kind) { const s = $("status"); s.textContent = msg; s.className = kind || ""; }
  function reviewer() { return ($("reviewer").value || "reviewer").trim(); }

  async function api(method, path, body) {
    const opts = { method, headers: { "X-Posekit-Token": TOKEN }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(path, opts);
    const ct = r.headers.get("content-type") || "";
    const data = ct.includes("json") ? await r.json() : await r.blob();
    return { ok: r.ok, status: r.status, data };
  }

  // ---- loading -------------------------------------------------------------------------------
  async function init() {
    const p = await api("GET", "/api/project");
    if (!p.ok) { status(p.data.detail || "cannot load project", "error"); return; }
    S.project = p.data;
    if (p.data.kind !== "video") for (const el of document.querySelectorAll(".video-only")) el.style.display = "none";
    if (showSeek(p.data.seek)) setTimeout(pollSeek, 2000);
    $("project-name").textContent = `${p.data.media} · ${p.data.annotations} · ${p.data.frames} frames · ${p.data.skeleton.name}`;
    const saved = localStorage.getItem("posekit-reviewer"); if (saved) $("reviewer").value = saved;
    S.frames = (await api("GET", "/api/frames")).data.frames;
    await loadFindings();
    S.queue = (await api("GET", "/api/queue")).data.items;
    renderQueue();
    resize();
    await gotoFrame(0, true);
    fit();
  }

  // seek proxy progress: "fast seeking: building 40%" until it is ready (polled while building); the proxy
  // is built in segments, the part around the current frame first
  function showSeek(s) {
    const el = $("seek-status");
    el.title = "";
    if (!s || s.state === "off" || s.state === "stopped") { el.textContent = ""; return false; }
    const parts = s.segments_total ? ` (${s.segments_done}/${s.segments_total} parts)` : "";
    if (s.state === "building") {
      el.textContent = `fast seeking: building ${s.total ? Math.floor((100 * s.done) / s.total) : 0}%`;
      el.title = "random jumps are fast in the parts of the video already built" + parts +
        "; the part around the current frame is built first";
      return true;
    }
    if (s.state === "ready") el.textContent = "fast seeking: ready" + (s.done < s.total ? ` (${s.done} of ${s.total} frames)` : "");
    else if (s.state === "failed") {
      el.textContent = s.done ? `fast seeking: partial (${s.done} of ${s.total} frames)` : "fast seeking: unavailable";
      el.title = s.error || "";
    }
    return false;
  }
  async function pollSeek() {
    try {
      const r = await api("GET", "/api/project");
      if (r.ok && showSeek(r.data.seek)) setTimeout(pollSeek, 2000);
    } catch (e) { /* server gone: stop polling */ }
  }

  async function loadFindings() { S.findings = (await api("GET", "/api/findings")).data.findings; }

  async function gotoFrame(i, force) {
    const n = S.project.frames;
    i = Math.max(0, Math.min(n - 1, i));
    if (i === S.frame && !force && S.img) return;
    const seq = ++S.loadSeq;
    S.frame = i;
    const [img, poses] = await Promise.all([loadImage(i), api("GET", `/api/frames/${i}/poses`)]);
    if (seq !== S.loadSeq) return;
    S.img = img; S.people = poses.data.people;
    if (S.sel.person !== null && !S.people.find((p) => p.person === S.sel.person)) S.sel = { person: null, kp: null };
    if (S.sel.person === null && S.people.length) S.sel.person = S.people[0].person;
    $("frame-label").textContent = `frame ${i + 1}/${n}` + (S.frames[i].time !== null ? ` · ${S.frames[i].time.toFixed(3)} s` : "") +
      (S.frames[i].file_name ? ` · ${S.frames[i].file_name}` : "");
    draw(); renderSide(); drawTimeline();
  }

  async function reloadPoses() {
    const r = await api("GET", `/api/frames/${S.frame}/poses`);
    if (r.ok) { S.people = r.data.people; draw(); renderSide(); }
  }

  function loadImage(i) {
    return new Promise((resolve) => {
      const im = new Image();
      im.onload = () => resolve(im);
      im.onerror = () => { status(`frame ${i}: image failed to load`, "error"); resolve(null); };
      im.src = `/api/frames/${i}/image?token=${encodeURIComponent(TOKEN)}`;
    });
  }

  // ---- view ----------------------------------------------------------------------------------
  function resize() {
    const r = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(r.width)); canvas.height = Math.max(1, Math.round(r.height));
    tl.width = Math.max(1, Math.round(tl.getBoundingClientRect().width));
    draw(); drawTimeline();
  }
  function fit() {
    const w = S.project.width || (S.img && S.img.naturalWidth) || 1, h = S.project.height || (S.img && S.img.naturalHeight) || 1;
    const s = Math.min(canvas.width / w, canvas.height / h);
    S.view = { scale: s, ox: (canvas.width - w * s) / 2, oy: (canvas.height - h * s) / 2 };
    draw();
  }
  const toScreen = (x, y) => [x * S.view.scale + S.view.ox, y * S.view.scale + S.view.oy];
  const toImage = (sx, sy) => [(sx - S.view.ox) / S.view.scale, (sy - S.view.oy) / S.view.scale];
  function colour(p) { const t = p.track >= 0 ? p.track : p.person; return PALETTE[((t % PALETTE.length) + PALETTE.length) % PALETTE.length]; }

  function draw() {
    if (!S.project) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(S.view.scale, 0, 0, S.view.scale, S.view.ox, S.view.oy);
    if (S.img) ctx.drawImage(S.img, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const edges = S.project.skeleton.edges;
    for (const p of S.people) {
      const c = colour(p), selected = p.person === S.sel.person;
      ctx.strokeStyle = c; ctx.lineWidth = selected ? 3 : 2; ctx.globalAlpha = selected || S.sel.person === null ? 1 : 0.6;
      for (const [a, b] of edges) {
        if (p.state[a] === 0 || p.state[b] === 0) continue;
        const [x1, y1] = toScreen(...p.xy[a]), [x2, y2] = toScreen(...p.xy[b]);
        ctx.setLineDash(p.state[a] === STATE.OCCLUDED || p.state[b] === STATE.OCCLUDED ? [5, 4] : []);
        ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      }
      ctx.setLineDash([]);
      let top = null;
      p.xy.forEach((q, k) => { if (p.state[k] !== 0 && (top === null || q[1] < top[1])) top = q; });
      if (top) {
        const [lx, ly] = toScreen(top[0], top[1]);
        ctx.font = "bold 12px sans-serif"; ctx.fillStyle = c; ctx.textAlign = "center";
        ctx.fillText(p.track >= 0 ? `#${p.track}` : `p${p.person}`, lx, ly - 10); ctx.textAlign = "start";
      }
      p.xy.forEach((q, k) => {
        if (p.state[k] === 0) return;
        const [x, y] = toScreen(q[0], q[1]);
        const r = selected && S.sel.kp === k ? 7 : 4.5;
        ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
        if (p.state[k] === STATE.OCCLUDED) { ctx.lineWidth = 2; ctx.strokeStyle = c; ctx.stroke(); }  // hollow = occluded
        else { ctx.fillStyle = c; ctx.fill(); }
        if (p.state[k] === STATE.CORRECTED) { ctx.lineWidth = 1.5; ctx.strokeStyle = "#fff"; ctx.stroke(); }
        if (selected && S.sel.kp === k) { ctx.lineWidth = 2; ctx.strokeStyle = "#ff0"; ctx.beginPath(); ctx.arc(x, y, r + 3, 0, 2 * Math.PI); ctx.stroke(); }
      });
      ctx.globalAlpha = 1;
    }
    const fl = S.findings.filter((f) => f.frame === S.frame && f.status === "open").length;
    if (fl) { ctx.fillStyle = "rgba(255,80,80,0.85)"; ctx.font = "bold 14px sans-serif"; ctx.fillText(`${fl} open finding(s)`, 10, 20); }
  }

  function drawTimeline() {
    if (!S.project) return;
    const n = S.project.frames, w = tl.width, h = tl.height;
    tctx.fillStyle = "#111"; tctx.fillRect(0, 0, w, h);
    const worst = {};
    for (const f of S.findings) {
      if (f.frame === null) continue;
      const rank = { error: 3, warning: 2, info: 1 }[f.severity] || 0;
      if (f.status !== "open") { worst[f.frame] = worst[f.frame] || -1; continue; }
      worst[f.frame] = Math.max(worst[f.frame] || 0, rank);
    }
    for (const [fr, r] of Object.entries(worst)) {
      const x = (Number(fr) / n) * w;
      tctx.fillStyle = r === 3 ? "#ff5252" : r === 2 ? "#ffc857" : r === 1 ? "#8ab4f8" : "#4c8a5a";
      tctx.fillRect(x, 4, Math.max(2, w / n), h - 8);
    }
    const cx = ((S.frame + 0.5) / n) * w;
    tctx.fillStyle = "#fff"; tctx.fillRect(cx - 1, 0, 2, h);
  }

  // ---- side panel ----------------------------------------------------------------------------
  function renderSide() {
    const sel = S.people.find((p) => p.person === S.sel.person);
    const names = S.project.skeleton.keypoints;
    $("selection").textContent = sel
      ? `person ${sel.person} · track ${sel.track}` + (sel.track_from ? ` (since frame ${sel.track_from + 1})` : "") +
        ` · v${sel.version}` +
        (S.sel.kp !== null ? ` · ${names[S.sel.kp]} (${STATE_NAMES[sel.state[S.sel.kp]]})` : " · click a keypoint")
      : "nothing selected";
    if (sel) $("track-input").value = sel.track;
    const so = $("swap-other"), prev = so.value;
    so.innerHTML = "";
    for (const p of S.people) {
      if (p.person === S.sel.person) continue;
      const o = document.createElement("option");
      o.value = String(p.person); o.textContent = `person ${p.person} · track ${p.track}`;
      so.appendChild(o);
    }
    if ([...so.options].some((o) => o.value === prev)) so.value = prev;
    $("btn-swap-ids").disabled = !sel || !so.options.length;
    const ul = $("people"); ul.innerHTML = "";
    for (const p of S.people) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="swatch"></span>person ${p.person} · track ${p.track}`;
      li.firstChild.style.background = colour(p);
      if (p.person === S.sel.person) li.className = "current";
      li.onclick = () => { S.sel = { person: p.person, kp: null }; draw(); renderSide(); };
      ul.appendChild(li);
    }
    const fl = $("findings"); fl.innerHTML = "";
    for (const f of S.findings.filter((x) => x.frame === S.frame)) {
      const li = document.createElement("li");
      li.className = "finding" + (f.status !== "open" ? " decided" : "");
      li.dataset.index = f.index;
      const msg = document.createElement("div");
      msg.innerHTML = `<span class="sev-${f.severity}">${f.severity}</span> `;
      msg.appendChild(document.createTextNode(`${f.rule}: ${f.message} [${f.status}]`));
      const ta = document.createElement("textarea"); ta.placeholder = "comment"; ta.value = f.comment || "";
      const acc = document.createElement("button"); acc.textContent = "Accept"; acc.className = "accept";
      const dis = document.createElement("button"); dis.textContent = "Dismiss"; dis.className = "dismiss";
      acc.onclick = () => decide(f, "accepted", ta.value);
      dis.onclick = () => decide(f, "dismissed", ta.value);
      msg.onclick = () => { if (f.person !== null) { S.sel = { person: f.person, kp: null }; draw(); renderSide(); } };
      li.append(msg, ta, acc, dis);
      fl.appendChild(li);
    }
  }

  function renderQueue() {
    const ol = $("queue"); ol.innerHTML = "";
    for (const q of S.queue.slice(0, 200)) {
      const li = document.createElement("li");
      li.textContent = `frame ${q.frame} · risk ${q.risk.toFixed(2)} · ${q.summary}`;
      li.onclick = () => gotoFrame(q.frame);
      ol.appendChild(li);
    }
  }

  // ---- edits ---------------------------------------------------------------------------------
  async function sendEdit(body) {
    const sel = S.people.find((p) => p.person === body.person);
    if (!sel) return false;
    // identity edits of a video (track ids of every person, frame by frame) carry the ids' version
    const identity = (body.op === "track" && S.project.kind === "video") || body.op === "swap_tracks";
    const r = await api("POST", "/api/edits", Object.assign({ reviewer: reviewer(), frame: S.frame,
      version: identity ? sel.track_version : sel.version }, body));
    if (r.ok) {
      if (identity) await reloadPoses();  // other people's ids and versions changed too
      else {
        const i = S.people.findIndex((p) => p.person === body.person);
        S.people[i] = r.data.person;
        draw(); renderSide();
      }
      status(`saved edit #${r.data.edit}`, "ok");
      return true;
    }
    const c = r.data.conflict;
    if (c) status(`409: track ${c.track} is person ${c.person}'s in frame ${c.frame + 1}; ` +
                  `use "Swap identity with" person ${c.person} to exchange their identities`, "error");
    else status(`${r.status}: ${r.data.detail}` + (r.status === 409 ? " (reloaded the current value)" : ""), "error");
    await reloadPoses();
    if (c && [...$("swap-other").options].some((o) => o.value === String(c.person))) $("swap-other").value = String(c.person);
    return false;
  }
  function setState(name) {
    if (S.sel.person === null || S.sel.kp === null) { status("select a keypoint first", "error"); return; }
    return sendEdit({ op: "state", person: S.sel.person, keypoint: S.sel.kp, state: name });
  }
  function swap() { if (S.sel.person !== null) return sendEdit({ op: "swap", person: S.sel.person }); }
  function setTrack() {
    const t = parseInt($("track-input").value, 10);
    if (S.sel.person === null || Number.isNaN(t)) { status("select a person and type a track id", "error"); return; }
    const body = { op: "track", person: S.sel.person, track: t };
    if (S.project.kind === "video" && $("track-scope").value === "from") body.from_frame = S.frame;
    return sendEdit(body);
  }
  function swapIdentity() {
    if (S.project.kind !== "video") { status("identity swaps apply to videos", "error"); return; }
    const other = parseInt($("swap-other").value, 10);
    if (S.sel.person === null || Number.isNaN(other)) { status("select a person, then the person to swap identities with", "error"); return; }
    const body = { op: "swap_tracks", person: S.sel.person, other };
    if ($("track-scope").value === "from") body.from_frame = S.frame;
    return sendEdit(body);
  }
  async function decide(f, statusName, comment) {
    const r = await api("POST", `/api/findings/${f.index}/decision`, { reviewer: reviewer(), status: statusName, comment, version: f.version });
    if (r.ok) status(`finding ${f.index} ${statusName}`, "ok");
    else status(`${r.status}: ${r.data.detail}`, "error");
    await loadFindings(); renderSide(); drawTimeline(); draw();
  }
  async function undoRedo(which) {
    const r = await api("POST", `/api/${which}`, { reviewer: reviewer() });
    if (!r.ok) { status(`${which}: ${r.data.detail}`, "error"); return; }
    status(`${which} done`, "ok");
    if (r.data.target.startsWith("f:")) { await loadFindings(); renderSide(); drawTimeline(); }
    if (r.data.frame !== undefined && r.data.frame !== S.frame) await gotoFrame(r.data.frame);
    else await reloadPoses();
  }
  async function doExport() {
    const r = await api("POST", "/api/export", {});
    if (r.ok) status("exported: " + Object.values(r.data.written).join(", "), "ok");
    else status(`export failed: ${r.data.detail}`, "error");
  }

  // ---- navigation ----------------------------------------------------------------------------
  function flaggedFrames() {
    const s = new Set();
    for (const q of S.queue) if (q.frame !== null) s.add(q.frame);
    for (const f of S.findings) if (f.frame !== null && f.status === "open") s.add(f.frame);
    return [...s].sort((a, b) => a - b);
  }
  function nextFlag(dir) {
    const fl = flaggedFrames();
    if (!fl.length) { status("no flagged frames", ""); return; }
    const t = dir > 0 ? fl.find((f) => f > S.frame) : [...fl].reverse().find((f) => f < S.frame);
    if (t !== undefined) gotoFrame(t); else status(dir > 0 ? "no later flagged frame" : "no earlier flagged frame", "");
  }
  async function play() {
    S.playing = !S.playing; $("btn-play").textContent = S.playing ? "Pause" : "Play";
    const dt = 1000 / (S.project.fps || 10);
    while (S.playing && S.frame < S.project.frames - 1) {
      const t0 = performance.now();
      await gotoFrame(S.frame + 1);
      await new Promise((r) => setTimeout(r, Math.max(0, dt - (performance.now() - t0))));
    }
    S.playing = false; $("btn-play").textContent = "Play";
  }

  // ---- mouse ---------------------------------------------------------------------------------
  function hit(sx, sy) {
    let best = null, bd = 10;
    for (const p of S.people) p.xy.forEach((q, k) => {
      if (p.state[k] === 0) return;
      const [x, y] = toScreen(q[0], q[1]);
      const d = Math.hypot(x - sx, y - sy);
      if (d < bd || (d === bd && p.person === S.sel.person)) { bd = d; best = { person: p.person, kp: k }; }
    });
    return best;
  }
  function pos(e) { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  canvas.addEventListener("mousedown", (e) => {
    canvas.focus();
    const [sx, sy] = pos(e);
    const h = hit(sx, sy);
    if (h) { S.sel = h; S.drag = { kind: "kp", moved: false, ...h }; renderSide(); draw(); }
    else S.drag = { kind: "pan", sx, sy, ox: S.view.ox, oy: S.view.oy };
  });
  window.addEventListener("mousemove", (e) => {
    if (!S.drag) return;
    const [sx, sy] = pos(e);
    if (S.drag.kind === "pan") { S.view.ox = S.drag.ox + sx - S.drag.sx; S.view.oy = S.drag.oy + sy - S.drag.sy; draw(); return; }
    const p = S.people.find((q) => q.person === S.drag.person);
    p.xy[S.drag.kp] = toImage(sx, sy); S.drag.moved = true; draw();
  });
  window.addEventListener("mouseup", async () => {
    const d = S.drag; S.drag = null;
    if (!d || d.kind !== "kp" || !d.moved) return;
    const p = S.people.find((q) => q.person === d.person);
    const [x, y] = p.xy[d.kp];
    await sendEdit({ op: "move", person: d.person, keypoint: d.kp, x: Math.round(x * 100) / 100, y: Math.round(y * 100) / 100 });
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const [sx, sy] = pos(e), f = Math.exp(-e.deltaY * 0.0015);
    const s = Math.min(40, Math.max(0.05, S.view.scale * f)), k = s / S.view.scale;
    S.view = { scale: s, ox: sx - (sx - S.view.ox) * k, oy: sy - (sy - S.view.oy) * k };
    draw();
  }, { passive: false });
  tl.addEventListener("click", (e) => {
    const r = tl.getBoundingClientRect();
    gotoFrame(Math.floor(((e.clientX - r.left) / r.width) * S.project.frames));
  });

  // ---- keys & buttons ------------------------------------------------------------------------
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA" || e.target.tagName === "SELECT") return;
    const k = e.key;
    if ((e.ctrlKey || e.metaKey) && k.toLowerCase() === "z") { e.preventDefault(); undoRedo(e.shiftKey ? "redo" : "undo"); return; }
    if ((e.ctrlKey || e.metaKey) && k.toLowerCase() === "y") { e.preventDefault(); undoRedo("redo"); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const act = {
      ArrowRight: () => gotoFrame(S.frame + 1), ArrowLeft: () => gotoFrame(S.frame - 1),
      n: () => nextFlag(1), p: () => nextFlag(-1), PageDown: () => nextFlag(1), PageUp: () => nextFlag(-1),
      " ": play, v: () => setState("visible"), o: () => setState("occluded"), m: () => setState("missing"),
      s: swap, i: swapIdentity, f: fit, Home: () => gotoFrame(0), End: () => gotoFrame(S.project.frames - 1),
      Tab: () => {
        if (!S.people.length) return;
        const i = S.people.findIndex((p) => p.person === S.sel.person);
        S.sel = { person: S.people[(i + (e.shiftKey ? S.people.length - 1 : 1)) % S.people.length].person, kp: null };
        draw(); renderSide();
      },
    }[k];
    if (act) { e.preventDefault(); act(); }
  });
  $("btn-prev").onclick = () => gotoFrame(S.frame - 1);
  $("btn-next").onclick = () => gotoFrame(S.frame + 1);
  $("btn-prev-flag").onclick = () => nextFlag(-1);
  $("btn-next-flag").onclick = () => nextFlag(1);
  $("btn-play").onclick = play;
  $("btn-fit").onclick = fit;
  $("btn-visible").onclick = () => setState("visible");
  $("btn-occluded").onclick = () => setState("occluded");
  $("btn-missing").onclick = () => setState("missing");
  $("btn-swap").onclick = swap;
  $("btn-track").onclick = setTrack;
  $("btn-swap-ids").onclick = swapIdentity;
  $("btn-undo").onclick = () => undoRedo("undo");
  $("btn-redo").onclick = () => undoRedo("redo");
  $("btn-export").onclick = doExport;
  $("reviewer").onchange = () => localStorage.setItem("posekit-reviewer", reviewer());
  window.addEventListener("resize", () => { resize(); });

  // for tests and scripting: read-only view of the state and screen positions of keypoints
  window.posekitReview = {
    state: S, gotoFrame, select: (person, kp) => { S.sel = { person, kp }; draw(); renderSide(); },
    screenOf: (person, kp) => { const p = S.people.find((q) => q.person === person); const [x, y] = toScreen(p.xy[kp][0], p.xy[kp][1]);
      const r = canvas.getBoundingClientRect(); return [x + r.left, y + r.top]; },
    ready: false,
  };
  init().then(() => { window.posekitReview.ready = true; }).catch((e) => status(String(e), "error"));
})();
