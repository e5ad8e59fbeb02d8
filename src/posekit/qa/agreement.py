"""Agreement between annotation files of the same images (several annotators, or one annotator twice).

People are matched per image between each file and the first (the reference): by annotation id when
both files use the same ids for that image, else by object keypoint similarity (OKS, Hungarian
assignment, pairs below ``min_match_oks`` left unmatched). For every matched pair of annotations of two
files:

* keypoint similarity ``ks_k = exp(-d_k² / (2 · s² · (2 σ_k)²))`` where ``d_k`` is the distance in
  pixels, ``s²`` the mean of the two annotations' areas (pixels²) and ``σ_k`` the skeleton's OKS sigma
  (COCO's formula, made symmetric); a keypoint labelled in only one of the two is a *label
  disagreement* instead.
* person OKS = mean ``ks`` over the keypoints both labelled.

Reported: OKS per keypoint (mean ``ks`` over all pairs) and per person pair, per-file-pair means, each
annotator's **bias** = mean signed offset ``(dx, dy)`` in pixels per keypoint from the mean of the other
files' positions of the same keypoint (a file shifted by ``(3, -2)`` px on a keypoint against one other
file shows ``(3, -2)`` there, and the other file ``(-3, 2)``), **repeat consistency** of one annotator
(files given the same annotator name, and images labelled twice within one file, i.e. two image
entries with the same ``file_name``), and a list of **disagreements**: keypoints whose ``ks`` is under
``threshold`` or that only one file labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from posekit.errors import InputError
from posekit.io.atomic import atomic_write
from posekit.io.coco import CocoDataset, read_coco
from posekit.poses import PoseFrame
from posekit.skeletons import Skeleton

__all__ = ["AgreementResult", "agreement", "write_agreement", "pair_similarity", "match_people"]


def _sigmas(sk: Skeleton, default: float) -> np.ndarray:
    s = sk.sigmas_array
    return np.full(len(sk), default) if s is None else s


def _areas(f: PoseFrame, areas: np.ndarray | None) -> np.ndarray:
    a = np.full(len(f), np.nan) if areas is None else np.asarray(areas, dtype=np.float64).copy()
    with np.errstate(invalid="ignore"):
        box = (f.box[:, 2] - f.box[:, 0]) * (f.box[:, 3] - f.box[:, 1])
    a = np.where(np.isfinite(a) & (a > 0), a, box)
    return np.where(np.isfinite(a) & (a > 0), a, 1.0)


def pair_similarity(
    xa: np.ndarray, la: np.ndarray, xb: np.ndarray, lb: np.ndarray, area: float, sigmas: np.ndarray
) -> tuple[np.ndarray, float]:
    """Keypoint similarities and OKS of two annotations of one person.

    Args:
        xa, xb: ``(K, 2)`` pixels.
        la, lb: ``(K,)`` bool labelled.
        area: object area in pixels² (mean of the two).
        sigmas: ``(K,)`` OKS sigmas.

    Returns:
        ``ks (K,)`` in [0, 1] (NaN where not labelled in both) and the OKS (NaN if none shared).
    """
    both = la & lb
    d2 = np.sum((xa - xb) ** 2, -1)
    with np.errstate(invalid="ignore"):
        ks = np.where(both, np.exp(-d2 / (2.0 * max(area, 1.0) * (2 * sigmas) ** 2)), np.nan)
    return ks, float(np.nanmean(ks)) if both.any() else float("nan")


def match_people(
    fa: PoseFrame, ida: np.ndarray, area_a: np.ndarray, fb: PoseFrame, idb: np.ndarray, area_b: np.ndarray,
    sigmas: np.ndarray, min_oks: float,
) -> list[tuple[int, int]]:  # fmt: skip
    """Pairs ``(person in a, person in b)`` of one image: by shared annotation ids, else OKS matching."""
    if len(fa) == 0 or len(fb) == 0:
        return []
    same_ids = (len(ida) == len(fa) and len(idb) == len(fb) and len(ida) == len(idb)
                and set(ida.tolist()) == set(idb.tolist()) and len(set(ida.tolist())) == len(ida))
    if same_ids:
        pos = {v: j for j, v in enumerate(idb.tolist())}
        return [(i, pos[v]) for i, v in enumerate(ida.tolist())]
    la, lb = fa.present, fb.present
    m = np.zeros((len(fa), len(fb)))
    for i in range(len(fa)):
        for j in range(len(fb)):
            _, o = pair_similarity(fa.xy[i], la[i], fb.xy[j], lb[j], 0.5 * (area_a[i] + area_b[j]), sigmas)
            m[i, j] = 0.0 if np.isnan(o) else o
    from scipy.optimize import linear_sum_assignment  # local: keeps `import posekit.qa` light

    r, c = linear_sum_assignment(-m)
    return [(int(i), int(j)) for i, j in zip(r, c) if m[i, j] >= min_oks]


@dataclass
class AgreementResult:
    """Agreement between annotation files (see the module docstring).

    Attributes:
        files: file labels (paths or names), in the order given.
        annotators: annotator name per file.
        skeleton: keypoint layout id.
        keypoints: keypoint names.
        mean_oks: mean person OKS over all matched pairs of all file pairs.
        oks_per_keypoint: ``(K,)`` mean keypoint similarity (NaN where never labelled in both).
        label_agreement: ``(K,)`` fraction of matched pairs where both or neither label the keypoint.
        pairs: per file pair: ``{"files": [a, b], "mean_oks", "people"}``.
        people: per matched person pair: ``{"image_id", "files": [a, b], "annotation_ids": [..], "oks"}``.
        bias: ``(F, K, 2)`` mean signed offset in pixels per file and keypoint (NaN where unknown).
        bias_count: ``(F, K)`` number of offsets averaged.
        repeat: repeat-label consistency entries (same annotator twice).
        disagreements: keypoints where the files disagree (position beyond ``threshold`` or labelled by one).
        unmatched: people found in one file with no counterpart in the reference (or vice versa).
        threshold: the keypoint-similarity threshold used for ``disagreements``.
    """

    files: list[str]
    annotators: list[str]
    skeleton: str
    keypoints: list[str]
    mean_oks: float
    oks_per_keypoint: np.ndarray
    label_agreement: np.ndarray
    pairs: list[dict[str, Any]]
    people: list[dict[str, Any]]
    bias: np.ndarray
    bias_count: np.ndarray
    repeat: list[dict[str, Any]] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    threshold: float = 0.5

    def bias_of(self, file: int | str) -> dict[str, tuple[float, float] | None]:
        """Bias of one file (index or label): keypoint name → ``(dx, dy)`` pixels, or ``None``."""
        j = file if isinstance(file, int) else self.files.index(file)
        return {
            k: (None if not np.isfinite(self.bias[j, n]).all() else (float(self.bias[j, n, 0]), float(self.bias[j, n, 1])))
            for n, k in enumerate(self.keypoints)
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""

        def num(v: float) -> float | None:
            return None if not np.isfinite(v) else round(float(v), 6)

        return {
            "files": self.files,
            "annotators": self.annotators,
            "skeleton": self.skeleton,
            "threshold": self.threshold,
            "mean_oks": num(self.mean_oks),
            "oks_per_keypoint": {k: num(v) for k, v in zip(self.keypoints, self.oks_per_keypoint)},
            "label_agreement": {k: num(v) for k, v in zip(self.keypoints, self.label_agreement)},
            "pairs": self.pairs,
            "people": self.people,
            "bias": {
                f: {k: {"dx": num(self.bias[j, n, 0]), "dy": num(self.bias[j, n, 1]), "n": int(self.bias_count[j, n])}
                    for n, k in enumerate(self.keypoints)}
                for j, f in enumerate(self.files)
            },  # fmt: skip
            "repeat": self.repeat,
            "disagreements": self.disagreements,
            "unmatched": self.unmatched,
        }


def _load(item: str | Path | CocoDataset, skeleton: Any) -> tuple[str, CocoDataset]:
    if isinstance(item, CocoDataset):
        return (item.path or "<dataset>"), item
    return str(item), read_coco(item, skeleton=skeleton)


def _jsonable_id(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def agreement(
    files: Sequence[str | Path | CocoDataset],
    *,
    annotators: Sequence[str] | None = None,
    threshold: float = 0.5,
    min_match_oks: float = 0.1,
    skeleton: Any = None,
    default_sigma: float = 0.07,
) -> AgreementResult:
    """Agreement between two or more COCO keypoint files of the same images.

    Args:
        files: paths (or datasets); the first is the reference people are matched against.
        annotators: annotator name per file (files with the same name are repeats of one annotator);
            default: each file its own annotator.
        threshold: keypoint similarity under which a labelled pair is listed as a disagreement
            (0.5 ≈ a distance of 1.18 × 2σ × √area, COCO's "loose" match).
        min_match_oks: OKS below which two annotations are not the same person.
        skeleton: layout to read the files with (default: from their categories).
        default_sigma: OKS sigma for skeletons without sigmas.

    Raises:
        InputError: fewer than two files, unreadable files, different skeletons, or no image in common.
    """
    if len(files) < 2:
        raise InputError(str(files[0]) if files else "<none>", "agreement needs at least two annotation files")
    loaded = [_load(f, skeleton) for f in files]
    labels = [p for p, _ in loaded]
    if len(set(labels)) != len(labels):
        labels = [f"{p}#{j}" for j, p in enumerate(labels)]
    dss = [d for _, d in loaded]
    names = list(annotators) if annotators is not None else [f"annotator{j + 1}" for j in range(len(dss))]
    if len(names) != len(dss):
        raise InputError(labels[0], f"{len(names)} annotator names for {len(dss)} files")
    sk = dss[0].skeleton
    for p, d in zip(labels, dss):
        if d.skeleton.name != sk.name:
            raise InputError(p, f"holds {d.skeleton.name!r} keypoints but {labels[0]} holds {sk.name!r}")
    common = [iid for iid in dss[0].images if all(iid in d.images for d in dss[1:])]
    if not common:
        raise InputError(labels[1], f"has no image id in common with {labels[0]}")
    sig = _sigmas(sk, default_sigma)
    k = len(sk)
    nf = len(dss)
    unmatched: list[dict[str, Any]] = []
    for j, d in enumerate(dss):
        extra = [iid for iid in d.images if iid not in set(common)]
        for iid in extra:
            unmatched.append({"file": labels[j], "image_id": _jsonable_id(iid), "annotation_id": None,
                              "reason": "image not in every file"})  # fmt: skip

    # groups: per image, list of {file: person index}
    groups: list[tuple[Any, dict[int, int]]] = []
    for iid in common:
        f0 = dss[0].frames[iid]
        a0 = _areas(f0, dss[0].areas.get(iid))
        keep0 = ~dss[0].iscrowd[iid] if len(f0) else np.zeros(0, bool)
        gs = {p: {0: p} for p in range(len(f0)) if keep0[p]}
        for j in range(1, nf):
            fj = dss[j].frames[iid]
            aj = _areas(fj, dss[j].areas.get(iid))
            pairs = match_people(f0, dss[0].annotation_ids[iid], a0, fj, dss[j].annotation_ids[iid], aj, sig, min_match_oks)
            got = set()
            for p0, pj in pairs:
                if p0 in gs and not dss[j].iscrowd[iid][pj]:
                    gs[p0][j] = pj
                    got.add(pj)
            for pj in range(len(fj)):
                if pj not in got and not dss[j].iscrowd[iid][pj]:
                    unmatched.append({"file": labels[j], "image_id": _jsonable_id(iid),
                                      "annotation_id": _jsonable_id(dss[j].annotation_ids[iid][pj]),
                                      "reason": f"no matching person in {labels[0]}"})  # fmt: skip
        for p0, g in gs.items():
            if len(g) == 1 and nf > 1:
                unmatched.append({"file": labels[0], "image_id": _jsonable_id(iid),
                                  "annotation_id": _jsonable_id(dss[0].annotation_ids[iid][p0]),
                                  "reason": "no matching person in any other file"})  # fmt: skip
            groups.append((iid, g))

    ks_sum = np.zeros(k)
    ks_n = np.zeros(k)
    lab_same = np.zeros(k)
    lab_n = np.zeros(k)
    pair_stats: dict[tuple[int, int], list[float]] = {}
    people: list[dict[str, Any]] = []
    disagreements: list[dict[str, Any]] = []
    bias_sum = np.zeros((nf, k, 2))
    bias_n = np.zeros((nf, k))
    kp_names = list(sk.keypoints)
    for iid, g in groups:
        fname = dss[0].images[iid].get("file_name")
        members = sorted(g)
        # per-file arrays of this person
        xs = {j: dss[j].frames[iid].xy[g[j]] for j in members}
        ls = {j: dss[j].frames[iid].present[g[j]] for j in members}
        ar = {j: _areas(dss[j].frames[iid], dss[j].areas.get(iid))[g[j]] for j in members}
        ids = {j: _jsonable_id(dss[j].annotation_ids[iid][g[j]]) for j in members}
        for a, b in combinations(members, 2):
            ks, o = pair_similarity(xs[a], ls[a], xs[b], ls[b], 0.5 * (ar[a] + ar[b]), sig)
            ok = np.isfinite(ks)
            ks_sum[ok] += ks[ok]
            ks_n[ok] += 1
            lab_same += ls[a] == ls[b]
            lab_n += 1
            if np.isfinite(o):
                pair_stats.setdefault((a, b), []).append(o)
            people.append({"image_id": _jsonable_id(iid), "files": [labels[a], labels[b]],
                           "annotation_ids": [ids[a], ids[b]], "oks": None if not np.isfinite(o) else round(o, 6)})  # fmt: skip
            for n in range(k):
                kind = None
                if ok[n] and ks[n] < threshold:
                    kind = "position"
                elif ls[a][n] != ls[b][n]:
                    kind = "labelled_by_one"
                if kind is None:
                    continue
                dist = float(np.linalg.norm(xs[a][n] - xs[b][n])) if ok[n] else None
                disagreements.append({
                    "image_id": _jsonable_id(iid), "file_name": fname, "keypoint": kp_names[n],
                    "files": [labels[a], labels[b]], "annotation_ids": [ids[a], ids[b]], "kind": kind,
                    "distance_px": None if dist is None else round(dist, 3),
                    "similarity": None if not ok[n] else round(float(ks[n]), 6),
                    "labelled": [bool(ls[a][n]), bool(ls[b][n])],
                })  # fmt: skip
        # bias: offset of each file from the mean of the others
        for j in members:
            others = [o for o in members if o != j]
            if not others:
                continue
            ox = np.stack([np.where(ls[o][:, None], xs[o], np.nan) for o in others])
            with np.errstate(invalid="ignore"), np.errstate(all="ignore"):
                cnt = np.isfinite(ox[..., 0]).sum(0)
                mean = np.where(cnt[:, None] > 0, np.nansum(ox, 0) / np.maximum(cnt, 1)[:, None], np.nan)
            off = xs[j] - mean
            use = ls[j] & np.isfinite(off).all(-1)
            bias_sum[j][use] += off[use]
            bias_n[j][use] += 1

    with np.errstate(invalid="ignore", divide="ignore"):
        oks_k = np.where(ks_n > 0, ks_sum / ks_n, np.nan)
        lab = np.where(lab_n > 0, lab_same / lab_n, np.nan)
        bias = np.where(bias_n[..., None] > 0, bias_sum / bias_n[..., None], np.nan)
    all_oks = [o for v in pair_stats.values() for o in v]
    pairs_out = []
    repeat: list[dict[str, Any]] = []
    for (a, b), v in sorted(pair_stats.items()):
        entry = {"files": [labels[a], labels[b]], "annotators": [names[a], names[b]], "mean_oks": round(float(np.mean(v)), 6),
                 "people": len(v)}  # fmt: skip
        pairs_out.append(entry)
        if names[a] == names[b]:
            repeat.append({"kind": "files", "annotator": names[a], **entry})
    for j, d in enumerate(dss):
        repeat += _repeats_within(labels[j], names[j], d, sig, min_match_oks)
    return AgreementResult(
        files=labels, annotators=names, skeleton=sk.name, keypoints=kp_names,
        mean_oks=float(np.mean(all_oks)) if all_oks else float("nan"), oks_per_keypoint=oks_k,
        label_agreement=lab, pairs=pairs_out, people=people, bias=bias, bias_count=bias_n.astype(np.int64),
        repeat=repeat, disagreements=disagreements, unmatched=unmatched, threshold=float(threshold),
    )  # fmt: skip


def _repeats_within(label: str, name: str, d: CocoDataset, sig: np.ndarray, min_oks: float) -> list[dict[str, Any]]:
    """Images labelled twice in one file (same ``file_name``, different image ids)."""
    by_name: dict[str, list[Any]] = {}
    for iid, img in d.images.items():
        fn = img.get("file_name")
        if isinstance(fn, str) and fn:
            by_name.setdefault(fn, []).append(iid)
    out = []
    for fn, ids in sorted(by_name.items()):
        for a, b in combinations(ids, 2):
            fa, fb = d.frames[a], d.frames[b]
            aa, ab = _areas(fa, d.areas.get(a)), _areas(fb, d.areas.get(b))
            pairs = match_people(fa, np.array([]), aa, fb, np.array([]), ab, sig, min_oks)
            oks = []
            for i, j in pairs:
                _, o = pair_similarity(fa.xy[i], fa.present[i], fb.xy[j], fb.present[j], 0.5 * (aa[i] + ab[j]), sig)
                if np.isfinite(o):
                    oks.append(o)
            out.append({
                "kind": "within_file", "annotator": name, "file": label, "file_name": fn,
                "image_ids": [_jsonable_id(a), _jsonable_id(b)], "people": len(oks),
                "unmatched": len(fa) + len(fb) - 2 * len(pairs),
                "mean_oks": round(float(np.mean(oks)), 6) if oks else None,
            })  # fmt: skip
    return out


def write_agreement(path: str | Path, result: AgreementResult) -> None:
    """Write :meth:`AgreementResult.to_dict` as JSON, atomically."""
    text = json.dumps(result.to_dict(), allow_nan=False, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    with atomic_write(path, "w") as fh:
        fh.write(text + "\n")
