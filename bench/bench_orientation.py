"""The orientation probe over labelled clips: its decision, the score of every rotation, the margin and its cost.

Every labelled clip is filmed upright, so the probe must decide "no extra rotation" on each (README "Video in").
Per clip: the decision as `analyze` takes it (timed: decode + model on the probe frames, the other rotations only
when needed), then all four rotations scored (the evidence: how far the stored orientation lies from the others).

    python bench/bench_orientation.py                      # sample_videos, ../shared/train_videos, ../shared/real_clips
    python bench/bench_orientation.py CLIP_OR_DIR... --json out.json
    python bench/bench_orientation.py --cost sample_videos/dev01_clean_bw.mp4 --repeat 3

--cost: what the probe adds to `analyze` (every output, in this process, warmed up): analyze with the probe and
with it switched off ([orientation] probe_frames = 0) alternated, medians and their ratio.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _clips(args: list[str]) -> list[Path]:
    out: list[Path] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            truths = sorted(p.glob("*.truth.json"))
            out += [t.with_name(json.loads(t.read_text()).get("files", {}).get("video")
                                or t.name.replace(".truth.json", ".mp4")) for t in truths]
        else:
            out.append(p)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "sample_videos"), str(ROOT.parent / "shared" / "train_videos"),
                                                 str(ROOT.parent / "shared" / "real_clips")])
    ap.add_argument("--model", default=None)
    ap.add_argument("--json", default=None, help="write the rows here")
    ap.add_argument("--cost", default=None, metavar="CLIP", help="time analyze with and without the probe")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if a.cost:
        return cost(Path(a.cost), a.repeat, a.model)

    from formcheck.exercises import load_profile
    from formcheck.io.orientation_probe import probe_orientation
    from formcheck.io.pose import ImagePoseEstimator

    prof = load_profile()
    o, mv, side = prof.orientation, prof.pose.min_visibility, prof.pose.max_model_side_px
    with ImagePoseEstimator(a.model, side):   # the libraries' one-time start-up, not the probe's cost
        pass
    rows = []
    print(f"{'clip':44s} {'decision':9s} {'turn':>4s} {'0':>6s} {'90':>6s} {'180':>6s} {'270':>6s} {'margin':>6s} "
          f"{'probe_s':>7s} {'cpu_s':>6s}")
    for clip in _clips(a.paths):
        t0, c0 = time.perf_counter(), time.process_time()
        d = probe_orientation(clip, o, mv, a.model, side)
        cost_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        full = probe_orientation(clip, o, mv, a.model, side, exhaustive=True)
        assert (full.status, full.rotation_cw_deg) == (d.status, d.rotation_cw_deg), clip   # the early exit is exact
        sc = [full.scores.get(r, math.nan) for r in (0, 90, 180, 270)]
        rows.append({"clip": clip.name, **full.to_dict(), "margin": round(full.margin, 4), "probe_s": round(cost_s, 3), "probe_cpu_s": round(cpu_s, 3),
                     "rotations_probed": len(d.scores)})
        print(f"{clip.name[:44]:44s} {full.status:9s} {full.rotation_cw_deg:4d} "
              + " ".join(f"{s:6.2f}" for s in sc) + f" {full.margin:6.2f} {cost_s:7.2f} {cpu_s:6.2f}", flush=True)
    n = len(rows)
    kept = sum(r["rotation_cw_deg"] == 0 for r in rows)
    by = {s: sum(r["status"] == s for r in rows) for s in ("upright", "rotated", "unknown")}
    print(f"\n{n} clips: no extra rotation on {kept}; {by}; probe {min(r['probe_s'] for r in rows):.2f}-"
          f"{max(r['probe_s'] for r in rows):.2f} s wall (median {sorted(r['probe_s'] for r in rows)[n // 2]:.2f} s), "
          f"median {sorted(r['probe_cpu_s'] for r in rows)[n // 2]:.2f} s CPU")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0 if kept == n else 1


def cost(clip: Path, repeat: int, model: str | None) -> int:
    import dataclasses
    import statistics
    import tempfile

    from formcheck.apps.analyze import analyze
    from formcheck.exercises import load_profile

    on = load_profile(None, "hip_thrust")
    off = dataclasses.replace(on, orientation=dataclasses.replace(on.orientation, probe_frames=0))
    wall: dict[str, list[float]] = {"probe": [], "no probe": []}
    cpu: dict[str, list[float]] = {"probe": [], "no probe": []}
    with tempfile.TemporaryDirectory() as tmp:
        analyze(clip, tmp, profile=on, model=model)                      # warm-up: libraries, fonts, model
        for _ in range(repeat):
            for name, prof in (("probe", on), ("no probe", off)):
                t0, c0 = time.perf_counter(), time.process_time()
                analyze(clip, tmp, profile=prof, model=model)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    # CPU time (all threads) as well as wall time: on a shared machine the wall clock is mostly other people's load
    for label, t in (("wall", wall), ("cpu", cpu)):
        med = {k: statistics.median(v) for k, v in t.items()}
        extra = med["probe"] - med["no probe"]
        print(f"{clip.name} {label}: analyze {med['probe']:.2f} s with the probe, {med['no probe']:.2f} s without "
              f"(medians of {repeat}: {[round(x, 2) for x in t['probe']]} / {[round(x, 2) for x in t['no probe']]}); "
              f"the probe adds {extra:.2f} s = {100 * extra / med['no probe']:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
