"""The bare reference for `formcheck analyze`: decode a clip and run the pose model on every frame, nothing else.

Standalone on purpose (it must not import formcheck: it is the baseline formcheck is measured against), yet it
does the work formcheck cannot avoid the way formcheck does it (src/formcheck/io/pose.py, io/video_file.py):
PyAV decode with the codec's own threads (thread_type AUTO), each frame to RGB24, downscaled once with INTER_AREA
when its longest side exceeds the shipped profile's [pose] max_model_side_px (1280), MediaPipe PoseLandmarker
in VIDEO mode with num_poses=1 and strictly increasing millisecond timestamps, closed at the end. Decoding runs in
the main thread. Rotation metadata is ignored (the benchmark's clips have none). Prints one line: "N frames".

    python bench/bare_pose.py CLIP [--model PATH]
"""
from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

import av
import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "src" / "formcheck" / "exercises" / "hip_thrust" / "profile.toml"


def default_model() -> Path:
    """The model formcheck loads by default: FORMCHECK_MODEL, else models/pose_landmarker_full.task."""
    return Path(os.environ.get("FORMCHECK_MODEL") or ROOT / "models" / "pose_landmarker_full.task")


def max_model_side() -> int:
    """The downscale threshold formcheck uses, read from the shipped profile so the two cannot drift apart."""
    try:
        return int(tomllib.loads(PROFILE.read_text())["pose"]["max_model_side_px"])
    except (OSError, KeyError, ValueError):
        return 1280


def run(clip: Path, model: Path) -> int:
    max_side = max_model_side()
    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model)),
                                        running_mode=vision.RunningMode.VIDEO, num_poses=1)
    n, last_ms = 0, -1
    with av.open(str(clip)) as c, vision.PoseLandmarker.create_from_options(opts) as lm:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        fps = float(s.average_rate or 30)
        for fr in c.decode(s):
            img = fr.to_ndarray(format="rgb24")
            h, w = img.shape[:2]
            scale = max_side / max(h, w)
            if scale < 1:
                img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            t_s = float(fr.time) if fr.time is not None else n / fps
            last_ms = max(int(round(t_s * 1000)), last_ms + 1)   # VIDEO mode needs strictly increasing timestamps
            lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(img)), last_ms)
            n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip", type=Path)
    ap.add_argument("--model", type=Path, default=None, help="pose_landmarker .task (default: formcheck's)")
    a = ap.parse_args()
    print(f"{run(a.clip, a.model or default_model())} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
