"""Causal signal clean-up for one scalar stream: outlier rejection (Hampel), short-gap filling, One Euro smoothing.

Causal so the live loop can use it unchanged; the offline path adds zero-phase smoothing only for plots
(`zero_phase`), since rules read medians over windows that are already robust.
"""
from __future__ import annotations

import math
import statistics
from collections import deque

import numpy as np


class OneEuro:
    """One Euro filter (Casiez et al. 2012): little lag when the signal moves fast, little jitter when it holds."""

    def __init__(self, min_cutoff_hz: float = 1.5, beta: float = 0.02, d_cutoff_hz: float = 1.0) -> None:
        self.min_cutoff_hz, self.beta, self.d_cutoff_hz = min_cutoff_hz, beta, d_cutoff_hz
        self._x: float | None = None
        self._dx = 0.0
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff_hz: float, dt_s: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff_hz)
        return 1.0 / (1.0 + tau / dt_s)

    def reset(self) -> None:
        self._x, self._t, self._dx = None, None, 0.0

    def __call__(self, t_s: float, x: float) -> float:
        if self._x is None or self._t is None or t_s <= self._t:
            self._x, self._t = x, t_s
            return x
        dt = t_s - self._t
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff_hz, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        a = self._alpha(self.min_cutoff_hz + self.beta * abs(self._dx), dt)
        self._x = a * x + (1 - a) * self._x
        self._t = t_s
        return self._x


class SignalCleaner:
    """Hampel outlier rejection + gap hold + One Euro, one scalar at a time.

    NaN in: the last good value is held for up to ``max_gap_s`` (a blink of the model), then NaN out: no guesses.
    """

    def __init__(self, max_gap_s: float = 0.25, hampel_window: int = 7, hampel_sigmas: float = 3.0,
                 min_cutoff_hz: float = 1.5, beta: float = 0.02) -> None:
        self.max_gap_s = max_gap_s
        self.hampel_sigmas = hampel_sigmas
        self._recent: deque[float] = deque(maxlen=hampel_window)
        self._euro = OneEuro(min_cutoff_hz, beta)
        self._last: float = float("nan")
        self._last_t: float = -math.inf

    def __call__(self, t_s: float, x: float) -> float:
        if not math.isfinite(x):
            if t_s - self._last_t <= self.max_gap_s:
                return self._last
            self._euro.reset()
            self._recent.clear()
            return float("nan")
        if len(self._recent) >= 3:
            # statistics.median, not np.median: on 7 values it is ~30x faster, and this runs per signal per frame
            med = statistics.median(self._recent)
            mad = 1.4826 * statistics.median([abs(v - med) for v in self._recent])
            if abs(x - med) > self.hampel_sigmas * max(mad, 1.0):
                self._recent.append(x)  # keep it in the window: a real step is accepted once it persists
                x = med
            else:
                self._recent.append(x)
        else:
            self._recent.append(x)
        self._last = self._euro(t_s, x)
        self._last_t = t_s
        return self._last


def zero_phase(t_s: np.ndarray, x: np.ndarray, cutoff_hz: float = 3.0) -> np.ndarray:
    """Offline zero-lag low-pass for plots: a Gaussian kernel whose gain halves at `cutoff_hz` (like a
    2nd-order Butterworth run forwards and backwards), over each run of finite samples. Each run is extended by
    point reflection at its ends (as filtfilt pads), so a steady movement keeps its values up to a gap or the
    clip's end instead of bending towards the middle. NaN samples stay NaN.

    NumPy only: importing scipy.signal for this cost ~75 MB of resident memory, more than the whole report.
    """
    x = np.asarray(x, float)
    out = x.copy()
    if len(t_s) < 2 or len(x) < 2:
        return out
    fs = 1.0 / max(float(np.median(np.diff(t_s))), 1e-6)
    sigma = math.sqrt(2.0 * math.log(2.0)) / (2.0 * math.pi * cutoff_hz) * fs   # gain(cutoff) = 0.5, in samples
    if sigma < 0.3:   # cutoff near Nyquist: nothing to smooth
        return out
    half = max(1, int(math.ceil(3.0 * sigma)))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    finite = np.isfinite(x)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
    for s, e in zip(edges[::2], edges[1::2]):
        run = x[s:e]
        if len(run) < 2:
            continue
        pad = min(half, len(run) - 1)
        ext = np.concatenate([2 * run[0] - run[pad:0:-1], run, 2 * run[-1] - run[-2:-pad - 2:-1]])
        num = np.convolve(ext, k)[half + pad:half + pad + len(run)]
        den = np.convolve(np.ones(len(ext)), k)[half + pad:half + pad + len(run)]
        out[s:e] = num / den
    return out
