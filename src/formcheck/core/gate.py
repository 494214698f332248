"""Does this rep look like the exercise, filmed from the side? Asked per rep, before anything is judged: a
movement that fails is not a rep (not counted, not judged), and the reason says what was seen instead.

Everything comes from a rep's metrics (`exercises.*.rules.rep_metrics`), thresholds from the profile's [gate].
Pure: no video, no model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from formcheck.core.config import Gate, Profile
from formcheck.core.judge import knee_rides_hip, limbs_jump, one_leg_off, thigh_still


@dataclass(frozen=True)
class GateResult:
    ok: bool
    seen: str = ""          # what the movement looked like instead, in the lifter's words ("" when ok)


def _f(m: dict, key: str) -> float:
    v = m.get(key)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan


def upright(torso_deg: float, shoulder_over_feet_torso: float, g: Gate) -> bool:
    """Standing or sitting up: the torso steeper than the gate's limit, with the shoulders high over the feet (or
    their height unseen). A steep bench filmed with the phone tilted reads past the angle too, but with the shoulders
    only a bench's height over the feet (r07 tilted 8 deg: -62 deg, 1.7 torso lengths; standing 2.3-3.5)."""
    sof = shoulder_over_feet_torso
    high = not math.isfinite(sof) or sof > g.upright_min_shoulder_over_feet_torso
    return math.isfinite(torso_deg) and torso_deg < -g.torso_upright_deg and high


def check_rep(m: dict[str, float], profile: Profile) -> GateResult:
    """The rep's movement against the profile's [gate]: lying (torso about horizontal at the top, not upright),
    knees bent at the top (a push-up or plank keeps them straight), on the back (face down, the knees bend towards
    the floor), the hips opening over the rep (a reverse crunch folds them) and doing the moving (a sit-up or crunch
    turns the torso about still hips: the thigh does not turn, nor does the hip point rise). A camera off the side
    still counts reps: the rules that need a side view say not judged instead (judge.hidden_reason)."""
    g = profile.gate
    top, bottom = _f(m, "torso_deg"), _f(m, "torso_bottom_deg")
    sof = _f(m, "shoulder_over_feet_torso")
    if upright(top, sof, g) or upright(bottom, sof, g):
        return GateResult(False, "the person is standing or upright (torso near vertical): film a hip thrust or "
                                 "glute bridge lying back, side-on")
    if math.isfinite(top) and not g.torso_top_min_deg <= top <= g.torso_top_max_deg:
        return GateResult(False, f"the torso does not come to about level at the top ({top:.0f} deg): not a hip "
                                 f"thrust or glute bridge")
    knee = _f(m, "knee_deg")
    rel = profile.reliability
    # The knee only speaks when the legs are where the model says (not split, limb lengths steady).
    legs_ok = not (math.isfinite(_f(m, "knee_split")) and _f(m, "knee_split") > rel.max_knee_split_torso
                   or limbs_jump(m, profile))
    single_leg = one_leg_off(m, profile)
    if single_leg:
        # One leg off the floor or the far leg misplaced: the legs are straight only if both are, and the near
        # leg's thigh says nothing about which end of the torso moved.
        knee = min(knee, _f(m, "knee_far_deg"))
    if (legs_ok or single_leg) and math.isfinite(knee) and knee > g.knee_top_max_deg:
        return GateResult(False, f"the legs stay straight at the top (knee {knee:.0f} deg): a push-up, plank or "
                                 f"hinge, not a hip thrust; plant the feet with the knees bent")
    # Face down (a kneeling push-up, rocking back on all fours): the knees bend towards the floor and the face
    # turns down. Asked only of legs the model keeps: a plate-confused model turns points round too.
    held = legs_ok and not _f(m, "lost_frac") > rel.max_lost_frac
    if held and _f(m, "knee_up_torso") < -g.face_down_knee_torso and _f(m, "neck_ext_deg") > g.face_down_neck_deg:
        return GateResult(False, "the person is face down (knees bent towards the floor, face turned down): a "
                                 "kneeling push-up or a move on all fours, not a hip thrust or glute bridge")
    legs_ok = legs_ok and not single_leg
    hip = _f(m, "hip_deg")
    rise, turn = _f(m, "torso_rise_deg"), _f(m, "thigh_turn_deg")
    # hip angle = thigh direction + torso angle, so over the rep it changes by turn + rise
    if legs_ok and math.isfinite(hip) and hip < g.hip_top_min_deg and turn + rise < 0:
        return GateResult(False, f"the hips fold at the top instead of opening (hip {hip:.0f} deg, {turn + rise:.0f} "
                                 f"deg over the rep): knees pulled in, a reverse crunch or knee raise, not a hip "
                                 f"thrust or glute bridge")
    # The thigh kept still while the torso rose: a sit-up, unless the hip point rose in the picture; then the
    # model's knee rode with the hips, and the judge leaves the hips and legs unjudged (judge.knee_rides_hip).
    if legs_ok and thigh_still(m, profile) and not knee_rides_hip(m, profile):
        return GateResult(False, f"the shoulders move and the hips stay down (thigh turns {turn:.0f} deg as the torso "
                                 f"turns {rise:.0f}): a sit-up or crunch, not a hip thrust or glute bridge")
    return GateResult(True)
