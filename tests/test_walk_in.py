"""Only the set counts: real footage of someone standing, squatting or deadlifting before (and after) a sample set
gives the same reps and verdicts as the set alone (issue 11: "a lifter who walks in, sets up, does the set and walks
out"). The real clips have no licence: they are read from ../shared/real_clips at test time, cut and composited
into tmp_path, and never kept.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from formcheck.apps.analyze import analyze

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
REAL = ROOT.parent / "shared" / "real_clips"
W, H, FPS = 640, 480, 30

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real_clips not present")


def _frames(path: Path, max_s: float | None = None):
    import av

    with av.open(str(path)) as c:
        for fr in c.decode(video=0):
            if max_s is not None and fr.time is not None and fr.time >= max_s:
                return
            yield fr.to_ndarray(format="rgb24")


def _letterbox(img: np.ndarray) -> np.ndarray:
    """The frame scaled into W x H on black, as a phone clip of another shape would be."""
    import cv2

    ih, iw = img.shape[:2]
    s = min(W / iw, H / ih)
    small = cv2.resize(img, (int(iw * s) // 2 * 2, int(ih * s) // 2 * 2), interpolation=cv2.INTER_AREA)
    out = np.zeros((H, W, 3), np.uint8)
    y, x = (H - small.shape[0]) // 2, (W - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def _join(parts: list[tuple[Path, float | None]], dst: Path) -> list[int]:
    """One H.264 clip at FPS of the parts in order (each cut to its first `max_s` seconds when given), frame for
    frame. Returns each part's frame count."""
    import av

    counts = []
    with av.open(str(dst), "w") as out:
        st = out.add_stream("libx264", rate=FPS)
        st.width, st.height, st.pix_fmt = W, H, "yuv420p"
        st.options = {"crf": "18"}
        for path, max_s in parts:
            counts.append(0)
            for img in _frames(path, max_s):
                counts[-1] += 1
                for pkt in st.encode(av.VideoFrame.from_ndarray(_letterbox(img), format="rgb24")):
                    out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return counts


def _verdicts(a) -> tuple:
    return a.n_reps, a.side, a.facing, tuple(tuple(f"{f.rule_id}:{f.verdict}" for f in r.findings) for r in a.reps)


def _same_as_alone(tmp_path: Path, before: tuple[str, float], clip: str, after: tuple[str, float] | None = None):
    sample = SAMPLES / clip
    parts = [(REAL / before[0], before[1]), (sample, None)] + ([(REAL / after[0], after[1])] if after else [])
    n_before = _join(parts, tmp_path / "walk_in.mp4")[0]
    # the set alone, re-encoded the same way (letterboxed at the same size and quality)
    _join([(sample, None)], tmp_path / "alone.mp4")
    got = analyze(tmp_path / "walk_in.mp4", tmp_path / "joined_out", video=False, html=False)
    ref = analyze(tmp_path / "alone.mp4", tmp_path / "alone_out", video=False, html=False)
    assert _verdicts(got) == _verdicts(ref)
    assert ref.n_reps == json.loads(sample.with_suffix(".truth.json").read_text())["n_reps"]
    # the reps are the sample's, shifted by the walk-in
    offset = got.reps[0].start_s - ref.reps[0].start_s
    assert offset == pytest.approx(n_before / FPS, abs=0.1)


def test_squats_before_the_set_do_not_count_nor_turn_the_lifter_round(tmp_path):
    """8 s of someone box-squatting, head on the other side from the lifter, then the set (dev05: head right)."""
    _same_as_alone(tmp_path, ("n04_db_box_squat_side.mp4", 8.0), "dev05_head_back.mp4")


@pytest.mark.slow
def test_deadlift_before_and_squats_after_the_set(tmp_path):
    """Walk-in and walk-out: a deadlift before the set (a standing movement that holds at its top), box squats
    after it; the set (dev03, head left, right side to the camera) counts alone."""
    _same_as_alone(tmp_path, ("n06_barbell_deadlift_oblique_musclewiki.mp4", 8.0), "dev03_feet_too_close_facing_left.mp4",
                   ("n04_db_box_squat_side.mp4", 8.0))
