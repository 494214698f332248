"""Camera set-up check before a live set: is the whole body in frame, side-on, close enough and lit?

Pure functions of one PoseFrame, the frame size and its brightness, so every advice is unit-tested without video
or a model. The live loop runs `check_setup` on each frame and `SetupGate` turns the per-frame verdicts into one
"good to go" once the set-up has held for a moment (a single lucky frame is not a set-up).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from formcheck.core.skeleton import LM
from formcheck.core.types import PoseFrame


@dataclass(frozen=True)
class SetupSettings:
    """Limits of a usable camera set-up. Fractions are of the frame side; brightness is mean luma (0-255)."""

    min_brightness: float = 50.0       # darker than this and the model loses joints (and the lifter sees nothing)
    max_brightness: float = 235.0      # brighter than this the picture is blown out (window behind the lifter)
    min_visibility: float = 0.5        # a body part counts as seen at or above this landmark visibility
    edge_margin_frac: float = 0.01     # a landmark closer than this to the border is treated as cut off
    # Body span / frame side (along its longest axis): below = camera too far. The labelled dev clips (filmed from
    # 2.3-3 m, pose found in every frame) span 0.36-0.53; below ~0.3 the joints are too few pixels for the angles.
    min_body_frac: float = 0.30
    max_split_torso: float = 0.45      # left-right shoulder/hip distance / torso length: above = not side-on
    # Shoulder-hip line steeper than this from horizontal: standing or sitting up, not lying back (hip thrusts and
    # bridges keep it within -54..+29 deg over a rep; the gate in core/gate.py uses the same 60 deg).
    max_torso_tilt_deg: float = 60.0
    ready_hold_s: float = 0.5          # the set-up must pass this long without a break before "good to go"


#: body parts the whole set is judged on, each as the landmarks of both sides (the one facing the camera counts)
BODY_PARTS: dict[str, tuple[tuple[LM, ...], ...]] = {
    "head": ((LM.LEFT_EAR, LM.RIGHT_EAR, LM.NOSE),),
    "shoulders": ((LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),),
    "hips": ((LM.LEFT_HIP, LM.RIGHT_HIP),),
    "knees": ((LM.LEFT_KNEE, LM.RIGHT_KNEE),),
    "feet": ((LM.LEFT_ANKLE, LM.RIGHT_ANKLE), (LM.LEFT_HEEL, LM.RIGHT_HEEL),
             (LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX)),
}

GOOD_TO_GO = "Good to go: start your set"
#: what to get into when nobody is in view: the exercise's `setup_hint` (this one when the exercise is not known
#: yet, e.g. `--exercise auto` before the first rep: the hip thrust is the default exercise)
DEFAULT_SETUP_HINT = "lie on the bench side-on to the camera, whole body in frame"
NO_PERSON = f"No person in view: {DEFAULT_SETUP_HINT}"


def no_person_advice(setup_hint: str | None = None) -> str:
    """The line for an empty picture: what to get into, the exercise's words (`Exercise.setup_hint`)."""
    return f"No person in view: {setup_hint}" if setup_hint else NO_PERSON


@dataclass(frozen=True)
class SetupCheck:
    """One frame's verdict. `problems` are codes in order of what to fix first; `advice` is the line to show."""

    ok: bool
    problems: tuple[str, ...]
    advice: str
    body_frac: float = math.nan        # body span / frame side
    split_torso: float = math.nan      # left-right split / torso length (side view ~0.1)
    brightness: float = math.nan


def frame_brightness(image_rgb: np.ndarray, step_px: int = 8) -> float:
    """Mean luma (Rec. 601, 0-255) on every `step_px`-th pixel: a brightness estimate at ~1/64 of the cost."""
    sub = image_rgb[::step_px, ::step_px, :3].astype(np.float32)
    return float((sub @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).mean())


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _part_in_frame(pose: PoseFrame, groups: tuple[tuple[LM, ...], ...], w_px: int, h_px: int,
                   s: SetupSettings) -> bool:
    """A part is in frame when, for each of its landmark groups, some landmark is seen and inside the margins."""
    mx, my = s.edge_margin_frac * w_px, s.edge_margin_frac * h_px
    for group in groups:
        seen = False
        for lm in group:
            x, y = pose.xy_px[lm]
            if (pose.visibility[lm] >= s.min_visibility and math.isfinite(x) and math.isfinite(y)
                    and mx <= x <= w_px - mx and my <= y <= h_px - my):
                seen = True
                break
        if not seen:
            return False
    return True


def _split_torso(pose: PoseFrame) -> float:
    """How far apart the left and right shoulders and hips are, per torso length (side view ~0.1, front ~0.7+)."""
    xy = pose.xy_px
    ls, rs, lh, rh = (xy[i] for i in (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, LM.LEFT_HIP, LM.RIGHT_HIP))
    torso = float(np.hypot(*((ls + rs) / 2 - (lh + rh) / 2)))
    if not (math.isfinite(torso) and torso > 0):
        return math.nan
    return float((np.hypot(*(ls - rs)) + np.hypot(*(lh - rh))) / 2 / torso)


def _torso_tilt_deg(pose: PoseFrame, s: SetupSettings) -> float:
    """Angle of the shoulder-hip line from horizontal (0 lying, 90 standing), from the better-seen side."""
    best = math.nan
    for sh, hp in ((LM.LEFT_SHOULDER, LM.LEFT_HIP), (LM.RIGHT_SHOULDER, LM.RIGHT_HIP)):
        if pose.visibility[sh] >= s.min_visibility and pose.visibility[hp] >= s.min_visibility:
            d = pose.xy_px[sh] - pose.xy_px[hp]
            tilt = math.degrees(math.atan2(abs(d[1]), abs(d[0])))
            best = tilt if not math.isfinite(best) else min(best, tilt)
    return best


def _body_frac(pose: PoseFrame, w_px: int, h_px: int, s: SetupSettings) -> float:
    """Span of the seen landmarks over the frame, along whichever axis the body fills most."""
    seen = (pose.visibility >= s.min_visibility) & np.isfinite(pose.xy_px).all(axis=1)
    if seen.sum() < 2:
        return math.nan
    pts = pose.xy_px[seen]
    span = pts.max(axis=0) - pts.min(axis=0)
    return float(max(span[0] / w_px, span[1] / h_px))


def check_setup(pose: PoseFrame, width_px: int, height_px: int, brightness: float,
                settings: SetupSettings | None = None, setup_hint: str | None = None) -> SetupCheck:
    """Judge the camera set-up on one frame and say the single most useful thing to fix.

    setup_hint: the exercise's words for getting into position (`Exercise.setup_hint`), said when nobody is in
    view; None: the hip thrust's default (NO_PERSON).

    Order: light (nothing else can be judged in the dark), a person at all, whole body in frame, side-on view,
    distance. The advice tells the lifter what to move, since they stand away from the screen.
    """
    s = settings or SetupSettings()
    problems: list[str] = []
    advice: list[str] = []
    if brightness < s.min_brightness:
        problems.append("too_dark")
        advice.append("Too dark: turn on more light or face the camera away from the window")
    elif brightness > s.max_brightness:
        problems.append("too_bright")
        advice.append("Picture blown out: turn the camera away from the light behind you")
    if not pose.detected:
        problems.append("no_person")
        advice.append(no_person_advice(setup_hint))
        return SetupCheck(False, tuple(problems), advice[0], brightness=brightness)

    missing = [name for name, groups in BODY_PARTS.items() if not _part_in_frame(pose, groups, width_px, height_px, s)]
    split = _split_torso(pose)
    frac = _body_frac(pose, width_px, height_px, s)
    if missing:
        problems.append("cut_off")
        verb = "is" if len(missing) == 1 else "are"
        advice.append(f"Your {_join(missing)} {verb} out of frame: move the camera back or aim it at your "
                      f"{'whole body' if len(missing) > 1 else missing[0]}")
    if math.isfinite(split) and split > s.max_split_torso:
        problems.append("not_side_on")
        advice.append("Camera not side-on: put it level with your hips, square to your side")
    tilt = _torso_tilt_deg(pose, s)
    if not missing and math.isfinite(tilt) and tilt > s.max_torso_tilt_deg:
        problems.append("upright")
        advice.append(f"Standing or sitting up: {setup_hint or DEFAULT_SETUP_HINT}")
    if not missing and math.isfinite(frac) and frac < s.min_body_frac:
        problems.append("too_far")
        advice.append(f"Camera too far: move it closer (you fill {100 * frac:.0f}% of the frame, "
                      f"aim for {100 * s.min_body_frac:.0f}% or more)")
    ok = not problems
    return SetupCheck(ok, tuple(problems), advice[0] if advice else GOOD_TO_GO, frac, split, brightness)


class SetupGate:
    """Turns per-frame checks into one decision: good to go once the checks passed for `ready_hold_s` in a row.

    Pure apart from its own state: feed `(t_s, SetupCheck)` in time order; `ready_at_s` is set once.
    """

    def __init__(self, settings: SetupSettings | None = None) -> None:
        self.settings = settings or SetupSettings()
        self._ok_since_s: float | None = None
        self.ready_at_s: float | None = None
        self.last: SetupCheck | None = None

    @property
    def ready(self) -> bool:
        return self.ready_at_s is not None

    def update(self, t_s: float, check: SetupCheck) -> str:
        """Record one frame's check; return the line to show ("" never: there is always something to say)."""
        self.last = check
        if self.ready:
            return GOOD_TO_GO
        if not check.ok:
            self._ok_since_s = None
            return check.advice
        if self._ok_since_s is None:
            self._ok_since_s = t_s
        if t_s - self._ok_since_s >= self.settings.ready_hold_s:
            self.ready_at_s = t_s
            return GOOD_TO_GO
        return "Hold still: checking the set-up"
