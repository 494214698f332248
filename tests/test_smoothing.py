import math

import numpy as np
import pytest

from formcheck.core.smoothing import OneEuro, SignalCleaner, zero_phase


def test_one_euro_reduces_jitter_and_follows_steps():
    rng = np.random.default_rng(0)
    f = OneEuro(min_cutoff_hz=1.5, beta=0.02)
    t = np.arange(0, 4, 1 / 30)
    x = np.where(t < 2, 100.0, 150.0) + rng.normal(0, 2, t.size)
    y = np.array([f(ti, xi) for ti, xi in zip(t, x)])
    assert np.std(np.diff(y[10:55])) < 0.5 * np.std(np.diff(x[10:55]))   # steadier while holding
    assert abs(y[-1] - 150) < 2                                           # and arrives after a step


@pytest.mark.parametrize("spike", [60.0, -60.0])
def test_hampel_rejects_a_single_spike(spike):
    c = SignalCleaner(min_cutoff_hz=50, beta=0)  # little smoothing: test the outlier step alone
    t = np.arange(20) / 30
    x = np.full(20, 100.0)
    x[10] += spike
    y = [c(ti, xi) for ti, xi in zip(t, x)]
    assert abs(y[10] - 100) < 1


def test_short_gap_holds_long_gap_is_nan():
    c = SignalCleaner(max_gap_s=0.25)
    for i in range(10):
        c(i / 30, 100.0)
    assert c(10 / 30, math.nan) == pytest.approx(100.0)         # a blink of the model: hold
    assert math.isnan(c(1.0, math.nan))                         # longer than 0.25 s: no guess


def test_zero_phase_has_no_lag_and_keeps_gaps():
    t = np.arange(0, 4, 1 / 30)
    x = np.sin(2 * np.pi * 0.5 * t)
    x[50:55] = np.nan
    y = zero_phase(t, x, cutoff_hz=3.0)
    assert np.isnan(y[50:55]).all()
    # the peak of the smoothed signal stays where the raw peak is (zero phase)
    assert abs(np.nanargmax(y[60:]) - np.nanargmax(x[60:])) <= 1


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_zero_phase_response(fps):
    """Slow movement passes, jitter is removed, the gain halves at the cutoff, and the ends are not biased."""
    t = np.arange(0, 20, 1 / fps)

    def gain(f_hz):
        y = zero_phase(t, np.sin(2 * np.pi * f_hz * t), cutoff_hz=3.0)
        mid = slice(len(t) // 4, 3 * len(t) // 4)
        return np.std(y[mid]) / np.std(np.sin(2 * np.pi * f_hz * t[mid]))

    assert gain(0.5) == pytest.approx(1.0, abs=0.03)
    assert gain(3.0) == pytest.approx(0.5, abs=0.05)
    assert gain(10.0) < 0.01
    flat = zero_phase(t, np.full(len(t), 170.0))
    assert np.allclose(flat, 170.0)                              # no pull towards zero at the ends
    ramp = zero_phase(t, 2.0 * t)
    assert np.allclose(ramp, 2.0 * t)                            # a steady movement keeps its values, ends too


def test_zero_phase_short_and_gappy_input():
    t = np.arange(5) / 30
    assert np.allclose(zero_phase(t, np.full(5, 3.0)), 3.0)     # shorter than the kernel
    x = np.array([1.0, np.nan, np.nan, 1.0, 1.0])
    y = zero_phase(t, x)
    assert np.isnan(y[1:3]).all() and np.allclose(y[[0, 3, 4]], 1.0)
