"""Live coaching: a camera (or a clip played as one) -> pose -> SetTracker -> overlay, in real time.

The pieces: frame sources in `formcheck.io.camera`, the window in `formcheck.render.window`, the set summary
panel in `formcheck.render.live_panel`, the window-free set logic in `coach`, the camera/window loop in `loop`,
the set's outputs in `result`. The command line (`formcheck live`) is `formcheck.cli.live`.
"""
from formcheck.apps.live.coach import (GOOD_TO_GO_SHOW_S, KEY_HELP, MAX_MESSAGES, NO_PERSON_S, Coach, SetCount,
                                       Shown)
from formcheck.apps.live.loop import RECORD_QUEUE, LiveSession
from formcheck.apps.live.result import DEFAULT_OUT_DIR, LiveResult, LiveStats, write_outputs
from formcheck.io.camera import (CAMERA_TIMEOUT_S, CameraError, CameraSource, Captured, FileAsCamera, LatestFrame,
                                 LiveSource, list_cameras, open_source)
from formcheck.render.live_panel import draw_live_panel
from formcheck.render.window import WINDOW_NAME, DisplayError, Window

__all__ = [
    "CAMERA_TIMEOUT_S", "DEFAULT_OUT_DIR", "GOOD_TO_GO_SHOW_S", "KEY_HELP", "MAX_MESSAGES", "NO_PERSON_S",
    "RECORD_QUEUE", "WINDOW_NAME", "CameraError", "CameraSource", "Captured", "Coach", "DisplayError",
    "FileAsCamera", "LatestFrame", "LiveResult", "LiveSession", "LiveSource", "LiveStats", "SetCount", "Shown",
    "Window", "draw_live_panel", "list_cameras", "open_source", "write_outputs",
]
