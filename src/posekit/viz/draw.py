"""Draw skeletons over images.

Colours are per person (by track id when there is one, else by position in the frame). Visible
keypoints are filled discs; every other present state (occluded, predicted, interpolated, corrected) is a
hollow circle; MISSING keypoints and bones touching them are not drawn.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..poses import KeypointState, PoseFrame

__all__ = ["PALETTE", "person_color", "draw_frame"]

#: Distinct RGB colours (Tableau 10), cycled per person.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)  # fmt: skip


def person_color(key: int) -> tuple[int, int, int]:
    """The RGB colour for a person key (track id or index)."""
    return PALETTE[int(key) % len(PALETTE)]


def _draw_layer(
    canvas: np.ndarray,
    xy: np.ndarray,
    state: np.ndarray,
    edges: tuple[tuple[int, int], ...],
    color: tuple[int, int, int],
    radius: int,
    thickness: int,
) -> None:
    present = state != KeypointState.MISSING
    pts = np.round(np.where(present[:, None], xy, 0) * 16).astype(np.int32)  # 4 fractional bits
    for a, b in edges:
        if present[a] and present[b]:
            cv2.line(canvas, tuple(pts[a]), tuple(pts[b]), color, thickness, cv2.LINE_AA, shift=4)
    for j in np.flatnonzero(present):
        filled = state[j] == KeypointState.VISIBLE
        cv2.circle(
            canvas, tuple(pts[j]), radius * 16, color, -1 if filled else max(1, thickness), cv2.LINE_AA, shift=4
        )


def draw_frame(
    image: np.ndarray,
    frame: PoseFrame,
    *,
    radius: int | None = None,
    thickness: int | None = None,
    draw_boxes: bool = False,
    draw_ids: bool = True,
) -> np.ndarray:
    """Return a copy of ``image`` with the frame's skeletons (and parts) drawn over it.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        frame: the people to draw (pixel coordinates of ``image``).
        radius: keypoint radius in pixels (default: scaled to the image size).
        thickness: bone thickness in pixels (default: scaled to the image size).
        draw_boxes: also draw each person's box.
        draw_ids: write the track id (or index) above each person.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
    out = np.ascontiguousarray(image.copy())
    scale = max(out.shape[:2]) / 1000.0
    r = radius if radius is not None else max(3, int(round(5 * scale)))
    th = thickness if thickness is not None else max(2, int(round(3 * scale)))
    for p in range(len(frame)):
        key = frame.track_id[p] if frame.track_id[p] >= 0 else p
        color = person_color(key)
        _draw_layer(out, frame.xy[p], frame.state[p], frame.skeleton.edges, color, r, th)
        for part in frame.parts.values():
            _draw_layer(out, part.xy[p], part.state[p], part.skeleton.edges, color, max(1, r // 2), max(1, th // 2))
        box = frame.box[p]
        if draw_boxes and np.isfinite(box).all():
            cv2.rectangle(out, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), color, th)
        if draw_ids and np.isfinite(box).all():
            label = f"#{int(frame.track_id[p])}" if frame.track_id[p] >= 0 else f"{p}"
            org = (int(box[0]), max(12, int(box[1]) - 6))
            cv2.putText(out, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * max(1.0, scale), color, th, cv2.LINE_AA)
    return out
