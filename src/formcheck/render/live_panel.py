"""What live coaching draws on top of the overlay: the running set summary (top right) and the pause banner."""
from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import cv2
import numpy as np

from formcheck.core.types import Rep
from formcheck.render import overlay


def _set_summary_lines(reps: Sequence[Rep], cues: Mapping[str, tuple[str, str]] | None = None
                       ) -> list[tuple[str, tuple[int, int, int]]]:
    """The running set summary: rep count, clean reps, and each fault's cue (the exercise's `cues`) with how
    often it came up."""
    if not reps:
        return [("SET: no reps yet", overlay.WHITE)]
    n_good = sum(1 for r in reps if not r.faults)
    lines = [(f"SET: {len(reps)} rep{'s' if len(reps) != 1 else ''}, {n_good} good",
              overlay.GREEN if n_good == len(reps) else overlay.WHITE)]
    tally = Counter(f for r in reps for f in r.faults)
    for rule_id, n in tally.most_common(4):
        cue = cues[rule_id][0] if cues and rule_id in cues else rule_id.replace("_", " ")
        lines.append((f"{cue} x{n}", overlay.RED))
    return lines


def draw_live_panel(img: np.ndarray, reps: Sequence[Rep], status: str = "",
                    cues: Mapping[str, tuple[str, str]] | None = None) -> None:
    """Top-right panel: the running set summary and a status line (keys, set-up). Draws in place.

    cues: the exercise's rule id -> (short cue, sentence), e.g. `state.exercise.cues`."""
    h, w = img.shape[:2]
    s = max(h, w) / 640.0
    lines = _set_summary_lines(reps, cues)
    if status:
        lines.append((status, overlay.AMBER))
    scale = 0.5 * s
    thick = max(1, int(round(1.2 * s)))
    sizes = [cv2.getTextSize(t, overlay.FONT, scale, thick)[0] for t, _ in lines]
    pad = int(8 * s)
    line_h = int(22 * s)
    pw = max(tw for tw, _ in sizes) + 2 * pad
    ph = line_h * len(lines) + pad
    x0, y0 = max(0, w - pw), 0
    roi = img[y0:y0 + ph, x0:w]
    roi[:] = (roi.astype(np.uint16) * 115 >> 8).astype(np.uint8)
    for i, (text, col) in enumerate(lines):
        cv2.putText(img, text, (x0 + pad, y0 + line_h * (i + 1) - int(4 * s)), overlay.FONT, scale, col, thick,
                    cv2.LINE_AA)


def _banner(img: np.ndarray, text: str) -> None:
    """A centred status line over a frozen frame (pause)."""
    h, w = img.shape[:2]
    s = max(h, w) / 640.0
    (tw, th), _ = cv2.getTextSize(text, overlay.FONT, 1.0 * s, max(1, int(2 * s)))
    x, y = max(0, (w - tw) // 2), int(h * 0.3)
    roi = img[max(0, y - th - 10):min(h, y + 12), max(0, x - 12):min(w, x + tw + 12)]
    roi[:] = (roi.astype(np.uint16) * 90 >> 8).astype(np.uint8)
    cv2.putText(img, text, (x, y), overlay.FONT, 1.0 * s, overlay.AMBER, max(1, int(2 * s)), cv2.LINE_AA)
