"""Re-score a clip from its cached landmarks: the same tracker, rules and report data as `analyze`, without the
model or the video (seconds for the whole labelled set). For tuning and evaluation; `analyze` stays the product."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

from formcheck.core.config import Profile
from formcheck.core.errors import NoPersonError, NoRepsError
from formcheck.core.exercise import Exercise
from formcheck.core.tracker import SetTracker
from formcheck.core.types import Analysis
from formcheck.io.pose_cache import CachedClip, poses_of

MIN_DETECTION_RATE = 0.2   # as analyze: below this the clip does not show a lifter the model can follow


def analysis_from_poses(clip: CachedClip, cands: Sequence[tuple[Exercise, Profile]]) -> Analysis:
    """Raises NoPersonError / NoRepsError exactly where analyze would."""
    tracker = SetTracker(cands)
    for pose in clip.poses:
        tracker.update(pose)
    reps = tracker.finish()
    info = clip.info
    if tracker.detection_rate < MIN_DETECTION_RATE:
        raise NoPersonError(f"{info.path}: no person found in {100 * (1 - tracker.detection_rate):.0f}% of frames; "
                            f"film the whole body from the side, well lit")
    if not reps:
        seen = tracker.no_rep_reason()
        what = tracker.exercise.name.replace("_", "-")
        raise NoRepsError(f"{info.path}: no {what} rep found: {seen}" if seen else
                          f"{info.path}: no complete {what} rep found; film from the side with the whole body "
                          f"in frame for the whole set")
    n = len(clip.poses)
    info = dataclasses.replace(info, n_frames=n, duration_s=round(tracker._last_t + 1.0 / info.fps, 3))
    return Analysis(video=info, reps=tuple(reps), n_frames=n, detection_rate=round(tracker.detection_rate, 4),
                    side=tracker.side, facing="right" if tracker.head_right else "left",
                    profile=tracker.profile.source, model=clip.model, exercise=tracker.exercise.name,
                    warnings=(clip.decode_warning,) if clip.decode_warning else ())


def rescore(path: str | os.PathLike, cands: Sequence[tuple[Exercise, Profile]], model: str | None = None,
            cache_dir: str | os.PathLike | None = None) -> Analysis:
    """The clip's analysis from cached landmarks (the model runs once, the first time)."""
    cands = list(cands)
    clip = poses_of(Path(path), model, cands[0][1].pose.max_model_side_px, cache_dir)
    return analysis_from_poses(clip, cands)
