"""Which way up the picture is, from the pose (core/orientation.py): synthetic poses turned by 90 / 180 / 270 deg,
no video, no model. The video end of it (the real model on rotated copies of the sample clips) is in
test_orientation_video.py."""
from __future__ import annotations

import math

import numpy as np
import pytest

from synth import pose_at
from formcheck.core.config import ProfileError
from formcheck.core.orientation import (ROTATIONS_CW_DEG, decide, frame_score, rotate_points, rotation_score,
                                        settled_whatever_follows, stored_is_settled)
from formcheck.core.types import PoseFrame
from formcheck.exercises import load_profile

PROF = load_profile()
O, MV = PROF.orientation, PROF.pose.min_visibility
W, H = 640, 480


def turned(pose: PoseFrame, rotation_cw_deg: int) -> PoseFrame:
    """The pose as the model would report it in the picture turned clockwise by rotation_cw_deg."""
    return PoseFrame(pose.t_s, rotate_points(pose.xy_px, rotation_cw_deg, W, H), pose.visibility, pose.detected)


def hip_thrust_set(n: int = 10) -> list[PoseFrame]:
    """Probe frames over a set: bottoms, tops and the way between (torso -30..+5 deg, knees 65..95 deg)."""
    out = []
    for k in range(n):
        a = 0.5 - 0.5 * math.cos(2 * math.pi * k / 4)          # 0 bottom .. 1 top
        out.append(pose_at(k * 1.0, torso_deg=-30 + 35 * a, hip_deg=120 + 62 * a, knee_deg=65 + 30 * a))
    return out


def scores_as_stored_turned_by(poses: list[PoseFrame], stored_cw_deg: int) -> dict[int, list[float]]:
    """The probe's per-rotation frame scores for a clip whose picture is stored turned by stored_cw_deg."""
    stored = [turned(p, stored_cw_deg) for p in poses]
    # the probe turns the stored picture by r; a stored picture of size (W, H) turned by 90 is (H, W)
    sw, sh = (H, W) if stored_cw_deg % 180 else (W, H)
    return {r: [frame_score(PoseFrame(p.t_s, rotate_points(p.xy_px, r, sw, sh), p.visibility, True), O, MV)
                for p in stored] for r in ROTATIONS_CW_DEG}


def test_rotate_points_follows_the_pixels_of_np_rot90():
    img = np.zeros((H, W), dtype=np.uint8)
    x, y = 100, 30
    img[y, x] = 1
    for r in ROTATIONS_CW_DEG:
        rot = np.rot90(img, k=-(r // 90))
        yy, xx = np.argwhere(rot)[0]
        # pixel centres: a point at the centre of pixel (x, y) lands at the centre of the turned pixel
        got = rotate_points(np.array([x + 0.5, y + 0.5]), r, W, H)
        assert np.allclose(got, [xx + 0.5, yy + 0.5]), r
    with pytest.raises(ValueError, match="multiple of 90"):
        rotate_points(np.zeros(2), 45, W, H)


def test_an_upright_hip_thrust_scores_high_on_its_side_zero_upside_down_minus():
    for p in hip_thrust_set():
        up = frame_score(p, O, MV)
        assert up > 0.8
        assert frame_score(turned(p, 180), O, MV) == pytest.approx(-up)
        for r in (90, 270):
            assert abs(frame_score(turned(p, r), O, MV)) < 0.45, r


@pytest.mark.parametrize("stored_cw_deg", [90, 180, 270])
def test_a_clip_stored_on_its_side_or_upside_down_is_turned_back(stored_cw_deg):
    d = decide(scores_as_stored_turned_by(hip_thrust_set(), stored_cw_deg), O)
    assert d.status == "rotated"
    assert d.rotation_cw_deg == (360 - stored_cw_deg) % 360
    assert d.margin >= O.min_margin
    assert f"{d.rotation_cw_deg if d.rotation_cw_deg != 270 else 90} deg" in d.warning
    assert "rotation flag is missing or wrong" in d.warning


def test_an_upright_clip_is_kept_and_says_nothing():
    d = decide(scores_as_stored_turned_by(hip_thrust_set(), 0), O)
    assert (d.status, d.rotation_cw_deg, d.warning) == ("upright", 0, "")
    assert stored_is_settled(d.scores[0], O)   # the probe would not even have tried the other rotations


def test_a_glute_bridge_is_upright_as_stored():
    bridge = [pose_at(k * 1.0, torso_deg=0 + 20 * (k % 2), hip_deg=140 + 40 * (k % 2), knee_deg=70 + 20 * (k % 2))
              for k in range(10)]
    d = decide(scores_as_stored_turned_by(bridge, 0), O)
    assert (d.status, d.rotation_cw_deg) == ("upright", 0)


@pytest.mark.parametrize("name,kw", [
    ("standing", dict(torso_deg=-90, hip_deg=180, knee_deg=178)),
    ("push-up", dict(torso_deg=-12, hip_deg=180, knee_deg=175)),
])
def test_other_exercises_are_never_turned(name, kw):
    """A standing person turned 90 deg looks like someone lying down, a push-up turned 90 deg like someone standing:
    neither is the set-up, so nothing clearly beats the stored picture and it is kept (said to be unknown)."""
    poses = [pose_at(k * 1.0, **kw) for k in range(10)]
    d = decide(scores_as_stored_turned_by(poses, 0), O)
    assert d.rotation_cw_deg == 0, d
    assert d.status == "unknown" and "could not tell" in d.warning


def test_too_few_poses_cannot_be_told():
    nan = [math.nan] * 10
    d = decide({r: nan for r in ROTATIONS_CW_DEG}, O)
    assert (d.status, d.rotation_cw_deg) == ("unknown", 0) and "could not tell" in d.warning
    few = [0.95, 0.97] + [math.nan] * 8      # two usable frames, min_pose_frames is 3
    assert math.isnan(rotation_score(few, O))
    d = decide({0: nan, 90: few, 180: nan, 270: nan}, O)
    assert d.rotation_cw_deg == 0 and d.status == "unknown"


def test_a_missing_person_scores_nan():
    assert math.isnan(frame_score(PoseFrame.missing(0.0), O, MV))
    p = pose_at(0.0, torso_deg=0, hip_deg=180)
    hidden = PoseFrame(0.0, p.xy_px, np.where(np.arange(33) >= 25, 0.1, 0.9), True)   # legs below visibility
    assert math.isnan(frame_score(hidden, O, MV))


def test_the_early_exit_decides_as_the_full_probe_would():
    """stored_is_settled lets the probe skip three rotations: whatever those would have scored, decide() with
    them keeps the stored orientation."""
    rng = np.random.default_rng(0)
    for _ in range(500):
        s0 = rng.uniform(-1, 1, 10)
        d0 = decide({0: list(s0)}, O)
        if not stored_is_settled(d0.scores[0], O):
            continue
        others = {r: list(rng.uniform(rng.choice([-1.0, 0.5]), 1, 10)) for r in ROTATIONS_CW_DEG[1:]}
        assert decide({0: list(s0), **others}, O).rotation_cw_deg == 0


def test_the_probe_stops_only_when_the_frames_left_cannot_change_the_decision():
    """settled_whatever_follows on a prefix of the stored orientation's frame scores is true only when every way
    the frames left could score (-1..1 or no pose) leaves the stored orientation settled, and then the full
    probe's decision is the early one: upright, no turn. 10 high frames stop after 6."""
    n = O.probe_frames
    assert [settled_whatever_follows([0.95] * k, n - k, O) for k in range(n + 1)] == [False] * 6 + [True] * 5
    assert not settled_whatever_follows([0.95] * 5 + [0.2], n - 6, O)      # 4 more at 0.95 would settle it
    assert settled_whatever_follows([0.95] * 5 + [math.nan], n - 6, O)     # no pose: out of the median
    rng = np.random.default_rng(1)
    for _ in range(400):
        high = rng.uniform(0.6, 1.0, n) if rng.random() < 0.5 else rng.uniform(0.4, 1.0, n)
        full = list(np.where(rng.random(n) < 0.15, math.nan, np.where(rng.random(n) < 0.7, high, rng.uniform(-1, 1, n))))
        for k in range(n + 1):
            if not settled_whatever_follows(full[:k], n - k, O):
                continue
            early = decide({0: full[:k]}, O)
            assert (early.status, early.rotation_cw_deg, early.n_probe_frames) == ("upright", 0, k)
            for _ in range(20):   # any completion, and the other rotations whatever they score
                rest = list(np.where(rng.random(n - k) < 0.3, math.nan, rng.uniform(-1, 1, n - k)))
                assert stored_is_settled(decide({0: full[:k] + rest}, O).scores[0], O)
                others = {r: list(rng.uniform(-1, 1, n)) for r in ROTATIONS_CW_DEG[1:]}
                d = decide({0: full[:k] + rest, **others}, O)
                assert (d.status, d.rotation_cw_deg) == ("upright", 0)
            break
    with pytest.raises(ValueError):
        settled_whatever_follows([], -1, O)


def test_decide_needs_the_stored_orientation():
    with pytest.raises(ValueError, match="rotation 0"):
        decide({90: [1.0] * 10}, O)


def test_orientation_section_is_read_checked_and_inherited(tmp_path):
    assert load_profile(None, "glute_bridge").orientation == O
    f = tmp_path / "p.toml"
    f.write_text("[orientation]\nmin_margin = 0.5\n")
    assert load_profile(f).orientation.min_margin == 0.5 and load_profile(f).orientation.min_score == O.min_score
    f.write_text("[orientation]\nmargin = 0.5\n")
    with pytest.raises(ProfileError, match="unknown key.*min_margin"):
        load_profile(f)
    assert isinstance(O.probe_frames, int) and isinstance(O.min_pose_frames, int)
