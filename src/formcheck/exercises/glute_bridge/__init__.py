"""The glute bridge: the floor version of the hip thrust (shoulders on the floor, feet planted, hips driven up).

Same movement and metrics as the hip thrust; its own profile: a wider knee band (a bridge is done with the feet
anywhere from under the knees to a little out), and no rocking rule (there is no bench to slide on).
"""
from __future__ import annotations

from dataclasses import replace

from formcheck.core.exercise import Exercise
from formcheck.exercises.hip_thrust import HIP_THRUST

_CUES = {
    "feet_too_far": "Bring your feet closer to your hips so the shins are about vertical at the top.",
    "feet_too_close": "Walk your feet a little further from your hips so the knees can open up at the top.",
    "partial_lockout": "Drive the hips all the way up and squeeze the glutes until shoulders, hips and knees line up.",
}

GLUTE_BRIDGE = Exercise(
    name="glute_bridge",
    title="Glute bridge",
    rules=tuple(replace(r, cue_long=_CUES.get(r.id, r.cue_long)) for r in HIP_THRUST.rules if r.id != "rocking"),
    drive=HIP_THRUST.drive,
    drive_sign=HIP_THRUST.drive_sign,
    display=HIP_THRUST.display,
    plots=HIP_THRUST.plots,
    voice_order=tuple(r for r in HIP_THRUST.voice_order if r != "rocking"),
    profile_resource="exercises/glute_bridge/profile.toml",
    judge=HIP_THRUST.judge,
    setup_hint="lie on your back on the floor side-on to the camera, knees bent, whole body in frame",
)
