"""Prototype, not product code: can the barbell plate count reps where the model's hip point fails?

    python bench/plate_track.py t38 t37 t10 t21 dev10 dev11 t14

Per frame: Hough circles between the model's shoulder and knee (radius 0.2-0.75 shin lengths). Over the clip: the
plate is the (radius, x) most supported across frames (the bar moves up and down, not along the bench). Per frame
again: the centre height of the circles that agree with it. Prints, per clip, the share of frames where it was
found, the correlation of its height with the true hip height (the renders' frames.csv), and the reps the
product's RepSegmenter counts on the plate's height alone (in plate radii: PLATE_REPS; gaps up to 0.5 s bridged,
the product's causal SignalCleaner at the rep-count cut-off) against the labels and against the product, and the
plate's radius over the model's median torso length (could it tell 45 cm plates, the "hips hidden" label?), and
the segmenter (no gate, no partial reps) on the model's torso angle with and without the lost frames filled from
the plate (is the plate worth integrating as a fallback?).
README "Still weak" quotes the figures; integrating it would need the frames in the tracker's path and a cache of
its own.
Needs ../shared beside the repository; uses the landmark cache (the full model).
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import av
import cv2
import numpy as np

from formcheck.core.reps import RepEventKind, RepSegmenter, RepSettings
from formcheck.core.skeleton import LM
from formcheck.core.smoothing import SignalCleaner
from formcheck.core.tracker import SetTracker
from formcheck.exercises import candidates
from formcheck.io.pose_cache import poses_of

#: Rep hysteresis on the plate centre's height, in plate radii (a hip thrust lifts the bar ~1.2-1.5 radii of a
#: 32-45 cm plate: the ratios of the torso-angle settings, 12 / 6 / 3 / 1.5 deg of a ~30 deg sweep).
PLATE_REPS = RepSettings(rise_deg=0.5, fall_deg=0.25, bottom_band_deg=0.12, top_band_deg=0.06, min_rep_s=0.6)
MAX_BRIDGE_S = 0.5

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def clip_path(name: str) -> Path:
    hits = sorted(SHARED.glob(f"*/{name}*.mp4"))
    if not hits:
        raise SystemExit(f"no clip named {name}* under {SHARED}: give a clip name such as t38 or dev10")
    return hits[0]


def true_hip_y(mp4: Path) -> dict[float, float]:
    truth, frames = mp4.with_name(mp4.stem + ".truth.json"), mp4.with_name(mp4.stem + ".frames.csv")
    if not truth.exists() or not frames.exists():
        return {}
    near = json.loads(truth.read_text())["view"]["near_side"]
    return {round(float(r["t_s"]), 3): float(r[f"{near}_hip_y"]) for r in csv.DictReader(frames.open())}


def circles(gray: np.ndarray, xy: np.ndarray) -> list[tuple[float, float, float]]:
    """Candidate plates (x, y, r) in image pixels, searched between the shoulder and the knee."""
    h, w = gray.shape
    sh = xy[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER]].mean(0)
    kn = xy[[LM.LEFT_KNEE, LM.RIGHT_KNEE]].mean(0)
    an = xy[[LM.LEFT_ANKLE, LM.RIGHT_ANKLE]].mean(0)
    shin = float(np.hypot(*(kn - an)))
    if shin < 10:
        return []
    x0, x1 = int(max(0, min(sh[0], kn[0]) - 0.3 * shin)), int(min(w, max(sh[0], kn[0]) + 0.3 * shin))
    y0, y1 = int(max(0, min(sh[1], kn[1]) - 1.2 * shin)), int(min(h, max(an[1], sh[1]) + 0.2 * shin))
    crop = gray[y0:y1, x0:x1]
    if crop.size < 100:
        return []
    s = min(1.0, 200.0 / shin)
    small = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else crop
    found = cv2.HoughCircles(cv2.GaussianBlur(small, (5, 5), 1.5), cv2.HOUGH_GRADIENT, dp=1.2,
                             minDist=0.3 * shin * s, param1=80, param2=25,
                             minRadius=int(0.2 * shin * s), maxRadius=int(0.75 * shin * s))
    return [] if found is None else [(x / s + x0, y / s + y0, r / s) for x, y, r in found[0][:10]]


def track(name: str) -> str:
    mp4 = clip_path(name)
    prof = candidates("auto")[0][1]
    cc = poses_of(mp4, None, prof.pose.max_model_side_px, None, prof.orientation, prof.pose.min_visibility)
    poses = {round(p.t_s, 3): p for p in cc.poses}
    per_frame = []
    with av.open(str(mp4)) as container:
        for frame in container.decode(video=0):
            t = round(float(frame.time), 3)
            p = poses.get(t)
            found = circles(frame.to_ndarray(format="gray"), p.xy_px) if p is not None and p.detected else []
            per_frame.append((t, found))
    every = np.array([c for _, cs in per_frame for c in cs]) if any(cs for _, cs in per_frame) else np.zeros((0, 3))
    if not len(every):
        return f"{name}: no circle found"
    rng = np.random.default_rng(0)
    sample = every[rng.choice(len(every), min(300, len(every)), replace=False)]

    def support(c: np.ndarray) -> int:
        return int(np.sum((np.abs(every[:, 2] - c[2]) < 0.1 * c[2]) & (np.abs(every[:, 0] - c[0]) < 0.4 * c[2])))

    plate = max(sample, key=support)
    hip = true_hip_y(mp4)
    rows = []
    for t, cs in per_frame:
        agree = [c[1] for c in cs if abs(c[2] - plate[2]) < 0.12 * plate[2] and abs(c[0] - plate[0]) < 0.5 * plate[2]]
        rows.append((np.median(agree) if agree else np.nan, hip.get(t, np.nan)))
    a = np.array(rows)
    ok = np.isfinite(a[:, 0])
    both = ok & np.isfinite(a[:, 1])
    corr = f"{np.corrcoef(a[both, 0], a[both, 1])[0, 1]:.2f}" if both.sum() > 10 else "n/a (no truth)"
    sm = prof.smoothing
    n_plate = plate_reps([t for t, _ in per_frame], a[:, 0], float(plate[2]), sm)
    n_product, n_model, n_fused = model_reps(cc.poses, [t for t, _ in per_frame], a[:, 0])
    n_truth = len(json.loads(mp4.with_name(mp4.stem + ".truth.json").read_text())["reps"])
    sh, hp = [LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER], [LM.LEFT_HIP, LM.RIGHT_HIP]
    torso_px = float(np.nanmedian([np.hypot(*(q.xy_px[sh].mean(0) - q.xy_px[hp].mean(0))) for q in cc.poses
                                   if q.detected]))
    return (f"{name}: plate r {plate[2]:.0f} px = {plate[2] / torso_px:.2f} torso, found in {ok.mean():.0%} of "
            f"{len(a)} frames, corr with true hip y {corr}; reps labelled {n_truth}, counted on the plate {n_plate}, "
            f"by the product {n_product}; segmenter on the model's torso angle {n_model}, on it with lost frames "
            f"filled from the plate {n_fused}")


def count_reps(t_s, values, settings: RepSettings, sm) -> int:
    """Reps the product's segmenter counts on `values` after the product's rep-count smoothing (no gate; a rep still
    at the top when the clip ends is dropped, as in the product)."""
    clean = SignalCleaner(sm.max_gap_s, min_cutoff_hz=sm.drive_cutoff_hz, beta=sm.beta)
    seg = RepSegmenter(settings)
    return sum(ev.kind == RepEventKind.TOP_LEFT for t, x in zip(t_s, values)
               for ev in seg.update(float(t), clean(float(t), float(x))))


def model_reps(poses, t_s: list[float], plate_y_px: np.ndarray) -> tuple[int, int, int]:
    """One replay of the product's tracker over the clip: the reps it counts, and the reps the bare segmenter counts on
    the torso angle as the tracker measures it (NaN where it lost the body), and on the same with those frames filled
    from the plate's height, mapped to degrees by a line fitted on this clip's frames that have both."""
    cands = candidates("auto")
    tracker = SetTracker(cands)
    plate_at = dict(zip(t_s, plate_y_px))
    torso, plate = [], []
    for q in poses:
        st = tracker.update(q)
        torso.append(st.feat.torso_deg if not st.feat.lost else np.nan)
        plate.append(plate_at.get(round(q.t_s, 3), np.nan))
    n_product = len(tracker.finish())
    torso, plate = np.array(torso), np.array(plate)
    both = np.isfinite(torso) & np.isfinite(plate)
    fused = torso.copy()
    if both.sum() > 20:
        k, c = np.polyfit(plate[both], torso[both], 1)
        fill = ~np.isfinite(torso) & np.isfinite(plate)
        fused[fill] = k * plate[fill] + c
    prof = cands[0][1]
    t = [q.t_s for q in poses]
    return n_product, count_reps(t, torso, prof.reps, prof.smoothing), count_reps(t, fused, prof.reps, prof.smoothing)


def plate_reps(t_s: list[float], y_px: np.ndarray, r_px: float, sm) -> int:
    """Reps counted on the plate's height (y up, in plate radii: PLATE_REPS), gaps <= MAX_BRIDGE_S bridged."""
    t = np.asarray(t_s)
    ok = np.isfinite(y_px)
    if ok.sum() < 2:
        return 0
    filled = np.interp(t, t[ok], y_px[ok])
    idx = np.searchsorted(t[ok], t)          # only gaps a bridge may cross are filled
    prev_t = np.where(idx > 0, t[ok][np.maximum(idx - 1, 0)], -np.inf)
    next_t = np.where(idx < ok.sum(), t[ok][np.minimum(idx, ok.sum() - 1)], np.inf)
    filled[~ok & ((next_t - prev_t) > MAX_BRIDGE_S)] = np.nan
    return count_reps(t, -filled / r_px, PLATE_REPS, sm)

if __name__ == "__main__":
    for n in sys.argv[1:] or ["t38", "t37", "t10", "t21", "dev10", "dev11", "t14"]:
        print(track(n), flush=True)
