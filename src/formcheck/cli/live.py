"""`formcheck live`: coaching from a camera (or a clip played as one), then the set summary printed."""
from __future__ import annotations

import argparse
from pathlib import Path


def add(sub, common) -> None:
    lv = sub.add_parser("live", help="live coaching from a webcam (or a file played as a camera)")
    lv.add_argument("--camera", default="0", help="camera index or stream URL (default 0)")
    lv.add_argument("--source", help="play this video file as if it were a camera, paced at its frame rate")
    lv.add_argument("--no-window", action="store_true", help="run without a display")
    lv.add_argument("--voice", action="store_true", help="speak cues (offline text-to-speech)")
    lv.add_argument("--voice-wav", metavar="DIR", help="with --voice: also keep each spoken cue as a WAV in DIR")
    lv.add_argument("--record", help="also save the annotated stream to this MP4")
    lv.add_argument("-o", "--output", help="folder for the set report (default: ./formcheck_live)")
    lv.add_argument("--skip-setup", action="store_true", help="skip the camera set-up check")
    lv.add_argument("--max-seconds", type=float, help="stop after this long")
    common(lv)
    lv.set_defaults(func=run)


def run(a: argparse.Namespace) -> int:
    """Coach one set, write report.json and live.json, print the set summary and how the loop kept up."""
    from formcheck.apps.live import DEFAULT_OUT_DIR, LiveSession, open_source, write_outputs
    from formcheck.core.errors import FormcheckError
    from formcheck.exercises import candidates
    from formcheck.report.files import summary_text

    if a.max_seconds is not None and a.max_seconds <= 0:
        raise FormcheckError("--max-seconds must be > 0")
    cands = candidates(a.exercise, a.profile)     # a bad profile is reported before the camera opens
    source = open_source(a.camera, a.source)
    session = LiveSession(source, candidates=cands, model=a.model, window=not a.no_window, voice=a.voice,
                          voice_wav_dir=a.voice_wav, record=a.record, skip_setup=a.skip_setup,
                          max_seconds=a.max_seconds)
    result = session.run()
    analysis = write_outputs(result, Path(a.output or DEFAULT_OUT_DIR), session.record_path)
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
