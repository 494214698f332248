"""Hip-thrust rep metrics: one rep's frames in, the numbers its rules judge out. Pure: no video, no model.

Angles are medians over the lockout window; shoulder travel is a range over the drive; heel lift compares the
lockout with the resting frames before the rep. The glute bridge (the same hip extension, from the floor) uses
these metrics too.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from formcheck.core.config import Profile
from formcheck.core.exercise import Exercise
from formcheck.core.judge import judge_metrics
from formcheck.core.types import Finding, FrameFeatures, RepWindow


def _col(frames: Sequence[FrameFeatures], name: str) -> np.ndarray:
    return np.array([getattr(f, name) for f in frames], dtype=float)


def _spread(v: np.ndarray) -> float:
    """(p90 - p10) / median of the finite values: how much a length that should stay constant jumps (NaN with
    fewer than 5)."""
    v = v[np.isfinite(v)]
    med = float(np.median(v)) if v.size else 0.0
    return float(np.subtract(*np.percentile(v, [90, 10])) / med) if v.size >= 5 and med > 0 else float("nan")


def _median(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def rep_metrics(win: RepWindow, profile: Profile) -> dict[str, float]:
    """The numbers the rules judge, plus the reliability figures behind 'not judged'."""
    cal = profile.calibration
    t = _col(win.frames, "t_s")
    lock = (t >= win.lockout_start_s - 1e-6) & (t <= win.lockout_end_s + 1e-6)
    drive = (t >= win.start_s - 1e-6) & (t <= win.lockout_end_s + 1e-6)
    # The rest before the drive: the frames up to its start, or the drive's first three when none came before.
    rest = t <= win.start_s + 1e-6
    if not rest.any():
        rest[np.flatnonzero(drive)[:3]] = True
    if not lock.any():
        lock = drive
    m: dict[str, float] = {}
    for name in ("knee_deg", "hip_deg", "neck_ext_deg", "shin_deg", "torso_deg"):
        v = _col(win.frames, name)[lock]
        m[name] = _median(v)
        m[f"{name}_valid"] = float(np.isfinite(v).mean()) if v.size else 0.0
        fin = v[np.isfinite(v)]
        m[f"{name}_iqr"] = float(np.subtract(*np.percentile(fin, [75, 25]))) if fin.size >= 3 else float("nan")
    m["hold_s"] = max(0.0, win.lockout_end_s - win.lockout_start_s - cal.hold_lag_s)
    m["up_s"] = win.lockout_start_s - win.start_s
    torso = _median(_col(win.frames, "torso_len_px")[drive])
    sx = _col(win.frames, "shoulder_x_px")[drive]
    m["shoulder_valid"] = float(np.isfinite(sx).mean()) if sx.size else 0.0
    fin = sx[np.isfinite(sx)]
    m["shoulder_travel_frac"] = float((fin.max() - fin.min()) / torso) if fin.size >= 2 and torso > 0 else float("nan")
    # Heel lift from the ankle's rise over the toe: a foot that lifts its heel pivots on the toes, so the ankle
    # rises with it (heel_per_ankle_rise times less), and the model's ankle point is steadier than its heel point
    # (separation of lifted from clean reps, AUC 0.82 vs 0.76 on sample + train clips).
    ank = _col(win.frames, "ankle_over_toe_px")
    shin = _median(_col(win.frames, "shin_len_px"))
    cm_per_px = cal.shin_length_m * 100.0 / shin if shin > 0 else float("nan")
    rise_px = _median(ank[lock]) - _median(ank[rest])
    # A second reading of the same lift from the heel point's own rise over the toe: a fault needs both (the rule's
    # `confirm`); a mirrored real clip (r11) read clean reps at 4.9-5.4 cm from the ankle and 3.2-3.7 from the heel.
    hp = _col(win.frames, "heel_over_toe_px")
    m["heel_pt_lift_cm"] = float((_median(hp[lock]) - _median(hp[rest])) * cm_per_px)
    m["heel_valid"] = float(np.isfinite(ank[lock]).mean()) if lock.any() else 0.0
    m["heel_lift_cm"] = float(rise_px * cm_per_px * cal.heel_per_ankle_rise - cal.heel_drift_cm)
    # The toe is the pivot of a heel lift and stays planted: when the model's toe point moves between the rest
    # and the lockout, the foot's points are sliding (camera far off the side, a fast drive) and the heel
    # reading is not a measurement.
    toe = np.stack([_col(win.frames, "toe_x_px"), _col(win.frames, "toe_y_px")], axis=1)
    if np.isfinite(toe[lock]).all(axis=1).any() and np.isfinite(toe[rest]).all(axis=1).any():
        slide_px = float(np.hypot(*(np.nanmedian(toe[lock], axis=0) - np.nanmedian(toe[rest], axis=0))))
        m["toe_slide_cm"] = slide_px * cm_per_px
    else:
        m["toe_slide_cm"] = float("nan")
    m["knee_up_torso"] = _median(_col(win.frames, "knee_up_torso")[lock])
    m["knee_split"] = _median(_col(win.frames, "knee_split")[lock])
    # Near against far knee at the top: about equal in a two-legged rep (judged reps differ by <= 27 deg), far
    # apart when one leg is off the floor (a single-leg rep: the near leg may be the raised one).
    m["knee_far_deg"] = _median(_col(win.frames, "knee_far_deg")[lock])
    m["knee_side_diff_deg"] = abs(m["knee_deg"] - m["knee_far_deg"])
    m["hip_split"] = _median(_col(win.frames, "hip_split")[lock])
    m["shoulder_over_feet_torso"] = _median(_col(win.frames, "shoulder_over_feet_torso")[drive])
    # The body's own proportions: a limb's length against the torso is constant in a side view, so when it jumps
    # within the rep the model is guessing where a hidden joint is (a plate over the hips).
    tl = _col(win.frames, "torso_len_px")
    for name, num in (("thigh_torso", _col(win.frames, "thigh_len_px") / tl),
                      ("shin_torso", _col(win.frames, "shin_len_px") / tl)):
        m[name] = _median(num[drive])
        m[f"{name}_spread"] = _spread(num[drive])
    # The same proportions in the model's 3-D world points, where a camera off the side does not shorten a limb:
    # an image spread with steady world lengths is the projection of an oblique view, not a guessed joint.
    world = [_spread(_col(win.frames, name)[drive]) for name in ("thigh_torso_world", "shin_torso_world")]
    m["limb_world_spread"] = max(world) if all(np.isfinite(world)) else float("nan")
    torso = _col(win.frames, "torso_deg")
    # Frame-to-frame jitter of the drive signal around its running median: the hold is read from this signal, so
    # when a plate makes the hip point jump the hold time is not a measurement.
    td = torso[drive]
    td = td[np.isfinite(td)]
    if td.size >= 7:
        med = np.array([np.median(td[max(0, i - 3):i + 4]) for i in range(td.size)])
        m["drive_jitter_deg"] = float(np.median(np.abs(td - med)))
    else:
        m["drive_jitter_deg"] = float("nan")
    # Frames where the model turned the skeleton round (the tracker measured nothing there): many of them in a rep
    # mean the model is guessing the body (a plate over the hips), even where the frames left look steady.
    lost = np.array([f.lost for f in win.frames], dtype=bool)[drive]
    m["lost_frac"] = float(lost.mean()) if lost.size else 0.0
    m["torso_bottom_deg"] = float(np.nanpercentile(torso, 5)) if np.isfinite(torso).any() else float("nan")
    # Which end of the torso moved: the thigh's direction (hip angle minus torso angle) turns as the hips rise
    # between planted feet and a resting upper back; in a sit-up or crunch the hips stay down, the thigh stays put
    # and only the torso turns.
    thigh = _col(win.frames, "hip_deg") - torso
    m["torso_rise_deg"] = _median(torso[lock]) - _median(torso[rest])
    m["thigh_turn_deg"] = _turn_deg(thigh[rest], thigh[lock])
    # ... and in the picture: the hips rise over planted feet and a resting upper back; in a sit-up the shoulders do.
    tl_drive = _median(tl[drive])
    for name in ("hip", "shoulder"):
        y = _col(win.frames, f"{name}_y_px")
        m[f"{name}_rise_torso"] = (_median(y[lock]) - _median(y[rest])) / tl_drive if tl_drive > 0 else float("nan")
    return m


def _turn_deg(before: np.ndarray, after: np.ndarray) -> float:
    """Signed turn (deg, -180..180) between the circular medians of two sets of directions: the hip angle runs
    over 0..360, so a plain difference can wrap."""
    def centre(a: np.ndarray) -> float:
        a = a[np.isfinite(a)]
        if not a.size:
            return float("nan")
        ref = math.degrees(math.atan2(np.sin(np.radians(a)).mean(), np.cos(np.radians(a)).mean()))
        return ref + float(np.median((a - ref + 180.0) % 360.0 - 180.0))
    d = centre(after) - centre(before)
    return float((d + 180.0) % 360.0 - 180.0) if math.isfinite(d) else float("nan")


def judge_rep(win: RepWindow, profile: Profile, exercise: Exercise) -> tuple[dict[str, float], tuple[Finding, ...]]:
    """Judge one rep on every rule of `exercise`. Returns (metrics, findings in the exercise's rule order)."""
    m = rep_metrics(win, profile)
    t_mid = 0.5 * (win.lockout_start_s + win.lockout_end_s)
    return m, judge_metrics(m, exercise, profile, t_mid)
