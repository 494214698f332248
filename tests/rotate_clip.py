"""Copies of a clip turned by 90 / 180 / 270 deg with no rotation flag: what a phone that drops the flag produces.

lossless: H.264 in RGB at qp 0 (libx264rgb), so that turning the copy back gives the original's decoded pixels
exactly and the analysis of the copy must match the original's, not just come close. Otherwise ordinary lossy
H.264 (yuv420p, crf 23), as a phone would write it. Timestamps are copied from the source.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def hand_drift(index: int, fps: float, w: int, h: int, frac: float) -> np.ndarray:
    """The (2, 3) affine `shake_frac` applies to frame `index`: a handheld phone's drift (two slow sines per axis,
    peak `frac` of the width; a 0.8 deg sway) zoomed by 1 / (1 - 2.5 frac) so no border shows."""
    import math

    import cv2

    t = index / fps
    dx = frac * w * (0.6 * math.sin(2 * math.pi * 0.23 * t + 0.4) + 0.4 * math.sin(2 * math.pi * 0.71 * t + 2.0))
    dy = frac * w * (0.6 * math.sin(2 * math.pi * 0.19 * t + 1.3) + 0.4 * math.sin(2 * math.pi * 0.83 * t + 0.7))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0.8 * math.sin(2 * math.pi * 0.31 * t + 0.9), 1 / (1 - 2.5 * frac))
    m[0, 2] += dx
    m[1, 2] += dy
    return m


def rotated_copy(src: str | Path, dst: str | Path, rotation_cw_deg: int, lossless: bool = True,
                 max_frames: int | None = None, mirror: bool = False, every: int = 1, tilt_deg: float = 0.0,
                 shake_frac: float = 0.0) -> Path:
    """Write `src` (as formcheck decodes it: upright by its own flag) turned clockwise by rotation_cw_deg; only its
    first max_frames frames when given (a short cut for tests that need the model, not the reps). mirror=True flips
    it left to right (the same set filmed from the other side); every=2 keeps every other frame (half the frame
    rate); tilt_deg turns the picture that far counter-clockwise and zooms in until no border shows (a phone propped
    a little crooked); shake_frac moves the picture as a hand holding the phone would (`hand_drift`)."""
    import math

    import av
    import cv2

    from formcheck.io.video_file import VideoFile, upright

    dst = Path(dst)
    with VideoFile(src) as vf:
        rate = Fraction(vf.info.fps / every).limit_denominator(1001)
        out = av.open(str(dst), mode="w")
        try:
            s = out.add_stream("libx264rgb" if lossless else "libx264", rate=rate)
            w, h = (vf.info.height, vf.info.width) if rotation_cw_deg % 180 else (vf.info.width, vf.info.height)
            s.width, s.height = w, h
            s.pix_fmt = "rgb24" if lossless else "yuv420p"
            s.options = {"qp": "0", "preset": "ultrafast"} if lossless else {"crf": "23", "preset": "veryfast"}
            s.time_base = Fraction(1, 90000)
            last = -1
            for fr in vf:
                if max_frames is not None and fr.index >= max_frames:
                    break
                if fr.index % every:
                    continue
                img = upright(fr.image, rotation_cw_deg)
                if mirror:
                    img = img[:, ::-1]
                if tilt_deg:
                    a = math.radians(abs(tilt_deg))
                    zoom = math.cos(a) + math.sin(a) * max(w / h, h / w)
                    turn = cv2.getRotationMatrix2D((w / 2, h / 2), tilt_deg, zoom)
                    img = cv2.warpAffine(np.ascontiguousarray(img), turn, (w, h))
                if shake_frac:
                    img = cv2.warpAffine(np.ascontiguousarray(img), hand_drift(fr.index, vf.info.fps, w, h, shake_frac),
                                         (w, h), borderMode=cv2.BORDER_REFLECT)
                if not lossless:
                    img = img[: h - h % 2, : w - w % 2]
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                frame.pts = last = max(int(round(fr.t_s * 90000)), last + 1)
                frame.time_base = Fraction(1, 90000)
                for pkt in s.encode(frame):
                    out.mux(pkt)
            for pkt in s.encode():
                out.mux(pkt)
        finally:
            out.close()
    return dst
