"""Every cue in coaching.md, judged per rep through the real tracker on synthetic side-view sequences.

Each row: what the rep does at the top -> the faults formcheck must report (and nothing else).
"""
import pytest

from formcheck.exercises import load_profile
from formcheck.exercises.hip_thrust import HIP_THRUST

RULE_IDS = HIP_THRUST.rule_ids
from formcheck.core.tracker import SetTracker
from synth import rep_profile, synthetic_profile

SHIPPED = load_profile()
PROFILE = synthetic_profile(SHIPPED)
HEEL_5CM_PX = (5.0 + PROFILE.calibration.heel_drift_cm) * 130.0 / (PROFILE.calibration.shin_length_m * 100)

CASES = [
    # (name, rep spec, expected faults)
    ("clean", {}, set()),
    ("feet too far: knee 122", {"knee_deg": 122}, {"feet_too_far"}),
    ("feet too close: knee 62", {"knee_deg": 62}, {"feet_too_close"}),
    ("lumbar: hip 198", {"top_hip_deg": 198, "top_torso_deg": 15}, {"lumbar_hyperextension"}),
    ("partial: hip 152", {"top_hip_deg": 152, "top_torso_deg": -10}, {"partial_lockout"}),
    ("head thrown back +40", {"neck_ext_deg": 40}, {"head_back"}),
    # the synthetic hold_s is the flat top only; the rendered labels (and so the fitted hold) count the ~0.3 s
    # within 1 cm of the peak on either side too
    ("touch and go: hold 0.05 s", {"hold_s": 0.05}, {"no_pause"}),
    ("rocking: shoulders slide 0.27 torso", {"shoulder_dx_px": 0.27 * 150}, {"rocking"}),
    ("heels lift 5 cm", {"heel_lift_px": HEEL_5CM_PX}, {"heel_lift"}),
    ("two faults at once", {"knee_deg": 122, "neck_ext_deg": 40}, {"feet_too_far", "head_back"}),
    ("just inside every threshold", {"knee_deg": 103, "top_hip_deg": 188, "neck_ext_deg": 15, "hold_s": 0.8}, set()),
]


def track(reps, fps=30.0):
    tr = SetTracker([(HIP_THRUST, PROFILE)])
    states = [tr.update(p) for p in rep_profile(None, reps, fps)]
    return tr.finish(), states


@pytest.mark.parametrize("fps", [30.0, 60.0])
@pytest.mark.parametrize("name,spec,faults", CASES, ids=[c[0] for c in CASES])
def test_each_cue(name, spec, faults, fps):
    reps, _ = track([{}, spec], fps)
    assert len(reps) == 2
    assert set(reps[0].faults) == set(), "the clean first rep must stay clean"
    assert set(reps[1].faults) == faults
    assert {f.rule_id for f in reps[1].findings} == set(RULE_IDS)
    assert all(f.verdict != "not_judged" for f in reps[1].findings)


def _heel(reps, profile):
    tr = SetTracker([(HIP_THRUST, profile)])
    for p in rep_profile(None, reps, 30.0):
        tr.update(p)
    return [r.finding("heel_lift") for r in tr.finish()]


def test_heel_lift_on_planted_feet_is_judged_with_the_shipped_profile():
    clean, lifted = _heel([{"planted": True}, {"planted": True, "heel_lift_px": HEEL_5CM_PX}], SHIPPED)
    assert clean.verdict == "pass" and lifted.verdict == "fail"


def test_a_heel_lift_the_heel_point_does_not_confirm_is_borderline():
    """The lift is read from the ankle's rise over the toe; the heel point's own rise is a second reading of the
    same lift. Both past the band: a fault. The heel point left on the floor while the ankle reads 5 cm (the
    foot's points disagree, as on a mirrored real clip): borderline with both readings, not a fault."""
    cm_px = 130.0 / (SHIPPED.calibration.shin_length_m * 100)
    stuck = HEEL_5CM_PX * (1 + 1 / SHIPPED.calibration.heel_per_ankle_rise) - 1.0 * cm_px   # heel point reads 1 cm
    clean, both, ankle_only = _heel([{"planted": True}, {"planted": True, "heel_lift_px": HEEL_5CM_PX},
                                     {"planted": True, "heel_lift_px": HEEL_5CM_PX, "heel_point_drop_px": stuck}],
                                    SHIPPED)
    assert clean.verdict == "pass" and both.verdict == "fail"
    assert ankle_only.verdict == "borderline" and ankle_only.value == pytest.approx(both.value, abs=0.3)
    assert "second reading" in ankle_only.reason and "1.0 cm" in ankle_only.reason


def test_heel_lift_is_not_judged_when_the_toe_slides():
    """A toe that moves between the rest and the hold (here the fixed-hip skeleton's feet swing ~20 cm) means the
    foot's points are not where the foot is: no heel verdict, with the reason."""
    for f in _heel([{}, {"heel_lift_px": HEEL_5CM_PX}], SHIPPED):
        assert f.verdict == "not_judged" and "slide" in f.reason


def test_facing_left_gives_the_same_verdicts():
    right, _ = track([{"knee_deg": 62}, {"neck_ext_deg": 40}])
    left, _ = track([{"knee_deg": 62, "head_right": False}, {"neck_ext_deg": 40, "head_right": False}])
    assert [r.faults for r in left] == [r.faults for r in right] == [["feet_too_close"], ["head_back"]]


def test_legs_confused_by_a_plate_are_not_judged_not_passed():
    reps, _ = track([{"knee_split_px": 180.0}])
    (rep,) = reps
    verdicts = {f.rule_id: f.verdict for f in rep.findings}
    assert verdicts["no_pause"] == "pass"   # the hold comes from the drive signal, still measurable
    for r in ("feet_too_far", "feet_too_close", "lumbar_hyperextension", "partial_lockout", "head_back", "heel_lift"):
        assert verdicts[r] == "not_judged"
        assert "split" in rep.finding(r).reason


def test_findings_carry_value_range_unit_and_cue():
    reps, _ = track([{"knee_deg": 122}])
    f = reps[0].finding("feet_too_far")
    assert f.verdict == "fail" and f.unit == "deg" and f.expected == "<= 105"
    assert f.value == pytest.approx(122, abs=1.0)
    assert "feet closer" in f.cue
    assert reps[0].lockout_start_s <= f.t_s <= reps[0].lockout_end_s


def test_cue_is_live_from_the_top_until_the_next_rep_starts():
    reps, states = track([{"neck_ext_deg": 40}, {}])
    judged = [s for s in states if s.new_findings]
    assert len(judged) == 1 and judged[0].new_findings[0].rule_id == "head_back"
    shown = [s.t_s for s in states if any(f.rule_id == "head_back" for f in s.active)]
    assert shown[0] == judged[0].t_s
    assert reps[0].lockout_end_s < shown[0] < reps[1].start_s + 0.5
    assert max(shown) < reps[1].lockout_start_s


def test_rep_times_and_durations():
    reps, _ = track([{}, {"hold_s": 2.0}])
    # hold = time within the top band of the peak, as the rendered labels count it (fitted lag 0 s): the
    # synthetic flat top plus the ~0.3 s of approach and departure inside the band
    assert reps[1].hold_s == pytest.approx(2.0 + 0.3, abs=0.25)
    assert 0.5 < reps[1].up_s < 1.2 and 0.3 < reps[1].down_s < 1.5
    assert reps[0].end_s <= reps[1].start_s


def test_just_past_a_threshold_is_borderline_not_a_fault():
    """Within the profile's band past the threshold the measurement cannot tell: 'borderline', never a fault."""
    band = PROFILE.thresholds["feet_too_far.band_deg"]
    assert band > 0
    reps, _ = track([{}, {"knee_deg": 105 + 0.5 * band}, {"knee_deg": 105 + band + 6}])
    near, far = reps[1].finding("feet_too_far"), reps[2].finding("feet_too_far")
    assert near.verdict == "borderline" and "feet_too_far" not in reps[1].faults and "uncertainty" in near.reason
    assert far.verdict == "fail" and reps[2].faults == ["feet_too_far"]
    assert (near.lo, near.hi) == (None, 105.0)


def test_a_movement_that_is_not_the_exercise_is_not_a_rep():
    """The gate: a rep whose knees stay straight at the top (a push-up, a plank) is not counted or judged."""
    reps, _ = track([{}, {"knee_deg": 170}, {}])
    assert len(reps) == 2


@pytest.mark.parametrize("sit_up_torso_deg", [-25.0, -40.0, -55.0])
def test_sit_ups_and_crunches_are_not_reps(sit_up_torso_deg):
    """Lying back down from a sit-up raises the torso angle as a hip thrust does, from a bench-like start to level,
    with bent knees: only which end moved tells them apart (the gate's thigh turn). Not one counted, and the clip
    says what was seen."""
    from formcheck.exercises import candidates
    from synth import crunch_profile

    tr = SetTracker(candidates("auto"))
    for p in crunch_profile(5, sit_up_torso_deg=sit_up_torso_deg):
        tr.update(p)
    assert tr.finish() == []
    assert len(tr.rejected) >= 4 and "sit-up or crunch" in tr.no_rep_reason()


def test_a_knee_point_riding_the_hips_counts_the_rep_and_leaves_the_legs_unjudged():
    """The sit-up test asks which end moved from the thigh's turn. With the model's knee on the plate the thigh
    keeps its direction while the hips rise (mirrored r05: hips up 0.28 torso lengths, thigh turn 1 deg), and the
    rep was refused as a sit-up. The hip point rising in the picture says the hips moved: the rep counts, and the
    rules on the hips and legs are not judged, because the knee point is not where the knee is."""
    from formcheck.exercises import candidates
    from synth import legs_ride_the_hips

    tr = SetTracker(candidates("auto"))
    for p in legs_ride_the_hips(4):
        tr.update(p)
    reps = tr.finish()
    assert len(reps) == 4, tr.rejected
    for r in reps:
        assert r.metrics["hip_rise_torso"] > 0.3 and abs(r.metrics["thigh_turn_deg"]) < 1
        for rule in ("feet_too_far", "feet_too_close", "lumbar_hyperextension", "partial_lockout", "head_back"):
            f = r.finding(rule)
            assert f.verdict == "not_judged" and "knee moved with the hips" in f.reason, (rule, f)


@pytest.mark.parametrize("hips_up_deg, knees_in_deg", [(15.0, 80.0), (20.0, 70.0), (25.0, 50.0)])
def test_reverse_crunches_are_not_bridges(hips_up_deg, knees_in_deg):
    """A reverse crunch rolls the hips off the floor (the torso angle rises as in a bridge) by pulling the knees
    in: the hip angle closes where a bridge opens it."""
    from formcheck.exercises import candidates
    from synth import crunch_profile

    tr = SetTracker(candidates("auto"))
    for p in crunch_profile(5, sit_up_torso_deg=hips_up_deg, knees_in_deg=knees_in_deg):
        tr.update(p)
    assert tr.finish() == []
    assert "reverse crunch" in tr.no_rep_reason()


@pytest.mark.parametrize("move", [
    dict(torso_from_deg=-20.0, torso_to_deg=2.0, hip_from_deg=180.0, hip_to_deg=180.0, knee_from_deg=115.0,
         knee_to_deg=135.0),                      # kneeling push-up, feet up
    dict(torso_from_deg=-30.0, torso_to_deg=0.0, hip_from_deg=45.0, hip_to_deg=95.0, knee_from_deg=35.0,
         knee_to_deg=95.0),                       # rocking forward on all fours from the heels
    dict(torso_from_deg=-20.0, torso_to_deg=2.0, hip_from_deg=180.0, hip_to_deg=180.0, knee_from_deg=115.0,
         knee_to_deg=135.0, neck_ext_deg=75.0),   # the push-up looking ahead, not down
])
def test_moves_face_down_are_not_reps(move):
    """Face down, the torso can rise from a bench-like angle to level over bent knees just as in a hip thrust (a
    kneeling push-up lowering the chest, rocking forward on all fours): the knees bending towards the floor and
    the face turned down tell them apart. Not one counted, and the clip says what was seen."""
    from formcheck.exercises import candidates
    from synth import face_down_profile

    tr = SetTracker(candidates("auto"))
    for p in face_down_profile(5, **move):
        tr.update(p)
    assert tr.finish() == []
    assert len(tr.rejected) >= 4 and "face down" in tr.no_rep_reason()


def test_reps_whose_torso_rises_only_a_little_still_count():
    """The thigh-turn gate must not take a small rep for a crunch: a partial rep (torso -26 -> -10, hip 125 -> 152)
    turns the thigh about as much as the torso."""
    reps, _ = track([{}, {"top_hip_deg": 152, "top_torso_deg": -10}, {}])
    assert len(reps) == 3
    assert reps[1].metrics["thigh_turn_deg"] > 0.5 * reps[1].metrics["torso_rise_deg"] > 0


@pytest.mark.parametrize("raised", ["left", "right"])
def test_a_single_leg_set_counts_and_leaves_the_legs_unjudged(raised):
    """A single-leg hip thrust with the free leg out straight. Raised on the near side, the measured knee reads
    ~180 (it was refused as "legs straight: a push-up"). Raised on the far side, the near leg is the working one
    but the model's far leg cannot be trusted to say so. Either way: every rep counts, the rules on the legs and
    the hip angle say not judged with the reason, and the head, pause and rocking are judged."""
    from synth import raise_leg

    tr = SetTracker([(HIP_THRUST, PROFILE)])
    for p in raise_leg(rep_profile(None, [{}, {"neck_ext_deg": 40}, {}], 30.0), raised):
        tr.update(p)
    reps = tr.finish()
    assert len(reps) == 3
    for r in reps:
        legs = {f.rule_id: f for f in r.findings if f.rule_id in ("feet_too_far", "feet_too_close",
                                                                   "lumbar_hyperextension", "partial_lockout")}
        assert {f.verdict for f in legs.values()} == {"not_judged"}
        assert all("single-leg" in f.reason for f in legs.values())
        assert r.finding("rocking").verdict == "pass" and r.finding("no_pause").verdict == "pass"
    assert reps[1].faults == ["head_back"] and reps[0].faults == reps[2].faults == []


PARTIAL_7DEG = {"top_torso_deg": -19.0, "top_hip_deg": 143.0}   # the torso rises 7 deg (t17, t39 rise 6.5-7.7)


def test_a_partial_rep_within_a_set_counts_and_is_judged():
    """A rep whose torso rises only 7 deg (under rise_deg) counts once a rep has, and its lockout is judged."""
    reps, _ = track([{}, PARTIAL_7DEG, {}])
    assert len(reps) == 3
    assert "partial_lockout" in reps[1].faults


def test_a_small_rise_counts_only_within_a_set_and_only_when_it_holds_the_top():
    """Before any rep (settling on the bench) a 7 deg rise is no rep; within a set, one that does not hold the top
    (a plate's jumping hip point makes such brief rises) is none either."""
    reps, _ = track([PARTIAL_7DEG, {}])
    assert len(reps) == 1
    tr = SetTracker([(HIP_THRUST, PROFILE)])
    for p in rep_profile(None, [{}, {**PARTIAL_7DEG, "hold_s": 0.0}, {}], 30.0):
        tr.update(p)
    assert len(tr.finish()) == 2
    assert any("did not hold the top" in why for _, why in tr.rejected)


BRIDGE = {"bottom_torso_deg": 2.0, "top_torso_deg": 25.0}   # shoulders on the floor: the torso starts flat


def test_auto_tells_a_glute_bridge_from_a_hip_thrust_by_the_set_up():
    from formcheck.exercises import candidates

    for reps_spec, want in (([{}, {}], "hip_thrust"), ([BRIDGE, BRIDGE], "glute_bridge")):
        tr = SetTracker(candidates("auto"))
        for p in rep_profile(None, reps_spec, 30.0):
            tr.update(p)
        assert len(tr.finish()) == 2 and tr.exercise.name == want
        assert {f.rule_id for f in tr.reps[0].findings} == set(tr.exercise.rule_ids)
    assert "rocking" not in tr.exercise.rule_ids


def test_a_bridge_named_a_hip_thrust_is_refused_with_what_was_seen():
    tr = SetTracker([(HIP_THRUST, PROFILE)])
    for p in rep_profile(None, [BRIDGE, BRIDGE], 30.0):
        tr.update(p)
    assert tr.finish() == [] and "a glute bridge, not a hip thrust" in tr.no_rep_reason()


def _knee_verdict(**m):
    from formcheck.core.judge import judge_metrics

    base = {"knee_deg": 90.0, "knee_deg_valid": 1.0, "knee_deg_iqr": 1.0, "hip_deg": 180.0, "hip_deg_valid": 1.0,
            "hip_deg_iqr": 1.0, "knee_split": 0.1, "hip_split": 0.05}
    return {f.rule_id: f for f in judge_metrics({**base, **m}, HIP_THRUST, SHIPPED, 1.0)}["feet_too_far"]


def test_limb_lengths_that_jump_only_in_the_image_are_an_oblique_view_not_a_hidden_joint():
    rel = SHIPPED.reliability
    jumpy = {"thigh_torso_spread": rel.max_thigh_torso_spread + 0.06, "shin_torso_spread": 0.1}
    # off the side the image lengths change with the limb's angle; steady 3-D lengths say the joints are seen
    assert _knee_verdict(**jumpy, limb_world_spread=rel.max_world_limb_spread - 0.03).verdict == "pass"
    # the 3-D lengths jump too: the model is guessing where a hidden joint is
    f = _knee_verdict(**jumpy, limb_world_spread=rel.max_world_limb_spread + 0.1)
    assert f.verdict == "not_judged" and "lengths jump" in f.reason
    # no 3-D points: the image alone decides, as before
    assert _knee_verdict(**jumpy, limb_world_spread=float("nan")).verdict == "not_judged"
    assert _knee_verdict(thigh_torso_spread=0.05, shin_torso_spread=0.05, limb_world_spread=0.9).verdict == "pass"


def test_the_hold_is_not_timed_when_the_hip_point_is_a_guess():
    """The hold is timed from the torso angle, whose hip end is the model's hip point: when the limb lengths say
    that point is a guess (a plate over the hips), a short hold is not a fault (t14, t15, t27 and t38 under 32-45 cm
    plates read clean holds as 0.16-0.38 s) but not judged, with the reason; with steady limbs it is judged."""
    from formcheck.core.judge import judge_metrics

    rel = SHIPPED.reliability
    base = {"hold_s": 0.2, "drive_jitter_deg": 0.05, "hip_deg_valid": 1.0, "knee_split": 0.1, "hip_split": 0.05,
            "shin_torso_spread": 0.05}

    def pause(**m):
        return {f.rule_id: f for f in judge_metrics({**base, **m}, HIP_THRUST, SHIPPED, 1.0)}["no_pause"]

    assert pause(thigh_torso_spread=0.05).verdict == "fail"
    hidden = pause(thigh_torso_spread=rel.max_thigh_torso_spread + 0.2, limb_world_spread=0.5)
    assert hidden.verdict == "not_judged" and "hold is timed from it" in hidden.reason


def _put_over_the_thighs(p, moved):
    """The model's garbage under plates (t38): `moved` ("head": the nose, eyes, ears and shoulders; "shoulders":
    those alone) put over the thighs, between the hip and the knee, while the legs stay put. The shoulders still lie
    on the head's side of the ankles (the old check's test)."""
    import numpy as np
    from formcheck.core.skeleton import LM
    from formcheck.core.types import PoseFrame
    xy = p.xy_px.copy()
    hip = xy[[LM.LEFT_HIP, LM.RIGHT_HIP]].mean(0)
    knee = xy[[LM.LEFT_KNEE, LM.RIGHT_KNEE]].mean(0)
    fake = hip + 0.6 * (knee - hip) + np.array([0.0, -40.0])
    head = (LM.NOSE, LM.LEFT_EYE, LM.RIGHT_EYE, LM.LEFT_EAR, LM.RIGHT_EAR) if moved == "head" else ()
    for i in head + (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER):
        xy[i] = fake + np.array([0.0, -10.0 if i == LM.NOSE else 0.0])
    return PoseFrame(p.t_s, xy, p.visibility.copy(), True)


@pytest.mark.parametrize("moved", ["head", "shoulders"])
@pytest.mark.parametrize("head_right", [True, False])
def test_frames_with_the_head_put_over_the_thighs_are_dropped_not_measured(head_right, moved):
    """Under plates the model puts the head and shoulders over the thighs for stretches of a rep (t38: 446 of its
    467 misplaced frames have the nose or the shoulders on the feet's side of the hip; 2 of 26,476 good frames on
    sample + train). Read as a torso, such a frame is a rep's bottom in the middle of the hold: the set counted
    none of its 3 reps. Dropped, the reps count, and each says how much of it the model lost."""
    frames = rep_profile(None, [{"head_right": head_right}] * 3, 30.0)
    out, n_bad = [], 0
    for i, p in enumerate(frames):
        top = 1.7 <= p.t_s % 3.8 <= 2.9     # each rep's hold: after 0.8 s rest and 0.9 s up, for 1.2 s
        if top and (i // 4) % 2 == 0:       # 4 frames misplaced, 4 right, in turn
            p, n_bad = _put_over_the_thighs(p, moved), n_bad + 1
        out.append(p)
    assert n_bad > 30
    tr = SetTracker([(HIP_THRUST, PROFILE)])
    for p in out:
        tr.update(p)
    reps = tr.finish()
    assert len(reps) == 3
    for rep in reps:
        assert rep.metrics["lost_frac"] > SHIPPED.reliability.max_lost_frac
        for f in rep.findings:
            assert f.verdict == "not_judged" and "lost the body" in f.reason, f


def test_a_rep_too_short_to_check_its_limbs_or_time_its_drive_is_not_judged():
    """Fewer than 5 frames with the limbs seen (the limb spreads NaN) or 7 of the drive (no jitter figure): the
    checks that tell a guessed joint cannot run, so the rules they guard say not judged rather than pass."""
    from formcheck.core.judge import judge_metrics
    steady = {"thigh_torso_spread": 0.05, "shin_torso_spread": 0.05, "drive_jitter_deg": 0.05}
    assert _knee_verdict(**steady).verdict == "pass"
    f = _knee_verdict(**{**steady, "thigh_torso_spread": float("nan"), "shin_torso_spread": float("nan")})
    assert f.verdict == "not_judged" and "too few frames" in f.reason
    m = {"hold_s": 1.5, "drive_jitter_deg": 0.05}
    hold = {f.rule_id: f for f in judge_metrics(m, HIP_THRUST, SHIPPED, 1.0)}["no_pause"]
    assert hold.verdict == "pass"
    hold = {f.rule_id: f for f in judge_metrics({**m, "drive_jitter_deg": float("nan")}, HIP_THRUST, SHIPPED, 1.0)}
    assert hold["no_pause"].verdict == "not_judged" and "too few frames" in hold["no_pause"].reason


@pytest.mark.parametrize("among, torso_bottom_deg, shoulder_over_feet, want", [
    ("auto", 2.0, 0.2, ["glute_bridge"]), ("auto", -26.0, 0.9, ["hip_thrust"]),   # clear: the angle decides
    ("auto", -9.0, 0.32, ["glute_bridge"]),   # r11 (a floor bridge) filmed 8 deg tilted: shoulders on the floor
    ("glute_bridge", -9.0, 0.32, ["glute_bridge"]),   # ... and its later reps, once the set is a bridge
    ("auto", -9.0, 0.9, ["hip_thrust"]),      # past the line with the shoulders on a bench: a thrust
    ("auto", -9.0, float("nan"), ["hip_thrust"]),     # no height to go by: the angle's side of the line
    ("auto", -16.0, 0.1, ["hip_thrust"]),     # beyond the bridge's 7 deg the height is not asked (plates spoil it)
    ("hip_thrust", -5.0, 0.9, []),            # the thrust takes no tolerance: its clips read >= 8 deg inside
])
def test_near_the_bench_floor_line_the_shoulders_height_decides(among, torso_bottom_deg, shoulder_over_feet, want):
    from formcheck.core.tracker import fitting_candidates
    from formcheck.exercises import candidates

    fits = fitting_candidates(torso_bottom_deg, shoulder_over_feet, candidates(among))
    assert [ex.name for ex, _ in fits] == want


def test_a_steep_torso_is_upright_only_with_the_shoulders_high_over_the_feet():
    from formcheck.core.gate import check_rep

    steep = {"torso_deg": -20.0, "torso_bottom_deg": -62.0}
    assert "standing or upright" in check_rep({**steep, "shoulder_over_feet_torso": 2.5}, SHIPPED).seen
    assert "standing or upright" in check_rep(steep, SHIPPED).seen      # height not measured: the angle alone
    # r07's steep bench filmed 8 deg tilted: shoulders 1.7 torso lengths over the feet, not standing
    assert "standing or upright" not in check_rep({**steep, "shoulder_over_feet_torso": 1.7}, SHIPPED).seen
