"""The one frame pipeline `analyze` and `live` share: everyone's pose -> PeopleTracker (a SetTracker per person,
the lifter's shown) per frame, overlay + H.264 (+ lockout thumbnails) on an encoder thread, and the Analysis built
from the finished tracker.

Only how frames arrive differs between the two (a decoder thread vs. a camera slot where the newest frame wins),
so a clip played as a camera gets the same verdicts as `formcheck analyze` on it.
"""
from __future__ import annotations

import bisect
import dataclasses
import os
import queue
import threading
from collections import deque
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np

from formcheck.core.errors import NoPersonError, NoRepsError
from formcheck.core.reps import Phase
from formcheck.core.people import PeopleTracker
from formcheck.core.tracker import FrameState, SetTracker
from formcheck.core.types import Analysis, PoseFrame, Rep, VideoInfo
from formcheck.io.camera_motion import CameraMotion, work_image
from formcheck.io.pose import PeopleEstimator
from formcheck.io.video_writer import H264Writer
from formcheck.render import overlay

QUEUE_FRAMES = 8            # frames a pipeline thread may run ahead of the next one (bounds memory)
#: Longest side of a lockout thumbnail (report.page.THUMB_MAX_PX: the page shows them at this size).
THUMB_MAX_PX = 480
THUMB_JPEG_QUALITY = 80
#: Frames of the lockout kept as candidate thumbnails (JPEG, ~20 KB each at 480 px): 20 s at 30 fps, 10 s at 60.
#: A longer hold keeps its last frames only; the thumbnail is then the nearest of those.
THUMB_RING_FRAMES = 600

_END = object()


# -- per frame -------------------------------------------------------------------------------------------------------
class FrameStep:
    """poses -> tracker for one frame. Split in two (`detect`, `track`) for the live set-up check, which looks at
    the lifter's pose before the tracker does (passing it may restart the count on that very frame).

    The camera's drift (io/camera_motion.py) goes with each frame's poses, so a handheld phone is not read as the
    lifter rocking: measured on the model's input picture with everyone found left out, as the landmark cache does
    it (pose_cache.motion_of)."""

    def __init__(self, estimator: PeopleEstimator, tracker: PeopleTracker) -> None:
        self.estimator = estimator
        self.tracker = tracker
        self.camera = CameraMotion()

    def detect(self, image_rgb: np.ndarray, t_s: float, frame_size: tuple[int, int] | None = None
               ) -> list[PoseFrame]:
        """Everyone's pose. `image_rgb`: the full frame, or `estimator.model_input(frame)` with the full frame's
        (w, h) as frame_size."""
        poses = self.estimator.detect_all(image_rgb, t_s, frame_size)
        size = frame_size or (image_rgb.shape[1], image_rgb.shape[0])
        to_ref = self.camera.update(work_image(self.estimator.model_input(image_rgb)), size,
                                    [p.xy_px for p in poses if p.detected])
        return poses if to_ref is None else [dataclasses.replace(p, to_ref_px=to_ref) for p in poses]

    def track(self, poses: list[PoseFrame], t_s: float) -> FrameState:
        return self.tracker.update(poses, t_s)

    def __call__(self, image_rgb: np.ndarray, t_s: float, frame_size: tuple[int, int] | None = None) -> FrameState:
        return self.track(self.detect(image_rgb, t_s, frame_size), t_s)


def open_people(tracker: PeopleTracker, model: str | os.PathLike | None) -> PeopleEstimator:
    """The pose model set up as the tracker's profile says (downscale limit, how many people it follows)."""
    pose = tracker.profile.pose
    return PeopleEstimator(model, pose.max_model_side_px, pose)


# -- lockout thumbnails ------------------------------------------------------------------------------------------------
def _downscale(image_rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (w, h): an integer-factor area average (fast in OpenCV) down to less than 2x the target, then
    bilinear. Generic INTER_AREA at a fractional ratio costs ~5x more, and this runs on every frame at the top."""
    h, w = image_rgb.shape[:2]
    k = int(w / size[0])
    if k >= 2:
        image_rgb = cv2.resize(image_rgb, (w // k, h // k), interpolation=cv2.INTER_AREA)
    if (image_rgb.shape[1], image_rgb.shape[0]) == size:
        return image_rgb
    return cv2.resize(image_rgb, size, interpolation=cv2.INTER_LINEAR)


def thumbnail_jpeg(image_rgb: np.ndarray, max_px: int = THUMB_MAX_PX, quality: int = THUMB_JPEG_QUALITY) -> bytes:
    """JPEG of a frame downscaled to `max_px` on its longest side (even sizes, as the report's thumbnails)."""
    h, w = image_rgb.shape[:2]
    scale = min(1.0, max_px / max(h, w))
    tw, th = max(2, int(round(w * scale / 2)) * 2), max(2, int(round(h * scale / 2)) * 2)
    small = image_rgb if (tw, th) == (w, h) else _downscale(image_rgb, (tw, th))
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 RGB image
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


class LockoutThumbs:
    """Picks each rep's thumbnail on the way to the encoder, so the report never decodes the video again.

    Every frame of a lockout window is shown in phase "top" (the segmenter is at the top whenever the drive is
    within the band of its peak so far), but the window is known only once the rep closes, a second or two later.
    So top-phase frames are kept as small JPEGs in a bounded ring, and when a rep appears the one nearest its
    lockout middle is taken and the ring is emptied up to that rep's end.
    """

    def __init__(self, max_frames: int = THUMB_RING_FRAMES, max_px: int = THUMB_MAX_PX) -> None:
        self.max_px = max_px
        self._ring: deque[tuple[float, bytes]] = deque(maxlen=max_frames)
        self.thumbs: list[bytes | None] = []

    def frame(self, image_rgb: np.ndarray, t_s: float, phase: str) -> None:
        if phase == Phase.TOP:
            self._ring.append((t_s, thumbnail_jpeg(image_rgb, self.max_px)))

    def reps(self, reps: Sequence[Rep]) -> None:
        """Reps closed so far (in order); takes a thumbnail for each one not seen yet."""
        for rep in reps[len(self.thumbs):]:
            mid_s = 0.5 * (rep.lockout_start_s + rep.lockout_end_s)
            ring = self._ring
            best = min(ring, key=lambda it: abs(it[0] - mid_s), default=None)
            self.thumbs.append(best[1] if best is not None else None)
            times = [t for t, _ in ring]
            for _ in range(bisect.bisect_right(times, rep.end_s)):
                ring.popleft()


# -- the encoder thread --------------------------------------------------------------------------------------------
class Encoder:
    """Overlay drawing, H.264 and lockout thumbnails off the inference thread (OpenCV and x264 release the GIL).

    queue_frames: how far the encoder may lag. drop_when_full: False (a clip: every frame is written, the
    producer waits), True (live: a frame the encoder cannot take is left out of the recording, counted in
    `n_dropped`, so the picture on screen never waits for the file).
    draw: draw the overlay here (False when the frames come already drawn, as live's do for its window).
    thumbs: keep lockout thumbnails (`thumbs` after `close`). temp_suffix: write to `<stem><suffix><ext>` and
    rename on success, so a half-written file never carries the final name.
    Errors are kept (`error`), not raised: the producer decides what a failed video means.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float, *,
                 queue_frames: int = QUEUE_FRAMES, drop_when_full: bool = False, draw: bool = True,
                 thumbs: bool = False, temp_suffix: str = "") -> None:
        self.path = Path(path)
        self._file = (self.path.with_name(self.path.stem + temp_suffix + (self.path.suffix or ".mp4"))
                      if temp_suffix else self.path)
        self._writer = H264Writer(self._file, width, height, fps)   # OSError when the folder is not writable
        self._q: queue.Queue = queue.Queue(maxsize=queue_frames)
        self.drop_when_full = drop_when_full
        self.draw = draw
        self._thumbs = LockoutThumbs() if thumbs else None
        self.n_written = 0
        self.n_dropped = 0
        self.error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="formcheck-encode", daemon=True)
        self._thread.start()

    @property
    def thumbs(self) -> list[bytes | None] | None:
        """Lockout JPEGs in rep order (None for a rep with no top frame); None when not kept or they failed."""
        return list(self._thumbs.thumbs) if self._thumbs is not None else None

    def put(self, image_rgb: np.ndarray, state: FrameState, reps: Sequence[Rep]) -> bool:
        """Queue one frame with its state and the reps closed so far (a tuple snapshot: the encoder reads it
        later). The image is drawn on in place. Returns False when the frame was dropped."""
        item = (image_rgb, state, reps)
        if not self.drop_when_full:
            self._q.put(item)
            return True
        try:
            self._q.put_nowait(item)
            return True
        except queue.Full:
            self.n_dropped += 1
            return False

    def _run(self) -> None:
        while (item := self._q.get()) is not _END:
            if self.error is not None:
                continue                     # keep draining so the producer never blocks
            image, st, reps = item
            try:
                if self.draw:
                    overlay.draw(image, st, reps, inplace=True)
                self._writer.write(image, st.t_s)
                self.n_written += 1
            except BaseException as e:
                self.error = e
                continue
            if self._thumbs is not None:
                try:
                    self._thumbs.frame(image, st.t_s, st.phase)
                    self._thumbs.reps(reps)
                except Exception:            # pragma: no cover - the report then takes them from the video
                    self._thumbs = None

    def close(self, reps: Sequence[Rep] = ()) -> Path | None:
        """Finish the file. `reps`: the final reps (those closed at the end of the stream get their thumbnail).
        Returns the file's path, or None when it failed or holds no frame (then it is removed). Idempotent."""
        if self._closed:
            return self.path if self.error is None and self.n_written else None
        self._closed = True
        self._q.put(_END)
        self._thread.join()
        try:
            self._writer.close()
        except BaseException as e:
            self.error = self.error or e
        if self._thumbs is not None:
            try:
                self._thumbs.reps(reps)
            except Exception:                # pragma: no cover
                self._thumbs = None
        if self.error is not None or self.n_written == 0:
            self._file.unlink(missing_ok=True)
            return None
        if self._file != self.path:
            os.replace(self._file, self.path)
        return self.path


# -- the result --------------------------------------------------------------------------------------------------------
MIN_DETECTION_RATE = 0.2   # below this the clip does not show a lifter the model can follow


def require_set(tracker: PeopleTracker | SetTracker, path: str) -> None:
    """Raise the one-line error of a clip without a result: no person, or no rep (saying what was seen)."""
    if tracker.detection_rate < MIN_DETECTION_RATE:
        raise NoPersonError(f"{path}: no person found in {100 * (1 - tracker.detection_rate):.0f}% of frames; "
                            f"film the whole body from the side, well lit")
    if not tracker.reps:
        seen = tracker.no_rep_reason()
        what = tracker.exercise.name.replace("_", "-")
        raise NoRepsError(f"{path}: no {what} rep found: {seen}" if seen else
                          f"{path}: no complete {what} rep found; film from the side with the whole body "
                          f"in frame for the whole set")


def build_analysis(tracker: PeopleTracker | SetTracker, video: VideoInfo, reps: Iterable[Rep], *, n_frames: int,
                   detection_rate: float, model_name: str, warnings: Iterable[str] = ()) -> Analysis:
    """The Analysis (report.json's data) of a finished set. `reps` are passed in because live renumbers them
    across pauses; side, facing, exercise and profile come from the tracker."""
    return Analysis(video=video, reps=tuple(reps), n_frames=n_frames, detection_rate=round(detection_rate, 4),
                    side=tracker.side, facing="right" if tracker.head_right else "left",
                    profile=tracker.profile.source, model=model_name, exercise=tracker.exercise.name,
                    warnings=tuple(warnings))


def with_outputs(analysis: Analysis, outputs: dict[str, str]) -> Analysis:
    return dataclasses.replace(analysis, outputs=dict(outputs))
