"""Live frame sources: a camera or stream (OpenCV) or a clip played as one, each on its own capture thread,
handing frames over through a one-frame slot where the newest frame wins.

When pose estimation is slower than the camera, older frames are dropped (and counted) instead of queueing, so
the picture never falls behind. Camera frames are stamped with time.monotonic() from the start; a clip played as
a camera keeps its own timestamps, so its verdicts are the ones `formcheck analyze` gives on the same clip.
"""
from __future__ import annotations

import glob
import math
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from formcheck.core.errors import InputError
from formcheck.core.types import VideoInfo
from formcheck.io.pose import quiet_native_stderr
from formcheck.io.video_file import VideoFile

CAMERA_TIMEOUT_S = 2.0      # a camera that sends nothing for this long is gone (unplugged, stream over)


class CameraError(InputError):
    """The camera (or stream) cannot be opened or sends no frames."""


@dataclass
class Captured:
    """One captured frame. image: (H, W, 3) uint8 RGB; t_s: stream time; captured_at_s: time.monotonic() at capture."""

    index: int
    t_s: float
    image: np.ndarray
    captured_at_s: float


class LatestFrame:
    """A one-frame hand-over between the source thread and the loop: `put` replaces a frame nobody took yet."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._item: Captured | None = None
        self._closed = False
        self.n_put = 0
        self.n_dropped = 0

    def put(self, item: Captured) -> None:
        with self._cv:
            if self._item is not None:
                self.n_dropped += 1
            self._item = item
            self.n_put += 1
            self._cv.notify()

    def close(self) -> None:
        """No more frames will come (the source ended); `get` still returns the last one not yet taken."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    @property
    def finished(self) -> bool:
        with self._cv:
            return self._closed and self._item is None

    def get(self, timeout_s: float) -> Captured | None:
        with self._cv:
            self._cv.wait_for(lambda: self._item is not None or self._closed, timeout_s)
            item, self._item = self._item, None
            return item


# -- sources ---------------------------------------------------------------------------------------------------------
class LiveSource:
    """A frame source run on its own thread. `info` describes the stream; `end_reason` says why it stopped."""

    is_camera = True

    def __init__(self, label: str, info: VideoInfo) -> None:
        self.label = label
        self.info = info
        self.end_reason = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.t0_s = 0.0

    def start(self, slot: LatestFrame) -> None:
        self.t0_s = time.monotonic()
        self._thread = threading.Thread(target=self._guarded, args=(slot,), name="formcheck-capture", daemon=True)
        self._thread.start()

    def _guarded(self, slot: LatestFrame) -> None:
        try:
            self._run(slot)
        except Exception as e:  # a capture error ends the stream; the set so far is kept
            self.end_reason = self.end_reason or f"capture failed ({type(e).__name__}: {e})"
        finally:
            slot.close()

    def _run(self, slot: LatestFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def stop(self) -> None:
        """Stop capturing and release the device. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            if self._thread.is_alive():   # stuck in a driver read: releasing under it could crash; exit reclaims it
                return
        self._release()

    def _release(self) -> None:
        pass


class FileAsCamera(LiveSource):
    """A video file played as if it were a camera: frames are released at the clip's own pace (real time) and
    stamped with the clip's timestamps. `resize_to=(w, h)` scales each frame on the way (benchmarks at 720p)."""

    is_camera = False

    def __init__(self, path: str | os.PathLike, resize_to: tuple[int, int] | None = None) -> None:
        self._video = VideoFile(path)   # InputError for missing / unreadable files
        vi = self._video.info
        self.resize_to = resize_to
        w, h = resize_to or (vi.width, vi.height)
        super().__init__(str(path), VideoInfo(vi.path, w, h, vi.fps, 0, 0.0, vi.rotation_deg, vi.codec))

    def _run(self, slot: LatestFrame) -> None:
        t_first = None
        for fr in self._video:
            if self._stop.is_set():
                return
            if t_first is None:
                t_first = fr.t_s
            img = fr.image
            if self.resize_to is not None and (img.shape[1], img.shape[0]) != self.resize_to:
                img = cv2.resize(img, self.resize_to, interpolation=cv2.INTER_LINEAR)
            wait = self.t0_s + (fr.t_s - t_first) - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            slot.put(Captured(fr.index, fr.t_s, img, time.monotonic()))
        self.end_reason = "end of the clip"
        if self._video.decode_warning:
            self.end_reason += f" ({self._video.decode_warning})"

    def _release(self) -> None:
        self._video.close()


def list_cameras() -> list[str]:
    """Cameras this machine offers, as "index (name)". Linux: the /dev/video* nodes, without opening them."""
    found = []
    if sys.platform.startswith("linux"):
        for dev in sorted(glob.glob("/dev/video*"), key=lambda p: int(re.sub(r"\D", "", p) or 0)):
            n = re.sub(r"\D", "", dev)
            try:
                name = Path(f"/sys/class/video4linux/video{n}/name").read_text().strip()
            except OSError:
                name = ""
            found.append(f"{n} ({name})" if name else n)
        return found
    for i in range(4):  # elsewhere there is no device list: probe the first few indices quietly
        with quiet_native_stderr():
            cap = cv2.VideoCapture(i)
            ok = cap.isOpened()
            cap.release()
        if ok:
            found.append(str(i))
    return found


class CameraSource(LiveSource):
    """A webcam (index) or a stream URL through OpenCV. Frames are stamped with time.monotonic() at capture."""

    def __init__(self, spec: str) -> None:
        self.spec = str(spec)
        index = int(self.spec) if self.spec.isdigit() else None
        if index is not None and sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{index}"):
            raise self._not_found()
        old = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            with quiet_native_stderr():    # FFmpeg / V4L2 write their own complaints straight to fd 2
                if index is None:
                    cap = cv2.VideoCapture(self.spec)
                else:
                    cap = cv2.VideoCapture(index, cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY)
                ok, first = cap.read() if cap.isOpened() else (False, None)
        finally:
            cv2.utils.logging.setLogLevel(old)
        if not cap.isOpened():
            raise self._not_found()
        if not ok or first is None:
            cap.release()
            raise CameraError(f"camera {self.spec} opened but sends no frames (in use by another program?); close "
                              f"other camera apps or pass another --camera; cameras found: "
                              f"{', '.join(list_cameras()) or 'none'}")
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)    # where supported: no queue of old frames inside the driver
        self._cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS)
        fps = float(fps) if fps and math.isfinite(fps) and 1 <= fps <= 240 else 30.0
        h, w = first.shape[:2]
        super().__init__(self.spec if index is None else f"camera {index}",
                         VideoInfo(self.spec if index is None else f"camera:{index}", int(w), int(h), fps, 0, 0.0,
                                   0, "camera"))

    def _not_found(self) -> CameraError:
        what = f"camera {self.spec}" if self.spec.isdigit() else f"stream {self.spec}"
        return CameraError(f"{what} could not be opened; cameras found: {', '.join(list_cameras()) or 'none'}; "
                           f"pass --camera N, a stream URL, or --source FILE to play a clip")

    def _run(self, slot: LatestFrame) -> None:
        # The probe frame read at open is not delivered: it is seconds old by now (the model loaded since).
        last_ok = time.monotonic()
        i = 0
        while not self._stop.is_set():
            ok, bgr = self._cap.read()
            now = time.monotonic()
            if not ok or bgr is None:
                if now - last_ok > CAMERA_TIMEOUT_S:
                    self.end_reason = ("camera stopped sending frames (unplugged?)" if self.spec.isdigit()
                                       else "the stream ended")
                    return
                self._stop.wait(0.01)
                continue
            last_ok = now
            slot.put(Captured(i, now - self.t0_s, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), now))
            i += 1
        self.end_reason = "stopped"

    def _release(self) -> None:
        self._cap.release()


def open_source(camera: str | None, source: str | None) -> LiveSource:
    """--source FILE wins over --camera (a clip played as a camera); otherwise the camera index or URL."""
    if source:
        return FileAsCamera(source)
    return CameraSource(camera if camera is not None else "0")
