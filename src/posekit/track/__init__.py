"""Tracking and stabilisation: stable identities, filters, anatomy constraints, occlusion handling.

* :mod:`posekit.track.tracker` — identity tracking: :class:`PoseTracker` (online, frame by frame),
  :func:`track_sequence` (offline, with fragment merging) and their :class:`TrackerConfig`.
* :mod:`posekit.track.filters`, :mod:`posekit.track.anatomy`, :mod:`posekit.track.occlusion` —
  temporal filters, bone-length / bend / left-right constraints, occlusion and gap filling.
"""

from __future__ import annotations

# --- identity tracking (tracker.py) ------------------------------------------------------------------
from .tracker import PoseTracker, TrackerConfig, TrackInfo, track_sequence

__all__ = ["PoseTracker", "TrackerConfig", "TrackInfo", "track_sequence"]

# --- filters / anatomy / occlusion (filters.py, anatomy.py, occlusion.py) ----------------------------
# BEGIN FILTERS block: owned by the filters helper.
from .anatomy import enforce_bone_lengths, fix_bends, fix_swaps
from .filters import FILTERS, OneEuroFilter, butterworth, kalman, one_euro, savgol, smooth
from .occlusion import fill_gaps
from .stabilize import OnlineStabilizer, stabilize

__all__ += [
    "FILTERS", "OneEuroFilter", "one_euro", "kalman", "butterworth", "savgol", "smooth",
    "enforce_bone_lengths", "fix_bends", "fix_swaps", "fill_gaps", "stabilize", "OnlineStabilizer",
]  # fmt: skip
# END FILTERS block
