"""Frame sources: a video file (PyAV) or a camera (OpenCV). Each yields upright RGB frames with timestamps.

PyAV rather than cv2.VideoCapture for files because it gives container timestamps (variable frame rate stays
right), the display-matrix rotation of phone clips, and a float frame rate.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from formcheck.core.errors import InputError
from formcheck.core.types import VideoInfo

VIDEO_EXTENSIONS = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".3gp", ".ts", ".mts"}


@dataclass
class Frame:
    """One upright frame. image: (H, W, 3) uint8 RGB."""

    index: int
    t_s: float
    image: np.ndarray


def _rotation_of(stream, frame=None) -> int:
    """Clockwise degrees to turn the coded image upright (display matrix is counter-clockwise)."""
    rot = getattr(frame, "rotation", None) if frame is not None else None
    if rot is None:
        try:
            rot = int(float(stream.metadata.get("rotate", 0)))
            return rot % 360  # the old 'rotate' tag is already clockwise
        except (TypeError, ValueError):
            return 0
    return (-int(rot)) % 360


def upright(image: np.ndarray, rotation_cw_deg: int) -> np.ndarray:
    if rotation_cw_deg % 360 == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=-(rotation_cw_deg // 90)))


class VideoFile:
    """A video file opened for reading. Iterate it for frames; `info` describes it (after rotation).

    extra_rotation_cw_deg: a further clockwise turn on top of the container's own rotation, for a clip whose
    rotation flag is missing or wrong (the orientation probe, io/orientation_probe.py, finds it from the pose).
    """

    def __init__(self, path: str | os.PathLike, extra_rotation_cw_deg: int = 0) -> None:
        import av

        if extra_rotation_cw_deg % 90:
            raise ValueError(f"extra_rotation_cw_deg must be a multiple of 90, got {extra_rotation_cw_deg}")
        self.extra_rotation_cw_deg = extra_rotation_cw_deg % 360

        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file; check the path")
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder; give a video file (or use `formcheck batch` for folders)")
        if self.path.stat().st_size == 0:
            raise InputError(f"{self.path}: the file is empty (0 bytes); re-export or re-copy the clip")
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
            raise InputError(f"{self.path}: not a readable video ({type(e).__name__}); give an MP4/MOV/MKV/AVI clip") from None
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{self.path}: has no video stream; give a video clip, not audio or an image")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        cc = self._stream.codec_context
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(30)
        fps = float(rate) if rate else 30.0
        dur = float(self._stream.duration * self._stream.time_base) if self._stream.duration else (
            self._container.duration / 1e6 if self._container.duration else 0.0)
        n = self._stream.frames or (int(round(dur * fps)) if dur else 0)
        self._first = None
        self._rotation = _rotation_of(self._stream)
        try:
            self._first = next(self._decode())
        except StopIteration:
            self._container.close()
            raise InputError(f"{self.path}: no frame could be decoded (empty or truncated); re-export the clip") from None
        self._rotation = (_rotation_of(self._stream, self._first) + self.extra_rotation_cw_deg) % 360
        w, h = cc.width, cc.height
        if self._rotation in (90, 270):
            w, h = h, w
        self.decode_warning = ""
        self.orientation_warning = ""   # set by whoever chose extra_rotation_cw_deg: what was done, or "cannot tell"
        self.info = VideoInfo(str(self.path), int(w), int(h), fps, int(n), dur, self._rotation, cc.name)

    def _decode(self):
        import av

        try:
            for fr in self._container.decode(self._stream):
                yield fr
        except (av.error.FFmpegError, EOFError) as e:
            # A truncated file: keep what decoded, say so.
            self.decode_warning = f"decoding stopped early ({type(e).__name__}): the file may be truncated"

    def __iter__(self) -> Iterator[Frame]:
        first, self._first = self._first, None
        frames = self._decode()
        i = 0
        last_t = -math.inf
        src = ([first] if first is not None else [])
        for fr in _chain(src, frames):
            t = fr.time
            if t is None:
                t = i / self.info.fps
            t = float(t)
            if t <= last_t:  # duplicate / out-of-order timestamps: keep time strictly increasing
                t = last_t + 1e-3
            last_t = t
            img = fr.to_ndarray(format="rgb24")
            yield Frame(i, t, upright(img, self._rotation))
            i += 1

    def spread_frames(self, n: int) -> Iterator[Frame]:
        """About `n` upright frames spread evenly over the clip (the first decoded at or after the middle of each of
        n equal parts of its duration), for a probe, as they are decoded. Non-reference frames are not decoded at
        all (no other frame needs them: a third to a half of an H.264 clip's decode) and only the chosen frames
        are converted. It uses the file up: open another VideoFile to analyse the clip. With no duration in the
        container, one frame a second from the start."""
        dur = self.info.duration_s or (self.info.n_frames / self.info.fps if self.info.n_frames else 0.0)
        want = [(k + 0.5) * dur / n for k in range(n)] if dur > 0 else [float(k) for k in range(n)]
        first, self._first = self._first, None
        self._stream.codec_context.skip_frame = "NONREF"
        j = 0
        for fr in _chain([first] if first is not None else [], self._decode()):
            t = float(fr.time) if fr.time is not None else 0.0
            if t + 1e-6 < want[j]:
                continue
            yield Frame(round(t * self.info.fps), t, upright(fr.to_ndarray(format="rgb24"), self._rotation))
            while j < len(want) and want[j] <= t + 1e-6:
                j += 1
            if j == len(want):
                return

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "VideoFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _chain(a, b):
    yield from a
    yield from b


def find_videos(paths: list[str]) -> list[Path]:
    """Expand folders (recursively) and globs into a sorted, de-duplicated list of video files."""
    import glob

    out: list[Path] = []
    for p in paths:
        pp = Path(p)
        if pp.is_dir():
            out += [q for q in sorted(pp.rglob("*")) if q.is_file() and q.suffix.lower() in VIDEO_EXTENSIONS]
        elif any(ch in p for ch in "*?["):
            out += [Path(q) for q in sorted(glob.glob(p, recursive=True)) if Path(q).is_file()]
        else:
            out.append(pp)
    seen, uniq = set(), []
    for q in out:
        k = q.resolve()
        if k not in seen:
            seen.add(k)
            uniq.append(q)
    return uniq
