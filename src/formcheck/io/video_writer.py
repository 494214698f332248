"""H.264 MP4 writer (PyAV/libx264, yuv420p, faststart) that plays in browsers, unlike OpenCV's mp4v."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


class H264Writer:
    """Write RGB frames with their timestamps (variable frame rate is kept: pts come from the source)."""

    def __init__(self, path: str | Path, width: int, height: int, fps: float, crf: int = 23, preset: str = "veryfast",
                 threads: int = 1) -> None:
        import av

        self.path = Path(path)
        # libx264 with yuv420p needs even dimensions.
        self.width, self.height = width - width % 2, height - height % 2
        self._c = av.open(str(self.path), mode="w", options={"movflags": "+faststart"})
        self._s = self._c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self._s.width, self._s.height, self._s.pix_fmt = self.width, self.height, "yuv420p"
        self._s.time_base = Fraction(1, 90000)
        self._s.codec_context.time_base = Fraction(1, 90000)
        self._s.options = {"crf": str(crf), "preset": preset}
        # One x264 thread: the encoder then stays on the core inference leaves free instead of spreading into it
        # (720p veryfast: ~11 ms/frame on one core, a third of superfast's file size).
        self._s.codec_context.thread_count = threads
        self._last_pts = -1

    def write(self, image_rgb: np.ndarray, t_s: float) -> None:
        import av

        img = image_rgb[: self.height, : self.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
        pts = max(int(round(t_s * 90000)), self._last_pts + 1)
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = Fraction(1, 90000)
        for pkt in self._s.encode(frame):
            self._c.mux(pkt)

    def close(self) -> None:
        for pkt in self._s.encode():
            self._c.mux(pkt)
        self._c.close()
