"""Rep metrics in, one finding per rule of the exercise out. Pure.

A rule says "not_judged" with the reason when the landmarks its metric needs were hidden or unreliable in that
rep: a wrong verdict said confidently is worse than none.
"""
from __future__ import annotations

import math

from formcheck.core.config import Profile
from formcheck.core.exercise import Exercise, Rule
from formcheck.core.types import Finding


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _over(m: dict[str, float], key: str, limit: float) -> bool:
    """The metric is measured (finite) and above limit."""
    v = m.get(key, math.nan)
    return _finite(v) and v > limit


def limbs_jump(m: dict[str, float], profile: Profile) -> bool:
    """The thigh or shin length against the torso jumps within the rep: the model is guessing a hidden joint.

    Measured in the image, where a limb keeps its length in a side view. Off the side the image lengths change
    with the limb's angle too (a thigh going level shortens by up to cos(yaw)), so an image jump only counts
    when the model's 3-D world lengths jump as well (or are missing)."""
    rel = profile.reliability
    image = _over(m, "thigh_torso_spread", rel.max_thigh_torso_spread) or \
        _over(m, "shin_torso_spread", rel.max_shin_torso_spread)
    world = m.get("limb_world_spread", math.nan)
    world_steady = world is not None and math.isfinite(world) and world <= rel.max_world_limb_spread
    return image and not world_steady


def _jump(m: dict[str, float]) -> str:
    """How far the limb lengths jumped, for a reason."""
    return (f"thigh and shin lengths jump by {100 * (m.get('thigh_torso_spread') or 0):.0f}% / "
            f"{100 * (m.get('shin_torso_spread') or 0):.0f}%")


def one_leg_off(m: dict[str, float], profile: Profile) -> bool:
    """The near and far knee differ at the top by more than a two-legged rep does: one leg is off the floor (a
    single-leg rep) or the far leg is misplaced, so the near leg may not be the working one."""
    return _over(m, "knee_side_diff_deg", profile.reliability.max_knee_side_diff_deg)


def thigh_still(m: dict[str, float], profile: Profile) -> bool:
    """The torso rose but the thigh hardly turned: in a sit-up the hips stay down; see knee_rides_hip."""
    rise, turn = m.get("torso_rise_deg", math.nan), m.get("thigh_turn_deg", math.nan)
    limit = profile.gate.min_thigh_turn_per_torso_rise
    return _finite(rise) and _finite(turn) and rise > 0 and abs(turn) < limit * rise


def knee_rides_hip(m: dict[str, float], profile: Profile) -> bool:
    """The hip point rose in the picture while the thigh kept its direction or turned the wrong way (by no more than
    the torso rose: a turn of a hundred degrees is points swapped or an angle wrapped, not a knee): the knee point
    rose with the hips, which a knee over planted feet cannot do. The model has put the knee on what moves with the
    hips (a plate, the bar)."""
    rise, turn = m.get("torso_rise_deg", math.nan), m.get("thigh_turn_deg", math.nan)
    hip_rise = m.get("hip_rise_torso", math.nan)
    return (_finite(rise) and _finite(turn) and _finite(hip_rise) and rise > 0
            and hip_rise >= profile.gate.min_hip_rise_torso
            and -rise < turn < profile.gate.min_thigh_turn_per_torso_rise * rise)


def hidden_reason(m: dict[str, float], rule: Rule, profile: Profile) -> str:
    """Why `rule` cannot be judged on a rep with metrics `m` ("" when it can)."""
    rel = profile.reliability

    def over(key: str, limit: float) -> bool:
        return _over(m, key, limit)

    if rule.needs & {"legs", "hips", "drive"} and over("lost_frac", rel.max_lost_frac):
        return (f"the model lost the body in {100 * m['lost_frac']:.0f}% of the rep (it put the head over the thighs: "
                f"a plate may cover the hips)")
    if rule.needs & {"legs", "hips"}:
        # Whatever fools the model about the legs (a plate in front of the hips) also leaves the hip point a guess.
        if over("knee_split", rel.max_knee_split_torso) or over("hip_split", rel.max_hip_split_torso):
            return (f"hips/legs hidden or misplaced: the model split the near and far leg (knees "
                    f"{m.get('knee_split') or math.nan:.2f}, hips {m.get('hip_split') or math.nan:.2f} torso lengths "
                    f"apart; a plate may cover them, or the camera is far off the side)")
        if knee_rides_hip(m, profile):
            return (f"hips/legs misplaced: the hips rose {m['hip_rise_torso']:.2f} torso lengths but the thigh turned "
                    f"{m['thigh_turn_deg']:.0f} deg, so the model's knee moved with the hips (a plate may cover them)")
        if "legs" in rule.needs and one_leg_off(m, profile):
            return (f"one leg off the floor (a single-leg rep?): the near and far knee differ by "
                    f"{m['knee_side_diff_deg']:.0f} deg at the top, so the near leg may not be the working one")
        # A limb's length against the torso is constant in a side view: when it jumps within the rep, the model
        # is guessing where a hidden joint is; with under 5 frames of the limbs it cannot be checked (t37 under
        # 45 cm plates: a rep found in the few frames the model did not lose read feet too far and a partial
        # lockout on a clean rep).
        if not (_finite(m.get("thigh_torso_spread")) or _finite(m.get("shin_torso_spread"))):
            return "hips/legs not checked: too few frames of the hips and legs in this rep (a plate may cover them)"
        if limbs_jump(m, profile):
            return f"hips/legs hidden or misplaced: {_jump(m)} within the rep (a plate or bar pad may cover the hips)"
    if "feet" in rule.needs and over("toe_slide_cm", rel.max_toe_slide_cm):
        return (f"the foot's points slide ({m['toe_slide_cm']:.1f} cm at the toe between the rest and the hold, "
                f"where the foot is planted): the camera may be far off the side")
    if "drive" in rule.needs and limbs_jump(m, profile):
        return (f"the hip point is a guess ({_jump(m)} within the rep: a plate may cover the hips), and the hold is "
                f"timed from it")
    if "drive" in rule.needs and not _finite(m.get("drive_jitter_deg")):
        return ("too few frames of the drive in this rep to time it (the model lost the body: a plate may cover "
                "the hips)")
    if "drive" in rule.needs and over("drive_jitter_deg", rel.max_drive_jitter_deg):
        return (f"the hip point jumps from frame to frame ({m['drive_jitter_deg']:.2f} deg): times read from the "
                f"hips' rise are not measurable (a plate may cover the hips)")
    valid = m.get(f"{rule.valid_key}_valid", 1.0)
    if valid < rel.min_frac_valid:
        return f"landmarks hidden in {100 * (1 - valid):.0f}% of the hold"
    iqr = m.get(f"{rule.valid_key}_iqr", math.nan)
    if math.isfinite(iqr) and iqr > rel.max_lockout_iqr_deg:
        return f"angle unstable during the hold (spread {iqr:.1f} deg)"
    return ""


def band(rule: Rule, m: dict[str, float], profile: Profile) -> float:
    """How far past the threshold a value must lie to be a fault: the profile's band (the cross-validated error
    of the measure), widened by half the angle's spread over the hold where the landmarks wobble in this rep."""
    b = profile.thresholds[f"{rule.id}.{rule.band_key}"]
    iqr = m.get(f"{rule.valid_key}_iqr", math.nan)
    if rule.unit == "deg" and math.isfinite(iqr):
        b += 0.5 * iqr
    return b


def judge_rule(rule: Rule, m: dict[str, float], profile: Profile, t_s: float) -> Finding:
    thr = profile.thresholds[rule.key]
    lo, hi = rule.bounds(thr)
    expected = rule.expected(thr)
    why = hidden_reason(m, rule, profile)
    value = m.get(rule.metric, math.nan)
    if not why and not math.isfinite(value):
        why = "not measurable in this rep"
    if why:
        return Finding(rule.id, "not_judged", None, rule.unit, expected, t_s, "", why, lo, hi)
    if not rule.fails(value, thr):
        return Finding(rule.id, "pass", round(value, 2), rule.unit, expected, t_s, "", "", lo, hi)
    b = band(rule, m, profile)
    if abs(value - thr) <= b:
        return Finding(rule.id, "borderline", round(value, 2), rule.unit, expected, t_s, "",
                       f"within {b:.2g} {rule.unit} of the threshold: inside the measurement's uncertainty, check "
                       f"this", lo, hi)
    if rule.confirm:
        other = m.get(rule.confirm, math.nan)
        if not (_finite(other) and rule.fails(other, thr) and abs(other - thr) > b):
            return Finding(rule.id, "borderline", round(value, 2), rule.unit, expected, t_s, "",
                           f"a second reading from other points gives {other:.1f} {rule.unit}: the two disagree by "
                           f"more than the uncertainty, check this", lo, hi)
    return Finding(rule.id, "fail", round(value, 2), rule.unit, expected, t_s, rule.cue_long, "", lo, hi)


def judge_metrics(m: dict[str, float], exercise: Exercise, profile: Profile, t_s: float) -> tuple[Finding, ...]:
    """Every rule of the exercise, in its order."""
    return tuple(judge_rule(r, m, profile, t_s) for r in exercise.rules)
