"""Pinhole cameras with lens distortion, as the 3D datasets define them.

One convention throughout: a world point ``X`` (metres) maps to camera coordinates
``X_cam = R @ X + t`` (metres; x right, y down, z forward, in front of the camera when z > 0), then to
pixels ``u = fx * x' + cx``, ``v = fy * y' + cy`` where ``(x', y')`` is the distorted normalised point
``(X_cam.x / X_cam.z, X_cam.y / X_cam.z)``. Readers convert each dataset's own convention (camera centre vs
translation, centimetres, millimetres) into this one.

Distortion models (``dist_model``):

* ``"none"``: no distortion.
* ``"opencv"``: OpenCV's ``(k1, k2, p1, p2[, k3])`` (CMU Panoptic).
* ``"h36m"``: Human3.6M's own model with radial ``(k1, k2, k3)`` and tangential ``(p1, p2)``, stored as
  ``(k1, k2, k3, p1, p2)``: ``x' = x (r + p1 y + p2 x) + p2 r²``, ``y' = y (r + p1 y + p2 x) + p1 r²`` with
  ``r = 1 + k1 r² + k2 r⁴ + k3 r⁶``. It reproduces the dataset's 2D ground truth from its 3D ground truth
  to 1e-4 px; OpenCV's model does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["Camera", "DistortionModel"]

DistortionModel = Literal["none", "opencv", "h36m"]


@dataclass(frozen=True, eq=False)
class Camera:
    """A calibrated camera.

    Attributes:
        name: the dataset's camera name or id.
        fx, fy: focal lengths in pixels.
        cx, cy: principal point in pixels.
        R: ``(3, 3)`` rotation world → camera.
        t: ``(3,)`` translation in metres (``X_cam = R @ X_world + t``).
        dist: distortion coefficients for ``dist_model`` (empty for ``"none"``).
        dist_model: ``"none"``, ``"opencv"`` or ``"h36m"`` (see the module docstring).
        image_size: ``(width, height)`` in pixels, or ``None`` where unknown.
    """

    name: str
    fx: float
    fy: float
    cx: float
    cy: float
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    t: np.ndarray = field(default_factory=lambda: np.zeros(3))
    dist: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dist_model: DistortionModel = "none"
    image_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        R = np.asarray(self.R, dtype=np.float64)
        t = np.asarray(self.t, dtype=np.float64).reshape(-1)
        d = np.asarray(self.dist, dtype=np.float64).reshape(-1)
        if R.shape != (3, 3) or t.shape != (3,):
            raise ValueError(f"camera {self.name!r}: R must be 3×3 and t 3 values, got {R.shape} and {t.shape}")
        want = {"none": (0,), "opencv": (4, 5), "h36m": (5,)}[self.dist_model]
        if d.size not in want and not (self.dist_model == "none" and not d.any()):
            raise ValueError(f"camera {self.name!r}: {d.size} distortion coefficients for model {self.dist_model!r}")
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "dist", d)

    @property
    def K(self) -> np.ndarray:
        """``(3, 3)`` intrinsic matrix in pixels."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def center(self) -> np.ndarray:
        """``(3,)`` camera centre in world coordinates, metres."""
        return -self.R.T @ self.t

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points ``(..., 3)`` metres → camera coordinates ``(..., 3)`` metres."""
        p = np.asarray(points, dtype=np.float64)
        return p @ self.R.T + self.t

    def distort(self, xn: np.ndarray) -> np.ndarray:
        """Normalised image points ``(..., 2)`` → distorted normalised points ``(..., 2)``."""
        xn = np.asarray(xn, dtype=np.float64)
        if self.dist_model == "none" or not self.dist.any():
            return xn
        x, y = xn[..., 0], xn[..., 1]
        r2 = x * x + y * y
        d = self.dist
        if self.dist_model == "opencv":
            k1, k2, p1, p2 = d[:4]
            k3 = d[4] if d.size > 4 else 0.0
            radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
            xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
            yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        else:  # h36m
            k1, k2, k3, p1, p2 = d
            radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
            tan = p1 * y + p2 * x
            xd = x * (radial + tan) + p2 * r2
            yd = y * (radial + tan) + p1 * r2
        return np.stack([xd, yd], axis=-1)

    def camera_to_pixels(self, points_cam: np.ndarray, *, distort: bool = True) -> np.ndarray:
        """Camera-frame points ``(..., 3)`` metres → pixels ``(..., 2)`` (NaN where z ≤ 0 or NaN)."""
        p = np.asarray(points_cam, dtype=np.float64)
        z = p[..., 2:3]
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = np.where(z > 0, p[..., :2] / z, np.nan)
        if distort:
            xn = self.distort(xn)
        return xn * np.array([self.fx, self.fy]) + np.array([self.cx, self.cy])

    def project(self, points_world: np.ndarray, *, distort: bool = True) -> np.ndarray:
        """World points ``(..., 3)`` metres → pixels ``(..., 2)`` (NaN behind the camera)."""
        return self.camera_to_pixels(self.world_to_camera(points_world), distort=distort)
