"""The report's angle charts: frames.csv read back, each exercise plot drawn as SVG by matplotlib in a desktop and
a phone layout, with the profile's good band and each rep's verdict on it."""
from __future__ import annotations

import csv
import io
import math
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from formcheck.core.config import Profile
from formcheck.core.exercise import Exercise
from formcheck.core.smoothing import zero_phase
from formcheck.core.types import Analysis, Rep
from formcheck.exercises import get_exercise
from formcheck.report.verdicts import rep_cue

MAX_POINTS = 2400   # samples per plotted line (a chart is ~900 px wide)
#: the charts' phone layout: the page picks NARROW below it, and its script reads the query from the page
NARROW_MEDIA = "(max-width: 600px)"

_OK, _BAD, _NJ = "#1a7f37", "#cf222e", "#8c959f"
_LINE = "#0b5cad"


def read_frames(path: Path) -> dict[str, np.ndarray]:
    """frames.csv -> numeric columns (empty cells = NaN; the text column 'phase' is dropped).

    Streams the rows into packed float arrays: a 10-minute clip has ~18,000 rows, and holding them as lists of
    strings would cost tens of MB for a moment at the end of a long analysis.
    """
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        head = next(reader, None)
        if not head:
            return {}
        keep = [(i, name, array("d")) for i, name in enumerate(head) if name != "phase"]
        for r in reader:
            for i, _, col in keep:
                s = r[i] if i < len(r) else ""
                try:
                    col.append(float(s) if s != "" else math.nan)
                except ValueError:
                    col.append(math.nan)
    return {name: np.frombuffer(col, dtype=float).copy() for _, name, col in keep}


# ----------------------------------------------------------------------------------------------------- plots


@dataclass(frozen=True)
class Layout:
    """A chart size for one screen class; the page picks one with a <picture> media query."""

    width_in: float
    height_in: float
    margins: tuple[float, float, float, float]   # left, bottom, right, top as figure fractions


#: desktop: a wide strip; phone (<= 600 CSS px): narrower and taller so the labels stay ~10 px when scaled down
WIDE = Layout(7.2, 2.3, (0.075, 0.15, 0.99, 0.86))
NARROW = Layout(4.4, 2.6, (0.12, 0.14, 0.985, 0.87))


@dataclass(frozen=True)
class Plot:
    """One chart in both layouts and where its axes sit, so a click on it maps to a time and a playhead can be
    drawn over it (box: axes left, bottom, right, top as fractions of the image)."""

    key: str
    title: str
    caption: str
    svg: bytes
    box: tuple[float, float, float, float]
    svg_narrow: bytes
    box_narrow: tuple[float, float, float, float]
    t0: float       # x limits of the axes (s)
    t1: float


def plot_bands(profile: Profile, exercise: Exercise) -> dict[str, tuple[float | None, float | None]]:
    """plot key -> (lo, hi) of the good range, from the bounds of the rules that colour it."""
    out = {}
    for plot in exercise.plots:
        lo = hi = None
        for rid in plot.rule_ids:
            r = exercise.rule(rid)
            a, b = r.bounds(profile.thresholds[r.key])
            lo = a if a is not None else lo
            hi = b if b is not None else hi
        out[plot.key] = (lo, hi)
    return out


def _chart(t: np.ndarray, raw: np.ndarray, smooth: np.ndarray | None, band: tuple[float | None, float | None],
           reps: Sequence[Rep], rule_ids: Sequence[str], t1: float, lay: Layout
           ) -> tuple[bytes, tuple[float, float, float, float]]:
    from matplotlib.figure import Figure
    from matplotlib.transforms import blended_transform_factory

    lo, hi = band
    fig = Figure(figsize=(lay.width_in, lay.height_in))
    left, bottom, right, top_ = lay.margins
    fig.subplots_adjust(left=left, bottom=bottom, right=right, top=top_)
    ax = fig.add_subplot()
    finite = np.concatenate([raw[np.isfinite(raw)]] + ([smooth[np.isfinite(smooth)]] if smooth is not None else []))
    y_lo, y_hi = np.percentile(finite, [0.5, 99.5])
    # keep both band edges in view; a one-sided band (head: <= 20) shows at least 10 deg of itself
    y_lo = min(y_lo, lo if lo is not None else (hi - 10 if hi is not None else y_lo))
    y_hi = max(y_hi, hi if hi is not None else y_hi)
    pad = 0.08 * max(y_hi - y_lo, 10.0)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    ax.set_xlim(0.0, t1)
    ax.set_ylim(y_lo, y_hi)
    ax.axhspan(lo if lo is not None else y_lo, hi if hi is not None else y_hi, color=_OK, alpha=0.10, lw=0, zorder=0)
    for b in (lo, hi):
        if b is not None:
            ax.axhline(b, color=_OK, lw=0.9, ls=(0, (4, 3)), zorder=1)
    top = blended_transform_factory(ax.transData, ax.transAxes)
    axes_pt = (right - left) * lay.width_in * 72
    shortest = min((r.end_s - r.start_s for r in reps), default=t1)
    long_labels = axes_pt * shortest / t1 >= 40       # room for "rep 10" over the narrowest rep
    for rep in reps:
        verdict, fs = rep_cue(rep, rule_ids)
        colour = {"pass": _OK, "fail": _BAD, "not_judged": _NJ}[verdict]
        ax.axvspan(rep.start_s, rep.end_s, color="#57606a", alpha=0.06, lw=0, zorder=0)
        ax.axvline(rep.start_s, color="#8c959f", lw=0.6, zorder=1)
        ax.axvspan(rep.lockout_start_s, rep.lockout_end_s, color=colour, alpha=0.20, lw=0, zorder=0)
        ax.text(0.5 * (rep.start_s + rep.end_s), 1.03, f"rep {rep.index}" if long_labels else str(rep.index),
                transform=top, ha="center", va="bottom", fontsize=8.5,
                color=colour if verdict == "fail" else "#57606a", fontweight="bold" if verdict == "fail" else "normal")
        value = next((f.value for f in fs if f.value is not None), None)
        if value is not None and math.isfinite(value):
            mid = 0.5 * (rep.lockout_start_s + rep.lockout_end_s)
            ax.plot([mid], [value], "o", ms=5.5, mfc=colour, mec="white", mew=1.0, zorder=5)
            if verdict == "fail":
                ax.annotate(f"{value:.0f}°", (mid, value), xytext=(6, 4), textcoords="offset points",
                            fontsize=8.5, color=_BAD, fontweight="bold", zorder=6)
    ax.plot(t, raw, color=_LINE, lw=0.7, alpha=0.35, zorder=3)
    if smooth is not None and np.isfinite(smooth).any():
        ax.plot(t, smooth, color=_LINE, lw=1.6, zorder=4)
    ax.set_ylabel("deg", fontsize=8.5, color="#57606a", labelpad=2)
    ax.tick_params(labelsize=8.5, length=3, pad=2)
    ax.text(1.0, -0.13, "s", transform=ax.transAxes, ha="right", va="top", fontsize=8.5, color="#57606a")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    p = ax.get_position()
    return buf.getvalue(), (p.x0, p.y0, p.x1, p.y1)


def render_plots(frames: dict[str, np.ndarray], analysis: Analysis, profile: Profile) -> list[Plot]:
    """The exercise's angle charts over time as SVG: per-frame (thin) and smoothed (bold) curves, the expected band
    from the profile, rep spans, and lockout windows tinted by that rep's verdict with the judged value marked.

    Uses matplotlib's object API (no pyplot), so the host's backend and global figure state are left alone.
    """
    from matplotlib import rc_context

    t = frames.get("t_s")
    if t is None or t.size == 0:
        return []
    t_end = max(float(np.nanmax(t)) if np.isfinite(t).any() else 0.0, analysis.video.duration_s or 0.0,
                max((r.end_s for r in analysis.reps), default=0.0))
    t1 = max(t_end, 1e-3)
    ex = get_exercise(analysis.exercise)
    bands = plot_bands(profile, ex)
    out = []
    # svg.fonttype none: text stays text (the browser's sans-serif) instead of one path per glyph: ~2x faster, smaller
    rc = {"svg.hashsalt": "formcheck", "svg.fonttype": "none", "font.size": 9, "axes.edgecolor": "#8c959f",
          "axes.linewidth": 0.8, "xtick.color": "#57606a", "ytick.color": "#57606a", "font.family": "DejaVu Sans"}
    with rc_context(rc):
        for key, col, title, rule_ids, caption in ((p.key, p.column, p.title, p.rule_ids, p.caption)
                                                   for p in ex.plots):
            raw = frames.get(col)
            if raw is None or not np.isfinite(raw).any():
                continue
            tt = t
            # The page is offline: a zero-lag curve shows where the joint really was, unlike the causal
            # (live) smoothing in frames.csv, which trails the movement.
            smooth = zero_phase(t, raw, cutoff_hz=3.0) if len(t) > 12 else frames.get(col + "_smooth")
            # A chart is ~900 px wide: more than MAX_POINTS samples only cost time and page size (long clips).
            step = max(1, len(tt) // MAX_POINTS)
            if step > 1:
                tt, raw = tt[::step], raw[::step]
                smooth = smooth[::step] if smooth is not None else None
            wide, box = _chart(tt, raw, smooth, bands[key], analysis.reps, rule_ids, t1, WIDE)
            narrow, nbox = _chart(tt, raw, smooth, bands[key], analysis.reps, rule_ids, t1, NARROW)
            out.append(Plot(key, title, caption, wide, box, narrow, nbox, 0.0, t1))
    return out


