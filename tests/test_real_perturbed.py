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


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real_clips is not beside the checkout")
@pytest.mark.parametrize("name, tilt_deg, exercise", [("r11_db_glute_bridge_side_gym_phone", 8.0, "glute_bridge"),
                                                      ("r07_db_hip_thrust_bench_oblique_musclewiki", -8.0, "hip_thrust")])
def test_a_real_set_filmed_with_the_phone_tilted_keeps_its_exercise_and_count(tmp_path, name, tilt_deg, exercise):
    """Tilted 8 deg, r11's floor bridge read as a hip thrust (1 rep of 6, a false feet too close) and r07's steep
    bench as someone standing (no rep), before the shoulders' height over the feet joined the torso angle
    (tracker.fitting_candidates, gate.check_rep). no_pause is left out: r11's clean tops (0.5-0.7 s by eye) read
    0.40-0.47 s untouched and 0.30-0.37 on copies (README "Pause"), a weakness of the hold measure, not of the tilt."""
    import formcheck

    copy = rotated_copy(REAL / f"{name}.mp4", tmp_path / "copy.mp4", 0, lossless=False, tilt_deg=tilt_deg)
    res = formcheck.analyze(copy, tmp_path / "out", video=False, html=False)
    assert res.exercise == exercise and res.n_reps == CLIPS[name]
    faults = {(r.index, f.rule_id, f.value) for r in res.reps for f in r.findings
              if f.verdict == "fail" and f.rule_id != "no_pause"}
    assert not faults, f"{name} tilted {tilt_deg} deg: false faults {sorted(faults)}"
