"""The orientation probe: before the analysis, the model looks at a few frames of the clip in each of the four
rotations and core/orientation.py decides which way up the picture is (see there for why).

Cost: one decode pass that converts only the probe frames, and the model in IMAGE mode on probe_frames frames;
the other three rotations (3 x probe_frames more) only when the stored orientation does not already score so high
that no rotation could beat it. README "Video in" has the measured cost.
"""
from __future__ import annotations

import os

from formcheck.core.config import OrientationSettings
from formcheck.core.orientation import ROTATIONS_CW_DEG, OrientationDecision, decide, frame_score, stored_is_settled
from formcheck.io.pose import ImagePoseEstimator
from formcheck.io.video_file import VideoFile, upright


def probe_orientation(path: str | os.PathLike, settings: OrientationSettings, min_visibility: float,
                      model: str | os.PathLike | None = None, max_side_px: int = 1280,
                      exhaustive: bool = False) -> OrientationDecision:
    """Which extra clockwise turn the clip's picture (as its container presents it) needs to stand upright.

    exhaustive: score all four rotations even when the stored one is already settled (for the bench's evidence;
    the decision is the same either way).
    Raises InputError (via VideoFile) for an unreadable clip, ModelError for a bad model.
    """
    with VideoFile(path) as src:
        frames = src.spread_frames(settings.probe_frames)
    with ImagePoseEstimator(model, max_side_px) as est:
        images = [est.model_input(fr.image) for fr in frames]   # downscale once, turn the small picture

        def scores(rotation_cw_deg: int) -> list[float]:
            return [frame_score(est.detect(upright(img, rotation_cw_deg), fr.t_s), settings, min_visibility)
                    for img, fr in zip(images, frames)]

        per_rotation = {0: scores(0)}
        first = decide(per_rotation, settings)
        if not exhaustive and stored_is_settled(first.scores[0], settings):
            return first
        for r in ROTATIONS_CW_DEG[1:]:
            per_rotation[r] = scores(r)
    return decide(per_rotation, settings)



def open_upright(path: str | os.PathLike, settings: OrientationSettings, min_visibility: float,
                 model: str | os.PathLike | None = None, max_side_px: int = 1280
                 ) -> tuple[VideoFile, OrientationDecision]:
    """The clip opened for the analysis, turned upright when the probe finds its rotation flag missing or wrong;
    its `orientation_warning` is what the report should say (what was done, or that it could not be told)."""
    decision = probe_orientation(path, settings, min_visibility, model, max_side_px)
    src = VideoFile(path, extra_rotation_cw_deg=decision.rotation_cw_deg)
    src.orientation_warning = decision.warning
    return src, decision
