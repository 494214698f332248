"""The live coach: captured frames in, what to show and say out. No window, camera or thread of its own, so the
live logic (set-up gate, pause-safe counting, messages, cues, stats) runs the same under a window, headless or in
a test.

Per frame: pose -> set-up check (until it passes) -> SetTracker (the shared `FrameStep`, as in `analyze`) ->
overlay and set summary drawn on the frame. Cues come from the tracker's exercise, never from a fixed table.
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from formcheck.apps.live.result import LiveResult, LiveStats
from formcheck.apps.pipeline import FrameStep, build_analysis
from formcheck.core.exercise import Exercise
from formcheck.core.setup_check import GOOD_TO_GO, SetupGate, SetupSettings, check_setup, frame_brightness, \
    no_person_advice
from formcheck.core.people import PeopleTracker
from formcheck.core.tracker import FrameState
from formcheck.core.types import Rep, VideoInfo
from formcheck.io.camera import Captured
from formcheck.render import overlay
from formcheck.render.live_panel import _banner, draw_live_panel

NO_PERSON_S = 0.5           # say "no person in view" after this long without a pose (not on one missed frame)
GOOD_TO_GO_SHOW_S = 2.0     # how long "good to go" stays on screen once the set-up passed
FPS_WINDOW_S = 1.0          # the frame rate shown is measured over this much recent time
MAX_MESSAGES = 500          # on-screen messages kept in live.json (a flickering message must not grow it forever)
KEY_HELP = "q/Esc quit  r reset  space pause"
KEY_HELP_S = 6.0            # the key help shows this long after the start
PAUSED_BANNER = "PAUSED: space to resume"


class SetCount:
    """The counted set as the lifter sees it: reps closed before a pause plus the tracker's reps since, numbered
    1, 2, 3... across pauses. A pause closes the tracker (a rep cut by it is judged on what was seen, or dropped
    if it never reached the top) so the frames skipped while paused are never read as a slow or paused rep."""

    def __init__(self, tracker: PeopleTracker) -> None:
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


@dataclass
class Shown:
    """One processed frame: the annotated image (the captured one, drawn on), its state, the on-screen message,
    the rule ids to speak now and the exercise they belong to."""

    image: np.ndarray
    state: FrameState
    message: str
    say: tuple[str, ...]
    exercise: Exercise


class Coach:
    """One live set's logic. Feed each captured frame to `frame` (or `paused_frame` while paused); keys map to
    `toggle_pause`, `reset`, `skip_setup`; `result` at the end.

    key_help: draw the key help line (only useful under a window).
    """

    def __init__(self, step: FrameStep, info: VideoInfo, *, skip_setup: bool = False,
                 setup: SetupSettings | None = None, key_help: bool = False) -> None:
        self.step = step
        self.tracker: PeopleTracker = step.tracker
        self.info = info
        self.setup = setup or SetupSettings()
        self.key_help = key_help
        self.stats = LiveStats()
        self.warnings: list[str] = []
        self.count = SetCount(self.tracker)
        self.gate = None if skip_setup else SetupGate(self.setup)
        self.paused = False
        self.state: FrameState | None = None
        self.last_t_s = 0.0
        self.started_at_s = time.monotonic()
        self._set_start_t: float | None = None if self.gate else 0.0    # stream time the counted set began
        self._n_set_frames = 0
        self._n_set_detected = 0
        self._no_person_since: float | None = None
        self._good_until = -math.inf
        self._frozen: np.ndarray | None = None
        self._delays_s: list[float] = []
        self._meter = _FpsMeter()
        self._fps_now: float | None = None
        self._first_shown: float | None = None
        self._last_shown: float | None = None

    def start(self) -> None:
        """The set starts now (wall clock of the key help and of `wall_s`)."""
        self.started_at_s = time.monotonic()

    @property
    def setting_up(self) -> bool:
        return self.gate is not None and not self.gate.ready

    def _setup_hint(self) -> str | None:
        """The exercise's set-up words once it is known (one candidate, or decided by the first rep)."""
        return self.tracker.exercise.setup_hint if self.tracker.decided else None

    # -- frames ------------------------------------------------------------------------------------------------------
    def frame(self, cap: Captured) -> Shown:
        """Pose -> set-up check or tracker -> overlay, on the newest frame (drawn in place)."""
        t = cap.t_s
        self.last_t_s = t
        poses = self.step.detect(cap.image, t)
        pose = self.tracker.preview(poses, t)     # the lifter's (or the likeliest) pose, for the set-up check
        message = ""
        gate = self.gate
        if gate is not None and not gate.ready:
            chk = check_setup(pose, self.info.width, self.info.height, frame_brightness(cap.image), self.setup,
                              self._setup_hint())
            message = gate.update(t, chk)
            if gate.ready:
                self.stats.setup_ok_at_s = round(t, 3)
                self._good_until = t + GOOD_TO_GO_SHOW_S
                self._start_set(t)          # the side vote seen during set-up is kept
        state = self.count.view(self.step.track(poses, t))
        self.state = state
        say: tuple[str, ...] = ()
        if self._set_start_t is not None:
            self._n_set_frames += 1
            self._n_set_detected += int(pose.detected)
            cues = state.exercise.cues
            for f in state.new_findings:
                self.stats.verdicts.append({"t_s": round(t, 3), "rep": state.reps_done, "rule_id": f.rule_id,
                                            "cue": cues[f.rule_id][0]})
            say = tuple(f.rule_id for f in state.new_findings)
        if pose.detected:
            self._no_person_since = None
        elif self._no_person_since is None:
            self._no_person_since = t
        if not message:
            if self._no_person_since is not None and t - self._no_person_since >= NO_PERSON_S:
                message = no_person_advice(self._setup_hint())
            elif t < self._good_until:
                message = GOOD_TO_GO
        msgs = self.stats.messages
        if message and (not msgs or msgs[-1] != message) and len(msgs) < MAX_MESSAGES:
            msgs.append(message)

        img = cap.image
        reps = self.count.reps
        overlay.draw(img, state, reps, fps_shown=self._fps_now, message=message, inplace=True)
        help_line = ""
        if self.key_help:
            if self.setting_up:
                help_line = KEY_HELP + "  s skip set-up"
            elif time.monotonic() - self.started_at_s < KEY_HELP_S:
                help_line = KEY_HELP
        draw_live_panel(img, reps, help_line, state.exercise.cues)
        drawn_at = time.monotonic()
        self._delays_s.append(drawn_at - cap.captured_at_s)
        self.stats.frames_processed += 1
        self._fps_now = self._meter.tick(drawn_at)
        self._first_shown = self._first_shown if self._first_shown is not None else drawn_at
        self._last_shown = drawn_at
        self._frozen = img
        return Shown(img, state, message, say, state.exercise)

    def paused_frame(self, cap: Captured) -> np.ndarray:
        """While paused: the last picture, frozen, with the pause banner (the frame itself is not analysed)."""
        self.last_t_s = cap.t_s
        self.stats.frames_paused += 1
        shown = self._frozen.copy() if self._frozen is not None else cap.image
        _banner(shown, PAUSED_BANNER)
        return shown

    # -- keys --------------------------------------------------------------------------------------------------------
    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.count.pause()

    def reset(self) -> None:
        """'r': count from zero (the reps so far leave the report, with a warning saying so)."""
        t = self.last_t_s
        n = len(self.count.reps)
        if n:
            self.warnings.append(f"count reset at {t:.1f} s: {n} earlier rep(s) are not in this report")
        self.stats.resets.append(round(t, 3))
        if self.setting_up:
            self.count.clear()
        else:
            self._start_set(t)

    def skip_setup(self) -> None:
        """'s': the lifter knows their set-up: skip the rest of the check."""
        if self.setting_up:
            self.gate.ready_at_s = self.last_t_s
            self._start_set(self.last_t_s)

    def _start_set(self, t: float) -> None:
        self.count.clear()
        self._set_start_t = t
        self._n_set_frames = self._n_set_detected = 0

    # -- the end -----------------------------------------------------------------------------------------------------
    def note_unfinished_rep(self) -> None:
        """The set stopped mid-rep: say that rep is not counted."""
        if self.state is not None and self.state.phase in ("up", "top") and not self.paused:
            self.warnings.append(f"the set stopped during rep {self.count.view(self.state).reps_done + 1} before "
                                 f"its top: that rep is not counted")

    def result(self, model_name: str, frames_captured: int) -> LiveResult:
        """The set's Analysis (report.json) and stats (live.json)."""
        st = self.stats
        reps = self.count.finish()
        st.frames_captured = frames_captured
        st.frames_dropped = max(0, frames_captured - st.frames_processed - st.frames_paused)
        st.wall_s = round(time.monotonic() - self.started_at_s, 3)
        if self._first_shown is not None and self._last_shown is not None and self._last_shown > self._first_shown:
            st.fps_shown = round((st.frames_processed - 1) / (self._last_shown - self._first_shown), 2)
        if self._delays_s:
            d = np.array(self._delays_s) * 1000
            st.delay_ms_median = round(float(np.median(d)), 1)
            st.delay_ms_p95 = round(float(np.percentile(d, 95)), 1)
            st.delay_ms_max = round(float(d.max()), 1)
        if self.setting_up:
            self.warnings.append("the camera set-up check never passed: " +
                                 (self.gate.last.advice if self.gate.last else "no frame arrived"))
        n = self._n_set_frames
        dur_s = self.last_t_s - self._set_start_t if self._set_start_t is not None and n else 0.0
        src = self.info
        info = VideoInfo(src.path, src.width, src.height, src.fps, n, round(max(0.0, dur_s), 3), src.rotation_deg,
                         src.codec)
        analysis = build_analysis(self.tracker, info, reps, n_frames=n,
                                  detection_rate=self._n_set_detected / n if n else 0.0, model_name=model_name,
                                  warnings=self.warnings)
        return LiveResult(analysis, st)
