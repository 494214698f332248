"""Hip-thrust rules: one rep's frames in, per-rule findings out. Pure: no video, no model.

Each rule reads one metric of the rep (a median over the lockout window, or a range over the drive), compares it
with the profile's threshold, and says "not_judged" with the reason when the landmarks that metric needs were
hidden or unreliable in that rep: a wrong verdict said confidently is worse than none.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from formcheck.core.config import Profile
from formcheck.core.types import Finding, FrameFeatures

RULE_IDS = ("feet_too_far", "feet_too_close", "lumbar_hyperextension", "partial_lockout",
            "head_back", "no_pause", "rocking", "heel_lift")

#: what the lifter hears / reads for each fault: (short voice cue, one sentence)
CUES: dict[str, tuple[str, str]] = {
    "feet_too_far": ("feet closer", "Bring your feet closer to the bench so the shins are vertical at the top."),
    "feet_too_close": ("feet out", "Walk your feet a little further out so the shins are vertical at the top."),
    "lumbar_hyperextension": ("ribs down", "Ribs down, tuck the pelvis: finish with the glutes, not by arching the lower back."),
    "partial_lockout": ("hips higher", "Drive the hips all the way up and squeeze the glutes until the torso is level."),
    "head_back": ("chin down", "Chin tucked, eyes forward and slightly down: let the head move with the torso."),
    "no_pause": ("hold the top", "Hold the top for a one-count before lowering."),
    "rocking": ("stay on the bench", "Pivot on the bench: keep the shoulders from sliding or rocking."),
    "heel_lift": ("heels down", "Keep the heels down and drive through them."),
}

#: the cue names used in summaries (issue 7's "per cue" view): rule ids grouped by what a coach looks at
CUE_GROUPS: dict[str, tuple[str, ...]] = {
    "knee at lockout": ("feet_too_far", "feet_too_close"),
    "head": ("head_back",),
    "lower back": ("lumbar_hyperextension",),
    "lockout": ("partial_lockout",),
    "pause": ("no_pause",),
    "rocking": ("rocking",),
    "heels": ("heel_lift",),
}


@dataclass(frozen=True)
class RepWindow:
    """What a rep gives the rules: its frames from the drive start to the end of the hold, plus a baseline.

    frames: features in time order from `baseline_from_s` (a little before the rep started) to the moment the hips
    left the top.
    """

    frames: Sequence[FrameFeatures]
    start_s: float
    lockout_start_s: float
    lockout_end_s: float


def _col(frames: Sequence[FrameFeatures], name: str) -> np.ndarray:
    return np.array([getattr(f, name) for f in frames], dtype=float)


def _median(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def rep_metrics(win: RepWindow, profile: Profile) -> dict[str, float]:
    """The numbers the rules judge, plus the reliability figures behind 'not judged'."""
    cal = profile.calibration
    t = _col(win.frames, "t_s")
    lock = (t >= win.lockout_start_s - 1e-6) & (t <= win.lockout_end_s + 1e-6)
    drive = (t >= win.start_s - 1e-6) & (t <= win.lockout_end_s + 1e-6)
    base = t <= win.start_s + 1e-6
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
    heel = _col(win.frames, "heel_rise_px")
    shin = _median(_col(win.frames, "shin_len_px"))
    cm_per_px = cal.shin_length_m * 100.0 / shin if shin > 0 else float("nan")
    rise_px = _median(heel[lock]) - _median(heel[base] if base.any() else heel[drive][:3])
    m["heel_valid"] = float(np.isfinite(heel[lock]).mean()) if lock.any() else 0.0
    m["heel_lift_cm"] = float(rise_px * cm_per_px - cal.heel_drift_cm)
    m["knee_split"] = _median(_col(win.frames, "knee_split")[lock])
    m["hip_split"] = _median(_col(win.frames, "hip_split")[lock])
    return m


def _fmt(x: float) -> str:
    return f"{x:g}"


def judge_rep(win: RepWindow, profile: Profile) -> tuple[dict[str, float], tuple[Finding, ...]]:
    """Judge one rep on every rule. Returns (metrics, findings in RULE_IDS order)."""
    m = rep_metrics(win, profile)
    thr, rel = profile.thresholds, profile.reliability
    t_mid = 0.5 * (win.lockout_start_s + win.lockout_end_s)

    legs_split = math.isfinite(m["knee_split"]) and m["knee_split"] > rel.max_knee_split_torso
    # Whatever fools the model about the legs (a plate in front of the hips) also leaves the hip point a guess.
    hips_hidden = legs_split or (math.isfinite(m["hip_split"]) and m["hip_split"] > rel.max_hip_split_torso)

    def blocked(metric: str, needs_legs: bool, needs_hips: bool) -> str:
        if (needs_hips or needs_legs) and hips_hidden:
            return (f"hips/legs hidden or misplaced: the model split the near and far leg (knees "
                    f"{m['knee_split']:.2f}, hips {m['hip_split']:.2f} torso lengths apart; a plate may cover them)")
        valid = m.get(f"{metric}_valid", 1.0)
        if valid < rel.min_frac_valid:
            return f"landmarks hidden in {100 * (1 - valid):.0f}% of the hold"
        iqr = m.get(f"{metric}_iqr", float("nan"))
        if math.isfinite(iqr) and iqr > rel.max_lockout_iqr_deg:
            return f"angle unstable during the hold (spread {iqr:.1f} deg)"
        return ""

    def rule(rule_id: str, metric: str, unit: str, fails: Callable[[float], bool], expected: str,
             needs_legs: bool = True, needs_hips: bool = True, valid_key: str | None = None) -> Finding:
        why = blocked(valid_key or metric, needs_legs, needs_hips)
        value = m.get(metric, float("nan"))
        if not why and not math.isfinite(value):
            why = "not measurable in this rep"
        if why:
            return Finding(rule_id, "not_judged", None, unit, expected, t_mid, "", why)
        bad = fails(value)
        return Finding(rule_id, "fail" if bad else "pass", round(value, 2), unit, expected, t_mid,
                       CUES[rule_id][1] if bad else "")

    k_hi, k_lo = thr.knee_max_deg, thr.knee_min_deg
    findings = (
        rule("feet_too_far", "knee_deg", "deg", lambda v: v > k_hi, f"<= {_fmt(k_hi)}"),
        rule("feet_too_close", "knee_deg", "deg", lambda v: v < k_lo, f">= {_fmt(k_lo)}"),
        rule("lumbar_hyperextension", "hip_deg", "deg", lambda v: v > thr.hip_max_deg, f"<= {_fmt(thr.hip_max_deg)}"),
        rule("partial_lockout", "hip_deg", "deg", lambda v: v < thr.hip_min_deg, f">= {_fmt(thr.hip_min_deg)}"),
        rule("head_back", "neck_ext_deg", "deg", lambda v: v > thr.neck_ext_max_deg,
             f"<= {_fmt(thr.neck_ext_max_deg)}", needs_legs=False),
        rule("no_pause", "hold_s", "s", lambda v: v < thr.hold_min_s, f">= {_fmt(thr.hold_min_s)}",
             needs_legs=False, needs_hips=False, valid_key="hold_s"),
        rule("rocking", "shoulder_travel_frac", "torso", lambda v: v > thr.shoulder_travel_max_frac,
             f"<= {_fmt(thr.shoulder_travel_max_frac)}", needs_legs=False, valid_key="shoulder"),
        rule("heel_lift", "heel_lift_cm", "cm", lambda v: v > thr.heel_rise_max_cm,
             f"<= {_fmt(thr.heel_rise_max_cm)}", valid_key="heel"),
    )
    return m, findings
