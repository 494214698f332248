import math

import numpy as np
import pytest

from formcheck.smoothing import OneEuro, SignalCleaner, zero_phase


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
