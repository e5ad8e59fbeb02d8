"""face468 → 68/98-point markup tables: only true correspondences, everything else MISSING."""

import numpy as np

from posekit.poses import KeypointState, PoseFrame
from posekit.skeletons import get_conversion


def test_face_tables_map_only_eight_landmarks() -> None:
    c68 = get_conversion("face468", "face68")
    assert sum(i >= 0 for i in c68.index) == 8
    assert c68.index[36] == 33 and c68.index[45] == 263  # outer eye corners
    assert c68.index[30] == 1 and c68.index[8] == 152  # nose tip, chin
    c98 = get_conversion("face468", "wflw98")
    assert c98.index[60] == 33 and c98.index[72] == 263 and sum(i >= 0 for i in c98.index) == 8


def test_face_conversion_keeps_states() -> None:
    xy = np.arange(468 * 2, dtype=float).reshape(1, 468, 2)
    f = PoseFrame("face468", xy, np.ones((1, 468)), np.ones((1, 468), np.uint8)).to_skeleton("face68")
    assert f.state[0, 36] == KeypointState.VISIBLE and np.allclose(f.xy[0, 36], xy[0, 33])
    assert f.state[0, 0] == KeypointState.MISSING and np.isnan(f.xy[0, 0]).all()
