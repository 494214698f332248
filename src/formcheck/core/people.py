"""Several people in the frame (a gym): who is who from frame to frame, and which of them is the lifter. Pure NumPy.

Each detected pose is matched to a person seen before by the nearest shoulder/hip centre, in torso lengths (a
person moves a fraction of a torso between frames; two people stand at least a body apart). Every person gets a
SetTracker of their own, so a passer-by's walk or a spotter's squat is segmented and gated on its own and never
mixes into the lifter's signals. The lifter is the person whose reps pass the gate; with one person in view this
is exactly one SetTracker fed exactly the poses it was fed before.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from formcheck.core.config import PoseSettings, Profile
from formcheck.core.exercise import Exercise
from formcheck.core.gate import upright
from formcheck.core.skeleton import LM
from formcheck.core.tracker import FrameState, SetTracker
from formcheck.core.types import PoseFrame, Rep

SHOULDERS = (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER)
HIPS = (LM.LEFT_HIP, LM.RIGHT_HIP)


def body_centre(pose: PoseFrame) -> tuple[np.ndarray, float]:
    """(centre of shoulders and hips in px, torso length in px: shoulder centre to hip centre). NaN when missing."""
    if not pose.detected:
        return np.full(2, np.nan), math.nan
    sh = np.nanmean(pose.xy_px[list(SHOULDERS)], axis=0)
    hip = np.nanmean(pose.xy_px[list(HIPS)], axis=0)
    return 0.5 * (sh + hip), float(np.hypot(*(sh - hip)))


def _distance_torso(c1: np.ndarray, t1: float, c2: np.ndarray, t2: float) -> float:
    """Distance of two centres in torso lengths (the larger of the two torsos: the nearer body sets the scale)."""
    scale = max(t1 if math.isfinite(t1) else 0.0, t2 if math.isfinite(t2) else 0.0, 1.0)
    d = float(np.hypot(*(c1 - c2)))
    return d / scale if math.isfinite(d) else math.inf


def distinct(poses: Sequence[PoseFrame], same_person_torso: float) -> list[PoseFrame]:
    """The detected poses less the model's duplicates: a pose whose centre lies within `same_person_torso` torso
    lengths of an earlier one is the same body found twice (the earlier, the model's first, is kept)."""
    kept: list[tuple[PoseFrame, np.ndarray, float]] = []
    for p in poses:
        if not p.detected:
            continue
        c, t = body_centre(p)
        if not np.isfinite(c).all():
            continue
        if all(_distance_torso(c, t, kc, kt) > same_person_torso for _, kc, kt in kept):
            kept.append((p, c, t))
    return [p for p, _, _ in kept]


def match(centres_a: Sequence[tuple[np.ndarray, float]], centres_b: Sequence[tuple[np.ndarray, float]],
          max_torso: float) -> dict[int, int]:
    """One-to-one pairs {index in a: index in b}, nearest first (greedy by distance in torso lengths), only pairs
    nearer than `max_torso`."""
    pairs = sorted((_distance_torso(ca, ta, cb, tb), i, j) for i, (ca, ta) in enumerate(centres_a)
                   for j, (cb, tb) in enumerate(centres_b))
    out: dict[int, int] = {}
    used: set[int] = set()
    for d, i, j in pairs:
        if d > max_torso:
            break
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


@dataclass(eq=False)
class Person:
    """One body seen in the frame: where it was last, and its own SetTracker."""

    id: int
    tracker: SetTracker
    centre_px: np.ndarray
    torso_px: float
    last_seen_s: float
    n_detected: int = 0          # frames this person's pose was found in
    n_lying: int = 0             # of those, frames with the torso lying back (not upright by the gate's limit)
    state: FrameState | None = field(default=None, repr=False)

    @property
    def reps_done(self) -> int:
        """Reps that passed the gate (closed or judged at their top and waiting for their end)."""
        return self.state.reps_done if self.state is not None else len(self.tracker.reps)


class PeopleTracker:
    """SetTracker's interface over everyone in view: `update(poses, t_s)` per frame (every pose the model found),
    `finish()` at the end; `reps`, `side`, `exercise`, `profile`, ... are the lifter's.

    Who is shown (overlay, frames.csv, live) and reported, re-decided every frame and kept until someone strictly
    beats them: most reps that passed the gate; then seen within `drop_unseen_s`; then most frames lying back
    (torso not steeper than the gate's upright limit: a standing spotter or a passer-by is upright); ties keep
    the one shown (at first, the model's first pose). A person unseen for `drop_unseen_s` is forgotten unless
    they have a counted rep or are the one shown. With a single person this is one SetTracker fed every frame.
    """

    def __init__(self, candidates: Sequence[tuple[Exercise, Profile]], settings: PoseSettings | None = None) -> None:
        self.candidates = tuple(candidates)
        self._spare = SetTracker(self.candidates)    # fed while nobody is in view; the first person takes it over
        self.settings = settings or self._spare.profile.pose
        self.people: list[Person] = []
        self._shown: Person | None = None
        self._next_id = 1
        self.n_frames = 0
        self._last_t = 0.0

    # -- per frame ---------------------------------------------------------------------------------------------
    def update(self, poses: Sequence[PoseFrame] | PoseFrame, t_s: float | None = None) -> FrameState:
        """One frame: every pose the model found in it (a single PoseFrame is accepted, as SetTracker takes).
        Returns the frame state of the person shown."""
        if isinstance(poses, PoseFrame):
            t_s, poses = poses.t_s, [poses]
        elif t_s is None:
            if not poses:
                raise ValueError("PeopleTracker.update: t_s is needed when no pose is given")
            t_s = poses[0].t_s
        s = self.settings
        self.n_frames += 1
        self._last_t = t_s
        found = distinct(poses, s.same_person_torso)
        where = [body_centre(p) for p in found]
        pairs = match([(p.centre_px, p.torso_px) for p in self.people], where, s.match_max_torso)
        if not pairs and len(self.people) == len(found) == 1 and t_s - self.people[0].last_seen_s <= s.drop_unseen_s:
            # One body in view, seen just now: a pose that jumped far is the model misplacing its points (a plate
            # over the hips throws the shoulders about), not someone else; cutting the set there loses its reps.
            # Distance decides only when there is someone to confuse the body with, or it was gone a while.
            pairs = {0: 0}
        given: dict[int, PoseFrame] = {}
        for i, j in pairs.items():
            given[self.people[i].id] = found[j]
        for j in sorted(set(range(len(found))) - set(pairs.values())):
            tracker = self._spare if self._spare is not None else SetTracker(self.candidates)
            self._spare = None
            person = Person(self._next_id, tracker, where[j][0], where[j][1], t_s)
            self._next_id += 1
            self.people.append(person)
            given[person.id] = found[j]
        if not self.people:
            return self._spare.update(PoseFrame.missing(t_s))
        for person in self.people:
            pose = given.get(person.id)
            if pose is not None:
                person.centre_px, person.torso_px = body_centre(pose)
                person.last_seen_s = t_s
                person.n_detected += 1
            person.state = person.tracker.update(pose if pose is not None else PoseFrame.missing(t_s))
            feat = person.state.feat
            if pose is not None and math.isfinite(feat.torso_deg) and not upright(
                    feat.torso_deg, feat.shoulder_over_feet_torso, person.tracker.profile.gate):
                person.n_lying += 1
        self._choose(t_s)
        self.people = [p for p in self.people if p is self._shown or p.reps_done
                       or t_s - p.last_seen_s <= s.drop_unseen_s]
        return self._shown.state

    def preview(self, poses: Sequence[PoseFrame], t_s: float) -> PoseFrame:
        """The pose `update` would give the person shown now (changing nothing): what the live set-up check
        looks at. With nobody known yet, the model's first pose."""
        found = distinct(poses, self.settings.same_person_torso)
        if not found:
            return PoseFrame.missing(t_s)
        if self._shown is None:
            return found[0]
        pairs = match([(p.centre_px, p.torso_px) for p in self.people], [body_centre(p) for p in found],
                      self.settings.match_max_torso)
        j = pairs.get(self.people.index(self._shown))
        return found[j] if j is not None else PoseFrame.missing(t_s)

    def _rank(self, p: Person, t_s: float) -> tuple:
        return (p.reps_done, t_s - p.last_seen_s <= self.settings.drop_unseen_s, p.n_lying)

    def _choose(self, t_s: float) -> None:
        best = max(self.people, key=lambda p: self._rank(p, t_s))    # the first of equals: the longest known
        if self._shown is None or self._shown not in self.people or \
                self._rank(best, t_s) > self._rank(self._shown, t_s):
            self._shown = best

    # -- the lifter, as SetTracker ---------------------------------------------------------------------------
    @property
    def lifter(self) -> Person | None:
        """The person shown and reported (None while nobody has been in view)."""
        return self._shown

    @property
    def _t(self) -> SetTracker:
        return self._shown.tracker if self._shown is not None else self._spare

    @property
    def reps(self) -> list[Rep]:
        return self._t.reps

    @property
    def rejected(self) -> list[tuple[float, str]]:
        return self._t.rejected

    @property
    def side(self) -> str:
        return self._t.side

    @property
    def head_right(self) -> bool:
        return self._t.head_right

    @property
    def exercise(self) -> Exercise:
        return self._t.exercise

    @property
    def profile(self) -> Profile:
        return self._t.profile

    @property
    def decided(self) -> bool:
        return self._t.decided

    @property
    def last_t_s(self) -> float:
        return self._last_t

    @property
    def detection_rate(self) -> float:
        """Share of all frames in which the lifter was found (with one person: SetTracker's own figure)."""
        n = self._shown.n_detected if self._shown is not None else 0
        return n / self.n_frames if self.n_frames else 0.0

    def no_rep_reason(self) -> str:
        """Why no rep counted: the lifter's rejected movements, else those of whoever moved most."""
        if self._t.rejected:
            return self._t.no_rep_reason()
        movers = sorted((p for p in self.people if p.tracker.rejected), key=lambda p: -len(p.tracker.rejected))
        return movers[0].tracker.no_rep_reason() if movers else ""

    def finish(self) -> list[Rep]:
        """End of stream for everyone; the lifter is then re-decided on closed reps (a rep still at its top is
        closed by finish, as SetTracker does)."""
        for p in self.people:
            p.tracker.finish()
        if self.people:
            best = max(self.people, key=lambda p: (len(p.tracker.reps), p.n_lying))
            if len(best.tracker.reps) > len(self._shown.tracker.reps):
                self._shown = best
        elif self._spare is not None:
            self._spare.finish()
        return self.reps

    def reset(self) -> None:
        """Start a new set (live 'r' key, a pause): everyone counts from zero; who is who and side votes are kept."""
        for p in self.people:
            p.tracker.reset()
            p.state = None
        if self._spare is not None:
            self._spare.reset()
