"""Live coaching: a camera (or a clip played as one) -> pose -> SetTracker -> overlay, in real time.

The same causal pipeline as `analyze` (PoseEstimator + SetTracker + overlay.draw), fed by a camera instead of a
decoder. Threads, and why:

- source thread: captures into a one-frame slot where the newest frame wins. When pose estimation is slower than
  the camera, older frames are dropped (and counted) instead of queueing, so the picture never falls behind;
- main thread: pose, tracker and overlay on the newest frame, then the window (OpenCV/Qt windows belong on the
  main thread) and the keys;
- encoder thread (`--record`): H.264 off the video loop; voice thread (`--voice`): synthesis and playback.

Camera frames are stamped with time.monotonic() from the start; a clip played with `--source` keeps its own
timestamps, so its verdicts are the ones `formcheck analyze` gives on the same clip.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import glob
import json
import math
import os
import queue
import re
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from formcheck.render import overlay
from formcheck.core.config import Profile
from formcheck.exercises import candidates, exercise_of
from formcheck.core.errors import FormcheckError, InputError, OutputError
from formcheck.io.pose import PoseEstimator, quiet_native_stderr
from formcheck.report.files import summary_text, write_json, write_text_atomic
from formcheck.core.setup_check import GOOD_TO_GO, NO_PERSON, SetupGate, SetupSettings, check_setup, frame_brightness
from formcheck.io.video_file import VideoFile
from formcheck.core.tracker import FrameState, SetTracker
from formcheck.core.types import Analysis, Rep, VideoInfo
from formcheck.io.video_writer import H264Writer

DEFAULT_OUT_DIR = "formcheck_live"
WINDOW_NAME = "formcheck live"
CAMERA_TIMEOUT_S = 2.0      # a camera that sends nothing for this long is gone (unplugged, stream over)
NO_PERSON_S = 0.5           # say "no person in view" after this long without a pose (not on one missed frame)
GOOD_TO_GO_SHOW_S = 2.0     # how long "good to go" stays on screen once the set-up passed
FPS_WINDOW_S = 1.0          # the frame rate shown is measured over this much recent time
RECORD_QUEUE = 32           # frames the recorder may lag before it drops (the live picture comes first)

KEY_HELP = "q/Esc quit  r reset  space pause"
MAX_MESSAGES = 500          # on-screen messages kept in live.json (a flickering message must not grow it forever)
KEY_HELP_S = 6.0            # the key help shows this long after the start


class CameraError(InputError):
    """The camera (or stream) cannot be opened or sends no frames."""


class DisplayError(FormcheckError):
    """A window was asked for but there is no display to show it on."""


# -- frames and the newest-frame slot -------------------------------------------------------------------------------
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


# -- window and recorder ---------------------------------------------------------------------------------------------
def _check_display() -> None:
    """Fail with one line, not a Qt abort, when there is no X display to open a window on."""
    if not sys.platform.startswith("linux"):
        return
    disp = os.environ.get("DISPLAY")
    if not disp:
        if os.environ.get("WAYLAND_DISPLAY"):
            return
        raise DisplayError("no display for the live window (DISPLAY is not set); run with --no-window")
    lib = ctypes.util.find_library("X11")
    if not lib:
        return
    x11 = ctypes.CDLL(lib)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    d = x11.XOpenDisplay(disp.encode())
    if not d:
        raise DisplayError(f"cannot open the display {disp} for the live window; run with --no-window")
    x11.XCloseDisplay(d)


class Window:
    """The OpenCV window. Frames come in RGB and are converted to BGR only here."""

    def __init__(self) -> None:
        _check_display()
        # opencv-python points Qt at a font folder it does not ship; use the system fonts when there are some.
        if not Path(os.environ.get("QT_QPA_FONTDIR", "")).is_dir():
            for d in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype", "/usr/share/fonts"):
                if Path(d).is_dir():
                    os.environ["QT_QPA_FONTDIR"] = d
                    break
        cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)   # no Qt toolbar over the picture
        self._shown = False

    def show(self, image_rgb: np.ndarray) -> int | None:
        """Show a frame and return the key pressed (lower-case code), if any."""
        cv2.imshow(WINDOW_NAME, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        self._shown = True
        return self.poll()

    def poll(self) -> int | None:
        k = cv2.waitKey(1)
        return None if k == -1 else k & 0xFF

    @property
    def closed(self) -> bool:
        """The user closed the window with its close button."""
        if not self._shown:
            return False
        try:
            return cv2.getWindowProperty(WINDOW_NAME, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        try:
            cv2.destroyWindow(WINDOW_NAME)
            cv2.waitKey(1)
        except cv2.error:
            pass


class Recorder:
    """Annotated frames -> H.264 on its own thread, written to a .partial file and renamed when complete.
    If the encoder lags more than RECORD_QUEUE frames, frames are dropped from the recording, never from the screen."""

    _END = object()

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(self.path.stem + ".partial" + (self.path.suffix or ".mp4"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = H264Writer(self._tmp, width, height, fps)
        except OSError as e:
            raise OutputError(f"cannot write the recording {self.path} ({e.strerror or e}); pick a writable path "
                              f"for --record") from None
        self._q: queue.Queue = queue.Queue(maxsize=RECORD_QUEUE)
        self.n_written = 0
        self.n_dropped = 0
        self.error = ""
        self._thread = threading.Thread(target=self._run, name="formcheck-record", daemon=True)
        self._thread.start()

    def write(self, image_rgb: np.ndarray, t_s: float) -> None:
        try:
            self._q.put_nowait((image_rgb, t_s))
        except queue.Full:
            self.n_dropped += 1

    def _run(self) -> None:
        while (item := self._q.get()) is not self._END:
            if self.error:
                continue
            try:
                self._writer.write(*item)
                self.n_written += 1
            except Exception as e:
                self.error = f"{type(e).__name__}: {e}"

    def close(self) -> Path | None:
        """Finish the file; returns its path, or None when nothing could be recorded."""
        self._q.put(self._END)
        self._thread.join()
        try:
            self._writer.close()
        except Exception as e:
            self.error = self.error or f"{type(e).__name__}: {e}"
        if self.error or self.n_written == 0:
            self._tmp.unlink(missing_ok=True)
            return None
        os.replace(self._tmp, self.path)
        return self.path


# -- the session -----------------------------------------------------------------------------------------------------
@dataclass
class LiveStats:
    """How the live loop kept up. Delays are from frame capture to the overlay drawn on it."""

    frames_captured: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0          # captured but never processed: the loop skipped to a newer frame
    frames_paused: int = 0           # taken while paused (shown frozen, not analysed)
    fps_shown: float = 0.0           # processed-and-shown frames per second over the run
    delay_ms_median: float = math.nan
    delay_ms_p95: float = math.nan
    delay_ms_max: float = math.nan
    wall_s: float = 0.0
    setup_ok_at_s: float | None = None   # stream time the set-up check passed (None: skipped or never passed)
    messages: list[str] = field(default_factory=list)       # on-screen messages (set-up advice, no person), in order
    verdicts: list[dict] = field(default_factory=list)      # {t_s, rep, rule_id, cue}: faults as they were called
    spoken: list[dict] = field(default_factory=list)        # {t_s, rule_id, text, wav}
    resets: list[float] = field(default_factory=list)       # stream times of 'r'
    end_reason: str = ""
    record_dropped: int = 0


@dataclass
class LiveResult:
    analysis: Analysis
    stats: LiveStats


class _FpsMeter:
    def __init__(self, window_s: float = FPS_WINDOW_S) -> None:
        self.window_s = window_s
        self._t: deque[float] = deque()

    def tick(self, now_s: float) -> float | None:
        self._t.append(now_s)
        while len(self._t) > 2 and self._t[0] < now_s - self.window_s:
            self._t.popleft()
        if len(self._t) < 2 or self._t[-1] <= self._t[0]:
            return None
        return (len(self._t) - 1) / (self._t[-1] - self._t[0])


def _set_summary_lines(reps: list[Rep], cues: dict[str, tuple[str, str]] | None = None
                       ) -> list[tuple[str, tuple[int, int, int]]]:
    """The running set summary: rep count, clean reps, and each fault's cue with how often it came up."""
    from formcheck.exercises import DEFAULT, get_exercise

    cues = cues or get_exercise(DEFAULT).cues
    if not reps:
        return [("SET: no reps yet", overlay.WHITE)]
    n_good = sum(1 for r in reps if not r.faults)
    lines = [(f"SET: {len(reps)} rep{'s' if len(reps) != 1 else ''}, {n_good} good",
              overlay.GREEN if n_good == len(reps) else overlay.WHITE)]
    tally = Counter(f for r in reps for f in r.faults)
    for rule_id, n in tally.most_common(4):
        lines.append((f"{cues[rule_id][0]} x{n}", overlay.RED))
    return lines


def draw_live_panel(img: np.ndarray, reps: list[Rep], status: str = "") -> None:
    """Top-right panel: the running set summary and a status word (PAUSED, keys). Draws in place."""
    h, w = img.shape[:2]
    s = max(h, w) / 640.0
    lines = _set_summary_lines(reps)
    if status:
        lines.append((status, overlay.AMBER))
    scale = 0.5 * s
    thick = max(1, int(round(1.2 * s)))
    sizes = [cv2.getTextSize(t, overlay.FONT, scale, thick)[0] for t, _ in lines]
    pad = int(8 * s)
    line_h = int(22 * s)
    pw = max(tw for tw, _ in sizes) + 2 * pad
    ph = line_h * len(lines) + pad
    x0, y0 = max(0, w - pw), 0
    roi = img[y0:y0 + ph, x0:w]
    roi[:] = (roi.astype(np.uint16) * 115 >> 8).astype(np.uint8)
    for i, (text, col) in enumerate(lines):
        cv2.putText(img, text, (x0 + pad, y0 + line_h * (i + 1) - int(4 * s)), overlay.FONT, scale, col, thick,
                    cv2.LINE_AA)


def _banner(img: np.ndarray, text: str) -> None:
    """A centred status line over a frozen frame (pause)."""
    h, w = img.shape[:2]
    s = max(h, w) / 640.0
    (tw, th), _ = cv2.getTextSize(text, overlay.FONT, 1.0 * s, max(1, int(2 * s)))
    x, y = max(0, (w - tw) // 2), int(h * 0.3)
    roi = img[max(0, y - th - 10):min(h, y + 12), max(0, x - 12):min(w, x + tw + 12)]
    roi[:] = (roi.astype(np.uint16) * 90 >> 8).astype(np.uint8)
    cv2.putText(img, text, (x, y), overlay.FONT, 1.0 * s, overlay.AMBER, max(1, int(2 * s)), cv2.LINE_AA)


class SetCount:
    """The counted set as the lifter sees it: reps closed before a pause plus the tracker's reps since, numbered
    1, 2, 3... across pauses. A pause closes the tracker (a rep cut by it is judged on what was seen, or dropped
    if it never reached the top) so the frames skipped while paused are never read as a slow or paused rep."""

    def __init__(self, tracker: SetTracker) -> None:
        self.tracker = tracker
        self._kept: list[Rep] = []

    @property
    def offset(self) -> int:
        return len(self._kept)

    @staticmethod
    def _numbered(reps: list[Rep]) -> list[Rep]:
        return [r if r.index == i else replace(r, index=i) for i, r in enumerate(reps, 1)]

    @property
    def reps(self) -> list[Rep]:
        return self._numbered(self._kept + self.tracker.reps) if self._kept else self.tracker.reps

    def pause(self) -> None:
        self._kept += self.tracker.finish()
        self.tracker.reset()

    def clear(self) -> int:
        """'r': start the count again. Returns how many reps were discarded."""
        n = len(self.reps)
        self._kept = []
        self.tracker.reset()
        return n

    def view(self, state: FrameState) -> FrameState:
        """The tracker's frame state with the rep number counted across pauses."""
        return replace(state, reps_done=state.reps_done + self.offset) if self._kept else state

    def finish(self) -> list[Rep]:
        return self._numbered(self._kept + self.tracker.finish())


class LiveSession:
    """One live set: runs until the stream ends, the user quits, or `max_seconds` pass. `run()` returns the result.

    The pose model, tracker and rules are exactly those of `analyze`; what differs is only how frames arrive
    (newest wins, in real time) and that the result is shown as it happens.
    """

    def __init__(self, source: LiveSource, profile: Profile | None = None, *, model: str | os.PathLike | None = None,
                 window: bool = False, voice: bool = False, voice_wav_dir: str | os.PathLike | None = None,
                 voice_play: bool = True, record: str | os.PathLike | None = None, skip_setup: bool = False,
                 max_seconds: float | None = None, setup: SetupSettings | None = None) -> None:
        self.source = source
        self.profile = profile or candidates("hip_thrust")[0][1]
        self.model = model
        self.window = window
        self.voice = voice
        self.voice_wav_dir = voice_wav_dir
        self.voice_play = voice_play
        self.record = record
        self.skip_setup = skip_setup
        self.max_seconds = max_seconds
        self.setup = setup or SetupSettings()
        self.stats = LiveStats()
        self.model_name = ""
        self.record_path: Path | None = None
        # loop state
        self.tracker = SetTracker([(exercise_of(self.profile), self.profile)])
        self.count = SetCount(self.tracker)
        self.gate = None if skip_setup else SetupGate(self.setup)
        self.slot = LatestFrame()
        self.warnings: list[str] = []
        self._delays_s: list[float] = []
        self._meter = _FpsMeter()
        self._est: PoseEstimator | None = None
        self._win: Window | None = None
        self._voice = None
        self._rec: Recorder | None = None
        self._set_start_t: float | None = None if self.gate else 0.0    # stream time the counted set began
        self._n_set_frames = 0
        self._n_set_detected = 0
        self._no_person_since: float | None = None
        self._good_until = -math.inf
        self._paused = False
        self._frozen: np.ndarray | None = None
        self._fps_now: float | None = None
        self._first_shown: float | None = None
        self._last_shown: float | None = None
        self._last_t = 0.0
        self._state: FrameState | None = None
        self._quit = ""
        self._t_wall0 = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------------------------------
    def run(self) -> LiveResult:
        try:
            self._open()
            self.source.start(self.slot)
            self._t_wall0 = time.monotonic()
            try:
                self._loop()
            except KeyboardInterrupt:    # Ctrl-C on a headless run is a normal way to end the set
                self._quit = "interrupted"
        finally:
            self._close()
        return self._result()

    def _open(self) -> None:
        info = self.source.info
        if self.window:
            _check_display()          # before the model loads: a missing display is the quicker thing to report
        self._est = PoseEstimator(self.model, self.profile.pose.max_model_side_px)
        self.model_name = Path(self._est.model_path).name
        self._win = Window() if self.window else None
        if self.voice:
            from formcheck.apps.voice import Voice

            self._voice = Voice(self.voice_wav_dir, play=self.voice_play,
                                clock=lambda: time.monotonic() - self.source.t0_s)
            self._voice.start()
        if self.record:
            self._rec = Recorder(self.record, info.width, info.height, info.fps)

    def _close(self) -> None:
        self.source.stop()
        st = self.stats
        st.end_reason = self._quit or self.source.end_reason or "stream ended"
        if self.source.is_camera and not self._quit and self.source.end_reason:
            self.warnings.append(f"{self.source.end_reason} at {self._last_t:.1f} s: the report covers the set so far")
        if self._state is not None and self._state.phase in ("up", "top") and not self._paused:
            self.warnings.append(f"the set stopped during rep {self.count.view(self._state).reps_done + 1} before "
                                 f"its top: that rep is not counted")
        if self._voice is not None:
            self._voice.close()
            st.spoken = [asdict(c) for c in self._voice.spoken]
            self.warnings += [f"voice: {e}" for e in self._voice.errors[:3]]
        if self._rec is not None:
            self.record_path = self._rec.close()
            st.record_dropped = self._rec.n_dropped
            if self._rec.error:
                self.warnings.append(f"recording failed ({self._rec.error})")
            elif self._rec.n_dropped:
                self.warnings.append(f"the recording skipped {self._rec.n_dropped} frame(s) the encoder could not "
                                     f"keep up with")
        if self._win is not None:
            self._win.close()
        if self._est is not None:
            self._est.close()

    # -- the loop ----------------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._quit:
            if self.max_seconds is not None and time.monotonic() - self._t_wall0 >= self.max_seconds:
                self._quit = f"time limit ({self.max_seconds:g} s)"
                break
            cap = self.slot.get(0.05)
            if cap is None:
                if self.slot.finished:
                    break
                if self._win is not None:   # keep the window responsive while the camera is quiet
                    self._after_show(self._win.poll())
                continue
            self._last_t = cap.t_s
            if self._paused:
                self.stats.frames_paused += 1
                shown = self._frozen.copy() if self._frozen is not None else cap.image
                _banner(shown, "PAUSED: space to resume")
                if self._win is not None:
                    self._after_show(self._win.show(shown))
                continue
            img = self._process(cap)
            if self._rec is not None:
                self._rec.write(img, cap.t_s)
            if self._win is not None:
                self._after_show(self._win.show(img))

    def _process(self, cap: Captured) -> np.ndarray:
        """Pose -> set-up check or tracker -> overlay, on the newest frame. Returns the annotated image."""
        t = cap.t_s
        pose = self._est.detect(cap.image, t)
        message = ""
        gate = self.gate
        if gate is not None and not gate.ready:
            info = self.source.info
            chk = check_setup(pose, info.width, info.height, frame_brightness(cap.image), self.setup)
            message = gate.update(t, chk)
            if gate.ready:
                self.stats.setup_ok_at_s = round(t, 3)
                self._good_until = t + GOOD_TO_GO_SHOW_S
                self._start_set(t)          # the side vote seen during set-up is kept
        state = self.count.view(self.tracker.update(pose))
        self._state = state
        if self._set_start_t is not None:
            self._n_set_frames += 1
            self._n_set_detected += int(pose.detected)
            for f in state.new_findings:
                self.stats.verdicts.append({"t_s": round(t, 3), "rep": state.reps_done, "rule_id": f.rule_id,
                                            "cue": self.tracker.exercise.cues[f.rule_id][0]})
            if self._voice is not None and state.new_findings:
                self._voice.offer(f.rule_id for f in state.new_findings)
        if pose.detected:
            self._no_person_since = None
        elif self._no_person_since is None:
            self._no_person_since = t
        if not message:
            if self._no_person_since is not None and t - self._no_person_since >= NO_PERSON_S:
                message = NO_PERSON
            elif t < self._good_until:
                message = GOOD_TO_GO
        msgs = self.stats.messages
        if message and (not msgs or msgs[-1] != message) and len(msgs) < MAX_MESSAGES:
            msgs.append(message)

        img = cap.image
        reps = self.count.reps
        overlay.draw(img, state, reps, fps_shown=self._fps_now, message=message, inplace=True)
        help_line = ""
        if self._win is not None:
            if gate is not None and not gate.ready:
                help_line = KEY_HELP + "  s skip set-up"
            elif time.monotonic() - self._t_wall0 < KEY_HELP_S:
                help_line = KEY_HELP
        draw_live_panel(img, reps, help_line)
        drawn_at = time.monotonic()
        self._delays_s.append(drawn_at - cap.captured_at_s)
        self.stats.frames_processed += 1
        self._fps_now = self._meter.tick(drawn_at)
        self._first_shown = self._first_shown if self._first_shown is not None else drawn_at
        self._last_shown = drawn_at
        self._frozen = img
        return img

    def _start_set(self, t: float) -> None:
        self.count.clear()
        self._set_start_t = t
        self._n_set_frames = self._n_set_detected = 0

    def _after_show(self, key: int | None) -> None:
        """Keys: q/Esc quit, r reset the count, space pause, s skip the set-up check. Closing the window quits."""
        if self._win is not None and self._win.closed:
            self._quit = "quit"
            return
        if key is None:
            return
        t = self._last_t
        if key in (ord("q"), 27):
            self._quit = "quit"
        elif key == ord(" "):
            self._paused = not self._paused
            if self._paused:
                self.count.pause()
        elif key == ord("r"):
            n = len(self.count.reps)
            if n:
                self.warnings.append(f"count reset at {t:.1f} s: {n} earlier rep(s) are not in this report")
            self.stats.resets.append(round(t, 3))
            if self.gate is None or self.gate.ready:
                self._start_set(t)
            else:
                self.count.clear()
        elif key == ord("s") and self.gate is not None and not self.gate.ready:
            self.gate.ready_at_s = t        # the lifter knows their set-up: skip the rest of the check
            self._start_set(t)

    # -- the result --------------------------------------------------------------------------------------------------
    def _result(self) -> LiveResult:
        st = self.stats
        reps = self.count.finish()
        st.frames_captured = self.slot.n_put
        st.frames_dropped = max(0, self.slot.n_put - st.frames_processed - st.frames_paused)
        st.wall_s = round(time.monotonic() - self._t_wall0, 3)
        if self._first_shown is not None and self._last_shown is not None and self._last_shown > self._first_shown:
            st.fps_shown = round((st.frames_processed - 1) / (self._last_shown - self._first_shown), 2)
        if self._delays_s:
            d = np.array(self._delays_s) * 1000
            st.delay_ms_median = round(float(np.median(d)), 1)
            st.delay_ms_p95 = round(float(np.percentile(d, 95)), 1)
            st.delay_ms_max = round(float(d.max()), 1)
        if self.gate is not None and not self.gate.ready:
            self.warnings.append("the camera set-up check never passed: " +
                                 (self.gate.last.advice if self.gate.last else "no frame arrived"))
        n = self._n_set_frames
        dur = self._last_t - self._set_start_t if self._set_start_t is not None and n else 0.0
        src = self.source.info
        info = VideoInfo(src.path, src.width, src.height, src.fps, n, round(max(0.0, dur), 3), src.rotation_deg,
                         src.codec)
        analysis = Analysis(video=info, reps=tuple(reps), n_frames=n,
                            detection_rate=round(self._n_set_detected / n, 4) if n else 0.0,
                            side=self.tracker.side, facing="right" if self.tracker.head_right else "left",
                            profile=self.profile.source, model=self.model_name, exercise=self.tracker.exercise.name,
                            warnings=tuple(self.warnings))
        return LiveResult(analysis, st)


def write_outputs(result: LiveResult, out_dir: str | os.PathLike, record_path: Path | None = None) -> Analysis:
    """report.json (the same schema as `analyze`) and live.json (how the loop kept up, what was said) into out_dir."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        outputs = {}
        if record_path is not None:
            outputs["annotated_mp4"] = str(record_path)
        outputs["live_json"] = str(out / "live.json")
        outputs["report_json"] = str(out / "report.json")
        a = Analysis(**{**result.analysis.__dict__, "outputs": outputs})
        stats = asdict(result.stats)
        write_text_atomic(out / "live.json", json.dumps(stats, indent=1, default=str))
        write_json(a, out / "report.json")   # last (atomic): its presence marks completion
    except OSError as e:
        raise OutputError(f"cannot write the set report to {out} ({e.strerror or e}); pass a writable folder "
                          f"with -o") from None
    return a


def main(args: argparse.Namespace) -> int:
    """`formcheck live`: coach one set, then print the set summary and write the report."""
    prof = candidates(getattr(args, "exercise", None) or "hip_thrust", args.profile)[0][1]
    out_dir = Path(args.output or DEFAULT_OUT_DIR)
    if args.max_seconds is not None and args.max_seconds <= 0:
        raise FormcheckError("--max-seconds must be > 0")
    source = open_source(args.camera, args.source)
    session = LiveSession(source, prof, model=args.model, window=not args.no_window, voice=args.voice,
                          voice_wav_dir=getattr(args, "voice_wav", None), record=args.record,
                          skip_setup=args.skip_setup, max_seconds=args.max_seconds)
    result = session.run()
    analysis = write_outputs(result, out_dir, session.record_path)
    s = result.stats
    print(summary_text(analysis))
    print(f"live: {s.frames_processed} frames shown at {s.fps_shown:.1f} fps, capture-to-overlay delay median "
          f"{s.delay_ms_median:.0f} ms (p95 {s.delay_ms_p95:.0f}), {s.frames_dropped} stale frame(s) skipped; "
          f"stopped: {s.end_reason}")
    if s.spoken:
        print("spoken: " + ", ".join(f"{c['text']} ({c['t_s']:.1f} s)" for c in s.spoken))
    print("Outputs:")
    for k, v in analysis.outputs.items():
        print(f"  {k:12s} {v}")
    return 0
