"""Typed settings: the rule profile (TOML). The one place defaults live; unknown keys are rejected."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from formcheck.core.errors import FormcheckError
from formcheck.core.reps import RepSettings


class ProfileError(FormcheckError, ValueError):
    """The profile file is missing, not TOML, or has unknown / mistyped keys."""


@dataclass(frozen=True)
class PoseSettings:
    min_visibility: float = 0.5
    max_model_side_px: int = 1280


@dataclass(frozen=True)
class Calibration:
    knee_offset_deg: float = -2.5
    hip_offset_deg: float = -7.0
    head_neutral_deg: float = 69.5
    heel_drift_cm: float = 1.4
    shin_length_m: float = 0.43
    hold_lag_s: float = 0.1


@dataclass(frozen=True)
class SmoothingSettings:
    max_gap_s: float = 0.25
    min_cutoff_hz: float = 1.5
    beta: float = 0.02


@dataclass(frozen=True)
class Reliability:
    min_frac_valid: float = 0.6
    max_knee_split_torso: float = 0.5
    max_hip_split_torso: float = 0.45
    max_lockout_iqr_deg: float = 6.0


@dataclass(frozen=True)
class Thresholds:
    knee_max_deg: float = 105.0
    knee_min_deg: float = 75.0
    hip_max_deg: float = 190.0
    hip_min_deg: float = 165.0
    neck_ext_max_deg: float = 20.0
    hold_min_s: float = 0.5
    shoulder_travel_max_frac: float = 0.15
    heel_rise_max_cm: float = 3.0


#: rule id -> the threshold keys its TOML table may hold
RULE_KEYS: dict[str, tuple[str, ...]] = {
    "feet_too_far": ("knee_max_deg",),
    "feet_too_close": ("knee_min_deg",),
    "lumbar_hyperextension": ("hip_max_deg",),
    "partial_lockout": ("hip_min_deg",),
    "head_back": ("neck_ext_max_deg",),
    "no_pause": ("hold_min_s",),
    "rocking": ("shoulder_travel_max_frac",),
    "heel_lift": ("heel_rise_max_cm",),
}


@dataclass(frozen=True)
class Profile:
    name: str = "hip_thrust"
    exercise: str = "hip_thrust"
    source: str = "builtin"
    pose: PoseSettings = PoseSettings()
    calibration: Calibration = Calibration()
    reps: RepSettings = RepSettings(rise_deg=12.0, fall_deg=6.0, bottom_band_deg=3.0, top_band_deg=1.5)
    smoothing: SmoothingSettings = SmoothingSettings()
    reliability: Reliability = Reliability()
    thresholds: Thresholds = Thresholds()


def _build(cls: type, table: Any, where: str) -> Any:
    if not isinstance(table, dict):
        raise ProfileError(f"[{where}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ProfileError(f"[{where}] unknown key(s) {', '.join(unknown)}; valid: {', '.join(known)}")
    kw = {}
    for k, v in table.items():
        default = getattr(cls(), k)
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ProfileError(f"[{where}] {k} must be a number, got {v!r}")
            v = type(default)(v) if isinstance(default, float) else int(v)
        kw[k] = v
    return cls(**kw)


def load_profile(path: str | Path | None = None) -> Profile:
    """Load a rule profile; None loads the shipped hip-thrust profile."""
    if path is None:
        text = resources.files("formcheck").joinpath("exercises/hip_thrust/profile.toml").read_text()
        source = "builtin:hip_thrust.toml"
    else:
        p = Path(path)
        if not p.is_file():
            raise ProfileError(f"profile {p} not found: pass an existing .toml file to --profile")
        text = p.read_text()
        source = str(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"profile {source} is not valid TOML ({e})") from None
    sections = {"profile", "pose", "calibration", "reps", "smoothing", "reliability", "rules"}
    unknown = sorted(set(data) - sections)
    if unknown:
        raise ProfileError(f"profile {source}: unknown section(s) {', '.join(unknown)}; valid: {', '.join(sorted(sections))}")
    head = data.get("profile", {})
    thr: dict[str, Any] = {}
    for rule_id, table in data.get("rules", {}).items():
        if rule_id not in RULE_KEYS:
            raise ProfileError(f"profile {source}: unknown rule [rules.{rule_id}]; valid: {', '.join(RULE_KEYS)}")
        bad = sorted(set(table) - set(RULE_KEYS[rule_id]))
        if bad:
            raise ProfileError(f"[rules.{rule_id}] unknown key(s) {', '.join(bad)}; valid: {', '.join(RULE_KEYS[rule_id])}")
        thr.update(table)
    try:
        return Profile(
            name=str(head.get("name", "hip_thrust")),
            exercise=str(head.get("exercise", "hip_thrust")),
            source=source,
            pose=_build(PoseSettings, data.get("pose", {}), "pose"),
            calibration=_build(Calibration, data.get("calibration", {}), "calibration"),
            reps=_build(RepSettings, data.get("reps", {}), "reps"),
            smoothing=_build(SmoothingSettings, data.get("smoothing", {}), "smoothing"),
            reliability=_build(Reliability, data.get("reliability", {}), "reliability"),
            thresholds=_build(Thresholds, thr, "rules"),
        )
    except TypeError as e:  # pragma: no cover - _build checks keys first
        raise ProfileError(f"profile {source}: {e}") from None
