"""Draw the coaching overlay on a frame: skeleton, joint angles, rep counter, phase, active cues, rep summary.

Image in, image out (the input is drawn on in place only when `inplace=True`, which the pipelines use to avoid a
copy per frame). Colours are RGB because frames stay RGB from the decoder to the encoder.
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from formcheck.core.skeleton import SIDE_EDGES, SIDE_JOINTS
from formcheck.core.tracker import FrameState
from formcheck.core.types import Rep

GREEN = (60, 200, 90)
RED = (235, 60, 50)
AMBER = (245, 180, 40)
WHITE = (255, 255, 255)
GREY = (150, 150, 150)
NEAR = (80, 200, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX



def _panel(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, alpha: float = 0.55) -> None:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    roi[:] = (roi.astype(np.uint16) * int(256 * (1 - alpha)) >> 8).astype(np.uint8)


def _text(img, s, org, scale, color, thick=1, outline: bool = True) -> None:
    if outline:  # a dark halo keeps labels readable on any background
        cv2.putText(img, s, org, FONT, scale, (0, 0, 0), thick + 2, cv2.LINE_8)
    cv2.putText(img, s, org, FONT, scale, color, thick, cv2.LINE_AA)


def _angle_label(img, value: float, at, scale: float, color, prefix: str = "") -> None:
    if not math.isfinite(value):
        return
    s = f"{prefix}{value:+.0f}" if prefix else f"{value:.0f}"
    x, y = int(at[0]) + int(12 * scale), int(at[1]) - int(8 * scale)
    _text(img, s, (x, y), 0.6 * scale, color, max(1, int(1.5 * scale)))
    (tw, th), _ = cv2.getTextSize(s, FONT, 0.6 * scale, max(1, int(1.5 * scale)))
    cv2.circle(img, (x + tw + int(4 * scale), y - th + int(2 * scale)), max(2, int(3 * scale)), color, 1, cv2.LINE_AA)


def draw(img: np.ndarray, st: FrameState, reps: Sequence[Rep], fps_shown: float | None = None,
         message: str = "", inplace: bool = False) -> np.ndarray:
    """Overlay one frame. `reps`: completed reps so far (for the summary strip); `message`: a status line
    (set-up advice, "no person in view") shown large when not empty."""
    out = img if inplace else img.copy()
    h, w = out.shape[:2]
    s = max(h, w) / 640.0
    lw = max(1, int(round(2.5 * s)))
    failing = {f.rule_id for f in st.active}
    cues = st.exercise.cues
    joint_rules = st.exercise.joint_rules

    if st.pose.detected:
        xy = st.pose.xy_px
        vis = st.pose.visibility
        far = "right" if st.side == "left" else "left"
        for side, col, width in ((far, GREY, max(1, lw // 2)), (st.side, NEAR, lw)):
            j = SIDE_JOINTS[side]
            for a, b in SIDE_EDGES:
                if vis[j[a]] < 0.5 or vis[j[b]] < 0.5:
                    continue
                pa, pb = xy[j[a]], xy[j[b]]
                if np.isfinite(pa).all() and np.isfinite(pb).all():
                    cv2.line(out, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), col, width, cv2.LINE_AA)
            for role in j.values():
                p = xy[role]
                if vis[role] >= 0.5 and np.isfinite(p).all():
                    cv2.circle(out, (int(p[0]), int(p[1])), max(2, width + 1), col, -1, cv2.LINE_AA)
        j = SIDE_JOINTS[st.side]
        for role, key, prefix in (("knee", "knee_deg", ""), ("hip", "hip_deg", ""), ("ear", "neck_ext_deg", "head ")):
            bad = any(r in failing for r in joint_rules.get(role, ()))
            _angle_label(out, st.smooth.get(key, float("nan")), xy[j[role]], s, RED if bad else WHITE, prefix)

    # Top-left: rep counter and phase.
    n_rep = st.reps_done + (1 if st.phase in ("up", "top") else 0)
    _panel(out, 0, 0, int(330 * s), int(78 * s))
    _text(out, f"REP {n_rep}", (int(10 * s), int(36 * s)), 1.0 * s, WHITE, max(1, int(2 * s)), False)
    _text(out, st.phase.upper(), (int(150 * s), int(36 * s)), 0.8 * s, AMBER, max(1, int(2 * s)), False)
    sub = f"side: {st.side}" + (f"   {fps_shown:.0f} fps" if fps_shown else "")
    _text(out, sub, (int(10 * s), int(64 * s)), 0.5 * s, WHITE, 1, False)

    # Active cues, large, while they apply (from the verdict until the next rep starts).
    y = int(120 * s)
    for f in st.active:
        cue = cues[f.rule_id][0].upper()
        _panel(out, 0, y - int(34 * s), int(24 * s + 22 * s * len(cue)), y + int(10 * s), 0.6)
        _text(out, cue, (int(10 * s), y), 1.1 * s, RED, max(1, int(3 * s)))
        y += int(50 * s)
    if message:
        (tw, _), _ = cv2.getTextSize(message, FONT, 0.8 * s, 2)
        x = max(0, (w - tw) // 2)
        _panel(out, x - 10, h // 2 - int(30 * s), x + tw + 10, h // 2 + int(14 * s), 0.6)
        _text(out, message, (x, h // 2), 0.8 * s, AMBER, max(1, int(2 * s)))

    # Bottom strip: one chip per finished rep, green when clean, red with its cues when not.
    if reps:
        chip_h = int(28 * s)
        _panel(out, 0, h - chip_h - int(8 * s), w, h)
        x = int(8 * s)
        for r in reps[-8:]:
            faults = r.faults
            label = f"{r.index}: " + (", ".join(cues[f][0] for f in faults if f in cues) if faults else "good")
            (tw, _), _ = cv2.getTextSize(label, FONT, 0.5 * s, 1)
            if x + tw > w:
                break
            _text(out, label, (x, h - int(14 * s)), 0.5 * s, RED if faults else GREEN, 1, False)
            x += tw + int(18 * s)
    return out
