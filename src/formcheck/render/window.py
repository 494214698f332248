"""The live OpenCV window: frames in (RGB), keys out. Fails with one line when there is no display."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from formcheck.core.errors import FormcheckError

WINDOW_NAME = "formcheck live"


class DisplayError(FormcheckError):
    """A window was asked for but there is no display to show it on."""


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
