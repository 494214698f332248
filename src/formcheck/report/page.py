"""report.html: one self-contained page a coach can send to a client.

The page opens from disk with no network and no server: styles, script, plots (SVG) and lockout thumbnails (JPEG)
are inlined as text or data URIs, and the annotated video is embedded as a data URI when it is small enough
(`EMBED_MAX_BYTES`), else referenced as ``annotated.mp4`` beside the page. It reads top-down the way a coach
looks: the verdict per cue first, then the video with rep markers, each rep's lockout frame and numbers, and the
angle curves with the expected bands.

`build_html`/`iter_html` are pure (data in, text out) so the layout is testable without video; `write_html` gathers the
pieces from the output folder (annotated.mp4, frames.csv) and writes the page.
"""
from __future__ import annotations

import base64
import csv
import io
import math
import re
from array import array
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from formcheck.core.config import Profile, ProfileError
from formcheck.core.exercise import Exercise
from formcheck.exercises import get_exercise, load_profile
from formcheck.core.smoothing import zero_phase
from formcheck.core.types import Analysis, Finding, Rep, Verdict

REPORT_NAME = "report.html"
VIDEO_NAME = "annotated.mp4"
FRAMES_NAME = "frames.csv"

#: Largest annotated.mp4 embedded into the page. Base64 makes the page 4/3 of the video (20 MB -> ~27 MB) and a
#: browser holds the page text, the attribute and the decoded bytes at once, so past this a phone starts to
#: struggle; a set filmed at phone resolution for a minute or two stays below it. Bigger videos are referenced as
#: annotated.mp4 beside the page (seeking works the same from a file:// URL), and the coach sends the folder.
EMBED_MAX_BYTES = 20 * 1024 * 1024
MAX_POINTS = 2400   # samples per plotted line (a chart is ~900 px wide)
#: Longest side of a lockout thumbnail: enough to see the joints and the drawn angles, 10-30 KB as JPEG.
THUMB_MAX_PX = 480

_OK, _BAD, _NJ = "#1a7f37", "#cf222e", "#8c959f"
_LINE = "#0b5cad"
_NARROW_MEDIA = "(max-width: 600px)"   # the charts' phone layout; the page script uses the same query


# --------------------------------------------------------------------------------------------- verdicts per cue


@dataclass(frozen=True)
class CueVerdict:
    """One cue (a CUE_GROUPS entry) over the set: the coach's 'did they get this right, and on which reps'."""

    name: str
    verdict: Verdict
    fail_reps: tuple[int, ...]
    pass_reps: tuple[int, ...]
    not_judged_reps: tuple[int, ...]
    short_cue: str      # voice cue of the first failing rule ("chin down"), "" when nothing failed
    reasons: tuple[str, ...]  # distinct reasons it was not judged


def _group_verdict(findings: Sequence[Finding]) -> Verdict:
    """A cue fails on a rep if any of its rules fails; it is judged only if every rule could be judged."""
    if any(f.verdict == "fail" for f in findings):
        return "fail"
    if not findings or any(f.verdict == "not_judged" for f in findings):
        return "not_judged"
    return "pass"


def rep_cue(rep: Rep, rule_ids: Iterable[str]) -> tuple[Verdict, list[Finding]]:
    """A rep's verdict on one cue, with the findings behind it."""
    fs = [f for r in rule_ids if (f := rep.finding(r)) is not None]
    return _group_verdict(fs), fs


def _ex(analysis: Analysis) -> Exercise:
    return get_exercise(analysis.exercise)


def cue_verdicts(analysis: Analysis) -> list[CueVerdict]:
    """Set-level verdict per cue, in CUE_GROUPS order: fail if any rep failed, pass if at least one rep was judged
    and none failed, not judged if no rep could be judged."""
    out = []
    ex = _ex(analysis)
    for name, rule_ids in ex.cue_groups.items():
        by: dict[str, list[int]] = {"fail": [], "pass": [], "not_judged": []}
        short, reasons = "", []
        for rep in analysis.reps:
            v, fs = rep_cue(rep, rule_ids)
            by[v].append(rep.index)
            if v == "fail" and not short:
                short = next(ex.cues[f.rule_id][0] for f in fs if f.verdict == "fail")
            reasons += [f.reason for f in fs if f.verdict == "not_judged" and f.reason and f.reason not in reasons]
        verdict: Verdict = "fail" if by["fail"] else "pass" if by["pass"] else "not_judged"
        out.append(CueVerdict(name, verdict, tuple(by["fail"]), tuple(by["pass"]), tuple(by["not_judged"]), short,
                              tuple(reasons)))
    return out


# ------------------------------------------------------------------------------------------------- formatting

_BOUND = re.compile(r"^\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


def _bounds(expected: Iterable[str]) -> tuple[float | None, float | None] | None:
    """('>= 75', '<= 105') -> (75, 105); None when a string is not a simple bound (then it is shown verbatim)."""
    lo = hi = None
    for e in expected:
        m = _BOUND.match(e)
        if not m:
            return None
        x = float(m.group(2))
        if m.group(1).startswith(">"):
            lo = x if lo is None else max(lo, x)
        else:
            hi = x if hi is None else min(hi, x)
    return lo, hi


def _num(x: float, unit: str) -> str:
    if unit == "deg":
        return f"{x:.1f}°" if abs(x - round(x)) > 0.05 else f"{x:.0f}°"
    if unit == "torso":  # shoulder travel as a fraction of the torso length reads better as a percentage
        return f"{100 * x:.0f}%"
    if unit in ("s", "cm"):
        return f"{x:.1f} {unit}"
    return f"{x:g} {unit}".strip()


def fmt_value(value: float | None, unit: str) -> str:
    """A measured value in plain units ('36.6°', '1.1 s', '4% of torso')."""
    if value is None or not math.isfinite(value):
        return "—"
    return _num(value, unit) + (" of torso" if unit == "torso" else "")


def fmt_expected(expected: Sequence[str], unit: str) -> str:
    """The expected range of one or more findings on the same metric ('>= 75' and '<= 105' -> '75–105°')."""
    b = _bounds(expected)
    if b is None:
        return " and ".join(f"{e} {unit}" for e in expected)
    lo, hi = b
    if lo is not None and hi is not None:
        a, z = _num(lo, unit), _num(hi, unit)
        if unit == "deg":
            a = a.rstrip("°")
        return f"{a}–{z}"
    if hi is not None:
        return f"≤ {_num(hi, unit)}"
    if lo is not None:
        return f"≥ {_num(lo, unit)}"
    return ""


def _reps_text(reps: Sequence[int]) -> str:
    if not reps:
        return ""
    return ("rep " if len(reps) == 1 else "reps ") + ", ".join(map(str, reps))


def _title(name: str) -> str:
    return name[:1].upper() + name[1:]


_ICON_PATH = {"pass": "M3.5 8.5l3 3 6-6.5", "fail": "M4.5 4.5l7 7M11.5 4.5l-7 7", "not_judged": "M4.5 8h7"}
_VERDICT_WORD = {"pass": "pass", "fail": "fail", "not_judged": "not judged"}


def _icon(verdict: str) -> str:
    return (f'<svg class="ic" viewBox="0 0 16 16" aria-hidden="true"><path d="{_ICON_PATH[verdict]}"/></svg>'
            f'<span class="sr">{_VERDICT_WORD[verdict]}</span>')


_PLAY = '<svg class="ic play" viewBox="0 0 16 16" aria-hidden="true"><path d="M5 3.5v9l7.5-4.5z"/></svg>'


# ------------------------------------------------------------------------------------------------- frames.csv


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


def _bands(profile: Profile, exercise: Exercise) -> dict[str, tuple[float | None, float | None]]:
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
    """Knee, hip and head angle over time as SVG: per-frame (thin) and smoothed (bold) curves, the expected band
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
    bands = _bands(profile, _ex(analysis))
    out = []
    # svg.fonttype none: text stays text (the browser's sans-serif) instead of one path per glyph: ~2x faster, smaller
    rc = {"svg.hashsalt": "formcheck", "svg.fonttype": "none", "font.size": 9, "axes.edgecolor": "#8c959f", "axes.linewidth": 0.8,
          "xtick.color": "#57606a", "ytick.color": "#57606a", "font.family": "DejaVu Sans"}
    with rc_context(rc):
        for key, col, title, rule_ids, caption in ((p.key, p.column, p.title, p.rule_ids, p.caption)
                                                   for p in _ex(analysis).plots):
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


# ------------------------------------------------------------------------------------------------ thumbnails


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


# ------------------------------------------------------------------------------------------------------ page


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _pct(x: float) -> str:
    return f"{100 * x:.3f}%"


def _cue_tile(cv: CueVerdict, n_reps: int) -> str:
    if cv.verdict == "fail":
        line = f"Failed on {_reps_text(cv.fail_reps)}"
        sub = f"“{cv.short_cue}”" if cv.short_cue else ""
    elif cv.verdict == "pass":
        line = "Good on every rep" if len(cv.pass_reps) == n_reps else f"Good on {_reps_text(cv.pass_reps)}"
        sub = f"not judged on {_reps_text(cv.not_judged_reps)}" if cv.not_judged_reps else ""
    else:
        line = "Not judged"
        sub = cv.reasons[0] if cv.reasons else ""
    title = f' title="{escape(cv.reasons[0])}"' if cv.reasons else ""
    return (f'<li class="tile {cv.verdict}"{title}><span class="dot">{_icon(cv.verdict)}</span>'
            f'<span class="tname">{escape(_title(cv.name))}</span><span class="tline">{escape(line)}</span>'
            + (f'<span class="tsub">{escape(sub)}</span>' if sub else "") + "</li>")


def _rep_rows(rep: Rep, ex: Exercise) -> tuple[str, list[str], list[str]]:
    """The rep's check table (one row per cue), the cue sentences of its faults, and the distinct reasons for
    'not judged' (footnoted: one hidden hip often blocks four checks for the same reason)."""
    rows, fixes, reasons = [], [], []
    for name, rule_ids in ex.cue_groups.items():
        verdict, fs = rep_cue(rep, rule_ids)
        if not fs:
            continue
        unit = fs[0].unit
        expected = fmt_expected([f.expected for f in fs], unit)
        if verdict == "not_judged":
            why = next((f.reason for f in fs if f.verdict == "not_judged" and f.reason), "not measurable")
            if why not in reasons:
                reasons.append(why)
            measured = f'<span class="nj">not judged<sup>{reasons.index(why) + 1}</sup></span>'
        else:
            measured = escape(fmt_value(next((f.value for f in fs if f.value is not None), None), unit))
        rows.append(f'<tr class="{verdict}"><th scope="row">{escape(_title(name))}</th>'
                    f'<td class="num">{measured}</td><td class="exp">{escape(expected)}</td>'
                    f'<td class="v">{_icon(verdict)}</td></tr>')
        for f in fs:
            if f.verdict == "fail" and f.cue and f.cue not in [c for _, c in fixes]:
                fixes.append((name, f.cue))
    return ("\n".join(rows), [f'<li><b>{escape(_title(n))}:</b> {escape(c)}</li>' for n, c in fixes],
            [escape(r) for r in reasons])


def _rep_card(rep: Rep, thumb: bytes | None, has_video: bool, ex: Exercise) -> str:
    n_fail = len({g for g, ids in ex.cue_groups.items() if rep_cue(rep, ids)[0] == "fail"})
    status = "fail" if n_fail else "pass"
    badge = (f"{n_fail} fault" + ("s" if n_fail > 1 else "")) if n_fail else "clean"
    mid = 0.5 * (rep.lockout_start_s + rep.lockout_end_s)
    rows, fixes, reasons = _rep_rows(rep, ex)
    watch = (f'<button class="watch" type="button" data-seek="{rep.start_s:.3f}" data-play="1" data-rep="{rep.index}">'
             f'{_PLAY}Watch</button>') if has_video else ""
    if thumb:
        img = f'<img src="{_data_uri("image/jpeg", thumb)}" alt="Rep {rep.index} at lockout ({mid:.1f} s)">'
        pic = (f'<button class="thumb" type="button" data-seek="{mid:.3f}" title="Show this frame in the video">'
               f'{img}<span class="cap">lockout · {mid:.1f} s</span></button>') if has_video else \
            f'<div class="thumb">{img}<span class="cap">lockout · {mid:.1f} s</span></div>'
    else:
        pic = ""
    # no-break spaces keep each "hold 1.1 s" together when the line wraps on a narrow card
    timing = " · ".join(x.replace(" ", "\u00a0") for x in (
        f"{rep.start_s:.1f}–{rep.end_s:.1f} s", f"up {rep.up_s:.1f} s", f"hold {rep.hold_s:.1f} s",
        f"down {rep.down_s:.1f} s"))
    incomplete = "" if rep.complete else '<p class="note">The clip ended during this rep.</p>'
    fix_html = f'<ul class="fixes">{"".join(fixes)}</ul>' if fixes else ""
    return (f'<article class="rep {status}" id="rep-{rep.index}">'
            f'<header><h3>Rep {rep.index}</h3><span class="badge {status}">{escape(badge)}</span>{watch}</header>'
            f'{pic}<p class="timing">{escape(timing)}</p>{incomplete}{fix_html}'
            f'<table class="checks"><thead><tr><th>Check</th><th>Measured</th><th>Expected</th><th></th></tr>'
            f'</thead><tbody>{rows}</tbody></table>'
            + (f'<div class="why"><b>Not judged:</b><ol>{"".join(f"<li>{r}</li>" for r in reasons)}</ol></div>'
               if reasons else "") + '</article>')


def _timeline(analysis: Analysis, duration: float) -> str:
    segs = []
    for rep in analysis.reps:
        bad = bool(rep.faults)
        left, width = rep.start_s / duration, max(rep.end_s - rep.start_s, 0.05) / duration
        lk_l = (rep.lockout_start_s - rep.start_s) / max(rep.end_s - rep.start_s, 1e-6)
        lk_w = (rep.lockout_end_s - rep.lockout_start_s) / max(rep.end_s - rep.start_s, 1e-6)
        label = f"Rep {rep.index}: {rep.start_s:.1f} s" + (f", {len(rep.faults)} fault(s)" if bad else ", clean")
        segs.append(f'<button type="button" class="seg {"fail" if bad else "pass"}" data-seek="{rep.start_s:.3f}" '
                    f'data-end="{rep.end_s:.3f}" data-play="1" data-rep="{rep.index}" '
                    f'style="left:{_pct(left)};width:{_pct(width)}" '
                    f'aria-label="{escape(label)}" title="{escape(label)}">'
                    f'<span class="lk" style="left:{_pct(lk_l)};width:{_pct(lk_w)}"></span>'
                    f'<span class="n">{rep.index}</span></button>')
    return (f'<div class="timeline" data-t1="{duration:.3f}" title="Click a rep to play it">{"".join(segs)}'
            f'<span class="ph"></span></div>')


def build_html(analysis: Analysis, profile: Profile | None = None, *, video_src: str | None = None,
               thumbs: Sequence[bytes | None] = (), plots: Sequence[Plot] = (), notes: Sequence[str] = ()) -> str:
    """The page as text. `video_src`: data URI or file name of the annotated video (None = no video section);
    `thumbs`: lockout JPEGs in rep order; `plots`: from render_plots; `notes`: why a section is missing."""
    return "".join(iter_html(analysis, profile, video_src=video_src, thumbs=thumbs, plots=plots, notes=notes))


def iter_html(analysis: Analysis, profile: Profile | None = None, *, video_src: str | None = None,
              thumbs: Sequence[bytes | None] = (), plots: Sequence[Plot] = (), notes: Sequence[str] = ()
              ) -> Iterator[str]:
    """The page in pieces (one per section, one per rep card, one per chart), so a long set is written to disk
    without its page ever being held whole: each card's base64 thumbnail exists only while it is written."""
    v = analysis.video
    name = Path(v.path).name or "clip"
    n = analysis.n_reps
    n_bad = sum(1 for r in analysis.reps if r.faults)
    cues = cue_verdicts(analysis)
    duration = max(v.duration_s or 0.0, max((r.end_s for r in analysis.reps), default=0.0), 1e-3)
    has_video = video_src is not None

    # what to work on: each failing rule once, with its reps, in CUE_GROUPS order
    work = []
    for cv in cues:
        if cv.verdict != "fail":
            continue
        seen: dict[str, list[int]] = {}
        for rep in analysis.reps:
            for r in _ex(analysis).cue_groups[cv.name]:
                f = rep.finding(r)
                if f is not None and f.verdict == "fail":
                    seen.setdefault(f.cue or _ex(analysis).cues[r][1], []).append(rep.index)
        for cue, reps in seen.items():
            work.append(f'<li><b>{escape(_title(cv.name))}</b> <span class="wreps">({escape(_reps_text(reps))})'
                        f'</span><br>{escape(cue)}</li>')
    if work:
        verdict_box = f'<section class="workon"><h2>What to work on</h2><ol>{"".join(work)}</ol></section>'
    elif any(cv.verdict == "pass" for cv in cues):
        verdict_box = ('<section class="workon clean"><h2>Clean set</h2><p>Every check that could be judged '
                       'passed on every rep.</p></section>')
    else:
        verdict_box = ""

    stats = (f'<div class="stat"><b>{n}</b><span>rep{"s" if n != 1 else ""}</span></div>'
             f'<div class="stat pass"><b>{n - n_bad}</b><span>clean</span></div>'
             f'<div class="stat{" fail" if n_bad else ""}"><b>{n_bad}</b><span>with a fault</span></div>')
    tiles = "".join(_cue_tile(cv, n) for cv in cues)

    yield ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<meta name=\"color-scheme\" content=\"light\">"
           f"<title>{escape(name)}: {n} rep{'s' if n != 1 else ''}, {n_bad} with a fault · formcheck</title>"
           f"<style>{_CSS}</style></head><body><main>")
    yield (f'<header class="hero"><p class="eyebrow">Hip thrust · form check</p><h1>{escape(name)}</h1>'
           f'<div class="stats">{stats}</div><h2 class="vh">Checks</h2><ul class="tiles">{tiles}</ul>'
           f'{verdict_box}</header>')
    if analysis.warnings or notes:
        items = "".join(f"<li>{escape(w)}</li>" for w in (*analysis.warnings, *notes))
        yield f'<aside class="notes"><ul>{items}</ul></aside>'

    if has_video:
        yield (
            f'<section class="player" id="player"><h2>Video</h2><div class="vwrap">'
            f'<video id="video" controls muted playsinline preload="auto" src="{escape(video_src)}"></video></div>'
            f'<p class="verr" hidden>The annotated video could not be played here. It is {escape(VIDEO_NAME)}, '
            f'in the same folder as this page.</p>{_timeline(analysis, duration)}'
            f'<p class="hint">Tap a rep to play it. Red: a fault; darker part: the hold at the top.</p></section>')

    yield '<section class="reps-sec"><h2>Rep by rep</h2><div class="reps">'
    for i, rep in enumerate(analysis.reps):
        yield _rep_card(rep, thumbs[i] if i < len(thumbs) else None, has_video, _ex(analysis))
    yield '</div></section>'

    if plots:
        bands = _bands(profile or load_profile(None, analysis.exercise), _ex(analysis))
        yield ('<section class="plots"><h2>Angles over time</h2><p class="legend">'
               '<span class="sw sw-band"></span>expected at the top of a rep '
               f'(knee {bands["knee"][0]:g}–{bands["knee"][1]:g}°, hip {bands["hip"][0]:g}–{bands["hip"][1]:g}°, '
               f'head ≤ {bands["neck"][1]:g}°) '
               '<span class="sw sw-rep"></span>rep <span class="sw sw-lk"></span>hold at the top '
               '(red = fault, grey = not judged) '
               '<span class="sw sw-ln"></span>smoothed, faint: per frame.'
               + (' Click a chart to jump the video there.' if has_video else "") + '</p>')
        for p in plots:
            box = " ".join(f"{x:.5f}" for x in p.box)
            nbox = " ".join(f"{x:.5f}" for x in p.box_narrow)
            yield (f'<figure class="plot" id="plot-{escape(p.key)}"><figcaption><b>{escape(p.title)}</b> '
                   f'{escape(p.caption)}</figcaption><div class="pwrap" data-t0="{p.t0:.3f}" data-t1="{p.t1:.3f}" '
                   f'data-box="{box}" data-nbox="{nbox}"><picture>'
                   f'<source media="{_NARROW_MEDIA}" srcset="{_data_uri("image/svg+xml", p.svg_narrow)}">'
                   f'<img src="{_data_uri("image/svg+xml", p.svg)}" alt="{escape(p.title)} over time"></picture>'
                   f'<span class="ph"></span></div></figure>')
        yield '</section>'

    facts = [("Clip", name), ("Video", f"{v.width}×{v.height}, {v.fps:.2f} fps, {v.duration_s:.1f} s"),
             ("Pose found", f"{100 * analysis.detection_rate:.0f}% of frames"),
             ("Camera side", f"lifter's {analysis.side} side, head to the {analysis.facing}"),
             ("Profile", analysis.profile), ("Model", analysis.model), ("Schema", analysis.schema_version)]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(val))}</dd>" for k, val in facts)
    yield (f'<footer><details><summary>About this analysis</summary><dl>{dl}</dl></details>'
           f'<p>Made with formcheck. Angles are estimated from a single side-view video: treat them as '
           f'a coach\'s eye, not a lab measurement.</p></footer>')
    yield f"</main><script>{_JS.replace('__NARROW__', _NARROW_MEDIA)}</script></body></html>\n"


def _av_errors() -> tuple[type[BaseException], ...]:
    """PyAV's error base (not an OSError subclass), imported lazily like the rest of the video code."""
    import av

    return (av.FFmpegError,)


def _profile_for(analysis: Analysis) -> Profile:
    """The profile the analysis ran with when it was a file that still loads; else the shipped one."""
    p = Path(analysis.profile) if analysis.profile and not analysis.profile.startswith("builtin:") else None
    if p is not None and p.is_file():
        try:
            return load_profile(p, analysis.exercise)
        except ProfileError:
            pass
    return load_profile(None, analysis.exercise)


def write_html(analysis: Analysis, out_dir: Path, profile: Profile | None = None, *,
               embed_max_bytes: int = EMBED_MAX_BYTES) -> Path:
    """Write out_dir/report.html from the analysis and the annotated.mp4 / frames.csv already in out_dir.

    Missing pieces (no video, no CSV) leave their section out with a note instead of failing: the JSON report is
    the record, the page is a view of it.
    """
    out_dir = Path(out_dir)
    prof = profile or _profile_for(analysis)
    notes: list[str] = []
    video = out_dir / VIDEO_NAME
    video_src, thumbs = None, []
    if video.is_file() and video.stat().st_size > 0:
        size = video.stat().st_size
        # Embedded videos are streamed into the file at the end (see _write_page), never held in memory whole.
        video_src = _VIDEO_TOKEN if size <= embed_max_bytes else VIDEO_NAME
        if size > embed_max_bytes:
            notes.append(f"The video ({size / 1e6:.0f} MB) is too big to put inside this page: keep {VIDEO_NAME} "
                         f"in the same folder as this page.")
        mids = [0.5 * (r.lockout_start_s + r.lockout_end_s) for r in analysis.reps]
        try:
            thumbs = lockout_thumbnails(video, mids)
        except (_av_errors() + (OSError, ValueError)) as e:   # the page without pictures beats no page
            notes.append(f"The lockout pictures could not be taken from {VIDEO_NAME} ({e}).")
    else:
        notes.append("No annotated video was written for this analysis.")
    frames_path = out_dir / FRAMES_NAME
    plots = render_plots(read_frames(frames_path), analysis, prof) if frames_path.is_file() else []
    if not frames_path.is_file():
        notes.append(f"No {FRAMES_NAME} was found, so there are no angle charts.")
    path = out_dir / REPORT_NAME
    page = iter_html(analysis, prof, video_src=video_src, thumbs=thumbs, plots=plots, notes=notes)
    _write_page(path, page, video if video_src == _VIDEO_TOKEN else None)
    return path


_VIDEO_TOKEN = "formcheck-embedded-video-src"
_B64_CHUNK_BYTES = 3 * 1024 * 1024   # a multiple of 3: chunks encode to base64 with no padding in between


def _write_page(path: Path, page: Iterable[str], video: Path | None) -> None:
    """Write the page piece by piece; where a piece names the embedded video, stream the MP4 in as a base64 data
    URI chunk by chunk, so memory stays flat however long the clip is."""
    with open(path, "w", encoding="utf-8") as out:
        for piece in page:
            parts = piece.split(_VIDEO_TOKEN) if video is not None else [piece]
            for i, part in enumerate(parts):
                out.write(part)
                if i < len(parts) - 1:
                    out.write("data:video/mp4;base64,")
                    with open(video, "rb") as f:
                        while chunk := f.read(_B64_CHUNK_BYTES):
                            out.write(base64.b64encode(chunk).decode("ascii"))


_CSS = """
:root{--ok:#1a7f37;--ok-bg:#e6f6ea;--bad:#cf222e;--bad-bg:#ffeceb;--nj:#6e7781;--nj-bg:#eef1f4;--ink:#1f2328;
--muted:#59636e;--line:#d8dee4;--bg:#f3f5f7;--card:#fff;--accent:#0b5cad}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
main{max-width:1000px;margin:0 auto;padding:16px 14px 32px}
h1{font-size:1.45rem;margin:0 0 10px;word-break:break-word}
h2{font-size:1.1rem;margin:26px 0 10px}
.vh,.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.eyebrow{margin:0;color:var(--muted);font-size:.8rem;letter-spacing:.06em;text-transform:uppercase}
.hero{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:16px}
.stats{display:flex;gap:10px;flex-wrap:wrap;margin:4px 0 14px}
.stat{display:flex;align-items:baseline;gap:6px;padding:6px 12px;border-radius:10px;background:var(--nj-bg)}
.stat b{font-size:1.7rem;line-height:1}
.stat.pass{background:var(--ok-bg);color:var(--ok)}.stat.fail{background:var(--bad-bg);color:var(--bad)}
.tiles{list-style:none;margin:0;padding:0;display:grid;gap:8px;
grid-template-columns:repeat(auto-fill,minmax(205px,1fr))}
.tile{display:grid;grid-template-columns:auto 1fr;column-gap:8px;align-items:center;padding:9px 10px;
border-radius:10px;border:1px solid var(--line);background:#fafbfc}
.tile .dot{grid-row:span 3;align-self:start;width:26px;height:26px;border-radius:50%;display:grid;place-items:center;
color:#fff;background:var(--nj)}
.tile.pass .dot{background:var(--ok)}.tile.fail .dot{background:var(--bad)}
.tile.fail{background:var(--bad-bg);border-color:#f5b5b0}
.tile.not_judged{color:var(--muted)}
.tname{font-weight:650}
.tline{font-size:.85rem;color:var(--muted)}.tile.fail .tline{color:var(--bad);font-weight:600}
.tsub{font-size:.78rem;color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ic{width:16px;height:16px;fill:none;stroke:currentColor;stroke-width:2.4;stroke-linecap:round;stroke-linejoin:round;
flex:none}
.ic.play{fill:currentColor;stroke-width:1;width:13px;height:13px}
.workon{margin-top:14px;padding:12px 14px;border-radius:10px;background:var(--bad-bg);border-left:4px solid var(--bad)}
.workon h2{margin:0 0 6px;font-size:1rem;color:var(--bad)}
.workon ol{margin:0;padding-left:1.2em}.workon li{margin:4px 0}
.workon .wreps{color:var(--muted);font-size:.9em}
.workon.clean{background:var(--ok-bg);border-left-color:var(--ok)}.workon.clean h2{color:var(--ok)}
.workon p{margin:0}
.notes{margin:12px 0 0;padding:8px 14px;border-radius:10px;background:#fff8c5;border:1px solid #eed888;font-size:.9rem}
.notes ul{margin:0;padding-left:1.1em}
.player{margin-top:8px}
.vwrap{background:#111;border-radius:12px;overflow:hidden;display:flex;justify-content:center}
video{display:block;width:100%;max-height:62vh;background:#111}
.verr{color:var(--bad)}
.timeline{position:relative;height:34px;margin:10px 0 4px;border-radius:8px;background:#e3e8ed}
.seg{position:absolute;top:3px;bottom:3px;padding:0;border:0;border-radius:6px;cursor:pointer;overflow:hidden;
background:#9ed3ad;color:#0d4f22;font:inherit;font-weight:700;font-size:.85rem}
.seg.fail{background:#f2a7a1;color:#82071e}
.seg .lk{position:absolute;top:0;bottom:0;background:rgba(26,127,55,.45)}
.seg.fail .lk{background:rgba(207,34,46,.5)}
.seg .n{position:relative}
.seg:hover,.seg:focus-visible,.seg.on{outline:2px solid var(--ink);outline-offset:1px}
.ph{position:absolute;top:0;bottom:0;width:2px;margin-left:-1px;background:var(--ink);pointer-events:none;display:none}
.playing .ph{display:block}
.hint{margin:0;color:var(--muted);font-size:.8rem}
.reps{display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(290px,1fr))}
.rep{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:12px;border-top:4px solid var(--ok)}
.rep.fail{border-top-color:var(--bad)}
.rep header{display:flex;align-items:center;gap:8px;margin-bottom:8px}
.rep h3{margin:0;font-size:1.05rem}
.badge{font-size:.75rem;font-weight:700;padding:2px 8px;border-radius:99px;background:var(--ok-bg);color:var(--ok)}
.badge.fail{background:var(--bad-bg);color:var(--bad)}
.watch{margin-left:auto;display:inline-flex;align-items:center;gap:5px;border:1px solid var(--line);background:#f6f8fa;
border-radius:8px;padding:4px 10px;font:inherit;font-size:.85rem;cursor:pointer;color:var(--ink)}
.watch:hover{background:#eaeef2}
.thumb{display:block;position:relative;width:100%;padding:0;border:0;border-radius:10px;overflow:hidden;background:#111;
cursor:pointer}
div.thumb{cursor:default}
.thumb img{display:block;width:100%;height:auto}
.thumb .cap{position:absolute;left:6px;bottom:6px;background:rgba(0,0,0,.6);color:#fff;font-size:.75rem;
padding:1px 7px;border-radius:6px}
.timing{margin:6px 0;color:var(--muted);font-size:.82rem}
.note{margin:4px 0;font-size:.85rem;color:#7d4e00}
.fixes{margin:6px 0 8px;padding:8px 10px 8px 26px;background:var(--bad-bg);border-radius:8px;font-size:.88rem}
.checks{width:100%;border-collapse:collapse;font-size:.86rem}
.checks th,.checks td{padding:4px 4px;text-align:left;border-bottom:1px solid #eef1f4}
.checks thead th{font-size:.72rem;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
.checks tbody th{font-weight:500}
.checks .num{font-variant-numeric:tabular-nums;font-weight:650;white-space:nowrap}
.checks .exp{color:var(--muted);white-space:nowrap}
.checks .v{width:22px;text-align:center}
.checks tr.pass .v{color:var(--ok)}
.checks tr.fail{background:var(--bad-bg)}.checks tr.fail .v,.checks tr.fail .num{color:var(--bad)}
.checks tr.not_judged{color:var(--muted)}.checks tr.not_judged .v{color:var(--nj)}
.checks .nj{font-weight:400;font-size:.8rem;font-style:italic}.checks .nj sup{font-style:normal;margin-left:1px}
.why{margin-top:6px;font-size:.76rem;color:var(--muted)}.why ol{margin:2px 0 0;padding-left:1.4em}
.plots .legend{color:var(--muted);font-size:.85rem;margin:0 0 8px}
.sw{display:inline-block;width:14px;height:10px;border-radius:2px;margin:0 4px 0 8px;vertical-align:baseline}
.sw-band{background:#d3ecd9;border:1px dashed var(--ok);margin-left:0}.sw-rep{background:#e6e9ec}
.sw-lk{background:linear-gradient(90deg,#bfe3c9 50%,#f5c6c2 50%)}.sw-ln{height:3px;background:var(--accent);
vertical-align:middle}
.plot{margin:0 0 12px;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:10px 10px 4px}
.plot figcaption{font-size:.85rem;color:var(--muted);margin-bottom:4px}.plot figcaption b{color:var(--ink)}
.pwrap{position:relative;cursor:crosshair}
.pwrap img{display:block;width:100%;height:auto}
.pwrap picture{display:block}
footer{margin-top:24px;color:var(--muted);font-size:.82rem}
footer summary{cursor:pointer;font-weight:600}
footer dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
footer dt{font-weight:600}footer dd{margin:0;word-break:break-all}
@media (max-width:520px){main{padding:10px 8px 24px}.hero{padding:12px}h1{font-size:1.2rem}
.tiles{grid-template-columns:repeat(2,minmax(0,1fr))}.stat b{font-size:1.4rem}.reps{grid-template-columns:1fr}}
@media print{.player,.hint{display:none}body{background:#fff}.rep,.plot{break-inside:avoid}}
"""

_JS = """
(function () {
  "use strict";
  var v = document.getElementById("video");
  var narrow = window.matchMedia ? window.matchMedia("__NARROW__") : null;
  function geom(pw) {  // where the chart's axes are in the image shown now (the phone layout differs)
    var box = pw.getAttribute(narrow && narrow.matches ? "data-nbox" : "data-box").split(" ").map(Number);
    return {box: box, t0: +pw.getAttribute("data-t0"), t1: +pw.getAttribute("data-t1")};
  }
  function visible(el) {
    var r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }
  function seek(t, play) {
    if (!v || !isFinite(t)) return;
    v.currentTime = t;
    if (play) { var p = v.play(); if (p && p.catch) p.catch(function () {}); } else { v.pause(); }
    if (!visible(v)) v.scrollIntoView({behavior: "smooth", block: "center"});
  }
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-seek]");
    if (el) {
      e.preventDefault();
      seek(parseFloat(el.getAttribute("data-seek")), el.getAttribute("data-play") === "1");
      return;
    }
    var tl = e.target.closest(".timeline");
    if (tl && v) {
      var r = tl.getBoundingClientRect();
      seek(parseFloat(tl.getAttribute("data-t1")) * (e.clientX - r.left) / r.width, false);
      return;
    }
    var pw = e.target.closest(".pwrap");
    if (pw && v) {
      var g = geom(pw), b = pw.getBoundingClientRect(), fx = (e.clientX - b.left) / b.width;
      var t = g.t0 + (fx - g.box[0]) / (g.box[2] - g.box[0]) * (g.t1 - g.t0);
      seek(Math.min(Math.max(t, g.t0), g.t1), false);
    }
  });
  if (!v) return;
  var segs = [].slice.call(document.querySelectorAll(".seg"));
  var tl = document.querySelector(".timeline");
  function update() {
    var t = v.currentTime;
    document.body.classList.add("playing");
    if (tl) tl.querySelector(".ph").style.left = (100 * t / parseFloat(tl.getAttribute("data-t1"))) + "%";
    [].forEach.call(document.querySelectorAll(".pwrap"), function (pw) {
      var g = geom(pw), ph = pw.querySelector(".ph");
      ph.style.left = (100 * (g.box[0] + (t - g.t0) / (g.t1 - g.t0) * (g.box[2] - g.box[0]))) + "%";
      ph.style.top = (100 * (1 - g.box[3])) + "%";
      ph.style.height = (100 * (g.box[3] - g.box[1])) + "%";
    });
    segs.forEach(function (s) {
      s.classList.toggle("on", t >= +s.getAttribute("data-seek") - 1e-3 && t <= +s.getAttribute("data-end"));
    });
  }
  v.addEventListener("timeupdate", update);
  v.addEventListener("seeked", update);
  v.addEventListener("error", function () { var e = document.querySelector(".verr"); if (e) e.hidden = false; });
})();
"""
