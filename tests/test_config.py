import pytest

from formcheck.core.config import ProfileError
from formcheck.exercises import load_profile


def test_shipped_profile_loads_with_coaching_thresholds():
    p = load_profile()
    t = p.thresholds
    assert (t.knee_min_deg, t.knee_max_deg, t.hip_min_deg, t.hip_max_deg) == (75, 105, 165, 190)
    assert (t.neck_ext_max_deg, t.hold_min_s, t.shoulder_travel_max_frac, t.heel_rise_max_cm) == (20, 0.5, 0.15, 3.0)


def test_override_file(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text("[rules.feet_too_far]\nknee_max_deg = 110\n[reps]\nrise_deg = 10\n")
    p = load_profile(f)
    assert p.thresholds.knee_max_deg == 110.0 and p.reps.rise_deg == 10.0
    assert p.thresholds.knee_min_deg == 75.0  # untouched keys keep their defaults


@pytest.mark.parametrize("text,msg", [
    ("[rules.feet_too_far]\nknee_max = 110\n", "unknown key.*knee_max_deg"),
    ("[rules.bad_rule]\nx = 1\n", "unknown rule"),
    ("[reps]\nrise_deg = 'ten'\n", "must be a number"),
    ("[colours]\n", "unknown section"),
    ("this is = = not toml", "not valid TOML"),
])
def test_bad_profiles_say_what_is_wrong(tmp_path, text, msg):
    f = tmp_path / "p.toml"
    f.write_text(text)
    with pytest.raises(ProfileError, match=msg):
        load_profile(f)


def test_missing_profile(tmp_path):
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "nope.toml")
