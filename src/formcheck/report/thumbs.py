"""Lockout thumbnails: one JPEG per rep from the annotated video, for the rep cards."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

#: Longest side of a lockout thumbnail: enough to see the joints and the drawn angles, 10-30 KB as JPEG.
THUMB_MAX_PX = 480


def lockout_thumbnails(video: Path, times: Sequence[float], max_px: int = THUMB_MAX_PX,
                       quality: int = 80) -> list[bytes | None]:
    """JPEG of the annotated video's frame at each time (the overlay already shows skeleton and angles).

    One forward decoding pass, stopping after the last wanted frame: the reps are spread over the clip, so seeking
    per rep would decode the same keyframe intervals again.
    """
    import av

    out: list[bytes | None] = [None] * len(times)
    if not times:
        return out
    order = sorted(range(len(times)), key=lambda i: times[i])
    with av.open(str(video)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        rate = float(s.average_rate or 30)
        k, n = 0, 0
        for frame in c.decode(s):
            ft = frame.time if frame.time is not None else n / rate
            n += 1
            while k < len(order) and ft >= times[order[k]] - 0.5 / rate:
                scale = min(1.0, max_px / max(frame.width, frame.height))
                w = max(2, int(round(frame.width * scale / 2)) * 2)
                h = max(2, int(round(frame.height * scale / 2)) * 2)
                buf = io.BytesIO()
                frame.to_image(width=w, height=h).save(buf, format="JPEG", quality=quality, optimize=True)
                out[order[k]] = buf.getvalue()
                k += 1
            if k == len(order):
                break
    return out


