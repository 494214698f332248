"""Which way up the picture is, told from the pose, for clips whose rotation flag is missing or wrong.

A phone clip that lost its display-matrix flag plays on its side or upside down; the model still finds the person
(its detector aligns the crop to the body), but every angle is then read against the wrong vertical. Gravity is in
the set-up: in a hip thrust or a glute bridge the feet are on the floor and the shins point up from them, with the
torso about level (on a bench or on the floor). A frame scores that in a given rotation; the rotation whose frames
score best wins, but only when it clearly beats the orientation the container gives (never turn an upright clip).
Pure NumPy: the probe that runs the model on rotated frames lives in io/orientation_probe.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import numpy as np

from formcheck.core.config import OrientationSettings
from formcheck.core.skeleton import LM
from formcheck.core.types import PoseFrame

#: the extra clockwise turns the probe tries, relative to the picture as the container presents it
ROTATIONS_CW_DEG = (0, 90, 180, 270)

#: upright / rotated / unknown (could not be told); off: not probed (probe_frames = 0), the stored picture is used
Status = Literal["upright", "rotated", "unknown", "off"]

_KNEES, _ANKLES = (LM.LEFT_KNEE, LM.RIGHT_KNEE), (LM.LEFT_ANKLE, LM.RIGHT_ANKLE)
_HIPS, _SHOULDERS = (LM.LEFT_HIP, LM.RIGHT_HIP), (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER)


def rotate_points(xy_px: np.ndarray, rotation_cw_deg: int, width: int, height: int) -> np.ndarray:
    """Image points (..., 2), y down, of a width x height picture -> the same points in the picture turned
    clockwise by rotation_cw_deg (a multiple of 90), as `np.rot90(image, -k)` turns the pixels."""
    xy = np.asarray(xy_px, dtype=float)
    x, y = xy[..., 0], xy[..., 1]
    r = rotation_cw_deg % 360
    if r == 0:
        out = (x, y)
    elif r == 90:
        out = (height - y, x)
    elif r == 180:
        out = (width - x, height - y)
    elif r == 270:
        out = (y, width - x)
    else:
        raise ValueError(f"rotation must be a multiple of 90 deg, got {rotation_cw_deg}")
    return np.stack(out, axis=-1)


def _mean_visible(pose: PoseFrame, idx: Sequence[int], min_visibility: float) -> np.ndarray | None:
    keep = [i for i in idx if pose.visibility[i] >= min_visibility and np.isfinite(pose.xy_px[i]).all()]
    return pose.xy_px[keep].mean(axis=0) if keep else None


def frame_score(pose: PoseFrame, settings: OrientationSettings, min_visibility: float) -> float:
    """How much one frame looks like the set-up with gravity pointing down the image, in [-1, 1]; NaN when the
    knees, ankles, hips or shoulders are not all seen.

    The shin's cosine against the image's down direction (knee -> ankle: +1 shin straight up from the floor, -1
    upside down, ~0 on its side) times the torso's levelness (1 within torso_level_full_deg of horizontal, falling
    to 0 at torso_level_zero_deg). Both sides' points are averaged: from the side they nearly coincide.
    """
    if not pose.detected:
        return math.nan
    pts = [_mean_visible(pose, idx, min_visibility) for idx in (_KNEES, _ANKLES, _HIPS, _SHOULDERS)]
    if any(p is None for p in pts):
        return math.nan
    knee, ankle, hip, shoulder = pts
    shin = ankle - knee
    shin_len = float(np.hypot(*shin))
    if shin_len == 0.0:
        return math.nan
    shin_down = shin[1] / shin_len
    torso = shoulder - hip
    torso_deg = math.degrees(math.atan2(abs(torso[1]), abs(torso[0])))   # 0 level .. 90 vertical
    full, zero = settings.torso_level_full_deg, settings.torso_level_zero_deg
    level = min(1.0, max(0.0, (zero - torso_deg) / (zero - full)))
    return float(shin_down * level)


def rotation_score(frame_scores: Sequence[float], settings: OrientationSettings) -> float:
    """A rotation's score: the median of its usable frames' scores; NaN with fewer than min_pose_frames."""
    ok = [s for s in frame_scores if math.isfinite(s)]
    return float(np.median(ok)) if len(ok) >= settings.min_pose_frames else math.nan


@dataclass(frozen=True)
class OrientationDecision:
    """The probe's verdict. rotation_cw_deg: the extra clockwise turn to apply to the picture as the container
    presents it (0 unless status is "rotated"). scores: rotation -> score (NaN: too few poses; a rotation missing
    from the dict was not probed because the stored orientation already scored high enough to be unbeatable).
    n_probe_frames: how many frames were probed (fewer than probe_frames when the stored orientation was settled
    before the last ones, `settled_whatever_follows`; its score is then the median of those)."""

    status: Status
    rotation_cw_deg: int
    scores: Mapping[int, float]
    n_probe_frames: int

    @property
    def margin(self) -> float:
        """How far the chosen orientation's score lies above the best other probed one (NaN if none)."""
        chosen = self.scores.get(self.rotation_cw_deg, math.nan)
        others = [s for r, s in self.scores.items() if r != self.rotation_cw_deg and math.isfinite(s)]
        return chosen - max(others) if others and math.isfinite(chosen) else math.nan

    @property
    def warning(self) -> str:
        """The line for the report's warnings ("" when the picture stood upright as stored)."""
        if self.status == "rotated":
            turn = "90 deg counter-clockwise" if self.rotation_cw_deg == 270 else f"{self.rotation_cw_deg} deg clockwise"
            return (f"the video was turned {turn} to stand upright: its rotation flag is "
                    f"missing or wrong (told from the pose: feet on the floor, shins up; score "
                    f"{self.scores[self.rotation_cw_deg]:.2f} against {_fmt(self.scores.get(0, math.nan))} as stored)")
        if self.status == "unknown":
            return ("could not tell from the pose which way up the video is (no hip-thrust or bridge set-up with feet "
                    "on the floor on the probe frames); it is analysed as stored: if the picture is on its side or "
                    "upside down, fix the clip's rotation and run it again")
        return ""

    def to_dict(self) -> dict:
        return {"status": self.status, "rotation_cw_deg": self.rotation_cw_deg, "n_probe_frames": self.n_probe_frames,
                "scores": {str(r): (round(s, 4) if math.isfinite(s) else None) for r, s in self.scores.items()}}


def _fmt(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "no pose"


def stored_is_settled(stored_score: float, settings: OrientationSettings) -> bool:
    """True when the stored orientation scores so high that no rotation could beat it by min_margin (scores are at
    most 1): the probe can skip the other three rotations and decide exactly as if it had tried them."""
    return math.isfinite(stored_score) and stored_score >= settings.min_score and \
        stored_score > 1.0 - settings.min_margin


def settled_whatever_follows(frame_scores: Sequence[float], n_left: int, settings: OrientationSettings) -> bool:
    """True when the stored orientation's frames scored so far (`frame_scores`) make it settled
    (`stored_is_settled`) whatever the `n_left` frames still to probe score: the probe can stop there and decide
    exactly as the full probe would (status "upright", rotation 0; only the reported median differs).

    Exact, not a bound: the median only falls as a score falls, and a frame scores at least -1 or NaN (no pose,
    which drops it from the median and may leave fewer than min_pose_frames), so the worst the remaining frames can
    do is some of them NaN and the rest -1; every such split is tried. With 10 frames that all score high this is
    true after 6. (The converse, "cannot be settled", saves nothing: the other rotations then need every frame.)"""
    if n_left < 0:
        raise ValueError(f"n_left must be >= 0, got {n_left}")
    done = list(frame_scores)
    return all(stored_is_settled(rotation_score(done + [-1.0] * (n_left - n_nan) + [math.nan] * n_nan, settings),
                                 settings) for n_nan in range(n_left + 1))


def decide(frame_scores: Mapping[int, Sequence[float]], settings: OrientationSettings) -> OrientationDecision:
    """The orientation from per-rotation frame scores (rotation -> scores of the probe frames in that rotation;
    0 = as the container presents it, which must be present).

    Keep the stored orientation unless another rotation scores at least min_score and beats it by min_margin
    (a stored orientation with no usable pose counts as -1). "unknown" when neither holds and the stored
    orientation does not reach min_score either: the caller keeps it and says so.
    """
    if 0 not in frame_scores:
        raise ValueError("decide needs the scores of the stored orientation (rotation 0)")
    scores = {r: rotation_score(frame_scores[r], settings) for r in ROTATIONS_CW_DEG if r in frame_scores}
    n = max(len(v) for v in frame_scores.values())
    stored = scores[0] if math.isfinite(scores[0]) else -1.0
    finite = {r: s for r, s in scores.items() if r != 0 and math.isfinite(s)}
    if finite:
        best = max(finite, key=lambda r: finite[r])
        if finite[best] >= settings.min_score and finite[best] - stored >= settings.min_margin:
            return OrientationDecision("rotated", best, scores, n)
    status: Status = "upright" if math.isfinite(scores[0]) and scores[0] >= settings.min_score else "unknown"
    return OrientationDecision(status, 0, scores, n)
