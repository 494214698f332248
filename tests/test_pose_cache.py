"""The landmark cache: what it replays is what the model said, so re-scoring from it gives analyze's report."""
from __future__ import annotations

import json

import numpy as np

from conftest import SAMPLES
from formcheck.apps.analyze import analyze
from formcheck.apps.rescore import rescore
from formcheck.exercises import candidates
from formcheck.io import pose_cache
from formcheck.io.pose_cache import poses_of

CLIP = SAMPLES / "dev13_clean_60fps.mp4"


def test_rescore_from_cache_gives_the_same_report_as_analyze(tmp_path):
    cache = tmp_path / "cache"
    res = analyze(CLIP, tmp_path / "out", video=False, html=False)
    first = poses_of(CLIP, cache_dir=cache)                      # runs the model, stores
    entries = sorted(cache.glob("*.npz"))                        # the landmarks, and the camera's drift beside them
    assert [e.name.startswith("motion-") for e in entries] == [False, True], entries
    again = pose_cache.load(entries[0])                           # reads back
    assert len(again.poses) == len(first.poses) == res.n_frames
    assert all(np.array_equal(a.xy_px, b.xy_px, equal_nan=True) for a, b in zip(first.poses, again.poses))
    assert first.poses[10].world_m is not None and first.poses[10].world_m.shape == (33, 3)
    replay = rescore(CLIP, candidates("auto"), cache_dir=cache)
    want = json.loads(json.dumps(res.to_dict()))
    got = json.loads(json.dumps(replay.to_dict()))
    for d in (want, got):
        d.pop("outputs")
    assert got == want


def test_cache_key_follows_the_clip_bytes_model_and_downscale(tmp_path):
    clip2 = tmp_path / "copy.mp4"
    clip2.write_bytes(CLIP.read_bytes())
    model = pose_cache.Path(__file__).resolve().parents[1] / "models" / "pose_landmarker_full.task"
    k = pose_cache.cache_key(CLIP, model, 1280)
    assert pose_cache.cache_key(clip2, model, 1280) == k          # same bytes, other name: same entry
    assert pose_cache.cache_key(CLIP, model, 960) != k
    clip2.write_bytes(CLIP.read_bytes() + b"\0")
    assert pose_cache.cache_key(clip2, model, 1280) != k
