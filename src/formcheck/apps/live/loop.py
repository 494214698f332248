"""The live loop: a camera (or a clip played as one) -> Coach -> window, voice and recording, in real time.

Threads, and why:

- source thread: captures into a one-frame slot where the newest frame wins (`formcheck.io.camera`), so the
  picture never falls behind when pose estimation is slower than the camera;
- main thread: the coach (pose, tracker, overlay) on the newest frame, then the window (OpenCV/Qt windows belong
  on the main thread) and the keys;
- encoder thread (`record`): the shared pipeline `Encoder` in drop mode (a frame it cannot take is left out of the
  recording, never off the screen); voice thread (`voice`): synthesis and playback.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from formcheck.apps.live.coach import Coach
from formcheck.apps.live.result import LiveResult
from formcheck.apps.pipeline import Encoder, FrameStep, open_people
from formcheck.core.config import Profile
from formcheck.core.errors import OutputError
from formcheck.core.exercise import Exercise
from formcheck.core.setup_check import SetupSettings
from formcheck.core.people import PeopleTracker
from formcheck.exercises import candidates as exercise_candidates
from formcheck.exercises import exercise_of
from formcheck.io.camera import LatestFrame, LiveSource
from formcheck.io.pose import PeopleEstimator
from formcheck.render.window import Window, _check_display

RECORD_QUEUE = 32           # frames the recorder may lag before it drops (the live picture comes first)


class LiveSession:
    """One live set: runs until the stream ends, the user quits, or `max_seconds` pass. `run()` returns the result.

    The pose model, tracker and rules are exactly those of `analyze`; what differs is only how frames arrive
    (newest wins, in real time) and that the result is shown as it happens.

    What the set may be: `candidates` ((Exercise, Profile) pairs, as `formcheck.exercises.candidates` gives for
    `--exercise`), else `profile` (its own exercise), else every exercise `auto` tells apart.
    """

    def __init__(self, source: LiveSource, profile: Profile | None = None, *,
                 candidates: Sequence[tuple[Exercise, Profile]] | None = None,
                 model: str | os.PathLike | None = None, window: bool = False, voice: bool = False,
                 voice_wav_dir: str | os.PathLike | None = None, voice_play: bool = True,
                 record: str | os.PathLike | None = None, skip_setup: bool = False,
                 max_seconds: float | None = None, setup: SetupSettings | None = None) -> None:
        self.source = source
        if candidates is None:
            candidates = [(exercise_of(profile), profile)] if profile is not None else exercise_candidates("auto")
        self.tracker = PeopleTracker(candidates)
        self.model = model
        self.window = window
        self.voice = voice
        self.voice_wav_dir = voice_wav_dir
        self.voice_play = voice_play
        self.record = record
        self.skip_setup = skip_setup
        self.max_seconds = max_seconds
        self.setup = setup
        self.model_name = ""
        self.record_path: Path | None = None
        self.slot = LatestFrame()
        self.coach: Coach | None = None
        self._est: PeopleEstimator | None = None
        self._win: Window | None = None
        self._voice = None
        self._rec: Encoder | None = None
        self._quit = ""

    # -- lifecycle ---------------------------------------------------------------------------------------------------
    def run(self) -> LiveResult:
        try:
            self._open()
            self.source.start(self.slot)
            self.coach.start()
            try:
                self._loop()
            except KeyboardInterrupt:    # Ctrl-C on a headless run is a normal way to end the set
                self._quit = "interrupted"
        finally:
            self._close()
        return self.coach.result(self.model_name, self.slot.n_put)

    def _open(self) -> None:
        info = self.source.info
        if self.window:
            _check_display()          # before the model loads: a missing display is the quicker thing to report
        self._est = open_people(self.tracker, self.model)
        self.model_name = Path(self._est.model_path).name
        self.coach = Coach(FrameStep(self._est, self.tracker), info, skip_setup=self.skip_setup, setup=self.setup,
                           key_help=self.window)
        self._win = Window() if self.window else None
        if self.voice:
            from formcheck.apps.voice import CueScheduler, Voice

            self._voice = Voice(self.voice_wav_dir, play=self.voice_play,
                                scheduler=CueScheduler(exercise=self.tracker.exercise),
                                clock=lambda: time.monotonic() - self.source.t0_s)
            self._voice.start()
        if self.record:
            path = Path(self.record)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._rec = Encoder(path, info.width, info.height, info.fps, queue_frames=RECORD_QUEUE,
                                    drop_when_full=True, draw=False, temp_suffix=".partial")
            except OSError as e:
                raise OutputError(f"cannot write the recording {path} ({e.strerror or e}); pick a writable path "
                                  f"for --record") from None

    def _close(self) -> None:
        self.source.stop()
        coach = self.coach
        if coach is not None:
            st = coach.stats
            st.end_reason = self._quit or self.source.end_reason or "stream ended"
            if self.source.is_camera and not self._quit and self.source.end_reason:
                coach.warnings.append(f"{self.source.end_reason} at {coach.last_t_s:.1f} s: the report covers the "
                                      f"set so far")
            coach.note_unfinished_rep()
        if self._voice is not None:
            self._voice.close()
            if coach is not None:
                coach.stats.spoken = [asdict(c) for c in self._voice.spoken]
                coach.warnings += [f"voice: {e}" for e in self._voice.errors[:3]]
        if self._rec is not None:
            self.record_path = self._rec.close()
            if coach is not None:
                coach.stats.record_dropped = self._rec.n_dropped
                if self._rec.error is not None:
                    e = self._rec.error
                    coach.warnings.append(f"recording failed ({type(e).__name__}: {e})")
                elif self._rec.n_dropped:
                    coach.warnings.append(f"the recording skipped {self._rec.n_dropped} frame(s) the encoder could "
                                          f"not keep up with")
        if self._win is not None:
            self._win.close()
        if self._est is not None:
            self._est.close()

    # -- the loop ----------------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        coach = self.coach
        while not self._quit:
            if self.max_seconds is not None and time.monotonic() - coach.started_at_s >= self.max_seconds:
                self._quit = f"time limit ({self.max_seconds:g} s)"
                break
            cap = self.slot.get(0.05)
            if cap is None:
                if self.slot.finished:
                    break
                if self._win is not None:   # keep the window responsive while the camera is quiet
                    self._key(self._win.poll())
                continue
            if coach.paused:
                shown = coach.paused_frame(cap)
                if self._win is not None:
                    self._key(self._win.show(shown))
                continue
            out = coach.frame(cap)
            if self._voice is not None and out.say:
                self._voice.offer(out.say, exercise=out.exercise)
            if self._rec is not None:
                self._rec.put(out.image, out.state, ())
            if self._win is not None:
                self._key(self._win.show(out.image))

    def _key(self, key: int | None) -> None:
        """Keys: q/Esc quit, r reset the count, space pause, s skip the set-up check. Closing the window quits."""
        if self._win is not None and self._win.closed:
            self._quit = "quit"
            return
        if key is None:
            return
        if key in (ord("q"), 27):
            self._quit = "quit"
        elif key == ord(" "):
            self.coach.toggle_pause()
        elif key == ord("r"):
            self.coach.reset()
        elif key == ord("s"):
            self.coach.skip_setup()
