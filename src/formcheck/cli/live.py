"""`formcheck live`: coaching from a camera (or a clip played as one)."""
from __future__ import annotations

import argparse


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
    from formcheck.apps.live import main

    return main(a)
