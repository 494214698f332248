"""A clip whose rotation flag is lost: copies of the sample clips turned by 90 / 180 / 270 deg with no flag (real
files, real model) give the same reps and verdicts as the clips themselves, with a warning; upright clips and the
real negatives are never turned; a clip with no person says it cannot tell.

The lossless copies (RGB H.264 at qp 0) turn back into the original's decoded pixels exactly, so their analysis
must equal the original's to the last digit; the lossy one (ordinary yuv420p H.264) must give the same reps and
verdicts.
"""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from conftest import ROOT, SAMPLES
from rotate_clip import rotated_copy
from formcheck.apps.analyze import analyze
from formcheck.apps.rescore import rescore
from formcheck.core.errors import NoPersonError
from formcheck.exercises import candidates, load_profile
from formcheck.io import pose_cache
from formcheck.io.orientation_probe import probe_orientation
from formcheck.io.video_file import VideoFile

PROF = load_profile()
FAST = ["dev05_head_back"]
ALL = sorted(p.stem for p in SAMPLES.glob("*.mp4"))
NEGATIVES = sorted((ROOT.parent / "shared" / "real_clips").glob("n0*.mp4"))


def _reps(result) -> list[dict]:
    return [{k: v for k, v in rep.items()} for rep in result.to_dict()["reps"]]


def _verdicts(result) -> list[list[tuple[str, str]]]:
    return [[(f.rule_id, f.verdict) for f in rep.findings] for rep in result.reps]


def _probe(path):
    return probe_orientation(path, PROF.orientation, PROF.pose.min_visibility, None, PROF.pose.max_model_side_px)


_originals: dict[str, object] = {}


def _original(name, tmp_path_factory):
    if name not in _originals:
        _originals[name] = analyze(SAMPLES / f"{name}.mp4", tmp_path_factory.mktemp(name), video=False, html=False)
    return _originals[name]


def _check_turned_copy(name: str, rotation_cw_deg: int, tmp_path_factory, lossless: bool = True):
    want = _original(name, tmp_path_factory)
    d = tmp_path_factory.mktemp(f"{name}_{rotation_cw_deg}")
    copy = rotated_copy(SAMPLES / f"{name}.mp4", d / f"{name}_r{rotation_cw_deg}.mp4", rotation_cw_deg, lossless)
    with VideoFile(copy) as vf:
        assert vf.info.rotation_deg == 0        # no flag: only the pose can tell
        if rotation_cw_deg % 180:
            assert (vf.info.width, vf.info.height) == (want.video.height, want.video.width)
    got = analyze(copy, d / "out", video=False, html=False)
    back = (360 - rotation_cw_deg) % 360
    assert got.video.rotation_deg == back
    assert (got.video.width, got.video.height) == (want.video.width, want.video.height)
    assert any("rotation flag is missing or wrong" in w for w in got.warnings), got.warnings
    assert want.warnings == ()
    assert got.n_reps == want.n_reps
    assert [r.faults for r in got.reps] == [r.faults for r in want.reps]
    assert _verdicts(got) == _verdicts(want)
    if lossless:   # the same pixels: the same landmarks, the same numbers
        assert _reps(got) == _reps(want)
    return got


@pytest.mark.parametrize("rotation_cw_deg", [90, 180, 270])
@pytest.mark.parametrize("name", FAST)
def test_a_turned_copy_gives_the_same_reps_and_verdicts(name, rotation_cw_deg, tmp_path_factory):
    _check_turned_copy(name, rotation_cw_deg, tmp_path_factory)


def test_a_lossy_turned_copy_gives_the_same_reps_and_verdicts_and_an_upright_video(tmp_path_factory, tmp_path):
    """Ordinary H.264, on its side, through the whole analysis: the annotated video and the report stand upright."""
    name = "dev03_feet_too_close_facing_left"
    want = _original(name, tmp_path_factory)
    copy = rotated_copy(SAMPLES / f"{name}.mp4", tmp_path / "side.mp4", 90, lossless=False)
    got = analyze(copy, tmp_path / "out")
    assert got.n_reps == want.n_reps and _verdicts(got) == _verdicts(want)
    with VideoFile(tmp_path / "out" / "annotated.mp4") as vf:
        assert (vf.info.width, vf.info.height) == (want.video.width, want.video.height)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any("turned 90 deg counter-clockwise" in w for w in report["warnings"]), report["warnings"]
    assert "rotation flag" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("rotation_cw_deg", [90, 180, 270])
@pytest.mark.parametrize("name", [n for n in ALL if n not in FAST])
def test_every_sample_clip_turned_gives_the_same_reps_and_verdicts(name, rotation_cw_deg, tmp_path_factory):
    _check_turned_copy(name, rotation_cw_deg, tmp_path_factory)


def test_upright_clips_are_left_alone_cheaply():
    """The stored picture of a labelled clip scores high enough that the other rotations are not even tried, and
    the probe stops after 6 of its 10 frames: the full probe (every frame, every rotation) decides the same."""
    for name in ("dev11_barbell_45cm_plates", "dev12_phone_portrait_60fps"):
        d = _probe(SAMPLES / f"{name}.mp4")
        assert (d.status, d.rotation_cw_deg, d.warning) == ("upright", 0, "")
        assert list(d.scores) == [0] and d.scores[0] > 0.8
        assert d.n_probe_frames == 6 < PROF.orientation.probe_frames
        full = probe_orientation(SAMPLES / f"{name}.mp4", PROF.orientation, PROF.pose.min_visibility, None,
                                 PROF.pose.max_model_side_px, exhaustive=True)
        assert (full.status, full.rotation_cw_deg, full.warning) == (d.status, d.rotation_cw_deg, d.warning)
        assert full.n_probe_frames == PROF.orientation.probe_frames and len(full.scores) == 4


def test_a_turned_clip_is_probed_in_full(tmp_path):
    """A copy on its side is not settled as stored: every frame in every rotation, as before the early stop."""
    copy = rotated_copy(SAMPLES / "dev05_head_back.mp4", tmp_path / "r90.mp4", 90, True)
    d = _probe(copy)
    full = probe_orientation(copy, PROF.orientation, PROF.pose.min_visibility, None, PROF.pose.max_model_side_px,
                             exhaustive=True)
    assert (d.status, d.rotation_cw_deg) == (full.status, full.rotation_cw_deg) == ("rotated", 270)
    assert d.n_probe_frames == PROF.orientation.probe_frames and d.scores == full.scores and d.warning == full.warning


@pytest.mark.skipif(not NEGATIVES, reason="../shared/real_clips is not beside the checkout")
def test_the_real_negatives_are_never_turned():
    """Push-up, plank, box squat, deadlift (filmed upright): not a hip-thrust set-up in any rotation, so the
    picture is kept as stored."""
    for clip in NEGATIVES:
        d = _probe(clip)
        assert d.rotation_cw_deg == 0, (clip.name, d)


def test_a_clip_without_a_person_cannot_be_told_and_is_refused(tmp_path):
    import av

    clip = tmp_path / "empty_room.mp4"
    with av.open(str(clip), mode="w") as out:
        s = out.add_stream("libx264", rate=Fraction(30))
        s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
        rng = np.random.default_rng(1)
        for i in range(60):
            img = np.full((240, 320, 3), 90 + i, np.uint8) + rng.integers(0, 20, (240, 320, 3), dtype=np.uint8)
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    d = _probe(clip)
    assert (d.status, d.rotation_cw_deg) == ("unknown", 0)
    assert "could not tell" in d.warning and "fix the clip's rotation" in d.warning
    with pytest.raises(NoPersonError):
        analyze(clip, tmp_path / "out", video=False, html=False)


def test_the_pose_cache_holds_the_upright_landmarks_of_a_turned_clip(tmp_path):
    """`formcheck eval` (cached landmarks) sees what analyze sees: a turned copy's entry is of the upright picture.
    An entry probed with other settings is re-probed and kept when the decision is the same; an entry from before
    the probe (taken as "no extra rotation") is recomputed when the probe says otherwise. 3-s cuts of dev05."""
    import dataclasses

    src = SAMPLES / f"{FAST[0]}.mp4"
    cut = rotated_copy(src, tmp_path / "cut.mp4", 0, max_frames=90)
    turned = rotated_copy(src, tmp_path / "upside_down.mp4", 180, max_frames=90)
    cache = tmp_path / "cache"
    want = pose_cache.poses_of(cut, cache_dir=cache)
    got = pose_cache.poses_of(turned, cache_dir=cache)
    assert (want.orientation["rotation_cw_deg"], want.orientation_warning) == (0, "")
    assert got.orientation["rotation_cw_deg"] == 180 and "turned 180 deg" in got.orientation_warning
    assert (got.info.width, got.info.height, got.info.rotation_deg) == (want.info.width, want.info.height, 180)
    assert len(got.poses) == len(want.poses) == 90
    assert all(np.array_equal(a.xy_px, b.xy_px, equal_nan=True) for a, b in zip(want.poses, got.poses))
    entry = pose_cache.Path(cache) / f"{pose_cache.cache_key(turned, ROOT / 'models' / 'pose_landmarker_full.task', 1280)}.npz"
    hit = pose_cache.load(entry)
    assert hit.orientation == got.orientation

    def stored(**kw) -> None:   # the entry rewritten; the marker in decode_warning shows whether it was kept
        pose_cache.save(entry, dataclasses.replace(hit, decode_warning="marker", **kw))

    stored(orientation={**hit.orientation, "min_visibility": 0.25})
    kept = pose_cache.poses_of(turned, cache_dir=cache)
    assert kept.decode_warning == "marker" and kept.orientation == hit.orientation
    assert pose_cache.load(entry).orientation == hit.orientation            # the record brought up to date
    stored(orientation=None, orientation_warning="")
    redone = pose_cache.poses_of(turned, cache_dir=cache)
    assert redone.decode_warning == "" and redone.orientation["rotation_cw_deg"] == 180
    assert all(np.array_equal(a.xy_px, b.xy_px, equal_nan=True) for a, b in zip(want.poses, redone.poses))


@pytest.mark.slow
def test_rescore_of_a_turned_clip_gives_analyze_s_report(tmp_path):
    """The cached path and the end-to-end path agree on a turned clip, warning included."""
    copy = rotated_copy(SAMPLES / "dev13_clean_60fps.mp4", tmp_path / "side.mp4", 270, lossless=False)
    res = analyze(copy, tmp_path / "out", video=False, html=False)
    replay = rescore(copy, candidates("auto"), cache_dir=tmp_path / "cache")
    want, got = (json.loads(json.dumps(r.to_dict())) for r in (res, replay))
    for d in (want, got):
        d.pop("outputs")
    assert got == want and any("rotation flag" in w for w in got["warnings"])
