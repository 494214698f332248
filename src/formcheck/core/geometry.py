"""Angles and body measurements from 2-D landmarks. Pure NumPy, vectorised over any leading shape.

Everything here works in the lifter's *canonical* frame: x mirrored so the head is to the right, y pointing up.
One convention then serves lifters facing either way (as Sports2D does), and signs mean the same thing on both.
"""
from __future__ import annotations

import numpy as np

from formcheck.core.config import Calibration
from formcheck.core.skeleton import LM, SIDE_JOINTS
from formcheck.core.types import FrameFeatures, PoseFrame


def to_canonical(xy_px: np.ndarray, head_right: bool) -> np.ndarray:
    """Image pixels (y down) -> canonical (head to the right, y up). Shape (..., 2) in, same out."""
    out = np.array(xy_px, dtype=float, copy=True)
    out[..., 1] = -out[..., 1]
    if not head_right:
        out[..., 0] = -out[..., 0]
    return out


def to_reference(xy_px: np.ndarray, to_ref_px: np.ndarray | None) -> np.ndarray:
    """A frame's pixels (..., 2) -> the first frame's, through the (2, 3) camera-motion affine (None: as they are).
    Positions measured over a rep (shoulder travel, the toe's slide) then ignore a handheld camera's drift."""
    if to_ref_px is None:
        return xy_px
    return np.asarray(xy_px, float) @ to_ref_px[:, :2].T + to_ref_px[:, 2]


def joint_angle_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Unsigned angle a-b-c at b, in [0, 180]. Inputs (..., 2)."""
    u = np.asarray(a, float) - b
    v = np.asarray(c, float) - b
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = (u * v).sum(-1)
    return np.degrees(np.arctan2(np.abs(cross), dot))


def hip_angle_deg(shoulder: np.ndarray, hip: np.ndarray, knee: np.ndarray) -> np.ndarray:
    """Shoulder-hip-knee angle in [0, 360), canonical frame: > 180 when the hip is above the shoulder-knee line.

    Signed this way, hyperextension (hips pushed past the line) reads 190+ instead of folding back under 180.
    """
    u = np.asarray(shoulder, float) - hip   # towards the head (to the right)
    v = np.asarray(knee, float) - hip       # towards the feet (to the left)
    # Counter-clockwise angle from the knee direction to the shoulder direction, measured under the body:
    # with y up and the head right, a hip below the line gives < 180.
    a = np.degrees(np.arctan2(u[..., 1], u[..., 0]) - np.arctan2(v[..., 1], v[..., 0]))
    return np.mod(-a, 360.0)


def line_from_vertical_deg(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Angle of the segment bottom->top against vertical, + when top leans right (towards the head)."""
    d = np.asarray(top, float) - bottom
    return np.degrees(np.arctan2(d[..., 0], d[..., 1]))


def line_from_horizontal_deg(right: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Angle of the segment left->right against horizontal, + when the right end is higher."""
    d = np.asarray(right, float) - left
    return np.degrees(np.arctan2(d[..., 1], d[..., 0]))


KNEE_PIVOT_DEG = 90.0   # the knee angle the knee calibration's scale turns about (the coaching's lockout knee)


def calibrated_knee_deg(raw_deg: float, cal: Calibration) -> float:
    """The model's knee angle as the anatomical one. MediaPipe compresses the knee's range: on the renders it reads
    ~7 deg open at 40-70 deg and right at 85-100, so a close or far foot placement looks nearer the ideal than it
    is. A scale about 90 deg (fitted with the offset, README "Measured accuracy") undoes that; at 90 only the
    offset acts."""
    return KNEE_PIVOT_DEG + cal.knee_scale * (raw_deg - KNEE_PIVOT_DEG) + cal.knee_offset_deg


def head_angle_deg(hip: np.ndarray, shoulder: np.ndarray, ear: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """Angle from the torso line (hip->shoulder) to the head line (ear->eye), counter-clockwise in the canonical
    frame. Throwing the head back turns the face up and back, so this angle *falls*.

    Why ear->eye rather than shoulder->ear: the head line turns almost 1:1 with real neck extension on our renders,
    the shoulder->ear line only ~0.4:1, and the ear->eye line does not move when the lower back arches.
    """
    t = np.asarray(shoulder, float) - hip
    h = np.asarray(eye, float) - ear
    a = np.degrees(np.arctan2(h[..., 1], h[..., 0]) - np.arctan2(t[..., 1], t[..., 0]))
    return (a + 180.0) % 360.0 - 180.0


def side_score(pose: PoseFrame) -> float:
    """Evidence that the LEFT side faces the camera (> 0) or the right (< 0), from landmark visibility.

    The far limbs are hidden behind the body, so the model gives them lower visibility.
    """
    left = [LM.LEFT_SHOULDER, LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE, LM.LEFT_HEEL]
    right = [LM.RIGHT_SHOULDER, LM.RIGHT_HIP, LM.RIGHT_KNEE, LM.RIGHT_ANKLE, LM.RIGHT_HEEL]
    if not pose.detected:
        return 0.0
    return float(np.sum(pose.visibility[left]) - np.sum(pose.visibility[right]))


def head_right_score(pose: PoseFrame) -> float:
    """Evidence the head is on the right of the frame (> 0): mean shoulder x minus mean ankle x, in pixels."""
    if not pose.detected:
        return 0.0
    xy = pose.xy_px
    sh = np.nanmean(xy[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER], 0])
    an = np.nanmean(xy[[LM.LEFT_ANKLE, LM.RIGHT_ANKLE], 0])
    v = sh - an
    return 0.0 if np.isnan(v) else float(v)


def features(pose: PoseFrame, side: str, head_right: bool, min_visibility: float,
             cal: Calibration) -> FrameFeatures:
    """All per-frame measurements of one pose on the given body side, calibrated. Hidden landmarks give NaN."""
    if not pose.detected:
        return FrameFeatures(t_s=pose.t_s, detected=False, side=side)
    j = SIDE_JOINTS[side]
    other = SIDE_JOINTS["right" if side == "left" else "left"]
    c = to_canonical(to_reference(pose.xy_px, pose.to_ref_px), head_right)
    vis = pose.visibility
    nan2 = np.array([np.nan, np.nan])

    def pt(role: str, joints: dict = j) -> np.ndarray:
        i = joints[role]
        return c[i] if vis[i] >= min_visibility else nan2

    ear, eye, sh, hip, knee, ankle, heel, toe = (
        pt(r) for r in ("ear", "eye", "shoulder", "hip", "knee", "ankle", "heel", "toe"))
    torso_len = float(np.hypot(*(sh - hip)))
    hip2d = float(hip_angle_deg(sh, hip, knee))
    knee_split = float(np.hypot(*(knee - pt("knee", other)))) / torso_len if torso_len > 0 else np.nan
    hip_split = float(np.hypot(*(hip - pt("hip", other)))) / torso_len if torso_len > 0 else np.nan
    ha = ankle - hip
    ha_len = float(np.hypot(*ha))
    cross = float(ha[0] * (knee - hip)[1] - ha[1] * (knee - hip)[0])
    knee_up = -cross / (ha_len * torso_len) if ha_len > 0 and torso_len > 0 else float("nan")
    thigh_w = shin_w = float("nan")
    if pose.world_m is not None:
        w = pose.world_m
        torso_w = float(np.linalg.norm(w[j["shoulder"]] - w[j["hip"]]))
        if torso_w > 0:
            thigh_w = float(np.linalg.norm(w[j["hip"]] - w[j["knee"]])) / torso_w
            shin_w = float(np.linalg.norm(w[j["knee"]] - w[j["ankle"]])) / torso_w
    return FrameFeatures(
        t_s=pose.t_s,
        detected=True,
        side=side,
        knee_deg=calibrated_knee_deg(float(joint_angle_deg(hip, knee, ankle)), cal),
        knee_far_deg=calibrated_knee_deg(float(joint_angle_deg(pt("hip", other), pt("knee", other),
                                                               pt("ankle", other))), cal),
        hip_deg=hip2d + cal.hip_offset_deg,
        shin_deg=float(line_from_vertical_deg(knee, ankle)),
        torso_deg=float(-line_from_horizontal_deg(sh, hip)),
        neck_ext_deg=cal.head_neutral_deg - float(head_angle_deg(hip, sh, ear, eye)),
        shoulder_x_px=float(sh[0]),
        heel_over_toe_px=float(heel[1] - toe[1]),
        torso_len_px=torso_len,
        shin_len_px=float(np.hypot(*(knee - ankle))),
        thigh_len_px=float(np.hypot(*(hip - knee))),
        knee_split=float(knee_split),
        hip_split=float(hip_split),
        shoulder_over_feet_torso=float(sh[1] - np.nanmin([heel[1], toe[1], ankle[1]])) / torso_len
        if torso_len > 0 and np.isfinite([heel[1], toe[1], ankle[1]]).any() else float("nan"),
        ankle_over_toe_px=float(ankle[1] - toe[1]),
        toe_x_px=float(toe[0]),
        toe_y_px=float(toe[1]),
        thigh_torso_world=thigh_w,
        shin_torso_world=shin_w,
        knee_up_torso=knee_up,
        hip_y_px=float(hip[1]),
        shoulder_y_px=float(sh[1]),
    )

