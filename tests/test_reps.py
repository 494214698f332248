"""Rep segmentation from scripted drive signals: each case is a table of (time, torso angle) knots."""
import numpy as np
import pytest

from formcheck.core.reps import RepSegmenter, RepSettings

S = RepSettings(rise_deg=12, fall_deg=6, bottom_band_deg=3, top_band_deg=1.5, min_rep_s=0.6)


def run(knots, fps=30.0, noise=0.0, seed=0):
    t_k, v_k = zip(*knots)
    t = np.arange(0, t_k[-1], 1 / fps)
    v = np.interp(t, t_k, v_k) + np.random.default_rng(seed).normal(0, noise, t.size)
    seg = RepSegmenter(S)
    events = []
    for ti, vi in zip(t, v):
        events += seg.update(float(ti), float(vi))
    events += seg.finish(float(t[-1]))
    return [e for e in events if e.kind == "ended"], events


def rep(t0, top=5.0, hold=1.2, bottom=-26.0):
    return [(t0, bottom), (t0 + 0.9, top), (t0 + 0.9 + hold, top), (t0 + 1.8 + hold, bottom)]


def test_three_clean_reps_with_times():
    knots = [(0, -26)] + rep(0.8) + rep(4.4) + rep(8.0) + [(12, -26)]
    ended, _ = run(knots)
    assert len(ended) == 3
    r = ended[1].rep
    assert r.lockout_start_s == pytest.approx(5.3, abs=0.1)
    assert r.lockout_end_s == pytest.approx(6.5, abs=0.1)
    assert r.start_s == pytest.approx(4.4, abs=0.35)
    assert r.end_s == pytest.approx(7.5, abs=0.35)


@pytest.mark.parametrize("noise", [0.0, 0.8, 1.5])
def test_jitter_never_double_counts(noise):
    knots = [(0, -26)] + rep(0.8, hold=3.0) + [(6.5, -26)]
    ended, _ = run(knots, noise=noise, seed=3)
    assert len(ended) == 1


def test_wobble_at_top_smaller_than_fall_threshold_is_one_rep():
    knots = [(0, -26), (0.9, 5), (1.3, 1), (1.7, 5), (2.1, 1.5), (2.5, 5), (3.4, -26), (4, -26)]
    ended, _ = run(knots)
    assert len(ended) == 1


def test_touch_and_go_reps_split_at_the_bottom():
    knots = [(0, -26), (0.9, 5), (1.1, 5), (2.0, -20), (2.9, 5), (3.1, 5), (4.0, -26), (4.5, -26)]
    ended, _ = run(knots)
    assert len(ended) == 2
    assert ended[0].rep.end_s == pytest.approx(2.0, abs=0.1)
    assert ended[0].rep.lockout_end_s - ended[0].rep.lockout_start_s < 0.5


def test_partial_rep_counts():
    knots = [(0, -26)] + rep(0.8, top=-10) + [(5, -26)]
    ended, _ = run(knots)
    assert len(ended) == 1 and ended[0].rep.peak == pytest.approx(-10, abs=0.1)


def test_small_movement_is_not_a_rep():
    knots = [(0, -26), (1, -16), (2, -26), (3, -17), (4, -26)]
    ended, _ = run(knots)
    assert ended == []


def test_a_smaller_rise_starts_a_rep_only_once_the_set_is_under_way():
    """partial_rise_deg: a 7 deg rise is someone settling on the bench before a set, a partial rep within one."""
    from dataclasses import replace

    small = [(0, -26), (0.9, -19), (3.0, -19), (3.9, -26), (5, -26)]
    t = np.arange(0, 5, 1 / 30)
    v = np.interp(t, *zip(*small))
    for under_way, want in ((False, 0), (True, 1)):
        seg = RepSegmenter(replace(S, partial_rise_deg=6.0))
        seg.partial_ok = under_way
        ended = [e for ti, vi in zip(t, v) for e in seg.update(float(ti), float(vi)) if e.kind == "ended"]
        assert len(ended) == want
    assert seg.is_partial(ended[0].rep) and not seg.is_partial(run(rep(0.8) + [(5, -26)])[0][0].rep)


def test_stream_ending_at_the_top_drops_the_unfinished_rep_but_keeps_one_on_the_way_down():
    ended, _ = run([(0, -26), (0.9, 5), (3, 5)])
    assert ended == []
    ended, _ = run([(0, -26), (0.9, 5), (2, 5), (2.6, -8)])
    assert len(ended) == 1


def test_events_order_and_timing_at_60fps():
    knots = [(0, -26)] + rep(0.8) + [(5, -26)]
    _, events = run(knots, fps=60)
    assert [e.kind for e in events] == ["started", "top_left", "ended"]
    started, top_left, ended = events
    assert started.t_s < top_left.rep.lockout_start_s < top_left.rep.lockout_end_s < top_left.t_s < ended.t_s
