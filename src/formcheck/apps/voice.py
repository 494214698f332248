"""Spoken cues for live coaching: a pure scheduler (what to say, when) and an offline speaker thread.

The scheduler is plain state fed with explicit times, so "one cue at a time, never the same cue back to back,
drop what went stale" is unit-tested without audio. `Voice` runs it on its own thread so synthesis and playback
never stall the video loop. Speech is offline: the `espeak-ng` program renders a WAV, with pyttsx3 (the system's
own voices on macOS and Windows) where that program is missing; a local player (paplay / pw-play / aplay / ffplay) plays it. Without a player the cue is still
rendered, and the speaker stays busy for the cue's length, so the pacing is the same on a silent machine.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from formcheck.core.errors import FormcheckError
from formcheck.core.exercise import Exercise
from formcheck.exercises import DEFAULT, get_exercise


class VoiceError(FormcheckError):
    """No offline text-to-speech engine is available."""

    exit_code = 2


@dataclass(frozen=True)
class SpokenCue:
    t_s: float             # when the cue started (scheduler clock)
    rule_id: str
    text: str
    wav: str = ""          # the rendered WAV when kept (wav_dir), else ""


class CueScheduler:
    """Decides which cue to speak and when. Pure: every call takes the current time.

    - one cue at a time: `next_cue` returns nothing while a cue is being spoken (`done` ends it);
    - no repeats: the same cue is not said again within `repeat_gap_s` of the last time it was said
      (a fault on every rep is still called on each rep, a cue is never said frame after frame);
    - nothing stale: a cue waiting longer than `max_wait_s` is dropped (the lifter has moved on);
    - several faults at once: said in the exercise's `voice_order`, one after the other.
    """

    def __init__(self, repeat_gap_s: float = 2.5, max_wait_s: float = 3.0,
                 cues: dict[str, tuple[str, str]] | None = None, exercise: Exercise | None = None) -> None:
        self.repeat_gap_s = repeat_gap_s
        self.max_wait_s = max_wait_s
        self.exercise = exercise or get_exercise(DEFAULT)
        self._own_cues = cues is not None
        self.cues = cues or self.exercise.cues
        self._pending: dict[str, float] = {}        # rule_id -> when offered
        self._last_said: dict[str, float] = {}      # cue text -> when it was last said
        self._speaking: str | None = None

    @property
    def speaking(self) -> bool:
        return self._speaking is not None

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(sorted(self._pending, key=self._rank))

    def _rank(self, rule_id: str) -> int:
        order = self.exercise.voice_order
        return order.index(rule_id) if rule_id in order else len(order)

    def use(self, exercise: Exercise) -> None:
        """Switch to the set's exercise once the tracker knows it (`--exercise auto` decides at the first rep):
        its voice order, and its cues unless cues were given explicitly."""
        if exercise is self.exercise:
            return
        self.exercise = exercise
        if not self._own_cues:
            self.cues = exercise.cues
            self._pending = {r: t for r, t in self._pending.items() if r in self.cues}

    def offer(self, rule_ids: Iterable[str], t_s: float) -> None:
        """Faults just judged. Offering one already waiting keeps its original time (it does not jump the queue)."""
        for r in rule_ids:
            if r in self.cues and r not in self._pending:
                self._pending[r] = t_s

    def next_cue(self, t_s: float) -> tuple[str, str] | None:
        """The (rule_id, text) to start speaking now, or None. Marks the speaker busy until `done`."""
        if self._speaking is not None:
            return None
        for r in self.pending:
            offered = self._pending[r]
            text = self.cues[r][0]
            last = self._last_said.get(text)
            if t_s - offered > self.max_wait_s or (last is not None and t_s - last < self.repeat_gap_s):
                del self._pending[r]     # stale, or said a moment ago: drop rather than nag
                continue
            del self._pending[r]
            self._speaking = text
            self._last_said[text] = t_s
            return r, text
        return None

    def done(self, t_s: float) -> None:
        """The current cue finished; the repeat gap counts from its end, so a long cue is not followed by itself."""
        if self._speaking is not None:
            self._last_said[self._speaking] = t_s
        self._speaking = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def wav_duration_s(path: str | os.PathLike) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / float(w.getframerate())


class _Synth:
    """Text -> WAV file, offline: the `espeak-ng` (or `espeak`) program when on PATH, else pyttsx3.

    The program comes first: one fresh process per cue (9-34 ms here) shares no state between cues, and renders
    the same audio as pyttsx3's espeak driver. That driver (pyttsx3 2.99) now and then writes an empty WAV when
    the machine is busy: 1 cue in 500 under load here, and CI lost a cue that way. pyttsx3 stays for machines
    without the program (its native voices on macOS and Windows); its engine is not thread-safe, so one _Synth
    lives on the speaker thread. Either engine gets `tries` attempts before a cue counts as not said.
    """

    def __init__(self, rate_wpm: int = 185, prefer: str = "program", tries: int = 3) -> None:
        self.engine = None
        self.tries = tries
        self._rate = rate_wpm
        self._exe = shutil.which("espeak-ng") or shutil.which("espeak")
        self.name = Path(self._exe).name if self._exe else ""
        err = ""
        if prefer == "pyttsx3" or not self._exe:
            try:
                import pyttsx3

                self.engine = pyttsx3.init()
                self.engine.setProperty("rate", rate_wpm)
                self.name = "pyttsx3"
            except Exception as e:  # ImportError, or RuntimeError when libespeak-ng is missing
                err = f"{type(e).__name__}: {e}"
        if self.engine is None and not self._exe:
            raise VoiceError(f"--voice needs offline text-to-speech: apt-get install espeak-ng, or pip install "
                             f"'formcheck[voice]' (pyttsx3: {err or 'not usable'})")

    def to_wav(self, text: str, path: Path) -> None:
        for _ in range(self.tries):
            path.unlink(missing_ok=True)
            if self.engine is not None:
                # pyttsx3's espeak driver prints "Audio saved to ..." on stdout: keep the terminal clean.
                with contextlib.redirect_stdout(io.StringIO()):
                    self.engine.save_to_file(text, str(path))
                    self.engine.runAndWait()
            else:
                subprocess.run([self._exe, "-s", str(self._rate), "-w", str(path), text], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            if path.is_file() and path.stat().st_size > 44:      # 44: a WAV header with no samples
                return
        raise VoiceError(f"text-to-speech ({self.name}) wrote no audio for {text!r} in {self.tries} tries")


def _find_player() -> list[str] | None:
    """A local command that plays a WAV and returns when done, or None (then cues are rendered but silent)."""
    for cmd in (["paplay"], ["pw-play"], ["aplay", "-q"], ["ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"]):
        if shutil.which(cmd[0]):
            return cmd
    return None


class Voice:
    """Speaks cues on its own thread. `offer` is cheap and safe to call from the video loop on every frame.

    wav_dir: keep every spoken cue there as NNN_<cue>.wav (a record of what was said; tests check it).
    play: send the audio to a local player (False renders only, e.g. in tests and on headless machines).
    """

    def __init__(self, wav_dir: str | os.PathLike | None = None, play: bool = True,
                 scheduler: CueScheduler | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.scheduler = scheduler or CueScheduler()
        self.clock = clock
        self.wav_dir = Path(wav_dir) if wav_dir else None
        self.player = _find_player() if play else None
        self.spoken: list[SpokenCue] = []
        self.errors: list[str] = []
        self._cv = threading.Condition()
        self._closing = False
        self._ready = threading.Event()
        self._init_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="formcheck-voice", daemon=True)
        self.engine_name = ""

    def start(self) -> "Voice":
        """Start the speaker thread; raises VoiceError here (not mid-set) when no TTS engine can run."""
        if self.wav_dir:
            self.wav_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        self._ready.wait(15)
        if self._init_error is not None:
            raise self._init_error
        return self

    def offer(self, rule_ids: Iterable[str], exercise: Exercise | None = None) -> None:
        """Faults just judged; `exercise`: the one they were judged as (`FrameState.exercise`), for its cues and
        voice order."""
        ids = list(rule_ids)
        if not ids:
            return
        with self._cv:
            if exercise is not None:
                self.scheduler.use(exercise)
            self.scheduler.offer(ids, self.clock())
            self._cv.notify()

    def close(self, timeout_s: float = 5.0) -> None:
        """Let the cue being spoken finish (so the last rep's cue is not cut off), drop the rest, stop."""
        with self._cv:
            self._closing = True
            self._cv.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def __enter__(self) -> "Voice":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the speaker thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            synth = _Synth()
            self.engine_name = synth.name
        except BaseException as e:
            self._init_error = (e if isinstance(e, FormcheckError)
                                else VoiceError(f"text-to-speech failed to start ({e})"))
            self._ready.set()
            return
        self._ready.set()
        tmp = Path(tempfile.mkdtemp(prefix="formcheck-voice-"))
        try:
            while True:
                with self._cv:
                    nxt = None
                    while not self._closing:
                        nxt = self.scheduler.next_cue(self.clock())
                        if nxt is not None:
                            break
                        self._cv.wait(0.1)
                    if nxt is None:
                        return
                rule_id, text = nxt
                t0 = self.clock()
                n = len(self.spoken) + 1
                path = (self.wav_dir or tmp) / f"{n:03d}_{_slug(text)}.wav"
                try:
                    synth.to_wav(text, path)
                    self.spoken.append(SpokenCue(round(t0, 3), rule_id, text, str(path) if self.wav_dir else ""))
                    self._play(path)
                except (FormcheckError, OSError, RuntimeError, subprocess.SubprocessError) as e:
                    self.errors.append(f"{text}: {e}")
                finally:
                    with self._cv:
                        self.scheduler.done(self.clock())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _play(self, path: Path) -> None:
        """Play and return when the cue is over: at least its length, whether or not a player made a sound."""
        length_s = wav_duration_s(path)
        t0 = time.monotonic()
        if self.player:
            try:
                subprocess.run([*self.player, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=length_s + 3.0, check=False)
            except (OSError, subprocess.TimeoutExpired):
                pass
        rest = length_s - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
