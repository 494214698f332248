"""The real clips as another phone would film them: mirrored (the same set from the other side: the model is not
left-right symmetric, and clips with the head on either side come in) and at half the frame rate. A clean real rep
must not turn into a fault. Copies are written into tmp_path only (the real clips have no licence) and analysed
end to end with the real model and the shipped profile.

Measured when this was written (README "Real clips, filmed otherwise"): before the heel lift's second reading, the
hold not timed on a guessed hip point and the knee riding the hips, mirrored r11 read three clean reps as heel
lifts (4.9-5.4 cm), and mirrored r05 failed feet too close, partial lockout and heel lift on its second rep (the
model's knee on the 45 cm plate).
"""
from __future__ import annotations

import pytest

from conftest import ROOT
from rotate_clip import rotated_copy

REAL = ROOT.parent / "shared" / "real_clips"
# clip -> labelled reps
CLIPS = {"r05_barbell_hip_thrust_side_stock_shot1": 2, "r07_db_hip_thrust_bench_oblique_musclewiki": 1,
         "r09_bw_glute_bridge_side_home": 3, "r11_db_glute_bridge_side_gym_phone": 6,
         "r13_bw_glute_bridge_side_short": 1}


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real_clips is not beside the checkout")
@pytest.mark.parametrize("name, mirror, every", [(n, True, 1) for n in CLIPS]
                         + [("r11_db_glute_bridge_side_gym_phone", False, 2)])
def test_a_clean_real_set_filmed_otherwise_gets_no_fault(tmp_path, name, mirror, every):
    import formcheck

    copy = rotated_copy(REAL / f"{name}.mp4", tmp_path / "copy.mp4", 0, lossless=False, mirror=mirror, every=every)
    res = formcheck.analyze(copy, tmp_path / "out", video=False, html=False)
    faults = {(r.index, f.rule_id, f.value) for r in res.reps for f in r.findings if f.verdict == "fail"}
    assert not faults, f"{name} (mirror={mirror}, every={every}): false faults {sorted(faults)}"
    assert res.n_reps == CLIPS[name]
