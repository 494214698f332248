"""Live coaching: `formcheck live` on clips played as a camera (headless and in a real X window under Xvfb), the
camera set-up check and the cue scheduler as pure functions, and real offline speech rendered to WAV files.

The live runs are real time (a clip plays at its own pace), so they use the two short clips.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from formcheck.cli import main
from formcheck.exercises import candidates
from formcheck.apps.live import Captured, LatestFrame, SetCount
from formcheck.exercises.hip_thrust import HIP_THRUST

CUES = HIP_THRUST.cues
from formcheck.core.setup_check import GOOD_TO_GO, NO_PERSON, SetupGate, SetupSettings, check_setup, frame_brightness
from formcheck.core.skeleton import LM
from formcheck.core.people import PeopleTracker
from formcheck.core.tracker import SetTracker
from formcheck.core.types import PoseFrame
from formcheck.io.video_writer import H264Writer
from formcheck.apps.voice import CueScheduler, Voice, _Synth, wav_duration_s
from conftest import SAMPLES
from synth import pose_at, rep_profile

CLEAN = SAMPLES / "dev13_clean_60fps.mp4"      # 8.2 s, 2 good reps, 60 fps
HEAD = SAMPLES / "dev05_head_back.mp4"         # 11.8 s, ok / head_back / head_back, 30 fps
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need(ok: bool, what: str) -> None:
    """Skip when a system tool is missing on a dev machine; in CI (`make sysdeps` installs it) fail instead."""
    if not ok:
        (pytest.fail if IN_CI else pytest.skip)(f"{what} is not installed (make sysdeps)")


def _tts_available() -> bool:
    try:
        import pyttsx3  # noqa: F401
        return bool(ctypes.util.find_library("espeak-ng") or ctypes.util.find_library("espeak"))
    except ImportError:
        return shutil.which("espeak-ng") is not None


def _live(tmp_path: Path, *args: str, capsys=None) -> tuple[int, dict, dict]:
    """Run `formcheck live` in-process; returns (exit code, report.json, live.json)."""
    out = tmp_path / "live"
    code = main(["live", *map(str, args), "-o", str(out)])
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    stats = json.loads((out / "live.json").read_text()) if (out / "live.json").exists() else {}
    return code, report, stats


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """`formcheck analyze` (the offline path) on the clips the live tests replay, computed once."""
    from formcheck.apps.analyze import analyze

    cache: dict[str, object] = {}

    def get(clip: Path):
        if clip.name not in cache:
            cache[clip.name] = analyze(clip, tmp_path_factory.mktemp(clip.stem), video=False, html=False)
        return cache[clip.name]

    return get


# -- set-up check: pure, no video ------------------------------------------------------------------------------------
W, H = 640, 480


def _scaled(pose: PoseFrame, factor: float, shift_px=(0.0, 0.0)) -> PoseFrame:
    """The same pose seen from further away (factor < 1) or closer (> 1), and/or moved in the frame."""
    c = np.array([W / 2, H / 2])
    return PoseFrame(pose.t_s, (pose.xy_px - c) * factor + c + np.array(shift_px), pose.visibility.copy(), True)


def test_setup_side_view_in_frame_is_good_to_go():
    chk = check_setup(pose_at(0, torso_deg=-26, hip_deg=125), W, H, brightness=140)
    assert chk.ok and chk.problems == () and chk.advice == GOOD_TO_GO
    assert 0.3 < chk.body_frac < 1 and chk.split_torso < 0.2


def test_setup_feet_out_of_frame_says_which_part_and_what_to_do():
    pose = _scaled(pose_at(0, torso_deg=-26, hip_deg=125), 1.0, shift_px=(-200, 0))   # feet off the left edge
    chk = check_setup(pose, W, H, brightness=140)
    assert not chk.ok and chk.problems[0] == "cut_off"
    assert "feet" in chk.advice and "head" not in chk.advice and "move the camera back" in chk.advice


def test_setup_camera_too_close_cuts_head_and_feet():
    chk = check_setup(_scaled(pose_at(0, torso_deg=-26, hip_deg=125), 2.5), W, H, brightness=140)
    assert chk.problems[0] == "cut_off" and "head" in chk.advice and "feet" in chk.advice


def test_setup_hidden_landmark_counts_as_out_of_frame():
    pose = pose_at(0, torso_deg=-26, hip_deg=125)
    for lm in (LM.LEFT_EAR, LM.RIGHT_EAR, LM.NOSE):
        pose.visibility[lm] = 0.1
    chk = check_setup(pose, W, H, brightness=140)
    assert chk.problems == ("cut_off",) and "head" in chk.advice


def test_setup_camera_too_far():
    chk = check_setup(_scaled(pose_at(0, torso_deg=-26, hip_deg=125), 0.45), W, H, brightness=140)
    assert chk.problems == ("too_far",) and "closer" in chk.advice and chk.body_frac < 0.3


def test_setup_front_view_is_not_side_on():
    pose = pose_at(0, torso_deg=-26, hip_deg=125)
    # seen from the feet: left and right shoulders / hips a shoulder-width apart across the image
    for left, right in ((LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER), (LM.LEFT_HIP, LM.RIGHT_HIP)):
        pose.xy_px[right] = pose.xy_px[left] + np.array([0.0, 110.0])
    chk = check_setup(pose, W, H, brightness=140)
    assert "not_side_on" in chk.problems and chk.split_torso > 0.45
    assert chk.advice.startswith("Camera not side-on")


def test_setup_light_is_checked_first_and_no_person_said():
    dark = check_setup(pose_at(0, torso_deg=-26, hip_deg=125), W, H, brightness=20)
    assert dark.problems == ("too_dark",) and dark.advice.startswith("Too dark")
    empty = check_setup(PoseFrame.missing(0.0), W, H, brightness=140)
    assert empty.problems == ("no_person",) and empty.advice == NO_PERSON
    dark_empty = check_setup(PoseFrame.missing(0.0), W, H, brightness=10)
    assert dark_empty.problems == ("too_dark", "no_person") and dark_empty.advice.startswith("Too dark")
    glare = check_setup(pose_at(0, torso_deg=-26, hip_deg=125), W, H, brightness=250)
    assert glare.problems == ("too_bright",)


def test_frame_brightness_is_mean_luma():
    assert frame_brightness(np.zeros((48, 64, 3), np.uint8)) == 0
    assert frame_brightness(np.full((48, 64, 3), 200, np.uint8)) == pytest.approx(200, abs=0.5)
    green = np.zeros((48, 64, 3), np.uint8)
    green[..., 1] = 255
    assert frame_brightness(green) == pytest.approx(0.587 * 255, abs=0.5)


def test_setup_gate_needs_an_unbroken_hold():
    gate = SetupGate(SetupSettings(ready_hold_s=0.5))
    good = check_setup(pose_at(0, torso_deg=-26, hip_deg=125), W, H, brightness=140)
    bad = check_setup(PoseFrame.missing(0.0), W, H, brightness=140)
    for i in range(12):                       # 0.4 s good, then a bad frame: the hold starts over
        gate.update(i / 30, good)
    assert gate.update(12 / 30, bad) == NO_PERSON and not gate.ready
    said = [gate.update(i / 30, good) for i in range(13, 40)]
    assert gate.ready and gate.ready_at_s == pytest.approx(28 / 30)
    assert said[0].startswith("Hold still") and said[-1] == GOOD_TO_GO


# -- cue scheduler: pure, no audio -----------------------------------------------------------------------------------
def test_scheduler_speaks_one_cue_at_a_time_in_priority_order():
    s = CueScheduler()
    s.offer(["no_pause", "head_back", "lumbar_hyperextension"], 0.0)
    assert s.next_cue(0.0) == ("lumbar_hyperextension", "ribs down")
    assert s.speaking and s.next_cue(0.1) is None and s.next_cue(0.5) is None   # busy: nothing overlaps
    s.done(0.8)
    assert s.next_cue(0.8) == ("head_back", "chin down")
    s.done(1.6)
    assert s.next_cue(1.6) == ("no_pause", "hold the top")
    s.done(2.4)
    assert s.next_cue(2.4) is None and not s.pending


def test_scheduler_never_repeats_a_cue_frame_after_frame():
    """The same fault offered on every frame at 30 fps for 10 s, each cue taking 0.8 s to say."""
    s = CueScheduler(repeat_gap_s=2.5)
    said, busy_until = [], -1.0
    for i in range(300):
        t = i / 30
        s.offer(["head_back"], t)
        if s.speaking and t >= busy_until:
            s.done(t)
        nxt = s.next_cue(t)
        if nxt:
            said.append(t)
            busy_until = t + 0.8
    assert 3 <= len(said) <= 4 and (np.diff(said) >= 0.8 + 2.5 - 1e-6).all(), said


def test_scheduler_says_a_fault_again_on_the_next_rep_and_drops_stale_cues():
    s = CueScheduler(repeat_gap_s=2.5, max_wait_s=3.0)
    s.offer(["head_back"], 6.8)                          # rep 2 judged
    assert s.next_cue(6.8) == ("head_back", "chin down")
    s.done(7.6)
    s.offer(["head_back"], 10.4)                         # rep 3, 3.6 s later: said again
    assert s.next_cue(10.4) == ("head_back", "chin down")
    s.offer(["heel_lift"], 10.5)                         # while "chin down" is spoken...
    assert s.next_cue(14.0) is None                      # ...and the speaker stays busy past max_wait_s
    s.done(14.0)
    assert s.next_cue(14.0) is None and not s.pending    # the heel cue went stale: dropped, not said late


def test_scheduler_ignores_unknown_rules():
    s = CueScheduler()
    s.offer(["not_a_rule"], 0.0)
    assert s.next_cue(0.0) is None


def test_scheduler_takes_the_exercise_once_the_tracker_knows_it():
    """`--exercise auto` decides at the first rep: the voice then follows that exercise's cues and order."""
    from formcheck.exercises.glute_bridge import GLUTE_BRIDGE

    s = CueScheduler()
    s.offer(["rocking", "head_back"], 0.0)
    s.use(GLUTE_BRIDGE)                                  # no rocking rule without a bench: dropped, not said
    assert s.exercise is GLUTE_BRIDGE and s.pending == ("head_back",)
    s.offer(["rocking"], 0.1)
    assert s.next_cue(0.1) == ("head_back", GLUTE_BRIDGE.cues["head_back"][0]) and not s.pending


def test_setup_no_person_says_the_exercises_set_up():
    from formcheck.exercises.glute_bridge import GLUTE_BRIDGE

    chk = check_setup(PoseFrame.missing(0.0), W, H, brightness=140, setup_hint=GLUTE_BRIDGE.setup_hint)
    assert chk.problems == ("no_person",) and chk.advice == f"No person in view: {GLUTE_BRIDGE.setup_hint}"
    assert check_setup(PoseFrame.missing(0.0), W, H, brightness=140).advice == NO_PERSON


# -- the newest-frame slot and pause-safe counting -------------------------------------------------------------------
def test_latest_frame_keeps_the_newest_and_counts_the_dropped():
    slot = LatestFrame()
    for i in range(3):
        slot.put(Captured(i, i / 30, np.zeros((2, 2, 3), np.uint8), 0.0))
    assert slot.get(0.01).index == 2 and slot.n_dropped == 2 and slot.n_put == 3
    assert slot.get(0.01) is None and not slot.finished
    slot.put(Captured(3, 0.1, np.zeros((2, 2, 3), np.uint8), 0.0))
    slot.close()
    assert slot.get(0.01).index == 3 and slot.finished


def test_pause_mid_rep_neither_counts_a_broken_rep_nor_calls_a_false_fault():
    """Pausing skips frames; without closing the tracker the skipped hold would read as a rep with no pause."""
    frames = rep_profile(np.array([]), [{"hold_s": 1.2}, {"hold_s": 1.2}, {"hold_s": 1.2}], fps=30)
    count = SetCount(SetTracker(candidates('hip_thrust')))
    rep_s = 0.8 + 0.9 + 1.2 + 0.9
    pause_from, pause_to = rep_s + 0.8 + 0.9 + 0.3, rep_s + 0.8 + 0.9 + 1.0   # in rep 2's hold
    paused = False
    for f in frames:
        if pause_from <= f.t_s < pause_to:
            if not paused:
                count.pause()
                paused = True
            continue
        count.view(count.tracker.update(f))
    reps = count.finish()
    assert [r.index for r in reps] == [1, 2]                  # rep 1, then rep 3 renumbered; rep 2 was cut
    assert all(r.faults == [] for r in reps), [r.faults for r in reps]


def test_coach_is_window_free_frames_in_what_to_show_and_say_out():
    """The coach runs without a window, camera or model: synthetic poses through a stub estimator, a fault called
    on its rep with the exercise's cue, and a report built from the counted set."""
    from formcheck.apps.live import Coach
    from formcheck.apps.pipeline import FrameStep
    from formcheck.core.types import VideoInfo

    poses = rep_profile(np.array([]), [{"hold_s": 1.2}, {"hold_s": 1.2, "neck_ext_deg": 40.0}], fps=30)

    class Stub:
        def __init__(self):
            self.by_t = {round(p.t_s, 6): p for p in poses}

        def model_input(self, image):
            return image

        def detect_all(self, image, t_s, frame_size=None):
            return [self.by_t[round(t_s, 6)]]

    tracker = PeopleTracker(candidates("hip_thrust"))
    coach = Coach(FrameStep(Stub(), tracker), VideoInfo("stub", 640, 480, 30.0, 0, 0.0), skip_setup=True)
    said = []
    for i, p in enumerate(poses):
        shown = coach.frame(Captured(i, p.t_s, np.zeros((480, 640, 3), np.uint8), time.monotonic()))
        assert shown.image.any() and shown.exercise is HIP_THRUST     # drawn on: skeleton, rep counter, panel
        said += shown.say
    res = coach.result("stub.task", len(poses))
    assert [r.faults for r in res.analysis.reps] == [[], ["head_back"]] and said == ["head_back"]
    assert res.stats.verdicts[0]["cue"] == CUES["head_back"][0] and res.analysis.exercise == "hip_thrust"
    assert res.analysis.n_frames == len(poses) and res.stats.frames_dropped == 0


# -- real speech to WAV ------------------------------------------------------------------------------------------------
def test_voice_renders_real_speech_one_cue_at_a_time(tmp_path):
    _need(_tts_available(), "espeak-ng")
    with Voice(tmp_path, play=False) as v:
        v.offer(["head_back", "feet_too_far"])        # two faults on one rep: said one after the other
        deadline = time.monotonic() + 15
        while len(v.spoken) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        v.offer(["head_back"])                        # just said: not again
        time.sleep(0.3)
    assert [c.text for c in v.spoken] == ["chin down", "feet closer"], v.errors
    wavs = sorted(tmp_path.glob("*.wav"))
    assert [w.name for w in wavs] == ["001_chin_down.wav", "002_feet_closer.wav"]
    for w in wavs:
        with wave.open(str(w)) as f:
            audio = np.frombuffer(f.readframes(f.getnframes()), np.int16)
        assert 0.3 < wav_duration_s(w) < 3.0 and np.abs(audio).max() > 1000      # a real voice, not silence
    first = wav_duration_s(wavs[0])
    assert v.spoken[1].t_s - v.spoken[0].t_s >= first - 0.05                      # no overlap


@pytest.mark.parametrize("engine", ["program", "pyttsx3"])
def test_every_cue_of_a_long_set_is_rendered_with_a_voice(tmp_path, engine):
    """Cue after cue on one engine, as in a long set: each WAV holds speech. pyttsx3 2.99's espeak driver writes
    an empty WAV about once in 500 cues on a busy machine (CI lost a cue so): the program is preferred, and either
    engine retries."""
    if engine == "program":
        _need(shutil.which("espeak-ng") is not None or shutil.which("espeak") is not None, "espeak-ng")
    else:
        _need(_tts_available() and importlib.util.find_spec("pyttsx3") is not None, "pyttsx3 and libespeak-ng")
    synth = _Synth(prefer=engine)
    assert synth.name == ("pyttsx3" if engine == "pyttsx3" else Path(synth._exe).name)
    texts = ["chin down", "feet closer", "squeeze at the top"]
    for i in range(60):
        w = tmp_path / f"{i:03d}.wav"
        synth.to_wav(texts[i % 3], w)
        with wave.open(str(w)) as f:
            audio = np.frombuffer(f.readframes(f.getnframes()), np.int16)
        assert 0.3 < wav_duration_s(w) < 3.0 and np.abs(audio).max() > 1000, (i, w.stat().st_size)


# -- formcheck live on clips played as a camera ------------------------------------------------------------------------
def test_no_camera_is_one_clear_line(capsys, tmp_path):
    code = main(["live", "--camera", "9", "--no-window", "-o", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 3 and len(err.splitlines()) == 1, err
    assert err.startswith("formcheck: error: camera 9 could not be opened; cameras found: ")
    assert not (tmp_path / "report.json").exists()


def test_window_without_a_display_is_one_clear_line(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code = main(["live", "--source", str(CLEAN), "-o", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--no-window" in err, err


def _truth(clip: Path) -> list[list[str]]:
    return [r["faults"] for r in json.loads(clip.with_suffix(".truth.json").read_text())["reps"]]


def test_live_headless_counts_the_clean_clip(tmp_path, capsys):
    code, rep, stats = _live(tmp_path, "--source", CLEAN, "--no-window", "--skip-setup")
    assert code == 0, capsys.readouterr().err
    assert [r["faults"] for r in rep["reps"]] == _truth(CLEAN) == [[], []]
    assert rep["schema_version"] == "1.0" and rep["detection_rate"] > 0.95 and rep["side"] == "left"
    assert stats["end_reason"] == "end of the clip" and stats["frames_processed"] > 100
    assert stats["fps_shown"] > 5 and stats["delay_ms_median"] < 1000
    assert stats["frames_captured"] == stats["frames_processed"] + stats["frames_dropped"]
    assert "frames shown at" in capsys.readouterr().out


@pytest.mark.slow
def test_live_calls_each_fault_on_its_rep_speaks_it_and_records(tmp_path, capsys, offline):
    """dev05: the same faults as `analyze` on every rep, each called by the end of its rep at the latest, spoken
    (rendered to WAV for real), and the annotated stream recorded as H.264."""
    import av

    _need(_tts_available(), "espeak-ng")
    wav_dir, rec = tmp_path / "wav", tmp_path / "rec.mp4"
    code, rep, stats = _live(tmp_path, "--source", HEAD, "--no-window", "--skip-setup", "--voice", "--voice-wav",
                             wav_dir, "--record", rec)
    assert code == 0, capsys.readouterr().err
    ref = offline(HEAD)
    assert [r["faults"] for r in rep["reps"]] == [r.faults for r in ref.reps] == [[], ["head_back"], ["head_back"]]
    for live_rep, off_rep in zip(rep["reps"], ref.reps):
        assert abs(live_rep["start_s"] - off_rep.start_s) < 0.3 and abs(live_rep["end_s"] - off_rep.end_s) < 0.3
    for r in rep["reps"]:
        for fault in r["faults"]:
            called = [v for v in stats["verdicts"] if v["rep"] == r["index"] and v["rule_id"] == fault]
            assert called and called[0]["t_s"] <= r["end_s"] + 0.2, (r, stats["verdicts"])
    assert [c["text"] for c in stats["spoken"]] == [CUES["head_back"][0]] * 2
    wavs = sorted(wav_dir.glob("*.wav"))
    assert [w.name for w in wavs] == ["001_chin_down.wav", "002_chin_down.wav"]
    assert all(0.3 < wav_duration_s(w) < 3.0 for w in wavs)
    assert rep["outputs"]["annotated_mp4"] == str(rec)
    with av.open(str(rec)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and (s.width, s.height) == (640, 480)
        n = sum(1 for _ in c.decode(s))
    assert n == stats["frames_processed"] - stats["record_dropped"]


def test_time_limit_mid_set_keeps_the_reps_so_far(tmp_path, capsys):
    code, rep, stats = _live(tmp_path, "--source", HEAD, "--no-window", "--skip-setup", "--max-seconds", "6")
    assert code == 0, capsys.readouterr().err
    assert stats["end_reason"] == "time limit (6 s)"
    assert rep["n_reps"] == 1 and rep["reps"][0]["faults"] == []     # rep 2 was at its top at 6 s: not counted
    assert any("before its top" in w for w in rep["warnings"])


def test_stream_that_ends_mid_set_stops_cleanly_and_keeps_the_report(tmp_path, capsys):
    """A stream given to --camera (OpenCV capture, camera clock) that stops sending frames: clean stop, report
    kept, one note saying so."""
    code, rep, stats = _live(tmp_path, "--camera", CLEAN, "--no-window", "--skip-setup")
    assert code == 0, capsys.readouterr().err
    assert stats["end_reason"] == "the stream ended" and stats["frames_processed"] > 0
    assert rep["video"]["codec"] == "camera"
    assert any("the stream ended" in w and "the report covers the set so far" in w for w in rep["warnings"])


def test_no_person_and_darkness_are_said_on_screen_not_crashed_on(tmp_path, capsys):
    """1 s of black, then an empty lit room: the set-up check says 'too dark', then 'no person in view'."""
    clip = tmp_path / "empty_room.mp4"
    wr = H264Writer(clip, 320, 240, 30.0)
    for i in range(75):
        wr.write(np.full((240, 320, 3), 0 if i < 30 else 150, np.uint8), i / 30)
    wr.close()
    code, rep, stats = _live(tmp_path, "--source", clip, "--no-window", "--record", tmp_path / "rec.mp4")
    assert code == 0, capsys.readouterr().err
    assert stats["messages"][0].startswith("Too dark") and NO_PERSON in stats["messages"]
    assert rep["n_reps"] == 0 and any("set-up check never passed" in w for w in rep["warnings"])


def test_setup_check_passes_on_a_good_clip_then_counts(tmp_path, capsys):
    code, rep, stats = _live(tmp_path, "--source", CLEAN, "--no-window")
    assert code == 0, capsys.readouterr().err
    assert stats["setup_ok_at_s"] is not None and stats["setup_ok_at_s"] < 0.8      # before rep 1 starts
    assert stats["messages"][-1] == GOOD_TO_GO
    assert [r["faults"] for r in rep["reps"]] == _truth(CLEAN)


def test_live_honours_exercise_and_ends_without_native_log_lines(tmp_path):
    """`formcheck live --exercise glute_bridge` as a user runs it: the set is judged as a glute bridge, and
    stderr carries no MediaPipe/TFLite lines (DestroyAccelerator... at close) nor Python warnings."""
    import re

    from conftest import ROOT

    out = tmp_path / "live"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FORMCHECK_DEBUG", None)
    p = subprocess.run([sys.executable, "-W", "default", "-m", "formcheck.cli", "live", "--source", str(CLEAN),
                        "--no-window", "--skip-setup", "--exercise", "glute_bridge", "--max-seconds", "3", "-o",
                        str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    assert not re.search(r"^(INFO|WARNING|ERROR): |^[IWEF]\d{4} |accelerator_registry|Warning", p.stderr, re.M), \
        p.stderr
    assert json.loads((out / "report.json").read_text())["exercise"] == "glute_bridge"
    assert "frames shown at" in p.stdout


# -- a real window under Xvfb --------------------------------------------------------------------------------------------
class _X:
    """Just enough Xlib + XTest (ctypes) to press keys in the live window the way a user would."""

    def __init__(self, display: str) -> None:
        x11, xtst = ctypes.util.find_library("X11"), ctypes.util.find_library("Xtst")
        _need(bool(x11 and xtst), "libX11/libXtst")
        self.x = ctypes.CDLL(x11)
        self.t = ctypes.CDLL(xtst)
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XStringToKeysym.restype = ctypes.c_ulong
        self.x.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x.XFlush.argtypes = self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.t.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.t.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                ctypes.c_ulong]
        self.d = self.x.XOpenDisplay(display.encode())
        assert self.d, f"cannot open {display}"

    def key(self, name: str) -> None:
        self.t.XTestFakeMotionEvent(self.d, -1, 200, 200, 0)     # pointer over the window (no window manager)
        code = self.x.XKeysymToKeycode(self.d, self.x.XStringToKeysym(name.encode()))
        self.t.XTestFakeKeyEvent(self.d, code, 1, 0)
        self.t.XTestFakeKeyEvent(self.d, code, 0, 0)
        self.x.XFlush(self.d)

    def close(self) -> None:
        self.x.XCloseDisplay(self.d)


@pytest.fixture(scope="module")
def xvfb():
    """A private X server. Xvfb picks a free display number itself (-displayfd), so runs never collide."""
    exe = shutil.which("Xvfb")
    _need(exe is not None, "Xvfb")
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as fh:
        num = fh.readline().strip()
    assert num.isdigit(), "Xvfb did not start"
    yield f":{num}"
    proc.terminate()
    proc.wait(10)


_GRAB = """
import sys, av, numpy as np
with av.open(sys.argv[1], format="x11grab", options={"video_size": "1280x1024", "draw_mouse": "0"}) as c:
    np.save(sys.argv[2], next(c.decode(video=0)).to_ndarray(format="rgb24")[:480, :640])
"""


def _grab(display: str, tmp_path: Path) -> np.ndarray:
    """A screenshot of the window's corner. In a child process: PyAV's X11 capture and OpenCV's bundled Qt/xcb
    libraries crash when loaded into one process."""
    out = tmp_path / "shot.npy"
    subprocess.run([sys.executable, "-c", _GRAB, display, str(out)], check=True, timeout=30)
    return np.load(out)


def _near(img: np.ndarray, rgb, tol: int = 40) -> int:
    return int((np.abs(img.astype(int) - rgb).max(axis=2) < tol).sum())


@pytest.mark.gui
def test_live_window_under_xvfb_shows_overlay_and_obeys_keys(tmp_path, xvfb):
    """The real window: set-up check, skeleton on screen, space pauses (picture frozen), r resets, q quits."""
    from formcheck.render.overlay import AMBER, NEAR

    keys = _X(xvfb)
    out = tmp_path / "live"
    env = dict(os.environ, DISPLAY=xvfb)
    proc = subprocess.Popen([sys.executable, "-m", "formcheck.cli", "live", "--source", str(HEAD), "-o", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60   # start-up (imports, model) takes ~5 s idle, far longer on a busy machine
        shot = _grab(xvfb, tmp_path)
        while _near(shot, NEAR) < 200 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            shot = _grab(xvfb, tmp_path)
        assert _near(shot, NEAR) >= 200, "no skeleton drawn in the window"
        time.sleep(1.0)
        keys.key("space")
        time.sleep(0.8)
        a = _grab(xvfb, tmp_path)
        time.sleep(0.5)
        b = _grab(xvfb, tmp_path)
        banner = a[100:160, 60:580]                      # "PAUSED: space to resume", centred at 30% height
        assert np.array_equal(a, b) and _near(banner, AMBER) > 100, "paused picture should be frozen with its banner"
        keys.key("space")
        time.sleep(0.8)
        assert not np.array_equal(_grab(xvfb, tmp_path), b), "resumed picture should move again"
        keys.key("r")
        time.sleep(0.3)
        keys.key("q")
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        keys.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    stats = json.loads((out / "live.json").read_text())
    report = json.loads((out / "report.json").read_text())
    assert stats["end_reason"] == "quit" and stats["frames_paused"] > 0 and len(stats["resets"]) == 1
    assert stats["setup_ok_at_s"] is not None and GOOD_TO_GO in stats["messages"]
    assert report["schema_version"] == "1.0" and "frames shown at" in stdout


def test_setup_check_says_when_the_lifter_is_standing():
    """Walking up to the bench is not the set-up: a standing pose gets told to lie back, not 'good to go'."""
    from formcheck.core.setup_check import check_setup
    from synth import pose_at

    lying = pose_at(0.0, torso_deg=-26, hip_deg=125, knee_deg=78)
    standing = pose_at(0.0, torso_deg=-88, hip_deg=178, knee_deg=175, width=900, height=1100)
    assert "upright" not in check_setup(lying, 640, 480, 120.0).problems
    up = check_setup(standing, 900, 1100, 120.0, setup_hint="lie on the floor")
    assert up.problems == ("upright",) and not up.ok and up.advice == "Standing or sitting up: lie on the floor"
