"""The hip thrust: upper back on a bench, feet on the floor, hips driven up to a level torso (side view)."""
from __future__ import annotations

from formcheck.core.exercise import Exercise, PlotSpec, Rule
from formcheck.exercises.hip_thrust.rules import judge_rep

LEGS_HIPS = frozenset({"legs", "hips"})
HIPS = frozenset({"hips"})

RULES = (
    Rule("feet_too_far", "knee_deg", "deg", "max", "knee_max_deg", LEGS_HIPS, "feet closer",
         "Bring your feet closer to the bench so the shins are vertical at the top.", "knee at lockout", "knee"),
    Rule("feet_too_close", "knee_deg", "deg", "min", "knee_min_deg", LEGS_HIPS, "feet out",
         "Walk your feet a little further out so the shins are vertical at the top.", "knee at lockout", "knee"),
    Rule("lumbar_hyperextension", "hip_deg", "deg", "max", "hip_max_deg", LEGS_HIPS, "ribs down",
         "Ribs down, tuck the pelvis: finish with the glutes, not by arching the lower back.", "lower back", "hip"),
    Rule("partial_lockout", "hip_deg", "deg", "min", "hip_min_deg", LEGS_HIPS, "hips higher",
         "Drive the hips all the way up and squeeze the glutes until the torso is level.", "lockout", "hip"),
    Rule("head_back", "neck_ext_deg", "deg", "max", "neck_ext_max_deg", HIPS, "chin down",
         "Chin tucked, eyes forward and slightly down: let the head move with the torso.", "head", "ear"),
    Rule("no_pause", "hold_s", "s", "min", "hold_min_s", frozenset({"drive"}), "hold the top",
         "Hold the top for a one-count before lowering.", "pause", "hip"),
    Rule("rocking", "shoulder_travel_frac", "torso", "max", "shoulder_travel_max_frac", HIPS, "stay on the bench",
         "Pivot on the bench: keep the shoulders from sliding or rocking.", "rocking", "shoulder",
         valid="shoulder"),
    Rule("heel_lift", "heel_lift_cm", "cm", "max", "heel_rise_max_cm", LEGS_HIPS | {"feet"}, "heels down",
         "Keep the heels down and drive through them.", "heels", "heel", valid="heel", confirm="heel_pt_lift_cm"),
)

PLOTS = (
    PlotSpec("knee", "knee_deg", "Knee angle", ("feet_too_far", "feet_too_close"),
             "Hip–knee–ankle. About 90° at the top means the shins are vertical: above the band the feet are too "
             "far out, below it too close."),
    PlotSpec("hip", "hip_deg", "Hip angle", ("lumbar_hyperextension", "partial_lockout"),
             "Shoulder–hip–knee. 180° is a straight line at the top: below the band the hips stopped short, above "
             "it the lower back arched."),
    PlotSpec("neck", "neck_ext_deg", "Head angle", ("head_back",),
             "Head against the torso line; positive = thrown back. It should stay under the line: chin tucked, "
             "eyes forward."),
)

HIP_THRUST = Exercise(
    name="hip_thrust",
    title="Hip thrust",
    rules=RULES,
    drive="torso_deg",
    drive_sign=1,
    display=("knee_deg", "hip_deg", "neck_ext_deg", "torso_deg"),
    plots=PLOTS,
    # what loads the spine first, then what wastes the rep
    voice_order=("lumbar_hyperextension", "head_back", "feet_too_far", "feet_too_close", "partial_lockout",
                 "heel_lift", "rocking", "no_pause"),
    profile_resource="exercises/hip_thrust/profile.toml",
    judge=judge_rep,
    setup_hint="lie on the bench side-on to the camera, whole body in frame",
)
