"""Typed settings read from an exercise's rule profile (TOML). The profile is the one place numbers live: these
classes have no defaults of their own, and unknown keys are rejected with the valid ones listed.

A user's profile is an overlay on the exercise's shipped profile: keys it leaves out keep the shipped values.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from typing import Any, Iterator, Mapping

from formcheck.core.errors import FormcheckError
from formcheck.core.reps import RepSettings


class ProfileError(FormcheckError, ValueError):
    """The profile file is missing, not TOML, or has unknown / mistyped keys."""


@dataclass(frozen=True)
class PoseSettings:
    min_visibility: float
    max_model_side_px: int
    max_people: int              # people followed at once (1: only the model's first person)
    people_check_s: float        # how often the whole frame is searched for people not followed yet
    search_confirm: int          # searches in a row that must find someone new before they are followed
    match_max_torso: float       # a pose is a person seen before when its centre is this near (torso lengths)
    same_person_torso: float     # two poses nearer than this are one body found twice
    drop_unseen_s: float         # a person unseen this long is forgotten (not the lifter, not one with reps)
    mask_margin_frac: float      # others' boxes grow by this share of their size when hidden from a person's graph


@dataclass(frozen=True)
class Calibration:
    knee_offset_deg: float
    knee_scale: float        # calibrated knee = KNEE_PIVOT_DEG + knee_scale * (raw - KNEE_PIVOT_DEG) + offset
    hip_offset_deg: float
    head_neutral_deg: float
    heel_drift_cm: float
    heel_per_ankle_rise: float
    shin_length_m: float
    hold_lag_s: float


@dataclass(frozen=True)
class SmoothingSettings:
    max_gap_s: float
    min_cutoff_hz: float     # One Euro cut-off of the displayed angles and of the drive the hold is timed on
    beta: float
    drive_cutoff_hz: float   # One Euro cut-off of the drive copy the rep hysteresis counts on


@dataclass(frozen=True)
class Reliability:
    min_frac_valid: float
    max_knee_split_torso: float
    max_knee_side_diff_deg: float
    max_hip_split_torso: float
    max_lockout_iqr_deg: float
    max_thigh_torso_spread: float
    max_shin_torso_spread: float
    max_drive_jitter_deg: float
    max_toe_slide_cm: float
    max_world_limb_spread: float
    max_lost_frac: float


@dataclass(frozen=True)
class Recognition:
    """How the exercise is told apart from others by its set-up: the torso angle at the bottom of the rep (5th
    percentile over the rep, degrees, + = hips above shoulders). On a bench the hips start well below the
    shoulders; lying on the floor the torso starts about flat. Shoulder and hip height only: a plate cannot hide it."""

    torso_bottom_min_deg: float
    torso_bottom_max_deg: float
    # A phone propped a little crooked tilts every angle against the image's horizontal: when the torso's bottom lies
    # within this of two exercises' ranges, the shoulders' height over the feet (torso lengths, median over the
    # movement) decides between them, as the bench does: raised on one, or on the floor.
    roll_tolerance_deg: float
    shoulder_over_feet_min_torso: float
    shoulder_over_feet_max_torso: float


@dataclass(frozen=True)
class Gate:
    """What a rep of the exercise must look like to count at all (core/gate.py)."""

    torso_upright_deg: float     # torso steeper than this below horizontal (top or bottom): standing/upright ...
    upright_min_shoulder_over_feet_torso: float  # ... when the shoulders are also this high over the feet (or unseen)
    torso_top_min_deg: float     # torso angle at the top must lie in this range (about level)
    torso_top_max_deg: float
    knee_top_max_deg: float      # knees straighter than this at the top: not a hip thrust (push-up, plank, hinge)
    min_thigh_turn_per_torso_rise: float  # thigh turn / torso rise below this: the shoulders moved, not the hips ...
    min_hip_rise_torso: float    # ... unless the hip point rose this much (torso lengths) in the picture
    hip_top_min_deg: float       # hip angle at the top under this: the hips fold (knees pulled in), not extend
    face_down_knee_torso: float  # knee this far (torso lengths) below the hip-ankle line at the top ...
    face_down_neck_deg: float    # ... and the face turned this far towards the floor: face down (on all fours)


@dataclass(frozen=True)
class OrientationSettings:
    """How the picture's upright orientation is told from the pose when the clip's rotation flag may be missing or
    wrong (core/orientation.py): a few probe frames are scored in each of the four rotations."""

    probe_frames: int            # frames spread over the clip that the model looks at
    min_pose_frames: int         # a rotation needs a usable pose on at least this many of them to be scored
    torso_level_full_deg: float  # torso within this of horizontal: fully a hip-thrust / bridge set-up
    torso_level_zero_deg: float  # torso this steep or steeper: not the set-up at all (standing, upside-down legs)
    min_score: float             # a rotation must score at least this to count as upright
    min_margin: float            # ... and beat the stored orientation by this much to replace it


class Thresholds(Mapping[str, float]):
    """The rule thresholds of a profile by key (`knee_max_deg`), read as `t["knee_max_deg"]` or `t.knee_max_deg`."""

    def __init__(self, values: Mapping[str, float]) -> None:
        self._v = dict(values)

    def __getitem__(self, key: str) -> float:
        return self._v[key]

    def __getattr__(self, key: str) -> float:
        try:
            return self.__dict__["_v"][key]
        except KeyError:
            raise AttributeError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._v)

    def __len__(self) -> int:
        return len(self._v)

    def __repr__(self) -> str:
        return f"Thresholds({self._v!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Thresholds) and self._v == other._v

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._v.items())))


@dataclass(frozen=True)
class Profile:
    name: str
    exercise: str
    source: str
    pose: PoseSettings
    calibration: Calibration
    reps: RepSettings
    smoothing: SmoothingSettings
    reliability: Reliability
    recognition: Recognition
    gate: Gate
    orientation: OrientationSettings
    thresholds: Thresholds


SECTIONS = {"profile": None, "pose": PoseSettings, "calibration": Calibration, "reps": RepSettings,
            "smoothing": SmoothingSettings, "reliability": Reliability, "recognition": Recognition, "gate": Gate,
            "orientation": OrientationSettings, "rules": None}


def read_toml(text: str, source: str) -> dict:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"profile {source} is not valid TOML ({e})") from None
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ProfileError(f"profile {source}: unknown section(s) {', '.join(unknown)}; "
                           f"valid: {', '.join(sorted(SECTIONS))}")
    return data


def _build(cls: type, table: Any, where: str, source: str) -> Any:
    if not isinstance(table, dict):
        raise ProfileError(f"[{where}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ProfileError(f"[{where}] unknown key(s) {', '.join(unknown)}; valid: {', '.join(known)}")
    missing = sorted(set(known) - set(table))
    if missing:
        raise ProfileError(f"profile {source}: [{where}] lacks {', '.join(missing)}")
    kw = {}
    for k, v in table.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ProfileError(f"[{where}] {k} must be a number, got {v!r}")
        kw[k] = int(v) if known[k].type in (int, "int") else float(v)
    return cls(**kw)


def merge_tables(base: dict, over: dict) -> dict:
    """`over`'s tables laid over `base`'s, key by key (nested tables merge, values replace)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_tables(out[k], v)
        else:
            out[k] = v
    return out


def build_profile(base: dict, override: dict, source: str, threshold_keys: Mapping[str, tuple[str, ...]]) -> Profile:
    """A Profile from the shipped profile's tables with a user's tables laid over them.

    threshold_keys: rule id -> the keys its `[rules.<id>]` table may hold (from the exercise spec).
    """
    for rule_id, table in override.get("rules", {}).items():
        if rule_id not in threshold_keys:
            raise ProfileError(f"profile {source}: unknown rule [rules.{rule_id}]; valid: {', '.join(threshold_keys)}")
        if not isinstance(table, dict):
            raise ProfileError(f"[rules.{rule_id}] must be a table")
        bad = sorted(set(table) - set(threshold_keys[rule_id]))
        if bad:
            raise ProfileError(f"[rules.{rule_id}] unknown key(s) {', '.join(bad)}; "
                               f"valid: {', '.join(threshold_keys[rule_id])}")
    data = merge_tables(base, override)
    head = data.get("profile", {})
    thr: dict[str, float] = {}
    for rule_id, keys in threshold_keys.items():
        table = data.get("rules", {}).get(rule_id, {})
        for k in keys:
            v = table.get(k)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ProfileError(f"profile {source}: [rules.{rule_id}] {k} must be a number, got {v!r}")
            thr[f"{rule_id}.{k}" if k.startswith("band_") else k] = float(v)
    return Profile(
        name=str(head.get("name", "")),
        exercise=str(head.get("exercise", "")),
        source=source,
        thresholds=Thresholds(thr),
        **{name: _build(cls, data.get(name, {}), name, source) for name, cls in SECTIONS.items() if cls},
    )
