"""Progress over weeks, drawn on the server as SVG with matplotlib (already a dependency, the report's style), so
the history page needs no chart library and no inline script.

Charts (each its own SVG, `CHARTS`): knee angle at lockout per set (the expected band shaded), hold at the top per
set (the minimum marked), share of clean reps per week, and per cue the share of judged reps that failed it, per
set. A set's value is the mean over its reps; each rep is a faint dot behind it.
"""
from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Callable

from formcheck.exercises import get_exercise, load_profile
from formcheck.report.charts import plot_bands

_OK, _BAD, _LINE, _GREY = "#1a7f37", "#cf222e", "#0b5cad", "#57606a"
CHARTS = ("knee", "hold", "clean", "cues")
TITLES = {"knee": "Knee angle at lockout, per set", "hold": "Hold at the top, per set",
          "clean": "Share of clean reps, per week", "cues": "Share of judged reps that failed each cue, per set"}


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _figure(height_in: float = 2.4, width_in: float = 7.2):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    fig.subplots_adjust(left=0.09, bottom=0.2, right=0.98, top=0.92)
    return fig


def _style(ax, ylabel: str, dates: bool = True) -> None:
    import matplotlib.dates as mdates

    ax.set_ylabel(ylabel, fontsize=8.5, color=_GREY, labelpad=2)
    ax.tick_params(labelsize=8, length=3, pad=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if dates:
        loc = mdates.AutoDateLocator(minticks=2, maxticks=6)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _svg(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _pad_x(ax, xs: list[datetime]) -> None:
    """One set (or several on one day) still gets a readable axis: a day either side."""
    from datetime import timedelta

    lo, hi = min(xs), max(xs)
    span = max(hi - lo, timedelta(days=1))
    ax.set_xlim(lo - 0.08 * span, hi + 0.08 * span)


def _per_set(sets: list[dict], reps: list[dict], key: str) -> tuple[list, list, list, list]:
    by_set: dict[str, list[float]] = {}
    for r in reps:
        v = r.get(key)
        if v is not None and math.isfinite(v):
            by_set.setdefault(r["set_id"], []).append(v)
    xs, means, dot_x, dot_y = [], [], [], []
    for s in sets:
        vals = by_set.get(s["id"])
        if not vals:
            continue
        t = _when(s["created_at"])
        xs.append(t)
        means.append(sum(vals) / len(vals))
        dot_x += [t] * len(vals)
        dot_y += vals
    return xs, means, dot_x, dot_y


def _line_chart(sets, reps, key: str, ylabel: str, band: tuple[float | None, float | None], fmt: str) -> bytes | None:
    xs, means, dx, dy = _per_set(sets, reps, key)
    if not xs:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    lo, hi = band
    if lo is not None or hi is not None:
        y0 = min(dy + [v for v in band if v is not None])
        y1 = max(dy + [v for v in band if v is not None])
        pad = 0.1 * max(y1 - y0, 1.0)
        ax.set_ylim(y0 - pad, y1 + pad)
        ax.axhspan(lo if lo is not None else y0 - pad, hi if hi is not None else y1 + pad, color=_OK, alpha=0.10,
                   lw=0, zorder=0)
        for b in band:
            if b is not None:
                ax.axhline(b, color=_OK, lw=0.9, ls=(0, (4, 3)), zorder=1)
    ax.plot(dx, dy, "o", ms=3, color=_LINE, alpha=0.25, zorder=2, gid="reps")        # ids: the SVG's groups,
    ax.plot(xs, means, "-o", color=_LINE, lw=1.6, ms=5, mec="white", mew=1.0, zorder=3, gid="sets")   # for tests
    ax.annotate(fmt.format(means[-1]), (xs[-1], means[-1]), xytext=(6, 4), textcoords="offset points", fontsize=8.5,
                color=_LINE, fontweight="bold")
    _pad_x(ax, xs)
    _style(ax, ylabel)
    return _svg(fig)


def _bands(sets: list[dict]) -> tuple[tuple, tuple]:
    """The knee band and the minimum hold of the exercise most sets were judged as (shipped profile)."""
    names = [s["exercise"] for s in sets if s.get("exercise")]
    name = max(set(names), key=names.count) if names else "hip_thrust"
    ex, prof = get_exercise(name), load_profile(None, name)
    knee = plot_bands(prof, ex).get("knee", (None, None))
    hold = (None, None)
    if "no_pause" in ex.rule_ids:
        hold = ex.rule("no_pause").bounds(prof.thresholds[ex.rule("no_pause").key])
    return knee, hold


def knee_chart(sets, reps, cues) -> bytes | None:
    return _line_chart(sets, reps, "knee_deg", "deg", _bands(sets)[0], "{:.0f}°")


def hold_chart(sets, reps, cues) -> bytes | None:
    return _line_chart(sets, reps, "hold_s", "s", _bands(sets)[1], "{:.1f} s")


def clean_chart(sets, reps, cues) -> bytes | None:
    weeks: dict[tuple[int, int], list[int]] = {}
    for s in sets:
        if s["n_reps"]:
            y, w, _ = _when(s["created_at"]).isocalendar()
            acc = weeks.setdefault((y, w), [0, 0])
            acc[0] += s["n_clean"]
            acc[1] += s["n_reps"]
    if not weeks:
        return None
    keys = sorted(weeks)
    share = [100.0 * weeks[k][0] / weeks[k][1] for k in keys]
    fig = _figure()
    ax = fig.add_subplot()
    pos = list(range(len(keys)))
    ax.bar(pos, share, color=[_OK if v >= 50 else _BAD for v in share], alpha=0.8, width=0.6)
    for x, v, k in zip(pos, share, keys):
        ax.text(x, v + 2, f"{v:.0f}% of {weeks[k][1]}", ha="center", va="bottom", fontsize=8, color=_GREY)
    ax.set_xticks(pos, [f"{y} w{w:02d}" for y, w in keys])
    ax.set_ylim(0, 112)
    ax.set_xlim(-0.7, len(keys) - 0.3)
    ax.set_ylabel("% clean", fontsize=8.5, color=_GREY, labelpad=2)
    ax.tick_params(labelsize=8, length=3, pad=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def cues_chart(sets, reps, cues) -> bytes | None:
    when = {s["id"]: _when(s["created_at"]) for s in sets}
    names = list(dict.fromkeys(c["cue"] for c in cues))
    if not names:
        return None
    n = len(names)
    cols = 2
    rows = (n + cols - 1) // cols
    fig = _figure(height_in=1.45 * rows + 0.3)
    fig.subplots_adjust(left=0.08, bottom=0.08, right=0.98, top=0.95, hspace=0.9, wspace=0.18)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        pts = sorted((when[c["set_id"]], 100.0 * c["n_fail"] / c["n_judged"]) for c in cues
                     if c["cue"] == name and c["n_judged"] and c["set_id"] in when)
        ax.set_title(name, fontsize=8.5, loc="left", color=_GREY)
        ax.set_ylim(-8, 108)
        ax.set_yticks([0, 50, 100])
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, "-o", color=_BAD if ys[-1] > 0 else _OK, lw=1.3, ms=4, mec="white", mew=0.8)
            _pad_x(ax, list(xs))
        else:
            ax.text(0.5, 0.5, "never judged", transform=ax.transAxes, ha="center", va="center", fontsize=8,
                    color=_GREY)
            ax.set_xticks([])
        _style(ax, "% failed" if i % cols == 0 else "", dates=bool(pts))
    return _svg(fig)


RENDER: dict[str, Callable] = {"knee": knee_chart, "hold": hold_chart, "clean": clean_chart, "cues": cues_chart}


def render(name: str, rows: tuple[list[dict], list[dict], list[dict]]) -> bytes | None:
    """One chart as SVG bytes, None when there is nothing to draw yet."""
    return RENDER[name](*rows)
