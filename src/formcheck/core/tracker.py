"""The causal heart of formcheck: one pose frame in, the state of the set out. Clip, live and batch all drive it.

pose -> side/facing vote -> calibrated features -> smoothing -> rep segmentation -> rules at the moment the hips
leave the top. Nothing looks ahead, so live coaching and the annotated video show exactly the same thing, and the
offline report is the same data the live report would be.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np
from dataclasses import dataclass, field, replace

from typing import Sequence

from formcheck.core.config import Profile
from formcheck.core.exercise import Exercise
from formcheck.core.gate import check_rep
from formcheck.core.geometry import features, head_right_score, side_score
from formcheck.core.reps import Phase, RepEvent, RepEventKind, RepSegmenter, RepTimes
from formcheck.core.skeleton import LM
from formcheck.core.smoothing import SignalCleaner
from formcheck.core.types import Finding, FrameFeatures, PoseFrame, Rep, RepWindow

SIDE_LOCK_FRAMES = 15      # detected frames the side/facing vote needs at least; it then runs on until a rep is accepted
VOTE_WINDOW_S = 3.0        # the side/facing vote counts only the last this many seconds (a walk-in is forgotten)
FLIPPED_ABANDON_S = 1.0    # a movement not yet accepted whose frames all point the other way this long is dropped
BASELINE_S = 0.4           # frames before the rep start used as the resting reference (heel)
HISTORY_S = 3.0            # how much recent history is kept to find that baseline


@dataclass
class PendingRep:
    """A rep judged at the moment the hips left the top, waiting for its end (back at the bottom)."""

    times: RepTimes
    metrics: dict[str, float]
    findings: tuple[Finding, ...]


@dataclass
class FrameState:
    """What the overlay and the live loop need about one frame."""

    t_s: float
    pose: PoseFrame
    feat: FrameFeatures
    smooth: dict[str, float]          # smoothed angles for display (the exercise's `display` fields)
    phase: Phase
    reps_done: int                    # reps whose top has been judged
    side: str
    head_right: bool
    active: tuple[Finding, ...]       # failing findings shown now (the last judged rep's, until the next rep)
    exercise: Exercise                # what the set is judged as (may change once, at the first rep's verdict)
    events: list[RepEventKind] = field(default_factory=list)   # rep events completed on this frame
    new_findings: tuple[Finding, ...] = ()            # failing findings judged on this very frame (voice cues)


def fitting_candidates(torso_bottom_deg: float, shoulder_over_feet_torso: float,
                       cands: Sequence[tuple[Exercise, Profile]]) -> list[tuple[Exercise, Profile]]:
    """The candidates whose [recognition] range holds the torso's angle at the bottom. A phone propped a little
    crooked moves that angle: within roll_tolerance_deg of a range the shoulders' height over the feet (on a bench or
    on the floor) decides, when exactly one candidate there has it in range (plates can spoil the height, so it is
    not asked further out)."""
    h, sof = torso_bottom_deg, shoulder_over_feet_torso
    fits = [c for c in cands if c[1].recognition.torso_bottom_min_deg <= h <= c[1].recognition.torso_bottom_max_deg]
    if math.isfinite(sof):
        by_height = []
        for c in cands:
            g = c[1].recognition
            if (g.torso_bottom_min_deg - g.roll_tolerance_deg <= h <= g.torso_bottom_max_deg + g.roll_tolerance_deg
                    and g.shoulder_over_feet_min_torso <= sof <= g.shoulder_over_feet_max_torso):
                by_height.append(c)
        if len(by_height) == 1:
            return by_height
    return fits


class SetTracker:
    """Feed PoseFrames in time order with `update`; call `finish` at the end of the clip or stream.

    candidates: the (exercise, profile) pairs the set may be. With one, that is the exercise. With several
    (`--exercise auto`), the first rep's set-up decides (each profile's [recognition] range of shoulder height
    over the feet) and the choice holds for the set. Per-frame work (features, smoothing, rep segmentation) uses
    the first candidate's profile: candidates must agree on those sections and on the drive signal.
    """

    def __init__(self, candidates: Sequence[tuple[Exercise, Profile]]) -> None:
        if not candidates:
            raise ValueError("SetTracker needs at least one (exercise, profile)")
        self.candidates = tuple(candidates)
        ex0, prof0 = self.candidates[0]
        for ex, prof in self.candidates[1:]:
            if (ex.drive, ex.drive_sign) != (ex0.drive, ex0.drive_sign) or (prof.pose, prof.calibration, prof.reps,
                                                                            prof.smoothing) != (
                    prof0.pose, prof0.calibration, prof0.reps, prof0.smoothing):
                raise ValueError(f"{ex.name} and {ex0.name} differ in drive or per-frame settings: "
                                 f"they cannot share one tracker")
        self.exercise, self.profile = ex0, prof0
        self.decided = len(self.candidates) == 1
        self.segmenter = RepSegmenter(prof0.reps)
        self._new_cleaners(prof0.smoothing, ex0)
        self._side_votes = 0.0
        self._head_votes = 0.0
        self._votes: deque[tuple[float, float, float]] = deque()   # (t, side score, head score) in the window
        self._n_detected = 0
        self._flipped_since: float | None = None   # start of the current run of frames pointing the other way
        self._plausible = True     # the movement under way started from a set-up some candidate allows
        self.n_frames = 0
        self._history: deque[FrameFeatures] = deque()
        self._rep_frames: list[FrameFeatures] | None = None
        self._pending: PendingRep | None = None
        self.reps: list[Rep] = []
        self._active: tuple[Finding, ...] = ()
        self._last_t = 0.0
        self.rejected: list[tuple[float, str]] = []   # (time, what was seen) of movements that were not reps

    # -- side and facing ---------------------------------------------------------------------------------------
    @property
    def side(self) -> str:
        return "left" if self._side_votes >= 0 else "right"

    @property
    def head_right(self) -> bool:
        return self._head_votes >= 0

    @property
    def last_t_s(self) -> float:
        """Time of the last frame fed in (the clip's duration less one frame)."""
        return self._last_t

    @property
    def detection_rate(self) -> float:
        return self._n_detected / self.n_frames if self.n_frames else 0.0

    def _vote(self, pose: PoseFrame) -> None:
        """Side and facing, voted over the detected frames of the last VOTE_WINDOW_S until the first rep passes the
        gate (at least the first SIDE_LOCK_FRAMES frames): whoever was in view before the set (someone walking in,
        standing by the bench, a blurred start) is forgotten once the lifter has been in view for a moment, and a
        movement the gate rejected never fixes the facing. When the vote flips, the signals built on the old one
        start over."""
        if not pose.detected or (self._vote_locked and self._n_detected >= SIDE_LOCK_FRAMES):
            return
        before = (self.side, self.head_right)
        t, side, head = pose.t_s, side_score(pose), head_right_score(pose)
        self._votes.append((t, side, head))
        self._side_votes += side
        self._head_votes += head
        while self._votes and self._votes[0][0] < t - VOTE_WINDOW_S:
            _, s0, h0 = self._votes.popleft()
            self._side_votes -= s0
            self._head_votes -= h0
        if (self.side, self.head_right) != before and self._n_detected:
            self._restart_signals()

    def _flipped(self, pose: PoseFrame) -> bool:
        """A frame whose skeleton points the other way than the set during a rep is the model losing the person,
        not the lifter turning round mid-rep: measure nothing. The shoulders lie past the ankles by half a torso
        length, or on the feet's side of the hip by 0.15 of one, or the nose does by a quarter: under plates the
        model puts the head over the thighs with the feet in place. Misplaced frames (shoulder half a torso off the
        truth) on sample + train: 534 of 1,164 caught (t38: 446 of 467), and 2 of 26,476 good frames; the
        shoulders-past-the-ankles test alone caught 148. (Between reps before the first accepted one, such frames
        move the vote instead.)"""
        if not pose.detected or not self._vote_locked:
            return False
        xy = pose.xy_px
        shoulders, hips = [LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER], [LM.LEFT_HIP, LM.RIGHT_HIP]
        torso = float(np.nanmean(np.hypot(*(xy[shoulders] - xy[hips]).T)))
        hip_x = float(np.nanmean(xy[hips, 0]))

        def wrong_way(dx_px: float, torsos: float) -> bool:
            """dx_px (head-end point minus reference, image x) points against the set's facing by > torsos."""
            return (dx_px >= 0) != self.head_right and abs(dx_px) > torsos * torso

        return (wrong_way(head_right_score(pose), 0.5) or wrong_way(float(xy[LM.NOSE, 0]) - hip_x, 0.25)
                or wrong_way(float(np.nanmean(xy[shoulders, 0])) - hip_x, 0.15))

    @property
    def _set_locked(self) -> bool:
        """A rep has passed the gate: the side and facing hold for the rest of the set."""
        return bool(self.reps) or self._pending is not None

    @property
    def _vote_locked(self) -> bool:
        """During a movement that may become a rep, or after an accepted rep: the vote holds and frames pointing
        the other way are dropped, not measured. A movement that started from no set-up any candidate allows
        (standing, squatting: someone before the set) locks nothing."""
        return (self.segmenter.phase != Phase.BOTTOM and self._plausible) or self._set_locked

    def _new_cleaners(self, sm, exercise: Exercise) -> None:
        """Fresh causal filters: the drive twice (the rep hysteresis reads a more smoothed copy than the lockout
        window and the hold, see [smoothing] drive_cutoff_hz) and each displayed angle."""
        self._drive = SignalCleaner(sm.max_gap_s, min_cutoff_hz=sm.min_cutoff_hz, beta=sm.beta)
        self._drive_reps = SignalCleaner(sm.max_gap_s, min_cutoff_hz=sm.drive_cutoff_hz, beta=sm.beta)
        self._disp = {k: SignalCleaner(sm.max_gap_s, min_cutoff_hz=sm.min_cutoff_hz, beta=sm.beta)
                      for k in exercise.display}

    def _restart_signals(self) -> None:
        self._new_cleaners(self.profile.smoothing, self.exercise)
        self.segmenter.reset()
        self._history.clear()

    # -- per frame ---------------------------------------------------------------------------------------------
    def update(self, pose: PoseFrame) -> FrameState:
        self.n_frames += 1
        self._vote(pose)
        if pose.detected:
            self._n_detected += 1
        t = pose.t_s
        self._last_t = t
        flipped = self._flipped(pose)
        measured = pose if not flipped else PoseFrame.missing(t)
        if flipped and not self._set_locked:
            # Before any accepted rep, a movement whose frames all point the other way for a while is someone else
            # (the lifter lying down after a walk-in), not a glitch: drop the movement so the vote can follow.
            self._flipped_since = t if self._flipped_since is None else self._flipped_since
            if t - self._flipped_since >= FLIPPED_ABANDON_S:
                self._restart_signals()
                self._rep_frames = None
                self._flipped_since = None
        elif pose.detected:
            self._flipped_since = None
        feat = features(measured, self.side, self.head_right, self.profile.pose.min_visibility,
                        self.profile.calibration)
        if flipped:
            feat = replace(feat, lost=True)
        smooth = {k: c(t, getattr(feat, k)) for k, c in self._disp.items()}
        raw_drive = self.exercise.drive_sign * getattr(feat, self.exercise.drive)
        drive = self._drive(t, raw_drive)
        drive_reps = self._drive_reps(t, raw_drive)

        self._history.append(feat)
        while self._history and self._history[0].t_s < t - HISTORY_S:
            self._history.popleft()
        if self._rep_frames is not None:
            self._rep_frames.append(feat)

        events: list[str] = []
        new: tuple[Finding, ...] = ()
        self.segmenter.partial_ok = self._set_locked
        for ev in self.segmenter.update(t, drive_reps, drive):
            events.append(ev.kind)
            new += self._on_event(ev)
        return FrameState(t, pose, feat, smooth, self.segmenter.phase, len(self.reps) + (self._pending is not None),
                          self.side, self.head_right, self._active, self.exercise, events, new)

    def _on_event(self, ev: RepEvent) -> tuple[Finding, ...]:
        if ev.kind == RepEventKind.STARTED:
            if self._pending is not None:    # previous rep never returned to the bottom: close it at this start
                self._close_pending(ev.rep.start_s)
            self._rep_frames = [f for f in self._history if f.t_s >= ev.rep.start_s - BASELINE_S]
            self._plausible = self._starts_plausibly(self._rep_frames)
            self._active = ()
            return ()
        if ev.kind == RepEventKind.TOP_LEFT:
            frames = self._rep_frames or list(self._history)
            win = RepWindow(frames, ev.rep.start_s, ev.rep.lockout_start_s, ev.rep.lockout_end_s)
            seen = self._recognise(win)
            metrics, findings = self.exercise.judge(win, self.profile, self.exercise)
            gate = check_rep(metrics, self.profile)
            if not seen and gate.ok and self.segmenter.is_partial(ev.rep):
                seen = self._partial_not_a_rep(ev.rep, metrics)
            if seen or not gate.ok:
                self.rejected.append((ev.rep.start_s, seen or gate.seen))
                self._rep_frames = None
                return ()
            self.decided = True
            self._pending = PendingRep(ev.rep, metrics, findings)
            self._rep_frames = None
            self._active = tuple(f for f in findings if f.verdict == "fail")
            return self._active
        if ev.kind == RepEventKind.ENDED and self._pending is not None:
            self._close_pending(ev.rep.end_s)
        return ()

    def _partial_not_a_rep(self, rep: RepTimes, metrics: dict[str, float]) -> str:
        """A rise smaller than a rep's, within a set under way, counts as a (partial) rep only when it held the top
        and the hip point was steady: a plate's jumping hip point or a shuffle on the bench makes brief small
        rises too. Returns what was seen when it does not count ("" when it does)."""
        rs = self.profile.reps
        jitter = metrics.get("drive_jitter_deg", math.nan)
        if rep.lockout_end_s - rep.start_s < rs.partial_min_s:
            return f"a small rise ({rep.peak - rep.bottom:.0f} deg) that did not hold the top: not a rep"
        if not (math.isfinite(jitter) and jitter <= self.profile.reliability.max_drive_jitter_deg):
            return f"a small rise ({rep.peak - rep.bottom:.0f} deg) while the hip point jumps: not a rep"
        return ""

    def _fitting(self, frames: Sequence[FrameFeatures]) -> tuple[float, list[tuple[Exercise, Profile]]] | None:
        """The torso angle at the bottom of `frames` (5th percentile) and the candidates whose recognition range
        holds it (only the set's exercise once decided); None when the torso was never visible."""
        vals = sorted(f.torso_deg for f in frames if math.isfinite(f.torso_deg))
        if not vals:
            return None
        h = vals[int(0.05 * (len(vals) - 1))]
        cands = self.candidates if not self.decided else [(self.exercise, self.profile)]
        sofs = [f.shoulder_over_feet_torso for f in frames if math.isfinite(f.shoulder_over_feet_torso)]
        return h, fitting_candidates(h, float(np.median(sofs)) if sofs else math.nan, cands)

    def _starts_plausibly(self, frames: Sequence[FrameFeatures]) -> bool:
        """Whether a movement's start (torso at its lowest so far) is inside some candidate's recognition range."""
        fit = self._fitting(frames)
        return fit is None or bool(fit[1])

    def _recognise(self, win: RepWindow) -> str:
        """Which candidate this rep is, from the torso angle at its bottom (5th percentile over the rep and its
        set-up): the candidate whose recognition range holds it. Until a rep has been accepted the choice follows
        each rep; then it holds for the set. Returns what was seen when no candidate fits ("" when one does)."""
        fit = self._fitting(win.frames)
        if fit is None:
            return "the torso was not visible through the rep"
        h, fits = fit
        if fits:
            self.exercise, self.profile = fits[0]
            return ""
        flat = h > self.profile.recognition.torso_bottom_max_deg
        if flat and self.exercise.name == "hip_thrust":
            return ("shoulders on the floor, not on a bench: a glute bridge, not a hip thrust (use --exercise "
                    "glute_bridge or auto)")
        if not flat and self.exercise.name == "glute_bridge":
            return "shoulders raised on a bench: a hip thrust, not a glute bridge (use --exercise hip_thrust or auto)"
        return f"the torso starts at {h:.0f} deg: not lying back on a bench or the floor"

    def no_rep_reason(self) -> str:
        """One line on why no rep counted: what the rejected movements looked like, most common first."""
        if not self.rejected:
            return ""
        seen = [s for _, s in self.rejected]
        return max(set(seen), key=seen.count)

    def _close_pending(self, end_s: float) -> None:
        p = self._pending
        self._pending = None
        rt = p.times
        m = {k: (round(v, 3) if isinstance(v, float) and math.isfinite(v) else None) for k, v in p.metrics.items()}
        down_s = end_s - rt.lockout_end_s
        m["down_s"] = round(down_s, 3)
        self.reps.append(Rep(
            index=len(self.reps) + 1, start_s=round(rt.start_s, 3), lockout_start_s=round(rt.lockout_start_s, 3),
            lockout_end_s=round(rt.lockout_end_s, 3), end_s=round(end_s, 3), hold_s=m.get("hold_s") or 0.0,
            up_s=round(rt.lockout_start_s - rt.start_s, 3), down_s=round(down_s, 3), metrics=m,
            findings=p.findings))

    def finish(self) -> list[Rep]:
        """End of stream: close a rep that already left the top; a rep cut off before its top is dropped."""
        for ev in self.segmenter.finish(self._last_t):
            self._on_event(ev)
        if self._pending is not None:
            self._close_pending(self._last_t)
        return self.reps

    def reset(self) -> None:
        """Start a new set (live 'r' key): count from zero, keep the side vote."""
        kept = (self._side_votes, self._head_votes, self._votes, self._n_detected, self.n_frames)
        self.__init__(self.candidates)
        self._side_votes, self._head_votes, self._votes, self._n_detected, self.n_frames = kept
