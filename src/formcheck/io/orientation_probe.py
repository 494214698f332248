"""The orientation probe: before the analysis, the model looks at a few frames of the clip in each of the four
rotations and core/orientation.py decides which way up the picture is (see there for why).

Cost: one decode pass that skips non-reference frames and converts only the probe frames, on a thread beside the
model in IMAGE mode on at most probe_frames frames (it stops, and the decode with it, once the stored orientation
is settled whatever the rest would score: 6 of 10 on an upright clip);
the other three rotations (3 x probe_frames more) only when the stored orientation does not already score so high
that no rotation could beat it. README "Video in" has the measured cost.
"""
from __future__ import annotations

import os
import queue
import threading
from contextlib import closing
from typing import Iterator

import numpy as np

from formcheck.core.config import OrientationSettings
from formcheck.core.orientation import (ROTATIONS_CW_DEG, OrientationDecision, decide, frame_score,
                                        settled_whatever_follows, stored_is_settled)
from formcheck.io.pose import ImagePoseEstimator
from formcheck.io.video_file import Frame, VideoFile, upright


def probe_orientation(path: str | os.PathLike, settings: OrientationSettings, min_visibility: float,
                      model: str | os.PathLike | None = None, max_side_px: int = 1280,
                      exhaustive: bool = False, keep_graph: list[ImagePoseEstimator] | None = None
                      ) -> OrientationDecision:
    """Which extra clockwise turn the clip's picture (as its container presents it) needs to stand upright.

    Frames are probed as they decode, and the probe stops as soon as the stored orientation is settled whatever
    the frames left would score (`settled_whatever_follows`: after 6 of 10 on an upright clip): the decision is
    the full probe's, `n_probe_frames` says how many frames it took.
    exhaustive: every probe frame in all four rotations (for the bench's evidence; the decision is the same).
    keep_graph: when given, the probe's IMAGE-mode graph is appended to it, open, once the probe succeeded (analyze
    hands it on to the people search: one graph set up instead of two); the caller closes it. Without it (or on
    an error, or with the probe off: no graph) the graph is closed here.
    Raises InputError (via VideoFile) for an unreadable clip, ModelError for a bad model.
    """
    src = VideoFile(path)            # an unreadable clip fails here, before the model loads
    if settings.probe_frames <= 0:   # switched off in the profile: the container's rotation is trusted
        src.close()
        return OrientationDecision("off", 0, {}, 0)
    try:
        est = ImagePoseEstimator(model, max_side_px)
    except BaseException:
        src.close()
        raise
    try:
        decision = _probe(src, est, settings, min_visibility, exhaustive)
    except BaseException:
        est.close()
        raise
    if keep_graph is not None:
        keep_graph.append(est)
    else:
        est.close()
    return decision


def _probe(src: VideoFile, est: ImagePoseEstimator, settings: OrientationSettings, min_visibility: float,
           exhaustive: bool) -> OrientationDecision:
    images: list[np.ndarray] = []
    per_rotation: dict[int, list[float]] = {0: []}
    # The picture as stored, scored while the rest of the clip decodes (PyAV releases the GIL).
    with src, closing(_decoded_ahead(src.spread_frames(settings.probe_frames))) as frames:
        for fr in frames:
            images.append(est.model_input(fr.image))    # downscaled once; the small picture is turned
            per_rotation[0].append(frame_score(est.detect(images[-1], fr.t_s), settings, min_visibility))
            if not exhaustive and settled_whatever_follows(per_rotation[0], settings.probe_frames - len(images),
                                                           settings):
                return decide(per_rotation, settings)   # the frames left could not change the decision
    stored = decide(per_rotation, settings)
    if not exhaustive and stored_is_settled(stored.scores[0], settings):
        return stored                                   # no other rotation could beat it by min_margin
    for r in ROTATIONS_CW_DEG[1:]:
        per_rotation[r] = [frame_score(est.detect(upright(img, r)), settings, min_visibility) for img in images]
    return decide(per_rotation, settings)


def _decoded_ahead(frames: Iterator[Frame], ahead: int = 2) -> Iterator[Frame]:
    """`frames` decoded on a thread, at most `ahead` in hand; a decoding error is raised here."""
    q: queue.Queue = queue.Queue(maxsize=ahead)
    err: list[BaseException] = []
    stop = threading.Event()

    def pump() -> None:
        try:
            for fr in frames:
                if stop.is_set():
                    return
                q.put(fr)
        except BaseException as e:   # handed to the consumer
            err.append(e)
        finally:
            q.put(_END)

    t = threading.Thread(target=pump, name="formcheck-probe-decode", daemon=True)
    t.start()
    try:
        while (item := q.get()) is not _END:
            yield item
    finally:
        stop.set()
        while t.is_alive():          # unblock the pump if the consumer stopped early
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            t.join(0.05)
    if err:
        raise err[0]


_END = object()


def open_upright(path: str | os.PathLike, settings: OrientationSettings, min_visibility: float,
                 model: str | os.PathLike | None = None, max_side_px: int = 1280,
                 keep_graph: list[ImagePoseEstimator] | None = None) -> tuple[VideoFile, OrientationDecision]:
    """The clip opened for the analysis, turned upright when the probe finds its rotation flag missing or wrong;
    its `orientation_warning` is what the report should say (what was done, or that it could not be told).
    keep_graph: as probe_orientation's."""
    decision = probe_orientation(path, settings, min_visibility, model, max_side_px, keep_graph=keep_graph)
    src = VideoFile(path, extra_rotation_cw_deg=decision.rotation_cw_deg)
    src.orientation_warning = decision.warning
    return src, decision
