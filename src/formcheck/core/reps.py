"""Rep segmentation: a hysteresis state machine over one 'drive' signal, fed a sample at a time. The exercise spec
names the signal (hip thrust and glute bridge: the torso angle, which needs only shoulder and hip height).

Hysteresis is relative to the extremes actually reached (rise from the last bottom, fall from the last peak), so it
adapts to any body, bench and camera and jitter smaller than the fall threshold can never count twice. The same
`RepSegmenter.update` serves live and offline; `segment` just replays a whole array through it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    BOTTOM = "bottom"
    UP = "up"
    TOP = "top"
    DOWN = "down"


@dataclass(frozen=True)
class RepSettings:
    """Thresholds in units of the drive signal (degrees); values come from the exercise's profile [reps]."""

    rise_deg: float          # rise above the bottom that starts a rep
    fall_deg: float          # fall below the peak that ends the top (and confirms the rep)
    bottom_band_deg: float   # within this of the bottom counts as "at the bottom" (start / end times)
    top_band_deg: float      # within this of the rep's peak counts as the lockout window
    min_rep_s: float         # shorter up-and-down cycles are jitter, not reps
    partial_rise_deg: float = math.inf   # once the set is under way (`partial_ok`): the rise that starts a rep
    partial_min_s: float = 0.0           # a rep that rose less than rise_deg: start to leaving the top, at least


@dataclass(frozen=True)
class RepTimes:
    """Times of one rep (seconds). Emitted in two steps: at `top_left` the end is not known yet (NaN)."""

    start_s: float
    lockout_start_s: float
    lockout_end_s: float
    end_s: float
    peak: float
    bottom: float


class RepEventKind(StrEnum):
    STARTED = "started"
    TOP_LEFT = "top_left"     # the lockout window is known: judge the rep now
    ENDED = "ended"


@dataclass(frozen=True)
class RepEvent:
    kind: RepEventKind
    t_s: float
    rep: RepTimes


class RepSegmenter:
    """Feed (t_s, value) samples with `update`; it returns the events that sample completed.

    The lockout window is the span around the peak where the signal is within `top_band_deg` of the rep's peak;
    it is only known once the hips have clearly left the top, which is when "top_left" fires.
    """

    def __init__(self, settings: RepSettings) -> None:
        self.s = settings
        self.reset()

    @property
    def rise_deg(self) -> float:
        """The rise that starts a rep: rise_deg, or the smaller partial_rise_deg once the set is under way (a
        partial rep of a known set; before it, a rise that small is as likely someone settling on the bench)."""
        return min(self.s.rise_deg, self.s.partial_rise_deg) if self.partial_ok else self.s.rise_deg

    def is_partial(self, rep: RepTimes) -> bool:
        """A rep that rose less than rise_deg: counted only when it also held the top (partial_min_s)."""
        return rep.peak - rep.bottom < self.s.rise_deg

    def reset(self) -> None:
        self.partial_ok = False
        self.phase = Phase.BOTTOM
        self._min = math.inf
        self._t_near_min = math.nan
        self._start_s = math.nan
        self._peak = -math.inf
        self._t_peak = math.nan
        self._top_hist: list[tuple[float, float]] = []   # (t, v) since the rep started: bounded by one rep
        self._lock: tuple[float, float] = (math.nan, math.nan)
        self._down_min = math.inf
        self._t_down_min = math.nan
        self._rep_bottom = math.nan

    def update(self, t_s: float, value: float, top_value: float | None = None) -> list[RepEvent]:
        """value drives the hysteresis; top_value (default: value) is what the lockout window is read from, so a
        heavily smoothed signal can count reps while a lighter one times the hold."""
        if not math.isfinite(value):
            return []
        tv = value if top_value is None or not math.isfinite(top_value) else top_value
        s = self.s
        ev: list[RepEvent] = []
        if self.phase == Phase.BOTTOM:
            if value < self._min:
                self._min = value
            if value <= self._min + s.bottom_band_deg:
                self._t_near_min = t_s
            if value >= self._min + self.rise_deg:
                self.phase = Phase.UP
                self._start_s = self._t_near_min if math.isfinite(self._t_near_min) else t_s
                self._rep_bottom = self._min
                self._peak, self._t_peak = value, t_s
                self._top_hist = [(t_s, tv)]
                ev.append(RepEvent(RepEventKind.STARTED, t_s, self._times(math.nan)))
            return ev
        if self.phase in (Phase.UP, Phase.TOP):
            self._top_hist.append((t_s, tv))
            if value > self._peak:
                self._peak, self._t_peak = value, t_s
            if value >= self._peak - s.top_band_deg:
                self.phase = Phase.TOP
            if value <= self._peak - s.fall_deg:
                self._lock = self._lockout_window()
                self.phase = Phase.DOWN
                self._down_min, self._t_down_min = value, t_s
                self._top_hist = []
                ev.append(RepEvent(RepEventKind.TOP_LEFT, t_s, self._times(math.nan)))
            return ev
        # DOWN: the rep ends back at the bottom, or where the next drive starts (touch-and-go).
        if value < self._down_min:
            self._down_min, self._t_down_min = value, t_s
        back_down = value <= self._rep_bottom + s.bottom_band_deg
        next_drive = value >= self._down_min + self.rise_deg
        if back_down or next_drive:
            end = t_s if back_down else self._t_down_min
            times = self._times(end)
            if end - times.start_s >= s.min_rep_s:
                ev.append(RepEvent(RepEventKind.ENDED, t_s, times))
            self._begin_bottom(value, t_s, restart_from=(self._down_min, self._t_down_min) if next_drive else None)
            if next_drive:
                ev.extend(self.update(t_s, value, top_value))
        return ev

    def finish(self, t_s: float) -> list[RepEvent]:
        """End of stream: a rep that already left the top ends here; one still at the top is dropped."""
        if self.phase == Phase.DOWN:
            times = self._times(t_s)
            self.phase = Phase.BOTTOM
            return [RepEvent(RepEventKind.ENDED, t_s, times)]
        return []

    def _begin_bottom(self, value: float, t_s: float, restart_from: tuple[float, float] | None) -> None:
        self.phase = Phase.BOTTOM
        if restart_from is not None:
            self._min, self._t_near_min = restart_from
        else:
            self._min, self._t_near_min = value, t_s

    def _lockout_window(self) -> tuple[float, float]:
        # Contiguous span around the peak sample of the lockout signal that stays within the band.
        i_peak = max(range(len(self._top_hist)), key=lambda i: self._top_hist[i][1])
        band = self._top_hist[i_peak][1] - self.s.top_band_deg
        i0 = i_peak
        while i0 > 0 and self._top_hist[i0 - 1][1] >= band:
            i0 -= 1
        i1 = i_peak
        while i1 + 1 < len(self._top_hist) and self._top_hist[i1 + 1][1] >= band:
            i1 += 1
        return self._top_hist[i0][0], self._top_hist[i1][0]

    def _times(self, end_s: float) -> RepTimes:
        return RepTimes(self._start_s, self._lock[0], self._lock[1], end_s, self._peak, self._rep_bottom)
