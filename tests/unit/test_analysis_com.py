"""Centre of mass: the de Leva (1996) table, whole-body CM on synthetic figures, base of support."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.analysis import synthetic as syn
from posekit.analysis.com import DE_LEVA_1996, center_of_mass, com_over_feet
from posekit.poses import KeypointState


@pytest.mark.parametrize("sex", ["male", "female"])
def test_de_leva_masses_sum_to_one(sex):
    assert sum(s.mass for s in DE_LEVA_1996[sex]) == pytest.approx(1.0, abs=2e-4)


def test_de_leva_table4_values_are_the_cited_ones():
    m = {s.name: s for s in DE_LEVA_1996["male"]}
    f = {s.name: s for s in DE_LEVA_1996["female"]}
    assert (m["left_thigh"].mass, m["left_thigh"].cm) == pytest.approx((0.1416, 0.4095))
    assert (m["trunk"].mass, m["trunk"].cm) == pytest.approx((0.4346, 0.4486))
    assert (m["right_shank"].mass, m["right_shank"].cm) == pytest.approx((0.0433, 0.4459))
    assert (f["left_thigh"].mass, f["left_thigh"].cm) == pytest.approx((0.1478, 0.3612))
    assert (f["head"].mass, m["head"].mass) == pytest.approx((0.0668, 0.0694))


def test_standing_cm_height_and_symmetry():
    seq = syn.sit_down(noise_px=0.0)  # first 1.5 s: standing upright
    com = center_of_mass(seq, coords="world")
    stand = com.position[:10, 0]
    hips = 0.5 * (seq.world[:10, 0, 23] + seq.world[:10, 0, 24])
    # world: origin between the hips, y down. The CM of an upright body lies a little above the hips
    # (arms and head above, legs below), on the mid-sagittal plane.
    assert np.all(stand[:, 1] < hips[:, 1]) and np.all(stand[:, 1] > hips[:, 1] - 0.15)
    assert np.allclose(stand[:, 2], 0.0, atol=1e-9)
    assert com.coverage[:10, 0] == pytest.approx(1.0, abs=2e-4)


def test_cm_renormalises_without_head_and_fails_without_trunk():
    seq = syn.sit_down(noise_px=0.0)
    state = seq.state.copy()
    xy = seq.xy.copy()
    head = [i for i, n in enumerate(seq.skeleton.keypoints) if n in ("nose", "left_ear", "right_ear")]
    state[:, :, head] = KeypointState.MISSING
    xy[:, :, head] = np.nan
    state[5:, :, 11:13] = KeypointState.MISSING  # shoulders gone from frame 5
    xy[5:, :, 11:13] = np.nan
    from dataclasses import replace

    s2 = replace(seq, xy=xy, state=state, world=None)
    com = center_of_mass(s2)
    assert com.coverage[0, 0] == pytest.approx(1 - 0.0694, abs=1e-3)
    assert np.isfinite(com.position[:5]).all()
    assert np.isnan(com.position[5:]).all()


def test_base_of_support_inside_standing_and_outside_when_leaning_far():
    seq = syn.sit_down(noise_px=0.0)
    for coords in ("image", "world"):
        com = center_of_mass(seq, coords=coords)
        base = com_over_feet(seq, com)
        assert base.inside[:10, 0].all(), coords  # standing: CM over the feet
    # move the CM one metre forward (image x is forward in the side view)
    com = center_of_mass(seq, coords="image")
    com.position[:, :, 0] += 300.0
    base = com_over_feet(seq, com)
    assert not base.inside[:10, 0].any()
    assert (base.margin[:10, 0] < -200).all()
