"""The accuracy ratchet: the cross-validated figures over sample + train + real clips (`formcheck eval`, fitted
on some clips and scored on others) may not get worse than the committed tests/accuracy/metrics.json.

Improvements are committed by re-running `make eval` (which rewrites the file); regressions fail here. Counts get
a tolerance of one rep-rule because XNNPACK's float results differ slightly between CPUs. The landmarks are cached
(io/pose_cache): the first run on a machine runs the model over every clip (29 min on 2 busy cores when it was first filled), later runs take
seconds.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES

COMMITTED = json.loads((Path(__file__).parent / "accuracy" / "metrics.json").read_text())
SHARED = ROOT.parent / "shared"
FOLDERS = [SAMPLES, SHARED / "train_videos", SHARED / "real_clips"]
COUNT_TOL = 1


@pytest.fixture(scope="session")
def cv_metrics():
    if not all(f.is_dir() for f in FOLDERS):
        pytest.skip("../shared/train_videos and ../shared/real_clips are not beside the checkout")
    from formcheck.apps.crossval import cross_validate, labelled_clips

    return cross_validate(labelled_clips(FOLDERS), k=COMMITTED["k"])


@pytest.mark.slow
@pytest.mark.parametrize("part", ["rendered", "sample", "train", "real"])
def test_headline_figures_do_not_regress(cv_metrics, part):
    new, old = cv_metrics[part], COMMITTED[part]
    assert new["clips"] == old["clips"], f"{part}: the labelled set changed ({new['clips']} vs {old['clips']})"
    assert new["totals"]["tp"] >= old["totals"]["tp"] - COUNT_TOL, (part, new["totals"], old["totals"])
    assert new["totals"]["fp"] <= old["totals"]["fp"] + COUNT_TOL, (part, new["totals"], old["totals"])
    assert new["rep_count_exact"] >= old["rep_count_exact"], f"{part}: rep counts {new['rep_count_exact']}"
    assert new["passed_though_hidden"] <= old["passed_though_hidden"], part
    assert new["wrong_exercise"] <= old["wrong_exercise"], part
    if old["judged_share"] is not None:
        assert new["judged_share"] >= old["judged_share"] - 0.01, part


@pytest.mark.slow
def test_rules_do_not_regress(cv_metrics):
    for rule, old in COMMITTED["rendered"]["rules"].items():
        new = cv_metrics["rendered"]["rules"][rule]
        assert new["tp"] >= old["tp"] - COUNT_TOL, f"{rule}: {new} vs {old}"
        assert new["fp"] <= old["fp"] + COUNT_TOL, f"{rule}: {new} vs {old}"
        assert new["pass_hidden"] <= old["pass_hidden"], f"{rule} passed reps whose hips are hidden"


def test_the_shipped_profile_is_the_fit_of_all_rendered_clips():
    """The real clips are scored with the fit of all rendered clips, so the product must ship that fit: a change
    that moves the fit (make eval) without copying it into the profile leaves analyze on stale offsets and bands."""
    from formcheck.exercises import load_profile
    from formcheck.exercises.hip_thrust import HIP_THRUST

    prof, fit = load_profile(), COMMITTED["fits"]["all rendered"]
    shipped = {k: getattr(prof.calibration, k) for k in fit["calibration"]}
    assert shipped == pytest.approx(fit["calibration"], abs=1e-9), "run make eval (it copies the fit into profile.toml)"
    bands = {r.id: prof.thresholds[f"{r.id}.{r.band_key}"] for r in HIP_THRUST.rules}
    assert bands == pytest.approx(fit["bands"], abs=1e-9), "run make eval (it copies the fit into profile.toml)"


def test_committed_figures_hold_the_lines_we_hold():
    """What the committed file may never show, whatever else it says: a rep counted on a negative clip, a real
    clip's rep count wrong, a false alarm on a real clip, an exercise taken for another."""
    real = COMMITTED["real"]
    assert real["rep_count_exact"] == real["clips"] and real["totals"]["fp"] == 0
    assert all(c["reps"] == 0 for c in COMMITTED["clips"] if c["reps_truth"] == 0)
    assert COMMITTED["rendered"]["wrong_exercise"] == 0 and COMMITTED["real"]["wrong_exercise"] == 0
    assert COMMITTED["rendered"]["false_alarm_rate"] <= 0.03


def test_crossval_scorer_counts_borderline_negatives_and_wrong_exercises():
    from formcheck.apps.crossval import LabelledClip, pooled, score_clip

    def f(rule, verdict):
        return {"rule_id": rule, "verdict": verdict, "value": 1.0, "unit": "deg"}

    rep = {"start_s": 0.0, "end_s": 3.0, "faults": ["head_back"]}
    clip = LabelledClip("x", Path("x.mp4"), {"exercise": "hip_thrust", "reps": [rep, {**rep, "start_s": 4.0,
                                                                                       "end_s": 7.0, "faults": []}]},
                        "train")
    det = {"exercise": "hip_thrust", "reps": [
        {"start_s": 0.1, "end_s": 3.0, "faults": [], "findings": [f("head_back", "borderline"), f("rocking", "pass")]},
        {"start_s": 4.1, "end_s": 7.0, "faults": ["rocking"], "findings": [f("head_back", "borderline"),
                                                                         f("rocking", "fail")]}]}
    s = score_clip(det, clip)
    assert s["rules"]["head_back"]["borderline_fault"] == 1 and s["rules"]["head_back"]["borderline_clean"] == 1
    assert s["rules"]["rocking"]["fp"] == 1 and s["rules"]["rocking"]["tn"] == 1
    p = pooled([s])
    assert p["fault_recall"] == 0.0 and p["judged_share"] == 1.0 and p["rep_count_exact"] == 1
    neg = LabelledClip("n", Path("n.mp4"), {"exercise": "push_up", "reps": [], "real_footage": True}, "real")
    bad = score_clip({"exercise": "hip_thrust", "reps": [det["reps"][1]]}, neg)
    assert bad["reps"] == 1 and pooled([bad])["rep_count_exact"] == 0 and bad["rules"]["rocking"]["fp"] == 1
    bridge = LabelledClip("b", Path("b.mp4"), {"exercise": "glute_bridge", "reps": [rep]}, "real")
    assert pooled([score_clip(det, bridge)])["wrong_exercise"] == 1


def test_scoring_counts_false_and_hidden_passes():
    """The scorer itself: a made-up report against a made-up truth, every branch once."""
    from formcheck.apps.evaluate import aggregate, score_clip

    def finding(rule, verdict):
        return {"rule_id": rule, "verdict": verdict, "value": 1.0, "unit": "deg"}

    truth = {"name": "x", "load": {"type": "barbell", "plate_radius_m": 0.225},
             "reps": [{"start_s": 0, "end_s": 3, "lockout_start_s": 1, "lockout_end_s": 2, "faults": ["head_back"],
                       "truth": {"knee_deg_at_lockout": 90, "hip_deg_at_lockout": 178, "neck_ext_deg": 40, "hold_s": 1}},
                      {"start_s": 4, "end_s": 7, "lockout_start_s": 5, "lockout_end_s": 6, "faults": [],
                       "truth": {"knee_deg_at_lockout": 90, "hip_deg_at_lockout": 178, "neck_ext_deg": -25, "hold_s": 1}}]}
    report = {"detection_rate": 1.0, "reps": [
        {"start_s": 0.2, "end_s": 3.1, "lockout_start_s": 1.1, "lockout_end_s": 2.0, "hold_s": 0.9,
         "metrics": {"knee_deg": 92, "hip_deg": 179, "neck_ext_deg": 35},
         "findings": [finding("head_back", "not_judged"), finding("feet_too_far", "pass"), finding("no_pause", "fail")]},
        {"start_s": 9, "end_s": 10, "lockout_start_s": 9.4, "lockout_end_s": 9.6, "hold_s": 0.2, "metrics": {},
         "findings": [finding("rocking", "fail")]}]}
    m = aggregate([score_clip(report, truth)])
    r = m["rules"]
    assert r["head_back"]["not_judged"] == 1 and r["head_back"]["fn"] == 0
    assert r["feet_too_far"]["pass_hidden"] == 1            # a pass where the hips are hidden is an error
    assert r["no_pause"]["fp"] == 1 and r["rocking"]["fp"] == 1   # wrong fail; fail on an unmatched rep
    assert m["rep_count"]["exact"] == 1     # 2 found, 2 labelled: the count is right even if one rep is not
    assert m["clips"][0]["mismatches"][-1] == "labelled rep 2 not found"


def test_the_knee_fit_undoes_a_compressed_range_and_the_geometry_applies_it():
    """A model that reads the knee compressed about 90 (raw = 90 + 0.9 (truth - 90) + 2, plus noise) is fitted
    back to scale 1/0.9 and offset -2 within the noise, by one over the slope of raw against truth: regressing
    truth on raw would shrink the scale under 1 with noise this size. The geometry then reads the truth back."""
    import dataclasses
    import random

    from formcheck.apps.crossval import LabelledClip, fit_calibration
    from formcheck.core.geometry import calibrated_knee_deg
    from formcheck.exercises import load_profile

    rng = random.Random(7)
    truths = [rng.uniform(50, 130) for _ in range(200)]
    reps_t, reps_d = [], []
    for i, t in enumerate(truths):
        raw = 90 + 0.9 * (t - 90) + 2 + rng.gauss(0, 4)
        reps_t.append({"start_s": 10 * i, "end_s": 10 * i + 3, "faults": [], "truth": {"knee_deg_at_lockout": t}})
        reps_d.append({"start_s": 10 * i, "end_s": 10 * i + 3, "metrics": {"knee_deg": raw},
                       "findings": [{"rule_id": "feet_too_far", "verdict": "pass"}]})
    clip = LabelledClip("k", Path("k.mp4"), {"exercise": "hip_thrust", "reps": reps_t}, "train")
    base = load_profile().calibration
    cal = fit_calibration({"k": {"reps": reps_d}}, [clip], dataclasses.replace(base, knee_scale=1.0))
    assert cal.knee_scale == pytest.approx(1 / 0.9, abs=0.03)
    assert cal.knee_offset_deg == pytest.approx(-2 / 0.9, abs=0.8)
    for t in (60.0, 90.0, 120.0):
        assert calibrated_knee_deg(90 + 0.9 * (t - 90) + 2, cal) == pytest.approx(t, abs=1.0)
    assert calibrated_knee_deg(90.0, dataclasses.replace(cal, knee_offset_deg=-3.0)) == pytest.approx(87.0)
