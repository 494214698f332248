"""report.html: the page builder on hand-made results (fast), and the real page in headless Chromium (browser).

Browser tests run the real pipeline on dev05_head_back (faults on reps 2-3) once per module. Set
FORMCHECK_UPDATE_SCREENSHOT=1 to also refresh docs/report_screenshot.png from that run.
"""
from __future__ import annotations

import csv
import math
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from formcheck.core.exercise import Exercise
from formcheck.core.types import Analysis, Finding, Rep, VideoInfo
from formcheck.exercises import load_profile
from formcheck.exercises.glute_bridge import GLUTE_BRIDGE
from formcheck.exercises.hip_thrust import HIP_THRUST
from formcheck.report.files import FRAME_COLUMNS
from formcheck.report.page import (EMBED_MAX_BYTES, STATIC_FILES, Plot, build_html, cue_verdicts, fmt_expected,
                                   fmt_value, iter_html, lockout_thumbnails, read_frames, render_plots, write_html)
from formcheck.report.templating import static_text

CUE_GROUPS, CUES, RULE_IDS = HIP_THRUST.cue_groups, HIP_THRUST.cues, HIP_THRUST.rule_ids

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "dev05_head_back.mp4"

EVIL = '<script>alert("x")</script>&'
#: the profile's thresholds per rule; each finding's expected text and lo/hi come from the rule, as the judge does
THRESHOLDS = {"feet_too_far": 105.0, "feet_too_close": 75.0, "lumbar_hyperextension": 190.0, "partial_lockout": 165.0,
              "head_back": 20.0, "no_pause": 0.5, "rocking": 0.15, "heel_lift": 3.0}
VALUES = {"feet_too_far": 90.0, "feet_too_close": 90.0, "lumbar_hyperextension": 178.0, "partial_lockout": 178.0,
          "head_back": -20.0, "no_pause": 1.1, "rocking": 0.02, "heel_lift": 1.0}


# ------------------------------------------------------------------------------------------------ hand-made data


def _rep(index: int, start: float, fail: dict[str, float] = {}, not_judged: dict[str, str] = {},
         ex: Exercise = HIP_THRUST, cue: str | None = None) -> Rep:
    """A rep whose findings pass except the given fails (rule -> value) and not-judged rules (rule -> reason)."""
    mid = start + 1.5
    fs = []
    for rule in ex.rules:
        r, unit, thr = rule.id, rule.unit, THRESHOLDS[rule.id]
        exp, (lo, hi) = rule.expected(thr), rule.bounds(thr)
        if r in not_judged:
            fs.append(Finding(r, "not_judged", None, unit, exp, mid, "", not_judged[r], lo, hi))
        elif r in fail:
            fs.append(Finding(r, "fail", fail[r], unit, exp, mid, cue or ex.cues[r][1], "", lo, hi))
        else:
            fs.append(Finding(r, "pass", VALUES[r], unit, exp, mid, "", "", lo, hi))
    return Rep(index, start, start + 1.0, start + 2.0, start + 2.8, 0.9, 1.0, 0.8, {}, tuple(fs))


def _analysis(reps: tuple[Rep, ...], name: str = "set.mp4", warnings: tuple[str, ...] = (),
              exercise: str = "hip_thrust", profile: str = "builtin:hip_thrust.toml",
              model: str = "pose_landmarker_full.task") -> Analysis:
    video = VideoInfo(f"/clips/{name}", 640, 480, 30.0, 300, 10.0)
    return Analysis(video, reps, 300, 0.98, "left", "right", profile, model, exercise=exercise, warnings=warnings)


class _Collect(HTMLParser):
    """Visible text of every element with a given class, nested ones included; screen-reader-only words are skipped
    and cells are space-separated (enough structure for the assertions, no extra dependency)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, cls: str) -> None:
        super().__init__(convert_charrefs=True)
        self.cls, self.found, self._stack = cls, [], []   # stack: (kind or None, text pieces or None, hidden)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        hidden = "sr" in classes or (bool(self._stack) and self._stack[-1][2])
        match = self.cls in classes
        self._stack.append((" ".join(c for c in classes if c != self.cls) if match else None, [] if match else None,
                            hidden))

    def handle_endtag(self, tag):
        if tag in self.VOID or not self._stack:
            return
        kind, buf, _ = self._stack.pop()
        if buf is not None:
            self.found.append((kind, " ".join(" ".join(buf).split())))

    def handle_data(self, data):
        if self._stack and self._stack[-1][2]:
            return
        for _, buf, _ in self._stack:
            if buf is not None:
                buf.append(data)


def _elements(html_text: str, cls: str) -> list[tuple[str, str]]:
    p = _Collect(cls)
    p.feed(html_text)
    return p.found


# ---------------------------------------------------------------------------------------------------- unit tests


def test_cue_verdicts_per_cue_with_reps():
    a = _analysis((_rep(1, 0.0, not_judged={"heel_lift": "landmarks hidden"}),
                   _rep(2, 3.0, fail={"head_back": 37.0}),
                   _rep(3, 6.0, fail={"head_back": 35.0, "feet_too_far": 120.0})))
    by = {c.name: c for c in cue_verdicts(a)}
    assert list(by) == list(CUE_GROUPS)
    assert (by["head"].verdict, by["head"].fail_reps, by["head"].short_cue) == ("fail", (2, 3), "chin down")
    assert (by["knee at lockout"].verdict, by["knee at lockout"].fail_reps) == ("fail", (3,))
    assert (by["heels"].verdict, by["heels"].pass_reps, by["heels"].not_judged_reps) == ("pass", (2, 3), (1,))
    assert by["lower back"].verdict == "pass"


def test_cue_not_judged_when_no_rep_could_be_judged():
    a = _analysis((_rep(1, 0.0, not_judged={"rocking": "shoulder hidden"}),
                   _rep(2, 3.0, not_judged={"rocking": "shoulder hidden"})))
    rocking = next(c for c in cue_verdicts(a) if c.name == "rocking")
    assert (rocking.verdict, rocking.not_judged_reps, rocking.reasons) == ("not_judged", (1, 2), ("shoulder hidden",))


def test_verdict_tiles_and_rep_tables():
    a = _analysis((_rep(1, 0.0, not_judged={"rocking": "shoulder hidden"}),
                   _rep(2, 3.0, fail={"head_back": 37.0})))
    page = build_html(a)
    tiles = _elements(page, "tile")
    assert len(tiles) == len(CUE_GROUPS)
    verdicts = {text.split(" ")[0]: kind for kind, text in tiles}
    assert verdicts["Head"] == "fail" and verdicts["Heels"] == "pass"
    head = next(text for kind, text in tiles if text.startswith("Head"))
    assert "Failed on rep 2" in head and "chin down" in head
    rocking = next(text for kind, text in tiles if text.startswith("Rocking"))
    assert "not judged on rep 1" in rocking
    # per rep: one row per cue with measured vs expected, the fault's cue in words, the not-judged reason
    rows = _elements(page, "fail")
    assert any(t.startswith("Head 37°") and "≤ 20°" in t for _, t in rows)
    cards = {t.split(" ")[1]: (k, t) for k, t in _elements(page, "rep")}
    assert cards["1"][0] == "pass" and "Not judged: shoulder hidden" in cards["1"][1]
    assert cards["2"][0] == "fail" and CUES["head_back"][1] in cards["2"][1]
    assert "Knee at lockout 90° 75–105°" in cards["2"][1] and "Rocking 2% of torso ≤ 15%" in cards["2"][1]
    work = _elements(page, "workon")
    assert len(work) == 1 and "Head (rep 2)" in work[0][1] and CUES["head_back"][1] in work[0][1]


def test_clean_set_says_so():
    page = build_html(_analysis((_rep(1, 0.0), _rep(2, 3.0))))
    assert [k for k, _ in _elements(page, "tile")] == ["pass"] * len(CUE_GROUPS)
    assert "Clean set" in page and "What to work on" not in page


def test_all_text_is_escaped():
    a = _analysis((_rep(1, 0.0, not_judged={"head_back": EVIL}),), name=f"{EVIL}.mp4", warnings=(EVIL,))
    page = build_html(a, video_src=f'{EVIL}.mp4')
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;") >= 4  # title, h1, note, reason, src
    assert len(re.findall(r"<script>", page)) == 1      # only the page's own script


def test_page_is_self_contained_and_responsive():
    page = build_html(_analysis((_rep(1, 0.0),)), video_src="annotated.mp4")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert not re.search(r"""(src|href|srcset)=["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert 'src="annotated.mp4"' in page and "@media (max-width:520px)" in page


def test_format_values_and_ranges():
    assert fmt_expected([">= 75", "<= 105"], "deg") == "75–105°"
    assert fmt_expected(["<= 20"], "deg") == "≤ 20°"
    assert fmt_expected([">= 0.5"], "s") == "≥ 0.5 s"
    assert fmt_expected(["<= 0.15"], "torso") == "≤ 15%"
    assert fmt_expected(["about 3"], "cm") == "about 3 cm"
    assert fmt_value(36.6, "deg") == "36.6°" and fmt_value(90.0, "deg") == "90°"
    assert fmt_value(0.04, "torso") == "4% of torso"
    assert fmt_value(None, "deg") == "—" and fmt_value(math.nan, "s") == "—"


def _fake_outputs(out: Path, a: Analysis, seconds: float = 10.0, fps: float = 10.0) -> None:
    """A tiny annotated.mp4 (frame brightness encodes time) and a frames.csv with a rep-shaped angle curve."""
    from formcheck.io.video_writer import H264Writer

    n = int(seconds * fps)
    w = H264Writer(out / "annotated.mp4", 96, 64, fps)
    for i in range(n):
        w.write(np.full((64, 96, 3), int(255 * i / n), np.uint8), i / fps)
    w.close()
    with open(out / "frames.csv", "w", newline="") as fh:
        cw = csv.writer(fh)
        cw.writerow(FRAME_COLUMNS)
        for i in range(n):
            t = i / fps
            up = 0.5 - 0.5 * math.cos(2 * math.pi * t / 3.0)
            knee, hip, neck = 80 + 10 * up, 120 + 58 * up, -20 + (55 if 3 <= t < 6 else 0) * up
            cw.writerow((i, t, 1, "up", 1, knee, hip, "" if i == 5 else neck, 0, 0, knee, hip, neck))


def test_read_frames_parses_numbers_gaps_and_drops_text(tmp_path):
    a = _analysis((_rep(1, 0.0),))
    _fake_outputs(tmp_path, a, seconds=2.0)
    cols = read_frames(tmp_path / "frames.csv")
    assert "phase" not in cols and set(cols) == set(FRAME_COLUMNS) - {"phase"}
    assert all(c.dtype == np.float64 and c.shape == (20,) for c in cols.values())
    assert cols["t_s"][3] == pytest.approx(0.3) and math.isnan(cols["neck_ext_deg"][5])
    assert np.isfinite(np.delete(cols["neck_ext_deg"], 5)).all()


def test_page_pieces_join_to_the_page():
    """The writer streams iter_html's pieces; they must make exactly build_html's page."""
    a = _analysis((_rep(1, 0.0), _rep(2, 3.0, fail={"head_back": 35.0})))
    pieces = list(iter_html(a, video_src="annotated.mp4", thumbs=[b"\xff\xd8jpeg", None]))
    assert len(pieces) > 5 and "".join(pieces) == build_html(a, video_src="annotated.mp4",
                                                               thumbs=[b"\xff\xd8jpeg", None])
    assert pieces[0].startswith("<!DOCTYPE html>") and pieces[-1].rstrip().endswith("</html>")


def test_write_html_embeds_video_thumbnails_and_plots(tmp_path):
    a = _analysis((_rep(1, 0.0), _rep(2, 3.0, fail={"head_back": 35.0}), _rep(3, 6.0)))
    _fake_outputs(tmp_path, a)
    path = write_html(a, tmp_path)
    page = path.read_text()
    assert path == tmp_path / "report.html"
    assert page.count('src="data:video/mp4;base64,') == 1
    assert page.count("data:image/jpeg;base64,") == 3
    assert page.count("data:image/svg+xml;base64,") == 6      # 3 charts x (desktop, phone)
    assert len(_elements(page, "seg")) == 3 and 'data-seek="3.000" data-end="5.800"' in page

    small = write_html(a, tmp_path, embed_max_bytes=100).read_text()
    assert 'src="annotated.mp4"' in small and "data:video/mp4" not in small
    assert "too big to put inside this page" in small
    assert EMBED_MAX_BYTES >= 10 * 1024 * 1024


def test_thumbnails_come_from_the_lockout_time(tmp_path):
    from PIL import Image
    import io

    a = _analysis((_rep(1, 0.0),))
    _fake_outputs(tmp_path, a)
    early, late, beyond = lockout_thumbnails(tmp_path / "annotated.mp4", [2.0, 8.0, 99.0], max_px=48)
    ims = [Image.open(io.BytesIO(b)) for b in (early, late)]
    assert ims[0].size == (48, 32)
    assert np.asarray(ims[0]).mean() < np.asarray(ims[1]).mean() - 100   # brightness grows with time
    assert beyond is None


def test_unreadable_video_still_gives_a_page(tmp_path):
    (tmp_path / "annotated.mp4").write_bytes(b"not an mp4 at all" * 100)
    page = write_html(_analysis((_rep(1, 0.0),)), tmp_path).read_text()
    assert "lockout pictures could not be taken" in page and "<video" in page


def test_write_html_without_video_or_frames(tmp_path):
    page = write_html(_analysis((_rep(1, 0.0),)), tmp_path).read_text()
    assert "<video" not in page and "No annotated video" in page and "no angle charts" in page
    assert "Watch" not in page and len(_elements(page, "rep")) == 1


def test_linked_assets_leave_nothing_inline():
    """The web app's page: CSS and JS as files under static_url, so a strict CSP (no inline script/style) holds."""
    a = _analysis((_rep(1, 0.0), _rep(2, 3.0, fail={"head_back": 35.0})))
    page = build_html(a, video_src="/videos/1/annotated.mp4", assets="linked", static_url="/static/")
    assert '<link rel="stylesheet" href="/static/report.css">' in page
    assert '<script src="/static/report.js"></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) and "<style" not in page
    assert not re.search(r"\sstyle=", page) and not re.search(r"\son[a-z]+=", page)   # no inline style or handlers
    assert 'src="/videos/1/annotated.mp4"' in page and len(_elements(page, "seg")) == 2
    for name in STATIC_FILES:   # shipped as package data, and the same text the self-contained page inlines
        assert len(static_text(name)) > 1000
    inline = build_html(a, video_src="/videos/1/annotated.mp4")
    assert f"<style>{static_text('report.css')}</style>" in inline
    assert f"<script>{static_text('report.js')}</script>" in inline
    assert " style=" not in inline   # the timeline is positioned by the script in both modes
    with pytest.raises(ValueError):
        build_html(a, assets="cdn")


def test_rep_cards_and_charts_are_pieces_of_their_own():
    a = _analysis((_rep(1, 0.0), _rep(2, 3.0, fail={"head_back": 35.0}), _rep(3, 6.0)))
    box = (0.1, 0.1, 0.9, 0.9)
    plots = [Plot(k, k.title(), "", b"<svg/>", box, b"<svg/>", box, 0.0, 10.0) for k in ("knee", "hip")]
    pieces = list(iter_html(a, video_src="annotated.mp4", thumbs=[b"jpeg"] * 3, plots=plots))
    cards = [p for p in pieces if '<article class="rep' in p]
    assert len(cards) == 3 and all(p.startswith("<article") and p.endswith("</article>") for p in cards)
    charts = [p for p in pieces if '<figure class="plot"' in p]
    assert len(charts) == 2 and all(p.startswith("<figure") and p.endswith("</figure>") for p in charts)


def test_glute_bridge_page_shows_its_own_cues(tmp_path):
    ex = GLUTE_BRIDGE
    a = _analysis((_rep(1, 0.0, ex=ex), _rep(2, 3.0, fail={"feet_too_far": 120.0}, ex=ex)),
                  exercise="glute_bridge", profile="builtin:glute_bridge.toml")
    _fake_outputs(tmp_path, a)
    page = write_html(a, tmp_path).read_text()
    tiles = _elements(page, "tile")
    assert [t.split(" ")[0] for _, t in tiles] == [n.split(" ")[0].capitalize() for n in ex.cue_groups]
    assert "rocking" not in ex.cue_groups and not any(t.startswith("Rocking") for _, t in tiles)
    assert "Rocking" not in page and "Hip thrust" not in page
    assert "Glute bridge · form check" in " ".join(t for _, t in _elements(page, "eyebrow"))
    assert ex.cues["feet_too_far"][1] in page
    # the chart legend's bands are the glute bridge profile's (a wider knee band than the hip thrust's)
    thr = load_profile(None, "glute_bridge").thresholds
    assert f"knee {thr['knee_min_deg']:g}–{thr['knee_max_deg']:g}°" in page
    assert page.count('<figure class="plot"') == len(ex.plots)


@pytest.mark.parametrize("assets", ["inline", "linked"])
def test_no_value_is_rendered_unescaped(assets):
    """Every text the page shows from data goes through autoescape: a marker put in each of them never appears as
    markup, and shows escaped."""
    mark = """<b id="x">'&"""     # no "/": it is also the clip's file name
    esc = "&lt;b id=&quot;x&quot;&gt;&#x27;&amp;"
    reps = (_rep(1, 0.0, not_judged={"head_back": mark}), _rep(2, 3.0, fail={"heel_lift": 9.0}, cue=mark))
    a = _analysis(reps, name=f"{mark}.mp4", warnings=(mark,), profile=mark, model=mark)
    box = (0.1, 0.1, 0.9, 0.9)
    plots = [Plot(mark, mark, mark, b"<svg/>", box, b"<svg/>", box, 0.0, 10.0)]
    page = build_html(a, video_src=mark, plots=plots, notes=[mark], assets=assets, static_url=mark)
    assert "<b id" not in page
    # title, h1, clip/profile/model facts, warning, note, tile reason, card reason, fix, work item, video src,
    # chart id/title/caption/alt, and in linked mode the two asset URLs
    assert page.count(esc) == 16 + (2 if assets == "linked" else 0)
    assert f"<h1>{esc}.mp4</h1>" in page and f'src="{esc}"' in page and f'id="plot-{esc}"' in page


# ------------------------------------------------------------------------------------------------ in the browser


@pytest.fixture(scope="module")
def dev05(tmp_path_factory):
    """The real pipeline's output folder for a clip with faults (about 10 s of CPU)."""
    from formcheck.apps.analyze import analyze

    out = tmp_path_factory.mktemp("dev05")
    result = analyze(CLIP, out, video=True, html=True)
    return out, result



def _open(browser, url: str, width: int):
    """A page with every console error, page error and non-local request recorded."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, remote = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    page.goto(url)
    page.wait_for_function("() => { const v = document.getElementById('video'); return v && v.readyState >= 1; }",
                           timeout=15000)
    return page, errors, remote


def _seek_by_click(page, selector: str, expect_s: float, tol: float = 0.6, **click) -> float:
    page.click(selector, **click)
    page.wait_for_function(
        "([t, tol]) => { const v = document.getElementById('video');"
        " return !v.seeking && v.currentTime >= t - 0.1 && v.currentTime < t + tol; }", arg=[expect_s, tol],
        timeout=10000)
    return page.evaluate("document.getElementById('video').currentTime")


@pytest.mark.browser
def test_report_in_chromium(dev05, chromium, tmp_path):
    out, result = dev05
    assert (out / "report.html").is_file() and result.outputs["report_html"] == str(out / "report.html")
    page, errors, remote = _open(chromium, (out / "report.html").as_uri(), 1040)

    assert page.evaluate("document.getElementById('video').duration") == pytest.approx(result.video.duration_s, abs=0.3)
    assert page.evaluate("document.getElementById('video').currentSrc").startswith("data:video/mp4;base64,")
    rep2 = result.reps[1]
    _seek_by_click(page, ".seg[data-rep='2']", rep2.start_s)          # timeline marker: seek and play
    _seek_by_click(page, "#rep-3 .watch", result.reps[2].start_s)    # the card's Watch button
    mid = 0.5 * (rep2.lockout_start_s + rep2.lockout_end_s)
    _seek_by_click(page, "#rep-2 .thumb", mid, tol=0.1)               # the thumbnail shows that frame, paused
    assert page.evaluate("document.getElementById('video').paused")

    # a click on a chart jumps the video to that time (axes geometry from the page)
    box = [float(x) for x in page.get_attribute("#plot-neck .pwrap", "data-box").split()]
    t0, t1 = (float(page.get_attribute("#plot-neck .pwrap", k)) for k in ("data-t0", "data-t1"))
    bb = page.locator("#plot-neck .pwrap").bounding_box()
    want = 9.0
    fx = box[0] + (want - t0) / (t1 - t0) * (box[2] - box[0])
    page.locator("#plot-neck .pwrap").click(position={"x": fx * bb["width"], "y": bb["height"] * 0.5})
    page.wait_for_function("t => Math.abs(document.getElementById('video').currentTime - t) < 0.15", arg=want)

    # charts and thumbnails decoded; the failing cue on rep 2 is spelled out
    sizes = page.evaluate("[...document.querySelectorAll('.pwrap img, .thumb img')].map(i => i.naturalWidth)")
    assert len(sizes) == 3 + result.n_reps and min(sizes) > 100
    assert page.locator(".tile.fail").count() == 1
    assert "Failed on reps 2, 3" in page.inner_text(".tile.fail")
    assert CUES["head_back"][1] in page.inner_text("#rep-2") and page.locator("#rep-1 .fixes").count() == 0
    assert page.locator("#rep-2 tr.fail th").inner_text() == "Head"

    # the picture for the README: rep 2's lockout in the player, top of the page
    _seek_by_click(page, "#rep-2 .thumb", mid, tol=0.1)
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    if os.environ.get("FORMCHECK_UPDATE_SCREENSHOT") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "report_screenshot.png")
    assert errors == [] and remote == []
    page.close()


@pytest.mark.browser
def test_report_on_a_phone_screen(dev05, chromium):
    out, result = dev05
    page, errors, remote = _open(chromium, (out / "report.html").as_uri(), 390)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")   # no sideways scrolling
    # the phone chart layout is the one shown, and its labels stay readable (>= 9 px at this width)
    src = page.evaluate("document.querySelector('#plot-knee img').currentSrc")
    narrow = page.evaluate("document.querySelector('#plot-knee source').srcset")
    assert src == narrow
    width = page.evaluate("document.querySelector('#plot-knee img').getBoundingClientRect().width")
    assert width / (4.4 * 72) * 8.5 >= 8.0
    _seek_by_click(page, ".seg[data-rep='3']", result.reps[2].start_s)
    assert errors == [] and remote == []
    page.close()


@pytest.mark.browser
def test_big_video_is_linked_and_still_seeks(dev05, chromium, tmp_path):
    out, result = dev05
    for name in ("annotated.mp4", "frames.csv"):
        shutil.copyfile(out / name, tmp_path / name)
    page_text = write_html(result, tmp_path, embed_max_bytes=0).read_text()
    assert 'src="annotated.mp4"' in page_text
    page, errors, remote = _open(chromium, (tmp_path / "report.html").as_uri(), 1000)
    assert page.evaluate("document.getElementById('video').currentSrc").endswith("/annotated.mp4")
    assert page.evaluate("document.getElementById('video').duration") > 0
    _seek_by_click(page, ".seg[data-rep='3']", result.reps[2].start_s)
    assert errors == [] and remote == []
    page.close()


#: what a web app serving the linked page may send: nothing inline, images from data URIs, the rest same-origin
STRICT_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
              "connect-src 'self'")


def _serve(folder: Path):
    """folder over HTTP on localhost with STRICT_CSP on every response, and byte ranges for the video (seeking)."""
    import functools
    import io
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        def end_headers(self):
            self.send_header("Content-Security-Policy", STRICT_CSP)
            super().end_headers()

        def send_head(self):
            path, want = self.translate_path(self.path), self.headers.get("Range", "")
            if not (path.endswith(".mp4") and want.startswith("bytes=")):
                return super().send_head()
            data = Path(path).read_bytes()
            a, _, b = want.removeprefix("bytes=").partition("-")
            start, end = int(a or 0), min(int(b) if b else len(data) - 1, len(data) - 1)
            self.send_response(206)
            for k, v in (("Content-Type", "video/mp4"), ("Accept-Ranges", "bytes"),
                         ("Content-Range", f"bytes {start}-{end}/{len(data)}"), ("Content-Length", end - start + 1)):
                self.send_header(k, str(v))
            self.end_headers()
            return io.BytesIO(data[start:end + 1])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.browser
def test_linked_page_works_under_a_strict_csp(dev05, chromium, tmp_path):
    """The web app's page: served over HTTP, CSS/JS as files, a CSP that refuses anything inline. The same page with
    inlined assets is refused under that CSP (so the check can see a violation)."""
    out, result = dev05
    shutil.copyfile(out / "annotated.mp4", tmp_path / "annotated.mp4")
    (tmp_path / "static").mkdir()
    for name in STATIC_FILES:
        (tmp_path / "static" / name).write_text(static_text(name))
    prof = load_profile(None, result.exercise)
    mids = [0.5 * (r.lockout_start_s + r.lockout_end_s) for r in result.reps]
    pieces = dict(video_src="annotated.mp4", thumbs=lockout_thumbnails(out / "annotated.mp4", mids),
                  plots=render_plots(read_frames(out / "frames.csv"), result, prof))
    (tmp_path / "linked.html").write_text(build_html(result, prof, assets="linked", static_url="static", **pieces))
    (tmp_path / "inline.html").write_text(build_html(result, prof, **pieces))
    (tmp_path / "favicon.ico").write_bytes(b"")     # a browser asks any HTTP origin for one
    server = _serve(tmp_path)
    base = f"http://127.0.0.1:{server.server_port}/"
    try:
        page, errors, remote = _open(chromium, base + "linked.html", 1040)
        assert page.evaluate("getComputedStyle(document.querySelector('.hero')).borderRadius") == "14px"  # CSS ran
        seg = page.locator(".seg[data-rep='3']").bounding_box()
        assert seg["x"] > page.locator(".timeline").bounding_box()["width"] / 2    # positioned by the script
        _seek_by_click(page, ".seg[data-rep='3']", result.reps[2].start_s)
        rep2 = result.reps[1]
        _seek_by_click(page, "#rep-2 .thumb", 0.5 * (rep2.lockout_start_s + rep2.lockout_end_s), tol=0.1)
        sizes = page.evaluate("[...document.querySelectorAll('.pwrap img, .thumb img')].map(i => i.naturalWidth)")
        assert len(sizes) == 3 + result.n_reps and min(sizes) > 100
        assert errors == [] and [u for u in remote if not u.startswith(base)] == []
        page.close()

        page, errors, _ = _open(chromium, base + "inline.html", 1040)
        assert any("Content Security Policy" in e for e in errors)
        page.close()
    finally:
        server.shutdown()
        server.server_close()
