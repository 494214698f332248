"""Re-score a clip from its cached landmarks: the same tracker, rules and report data as `analyze`, without the
model or the video (seconds for the whole labelled set). For tuning and evaluation; `analyze` stays the product."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

from formcheck.core.config import Profile
from formcheck.apps.pipeline import build_analysis, require_set
from formcheck.core.exercise import Exercise
from formcheck.core.tracker import SetTracker
from formcheck.core.types import Analysis
from formcheck.io.pose_cache import CachedClip, poses_of

def analysis_from_poses(clip: CachedClip, cands: Sequence[tuple[Exercise, Profile]]) -> Analysis:
    """Raises NoPersonError / NoRepsError exactly where analyze would."""
    tracker = SetTracker(cands)
    for pose in clip.poses:
        tracker.update(pose)
    reps = tracker.finish()
    info = clip.info
    require_set(tracker, info.path)
    n = len(clip.poses)
    info = dataclasses.replace(info, n_frames=n, duration_s=round(tracker.last_t_s + 1.0 / info.fps, 3))
    return build_analysis(tracker, info, reps, n_frames=n, detection_rate=tracker.detection_rate,
                          model_name=clip.model,
                          warnings=[w for w in (clip.orientation_warning, clip.decode_warning) if w])


def rescore(path: str | os.PathLike, cands: Sequence[tuple[Exercise, Profile]], model: str | None = None,
            cache_dir: str | os.PathLike | None = None) -> Analysis:
    """The clip's analysis from cached landmarks (the model runs once, the first time)."""
    cands = list(cands)
    prof = cands[0][1]
    clip = poses_of(Path(path), model, prof.pose.max_model_side_px, cache_dir, prof.orientation, prof.pose.min_visibility)
    return analysis_from_poses(clip, cands)
