"""End to end with the real model on the real clips: `formcheck analyze` and its outputs."""
from __future__ import annotations

import json

import av
import pytest

from formcheck.cli import main
from conftest import SAMPLES


@pytest.mark.slow
def test_every_clip_counts_reps_never_cries_wolf_and_finds_most_faults(sample_eval):
    """End to end with the shipped profile: rep count = n_reps on every clip; no fault on a clean rep; the 45 cm
    plate clip is 'not judged' where the hips are hidden (never passed); three in four labelled faults found. (Until the
    cross-validated tuning every labelled fault was found here: the samples were what it was tuned on. Faults
    within a measure's uncertainty are now 'borderline' or missed rather than false faults elsewhere.)"""
    problems = [f"{c['name']}: {c['reps']}/{c['reps_truth']} reps, {c['error']} {c['mismatches']}"
                for c in sample_eval["clips"] if c["error"] or c["reps"] != c["reps_truth"]
                or any("false" in m or "passed though" in m for m in c["mismatches"])]
    assert not problems, "\n".join(problems)
    hidden = [c for c in sample_eval["clips"] if c["hips_hidden"]]
    assert hidden, "the sample set should include the plate-occluded clip"
    assert sample_eval["rules"]["partial_lockout"]["not_judged"] >= sum(c["reps_truth"] for c in hidden)
    tp = sum(r["tp"] for r in sample_eval["rules"].values())
    fn = sum(r["fn"] for r in sample_eval["rules"].values())
    assert tp / (tp + fn) >= 0.75, (tp, fn)   # borderline counts as missed here: 14 of 18 when this was set


def test_cli_analyze_writes_browser_playable_video_and_report(tmp_path, capsys):
    clip = SAMPLES / "dev13_clean_60fps.mp4"
    assert main(["analyze", str(clip), "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 rep(s)" in out and "Outputs:" in out
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["schema_version"] == "1.0" and rep["n_reps"] == 2
    assert rep["video"]["fps"] == pytest.approx(60.0)
    for r in rep["reps"]:
        assert {f["rule_id"] for f in r["findings"]} >= {"feet_too_far", "head_back", "no_pause", "heel_lift"}
        for f in r["findings"]:
            assert set(f) >= {"rule_id", "verdict", "value", "unit", "expected", "t_s", "cue"}
    with av.open(str(tmp_path / "annotated.mp4")) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        n = sum(1 for _ in c.decode(s))
    assert n == rep["n_frames"] == rep["video"]["n_frames"]
    lines = (tmp_path / "frames.csv").read_text().splitlines()
    assert lines[0].startswith("frame,t_s,detected,phase,rep,knee_deg") and len(lines) == n + 1
    assert not list(tmp_path.glob(".partial-*"))


def test_api_returns_the_same_data_as_the_json(tmp_path):
    import formcheck

    res = formcheck.analyze(SAMPLES / "dev05_head_back.mp4", tmp_path, video=False)
    assert [r.faults for r in res.reps] == [[], ["head_back"], ["head_back"]]
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk["reps"][1]["faults"] == ["head_back"]
    assert on_disk == json.loads(json.dumps(res.to_dict()))


@pytest.mark.slow
def test_phone_clip_with_rotation_comes_out_upright(tmp_path):
    from formcheck.io.video_file import VideoFile

    with VideoFile(SAMPLES / "dev12_phone_portrait_60fps.mp4") as v:
        assert (v.info.width, v.info.height, v.info.rotation_deg) == (720, 1280, 90)
        first = next(iter(v))
        assert first.image.shape == (1280, 720, 3)
        assert v.info.fps == pytest.approx(60.0)


def test_variable_frame_rate_keeps_container_timestamps(tmp_path):
    """Timestamps come from the container, not index/fps: a clip with irregular frame spacing keeps them."""
    import numpy as np

    from formcheck.io.video_file import VideoFile
    from formcheck.io.video_writer import H264Writer

    times = np.cumsum([0.0] + [1 / 30 if i % 3 else 1 / 12 for i in range(40)])
    f = tmp_path / "vfr.mp4"
    w = H264Writer(f, 160, 120, 30.0)
    for t in times:
        w.write(np.full((120, 160, 3), 90, np.uint8), float(t))
    w.close()
    with VideoFile(f) as v:
        got = [fr.t_s for fr in v]
    assert len(got) == len(times)
    assert np.allclose(got, times, atol=2e-3)


def test_analyze_ends_without_native_log_lines_on_stderr(tmp_path):
    """MediaPipe/TFLite log to fd 2 when the landmarker is built and closed (DestroyAccelerator...): none of it
    may reach the user's terminal, nor any Python warning."""
    import os
    import re
    import subprocess
    import sys

    from conftest import ROOT

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FORMCHECK_DEBUG", None)
    p = subprocess.run([sys.executable, "-W", "default", "-m", "formcheck.cli", "analyze",
                        str(SAMPLES / "dev13_clean_60fps.mp4"), "-o", str(tmp_path / "out"), "--no-video",
                        "--no-html"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    native = re.compile(r"^(INFO|WARNING|ERROR): |^[IWEF]\d{4} |accelerator_registry|Warning", re.M)
    assert not native.search(p.stderr), p.stderr
    assert "2 rep(s)" in p.stdout


def test_encoder_takes_the_lockout_thumbnail_nearest_each_reps_middle(tmp_path):
    """The encoder keeps top-phase frames and, once a rep closes, the one nearest its lockout middle becomes the
    rep's thumbnail (JPEG, longest side 480 px): the report needs no second decode of annotated.mp4."""
    import io
    from types import SimpleNamespace

    import numpy as np
    from PIL import Image

    from formcheck.apps.pipeline import Encoder
    from formcheck.core.types import Rep

    fps, w, h = 30.0, 960, 540

    def rep(i, lock0, lock1, end):
        return Rep(i, lock0 - 1.0, lock0, lock1, end, lock1 - lock0, 1.0, end - lock1, {}, ())

    reps = [rep(1, 1.0, 2.0, 3.0), rep(2, 4.0, 4.6, 6.0)]
    enc = Encoder(tmp_path / "a.mp4", w, h, fps, draw=False, thumbs=True)
    for i in range(int(6.5 * fps)):
        t = i / fps
        phase = "top" if any(r.lockout_start_s - 0.2 <= t <= r.lockout_end_s + 0.3 for r in reps) else "down"
        shown = tuple(r for r in reps if r.end_s + 0.1 <= t)         # a rep appears a moment after its end
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 0] = i                                             # the frame number, readable in the JPEG
        enc.put(img, SimpleNamespace(t_s=t, phase=phase), shown)
    assert enc.close(tuple(reps)) == tmp_path / "a.mp4"
    thumbs = enc.thumbs
    assert len(thumbs) == 2 and all(thumbs)
    for r, jpg in zip(reps, thumbs):
        im = np.asarray(Image.open(io.BytesIO(jpg)))
        assert im.shape == (270, 480, 3)
        mid_frame = 0.5 * (r.lockout_start_s + r.lockout_end_s) * fps
        assert abs(float(im[..., 0].mean()) - mid_frame) <= 1.5, (im[..., 0].mean(), mid_frame)


def test_analyze_hands_the_encoders_thumbnails_to_the_page(tmp_path, monkeypatch):
    """With a page writer that takes `thumbs=`, analyze passes the encoder's lockout JPEGs: the same frames the
    page would take by decoding annotated.mp4 again (only the JPEG/H.264 round trips differ)."""
    import io

    import numpy as np
    from PIL import Image

    import formcheck.apps.analyze as an
    import formcheck.report.page as page

    got = {}

    def write_html(analysis, out_dir, profile=None, *, thumbs=None):
        mids = [0.5 * (r.lockout_start_s + r.lockout_end_s) for r in analysis.reps]
        got["thumbs"], got["decoded"] = thumbs, page.lockout_thumbnails(out_dir / "annotated.mp4", mids)
        (out_dir / "report.html").write_text("<html></html>")

    monkeypatch.setattr(page, "write_html", write_html)
    res = an.analyze(SAMPLES / "dev05_head_back.mp4", tmp_path)
    assert len(got["thumbs"]) == res.n_reps == 3 and all(got["thumbs"])
    for ours, theirs in zip(got["thumbs"], got["decoded"]):
        a, b = (np.asarray(Image.open(io.BytesIO(j)), dtype=float) for j in (ours, theirs))
        assert a.shape == b.shape == (360, 480, 3) and np.abs(a - b).mean() < 4, np.abs(a - b).mean()
