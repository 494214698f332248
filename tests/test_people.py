"""Several people in the frame, pure part (core/people.py): who is who from frame to frame and who the lifter is,
on synthetic poses (no video, no model). The composite-video tests are in test_people_video.py."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from conftest import ROOT, SAMPLES
from formcheck.core.people import PeopleTracker, body_centre, distinct, match
from formcheck.core.tracker import SetTracker
from formcheck.core.types import PoseFrame
from formcheck.exercises import candidates, load_profile
from synth import pose_at, rep_profile

CANDS = candidates("hip_thrust")
POSE = load_profile().pose
REPS = [{"hold_s": 1.2}, {"hold_s": 1.2, "neck_ext_deg": 40.0}, {"hold_s": 0.2}]


def _moved(p: PoseFrame, dx_px: float, dy_px: float = 0.0) -> PoseFrame:
    return dataclasses.replace(p, xy_px=p.xy_px + np.array([dx_px, dy_px]))


def _standing(t_s: float, dx_px: float, bend: float = 0.0) -> PoseFrame:
    """Someone upright (torso near vertical), `dx_px` to the side of the lifter; `bend` 0..1 squats a little."""
    return _moved(pose_at(t_s, torso_deg=-85.0 + 10 * bend, hip_deg=175.0 - 60 * bend, knee_deg=175.0 - 60 * bend),
                  dx_px)


def _summary(reps) -> list:
    return [(r.start_s, r.end_s, tuple((f.rule_id, f.verdict) for f in r.findings)) for r in reps]


def _alone():
    frames = rep_profile(np.array([]), REPS, fps=30)
    tr = SetTracker(CANDS)
    for f in frames:
        tr.update(f)
    return frames, _summary(tr.finish())


def test_one_person_is_exactly_one_set_tracker():
    """With one person (and frames with nobody, at the start and in a gap), the result is SetTracker's to the
    digit: the same reps, timings, metrics and verdicts, the same detection rate."""
    frames = rep_profile(np.array([]), REPS, fps=30)
    frames = [PoseFrame.missing(f.t_s) if i < 10 or 200 <= i < 215 else f for i, f in enumerate(frames)]
    one, many = SetTracker(CANDS), PeopleTracker(CANDS)
    for f in frames:
        a = one.update(f)
        b = many.update([f] if f.detected else [], f.t_s)
        assert (a.phase, a.reps_done, a.side) == (b.phase, b.reps_done, b.side)
    assert [r.to_dict() if hasattr(r, "to_dict") else dataclasses.asdict(r) for r in one.finish()] == \
        [r.to_dict() if hasattr(r, "to_dict") else dataclasses.asdict(r) for r in many.finish()]
    assert many.detection_rate == one.detection_rate and len(many.people) == 1
    assert len(one.reps) == 3


def test_someone_standing_beside_never_takes_the_count_or_the_angles():
    """A spotter beside the bench, squatting a little now and then, listed first by the model: the lifter's reps
    and verdicts are those of the lifter alone, and every frame shown is the lifter's."""
    frames, want = _alone()
    tr = PeopleTracker(CANDS)
    for i, f in enumerate(frames):
        other = _standing(f.t_s, 400.0, bend=0.5 + 0.5 * math.sin(f.t_s * 2.5))
        st = tr.update([other, f], f.t_s)
        assert st.pose is f or i == 0, f"frame {i} shows the spotter"
    assert _summary(tr.finish()) == want
    assert len(tr.people) == 2 and tr.lifter.n_detected == len(frames)


def test_a_passer_by_is_never_the_lifter_and_is_forgotten_once_gone():
    """Someone walking across the frame from 1 s to 4 s, in front of the lifter in the model's list: the lifter's
    reps are unchanged, the passer-by is never shown and is dropped `drop_unseen_s` after leaving."""
    frames, want = _alone()
    tr = PeopleTracker(CANDS)
    n_people = []
    for f in frames:
        poses = [f]
        if 1.0 <= f.t_s < 4.0:
            poses.insert(0, _standing(f.t_s, 900.0 - 250.0 * (f.t_s - 1.0), bend=0.0))   # 250 px/s, right to left
        st = tr.update(poses, f.t_s)
        assert st.pose is f
        n_people.append(len(tr.people))
    assert _summary(tr.finish()) == want
    assert max(n_people) == 2 and n_people[-1] == 1
    gone_s = 4.0 + POSE.drop_unseen_s
    assert n_people[int(round((gone_s + 0.2) * 30))] == 1 and n_people[int(round((gone_s - 0.5) * 30))] == 2


def test_identity_follows_the_body_not_the_models_order():
    """Two people whose order in the model's list flips at random: each keeps their identity (nearest centre)."""
    frames, want = _alone()
    rng = np.random.default_rng(3)
    tr = PeopleTracker(CANDS)
    for f in frames:
        poses = [f, _standing(f.t_s, -450.0)]
        tr.update(poses[::-1] if rng.random() < 0.5 else poses, f.t_s)
    assert _summary(tr.finish()) == want and len(tr.people) == 2


def test_the_lifter_is_whoever_does_reps_that_pass_the_gate():
    """Someone lying still on the next bench is known first (and shown first); once the other person's first rep
    passes the gate they are the lifter, and the report is theirs alone."""
    frames, want = _alone()
    still = _moved(pose_at(0.0, torso_deg=-26.0, hip_deg=125.0), -500.0)
    tr = PeopleTracker(CANDS)
    shown_still = []
    for f in frames:
        st = tr.update([dataclasses.replace(still, t_s=f.t_s), f], f.t_s)
        shown_still.append(st.pose is not f)
    assert _summary(tr.finish()) == want
    assert shown_still[0] and not shown_still[-1]
    switch = shown_still.index(False)                  # once, for good, as rep 1 is judged (before it ends)
    assert not any(shown_still[switch:]) and 0.8 + 0.9 + 1.2 < frames[switch].t_s < 0.8 + 0.9 + 1.2 + 0.9


def test_duplicates_and_matching():
    a = pose_at(0.0, torso_deg=-20.0, hip_deg=130.0)
    twin = _moved(a, 8.0, -5.0)                     # the model's second box on the same body
    b = _moved(a, 400.0)
    assert distinct([a, twin, b, PoseFrame.missing(0.0)], POSE.same_person_torso) == [a, b]
    ca, cb = body_centre(a), body_centre(b)
    assert ca[1] == pytest.approx(150.0)            # synth's torso length
    assert match([ca, cb], [cb, ca], POSE.match_max_torso) == {0: 1, 1: 0}
    assert match([ca], [body_centre(_moved(a, 1.5 * 150.0))], POSE.match_max_torso) == {}   # too far: someone new


def test_preview_is_the_pose_the_lifter_gets():
    frames, _ = _alone()
    tr = PeopleTracker(CANDS)
    assert tr.preview([], 0.0).detected is False
    for f in frames[:40]:
        other = _standing(f.t_s, 400.0)
        assert tr.preview([other, f], f.t_s) is (f if tr.lifter is not None else other)
        tr.update([other, f], f.t_s)
    with pytest.raises(ValueError, match="t_s is needed"):
        tr.update([])


def test_one_body_whose_points_jump_far_stays_one_person():
    """A plate over the hips can throw the model's shoulders and hips about by more than a torso length for a few
    frames. With nobody else in view that is still the lifter: the set is not cut into two people's halves."""
    frames = rep_profile(np.array([]), REPS, fps=30)
    frames = [_moved(f, 400.0, -150.0) if 100 <= i < 106 and f.detected else f for i, f in enumerate(frames)]
    one, many = SetTracker(CANDS), PeopleTracker(CANDS)
    for f in frames:
        one.update(f)
        many.update([f] if f.detected else [], f.t_s)
    assert _summary(many.finish()) == _summary(one.finish()) and len(one.reps) == 3
    assert len(many.people) == 1


@pytest.mark.parametrize("name", ["dev01_clean_bw", "dev11_barbell_45cm_plates",
                                  "t14_bar45_5reps_far_heel_lumbar_partial_rock"])
def test_cached_landmarks_replay_the_same_through_people_tracker(name):
    """The landmark cache holds one person per frame (`formcheck eval`, the accuracy ratchet): replayed through
    PeopleTracker, a real clip's report is SetTracker's to the digit (t14: 45 cm plates, where the model's points
    jump by more than a torso length and the set was once cut in two)."""
    from formcheck.apps.pipeline import build_analysis
    from formcheck.apps.rescore import analysis_from_poses
    from formcheck.io.pose_cache import poses_of

    path = SAMPLES / f"{name}.mp4" if name.startswith("dev") else ROOT.parent / "shared" / "train_videos" / f"{name}.mp4"
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared/train_videos is beside the repository in CI")
    clip = poses_of(path)
    want = analysis_from_poses(clip, candidates("auto"))
    tr = PeopleTracker(candidates("auto"))
    for p in clip.poses:
        tr.update([p] if p.detected else [], p.t_s)
    reps = tr.finish()
    got = build_analysis(tr, want.video, reps, n_frames=want.n_frames, detection_rate=tr.detection_rate,
                         model_name=clip.model, warnings=want.warnings)
    assert json.dumps(got.to_dict(), sort_keys=True) == json.dumps(want.to_dict(), sort_keys=True)


@pytest.mark.parametrize("key", ["max_people", "search_confirm"])
def test_a_profile_asking_for_nobody_is_refused_with_what_to_fix(key):
    from formcheck.core.config import ProfileError
    from formcheck.io.pose import PeopleEstimator

    with pytest.raises(ProfileError, match=rf"\[pose\] {key} must be at least 1, got 0"):
        PeopleEstimator(settings=dataclasses.replace(POSE, **{key: 0}))


def test_reset_starts_the_count_again_and_keeps_who_is_who():
    """Live 'r' / pause: everyone counts from zero, the people (and who is shown) stay."""
    frames, want = _alone()
    tr = PeopleTracker(CANDS)
    half = len(frames) // 2
    for f in frames[:half]:
        tr.update([_standing(f.t_s, 400.0), f], f.t_s)
    assert tr.reps and len(tr.people) == 2
    shown = tr.lifter
    tr.reset()
    assert tr.reps == [] and len(tr.people) == 2 and tr.lifter is shown
    for f in frames[half:]:
        st = tr.update([_standing(f.t_s, 400.0), f], f.t_s)
        assert st.pose is f
    assert len(tr.finish()) >= 1
