import numpy as np
import pytest

from formcheck.core.geometry import (features, head_angle_deg, hip_angle_deg, joint_angle_deg, line_from_vertical_deg,
                                side_score, to_canonical, head_right_score)
from synth import CAL, pose_at


@pytest.mark.parametrize("a,b,c,expected", [
    ((1, 0), (0, 0), (0, 1), 90.0),
    ((1, 0), (0, 0), (-1, 0), 180.0),
    ((1, 0), (0, 0), (1, 1), 45.0),
])
def test_joint_angle(a, b, c, expected):
    assert joint_angle_deg(np.array(a), np.array(b), np.array(c)) == pytest.approx(expected)


def test_hip_angle_is_signed_past_straight():
    sh, kn = np.array([100.0, 0.0]), np.array([-100.0, 0.0])
    assert hip_angle_deg(sh, np.array([0.0, 0.0]), kn) == pytest.approx(180.0)
    assert hip_angle_deg(sh, np.array([0.0, -20.0]), kn) < 180       # hips sag below the line
    assert hip_angle_deg(sh, np.array([0.0, 20.0]), kn) > 180        # hips pushed above: hyperextension
    assert hip_angle_deg(sh, np.array([0.0, 20.0]), kn) == pytest.approx(180 + 2 * np.degrees(np.arctan2(20, 100)))


def test_vectorised_over_frames():
    sh = np.tile([100.0, 0.0], (5, 1))
    hip = np.column_stack([np.zeros(5), np.linspace(-20, 20, 5)])
    kn = np.tile([-100.0, 0.0], (5, 1))
    out = hip_angle_deg(sh, hip, kn)
    assert out.shape == (5,) and np.all(np.diff(out) > 0)


def test_shin_sign_feet_forward_positive():
    # canonical frame: head right, feet left; ankle left of the knee = feet forward
    assert line_from_vertical_deg(np.array([0.0, 10.0]), np.array([-5.0, 0.0])) > 0


def test_head_angle_falls_when_head_thrown_back():
    hip, sh, ear = np.array([0.0, 0.0]), np.array([100.0, 0.0]), np.array([130.0, 0.0])
    tucked = head_angle_deg(hip, sh, ear, ear + [5.0, 10.0])
    back = head_angle_deg(hip, sh, ear, ear + [10.0, 2.0])
    assert back < tucked


def test_to_canonical_mirrors_only_when_head_left():
    p = np.array([[10.0, 20.0]])
    assert to_canonical(p, True).tolist() == [[10.0, -20.0]]
    assert to_canonical(p, False).tolist() == [[-10.0, -20.0]]


@pytest.mark.parametrize("head_right", [True, False])
def test_features_recover_angles_either_facing(head_right):
    p = pose_at(0.0, torso_deg=5, hip_deg=178, knee_deg=90, neck_ext_deg=-25, head_right=head_right)
    assert head_right_score(p) * (1 if head_right else -1) > 0
    assert side_score(p) > 0  # left side is near in the synthetic pose
    f = features(p, "left", head_right, 0.5, CAL)
    assert f.knee_deg == pytest.approx(90, abs=1e-6)
    assert f.hip_deg == pytest.approx(178, abs=1e-6)
    assert f.torso_deg == pytest.approx(5, abs=1e-6)
    assert f.neck_ext_deg == pytest.approx(-25, abs=1e-6)
    assert f.torso_len_px == pytest.approx(150, abs=1e-6)


def test_hidden_landmark_gives_nan_not_a_guess():
    p = pose_at(0.0, torso_deg=5, hip_deg=178)
    p.visibility[25] = 0.1  # left knee
    f = features(p, "left", True, 0.5, CAL)
    assert np.isnan(f.knee_deg) and np.isnan(f.hip_deg)
    assert np.isfinite(f.torso_deg)  # the drive signal does not need the knee


def test_posefraame_shape_is_checked():
    from formcheck.core.types import PoseFrame
    with pytest.raises(ValueError, match=r"expected shape \(33, 2\)"):
        PoseFrame(0.0, np.zeros((32, 2)), np.zeros(33), True)
