"""report.html: one self-contained page a coach can send to a client.

The page opens from disk with no network and no server: styles, script, plots (SVG) and lockout thumbnails (JPEG)
are inlined as text or data URIs, and the annotated video is embedded as a data URI when it is small enough
(`EMBED_MAX_BYTES`), else referenced as ``annotated.mp4`` beside the page. It reads top-down the way a coach
looks: the verdict per cue first, then the video with rep markers, each rep's lockout frame and numbers, and the
angle curves with the expected bands. A web app renders the same page with ``assets="linked"`` (CSS/JS as files,
nothing inline, so a strict Content-Security-Policy holds) and the video as a URL.

This module turns an Analysis into page data (words and numbers, no markup); templates/report.html.j2 is the
markup, autoescaped. `build_html`/`iter_html` are pure (data in, text out) so the layout is testable without video;
`write_html` gathers the pieces from the output folder (annotated.mp4, frames.csv) and writes the page.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Literal, Mapping, Sequence

from markupsafe import Markup

from formcheck.core.config import Profile, ProfileError
from formcheck.core.exercise import Exercise
from formcheck.core.types import Analysis, Rep, Verdict
from formcheck.exercises import get_exercise, load_profile
from formcheck.report.charts import MAX_POINTS, NARROW, NARROW_MEDIA, WIDE, Layout, Plot, plot_bands, read_frames, \
    render_plots
from formcheck.report.templating import static_text, stream
from formcheck.report.thumbs import THUMB_MAX_PX, lockout_thumbnails
from formcheck.report.verdicts import CueVerdict, capitalised, cue_verdicts, fmt_bounds, fmt_expected, \
    fmt_findings_expected, fmt_value, rep_cue, reps_text

__all__ = ["EMBED_MAX_BYTES", "FRAMES_NAME", "MAX_POINTS", "NARROW", "REPORT_NAME", "STATIC_FILES", "THUMB_MAX_PX",
           "VIDEO_NAME", "WIDE", "CueVerdict", "Layout", "Parts", "Plot", "build_html", "cue_verdicts", "fmt_expected",
           "fmt_value", "gather_parts", "iter_html", "lockout_thumbnails", "profile_for", "read_frames",
           "render_plots", "rep_cue", "write_html"]

REPORT_NAME = "report.html"
VIDEO_NAME = "annotated.mp4"
FRAMES_NAME = "frames.csv"
TEMPLATE = "report.html.j2"
#: what a page with assets="linked" loads from its static_url (package data under report/static)
STATIC_FILES = ("report.css", "report.js")

#: Largest annotated.mp4 embedded into the page. Base64 makes the page 4/3 of the video (20 MB -> ~27 MB) and a
#: browser holds the page text, the attribute and the decoded bytes at once, so past this a phone starts to
#: struggle; a set filmed at phone resolution for a minute or two stays below it. Bigger videos are referenced as
#: annotated.mp4 beside the page (seeking works the same from a file:// URL), and the coach sends the folder.
EMBED_MAX_BYTES = 20 * 1024 * 1024

Assets = Literal["inline", "linked"]


# ------------------------------------------------------------------------------------------------- page data


@dataclass(frozen=True)
class Tile:
    """A cue's verdict over the set, as the header shows it."""

    verdict: Verdict
    name: str
    line: str          # "Failed on reps 2, 3"
    sub: str           # the voice cue, or which reps were not judged, or why
    hint: str          # first not-judged reason (tooltip), "" when none


@dataclass(frozen=True)
class WorkItem:
    """One failing rule in 'What to work on': its cue sentence and the reps it failed on."""

    name: str
    reps: str
    cue: str


@dataclass(frozen=True)
class Check:
    """One row of a rep card's table: a cue, measured against expected."""

    verdict: Verdict
    name: str
    measured: str
    expected: str
    note: int          # 1-based footnote of the not-judged reason; 0 when judged


@dataclass(frozen=True)
class RepCard:
    index: int
    status: str        # "fail" or "pass"
    badge: str
    start_s: float
    mid_s: float       # middle of the lockout: the thumbnail's time
    thumb: bytes | None
    timing: str
    complete: bool
    fixes: tuple[tuple[str, str], ...]   # (cue name, sentence) per distinct fault
    checks: tuple[Check, ...]
    reasons: tuple[str, ...]             # distinct not-judged reasons, footnoted by Check.note


@dataclass(frozen=True)
class Segment:
    """A rep on the video timeline; positions are percent 'left width' (applied by the page script)."""

    index: int
    verdict: str
    start_s: float
    end_s: float
    pos: str
    lockout_pos: str   # within the segment
    label: str


@dataclass(frozen=True)
class Band:
    """A chart's expected range, for the legend ('knee angle', '75–105°')."""

    label: str
    range: str


def _tile(cv: CueVerdict, n_reps: int) -> Tile:
    if cv.verdict == "fail":
        line = f"Failed on {reps_text(cv.fail_reps)}"
        sub = f"“{cv.short_cue}”" if cv.short_cue else ""
    elif cv.verdict == "borderline":
        line = f"Check {reps_text(cv.borderline_reps)}"
        sub = "close to the line: within the measurement's uncertainty"
    elif cv.verdict == "pass":
        line = "Good on every rep" if len(cv.pass_reps) == n_reps else f"Good on {reps_text(cv.pass_reps)}"
        sub = f"not judged on {reps_text(cv.not_judged_reps)}" if cv.not_judged_reps else ""
    else:
        line = "Not judged"
        sub = cv.reasons[0] if cv.reasons else ""
    return Tile(cv.verdict, capitalised(cv.name), line, sub, cv.reasons[0] if cv.reasons else "")


def _work(analysis: Analysis, ex: Exercise, cues: Sequence[CueVerdict]) -> list[WorkItem]:
    """Each failing rule once, with its reps, in cue order."""
    out = []
    for cv in cues:
        if cv.verdict != "fail":
            continue
        seen: dict[str, list[int]] = {}
        for rep in analysis.reps:
            for r in ex.cue_groups[cv.name]:
                f = rep.finding(r)
                if f is not None and f.verdict == "fail":
                    seen.setdefault(f.cue or ex.cues[r][1], []).append(rep.index)
        out += [WorkItem(capitalised(cv.name), reps_text(reps), cue) for cue, reps in seen.items()]
    return out


def _rep_card(rep: Rep, thumb: bytes | None, ex: Exercise) -> RepCard:
    """The rep's checks (one row per cue), the cue sentences of its faults, and the distinct reasons for 'not
    judged' (footnoted: one hidden hip often blocks four checks for the same reason)."""
    checks, fixes, reasons = [], [], []
    for name, rule_ids in ex.cue_groups.items():
        verdict, fs = rep_cue(rep, rule_ids)
        if not fs:
            continue
        note = 0
        if verdict == "not_judged":
            why = next((f.reason for f in fs if f.verdict == "not_judged" and f.reason), "not measurable")
            if why not in reasons:
                reasons.append(why)
            note = reasons.index(why) + 1
        value = next((f.value for f in fs if f.value is not None), None)
        checks.append(Check(verdict, capitalised(name), fmt_value(value, fs[0].unit), fmt_findings_expected(fs), note))
        for f in fs:
            if f.verdict == "fail" and f.cue and f.cue not in [c for _, c in fixes]:
                fixes.append((capitalised(name), f.cue))
    n_fail = sum(1 for c in checks if c.verdict == "fail")
    badge = (f"{n_fail} fault" + ("s" if n_fail > 1 else "")) if n_fail else "clean"
    # no-break spaces keep each "hold 1.1 s" together when the line wraps on a narrow card
    timing = " · ".join(x.replace(" ", "\u00a0") for x in (
        f"{rep.start_s:.1f}–{rep.end_s:.1f} s", f"up {rep.up_s:.1f} s", f"hold {rep.hold_s:.1f} s",
        f"down {rep.down_s:.1f} s"))
    return RepCard(rep.index, "fail" if n_fail else "pass", badge, rep.start_s,
                   0.5 * (rep.lockout_start_s + rep.lockout_end_s), thumb or None, timing, rep.complete,
                   tuple(fixes), tuple(checks), tuple(reasons))


def _segments(analysis: Analysis, duration_s: float) -> list[Segment]:
    out = []
    for rep in analysis.reps:
        bad = bool(rep.faults)
        rep_s = max(rep.end_s - rep.start_s, 1e-6)
        left, width = rep.start_s / duration_s, max(rep.end_s - rep.start_s, 0.05) / duration_s
        lk_l = (rep.lockout_start_s - rep.start_s) / rep_s
        lk_w = (rep.lockout_end_s - rep.lockout_start_s) / rep_s
        label = f"Rep {rep.index}: {rep.start_s:.1f} s" + (f", {len(rep.faults)} fault(s)" if bad else ", clean")
        out.append(Segment(rep.index, "fail" if bad else "pass", rep.start_s, rep.end_s,
                           f"{100 * left:.3f} {100 * width:.3f}", f"{100 * lk_l:.3f} {100 * lk_w:.3f}", label))
    return out


def _bands(profile: Profile, ex: Exercise) -> list[Band]:
    """The legend names each chart by its title less " angle" (the section is 'Angles over time')."""
    bands = plot_bands(profile, ex)
    return [Band(p.title.lower().removesuffix(" angle"), fmt_bounds(*bands[p.key], ex.rule(p.rule_ids[0]).unit))
            for p in ex.plots]


def _context(analysis: Analysis, profile: Profile | None, video_src: str | None, thumbs: Sequence[bytes | None],
             plots: Sequence[Plot], notes: Sequence[str], assets: Assets, static_url: str) -> dict:
    """Everything the template shows. The rep cards are a generator: each card's thumbnail becomes a data URI only
    while that card is written."""
    if assets not in ("inline", "linked"):
        raise ValueError(f"assets must be 'inline' or 'linked', not {assets!r}")
    ex = get_exercise(analysis.exercise)
    v = analysis.video
    cues = cue_verdicts(analysis)
    work = _work(analysis, ex, cues)
    duration_s = max(v.duration_s or 0.0, max((r.end_s for r in analysis.reps), default=0.0), 1e-3)
    inline = assets == "inline"
    return dict(
        clip=Path(v.path).name or "clip", exercise_title=ex.title,
        n_reps=analysis.n_reps, n_bad=sum(1 for r in analysis.reps if r.faults),
        tiles=[_tile(cv, analysis.n_reps) for cv in cues],
        work=work, clean=not work and any(cv.verdict == "pass" for cv in cues),
        notes=[*analysis.warnings, *notes],
        video_src=video_src, video_name=VIDEO_NAME, duration_s=duration_s, segments=_segments(analysis, duration_s),
        cards=(_rep_card(rep, thumbs[i] if i < len(thumbs) else None, ex) for i, rep in enumerate(analysis.reps)),
        plots=plots, narrow_media=NARROW_MEDIA,
        bands=_bands(profile or load_profile(None, analysis.exercise), ex) if plots else [],
        facts=[("Clip", Path(v.path).name or "clip"),
               ("Video", f"{v.width}×{v.height}, {v.fps:.2f} fps, {v.duration_s:.1f} s"),
               ("Pose found", f"{100 * analysis.detection_rate:.0f}% of frames"),
               ("Camera side", f"lifter's {analysis.side} side, head to the {analysis.facing}"),
               ("Profile", analysis.profile), ("Model", analysis.model), ("Schema", analysis.schema_version)],
        # our own files, so trusted as markup; linked pages load them from static_url instead
        css=Markup(static_text("report.css")) if inline else None,
        js=Markup(static_text("report.js")) if inline else None,
        static_url=static_url.rstrip("/"),
    )


# ------------------------------------------------------------------------------------------------------ page


def iter_html(analysis: Analysis, profile: Profile | None = None, *, video_src: str | None = None,
              thumbs: Sequence[bytes | None] = (), plots: Sequence[Plot] = (), notes: Sequence[str] = (),
              assets: Assets = "inline", static_url: str = "static", template: str = TEMPLATE,
              extra: Mapping[str, object] | None = None) -> Iterator[str]:
    """The page in pieces (each rep card and each chart is one piece), so a long set is written to disk or sent
    without its page ever being held whole. `assets`: "inline" (self-contained) or "linked" (<link>/<script src>
    under `static_url`, nothing inline). `template`: report.html.j2 or a template that extends it and fills its
    empty blocks (head_extra, nav, downloads: the web app's page), with `extra` added to its context."""
    ctx = _context(analysis, profile, video_src, thumbs, plots, notes, assets, static_url)
    return stream(template, **ctx, **(extra or {}))


def build_html(analysis: Analysis, profile: Profile | None = None, *, video_src: str | None = None,
               thumbs: Sequence[bytes | None] = (), plots: Sequence[Plot] = (), notes: Sequence[str] = (),
               assets: Assets = "inline", static_url: str = "static") -> str:
    """The page as text. `video_src`: data URI, file name or URL of the annotated video (None = no video section);
    `thumbs`: lockout JPEGs in rep order; `plots`: from render_plots; `notes`: why a section is missing."""
    return "".join(iter_html(analysis, profile, video_src=video_src, thumbs=thumbs, plots=plots, notes=notes,
                             assets=assets, static_url=static_url))


def _av_errors() -> tuple[type[BaseException], ...]:
    """PyAV's error base (not an OSError subclass), imported lazily like the rest of the video code."""
    import av

    return (av.FFmpegError,)


def profile_for(analysis: Analysis) -> Profile:
    """The profile the analysis ran with when it was a file that still loads; else the shipped one."""
    p = Path(analysis.profile) if analysis.profile and not analysis.profile.startswith("builtin:") else None
    if p is not None and p.is_file():
        try:
            return load_profile(p, analysis.exercise)
        except ProfileError:
            pass
    return load_profile(None, analysis.exercise)



@dataclass(frozen=True)
class Parts:
    """What a page shows beside the analysis, gathered from its output folder."""

    has_video: bool
    thumbs: list[bytes | None]
    plots: list[Plot]
    notes: list[str]


def gather_parts(analysis: Analysis, out_dir: Path, profile: Profile, *,
                 thumbs: Sequence[bytes | None] | None = None) -> Parts:
    """The lockout thumbnails (decoded from annotated.mp4 unless given), the angle charts (from frames.csv) and a
    note for each missing piece: the same for report.html and the web app's page."""
    out_dir = Path(out_dir)
    notes: list[str] = []
    video = out_dir / VIDEO_NAME
    has_video = video.is_file() and video.stat().st_size > 0
    taken = list(thumbs) if thumbs is not None else []
    if has_video:
        mids = [0.5 * (r.lockout_start_s + r.lockout_end_s) for r in analysis.reps]
        try:
            if thumbs is None:
                taken = lockout_thumbnails(video, mids)
        except (_av_errors() + (OSError, ValueError)) as e:   # the page without pictures beats no page
            notes.append(f"The lockout pictures could not be taken from {VIDEO_NAME} ({e}).")
    else:
        notes.append("No annotated video was written for this analysis.")
    frames_path = out_dir / FRAMES_NAME
    plots = render_plots(read_frames(frames_path), analysis, profile) if frames_path.is_file() else []
    if not frames_path.is_file():
        notes.append(f"No {FRAMES_NAME} was found, so there are no angle charts.")
    return Parts(has_video, taken, plots, notes)


def write_html(analysis: Analysis, out_dir: Path, profile: Profile | None = None, *,
               embed_max_bytes: int = EMBED_MAX_BYTES, thumbs: Sequence[bytes | None] | None = None) -> Path:
    """Write out_dir/report.html from the analysis and the annotated.mp4 / frames.csv already in out_dir.

    thumbs: one lockout JPEG per rep taken while the video was encoded (apps.pipeline.Encoder); without them
    they are decoded from annotated.mp4 again.

    Missing pieces (no video, no CSV) leave their section out with a note instead of failing: the JSON report is
    the record, the page is a view of it.
    """
    out_dir = Path(out_dir)
    prof = profile or profile_for(analysis)
    parts = gather_parts(analysis, out_dir, prof, thumbs=thumbs)
    notes = list(parts.notes)
    video = out_dir / VIDEO_NAME
    video_src = None
    if parts.has_video:
        size = video.stat().st_size
        # Embedded videos are streamed into the file at the end (see _write_page), never held in memory whole.
        video_src = _VIDEO_TOKEN if size <= embed_max_bytes else VIDEO_NAME
        if size > embed_max_bytes:
            notes.insert(0, f"The video ({size / 1e6:.0f} MB) is too big to put inside this page: keep {VIDEO_NAME} "
                            f"in the same folder as this page.")
    path = out_dir / REPORT_NAME
    page = iter_html(analysis, prof, video_src=video_src, thumbs=parts.thumbs, plots=parts.plots, notes=notes)
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


