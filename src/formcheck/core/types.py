"""Plain data passed between stages. Frozen where it is a result; NumPy arrays carry documented shapes."""
from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Literal, Sequence

import numpy as np

from formcheck.core.skeleton import N_LANDMARKS

SCHEMA_VERSION = "1.0"

#: borderline: beyond the threshold, but by less than the measurement's uncertainty ("check this", not a fault)
Verdict = Literal["pass", "fail", "borderline", "not_judged"]
VERDICTS: tuple[str, ...] = ("fail", "borderline", "pass", "not_judged")


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a clip, after rotation (width/height as displayed)."""

    path: str
    width: int
    height: int
    fps: float
    n_frames: int          # container estimate; 0 when unknown (live)
    duration_s: float      # container estimate; 0 when unknown
    rotation_deg: int = 0  # clockwise rotation applied to the coded frames to show them upright
    codec: str = ""


@dataclass
class PoseFrame:
    """One frame's pose. xy_px: (33, 2) image pixels of the upright frame; visibility: (33,) in [0, 1];
    world_m: (33, 3) the model's 3-D estimate in metres (hip-centred, y down), None when not kept.
    to_ref_px: (2, 3) affine taking this frame's pixels to the first frame's, undoing a handheld camera's drift
    (io/camera_motion.py); None = the camera is taken as still. The landmarks stay in this frame's pixels (the
    overlay draws them there); the measurements are made in the first frame's (geometry.features).

    A frame with no person found has ``detected=False`` and NaN arrays.
    """

    t_s: float
    xy_px: np.ndarray
    visibility: np.ndarray
    detected: bool
    world_m: np.ndarray | None = None
    to_ref_px: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.xy_px.shape != (N_LANDMARKS, 2):
            raise ValueError(f"PoseFrame.xy_px: expected shape (33, 2), got {self.xy_px.shape}")
        if self.visibility.shape != (N_LANDMARKS,):
            raise ValueError(f"PoseFrame.visibility: expected shape (33,), got {self.visibility.shape}")
        if self.world_m is not None and self.world_m.shape != (N_LANDMARKS, 3):
            raise ValueError(f"PoseFrame.world_m: expected shape (33, 3), got {self.world_m.shape}")
        if self.to_ref_px is not None and self.to_ref_px.shape != (2, 3):
            raise ValueError(f"PoseFrame.to_ref_px: expected shape (2, 3), got {self.to_ref_px.shape}")

    @classmethod
    def missing(cls, t_s: float) -> "PoseFrame":
        return cls(t_s, np.full((N_LANDMARKS, 2), np.nan), np.zeros(N_LANDMARKS), False)


@dataclass
class FrameFeatures:
    """Per-frame measurements of the side facing the camera, in the canonical frame (head right, y up), with the
    profile's calibration applied. NaN = not measurable (landmark hidden).

    Angles in degrees: knee (hip-knee-ankle), hip (shoulder-hip-knee, > 180 = hips above the shoulder-knee line),
    shin (shin against vertical, + = ankle ahead of the knee: feet forward), torso (shoulder-hip line against
    horizontal, + = hips above shoulders; the rep drive signal), neck_ext (head against the torso, + = thrown back).
    """

    t_s: float
    detected: bool
    side: str = ""
    knee_deg: float = float("nan")
    hip_deg: float = float("nan")
    shin_deg: float = float("nan")
    torso_deg: float = float("nan")
    neck_ext_deg: float = float("nan")
    shoulder_x_px: float = float("nan")   # canonical x of the shoulder (along the bench)
    heel_over_toe_px: float = float("nan")  # heel height over the toe, y up (its change over a rep is the lift)
    torso_len_px: float = float("nan")
    shin_len_px: float = float("nan")
    thigh_len_px: float = float("nan")
    knee_split: float = float("nan")      # near-far knee distance / torso length (side view ~0.1)
    knee_far_deg: float = float("nan")    # the far leg's knee angle (a single-leg rep: one leg off the floor)
    hip_split: float = float("nan")       # near-far hip distance / torso length
    shoulder_over_feet_torso: float = float("nan")  # shoulder height over the lowest foot point / torso length
    ankle_over_toe_px: float = float("nan")  # ankle height over the toe, y up (rises when the heel lifts)
    toe_x_px: float = float("nan")        # canonical position of the toe (planted: it should not move in a rep)
    toe_y_px: float = float("nan")
    thigh_torso_world: float = float("nan")  # thigh / torso length in the model's 3-D world points (no projection)
    shin_torso_world: float = float("nan")
    hip_y_px: float = float("nan")        # canonical heights (y up) of the hip and the shoulder: which end rose
    shoulder_y_px: float = float("nan")
    knee_up_torso: float = float("nan")  # knee's offset from the hip-ankle line / torso, + = bent upwards (on the back)
    lost: bool = False   # the model turned the skeleton round on this frame (head on the feet's side): nothing measured


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one rep."""

    rule_id: str
    verdict: Verdict
    value: float | None
    unit: str
    expected: str           # the good range as text, e.g. "<= 105" (display only: lo/hi are the numbers)
    t_s: float              # when in the clip the verdict applies (lockout middle, or the worst moment)
    cue: str                # plain words for the lifter ("" on pass)
    reason: str = ""        # why not judged
    lo: float | None = None  # good range as numbers: value >= lo and <= hi (None = unbounded)
    hi: float | None = None


@dataclass(frozen=True)
class RepWindow:
    """What a rep gives the rules: its frames from a little before the drive started (the resting baseline) to
    the moment the hips left the top, with the segmenter's times."""

    frames: Sequence[FrameFeatures]
    start_s: float
    lockout_start_s: float
    lockout_end_s: float


@dataclass(frozen=True)
class Rep:
    """One segmented rep. Times in seconds from the clip start."""

    index: int              # 1-based, as a lifter counts
    start_s: float
    lockout_start_s: float
    lockout_end_s: float
    end_s: float
    hold_s: float
    up_s: float
    down_s: float
    metrics: dict[str, float | None]
    findings: tuple[Finding, ...]
    complete: bool = True   # False when the clip (or stream) ended mid-rep

    def finding(self, rule_id: str) -> Finding | None:
        return next((f for f in self.findings if f.rule_id == rule_id), None)

    @property
    def faults(self) -> list[str]:
        return [f.rule_id for f in self.findings if f.verdict == "fail"]


@dataclass(frozen=True)
class Analysis:
    """The whole result of a clip or a live set: the same data as report.json."""

    video: VideoInfo
    reps: tuple[Rep, ...]
    n_frames: int
    detection_rate: float
    side: str                # body side facing the camera: "left" / "right"
    facing: str              # where the head is in the frame: "left" / "right"
    profile: str
    model: str
    exercise: str = "hip_thrust"
    outputs: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    schema_version: str = SCHEMA_VERSION

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["n_reps"] = self.n_reps
        for r, rd in zip(self.reps, d["reps"]):
            rd["faults"] = r.faults
        return d
