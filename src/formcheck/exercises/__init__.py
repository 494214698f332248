"""The exercises formcheck knows, by name, and their profiles.

    >>> from formcheck.exercises import get_exercise, load_profile
    >>> get_exercise("hip_thrust").rule_ids[:2]
    ('feet_too_far', 'feet_too_close')

`load_profile(None, "glute_bridge")` is the shipped profile of an exercise; `load_profile("my.toml")` lays a
user's file over the shipped profile of the exercise it names (`[profile] exercise = ...`, default hip thrust).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from formcheck.core.config import Profile, ProfileError, build_profile, merge_tables, read_toml
from formcheck.core.exercise import Exercise
from formcheck.exercises.glute_bridge import GLUTE_BRIDGE
from formcheck.exercises.hip_thrust import HIP_THRUST

EXERCISES: dict[str, Exercise] = {e.name: e for e in (HIP_THRUST, GLUTE_BRIDGE)}
DEFAULT = "hip_thrust"
#: what `--exercise auto` chooses between, told apart by the set-up (see each profile's [recognition])
AUTO = ("hip_thrust", "glute_bridge")
CHOICES = (*EXERCISES, "auto")


def get_exercise(name: str) -> Exercise:
    try:
        return EXERCISES[name]
    except KeyError:
        raise ProfileError(f"unknown exercise {name!r}; valid: {', '.join(CHOICES)}") from None


def _shipped(ex: Exercise) -> dict:
    """The exercise's shipped profile; one that names a `base` exercise is laid over that one's (the glute bridge
    keeps the hip thrust's calibration, smoothing and reliability: the same model on the same body points)."""
    text = resources.files("formcheck").joinpath(ex.profile_resource).read_text()
    data = read_toml(text, f"builtin:{ex.name}")
    base = data.get("profile", {}).get("base")
    return merge_tables(_shipped(get_exercise(base)), data) if base else data


def load_profile(path: str | Path | None = None, exercise: str | None = None) -> Profile:
    """The profile for `exercise` (default: the one `path` names, else the hip thrust), with `path` over it."""
    over: dict = {}
    source = ""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ProfileError(f"profile {p} not found: pass an existing .toml file to --profile")
        source = str(p)
        over = read_toml(p.read_text(), source)
        named = over.get("profile", {}).get("exercise")
        if named is not None and exercise is not None and named != exercise:
            raise ProfileError(f"profile {p} is for {named}, not {exercise}: pass --exercise {named} or another file")
        exercise = exercise or named
    ex = get_exercise(exercise or DEFAULT)
    base = _shipped(ex)
    return build_profile(base, over, source or f"builtin:{ex.name}.toml",
                         ex.threshold_keys)


def exercise_of(profile: Profile) -> Exercise:
    return get_exercise(profile.exercise or DEFAULT)


def candidates(exercise: str | None, profile_path: str | Path | None = None) -> list[tuple[Exercise, Profile]]:
    """The (exercise, profile) pairs a tracker may choose between: one for a named exercise or a profile that
    names one; every exercise of AUTO for "auto" (the default)."""
    if profile_path is not None and exercise in (None, "auto"):
        prof = load_profile(profile_path)
        return [(exercise_of(prof), prof)]
    if exercise in (None, "auto"):
        return [(get_exercise(n), load_profile(None, n)) for n in AUTO]
    return [(get_exercise(exercise), load_profile(profile_path, exercise))]
